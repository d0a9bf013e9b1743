/* main.c - trawl-index: reads article dumps and writes them into an index;
 * also --analyze (show what the analyzer makes of text), --stats and
 * --delete. Exit status: 0 all input indexed, 1 done but some records were
 * skipped as malformed, 2 error (nothing after the last commit is kept). */
#include "analyze_cmd.h"
#include "check_cmd.h"
#include "index.h"
#include "pipeline.h"
#include "source.h"
#include "stats_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_INTERVAL 0.5 /* seconds between progress lines */
/* The input queue holds at most --memory / TR_QUEUE_MEMORY_SHARE bytes (at
 * least TR_QUEUE_MIN, at most TR_PIPE_QUEUE_BYTES, reached at 1G), so that
 * it is a small part of a small budget. */
#define TR_QUEUE_MEMORY_SHARE 64
#define TR_QUEUE_MIN ((size_t)1 << 20)
/* Below TR_MMAP_BELOW of --memory, allocations from TR_MMAP_THRESHOLD up are
 * mapped on their own and returned to the system when freed. glibc's
 * default raises the threshold to the largest block freed so far (up to 32
 * MiB): window texts, analysis output and encode rounds then came from the
 * heap, and their freed holes stayed resident between the posting buffers
 * (enwiki, --memory 64M: peak RSS 221 -> 183 MiB). Larger budgets keep
 * glibc's default: they are within the budget anyway (1G: 780 MiB), and the
 * faults of fresh mappings are not worth paying there. */
#define TR_MMAP_THRESHOLD (256 << 10)
#define TR_MMAP_BELOW ((size_t)512 << 20)

static const char usage_text[] =
"usage: trawl-index [options] INDEX_DIR [INPUT...]\n"
"       trawl-index --analyze [--language NAME] [--no-fold-diacritics] [--stopwords] [TEXT...]\n"
"       trawl-index --stats [--json] INDEX_DIR\n"
"       trawl-index --check [--quick] INDEX_DIR   (exit 1 if damaged)\n"
"       trawl-index --merge INDEX_DIR [INPUT...]\n"
"\n"
"Adds the documents of each INPUT (a file, a directory, or - for stdin;\n"
"plain, .gz, .bz2 or .zst, detected by content) to the index in INDEX_DIR,\n"
"creating it if needed. A document whose id is already indexed replaces it.\n"
"\n"
"Input:\n"
"  --format F          auto (default: by content), jsonl, wikipedia (MediaWiki\n"
"                      XML export), trec (<DOC> SGML), warc, html, text\n"
"  --id-field NAME     JSON member holding the id (default id); likewise\n"
"  --title-field NAME  --body-field NAME  --url-field NAME  --date-field NAME\n"
"  --strict            stop at the first malformed record (the batch it is in\n"
"                      is not committed); default: report it, skip it, go on\n"
"Deleting:\n"
"  --delete ID         delete the document with this id (repeatable)\n"
"  --delete-from FILE  delete every id listed in FILE (one a line, - = stdin)\n"
"Analysis (fixed when the index is created):\n"
"  --language NAME     Snowball stemmer (default english; none = no stemming)\n"
"  --no-fold-diacritics  keep accents (default: fold them away)\n"
"  --stopwords         drop the language's stopwords (default: keep)\n"
"Merging:\n"
"  --merge             after indexing (or alone), rewrite every posting list\n"
"                      that several commits added to into one run of chunks\n"
"                      (smaller, faster to query) and purge deleted documents\n"
"Resources:\n"
"  --threads N         analysis threads (default: all cores)\n"
"  --memory SIZE       in-memory inversion budget, e.g. 512M, 2G (default 1G)\n"
"  --batch-docs N      commit at least every N documents (default: by memory)\n"
"Output:\n"
"  --quiet             no progress and no summary\n"
"  --json              with --stats: JSON\n"
"  --version, --help\n"
"\n"
"Exit status: 0 all input indexed; 1 finished, but malformed records were\n"
"skipped; 2 error (usage, unreadable input, index error, --strict stop).\n";

enum {
    OPT_FORMAT = 256, OPT_ID_FIELD, OPT_TITLE_FIELD, OPT_BODY_FIELD, OPT_URL_FIELD,
    OPT_DATE_FIELD, OPT_STRICT, OPT_DELETE, OPT_DELETE_FROM, OPT_LANGUAGE,
    OPT_NO_FOLD, OPT_STOPWORDS, OPT_THREADS, OPT_MEMORY, OPT_BATCH_DOCS,
    OPT_QUIET, OPT_JSON, OPT_VERSION, OPT_STATS, OPT_INITIAL_MAP, OPT_CHECK, OPT_QUICK,
    OPT_MERGE,
};

static const struct option long_opts[] = {
    {"format", required_argument, 0, OPT_FORMAT},
    {"id-field", required_argument, 0, OPT_ID_FIELD},
    {"title-field", required_argument, 0, OPT_TITLE_FIELD},
    {"body-field", required_argument, 0, OPT_BODY_FIELD},
    {"url-field", required_argument, 0, OPT_URL_FIELD},
    {"date-field", required_argument, 0, OPT_DATE_FIELD},
    {"strict", no_argument, 0, OPT_STRICT},
    {"delete", required_argument, 0, OPT_DELETE},
    {"delete-from", required_argument, 0, OPT_DELETE_FROM},
    {"language", required_argument, 0, OPT_LANGUAGE},
    {"no-fold-diacritics", no_argument, 0, OPT_NO_FOLD},
    {"stopwords", no_argument, 0, OPT_STOPWORDS},
    {"threads", required_argument, 0, OPT_THREADS},
    {"memory", required_argument, 0, OPT_MEMORY},
    {"batch-docs", required_argument, 0, OPT_BATCH_DOCS},
    {"initial-map", required_argument, 0, OPT_INITIAL_MAP}, /* for tests */
    {"quiet", no_argument, 0, OPT_QUIET},
    {"json", no_argument, 0, OPT_JSON},
    {"stats", no_argument, 0, OPT_STATS},
    {"check", no_argument, 0, OPT_CHECK},
    {"merge", no_argument, 0, OPT_MERGE},
    {"quick", no_argument, 0, OPT_QUICK},
    {"version", no_argument, 0, OPT_VERSION},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --merge: one run of chunks per list, deleted documents purged. */
static int run_merge(const char *dir, size_t memory, unsigned threads, int quiet)
{
    char err[512] = "";
    tr_merge_stats ms;
    double t0 = now();
    int rc = tr_index_merge(dir, memory, threads, &ms, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trawl-index: %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        return 2;
    }
    if (!quiet)
        fprintf(stderr,
                "trawl-index: merged %llu posting lists (%llu chunks in the index before, %llu written), "
                "purged %llu deleted documents (%llu postings, %llu lists emptied); %.2f s, %llu commits\n",
                (unsigned long long)ms.terms_rewritten, (unsigned long long)ms.chunks_before,
                (unsigned long long)ms.chunks_after, (unsigned long long)ms.docs_purged,
                (unsigned long long)ms.postings_purged, (unsigned long long)ms.terms_dropped,
                now() - t0, (unsigned long long)ms.txns);
    return 0;
}

/* "512M", "2G", "65536" -> bytes; 0 on a malformed size. */
static size_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0) return 0;
    switch (*end) {
    case 'k': case 'K': v *= 1024; end++; break;
    case 'm': case 'M': v *= 1024 * 1024; end++; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v > (double)SIZE_MAX / 2) return 0;
    return (size_t)v;
}

static long parse_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0) {
        fprintf(stderr, "trawl-index: %s must be a positive number, not '%s'\n", what, s);
        exit(2);
    }
    return v;
}

typedef struct run {
    tr_writer *w;
    size_t queue_bytes;         /* the input queue's bound (TR_QUEUE_MEMORY_SHARE) */
    int strict, quiet, progress;
    uint64_t skipped, read_docs;
    double start, last_progress;
} run;

static void show_progress(run *r, const tr_pipe *src, int final)
{
    double t = now();
    if (!r->progress || (!final && t - r->last_progress < PROGRESS_INTERVAL)) return;
    r->last_progress = t;
    uint64_t done = 0, total = 0;
    if (src) tr_pipe_progress(src, &done, &total);
    double secs = t - r->start, mb = done / 1e6;
    fprintf(stderr, "\r%llu docs, %.1f MB read, %.1f MB/s",
            (unsigned long long)r->read_docs, mb, secs > 0 ? mb / secs : 0.0);
    if (total > done && done > 0 && secs > 1)
        fprintf(stderr, ", ETA %.0f s", secs * (double)(total - done) / (double)done);
    fprintf(stderr, "   %s", final ? "\n" : "");
    fflush(stderr);
}

/* Index one INPUT (read and parsed on the pipeline's thread). Returns 0,
 * or 2 on a fatal error (already reported). */
static int index_input(run *r, const char *path, const tr_source_opts *so)
{
    char err[512];
    tr_pipe *src = NULL;
    int rc = tr_pipe_open(path, so, r->queue_bytes, &src, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trawl-index: %s\n", err);
        return 2;
    }
    for (;;) {
        tr_doc_in doc;
        rc = tr_pipe_next(src, &doc, err, sizeof err);
        if (rc == 0) break;
        if (rc == TR_EINPUT) {
            r->skipped++;
            fprintf(stderr, "%strawl-index: %s%s\n", r->progress ? "\r" : "", err,
                    r->strict ? "" : " (skipped)");
            if (r->strict) {
                tr_writer_rollback(r->w);
                tr_pipe_close(src);
                return 2;
            }
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "%strawl-index: %s\n", r->progress ? "\r" : "", err);
            tr_pipe_close(src);
            return 2;
        }
        rc = tr_writer_add(r->w, &doc, err, sizeof err);
        if (rc == TR_EINPUT) {
            r->skipped++;
            fprintf(stderr, "trawl-index: %s: %s%s\n", path, err, r->strict ? "" : " (skipped)");
            if (r->strict) {
                tr_writer_rollback(r->w);
                tr_pipe_close(src);
                return 2;
            }
            continue;
        }
        if (rc) {
            fprintf(stderr, "trawl-index: %s\n", err[0] ? err : tr_strerror(rc));
            tr_pipe_close(src);
            return 2;
        }
        r->read_docs++;
        show_progress(r, src, 0);
    }
    show_progress(r, src, 1);
    tr_pipe_close(src);
    return 0;
}

static int delete_from(run *r, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "trawl-index: %s: %s\n", path, strerror(errno));
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) continue;
        if ((rc = tr_writer_delete(r->w, line, (size_t)n)) != 0) {
            fprintf(stderr, "trawl-index: delete: %s\n", tr_strerror(rc));
            rc = 2;
            break;
        }
    }
    free(line);
    if (f != stdin) fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--analyze")) return tr_cmd_analyze(argc - 2, argv + 2);

    tr_writer_opts wo;
    tr_writer_opts_default(&wo);
    tr_source_opts so;
    tr_source_opts_default(&so);
    run r = {0};
    int json = 0, stats = 0, check = 0, quick = 0, merge = 0;
    const char **deletes = calloc((size_t)argc, sizeof *deletes);
    const char *delete_file = NULL;
    size_t ndeletes = 0;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    wo.threads = nproc > 0 ? (unsigned)nproc : 1;
    r.progress = isatty(2);

    int c;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (!strcmp(optarg, "auto")) so.format = TR_FMT_AUTO;
            else if (!strcmp(optarg, "jsonl")) so.format = TR_FMT_JSONL;
            else if (!strcmp(optarg, "text")) so.format = TR_FMT_TEXT;
            else if (!strcmp(optarg, "html")) so.format = TR_FMT_HTML;
            else if (!strcmp(optarg, "wikipedia")) so.format = TR_FMT_WIKI;
            else if (!strcmp(optarg, "trec")) so.format = TR_FMT_TREC;
            else if (!strcmp(optarg, "warc")) so.format = TR_FMT_WARC;
            else {
                fprintf(stderr, "trawl-index: unknown format '%s' (auto, jsonl, wikipedia, trec, warc, html, text)\n", optarg);
                return 2;
            }
            break;
        case OPT_ID_FIELD: so.id_field = optarg; break;
        case OPT_TITLE_FIELD: so.title_field = optarg; break;
        case OPT_BODY_FIELD: so.body_field = optarg; break;
        case OPT_URL_FIELD: so.url_field = optarg; break;
        case OPT_DATE_FIELD: so.date_field = optarg; break;
        case OPT_STRICT: r.strict = 1; break;
        case OPT_DELETE: deletes[ndeletes++] = optarg; break;
        case OPT_DELETE_FROM: delete_file = optarg; break;
        case OPT_LANGUAGE:
            if (strlen(optarg) > TR_MAX_LANGUAGE) {
                fprintf(stderr, "trawl-index: unknown language '%s' (known: %s)\n", optarg, tr_languages());
                return 2;
            }
            strcpy(wo.settings.language, optarg);
            wo.settings_given = 1;
            break;
        case OPT_NO_FOLD: wo.settings.fold_diacritics = 0; wo.settings_given = 1; break;
        case OPT_STOPWORDS: wo.settings.stopwords = 1; wo.settings_given = 1; break;
        case OPT_THREADS: wo.threads = (unsigned)parse_count(optarg, "--threads"); break;
        case OPT_BATCH_DOCS: wo.batch_docs = (uint32_t)parse_count(optarg, "--batch-docs"); break;
        case OPT_MEMORY:
        case OPT_INITIAL_MAP: {
            size_t v = parse_size(optarg);
            if (!v) {
                fprintf(stderr, "trawl-index: bad size '%s' (e.g. 512M, 2G)\n", optarg);
                return 2;
            }
            if (c == OPT_MEMORY) wo.memory = v; else wo.initial_map = v;
            break;
        }
        case OPT_QUIET: r.quiet = 1; r.progress = 0; break;
        case OPT_JSON: json = 1; break;
        case OPT_STATS: stats = 1; break;
        case OPT_CHECK: check = 1; break;
        case OPT_QUICK: quick = 1; break;
        case OPT_MERGE: merge = 1; break;
        case OPT_VERSION: puts("trawl-index " TRAWL_VERSION); return 0;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs("Try 'trawl-index --help'.\n", stderr); return 2;
        }
    }
    if (optind >= argc) {
        fputs("trawl-index: no INDEX_DIR given\nTry 'trawl-index --help'.\n", stderr);
        return 2;
    }
    const char *dir = argv[optind++];
    if (stats) {
        free(deletes);
        return tr_cmd_stats(dir, json);
    }
    if (check) {
        free(deletes);
        return tr_cmd_check(dir, quick);
    }
    if (merge && optind >= argc && !ndeletes && !delete_file) {
        free(deletes);
        return run_merge(dir, wo.memory, wo.threads, r.quiet);
    }
    if (optind >= argc && !ndeletes && !delete_file) {
        fputs("trawl-index: no INPUT given (use - for standard input)\n", stderr);
        return 2;
    }

    if (wo.memory < TR_MMAP_BELOW) mallopt(M_MMAP_THRESHOLD, TR_MMAP_THRESHOLD);
    r.queue_bytes = wo.memory / TR_QUEUE_MEMORY_SHARE;
    if (r.queue_bytes < TR_QUEUE_MIN) r.queue_bytes = TR_QUEUE_MIN;
    char err[512] = "";
    int rc = tr_writer_open(dir, &wo, &r.w, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trawl-index: %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        return 2;
    }
    r.start = r.last_progress = now();
    int status = 0;
    for (size_t i = 0; i < ndeletes && !status; i++)
        if ((rc = tr_writer_delete(r.w, deletes[i], strlen(deletes[i]))) != 0) {
            fprintf(stderr, "trawl-index: delete: %s\n", tr_strerror(rc));
            status = 2;
        }
    if (!status && delete_file) status = delete_from(&r, delete_file);
    for (int i = optind; i < argc && !status; i++) status = index_input(&r, argv[i], &so);

    tr_writer_stats ws;
    if (status) {
        tr_writer_rollback(r.w);
        tr_writer_get_stats(r.w, &ws);
        tr_writer_close(r.w, NULL, 0);
        fprintf(stderr, "trawl-index: stopped; %llu batches committed before the error are kept\n",
                (unsigned long long)ws.batches);
        free(deletes);
        return status;
    }
    rc = tr_writer_commit(r.w, err, sizeof err);
    tr_writer_get_stats(r.w, &ws);
    if (!rc) rc = tr_writer_close(r.w, err, sizeof err);
    else tr_writer_close(r.w, NULL, 0);
    free(deletes);
    if (rc) {
        fprintf(stderr, "trawl-index: commit failed: %s\n", err[0] ? err : tr_strerror(rc));
        return 2;
    }
    if (!r.quiet) {
        double secs = now() - r.start;
        fprintf(stderr,
                "trawl-index: %llu added (%llu replaced), %llu deleted (%llu ids not found), "
                "%llu skipped as malformed; %.1f MB of text in %.2f s (%.1f MB/s), %llu commits\n",
                (unsigned long long)ws.added, (unsigned long long)ws.replaced,
                (unsigned long long)ws.deleted, (unsigned long long)ws.missing_deletes,
                (unsigned long long)r.skipped, ws.bytes_in / 1e6, secs,
                secs > 0 ? ws.bytes_in / 1e6 / secs : 0.0, (unsigned long long)ws.batches);
    }
    if (merge && (status = run_merge(dir, wo.memory, wo.threads, r.quiet)) != 0) return status;
    return r.skipped ? 1 : 0;
}
