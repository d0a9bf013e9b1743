/* merge.c - rewrite an index's posting lists into one generation and purge
 * its deleted documents (tr_index_merge, index.h).
 *
 * Every commit appends its chunks under a generation of its own (schema.c),
 * so a term that several commits added to has its list in several runs of
 * chunks: one LMDB seek and one partial chunk more per generation, and the
 * cut between them costs bytes (the passages, indexed in 3 batches: 136.3 MB
 * of postings against 131.9 MB in one). Deleted documents stay in the lists
 * until now; queries skip them with the deleted bitmap.
 *
 * A merge reads every list with chunks (when some list is in more than one
 * generation; the inline ones too when documents are deleted), drops the deleted documents' postings, cuts
 * the rest as a commit would (chunker.c) and appends the chunks under a new
 * generation, one past the last; the old chunks are deleted and the term's
 * value rewritten. Terms go in term id order, so every new key sorts after
 * the one before (MDB_APPEND: full pages). The work is cut into
 * transactions of about a quarter of the memory budget of encoded postings:
 * each leaves a sound index (a term is either all old or all merged) and a
 * crash loses only the transaction in flight. Pages freed by one are reused
 * by the next. The deleted documents go in the last transaction, once no
 * list holds them: their records, their `deleted` entries, and their bodies
 * (each zstd block that held one is recompressed without it, under the key
 * of its last live document; dropped when none is left).
 *
 * Only one process may write an index at a time (tr_schema_lock), so no
 * commit can slip a later generation in between the transactions. */
#include "chunker.h"
#include "dict.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Encoded postings per transaction: the budget divided by this (its dirty
 * pages stay in memory until the commit). */
#define TR_MERGE_TXN_SHARE 4

typedef struct mterm { uint32_t term_id, off, len; } mterm;

/* Chunk bytes read per round: the round's chunks are decoded and encoded
 * by the threads, then written in term order by the caller's thread. */
#define TR_MERGE_ROUND_BYTES ((size_t)16 << 20)
#define TR_MERGE_MAX_THREADS 64

/* One term of a round: its chunks (pointers into the map, valid while the
 * round's transaction has not written), what the threads made of them. */
typedef struct mjob {
    const mterm *t;
    tr_term_info old;
    size_t chunk0, nchunks;     /* its refs in merger.refs */
    size_t key0;                /* its old keys in merger.oldkeys: key0.. next job's */
    tr_buf enc;                 /* records from tr_encode_chunks */
    size_t n;                   /* live postings */
    uint64_t cf, purged;
    int rc;
} mjob;
typedef struct mref { const uint8_t *p; size_t len; } mref;

typedef struct merger {
    tr_index *ix;
    tr_stats st;
    uint32_t gen;               /* the generation the merge writes */
    uint64_t *del;              /* deleted bitmap over [0, st.next_doc) */
    uint32_t *dels; size_t ndels;
    uint32_t *tlen, *blen;      /* title and body length by doc, from norms */
    mterm *terms; size_t nterms;
    tr_buf names;               /* the terms' bytes */
    unsigned threads;
    tr_enc_scratch sc[TR_MERGE_MAX_THREADS];
    mjob *jobs; size_t njobs, jobcap;
    mref *refs; size_t nrefs, refcap;
    uint8_t (*oldkeys)[TR_POSTINGS_KEY_BYTES]; size_t nold, oldcap;
    atomic_size_t next_job;
    const mterm *failed;        /* the term being read or written when it failed */
    tr_dict_update *upd; size_t nupd, updcap;  /* the transaction's new term values */
    size_t *voff;               /* where each one's value starts in vals */
    tr_buf vals;                /* their bytes */
    size_t budget;              /* bytes of chunks a transaction writes */
    tr_merge_stats ms;
} merger;

static int is_deleted(const merger *m, uint32_t doc)
{
    return m->del && doc < m->st.next_doc && (m->del[doc >> 6] >> (doc & 63) & 1);
}

static int mterm_cmp(const void *a, const void *b)
{
    uint32_t x = ((const mterm *)a)->term_id, y = ((const mterm *)b)->term_id;
    return x < y ? -1 : x > y;
}

typedef struct survey_ctx { merger *m; size_t cap, split; } survey_ctx;

/* A term of the dictionary walk: counted, and queued when it has chunks
 * (or an inline list that may hold deleted documents). */
static int survey_term(void *ctx, const uint8_t *term, size_t len, const tr_term_info *info)
{
    survey_ctx *sc = ctx;
    merger *m = sc->m;
    if (!info->inline_chunk) m->ms.chunks_before += info->nchunks;
    sc->split += info->ngens > 1;
    if (info->inline_chunk && !m->ndels) return 0;
    if (m->nterms == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 4096;
        mterm *n = realloc(m->terms, sc->cap * sizeof *n);
        if (!n) return TR_ENOMEM;
        m->terms = n;
    }
    m->terms[m->nterms++] = (mterm){ info->term_id, (uint32_t)m->names.len, (uint32_t)len };
    return tr_buf_append(&m->names, term, len) ? TR_ENOMEM : 0;
}

/* Snapshot what the merge needs before writing: stats, the deleted set,
 * every document's length, and the terms to rewrite (sorted by id). */
static int survey(merger *m, MDB_txn *txn)
{
    tr_index *ix = m->ix;
    MDB_val k = { 5, "stats" }, v;
    int rc = mdb_get(txn, ix->dbi[TR_DB_META], &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? TR_ECORRUPT : rc;
    if (tr_stats_decode(&m->st, v.mv_data, v.mv_size)) return TR_ECORRUPT;
    size_t nd = (size_t)m->st.next_doc + 1;
    m->tlen = calloc(nd, sizeof *m->tlen);
    m->blen = calloc(nd, sizeof *m->blen);
    if (!m->tlen || !m->blen) return TR_ENOMEM;
    MDB_cursor *mc;
    rc = mdb_cursor_open(txn, ix->dbi[TR_DB_NORMS], &mc);
    if (rc) return rc;
    for (int op = MDB_FIRST; (rc = mdb_cursor_get(mc, &k, &v, (MDB_cursor_op)op)) == 0; op = MDB_NEXT) {
        if (k.mv_size != 4 || v.mv_size % TR_NORM_BYTES) { rc = TR_ECORRUPT; break; }
        uint64_t base = (uint64_t)tr_get_be32(k.mv_data) << TR_NORMS_SHIFT;
        const uint8_t *p = v.mv_data;
        for (size_t i = 0; i < v.mv_size / TR_NORM_BYTES && base + i < nd; i++, p += TR_NORM_BYTES) {
            m->tlen[base + i] = tr_get_le32(p);
            m->blen[base + i] = tr_get_le32(p + 4);
        }
    }
    mdb_cursor_close(mc);
    if (rc != MDB_NOTFOUND) return rc;
    rc = mdb_cursor_open(txn, ix->dbi[TR_DB_DELETED], &mc);
    if (rc) return rc;
    size_t cap = 0;
    for (int op = MDB_FIRST; (rc = mdb_cursor_get(mc, &k, &v, (MDB_cursor_op)op)) == 0; op = MDB_NEXT) {
        uint32_t doc = k.mv_size == 4 ? tr_get_be32(k.mv_data) : 0;
        if (doc == 0 || doc >= m->st.next_doc) { rc = TR_ECORRUPT; break; }
        if (m->ndels == cap) {
            cap = cap ? cap * 2 : 1024;
            uint32_t *n = realloc(m->dels, cap * sizeof *n);
            if (!n) { rc = TR_ENOMEM; break; }
            m->dels = n;
        }
        m->dels[m->ndels++] = doc;
    }
    mdb_cursor_close(mc);
    if (rc != MDB_NOTFOUND) return rc;
    if (m->ndels) {
        m->del = calloc(((size_t)m->st.next_doc >> 6) + 1, sizeof *m->del);
        if (!m->del) return TR_ENOMEM;
        for (size_t i = 0; i < m->ndels; i++) m->del[m->dels[i] >> 6] |= (uint64_t)1 << (m->dels[i] & 63);
    }
    survey_ctx sc = { m, 0, 0 };
    rc = tr_dict_walk(txn, ix->dbi[TR_DB_TERMS], "", 0, survey_term, &sc);
    if (rc) return rc;
    size_t split = sc.split;
    m->ms.gens_before = m->st.generation;
    /* Every list that has chunks is rewritten, not only the split ones:
     * deleting some keys from a leaf page leaves it part empty, rewriting
     * them all frees the old pages whole (passages, 3 commits: postings
     * 134.8 MB rewriting the 45k split lists, 131.9 MB rewriting all 55k,
     * as small as a one-commit build; about the same time). Nothing to do
     * when no list is split and nothing is deleted. */
    if (!split && !m->ndels) m->nterms = 0;
    qsort(m->terms, m->nterms, sizeof *m->terms, mterm_cmp);
    return TR_OK;
}

/* Append chunk c's live postings to sc after *n / *np (a thread's own
 * scratch); counts the deleted ones in *purged. */
static int load_chunk(const merger *m, tr_enc_scratch *sc, const tr_chunk *c, size_t *n, size_t *np,
                      uint64_t *purged)
{
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    for (uint32_t b = 0; b < c->nblocks; b++) {
        int cnt = tr_chunk_block_decode(c, b, 1, docs, tf, ttf);
        if (cnt < 0) return TR_ECORRUPT;
        size_t sum = 0;
        for (int i = 0; i < cnt; i++) sum += tf[i];
        int rc = tr_enc_scratch_reserve(sc, *n + (size_t)cnt, *np + sum);
        if (rc) return rc;
        /* decoded in place after the kept positions, then compacted */
        uint32_t *pos = sc->spos + *np;
        int pc = 0;
        if (c->has_positions) {
            uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
            for (int i = 0; i < cnt; i++) {
                if (docs[i] >= m->st.next_doc) return TR_ECORRUPT;
                tl[i] = m->tlen[docs[i]];
                bl[i] = m->blen[docs[i]];
            }
            pc = tr_chunk_block_positions(c, b, 1, tf, (uint32_t)cnt, tl, bl, pos, sc->sposcap - *np);
            if (pc < 0) return TR_ECORRUPT;
        }
        size_t at = 0, keep = 0;
        for (int i = 0; i < cnt; i++) {
            size_t t = c->has_positions ? tf[i] : 0;
            if (docs[i] >= m->st.next_doc) return TR_ECORRUPT;
            if (is_deleted(m, docs[i])) {
                (*purged)++;
            } else {
                if (keep != at) memmove(pos + keep, pos + at, t * sizeof *pos);
                keep += t;
                sc->sd[*n] = docs[i];
                sc->stf[*n] = tf[i];
                sc->sttf[*n] = ttf[i];
                sc->stl[*n] = m->tlen[docs[i]];
                sc->sdl[*n] = m->tlen[docs[i]] + m->blen[docs[i]];
                (*n)++;
            }
            at += t;
        }
        if (c->has_positions && (size_t)pc != at) return TR_ECORRUPT;
        *np += keep;
    }
    return TR_OK;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return TR_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *n = realloc(*arr, c * size);
    if (!n) return TR_ENOMEM;
    memset(n + *cap * size, 0, (c - *cap) * size);   /* jobs keep their buffers */
    *arr = n;
    *cap = c;
    return TR_OK;
}

/* tr_term_chunks' callback for gather: one chunk of the job's term. */
typedef struct gather_ctx { merger *m; mjob *j; size_t *bytes; } gather_ctx;
static int gather_chunk(void *ctx, uint32_t gen, const MDB_val *k, const MDB_val *v)
{
    (void)gen;
    gather_ctx *gc = ctx;
    merger *m = gc->m;
    int rc = grow((void **)&m->refs, &m->refcap, m->nrefs + 1, sizeof *m->refs);
    if (!rc) rc = grow((void **)&m->oldkeys, &m->oldcap, m->nold + 1, sizeof *m->oldkeys);
    if (rc) return rc;
    m->refs[m->nrefs++] = (mref){ v->mv_data, v->mv_size };
    memcpy(m->oldkeys[m->nold++], k->mv_data, TR_POSTINGS_KEY_BYTES);
    gc->j->nchunks++;
    *gc->bytes += v->mv_size;
    return TR_OK;
}

/* Queue term t for the round: its value, its chunks (refs into the map) and
 * their keys. Adds the chunks' bytes to *bytes. */
static int gather(merger *m, MDB_txn *txn, MDB_cursor *mc, const mterm *t, size_t *bytes)
{
    int rc = grow((void **)&m->jobs, &m->jobcap, m->njobs + 1, sizeof *m->jobs);
    if (rc) return rc;
    mjob *j = &m->jobs[m->njobs];
    tr_buf enc = j->enc;                /* buffers are kept between rounds */
    *j = (mjob){ .t = t, .chunk0 = m->nrefs, .key0 = m->nold, .enc = enc };
    /* the dictionary is only written at the end of the transaction, so
     * the value (and its inline chunk in the map) stays put until then */
    rc = tr_dict_get(txn, m->ix->dbi[TR_DB_TERMS], m->names.data + t->off, t->len, &j->old);
    if (rc == TR_ENOTFOUND || (!rc && j->old.term_id != t->term_id)) rc = TR_ECORRUPT;
    if (rc) return rc;
    m->njobs++;
    if (j->old.inline_chunk) {
        if ((rc = grow((void **)&m->refs, &m->refcap, m->nrefs + 1, sizeof *m->refs))) return rc;
        m->refs[m->nrefs++] = (mref){ j->old.inline_chunk, j->old.inline_len };
        j->nchunks = 1;
        *bytes += j->old.inline_len;
        return TR_OK;
    }
    gather_ctx gc = { m, j, bytes };
    return tr_term_chunks(mc, t->term_id, j->old.gens, j->old.gens_len, gather_chunk, &gc);
}

/* A thread's part of a round: decode a job's chunks, encode its live
 * postings. Reads only the map and the merger's read-only tables. */
static void encode_job(merger *m, tr_enc_scratch *sc, mjob *j)
{
    size_t n = 0, np = 0;
    uint32_t last = 0;
    tr_buf_clear(&j->enc);
    for (size_t i = 0; i < j->nchunks && !j->rc; i++) {
        const mref *r = &m->refs[j->chunk0 + i];
        tr_chunk c;
        int bad = j->old.inline_chunk ? tr_chunk_open_inline(&c, r->p, r->len) : tr_chunk_open(&c, r->p, r->len);
        if (bad || c.first_doc <= last) { j->rc = TR_ECORRUPT; break; }
        if (!j->old.inline_chunk && c.first_doc != tr_get_be32(m->oldkeys[j->key0 + i] + 8)) {
            j->rc = TR_ECORRUPT;
            break;
        }
        last = c.last_doc;
        j->rc = load_chunk(m, sc, &c, &n, &np, &j->purged);
    }
    j->n = n;
    for (size_t i = 0; i < n && !j->rc; i++) j->cf += sc->stf[i];
    if (!j->rc && n) j->rc = tr_encode_chunks(sc, n, &j->enc);
}

typedef struct marg { merger *m; tr_enc_scratch *sc; } marg;

static void *encode_thread(void *p)
{
    marg *a = p;
    for (;;) {
        size_t i = atomic_fetch_add(&a->m->next_job, 1);
        if (i >= a->m->njobs) break;
        encode_job(a->m, a->sc, &a->m->jobs[i]);
    }
    return NULL;
}

static void encode_round(merger *m)
{
    atomic_store(&m->next_job, 0);
    marg args[TR_MERGE_MAX_THREADS];
    pthread_t th[TR_MERGE_MAX_THREADS];
    unsigned nt = m->threads < m->njobs ? m->threads : (unsigned)m->njobs, started = 0;
    for (unsigned i = 1; i < nt; i++) {
        args[i] = (marg){ m, &m->sc[i] };
        if (pthread_create(&th[i], NULL, encode_thread, &args[i]) != 0) break;
        started = i;
    }
    args[0] = (marg){ m, &m->sc[0] };
    encode_thread(&args[0]);
    for (unsigned i = 1; i <= started; i++) pthread_join(th[i], NULL);
}

/* The term's new value (val NULL: delete it), for the dictionary update at
 * the end of the transaction. */
static int queue_update(merger *m, const mterm *t, const uint8_t *val, size_t vlen)
{
    size_t cap = m->updcap;
    int rc = grow((void **)&m->upd, &m->updcap, m->nupd + 1, sizeof *m->upd);
    if (!rc) rc = grow((void **)&m->voff, &cap, m->nupd + 1, sizeof *m->voff);
    if (rc) return rc;
    /* the value's pointer is set in apply_updates: vals may still move */
    m->voff[m->nupd] = m->vals.len;
    m->upd[m->nupd++] = (tr_dict_update){ (const uint8_t *)m->names.data + t->off, t->len, t->term_id,
                                          NULL, val ? vlen : 0 };
    return val && tr_buf_append(&m->vals, val, vlen) ? TR_ENOMEM : TR_OK;
}

static int update_cmp(const void *a, const void *b)
{
    const tr_dict_update *x = a, *y = b;
    int c = memcmp(x->term, y->term, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Write the transaction's term values, in byte order. */
static int apply_updates(merger *m, MDB_txn *txn)
{
    for (size_t i = 0; i < m->nupd; i++)
        if (m->upd[i].vlen) m->upd[i].val = m->vals.data + m->voff[i];   /* else: delete */
    qsort(m->upd, m->nupd, sizeof *m->upd, update_cmp);
    int rc = tr_dict_apply(txn, m->ix->dbi[TR_DB_TERMS], m->upd, m->nupd, m->budget, NULL);
    m->nupd = 0;
    tr_buf_clear(&m->vals);
    return rc;
}

/* Write job j (in term id order): delete its old chunks, append the new
 * ones under the merge's generation (or keep the list inline), rewrite the
 * term's value, or drop the term when no live posting is left. */
static int write_job(merger *m, MDB_txn *txn, mjob *j, size_t key_end)
{
    tr_index *ix = m->ix;
    const mterm *t = j->t;
    if (j->rc) return j->rc;
    m->ms.postings_purged += j->purged;
    for (size_t i = j->key0; i < key_end; i++) {
        MDB_val ok = { TR_POSTINGS_KEY_BYTES, m->oldkeys[i] };
        int rc = mdb_del(txn, ix->dbi[TR_DB_POSTINGS], &ok, NULL);
        if (rc) return rc;
    }
    if (j->n == 0) {                    /* only deleted documents had it */
        m->st.terms--;
        m->ms.terms_dropped++;
        return queue_update(m, t, NULL, 0);
    }
    tr_term_info info = { .term_id = t->term_id, .df = j->n, .cf = j->cf };
    uint8_t inl[TR_INLINE_MAX + 5], gb[10];
    size_t wrote;
    int rc = tr_store_chunks(txn, ix->dbi[TR_DB_POSTINGS], m->gen, j->enc.data, j->enc.len, &info, inl,
                             &wrote);
    if (rc) return rc;
    m->ms.chunks_after += wrote;
    if (wrote) {
        info.gens = gb;
        info.gens_len = (size_t)(tr_put_varint(gb, m->gen) - gb);
        info.ngens = 1;
    }
    uint8_t tv[TR_TERM_VALUE_MAX];
    m->ms.terms_rewritten++;
    return queue_update(m, t, tv, tr_term_value_encode(&info, tv));
}

/* One round: gather terms [*next, ...) up to limit bytes of
 * chunks, encode them in parallel, write them. */
static int merge_round(merger *m, MDB_txn *txn, size_t *next, size_t *bytes, size_t limit)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(txn, m->ix->dbi[TR_DB_POSTINGS], &mc);
    if (rc) return rc;
    m->njobs = m->nrefs = m->nold = 0;
    size_t round = 0, i = *next;
    for (; i < m->nterms && round < limit && !rc; i++) {
        rc = gather(m, txn, mc, &m->terms[i], &round);
        if (rc) m->failed = &m->terms[i];
    }
    mdb_cursor_close(mc);
    if (rc) return rc;
    encode_round(m);
    for (size_t k = 0; k < m->njobs && !rc; k++) {
        rc = write_job(m, txn, &m->jobs[k], k + 1 < m->njobs ? m->jobs[k + 1].key0 : m->nold);
        if (rc) m->failed = m->jobs[k].t;
        *bytes += m->jobs[k].enc.len;
    }
    if (!rc) *next = i;
    return rc;
}

/* Rewrite body block `last` (its key) without the deleted documents'
 * bodies: recompressed under the key of its last live document, whose
 * records get their new offsets; deleted when no live body is left. */
static int purge_block(merger *m, MDB_txn *txn, uint32_t last, ZSTD_DCtx *dz, ZSTD_CCtx *cz)
{
    MDB_dbi dbi = m->ix->dbi[TR_DB_DOCS];
    uint8_t kb[TR_DOC_BLOCK_KEY_BYTES];
    tr_key_doc_block(kb, last);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? TR_ECORRUPT : rc;
    uint64_t raw;
    const uint8_t *z;
    size_t zlen;
    if (tr_doc_block_decode(v.mv_data, v.mv_size, &raw, &z, &zlen) || raw > ((size_t)1 << 31)) return TR_ECORRUPT;
    tr_buf text = {0}, keep = {0}, val = {0};
    uint32_t *docs = NULL;
    size_t ndocs = 0, cap = 0;
    if (tr_buf_reserve(&text, (size_t)raw + 1) || tr_buf_reserve(&keep, (size_t)raw + 1)) { rc = TR_ENOMEM; goto out; }
    size_t got = ZSTD_decompressDCtx(dz, text.data, (size_t)raw, z, zlen);
    if (ZSTD_isError(got) || got != raw) { rc = TR_ECORRUPT; goto out; }
    /* its documents: the records before the block key that point at it */
    MDB_cursor *mc;
    if ((rc = mdb_cursor_open(txn, dbi, &mc))) goto out;
    MDB_val ck = k, cv;
    rc = mdb_cursor_get(mc, &ck, &cv, MDB_SET_KEY);
    while (!rc && !(rc = mdb_cursor_get(mc, &ck, &cv, MDB_PREV))) {
        if (ck.mv_size != 4) break;                     /* the block before */
        tr_doc_rec rec;
        uint32_t d = tr_get_be32(ck.mv_data);
        if (tr_doc_value_decode(&rec, cv.mv_data, cv.mv_size)) { rc = TR_ECORRUPT; break; }
        if (!rec.body_len) continue;
        if (d + (uint64_t)rec.block_ahead != last) break;
        if (is_deleted(m, d)) continue;
        if ((rc = grow((void **)&docs, &cap, ndocs + 1, sizeof *docs))) break;
        docs[ndocs++] = d;
    }
    mdb_cursor_close(mc);
    if (rc == MDB_NOTFOUND) rc = 0;
    if (rc || (rc = mdb_del(txn, dbi, &k, NULL))) goto out;
    m->ms.blocks_rewritten++;
    if (!ndocs) goto out;                               /* every body in it was deleted */
    /* live bodies in doc order (found backwards), new offsets in the records */
    uint32_t nlast = docs[0];
    for (size_t i = ndocs; i-- > 0;) {
        uint8_t dk[4];
        tr_key_u32(dk, docs[i]);
        MDB_val rk = { 4, dk }, rv;
        tr_doc_rec rec;
        if ((rc = mdb_get(txn, dbi, &rk, &rv))) goto out;
        if (tr_doc_value_decode(&rec, rv.mv_data, rv.mv_size) || rec.block_off > raw ||
            rec.body_len > raw - rec.block_off) { rc = TR_ECORRUPT; goto out; }
        size_t off = keep.len;
        if (tr_buf_append(&keep, text.data + rec.block_off, (size_t)rec.body_len)) { rc = TR_ENOMEM; goto out; }
        rec.block_off = off;
        rec.block_ahead = nlast - docs[i];
        tr_buf_clear(&val);
        if ((rc = tr_doc_value_encode(&rec, &val))) goto out;
        MDB_val nv = { val.len, val.data };
        if ((rc = mdb_put(txn, dbi, &rk, &nv, 0))) goto out;
    }
    size_t bound = ZSTD_compressBound(keep.len);
    tr_buf_clear(&val);
    if (tr_buf_reserve(&val, TR_DOC_BLOCK_HDR_MAX + bound)) { rc = TR_ENOMEM; goto out; }
    size_t zn = ZSTD_compressCCtx(cz, val.data + TR_DOC_BLOCK_HDR_MAX, bound, keep.data, keep.len,
                                  TR_DOC_BLOCK_ZSTD_LEVEL);
    if (ZSTD_isError(zn)) { rc = TR_ENOMEM; goto out; }
    size_t vlen, voff = tr_doc_block_finish(val.data, keep.len, zn, &vlen);
    tr_key_doc_block(kb, nlast);
    MDB_val nk = { sizeof kb, kb }, nv = { vlen, val.data + voff };
    rc = mdb_put(txn, dbi, &nk, &nv, 0);
out:
    tr_buf_free(&text); tr_buf_free(&keep); tr_buf_free(&val);
    free(docs);
    return rc;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The deleted documents: their bodies out of their blocks, then their
 * records and `deleted` entries (once no list holds them). */
static int purge_docs(merger *m, MDB_txn *txn)
{
    MDB_dbi dbi = m->ix->dbi[TR_DB_DOCS];
    uint32_t *blocks = malloc((m->ndels ? m->ndels : 1) * sizeof *blocks);
    if (!blocks) return TR_ENOMEM;
    size_t nb = 0;
    int rc = TR_OK;
    for (size_t i = 0; i < m->ndels && !rc; i++) {
        uint8_t kb[4];
        tr_key_u32(kb, m->dels[i]);
        MDB_val k = { 4, kb }, v;
        tr_doc_rec rec;
        rc = mdb_get(txn, dbi, &k, &v);
        if (rc == MDB_NOTFOUND) { rc = 0; continue; }
        if (!rc && tr_doc_value_decode(&rec, v.mv_data, v.mv_size)) rc = TR_ECORRUPT;
        if (!rc && rec.body_len) blocks[nb++] = m->dels[i] + rec.block_ahead;
    }
    qsort(blocks, nb, sizeof *blocks, u32_cmp);
    ZSTD_DCtx *dz = ZSTD_createDCtx();
    ZSTD_CCtx *cz = ZSTD_createCCtx();
    if (!dz || !cz) rc = rc ? rc : TR_ENOMEM;
    for (size_t i = 0; i < nb && !rc; i++)
        if (i == 0 || blocks[i] != blocks[i - 1]) rc = purge_block(m, txn, blocks[i], dz, cz);
    ZSTD_freeDCtx(dz);
    ZSTD_freeCCtx(cz);
    free(blocks);
    for (size_t i = 0; i < m->ndels && !rc; i++) {
        uint8_t kb[4];
        tr_key_u32(kb, m->dels[i]);
        MDB_val k = { 4, kb };
        rc = mdb_del(txn, dbi, &k, NULL);
        if (rc == MDB_NOTFOUND) rc = 0;
        if (!rc) rc = mdb_del(txn, m->ix->dbi[TR_DB_DELETED], &k, NULL);
    }
    if (rc) return rc;
    m->ms.docs_purged = m->ndels;
    m->st.deleted = 0;
    return TR_OK;
}

/* Terms [*next, ...) in one transaction, up to the byte budget; the purge
 * and the stats with the last of them. */
static int merge_txn(merger *m, MDB_txn *txn, size_t *next, size_t budget)
{
    size_t bytes = 0, i = *next;
    int rc = TR_OK;
    m->nupd = 0;
    tr_buf_clear(&m->vals);
    size_t round = budget < TR_MERGE_ROUND_BYTES ? budget : TR_MERGE_ROUND_BYTES;
    while (i < m->nterms && bytes < budget && !rc) rc = merge_round(m, txn, &i, &bytes, round);
    if (!rc) rc = apply_updates(m, txn);
    if (!rc && i == m->nterms && m->ndels) rc = purge_docs(m, txn);
    if (rc) return rc;
    if (m->ms.chunks_after) m->st.generation = m->gen;
    uint8_t sv[TR_STATS_BYTES];
    tr_stats_encode(&m->st, sv);
    MDB_val k = { 5, "stats" }, v = { sizeof sv, sv };
    rc = mdb_put(txn, m->ix->dbi[TR_DB_META], &k, &v, 0);
    if (!rc) *next = i;
    return rc;
}

static void merger_free(merger *m)
{
    free(m->del); free(m->dels); free(m->tlen); free(m->blen); free(m->terms);
    free(m->oldkeys); free(m->refs); free(m->upd); free(m->voff);
    tr_buf_free(&m->vals);
    for (size_t i = 0; i < m->jobcap && m->jobs; i++) tr_buf_free(&m->jobs[i].enc);
    free(m->jobs);
    tr_buf_free(&m->names);
    for (unsigned i = 0; i < TR_MERGE_MAX_THREADS; i++) tr_enc_scratch_free(&m->sc[i]);
    tr_index_close(m->ix);
}

int tr_index_merge(const char *dir, size_t memory, unsigned threads, tr_merge_stats *out, char *err,
                   size_t errcap)
{
    merger m = {0};
    m.threads = threads < 1 ? 1 : threads > TR_MERGE_MAX_THREADS ? TR_MERGE_MAX_THREADS : threads;
    if (out) memset(out, 0, sizeof *out);
    int rc = tr_schema_open(dir, 1, 0, &m.ix, err, errcap);    /* exists, right version */
    tr_index_close(m.ix);
    m.ix = NULL;
    if (!rc) rc = tr_schema_open(dir, 0, 0, &m.ix, err, errcap);
    if (!rc) rc = tr_schema_lock(m.ix, err, errcap);
    if (rc) { merger_free(&m); return rc; }
    MDB_txn *txn;
    rc = mdb_txn_begin(m.ix->env, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        rc = survey(&m, txn);
        mdb_txn_abort(txn);
    }
    m.gen = m.st.generation + 1;
    size_t budget = (memory ? memory : (size_t)1 << 30) / TR_MERGE_TXN_SHARE;
    m.budget = budget;
    for (size_t next = 0; !rc && (next < m.nterms || (next == 0 && m.ndels));) {
        tr_stats keep = m.st;
        tr_merge_stats mkeep = m.ms;
        size_t at = next;
        rc = mdb_txn_begin(m.ix->env, NULL, 0, &txn);
        if (rc) break;
        rc = merge_txn(&m, txn, &next, budget);
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
        if (rc == MDB_MAP_FULL || rc == TR_EFULL) {   /* grow the map, redo the transaction */
            MDB_envinfo info;
            mdb_env_info(m.ix->env, &info);
            rc = mdb_env_set_mapsize(m.ix->env, info.me_mapsize * 2);
            m.st = keep;
            m.ms = mkeep;
            next = at;
            continue;
        }
        m.ms.txns++;
        if (!rc && m.nterms == 0) break;    /* deletions only, purged */
    }
    if (rc) {
        int is_tr = rc < 0 && rc >= TR_ELMDB;
        if (err && !err[0] && m.failed)
            tr_set_err(err, errcap, "merge failed at the term '%.*s' (id %u): %s; nothing of the "
                       "transaction in flight was kept (trawl-index --check lists the damage)",
                       (int)m.failed->len, m.names.data + m.failed->off, m.failed->term_id,
                       is_tr ? tr_strerror(rc) : mdb_strerror(rc));
        else if (err && !err[0])
            tr_set_err(err, errcap, "merge failed: %s", is_tr ? tr_strerror(rc) : mdb_strerror(rc));
        rc = is_tr ? rc : tr_schema_lmdb_rc(rc);
    }
    m.ms.gens_after = m.ms.chunks_after ? m.gen : m.st.generation;
    if (out) *out = m.ms;
    merger_free(&m);
    return rc;
}
