/* chunker.c - cutting a term's postings into chunks that fill LMDB pages
 * (see chunker.h; the page arithmetic is LMDB's, the chunk layout codec.c's). */
#include "chunker.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

int tr_enc_scratch_reserve(tr_enc_scratch *w, size_t n, size_t npos)
{
    if (n > w->scap) {
        size_t cap = w->scap ? w->scap : 1024;
        while (cap < n) cap *= 2;
        uint32_t **arr[5] = { &w->sd, &w->stf, &w->sttf, &w->sdl, &w->stl };
        for (int i = 0; i < 5; i++) {
            uint32_t *p = realloc(*arr[i], cap * sizeof **arr[i]);
            if (!p) return TR_ENOMEM;
            *arr[i] = p;
        }
        w->scap = cap;
    }
    return tr_u32_reserve(&w->spos, &w->sposcap, npos, 4096);
}

void tr_enc_scratch_free(tr_enc_scratch *sc)
{
    free(sc->sd); free(sc->stf); free(sc->sttf); free(sc->sdl); free(sc->stl); free(sc->spos);
    *sc = (tr_enc_scratch){0};
}

/* LMDB (4 KB pages): a value whose node (8-byte header, 12-byte key, value)
 * exceeds 2,038 bytes goes to overflow pages of its own, 16-byte header
 * first, rounded up to whole pages; smaller ones share leaf pages. */
#define LMDB_PAGE 4096u
#define LMDB_NODE_HEADER 8u
#define LMDB_LEAF_VALUE_MAX (2038u - LMDB_NODE_HEADER - TR_POSTINGS_KEY_BYTES)
#define LMDB_OVERFLOW_HEADER 16u
/* A leaf node's bytes besides its value: header, key, 2-byte index slot. */
#define LMDB_LEAF_NODE_EXTRA (LMDB_NODE_HEADER + TR_POSTINGS_KEY_BYTES + 2u)
/* Percent charged on top of a leaf value's bytes for the room its pages
 * leave unused. Appended leaves are ~97% full; 60% was fitted when a second
 * commit split them to ~63%. enwiki, 2 commits, postings database: 0% 126.73
 * MB (cuts into many small leaf pieces), 10% 120.70, 25% 120.84, 60% 122.32. */
#ifndef TR_LEAF_CHARGE_PCT
#define TR_LEAF_CHARGE_PCT 10u
#endif

/* Bytes a postings value of len bytes occupies (node and index slot
 * included). */
static uint64_t stored_cost(uint64_t len)
{
    if (len <= LMDB_LEAF_VALUE_MAX) return (len + LMDB_LEAF_NODE_EXTRA) * (100u + TR_LEAF_CHARGE_PCT) / 100u;
    return (len + LMDB_OVERFLOW_HEADER + LMDB_PAGE - 1) / LMDB_PAGE * LMDB_PAGE + LMDB_LEAF_NODE_EXTRA + 4u;
}

/* Where to cut a chunk of nb blocks (payload bytes bytes[b]) so that its
 * pieces fill their pages: an overflow value wastes half a page on average
 * (15 MB of enwiki's postings). Dynamic programming over the cut points,
 * with a piece's size estimated as the codec lays it out (a full chunk's
 * 33-byte header and directory entries of ~25 bytes; a single block is the
 * compact form, ~12 bytes of header). cut[] receives the piece ends
 * (block indexes, ascending, the last = nb); returns the piece count. */
#define CHUNK_HEADER_EST 33u
#define CHUNK_DIR_EST 25u
#define COMPACT_HEADER_EST 12u
static size_t plan_cuts(const size_t *bytes, size_t nb, uint64_t *best, uint32_t *from, uint32_t *cut)
{
    best[0] = 0;
    for (size_t j = 1; j <= nb; j++) {
        uint64_t payload = 0;
        best[j] = UINT64_MAX;
        for (size_t i = j; i-- > 0;) {
            payload += bytes[i];
            size_t k = j - i;
            uint64_t len = k == 1 ? COMPACT_HEADER_EST + payload
                                  : CHUNK_HEADER_EST + (uint64_t)CHUNK_DIR_EST * k + payload;
            uint64_t c = best[i] + stored_cost(len);
            if (c < best[j]) { best[j] = c; from[j] = (uint32_t)i; }
            /* a piece beyond a few pages gains nothing from growing */
            if (len > 64u * LMDB_PAGE) break;
        }
    }
    size_t m = 0;
    for (size_t j = nb; j > 0; j = from[j]) cut[m++] = (uint32_t)j;
    for (size_t i = 0; i < m / 2; i++) {
        uint32_t t = cut[i]; cut[i] = cut[m - 1 - i]; cut[m - 1 - i] = t;
    }
    return m;
}

/* tr_chunk_encode_cut's plan: one piece while the whole chunk fits a leaf
 * page, else plan_cuts. */
static size_t plan_pieces(void *ctx, const size_t *bytes, size_t nb, size_t whole, uint32_t *cut)
{
    (void)ctx;
    enum { MAXB = TR_CHUNK_MAX_DOCS / TR_BLOCK_DOCS };
    if (whole <= LMDB_LEAF_VALUE_MAX || nb > MAXB) {
        cut[0] = (uint32_t)nb;
        return 1;
    }
    uint64_t best[MAXB + 1];
    uint32_t from[MAXB + 1];
    return plan_cuts(bytes, nb, best, from, cut);
}

/* Encode postings [0, n) of the scratch as chunks of at most
 * TR_CHUNK_MAX_DOCS, appending records (first_doc u32 | len u32 | chunk) to
 * out. A chunk too big for a leaf page is cut at block boundaries where
 * plan_cuts says its pieces fill their pages best; its blocks are encoded
 * once (tr_chunk_encode_cut), not again for each piece. Runs in encoding
 * threads: touches only sc and out. */
int tr_encode_chunks(tr_enc_scratch *sc, size_t n, tr_buf *out)
{
    size_t off = 0, poff = 0;
    while (off < n) {
        size_t cnt = n - off;
        if (cnt > TR_CHUNK_MAX_DOCS) cnt = TR_CHUNK_MAX_DOCS;
        tr_postings_in in = { (uint32_t)cnt, sc->sd + off, sc->stf + off, sc->sttf + off, sc->sdl + off,
                              sc->spos + poff, sc->stl + off };
        int rc = tr_chunk_encode_cut(&in, plan_pieces, NULL, out);
        if (rc) return rc;
        for (size_t i = 0; i < cnt; i++) poff += sc->stf[off + i];
        off += cnt;
    }
    return TR_OK;
}

int tr_store_chunks(MDB_txn *txn, MDB_dbi dbi, uint32_t gen, const uint8_t *enc, size_t len,
                    tr_term_info *info, uint8_t *inl, size_t *put)
{
    const uint8_t *p = enc, *end = enc + len;
    *put = 0;
    while (p < end) {
        uint32_t first = tr_get_le32(p), clen = tr_get_le32(p + 4);
        const uint8_t *chunk = p + 8;
        p += 8 + (size_t)clen;
        tr_chunk c;
        if (tr_chunk_open(&c, chunk, clen)) return TR_ECORRUPT;
        tr_bound_merge(&info->bound, &c.bound);
        /* the inline form drops the format byte and checksum (5 bytes) */
        size_t il = 0;
        if (info->nchunks == 0 && p == end && clen <= TR_INLINE_MAX + 5) {
            memcpy(inl, chunk, clen);
            il = tr_chunk_inline_form(inl, clen);
        }
        if (il && il <= TR_INLINE_MAX) {
            info->inline_chunk = inl;
            info->inline_len = il;
        } else {
            uint8_t kb[TR_POSTINGS_KEY_BYTES];
            tr_key_posting(kb, gen, info->term_id, first);
            MDB_val k = { sizeof kb, kb }, v = { clen, (void *)chunk };
            int rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
            if (rc) return rc;
            (*put)++;
        }
        info->nchunks++;
    }
    return TR_OK;
}
