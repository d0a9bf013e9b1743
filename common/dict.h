/* dict.h - the term dictionary (the `terms` database): front-coded blocks of
 * consecutive terms, each block one LMDB value keyed by its last term. Every
 * reader and writer of the dictionary goes through here: single lookups,
 * sorted lookups (the writer's merge-walk), ordered walks (prefix expansion,
 * check, inspect) and the batch apply that writes it. Layout at the top of
 * dict.c and in docs/FORMAT.md (`terms`).
 *
 * Memory: every tr_term_info filled here borrows its inline chunk and
 * generation list from the LMDB map (or, for tr_dict_block_open on a caller's
 * buffer, from that buffer): valid until the transaction ends or, in a write
 * transaction, until the next tr_dict_apply or put into `terms`. */
#ifndef TRAWL_DICT_H
#define TRAWL_DICT_H

#include "schema.h"

/* The block cap is derived from the page size so that blocks pack leaf pages:
 * a block is cut when its LMDB node (8-byte node header + key + value) would
 * pass (page - 16) / TR_DICT_BLOCKS_PER_PAGE - 2 (the 2 is its slot in the
 * page's index), so exactly TR_DICT_BLOCKS_PER_PAGE full blocks fill a page
 * that LMDB's append mode keeps full. Measured on enwiki (dictionary bytes
 * and lookup time, see FORMAT.md): 2 (node <= 2,038 bytes: the most LMDB
 * keeps in a leaf page) vs 4 and 8. */
#ifndef TR_DICT_BLOCKS_PER_PAGE
#define TR_DICT_BLOCKS_PER_PAGE 4
#endif
/* tr_dict_apply rewrites the whole dictionary in key order (full pages) when
 * at least 1 in TR_DICT_REWRITE_SHARE of its blocks would be touched;
 * otherwise it rewrites the touched blocks in place. */
#define TR_DICT_REWRITE_SHARE 4
/* Writing walks (tr_dict_seek_find, tr_dict_apply) drop the map's pages
 * (tr_schema_drop_map) every this many block bytes read, so a walk over a
 * dictionary of any size adds a bounded amount of file pages to RSS: this
 * much times the pages the kernel maps around each fault (16 by default). */
#define TR_DICT_DROP_BYTES ((size_t)512 << 10)

/* The node size limit for a page of psize bytes (see TR_DICT_BLOCKS_PER_PAGE). */
static inline size_t tr_dict_node_max(size_t psize)
{
    return (((psize - 16) / TR_DICT_BLOCKS_PER_PAGE) - 2) & ~(size_t)1;
}

/* ---- one block ---------------------------------------------------------- */

/* Walks the entries of one block in order. Fields are read-only for callers:
 * term/len is the current term (rebuilt from the front coding), term_id its
 * id, val/vlen its value (tr_term_value_decode form), borrowed from the
 * block. */
typedef struct tr_dict_iter {
    const uint8_t *p, *end;
    uint8_t term[TR_MAX_TERM_BYTES];
    size_t len;
    size_t pfx;                 /* bytes it shares with the previous term */
    uint32_t term_id;
    const uint8_t *val;
    size_t vlen;
    size_t n;                   /* entries read so far */
} tr_dict_iter;

/* Start walking a block value: 0, or TR_ECORRUPT when its checksum fails or
 * it is too short. */
int tr_dict_block_open(tr_dict_iter *it, const void *block, size_t len);
/* Step to the next entry: 1 (an entry), 0 (the end of a non-empty block) or
 * TR_ECORRUPT (an empty block, a length past the end, a zero-length or
 * over-long term, a prefix longer than the previous term, terms not strictly
 * increasing, a term id outside 1..UINT32_MAX, a value too long). */
int tr_dict_block_next(tr_dict_iter *it);
/* Decode the current entry's value (TR_ECORRUPT if it does not decode). */
int tr_dict_entry_info(const tr_dict_iter *it, tr_term_info *out);

/* ---- reading ------------------------------------------------------------ */

/* Look one term up: 0, TR_ENOTFOUND, TR_ECORRUPT or another TR_E* from
 * LMDB. The block is read only up to the term: its checksum is always
 * verified, the structure of the entries up to the term (tr_dict_block_next),
 * and that the term is not past the last entry while at most the key;
 * damage further on is found by walks and --check. */
int tr_dict_get(MDB_txn *txn, MDB_dbi dbi, const void *term, size_t len, tr_term_info *out);

/* Looking up many terms in ascending byte order: each lookup continues in
 * the block of the last one when it can, and seeks (one B-tree descent)
 * otherwise, so a sorted batch costs one pass over the blocks it touches.
 * Terms given to tr_dict_seek_find must be strictly ascending. */
typedef struct tr_dict_seek {
    MDB_cursor *mc;
    int have;                   /* a block is open */
    int cur;                    /* it.term is an entry not yet passed */
    uint8_t key[TR_MAX_TERM_BYTES];
    size_t klen;
    tr_dict_iter it;
    size_t read;                /* block bytes read since the map was last dropped */
} tr_dict_seek;
int tr_dict_seek_open(tr_dict_seek *s, MDB_txn *txn, MDB_dbi dbi);
/* Same results as tr_dict_get. */
int tr_dict_seek_find(tr_dict_seek *s, const void *term, size_t len, tr_term_info *out);
void tr_dict_seek_close(tr_dict_seek *s);

/* Call fn for every term that starts with prefix (every term when plen is 0),
 * in byte order, with the rebuilt term bytes (valid during the call). Stops
 * at fn's first non-zero result and returns it; else 0, TR_ECORRUPT (a
 * damaged block, or one whose last term is not its key), or an LMDB error. */
typedef int (*tr_dict_fn)(void *ctx, const uint8_t *term, size_t len, const tr_term_info *info);
int tr_dict_walk(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen, tr_dict_fn fn, void *ctx);

/* ---- writing ------------------------------------------------------------ */

/* One change to the dictionary. val (vlen bytes, as tr_term_value_encode
 * writes it) is the term's new value with term_id its id: inserted if the
 * term is absent, replacing the old value and id otherwise. val NULL deletes
 * the term (absent: nothing happens). All bytes are only read during
 * tr_dict_apply. */
typedef struct tr_dict_update {
    const uint8_t *term;
    size_t len;                 /* 1..TR_MAX_TERM_BYTES */
    uint32_t term_id;           /* >= 1 */
    const uint8_t *val;
    size_t vlen;                /* 1..TR_TERM_VALUE_MAX */
} tr_dict_update;

typedef struct tr_dict_apply_stats {
    size_t blocks_before;       /* blocks in the database before */
    size_t blocks_touched;      /* old blocks that held or receive an update */
    size_t blocks_written;      /* blocks put */
    int rewrote;                /* 1: the whole dictionary was rewritten */
} tr_dict_apply_stats;

/* Apply n updates, sorted by term bytes (strictly ascending: memcmp order,
 * a prefix before its extensions), inside write transaction txn.
 *
 * Only the blocks the updates fall into are read and rewritten (a block that
 * outgrows the cap is split into even pieces; an emptied one is deleted).
 * When at least 1 in TR_DICT_REWRITE_SHARE blocks is touched and the
 * database is at most rewrite_max bytes, the whole dictionary is rebuilt
 * instead and written back in key order with MDB_APPEND (pages full; the
 * new blocks are held on the heap meanwhile, about the dictionary's size).
 *
 * Returns 0, TR_EINPUT (updates not sorted, a bad length or id),
 * TR_ECORRUPT (a damaged block met), TR_ENOMEM, or an LMDB error mapped to
 * TR_E* (TR_EFULL: the map is full; the caller aborts txn and retries in a
 * bigger map). On error the database is in an unspecified state: abort txn.
 * st may be NULL. */
int tr_dict_apply(MDB_txn *txn, MDB_dbi dbi, const tr_dict_update *u, size_t n, uint64_t rewrite_max,
                  tr_dict_apply_stats *st);

#endif
