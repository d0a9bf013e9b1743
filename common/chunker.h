/* chunker.h - cutting one term's postings into chunks (LMDB values) whose
 * pieces fill their pages: used by the writer's commit and by the merge. */
#ifndef TRAWL_CHUNKER_H
#define TRAWL_CHUNKER_H

#include "index.h"

#include <lmdb.h>

/* Postings per stored chunk: keeps LMDB values around a megabyte. */
#define TR_CHUNK_MAX_DOCS 65536u

/* A term's postings as arrays (one per encoding thread): docs, tf, ttf,
 * dl (title + body length, for bounds), stl (title length: the positions'
 * code needs both) and the positions, in the order tr_postings_in
 * describes. */
typedef struct tr_enc_scratch {
    uint32_t *sd, *stf, *sttf, *sdl, *stl, *spos;
    size_t scap, sposcap;
} tr_enc_scratch;

/* Room for n postings and npos positions. TR_ENOMEM. */
int tr_enc_scratch_reserve(tr_enc_scratch *sc, size_t n, size_t npos);
void tr_enc_scratch_free(tr_enc_scratch *sc);

/* Encode postings [0, n) of sc as chunks of at most TR_CHUNK_MAX_DOCS,
 * appending records (first_doc u32 LE | len u32 LE | chunk) to out. A chunk
 * too big for a leaf page is cut at block boundaries where its pieces fill
 * their pages best. Touches only sc and out (runs in encoding threads). */
int tr_encode_chunks(tr_enc_scratch *sc, size_t n, tr_buf *out);

/* Store one term's records from tr_encode_chunks (len bytes at enc): the
 * term's only chunk inline when info has no chunk yet and it fits
 * TR_INLINE_MAX (written to inl, TR_INLINE_MAX + 5 bytes, which
 * info->inline_chunk then points to), every other chunk into the postings
 * database dbi under (gen, info->term_id, its first doc) with MDB_APPEND.
 * Each chunk's bound is merged into info->bound and counted in
 * info->nchunks; *put receives the number of chunks put. TR_ECORRUPT for a
 * record that does not open, or an LMDB error. */
int tr_store_chunks(MDB_txn *txn, MDB_dbi dbi, uint32_t gen, const uint8_t *enc, size_t len,
                    tr_term_info *info, uint8_t *inl, size_t *put);

#endif
