/* codec.c - the posting-list codec: encodes one term's postings into a chunk
 * (one LMDB value) and decodes it block by block. Bit-packing primitives and
 * the BM25 score bound live here too. See codec.h for the API and
 * docs/FORMAT.md for the same grammar with the reasoning.
 *
 * ---- On-disk format, version 5 ---------------------------------------------
 * All multi-byte integers are little-endian. varint = LEB128 (trawl.h).
 * A chunk starts with a format byte that names its form and version; readers
 * refuse any other value (TR_ECORRUPT: a chunk is never written by a future
 * version into an index this version can open; the index version guards that).
 *
 * chunk       := full-chunk | compact-chunk    (inline-chunk in the dictionary)
 *
 * full-chunk  := (used when the chunk has 2 or more blocks)
 *   u8   format = 0x07
 *   u8   flags            bit 0: has positions; bit 1: doc offsets are u16;
 *                         bit 2: pos offsets are u16 (only with bit 0);
 *                         other bits 0. The writer sets bit 1 (2) when the doc
 *                         (positions) area is at most 65,535 bytes.
 *   u8   npoints          1..4, points used in the chunk bound
 *   u32  ndocs            nblocks = ceil(ndocs / 128)
 *   u32  first_doc
 *   u16  max_ttf          chunk bound (see "bound" below)
 *   4 x (u16 tf, u16 dl)  chunk bound points, unused ones 0
 *   u32  checksum         low 32 bits of XXH3_64(directory, seed =
 *                         XXH3_64(header bytes 0..28))
 *   dir-entry[nblocks]    fixed width (binary-searchable): 25 bytes with
 *                         positions and both offsets u16, 29 with both u32,
 *                         19 / 21 without positions
 *   doc-block[nblocks]    the doc area
 *   pos-block[nblocks]    the positions area
 *   (nothing after: 33 + entry bytes * nblocks + doc area + positions area
 *    == value length; the areas' lengths are the last entry's offsets, and
 *    the chunk's last doc is the last entry's last_doc)
 *
 * dir-entry :=
 *   u32  last_doc         strictly increasing, < 0xFFFFFFFF (TR_DOC_END)
 *   u16|u32 doc_end       end offset of this block in the doc area
 *   u16|u32 pos_end       end offset in the positions area (absent without
 *                         positions)
 *   u32  doc_csum         low 32 bits of XXH3_64(this doc-block)
 *   u32  pos_csum         low 32 bits of XXH3_64(this pos-block) (absent
 *                         without positions)
 *   u8   max_ttf code     block bound, each value a code (below): max_ttf
 *   4 x (u8 tf code, u8 dl code)  and tf rounded up, dl rounded down; the
 *                         points in use are those before the first tf code
 *                         0 (at least 1; unused ones all 0)
 *
 * code := one byte for a value 0..65535 on a log scale: c < 16 is c; else
 *   (16 + (c & 15)) << ((c >> 4) - 1), capped at 65535 (codes 16..207 reach
 *   63,488; larger ones read 65,535, which for tf means "unbounded"). At most
 *   1/16 off: a directory bound is at most that much looser than the block's
 *   exact one. The chunk bound in the header (u16, exact) is folded from the
 *   rounded block bounds, so it still covers each of them.
 *
 * compact-chunk := (a single block: about half of all terms occur once)
 *   u8   format = 0x08
 *   u8   flags            bit 0: has positions; bits 1..3: npoints (1..4)
 *   varint first_doc
 *   u8   ndocs - 1        0..127
 *   varint last_doc - first_doc   only when ndocs > 1
 *   if ndocs == 1:        (max_ttf and the point's tf are the posting's own)
 *     varint dl           <= 65535; npoints must be 1
 *   else:
 *     varint max_ttf      <= 65535
 *     npoints x (varint tf, varint dl)   each <= 65535
 *   doc-block             its length follows from its heads and counts
 *   pos-block             up to the checksum
 *   u32  checksum         low 32 bits of XXH3_64(every byte before it)
 *   The directory entry is implied (one block; bound = chunk bound) and the
 *   checksum covers the payloads, so open verifies everything at once.
 *
 * inline-chunk := (only inside a terms value, whose csum covers it)
 *   a compact-chunk without its format byte and its checksum: flags through
 *   pos-block, the pos-block running to the end of the value
 *
 * doc-block := (n postings: 128, or fewer in the last block)
 *   stream(gaps)          gap[0] = doc[0] - base, base = first_doc for the
 *                         first block, else previous block's last_doc + 1;
 *                         gap[i] = doc[i] - doc[i-1] - 1. Its head's bit 7
 *                         says a ttf stream follows the tf stream.
 *   stream(tf - 1)        head bit 7 is 0
 *   stream(ttf)           only when the gap head's bit 7 is set; else every
 *                         ttf is 0. Head bit 7 is 0.
 *
 * stream := (n values, patched bit packing)
 *   u8   head             bits 0..5: width b, 0..32; bit 6: exceptions follow
 *   packed(n, b)          the low b bits of every value
 *   when bit 6:
 *     u8   count          1..n
 *     u8   wexc           1..32 - b
 *     count x u8 index    strictly increasing, < n
 *     packed(count, wexc) high parts: value[index] = low + (high << b)
 *   The encoder chooses b (and so the exceptions, the values of more than b
 *   bits) to minimise the stream's bytes; ties take the larger b. In a
 *   block whose gaps all fit 4 bits it takes no exceptions (decode speed).
 *
 * pos-block := the block's runs (a run: one posting's ttf title positions,
 *              or its tf - ttf body positions; empty runs left out), in
 *              posting order, title run first. A run of m positions in a
 *              field of L terms (the document's title or body length, from
 *              the norms: the reader passes them in, so a block can only be
 *              decoded with its documents' lengths) is coded with
 *              k = min(floor(log2(L / m)), 24); every run has m <= L and its
 *              last position < L (else the encoder refuses, TR_EINPUT, and
 *              the decoder reports TR_ECORRUPT).
 *     lows                  for each run, for each gap g = p[j] - p[j-1] - 1
 *                           (j = 1..m-1): the k low bits of g
 *     leads                 for each run, the first b - 1 bits of p[0] in
 *                           truncated binary over [0, R), R = L - m + 1,
 *                           b = ceil(log2 R), u = 2^b - R: p[0] itself when
 *                           p[0] < u, else z >> 1 with z = p[0] + u (R = 1:
 *                           no bits)
 *     lasts                 for each run whose lead was z >> 1 (lead >= u),
 *                           in order: z & 1
 *     unary                 for each gap, in order, g >> k zero bits then a
 *                           one bit
 *   All four are one bit string, LSB first from bit 0 of the block's first
 *   byte, no padding between the sections; zero bits pad the last byte, and
 *   the block ends at the byte holding the last one bit (or, without gaps,
 *   the last bit of the lasts or leads).
 *
 * packed(n, w) := ceil(n * w / 8) bytes; value i occupies bits i*w .. i*w+w-1
 *   counting from bit 0 (least significant) of byte 0 (little-endian bit
 *   order), so a value can be read with one unaligned 64-bit load.
 *
 * bound := max_ttf, then up to 4 (tf, dl) points, dl ascending and tf
 *   ascending, such that every posting of the block (chunk) has a point with
 *   point.tf >= tf and point.dl <= dl. tf and dl saturate at 65535: tf 65535
 *   means "unbounded", dl 65535 means ">= 65535"; both keep the bound valid.
 */
#include "codec.h"
#include "bitpack.h"
#include "csum.h"

#include <limits.h>
#include <stdlib.h>

#define FORMAT_FULL 0x07
#define FORMAT_COMPACT 0x08
#define FLAG_POSITIONS 0x01
#define FLAG_DOC_OFF16 0x02        /* full chunk: doc_end offsets are u16 */
#define FLAG_POS_OFF16 0x04        /* full chunk: pos_end offsets are u16 */
#define FULL_HEADER_BYTES 33
#define FULL_CSUM_OFFSET 29
#define DIR_BOUND_BYTES 9          /* max_ttf u8 code, 4 x (tf u8 code, dl u8 code) */
#define MAX_WIDTH 32
/* A block's position count is returned as an int. */
#define MAX_BLOCK_POSITIONS ((uint64_t)INT_MAX)
/* Offsets in a full chunk are u32. */
#define MAX_CHUNK_BYTES ((uint64_t)UINT32_MAX)


/* ---- bit packing --------------------------------------------------------- */

unsigned tr_bits_needed(const uint32_t *v, size_t n)
{
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= v[i];
    return acc ? 32u - (unsigned)__builtin_clz(acc) : 0u;
}

size_t tr_pack(uint8_t *out, const uint32_t *v, size_t n, unsigned w)
{
    if (w == 0 || n == 0) return 0;
    uint64_t mask = w >= 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
    uint64_t acc = 0;
    unsigned bits = 0;
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++) {
        acc |= (v[i] & mask) << bits;
        bits += w;
        while (bits >= 8) {
            *o++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    if (bits) *o++ = (uint8_t)acc;
    return (size_t)(o - out);
}

static inline uint64_t load64_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return tr_get_le64(p);
#endif
}

/* The unpack loops live in bitpack.c (one per width, AVX2 when present). */
void tr_unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w)
{
    tr_bitpack_unpack(out, in, n, w);
}

/* ---- bounds -------------------------------------------------------------- */

static uint16_t sat16(uint64_t v) { return v > TR_SAT16 ? (uint16_t)TR_SAT16 : (uint16_t)v; }

/* Sort at most a few hundred keys (a block's postings): Shell sort with
 * Ciura's gaps, inline compares; qsort's callback per compare was ~3% of
 * indexing CPU. */
static void sort_u32(uint32_t *v, size_t n)
{
    static const size_t gaps[] = { 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            for (; j >= gap && v[j - gap] > x; j -= gap) v[j] = v[j - gap];
            v[j] = x;
        }
    }
}

/* Reduce a Pareto front of k points (dl ascending, tf ascending) to at most
 * TR_BOUND_POINTS: extra points are merged with their neighbour into
 * (larger tf, smaller dl), which dominates both; the pair merged is the one
 * whose merge loses least (relative tf gap x dl gap). */
static void bound_from_front(uint16_t *tf, uint16_t *dl, size_t k, tr_bound *bd)
{
    while (k > TR_BOUND_POINTS) {
        size_t pick = 0;
        double pick_cost = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            double cost = (double)(tf[i + 1] - tf[i]) / tf[i + 1] *
                          (double)(dl[i + 1] - dl[i]) / ((double)dl[i + 1] + 1);
            if (i == 0 || cost < pick_cost) { pick = i; pick_cost = cost; }
        }
        /* (tf[pick+1], dl[pick]) replaces both */
        tf[pick] = tf[pick + 1];
        memmove(tf + pick + 1, tf + pick + 2, (k - pick - 2) * sizeof *tf);
        memmove(dl + pick + 1, dl + pick + 2, (k - pick - 2) * sizeof *dl);
        k--;
    }
    bd->npoints = (uint8_t)k;
    for (size_t i = 0; i < TR_BOUND_POINTS; i++) {
        bd->pt[i].tf = i < k ? tf[i] : 0;
        bd->pt[i].dl = i < k ? dl[i] : 0;
    }
}

/* Reduce m (tf, dl) points (already saturated), given as keys
 * dl << 16 | (65535 - tf), to at most TR_BOUND_POINTS non-dominated points.
 * Sorting by dl ascending then tf descending, a point survives if its tf
 * beats every point of smaller dl. Folds bounds (a few points each). */
static void bound_from_keys(uint32_t *keys, size_t m, tr_bound *bd)
{
    uint16_t tf[TR_BOUND_POINTS * 2], dl[TR_BOUND_POINTS * 2];
    size_t k = 0;
    sort_u32(keys, m);
    long best = -1;
    for (size_t i = 0; i < m && k < TR_BOUND_POINTS * 2; i++) {
        uint16_t t = (uint16_t)(TR_SAT16 - (keys[i] & 0xFFFF)), d = (uint16_t)(keys[i] >> 16);
        if ((long)t > best) {
            tf[k] = t; dl[k] = d; k++;
            best = t;
        }
    }
    bound_from_front(tf, dl, k, bd);
}

/* tf values below this are bucketed by block_bound; larger ones sorted. */
#define BOUND_SMALL_TF 64

/* A block's bound. The Pareto front without sorting the block: the least
 * dl of each small tf in a table, the few larger tfs sorted; walking tf
 * downwards, a (tf, least dl) point survives when its dl is below every dl
 * of a larger tf. The same points as sorting every posting by (dl, -tf),
 * which was 4.6% of indexing CPU. */
static void block_bound(const uint32_t *tf, const uint32_t *ttf, const uint32_t *dl,
                        size_t n, tr_bound *bd)
{
    uint32_t least[BOUND_SMALL_TF];
    uint32_t big[TR_BLOCK_DOCS];
    size_t nbig = 0;
    uint64_t present = 0;               /* bit t: small tf t occurs */
    uint32_t max_ttf = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t d = dl ? sat16(dl[i]) : 0, t = sat16(tf[i]);
        if (ttf[i] > max_ttf) max_ttf = ttf[i];
        if (t < BOUND_SMALL_TF) {
            uint64_t bit = 1ull << t;
            if (!(present & bit)) { present |= bit; least[t] = d; }
            else if (d < least[t]) least[t] = d;
        } else {
            /* sorts tf descending, then dl ascending */
            big[nbig++] = (uint32_t)(TR_SAT16 - t) << 16 | d;
        }
    }
    sort_u32(big, nbig);
    /* walk tf downwards, keeping points whose dl beats all larger tfs */
    uint16_t ftf[TR_BLOCK_DOCS], fdl[TR_BLOCK_DOCS];
    size_t k = 0;
    uint32_t run = UINT32_MAX;
    for (size_t i = 0; i < nbig; i++) {
        uint16_t t = (uint16_t)(TR_SAT16 - (big[i] >> 16)), d = (uint16_t)big[i];
        if (d < run) { ftf[k] = t; fdl[k] = d; k++; run = d; }
    }
    while (present) {
        unsigned t = 63u - (unsigned)__builtin_clzll(present);
        present &= ~(1ull << t);
        if (least[t] < run) { ftf[k] = (uint16_t)t; fdl[k] = (uint16_t)least[t]; k++; run = least[t]; }
    }
    /* found with tf and dl descending; the front is dl ascending */
    for (size_t i = 0; i < k / 2; i++) {
        uint16_t x = ftf[i]; ftf[i] = ftf[k - 1 - i]; ftf[k - 1 - i] = x;
        x = fdl[i]; fdl[i] = fdl[k - 1 - i]; fdl[k - 1 - i] = x;
    }
    bound_from_front(ftf, fdl, k, bd);
    bd->max_ttf = sat16(max_ttf);
}

/* acc := a bound that dominates both acc and bd. Folding block by block
 * keeps every posting dominated (domination is transitive). */
static void bound_fold(tr_bound *acc, const tr_bound *bd)
{
    uint32_t keys[TR_BOUND_POINTS * 2];
    size_t m = 0;
    for (unsigned i = 0; i < acc->npoints; i++)
        keys[m++] = (uint32_t)acc->pt[i].dl << 16 | (TR_SAT16 - acc->pt[i].tf);
    for (unsigned i = 0; i < bd->npoints; i++)
        keys[m++] = (uint32_t)bd->pt[i].dl << 16 | (TR_SAT16 - bd->pt[i].tf);
    uint16_t mt = acc->max_ttf > bd->max_ttf ? acc->max_ttf : bd->max_ttf;
    bound_from_keys(keys, m, acc);
    acc->max_ttf = mt;
}

double tr_bound_bm25(const tr_bound *bd, double k1, double b, double w, double avgdl)
{
    double best = 0;
    int ttf_unbounded = bd->max_ttf >= TR_SAT16 && w > 1;
    for (unsigned i = 0; i < bd->npoints && i < TR_BOUND_POINTS; i++) {
        double s;
        if (bd->pt[i].tf >= TR_SAT16 || ttf_unbounded || !(avgdl > 0)) {
            s = k1 + 1; /* the limit of the term part as tf grows */
        } else {
            double tf = bd->pt[i].tf, dl = bd->pt[i].dl;
            if (w >= 1) tf += (w - 1) * bd->max_ttf;
            else dl *= w;
            double den = tf + k1 * (1 - b + b * dl / avgdl);
            s = den > 0 ? tf * (k1 + 1) / den : k1 + 1;
        }
        if (s > best) best = s;
    }
    return best;
}

static void put_bound_fixed(uint8_t *p, const tr_bound *bd)
{
    for (unsigned i = 0; i < TR_BOUND_POINTS; i++) {
        tr_put_le16(p + 4 * i, i < bd->npoints ? bd->pt[i].tf : 0);
        tr_put_le16(p + 4 * i + 2, i < bd->npoints ? bd->pt[i].dl : 0);
    }
}

/* ---- directory bounds: one byte a value on a log scale -------------------
 * code c < 16 is the value c; above, 4 bits of mantissa: c = 16 (e - 3) + m
 * stands for (16 + m) << (e - 4), e = 4..15 (values 16..63,488; codes up to
 * 207), anything larger reads as 65,535 (TR_SAT16). A block bound's tf and
 * max_ttf are rounded up and its dl rounded down, so the bound stays valid
 * (at most 1/16 looser); the chunk bound folds the rounded block bounds. */
static uint16_t code_value(unsigned c)
{
    if (c < 16) return (uint16_t)c;
    unsigned e = (c >> 4) + 3;
    uint32_t v = (16u + (c & 15)) << (e - 4);
    return v > TR_SAT16 ? (uint16_t)TR_SAT16 : (uint16_t)v;
}

static unsigned code_down(uint16_t v)
{
    if (v < 16) return v;
    unsigned e = 31u - (unsigned)__builtin_clz(v);
    return (e - 3) << 4 | ((v >> (e - 4)) & 15);
}

static unsigned code_up(uint16_t v)
{
    unsigned c = code_down(v);
    return code_value(c) < v ? c + 1 : c;
}

/* A block bound as the directory will hold it (tf up, dl down). */
static void bound_round(tr_bound *bd)
{
    bd->max_ttf = code_value(code_up(bd->max_ttf));
    for (unsigned i = 0; i < bd->npoints && i < TR_BOUND_POINTS; i++) {
        bd->pt[i].tf = code_value(code_up(bd->pt[i].tf));
        bd->pt[i].dl = code_value(code_down(bd->pt[i].dl));
    }
}

static void put_bound_codes(uint8_t *p, const tr_bound *bd)
{
    p[0] = (uint8_t)code_up(bd->max_ttf);
    for (unsigned i = 0; i < TR_BOUND_POINTS; i++) {
        int used = i < bd->npoints;
        p[1 + 2 * i] = (uint8_t)(used ? code_up(bd->pt[i].tf) : 0);
        p[2 + 2 * i] = (uint8_t)(used ? code_down(bd->pt[i].dl) : 0);
    }
}

/* Points in use: those before the first tf code 0 (a real tf is >= 1). */
static unsigned bound_codes_npoints(const uint8_t *p)
{
    unsigned n = 0;
    while (n < TR_BOUND_POINTS && p[1 + 2 * n]) n++;
    return n;
}

static void get_bound_codes(const uint8_t *p, tr_bound *bd)
{
    memset(bd, 0, sizeof *bd);
    bd->max_ttf = code_value(p[0]);
    bd->npoints = (uint8_t)bound_codes_npoints(p);
    for (unsigned i = 0; i < bd->npoints; i++) {
        bd->pt[i].tf = code_value(p[1 + 2 * i]);
        bd->pt[i].dl = code_value(p[2 + 2 * i]);
    }
}

static void get_bound_fixed(const uint8_t *p, unsigned npoints, uint16_t max_ttf, tr_bound *bd)
{
    memset(bd, 0, sizeof *bd);
    bd->max_ttf = max_ttf;
    bd->npoints = (uint8_t)npoints;
    for (unsigned i = 0; i < npoints && i < TR_BOUND_POINTS; i++) {
        bd->pt[i].tf = tr_get_le16(p + 4 * i);
        bd->pt[i].dl = tr_get_le16(p + 4 * i + 2);
    }
}

/* ---- encoding ------------------------------------------------------------ */

static int check_input(const tr_postings_in *in, uint64_t *max_block_pos)
{
    if (!in || in->n == 0 || !in->docs || !in->tf || !in->ttf) return TR_EINPUT;
    const uint32_t *pos = in->pos;
    if (pos && (!in->dl || !in->tl)) return TR_EINPUT;
    uint64_t block_pos = 0;
    *max_block_pos = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        if (in->docs[i] == TR_DOC_END) return TR_EINPUT;
        if (i && in->docs[i] <= in->docs[i - 1]) return TR_EINPUT;
        if (in->tf[i] == 0 || in->ttf[i] > in->tf[i]) return TR_EINPUT;
        if (i % TR_BLOCK_DOCS == 0) block_pos = 0;
        block_pos += in->tf[i];
        if (block_pos > *max_block_pos) *max_block_pos = block_pos;
        if (pos) {
            /* a run must lie inside its field: the decoder derives its code
             * from the field's length */
            uint32_t title = in->ttf[i], body = in->tf[i] - in->ttf[i];
            uint32_t tl = in->tl[i], bl = in->dl[i] - tl;
            if (tl > in->dl[i]) return TR_EINPUT;
            for (uint32_t j = 1; j < title; j++)
                if (pos[j] <= pos[j - 1]) return TR_EINPUT;
            if (title && pos[title - 1] >= tl) return TR_EINPUT;
            for (uint32_t j = title + 1; j < title + body; j++)
                if (pos[j] <= pos[j - 1]) return TR_EINPUT;
            if (body && pos[title + body - 1] >= bl) return TR_EINPUT;
            pos += in->tf[i];
        }
    }
    if (pos && *max_block_pos > MAX_BLOCK_POSITIONS) return TR_ELIMIT;
    return TR_OK;
}

/* ---- doc blocks: patched bit packing ---------------------------------------
 * Each of a block's three streams (doc gaps, tf - 1, ttf) is packed at the
 * width b that minimises its bytes; values wider than b bits are exceptions,
 * stored apart: their indexes (u8) and their high parts (value >> b) packed at
 * the width of the largest. Measured on the enwiki index (every block
 * re-encoded by bench_chunkstat): 27.6 MB of doc blocks with one width per
 * stream, 22.3 MB patched; Rice codes were 22.1 MB but need a bit scan per
 * value, where patching costs one add per exception after the same unpack.
 * That add still costs (below), so dense blocks take no exceptions. */

/* Blocks whose doc gaps all fit this many bits (mean gap below ~128: the
 * lists of common and middling terms, which queries decode most) are packed
 * without exceptions: patching cost ~0.3 ns a posting per stream that has
 * them (decode 0.72 -> 1.3 ns a posting on the passages' big chunks). 4
 * (format 5; 8 in format 4): ids and freqs 3.0 MB smaller on both enwiki
 * and the passages, for union and intersection TOP_10 1-2% slower on the
 * mean (0 would save 0.9-1.1 MB more but made union COUNT 1.14-1.17x);
 * the index-size target of issue 3 needs the bytes (FORMAT.md). */
#ifndef DENSE_GAP_WIDTH /* -D to measure other settings: an encoder choice, not format */
#define DENSE_GAP_WIDTH 4
#endif
#define HEAD_WIDTH 0x3F        /* stream head: width b, 0..32 */
#define HEAD_EXCEPTIONS 0x40   /* stream head: exceptions follow the lows */
#define HEAD_HAS_TTF 0x80      /* gap stream head: the block has a ttf stream */
/* Worst case of one stream of n values: head, lows, count, width, indexes,
 * highs. */
#define STREAM_MAX_BYTES(n) (3 + (n) + 2 * (size_t)(n) * 4)

/* Write one stream of n values at o with head bits extra, exceptions only
 * when allowed; returns bytes. */
static size_t encode_stream(uint8_t *o, const uint32_t *v, uint32_t n, unsigned extra,
                            int allow_exceptions)
{
    uint32_t count[MAX_WIDTH + 1] = {0};  /* values of each bit width */
    unsigned maxw = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned w = v[i] ? 32u - (unsigned)__builtin_clz(v[i]) : 0u;
        count[w]++;
        if (w > maxw) maxw = w;
    }
    /* From the widest down: ties keep the larger width (fewer exceptions,
     * faster to decode). */
    unsigned b = maxw;
    uint64_t best = tr_packed_size(n, maxw);
    uint32_t nexc = 0;
    for (unsigned w = maxw; allow_exceptions && w-- > 0;) {
        nexc += count[w + 1];
        uint64_t cost = tr_packed_size(n, w) + 2 + nexc + tr_packed_size(nexc, maxw - w);
        if (cost < best) { best = cost; b = w; }
    }
    nexc = 0;
    for (unsigned w = b + 1; w <= maxw; w++) nexc += count[w];
    uint8_t *p = o;
    *p++ = (uint8_t)(b | (nexc ? HEAD_EXCEPTIONS : 0) | extra);
    p += tr_pack(p, v, n, b);
    if (nexc) {
        uint32_t hi[TR_BLOCK_DOCS];
        unsigned wexc = maxw - b;
        *p++ = (uint8_t)nexc;
        *p++ = (uint8_t)wexc;
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++)
            if (v[i] >> b) { *p++ = (uint8_t)i; hi[k++] = v[i] >> b; }
        p += tr_pack(p, hi, k, wexc);
    }
    return (size_t)(p - o);
}

/* Append block [start, start+n) doc payload to out. */
static int encode_doc_block(const tr_postings_in *in, uint32_t start, uint32_t n,
                            uint32_t base, tr_buf *out)
{
    uint32_t gap[TR_BLOCK_DOCS], tfm1[TR_BLOCK_DOCS];
    const uint32_t *d = in->docs + start, *ttf = in->ttf + start;
    gap[0] = d[0] - base;
    for (uint32_t i = 1; i < n; i++) gap[i] = d[i] - d[i - 1] - 1;
    uint32_t anyttf = 0;
    for (uint32_t i = 0; i < n; i++) {
        tfm1[i] = in->tf[start + i] - 1;
        anyttf |= ttf[i];
    }
    int rc = tr_buf_reserve(out, 3 * STREAM_MAX_BYTES(n));
    if (rc) return rc;
    uint8_t *p = out->data + out->len;
    int sparse = tr_bits_needed(gap, n) > DENSE_GAP_WIDTH;
    size_t len = encode_stream(p, gap, n, anyttf ? HEAD_HAS_TTF : 0, sparse);
    len += encode_stream(p + len, tfm1, n, 0, sparse);
    if (anyttf) len += encode_stream(p + len, ttf, n, 0, sparse);
    out->len += len;
    return TR_OK;
}

/* ---- pos-blocks: Rice codes with a parameter per run ----------------------
 * A run is one posting's positions in one field: m positions in a field of
 * L terms (title or body length, which the reader has from the norms), so a
 * decoder knows m and L before it reads a bit. Positions spread over their
 * field roughly uniformly, so a gap is about geometric with mean L/m: the
 * run's gaps (p[j] - p[j-1] - 1) take a Rice code with k = floor(log2(L/m)),
 * and its first position, uniform over [0, L - m], truncated binary. No
 * parameter is stored. Measured by bench_posstat before building (FORMAT.md):
 * 0.937x (enwiki) and 0.906x (passages) of the format-4 group Rice code,
 * whose parameter byte per 128 values and one parameter for many runs of
 * different densities cost more.
 * A block's bits are laid out in sections so that no loop has a serial
 * variable-length step: the low bits of every gap (width k of its run:
 * offsets follow from the lengths), the first positions' leading b - 1
 * bits (widths from the lengths), their last bits (one per run whose lead
 * says it has one: offsets counted from those flags), then the quotients
 * in unary (scanned a word at a time with ctz, as the format-4 groups
 * were). Decoding loops avoid branches that depend on the data (a select
 * per position, not a loop per run; masks, not ?:, which compilers turn
 * into branches). Still, the work per run (parameters from the lengths)
 * makes a whole block's decode about 3x format 4's per position
 * (bench_codec); queries that want a few postings of a block use
 * tr_pos_block, which sets the block up once (FORMAT.md has the figures).
 * The total unary length of a run is below 3m bits (its gaps sum to at
 * most L - m, and 2^k > L/(2m)), so no escape is needed; with k clamped at POS_MAX_K a long field adds at
 * most L >> POS_MAX_K. */

#define POS_MAX_K 24u   /* a low part and its bit offset fit one 64-bit load */

/* The Rice parameter of a run of m >= 1 positions in a field of L >= m. */
static inline unsigned run_k(uint32_t m, uint32_t L)
{
    /* floor(log2(L / m)) without a division: it is d = log2 L - log2 m
     * (floors) or d - 1, the latter when m << d passes L. m = 0 (a run
     * that is not there) gives some k, unused. */
    unsigned lm = 63u - (unsigned)__builtin_clzll((uint64_t)m | 1);
    unsigned lL = 63u - (unsigned)__builtin_clzll((uint64_t)L | 1);
    unsigned d = (lL - lm) & (0u - (unsigned)(lL >= lm));   /* no branch */
    unsigned k = d - ((d != 0) & (((uint64_t)m << d) > L));
    return k < POS_MAX_K ? k : POS_MAX_K;
}

/* Truncated binary of x in [0, R), R >= 1: b = ceil(log2 R) bits, of which
 * the values below u = 2^b - R take b - 1. Written LSB first: the b - 1
 * high bits of z = x + u, then its lowest bit, so a decoder reads b - 1
 * bits, compares them with u and only then knows the length. */
static inline unsigned tb_width(uint64_t R)
{
    /* ceil(log2 R) for R >= 1, without a branch: 0 for R = 1 */
    return (64u - (unsigned)__builtin_clzll((R - 1) | 1)) & (0u - (unsigned)(R > 1));
}

/* A bit writer into a zeroed buffer, at any bit offset: a put ORs its
 * bits into the 8 bytes at the offset, so writers at different offsets of
 * one buffer (the sections of a pos-block) can interleave, and a unary
 * code is a skip over its zeros and one bit. The buffer needs BITW_SLACK
 * zeroed bytes past the payload. */
#define BITW_SLACK 8
typedef struct bitw { uint8_t *base; uint64_t at; } bitw;

/* OR in the w (0..32) low bits of v. */
static inline void bitw_put(bitw *bw, uint64_t v, unsigned w)
{
    uint8_t *p = bw->base + (bw->at >> 3);
    tr_put_le64(p, tr_get_le64(p) | (v & ((1ull << w) - 1)) << (bw->at & 7));
    bw->at += w;
}

static inline void bitw_unary(bitw *bw, uint64_t q)
{
    bw->at += q;
    bitw_put(bw, 1, 1);
}

/* First position x in [0, R) as truncated binary, its b - 1 leading bits
 * (x, or z >> 1 with z = x + u when x >= u) and, apart, the last bit of z
 * when there is one: extra says which. */
static inline void first_split(uint32_t x, uint64_t R, uint64_t *lead, unsigned *w, int *extra,
                               unsigned *bit)
{
    unsigned b = tb_width(R);
    uint64_t u = b ? (1ull << b) - R : 0;
    *w = b ? b - 1 : 0;
    *extra = b && x >= u;
    uint64_t z = x + u;
    *lead = *extra ? z >> 1 : x;
    *bit = (unsigned)(z & 1);
}

/* The runs of postings [0, n): for each posting its title run then its
 * body run, empty ones left out. */
typedef struct pos_run { uint32_t start, m, L, k; } pos_run;

/* Fill runs[] (room for 2n) from tf, ttf and the field lengths; returns the
 * run count, or -1 when a run has more positions than its field has terms. */
static int pos_runs(const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl,
                    const uint32_t *bl, uint32_t n, pos_run *runs)
{
    /* no branch per run (whether a posting has a title run is a coin
     * toss): each run is written, and counted only when not empty; runs[]
     * has room for 2n + 1 */
    int nr = 0;
    uint32_t at = 0, bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = ttf[i], a = tf[i], b = a - t;   /* t <= a: callers check */
        bad |= (t > tl[i]) | (b > bl[i]);
        runs[nr] = (pos_run){ at, t, tl[i], 0 };
        nr += t > 0;
        runs[nr] = (pos_run){ at + t, b, bl[i], 0 };
        nr += b > 0;
        at += a;
    }
    /* the parameters of the runs that are there only (most postings of
     * short documents have no title run) */
    for (int r = 0; r < nr; r++) runs[r].k = run_k(runs[r].m, runs[r].L);
    return bad ? -1 : nr;
}

/* Append the positions payload of postings [start, start+n) whose positions
 * start at pos (check_input has checked them against the field lengths).
 * One pass sizes the four sections, a second writes each run's bits into
 * all four at once. */
static int encode_pos_block(const tr_postings_in *in, uint32_t start, uint32_t n,
                            const uint32_t *pos, tr_buf *out)
{
    uint32_t bl[TR_BLOCK_DOCS];
    pos_run runs[2 * TR_BLOCK_DOCS + 1];
    uint32_t lead[2 * TR_BLOCK_DOCS + 1];
    uint8_t lw[2 * TR_BLOCK_DOCS + 1], last[2 * TR_BLOCK_DOCS + 1];
    for (uint32_t i = 0; i < n; i++) bl[i] = in->dl[start + i] - in->tl[start + i];
    int nr = pos_runs(in->tf + start, in->ttf + start, in->tl + start, bl, n, runs);
    if (nr < 0) return TR_EINPUT;
    uint64_t low = 0, leads = 0, lasts = 0, unary = 0;   /* the sections' bits */
    for (int r = 0; r < nr; r++) {
        const pos_run *u = &runs[r];
        const uint32_t *p = pos + u->start;
        uint64_t ld; unsigned w, bit; int extra;
        first_split(p[0], (uint64_t)u->L - u->m + 1, &ld, &w, &extra, &bit);
        lead[r] = (uint32_t)ld;
        lw[r] = (uint8_t)w;
        last[r] = (uint8_t)(extra << 1 | bit);
        leads += w;
        lasts += (unsigned)extra;
        low += (uint64_t)(u->m - 1) * u->k;
        unary += u->m - 1;
        for (uint32_t j = 1; j < u->m; j++) unary += (p[j] - p[j - 1] - 1) >> u->k;
    }
    size_t bytes = (size_t)((low + leads + lasts + unary + 7) / 8);
    int rc = tr_buf_reserve(out, bytes + BITW_SLACK);
    if (rc) return rc;
    uint8_t *base = out->data + out->len;
    memset(base, 0, bytes + BITW_SLACK);
    bitw a = { base, 0 }, b = { base, low }, c = { base, low + leads }, d = { base, low + leads + lasts };
    for (int r = 0; r < nr; r++) {
        const pos_run *u = &runs[r];
        const uint32_t *p = pos + u->start;
        for (uint32_t j = 1; j < u->m; j++) {
            uint32_t g = p[j] - p[j - 1] - 1;
            bitw_put(&a, g, u->k);
            bitw_unary(&d, g >> u->k);
        }
        bitw_put(&b, lead[r], lw[r]);
        bitw_put(&c, last[r] & 1u, last[r] >> 1);
    }
    out->len += bytes;
    return TR_OK;
}

static int encode_compact(const tr_postings_in *in, tr_buf *out)
{
    size_t base = out->len;
    tr_bound bd;
    block_bound(in->tf, in->ttf, in->dl, in->n, &bd);
    uint8_t hdr[2 + 5 + 1 + 5 + 3 + TR_BOUND_POINTS * 6];
    size_t h = 0;
    hdr[h++] = FORMAT_COMPACT;
    hdr[h++] = (uint8_t)((in->pos ? FLAG_POSITIONS : 0) | bd.npoints << 1);
    int rc = tr_buf_append(out, hdr, h);
    if (!rc) rc = tr_buf_put_varint(out, in->docs[0]);
    uint8_t nm1 = (uint8_t)(in->n - 1);
    if (!rc) rc = tr_buf_append(out, &nm1, 1);
    if (!rc && in->n > 1) rc = tr_buf_put_varint(out, in->docs[in->n - 1] - in->docs[0]);
    if (in->n == 1) {
        /* a singleton's max_ttf and point tf are its own ttf and tf */
        if (!rc) rc = tr_buf_put_varint(out, bd.pt[0].dl);
    } else {
        if (!rc) rc = tr_buf_put_varint(out, bd.max_ttf);
        for (unsigned i = 0; !rc && i < bd.npoints; i++) {
            rc = tr_buf_put_varint(out, bd.pt[i].tf);
            if (!rc) rc = tr_buf_put_varint(out, bd.pt[i].dl);
        }
    }
    if (!rc) rc = encode_doc_block(in, 0, in->n, in->docs[0], out);
    if (!rc && in->pos) rc = encode_pos_block(in, 0, in->n, in->pos, out);
    if (!rc) rc = tr_buf_reserve(out, 4);
    if (!rc) {
        tr_put_le32(out->data + out->len, tr_csum32(out->data + base, out->len - base));
        out->len += 4;
    }
    return rc;
}

/* Where the fields of a directory entry sit, from the chunk's flags: offsets
 * are u16 when their area is at most 64 KiB, and a chunk without positions
 * has no pos_end or pos_csum. */
typedef struct dir_layout { unsigned docw, posw, doc_csum, pos_csum, bound, stride; } dir_layout;

static dir_layout layout_of(unsigned flags)
{
    dir_layout l;
    int pos = flags & FLAG_POSITIONS;
    l.docw = flags & FLAG_DOC_OFF16 ? 2 : 4;
    l.posw = !pos ? 0 : flags & FLAG_POS_OFF16 ? 2 : 4;
    l.doc_csum = 4 + l.docw + l.posw;
    l.pos_csum = l.doc_csum + 4;
    l.bound = l.pos_csum + (pos ? 4 : 0);
    l.stride = l.bound + DIR_BOUND_BYTES;
    return l;
}

static uint32_t get_off(const uint8_t *p, unsigned w)
{
    return w == 4 ? tr_get_le32(p) : w == 2 ? tr_get_le16(p) : 0;
}

static void put_off(uint8_t *p, unsigned w, uint32_t v)
{
    if (w == 4) tr_put_le32(p, v);
    else if (w == 2) tr_put_le16(p, (uint16_t)v);
}

/* What the encoder learns of a block before the directory can be laid out. */
typedef struct block_info {
    uint32_t last, doc_end, pos_end, doc_csum, pos_csum;
    tr_bound bd;
} block_info;

/* A list's blocks encoded once (every block's payloads, checksums and
 * bound), from which chunks of any run of whole blocks are assembled. */
typedef struct enc_blocks {
    uint32_t nblocks;
    block_info *info;           /* doc_end / pos_end: offsets in docbuf / posbuf */
    tr_buf docbuf, posbuf;
} enc_blocks;

static void enc_blocks_free(enc_blocks *eb)
{
    free(eb->info);
    tr_buf_free(&eb->docbuf);
    tr_buf_free(&eb->posbuf);
}

static int encode_blocks(const tr_postings_in *in, enc_blocks *eb)
{
    *eb = (enc_blocks){ .nblocks = (uint32_t)(((uint64_t)in->n + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS) };
    eb->info = malloc((size_t)eb->nblocks * sizeof *eb->info);
    if (!eb->info) return TR_ENOMEM;
    const uint32_t *pos = in->pos;
    for (uint32_t b = 0; b < eb->nblocks; b++) {
        uint32_t start = b * TR_BLOCK_DOCS;
        uint32_t n = in->n - start < TR_BLOCK_DOCS ? in->n - start : TR_BLOCK_DOCS;
        uint32_t bbase = b == 0 ? in->docs[0] : in->docs[start - 1] + 1;
        size_t d0 = eb->docbuf.len, p0 = eb->posbuf.len;
        int rc = encode_doc_block(in, start, n, bbase, &eb->docbuf);
        if (!rc && pos) {
            rc = encode_pos_block(in, start, n, pos, &eb->posbuf);
            for (uint32_t i = 0; i < n; i++) pos += in->tf[start + i];
        }
        if (rc) return rc;
        if (eb->docbuf.len > MAX_CHUNK_BYTES || eb->posbuf.len > MAX_CHUNK_BYTES) return TR_ELIMIT;
        block_info *bi = &eb->info[b];
        block_bound(in->tf + start, in->ttf + start, in->dl ? in->dl + start : NULL, n, &bi->bd);
        bound_round(&bi->bd);
        bi->last = in->docs[start + n - 1];
        bi->doc_end = (uint32_t)eb->docbuf.len;
        bi->pos_end = (uint32_t)eb->posbuf.len;
        bi->doc_csum = tr_csum32(eb->docbuf.data + d0, eb->docbuf.len - d0);
        bi->pos_csum = tr_csum32(eb->posbuf.data ? eb->posbuf.data + p0 : (const uint8_t *)"", eb->posbuf.len - p0);
    }
    return TR_OK;
}

/* Block b's payload bytes in eb (doc and positions). */
static size_t eb_bytes(const enc_blocks *eb, uint32_t b)
{
    uint32_t d0 = b ? eb->info[b - 1].doc_end : 0, p0 = b ? eb->info[b - 1].pos_end : 0;
    return (size_t)(eb->info[b].doc_end - d0) + (eb->info[b].pos_end - p0);
}

/* The full chunk of blocks [b0, b1) (b1 - b0 >= 2) of eb, appended to out:
 * the bytes tr_chunk_encode makes of those postings alone. Only block b0's
 * doc payload differs from eb's when b0 > 0 (its first gap counts from its
 * own first doc, not from the block before), so it is encoded again. */
static int assemble_full(const tr_postings_in *in, const enc_blocks *eb, uint32_t b0, uint32_t b1,
                         tr_buf *out)
{
    uint32_t start = b0 * TR_BLOCK_DOCS, end = b1 * TR_BLOCK_DOCS < in->n ? b1 * TR_BLOCK_DOCS : in->n;
    uint32_t d0 = b0 ? eb->info[b0 - 1].doc_end : 0, p0 = b0 ? eb->info[b0 - 1].pos_end : 0;
    tr_buf first = {0};
    const uint8_t *fdoc = eb->docbuf.data + d0;
    size_t flen = eb->info[b0].doc_end - d0;
    uint32_t fcsum = eb->info[b0].doc_csum;
    int rc = TR_OK;
    if (b0 > 0) {
        uint32_t n = end - start < TR_BLOCK_DOCS ? end - start : TR_BLOCK_DOCS;
        rc = encode_doc_block(in, start, n, in->docs[start], &first);
        fdoc = first.data;
        flen = first.len;
        fcsum = tr_csum32(first.data, first.len);
    }
    size_t rest = eb->info[b1 - 1].doc_end - eb->info[b0].doc_end;
    size_t doclen = flen + rest, poslen = eb->info[b1 - 1].pos_end - p0;
    uint32_t nb = b1 - b0;
    unsigned flags = (in->pos ? FLAG_POSITIONS : 0) | (doclen <= UINT16_MAX ? FLAG_DOC_OFF16 : 0) |
                     (in->pos && poslen <= UINT16_MAX ? FLAG_POS_OFF16 : 0);
    dir_layout l = layout_of(flags);
    uint64_t total = FULL_HEADER_BYTES + (uint64_t)l.stride * nb + doclen + poslen;
    if (!rc && total > MAX_CHUNK_BYTES) rc = TR_ELIMIT;
    if (!rc) rc = tr_buf_reserve(out, (size_t)total);
    if (!rc) {
        tr_bound chunk_bd = eb->info[b0].bd;
        for (uint32_t b = b0 + 1; b < b1; b++) bound_fold(&chunk_bd, &eb->info[b].bd);
        uint8_t *h = out->data + out->len;
        h[0] = FORMAT_FULL;
        h[1] = (uint8_t)flags;
        h[2] = chunk_bd.npoints;
        tr_put_le32(h + 3, end - start);
        tr_put_le32(h + 7, in->docs[start]);
        tr_put_le16(h + 11, chunk_bd.max_ttf);
        put_bound_fixed(h + 13, &chunk_bd);
        uint8_t *dir = h + FULL_HEADER_BYTES;
        /* offsets within the piece: block b0's doc payload may have changed size */
        int64_t dshift = (int64_t)flen - (int64_t)(eb->info[b0].doc_end - d0) - (int64_t)d0;
        for (uint32_t b = b0; b < b1; b++) {
            uint8_t *e = dir + (size_t)l.stride * (b - b0);
            const block_info *bi = &eb->info[b];
            tr_put_le32(e, bi->last);
            put_off(e + 4, l.docw, (uint32_t)((int64_t)bi->doc_end + dshift));
            put_off(e + 4 + l.docw, l.posw, bi->pos_end - p0);
            tr_put_le32(e + l.doc_csum, b == b0 ? fcsum : bi->doc_csum);
            if (in->pos) tr_put_le32(e + l.pos_csum, bi->pos_csum);
            put_bound_codes(e + l.bound, &bi->bd);
        }
        size_t dirlen = (size_t)l.stride * nb;
        uint64_t seed = tr_hash64(h, FULL_CSUM_OFFSET);
        tr_put_le32(h + FULL_CSUM_OFFSET, (uint32_t)tr_hash64_seed(dir, dirlen, seed));
        uint8_t *q = dir + dirlen;
        if (flen) memcpy(q, fdoc, flen);
        if (rest) memcpy(q + flen, eb->docbuf.data + eb->info[b0].doc_end, rest);
        if (poslen) memcpy(q + doclen, eb->posbuf.data + p0, poslen);
        out->len += (size_t)total;
    }
    tr_buf_free(&first);
    return rc;
}

static int encode_full(const tr_postings_in *in, tr_buf *out)
{
    enc_blocks eb;
    int rc = encode_blocks(in, &eb);
    if (!rc) rc = assemble_full(in, &eb, 0, eb.nblocks, out);
    enc_blocks_free(&eb);
    return rc;
}

/* in shifted to its postings [start, end), positions included. */
static tr_postings_in sub_postings(const tr_postings_in *in, uint32_t start, uint32_t end)
{
    tr_postings_in s = *in;
    s.n = end - start;
    s.docs += start; s.tf += start; s.ttf += start;
    if (s.dl) s.dl += start;
    if (s.tl) s.tl += start;
    if (s.pos) {
        uint64_t skip = 0;
        for (uint32_t i = 0; i < start; i++) skip += in->tf[i];
        s.pos += skip;
    }
    return s;
}

int tr_chunk_encode_cut(const tr_postings_in *in, tr_cut_plan_fn plan, void *ctx, tr_buf *out)
{
    uint64_t max_block_pos;
    int rc = check_input(in, &max_block_pos);
    if (rc) return rc;
    size_t base = out->len;
    if (in->n <= TR_BLOCK_DOCS) {
        uint8_t hdr[8];
        tr_put_le32(hdr, in->docs[0]);
        rc = tr_buf_append(out, hdr, 8);
        if (!rc) rc = encode_compact(in, out);
        if (!rc) tr_put_le32(out->data + base + 4, (uint32_t)(out->len - base - 8));
        if (rc) out->len = base;
        return rc;
    }
    enc_blocks eb;
    rc = encode_blocks(in, &eb);
    size_t *bytes = NULL;
    uint32_t *cut = NULL;
    size_t m = 0;
    if (!rc) {
        bytes = malloc(eb.nblocks * sizeof *bytes);
        cut = malloc(eb.nblocks * sizeof *cut);
        if (!bytes || !cut) rc = TR_ENOMEM;
    }
    if (!rc) {
        size_t payload = 0;
        for (uint32_t b = 0; b < eb.nblocks; b++) payload += bytes[b] = eb_bytes(&eb, b);
        unsigned flags = (in->pos ? FLAG_POSITIONS : 0) |
                         (eb.docbuf.len <= UINT16_MAX ? FLAG_DOC_OFF16 : 0) |
                         (in->pos && eb.posbuf.len <= UINT16_MAX ? FLAG_POS_OFF16 : 0);
        size_t whole = FULL_HEADER_BYTES + (size_t)layout_of(flags).stride * eb.nblocks + payload;
        m = plan(ctx, bytes, eb.nblocks, whole, cut);
        if (m == 0 || cut[m - 1] != eb.nblocks) rc = TR_EINPUT;
    }
    for (size_t i = 0, b0 = 0; !rc && i < m; b0 = cut[i++]) {
        if (cut[i] <= b0) { rc = TR_EINPUT; break; }
        size_t rec = out->len;
        uint32_t start = (uint32_t)b0 * TR_BLOCK_DOCS;
        uint8_t hdr[8];
        tr_put_le32(hdr, in->docs[start]);
        rc = tr_buf_append(out, hdr, 8);
        if (!rc && cut[i] - b0 == 1) {
            uint32_t end = start + TR_BLOCK_DOCS < in->n ? start + TR_BLOCK_DOCS : in->n;
            tr_postings_in s = sub_postings(in, start, end);
            rc = encode_compact(&s, out);
        } else if (!rc) {
            rc = assemble_full(in, &eb, (uint32_t)b0, cut[i], out);
        }
        if (!rc) tr_put_le32(out->data + rec + 4, (uint32_t)(out->len - rec - 8));
    }
    free(bytes);
    free(cut);
    enc_blocks_free(&eb);
    if (rc) out->len = base;
    return rc;
}

int tr_chunk_encode(const tr_postings_in *in, tr_buf *out)
{
    uint64_t max_block_pos;
    int rc = check_input(in, &max_block_pos);
    if (rc) return rc;
    size_t base = out->len;
    if (in->n <= TR_BLOCK_DOCS) rc = encode_compact(in, out);
    else rc = encode_full(in, out);
    if (rc) out->len = base;
    return rc;
}

/* The 64 bits at byte p of [p, end), zero past end. */
static inline uint64_t load64_tail(const uint8_t *p, const uint8_t *end)
{
    if (end - p >= 8) return load64_le(p);
    uint8_t tmp[8] = {0};
    if (end > p) memcpy(tmp, p, (size_t)(end - p));
    return load64_le(tmp);
}

/* A pos-block being decoded: its bytes [p, p + len), of which [p, rend) may
 * be read (loads run on into the rest of the chunk), its runs, and where
 * its sections start. */
typedef struct pos_dec {
    const uint8_t *p, *rend;
    size_t len;
    pos_run runs[2 * TR_BLOCK_DOCS + 1];
    uint32_t first[2 * TR_BLOCK_DOCS + 1];
    uint32_t u[2 * TR_BLOCK_DOCS + 1];    /* truncated binary: 2^b - R; UINT32_MAX
                                           * when b = 0 (R = 1: no last bit) */
    uint32_t lead[2 * TR_BLOCK_DOCS + 1]; /* b - 1 (0 when b = 0) */
    int nr;
    uint64_t lows_bits;   /* the low-bits section: [0, lows_bits) */
    uint64_t unary_at;    /* the unary section's first bit */
} pos_dec;

/* The bytes of a pos-block: [p, p + len), of which [p, rend) may be read. */
typedef struct pos_src {
    const uint8_t *p, *rend;
    size_t len;
} pos_src;

/* The 64 bits from bit o of p on, low bit first (at least 57 of them
 * valid), zero past rend. */
static inline uint64_t peek_at(const uint8_t *p, const uint8_t *rend, uint64_t o)
{
    const uint8_t *q = p + (o >> 3);
    uint64_t w = rend - q >= 8 ? load64_le(q) : load64_tail(q, rend);
    return w >> (o & 7);
}

static inline uint64_t peek_bits(const pos_dec *d, uint64_t o) { return peek_at(d->p, d->rend, o); }

/* Lay out one run of m (0: not counted) positions in a field of L at
 * position index at: its parameters, and the gaps and low bits it adds. */
static inline void pos_dec_run(pos_dec *d, int *nr, uint32_t at, uint32_t m, uint32_t L,
                               uint64_t *lows, uint64_t *g)
{
    unsigned k = run_k(m, L);
    uint64_t R = L >= m ? (uint64_t)L - m + 1 : 1;   /* m > L: refused by the caller */
    unsigned wb = tb_width(R);
    uint32_t gaps = m - (m > 0);
    d->runs[*nr] = (pos_run){ at, m, L, k };
    d->u[*nr] = wb ? (uint32_t)((1ull << wb) - R) : UINT32_MAX;
    d->lead[*nr] = wb - (wb != 0);
    *lows += (uint64_t)gaps * k;
    *g += gaps;
    *nr += m > 0;
}

/* The body runs' parameters of n postings (m = tf[i] - ttf[i] positions,
 * ttf[i] <= tf[i], in a field of L[i]): k[i] = run_k, and the truncated
 * binary's u[i] (UINT32_MAX when R = 1) and leading-bit width w[i] as
 * pos_dec_run lays them out. Setting a block up
 * (pos_dec_open) once spent about half its time on these, one posting
 * after the other (three leading-zero counts, a variable shift); the AVX2
 * path does eight postings a step, floor(log2 x) from the exponent of x as
 * a float (less one where rounding carried x to the next power of two). */
static void body_params_scalar(const uint32_t *tf, const uint32_t *ttf, const uint32_t *L,
                               uint32_t i, uint32_t n, uint32_t *k, uint32_t *w, uint32_t *u)
{
    for (; i < n; i++) {
        uint32_t m = tf[i] - ttf[i];
        k[i] = run_k(m, L[i]);
        uint64_t R = L[i] >= m ? (uint64_t)L[i] - m + 1 : 1;
        unsigned wb = tb_width(R);
        u[i] = wb ? (uint32_t)((1ull << wb) - R) : UINT32_MAX;
        w[i] = wb - (wb != 0);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define POS_AVX2 1
#define AVX2_FN static inline __attribute__((always_inline, target("avx2")))

/* floor(log2 x) of eight x in [1, 2^30) */
AVX2_FN __m256i log2_8(__m256i x)
{
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(x)), 23),
                                 _mm256_set1_epi32(127));
    __m256i p = _mm256_sllv_epi32(_mm256_set1_epi32(1), e);
    return _mm256_add_epi32(e, _mm256_cmpgt_epi32(p, x));   /* -1 where 2^e > x */
}

/* Eight postings a step while every m and L is below 2^30 (exact there:
 * m << d < 2^(log2 L + 1)); the rest, and any step with a longer field,
 * the scalar way. Returns how many were done. */
__attribute__((target("avx2")))
static uint32_t body_params_avx2(const uint32_t *tf, const uint32_t *ttf, const uint32_t *L,
                                 uint32_t n, uint32_t *k, uint32_t *w, uint32_t *u)
{
    const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
    const __m256i big = _mm256_set1_epi32((int)0xC0000000u), kmax = _mm256_set1_epi32((int)POS_MAX_K);
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i vm = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(tf + i)),
                                      _mm256_loadu_si256((const __m256i *)(ttf + i)));
        __m256i vl = _mm256_loadu_si256((const __m256i *)(L + i));
        if (!_mm256_testz_si256(_mm256_or_si256(vm, vl), big)) {
            body_params_scalar(tf, ttf, L, i, i + 8, k, w, u);
            continue;
        }
        __m256i lm = log2_8(_mm256_or_si256(vm, one)), ll = log2_8(_mm256_or_si256(vl, one));
        __m256i d = _mm256_max_epi32(_mm256_sub_epi32(ll, lm), zero);
        __m256i over = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_sllv_epi32(vm, d), vl),
                                        _mm256_cmpgt_epi32(d, zero));
        __m256i vk = _mm256_min_epi32(_mm256_add_epi32(d, over), kmax);
        /* R = L - m + 1 (1 when m > L), width ceil(log2 R) */
        __m256i fits = _mm256_cmpgt_epi32(vm, vl);   /* m > L */
        __m256i R = _mm256_blendv_epi8(_mm256_add_epi32(_mm256_sub_epi32(vl, vm), one), one, fits);
        __m256i R1 = _mm256_sub_epi32(R, one);
        __m256i has = _mm256_cmpgt_epi32(R, one);
        __m256i wb = _mm256_and_si256(_mm256_add_epi32(log2_8(_mm256_or_si256(R1, one)), one), has);
        __m256i vu = _mm256_or_si256(_mm256_and_si256(_mm256_sub_epi32(_mm256_sllv_epi32(one, wb), R), has),
                                     _mm256_andnot_si256(has, _mm256_set1_epi32(-1)));
        __m256i vw = _mm256_add_epi32(wb, has);      /* has = -1: wb - 1 */
        _mm256_storeu_si256((__m256i *)(k + i), vk);
        _mm256_storeu_si256((__m256i *)(w + i), vw);
        _mm256_storeu_si256((__m256i *)(u + i), vu);
    }
    return i;
}
#else
#define POS_AVX2 0
#endif

static void body_params(const uint32_t *tf, const uint32_t *ttf, const uint32_t *L, uint32_t n,
                        uint32_t *k, uint32_t *w, uint32_t *u)
{
    uint32_t i = 0;
#if POS_AVX2
    if (__builtin_cpu_supports("avx2")) i = body_params_avx2(tf, ttf, L, n, k, w, u);
#endif
    body_params_scalar(tf, ttf, L, i, n, k, w, u);
}

/* Lay out the runs and read every first position: after this the unary
 * section's start is known. TR_ECORRUPT when the lengths cannot hold the
 * runs or the sections pass the payload. */
static int pos_dec_open(pos_dec *d, const uint8_t *p, size_t len, const uint8_t *rend,
                        const uint32_t *tf, const uint32_t *ttf, const uint32_t *tl,
                        const uint32_t *bl, uint32_t n)
{
    d->p = p;
    d->len = len;
    d->rend = rend > p + len ? rend : p + len;
    /* One pass over the postings lays out the runs (each written, counted
     * only when not empty: no branch on whether a posting has a title run)
     * with their parameters. */
    int nr = 0;
    uint32_t at = 0, bad = 0;
    uint64_t lows = 0, g = 0, W = 0;
    uint32_t bk[TR_BLOCK_DOCS], bw[TR_BLOCK_DOCS], bu[TR_BLOCK_DOCS];
    if (n > TR_BLOCK_DOCS) return TR_ECORRUPT;
    body_params(tf, ttf, bl, n, bk, bw, bu);   /* ttf <= tf: callers check */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = ttf[i], b = tf[i] - t;
        bad |= (t > tl[i]) | (b > bl[i]);
        /* title runs are rare (a branch that predicts well), body runs
         * almost always there (no branch: counted when not empty) */
        if (t) {
            pos_dec_run(d, &nr, at, t, tl[i], &lows, &g);
            W += d->lead[nr - 1];
        }
        at += t;
        uint32_t gaps = b - (b > 0);
        W += bw[i] & (0u - (b > 0));
        d->runs[nr] = (pos_run){ at, b, bl[i], bk[i] };
        d->u[nr] = bu[i];
        d->lead[nr] = bw[i];
        lows += (uint64_t)gaps * bk[i];
        g += gaps;
        nr += b > 0;
        at += b;
    }
    if (bad) return TR_ECORRUPT;
    d->nr = nr;
    uint64_t o;
    uint64_t end = (uint64_t)len * 8;
    if (lows > end) return TR_ECORRUPT;
    d->lows_bits = o = lows;
    /* The leading bits of every first position have widths known from the
     * lengths: independent loads at offsets summed from them. Whether a
     * first position has a last bit (a coin toss) is known once its leading
     * bits are: those bits follow all the leading bits (whose total width
     * W the layout summed), one per such run, so one pass reads both. No
     * branch on either. Peeks may pass the payload (never rend); the
     * offsets are checked after the loop. */
    uint64_t lb = lows + W;   /* the next last bit */
    if (lb > end) return TR_ECORRUPT;
    for (int r = 0; r < nr; r++) {
        unsigned w = d->lead[r];
        uint64_t y = peek_bits(d, o) & ((1ull << w) - 1);
        uint64_t big = y >= d->u[r], mb = 0 - big;
        uint64_t bit = peek_bits(d, lb < end ? lb : 0) & 1;
        uint64_t x = ((((y << 1) | bit) - d->u[r]) & mb) | (y & ~mb);
        d->first[r] = (uint32_t)x;   /* < R <= L: fits */
        o += w;
        lb += big;
    }
    o = lb;
    if (o > end) return TR_ECORRUPT;
    d->unary_at = o;
    return TR_OK;
}

/* Scan the unary section from bit *at for want quotients, skipping the
 * first skip of them, writing the rest (min(q, 2^32 - 1)) to quot. *at
 * becomes the bit after the last one read. all: the section must end
 * there (the payload's last byte holds its last one; no one follows).
 * Inlined into a build with and one without the popcnt instruction (the
 * skip counts ones a word at a time: libgcc's popcount was 3% of a phrase
 * query with a common word). */
/* The bit index of the r-th one (r >= 1) of w, which has at least r: with
 * BMI2's pdep (written as asm so that every build compiles it; run only
 * where the CPU has BMI2) one deposit, else a bit clear per one. */
static inline __attribute__((always_inline)) unsigned nth_one(uint64_t w, uint64_t r, int bmi2)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (bmi2) {
        uint64_t x;
        __asm__("pdepq %2, %1, %0" : "=r"(x) : "r"(1ull << (r - 1)), "r"(w));
        return (unsigned)__builtin_ctzll(x);
    }
#else
    (void)bmi2;
#endif
    for (; r > 1; r--) w &= w - 1;
    return (unsigned)__builtin_ctzll(w);
}

static inline __attribute__((always_inline)) int unary_scan(const pos_src *d, uint64_t *at,
                                                            uint64_t skip, uint64_t want,
                                                            uint32_t *quot, int all, int bmi2)
{
    const uint64_t end = (uint64_t)d->len * 8;
    uint64_t base = *at, prev = base - 1, g = 0;  /* prev: the last one seen (mod 2^64) */
    const uint64_t total = skip + want;
    while (g < total) {
        if (base >= end) return TR_ECORRUPT;
        uint64_t valid = end - base < 56 ? end - base : 56;
        uint64_t w = peek_at(d->p, d->rend, base) & ((1ull << valid) - 1);
        /* whole words of quotients to skip: count them at once */
        if (g < skip) {
            unsigned c = (unsigned)__builtin_popcountll(w);
            if (g + c <= skip) {
                if (c) prev = base + 63 - (uint64_t)__builtin_clzll(w);
                g += c;
                base += valid;
                continue;
            }
            /* the skip ends in this window: drop its ones up to the last
             * one skipped (at most 56 bits valid: the shift stays below 64) */
            unsigned z = nth_one(w, skip - g, bmi2);
            prev = base + z;
            w &= ~0ull << z << 1;
            g = skip;
        }
        /* as many of the window's ones as are still wanted, counted first
         * (no test per one of whether it is skipped or past the end) */
        uint64_t c = (uint64_t)__builtin_popcountll(w), take = total - g < c ? total - g : c;
        uint32_t *out = quot + (g - skip);
        for (uint64_t t = 0; t < take; t++) {
            uint64_t one = base + (uint64_t)__builtin_ctzll(w);
            uint64_t q = one - prev - 1;
            out[t] = q > UINT32_MAX ? UINT32_MAX : (uint32_t)q;
            prev = one;
            w &= w - 1;
        }
        g += take;
        if (all && w) return TR_ECORRUPT;   /* a one in the padding */
        base += valid;
    }
    *at = prev + 1;
    if (all && (prev + 1 + 7) / 8 != d->len) return TR_ECORRUPT;
    return TR_OK;
}

static int unary_portable(const pos_src *d, uint64_t *at, uint64_t skip, uint64_t want,
                          uint32_t *quot, int all)
{
    return unary_scan(d, at, skip, want, quot, all, 0);
}

#if POS_AVX2
__attribute__((target("popcnt")))
static int unary_popcnt(const pos_src *d, uint64_t *at, uint64_t skip, uint64_t want,
                        uint32_t *quot, int all)
{
    return unary_scan(d, at, skip, want, quot, all, 0);
}
#endif

static int pos_unary(const pos_src *d, uint64_t *at, uint64_t skip, uint64_t want,
                     uint32_t *quot, int all)
{
#if POS_AVX2
    if (__builtin_cpu_supports("popcnt")) return unary_popcnt(d, at, skip, want, quot, all);
#endif
    return unary_portable(d, at, skip, want, quot, all);
}

static int pos_dec_unary(const pos_dec *d, uint64_t *at, uint64_t skip, uint64_t want,
                         uint32_t *quot, int all)
{
    pos_src s = { d->p, d->rend, d->len };
    return pos_unary(&s, at, skip, want, quot, all);
}

/* All total positions of the block into pos, whose [nr, total) holds the
 * quotients in order. Runs are mostly 1-3 positions long, so a loop per
 * run would mispredict its exit about once a run: instead one pass over
 * the positions, in windows of POS_WINDOW whose run starts are marked
 * first; at a start the run's parameter, length and first position are
 * taken, elsewhere a gap is added (its low bits at an offset growing by k,
 * its quotient the next one). Selects, no branch per position. A quotient
 * is read before its slot, or a later one, is written (a position's index
 * is at most nr + its gap index). TR_ECORRUPT when a position reaches its
 * field's length. */
#define POS_WINDOW 128
static int pos_dec_flat(const pos_dec *d, size_t total, uint32_t *pos)
{
    const uint8_t *p = d->p;
    const size_t avail = (size_t)(d->rend - p);  /* bytes a load may touch */
    uint8_t st[POS_WINDOW], kk[POS_WINDOW];
    uint32_t fl[POS_WINDOW], ll[POS_WINDOW];
    memset(kk, 0, sizeof kk);
    memset(fl, 0, sizeof fl);
    memset(ll, 0, sizeof ll);
    uint64_t lo = 0, x = 0, L = 0, bad = 0;
    size_t g = (size_t)d->nr;
    unsigned k = 0;
    int r = 0;
    for (size_t w0 = 0; w0 < total; w0 += POS_WINDOW) {
        size_t len = total - w0 < POS_WINDOW ? total - w0 : POS_WINDOW;
        memset(st, 0, sizeof st);
        for (; r < d->nr && d->runs[r].start < w0 + len; r++) {
            size_t j = d->runs[r].start - w0;
            st[j] = 1;
            kk[j] = (uint8_t)d->runs[r].k;
            fl[j] = d->first[r];
            ll[j] = d->runs[r].L;
        }
        uint32_t *out = pos + w0;
        /* masks, not ?: (which the compiler turns into branches that
         * mispredict at every other run start) */
        for (size_t j = 0; j < len; j++) {
            const uint64_t s = st[j], ms = 0 - s;
            k = (unsigned)((kk[j] & ms) | (k & ~ms));
            L = (ll[j] & ms) | (L & ~ms);
            size_t byte = (size_t)(lo >> 3);
            uint64_t w = byte + 8 <= avail ? load64_le(p + byte) : load64_tail(p + byte, d->rend);
            uint64_t low = (w >> (lo & 7)) & ((1ull << k) - 1);
            uint64_t q = pos[g < total ? g : total - 1];
            uint64_t next = x + ((q << k) | low) + 1;
            x = (fl[j] & ms) | (next & ~ms);
            lo += k & ~ms;
            g += 1 - s;
            bad |= x >= L;
            out[j] = (uint32_t)x;
        }
    }
    return bad ? TR_ECORRUPT : TR_OK;
}

/* ---- opening and decoding ------------------------------------------------ */

/* Where one stream of a doc-block is: its width, its packed low parts and
 * its exceptions (nexc = 0: none). */
typedef struct stream_ref {
    const uint8_t *lows, *idx, *highs;
    unsigned b, wexc, nexc;
} stream_ref;

/* The three streams of a doc-block; has_ttf = 0 means every ttf is 0. */
typedef struct doc_block_ref {
    stream_ref s[3];
    int has_ttf;
} doc_block_ref;

/* Parse the stream whose head byte is head and whose lows start at p, within
 * [p, end): returns the byte after it, or NULL when a width or count is out
 * of range or it does not fit. */
static const uint8_t *parse_stream(const uint8_t *p, const uint8_t *end, uint32_t n,
                                   unsigned head, stream_ref *s)
{
    s->b = head & HEAD_WIDTH;
    s->nexc = 0;
    if (s->b > MAX_WIDTH) return NULL;
    size_t lb = tr_packed_size(n, s->b);
    if (lb > (size_t)(end - p)) return NULL;
    s->lows = p;
    p += lb;
    if (head & HEAD_EXCEPTIONS) {
        if (end - p < 2) return NULL;
        unsigned cnt = p[0], w = p[1];
        /* b + w <= 32: a patched value fits 32 bits */
        if (cnt < 1 || cnt > n || w < 1 || w > MAX_WIDTH - s->b) return NULL;
        p += 2;
        size_t need = cnt + tr_packed_size(cnt, w);
        if (need > (size_t)(end - p)) return NULL;
        s->idx = p;
        s->highs = p + cnt;
        s->nexc = cnt;
        s->wexc = w;
        p += need;
    }
    return p;
}

/* Parse a doc-block of n postings at p (avail bytes there): its length, or
 * 0 when it is malformed or does not fit. */
static size_t doc_block_parse(const uint8_t *p, size_t avail, uint32_t n, doc_block_ref *r)
{
    const uint8_t *q = p, *end = p + avail;
    if (q >= end) return 0;
    unsigned hg = *q++;
    if (!(q = parse_stream(q, end, n, hg, &r->s[0])) || q >= end) return 0;
    unsigned ht = *q++;
    if ((ht & HEAD_HAS_TTF) || !(q = parse_stream(q, end, n, ht, &r->s[1]))) return 0;
    r->has_ttf = (hg & HEAD_HAS_TTF) != 0;
    if (r->has_ttf) {
        if (q >= end) return 0;
        unsigned hh = *q++;
        if ((hh & HEAD_HAS_TTF) || !(q = parse_stream(q, end, n, hh, &r->s[2]))) return 0;
    }
    return (size_t)(q - p);
}

/* Unpack stream s (n values) into out, each plus add (0 or 1), reading at
 * most up to rend. Returns the width of its values (b plus the exceptions'
 * width), or -1 when an exception index is out of order or range. out
 * has room for TR_BLOCK_DOCS values, all of which may be written. */
static int unpack_stream(const stream_ref *s, uint32_t n, uint32_t *out, unsigned add,
                         const uint8_t *rend)
{
    const unsigned b = s->b, nexc = s->nexc;
    if (add) tr_bitpack_unpack_plus1(out, s->lows, n, b, (size_t)(rend - s->lows));
    else tr_bitpack_unpack_avail(out, s->lows, n, b, (size_t)(rend - s->lows));
    if (!nexc) return (int)b;
    /* The high parts are unpacked together, rounded up to a multiple of 8
     * values when the bytes are there (a partial group of the unpacker
     * goes through a padded copy, which cost more than the patching), then
     * added in place, once the indexes are known to be in order and in
     * range. */
    const unsigned w = s->wexc;
    const uint8_t *idx = s->idx;
    uint32_t hi[TR_BLOCK_DOCS];
    size_t avail = (size_t)(rend - s->highs);
    unsigned n8 = (nexc + 7) & ~7u;
    tr_bitpack_unpack_avail(hi, s->highs, tr_packed_size(n8, w) + 32 <= avail ? n8 : nexc, w, avail);
    /* strictly increasing and the last below n (then all are): a loop
     * that vectorises, so the patching loop is a load, shift and add an
     * exception (checked inside it: q300 unions 0.993x the instructions) */
    unsigned bad = idx[nexc - 1] >= n;
    for (unsigned j = 1; j < nexc; j++) bad |= idx[j] <= idx[j - 1];
    if (bad) return -1;
    for (unsigned j = 0; j < nexc; j++) out[idx[j]] += hi[j] << b;
    return (int)(b + w);
}

/* Unpack the tf and ttf arrays of a block (shared with positions decode). */
static int decode_tf(const doc_block_ref *r, uint32_t n, uint32_t *tf, uint32_t *ttf,
                     const uint8_t *rend)
{
    const stream_ref *s = &r->s[1];
    int w = (int)s->b;
    /* no exceptions (nearly every tf stream): the unpacker straight away */
    if (s->nexc) w = unpack_stream(s, n, tf, 1, rend);
    else tr_bitpack_unpack_plus1(tf, s->lows, n, s->b, (size_t)(rend - s->lows));
    if (w < 0) return TR_ECORRUPT;
    uint32_t bad = 0;
    if (w == 32) /* only a 32-bit tf - 1 can wrap tf to 0 */
        for (uint32_t i = 0; i < n; i++) bad |= tf[i] == 0;
    if (!r->has_ttf) {
        /* no title hits in the block (the usual case): nothing to check */
        memset(ttf, 0, n * sizeof *ttf);
    } else {
        if (unpack_stream(&r->s[2], n, ttf, 0, rend) < 0) return TR_ECORRUPT;
        for (uint32_t i = 0; i < n; i++) bad |= ttf[i] > tf[i];
    }
    return bad ? TR_ECORRUPT : TR_OK;
}

/* The compact form from its flags byte at p to end (the checksum, if any,
 * already verified and excluded). */
static int parse_compact(tr_chunk *c, const uint8_t *p, const uint8_t *end)
{
    if (p >= end) return TR_ECORRUPT;
    uint8_t flags = p[0];
    unsigned npoints = (flags >> 1) & 7;
    if ((flags & ~0x0F) || npoints < 1 || npoints > TR_BOUND_POINTS) return TR_ECORRUPT;
    const uint8_t *q = p + 1;
    uint64_t first, span = 0, v;
    if (tr_get_varint(&q, end, &first) || first >= TR_DOC_END) return TR_ECORRUPT;
    if (q >= end) return TR_ECORRUPT;
    uint32_t ndocs = (uint32_t)*q++ + 1;
    if (ndocs > 1 && (tr_get_varint(&q, end, &span) || span < ndocs - 1)) return TR_ECORRUPT;
    if (first + span >= TR_DOC_END) return TR_ECORRUPT;
    memset(&c->bound, 0, sizeof c->bound);
    c->bound.npoints = (uint8_t)npoints;
    if (ndocs == 1) {
        if (npoints != 1 || tr_get_varint(&q, end, &v) || v > TR_SAT16) return TR_ECORRUPT;
        c->bound.pt[0].dl = (uint16_t)v;
    } else {
        if (tr_get_varint(&q, end, &v) || v > TR_SAT16) return TR_ECORRUPT;
        c->bound.max_ttf = (uint16_t)v;
        for (unsigned i = 0; i < npoints; i++) {
            uint64_t t, d;
            if (tr_get_varint(&q, end, &t) || t > TR_SAT16) return TR_ECORRUPT;
            if (tr_get_varint(&q, end, &d) || d > TR_SAT16) return TR_ECORRUPT;
            c->bound.pt[i].tf = (uint16_t)t;
            c->bound.pt[i].dl = (uint16_t)d;
        }
    }
    doc_block_ref r;
    size_t dlen = doc_block_parse(q, (size_t)(end - q), ndocs, &r);
    if (!dlen) return TR_ECORRUPT;
    if (ndocs == 1) {
        uint32_t tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS]; /* unpack_stream's room */
        if (decode_tf(&r, 1, tf, ttf, end)) return TR_ECORRUPT;
        c->bound.max_ttf = sat16(ttf[0]);
        c->bound.pt[0].tf = sat16(tf[0]);
    }
    c->has_positions = flags & FLAG_POSITIONS;
    c->nblocks = 1;
    c->ndocs = ndocs;
    c->first_doc = (uint32_t)first;
    c->last_doc = (uint32_t)(first + span);
    c->dir = NULL;
    c->docdata = q;
    c->doclen = dlen;
    c->posdata = q + dlen;
    c->poslen = (size_t)(end - (q + dlen));
    if (!c->has_positions && c->poslen) return TR_ECORRUPT;
    return TR_OK;
}

static int open_compact(tr_chunk *c, const uint8_t *p, size_t len)
{
    if (len < 2 + 4) return TR_ECORRUPT;
    size_t body = len - 4;
    if (tr_get_le32(p + body) != tr_csum32(p, body)) return TR_ECORRUPT;
    return parse_compact(c, p + 1, p + body);
}

static int check_full_dir(const uint8_t *p, const uint8_t *dir, dir_layout l, uint32_t nblocks,
                          uint32_t ndocs, uint32_t first, uint64_t last, uint64_t doclen,
                          uint64_t poslen);

static int open_full(tr_chunk *c, const uint8_t *p, size_t len)
{
    if (len < FULL_HEADER_BYTES) return TR_ECORRUPT;
    unsigned flags = p[1];
    if ((flags & ~(FLAG_POSITIONS | FLAG_DOC_OFF16 | FLAG_POS_OFF16)) ||
        (!(flags & FLAG_POSITIONS) && (flags & FLAG_POS_OFF16)) ||
        p[2] < 1 || p[2] > TR_BOUND_POINTS)
        return TR_ECORRUPT;
    uint32_t ndocs = tr_get_le32(p + 3), first = tr_get_le32(p + 7);
    if (ndocs == 0 || first >= TR_DOC_END) return TR_ECORRUPT;
    uint32_t nblocks = (uint32_t)(((uint64_t)ndocs + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS);
    dir_layout l = layout_of(flags);
    uint64_t dirlen = (uint64_t)l.stride * nblocks;
    if (FULL_HEADER_BYTES + dirlen > len) return TR_ECORRUPT;
    const uint8_t *dir = p + FULL_HEADER_BYTES;
    /* The last entry ends both areas and the chunk. */
    const uint8_t *le = dir + (size_t)l.stride * (nblocks - 1);
    uint64_t last = tr_get_le32(le), doclen = get_off(le + 4, l.docw),
             poslen = get_off(le + 4 + l.docw, l.posw);
    if (FULL_HEADER_BYTES + dirlen + doclen + poslen != len) return TR_ECORRUPT;
    if (last >= TR_DOC_END || first > last || last - first < ndocs - 1) return TR_ECORRUPT;
    const size_t hd = FULL_HEADER_BYTES + (size_t)dirlen;
    const uint32_t want = tr_get_le32(p + FULL_CSUM_OFFSET);
    if (!tr_vseen_has(c->vs, p, hd, want)) {
        int rc = check_full_dir(p, dir, l, nblocks, ndocs, first, last, doclen, poslen);
        if (rc) return rc;
        tr_vseen_note(c->vs, p, hd, want);
    }
    c->has_positions = flags & FLAG_POSITIONS;
    c->nblocks = nblocks;
    c->ndocs = ndocs;
    c->first_doc = first;
    c->last_doc = (uint32_t)last;
    get_bound_fixed(p + 13, p[2], tr_get_le16(p + 11), &c->bound);
    c->dir = dir;
    c->dir_stride = (uint8_t)l.stride;
    c->dir_flags = (uint8_t)flags;
    c->docdata = dir + dirlen;
    c->doclen = (size_t)doclen;
    c->posdata = c->docdata + doclen;
    c->poslen = (size_t)poslen;
    return TR_OK;
}

/* A full chunk's header and directory checksum, and its directory: every
 * entry's last doc and offsets in order and in range. The checksum catches
 * accidents; the checks make a forged directory harmless: every later
 * access relies on them. Both depend on the bytes alone, so a chunk found
 * sound once in a snapshot (vseen.h) is not checked again there. */
static int check_full_dir(const uint8_t *p, const uint8_t *dir, dir_layout l, uint32_t nblocks,
                          uint32_t ndocs, uint32_t first, uint64_t last, uint64_t doclen,
                          uint64_t poslen)
{
    uint64_t dirlen = (uint64_t)l.stride * nblocks;
    uint64_t seed = tr_hash64(p, FULL_CSUM_OFFSET);
    if ((uint32_t)tr_hash64_seed(dir, (size_t)dirlen, seed) != tr_get_le32(p + FULL_CSUM_OFFSET))
        return TR_ECORRUPT;
    uint64_t base = first, prev_doc_end = 0, prev_pos_end = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        const uint8_t *e = dir + (size_t)l.stride * b;
        uint32_t n = b + 1 < nblocks ? TR_BLOCK_DOCS : ndocs - (nblocks - 1) * TR_BLOCK_DOCS;
        uint64_t bl = tr_get_le32(e), de = get_off(e + 4, l.docw), pe = get_off(e + 4 + l.docw, l.posw);
        if (bl < base + n - 1 || bl > last) return TR_ECORRUPT;
        /* a doc-block has at least its gap and tf heads */
        if (de < prev_doc_end + 2 || de > doclen) return TR_ECORRUPT;
        if (pe < prev_pos_end || pe > poslen) return TR_ECORRUPT;
        if (bound_codes_npoints(e + l.bound) < 1) return TR_ECORRUPT;
        base = bl + 1;
        prev_doc_end = de;
        prev_pos_end = pe;
    }
    if (base - 1 != last) return TR_ECORRUPT;
    return TR_OK;
}

/* The end of both opens: c holds the chunk at p, or nothing after an error. */
static int opened(tr_chunk *c, const uint8_t *p, size_t len, int rc)
{
    if (rc) {
        memset(c, 0, sizeof *c);
        return rc;
    }
    c->data = p;
    c->len = len;
    return TR_OK;
}

int tr_chunk_open(tr_chunk *c, const void *data, size_t len)
{
    return tr_chunk_open_seen(c, data, len, NULL);
}

int tr_chunk_open_seen(tr_chunk *c, const void *data, size_t len, tr_vseen *vs)
{
    memset(c, 0, sizeof *c);
    c->vs = vs;
    const uint8_t *p = data;
    if (!p || len < 1) return TR_ECORRUPT;
    int rc;
    if (p[0] == FORMAT_FULL) rc = open_full(c, p, len);
    else if (p[0] == FORMAT_COMPACT) rc = open_compact(c, p, len);
    else rc = TR_ECORRUPT;
    return opened(c, p, len, rc);
}

static void block_slices(const tr_chunk *c, uint32_t b, const uint8_t **dp, size_t *dn,
                         const uint8_t **pp, size_t *pn);

size_t tr_chunk_inline_form(uint8_t *chunk, size_t len)
{
    if (len < 2 + 4 || chunk[0] != FORMAT_COMPACT) return 0;
    memmove(chunk, chunk + 1, len - 5);
    return len - 5;
}

int tr_chunk_open_inline(tr_chunk *c, const void *data, size_t len)
{
    memset(c, 0, sizeof *c);
    const uint8_t *p = data;
    if (!p || len < 1) return TR_ECORRUPT;
    return opened(c, p, len, parse_compact(c, p, p + len));
}

static const uint8_t *dir_entry(const tr_chunk *c, uint32_t b)
{
    return c->dir + (size_t)c->dir_stride * b;
}

uint32_t tr_chunk_block_last(const tr_chunk *c, uint32_t b)
{
    if (b >= c->nblocks) return TR_DOC_END;
    return c->dir ? tr_get_le32(dir_entry(c, b)) : c->last_doc;
}

uint32_t tr_chunk_block_count(const tr_chunk *c, uint32_t b)
{
    if (b >= c->nblocks) return 0;
    return b + 1 < c->nblocks ? TR_BLOCK_DOCS : c->ndocs - (c->nblocks - 1) * TR_BLOCK_DOCS;
}

size_t tr_chunk_block_bytes(const tr_chunk *c, uint32_t b)
{
    if (b >= c->nblocks) return 0;
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    return dn + pn;
}

void tr_chunk_block_bound(const tr_chunk *c, uint32_t b, tr_bound *out)
{
    if (b >= c->nblocks) {
        memset(out, 0, sizeof *out);
        return;
    }
    if (!c->dir) {
        *out = c->bound;
        return;
    }
    get_bound_codes(dir_entry(c, b) + layout_of(c->dir_flags).bound, out);
}

/* The doc-block and pos-block slices of block b. */
static void block_slices(const tr_chunk *c, uint32_t b, const uint8_t **dp, size_t *dn,
                         const uint8_t **pp, size_t *pn)
{
    if (!c->dir) {
        *dp = c->docdata; *dn = c->doclen;
        *pp = c->posdata; *pn = c->poslen;
        return;
    }
    dir_layout l = layout_of(c->dir_flags);
    const uint8_t *e = dir_entry(c, b), *pe = e - l.stride;
    uint32_t d0 = b ? get_off(pe + 4, l.docw) : 0;
    uint32_t p0 = b ? get_off(pe + 4 + l.docw, l.posw) : 0;
    *dp = c->docdata + d0; *dn = get_off(e + 4, l.docw) - d0;
    *pp = c->posdata + p0; *pn = get_off(e + 4 + l.docw, l.posw) - p0;
}

/* The stored checksum of block b's doc (which = 0) or positions payload. */
static uint32_t block_csum(const tr_chunk *c, uint32_t b, int which)
{
    dir_layout l = layout_of(c->dir_flags);
    return tr_get_le32(dir_entry(c, b) + (which ? l.pos_csum : l.doc_csum));
}

/* The stored checksum of a doc-block, by directory flags (dir_layout's
 * doc_csum): after last_doc and the doc and positions end offsets. */
static const uint8_t doc_csum_at[8] = {
    [0] = 4 + 4, [FLAG_POSITIONS] = 4 + 4 + 4, [FLAG_DOC_OFF16] = 4 + 2,
    [FLAG_POSITIONS | FLAG_DOC_OFF16] = 4 + 2 + 4, [FLAG_POS_OFF16] = 4 + 4,
    [FLAG_POSITIONS | FLAG_POS_OFF16] = 4 + 4 + 2, [FLAG_DOC_OFF16 | FLAG_POS_OFF16] = 4 + 2,
    [FLAG_POSITIONS | FLAG_DOC_OFF16 | FLAG_POS_OFF16] = 4 + 2 + 2,
};

/* Block b's doc-block slice, its last doc and its base (the doc its first
 * gap counts from), straight from the directory entry: the straight walk
 * decodes every block, and block_slices, tr_chunk_block_count and
 * tr_chunk_block_last, each checking b and laying out the entry again,
 * cost it ~150 instructions a block. b < c->nblocks. Returns the stored
 * checksum of the doc-block (unused without a directory). */
static inline uint32_t doc_block_at(const tr_chunk *c, uint32_t b, const uint8_t **dp, size_t *dn,
                                    uint32_t *last, uint64_t *base)
{
    if (!c->dir) {
        *dp = c->docdata;
        *dn = c->doclen;
        *last = c->last_doc;
        *base = c->first_doc;
        return 0;
    }
    const uint8_t *e = dir_entry(c, b);
    int off16 = (c->dir_flags & FLAG_DOC_OFF16) != 0;
    uint32_t d0 = 0, d1 = off16 ? tr_get_le16(e + 4) : tr_get_le32(e + 4);
    *base = c->first_doc;
    if (b) {
        const uint8_t *pe = e - c->dir_stride;  /* the previous entry */
        d0 = off16 ? tr_get_le16(pe + 4) : tr_get_le32(pe + 4);
        *base = (uint64_t)tr_get_le32(pe) + 1;
    }
    *dp = c->docdata + d0;
    *dn = d1 - d0;
    *last = tr_get_le32(e);
    return tr_get_le32(e + doc_csum_at[c->dir_flags & 7]);
}

int tr_chunk_block_decode(const tr_chunk *c, uint32_t b, int verify,
                          uint32_t *docs, uint32_t *tf, uint32_t *ttf)
{
    if (b >= c->nblocks) return TR_ECORRUPT;
    uint32_t n = b + 1 < c->nblocks ? TR_BLOCK_DOCS : c->ndocs - (c->nblocks - 1) * TR_BLOCK_DOCS;
    const uint8_t *dp;
    size_t dn;
    uint32_t last;
    uint64_t base;
    uint32_t csum = doc_block_at(c, b, &dp, &dn, &last, &base);
    doc_block_ref r;
    if (doc_block_parse(dp, dn, n, &r) != dn) return TR_ECORRUPT;
    if (verify && c->dir && tr_csum32(dp, dn) != csum) return TR_ECORRUPT;
    /* the doc and position areas are contiguous: loads may run on to the end */
    const uint8_t *rend = c->posdata + c->poslen;
    /* base <= last_doc < 2^32 - 1 for a block after the first (the
     * directory's last docs increase) */
    if (base > UINT32_MAX) return TR_ECORRUPT;
    /* Gaps are non-negative and the last doc is computed in 64 bits, so
     * reaching exactly the stored last doc proves every doc id is in range
     * and increasing. Without exceptions (most blocks) the gaps are
     * unpacked and summed in one pass. */
    uint64_t d;
    if (r.s[0].nexc == 0) {
        d = tr_bitpack_unpack_docs(docs, r.s[0].lows, n, r.s[0].b, (size_t)(rend - r.s[0].lows),
                                   (uint32_t)base);
    } else {
        int w = unpack_stream(&r.s[0], n, docs, 0, rend);
        if (w < 0) return TR_ECORRUPT;
        d = tr_bitpack_gaps_to_docs(docs, n, (uint32_t)base, (unsigned)w);
    }
    if (d != last) return TR_ECORRUPT;
    if (b == 0 && docs[0] != c->first_doc) return TR_ECORRUPT;
    if (tf && decode_tf(&r, n, tf, ttf, rend)) return TR_ECORRUPT;
    return (int)n;
}

int tr_chunk_block_positions(const tr_chunk *c, uint32_t b, int verify,
                             const uint32_t *tf, uint32_t n,
                             const uint32_t *tl, const uint32_t *bl,
                             uint32_t *pos, size_t cap)
{
    if (b >= c->nblocks || !c->has_positions) return TR_ECORRUPT;
    uint32_t cnt = tr_chunk_block_count(c, b);
    if (n != cnt || !tl || !bl) return TR_EINPUT;
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    doc_block_ref blk;
    if (doc_block_parse(dp, dn, n, &blk) != dn) return TR_ECORRUPT;
    if (verify && c->dir && tr_csum32(pp, pn) != block_csum(c, b, 1)) return TR_ECORRUPT;
    /* The title/body split needs ttf, which the caller does not pass. */
    uint32_t mytf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    const uint8_t *rend = c->posdata + c->poslen; /* readable: see block_decode */
    if (decode_tf(&blk, n, mytf, ttf, rend)) return TR_ECORRUPT;
    uint64_t total = 0;
    uint32_t differ = 0;  /* no early exit: the loop vectorises */
    for (uint32_t i = 0; i < n; i++) {
        differ |= tf[i] != mytf[i];
        total += tf[i];
    }
    if (differ) return TR_EINPUT;
    if (total > cap) return TR_ELIMIT;
    if (total > MAX_BLOCK_POSITIONS) return TR_ECORRUPT;
    pos_dec d;
    if (pos_dec_open(&d, pp, pn, rend, tf, ttf, tl, bl, n)) return TR_ECORRUPT;
    uint64_t at = d.unary_at;
    if (pos_dec_unary(&d, &at, 0, total - (uint64_t)d.nr, pos + d.nr, 1)) return TR_ECORRUPT;
    if (pos_dec_flat(&d, (size_t)total, pos)) return TR_ECORRUPT;
    return (int)total;
}

/* One block's positions set up for single postings. Laid out per posting
 * (its title run and its body run, either possibly empty) rather than per
 * run as a whole-block decode does: a set-up serves one to three postings
 * of a common word's block in a phrase query. The set-up works out each
 * posting's parameters and where its bits start: its gaps and low bits,
 * its first positions' leading bits, and, the one thing that takes the
 * payload's bits, its last bits (one for each earlier first position whose
 * leading bits are not below u: the leading bits are compared, eight at a
 * time with AVX2, and counted). A posting's first positions are read when
 * it is asked for, and the unary scan goes on from where the last posting
 * asked for stopped, so postings asked for in order scan the quotients
 * once between them. (The set-up used to read every first position and
 * scan the whole unary section: 56% of a phrase COUNT with a common word;
 * see tr_pos_block_open for what is still checked.) The vector set-up
 * reads the last bits only up to the posting asked for (a phrase's common
 * word asks for the first two thirds of a block on average: 68.5% of the
 * eight-posting steps on the peers' phrase COUNTs), and only when that
 * posting's first positions have one, and finds the quotients from the
 * payload's end, which does not depend on the last bits; the block's last
 * posting finishes it. */
#define POS_UNARY_WORDS 64   /* 4,096 bits: a block of a common word needs a few hundred */
struct tr_pos_block {
    pos_src s;
    uint32_t n;
    int fast_cpu;           /* AVX2, BMI2 and POPCNT: the set-up's vector build */
    int fast_loads;         /* 8 bytes readable past the payload: no tail checks */
    int anytitle;           /* some posting has title positions (lazy set-up) */
    uint64_t lows_bits;     /* the leading bits start here */
    uint64_t lasts_at;      /* the last bits start here */
    uint64_t unary_at;      /* known once complete */
    uint64_t ubit, useen;   /* the bit after the useen-th one (ubit UINT64_MAX: none yet) */
    /* The vector set-up is lazy (complete = 0): it works out every
     * posting's parameters, where its bits start and the sections' sizes,
     * but the last bits before a posting's (bigs0) only for [0, bigsupto),
     * extended as postings are asked for (cnb: the count so far); a
     * posting's quotients are found from the payload's end (rcum), where
     * the unary section ends, since where it starts depends on every
     * posting's last bits. complete = 1: laid out in full and checked as
     * pos_block_finish says. */
    int complete;
    uint32_t bigsupto, cnb, gtot;
    /* ones in the payload's last 8w bytes (rcum[w], w <= nrc) */
    uint32_t nrc;
    uint32_t rcum[POS_UNARY_WORDS + 1];
    /* ones of the unary section before each of its first 64-bit words
     * (word w: bytes from (unary_at >> 3) + 8w), counted by the set-up's
     * check: a posting's scan starts at the word of its first quotient */
    uint32_t nucum;
    uint32_t ucum[POS_UNARY_WORDS];
    /* the block's tf, ttf and field lengths, borrowed from the caller of
     * tr_pos_block_open until the next open (a posting's runs are ttf and
     * tf - ttf long; open checked those against the lengths) */
    const uint32_t *tf, *ttf, *tL, *bL;
    uint32_t tk[TR_BLOCK_DOCS], bk[TR_BLOCK_DOCS];   /* Rice parameters (tk: where tm > 0) */
    /* leading-bit widths and truncated binary's u of each posting's runs:
     * width 0 and u UINT32_MAX where there is no run (or R = 1) */
    uint32_t tw[TR_BLOCK_DOCS], tu[TR_BLOCK_DOCS], bw[TR_BLOCK_DOCS], bu[TR_BLOCK_DOCS];
    uint32_t lead0[TR_BLOCK_DOCS];                   /* leading bits before each posting's */
    uint32_t bigs0[TR_BLOCK_DOCS + 1];               /* last bits before each posting's */
    uint32_t gaps0[TR_BLOCK_DOCS + 1];               /* gaps before each posting */
    uint64_t lows0[TR_BLOCK_DOCS + 1];               /* low bits before each posting */
};

tr_pos_block *tr_pos_block_new(void) { return malloc(sizeof(tr_pos_block)); }
void tr_pos_block_free(tr_pos_block *pb) { free(pb); }

/* The 64 bits from bit o of p on when p + (o >> 3) + 8 is readable. */
static inline uint64_t peek_fast(const uint8_t *p, uint64_t o)
{
    return load64_le(p + (o >> 3)) >> (o & 7);
}

/* A first position: its b - 1 leading bits (width w) at bit *o, compared
 * with u, and when not below u the last bit at *lb; both offsets move on.
 * No branch. fast: every load stays 8 bytes before rend (no tail check). */
static inline __attribute__((always_inline)) uint32_t read_first(const pos_src *s, uint64_t *o,
                                                                 uint64_t *lb, uint64_t end,
                                                                 unsigned w, uint32_t u, int fast)
{
    uint64_t lbs = *lb < end ? *lb : 0;
    uint64_t y = (fast ? peek_fast(s->p, *o) : peek_at(s->p, s->rend, *o)) & ((1ull << w) - 1);
    uint64_t big = y >= u, mb = 0 - big;
    uint64_t bit = (fast ? peek_fast(s->p, lbs) : peek_at(s->p, s->rend, lbs)) & 1;
    *o += w;
    *lb += big;
    return (uint32_t)(((((y << 1) | bit) - u) & mb) | (y & ~mb));
}

/* Does a first position (leading bits of width w at bit o, u) have a last
 * bit? */
static inline __attribute__((always_inline)) uint32_t has_last(const pos_src *s, uint64_t o,
                                                               unsigned w, uint32_t u, int fast)
{
    uint64_t y = (fast ? peek_fast(s->p, o) : peek_at(s->p, s->rend, o)) & ((1ull << w) - 1);
    return y >= u;
}

/* Ones in bits [from, end) of the payload (end = its length in bits), a
 * 64-bit word at a time from from's byte on; the counts before each of the
 * first POS_UNARY_WORDS words go to pb->ucum. */
static inline __attribute__((always_inline)) uint64_t unary_ones(tr_pos_block *pb, uint64_t from)
{
    const pos_src *s = &pb->s;
    const size_t len = s->len;
    size_t byte = (size_t)(from >> 3);
    uint64_t c = 0;
    uint32_t w = 0;
    for (; byte < len; byte += 8, w++) {
        uint64_t x = byte + 8 <= len ? load64_le(s->p + byte) : load64_tail(s->p + byte, s->p + len);
        if (w == 0) x &= ~0ull << (from & 7);
        if (w < POS_UNARY_WORDS) pb->ucum[w] = (uint32_t)c;
        c += (uint64_t)__builtin_popcountll(x);
    }
    pb->nucum = w < POS_UNARY_WORDS ? w : POS_UNARY_WORDS;
    return c;
}

/* The end of a set-up, both builds: where the last bits and the unary
 * section start (nb last bits in all, g gaps). The block's sections must
 * add up to its bytes exactly, as a whole decode checks: without gaps the
 * block ends in the byte of its last bit; with gaps the unary section
 * holds one one per gap (a popcount of its words) and ends in the
 * payload's last byte. Lengths that do not match the bits (a damaged
 * norm) mostly show here, before a posting's positions are trusted. */
static inline __attribute__((always_inline)) int pos_block_finish(tr_pos_block *pb, uint64_t lows,
                                                                  uint64_t W, uint64_t nb, uint64_t g)
{
    const pos_src *s = &pb->s;
    const uint64_t end = (uint64_t)s->len * 8;
    uint64_t at = lows + W + nb;
    if (at > end) return TR_ECORRUPT;
    if (g == 0 ? (at + 7) / 8 != s->len
               : at >= end || s->p[s->len - 1] == 0 || unary_ones(pb, at) != g) return TR_ECORRUPT;
    pb->lows_bits = lows;
    pb->lasts_at = lows + W;
    pb->unary_at = at;
    if (g == 0) pb->nucum = 0;
    pb->ubit = at;
    pb->useen = 0;
    pb->complete = 1;
    return TR_OK;
}

/* The set-up proper (see tr_pos_block_open) of the pos-block [pp, pp + pn)
 * whose loads may run on to rend; built twice, the second time with AVX2,
 * BMI2 (shifts by a variable count) and POPCNT where the CPU has them. */
static inline __attribute__((always_inline)) int pos_block_layout(tr_pos_block *pb,
        const uint8_t *pp, size_t pn, const uint8_t *rend, const uint32_t *tf,
        const uint32_t *ttf, uint32_t n, const uint32_t *tl, const uint32_t *bl)
{
    uint64_t total = 0;
    uint32_t bad = 0, anytitle = 0;
    /* one pass that vectorises: copies, the counts' checks */
    for (uint32_t j = 0; j < n; j++) {
        uint32_t t = ttf[j], m = tf[j] - t;
        total += tf[j];
        bad |= (t > tf[j]) | (t > tl[j]) | (m > bl[j]);
        anytitle |= t;
    }
    if (bad & 1) {
        /* ttf > tf is the caller's mistake; a run longer than its field
         * is the data's (or the lengths') */
        for (uint32_t j = 0; j < n; j++)
            if (ttf[j] > tf[j]) return TR_EINPUT;
        return TR_ECORRUPT;
    }
    if (total > MAX_BLOCK_POSITIONS) return TR_ECORRUPT;
    pos_src *s = &pb->s;
    s->p = pp;
    s->len = pn;
    s->rend = rend > pp + pn ? rend : pp + pn;
    body_params(tf, ttf, bl, n, pb->bk, pb->bw, pb->bu);
    /* Where each posting's gaps, low bits and leading bits start (title
     * run first), and the leading bits' total width W. An empty body run
     * (a posting with title positions only) has no leading bits and no
     * last bit. */
    uint64_t lows = 0, g = 0, W = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t m = tf[j] - ttf[j], has = 0u - (m > 0);
        pb->gaps0[j] = (uint32_t)g;
        pb->lows0[j] = lows;
        pb->lead0[j] = (uint32_t)W;   /* at most 2 x 128 runs of 32 bits */
        pb->tw[j] = 0;
        pb->tu[j] = UINT32_MAX;
        if (anytitle && ttf[j]) {
            uint32_t t = ttf[j], L = tl[j];
            unsigned k = run_k(t, L);
            uint64_t R = (uint64_t)L - t + 1;
            unsigned wb = tb_width(R);
            pb->tk[j] = k;
            pb->tu[j] = wb ? (uint32_t)((1ull << wb) - R) : UINT32_MAX;
            pb->tw[j] = wb - (wb != 0);
            W += pb->tw[j];
            g += t - 1;
            lows += (uint64_t)(t - 1) * k;
        }
        pb->bw[j] &= has;
        pb->bu[j] |= ~has;
        uint32_t gaps = m - (m > 0);
        W += pb->bw[j];
        g += gaps;
        lows += (uint64_t)gaps * pb->bk[j];
    }
    pb->gaps0[n] = (uint32_t)g;
    pb->lows0[n] = lows;
    uint64_t end = (uint64_t)pn * 8;
    if (lows > end || lows + W > end) return TR_ECORRUPT;
    /* the last bits before each posting's: its leading bits compared with
     * u; the loads reach at most 8 bytes past the payload's last (mostly
     * the next block's or the checksum's bytes: no tail check then) */
    pb->fast_loads = (size_t)(s->rend - s->p) >= pn + 8;
    uint64_t o = lows, nb = 0;
    for (uint32_t j = 0; j < n; j++) {
        pb->bigs0[j] = (uint32_t)nb;
        if (pb->fast_loads) {
            nb += has_last(s, o, pb->tw[j], pb->tu[j], 1);
            nb += has_last(s, o + pb->tw[j], pb->bw[j], pb->bu[j], 1);
        } else {
            nb += has_last(s, o, pb->tw[j], pb->tu[j], 0);
            nb += has_last(s, o + pb->tw[j], pb->bw[j], pb->bu[j], 0);
        }
        o += pb->tw[j] + pb->bw[j];
    }
    pb->bigs0[n] = (uint32_t)nb;
    int rc = pos_block_finish(pb, lows, W, nb, g);
    if (rc) return rc;
    pb->n = n;
    return TR_OK;
}


#if POS_AVX2
#define LAYOUT_FN static inline __attribute__((always_inline, target("avx2,bmi,bmi2,popcnt")))

/* k, leading-bit width w and u (as body_params) of eight runs of m
 * positions in fields of L, every m and L below 2^24 (m may be 0: the
 * caller masks those lanes), for runs that fit their fields (m <= L; a
 * lane where not gives garbage, and the caller refuses the block as
 * corrupt): so R = L - m + 1 >= 1, and d = 0 needs no test (m << 0 = m <=
 * L). floor(log2 x) of x in [1, 2^24) is x's exponent as a float (which
 * holds it exactly); the exponents' bias cancels in log2 L - log2 m and
 * folds into ceil(log2 R) = floor(log2 (R - 1)) + 1. */
LAYOUT_FN void run_params8_fit(__m256i vm, __m256i vl, __m256i *vk, __m256i *vw, __m256i *vu)
{
    const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
    __m256i em = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_or_si256(vm, one))), 23);
    __m256i el = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_or_si256(vl, one))), 23);
    __m256i d = _mm256_max_epi32(_mm256_sub_epi32(el, em), zero);
    __m256i over = _mm256_cmpgt_epi32(_mm256_sllv_epi32(vm, d), vl);   /* -1: one less */
    *vk = _mm256_min_epi32(_mm256_add_epi32(d, over), _mm256_set1_epi32((int)POS_MAX_K));
    __m256i r1 = _mm256_sub_epi32(vl, vm);                 /* R - 1 */
    __m256i has = _mm256_cmpgt_epi32(r1, zero);            /* R > 1 */
    __m256i er = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_or_si256(r1, one))), 23);
    __m256i wb = _mm256_and_si256(_mm256_sub_epi32(er, _mm256_set1_epi32(126)), has);
    __m256i R = _mm256_add_epi32(r1, one);
    *vu = _mm256_or_si256(_mm256_and_si256(_mm256_sub_epi32(_mm256_sllv_epi32(one, wb), R), has),
                          _mm256_andnot_si256(has, _mm256_set1_epi32(-1)));
    *vw = _mm256_add_epi32(wb, has);                       /* has = -1: wb - 1 */
}

/* Inclusive prefix sums of eight lanes. */
LAYOUT_FN __m256i prefix8(__m256i x)
{
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
    __m256i t = _mm256_shuffle_epi32(x, _MM_SHUFFLE(3, 3, 3, 3));
    return _mm256_add_epi32(x, _mm256_permute2x128_si256(t, t, 0x08));
}

LAYOUT_FN uint32_t lane7(__m256i x) { return (uint32_t)_mm256_extract_epi32(x, 7); }

/* Which of eight first positions (leading bits of width w below 25 at bit
 * offsets o, where live) have a last bit: all ones in those lanes. One
 * 32-bit gather (a leading part and its bit offset fit 32 bits). */
LAYOUT_FN __m256i has_last8(const uint8_t *p, __m256i o, __m256i w, __m256i u, __m256i live)
{
    const __m256i one = _mm256_set1_epi32(1);
    __m256i at = _mm256_srli_epi32(o, 3);
    __m256i x = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)p, at, live, 1);
    __m256i y = _mm256_and_si256(_mm256_srlv_epi32(x, _mm256_and_si256(o, _mm256_set1_epi32(7))),
                                 _mm256_sub_epi32(_mm256_sllv_epi32(one, w), one));
    /* y >= u, unsigned (u may be UINT32_MAX: never) */
    return _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_max_epu32(y, u), y), live);
}

/* tr_pos_block_open's layout eight postings a step, lazy: every posting's
 * parameters, prefix sums and the sections' sizes; which first positions
 * have a last bit (gathers) as postings are asked for (pos_block_extend).
 * Returns 1 when done, 0 when the block is not for it
 * (a run of 2^20 or more positions, a field of 2^24 terms, a payload of
 * 2^27 bytes, ttf > tf: the scalar layout takes it), or TR_ECORRUPT. */
LAYOUT_FN int pos_block_layout_vec(tr_pos_block *pb, const uint32_t *tf, const uint32_t *ttf,
                                   uint32_t n, const uint32_t *tl, const uint32_t *bl)
{
    const pos_src *s = &pb->s;
    const size_t pn = s->len;
    if (pn >= ((size_t)1 << 27) || n > TR_BLOCK_DOCS) return 0;
    const __m256i zero = _mm256_setzero_si256(), ones = _mm256_set1_epi32(-1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i bigv = zero, badv = zero, titlev = zero;
    /* running sums in every lane (lane 7 of each step's prefix sums,
     * broadcast): gaps, low bits (below 2^32: under 2^28 a step), widths */
    const __m256i seven = _mm256_set1_epi32(7);
    __m256i cg = zero, cl = zero, cw = zero, orm = zero, orl = zero;
    for (uint32_t j = 0; j < n; j += 8) {
        __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), lanes);
        __m256i vf = _mm256_maskload_epi32((const int *)(tf + j), live);
        __m256i vt = _mm256_maskload_epi32((const int *)(ttf + j), live);
        __m256i vbl = _mm256_maskload_epi32((const int *)(bl + j), live);
        __m256i vm = _mm256_sub_epi32(vf, vt);
        /* ttf > tf wraps vm past 2^20: the scalar layout says which */
        orm = _mm256_or_si256(orm, _mm256_or_si256(vm, vt));
        orl = _mm256_or_si256(orl, vbl);
        badv = _mm256_or_si256(badv, _mm256_cmpgt_epi32(vm, vbl));
        __m256i hb = _mm256_cmpgt_epi32(vm, zero);
        __m256i bk, bwv, buv;
        run_params8_fit(vm, vbl, &bk, &bwv, &buv);
        bwv = _mm256_and_si256(bwv, hb);
        buv = _mm256_or_si256(buv, _mm256_andnot_si256(hb, ones));
        /* gaps (m - 1 for a run there), low bits and leading-bit widths of
         * each posting; below 2^28 a step, so 32-bit sums hold */
        __m256i g8 = _mm256_add_epi32(vm, hb);
        __m256i l8 = _mm256_mullo_epi32(g8, bk);
        __m256i w8 = bwv;
        /* title runs are rare: most groups have none, and then their
         * parameters are constants (tk is read only where ttf > 0) */
        if (_mm256_testz_si256(vt, vt)) {
            _mm256_storeu_si256((__m256i *)(pb->tw + j), zero);
            _mm256_storeu_si256((__m256i *)(pb->tu + j), ones);
        } else {
            __m256i vtl = _mm256_maskload_epi32((const int *)(tl + j), live);
            __m256i ht = _mm256_cmpgt_epi32(vt, zero);
            orl = _mm256_or_si256(orl, vtl);
            badv = _mm256_or_si256(badv, _mm256_cmpgt_epi32(vt, vtl));
            titlev = _mm256_or_si256(titlev, ht);
            __m256i tk, twv, tuv;
            run_params8_fit(vt, vtl, &tk, &twv, &tuv);
            twv = _mm256_and_si256(twv, ht);
            tuv = _mm256_or_si256(tuv, _mm256_andnot_si256(ht, ones));
            _mm256_storeu_si256((__m256i *)(pb->tk + j), tk);
            _mm256_storeu_si256((__m256i *)(pb->tw + j), twv);
            _mm256_storeu_si256((__m256i *)(pb->tu + j), tuv);
            __m256i gt = _mm256_add_epi32(vt, ht);
            g8 = _mm256_add_epi32(g8, gt);
            l8 = _mm256_add_epi32(l8, _mm256_mullo_epi32(gt, tk));
            w8 = _mm256_add_epi32(w8, twv);
        }
        _mm256_storeu_si256((__m256i *)(pb->bk + j), bk);
        _mm256_storeu_si256((__m256i *)(pb->bw + j), bwv);
        _mm256_storeu_si256((__m256i *)(pb->bu + j), buv);
        __m256i pg = _mm256_add_epi32(prefix8(g8), cg), pl = _mm256_add_epi32(prefix8(l8), cl);
        __m256i pw = _mm256_add_epi32(prefix8(w8), cw);
        _mm256_storeu_si256((__m256i *)(pb->gaps0 + j), _mm256_sub_epi32(pg, g8));
        _mm256_storeu_si256((__m256i *)(pb->lead0 + j), _mm256_sub_epi32(pw, w8));
        __m256i xl = _mm256_sub_epi32(pl, l8);
        _mm256_storeu_si256((__m256i *)(pb->lows0 + j), _mm256_cvtepu32_epi64(_mm256_castsi256_si128(xl)));
        _mm256_storeu_si256((__m256i *)(pb->lows0 + j + 4), _mm256_cvtepu32_epi64(_mm256_extracti128_si256(xl, 1)));
        cg = _mm256_permutevar8x32_epi32(pg, seven);
        cl = _mm256_permutevar8x32_epi32(pl, seven);
        cw = _mm256_permutevar8x32_epi32(pw, seven);
    }
    /* runs of 2^20 positions or more, fields of 2^24 terms (title fields
     * only where the group has title runs: no other reads them) */
    bigv = _mm256_or_si256(_mm256_srli_epi32(orm, 20), _mm256_srli_epi32(orl, 24));
    if (!_mm256_testz_si256(bigv, bigv)) return 0;
    if (!_mm256_testz_si256(badv, badv)) return TR_ECORRUPT;
    const uint32_t gtot = (uint32_t)_mm256_cvtsi256_si32(cg), wtot = (uint32_t)_mm256_cvtsi256_si32(cw);
    const uint64_t ltot = (uint32_t)_mm256_cvtsi256_si32(cl);
    const uint64_t end = (uint64_t)pn * 8;
    if (ltot > end || ltot + wtot > end) return TR_ECORRUPT;
    pb->gaps0[n] = gtot;
    pb->lows0[n] = ltot;
    pb->gtot = gtot;
    pb->anytitle = !_mm256_testz_si256(titlev, titlev);
    pb->fast_loads = (size_t)(s->rend - s->p) >= pn + 8;
    pb->lows_bits = ltot;
    pb->lasts_at = ltot + wtot;
    pb->unary_at = 0;
    pb->nucum = 0;
    pb->ubit = UINT64_MAX;
    pb->useen = 0;
    pb->complete = 0;
    pb->bigsupto = 0;
    pb->cnb = 0;
    pb->nrc = 0;
    pb->rcum[0] = 0;
    pb->n = n;
    return 1;
}

/* Extend a lazy set-up: the last bits before each of postings [0, need)
 * at least (their leading bits gathered as the eager set-up did), in
 * steps of eight. */
LAYOUT_FN void pos_block_extend(tr_pos_block *pb, uint32_t need)
{
    const uint32_t n = pb->n;
    const pos_src *s = &pb->s;
    const size_t pn = s->len;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vcl = _mm256_set1_epi32((int)pb->lows_bits);   /* below 2^30 */
    uint32_t nb = pb->cnb, j = pb->bigsupto;
    /* Which first positions have a last bit: the leading bits at ltot +
     * lead0 (title) and after the title's (body), below 2^30 bits (pn <
     * 2^27), every width below 24 (fields below 2^24). A gather reads 4
     * bytes from a bit offset's byte, at most the payload's last, so it
     * needs 4 readable bytes after the payload: a chunk's last block,
     * which may have none (or a compact chunk's checksum), is read by a
     * scalar pass with tail-checked loads instead. */
    const size_t slack = (size_t)(s->rend - s->p) - pn;
    if (slack < 4) {
        uint64_t o = pb->lows_bits + (j < n ? pb->lead0[j] : 0);
        for (; j < need; j++) {
            pb->bigs0[j] = nb;
            nb += has_last(s, o, pb->tw[j], pb->tu[j], 0);
            nb += has_last(s, o + pb->tw[j], pb->bw[j], pb->bu[j], 0);
            o += pb->tw[j] + pb->bw[j];
        }
    }
    for (; j < need; j += 8) {
        __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), lanes);
        __m256i ot = _mm256_add_epi32(vcl, _mm256_loadu_si256((const __m256i *)(pb->lead0 + j)));
        __m256i twv = _mm256_loadu_si256((const __m256i *)(pb->tw + j));
        __m256i ob = _mm256_add_epi32(ot, twv);
        __m256i bwv = _mm256_loadu_si256((const __m256i *)(pb->bw + j));
        __m256i buv = _mm256_loadu_si256((const __m256i *)(pb->bu + j));
        /* a lane with no body run has u = UINT32_MAX: never a last bit */
        __m256i cnt = has_last8(s->p, ob, bwv, buv, live);
        if (pb->anytitle) {
            __m256i tuv = _mm256_loadu_si256((const __m256i *)(pb->tu + j));
            cnt = _mm256_add_epi32(cnt, has_last8(s->p, ot, twv, tuv, live));
        }
        cnt = _mm256_sub_epi32(zero, cnt);
        __m256i pc = prefix8(cnt);
        _mm256_storeu_si256((__m256i *)(pb->bigs0 + j),
                            _mm256_add_epi32(_mm256_sub_epi32(pc, cnt), _mm256_set1_epi32((int)nb)));
        nb += lane7(pc);
    }
    pb->bigsupto = j < n ? j : n;
    pb->cnb = nb;
}

/* A lazy set-up laid out in full and checked: what the eager set-up
 * would have made of the block. */
__attribute__((target("avx2,bmi,bmi2,popcnt")))
static int pos_block_complete(tr_pos_block *pb)
{
    pos_block_extend(pb, pb->n);
    pb->bigs0[pb->n] = pb->cnb;
    return pos_block_finish(pb, pb->lows_bits, pb->lasts_at - pb->lows_bits, pb->cnb, pb->gtot);
}

__attribute__((target("avx2,bmi,bmi2,popcnt")))
static void pos_block_more(tr_pos_block *pb, uint32_t need)
{
    pos_block_extend(pb, need);
}
#endif


static int pos_block_layout_portable(tr_pos_block *pb, const uint8_t *pp, size_t pn,
                                     const uint8_t *rend, const uint32_t *tf, const uint32_t *ttf,
                                     uint32_t n, const uint32_t *tl, const uint32_t *bl)
{
    return pos_block_layout(pb, pp, pn, rend, tf, ttf, n, tl, bl);
}

#if POS_AVX2
__attribute__((target("avx2,bmi,bmi2,popcnt")))
static int pos_block_layout_avx2(tr_pos_block *pb, const uint8_t *pp, size_t pn,
                                 const uint8_t *rend, const uint32_t *tf, const uint32_t *ttf,
                                 uint32_t n, const uint32_t *tl, const uint32_t *bl)
{
    pb->s.p = pp;
    pb->s.len = pn;
    pb->s.rend = rend > pp + pn ? rend : pp + pn;
    int rc = pos_block_layout_vec(pb, tf, ttf, n, tl, bl);
    if (rc) return rc < 0 ? rc : TR_OK;
    return pos_block_layout(pb, pp, pn, rend, tf, ttf, n, tl, bl);
}
#endif

int tr_pos_block_open(tr_pos_block *pb, const tr_chunk *c, uint32_t b, int verify,
                      const uint32_t *tf, const uint32_t *ttf, uint32_t n,
                      const uint32_t *tl, const uint32_t *bl)
{
    pb->n = 0;
    pb->fast_cpu = 0;
    if (b >= c->nblocks || !c->has_positions) return TR_ECORRUPT;
    if (n != tr_chunk_block_count(c, b) || !tl || !bl) return TR_EINPUT;
    if (n > TR_BLOCK_DOCS) return TR_ECORRUPT;
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    if (verify && c->dir && tr_csum32(pp, pn) != block_csum(c, b, 1)) return TR_ECORRUPT;
    const uint8_t *rend = c->posdata + c->poslen;
    pb->tf = tf;
    pb->ttf = ttf;
    pb->tL = tl;
    pb->bL = bl;
#if POS_AVX2
    pb->fast_cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
                   __builtin_cpu_supports("popcnt");
    if (pb->fast_cpu) return pos_block_layout_avx2(pb, pp, pn, rend, tf, ttf, n, tl, bl);
#endif
    return pos_block_layout_portable(pb, pp, pn, rend, tf, ttf, n, tl, bl);
}

/* The positions of one run of m >= 1 (first position x, parameter k, field
 * of L) into out: the gaps' low bits from bit *lo on, their quotients from
 * q. Returns nonzero when a position reaches L. */
static inline uint32_t decode_run(const pos_src *s, uint64_t *lo, uint32_t m, unsigned k,
                                  uint64_t L, uint64_t x, const uint32_t *q, uint32_t *out)
{
    const size_t avail = (size_t)(s->rend - s->p);  /* bytes a load may touch */
    const uint64_t mask = (1ull << k) - 1;
    uint64_t at = *lo;
    uint32_t bad = x >= L;
    out[0] = (uint32_t)x;
    for (uint32_t j = 1; j < m; j++) {
        size_t byte = (size_t)(at >> 3);
        uint64_t w = byte + 8 <= avail ? load64_le(s->p + byte) : load64_tail(s->p + byte, s->rend);
        uint64_t low = (w >> (at & 7)) & mask;
        at += k;
        x += ((uint64_t)q[j - 1] << k | low) + 1;
        bad |= x >= L;
        out[j] = (uint32_t)x;
    }
    *lo = at;
    return bad;
}

/* Where a lazy set-up's scan for gap g0's quotient starts (its first
 * bit *at, and *skip ones before it, the last of them gap g0 - 1's):
 * from where the last posting asked for stopped when that is on the way,
 * else from the 64-bit word, counted from the payload's end, that holds
 * gap g0 - 1's one (the unary section ends the payload, and its ones are
 * the gaps': gap g0 - 1's is the (gtot - g0 + 1)-th from the end), the
 * words' ones counted (rcum) as far back as a posting needed. Returns 1,
 * 0 when the block must be laid out in full first (g0 = 0: the section's
 * start is needed; or a quotient more than POS_UNARY_WORDS words from the
 * end), TR_ECORRUPT when the payload has fewer ones than gaps. */
static inline __attribute__((always_inline)) int pos_block_from_end(tr_pos_block *pb, uint64_t g0,
                                                                    uint64_t *at, uint64_t *skip)
{
    if (g0 == 0) return 0;
    const uint64_t r = (uint64_t)pb->gtot - g0 + 1;
    const size_t len = pb->s.len;
    uint32_t w = pb->nrc;
    while (pb->rcum[w] < r) {
        size_t done = (size_t)w * 8;
        if (done >= len) return TR_ECORRUPT;
        if (w == POS_UNARY_WORDS) return 0;
        size_t left = len - done;
        uint64_t x = left >= 8 ? load64_le(pb->s.p + left - 8) : load64_tail(pb->s.p, pb->s.p + left);
        pb->rcum[w + 1] = pb->rcum[w] + (uint32_t)__builtin_popcountll(x);
        pb->nrc = ++w;
    }
    /* the first w with rcum[w] >= r (rcum[0] = 0 < r): a search whose
     * steps are selects, not branches (each a coin toss) */
    uint32_t lo = 0, len1 = w + 1;
    while (len1 > 1) {
        uint32_t half = len1 / 2;
        lo = pb->rcum[lo + half] < r ? lo + half : lo;
        len1 -= half;
    }
    uint32_t hi = lo + 1;
    size_t sb = len > (size_t)hi * 8 ? len - (size_t)hi * 8 : 0;
    uint64_t bat = (uint64_t)sb * 8;
    if (pb->ubit != UINT64_MAX && g0 >= pb->useen && pb->ubit >= bat) {
        *at = pb->ubit;
        *skip = g0 - pb->useen;
    } else {
        *at = bat;
        *skip = pb->rcum[hi] - r + 1;
    }
    return 1;
}

static inline __attribute__((always_inline)) int pos_block_posting(tr_pos_block *pb, uint32_t i,
                                                                   uint32_t *pos, int vec)
{
    if (i >= pb->n) return TR_EINPUT;
#if POS_AVX2
    /* the block's last posting lays it out in full, with its checks */
    if (vec && !pb->complete && i + 1 == pb->n && pos_block_complete(pb)) return TR_ECORRUPT;
#endif
    uint32_t t = pb->ttf[i], m = pb->tf[i] - t;
    uint32_t own = (t > 0) + (m > 0);
    uint64_t g0 = pb->gaps0[i], cnt = pb->gaps0[i + 1] - g0;
    if (cnt) {
        /* from the last word before posting i's first quotient that
         * has a count (at least one one to skip there, so the scan knows
         * where the quotient starts), or from where the last posting
         * asked for stopped when that is further on */
        uint64_t at = 0, skip = 0;
        uint32_t lo = 0, hi = 0;
        int resume = 0, found = 0;
#if POS_AVX2
        if (vec && !pb->complete) {
            found = pos_block_from_end(pb, g0, &at, &skip);
            if (found < 0 || (!found && pos_block_complete(pb))) return TR_ECORRUPT;
        }
#endif
        hi = pb->nucum;   /* ucum[0] = 0 < g0 when g0 > 0 */
        if (found) {
            resume = 2;
        } else if (g0 >= pb->useen) {
            /* no word after the one where the scan stopped starts
             * before the quotient: go on from there, without a search */
            uint64_t w = ((pb->ubit >> 3) - (pb->unary_at >> 3)) / 8 + 1;
            if (w >= hi || pb->ucum[w] >= g0) resume = 1;
            else lo = (uint32_t)w;
        }
        if (resume == 1) {
            at = pb->ubit;
            skip = g0 - pb->useen;
        } else if (!resume) {
            while (hi - lo > 1) {
                uint32_t mid = (lo + hi) / 2;
                if (pb->ucum[mid] < g0) lo = mid;
                else hi = mid;
            }
            at = lo ? ((pb->unary_at >> 3) + 8 * (uint64_t)lo) * 8 : pb->unary_at;
            skip = g0 - (pb->nucum ? pb->ucum[lo] : 0);
        }
        /* the vector build scans inline, with BMI2's select (a phrase's
         * common word skips ~15 ones within the word it starts in) */
        if (vec ? unary_scan(&pb->s, &at, skip, cnt, pos + own, 0, 1)
                : pos_unary(&pb->s, &at, skip, cnt, pos + own, 0)) return TR_ECORRUPT;
        pb->ubit = at;
        pb->useen = g0 + cnt;
    }
    /* its first positions: leading bits and last bits where the set-up
     * put them (offsets within the payload: checked there) */
    const uint64_t end = (uint64_t)pb->s.len * 8;
    uint64_t o = pb->lows_bits + pb->lead0[i], lb = pb->lasts_at;
    if (pb->complete) {
        lb += pb->bigs0[i];
    } else {
#if POS_AVX2
        /* a lazy set-up counts the last bits before posting i's only
         * when one of its first positions has one */
        int fl = pb->fast_loads;
        if (has_last(&pb->s, o, pb->tw[i], pb->tu[i], fl) |
            has_last(&pb->s, o + pb->tw[i], pb->bw[i], pb->bu[i], fl)) {
            if (pb->bigsupto <= i) pos_block_more(pb, i + 1);
            lb += pb->bigs0[i];
        }
#endif
    }
    uint32_t tfirst = 0, bfirst = 0;
    if (pb->fast_loads) {
        if (t) tfirst = read_first(&pb->s, &o, &lb, end, pb->tw[i], pb->tu[i], 1);
        bfirst = read_first(&pb->s, &o, &lb, end, pb->bw[i], pb->bu[i], 1);
    } else {
        if (t) tfirst = read_first(&pb->s, &o, &lb, end, pb->tw[i], pb->tu[i], 0);
        bfirst = read_first(&pb->s, &o, &lb, end, pb->bw[i], pb->bu[i], 0);
    }
    /* The quotients sit at pos[own ..]: the title run's t - 1 first, then
     * the body run's. A run's output starts at or before its first
     * quotient's slot less one, so a quotient is read before its slot is
     * written. */
    uint64_t lo = pb->lows0[i];
    uint32_t bad = 0, oo = 0;
    const uint32_t *q = pos + own;
    if (t) {
        bad |= decode_run(&pb->s, &lo, t, pb->tk[i], pb->tL[i], tfirst, q, pos);
        oo = t;
        q += t - 1;
    }
    if (m) bad |= decode_run(&pb->s, &lo, m, pb->bk[i], pb->bL[i], bfirst, q, pos + oo);
    if (bad) return TR_ECORRUPT;
    return (int)(t + m);
}

static int pos_block_posting_portable(tr_pos_block *pb, uint32_t i, uint32_t *pos)
{
    return pos_block_posting(pb, i, pos, 0);
}

#if POS_AVX2
__attribute__((target("avx2,bmi,bmi2,popcnt")))
static int pos_block_posting_avx2(tr_pos_block *pb, uint32_t i, uint32_t *pos)
{
    return pos_block_posting(pb, i, pos, 1);
}
#endif

int tr_pos_block_posting(tr_pos_block *pb, uint32_t i, uint32_t *pos)
{
#if POS_AVX2
    if (pb->fast_cpu) return pos_block_posting_avx2(pb, i, pos);
#endif
    return pos_block_posting_portable(pb, i, pos);
}

int tr_chunk_posting_positions(const tr_chunk *c, uint32_t b, int verify,
                               const uint32_t *tf, const uint32_t *ttf, uint32_t n,
                               uint32_t i, const uint32_t *tl, const uint32_t *bl,
                               uint32_t *pos)
{
    if (i >= n) return TR_EINPUT;
    tr_pos_block pb;
    int rc = tr_pos_block_open(&pb, c, b, verify, tf, ttf, n, tl, bl);
    return rc ? rc : tr_pos_block_posting(&pb, i, pos);
}
