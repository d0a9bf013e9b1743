/* bench_posstat.c - what the positions of a real index would cost under
 * other codes (issue 3; measured, not built). Walks every chunk (postings
 * database and inline chunks in the dictionary), decodes every block's
 * docs, tf, ttf and positions, looks up each document's title and body
 * lengths, and counts the exact bits of each posting's title run and body
 * run under:
 *   (a)  the pos-blocks in the index (format 5 since it was built: code
 *        (c) below, so equal to its blocks column); format 4's group Rice
 *        code recomputed from the decoded stream with that encoder's choice
 *        of parameter (on a format-4 index it equalled the index bytes);
 *        and with the best parameter of each group (exact bytes);
 *   (b)  Rice, one parameter per run derived from what a decoder knows:
 *        k = floor(log2(field_len / count)), clamped to 0..24; the first
 *        position and the gaps p[i] - p[i-1] - 1 with that k (plain unary,
 *        no escapes, no per-group byte);
 *   (c)  (b) with the first position in truncated binary over
 *        [0, field_len - count];
 *   (d)  binary interpolative coding of the run within [0, field_len)
 *        (truncated binary at each step; bits only, no decoder);
 *   (e)  the information bound: log2 C(field_len, count) per run.
 * A run whose last position is >= the field length (the lengths and the
 * positions disagree) is counted with field_len = last + 1 and reported.
 * (b)..(e) are given as exact bits and as bytes with each block rounded up
 * to a whole byte (a pos-block is a separately checksummed payload).
 * Usage: bench_posstat INDEX_DIR   (an index of this format version, e.g.
 *   build/indexer/trawl-index --threads 2 --quiet DIR /work/scratch/enwiki.jsonl
 *   build/bench/bench_posstat DIR
 * figures in docs/FORMAT.md, "Measured: what positions could cost"). */
#include "codec.h"
#include "index.h"
#include "dict.h"

#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_RICE_K, C_RICE_K_TB, C_BIC, C_BOUND, NCODE };
static const char *code_name[NCODE] = {
    "(b) Rice, k from len/count",
    "(c) (b) + first in trunc. binary",
    "(d) interpolative (BIC)",
    "(e) log2 C(len, count)",
};

static uint32_t *title_len, *body_len;
static uint32_t ndoclen;
static uint64_t pos_bytes_now, pos_bytes_recomputed, pos_bytes_best_r, npositions, nfirst, nruns_bad, nblocks;
static double bits[NCODE], block_bits[NCODE], block_bytes[NCODE];
static double first_bits[2], gap_bits[2]; /* (b) and (c) split: first positions, gaps */

static unsigned floor_log2(uint64_t v) { return v ? 63u - (unsigned)__builtin_clzll(v) : 0u; }
static unsigned varint_len(uint32_t v) { unsigned l = 1; while (v >= 0x80) { v >>= 7; l++; } return l; }

/* Bits of v in [0, n) in truncated (minimal) binary; n >= 1. */
static unsigned trunc_bin_bits(uint64_t v, uint64_t n)
{
    if (n <= 1) return 0;
    unsigned u = floor_log2(n);
    uint64_t c = (2ull << u) - n; /* values below c take u bits */
    if ((n & (n - 1)) == 0) return u;
    return v < c ? u : u + 1;
}

static unsigned rice_bits(uint32_t v, unsigned k) { return (v >> k) + 1 + k; }

/* Binary interpolative code of p[0..n) strictly increasing in [lo, hi]. */
static double bic_bits(const uint32_t *p, uint32_t n, uint64_t lo, uint64_t hi)
{
    if (n == 0) return 0;
    uint32_t mid = n / 2;
    uint64_t a = lo + mid, z = hi - (n - mid - 1);
    double b = trunc_bin_bits(p[mid] - a, z - a + 1);
    if (mid) b += bic_bits(p, mid, lo, (uint64_t)p[mid] - 1);
    if (n - mid - 1) b += bic_bits(p + mid + 1, n - mid - 1, (uint64_t)p[mid] + 1, hi);
    return b;
}

/* One run: m positions of one field of one posting, field length len. */
static void run_cost(const uint32_t *p, uint32_t m, uint64_t len)
{
    if (m == 0) return;
    if (len < m || p[m - 1] >= len) { nruns_bad++; len = (uint64_t)p[m - 1] + 1; }
    unsigned k = floor_log2(len / m);
    if (k > 24) k = 24;
    double fb = rice_bits(p[0], k), ftb = trunc_bin_bits(p[0], len - m + 1), gb = 0;
    for (uint32_t i = 1; i < m; i++) gb += rice_bits(p[i] - p[i - 1] - 1, k);
    first_bits[0] += fb; first_bits[1] += ftb;
    gap_bits[0] += gb; gap_bits[1] += gb;
    block_bits[C_RICE_K] += fb + gb;
    block_bits[C_RICE_K_TB] += ftb + gb;
    block_bits[C_BIC] += bic_bits(p, m, 0, len - 1);
    block_bits[C_BOUND] += (lgamma((double)len + 1) - lgamma((double)m + 1) -
                            lgamma((double)(len - m) + 1)) / log(2.0);
    npositions += m;
    nfirst++;
}

/* Bytes of one group of n stream values coded with parameter r as codec.c
 * writes it: parameter byte, unary parts (escape at 16), low bits, varints. */
static uint64_t rice_group_bytes_at(const uint32_t *v, uint32_t n, unsigned r)
{
    uint64_t unary = 0, esc = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t q = r >= 32 ? 0 : v[i] >> r;
        unary += (q < 16 ? q : 16) + 1;
        if (q >= 16) esc += varint_len((uint32_t)(q - 16));
    }
    return 1 + (unary + 7) / 8 + ((uint64_t)n * r + 7) / 8 + esc;
}

/* The encoder's estimate of a group's bits at r (codec.c rice_bits: padding
 * aside, an escape's varint as 1 or 2 bytes), used only to pick r the way
 * the encoder does, so that (a) recomputed can match the index exactly. */
static uint64_t enc_estimate(const uint32_t *v, uint32_t n, unsigned r)
{
    if (r >= 32) return (uint64_t)n * 33;
    uint64_t b = (uint64_t)n * (1 + r);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t q = v[i] >> r;
        b += q < 16 ? q : 16 + 8 + 8 * (q >= 16 + 128);
    }
    return b;
}

/* Today's coding of one group: r chosen as codec.c's encode_pos_group does
 * (log2 of the mean, then downhill), and the exact best over all r. */
static void rice_group_bytes(const uint32_t *v, uint32_t n, uint64_t *enc, uint64_t *opt)
{
    uint64_t sum = 0, best = UINT64_MAX;
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) { sum += v[i]; acc |= v[i]; }
    for (unsigned r = 0; r <= 32; r++) {
        uint64_t c = rice_group_bytes_at(v, n, r);
        if (c < best) best = c;
    }
    *opt += best;
    unsigned maxk = acc ? 32u - (unsigned)__builtin_clz(acc) : 0u;
    unsigned k = floor_log2(sum / n);
    if (k > maxk) k = maxk;
    uint64_t e = enc_estimate(v, n, k);
    while (k > 0 && enc_estimate(v, n, k - 1) <= e) e = enc_estimate(v, n, --k);
    while (k < maxk && enc_estimate(v, n, k + 1) < e) e = enc_estimate(v, n, ++k);
    *enc += rice_group_bytes_at(v, n, k);
}

static uint32_t *pos, *stream;
static size_t poscap;

static int do_chunk(const tr_chunk *c)
{
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    if (!c->has_positions) return 0;
    pos_bytes_now += c->poslen;
    for (uint32_t b = 0; b < c->nblocks; b++) {
        int n = tr_chunk_block_decode(c, b, 1, docs, tf, ttf);
        if (n < 0) return n;
        size_t sum = 0;
        for (int i = 0; i < n; i++) sum += tf[i];
        if (sum > poscap) {
            poscap = sum * 2;
            free(pos); free(stream);
            pos = malloc(poscap * sizeof *pos);
            stream = malloc(poscap * sizeof *stream);
            if (!pos || !stream) return TR_ENOMEM;
        }
        uint32_t tls[TR_BLOCK_DOCS], bls[TR_BLOCK_DOCS];
        for (int i = 0; i < n; i++) {
            tls[i] = docs[i] < ndoclen ? title_len[docs[i]] : 0;
            bls[i] = docs[i] < ndoclen ? body_len[docs[i]] : 0;
        }
        int np = tr_chunk_block_positions(c, b, 1, tf, (uint32_t)n, tls, bls, pos, poscap);
        if (np < 0) return np;
        if ((size_t)np != sum) return TR_ECORRUPT;
        memset(block_bits, 0, sizeof block_bits);
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            uint64_t tl = docs[i] < ndoclen ? title_len[docs[i]] : 0;
            uint64_t bl = docs[i] < ndoclen ? body_len[docs[i]] : 0;
            const uint32_t *p = pos + off;
            uint32_t nt = ttf[i], nb = tf[i] - ttf[i];
            run_cost(p, nt, tl);
            run_cost(p + nt, nb, bl);
            /* today's stream: each run delta-coded, first raw */
            for (uint32_t j = 0; j < nt; j++) stream[off + j] = j ? p[j] - p[j - 1] - 1 : p[0];
            for (uint32_t j = 0; j < nb; j++)
                stream[off + nt + j] = j ? p[nt + j] - p[nt + j - 1] - 1 : p[nt];
            off += tf[i];
        }
        for (size_t g = 0; g < sum; g += 128)
            rice_group_bytes(stream + g, (uint32_t)(sum - g < 128 ? sum - g : 128), &pos_bytes_recomputed,
                             &pos_bytes_best_r);
        for (int cd = 0; cd < NCODE; cd++) {
            bits[cd] += block_bits[cd];
            block_bytes[cd] += ceil(block_bits[cd] / 8);
        }
        nblocks++;
    }
    return 0;
}

/* tr_dict_walk: the inline chunks (TR_EINPUT marks a bad one). */
static int inline_term(void *ctx, const uint8_t *term, size_t len, const tr_term_info *ti)
{
    (void)ctx; (void)term; (void)len;
    tr_chunk c;
    if (!ti->inline_chunk) return 0;
    if (tr_chunk_open_inline(&c, ti->inline_chunk, ti->inline_len) || do_chunk(&c)) return TR_EINPUT;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: %s INDEX_DIR\n", argv[0]); return 2; }
    char err[512] = "";
    tr_index *ix;
    tr_reader *r;
    if (tr_index_open(argv[1], &ix, err, sizeof err) || tr_reader_begin(ix, &r, err, sizeof err)) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], err);
        return 1;
    }
    ndoclen = tr_reader_stats(r)->next_doc;
    title_len = calloc(ndoclen + 1, sizeof *title_len);
    body_len = calloc(ndoclen + 1, sizeof *body_len);
    uint32_t *ids = malloc((ndoclen + 1) * sizeof *ids);
    if (!title_len || !body_len || !ids) { fprintf(stderr, "out of memory\n"); return 1; }
    for (uint32_t d = 0; d < ndoclen; d++) ids[d] = d;
    tr_reader_lengths(r, ids, ndoclen, title_len, body_len);
    free(ids);
    tr_reader_end(r);

    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    tr_chunk c;
    if (mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) { fprintf(stderr, "cannot begin txn\n"); return 1; }
    mdb_cursor_open(txn, ix->dbi[TR_DB_POSTINGS], &cur);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (tr_chunk_open(&c, v.mv_data, v.mv_size) || do_chunk(&c)) { fprintf(stderr, "bad chunk\n"); return 1; }
    }
    mdb_cursor_close(cur);
    int wrc = tr_dict_walk(txn, ix->dbi[TR_DB_TERMS], NULL, 0, inline_term, NULL);
    if (wrc) {
        fprintf(stderr, wrc == TR_EINPUT ? "bad inline chunk\n" : "bad term\n");
        return 1;
    }
    mdb_txn_abort(txn);

    double np = (double)npositions;
    printf("positions %llu in %llu runs (title or body of a posting), %llu blocks; runs past their field length: %llu\n",
           (unsigned long long)npositions, (unsigned long long)nfirst, (unsigned long long)nblocks,
           (unsigned long long)nruns_bad);
    printf("pos-block bytes: in the index %llu, recomputed %llu\n", (unsigned long long)pos_bytes_now,
           (unsigned long long)pos_bytes_recomputed);
    printf("%-34s %10s %10s %10s %10s\n", "code", "MB (bits)", "MB (blk B)", "bits/pos", "vs (a)");
    printf("%-34s %10s %10.3f %10.3f %10.3f\n", "(a) today, bytes in the index", "", pos_bytes_now / 1e6,
           pos_bytes_now * 8.0 / np, 1.0);
    printf("%-34s %10s %10.3f %10.3f %10.3f\n", "(a) today, recomputed", "", pos_bytes_recomputed / 1e6,
           pos_bytes_recomputed * 8.0 / np, (double)pos_bytes_recomputed / pos_bytes_now);
    printf("%-34s %10s %10.3f %10.3f %10.3f\n", "(a) today, best r per group", "", pos_bytes_best_r / 1e6,
           pos_bytes_best_r * 8.0 / np, (double)pos_bytes_best_r / pos_bytes_now);
    for (int cd = 0; cd < NCODE; cd++)
        printf("%-34s %10.3f %10.3f %10.3f %10.3f\n", code_name[cd], bits[cd] / 8e6, block_bytes[cd] / 1e6,
               bits[cd] / np, block_bytes[cd] / pos_bytes_now);
    printf("split, MB: (b) first %.3f + gaps %.3f; (c) first %.3f + gaps %.3f (first = %.1f%% of positions)\n",
           first_bits[0] / 8e6, gap_bits[0] / 8e6, first_bits[1] / 8e6, gap_bits[1] / 8e6, 100.0 * nfirst / np);
    free(pos); free(stream); free(title_len); free(body_len);
    tr_index_close(ix);
    return 0;
}
