/* bench_analyze.c - analysis throughput on one core over real articles:
 * loads title+body of JSON Lines (.zst or plain) into memory, then times only
 * analysis: (a) an ASCII split+lowercase baseline, (b) the full pipeline with
 * english stemming and the stem cache, (c) the same without the cache.
 *
 * usage: bench_analyze [--mb N] [--only a|b|c|d] [FILE]   ((d): no stemming)
 * FILE defaults to $TRAWL_SHARED_DATA/wiki/enwiki-2015.jsonl.zst, then
 * ../shared/data/wiki/enwiki-2015.jsonl.zst; absent -> "skipped", exit 0. */
#include "analyze.h"
#include "analyze_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#define DEFAULT_REL "wiki/enwiki-2015.jsonl.zst"
#define LINE_MAX_BYTES (64u << 20) /* one JSON line; longer lines are skipped */
#define READ_CHUNK (1u << 20)

typedef struct corpus {
    tr_buf text;   /* all fields back to back */
    tr_buf spans;  /* pairs of uint64 (offset, length), one per field */
    size_t fields;
} corpus;

static double now(void)
{
    struct timespec ts;
    /* CPU time of this thread: the figure is one core's throughput, and
     * other processes on a shared machine do not inflate it */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add_field(corpus *c, json_t *doc, const char *name)
{
    json_t *v = json_object_get(doc, name);
    if (!json_is_string(v)) return 0;
    size_t n = json_string_length(v);
    uint64_t span[2] = {c->text.len, n};
    if (tr_buf_append(&c->text, json_string_value(v), n) ||
        tr_buf_append(&c->spans, span, sizeof span))
        return -1;
    c->fields++;
    return 0;
}

static int add_line(corpus *c, const char *line, size_t n)
{
    json_error_t err;
    json_t *doc = json_loadb(line, n, 0, &err);
    if (!doc) return 0; /* malformed line: not part of what we time */
    int rc = add_field(c, doc, "title");
    if (rc == 0) rc = add_field(c, doc, "body");
    json_decref(doc);
    return rc;
}

/* Read JSON Lines from path (zstd or plain) until limit bytes of text. */
static int load(const char *path, size_t limit, corpus *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t plen = strlen(path);
    int zst = plen > 4 && strcmp(path + plen - 4, ".zst") == 0;
    ZSTD_DStream *z = zst ? ZSTD_createDStream() : NULL;
    if (z) ZSTD_initDStream(z);
    uint8_t *in = malloc(READ_CHUNK), *out = malloc(ZSTD_DStreamOutSize());
    tr_buf line = {0};
    int rc = 0, done = 0;
    while (!done && c->text.len < limit) {
        size_t got = fread(in, 1, READ_CHUNK, f);
        if (got == 0) break;
        ZSTD_inBuffer ib = {in, got, 0};
        while (!done && (zst ? ib.pos < ib.size : ib.pos == 0)) {
            const uint8_t *p;
            size_t n;
            if (zst) {
                ZSTD_outBuffer ob = {out, ZSTD_DStreamOutSize(), 0};
                size_t r = ZSTD_decompressStream(z, &ob, &ib);
                if (ZSTD_isError(r)) { fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(r)); rc = -1; done = 1; break; }
                p = out; n = ob.pos;
            } else {
                p = in; n = got; ib.pos = got;
            }
            for (size_t i = 0; i < n && !done; i++) {
                if (p[i] != '\n') {
                    if (line.len < LINE_MAX_BYTES && tr_buf_append(&line, p + i, 1)) { rc = -1; done = 1; }
                    continue;
                }
                if (line.len && add_line(c, (const char *)line.data, line.len)) { rc = -1; done = 1; }
                tr_buf_clear(&line);
                if (c->text.len >= limit) done = 1;
            }
        }
    }
    if (!done && line.len && c->text.len < limit) add_line(c, (const char *)line.data, line.len);
    tr_buf_free(&line);
    free(in);
    free(out);
    ZSTD_freeDStream(z);
    fclose(f);
    return rc;
}

typedef struct sink {
    uint64_t terms, bytes;
} sink;

static int count_term(void *ctx, const tr_token *t)
{
    sink *s = ctx;
    s->terms++;
    s->bytes += t->len + (uint8_t)t->term[0];
    return 0;
}

/* (a) the floor: ASCII letters and digits, lowercased, everything else splits */
static void baseline(const corpus *c, sink *s)
{
    char word[TR_MAX_TERM_BYTES];
    const uint64_t *sp = (const uint64_t *)c->spans.data;
    for (size_t k = 0; k < c->fields; k++) {
        const uint8_t *p = c->text.data + sp[2 * k];
        size_t n = sp[2 * k + 1], w = 0;
        for (size_t i = 0; i <= n; i++) {
            uint8_t ch = i < n ? p[i] : ' ';
            if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
                if (w < sizeof word) word[w++] = (char)ch;
            } else if (ch >= 'A' && ch <= 'Z') {
                if (w < sizeof word) word[w++] = (char)(ch + 32);
            } else if (w) {
                s->terms++;
                s->bytes += w + (uint8_t)word[0];
                w = 0;
            }
        }
    }
}

static int full(const corpus *c, tr_analyzer *a, sink *s)
{
    const uint64_t *sp = (const uint64_t *)c->spans.data;
    for (size_t k = 0; k < c->fields; k++) {
        int rc = tr_analyze(a, (const char *)c->text.data + sp[2 * k], sp[2 * k + 1], 0,
                            count_term, s);
        if (rc) return rc;
    }
    return 0;
}

static void report(const char *what, double secs, size_t bytes, uint64_t terms)
{
    printf("%-34s %8.1f MB/s %10.2f Mterms/s  (%.2f s, %llu terms)\n", what,
           bytes / 1e6 / secs, terms / 1e6 / secs, secs, (unsigned long long)terms);
}

int main(int argc, char **argv)
{
    size_t limit = SIZE_MAX;
    const char *path = NULL, *only = NULL;
    char def[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) limit = (size_t)strtoull(argv[++i], NULL, 10) << 20;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (argv[i][0] == '-') { fprintf(stderr, "usage: bench_analyze [--mb N] [--only a|b|c|d] [FILE]\n"); return 2; }
        else path = argv[i];
    }
    if (!path) {
        const char *dir = getenv("TRAWL_SHARED_DATA");
        snprintf(def, sizeof def, "%s/%s", dir && *dir ? dir : "../shared/data", DEFAULT_REL);
        path = def;
    }
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        printf("skipped: %s absent\n", path);
        return 0;
    }
    fclose(probe);

    corpus c = {{0}, {0}, 0};
    double t0 = now();
    if (load(path, limit, &c)) { fprintf(stderr, "bench_analyze: cannot load %s\n", path); return 1; }
    printf("loaded %.1f MB of title+body (%zu fields) from %s in %.1f s\n", c.text.len / 1e6,
           c.fields, path, now() - t0);

    sink s = {0, 0};
    if (!only || strcmp(only, "a") == 0) {
        t0 = now();
        baseline(&c, &s);
        report("(a) ASCII split+lowercase", now() - t0, c.text.len, s.terms);
    }

    tr_settings set;
    tr_settings_default(&set);
    char err[2048];
    tr_analyzer *a = NULL;
    if (only && strcmp(only, "b") != 0) goto uncached;
    a = tr_analyzer_new(&set, err, sizeof err);
    if (!a) { fprintf(stderr, "bench_analyze: %s\n", err); return 1; }
    s = (sink){0, 0};
    t0 = now();
    if (full(&c, a, &s)) return 1;
    report("(b) english, stem cache", now() - t0, c.text.len, s.terms);
    tr_analyze_stats st;
    tr_analyzer_stats(a, &st);
    printf("    stem cache hit rate %.2f%% (%llu hits, %llu misses); %llu invalid UTF-8, %llu cut terms\n",
           100.0 * st.stem_cache_hits / (double)(st.stem_cache_hits + st.stem_cache_misses + !st.stem_cache_hits),
           (unsigned long long)st.stem_cache_hits, (unsigned long long)st.stem_cache_misses,
           (unsigned long long)st.invalid_utf8, (unsigned long long)st.truncated_terms);
    tr_analyzer_free(a);

uncached:
    if (only && strcmp(only, "c") != 0) goto rest;
    a = tr_analyzer_new(&set, err, sizeof err);
    tr_analyzer_set_stem_cache(a, 0);
    s = (sink){0, 0};
    t0 = now();
    if (full(&c, a, &s)) return 1;
    report("(c) english, no stem cache", now() - t0, c.text.len, s.terms);
    tr_analyzer_free(a);

rest:
    if (only && strcmp(only, "d") != 0) goto out;
    snprintf(set.language, sizeof set.language, "none");
    a = tr_analyzer_new(&set, err, sizeof err);
    s = (sink){0, 0};
    t0 = now();
    if (full(&c, a, &s)) return 1;
    report("(d) no stemming (language none)", now() - t0, c.text.len, s.terms);
    tr_analyzer_free(a);

out:
    tr_buf_free(&c.text);
    tr_buf_free(&c.spans);
    return 0;
}
