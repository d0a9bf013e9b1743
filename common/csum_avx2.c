/* csum_avx2.c - XXH3-64 built for AVX2 (this file alone is compiled with
 * -mavx2: see CMakeLists.txt); csum.c calls it only on a CPU that has AVX2.
 * Seed 0 is XXH3_64bits itself (XXH3 defines the two as equal). */
#if defined(__x86_64__) && defined(__AVX2__)
#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t tr_hash64_avx2(const void *p, size_t n, uint64_t seed);

uint64_t tr_hash64_avx2(const void *p, size_t n, uint64_t seed)
{
    return seed ? XXH3_64bits_withSeed(p, n, seed) : XXH3_64bits(p, n);
}
#else
typedef int tr_csum_avx2_unused; /* ISO C: no empty translation unit */
#endif
