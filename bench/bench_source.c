/* bench_source.c - throughput of the indexer's input layer: a file read
 * through tr_source (decompression + line splitting + JSON parsing), against
 * a baseline of decompressing the same file alone in the same run.
 *   bench_source [--format F] [FILE...]
 *       default $TRAWL_SHARED_DATA/wiki/enwiki-2015.jsonl.zst; F is one of
 *       auto jsonl wikipedia trec warc html text (each reader alone; the
 *       dump files come from bench/make_wikixml.py)
 * Reports MB/s of compressed input and of decoded bytes for both, and the
 * ratio (how much the source layer costs on top of decompression). */
#include "source.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_secs(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: the figure that stays meaningful on a machine
 * shared with other jobs (wall time is printed beside it). */
static double cpu(void) { return clock_secs(CLOCK_PROCESS_CPUTIME_ID); }
static double now(void) { return clock_secs(CLOCK_MONOTONIC); }

/* Baseline: the stream layer alone (the same decoder the source uses, with
 * its 1 MiB buffers), no line splitting or parsing. */
static int baseline(const char *path, uint64_t *raw, uint64_t *decoded, double *secs,
                    double *cpu_secs)
{
    char err[512];
    tr_stream *s;
    if (tr_stream_open(path, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint8_t *buf = malloc(TR_STREAM_BUF_BYTES);
    if (!buf) {
        tr_stream_close(s);
        return 1;
    }
    double t0 = now(), c0 = cpu();
    *decoded = 0;
    for (;;) {
        size_t got;
        if (tr_stream_read(s, buf, TR_STREAM_BUF_BYTES, &got, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            break;
        }
        if (!got)
            break;
        *decoded += got;
    }
    *secs = now() - t0;
    *cpu_secs = cpu() - c0;
    *raw = tr_stream_consumed(s);
    free(buf);
    tr_stream_close(s);
    return 0;
}

/* One file through tr_source with a forced (or auto) format. */
static int bench_file(const char *path, int fmt, const char *fmt_name)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIP: %s not found (set TRAWL_SHARED_DATA or pass a file)\n", path);
        return 0;
    }
    fclose(f);

    uint64_t raw = 0, decoded = 0;
    double base_secs, base_cpu;
    if (baseline(path, &raw, &decoded, &base_secs, &base_cpu))
        return 1;

    char err[1024];
    tr_source *s;
    tr_source_opts o;
    tr_source_opts_default(&o);
    o.format = fmt;
    if (tr_source_open(path, &o, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint64_t docs = 0, bytes = 0, errors = 0;
    double t0 = now(), c0 = cpu();
    for (;;) {
        tr_doc_in d;
        int rc = tr_source_next(s, &d, err, sizeof err);
        if (rc == 0)
            break;
        if (rc == 1) {
            docs++;
            bytes += d.title_len + d.body_len;
        } else if (rc == TR_EINPUT) {
            errors++;
        } else {
            fprintf(stderr, "%s\n", err);
            break;
        }
    }
    double src_secs = now() - t0, src_cpu = cpu() - c0;
    tr_source_close(s);

    double mb = 1e6;
    printf("file: %s, format %s (%.1f MB compressed, %.1f MB decoded)\n", path, fmt_name,
           raw / mb, decoded / mb);
    printf("%-28s %8s %8s %14s %14s\n", "", "wall s", "cpu s", "MB/s input", "MB/s decoded");
    printf("%-28s %8.3f %8.3f %14.1f %14.1f\n", "baseline (decompress only)", base_secs, base_cpu,
           raw / mb / base_cpu, decoded / mb / base_cpu);
    printf("%-28s %8.3f %8.3f %14.1f %14.1f\n", "tr_source (full pipeline)", src_secs, src_cpu,
           raw / mb / src_cpu, decoded / mb / src_cpu);
    printf("(MB/s from cpu time) docs %llu, title+body %.1f MB, bad records %llu\n",
           (unsigned long long)docs, bytes / mb, (unsigned long long)errors);
    printf("ratio tr_source/baseline: %.2fx cpu, %.2fx wall\n", src_cpu / base_cpu,
           src_secs / base_secs);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int fmt;
    } fmts[] = {{"auto", TR_FMT_AUTO}, {"jsonl", TR_FMT_JSONL}, {"wikipedia", TR_FMT_WIKI},
                {"trec", TR_FMT_TREC}, {"warc", TR_FMT_WARC}, {"html", TR_FMT_HTML},
                {"text", TR_FMT_TEXT}};
    int fmt = TR_FMT_AUTO, ai = 1;
    const char *fmt_name = "auto";
    if (argc > 2 && !strcmp(argv[1], "--format")) {
        size_t i;
        for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
            if (!strcmp(argv[2], fmts[i].name))
                break;
        if (i == sizeof fmts / sizeof fmts[0]) {
            fprintf(stderr, "bench_source: unknown format %s\n", argv[2]);
            return 2;
        }
        fmt = fmts[i].fmt;
        fmt_name = fmts[i].name;
        ai = 3;
    }
    if (ai >= argc) {
        char def[4096];
        const char *shared = getenv("TRAWL_SHARED_DATA");
        snprintf(def, sizeof def, "%s/wiki/enwiki-2015.jsonl.zst", shared ? shared : "../shared/data");
        return bench_file(def, fmt, fmt_name);
    }
    int rc = 0;
    for (; ai < argc && !rc; ai++)
        rc = bench_file(argv[ai], fmt, fmt_name);
    return rc;
}
