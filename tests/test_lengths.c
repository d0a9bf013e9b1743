/* test_lengths.c - the reader's per-snapshot state (reader.c): lengths
 * that do not fit the compact table come back exact from the norms, every
 * reader of a snapshot sees that snapshot's lengths, stats and deletions even
 * after a commit replaces the shared state, a reader begun after the last
 * one ended reuses it only while the snapshot and the map are unchanged, and
 * readers on several threads share it safely. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "index.h"
#include "schema.h"

/* Words in the long title: past the 10 bits the table keeps for a title. */
#define LONG_TITLE_WORDS 1500
#define THREADS 4
#define THREAD_ROUNDS 200

static char tmproot[] = "/tmp/trawl_test_lengths_XXXXXX";

static char *repeat_word(const char *w, size_t n)
{
    size_t wl = strlen(w);
    char *s = malloc(n * (wl + 1) + 1);
    if (!s) exit(1);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * (wl + 1), w, wl);
        s[i * (wl + 1) + wl] = ' ';
    }
    s[n ? n * (wl + 1) - 1 : 0] = 0;
    return s;
}

static int add(tr_writer *w, const char *id, const char *title, const char *body)
{
    tr_doc_in in;
    memset(&in, 0, sizeof in);
    in.id = id; in.id_len = strlen(id);
    in.title = title; in.title_len = strlen(title);
    in.body = body; in.body_len = strlen(body);
    in.date = TR_NO_DATE;
    char err[256];
    return tr_writer_add(w, &in, err, sizeof err);
}

/* Every doc's lengths through all three calls agree with its stored counts. */
static void check_against_docs(tr_reader *r)
{
    uint32_t n = tr_reader_stats(r)->next_doc;
    for (uint32_t d = 1; d < n; d++) {
        tr_doc_view v;
        if (tr_reader_doc(r, d, &v)) continue;
        uint32_t t, b;
        tr_reader_lengths(r, &d, 1, &t, &b);
        CHECK_EQ_INT(t, v.title_terms);
        CHECK_EQ_INT(b, v.body_terms);
        CHECK_EQ_INT(tr_reader_title_len(r, d), v.title_terms);
        CHECK_EQ_INT(tr_reader_body_len(r, d), v.body_terms);
    }
    uint32_t t = 1, b = 1, never = n + 100;
    tr_reader_lengths(r, &never, 1, &t, &b);
    CHECK(t == 0 && b == 0);
}

typedef struct thread_arg { tr_index *ix; int failures; } thread_arg;

static void *reader_thread(void *p)
{
    thread_arg *a = p;
    for (int i = 0; i < THREAD_ROUNDS; i++) {
        tr_reader *r;
        char err[256];
        if (tr_reader_begin(a->ix, &r, err, sizeof err)) { a->failures++; continue; }
        uint32_t d = 1, t, b;
        tr_reader_lengths(r, &d, 1, &t, &b);
        if (t != LONG_TITLE_WORDS || b != 2) a->failures++;
        d = 2;
        tr_reader_lengths(r, &d, 1, &t, &b);
        if (t != 2 || b != 3) a->failures++;
        tr_reader_end(r);
    }
    return NULL;
}

/* An index of short documents (the 16-bit table: at most one in 64
 * escapes) with lengths at and past its limits (5 bits of title, 11 of
 * body, the all-ones entry being the escape): every length exact, one by
 * one and in batches of 8 and more (the vector path, escapes mixed in). */
static void test_narrow_table(void)
{
    enum { NSHORT = 700 };
    char dir[256], err[256], id[32];
    snprintf(dir, sizeof dir, "%s/ix16", tmproot);
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    /* title and body words: fits, fits, both at the limit (the escape
     * value), body past it, title past it, far past both */
    static const uint32_t edge[][2] = { { 31, 2046 }, { 30, 2047 }, { 31, 2047 },
                                        { 0, 2048 }, { 32, 1 }, { 1500, 5000 } };
    size_t nedge = sizeof edge / sizeof edge[0];
    for (uint32_t i = 0; i < NSHORT + nedge; i++) {
        snprintf(id, sizeof id, "s%u", i);
        char *t, *b;
        if (i % 100 == 50 && (i / 100) < nedge) {
            t = repeat_word("kiwi", edge[i / 100][0]);
            b = repeat_word("plum", edge[i / 100][1]);
        } else {
            t = repeat_word("fig", i % 7);
            b = repeat_word("pear", 1 + i % 300);
        }
        CHECK_EQ_INT(add(w, id, t, b), 0);
        free(t);
        free(b);
    }
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    tr_index *ix;
    tr_reader *r;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
    check_against_docs(r);
    for (size_t e = 0; e < nedge; e++) {
        uint32_t d = (uint32_t)(e * 100 + 50) + 1;   /* ids start at 1 */
        CHECK_EQ_INT(tr_reader_title_len(r, d), edge[e][0]);
        CHECK_EQ_INT(tr_reader_body_len(r, d), edge[e][1]);
    }
    /* every doc in batches from each start: equal one by one */
    uint32_t n = tr_reader_stats(r)->next_doc + 3, docs[64], t[64], b[64];
    for (uint32_t from = 0; from + 64 <= n; from += 17) {
        for (uint32_t k = 0; k < 64; k++) docs[k] = from + k;
        tr_reader_lengths(r, docs, 64, t, b);
        for (uint32_t k = 0; k < 64; k++) {
            uint32_t t1, b1;
            tr_reader_lengths(r, docs + k, 1, &t1, &b1);
            CHECK(t[k] == t1 && b[k] == b1);
        }
    }
    tr_reader_end(r);
    tr_index_close(ix);
}

int main(void)
{
    if (!mkdtemp(tmproot)) skip("cannot make a temporary directory");
    char dir[256], err[256];
    snprintf(dir, sizeof dir, "%s/ix", tmproot);
    char *long_title = repeat_word("apple", LONG_TITLE_WORDS);

    tr_writer_opts o;
    tr_writer_opts_default(&o);
    tr_writer *w;
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    CHECK_EQ_INT(add(w, "a", long_title, "pear plum"), 0);          /* doc 1: escaped */
    CHECK_EQ_INT(add(w, "b", "cherry fig", "lemon lime kiwi"), 0);  /* doc 2 */
    CHECK_EQ_INT(add(w, "c", "", ""), 0);                           /* doc 3: empty */
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);

    tr_index *ix;
    CHECK_EQ_INT(tr_index_open(dir, &ix, err, sizeof err), 0);
    tr_reader *r1, *r1b;
    CHECK_EQ_INT(tr_reader_begin(ix, &r1, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r1b, err, sizeof err), 0);   /* shares r1's table */
    CHECK_EQ_INT(tr_reader_title_len(r1, 1), LONG_TITLE_WORDS);
    CHECK_EQ_INT(tr_reader_body_len(r1, 1), 2);
    CHECK_EQ_INT(tr_reader_title_len(r1, 2), 2);
    CHECK_EQ_INT(tr_reader_body_len(r1, 2), 3);
    CHECK_EQ_INT(tr_reader_title_len(r1, 3), 0);
    CHECK_EQ_INT(tr_reader_body_len(r1, 3), 0);
    CHECK_EQ_INT(tr_reader_title_len(r1, 0), 0);
    uint32_t docs[4] = { 1, 2, 3, 9 }, tl[4], bl[4];
    tr_reader_lengths(r1b, docs, 4, tl, bl);
    CHECK(tl[0] == LONG_TITLE_WORDS && bl[0] == 2 && tl[1] == 2 && bl[1] == 3);
    CHECK(tl[2] == 0 && bl[2] == 0 && tl[3] == 0 && bl[3] == 0);
    check_against_docs(r1);
    /* batches of 8 and more take the vector path: escaped, plain, empty and
     * out-of-range documents in one call, in any order, equal one-by-one */
    uint32_t many[19] = { 2, 1, 3, 9, 0, 2, 2, 3, 3, 2, 0xFFFFFFF0u, 0x80000001u, 1, 2, 3, 2, 2, 2, 1 };
    uint32_t mt[19], mb[19];
    for (int shift = 0; shift < 3; shift++) {
        tr_reader_lengths(r1b, many + shift, 19 - shift, mt, mb);
        for (int i = 0; i < 19 - shift; i++) {
            uint32_t t1, b1;
            tr_reader_lengths(r1b, many + shift + i, 1, &t1, &b1);
            CHECK(mt[i] == t1 && mb[i] == b1);
        }
    }
    uint32_t plain[8] = { 2, 2, 3, 2, 3, 3, 2, 2 };
    tr_reader_lengths(r1b, plain, 8, mt, mb);
    for (int i = 0; i < 8; i++) CHECK(mt[i] == (plain[i] == 2 ? 2u : 0u) && mb[i] == (plain[i] == 2 ? 3u : 0u));

    /* a commit while r1 lives: new readers get a new table, r1 keeps its own */
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    CHECK_EQ_INT(add(w, "d", "grape", "melon melon melon melon"), 0); /* doc 4 */
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    tr_reader_end(r1b);
    tr_reader *r2;
    CHECK_EQ_INT(tr_reader_begin(ix, &r2, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_title_len(r2, 4), 1);
    CHECK_EQ_INT(tr_reader_body_len(r2, 4), 4);
    CHECK_EQ_INT(tr_reader_title_len(r2, 1), LONG_TITLE_WORDS);
    CHECK_EQ_INT(tr_reader_body_len(r1, 4), 0);                    /* not in r1's snapshot */
    CHECK_EQ_INT(tr_reader_body_len(r1, 2), 3);
    check_against_docs(r2);
    tr_reader_end(r2);
    tr_reader_end(r1);

    /* readers on several threads, beginning and ending at once */
    pthread_t th[THREADS];
    thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i].ix = ix;
        args[i].failures = 0;
        CHECK_EQ_INT(pthread_create(&th[i], NULL, reader_thread, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(args[i].failures, 0);
    }

    /* one reader after another on an unchanged index: the second reuses the
     * state the first built, stats and lengths included */
    CHECK_EQ_INT(tr_reader_begin(ix, &r1, err, sizeof err), 0);
    tr_reader_end(r1);
    CHECK_EQ_INT(tr_reader_begin(ix, &r1, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_stats(r1)->docs, 4);
    CHECK_EQ_INT(tr_reader_stats(r1)->deleted, 0);
    CHECK_EQ_INT(tr_reader_title_len(r1, 1), LONG_TITLE_WORDS);
    CHECK_EQ_INT(tr_reader_date(r1, 1), TR_NO_DATE);
    CHECK_EQ_INT(tr_reader_is_deleted(r1, 2), 0);
    check_against_docs(r1);

    /* a deletion commits while r1 lives: a new reader sees it, r1 does not */
    CHECK_EQ_INT(tr_writer_open(dir, &o, &w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_writer_delete(w, "b", 1), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r2, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_is_deleted(r2, 2), 1);
    CHECK_EQ_INT(tr_reader_is_deleted(r2, 1), 0);
    CHECK_EQ_INT(tr_reader_stats(r2)->docs, 3);
    CHECK_EQ_INT(tr_reader_stats(r2)->deleted, 1);
    CHECK_EQ_INT(tr_reader_is_deleted(r1, 2), 0);
    CHECK_EQ_INT(tr_reader_stats(r1)->docs, 4);
    tr_reader_end(r1);
    tr_reader_end(r2);
    /* and once nobody holds the old snapshot, the next reader too */
    CHECK_EQ_INT(tr_reader_begin(ix, &r2, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_is_deleted(r2, 2), 1);
    CHECK_EQ_INT(tr_reader_stats(r2)->deleted, 1);
    tr_reader_end(r2);

    /* the map moves (remapped at a new size) under an unchanged snapshot:
     * the shared state's norms pointers are not reused */
    MDB_envinfo info;
    CHECK_EQ_INT(mdb_env_info(ix->env, &info), 0);
    CHECK_EQ_INT(mdb_env_set_mapsize(ix->env, info.me_mapsize + ((size_t)1 << 30)), 0);
    CHECK_EQ_INT(tr_reader_begin(ix, &r2, err, sizeof err), 0);
    CHECK_EQ_INT(tr_reader_title_len(r2, 1), LONG_TITLE_WORDS);
    CHECK_EQ_INT(tr_reader_date(r2, 1), TR_NO_DATE);
    CHECK_EQ_INT(tr_reader_is_deleted(r2, 2), 1);
    CHECK_EQ_INT(tr_reader_stats(r2)->docs, 3);
    check_against_docs(r2);
    tr_reader_end(r2);
    tr_index_close(ix);
    free(long_title);
    test_narrow_table();

    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmproot);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmproot);
    return check_done();
}
