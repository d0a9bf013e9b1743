/* gen_chunk_seeds.c - regenerates tests/fuzz/seeds/chunk after a chunk format
 * change (not built by CMake):
 *   cc -O1 -std=c11 -Icommon -o /tmp/gen tests/fuzz/gen_chunk_seeds.c \
 *      build/libtrawl.a -lxxhash -llmdb -lzstd -lm && /tmp/gen tests/fuzz/seeds/chunk
 * Each seed is a verify byte (0 or 1) then a chunk; field lengths follow fuzz_chunk.c's
 * rule (tl = ttf + (doc & 15), bl = tf - ttf + (doc >> 4 & 4095)) so the
 * positions decode. */
#include "codec.h"
#include <stdio.h>
#include <stdlib.h>
static uint64_t st = 12345;
static uint32_t rnd(uint32_t n) { st = st * 6364136223846793005ull + 1442695040888963407ull; return (uint32_t)(st >> 33) % n; }
static void gen(const char *dir, const char *name, uint32_t n, uint32_t maxgap, int withpos, int sparse)
{
    uint32_t *docs = calloc(n, 4), *tf = calloc(n, 4), *ttf = calloc(n, 4), *dl = calloc(n, 4), *tl = calloc(n, 4);
    uint32_t *pos = calloc((size_t)n * 64, 4);
    uint32_t d = 300, k = 0;
    for (uint32_t i = 0; i < n; i++) {
        docs[i] = d;
        d += 1 + (sparse && rnd(10) == 0 ? 1000 + rnd(100000) : rnd(maxgap));
        tf[i] = 1 + (rnd(3) ? 0 : rnd(20));
        ttf[i] = rnd(5) == 0 ? rnd(tf[i] < 3 ? tf[i] + 1 : 3) : 0;
        tl[i] = ttf[i] + (docs[i] & 15);
        uint32_t bl = tf[i] - ttf[i] + (docs[i] >> 4 & 4095);
        dl[i] = tl[i] + bl;
        /* m distinct positions below L, ascending: pick by skipping */
        uint32_t runs[2][2] = { { ttf[i], tl[i] }, { tf[i] - ttf[i], bl } };
        for (int r = 0; r < 2; r++) {
            uint32_t m = runs[r][0], L = runs[r][1], left = L;
            for (uint32_t p = 0; p < L && m; p++, left--)
                if (rnd(left) < m) { pos[k++] = p; m--; }
        }
    }
    tr_postings_in in = { n, docs, tf, ttf, dl, withpos ? pos : NULL, tl };
    tr_buf out = {0};
    if (tr_chunk_encode(&in, &out)) { fprintf(stderr, "%s: encode failed\n", name); exit(1); }
    for (int v = 0; v < 2; v++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s_v%d", dir, name, v);
        FILE *f = fopen(path, "wb");
        uint8_t vb = (uint8_t)v;
        fwrite(&vb, 1, 1, f);
        fwrite(out.data, 1, out.len, f);
        fclose(f);
    }
    tr_buf_free(&out);
    free(docs); free(tf); free(ttf); free(dl); free(tl); free(pos);
}
int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    gen(dir, "single", 1, 1, 1, 0);
    gen(dir, "compact", 5, 50, 1, 0);
    gen(dir, "compact_nopos", 8, 50, 0, 0);
    gen(dir, "full3", 300, 5, 1, 0);
    gen(dir, "full_exceptions", 300, 20, 1, 1);
    gen(dir, "full_nopos", 300, 5, 0, 0);
    return 0;
}
