/* parse.c - the query parser: query text -> tq_node tree (see parse.h and
 * docs/QUERY.md). A hand-written recursive-descent parser over the raw bytes,
 * lenient in the manner of Lucene's classic parser and Xapian's QueryParser.
 *
 * Safety: recursion only happens on "(", and is cut at TQ_MAX_DEPTH; every
 * loop advances the cursor, so time is linear in the query length; every
 * node and string lives in one arena freed by tq_query_free. */
#include "parse.h"
#include "index.h" /* TR_NO_DATE */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- arena -------------------------------------------------------------- */

#define ARENA_CHUNK 8192  /* ordinary chunk size; larger requests get their own */
#define ARENA_ALIGN 16

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} arena_chunk;

static void *arena_alloc(arena_chunk **head, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0) n = ARENA_ALIGN;
    arena_chunk *c = *head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static void arena_free(arena_chunk *c)
{
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* ---- parser state ------------------------------------------------------- */

#define NEAR_DEFAULT 10          /* window of a bare NEAR, as in Xapian */
#define NEAR_MAX_DIGITS 9        /* longer numbers are over TQ_MAX_NEAR anyway */
#define PLAIN_HASH_SLOTS 2048    /* > 2 * TQ_MAX_CLAUSES: dedupe table for plain mode */

typedef struct ptoken {          /* one analysed term, copied into the arena */
    char *term;
    uint32_t len, pos, start, end;
} ptoken;

typedef struct parser {
    const char *s;
    size_t len, pos;
    tr_analyzer *a;
    const tq_opts *o;
    tq_query *q;
    arena_chunk *arena;
    int rc;
    char *err;
    size_t errcap;
    size_t nclauses;
    int field;                   /* field applied by an enclosing title:( ) */
    ptoken *toks;                /* scratch for one analysed span (malloc) */
    size_t ntoks, captoks;
    uint32_t span_base;          /* offset of the analysed span in s */
} parser;

static void fail(parser *p, int rc, size_t at, const char *fmt, ...)
{
    if (p->rc) return;           /* the first error is the one reported */
    p->rc = rc;
    if (!p->err || p->errcap == 0) return;
    int n = snprintf(p->err, p->errcap, "column %zu: ", at + 1);
    if (n < 0 || (size_t)n >= p->errcap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
    va_end(ap);
}

static void *palloc(parser *p, size_t n)
{
    void *r = arena_alloc(&p->arena, n);
    if (!r) fail(p, TR_ENOMEM, p->pos, "out of memory");
    return r;
}

static tq_node *node_new(parser *p, tq_kind kind, size_t start, size_t end)
{
    tq_node *n = palloc(p, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->weight = 1.0;
    n->src_start = (uint32_t)start;
    n->src_end = (uint32_t)end;
    return n;
}

/* A growable array of node pointers in the arena (old copies are left behind:
 * the total is bounded by the clause limit). */
typedef struct nodevec {
    tq_node **v;
    size_t n, cap;
} nodevec;

static int vec_push(parser *p, nodevec *vec, tq_node *node)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 4;
        tq_node **v = palloc(p, cap * sizeof *v);
        if (!v) return -1;
        if (vec->n) memcpy(v, vec->v, vec->n * sizeof *v);
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = node;
    return 0;
}

static int count_clause(parser *p, size_t at)
{
    if (++p->nclauses > TQ_MAX_CLAUSES) {
        fail(p, TR_ELIMIT, at, "more than %d terms and phrases in the query (TQ_MAX_CLAUSES)",
             TQ_MAX_CLAUSES);
        return -1;
    }
    return 0;
}

/* ---- lexical helpers ---------------------------------------------------- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0;
}

/* Length of a phrase quote at i: ASCII " or the curly U+201C / U+201D. */
static size_t quote_len(const parser *p, size_t i)
{
    if (i >= p->len) return 0;
    if (p->s[i] == '"') return 1;
    if (p->len - i >= 3 && (unsigned char)p->s[i] == 0xE2 && (unsigned char)p->s[i + 1] == 0x80 &&
        ((unsigned char)p->s[i + 2] == 0x9C || (unsigned char)p->s[i + 2] == 0x9D))
        return 3;
    return 0;
}

/* Does a word end before byte i? */
static int is_delim(const parser *p, size_t i)
{
    if (i >= p->len) return 1;
    unsigned char c = (unsigned char)p->s[i];
    return is_space(c) || c == '(' || c == ')' || quote_len(p, i) > 0;
}

static size_t word_end(const parser *p, size_t i)
{
    while (!is_delim(p, i)) i++;
    return i;
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && is_space((unsigned char)p->s[p->pos])) p->pos++;
}

static int is_kw(const parser *p, size_t i, const char *kw)
{
    size_t n = strlen(kw);
    return p->len - i >= n && memcmp(p->s + i, kw, n) == 0 && is_delim(p, i + n);
}

/* NEAR or NEAR/n at i: returns the bytes it spans (0 if it is not one) and
 * the window; n over TQ_MAX_NEAR is reported through *too_big. */
static size_t near_kw(const parser *p, size_t i, uint32_t *slop, int *too_big)
{
    *too_big = 0;
    if (p->len - i < 4 || memcmp(p->s + i, "NEAR", 4) != 0) return 0;
    if (is_delim(p, i + 4)) {
        *slop = NEAR_DEFAULT;
        return 4;
    }
    if (p->s[i + 4] != '/') return 0;
    size_t j = i + 5;
    uint64_t n = 0;
    while (j < p->len && p->s[j] >= '0' && p->s[j] <= '9') {
        if (j - (i + 5) < NEAR_MAX_DIGITS) n = n * 10 + (uint64_t)(p->s[j] - '0');
        else n = TQ_MAX_NEAR + 1; /* more digits than any allowed window */
        j++;
    }
    if (j == i + 5 || !is_delim(p, j)) return 0;
    if (n > TQ_MAX_NEAR) *too_big = 1;
    *slop = (uint32_t)(n > TQ_MAX_NEAR ? TQ_MAX_NEAR : n);
    return j - i;
}

/* Field prefix "title:", "body:" or "date:" (ASCII, any case) at i: returns
 * its length and the field (-1 for date), or 0. */
#define FIELD_DATE (-1)
static size_t field_prefix(const parser *p, size_t i, int *field)
{
    static const struct { const char *name; int field; } names[] = {
        {"title:", TQ_FIELD_TITLE}, {"body:", TQ_FIELD_BODY}, {"date:", FIELD_DATE},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k].name);
        if (p->len - i >= n && strncasecmp(p->s + i, names[k].name, n) == 0) {
            *field = names[k].field;
            return n;
        }
    }
    return 0;
}

/* Can an operand start at i (after spaces)? Used to decide whether AND, OR,
 * NOT, + and - are operators or plain words. */
static int operand_follows(const parser *p, size_t i)
{
    while (i < p->len && is_space((unsigned char)p->s[i])) i++;
    if (i >= p->len || p->s[i] == ')') return 0;
    return !is_kw(p, i, "AND") && !is_kw(p, i, "OR");
}

/* ---- analysis ----------------------------------------------------------- */

static int collect_token(void *ctx, const tr_token *t)
{
    parser *p = ctx;
    if (p->ntoks == p->captoks) {
        size_t cap = p->captoks ? p->captoks * 2 : 16;
        ptoken *v = realloc(p->toks, cap * sizeof *v);
        if (!v) return TR_ENOMEM;
        p->toks = v;
        p->captoks = cap;
    }
    char *term = arena_alloc(&p->arena, (size_t)t->len + 1);
    if (!term) return TR_ENOMEM;
    memcpy(term, t->term, t->len);
    p->toks[p->ntoks++] = (ptoken){term, t->len, t->pos, p->span_base + t->start,
                                   p->span_base + t->end};
    return 0;
}

/* Analyse s[start, end) into p->toks. */
static int analyse(parser *p, size_t start, size_t end)
{
    p->ntoks = 0;
    p->span_base = (uint32_t)start;
    int rc = tr_analyze(p->a, p->s + start, end - start, 0, collect_token, p);
    if (rc) fail(p, rc == TR_ENOMEM ? TR_ENOMEM : TR_EINPUT, start, "cannot analyse the text: %s",
                 tr_strerror(rc));
    return rc ? -1 : 0;
}

/* The analysed span as a node: one term -> TERM, several -> PHRASE at their
 * relative positions, none -> NULL (dropped, not an error). */
static tq_node *tokens_node(parser *p, int field, size_t start, size_t end)
{
    if (p->ntoks == 0) return NULL;
    if (count_clause(p, start)) return NULL;
    if (p->ntoks == 1) {
        tq_node *n = node_new(p, TQ_TERM, start, end);
        if (!n) return NULL;
        n->field = field;
        n->text = p->toks[0].term;
        n->len = p->toks[0].len;
        return n;
    }
    if (p->ntoks > TQ_MAX_PHRASE_TERMS) {
        fail(p, TR_ELIMIT, start, "phrase of more than %d terms (TQ_MAX_PHRASE_TERMS)",
             TQ_MAX_PHRASE_TERMS);
        return NULL;
    }
    tq_node *n = node_new(p, TQ_PHRASE, start, end);
    if (!n) return NULL;
    n->field = field;
    n->nterms = p->ntoks;
    n->terms = palloc(p, p->ntoks * sizeof *n->terms);
    n->term_lens = palloc(p, p->ntoks * sizeof *n->term_lens);
    n->offsets = palloc(p, p->ntoks * sizeof *n->offsets);
    if (p->rc) return NULL;
    for (size_t i = 0; i < p->ntoks; i++) {
        n->terms[i] = p->toks[i].term;
        n->term_lens[i] = p->toks[i].len;
        n->offsets[i] = p->toks[i].pos - p->toks[0].pos;
    }
    return n;
}

/* ---- dates -------------------------------------------------------------- */

#define SECONDS_PER_DAY 86400
#define DATE_MIN_YEAR 1
#define DATE_MAX_YEAR 9999

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* YYYY, YYYY-MM or YYYY-MM-DD -> first and last second of that period. */
static int parse_iso_date(const char *s, size_t n, int64_t *first, int64_t *last)
{
    unsigned y, m = 1, d = 1;
    if (!(n == 4 || n == 7 || n == 10) || digits(s, 4, &y)) return -1;
    if (n >= 7 && (s[4] != '-' || digits(s + 5, 2, &m))) return -1;
    if (n == 10 && (s[7] != '-' || digits(s + 8, 2, &d))) return -1;
    if (y < DATE_MIN_YEAR || y > DATE_MAX_YEAR || m < 1 || m > 12 || d < 1 ||
        d > days_in_month((int)y, m))
        return -1;
    int64_t start = days_from_civil(y, m, d), end;
    if (n == 10) end = start + 1;
    else if (n == 7) end = start + days_in_month((int)y, m);
    else end = days_from_civil((int64_t)y + 1, 1, 1);
    *first = start * SECONDS_PER_DAY;
    *last = end * SECONDS_PER_DAY - 1;
    return 0;
}

static void narrow(tq_query *q, int64_t after, int64_t before)
{
    if (after != TR_NO_DATE && (q->after == TR_NO_DATE || after > q->after)) q->after = after;
    if (before != TR_NO_DATE && (q->before == TR_NO_DATE || before < q->before)) q->before = before;
}

/* The value of date:VALUE at s[start, end): >=D, >D, <=D, <D, D, D..D, D.., ..D */
static void parse_date_filter(parser *p, size_t start, size_t end)
{
    const char *v = p->s + start;
    size_t n = end - start;
    int64_t f1, l1, f2, l2;
    const char *want = "want YYYY, YYYY-MM or YYYY-MM-DD, optionally after >=, >, <=, < "
                       "or as FROM..TO";
    if (n == 0) return; /* "date:" alone: nothing to filter on */
    for (size_t i = 0; i + 1 < n; i++) {
        if (v[i] == '.' && v[i + 1] == '.') {
            int bad = 0;
            if (i > 0 && parse_iso_date(v, i, &f1, &l1)) bad = 1;
            if (i + 2 < n && parse_iso_date(v + i + 2, n - i - 2, &f2, &l2)) bad = 1;
            if (bad || n == 2) {
                fail(p, TR_EINPUT, start, "bad date range '%.*s' (%s)", (int)n, v, want);
                return;
            }
            narrow(p->q, i > 0 ? f1 : TR_NO_DATE, i + 2 < n ? l2 : TR_NO_DATE);
            return;
        }
    }
    size_t op = 0;
    if (n >= 2 && (v[0] == '>' || v[0] == '<') && v[1] == '=') op = 2;
    else if (v[0] == '>' || v[0] == '<' || v[0] == '=') op = 1;
    if (parse_iso_date(v + op, n - op, &f1, &l1)) {
        fail(p, TR_EINPUT, start, "bad date '%.*s' (%s)", (int)n, v, want);
        return;
    }
    if (op == 0 || v[0] == '=') narrow(p->q, f1, l1);
    else if (v[0] == '>' && op == 2) narrow(p->q, f1, TR_NO_DATE);
    else if (v[0] == '>') narrow(p->q, l1 + 1, TR_NO_DATE);
    else if (op == 2) narrow(p->q, TR_NO_DATE, l1);
    else narrow(p->q, TR_NO_DATE, f1 - 1);
}

/* ---- grammar ------------------------------------------------------------ */

static tq_node *parse_or(parser *p, int depth);

/* A word at [start, end): prefix* or analysed text. */
static tq_node *parse_word(parser *p, int field, size_t start, size_t end)
{
    size_t pe = end;
    while (pe > start && p->s[pe - 1] == '*') pe--;
    if (pe == end) {
        if (analyse(p, start, end)) return NULL;
        return tokens_node(p, field, start, end);
    }
    if (pe == start) {
        fail(p, TR_EINPUT, start, "'*' needs at least one character before it");
        return NULL;
    }
    if (analyse(p, start, pe)) return NULL;
    if (p->ntoks > 1) {
        fail(p, TR_EINPUT, start, "a prefix before '*' must be a single word, and '%.*s' is %zu "
             "words", (int)(pe - start), p->s + start, p->ntoks);
        return NULL;
    }
    /* No term at all: a removed stopword ("the*") is still a fine prefix, so
     * fold the whole word and refuse it only if nothing word-like is left. */
    size_t fs = p->ntoks ? p->toks[0].start : start, fe = p->ntoks ? p->toks[0].end : pe;
    tr_buf folded = {0};
    if (tr_fold(p->a, p->s + fs, fe - fs, &folded)) {
        tr_buf_free(&folded);
        fail(p, TR_ENOMEM, start, "out of memory");
        return NULL;
    }
    size_t flen = folded.len, wordlike = 0;
    for (size_t i = 0; i < flen; i++) {
        unsigned char c = folded.data[i];
        wordlike += c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z');
    }
    if (!wordlike) flen = 0;
    if (flen > TR_MAX_TERM_BYTES) { /* as documents' terms are cut: at a code point */
        flen = TR_MAX_TERM_BYTES;
        while (flen > 0 && (folded.data[flen] & 0xC0) == 0x80) flen--;
    }
    tq_node *n = NULL;
    char *text = flen ? palloc(p, flen + 1) : NULL;
    if (!flen) fail(p, TR_EINPUT, start, "prefix '%.*s' has no letters or digits",
                    (int)(pe - start), p->s + start);
    else if (text && !count_clause(p, start) && (n = node_new(p, TQ_PREFIX, start, end))) {
        memcpy(text, folded.data, flen);
        n->field = field;
        n->text = text;
        n->len = flen;
    }
    tr_buf_free(&folded);
    return n;
}

/* A quoted phrase starting at p->pos (an opening quote); unclosed quotes
 * run to the end of the query. */
static tq_node *parse_phrase(parser *p, int field)
{
    size_t start = p->pos;
    size_t cs = start + quote_len(p, start), ce = cs;
    while (ce < p->len && !quote_len(p, ce)) ce++;
    p->pos = ce < p->len ? ce + quote_len(p, ce) : ce;
    if (analyse(p, cs, ce)) return NULL;
    return tokens_node(p, field, start, p->pos);
}

/* Is there a NEAR operand (a quoted phrase, or a word that is not an
 * operator, field or prefix) at i? */
static int near_operand_at(const parser *p, size_t i)
{
    if (i >= p->len) return 0;
    if (quote_len(p, i)) return 1;
    if (is_delim(p, i)) return 0;
    uint32_t slop;
    int big, field;
    size_t e = word_end(p, i);
    return !is_kw(p, i, "AND") && !is_kw(p, i, "OR") && !is_kw(p, i, "NOT") &&
           !near_kw(p, i, &slop, &big) && !field_prefix(p, i, &field) && p->s[e - 1] != '*';
}

/* After an atom: `NEAR/n atom` repeated makes one TQ_NEAR over them all. */
static tq_node *parse_near_chain(parser *p, tq_node *first, int field, size_t start)
{
    nodevec kids = {0};
    uint32_t slop = 0;
    int chained = 0;
    if (first && vec_push(p, &kids, first)) return NULL;
    for (;;) {
        size_t save = p->pos;
        skip_space(p);
        uint32_t n;
        int big;
        size_t kw = near_kw(p, p->pos, &n, &big);
        size_t after = p->pos + kw;
        while (after < p->len && is_space((unsigned char)p->s[after])) after++;
        if (!kw || !near_operand_at(p, after)) {
            p->pos = save;
            break;
        }
        if (big) {
            fail(p, TR_ELIMIT, p->pos, "NEAR/%.*s is over the limit of %d (TQ_MAX_NEAR)",
                 (int)(kw - 5), p->s + p->pos + 5, TQ_MAX_NEAR);
            return NULL;
        }
        chained = 1;
        if (n > slop) slop = n;
        p->pos = after;
        tq_node *k;
        if (quote_len(p, p->pos)) k = parse_phrase(p, field);
        else {
            size_t ws = p->pos;
            p->pos = word_end(p, ws);
            k = parse_word(p, field, ws, p->pos);
        }
        if (p->rc) return NULL;
        if (k && vec_push(p, &kids, k)) return NULL;
    }
    if (!chained || kids.n <= 1) return kids.n ? kids.v[0] : NULL;
    tq_node *near = node_new(p, TQ_NEAR, start, p->pos);
    if (!near) return NULL;
    near->field = field;
    near->slop = slop;
    near->kids = kids.v;
    near->nkids = kids.n;
    return near;
}

/* primary := "(" query ")" | field? atom [NEAR atom]... ; sets *is_date for
 * a date filter (which leaves no node). */
static tq_node *parse_primary(parser *p, int depth, int *is_date)
{
    int field = p->field, f;
    size_t start = p->pos, n;
    *is_date = 0;
    while ((n = field_prefix(p, p->pos, &f)) != 0) {
        p->pos += n;
        if (f == FIELD_DATE) {
            size_t ve = word_end(p, p->pos);
            parse_date_filter(p, p->pos, ve);
            p->pos = ve;
            *is_date = 1;
            return NULL;
        }
        field = f;
    }
    if (p->pos >= p->len || is_space((unsigned char)p->s[p->pos]) || p->s[p->pos] == ')')
        return NULL; /* "title:" with nothing after it */
    if (p->s[p->pos] == '(') {
        if (depth + 1 > TQ_MAX_DEPTH) {
            fail(p, TR_ELIMIT, p->pos, "query nested deeper than %d levels", TQ_MAX_DEPTH);
            return NULL;
        }
        p->pos++;
        int saved = p->field;
        p->field = field;
        tq_node *g = parse_or(p, depth + 1);
        p->field = saved;
        skip_space(p);
        if (p->pos < p->len && p->s[p->pos] == ')') p->pos++;
        return g;
    }
    tq_node *atom;
    int prefix = 0;
    if (quote_len(p, p->pos)) {
        atom = parse_phrase(p, field);
    } else {
        size_t ws = p->pos;
        p->pos = word_end(p, ws);
        prefix = p->s[p->pos - 1] == '*';
        atom = parse_word(p, field, ws, p->pos);
    }
    if (p->rc || prefix) return atom;
    return parse_near_chain(p, atom, field, start);
}

/* unary := ("NOT" | "+" | "-")* primary. Two negations cancel. */
static tq_node *parse_unary(parser *p, int depth, int *occur, int *is_date, size_t *start)
{
    int negations = 0, plus = 0;
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len) break;
        char c = p->s[p->pos];
        if ((c == '+' || c == '-') && p->pos + 1 < p->len &&
            !is_space((unsigned char)p->s[p->pos + 1]) && p->s[p->pos + 1] != ')') {
            if (c == '-') negations++;
            else plus = 1;
            p->pos++;
        } else if (is_kw(p, p->pos, "NOT") && operand_follows(p, p->pos + 3)) {
            negations++;
            p->pos += 3;
        } else {
            break;
        }
    }
    *start = p->pos;
    *occur = negations % 2 ? TQ_MUST_NOT : negations || plus ? TQ_MUST : -1;
    tq_node *n = parse_primary(p, depth, is_date);
    if (*is_date && *occur == TQ_MUST_NOT && !p->rc)
        fail(p, TR_EINPUT, *start, "a date filter cannot be excluded");
    return n;
}

/* Unwrap a BOOL whose only clause is SHOULD (a lone MUST or MUST_NOT is kept
 * so that --parse shows what was typed). */
static tq_node *simplify(tq_node *n)
{
    while (n && n->kind == TQ_BOOL && n->nkids == 1 && n->kids[0]->occur == TQ_SHOULD)
        n = n->kids[0];
    return n;
}

static tq_node *make_bool(parser *p, nodevec *v, size_t start)
{
    if (v->n == 0) return NULL;
    size_t positive = 0;
    for (size_t i = 0; i < v->n; i++) positive += v->v[i]->occur != TQ_MUST_NOT;
    if (!positive) {
        fail(p, TR_EINPUT, start, "a query needs at least one term that is not excluded");
        return NULL;
    }
    tq_node *b = node_new(p, TQ_BOOL, start, p->pos);
    if (!b) return NULL;
    b->kids = v->v;
    b->nkids = v->n;
    return b;
}

/* and := unary ( ["AND"] unary )* ; returns a BOOL or NULL when empty. */
static tq_node *parse_and(parser *p, int depth)
{
    nodevec v = {0};
    int have_left = 0, pending_and = 0, last_pushed = 0, first_default = 0;
    int dflt = p->o && p->o->default_and ? TQ_MUST : TQ_SHOULD;
    skip_space(p);
    size_t start = p->pos;
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len) break;
        if (p->s[p->pos] == ')') {
            if (depth > 0) break;
            p->pos++; /* a stray ")" at the top level is ignored */
            continue;
        }
        if (have_left && is_kw(p, p->pos, "OR") && operand_follows(p, p->pos + 2)) break;
        if (have_left && is_kw(p, p->pos, "AND") && operand_follows(p, p->pos + 3)) {
            p->pos += 3;
            pending_and = 1;
            if (last_pushed && v.v[v.n - 1]->occur == TQ_SHOULD) v.v[v.n - 1]->occur = TQ_MUST;
            continue;
        }
        int occur, is_date;
        size_t ustart, before = p->pos;
        tq_node *n = parse_unary(p, depth, &occur, &is_date, &ustart);
        if (p->rc) return NULL;
        if (p->pos == before) p->pos++; /* cannot happen; guarantees progress */
        have_left = 1;
        last_pushed = 0;
        if (!n) {
            pending_and = 0;
            continue;
        }
        if (v.n == 0) first_default = occur < 0 && !pending_and;
        if (occur < 0) occur = pending_and ? TQ_MUST : dflt;
        else if (occur == TQ_SHOULD && pending_and) occur = TQ_MUST;
        pending_and = 0;
        n = simplify(n);
        n->occur = occur;
        if (vec_push(p, &v, n)) return NULL;
        last_pushed = 1;
    }
    /* A lone clause that only got MUST from default_and is plain SHOULD:
     * "a b OR c" gives (a AND b) OR c, not (a AND b) OR (+c). */
    if (v.n == 1 && first_default && v.v[0]->occur == TQ_MUST) v.v[0]->occur = TQ_SHOULD;
    return make_bool(p, &v, start);
}

/* or := and ( "OR" and )* */
static tq_node *parse_or(parser *p, int depth)
{
    nodevec groups = {0};
    skip_space(p);
    size_t start = p->pos;
    for (;;) {
        tq_node *g = parse_and(p, depth);
        if (p->rc) return NULL;
        if (g) {
            g = simplify(g);
            g->occur = TQ_SHOULD;
            if (vec_push(p, &groups, g)) return NULL;
        }
        skip_space(p);
        if (is_kw(p, p->pos, "OR") && operand_follows(p, p->pos + 2)) {
            p->pos += 2;
            continue;
        }
        break;
    }
    if (groups.n == 1 && groups.v[0]->kind == TQ_BOOL) return groups.v[0];
    return make_bool(p, &groups, start);
}

/* Plain mode: every analysed term of the whole text is one SHOULD clause;
 * duplicates are merged into the first occurrence, whose weight grows with
 * the number of repeats (TQ_QTF_WEIGHT). */
static tq_node *parse_plain(parser *p)
{
    if (analyse(p, 0, p->len)) return NULL;
    int32_t slots[PLAIN_HASH_SLOTS];
    memset(slots, -1, sizeof slots);
    nodevec v = {0};
    for (size_t i = 0; i < p->ntoks; i++) {
        const ptoken *t = &p->toks[i];
        uint32_t h = 2166136261u;
        for (uint32_t k = 0; k < t->len; k++) h = (h ^ (unsigned char)t->term[k]) * 16777619u;
        size_t slot = h % PLAIN_HASH_SLOTS;
        int dup = 0;
        while (slots[slot] >= 0) {
            const tq_node *o = v.v[slots[slot]];
            if (o->len == t->len && memcmp(o->text, t->term, t->len) == 0) {
                dup = 1;
                break;
            }
            slot = (slot + 1) % PLAIN_HASH_SLOTS;
        }
        if (dup) {
            tq_node *o = v.v[slots[slot]];
            o->slop++; /* repeats so far; turned into a weight below */
            continue;
        }
        if (count_clause(p, t->start)) return NULL;
        tq_node *n = node_new(p, TQ_TERM, t->start, t->end);
        if (!n) return NULL;
        n->text = t->term;
        n->len = t->len;
        n->occur = TQ_SHOULD;
        slots[slot] = (int32_t)v.n; /* < TQ_MAX_CLAUSES, so the table never fills */
        if (vec_push(p, &v, n)) return NULL;
    }
    for (size_t i = 0; i < v.n; i++) {
        v.v[i]->weight = TQ_QTF_WEIGHT(1.0 + v.v[i]->slop);
        v.v[i]->slop = 0;
    }
    return make_bool(p, &v, 0);
}

int tq_parse(const char *text, size_t len, tr_analyzer *a, const tq_opts *o,
             tq_query *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->after = out->before = TR_NO_DATE;
    if (err && errcap) err[0] = '\0';
    parser p = {.s = text ? text : "", .len = text ? len : 0, .a = a, .o = o, .q = out,
                .err = err, .errcap = errcap, .field = TQ_FIELD_ANY};
    tq_node *root = NULL;
    if (p.len > TQ_MAX_QUERY_BYTES) {
        fail(&p, TR_ELIMIT, TQ_MAX_QUERY_BYTES, "query longer than %d bytes (TQ_MAX_QUERY_BYTES)",
             TQ_MAX_QUERY_BYTES);
    } else if (o && o->plain) {
        root = parse_plain(&p);
    } else {
        root = parse_or(&p, 0);
        if (!p.rc && root && root->kind != TQ_BOOL) { /* the root is always a BOOL */
            nodevec v = {0};
            root->occur = TQ_SHOULD;
            if (!vec_push(&p, &v, root)) root = make_bool(&p, &v, 0);
        }
    }
    if (!p.rc && !root) {
        root = node_new(&p, TQ_NONE, 0, p.len); /* a date filter, if any, is kept */
    }
    free(p.toks);
    if (p.rc) {
        arena_free(p.arena);
        memset(out, 0, sizeof *out);
        out->after = out->before = TR_NO_DATE;
        return p.rc;
    }
    out->root = root;
    out->arena = p.arena;
    return 0;
}

void tq_query_free(tq_query *q)
{
    if (!q) return;
    arena_free(q->arena);
    q->arena = NULL;
    q->root = NULL;
}

/* ---- printing ----------------------------------------------------------- */

static const char *occur_name(int occur)
{
    return occur == TQ_MUST ? "MUST" : occur == TQ_MUST_NOT ? "MUST_NOT" : "SHOULD";
}

static const char *field_name(int field)
{
    return field == TQ_FIELD_TITLE ? "title" : field == TQ_FIELD_BODY ? "body" : "body+title";
}

static void print_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void print_node(const tq_node *n, FILE *f, int indent, int with_occur)
{
    fprintf(f, "%*s", indent * 2, "");
    if (with_occur) fprintf(f, "%s ", occur_name(n->occur));
    switch (n->kind) {
    case TQ_TERM:
    case TQ_PREFIX:
        fprintf(f, "%s %s ", n->kind == TQ_TERM ? "TERM" : "PREFIX", field_name(n->field));
        print_str(f, n->text, n->len);
        if (n->weight != 1.0) fprintf(f, " ^%.4g", n->weight);
        fputc('\n', f);
        break;
    case TQ_PHRASE:
        fprintf(f, "PHRASE %s", field_name(n->field));
        for (size_t i = 0; i < n->nterms; i++) {
            fputc(' ', f);
            print_str(f, n->terms[i], n->term_lens[i]);
        }
        for (size_t i = 0; i < n->nterms; i++) fprintf(f, "%s%u", i ? "," : " @", n->offsets[i]);
        fputc('\n', f);
        break;
    case TQ_NEAR:
        fprintf(f, "NEAR/%u %s\n", n->slop, field_name(n->field));
        for (size_t i = 0; i < n->nkids; i++) print_node(n->kids[i], f, indent + 1, 0);
        break;
    case TQ_BOOL:
        fputs("BOOL\n", f);
        for (size_t i = 0; i < n->nkids; i++) print_node(n->kids[i], f, indent + 1, 1);
        break;
    case TQ_NONE:
        fputs("NONE\n", f);
        break;
    }
}

static void print_date(FILE *f, const char *op, int64_t t)
{
    int64_t days = t / SECONDS_PER_DAY - (t % SECONDS_PER_DAY < 0);
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    fprintf(f, "DATE %s %04d-%02u-%02u\n", op, y, m, d);
}

void tq_print(const tq_query *q, FILE *f)
{
    if (!q || !q->root) {
        fputs("NONE\n", f);
        return;
    }
    print_node(q->root, f, 0, 0);
    if (q->after != TR_NO_DATE) print_date(f, ">=", q->after);
    if (q->before != TR_NO_DATE) print_date(f, "<=", q->before);
}
