/* inspect.h - what an index is made of: bytes per database and per part of
 * the posting chunks, for `trawl-index --stats` and the benchmarks. */
#ifndef TRAWL_INSPECT_H
#define TRAWL_INSPECT_H

#include "index.h"

typedef struct tr_index_sizes {
    /* bytes of LMDB pages (branch + leaf + overflow) per database */
    uint64_t meta, terms, postings, docs, ids, norms, deleted;
    /* inside the posting chunks (stored under postings keys or inline in
     * terms values): doc ids + frequencies + directory, and positions */
    uint64_t chunk_docs, chunk_positions;
    uint64_t nchunks, ninline, npostings;   /* npostings = sum of df */
    uint64_t file_bytes;                      /* data.mdb on disk */
} tr_index_sizes;

/* Walks the whole dictionary and every chunk header: O(index) time. */
int tr_index_sizes_get(tr_index *ix, tr_index_sizes *out, char *err, size_t errcap);

#endif
