/* bench_eval.c - in-process query evaluation timing: TOP_10 latency per
 * query kind (union, intersection, phrase; pruned and exhaustive) over a
 * query file, and ns/posting of exhaustive scoring of the most common term
 * against a baseline loop that only sums the cursor's decoded tf array.
 *
 * usage: bench_eval INDEX_DIR QUERY_FILE [max_queries] [repeats] [pruned]
 * ("pruned" as the fifth argument skips the exhaustive runs, for profiling)
 * QUERY_FILE lines are "qid<TAB>text" or just "text". Times are the thread's
 * CPU time (BENCH_EVAL_WALL=1 for wall time); BENCH_EVAL_NO_TERM=1 skips the
 * ns/posting part; BENCH_EVAL_DUMP=FILE writes every query's time;
 * BENCH_EVAL_KINDS=union,phrase runs only the kinds named; BENCH_EVAL_COUNT=1
 * times tq_count (the protocol's COUNT) instead of TOP_10;
 * BENCH_EVAL_TERM_ONLY=base|exhaustive|pruned runs only that part of the
 * ns/posting section (for profiling one of them); BENCH_EVAL_TERM=word
 * times that term there instead of the most common one. */
#include "eval.h"
#include "score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_QUERIES 100000
#define BENCH_LINE_MAX 4096

/* CPU time of this thread: the machine is shared, and wall time would
 * count the time other processes hold the core (BENCH_EVAL_WALL=1: wall). */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct best_term { char t[TR_MAX_TERM_BYTES + 1]; size_t len; uint64_t df; } best_term;
static int find_best(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    best_term *b = ctx;
    if (info->df > b->df && len <= TR_MAX_TERM_BYTES) {
        memcpy(b->t, term, len);
        b->t[len] = 0;
        b->len = len;
        b->df = info->df;
    }
    return 0;
}

/* Baseline: walk the list decoding every block and summing tf, no scoring. */
static uint64_t baseline_walk(tr_reader *r, const tr_term_info *ti, uint64_t *postings)
{
    tr_cursor c;
    uint64_t sum = 0, n = 0;
    if (tr_cursor_open(r, ti, 0, 1, &c) != 0) return 0;
    while (c.doc != TR_DOC_END && c.n > 0) {
        for (uint32_t i = c.i; i < c.n; i++) sum += c.tf[i];
        n += c.n - c.i;
        uint32_t last = c.docs[c.n - 1];
        if (last >= TR_DOC_END - 1 || tr_cursor_seek(&c, last + 1) != 0) break;
    }
    tr_cursor_close(&c);
    *postings = n;
    return sum;
}

static const char *kind_names[3] = { "union", "intersection", "phrase" };

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_eval INDEX_DIR QUERY_FILE [max_queries] [repeats]\n");
        return 2;
    }
    size_t maxq = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    int repeats = argc > 4 ? atoi(argv[4]) : 3;
    if (maxq > BENCH_MAX_QUERIES) maxq = BENCH_MAX_QUERIES;
    if (repeats < 1) repeats = 1;
    int pruned_only = argc > 5 && !strcmp(argv[5], "pruned");
    if (getenv("BENCH_EVAL_WALL")) bench_clock = CLOCK_MONOTONIC;
    const char *count_env = getenv("BENCH_EVAL_COUNT");
    int counting = count_env && *count_env && strcmp(count_env, "0");
    char err[512];
    tr_index *ix;
    tr_reader *r;
    if (tr_index_open(argv[1], &ix, err, sizeof err) || tr_reader_begin(ix, &r, err, sizeof err)) {
        fprintf(stderr, "bench_eval: %s\n", err);
        return 1;
    }
    tr_analyzer *a = tr_analyzer_new(tr_reader_settings(r), err, sizeof err);
    if (!a) { fprintf(stderr, "bench_eval: %s\n", err); return 1; }
    const tr_stats *st = tr_reader_stats(r);
    printf("index %s: %llu live docs, %llu terms\n", argv[1], (unsigned long long)st->docs,
           (unsigned long long)st->terms);

    /* ---- ns/posting: exhaustive scoring vs the baseline walk ---- */
    best_term bt = { "", 0, 0 };
    const char *pick = getenv("BENCH_EVAL_TERM");
    if (pick && *pick) {
        /* BENCH_EVAL_TERM=word: that term instead of the most common one */
        tr_term_info pi;
        if (strlen(pick) <= TR_MAX_TERM_BYTES && tr_reader_term(r, pick, strlen(pick), &pi) == 0) {
            snprintf(bt.t, sizeof bt.t, "%s", pick);
            bt.len = strlen(pick);
            bt.df = pi.df;
        }
    } else {
        tr_reader_prefix(r, "", 0, SIZE_MAX, find_best, &bt);
    }
    if (bt.df > 0 && !getenv("BENCH_EVAL_NO_TERM")) {
        tr_term_info ti;
        tr_reader_term(r, bt.t, bt.len, &ti);
        double best_base = 1e300, best_exh = 1e300, best_pr = 1e300;
        uint64_t pr_scored = 0;
        uint64_t np = 0, sink = 0;
        tq_query q;
        memset(&q, 0, sizeof q);
        tq_node n;
        memset(&n, 0, sizeof n);
        n.kind = TQ_TERM;
        n.weight = 1.0;
        n.text = bt.t;
        n.len = bt.len;
        q.root = &n;
        q.after = q.before = TR_NO_DATE;
        const char *only = getenv("BENCH_EVAL_TERM_ONLY");
        int do_base = !only || !strcmp(only, "base"), do_exh = !only || !strcmp(only, "exhaustive");
        int do_pr = !only || !strcmp(only, "pruned");
        sink += baseline_walk(r, &ti, &np); /* np for every mode */
        for (int rep = 0; rep < repeats + 2; rep++) {
            double t0 = now_ns();
            if (do_base) sink += baseline_walk(r, &ti, &np);
            double t1 = now_ns();
            tq_eval_opts o;
            tq_eval_opts_default(&o);
            o.exhaustive = 1;
            tq_result res;
            if (do_exh) {
                if (tq_search(r, &q, &o, &res, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
                tq_result_free(&res);
            }
            double t2 = now_ns();
            o.exhaustive = 0;
            if (do_pr) {
                if (tq_search(r, &q, &o, &res, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
                pr_scored = res.postings_scored;
                tq_result_free(&res);
            }
            double t3 = now_ns();
            if (t1 - t0 < best_base) best_base = t1 - t0;
            if (t2 - t1 < best_exh) best_exh = t2 - t1;
            if (t3 - t2 < best_pr) best_pr = t3 - t2;
        }
        printf("most common term '%s': %llu postings (checksum %llu)\n", bt.t,
               (unsigned long long)np, (unsigned long long)(sink % 1000));
        printf("  baseline walk (decode + sum tf): %.3f ns/posting\n", best_base / (double)np);
        printf("  exhaustive TOP_10 scoring:       %.3f ns/posting (%.2f ms)\n",
               best_exh / (double)np, best_exh / 1e6);
        printf("  scoring cost over baseline:      %.3f ns/posting\n", (best_exh - best_base) / (double)np);
        printf("  pruned TOP_10:                   %.3f ms (%llu postings scored)\n", best_pr / 1e6,
               (unsigned long long)pr_scored);
    }

    /* ---- TOP_10 per kind ---- */
    FILE *f = fopen(argv[2], "r");
    if (!f) { perror(argv[2]); return 1; }
    char **texts = calloc(maxq, sizeof *texts);
    size_t nq = 0;
    char line[BENCH_LINE_MAX];
    while (nq < maxq && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *t = strchr(line, '\t');
        t = t ? t + 1 : line;
        if (!*t) continue;
        texts[nq++] = strdup(t);
    }
    fclose(f);
    printf("%zu queries from %s, best of %d runs each\n", nq, argv[2], repeats);
    printf("%-13s %-10s %8s %10s %10s %10s %12s\n", "kind", "mode", "queries", "mean_us", "p50_us", "p99_us", "scored/q");
    double *lat = calloc(nq ? nq : 1, sizeof *lat);
    /* BENCH_EVAL_DUMP=FILE: every query's best time, for finding the slow ones */
    const char *dump_path = getenv("BENCH_EVAL_DUMP");
    FILE *dump = dump_path ? fopen(dump_path, "w") : NULL;
    double slow_us[3][2] = {{0}};
    size_t slow_q[3][2] = {{0}};
    const char *only_kinds = getenv("BENCH_EVAL_KINDS");
    for (int kind = 0; kind < 3; kind++) {
        if (only_kinds && !strstr(only_kinds, kind_names[kind])) continue;
        for (int mode = 0; mode < 2 - pruned_only; mode++) {
            size_t nl = 0;
            uint64_t scored = 0;
            for (size_t i = 0; i < nq; i++) {
                char qt[BENCH_LINE_MAX + 4];
                if (kind == 2) {
                    /* a phrase of the whole query, quotes removed inside */
                    size_t k = 0;
                    qt[k++] = '"';
                    for (const char *p = texts[i]; *p && k < sizeof qt - 2; p++)
                        if (*p != '"') qt[k++] = *p;
                    qt[k++] = '"';
                    qt[k] = 0;
                } else {
                    snprintf(qt, sizeof qt, "%s", texts[i]);
                }
                tq_opts po = { kind == 1, 0 };
                tq_query q;
                if (tq_parse(qt, strlen(qt), a, &po, &q, err, sizeof err)) continue;
                tq_eval_opts o;
                tq_eval_opts_default(&o);
                o.exhaustive = mode;
                double best = 1e300;
                int ok = 1;
                for (int rep = 0; rep < repeats && ok; rep++) {
                    tq_result res;
                    double t0 = now_ns();
                    uint64_t cnt = 0;
                    int rc = counting ? tq_count(r, &q, &o, &cnt, err, sizeof err)
                                      : tq_search(r, &q, &o, &res, err, sizeof err);
                    double t1 = now_ns();
                    if (rc) { ok = 0; break; }
                    if (!counting) {
                        if (rep == 0) scored += res.postings_scored;
                        tq_result_free(&res);
                    }
                    if (t1 - t0 < best) best = t1 - t0;
                }
                tq_query_free(&q);
                if (ok) {
                    if (dump) fprintf(dump, "%s\t%s\t%.1f\t%s\n", kind_names[kind],
                                      counting ? "count" : mode ? "exhaustive" : "pruned", best / 1e3, qt);
                    lat[nl] = best / 1e3;
                    if (lat[nl] > slow_us[kind][mode]) { slow_us[kind][mode] = lat[nl]; slow_q[kind][mode] = i; }
                    nl++;
                }
            }
            if (!nl) continue;
            double sum = 0;
            for (size_t i = 0; i < nl; i++) sum += lat[i];
            qsort(lat, nl, sizeof *lat, cmp_double);
            printf("%-13s %-10s %8zu %10.1f %10.1f %10.1f %12.0f\n", kind_names[kind],
                   mode ? "exhaustive" : "pruned", nl, sum / nl, lat[nl / 2],
                   lat[(size_t)(nl * 0.99) < nl ? (size_t)(nl * 0.99) : nl - 1], (double)scored / nl);
        }
    }
    for (int kind = 0; kind < 3; kind++)
        for (int mode = 0; mode < 2; mode++)
            if (slow_us[kind][mode] > 0)
                printf("slowest %s %s: %.1f us: %s\n", kind_names[kind], mode ? "exhaustive" : "pruned",
                       slow_us[kind][mode], texts[slow_q[kind][mode]]);
    if (dump) fclose(dump);
    for (size_t i = 0; i < nq; i++) free(texts[i]);
    free(texts);
    free(lat);
    tr_analyzer_free(a);
    tr_reader_end(r);
    tr_index_close(ix);
    return 0;
}
