/* test_bitpack.c - the block-decode loops of bitpack.c against bit-by-bit
 * references: every width 0..32 and every count 1..128 (and longer runs),
 * random and boundary values, plain and plus one, with and without
 * readable bytes past the values, exact-size heap inputs (so ASan sees any
 * overread) and a canary past the output; the gap prefix sum with wrapping
 * and non-wrapping inputs. Each check runs on the portable path and, where
 * the CPU has it, on the AVX2 path. */
#include "check.h"
#include "bitpack.h"
#include "codec.h"

#include <string.h>

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The format's definition, one bit at a time: value i at bits i*w.. of the
 * byte string, LSB first. */
static void ref_pack(uint8_t *out, const uint32_t *v, size_t n, unsigned w)
{
    memset(out, 0, tr_packed_size(n, w));
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < w; b++)
            if (v[i] >> b & 1) out[(i * w + b) / 8] |= (uint8_t)(1u << ((i * w + b) % 8));
}

/* value kinds: random, all ones, zero, alternating max/0, one high bit */
static uint32_t value(int kind, size_t i, unsigned w)
{
    uint32_t mask = w == 32 ? 0xFFFFFFFFu : (1u << w) - 1;
    switch (kind) {
    case 0: return (uint32_t)rnd() & mask;
    case 1: return mask;
    case 2: return 0;
    case 3: return i % 2 ? mask : 0;
    default: return w ? (1u << (w - 1)) : 0;
    }
}

#define MAXN 300
#define SLACK 40 /* readable bytes past the values, in the avail tests */

static void test_unpack(void)
{
    static uint32_t v[MAXN], back[MAXN + 1];
    static uint8_t ref[MAXN * 4];
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t n = 1; n <= MAXN; n += n < 136 ? 1 : 41) {
            for (int kind = 0; kind < 5; kind++) {
                for (size_t i = 0; i < n; i++) v[i] = value(kind, i, w);
                size_t bytes = tr_packed_size(n, w);
                ref_pack(ref, v, n, w);
                /* tr_pack agrees with the definition */
                uint8_t *buf = malloc(bytes ? bytes : 1);
                CHECK_EQ_INT(tr_pack(buf, v, n, w), bytes);
                CHECK(memcmp(buf, ref, bytes) == 0);
                uint8_t *big = malloc(bytes + SLACK);
                memcpy(big, buf, bytes);
                for (size_t i = bytes; i < bytes + SLACK; i++) big[i] = (uint8_t)rnd();
                for (int p = TR_BITPACK_SCALAR; p <= TR_BITPACK_AVX2; p++) {
                    if (tr_bitpack_select(p) != p) continue;
                    back[n] = 0xDEADBEEF;
                    tr_bitpack_unpack(back, buf, n, w);
                    int same = memcmp(back, v, n * 4) == 0 && back[n] == 0xDEADBEEF;
                    if (!same) fprintf(stderr, "unpack path=%d w=%u n=%zu kind=%d\n", p, w, n, kind);
                    CHECK(same);
                    /* readable bytes past the values (garbage) change nothing */
                    back[n] = 0xDEADBEEF;
                    tr_bitpack_unpack_avail(back, big, n, w, bytes + SLACK);
                    same = memcmp(back, v, n * 4) == 0 && back[n] == 0xDEADBEEF;
                    if (!same) fprintf(stderr, "unpack_avail path=%d w=%u n=%zu kind=%d\n", p, w, n, kind);
                    CHECK(same);
                    for (int sl = 0; sl < 2; sl++) {
                        back[n] = 0xDEADBEEF;
                        if (sl) tr_bitpack_unpack_plus1(back, big, n, w, bytes + SLACK);
                        else tr_bitpack_unpack_plus1(back, buf, n, w, bytes);
                        same = back[n] == 0xDEADBEEF;
                        for (size_t i = 0; i < n; i++) same &= back[i] == v[i] + 1u; /* mod 2^32 */
                        if (!same) fprintf(stderr, "unpack+1 path=%d w=%u n=%zu kind=%d slack=%d\n", p, w, n, kind, sl);
                        CHECK(same);
                    }
                }
                free(buf);
                free(big);
            }
        }
    }
    tr_bitpack_select(TR_BITPACK_AUTO);
}

static uint64_t ref_docs(uint32_t *out, const uint32_t *g, size_t n, uint32_t base)
{
    uint64_t d = (uint64_t)base + g[0];
    out[0] = (uint32_t)d;
    for (size_t i = 1; i < n; i++) out[i] = (uint32_t)(d += (uint64_t)g[i] + 1);
    return d;
}

static void test_gaps(void)
{
    static const uint32_t bases[] = {0, 1, 1000, 0x7FFFFFFFu, 0xFFFFFF00u, 0xFFFFFFFEu};
    uint32_t g[128], want[128], got[128 + 1];
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t n = 1; n <= 128; n++) {
            for (size_t bi = 0; bi < sizeof bases / sizeof *bases; bi++) {
                for (int kind = 0; kind < 5; kind++) {
                    for (size_t i = 0; i < n; i++) g[i] = value(kind, i, w);
                    uint64_t last = ref_docs(want, g, n, bases[bi]);
                    for (int p = TR_BITPACK_SCALAR; p <= TR_BITPACK_AVX2; p++) {
                        if (tr_bitpack_select(p) != p) continue;
                        memcpy(got, g, n * 4);
                        got[n] = 0xDEADBEEF;
                        uint64_t d = tr_bitpack_gaps_to_docs(got, n, bases[bi], w);
                        CHECK(d == last);
                        CHECK_EQ_INT(got[n], 0xDEADBEEF);
                        /* the contents are promised only when nothing wrapped */
                        if (last <= UINT32_MAX) {
                            int same = memcmp(got, want, n * 4) == 0;
                            if (!same) fprintf(stderr, "gaps path=%d w=%u n=%zu base=%u\n", p, w, n, bases[bi]);
                            CHECK(same);
                        }
                    }
                }
            }
        }
    }
    tr_bitpack_select(TR_BITPACK_AUTO);
}

/* tr_bitpack_unpack_docs: packed gaps straight to doc ids, against the
 * definition, from exact-size heap inputs (ASan sees an overread) and with
 * readable bytes past them, a canary past the output. */
static void test_unpack_docs(void)
{
    static const uint32_t bases[] = {0, 1, 1000, 0x7FFFFFFFu, 0xFFFFFF00u};
    uint32_t g[128], want[128], got[128 + 1];
    static uint8_t ref[128 * 4 + SLACK];
    for (unsigned w = 0; w <= 32; w++) {
        for (size_t n = 1; n <= 128; n++) {
            for (size_t bi = 0; bi < sizeof bases / sizeof *bases; bi++) {
                for (int kind = 0; kind < 5; kind++) {
                    for (size_t i = 0; i < n; i++) g[i] = value(kind, i, w);
                    uint64_t last = ref_docs(want, g, n, bases[bi]);
                    size_t bytes = tr_packed_size(n, w);
                    ref_pack(ref, g, n, w);
                    for (int p = TR_BITPACK_SCALAR; p <= TR_BITPACK_AVX2; p++) {
                        if (tr_bitpack_select(p) != p) continue;
                        for (int slack = 0; slack <= 1; slack++) {
                            size_t avail = bytes + (slack ? SLACK : 0);
                            uint8_t *in = malloc(avail ? avail : 1);
                            memcpy(in, ref, bytes);
                            memset(in + bytes, 0xA5, avail - bytes);
                            got[n] = 0xDEADBEEF;
                            uint64_t d = tr_bitpack_unpack_docs(got, in, n, w, avail, bases[bi]);
                            free(in);
                            CHECK(d == last);
                            CHECK_EQ_INT(got[n], 0xDEADBEEF);
                            if (last <= UINT32_MAX) {
                                int same = memcmp(got, want, n * 4) == 0;
                                if (!same) fprintf(stderr, "unpack_docs path=%d w=%u n=%zu base=%u slack=%d\n", p, w, n, bases[bi], slack);
                                CHECK(same);
                            }
                        }
                    }
                }
            }
        }
    }
    tr_bitpack_select(TR_BITPACK_AUTO);
}

int main(void)
{
    CHECK(tr_bitpack_select(TR_BITPACK_SCALAR) == TR_BITPACK_SCALAR);
    int avx2 = tr_bitpack_select(TR_BITPACK_AVX2);
    fprintf(stderr, "AVX2 path %s\n", avx2 == TR_BITPACK_AVX2 ? "tested" : "absent: portable path only");
    CHECK(tr_bitpack_select(TR_BITPACK_AUTO) >= TR_BITPACK_SCALAR);
    test_unpack();
    test_gaps();
    test_unpack_docs();
    return check_done();
}
