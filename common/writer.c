/* writer.c - the index writer: documents are queued into a batch, analysed
 * by worker threads a window at a time, inverted in input order into an
 * in-memory hash of compact posting buffers, and committed as one LMDB write
 * transaction (schema in schema.c).
 *
 * Determinism: doc ids are assigned at tr_writer_add, windows and batches end
 * at limits that do not depend on the thread count, the inverter consumes the
 * window's documents in input order, and new term ids are given in sorted
 * byte order of the terms at commit. So every stored byte is the same for any
 * number of threads. */
#include "chunker.h"
#include "dict.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
/* XXH3 inlined, as in analyze.c: on_token hashes every token, and a call
 * into the shared library costs as much as hashing a short term */
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <zstd.h>

/* From this --memory on, the fixed 64 MiB of RSS slack is a small part of
 * the budget, and a few buffers are bigger (windows of short documents,
 * the first encode round of a commit). */
#define TR_ROOMY_MEMORY ((size_t)512 << 20)
/* From TR_ROOMY_MEMORY on, the analysers' stem caches together take up to
 * opts.memory / this, on huge pages (each at least its default 8 MiB;
 * below, the default, calloc'ed): at 1G with 2 threads, 32 MiB each, which
 * halves the stemmer calls on the passages (1.82M -> 0.85M) and made the
 * analysis 1.18-1.21x as fast (bench_analyze on 200 MB, alternated). */
#define TR_STEM_CACHE_SHARE 16
/* A window is the unit of parallel analysis: big enough that thread start-up
 * is noise, small enough that raw text held for it stays a few MiB. One
 * window is analysed in the background while the next one is queued. */
#define TR_WINDOW_DOCS 2048
#define TR_WINDOW_BYTES (8u << 20)
/* Under TR_ROOMY_MEMORY a window holds at most this many: 2048
 * passages took 5-8 MiB more peak RSS at 64M than 512 did. */
#define TR_WINDOW_DOCS_SMALL 512
/* Under small budgets a window's text (queued, then analysed: about twice
 * it is held), its analysis output and an encode round are capped at
 * opts.memory / TR_FIXED_SHARE (at least TR_FIXED_MIN), so that the fixed
 * part above the inversion shrinks with the budget; at the default 1G the
 * caps above apply unchanged. */
#define TR_FIXED_SHARE 64
#define TR_FIXED_MIN ((size_t)1 << 20)
/* Records of a document parsed (and their table slots prefetched) ahead of
 * their lookups in the inverter: enough to cover a cache miss's latency. */
#define TR_INVERT_AHEAD 16
/* Posting bytes (of the in-memory buffers) encoded per parallel round at
 * commit: bounds the encoded chunks held before they are written. */
#define TR_ENCODE_ROUND_BYTES ((size_t)16 << 20)
/* The first round is this many rounds (see write_batch) under budgets of
 * TR_ROOMY_MEMORY or more; below, where the RSS slack is tight, one (at
 * 64M it cost 10 MiB of peak RSS on enwiki: 131 against 119). */
#define TR_FIRST_ROUND_ROUNDS 4
/* Windows in flight at once (see tr_writer_add). 2: window N+1 is analysed
 * by a second set of workers while window N is inverted. Measured worse on
 * 2 cores (passages: +13% CPU, slower wall): each analyzer's stem cache sees
 * half the documents and the caches' footprint doubles; with input parsing
 * on its own thread (indexer/pipeline.c). So 1: wait for window N's
 * threads, launch N+1 on the same workers, then invert N while they analyse
 * it (inverting N first left the analysis threads idle meanwhile); build with
 * -DTR_WINDOW_SETS=2 to compare. */
#ifndef TR_WINDOW_SETS
#define TR_WINDOW_SETS 1
#endif
#define TR_MAX_THREADS 64
#define TR_DEFAULT_MEMORY ((size_t)1 << 30)
#define TR_DEFAULT_INITIAL_MAP ((size_t)64 << 20)
/* Percent of opts.memory for the inverter; the rest is left for LMDB's
 * dirty pages of the commit, which are about as big as the encoded batch,
 * and the fixed costs (input queue, analysers). 65, not 50: at 1G the
 * passages take 2 batches instead of 3 (postings 120.6 against 122.1 MB:
 * each batch splits the lists it shares with the others), enwiki's peak
 * RSS is 793 MiB (608 at 50), and at 512M 488 MiB (437). */
#ifndef TR_INVERT_PCT
#define TR_INVERT_PCT 65
#endif
/* Bytes of one chunk of the batch's document arena (see arena_alloc): a
 * wdoc and its meta bytes are carved from it; larger requests than a
 * quarter of it get a chunk of their own. */
#define TR_ARENA_CHUNK ((size_t)256 << 10)
/* Rough malloc overhead counted per allocation. */
#define TR_ALLOC_OVERHEAD 16
/* Posting buffers (term_ent.buf) start at 16 bytes and double; up to
 * TR_POOL_MAX bytes they are carved from chunks of TR_POOL_CHUNK bytes,
 * with a free list per size, and freed with the chunks at the end of the
 * batch; bigger ones are malloc'ed. Most terms of a batch never pass
 * 64 bytes (the passages: ~3M terms a batch), and a malloc'ed buffer each
 * cost a malloc and a free per doubling and, at the batch's end, a walk of
 * the whole term table to free them while the other threads idle. The
 * budget counts the buffers' capacities as before. */
#define TR_POOL_MIN_SHIFT 4
#define TR_POOL_MAX_SHIFT 12
#define TR_POOL_MAX ((size_t)1 << TR_POOL_MAX_SHIFT)
#define TR_POOL_CLASSES (TR_POOL_MAX_SHIFT - TR_POOL_MIN_SHIFT + 1)
#define TR_POOL_CHUNK ((size_t)256 << 10)
/* The dictionary is rewritten whole (dict.h, tr_dict_apply) only while its
 * bytes are at most opts.memory / TR_REPACK_MEMORY_SHARE, because the new
 * blocks are held on the heap meanwhile. */
#define TR_REPACK_MEMORY_SHARE 4
/* A term whose generation list would outgrow TR_TERM_GENS_MAX_BYTES has all
 * its chunks moved into the committing generation (regen_term). The terms in
 * every batch reach that limit in the same commit (the 64th or so): it moved
 * 115 MB of chunks at once on the passages with --memory 32M, and the pages
 * it dirtied stay in LMDB's page cache (heap) to the end. So a commit also
 * moves, early, the lists of terms past TR_REGEN_EARLY_BYTES of generations,
 * in term id order, up to opts.memory / TR_REGEN_MEMORY_SHARE chunk bytes:
 * the moves spread over commits, each within the budget. Not from half the
 * limit: a move deletes keys from half-empty old leaves (dirty pages, and
 * space the file keeps), and moving from 32 bytes on cost the passages with
 * --memory 64M (45 commits, none forced) +33 MiB of peak RSS and +20 MB of
 * postings. */
#define TR_REGEN_EARLY_BYTES (TR_TERM_GENS_MAX_BYTES * 3 / 4)
#define TR_REGEN_MEMORY_SHARE 8
/* Old documents' lengths are read from the norms (doc_dl) when an inline
 * chunk is merged: each read maps a page of the index file and the kernel
 * maps up to TR_FAULT_AROUND_BYTES around it (fault-around: 16 pages), so
 * the map is dropped after opts.memory / TR_MAP_READ_SHARE of those, or
 * TR_MAP_READ_MIN: dropping after every 16 reads (--memory 16M) cost more
 * system time in refaults than the indexing did. */
#define TR_FAULT_AROUND_BYTES ((size_t)64 << 10)
#define TR_MAP_READ_SHARE 4
#define TR_MAP_READ_MIN ((size_t)16 << 20)

/* ---- a block of stored bodies ----
 * Bodies are compressed a block of consecutive documents at a time (up to
 * TR_DOC_BLOCK_BYTES, schema.h), as Lucene does its stored fields: one zstd
 * call per block instead of one per document, whose set-up dominated on
 * short documents, and a better ratio since neighbours share words. Blocks
 * are cut in input order within a window (window_launch), so their bounds
 * do not depend on the thread count, and compressed by the analysis workers. */
typedef struct dblock {
    size_t first, end;          /* the window job's docs [first, end); those with a body are in it */
    uint32_t last_doc;          /* the last of them: the block's key */
    size_t raw;                 /* bytes of bodies */
    tr_buf val;                 /* the docs value, at voff, vlen bytes (tr_doc_block_finish) */
    size_t voff, vlen;
    int rc;
} dblock;

/* ---- a queued document ----
 * The wdoc and its meta live in the batch's arena until the commit; the
 * body in its window's text (window_job.text) until the window is
 * inverted, by then it is compressed into its block. */
typedef struct wdoc {
    uint32_t doc;
    char *meta;                 /* id | title | url */
    size_t id_len, title_len, url_len;
    const char *body;           /* set when its window is launched; NULL after inversion */
    size_t body_len, body_off;  /* body_off: in its window's text */
    int64_t date;
    dblock *blk;                /* its body's block (NULL when body_len = 0) */
    size_t blk_off;             /* its body's offset in the block */
    /* analysis results: grouped terms (see analyse_doc), inv_len bytes at
     * inv_off in the output buffer of the window's thread inv_th */
    size_t inv_off, inv_len;
    uint32_t inv_th;
    uint32_t title_terms, body_terms;
    int rc;
} wdoc;

/* Bump allocation for what lives exactly as long as the batch: two
 * malloc/free pairs per document less (776k passages). */
typedef struct arena {
    char **chunks; size_t n, cap;
    char *cur; size_t used, size;  /* the chunk being carved */
} arena;

/* The posting buffers' pool (see TR_POOL_MAX): chunks carved in order,
 * and a free list per size class (the next pointer in the block's first
 * bytes). big: the terms whose buffer outgrew the pool (malloc'ed). */
typedef struct pool {
    uint8_t **chunks; size_t n, cap;
    uint8_t *cur; size_t used;
    void *free[TR_POOL_CLASSES];
    struct term_ent **big; size_t nbig, bigcap;
} pool;

/* ---- inverter ---- */
/* What only a commit needs of a term: kept out of term_ent so that the
 * inverter's entry is one or two cache lines with the term bytes in them
 * (it was four, and the lookup missed on each). */
typedef struct term_cold {
    int existing;
    uint32_t voff;              /* its new dictionary value: vlen bytes at voff of
                                   tr_writer.dvals (voff and vlen sit in padding) */
    tr_term_info old;           /* when existing (inline chunk or generation list copied into oldinl) */
    tr_buf enc;                 /* encoded chunks, records of first_doc u32 | len u32 | bytes */
    int enc_rc;
    uint8_t oldinl[TR_INLINE_MAX];
    uint32_t vlen;
} term_cold;

typedef struct term_ent {
    uint32_t len;
    uint32_t term_id;           /* 0 until commit assigns or finds it */
    uint32_t ndocs, last_doc;
    uint64_t cf;
    uint8_t *buf; size_t blen, bcap;
    term_cold *c;               /* commit only: its slot in tr_writer.cold */
    char term[];
} term_ent;

/* A table slot keeps the hash beside the pointer: probes compare hashes in
 * the table and touch the (cache-cold) entry only on a match. */
typedef struct tslot { uint64_t hash; term_ent *e; } tslot;
/* Sorting key at commit: the first 8 term bytes big-endian, so most
 * comparisons are one integer compare with no pointer chased. */
typedef struct skey { uint64_t key; term_ent *e; } skey;
/* ---- ids touched by the batch ---- */
typedef struct id_ent {
    uint64_t hash;
    char *id; size_t len;
    uint32_t doc;               /* 0: deleted in this batch */
} id_ent;

_Static_assert(TR_MAX_TERM_BYTES < 128, "term length is stored as a one-byte varint");

/* ---- per analysis thread ----
 * A document's tokens are grouped by term with a small hash table (slots
 * stamped with a generation, so nothing is cleared between documents); each
 * distinct term keeps a chain of its tokens in analysis order, which is
 * title positions ascending then body positions ascending. */
typedef struct tok { uint32_t pos, next; } tok;
typedef struct dterm { uint64_t hash; uint32_t off, len, head, tail, tf, ttf; } dterm;
typedef struct dslot { uint32_t gen, term; } dslot;
/* Each thread's worker and thread_arg sit on cache lines of their own
 * (aligned to 128 bytes: a line and its prefetched neighbour): side by side,
 * the two analysis threads wrote the same lines at every token (ntoks,
 * nterms; the output buffer's length at every document). The structs that
 * hold them are allocated with cache_zalloc. */
#define TR_LINE_ALIGN 128
typedef struct worker {
    _Alignas(TR_LINE_ALIGN) tr_analyzer *a;
    ZSTD_CCtx *z;
    tr_buf arena;               /* bytes of the doc's distinct terms */
    tok *toks; size_t ntoks, tokcap;
    dterm *terms; size_t nterms, termcap;
    dslot *slots; size_t slotcap;
    uint32_t gen;
    uint8_t field;
    int oom;
} worker;
struct tr_writer {
    tr_index *ix;
    tr_writer_opts o;
    tr_settings settings;
    tr_stats committed;
    tr_writer_stats ws;
    int rc;                     /* sticky */
    /* two sets of analysis workers: window N+1 is analysed (by one set)
     * while window N's threads finish and N is inverted (the other set) */
    worker wk[TR_WINDOW_SETS][TR_MAX_THREADS];
    unsigned nwk, wset;
    /* batch */
    wdoc **docs; size_t ndocs, doccap, win_start; /* docs: in dmem */
    arena dmem;                 /* the batch's wdocs and their meta bytes */
    arena tmem;                 /* its term entries and id copies: freed at once */
    pool pmem;                  /* its small posting buffers: freed at once */
    tr_buf win_text;            /* bodies of the window being queued, in doc order */
    /* window buffers (texts, analysis output) of finished windows, reused
     * by the next ones until the commit (see spare_take) */
    tr_buf spare[2 * (TR_MAX_THREADS + 1)];
    size_t nspare;
    dblock **blocks; size_t nblocks, blockcap;    /* the batch's body blocks, in doc order */
    struct window_job *job;     /* the oldest window being analysed, if any */
    struct window_job *job_next; /* the window launched after it, if any */
    uint32_t *dls;              /* dl (title + body terms) per batch doc, by doc - first:
                                   a dense array, so commit does not chase doc pointers */
    uint32_t *tls;              /* title terms per batch doc, the same way */
    size_t win_bytes;
    uint32_t next_doc;
    uint32_t *dels; size_t ndels, delcap;
    tslot *tab; size_t tabcap, nterms;
    id_ent *ids; size_t idcap, nids;
    size_t mem;
    MDB_txn *rtxn;              /* read snapshot for id lookups between commits */
    /* commit scratch */
    tr_enc_scratch sc[TR_MAX_THREADS];
    tr_buf val;
    term_ent **sorted, **order;
    term_cold *cold;            /* per term of the batch being committed */
    tr_buf dvals;               /* the commit's new term values, applied at its end */
    tr_dict_update *dupd;       /* the commit's dictionary updates, in byte order */
    int gen_used;               /* this commit wrote postings keys (its generation) */
    size_t regen_left;          /* chunk bytes this commit may still move early (TR_REGEN_MEMORY_SHARE) */
    size_t regen_read;          /* chunk bytes moved since the map was last dropped */
    atomic_size_t norm_reads;   /* norms read (doc_dl) since the map was last dropped: the
                                 * commit's encode threads count them together */
    int repacked;               /* this commit rewrote the dictionary */
    int enc_left;               /* a commit failed: terms may hold encoded chunks */

};

static void *arena_alloc(tr_writer *w, arena *a, size_t n);

/* n zeroed bytes aligned to TR_LINE_ALIGN (freed with free), or NULL. */
static void *cache_zalloc(size_t n)
{
    n = (n + TR_LINE_ALIGN - 1) & ~(size_t)(TR_LINE_ALIGN - 1);
    void *p = aligned_alloc(TR_LINE_ALIGN, n);
    if (p) memset(p, 0, n);
    return p;
}

void tr_writer_opts_default(tr_writer_opts *o)
{
    memset(o, 0, sizeof *o);
    tr_settings_default(&o->settings);
    o->memory = TR_DEFAULT_MEMORY;
    o->threads = 1;
    o->batch_docs = 0;
    o->initial_map = TR_DEFAULT_INITIAL_MAP;
}

/* The budget is TR_ROOMY_MEMORY or more: the bigger buffers apply. */
static int roomy(const tr_writer *w) { return w->o.memory >= TR_ROOMY_MEMORY; }

/* A fixed buffer's cap under this writer's budget (see TR_FIXED_SHARE). */
static size_t fixed_cap(const tr_writer *w, size_t cap)
{
    size_t c = w->o.memory / TR_FIXED_SHARE;
    if (c < TR_FIXED_MIN) c = TR_FIXED_MIN;
    return c < cap ? c : cap;
}

/* ---- analysis (runs in worker threads; touches only its doc and worker) ---- */

static uint64_t hash_bytes(const void *p, size_t n) { return XXH3_64bits(p, n); }

static int slots_grow(worker *w)
{
    size_t cap = w->slotcap ? w->slotcap * 2 : 1024;
    dslot *s = calloc(cap, sizeof *s);
    if (!s) return TR_ENOMEM;
    w->gen = 1;
    for (size_t t = 0; t < w->nterms; t++) {
        size_t j = w->terms[t].hash & (cap - 1);
        while (s[j].gen == w->gen) j = (j + 1) & (cap - 1);
        s[j].gen = w->gen;
        s[j].term = (uint32_t)t;
    }
    free(w->slots);
    w->slots = s;
    w->slotcap = cap;
    return TR_OK;
}

static int on_token(void *ctx, const tr_token *t)
{
    worker *w = ctx;
    if (t->len == 0) return 0;     /* not a storable key; the analyzer should never emit one */
    if (w->ntoks == w->tokcap) {
        size_t cap = w->tokcap ? w->tokcap * 2 : 1024;
        tok *n = realloc(w->toks, cap * sizeof *n);
        if (!n) { w->oom = 1; return 1; }
        w->toks = n;
        w->tokcap = cap;
    }
    if ((w->nterms + 1) * 2 > w->slotcap && slots_grow(w)) { w->oom = 1; return 1; }
    uint32_t tlen = t->len <= TR_MAX_TERM_BYTES ? t->len : TR_MAX_TERM_BYTES;
    uint32_t ti = (uint32_t)w->ntoks;
    w->toks[ti].pos = t->pos;
    w->toks[ti].next = UINT32_MAX;
    w->ntoks++;
    uint64_t h = hash_bytes(t->term, tlen);
    size_t j = h & (w->slotcap - 1);
    for (; w->slots[j].gen == w->gen; j = (j + 1) & (w->slotcap - 1)) {
        dterm *e = &w->terms[w->slots[j].term];
        if (e->hash == h && e->len == tlen && !memcmp(w->arena.data + e->off, t->term, tlen)) {
            w->toks[e->tail].next = ti;
            e->tail = ti;
            e->tf++;
            e->ttf += w->field == 0;
            return 0;
        }
    }
    if (w->nterms == w->termcap) {
        size_t cap = w->termcap ? w->termcap * 2 : 512;
        dterm *n = realloc(w->terms, cap * sizeof *n);
        if (!n) { w->oom = 1; return 1; }
        w->terms = n;
        w->termcap = cap;
    }
    dterm *e = &w->terms[w->nterms];
    *e = (dterm){ h, (uint32_t)w->arena.len, tlen, ti, ti, 1, w->field == 0 };
    if (tr_buf_append(&w->arena, t->term, tlen)) { w->oom = 1; return 1; }
    w->slots[j].gen = w->gen;
    w->slots[j].term = (uint32_t)w->nterms++;
    return 0;
}

/* Output per distinct term of the doc, in first-occurrence order:
 *   hash u64 LE | term_len u8 | term | tail_len u32 LE |
 *   tail = tf v | ttf v | title pos deltas | body pos deltas
 * (deltas restart at each field: first position absolute). The inverter
 * copies the tail verbatim after a doc delta. The tail length is patched in
 * after the tail, so it has a fixed width: a u32, not a 5-byte varint,
 * which the inverter read through tr_get_varint's general loop (106M of
 * 6.08G instructions on 20 MB of passages). */
static int analyse_doc(worker *w, wdoc *d, tr_buf *out)
{
    w->ntoks = w->nterms = 0;
    tr_buf_clear(&w->arena);
    w->oom = 0;
    if (++w->gen == 0) {       /* generation wrapped: stale stamps could match */
        memset(w->slots, 0, w->slotcap * sizeof *w->slots);
        w->gen = 1;
    }
    const char *title = d->meta + d->id_len;
    w->field = 0;
    int rc = tr_analyze(w->a, title, d->title_len, 0, on_token, w);
    if (w->oom) return TR_ENOMEM;
    if (rc) return rc < 0 ? rc : TR_ENOMEM;
    size_t nt = w->ntoks;
    w->field = 1;
    rc = tr_analyze(w->a, d->body, d->body_len, 0, on_token, w);
    if (w->oom) return TR_ENOMEM;
    if (rc) return rc < 0 ? rc : TR_ENOMEM;
    d->title_terms = (uint32_t)nt;
    d->body_terms = (uint32_t)(w->ntoks - nt);
    /* worst case per term: 8 + 1 + len + 4 + (2 + tf) * 5 bytes */
    if (tr_buf_reserve(out, w->nterms * 25 + w->arena.len + w->ntoks * 5)) return TR_ENOMEM;
    uint8_t *o = out->data + out->len;
    for (size_t i = 0; i < w->nterms; i++) {
        const dterm *e = &w->terms[i];
        tr_put_le64(o, e->hash);
        o += 8;
        *o++ = (uint8_t)e->len;            /* len <= TR_MAX_TERM_BYTES < 128: one byte */
        memcpy(o, w->arena.data + e->off, e->len);
        o += e->len;
        uint8_t *lenp = o;
        o += 4;                            /* tail length: patched below */
        uint8_t *t0 = o;
        uint32_t v = e->tf;
        while (v >= 0x80) { *o++ = (uint8_t)(v | 0x80); v >>= 7; }
        *o++ = (uint8_t)v;
        v = e->ttf;
        while (v >= 0x80) { *o++ = (uint8_t)(v | 0x80); v >>= 7; }
        *o++ = (uint8_t)v;
        uint32_t prev = 0, k = 0;
        for (uint32_t ti = e->head; ti != UINT32_MAX; ti = w->toks[ti].next, k++) {
            uint32_t pos = w->toks[ti].pos;
            v = (k == 0 || k == e->ttf) ? pos : pos - prev;
            prev = pos;
            while (v >= 0x80) { *o++ = (uint8_t)(v | 0x80); v >>= 7; }
            *o++ = (uint8_t)v;
        }
        tr_put_le32(lenp, (uint32_t)(o - t0));
    }
    d->inv_off = out->len;
    d->inv_len = (size_t)(o - (out->data + out->len));
    out->len += d->inv_len;
    return TR_OK;
}

/* Compress block b of docs (the window job's) into its finished value.
 * Its bodies are consecutive in the window's text, first doc first. */
static int compress_block(worker *w, wdoc *const *docs, dblock *b)
{
    const char *src = docs[b->first]->body;
    size_t bound = ZSTD_compressBound(b->raw);
    tr_buf_clear(&b->val);
    if (tr_buf_reserve(&b->val, TR_DOC_BLOCK_HDR_MAX + bound)) return TR_ENOMEM;
    size_t zn = ZSTD_compressCCtx(w->z, b->val.data + TR_DOC_BLOCK_HDR_MAX, bound, src, b->raw, TR_DOC_BLOCK_ZSTD_LEVEL);
    if (ZSTD_isError(zn)) return TR_ENOMEM;
    b->voff = tr_doc_block_finish(b->val.data, b->raw, zn, &b->vlen);
    b->val.len = TR_DOC_BLOCK_HDR_MAX + zn;
    return TR_OK;
}

typedef struct window_job window_job;
/* out: the analysis output of the documents this thread took, in the
 * order it took them (wdoc.inv_off); freed with the job. */
typedef struct thread_arg { _Alignas(TR_LINE_ALIGN) window_job *job; worker *wk; uint32_t th; tr_buf out; } thread_arg;
/* A window being analysed in the background while the caller goes on
 * queueing (and, typically, parsing) the next documents. The job holds its
 * own copy of the window's doc pointers: the batch's array may grow meanwhile. */
struct window_job {
    wdoc **docs;
    size_t n;
    tr_buf text;                /* the window's bodies (wdoc.body points into it) */
    dblock **blocks;            /* the window's body blocks: work items n .. n + nblocks - 1 */
    size_t nblocks;
    atomic_size_t next;
    unsigned nthreads;
    pthread_t th[TR_MAX_THREADS];
    thread_arg ta[TR_MAX_THREADS];
};

/* Window buffers go round: a window's text and its threads' output
 * buffers are handed to the next window rather than freed and allocated
 * again (megabytes per window, a malloc/free churn that fragmented the
 * heap between the growing posting buffers: +25 MB of peak RSS on the
 * passages). All are freed before a commit (spare_free). */
static tr_buf spare_take(tr_writer *w)
{
    tr_buf b = {0};
    if (w->nspare) b = w->spare[--w->nspare];
    b.len = 0;
    return b;
}

static void spare_give(tr_writer *w, tr_buf *b)
{
    if (b->data && w->nspare < sizeof w->spare / sizeof *w->spare) w->spare[w->nspare++] = *b;
    else tr_buf_free(b);
    memset(b, 0, sizeof *b);
}

static void spare_free(tr_writer *w)
{
    while (w->nspare) tr_buf_free(&w->spare[--w->nspare]);
    tr_buf_free(&w->win_text);
}

static void *analyse_thread(void *p)
{
    thread_arg *ta = p;
    window_job *job = ta->job;
    /* the body blocks first: a block takes as long as many documents, and
     * taken last it left one thread finishing it while the other waited */
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n + job->nblocks) break;
        if (i < job->nblocks) {
            dblock *b = job->blocks[i];
            b->rc = compress_block(ta->wk, job->docs, b);
            continue;
        }
        wdoc *d = job->docs[i - job->nblocks];
        d->inv_th = ta->th;
        d->rc = analyse_doc(ta->wk, d, &ta->out);
    }
    return NULL;
}

/* ---- inverter ---- */

/* The term table on huge pages (tr_table_alloc) from TR_ROOMY_MEMORY on:
 * a huge page is resident whole once touched, which the small budgets'
 * slack cannot spare (passages at 64M: 126 MiB against 117 with the stem
 * caches on huge pages too). */
static void *table_alloc(const tr_writer *w, size_t n)
{
    return roomy(w) ? tr_table_alloc(n) : calloc(1, n ? n : 1);
}

static void table_free(const tr_writer *w, void *p, size_t n)
{
    if (roomy(w)) tr_table_free(p, n);
    else free(p);
}

static int tab_grow(tr_writer *w)
{
    size_t cap = w->tabcap ? w->tabcap * 2 : 4096;
    tslot *t = table_alloc(w, cap * sizeof *t);
    if (!t) return TR_ENOMEM;
    for (size_t i = 0; i < w->tabcap; i++) {
        if (!w->tab[i].e) continue;
        size_t j = w->tab[i].hash & (cap - 1);
        while (t[j].e) j = (j + 1) & (cap - 1);
        t[j] = w->tab[i];
    }
    w->mem += (cap - w->tabcap) * sizeof *t;
    table_free(w, w->tab, w->tabcap * sizeof *t);
    w->tab = t;
    w->tabcap = cap;
    return TR_OK;
}

static term_ent *term_get(tr_writer *w, const uint8_t *term, size_t len, uint64_t h)
{
    if ((w->nterms + 1) * 4 > w->tabcap * 3 && tab_grow(w)) return NULL;
    size_t j = h & (w->tabcap - 1);
    for (; w->tab[j].e; j = (j + 1) & (w->tabcap - 1)) {
        term_ent *e = w->tab[j].e;
        if (w->tab[j].hash == h && e->len == len && !memcmp(e->term, term, len)) return e;
    }
    term_ent *e = arena_alloc(w, &w->tmem, sizeof *e + len);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->len = (uint32_t)len;
    memcpy(e->term, term, len);
    w->tab[j].hash = h;
    w->tab[j].e = e;
    w->nterms++;
    /* the term's cold part is allocated at commit, but counted now so the
     * commit stays within the budget too */
    w->mem += sizeof(term_cold) +                     /* the entry: counted by the arena */
              2 * sizeof(term_ent *) + sizeof(skey);  /* commit's sorted, order, keys */
    return e;
}

/* Under ASan, a pool's free blocks and uncarved bytes are poisoned, so that
 * a write past a posting buffer into them is caught as it would be past a
 * malloc'ed one. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Push block b of 2^shift bytes on its free list. */
static void pool_put(pool *pl, uint8_t *b, unsigned shift)
{
    void **fl = &pl->free[shift - TR_POOL_MIN_SHIFT];
    memcpy(b, fl, sizeof *fl);
    *fl = b;
    POOL_POISON(b, (size_t)1 << shift);
}

/* A pool block of 2^shift bytes (TR_POOL_MIN_SHIFT..TR_POOL_MAX_SHIFT), or NULL. */
static uint8_t *pool_get(pool *pl, unsigned shift)
{
    void **fl = &pl->free[shift - TR_POOL_MIN_SHIFT];
    if (*fl) {
        uint8_t *b = *fl;
        POOL_UNPOISON(b, (size_t)1 << shift);
        memcpy(fl, b, sizeof *fl);
        return b;
    }
    size_t sz = (size_t)1 << shift;
    if (!pl->cur || TR_POOL_CHUNK - pl->used < sz) {
        if (pl->n == pl->cap) {
            size_t cap = pl->cap ? pl->cap * 2 : 64;
            uint8_t **c = realloc(pl->chunks, cap * sizeof *c);
            if (!c) return NULL;
            pl->chunks = c;
            pl->cap = cap;
        }
        /* what is left of the chunk goes to the free lists */
        for (unsigned k = TR_POOL_MAX_SHIFT; pl->cur && k >= TR_POOL_MIN_SHIFT; k--)
            while (TR_POOL_CHUNK - pl->used >= ((size_t)1 << k)) {
                uint8_t *b = pl->cur + pl->used;
                POOL_UNPOISON(b, (size_t)1 << k);
                pool_put(pl, b, k);
                pl->used += (size_t)1 << k;
            }
        uint8_t *c = malloc(TR_POOL_CHUNK);
        if (!c) return NULL;
        POOL_POISON(c, TR_POOL_CHUNK);
        pl->chunks[pl->n++] = c;
        pl->cur = c;
        pl->used = 0;
    }
    uint8_t *b = pl->cur + pl->used;
    pl->used += sz;
    POOL_UNPOISON(b, sz);
    return b;
}

static void pool_free(pool *pl)
{
    for (size_t i = 0; i < pl->nbig; i++) free(pl->big[i]->buf);
    free(pl->big);
    for (size_t i = 0; i < pl->n; i++) {
        POOL_UNPOISON(pl->chunks[i], TR_POOL_CHUNK);
        free(pl->chunks[i]);
    }
    free(pl->chunks);
    memset(pl, 0, sizeof *pl);
}

/* Grow e's posting buffer to cap bytes (a power of two from 16 on). */
static int ent_grow(tr_writer *w, term_ent *e, size_t cap)
{
    pool *pl = &w->pmem;
    uint8_t *b;
    if (cap <= TR_POOL_MAX) {
        if (!(b = pool_get(pl, (unsigned)__builtin_ctzll(cap)))) return TR_ENOMEM;
        if (e->blen) memcpy(b, e->buf, e->blen);
        if (e->bcap) pool_put(pl, e->buf, (unsigned)__builtin_ctzll(e->bcap));
    } else if (e->bcap <= TR_POOL_MAX) {
        if (pl->nbig == pl->bigcap) {
            size_t bc = pl->bigcap ? pl->bigcap * 2 : 1024;
            term_ent **nb = realloc(pl->big, bc * sizeof *nb);
            if (!nb) return TR_ENOMEM;
            pl->big = nb;
            pl->bigcap = bc;
        }
        if (!(b = malloc(cap))) return TR_ENOMEM;
        if (e->blen) memcpy(b, e->buf, e->blen);
        if (e->bcap) pool_put(pl, e->buf, (unsigned)__builtin_ctzll(e->bcap));
        pl->big[pl->nbig++] = e;
    } else {
        if (!(b = realloc(e->buf, cap))) return TR_ENOMEM;
    }
    w->mem += cap - e->bcap;
    e->buf = b;
    e->bcap = cap;
    return TR_OK;
}

static int ent_append(tr_writer *w, term_ent *e, const uint8_t *p, size_t n, uint32_t delta)
{
    if (e->bcap - e->blen < n + 5) {
        size_t cap = e->bcap ? e->bcap * 2 : (size_t)1 << TR_POOL_MIN_SHIFT;
        while (cap - e->blen < n + 5) cap *= 2;
        int rc = ent_grow(w, e, cap);
        if (rc) return rc;
    }
    uint8_t *q = tr_put_varint(e->buf + e->blen, delta);
    memcpy(q, p, n);
    e->blen = (size_t)(q + n - e->buf);
    return TR_OK;
}

/* tr_get_varint with its one- and two-byte cases inline: the inverter and load_batch
 * read several varints per posting, most of them one byte. */
static inline int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    if (q < end && !(q[0] & 0x80)) {
        *out = q[0];
        *p = q + 1;
        return TR_OK;
    }
    if (end - q >= 2 && !(q[1] & 0x80)) {  /* positions past 127 */
        *out = (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
        *p = q + 2;
        return TR_OK;
    }
    return tr_get_varint(p, end, out);
}

/* One record of a document's analysis output, parsed ahead of its lookup. */
typedef struct inv_rec { uint64_t hash; const uint8_t *term, *tail; uint32_t len, tl; } inv_rec;

static int invert_one(tr_writer *w, uint32_t doc, const inv_rec *r)
{
    const uint8_t *tq = r->tail;
    uint64_t tf;
    if (get_varint(&tq, r->tail + r->tl, &tf)) return TR_ECORRUPT;
    term_ent *e = term_get(w, r->term, r->len, r->hash);
    if (!e) return TR_ENOMEM;
    int rc = ent_append(w, e, r->tail, r->tl, doc - e->last_doc);
    if (rc) return rc;
    e->last_doc = doc;
    e->ndocs++;
    e->cf += tf;
    return TR_OK;
}

/* The table and its entries are far bigger than the caches and each lookup
 * lands at random, so the records are parsed a group ahead and the table
 * slots of the group, then the entries those slots hold, are prefetched
 * before the group is looked up in order. */
static int invert_doc(tr_writer *w, const window_job *job, wdoc *d)
{
    const uint8_t *p = job->ta[d->inv_th].out.data + d->inv_off, *end = p + d->inv_len;
    inv_rec grp[TR_INVERT_AHEAD];
    while (p < end) {
        size_t n = 0;
        /* the table may grow during the group: grow it first, so the
         * prefetched slots stay the ones looked up */
        while ((w->nterms + TR_INVERT_AHEAD + 1) * 4 > w->tabcap * 3)
            if (tab_grow(w)) return TR_ENOMEM;
        for (; n < TR_INVERT_AHEAD && p < end; n++) {
            if (end - p < 9) return TR_ECORRUPT;
            grp[n].hash = tr_get_le64(p);
            p += 8;
            size_t len = *p++;
            if (len > TR_MAX_TERM_BYTES || (size_t)(end - p) < len + 4) return TR_ECORRUPT;
            grp[n].term = p;
            grp[n].len = (uint32_t)len;
            p += len;
            uint32_t tl = tr_get_le32(p);
            p += 4;
            if (tl > (size_t)(end - p)) return TR_ECORRUPT;
            grp[n].tail = p;
            grp[n].tl = (uint32_t)tl;
            p += tl;
            __builtin_prefetch(&w->tab[grp[n].hash & (w->tabcap - 1)]);
        }
        for (size_t i = 0; i < n; i++) {
            const term_ent *e = w->tab[grp[i].hash & (w->tabcap - 1)].e;
            /* the term bytes start 56 bytes in: mostly on the next line */
            if (e) {
                __builtin_prefetch(e);
                __builtin_prefetch((const char *)e + 64);
            }
        }
        for (size_t i = 0; i < n; i++) {
            int rc = invert_one(w, d->doc, &grp[i]);
            if (rc) return rc;
        }
    }
    return TR_OK;
}

/* Wait for a window's analysis threads. */
static void window_join(window_job *job)
{
    if (!job) return;
    for (unsigned i = 0; i < job->nthreads; i++) pthread_join(job->th[i], NULL);
    job->nthreads = 0;
}

static void job_free(tr_writer *w, window_job *job)
{
    window_join(job);
    if (job) {
        free(job->docs);
        free(job->blocks);
        spare_give(w, &job->text);
        for (unsigned i = 0; i < TR_MAX_THREADS; i++) spare_give(w, &job->ta[i].out);
        free(job);
    }
}

/* Drop the windows in flight (after their threads are done). */
static void window_free(tr_writer *w)
{
    job_free(w, w->job);
    job_free(w, w->job_next);
    w->job = w->job_next = NULL;
}

/* Invert the documents of job, a window whose threads are done, in input
 * order, and free it. */
static int window_invert(tr_writer *w, window_job *job)
{
    int rc = TR_OK;
    for (size_t i = 0; i < job->n && !rc; i++) {
        wdoc *d = job->docs[i];
        if ((rc = d->rc) || (rc = invert_doc(w, job, d))) break;
        w->dls[d->doc - w->committed.next_doc] = d->title_terms + d->body_terms;
        w->tls[d->doc - w->committed.next_doc] = d->title_terms;
        w->ws.bytes_in += d->title_len + d->body_len;
    }
    for (size_t i = 0; i < job->nblocks && !rc; i++) {
        rc = job->blocks[i]->rc;
        w->mem += job->blocks[i]->val.cap;
    }
    /* the bodies are in their blocks now: the text goes with the job */
    for (size_t i = 0; i < job->n && !rc; i++) {
        wdoc *d = job->docs[i];
        d->body = NULL;
        w->mem -= d->body_len;
    }
    job_free(w, job);
    return rc;
}

/* Wait for the oldest window in flight, then invert its documents; the next
 * window (if any) becomes the oldest. */
static int window_finish(tr_writer *w)
{
    window_job *job = w->job;
    if (!job) return TR_OK;
    window_join(job);
    w->job = w->job_next;
    w->job_next = NULL;
    return window_invert(w, job);
}

/* Cut the window's bodies into blocks: consecutive bodies while they fit
 * in TR_DOC_BLOCK_BYTES; a body that does not fit starts a new block. */
static int cut_blocks(tr_writer *w, window_job *job)
{
    dblock *cur = NULL;
    for (size_t i = 0; i < job->n; i++) {
        wdoc *d = job->docs[i];
        if (!d->body_len) continue;
        if (!cur || cur->raw + d->body_len > TR_DOC_BLOCK_BYTES) {
            if (w->nblocks == w->blockcap) {
                size_t cap = w->blockcap ? w->blockcap * 2 : 256;
                dblock **nb = realloc(w->blocks, cap * sizeof *nb);
                if (!nb) return TR_ENOMEM;
                w->blocks = nb;
                w->mem += (cap - w->blockcap) * sizeof *nb;
                w->blockcap = cap;
            }
            if (job->nblocks % 64 == 0) {
                dblock **jb = realloc(job->blocks, (job->nblocks + 64) * sizeof *jb);
                if (!jb) return TR_ENOMEM;
                job->blocks = jb;
            }
            if (!(cur = calloc(1, sizeof *cur))) return TR_ENOMEM;
            cur->first = i;
            w->blocks[w->nblocks++] = cur;
            job->blocks[job->nblocks++] = cur;
            w->mem += sizeof *cur + TR_ALLOC_OVERHEAD * 2;
        }
        d->blk = cur;
        d->blk_off = cur->raw;
        cur->raw += d->body_len;
        cur->end = i + 1;
        cur->last_doc = d->doc;
    }
    return TR_OK;
}

/* Start analysing [win_start, ndocs) in the background, with the worker
 * set the window in flight (if any) is not using. At most TR_WINDOW_SETS
 * windows are in flight: the caller finishes one before launching more. */
static int window_launch(tr_writer *w)
{
    size_t n = w->ndocs - w->win_start;
    if (n == 0) return TR_OK;
    if (w->job_next || (TR_WINDOW_SETS == 1 && w->job))
        return TR_ELIMIT;                  /* no free worker set: a caller bug */
    worker *set = w->wk[w->wset];
    window_job *job = cache_zalloc(sizeof *job);
    if (!job || !(job->docs = malloc(n * sizeof *job->docs))) { free(job); return TR_ENOMEM; }
    memcpy(job->docs, w->docs + w->win_start, n * sizeof *job->docs);
    job->n = n;
    job->text = w->win_text;             /* the job owns the window's bodies now */
    w->win_text = spare_take(w);
    for (size_t i = 0; i < n; i++) {
        wdoc *d = job->docs[i];
        d->body = d->body_len ? (const char *)job->text.data + d->body_off : "";
    }
    int rc = cut_blocks(w, job);
    if (rc) { job_free(w, job); return rc; }
    atomic_init(&job->next, 0);
    unsigned nt = w->nwk < n ? w->nwk : (unsigned)n;
    for (unsigned i = 0; i < nt; i++) {
        job->ta[i].job = job;
        job->ta[i].wk = &set[i];
        job->ta[i].th = i;
        job->ta[i].out = spare_take(w);
        if (pthread_create(&job->th[i], NULL, analyse_thread, &job->ta[i]) != 0) break;
        job->nthreads = i + 1;
    }
    if (job->nthreads == 0) {              /* no thread to be had: analyse here */
        job->ta[0].job = job;
        job->ta[0].wk = &set[0];
        analyse_thread(&job->ta[0]);
    }
    if (w->job) w->job_next = job; else w->job = job;
    w->wset = (w->wset + 1) % TR_WINDOW_SETS;
    w->win_start = w->ndocs;
    w->win_bytes = 0;
    return TR_OK;
}

/* Finish the windows in flight and the one being queued (before a commit). */
static int process_window(tr_writer *w)
{
    int rc = TR_OK;
    /* leave room for one more window: a free worker set */
    while (!rc && w->job && (TR_WINDOW_SETS == 1 || w->job_next)) rc = window_finish(w);
    if (!rc) rc = window_launch(w);
    while (!rc && w->job) rc = window_finish(w);
    spare_free(w);                       /* the commit needs the memory more */
    return rc;
}

/* ---- ids touched by the batch ---- */

static id_ent *id_find(tr_writer *w, const char *id, size_t len, uint64_t h)
{
    if (!w->idcap) return NULL;
    for (size_t j = h & (w->idcap - 1); w->ids[j].id; j = (j + 1) & (w->idcap - 1))
        if (w->ids[j].hash == h && w->ids[j].len == len && !memcmp(w->ids[j].id, id, len))
            return &w->ids[j];
    return NULL;
}

static int id_set(tr_writer *w, const char *id, size_t len, uint64_t h, uint32_t doc)
{
    id_ent *e = id_find(w, id, len, h);
    if (e) { e->doc = doc; return TR_OK; }
    if ((w->nids + 1) * 2 > w->idcap) {
        size_t cap = w->idcap ? w->idcap * 2 : 1024;
        id_ent *t = calloc(cap, sizeof *t);
        if (!t) return TR_ENOMEM;
        for (size_t i = 0; i < w->idcap; i++) {
            if (!w->ids[i].id) continue;
            size_t j = w->ids[i].hash & (cap - 1);
            while (t[j].id) j = (j + 1) & (cap - 1);
            t[j] = w->ids[i];
        }
        w->mem += (cap - w->idcap) * sizeof *t;
        free(w->ids);
        w->ids = t;
        w->idcap = cap;
    }
    size_t j = h & (w->idcap - 1);
    while (w->ids[j].id) j = (j + 1) & (w->idcap - 1);
    char *c = arena_alloc(w, &w->tmem, len);
    if (!c) return TR_ENOMEM;
    memcpy(c, id, len);
    w->ids[j] = (id_ent){ h, c, len, doc };
    w->nids++;
    return TR_OK;
}

/* The live doc an id names right now (batch first, then the last commit). */
static int id_current(tr_writer *w, const char *id, size_t len, uint64_t h, uint32_t *doc)
{
    *doc = 0;
    id_ent *e = id_find(w, id, len, h);
    if (e) { *doc = e->doc; return TR_OK; }
    if (!w->rtxn) {
        int rc = mdb_txn_begin(w->ix->env, NULL, MDB_RDONLY, &w->rtxn);
        if (rc) { w->rtxn = NULL; return tr_schema_lmdb_rc(rc); }
    }
    MDB_val k = { len, (void *)id }, v;
    int rc = mdb_get(w->rtxn, w->ix->dbi[TR_DB_IDS], &k, &v);
    if (rc == MDB_NOTFOUND) return TR_OK;
    if (rc) return tr_schema_lmdb_rc(rc);
    if (v.mv_size != 4) return TR_ECORRUPT;
    *doc = tr_get_le32(v.mv_data);
    return TR_OK;
}

static int push_delete(tr_writer *w, uint32_t doc)
{
    if (w->ndels == w->delcap) {
        size_t cap = w->delcap ? w->delcap * 2 : 64;
        uint32_t *d = realloc(w->dels, cap * sizeof *d);
        if (!d) return TR_ENOMEM;
        w->dels = d;
        w->delcap = cap;
    }
    w->dels[w->ndels++] = doc;
    return TR_OK;
}

/* ---- the batch's document arena ---- */

/* n bytes (8-aligned) that live until arena_free; NULL when out of memory.
 * Each chunk malloc'd is counted in w->mem, so the budget sees the slack. */
static void *arena_alloc(tr_writer *w, arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (a->cur && a->size - a->used >= n) {
        void *p = a->cur + a->used;
        a->used += n;
        return p;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        char **c = realloc(a->chunks, cap * sizeof *c);
        if (!c) return NULL;
        a->chunks = c;
        a->cap = cap;
    }
    int own = n > TR_ARENA_CHUNK / 4;      /* a big request: a chunk of its own */
    size_t sz = own ? n : TR_ARENA_CHUNK;
    char *c = malloc(sz);
    if (!c) return NULL;
    a->chunks[a->n++] = c;
    w->mem += sz + TR_ALLOC_OVERHEAD;
    if (own) return c;
    a->cur = c;
    a->size = sz;
    a->used = n;
    return c;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->chunks[i]);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

/* ---- batch lifetime ---- */

static void batch_clear(tr_writer *w)
{
    window_free(w);
    arena_free(&w->dmem);
    spare_free(w);
    w->ndocs = w->win_start = w->win_bytes = 0;
    for (size_t i = 0; i < w->nblocks; i++) {
        tr_buf_free(&w->blocks[i]->val);
        free(w->blocks[i]);
    }
    w->nblocks = 0;
    /* a failed commit may have left encoded chunks (write_round frees
     * them as it writes them) */
    for (size_t i = 0; w->cold && w->enc_left && i < w->tabcap; i++)
        if (w->tab[i].e) tr_buf_free(&w->tab[i].e->c->enc);
    w->enc_left = 0;
    pool_free(&w->pmem);
    free(w->cold);
    w->cold = NULL;
    table_free(w, w->tab, w->tabcap * sizeof *w->tab);
    w->tab = NULL;
    w->tabcap = w->nterms = 0;
    arena_free(&w->tmem);
    free(w->ids);
    w->ids = NULL;
    w->idcap = w->nids = 0;
    w->ndels = 0;
    w->mem = 0;
    w->next_doc = w->committed.next_doc;
}

void tr_writer_rollback(tr_writer *w)
{
    if (!w) return;
    batch_clear(w);
    w->rc = TR_OK;
}

/* ---- commit ---- */

static int term_cmp(const void *a, const void *b)
{
    const term_ent *x = *(term_ent *const *)a, *y = *(term_ent *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int term_id_cmp(const void *a, const void *b)
{
    uint32_t x = (*(term_ent *const *)a)->term_id, y = (*(term_ent *const *)b)->term_id;
    return x < y ? -1 : x > y;
}

static int skey_cmp(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return term_cmp(&x->e, &y->e);
}

/* Unmap this process's view of the index pages it has read
 * (tr_schema_drop_map). Without it every page a commit looked at (the whole
 * dictionary, most postings leaves) stays in RSS: 300 MB of file pages on
 * enwiki with a 128 MiB budget. */
static void drop_map_pages(tr_writer *w)
{
    tr_schema_drop_map(w->ix->env);
}

/* dl and title length of a doc: from the batch, or from the stored norms
 * (old inline postings). */
static int doc_dl(tr_writer *w, MDB_txn *txn, uint32_t doc, uint32_t *dl, uint32_t *tl)
{
    uint32_t first = w->committed.next_doc;
    if (doc >= first && doc - first < w->ndocs) {
        *dl = w->dls[doc - first];
        *tl = w->tls[doc - first];
        return TR_OK;
    }
    uint8_t k[4];
    tr_key_u32(k, doc >> TR_NORMS_SHIFT);
    MDB_val kv = { 4, k }, v;
    int rc = mdb_get(txn, w->ix->dbi[TR_DB_NORMS], &kv, &v);
    size_t off = (size_t)(doc & (TR_NORMS_PER_KEY - 1)) * TR_NORM_BYTES;
    if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size < off + TR_NORM_BYTES)) { *dl = *tl = 0; return TR_OK; }
    if (rc) return rc;
    const uint8_t *p = (const uint8_t *)v.mv_data + off;
    *tl = tr_get_le32(p);
    *dl = *tl + tr_get_le32(p + 4);
    /* each read maps a norms page and those the kernel maps around it */
    size_t every = w->o.memory / TR_MAP_READ_SHARE;
    size_t reads = atomic_fetch_add_explicit(&w->norm_reads, 1, memory_order_relaxed) + 1;
    if (reads * TR_FAULT_AROUND_BYTES >= (every > TR_MAP_READ_MIN ? every : TR_MAP_READ_MIN)) {
        atomic_store_explicit(&w->norm_reads, 0, memory_order_relaxed);
        drop_map_pages(w);
    }
    return TR_OK;
}

/* Decode an inline chunk into the scratch arrays (positions included). */
static int load_inline(tr_writer *w, tr_enc_scratch *sc, MDB_txn *txn, const uint8_t *data, size_t len,
                       size_t *n, size_t *np)
{
    tr_chunk c;
    if (tr_chunk_open_inline(&c, data, len)) return TR_ECORRUPT;
    *n = *np = 0;
    for (uint32_t b = 0; b < c.nblocks; b++) {
        int rc = tr_enc_scratch_reserve(sc, *n + TR_BLOCK_DOCS, 0);
        if (rc) return rc;
        int cnt = tr_chunk_block_decode(&c, b, 1, sc->sd + *n, sc->stf + *n, sc->sttf + *n);
        if (cnt < 0) return TR_ECORRUPT;
        size_t sum = 0;
        for (int i = 0; i < cnt; i++) sum += sc->stf[*n + i];
        rc = tr_enc_scratch_reserve(sc, 0, *np + sum);
        if (rc) return rc;
        uint32_t bl[TR_BLOCK_DOCS];
        for (int i = 0; i < cnt; i++) {
            rc = doc_dl(w, txn, sc->sd[*n + i], &sc->sdl[*n + i], &sc->stl[*n + i]);
            if (rc) return rc;
            bl[i] = sc->sdl[*n + i] - sc->stl[*n + i];
        }
        int pc = tr_chunk_block_positions(&c, b, 1, sc->stf + *n, (uint32_t)cnt, sc->stl + *n, bl,
                                          sc->spos + *np, sc->sposcap - *np);
        if (pc < 0) return TR_ECORRUPT;
        *n += (size_t)cnt;
        *np += (size_t)pc;
    }
    return TR_OK;
}

/* Append the batch postings of e to the scratch arrays after n / np. The
 * arrays are reserved once for the term (ndocs postings, cf positions), not
 * per posting; positions are checked against cf instead. */
static int load_batch(const tr_writer *w, tr_enc_scratch *sc, const term_ent *e, size_t *n, size_t *np)
{
    int rc = tr_enc_scratch_reserve(sc, *n + e->ndocs, *np + e->cf);
    if (rc) return rc;
    const uint8_t *p = e->buf, *end = p + e->blen;
    uint32_t doc = 0;
    uint32_t first = w->committed.next_doc;
    uint32_t *pos = sc->spos + *np, *pos_end = pos + e->cf;
    uint32_t *sd = sc->sd + *n, *stf = sc->stf + *n, *sttf = sc->sttf + *n;
    uint32_t *sdl = sc->sdl + *n, *stl = sc->stl + *n;
    for (uint32_t i = 0; i < e->ndocs; i++) {
        uint64_t dd, tf, ttf, v;
        if (get_varint(&p, end, &dd) || get_varint(&p, end, &tf) || get_varint(&p, end, &ttf))
            return TR_ECORRUPT;
        if (tf > (uint64_t)(pos_end - pos)) return TR_ECORRUPT;
        doc += (uint32_t)dd;
        uint32_t prev = 0;
        for (uint64_t k = 0; k < tf; k++) {
            if (get_varint(&p, end, &v)) return TR_ECORRUPT;
            uint32_t q = (k == 0 || k == ttf) ? (uint32_t)v : prev + (uint32_t)v;
            *pos++ = q;
            prev = q;
        }
        sd[i] = doc;
        stf[i] = (uint32_t)tf;
        sttf[i] = (uint32_t)ttf;
        sdl[i] = w->dls[doc - first];
        stl[i] = w->tls[doc - first];
    }
    *n += e->ndocs;
    *np = (size_t)(pos - sc->spos);
    return TR_OK;
}

static int put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl, const void *v, size_t vl, unsigned fl)
{
    MDB_val kv = { kl, (void *)k }, vv = { vl, (void *)v };
    return mdb_put(txn, dbi, &kv, &vv, fl);
}

/* tr_term_chunks' callback for regen_term: append the record
 * gen u32 | first_doc u32 | len u32 | chunk to the tr_buf ctx. */
static int copy_chunk(void *ctx, uint32_t gen, const MDB_val *k, const MDB_val *v)
{
    uint8_t hdr[12];
    tr_put_le32(hdr, gen);
    tr_put_le32(hdr + 4, tr_get_be32((const uint8_t *)k->mv_data + 8));
    tr_put_le32(hdr + 8, (uint32_t)v->mv_size);
    if (tr_buf_append(ctx, hdr, 12) || tr_buf_append(ctx, v->mv_data, v->mv_size)) return TR_ENOMEM;
    return TR_OK;
}

/* Move every chunk of a term (info: its old generations) into generation
 * gen: same chunk bytes, keys rewritten, appended at the end of the tree.
 * Run when the term's generation list would outgrow TR_TERM_GENS_MAX_BYTES,
 * i.e. after ~60 commits that each added to it; the rewrite costs a copy of
 * the list, paid once per that many commits. Before the term's new chunks,
 * whose keys must follow these. Adds the chunk bytes moved to *moved. */
static int regen_term(tr_writer *w, MDB_txn *txn, const tr_term_info *info, uint32_t gen, size_t *moved)
{
    MDB_dbi dbi = w->ix->dbi[TR_DB_POSTINGS];
    MDB_cursor *mc;
    int rc = mdb_cursor_open(txn, dbi, &mc);
    if (rc) return rc;
    /* records: gen u32 | first_doc u32 | len u32 | chunk (copied: the puts
     * below may rewrite the pages the values sit on) */
    tr_buf copy = {0};
    rc = tr_term_chunks(mc, info->term_id, info->gens, info->gens_len, copy_chunk, &copy);
    mdb_cursor_close(mc);
    *moved += copy.len;
    w->regen_read += copy.len;
    if (w->regen_read >= TR_DICT_DROP_BYTES) {  /* the old chunks' pages, read through the map */
        w->regen_read = 0;
        drop_map_pages(w);
    }
    for (size_t off = 0; !rc && off < copy.len;) {
        uint8_t kb[TR_POSTINGS_KEY_BYTES];
        uint32_t len = tr_get_le32(copy.data + off + 8);
        tr_key_posting(kb, tr_get_le32(copy.data + off), info->term_id, tr_get_le32(copy.data + off + 4));
        MDB_val k = { sizeof kb, kb };
        rc = mdb_del(txn, dbi, &k, NULL);
        off += 12 + (size_t)len;
    }
    for (size_t off = 0; !rc && off < copy.len;) {
        uint8_t kb[TR_POSTINGS_KEY_BYTES];
        uint32_t len = tr_get_le32(copy.data + off + 8);
        tr_key_posting(kb, gen, info->term_id, tr_get_le32(copy.data + off + 4));
        rc = put(txn, dbi, kb, sizeof kb, copy.data + off + 12, len, MDB_APPEND);
        off += 12 + (size_t)len;
    }
    tr_buf_free(&copy);
    return rc;
}

/* Store a term's encoded chunks (tr_encode_chunks, then tr_store_chunks):
 * inline when it is the term's only chunk and small, else under postings keys of generation gen,
 * with MDB_APPEND (callers write terms in term id order). Updates info; its
 * generation list is rewritten into gb (TR_TERM_GENS_MAX_BYTES bytes). */
_Static_assert(TR_TERM_GENS_MAX_BYTES <= TR_INLINE_MAX, "term_cold.oldinl holds a generation list too");
static int write_term(tr_writer *w, MDB_txn *txn, term_ent *e, tr_term_info *info, uint32_t gen,
                      uint8_t *gb)
{
    size_t gl = info->gens_len;
    uint32_t last = 0;
    if (gl) {
        const uint8_t *gp = info->gens;
        while (tr_gens_next(&gp, info->gens + gl, last, &last)) {}
        memcpy(gb, info->gens, gl);
        if (gl + tr_varint_len(gen - last) > TR_TERM_GENS_MAX_BYTES ||
            (gl >= TR_REGEN_EARLY_BYTES && w->regen_left > 0)) {
            size_t moved = 0;
            int rc = regen_term(w, txn, info, gen, &moved);
            if (rc) return rc;
            w->regen_left -= moved < w->regen_left ? moved : w->regen_left;
            gl = 0;
            last = 0;
            info->ngens = 0;
        }
    }
    uint8_t inl[TR_INLINE_MAX + 5];
    size_t wrote;
    int rc = tr_store_chunks(txn, w->ix->dbi[TR_DB_POSTINGS], gen, e->c->enc.data, e->c->enc.len, info,
                             inl, &wrote);
    if (rc) return rc;
    if (info->inline_chunk == inl) {    /* kept past this call: the term's own buffer */
        memcpy(e->c->oldinl, inl, info->inline_len);
        info->inline_chunk = e->c->oldinl;
    }
    if (wrote && last != gen) {
        gl = (size_t)(tr_put_varint(gb + gl, gen - last) - gb);
        info->ngens++;
    }
    info->gens = gl ? gb : NULL;
    info->gens_len = gl;
    if (wrote) w->gen_used = 1;
    return TR_OK;
}

/* Encoding the terms of one commit round in parallel (the analysis workers
 * are idle during a commit, so their count is reused). A term whose old
 * inline chunk is merged with the batch's postings needs the old documents'
 * lengths from the norms: the calling thread reads them in the write txn,
 * the others in a read txn of their own, whose snapshot (the last commit)
 * holds the same lengths for those documents: a commit writes norms for its
 * new documents only, and the old ones' values never change. (The writing loop did these merges alone: ~0.6 s, serial, of
 * the passages' second commit, where most terms exist.) A
 * thread that cannot get a read txn leaves its inline merges to the writing
 * loop (enc_rc TR_ENC_LEFT). */
#define TR_ENC_LEFT 1
typedef struct enc_job {
    tr_writer *w;
    MDB_txn *wtxn;
    term_ent **terms;
    size_t n;
    atomic_size_t next;
} enc_job;
typedef struct enc_arg { enc_job *job; tr_enc_scratch *sc; int caller; } enc_arg;

static void *encode_thread(void *p)
{
    enc_arg *a = p;
    enc_job *job = a->job;
    MDB_txn *rt = a->caller ? job->wtxn : NULL;
    int rt_failed = 0;
    for (;;) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n) break;
        term_ent *e = job->terms[i];
        size_t n = 0, np = 0;
        tr_buf_clear(&e->c->enc);
        if (e->c->existing && e->c->old.inline_chunk) {
            if (!rt && !rt_failed && mdb_txn_begin(job->w->ix->env, NULL, MDB_RDONLY, &rt)) {
                rt = NULL;
                rt_failed = 1;
            }
            if (!rt) { e->c->enc_rc = TR_ENC_LEFT; continue; }
            e->c->enc_rc = load_inline(job->w, a->sc, rt, e->c->old.inline_chunk, e->c->old.inline_len, &n, &np);
            if (!e->c->enc_rc) e->c->enc_rc = load_batch(job->w, a->sc, e, &n, &np);
        } else {
            e->c->enc_rc = load_batch(job->w, a->sc, e, &n, &np);
        }
        if (!e->c->enc_rc) e->c->enc_rc = tr_encode_chunks(a->sc, n, &e->c->enc);
    }
    if (rt && !a->caller) mdb_txn_abort(rt);
    return NULL;
}

/* A round of terms encoded by the writer's threads. It is started in the
 * background (threads 1..), while the caller writes the round before, and
 * finished by the caller, who takes what is left (with scratch 0 and the
 * write txn) and joins the others: the write of one round overlaps the
 * encoding of the next. */
typedef struct enc_round {
    enc_job job;
    enc_arg args[TR_MAX_THREADS];
    pthread_t th[TR_MAX_THREADS];
    unsigned started;
} enc_round;

static void encode_start(tr_writer *w, MDB_txn *txn, term_ent **terms, size_t n, enc_round *r)
{
    r->job = (enc_job){ .w = w, .wtxn = txn, .terms = terms, .n = n };
    atomic_init(&r->job.next, 0);
    unsigned nt = w->nwk < n ? w->nwk : (unsigned)n;
    r->started = 0;
    for (unsigned i = 1; i < nt; i++) {
        r->args[i] = (enc_arg){ &r->job, &w->sc[i], 0 };
        if (pthread_create(&r->th[i], NULL, encode_thread, &r->args[i]) != 0) break;
        r->started = i;
    }
}

static void encode_finish(tr_writer *w, enc_round *r)
{
    r->args[0] = (enc_arg){ &r->job, &w->sc[0], 1 };
    encode_thread(&r->args[0]);
    for (unsigned i = 1; i <= r->started; i++) pthread_join(r->th[i], NULL);
    r->started = 0;
}

/* LMDB's default order for the ids keys: bytes, then the shorter first.
 * The sort key holds the first 8 bytes big-endian, so most comparisons
 * are one integer compare. */
typedef struct idkey { uint64_t key; const id_ent *e; } idkey;
static int idkey_cmp(const void *a, const void *b)
{
    const idkey *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    size_t n = x->e->len < y->e->len ? x->e->len : y->e->len;
    int c = memcmp(x->e->id, y->e->id, n);
    if (c) return c;
    return (x->e->len > y->e->len) - (x->e->len < y->e->len);
}

/* The batch's external ids, in key order: random-order puts cost a
 * B-tree descent to a cold page each (~1 us; 0.8 s for the passages'
 * 776k ids), sorted ones walk the tree in order, and keys past the last
 * one in the database are appended (MDB_APPEND: full pages). */
static int write_ids(tr_writer *w, MDB_txn *txn)
{
    if (!w->nids) return TR_OK;
    idkey *keys = malloc(w->nids * sizeof *keys);
    if (!keys) return TR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < w->idcap && n < w->nids; i++) {
        const id_ent *e = &w->ids[i];
        if (!e->id) continue;
        uint64_t k = 0;
        for (size_t b = 0; b < 8; b++) k = k << 8 | (b < e->len ? (uint8_t)e->id[b] : 0);
        keys[n++] = (idkey){ k, e };
    }
    qsort(keys, n, sizeof *keys, idkey_cmp);
    MDB_dbi dbi = w->ix->dbi[TR_DB_IDS];
    MDB_cursor *mc;
    int rc = mdb_cursor_open(txn, dbi, &mc);
    if (rc) { free(keys); return rc; }
    /* keys past the database's last one (all of them after the first
     * such: they are sorted) are appended */
    MDB_val lk, lv;
    const char *last = NULL;
    size_t last_len = 0;
    rc = mdb_cursor_get(mc, &lk, &lv, MDB_LAST);
    if (rc == 0) { last = lk.mv_data; last_len = lk.mv_size; }
    else if (rc == MDB_NOTFOUND) rc = 0;
    /* the last key's bytes live in a page that the puts may move (a key
     * longer than ours can be is not appended after) */
    char lastbuf[TR_MAX_ID_BYTES];
    int past = !last;
    if (last && last_len <= sizeof lastbuf) { memcpy(lastbuf, last, last_len); last = lastbuf; }
    else if (last) last = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        const id_ent *e = keys[i].e;
        MDB_val k = { e->len, e->id };
        if (!past && last) {
            size_t m = e->len < last_len ? e->len : last_len;
            int c = memcmp(e->id, last, m);
            past = c > 0 || (c == 0 && e->len > last_len);
        }
        if (e->doc) {
            uint8_t v[4];
            tr_put_le32(v, e->doc);
            MDB_val vv = { 4, v };
            rc = mdb_cursor_put(mc, &k, &vv, past ? MDB_APPEND : 0);
        } else {
            rc = mdb_del(txn, dbi, &k, NULL);
            if (rc == MDB_NOTFOUND) rc = 0;
        }
    }
    mdb_cursor_close(mc);
    free(keys);
    return rc;
}

static int write_norms(tr_writer *w, MDB_txn *txn, tr_stats *s)
{
    uint32_t first = w->committed.next_doc, end = w->next_doc;
    if (first == end) return TR_OK;
    uint8_t *val = malloc((size_t)TR_NORMS_PER_KEY * TR_NORM_BYTES);
    if (!val) return TR_ENOMEM;
    int rc = 0;
    for (uint32_t key = first >> TR_NORMS_SHIFT; key <= (end - 1) >> TR_NORMS_SHIFT && !rc; key++) {
        uint32_t base = key << TR_NORMS_SHIFT;
        uint32_t lo = first > base ? first - base : 0;
        uint32_t hi = end - base < TR_NORMS_PER_KEY ? end - base : TR_NORMS_PER_KEY;
        uint8_t k[4];
        tr_key_u32(k, key);
        size_t have = 0;
        if (lo > 0) {
            MDB_val kv = { 4, k }, v;
            rc = mdb_get(txn, w->ix->dbi[TR_DB_NORMS], &kv, &v);
            if (rc == MDB_NOTFOUND) rc = 0;
            else if (rc) break;
            else {
                have = v.mv_size > (size_t)lo * TR_NORM_BYTES ? (size_t)lo * TR_NORM_BYTES : v.mv_size;
                memcpy(val, v.mv_data, have);
            }
        }
        for (uint32_t i = (uint32_t)(have / TR_NORM_BYTES); i < hi; i++) {
            uint8_t *p = val + (size_t)i * TR_NORM_BYTES;
            uint32_t doc = base + i;
            if (doc >= first) {
                const wdoc *d = w->docs[doc - first];
                tr_put_le32(p, d->title_terms);
                tr_put_le32(p + 4, d->body_terms);
                tr_put_le64(p + 8, (uint64_t)d->date);
            } else {
                tr_put_le32(p, 0);
                tr_put_le32(p + 4, 0);
                tr_put_le64(p + 8, (uint64_t)TR_NO_DATE);
            }
        }
        rc = put(txn, w->ix->dbi[TR_DB_NORMS], k, 4, val, (size_t)hi * TR_NORM_BYTES, 0);
    }
    free(val);
    (void)s;
    return rc;
}

/* Step 3 of write_batch: documents (ids only grow: append), ids, norms. */
static int write_docs(tr_writer *w, MDB_txn *txn, tr_stats *s)
{
    int rc;
    for (size_t i = 0; i < w->ndocs; i++) {
        const wdoc *d = w->docs[i];
        tr_doc_rec rec = {
            .id = d->meta, .id_len = d->id_len,
            .title = d->meta + d->id_len, .title_len = d->title_len,
            .url = d->meta + d->id_len + d->title_len, .url_len = d->url_len,
            .date = d->date, .title_terms = d->title_terms, .body_terms = d->body_terms,
            .body_len = d->body_len,
            .block_ahead = d->blk ? d->blk->last_doc - d->doc : 0, .block_off = d->blk_off,
        };
        rc = tr_doc_value_encode(&rec, &w->val);
        if (rc) return rc;
        uint8_t k[4];
        tr_key_u32(k, d->doc);
        rc = put(txn, w->ix->dbi[TR_DB_DOCS], k, 4, w->val.data, w->val.len, MDB_APPEND);
        if (rc) return rc;
        if (d->blk && d->blk->last_doc == d->doc) {
            uint8_t bk[TR_DOC_BLOCK_KEY_BYTES];
            tr_key_doc_block(bk, d->doc);
            rc = put(txn, w->ix->dbi[TR_DB_DOCS], bk, sizeof bk, d->blk->val.data + d->blk->voff,
                     d->blk->vlen, MDB_APPEND);
            if (rc) return rc;
        }
        s->docs++;
        s->title_tokens += d->title_terms;
        s->body_tokens += d->body_terms;
    }
    rc = write_ids(w, txn);
    if (rc) return rc;
    return write_norms(w, txn, s);
}

/* Write the dictionary values and chunks of order[start, end), encoded. */
static int write_round(tr_writer *w, MDB_txn *txn, term_ent **order, size_t start, size_t end,
                       uint32_t gen, uint8_t *gb)
{
    int rc;
    for (size_t i = start; i < end; i++) {
        term_ent *e = order[i];
        tr_term_info info;
        if (e->c->existing) {
            info = e->c->old;
            if (info.inline_chunk) {
                /* the old inline chunk merged with the batch's postings
                 * (by the encode round, or here when it could not) */
                if (e->c->enc_rc == TR_ENC_LEFT) {
                    size_t n = 0, np = 0;
                    rc = load_inline(w, &w->sc[0], txn, info.inline_chunk, info.inline_len, &n, &np);
                    if (!rc) rc = load_batch(w, &w->sc[0], e, &n, &np);
                    tr_buf_clear(&e->c->enc);
                    if (!rc) rc = tr_encode_chunks(&w->sc[0], n, &e->c->enc);
                    e->c->enc_rc = rc;
                }
                info.nchunks = 0;
                info.inline_chunk = NULL;
                info.inline_len = 0;
            }
            info.df += e->ndocs;
            info.cf += e->cf;
        } else {
            memset(&info, 0, sizeof info);
            info.term_id = e->term_id;
            info.df = e->ndocs;
            info.cf = e->cf;
        }
        if (e->c->enc_rc) return e->c->enc_rc;
        rc = write_term(w, txn, e, &info, gen, gb);
        tr_buf_free(&e->c->enc);
        if (rc) return rc;
        /* the value goes into the dictionary at the end (step 2b) */
        if ((rc = tr_buf_reserve(&w->dvals, TR_TERM_VALUE_MAX))) return rc;
        if (w->dvals.len > UINT32_MAX - TR_TERM_VALUE_MAX) return TR_ENOMEM; /* voff is u32 */
        e->c->voff = w->dvals.len;
        e->c->vlen = tr_term_value_encode(&info, w->dvals.data + w->dvals.len);
        w->dvals.len += e->c->vlen;
    }
    return TR_OK;
}

/* The end of the encode round that starts at order[start]: its terms'
 * postings are about cap bytes. */
static size_t round_end(term_ent *const *order, size_t no, size_t start, size_t cap)
{
    size_t bytes = 0, end;
    for (end = start; end < no && (end == start || bytes < cap); end++)
        bytes += order[end]->blen;
    return end;
}

/* Look the sorted terms [from, to) up in the dictionary (step 1 of
 * write_batch): each found one is marked existing, with its term id and a
 * copy of its old inline chunk or generation list; new ones get their ids
 * after. */
static int lookup_terms(tr_writer *w, MDB_txn *txn, size_t from, size_t to)
{
    tr_dict_seek seek;
    int rc = tr_dict_seek_open(&seek, txn, w->ix->dbi[TR_DB_TERMS]);
    if (rc) return rc;
    for (size_t i = from; i < to; i++) {
        term_ent *e = w->sorted[i];
        rc = tr_dict_seek_find(&seek, e->term, e->len, &e->c->old);
        if (rc == TR_ENOTFOUND) {
            e->c->existing = 0;
            rc = TR_OK;
            continue;
        }
        if (rc) break;
        if (e->c->old.inline_chunk) {
            memcpy(e->c->oldinl, e->c->old.inline_chunk, e->c->old.inline_len);
            e->c->old.inline_chunk = e->c->oldinl;
        } else {
            memcpy(e->c->oldinl, e->c->old.gens, e->c->old.gens_len);
            e->c->old.gens = e->c->oldinl;
        }
        e->c->existing = 1;
        e->term_id = e->c->old.term_id;
    }
    tr_dict_seek_close(&seek);
    return rc;
}

/* The lookups of a commit's terms ran on the main thread while the others
 * idled (0.10-0.23 s a commit on the passages, more as the dictionary
 * grows). The second half is looked up by another thread in a read txn:
 * nothing is written before step 1, so its snapshot (the last commit) holds
 * the same dictionary as the write txn. */
#define TR_LOOKUP_SPLIT_MIN 4096
typedef struct lookup_job { tr_writer *w; MDB_txn *txn; size_t from, to; int rc; } lookup_job;

static void *lookup_thread(void *p)
{
    lookup_job *j = p;
    MDB_txn *rt;
    if (mdb_txn_begin(j->w->ix->env, NULL, MDB_RDONLY, &rt)) { j->rc = TR_ENOMEM; return NULL; }
    j->rc = lookup_terms(j->w, rt, j->from, j->to);
    mdb_txn_abort(rt);
    return NULL;
}

/* Everything of one commit inside txn. Leaves the in-memory batch untouched
 * (besides term ids and the copies of old term values) so that a map-full
 * retry can run it again. */
static int write_batch(tr_writer *w, MDB_txn *txn, tr_stats *s)
{
    MDB_dbi terms = w->ix->dbi[TR_DB_TERMS];
    uint32_t first = w->committed.next_doc;
    int rc;
    w->repacked = 0;
    w->regen_left = w->o.memory / TR_REGEN_MEMORY_SHARE;
    /* 1: look terms up (a merge-walk of the sorted batch against the
     * dictionary's blocks; the second half in a read txn of another thread
     * meanwhile, see lookup_terms), give new ones ids in sorted order */
    size_t half = w->nterms / 2;
    lookup_job lj = { w, NULL, half, w->nterms, TR_OK };
    pthread_t lt;
    int split = w->nwk >= 2 && w->nterms >= TR_LOOKUP_SPLIT_MIN &&
                pthread_create(&lt, NULL, lookup_thread, &lj) == 0;
    rc = lookup_terms(w, txn, 0, split ? half : w->nterms);
    if (split) {
        pthread_join(lt, NULL);
        /* a thread that got no read txn (or failed) leaves its half here */
        if (!rc && lj.rc) rc = lookup_terms(w, txn, half, w->nterms);
    }
    if (rc) return rc == TR_EFULL ? MDB_MAP_FULL : rc;
    for (size_t i = 0; i < w->nterms; i++) {
        term_ent *e = w->sorted[i];
        if (e->c->existing) continue;
        e->term_id = s->next_term++;
        s->terms++;
    }
    drop_map_pages(w);
    /* 2: existing terms by term id, then new ones (their ids follow, in
     * byte order), encoded in parallel a round at a time and written in
     * that order: postings keys (this commit's generation | term id |
     * first doc) then ascend, and every chunk is appended */
    term_ent **order = w->order;
    size_t no = 0, nold;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < w->nterms; i++)
            if (w->sorted[i]->c->existing == (pass == 0)) order[no++] = w->sorted[i];
        if (pass == 0) nold = no;
    }
    qsort(order, nold, sizeof *order, term_id_cmp);
    uint32_t gen = s->generation + 1;
    w->gen_used = 0;
    uint8_t gb[TR_TERM_GENS_MAX_BYTES];
    tr_buf_clear(&w->dvals);
    /* the first round is encoded while the documents are written (step 3,
     * which does not depend on it): a bigger one, to keep the other
     * threads busy as long as that takes */
    size_t cap = fixed_cap(w, TR_ENCODE_ROUND_BYTES);
    enc_round rounds[2];
    int cur = 0;
    size_t first_cap = roomy(w) ? TR_FIRST_ROUND_ROUNDS * cap : cap;
    size_t start = 0, end = round_end(order, no, 0, first_cap);
    encode_start(w, txn, order, end, &rounds[cur]);
    rc = write_docs(w, txn, s);
    encode_finish(w, &rounds[cur]);
    if (rc) return rc;
    while (start < no) {
        drop_map_pages(w);
        size_t next_end = end < no ? round_end(order, no, end, cap) : end;
        if (end < no) encode_start(w, txn, order + end, next_end - end, &rounds[cur ^ 1]);
        rc = write_round(w, txn, order, start, end, gen, gb);
        if (end < no) encode_finish(w, &rounds[cur ^ 1]);
        if (rc) return rc;
        start = end;
        end = next_end;
        cur ^= 1;
    }
    if (w->gen_used) s->generation = gen;
    /* 2b: the dictionary, in byte order: only the blocks the batch touches
     * are rewritten, or all of it (pages full again) when it touches many;
     * postings need no repacking: this commit's generation was appended */
    for (size_t i = 0; i < w->nterms; i++) {
        term_ent *e = w->sorted[i];
        w->dupd[i] = (tr_dict_update){ (const uint8_t *)e->term, e->len, e->term_id,
                                       w->dvals.data + e->c->voff, e->c->vlen };
    }
    tr_dict_apply_stats dst;
    rc = tr_dict_apply(txn, terms, w->dupd, w->nterms, w->o.memory / TR_REPACK_MEMORY_SHARE, &dst);
    if (rc) return rc == TR_EFULL ? MDB_MAP_FULL : rc;
    w->repacked = dst.rewrote && dst.blocks_before > 0;
    drop_map_pages(w);
    /* 4: deletions */
    for (size_t i = 0; i < w->ndels; i++) {
        uint32_t doc = w->dels[i];
        uint8_t k[4];
        tr_key_u32(k, doc);
        rc = put(txn, w->ix->dbi[TR_DB_DELETED], k, 4, "", 0, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) continue;
        if (rc) return rc;
        uint32_t tt = 0, bt = 0;
        if (doc >= first) {
            tt = w->docs[doc - first]->title_terms;
            bt = w->docs[doc - first]->body_terms;
        } else {
            uint8_t nk[4];
            tr_key_u32(nk, doc >> TR_NORMS_SHIFT);
            MDB_val kv = { 4, nk }, v;
            size_t off = (size_t)(doc & (TR_NORMS_PER_KEY - 1)) * TR_NORM_BYTES;
            if (mdb_get(txn, w->ix->dbi[TR_DB_NORMS], &kv, &v) == 0 && v.mv_size >= off + TR_NORM_BYTES) {
                tt = tr_get_le32((const uint8_t *)v.mv_data + off);
                bt = tr_get_le32((const uint8_t *)v.mv_data + off + 4);
            }
        }
        if (s->docs) s->docs--;
        s->deleted++;
        s->title_tokens -= tt <= s->title_tokens ? tt : s->title_tokens;
        s->body_tokens -= bt <= s->body_tokens ? bt : s->body_tokens;
    }
    /* 5: stats */
    s->next_doc = w->next_doc;
    uint8_t sv[TR_STATS_BYTES];
    tr_stats_encode(s, sv);
    return put(txn, w->ix->dbi[TR_DB_META], "stats", 5, sv, sizeof sv, 0);
}

/* Sorting the batch's terms starts every commit and nothing else runs
 * meanwhile (0.13-0.27 s a commit on the passages, ~3M terms): with two or
 * more threads, the two halves are sorted side by side and merged. */
#define TR_SORT_SPLIT_MIN 65536
typedef struct sort_half { skey *k; size_t n; } sort_half;

static void *sort_half_thread(void *p)
{
    sort_half *h = p;
    qsort(h->k, h->n, sizeof *h->k, skey_cmp);
    return NULL;
}

/* w->sorted[0, m) = the entries of keys[0, m) in term byte order (keys is
 * left sorted in halves, or whole). */
static void sort_terms(tr_writer *w, skey *keys, size_t m)
{
    pthread_t th;
    sort_half lo = { keys, m / 2 };
    if (w->nwk < 2 || m < TR_SORT_SPLIT_MIN || pthread_create(&th, NULL, sort_half_thread, &lo) != 0) {
        qsort(keys, m, sizeof *keys, skey_cmp);
        for (size_t i = 0; i < m; i++) w->sorted[i] = keys[i].e;
        return;
    }
    qsort(keys + lo.n, m - lo.n, sizeof *keys, skey_cmp);
    pthread_join(th, NULL);
    const skey *a = keys, *ae = keys + lo.n, *b = ae, *be = keys + m;
    term_ent **o = w->sorted;
    while (a < ae && b < be) *o++ = skey_cmp(b, a) < 0 ? (b++)->e : (a++)->e;
    while (a < ae) *o++ = (a++)->e;
    while (b < be) *o++ = (b++)->e;
}

int tr_writer_commit(tr_writer *w, char *err, size_t errcap)
{
    if (w->rc) { tr_set_err(err, errcap, "writer failed earlier: %s", tr_strerror(w->rc)); return w->rc; }
    int rc = process_window(w);
    if (rc) { w->rc = rc; tr_set_err(err, errcap, "analysis failed: %s", tr_strerror(rc)); return rc; }
    if (w->ndocs == 0 && w->ndels == 0 && w->nids == 0) return TR_OK;
    free(w->sorted);
    free(w->order);
    free(w->dupd);
    w->sorted = malloc((w->nterms ? w->nterms : 1) * sizeof *w->sorted);
    w->order = malloc((w->nterms ? w->nterms : 1) * sizeof *w->order);
    w->dupd = malloc((w->nterms ? w->nterms : 1) * sizeof *w->dupd);
    skey *keys = malloc((w->nterms ? w->nterms : 1) * sizeof *keys);
    if (!w->sorted || !w->order || !w->dupd || !keys) { free(keys); return w->rc = TR_ENOMEM; }
    size_t m = 0;
    for (size_t i = 0; i < w->tabcap; i++) {
        term_ent *e = w->tab[i].e;
        if (!e) continue;
        uint64_t k = 0;
        for (uint32_t b = 0; b < 8; b++) k = k << 8 | (b < e->len ? (uint8_t)e->term[b] : 0);
        keys[m].key = k;
        keys[m++].e = e;
    }
    sort_terms(w, keys, m);
    free(keys);
    free(w->cold);
    w->cold = calloc(m ? m : 1, sizeof *w->cold);
    if (!w->cold) return w->rc = TR_ENOMEM;
    for (size_t i = 0; i < m; i++) w->sorted[i]->c = &w->cold[i];
    w->enc_left = 1;                       /* until the commit succeeds */
    if (w->rtxn) { mdb_txn_abort(w->rtxn); w->rtxn = NULL; }
    /* Grow the map up front to what the batch will roughly need, so that a
     * big batch is not written several times over by map-full retries
     * (they remain the backstop when the estimate is short). */
    uint64_t est = 0;
    for (size_t i = 0; i < m; i++) est += w->sorted[i]->blen + w->sorted[i]->len + 32;
    for (size_t i = 0; i < w->nblocks; i++) est += w->blocks[i]->vlen + 16;
    for (size_t i = 0; i < w->ndocs; i++)
        est += w->docs[i]->id_len * 2 + w->docs[i]->title_len + w->docs[i]->url_len + 64;
    MDB_envinfo ei;
    MDB_stat es;
    if (mdb_env_info(w->ix->env, &ei) == 0 && mdb_env_stat(w->ix->env, &es) == 0) {
        uint64_t need = ((uint64_t)ei.me_last_pgno + 1) * es.ms_psize + est + est / 4;
        size_t ns = ei.me_mapsize;
        while (ns < need && ns < SIZE_MAX / 2) ns *= 2;
        if (ns != ei.me_mapsize) mdb_env_set_mapsize(w->ix->env, ns);
    }
    for (;;) {
        MDB_txn *txn;
        rc = mdb_txn_begin(w->ix->env, NULL, 0, &txn);
        if (rc) break;
        tr_stats s = w->committed;
        rc = write_batch(w, txn, &s);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
            if (rc == 0) {
                w->committed = s;
                w->enc_left = 0;
                break;
            }
        } else {
            mdb_txn_abort(txn);
        }
        if (rc != MDB_MAP_FULL) break;
        MDB_envinfo info;
        mdb_env_info(w->ix->env, &info);
        size_t ns = info.me_mapsize * 2;
        rc = mdb_env_set_mapsize(w->ix->env, ns);
        if (rc) break;
    }
    if (rc) {
        int is_tr = rc < 0 && rc >= TR_ELMDB;
        int trc = is_tr ? rc : tr_schema_lmdb_rc(rc);
        tr_set_err(err, errcap, "commit failed: %s", is_tr ? tr_strerror(rc) : mdb_strerror(rc));
        w->rc = trc;
        return trc;
    }
    w->ws.batches++;
    w->ws.repacks += (uint64_t)w->repacked;
    tr_buf_free(&w->dvals);
    drop_map_pages(w);
    batch_clear(w);
    malloc_trim(0);
    return TR_OK;
}

/* ---- open / add / delete / close ---- */

static int meta_get(MDB_txn *txn, tr_index *ix, const char *key, MDB_val *v)
{
    MDB_val k = { strlen(key), (void *)key };
    return mdb_get(txn, ix->dbi[TR_DB_META], &k, v);
}

int tr_writer_open(const char *dir, const tr_writer_opts *o, tr_writer **out, char *err, size_t errcap)
{
    *out = NULL;
    tr_writer *w = cache_zalloc(sizeof *w);
    if (!w) return TR_ENOMEM;
    w->o = *o;
    if (w->o.threads < 1) w->o.threads = 1;
    if (w->o.threads > TR_MAX_THREADS) w->o.threads = TR_MAX_THREADS;
    if (!w->o.memory) w->o.memory = TR_DEFAULT_MEMORY;
    if (!w->o.initial_map) w->o.initial_map = TR_DEFAULT_INITIAL_MAP;
    int rc = tr_schema_open(dir, 0, w->o.initial_map, &w->ix, err, errcap);
    if (!rc && (rc = tr_schema_lock(w->ix, err, errcap))) tr_index_close(w->ix);
    if (rc) { free(w); return rc; }
    MDB_txn *txn;
    rc = mdb_txn_begin(w->ix->env, NULL, 0, &txn);
    if (rc) goto lmdb_fail;
    MDB_val v;
    rc = meta_get(txn, w->ix, "format", &v);
    char sbuf[256];
    if (rc == MDB_NOTFOUND) {
        /* a new index */
        uint8_t fv[4];
        tr_put_le32(fv, TR_FORMAT_VERSION);
        int n = tr_settings_encode(&w->o.settings, sbuf, sizeof sbuf);
        if (n < 0) {
            mdb_txn_abort(txn);
            tr_set_err(err, errcap, "cannot encode settings");
            rc = n;
            goto fail;
        }
        w->settings = w->o.settings;
        memset(&w->committed, 0, sizeof w->committed);
        w->committed.next_doc = 1;
        w->committed.next_term = 1;
        uint8_t sv[TR_STATS_BYTES];
        tr_stats_encode(&w->committed, sv);
        if ((rc = put(txn, w->ix->dbi[TR_DB_META], "format", 6, fv, 4, 0)) ||
            (rc = put(txn, w->ix->dbi[TR_DB_META], "settings", 8, sbuf, (size_t)n, 0)) ||
            (rc = put(txn, w->ix->dbi[TR_DB_META], "stats", 5, sv, sizeof sv, 0))) {
            mdb_txn_abort(txn);
            goto lmdb_fail;
        }
        rc = mdb_txn_commit(txn);
        if (rc) goto lmdb_fail;
    } else if (rc) {
        mdb_txn_abort(txn);
        goto lmdb_fail;
    } else {
        rc = tr_schema_check_format(w->ix, txn, err, errcap);
        if (rc) { mdb_txn_abort(txn); goto fail; }
        if (meta_get(txn, w->ix, "settings", &v) || tr_settings_decode(&w->settings, v.mv_data, v.mv_size)) {
            mdb_txn_abort(txn);
            tr_set_err(err, errcap, "index %s: settings record missing or damaged", dir);
            rc = TR_ECORRUPT;
            goto fail;
        }
        if (w->o.settings_given) {
            int n = tr_settings_encode(&w->o.settings, sbuf, sizeof sbuf);
            if (n < 0 || (size_t)n != v.mv_size || memcmp(sbuf, v.mv_data, v.mv_size)) {
                tr_set_err(err, errcap, "index %s was built with settings \"%.*s\"; cannot add with \"%.*s\"",
                     dir, (int)v.mv_size, (const char *)v.mv_data, n < 0 ? 0 : n, sbuf);
                mdb_txn_abort(txn);
                rc = TR_EINPUT;
                goto fail;
            }
        }
        if (meta_get(txn, w->ix, "stats", &v) || tr_stats_decode(&w->committed, v.mv_data, v.mv_size)) {
            mdb_txn_abort(txn);
            tr_set_err(err, errcap, "index %s: stats record missing or damaged", dir);
            rc = TR_ECORRUPT;
            goto fail;
        }
        mdb_txn_abort(txn);
    }
    w->next_doc = w->committed.next_doc;
    w->nwk = w->o.threads;
    for (unsigned set = 0; set < TR_WINDOW_SETS; set++)
        for (unsigned i = 0; i < w->nwk; i++) {
            worker *k = &w->wk[set][i];
            k->a = tr_analyzer_new(&w->settings, err, errcap);
            k->z = ZSTD_createCCtx();
            if (!k->a || !k->z ||
                (roomy(w) && tr_analyzer_set_stem_cache_bytes(k->a, w->o.memory / TR_STEM_CACHE_SHARE / w->nwk))) {
                rc = k->a ? TR_ENOMEM : TR_EINPUT;
                goto fail;
            }
        }
    *out = w;
    return TR_OK;
lmdb_fail:
    tr_set_err(err, errcap, "index %s: %s", dir, mdb_strerror(rc));
    rc = tr_schema_lmdb_rc(rc);
fail:
    w->rc = rc;
    tr_writer_close(w, NULL, 0);
    return rc;
}

int tr_writer_add(tr_writer *w, const tr_doc_in *doc, char *err, size_t errcap)
{
    if (w->rc) { tr_set_err(err, errcap, "writer failed earlier: %s", tr_strerror(w->rc)); return w->rc; }
    if (!doc->id || doc->id_len == 0 || doc->id_len > TR_MAX_ID_BYTES) {
        tr_set_err(err, errcap, "document id must be 1..%d bytes (got %zu)", TR_MAX_ID_BYTES, doc->id ? doc->id_len : 0);
        return TR_EINPUT;
    }
    if (doc->title_len > TR_MAX_TITLE_BYTES || doc->url_len > TR_MAX_URL_BYTES) {
        tr_set_err(err, errcap, "document %.*s: title longer than %d or url longer than %d bytes",
             (int)doc->id_len, doc->id, TR_MAX_TITLE_BYTES, TR_MAX_URL_BYTES);
        return TR_EINPUT;
    }
    if ((doc->title_len && !doc->title) || (doc->body_len && !doc->body) || (doc->url_len && !doc->url))
        return TR_EINPUT;
    if (w->next_doc == UINT32_MAX - 1) {
        tr_set_err(err, errcap, "index is out of document ids");
        return TR_ELIMIT;
    }
    if (w->ndocs == w->doccap) {
        size_t cap = w->doccap ? w->doccap * 2 : 1024;
        wdoc **d = realloc(w->docs, cap * sizeof *d);
        if (!d) return TR_ENOMEM;
        w->docs = d;
        uint32_t *dl = realloc(w->dls, cap * sizeof *dl);
        if (!dl) return TR_ENOMEM;
        w->dls = dl;
        uint32_t *tl = realloc(w->tls, cap * sizeof *tl);
        if (!tl) return TR_ENOMEM;
        w->tls = tl;
        w->mem += (cap - w->doccap) * (sizeof *d + 2 * sizeof *dl);
        w->doccap = cap;
    }
    uint64_t h = hash_bytes(doc->id, doc->id_len);
    uint32_t old;
    int rc = id_current(w, doc->id, doc->id_len, h, &old);
    if (rc) return rc;
    /* a failure below leaves the arena's bytes to batch_clear */
    wdoc *d = arena_alloc(w, &w->dmem, sizeof *d + doc->id_len + doc->title_len + doc->url_len);
    if (!d) return TR_ENOMEM;
    memset(d, 0, sizeof *d);
    d->meta = (char *)(d + 1);
    d->body_off = w->win_text.len;
    if (tr_buf_append(&w->win_text, doc->body, doc->body_len)) return TR_ENOMEM;
    memcpy(d->meta, doc->id, doc->id_len);
    if (doc->title_len) memcpy(d->meta + doc->id_len, doc->title, doc->title_len);
    if (doc->url_len) memcpy(d->meta + doc->id_len + doc->title_len, doc->url, doc->url_len);
    d->id_len = doc->id_len;
    d->title_len = doc->title_len;
    d->url_len = doc->url_len;
    d->body_len = doc->body_len;
    d->date = doc->date;
    d->doc = w->next_doc;
    if (old) {
        if ((rc = push_delete(w, old))) { w->win_text.len = d->body_off; return rc; }
        w->ws.replaced++;
    }
    if ((rc = id_set(w, doc->id, doc->id_len, h, d->doc))) {
        if (old) w->ndels--;
        w->win_text.len = d->body_off;
        return rc;
    }
    w->docs[w->ndocs++] = d;
    w->next_doc++;
    w->ws.added++;
    size_t bytes = doc->id_len + doc->title_len + doc->url_len + doc->body_len;
    w->mem += doc->body_len;               /* the rest is counted by the arena's chunks */
    w->win_bytes += bytes;
    int batch_full = w->o.batch_docs && w->ndocs >= w->o.batch_docs;
    size_t budget = w->o.memory / 100 * TR_INVERT_PCT;
    size_t win_docs = roomy(w) ? TR_WINDOW_DOCS : TR_WINDOW_DOCS_SMALL;
    if (w->ndocs - w->win_start >= win_docs || w->win_bytes >= fixed_cap(w, TR_WINDOW_BYTES) || batch_full ||
        w->mem >= budget) {
        /* launch this window before inverting the previous one, so the
         * analysis threads work while the inverter does */
#if TR_WINDOW_SETS > 1
        rc = window_launch(w);
        if (!rc) rc = window_finish(w);
#else
        /* one worker set: wait for it, give it this window, and invert the
         * previous one meanwhile, so the cores are busy during inversion */
        window_job *prev = w->job;
        window_join(prev);
        w->job = NULL;
        rc = window_launch(w);
        if (prev) {
            int irc = window_invert(w, prev);
            if (!rc) rc = irc;
        }
#endif
        if (rc) { w->rc = rc; tr_set_err(err, errcap, "analysis failed: %s", tr_strerror(rc)); return rc; }
        if (batch_full || w->mem >= budget)
            return tr_writer_commit(w, err, errcap);
    }
    return TR_OK;
}

int tr_writer_delete(tr_writer *w, const char *id, size_t id_len)
{
    if (w->rc) return w->rc;
    if (!id || id_len == 0 || id_len > TR_MAX_ID_BYTES) { w->ws.missing_deletes++; return TR_OK; }
    uint64_t h = hash_bytes(id, id_len);
    uint32_t old;
    int rc = id_current(w, id, id_len, h, &old);
    if (rc) return rc;
    if (!old) { w->ws.missing_deletes++; return TR_OK; }
    if ((rc = push_delete(w, old))) return rc;
    if ((rc = id_set(w, id, id_len, h, 0))) { w->ndels--; return rc; }
    w->ws.deleted++;
    return TR_OK;
}

void tr_writer_get_stats(const tr_writer *w, tr_writer_stats *out)
{
    *out = w->ws;
}

int tr_writer_close(tr_writer *w, char *err, size_t errcap)
{
    if (!w) return TR_OK;
    int rc = w->rc ? w->rc : tr_writer_commit(w, err, errcap);
    batch_clear(w);
    if (w->rtxn) mdb_txn_abort(w->rtxn);
    for (unsigned set = 0; set < TR_WINDOW_SETS; set++)
        for (unsigned i = 0; i < w->nwk; i++) {
            worker *k = &w->wk[set][i];
            tr_analyzer_free(k->a);
            ZSTD_freeCCtx(k->z);
            tr_buf_free(&k->arena);
            free(k->toks);
            free(k->terms);
            free(k->slots);
        }
    free(w->docs);
    free(w->blocks);
    free(w->dls);
    free(w->tls);
    free(w->dels);
    for (unsigned i = 0; i < TR_MAX_THREADS; i++) tr_enc_scratch_free(&w->sc[i]);
    free(w->order);
    free(w->sorted);
    free(w->dupd);
    tr_buf_free(&w->dvals);
    tr_buf_free(&w->val);
    tr_index_close(w->ix);
    free(w);
    return rc;
}
