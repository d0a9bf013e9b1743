/* schema.h - internal to the index: the LMDB databases, and the encoders and
 * decoders of every key and value stored in them (layout documented at the
 * top of schema.c and in docs/FORMAT.md). Used by writer.c and reader.c. */
#ifndef TRAWL_SCHEMA_H
#define TRAWL_SCHEMA_H

#include <lmdb.h>

#include "index.h"

enum { TR_DB_META, TR_DB_TERMS, TR_DB_POSTINGS, TR_DB_DOCS, TR_DB_IDS, TR_DB_NORMS,
       TR_DB_DELETED, TR_DB_COUNT };
extern const char *const tr_db_names[TR_DB_COUNT];

/* Most named databases an environment may hold: ours plus room for later ones. */
#define TR_MAX_DBS 16
/* Documents per norms value (a power of two: key = doc >> TR_NORMS_SHIFT). */
#define TR_NORMS_SHIFT 12
#define TR_NORMS_PER_KEY (1u << TR_NORMS_SHIFT)
#define TR_NORM_BYTES 16          /* title_len u32, body_len u32, date i64 */
#define TR_STATS_BYTES 52
/* Most bytes of a term's generation list (varints). A commit that would
 * make it longer first moves the term's chunks into its own generation
 * (writer.c), so a term value stays small however many commits an index
 * has seen: 64 bytes are about 60 commits that all add to the term. */
#define TR_TERM_GENS_MAX_BYTES 64
/* Upper bound of a term's value (in its dictionary block): header varints,
 * bound, inline chunk or generation list. */
#define TR_TERM_VALUE_MAX (3 * 10 + 3 + 4 * TR_BOUND_POINTS + \
                           (TR_INLINE_MAX > TR_TERM_GENS_MAX_BYTES ? TR_INLINE_MAX : TR_TERM_GENS_MAX_BYTES))
/* Longest stored url / title we accept into a docs value (keeps values sane). */
#define TR_MAX_URL_BYTES 8192
#define TR_MAX_TITLE_BYTES 65536

/* The environment plus its database handles. A reading index (tr_index_open)
 * has rdonly = 1; the writer owns its own writable one. */
struct tr_index {
    MDB_env *env;
    MDB_dbi dbi[TR_DB_COUNT];
    int rdonly;
    /* reader.c: the newest snapshot's compact length table, shared by every
     * reader of that snapshot (built once, not per query); lencache_lock is a
     * spin lock (0 = free, zero from calloc) held only to swap the pointer
     * or count a reference. */
    struct tr_lencache *lencache;
    _Atomic int lencache_lock;
};

/* Drop the index's reference to its length table (tr_index_close). */
void tr_reader_cache_drop(tr_index *ix);

/* Open (creating when !rdonly) the environment in dir and every database.
 * For a read-only open a missing index is TR_ENOTFOUND and the format
 * version is checked (TR_EVERSION). mapsize 0 keeps LMDB's/the file's. */
int tr_schema_open(const char *dir, int rdonly, size_t mapsize, tr_index **out,
                   char *err, size_t errcap);

/* Take the index's writer lock (flock on data.mdb, held until the
 * environment closes): one writing process at a time, since a writer keeps
 * the stats of its own last commit. TR_EBUSY (with err) when another
 * process holds it. */
int tr_schema_lock(tr_index *ix, char *err, size_t errcap);

/* Check meta "format" inside txn: 0, TR_ENOTFOUND (absent), TR_EVERSION. */
int tr_schema_check_format(tr_index *ix, MDB_txn *txn, char *err, size_t errcap);

/* Map an LMDB return code to a TR_E* code. */
int tr_schema_lmdb_rc(int rc);

/* Drop this process's view of the pages of env's data file that it has
 * read (madvise MADV_DONTNEED on the read-only map). LMDB without
 * MDB_WRITEMAP only reads through the map and writes with pwrite, so this
 * is safe at any time, also inside a write transaction: the pages stay in
 * the page cache and fault back in when read again, pointers into the map
 * stay valid. Writers call it so that the index pages a commit reads (the
 * whole dictionary, say) do not add up in RSS. Best effort: no error. */
void tr_schema_drop_map(MDB_env *env);

/* Key helpers. */
static inline void tr_key_u32(uint8_t k[4], uint32_t v) { tr_put_be32(k, v); }
/* A postings key: generation | term id | first doc of the chunk, u32 BE each.
 * The generation leads so that every commit appends at the end of the tree. */
#define TR_POSTINGS_KEY_BYTES 12
static inline void tr_key_posting(uint8_t k[TR_POSTINGS_KEY_BYTES], uint32_t gen, uint32_t term_id,
                                  uint32_t first_doc)
{
    tr_put_be32(k, gen);
    tr_put_be32(k + 4, term_id);
    tr_put_be32(k + 8, first_doc);
}

/* Step through a term's generation list (tr_term_info.gens, which
 * tr_term_value_decode has validated): *p at the next varint, prev the
 * generation before it (0 at the start). Returns 1 and sets *gen, or 0 at
 * the end of the list (or on bytes that do not decode). */
static inline int tr_gens_next(const uint8_t **p, const uint8_t *end, uint32_t prev, uint32_t *gen)
{
    uint64_t d;
    if (*p >= end || tr_get_varint(p, end, &d) || d == 0 || d > UINT32_MAX - prev) return 0;
    *gen = prev + (uint32_t)d;
    return 1;
}

/* Call fn for every chunk of term_id in the generations gens lists (a
 * tr_term_info's gens, gens_len), in key order, through mc on the postings
 * database: k and v are the chunk's key and value as LMDB gives them. A
 * listed generation without a chunk is TR_ECORRUPT; a non-zero return of fn
 * stops the walk and is returned, as is an LMDB error (not mapped). */
typedef int (*tr_chunk_fn)(void *ctx, uint32_t gen, const MDB_val *k, const MDB_val *v);
int tr_term_chunks(MDB_cursor *mc, uint32_t term_id, const uint8_t *gens, size_t gens_len,
                   tr_chunk_fn fn, void *ctx);

/* Stats: TR_STATS_BYTES little-endian. decode: TR_ECORRUPT on a bad length. */
void tr_stats_encode(const tr_stats *s, uint8_t out[TR_STATS_BYTES]);
int tr_stats_decode(tr_stats *s, const void *p, size_t len);

/* A term's value inside a dictionary block (dict.c; the block carries the
 * term id and the checksum). encode writes at most TR_TERM_VALUE_MAX bytes
 * and returns the length (info->term_id is not stored); decode verifies the
 * lengths and the inline chunk (TR_ECORRUPT), leaves info->term_id 0 and
 * points info->inline_chunk / info->gens into p. */
size_t tr_term_value_encode(const tr_term_info *info, uint8_t *out);
int tr_term_value_decode(tr_term_info *info, const void *p, size_t len);

/* Merge bound b into acc (keeps a valid bound of at most TR_BOUND_POINTS). */
void tr_bound_merge(tr_bound *acc, const tr_bound *b);

/* Docs value: fields. The body is not in it: it sits in a block value (the
 * bodies of consecutive documents, one zstd frame), at block_off of the
 * block keyed by doc + block_ahead (see schema.c). */
typedef struct tr_doc_rec {
    const char *id;    size_t id_len;
    const char *title; size_t title_len;
    const char *url;   size_t url_len;
    int64_t date;
    uint32_t title_terms, body_terms;
    uint64_t body_len;                    /* uncompressed */
    uint32_t block_ahead;                 /* when body_len > 0: block's last doc - doc */
    uint64_t block_off;                   /* when body_len > 0: body's offset in the block */
} tr_doc_rec;

int tr_doc_value_encode(const tr_doc_rec *d, tr_buf *out);
int tr_doc_value_decode(tr_doc_rec *d, const void *p, size_t len);

/* Body blocks live in the docs database under 5-byte keys, last doc u32 BE |
 * TR_DOC_BLOCK_TAG: such a key sorts right after its last document's key and
 * before the next document's, so a batch still writes the database in
 * append order. Blocks of at most TR_DOC_BLOCK_BYTES of bodies (a longer
 * body is a block of its own); see writer.c for why. */
#define TR_DOC_BLOCK_TAG 0x42
#define TR_DOC_BLOCK_KEY_BYTES 5
#define TR_DOC_BLOCK_BYTES ((size_t)64 << 10)
/* zstd level of body blocks (the writer's, and the merge's when it
 * rewrites a block without its deleted bodies). Level 1, as fast stored-
 * field codecs go (Lucene's default is LZ4): on 64 KiB blocks of the
 * passages zstd -b gives 186 MB/s at level 1 against 131 at level 3, for
 * 1.046x the bytes (`zstd -b1 -e3 -B64K`). Any level decodes. */
#define TR_DOC_BLOCK_ZSTD_LEVEL 1
/* Room for a block value's header (csum u32, raw_len varint). */
#define TR_DOC_BLOCK_HDR_MAX 14
static inline void tr_key_doc_block(uint8_t k[TR_DOC_BLOCK_KEY_BYTES], uint32_t last_doc)
{
    tr_put_be32(k, last_doc);
    k[4] = TR_DOC_BLOCK_TAG;
}

/* Finish a block value in place: buf holds the zstd frame (zlen bytes) at
 * buf + TR_DOC_BLOCK_HDR_MAX; the header is written just before it. Returns
 * the offset of the value in buf; *vlen is its length. */
size_t tr_doc_block_finish(uint8_t *buf, uint64_t raw_len, size_t zlen, size_t *vlen);
/* Verify a block value's checksum and that its frame declares raw_len bytes
 * (TR_ECORRUPT otherwise); *z points into p. */
int tr_doc_block_decode(const void *p, size_t len, uint64_t *raw_len, const uint8_t **z, size_t *zlen);

#endif
