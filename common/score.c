/* score.c - BM25 over title and body (see score.h for the formula): the
 * collection constants, idf, and score bounds from stored tr_bound points. */
#include "score.h"

#include <math.h>

int tr_bm25_init(tr_bm25 *m, const tr_stats *st, double k1, double b, double w)
{
    memset(m, 0, sizeof *m);
    if (!(k1 >= 0 && isfinite(k1)) || !(b >= 0 && b <= 1) || !(w >= 0 && isfinite(w)))
        return TR_EINPUT;
    m->k1 = k1;
    m->b = b;
    m->w = w;
    m->n_docs = (double)st->docs;
    if (st->docs > 0) {
        m->avg_title = (double)st->title_tokens / (double)st->docs;
        m->avg_body = (double)st->body_tokens / (double)st->docs;
    }
    return TR_OK;
}

double tr_bm25_idf(double n_docs, double df)
{
    /* Deleted documents still count in df, which can then exceed N: clamp
     * N - df at 0 so idf stays positive (a term in every live doc). */
    double rest = n_docs > df ? n_docs - df : 0.0;
    return log(1.0 + (rest + 0.5) / (df + 0.5));
}

double tr_bm25_avgdl(const tr_bm25 *m, int field)
{
    double a;
    if (field == TR_FIELD_TITLE) a = m->avg_title;
    else if (field == TR_FIELD_BODY) a = m->avg_body;
    else a = m->w * m->avg_title + m->avg_body;
    /* An empty field everywhere: every dl' is 0 too, so any positive value
     * gives the length-neutral score. */
    return a > 0 ? a : 1.0;
}

void tr_bm25_term_init(const tr_bm25 *m, int field, double idf, tr_bm25_term *t)
{
    t->idf = idf;
    t->field = field;
    t->num = idf * (m->k1 + 1.0);
    t->ca = m->k1 * (1.0 - m->b);
    t->cb = m->k1 * m->b / tr_bm25_avgdl(m, field);
}

/* Bound when dl' can be as small as 0 and tf' is at most tfmax (TR_SAT16:
 * unbounded, so the saturation limit num). */
static double bound_tf_only(const tr_bm25_term *t, unsigned tfmax)
{
    if (tfmax >= TR_SAT16) return t->num;
    if (tfmax == 0) return 0.0;
    return t->num * tfmax / (tfmax + t->ca);
}

double tr_bm25_bound(const tr_bm25 *m, const tr_bm25_term *t, const tr_bound *bd)
{
    if (t->field == TR_FIELD_TITLE)
        return bound_tf_only(t, bd->max_ttf);
    if (t->field == TR_FIELD_BODY) {
        /* body tf <= tf; title length may make dl' anything, so assume 0 */
        unsigned mx = 0;
        for (unsigned i = 0; i < bd->npoints && i < TR_BOUND_POINTS; i++)
            if (bd->pt[i].tf > mx) mx = bd->pt[i].tf;
        if (bd->npoints == 0) mx = TR_SAT16; /* no information: no claim */
        return bound_tf_only(t, mx);
    }
    if (bd->npoints == 0) return t->num;
    return t->idf * tr_bound_bm25(bd, m->k1, m->b, m->w, tr_bm25_avgdl(m, TR_FIELD_ANY));
}
