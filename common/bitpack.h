/* bitpack.h - the hot loops of block decode: unpacking n values of one bit
 * width (the packed(n, w) layout of docs/FORMAT.md: value i at bits
 * i*w .. i*w+w-1, LSB first) and turning doc gaps into doc ids. An AVX2 path
 * is chosen at start-up when the CPU has it, a portable one otherwise; both
 * give identical results (tests run both). */
#ifndef TRAWL_BITPACK_H
#define TRAWL_BITPACK_H

#include <stddef.h>
#include <stdint.h>

/* Unpack n values of width w (0..32; callers check the width first) from
 * the ceil(n*w/8) bytes at in, which is all that is read. out gets n
 * values; nothing past out[n-1] is written. */
void tr_bitpack_unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w);

/* The same where in[0 .. avail) may be read (avail >= ceil(n*w/8); a
 * smaller avail is taken as that): the loads of the last groups may then
 * run past the values instead of going through a padded copy. */
void tr_bitpack_unpack_avail(uint32_t *out, const uint8_t *in, size_t n, unsigned w, size_t avail);

/* tr_bitpack_unpack_avail with each value plus one mod 2^32 (tf is stored
 * as tf - 1): only w == 32 can wrap to 0. */
void tr_bitpack_unpack_plus1(uint32_t *out, const uint8_t *in, size_t n, unsigned w, size_t avail);

/* In place, n >= 1 doc gaps of width w (each < 2^w, as unpacked) to doc
 * ids: v[0] = base + g[0], v[i] = v[i-1] + g[i] + 1. Returns the last doc
 * id as computed in 64 bits: when it is below 2^32 every v[i] is exact and
 * strictly increasing; otherwise v's contents are unspecified. */
uint64_t tr_bitpack_gaps_to_docs(uint32_t *v, size_t n, uint32_t base, unsigned w);

/* tr_bitpack_unpack_avail of n >= 1 gaps of width w then
 * tr_bitpack_gaps_to_docs, in one pass where it can (the doc ids of a block
 * without exceptions): the same out and return value. */
uint64_t tr_bitpack_unpack_docs(uint32_t *out, const uint8_t *in, size_t n, unsigned w,
                                size_t avail, uint32_t base);

/* Which code path runs: TR_BITPACK_AUTO (the best the CPU supports, the
 * default), TR_BITPACK_SCALAR (portable C) or TR_BITPACK_AVX2 (refused with
 * -1 when the CPU lacks AVX2). For tests and benchmarks: not thread-safe,
 * call it before other threads decode. Returns the path now in use. */
enum { TR_BITPACK_AUTO = 0, TR_BITPACK_SCALAR = 1, TR_BITPACK_AVX2 = 2 };
int tr_bitpack_select(int path);

#endif
