/* dict.c - the term dictionary (dict.h): the `terms` database as front-coded
 * blocks. Front coding (Witten, Moffat & Bell, "Managing Gigabytes"): each
 * term stored as the length it shares with the previous term and the rest,
 * restarting at every block, which is the unit of both storage and checksum.
 * Like Lucene's block-tree terms dictionary, but flat: LMDB's B-tree over
 * the blocks' last terms is the index.
 *
 * Layout (format version 5; docs/FORMAT.md `terms`):
 *
 *   key   the block's last term (1..TR_MAX_TERM_BYTES bytes)
 *   value csum u32 LE (XXH3_64 low 32 bits of the rest) | entry+
 *   entry prefix u8 (bytes shared with the previous term; 0 in the first
 *         entry) | suffix_len u8 (>= 1) | suffix
 *         | id v (zigzag of term id - previous entry's id; the first entry's
 *           previous id is 0) | vlen v | value (vlen bytes, schema.c
 *           tr_term_value_encode: nchunks v | ...)
 *
 * Terms strictly ascend within a block and across blocks, the last entry's
 * term is the key, so MDB_SET_RANGE(t) lands on the only block that can
 * hold t. A prefix is always the longest shared one, so the next suffix's
 * first byte must exceed the previous term's byte at that position: that
 * order check costs one compare per entry. A block node stays within
 * tr_dict_node_max (a whole number of blocks per leaf page). */
#include "dict.h"
#include "csum.h"

#include <stdlib.h>

static uint64_t zigzag(uint32_t id, uint32_t prev)
{
    int64_t d = (int64_t)id - (int64_t)prev;
    return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

/* tr_get_varint with the one-byte case inline: almost every varint of a
 * block (id deltas, value lengths) is one byte. */
static inline int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    if (*p < end && **p < 0x80) {
        *v = *(*p)++;
        return 0;
    }
    return tr_get_varint(p, end, v);
}

static int term_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

/* An LMDB result as TR_E*; TR_E* codes pass through. */
/* Count n block bytes read through mc's map; drop the map's pages every
 * TR_DICT_DROP_BYTES. */
static void note_read(MDB_cursor *mc, size_t *read, size_t n)
{
    *read += n;
    if (*read < TR_DICT_DROP_BYTES) return;
    *read = 0;
    tr_schema_drop_map(mdb_txn_env(mdb_cursor_txn(mc)));
}

static int lmdb_rc(int rc)
{
    return rc <= 0 && rc >= TR_ELMDB ? rc : tr_schema_lmdb_rc(rc);
}

/* ---- one block ---- */

int tr_dict_block_open(tr_dict_iter *it, const void *block, size_t len)
{
    it->len = 0;
    it->pfx = 0;
    it->term_id = 0;
    it->val = NULL;
    it->vlen = 0;
    it->n = 0;
    const uint8_t *b = block;
    if (len < 4 + 2 || tr_get_le32(b) != tr_csum32(b + 4, len - 4)) return TR_ECORRUPT;
    it->p = b + 4;
    it->end = b + len;
    return TR_OK;
}

int tr_dict_block_next(tr_dict_iter *it)
{
    const uint8_t *p = it->p, *end = it->end;
    if (p == end) return it->n ? 0 : TR_ECORRUPT;
    if (end - p < 2) return TR_ECORRUPT;
    size_t pfx = p[0], sl = p[1];
    p += 2;
    if (it->n == 0 ? pfx != 0 : pfx > it->len) return TR_ECORRUPT;
    if (sl == 0 || sl > (size_t)(end - p) || pfx + sl > TR_MAX_TERM_BYTES) return TR_ECORRUPT;
    /* the longest shared prefix: the next byte must grow */
    if (it->n && pfx < it->len && p[0] <= it->term[pfx]) return TR_ECORRUPT;
    memcpy(it->term + pfx, p, sl);
    it->pfx = pfx;
    it->len = pfx + sl;
    p += sl;
    uint64_t zz, vl;
    if (get_varint(&p, end, &zz) || get_varint(&p, end, &vl)) return TR_ECORRUPT;
    int64_t d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    int64_t id = (int64_t)it->term_id + d;
    if (zz > ((uint64_t)UINT32_MAX << 1) || id < 1 || id > (int64_t)UINT32_MAX) return TR_ECORRUPT;
    if (vl == 0 || vl > TR_TERM_VALUE_MAX || vl > (uint64_t)(end - p)) return TR_ECORRUPT;
    it->term_id = (uint32_t)id;
    it->val = p;
    it->vlen = (size_t)vl;
    it->p = p + vl;
    it->n++;
    return 1;
}

int tr_dict_entry_info(const tr_dict_iter *it, tr_term_info *out)
{
    int rc = tr_term_value_decode(out, it->val, it->vlen);
    out->term_id = it->term_id;
    return rc;
}

/* ---- reading ---- */

int tr_dict_get(MDB_txn *txn, MDB_dbi dbi, const void *term, size_t len, tr_term_info *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > TR_MAX_TERM_BYTES) return TR_ENOTFOUND;
    MDB_cursor *mc;
    int rc = mdb_cursor_open(txn, dbi, &mc);
    if (rc) return lmdb_rc(rc);
    MDB_val k = { len, (void *)term }, v;
    rc = mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE);
    mdb_cursor_close(mc);
    if (rc) return lmdb_rc(rc);
    /* The block is read up to the term (or the first term above it): the
     * checksum covers all of it, the lengths and order of the entries read
     * are checked; reaching the end means the key is not the last term. */
    tr_dict_iter it;
    if (tr_dict_block_open(&it, v.mv_data, v.mv_size)) return TR_ECORRUPT;
    const uint8_t *t = term;
    size_t m = 0;   /* bytes the previous term shares with t (it is below t) */
    while ((rc = tr_dict_block_next(&it)) == 1) {
        /* sharing less with the previous term than it shared with t puts
         * this term above t, sharing more keeps it below (front-coding
         * search, no compare); equal: compare from there */
        if (it.pfx != m) {
            if (it.pfx < m) return TR_ENOTFOUND;
            continue;
        }
        size_t i = m;
        while (i < it.len && i < len && it.term[i] == t[i]) i++;
        if (i == it.len && i == len) {
            if (tr_dict_entry_info(&it, out)) {
                memset(out, 0, sizeof *out);
                return TR_ECORRUPT;
            }
            return TR_OK;
        }
        if (i == len || (i < it.len && it.term[i] > t[i])) return TR_ENOTFOUND;
        m = i;
    }
    /* damage, or the key is >= term yet every entry is below it */
    return TR_ECORRUPT;
}

int tr_dict_seek_open(tr_dict_seek *s, MDB_txn *txn, MDB_dbi dbi)
{
    memset(s, 0, sizeof *s);
    int rc = mdb_cursor_open(txn, dbi, &s->mc);
    return rc ? lmdb_rc(rc) : TR_OK;
}

void tr_dict_seek_close(tr_dict_seek *s)
{
    if (s->mc) mdb_cursor_close(s->mc);
    s->mc = NULL;
}

int tr_dict_seek_find(tr_dict_seek *s, const void *term, size_t len, tr_term_info *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > TR_MAX_TERM_BYTES) return TR_ENOTFOUND;
    if (!s->have || term_cmp(term, len, s->key, s->klen) > 0) {
        MDB_val k = { len, (void *)term }, v;
        int rc = mdb_cursor_get(s->mc, &k, &v, MDB_SET_RANGE);
        s->have = 0;
        if (rc) return lmdb_rc(rc);
        if (k.mv_size == 0 || k.mv_size > TR_MAX_TERM_BYTES) return TR_ECORRUPT;
        memcpy(s->key, k.mv_data, k.mv_size);
        s->klen = k.mv_size;
        note_read(s->mc, &s->read, v.mv_size);
        if (tr_dict_block_open(&s->it, v.mv_data, v.mv_size)) return TR_ECORRUPT;
        s->have = 1;
        s->cur = 0;
    }
    for (;;) {
        if (s->cur) {
            int c = term_cmp(s->it.term, s->it.len, term, len);
            if (c == 0) return tr_dict_entry_info(&s->it, out) ? TR_ECORRUPT : TR_OK;
            if (c > 0) return TR_ENOTFOUND;
        }
        int rc = tr_dict_block_next(&s->it);
        if (rc != 1) {
            s->have = 0;
            return TR_ECORRUPT;   /* the end before the key, or damage */
        }
        s->cur = 1;
    }
}

int tr_dict_walk(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen, tr_dict_fn fn, void *ctx)
{
    if (plen > TR_MAX_TERM_BYTES) return TR_OK;   /* longer than any term */
    MDB_cursor *mc;
    int rc = mdb_cursor_open(txn, dbi, &mc);
    if (rc) return lmdb_rc(rc);
    MDB_val k = { plen, (void *)prefix }, v;
    rc = mdb_cursor_get(mc, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    int out = TR_OK, done = 0;
    for (; rc == 0 && !done; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        tr_dict_iter it;
        if (tr_dict_block_open(&it, v.mv_data, v.mv_size)) { out = TR_ECORRUPT; break; }
        int r;
        while ((r = tr_dict_block_next(&it)) == 1) {
            if (it.len < plen || (plen && memcmp(it.term, prefix, plen))) {
                if (term_cmp(it.term, it.len, prefix, plen) < 0) continue;
                done = 1;
                break;
            }
            tr_term_info info;
            if (tr_dict_entry_info(&it, &info)) { out = TR_ECORRUPT; break; }
            out = fn(ctx, it.term, it.len, &info);
            if (out) break;
        }
        if (out) break;
        if (r < 0) { out = r; break; }
        if (r == 0 && term_cmp(it.term, it.len, k.mv_data, k.mv_size)) { out = TR_ECORRUPT; break; }
    }
    if (rc && rc != MDB_NOTFOUND && !out) out = lmdb_rc(rc);
    mdb_cursor_close(mc);
    return out;
}

/* ---- writing ---- */

/* Fills blocks and hands each to emit. A block is cut before an entry that
 * would take its node past node_max, or its value past target (used to
 * split a rewritten block into even pieces). */
typedef struct builder {
    uint8_t blk[4096];
    size_t len;                 /* bytes in blk, csum room included */
    size_t node_max, target;
    uint8_t prev[TR_MAX_TERM_BYTES];
    size_t prevlen;
    uint32_t previd;
    size_t n;                   /* entries in blk */
    int (*emit)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
    void *ctx;
    size_t emitted;
} builder;

static void builder_init(builder *b, size_t node_max, int (*emit)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
                         void *ctx)
{
    b->len = 4;
    b->node_max = node_max < sizeof b->blk ? node_max : sizeof b->blk;
    b->target = b->node_max;
    b->prevlen = 0;
    b->previd = 0;
    b->n = 0;
    b->emit = emit;
    b->ctx = ctx;
    b->emitted = 0;
}

static int builder_flush(builder *b)
{
    if (!b->n) return TR_OK;
    tr_put_le32(b->blk, tr_csum32(b->blk + 4, b->len - 4));
    int rc = b->emit(b->ctx, b->prev, b->prevlen, b->blk, b->len);
    b->len = 4;
    b->n = 0;
    b->previd = 0;
    b->emitted++;
    return rc;
}

/* Bytes an entry takes after prev (prefix pfx). */
static size_t entry_bytes(size_t tl, size_t pfx, uint32_t id, uint32_t previd, size_t vl)
{
    return 2 + (tl - pfx) + tr_varint_len(zigzag(id, previd)) + tr_varint_len(vl) + vl;
}

static int builder_add(builder *b, const uint8_t *t, size_t tl, uint32_t id, const uint8_t *v, size_t vl)
{
    for (;;) {
        size_t pfx = 0;
        if (b->n) {
            size_t m = tl < b->prevlen ? tl : b->prevlen;
            while (pfx < m && b->prev[pfx] == t[pfx]) pfx++;
            if (pfx == tl) return TR_EINPUT;   /* not ascending */
        }
        size_t eb = entry_bytes(tl, pfx, id, b->n ? b->previd : 0, vl);
        if (b->n && (8 + tl + b->len + eb > b->node_max || b->len + eb > b->target)) {
            int rc = builder_flush(b);
            if (rc) return rc;
            continue;
        }
        if (b->len + eb > sizeof b->blk) return TR_EINPUT;
        uint8_t *p = b->blk + b->len;
        *p++ = (uint8_t)pfx;
        *p++ = (uint8_t)(tl - pfx);
        memcpy(p, t + pfx, tl - pfx);
        p += tl - pfx;
        p = tr_put_varint(p, zigzag(id, b->n ? b->previd : 0));
        p = tr_put_varint(p, vl);
        memcpy(p, v, vl);
        b->len += eb;
        memcpy(b->prev, t, tl);
        b->prevlen = tl;
        b->previd = id;
        b->n++;
        return TR_OK;
    }
}

/* The old entries merged with updates: one block (mc NULL) or every block
 * from the cursor's position on. */
typedef struct old_src {
    MDB_cursor *mc;
    tr_dict_iter it;
    int have;                   /* it holds an entry */
    size_t read;                /* see note_read */
} old_src;

static int old_next(old_src *o)
{
    for (;;) {
        int r = tr_dict_block_next(&o->it);
        if (r < 0) return r;
        if (r == 1) { o->have = 1; return TR_OK; }
        o->have = 0;
        if (!o->mc) return TR_OK;
        MDB_val k, v;
        int rc = mdb_cursor_get(o->mc, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND) return TR_OK;
        if (rc) return lmdb_rc(rc);
        note_read(o->mc, &o->read, v.mv_size);
        if (tr_dict_block_open(&o->it, v.mv_data, v.mv_size)) return TR_ECORRUPT;
    }
}

/* Feed the builder the old entries merged with u[0..n). */
static int merge(builder *b, old_src *o, const tr_dict_update *u, size_t n)
{
    size_t i = 0;
    int rc = TR_OK;
    while (!rc && (o->have || i < n)) {
        int c = !o->have ? 1 : i == n ? -1 : term_cmp(o->it.term, o->it.len, u[i].term, u[i].len);
        if (c < 0) {
            rc = builder_add(b, o->it.term, o->it.len, o->it.term_id, o->it.val, o->it.vlen);
            if (!rc) rc = old_next(o);
        } else {
            if (u[i].val) rc = builder_add(b, u[i].term, u[i].len, u[i].term_id, u[i].val, u[i].vlen);
            i++;
            if (!rc && c == 0) rc = old_next(o);
        }
    }
    return rc;
}

static int check_updates(const tr_dict_update *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (u[i].len == 0 || u[i].len > TR_MAX_TERM_BYTES) return TR_EINPUT;
        if (u[i].val && (u[i].term_id == 0 || u[i].vlen == 0 || u[i].vlen > TR_TERM_VALUE_MAX)) return TR_EINPUT;
        if (i && term_cmp(u[i - 1].term, u[i - 1].len, u[i].term, u[i].len) >= 0) return TR_EINPUT;
    }
    return TR_OK;
}

/* Blocks collected on the heap before they are put: records of
 * klen u8 | vlen u16 LE | key | value. */
static int emit_heap(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    tr_buf *out = ctx;
    uint8_t hdr[3] = { (uint8_t)klen, (uint8_t)vlen, (uint8_t)(vlen >> 8) };
    if (tr_buf_append(out, hdr, 3) || tr_buf_append(out, key, klen) || tr_buf_append(out, val, vlen))
        return TR_ENOMEM;
    return TR_OK;
}

static int put_heap(MDB_txn *txn, MDB_dbi dbi, const tr_buf *blocks, unsigned flags, size_t *written)
{
    for (size_t off = 0; off < blocks->len;) {
        const uint8_t *r = blocks->data + off;
        size_t kl = r[0], vl = (size_t)r[1] | (size_t)r[2] << 8;
        MDB_val k = { kl, (void *)(r + 3) }, v = { vl, (void *)(r + 3 + kl) };
        int rc = mdb_put(txn, dbi, &k, &v, flags);
        if (rc) return lmdb_rc(rc);
        (*written)++;
        off += 3 + kl + vl;
    }
    return TR_OK;
}

/* Index of the first update above key (updates sorted). */
static size_t updates_upto(const tr_dict_update *u, size_t lo, size_t n, const uint8_t *key, size_t klen)
{
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (term_cmp(u[mid].term, u[mid].len, key, klen) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Rebuild everything: old blocks merged with all updates into full blocks
 * on the heap, then the database emptied and written back in key order. */
static int apply_rewrite(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *mc, size_t node_max, const tr_dict_update *u,
                         size_t n, tr_dict_apply_stats *st)
{
    tr_buf blocks = {0};
    builder *b = malloc(sizeof *b);
    if (!b) return TR_ENOMEM;
    builder_init(b, node_max, emit_heap, &blocks);
    old_src o = { .mc = mc };
    MDB_val k, v;
    int rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST);
    if (rc == MDB_NOTFOUND) rc = TR_OK;
    else if (rc) rc = lmdb_rc(rc);
    else if (tr_dict_block_open(&o.it, v.mv_data, v.mv_size)) rc = TR_ECORRUPT;
    else rc = old_next(&o);
    if (!rc) rc = merge(b, &o, u, n);
    if (!rc) rc = builder_flush(b);
    free(b);
    tr_schema_drop_map(mdb_txn_env(txn));      /* the old blocks are all read */
    if (!rc && st->blocks_before) rc = lmdb_rc(mdb_drop(txn, dbi, 0));
    if (!rc) rc = put_heap(txn, dbi, &blocks, MDB_APPEND, &st->blocks_written);
    tr_buf_free(&blocks);
    st->rewrote = 1;
    return rc;
}

/* Rewrite only the blocks the updates fall into, one at a time. */
static int apply_in_place(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *mc, size_t node_max, const tr_dict_update *u,
                          size_t n, tr_dict_apply_stats *st)
{
    tr_buf old = {0}, blocks = {0};
    builder *b = malloc(sizeof *b);
    if (!b) return TR_ENOMEM;
    int rc = TR_OK;
    size_t read = 0;
    for (size_t i = 0; i < n && !rc;) {
        MDB_val k = { u[i].len, (void *)u[i].term }, v;
        int r = mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE);
        size_t j = n;
        if (r == MDB_NOTFOUND) {
            /* past the last block: the last block takes the rest */
            r = mdb_cursor_get(mc, &k, &v, MDB_LAST);
        } else if (!r) {
            j = updates_upto(u, i, n, k.mv_data, k.mv_size);
        }
        int have_old = 0;
        uint8_t key[TR_MAX_TERM_BYTES];
        size_t klen = 0;
        if (r == MDB_NOTFOUND) {
            j = n;                       /* an empty database */
        } else if (r) {
            rc = lmdb_rc(r);
            break;
        } else {
            if (k.mv_size == 0 || k.mv_size > TR_MAX_TERM_BYTES) { rc = TR_ECORRUPT; break; }
            memcpy(key, k.mv_data, k.mv_size);
            klen = k.mv_size;
            tr_buf_clear(&old);
            if (tr_buf_append(&old, v.mv_data, v.mv_size)) { rc = TR_ENOMEM; break; }
            note_read(mc, &read, v.mv_size);
            have_old = 1;
            st->blocks_touched++;
        }
        /* Merge greedily first: one block when it fits. Otherwise merge
         * again into as many even pieces, so that each has room for later
         * inserts (greedy pieces would leave full blocks that the next
         * insert splits again). */
        size_t pieces = 0, total = 0;
        for (int pass = 0; pass < 2 && !rc; pass++) {
            old_src o = { .mc = NULL };
            if (have_old) {
                if (tr_dict_block_open(&o.it, old.data, old.len)) { rc = TR_ECORRUPT; break; }
                if ((rc = old_next(&o))) break;
            }
            builder_init(b, node_max, emit_heap, &blocks);
            if (pass == 1) b->target = total / pieces + 32;
            tr_buf_clear(&blocks);
            rc = merge(b, &o, u + i, j - i);
            if (!rc) rc = builder_flush(b);
            if (pass == 0) {
                pieces = b->emitted;
                total = blocks.len;
                if (pieces < 2) break;
            }
        }
        if (rc) break;
        /* the old key goes unless a new block takes it over */
        int kept = 0;
        for (size_t off = 0; off < blocks.len;) {
            const uint8_t *rec = blocks.data + off;
            size_t kl = rec[0], vl = (size_t)rec[1] | (size_t)rec[2] << 8;
            if (have_old && !term_cmp(rec + 3, kl, key, klen)) kept = 1;
            off += 3 + kl + vl;
        }
        if (have_old && !kept) {
            MDB_val dk = { klen, key };
            r = mdb_del(txn, dbi, &dk, NULL);
            if (r) { rc = lmdb_rc(r); break; }
        }
        rc = put_heap(txn, dbi, &blocks, 0, &st->blocks_written);
        i = j;
    }
    free(b);
    tr_buf_free(&old);
    tr_buf_free(&blocks);
    return rc;
}

int tr_dict_apply(MDB_txn *txn, MDB_dbi dbi, const tr_dict_update *u, size_t n, uint64_t rewrite_max,
                  tr_dict_apply_stats *stp)
{
    tr_dict_apply_stats local;
    tr_dict_apply_stats *st = stp ? stp : &local;
    memset(st, 0, sizeof *st);
    int rc = check_updates(u, n);
    if (rc || n == 0) return rc;
    MDB_stat ms;
    rc = mdb_stat(txn, dbi, &ms);
    if (rc) return lmdb_rc(rc);
    st->blocks_before = ms.ms_entries;
    size_t node_max = tr_dict_node_max(ms.ms_psize);
    MDB_cursor *mc;
    rc = mdb_cursor_open(txn, dbi, &mc);
    if (rc) return lmdb_rc(rc);
    /* count the blocks the updates fall into: one seek per block */
    size_t touched = 0, read = 0;
    uint64_t bytes = (uint64_t)ms.ms_psize * (ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages);
    for (size_t i = 0; i < n && ms.ms_entries;) {
        MDB_val k = { u[i].len, (void *)u[i].term }, v;
        int r = mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE);
        touched++;
        if (r == MDB_NOTFOUND) break;
        if (r) { mdb_cursor_close(mc); return lmdb_rc(r); }
        note_read(mc, &read, v.mv_size);
        i = updates_upto(u, i, n, k.mv_data, k.mv_size);
        if (touched * TR_DICT_REWRITE_SHARE >= ms.ms_entries) break;
    }
    if (touched * TR_DICT_REWRITE_SHARE >= ms.ms_entries && bytes <= rewrite_max) {
        st->blocks_touched = touched;
        rc = apply_rewrite(txn, dbi, mc, node_max, u, n, st);
    } else {
        rc = apply_in_place(txn, dbi, mc, node_max, u, n, st);
    }
    mdb_cursor_close(mc);
    return rc;
}
