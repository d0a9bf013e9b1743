/* bench_index.c - throughput of the index writer alone: a JSONL file is
 * loaded into memory first (so parsing is not measured), then every document
 * goes through tr_writer_add into a fresh index; reports MB/s and docs/s of
 * wall and CPU time, commits, and the index size.
 *
 *   bench_index --input FILE.jsonl [--limit N] [--threads N] [--memory MB]
 *               [--batch-docs N] [--dir DIR]   (DIR is wiped first) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "index.h"

typedef struct bdoc { char *id, *title, *body; size_t id_len, title_len, body_len; } bdoc;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) { memcpy(p, s, n); p[n] = 0; }
    return p;
}

int main(int argc, char **argv)
{
    const char *input = NULL, *dir = "/tmp/trawl_bench_index";
    size_t limit = SIZE_MAX;
    tr_writer_opts o;
    tr_writer_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--input") && v) input = v, i++;
        else if (!strcmp(a, "--dir") && v) dir = v, i++;
        else if (!strcmp(a, "--limit") && v) limit = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--threads") && v) o.threads = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--memory") && v) o.memory = strtoull(v, NULL, 10) << 20, i++;
        else if (!strcmp(a, "--batch-docs") && v) o.batch_docs = (uint32_t)atoi(v), i++;
        else {
            fprintf(stderr, "usage: bench_index --input FILE.jsonl [--limit N] [--threads N] "
                            "[--memory MB] [--batch-docs N] [--dir DIR]\n");
            return 2;
        }
    }
    if (!input) { fprintf(stderr, "bench_index: --input is required\n"); return 2; }
    FILE *f = fopen(input, "r");
    if (!f) { perror(input); return 2; }
    bdoc *docs = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while (n < limit && (len = getline(&line, &lcap, f)) > 0) {
        json_t *j = json_loadb(line, (size_t)len, 0, NULL);
        if (!j) continue;
        json_t *id = json_object_get(j, "id"), *ti = json_object_get(j, "title"), *bo = json_object_get(j, "body");
        if (json_is_string(id) && json_is_string(bo)) {
            if (n == cap) docs = realloc(docs, (cap = cap ? cap * 2 : 1024) * sizeof *docs);
            bdoc *d = &docs[n++];
            d->id_len = json_string_length(id);
            d->id = dupn(json_string_value(id), d->id_len);
            d->title_len = json_is_string(ti) ? json_string_length(ti) : 0;
            d->title = dupn(json_is_string(ti) ? json_string_value(ti) : "", d->title_len);
            d->body_len = json_string_length(bo);
            d->body = dupn(json_string_value(bo), d->body_len);
            bytes += d->title_len + d->body_len;
        }
        json_decref(j);
    }
    free(line);
    fclose(f);

    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 2;
    char err[512] = "";
    tr_writer *w;
    double t0 = now(), c0 = cpu();
    int rc = tr_writer_open(dir, &o, &w, err, sizeof err);
    for (size_t i = 0; i < n && !rc; i++) {
        tr_doc_in in = { docs[i].id, docs[i].id_len, docs[i].title, docs[i].title_len,
                         docs[i].body, docs[i].body_len, NULL, 0, TR_NO_DATE };
        rc = tr_writer_add(w, &in, err, sizeof err);
    }
    tr_writer_stats ws = {0};
    if (w) tr_writer_get_stats(w, &ws);
    double tc = now();
    int rc2 = w ? tr_writer_close(w, err, sizeof err) : 0;
    double wall = now() - t0, cpus = cpu() - c0, close_s = now() - tc;
    if (rc || rc2) { fprintf(stderr, "bench_index: %s\n", err); return 1; }
    char path[1100];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat st;
    long long isize = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("docs %zu  text %.1f MB  threads %u  commits before close %llu\n", n, bytes / 1e6, o.threads,
           (unsigned long long)ws.batches);
    printf("wall %.2f s: %.1f MB/s, %.0f docs/s (final commit %.2f s)\n", wall, bytes / 1e6 / wall, n / wall,
           close_s);
    printf("cpu  %.2f s: %.1f MB/s per cpu-second\n", cpus, bytes / 1e6 / cpus);
    printf("index %.1f MB (%.0f%% of text), peak RSS %.0f MB (includes the loaded text)\n",
           isize / 1e6, 100.0 * isize / (double)bytes, ru.ru_maxrss / 1024.0);
    for (size_t i = 0; i < n; i++) { free(docs[i].id); free(docs[i].title); free(docs[i].body); }
    free(docs);
    return 0;
}
