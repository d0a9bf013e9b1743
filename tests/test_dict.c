/* test_dict.c - the term dictionary (common/dict.h): lookups, sorted
 * lookups and walks agree with what was applied; a small batch rewrites only
 * the blocks it touches, a large one rewrites the whole dictionary; blocks
 * stay within the node cap; and damaged blocks (a flipped byte, or bytes
 * with a valid checksum but a suffix past the end, a zero-length term, terms
 * out of order, a prefix longer than the previous term) are TR_ECORRUPT for
 * walks and for lookups that reach them (a flipped byte: for every lookup
 * in the block), never a crash. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "check.h"
#include "../common/dict.h"

static char tmproot[] = "/tmp/trawl_test_dict_XXXXXX";
static tr_index *ix;
static MDB_dbi dbi;

/* Term i of the synthetic vocabulary: sorted as i grows, with shared
 * prefixes of varied length ("t00042", "t00042a", ...). */
#define NT 6000
static size_t term_of(unsigned i, char *out)
{
    size_t n = (size_t)snprintf(out, 32, "t%05u", i / 3);
    if (i % 3 == 1) out[n++] = 'a';
    if (i % 3 == 2) { memcpy(out + n, "bcdefgh", 7); n += 7; }
    return n;
}

/* A value: nchunks 1, df, cf, no bound points, generation list (gen). */
static size_t value_of(uint64_t df, uint32_t gen, uint8_t *out)
{
    tr_term_info t = {0};
    uint8_t g[1] = { (uint8_t)gen };
    t.nchunks = 1;
    t.df = df;
    t.cf = df * 2;
    t.gens = g;
    t.gens_len = 1;
    return tr_term_value_encode(&t, out);
}

typedef struct upd_set {
    tr_dict_update *u;
    uint8_t *vals;
    char *terms;
    size_t n;
} upd_set;

/* Updates for terms [lo, hi) step step, values with df = i + 1 + bump. */
static void make_updates(upd_set *s, unsigned lo, unsigned hi, unsigned step, uint64_t bump)
{
    size_t cap = (hi - lo) / step + 1;
    s->u = calloc(cap, sizeof *s->u);
    s->vals = malloc(cap * TR_TERM_VALUE_MAX);
    s->terms = malloc(cap * 32);
    s->n = 0;
    for (unsigned i = lo; i < hi; i += step) {
        char *t = s->terms + s->n * 32;
        uint8_t *v = s->vals + s->n * TR_TERM_VALUE_MAX;
        size_t tl = term_of(i, t);
        size_t vl = value_of(i + 1 + bump, 1, v);
        s->u[s->n++] = (tr_dict_update){ (const uint8_t *)t, tl, i + 1, v, vl };
    }
}

static void free_updates(upd_set *s)
{
    free(s->u);
    free(s->vals);
    free(s->terms);
}

static int apply(const tr_dict_update *u, size_t n, tr_dict_apply_stats *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(ix->env, NULL, 0, &txn);
    if (rc) return rc;
    rc = tr_dict_apply(txn, dbi, u, n, UINT64_MAX, st);
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
    return rc;
}

/* Every term i in [0, NT) present iff present(i), with df = i + 1 + bump(i). */
typedef struct expect {
    unsigned present_mod;       /* term i absent when present_mod && i % present_mod == 1 */
    unsigned bump_mod;          /* df = i + 7 when bump_mod && i % bump_mod == 0 */
} expect;

static int walk_count(void *ctx, const uint8_t *term, size_t len, const tr_term_info *info)
{
    size_t *n = ctx;
    (void)term; (void)len; (void)info;
    (*n)++;
    return 0;
}

typedef struct order_ctx { char prev[TR_MAX_TERM_BYTES + 1]; size_t prevlen, n; int bad; } order_ctx;
static int walk_order(void *ctx, const uint8_t *term, size_t len, const tr_term_info *info)
{
    order_ctx *o = ctx;
    (void)info;
    if (o->n) {
        size_t m = len < o->prevlen ? len : o->prevlen;
        int c = memcmp(o->prev, term, m);
        if (c > 0 || (c == 0 && o->prevlen >= len)) o->bad++;
    }
    memcpy(o->prev, term, len);
    o->prevlen = len;
    o->n++;
    return 0;
}

static void verify(const expect *e, const char *what)
{
    MDB_txn *txn;
    CHECK_EQ_INT(mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn), 0);
    size_t bad = 0, present = 0;
    tr_dict_seek sk;
    CHECK_EQ_INT(tr_dict_seek_open(&sk, txn, dbi), 0);
    for (unsigned i = 0; i < NT; i++) {
        char t[32];
        size_t tl = term_of(i, t);
        int want = !(e->present_mod && i % e->present_mod == 1);
        uint64_t df = i + 1 + (e->bump_mod && i % e->bump_mod == 0 ? 7 : 0);
        tr_term_info ti, ts;
        int rc = tr_dict_get(txn, dbi, t, tl, &ti);
        int rs = tr_dict_seek_find(&sk, t, tl, &ts);
        if (rc != rs) bad++;
        if (want) {
            present++;
            if (rc || ti.term_id != i + 1 || ti.df != df || ti.nchunks != 1 || ts.df != df) bad++;
        } else if (rc != TR_ENOTFOUND) {
            bad++;
        }
    }
    tr_dict_seek_close(&sk);
    if (bad) fprintf(stderr, "%s: %zu bad lookups\n", what, bad);
    CHECK_EQ_INT(bad, 0);
    /* absent: before the first, between terms, after the last */
    tr_term_info ti;
    CHECK_EQ_INT(tr_dict_get(txn, dbi, "a", 1, &ti), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_dict_get(txn, dbi, "t00001b", 7, &ti), TR_ENOTFOUND);
    CHECK_EQ_INT(tr_dict_get(txn, dbi, "zzz", 3, &ti), TR_ENOTFOUND);
    order_ctx o = {0};
    CHECK_EQ_INT(tr_dict_walk(txn, dbi, NULL, 0, walk_order, &o), 0);
    CHECK_EQ_INT(o.bad, 0);
    CHECK_EQ_INT(o.n, present);
    size_t np = 0;
    CHECK_EQ_INT(tr_dict_walk(txn, dbi, "t0010", 5, walk_count, &np), 0);
    size_t wantp = 0;
    for (unsigned i = 300; i < 330; i++) wantp += !(e->present_mod && i % e->present_mod == 1);
    CHECK_EQ_INT(np, wantp);
    /* every block within the node cap, keyed by its last term */
    MDB_cursor *mc;
    MDB_val k, v;
    MDB_stat st;
    CHECK_EQ_INT(mdb_stat(txn, dbi, &st), 0);
    CHECK_EQ_INT(mdb_cursor_open(txn, dbi, &mc), 0);
    size_t over = 0, keybad = 0;
    for (int r = mdb_cursor_get(mc, &k, &v, MDB_FIRST); !r; r = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (8 + k.mv_size + v.mv_size > tr_dict_node_max(st.ms_psize)) over++;
        tr_dict_iter it;
        if (tr_dict_block_open(&it, v.mv_data, v.mv_size)) { keybad++; continue; }
        while (tr_dict_block_next(&it) == 1) {}
        if (it.len != k.mv_size || memcmp(it.term, k.mv_data, it.len)) keybad++;
    }
    mdb_cursor_close(mc);
    CHECK_EQ_INT(over, 0);
    CHECK_EQ_INT(keybad, 0);
    mdb_txn_abort(txn);
}

static size_t nblocks(void)
{
    MDB_txn *txn;
    MDB_stat st = {0};
    if (mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)) return 0;
    mdb_stat(txn, dbi, &st);
    mdb_txn_abort(txn);
    return st.ms_entries;
}

/* ---- hand-made blocks ---- */

typedef struct blk { uint8_t b[512]; size_t n; } blk;
static void blk_start(blk *b) { b->n = 4; }
static void blk_raw(blk *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static void blk_entry(blk *b, unsigned pfx, const char *sfx, unsigned sl, unsigned zzid)
{
    uint8_t val[TR_TERM_VALUE_MAX];
    size_t vl = value_of(3, 1, val);
    uint8_t h[2] = { (uint8_t)pfx, (uint8_t)sl };
    blk_raw(b, h, 2);
    blk_raw(b, sfx, strlen(sfx));
    uint8_t id = (uint8_t)zzid, l = (uint8_t)vl;
    blk_raw(b, &id, 1);
    blk_raw(b, &l, 1);
    blk_raw(b, val, vl);
}
static void blk_seal(blk *b)
{
    tr_put_le32(b->b, (uint32_t)XXH3_64bits(b->b + 4, b->n - 4));
}

static int iterate(const blk *b)
{
    tr_dict_iter it;
    int rc = tr_dict_block_open(&it, b->b, b->n);
    if (rc) return rc;
    while ((rc = tr_dict_block_next(&it)) == 1) {}
    return rc;
}

/* Store b alone under key in a fresh database and look up term there. */
static int lookup_in(const blk *b, const char *key, const char *term, int *walk_rc)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(ix->env, NULL, 0, &txn);
    if (rc) return rc;
    mdb_drop(txn, dbi, 0);
    MDB_val k = { strlen(key), (void *)key }, v = { b->n, (void *)b->b };
    rc = mdb_put(txn, dbi, &k, &v, 0);
    tr_term_info ti;
    if (!rc) rc = tr_dict_get(txn, dbi, term, strlen(term), &ti);
    size_t n = 0;
    *walk_rc = tr_dict_walk(txn, dbi, NULL, 0, walk_count, &n);
    mdb_txn_abort(txn);
    return rc;
}

static void test_bad_blocks(void)
{
    blk b;
    int wrc;
    /* sound: "abc" (id 1), "abd" (id 2), "b" (id 1) */
    blk_start(&b);
    blk_entry(&b, 0, "abc", 3, 2);
    blk_entry(&b, 2, "d", 1, 2);
    blk_entry(&b, 0, "b", 1, 1);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), 0);
    CHECK_EQ_INT(lookup_in(&b, "b", "abd", &wrc), 0);
    CHECK_EQ_INT(wrc, 0);
    CHECK_EQ_INT(lookup_in(&b, "b", "abb", &wrc), TR_ENOTFOUND);
    /* the key is not the last term: lookups between them and walks fail */
    CHECK_EQ_INT(lookup_in(&b, "c", "bb", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    /* a flipped byte */
    b.b[9] ^= 0x04;
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "b", "abd", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    /* a suffix length running past the end */
    blk_start(&b);
    blk_entry(&b, 0, "abc", 3, 2);
    blk_raw(&b, "\x00\x30" "ab", 4);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "b", "b", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    /* a zero-length term (first entry) and a zero-length suffix (a repeat) */
    blk_start(&b);
    blk_entry(&b, 0, "", 0, 2);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "a", "a", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    blk_start(&b);
    blk_entry(&b, 0, "abc", 3, 2);
    blk_entry(&b, 3, "", 0, 2);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "abd", "abd", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    /* terms out of order: "abd" then "abc" */
    blk_start(&b);
    blk_entry(&b, 0, "abd", 3, 2);
    blk_entry(&b, 2, "c", 1, 2);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "abd", "abd", &wrc), 0);  /* found before the bad entry */
    CHECK_EQ_INT(lookup_in(&b, "abe", "abe", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    /* a prefix longer than the previous term; a first entry with a prefix */
    blk_start(&b);
    blk_entry(&b, 0, "ab", 2, 2);
    blk_entry(&b, 5, "x", 1, 2);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "zz", "zz", &wrc), TR_ECORRUPT);
    CHECK_EQ_INT(wrc, TR_ECORRUPT);
    blk_start(&b);
    blk_entry(&b, 1, "ab", 2, 2);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    /* a term id of 0; an empty block; a value length past the end */
    blk_start(&b);
    blk_entry(&b, 0, "ab", 2, 0);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    blk_start(&b);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    blk_start(&b);
    blk_raw(&b, "\x00\x01" "a" "\x02" "\x7f" "\x01", 6);
    blk_seal(&b);
    CHECK_EQ_INT(iterate(&b), TR_ECORRUPT);
    CHECK_EQ_INT(lookup_in(&b, "a", "a", &wrc), TR_ECORRUPT);
}

int main(void)
{
    if (!mkdtemp(tmproot)) skip("cannot make a temporary directory");
    char dir[600], err[256];
    snprintf(dir, sizeof dir, "%s/ix", tmproot);
    CHECK_EQ_INT(tr_schema_open(dir, 0, 0, &ix, err, sizeof err), 0);
    dbi = ix->dbi[TR_DB_TERMS];

    /* the first batch into an empty dictionary: every third term, then the rest */
    upd_set s;
    tr_dict_apply_stats st;
    make_updates(&s, 0, NT, 3, 0);
    CHECK_EQ_INT(apply(s.u, s.n, &st), 0);
    CHECK_EQ_INT(st.blocks_before, 0);
    free_updates(&s);
    make_updates(&s, 0, NT, 1, 0);
    CHECK_EQ_INT(apply(s.u, s.n, &st), 0);
    CHECK_EQ_INT(st.rewrote, 1);        /* touches every block */
    free_updates(&s);
    expect e = { 0, 0 };
    verify(&e, "all terms");
    size_t nb = nblocks();
    CHECK(nb > 20);

    /* one term replaced: only its block is rewritten */
    make_updates(&s, 2100, 2101, 1, 7);
    CHECK_EQ_INT(apply(s.u, s.n, &st), 0);
    CHECK_EQ_INT(st.rewrote, 0);
    CHECK_EQ_INT(st.blocks_touched, 1);
    CHECK(st.blocks_written <= 2);
    free_updates(&s);
    CHECK(nblocks() <= nb + 1);
    e.bump_mod = 2100;                  /* i % 2100 == 0: terms 0, 2100, 4200 */
    make_updates(&s, 0, 1, 1, 7);
    CHECK_EQ_INT(apply(s.u, s.n, &st), 0);
    free_updates(&s);
    make_updates(&s, 4200, 4201, 1, 7);
    CHECK_EQ_INT(apply(s.u, s.n, &st), 0);
    CHECK_EQ_INT(st.rewrote, 0);
    free_updates(&s);
    verify(&e, "three replaced");

    /* a few deletions (every 997th term ...): in place */
    {
        tr_dict_update d[8];
        char t[8][32];
        size_t nd = 0;
        for (unsigned i = 1; i < NT && nd < 8; i += 997) {
            size_t tl = term_of(i, t[nd]);
            d[nd] = (tr_dict_update){ (const uint8_t *)t[nd], tl, 0, NULL, 0 };
            nd++;
        }
        CHECK_EQ_INT(apply(d, nd, &st), 0);
        CHECK_EQ_INT(st.rewrote, 0);
        CHECK(st.blocks_touched <= nd);
    }
    /* ... then every (i % 4 == 1)-th term deleted, a batch over many blocks:
     * the whole dictionary is rewritten */
    {
        size_t cap = NT / 4 + 1, nd = 0;
        tr_dict_update *d = calloc(cap, sizeof *d);
        char *t = malloc(cap * 32);
        for (unsigned i = 1; i < NT; i += 4) {
            size_t tl = term_of(i, t + nd * 32);
            d[nd] = (tr_dict_update){ (const uint8_t *)(t + nd * 32), tl, 0, NULL, 0 };
            nd++;
        }
        CHECK_EQ_INT(apply(d, nd, &st), 0);
        CHECK_EQ_INT(st.rewrote, 1);
        free(d);
        free(t);
    }
    /* every 997th is among i % 4 == 1 only by chance: re-insert them */
    {
        tr_dict_update d[8];
        char t[8][32];
        uint8_t v[8][TR_TERM_VALUE_MAX];
        size_t nd = 0;
        for (unsigned i = 1; i < NT && nd < 8; i += 997) {
            if (i % 4 == 1) continue;
            size_t tl = term_of(i, t[nd]);
            size_t vl = value_of(i + 1 + (i % 2100 == 0 ? 7 : 0), 1, v[nd]);
            d[nd] = (tr_dict_update){ (const uint8_t *)t[nd], tl, i + 1, v[nd], vl };
            nd++;
        }
        CHECK_EQ_INT(apply(d, nd, &st), 0);
        CHECK_EQ_INT(st.rewrote, 0);
    }
    e.present_mod = 4;
    verify(&e, "a quarter deleted");

    /* a term past the last block, and one before the first: in place */
    {
        uint8_t v[TR_TERM_VALUE_MAX];
        size_t vl = value_of(5, 1, v);
        tr_dict_update d = { (const uint8_t *)"zzz", 3, 99999, v, vl };
        CHECK_EQ_INT(apply(&d, 1, &st), 0);
        CHECK_EQ_INT(st.rewrote, 0);
        d.term = (const uint8_t *)"a";
        d.len = 1;
        d.term_id = 99998;
        CHECK_EQ_INT(apply(&d, 1, &st), 0);
        MDB_txn *txn;
        tr_term_info ti;
        CHECK_EQ_INT(mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn), 0);
        CHECK_EQ_INT(tr_dict_get(txn, dbi, "zzz", 3, &ti), 0);
        CHECK_EQ_INT(ti.term_id, 99999);
        CHECK_EQ_INT(tr_dict_get(txn, dbi, "a", 1, &ti), 0);
        CHECK_EQ_INT(ti.term_id, 99998);
        mdb_txn_abort(txn);
        d.val = NULL;
        CHECK_EQ_INT(apply(&d, 1, &st), 0);
        d.term = (const uint8_t *)"zzz";
        d.len = 3;
        CHECK_EQ_INT(apply(&d, 1, &st), 0);
    }
    verify(&e, "after the ends");

    /* unsorted or bad updates are refused */
    {
        uint8_t v[TR_TERM_VALUE_MAX];
        size_t vl = value_of(5, 1, v);
        tr_dict_update d[2] = { { (const uint8_t *)"b", 1, 1, v, vl }, { (const uint8_t *)"a", 1, 2, v, vl } };
        CHECK_EQ_INT(apply(d, 2, &st), TR_EINPUT);
        d[1].term = (const uint8_t *)"b";
        CHECK_EQ_INT(apply(d, 2, &st), TR_EINPUT);
        d[0].term_id = 0;
        CHECK_EQ_INT(apply(d, 1, &st), TR_EINPUT);
        d[0].term_id = 1;
        d[0].len = 0;
        CHECK_EQ_INT(apply(d, 1, &st), TR_EINPUT);
    }
    verify(&e, "after refused updates");

    test_bad_blocks();

    tr_index_close(ix);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmproot);
    return check_done();
}
