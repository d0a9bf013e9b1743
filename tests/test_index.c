/* test_index.c - the LMDB index: what the writer stores reads back exactly
 * (terms, postings with positions, documents, norms), for any thread count
 * and batch size; add/replace/delete and snapshot isolation; map growth;
 * settings and format-version refusals; damage detection; cursor
 * next/seek/shallow against a brute-force walk. */
#include <jansson.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "index.h"
#include "schema.h"
#include "../common/check.h"

static char tmproot[] = "/tmp/trawl_test_index_XXXXXX";
static int dircount;

static void newdir(char *out, size_t cap)
{
    snprintf(out, cap, "%s/ix%d", tmproot, dircount++);
}

/* ---- documents ---- */
typedef struct doc {
    char id[64], title[256], url[64];
    char *body;
    int64_t date;
} doc;

static doc *docs;
static size_t ndocs;

static void add_doc(const char *id, const char *title, const char *body, int64_t date)
{
    docs = realloc(docs, (ndocs + 1) * sizeof *docs);
    doc *d = &docs[ndocs++];
    snprintf(d->id, sizeof d->id, "%s", id);
    snprintf(d->title, sizeof d->title, "%s", title);
    snprintf(d->url, sizeof d->url, "https://example.org/%s", id);
    d->body = strdup(body);
    d->date = date;
}

static void load_docs(void)
{
    add_doc("d1", "The Quick Brown Fox", "The quick brown fox jumps over the lazy dog. Foxes jump!", 86400);
    add_doc("d2", "", "Dogs and foxes are running; running dogs run.", TR_NO_DATE);
    add_doc("d3", "Élan vital", "Café crème, naïve résumé — élan.", -5);
    add_doc("d4", "empty body", "", 0);
    add_doc("d5", "Numbers 42", "42 is 6 times 7; 4096 bytes, 65536 words.", 1700000000);
    const char *src = getenv("TRAWL_SRC");
    char path[1024];
    snprintf(path, sizeof path, "%s/corpus/articles.jsonl", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "note: %s absent; using inline documents only\n", path);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    int i = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *title = json_string_value(json_object_get(j, "title"));
        const char *body = json_string_value(json_object_get(j, "body"));
        if (id && body) add_doc(id, title ? title : "", body, 1000000 + i++);
        json_decref(j);
    }
    free(line);
    fclose(f);
}

static tr_doc_in doc_in(const doc *d)
{
    tr_doc_in in = { d->id, strlen(d->id), d->title, strlen(d->title), d->body, strlen(d->body),
                     d->url, strlen(d->url), d->date };
    return in;
}

static int build(const char *dir, const doc *ds, size_t n, unsigned threads, uint32_t batch, size_t map)
{
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = threads;
    o.batch_docs = batch;
    if (map) o.initial_map = map;
    tr_writer *w;
    char err[256] = "";
    int rc = tr_writer_open(dir, &o, &w, err, sizeof err);
    if (rc) { fprintf(stderr, "open: %s\n", err); return rc; }
    for (size_t i = 0; i < n && !rc; i++) {
        tr_doc_in in = doc_in(&ds[i]);
        rc = tr_writer_add(w, &in, err, sizeof err);
    }
    int rc2 = tr_writer_close(w, err, sizeof err);
    if (rc || rc2) fprintf(stderr, "build: %s\n", err);
    return rc ? rc : rc2;
}

/* ---- expected postings straight from the analyzer ---- */
typedef struct occ { char term[TR_MAX_TERM_BYTES + 1]; uint32_t doc, field, pos; } occ;
typedef struct occ_vec { occ *v; size_t n, cap; uint32_t doc, field, count; } occ_vec;

static int occ_cb(void *ctx, const tr_token *t)
{
    occ_vec *o = ctx;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4096;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
    }
    occ *x = &o->v[o->n++];
    memcpy(x->term, t->term, t->len);
    x->term[t->len] = 0;
    x->doc = o->doc;
    x->field = o->field;
    x->pos = t->pos;
    o->count++;
    return 0;
}

static int occ_cmp(const void *a, const void *b)
{
    const occ *x = a, *y = b;
    int c = strcmp(x->term, y->term);
    if (c) return c;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    if (x->field != y->field) return x->field < y->field ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void appendf(tr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void appendf(tr_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    tr_buf_append(b, tmp, (size_t)n);
}

/* Dump "term df cf\n  doc tf ttf: positions\n" for docs[i] with doc id ids[i]. */
static void expected_dump(const doc *ds, const uint32_t *ids, size_t n, tr_buf *out,
                          uint32_t *tlen, uint32_t *blen)
{
    tr_settings s;
    tr_settings_default(&s);
    tr_analyzer *a = tr_analyzer_new(&s, NULL, 0);
    occ_vec o = {0};
    for (size_t i = 0; i < n; i++) {
        o.doc = ids[i];
        o.field = 0; o.count = 0;
        tr_analyze(a, ds[i].title, strlen(ds[i].title), 0, occ_cb, &o);
        if (tlen) tlen[i] = o.count;
        o.field = 1; o.count = 0;
        tr_analyze(a, ds[i].body, strlen(ds[i].body), 0, occ_cb, &o);
        if (blen) blen[i] = o.count;
    }
    tr_analyzer_free(a);
    qsort(o.v, o.n, sizeof *o.v, occ_cmp);
    tr_buf_clear(out);
    for (size_t i = 0; i < o.n;) {
        size_t j = i, df = 0;
        while (j < o.n && !strcmp(o.v[j].term, o.v[i].term)) {
            if (j == i || o.v[j].doc != o.v[j - 1].doc) df++;
            j++;
        }
        appendf(out, "%s %zu %zu\n", o.v[i].term, df, j - i);
        for (size_t k = i; k < j;) {
            size_t m = k, ttf = 0;
            while (m < j && o.v[m].doc == o.v[k].doc) { if (o.v[m].field == 0) ttf++; m++; }
            appendf(out, "  %u %zu %zu:", o.v[k].doc, m - k, ttf);
            for (size_t q = k; q < m; q++) appendf(out, " %u", o.v[q].pos);
            appendf(out, "\n");
            k = m;
        }
        i = j;
    }
    free(o.v);
}

typedef struct dump_ctx { tr_reader *r; tr_buf *out; int rc; uint32_t max_chunks; } dump_ctx;

static int dump_term(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    dump_ctx *d = ctx;
    appendf(d->out, "%.*s %llu %llu\n", (int)len, term, (unsigned long long)info->df,
            (unsigned long long)info->cf);
    if (info->nchunks > d->max_chunks) d->max_chunks = info->nchunks;
    tr_cursor c;
    tr_cursor_open(d->r, info, 1, 1, &c);
    while (c.doc != TR_DOC_END) {
        const uint32_t *pos;
        uint32_t np;
        if (tr_cursor_positions(&c, &pos, &np)) break;
        appendf(d->out, "  %u %u %u:", c.doc, c.tf[c.i], c.ttf[c.i]);
        for (uint32_t k = 0; k < np; k++) appendf(d->out, " %u", pos[k]);
        appendf(d->out, "\n");
        tr_cursor_next(&c);
    }
    if (c.rc) d->rc = c.rc;
    tr_cursor_close(&c);
    return 0;
}

static int index_dump(tr_reader *r, tr_buf *out, uint32_t *max_chunks)
{
    dump_ctx d = { r, out, 0, 0 };
    tr_buf_clear(out);
    int rc = tr_reader_prefix(r, "", 0, SIZE_MAX, dump_term, &d);
    if (max_chunks) *max_chunks = d.max_chunks;
    return rc ? rc : d.rc;
}

static int same_text(const tr_buf *a, const tr_buf *b)
{
    if (a->len == b->len && !memcmp(a->data, b->data, a->len)) return 1;
    size_t i = 0;
    while (i < a->len && i < b->len && a->data[i] == b->data[i]) i++;
    size_t s = i > 80 ? i - 80 : 0;
    fprintf(stderr, "dumps differ at byte %zu:\n--- expected\n%.*s\n--- index\n%.*s\n", i,
            (int)(a->len - s < 200 ? a->len - s : 200), a->data + s,
            (int)(b->len - s < 200 ? b->len - s : 200), b->data + s);
    return 0;
}

/* Everything stored for docs ds (doc ids 1..n) reads back. */
static void verify_all(const char *dir, const doc *ds, size_t n, uint32_t *max_chunks)
{
    tr_index *ix;
    char err[256];
    int rc = tr_index_open(dir, &ix, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc) return;
    tr_reader *r;
    rc = tr_reader_begin(ix, &r, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc) { tr_index_close(ix); return; }
    uint32_t *ids = malloc(n * sizeof *ids), *tl = malloc(n * sizeof *tl), *bl = malloc(n * sizeof *bl);
    for (size_t i = 0; i < n; i++) ids[i] = (uint32_t)i + 1;
    tr_buf want = {0}, got = {0}, body = {0};
    expected_dump(ds, ids, n, &want, tl, bl);
    CHECK_EQ_INT(index_dump(r, &got, max_chunks), 0);
    CHECK(want.len > 20 * n);
    CHECK(same_text(&want, &got));
    const tr_stats *st = tr_reader_stats(r);
    CHECK_EQ_INT(st->docs, n);
    CHECK_EQ_INT(st->next_doc, n + 1);
    uint64_t tt = 0, bt = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t d = (uint32_t)i + 1;
        tt += tl[i]; bt += bl[i];
        tr_doc_view v;
        uint32_t looked = 0;
        if (tr_reader_doc(r, d, &v) || v.id_len != strlen(ds[i].id) || memcmp(v.id, ds[i].id, v.id_len) ||
            v.title_len != strlen(ds[i].title) || memcmp(v.title, ds[i].title, v.title_len) ||
            v.url_len != strlen(ds[i].url) || memcmp(v.url, ds[i].url, v.url_len) ||
            v.date != ds[i].date || v.title_terms != tl[i] || v.body_terms != bl[i] ||
            tr_reader_title_len(r, d) != tl[i] || tr_reader_body_len(r, d) != bl[i] ||
            tr_reader_date(r, d) != ds[i].date || tr_reader_is_deleted(r, d) ||
            tr_reader_doc_body(r, d, &body) || body.len != strlen(ds[i].body) ||
            memcmp(body.data, ds[i].body, body.len) ||
            tr_reader_lookup_id(r, ds[i].id, strlen(ds[i].id), &looked) || looked != d)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(st->title_tokens, tt);
    CHECK_EQ_INT(st->body_tokens, bt);
    CHECK_EQ_INT(tr_reader_title_len(r, (uint32_t)n + 1), 0);
    CHECK_EQ_INT(tr_reader_date(r, (uint32_t)n + 5000), TR_NO_DATE);
    tr_doc_view v;
    CHECK_EQ_INT(tr_reader_doc(r, (uint32_t)n + 1, &v), TR_ENOTFOUND);
    tr_buf_free(&want); tr_buf_free(&got); tr_buf_free(&body);
    free(ids); free(tl); free(bl);
    tr_reader_end(r);
    tr_index_close(ix);
}

/* Bytes of the named databases, in key order, concatenated. */
static void db_bytes(const char *dir, const char *const *names, tr_buf *out)
{
    MDB_env *env;
    MDB_txn *txn;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 16);
    if (mdb_env_open(env, dir, MDB_RDONLY, 0)) { mdb_env_close(env); return; }
    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    for (const char *const *nm = names; *nm; nm++) {
        MDB_dbi dbi;
        MDB_cursor *mc;
        MDB_val k, v;
        if (mdb_dbi_open(txn, *nm, 0, &dbi)) continue;
        mdb_cursor_open(txn, dbi, &mc);
        for (int rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
            uint8_t len[8];
            tr_put_le32(len, (uint32_t)k.mv_size);
            tr_put_le32(len + 4, (uint32_t)v.mv_size);
            tr_buf_append(out, len, 8);
            tr_buf_append(out, k.mv_data, k.mv_size);
            tr_buf_append(out, v.mv_data, v.mv_size);
        }
        mdb_cursor_close(mc);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

/* Overwrite one value in a database (to simulate other versions / damage). */
static int patch(const char *dir, const char *db, const void *key, size_t kl, int flip_byte,
                 const void *newval, size_t nvl)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 16);
    int rc = mdb_env_open(env, dir, 0, 0666);
    if (!rc) rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, db, 0, &dbi);
    if (!rc) {
        MDB_val k = { kl, (void *)key }, v;
        if (newval) {
            v.mv_size = nvl;
            v.mv_data = (void *)newval;
            rc = mdb_put(txn, dbi, &k, &v, 0);
        } else {
            /* terms: the block that holds the key (keyed by its last term) */
            MDB_cursor *mc;
            rc = mdb_cursor_open(txn, dbi, &mc);
            if (!rc) {
                rc = mdb_cursor_get(mc, &k, &v, strcmp(db, "terms") ? MDB_SET_KEY : MDB_SET_RANGE);
                mdb_cursor_close(mc);
            }
            if (!rc) {
                uint8_t *copy = malloc(v.mv_size);
                memcpy(copy, v.mv_data, v.mv_size);
                copy[flip_byte % v.mv_size] ^= 0x10;
                v.mv_data = copy;
                rc = mdb_put(txn, dbi, &k, &v, 0);
                free(copy);
            }
        }
        if (!rc) rc = mdb_txn_commit(txn);
        else mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* ---- tests ---- */

static void test_roundtrip(void)
{
    char dir[512];
    newdir(dir, sizeof dir);
    CHECK_EQ_INT(build(dir, docs, ndocs, 1, 0, 0), 0);
    verify_all(dir, docs, ndocs, NULL);
}

static void test_threads_identical(void)
{
    static const char *const names[] = { "terms", "postings", "docs", "ids", "norms", NULL };
    tr_buf b[3] = {{0}};
    unsigned th[3] = { 1, 2, 4 };
    for (int i = 0; i < 3; i++) {
        char dir[512];
        newdir(dir, sizeof dir);
        CHECK_EQ_INT(build(dir, docs, ndocs, th[i], 7, 0), 0);
        db_bytes(dir, names, &b[i]);
    }
    CHECK(b[0].len > 1000);
    CHECK(b[0].len == b[1].len && !memcmp(b[0].data, b[1].data, b[0].len));
    CHECK(b[0].len == b[2].len && !memcmp(b[0].data, b[2].data, b[0].len));
    for (int i = 0; i < 3; i++) tr_buf_free(&b[i]);
}

/* Stored bodies go in blocks (schema.h): bodies filling several blocks, one
 * longer than a block and one exactly a block, empty ones, over two batches.
 * Every body reads back in any order (the reader caches one block), the
 * blocks are cut where the rule says, the bytes do not depend on the thread
 * count, and --check passes. */
static void test_body_blocks(void)
{
    enum { N = 60, BATCH = 35 };
    static const char *const names[] = { "docs", NULL };
    doc ds[N];
    memset(ds, 0, sizeof ds);
    size_t want_blocks = 0, fill = 0;
    int have = 0;
    for (int i = 0; i < N; i++) {
        snprintf(ds[i].id, sizeof ds[i].id, "b%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "block test %d", i);
        ds[i].date = TR_NO_DATE;
        size_t len = i % 10 == 9 ? 0 : i == 20 ? TR_DOC_BLOCK_BYTES + 1000 : i == 21 ? TR_DOC_BLOCK_BYTES
                   : 3000 + (size_t)i * 97;
        ds[i].body = malloc(len + 1);
        uint32_t x = (uint32_t)i * 2654435761u + 1;
        for (size_t j = 0; j < len; j++) {
            x = x * 1103515245u + 12345u;
            ds[i].body[j] = (x >> 16) % 7 == 0 ? ' ' : (char)('a' + (x >> 20) % 26);
        }
        ds[i].body[len] = 0;
        if (i % BATCH == 0) have = 0;      /* a batch starts a block */
        if (!len) continue;
        if (!have || fill + len > TR_DOC_BLOCK_BYTES) { want_blocks++; fill = 0; have = 1; }
        fill += len;
    }
    tr_buf bytes[2] = {{0}};
    unsigned th[2] = { 1, 4 };
    char dir[512], err[256];
    for (int t = 0; t < 2; t++) {
        newdir(dir, sizeof dir);
        CHECK_EQ_INT(build(dir, ds, N, th[t], BATCH, 0), 0);
        db_bytes(dir, names, &bytes[t]);
    }
    CHECK(bytes[0].len == bytes[1].len && !memcmp(bytes[0].data, bytes[1].data, bytes[0].len));
    /* records of db_bytes: key_len u32 | val_len u32 | key | value */
    size_t nblocks = 0;
    for (size_t off = 0; off + 8 <= bytes[0].len;) {
        uint32_t kl = tr_get_le32(bytes[0].data + off), vl = tr_get_le32(bytes[0].data + off + 4);
        if (kl == TR_DOC_BLOCK_KEY_BYTES && bytes[0].data[off + 8 + 4] == TR_DOC_BLOCK_TAG) nblocks++;
        off += 8 + (size_t)kl + vl;
    }
    CHECK_EQ_INT(nblocks, want_blocks);
    CHECK(want_blocks >= 6);
    for (int t = 0; t < 2; t++) tr_buf_free(&bytes[t]);

    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    tr_buf body = {0};
    int bad = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < N; k++) {
            int i = pass == 0 ? k : pass == 1 ? N - 1 - k : (k * 7) % N;
            if (tr_reader_doc_body(r, (uint32_t)i + 1, &body) || body.len != strlen(ds[i].body) ||
                memcmp(body.data, ds[i].body, body.len))
                bad++;
        }
    CHECK_EQ_INT(bad, 0);
    tr_buf_free(&body);
    tr_reader_end(r);
    tr_index_close(ix);
    CHECK_EQ_INT(tr_check_index(dir, 0, NULL, NULL, NULL, err, sizeof err), 0);
    for (int i = 0; i < N; i++) free(ds[i].body);
}

static void test_small_batches(void)
{
    /* batch_docs 1 makes inline chunks that must move out; 3 makes many chunks */
    uint32_t batches[2] = { 1, 3 };
    for (int i = 0; i < 2; i++) {
        char dir[512];
        newdir(dir, sizeof dir);
        CHECK_EQ_INT(build(dir, docs, ndocs, 2, batches[i], 0), 0);
        uint32_t maxc = 0;
        verify_all(dir, docs, ndocs, &maxc);
        CHECK(maxc >= ndocs / batches[i] / 2);
    }
}

/* The writer's posting buffers come from a pool up to 4 KiB and from
 * malloc past it (writer.c, TR_POOL_MAX): lists that stop growing in every
 * size class, blocks freed and reused as other lists grow past them, lists
 * that cross into malloc and grow on there, and thousands of one-posting
 * lists, in one batch and in several; every posting and position reads back
 * (verify_all). With 2600 documents a batch, a commit's terms (5,000+) are
 * looked up in two halves by two threads (TR_LOOKUP_SPLIT_MIN), with terms
 * of the first batch (x...) in the second half. */
static void test_posting_buffers(void)
{
    enum { N = 5200 };
    doc *ds = calloc(N, sizeof *ds);
    tr_buf b = {0};
    for (int i = 0; i < N; i++) {
        tr_buf_clear(&b);
        appendf(&b, "common u%dq v%dq x%dy", i, i, i % 1500);
        /* k%d: in every (1 << k)-th document, so its list stops at one
         * size or another; r%d: repeated, for long position runs */
        for (int k = 0; k < 12; k++)
            if (i % (1 << k) == 0) appendf(&b, " k%dz", k);
        for (int r = 0; r < i % 23; r++) appendf(&b, " r%dx", i % 5);
        appendf(&b, " common");
        snprintf(ds[i].id, sizeof ds[i].id, "p%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "t%d", i % 97);
        snprintf(ds[i].url, sizeof ds[i].url, "u%d", i);
        ds[i].body = strndup((const char *)b.data, b.len);
        ds[i].date = i;
    }
    uint32_t batches[3] = { 0, 700, 2600 };
    for (int i = 0; i < 3; i++) {
        char dir[512];
        newdir(dir, sizeof dir);
        CHECK_EQ_INT(build(dir, ds, N, 2, batches[i], 0), 0);
        verify_all(dir, ds, N, NULL);
    }
    for (int i = 0; i < N; i++) free(ds[i].body);
    free(ds);
    tr_buf_free(&b);
}

static void test_tiny_map(void)
{
    /* many distinct words: the index outgrows 64 KiB several times */
    doc *ds = calloc(400, sizeof *ds);
    char body[4096];
    for (int i = 0; i < 400; i++) {
        size_t n = 0;
        for (int k = 0; k < 60; k++)
            n += (size_t)snprintf(body + n, sizeof body - n, "w%dx%d common ", (i * 7 + k * 13) % 5000, k % 3);
        snprintf(ds[i].id, sizeof ds[i].id, "gen-%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "title %d", i);
        snprintf(ds[i].url, sizeof ds[i].url, "u%d", i);
        ds[i].body = strdup(body);
        ds[i].date = i;
    }
    char dir[512], path[600];
    newdir(dir, sizeof dir);
    CHECK_EQ_INT(build(dir, ds, 400, 1, 50, 64 << 10), 0);
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = fopen(path, "rb");
    long size = 0;
    if (f) { fseek(f, 0, SEEK_END); size = ftell(f); fclose(f); }
    CHECK(size > 4 * (64 << 10));
    verify_all(dir, ds, 400, NULL);
    for (int i = 0; i < 400; i++) free(ds[i].body);
    free(ds);
}

/* Leaf pages of one database of the index. */
static size_t db_leaf_pages(const char *dir, const char *name)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st = {0};
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 16);
    if (mdb_env_open(env, dir, MDB_RDONLY, 0)) { mdb_env_close(env); return 0; }
    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (mdb_dbi_open(txn, name, 0, &dbi) == 0) mdb_stat(txn, dbi, &st);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return st.ms_leaf_pages;
}

/* The terms database's blocks as "key\x01value" strings hashed by XXH3,
 * for counting what a commit rewrote. */
static size_t db_block_hashes(const char *dir, uint64_t *out, size_t cap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *mc;
    MDB_val k, v;
    size_t n = 0;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 16);
    if (mdb_env_open(env, dir, MDB_RDONLY, 0)) { mdb_env_close(env); return 0; }
    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (mdb_dbi_open(txn, "terms", 0, &dbi) == 0 && mdb_cursor_open(txn, dbi, &mc) == 0) {
        for (int r = mdb_cursor_get(mc, &k, &v, MDB_FIRST); !r && n < cap; r = mdb_cursor_get(mc, &k, &v, MDB_NEXT))
            out[n++] = XXH3_64bits(k.mv_data, k.mv_size) ^ XXH3_64bits(v.mv_data, v.mv_size) * 31;
        mdb_cursor_close(mc);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}

static void test_small_commit_rewrites_few_blocks(void)
{
    /* A one-document commit into an index whose dictionary has many
     * blocks rewrites only the blocks its terms fall into (dict.c,
     * tr_dict_apply in place), not the whole dictionary. */
    enum { N = 600, CAP = 4096 };
    doc *ds = calloc(N + 1, sizeof *ds);
    char body[4096];
    for (int i = 0; i <= N; i++) {
        size_t n = 0;
        if (i < N)
            for (int k = 0; k < 40; k++)
                n += (size_t)snprintf(body + n, sizeof body - n, "t%05d ", ((i * 37 + k * 1009) % 10007) * 2);
        else /* three old terms and two new ones, far apart */
            snprintf(body, sizeof body, "t00074 t10000 t19000 t00075 t12345");
        snprintf(ds[i].id, sizeof ds[i].id, "sc-%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "t%05d", i);
        snprintf(ds[i].url, sizeof ds[i].url, "u%d", i);
        ds[i].body = strdup(body);
        ds[i].date = i;
    }
    char dir[512], err[256] = "";
    newdir(dir, sizeof dir);
    CHECK_EQ_INT(build(dir, ds, N, 2, 0, 0), 0);
    uint64_t *before = calloc(CAP, sizeof *before), *after = calloc(CAP, sizeof *after);
    size_t nb = db_block_hashes(dir, before, CAP);
    CHECK(nb > 40);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    tr_doc_in in = doc_in(&ds[N]);
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    size_t na = db_block_hashes(dir, after, CAP), kept = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (after[i] == before[j]) { kept++; break; }
    /* the title and five body terms fall into at most six blocks; each
     * may split in two */
    fprintf(stderr, "one-document commit: %zu blocks before, %zu after, %zu unchanged\n", nb, na, kept);
    CHECK(na - kept <= 12);
    CHECK(kept + 6 >= nb);
    verify_all(dir, ds, N + 1, NULL);
    free(before);
    free(after);
    for (int i = 0; i <= N; i++) free(ds[i].body);
    free(ds);
}

static void test_dictionary_repacked(void)
{
    /* The second half of the documents adds new terms (odd numbers) between
     * the first half's (even numbers), random inserts, and makes old values
     * longer: the writer repacks
     * the dictionary, so it takes no more pages than a one-batch build. */
    enum { N = 600 };
    doc *ds = calloc(N, sizeof *ds);
    char body[4096];
    for (int i = 0; i < N; i++) {
        size_t n = 0;
        for (int k = 0; k < 40; k++)
            n += (size_t)snprintf(body + n, sizeof body - n, "t%05d ",
                                  ((i * 37 + k * 1009) % 10007) * 2 + (i >= N / 2 && k % 2));
        snprintf(ds[i].id, sizeof ds[i].id, "rp-%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "title %d", i);
        snprintf(ds[i].url, sizeof ds[i].url, "u%d", i);
        ds[i].body = strdup(body);
        ds[i].date = i;
    }
    char one[512], two[512];
    newdir(one, sizeof one);
    newdir(two, sizeof two);
    CHECK_EQ_INT(build(one, ds, N, 2, 0, 0), 0);
    /* two commits of N/2 through one writer: the second must repack */
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = 2;
    tr_writer *w;
    char err[256] = "";
    CHECK_EQ_INT(tr_writer_open(two, &o, &w, err, sizeof err), 0);
    for (int i = 0; i < N; i++) {
        tr_doc_in in = doc_in(&ds[i]);
        CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);
        if (i == N / 2 - 1) CHECK_EQ_INT(tr_writer_commit(w, err, sizeof err), 0);
    }
    CHECK_EQ_INT(tr_writer_commit(w, err, sizeof err), 0);
    tr_writer_stats ws;
    tr_writer_get_stats(w, &ws);
    CHECK_EQ_INT(ws.batches, 2);
    CHECK_EQ_INT(ws.repacks, 1);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    size_t p1 = db_leaf_pages(one, "terms"), p2 = db_leaf_pages(two, "terms");
    fprintf(stderr, "terms leaf pages: one batch %zu, two batches %zu\n", p1, p2);
    CHECK(p1 > 20);
    /* two-chunk values are a few bytes longer; random inserts would need ~1.4x */
    CHECK(p2 * 100 <= p1 * 110);
    verify_all(two, ds, N, NULL);
    for (int i = 0; i < N; i++) free(ds[i].body);
    free(ds);
}

static void test_postings_appended(void)
{
    /* 500 terms in every commit, each with a chunk of its own too big to
     * be inline: inserting the second commit's chunks between the first's
     * split nearly every leaf (~1.5x the pages); appending them in the
     * commit's own generation keeps the pages full. */
    enum { N = 2000 };
    doc *ds = calloc(N, sizeof *ds);
    char body[4096];
    for (int i = 0; i < N; i++) {
        size_t n = 0;
        for (int k = 0; k < 30; k++)
            n += (size_t)snprintf(body + n, sizeof body - n, "v%03d ", (i * 7 + k * 17) % 500);
        snprintf(ds[i].id, sizeof ds[i].id, "pa-%d", i);
        ds[i].body = strdup(body);
        ds[i].date = TR_NO_DATE;
    }
    char one[512], two[512];
    newdir(one, sizeof one);
    newdir(two, sizeof two);
    CHECK_EQ_INT(build(one, ds, N, 2, 0, 0), 0);
    CHECK_EQ_INT(build(two, ds, N, 2, N / 2, 0), 0);
    /* fill of the leaf pages: node bytes (header, key, value, index slot)
     * over the pages' room */
    size_t p1 = db_leaf_pages(one, "postings"), p2 = db_leaf_pages(two, "postings");
    uint64_t nodes = 0;
    {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        MDB_cursor *mc;
        MDB_val k, v;
        mdb_env_create(&env);
        mdb_env_set_maxdbs(env, 16);
        CHECK_EQ_INT(mdb_env_open(env, two, MDB_RDONLY, 0), 0);
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
        mdb_dbi_open(txn, "postings", 0, &dbi);
        mdb_cursor_open(txn, dbi, &mc);
        for (int op = MDB_FIRST; mdb_cursor_get(mc, &k, &v, (MDB_cursor_op)op) == 0; op = MDB_NEXT) {
            CHECK(v.mv_size < 2000); /* no overflow pages in this test */
            nodes += 8 + k.mv_size + v.mv_size + 2;
        }
        mdb_cursor_close(mc);
        mdb_txn_abort(txn);
        mdb_env_close(env);
    }
    double fill = p2 ? (double)nodes / ((double)p2 * (4096 - 16)) : 0;
    fprintf(stderr, "postings leaf pages: one commit %zu, two commits %zu (%.0f%% full)\n", p1, p2,
            100 * fill);
    CHECK(p1 > 20);
    /* appended: full but for the node that did not fit; inserted in the
     * middle, pages split in half would be ~60% full */
    CHECK(fill > 0.85);
    verify_all(two, ds, N, NULL);
    for (int i = 0; i < N; i++) free(ds[i].body);
    free(ds);
}

static void test_generations(void)
{
    /* 150 commits of 2 documents: 'common' gets a chunk in each, and its
     * generation list would outgrow TR_TERM_GENS_MAX_BYTES, so its chunks
     * are moved into a later generation (at least once) */
    enum { N = 300, BATCH = 2 };
    doc *ds = calloc(N, sizeof *ds);
    char body[512];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)snprintf(body, sizeof body, "common word%d", i);
        for (int k = 0; k < 20; k++) n += (size_t)snprintf(body + n, sizeof body - n, " common");
        snprintf(ds[i].id, sizeof ds[i].id, "g-%d", i);
        ds[i].body = strdup(body);
        ds[i].date = TR_NO_DATE;
    }
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    CHECK_EQ_INT(build(dir, ds, N, 2, BATCH, 0), 0);
    verify_all(dir, ds, N, NULL);
    tr_index *ix;
    tr_reader *r;
    tr_term_info ti;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    /* a commit at least every BATCH documents: a chunk of 'common' in each */
    uint32_t gens = tr_reader_stats(r)->generation;
    CHECK(gens >= 100);
    CHECK_EQ_INT(tr_reader_term(r, "common", 6, &ti), 0);
    CHECK(ti.inline_chunk == NULL);
    CHECK_EQ_INT(ti.nchunks, gens);
    CHECK(ti.ngens >= 1 && ti.ngens < gens);
    CHECK(ti.gens_len <= TR_TERM_GENS_MAX_BYTES);
    /* seeks across generations land where they should */
    tr_cursor c;
    tr_cursor_open(r, &ti, 0, 1, &c);
    for (uint32_t t = 5; t <= N; t += 37) {
        tr_cursor_seek(&c, t);
        CHECK_EQ_INT(c.doc, t);
    }
    tr_cursor_seek(&c, N + 1);
    CHECK_EQ_INT(c.doc, TR_DOC_END);
    CHECK_EQ_INT(c.rc, 0);
    tr_cursor_close(&c);
    tr_reader_end(r);
    tr_index_close(ix);
    for (int i = 0; i < N; i++) free(ds[i].body);
    free(ds);
}

static void test_replace_across_commits(void)
{
    /* replacements and deletions spread over three commits: every chunk of
     * 'kiwi' (too long to be inline) stays readable in doc order */
    char dir[512], err[256], body[2048];
    newdir(dir, sizeof dir);
    size_t n = 0;
    for (int k = 0; k < 80; k++) {
        n += (size_t)snprintf(body + n, sizeof body - n, "kiwi ");
        for (int f = 0; f < k * 5 % 13; f++) n += (size_t)snprintf(body + n, sizeof body - n, "x ");
    }
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = 1;
    const char *ids[3][3] = { { "a", "b", "c" }, { "a", "d", NULL }, { "a", "e", NULL } };
    const char *dels[3] = { NULL, "b", "c" };
    for (int commit = 0; commit < 3; commit++) {
        tr_writer *w;
        CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
        for (int i = 0; i < 3 && ids[commit][i]; i++) {
            tr_doc_in in = { ids[commit][i], 1, "", 0, body, n, NULL, 0, TR_NO_DATE };
            CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);
        }
        if (dels[commit]) CHECK_EQ_INT(tr_writer_delete(w, dels[commit], 1), 0);
        CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    }
    CHECK_EQ_INT(tr_check_index(dir, 0, NULL, NULL, NULL, err, sizeof err), 0);
    tr_index *ix;
    tr_reader *r;
    tr_term_info ti;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_term(r, "kiwi", 4, &ti), 0);
    CHECK(ti.inline_chunk == NULL);
    CHECK_EQ_INT(ti.df, 7);
    CHECK_EQ_INT(ti.ngens, 3);
    /* postings of replaced and deleted documents stay until a merge */
    tr_cursor c;
    tr_cursor_open(r, &ti, 1, 1, &c);
    uint32_t want = 1;
    while (c.doc != TR_DOC_END) {
        CHECK_EQ_INT(c.doc, want);
        CHECK_EQ_INT(c.tf[c.i], 80);
        want++;
        tr_cursor_next(&c);
    }
    CHECK_EQ_INT(want, 8);
    CHECK_EQ_INT(c.rc, 0);
    tr_cursor_close(&c);
    uint32_t d;
    CHECK_EQ_INT(tr_reader_lookup_id(r, "a", 1, &d), 0);
    CHECK_EQ_INT(d, 6);
    CHECK(tr_reader_is_deleted(r, 1) && tr_reader_is_deleted(r, 2) && tr_reader_is_deleted(r, 3) &&
          tr_reader_is_deleted(r, 4) && !tr_reader_is_deleted(r, 5) && !tr_reader_is_deleted(r, 7));
    CHECK_EQ_INT(tr_reader_stats(r)->docs, 3);
    tr_reader_end(r);
    tr_index_close(ix);
}

static void test_update_delete(void)
{
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    doc ds[4];
    memset(ds, 0, sizeof ds);
    const char *bodies[4] = { "apple banana", "banana cherry", "cherry date", "elder fig" };
    for (int i = 0; i < 4; i++) {
        snprintf(ds[i].id, sizeof ds[i].id, "id%d", i);
        snprintf(ds[i].title, sizeof ds[i].title, "old %d", i);
        ds[i].body = (char *)bodies[i];
        ds[i].date = TR_NO_DATE;
    }
    CHECK_EQ_INT(build(dir, ds, 3, 1, 0, 0), 0);
    tr_index *ix;
    tr_reader *r1, *r2;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r1, err, sizeof err), 0);

    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    tr_doc_in in = doc_in(&ds[0]);
    in.title = "new zero"; in.title_len = 8;
    in.body = "grape"; in.body_len = 5;
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);     /* replaces doc 1 -> 4 */
    CHECK_EQ_INT(tr_writer_delete(w, "id1", 3), 0);               /* deletes doc 2 */
    CHECK_EQ_INT(tr_writer_delete(w, "nope", 4), 0);
    in = doc_in(&ds[3]);
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);     /* doc 5 */
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);     /* replaces 5 in-batch -> 6 */
    char longid[TR_MAX_ID_BYTES + 2];
    memset(longid, 'x', sizeof longid);
    in.id = longid; in.id_len = TR_MAX_ID_BYTES + 1;
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), TR_EINPUT);
    in.id_len = TR_MAX_ID_BYTES;
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);     /* doc 7 */
    in.id_len = 0;
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), TR_EINPUT);
    CHECK_EQ_INT(tr_writer_commit(w, err, sizeof err), 0);
    tr_writer_stats ws;
    tr_writer_get_stats(w, &ws);
    CHECK_EQ_INT(ws.added, 4);
    CHECK_EQ_INT(ws.replaced, 2);
    CHECK_EQ_INT(ws.deleted, 1);
    CHECK_EQ_INT(ws.missing_deletes, 1);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);

    /* the old snapshot sees nothing of it */
    uint32_t d = 0;
    tr_doc_view v;
    CHECK_EQ_INT(tr_reader_stats(r1)->docs, 3);
    CHECK_EQ_INT(tr_reader_lookup_id(r1, "id0", 3, &d), 0);
    CHECK_EQ_INT(d, 1);
    CHECK_EQ_INT(tr_reader_lookup_id(r1, "id1", 3, &d), 0);
    CHECK_EQ_INT(tr_reader_is_deleted(r1, 1), 0);
    CHECK_EQ_INT(tr_reader_doc(r1, 1, &v), 0);
    CHECK(v.title_len == 5 && !memcmp(v.title, "old 0", 5));
    tr_term_info ti;
    CHECK_EQ_INT(tr_reader_term(r1, "grape", 5, &ti), TR_ENOTFOUND);

    /* a new one sees all of it */
    CHECK_EQ_INT(tr_reader_begin(ix, &r2, err, sizeof err), 0);
    const tr_stats *st = tr_reader_stats(r2);
    CHECK_EQ_INT(st->docs, 4);    /* id0 (4), id2 (3), id3 (6), longid (7) */
    CHECK_EQ_INT(st->deleted, 3); /* 1, 2, 5 */
    CHECK_EQ_INT(st->next_doc, 8);
    CHECK_EQ_INT(tr_reader_lookup_id(r2, "id0", 3, &d), 0);
    CHECK_EQ_INT(d, 4);
    CHECK_EQ_INT(tr_reader_lookup_id(r2, "id1", 3, &d), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_reader_lookup_id(r2, "id3", 3, &d), 0);
    CHECK_EQ_INT(d, 6);
    CHECK_EQ_INT(tr_reader_lookup_id(r2, longid, TR_MAX_ID_BYTES, &d), 0);
    CHECK_EQ_INT(d, 7);
    CHECK(tr_reader_is_deleted(r2, 1) && tr_reader_is_deleted(r2, 2) && tr_reader_is_deleted(r2, 5));
    CHECK(!tr_reader_is_deleted(r2, 3) && !tr_reader_is_deleted(r2, 4) && !tr_reader_is_deleted(r2, 6));
    CHECK_EQ_INT(tr_reader_doc(r2, 1, &v), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_reader_doc(r2, 4, &v), 0);
    CHECK(v.title_len == 8 && !memcmp(v.title, "new zero", 8));
    /* tokens: only live docs: id2 (title 2, body 2), id0 (2, 1), id3 x2 (2, 2) */
    CHECK_EQ_INT(st->title_tokens, 2 + 2 + 2 + 2);
    CHECK_EQ_INT(st->body_tokens, 2 + 1 + 2 + 2);
    CHECK_EQ_INT(tr_reader_term(r2, "grape", 5, &ti), 0);
    CHECK_EQ_INT(ti.df, 1);
    /* prefix walks: in byte order, bounded by the limit */
    tr_buf pb = {0};
    dump_ctx pc = { r2, &pb, 0, 0 };
    CHECK_EQ_INT(tr_reader_prefix(r2, "ch", 2, 1, dump_term, &pc), 0);
    CHECK(pb.len > 8 && !memcmp(pb.data, "cherri 2 2\n", 11));
    CHECK_EQ_INT(tr_reader_prefix(r2, "", 0, 3, dump_term, &pc), TR_ELIMIT);
    CHECK_EQ_INT(tr_reader_prefix(r2, "zz", 2, 3, dump_term, &pc), 0);
    tr_buf_free(&pb);
    /* banana: postings of deleted docs stay until a merge */
    CHECK_EQ_INT(tr_reader_term(r2, "banana", 6, &ti), 0);
    CHECK_EQ_INT(ti.df, 2);
    tr_reader_end(r1);
    tr_reader_end(r2);
    tr_index_close(ix);
}


static void print_problem(void *ctx, const char *db, const char *key, const char *what)
{
    (void)ctx;
    fprintf(stderr, "check: %s: %s: %s\n", db, key, what);
}

/* Lines of a dump that start a term (postings lines are indented). */
static size_t count_lines_at_col0(const tr_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        if ((i == 0 || b->data[i - 1] == '\n') && b->data[i] != ' ') n++;
    return n;
}

/* Every term of the index at dir lists at most one generation. */
static int dump_gens(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    (void)term; (void)len;
    if (info->ngens > 1) (*(int *)ctx)++;
    return 0;
}

static int split_lists(const char *dir)
{
    tr_index *ix;
    tr_reader *r;
    char err[256];
    int split = -1;
    if (tr_index_open(dir, &ix, err, sizeof err) == 0) {
        if (tr_reader_begin(ix, &r, err, sizeof err) == 0) {
            split = 0;
            if (tr_reader_prefix(r, "", 0, SIZE_MAX, dump_gens, &split)) split = -1;
            tr_reader_end(r);
        }
        tr_index_close(ix);
    }
    return split;
}

/* Built in batches of 7 documents, then merged: every list in one
 * generation, everything reads back exactly, the index checks clean, the
 * dump is a one-batch build's, and a second merge has nothing to do. */
static void test_merge(void)
{
    enum { COPIES = 6 };
    size_t n = ndocs * COPIES;
    doc *ds = calloc(n, sizeof *ds);
    for (size_t i = 0; i < n; i++) {
        ds[i] = docs[i % ndocs];
        char id[sizeof ds[i].id + 24];
        snprintf(id, sizeof id, "%.40s-%u", docs[i % ndocs].id, (unsigned)(i / ndocs));
        memcpy(ds[i].id, id, sizeof ds[i].id - 1);
    }
    char dir[512], one[512], err[256];
    newdir(dir, sizeof dir);
    newdir(one, sizeof one);
    CHECK_EQ_INT(build(dir, ds, n, 2, 7, 0), 0);
    CHECK_EQ_INT(build(one, ds, n, 2, 0, 0), 0);
    CHECK(split_lists(dir) > 20);
    tr_merge_stats ms;
    CHECK_EQ_INT(tr_index_merge(dir, 0, 2, &ms, err, sizeof err), 0);
    CHECK(ms.terms_rewritten > 20);
    CHECK(ms.chunks_after > 0 && ms.chunks_after < ms.chunks_before);
    CHECK_EQ_INT(ms.docs_purged, 0);
    CHECK_EQ_INT(split_lists(dir), 0);
    verify_all(dir, ds, n, NULL);
    CHECK_EQ_INT(tr_check_index(dir, 0, print_problem, NULL, NULL, err, sizeof err), 0);
    /* the same chunks as a one-batch build, under keys of another generation */
    tr_buf a = {0}, b = {0};
    const char *names[] = { "postings", NULL };
    db_bytes(one, names, &a);
    db_bytes(dir, names, &b);
    CHECK_EQ_INT(a.len, b.len);
    tr_buf_free(&a); tr_buf_free(&b);
    CHECK_EQ_INT(tr_index_merge(dir, 0, 1, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(ms.terms_rewritten, 0);
    CHECK_EQ_INT(ms.txns, 0);
    /* a tiny memory budget: many transactions, the same result */
    char small[512];
    newdir(small, sizeof small);
    CHECK_EQ_INT(build(small, ds, n, 1, 5, 0), 0);
    CHECK_EQ_INT(tr_index_merge(small, 4096, 1, &ms, err, sizeof err), 0);
    CHECK(ms.txns > 3);
    verify_all(small, ds, n, NULL);
    CHECK_EQ_INT(tr_check_index(small, 0, print_problem, NULL, NULL, err, sizeof err), 0);
    free(ds);
}

/* Deleted documents: the merge drops their postings and records, lists
 * they alone held, and the deleted set; what is left reads back as the
 * live documents alone would. */
static void test_merge_purge(void)
{
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    size_t n = ndocs < 40 ? ndocs : 40;
    doc *ds = calloc(n + 1, sizeof *ds);
    memcpy(ds, docs, n * sizeof *ds);
    ds[n] = docs[0];
    snprintf(ds[n].id, sizeof ds[n].id, "only-here");
    ds[n].body = "zyzzyvas quagga";
    CHECK_EQ_INT(build(dir, ds, n + 1, 1, 9, 0), 0);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    /* one writer at a time: a second one and a merge are refused */
    tr_writer *w2;
    tr_merge_stats ms;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w2, err, sizeof err), TR_EBUSY);
    CHECK_EQ_INT(tr_index_merge(dir, 0, 1, &ms, err, sizeof err), TR_EBUSY);
    CHECK(strstr(err, "another process") != NULL);
    size_t live = 0;
    uint32_t *ids = calloc(n, sizeof *ids);
    doc *keep = calloc(n, sizeof *keep);
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 1) {
            CHECK_EQ_INT(tr_writer_delete(w, ds[i].id, strlen(ds[i].id)), 0);
        } else {
            keep[live] = ds[i];
            ids[live++] = (uint32_t)i + 1;
        }
    }
    CHECK_EQ_INT(tr_writer_delete(w, "only-here", 9), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_index_merge(dir, 0, 2, &ms, err, sizeof err), 0);
    CHECK_EQ_INT(ms.docs_purged, n - live + 1);
    CHECK(ms.postings_purged > 0);
    CHECK(ms.terms_dropped >= 2);               /* zyzzyva, quagga */
    CHECK_EQ_INT(tr_check_index(dir, 0, print_problem, NULL, NULL, err, sizeof err), 0);
    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    const tr_stats *st = tr_reader_stats(r);
    CHECK_EQ_INT(st->deleted, 0);
    CHECK_EQ_INT(st->docs, live);
    CHECK_EQ_INT(tr_reader_is_deleted(r, 2), 0);  /* nothing left to skip */
    tr_doc_view v;
    CHECK_EQ_INT(tr_reader_doc(r, 2, &v), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_reader_doc(r, 1, &v), 0);
    tr_term_info ti;
    CHECK_EQ_INT(tr_reader_term(r, "quagga", 6, &ti), TR_ENOTFOUND);
    tr_buf want = {0}, got = {0};
    uint32_t *tl = calloc(n, sizeof *tl), *bl = calloc(n, sizeof *bl);
    expected_dump(keep, ids, live, &want, tl, bl);
    CHECK_EQ_INT(index_dump(r, &got, NULL), 0);
    CHECK(want.len > 20 * live);
    CHECK(same_text(&want, &got));
    CHECK_EQ_INT(st->terms + 0, (uint64_t)count_lines_at_col0(&got));
    tr_buf_free(&want); tr_buf_free(&got);
    free(tl); free(bl); free(ids); free(keep); free(ds);
    tr_reader_end(r);
    tr_index_close(ix);
}

static void test_settings_and_version(void)
{
    char dir[512], err[256] = "";
    newdir(dir, sizeof dir);
    CHECK_EQ_INT(build(dir, docs, 3, 1, 0, 0), 0);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w = NULL;
    o.settings_given = 1;
    snprintf(o.settings.language, sizeof o.settings.language, "none");
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), TR_EINPUT);
    CHECK(w == NULL && strstr(err, "language=english") && strstr(err, "language=none"));
    o.settings_given = 0;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    o.settings_given = 1;
    tr_settings_default(&o.settings);
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);

    /* damaged dictionary entry: detected */
    CHECK_EQ_INT(patch(dir, "terms", "fox", 3, 9, NULL, 0), 0);
    tr_index *ix;
    tr_reader *r;
    tr_term_info ti;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_term(r, "fox", 3, &ti), TR_ECORRUPT);
    /* the whole dictionary of three documents is one block */
    CHECK_EQ_INT(tr_reader_term(r, "dog", 3, &ti), TR_ECORRUPT);
    tr_reader_end(r);
    tr_index_close(ix);
    /* damaged document: detected */
    uint8_t k[4];
    tr_put_be32(k, 2);
    CHECK_EQ_INT(patch(dir, "docs", k, 4, 20, NULL, 0), 0);
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    tr_doc_view v;
    CHECK_EQ_INT(tr_reader_doc(r, 2, &v), TR_ECORRUPT);
    CHECK_EQ_INT(tr_reader_doc(r, 1, &v), 0);
    tr_reader_end(r);
    tr_index_close(ix);

    /* another format version: refused with both numbers named */
    uint8_t fv[4];
    tr_put_le32(fv, 99);
    CHECK_EQ_INT(patch(dir, "meta", "format", 6, 0, fv, 4), 0);
    err[0] = 0;
    ix = NULL;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), TR_EVERSION);
    char want_version[32];
    snprintf(want_version, sizeof want_version, "version %d", TR_FORMAT_VERSION);
    CHECK(ix == NULL && strstr(err, "99") && strstr(err, want_version));
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), TR_EVERSION);

    newdir(dir, sizeof dir);
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), TR_ENOTFOUND);
}

static void test_memory_budget(void)
{
    /* a small budget commits by itself, several times, and reads back */
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.memory = 64 << 10;
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    for (size_t i = 0; i < ndocs; i++) {
        tr_doc_in in = doc_in(&docs[i]);
        CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);
    }
    tr_writer_stats ws;
    tr_writer_get_stats(w, &ws);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    if (ndocs > 40) CHECK(ws.batches >= 2);
    verify_all(dir, docs, ndocs, NULL);
}

static void test_corrupt_chunk(void)
{
    /* a damaged block is TR_ECORRUPT in the cursor's rc, never a crash */
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    doc *ds = calloc(300, sizeof *ds);
    for (int i = 0; i < 300; i++) {
        snprintf(ds[i].id, sizeof ds[i].id, "k%d", i);
        ds[i].body = strdup(i % 2 ? "kiwi kiwi melon" : "kiwi");
        ds[i].date = TR_NO_DATE;
    }
    CHECK_EQ_INT(build(dir, ds, 300, 1, 0, 0), 0);
    tr_index *ix;
    tr_reader *r;
    tr_term_info ti;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_term(r, "kiwi", 4, &ti), 0);
    CHECK(ti.inline_chunk == NULL && ti.df == 300);
    uint32_t tid = ti.term_id;
    tr_reader_end(r);
    tr_index_close(ix);
    uint8_t key[TR_POSTINGS_KEY_BYTES];
    tr_key_posting(key, 1, tid, 1); /* one commit: generation 1 */
    for (int flip = 40; flip < 400; flip += 37) {
        CHECK_EQ_INT(patch(dir, "postings", key, sizeof key, flip, NULL, 0), 0);
        CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
        CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
        CHECK_EQ_INT(tr_reader_term(r, "kiwi", 4, &ti), 0);
        tr_cursor c;
        tr_cursor_open(r, &ti, 1, 1, &c);
        size_t n = 0;
        while (c.doc != TR_DOC_END && n < 1000) {
            const uint32_t *pos;
            uint32_t np;
            tr_cursor_positions(&c, &pos, &np);
            tr_cursor_next(&c);
            n++;
        }
        CHECK_EQ_INT(c.rc, TR_ECORRUPT);
        tr_cursor_close(&c);
        tr_reader_end(r);
        tr_index_close(ix);
        CHECK_EQ_INT(patch(dir, "postings", key, sizeof key, flip, NULL, 0), 0); /* flip back */
    }
    for (int i = 0; i < 300; i++) free(ds[i].body);
    free(ds);
}

static void test_crash(void)
{
    /* SIGKILL a writer mid-stream: the index holds whole batches only, reads
     * back consistently, and takes a new writer */
    enum { BATCH = 50 };
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    pid_t pid = fork();
    if (pid < 0) return;
    if (pid == 0) {
        tr_writer_opts o;
        tr_writer_opts_default(&o);
        o.batch_docs = BATCH;
        tr_writer *w;
        if (tr_writer_open(dir, &o, &w, NULL, 0)) _exit(3);
        for (uint32_t i = 1;; i++) {
            char id[32], body[256];
            snprintf(id, sizeof id, "crash%u", i);
            int n = snprintf(body, sizeof body, "zebra number%u and some more words to write %u", i % 97, i);
            tr_doc_in in = { id, strlen(id), "t", 1, body, (size_t)n, NULL, 0, i };
            if (tr_writer_add(w, &in, NULL, 0)) _exit(4);
        }
    }
    struct timespec ts = { 0, 400 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    const tr_stats *st = tr_reader_stats(r);
    uint64_t docs_n = st->docs;
    fprintf(stderr, "crash test: %llu documents survived the kill\n", (unsigned long long)docs_n);
    CHECK(docs_n > 0);
    CHECK_EQ_INT(docs_n % BATCH, 0);
    CHECK_EQ_INT(st->next_doc, docs_n + 1);
    tr_term_info ti;
    CHECK_EQ_INT(tr_reader_term(r, "zebra", 5, &ti), 0);
    CHECK_EQ_INT(ti.df, docs_n);
    tr_cursor c;
    tr_cursor_open(r, &ti, 1, 1, &c);
    uint32_t expect = 1, bad = 0;
    for (; c.doc != TR_DOC_END; tr_cursor_next(&c), expect++) {
        tr_doc_view v;
        char id[32];
        snprintf(id, sizeof id, "crash%u", expect);
        if (c.doc != expect || tr_reader_doc(r, c.doc, &v) || v.id_len != strlen(id) ||
            memcmp(v.id, id, v.id_len) || tr_reader_date(r, c.doc) != expect)
            bad++;
    }
    CHECK_EQ_INT(c.rc, 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(expect - 1, docs_n);
    tr_cursor_close(&c);
    tr_reader_end(r);
    tr_index_close(ix);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    tr_doc_in in = { "after", 5, "", 0, "zebra", 5, NULL, 0, TR_NO_DATE };
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_stats(r)->docs, docs_n + 1);
    uint32_t d = 0;
    CHECK_EQ_INT(tr_reader_lookup_id(r, "after", 5, &d), 0);
    CHECK_EQ_INT(d, docs_n + 1);
    tr_reader_end(r);
    tr_index_close(ix);
}

static void test_empty(void)
{
    /* a new index with nothing in it reads as empty, not as an error */
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    tr_doc_in in = { "x", 1, NULL, 70000, NULL, 0, NULL, 0, TR_NO_DATE };
    CHECK_EQ_INT(tr_writer_add(w, &in, err, sizeof err), TR_EINPUT); /* title too long */
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_stats(r)->docs, 0);
    CHECK_EQ_INT(tr_reader_stats(r)->next_doc, 1);
    tr_buf b = {0};
    CHECK_EQ_INT(index_dump(r, &b, NULL), 0);
    CHECK_EQ_INT(b.len, 0);
    tr_buf_free(&b);
    tr_term_info ti;
    CHECK_EQ_INT(tr_reader_term(r, "a", 1, &ti), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_reader_is_deleted(r, 7), 0);
    CHECK_EQ_INT(tr_reader_body_len(r, 1), 0);
    tr_reader_end(r);
    tr_index_close(ix);
}

/* ---- cursor against brute force ---- */

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t lower(const uint32_t *v, size_t n, uint32_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (v[m] < t) lo = m + 1; else hi = m;
    }
    return lo;
}

/* tr_docs_first_at_least, the in-block search under every seek: for
 * blocks of every size, every start and every target up to the block's
 * last doc (its contract), the first index at or after the start whose
 * doc reaches the target, as a plain scan finds it. Gaps of 1 (a dense
 * list) to thousands (a rare one) reach its every path: within the first
 * eight, the binary search, and the last eight of the block. */
static void test_docs_first_at_least(void)
{
    uint32_t docs[TR_BLOCK_DOCS];
    size_t bad = 0, tried = 0;
    for (uint32_t n = 1; n <= TR_BLOCK_DOCS; n++) {
        for (int shape = 0; shape < 3; shape++) {
            uint32_t d = 1 + rng() % 100;
            for (uint32_t k = 0; k < n; k++) {
                docs[k] = d;
                d += shape == 0 ? 1 : shape == 1 ? 1 + rng() % 4 : 1 + rng() % 5000;
            }
            for (uint32_t i = 0; i < n; i++) {
                for (uint32_t probe = 0; probe < 24; probe++) {
                    /* targets at, just below and between the docs from i on */
                    uint32_t j = i + rng() % (n - i);
                    uint32_t t = docs[j] - (probe % 3 == 1) * (1 + rng() % (j > i ? docs[j] - docs[j - 1] : 1));
                    if (probe % 3 == 2) t = docs[j];
                    if (t > docs[n - 1]) t = docs[n - 1];
                    uint32_t want = i;
                    while (docs[want] < t) want++;
                    bad += tr_docs_first_at_least(docs, i, n, t) != want;
                    tried++;
                }
            }
        }
    }
    CHECK(tried > 100000);
    CHECK_EQ_INT(bad, 0);
}

static void test_cursor(uint32_t batch, uint32_t min_chunks)
{
    enum { NDOCS = 150000 };
    char dir[512], err[256];
    newdir(dir, sizeof dir);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = 2;
    o.batch_docs = batch;
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    uint32_t *want = malloc(NDOCS * sizeof *want), *wtf = malloc(NDOCS * sizeof *wtf);
    size_t nwant = 0;
    for (uint32_t i = 1; i <= NDOCS; i++) {
        char id[32], body[128];
        snprintf(id, sizeof id, "c%u", i);
        uint32_t x = rng();
        int has = x % 3 != 0 || (i > 70000 && i < 72000);
        uint32_t tf = 1 + (x >> 8) % 3;
        size_t n = (size_t)snprintf(body, sizeof body, "filler%u ", x % 7);
        for (uint32_t k = 0; has && k < tf; k++) n += (size_t)snprintf(body + n, sizeof body - n, "zebra ");
        tr_doc_in in = { id, strlen(id), "", 0, body, n, NULL, 0, TR_NO_DATE };
        if (tr_writer_add(w, &in, err, sizeof err)) break;
        if (has) { want[nwant] = i; wtf[nwant++] = tf; }
    }
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    CHECK(nwant > 95000);

    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    tr_term_info ti;
    CHECK_EQ_INT(tr_reader_term(r, "zebra", 5, &ti), 0);
    CHECK_EQ_INT(ti.df, nwant);
    CHECK(ti.nchunks >= min_chunks);
    tr_cursor c;
    /* next: the whole list */
    tr_cursor_open(r, &ti, 0, 1, &c);
    size_t k = 0, bad = 0;
    for (; c.doc != TR_DOC_END; tr_cursor_next(&c), k++)
        if (k >= nwant || c.doc != want[k] || c.tf[c.i] != wtf[k]) bad++;
    CHECK_EQ_INT(c.rc, 0);
    CHECK_EQ_INT(k, nwant);
    CHECK_EQ_INT(bad, 0);
    tr_cursor_close(&c);
    /* seek, shallow, next interleaved with random increasing targets */
    for (int round = 0; round < 20; round++) {
        tr_cursor_open(r, &ti, round & 1, 1, &c);
        uint32_t t = 0;
        bad = 0;
        while (c.doc != TR_DOC_END) {
            uint32_t step = rng() % (round < 10 ? 40 : 3000) + 1;
            t += step;
            int op = rng() % 4;
            if (op == 0) {
                tr_cursor_shallow(&c, t);
                if (c.near_last && (c.blk_last != c.near_last || c.docs[c.n - 1] != c.near_last)) bad++;
                size_t j = lower(want, nwant, t);
                if (j == nwant ? c.blk_last != TR_DOC_END : (c.blk_last < t || want[j] > c.blk_last)) bad++;
                if (j < nwant && c.blk_last != TR_DOC_END) {
                    const tr_bound *bd = tr_cursor_block_bound(&c);
                    int ok = bd->max_ttf == 0 && bd->npoints > 0;
                    uint32_t dl = tr_reader_body_len(r, want[j]);
                    int covered = 0;
                    for (int p = 0; p < bd->npoints; p++)
                        if (bd->pt[p].tf >= wtf[j] && bd->pt[p].dl <= dl) covered = 1;
                    if (!ok || !covered) bad++;
                }
                /* sometimes seek below the shallow target: pointer was ahead */
                if (rng() % 2) t -= step / 2;
                continue;
            }
            if (op == 1 && c.doc != TR_DOC_END) {
                size_t j = lower(want, nwant, c.doc);
                tr_cursor_next(&c);
                if (j + 1 < nwant ? c.doc != want[j + 1] : c.doc != TR_DOC_END) bad++;
                if (c.doc != TR_DOC_END && c.doc > t) t = c.doc;
                continue;
            }
            uint32_t before = c.doc;
            if (op == 3 && c.decoded && c.doc < t && t <= c.docs[c.n - 1]) {
                /* seek_index: the caller found the posting in the block */
                uint32_t i = c.i + 1;
                while (c.docs[i] < t) i++;
                if (tr_cursor_seek_index(&c, i)) bad++;
                if (tr_cursor_seek_index(&c, c.i) != TR_EINPUT) bad++; /* not a later one */
            } else if (rng() % 2) {
                tr_cursor_seek(&c, t);
            } else {
                /* the inline path: only while the pointer is on the block */
                tr_cursor_seek_near(&c, t);
            }
            size_t j = lower(want, nwant, t);
            uint32_t exp = before >= t ? before : j < nwant ? want[j] : TR_DOC_END;
            if (c.doc != exp) bad++;
            /* a seek leaves the pointer on the decoded block, and near_last
             * says so (or is 0) */
            if (c.doc != TR_DOC_END && c.blk_last != c.docs[c.n - 1]) bad++;
            if (c.near_last && (c.near_last != c.docs[c.n - 1] || c.near_last != c.blk_last)) bad++;
            if (c.doc != TR_DOC_END) {
                size_t q = lower(want, nwant, c.doc);
                if (q >= nwant || want[q] != c.doc || c.tf[c.i] != wtf[q]) bad++;
                if (round & 1) {
                    const uint32_t *pos;
                    uint32_t np;
                    if (tr_cursor_positions(&c, &pos, &np) || np != wtf[q] || pos[0] != 1) bad++;
                }
                if (c.doc > t) t = c.doc;
            }
        }
        CHECK_EQ_INT(c.rc, 0);
        CHECK_EQ_INT(bad, 0);
        tr_cursor_close(&c);
    }
    tr_reader_end(r);
    tr_index_close(ix);
    free(want);
    free(wtf);
}

int main(void)
{
    if (!mkdtemp(tmproot)) skip("cannot make a temporary directory");
    load_docs();
    test_roundtrip();
    test_threads_identical();
    test_small_batches();
    test_posting_buffers();
    test_tiny_map();
    test_dictionary_repacked();
    test_small_commit_rewrites_few_blocks();
    test_update_delete();
    test_postings_appended();
    test_generations();
    test_replace_across_commits();
    test_body_blocks();
    test_settings_and_version();
    test_memory_budget();
    test_corrupt_chunk();
    test_crash();
    test_docs_first_at_least();
    test_cursor(40000, 4);  /* a chunk per batch */
    test_cursor(0, 2);      /* one batch: chunks split by size */
    test_empty();
    test_merge();
    test_merge_purge();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmproot);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmproot);
    for (size_t i = 0; i < ndocs; i++) free(docs[i].body);
    free(docs);
    return check_done();
}
