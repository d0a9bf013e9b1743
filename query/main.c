/* main.c - trawl-query: searches an index from the command line. One query
 * from the arguments, many from a file (--batch), or the benchmark protocol
 * on stdin (--protocol). Exit status: 0 hits, 1 no hits, 2 error; in batch
 * and protocol modes 0 unless an error stops the run. */
#include "eval.h"
#include "index.h"
#include "output.h"
#include "parse.h"
#include "score.h"
#include "snippet.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define PROG "trawl-query"
#define DEFAULT_TOP 10
#define ERR_CAP 512
/* A protocol or batch line longer than this is answered UNSUPPORTED/skipped
 * (the parser's own limit is TQ_MAX_QUERY_BYTES; this bounds the command). */
#define MAX_LINE_BYTES (TQ_MAX_QUERY_BYTES + 64)
/* Longest qid kept from a batch line (TREC qids are short). */
#define MAX_QID_BYTES 64

enum { EXIT_HITS = 0, EXIT_NONE = 1, EXIT_ERROR = 2 };
enum { FMT_HUMAN, FMT_JSON, FMT_TREC };
enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

static const char usage_text[] =
"usage: trawl-query [options] INDEX_DIR QUERY...\n"
"       trawl-query [options] --batch FILE|- INDEX_DIR\n"
"       trawl-query [options] --protocol INDEX_DIR\n"
"\n"
"Searches the index in INDEX_DIR (made by trawl-index). The QUERY words are\n"
"joined by spaces. Options go before INDEX_DIR.\n"
"\n"
"Query syntax:\n"
"  word            a word (stemmed like the documents); words are OR'ed\n"
"                  and ranked by BM25, unless --and\n"
"  \"a b c\"         a phrase          a AND b, a OR b, NOT a, (a OR b) c\n"
"  +a -b           a required, b excluded\n"
"  title:w body:w  a word (or phrase, prefix) in one field\n"
"  pre*            every word starting with pre\n"
"  \"a b\" NEAR/5 c  all within 5 positions, any order\n"
"  date:2020..2021 dated in a range (also date:>=2020-03, date:<2019)\n"
"\n"
"Ranking and filtering:\n"
"  -k, --top N         hits to show (default 10; k + offset <= %d)\n"
"      --offset N      skip the first N hits\n"
"      --and           words without an operator are AND'ed (default OR)\n"
"      --plain         no operators: every word is a ranked term (topics)\n"
"      --k1 X --b X    BM25 parameters (default %.2f and %.2f)\n"
"      --title-weight X  weight of the title (default %.2f)\n"
"      --after DATE    only documents dated DATE or later (YYYY-MM-DD)\n"
"      --before DATE   only documents dated DATE or earlier\n"
"      --no-verify     skip block checksums (benchmarks)\n"
"Output:\n"
"      --count         print the number of matching documents only\n"
"      --json          one JSON object per hit and line\n"
"      --trec RUNTAG   TREC run lines: qid Q0 docid rank score RUNTAG\n"
"      --explain       show each hit's score by clause\n"
"      --color=WHEN    highlight matches: auto (default: when stdout is a\n"
"                      terminal and NO_COLOR is unset), always, never\n"
"      --parse         print the parsed query tree and exit\n"
"Many queries:\n"
"      --batch FILE    one query a line (qid<TAB>query, or plain lines\n"
"                      numbered 1..n); - is stdin\n"
"      --protocol      answer COMMAND<TAB>query lines on stdin, one line each:\n"
"                      COUNT, TOP_n, TOP_n_COUNT (count<TAB>ids); UNSUPPORTED\n"
"                      for anything else or an unparsable query\n"
"  -h, --help, --version\n"
"\n"
"Exit status: 0 hits found; 1 no hits; 2 error (usage, no index, corrupt\n"
"index, bad query). With --batch and --protocol: 0 unless an error stops\n"
"the run.\n";

typedef struct cli {
    size_t top, offset;
    int default_and, plain;
    double k1, b, title_weight;
    int64_t after, before;
    int count, format, explain, parse_only, color, verify, protocol;
    const char *runtag, *batch, *index_dir;
    char *query;
} cli;

/* Shared state of one run: the index, the analyzer made once from the
 * index's settings, and buffers reused across hits and queries. */
typedef struct run {
    const cli *o;
    tr_index *ix;
    tr_analyzer *an;
    tr_buf body;
    tq_snippet sn;
    tq_out_expl *ex; size_t nex, ex_cap;
    int ex_failed;
} run;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    va_end(ap);
}

static int parse_size(const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_real(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* YYYY-MM-DD -> seconds at 00:00:00 UTC of that day. */
static int parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return -1;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900; tm.tm_mon = m - 1; tm.tm_mday = d;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_cli(int argc, char **argv, cli *o)
{
    enum {
        OPT_OFFSET = 256, OPT_AND, OPT_PLAIN, OPT_K1, OPT_B, OPT_TW, OPT_AFTER,
        OPT_BEFORE, OPT_COUNT, OPT_JSON, OPT_TREC, OPT_EXPLAIN, OPT_PARSE, OPT_BATCH,
        OPT_PROTOCOL, OPT_NO_VERIFY, OPT_VERSION, OPT_COLOR,
    };
    static const struct option longs[] = {
        {"top", required_argument, 0, 'k'}, {"offset", required_argument, 0, OPT_OFFSET},
        {"and", no_argument, 0, OPT_AND}, {"plain", no_argument, 0, OPT_PLAIN},
        {"k1", required_argument, 0, OPT_K1}, {"b", required_argument, 0, OPT_B},
        {"title-weight", required_argument, 0, OPT_TW},
        {"after", required_argument, 0, OPT_AFTER}, {"before", required_argument, 0, OPT_BEFORE},
        {"count", no_argument, 0, OPT_COUNT}, {"json", no_argument, 0, OPT_JSON},
        {"trec", required_argument, 0, OPT_TREC}, {"explain", no_argument, 0, OPT_EXPLAIN},
        {"parse", no_argument, 0, OPT_PARSE}, {"batch", required_argument, 0, OPT_BATCH},
        {"protocol", no_argument, 0, OPT_PROTOCOL}, {"no-verify", no_argument, 0, OPT_NO_VERIFY},
        {"color", required_argument, 0, OPT_COLOR}, {"colour", required_argument, 0, OPT_COLOR},
        {"version", no_argument, 0, OPT_VERSION}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->top = DEFAULT_TOP;
    o->k1 = TQ_DEFAULT_K1; o->b = TQ_DEFAULT_B; o->title_weight = TQ_DEFAULT_TITLE_WEIGHT;
    o->after = o->before = TR_NO_DATE;
    o->verify = 1;
    o->format = FMT_HUMAN;
    o->color = COLOR_AUTO;
    opterr = 0;
    int c;
    /* '+': options stop at INDEX_DIR, so query words like -word stay words. */
    while ((c = getopt_long(argc, argv, "+k:h", longs, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case 'k':
            if (parse_size(a, TQ_MAX_TOP, &o->top) || o->top == 0) {
                usage_error("--top wants a number from 1 to %d, not '%s'", TQ_MAX_TOP, a);
                return -1;
            }
            break;
        case OPT_OFFSET:
            if (parse_size(a, TQ_MAX_TOP, &o->offset)) {
                usage_error("--offset wants a number from 0 to %d, not '%s'", TQ_MAX_TOP, a);
                return -1;
            }
            break;
        case OPT_AND: o->default_and = 1; break;
        case OPT_PLAIN: o->plain = 1; break;
        case OPT_K1:
            if (parse_real(a, 0, 100, &o->k1)) { usage_error("--k1 wants a number from 0 to 100, not '%s'", a); return -1; }
            break;
        case OPT_B:
            if (parse_real(a, 0, 1, &o->b)) { usage_error("--b wants a number from 0 to 1, not '%s'", a); return -1; }
            break;
        case OPT_TW:
            if (parse_real(a, 0, 1000, &o->title_weight)) { usage_error("--title-weight wants a number from 0 to 1000, not '%s'", a); return -1; }
            break;
        case OPT_AFTER:
            if (parse_date(a, &o->after)) { usage_error("--after wants a date YYYY-MM-DD, not '%s'", a); return -1; }
            break;
        case OPT_BEFORE:
            if (parse_date(a, &o->before)) { usage_error("--before wants a date YYYY-MM-DD, not '%s'", a); return -1; }
            o->before += 86399; /* inclusive: the whole day */
            break;
        case OPT_COUNT: o->count = 1; break;
        case OPT_JSON: o->format = FMT_JSON; break;
        case OPT_TREC:
            if (!*a || strpbrk(a, " \t\n")) { usage_error("--trec wants a run tag without spaces, not '%s'", a); return -1; }
            o->format = FMT_TREC; o->runtag = a;
            break;
        case OPT_EXPLAIN: o->explain = 1; break;
        case OPT_PARSE: o->parse_only = 1; break;
        case OPT_BATCH: o->batch = a; break;
        case OPT_PROTOCOL: o->protocol = 1; break;
        case OPT_NO_VERIFY: o->verify = 0; break;
        case OPT_COLOR:
            if (!strcmp(a, "auto")) o->color = COLOR_AUTO;
            else if (!strcmp(a, "always")) o->color = COLOR_ALWAYS;
            else if (!strcmp(a, "never")) o->color = COLOR_NEVER;
            else { usage_error("--color wants auto, always or never, not '%s'", a); return -1; }
            break;
        case OPT_VERSION:
            printf(PROG " " TRAWL_VERSION " (index format %d)\n", TR_FORMAT_VERSION);
            return 1;
        case 'h':
            printf(usage_text, TQ_MAX_TOP, o->k1, o->b, o->title_weight);
            return 1;
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
            return -1;
        default:
            usage_error("unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (o->top + o->offset > TQ_MAX_TOP) {
        usage_error("--top plus --offset is at most %d", TQ_MAX_TOP);
        return -1;
    }
    if (o->batch && o->protocol) {
        usage_error("%s", "--batch and --protocol do not go together");
        return -1;
    }
    if (optind >= argc) {
        usage_error("%s", "no INDEX_DIR given");
        return -1;
    }
    o->index_dir = argv[optind++];
    if (o->batch || o->protocol) {
        if (optind < argc) {
            usage_error("query words '%s' given with --batch/--protocol", argv[optind]);
            return -1;
        }
        return 0;
    }
    if (optind >= argc) {
        usage_error("%s", "no QUERY given");
        return -1;
    }
    size_t len = 0;
    for (int i = optind; i < argc; i++) len += strlen(argv[i]) + 1;
    o->query = malloc(len + 1);
    if (!o->query) { fprintf(stderr, PROG ": out of memory\n"); return -1; }
    o->query[0] = 0;
    for (int i = optind; i < argc; i++) {
        if (i > optind) strcat(o->query, " ");
        strcat(o->query, argv[i]);
    }
    return 0;
}

static void eval_opts(const cli *o, const tq_query *q, tq_eval_opts *ev)
{
    tq_eval_opts_default(ev);
    ev->k1 = o->k1; ev->b = o->b; ev->title_weight = o->title_weight;
    ev->k = o->top; ev->offset = o->offset;
    ev->verify = o->verify;
    /* The query's own date:... filter; --after/--before override it (as
     * parse.h promises), each bound on its own. */
    ev->after = o->after != TR_NO_DATE ? o->after : q->after;
    ev->before = o->before != TR_NO_DATE ? o->before : q->before;
}

static void on_explain(void *ctx, const char *what, double contribution)
{
    run *R = ctx;
    if (R->nex == R->ex_cap) {
        size_t nc = R->ex_cap ? R->ex_cap * 2 : 8;
        tq_out_expl *p = realloc(R->ex, nc * sizeof *p);
        if (!p) { R->ex_failed = 1; return; }
        R->ex = p; R->ex_cap = nc;
    }
    char *copy = strdup(what ? what : "");
    if (!copy) { R->ex_failed = 1; return; }
    R->ex[R->nex].what = copy;
    R->ex[R->nex].contribution = contribution;
    R->nex++;
}

static void explain_clear(run *R)
{
    for (size_t i = 0; i < R->nex; i++) free(R->ex[i].what);
    R->nex = 0;
    R->ex_failed = 0;
}

static void print_warning(const tq_result *res)
{
    if (res->warning[0])
        fprintf(stderr, PROG ": warning: %s\n", res->warning);
}

/* Print the hits of one query in the chosen format. Returns 0 or a TR_E*
 * code with the message already printed. */
static int print_hits(run *R, tr_reader *rd, const tq_query *q, const tq_eval_opts *ev,
                      const tq_result *res, const char *qid)
{
    const cli *o = R->o;
    int color = o->color == COLOR_ALWAYS ||
                (o->color == COLOR_AUTO && isatty(STDOUT_FILENO) &&
                 !(getenv("NO_COLOR") && *getenv("NO_COLOR")));
    tq_termset *ts = NULL;
    int rc = 0;
    char err[ERR_CAP];
    if (o->format != FMT_TREC && (rc = tq_termset_new(q, &ts))) {
        fprintf(stderr, PROG ": %s\n", tr_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < res->nhits && !rc; i++) {
        tr_doc_view d;
        memset(&d, 0, sizeof d);
        if ((rc = tr_reader_doc(rd, res->hits[i].doc, &d))) {
            fprintf(stderr, PROG ": document %u: %s\n", res->hits[i].doc, tr_strerror(rc));
            break;
        }
        tq_out_hit h = { qid, o->offset + i + 1, res->hits[i].score, &d, NULL, 0, NULL };
        if (o->format != FMT_TREC) {
            if ((rc = tr_reader_doc_body(rd, res->hits[i].doc, &R->body))) {
                fprintf(stderr, PROG ": document %u body: %s\n", res->hits[i].doc, tr_strerror(rc));
                break;
            }
            if ((rc = tq_snippet_make(R->an, ts, (const char *)R->body.data, R->body.len,
                                      TQ_SNIPPET_BYTES, &R->sn))) {
                fprintf(stderr, PROG ": snippet: %s\n", tr_strerror(rc));
                break;
            }
            h.body = (const char *)R->body.data; h.body_len = R->body.len; h.sn = &R->sn;
        }
        explain_clear(R);
        if (o->explain && o->format != FMT_TREC) {
            double total;
            err[0] = 0;
            if ((rc = tq_explain(rd, q, ev, res->hits[i].doc, on_explain, R, &total, err, sizeof err))) {
                fprintf(stderr, PROG ": explain: %s\n", err[0] ? err : tr_strerror(rc));
                break;
            }
        }
        if (o->format == FMT_HUMAN) rc = tq_out_human(stdout, &h, color, R->ex, R->nex);
        else if (o->format == FMT_JSON) rc = tq_out_json(stdout, &h, o->explain, R->ex, R->nex);
        else rc = tq_out_trec(stdout, &h, o->runtag);
        if (rc) fprintf(stderr, PROG ": writing output: %s\n", tr_strerror(rc));
    }
    explain_clear(R);
    tq_termset_free(ts);
    return rc;
}

/* Runs one query text in its own read transaction. Returns EXIT_HITS,
 * EXIT_NONE or EXIT_ERROR (message printed); *bad_query tells a query the
 * parser refused from an index error. */
static int run_query(run *R, const char *text, size_t len, const char *qid, int *bad_query)
{
    const cli *o = R->o;
    char err[ERR_CAP] = "";
    tr_reader *rd = NULL;
    tq_query q;
    memset(&q, 0, sizeof q);
    *bad_query = 0;
    int rc = tr_reader_begin(R->ix, &rd, err, sizeof err);
    if (rc) {
        fprintf(stderr, PROG ": %s: %s\n", o->index_dir, err[0] ? err : tr_strerror(rc));
        return EXIT_ERROR;
    }
    tq_opts po = { o->default_and, o->plain };
    int status = EXIT_ERROR;
    double t0 = now_ms();
    if ((rc = tq_parse(text, len, R->an, &po, &q, err, sizeof err))) {
        *bad_query = 1;
        fprintf(stderr, PROG ": %s%s%squery %s\n", qid ? "query " : "", qid ? qid : "",
                qid ? ": " : "", err[0] ? err : tr_strerror(rc));
        goto out;
    }
    if (o->parse_only) {
        tq_print(&q, stdout);
        status = EXIT_HITS;
        goto out;
    }
    tq_eval_opts ev;
    eval_opts(o, &q, &ev);
    if (o->count) {
        uint64_t n = 0;
        if ((rc = tq_count(rd, &q, &ev, &n, err, sizeof err))) {
            *bad_query = rc == TR_EINPUT || rc == TR_ELIMIT;
            fprintf(stderr, PROG ": %s\n", err[0] ? err : tr_strerror(rc));
            goto out;
        }
        if (qid) printf("%s\t%llu\n", qid, (unsigned long long)n);
        else printf("%llu\n", (unsigned long long)n);
        status = n ? EXIT_HITS : EXIT_NONE;
        goto out;
    }
    ev.want_total = o->format == FMT_HUMAN;
    tq_result res;
    memset(&res, 0, sizeof res);
    if ((rc = tq_search(rd, &q, &ev, &res, err, sizeof err))) {
        /* A query the evaluator refuses (no positive clause, a limit) is the
         * user's to fix, like a parse error; anything else is the index's. */
        *bad_query = rc == TR_EINPUT || rc == TR_ELIMIT;
        fprintf(stderr, PROG ": %s\n", err[0] ? err : tr_strerror(rc));
        tq_result_free(&res);
        goto out;
    }
    print_warning(&res);
    if (qid && o->format == FMT_HUMAN)
        printf("# query %s\n", qid);
    rc = print_hits(R, rd, &q, &ev, &res, qid);
    if (!rc) {
        if (o->format == FMT_HUMAN)
            printf("%zu hit%s shown of %llu matching (%.1f ms)\n", res.nhits,
                   res.nhits == 1 ? "" : "s", (unsigned long long)res.total, now_ms() - t0);
        status = res.nhits ? EXIT_HITS : EXIT_NONE;
    }
    tq_result_free(&res);
out:
    tq_query_free(&q);
    tr_reader_end(rd);
    return status;
}

/* --batch: "qid<TAB>query" or a plain line (numbered 1..n over non-blank
 * lines). A bad query is reported and skipped; an index error stops. */
static int run_batch(run *R)
{
    FILE *in = strcmp(R->o->batch, "-") ? fopen(R->o->batch, "r") : stdin;
    if (!in) {
        fprintf(stderr, PROG ": %s: %s\n", R->o->batch, strerror(errno));
        return EXIT_ERROR;
    }
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    int status = EXIT_HITS;
    while ((len = getline(&line, &cap, in)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        n++;
        char qid[MAX_QID_BYTES + 1];
        const char *text = line;
        char *tab = memchr(line, '\t', (size_t)len);
        if (tab && (size_t)(tab - line) <= MAX_QID_BYTES && tab > line) {
            memcpy(qid, line, (size_t)(tab - line));
            qid[tab - line] = 0;
            for (char *p = qid; *p; p++) if (*p == ' ') *p = '_';
            text = tab + 1;
        } else {
            snprintf(qid, sizeof qid, "%zu", n);
        }
        if ((size_t)len > MAX_LINE_BYTES) {
            fprintf(stderr, PROG ": query %s: longer than %d bytes, skipped\n", qid, MAX_LINE_BYTES);
            continue;
        }
        int bad = 0;
        int st = run_query(R, text, (size_t)(line + len - text), qid, &bad);
        if (st == EXIT_ERROR && !bad) { status = EXIT_ERROR; break; }
        fflush(stdout);
    }
    if (ferror(in)) {
        fprintf(stderr, PROG ": %s: %s\n", R->o->batch, strerror(errno));
        status = EXIT_ERROR;
    }
    free(line);
    if (in != stdin) fclose(in);
    return status;
}

/* A protocol command: TOP_n, TOP_n_COUNT or COUNT. Returns 0 and sets
 * *k (0 for COUNT) and *want_count, or -1. */
static int parse_command(const char *s, size_t len, size_t *k, int *want_count)
{
    *k = 0; *want_count = 0;
    if (len == 5 && !memcmp(s, "COUNT", 5)) { *want_count = 1; return 0; }
    if (len < 5 || memcmp(s, "TOP_", 4)) return -1;
    size_t i = 4, v = 0;
    if (s[i] < '1' || s[i] > '9') return -1;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (size_t)(s[i] - '0');
        if (v > TQ_MAX_TOP) return -1;
        i++;
    }
    if (i == len) { *k = v; return 0; }
    if (len - i == 6 && !memcmp(s + i, "_COUNT", 6)) { *k = v; *want_count = 1; return 0; }
    return -1;
}

/* One protocol answer line (without the newline) for cmd<TAB>query into
 * out. Returns 0, or -1 after printing a message for an index error (the
 * answer is then UNSUPPORTED too). */
static int protocol_answer(run *R, char *line, size_t len, tr_buf *out)
{
    static const char unsupported[] = "UNSUPPORTED";
    char err[ERR_CAP] = "";
    char *tab = memchr(line, '\t', len);
    size_t k;
    int want_count;
    tr_buf_clear(out);
    if (!tab || parse_command(line, (size_t)(tab - line), &k, &want_count) ||
        len > MAX_LINE_BYTES)
        return tr_buf_append(out, unsupported, sizeof unsupported - 1);
    const char *text = tab + 1;
    size_t tlen = (size_t)(line + len - text);
    tr_reader *rd = NULL;
    int rc = tr_reader_begin(R->ix, &rd, err, sizeof err);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", err[0] ? err : tr_strerror(rc));
        tr_buf_append(out, unsupported, sizeof unsupported - 1);
        return -1;
    }
    tq_query q;
    memset(&q, 0, sizeof q);
    tq_opts po = { R->o->default_and, R->o->plain };
    int ret = 0;
    if (tq_parse(text, tlen, R->an, &po, &q, err, sizeof err)) {
        rc = tr_buf_append(out, unsupported, sizeof unsupported - 1);
        goto done;
    }
    tq_eval_opts ev;
    eval_opts(R->o, &q, &ev);
    char num[32];
    if (!k) {
        uint64_t n = 0;
        if ((rc = tq_count(rd, &q, &ev, &n, err, sizeof err))) goto failed;
        int w = snprintf(num, sizeof num, "%llu", (unsigned long long)n);
        rc = tr_buf_append(out, num, (size_t)w);
        goto done;
    }
    ev.k = k; ev.offset = 0; ev.want_total = want_count;
    tq_result res;
    memset(&res, 0, sizeof res);
    if ((rc = tq_search(rd, &q, &ev, &res, err, sizeof err))) {
        tq_result_free(&res);
        goto failed;
    }
    if (want_count) {
        int w = snprintf(num, sizeof num, "%llu\t", (unsigned long long)res.total);
        rc |= tr_buf_append(out, num, (size_t)w);
    }
    for (size_t i = 0; i < res.nhits && !rc; i++) {
        tr_doc_view d;
        if ((rc = tr_reader_doc(rd, res.hits[i].doc, &d))) break;
        if (i) rc |= tr_buf_append(out, " ", 1);
        rc |= tr_buf_append(out, d.id, d.id_len);
    }
    tq_result_free(&res);
    if (rc) goto failed;
    goto done;
failed:
    tr_buf_clear(out);
    tr_buf_append(out, unsupported, sizeof unsupported - 1);
    if (rc != TR_EINPUT && rc != TR_ELIMIT) { /* the index's fault, not the query's */
        fprintf(stderr, PROG ": %s\n", err[0] ? err : tr_strerror(rc));
        ret = -1;
    }
done:
    tq_query_free(&q);
    tr_reader_end(rd);
    return ret;
}

static int run_protocol(run *R)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    tr_buf out = {0};
    int status = EXIT_HITS;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (protocol_answer(R, line, (size_t)len, &out)) status = EXIT_ERROR;
        /* Ids never hold newlines in a valid answer; guard the framing. */
        for (size_t i = 0; i < out.len; i++)
            if (out.data[i] == '\n' || out.data[i] == '\r') out.data[i] = ' ';
        if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) ||
            putchar('\n') == EOF || fflush(stdout) == EOF) {
            fprintf(stderr, PROG ": writing answers: %s\n", strerror(errno));
            status = EXIT_ERROR;
            break;
        }
    }
    free(line);
    tr_buf_free(&out);
    return status;
}

/* Opens the index and makes the analyzer from its settings. */
static int open_index(run *R)
{
    char err[ERR_CAP] = "";
    const char *dir = R->o->index_dir;
    int rc = tr_index_open(dir, &R->ix, err, sizeof err);
    if (rc == TR_ENOTFOUND) {
        fprintf(stderr, PROG ": %s: no trawl index here (run trawl-index first)\n", dir);
        return -1;
    }
    if (rc == TR_EVERSION) {
        fprintf(stderr, PROG ": %s: %s\n", dir, err[0] ? err :
                "index format version differs from this program's");
        if (!err[0]) fprintf(stderr, PROG ": this program reads format version %d\n", TR_FORMAT_VERSION);
        return -1;
    }
    if (rc) {
        fprintf(stderr, PROG ": %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        return -1;
    }
    tr_reader *rd = NULL;
    if ((rc = tr_reader_begin(R->ix, &rd, err, sizeof err))) {
        fprintf(stderr, PROG ": %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        return -1;
    }
    tr_settings s = *tr_reader_settings(rd);
    tr_reader_end(rd);
    R->an = tr_analyzer_new(&s, err, sizeof err);
    if (!R->an) {
        fprintf(stderr, PROG ": %s: analyzer: %s\n", dir, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli o;
    int pc = parse_cli(argc, argv, &o);
    if (pc) {
        free(o.query);
        return pc > 0 ? EXIT_HITS : EXIT_ERROR;
    }
    run R;
    memset(&R, 0, sizeof R);
    R.o = &o;
    int status;
    if (open_index(&R)) {
        status = EXIT_ERROR;
    } else if (o.protocol) {
        status = run_protocol(&R);
    } else if (o.batch) {
        status = run_batch(&R);
    } else {
        int bad;
        status = run_query(&R, o.query, strlen(o.query), NULL, &bad);
    }
    if (fflush(stdout) == EOF && status != EXIT_ERROR) {
        fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
        status = EXIT_ERROR;
    }
    tq_snippet_free(&R.sn);
    tr_buf_free(&R.body);
    explain_clear(&R);
    free(R.ex);
    tr_analyzer_free(R.an);
    tr_index_close(R.ix);
    free(o.query);
    return status;
}
