/* test_score.c - BM25 (common/score.c): a hand-computed example in every
 * field, idf at its edges, and bounds that never fall below a score. */
#include "check.h"
#include "score.h"

#include <math.h>

static int near_eq(double a, double b) { return fabs(a - b) <= 1e-12 * (fabs(b) + 1); }

int main(void)
{
    /* Collection: N = 10 live docs, 40 title tokens, 220 body tokens, so
     * avg_title = 4, avg_body = 22; title weight w = 2 gives
     * avgdl' = 2*4 + 22 = 30. One term with df = 2:
     *   idf = ln(1 + (10 - 2 + 0.5)/(2 + 0.5)) = ln(4.4) = 1.4816045409242156
     * A posting tf = 3, ttf = 1 in a doc with title_len 5, body_len 20:
     * ANY:   tf' = 2*1 + (3-1) = 4, dl' = 2*5 + 20 = 30 = avgdl'
     *        4*2.2 / (4 + 1.2*(1 - 0.75 + 0.75*30/30)) = 8.8/5.2 = 1.6923076923076923
     *        score = 1.4816045409242156 * 1.6923076923076923 = 2.507330761564057
     * TITLE: tf' = 1, dl' = 5, avgdl' = 4
     *        1*2.2 / (1 + 1.2*(0.25 + 0.75*5/4)) = 2.2/2.425 = 0.9072164948453609
     *        score = 1.3441360783642369
     * BODY (tf' = 17, dl' = 20, avgdl' = 22, another posting):
     *        17*2.2 / (17 + 1.2*(0.25 + 0.75*20/22)) = 2.064224786753638
     *        score = 3.0583648175425107 */
    tr_stats st;
    memset(&st, 0, sizeof st);
    st.docs = 10;
    st.title_tokens = 40;
    st.body_tokens = 220;
    tr_bm25 m;
    CHECK_EQ_INT(tr_bm25_init(&m, &st, 1.2, 0.75, 2.0), 0);
    double idf = tr_bm25_idf(m.n_docs, 2);
    CHECK(near_eq(idf, 1.4816045409242156));
    CHECK(near_eq(tr_bm25_avgdl(&m, TR_FIELD_ANY), 30.0));
    CHECK(near_eq(tr_bm25_avgdl(&m, TR_FIELD_TITLE), 4.0));
    CHECK(near_eq(tr_bm25_avgdl(&m, TR_FIELD_BODY), 22.0));

    tr_bm25_term any, title, body;
    tr_bm25_term_init(&m, TR_FIELD_ANY, idf, &any);
    tr_bm25_term_init(&m, TR_FIELD_TITLE, idf, &title);
    tr_bm25_term_init(&m, TR_FIELD_BODY, idf, &body);
    double s_any = tr_bm25_score(&any, tr_bm25_tf(TR_FIELD_ANY, 2.0, 3, 1), tr_bm25_dl(TR_FIELD_ANY, 2.0, 5, 20));
    double s_title = tr_bm25_score(&title, tr_bm25_tf(TR_FIELD_TITLE, 2.0, 3, 1), tr_bm25_dl(TR_FIELD_TITLE, 2.0, 5, 20));
    double s_body = tr_bm25_score(&body, tr_bm25_tf(TR_FIELD_BODY, 2.0, 17, 0), tr_bm25_dl(TR_FIELD_BODY, 2.0, 0, 20));
    CHECK(near_eq(s_any, 2.507330761564057));
    CHECK(near_eq(s_title, 1.3441360783642369));
    CHECK(near_eq(s_body, 3.0583648175425107));

    /* idf: never negative, even when deleted docs push df past N */
    CHECK(tr_bm25_idf(10, 10) > 0);
    CHECK(tr_bm25_idf(10, 25) > 0);
    CHECK(tr_bm25_idf(0, 1) > 0);
    CHECK(near_eq(tr_bm25_idf(1000, 1), log(1 + 999.5 / 1.5)));

    /* the defaults (tuned by bench/relevance.py, see the README) are sane */
    CHECK(TQ_DEFAULT_K1 > 0 && TQ_DEFAULT_B >= 0 && TQ_DEFAULT_B <= 1 && TQ_DEFAULT_TITLE_WEIGHT > 0);

    /* bad parameters are input errors */
    CHECK_EQ_INT(tr_bm25_init(&m, &st, -1, 0.75, 1), TR_EINPUT);
    CHECK_EQ_INT(tr_bm25_init(&m, &st, 1.2, 1.5, 1), TR_EINPUT);
    CHECK_EQ_INT(tr_bm25_init(&m, &st, 1.2, 0.75, NAN), TR_EINPUT);

    /* empty collection: no division by zero */
    tr_stats empty;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ_INT(tr_bm25_init(&m, &empty, 1.2, 0.75, 1), 0);
    CHECK(tr_bm25_avgdl(&m, TR_FIELD_ANY) == 1.0);

    /* Bounds: a block holding the ANY posting above (tf 3, dl 25, max_ttf 1)
     * bounds its score in every field, and a saturated bound gives the limit. */
    CHECK_EQ_INT(tr_bm25_init(&m, &st, 1.2, 0.75, 2.0), 0);
    tr_bound bd;
    memset(&bd, 0, sizeof bd);
    bd.max_ttf = 1;
    bd.npoints = 1;
    bd.pt[0].tf = 3;
    bd.pt[0].dl = 25;
    CHECK(tr_bm25_bound(&m, &any, &bd) >= s_any * (1 - 1e-12));
    CHECK(tr_bm25_bound(&m, &title, &bd) >= s_title * (1 - 1e-12));
    bd.pt[0].tf = 17;
    CHECK(tr_bm25_bound(&m, &body, &bd) >= s_body * (1 - 1e-12));
    bd.pt[0].tf = TR_SAT16;
    CHECK(near_eq(tr_bm25_bound(&m, &body, &bd), idf * 2.2));
    bd.max_ttf = 0;
    CHECK(tr_bm25_bound(&m, &title, &bd) == 0.0); /* never in a title: no title score */
    return check_done();
}
