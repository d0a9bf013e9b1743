/* eval.h - evaluating a query tree against an index snapshot: ranked top-k
 * (pruned, with an exhaustive reference evaluator beside it), counting,
 * and per-term explanations. Ranking is BM25 over title and body (score.h). */
#ifndef TRAWL_EVAL_H
#define TRAWL_EVAL_H

#include "index.h"
#include "parse.h"
#include "score.h"

/* Most dictionary terms one prefix* expands to; past it the expansion keeps
 * the first TQ_MAX_PREFIX_TERMS (by df, highest first) and says so. */
#define TQ_MAX_PREFIX_TERMS 256
#define TQ_MAX_TOP 100000        /* largest k + offset */

typedef struct tq_eval_opts {
    double k1, b;               /* BM25 */
    double title_weight;        /* weight of title occurrences and length */
    size_t k, offset;           /* hits wanted: ranks offset+1 .. offset+k */
    int exhaustive;             /* 1: score every match (reference / tests) */
    int want_total;             /* 1: also count all matches exactly (no pruning) */
    int64_t after, before;      /* date filter (inclusive, seconds), TR_NO_DATE = none */
    int verify;                 /* check block checksums (default 1) */
    double tight_span;          /* unions: a non-essential list whose blocks span this
                                 * many doc ids on average is bounded per block
                                 * (0 = TQ_TIGHT_SPAN in eval.c; tests set 1) */
} tq_eval_opts;

void tq_eval_opts_default(tq_eval_opts *o);

typedef struct tq_hit {
    uint32_t doc;
    double score;
} tq_hit;

typedef struct tq_result {
    tq_hit *hits; size_t nhits;  /* best first; ties broken by lower doc id */
    uint64_t total;              /* matches, when want_total or counting */
    char warning[256];           /* e.g. "prefix 'th*' matched more than 256 terms; using the 256 most frequent" */
    uint64_t postings_scored;    /* work done: for benchmarks and tests */
} tq_result;

/* Ranked search. Errors: TR_ECORRUPT (a bad block: message says which
 * term/doc), TR_ENOMEM, TR_EINPUT (e.g. a query with no positive clause). */
int tq_search(tr_reader *r, const tq_query *q, const tq_eval_opts *o,
              tq_result *out, char *err, size_t errcap);

/* Count matches without scoring. */
int tq_count(tr_reader *r, const tq_query *q, const tq_eval_opts *o,
             uint64_t *count, char *err, size_t errcap);

void tq_result_free(tq_result *res);

/* Explain doc's score: calls fn once per scoring clause that matches doc
 * with a human-readable description ("body:aliyev tf=3 ttf=1 dl=120 idf=4.21")
 * and its contribution. Returns the total score through *score. */
typedef void (*tq_explain_fn)(void *ctx, const char *what, double contribution);
int tq_explain(tr_reader *r, const tq_query *q, const tq_eval_opts *o, uint32_t doc,
               tq_explain_fn fn, void *ctx, double *score, char *err, size_t errcap);

/* The single-term loop's prefilter, for tests: pass[i] = 1 for each posting
 * (tf[i], ttf[i], title length tl[i], body length bl[i]) whose score under
 * bm and title weight w could exceed min (a posting left at 0 cannot);
 * returns how many. Requires m <= 128, counts <= INT32_MAX, min >= 0 and
 * tq_pass_usable(w, bm). simd = 0 forces the portable loop. */
int tq_pass_usable(double w, const tr_bm25_term *bm);
uint32_t tq_block_pass(const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl,
                       const uint32_t *bl, uint32_t m, double w, const tr_bm25_term *bm,
                       double min, uint8_t *pass, int simd);

#endif
