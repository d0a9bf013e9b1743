/* csum.c - XXH3-64 for the checksums (csum.h): the short path inlined, the
 * long one (over XXH3_MIDSIZE_MAX bytes: stripes of 64 bytes) in its AVX2
 * build (csum_avx2.c) when the CPU has AVX2, else in this file's build. */
#include "csum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(__x86_64__) && defined(TRAWL_CSUM_AVX2)
uint64_t tr_hash64_avx2(const void *p, size_t n, uint64_t seed);

/* __builtin_cpu_supports reads what libgcc's start-up code set: one load */
#define LONG_AVX2(p, n, seed) \
    if ((n) > XXH3_MIDSIZE_MAX && __builtin_cpu_supports("avx2")) return tr_hash64_avx2(p, n, seed)
#else
#define LONG_AVX2(p, n, seed) (void)0
#endif

uint64_t tr_hash64(const void *p, size_t n)
{
    LONG_AVX2(p, n, 0);
    return XXH3_64bits(p, n);
}

uint64_t tr_hash64_seed(const void *p, size_t n, uint64_t seed)
{
    LONG_AVX2(p, n, seed);
    return XXH3_64bits_withSeed(p, n, seed);
}
