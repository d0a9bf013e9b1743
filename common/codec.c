/* codec.c - the posting-list codec: encodes one term's postings into a chunk
 * (one LMDB value) and decodes it block by block. Bit-packing primitives and
 * the BM25 score bound live here too. See codec.h for the API and
 * docs/FORMAT.md for the same grammar with the reasoning.
 *
 * ---- On-disk format, version 1 --------------------------------------------
 * All multi-byte integers are little-endian. varint = LEB128 (trawl.h).
 * A chunk starts with a format byte that names its form and version; readers
 * refuse any other value (TR_ECORRUPT: a chunk is never written by a future
 * version into an index this version can open; the index version guards that).
 *
 * chunk       := full-chunk | compact-chunk
 *
 * full-chunk  := (used when the chunk has 2 or more blocks)
 *   u8   format = 0x01
 *   u8   flags            bit 0: has positions; other bits 0
 *   u8   npoints          1..4, points used in the chunk bound
 *   u8   reserved = 0
 *   u32  nblocks          = ceil(ndocs / 128), >= 1
 *   u32  ndocs
 *   u32  first_doc
 *   u32  last_doc         < 0xFFFFFFFF (TR_DOC_END)
 *   u16  max_ttf          chunk bound (see "bound" below)
 *   4 x (u16 tf, u16 dl)  chunk bound points, unused ones 0
 *   u16  reserved = 0
 *   u32  doclen           bytes of the doc area
 *   u32  poslen           bytes of the positions area (0 without positions)
 *   u32  checksum         low 32 bits of XXH3_64(directory, seed =
 *                         XXH3_64(header bytes 0..47))
 *   dir-entry[nblocks]    40 bytes each (fixed width: binary-searchable)
 *   doc-block[nblocks]    the doc area, doclen bytes
 *   pos-block[nblocks]    the positions area, poslen bytes
 *   (nothing after: 52 + 40 * nblocks + doclen + poslen == value length)
 *
 * dir-entry :=
 *   u32  last_doc         strictly increasing; the last equals last_doc
 *   u32  doc_end          end offset of this block in the doc area
 *   u32  pos_end          end offset of this block in the positions area
 *   u32  doc_csum         low 32 bits of XXH3_64(this doc-block)
 *   u32  pos_csum         low 32 bits of XXH3_64(this pos-block)
 *   u16  max_ttf          block bound
 *   u8   npoints          1..4
 *   u8   reserved = 0
 *   4 x (u16 tf, u16 dl)  block bound points, unused ones 0
 *
 * compact-chunk := (a single block: about half of all terms occur once)
 *   u8   format = 0x02
 *   u8   flags            bit 0: has positions; bits 1..3: npoints (1..4)
 *   varint first_doc
 *   u8   ndocs - 1        0..127
 *   varint last_doc - first_doc   only when ndocs > 1
 *   if ndocs == 1:        (max_ttf and the point's tf are the posting's own)
 *     varint dl           <= 65535; npoints must be 1
 *   else:
 *     varint max_ttf      <= 65535
 *     npoints x (varint tf, varint dl)   each <= 65535
 *   doc-block             its length follows from its widths
 *   pos-block             up to the checksum
 *   u32  checksum         low 32 bits of XXH3_64(every byte before it)
 *   The directory entry is implied (one block; bound = chunk bound) and the
 *   checksum covers the payloads, so open verifies everything at once.
 *
 * doc-block := (n postings: 128, or fewer in the last block)
 *   u8 wgap, u8 wtf, u8 wttf      bit widths, each 0..32
 *   packed(n, wgap) gaps   gap[0] = doc[0] - base, base = first_doc for the
 *                          first block, else previous block's last_doc + 1;
 *                          gap[i] = doc[i] - doc[i-1] - 1
 *   packed(n, wtf)  tf - 1
 *   packed(n, wttf) ttf
 *   (length is exactly 3 + the three packed sizes)
 *
 * pos-block := for each group of 128 values of the block's position stream
 *              (sum of its tf; the last group partial, count k):
 *     u8 header             bits 0..5: width w (0..32); bit 7: patched;
 *                           bit 6 is 0
 *     if patched (w < 32):  u8 nexc - 1 (nexc = 1..k exceptions)
 *                           nexc x u8 index (< k, strictly increasing)
 *                           nexc x varint high (>= 1; value >> w, so that
 *                           (high << w) | low fits 32 bits)
 *     packed(k, w)          the low w bits of every value
 *   The encoder chooses w (and so the exceptions) to minimise the group's
 *   bytes; a group without exceptions is header + packed only.
 *   The stream holds, per posting, the ttf title positions then the tf - ttf
 *   body positions; each run is delta-coded: first raw, then
 *   p[i] - p[i-1] - 1 (positions strictly increase within a field).
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

#include <limits.h>
#include <stdlib.h>
#include <xxhash.h>

#define FORMAT_FULL_V1 0x01
#define FORMAT_COMPACT_V1 0x02
#define FLAG_POSITIONS 0x01
#define FULL_HEADER_BYTES 52
#define FULL_CSUM_OFFSET 48
#define DIR_ENTRY_BYTES 40
#define DOC_WIDTH_BYTES 3
#define POS_GROUP 128              /* position values per width byte */
#define POS_WIDTH_MASK 0x3F        /* group header: bits 0..5 the width */
#define POS_PATCHED 0x80           /* group header: exceptions follow */
#define MAX_WIDTH 32
/* A block's position count is returned as an int. */
#define MAX_BLOCK_POSITIONS ((uint64_t)INT_MAX)
/* Offsets in a full chunk are u32. */
#define MAX_CHUNK_BYTES ((uint64_t)UINT32_MAX)

static uint32_t csum32(const void *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

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

/* Eight values of width w from the w bytes at in, reading 8-byte words that
 * may extend up to 8 bytes past the group: every shift and offset is a
 * constant once w is, so this is straight-line loads, shifts and masks. */
static inline __attribute__((always_inline)) void
unpack8(uint32_t *out, const uint8_t *in, const unsigned w, const uint64_t mask)
{
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++)
        out[j] = (uint32_t)((load64_le(in + (j * w) / 8) >> ((j * w) % 8)) & mask);
}

static inline __attribute__((always_inline)) void
unpack_w(uint32_t *out, const uint8_t *in, size_t n, const unsigned w)
{
    const uint64_t mask = w >= 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
    size_t bytes = tr_packed_size(n, w);
    /* Groups whose loads stay inside the input: group g reads up to byte
     * g*w + (7w)/8 + 8. */
    size_t reach = (7 * w) / 8 + 8;
    size_t fast = bytes >= reach ? (bytes - reach) / w + 1 : 0;
    if (fast > n / 8) fast = n / 8;
    for (size_t g = 0; g < fast; g++) unpack8(out + 8 * g, in + g * w, w, mask);
    size_t done = fast * 8;
    if (done == n) return;
    /* The rest (fewer than reach bytes, so at most 72 values) is decoded
     * from a zero-padded copy with the same code. */
    uint8_t tmp[96];
    uint32_t vals[80];
    size_t rb = bytes - fast * w, rem = n - done;
    memcpy(tmp, in + fast * w, rb);
    memset(tmp + rb, 0, sizeof tmp - rb);
    for (size_t g = 0; g * 8 < rem; g++) unpack8(vals + 8 * g, tmp + g * w, w, mask);
    memcpy(out + done, vals, rem * sizeof *out);
}

void tr_unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w)
{
    switch (w) {
    case 0: memset(out, 0, n * sizeof *out); return;
#define CASE(W) case W: unpack_w(out, in, n, W); return;
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    CASE(17) CASE(18) CASE(19) CASE(20) CASE(21) CASE(22) CASE(23) CASE(24)
    CASE(25) CASE(26) CASE(27) CASE(28) CASE(29) CASE(30) CASE(31) CASE(32)
#undef CASE
    default: memset(out, 0, n * sizeof *out); return; /* w > 32: callers check first */
    }
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

/* Reduce m (tf, dl) points (already saturated), given as keys
 * dl << 16 | (65535 - tf), to at most TR_BOUND_POINTS non-dominated points.
 * Sorting by dl ascending then tf descending, a point survives if its tf
 * beats every point of smaller dl. Extra points are merged with their
 * neighbour into (larger tf, smaller dl), which dominates both; the pair
 * merged is the one whose merge loses least (relative tf gap x dl gap). */
static void bound_from_keys(uint32_t *keys, size_t m, tr_bound *bd)
{
    uint16_t tf[TR_BLOCK_DOCS * 2], dl[TR_BLOCK_DOCS * 2];
    size_t k = 0;
    sort_u32(keys, m);
    long best = -1;
    for (size_t i = 0; i < m && k < TR_BLOCK_DOCS * 2; i++) {
        uint16_t t = (uint16_t)(TR_SAT16 - (keys[i] & 0xFFFF)), d = (uint16_t)(keys[i] >> 16);
        if ((long)t > best) {
            tf[k] = t; dl[k] = d; k++;
            best = t;
        }
    }
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

static void block_bound(const uint32_t *tf, const uint32_t *ttf, const uint32_t *dl,
                        size_t n, tr_bound *bd)
{
    uint32_t keys[TR_BLOCK_DOCS];
    uint32_t max_ttf = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t d = dl ? sat16(dl[i]) : 0;
        keys[i] = (uint32_t)d << 16 | (uint32_t)(TR_SAT16 - sat16(tf[i]));
        if (ttf[i] > max_ttf) max_ttf = ttf[i];
    }
    bound_from_keys(keys, n, bd);
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
            uint32_t title = in->ttf[i], body = in->tf[i] - in->ttf[i];
            for (uint32_t j = 1; j < title; j++)
                if (pos[j] <= pos[j - 1]) return TR_EINPUT;
            for (uint32_t j = title + 1; j < title + body; j++)
                if (pos[j] <= pos[j - 1]) return TR_EINPUT;
            pos += in->tf[i];
        }
    }
    if (pos && *max_block_pos > MAX_BLOCK_POSITIONS) return TR_ELIMIT;
    return TR_OK;
}

/* Append block [start, start+n) doc payload to out. */
static int encode_doc_block(const tr_postings_in *in, uint32_t start, uint32_t n,
                            uint32_t base, tr_buf *out)
{
    uint32_t gap[TR_BLOCK_DOCS], tfm1[TR_BLOCK_DOCS];
    const uint32_t *d = in->docs + start, *ttf = in->ttf + start;
    gap[0] = d[0] - base;
    for (uint32_t i = 1; i < n; i++) gap[i] = d[i] - d[i - 1] - 1;
    for (uint32_t i = 0; i < n; i++) tfm1[i] = in->tf[start + i] - 1;
    unsigned wg = tr_bits_needed(gap, n), wt = tr_bits_needed(tfm1, n),
             wtt = tr_bits_needed(ttf, n);
    size_t need = DOC_WIDTH_BYTES + tr_packed_size(n, wg) + tr_packed_size(n, wt) +
                  tr_packed_size(n, wtt);
    int rc = tr_buf_reserve(out, need);
    if (rc) return rc;
    uint8_t *p = out->data + out->len;
    p[0] = (uint8_t)wg; p[1] = (uint8_t)wt; p[2] = (uint8_t)wtt;
    p += DOC_WIDTH_BYTES;
    p += tr_pack(p, gap, n, wg);
    p += tr_pack(p, tfm1, n, wt);
    p += tr_pack(p, ttf, n, wtt);
    out->len += need;
    return TR_OK;
}

/* ---- position groups: bit packing with patched exceptions (PFOR) --------
 * One width for a whole group would let its largest value (typically the
 * first, absolute, position of a posting in a long document) set the width
 * of all 128. Instead the encoder picks the width w that minimises the
 * group's bytes when values wider than w keep their low w bits in the packed
 * array and their high bits (value >> w) in a patch list. */

/* Worst case of one group: header, count, 1 + 5 bytes per exception, and
 * the packed array at the width chosen (never more than plain 32 bits). */
static size_t pos_group_max_bytes(size_t cnt)
{
    return 2 + tr_packed_size(cnt, MAX_WIDTH) + cnt * 6;
}

/* Encode one group of cnt (1..POS_GROUP) values at out; returns bytes. */
static size_t encode_pos_group(uint8_t *out, const uint32_t *v, size_t cnt)
{
    /* hist[b] = values whose bit length is b */
    size_t hist[MAX_WIDTH + 1] = {0};
    for (size_t i = 0; i < cnt; i++) hist[v[i] ? 32 - __builtin_clz(v[i]) : 0]++;
    unsigned maxw = MAX_WIDTH;
    while (maxw > 0 && hist[maxw] == 0) maxw--;
    unsigned best_w = maxw;
    size_t best = 1 + tr_packed_size(cnt, maxw);
    for (unsigned w = 0; w < maxw; w++) {
        size_t nexc = 0, patch = 0;
        for (unsigned b = w + 1; b <= maxw; b++) {
            nexc += hist[b];
            /* high part has b - w bits: ceil((b - w) / 7) varint bytes */
            patch += hist[b] * (1 + (b - w + 6) / 7);
        }
        if (nexc > POS_GROUP) continue;
        size_t bytes = 2 + patch + tr_packed_size(cnt, w);
        if (bytes < best) { best = bytes; best_w = w; }
    }
    uint8_t *o = out;
    if (best_w == maxw) {
        *o++ = (uint8_t)maxw;
        return 1 + tr_pack(o, v, cnt, maxw);
    }
    unsigned w = best_w;
    uint32_t mask = (uint32_t)((1ull << w) - 1);
    *o++ = (uint8_t)(w | POS_PATCHED);
    uint8_t *count = o++;
    size_t nexc = 0;
    for (size_t i = 0; i < cnt; i++)
        if (v[i] > mask) *o++ = (uint8_t)i, nexc++;
    *count = (uint8_t)(nexc - 1);
    for (size_t i = 0; i < cnt; i++)
        if (v[i] > mask) {
            uint32_t hi = v[i] >> w;
            while (hi >= 0x80) { *o++ = (uint8_t)(hi | 0x80); hi >>= 7; }
            *o++ = (uint8_t)hi;
        }
    uint32_t low[POS_GROUP];
    for (size_t i = 0; i < cnt; i++) low[i] = v[i] & mask;
    o += tr_pack(o, low, cnt, w);
    return (size_t)(o - out);
}

/* Decode one group of cnt values from [*q, end) into out, advancing *q.
 * Every length and index is checked before use: TR_ECORRUPT. */
static int decode_pos_group(const uint8_t **q, const uint8_t *end, uint32_t *out, size_t cnt)
{
    const uint8_t *p = *q;
    if (p >= end) return TR_ECORRUPT;
    unsigned hdr = *p++, w = hdr & POS_WIDTH_MASK;
    if ((hdr & ~(POS_WIDTH_MASK | POS_PATCHED)) || w > MAX_WIDTH) return TR_ECORRUPT;
    if (!(hdr & POS_PATCHED)) {
        size_t bytes = tr_packed_size(cnt, w);
        if (bytes > (size_t)(end - p)) return TR_ECORRUPT;
        tr_unpack(out, p, cnt, w);
        *q = p + bytes;
        return TR_OK;
    }
    if (w >= MAX_WIDTH || p >= end) return TR_ECORRUPT;
    size_t nexc = (size_t)*p++ + 1;
    if (nexc > cnt || nexc > (size_t)(end - p)) return TR_ECORRUPT;
    const uint8_t *idx = p;
    p += nexc;
    uint32_t hi[POS_GROUP];
    for (size_t e = 0; e < nexc; e++) {
        if (idx[e] >= cnt || (e && idx[e] <= idx[e - 1])) return TR_ECORRUPT;
        uint64_t v = 0;
        unsigned shift = 0;
        for (;;) {
            if (p >= end || shift > 28) return TR_ECORRUPT;
            uint8_t byte = *p++;
            v |= (uint64_t)(byte & 0x7F) << shift;
            shift += 7;
            if (!(byte & 0x80)) break;
        }
        /* the whole value must fit 32 bits, and a patch is never zero */
        if (v == 0 || v > (UINT32_MAX >> w)) return TR_ECORRUPT;
        hi[e] = (uint32_t)v;
    }
    size_t bytes = tr_packed_size(cnt, w);
    if (bytes > (size_t)(end - p)) return TR_ECORRUPT;
    tr_unpack(out, p, cnt, w);
    for (size_t e = 0; e < nexc; e++) out[idx[e]] |= hi[e] << w;
    *q = p + bytes;
    return TR_OK;
}

/* Step over one group of cnt values in [*q, end), checking only what its
 * length depends on (the values are not read). */
static int skip_pos_group(const uint8_t **q, const uint8_t *end, size_t cnt)
{
    const uint8_t *p = *q;
    if (p >= end) return TR_ECORRUPT;
    unsigned hdr = *p++, w = hdr & POS_WIDTH_MASK;
    if ((hdr & ~(POS_WIDTH_MASK | POS_PATCHED)) || w > MAX_WIDTH) return TR_ECORRUPT;
    if (hdr & POS_PATCHED) {
        if (w >= MAX_WIDTH || p >= end) return TR_ECORRUPT;
        size_t nexc = (size_t)*p++ + 1;
        if (nexc > cnt || nexc > (size_t)(end - p)) return TR_ECORRUPT;
        p += nexc; /* indexes */
        for (size_t e = 0; e < nexc; e++) {
            unsigned len = 0;
            do {
                if (p >= end || ++len > 5) return TR_ECORRUPT;
            } while (*p++ & 0x80);
        }
    }
    size_t bytes = tr_packed_size(cnt, w);
    if (bytes > (size_t)(end - p)) return TR_ECORRUPT;
    *q = p + bytes;
    return TR_OK;
}

/* Append the positions payload of postings [start, start+n) whose positions
 * start at pos; scratch holds the delta stream. */
static int encode_pos_block(const tr_postings_in *in, uint32_t start, uint32_t n,
                            const uint32_t *pos, uint32_t **scratch, size_t *scratch_cap,
                            tr_buf *out)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += in->tf[start + i];
    if (total > *scratch_cap) {
        uint32_t *s = realloc(*scratch, total * sizeof *s);
        if (!s) return TR_ENOMEM;
        *scratch = s;
        *scratch_cap = total;
    }
    uint32_t *s = *scratch;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t title = in->ttf[start + i], all = in->tf[start + i];
        for (uint32_t j = 0; j < all; j++) {
            int first = j == 0 || j == title;
            s[k++] = first ? pos[j] : pos[j] - pos[j - 1] - 1;
        }
        pos += all;
    }
    for (size_t g = 0; g < total; g += POS_GROUP) {
        size_t cnt = total - g < POS_GROUP ? total - g : POS_GROUP;
        int rc = tr_buf_reserve(out, pos_group_max_bytes(cnt));
        if (rc) return rc;
        out->len += encode_pos_group(out->data + out->len, s + g, cnt);
    }
    return TR_OK;
}

static int encode_compact(const tr_postings_in *in, tr_buf *out, uint32_t **scratch,
                          size_t *scratch_cap)
{
    size_t base = out->len;
    tr_bound bd;
    block_bound(in->tf, in->ttf, in->dl, in->n, &bd);
    uint8_t hdr[2 + 5 + 1 + 5 + 3 + TR_BOUND_POINTS * 6];
    size_t h = 0;
    hdr[h++] = FORMAT_COMPACT_V1;
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
    if (!rc && in->pos) rc = encode_pos_block(in, 0, in->n, in->pos, scratch, scratch_cap, out);
    if (!rc) rc = tr_buf_reserve(out, 4);
    if (!rc) {
        tr_put_le32(out->data + out->len, csum32(out->data + base, out->len - base));
        out->len += 4;
    }
    return rc;
}

static int encode_full(const tr_postings_in *in, tr_buf *out, uint32_t **scratch,
                       size_t *scratch_cap)
{
    size_t base = out->len;
    uint32_t nblocks = (uint32_t)(((uint64_t)in->n + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS);
    uint64_t fixed = FULL_HEADER_BYTES + (uint64_t)DIR_ENTRY_BYTES * nblocks;
    if (fixed > MAX_CHUNK_BYTES) return TR_ELIMIT;
    int rc = tr_buf_reserve(out, (size_t)fixed);
    if (rc) return rc;
    memset(out->data + base, 0, (size_t)fixed);
    out->len += (size_t)fixed;
    size_t doc_start = out->len;
    tr_buf posbuf = {0};
    tr_bound chunk_bd = {0};
    const uint32_t *pos = in->pos;
    for (uint32_t b = 0; b < nblocks && !rc; b++) {
        uint32_t start = b * TR_BLOCK_DOCS;
        uint32_t n = in->n - start < TR_BLOCK_DOCS ? in->n - start : TR_BLOCK_DOCS;
        uint32_t bbase = b == 0 ? in->docs[0] : in->docs[start - 1] + 1;
        size_t d0 = out->len, p0 = posbuf.len;
        rc = encode_doc_block(in, start, n, bbase, out);
        if (!rc && pos) {
            rc = encode_pos_block(in, start, n, pos, scratch, scratch_cap, &posbuf);
            for (uint32_t i = 0; i < n; i++) pos += in->tf[start + i];
        }
        if (rc) break;
        if (out->len - doc_start > MAX_CHUNK_BYTES || posbuf.len > MAX_CHUNK_BYTES) {
            rc = TR_ELIMIT;
            break;
        }
        tr_bound bd;
        block_bound(in->tf + start, in->ttf + start, in->dl ? in->dl + start : NULL, n, &bd);
        if (b == 0) chunk_bd = bd;
        else bound_fold(&chunk_bd, &bd);
        uint8_t *e = out->data + base + FULL_HEADER_BYTES + (size_t)DIR_ENTRY_BYTES * b;
        tr_put_le32(e, in->docs[start + n - 1]);
        tr_put_le32(e + 4, (uint32_t)(out->len - doc_start));
        tr_put_le32(e + 8, (uint32_t)posbuf.len);
        tr_put_le32(e + 12, csum32(out->data + d0, out->len - d0));
        tr_put_le32(e + 16, csum32(posbuf.data ? posbuf.data + p0 : (const uint8_t *)"",
                                   posbuf.len - p0));
        tr_put_le16(e + 20, bd.max_ttf);
        e[22] = bd.npoints;
        e[23] = 0;
        put_bound_fixed(e + 24, &bd);
    }
    size_t doclen = out->len - doc_start;
    if (!rc && fixed + doclen + posbuf.len > MAX_CHUNK_BYTES) rc = TR_ELIMIT;
    if (!rc) rc = tr_buf_append(out, posbuf.data, posbuf.len);
    if (!rc) {
        uint8_t *h = out->data + base;
        h[0] = FORMAT_FULL_V1;
        h[1] = in->pos ? FLAG_POSITIONS : 0;
        h[2] = chunk_bd.npoints;
        h[3] = 0;
        tr_put_le32(h + 4, nblocks);
        tr_put_le32(h + 8, in->n);
        tr_put_le32(h + 12, in->docs[0]);
        tr_put_le32(h + 16, in->docs[in->n - 1]);
        tr_put_le16(h + 20, chunk_bd.max_ttf);
        put_bound_fixed(h + 22, &chunk_bd);
        tr_put_le16(h + 38, 0);
        tr_put_le32(h + 40, (uint32_t)doclen);
        tr_put_le32(h + 44, (uint32_t)posbuf.len);
        uint64_t seed = XXH3_64bits(h, FULL_CSUM_OFFSET);
        tr_put_le32(h + FULL_CSUM_OFFSET,
                    (uint32_t)XXH3_64bits_withSeed(h + FULL_HEADER_BYTES,
                                                   (size_t)DIR_ENTRY_BYTES * nblocks, seed));
    }
    tr_buf_free(&posbuf);
    return rc;
}

int tr_chunk_encode(const tr_postings_in *in, tr_buf *out)
{
    uint64_t max_block_pos;
    int rc = check_input(in, &max_block_pos);
    if (rc) return rc;
    size_t base = out->len;
    uint32_t *scratch = NULL;
    size_t scratch_cap = 0;
    if (in->n <= TR_BLOCK_DOCS) rc = encode_compact(in, out, &scratch, &scratch_cap);
    else rc = encode_full(in, out, &scratch, &scratch_cap);
    free(scratch);
    if (rc) out->len = base;
    return rc;
}

/* ---- opening and decoding ------------------------------------------------ */

/* Length of a doc-block of n postings starting at p, from its widths, or 0
 * when the widths are invalid or the block does not fit in avail bytes. */
static size_t doc_block_len(const uint8_t *p, size_t avail, uint32_t n)
{
    if (avail < DOC_WIDTH_BYTES) return 0;
    if (p[0] > MAX_WIDTH || p[1] > MAX_WIDTH || p[2] > MAX_WIDTH) return 0;
    size_t len = DOC_WIDTH_BYTES + tr_packed_size(n, p[0]) + tr_packed_size(n, p[1]) +
                 tr_packed_size(n, p[2]);
    return len <= avail ? len : 0;
}

static int decode_tf(const uint8_t *p, uint32_t n, uint32_t *tf, uint32_t *ttf);

static int open_compact(tr_chunk *c, const uint8_t *p, size_t len)
{
    if (len < 2 + 4) return TR_ECORRUPT;
    size_t body = len - 4;
    if (tr_get_le32(p + body) != csum32(p, body)) return TR_ECORRUPT;
    uint8_t flags = p[1];
    unsigned npoints = (flags >> 1) & 7;
    if ((flags & ~0x0F) || npoints < 1 || npoints > TR_BOUND_POINTS) return TR_ECORRUPT;
    const uint8_t *q = p + 2, *end = p + body;
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
    size_t dlen = doc_block_len(q, (size_t)(end - q), ndocs);
    if (!dlen) return TR_ECORRUPT;
    if (ndocs == 1) {
        uint32_t tf, ttf;
        if (decode_tf(q, 1, &tf, &ttf)) return TR_ECORRUPT;
        c->bound.max_ttf = sat16(ttf);
        c->bound.pt[0].tf = sat16(tf);
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

static int open_full(tr_chunk *c, const uint8_t *p, size_t len)
{
    if (len < FULL_HEADER_BYTES) return TR_ECORRUPT;
    if ((p[1] & ~FLAG_POSITIONS) || p[2] < 1 || p[2] > TR_BOUND_POINTS || p[3] ||
        tr_get_le16(p + 38))
        return TR_ECORRUPT;
    uint32_t nblocks = tr_get_le32(p + 4), ndocs = tr_get_le32(p + 8);
    uint32_t first = tr_get_le32(p + 12), last = tr_get_le32(p + 16);
    uint64_t doclen = tr_get_le32(p + 40), poslen = tr_get_le32(p + 44);
    if (nblocks == 0 || ndocs == 0 ||
        nblocks != ((uint64_t)ndocs + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS)
        return TR_ECORRUPT;
    if (last >= TR_DOC_END || first > last || (uint64_t)last - first < ndocs - 1)
        return TR_ECORRUPT;
    uint64_t dirlen = (uint64_t)DIR_ENTRY_BYTES * nblocks;
    if (FULL_HEADER_BYTES + dirlen + doclen + poslen != len) return TR_ECORRUPT;
    if (!(p[1] & FLAG_POSITIONS) && poslen) return TR_ECORRUPT;
    const uint8_t *dir = p + FULL_HEADER_BYTES;
    uint64_t seed = XXH3_64bits(p, FULL_CSUM_OFFSET);
    if ((uint32_t)XXH3_64bits_withSeed(dir, (size_t)dirlen, seed) !=
        tr_get_le32(p + FULL_CSUM_OFFSET))
        return TR_ECORRUPT;
    /* The checksum catches accidents; these checks make a forged directory
     * harmless: every later access relies on them. */
    uint64_t base = first, prev_doc_end = 0, prev_pos_end = 0;
    for (uint32_t b = 0; b < nblocks; b++) {
        const uint8_t *e = dir + (size_t)DIR_ENTRY_BYTES * b;
        uint32_t n = b + 1 < nblocks ? TR_BLOCK_DOCS : ndocs - (nblocks - 1) * TR_BLOCK_DOCS;
        uint64_t bl = tr_get_le32(e), de = tr_get_le32(e + 4), pe = tr_get_le32(e + 8);
        if (bl < base + n - 1 || bl > last) return TR_ECORRUPT;
        if (de < prev_doc_end + DOC_WIDTH_BYTES || de > doclen) return TR_ECORRUPT;
        if (pe < prev_pos_end || pe > poslen) return TR_ECORRUPT;
        if (e[22] < 1 || e[22] > TR_BOUND_POINTS || e[23]) return TR_ECORRUPT;
        base = bl + 1;
        prev_doc_end = de;
        prev_pos_end = pe;
    }
    if (base - 1 != last || prev_doc_end != doclen || prev_pos_end != poslen)
        return TR_ECORRUPT;
    c->has_positions = p[1] & FLAG_POSITIONS;
    c->nblocks = nblocks;
    c->ndocs = ndocs;
    c->first_doc = first;
    c->last_doc = last;
    get_bound_fixed(p + 22, p[2], tr_get_le16(p + 20), &c->bound);
    c->dir = dir;
    c->docdata = dir + dirlen;
    c->doclen = (size_t)doclen;
    c->posdata = c->docdata + doclen;
    c->poslen = (size_t)poslen;
    return TR_OK;
}

int tr_chunk_open(tr_chunk *c, const void *data, size_t len)
{
    memset(c, 0, sizeof *c);
    const uint8_t *p = data;
    if (!p || len < 1) return TR_ECORRUPT;
    int rc;
    if (p[0] == FORMAT_FULL_V1) rc = open_full(c, p, len);
    else if (p[0] == FORMAT_COMPACT_V1) rc = open_compact(c, p, len);
    else rc = TR_ECORRUPT;
    if (rc) {
        memset(c, 0, sizeof *c);
        return rc;
    }
    c->data = p;
    c->len = len;
    return TR_OK;
}

static const uint8_t *dir_entry(const tr_chunk *c, uint32_t b)
{
    return c->dir + (size_t)DIR_ENTRY_BYTES * b;
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
    const uint8_t *e = dir_entry(c, b);
    get_bound_fixed(e + 24, e[22], tr_get_le16(e + 20), out);
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
    const uint8_t *e = dir_entry(c, b);
    uint32_t d0 = b ? tr_get_le32(e - DIR_ENTRY_BYTES + 4) : 0;
    uint32_t p0 = b ? tr_get_le32(e - DIR_ENTRY_BYTES + 8) : 0;
    *dp = c->docdata + d0; *dn = tr_get_le32(e + 4) - d0;
    *pp = c->posdata + p0; *pn = tr_get_le32(e + 8) - p0;
}

/* Unpack the tf and ttf arrays of a block (shared with positions decode). */
static int decode_tf(const uint8_t *p, uint32_t n, uint32_t *tf, uint32_t *ttf)
{
    const uint8_t *q = p + DOC_WIDTH_BYTES + tr_packed_size(n, p[0]);
    tr_unpack(tf, q, n, p[1]);
    q += tr_packed_size(n, p[1]);
    tr_unpack(ttf, q, n, p[2]);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        tf[i] += 1;
        bad |= (tf[i] == 0) | (ttf[i] > tf[i]);
    }
    return bad ? TR_ECORRUPT : TR_OK;
}

int tr_chunk_block_decode(const tr_chunk *c, uint32_t b, int verify,
                          uint32_t *docs, uint32_t *tf, uint32_t *ttf)
{
    if (b >= c->nblocks) return TR_ECORRUPT;
    uint32_t n = tr_chunk_block_count(c, b);
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    if (doc_block_len(dp, dn, n) != dn) return TR_ECORRUPT;
    if (verify && c->dir && csum32(dp, dn) != tr_get_le32(dir_entry(c, b) + 12))
        return TR_ECORRUPT;
    tr_unpack(docs, dp + DOC_WIDTH_BYTES, n, dp[0]);
    uint64_t d = b == 0 ? c->first_doc : (uint64_t)tr_chunk_block_last(c, b - 1) + 1;
    d += docs[0];
    docs[0] = (uint32_t)d;
    for (uint32_t i = 1; i < n; i++) {
        d += (uint64_t)docs[i] + 1;
        docs[i] = (uint32_t)d;
    }
    /* Gaps are non-negative and the sum is 64-bit, so reaching exactly the
     * stored last doc proves every doc id is in range and increasing. */
    if (d != tr_chunk_block_last(c, b)) return TR_ECORRUPT;
    if (b == 0 && docs[0] != c->first_doc) return TR_ECORRUPT;
    if (decode_tf(dp, n, tf, ttf)) return TR_ECORRUPT;
    return (int)n;
}

int tr_chunk_block_positions(const tr_chunk *c, uint32_t b, int verify,
                             const uint32_t *tf, uint32_t n,
                             uint32_t *pos, size_t cap)
{
    if (b >= c->nblocks || !c->has_positions) return TR_ECORRUPT;
    uint32_t cnt = tr_chunk_block_count(c, b);
    if (n != cnt) return TR_EINPUT;
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    if (doc_block_len(dp, dn, n) != dn) return TR_ECORRUPT;
    if (verify && c->dir && csum32(pp, pn) != tr_get_le32(dir_entry(c, b) + 16))
        return TR_ECORRUPT;
    /* The title/body split needs ttf, which the caller does not pass. */
    uint32_t mytf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    if (decode_tf(dp, n, mytf, ttf)) return TR_ECORRUPT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (tf[i] != mytf[i]) return TR_EINPUT;
        total += tf[i];
    }
    if (total > cap) return TR_ELIMIT;
    if (total > MAX_BLOCK_POSITIONS) return TR_ECORRUPT;
    const uint8_t *q = pp, *end = pp + pn;
    for (uint64_t g = 0; g < total; g += POS_GROUP) {
        size_t k = total - g < POS_GROUP ? (size_t)(total - g) : POS_GROUP;
        if (decode_pos_group(&q, end, pos + g, k)) return TR_ECORRUPT;
    }
    if (q != end) return TR_ECORRUPT;
    uint32_t *p = pos;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t title = ttf[i], all = tf[i];
        for (uint32_t j = 1; j < title; j++) p[j] += p[j - 1] + 1;
        for (uint32_t j = title + 1; j < all; j++) p[j] += p[j - 1] + 1;
        p += all;
    }
    return (int)total;
}

int tr_chunk_posting_positions(const tr_chunk *c, uint32_t b, int verify,
                               const uint32_t *tf, const uint32_t *ttf, uint32_t n,
                               uint32_t i, uint32_t *pos)
{
    if (b >= c->nblocks || !c->has_positions) return TR_ECORRUPT;
    if (n != tr_chunk_block_count(c, b) || i >= n) return TR_EINPUT;
    const uint8_t *dp, *pp;
    size_t dn, pn;
    block_slices(c, b, &dp, &dn, &pp, &pn);
    if (verify && c->dir && csum32(pp, pn) != tr_get_le32(dir_entry(c, b) + 16))
        return TR_ECORRUPT;
    uint64_t start = 0, total = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (j == i) start = total;
        total += tf[j];
    }
    if (total > MAX_BLOCK_POSITIONS) return TR_ECORRUPT;
    uint64_t want_end = start + tf[i];
    const uint8_t *q = pp, *end = pp + pn;
    uint32_t group[POS_GROUP];
    uint64_t got = 0;
    for (uint64_t g = 0; g < total && g < want_end; g += POS_GROUP) {
        size_t k = total - g < POS_GROUP ? (size_t)(total - g) : POS_GROUP;
        if (g + k <= start) {
            if (skip_pos_group(&q, end, k)) return TR_ECORRUPT;
            continue;
        }
        if (decode_pos_group(&q, end, group, k)) return TR_ECORRUPT;
        uint64_t from = g > start ? g : start, to = g + k < want_end ? g + k : want_end;
        memcpy(pos + got, group + (from - g), (size_t)(to - from) * sizeof *pos);
        got += to - from;
    }
    if (got != tf[i]) return TR_ECORRUPT;
    uint32_t all = tf[i], title = ttf[i] < all ? ttf[i] : all;
    for (uint32_t j = 1; j < title; j++) pos[j] += pos[j - 1] + 1;
    for (uint32_t j = title + 1; j < all; j++) pos[j] += pos[j - 1] + 1;
    return (int)all;
}
