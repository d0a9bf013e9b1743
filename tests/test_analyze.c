/* test_analyze.c - known answers for the analysis pipeline (analyze.h):
 * a hand-checked sentence, every class of bad UTF-8, huge tokens, joiners,
 * folding, every stemmer, settings round trips, threads and the stem cache. */
#include "analyze.h"
#include "analyze_cmd.h"
#include "analyze_internal.h"
#include "check.h"

#include <unistd.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 4096 /* per collected run in these tests */

typedef struct collected {
    int n;
    char term[MAX_TOKENS][TR_MAX_TERM_BYTES + 1];
    uint32_t pos[MAX_TOKENS], start[MAX_TOKENS], end[MAX_TOKENS];
    int total;    /* including tokens beyond MAX_TOKENS */
    int bad;      /* tokens that broke an invariant */
    size_t input_len;
    uint32_t next_pos;
} collected;

static int valid_utf8(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (k == 0 || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static int collect(void *ctx, const tr_token *t)
{
    collected *c = ctx;
    if (!(t->start < t->end && t->end <= c->input_len && t->len >= 1 &&
          t->len <= TR_MAX_TERM_BYTES && t->pos >= c->next_pos && t->term[t->len] == '\0' &&
          valid_utf8(t->term, t->len)))
        c->bad++;
    c->next_pos = t->pos + 1;
    if (c->n < MAX_TOKENS) {
        memcpy(c->term[c->n], t->term, t->len);
        c->term[c->n][t->len] = '\0';
        c->pos[c->n] = t->pos;
        c->start[c->n] = t->start;
        c->end[c->n] = t->end;
        c->n++;
    }
    c->total++;
    return 0;
}

static collected *run(tr_analyzer *a, const char *text, size_t len)
{
    static collected c;
    memset(&c, 0, sizeof c);
    c.input_len = len;
    CHECK_EQ_INT(tr_analyze(a, text, len, 0, collect, &c), 0);
    CHECK_EQ_INT(c.bad, 0);
    return &c;
}

static tr_analyzer *make(const char *lang, int fold, int stop)
{
    tr_settings s;
    tr_settings_default(&s);
    snprintf(s.language, sizeof s.language, "%s", lang);
    s.fold_diacritics = fold;
    s.stopwords = stop;
    char err[2048];
    tr_analyzer *a = tr_analyzer_new(&s, err, sizeof err);
    if (!a) fprintf(stderr, "tr_analyzer_new(%s): %s\n", lang, err);
    return a;
}

/* The single term a short text gives, or "" when it gives none or several. */
static const char *one_term(tr_analyzer *a, const char *text)
{
    static char out[TR_MAX_TERM_BYTES + 1];
    collected *c = run(a, text, strlen(text));
    out[0] = '\0';
    if (c->n == 1) memcpy(out, c->term[0], sizeof out);
    return out;
}

static void test_sentence(void)
{
    /* offsets worked out by hand: “ ” — are 3 bytes, ü Ž ć İ are 2 */
    const char *text = "President Ilham Aliyev`s \xE2\x80\x9C" "firm will\xE2\x80\x9D \xE2\x80\x94 "
                       "T\xC3\xBCrkiye, \xC5\xBD" "eljka Cvijanovi\xC4\x87 and \xC4\xB0lham "
                       "\xE2\x80\x94 COP29, 2019-2022, $100 million";
    static const struct { const char *term; uint32_t start, end; } want[] = {
        {"presid", 0, 9},    {"ilham", 10, 15},    {"aliyev", 16, 24}, {"firm", 28, 32},
        {"will", 33, 37},    {"turkiy", 45, 53},   {"zeljka", 55, 62}, {"cvijanov", 63, 74},
        {"and", 75, 78},     {"ilham", 79, 85},    {"cop29", 90, 95},  {"2019", 97, 101},
        {"2022", 102, 106},  {"100", 109, 112},    {"million", 113, 120},
    };
    const int nwant = (int)(sizeof want / sizeof want[0]);
    CHECK_EQ_INT(strlen(text), 120);
    tr_analyzer *a = make("english", 1, 0);
    collected *c = run(a, text, strlen(text));
    CHECK_EQ_INT(c->n, nwant);
    for (int i = 0; i < nwant && i < c->n; i++) {
        if (strcmp(c->term[i], want[i].term) != 0)
            fprintf(stderr, "term %d: got '%s' want '%s'\n", i, c->term[i], want[i].term);
        CHECK(strcmp(c->term[i], want[i].term) == 0);
        CHECK_EQ_INT(c->pos[i], i);
        CHECK_EQ_INT(c->start[i], want[i].start);
        CHECK_EQ_INT(c->end[i], want[i].end);
    }
    /* first_pos shifts positions */
    collected *d = run(a, "two words", 9);
    CHECK_EQ_INT(d->n, 2);
    memset(d, 0, sizeof *d);
    d->input_len = 9;
    d->next_pos = 100;
    CHECK_EQ_INT(tr_analyze(a, "two words", 9, 100, collect, d), 0);
    CHECK_EQ_INT(d->pos[0], 100);
    CHECK_EQ_INT(d->pos[1], 101);
    tr_analyzer_free(a);
}

static void test_rules(void)
{
    tr_analyzer *a = make("none", 1, 0);
    CHECK(strcmp(one_term(a, "U.S."), "us") == 0);
    CHECK(strcmp(one_term(a, "U.S.A."), "usa") == 0);
    CHECK(strcmp(one_term(a, "7.5"), "7.5") == 0);
    CHECK(strcmp(one_term(a, "1,000"), "1000") == 0);
    CHECK(strcmp(one_term(a, "1,000.25"), "1000.25") == 0);
    CHECK(strcmp(one_term(a, "COP29"), "cop29") == 0);
    CHECK(strcmp(one_term(a, "$100"), "100") == 0);
    CHECK(strcmp(one_term(a, "rock'n'roll"), "rock'n'roll") == 0);
    CHECK(strcmp(one_term(a, "'quoted'"), "quoted") == 0);
    CHECK(strcmp(one_term(a, "co\xC2\xADoperate"), "cooperate") == 0); /* soft hyphen */
    CHECK(strcmp(one_term(a, "\xEF\xAC\x81nd"), "find") == 0);         /* NFKC: ﬁ ligature */
    CHECK(strcmp(one_term(a, "x\xC2\xB2"), "x2") == 0);                   /* x² */
    CHECK(strcmp(one_term(a, "\xC2\xBD"), "12") == 0);  /* ½: the fraction slash is dropped */

    collected *c = run(a, "COP-29 end. 3.x U.S.Army", 24);
    CHECK_EQ_INT(c->n, 7);
    if (c->n == 7) {
        CHECK(strcmp(c->term[0], "cop") == 0);
        CHECK(strcmp(c->term[1], "29") == 0);
        CHECK(strcmp(c->term[2], "end") == 0);
        CHECK(strcmp(c->term[3], "3") == 0);
        CHECK(strcmp(c->term[4], "x") == 0);
        CHECK(strcmp(c->term[5], "us") == 0);
        CHECK_EQ_INT(c->start[5], 16);
        CHECK_EQ_INT(c->end[5], 19);
        CHECK(strcmp(c->term[6], "army") == 0);
    }

    /* apostrophe variants give identical terms */
    const char *apos[] = {"Aliyev's", "Aliyev\xE2\x80\x99s", "Aliyev`s", "Aliyev\xE2\x80\x98s",
                          "Aliyev\xCA\xBCs"};
    for (int i = 0; i < 5; i++) CHECK(strcmp(one_term(a, apos[i]), "aliyev's") == 0);
    tr_analyzer *e = make("english", 1, 0);
    for (int i = 0; i < 5; i++) CHECK(strcmp(one_term(e, apos[i]), "aliyev") == 0);

    /* İlham / ilham / ILHAM meet, with diacritics folded or kept */
    tr_analyzer *keep = make("none", 0, 0);
    const char *ilham[] = {"\xC4\xB0lham", "ilham", "ILHAM", "Ilham"};
    for (int i = 0; i < 4; i++) {
        CHECK(strcmp(one_term(a, ilham[i]), "ilham") == 0);
        CHECK(strcmp(one_term(keep, ilham[i]), "ilham") == 0);
    }
    CHECK(strcmp(one_term(a, "T\xC3\xBCrkiye"), "turkiye") == 0);
    CHECK(strcmp(one_term(a, "Turkiye"), "turkiye") == 0);
    CHECK(strcmp(one_term(keep, "T\xC3\xBCrkiye"), "t\xC3\xBCrkiye") == 0);
    CHECK(strcmp(one_term(keep, "TU\xCC\x88RKIYE"), "t\xC3\xBCrkiye") == 0); /* NFC composes */
    CHECK(strcmp(one_term(a, "\xC5\xBD" "eljka"), "zeljka") == 0);
    CHECK(strcmp(one_term(a, "Cvijanovi\xC4\x87"), "cvijanovic") == 0);
    CHECK(strcmp(one_term(keep, "Cvijanovi\xC4\x87"), "cvijanovi\xC4\x87") == 0);
    /* Devanagari vowel signs are marks but not diacritics: kept */
    CHECK(strcmp(one_term(a, "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80"),
                 "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80") == 0);

    /* tr_fold and tr_stem */
    tr_buf b = {0};
    CHECK_EQ_INT(tr_fold(e, "T\xC3\xBCrkiye", 8, &b), 0);
    CHECK(b.len == 7 && memcmp(b.data, "turkiye", 7) == 0);
    CHECK_EQ_INT(tr_fold(e, "Aliyev\xE2\x80\x99s", 10, &b), 0);
    CHECK(b.len == 8 && memcmp(b.data, "aliyev's", 8) == 0);
    CHECK_EQ_INT(tr_fold(keep, "\xC4\xB0LHAM", 6, &b), 0);
    CHECK(b.len == 5 && memcmp(b.data, "ilham", 5) == 0);
    CHECK_EQ_INT(tr_fold(e, "", 0, &b), 0);
    CHECK_EQ_INT(b.len, 0);
    tr_buf_free(&b);
    size_t n;
    const char *st = tr_stem(e, "running", 7, &n);
    CHECK(st && n == 3 && memcmp(st, "run", 3) == 0);
    st = tr_stem(a, "running", 7, &n);
    CHECK(st && n == 7 && memcmp(st, "running", 7) == 0);

    /* stopwords keep their positions */
    tr_analyzer *sw = make("english", 1, 1);
    c = run(sw, "The cat and the hat", 19);
    CHECK_EQ_INT(c->n, 2);
    if (c->n == 2) {
        CHECK(strcmp(c->term[0], "cat") == 0);
        CHECK_EQ_INT(c->pos[0], 1);
        CHECK(strcmp(c->term[1], "hat") == 0);
        CHECK_EQ_INT(c->pos[1], 4);
    }
    tr_analyzer_free(sw);
    tr_analyzer_free(keep);
    tr_analyzer_free(e);
    tr_analyzer_free(a);
}

static void test_hostile(void)
{
    tr_analyzer *a = make("none", 1, 0);
    tr_analyze_stats st0, st1;
    static const struct { const char *bytes; size_t len; int invalid; int terms; } cases[] = {
        {"ab\x80" "cd", 5, 1, 2},                 /* stray continuation */
        {"ab\xC0\xAF" "cd", 6, 2, 2},             /* overlong '/' (C0 never valid) */
        {"ab\xE0\x80\xAF" "cd", 7, 3, 2},         /* 3-byte overlong */
        {"ab\xF0\x80\x80\xAF" "cd", 8, 4, 2},     /* 4-byte overlong */
        {"ab\xED\xA0\x80" "cd", 7, 3, 2},         /* surrogate U+D800 */
        {"ab\xF4\x90\x80\x80" "cd", 8, 4, 2},     /* U+110000 */
        {"ab\xF5\x80" "cd", 6, 2, 2},             /* F5 never valid */
        {"ab\xFF" "cd", 5, 1, 2},
        {"ab\xE2\x82" "cd", 6, 1, 2},             /* truncated in the middle */
        {"ab\xE2\x82", 4, 1, 1},                  /* truncated tail */
        {"\xF0\x9F\x98", 3, 1, 0},                /* only a truncated tail */
        {"ab\0cd", 5, 0, 2},                      /* NUL is a separator */
        {"", 0, 0, 0},
        {" .,;:!?-'`\"()[]{}", 18, 0, 0},        /* punctuation only */
        {"\xCC\x81", 2, 0, 0},                    /* a lone combining accent folds away */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tr_analyzer_stats(a, &st0);
        /* copy into an exact-size heap block so ASan sees any overread */
        char *buf = malloc(cases[i].len ? cases[i].len : 1);
        memcpy(buf, cases[i].bytes, cases[i].len);
        collected *c = run(a, buf, cases[i].len);
        tr_analyzer_stats(a, &st1);
        if (c->n != cases[i].terms || (int)(st1.invalid_utf8 - st0.invalid_utf8) != cases[i].invalid)
            fprintf(stderr, "hostile case %zu: %d terms, %d invalid\n", i, c->n,
                    (int)(st1.invalid_utf8 - st0.invalid_utf8));
        CHECK_EQ_INT(c->n, cases[i].terms);
        CHECK_EQ_INT(st1.invalid_utf8 - st0.invalid_utf8, cases[i].invalid);
        if (cases[i].terms == 2) {
            CHECK(strcmp(c->term[0], "ab") == 0);
            CHECK(strcmp(c->term[1], "cd") == 0);
        }
        free(buf);
    }

    /* pseudo-random bytes: offsets in range, start < end, valid UTF-8 terms */
    size_t len = 1 << 20;
    uint8_t *junk = malloc(len);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        junk[i] = (uint8_t)(x >> 24);
        if ((x & 0x3) == 0) junk[i] = (uint8_t)("a'.,1 `\xC3\xCC\xE2\x80" [x >> 60 & 0x7 ? (x >> 56) % 11 : 0]);
    }
    collected *c = run(a, (const char *)junk, len);
    CHECK(c->total > 1000);
    tr_analyzer *e = make("english", 0, 0);
    c = run(e, (const char *)junk, len);
    CHECK(c->total > 1000);
    tr_analyzer_free(e);
    free(junk);
    tr_analyzer_free(a);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_long_tokens(void)
{
    tr_analyzer *a = make("english", 1, 0);
    tr_analyze_stats st0, st1;

    size_t n = 100 * 1024;
    char *t = malloc(n);
    memset(t, 'A', n);
    tr_analyzer_stats(a, &st0);
    collected *c = run(a, t, n);
    tr_analyzer_stats(a, &st1);
    CHECK_EQ_INT(c->n, 1);
    CHECK_EQ_INT(strlen(c->term[0]), TR_MAX_TERM_BYTES);
    CHECK(c->term[0][0] == 'a');
    CHECK_EQ_INT(c->start[0], 0);
    CHECK_EQ_INT(c->end[0], n);
    CHECK_EQ_INT(st1.truncated_terms - st0.truncated_terms, 1);
    free(t);

    /* the boundary: 64 bytes stay whole, 65 are cut */
    char edge[TR_MAX_TERM_BYTES + 2];
    memset(edge, 'q', sizeof edge);
    tr_analyzer *none = make("none", 1, 0);
    tr_analyzer_stats(none, &st0);
    c = run(none, edge, TR_MAX_TERM_BYTES);
    tr_analyzer_stats(none, &st1);
    CHECK(c->n == 1 && strlen(c->term[0]) == TR_MAX_TERM_BYTES);
    CHECK_EQ_INT(st1.truncated_terms - st0.truncated_terms, 0);
    c = run(none, edge, TR_MAX_TERM_BYTES + 1);
    tr_analyzer_stats(none, &st0);
    CHECK(c->n == 1 && strlen(c->term[0]) == TR_MAX_TERM_BYTES && c->end[0] == TR_MAX_TERM_BYTES + 1);
    CHECK_EQ_INT(st0.truncated_terms - st1.truncated_terms, 1);
    tr_analyzer_free(none);

    /* 2 MB of a 3-byte letter (U+4E2D): cut at 63 bytes, in linear time */
    n = 2 * 1024 * 1024 + 1;
    t = malloc(n);
    for (size_t i = 0; i + 3 <= n; i += 3) memcpy(t + i, "\xE4\xB8\xAD", 3);
    n -= n % 3;
    tr_analyzer *keep = make("none", 0, 0);
    double t0 = now();
    c = run(keep, t, n);
    double dt = now() - t0;
    CHECK_EQ_INT(c->n, 1);
    CHECK_EQ_INT(strlen(c->term[0]), 63);
    CHECK_EQ_INT(c->end[0], n);
    CHECK(dt < 2.0);
    /* 2 MB of é (2 bytes): folded to 64 e's, or 32 é's kept */
    for (size_t i = 0; i + 2 <= n; i += 2) memcpy(t + i, "\xC3\xA9", 2);
    n -= n % 2;
    c = run(keep, t, n);
    CHECK_EQ_INT(c->n, 1);
    CHECK_EQ_INT(strlen(c->term[0]), 64);
    c = run(a, t, n);
    CHECK_EQ_INT(c->n, 1);
    CHECK(c->n == 1 && strspn(c->term[0], "e") == 64);
    free(t);

    /* smaller max_term_bytes, cut before stemming */
    tr_settings s;
    tr_settings_default(&s);
    snprintf(s.language, sizeof s.language, "none");
    s.max_term_bytes = 5;
    tr_analyzer *small = tr_analyzer_new(&s, NULL, 0);
    CHECK(small != NULL);
    if (small) {
        CHECK(strcmp(one_term(small, "abcdefgh"), "abcde") == 0);
        CHECK(strcmp(one_term(small, "abcd\xC3\xA9\xC3\xA9"), "abcde") == 0);
        tr_analyzer_free(small);
    }
    s.max_term_bytes = 4;
    s.fold_diacritics = 0;
    small = tr_analyzer_new(&s, NULL, 0);
    CHECK(small != NULL);
    if (small) {
        CHECK(strcmp(one_term(small, "abc\xC3\xA9"), "abc") == 0); /* é does not fit whole */
        tr_analyzer_free(small);
    }
    s.max_term_bytes = TR_MAX_TERM_BYTES + 1;
    CHECK(tr_analyzer_new(&s, NULL, 0) == NULL);
    s.max_term_bytes = 0;
    CHECK(tr_analyzer_new(&s, NULL, 0) == NULL);
    tr_analyzer_free(keep);
    tr_analyzer_free(a);
}

static void test_languages(void)
{
    char list[2048];
    snprintf(list, sizeof list, "%s", tr_languages());
    CHECK(strstr(list, "english") != NULL);
    CHECK(strstr(list, "none") != NULL);
    int count = 0;
    char *save = NULL;
    for (char *l = strtok_r(list, ",", &save); l; l = strtok_r(NULL, ",", &save)) {
        tr_analyzer *a = make(l, 1, 0);
        CHECK(a != NULL);
        if (!a) continue;
        collected *c = run(a, "Running 2024", 12);
        CHECK_EQ_INT(c->n, 2);
        CHECK(c->n == 2 && strncmp(c->term[0], "run", 3) == 0);
        CHECK(c->n == 2 && strcmp(c->term[1], "2024") == 0);
        tr_analyzer_free(a);
        count++;
    }
    CHECK(count >= 20);
    tr_analyzer *e = make("english", 1, 0);
    CHECK(strcmp(one_term(e, "running"), "run") == 0);
    tr_analyzer_free(e);
    tr_analyzer *g = make("german", 1, 0);
    CHECK(strcmp(one_term(g, "Häuser"), "haus") == 0);
    tr_analyzer_free(g);

    tr_settings s;
    tr_settings_default(&s);
    snprintf(s.language, sizeof s.language, "klingon");
    char err[2048];
    CHECK(tr_analyzer_new(&s, err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown language") != NULL && strstr(err, "english") != NULL);
    snprintf(s.language, sizeof s.language, "german");
    s.stopwords = 1;
    CHECK(tr_analyzer_new(&s, err, sizeof err) == NULL);
    CHECK(strstr(err, "stopword") != NULL);
    memset(s.language, 'x', sizeof s.language); /* not NUL-terminated */
    CHECK(tr_analyzer_new(&s, err, sizeof err) == NULL);
    tr_analyzer_free(NULL);
}

static void test_settings(void)
{
    tr_settings s, t;
    char buf[128];
    tr_settings_default(&s);
    int n = tr_settings_encode(&s, buf, sizeof buf);
    CHECK_EQ_INT(n, (int)strlen("v1;language=english;fold=1;stop=0;maxterm=64"));
    CHECK(strcmp(buf, "v1;language=english;fold=1;stop=0;maxterm=64") == 0);
    CHECK_EQ_INT(tr_settings_decode(&t, buf, (size_t)n), 0);
    CHECK(strcmp(t.language, "english") == 0 && t.fold_diacritics == 1 && t.stopwords == 0 &&
          t.max_term_bytes == 64);
    snprintf(s.language, sizeof s.language, "none");
    s.fold_diacritics = 0;
    s.stopwords = 1;
    s.max_term_bytes = 7;
    n = tr_settings_encode(&s, buf, sizeof buf);
    CHECK(strcmp(buf, "v1;language=none;fold=0;stop=1;maxterm=7") == 0);
    CHECK_EQ_INT(tr_settings_decode(&t, buf, (size_t)n), 0);
    char again[128];
    CHECK_EQ_INT(tr_settings_encode(&t, again, sizeof again), n);
    CHECK(strcmp(again, buf) == 0);
    CHECK_EQ_INT(tr_settings_encode(&s, buf, 10), TR_ELIMIT);
    CHECK_EQ_INT(tr_settings_encode(&s, buf, (size_t)n), TR_ELIMIT); /* no room for NUL */

    static const char *bad[] = {
        "", "v1", "v2;language=english;fold=1;stop=0;maxterm=64",
        "v1;language=english;fold=1;stop=0", "v1;language=klingon;fold=1;stop=0;maxterm=64",
        "v1;language=english;fold=2;stop=0;maxterm=64", "v1;language=english;fold=1;stop=0;maxterm=65",
        "v1;language=english;fold=1;stop=0;maxterm=0", "v1;language=english;fold=1;stop=0;maxterm=064",
        "v1;language=english;fold=1;stop=0;maxterm=64;", "v1;language=english;fold=1;stop=0;maxterm=64;x=1",
        "v1;language=english;language=english;fold=1;stop=0;maxterm=64",
        "v1;;language=english;fold=1;stop=0;maxterm=64", "v1;language=English;fold=1;stop=0;maxterm=64",
        "v1;language=english;fold=1;stop=0;maxterm=6x", "v1;language;fold=1;stop=0;maxterm=64",
        "v1;language=english;fold=;stop=0;maxterm=64", "v1 ;language=english;fold=1;stop=0;maxterm=64",
    };
    tr_settings_default(&t);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tr_settings_decode(&t, bad[i], strlen(bad[i]));
        if (rc != TR_EINPUT) fprintf(stderr, "decode accepted: %s\n", bad[i]);
        CHECK_EQ_INT(rc, TR_EINPUT);
    }
    CHECK(strcmp(t.language, "english") == 0); /* untouched by failures */
    CHECK_EQ_INT(tr_settings_decode(&t, "v1;language=english\0;fold=1;stop=0;maxterm=64", 46),
                 TR_EINPUT);
    /* keys in another order are accepted (but encode writes the canonical order) */
    CHECK_EQ_INT(tr_settings_decode(&t, "v1;maxterm=10;stop=0;fold=1;language=french", 43), 0);
    CHECK(strcmp(t.language, "french") == 0 && t.max_term_bytes == 10);
}

/* ---- threads and the cache ---------------------------------------------- */

static const char *const vocab[] = {
    "President", "Ilham", "Aliyev`s", "T\xC3\xBCrkiye", ("\xC5\xBD" "eljka"), "running", "runs",
    "nationalization", "U.S.", "7.5", "1,000", "COP29", "\xC4\xB0lham", "caf\xC3\xA9", "na\xC3\xAFve",
    "\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0", "\xE4\xB8\xAD\xE6\x96\x87", "don\xE2\x80\x99t",
    "generously", "relational", "\xFF", "\xE2\x82", "-", "\xE2\x80\x94", "quickly", "dogs", "the",
};

static char *varied_text(size_t words, size_t *len_out)
{
    tr_buf b = {0};
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        const char *w = vocab[x % (sizeof vocab / sizeof vocab[0])];
        if (tr_buf_append(&b, w, strlen(w))) abort();
        /* a tail of digits and letters makes many distinct words */
        char tail[16];
        int k = (x >> 32) % 4 == 0 ? snprintf(tail, sizeof tail, "x%u", (unsigned)(x >> 40) % 5000) : 0;
        if (k && tr_buf_append(&b, tail, (size_t)k)) abort();
        if (tr_buf_append(&b, (x >> 20) % 7 == 0 ? ". " : " ", (x >> 20) % 7 == 0 ? 2 : 1)) abort();
    }
    *len_out = b.len;
    return (char *)b.data;
}

typedef struct digest {
    uint64_t h;
    uint64_t n;
} digest;

static int digest_token(void *ctx, const tr_token *t)
{
    digest *d = ctx;
    uint64_t v = t->pos * 31u + t->start * 7u + t->end;
    for (uint32_t i = 0; i < t->len; i++) v = v * 1099511628211u + (uint8_t)t->term[i];
    d->h = (d->h ^ v) * 0x100000001B3u + d->n;
    d->n++;
    return 0;
}

typedef struct job {
    const char *text;
    size_t len;
    digest d;
    int rc;
} job;

static void *thread_main(void *p)
{
    job *j = p;
    tr_analyzer *a = make("english", 1, 0);
    if (!a) { j->rc = -1; return NULL; }
    /* analyse in pieces so the cache is warm for later pieces */
    size_t step = j->len / 8 + 1;
    for (size_t off = 0; off < j->len && j->rc == 0; off += step) {
        size_t n = off + step > j->len ? j->len - off : step;
        j->rc = tr_analyze(a, j->text + off, n, 0, digest_token, &j->d);
    }
    tr_analyzer_free(a);
    return NULL;
}

static void test_threads_and_cache(void)
{
    size_t len;
    char *text = varied_text(200000, &len);
    job single = {text, len, {0, 0}, 0};
    thread_main(&single);
    CHECK_EQ_INT(single.rc, 0);
    CHECK(single.d.n > 150000);

    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){text, len, {0, 0}, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(jobs[i].rc, 0);
        CHECK(jobs[i].d.h == single.d.h && jobs[i].d.n == single.d.n);
    }

    /* warm cache vs. no cache: identical stems and offsets */
    tr_analyzer *warm = make("english", 1, 0);
    tr_analyzer *cold = make("english", 1, 0);
    tr_analyzer_set_stem_cache(cold, 0);
    digest dw = {0, 0}, dc = {0, 0};
    CHECK_EQ_INT(tr_analyze(warm, text, len, 0, digest_token, &dw), 0);
    CHECK_EQ_INT(tr_analyze(cold, text, len, 0, digest_token, &dc), 0);
    CHECK(dw.h == dc.h && dw.n == dc.n);
    tr_analyze_stats sw, sc;
    tr_analyzer_stats(warm, &sw);
    tr_analyzer_stats(cold, &sc);
    fprintf(stderr, "cache: %llu hits, %llu misses\n", (unsigned long long)sw.stem_cache_hits,
            (unsigned long long)sw.stem_cache_misses);
    CHECK(sw.stem_cache_hits > sw.stem_cache_misses * 2);
    CHECK_EQ_INT(sc.stem_cache_hits, 0);
    CHECK_EQ_INT(sw.terms, dw.n);
    CHECK_EQ_INT(sw.bytes, len);
    CHECK(sw.invalid_utf8 > 0);
    /* the same word through tr_stem, cached and not */
    size_t n1, n2;
    const char *s1 = tr_stem(warm, "nationalization", 15, &n1);
    char copy[TR_MAX_TERM_BYTES + 1];
    snprintf(copy, sizeof copy, "%.*s", (int)n1, s1);
    const char *s2 = tr_stem(cold, "nationalization", 15, &n2);
    CHECK(n1 == n2 && memcmp(copy, s2, n1) == 0);
    /* a bigger cache (and one asked below the default, which stays):
     * the same tokens, more hits */
    tr_analyzer *big = make("english", 1, 0);
    tr_analyzer *small = make("english", 1, 0);
    CHECK_EQ_INT(tr_analyzer_set_stem_cache_bytes(big, (size_t)64 << 20), 0);
    CHECK_EQ_INT(tr_analyzer_set_stem_cache_bytes(small, 1000), 0);
    digest db = {0, 0}, ds = {0, 0};
    CHECK_EQ_INT(tr_analyze(big, text, len, 0, digest_token, &db), 0);
    CHECK_EQ_INT(tr_analyze(small, text, len, 0, digest_token, &ds), 0);
    CHECK(db.h == dc.h && db.n == dc.n);
    CHECK(ds.h == dc.h && ds.n == dc.n);
    tr_analyze_stats sb, ss;
    tr_analyzer_stats(big, &sb);
    tr_analyzer_stats(small, &ss);
    CHECK(sb.stem_cache_hits >= sw.stem_cache_hits);
    CHECK_EQ_INT(ss.stem_cache_hits, sw.stem_cache_hits);
    /* resizing empties it: the first word misses again */
    CHECK_EQ_INT(tr_analyzer_set_stem_cache_bytes(big, (size_t)32 << 20), 0);
    tr_analyzer_stats(big, &sb);
    uint64_t misses = sb.stem_cache_misses;
    tr_stem(big, "relational", 10, &n1);
    tr_analyzer_stats(big, &sb);
    CHECK_EQ_INT(sb.stem_cache_misses, misses + 1);
    tr_analyzer_free(big);
    tr_analyzer_free(small);
    tr_analyzer_free(warm);
    tr_analyzer_free(cold);
    free(text);
}

/* Run tr_cmd_analyze with stdout captured into out. Returns its status. */
static int run_cmd(int argc, char **argv, char *out, size_t cap)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(1);
    dup2(fileno(tmp), 1);
    int rc = tr_cmd_analyze(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

static void test_cmd(void)
{
    char out[4096];
    char *args[] = {"--language", "none", "Hello,", "Aliyev\xE2\x80\x99s", "world"};
    CHECK_EQ_INT(run_cmd(5, args, out, sizeof out), 0);
    CHECK(strcmp(out, "0\t0\t5\thello\n1\t7\t17\taliyev's\n2\t18\t23\tworld\n") == 0);
    char *args2[] = {"--stopwords", "the", "running", "dogs"};
    CHECK_EQ_INT(run_cmd(4, args2, out, sizeof out), 0);
    CHECK(strcmp(out, "1\t4\t11\trun\n2\t12\t16\tdog\n") == 0);
    char *args3[] = {"--no-fold-diacritics", "--language", "none", "T\xC3\xBCrkiye"};
    CHECK_EQ_INT(run_cmd(4, args3, out, sizeof out), 0);
    CHECK(strcmp(out, "0\t0\t8\tt\xC3\xBCrkiye\n") == 0);
    char *args4[] = {"--language", "klingon", "x"};
    CHECK_EQ_INT(run_cmd(3, args4, out, sizeof out), 2);
    CHECK_EQ_INT(strlen(out), 0);
    char *args5[] = {"--language"};
    CHECK_EQ_INT(run_cmd(1, args5, out, sizeof out), 2);
}

static int stop_early(void *ctx, const tr_token *t)
{
    (void)t;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

int main(void)
{
    test_sentence();
    test_rules();
    test_hostile();
    test_long_tokens();
    test_languages();
    test_settings();
    test_threads_and_cache();
    test_cmd();

    tr_analyzer *a = make("english", 1, 0);
    int count = 0;
    CHECK_EQ_INT(tr_analyze(a, "one two three four", 18, 0, stop_early, &count), 42);
    CHECK_EQ_INT(count, 2);
    tr_analyzer_free(a);
    return check_done();
}
