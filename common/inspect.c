/* inspect.c - bytes per database and per part of the posting chunks (see
 * inspect.h). Reads every terms value and every chunk header once. */
#include "inspect.h"

#include "dict.h"

#include <stdio.h>
#include <sys/stat.h>

/* Split one chunk's bytes into positions and the rest (ids, freqs, header,
 * directory). A chunk that fails to open is corrupt: --check reports it. */
static int add_chunk(tr_index_sizes *s, const void *data, size_t len, int is_inline)
{
    tr_chunk c;
    int rc = is_inline ? tr_chunk_open_inline(&c, data, len) : tr_chunk_open(&c, data, len);
    if (rc) return rc;
    s->chunk_positions += c.poslen;
    s->chunk_docs += len - c.poslen;
    s->nchunks++;
    return TR_OK;
}

typedef struct inspect_walk {
    tr_index_sizes *out;
    char *err;
    size_t errcap;
    int said;
} inspect_walk;

static int inspect_term(void *ctx, const uint8_t *term, size_t len, const tr_term_info *t)
{
    inspect_walk *iw = ctx;
    iw->out->npostings += t->df;
    if (!t->inline_chunk) return TR_OK;
    iw->out->ninline++;
    int rc = add_chunk(iw->out, t->inline_chunk, t->inline_len, 1);
    if (rc) {
        snprintf(iw->err, iw->errcap, "terms: inline chunk of '%.*s' is corrupt", (int)len, (const char *)term);
        iw->said = 1;
    }
    return rc;
}

int tr_index_sizes_get(tr_index *ix, tr_index_sizes *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    MDB_txn *txn;
    int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        snprintf(err, errcap, "cannot read the index: %s", mdb_strerror(rc));
        return tr_schema_lmdb_rc(rc);
    }
    uint64_t *bytes[TR_DB_COUNT] = {
        [TR_DB_META] = &out->meta, [TR_DB_TERMS] = &out->terms,
        [TR_DB_POSTINGS] = &out->postings, [TR_DB_DOCS] = &out->docs,
        [TR_DB_IDS] = &out->ids, [TR_DB_NORMS] = &out->norms,
        [TR_DB_DELETED] = &out->deleted,
    };
    for (int i = 0; i < TR_DB_COUNT; i++) {
        MDB_stat st;
        if (mdb_stat(txn, ix->dbi[i], &st) == 0)
            *bytes[i] = (uint64_t)st.ms_psize * (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
    }

    MDB_cursor *cur = NULL;
    MDB_val k, v;
    inspect_walk iw = { out, err, errcap, 0 };
    rc = tr_dict_walk(txn, ix->dbi[TR_DB_TERMS], NULL, 0, inspect_term, &iw);
    if (rc == TR_ECORRUPT && !iw.said) snprintf(err, errcap, "terms: a dictionary block is corrupt");
    if (!rc) rc = mdb_cursor_open(txn, ix->dbi[TR_DB_POSTINGS], &cur);
    for (int op = MDB_FIRST; !rc && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT) {
        if ((rc = add_chunk(out, v.mv_data, v.mv_size, 0)) != 0) {
            snprintf(err, errcap, "postings: chunk of term id %u is corrupt",
                     k.mv_size == TR_POSTINGS_KEY_BYTES ? tr_get_be32((const uint8_t *)k.mv_data + 4) : 0);
            break;
        }
    }
    if (cur) mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) rc = 0;
    else if (rc > 0) {
        snprintf(err, errcap, "cannot read the index: %s", mdb_strerror(rc));
        rc = tr_schema_lmdb_rc(rc);
    }
    mdb_txn_abort(txn);

    const char *path;
    char file[4096];
    struct stat sb;
    if (mdb_env_get_path(ix->env, &path) == 0 &&
        snprintf(file, sizeof file, "%s/data.mdb", path) < (int)sizeof file && stat(file, &sb) == 0)
        out->file_bytes = (uint64_t)sb.st_size;
    return rc;
}
