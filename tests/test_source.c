/* test_source.c - the indexer's input layer: JSONL plain and compressed
 * (gzip, bzip2, zstd, each also concatenated), truncated and corrupt
 * compressed files, every per-record error with its exact message and the
 * records around it, the record-length limit, a 50 MB single-line document,
 * directory walking order and formats, HTML and text pages. Files are made in
 * a mkdtemp directory; the compressed ones with the libraries themselves.
 * stdin ("-") is covered by the end-to-end tests, not here. */
#include "check.h"
#include "source.h"
#include "stream.h"

#include <bzlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char tmpdir[256];

/* ---- helpers ---------------------------------------------------------- */

static char *path_of(const char *name)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t len)
{
    char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(p);
        exit(1);
    }
    fclose(f);
}

static void write_str(const char *name, const char *s) { write_file(name, s, strlen(s)); }

static void gz(const void *in, size_t len, tr_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(1);
    size_t bound = deflateBound(&z, len) + 64;
    tr_buf_reserve(out, bound);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out->data + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        exit(1);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void bz(const void *in, size_t len, tr_buf *out)
{
    unsigned cap = (unsigned)(len + len / 100 + 1024);
    tr_buf_reserve(out, cap);
    if (BZ2_bzBuffToBuffCompress((char *)out->data + out->len, &cap, (char *)in, (unsigned)len,
                                 9, 0, 0) != BZ_OK)
        exit(1);
    out->len += cap;
}

static void zst(const void *in, size_t len, tr_buf *out)
{
    size_t cap = ZSTD_compressBound(len);
    tr_buf_reserve(out, cap);
    size_t n = ZSTD_compress(out->data + out->len, cap, in, len, 3);
    if (ZSTD_isError(n))
        exit(1);
    out->len += n;
}

typedef struct event {
    int rc;
    char id[300], title[200], url[100];
    char *body;
    size_t body_len;
    int64_t date;
    char err[700];
} event;

typedef struct run_result {
    event ev[64];
    int n;          /* events recorded (at most 64) */
    int docs;       /* documents seen in total */
    int open_rc;
    char open_err[700];
    uint64_t done, total;
    tr_source_counts counts;
    char last_id[300];
} run_result;

/* Read a source to its end; record the first 64 events. */
static void run(const char *path, const tr_source_opts *o, run_result *r)
{
    memset(r, 0, sizeof *r);
    tr_source *s;
    r->open_rc = tr_source_open(path, o, &s, r->open_err, sizeof r->open_err);
    if (r->open_rc)
        return;
    for (int guard = 0; guard < 1000000; guard++) {
        tr_doc_in d;
        char err[700] = "";
        int rc = tr_source_next(s, &d, err, sizeof err);
        if (rc == 0)
            break;
        if (rc == 1) {
            r->docs++;
            snprintf(r->last_id, sizeof r->last_id, "%.*s", (int)d.id_len, d.id);
        }
        if (r->n < 64) {
            event *e = &r->ev[r->n++];
            e->rc = rc;
            snprintf(e->err, sizeof e->err, "%s", err);
            if (rc == 1) {
                snprintf(e->id, sizeof e->id, "%.*s", (int)d.id_len, d.id);
                snprintf(e->title, sizeof e->title, "%.*s", (int)d.title_len, d.title);
                snprintf(e->url, sizeof e->url, "%.*s", (int)d.url_len, d.url);
                e->body = malloc(d.body_len + 1);
                memcpy(e->body, d.body, d.body_len);
                e->body[d.body_len] = 0;
                e->body_len = d.body_len;
                e->date = d.date;
            }
        }
    }
    tr_source_progress(s, &r->done, &r->total);
    tr_source_get_counts(s, &r->counts);
    tr_source_close(s);
}

static void run_free(run_result *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->ev[i].body);
}

static int streq(const char *a, const char *b)
{
    if (!a)
        a = "(no document)";
    if (strcmp(a, b)) {
        fprintf(stderr, "  got:  \"%s\"\n  want: \"%s\"\n", a, b);
        return 0;
    }
    return 1;
}

static int starts(const char *a, const char *prefix)
{
    if (strncmp(a, prefix, strlen(prefix))) {
        fprintf(stderr, "  got:  \"%s\"\n  want prefix: \"%s\"\n", a, prefix);
        return 0;
    }
    return 1;
}

/* n records {"id":"r<i>","body":"body <i> ..."} */
static void make_records(tr_buf *b, int from, int to)
{
    char line[200];
    for (int i = from; i < to; i++) {
        int n = snprintf(line, sizeof line,
                         "{\"id\":\"r%d\",\"title\":\"T%d\",\"body\":\"body %d lorem ipsum dolor\"}\n",
                         i, i, i);
        tr_buf_append(b, line, (size_t)n);
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_plain_jsonl(void)
{
    write_str("plain.jsonl",
              "{\"id\":\"doc-1\",\"title\":\"First\",\"body\":\"hello world\",\"url\":\"http://x/1\","
              "\"date\":\"2018-12-22\"}\n"
              "\n"
              "   \r\n"
              "{\"id\":42,\"body\":\"\\u00e9t\\u00e9\",\"extra\":[1,{\"a\":null}],\"title\":null}\r\n"
              "{\"id\":\"no-body\",\"date\":1545436800}\n"
              "{\"id\":\"bad-date\",\"body\":\"b\",\"date\":\"someday\"}");
    run_result r;
    run(path_of("plain.jsonl"), NULL, &r);
    CHECK_EQ_INT(r.open_rc, 0);
    CHECK_EQ_INT(r.n, 4);
    CHECK_EQ_INT(r.docs, 4);
    CHECK(streq(r.ev[0].id, "doc-1"));
    CHECK(streq(r.ev[0].title, "First"));
    CHECK(streq(r.ev[0].body, "hello world"));
    CHECK(streq(r.ev[0].url, "http://x/1"));
    CHECK_EQ_INT(r.ev[0].date, 1545436800);
    CHECK(streq(r.ev[1].id, "42"));
    CHECK(streq(r.ev[1].title, ""));
    CHECK(streq(r.ev[1].body, "\xc3\xa9t\xc3\xa9"));
    CHECK_EQ_INT(r.ev[1].date, TR_NO_DATE);
    CHECK(streq(r.ev[2].id, "no-body"));
    CHECK_EQ_INT(r.ev[2].body_len, 0);
    CHECK_EQ_INT(r.ev[2].date, 1545436800);
    CHECK(streq(r.ev[3].id, "bad-date"));   /* last line without newline, valid */
    CHECK_EQ_INT(r.ev[3].date, TR_NO_DATE);
    CHECK_EQ_INT(r.counts.bad_dates, 1);
    CHECK_EQ_INT(r.counts.blank_lines, 2);
    CHECK_EQ_INT(r.counts.files, 1);
    struct stat st;
    stat(path_of("plain.jsonl"), &st);
    CHECK_EQ_INT(r.done, st.st_size);
    CHECK_EQ_INT(r.total, st.st_size);
    run_free(&r);

    /* Other member names. */
    write_str("fields.jsonl", "{\"docno\":\"D1\",\"text\":\"the text\",\"body\":\"not this\"}\n");
    tr_source_opts o;
    tr_source_opts_default(&o);
    o.id_field = "docno";
    o.body_field = "text";
    run(path_of("fields.jsonl"), &o, &r);
    CHECK_EQ_INT(r.docs, 1);
    CHECK(streq(r.ev[0].id, "D1"));
    CHECK(streq(r.ev[0].body, "the text"));
    run_free(&r);

    /* An empty file: no documents, no error. */
    write_str("empty.jsonl", "");
    run(path_of("empty.jsonl"), NULL, &r);
    CHECK_EQ_INT(r.open_rc, 0);
    CHECK_EQ_INT(r.n, 0);
    run_free(&r);
}

static void test_jsonl_errors(void)
{
    char longid[400], line[600];
    memset(longid, 'x', sizeof longid);
    tr_buf b = {0};
    const char *head =
        "{\"id\":\"ok1\",\"body\":\"a\"}\n"                       /* 1 */
        "this is not json\n"                                     /* 2 */
        "[1,2,3]\n"                                              /* 3 */
        "{\"body\":\"no id\"}\n"                                 /* 4 */
        "{\"id\":1.5,\"body\":\"x\"}\n"                          /* 5 */
        "{\"id\":\"b\",\"body\":5}\n"                            /* 6 */
        "{\"id\":\"t\",\"title\":[\"x\"]}\n"                     /* 7 */
        "{\"id\":\"\",\"body\":\"x\"}\n"                         /* 8 */
        "{\"id\":\"ok2\",\"body\":\"bad \xff utf8\"}\n"          /* 9 */
        "{\"id\":\"ok3\"} trailing\n";                           /* 10 */
    tr_buf_append(&b, head, strlen(head));
    tr_buf_append(&b, "{\"id\":\"n\",\"body\":\"a", 19);
    tr_buf_append(&b, "\0", 1);
    tr_buf_append(&b, "b\"}\n", 4);                                /* 11: raw NUL */
    int n = snprintf(line, sizeof line, "{\"id\":\"%.*s\"}\n", TR_MAX_ID_BYTES + 1, longid);
    tr_buf_append(&b, line, (size_t)n);                            /* 12 */
    n = snprintf(line, sizeof line, "{\"id\":\"%.*s\"}\n", TR_MAX_ID_BYTES, longid);
    tr_buf_append(&b, line, (size_t)n);                            /* 13: at the limit, ok */
    const char *tail =
        "{\"id\":\"ok4\",\"body\":\"after\"}\n"                  /* 14 */
        "{\"id\":\"cut\",\"bo";                                  /* 15: cut off */
    tr_buf_append(&b, tail, strlen(tail));
    write_file("errors.jsonl", b.data, b.len);
    tr_buf_free(&b);

    const char *f = path_of("errors.jsonl");
    char want[800];
    run_result r;
    run(f, NULL, &r);
    CHECK_EQ_INT(r.n, 15);
    CHECK_EQ_INT(r.docs, 3);
    if (r.n != 15)
        return;
    CHECK_EQ_INT(r.ev[0].rc, 1);
    CHECK(streq(r.ev[0].id, "ok1"));
    int line_of_bad[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    for (int i = 0; i < 11; i++) {
        CHECK_EQ_INT(r.ev[1 + i].rc, TR_EINPUT);
        snprintf(want, sizeof want, "%s:%d: ", f, line_of_bad[i]);
        CHECK(starts(r.ev[1 + i].err, want));
    }
    snprintf(want, sizeof want, "%s:2: invalid JSON at column 2: lexical error", f);
    CHECK(starts(r.ev[1].err, want));
    snprintf(want, sizeof want, "%s:3: record is not a JSON object", f);
    CHECK(streq(r.ev[2].err, want));
    snprintf(want, sizeof want, "%s:4: missing \"id\"", f);
    CHECK(streq(r.ev[3].err, want));
    snprintf(want, sizeof want, "%s:5: \"id\" is not a string or integer", f);
    CHECK(streq(r.ev[4].err, want));
    snprintf(want, sizeof want, "%s:6: member \"body\" is not a string", f);
    CHECK(streq(r.ev[5].err, want));
    snprintf(want, sizeof want, "%s:7: member \"title\" is not a string", f);
    CHECK(streq(r.ev[6].err, want));
    snprintf(want, sizeof want, "%s:8: \"id\" is empty", f);
    CHECK(streq(r.ev[7].err, want));
    snprintf(want, sizeof want, "%s:9: invalid JSON at column ", f);
    CHECK(starts(r.ev[8].err, want));          /* jansson rejects invalid UTF-8 */
    snprintf(want, sizeof want, "%s:10: invalid JSON at column ", f);
    CHECK(starts(r.ev[9].err, want));          /* trailing garbage */
    snprintf(want, sizeof want, "%s:11: invalid JSON at column ", f);
    CHECK(starts(r.ev[10].err, want));         /* a raw NUL byte */
    snprintf(want, sizeof want, "%s:12: \"id\" longer than 256 bytes", f);
    CHECK(streq(r.ev[11].err, want));
    CHECK_EQ_INT(r.ev[12].rc, 1);
    CHECK_EQ_INT(strlen(r.ev[12].id), TR_MAX_ID_BYTES);
    CHECK_EQ_INT(r.ev[13].rc, 1);
    CHECK(streq(r.ev[13].id, "ok4"));
    CHECK(r.ev[13].body && streq(r.ev[13].body, "after"));
    CHECK_EQ_INT(r.ev[14].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:15: invalid JSON at column 16: ", f); /* past its end */
    CHECK(starts(r.ev[14].err, want));
    CHECK_EQ_INT(r.counts.bad_records, 12);
    run_free(&r);

    /* Binary garbage named .jsonl: only errors, never a crash, and an end. */
    uint8_t junk[300000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    write_file("junk.jsonl", junk, sizeof junk);
    run(path_of("junk.jsonl"), NULL, &r);
    CHECK_EQ_INT(r.open_rc, 0);
    CHECK_EQ_INT(r.docs, 0);
    CHECK(r.counts.bad_records > 0);
    run_free(&r);
}

/* The streaming parse: strings with escapes are copied apart (and survive
 * the strings after them), the last duplicate member wins, members of
 * nested objects are not mistaken for the record's, strict UTF-8 holds for
 * the members kept, and deep nesting is refused or accepted without a crash. */
/* Members are held to strict UTF-8 after yajl (no surrogates, no overlong
 * forms), whether the bad bytes come first, after a run of ASCII that the
 * check skips eight bytes at a time, or in the run's last bytes; and valid
 * multi-byte characters at the same places pass. */
static void test_jsonl_utf8(void)
{
    static const char *bad[] = { "\xED\xA0\x80", "\xC0\xAF", "\xF4\x90\x80\x80" };
    static const char *good[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80" };
    tr_buf b = {0};
    char line[200];
    int nrec = 0;
    for (int k = 0; k < 3; k++)
        for (int lead = 0; lead < 20; lead++) {
            for (int g = 0; g < 2; g++) {
                int n = snprintf(line, sizeof line, "{\"id\":\"r%d\",\"body\":\"%.*s%sxyz\"}\n", nrec,
                                 lead, "abcdefghijklmnopqrstuvwxyz", g ? good[k] : bad[k]);
                tr_buf_append(&b, line, (size_t)n);
                nrec++;
            }
        }
    write_file("utf8.jsonl", b.data, b.len);
    tr_buf_free(&b);
    tr_source *s;
    char err[700];
    CHECK_EQ_INT(tr_source_open(path_of("utf8.jsonl"), NULL, &s, err, sizeof err), 0);
    for (int i = 0; i < nrec; i++) {
        tr_doc_in d;
        err[0] = 0;
        int rc = tr_source_next(s, &d, err, sizeof err);
        if (i % 2) {
            CHECK_EQ_INT(rc, 1);
        } else {
            CHECK_EQ_INT(rc, TR_EINPUT);
            CHECK(strstr(err, "member \"body\" is not valid UTF-8") != NULL);
        }
    }
    tr_doc_in d;
    CHECK_EQ_INT(tr_source_next(s, &d, err, sizeof err), 0);
    tr_source_close(s);
}

static void test_jsonl_stream(void)
{
    tr_buf b = {0};
    const char *text =
        "{\"title\":\"a\\\"b\",\"body\":\"c\\nd\\u0041\",\"id\":\"e\\/f\",\"url\":\"plain\"}\n" /* 1 */
        "{\"id\":\"x\",\"body\":\"first\",\"body\":\"second\",\"id\":\"y\"}\n"                   /* 2 */
        "{\"meta\":{\"id\":\"inner\",\"body\":7},\"id\":\"outer\",\"list\":[{\"title\":1}]}\n"   /* 3 */
        "{\"id\":\"o\",\"body\":\"over\xc0\xaflong\"}\n"                                      /* 4 */
        "{\"id\":\"s\",\"title\":\"sur\xed\xa0\x80rogate\"}\n"                                /* 5 */
        "{\"id\":\"n\",\"body\":\"nul\\u0000inside\"}\n"                                      /* 6 */
        "{\"id\":\"t\",\"body\":true}\n";                                                     /* 7 */
    tr_buf_append(&b, text, strlen(text));
    tr_buf_append(&b, "{\"id\":\"deep\",\"x\":", 17);                                       /* 8 */
    for (int i = 0; i < 100000; i++) tr_buf_append(&b, "[", 1);
    for (int i = 0; i < 100000; i++) tr_buf_append(&b, "]", 1);
    tr_buf_append(&b, "}\n", 2);
    write_file("stream.jsonl", b.data, b.len);
    tr_buf_free(&b);

    const char *f = path_of("stream.jsonl");
    char want[600];
    run_result r;
    run(f, NULL, &r);
    CHECK_EQ_INT(r.n, 8);
    if (r.n != 8) {
        run_free(&r);
        return;
    }
    CHECK(streq(r.ev[0].title, "a\"b"));
    CHECK(streq(r.ev[0].body, "c\ndA"));
    CHECK(streq(r.ev[0].id, "e/f"));
    CHECK(streq(r.ev[0].url, "plain"));
    CHECK(streq(r.ev[1].id, "y"));
    CHECK(streq(r.ev[1].body, "second"));
    CHECK_EQ_INT(r.ev[2].rc, 1);
    CHECK(streq(r.ev[2].id, "outer"));
    CHECK_EQ_INT(r.ev[2].body_len, 0);
    CHECK_EQ_INT(r.ev[3].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:4: ", f);
    CHECK(starts(r.ev[3].err, want));
    CHECK_EQ_INT(r.ev[4].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:5: ", f);
    CHECK(starts(r.ev[4].err, want));
    CHECK_EQ_INT(r.ev[5].rc, 1);
    CHECK_EQ_INT(r.ev[5].body_len, 10);
    CHECK_EQ_INT(r.ev[6].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:7: member \"body\" is not a string", f);
    CHECK(streq(r.ev[6].err, want));
    CHECK_EQ_INT(r.ev[7].rc, 1);
    CHECK(streq(r.ev[7].id, "deep"));
    run_free(&r);
}

static void test_record_limit(void)
{
    tr_source_opts o;
    tr_source_opts_default(&o);
    CHECK_EQ_INT(o.max_record, TR_MAX_RECORD_BYTES);
    o.max_record = 100;
    tr_buf b = {0};
    char line[400];
    tr_buf_append(&b, "{\"id\":\"a\"}\n", 11);
    /* line 2: exactly 100 bytes (without its newline): accepted */
    int n = snprintf(line, sizeof line, "{\"id\":\"b\",\"body\":\"%s\"}\n",
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    CHECK_EQ_INT(n, 101);
    tr_buf_append(&b, line, (size_t)n);
    /* line 3: 101 bytes: refused */
    n = snprintf(line, sizeof line, "{\"id\":\"c\",\"body\":\"%s\"}\n",
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    tr_buf_append(&b, line, (size_t)n);
    tr_buf_append(&b, "{\"id\":\"d\"}\n", 11);
    /* line 5: 300 bytes and the file's last line, no newline */
    memset(line, 'y', 300);
    tr_buf_append(&b, line, 300);
    write_file("limit.jsonl", b.data, b.len);
    tr_buf_free(&b);

    const char *f = path_of("limit.jsonl");
    char want[600];
    run_result r;
    run(f, &o, &r);
    CHECK_EQ_INT(r.n, 5);
    CHECK(streq(r.ev[0].id, "a"));
    CHECK(streq(r.ev[1].id, "b"));
    CHECK_EQ_INT(r.ev[2].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:3: record longer than 100 bytes", f);
    CHECK(streq(r.ev[2].err, want));
    CHECK(streq(r.ev[3].id, "d"));
    CHECK_EQ_INT(r.ev[4].rc, TR_EINPUT);
    snprintf(want, sizeof want, "%s:5: record longer than 100 bytes", f);
    CHECK(streq(r.ev[4].err, want));
    run_free(&r);
}

/* The same records through every compression, single and concatenated;
 * 40000 records (about 2.4 MB) so that lines cross the 1 MiB chunks. */
static void test_compressed(void)
{
    enum { N = 40000 };
    tr_buf plain = {0}, half1 = {0}, half2 = {0};
    make_records(&plain, 0, N);
    make_records(&half1, 0, N / 2);
    make_records(&half2, N / 2, N);
    CHECK(plain.len > 2 * TR_STREAM_BUF_BYTES);
    struct {
        const char *name;
        void (*fn)(const void *, size_t, tr_buf *);
        int split;
    } kinds[] = {
        {"c.jsonl.gz", gz, 0}, {"c.jsonl.bz2", bz, 0}, {"c.jsonl.zst", zst, 0},
        {"multi.jsonl.gz", gz, 1}, {"multi.jsonl.bz2", bz, 1}, {"multi.jsonl.zst", zst, 1},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        tr_buf c = {0};
        if (kinds[k].split) {
            kinds[k].fn(half1.data, half1.len, &c);
            kinds[k].fn(half2.data, half2.len, &c);
        } else {
            kinds[k].fn(plain.data, plain.len, &c);
        }
        write_file(kinds[k].name, c.data, c.len);
        run_result r;
        run(path_of(kinds[k].name), NULL, &r);
        if (r.docs != N)
            fprintf(stderr, "%s: %d docs, first event %d %s\n", kinds[k].name, r.docs,
                    r.n ? r.ev[0].rc : 0, r.n ? r.ev[0].err : "");
        CHECK_EQ_INT(r.docs, N);
        CHECK_EQ_INT(r.counts.bad_records, 0);
        CHECK(streq(r.ev[0].id, "r0"));
        CHECK(streq(r.ev[0].body, "body 0 lorem ipsum dolor"));
        CHECK(streq(r.last_id, "r39999"));
        CHECK_EQ_INT(r.done, c.len);
        CHECK_EQ_INT(r.total, c.len);
        run_free(&r);
        tr_buf_free(&c);
    }
    /* A compressed file with no known extension is still detected (the
     * content after decompression decides it is JSONL). */
    tr_buf c = {0};
    zst(half1.data, half1.len, &c);
    write_file("noext", c.data, c.len);
    run_result r;
    run(path_of("noext"), NULL, &r);
    CHECK_EQ_INT(r.docs, N / 2);
    run_free(&r);
    tr_buf_free(&c);
    tr_buf_free(&plain);
    tr_buf_free(&half1);
    tr_buf_free(&half2);
}

/* Five complete records in a first member/stream/frame, then a second one
 * cut short: the five come back, then TR_EIO naming the file and the offset
 * (the whole file was consumed, so the offset is its size). */
static void test_truncated(void)
{
    tr_buf five = {0}, more = {0};
    make_records(&five, 0, 5);
    make_records(&more, 5, 50);
    struct {
        const char *name, *what;
        void (*fn)(const void *, size_t, tr_buf *);
    } kinds[] = {
        {"trunc.jsonl.gz", "gzip", gz},
        {"trunc.jsonl.bz2", "bzip2", bz},
        {"trunc.jsonl.zst", "zstd", zst},
    };
    for (size_t k = 0; k < 3; k++) {
        tr_buf c = {0}, second = {0};
        kinds[k].fn(five.data, five.len, &c);
        kinds[k].fn(more.data, more.len, &second);
        /* keep only the second part's first 12 bytes: its header, no record */
        tr_buf_append(&c, second.data, 12);
        write_file(kinds[k].name, c.data, c.len);
        const char *f = path_of(kinds[k].name);
        run_result r;
        run(f, NULL, &r);
        CHECK_EQ_INT(r.n, 6);
        CHECK_EQ_INT(r.docs, 5);
        CHECK(streq(r.ev[4].id, "r4"));
        CHECK_EQ_INT(r.ev[5].rc, TR_EIO);
        char want[600];
        snprintf(want, sizeof want, "%s: byte %zu: truncated %s stream", f, c.len, kinds[k].what);
        CHECK(streq(r.ev[5].err, want));
        run_free(&r);

        /* One stream cut in its middle: a prefix of the records, in order,
         * then the error; never a partial record. */
        tr_buf one = {0};
        kinds[k].fn(more.data, more.len, &one);
        write_file(kinds[k].name, one.data, one.len / 2);
        run(f, NULL, &r);
        CHECK(r.n >= 1 && r.n <= 64);
        int ok = 1;
        for (int i = 0; i + 1 < r.n; i++) {
            char id[16];
            snprintf(id, sizeof id, "r%d", 5 + i);
            ok &= r.ev[i].rc == 1 && !strcmp(r.ev[i].id, id);
        }
        CHECK(ok);
        CHECK(r.docs < 45);
        CHECK_EQ_INT(r.counts.bad_records, 0);
        CHECK_EQ_INT(r.ev[r.n - 1].rc, TR_EIO);
        snprintf(want, sizeof want, "%s: byte %zu: truncated %s stream", f, one.len / 2,
                 kinds[k].what);
        CHECK(streq(r.ev[r.n - 1].err, want));
        run_free(&r);

        /* Corrupt data in the middle: TR_EIO "corrupt ..." (bzip2 and zstd
         * check sums; gzip's CRC catches it at the latest). */
        one.data[one.len / 2] ^= 0x55;
        one.data[one.len / 2 + 1] ^= 0xaa;
        write_file(kinds[k].name, one.data, one.len);
        run(f, NULL, &r);
        CHECK(r.n >= 1);
        CHECK_EQ_INT(r.ev[r.n - 1].rc, TR_EIO);
        snprintf(want, sizeof want, "%s: byte ", f);
        CHECK(starts(r.ev[r.n - 1].err, want));
        snprintf(want, sizeof want, "corrupt %s stream", kinds[k].what);
        CHECK(strstr(r.ev[r.n - 1].err, want) != NULL);
        run_free(&r);
        tr_buf_free(&c);
        tr_buf_free(&second);
        tr_buf_free(&one);
    }
    /* Only the magic bytes. */
    write_file("magic.gz", "\x1f\x8b", 2);
    run_result r;
    run(path_of("magic.gz"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.ev[0].rc, TR_EIO);
    run_free(&r);
    tr_buf_free(&five);
    tr_buf_free(&more);
}

static void test_big_record(void)
{
    enum { BIG = 50 << 20 };
    tr_buf b = {0};
    tr_buf_append(&b, "{\"id\":\"small\"}\n{\"id\":\"big\",\"body\":\"", 35);
    tr_buf_reserve(&b, BIG + 100);
    for (size_t i = 0; i < BIG; i++)
        b.data[b.len + i] = "abcdefgh "[i % 9];
    b.len += BIG;
    tr_buf_append(&b, "\"}\n{\"id\":\"after\"}\n", 18);
    tr_buf c = {0};
    zst(b.data, b.len, &c);
    write_file("big.jsonl", b.data, b.len);
    write_file("big.jsonl.zst", c.data, c.len);
    tr_buf_free(&b);
    tr_buf_free(&c);
    const char *names[] = {"big.jsonl", "big.jsonl.zst"};
    for (int k = 0; k < 2; k++) {
        run_result r;
        run(path_of(names[k]), NULL, &r);
        CHECK_EQ_INT(r.n, 3);
        CHECK(streq(r.ev[1].id, "big"));
        CHECK_EQ_INT(r.ev[1].body_len, BIG);
        CHECK(r.ev[1].body && r.ev[1].body[BIG - 1] == "abcdefgh "[(BIG - 1) % 9]);
        CHECK(streq(r.ev[2].id, "after"));
        run_free(&r);
    }
}

static void test_html(void)
{
    write_str("page.html",
              "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
              "<title>The &amp; Title</title>"
              "<meta name=\"date\" content=\"2018-12-22T10:11:12Z\">"
              "<style>body { color: red }</style><script>var hidden = 1;</script></head>"
              "<body><h1>Main   heading</h1>\n<p>Hello&nbsp;world &lt;ok&gt; &#233;t&eacute;</p>"
              "<script>evil();</script><div>Second\n\t line<br>third<b>bold</b>end</div>"
              "<noscript>enable js</noscript><template><p>tpl</p></template>"
              "<ul><li>one</li><li>two</li></ul>Caf\xc3\xa9</body></html>");
    run_result r;
    run(path_of("page.html"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(streq(r.ev[0].id, path_of("page.html")));
    CHECK(streq(r.ev[0].title, "The & Title"));
    CHECK(streq(r.ev[0].body, "Main heading\nHello\xc2\xa0world <ok> \xc3\xa9t\xc3\xa9\n"
                              "Second line\nthirdboldend\none\ntwo\nCaf\xc3\xa9"));
    CHECK_EQ_INT(r.ev[0].date, 1545473472);
    run_free(&r);

    /* No <title>: the first <h1>; date from <time datetime>; a fragment
     * without <html>/<body>; sniffed by content (no extension). */
    write_str("fragment",
              "  <div><h1>Fallback <i>title</i></h1><h1>Second</h1>"
              "<p>Posted <time datetime=\"2018-12-22\">today</time></p></div>");
    run(path_of("fragment"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(streq(r.ev[0].title, "Fallback title"));
    CHECK(streq(r.ev[0].body, "Fallback title\nSecond\nPosted today"));
    CHECK_EQ_INT(r.ev[0].date, 1545436800);
    run_free(&r);

    /* Latin-1 declared by meta: converted to UTF-8. */
    write_str("latin1.htm",
              "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"
              "<title>caf\xe9</title></head><body>na\xefve</body></html>");
    run(path_of("latin1.htm"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(streq(r.ev[0].title, "caf\xc3\xa9"));
    CHECK(streq(r.ev[0].body, "na\xc3\xafve"));
    run_free(&r);

    /* Hostile markup: deep nesting, unclosed tags. */
    tr_buf b = {0};
    for (int i = 0; i < 5000; i++)
        tr_buf_append(&b, "<div><span>", 11);
    tr_buf_append(&b, "deep<p>unclosed<td>cell", 23);
    write_file("deep.html", b.data, b.len);
    tr_buf_free(&b);
    run(path_of("deep.html"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(r.ev[0].rc == 1 || r.ev[0].rc == TR_EINPUT);
    run_free(&r);
}

static void test_text(void)
{
    write_str("t.txt", "\xef\xbb\xbf\n  \n  My Title \r\nbody line 1\nbody line 2\n");
    run_result r;
    run(path_of("t.txt"), NULL, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(streq(r.ev[0].title, "My Title"));
    CHECK(streq(r.ev[0].body, "body line 1\nbody line 2\n"));
    CHECK_EQ_INT(r.ev[0].date, TR_NO_DATE);
    run_free(&r);

    /* A forced format wins over the extension. */
    write_str("forced.jsonl", "{\"id\":\"x\"}\nsecond\n");
    tr_source_opts o;
    tr_source_opts_default(&o);
    o.format = TR_FMT_TEXT;
    run(path_of("forced.jsonl"), &o, &r);
    CHECK_EQ_INT(r.n, 1);
    CHECK(streq(r.ev[0].title, "{\"id\":\"x\"}"));
    CHECK(streq(r.ev[0].body, "second\n"));
    run_free(&r);

    /* A path that does not exist: fatal at open. */
    run(path_of("missing.jsonl"), NULL, &r);
    CHECK_EQ_INT(r.open_rc, TR_EIO);
    char want[600];
    snprintf(want, sizeof want, "%s: No such file or directory", path_of("missing.jsonl"));
    CHECK(streq(r.open_err, want));
}

static void test_directory(void)
{
    char d[512];
    snprintf(d, sizeof d, "%s/tree", tmpdir);
    mkdir(d, 0755);
    mkdir(path_of("tree/c"), 0755);
    mkdir(path_of("tree/c/empty"), 0755);
    write_str("tree/b.txt", "B title\nB body\n");
    write_str("tree/B.txt", "Upper\nfirst in byte order\n");
    write_str("tree/a.html", "<title>A</title><p>a body</p>");
    write_str("tree/a-b.txt", "dash\nbefore c? no: '-' < 'b' < 'c'\n");
    write_str("tree/c/a.txt", "CA\nnested\n");
    tr_buf z = {0};
    gz("{\"id\":\"z1\"}\n{\"id\":\"z2\"}\n", 24, &z);
    write_file("tree/c/z.jsonl.gz", z.data, z.len);
    tr_buf_free(&z);
    write_str("tree/d.HTM", "<h1>D</h1>");
    write_str("tree/e.ndjson", "{\"id\":\"e1\",\"body\":\"e\"}\n");
    write_str("tree/notes.md", "# skipped\n");
    write_str("tree/empty.txt", " \n\n");
    write_file("tree/bin.txt", "GIF89a\0\0\1\2", 10);
    if (symlink(d, path_of("tree/c/loop")) != 0)
        perror("symlink");
    if (symlink(path_of("tree/b.txt"), path_of("tree/f-link.txt")) != 0)
        perror("symlink");

    run_result r;
    run(d, NULL, &r);
    CHECK_EQ_INT(r.open_rc, 0);
    const char *want_ids[] = {"B.txt", "a-b.txt", "a.html", "b.txt", NULL, "c/a.txt", "z1", "z2",
                              "d.HTM", "e1", NULL, "f-link.txt"};
    int nwant = (int)(sizeof want_ids / sizeof want_ids[0]);
    CHECK_EQ_INT(r.n, nwant);
    for (int i = 0; i < nwant && i < r.n; i++) {
        if (want_ids[i])
            CHECK(streq(r.ev[i].id, want_ids[i]));
        else
            CHECK_EQ_INT(r.ev[i].rc, TR_EINPUT);
    }
    char want[600];
    snprintf(want, sizeof want, "%s/bin.txt: binary file skipped", d);
    CHECK(streq(r.ev[4].err, want));
    snprintf(want, sizeof want, "%s/empty.txt: empty page skipped", d);
    CHECK(streq(r.ev[10].err, want));
    CHECK(streq(r.ev[2].title, "A"));
    CHECK(streq(r.ev[2].body, "a body"));
    CHECK(streq(r.ev[8].title, "D"));
    CHECK(streq(r.ev[11].title, "B title"));
    CHECK_EQ_INT(r.counts.skipped_files, 2); /* notes.md, the directory symlink */
    CHECK_EQ_INT(r.counts.files, 11);
    CHECK_EQ_INT(r.done, r.total);
    CHECK(r.total > 0);
    run_free(&r);

    /* A file that cannot be opened when its turn comes (here: deleted after
     * the listing; unreadable files behave alike) is one TR_EINPUT naming
     * it, and the walk goes on. */
    char d3[540];
    snprintf(d3, sizeof d3, "%s/vanish", tmpdir);
    mkdir(d3, 0755);
    write_str("vanish/a.txt", "A\na\n");
    write_str("vanish/b.txt", "B\nb\n");
    write_str("vanish/c.txt", "C\nc\n");
    tr_source *src;
    char err[700];
    CHECK_EQ_INT(tr_source_open(d3, NULL, &src, err, sizeof err), 0);
    unlink(path_of("vanish/b.txt"));
    tr_doc_in doc;
    CHECK_EQ_INT(tr_source_next(src, &doc, err, sizeof err), 1);
    CHECK_EQ_INT(doc.id_len, 5);
    CHECK(doc.id && !memcmp(doc.id, "a.txt", 5));
    CHECK_EQ_INT(tr_source_next(src, &doc, err, sizeof err), TR_EINPUT);
    snprintf(want, sizeof want, "%s/b.txt: cannot open: No such file or directory", d3);
    CHECK(streq(err, want));
    CHECK_EQ_INT(tr_source_next(src, &doc, err, sizeof err), 1);
    CHECK(doc.id && !memcmp(doc.id, "c.txt", 5));
    CHECK_EQ_INT(tr_source_next(src, &doc, err, sizeof err), 0);
    CHECK_EQ_INT(tr_source_next(src, &doc, err, sizeof err), 0);
    tr_source_close(src);
    tr_source_close(NULL);

    /* A trailing slash gives the same ids. */
    char d2[520];
    snprintf(d2, sizeof d2, "%s/", d);
    run(d2, NULL, &r);
    CHECK_EQ_INT(r.n, nwant);
    CHECK(streq(r.ev[0].id, "B.txt"));
    CHECK(streq(r.ev[5].id, "c/a.txt"));
    run_free(&r);
}

int main(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_source.XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_plain_jsonl();
    test_jsonl_errors();
    test_jsonl_utf8();
    test_jsonl_stream();
    test_record_limit();
    test_compressed();
    test_truncated();
    test_big_record();
    test_html();
    test_text();
    test_directory();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done();
}
