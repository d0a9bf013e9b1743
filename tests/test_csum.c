/* test_csum.c - the checksums' hash (csum.c) against libxxhash's XXH3,
 * which defines it in docs/FORMAT.md: every length 0..4,200 (XXH3's short,
 * mid-size and long paths, the long one in its AVX2 build where the CPU has
 * AVX2), at every start offset 0..7, seed 0 and others, on exact-size heap
 * copies (so ASan sees any overread). */
#include "check.h"
#include "csum.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int main(void)
{
    enum { MAXLEN = 4200 };
    uint8_t *src = malloc(MAXLEN + 8);
    CHECK(src != NULL);
    if (!src) return check_done();
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < MAXLEN + 8; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        src[i] = (uint8_t)x;
    }
    const uint64_t seeds[] = { 0, 1, 0x0123456789ABCDEFull };
    for (size_t n = 0; n <= MAXLEN; n += n < 300 ? 1 : 7) {
        for (size_t off = 0; off < 8; off++) {
            uint8_t *p = malloc(n ? n : 1);
            CHECK(p != NULL);
            if (!p) break;
            memcpy(p, src + off, n);
            CHECK(tr_hash64(p, n) == XXH3_64bits(p, n));
            CHECK(tr_csum32(p, n) == (uint32_t)XXH3_64bits(p, n));
            for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
                CHECK(tr_hash64_seed(p, n, seeds[s]) == XXH3_64bits_withSeed(p, n, seeds[s]));
            free(p);
        }
    }
    free(src);
    return check_done();
}
