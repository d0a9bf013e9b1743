/* eval.c - query evaluation, document at a time: the query tree compiled
 * into matchers over posting cursors, an exhaustive top-k evaluator (the
 * reference), pruned evaluators (MaxScore with block-max bounds for term
 * disjunctions; for term conjunctions a leapfrog with block-max skipping
 * that bounds a much rarer lead list's postings first, or window bitmaps
 * when every list is dense; bound-gated position checks elsewhere),
 * counting and explanations.
 *
 * Exactness: every path computes a document's score with the same functions
 * (tr_bm25_score on the same tf', dl') summed in the same clause order, so the
 * pruned results equal the exhaustive ones bit for bit. Pruning compares
 * inflated bounds (bound_inflate) with the k-th score and skips a document
 * only when its bound is <= that score: documents arrive in increasing id
 * order, so a later document with an equal score loses the tie anyway. */
#include "eval.h"
#include "score.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

_Static_assert((int)TQ_FIELD_ANY == (int)TR_FIELD_ANY && (int)TQ_FIELD_TITLE == (int)TR_FIELD_TITLE &&
               (int)TQ_FIELD_BODY == (int)TR_FIELD_BODY, "field numbering of parse.h and score.h");

/* Relative and absolute margins added to every bound before it is compared
 * with a score: they cover rounding differences between the bound's and the
 * score's order of operations (~1e-16 relative per operation). */
#define TQ_BOUND_REL_SLACK 1e-9
#define TQ_BOUND_ABS_SLACK 1e-9
/* Deepest compiled tree (the parser stops at TQ_MAX_DEPTH; hand-made trees
 * are checked here). */
#define TQ_MAX_COMPILE_DEPTH (2 * TQ_MAX_DEPTH)
/* Internal doc ids start at 1 (index.h): loops start here, and a node's
 * doc 0 means "not positioned yet". */
#define TQ_FIRST_DOC 1u
/* Counting a union marks documents in a bitmap of this many ids at a time
 * (8 KiB on the stack: stays in L1), a power of two. */
#define TQ_COUNT_WINDOW 65536u
/* A conjunction of dense lists is scored a window of this many ids at a
 * time (run_conjunction_dense), a power of two; its lists' tf and ttf for
 * the window sit in arrays of this size per list. */
#define TQ_DENSE_WINDOW 2048u
/* Most distinct lists run_conjunction_dense takes on. */
#define TQ_DENSE_MAX_LISTS 8
/* A conjunction or phrase bounds its rarest list's postings alone first
 * when the next list is at least this many times as long (lead_worth). */
#ifndef TQ_LEAD_DF_RATIO
#define TQ_LEAD_DF_RATIO 4u
#endif
/* A conjunction is counted with window bitmaps (count_and_bitmap) when
 * its rarest list has at least this many postings per TR_BLOCK_DOCS ids. */
#ifndef TQ_COUNT_DENSE
#define TQ_COUNT_DENSE 8u
#endif
/* Most lists the fast counting paths take on (their cursor array is on the
 * stack); longer queries count the general way. */
#define TQ_COUNT_MAX_LISTS 64

static double bound_inflate(double x)
{
    return x * (1.0 + TQ_BOUND_REL_SLACK) + TQ_BOUND_ABS_SLACK;
}

/* Is bounding the rarest list's postings alone (before the others move)
 * worth its cost? When the next list is several times as long: then most
 * of that list's blocks need not be decoded. */
static int lead_worth(uint64_t df_lead, uint64_t df_next)
{
    return df_next >= TQ_LEAD_DF_RATIO * df_lead;
}

void tq_eval_opts_default(tq_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k1 = TQ_DEFAULT_K1;
    o->b = TQ_DEFAULT_B;
    o->title_weight = TQ_DEFAULT_TITLE_WEIGHT;
    o->k = 10;
    o->after = TR_NO_DATE;
    o->before = TR_NO_DATE;
    o->verify = 1;
}

void tq_result_free(tq_result *res)
{
    if (!res) return;
    free(res->hits);
    res->hits = NULL;
    res->nhits = 0;
}

/* ---- compiled plan ------------------------------------------------------ */

enum { X_NONE, X_TERM, X_POS, X_BOOL };

/* One unit of a positional clause: terms cur[first..first+n) at offsets. */
typedef struct pos_unit {
    size_t first, n;
    uint32_t *starts; size_t nstarts, cap; /* scratch: occurrence starts in one field */
} pos_unit;

typedef struct xnode xnode;
struct xnode {
    int type, occur, field;
    uint32_t doc;               /* current candidate, TR_DOC_END when done */
    uint32_t conf_doc;          /* confirm() cache: doc it holds for */
    int conf_ok;
    double conf_tf;             /* X_POS: tf' of the confirmed doc */
    double max_score;           /* inflated upper bound over the whole list */
    tr_bm25_term bm;
    /* X_TERM */
    tr_cursor *cur;
    const char *label; size_t label_len;
    uint32_t blk_last_cached;   /* block bound cache (pruned evaluators) */
    double blk_ub;
    /* X_POS: cursors of all units' terms; units; NEAR slop */
    tr_cursor **curs; uint32_t *offs; size_t ncur;
    uint32_t *mult;             /* times each cursor's term occurs in its unit */
    size_t lead;                /* rarest cursor of the first unit (pos_lead_ub) */
    int lead_first;             /* bound the lead's postings before moving the others */
    uint32_t *lf;               /* cursor indexes by df, rarest first (leapfrog order) */
    pos_unit *units; size_t nunits;
    uint32_t slop;
    /* X_BOOL */
    xnode **kids; size_t nkids, nmust, nshould;
};

typedef struct plan {
    tr_reader *r;
    const tq_eval_opts *o;
    tr_bm25 bm;
    int64_t after, before;
    tr_cursor **cursors; const char **labels; size_t *label_lens; size_t ncursors, capcursors;
    xnode **nodes; size_t nnodes, capnodes;
    int rc;                     /* sticky: first cursor error */
    char *err; size_t errcap;
    char warning[256];
    uint32_t dl_doc; uint32_t tl, bl; /* per-candidate length cache */
    int filtering;              /* deletions in the snapshot or a date filter */
    uint64_t scored;
} plan;

static void set_err(plan *p, const char *fmt, ...)
{
    if (!p->err || !p->errcap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errcap, fmt, ap);
    va_end(ap);
}

static xnode *new_node(plan *p, int type, int occur, int field)
{
    if (p->nnodes == p->capnodes) {
        size_t nc = p->capnodes ? 2 * p->capnodes : 16;
        xnode **nn = realloc(p->nodes, nc * sizeof *nn);
        if (!nn) return NULL;
        p->nodes = nn;
        p->capnodes = nc;
    }
    xnode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->type = type;
    n->occur = occur;
    n->field = field;
    n->conf_doc = TR_DOC_END;
    n->blk_last_cached = 0;
    n->doc = type == X_NONE ? TR_DOC_END : 0;
    p->nodes[p->nnodes++] = n;
    return n;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->ncursors; i++) {
        tr_cursor_close(p->cursors[i]);
        free(p->cursors[i]);
        free((void *)p->labels[i]);
    }
    free(p->cursors);
    free(p->labels);
    free(p->label_lens);
    for (size_t i = 0; i < p->nnodes; i++) {
        xnode *n = p->nodes[i];
        free(n->curs);
        free(n->offs);
        free(n->mult);
        free(n->lf);
        for (size_t u = 0; u < n->nunits; u++) free(n->units[u].starts);
        free(n->units);
        free(n->kids);
        free(n);
    }
    free(p->nodes);
}

/* Error check after a cursor call: the message names the term. */
static int cursor_failed(plan *p, tr_cursor *c, int rc)
{
    if (rc == 0 && c->rc == 0) return 0;
    if (p->rc == 0) {
        p->rc = rc ? rc : c->rc;
        for (size_t i = 0; i < p->ncursors; i++)
            if (p->cursors[i] == c) {
                set_err(p, "term '%.*s': %s", (int)p->label_lens[i], p->labels[i],
                        tr_strerror(p->rc));
                break;
            }
    }
    return 1;
}

typedef struct owned_cursor { tr_cursor c; tr_term_info info; } owned_cursor;

/* Open a cursor on a term; *out = NULL when the term is absent. */
static int open_term(plan *p, const char *term, size_t len, int positions,
                     tr_cursor **out, double *idf, tr_bound *bound)
{
    tr_term_info info;
    *out = NULL;
    int rc = tr_reader_term(p->r, term, len, &info);
    if (rc == TR_ENOTFOUND) return 0;
    if (rc) {
        set_err(p, "term '%.*s': %s", (int)len, term, tr_strerror(rc));
        return rc;
    }
    if (p->ncursors == p->capcursors) {
        size_t nc = p->capcursors ? 2 * p->capcursors : 16;
        tr_cursor **c = realloc(p->cursors, nc * sizeof *c);
        if (!c) return TR_ENOMEM;
        p->cursors = c;
        const char **l = realloc(p->labels, nc * sizeof *l);
        if (!l) return TR_ENOMEM;
        p->labels = l;
        size_t *ll = realloc(p->label_lens, nc * sizeof *ll);
        if (!ll) return TR_ENOMEM;
        p->label_lens = ll;
        p->capcursors = nc;
    }
    /* the cursor keeps a pointer to its term info: allocate them together
     * (cursor first, so freeing the cursor frees both) */
    owned_cursor *oc = calloc(1, sizeof *oc);
    char *label = malloc(len + 1);
    if (!oc || !label) { free(oc); free(label); return TR_ENOMEM; }
    memcpy(label, term, len);
    label[len] = 0;
    oc->info = info;
    tr_cursor *c = &oc->c;
    rc = tr_cursor_open(p->r, &oc->info, positions, p->o->verify, c);
    /* registered even on failure so plan_free releases it */
    p->cursors[p->ncursors] = c;
    p->labels[p->ncursors] = label;
    p->label_lens[p->ncursors] = len;
    p->ncursors++;
    if (rc || c->rc) {
        cursor_failed(p, c, rc);
        return p->rc;
    }
    *out = c;
    *idf = tr_bm25_idf(p->bm.n_docs, (double)info.df);
    *bound = info.bound;
    return 0;
}

static int make_term(plan *p, const char *term, size_t len, int occur, int field, double weight,
                     xnode **out)
{
    tr_cursor *c;
    double idf = 0;
    tr_bound bd;
    int rc = open_term(p, term, len, 0, &c, &idf, &bd);
    if (rc) return rc;
    if (!c) {
        *out = new_node(p, X_NONE, occur, field);
        return *out ? 0 : TR_ENOMEM;
    }
    xnode *n = new_node(p, X_TERM, occur, field);
    if (!n) return TR_ENOMEM;
    n->cur = c;
    n->label = p->labels[p->ncursors - 1];
    n->label_len = len;
    tr_bm25_term_init(&p->bm, field, idf * weight, &n->bm);
    n->max_score = bound_inflate(tr_bm25_bound(&p->bm, &n->bm, &bd));
    n->doc = c->doc;
    *out = n;
    return 0;
}

/* ---- prefix expansion: the TQ_MAX_PREFIX_TERMS highest-df terms ---------- */

typedef struct pfx_term { char term[TR_MAX_TERM_BYTES + 1]; size_t len; uint64_t df; } pfx_term;
typedef struct pfx_ctx { pfx_term *t; size_t n; uint64_t seen; } pfx_ctx;

/* Keeps the best TQ_MAX_PREFIX_TERMS by (df desc, term order) in a min-heap. */
static int pfx_worse(const pfx_term *a, const pfx_term *b)
{
    if (a->df != b->df) return a->df < b->df;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->term, b->term, m);
    return c ? c > 0 : a->len > b->len;
}

static void pfx_sift_down(pfx_term *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && pfx_worse(&h[l], &h[m])) m = l;
        if (r < n && pfx_worse(&h[r], &h[m])) m = r;
        if (m == i) return;
        pfx_term t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static int pfx_collect(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    pfx_ctx *pc = ctx;
    pc->seen++;
    if (len > TR_MAX_TERM_BYTES) return 0; /* cannot be a stored term; ignore */
    pfx_term cand;
    memcpy(cand.term, term, len);
    cand.term[len] = 0;
    cand.len = len;
    cand.df = info->df;
    if (pc->n < TQ_MAX_PREFIX_TERMS) {
        size_t i = pc->n++;
        pc->t[i] = cand;
        while (i > 0 && pfx_worse(&pc->t[i], &pc->t[(i - 1) / 2])) {
            pfx_term t = pc->t[i]; pc->t[i] = pc->t[(i - 1) / 2]; pc->t[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (pfx_worse(&pc->t[0], &cand)) {
        pc->t[0] = cand;
        pfx_sift_down(pc->t, pc->n, 0);
    }
    return 0;
}

static int pfx_cmp_bytes(const void *a, const void *b)
{
    const pfx_term *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* A prefix becomes a BOOL of SHOULD terms (scored as separate terms, like
 * Lucene's scoring rewrite), in byte order of the terms. */
static int make_prefix(plan *p, const tq_node *q, int occur, xnode **out)
{
    pfx_ctx pc = { calloc(TQ_MAX_PREFIX_TERMS, sizeof(pfx_term)), 0, 0 };
    if (!pc.t) return TR_ENOMEM;
    int rc = tr_reader_prefix(p->r, q->text, q->len, SIZE_MAX, pfx_collect, &pc);
    if (rc) {
        free(pc.t);
        set_err(p, "prefix '%.*s*': %s", (int)q->len, q->text, tr_strerror(rc));
        return rc;
    }
    if (pc.seen > TQ_MAX_PREFIX_TERMS)
        snprintf(p->warning, sizeof p->warning,
                 "prefix '%.*s*' matched more than %d terms; using the %d most frequent",
                 (int)(q->len > 64 ? 64 : q->len), q->text, TQ_MAX_PREFIX_TERMS,
                 TQ_MAX_PREFIX_TERMS);
    qsort(pc.t, pc.n, sizeof *pc.t, pfx_cmp_bytes);
    xnode *b = new_node(p, X_BOOL, occur, q->field);
    if (!b || (pc.n && !(b->kids = calloc(pc.n, sizeof *b->kids)))) { free(pc.t); return TR_ENOMEM; }
    for (size_t i = 0; i < pc.n; i++) {
        xnode *t;
        rc = make_term(p, pc.t[i].term, pc.t[i].len, TQ_SHOULD, q->field, q->weight, &t);
        if (rc) { free(pc.t); return rc; }
        if (t->type != X_NONE) b->kids[b->nkids++] = t;
    }
    free(pc.t);
    b->nshould = b->nkids;
    for (size_t i = 0; i < b->nkids; i++) b->max_score += b->kids[i]->max_score;
    if (b->nkids == 0) {
        b->type = X_NONE;
        b->doc = TR_DOC_END;
    } else if (b->nkids == 1) {
        b->kids[0]->occur = occur;
        *out = b->kids[0];
        return 0;
    }
    *out = b;
    return 0;
}

/* ---- positional clauses (PHRASE, NEAR) ---------------------------------- */

static int pos_add_unit(plan *p, xnode *n, const tq_node *q, double *idf_sum, int *absent)
{
    size_t m = q->kind == TQ_TERM ? 1 : q->nterms;
    tr_cursor **nc = realloc(n->curs, (n->ncur + m) * sizeof *nc);
    if (!nc) return TR_ENOMEM;
    n->curs = nc;
    uint32_t *no = realloc(n->offs, (n->ncur + m) * sizeof *no);
    if (!no) return TR_ENOMEM;
    n->offs = no;
    pos_unit *nu = realloc(n->units, (n->nunits + 1) * sizeof *nu);
    if (!nu) return TR_ENOMEM;
    n->units = nu;
    pos_unit *u = &n->units[n->nunits++];
    memset(u, 0, sizeof *u);
    u->first = n->ncur;
    u->n = m;
    for (size_t i = 0; i < m; i++) {
        const char *t = q->kind == TQ_TERM ? q->text : q->terms[i];
        size_t len = q->kind == TQ_TERM ? q->len : q->term_lens[i];
        tr_cursor *c = NULL;
        double idf = 0;
        tr_bound bd;
        /* A word repeated in the clause ("to be or not to be") shares its
         * cursor: every move and position decode would be done twice over
         * the same list. Its positions are consumed before the next term's
         * are asked for, so one cursor serves both offsets. */
        for (size_t k = 0; k < n->ncur && !c; k++)
            for (size_t r = 0; r < p->ncursors; r++)
                if (p->cursors[r] == n->curs[k] && p->label_lens[r] == len &&
                    !memcmp(p->labels[r], t, len)) {
                    c = n->curs[k];
                    idf = tr_bm25_idf(p->bm.n_docs, (double)c->term->df);
                    break;
                }
        int rc = c ? 0 : open_term(p, t, len, 1, &c, &idf, &bd);
        if (rc) return rc;
        if (!c) { *absent = 1; return 0; }
        n->curs[n->ncur] = c;
        n->offs[n->ncur] = q->kind == TQ_TERM ? 0 : q->offsets[i];
        n->ncur++;
        *idf_sum += idf;
    }
    return 0;
}

static int make_pos(plan *p, const tq_node *q, int occur, xnode **out)
{
    xnode *n = new_node(p, X_POS, occur, q->field);
    if (!n) return TR_ENOMEM;
    double idf = 0;
    int absent = 0, rc = 0;
    if (q->kind == TQ_PHRASE) {
        rc = pos_add_unit(p, n, q, &idf, &absent);
    } else {
        n->slop = q->slop;
        for (size_t i = 0; i < q->nkids && !rc && !absent; i++) {
            const tq_node *k = q->kids[i];
            if (k->kind != TQ_TERM && k->kind != TQ_PHRASE) {
                set_err(p, "NEAR accepts only words and phrases");
                return TR_EINPUT;
            }
            if (k->kind == TQ_PHRASE && k->nterms == 0) { absent = 1; break; }
            rc = pos_add_unit(p, n, k, &idf, &absent);
        }
        if (q->nkids == 0) absent = 1;
    }
    if (rc) return rc;
    if (absent || n->ncur == 0) {
        n->type = X_NONE;
        n->doc = TR_DOC_END;
        *out = n;
        return 0;
    }
    /* A term at k different offsets of a unit needs k occurrences in the
     * field for a match ("to be or not to be": two of 'to' and of 'be'),
     * known from tf alone. */
    n->mult = malloc(n->ncur * sizeof *n->mult);
    if (!n->mult) return TR_ENOMEM;
    for (size_t u = 0; u < n->nunits; u++) {
        const pos_unit *un = &n->units[u];
        for (size_t i = un->first; i < un->first + un->n; i++) {
            uint32_t m = 0;
            for (size_t j = un->first; j < un->first + un->n; j++) {
                if (n->curs[j] != n->curs[i]) continue;
                size_t e = un->first;
                while (e < j && !(n->curs[e] == n->curs[i] && n->offs[e] == n->offs[j])) e++;
                m += e == j; /* first time at this offset */
            }
            n->mult[i] = m;
        }
    }
    /* leapfrog from the rarest term: it proposes the fewest candidates */
    n->lf = malloc(n->ncur * sizeof *n->lf);
    if (!n->lf) return TR_ENOMEM;
    for (size_t i = 0; i < n->ncur; i++) {
        size_t j = i;
        uint64_t df = n->curs[i]->term ? n->curs[i]->term->df : 0;
        while (j > 0 && (n->curs[n->lf[j - 1]]->term ? n->curs[n->lf[j - 1]]->term->df : 0) > df) {
            n->lf[j] = n->lf[j - 1];
            j--;
        }
        n->lf[j] = (uint32_t)i;
    }
    n->lead = n->units[0].first;
    for (size_t i = n->units[0].first; i < n->units[0].first + n->units[0].n; i++)
        if (n->curs[i]->term->df < n->curs[n->lead]->term->df) n->lead = i;
    uint64_t next_df = UINT64_MAX;
    for (size_t i = 0; i < n->ncur; i++)
        if (n->curs[i] != n->curs[n->lead] && n->curs[i]->term->df < next_df) next_df = n->curs[i]->term->df;
    n->lead_first = next_df != UINT64_MAX && lead_worth(n->curs[n->lead]->term->df, next_df);
    tr_bm25_term_init(&p->bm, q->field, idf * q->weight, &n->bm);
    n->max_score = bound_inflate(n->bm.num);
    *out = n;
    return 0;
}

/* ---- tree compilation --------------------------------------------------- */

static int compile(plan *p, const tq_node *q, int occur, int depth, xnode **out);

/* Splice kids into a BOOL, flattening what cannot change the result: a
 * SHOULD kid that is a pure OR, a MUST kid that is a pure AND; NONE kids
 * that cannot match are dropped (a NONE MUST makes the BOOL NONE). */
static int bool_push(xnode *b, xnode *k, size_t *cap, int *dead)
{
    if (k->type == X_NONE) {
        if (k->occur == TQ_MUST) *dead = 1;
        return 0;
    }
    if (k->type == X_BOOL && k->occur == TQ_SHOULD && k->nmust == 0 && k->nshould == k->nkids) {
        for (size_t i = 0; i < k->nkids; i++) {
            k->kids[i]->occur = TQ_SHOULD;
            int rc = bool_push(b, k->kids[i], cap, dead);
            if (rc) return rc;
        }
        return 0;
    }
    if (k->type == X_BOOL && k->occur == TQ_MUST && k->nmust == k->nkids) {
        for (size_t i = 0; i < k->nkids; i++) {
            k->kids[i]->occur = TQ_MUST;
            int rc = bool_push(b, k->kids[i], cap, dead);
            if (rc) return rc;
        }
        return 0;
    }
    if (b->nkids == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        xnode **nk = realloc(b->kids, nc * sizeof *nk);
        if (!nk) return TR_ENOMEM;
        b->kids = nk;
        *cap = nc;
    }
    b->kids[b->nkids++] = k;
    if (k->occur == TQ_MUST) b->nmust++;
    else if (k->occur == TQ_SHOULD) b->nshould++;
    return 0;
}

static int make_bool(plan *p, const tq_node *q, int occur, int depth, xnode **out)
{
    xnode *b = new_node(p, X_BOOL, occur, TQ_FIELD_ANY);
    if (!b) return TR_ENOMEM;
    size_t cap = 0;
    int dead = 0;
    for (size_t i = 0; i < q->nkids; i++) {
        xnode *k;
        int ko = q->kids[i]->occur;
        if (ko != TQ_MUST && ko != TQ_MUST_NOT) ko = TQ_SHOULD;
        int rc = compile(p, q->kids[i], ko, depth + 1, &k);
        if (rc) return rc;
        rc = bool_push(b, k, &cap, &dead);
        if (rc) return rc;
    }
    if (dead || b->nmust + b->nshould == 0) {
        b->type = X_NONE;
        b->doc = TR_DOC_END;
    } else if (b->nkids == 1) {
        b->kids[0]->occur = occur;
        *out = b->kids[0];
        return 0;
    } else {
        for (size_t i = 0; i < b->nkids; i++)
            if (b->kids[i]->occur != TQ_MUST_NOT) b->max_score += b->kids[i]->max_score;
    }
    *out = b;
    return 0;
}

static int compile(plan *p, const tq_node *q, int occur, int depth, xnode **out)
{
    *out = NULL;
    if (!q) { *out = new_node(p, X_NONE, occur, 0); return *out ? 0 : TR_ENOMEM; }
    if (depth > TQ_MAX_COMPILE_DEPTH) {
        set_err(p, "query nested deeper than %d", TQ_MAX_COMPILE_DEPTH);
        return TR_ELIMIT;
    }
    int field = q->field;
    if (field != TQ_FIELD_TITLE && field != TQ_FIELD_BODY) field = TQ_FIELD_ANY;
    switch (q->kind) {
    case TQ_TERM:
        return make_term(p, q->text, q->len, occur, field, q->weight, out);
    case TQ_PREFIX:
        return make_prefix(p, q, occur, out);
    case TQ_PHRASE:
        if (q->nterms == 1) return make_term(p, q->terms[0], q->term_lens[0], occur, field, q->weight, out);
        if (q->nterms == 0) break;
        return make_pos(p, q, occur, out);
    case TQ_NEAR:
        return make_pos(p, q, occur, out);
    case TQ_BOOL:
        return make_bool(p, q, occur, depth, out);
    default:
        break;
    }
    *out = new_node(p, X_NONE, occur, field);
    return *out ? 0 : TR_ENOMEM;
}

/* ---- per-document helpers ----------------------------------------------- */

static inline void load_dl(plan *p, uint32_t doc)
{
    if (p->dl_doc != doc) {
        p->dl_doc = doc;
        tr_reader_lengths(p->r, &doc, 1, &p->tl, &p->bl);
    }
}

static inline int doc_filtered(const plan *p, uint32_t doc)
{
    if (!p->filtering) return 0;
    if (tr_reader_is_deleted(p->r, doc)) return 1;
    if (p->after != TR_NO_DATE || p->before != TR_NO_DATE) {
        int64_t d = tr_reader_date(p->r, doc);
        if (d == TR_NO_DATE) return 1;
        if (p->after != TR_NO_DATE && d < p->after) return 1;
        if (p->before != TR_NO_DATE && d > p->before) return 1;
    }
    return 0;
}

/* tf' of the cursor's current posting in the node's field; 0 = no match. */
static inline double tfp_of(const plan *p, int field, uint32_t tf, uint32_t ttf)
{
    if (ttf > tf) ttf = tf; /* corrupt counts: never underflow */
    if (field == TR_FIELD_TITLE) return ttf;
    if (field == TR_FIELD_BODY) return (double)(tf - ttf);
    return tr_bm25_tf(TR_FIELD_ANY, p->bm.w, tf, ttf);
}

static inline double term_tfp(const plan *p, const xnode *n)
{
    const tr_cursor *c = n->cur;
    return tfp_of(p, n->field, c->tf[c->i], c->ttf[c->i]);
}

static inline int term_present(const xnode *n)
{
    const tr_cursor *c = n->cur;
    uint32_t tf = c->tf[c->i], ttf = c->ttf[c->i];
    if (n->field == TR_FIELD_TITLE) return ttf > 0;
    if (n->field == TR_FIELD_BODY) return tf > ttf;
    return 1;
}

/* A lower bound on dl' for the cursor's current posting, without the norms
 * lookup: the block's bound points say that some point has tf >= the
 * posting's tf and dl <= its dl (dl = title + body length), so the least dl
 * among the points with tf >= the posting's bounds its dl from below, and
 * dl' >= min(1, w) * dl in field ANY. 0 (no claim) in a single field or
 * when the bound on hand is not the decoded block's. */
static inline double term_dl_floor(const plan *p, const xnode *n)
{
    tr_cursor *c = n->cur;
    if (n->field != TR_FIELD_ANY || c->n == 0 || c->blk_last != c->docs[c->n - 1]) return 0.0;
    uint32_t tf = c->tf[c->i];
    const tr_bound *bd = tr_cursor_block_bound(c);
    uint32_t lo = UINT32_MAX;
    for (unsigned k = 0; k < bd->npoints && k < TR_BOUND_POINTS; k++)
        if ((bd->pt[k].tf >= tf || bd->pt[k].tf >= TR_SAT16) && bd->pt[k].dl < lo) lo = bd->pt[k].dl;
    if (lo == UINT32_MAX) return 0.0;
    return p->bm.w >= 1.0 ? (double)lo : p->bm.w * (double)lo;
}

/* Upper bound of a present term's score at its current posting, before the
 * document's lengths are known. Not inflated. */
static inline double term_ub_nolen(const plan *p, const xnode *n)
{
    return tr_bm25_score(&n->bm, term_tfp(p, n), term_dl_floor(p, n));
}

static inline double term_score(plan *p, const xnode *n)
{
    p->scored++;
    return tr_bm25_score(&n->bm, term_tfp(p, n), tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl));
}

static int cursor_seek(plan *p, tr_cursor *c, uint32_t target)
{
    if (c->doc >= target) return 0;
    int rc = tr_cursor_seek_near(c, target);
    if (rc || c->rc) {
        cursor_failed(p, c, rc);
        c->doc = TR_DOC_END;
        return 1;
    }
    return 0;
}

/* cursor_seek for a positional clause's leapfrog, inline: most of its
 * seeks stay in the decoded block (tr_cursor_seek_near), and the call
 * around them cost as much as the search (the peers' phrase COUNTs make 1.4
 * million seeks). */
static inline __attribute__((always_inline)) int pos_seek(plan *p, tr_cursor *c, uint32_t target)
{
    if (c->doc >= target) return 0;
    if (target <= c->near_last) {
        tr_cursor_move_near(c, target);
        return 0;
    }
    return cursor_seek(p, c, target);
}

/* ---- matchers: advance to a candidate, confirm it, score it -------------- */

static void x_advance(plan *p, xnode *n, uint32_t target);

/* Does the cursor's posting have the mult occurrences its unit needs in a
 * field the clause may match in? (unit_starts finds no match otherwise.) */
static inline int pos_enough(const xnode *n, const tr_cursor *c, uint32_t mult)
{
    uint32_t tf = c->tf[c->i], ttf = c->ttf[c->i];
    if (ttf > tf) ttf = tf;
    return (n->field != TR_FIELD_BODY && ttf >= mult) || (n->field != TR_FIELD_TITLE && tf - ttf >= mult);
}

/* Move a cursor of a word at mult > 1 offsets of its unit from its current
 * posting to the first with the occurrences the unit needs (pos_enough):
 * a posting without them can match nowhere, whatever the other lists hold.
 * 1 when the list ran out (or failed). */
static int pos_skip_short(plan *p, const xnode *n, tr_cursor *c, uint32_t mult)
{
    while (!pos_enough(n, c, mult)) {
        int rc = tr_cursor_next(c);
        if (rc || c->rc) {
            cursor_failed(p, c, rc);
            c->doc = TR_DOC_END;
        }
        if (c->doc == TR_DOC_END) return 1;
    }
    return 0;
}

/* The next document >= target in every list of the clause. A list whose
 * word is at several offsets of a unit first moves on, by itself, past the
 * postings without that many occurrences in the field (pos_skip_short):
 * the candidate it lands on is the next the list can give, so the other
 * lists are not moved for the documents it rules out ("to be or not to
 * be": 'to' and 'be' need two occurrences each). */
static void pos_advance(plan *p, xnode *n, uint32_t target)
{
    uint32_t d = target;
again:
    for (size_t i = 0; i < n->ncur; i++) {
        size_t ci = n->lf[i];
        tr_cursor *c = n->curs[ci];
        pos_seek(p, c, d);
        if (c->doc == TR_DOC_END) { n->doc = TR_DOC_END; return; }
        if (n->mult[ci] > 1 && pos_skip_short(p, n, c, n->mult[ci])) { n->doc = TR_DOC_END; return; }
        /* the first list raising d sits on it: on to the second */
        if (c->doc > d) {
            d = c->doc;
            if (i) goto again;
        }
    }
    n->doc = d;
}

static void bool_advance(plan *p, xnode *n, uint32_t target)
{
    if (n->nmust) {
        uint32_t d = target;
        size_t first = 0;
        while (n->kids[first]->occur != TQ_MUST) first++;
    again:
        for (size_t i = 0; i < n->nkids; i++) {
            xnode *k = n->kids[i];
            if (k->occur != TQ_MUST) continue;
            if (k->doc < d) x_advance(p, k, d);
            if (k->doc == TR_DOC_END) { n->doc = TR_DOC_END; return; }
            if (k->doc > d) {
                d = k->doc;
                if (i > first) goto again; /* the first MUST kid sits on d */
            }
        }
        n->doc = d;
        return;
    }
    uint32_t best = TR_DOC_END;
    for (size_t i = 0; i < n->nkids; i++) {
        xnode *k = n->kids[i];
        if (k->occur != TQ_SHOULD) continue;
        if (k->doc < target) x_advance(p, k, target);
        if (k->doc < best) best = k->doc;
    }
    n->doc = best;
}

static void x_advance(plan *p, xnode *n, uint32_t target)
{
    if (n->doc >= target) return;
    switch (n->type) {
    case X_TERM:
        cursor_seek(p, n->cur, target);
        n->doc = n->cur->doc;
        break;
    case X_POS: pos_advance(p, n, target); break;
    case X_BOOL: bool_advance(p, n, target); break;
    default: n->doc = TR_DOC_END; break;
    }
}

/* Occurrence starts of unit u in one field (title: the first ttf positions of
 * each posting, body: the rest), sorted ascending. */
static int unit_starts(plan *p, xnode *n, pos_unit *u, int body)
{
    uint32_t cnt[TQ_MAX_PHRASE_TERMS], ord[TQ_MAX_PHRASE_TERMS];
    if (u->n > TQ_MAX_PHRASE_TERMS) return TR_ELIMIT;
    u->nstarts = 0;
    /* Occurrence counts come from tf/ttf, before any positions are decoded:
     * a term absent from this field rules the field out for free. Then the
     * terms are intersected fewest occurrences first, so the common terms'
     * positions are decoded only while a match is still possible. */
    for (size_t i = 0; i < u->n; i++) {
        const tr_cursor *c = n->curs[u->first + i];
        uint32_t tf = c->tf[c->i], ttf = c->ttf[c->i];
        if (ttf > tf) ttf = tf;
        cnt[i] = body ? tf - ttf : ttf;
        if (cnt[i] < n->mult[u->first + i]) return 0;
        size_t j = i;
        while (j > 0 && cnt[ord[j - 1]] > cnt[i]) { ord[j] = ord[j - 1]; j--; }
        ord[j] = (uint32_t)i;
    }
    for (size_t j = 0; j < u->n; j++) {
        size_t k = ord[j];
        tr_cursor *c = n->curs[u->first + k];
        const uint32_t *pos;
        uint32_t np;
        int rc = tr_cursor_positions(c, &pos, &np);
        if (rc || c->rc) { cursor_failed(p, c, rc); return p->rc; }
        uint32_t ttf = c->ttf[c->i];
        if (ttf > np) ttf = np;
        const uint32_t *seg = body ? pos + ttf : pos;
        uint32_t segn = body ? np - ttf : ttf;
        uint32_t off = n->offs[u->first + k];
        if (j == 0) {
            if (u->cap < segn) {
                uint32_t *ns = realloc(u->starts, segn * sizeof *ns);
                if (!ns) return TR_ENOMEM;
                u->starts = ns;
                u->cap = segn;
            }
            for (uint32_t a = 0; a < segn; a++) {
                if (seg[a] < off) continue;
                uint32_t st = seg[a] - off;
                /* strictly increasing, even if the stored positions are not */
                if (u->nstarts == 0 || u->starts[u->nstarts - 1] < st) u->starts[u->nstarts++] = st;
            }
        } else {
            size_t keep = 0, x = 0;
            for (size_t a = 0; a < u->nstarts; a++) {
                uint64_t want = (uint64_t)u->starts[a] + off;
                while (x < segn && seg[x] < want) x++;
                if (x == segn) break;
                if (seg[x] == want) u->starts[keep++] = u->starts[a];
            }
            u->nstarts = keep;
        }
        if (u->nstarts == 0) return 0;
    }
    return 0;
}

/* Matches of a positional clause in one field. PHRASE: occurrences. NEAR:
 * occurrences of the first unit that have, for every other unit, an
 * occurrence starting within slop positions (either side). */
static int pos_count_field(plan *p, xnode *n, int body, uint32_t *count)
{
    *count = 0;
    for (size_t u = 0; u < n->nunits; u++) {
        int rc = unit_starts(p, n, &n->units[u], body);
        if (rc) return rc;
        if (n->units[u].nstarts == 0) return 0;
    }
    pos_unit *u0 = &n->units[0];
    if (n->nunits == 1) { *count = (uint32_t)u0->nstarts; return 0; }
    size_t idx[TQ_MAX_CLAUSES < 64 ? TQ_MAX_CLAUSES : 64] = {0};
    if (n->nunits > sizeof idx / sizeof idx[0]) return TR_ELIMIT;
    uint32_t c = 0;
    for (size_t a = 0; a < u0->nstarts; a++) {
        uint64_t s = u0->starts[a];
        uint64_t lo = s > n->slop ? s - n->slop : 0, hi = s + n->slop;
        int ok = 1;
        for (size_t k = 1; k < n->nunits && ok; k++) {
            pos_unit *uk = &n->units[k];
            while (idx[k] < uk->nstarts && uk->starts[idx[k]] < lo) idx[k]++;
            ok = idx[k] < uk->nstarts && uk->starts[idx[k]] <= hi;
        }
        c += ok;
    }
    *count = c;
    return 0;
}

static int x_confirm(plan *p, xnode *n);

static int pos_confirm(plan *p, xnode *n)
{
    uint32_t ct = 0, cb = 0;
    int rc = 0;
    if (n->field != TR_FIELD_BODY) rc = pos_count_field(p, n, 0, &ct);
    if (!rc && n->field != TR_FIELD_TITLE) rc = pos_count_field(p, n, 1, &cb);
    if (rc) {
        if (!p->rc) { p->rc = rc; set_err(p, "positions: %s", tr_strerror(rc)); }
        return 0;
    }
    if (n->field == TR_FIELD_TITLE) n->conf_tf = ct;
    else if (n->field == TR_FIELD_BODY) n->conf_tf = cb;
    else n->conf_tf = p->bm.w * (double)ct + (double)cb;
    return ct + cb > 0;
}

static int bool_confirm(plan *p, xnode *n)
{
    uint32_t d = n->doc;
    int ok = 0;
    if (n->nmust) {
        ok = 1;
        for (size_t i = 0; i < n->nkids && ok; i++)
            if (n->kids[i]->occur == TQ_MUST) ok = x_confirm(p, n->kids[i]);
    } else {
        for (size_t i = 0; i < n->nkids && !ok; i++) {
            xnode *k = n->kids[i];
            if (k->occur != TQ_SHOULD) continue;
            x_advance(p, k, d);
            ok = k->doc == d && x_confirm(p, k);
        }
    }
    for (size_t i = 0; i < n->nkids && ok; i++) {
        xnode *k = n->kids[i];
        if (k->occur != TQ_MUST_NOT) continue;
        x_advance(p, k, d);
        if (k->doc == d && x_confirm(p, k)) ok = 0;
    }
    return ok;
}

/* Does n (positioned on a candidate) really match there? Cached per doc. */
static int x_confirm(plan *p, xnode *n)
{
    if (n->conf_doc == n->doc) return n->conf_ok;
    int ok;
    switch (n->type) {
    case X_TERM: ok = term_present(n); break;
    case X_POS: ok = pos_confirm(p, n); break;
    case X_BOOL: ok = bool_confirm(p, n); break;
    default: ok = 0; break;
    }
    n->conf_doc = n->doc;
    n->conf_ok = ok;
    return ok;
}

/* Score of a confirmed match; the canonical order of operations. */
static double x_score(plan *p, xnode *n)
{
    switch (n->type) {
    case X_TERM:
        return term_score(p, n);
    case X_POS:
        p->scored++;
        return tr_bm25_score(&n->bm, n->conf_tf, tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl));
    case X_BOOL: {
        double s = 0.0;
        uint32_t d = n->doc;
        for (size_t i = 0; i < n->nkids; i++) {
            xnode *k = n->kids[i];
            if (k->occur == TQ_MUST_NOT) continue;
            if (k->occur == TQ_SHOULD) {
                x_advance(p, k, d);
                if (k->doc != d || !x_confirm(p, k)) continue;
            }
            s += x_score(p, k);
        }
        return s;
    }
    default:
        return 0.0;
    }
}

/* Upper bound of n's score at candidate doc d (n->doc == d), without
 * checking positions: a positional clause's matches are at most the fewest
 * field occurrences among its first unit's terms, less one for each further
 * time the term is in the unit (the last match's later occurrences of it
 * start no match at that offset). Not inflated. */
static double x_ubound(plan *p, xnode *n)
{
    switch (n->type) {
    case X_TERM:
        return term_present(n) ? term_score(p, n) : 0.0;
    case X_POS: {
        pos_unit *u = &n->units[0];
        uint32_t mt = UINT32_MAX, mb = UINT32_MAX;
        for (size_t i = 0; i < u->n; i++) {
            tr_cursor *c = n->curs[u->first + i];
            uint32_t tf = c->tf[c->i], ttf = c->ttf[c->i], extra = n->mult[u->first + i] - 1;
            if (ttf > tf) ttf = tf;
            uint32_t ot = ttf > extra ? ttf - extra : 0, ob = tf - ttf > extra ? tf - ttf - extra : 0;
            if (ot < mt) mt = ot;
            if (ob < mb) mb = ob;
        }
        double tfp = n->field == TR_FIELD_TITLE ? (double)mt
                   : n->field == TR_FIELD_BODY ? (double)mb
                   : p->bm.w * (double)mt + (double)mb;
        return tr_bm25_score(&n->bm, tfp, tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl));
    }
    case X_BOOL: {
        double s = 0.0;
        uint32_t d = n->doc;
        for (size_t i = 0; i < n->nkids; i++) {
            xnode *k = n->kids[i];
            if (k->occur == TQ_MUST_NOT) continue;
            if (k->occur == TQ_SHOULD) {
                x_advance(p, k, d);
                if (k->doc != d) continue;
            }
            s += x_ubound(p, k);
        }
        return s;
    }
    default:
        return 0.0;
    }
}

/* ---- top-k heap: the worst hit on top ------------------------------------ */

typedef struct topk {
    tq_hit *h; size_t n, cap;
} topk;

/* a ranks below b: lower score, or equal score and higher doc id */
static inline int hit_worse(const tq_hit *a, const tq_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

static inline double topk_threshold(const topk *t)
{
    return t->n == t->cap && t->cap ? t->h[0].score : -INFINITY;
}

static void topk_push(topk *t, uint32_t doc, double score)
{
    tq_hit x = { doc, score };
    if (t->n < t->cap) {
        size_t i = t->n++;
        while (i > 0) {
            size_t up = (i - 1) / 2;
            if (!hit_worse(&x, &t->h[up])) break;
            t->h[i] = t->h[up];
            i = up;
        }
        t->h[i] = x;
        return;
    }
    if (t->cap == 0 || !hit_worse(&t->h[0], &x)) return;
    size_t i = 0, n = t->n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const tq_hit *mv = &x;
        if (l < n && hit_worse(&t->h[l], mv)) { m = l; mv = &t->h[l]; }
        if (r < n && hit_worse(&t->h[r], mv)) { m = r; }
        if (m == i) break;
        t->h[i] = t->h[m];
        i = m;
    }
    t->h[i] = x;
}

static int hit_cmp_best_first(const void *a, const void *b)
{
    const tq_hit *x = a, *y = b;
    if (hit_worse(x, y)) return 1;
    if (hit_worse(y, x)) return -1;
    return 0;
}

/* ---- exhaustive evaluation ------------------------------------------------ */

static double term_block_ub(plan *p, xnode *n, uint32_t target, uint32_t *last);

/* Scores of a block's postings (field ANY, every count an int32): one
 * straight loop the compiler vectorises. The AVX2 copy converts and divides
 * four at a time where the baseline x86-64 one does two; it enables no FMA,
 * so both give the same doubles as tr_bm25_score. */
#define BLOCK_SCORES_BODY                                                        \
    for (uint32_t i = 0; i < m; i++) {                                           \
        uint32_t f = tf[i], tt = ttf[i];                                         \
        tt = tt < f ? tt : f;                                                    \
        double tfp = w * (double)(int32_t)tt + (double)(int32_t)(f - tt);        \
        double dlp = w * (double)(int32_t)tl[i] + (double)(int32_t)bl[i];        \
        sc[i] = tr_bm25_score(bm, tfp, dlp);                                     \
    }
static void block_scores(const uint32_t *restrict tf, const uint32_t *restrict ttf,
                         const uint32_t *restrict tl, const uint32_t *restrict bl, uint32_t m,
                         double w, const tr_bm25_term *restrict bm, double *restrict sc)
{
    BLOCK_SCORES_BODY
}
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TQ_HAVE_AVX2_CLONE 1
#include <immintrin.h>
__attribute__((target("avx2")))
static void block_scores_avx2(const uint32_t *restrict tf, const uint32_t *restrict ttf,
                              const uint32_t *restrict tl, const uint32_t *restrict bl, uint32_t m,
                              double w, const tr_bm25_term *restrict bm, double *restrict sc)
{
    BLOCK_SCORES_BODY
}
#else
#define TQ_HAVE_AVX2_CLONE 0
#endif

/* Which postings of a block could beat min, without a division: score =
 * N / D with N = num * tf', D = tf' + ca + cb * dl', so a posting with
 * N <= min * D * (1 - TQ_PASS_MARGIN) has a score <= min. The test runs in
 * float, 8 lanes at a time with AVX2: every operand is >= 0 (w, k1, b, idf
 * and min are; counts are converted from int32), so each of N and min * D
 * is within about 20 float ulps (~1.2e-6 relative) of its exact value, far
 * inside the margin of 1e-5; a posting rejected here cannot beat min, and
 * those that pass are scored exactly in double (the doubles of
 * block_scores) before they meet the heap. Callers use it only when w and
 * the term's coefficients are at most TQ_PASS_MAX (pass_float_ok), so no
 * product can overflow to infinity (int32 counts: every value < 1e25). pass[i] = 1 for the candidates;
 * returns their count. Once the heap is full almost every block of a long
 * list has none, and the divisions are the loop's most expensive
 * instructions. */
#define TQ_PASS_MARGIN 1e-5f
#define TQ_PASS_MAX 1e3
static int pass_float_ok(double w, const tr_bm25_term *bm)
{
    return w <= TQ_PASS_MAX && bm->num <= TQ_PASS_MAX && bm->ca <= TQ_PASS_MAX && bm->cb <= TQ_PASS_MAX;
}
#define BLOCK_PASS_BODY                                                          \
    uint32_t cnt = 0;                                                            \
    const float lim = (float)min * (1.0f - TQ_PASS_MARGIN);                      \
    const float wf = (float)w, numf = (float)bm->num;                            \
    const float caf = (float)bm->ca, cbf = (float)bm->cb;                        \
    for (uint32_t i = 0; i < m; i++) {                                           \
        uint32_t f = tf[i], tt = ttf[i];                                         \
        tt = tt < f ? tt : f;                                                    \
        float tfp = wf * (float)(int32_t)tt + (float)(int32_t)(f - tt);          \
        float dlp = wf * (float)(int32_t)tl[i] + (float)(int32_t)bl[i];          \
        float num = numf * tfp, den = tfp + (caf + cbf * dlp);                   \
        uint8_t ok = num > lim * den;                                            \
        pass[i] = ok;                                                            \
        cnt += ok;                                                               \
    }                                                                            \
    return cnt;
static uint32_t block_pass(const uint32_t *restrict tf, const uint32_t *restrict ttf,
                           const uint32_t *restrict tl, const uint32_t *restrict bl, uint32_t m,
                           double w, const tr_bm25_term *restrict bm, double min,
                           uint8_t *restrict pass)
{
    BLOCK_PASS_BODY
}
#if TQ_HAVE_AVX2_CLONE
__attribute__((target("avx2")))
static uint32_t block_pass_avx2(const uint32_t *restrict tf, const uint32_t *restrict ttf,
                                const uint32_t *restrict tl, const uint32_t *restrict bl, uint32_t m,
                                double w, const tr_bm25_term *restrict bm, double min,
                                uint8_t *restrict pass)
{
    BLOCK_PASS_BODY
}
#endif

#if TQ_HAVE_AVX2_CLONE
/* BLOCK_PASS_BODY for the 8 postings at i (dl' and den with FMA): their
 * pass bits; big gets the OR of their tf, tl and bl. */
typedef struct pass_consts { __m256 w, num, ca, cb, lim; } pass_consts;
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) uint32_t
pass8_avx2(const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl, const uint32_t *bl,
           uint32_t i, const pass_consts *k, const int no_title, __m256i *big)
{
    __m256i f = _mm256_loadu_si256((const __m256i *)(tf + i));
    __m256i l = _mm256_loadu_si256((const __m256i *)(tl + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(bl + i));
    *big = _mm256_or_si256(*big, _mm256_or_si256(f, _mm256_or_si256(l, b)));
    __m256 tfp;
    if (no_title) {
        /* every ttf 0: w * 0 + f is exactly f */
        tfp = _mm256_cvtepi32_ps(f);
    } else {
        __m256i tt = _mm256_min_epu32(_mm256_loadu_si256((const __m256i *)(ttf + i)), f);
        tfp = _mm256_add_ps(_mm256_mul_ps(k->w, _mm256_cvtepi32_ps(tt)),
                            _mm256_cvtepi32_ps(_mm256_sub_epi32(f, tt)));
    }
    __m256 dlp = _mm256_fmadd_ps(k->w, _mm256_cvtepi32_ps(l), _mm256_cvtepi32_ps(b));
    __m256 num = _mm256_mul_ps(k->num, tfp);
    __m256 den = _mm256_add_ps(tfp, _mm256_fmadd_ps(k->cb, dlp, k->ca));
    return (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(num, _mm256_mul_ps(k->lim, den), _CMP_GT_OQ));
}

/* BLOCK_PASS_BODY's operations for posting i alone: its pass bit. */
static inline uint64_t pass1(uint32_t f, uint32_t tt, uint32_t tl, uint32_t bl, float wf, float numf,
                             float caf, float cbf, float lim)
{
    tt = tt < f ? tt : f;
    float tfp = wf * (float)(int32_t)tt + (float)(int32_t)(f - tt);
    float dlp = wf * (float)(int32_t)tl + (float)(int32_t)bl;
    float num = numf * tfp, den = tfp + (caf + cbf * dlp);
    return num > lim * den;
}

/* block_pass for the single-term loop, as bits: bit i of pass[i / 64] set
 * for the candidates, eight postings a step written by hand (the
 * compiler's loop spent most of its instructions packing the compares into
 * bytes). The operations are BLOCK_PASS_BODY's but for two fused
 * multiply-adds (dl' and ca + cb * dl', one rounding each instead of two:
 * 0.96x the exhaustive ns/posting of "the" and "is" in the passages), so N
 * and min * D are each at least as close to exact as there and the margin
 * argument above holds unchanged; the candidates can differ from
 * block_pass's only where N and min * D agree to a float rounding, far
 * inside the margin, never for a posting that beats min. Callers check
 * for FMA (tq_cpu_avx2_fma). It also folds in the check that every tf, tl
 * and bl is at most INT32_MAX (the signed conversions need it): returns 1,
 * pass then not to be used, when one is not; else 0. */
__attribute__((target("avx2,fma")))
static int block_pass_bits_avx2(const uint32_t *restrict tf, const uint32_t *restrict ttf,
                                const uint32_t *restrict tl, const uint32_t *restrict bl, uint32_t m,
                                double w, const tr_bm25_term *restrict bm, double min,
                                uint64_t pass[TR_BLOCK_DOCS / 64])
{
    const float lim = (float)min * (1.0f - TQ_PASS_MARGIN);
    const float wf = (float)w, numf = (float)bm->num;
    const float caf = (float)bm->ca, cbf = (float)bm->cb;
    const pass_consts k = { _mm256_set1_ps(wf), _mm256_set1_ps(numf), _mm256_set1_ps(caf),
                            _mm256_set1_ps(cbf), _mm256_set1_ps(lim) };
    __m256i big = _mm256_setzero_si256();
    uint32_t i = 0, bigs = 0;
    if (m == TR_BLOCK_DOCS) {
        /* a whole block (almost every call): 64 postings a word, every
         * shift a constant; most blocks have no title hit (every ttf 0,
         * 86% of those of "the" in the passages): tf' is tf then */
        __m256i anyt = _mm256_setzero_si256();
        for (unsigned j = 0; j < TR_BLOCK_DOCS; j += 8)
            anyt = _mm256_or_si256(anyt, _mm256_loadu_si256((const __m256i *)(ttf + j)));
        int no_title = _mm256_testz_si256(anyt, anyt);
        for (unsigned q = 0; q < TR_BLOCK_DOCS / 64; q++) {
            uint64_t word = 0;
            if (no_title) {
#pragma GCC unroll 8
                for (unsigned g = 0; g < 8; g++)
                    word |= (uint64_t)pass8_avx2(tf, ttf, tl, bl, q * 64 + g * 8, &k, 1, &big) << (g * 8);
            } else {
#pragma GCC unroll 8
                for (unsigned g = 0; g < 8; g++)
                    word |= (uint64_t)pass8_avx2(tf, ttf, tl, bl, q * 64 + g * 8, &k, 0, &big) << (g * 8);
            }
            pass[q] = word;
        }
    } else {
        for (unsigned q = 0; q < TR_BLOCK_DOCS / 64; q++) pass[q] = 0;
        for (; i + 8 <= m; i += 8)
            pass[i / 64] |= (uint64_t)pass8_avx2(tf, ttf, tl, bl, i, &k, 0, &big) << (i % 64);
        for (; i < m; i++) {
            bigs |= tf[i] | tl[i] | bl[i];
            pass[i / 64] |= pass1(tf[i], ttf[i], tl[i], bl[i], wf, numf, caf, cbf, lim) << (i % 64);
        }
    }
    return _mm256_movemask_ps(_mm256_castsi256_ps(big)) || bigs > INT32_MAX;
}
#endif

int tq_pass_usable(double w, const tr_bm25_term *bm) { return pass_float_ok(w, bm); }

/* simd: 0 the portable loop, 1 block_pass_avx2, 2 block_pass_bits_avx2
 * (its bits as bytes; UINT32_MAX when a count is past INT32_MAX); without
 * AVX2 (and FMA for 2), 1 and 2 are the portable loop. */
uint32_t tq_block_pass(const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl,
                       const uint32_t *bl, uint32_t m, double w, const tr_bm25_term *bm,
                       double min, uint8_t *pass, int simd)
{
#if TQ_HAVE_AVX2_CLONE
    if (simd == 2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        /* the bits of run_single_term: as bytes (counts fit, so never "big") */
        uint64_t bits[TR_BLOCK_DOCS / 64];
        uint32_t cnt = 0;
        if (m > TR_BLOCK_DOCS || block_pass_bits_avx2(tf, ttf, tl, bl, m, w, bm, min, bits)) return UINT32_MAX;
        for (uint32_t i = 0; i < m; i++) cnt += pass[i] = (uint8_t)(bits[i / 64] >> (i % 64) & 1);
        return cnt;
    }
    if (simd && __builtin_cpu_supports("avx2")) return block_pass_avx2(tf, ttf, tl, bl, m, w, bm, min, pass);
#endif
    (void)simd;
    return block_pass(tf, ttf, tl, bl, m, w, bm, min, pass);
}

static int tq_cpu_avx2(void)
{
#if TQ_HAVE_AVX2_CLONE
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* AVX2 and FMA both (block_pass_bits_avx2). */
static int tq_cpu_avx2_fma(void)
{
#if TQ_HAVE_AVX2_CLONE
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* block_pass_avx2 where it was compiled (callers check tq_cpu_avx2). */
static uint32_t block_pass_avx2_call(const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl,
                                     const uint32_t *bl, uint32_t m, double w, const tr_bm25_term *bm,
                                     double min, uint8_t *pass)
{
#if TQ_HAVE_AVX2_CLONE
    return block_pass_avx2(tf, ttf, tl, bl, m, w, bm, min, pass);
#else
    return block_pass(tf, ttf, tl, bl, m, w, bm, min, pass);
#endif
}

/* One TERM at the root: a plain loop over the cursor's decoded arrays, block
 * by block. prune: skip, without decoding, every block whose bound cannot
 * beat the k-th score (block-max). */
/* run_single_term: a posting i (of the block from i0) that passed the
 * float prefilter, scored exactly (the doubles of block_scores, every count
 * an int32) and pushed when it beats *min, which then follows the heap. */
static inline void push_passed(topk *t, const tr_cursor *c, uint32_t i0, uint32_t i,
                               const uint32_t *tl, const uint32_t *bl, double w,
                               const tr_bm25_term *bm, double *min)
{
    uint32_t f = c->tf[i0 + i], tt = c->ttf[i0 + i];
    tt = tt < f ? tt : f;
    double tfp = w * (double)(int32_t)tt + (double)(int32_t)(f - tt);
    double dlp = w * (double)(int32_t)tl[i] + (double)(int32_t)bl[i];
    double s = tr_bm25_score(bm, tfp, dlp);
    if (s > *min) {
        topk_push(t, c->docs[i0 + i], s);
        *min = t->h[0].score;
    }
}

static void run_single_term(plan *p, xnode *n, topk *t, uint64_t *count, int scoring, int prune)
{
    tr_cursor *c = n->cur;
    uint64_t cnt = 0, scored = 0;
    int field = n->field;
    double w = p->bm.w;
    const tr_bm25_term bm = n->bm;
    int filter_dates = p->after != TR_NO_DATE || p->before != TR_NO_DATE;
    /* no deletions in the snapshot: no per-posting lookup */
    int check_deleted = tr_reader_stats(p->r)->deleted > 0;
    uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
    double sc[TR_BLOCK_DOCS];
    const int float_ok = pass_float_ok(w, &bm);
    const int avx2_fma = tq_cpu_avx2_fma();
    if (t->cap == 0) scoring = 0; /* k + offset = 0: only the count is wanted */
    if (!scoring && !check_deleted && !filter_dates && field == TR_FIELD_ANY && c->term) {
        /* counting every posting of a list with nothing to filter: its df */
        *count = c->term->df;
        return;
    }
    uint32_t target = c->doc;
    while (target != TR_DOC_END && !p->rc) {
        if (prune && t->n == t->cap) {
            uint32_t last;
            double bb = term_block_ub(p, n, target, &last);
            if (last == TR_DOC_END) break;
            if (bb <= t->h[0].score) {
                target = last == TR_DOC_END - 1 ? TR_DOC_END : last + 1;
                continue;
            }
        }
        if (cursor_seek(p, c, target) || c->doc == TR_DOC_END) break;
        uint32_t nb = c->n;
        if (nb == 0 || c->i >= nb || nb > TR_BLOCK_DOCS) break; /* a cursor that does not move: stop */
        uint32_t i0 = c->i;
        if (scoring && !check_deleted && !filter_dates && field == TR_FIELD_ANY) {
            /* the common case as straight loops over the block: lengths in
             * one call, scores into an array (the compiler vectorises it),
             * then the heap sees only what beats its minimum */
            uint32_t m = nb - i0;
            int heap_full = t->cap && t->n == t->cap && t->h[0].score >= 0;
            tr_reader_lengths(p->r, c->docs + i0, m, tl, bl);
#if TQ_HAVE_AVX2_CLONE
            if (heap_full && float_ok && avx2_fma) {
                /* the heap is full: the few postings that can enter, as
                 * bits (unless a count is past INT32_MAX: below), scored
                 * exactly (the doubles of block_scores) */
                uint64_t pass[TR_BLOCK_DOCS / 64];
                double min = t->h[0].score;
                if (!block_pass_bits_avx2(c->tf + i0, c->ttf + i0, tl, bl, m, w, &bm, min, pass)) {
                    for (uint32_t k = 0; k < TR_BLOCK_DOCS / 64; k++) {
                        for (uint64_t bits = pass[k]; bits; bits &= bits - 1)
                            push_passed(t, c, i0, k * 64 + (uint32_t)__builtin_ctzll(bits), tl, bl, w,
                                        &bm, &min);
                    }
                    cnt += m;
                    scored += m;
                    goto next_block;
                }
            }
#endif
            uint32_t big = 0;
            const uint32_t *restrict ftf = c->tf + i0;
            for (uint32_t i = 0; i < m; i++) big |= ftf[i] | tl[i] | bl[i];
            if (big <= INT32_MAX && heap_full && float_ok) {
                /* the heap is full: find the few postings that can enter
                 * without dividing, then score those exactly (the doubles
                 * of block_scores) */
                uint8_t pass[TR_BLOCK_DOCS];
                double min = t->h[0].score;
                uint32_t np = block_pass(c->tf + i0, c->ttf + i0, tl, bl, m, w, &bm, min, pass);
                for (uint32_t i = 0; i < m && np; i++) {
                    if (!pass[i]) continue;
                    np--;
                    push_passed(t, c, i0, i, tl, bl, w, &bm, &min);
                }
                cnt += m;
                scored += m;
                goto next_block;
            }
            if (big <= INT32_MAX) {
                /* every count fits an int32: the signed conversion gives the
                 * same doubles and vectorises far better than the unsigned */
#if TQ_HAVE_AVX2_CLONE
                if (__builtin_cpu_supports("avx2"))
                    block_scores_avx2(c->tf + i0, c->ttf + i0, tl, bl, m, w, &bm, sc);
                else
#endif
                    block_scores(c->tf + i0, c->ttf + i0, tl, bl, m, w, &bm, sc);
            } else {
                for (uint32_t i = 0; i < m; i++) {
                    uint32_t tf = c->tf[i0 + i], ttf = c->ttf[i0 + i];
                    if (ttf > tf) ttf = tf;
                    sc[i] = tr_bm25_score(&bm, tr_bm25_tf(TR_FIELD_ANY, w, tf, ttf),
                                          tr_bm25_dl(TR_FIELD_ANY, w, tl[i], bl[i]));
                }
            }
            uint32_t i = 0;
            for (; i < m && t->n < t->cap; i++) topk_push(t, c->docs[i0 + i], sc[i]);
            if (t->cap) {
                double min = t->h[0].score;
                for (; i < m; i++)
                    if (sc[i] > min) {
                        /* ties with the k-th (same score, higher doc) never enter */
                        topk_push(t, c->docs[i0 + i], sc[i]);
                        min = t->h[0].score;
                    }
            }
            cnt += m;
            scored += m;
        } else {
            if (scoring) tr_reader_lengths(p->r, c->docs + i0, nb - i0, tl, bl);
            for (uint32_t i = i0; i < nb; i++) {
                uint32_t d = c->docs[i];
                if (check_deleted && tr_reader_is_deleted(p->r, d)) continue;
                if (filter_dates && doc_filtered(p, d)) continue;
                uint32_t tf = c->tf[i], ttf = c->ttf[i];
                if (ttf > tf) ttf = tf;
                double tfp = tr_bm25_tf(field, w, tf, ttf);
                if (field != TR_FIELD_ANY && tfp == 0) continue;
                cnt++;
                if (!scoring) continue;
                scored++;
                double s = tr_bm25_score(&bm, tfp, tr_bm25_dl(field, w, tl[i - i0], bl[i - i0]));
                if (t->n < t->cap || s > t->h[0].score) topk_push(t, d, s);
            }
        }
    next_block:;
        uint32_t last = c->docs[nb - 1];
        if (last < target) break; /* corrupt order: never loop */
        target = last == TR_DOC_END - 1 ? TR_DOC_END : last + 1;
    }
    p->scored += scored;
    *count = cnt;
}

/* Set the bit of every posting of c in [lo, hi) (c->doc >= lo, hi - lo =
 * TQ_COUNT_WINDOW) and move c to its first posting >= hi. A failure or
 * corrupt order sets p->rc. */
/* The ones in n words: with the popcnt instruction where the CPU has it
 * (built without it, __builtin_popcountll is a call to libgcc's software
 * count, 3.9% of the q300 union COUNTs' instructions). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("popcnt"))) static uint64_t popcount_words_hw(const uint64_t *w, size_t n)
{
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) c += (uint64_t)__builtin_popcountll(w[i]);
    return c;
}
#endif

static uint64_t popcount_words(const uint64_t *w, size_t n)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("popcnt")) return popcount_words_hw(w, n);
#endif
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) c += (uint64_t)__builtin_popcountll(w[i]);
    return c;
}

static void window_mark(plan *p, tr_cursor *c, uint64_t *bits, uint64_t lo, uint64_t hi)
{
    while (c->doc < hi && !p->rc) {
        uint32_t j = c->i, nb = c->n;
        if (nb > TR_BLOCK_DOCS || j >= nb) { cursor_failed(p, c, TR_ECORRUPT); break; }
        for (; j < nb && c->docs[j] < hi; j++) {
            uint64_t x = c->docs[j] - lo;
            if (x >= TQ_COUNT_WINDOW) break; /* out of order: caught below */
            bits[x >> 6] |= (uint64_t)1 << (x & 63);
        }
        if (j < nb && c->docs[j] < hi) { cursor_failed(p, c, TR_ECORRUPT); break; }
        uint32_t to = j < nb ? c->docs[j] : c->docs[nb - 1] + 1;
        if (to <= c->doc || cursor_seek(p, c, to)) break; /* corrupt order, or failed */
    }
}

/* Count a conjunction whose rarest list has TQ_COUNT_DENSE or more
 * postings per block's span of ids: every block of every list would be
 * decoded by a leapfrog anyway, and its seeks (one per candidate per list)
 * cost more than marking every posting in a window's bitmap and ANDing. */
static uint64_t count_and_bitmap(plan *p, tr_cursor **cs, size_t n)
{
    uint64_t acc[TQ_COUNT_WINDOW / 64], bits[TQ_COUNT_WINDOW / 64], cnt = 0;
    uint64_t lo = (uint64_t)cs[0]->doc & ~(uint64_t)(TQ_COUNT_WINDOW - 1);
    while (!p->rc) {
        uint64_t hi = lo + TQ_COUNT_WINDOW;
        uint64_t next = 0; /* the furthest list's next doc: no match before it */
        memset(acc, 0, sizeof acc);
        for (size_t i = 0; i < n && !p->rc; i++) {
            tr_cursor *c = cs[i];
            if (c->doc < lo && cursor_seek(p, c, (uint32_t)lo)) break;
            uint64_t *b = i == 0 ? acc : bits;
            if (i > 0) memset(bits, 0, sizeof bits);
            window_mark(p, c, b, lo, hi);
            if (i > 0) {
                uint64_t any = 0;
                for (size_t w = 0; w < TQ_COUNT_WINDOW / 64; w++) any |= acc[w] &= bits[w];
                if (!any) { i = n; }
            }
            if (c->doc > next) next = c->doc;
        }
        if (p->rc) break;
        cnt += popcount_words(acc, TQ_COUNT_WINDOW / 64);
        for (size_t i = 0; i < n; i++)
            if (cs[i]->doc == TR_DOC_END) return cnt;
        /* jump over windows before the list that is furthest ahead */
        uint64_t nl = next & ~(uint64_t)(TQ_COUNT_WINDOW - 1);
        lo = nl > hi ? nl : hi;
    }
    return cnt;
}

/* Counting without scoring for a BOOL of plain terms over the whole
 * collection (no deletions, no date filter, no field restriction, no
 * exclusions): a leapfrog over the lists for a conjunction, a bitmap per
 * window of documents for a disjunction. Returns 0 when the root is not of
 * that shape (the caller counts the general way). */
static int count_terms_fast(plan *p, xnode *root, uint64_t *count)
{
    if (root->type != X_BOOL || root->nkids > TQ_COUNT_MAX_LISTS) return 0;
    if (tr_reader_stats(p->r)->deleted > 0 || p->after != TR_NO_DATE || p->before != TR_NO_DATE)
        return 0;
    int want = root->nmust ? TQ_MUST : TQ_SHOULD;
    tr_cursor *cs[TQ_COUNT_MAX_LISTS];
    size_t n = 0;
    for (size_t i = 0; i < root->nkids; i++) {
        xnode *k = root->kids[i];
        if (k->occur == TQ_MUST_NOT) return 0;
        if (k->occur != want) continue; /* SHOULD beside MUST: no effect on matching */
        if (k->type != X_TERM || k->field != TR_FIELD_ANY) return 0;
        cs[n++] = k->cur;
    }
    if (n == 0) return 0;
    /* a word given twice adds nothing to the set of matches: walk its
     * list once ('+to +be +or +not +to +be') */
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < u && cs[j]->term->term_id != cs[i]->term->term_id) j++;
        if (j == u) cs[u++] = cs[i];
    }
    n = u;
    uint64_t cnt = 0;
    if (want == TQ_MUST) {
        /* Nothing here reads tf: the blocks still to come are decoded
         * without it (the plan is freed after counting). */
        for (size_t i = 0; i < n; i++) tr_cursor_docs_only(cs[i]);
        /* rarest list leads; every other list seeks to its candidates */
        for (size_t i = 1; i < n; i++) {
            tr_cursor *c = cs[i];
            size_t j = i;
            while (j > 0 && cs[j - 1]->term->df > c->term->df) { cs[j] = cs[j - 1]; j--; }
            cs[j] = c;
        }
        uint64_t ndocs = tr_reader_stats(p->r)->docs;
        if (n > 1 && cs[0]->term->df * TR_BLOCK_DOCS >= TQ_COUNT_DENSE * ndocs) {
            *count = count_and_bitmap(p, cs, n);
            return 1;
        }
        uint32_t d = cs[0]->doc;
        while (d != TR_DOC_END && !p->rc) {
            size_t i = 0;
            for (; i < n; i++) {
                tr_cursor *c = cs[i];
                if (c->doc < d && cursor_seek(p, c, d)) return 1;
                if (c->doc != d) break;
            }
            if (i == n) {
                cnt++;
                if (d == TR_DOC_END - 1) break;
                d++;
            } else {
                d = cs[i]->doc;
            }
        }
    } else {
        uint64_t bits[TQ_COUNT_WINDOW / 64];
        for (uint64_t lo = TQ_FIRST_DOC & ~(uint64_t)(TQ_COUNT_WINDOW - 1); !p->rc;
             lo += TQ_COUNT_WINDOW) {
            uint64_t hi = lo + TQ_COUNT_WINDOW;
            uint32_t next = TR_DOC_END;
            memset(bits, 0, sizeof bits);
            for (size_t i = 0; i < n; i++) {
                tr_cursor *c = cs[i];
                window_mark(p, c, bits, lo, hi);
                if (c->doc < next) next = c->doc;
            }
            cnt += popcount_words(bits, TQ_COUNT_WINDOW / 64);
            if (next == TR_DOC_END) break;
            /* jump over windows no list has postings in */
            uint64_t nl = (uint64_t)next & ~(uint64_t)(TQ_COUNT_WINDOW - 1);
            if (nl > lo + TQ_COUNT_WINDOW) lo = nl - TQ_COUNT_WINDOW;
        }
    }
    *count = cnt;
    return 1;
}

static void run_exhaustive(plan *p, xnode *root, topk *t, uint64_t *count, int scoring)
{
    if (root->type == X_TERM) { run_single_term(p, root, t, count, scoring, 0); return; }
    if (!scoring && count_terms_fast(p, root, count)) return;
    uint64_t cnt = 0;
    uint32_t d = TQ_FIRST_DOC;
    while (!p->rc) {
        x_advance(p, root, d);
        if (root->doc == TR_DOC_END) break;
        d = root->doc;
        if (!doc_filtered(p, d) && x_confirm(p, root)) {
            cnt++;
            if (scoring) {
                load_dl(p, d);
                double s = x_score(p, root);
                topk_push(t, d, s);
            }
        }
        if (d == TR_DOC_END - 1) break;
        d++;
    }
    *count = cnt;
}

/* ---- pruned evaluation ------------------------------------------------------ */

/* Block bound of a term node at target (inflated), cached per block. Sets
 * *last to the block's last doc (TR_DOC_END: list exhausted). */
static double term_block_ub(plan *p, xnode *n, uint32_t target, uint32_t *last)
{
    tr_cursor *c = n->cur;
    int rc = tr_cursor_shallow(c, target);
    if (rc || c->rc) { cursor_failed(p, c, rc); *last = TR_DOC_END; return 0; }
    *last = c->blk_last;
    if (c->blk_last == TR_DOC_END) return 0;
    if (n->blk_last_cached != c->blk_last) {
        n->blk_last_cached = c->blk_last;
        n->blk_ub = bound_inflate(tr_bm25_bound(&p->bm, &n->bm, tr_cursor_block_bound(c)));
    }
    return n->blk_ub;
}

static int must_not_hit(plan *p, xnode *root, uint32_t d)
{
    for (size_t i = 0; i < root->nkids; i++) {
        xnode *k = root->kids[i];
        if (k->occur != TQ_MUST_NOT) continue;
        x_advance(p, k, d);
        if (k->doc == d && x_confirm(p, k)) return 1;
    }
    return 0;
}

/* Scratch per term clause of a flat root. */
typedef struct slot {
    xnode *n; double ub, sc; int present; size_t kid;
    /* run_maxscore_window: the slot that reads this clause's list (itself,
     * or an earlier clause of the same word, field and weight) and, on
     * that slot, how many clauses it serves */
    struct slot *prim; double mult;
    /* run_maxscore_window: the list has nothing that can enter before
     * this doc; its cursor is moved there only when it is next read */
    uint32_t skip_to;
    /* lengths of every doc in the cursor's decoded block, fetched in one
     * call when a candidate first needs them: the independent loads overlap,
     * where one lookup per candidate waits on memory each time */
    uint32_t lens_last, lens_n;
    uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
    /* the block's exact scores (0 where the term is absent from the field),
     * for skipping runs of a lone essential list's docs in bulk */
    uint32_t bsc_last, bsc_n;
    double bsc[TR_BLOCK_DOCS];
    /* window_gather's marked postings of a non-essential list's block */
    uint8_t hit_i[TR_BLOCK_DOCS];
    uint32_t hit_doc[TR_BLOCK_DOCS];
} slot;

/* Fill s->bsc for the cursor's decoded block (c->n checked by the caller). */
static void slot_block_scores(plan *p, slot *s)
{
    tr_cursor *c = s->n->cur;
    uint32_t last = c->docs[c->n - 1];
    if (s->bsc_n == c->n && s->bsc_last == last) return;
    if (s->lens_n != c->n || s->lens_last != last) {
        tr_reader_lengths(p->r, c->docs, c->n, s->tl, s->bl);
        s->lens_n = c->n;
        s->lens_last = last;
    }
    int field = s->n->field;
    double w = p->bm.w;
    s->bsc_n = c->n;
    s->bsc_last = last;
    if (field == TR_FIELD_ANY) {
        /* run_single_term's loop: the same doubles as term_score */
        uint32_t big = 0;
        for (uint32_t i = 0; i < c->n; i++) big |= c->tf[i] | s->tl[i] | s->bl[i];
        if (big <= INT32_MAX) {
#if TQ_HAVE_AVX2_CLONE
            if (__builtin_cpu_supports("avx2"))
                block_scores_avx2(c->tf, c->ttf, s->tl, s->bl, c->n, w, &s->n->bm, s->bsc);
            else
#endif
                block_scores(c->tf, c->ttf, s->tl, s->bl, c->n, w, &s->n->bm, s->bsc);
            return;
        }
    }
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t tf = c->tf[i], ttf = c->ttf[i];
        if (ttf > tf) ttf = tf;
        double tfp = tr_bm25_tf(field, w, tf, ttf);
        s->bsc[i] = tfp > 0 ? tr_bm25_score(&s->n->bm, tfp, tr_bm25_dl(field, w, s->tl[i], s->bl[i])) : 0.0;
    }
}

/* Lengths of candidate d from the first essential list on d (ord[from..nt)). */
static void slot_load_dl(plan *p, slot **ord, size_t from, size_t nt, uint32_t d)
{
    if (p->dl_doc == d) return;
    for (size_t j = from; j < nt; j++) {
        slot *s = ord[j];
        tr_cursor *c = s->n->cur;
        if (c->doc != d || c->n == 0 || c->n > TR_BLOCK_DOCS || c->i >= c->n) continue;
        if (s->lens_n != c->n || s->lens_last != c->docs[c->n - 1]) {
            tr_reader_lengths(p->r, c->docs, c->n, s->tl, s->bl);
            s->lens_n = c->n;
            s->lens_last = c->docs[c->n - 1];
        }
        p->dl_doc = d;
        p->tl = s->tl[c->i];
        p->bl = s->bl[c->i];
        return;
    }
    load_dl(p, d);
}

static int cmp_slot_ub(const void *a, const void *b)
{
    const slot *x = *(slot *const *)a, *y = *(slot *const *)b;
    return (x->ub > y->ub) - (x->ub < y->ub);
}

/* The first doc the essential lists ord[first..nt) may still hold: each
 * one's cursor doc, or its skip_to (run_maxscore_window) where further. */
static uint32_t ess_min_doc(slot *const *ord, size_t first, size_t nt)
{
    uint32_t d = TR_DOC_END;
    for (size_t j = first; j < nt; j++) {
        uint32_t c = ord[j]->n->cur->doc, k = ord[j]->skip_to;
        c = c > k ? c : k;
        if (c < d) d = c;
    }
    return d;
}

/* The clauses of a disjunction (the root's SHOULD kids, or the root
 * itself) into sl. */
static void slots_fill(xnode *root, slot *sl)
{
    if (root->type == X_TERM) {
        sl[0].n = root;
        return;
    }
    size_t j = 0;
    for (size_t i = 0; i < root->nkids; i++)
        if (root->kids[i]->occur == TQ_SHOULD) { sl[j].n = root->kids[i]; sl[j].kid = i; j++; }
}

/* The lists of a disjunction into sl, and ord sorted by their upper
 * bounds, smallest first. */
static void slots_init(xnode *root, slot *sl, slot **ord, size_t nt)
{
    slots_fill(root, sl);
    for (size_t i = 0; i < nt; i++) { sl[i].ub = sl[i].n->max_score; ord[i] = &sl[i]; }
    qsort(ord, nt, sizeof *ord, cmp_slot_ub);
}

/* Do two term clauses score every document the same (one word, field and
 * weight)? */
static int same_list(const xnode *a, const xnode *b)
{
    const tr_term_info *x = a->cur->term, *y = b->cur->term;
    return x && y && x->term_id == y->term_id && a->field == b->field && a->bm.num == b->bm.num &&
           a->bm.ca == b->bm.ca && a->bm.cb == b->bm.cb;
}

/* slots_init for run_maxscore_window, with a word repeated in the union
 * ('to be or not to be') read once: clauses of the same list, field and
 * weight score the same doubles, so one slot reads the list for all of them
 * (mult: how many; its bound their bounds' sum) and each clause takes that
 * slot's score in its own place of the sum. ord: the reading slots by
 * bound, smallest first; returns how many. */
static size_t slots_group(xnode *root, slot *sl, slot **ord, size_t nk)
{
    slots_fill(root, sl);
    size_t nt = 0;
    for (size_t i = 0; i < nk; i++) {
        sl[i].prim = &sl[i];
        sl[i].mult = 1.0;
        sl[i].ub = sl[i].n->max_score;
        for (size_t j = 0; j < i; j++)
            if (sl[j].prim == &sl[j] && same_list(sl[i].n, sl[j].n)) {
                sl[i].prim = &sl[j];
                sl[j].mult += 1.0;
                sl[j].ub += sl[i].n->max_score;
                break;
            }
        if (sl[i].prim == &sl[i]) ord[nt++] = &sl[i];
    }
    qsort(ord, nt, sizeof *ord, cmp_slot_ub);
    return nt;
}

/* MaxScore over a disjunction of terms (the root's SHOULD kids, or the root
 * itself), with block-max bounds on both essential and non-essential lists. */
static int run_maxscore(plan *p, xnode *root, topk *t)
{
    size_t nt = root->type == X_TERM ? 1 : root->nshould;
    slot *sl = calloc(nt, sizeof *sl);
    slot **ord = calloc(nt, sizeof *ord);
    double *cum = calloc(nt, sizeof *cum);
    if (!sl || !ord || !cum) { free(sl); free(ord); free(cum); return TR_ENOMEM; }
    slots_init(root, sl, ord, nt);
    for (size_t i = 0; i < nt; i++) cum[i] = (i ? cum[i - 1] : 0.0) + ord[i]->ub;
    size_t first_ess = 0, chk_ess = 0;
    double thr = topk_threshold(t), chk_thr = -INFINITY;
    uint32_t chk_end = 0;
    while (!p->rc) {
        while (first_ess < nt && cum[first_ess] <= thr) first_ess++;
        if (first_ess == nt) break;
        double ness_ub = first_ess ? cum[first_ess - 1] : 0.0;
        uint32_t d = ess_min_doc(ord, first_ess, nt);
        if (d == TR_DOC_END) break;
        if (thr > -INFINITY && !(d <= chk_end && thr == chk_thr && first_ess == chk_ess)) {
            /* Block-max over the essential lists, for the docs [d, end]:
             * a list on d adds its current block's bound and ends the range
             * at its block's end; a list past d has no posting before its
             * doc, so it adds nothing and ends the range just before it.
             * If even that sum cannot beat the threshold, skip the range. */
            double bub = 0.0;
            uint32_t end = TR_DOC_END - 1;
            /* non-essential lists add their block bound over the block
             * that holds d (or nothing once exhausted): tighter than their
             * list bounds, at the price of a shorter range */
            for (size_t j = 0; j < first_ess; j++) {
                uint32_t last;
                double bb = term_block_ub(p, ord[j]->n, d, &last);
                if (last == TR_DOC_END) continue;
                bub += bb;
                if (last < end) end = last;
            }
            for (size_t j = first_ess; j < nt; j++) {
                tr_cursor *c = ord[j]->n->cur;
                if (c->doc == d) {
                    uint32_t last;
                    bub += term_block_ub(p, ord[j]->n, d, &last);
                    if (last < end) end = last;
                } else if (c->doc - 1 < end) {
                    end = c->doc - 1;
                }
            }
            if (bub <= thr) {
                uint32_t to = end + 1;
                for (size_t j = first_ess; j < nt; j++) cursor_seek(p, ord[j]->n->cur, to);
                continue;
            }
            /* the range cannot be skipped at this threshold: do not ask
             * again for the docs up to its end until the threshold moves */
            chk_end = end;
            chk_thr = thr;
            chk_ess = first_ess;
        }
        if (thr > -INFINITY) {
            /* One essential list alone on d: its docs before the next doc
             * of any other essential list can score at most their own
             * exact score plus the non-essential bounds; skip in one seek
             * every such doc that cannot beat the threshold. */
            size_t on = 0, jon = 0;
            uint32_t other = TR_DOC_END;
            for (size_t j = first_ess; j < nt; j++) {
                uint32_t cd = ord[j]->n->cur->doc;
                if (cd == d) { on++; jon = j; }
                else if (cd < other) other = cd;
            }
            tr_cursor *c = ord[jon]->n->cur;
            if (on == 1 && c->n > 0 && c->n <= TR_BLOCK_DOCS && c->i < c->n && c->docs[c->i] == d) {
                slot *s = ord[jon];
                slot_block_scores(p, s);
                uint32_t i = c->i;
                while (i < c->n && c->docs[i] < other && bound_inflate(s->bsc[i]) + ness_ub <= thr) i++;
                if (i > c->i) {
                    uint32_t to = i < c->n ? c->docs[i] : c->docs[c->n - 1];
                    if (i == c->n) to = to >= TR_DOC_END - 1 ? TR_DOC_END : to + 1;
                    if (to <= d) to = d + 1; /* out-of-order docs: still move on */
                    cursor_seek(p, c, to);
                    continue;
                }
            }
        }
        int skip = 0;
        if (doc_filtered(p, d)) skip = 1;
        double partial = 0.0;
        int any = 0;
        if (!skip && thr > -INFINITY) {
            /* a bound that needs no document length (dl' = 0 maximises the
             * score): most candidates stop here, before the norms lookup,
             * which is a cache miss on a large collection */
            double ubn = 0.0;
            for (size_t j = first_ess; j < nt; j++) {
                slot *s = ord[j];
                if (s->n->cur->doc == d && term_present(s->n)) ubn += term_ub_nolen(p, s->n);
            }
            if (bound_inflate(ubn) + ness_ub <= thr) skip = 1;
            if (!skip && first_ess) {
                /* the non-essential lists' block bounds at d, still before
                 * the lengths: they are needed for the probes anyway */
                double nb = 0.0;
                for (size_t jj = 0; jj < first_ess; jj++) {
                    uint32_t last;
                    double bb = term_block_ub(p, ord[jj]->n, d, &last);
                    if (last != TR_DOC_END) nb += bb;
                }
                if (bound_inflate(ubn) + nb <= thr) skip = 1;
            }
        }
        if (!skip) {
            slot_load_dl(p, ord, first_ess, nt, d);
            for (size_t j = first_ess; j < nt; j++) {
                slot *s = ord[j];
                s->present = s->n->cur->doc == d && term_present(s->n);
                if (s->present) { s->sc = term_score(p, s->n); partial += s->sc; any = 1; }
            }
            if (!any) skip = 1;
        }
        if (!skip) {
            double bound = partial + ness_ub;
            for (size_t jj = first_ess; jj-- > 0;) {
                if (bound <= thr) { skip = 1; break; }
                slot *s = ord[jj];
                s->present = 0;
                uint32_t last;
                double bb = term_block_ub(p, s->n, d, &last);
                if (last == TR_DOC_END) { bound -= s->ub; continue; }
                if (bound - s->ub + bb <= thr) { skip = 1; break; }
                cursor_seek(p, s->n->cur, d);
                if (s->n->cur->doc == d && term_present(s->n)) {
                    s->present = 1;
                    s->sc = term_score(p, s->n);
                    bound = bound - s->ub + s->sc;
                } else {
                    bound -= s->ub;
                }
            }
        }
        if (!skip && !must_not_hit(p, root, d)) {
            double score = 0.0;
            if (root->type == X_TERM) score = sl[0].sc;
            else
                for (size_t i = 0; i < nt; i++)
                    if (sl[i].present) score += sl[i].sc;
            topk_push(t, d, score);
            thr = topk_threshold(t);
        }
        for (size_t j = first_ess; j < nt; j++)
            if (ord[j]->n->cur->doc == d) cursor_seek(p, ord[j]->n->cur, d + 1);
        for (size_t j = 0; j < nt; j++) sl[j].present = 0;
    }
    free(sl); free(ord); free(cum);
    return p->rc;
}

/* Windowed MaxScore: the same essential / non-essential split and the same
 * probes as run_maxscore, but the essential lists are read a window of
 * documents at a time. Each essential list's postings in the window are
 * scored from its block's score array (one length fetch and one vectorisable
 * loop per block) and summed into a per-document accumulator; only the
 * documents whose sum plus the non-essential bounds can beat the threshold
 * are looked at one by one. A window ends with the essential lists' current
 * blocks, so one sum of their block bounds says whether the whole window can
 * be skipped before anything in it is decoded. Doc-at-a-time control flow
 * per essential posting was most of a long union's time ('where is nick the
 * runner up from american top model': 70k candidate steps).
 *
 * Two refinements cut the one-by-one work. A non-essential list whose df is
 * at most TQ_GATHER_DF_RATIO times the essential lists' (gathered) is read
 * into the window too: probing it for each candidate cost more than reading
 * it, and its exact scores in the accumulator leave far fewer candidates
 * ('development of four year old boys': 43k candidates and 16k probes into
 * 'develop' before, 0.6k after). It is read after the essential lists and
 * keeps only the documents they marked: a document in none of them cannot
 * enter (that is what non-essential means), so only those postings are
 * scored (their lengths fetched in one call per block) and it marks
 * nothing, which also keeps its other postings out of the survivor walk
 * (q300 unions: 9% fewer instructions, 0.84x CPU time; such lists were most
 * of the postings read by the longest unions, 100k of 141k for 'jones
 * family history new york'). And a non-essential list whose blocks cover
 * at least TQ_TIGHT_SPAN doc ids on average also ends the window with its
 * current block, and adds that block's bound instead of its list bound to
 * the window's bounds (shorter windows, tighter bounds).
 *
 * Once the threshold is above the bound of what the window does not read
 * (nearly always), the accumulator is the marks (a non-zero sum) and the
 * survivors come from one counted pass over the marking lists' pooled
 * postings (pool_survivors) instead of a walk of the bit words: most words
 * hold one or two bits, so the walk's inner loop ended in a branch miss
 * nearly every document (q300 unions: 0.92x instructions, 0.85x CPU time).
 *
 * Measured and dropped (q300 unions, callgrind instructions in tq_search,
 * against 624-632M for the code they changed): windows that run on past
 * the essential lists' block ends under those lists' list bounds, 656M
 * (49k windows for 81k, but 1.4x the essential postings: fewer lists read
 * marked-only); each essential list's exact maximum in the window from its
 * block scores, for tighter skips and marking, 678M (13k more windows
 * skipped, but 6.4k more blocks scored, and the windows without survivors
 * owe it to sums, not maxima: 50k of 81k windows have no survivor though
 * their lists' maxima add up past the threshold); a survivor pass under
 * the marked-only lists' bounds before reading them, 651M (their blocks are
 * decoded anyway: a window is shorter than their blocks); every probed
 * list's block bound at a candidate before the first probe, 657M (2% fewer
 * probe decodes).
 *
 * Exactness: a document's score is summed in kid order from the same doubles
 * as every other path (the block score array is tr_bm25_score of the same
 * tf' and dl'). A list that becomes non-essential in mid-window keeps being
 * read as essential to the window's end, which only costs work; a
 * non-essential list read into a window adds its exact scores where its
 * bound stood. */
#ifndef TQ_WINDOW
#define TQ_WINDOW 16384u             /* docs per window, at most (q300 unions: 2,048 to 65,536 measured) */
#endif
#ifndef TQ_GATHER_DF_RATIO
#define TQ_GATHER_DF_RATIO 2.0       /* q300 unions: 0.5x, 1x, 2x, 4x measured; 2x best */
#endif
#ifndef TQ_TIGHT_SPAN
/* doc ids a block: a list is bounded per block only when its blocks are as
 * long as a window (at 4,096-doc windows 2,000 was best of 500, 1,000 and
 * 2,000; at 16,384, the q300 unions: 2,000 535.8M instructions, 4,000
 * 530.7M, 8,000 528.4M, 16,000 527.6M, never 527.4M) */
#define TQ_TIGHT_SPAN ((double)TQ_WINDOW)
#endif
/* one bit of a window's summary word per TQ_TOUCH_WORDS words of bits (64
 * documents each): one word up to 4,096 docs, more past it; offsets in
 * the pool are uint16_t, so 65,536 docs at most */
#define TQ_TOUCH_WORDS (TQ_WINDOW > 4096u ? TQ_WINDOW / 4096u : 1u)
_Static_assert(TQ_WINDOW % 64 == 0 && TQ_WINDOW <= 65536u &&
               (TQ_WINDOW <= 4096u || (TQ_WINDOW % 4096u == 0 && (TQ_TOUCH_WORDS & (TQ_TOUCH_WORDS - 1)) == 0)),
               "TQ_WINDOW: 64 to 4,096 docs in steps of 64, or 4,096 times a power of two up to 65,536");
#define TQ_WINDOW_MAX_LISTS 64       /* past this many lists: run_maxscore */
/* pool_survivors' survivors are put back in doc order by insertion up to
 * this many, through the bits past it (a low threshold lets many pass) */
#define TQ_SURV_SORT_MAX 32u

/* A list in the current window: its bound there, how it is read, and where
 * its gathered postings are (read only for the few documents that enter). */
typedef struct wlist {
    uint32_t first, cnt, at;         /* its postings in the window pool: pool index
                                      * of the first, how many; lookup cursor */
    double bb;                       /* bound over the window (inflated) */
    int marked;                      /* essential, read marked-only in this window */
    int gather;                      /* read into the window (essential or not) */
    int tight;                       /* non-essential: bounded per block, not per list */
    uint64_t df;
} wlist;

/* The window's gathered postings, list after list: window offset and score
 * (a few hundred a window; grows by doubling, so a query allocates little) */
typedef struct wpool {
    uint16_t *off;
    double *sc;
    uint32_t n, cap;
} wpool;

static int wpool_reserve(wpool *wp, uint32_t more)
{
    if (wp->cap - wp->n >= more) return 0;
    uint32_t cap = wp->cap ? wp->cap : 1024;
    while (cap - wp->n < more) cap *= 2;
    uint16_t *o = realloc(wp->off, cap * sizeof *o);
    if (!o) return TR_ENOMEM;
    wp->off = o;
    double *sc = realloc(wp->sc, cap * sizeof *sc);
    if (!sc) return TR_ENOMEM;
    wp->sc = sc;
    wp->cap = cap;
    return 0;
}

/* The end of a decoded block's postings in a window: the first index from i
 * on whose doc is past wend (docs ascend within a block), or n. Most blocks
 * end inside the window; the others are found by halving. */
static inline uint32_t window_block_end(const uint32_t *restrict docs, uint32_t i, uint32_t n,
                                        uint64_t wend)
{
    if (docs[n - 1] <= wend) return n;
    if (docs[i] > wend) return i;
    /* docs[lo] <= wend < docs[lo + len] (the caller's doc is in the
     * window): halve without a branch on the data */
    uint32_t lo = i, len = n - 1 - i;
    while (len > 1) {
        uint32_t half = len / 2;
        lo = docs[lo + half] <= wend ? lo + half : lo;
        len -= half;
    }
    return lo + 1;
}

/* The postings [i, ie) of a decoded block whose documents are marked in
 * the window's bits (d0 its first doc; every doc in [d0, d0 + TQ_WINDOW)):
 * their block indexes into hit_i and docs into hit_doc, in order; returns
 * how many. The marked-only lists' filter: one test a posting, without a
 * branch (an AVX2 version, 8 postings a gather of the bit words, ran 0.92x
 * the instructions of the q300 unions but 1.016x the CPU time). */
static uint32_t marked_hits(const uint32_t *restrict docs, uint32_t i, uint32_t ie, uint32_t d0,
                            const uint64_t *restrict bits, uint8_t *restrict hit_i,
                            uint32_t *restrict hit_doc)
{
    uint32_t nh = 0;
    for (; i < ie; i++) {
        uint32_t o = docs[i] - d0;
        hit_i[nh] = (uint8_t)i;
        hit_doc[nh] = docs[i];
        nh += (uint32_t)(bits[o >> 6] >> (o & 63) & 1);
    }
    return nh;
}

/* marked_hits with the accumulator as the mark: a document is marked when
 * its sum is not 0. Scores are >= 0 (idf > 0), so that is every document a
 * marking list has, except one that all of them score 0 (a title-only
 * word at title weight 0): its score is then the marked-only lists' alone,
 * at most their bounds, which fit under the threshold by the choice of
 * those lists, so it cannot enter and need not be seen. */
static uint32_t marked_hits_acc(const uint32_t *restrict docs, uint32_t i, uint32_t ie, uint32_t d0,
                                const double *restrict acc, uint8_t *restrict hit_i,
                                uint32_t *restrict hit_doc)
{
    uint32_t nh = 0;
    for (; i < ie; i++) {
        uint32_t o = docs[i] - d0;
        hit_i[nh] = (uint8_t)i;
        hit_doc[nh] = docs[i];
        nh += acc[o] != 0.0;
    }
    return nh;
}

/* Read list s's postings in [d0, wend] into the pool (w says where) and the
 * accumulator: scores from the block score arrays, one length fetch and one
 * vectorisable loop per block. marked_only (a non-essential list, read after
 * the essential ones): only the postings of documents already marked in
 * bits, scored one by one, and nothing marked. Returns how many postings it
 * took. */
static uint32_t window_gather(plan *p, slot *s, wlist *w, wpool *wp, uint32_t d0, uint64_t wend,
                              uint64_t *restrict bits, double *restrict acc, uint64_t *touched,
                              int marked_only, int use_bits)
{
    tr_cursor *c = s->n->cur;
    int field = s->n->field;
    uint32_t cnt = wp->n;
    uint64_t tw = *touched;
    w->first = wp->n;
    w->cnt = 0;
    /* a list skipped lazily (skip_to) is moved to the window now */
    if (c->doc < d0 && cursor_seek(p, c, d0)) return 0;
    while (c->doc <= wend) {
        if (c->n == 0 || c->n > TR_BLOCK_DOCS || c->i >= c->n) { cursor_failed(p, c, TR_ECORRUPT); break; }
        wp->n = cnt;
        if (wpool_reserve(wp, TR_BLOCK_DOCS)) { if (!p->rc) p->rc = TR_ENOMEM; break; }
        uint16_t *restrict off = wp->off;
        double *restrict wsc = wp->sc;
        /* the block's postings in the window, [i, ie), found before the
         * loops: they run on a count, with the doc array in a register
         * (the stores below may alias the cursor's fields otherwise) */
        const uint32_t *restrict docs = c->docs;
        uint32_t i = c->i, nb = c->n, ie = window_block_end(docs, i, nb, wend);
        if (marked_only) {
            /* a non-essential list: only the documents that an essential
             * list has marked can enter, so its postings are kept for
             * those alone, mark nothing, and only those are scored (their
             * lengths fetched in one call) */
            uint32_t nh = use_bits ? marked_hits(docs, i, ie, d0, bits, s->hit_i, s->hit_doc)
                                   : marked_hits_acc(docs, i, ie, d0, acc, s->hit_i, s->hit_doc);
            i = ie;
            if (nh) tr_reader_lengths(p->r, s->hit_doc, nh, s->tl, s->bl);
            s->lens_n = 0; /* tl, bl no longer hold the block's lengths */
            for (uint32_t h = 0; h < nh; h++) {
                uint32_t k = s->hit_i[h];
                double tfp = tfp_of(p, field, c->tf[k], c->ttf[k]);
                if (!(tfp > 0)) continue; /* absent from the field */
                uint32_t o = docs[k] - d0;
                double sc = tr_bm25_score(&s->n->bm, tfp, tr_bm25_dl(field, p->bm.w, s->tl[h], s->bl[h]));
                off[cnt] = (uint16_t)o;
                wsc[cnt++] = sc;
                acc[o] += sc;
            }
        } else {
            slot_block_scores(p, s);
            const double *restrict bsc = s->bsc;
            if (field == TR_FIELD_ANY && !use_bits) {
                for (; i < ie; i++) {
                    uint32_t o = docs[i] - d0;
                    double sc = bsc[i];
                    off[cnt] = (uint16_t)o;
                    wsc[cnt++] = sc;
                    acc[o] += sc;
                }
            }
            if (field == TR_FIELD_ANY) {
                /* the usual case, without the field test's loads */
                for (; i < ie; i++) {
                    uint32_t o = docs[i] - d0;
                    double sc = bsc[i];
                    off[cnt] = (uint16_t)o;
                    wsc[cnt++] = sc;
                    bits[o >> 6] |= (uint64_t)1 << (o & 63);
                    tw |= (uint64_t)1 << ((o >> 6) / TQ_TOUCH_WORDS);
                    acc[o] += sc;
                }
            }
            const uint32_t *restrict tf = c->tf, *restrict ttf = c->ttf;
            for (; i < ie; i++) {
                uint32_t f = tf[i], ft = ttf[i];
                if (ft > f) ft = f;
                if (field == TR_FIELD_TITLE ? ft == 0 : field == TR_FIELD_BODY ? f == ft : 0) continue;
                uint32_t o = docs[i] - d0; /* < TQ_WINDOW: docs ascend within [d0, wend] */
                double sc = bsc[i];
                off[cnt] = (uint16_t)o;
                wsc[cnt++] = sc;
                /* no branch on whether o was seen: acc is zero outside the
                 * window's postings (window_survivors clears it) */
                if (use_bits) {
                    bits[o >> 6] |= (uint64_t)1 << (o & 63);
                    tw |= (uint64_t)1 << ((o >> 6) / TQ_TOUCH_WORDS);
                }
                acc[o] += sc;
            }
        }
        if (i < nb) {
            /* the window ends inside the block: i is the next posting */
            int rc = tr_cursor_seek_index(c, i);
            if (rc || c->rc) { cursor_failed(p, c, rc); break; }
            continue;
        }
        uint32_t to = docs[nb - 1] >= TR_DOC_END - 1 ? TR_DOC_END : docs[nb - 1] + 1;
        if (to <= c->doc) { cursor_failed(p, c, TR_ECORRUPT); break; }
        if (cursor_seek(p, c, to)) break;
    }
    wp->n = cnt;
    w->cnt = cnt - w->first;
    *touched = tw;
    return w->cnt;
}

/* The window's documents whose partial sum may pass thr (a superset of
 * those that pass the candidate test of the loop below, which that loop
 * applies exactly), in doc order, into out with their sums
 * in part (TQ_WINDOW entries each): a tight loop apart from the big one, so
 * that the bit walk stays in registers and the few that pass cost no branch
 * miss. It also clears the window's accumulator and bits behind it (the
 * words it has just read are in cache: a separate pass over the pool's
 * offsets was a scattered store per posting, ~3% of the q300 unions). */
/* bound_inflate(a) + lz_ub > thr solved for a once, lowered by far more
 * than its rounding error: one comparison a document, and every document
 * that passes the exact test passes this one (the survivor loop applies the
 * exact test; thr = -inf: lim = -inf, all pass). */
static double survivor_limit(double lz_ub, double thr)
{
    double lim = (thr - lz_ub - TQ_BOUND_ABS_SLACK) / (1.0 + TQ_BOUND_REL_SLACK);
    return lim - 1e-12 * (fabs(thr) + fabs(lz_ub) + 1.0);
}

static uint32_t window_survivors(uint64_t *restrict bits, uint64_t touched,
                                 double *restrict acc, double lz_ub, double thr,
                                 uint16_t *restrict out, double *restrict part)
{
    double lim = survivor_limit(lz_ub, thr);
    uint32_t n = 0;
    for (uint64_t tw = touched; tw; tw &= tw - 1) {
        uint32_t w0 = (uint32_t)__builtin_ctzll(tw) * TQ_TOUCH_WORDS;
        for (uint32_t wi = w0; wi < w0 + TQ_TOUCH_WORDS; wi++) {
            for (uint64_t m = bits[wi]; m; m &= m - 1) {
                uint32_t o = wi * 64 + (uint32_t)__builtin_ctzll(m);
                double a = acc[o];
                acc[o] = 0.0;
                out[n] = (uint16_t)o;
                part[n] = a;
                n += a > lim;
            }
            bits[wi] = 0;
        }
    }
    return n;
}

/* window_survivors over the pool's first npool entries (the postings of the
 * lists that marked bits, each list's in doc order) instead of the bits: one
 * counted loop with no branch on the data, where the bit walk's inner loop
 * ends unpredictably after one or two bits of most words. A document that
 * is in several of those lists is met once per list: the first meeting takes
 * its sum and clears it, the others read 0, which cannot pass as lim >= 0
 * (the caller's precondition). The survivors come out in list order, not
 * doc order; the caller sorts them. Clears acc behind it; not bits. */
static uint32_t pool_survivors(const uint16_t *restrict off, uint32_t npool, double *restrict acc,
                               double lim, uint16_t *restrict out, double *restrict part)
{
    uint32_t n = 0;
    for (uint32_t q = 0; q < npool; q++) {
        uint32_t o = off[q];
        double a = acc[o];
        acc[o] = 0.0;
        out[n] = (uint16_t)o;
        part[n] = a;
        n += a > lim;
    }
    return n;
}

/* An upper bound (inflated) on a term's score in document d, from the
 * bound points of the pointer block (the one that would hold d) and d's
 * lengths in p->tl, p->bl, before the block is decoded: every posting of
 * the block has a point with tf >= its tf and dl <= its dl (title + body
 * terms, stored rounded down), so d's tf is at most the largest tf among
 * the points with dl <= d's dl, and when no point has, d is not in the
 * block: -1. INFINITY when the points make no claim (another field, a
 * saturated tf, no points). */
static double term_doc_ub(const plan *p, const xnode *n, const tr_bound *bd)
{
    if (n->field != TR_FIELD_ANY || !(n->bm.num > 0) || bd->npoints == 0) return INFINITY;
    uint64_t dl = (uint64_t)p->tl + p->bl;
    unsigned tfm = 0, any = 0;
    for (unsigned k = 0; k < bd->npoints && k < TR_BOUND_POINTS; k++)
        if (bd->pt[k].dl <= dl) {
            any = 1;
            if (bd->pt[k].tf > tfm) tfm = bd->pt[k].tf;
        }
    if (!any) return -1.0;
    if (tfm >= TR_SAT16) return INFINITY;
    /* tf' = w ttf + (tf - ttf) with ttf <= min(tf, max_ttf) */
    double w = p->bm.w, tfp = tfm;
    if (w > 1.0) tfp += (w - 1.0) * (double)(bd->max_ttf < tfm ? bd->max_ttf : tfm);
    return bound_inflate(tr_bm25_score(&n->bm, tfp, tr_bm25_dl(TR_FIELD_ANY, w, p->tl, p->bl)));
}

/* A list read for mult > 1 clauses: the window_gather it has just done
 * added each posting's score once to acc; add the other clauses' share
 * (acc sums only select candidates; their scores are summed exactly from
 * the pool). */
static void window_mult(const slot *s, const wlist *w, const wpool *wp, double *restrict acc)
{
    double more = s->mult - 1.0;
    for (uint32_t q = w->first; q < w->first + w->cnt; q++) acc[wp->off[q]] += more * wp->sc[q];
}

/* A thread's window accumulator and survivor arrays, kept from one union
 * to the next (4.3 KB a 1,024 docs of TQ_WINDOW: 288 KB at 16,384; freed
 * when the thread exits, or with the process). Allocated and zeroed per query,
 * the accumulator cost 0.97x the time of the q300 unions at 16,384 docs
 * (calloc, and a trimmed heap faulted back in). It is zero whenever no
 * union runs: zero when allocated, and every window clears the sums it
 * made (window_survivors through the bits, or pool_survivors through the
 * marking lists' postings, which hold every document a sum was made for:
 * a list read marked-only adds only to marked documents); a union that
 * fails clears it whole. */
typedef struct wscratch {
    double acc[TQ_WINDOW];
    double surv_part[TQ_WINDOW];
    uint16_t surv[TQ_WINDOW];
} wscratch;

static _Thread_local wscratch *window_scratch;
static pthread_key_t window_scratch_key;   /* its destructor frees a thread's */
static pthread_once_t window_scratch_once = PTHREAD_ONCE_INIT;
static int window_scratch_keyed;

static void window_scratch_key_make(void)
{
    window_scratch_keyed = pthread_key_create(&window_scratch_key, free) == 0;
}

static wscratch *window_scratch_get(void)
{
    if (window_scratch) return window_scratch;
    pthread_once(&window_scratch_once, window_scratch_key_make);
    wscratch *ws = calloc(1, sizeof *ws);
    /* freed at the thread's exit (without a key: with the process) */
    if (ws && window_scratch_keyed) (void)pthread_setspecific(window_scratch_key, ws);
    return window_scratch = ws;
}

/* Move an essential list past a window nothing of which can enter: a list
 * with long blocks (tight: a block spans a window or more) is sought there
 * (one decode, and the next window starts at its next posting); a denser
 * one only remembers the doc (skip_to), and is decoded there when a
 * window reads it: the next windows are often skipped too. */
static void window_skip(plan *p, slot *s, int tight, uint32_t to)
{
    if (tight) cursor_seek(p, s->n->cur, to);
    else if (s->skip_to < to) s->skip_to = to;
}

/* A lower bound on a union's final k-th score before it starts: the k-th
 * best score of its rarest word with k documents, alone (each of those k
 * documents scores at least that much in the union, scores being >= 0),
 * found by run_single_term with block-max pruning on a fresh cursor (the
 * union's own cursors only move forward), so deleted and date-filtered
 * documents are left out as in the union; a union with NOT clauses gets
 * none (their documents may be among those k). It is lowered by far more
 * than the rounding of a sum in another order, so that a document whose
 * score equals the final k-th is never pruned by it; -inf when no word
 * qualifies. On the q300 union TOP_10 lines (callgrind): 539.8M -> 512.0M
 * instructions, TOP_100 969.2M -> 886.8M; with every word's floor given
 * free the unions would read 0.913x, but computing more than the rarest
 * word's cost more than it saved (the two rarest: 521.9M), as did words
 * of more postings (the rarest of at most 1,024: 517.2M; 16,384: 515.7M). */
#ifndef TQ_FLOOR_MAX_DF
#define TQ_FLOOR_MAX_DF 4096u
#endif
#define TQ_FLOOR_MAX_K 100u
static double union_floor(plan *p, xnode *root, slot **ord, size_t nt, size_t k)
{
    if (k == 0 || k > TQ_FLOOR_MAX_K || (root->type != X_TERM && root->nkids > root->nshould))
        return -INFINITY;
    slot *rare = NULL;
    for (size_t j = 0; j < nt; j++) {
        xnode *n = ord[j]->n;
        const tr_term_info *ti = n->cur ? n->cur->term : NULL;
        if (n->type != X_TERM || !ti || ti->df < k || ti->df > TQ_FLOOR_MAX_DF) continue;
        if (!rare || ti->df < rare->n->cur->term->df) rare = ord[j];
    }
    if (!rare) return -INFINITY;
    tq_hit h[TQ_FLOOR_MAX_K];
    topk tk = { h, 0, k };
    uint64_t scored = p->scored, unused;
    tr_cursor c;
    int rc = tr_cursor_open(p->r, rare->n->cur->term, 0, p->o->verify, &c);
    if (!rc && !c.rc) {
        xnode alone = *rare->n;
        alone.cur = &c;
        alone.blk_last_cached = 0;
        run_single_term(p, &alone, &tk, &unused, 1, 1);
    }
    tr_cursor_close(&c);
    p->scored = scored;
    if (rc || p->rc) {
        /* the union reads the same list, and reports it by name */
        p->rc = 0;
        return -INFINITY;
    }
    if (tk.n < k) return -INFINITY;
    double f = rare->mult * tk.h[0].score;
    return f - (fabs(f) * 1e-9 + 1e-9);
}

static int run_maxscore_window(plan *p, xnode *root, topk *t)
{
    size_t nk = root->type == X_TERM ? 1 : root->nshould; /* clauses */
    slot *sl = calloc(nk, sizeof *sl);
    slot **ord = calloc(nk, sizeof *ord);
    double *cum = calloc(nk, sizeof *cum);
    wlist *wl = calloc(nk, sizeof *wl);
    wpool wp = { NULL, NULL, 0, 0 };
    wscratch *ws = window_scratch_get();
    double *acc = ws ? ws->acc : NULL; /* zero outside a window's postings */
    uint16_t *surv = ws ? ws->surv : NULL;
    double *surv_part = ws ? ws->surv_part : NULL; /* their partial sums */
    /* bits are zero outside the words of the window's summary, and
     * cleared by window_survivors as it reads them: a
     * window costs its postings, not its width (the essential lists of a
     * union are the rare words: at 1024 docs a window of the q300 unions
     * held 16 postings on average, so wide windows are cheap) */
    uint64_t bits[TQ_WINDOW / 64] = {0};
    uint32_t lz[TQ_WINDOW_MAX_LISTS];
    int rc = 0;
    if (nk > TQ_WINDOW_MAX_LISTS) { rc = TR_EINPUT; goto out; } /* the caller's limit */
    if (!sl || !ord || !cum || !wl || !ws) { rc = TR_ENOMEM; goto out; }
    size_t nt = slots_group(root, sl, ord, nk); /* lists read: ord[0, nt) */
    int dups = nt < nk;                          /* a list serves several clauses */
    double tight_span = p->o->tight_span > 0 ? p->o->tight_span : TQ_TIGHT_SPAN;
    for (size_t i = 0; i < nt; i++) {
        const tr_term_info *ti = ord[i]->n->cur->term;
        cum[i] = (i ? cum[i - 1] : 0.0) + ord[i]->ub;
        wl[i].df = ti ? ti->df : 0;
        wl[i].tight = wl[i].df > 0 && p->bm.n_docs * TR_BLOCK_DOCS / (double)wl[i].df >= tight_span;
    }
    size_t first_ess = 0;
    const double floor = union_floor(p, root, ord, nt, t->cap);
    double thr = fmax(topk_threshold(t), floor);
    uint64_t gathered = 0;
    while (!p->rc) {
        while (first_ess < nt && cum[first_ess] <= thr) first_ess++;
        if (first_ess == nt) break;
        uint32_t d0 = ess_min_doc(ord, first_ess, nt);
        if (d0 == TR_DOC_END) break;
        uint64_t wend = (uint64_t)d0 + TQ_WINDOW - 1; /* inclusive */
        if (wend > TR_DOC_END - 1) wend = TR_DOC_END - 1;
        /* non-essential lists with long blocks add their block's bound
         * and end the window with it; the others their list bound */
        double ness_w = 0.0;
        for (size_t j = 0; j < first_ess; j++) {
            wl[j].bb = ord[j]->ub;
            if (wl[j].tight) {
                uint32_t last;
                wl[j].bb = term_block_ub(p, ord[j]->n, d0, &last);
                if (dups) wl[j].bb *= ord[j]->mult;
                if (last == TR_DOC_END) wl[j].bb = 0.0;
                else if (last < wend) wend = last;
            }
            ness_w += wl[j].bb;
        }
        double bub = ness_w;
        size_t nlz = 0;
        for (size_t j = first_ess; j < nt; j++) {
            uint32_t last;
            wl[j].bb = term_block_ub(p, ord[j]->n, d0, &last);
            if (dups) wl[j].bb *= ord[j]->mult;
            if (last == TR_DOC_END) {
                /* exhausted: nothing in the window or after it */
                wl[j].bb = 0.0;
                ord[j]->skip_to = TR_DOC_END;
            }
            bub += wl[j].bb;
            if (last < wend) wend = last;
            /* by window bound, smallest first (insertion sort: few lists) */
            size_t k = nlz++;
            while (k > 0 && wl[lz[k - 1]].bb > wl[j].bb) { lz[k] = lz[k - 1]; k--; }
            lz[k] = (uint32_t)j;
        }
        if (p->rc) break;
        uint32_t to_next = wend >= TR_DOC_END - 1 ? TR_DOC_END : (uint32_t)wend + 1;
        if (bub <= thr) {
            /* no document of the window can enter: skip it undecoded */
            for (size_t j = first_ess; j < nt; j++) window_skip(p, ord[j], wl[j].tight, to_next);
            continue;
        }
        /* The essential lists with the smallest window bounds, as many as
         * fit under the threshold with the non-essential bounds: a document
         * of the window found in none of the others cannot enter, so they
         * are read marked-only, after the others (block-max MaxScore's
         * split, redone per window; they were probed for each of the
         * others' candidates before: q300 unions 0.95x CPU, 0.97x
         * instructions). */
        double lz_ub = ness_w;
        for (size_t j = first_ess; j < nt; j++) wl[j].marked = 0;
        for (size_t k = 0; k < nlz && lz_ub + wl[lz[k]].bb <= thr; k++) {
            lz_ub += wl[lz[k]].bb;
            wl[lz[k]].marked = 1;
        }
        {
            /* no marking list has a posting in the window: nothing in it
             * can enter (the others' bounds fit under the threshold), and
             * no list is decoded there */
            int any = 0;
            for (size_t j = first_ess; j < nt && !any; j++)
                any = !wl[j].marked && wl[j].bb > 0.0 && ord[j]->n->cur->doc <= wend;
            if (!any) {
                for (size_t j = first_ess; j < nt; j++) window_skip(p, ord[j], wl[j].tight, to_next);
                continue;
            }
        }
        /* the non-essential lists not much longer than the essential ones
         * read in full are read too, marked-only (TQ_GATHER_DF_RATIO) */
        uint64_t ess_df = 0;
        for (size_t j = first_ess; j < nt; j++) {
            wl[j].gather = 1;
            if (!wl[j].marked) ess_df += wl[j].df;
        }
        for (size_t j = 0; j < first_ess; j++) {
            wl[j].gather = (double)wl[j].df <= TQ_GATHER_DF_RATIO * (double)ess_df;
            if (wl[j].gather) cursor_seek(p, ord[j]->n->cur, d0);
        }
        /* lz_ub: the bound of what is not read into the window; a list read
         * marked-only adds its exact score to every document that can enter */
        for (size_t j = 0; j < nt; j++)
            if (wl[j].gather && (j < first_ess || wl[j].marked)) lz_ub -= wl[j].bb;
        uint64_t touched = 0;            /* words of bits that are not zero */
        for (size_t j = 0; j < nt; j++) wl[j].cnt = wl[j].at = 0;
        wp.n = 0;
        /* Once the threshold is above the bound of what is not read
         * (lim >= 0, nearly every window), a document's sum in acc is
         * non-zero exactly when a marking list has it (scores are >= 0,
         * and a document whose marking lists all score 0 cannot enter, see
         * marked_hits_acc), so acc serves as the marks and the survivors
         * are found by pool_survivors: no bits are set or walked. */
        double lim = survivor_limit(lz_ub, thr);
        int use_bits = !(lim >= 0.0);
        size_t nmarking = 0;                /* lists that mark */
        for (size_t j = first_ess; j < nt && !p->rc; j++)
            if (!wl[j].marked) {
                gathered += window_gather(p, ord[j], &wl[j], &wp, d0, wend, bits, acc, &touched, 0, use_bits);
                if (dups && ord[j]->mult > 1.0) window_mult(ord[j], &wl[j], &wp, acc);
                nmarking++;
            }
        uint32_t npool_marking = wp.n;      /* their postings: the pool's first */
        for (size_t j = first_ess; j < nt && !p->rc; j++)
            if (wl[j].marked) {
                gathered += window_gather(p, ord[j], &wl[j], &wp, d0, wend, bits, acc, &touched, 1, use_bits);
                if (dups && ord[j]->mult > 1.0) window_mult(ord[j], &wl[j], &wp, acc);
            }
        for (size_t j = 0; j < first_ess && !p->rc; j++)
            if (wl[j].gather) {
                gathered += window_gather(p, ord[j], &wl[j], &wp, d0, wend, bits, acc, &touched, 1, use_bits);
                if (dups && ord[j]->mult > 1.0) window_mult(ord[j], &wl[j], &wp, acc);
            }
        /* the candidates that pass the threshold at the window's start: a
         * superset of those that pass any later (higher) one */
        uint32_t nsurv;
        if (!use_bits) {
            nsurv = pool_survivors(wp.off, npool_marking, acc, lim, surv, surv_part);
            if (nmarking > 1 && nsurv > TQ_SURV_SORT_MAX) {
                /* many survivors (a low threshold): back to doc order
                 * through the bits, their sums parked in acc */
                for (uint32_t si = 0; si < nsurv; si++) {
                    uint32_t o = surv[si];
                    bits[o >> 6] |= (uint64_t)1 << (o & 63);
                    touched |= (uint64_t)1 << ((o >> 6) / TQ_TOUCH_WORDS);
                    acc[o] = surv_part[si];
                }
                nsurv = window_survivors(bits, touched, acc, 0.0, -INFINITY, surv, surv_part);
            } else if (nmarking > 1 && nsurv > 1) {
                /* back to doc order, by insertion (a few a window) */
                for (uint32_t a = 1; a < nsurv; a++) {
                    uint16_t o = surv[a];
                    double v = surv_part[a];
                    uint32_t b = a;
                    for (; b > 0 && surv[b - 1] > o; b--) { surv[b] = surv[b - 1]; surv_part[b] = surv_part[b - 1]; }
                    surv[b] = o;
                    surv_part[b] = v;
                }
            }
        } else {
            nsurv = window_survivors(bits, touched, acc, lz_ub, thr, surv, surv_part);
        }
        {
            for (uint32_t si = 0; si < nsurv && !p->rc; si++) {
                uint32_t o = surv[si];
                double partial = surv_part[si];
                if (bound_inflate(partial) + lz_ub <= thr) continue;
                uint32_t d = d0 + o;
                if (doc_filtered(p, d)) continue;
                int skip = 0;
                double bound = partial + lz_ub;
                /* the non-essential lists not read into the window are
                 * probed; d's lengths are read only once one is found on
                 * d: most candidates stop first */
                for (size_t jj = first_ess; jj-- > 0 && !skip;) {
                    if (wl[jj].gather) continue;
                    if (bound <= thr) { skip = 1; break; }
                    slot *s = ord[jj];
                    s->present = 0;
                    uint32_t last;
                    double wb = wl[jj].bb;
                    double bb = term_block_ub(p, s->n, d, &last);
                    if (dups) bb *= s->mult;
                    if (last == TR_DOC_END) { bound -= wb; continue; }
                    if (bound - wb + bb <= thr) { skip = 1; break; }
                    tr_cursor *pc = s->n->cur;
                    if (pc->n == 0 || pc->docs[pc->n - 1] < d) {
                        /* the seek would decode a block: first d's own
                         * bound there, from the block's points and d's
                         * lengths (term_doc_ub) */
                        load_dl(p, d);
                        double db = term_doc_ub(p, s->n, tr_cursor_block_bound(pc));
                        if (db < 0) { bound -= wb; continue; }
                        if (dups) db *= s->mult;
                        if (bound - wb + db <= thr) { skip = 1; break; }
                    }
                    cursor_seek(p, s->n->cur, d);
                    if (s->n->cur->doc == d && term_present(s->n)) {
                        load_dl(p, d);
                        s->present = 1;
                        s->sc = term_score(p, s->n);
                        bound = bound - wb + (dups ? s->mult * s->sc : s->sc);
                    } else {
                        bound -= wb;
                    }
                }
                if (!skip && !must_not_hit(p, root, d)) {
                    /* every list's present is set here or by its probe
                     * above, so no reset between candidates is needed */
                    for (size_t j = 0; j < nt; j++) {
                        slot *s = ord[j];
                        if (!wl[j].gather) continue;
                        wlist *w = &wl[j];
                        const uint16_t *off = wp.off + w->first;
                        while (w->at < w->cnt && off[w->at] < o) w->at++;
                        s->present = w->at < w->cnt && off[w->at] == o;
                        if (s->present) s->sc = wp.sc[w->first + w->at];
                    }
                    /* in clause order, a repeated word's score in each
                     * of its places (the exhaustive sum's order) */
                    double score = 0.0;
                    if (!dups) {
                        for (size_t i = 0; i < nk; i++)
                            if (sl[i].present) score += sl[i].sc;
                    } else {
                        for (size_t i = 0; i < nk; i++)
                            if (sl[i].prim->present) score += sl[i].prim->sc;
                    }
                    topk_push(t, d, score);
                    thr = fmax(topk_threshold(t), floor);
                }
            }
        }
    }
    p->scored += gathered;
    rc = p->rc;
    /* a window left by an error may not have cleared what it gathered */
    if (rc && acc) memset(acc, 0, sizeof ws->acc);
out:
    free(sl); free(ord); free(cum); free(wl); free(wp.off); free(wp.sc);
    return rc;
}

static int cmp_node_df(const void *a, const void *b)
{
    const xnode *x = *(xnode *const *)a, *y = *(xnode *const *)b;
    uint64_t dx = x->cur->term ? x->cur->term->df : 0, dy = y->cur->term ? y->cur->term->df : 0;
    return (dx > dy) - (dx < dy);
}

/* A conjunction of MUST terms (MUST_NOT and SHOULD kids: not here) whose
 * rarest list is dense (TQ_COUNT_DENSE, as count_and_bitmap): per window of
 * TQ_DENSE_WINDOW ids, each distinct list marks its postings in a bitmap,
 * ANDed in df order (stopping when nothing is left), and writes its tf and
 * ttf into the window's arrays; the survivors are then scored from those
 * arrays, kid by kid in x_score's order with the same functions, so the
 * scores are bit for bit the exhaustive ones. A leapfrog would decode the
 * same blocks and pay a seek per candidate per list besides. Returns 1 when
 * it ran (p->rc tells of failure), 0 when the query is not of that shape. */
static int run_conjunction_dense(plan *p, xnode *root, topk *t)
{
    enum { WORDS = TQ_DENSE_WINDOW / 64 };
    size_t nk = root->nkids;
    tr_cursor *cs[TQ_DENSE_MAX_LISTS];
    size_t nl = 0;
    for (size_t i = 0; i < nk; i++) {
        xnode *k = root->kids[i];
        if (k->occur != TQ_MUST || k->type != X_TERM || !k->cur->term) return 0;
        size_t j = 0;
        while (j < nl && cs[j]->term->term_id != k->cur->term->term_id) j++;
        if (j == nl) {
            if (nl == TQ_DENSE_MAX_LISTS) return 0;
            cs[nl++] = k->cur;
        }
    }
    if (nl < 2) return 0;
    for (size_t i = 1; i < nl; i++) { /* df order: the rarest marks first */
        tr_cursor *c = cs[i];
        size_t j = i;
        while (j > 0 && cs[j - 1]->term->df > c->term->df) { cs[j] = cs[j - 1]; j--; }
        cs[j] = c;
    }
    if (cs[0]->term->df * TR_BLOCK_DOCS < TQ_COUNT_DENSE * (uint64_t)tr_reader_stats(p->r)->docs) return 0;
    /* kid -> list, and the first kid scoring the same (word, field, weight) */
    uint32_t kl[TQ_COUNT_MAX_LISTS], first_eq[TQ_COUNT_MAX_LISTS];
    if (nk > TQ_COUNT_MAX_LISTS) return 0;
    for (size_t i = 0; i < nk; i++) {
        xnode *k = root->kids[i];
        size_t j = 0;
        while (cs[j]->term->term_id != k->cur->term->term_id) j++;
        kl[i] = (uint32_t)j;
        first_eq[i] = (uint32_t)i;
        for (size_t e = 0; e < i; e++) {
            xnode *ke = root->kids[e];
            if (kl[e] == kl[i] && ke->field == k->field && ke->bm.num == k->bm.num &&
                ke->bm.ca == k->bm.ca && ke->bm.cb == k->bm.cb) { first_eq[i] = (uint32_t)e; break; }
        }
    }
    uint32_t *tfw = malloc(2 * nl * TQ_DENSE_WINDOW * sizeof *tfw);
    if (!tfw) { p->rc = TR_ENOMEM; return 1; }
    uint32_t *ttfw = tfw + nl * TQ_DENSE_WINDOW;
    double kval[TQ_COUNT_MAX_LISTS];
    uint64_t acc[WORDS], bits[WORDS];
    uint64_t lo = (uint64_t)cs[0]->doc & ~(uint64_t)(TQ_DENSE_WINDOW - 1);
    while (!p->rc) {
        uint64_t hi = lo + TQ_DENSE_WINDOW, next = 0;
        int any = 1;
        for (size_t li = 0; li < nl && any && !p->rc; li++) {
            tr_cursor *c = cs[li];
            if (c->doc < lo && cursor_seek(p, c, (uint32_t)lo)) break;
            uint32_t *wtf = tfw + li * TQ_DENSE_WINDOW, *wttf = ttfw + li * TQ_DENSE_WINDOW;
            uint64_t *b = li == 0 ? acc : bits;
            memset(b, 0, WORDS * sizeof *b);
            while (c->doc < hi && !p->rc) {
                uint32_t j = c->i, nb = c->n;
                if (nb > TR_BLOCK_DOCS || j >= nb) { cursor_failed(p, c, TR_ECORRUPT); break; }
                for (; j < nb && c->docs[j] < hi; j++) {
                    uint64_t x = c->docs[j] - lo;
                    if (x >= TQ_DENSE_WINDOW) break; /* out of order: caught below */
                    b[x >> 6] |= (uint64_t)1 << (x & 63);
                    wtf[x] = c->tf[j];
                    wttf[x] = c->ttf[j];
                }
                if (j < nb && c->docs[j] < hi) { cursor_failed(p, c, TR_ECORRUPT); break; }
                uint32_t to = j < nb ? c->docs[j] : c->docs[nb - 1] + 1;
                if (to <= c->doc || cursor_seek(p, c, to)) break; /* corrupt order, or failed */
            }
            if (c->doc > next) next = c->doc;
            if (li > 0) {
                uint64_t o = 0;
                for (size_t w = 0; w < WORDS; w++) o |= acc[w] &= bits[w];
                any = o != 0;
            }
        }
        if (p->rc) break;
        for (size_t w = 0; any && w < WORDS; w++) {
            for (uint64_t m = acc[w]; m; m &= m - 1) {
                uint32_t x = (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(m)), d = (uint32_t)(lo + x);
                if (doc_filtered(p, d)) continue;
                int ok = 1;
                for (size_t i = 0; i < nk && ok; i++) {
                    uint32_t tf = tfw[kl[i] * TQ_DENSE_WINDOW + x], ttf = ttfw[kl[i] * TQ_DENSE_WINDOW + x];
                    int f = root->kids[i]->field;
                    ok = f == TR_FIELD_TITLE ? ttf > 0 : f == TR_FIELD_BODY ? tf > ttf : 1;
                }
                if (!ok) continue;
                load_dl(p, d);
                double s = 0.0;
                for (size_t i = 0; i < nk; i++) {
                    xnode *k = root->kids[i];
                    if (first_eq[i] == i) {
                        size_t at = kl[i] * TQ_DENSE_WINDOW + x;
                        p->scored++;
                        kval[i] = tr_bm25_score(&k->bm, tfp_of(p, k->field, tfw[at], ttfw[at]),
                                                tr_bm25_dl(k->field, p->bm.w, p->tl, p->bl));
                    } else {
                        kval[i] = kval[first_eq[i]];
                    }
                    s += kval[i];
                }
                topk_push(t, d, s);
            }
        }
        int ended = 0;
        for (size_t i = 0; i < nl; i++) ended |= cs[i]->doc == TR_DOC_END;
        if (ended) break;
        uint64_t nlo = next & ~(uint64_t)(TQ_DENSE_WINDOW - 1);
        lo = nlo > hi ? nlo : hi;
    }
    free(tfw);
    return 1;
}

/* A conjunction of terms (the root's MUST kids) with any SHOULD and MUST_NOT
 * kids: leapfrog in df order, skipping runs of blocks whose bounds cannot
 * reach the threshold, and (lead_worth) postings of the rarest list whose
 * bound with the others' block bounds cannot. */
static int run_conjunction(plan *p, xnode *root, topk *t)
{
    if (run_conjunction_dense(p, root, t)) return p->rc;
    size_t nm = root->nmust;
    xnode **m = calloc(nm, sizeof *m);
    if (!m) return TR_ENOMEM;
    size_t j = 0;
    double should_ub = 0.0;
    for (size_t i = 0; i < root->nkids; i++) {
        if (root->kids[i]->occur == TQ_MUST) m[j++] = root->kids[i];
        else if (root->kids[i]->occur == TQ_SHOULD) should_ub += root->kids[i]->max_score;
    }
    qsort(m, nm, sizeof *m, cmp_node_df);
    /* A word required twice has two identical lists: the second copy takes
     * no part in the leapfrog and is moved only onto matches, for scoring. */
    uint8_t *dup = calloc(2 * nm, 1), *same0 = dup + nm; /* same0: the rarest list's word */
    if (!dup) { free(m); return TR_ENOMEM; }
    for (size_t i = 0; i < nm; i++)
        for (size_t j = 0; j < i && !dup[i]; j++)
            dup[i] = m[j]->cur->term && m[i]->cur->term && m[j]->cur->term->term_id == m[i]->cur->term->term_id;
    for (size_t i = 0; i < nm; i++)
        same0[i] = i == 0 || (dup[i] && m[i]->cur->term->term_id == m[0]->cur->term->term_id);
    int lead_first = 0;
    for (size_t i = 0; i < nm; i++)
        if (!same0[i]) { lead_first = lead_worth(m[0]->cur->term->df, m[i]->cur->term->df); break; }
    /* Lead-first a block at a time: the rarest list's decoded block is
     * scored in float against what the others leave (block_pass), so a
     * posting that cannot enter costs a few ns, not a loop iteration. */
    double nsame = 0;
    for (size_t i = 0; i < nm; i++) nsame += same0[i];
    int lead_batch = lead_first && m[0]->field == TR_FIELD_ANY && pass_float_ok(p->bm.w, &m[0]->bm);
    uint8_t pass[TR_BLOCK_DOCS];
    uint32_t ltl[TR_BLOCK_DOCS], lbl[TR_BLOCK_DOCS];
    uint32_t lens_key = 0, pass_key = 0; /* the lead block (its last doc) they hold for */
    double pass_min = INFINITY;
    int avx2 = lead_batch && tq_cpu_avx2();
    /* A word required twice with the same field and weight scores the same
     * twice: compute it once (the sum keeps the kids' order, so the score
     * is bit for bit x_score's). Only for roots of MUST terms (and
     * MUST_NOT kids, which add nothing). */
    size_t nk = root->nkids;
    int memo_ok = root->nshould == 0;
    uint32_t *first_eq = memo_ok ? malloc(nk * sizeof *first_eq) : NULL;
    double *kval = memo_ok ? malloc(nk * sizeof *kval) : NULL;
    if (memo_ok && (!first_eq || !kval)) { free(first_eq); free(kval); free(dup); free(m); return TR_ENOMEM; }
    int any_eq = 0;
    for (size_t i = 0; memo_ok && i < nk; i++) {
        xnode *k = root->kids[i];
        first_eq[i] = (uint32_t)i;
        if (k->occur != TQ_MUST) continue;
        for (size_t j = 0; j < i; j++) {
            xnode *kj = root->kids[j];
            if (kj->occur == TQ_MUST && kj->cur->term && k->cur->term &&
                kj->cur->term->term_id == k->cur->term->term_id && kj->field == k->field &&
                kj->bm.num == k->bm.num && kj->bm.ca == k->bm.ca && kj->bm.cb == k->bm.cb) {
                first_eq[i] = (uint32_t)j;
                any_eq = 1;
                break;
            }
        }
    }
    if (!any_eq) memo_ok = 0;
    uint32_t d = TQ_FIRST_DOC;
    while (!p->rc) {
        double thr = topk_threshold(t);
        if (thr > -INFINITY) {
            double ub = should_ub, others = should_ub;
            uint32_t minlast = TR_DOC_END;
            for (size_t i = 0; i < nm; i++) {
                uint32_t last;
                double bi = term_block_ub(p, m[i], d, &last);
                ub += bi;
                others += same0[i] ? 0.0 : bi;
                if (last < minlast) minlast = last;
            }
            if (minlast == TR_DOC_END) break;
            if (ub <= thr) { d = minlast + 1; continue; }
            if (lead_first) {
                /* The rarest list's posting with the other lists' block
                 * bounds: most candidates of a word much rarer than the
                 * others are ruled out here, before the others' blocks
                 * are decoded. */
                tr_cursor *c0 = m[0]->cur;
                cursor_seek(p, c0, d);
                if (c0->doc == TR_DOC_END) break;
                d = c0->doc;
                if (d > minlast) continue; /* other blocks: their bounds again */
                /* a lead posting rejected below scores <= mn, so the
                 * document's score is <= mn * nsame + others < thr */
                double mn = (thr - others) / nsame - (TQ_BOUND_ABS_SLACK + TQ_BOUND_REL_SLACK * fabs(thr));
                if (lead_batch && mn > 0 && c0->n > 0 && c0->n <= TR_BLOCK_DOCS) {
                    uint32_t n0 = c0->n, key = c0->docs[n0 - 1];
                    if (lens_key != key) {
                        tr_reader_lengths(p->r, c0->docs, n0, ltl, lbl);
                        lens_key = key;
                        pass_key = 0;
                    }
                    if (pass_key != key || pass_min > mn) {
                        /* a pass set for a lower minimum holds for this one too */
                        if (avx2) block_pass_avx2_call(c0->tf, c0->ttf, ltl, lbl, n0, p->bm.w, &m[0]->bm, mn, pass);
                        else block_pass(c0->tf, c0->ttf, ltl, lbl, n0, p->bm.w, &m[0]->bm, mn, pass);
                        pass_key = key;
                        pass_min = mn;
                    }
                    uint32_t i = c0->i;
                    while (i < n0 && c0->docs[i] <= minlast && !pass[i]) i++;
                    if (i == n0) {
                        if (key == TR_DOC_END - 1) break;
                        d = key + 1;
                        continue;
                    }
                    d = c0->docs[i];
                    if (d > minlast) continue;
                    cursor_seek(p, c0, d);
                    goto again;
                }
                int ok = term_present(m[0]);
                if (ok) {
                    double ub0 = bound_inflate(term_ub_nolen(p, m[0]));
                    ub = others;
                    for (size_t i = 0; i < nm; i++) ub += same0[i] ? ub0 : 0.0;
                    ok = ub > thr;
                }
                if (!ok) {
                    if (d == TR_DOC_END - 1) break;
                    d++;
                    continue;
                }
            }
        }
    again:
        for (size_t i = 0; i < nm; i++) {
            if (dup[i]) continue;
            tr_cursor *c = m[i]->cur;
            cursor_seek(p, c, d);
            if (c->doc == TR_DOC_END) goto done;
            if (c->doc > d) {
                /* the first list (never a duplicate) raising d sits on it:
                 * on to the second */
                d = c->doc;
                if (i) goto again;
            }
        }
        for (size_t i = 0; i < nm; i++) {
            if (dup[i]) {
                cursor_seek(p, m[i]->cur, d);
                if (m[i]->cur->doc != d) goto done; /* a failed cursor; p->rc says why */
            }
            m[i]->doc = d;
        }
        int ok = !doc_filtered(p, d);
        for (size_t i = 0; i < nm && ok; i++) ok = term_present(m[i]);
        if (ok && thr > -INFINITY) {
            double ubn = 0.0; /* length-free bound first, as in run_maxscore */
            for (size_t i = 0; i < nm; i++) ubn += term_ub_nolen(p, m[i]);
            ok = bound_inflate(ubn) + should_ub > thr;
        }
        if (ok) {
            load_dl(p, d);
            root->doc = d;
            if (thr > -INFINITY && should_ub > 0) {
                double ub = 0.0;
                for (size_t i = 0; i < nm; i++) ub += term_score(p, m[i]);
                ok = bound_inflate(ub) + should_ub > thr;
            }
        }
        if (ok && !must_not_hit(p, root, d)) {
            double s = 0.0;
            if (memo_ok) {
                for (size_t i = 0; i < nk; i++) {
                    xnode *k = root->kids[i];
                    if (k->occur != TQ_MUST) continue;
                    kval[i] = first_eq[i] == i ? term_score(p, k) : kval[first_eq[i]];
                    s += kval[i];
                }
            } else {
                s = x_score(p, root);
            }
            topk_push(t, d, s);
        }
        if (d == TR_DOC_END - 1) break;
        d++;
    }
done:
    free(first_eq);
    free(kval);
    free(dup);
    free(m);
    return p->rc;
}

/* Upper bound of a positional clause at the lead cursor's document, from
 * that posting alone (see x_ubound), before the other lists are moved:
 * most candidates of a phrase with a common word are ruled out without
 * decoding the common word's block. Needs p's lengths for the doc. */
static double pos_lead_ub(const plan *p, const xnode *n)
{
    const tr_cursor *c = n->curs[n->lead];
    uint32_t tf = c->tf[c->i], ttf = c->ttf[c->i], extra = n->mult[n->lead] - 1;
    if (ttf > tf) ttf = tf;
    uint32_t ot = ttf > extra ? ttf - extra : 0, ob = tf - ttf > extra ? tf - ttf - extra : 0;
    double tfp = n->field == TR_FIELD_TITLE ? (double)ot
               : n->field == TR_FIELD_BODY ? (double)ob
               : p->bm.w * (double)ot + (double)ob;
    return tr_bm25_score(&n->bm, tfp, tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl));
}

/* Anything else: the exhaustive loop, skipping documents whose bound at the
 * candidate cannot enter (before positions are read) and stopping once the
 * whole query's bound cannot; a positional root first bounds its lead
 * term's postings alone (pos_lead_ub). */
static int run_generic_pruned(plan *p, xnode *root, topk *t)
{
    uint32_t d = TQ_FIRST_DOC;
    while (!p->rc) {
        double thr = topk_threshold(t);
        if (root->max_score <= thr) break;
        if (root->type == X_POS && root->lead_first && thr > -INFINITY) {
            tr_cursor *c = root->curs[root->lead];
            cursor_seek(p, c, d);
            if (c->doc == TR_DOC_END) break;
            d = c->doc;
            load_dl(p, d);
            if (bound_inflate(pos_lead_ub(p, root)) <= thr) {
                if (d == TR_DOC_END - 1) break;
                d++;
                continue;
            }
        }
        x_advance(p, root, d);
        if (root->doc == TR_DOC_END) break;
        d = root->doc;
        if (!doc_filtered(p, d)) {
            int ok = 1;
            if (thr > -INFINITY) {
                /* length-free bound (lengths 0 maximise every clause), then
                 * the bound with this document's lengths, then positions */
                p->dl_doc = TR_DOC_END;
                p->tl = p->bl = 0;
                ok = bound_inflate(x_ubound(p, root)) > thr;
                if (ok) {
                    load_dl(p, d);
                    ok = bound_inflate(x_ubound(p, root)) > thr;
                }
            }
            load_dl(p, d);
            if (ok && x_confirm(p, root)) {
                double s = x_score(p, root);
                topk_push(t, d, s);
            }
        }
        if (d == TR_DOC_END - 1) break;
        d++;
    }
    return p->rc;
}

static int all_kids_terms(const xnode *root, int occur)
{
    for (size_t i = 0; i < root->nkids; i++)
        if (root->kids[i]->occur == occur && root->kids[i]->type != X_TERM) return 0;
    return 1;
}

/* ---- entry points ---------------------------------------------------------- */

static int has_positive(const tq_node *q)
{
    if (!q) return 0;
    if (q->kind != TQ_BOOL) return 1; /* TQ_NONE too: it just matches nothing */
    for (size_t i = 0; i < q->nkids; i++)
        if (q->kids[i] && q->kids[i]->occur != TQ_MUST_NOT) return 1;
    return 0;
}

static int plan_build(plan *p, tr_reader *r, const tq_query *q, const tq_eval_opts *o,
                      xnode **root, char *err, size_t errcap)
{
    memset(p, 0, sizeof *p);
    p->r = r;
    p->o = o;
    p->err = err;
    p->errcap = errcap;
    p->dl_doc = TR_DOC_END;
    if (err && errcap) err[0] = 0;
    int rc = tr_bm25_init(&p->bm, tr_reader_stats(r), o->k1, o->b, o->title_weight);
    if (rc) { set_err(p, "bad BM25 parameters (k1 %g, b %g, title weight %g)", o->k1, o->b, o->title_weight); return rc; }
    p->after = o->after != TR_NO_DATE ? o->after : q->after;
    p->before = o->before != TR_NO_DATE ? o->before : q->before;
    p->filtering = tr_reader_stats(r)->deleted > 0 || p->after != TR_NO_DATE || p->before != TR_NO_DATE;
    if (!q->root || !has_positive(q->root)) {
        set_err(p, "the query has no positive clause (only exclusions)");
        return TR_EINPUT;
    }
    rc = compile(p, q->root, TQ_SHOULD, 0, root);
    if (!rc && p->rc) rc = p->rc;
    return rc;
}

int tq_search(tr_reader *r, const tq_query *q, const tq_eval_opts *o,
              tq_result *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    tq_eval_opts def;
    if (!o) { tq_eval_opts_default(&def); o = &def; }
    if (o->k > TQ_MAX_TOP || o->offset > TQ_MAX_TOP - o->k) {
        if (err && errcap) snprintf(err, errcap, "k + offset is more than %d", TQ_MAX_TOP);
        return TR_ELIMIT;
    }
    plan p;
    xnode *root = NULL;
    int rc = plan_build(&p, r, q, o, &root, err, errcap);
    topk t = { NULL, 0, o->k + o->offset };
    if (!rc && t.cap && !(t.h = malloc(t.cap * sizeof *t.h))) rc = TR_ENOMEM;
    if (!rc) {
        uint64_t count = 0;
        if (o->exhaustive) {
            run_exhaustive(&p, root, &t, &count, 1);
            out->total = count;
        } else if (t.cap == 0 || root->type == X_NONE) {
            /* nothing wanted, or nothing can match */
        } else if (root->type == X_TERM) {
            uint64_t unused;
            run_single_term(&p, root, &t, &unused, 1, 1);
        } else if ((root->type == X_BOOL && root->nmust == 0 && all_kids_terms(root, TQ_SHOULD))) {
            rc = root->nshould <= TQ_WINDOW_MAX_LISTS ? run_maxscore_window(&p, root, &t)
                                                      : run_maxscore(&p, root, &t);
        } else if (root->type == X_BOOL && root->nmust > 0 && all_kids_terms(root, TQ_MUST)) {
            rc = run_conjunction(&p, root, &t);
        } else {
            rc = run_generic_pruned(&p, root, &t);
        }
        if (!rc) rc = p.rc;
        if (!rc && o->want_total && !o->exhaustive) {
            /* the exact count is a second pass that scores nothing: pruning
             * and counting every match do not mix */
            plan p2;
            xnode *root2 = NULL;
            topk none = { NULL, 0, 0 };
            rc = plan_build(&p2, r, q, o, &root2, err, errcap);
            if (!rc) {
                run_exhaustive(&p2, root2, &none, &count, 0);
                rc = p2.rc;
                out->total = count;
            }
            plan_free(&p2);
        }
    }
    if (!rc) {
        if (t.n) qsort(t.h, t.n, sizeof *t.h, hit_cmp_best_first);
        if (t.n > o->offset) {
            out->nhits = t.n - o->offset;
            memmove(t.h, t.h + o->offset, out->nhits * sizeof *t.h);
            out->hits = t.h;
            t.h = NULL;
        }
        memcpy(out->warning, p.warning, sizeof out->warning);
        out->postings_scored = p.scored;
    }
    free(t.h);
    plan_free(&p);
    return rc;
}

int tq_count(tr_reader *r, const tq_query *q, const tq_eval_opts *o,
             uint64_t *count, char *err, size_t errcap)
{
    *count = 0;
    tq_eval_opts def;
    if (!o) { tq_eval_opts_default(&def); o = &def; }
    plan p;
    xnode *root = NULL;
    int rc = plan_build(&p, r, q, o, &root, err, errcap);
    if (!rc) {
        topk t = { NULL, 0, 0 };
        run_exhaustive(&p, root, &t, count, 0);
        rc = p.rc;
    }
    plan_free(&p);
    return rc;
}

/* ---- explain ---------------------------------------------------------------- */

static const char *field_prefix(int field)
{
    return field == TR_FIELD_TITLE ? "title:" : field == TR_FIELD_BODY ? "body:" : "";
}

static void explain_node(plan *p, xnode *n, tq_explain_fn fn, void *ctx)
{
    char buf[512];
    switch (n->type) {
    case X_TERM: {
        tr_cursor *c = n->cur;
        double s = x_score(p, n);
        snprintf(buf, sizeof buf, "%s%.*s tf=%u ttf=%u dl=%g idf=%.4f", field_prefix(n->field),
                 (int)n->label_len, n->label, c->tf[c->i], c->ttf[c->i],
                 tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl), n->bm.idf);
        fn(ctx, buf, s);
        break;
    }
    case X_POS: {
        double s = x_score(p, n);
        size_t len = 0;
        buf[0] = 0;
        len += (size_t)snprintf(buf, sizeof buf, "%s%s\"", field_prefix(n->field),
                                n->nunits > 1 ? "NEAR " : "");
        for (size_t i = 0; i < n->ncur && len < sizeof buf - 64; i++) {
            for (size_t j = 0; j < p->ncursors; j++)
                if (p->cursors[j] == n->curs[i]) {
                    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%.*s", i ? " " : "",
                                            (int)(p->label_lens[j] > 40 ? 40 : p->label_lens[j]),
                                            p->labels[j]);
                    break;
                }
        }
        if (len < sizeof buf)
            snprintf(buf + len, sizeof buf - len, "\" matches=%g dl=%g idf=%.4f", n->conf_tf,
                     tr_bm25_dl(n->field, p->bm.w, p->tl, p->bl), n->bm.idf);
        fn(ctx, buf, s);
        break;
    }
    case X_BOOL:
        for (size_t i = 0; i < n->nkids; i++) {
            xnode *k = n->kids[i];
            if (k->occur == TQ_MUST_NOT) continue;
            if (k->occur == TQ_SHOULD) {
                x_advance(p, k, n->doc);
                if (k->doc != n->doc || !x_confirm(p, k)) continue;
            }
            explain_node(p, k, fn, ctx);
        }
        break;
    default:
        break;
    }
}

int tq_explain(tr_reader *r, const tq_query *q, const tq_eval_opts *o, uint32_t doc,
               tq_explain_fn fn, void *ctx, double *score, char *err, size_t errcap)
{
    *score = 0;
    tq_eval_opts def;
    if (!o) { tq_eval_opts_default(&def); o = &def; }
    plan p;
    xnode *root = NULL;
    int rc = plan_build(&p, r, q, o, &root, err, errcap);
    if (!rc) {
        if (doc == TR_DOC_END) doc = TR_DOC_END - 1;
        if (doc < TQ_FIRST_DOC) doc = TQ_FIRST_DOC;
        x_advance(&p, root, doc);
        if (root->doc != doc || doc_filtered(&p, doc) || !x_confirm(&p, root)) {
            rc = p.rc ? p.rc : TR_ENOTFOUND;
            if (!p.rc) set_err(&p, "document %u does not match the query", doc);
        } else {
            load_dl(&p, doc);
            *score = x_score(&p, root);
            if (fn) {
                /* the walk rescores each clause; its sum equals *score */
                explain_node(&p, root, fn, ctx);
            }
            rc = p.rc;
        }
    }
    plan_free(&p);
    return rc;
}
