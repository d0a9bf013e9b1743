/* schema.c - the index's on-disk schema: how the LMDB environment is opened,
 * and the encoders/decoders of every key and value. writer.c and reader.c
 * never lay out bytes themselves; they go through here.
 *
 * An index is one LMDB environment (a directory: data.mdb, lock.mdb) with
 * these named databases. Keys are big-endian so LMDB's memcmp order is
 * numeric order; values are little-endian or LEB128 varints. "csum" is the
 * low 32 bits of XXH3_64 over the value's bytes after the csum, stored LE.
 *
 *   meta      "format"   -> u32 TR_FORMAT_VERSION
 *             "settings" -> tr_settings_encode text (no NUL)
 *             "stats"    -> docs u64, deleted u64, next_doc u32, next_term u32,
 *                           terms u64, title_tokens u64, body_tokens u64,
 *                           generation u32 (52 bytes)
 *   terms     front-coded blocks of terms (dict.c has the block layout):
 *             key = the block's last term, value = csum u32 | entries of
 *             prefix u8 | suffix_len u8 | suffix | term id v (zigzag delta)
 *             | vlen v | the term's value, which is (tr_term_value_encode)
 *                nchunks v
 *                | nchunks >= 1: df v | cf v | bound: max_ttf u16, npoints u8,
 *                                npoints x (tf u16, dl u16)
 *                                | gens: 1..nchunks varints to the end of the
 *                                value (at most TR_TERM_GENS_MAX_BYTES), the
 *                                first a generation, each next the delta
 *                                (>= 1) to the next: the generations that
 *                                hold the term's chunks
 *                | nchunks == 0: the term's only chunk, inline (the rest of
 *                  the value, 1..TR_INLINE_MAX bytes, in the codec's inline
 *                  form: a compact chunk without format byte and checksum,
 *                  which the block's csum covers); df is its ndocs, cf the
 *                  sum of its tf, the term's bound is the chunk's, and the
 *                  postings database has no key for the term (readers
 *                  report nchunks = 1).
 *   postings  gen u32 BE | term_id u32 BE | first_doc u32 BE
 *             -> chunk (codec.h, tr_chunk_encode)
 *             gen is the commit's generation (meta stats: one more than the
 *             last that wrote chunks), so each commit writes its chunks in key
 *             order at the end of the tree (MDB_APPEND: leaf pages stay full;
 *             inserting a second commit's chunks between the first's split
 *             nearly every leaf). Doc ids only grow, so a term's chunks in
 *             its generations in order, and in key order within one, are in
 *             doc order. Chunks are never rewritten, except that an inline
 *             chunk moves out when it outgrows the limit, and a term whose
 *             generation list would outgrow TR_TERM_GENS_MAX_BYTES has its
 *             chunks moved (bytes unchanged) into the committing generation
 *             (the writer moves a few such lists per commit earlier, from
 *             3/4 of that limit, so that the moves spread over commits).
 *   docs      doc u32 BE
 *             -> csum u32 | id_len v | id | title_len v | title | url_len v | url
 *                | date i64 | title_terms v | body_terms v | body_len v
 *                | body_len > 0: block_ahead v | block_off v
 *             last_doc u32 BE | 0x42 (a block of bodies)
 *             -> csum u32 | raw_len v | zstd frame of the bodies of the block's
 *                documents concatenated in doc order (rest of the value);
 *                doc's body is bytes [block_off, block_off + body_len) of
 *                the block keyed by doc + block_ahead.
 *   ids       external id bytes (1..TR_MAX_ID_BYTES) -> doc u32 LE (live docs only)
 *   norms     doc >> 12 u32 BE -> up to 4096 entries of 16 bytes, entry i for
 *             doc (key << 12) | i: title_len u32, body_len u32, date i64.
 *             The last value may be shorter (only the entries assigned so far).
 *   deleted   doc u32 BE -> empty
 */
#include "schema.h"
#include "csum.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zstd.h>

const char *const tr_db_names[TR_DB_COUNT] = {
    "meta", "terms", "postings", "docs", "ids", "norms", "deleted",
};

/* Longest /proc/self/maps line read (longer ones are paths we skip). */
#define TR_MAPS_LINE 512

/* Map size of a new environment when the caller gives none: LMDB grows
 * nothing by itself, and the writer doubles it on MDB_MAP_FULL anyway. */
#define TR_DEFAULT_MAP (64u << 20)


int tr_schema_lmdb_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return TR_OK;
    case MDB_NOTFOUND: return TR_ENOTFOUND;
    case MDB_MAP_FULL: return TR_EFULL;
    case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_INVALID: return TR_ECORRUPT;
    case MDB_VERSION_MISMATCH: return TR_EVERSION;
    case ENOMEM: return TR_ENOMEM;
    case ENOENT: return TR_ENOTFOUND;
    case EACCES: case EIO: case ENOSPC: case EROFS: return TR_EIO;
    default: return TR_ELMDB;
    }
}

static void seterr(char *err, size_t cap, const char *fmt, const char *a, const char *b)
{
    if (err && cap) snprintf(err, cap, fmt, a, b);
}

int tr_schema_lock(tr_index *ix, char *err, size_t errcap)
{
    mdb_filehandle_t fd;
    if (mdb_env_get_fd(ix->env, &fd)) return TR_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return TR_OK;
    if (errno != EWOULDBLOCK) return TR_EIO;
    tr_set_err(err, errcap, "another process is writing this index (wait for it to finish)");
    return TR_EBUSY;
}

int tr_schema_check_format(tr_index *ix, MDB_txn *txn, char *err, size_t errcap)
{
    MDB_val k = { 6, (void *)"format" }, v;
    int rc = mdb_get(txn, ix->dbi[TR_DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        seterr(err, errcap, "%s%s", "index has no format record (not a trawl index?)", "");
        return TR_ENOTFOUND;
    }
    if (rc) return tr_schema_lmdb_rc(rc);
    if (v.mv_size != 4) {
        seterr(err, errcap, "%s%s", "index format record is damaged", "");
        return TR_ECORRUPT;
    }
    uint32_t found = tr_get_le32(v.mv_data);
    if (found != TR_FORMAT_VERSION) {
        if (err && errcap)
            snprintf(err, errcap, "index format version %u is not supported (this build reads version %u)",
                     (unsigned)found, (unsigned)TR_FORMAT_VERSION);
        return TR_EVERSION;
    }
    return TR_OK;
}

int tr_schema_open(const char *dir, int rdonly, size_t mapsize, tr_index **out,
                   char *err, size_t errcap)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (rdonly || errno != ENOENT) {
            seterr(err, errcap, "cannot open index %s: %s", dir, strerror(errno));
            return errno == ENOENT ? TR_ENOTFOUND : TR_EIO;
        }
        if (mkdir(dir, 0777) != 0) {
            seterr(err, errcap, "cannot create index directory %s: %s", dir, strerror(errno));
            return TR_EIO;
        }
    }
    if (rdonly) {
        char path[4096];
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &st) != 0) {
            seterr(err, errcap, "%s is not an index (no %s)", dir, "data.mdb");
            return TR_ENOTFOUND;
        }
        /* a writer killed between creating the environment and writing its
         * first pages leaves data.mdb empty: LMDB would try to initialise it
         * through a read-only descriptor ("Bad file descriptor") */
        if (st.st_size == 0) {
            seterr(err, errcap, "%s holds no trawl index yet (%s is empty: nothing was committed)",
                   dir, "data.mdb");
            return TR_ENOTFOUND;
        }
    }
    tr_index *ix = calloc(1, sizeof *ix);
    if (!ix) return TR_ENOMEM;
    ix->rdonly = rdonly;
    int rc = mdb_env_create(&ix->env);
    if (rc) { free(ix); return tr_schema_lmdb_rc(rc); }
    mdb_env_set_maxdbs(ix->env, TR_MAX_DBS);
    /* Readers are many and may be handed between threads. */
    mdb_env_set_maxreaders(ix->env, 512);
    if (mapsize) mdb_env_set_mapsize(ix->env, mapsize);
    else if (!rdonly) mdb_env_set_mapsize(ix->env, TR_DEFAULT_MAP);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (rdonly ? MDB_RDONLY : 0);
    rc = mdb_env_open(ix->env, dir, flags, 0666);
    if (rc == EACCES && rdonly) {
        /* A read-only directory: no lock file can be made, so read lockless
         * (safe as long as no writer runs, which a read-only dir implies). */
        mdb_env_close(ix->env);
        mdb_env_create(&ix->env);
        mdb_env_set_maxdbs(ix->env, TR_MAX_DBS);
        rc = mdb_env_open(ix->env, dir, flags | MDB_NOLOCK, 0666);
    }
    if (rc) {
        seterr(err, errcap, "cannot open index %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(ix->env);
        free(ix);
        return tr_schema_lmdb_rc(rc);
    }
    MDB_txn *txn;
    rc = mdb_txn_begin(ix->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
    if (rc) goto lmdb_fail;
    for (int i = 0; i < TR_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, tr_db_names[i], rdonly ? 0 : MDB_CREATE, &ix->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            if (rc == MDB_NOTFOUND) {
                seterr(err, errcap, "%s is not a trawl index (no '%s' database)", dir, tr_db_names[i]);
                tr_index_close(ix);
                return TR_ENOTFOUND;
            }
            goto lmdb_fail;
        }
    }
    if (rdonly) {
        rc = tr_schema_check_format(ix, txn, err, errcap);
        if (rc) { mdb_txn_abort(txn); tr_index_close(ix); return rc; }
        /* commit, not abort: handles opened in an aborted txn are closed */
        rc = mdb_txn_commit(txn);
        if (rc) goto lmdb_fail;
    } else {
        rc = mdb_txn_commit(txn);
        if (rc) goto lmdb_fail;
    }
    *out = ix;
    return TR_OK;
lmdb_fail:
    seterr(err, errcap, "cannot open index %s: %s", dir, mdb_strerror(rc));
    tr_index_close(ix);
    return tr_schema_lmdb_rc(rc);
}

int tr_index_open(const char *dir, tr_index **out, char *err, size_t errcap)
{
    return tr_schema_open(dir, 1, 0, out, err, errcap);
}

void tr_index_close(tr_index *ix)
{
    if (!ix) return;
    tr_reader_cache_drop(ix);
    mdb_env_close(ix->env);
    free(ix);
}

/* ---- stats ---- */

void tr_stats_encode(const tr_stats *s, uint8_t out[TR_STATS_BYTES])
{
    tr_put_le64(out, s->docs);
    tr_put_le64(out + 8, s->deleted);
    tr_put_le32(out + 16, s->next_doc);
    tr_put_le32(out + 20, s->next_term);
    tr_put_le64(out + 24, s->terms);
    tr_put_le64(out + 32, s->title_tokens);
    tr_put_le64(out + 40, s->body_tokens);
    tr_put_le32(out + 48, s->generation);
}

int tr_stats_decode(tr_stats *s, const void *p, size_t len)
{
    if (len != TR_STATS_BYTES) return TR_ECORRUPT;
    const uint8_t *b = p;
    s->docs = tr_get_le64(b);
    s->deleted = tr_get_le64(b + 8);
    s->next_doc = tr_get_le32(b + 16);
    s->next_term = tr_get_le32(b + 20);
    s->terms = tr_get_le64(b + 24);
    s->title_tokens = tr_get_le64(b + 32);
    s->body_tokens = tr_get_le64(b + 40);
    s->generation = tr_get_le32(b + 48);
    if (s->next_doc == 0 || s->next_term == 0) return TR_ECORRUPT;
    return TR_OK;
}

/* ---- terms ---- */

size_t tr_term_value_encode(const tr_term_info *t, uint8_t *out)
{
    uint8_t *p = out;
    size_t il = t->inline_chunk ? t->inline_len : 0;
    /* An inline term stores nchunks 0 and its chunk, which gives df, cf and
     * the bound: about 10 bytes less for each of the ~88% of enwiki terms
     * that are inline. */
    p = tr_put_varint(p, il ? 0 : t->nchunks);
    if (il) {
        memcpy(p, t->inline_chunk, il);
        p += il;
    } else {
        p = tr_put_varint(p, t->df);
        p = tr_put_varint(p, t->cf);
        tr_put_le16(p, t->bound.max_ttf); p += 2;
        uint8_t np = t->bound.npoints <= TR_BOUND_POINTS ? t->bound.npoints : TR_BOUND_POINTS;
        *p++ = np;
        for (unsigned i = 0; i < np; i++) {
            tr_put_le16(p, t->bound.pt[i].tf);
            tr_put_le16(p + 2, t->bound.pt[i].dl);
            p += 4;
        }
        /* the generation list runs to the end of the value */
        if (t->gens_len) memcpy(p, t->gens, t->gens_len);
        p += t->gens_len;
    }
    return (size_t)(p - out);
}

int tr_term_value_decode(tr_term_info *t, const void *pv, size_t len)
{
    memset(t, 0, sizeof *t);
    const uint8_t *b = pv, *end = b + len;
    if (len < 1 || len > TR_TERM_VALUE_MAX) return TR_ECORRUPT;
    const uint8_t *p = b;
    uint64_t df, cf, nch;
    if (tr_get_varint(&p, end, &nch) || nch > UINT32_MAX) return TR_ECORRUPT;
    if (nch == 0) {
        /* inline: the rest is the chunk; df, cf and the bound are its own */
        size_t il = (size_t)(end - p);
        tr_chunk c;
        if (il == 0 || il > TR_INLINE_MAX || tr_chunk_open_inline(&c, p, il)) return TR_ECORRUPT;
        uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
        int n = tr_chunk_block_decode(&c, 0, 0, docs, tf, ttf);
        if (n <= 0) return TR_ECORRUPT;
        df = (uint64_t)n;
        cf = 0;
        for (int i = 0; i < n; i++) cf += tf[i];
        t->bound = c.bound;
        t->inline_chunk = p;
        t->inline_len = il;
        nch = 1;
    } else {
        if (tr_get_varint(&p, end, &df) || tr_get_varint(&p, end, &cf) || df == 0 || cf < df)
            return TR_ECORRUPT;
        if (end - p < 3) return TR_ECORRUPT;
        t->bound.max_ttf = tr_get_le16(p);
        t->bound.npoints = p[2];
        p += 3;
        if (t->bound.npoints > TR_BOUND_POINTS || end - p < 4 * t->bound.npoints) return TR_ECORRUPT;
        for (unsigned i = 0; i < t->bound.npoints; i++) {
            t->bound.pt[i].tf = tr_get_le16(p);
            t->bound.pt[i].dl = tr_get_le16(p + 2);
            p += 4;
        }
        /* generations: at least one, strictly increasing, at most one per
         * chunk, within TR_TERM_GENS_MAX_BYTES */
        size_t gl = (size_t)(end - p);
        if (gl == 0 || gl > TR_TERM_GENS_MAX_BYTES) return TR_ECORRUPT;
        const uint8_t *g = p;
        uint32_t gen = 0, ng = 0;
        while (g < end) {
            if (!tr_gens_next(&g, end, gen, &gen)) return TR_ECORRUPT;
            ng++;
        }
        if (ng > nch) return TR_ECORRUPT;
        t->gens = p;
        t->gens_len = gl;
        t->ngens = ng;
    }
    t->df = df;
    t->cf = cf;
    t->nchunks = (uint32_t)nch;
    return TR_OK;
}

/* Keep at most TR_BOUND_POINTS points: drop dominated points, then fuse the
 * neighbours (in dl order) whose fusion (max tf, min dl) loosens the bound
 * least. A fused point dominates both, so the bound stays valid. */
void tr_bound_merge(tr_bound *acc, const tr_bound *b)
{
    struct { uint16_t tf, dl; } pt[2 * TR_BOUND_POINTS];
    unsigned n = 0;
    for (unsigned i = 0; i < acc->npoints && i < TR_BOUND_POINTS; i++) {
        pt[n].tf = acc->pt[i].tf; pt[n].dl = acc->pt[i].dl; n++;
    }
    for (unsigned i = 0; i < b->npoints && i < TR_BOUND_POINTS; i++) {
        pt[n].tf = b->pt[i].tf; pt[n].dl = b->pt[i].dl; n++;
    }
    if (b->max_ttf > acc->max_ttf) acc->max_ttf = b->max_ttf;
    /* sort by dl ascending, tf descending (insertion sort: n <= 8) */
    for (unsigned i = 1; i < n; i++) {
        uint16_t tf = pt[i].tf, dl = pt[i].dl;
        unsigned j = i;
        while (j > 0 && (pt[j - 1].dl > dl || (pt[j - 1].dl == dl && pt[j - 1].tf < tf))) {
            pt[j] = pt[j - 1];
            j--;
        }
        pt[j].tf = tf; pt[j].dl = dl;
    }
    /* non-dominated: as dl grows, tf must strictly grow */
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++) {
        if (m > 0 && pt[i].tf <= pt[m - 1].tf) continue;
        pt[m++] = pt[i];
    }
    while (m > TR_BOUND_POINTS) {
        unsigned best = 0;
        double bestcost = 1e300;
        for (unsigned i = 0; i + 1 < m; i++) {
            /* fused point (tf of i+1, dl of i): cost = how far it moves */
            double cost = (double)(pt[i + 1].tf - pt[i].tf) * (double)(pt[i + 1].dl - pt[i].dl);
            if (cost < bestcost) { bestcost = cost; best = i; }
        }
        pt[best].tf = pt[best + 1].tf;
        for (unsigned i = best + 1; i + 1 < m; i++) pt[i] = pt[i + 1];
        m--;
    }
    acc->npoints = (uint8_t)m;
    for (unsigned i = 0; i < m; i++) { acc->pt[i].tf = pt[i].tf; acc->pt[i].dl = pt[i].dl; }
}

/* ---- docs ---- */

int tr_doc_value_encode(const tr_doc_rec *d, tr_buf *out)
{
    tr_buf_clear(out);
    size_t need = 4 + 8 * 10 + d->id_len + d->title_len + d->url_len + 8;
    int rc = tr_buf_reserve(out, need);
    if (rc) return rc;
    uint8_t *b = out->data, *p = b + 4;
    p = tr_put_varint(p, d->id_len); memcpy(p, d->id, d->id_len); p += d->id_len;
    p = tr_put_varint(p, d->title_len); if (d->title_len) memcpy(p, d->title, d->title_len); p += d->title_len;
    p = tr_put_varint(p, d->url_len); if (d->url_len) memcpy(p, d->url, d->url_len); p += d->url_len;
    tr_put_le64(p, (uint64_t)d->date); p += 8;
    p = tr_put_varint(p, d->title_terms);
    p = tr_put_varint(p, d->body_terms);
    p = tr_put_varint(p, d->body_len);
    if (d->body_len) {
        p = tr_put_varint(p, d->block_ahead);
        p = tr_put_varint(p, d->block_off);
    }
    out->len = (size_t)(p - b);
    tr_put_le32(b, tr_csum32(b + 4, out->len - 4));
    return TR_OK;
}

static int get_bytes(const uint8_t **p, const uint8_t *end, size_t max, const char **s, size_t *n)
{
    uint64_t v;
    if (tr_get_varint(p, end, &v) || v > max || v > (uint64_t)(end - *p)) return TR_ECORRUPT;
    *s = (const char *)*p;
    *n = (size_t)v;
    *p += v;
    return TR_OK;
}

int tr_doc_value_decode(tr_doc_rec *d, const void *pv, size_t len)
{
    memset(d, 0, sizeof *d);
    const uint8_t *b = pv, *end = b + len;
    if (len < 4 || tr_get_le32(b) != tr_csum32(b + 4, len - 4)) return TR_ECORRUPT;
    const uint8_t *p = b + 4;
    uint64_t tt, bt, bl, ahead = 0, off = 0;
    if (get_bytes(&p, end, TR_MAX_ID_BYTES, &d->id, &d->id_len) ||
        get_bytes(&p, end, TR_MAX_TITLE_BYTES, &d->title, &d->title_len) ||
        get_bytes(&p, end, TR_MAX_URL_BYTES, &d->url, &d->url_len))
        return TR_ECORRUPT;
    if (end - p < 8) return TR_ECORRUPT;
    d->date = (int64_t)tr_get_le64(p);
    p += 8;
    if (tr_get_varint(&p, end, &tt) || tr_get_varint(&p, end, &bt) || tr_get_varint(&p, end, &bl) ||
        tt > UINT32_MAX || bt > UINT32_MAX)
        return TR_ECORRUPT;
    if (bl && (tr_get_varint(&p, end, &ahead) || tr_get_varint(&p, end, &off) || ahead > UINT32_MAX ||
               off > UINT64_MAX - bl))
        return TR_ECORRUPT;
    if (p != end) return TR_ECORRUPT;
    d->title_terms = (uint32_t)tt;
    d->body_terms = (uint32_t)bt;
    d->body_len = bl;
    d->block_ahead = (uint32_t)ahead;
    d->block_off = off;
    return TR_OK;
}

size_t tr_doc_block_finish(uint8_t *buf, uint64_t raw_len, size_t zlen, size_t *vlen)
{
    uint8_t hdr[TR_DOC_BLOCK_HDR_MAX];
    size_t hl = (size_t)(tr_put_varint(hdr + 4, raw_len) - hdr);
    size_t start = TR_DOC_BLOCK_HDR_MAX - hl;
    memcpy(buf + start + 4, hdr + 4, hl - 4);
    tr_put_le32(buf + start, tr_csum32(buf + start + 4, hl - 4 + zlen));
    *vlen = hl + zlen;
    return start;
}

int tr_doc_block_decode(const void *pv, size_t len, uint64_t *raw_len, const uint8_t **z, size_t *zlen)
{
    const uint8_t *b = pv, *end = b + len;
    *raw_len = 0;
    *z = NULL;
    *zlen = 0;
    if (len < 4 || tr_get_le32(b) != tr_csum32(b + 4, len - 4)) return TR_ECORRUPT;
    const uint8_t *p = b + 4;
    uint64_t raw;
    if (tr_get_varint(&p, end, &raw) || raw == 0 || p == end) return TR_ECORRUPT;
    if (ZSTD_getFrameContentSize(p, (size_t)(end - p)) != raw) return TR_ECORRUPT;
    *raw_len = raw;
    *z = p;
    *zlen = (size_t)(end - p);
    return TR_OK;
}

void tr_schema_drop_map(MDB_env *env)
{
    /* LMDB does not say where its map is (MDB_envinfo.me_mapaddr is only set
     * for MDB_FIXEDMAP), so find the mapping of the data file by inode. */
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(env, &fd) || fstat(fd, &st)) return;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;
    char line[TR_MAPS_LINE];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &lo, &hi, perms, &ino) == 4 &&
            ino == (unsigned long)st.st_ino && hi > lo && perms[1] != 'w')
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
    }
    fclose(f);
}

int tr_term_chunks(MDB_cursor *mc, uint32_t term_id, const uint8_t *gens, size_t gens_len,
                   tr_chunk_fn fn, void *ctx)
{
    const uint8_t *gp = gens, *gend = gens + gens_len;
    uint32_t g = 0;
    int rc = 0;
    while (!rc && tr_gens_next(&gp, gend, g, &g)) {
        uint8_t kb[TR_POSTINGS_KEY_BYTES];
        tr_key_posting(kb, g, term_id, 0);
        MDB_val k = { sizeof kb, kb }, v;
        int found = 0;
        for (rc = mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT)) {
            if (k.mv_size != TR_POSTINGS_KEY_BYTES || tr_get_be32(k.mv_data) != g ||
                tr_get_be32((const uint8_t *)k.mv_data + 4) != term_id)
                break;
            if ((rc = fn(ctx, g, &k, &v))) return rc;
            found = 1;
        }
        if (rc == MDB_NOTFOUND) rc = 0;
        if (!rc && !found) rc = TR_ECORRUPT;   /* a listed generation without chunks */
    }
    return rc;
}
