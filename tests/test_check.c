/* test_check.c - the integrity checker (common/check.h): a sound index passes
 * with the right counts; damage that keeps every checksum valid (statistics,
 * maps, dictionary numbers, a lost chunk, norms, a lost block of stored
 * bodies, a body's offset in it) is found by the full check
 * and located in the right database, while --quick (checksums only) passes it;
 * a flipped block byte fails both. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "../common/check.h"
#include "../common/dict.h"

#define NDOCS 300

static char tmproot[] = "/tmp/trawl_test_check_XXXXXX";
static char ixdir[600];

/* Databases and keys named in the last run's reports. */
static char seen_dbs[256], seen_keys[1024];

static void note(void *ctx, const char *db, const char *key, const char *what)
{
    (void)ctx;
    fprintf(stderr, "  reported: %s: %s: %s\n", db, key, what);
    if (strlen(seen_dbs) + strlen(db) + 2 < sizeof seen_dbs) {
        strcat(seen_dbs, db);
        strcat(seen_dbs, " ");
    }
    if (strlen(seen_keys) + strlen(key) + 2 < sizeof seen_keys) {
        strcat(seen_keys, key);
        strcat(seen_keys, "|");
    }
}

static int run_check(int quick)
{
    char err[256];
    seen_dbs[0] = 0;
    seen_keys[0] = 0;
    return tr_check_index(ixdir, quick, note, NULL, NULL, err, sizeof err);
}

static void build_index(void)
{
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = 2;
    o.batch_docs = 100;
    tr_writer *w;
    char err[256];
    CHECK_EQ_INT(tr_writer_open(ixdir, &o, &w, err, sizeof err), 0);
    char id[32], body[256], title[64];
    for (int i = 0; i < NDOCS; i++) {
        snprintf(id, sizeof id, "doc-%d", i);
        snprintf(title, sizeof title, "Title %d common", i);
        int n = snprintf(body, sizeof body, "common words common for document %d and more common text common %s", i,
                         i % 3 ? "alpha beta" : "delta");
        tr_doc_in d = { .id = id, .id_len = strlen(id), .title = title, .title_len = strlen(title),
                        .body = body, .body_len = (size_t)n, .date = i };
        CHECK_EQ_INT(tr_writer_add(w, &d, err, sizeof err), 0);
    }
    CHECK_EQ_INT(tr_writer_delete(w, "doc-7", 5), 0);
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
}

/* Edit one value (len = SIZE_MAX deletes the key) and return the old one. */
static int edit(int dbi, const void *kp, size_t klen, const void *val, size_t len, uint8_t **old, size_t *oldlen)
{
    tr_index *ix;
    char err[256];
    int rc = tr_schema_open(ixdir, 0, 0, &ix, err, sizeof err);
    if (rc) return rc;
    MDB_txn *txn;
    MDB_val k = { klen, (void *)kp }, v;
    if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn))) goto out;
    if (old) {
        *old = NULL;
        *oldlen = SIZE_MAX;
        if (!mdb_get(txn, ix->dbi[dbi], &k, &v)) {
            *old = malloc(v.mv_size + 1);
            memcpy(*old, v.mv_data, v.mv_size);
            *oldlen = v.mv_size;
        }
    }
    if (len == SIZE_MAX) {
        rc = mdb_del(txn, ix->dbi[dbi], &k, NULL);
    } else {
        v = (MDB_val){ len, (void *)val };
        rc = mdb_put(txn, ix->dbi[dbi], &k, &v, 0);
    }
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
out:
    tr_index_close(ix);
    return rc;
}

/* Apply an edit, expect the full check to name db and --quick to pass, undo. */
static void expect_found(const char *what, int dbi, const void *k, size_t kl, const void *v, size_t vl,
                         const char *db)
{
    uint8_t *old;
    size_t oldlen;
    fprintf(stderr, "%s:\n", what);
    CHECK_EQ_INT(edit(dbi, k, kl, v, vl, &old, &oldlen), 0);
    CHECK_EQ_INT(run_check(0), TR_ECORRUPT);
    if (!strstr(seen_dbs, db)) {
        fprintf(stderr, "  expected a report in %s, got [%s]\n", db, seen_dbs);
        CHECK(0);
    }
    CHECK_EQ_INT(run_check(1), 0);
    CHECK_EQ_INT(edit(dbi, k, kl, old, oldlen, NULL, NULL), 0);
    free(old);
    CHECK_EQ_INT(run_check(0), 0);
}

/* Give term a new value (its id kept) through the dictionary's batch apply,
 * which re-encodes its block with a valid checksum. */
static int edit_term(const char *term, uint32_t term_id, const uint8_t *val, size_t len)
{
    tr_index *ix;
    char err[256];
    int rc = tr_schema_open(ixdir, 0, 0, &ix, err, sizeof err);
    if (rc) return rc;
    MDB_txn *txn;
    if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn))) goto out;
    tr_dict_update u = { (const uint8_t *)term, strlen(term), term_id, val, len };
    rc = tr_dict_apply(txn, ix->dbi[TR_DB_TERMS], &u, 1, UINT64_MAX, NULL);
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
out:
    tr_index_close(ix);
    return rc;
}

/* As expect_found, for a term's value. */
static void expect_found_term(const char *what, const char *term, uint32_t term_id, const uint8_t *val, size_t len,
                              const uint8_t *old, size_t oldlen, const char *db)
{
    fprintf(stderr, "%s:\n", what);
    CHECK_EQ_INT(edit_term(term, term_id, val, len), 0);
    CHECK_EQ_INT(run_check(0), TR_ECORRUPT);
    if (!strstr(seen_dbs, db)) {
        fprintf(stderr, "  expected a report in %s, got [%s]\n", db, seen_dbs);
        CHECK(0);
    }
    CHECK_EQ_INT(run_check(1), 0);
    CHECK_EQ_INT(edit_term(term, term_id, old, oldlen), 0);
    CHECK_EQ_INT(run_check(0), 0);
}

static int get_term(const char *term, tr_term_info *ti, uint8_t *enc, size_t *enclen)
{
    tr_index *ix;
    tr_reader *r;
    char err[256];
    int rc = tr_index_open(ixdir, &ix, err, sizeof err);
    if (rc) return rc;
    if (!(rc = tr_reader_begin(ix, &r, err, sizeof err))) {
        if (!(rc = tr_reader_term(r, term, strlen(term), ti))) {
            *enclen = tr_term_value_encode(ti, enc);
            /* ti's pointers (generation list) borrow from the reader: point them into enc */
            uint32_t id = ti->term_id;
            rc = tr_term_value_decode(ti, enc, *enclen);
            ti->term_id = id;
        }
        tr_reader_end(r);
    }
    tr_index_close(ix);
    return rc;
}

int main(void)
{
    if (!mkdtemp(tmproot)) skip("cannot make a temporary directory");
    snprintf(ixdir, sizeof ixdir, "%s/ix", tmproot);
    build_index();

    tr_check_counts n;
    char err[256];
    CHECK_EQ_INT(tr_check_index(ixdir, 0, note, NULL, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n.problems, 0);
    CHECK_EQ_INT(n.docs, NDOCS);
    CHECK_EQ_INT(n.deleted, 1);
    CHECK_EQ_INT(n.ids, NDOCS - 1);
    CHECK(n.postings > 3 * NDOCS && n.positions >= n.postings && n.chunks >= n.terms);
    CHECK_EQ_INT(run_check(1), 0);

    /* a directory that is not an index: an error, not a report */
    CHECK_EQ_INT(tr_check_index(tmproot, 0, NULL, NULL, NULL, err, sizeof err) < 0, 1);
    /* an empty data.mdb (a writer killed before its first pages; a crash
     * trial found "Bad file descriptor" here): not an index, said so */
    {
        char edir[4200], epath[4300];
        snprintf(edir, sizeof edir, "%s/emptyenv", tmproot);
        snprintf(epath, sizeof epath, "%s/data.mdb", edir);
        CHECK_EQ_INT(mkdir(edir, 0777), 0);
        FILE *ef = fopen(epath, "w");
        CHECK(ef != NULL);
        if (ef) fclose(ef);
        tr_index *eix = NULL;
        err[0] = 0;
        CHECK_EQ_INT(tr_index_open(edir, &eix, err, sizeof err), TR_ENOTFOUND);
        CHECK(strstr(err, "holds no trawl index yet") != NULL);
        CHECK_EQ_INT(tr_check_index(edir, 0, NULL, NULL, NULL, err, sizeof err) < 0, 1);
        CHECK(strstr(err, "holds no trawl index yet") != NULL);
    }

    /* stats re-encoded with one live document too many */
    {
        tr_index *ix;
        tr_reader *r;
        tr_stats st = {0};
        CHECK_EQ_INT(tr_index_open(ixdir, &ix, err, sizeof err), 0);
        CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
        st = *tr_reader_stats(r);
        tr_reader_end(r);
        tr_index_close(ix);
        CHECK_EQ_INT(st.docs, NDOCS - 1);
        st.docs++;
        uint8_t sb[TR_STATS_BYTES];
        tr_stats_encode(&st, sb);
        expect_found("stats: docs + 1", TR_DB_META, "stats", 5, sb, sizeof sb, "meta");
        st.docs--;
        st.body_tokens += 3;
        tr_stats_encode(&st, sb);
        expect_found("stats: body tokens + 3", TR_DB_META, "stats", 5, sb, sizeof sb, "meta");
    }
    /* ids: a live document's id removed; an id pointing at a deleted doc */
    expect_found("ids: doc-12 removed", TR_DB_IDS, "doc-12", 6, NULL, SIZE_MAX, "ids");
    uint8_t d8[4];
    tr_put_le32(d8, 8); /* doc-7 is doc 8, deleted */
    expect_found("ids: doc-12 -> deleted doc", TR_DB_IDS, "doc-12", 6, d8, 4, "ids");
    /* deleted: a doc id that was never assigned */
    uint8_t dk[4];
    tr_key_u32(dk, 5000);
    expect_found("deleted: doc 5000", TR_DB_DELETED, dk, 4, "", 0, "deleted");
    /* terms: df and cf off by one, with a valid checksum */
    tr_term_info ti;
    uint8_t enc[TR_TERM_VALUE_MAX];
    size_t enclen = 0;
    CHECK_EQ_INT(get_term("common", &ti, enc, &enclen), 0);
    CHECK(ti.inline_chunk == NULL);     /* an inline term's df is its chunk's */
    ti.df++;
    ti.cf++;
    uint8_t enc2[TR_TERM_VALUE_MAX];
    size_t enc2len = tr_term_value_encode(&ti, enc2);
    expect_found_term("terms: df + 1", "common", ti.term_id, enc2, enc2len, enc, enclen, "terms");
    /* postings: a term's first chunk gone */
    CHECK_EQ_INT(get_term("common", &ti, enc, &enclen), 0);
    CHECK(ti.nchunks >= 2);
    CHECK(ti.ngens >= 2);
    uint8_t pk[TR_POSTINGS_KEY_BYTES];
    tr_key_posting(pk, 1, ti.term_id, 1); /* the first commit is generation 1 */
    expect_found("postings: first chunk of 'common' removed", TR_DB_POSTINGS, pk, sizeof pk, NULL, SIZE_MAX, "terms");
    /* terms: 'common' no longer lists generation 2, where it has chunks
     * (and, the other way, lists a generation 3 that holds none) */
    {
        CHECK_EQ_INT(get_term("common", &ti, enc, &enclen), 0);
        CHECK_EQ_INT(ti.ngens, 3); /* 300 docs, 100 a commit */
        uint8_t g13[2] = { 1, 2 }, g123x[3] = { 1, 1, 3 }, tv[TR_TERM_VALUE_MAX];
        ti.gens = g13;
        ti.gens_len = 2;
        ti.ngens = 2;
        size_t tl = tr_term_value_encode(&ti, tv);
        expect_found_term("terms: 'common' without generation 2", "common", ti.term_id, tv, tl, enc, enclen,
                          "postings");
        ti.gens = g123x;
        ti.gens_len = 3;
        ti.ngens = 3;
        tl = tr_term_value_encode(&ti, tv);
        expect_found_term("terms: 'common' lists generation 5, not 3", "common", ti.term_id, tv, tl, enc, enclen,
                          "postings");
    }
    /* norms: doc 3's body length changed */
    {
        uint8_t *old;
        size_t oldlen;
        uint8_t nk[4];
        tr_key_u32(nk, 0);
        CHECK_EQ_INT(edit(TR_DB_NORMS, nk, 4, "", 0, &old, &oldlen), 0); /* read it */
        CHECK_EQ_INT(edit(TR_DB_NORMS, nk, 4, old, oldlen, NULL, NULL), 0);
        CHECK(oldlen >= 4 * TR_NORM_BYTES);
        uint8_t *mod = malloc(oldlen);
        memcpy(mod, old, oldlen);
        tr_put_le32(mod + 3 * TR_NORM_BYTES + 4, 1);
        /* positions are coded from the field lengths (format 5): the
         * postings of doc 3's terms no longer decode, which --quick (that
         * reads every position) reports too (under terms or postings: most
         * small lists are inline). A length one more may still decode. */
        fprintf(stderr, "norms: doc 3 body length 1:\n");
        CHECK_EQ_INT(edit(TR_DB_NORMS, nk, 4, mod, oldlen, NULL, NULL), 0);
        CHECK_EQ_INT(run_check(0), TR_ECORRUPT);
        CHECK(strstr(seen_dbs, "norms") != NULL);
        CHECK(strstr(seen_dbs, "postings") != NULL || strstr(seen_dbs, "terms") != NULL);
        CHECK_EQ_INT(run_check(1), TR_ECORRUPT);
        CHECK(strstr(seen_dbs, "postings") != NULL || strstr(seen_dbs, "terms") != NULL);
        CHECK_EQ_INT(edit(TR_DB_NORMS, nk, 4, old, oldlen, NULL, NULL), 0);
        CHECK_EQ_INT(run_check(0), 0);
        free(mod);
        free(old);
    }
    /* docs: doc 20's body block removed; doc 20's body offset moved (the
     * record's checksum made valid again) */
    {
        uint8_t *old;
        size_t oldlen;
        uint8_t dk20[4];
        tr_key_u32(dk20, 20);
        CHECK_EQ_INT(edit(TR_DB_DOCS, dk20, 4, "", 0, &old, &oldlen), 0); /* read it */
        CHECK_EQ_INT(edit(TR_DB_DOCS, dk20, 4, old, oldlen, NULL, NULL), 0);
        tr_doc_rec rec;
        CHECK_EQ_INT(tr_doc_value_decode(&rec, old, oldlen), 0);
        CHECK(rec.body_len > 0);
        uint8_t bk[TR_DOC_BLOCK_KEY_BYTES];
        tr_key_doc_block(bk, 20 + rec.block_ahead);
        expect_found("docs: body block of doc 20 removed", TR_DB_DOCS, bk, sizeof bk, NULL, SIZE_MAX, "docs");
        rec.block_off++;
        tr_buf mod = {0};
        CHECK_EQ_INT(tr_doc_value_encode(&rec, &mod), 0);
        expect_found("docs: doc 20's body offset + 1", TR_DB_DOCS, dk20, 4, mod.data, mod.len, "docs");
        tr_buf_free(&mod);
        free(old);
    }
    /* a flipped byte in a block: both checks fail, naming postings */
    {
        uint8_t *old;
        size_t oldlen;
        CHECK_EQ_INT(edit(TR_DB_POSTINGS, pk, sizeof pk, "", 0, &old, &oldlen), 0);
        CHECK(oldlen > 20);
        old[oldlen - 10] ^= 0x20;
        CHECK_EQ_INT(edit(TR_DB_POSTINGS, pk, sizeof pk, old, oldlen, NULL, NULL), 0);
        CHECK_EQ_INT(run_check(1), TR_ECORRUPT);
        CHECK(strstr(seen_dbs, "postings") != NULL);
        CHECK_EQ_INT(run_check(0), TR_ECORRUPT);
        old[oldlen - 10] ^= 0x20;
        CHECK_EQ_INT(edit(TR_DB_POSTINGS, pk, sizeof pk, old, oldlen, NULL, NULL), 0);
        free(old);
        CHECK_EQ_INT(run_check(0), 0);
    }

    /* a flipped byte in a dictionary block: both checks fail and name the
     * block by its key (its last term); lookups in it fail, others work */
    {
        tr_index *ix;
        tr_reader *r;
        uint8_t bkey[TR_MAX_TERM_BYTES];
        size_t bklen = 0;
        CHECK_EQ_INT(tr_index_open(ixdir, &ix, err, sizeof err), 0);
        {
            MDB_txn *txn;
            MDB_cursor *mc;
            MDB_val k = { 5, (void *)"delta" }, v;
            CHECK_EQ_INT(mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn), 0);
            CHECK_EQ_INT(mdb_cursor_open(txn, ix->dbi[TR_DB_TERMS], &mc), 0);
            CHECK_EQ_INT(mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE), 0);
            bklen = k.mv_size;
            memcpy(bkey, k.mv_data, bklen);
            mdb_cursor_close(mc);
            mdb_txn_abort(txn);
        }
        tr_index_close(ix);
        uint8_t *old;
        size_t oldlen;
        CHECK_EQ_INT(edit(TR_DB_TERMS, bkey, bklen, "", 0, &old, &oldlen), 0);
        CHECK(oldlen > 20);
        old[oldlen / 2] ^= 0x01;
        CHECK_EQ_INT(edit(TR_DB_TERMS, bkey, bklen, old, oldlen, NULL, NULL), 0);
        CHECK_EQ_INT(run_check(1), TR_ECORRUPT);
        char want[128];
        snprintf(want, sizeof want, "block %.*s", (int)bklen, (const char *)bkey);
        CHECK(strstr(seen_dbs, "terms") != NULL);
        CHECK(strstr(seen_keys, want) != NULL);
        CHECK_EQ_INT(run_check(0), TR_ECORRUPT);
        CHECK(strstr(seen_keys, want) != NULL);
        tr_term_info t2;
        CHECK_EQ_INT(tr_index_open(ixdir, &ix, err, sizeof err), 0);
        CHECK_EQ_INT(tr_reader_begin(ix, &r, err, sizeof err), 0);
        CHECK_EQ_INT(tr_reader_term(r, "delta", 5, &t2), TR_ECORRUPT);
        CHECK_EQ_INT(tr_reader_term(r, (const char *)bkey, bklen, &t2), TR_ECORRUPT);
        tr_reader_end(r);
        tr_index_close(ix);
        old[oldlen / 2] ^= 0x01;
        CHECK_EQ_INT(edit(TR_DB_TERMS, bkey, bklen, old, oldlen, NULL, NULL), 0);
        free(old);
        CHECK_EQ_INT(run_check(0), 0);
    }

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmproot);
    return check_done();
}
