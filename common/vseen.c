/* vseen.c - ranges found sound in one snapshot (vseen.h). */
#include "vseen.h"

#include <stdatomic.h>
#include <stdlib.h>

/* 2^12 slots of 8 bytes (32 KiB): the chunks of long lists, which a
 * benchmark's few hundred queries open some thousands of. */
#define VSEEN_BITS 12
/* Shorter ranges are checked every time: a directory of fewer than ~20
 * blocks is checked in about the time of a lookup that misses the cache. */
#define VSEEN_MIN_BYTES 512

struct tr_vseen {
    _Atomic uint64_t slot[(size_t)1 << VSEEN_BITS];
};

tr_vseen *tr_vseen_new(void) { return calloc(1, sizeof(tr_vseen)); }
void tr_vseen_free(tr_vseen *vs) { free(vs); }

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* The range's fingerprint (never 0, the empty slot), or 0 when it is not
 * to be remembered. */
static inline uint64_t fingerprint(const tr_vseen *vs, const void *p, size_t n, uint32_t want)
{
    if (!vs || n < VSEEN_MIN_BYTES) return 0;
    uint64_t fp = mix64((uint64_t)(uintptr_t)p ^ mix64((uint64_t)n << 32 | want));
    return fp ? fp : 1;
}

int tr_vseen_has(const tr_vseen *vs, const void *p, size_t n, uint32_t want)
{
    uint64_t fp = fingerprint(vs, p, n, want);
    return fp && atomic_load_explicit(&vs->slot[fp >> (64 - VSEEN_BITS)], memory_order_relaxed) == fp;
}

void tr_vseen_note(tr_vseen *vs, const void *p, size_t n, uint32_t want)
{
    uint64_t fp = fingerprint(vs, p, n, want);
    if (fp) atomic_store_explicit(&vs->slot[fp >> (64 - VSEEN_BITS)], fp, memory_order_relaxed);
}
