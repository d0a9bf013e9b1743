/* bitpack.c - unpacking packed(n, w) and the doc-gap prefix sum, the two
 * loops every block decode runs. The portable path reads each value with one
 * unaligned 64-bit load, shift and mask (constants once the width is: one
 * copy of the loop per width). The AVX2 path does 8 values per step, the 8
 * values of a group being exactly w bytes: each 128-bit lane loads 16 bytes
 * (lane 0 at the group, lane 1 at the byte holding value 4), a per-width
 * byte shuffle gathers the 4 bytes holding each value into its 32-bit slot,
 * then a per-slot shift (vpsrlvd) and a mask. That needs a value and its
 * in-byte offset (<= 7) to fit 32 bits, so widths 25..32 use the portable
 * loop (rare: doc gaps of lists of a few documents).
 * Groups whose loads would pass the end of the input (the packed bytes, or
 * the readable bytes a caller vouches for) are decoded from a zero-padded
 * copy: a block's arrays and groups are followed by more of the chunk, so
 * passing what is readable keeps almost every group on the fast path. */
#include "bitpack.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TR_HAVE_AVX2_PATH 1
#include <immintrin.h>
#else
#define TR_HAVE_AVX2_PATH 0
#endif

static int path = TR_BITPACK_SCALAR;

static int best_path(void)
{
#if TR_HAVE_AVX2_PATH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return TR_BITPACK_AVX2;
#endif
    return TR_BITPACK_SCALAR;
}

/* Doc ids from gaps of width 1 and 2 (the gaps of a term in most
 * documents: 96% of the blocks of the passages' "the") without unpacking
 * and a vector prefix sum: a group's 8 gaps spread one a byte of a 64-bit
 * word and multiplied by 0x0101010101010101 give their running sums, byte
 * j the sum of gaps 0..j (at most 24: no carry between bytes). cum1[x] is
 * that word for the 8 one-bit gaps of byte x; two2[x] spreads the 4 two-bit
 * gaps of byte x into 4 bytes. */
static uint64_t cum1[256];
static uint32_t two2[256];

static void cum_init(void)
{
    for (unsigned x = 0; x < 256; x++) {
        uint64_t c = 0;
        for (unsigned j = 0; j < 8; j++) c |= (uint64_t)(x >> j & 1) << (8 * j);
        cum1[x] = c * 0x0101010101010101ull;
        uint32_t t = 0;
        for (unsigned j = 0; j < 4; j++) t |= (uint32_t)(x >> (2 * j) & 3) << (8 * j);
        two2[x] = t;
    }
}

/* Chosen once before main (and before any decoding thread exists). */
__attribute__((constructor)) static void bitpack_init(void)
{
    cum_init();
    path = best_path();
}

int tr_bitpack_select(int want)
{
    if (want == TR_BITPACK_AUTO) path = best_path();
    else if (want == TR_BITPACK_SCALAR) path = TR_BITPACK_SCALAR;
    else if (want == TR_BITPACK_AVX2 && best_path() == TR_BITPACK_AVX2) path = TR_BITPACK_AVX2;
    else return -1;
    return path;
}

/* ---- portable --------------------------------------------------------- */

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Eight values of width w from the w bytes at in, reading 8-byte words that
 * may extend up to 8 bytes past the group: every shift and offset is a
 * constant once w is, so this is straight-line loads, shifts and masks. */
static inline __attribute__((always_inline)) void
unpack8(uint32_t *out, const uint8_t *in, const unsigned w, const uint64_t mask, const uint32_t add)
{
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++)
        out[j] = (uint32_t)((load64_le(in + (j * w) / 8) >> ((j * w) % 8)) & mask) + add;
}

static inline __attribute__((always_inline)) void
unpack_w(uint32_t *out, const uint8_t *in, size_t n, const unsigned w, const uint32_t add,
         size_t avail)
{
    const uint64_t mask = w >= 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
    size_t bytes = (n * w + 7) / 8;
    /* Groups whose loads stay inside the input: group g reads up to byte
     * g*w + (7w)/8 + 8. */
    size_t reach = (7 * w) / 8 + 8;
    size_t fast = avail >= reach ? (avail - reach) / w + 1 : 0;
    if (fast > n / 8) fast = n / 8;
    for (size_t g = 0; g < fast; g++) unpack8(out + 8 * g, in + g * w, w, mask, add);
    size_t done = fast * 8;
    if (done == n) return;
    /* The rest (fewer than reach bytes, so at most 72 values) is decoded
     * from a zero-padded copy with the same code. */
    uint8_t tmp[96];
    uint32_t vals[80];
    size_t rb = bytes - fast * w, rem = n - done;
    memcpy(tmp, in + fast * w, rb);
    memset(tmp + rb, 0, sizeof tmp - rb);
    for (size_t g = 0; g * 8 < rem; g++) unpack8(vals + 8 * g, tmp + g * w, w, mask, add);
    memcpy(out + done, vals, rem * sizeof *out);
}

static void fill(uint32_t *out, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++) out[i] = x;
}

/* add: 0 or 1 (tf is stored minus one), added mod 2^32 */
static void unpack_scalar(uint32_t *out, const uint8_t *in, size_t n, unsigned w, uint32_t add,
                          size_t avail)
{
    switch (w) {
    case 0: fill(out, n, add); return;
#define CASE(W) case W: unpack_w(out, in, n, W, add, avail); return;
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    CASE(17) CASE(18) CASE(19) CASE(20) CASE(21) CASE(22) CASE(23) CASE(24)
    CASE(25) CASE(26) CASE(27) CASE(28) CASE(29) CASE(30) CASE(31) CASE(32)
#undef CASE
    default: fill(out, n, add); return; /* w > 32: callers check first */
    }
}

static uint64_t gaps_scalar(uint32_t *v, size_t n, uint32_t base)
{
    uint64_t d = (uint64_t)base + v[0];
    v[0] = (uint32_t)d;
    for (size_t i = 1; i < n; i++) {
        d += (uint64_t)v[i] + 1;
        v[i] = (uint32_t)d;
    }
    return d;
}

/* ---- AVX2 ------------------------------------------------------------- */
#if TR_HAVE_AVX2_PATH
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

/* Byte offset of value j (0..7) of a group inside its lane's 16 bytes:
 * lane 1 starts at byte (4w)/8 of the group. */
#define LANE_OFF(j, w) ((j) < 4 ? ((j) * (w)) / 8 : ((j) * (w) - 8 * ((4 * (w)) / 8)) / 8)
/* Up to this width, value j's bytes (LANE_OFF + 3 <= 7) fit the first 8
 * bytes of its lane: lane 0 needs (3w)/8 <= 4, lane 1 (3w + 4(w odd))/8 <= 4. */
#define AVX2_NARROW 12
#define SHUF4(j, w) (char)LANE_OFF(j, w), (char)(LANE_OFF(j, w) + 1), \
                    (char)(LANE_OFF(j, w) + 2), (char)(LANE_OFF(j, w) + 3)

/* The eight values of the group at in, as lanes. */
AVX2_INLINE __m256i avx2_group_vec(const uint8_t *in, const unsigned w, __m256i shuf,
                                   __m256i shift, __m256i mask)
{
    __m128i lo, hi;
    if (w <= AVX2_NARROW) {  /* every value's 4 bytes lie in the first 8 */
        lo = _mm_loadl_epi64((const __m128i *)in);
        hi = _mm_loadl_epi64((const __m128i *)(in + (4 * w) / 8));
    } else {
        lo = _mm_loadu_si128((const __m128i *)in);
        hi = _mm_loadu_si128((const __m128i *)(in + (4 * w) / 8));
    }
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    v = _mm256_shuffle_epi8(v, shuf);
    return _mm256_and_si256(_mm256_srlv_epi32(v, shift), mask);
}

AVX2_INLINE void avx2_group(uint32_t *out, const uint8_t *in, const unsigned w,
                            __m256i shuf, __m256i shift, __m256i mask, __m256i add)
{
    _mm256_storeu_si256((__m256i *)out,
                        _mm256_add_epi32(avx2_group_vec(in, w, shuf, shift, mask), add));
}

/* Width w's group constants, and how many of n values' groups of 8 can be
 * read in place from avail bytes: group g reads bytes g*w .. g*w + (4w)/8 +
 * 15, or + 7 for w <= AVX2_NARROW, so fewer of the last groups need the
 * padded copy (avx2_tail). w in 1..24. */
typedef struct avx2_width { __m256i shuf, shift, mask; size_t fast; } avx2_width;

AVX2_INLINE avx2_width avx2_width_of(size_t n, const unsigned w, size_t avail)
{
    avx2_width a;
    a.shuf = _mm256_setr_epi8(SHUF4(0, w), SHUF4(1, w), SHUF4(2, w), SHUF4(3, w),
                              SHUF4(4, w), SHUF4(5, w), SHUF4(6, w), SHUF4(7, w));
    a.shift = _mm256_setr_epi32((0 * w) % 8, (1 * w) % 8, (2 * w) % 8, (3 * w) % 8,
                                (4 * w) % 8, (5 * w) % 8, (6 * w) % 8, (7 * w) % 8);
    a.mask = _mm256_set1_epi32((int)((1u << w) - 1));
    size_t reach = (4 * w) / 8 + (w <= AVX2_NARROW ? 8 : 16);
    a.fast = avail >= reach ? (avail - reach) / w + 1 : 0;
    if (a.fast > n / 8) a.fast = n / 8;
    return a;
}

/* The values after the a.fast groups: fewer than reach <= 28 bytes (so at
 * most 224 values), copied into tmp zero-padded, whose groups then read
 * below byte 28 + 28. Returns how many values are left. */
AVX2_INLINE size_t avx2_tail(uint8_t tmp[64], const uint8_t *in, size_t n, const unsigned w,
                             const avx2_width *a)
{
    size_t rb = (n * w + 7) / 8 - a->fast * w;
    memcpy(tmp, in + a->fast * w, rb);
    memset(tmp + rb, 0, 64 - rb);
    return n - a->fast * 8;
}

AVX2_INLINE void avx2_unpack_w(uint32_t *out, const uint8_t *in, size_t n, const unsigned w,
                               __m256i add, size_t avail)
{
    const avx2_width a = avx2_width_of(n, w, avail);
    for (size_t g = 0; g < a.fast; g++) avx2_group(out + 8 * g, in + g * w, w, a.shuf, a.shift, a.mask, add);
    if (a.fast * 8 == n) return;
    uint8_t tmp[64];
    uint32_t vals[224 + 8];
    size_t rem = avx2_tail(tmp, in, n, w, &a);
    for (size_t g = 0; g * 8 < rem; g++) avx2_group(vals + 8 * g, tmp + g * w, w, a.shuf, a.shift, a.mask, add);
    memcpy(out + a.fast * 8, vals, rem * sizeof *out);
}

__attribute__((target("avx2"))) static void unpack_avx2(uint32_t *out, const uint8_t *in,
                                                        size_t n, unsigned w, uint32_t add,
                                                        size_t avail)
{
    const __m256i vadd = _mm256_set1_epi32((int)add);
    switch (w) {
#define CASE(W) case W: avx2_unpack_w(out, in, n, W, vadd, avail); return;
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    CASE(17) CASE(18) CASE(19) CASE(20) CASE(21) CASE(22) CASE(23) CASE(24)
#undef CASE
    default: unpack_scalar(out, in, n, w, add, avail); return;
    }
}

/* Inclusive scan of 8 lanes: in-lane steps, then lane 0's total into lane 1,
 * then the running total of earlier groups. */
AVX2_INLINE __m256i scan8(__m256i x, __m256i run)
{
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
    __m256i carry = _mm256_permute2x128_si256(_mm256_shuffle_epi32(x, 0xFF),
                                              _mm256_setzero_si256(), 0x08 | (0x0 << 4));
    /* 0x08: lane 0 zero; high nibble 0: lane 1 = lane 0 of the broadcast */
    x = _mm256_add_epi32(x, carry);
    return _mm256_add_epi32(x, run);
}

/* doc[i] = (base - 1) + sum over k <= i of (g[k] + 1), mod 2^32; with
 * n <= 128 and w <= 24 the sum is below 2^32, so the 64-bit last doc is
 * base - 1 + the sum. */
__attribute__((target("avx2"))) static uint64_t gaps_avx2(uint32_t *v, size_t n, uint32_t base)
{
    const __m256i one = _mm256_set1_epi32(1), last = _mm256_set1_epi32(7);
    __m256i run = _mm256_set1_epi32((int)(base - 1u)); /* mod 2^32 */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(v + i)), one);
        x = scan8(x, run);
        _mm256_storeu_si256((__m256i *)(v + i), x);
        run = _mm256_permutevar8x32_epi32(x, last);
    }
    uint32_t d = (uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(run));
    for (; i < n; i++) v[i] = d += v[i] + 1;
    uint32_t sum = d - (base - 1u); /* exact: below 2^32 */
    return (uint64_t)base - 1 + sum;
}

/* avx2_unpack_w and gaps_avx2 in one pass: each group's gaps become doc
 * ids in registers (n <= 128, w in 1..24, so the sum is below 2^32). */
AVX2_INLINE uint64_t avx2_unpack_docs_w(uint32_t *out, const uint8_t *in, size_t n, const unsigned w,
                                        size_t avail, uint32_t base)
{
    const avx2_width a = avx2_width_of(n, w, avail);
    const __m256i one = _mm256_set1_epi32(1), last = _mm256_set1_epi32(7);
    __m256i run = _mm256_set1_epi32((int)(base - 1u)); /* mod 2^32 */
    for (size_t g = 0; g < a.fast; g++) {
        __m256i x = _mm256_add_epi32(avx2_group_vec(in + g * w, w, a.shuf, a.shift, a.mask), one);
        x = scan8(x, run);
        _mm256_storeu_si256((__m256i *)(out + 8 * g), x);
        run = _mm256_permutevar8x32_epi32(x, last);
    }
    if (a.fast * 8 < n) {
        uint8_t tmp[64];
        uint32_t vals[224 + 8];
        size_t rem = avx2_tail(tmp, in, n, w, &a);
        for (size_t g = 0; g * 8 < rem; g++) {
            __m256i x = _mm256_add_epi32(avx2_group_vec(tmp + g * w, w, a.shuf, a.shift, a.mask), one);
            x = scan8(x, run);
            _mm256_storeu_si256((__m256i *)(vals + 8 * g), x);
            run = _mm256_permutevar8x32_epi32(x, last);
        }
        memcpy(out + a.fast * 8, vals, rem * sizeof *out);
    }
    uint32_t sum = out[n - 1] - (base - 1u); /* exact: below 2^32 */
    return (uint64_t)base - 1 + sum;
}

/* The running sums of the 8 gaps of the group of width w (1 or 2) at in,
 * byte j (lowest first) the sum of gaps 0..j. */
static inline uint64_t group_cum(const uint8_t *in, unsigned w)
{
    if (w == 1) return cum1[in[0]];
    return ((uint64_t)two2[in[1]] << 32 | two2[in[0]]) * 0x0101010101010101ull;
}

/* unpack_docs_avx2 for w = 1 or 2 (the w bytes of each group of 8 hold its
 * gaps): doc[i] = base + i + (sum of gaps 0..i), eight a step; bytes
 * past the n values are not read. */
AVX2_INLINE uint64_t avx2_docs_cum(uint32_t *out, const uint8_t *in, size_t n, const unsigned w,
                                   uint32_t base)
{
    const __m256i step = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8);
    /* the running doc in a scalar register: one add a group carries the
     * dependency, not a vector permute's latency */
    uint32_t run = base - 1u; /* mod 2^32: the doc before the group */
    size_t g = 0;
    for (; g + 8 <= n; g += 8) {
        uint64_t c = group_cum(in + (g / 8) * w, w);
        __m256i x = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)c));
        x = _mm256_add_epi32(_mm256_add_epi32(x, step), _mm256_set1_epi32((int)run));
        _mm256_storeu_si256((__m256i *)(out + g), x);
        run += 8 + (uint32_t)(c >> 56);
    }
    if (g < n) {
        uint8_t tmp[2] = { 0, 0 };
        memcpy(tmp, in + (g / 8) * w, (n * w + 7) / 8 - (g / 8) * w); /* 1 or 2 bytes */
        uint64_t c = group_cum(tmp, w);
        for (size_t j = 0; g + j < n; j++) out[g + j] = run + (uint32_t)j + 1 + (uint32_t)(c >> (8 * j) & 0xFF);
    }
    uint32_t sum = out[n - 1] - (base - 1u); /* exact: below 2^32 */
    return (uint64_t)base - 1 + sum;
}

__attribute__((target("avx2"))) static uint64_t unpack_docs_avx2(uint32_t *out, const uint8_t *in,
                                                                 size_t n, unsigned w, size_t avail,
                                                                 uint32_t base)
{
    switch (w) {
    case 1: return avx2_docs_cum(out, in, n, 1, base);
    case 2: return avx2_docs_cum(out, in, n, 2, base);
#define CASE(W) case W: return avx2_unpack_docs_w(out, in, n, W, avail, base);
    CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    CASE(17) CASE(18) CASE(19) CASE(20) CASE(21) CASE(22) CASE(23) CASE(24)
#undef CASE
    default: return 0; /* not reached: the caller checks w */
    }
}
#endif

/* ---- dispatch --------------------------------------------------------- */

static void unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w, uint32_t add,
                   size_t avail)
{
    size_t bytes = (n * w + 7) / 8;
    if (avail < bytes) avail = bytes; /* a caller's error; read no more than the values */
#if TR_HAVE_AVX2_PATH
    if (path == TR_BITPACK_AVX2) {
        unpack_avx2(out, in, n, w, add, avail);
        return;
    }
#endif
    unpack_scalar(out, in, n, w, add, avail);
}

void tr_bitpack_unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w)
{
    unpack(out, in, n, w, 0, 0);
}

void tr_bitpack_unpack_avail(uint32_t *out, const uint8_t *in, size_t n, unsigned w, size_t avail)
{
    unpack(out, in, n, w, 0, avail);
}

void tr_bitpack_unpack_plus1(uint32_t *out, const uint8_t *in, size_t n, unsigned w, size_t avail)
{
    unpack(out, in, n, w, 1, avail);
}

uint64_t tr_bitpack_unpack_docs(uint32_t *out, const uint8_t *in, size_t n, unsigned w,
                                size_t avail, uint32_t base)
{
#if TR_HAVE_AVX2_PATH
    size_t bytes = (n * w + 7) / 8;
    if (path == TR_BITPACK_AVX2 && n >= 1 && n <= 128 && w >= 1 && w <= 24)
        return unpack_docs_avx2(out, in, n, w, avail < bytes ? bytes : avail, base);
#endif
    unpack(out, in, n, w, 0, avail);
    return tr_bitpack_gaps_to_docs(out, n, base, w);
}

uint64_t tr_bitpack_gaps_to_docs(uint32_t *v, size_t n, uint32_t base, unsigned w)
{
#if TR_HAVE_AVX2_PATH
    if (path == TR_BITPACK_AVX2 && n <= 128 && w <= 24) return gaps_avx2(v, n, base);
#endif
    (void)w;
    return gaps_scalar(v, n, base);
}
