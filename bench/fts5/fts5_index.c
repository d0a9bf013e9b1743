/* fts5_index.c - builds the SQLite FTS5 index that the benchmarks run beside trawl.
 *
 * usage: fts5_index DB INPUT.jsonl
 * One FTS5 table docs(title, body) with FTS5's Porter stemmer over unicode61,
 * plus ids(rowid -> external id), filled in one transaction and then merged
 * into one segment ('optimize'), so queries see a read-optimised index. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "trawl.h"

/* A JSONL line longer than this is refused rather than buffered: it is far
 * above any real document (enwiki's largest article is ~1 MB) and bounds
 * memory on hostile input. */
#define FTS5_MAX_LINE_BYTES ((size_t)256 << 20)
/* External ids longer than this are refused: ids travel space-separated in
 * protocol answers and TREC runs, where a huge id is certainly an error. */
#define FTS5_MAX_ID_BYTES 1024
/* FTS5 'hashsize' (bytes of pending postings before a segment is flushed)
 * and page cache: the same ~256 MiB budget the peer builders use. */
#define FTS5_BUILD_HASHSIZE (256 * 1024 * 1024)
#define FTS5_BUILD_CACHE_KIB 262144

static const char SCHEMA[] =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=OFF;"
    "DROP TABLE IF EXISTS docs;"
    "DROP TABLE IF EXISTS ids;"
    "CREATE VIRTUAL TABLE docs USING fts5(title, body,"
    " tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE TABLE ids(rowid INTEGER PRIMARY KEY, extid TEXT NOT NULL);";

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "fts5_index: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        return TR_EIO;
    }
    return TR_OK;
}

/* The external id as text: a string as-is, an integer in decimal. Anything
 * else (missing, float, object) is an input error. Writes into out. */
static int doc_id_text(json_t *id, char *out, size_t cap)
{
    if (json_is_string(id)) {
        const char *s = json_string_value(id);
        size_t n = json_string_length(id);
        if (n == 0 || n >= cap || strlen(s) != n)
            return TR_EINPUT;
        for (size_t i = 0; i < n; i++)
            if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
                return TR_EINPUT; /* ids are whitespace-separated in answers */
        memcpy(out, s, n + 1);
        return TR_OK;
    }
    if (json_is_integer(id)) {
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        return TR_OK;
    }
    return TR_EINPUT;
}

static const char *string_member(json_t *obj, const char *key, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        *len = 0;
        return "";
    }
    *len = json_string_length(v);
    return json_string_value(v);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fts5_index DB INPUT.jsonl\n");
        return 2;
    }
    FILE *in = strcmp(argv[2], "-") ? fopen(argv[2], "rb") : stdin;
    if (!in) {
        fprintf(stderr, "fts5_index: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "fts5_index: %s: %s\n", argv[1], sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA cache_size=-%d;"
             "INSERT INTO docs(docs, rank) VALUES('hashsize', %d);",
             FTS5_BUILD_CACHE_KIB, FTS5_BUILD_HASHSIZE);
    int rc = exec_sql(db, SCHEMA);
    if (!rc) rc = exec_sql(db, "BEGIN");
    if (!rc) rc = exec_sql(db, pragmas);

    sqlite3_stmt *ins_doc = NULL, *ins_id = NULL;
    if (!rc && (sqlite3_prepare_v2(db, "INSERT INTO docs(rowid, title, body) VALUES(?,?,?)",
                                   -1, &ins_doc, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(db, "INSERT INTO ids(rowid, extid) VALUES(?,?)",
                                   -1, &ins_id, NULL) != SQLITE_OK)) {
        fprintf(stderr, "fts5_index: prepare: %s\n", sqlite3_errmsg(db));
        rc = TR_EIO;
    }

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0, ndocs = 0, skipped = 0;
    while (!rc && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if ((size_t)len > FTS5_MAX_LINE_BYTES) {
            fprintf(stderr, "fts5_index: %s:%" PRIu64 ": line over %zu bytes, skipped\n",
                    argv[2], lineno, FTS5_MAX_LINE_BYTES);
            skipped++;
            continue;
        }
        size_t start = 0;
        while (start < (size_t)len && (line[start] == ' ' || line[start] == '\t' ||
                                       line[start] == '\r' || line[start] == '\n'))
            start++;
        if (start == (size_t)len)
            continue; /* blank line */
        json_error_t jerr;
        json_t *obj = json_loadb(line + start, (size_t)len - start, JSON_DISABLE_EOF_CHECK, &jerr);
        char id[FTS5_MAX_ID_BYTES + 1];
        if (!json_is_object(obj) ||
            doc_id_text(json_object_get(obj, "id"), id, sizeof id) != TR_OK) {
            fprintf(stderr, "fts5_index: %s:%" PRIu64 ": %s, skipped\n", argv[2], lineno,
                    obj ? "not an object with a usable \"id\"" : jerr.text);
            json_decref(obj);
            skipped++;
            continue;
        }
        size_t tlen, blen;
        const char *title = string_member(obj, "title", &tlen);
        const char *body = string_member(obj, "body", &blen);
        sqlite3_int64 rowid = (sqlite3_int64)ndocs + 1;
        sqlite3_bind_int64(ins_doc, 1, rowid);
        sqlite3_bind_text(ins_doc, 2, title, (int)tlen, SQLITE_STATIC);
        sqlite3_bind_text(ins_doc, 3, body, (int)blen, SQLITE_STATIC);
        sqlite3_bind_int64(ins_id, 1, rowid);
        sqlite3_bind_text(ins_id, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(ins_doc) != SQLITE_DONE || sqlite3_step(ins_id) != SQLITE_DONE) {
            fprintf(stderr, "fts5_index: %s:%" PRIu64 ": insert: %s\n", argv[2], lineno,
                    sqlite3_errmsg(db));
            rc = TR_EIO;
        }
        sqlite3_reset(ins_doc);
        sqlite3_reset(ins_id);
        json_decref(obj);
        ndocs++;
    }
    if (!rc && ferror(in)) {
        fprintf(stderr, "fts5_index: %s: read error\n", argv[2]);
        rc = TR_EIO;
    }
    free(line);
    sqlite3_finalize(ins_doc);
    sqlite3_finalize(ins_id);
    if (in != stdin)
        fclose(in);
    if (!rc) rc = exec_sql(db, "INSERT INTO docs(docs) VALUES('optimize')");
    if (!rc) rc = exec_sql(db, "COMMIT");
    if (!rc) rc = exec_sql(db, "VACUUM");
    sqlite3_close(db);
    if (rc)
        return 1;
    fprintf(stderr, "fts5_index: %" PRIu64 " documents, %" PRIu64 " lines skipped\n", ndocs,
            skipped);
    return 0;
}
