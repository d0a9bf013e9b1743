/* test_corrupt.c - damaged values never crash a reader and never pass the
 * checker: on a small index, every byte of a multi-block posting chunk, a
 * compact chunk, dictionary entries, stored documents and a block of stored
 * bodies is flipped, and each value is truncated at every length (values are
 * edited through the LMDB API, then restored). After each edit: --check must
 * report the damage, and a cursor walk (checksums on) must end in TR_ECORRUPT
 * or give exactly the original postings; with checksums off it must only not
 * crash (ASan build). */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "../common/check.h"
#include "../common/schema.h"

/* Values longer than this get a sample of flips and cuts, not every byte:
 * keeps the ASan run of this test within seconds. */
#define MAX_EXHAUSTIVE_BYTES 4096
#define SAMPLE_CASES 512

static char tmproot[] = "/tmp/trawl_test_corrupt_XXXXXX";
static char ixdir[600];
static unsigned long flips, cuts, detected;

/* A postings snapshot of one term, for comparing a walk with the original. */
typedef struct walk {
    uint32_t n;
    uint32_t docs[4096], tf[4096];
    uint64_t possum;
} walk;

static void build_index(void)
{
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    o.threads = 1;
    o.batch_docs = 0;
    tr_writer *w;
    char err[256];
    CHECK_EQ_INT(tr_writer_open(ixdir, &o, &w, err, sizeof err), 0);
    char id[32], body[512], title[64];
    for (int i = 0; i < 300; i++) {
        /* "common" in every doc: a 3-block chunk; "delta" in 100 docs, 5 times
         * each: a compact chunk too big to be inline; "rare" once; bodies of
         * varied length */
        snprintf(id, sizeof id, "doc-%d", i);
        snprintf(title, sizeof title, "Title %d common", i);
        int n = snprintf(body, sizeof body, "common words for document %d%s and more common text %s", i,
                         i == 150 ? " rare" : "", i % 3 ? "alpha beta gamma" : "delta delta delta delta delta");
        tr_doc_in d = { .id = id, .id_len = strlen(id), .title = title, .title_len = strlen(title),
                        .body = body, .body_len = (size_t)n, .date = TR_NO_DATE };
        CHECK_EQ_INT(tr_writer_add(w, &d, err, sizeof err), 0);
    }
    CHECK_EQ_INT(tr_writer_close(w, err, sizeof err), 0);
}

/* Walk a term's postings with positions; returns the cursor's final rc. */
static int walk_term(tr_index *ix, const char *term, int verify, walk *out)
{
    tr_reader *r;
    char err[256];
    memset(out, 0, sizeof *out);
    int rc = tr_reader_begin(ix, &r, err, sizeof err);
    if (rc) return rc;
    tr_term_info ti;
    rc = tr_reader_term(r, term, strlen(term), &ti);
    if (rc) { tr_reader_end(r); return rc; }
    tr_cursor c;
    rc = tr_cursor_open(r, &ti, 1, verify, &c);
    /* a bounded walk: damage must not make it loop */
    for (int steps = 0; !rc && c.doc != TR_DOC_END && steps < 100000; steps++) {
        if (out->n < 4096) {
            out->docs[out->n] = c.doc;
            out->tf[out->n] = c.tf[c.i];
            out->n++;
        }
        const uint32_t *pos;
        uint32_t np;
        if ((rc = tr_cursor_positions(&c, &pos, &np)) != 0) break;
        for (uint32_t i = 0; i < np; i++) out->possum += pos[i];
        rc = tr_cursor_next(&c);
    }
    if (!rc) rc = c.rc;
    tr_cursor_close(&c);
    tr_reader_end(r);
    return rc;
}

/* Read every stored document and its body (no crash is all we ask). */
static int read_docs(tr_index *ix)
{
    tr_reader *r;
    char err[256];
    int rc = tr_reader_begin(ix, &r, err, sizeof err), bad = 0;
    if (rc) return rc;
    tr_buf b = {0};
    for (uint32_t d = 1; d < tr_reader_stats(r)->next_doc; d++) {
        tr_doc_view v;
        if (tr_reader_doc(r, d, &v) || tr_reader_doc_body(r, d, &b)) bad++;
    }
    tr_buf_free(&b);
    tr_reader_end(r);
    return bad ? TR_ECORRUPT : 0;
}

static int put_value(int dbi, const MDB_val *key, const void *val, size_t len)
{
    tr_index *ix;
    char err[256];
    int rc = tr_schema_open(ixdir, 0, 0, &ix, err, sizeof err);
    if (rc) return rc;
    MDB_txn *txn;
    /* no fsync per edit: thousands of edits, and a crash here loses nothing */
    mdb_env_set_flags(ix->env, MDB_NOSYNC, 1);
    rc = mdb_txn_begin(ix->env, NULL, 0, &txn);
    if (!rc) {
        MDB_val v = { len, (void *)val };
        rc = mdb_put(txn, ix->dbi[dbi], (MDB_val *)key, &v, 0);
        if (rc) mdb_txn_abort(txn);
        else rc = mdb_txn_commit(txn);
    }
    tr_index_close(ix);
    return rc;
}

static int get_value(int dbi, const MDB_val *key, uint8_t **out, size_t *len)
{
    tr_index *ix;
    char err[256];
    int rc = tr_schema_open(ixdir, 1, 0, &ix, err, sizeof err);
    if (rc) return rc;
    MDB_txn *txn;
    rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);
    MDB_val v;
    if (!rc && !(rc = mdb_get(txn, ix->dbi[dbi], (MDB_val *)key, &v))) {
        *out = malloc(v.mv_size ? v.mv_size : 1);
        memcpy(*out, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    if (!rc || txn) mdb_txn_abort(txn);
    tr_index_close(ix);
    return rc;
}

/* One damaged case: the checker must see it; the term walk must fail or be
 * exact; reading documents and the unverified walk must just return. */
static void one_case(const char *term, const walk *want)
{
    tr_check_counts n;
    char err[256];
    int crc = tr_check_index(ixdir, 0, NULL, NULL, &n, err, sizeof err);
    CHECK(crc == TR_ECORRUPT);
    if (crc == TR_ECORRUPT) detected++;
    tr_index *ix;
    if (tr_index_open(ixdir, &ix, err, sizeof err)) return; /* a refused open is a reported error */
    walk got;
    int rc = walk_term(ix, term, 1, &got);
    if (rc == 0) {
        CHECK_EQ_INT(got.n, want->n);
        CHECK(!memcmp(got.docs, want->docs, sizeof got.docs[0] * want->n));
        CHECK(!memcmp(got.tf, want->tf, sizeof got.tf[0] * want->n));
        CHECK(got.possum == want->possum);
    }
    walk_term(ix, term, 0, &got);
    read_docs(ix);
    tr_index_close(ix);
}

/* Flip bytes and cut the value at dbi/key; term is what to walk afterwards. */
static void damage_value(const char *what, int dbi, const void *kp, size_t klen, const char *term)
{
    MDB_val key = { klen, (void *)kp };
    uint8_t *orig = NULL;
    size_t len = 0;
    if (get_value(dbi, &key, &orig, &len)) {
        fprintf(stderr, "%s: value not found\n", what);
        CHECK(0);
        return;
    }
    tr_index *ix;
    char err[256];
    walk want;
    CHECK_EQ_INT(tr_index_open(ixdir, &ix, err, sizeof err), 0);
    CHECK_EQ_INT(walk_term(ix, term, 1, &want), 0);
    tr_index_close(ix);
    uint8_t *buf = malloc(len + 1);
    unsigned long f0 = flips, c0 = cuts;
    unsigned seed = 12345;
    size_t ncases = len <= MAX_EXHAUSTIVE_BYTES ? len : SAMPLE_CASES;
    for (size_t k = 0; k < ncases; k++) {
        size_t i = len <= MAX_EXHAUSTIVE_BYTES ? k : (size_t)rand_r(&seed) % len;
        memcpy(buf, orig, len);
        buf[i] ^= (uint8_t)(1u << (k % 8)) | 0x01; /* one or two bits, varying */
        if (put_value(dbi, &key, buf, len)) { CHECK(0); break; }
        flips++;
        one_case(term, &want);
    }
    for (size_t k = 0; k < ncases; k++) {
        size_t cut = len <= MAX_EXHAUSTIVE_BYTES ? k : (size_t)rand_r(&seed) % len;
        if (put_value(dbi, &key, orig, cut)) { CHECK(0); break; }
        cuts++;
        one_case(term, &want);
    }
    CHECK_EQ_INT(put_value(dbi, &key, orig, len), 0);
    CHECK_EQ_INT(tr_check_index(ixdir, 0, NULL, NULL, NULL, err, sizeof err), 0);
    fprintf(stderr, "%s (%zu bytes): %lu flips, %lu truncations\n", what, len, flips - f0, cuts - c0);
    free(buf);
    free(orig);
}

static uint32_t term_id_of(const char *term, int *is_inline)
{
    tr_index *ix;
    tr_reader *r;
    char err[256];
    tr_term_info ti = {0};
    if (tr_index_open(ixdir, &ix, err, sizeof err)) return 0;
    if (!tr_reader_begin(ix, &r, err, sizeof err)) {
        tr_reader_term(r, term, strlen(term), &ti);
        tr_reader_end(r);
    }
    tr_index_close(ix);
    *is_inline = ti.inline_chunk != NULL;
    return ti.term_id;
}

/* The key of the dictionary block that holds term (0 if none). */
static size_t block_key_of(const char *term, uint8_t *key)
{
    tr_index *ix;
    char err[256];
    size_t kl = 0;
    if (tr_schema_open(ixdir, 1, 0, &ix, err, sizeof err)) return 0;
    MDB_txn *txn;
    MDB_cursor *mc;
    if (!mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) {
        MDB_val k = { strlen(term), (void *)term }, v;
        if (!mdb_cursor_open(txn, ix->dbi[TR_DB_TERMS], &mc)) {
            if (!mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE) && k.mv_size <= TR_MAX_TERM_BYTES) {
                kl = k.mv_size;
                memcpy(key, k.mv_data, kl);
            }
            mdb_cursor_close(mc);
        }
        mdb_txn_abort(txn);
    }
    tr_index_close(ix);
    return kl;
}

int main(void)
{
    if (!mkdtemp(tmproot)) skip("cannot make a temporary directory");
    snprintf(ixdir, sizeof ixdir, "%s/ix", tmproot);
    build_index();
    char err[256];
    CHECK_EQ_INT(tr_check_index(ixdir, 0, NULL, NULL, NULL, err, sizeof err), 0);

    int inl;
    uint32_t common = term_id_of("common", &inl);
    CHECK(common != 0 && !inl);
    uint8_t key[TR_POSTINGS_KEY_BYTES];
    tr_key_posting(key, 1, common, 1); /* one commit: generation 1 */
    damage_value("postings: 3-block chunk of 'common'", TR_DB_POSTINGS, key, sizeof key, "common");
    uint32_t delta = term_id_of("delta", &inl);
    CHECK(delta != 0 && !inl);
    tr_key_posting(key, 1, delta, 1);
    damage_value("postings: compact chunk of 'delta'", TR_DB_POSTINGS, key, sizeof key, "delta");
    {
        /* dictionary blocks (keyed by their last term): the one holding
         * 'common' (not inline) and, if another, the one holding 'rare' */
        uint8_t kc[TR_MAX_TERM_BYTES], kr[TR_MAX_TERM_BYTES];
        size_t kcl = block_key_of("common", kc), krl = block_key_of("rare", kr);
        CHECK(kcl > 0 && krl > 0);
        damage_value("terms: block holding 'common'", TR_DB_TERMS, kc, kcl, "common");
        if (krl != kcl || memcmp(kc, kr, kcl))
            damage_value("terms: block holding the inline 'rare'", TR_DB_TERMS, kr, krl, "rare");
        else
            damage_value("terms: the same block, walking the inline 'rare'", TR_DB_TERMS, kr, krl, "rare");
    }
    uint8_t dk[4];
    tr_key_u32(dk, 151);
    damage_value("docs: doc 151", TR_DB_DOCS, dk, 4, "rare");
    {
        /* the block holding doc 151's body */
        MDB_val k151 = { 4, dk };
        uint8_t *v = NULL;
        size_t vl = 0;
        tr_doc_rec rec;
        CHECK_EQ_INT(get_value(TR_DB_DOCS, &k151, &v, &vl), 0);
        CHECK_EQ_INT(v ? tr_doc_value_decode(&rec, v, vl) : -1, 0);
        CHECK(rec.body_len > 0);
        uint8_t bk[TR_DOC_BLOCK_KEY_BYTES];
        tr_key_doc_block(bk, 151 + rec.block_ahead);
        damage_value("docs: body block of doc 151", TR_DB_DOCS, bk, sizeof bk, "rare");
        free(v);
    }
    tr_key_u32(dk, 0);
    damage_value("norms: first value", TR_DB_NORMS, dk, 4, "common");

    fprintf(stderr, "total: %lu bytes flipped, %lu truncations, %lu detected by the checker, 0 crashes\n",
            flips, cuts, detected);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmproot);
    return check_done();
}
