/* reader.c - reading an index snapshot: one LMDB read transaction, the
 * dictionary, stored documents, in-memory norms and deleted bitmap, and the
 * posting cursor that walks a term's chunks block by block (schema.c has the
 * layout). Everything returned by pointer borrows from the LMDB map. */
#include "dict.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <zstd.h>

/* Largest body we agree to decompress: a damaged length must not make us
 * allocate without bound. */
#define TR_MAX_BODY_BYTES ((uint64_t)1 << 32)

/* The compact length table: one u32 per document, title length in the top
 * TR_LEN_TITLE_BITS, body length in the rest. The norms values are 16 bytes
 * a document spread over LMDB's 4 KiB pages, so a scorer that looks up
 * random candidates misses the cache and the TLB on nearly every one; the
 * table is a quarter of the size, contiguous, and asks for huge pages.
 * A document whose lengths do not fit holds TR_LEN_ESCAPE and is read from
 * its norms entry instead (exact either way). */
#define TR_LEN_TITLE_BITS 10
#define TR_LEN_BODY_BITS (32 - TR_LEN_TITLE_BITS)
#define TR_LEN_BODY_MASK ((1u << TR_LEN_BODY_BITS) - 1)
#define TR_LEN_ESCAPE UINT32_MAX
/* The same in 16 bits a document when nearly every document fits (short
 * passages: 5 bits of title, 11 of body): half the table, which then stays
 * in a core's L2, where a positions set-up gathers 128 documents' lengths
 * (the 32-bit table's gathers missed it, 6-8% of a phrase's time). Used
 * when at most 1 document in TR_LEN16_MAX_ESCAPED escapes (those read
 * their norms entry, exact as ever). */
#define TR_LEN16_TITLE_BITS 5
#define TR_LEN16_BODY_BITS (16 - TR_LEN16_TITLE_BITS)
#define TR_LEN16_BODY_MASK ((1u << TR_LEN16_BODY_BITS) - 1)
#define TR_LEN16_ESCAPE 0xFFFFu
#define TR_LEN16_MAX_ESCAPED 64
/* Huge page size the table is aligned to (and madvised for). */
#define TR_LEN_ALIGN ((size_t)2 << 20)

/* One snapshot's per-reader state, shared by the readers of that snapshot
 * through tr_index.lencache and freed when its last reference goes: its
 * stats and settings, the norms pointers, the deleted bitmap and the compact
 * length table. Building it walks the norms database and zeroes a bitmap of
 * next_doc bits; a query over an unchanged index reuses it instead, so
 * beginning a reader costs one read transaction and one lookup.
 * The norms pointers borrow from the LMDB map. They stay valid for any
 * reader of the same snapshot (txnid): that snapshot's pages are the newest
 * committed tree, or held by a reader, so no writer reuses them. The map
 * itself may move (mdb_env_set_mapsize after MDB_MAP_RESIZED, or a writer
 * in this process growing it), so a reader checks that its stats record is
 * where the cache's was before it borrows the rest. */
typedef struct tr_lencache {
    uint64_t txnid;             /* the LMDB snapshot it was built from */
    const void *stats_at;       /* where that snapshot's stats record lay in the map */
    tr_stats stats;
    tr_settings settings;
    const uint8_t **norms;      /* per norms key: entries (borrowed from the map) */
    uint32_t *norms_n;          /* entries in each */
    size_t nnorms;
    uint64_t *del;              /* deleted bitmap over [0, next_doc); NULL if none */
    size_t ndelwords;
    uint32_t n;                 /* documents covered: [0, n) */
    uint32_t *packed;           /* the table: 32 bits a document, or */
    uint16_t *packed16;         /* 16 bits (exactly one of the two is set) */
    tr_vseen *vseen;            /* chunks found sound in the snapshot (NULL: none kept) */
    size_t refs;                /* under tr_index.lencache_lock */
} tr_lencache;

struct tr_reader {
    tr_index *ix;
    MDB_txn *txn;
    tr_stats stats;
    tr_settings settings;
    /* copied from lc (owned by it) */
    const uint8_t *const *norms;
    const uint32_t *norms_n;
    size_t nnorms;
    const uint64_t *del;
    size_t ndelwords;
    ZSTD_DCtx *zd;
    /* the last body block decompressed (snippets read neighbouring hits of
     * one block often); a snapshot's blocks never change */
    tr_buf blk;
    uint32_t blk_last;          /* its key's doc; 0 = none (doc 0 is never assigned) */
    tr_lencache *lc;            /* a counted reference, never NULL once begun */
};

static void lc_lock(tr_index *ix)
{
    while (atomic_exchange_explicit(&ix->lencache_lock, 1, memory_order_acquire))
        sched_yield();
}

static void lc_unlock(tr_index *ix)
{
    atomic_store_explicit(&ix->lencache_lock, 0, memory_order_release);
}

static void lc_free(tr_lencache *lc)
{
    if (!lc) return;
    free(lc->packed);
    free(lc->packed16);
    free(lc->norms);
    free(lc->norms_n);
    free(lc->del);
    tr_vseen_free(lc->vseen);
    free(lc);
}

/* Drop one reference (taken under the lock); free outside it. */
static void lc_release(tr_index *ix, tr_lencache *lc)
{
    if (!lc) return;
    lc_lock(ix);
    int last = --lc->refs == 0;
    lc_unlock(ix);
    if (last) lc_free(lc);
}

void tr_reader_cache_drop(tr_index *ix)
{
    if (!ix) return;
    lc_lock(ix);
    tr_lencache *lc = ix->lencache;
    ix->lencache = NULL;
    lc_unlock(ix);
    lc_release(ix, lc);
}

static int rerr(char *err, size_t cap, int rc, const char *what)
{
    if (err && cap) snprintf(err, cap, "%s: %s", what, tr_strerror(rc));
    return rc;
}

void tr_reader_end(tr_reader *r)
{
    if (!r) return;
    if (r->txn) mdb_txn_abort(r->txn);
    lc_release(r->ix, r->lc);
    ZSTD_freeDCtx(r->zd);
    tr_buf_free(&r->blk);
    free(r);
}

static int load_meta(tr_reader *r, tr_lencache *lc, char *err, size_t errcap)
{
    int rc = tr_schema_check_format(r->ix, r->txn, err, errcap);
    if (rc) return rc;
    MDB_dbi meta = r->ix->dbi[TR_DB_META];
    MDB_val k = { 5, (void *)"stats" }, v;
    if (mdb_get(r->txn, meta, &k, &v) || tr_stats_decode(&lc->stats, v.mv_data, v.mv_size))
        return rerr(err, errcap, TR_ECORRUPT, "index stats record");
    lc->stats_at = v.mv_data;
    k = (MDB_val){ 8, (void *)"settings" };
    if (mdb_get(r->txn, meta, &k, &v) || tr_settings_decode(&lc->settings, v.mv_data, v.mv_size))
        return rerr(err, errcap, TR_ECORRUPT, "index settings record");
    return TR_OK;
}

static int load_norms(tr_reader *r, tr_lencache *lc, char *err, size_t errcap)
{
    size_t n = ((size_t)lc->stats.next_doc >> TR_NORMS_SHIFT) + 1;
    lc->norms = calloc(n, sizeof *lc->norms);
    lc->norms_n = calloc(n, sizeof *lc->norms_n);
    if (!lc->norms || !lc->norms_n) return TR_ENOMEM;
    lc->nnorms = n;
    MDB_cursor *mc;
    int rc = mdb_cursor_open(r->txn, r->ix->dbi[TR_DB_NORMS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4 || v.mv_size % TR_NORM_BYTES ||
            v.mv_size > (size_t)TR_NORMS_PER_KEY * TR_NORM_BYTES) {
            mdb_cursor_close(mc);
            return rerr(err, errcap, TR_ECORRUPT, "norms record");
        }
        uint32_t key = tr_get_be32(k.mv_data);
        if (key >= n) break; /* beyond next_doc: written by nobody we know; ignore */
        lc->norms[key] = v.mv_data;
        lc->norms_n[key] = (uint32_t)(v.mv_size / TR_NORM_BYTES);
    }
    mdb_cursor_close(mc);
    return rc == 0 || rc == MDB_NOTFOUND ? TR_OK : tr_schema_lmdb_rc(rc);
}

/* The deleted bitmap, left NULL when the snapshot deletes nothing. */
static int load_deleted(tr_reader *r, tr_lencache *lc)
{
    MDB_stat st;
    int rc = mdb_stat(r->txn, r->ix->dbi[TR_DB_DELETED], &st);
    if (rc) return tr_schema_lmdb_rc(rc);
    if (st.ms_entries == 0) return TR_OK;
    lc->ndelwords = ((size_t)lc->stats.next_doc >> 6) + 1;
    lc->del = calloc(lc->ndelwords, sizeof *lc->del);
    if (!lc->del) return TR_ENOMEM;
    MDB_cursor *mc;
    rc = mdb_cursor_open(r->txn, r->ix->dbi[TR_DB_DELETED], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) { mdb_cursor_close(mc); return TR_ECORRUPT; }
        uint32_t d = tr_get_be32(k.mv_data);
        if ((d >> 6) < lc->ndelwords) lc->del[d >> 6] |= (uint64_t)1 << (d & 63);
    }
    mdb_cursor_close(mc);
    return rc == MDB_NOTFOUND ? TR_OK : tr_schema_lmdb_rc(rc);
}

/* Walk doc ids [0, lc->n) with their lengths from the norms (0, 0 where
 * there is none): fn(ctx, doc, title, body). */
static inline __attribute__((always_inline)) void lc_walk(const tr_lencache *lc,
        void (*fn)(void *, uint32_t, uint32_t, uint32_t), void *ctx)
{
    for (uint32_t d = 0; d < lc->n;) {
        size_t key = d >> TR_NORMS_SHIFT;
        const uint8_t *base = key < lc->nnorms ? lc->norms[key] : NULL;
        uint32_t have = base ? lc->norms_n[key] : 0;
        uint32_t end = (uint32_t)(key + 1) << TR_NORMS_SHIFT;
        if (end > lc->n || end == 0) end = lc->n;
        for (uint32_t j = 0; d < end; d++, j++) {
            uint32_t t = 0, b = 0;
            if (j < have) {
                t = tr_get_le32(base + (size_t)j * TR_NORM_BYTES);
                b = tr_get_le32(base + (size_t)j * TR_NORM_BYTES + 4);
            }
            fn(ctx, d, t, b);
        }
    }
}

static inline int len16_fits(uint32_t t, uint32_t b)
{
    return t < (1u << TR_LEN16_TITLE_BITS) && b <= TR_LEN16_BODY_MASK &&
           (t << TR_LEN16_BODY_BITS | b) != TR_LEN16_ESCAPE;
}

/* put16 counts the documents it escapes in *escaped. */
typedef struct len16_fill { uint16_t *t; uint64_t escaped; } len16_fill;

static inline void put16(void *ctx, uint32_t d, uint32_t t, uint32_t b)
{
    len16_fill *f = ctx;
    int fits = len16_fits(t, b);
    f->t[d] = fits ? (uint16_t)(t << TR_LEN16_BODY_BITS | b) : TR_LEN16_ESCAPE;
    f->escaped += !fits;
}

static inline void put32(void *ctx, uint32_t d, uint32_t t, uint32_t b)
{
    uint32_t v = t << TR_LEN_BODY_BITS | b;
    if (t >= (1u << TR_LEN_TITLE_BITS) || b > TR_LEN_BODY_MASK || v == TR_LEN_ESCAPE)
        v = TR_LEN_ESCAPE;
    ((uint32_t *)ctx)[d] = v;
}

/* A length table of n entries of esz bytes and 4 bytes of padding (a
 * gather reads 4 bytes at a 16-bit entry), aligned for huge pages. */
static void *lc_table(uint32_t n, size_t esz)
{
    size_t bytes = ((size_t)n * esz + 4 + TR_LEN_ALIGN - 1) & ~(TR_LEN_ALIGN - 1);
    void *t = aligned_alloc(TR_LEN_ALIGN, bytes);
    if (!t) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(t, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    memset((char *)t + (size_t)n * esz, 0, 4);
    return t;
}

/* The length table of lc from its norms (already loaded): 16 bits a
 * document, unless more than one in TR_LEN16_MAX_ESCAPED escaped it (then
 * a second walk makes the 32-bit one). */
static int lc_pack(tr_lencache *lc)
{
    lc->n = lc->stats.next_doc;
    len16_fill f = { lc_table(lc->n, sizeof *lc->packed16), 0 };
    if (!f.t) return TR_ENOMEM;
    lc_walk(lc, put16, &f);
    if (f.escaped * TR_LEN16_MAX_ESCAPED <= lc->n) {
        lc->packed16 = f.t;
        return TR_OK;
    }
    free(f.t);
    lc->packed = lc_table(lc->n, sizeof *lc->packed);
    if (!lc->packed) return TR_ENOMEM;
    lc_walk(lc, put32, lc->packed);
    return TR_OK;
}

/* Build the state of r's snapshot (txnid) into a new cache entry. */
static int lc_build(tr_reader *r, uint64_t txnid, tr_lencache **out, char *err, size_t errcap)
{
    *out = NULL;
    tr_lencache *lc = calloc(1, sizeof *lc);
    if (!lc) return TR_ENOMEM;
    lc->txnid = txnid;
    lc->refs = 1;
    /* chunks found sound, by address: a moved map gets a new cache entry
     * (lc_attach), so a new table */
    lc->vseen = tr_vseen_new();
    int rc;
    if ((rc = load_meta(r, lc, err, errcap)) || (rc = load_norms(r, lc, err, errcap)) ||
        (rc = load_deleted(r, lc)) || (rc = lc_pack(lc))) {
        lc_free(lc);
        return rc;
    }
    *out = lc;
    return TR_OK;
}

/* Take a reference to the state of r's snapshot: the index's if it is of
 * this snapshot and the map has not moved, else a new one (built outside the
 * lock), which becomes the index's unless the index's is newer. Two readers
 * may build the same state at once; the loser's copy lives only as long as
 * that reader. */
static int lc_attach(tr_reader *r, char *err, size_t errcap)
{
    tr_index *ix = r->ix;
    uint64_t txnid = (uint64_t)mdb_txn_id(r->txn);
    MDB_val k = { 5, (void *)"stats" }, v = { 0, NULL };
    int found = mdb_get(r->txn, ix->dbi[TR_DB_META], &k, &v) == 0;
    lc_lock(ix);
    tr_lencache *cur = ix->lencache;
    if (found && cur && cur->txnid == txnid && cur->stats_at == v.mv_data) {
        cur->refs++;
        r->lc = cur;
        lc_unlock(ix);
        return TR_OK;
    }
    lc_unlock(ix);
    tr_lencache *lc;
    int rc = lc_build(r, txnid, &lc, err, errcap);
    if (rc) return rc;
    r->lc = lc;
    tr_lencache *old = NULL;
    lc_lock(ix);
    if (!ix->lencache || ix->lencache->txnid <= txnid) {
        old = ix->lencache;
        ix->lencache = lc;
        lc->refs++;
    }
    lc_unlock(ix);
    lc_release(ix, old);
    return TR_OK;
}

int tr_reader_begin(tr_index *ix, tr_reader **out, char *err, size_t errcap)
{
    *out = NULL;
    tr_reader *r = calloc(1, sizeof *r);
    if (!r) return TR_ENOMEM;
    r->ix = ix;
    int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &r->txn);
    if (rc == MDB_MAP_RESIZED) {
        /* a writer grew the map since we opened: adopt its size */
        mdb_env_set_mapsize(ix->env, 0);
        rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &r->txn);
    }
    if (rc) {
        r->txn = NULL;
        tr_reader_end(r);
        if (err && errcap) snprintf(err, errcap, "cannot begin read: %s", mdb_strerror(rc));
        return tr_schema_lmdb_rc(rc);
    }
    if ((rc = lc_attach(r, err, errcap))) {
        tr_reader_end(r);
        return rc;
    }
    const tr_lencache *lc = r->lc;
    r->stats = lc->stats;
    r->settings = lc->settings;
    r->norms = lc->norms;
    r->norms_n = lc->norms_n;
    r->nnorms = lc->nnorms;
    r->del = lc->del;
    r->ndelwords = lc->ndelwords;
    *out = r;
    return TR_OK;
}

const tr_stats *tr_reader_stats(const tr_reader *r) { return &r->stats; }
const tr_settings *tr_reader_settings(const tr_reader *r) { return &r->settings; }

static const uint8_t *norm_entry(const tr_reader *r, uint32_t doc)
{
    size_t key = doc >> TR_NORMS_SHIFT;
    uint32_t i = doc & (TR_NORMS_PER_KEY - 1);
    if (key >= r->nnorms || !r->norms[key] || i >= r->norms_n[key]) return NULL;
    return r->norms[key] + (size_t)i * TR_NORM_BYTES;
}

/* Both lengths of doc: from the table, or its norms entry when escaped. */
static inline void doc_lengths(const tr_reader *r, uint32_t doc, uint32_t *title, uint32_t *body)
{
    const tr_lencache *lc = r->lc;
    if (lc->packed16) {
        uint32_t v = doc < lc->n ? lc->packed16[doc] : 0;
        if (v != TR_LEN16_ESCAPE) {
            *title = v >> TR_LEN16_BODY_BITS;
            *body = v & TR_LEN16_BODY_MASK;
            return;
        }
    } else {
        uint32_t v = doc < lc->n ? lc->packed[doc] : 0;
        if (v != TR_LEN_ESCAPE) {
            *title = v >> TR_LEN_BODY_BITS;
            *body = v & TR_LEN_BODY_MASK;
            return;
        }
    }
    const uint8_t *p = norm_entry(r, doc);
    *title = p ? tr_get_le32(p) : 0;
    *body = p ? tr_get_le32(p + 4) : 0;
}

uint32_t tr_reader_title_len(const tr_reader *r, uint32_t doc)
{
    uint32_t t, b;
    doc_lengths(r, doc, &t, &b);
    return t;
}

uint32_t tr_reader_body_len(const tr_reader *r, uint32_t doc)
{
    uint32_t t, b;
    doc_lengths(r, doc, &t, &b);
    return b;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* Eight documents a step: one gather from the table; a step that meets an
 * escaped entry (or a document past the table) redoes its eight with
 * doc_lengths. Returns how many documents were done (a multiple of 8). */
__attribute__((target("avx2")))
static size_t lengths_avx2(const tr_reader *r, const uint32_t *docs, size_t n,
                           uint32_t *title, uint32_t *body)
{
    const tr_lencache *lc = r->lc;
    /* docs ascend within a block, but callers need not promise it: each
     * lane is range-checked (unsigned compare via the sign flip) */
    const __m256i flip = _mm256_set1_epi32(INT32_MIN);
    const __m256i lim = _mm256_xor_si256(_mm256_set1_epi32((int)lc->n), flip);
    size_t i = 0;
    if (lc->packed16) {
        /* 4 bytes from each 16-bit entry (the table is padded), low half */
        const __m256i low = _mm256_set1_epi32(0xFFFF), esc = low;
        const __m256i mask = _mm256_set1_epi32((int)TR_LEN16_BODY_MASK);
        for (; i + 8 <= n; i += 8) {
            __m256i d = _mm256_loadu_si256((const __m256i *)(docs + i));
            __m256i in = _mm256_cmpgt_epi32(lim, _mm256_xor_si256(d, flip));
            __m256i v = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)lc->packed16, d, in, 2);
            v = _mm256_and_si256(v, low);
            if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(v, esc))) {
                for (size_t j = i; j < i + 8; j++) doc_lengths(r, docs[j], &title[j], &body[j]);
                continue;
            }
            _mm256_storeu_si256((__m256i *)(title + i), _mm256_srli_epi32(v, TR_LEN16_BODY_BITS));
            _mm256_storeu_si256((__m256i *)(body + i), _mm256_and_si256(v, mask));
        }
        return i;
    }
    const __m256i esc = _mm256_set1_epi32(-1), mask = _mm256_set1_epi32((int)TR_LEN_BODY_MASK);
    for (; i + 8 <= n; i += 8) {
        __m256i d = _mm256_loadu_si256((const __m256i *)(docs + i));
        __m256i in = _mm256_cmpgt_epi32(lim, _mm256_xor_si256(d, flip));
        __m256i v = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)lc->packed, d, in, 4);
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(v, esc))) {
            for (size_t j = i; j < i + 8; j++) doc_lengths(r, docs[j], &title[j], &body[j]);
            continue;
        }
        _mm256_storeu_si256((__m256i *)(title + i), _mm256_srli_epi32(v, TR_LEN_BODY_BITS));
        _mm256_storeu_si256((__m256i *)(body + i), _mm256_and_si256(v, mask));
    }
    return i;
}
#define TR_HAVE_LENGTHS_AVX2 1
#else
#define TR_HAVE_LENGTHS_AVX2 0
#endif

void tr_reader_lengths(const tr_reader *r, const uint32_t *docs, size_t n,
                       uint32_t *title, uint32_t *body)
{
    size_t i = 0;
#if TR_HAVE_LENGTHS_AVX2
    if (__builtin_cpu_supports("avx2")) i = lengths_avx2(r, docs, n, title, body);
#endif
    for (; i < n; i++) doc_lengths(r, docs[i], &title[i], &body[i]);
}

int64_t tr_reader_date(const tr_reader *r, uint32_t doc)
{
    const uint8_t *p = norm_entry(r, doc);
    return p ? (int64_t)tr_get_le64(p + 8) : TR_NO_DATE;
}

int tr_reader_is_deleted(const tr_reader *r, uint32_t doc)
{
    size_t w = doc >> 6;
    return w < r->ndelwords && (r->del[w] >> (doc & 63) & 1);
}

int tr_reader_term(tr_reader *r, const char *term, size_t len, tr_term_info *out)
{
    return tr_dict_get(r->txn, r->ix->dbi[TR_DB_TERMS], term, len, out);
}

/* tr_reader_prefix's walk: counts the terms against the caller's limit. */
typedef struct prefix_walk {
    size_t limit, count;
    tr_term_fn fn;
    void *ctx;
} prefix_walk;

static int prefix_term(void *ctx, const uint8_t *term, size_t len, const tr_term_info *info)
{
    prefix_walk *pw = ctx;
    if (pw->count == pw->limit) return TR_ELIMIT;
    pw->count++;
    return pw->fn(pw->ctx, (const char *)term, len, info);
}

int tr_reader_prefix(tr_reader *r, const char *prefix, size_t len, size_t limit,
                     tr_term_fn fn, void *ctx)
{
    prefix_walk pw = { limit, 0, fn, ctx };
    return tr_dict_walk(r->txn, r->ix->dbi[TR_DB_TERMS], prefix, len, prefix_term, &pw);
}

static int get_doc(tr_reader *r, uint32_t doc, tr_doc_rec *rec)
{
    if (tr_reader_is_deleted(r, doc)) return TR_ENOTFOUND;
    uint8_t kb[4];
    tr_key_u32(kb, doc);
    MDB_val k = { 4, kb }, v;
    int rc = mdb_get(r->txn, r->ix->dbi[TR_DB_DOCS], &k, &v);
    if (rc) return tr_schema_lmdb_rc(rc);
    return tr_doc_value_decode(rec, v.mv_data, v.mv_size);
}

int tr_reader_doc(tr_reader *r, uint32_t doc, tr_doc_view *out)
{
    memset(out, 0, sizeof *out);
    tr_doc_rec rec;
    int rc = get_doc(r, doc, &rec);
    if (rc) return rc;
    out->id = rec.id; out->id_len = rec.id_len;
    out->title = rec.title; out->title_len = rec.title_len;
    out->url = rec.url; out->url_len = rec.url_len;
    out->date = rec.date;
    out->title_terms = rec.title_terms;
    out->body_terms = rec.body_terms;
    return TR_OK;
}

/* Decompress the zstd frame z (of raw bytes) into out, which has room. */
static int unzip(tr_reader *r, const uint8_t *z, size_t zlen, uint8_t *out, uint64_t raw)
{
    if (!r->zd && !(r->zd = ZSTD_createDCtx())) return TR_ENOMEM;
    size_t n = ZSTD_decompressDCtx(r->zd, out, (size_t)raw, z, zlen);
    return ZSTD_isError(n) || n != raw ? TR_ECORRUPT : TR_OK;
}

int tr_reader_doc_body(tr_reader *r, uint32_t doc, tr_buf *out)
{
    tr_buf_clear(out);
    tr_doc_rec rec;
    int rc = get_doc(r, doc, &rec);
    if (rc) return rc;
    if (rec.body_len == 0) return TR_OK;
    if (rec.body_len > TR_MAX_BODY_BYTES || rec.block_ahead > UINT32_MAX - doc) return TR_ECORRUPT;
    uint32_t last = doc + rec.block_ahead;
    if (last != r->blk_last || !r->blk_last) {
        uint8_t kb[TR_DOC_BLOCK_KEY_BYTES];
        tr_key_doc_block(kb, last);
        MDB_val k = { sizeof kb, kb }, v;
        rc = mdb_get(r->txn, r->ix->dbi[TR_DB_DOCS], &k, &v);
        if (rc) return rc == MDB_NOTFOUND ? TR_ECORRUPT : tr_schema_lmdb_rc(rc);
        uint64_t raw;
        const uint8_t *z;
        size_t zlen;
        if (tr_doc_block_decode(v.mv_data, v.mv_size, &raw, &z, &zlen) || raw > TR_MAX_BODY_BYTES ||
            rec.block_off > raw || rec.body_len > raw - rec.block_off)
            return TR_ECORRUPT;
        if (raw == rec.body_len) {
            /* the block is this body alone: straight into out, no cache */
            if ((rc = tr_buf_reserve(out, (size_t)raw))) return rc;
            if ((rc = unzip(r, z, zlen, out->data, raw))) return rc;
            out->len = (size_t)raw;
            return TR_OK;
        }
        r->blk_last = 0;
        tr_buf_clear(&r->blk);
        if ((rc = tr_buf_reserve(&r->blk, (size_t)raw))) return rc;
        if ((rc = unzip(r, z, zlen, r->blk.data, raw))) return rc;
        r->blk.len = (size_t)raw;
        r->blk_last = last;
    }
    if (rec.block_off > r->blk.len || rec.body_len > r->blk.len - rec.block_off) return TR_ECORRUPT;
    if ((rc = tr_buf_reserve(out, (size_t)rec.body_len))) return rc;
    memcpy(out->data, r->blk.data + rec.block_off, (size_t)rec.body_len);
    out->len = (size_t)rec.body_len;
    return TR_OK;
}

int tr_reader_lookup_id(tr_reader *r, const char *id, size_t len, uint32_t *doc)
{
    *doc = 0;
    if (len == 0 || len > TR_MAX_ID_BYTES) return TR_ENOTFOUND;
    MDB_val k = { len, (void *)id }, v;
    int rc = mdb_get(r->txn, r->ix->dbi[TR_DB_IDS], &k, &v);
    if (rc) return tr_schema_lmdb_rc(rc);
    if (v.mv_size != 4) return TR_ECORRUPT;
    *doc = tr_get_le32(v.mv_data);
    return TR_OK;
}

/* ---- cursors ----
 * Two positions: the decoded block (dchunk/dblk, whose postings are in
 * docs/tf/ttf) and the block pointer (c->chunk/c->blk), which shallow moves
 * ahead without decoding. The MDB cursor always sits on the pointer's chunk.
 * next/seek bring the pointer back onto the decoded block. */
typedef struct cur_priv {
    MDB_cursor *mc;             /* NULL for an inline term */
    uint32_t term_id;
    /* the term's generation list (borrowed from the snapshot); gen is the
     * generation of the MDB cursor's chunk and gnext the list after it;
     * dgen/dgnext the same for the decoded chunk */
    const uint8_t *gens_end, *gnext, *dgnext;
    uint32_t gen, dgen;
    tr_chunk dchunk;
    uint32_t dblk;
    int ptr_end;                /* pointer ran past the last chunk */
    /* positions of single postings of the decoded block (see
     * tr_cursor_positions): how many were decoded, which one c->pos holds,
     * and whether the block's positions checksum was checked */
    uint32_t pos_single, pos_single_i;
    int pos_checked;
    /* the decoded block's title and body lengths (the positions' code
     * depends on them), fetched with its first positions */
    int have_len, pb_open;
    int docs_only;              /* tr_cursor_docs_only: tf, ttf not decoded */
    uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
    tr_pos_block *pb;           /* the block set up for single postings */
    tr_vseen *vseen;            /* the snapshot's (reader's length cache) */
} cur_priv;

/* Single-posting position decodes per block before the whole block's
 * positions are decoded at once: a phrase with a rare term asks for one
 * posting in most blocks of its common terms, a dense one for many. With
 * format 5's tr_pos_block a single posting costs only its own bits once
 * the block is set up, so every posting goes that way (a block has at
 * most 128): phrase and NEAR 0.95-0.99x of a limit of 8 (bench/qlat_ab.py,
 * passages, two runs). */
#define TR_POS_SINGLE_MAX TR_BLOCK_DOCS
/* (Format 4 decoded a block of at most 256 positions whole at its second
 * request, phrase COUNT 0.953x there; with format 5's slower whole-block
 * decode that rule cost phrases: TOP_10 and COUNT means 0.87-0.94x without
 * it, p99 0.72-0.86x, querybench.py --kinds phrase, passages, three
 * alternated runs each.) */

static int cur_fail(tr_cursor *c, int rc)
{
    if (!c->rc) c->rc = rc;
    c->near_last = 0;
    c->doc = TR_DOC_END;
    c->blk_last = TR_DOC_END;
    c->i = c->n = 0;
    c->decoded = 0;
    return c->rc;
}

static void cur_end(tr_cursor *c)
{
    c->near_last = 0;
    c->doc = TR_DOC_END;
    c->i = c->n = 0;
    c->decoded = 0;
    c->blk_last = TR_DOC_END;
    memset(&c->blk_bound, 0, sizeof c->blk_bound);
    c->blk_bound_ok = 1;
}

/* Open the chunk under the MDB cursor's current entry (after get rc) if it
 * is one of the term's in generation gen. Returns 0, 1 when it is not (or
 * there is none), or a TR error. */
static int chunk_from_mc(cur_priv *p, uint32_t gen, int get_rc, MDB_val *k, MDB_val *v, tr_chunk *ch)
{
    if (get_rc == MDB_NOTFOUND) return 1;
    if (get_rc) return tr_schema_lmdb_rc(get_rc);
    if (k->mv_size != TR_POSTINGS_KEY_BYTES) return TR_ECORRUPT;
    const uint8_t *kb = k->mv_data;
    if (tr_get_be32(kb) != gen || tr_get_be32(kb + 4) != p->term_id) return 1;
    if (tr_chunk_open_seen(ch, v->mv_data, v->mv_size, p->vseen)) return TR_ECORRUPT;
    if (ch->first_doc != tr_get_be32(kb + 8) || ch->nblocks == 0) return TR_ECORRUPT;
    return 0;
}

/* Put the MDB cursor on the term's first chunk at or after (gen, doc),
 * moving on to the next listed generation (gnext) when gen has none left
 * there. Returns 0, 1 when no chunk follows, or a TR error. */
static int mc_seek(cur_priv *p, uint32_t gen, const uint8_t *gnext, uint32_t doc, tr_chunk *ch)
{
    for (;;) {
        uint8_t kb[TR_POSTINGS_KEY_BYTES];
        tr_key_posting(kb, gen, p->term_id, doc);
        MDB_val k = { sizeof kb, kb }, v;
        int rc = chunk_from_mc(p, gen, mdb_cursor_get(p->mc, &k, &v, MDB_SET_RANGE), &k, &v, ch);
        if (rc <= 0) {
            p->gen = gen;
            p->gnext = gnext;
            return rc;
        }
        /* a generation the term lists must hold a chunk of it */
        if (doc == 0) return TR_ECORRUPT;
        if (!tr_gens_next(&gnext, p->gens_end, gen, &gen)) return 1;
        doc = 0;
    }
}

/* The term's next chunk after the MDB cursor's: 0, 1 at the end, or an error. */
static int mc_next(cur_priv *p, tr_chunk *ch)
{
    MDB_val k, v;
    int rc = chunk_from_mc(p, p->gen, mdb_cursor_get(p->mc, &k, &v, MDB_NEXT), &k, &v, ch);
    if (rc <= 0) return rc;
    uint32_t gen;
    const uint8_t *gnext = p->gnext;
    if (!tr_gens_next(&gnext, p->gens_end, p->gen, &gen)) return 1;
    return mc_seek(p, gen, gnext, 0, ch);
}

/* Bring the MDB cursor back onto the decoded chunk. */
static int mc_back(cur_priv *p, tr_chunk *ch)
{
    uint8_t kb[TR_POSTINGS_KEY_BYTES];
    tr_key_posting(kb, p->dgen, p->term_id, p->dchunk.first_doc);
    MDB_val k = { sizeof kb, kb }, v;
    int rc = chunk_from_mc(p, p->dgen, mdb_cursor_get(p->mc, &k, &v, MDB_SET_KEY), &k, &v, ch);
    p->gen = p->dgen;
    p->gnext = p->dgnext;
    return rc;
}

/* First block b in [start, nblocks) of ch with last doc >= target (ch's last
 * doc is >= target, so one exists). Galloping, then binary search. */
static uint32_t find_block(const tr_chunk *ch, uint32_t start, uint32_t target)
{
    uint32_t lo = start, step = 1, hi = start;
    while (hi < ch->nblocks && tr_chunk_block_last(ch, hi) < target) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi >= ch->nblocks) hi = ch->nblocks - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tr_chunk_block_last(ch, mid) < target) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void set_pointer(tr_cursor *c, const tr_chunk *ch, uint32_t b)
{
    c->chunk = *ch;
    c->blk = b;
    c->blk_last = tr_chunk_block_last(ch, b);
    c->blk_bound_ok = 0;
}

/* Decode block b of ch, make it current and the pointer, and move to the
 * first posting >= target in it. */
static int enter_block(tr_cursor *c, const tr_chunk *ch, uint32_t b, uint32_t target)
{
    cur_priv *p = c->mc;
    int n = p->docs_only ? tr_chunk_block_decode(ch, b, c->verify, c->docs, NULL, NULL)
                         : tr_chunk_block_decode(ch, b, c->verify, c->docs, c->tf, c->ttf);
    if (n <= 0 || (uint32_t)n > TR_BLOCK_DOCS) return cur_fail(c, TR_ECORRUPT);
    p->dchunk = *ch;
    p->dgen = p->gen;           /* the MDB cursor is on ch (or there is none) */
    p->dgnext = p->gnext;
    p->dblk = b;
    p->ptr_end = 0;
    set_pointer(c, ch, b);
    c->n = (uint32_t)n;
    c->decoded = 1;
    c->pos_decoded = 0;
    p->pos_single = 0;
    p->pos_checked = 0;
    p->have_len = 0;
    p->pb_open = 0;
    if (c->docs[n - 1] < target || c->docs[n - 1] != c->blk_last) return cur_fail(c, TR_ECORRUPT);
    /* most entries land on the block's first posting (a list read in
     * order, a count's window): no search then */
    uint32_t i = c->docs[0] >= target ? 0 : tr_docs_first_at_least(c->docs, 0, (uint32_t)n, target);
    c->i = i;
    c->doc = c->docs[i];
    c->near_last = c->docs[n - 1];
    return 0;
}

/* The slow path of seek/next: target is past the decoded block. */
static int seek_slow(tr_cursor *c, uint32_t target)
{
    cur_priv *p = c->mc;
    tr_chunk ch;
    uint32_t start = 0;
    int rc;
    if (c->decoded && target <= p->dchunk.last_doc) {
        ch = p->dchunk;
        start = p->dblk + 1;
        if (p->mc && (p->ptr_end || c->chunk.first_doc != ch.first_doc)) {
            /* the pointer ran ahead: bring the MDB cursor back */
            rc = mc_back(p, &ch);
            if (rc) return cur_fail(c, rc < 0 ? rc : TR_ECORRUPT);
        }
    } else {
        if (!p->mc) { cur_end(c); return 0; }
        uint32_t dlast = p->dchunk.last_doc;
        if (!p->ptr_end && c->chunk.first_doc > dlast && c->chunk.first_doc <= target) {
            ch = c->chunk;                          /* pointer chunk: MDB cursor is there */
        } else if (!p->ptr_end && c->chunk.first_doc == p->dchunk.first_doc) {
            rc = mc_next(p, &ch);
            if (rc == 1) { cur_end(c); p->ptr_end = 1; return 0; }
            if (rc) return cur_fail(c, rc);
        } else {
            rc = mc_seek(p, p->dgen, p->dgnext, dlast + 1, &ch);
            if (rc == 1) { cur_end(c); p->ptr_end = 1; return 0; }
            if (rc) return cur_fail(c, rc);
        }
        while (ch.last_doc < target) {
            uint32_t prev = ch.last_doc;
            rc = mc_next(p, &ch);
            if (rc == 1) { cur_end(c); p->ptr_end = 1; return 0; }
            if (rc) return cur_fail(c, rc);
            if (ch.first_doc <= prev) return cur_fail(c, TR_ECORRUPT);
        }
    }
    if (start >= ch.nblocks) return cur_fail(c, TR_ECORRUPT);
    return enter_block(c, &ch, find_block(&ch, start, target), target);
}

int tr_cursor_open(tr_reader *r, const tr_term_info *t, int want_positions, int verify, tr_cursor *c)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->term = t;
    c->want_positions = want_positions;
    c->verify = verify;
    cur_priv *p = calloc(1, sizeof *p);
    if (!p) return cur_fail(c, TR_ENOMEM);
    c->mc = p;
    p->term_id = t->term_id;
    p->vseen = r->lc->vseen;
    tr_chunk ch;
    if (t->inline_chunk) {
        if (tr_chunk_open_inline(&ch, t->inline_chunk, t->inline_len) || ch.nblocks == 0)
            return cur_fail(c, TR_ECORRUPT);
    } else {
        int rc = mdb_cursor_open(r->txn, r->ix->dbi[TR_DB_POSTINGS], &p->mc);
        if (rc) { p->mc = NULL; return cur_fail(c, tr_schema_lmdb_rc(rc)); }
        uint32_t gen;
        const uint8_t *gnext = t->gens;
        p->gens_end = t->gens + t->gens_len;
        if (!t->gens || !tr_gens_next(&gnext, p->gens_end, 0, &gen)) return cur_fail(c, TR_ECORRUPT);
        rc = mc_seek(p, gen, gnext, 0, &ch);
        if (rc) return cur_fail(c, rc == 1 ? TR_ECORRUPT : rc); /* the term says it has chunks */
    }
    enter_block(c, &ch, 0, 0);
    return c->rc;
}

void tr_cursor_close(tr_cursor *c)
{
    cur_priv *p = c->mc;
    if (p) {
        if (p->mc) mdb_cursor_close(p->mc);
        tr_pos_block_free(p->pb);
        free(p);
    }
    free(c->pos);
    free(c->pos_start);
    c->mc = NULL;
    c->pos = c->pos_start = NULL;
    c->pos_cap = 0;
}

int tr_cursor_next(tr_cursor *c)
{
    if (c->doc == TR_DOC_END) return c->rc;
    if (++c->i < c->n) {
        c->doc = c->docs[c->i];
        return 0;
    }
    return seek_slow(c, c->doc + 1);
}

/* Move to posting i of the decoded block (a later one). */
static int move_in_block(tr_cursor *c, uint32_t i)
{
    c->i = i;
    c->doc = c->docs[i];
    cur_priv *p = c->mc;
    if (p->ptr_end || c->chunk.first_doc != p->dchunk.first_doc || c->blk != p->dblk) {
        /* pointer was shallow-moved ahead but target stayed in this block */
        if (p->mc && (p->ptr_end || c->chunk.first_doc != p->dchunk.first_doc)) {
            tr_chunk ch;
            int rc = mc_back(p, &ch);
            if (rc) return cur_fail(c, rc < 0 ? rc : TR_ECORRUPT);
        }
        p->ptr_end = 0;
        set_pointer(c, &p->dchunk, p->dblk);
        c->near_last = c->docs[c->n - 1];
    }
    return 0;
}

int tr_cursor_seek(tr_cursor *c, uint32_t target)
{
    if (c->doc >= target) return c->rc;       /* includes TR_DOC_END */
    if (c->decoded && target <= c->docs[c->n - 1])
        return move_in_block(c, tr_docs_first_at_least(c->docs, c->i + 1, c->n, target));
    return seek_slow(c, target);
}

int tr_cursor_seek_index(tr_cursor *c, uint32_t i)
{
    if (c->rc) return c->rc;
    if (!c->decoded || c->doc == TR_DOC_END || i <= c->i || i >= c->n) return TR_EINPUT;
    return move_in_block(c, i);
}

void tr_cursor_load_bound(tr_cursor *c)
{
    if (c->blk_last == TR_DOC_END) memset(&c->blk_bound, 0, sizeof c->blk_bound);
    else tr_chunk_block_bound(&c->chunk, c->blk, &c->blk_bound);
    c->blk_bound_ok = 1;
}

int tr_cursor_shallow(tr_cursor *c, uint32_t target)
{
    cur_priv *p = c->mc;
    if (c->rc) return c->rc;
    if (!p || c->blk_last == TR_DOC_END || target <= c->blk_last) return 0;
    c->near_last = 0;           /* the pointer leaves the decoded block */
    tr_chunk ch = c->chunk;
    if (target > ch.last_doc) {
        if (!p->mc) { c->blk_last = TR_DOC_END; p->ptr_end = 1; return 0; }
        do {
            uint32_t prev = ch.last_doc;
            int rc = mc_next(p, &ch);
            if (rc == 1) {
                c->blk_last = TR_DOC_END;
                memset(&c->blk_bound, 0, sizeof c->blk_bound);
                c->blk_bound_ok = 1;
                p->ptr_end = 1;
                return 0;
            }
            if (rc) return cur_fail(c, rc);
            if (ch.first_doc <= prev) return cur_fail(c, TR_ECORRUPT);
        } while (ch.last_doc < target);
        set_pointer(c, &ch, find_block(&ch, 0, target));
    } else {
        set_pointer(c, &ch, find_block(&ch, c->blk + 1, target));
    }
    return 0;
}

/* Room for want positions in c->pos (doubling from 256); the check inline:
 * a phrase makes it for every posting whose positions it reads. */
static inline int pos_reserve(tr_cursor *c, size_t want)
{
    return want <= c->pos_cap ? TR_OK : tr_u32_reserve(&c->pos, &c->pos_cap, want, 256);
}

void tr_cursor_docs_only(tr_cursor *c)
{
    cur_priv *p = c->mc;
    if (p) p->docs_only = 1;
}

int tr_cursor_positions(tr_cursor *c, const uint32_t **pos, uint32_t *n)
{
    *pos = NULL;
    *n = 0;
    if (c->rc) return c->rc;
    if (c->doc == TR_DOC_END || !c->decoded) return TR_ENOTFOUND;
    cur_priv *p = c->mc;
    if (p->docs_only) return TR_EINPUT;
    if (!p->dchunk.has_positions) return TR_OK;
    if (!c->pos_decoded && p->pos_single && p->pos_single_i == c->i) {
        *pos = c->pos;
        *n = c->tf[c->i];
        return TR_OK;
    }
    if (!c->pos_decoded && !p->have_len) {
        tr_reader_lengths(c->r, c->docs, c->n, p->tl, p->bl);
        p->have_len = 1;
    }
    if (!c->pos_decoded && p->pos_single < TR_POS_SINGLE_MAX) {
        uint32_t want = c->tf[c->i];
        if (pos_reserve(c, want)) return cur_fail(c, TR_ENOMEM);
        if (!p->pb && !(p->pb = tr_pos_block_new())) return cur_fail(c, TR_ENOMEM);
        if (!p->pb_open) {
            int rc = tr_pos_block_open(p->pb, &p->dchunk, p->dblk, c->verify && !p->pos_checked,
                                       c->tf, c->ttf, c->n, p->tl, p->bl);
            if (rc) return cur_fail(c, TR_ECORRUPT);
            p->pb_open = 1;
        }
        int rc = tr_pos_block_posting(p->pb, c->i, c->pos);
        if (rc < 0 || (uint32_t)rc != want) return cur_fail(c, TR_ECORRUPT);
        p->pos_checked = 1;
        p->pos_single++;
        p->pos_single_i = c->i;
        *pos = c->pos;
        *n = want;
        return TR_OK;
    }
    if (!c->pos_decoded) {
        if (!c->pos_start) {
            c->pos_start = malloc((TR_BLOCK_DOCS + 1) * sizeof *c->pos_start);
            if (!c->pos_start) return cur_fail(c, TR_ENOMEM);
        }
        size_t sum = 0;
        for (uint32_t i = 0; i < c->n; i++) {
            c->pos_start[i] = (uint32_t)sum;
            sum += c->tf[i];
        }
        if (sum > UINT32_MAX) return cur_fail(c, TR_ECORRUPT);
        c->pos_start[c->n] = (uint32_t)sum;
        if (pos_reserve(c, sum)) return cur_fail(c, TR_ENOMEM);
        int rc = tr_chunk_block_positions(&p->dchunk, p->dblk, c->verify, c->tf, c->n, p->tl, p->bl,
                                          c->pos, c->pos_cap);
        if (rc < 0 || (size_t)rc != sum) return cur_fail(c, TR_ECORRUPT);
        c->pos_decoded = 1;
    }
    *pos = c->pos + c->pos_start[c->i];
    *n = c->tf[c->i];
    return TR_OK;
}
