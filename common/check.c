/* check.c - the integrity checker (check.h): one read transaction over the
 * whole index, every value decoded and every cross-reference compared.
 * Order: meta, norms and deleted (loaded, as the reader does), terms (each
 * entry remembered by term id), postings (every block and its positions
 * decoded, sums compared with the dictionary), docs, ids. */
#include "check.h"

#include "dict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

/* A block whose positions would exceed this many values is reported rather
 * than decoded: the tf values that sum to it come from disk. */
#define CHECK_MAX_BLOCK_POSITIONS ((uint64_t)1 << 28)
/* Largest body we agree to decompress while checking (same bound as the
 * reader's; the check decompresses in bounded pieces anyway). */
#define CHECK_MAX_BODY_BYTES ((uint64_t)1 << 32)
/* Bytes of a key shown in a report (escaped). */
#define CHECK_KEY_SHOWN 80

typedef struct term_rec {
    uint64_t df, cf;            /* from the dictionary */
    uint64_t seen_df, seen_cf;  /* summed over the chunks read */
    uint32_t nchunks, seen_chunks;
    uint32_t last_doc;          /* last doc of the previous chunk read */
    /* the generation list (borrowed from the snapshot): gen is the last
     * generation chunks were read from, gnext the list after it */
    const uint8_t *gnext, *gend;
    uint32_t gen;
    tr_bound bound;
    uint8_t present, is_inline;
} term_rec;

typedef struct checker {
    tr_index *ix;
    MDB_txn *txn;
    int quick;
    tr_check_fn fn;
    void *ctx;
    tr_check_counts n;
    tr_stats stats;
    int have_stats;
    const uint8_t **norms;
    uint32_t *norms_n;
    size_t nnorms;
    uint64_t *deleted, *present;  /* bitmaps over [0, next_doc) */
    size_t nwords;
    term_rec *terms;              /* by term id, [0, next_term) */
    size_t nterms;
    uint32_t *pos;
    size_t pos_cap;
    ZSTD_DCtx *zd;
    uint8_t *zout;
} checker;

static void problem(checker *c, const char *db, const char *key, const char *fmt, ...)
{
    c->n.problems++;
    if (!c->fn || c->n.problems > TR_CHECK_MAX_REPORTS) return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->fn(c->ctx, db, key, what);
}

/* Printable key: bytes outside printable ASCII as \xNN. */
static const char *show_bytes(char *out, size_t cap, const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t o = 0;
    for (size_t i = 0; i < len && i < CHECK_KEY_SHOWN && o + 5 < cap; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') out[o++] = (char)b[i];
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b[i]);
    }
    if (len > CHECK_KEY_SHOWN && o + 4 < cap) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
    return out;
}

static const char *show_doc(char *out, size_t cap, uint32_t doc)
{
    snprintf(out, cap, "doc %u", doc);
    return out;
}

static int bit_get(const uint64_t *bm, size_t nwords, uint32_t i)
{
    return (i >> 6) < nwords && (bm[i >> 6] >> (i & 63) & 1);
}

static void bit_set(uint64_t *bm, size_t nwords, uint32_t i)
{
    if ((i >> 6) < nwords) bm[i >> 6] |= (uint64_t)1 << (i & 63);
}

static const uint8_t *norm_entry(const checker *c, uint32_t doc)
{
    size_t key = doc >> TR_NORMS_SHIFT;
    uint32_t i = doc & (TR_NORMS_PER_KEY - 1);
    if (key >= c->nnorms || !c->norms[key] || i >= c->norms_n[key]) return NULL;
    return c->norms[key] + (size_t)i * TR_NORM_BYTES;
}

/* ---- meta, norms, deleted ---- */

static int check_meta(checker *c, char *err, size_t errcap)
{
    int rc = tr_schema_check_format(c->ix, c->txn, err, errcap);
    if (rc) return rc;
    MDB_dbi meta = c->ix->dbi[TR_DB_META];
    MDB_val k = { 5, (void *)"stats" }, v;
    rc = mdb_get(c->txn, meta, &k, &v);
    if (rc) problem(c, "meta", "stats", "missing (%s)", mdb_strerror(rc));
    else if (tr_stats_decode(&c->stats, v.mv_data, v.mv_size))
        problem(c, "meta", "stats", "undecodable (%zu bytes)", v.mv_size);
    else c->have_stats = 1;
    k = (MDB_val){ 8, (void *)"settings" };
    tr_settings st;
    rc = mdb_get(c->txn, meta, &k, &v);
    if (rc) problem(c, "meta", "settings", "missing (%s)", mdb_strerror(rc));
    else if (tr_settings_decode(&st, v.mv_data, v.mv_size))
        problem(c, "meta", "settings", "not understood");
    return TR_OK;
}

static int check_norms(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_NORMS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[32];
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) {
            problem(c, "norms", show_bytes(key, sizeof key, k.mv_data, k.mv_size), "key is not 4 bytes");
            continue;
        }
        uint32_t nk = tr_get_be32(k.mv_data);
        snprintf(key, sizeof key, "%u", nk);
        if (v.mv_size % TR_NORM_BYTES || v.mv_size > (size_t)TR_NORMS_PER_KEY * TR_NORM_BYTES) {
            problem(c, "norms", key, "value of %zu bytes is not a whole number of entries", v.mv_size);
            continue;
        }
        if (nk >= c->nnorms) {
            problem(c, "norms", key, "beyond next_doc %u", c->stats.next_doc);
            continue;
        }
        c->norms[nk] = v.mv_data;
        c->norms_n[nk] = (uint32_t)(v.mv_size / TR_NORM_BYTES);
        if (nk == 0 && v.mv_size && !c->quick) {
            const uint8_t *e = v.mv_data; /* doc 0 is never assigned: lengths 0, no date */
            if (tr_get_le32(e) || tr_get_le32(e + 4) || (int64_t)tr_get_le64(e + 8) != TR_NO_DATE)
                problem(c, "norms", "0", "entry of doc 0 (never assigned) is not empty");
        }
    }
    mdb_cursor_close(mc);
    return rc == MDB_NOTFOUND ? TR_OK : tr_schema_lmdb_rc(rc);
}

static int check_deleted(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_DELETED], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[CHECK_KEY_SHOWN * 4 + 8];
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) {
            problem(c, "deleted", show_bytes(key, sizeof key, k.mv_data, k.mv_size), "key is not 4 bytes");
            continue;
        }
        uint32_t d = tr_get_be32(k.mv_data);
        show_doc(key, sizeof key, d);
        if (v.mv_size) problem(c, "deleted", key, "value is not empty");
        if (d == 0 || d >= c->stats.next_doc) {
            if (!c->quick) problem(c, "deleted", key, "doc id outside 1..next_doc-1");
        } else {
            bit_set(c->deleted, c->nwords, d);
        }
        c->n.deleted++;
    }
    mdb_cursor_close(mc);
    if (rc != MDB_NOTFOUND) return tr_schema_lmdb_rc(rc);
    if (!c->quick && c->n.deleted != c->stats.deleted)
        problem(c, "meta", "stats", "deleted = %llu but the deleted set holds %llu",
                (unsigned long long)c->stats.deleted, (unsigned long long)c->n.deleted);
    return TR_OK;
}

/* ---- chunks ---- */

/* Does some point of bd dominate (tf, dl)? Values saturate at TR_SAT16. */
static int bound_covers(const tr_bound *bd, uint64_t tf, uint64_t dl)
{
    uint16_t t = tf > TR_SAT16 ? TR_SAT16 : (uint16_t)tf, d = dl > TR_SAT16 ? TR_SAT16 : (uint16_t)dl;
    for (unsigned i = 0; i < bd->npoints && i < TR_BOUND_POINTS; i++)
        if (bd->pt[i].tf >= t && bd->pt[i].dl <= d) return 1;
    return 0;
}

static int bound_covers_bound(const tr_bound *outer, const tr_bound *inner)
{
    if (inner->max_ttf > outer->max_ttf) return 0;
    for (unsigned i = 0; i < inner->npoints && i < TR_BOUND_POINTS; i++)
        if (!bound_covers(outer, inner->pt[i].tf, inner->pt[i].dl)) return 0;
    return 1;
}

/* Decode every block of one chunk; t may be NULL (term unknown). */
static int check_chunk(checker *c, const char *db, const char *key, term_rec *t,
                       const void *data, size_t len, uint32_t key_first)
{
    tr_chunk ch;
    /* an inline chunk (terms, no key) has no checksum of its own: the
     * dictionary value's, verified before this, covers it */
    int rc_open = key_first == 0 && strcmp(db, "terms") == 0 ? tr_chunk_open_inline(&ch, data, len)
                                                             : tr_chunk_open(&ch, data, len);
    if (rc_open) {
        problem(c, db, key, "chunk does not open (checksum, header or directory damaged)");
        return TR_OK;
    }
    c->n.chunks++;
    if (key_first && ch.first_doc != key_first)
        problem(c, db, key, "chunk first doc %u differs from its key's %u", ch.first_doc, key_first);
    if (!c->quick && t) {
        if (t->seen_chunks && ch.first_doc <= t->last_doc)
            problem(c, db, key, "chunk starts at doc %u, not after the previous chunk's last doc %u",
                    ch.first_doc, t->last_doc);
        if (ch.last_doc >= c->stats.next_doc)
            problem(c, db, key, "last doc %u >= next_doc %u", ch.last_doc, c->stats.next_doc);
        if (!bound_covers_bound(&t->bound, &ch.bound))
            problem(c, db, key, "chunk bound exceeds the term's bound");
        t->seen_chunks++;
        t->last_doc = ch.last_doc;
    }
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    uint32_t prev = 0;
    uint64_t ndocs = 0;
    for (uint32_t b = 0; b < ch.nblocks; b++) {
        c->n.blocks++;
        int n = tr_chunk_block_decode(&ch, b, 1, docs, tf, ttf);
        if (n < 0) {
            problem(c, db, key, "block %u of %u fails to decode (checksum or widths)", b, ch.nblocks);
            continue;
        }
        ndocs += (uint64_t)n;
        uint64_t sum = 0;
        for (int i = 0; i < n; i++) sum += tf[i];
        if (ch.has_positions) {
            if (sum > CHECK_MAX_BLOCK_POSITIONS) {
                problem(c, db, key, "block %u claims %llu positions", b, (unsigned long long)sum);
            } else {
                if (sum > c->pos_cap) {
                    uint32_t *np = realloc(c->pos, (size_t)sum * sizeof *np);
                    if (!np) return TR_ENOMEM;
                    c->pos = np;
                    c->pos_cap = (size_t)sum;
                }
                uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
                for (int i = 0; i < n; i++) {   /* the positions' code needs them */
                    const uint8_t *e = norm_entry(c, docs[i]);
                    tl[i] = e ? tr_get_le32(e) : 0;
                    bl[i] = e ? tr_get_le32(e + 4) : 0;
                }
                int np = tr_chunk_block_positions(&ch, b, 1, tf, (uint32_t)n, tl, bl, c->pos, c->pos_cap);
                if (np < 0) problem(c, db, key, "positions of block %u fail to decode", b);
                else if ((uint64_t)np != sum)
                    problem(c, db, key, "block %u has %d positions, its tf values sum to %llu", b, np,
                            (unsigned long long)sum);
                else c->n.positions += (uint64_t)np;
            }
        }
        c->n.postings += (uint64_t)n;
        if (c->quick) continue;
        tr_bound bb;
        tr_chunk_block_bound(&ch, b, &bb);
        if (!bound_covers_bound(&ch.bound, &bb))
            problem(c, db, key, "block %u bound exceeds the chunk bound", b);
        for (int i = 0; i < n; i++) {
            if ((b || i) && docs[i] <= prev) {
                problem(c, db, key, "doc ids not increasing at block %u: %u after %u", b, docs[i], prev);
                break;
            }
            prev = docs[i];
            if (docs[i] == 0 || docs[i] >= c->stats.next_doc) {
                problem(c, db, key, "doc id %u outside 1..next_doc-1", docs[i]);
                break;
            }
            if (!bit_get(c->present, c->nwords, docs[i]) && !bit_get(c->deleted, c->nwords, docs[i])) {
                /* present is filled by the docs pass, which runs first */
                problem(c, db, key, "posting for doc %u, which has no stored document", docs[i]);
                break;
            }
            const uint8_t *ne = norm_entry(c, docs[i]);
            uint64_t tl = ne ? tr_get_le32(ne) : 0, bl = ne ? tr_get_le32(ne + 4) : 0;
            if (tf[i] == 0 || ttf[i] > tf[i] || ttf[i] > tl || tf[i] - ttf[i] > bl) {
                problem(c, db, key, "doc %u: tf %u / title tf %u do not fit its lengths %llu / %llu",
                        docs[i], tf[i], ttf[i], (unsigned long long)tl, (unsigned long long)bl);
                break;
            }
            if (!bound_covers(&bb, tf[i], tl + bl) || ttf[i] > bb.max_ttf) {
                problem(c, db, key, "doc %u is not covered by its block's score bound", docs[i]);
                break;
            }
        }
        if (t) { t->seen_cf += sum; }
    }
    if (ndocs != ch.ndocs)
        problem(c, db, key, "chunk says %u postings, its blocks hold %llu", ch.ndocs, (unsigned long long)ndocs);
    if (t) t->seen_df += ndocs;
    return TR_OK;
}

/* ---- terms ---- */

static void check_term_entry(checker *c, const char *key, const tr_dict_iter *it, int *rc)
{
    c->n.terms++;
    tr_term_info ti;
    if (tr_dict_entry_info(it, &ti)) {
        problem(c, "terms", key, "value does not decode");
        return;
    }
    term_rec *t = NULL;
    if (!c->quick) {
        if (ti.term_id >= c->nterms) {
            problem(c, "terms", key, "term id %u >= next_term %zu", ti.term_id, c->nterms);
        } else if (c->terms[ti.term_id].present) {
            problem(c, "terms", key, "term id %u is used by another term too", ti.term_id);
        } else {
            t = &c->terms[ti.term_id];
            t->present = 1;
            t->df = ti.df;
            t->cf = ti.cf;
            t->nchunks = ti.nchunks;
            t->bound = ti.bound;
            t->is_inline = ti.inline_chunk != NULL;
            t->gnext = ti.gens;
            t->gend = ti.gens + ti.gens_len;
        }
    }
    if (ti.inline_chunk) *rc = check_chunk(c, "terms", key, t, ti.inline_chunk, ti.inline_len, 0);
}

/* The dictionary's blocks (dict.c): each one's checksum and entries, the
 * order of terms across blocks, and that a block's key is its last term.
 * A damaged block is reported by its key and skipped. */
static int check_terms(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_TERMS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[CHECK_KEY_SHOWN * 4 + 8], bkey[CHECK_KEY_SHOWN * 4 + 32];
    uint8_t prev[TR_MAX_TERM_BYTES];
    size_t prevlen = 0;
    int have_prev = 0;
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        snprintf(bkey, sizeof bkey, "block %s", show_bytes(key, sizeof key, k.mv_data, k.mv_size));
        if (k.mv_size == 0 || k.mv_size > TR_MAX_TERM_BYTES) {
            problem(c, "terms", bkey, "key of %zu bytes (a term: 1..%d)", k.mv_size, TR_MAX_TERM_BYTES);
            continue;
        }
        tr_dict_iter it;
        if (tr_dict_block_open(&it, v.mv_data, v.mv_size)) {
            problem(c, "terms", bkey, "block fails its checksum");
            continue;
        }
        int r, crc = 0;
        while ((r = tr_dict_block_next(&it)) == 1) {
            if (it.n == 1 && have_prev) {
                size_t m = it.len < prevlen ? it.len : prevlen;
                int cmp = memcmp(it.term, prev, m);
                if (cmp < 0 || (cmp == 0 && it.len <= prevlen))
                    problem(c, "terms", bkey, "first term is not above the previous block's last");
            }
            show_bytes(key, sizeof key, it.term, it.len);
            check_term_entry(c, key, &it, &crc);
            if (crc) break;
        }
        if (crc) { rc = crc; break; }
        if (r < 0) {
            problem(c, "terms", bkey, "entry %zu does not decode (lengths, order or id)", it.n + 1);
            continue;
        }
        if (it.len != k.mv_size || memcmp(it.term, k.mv_data, it.len))
            problem(c, "terms", bkey, "key is not the block's last term");
        memcpy(prev, k.mv_data, k.mv_size);
        prevlen = k.mv_size;
        have_prev = 1;
    }
    mdb_cursor_close(mc);
    if (rc && rc != MDB_NOTFOUND) return rc < 0 ? rc : tr_schema_lmdb_rc(rc);
    if (!c->quick && c->n.terms != c->stats.terms)
        problem(c, "meta", "stats", "terms = %llu but the dictionary holds %llu",
                (unsigned long long)c->stats.terms, (unsigned long long)c->n.terms);
    return TR_OK;
}

static int check_postings(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_POSTINGS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[CHECK_KEY_SHOWN * 4 + 8];
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size != TR_POSTINGS_KEY_BYTES) {
            problem(c, "postings", show_bytes(key, sizeof key, k.mv_data, k.mv_size), "key is not %d bytes",
                    TR_POSTINGS_KEY_BYTES);
            continue;
        }
        const uint8_t *kb = k.mv_data;
        uint32_t gen = tr_get_be32(kb), tid = tr_get_be32(kb + 4), first = tr_get_be32(kb + 8);
        snprintf(key, sizeof key, "generation %u, term id %u, first doc %u", gen, tid, first);
        if (gen == 0 || gen > c->stats.generation)
            problem(c, "postings", key, "generation outside 1..%u (meta stats)", c->stats.generation);
        term_rec *t = NULL;
        if (!c->quick) {
            if (tid >= c->nterms || !c->terms[tid].present) {
                problem(c, "postings", key, "chunk of a term id the dictionary does not have");
            } else if (c->terms[tid].is_inline) {
                problem(c, "postings", key, "chunk of a term stored inline");
            } else {
                t = &c->terms[tid];
                /* keys sort by generation: a term's chunks come a listed
                 * generation at a time, in the list's order */
                if (gen != t->gen) {
                    uint32_t want = 0;
                    if (!tr_gens_next(&t->gnext, t->gend, t->gen, &want) || want != gen)
                        problem(c, "postings", key, "chunk in a generation the term does not list (next listed: %u)",
                                want);
                    t->gen = gen;
                }
            }
        }
        if ((rc = check_chunk(c, "postings", key, t, v.mv_data, v.mv_size, first))) break;
    }
    mdb_cursor_close(mc);
    if (rc && rc != MDB_NOTFOUND) return rc < 0 ? rc : tr_schema_lmdb_rc(rc);
    if (c->quick) return TR_OK;
    for (size_t i = 1; i < c->nterms; i++) {
        term_rec *t = &c->terms[i];
        if (!t->present) continue;
        snprintf(key, sizeof key, "term id %zu", i);
        if (t->seen_chunks != t->nchunks)
            problem(c, "terms", key, "says %u chunks, %u found", t->nchunks, t->seen_chunks);
        if (t->gnext != t->gend)
            problem(c, "terms", key, "lists a generation that holds none of its chunks");
        if (t->seen_df != t->df)
            problem(c, "terms", key, "df %llu, postings hold %llu", (unsigned long long)t->df,
                    (unsigned long long)t->seen_df);
        if (t->seen_cf != t->cf)
            problem(c, "terms", key, "cf %llu, postings' tf sum %llu", (unsigned long long)t->cf,
                    (unsigned long long)t->seen_cf);
    }
    return TR_OK;
}

/* ---- docs and ids ---- */

/* Decompress a body in bounded pieces; returns the bytes produced or -1. */
static int64_t body_size(checker *c, const uint8_t *z, size_t zlen)
{
    if (!c->zd && !(c->zd = ZSTD_createDCtx())) return -2;
    if (!c->zout && !(c->zout = malloc(ZSTD_DStreamOutSize()))) return -2;
    ZSTD_DCtx_reset(c->zd, ZSTD_reset_session_only);
    ZSTD_inBuffer in = { z, zlen, 0 };
    uint64_t total = 0;
    size_t ret = 1;
    while (ret != 0) {
        ZSTD_outBuffer out = { c->zout, ZSTD_DStreamOutSize(), 0 };
        ret = ZSTD_decompressStream(c->zd, &out, &in);
        if (ZSTD_isError(ret)) return -1;
        total += out.pos;
        if (total > CHECK_MAX_BODY_BYTES) return -1;
        if (ret != 0 && in.pos == in.size && out.pos == 0) return -1; /* truncated frame */
    }
    if (in.pos != in.size) return -1; /* bytes after the frame */
    return (int64_t)total;
}

/* A block of bodies is checked when the cursor reaches its key, which sorts
 * right after the last document it holds: its checksum and frame always;
 * without --quick also that the documents before it that point at it tile
 * it, offsets consecutive, ending at its raw_len. */
typedef struct block_refs {
    int open;                   /* documents point at block `last` and it has not come yet */
    uint32_t last;
    uint64_t end;               /* bytes of the block the documents so far cover */
} block_refs;

static void refs_missing(checker *c, block_refs *b)
{
    char key[32];
    if (b->open) problem(c, "docs", show_doc(key, sizeof key, b->last), "body block of documents up to it is missing");
    b->open = 0;
}

static int check_block(checker *c, block_refs *b, const MDB_val *k, const MDB_val *v)
{
    char key[48];
    uint32_t last = tr_get_be32(k->mv_data);
    snprintf(key, sizeof key, "body block of doc %u", last);
    uint64_t raw;
    const uint8_t *z;
    size_t zlen;
    if (tr_doc_block_decode(v->mv_data, v->mv_size, &raw, &z, &zlen)) {
        problem(c, "docs", key, "value fails its checksum or does not declare its length");
    } else {
        int64_t got = body_size(c, z, zlen);
        if (got == -2) return TR_ENOMEM;
        if (got < 0 || (uint64_t)got != raw)
            problem(c, "docs", key, "does not decompress to its %llu bytes", (unsigned long long)raw);
        else c->n.body_bytes += raw;
        if (!c->quick && b->open && b->last == last && b->end != raw)
            problem(c, "docs", key, "holds %llu bytes; its documents' bodies %llu",
                    (unsigned long long)raw, (unsigned long long)b->end);
    }
    if (!c->quick && (!b->open || b->last != last)) {
        refs_missing(c, b);
        problem(c, "docs", key, "no document's body is in it");
    }
    b->open = 0;
    return TR_OK;
}

static int check_docs(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_DOCS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[CHECK_KEY_SHOWN * 4 + 8];
    uint64_t live = 0, tt = 0, bt = 0;
    block_refs refs = {0};
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        if (k.mv_size == TR_DOC_BLOCK_KEY_BYTES && ((const uint8_t *)k.mv_data)[4] == TR_DOC_BLOCK_TAG) {
            if (check_block(c, &refs, &k, &v)) { mdb_cursor_close(mc); return TR_ENOMEM; }
            continue;
        }
        if (k.mv_size != 4) {
            problem(c, "docs", show_bytes(key, sizeof key, k.mv_data, k.mv_size), "key is not 4 bytes");
            continue;
        }
        uint32_t d = tr_get_be32(k.mv_data);
        show_doc(key, sizeof key, d);
        c->n.docs++;
        tr_doc_rec rec;
        if (tr_doc_value_decode(&rec, v.mv_data, v.mv_size)) {
            problem(c, "docs", key, "value fails its checksum or does not decode");
            continue;
        }
        if (rec.body_len && !c->quick) {
            uint64_t last = (uint64_t)d + rec.block_ahead;
            if (refs.open && refs.last != last) refs_missing(c, &refs);
            if (!refs.open) {
                refs = (block_refs){ 1, (uint32_t)last, 0 };
                if (last > UINT32_MAX)
                    problem(c, "docs", key, "body block beyond the last doc id");
            }
            if (rec.block_off != refs.end)
                problem(c, "docs", key, "body at offset %llu of its block, not after the previous body (%llu)",
                        (unsigned long long)rec.block_off, (unsigned long long)refs.end);
            refs.end = rec.block_off + rec.body_len;
        }
        if (c->quick) continue;
        if (d == 0 || d >= c->stats.next_doc) {
            problem(c, "docs", key, "doc id outside 1..next_doc-1 (%u)", c->stats.next_doc);
            continue;
        }
        if (rec.id_len == 0) problem(c, "docs", key, "empty external id");
        bit_set(c->present, c->nwords, d);
        const uint8_t *ne = norm_entry(c, d);
        if (!ne) {
            problem(c, "norms", key, "no norms entry for a stored document");
        } else if (tr_get_le32(ne) != rec.title_terms || tr_get_le32(ne + 4) != rec.body_terms ||
                   (int64_t)tr_get_le64(ne + 8) != rec.date) {
            problem(c, "norms", key, "lengths/date %u/%u/%lld differ from the document's %u/%u/%lld",
                    tr_get_le32(ne), tr_get_le32(ne + 4), (long long)tr_get_le64(ne + 8),
                    rec.title_terms, rec.body_terms, (long long)rec.date);
        }
        if (bit_get(c->deleted, c->nwords, d)) continue;
        live++;
        tt += rec.title_terms;
        bt += rec.body_terms;
        /* ids must map this document's external id back to it */
        MDB_val ik = { rec.id_len, (void *)rec.id }, iv;
        int g = rec.id_len ? mdb_get(c->txn, c->ix->dbi[TR_DB_IDS], &ik, &iv) : MDB_NOTFOUND;
        if (g == MDB_NOTFOUND) problem(c, "ids", key, "live document's id is not in ids");
        else if (g) { mdb_cursor_close(mc); return tr_schema_lmdb_rc(g); }
        else if (iv.mv_size != 4 || tr_get_le32(iv.mv_data) != d)
            problem(c, "ids", key, "live document's id maps to another doc");
    }
    mdb_cursor_close(mc);
    if (rc != MDB_NOTFOUND) return tr_schema_lmdb_rc(rc);
    refs_missing(c, &refs);
    if (c->quick) return TR_OK;
    for (uint32_t d = 1; d < c->stats.next_doc; d++)
        if (bit_get(c->deleted, c->nwords, d) && !bit_get(c->present, c->nwords, d)) {
            problem(c, "deleted", show_doc(key, sizeof key, d), "deleted doc has no stored document");
        }
    if (live != c->stats.docs)
        problem(c, "meta", "stats", "docs = %llu but %llu live documents are stored",
                (unsigned long long)c->stats.docs, (unsigned long long)live);
    if (tt != c->stats.title_tokens || bt != c->stats.body_tokens)
        problem(c, "meta", "stats", "token sums %llu/%llu differ from the documents' %llu/%llu",
                (unsigned long long)c->stats.title_tokens, (unsigned long long)c->stats.body_tokens,
                (unsigned long long)tt, (unsigned long long)bt);
    return TR_OK;
}

static int check_ids(checker *c)
{
    MDB_cursor *mc;
    int rc = mdb_cursor_open(c->txn, c->ix->dbi[TR_DB_IDS], &mc);
    if (rc) return tr_schema_lmdb_rc(rc);
    MDB_val k, v;
    char key[CHECK_KEY_SHOWN * 4 + 8];
    for (rc = mdb_cursor_get(mc, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
        show_bytes(key, sizeof key, k.mv_data, k.mv_size);
        c->n.ids++;
        if (k.mv_size == 0 || k.mv_size > TR_MAX_ID_BYTES)
            problem(c, "ids", key, "id of %zu bytes (allowed 1..%d)", k.mv_size, TR_MAX_ID_BYTES);
        if (v.mv_size != 4) {
            problem(c, "ids", key, "value is not 4 bytes");
            continue;
        }
        uint32_t d = tr_get_le32(v.mv_data);
        if (!bit_get(c->present, c->nwords, d))
            problem(c, "ids", key, "points at doc %u, which is not stored", d);
        else if (bit_get(c->deleted, c->nwords, d))
            problem(c, "ids", key, "points at doc %u, which is deleted", d);
    }
    mdb_cursor_close(mc);
    if (rc != MDB_NOTFOUND) return tr_schema_lmdb_rc(rc);
    if (c->n.ids != c->stats.docs)
        problem(c, "meta", "stats", "docs = %llu but ids holds %llu", (unsigned long long)c->stats.docs,
                (unsigned long long)c->n.ids);
    return TR_OK;
}

int tr_check_index(const char *dir, int quick, tr_check_fn fn, void *ctx,
                   tr_check_counts *counts, char *err, size_t errcap)
{
    if (counts) memset(counts, 0, sizeof *counts);
    if (err && errcap) err[0] = 0;
    checker c = { .quick = quick, .fn = fn, .ctx = ctx };
    int rc = tr_schema_open(dir, 1, 0, &c.ix, err, errcap);
    if (rc) return rc;
    rc = mdb_txn_begin(c.ix->env, NULL, MDB_RDONLY, &c.txn);
    if (rc) {
        if (err && errcap) snprintf(err, errcap, "cannot begin read: %s", mdb_strerror(rc));
        tr_index_close(c.ix);
        return tr_schema_lmdb_rc(rc);
    }
    rc = check_meta(&c, err, errcap);
    if (!rc && !c.have_stats) {
        /* without stats nothing can be bounded: report what was found */
        rc = TR_ECORRUPT;
        goto out;
    }
    if (rc) goto out;
    c.nnorms = ((size_t)c.stats.next_doc >> TR_NORMS_SHIFT) + 1;
    c.nwords = ((size_t)c.stats.next_doc >> 6) + 1;
    c.nterms = quick ? 0 : (size_t)c.stats.next_term;
    c.norms = calloc(c.nnorms, sizeof *c.norms);
    c.norms_n = calloc(c.nnorms, sizeof *c.norms_n);
    c.deleted = calloc(c.nwords, sizeof *c.deleted);
    c.present = calloc(c.nwords, sizeof *c.present);
    c.terms = quick ? NULL : calloc(c.nterms, sizeof *c.terms);
    if (!c.norms || !c.norms_n || !c.deleted || !c.present || (!quick && !c.terms)) {
        rc = TR_ENOMEM;
        goto out;
    }
    /* docs before postings: a posting's doc must be stored (present bitmap) */
    if ((rc = check_norms(&c)) || (rc = check_deleted(&c)) || (rc = check_docs(&c)) ||
        (rc = check_terms(&c)) || (rc = check_postings(&c)))
        goto out;
    if (!quick) rc = check_ids(&c);
out:
    if (rc && rc != TR_ECORRUPT && err && errcap && !err[0])
        snprintf(err, errcap, "check stopped: %s", tr_strerror(rc));
    if (!rc && c.n.problems) rc = TR_ECORRUPT;
    if (counts) *counts = c.n;
    mdb_txn_abort(c.txn);
    tr_index_close(c.ix);
    free(c.norms);
    free(c.norms_n);
    free(c.deleted);
    free(c.present);
    free(c.terms);
    free(c.pos);
    free(c.zout);
    ZSTD_freeDCtx(c.zd);
    return rc;
}
