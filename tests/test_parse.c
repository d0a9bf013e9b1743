/* test_parse.c - the query parser: known trees (tq_print output) for every
 * form in docs/QUERY.md, in english and `none`, the limits at their
 * boundaries, and hostile input (deep nesting, huge and random queries)
 * that must end in a tree or a located error, never a crash.
 * Run with an argument to print the tree of that query instead. */
#include "check.h"
#include "parse.h"
#include "index.h"

#include <stdlib.h>
#include <string.h>

#define RANDOM_CASES 20000       /* seeded random byte strings */
#define RANDOM_MAX_LEN 64

static tr_analyzer *analyzer(const char *language, int stopwords)
{
    tr_settings s;
    tr_settings_default(&s);
    s.stopwords = stopwords;
    snprintf(s.language, sizeof s.language, "%s", language);
    char err[256];
    tr_analyzer *a = tr_analyzer_new(&s, err, sizeof err);
    if (!a) {
        fprintf(stderr, "analyzer %s: %s\n", language, err);
        skip("the analyzer is not available yet");
    }
    return a;
}

/* Parse and print into a malloc'd string ("ERROR rc: message" on error). */
static char *tree(tr_analyzer *a, const char *q, size_t len, int and, int plain)
{
    tq_opts o = {.default_and = and, .plain = plain};
    tq_query query;
    char err[256];
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    int rc = tq_parse(q, len, a, &o, &query, err, sizeof err);
    if (rc) fprintf(f, "ERROR %s: %s\n", tr_strerror(rc), err);
    else tq_print(&query, f);
    fclose(f);
    tq_query_free(&query);
    return out;
}

typedef struct example {
    const char *query;
    int and, plain;
    const char *want;
} example;

/* english: stems, folds diacritics, keeps stopwords (the default settings);
 * none: folds only; stop: english with stopwords removed. Every form in
 * docs/QUERY.md appears here with the tree it must give. */
static const example english[] = {
    {"aliyev", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"aliyev\"\n"},
    {"climate talks", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"climat\"\n"
         "  SHOULD TERM body+title \"talk\"\n"},
    {"climate talks", 1, 0,
         "BOOL\n"
         "  MUST TERM body+title \"climat\"\n"
         "  MUST TERM body+title \"talk\"\n"},
    {"a AND b OR c", 0, 0,
         "BOOL\n"
         "  SHOULD BOOL\n"
         "    MUST TERM body+title \"a\"\n"
         "    MUST TERM body+title \"b\"\n"
         "  SHOULD TERM body+title \"c\"\n"},
    {"a b OR c", 1, 0,
         "BOOL\n"
         "  SHOULD BOOL\n"
         "    MUST TERM body+title \"a\"\n"
         "    MUST TERM body+title \"b\"\n"
         "  SHOULD TERM body+title \"c\"\n"},
    {"a AND b c", 0, 0,
         "BOOL\n"
         "  MUST TERM body+title \"a\"\n"
         "  MUST TERM body+title \"b\"\n"
         "  SHOULD TERM body+title \"c\"\n"},
    {"a -b", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  MUST_NOT TERM body+title \"b\"\n"},
    {"a -(b c)", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  MUST_NOT BOOL\n"
         "    SHOULD TERM body+title \"b\"\n"
         "    SHOULD TERM body+title \"c\"\n"},
    {"+a", 0, 0,
         "BOOL\n"
         "  MUST TERM body+title \"a\"\n"},
    {"+(a)", 0, 0,
         "BOOL\n"
         "  MUST TERM body+title \"a\"\n"},
    {"(+a) b", 0, 0,
         "BOOL\n"
         "  SHOULD BOOL\n"
         "    MUST TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {"NOT a b", 0, 0,
         "BOOL\n"
         "  MUST_NOT TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {"a NOT b", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  MUST_NOT TERM body+title \"b\"\n"},
    {"a AND NOT b", 0, 0,
         "BOOL\n"
         "  MUST TERM body+title \"a\"\n"
         "  MUST_NOT TERM body+title \"b\"\n"},
    {"NOT NOT a", 0, 0,
         "BOOL\n"
         "  MUST TERM body+title \"a\"\n"},
    {"+\"climate finance\" talks", 0, 0,
         "BOOL\n"
         "  MUST PHRASE body+title \"climat\" \"financ\" @0,1\n"
         "  SHOULD TERM body+title \"talk\"\n"},
    {"-\"climate finance\" talks", 0, 0,
         "BOOL\n"
         "  MUST_NOT PHRASE body+title \"climat\" \"financ\" @0,1\n"
         "  SHOULD TERM body+title \"talk\"\n"},
    {"\"climate talks\"", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"climat\" \"talk\" @0,1\n"},
    {"\"climate\"", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"climat\"\n"},
    {"title:word", 0, 0,
         "BOOL\n"
         "  SHOULD TERM title \"word\"\n"},
    {"title:\"a phrase\"", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE title \"a\" \"phrase\" @0,1\n"},
    {"body:rain", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body \"rain\"\n"},
    {"title:(flood river) body:rain", 0, 0,
         "BOOL\n"
         "  SHOULD BOOL\n"
         "    SHOULD TERM title \"flood\"\n"
         "    SHOULD TERM title \"river\"\n"
         "  SHOULD TERM body \"rain\"\n"},
    {"title:(a body:b)", 0, 0,
         "BOOL\n"
         "  SHOULD TERM title \"a\"\n"
         "  SHOULD TERM body \"b\"\n"},
    {"title:title:a", 0, 0,
         "BOOL\n"
         "  SHOULD TERM title \"a\"\n"},
    {"clim*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX body+title \"clim\"\n"},
    {"title:rail*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX title \"rail\"\n"},
    {"the*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX body+title \"the\"\n"},
    {"Zürich*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX body+title \"zurich\"\n"},
    {"COP-29", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"cop\" \"29\" @0,1\n"},
    {"COP29", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"cop29\"\n"},
    {"U.S.A.", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"usa\"\n"},
    {"2019-2022", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"2019\" \"2022\" @0,1\n"},
    {"aliyev title:\"COP-29\"", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"aliyev\"\n"
         "  SHOULD PHRASE title \"cop\" \"29\" @0,1\n"},
    {"Aliyev`s", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"aliyev\"\n"},
    {"Željka İlham", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"zeljka\"\n"
         "  SHOULD TERM body+title \"ilham\"\n"},
    {"“curly quotes”", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"cur\" \"quot\" @0,1\n"},
    {"climate NEAR/3 finance", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/3 body+title\n"
         "    TERM body+title \"climat\"\n"
         "    TERM body+title \"financ\"\n"},
    {"a NEAR b", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/10 body+title\n"
         "    TERM body+title \"a\"\n"
         "    TERM body+title \"b\"\n"},
    {"\"climate talks\" NEAR/5 Baku", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/5 body+title\n"
         "    PHRASE body+title \"climat\" \"talk\" @0,1\n"
         "    TERM body+title \"baku\"\n"},
    {"\"a\" NEAR \"b c\" NEAR/2 d", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/10 body+title\n"
         "    TERM body+title \"a\"\n"
         "    PHRASE body+title \"b\" \"c\" @0,1\n"
         "    TERM body+title \"d\"\n"},
    {"a NEAR c*", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"near\"\n"
         "  SHOULD PREFIX body+title \"c\"\n"},
    {"NEAR", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"near\"\n"},
    {"a NEAR/0 b", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/0 body+title\n"
         "    TERM body+title \"a\"\n"
         "    TERM body+title \"b\"\n"},
    {"date:>=2019-01-01 flood", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"flood\"\n"
         "DATE >= 2019-01-01\n"},
    {"date:<=2020-12-31 flood", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"flood\"\n"
         "DATE <= 2020-12-31\n"},
    {"date:2019-01-01..2019-12-31 flood", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"flood\"\n"
         "DATE >= 2019-01-01\n"
         "DATE <= 2019-12-31\n"},
    {"date:2019 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2019-01-01\n"
         "DATE <= 2019-12-31\n"},
    {"date:2020-02 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2020-02-01\n"
         "DATE <= 2020-02-29\n"},
    {"date:<2019 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE <= 2018-12-31\n"},
    {"date:>2019-12-31 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2020-01-01\n"},
    {"date:2019.. x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2019-01-01\n"},
    {"date:..2019-06 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE <= 2019-06-30\n"},
    {"date:>=2015 date:<=2018 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2015-01-01\n"
         "DATE <= 2018-12-31\n"},
    {"DATE:2019 x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"
         "DATE >= 2019-01-01\n"
         "DATE <= 2019-12-31\n"},
    {"date:2019", 0, 0,
         "NONE\n"
         "DATE >= 2019-01-01\n"
         "DATE <= 2019-12-31\n"},
    {"", 0, 0,
         "NONE\n"},
    {"   ", 0, 0,
         "NONE\n"},
    {"...", 0, 0,
         "NONE\n"},
    {"()", 0, 0,
         "NONE\n"},
    {"title:", 0, 0,
         "NONE\n"},
    {"title: x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"},
    {"title:\"\" x", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"x\"\n"},
    {"AND", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"and\"\n"},
    {"a OR", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"or\"\n"},
    {"NOT", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"not\"\n"},
    {"a AND", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"and\"\n"},
    {"OR b", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"or\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {"a OR OR b", 0, 0,
         "BOOL\n"
         "  SHOULD BOOL\n"
         "    SHOULD TERM body+title \"a\"\n"
         "    SHOULD TERM body+title \"or\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {"- a", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"},
    {"a -", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"},
    {"((a", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"},
    {"(a OR (b c", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD BOOL\n"
         "    SHOULD TERM body+title \"b\"\n"
         "    SHOULD TERM body+title \"c\"\n"},
    {"a) b", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {")))", 0, 0,
         "NONE\n"},
    {"\"unclosed quote", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"unclos\" \"quot\" @0,1\n"},
    {"lower and or not", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"lower\"\n"
         "  SHOULD TERM body+title \"and\"\n"
         "  SHOULD TERM body+title \"or\"\n"
         "  SHOULD TERM body+title \"not\"\n"},
    {"foo:bar", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"foo\" \"bar\" @0,1\n"},
    {"AND the title:\"x\" -x x* y x", 0, 1,
         "BOOL\n"
         "  SHOULD TERM body+title \"and\"\n"
         "  SHOULD TERM body+title \"the\"\n"
         "  SHOULD TERM body+title \"titl\"\n"
         "  SHOULD TERM body+title \"x\" ^3.25\n" /* 4 repeats: 4*13/(4+12) */
         "  SHOULD TERM body+title \"y\"\n"},
    {"cats cat dog", 0, 1,                          /* 2 repeats: 2*13/(2+12) */
         "BOOL\n"
         "  SHOULD TERM body+title \"cat\" ^1.857\n"
         "  SHOULD TERM body+title \"dog\"\n"},
    {"COP-29 NEAR/3 \"a b\"", 0, 1,
         "BOOL\n"
         "  SHOULD TERM body+title \"cop\"\n"
         "  SHOULD TERM body+title \"29\"\n"
         "  SHOULD TERM body+title \"near\"\n"
         "  SHOULD TERM body+title \"3\"\n"
         "  SHOULD TERM body+title \"a\"\n"
         "  SHOULD TERM body+title \"b\"\n"},
    {"-a", 0, 0,
         "ERROR malformed input: column 1: a query needs at least one term that is not excluded\n"},
    {"-(a b)", 0, 0,
         "ERROR malformed input: column 1: a query needs at least one term that is not excluded\n"},
    {"a OR -b", 0, 0,
         "ERROR malformed input: column 6: a query needs at least one term that is not excluded\n"},
    {"x -date:2019", 0, 0,
         "ERROR malformed input: column 4: a date filter cannot be excluded\n"},
    {"x date:bad", 0, 0,
         "ERROR malformed input: column 8: bad date 'bad' (want YYYY, YYYY-MM or YYYY-MM-DD, optionally after >=, >, <=, < or as FROM..TO)\n"},
    {"x date:2019-02-30", 0, 0,
         "ERROR malformed input: column 8: bad date '2019-02-30' (want YYYY, YYYY-MM or YYYY-MM-DD, optionally after >=, >, <=, < or as FROM..TO)\n"},
    {"x date:2019-13", 0, 0,
         "ERROR malformed input: column 8: bad date '2019-13' (want YYYY, YYYY-MM or YYYY-MM-DD, optionally after >=, >, <=, < or as FROM..TO)\n"},
    {"*", 0, 0,
         "ERROR malformed input: column 1: '*' needs at least one character before it\n"},
    {"cop-2*", 0, 0,
         "ERROR malformed input: column 1: a prefix before '*' must be a single word, and 'cop-2' is 2 words\n"},
    {"$*", 0, 0,
         "ERROR malformed input: column 1: prefix '$' has no letters or digits\n"},
    {"x NEAR/1001 y", 0, 0,
         "ERROR limit exceeded: column 3: NEAR/1001 is over the limit of 1000 (TQ_MAX_NEAR)\n"},
    {"x NEAR/1000 y", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/1000 body+title\n"
         "    TERM body+title \"x\"\n"
         "    TERM body+title \"y\"\n"},
};

static const example none[] = {
    {"floods", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"floods\"\n"},
    {"Floods Željka", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"floods\"\n"
         "  SHOULD TERM body+title \"zeljka\"\n"},
    {"running NEAR/2 \"the trains\"", 0, 0,
         "BOOL\n"
         "  SHOULD NEAR/2 body+title\n"
         "    TERM body+title \"running\"\n"
         "    PHRASE body+title \"the\" \"trains\" @0,1\n"},
    {"rail*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX body+title \"rail\"\n"},
    {"São Paulo", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"sao\"\n"
         "  SHOULD TERM body+title \"paulo\"\n"},
    {"floods the", 0, 1,
         "BOOL\n"
         "  SHOULD TERM body+title \"floods\"\n"
         "  SHOULD TERM body+title \"the\"\n"},
};

static const example stop[] = {
    {"\"the climate of the talks\"", 0, 0,
         "BOOL\n"
         "  SHOULD PHRASE body+title \"climat\" \"talk\" @0,3\n"},
    {"the a", 0, 0,
         "NONE\n"},
    {"the of", 0, 0,
         "NONE\n"},
    {"flood -the", 0, 0,
         "BOOL\n"
         "  SHOULD TERM body+title \"flood\"\n"},
    {"the -flood", 0, 0,
         "ERROR malformed input: column 1: a query needs at least one term that is not excluded\n"},
    {"the*", 0, 0,
         "BOOL\n"
         "  SHOULD PREFIX body+title \"the\"\n"},
};

static void check_table(tr_analyzer *a, const example *t, size_t n, const char *lang)
{
    for (size_t i = 0; i < n; i++) {
        char *got = tree(a, t[i].query, strlen(t[i].query), t[i].and, t[i].plain);
        CHECK(strcmp(got, t[i].want) == 0);
        if (strcmp(got, t[i].want) != 0)
            fprintf(stderr, "[%s] query %s%s%s\n--- want\n%s--- got\n%s", lang, t[i].query,
                    t[i].and ? " (and)" : "", t[i].plain ? " (plain)" : "", t[i].want, got);
        free(got);
    }
}


/* rc is 0, or the message is located: "column N: ...". */
static int parse_ok_or_located(tr_analyzer *a, const char *q, size_t len, const tq_opts *o,
                               int *rc_out)
{
    tq_query query;
    char err[256];
    int rc = tq_parse(q, len, a, o, &query, err, sizeof err);
    int ok = rc == 0 ? query.root != NULL : query.root == NULL && strncmp(err, "column ", 7) == 0;
    if (rc == 0) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            tq_print(&query, devnull);
            fclose(devnull);
        }
    }
    tq_query_free(&query);
    if (rc_out) *rc_out = rc;
    return ok;
}

static char *error_of(tr_analyzer *a, const char *q, size_t len)
{
    return tree(a, q, len, 0, 0);
}

static void check_limits(tr_analyzer *a)
{
    tq_opts o = {0};
    char *buf = malloc(1 << 20);
    int rc;

    /* depth: 32 levels are fine, 33 is the error, 100,000 is the same error */
    for (size_t n = 32; n <= 33; n++) {
        memset(buf, '(', n);
        buf[n] = 'a';
        char *t = error_of(a, buf, n + 1);
        if (n == 32) CHECK(strcmp(t, "BOOL\n  SHOULD TERM body+title \"a\"\n") == 0);
        else CHECK(strcmp(t, "ERROR limit exceeded: column 33: query nested deeper than 32 levels\n") == 0);
        free(t);
    }
    /* 60,000 "(" is within TQ_MAX_QUERY_BYTES: one depth error; 100,000 is
     * over it, and the length is checked first: one length error */
    memset(buf, '(', 100000);
    char *t = error_of(a, buf, 60000);
    CHECK(strcmp(t, "ERROR limit exceeded: column 33: query nested deeper than 32 levels\n") == 0);
    free(t);
    t = error_of(a, buf, 100000);
    CHECK(strcmp(t, "ERROR limit exceeded: column 65537: query longer than 65536 bytes "
                    "(TQ_MAX_QUERY_BYTES)\n") == 0);
    free(t);

    /* clauses: 1024 distinct terms are fine, the 1025th is the error */
    size_t len = 0;
    for (int i = 0; i < 10000; i++) len += (size_t)sprintf(buf + len, "t%d ", i);
    CHECK(parse_ok_or_located(a, buf, len, &o, &rc));
    CHECK_EQ_INT(rc, TR_ELIMIT);
    t = error_of(a, buf, len);
    CHECK(strstr(t, "more than 1024 terms and phrases in the query (TQ_MAX_CLAUSES)") != NULL);
    free(t);
    len = 0;
    for (int i = 0; i < TQ_MAX_CLAUSES; i++) len += (size_t)sprintf(buf + len, "t%d ", i);
    CHECK(parse_ok_or_located(a, buf, len, &o, &rc));
    CHECK_EQ_INT(rc, 0);
    len += (size_t)sprintf(buf + len, "t%d", TQ_MAX_CLAUSES);
    CHECK(parse_ok_or_located(a, buf, len, &o, &rc));
    CHECK_EQ_INT(rc, TR_ELIMIT);

    /* length: TQ_MAX_QUERY_BYTES is fine, one more byte and 1 MB are not */
    memset(buf, 'x', 1 << 20);
    CHECK(parse_ok_or_located(a, buf, TQ_MAX_QUERY_BYTES, &o, &rc));
    CHECK_EQ_INT(rc, 0);
    CHECK(parse_ok_or_located(a, buf, TQ_MAX_QUERY_BYTES + 1, &o, &rc));
    CHECK_EQ_INT(rc, TR_ELIMIT);
    CHECK(parse_ok_or_located(a, buf, 1 << 20, &o, &rc));
    CHECK_EQ_INT(rc, TR_ELIMIT);

    /* phrase terms: 64 fine, 65 the error */
    len = (size_t)sprintf(buf, "\"");
    for (int i = 0; i < TQ_MAX_PHRASE_TERMS; i++) len += (size_t)sprintf(buf + len, "p%d ", i);
    CHECK(parse_ok_or_located(a, buf, len, &o, &rc));
    CHECK_EQ_INT(rc, 0);
    len += (size_t)sprintf(buf + len, "p%d", TQ_MAX_PHRASE_TERMS);
    CHECK(parse_ok_or_located(a, buf, len, &o, &rc));
    CHECK_EQ_INT(rc, TR_ELIMIT);

    /* NUL bytes separate words; invalid UTF-8 is the analyzer's to handle */
    t = tree(a, "flood\0river", 11, 0, 0);
    CHECK(strcmp(t, "BOOL\n  SHOULD TERM body+title \"flood\"\n  SHOULD TERM body+title \"river\"\n") == 0);
    free(t);
    static const char *invalid[] = {"\xff\xfe", "caf\xc3", "\xc0\xaf title:\xed\xa0\x80*",
                                    "\"\xe2\x80", "\xe2\x80\x9c", "NEAR/3 \xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        CHECK(parse_ok_or_located(a, invalid[i], strlen(invalid[i]), &o, NULL));
    free(buf);
}

/* Every ASCII punctuation character alone and in pairs, in all modes. */
static void check_punctuation(tr_analyzer *a)
{
    char punct[40];
    size_t np = 0;
    for (int c = 33; c < 127; c++)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            punct[np++] = (char)c;
    CHECK_EQ_INT(np, 32);
    int bad = 0;
    for (int mode = 0; mode < 3; mode++) {
        tq_opts o = {.default_and = mode == 1, .plain = mode == 2};
        for (size_t i = 0; i < np; i++) {
            bad += !parse_ok_or_located(a, punct + i, 1, &o, NULL);
            for (size_t j = 0; j < np; j++) {
                char q[8] = {punct[i], punct[j]};
                bad += !parse_ok_or_located(a, q, 2, &o, NULL);
                char r[8] = {'a', punct[i], punct[j], 'b'};
                bad += !parse_ok_or_located(a, r, 4, &o, NULL);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* Seeded random queries over an alphabet heavy in syntax. */
static void check_random(tr_analyzer *a)
{
    static const char *pieces[] = {"(", ")", "\"", " ", "-", "+", "*", ":", "AND", "OR", "NOT",
        "NEAR", "NEAR/3", "NEAR/", "title:", "body:", "date:", ">=", "2019", "..", "-01",
        "a", "cop", "29", "the", "\xc3\xa9", "\xff", "\0", "\xe2\x80\x9c", "\xe2\x80\x9d", "/"};
    uint64_t state = 0x9E3779B97F4A7C15ull;
    char q[RANDOM_MAX_LEN * 8];
    int bad = 0;
    for (int i = 0; i < RANDOM_CASES; i++) {
        size_t len = 0;
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(state >> 33) % RANDOM_MAX_LEN;
        for (size_t k = 0; k < n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(state >> 33);
            if (r & 1) { /* a raw random byte */
                q[len++] = (char)(r >> 8);
            } else {
                const char *p = pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])];
                size_t pl = p[0] ? strlen(p) : 1;
                memcpy(q + len, p, pl);
                len += pl;
            }
        }
        tq_opts o = {.default_and = i % 3 == 1, .plain = i % 7 == 6};
        if (!parse_ok_or_located(a, q, len, &o, NULL)) {
            bad++;
            if (bad < 5) fprintf(stderr, "random case %d gives an unlocated error\n", i);
        }
    }
    CHECK_EQ_INT(bad, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) { /* exploration: test_parse [-and] [-plain] [-none] QUERY */
        int and = 0, plain = 0, stop = 0;
        const char *lang = "english";
        for (int i = 1; i < argc - 1; i++) {
            if (!strcmp(argv[i], "-and")) and = 1;
            if (!strcmp(argv[i], "-plain")) plain = 1;
            if (!strcmp(argv[i], "-none")) lang = "none";
            if (!strcmp(argv[i], "-stop")) stop = 1;
        }
        tr_analyzer *a = analyzer(lang, stop);
        char *t = tree(a, argv[argc - 1], strlen(argv[argc - 1]), and, plain);
        fputs(t, stdout);
        free(t);
        tr_analyzer_free(a);
        return 0;
    }
    tr_analyzer *en = analyzer("english", 0), *no = analyzer("none", 0);
    check_table(en, english, sizeof english / sizeof english[0], "english");
    check_table(no, none, sizeof none / sizeof none[0], "none");
    tr_analyzer *st = analyzer("english", 1);
    check_table(st, stop, sizeof stop / sizeof stop[0], "stop");
    tr_analyzer_free(st);
    check_limits(en);
    check_punctuation(en);
    check_random(en);
    check_random(no);
    tr_analyzer_free(en);
    tr_analyzer_free(no);
    return check_done();
}
