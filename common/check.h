/* check.h - the index integrity checker behind `trawl-index --check`: reads
 * every stored byte of an index snapshot and reports each problem with its
 * location (database, key, what is wrong). It trusts nothing it reads. */
#ifndef TRAWL_INDEX_CHECK_H
#define TRAWL_INDEX_CHECK_H

#include "trawl.h"

/* Problems passed to the callback at most; the rest are only counted, so a
 * badly damaged index cannot flood the report. */
#define TR_CHECK_MAX_REPORTS 100

/* What was read, and how many problems were found. */
typedef struct tr_check_counts {
    uint64_t problems;
    uint64_t terms, chunks, blocks, postings, positions;
    uint64_t docs, deleted, ids, body_bytes;
} tr_check_counts;

/* One problem: db is a database name ("meta", "terms", ...), key a printable
 * form of the key (term bytes escaped, doc ids in decimal), what the problem.
 * The strings are valid only during the call. */
typedef void (*tr_check_fn)(void *ctx, const char *db, const char *key, const char *what);

/* Check the index in dir. quick != 0: checksums only (every dictionary
 * entry, chunk directory, block payload and document value), no cross-checks.
 * Returns 0 when the index is sound, TR_ECORRUPT when problems were found
 * (each passed to fn, which may be NULL), or the error that stopped the check
 * from running at all (TR_ENOTFOUND, TR_EVERSION, TR_ENOMEM, TR_ELMDB, ...)
 * with a message in err. counts may be NULL. */
int tr_check_index(const char *dir, int quick, tr_check_fn fn, void *ctx,
                   tr_check_counts *counts, char *err, size_t errcap);

#endif
