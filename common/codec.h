/* codec.h - the posting-list codec: how one term's postings are laid out in
 * a chunk (an LMDB value), and the cursor that decodes it block by block.
 * The byte layout is documented at the top of codec.c and in docs/FORMAT.md.
 *
 * A posting is (doc, tf, ttf, positions): doc ids strictly increasing,
 * tf = occurrences in title + body (>= 1), ttf = occurrences in the title
 * (<= tf), and tf positions: ttf title positions ascending, then tf - ttf
 * body positions ascending (title and body each count from 0).
 * Postings go in blocks of TR_BLOCK_DOCS; each block has a directory entry
 * with its last doc, checksums of its payloads, and a score bound made of
 * non-dominated (tf, dl) points that holds for any BM25 k1 and b. */
#ifndef TRAWL_CODEC_H
#define TRAWL_CODEC_H

#include "trawl.h"
#include "vseen.h"

#define TR_BLOCK_DOCS 128
#define TR_BOUND_POINTS 4        /* (tf, dl) points kept per block and per chunk */
#define TR_DOC_END UINT32_MAX    /* cursor exhausted; never a real doc id */
#define TR_SAT16 65535u          /* saturated u16: tf means "unbounded", dl means ">= 65535" */

/* What a chunk is encoded from. pos may be NULL (no positions stored);
 * otherwise it holds sum(tf) positions in the order described above.
 * dl[i] = title length + body length of docs[i], in terms: used for bounds.
 * tl[i] = the title length alone; with positions both are required (the
 * positions' code depends on each field's length: a reader passes the same
 * lengths back to decode them), and every title position must be below
 * tl[i], every body position below dl[i] - tl[i]. */
typedef struct tr_postings_in {
    uint32_t n;
    const uint32_t *docs, *tf, *ttf, *dl, *pos, *tl;
} tr_postings_in;

/* Append the chunk for in (n >= 1) to out. TR_EINPUT if the postings break
 * the rules above (unsorted docs, tf 0, ttf > tf, ...), TR_ENOMEM. */
int tr_chunk_encode(const tr_postings_in *in, tr_buf *out);

/* Encoding a long list as several chunks, cut at block boundaries, with
 * every block encoded once: plan gets the nb blocks' payload bytes and the
 * bytes of the list as one chunk, writes the pieces' ends (block indexes,
 * ascending, the last nb) to cut and returns their count. Each piece is
 * appended to out as a record, first_doc u32 LE | len u32 LE | chunk, whose
 * chunk is byte for byte what tr_chunk_encode makes of the piece's postings
 * (a list of at most TR_BLOCK_DOCS is one record and plan is not called).
 * TR_EINPUT also for a plan that is not a valid cut. */
typedef size_t (*tr_cut_plan_fn)(void *ctx, const size_t *bytes, size_t nb, size_t whole, uint32_t *cut);
int tr_chunk_encode_cut(const tr_postings_in *in, tr_cut_plan_fn plan, void *ctx, tr_buf *out);

/* A score bound: up to TR_BOUND_POINTS (tf, dl) pairs such that for every
 * posting some point has tf >= posting tf and dl <= posting dl; max_ttf
 * bounds the title tf. Values are as stored (TR_SAT16 semantics). */
typedef struct tr_bound {
    uint16_t max_ttf;
    uint8_t npoints;
    struct { uint16_t tf, dl; } pt[TR_BOUND_POINTS];
} tr_bound;

/* A decoded chunk header: borrowed view of the value, valid as long as the
 * value's memory (the LMDB read transaction). */
typedef struct tr_chunk {
    const uint8_t *data;
    size_t len;
    uint32_t nblocks, ndocs;
    uint32_t first_doc, last_doc;
    int has_positions;
    tr_bound bound;             /* over the whole chunk */
    const uint8_t *dir;         /* nblocks entries */
    const uint8_t *docdata, *posdata;
    size_t doclen, poslen;
    uint8_t dir_stride, dir_flags; /* directory entry bytes and layout (codec.c) */
    tr_vseen *vs;               /* its snapshot's chunks found sound (vseen.h), or NULL */
} tr_chunk;

/* Parse and verify a chunk's header and directory (checksum, lengths,
 * offsets, last docs increasing). TR_ECORRUPT on any failure. */
int tr_chunk_open(tr_chunk *c, const void *data, size_t len);
/* The same for a chunk read from a snapshot whose sound chunks vs
 * remembers (vseen.h): a long list's header and directory are checked the
 * first time the chunk is opened in that snapshot only (its blocks still
 * every time they are decoded with verify). */
int tr_chunk_open_seen(tr_chunk *c, const void *data, size_t len, tr_vseen *vs);

/* Inline chunks (kept in a dictionary value, whose own checksum covers
 * them): a compact chunk without its format byte and checksum.
 * tr_chunk_inline_form rewrites a compact chunk of len bytes in place into
 * that form and returns its new length, or 0 (chunk left unchanged) when it
 * is not a compact chunk. tr_chunk_open_inline opens one (no checksum to
 * verify; every length and offset is still checked): TR_ECORRUPT. Only
 * bytes that a verified checksum covers may be opened this way. */
size_t tr_chunk_inline_form(uint8_t *chunk, size_t len);
int tr_chunk_open_inline(tr_chunk *c, const void *data, size_t len);

uint32_t tr_chunk_block_last(const tr_chunk *c, uint32_t b);
uint32_t tr_chunk_block_count(const tr_chunk *c, uint32_t b); /* postings in block b */
/* Bytes of block b's doc and positions payloads (what a chunk holding only
 * some of the blocks would carry for it, give or take its first gap). */
size_t tr_chunk_block_bytes(const tr_chunk *c, uint32_t b);
void tr_chunk_block_bound(const tr_chunk *c, uint32_t b, tr_bound *out);

/* Decode block b into docs/tf/ttf (each room for TR_BLOCK_DOCS); verifies
 * the block checksum (unless verify == 0). tf and ttf both NULL: the doc
 * ids alone (counting), the tf and ttf streams neither read nor checked.
 * Returns the count or TR_ECORRUPT. */
int tr_chunk_block_decode(const tr_chunk *c, uint32_t b, int verify,
                          uint32_t *docs, uint32_t *tf, uint32_t *ttf);

/* Decode block b's positions (sum of the block's tf values; tf as decoded
 * above) into pos, which has room for cap values. tl and bl are the title
 * and body lengths of the block's n docs (the norms: tr_reader_lengths),
 * as they were when the chunk was written. Returns the count, TR_ELIMIT if
 * cap is too small, TR_EINPUT for a tf that is not the block's or no
 * lengths, TR_ECORRUPT (also when a posting's positions do not fit the
 * lengths given). */
int tr_chunk_block_positions(const tr_chunk *c, uint32_t b, int verify,
                             const uint32_t *tf, uint32_t n,
                             const uint32_t *tl, const uint32_t *bl,
                             uint32_t *pos, size_t cap);

/* Positions of posting i of block b alone, as tr_chunk_block_positions would
 * give them (ttf[i] title positions, then body positions): only posting
 * i's low bits and quotients are read (the block's first positions, one a
 * run, are read to find the quotients). tf and ttf are the block's (n
 * postings) from tr_chunk_block_decode, tl and bl its docs' lengths; pos
 * has room for tf[i] values. verify checks the block's positions checksum.
 * Returns tf[i], TR_EINPUT if n is not the block's count, TR_ECORRUPT. */
int tr_chunk_posting_positions(const tr_chunk *c, uint32_t b, int verify,
                               const uint32_t *tf, const uint32_t *ttf, uint32_t n,
                               uint32_t i, const uint32_t *tl, const uint32_t *bl,
                               uint32_t *pos);

/* The same for several postings of one block, the block's set-up done
 * once: tr_pos_block_open takes what tr_chunk_posting_positions takes
 * (without i), checks that every run fits its field and the sections fit
 * the payload (TR_ECORRUPT otherwise), and borrows the chunk's memory and
 * the tf, ttf, tl and bl arrays (which must not change) until the next
 * open; tr_pos_block_posting then gives posting i's positions (pos has
 * room for tf[i]) and returns tf[i], TR_EINPUT (i out of range, or the
 * block did not open), TR_ECORRUPT. The set-up is finished as postings
 * are asked for: the check that the block's bits add up exactly with the
 * lengths given is made when the block's last posting (or one that needs
 * the unary section's start) is asked; before that, lengths that do not
 * match the bits give TR_ECORRUPT or positions inside the fields given.
 * Postings asked in increasing order cost their own bits only.
 * tr_pos_block_new returns NULL without memory; free accepts NULL. Not
 * thread-safe: one per cursor. */
typedef struct tr_pos_block tr_pos_block;
tr_pos_block *tr_pos_block_new(void);
void tr_pos_block_free(tr_pos_block *pb);
int tr_pos_block_open(tr_pos_block *pb, const tr_chunk *c, uint32_t b, int verify,
                      const uint32_t *tf, const uint32_t *ttf, uint32_t n,
                      const uint32_t *tl, const uint32_t *bl);
int tr_pos_block_posting(tr_pos_block *pb, uint32_t i, uint32_t *pos);

/* BM25 term part bound: max over the points of
 *   tf'(k1+1) / (tf' + k1 (1 - b + b dl'/avgdl))
 * with tf' = tf + (w-1) max_ttf and dl' = dl when the title weight w >= 1,
 * tf' = tf and dl' = w dl when w < 1 (see docs/FORMAT.md for why this bounds
 * BM25 over title and body with title weight w). avgdl is the weighted one. */
double tr_bound_bm25(const tr_bound *bd, double k1, double b, double w, double avgdl);

/* Bit-packing primitives (exposed for tests and benchmarks).
 * tr_bits_needed: width (0..32) that holds every value.
 * tr_pack writes ceil(n*w/8) bytes; tr_unpack reads them. */
unsigned tr_bits_needed(const uint32_t *v, size_t n);
size_t tr_pack(uint8_t *out, const uint32_t *v, size_t n, unsigned w);
void tr_unpack(uint32_t *out, const uint8_t *in, size_t n, unsigned w);
static inline size_t tr_packed_size(size_t n, unsigned w) { return (n * w + 7) / 8; }

#endif
