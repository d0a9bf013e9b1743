/* fts5_query.c - the SQLite FTS5 query process the benchmarks run beside trawl-query.
 *
 * usage: fts5_query DB                      (protocol on stdin, one answer line each)
 *        fts5_query DB --batch TOPICS.tsv [--trec RUNTAG] [-k N]   (TREC run on stdout)
 * Protocol lines are COMMAND<TAB>QUERY with the search-benchmark-game's query kinds
 * (`a`, `+a +b`, `a b`, `"a b"`); see bench/README.md. Ranking is FTS5's bm25(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "trawl.h"

/* A protocol or topic line longer than this is answered UNSUPPORTED (or the
 * topic skipped): real queries are a few dozen bytes. */
#define FTS5_MAX_QUERY_BYTES 65536
/* More words than this in one query is refused: FTS5 builds one cursor per
 * phrase, and the longest relevance topics have ~100 words. */
#define FTS5_MAX_QUERY_TERMS 1024
/* TOP_k and -k above this are refused: answers are one line, and no
 * benchmark asks for more than the 1000 that trec_eval scores. */
#define FTS5_MAX_K 100000
/* The read-side settings of the peer adapter: map the whole index, large cache. */
#define FTS5_QUERY_MMAP_BYTES 2147483648LL
#define FTS5_QUERY_CACHE_KIB 1048576

typedef struct fts5_q {
    sqlite3 *db;
    sqlite3_stmt *count;   /* count(*) of a MATCH */
    sqlite3_stmt *ranked;  /* rowid, rank of a MATCH, best first, LIMIT ? */
    sqlite3_stmt *extid;   /* rowid -> external id */
} fts5_q;

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (!q)
            return TR_ENOMEM;
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
    return TR_OK;
}

/* Appends word as an FTS5 string literal: FTS5 runs the table's tokenizer
 * over it, so punctuation inside becomes a phrase of its parts, as in the
 * indexed text; an embedded quote is doubled. */
static int sb_add_quoted(strbuf *s, const char *w, size_t n)
{
    int rc = sb_add(s, "\"", 1);
    for (size_t i = 0; !rc && i < n; i++)
        rc = w[i] == '"' ? sb_add(s, "\"\"", 2) : sb_add(s, w + i, 1);
    return rc ? rc : sb_add(s, "\"", 1);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Translates one game query into an FTS5 MATCH expression in out.
 * Returns TR_EINPUT for syntax the game does not define (mixed +, -, stray quotes). */
static int game_to_match(const char *q, size_t n, strbuf *out)
{
    while (n && is_space(*q)) q++, n--;
    while (n && is_space(q[n - 1])) n--;
    if (n == 0)
        return TR_EINPUT;
    out->len = 0;
    if (q[0] == '"') {
        /* phrase: exactly one quoted run and nothing else */
        if (n < 3 || q[n - 1] != '"' || memchr(q + 1, '"', n - 2))
            return TR_EINPUT;
        size_t words = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!is_space(q[i]) && is_space(q[i - 1]))
                words++;
        if (words > FTS5_MAX_QUERY_TERMS)
            return TR_ELIMIT;
        const char *in = q + 1;
        size_t m = n - 2;
        while (m && is_space(*in)) in++, m--;
        if (m == 0)
            return TR_EINPUT;
        return sb_add_quoted(out, in, m);
    }
    if (memchr(q, '"', n))
        return TR_EINPUT;
    int nplus = 0, nterms = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space(q[i])) i++;
        if (i == n) break;
        size_t start = i;
        while (i < n && !is_space(q[i])) i++;
        if (q[start] == '+') nplus++;
        if (q[start] == '-') return TR_EINPUT;
        nterms++;
    }
    if (nterms > FTS5_MAX_QUERY_TERMS)
        return TR_ELIMIT;
    if (nplus && nplus != nterms)
        return TR_EINPUT; /* mixed required / optional: not a game query kind */
    const char *op = nplus ? " AND " : " OR ";
    int rc = TR_OK, first = 1;
    for (size_t i = 0; !rc && i < n;) {
        while (i < n && is_space(q[i])) i++;
        if (i == n) break;
        size_t start = i;
        while (i < n && !is_space(q[i])) i++;
        if (nplus) start++;
        if (start == i)
            return TR_EINPUT; /* a lone '+' */
        if (!first) rc = sb_add(out, op, strlen(op));
        if (!rc) rc = sb_add_quoted(out, q + start, i - start);
        first = 0;
    }
    return rc;
}

/* Plain topic text -> OR of its words. A word is a run of ASCII letters and
 * digits or non-ASCII bytes, so punctuation never reaches FTS5's syntax. */
static int topic_to_match(const char *q, size_t n, strbuf *out)
{
    out->len = 0;
    int rc = TR_OK, terms = 0;
    for (size_t i = 0; !rc && i < n;) {
        while (i < n && !(((unsigned char)q[i] >= 0x80) || (q[i] >= '0' && q[i] <= '9') ||
                          (q[i] >= 'a' && q[i] <= 'z') || (q[i] >= 'A' && q[i] <= 'Z')))
            i++;
        if (i == n) break;
        size_t start = i;
        while (i < n && (((unsigned char)q[i] >= 0x80) || (q[i] >= '0' && q[i] <= '9') ||
                         (q[i] >= 'a' && q[i] <= 'z') || (q[i] >= 'A' && q[i] <= 'Z')))
            i++;
        if (++terms > FTS5_MAX_QUERY_TERMS)
            return TR_ELIMIT;
        if (terms > 1) rc = sb_add(out, " OR ", 4);
        if (!rc) rc = sb_add_quoted(out, q + start, i - start);
    }
    return rc ? rc : (terms ? TR_OK : TR_EINPUT);
}

static int fts5_q_open(fts5_q *f, const char *path)
{
    memset(f, 0, sizeof *f);
    if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "fts5_query: %s: %s\n", path, sqlite3_errmsg(f->db));
        return TR_EIO;
    }
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA mmap_size=%lld; PRAGMA cache_size=-%d;",
             FTS5_QUERY_MMAP_BYTES, FTS5_QUERY_CACHE_KIB);
    sqlite3_exec(f->db, pragmas, NULL, NULL, NULL);
    if (sqlite3_prepare_v2(f->db, "SELECT count(*) FROM docs WHERE docs MATCH ?", -1,
                           &f->count, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(f->db,
                           "SELECT rowid, rank FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?",
                           -1, &f->ranked, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(f->db, "SELECT extid FROM ids WHERE rowid = ?", -1, &f->extid,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "fts5_query: %s: not an fts5_index database: %s\n", path,
                sqlite3_errmsg(f->db));
        return TR_EINPUT;
    }
    return TR_OK;
}

static void fts5_q_close(fts5_q *f)
{
    sqlite3_finalize(f->count);
    sqlite3_finalize(f->ranked);
    sqlite3_finalize(f->extid);
    sqlite3_close(f->db);
}

/* Appends the external id of rowid to out (a missing id is index corruption). */
static int add_extid(fts5_q *f, sqlite3_int64 rowid, strbuf *out)
{
    sqlite3_bind_int64(f->extid, 1, rowid);
    int rc = TR_ECORRUPT;
    if (sqlite3_step(f->extid) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(f->extid, 0);
        rc = s ? sb_add(out, s, strlen(s)) : TR_ECORRUPT;
    }
    sqlite3_reset(f->extid);
    return rc;
}

static int run_count(fts5_q *f, const char *match, long long *count)
{
    sqlite3_bind_text(f->count, 1, match, -1, SQLITE_STATIC);
    int rc = sqlite3_step(f->count) == SQLITE_ROW ? TR_OK : TR_EINPUT;
    *count = rc ? 0 : sqlite3_column_int64(f->count, 0);
    sqlite3_reset(f->count);
    return rc;
}

/* Best k ids into ids (space-separated); with count != NULL every match is
 * walked (one ranked pass) and counted. */
static int run_top(fts5_q *f, const char *match, long k, strbuf *ids, long long *count)
{
    ids->len = 0;
    sb_add(ids, "", 0);
    sqlite3_bind_text(f->ranked, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f->ranked, 2, count ? -1 : k);
    long long seen = 0;
    int rc = TR_OK, step;
    while (!rc && (step = sqlite3_step(f->ranked)) == SQLITE_ROW) {
        if (seen < k) {
            if (seen) rc = sb_add(ids, " ", 1);
            if (!rc) rc = add_extid(f, sqlite3_column_int64(f->ranked, 0), ids);
        }
        seen++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = TR_EINPUT;
    sqlite3_reset(f->ranked);
    if (count)
        *count = seen;
    return rc;
}

/* COUNT, TOP_k or TOP_k_COUNT -> k (0 for COUNT) and whether to count. */
static int parse_command(const char *c, size_t n, long *k, int *want_count)
{
    if (n == 5 && !memcmp(c, "COUNT", 5)) {
        *k = 0;
        *want_count = 1;
        return TR_OK;
    }
    if (n < 5 || memcmp(c, "TOP_", 4))
        return TR_EINPUT;
    long v = 0;
    size_t i = 4;
    for (; i < n && c[i] >= '0' && c[i] <= '9'; i++) {
        v = v * 10 + (c[i] - '0');
        if (v > FTS5_MAX_K)
            return TR_ELIMIT;
    }
    if (i == 4 || v == 0)
        return TR_EINPUT;
    *k = v;
    if (i == n) {
        *want_count = 0;
        return TR_OK;
    }
    if (n - i == 6 && !memcmp(c + i, "_COUNT", 6)) {
        *want_count = 2;
        return TR_OK;
    }
    return TR_EINPUT;
}

static void answer_line(fts5_q *f, const char *line, size_t n, strbuf *match, strbuf *ids)
{
    const char *tab = memchr(line, '\t', n);
    long k;
    int want_count;
    if (!tab || parse_command(line, (size_t)(tab - line), &k, &want_count) ||
        game_to_match(tab + 1, n - (size_t)(tab - line) - 1, match)) {
        puts("UNSUPPORTED");
        return;
    }
    long long count = 0;
    int rc;
    if (k == 0) {
        rc = run_count(f, match->p, &count);
        if (!rc) printf("%lld\n", count);
    } else {
        rc = run_top(f, match->p, k, ids, want_count ? &count : NULL);
        if (!rc && want_count) printf("%lld\t%s\n", count, ids->p);
        else if (!rc) printf("%s\n", ids->p);
    }
    if (rc) {
        fprintf(stderr, "fts5_query: %s: %s\n", match->p, sqlite3_errmsg(f->db));
        puts("UNSUPPORTED");
    }
}

static int run_protocol(fts5_q *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    strbuf match = {0}, ids = {0};
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n > FTS5_MAX_QUERY_BYTES || memchr(line, '\0', n))
            puts("UNSUPPORTED");
        else
            answer_line(f, line, n, &match, &ids);
        fflush(stdout);
    }
    free(line);
    free(match.p);
    free(ids.p);
    return 0;
}

static int run_batch(fts5_q *f, const char *topics, const char *tag, long k)
{
    FILE *in = fopen(topics, "rb");
    if (!in) {
        fprintf(stderr, "fts5_query: %s: %s\n", topics, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    strbuf match = {0}, id = {0};
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        char *tab = memchr(line, '\t', n);
        if (!tab || tab == line || n > FTS5_MAX_QUERY_BYTES || memchr(line, '\0', n) ||
            memchr(line, ' ', (size_t)(tab - line))) {
            fprintf(stderr, "fts5_query: %s:%ld: not qid<TAB>text, skipped\n", topics, lineno);
            continue;
        }
        *tab = '\0';
        if (topic_to_match(tab + 1, n - (size_t)(tab - line) - 1, &match))
            continue; /* no words: an empty result for this topic */
        sqlite3_bind_text(f->ranked, 1, match.p, -1, SQLITE_STATIC);
        sqlite3_bind_int64(f->ranked, 2, k);
        int rank = 0, step;
        while ((step = sqlite3_step(f->ranked)) == SQLITE_ROW) {
            id.len = 0;
            if (add_extid(f, sqlite3_column_int64(f->ranked, 0), &id))
                break;
            /* FTS5's bm25() is lower-is-better; TREC scores are higher-is-better */
            printf("%s Q0 %s %d %.10g %s\n", line, id.p, ++rank,
                   -sqlite3_column_double(f->ranked, 1), tag);
        }
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            fprintf(stderr, "fts5_query: topic %s: %s\n", line, sqlite3_errmsg(f->db));
        sqlite3_reset(f->ranked);
    }
    free(line);
    free(match.p);
    free(id.p);
    fclose(in);
    return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *batch = NULL, *tag = "fts5";
    long k = 1000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = argv[++i];
        } else if (!strcmp(argv[i], "--trec") && i + 1 < argc) {
            tag = argv[++i];
        } else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            char *end;
            k = strtol(argv[++i], &end, 10);
            if (*end || k < 1 || k > FTS5_MAX_K) {
                fprintf(stderr, "fts5_query: -k must be 1..%d\n", FTS5_MAX_K);
                return 2;
            }
        } else if (!strcmp(argv[i], "--protocol")) {
            /* the default; accepted for symmetry with trawl-query */
        } else if (argv[i][0] != '-' && !db) {
            db = argv[i];
        } else {
            db = NULL;
            break;
        }
    }
    if (!db) {
        fprintf(stderr, "usage: fts5_query DB [--protocol]\n"
                        "       fts5_query DB --batch TOPICS.tsv [--trec RUNTAG] [-k N]\n");
        return 2;
    }
    fts5_q f;
    if (fts5_q_open(&f, db)) {
        fts5_q_close(&f);
        return 1;
    }
    int rc = batch ? run_batch(&f, batch, tag, k) : run_protocol(&f);
    fts5_q_close(&f);
    return rc;
}
