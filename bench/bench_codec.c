/* bench_codec.c - speed and size of the posting-list codec on synthetic
 * Zipf-like lists: block decode (ns/posting), encode, positions decode,
 * tr_unpack per width, and bits per doc id / per position. A memcpy of the
 * same number of uint32 runs in the same process as the baseline.
 * Times are this thread's CPU time (the machine is shared); best of
 * BENCH_TRIALS. BENCH_CODEC_SCALAR=1 forces the portable bitpack path.
 * Usage: bench_codec [ndocs_in_collection]   (default 5,000,000) */
#include "bitpack.h"
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MIN_SECONDS 0.04 /* one trial repeats its work at least this long */
#define BENCH_TRIALS 9         /* report the fastest trial: robust to other load */

/* Run BODY (which adds to reps) in BENCH_TRIALS trials; best = fastest
 * seconds per rep. */
#define TIME_BEST(best, BODY) do { \
    (best) = 1e30; \
    for (int trial_ = 0; trial_ < BENCH_TRIALS; trial_++) { \
        long reps = 0; double t0_ = now(), t_; \
        do { BODY } while ((t_ = now() - t0_) < BENCH_MIN_SECONDS); \
        if (t_ / reps < (best)) (best) = t_ / reps; \
    } \
} while (0)

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct list {
    uint32_t n;
    uint32_t *docs, *tf, *ttf, *dl, *pos, *tl, *bl;
    uint64_t npos;
} list;

/* df documents chosen uniformly from the collection (gaps ~ geometric),
 * tf Zipf-like (P(tf = k) ~ 1/k^2), 1 in 10 postings with a title hit,
 * positions spread over a document of ~300 terms. */
static void make_list(list *l, uint32_t collection, uint32_t df)
{
    l->n = df;
    l->docs = malloc(df * 4ull); l->tf = malloc(df * 4ull); l->ttf = malloc(df * 4ull);
    l->dl = malloc(df * 4ull);
    double p = (double)df / collection;
    uint64_t d = 0;
    l->npos = 0;
    for (uint32_t i = 0; i < df; i++) {
        /* geometric gap with mean 1/p */
        double u = (double)((rnd() >> 11) + 1) / 9007199254740993.0;
        uint64_t gap = p >= 1 ? 0 : (uint64_t)(__builtin_log(u) / __builtin_log(1 - p));
        d += gap;
        if (d >= TR_DOC_END - 1) d = TR_DOC_END - 2;
        l->docs[i] = (uint32_t)d;
        d++;
        double z = (double)((rnd() >> 11) + 1) / 9007199254740993.0;
        uint32_t tf = (uint32_t)(1.0 / __builtin_sqrt(z)); /* P(tf >= k) = 1/k^2 */
        if (tf > 1000) tf = 1000;
        l->tf[i] = tf;
        l->ttf[i] = rnd() % 10 == 0 ? 1 : 0;
        l->dl[i] = 50 + (uint32_t)(rnd() % 600) + tf;
        l->npos += tf;
    }
    l->pos = malloc(l->npos * 4);
    l->tl = malloc(df * 4ull);
    l->bl = malloc(df * 4ull);
    uint64_t k = 0;
    for (uint32_t i = 0; i < df; i++) {
        uint32_t at = 0;
        if (l->ttf[i]) l->pos[k++] = (uint32_t)(rnd() % 8);
        uint32_t body = l->tf[i] - l->ttf[i], span = l->dl[i];
        for (uint32_t j = 0; j < body; j++) {
            at += (uint32_t)(rnd() % (2 * span / (body + 1) + 1));
            l->pos[k++] = at++;
        }
        /* field lengths that hold the positions: a title of 8 when there is
         * a title hit, the body as long as dl says or its last position */
        l->tl[i] = l->ttf[i] ? 8 : 0;
        l->bl[i] = body && at > l->dl[i] ? at : l->dl[i];
        l->dl[i] = l->tl[i] + l->bl[i];
    }
}

static void free_list(list *l)
{
    free(l->docs); free(l->tf); free(l->ttf); free(l->dl); free(l->pos); free(l->tl); free(l->bl);
}

static volatile uint32_t sink;

static void bench_unpack(void)
{
    static const unsigned widths[] = {1, 3, 5, 8, 12, 17, 24, 32};
    uint32_t in[TR_BLOCK_DOCS], out[TR_BLOCK_DOCS];
    uint8_t packed[TR_BLOCK_DOCS * 4];
    printf("\ntr_unpack, 128 values per call:\n  width   ns/value   Gvalues/s\n");
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        unsigned w = widths[k];
        for (int i = 0; i < TR_BLOCK_DOCS; i++) in[i] = (uint32_t)rnd() & (w == 32 ? ~0u : (1u << w) - 1);
        tr_pack(packed, in, TR_BLOCK_DOCS, w);
        double best;
        TIME_BEST(best, {
            for (int r = 0; r < 1000; r++) {
                tr_unpack(out, packed, TR_BLOCK_DOCS, w);
                sink += out[r & 127];
            }
            reps += 1000;
        });
        double ns = best * 1e9 / TR_BLOCK_DOCS;
        printf("  %5u   %8.3f   %9.2f\n", w, ns, 1.0 / ns);
    }
}

int main(int argc, char **argv)
{
    uint32_t collection = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5000000u;
    static const uint32_t dfs[] = {2500000, 500000, 50000, 5000};
    const char *scalar = getenv("BENCH_CODEC_SCALAR");
    int bp = tr_bitpack_select(scalar && *scalar == '1' ? TR_BITPACK_SCALAR : TR_BITPACK_AUTO);
    printf("bench_codec: collection of %u docs; lists with uniform random docs, Zipf tf; bitpack %s\n",
           collection, bp == TR_BITPACK_AVX2 ? "AVX2" : "portable");
    printf("\n%9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n", "df", "bits/blk",
           "bits/post", "bits/pos", "dec ns/p", "dec+vfy", "ids ns/p", "pos ns/p", "ns/pos", "open ns/p",
           "enc ns/p", "vs memcpy");
    for (size_t k = 0; k < sizeof dfs / sizeof *dfs; k++) {
        uint32_t df = dfs[k] < collection ? dfs[k] : collection;
        list l;
        make_list(&l, collection, df);
        tr_postings_in in = { l.n, l.docs, l.tf, l.ttf, l.dl, l.pos, l.tl };
        tr_postings_in in_nopos = in;
        in_nopos.pos = NULL;
        tr_buf out = {0}, out_nopos = {0};

        /* encode (with positions), repeated to a minimum time */
        double best;
        TIME_BEST(best, {
            tr_buf_clear(&out);
            if (tr_chunk_encode(&in, &out)) { fprintf(stderr, "encode failed\n"); return 1; }
            reps++;
        });
        double enc_ns = best * 1e9 / l.n;
        tr_chunk_encode(&in_nopos, &out_nopos);

        tr_chunk c, cn;
        if (tr_chunk_open(&c, out.data, out.len) || tr_chunk_open(&cn, out_nopos.data, out_nopos.len)) {
            fprintf(stderr, "open failed\n");
            return 1;
        }
        /* sizes: the doc-blocks (gaps, tf, ttf) of the chunk without positions */
        uint64_t blk_bytes = 0;
        for (uint32_t b = 0; b < cn.nblocks; b++) blk_bytes += tr_chunk_block_bytes(&cn, b);
        double bits_blk = 8.0 * blk_bytes / l.n;
        double bits_post = 8.0 * out_nopos.len / l.n; /* whole chunk without positions */
        double bits_pos = 8.0 * c.poslen / (double)l.npos;

        uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
        double dec_ns[2];
        for (int verify = 0; verify < 2; verify++) {
            TIME_BEST(best, {
                for (uint32_t b = 0; b < cn.nblocks; b++) {
                    int n = tr_chunk_block_decode(&cn, b, verify, docs, tf, ttf);
                    sink += (uint32_t)n + docs[0];
                }
                reps++;
            });
            dec_ns[verify] = best * 1e9 / l.n;
        }
        /* doc ids alone (counting), verify off */
        double ids_ns = 0;
#ifndef BENCH_NO_IDS
        TIME_BEST(best, {
            for (uint32_t b = 0; b < cn.nblocks; b++) {
                int n = tr_chunk_block_decode(&cn, b, 0, docs, NULL, NULL);
                sink += (uint32_t)n + docs[0];
            }
            reps++;
        });
        ids_ns = best * 1e9 / l.n;
#endif
        /* baseline: copy three arrays of n uint32 (docs, tf, ttf) block by block */
        TIME_BEST(best, {
            for (uint32_t i = 0; i < l.n; i += TR_BLOCK_DOCS) {
                uint32_t n = l.n - i < TR_BLOCK_DOCS ? l.n - i : TR_BLOCK_DOCS;
                memcpy(docs, l.docs + i, n * 4);
                memcpy(tf, l.tf + i, n * 4);
                memcpy(ttf, l.ttf + i, n * 4);
                sink += docs[0] + tf[0] + ttf[0];
            }
            reps++;
        });
        double memcpy_ns = best * 1e9 / l.n;

        /* positions: per posting decoded, verify off */
        size_t cap = 1 << 20;
        uint32_t *pos = malloc(cap * 4);
        TIME_BEST(best, {
            for (uint32_t b = 0; b < c.nblocks; b++) {
                int n = tr_chunk_block_decode(&c, b, 0, docs, tf, ttf);
                int np = tr_chunk_block_positions(&c, b, 0, tf, (uint32_t)n, l.tl + b * TR_BLOCK_DOCS,
                                                  l.bl + b * TR_BLOCK_DOCS, pos, cap);
                sink += (uint32_t)np;
            }
            reps++;
        });
        double pos_ns = best * 1e9 / l.n;
        /* positions alone, per position: the docs decode of the same blocks
         * (dec_ns[0] a posting) taken out */
        double ns_per_pos = (best * 1e9 - dec_ns[0] * l.n) / (double)l.npos;
        free(pos);
        /* a block's set-up for single postings (tr_pos_block_open: the runs,
         * every first position, the unary check), a posting, verify off;
         * the blocks' tf and ttf decoded beforehand */
        tr_pos_block *pb = tr_pos_block_new();
        uint32_t *btf = malloc((size_t)c.nblocks * TR_BLOCK_DOCS * 4), *bttf = malloc((size_t)c.nblocks * TR_BLOCK_DOCS * 4);
        uint32_t *bn = malloc((size_t)c.nblocks * 4);
        for (uint32_t b = 0; b < c.nblocks; b++)
            bn[b] = (uint32_t)tr_chunk_block_decode(&c, b, 0, docs, btf + b * TR_BLOCK_DOCS, bttf + b * TR_BLOCK_DOCS);
        TIME_BEST(best, {
            for (uint32_t b = 0; b < c.nblocks; b++) {
                int rc = tr_pos_block_open(pb, &c, b, 0, btf + b * TR_BLOCK_DOCS, bttf + b * TR_BLOCK_DOCS,
                                           bn[b], l.tl + b * TR_BLOCK_DOCS, l.bl + b * TR_BLOCK_DOCS);
                sink += (uint32_t)rc;
            }
            reps++;
        });
        double open_ns = best * 1e9 / l.n;
        tr_pos_block_free(pb);
        free(btf); free(bttf); free(bn);

        printf("%9u %9.2f %9.2f %9.2f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %8.1f %7.1fx\n", l.n,
               bits_blk, bits_post, bits_pos, dec_ns[0], dec_ns[1], ids_ns,
               pos_ns, ns_per_pos, open_ns, enc_ns, dec_ns[0] / memcpy_ns);
        printf("%9s memcpy baseline of 3 x n uint32: %.3f ns/posting (%.0f M postings/s; decode %.0f M/s)\n",
               "", memcpy_ns, 1e3 / memcpy_ns, 1e3 / dec_ns[0]);
        tr_buf_free(&out);
        tr_buf_free(&out_nopos);
        free_list(&l);
    }
    printf("\ncolumns: bits/blk = doc-blocks (gaps, tf, ttf) per posting; bits/post =\n"
           "whole chunk without positions (headers, directory, bounds, tf, ttf) per posting;\n"
           "bits/pos = positions area per position; dec = block decode (docs, tf, ttf),\n"
           "dec+vfy = with the block checksum; ids = doc ids alone (tf and ttf not decoded: counting);\n"
           "pos = docs + positions; ns/pos = positions alone per position (pos minus dec, over the\n"
           "positions); open = tr_pos_block_open, a block set up for single postings, per posting;\n"
           "enc = encode with positions.\n");
    bench_unpack();
    return 0;
}
