/* index.h - the LMDB index: opening it, writing documents into it, and
 * reading it back (term lookup, posting cursors, stored documents).
 * The schema (databases, keys, values) is documented at the top of schema.c
 * and in docs/FORMAT.md. */
#ifndef TRAWL_INDEX_H
#define TRAWL_INDEX_H

#include "trawl.h"
#include "analyze.h"
#include "codec.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define TR_FORMAT_VERSION 5
#define TR_NO_DATE INT64_MIN
/* Longest external document id (bytes): LMDB keys are at most 511 bytes. */
#define TR_MAX_ID_BYTES 256
/* Terms whose whole posting chunk is at most this many bytes are stored
 * inside their dictionary entry instead of under a postings key (a postings
 * key costs a 12-byte key, an LMDB node and the chunk's header and csum).
 * Measured on enwiki / passages, dictionary + postings: 64 -> 132.1 / 150.3
 * MB, 128 -> 130.7 / 148.3, 256 -> 130.2 / 147.5, query time unchanged;
 * 128, because the writer's per-term commit record holds TR_INLINE_MAX bytes
 * (docs/FORMAT.md, "Measured: the blocked dictionary"). */
#ifndef TR_INLINE_MAX
#define TR_INLINE_MAX 128
#endif

/* Collection statistics, as of a snapshot. Deleted documents are not in
 * docs or the token totals. */
typedef struct tr_stats {
    uint64_t docs;          /* live documents */
    uint64_t deleted;       /* deleted, not yet purged by a merge */
    uint32_t next_doc;      /* the next internal id to assign (ids start at 1) */
    uint32_t next_term;     /* the next term id to assign (ids start at 1) */
    uint64_t terms;         /* distinct terms */
    uint64_t title_tokens, body_tokens; /* sums over live documents */
    uint32_t generation;    /* postings generation of the last commit that wrote
                               chunks (0: none yet); see schema.c */
} tr_stats;

typedef struct tr_index tr_index;

/* Open an index directory. Reading: the index must exist (TR_ENOTFOUND) and
 * be of TR_FORMAT_VERSION (TR_EVERSION). The message, if any, goes to err. */
int tr_index_open(const char *dir, tr_index **out, char *err, size_t errcap);
void tr_index_close(tr_index *ix); /* accepts NULL */

/* ---- writing -------------------------------------------------------- */

typedef struct tr_doc_in {
    const char *id;     size_t id_len;     /* required, 1..TR_MAX_ID_BYTES */
    const char *title;  size_t title_len;  /* may be empty */
    const char *body;   size_t body_len;
    const char *url;    size_t url_len;    /* may be empty */
    int64_t date;                           /* seconds since 1970 UTC, or TR_NO_DATE */
} tr_doc_in;

typedef struct tr_writer_opts {
    tr_settings settings;   /* used when the index is created; an existing
                               index keeps its own (a mismatch is an error) */
    int settings_given;     /* 1: settings were chosen explicitly */
    size_t memory;          /* in-memory inversion budget (bytes) */
    unsigned threads;       /* analysis threads (>= 1) */
    uint32_t batch_docs;    /* commit at least every this many docs (0: by memory only) */
    size_t initial_map;     /* initial LMDB map size (grows when full) */
} tr_writer_opts;

void tr_writer_opts_default(tr_writer_opts *o);

typedef struct tr_writer_stats {
    uint64_t added, replaced, deleted, missing_deletes, batches;
    uint64_t repacks;       /* commits that rewrote the dictionary in key order */
    uint64_t bytes_in;      /* title+body bytes analysed */
} tr_writer_stats;

typedef struct tr_writer tr_writer;

/* Create the index directory if needed, or open an existing index to add
 * to it. Only one writer may be open on an index at a time, in any process
 * (tr_schema_lock): TR_EBUSY for a second. */
int tr_writer_open(const char *dir, const tr_writer_opts *o, tr_writer **out,
                   char *err, size_t errcap);

/* Queue one document (its bytes are copied). A document whose id exists
 * replaces the old one. Committing happens by itself when the batch is
 * full. TR_EINPUT (with err) for an id that is empty or too long. */
int tr_writer_add(tr_writer *w, const tr_doc_in *doc, char *err, size_t errcap);

/* Delete by external id (in the current batch, after the documents queued
 * before it). Not finding the id is counted, not an error. */
int tr_writer_delete(tr_writer *w, const char *id, size_t id_len);

/* Commit everything queued as one LMDB transaction (durable on return). */
int tr_writer_commit(tr_writer *w, char *err, size_t errcap);

/* Drop everything queued since the last commit. */
void tr_writer_rollback(tr_writer *w);

void tr_writer_get_stats(const tr_writer *w, tr_writer_stats *out);

/* Commit what is queued and close. Returns the commit's result. */
int tr_writer_close(tr_writer *w, char *err, size_t errcap);

/* What tr_index_merge did. */
typedef struct tr_merge_stats {
    uint64_t terms_rewritten;   /* lists read and written again */
    uint64_t terms_dropped;     /* lists that held only deleted documents */
    uint64_t chunks_before;     /* postings chunks of the whole index, before */
    uint64_t chunks_after;      /* chunks the merge wrote */
    uint64_t postings_purged;   /* postings of deleted documents dropped */
    uint64_t docs_purged;       /* deleted documents whose records went */
    uint64_t blocks_rewritten;  /* body blocks recompressed without them */
    uint64_t txns;              /* transactions committed */
    uint32_t gens_before, gens_after; /* the last postings generation */
} tr_merge_stats;

/* Merge: rewrite every posting list held in more than one generation into
 * one (the last), and, when documents are deleted, every list without them,
 * then remove the deleted documents' records. Works in transactions of
 * about memory / 4 of postings, each leaving a sound index; threads decode
 * and encode. Takes the
 * writer lock (TR_EBUSY while a writer is open). */
int tr_index_merge(const char *dir, size_t memory, unsigned threads, tr_merge_stats *out, char *err,
                   size_t errcap);

/* ---- reading -------------------------------------------------------- */

/* A reader is one LMDB read transaction: a consistent snapshot for as long
 * as it lives, whatever a writer commits meanwhile. Everything a reader
 * returns by pointer is valid until tr_reader_end. Not thread-safe: one
 * reader per thread. */
typedef struct tr_reader tr_reader;

int tr_reader_begin(tr_index *ix, tr_reader **out, char *err, size_t errcap);
void tr_reader_end(tr_reader *r); /* accepts NULL */

const tr_stats *tr_reader_stats(const tr_reader *r);
const tr_settings *tr_reader_settings(const tr_reader *r);

/* Field lengths (terms) of a document; 0 for ids never assigned. */
uint32_t tr_reader_title_len(const tr_reader *r, uint32_t doc);
uint32_t tr_reader_body_len(const tr_reader *r, uint32_t doc);
int tr_reader_is_deleted(const tr_reader *r, uint32_t doc);
/* Field lengths of n documents at once: title[i] and body[i] for docs[i]
 * (0 for ids never assigned), as tr_reader_title_len/body_len give them.
 * One call per decoded block (or per candidate, for both fields) keeps the
 * norms lookup out of the evaluator's per-posting loop; docs in increasing
 * order are fastest. */
void tr_reader_lengths(const tr_reader *r, const uint32_t *docs, size_t n,
                       uint32_t *title, uint32_t *body);
/* A document's date (seconds since 1970 UTC) or TR_NO_DATE: served from the
 * same in-memory arrays as the lengths, cheap enough for filtering. */
int64_t tr_reader_date(const tr_reader *r, uint32_t doc);

typedef struct tr_term_info {
    uint32_t term_id;
    uint64_t df;            /* postings (including deleted docs not yet purged) */
    uint64_t cf;            /* occurrences */
    uint32_t nchunks;
    tr_bound bound;         /* over the whole list */
    const uint8_t *inline_chunk; size_t inline_len; /* when stored inline */
    /* when not inline: the postings generations holding the term's chunks,
     * ngens varints in gens_len bytes (the first absolute, then deltas >= 1;
     * walk them with tr_gens_next in schema.h), borrowed like inline_chunk */
    const uint8_t *gens; size_t gens_len; uint32_t ngens;
} tr_term_info;

/* Look a term up (already analysed). TR_ENOTFOUND when absent. */
int tr_reader_term(tr_reader *r, const char *term, size_t len, tr_term_info *out);

/* Call fn for every term starting with prefix, in byte order, at most limit
 * times. Returns 0, TR_ELIMIT if more terms matched than limit, or fn's
 * non-zero result. */
typedef int (*tr_term_fn)(void *ctx, const char *term, size_t len, const tr_term_info *info);
int tr_reader_prefix(tr_reader *r, const char *prefix, size_t len, size_t limit,
                     tr_term_fn fn, void *ctx);

/* A stored document: all pointers borrow from the snapshot except body,
 * which tr_reader_doc_body decompresses into a caller's buffer. */
typedef struct tr_doc_view {
    const char *id;    size_t id_len;
    const char *title; size_t title_len;
    const char *url;   size_t url_len;
    int64_t date;
    uint32_t title_terms, body_terms;
} tr_doc_view;

int tr_reader_doc(tr_reader *r, uint32_t doc, tr_doc_view *out);      /* TR_ENOTFOUND if deleted/absent */
int tr_reader_doc_body(tr_reader *r, uint32_t doc, tr_buf *out);      /* original body bytes */
int tr_reader_lookup_id(tr_reader *r, const char *id, size_t len, uint32_t *doc);

/* ---- posting cursors ---------------------------------------------------
 * Walks one term's postings across its chunks in doc order. The fields are
 * public so the query evaluator's hot loop can read them inline; only the
 * functions below change them. doc is TR_DOC_END when exhausted. A cursor
 * does not skip deleted documents: the evaluator does, with
 * tr_reader_is_deleted. Errors are sticky in rc. */
typedef struct tr_cursor {
    uint32_t doc;                 /* current doc, or TR_DOC_END */
    uint32_t i, n;                /* index into the decoded block, its size */
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    /* docs[n - 1] while the block pointer is on the decoded block, else 0:
     * a seek to a target up to it moves within docs[] and nothing else
     * (tr_cursor_seek_near) */
    uint32_t near_last;
    int rc;                       /* first error met (TR_ECORRUPT, ...) */
    /* block pointer: the block that holds (or would hold) the target of the
     * last shallow seek; its last doc is valid once positioned, its bound
     * through tr_cursor_block_bound (decoded when first asked for) */
    uint32_t blk_last;
    tr_bound blk_bound;
    int blk_bound_ok;             /* blk_bound holds the pointer block's */
    /* private */
    tr_reader *r;
    const tr_term_info *term;
    void *mc;                     /* MDB_cursor over the term's chunks */
    tr_chunk chunk;
    uint32_t blk;                 /* block index in chunk */
    int decoded;                  /* blk decoded into docs/tf/ttf */
    int want_positions, verify;
    uint32_t *pos; size_t pos_cap; uint32_t *pos_start; /* positions of the decoded block */
    int pos_decoded;
} tr_cursor;

/* Open a cursor at the term's first posting. verify: check block checksums
 * as they are decoded (queries do; benchmarks may turn it off). */
int tr_cursor_open(tr_reader *r, const tr_term_info *t, int want_positions,
                   int verify, tr_cursor *c);
void tr_cursor_close(tr_cursor *c);

int tr_cursor_next(tr_cursor *c);                 /* advance by one posting */
int tr_cursor_seek(tr_cursor *c, uint32_t target); /* first posting with doc >= target */

/* The first index >= i of docs[0, n) whose doc is >= target, given
 * docs[n - 1] >= target and docs ascending. A seek in a dense list usually
 * lands within eight: those eight are compared at once, counting the docs
 * below target without a branch per doc (a branchy scan mispredicted its
 * exit about once a seek). Past them (a rarer list's candidate, dozens of
 * postings on) a branchless binary search narrows the rest to eight, which
 * are counted the same way: a scan of eight at a time would mispredict its
 * exit once a seek and wait on each step. With SSE2 (every x86-64) eight
 * are two compares and a mask whose trailing ones are the count (and stay
 * in 0..8 whatever the docs). */
#ifdef __SSE2__
static inline uint32_t tr_docs_below8(const uint32_t *docs, uint32_t target)
{
    /* unsigned compare through the sign flip */
    const __m128i flip = _mm_set1_epi32(INT32_MIN);
    const __m128i t = _mm_xor_si128(_mm_set1_epi32((int)target), flip);
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)docs), flip);
    __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(docs + 4)), flip);
    unsigned below = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(t, a))) |
                     (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(t, b))) << 4;
    return (uint32_t)__builtin_ctz(~below);
}
#else
static inline uint32_t tr_docs_below8(const uint32_t *docs, uint32_t target)
{
    uint32_t k = 0;
    while (k < 8 && docs[k] < target) k++;
    return k;
}
#endif

static inline uint32_t tr_docs_first_at_least(const uint32_t *docs, uint32_t i, uint32_t n,
                                              uint32_t target)
{
    if (i + 8 <= n) {
        uint32_t k = tr_docs_below8(docs + i, target);
        if (k < 8) return i + k;
        /* the answer is in [i + 8, n): halve [base, base + len) while it
         * is longer than eight, keeping the answer inside */
        uint32_t base = i + 8, len = n - base;
        while (len > 8) {
            uint32_t half = len / 2;
            base = docs[base + half - 1] < target ? base + half : base;
            len -= half;
        }
        /* eight ending at the range's end or later (within docs: n - 8 >= i) */
        if (base + 8 > n) base = n - 8;
        return base + tr_docs_below8(docs + base, target);
    }
    while (docs[i] < target) i++;
    return i;
}

/* tr_cursor_seek with its commonest case inline: a target in the decoded
 * block, the block pointer on it (near_last), only moves i and doc. A
 * leapfrog's seeks are mostly that case; the call and the pointer checks
 * around it cost more than the search. */
/* The move itself: c->doc < target <= c->near_last. */
static inline void tr_cursor_move_near(tr_cursor *c, uint32_t target)
{
    uint32_t i = tr_docs_first_at_least(c->docs, c->i + 1, c->n, target);
    c->i = i;
    c->doc = c->docs[i];
}

static inline int tr_cursor_seek_near(tr_cursor *c, uint32_t target)
{
    if (c->doc >= target) return c->rc;       /* includes TR_DOC_END */
    if (target <= c->near_last) {
        tr_cursor_move_near(c, target);
        return 0;
    }
    return tr_cursor_seek(c, target);
}
/* Move to posting i (> c->i, < c->n) of the decoded block: tr_cursor_seek
 * to docs[i] without the search, for a caller that has already found i.
 * TR_EINPUT when i is not such a posting. */
int tr_cursor_seek_index(tr_cursor *c, uint32_t i);
/* Move the block pointer to the block that would hold target, without
 * decoding it; sets blk_last and blk_bound (blk_last = TR_DOC_END when no
 * block remains). Never moves backwards. */
int tr_cursor_shallow(tr_cursor *c, uint32_t target);
/* The pointer block's score bound (all zero past the end). */
void tr_cursor_load_bound(tr_cursor *c);
static inline const tr_bound *tr_cursor_block_bound(tr_cursor *c)
{
    if (!c->blk_bound_ok) tr_cursor_load_bound(c);
    return &c->blk_bound;
}
/* Positions of the current posting: ttf title positions then body
 * positions (see codec.h). *pos borrows from the cursor until it moves.
 * TR_EINPUT after tr_cursor_docs_only. */
int tr_cursor_positions(tr_cursor *c, const uint32_t **pos, uint32_t *n);
/* From the next block on, decode doc ids only: tf and ttf (and positions)
 * are no longer kept up to date. For counting, which reads docs alone;
 * there is no way back. */
void tr_cursor_docs_only(tr_cursor *c);

#endif
