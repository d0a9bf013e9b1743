/* snippet.c - query words in a stored body: match ranges and the passage
 * shown under each hit. The body is re-analysed (the index keeps positions,
 * not byte offsets), each token is checked against the query's positive
 * terms, and a sliding window over the matches picks the passage. */
#include "snippet.h"

#include <stdlib.h>
#include <string.h>

/* Shortest passage accepted: below this a snippet is not readable. */
#define TQ_SNIPPET_MIN_BYTES 16

typedef struct ts_entry {
    char *s;
    size_t len;
} ts_entry;

struct tq_termset {
    ts_entry *terms;  size_t nterms, terms_cap;    /* sorted after building */
    ts_entry *prefix; size_t nprefix, prefix_cap;
};

static int entry_cmp(const void *a, const void *b)
{
    const ts_entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int ts_add(ts_entry **arr, size_t *n, size_t *cap, const char *s, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if ((*arr)[i].len == len && !memcmp((*arr)[i].s, s, len))
            return 0;
    if (*n >= TQ_SNIPPET_MAX_TERMS)
        return 0; /* highlighting is best effort past the limit */
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        ts_entry *p = realloc(*arr, nc * sizeof *p);
        if (!p) return TR_ENOMEM;
        *arr = p; *cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) return TR_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = 0;
    (*arr)[*n].s = copy;
    (*arr)[*n].len = len;
    (*n)++;
    return 0;
}

/* Positive words only: a MUST_NOT subtree's words are exactly what the
 * hit does not contain, and title-only clauses say nothing about the body. */
static int ts_walk(tq_termset *ts, const tq_node *n, int depth)
{
    int rc = 0;
    if (!n || n->occur == TQ_MUST_NOT || depth > TQ_MAX_DEPTH * 2)
        return 0;
    switch (n->kind) {
    case TQ_TERM:
        if (n->field != TQ_FIELD_TITLE && n->len)
            rc = ts_add(&ts->terms, &ts->nterms, &ts->terms_cap, n->text, n->len);
        break;
    case TQ_PREFIX:
        if (n->field != TQ_FIELD_TITLE && n->len)
            rc = ts_add(&ts->prefix, &ts->nprefix, &ts->prefix_cap, n->text, n->len);
        break;
    case TQ_PHRASE:
        if (n->field == TQ_FIELD_TITLE)
            break;
        for (size_t i = 0; i < n->nterms && !rc; i++)
            if (n->term_lens[i])
                rc = ts_add(&ts->terms, &ts->nterms, &ts->terms_cap, n->terms[i], n->term_lens[i]);
        break;
    case TQ_NEAR:
    case TQ_BOOL:
        for (size_t i = 0; i < n->nkids && !rc; i++)
            rc = ts_walk(ts, n->kids[i], depth + 1);
        break;
    case TQ_NONE:
        break;
    }
    return rc;
}

static void ts_sort(tq_termset *ts)
{
    if (ts->nterms > 1)
        qsort(ts->terms, ts->nterms, sizeof *ts->terms, entry_cmp);
}

int tq_termset_new(const tq_query *q, tq_termset **out)
{
    *out = NULL;
    tq_termset *ts = calloc(1, sizeof *ts);
    if (!ts) return TR_ENOMEM;
    int rc = q ? ts_walk(ts, q->root, 0) : 0;
    if (rc) { tq_termset_free(ts); return rc; }
    ts_sort(ts);
    *out = ts;
    return 0;
}

int tq_termset_from_lists(const char *const *terms, size_t nterms,
                          const char *const *prefixes, size_t nprefixes,
                          tq_termset **out)
{
    *out = NULL;
    tq_termset *ts = calloc(1, sizeof *ts);
    if (!ts) return TR_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < nterms && !rc; i++)
        rc = ts_add(&ts->terms, &ts->nterms, &ts->terms_cap, terms[i], strlen(terms[i]));
    for (size_t i = 0; i < nprefixes && !rc; i++)
        rc = ts_add(&ts->prefix, &ts->nprefix, &ts->prefix_cap, prefixes[i], strlen(prefixes[i]));
    if (rc) { tq_termset_free(ts); return rc; }
    ts_sort(ts);
    *out = ts;
    return 0;
}

void tq_termset_free(tq_termset *ts)
{
    if (!ts) return;
    for (size_t i = 0; i < ts->nterms; i++) free(ts->terms[i].s);
    for (size_t i = 0; i < ts->nprefix; i++) free(ts->prefix[i].s);
    free(ts->terms);
    free(ts->prefix);
    free(ts);
}

size_t tq_termset_size(const tq_termset *ts)
{
    return ts ? ts->nterms + ts->nprefix : 0;
}

/* ---- analysing the body ---- */

typedef struct scan_ctx {
    tr_analyzer *a;
    const tq_termset *ts;
    const char *body;
    tq_snippet *sn;
    int rc;
} scan_ctx;

static int has_prefix(const char *s, size_t len, const ts_entry *p)
{
    return len >= p->len && !memcmp(s, p->s, p->len);
}

/* Index of the termset entry the token matches, or -1. Exact terms are
 * numbered first, prefixes after them. */
static long match_token(scan_ctx *c, const tr_token *t)
{
    const tq_termset *ts = c->ts;
    if (ts->nterms) {
        ts_entry key = { (char *)t->term, t->len };
        ts_entry *hit = bsearch(&key, ts->terms, ts->nterms, sizeof key, entry_cmp);
        if (hit) return hit - ts->terms;
    }
    if (!ts->nprefix) return -1;
    /* Prefixes are folded but unstemmed: compare with the folded word as
     * written, and with the stem too (a prefix typed as a stem, "connect*"). */
    int folded = t->end > t->start &&
                 tr_fold(c->a, c->body + t->start, t->end - t->start, &c->sn->fold) == 0;
    for (size_t i = 0; i < ts->nprefix; i++) {
        if (has_prefix(t->term, t->len, &ts->prefix[i]))
            return (long)(ts->nterms + i);
        if (folded && has_prefix((const char *)c->sn->fold.data, c->sn->fold.len, &ts->prefix[i]))
            return (long)(ts->nterms + i);
    }
    return -1;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return TR_ENOMEM;
    *p = q; *cap = nc;
    return 0;
}

static int on_token(void *ctx, const tr_token *t)
{
    scan_ctx *c = ctx;
    tq_snippet *sn = c->sn;
    if (t->end <= t->start)
        return 0;
    if (grow((void **)&sn->bounds, &sn->bounds_cap, sn->nbounds + 2, sizeof *sn->bounds)) {
        c->rc = TR_ENOMEM;
        return 1;
    }
    /* A word that analyses into several terms gives several tokens with
     * one range; keep the range once. */
    if (!(sn->nbounds && sn->bounds[sn->nbounds - 2] == t->start)) {
        sn->bounds[sn->nbounds++] = t->start;
        sn->bounds[sn->nbounds++] = t->end;
    }
    long m = match_token(c, t);
    if (m < 0)
        return 0;
    if (sn->nmatches && sn->matches[sn->nmatches - 1].start == t->start)
        return 0;
    if (grow((void **)&sn->matches, &sn->cap, sn->nmatches + 1, sizeof *sn->matches)) {
        c->rc = TR_ENOMEM;
        return 1;
    }
    sn->matches[sn->nmatches++] = (tq_span){ t->start, t->end, (uint32_t)m };
    return 0;
}

/* Step back to the first byte of a UTF-8 sequence (pos itself if it is one). */
static size_t utf8_back(const char *s, size_t len, size_t pos)
{
    while (pos > 0 && pos < len && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* First word start >= pos, or len if none. */
static size_t word_start_at_or_after(const tq_snippet *sn, size_t pos, size_t len)
{
    size_t lo = 0, hi = sn->nbounds / 2;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sn->bounds[mid * 2] < pos) lo = mid + 1; else hi = mid;
    }
    return lo < sn->nbounds / 2 ? sn->bounds[lo * 2] : len;
}

/* Last word end <= pos, or 0 if none. Ends ascend as starts do. */
static size_t word_end_at_or_before(const tq_snippet *sn, size_t pos)
{
    size_t lo = 0, hi = sn->nbounds / 2;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sn->bounds[mid * 2 + 1] <= pos) lo = mid + 1; else hi = mid;
    }
    return lo ? sn->bounds[(lo - 1) * 2 + 1] : 0;
}

/* The run of matches [*bi, *bj) that fits in width bytes and holds the most
 * distinct terms (then the most matches, then the earliest). */
static int best_run(tq_snippet *sn, size_t nterms, size_t width, size_t *bi, size_t *bj)
{
    if (grow((void **)&sn->counts, &sn->counts_cap, nterms ? nterms : 1, sizeof *sn->counts))
        return TR_ENOMEM;
    memset(sn->counts, 0, (nterms ? nterms : 1) * sizeof *sn->counts);
    size_t best_d = 0, best_n = 0, distinct = 0, j = 0;
    *bi = *bj = 0;
    for (size_t i = 0; i < sn->nmatches; i++) {
        if (j < i + 1) {  /* the window always holds match i */
            j = i;
            if (sn->counts[sn->matches[j].term]++ == 0) distinct++;
            j++;
        }
        while (j < sn->nmatches &&
               (size_t)sn->matches[j].end - sn->matches[i].start <= width) {
            if (sn->counts[sn->matches[j].term]++ == 0) distinct++;
            j++;
        }
        if (distinct > best_d || (distinct == best_d && j - i > best_n)) {
            best_d = distinct; best_n = j - i; *bi = i; *bj = j;
        }
        if (--sn->counts[sn->matches[i].term] == 0) distinct--;
    }
    sn->win_terms = best_d;
    return 0;
}

int tq_snippet_make(tr_analyzer *a, const tq_termset *ts, const char *body, size_t len,
                    size_t width, tq_snippet *sn)
{
    sn->nmatches = sn->nbounds = 0;
    sn->win_start = sn->win_end = 0;
    sn->cut_before = sn->cut_after = 0;
    sn->win_terms = 0;
    if (width < TQ_SNIPPET_MIN_BYTES) width = TQ_SNIPPET_MIN_BYTES;
    if (width > TQ_SNIPPET_MAX_BYTES) width = TQ_SNIPPET_MAX_BYTES;
    if (!body || !len)
        return 0;
    /* Offsets are stored as uint32_t: a longer body is searched only in its
     * first 4 GiB, which the index cannot hold anyway. */
    if (len > UINT32_MAX) len = UINT32_MAX;

    scan_ctx c = { a, ts, body, sn, 0 };
    int rc = tr_analyze(a, body, len, 0, on_token, &c);
    if (c.rc) return c.rc;
    if (rc < 0) return rc;

    size_t ms = 0, me = 0;
    if (sn->nmatches) {
        size_t bi, bj;
        if ((rc = best_run(sn, tq_termset_size(ts), width, &bi, &bj)))
            return rc;
        ms = sn->matches[bi].start;
        me = sn->matches[bj - 1].end;
    }
    /* Centre-left: a third of the spare room before the matches, the rest
     * after, since a sentence usually explains its subject after it. */
    size_t slack = width > me - ms ? width - (me - ms) : 0;
    size_t start = ms > slack / 3 ? ms - slack / 3 : 0;
    size_t end = start + width;
    if (end > len) {
        end = len;
        start = end > width ? end - width : 0;
        if (start > ms) start = ms;
    }
    if (start > 0) {
        size_t w = word_start_at_or_after(sn, start, len);
        start = w <= ms || !sn->nmatches ? w : ms;
    }
    if (end < len) {
        size_t w = word_end_at_or_before(sn, end);
        if (w > start) end = w;
        else end = utf8_back(body, len, end); /* one word longer than the window */
    }
    if (sn->nmatches && end < me) end = me;
    if (start > end) start = end;
    sn->win_start = utf8_back(body, len, start);
    sn->win_end = end;
    sn->cut_before = sn->win_start > 0;
    sn->cut_after = sn->win_end < len;
    return 0;
}

void tq_snippet_free(tq_snippet *sn)
{
    if (!sn) return;
    free(sn->matches);
    free(sn->bounds);
    free(sn->counts);
    tr_buf_free(&sn->fold);
    memset(sn, 0, sizeof *sn);
}
