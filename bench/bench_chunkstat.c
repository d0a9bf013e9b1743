/* bench_chunkstat.c - what the ids-and-freqs side of a real index's chunks
 * would cost under other codes. Walks every chunk (postings database and
 * inline chunks in the dictionary), decodes every block, and re-encodes its
 * doc gaps, tf - 1 and ttf under candidate schemes, printing total bytes per
 * scheme, plus the directory and header under narrower layouts.
 * Usage: bench_chunkstat INDEX_DIR */
#include "codec.h"
#include "index.h"
#include "dict.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_GAP, S_TF, S_TTF, NSTREAM };
static const char *stream_name[NSTREAM] = { "gap", "tf-1", "ttf" };

enum { C_FOR, C_PFOR, C_PFORV, C_RICE, C_BEST_FOR_PFOR, NCODE };
static const char *code_name[NCODE] = {
    "FOR (1 width byte)", "PFOR u8 pos + packed highs", "PFOR u8 pos + varint highs",
    "Rice (k byte, esc 16)", "min(FOR, PFOR)",
};

static uint64_t bytes[NSTREAM][NCODE];
static uint64_t nblocks_full, nblocks_all, nchunks_full, nchunks_compact, nchunks_inline;
static uint64_t npostings, doc_bytes_now, exc_hist[NSTREAM][9];
/* patched FOR with a decode-time penalty of LAMBDA[l] bytes per exception */
#define NLAMBDA 6
static const double LAMBDA[NLAMBDA] = {0, 0.25, 0.5, 1, 2, 4};
static uint64_t lam_bytes[NSTREAM][NLAMBDA], lam_exc[NSTREAM][NLAMBDA], lam_big_exc[NSTREAM][NLAMBDA];
static uint64_t big_postings;
static int in_big;
static int BYTE_HIGHS;
static int dense_block;       /* this block's gap width <= DENSE: no exceptions */
static unsigned DENSE_W;
static uint64_t dir_one_csum, dir_u16_off, dir_u16_off_last, chunks_u16_off, chunks_u16_last;

static unsigned width(uint32_t v) { return v ? 32u - (unsigned)__builtin_clz(v) : 0u; }
static uint64_t packed(uint64_t n, unsigned w) { return (n * w + 7) / 8; }
static unsigned varint_len(uint32_t v) { unsigned l = 1; while (v >= 0x80) { v >>= 7; l++; } return l; }

static void stream_cost(int s, const uint32_t *v, uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) acc |= v[i];
    unsigned maxw = width(acc);
    uint64_t forc = 1 + packed(n, maxw);
    bytes[s][C_FOR] += forc;
    uint64_t best = UINT64_MAX, bestv = UINT64_MAX;
    unsigned bestb = maxw;
    for (unsigned b = 0; b <= maxw; b++) {
        uint32_t nexc = 0, vsum = 0;
        for (uint32_t i = 0; i < n; i++)
            if (b < 32 && (v[i] >> b)) { nexc++; vsum += varint_len(v[i] >> b); }
        uint64_t c = 1 + packed(n, b) + (nexc ? 2 + nexc + packed(nexc, maxw - b) : 0);
        uint64_t cv = 1 + packed(n, b) + (nexc ? 1 + nexc + vsum : 0);
        if (c < best) { best = c; bestb = b; }
        if (cv < bestv) bestv = cv;
    }
    for (int l = 0; l < NLAMBDA; l++) {
        double lb = 1e30;
        uint64_t lbytes = 0, lexc = 0;
        for (unsigned b = 0; b <= maxw; b++) {
            uint32_t ne = 0;
            for (uint32_t i = 0; i < n; i++) ne += b < 32 && (v[i] >> b) != 0;
            unsigned hb = maxw - b <= 8 ? 1 : maxw - b <= 16 ? 2 : 4;
            uint64_t c = 1 + packed(n, b) + (ne ? 2 + ne + (BYTE_HIGHS ? (uint64_t)ne * hb : packed(ne, maxw - b)) : 0);
            double cl = (double)c + LAMBDA[l] * ne;
            if (cl <= lb) { lb = cl; lbytes = c; lexc = ne; }
        }
        lam_bytes[s][l] += lbytes;
        lam_exc[s][l] += lexc;
        if (in_big) lam_big_exc[s][l] += lexc;
    }
    uint32_t nexc = 0;
    for (uint32_t i = 0; i < n; i++) nexc += bestb < 32 && (v[i] >> bestb) != 0;
    exc_hist[s][nexc == 0 ? 0 : nexc < 2 ? 1 : nexc < 4 ? 2 : nexc < 8 ? 3 : nexc < 16 ? 4 :
                nexc < 32 ? 5 : nexc < 64 ? 6 : nexc < 128 ? 7 : 8]++;
    if (dense_block) best = forc;
    bytes[s][C_PFOR] += best;
    bytes[s][C_PFORV] += bestv;
    bytes[s][C_BEST_FOR_PFOR] += best < forc ? best : forc;
    uint64_t rbest = UINT64_MAX;
    for (unsigned k = 0; k <= 31; k++) {
        uint64_t bits = (uint64_t)n * (1 + k);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t q = v[i] >> k;
            bits += q < 16 ? q : 16 + 8 * varint_len(q - 16);
        }
        uint64_t c = 1 + (bits + 7) / 8;
        if (c < rbest) rbest = c;
    }
    bytes[s][C_RICE] += rbest;
}

static int do_chunk(const tr_chunk *c, int is_inline)
{
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    uint32_t gap[TR_BLOCK_DOCS], tfm1[TR_BLOCK_DOCS];
    if (c->dir) nchunks_full++;
    else if (is_inline) nchunks_inline++;
    else nchunks_compact++;
    doc_bytes_now += c->doclen;
    uint64_t base = c->first_doc;
    in_big = c->ndocs >= 4096;
    if (in_big) big_postings += c->ndocs;
    for (uint32_t b = 0; b < c->nblocks; b++) {
        int n = tr_chunk_block_decode(c, b, 1, docs, tf, ttf);
        if (n < 0) return n;
        for (int i = 0; i < n; i++) {
            gap[i] = i ? docs[i] - docs[i - 1] - 1 : (uint32_t)(docs[0] - base);
            tfm1[i] = tf[i] - 1;
        }
        base = (uint64_t)docs[n - 1] + 1;
        uint32_t acc = 0;
        for (int i = 0; i < n; i++) acc |= gap[i];
        dense_block = getenv("DENSE") && width(acc) <= DENSE_W;
        stream_cost(S_GAP, gap, (uint32_t)n);
        stream_cost(S_TF, tfm1, (uint32_t)n);
        stream_cost(S_TTF, ttf, (uint32_t)n);
        npostings += (uint64_t)n;
        nblocks_all++;
    }
    if (c->dir) {
        nblocks_full += c->nblocks;
        dir_one_csum += 36ull * c->nblocks;
        int off16 = c->doclen <= 65535 && c->poslen <= 65535;
        int last16 = c->last_doc - c->first_doc <= 65535;
        chunks_u16_off += off16;
        chunks_u16_last += last16 && off16;
        /* last u32, offsets u32 x2, csum u32, bound 20 */
        dir_u16_off += (off16 ? 32 : 36) * (uint64_t)c->nblocks;
        dir_u16_off_last += (off16 ? (last16 ? 30 : 32) : 36) * (uint64_t)c->nblocks;
    }
    return 0;
}

/* tr_dict_walk: the inline chunks (TR_EINPUT marks a bad one). */
static int inline_term(void *ctx, const uint8_t *term, size_t len, const tr_term_info *ti)
{
    (void)ctx; (void)term; (void)len;
    tr_chunk c;
    if (!ti->inline_chunk) return 0;
    if (tr_chunk_open_inline(&c, ti->inline_chunk, ti->inline_len) || do_chunk(&c, 1)) return TR_EINPUT;
    return 0;
}

int main(int argc, char **argv)
{
    BYTE_HIGHS = getenv("BYTE_HIGHS") != NULL;
    DENSE_W = getenv("DENSE") ? (unsigned)atoi(getenv("DENSE")) : 0;
    if (argc != 2) { fprintf(stderr, "usage: %s INDEX_DIR\n", argv[0]); return 2; }
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi terms, postings;
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
        mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0) ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, "terms", 0, &terms) ||
        mdb_dbi_open(txn, "postings", 0, &postings)) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    tr_chunk c;
    mdb_cursor_open(txn, postings, &cur);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (tr_chunk_open(&c, v.mv_data, v.mv_size) || do_chunk(&c, 0)) { fprintf(stderr, "bad chunk\n"); return 1; }
    }
    mdb_cursor_close(cur);
    int wrc = tr_dict_walk(txn, terms, NULL, 0, inline_term, NULL);
    if (wrc) {
        fprintf(stderr, wrc == TR_EINPUT ? "bad inline\n" : "bad term\n");
        return 1;
    }
    printf("postings %llu  blocks %llu (in full chunks %llu)  chunks: full %llu compact %llu inline %llu\n",
           (unsigned long long)npostings, (unsigned long long)nblocks_all, (unsigned long long)nblocks_full,
           (unsigned long long)nchunks_full, (unsigned long long)nchunks_compact, (unsigned long long)nchunks_inline);
    printf("doc-block bytes now %.3f MB (%.2f bits a posting)\n", doc_bytes_now / 1e6, doc_bytes_now * 8.0 / npostings);
    printf("%-28s %12s %12s %12s %12s %10s\n", "code (bytes, incl. 1 B/stream hdr)", "gap", "tf-1", "ttf", "total MB", "bits/post");
    for (int cd = 0; cd < NCODE; cd++) {
        uint64_t t = bytes[0][cd] + bytes[1][cd] + bytes[2][cd];
        printf("%-28s %12.3f %12.3f %12.3f %12.3f %10.2f\n", code_name[cd], bytes[0][cd] / 1e6, bytes[1][cd] / 1e6,
               bytes[2][cd] / 1e6, t / 1e6, t * 8.0 / npostings);
    }
    printf("best per stream (gap PFOR, tf min, ttf FOR): see rows\n");
    for (int s = 0; s < NSTREAM; s++) {
        printf("PFOR exceptions per block, %-5s:", stream_name[s]);
        for (int h = 0; h < 9; h++) printf(" %llu", (unsigned long long)exc_hist[s][h]);
        printf("   (0,1,2-3,4-7,8-15,16-31,32-63,64-127,128)\n");
    }
    printf("patched FOR with a penalty of lambda bytes per exception (ties to the larger width):\n");
    for (int l = 0; l < NLAMBDA; l++) {
        uint64_t t = 0, e = 0, be = 0;
        for (int st = 0; st < NSTREAM; st++) { t += lam_bytes[st][l]; e += lam_exc[st][l]; be += lam_big_exc[st][l]; }
        printf("  lambda %.2f: %.3f MB (gap %.3f tf %.3f ttf %.3f), exceptions %.4f a posting, %.4f in chunks >= 4096 docs\n",
               LAMBDA[l], t / 1e6, lam_bytes[0][l] / 1e6, lam_bytes[1][l] / 1e6, lam_bytes[2][l] / 1e6,
               (double)e / npostings, big_postings ? (double)be / big_postings : 0.0);
    }
    printf("directory: now %.3f MB (40 B x %llu); one csum %.3f; + u16 offsets when areas < 64K %.3f (%llu of %llu chunks); + u16 last rel %.3f (%llu)\n",
           40.0 * nblocks_full / 1e6, (unsigned long long)nblocks_full, dir_one_csum / 1e6, dir_u16_off / 1e6,
           (unsigned long long)chunks_u16_off, (unsigned long long)nchunks_full, dir_u16_off_last / 1e6,
           (unsigned long long)chunks_u16_last);
    printf("full headers: %.3f MB (52 B x %llu)\n", 52.0 * nchunks_full / 1e6, (unsigned long long)nchunks_full);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}
