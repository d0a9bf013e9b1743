/* bench_analyze.c - analysis throughput on one core over real articles:
 * loads title+body of JSON Lines (.zst or plain) into memory, then times only
 * analysis: (a) an ASCII split+lowercase baseline, (b) the full pipeline with
 * english stemming and the stem cache, (c) the same without the cache.
 *
 * usage: bench_analyze [--mb N] [--repeat R] [--only a|b|c|d] [FILE]
 * (d) is the pipeline without stemming; each figure is the best of R runs
 * (default 3), each with a fresh analyzer, so a busy machine shows less.
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
        if (got == 0 && !zst) break;
        ZSTD_inBuffer ib = {in, got, 0};
        /* zstd may hold output back until called again: at end of input,
         * call it with no input until it stops filling the output buffer */
        int flush = 1;
        while (!done && (zst ? ib.pos < ib.size || flush : ib.pos == 0)) {
            const uint8_t *p;
            size_t n;
            if (zst) {
                ZSTD_outBuffer ob = {out, ZSTD_DStreamOutSize(), 0};
                size_t r = ZSTD_decompressStream(z, &ob, &ib);
                if (ZSTD_isError(r)) { fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(r)); rc = -1; done = 1; break; }
                p = out; n = ob.pos;
                flush = ob.pos == ob.size;
            } else {
                p = in; n = got; ib.pos = got;
            }
            for (size_t i = 0; i < n && !done;) {
                const uint8_t *nl = memchr(p + i, '\n', n - i);
                size_t piece = nl ? (size_t)(nl - (p + i)) : n - i;
                if (line.len + piece <= LINE_MAX_BYTES && tr_buf_append(&line, p + i, piece)) {
                    rc = -1; done = 1; break;
                }
                i += piece;
                if (!nl) break;
                i++;
                if (line.len && add_line(c, (const char *)line.data, line.len)) { rc = -1; done = 1; }
                tr_buf_clear(&line);
                if (c->text.len >= limit) done = 1;
            }
        }
        if (got == 0) break;
    }
    if (!done && rc == 0 && line.len && c->text.len < limit) add_line(c, (const char *)line.data, line.len);
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
    fflush(stdout);
}

/* One measured configuration: best of `repeat` runs, each on a fresh
 * analyzer (so the cache starts cold every time). language NULL = baseline. */
static int phase(const corpus *c, const char *what, const char *language, int cache, int repeat)
{
    double best = 0;
    sink s = {0, 0};
    tr_analyze_stats st;
    memset(&st, 0, sizeof st);
    for (int r = 0; r < repeat; r++) {
        s = (sink){0, 0};
        if (!language) {
            double t0 = now();
            baseline(c, &s);
            double dt = now() - t0;
            if (r == 0 || dt < best) best = dt;
            continue;
        }
        tr_settings set;
        tr_settings_default(&set);
        snprintf(set.language, sizeof set.language, "%s", language);
        char err[2048];
        tr_analyzer *a = tr_analyzer_new(&set, err, sizeof err);
        if (!a) { fprintf(stderr, "bench_analyze: %s\n", err); return 1; }
        tr_analyzer_set_stem_cache(a, cache);
        double t0 = now();
        int rc = full(c, a, &s);
        double dt = now() - t0;
        tr_analyzer_stats(a, &st);
        tr_analyzer_free(a);
        if (rc) { fprintf(stderr, "bench_analyze: %s\n", tr_strerror(rc)); return 1; }
        if (r == 0 || dt < best) best = dt;
    }
    report(what, best, c->text.len, s.terms);
    if (language && cache && strcmp(language, "none") != 0)
        printf("    stem cache hit rate %.2f%% (%llu hits, %llu misses); %llu invalid UTF-8, %llu cut terms\n",
               100.0 * st.stem_cache_hits / (double)(st.stem_cache_hits + st.stem_cache_misses + !st.stem_cache_hits),
               (unsigned long long)st.stem_cache_hits, (unsigned long long)st.stem_cache_misses,
               (unsigned long long)st.invalid_utf8, (unsigned long long)st.truncated_terms);
    return 0;
}

int main(int argc, char **argv)
{
    size_t limit = SIZE_MAX;
    int repeat = 3;
    const char *path = NULL, *only = NULL;
    char def[4096];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc) limit = (size_t)strtoull(argv[++i], NULL, 10) << 20;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_analyze [--mb N] [--repeat R] [--only a|b|c|d] [FILE]\n");
            return 2;
        } else path = argv[i];
    }
    if (repeat < 1) repeat = 1;
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
    printf("loaded %.1f MB of title+body (%zu fields) from %s in %.1f s; best of %d runs, CPU time\n",
           c.text.len / 1e6, c.fields, path, now() - t0, repeat);
    fflush(stdout);

    int rc = 0;
    if (!rc && (!only || strchr(only, 'a'))) rc = phase(&c, "(a) ASCII split+lowercase", NULL, 0, repeat);
    if (!rc && (!only || strchr(only, 'b'))) rc = phase(&c, "(b) english, stem cache", "english", 1, repeat);
    if (!rc && (!only || strchr(only, 'c'))) rc = phase(&c, "(c) english, no stem cache", "english", 0, repeat);
    if (!rc && (!only || strchr(only, 'd'))) rc = phase(&c, "(d) no stemming (language none)", "none", 1, repeat);

    tr_buf_free(&c.text);
    tr_buf_free(&c.spans);
    return rc;
}
