/* bench_layout.c - how should one long posting list map onto LMDB? Builds a
 * temporary environment holding the same 1M-posting list four ways and times
 * skipping through it (intersection with 1,000 random targets) and scanning
 * it, in one run:
 *   seek   one key per block (term || last_doc), MDB_SET_RANGE per skip
 *   step   one key per block, MDB_NEXT until the block's last_doc >= target
 *   big    one value (overflow pages) with the block directory at its head:
 *          binary search in memory, no LMDB call per skip
 *   chunks values of 64 or 512 blocks (key term || first_doc), MDB_NEXT
 *          between chunks, directory search inside one
 * Each is timed with block decoding and without (navigation alone).
 * Every layout decodes the block it lands on with the real codec (verify on).
 * Usage: bench_layout [postings] [mean_gap]   (default 1000000 40) */
#include "codec.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TERM_ID 500000u        /* the long list's term; filler terms around it */
#define FILLER_TERMS 100000u   /* small lists so the tree has realistic depth */
#define FILLER_VALUE_BYTES 60
#define TARGETS 1000           /* the short list of the intersection */
#define ROUNDS 15              /* target sets per measurement; best is reported */
static const uint32_t chunk_blocks[2] = {64, 512}; /* blocks per value, "chunks" layouts */
#define MAP_BYTES (1ull << 30)

static uint64_t rng_state = 7;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define MDB_CHECK(call) do { int rc_ = (call); if (rc_) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, mdb_strerror(rc_)); exit(1); } } while (0)

static void make_key(uint8_t k[8], uint32_t term, uint32_t doc)
{
    tr_put_be32(k, term);
    tr_put_be32(k + 4, doc);
}

static MDB_env *env;
static MDB_dbi dbi_seek, dbi_big, dbi_chunks[2];
static int g_decode = 1; /* 0: find the block only */
static uint32_t *docs, *tf, *ttf, *dl;
static uint32_t ndocs;

/* State of a walk: the decoded block. */
typedef struct walk {
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    uint32_t n, last;
    long blocks;
} walk;

static uint32_t first_ge(const walk *w, uint32_t target)
{
    uint32_t lo = 0, hi = w->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (w->docs[mid] < target) lo = mid + 1; else hi = mid;
    }
    return lo < w->n ? w->docs[lo] : TR_DOC_END;
}

static void decode_value(walk *w, const MDB_val *v)
{
    tr_chunk c;
    if (tr_chunk_open(&c, v->mv_data, v->mv_size)) { fprintf(stderr, "open failed\n"); exit(1); }
    int n = tr_chunk_block_decode(&c, 0, 1, w->docs, w->tf, w->ttf);
    if (n <= 0) { fprintf(stderr, "decode failed\n"); exit(1); }
    w->n = (uint32_t)n;
    w->last = c.last_doc;
    w->blocks++;
}

/* ---- the four walks: each returns a checksum of the docs found ---- */

static uint64_t run_seek(MDB_txn *txn, const uint32_t *targets, int nt)
{
    MDB_cursor *cur;
    MDB_CHECK(mdb_cursor_open(txn, dbi_seek, &cur));
    walk w = {.n = 0, .last = 0};
    int have = 0;
    uint64_t sum = 0;
    for (int i = 0; i < nt; i++) {
        if (!have || targets[i] > w.last) {
            uint8_t k[8];
            make_key(k, TERM_ID, targets[i]);
            MDB_val key = {8, k}, val;
            if (mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) ||
                tr_get_be32(key.mv_data) != TERM_ID)
                break;
            if (g_decode) decode_value(&w, &val);
            else w.last = tr_get_be32((uint8_t *)key.mv_data + 4);
            have = 1;
        }
        sum += g_decode ? first_ge(&w, targets[i]) : w.last;
    }
    mdb_cursor_close(cur);
    return sum;
}

static uint64_t run_step(MDB_txn *txn, const uint32_t *targets, int nt)
{
    MDB_cursor *cur;
    MDB_CHECK(mdb_cursor_open(txn, dbi_seek, &cur));
    walk w = {.n = 0};
    uint8_t k[8];
    make_key(k, TERM_ID, 0);
    MDB_val key = {8, k}, val;
    uint64_t sum = 0;
    /* one seek to find the list, then steps only */
    if (mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE)) return 0;
    int decoded = 0;
    for (int i = 0; i < nt; i++) {
        int ok = 1;
        while (tr_get_be32((uint8_t *)key.mv_data + 4) < targets[i]) {
            if (mdb_cursor_get(cur, &key, &val, MDB_NEXT) || tr_get_be32(key.mv_data) != TERM_ID) {
                ok = 0;
                break;
            }
            decoded = 0;
        }
        if (!ok) break;
        if (!g_decode) { sum += tr_get_be32((uint8_t *)key.mv_data + 4); continue; }
        if (!decoded) { decode_value(&w, &val); decoded = 1; }
        sum += first_ge(&w, targets[i]);
    }
    mdb_cursor_close(cur);
    return sum;
}

/* Block search inside an open chunk, from block `from` on. */
static uint32_t dir_search(const tr_chunk *c, uint32_t from, uint32_t target)
{
    uint32_t lo = from, hi = c->nblocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tr_chunk_block_last(c, mid) < target) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static uint64_t run_big(MDB_txn *txn, const uint32_t *targets, int nt, double *open_ns)
{
    uint8_t k[8];
    make_key(k, TERM_ID, docs[0]);
    MDB_val key = {8, k}, val;
    double t0 = now();
    MDB_CHECK(mdb_get(txn, dbi_big, &key, &val));
    tr_chunk c;
    if (tr_chunk_open(&c, val.mv_data, val.mv_size)) { fprintf(stderr, "open failed\n"); exit(1); }
    if (open_ns) *open_ns = (now() - t0) * 1e9;
    walk w = {.n = 0};
    uint32_t blk = 0, cur = UINT32_MAX;
    uint64_t sum = 0;
    for (int i = 0; i < nt; i++) {
        blk = dir_search(&c, blk, targets[i]);
        if (blk >= c.nblocks) break;
        if (!g_decode) { sum += tr_chunk_block_last(&c, blk); continue; }
        if (blk != cur) {
            int n = tr_chunk_block_decode(&c, blk, 1, w.docs, w.tf, w.ttf);
            if (n <= 0) { fprintf(stderr, "decode failed\n"); exit(1); }
            w.n = (uint32_t)n;
            cur = blk;
            w.blocks++;
        }
        sum += first_ge(&w, targets[i]);
    }
    return sum;
}

static int next_chunk(MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
    return !mdb_cursor_get(cur, k, v, MDB_NEXT) && tr_get_be32(k->mv_data) == TERM_ID;
}

static uint64_t run_chunks(MDB_txn *txn, MDB_dbi dbi, const uint32_t *targets, int nt)
{
    MDB_cursor *cur;
    MDB_CHECK(mdb_cursor_open(txn, dbi, &cur));
    uint8_t k[8];
    make_key(k, TERM_ID, 0);
    MDB_val key = {8, k}, val, pk, pv;
    if (mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE)) return 0;
    tr_chunk c;
    if (tr_chunk_open(&c, val.mv_data, val.mv_size)) { fprintf(stderr, "open failed\n"); exit(1); }
    /* one key of lookahead: the chunk after c, read but not opened */
    int pending = next_chunk(cur, &pk, &pv);
    walk w = {.n = 0};
    uint32_t blk = 0, decoded = UINT32_MAX;
    uint64_t sum = 0;
    for (int i = 0; i < nt; i++) {
        uint32_t t = targets[i];
        int done = 0;
        while (t > c.last_doc) {
            if (!pending) { done = 1; break; }
            MDB_val cv = pv;
            pending = next_chunk(cur, &pk, &pv);
            /* skip whole chunks by their keys alone */
            while (pending && tr_get_be32((uint8_t *)pk.mv_data + 4) <= t) {
                cv = pv;
                pending = next_chunk(cur, &pk, &pv);
            }
            if (tr_chunk_open(&c, cv.mv_data, cv.mv_size)) { fprintf(stderr, "open failed\n"); exit(1); }
            blk = 0;
            decoded = UINT32_MAX;
        }
        if (done) break;
        blk = dir_search(&c, blk, t);
        if (!g_decode) { sum += tr_chunk_block_last(&c, blk); continue; }
        if (blk != decoded) {
            int n = tr_chunk_block_decode(&c, blk, 1, w.docs, w.tf, w.ttf);
            if (n <= 0) { fprintf(stderr, "decode failed\n"); exit(1); }
            w.n = (uint32_t)n;
            decoded = blk;
            w.blocks++;
        }
        sum += first_ge(&w, t);
    }
    mdb_cursor_close(cur);
    return sum;
}

/* ---- building the environment ---- */

static void put_filler(MDB_txn *txn, MDB_dbi dbi, uint32_t from, uint32_t to)
{
    uint8_t k[8], v[FILLER_VALUE_BYTES];
    memset(v, 0xAB, sizeof v);
    for (uint32_t t = from; t < to; t++) {
        make_key(k, t, 0);
        MDB_val key = {8, k}, val = {sizeof v, v};
        MDB_CHECK(mdb_put(txn, dbi, &key, &val, MDB_APPEND));
    }
}

static void put_chunk(MDB_txn *txn, MDB_dbi dbi, uint32_t keydoc, uint32_t from, uint32_t n,
                      tr_buf *buf)
{
    tr_postings_in in = { n, docs + from, tf + from, ttf + from, dl + from, NULL, NULL };
    tr_buf_clear(buf);
    if (tr_chunk_encode(&in, buf)) { fprintf(stderr, "encode failed\n"); exit(1); }
    uint8_t k[8];
    make_key(k, TERM_ID, keydoc);
    MDB_val key = {8, k}, val = {buf->len, buf->data};
    MDB_CHECK(mdb_put(txn, dbi, &key, &val, MDB_APPEND));
}

static void build(size_t *per_block_bytes, size_t *big_bytes)
{
    MDB_txn *txn;
    tr_buf buf = {0};
    MDB_CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    MDB_CHECK(mdb_dbi_open(txn, "seek", MDB_CREATE, &dbi_seek));
    MDB_CHECK(mdb_dbi_open(txn, "big", MDB_CREATE, &dbi_big));
    MDB_CHECK(mdb_dbi_open(txn, "chunks64", MDB_CREATE, &dbi_chunks[0]));
    MDB_CHECK(mdb_dbi_open(txn, "chunks512", MDB_CREATE, &dbi_chunks[1]));
    MDB_dbi all[4] = {dbi_seek, dbi_big, dbi_chunks[0], dbi_chunks[1]};
    for (int d = 0; d < 4; d++) put_filler(txn, all[d], TERM_ID - FILLER_TERMS / 2, TERM_ID);
    size_t total = 0;
    for (uint32_t i = 0; i < ndocs; i += TR_BLOCK_DOCS) {
        uint32_t n = ndocs - i < TR_BLOCK_DOCS ? ndocs - i : TR_BLOCK_DOCS;
        put_chunk(txn, dbi_seek, docs[i + n - 1], i, n, &buf);
        total += buf.len;
    }
    *per_block_bytes = total / ((ndocs + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS);
    put_chunk(txn, dbi_big, docs[0], 0, ndocs, &buf);
    *big_bytes = buf.len;
    for (int s = 0; s < 2; s++) {
        uint32_t per = chunk_blocks[s] * TR_BLOCK_DOCS;
        for (uint32_t i = 0; i < ndocs; i += per)
            put_chunk(txn, dbi_chunks[s], docs[i], i, ndocs - i < per ? ndocs - i : per, &buf);
    }
    for (int d = 0; d < 4; d++) put_filler(txn, all[d], TERM_ID + 1, TERM_ID + 1 + FILLER_TERMS / 2);
    MDB_CHECK(mdb_txn_commit(txn));
    tr_buf_free(&buf);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    ndocs = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
    uint32_t mean_gap = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 40u;
    if (ndocs < TR_BLOCK_DOCS || mean_gap < 1) { fprintf(stderr, "usage: bench_layout [postings>=128] [gap>=1]\n"); return 2; }
    docs = malloc(ndocs * 4ull); tf = malloc(ndocs * 4ull); ttf = malloc(ndocs * 4ull); dl = malloc(ndocs * 4ull);
    uint64_t d = 0;
    for (uint32_t i = 0; i < ndocs; i++) {
        d += 1 + rnd() % (2 * mean_gap - 1);
        docs[i] = (uint32_t)d;
        tf[i] = 1 + (rnd() % 4 == 0 ? (uint32_t)(rnd() % 8) : 0);
        ttf[i] = 0;
        dl[i] = 100 + (uint32_t)(rnd() % 500);
    }
    char dir[] = "/tmp/trawl-bench-layout-XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    MDB_CHECK(mdb_env_create(&env));
    MDB_CHECK(mdb_env_set_mapsize(env, MAP_BYTES));
    MDB_CHECK(mdb_env_set_maxdbs(env, 4));
    MDB_CHECK(mdb_env_open(env, dir, MDB_NOSYNC, 0600));
    size_t per_block, big;
    build(&per_block, &big);
    uint32_t nblocks = (ndocs + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS;
    printf("bench_layout: %u postings, mean gap %u, %u blocks; per-block value %zu bytes;\n"
           "one value %zu bytes; %u filler terms; %s\n",
           ndocs, mean_gap, nblocks, per_block, big, FILLER_TERMS, MDB_VERSION_STRING);

    MDB_txn *txn;
    MDB_CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    enum { NL = 5 };
    static const char *names[NL] = {"seek: key/block, SET_RANGE", "step: key/block, MDB_NEXT",
                                    "big: one value, dir in memory", "chunks: 64 blocks/value",
                                    "chunks: 512 blocks/value"};
    uint32_t targets[TARGETS];
    uint32_t *scan = malloc(nblocks * 4ull);
    for (uint32_t b = 0; b < nblocks; b++) scan[b] = docs[b * TR_BLOCK_DOCS];
    double skip[2][NL], scanb[2][NL];
    double open_best = 1e30;
    uint64_t check[NL];
    for (int dec = 0; dec < 2; dec++) {
        g_decode = dec;
        for (int m = 0; m < NL; m++) skip[dec][m] = scanb[dec][m] = 1e30;
        for (int r = 0; r <= ROUNDS; r++) { /* round 0 warms the map */
            for (uint32_t i = 0; i < TARGETS; i++) targets[i] = (uint32_t)(rnd() % d);
            qsort(targets, TARGETS, 4, cmp_u32);
            int full = r % 3 == 0; /* every third round also scans */
            for (int pass = 0; pass < 1 + full; pass++) {
                const uint32_t *tg = pass ? scan : targets;
                int nt = pass ? (int)nblocks : TARGETS;
                for (int m = 0; m < NL; m++) {
                    double t0 = now(), open_ns = 0;
                    check[m] = m == 0 ? run_seek(txn, tg, nt)
                             : m == 1 ? run_step(txn, tg, nt)
                             : m == 2 ? run_big(txn, tg, nt, &open_ns)
                                      : run_chunks(txn, dbi_chunks[m - 3], tg, nt);
                    double t = now() - t0;
                    if (r == 0) continue;
                    if (m == 2 && open_ns < open_best) open_best = open_ns;
                    double *best = pass ? &scanb[dec][m] : &skip[dec][m];
                    if (t < *best) *best = t;
                }
                for (int m = 1; m < NL; m++)
                    if (check[m] != check[0]) { fprintf(stderr, "layouts disagree (%d)\n", m); return 1; }
            }
        }
    }
    /* blocks an intersection decodes: distinct blocks holding a target */
    long nb = 0;
    for (uint32_t i = 0, b = 0, last = UINT32_MAX; i < TARGETS; i++) {
        while (b < nblocks && docs[b + 1 < nblocks ? (b + 1) * TR_BLOCK_DOCS - 1 : ndocs - 1] < targets[i]) b++;
        if (b < nblocks && b != last) { nb++; last = b; }
    }
    printf("\nintersection: %d sorted random targets against the list (~%ld distinct blocks);\n"
           "scan: every block in order. Best of %d rounds (scan: of %d). 'find' locates the\n"
           "block only; 'decode' also decodes it with the real codec, checksums on.\n\n",
           TARGETS, nb, ROUNDS, ROUNDS / 3);
    printf("%-30s %11s %11s %11s %11s %11s\n", "layout", "find ns", "decode ns", "query us",
           "scan find", "scan decode");
    printf("%-30s %11s %11s %11s %11s %11s\n", "", "per skip", "per skip", "(decode)",
           "ns/block", "ns/block");
    for (int m = 0; m < NL; m++)
        printf("%-30s %11.0f %11.0f %11.1f %11.1f %11.1f\n", names[m], skip[0][m] * 1e9 / TARGETS,
               skip[1][m] * 1e9 / TARGETS, skip[1][m] * 1e6, scanb[0][m] * 1e9 / nblocks,
               scanb[1][m] * 1e9 / nblocks);
    printf("\n'big' includes, once per query, mdb_get + tr_chunk_open of the whole value:\n"
           "%.1f us (checksum and validation of its %u-entry directory).\n", open_best / 1e3, nblocks);

    mdb_txn_abort(txn);
    mdb_env_close(env);
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/data.mdb", dir); unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir); unlink(path);
    rmdir(dir);
    free(scan); free(docs); free(tf); free(ttf); free(dl);
    return 0;
}
