/* score.h - BM25 over title and body with one title weight (BM25F-style,
 * single saturation): the ranking function of trawl, its defaults in one
 * place, and upper bounds over a posting block for dynamic pruning.
 *
 * For a term in field ANY, with title weight w:
 *   tf'    = w*ttf + (tf - ttf)
 *   dl'    = w*title_len + body_len
 *   avgdl' = w*avg_title + avg_body     (averages over live documents)
 * TITLE: tf' = ttf, dl' = title_len, avgdl' = avg_title;
 * BODY:  tf' = tf - ttf, dl' = body_len, avgdl' = avg_body.
 *   score = idf * tf'(k1+1) / (tf' + k1(1 - b + b*dl'/avgdl'))
 *   idf   = ln(1 + (N - df + 0.5)/(df + 0.5))   (Lucene's; never negative)
 * with N = live documents. A phrase or NEAR clause scores like one term with
 * tf = its number of matches in the document and idf = the sum of its terms'
 * idfs. The score is computed as num*tf'/(tf' + (ca + cb*dl')) with the
 * per-term constants below, so every caller gets the same double. */
#ifndef TRAWL_SCORE_H
#define TRAWL_SCORE_H

#include "index.h"

/* The defaults; the relevance benchmark tunes them here and nowhere else. */
#define TQ_DEFAULT_K1 2.0
#define TQ_DEFAULT_B 0.85
#define TQ_DEFAULT_TITLE_WEIGHT 2.0

/* Fields, with the values of parse.h's TQ_FIELD_* (common/ does not see query/). */
enum { TR_FIELD_ANY = 0, TR_FIELD_TITLE = 1, TR_FIELD_BODY = 2 };

/* Collection-level parameters of one query evaluation. */
typedef struct tr_bm25 {
    double k1, b, w;
    double n_docs;              /* live documents */
    double avg_title, avg_body; /* average field lengths over live documents */
} tr_bm25;

/* Per-term constants: score = num * tf' / (tf' + (ca + cb * dl')). */
typedef struct tr_bm25_term {
    double idf;
    double num;                 /* idf * (k1 + 1) */
    double ca;                  /* k1 * (1 - b) */
    double cb;                  /* k1 * b / avgdl' */
    int field;
} tr_bm25_term;

/* Fill m from the snapshot's statistics. k1, b >= 0 and w >= 0 are the
 * caller's (TR_EINPUT for negative or non-finite values). */
int tr_bm25_init(tr_bm25 *m, const tr_stats *st, double k1, double b, double w);

/* Lucene's idf; df may exceed N (deleted documents count in df). */
double tr_bm25_idf(double n_docs, double df);

/* avgdl' of a field (1.0 when the collection is empty, to avoid 0/0). */
double tr_bm25_avgdl(const tr_bm25 *m, int field);

void tr_bm25_term_init(const tr_bm25 *m, int field, double idf, tr_bm25_term *t);

/* tf' of a posting in a field. */
static inline double tr_bm25_tf(int field, double w, uint32_t tf, uint32_t ttf)
{
    if (field == TR_FIELD_TITLE) return (double)ttf;
    if (field == TR_FIELD_BODY) return (double)(tf - ttf);
    return w * (double)ttf + (double)(tf - ttf);
}

/* dl' of a document in a field. */
static inline double tr_bm25_dl(int field, double w, uint32_t title_len, uint32_t body_len)
{
    if (field == TR_FIELD_TITLE) return (double)title_len;
    if (field == TR_FIELD_BODY) return (double)body_len;
    return w * (double)title_len + (double)body_len;
}

static inline double tr_bm25_score(const tr_bm25_term *t, double tfp, double dlp)
{
    return t->num * tfp / (tfp + (t->ca + t->cb * dlp));
}

/* An upper bound on tr_bm25_score for any posting the stored bound covers
 * (a block's or a whole list's). Not inflated: callers that compare bounds
 * with scores add their own margin for rounding. */
double tr_bm25_bound(const tr_bm25 *m, const tr_bm25_term *t, const tr_bound *bd);

#endif
