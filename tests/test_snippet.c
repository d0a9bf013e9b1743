/* test_snippet.c - snippets: which words match (terms, stems, prefixes),
 * which window is chosen, where it is cut, and that cuts never split a
 * UTF-8 sequence; plus the output module's JSON escaping and snippet text. */
#include "check.h"
#include "output.h"
#include "snippet.h"

#include <stdlib.h>
#include <string.h>

static tr_analyzer *an;

/* The analyzer's term for one word (so tests do not hard-code stems). */
static char *term_of(const char *word)
{
    tr_buf b = {0};
    CHECK(tr_fold(an, word, strlen(word), &b) == 0);
    size_t n = 0;
    const char *s = tr_stem(an, (const char *)b.data, b.len, &n);
    char *out = strndup(s, n);
    tr_buf_free(&b);
    return out;
}

static tq_termset *terms(const char *w1, const char *w2, const char *prefix)
{
    char *t[2] = { w1 ? term_of(w1) : NULL, w2 ? term_of(w2) : NULL };
    size_t n = w2 ? 2 : w1 ? 1 : 0;
    const char *p[1] = { prefix };
    tq_termset *ts = NULL;
    CHECK(tq_termset_from_lists((const char *const *)t, n, p, prefix ? 1 : 0, &ts) == 0);
    free(t[0]); free(t[1]);
    return ts;
}

static char *snippet_str(const char *body, const tq_snippet *sn, const char *on, const char *off)
{
    char *buf = NULL; size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(tq_out_snippet(f, body, strlen(body), sn, on, off) == 0);
    fclose(f);
    return buf;
}

static void test_matches_and_stems(void)
{
    const char *body = "The runner runs. Running is what runners do; a run a day.";
    tq_termset *ts = terms("running", NULL, NULL);
    tq_snippet sn = {0};
    CHECK(tq_snippet_make(an, ts, body, strlen(body), 200, &sn) == 0);
    /* english Snowball: runs, running, run -> run; runner(s) -> runner */
    CHECK_EQ_INT(sn.nmatches, 3);
    if (sn.nmatches == 3) {
        CHECK_EQ_INT(sn.matches[0].start, 11); CHECK_EQ_INT(sn.matches[0].end, 15);   /* runs */
        CHECK_EQ_INT(sn.matches[1].start, 17); CHECK_EQ_INT(sn.matches[1].end, 24);   /* Running */
        CHECK_EQ_INT(sn.matches[2].start, 47); CHECK_EQ_INT(sn.matches[2].end, 50);   /* run */
    }
    /* the whole body fits: no cut, no ellipsis */
    CHECK_EQ_INT(sn.win_start, 0);
    CHECK_EQ_INT(sn.win_end, strlen(body));
    CHECK(!sn.cut_before && !sn.cut_after);
    char *s = snippet_str(body, &sn, "[", "]");
    CHECK(!strcmp(s, "The runner [runs]. [Running] is what runners do; a [run] a day."));
    free(s);
    tq_termset_free(ts);
    tq_snippet_free(&sn);
}

static void test_prefix(void)
{
    const char *body = "Photosynthesis and photographs; a phone, PHOTONS.";
    tq_termset *ts = terms(NULL, NULL, "photo");
    tq_snippet sn = {0};
    CHECK(tq_snippet_make(an, ts, body, strlen(body), 200, &sn) == 0);
    CHECK_EQ_INT(sn.nmatches, 3);
    if (sn.nmatches == 3) {
        CHECK_EQ_INT(sn.matches[0].start, 0);  CHECK_EQ_INT(sn.matches[0].end, 14);
        CHECK_EQ_INT(sn.matches[1].start, 19); CHECK_EQ_INT(sn.matches[1].end, 30);
        CHECK_EQ_INT(sn.matches[2].start, 41); CHECK_EQ_INT(sn.matches[2].end, 48);
    }
    tq_termset_free(ts);
    tq_snippet_free(&sn);
}

/* A long body: "alpha" alone early, "alpha ... beta" together late. The
 * window must be the late one (two distinct terms beat one), cut on word
 * bounds with ellipses on both sides. */
static void test_window_choice(void)
{
    char body[4096] = "";
    strcat(body, "alpha opens the text. ");
    for (int i = 0; i < 40; i++) strcat(body, "filler words here. ");
    size_t late = strlen(body);
    strcat(body, "Here alpha and beta meet. ");
    for (int i = 0; i < 40; i++) strcat(body, "more filler text. ");
    size_t len = strlen(body);

    tq_termset *ts = terms("alpha", "beta", NULL);
    tq_snippet sn = {0};
    CHECK(tq_snippet_make(an, ts, body, len, 100, &sn) == 0);
    CHECK_EQ_INT(sn.nmatches, 3);
    CHECK_EQ_INT(sn.win_terms, 2);
    CHECK(sn.win_start <= late + 5 && sn.win_end >= late + 19);
    CHECK(sn.win_end - sn.win_start <= 100);
    CHECK(sn.cut_before && sn.cut_after);
    /* word bounds: the passage starts at a word start, ends at a word end */
    CHECK(body[sn.win_start - 1] == ' ');
    CHECK(body[sn.win_end] == ' ' || body[sn.win_end] == '.');
    char *s = snippet_str(body, &sn, "<", ">");
    CHECK(!strncmp(s, "...", 3));
    CHECK(strstr(s, "Here <alpha> and <beta> meet") != NULL);
    CHECK(!strcmp(s + strlen(s) - 3, "..."));
    free(s);

    /* no match at all: the beginning of the body, cut after */
    tq_termset *none = terms("zebra", NULL, NULL);
    CHECK(tq_snippet_make(an, none, body, len, 100, &sn) == 0);
    CHECK_EQ_INT(sn.nmatches, 0);
    CHECK_EQ_INT(sn.win_start, 0);
    CHECK(sn.win_end > 50 && sn.win_end <= 100);
    CHECK(!sn.cut_before && sn.cut_after);
    tq_termset_free(none);
    tq_termset_free(ts);
    tq_snippet_free(&sn);
}

static int utf8_boundary(const char *s, size_t len, size_t pos)
{
    return pos == 0 || pos >= len || ((unsigned char)s[pos] & 0xC0) != 0x80;
}

/* Multi-byte text everywhere: every window edge at every width must fall on
 * a UTF-8 boundary, and bytes that are not UTF-8 must not crash anything. */
static void test_utf8_cuts(void)
{
    char body[2048] = "";
    for (int i = 0; i < 12; i++) strcat(body, "Škoda řeže žluťoučké ÆØÅ 東京 ");
    strcat(body, "café target naïve ");
    for (int i = 0; i < 12; i++) strcat(body, "Привет мир ελληνικά ");
    size_t len = strlen(body);
    tq_termset *ts = terms("target", NULL, NULL);
    tq_snippet sn = {0};
    int all_ok = 1;
    for (size_t w = 16; w <= 300; w++) {
        CHECK(tq_snippet_make(an, ts, body, len, w, &sn) == 0);
        if (!utf8_boundary(body, len, sn.win_start) || !utf8_boundary(body, len, sn.win_end) ||
            sn.nmatches != 1 || sn.win_start > sn.matches[0].start || sn.win_end < sn.matches[0].end)
            all_ok = 0;
    }
    CHECK(all_ok);
    /* one word longer than the window: the cut lands on a boundary */
    char lw[600] = "";
    for (int i = 0; i < 100; i++) strcat(lw, "é");
    strcat(lw, " target");
    CHECK(tq_snippet_make(an, ts, lw, strlen(lw), 17, &sn) == 0);
    CHECK(utf8_boundary(lw, strlen(lw), sn.win_start) && utf8_boundary(lw, strlen(lw), sn.win_end));
    /* hostile bytes: invalid sequences, NULs, control bytes */
    static const char junk[] = "\xff\xfe target \xc3\x28 \xe2\x82 \x00 target \x1b[31m \xf4\x90\x80\x80";
    CHECK(tq_snippet_make(an, ts, junk, sizeof junk - 1, 16, &sn) == 0);
    CHECK(tq_snippet_make(an, ts, junk, sizeof junk - 1, 200, &sn) == 0);
    CHECK(sn.nmatches == 2);
    char *buf = NULL; size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    CHECK(tq_out_snippet(f, junk, sizeof junk - 1, &sn, NULL, NULL) == 0);
    fclose(f);
    CHECK(memchr(buf, 0x1b, blen) == NULL); /* no escape sequence reaches a terminal */
    free(buf);
    CHECK(tq_snippet_make(an, ts, "", 0, 200, &sn) == 0);
    CHECK(sn.nmatches == 0 && sn.win_end == 0);
    tq_termset_free(ts);
    tq_snippet_free(&sn);
}

static void test_json_escape(void)
{
    char *buf = NULL; size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    static const char in[] = "a\"b\\c\n\t\x01 é \xff \xed\xa0\x80 \xc0\xaf 東";
    CHECK(tq_out_json_string(f, in, sizeof in - 1) == 0);
    fclose(f);
    CHECK(!strcmp(buf, "\"a\\\"b\\\\c\\n\\t\\u0001 é \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd 東\""));
    free(buf);
    char d[16];
    CHECK(tq_out_date(1731283200, d, sizeof d) == 0 && !strcmp(d, "2024-11-11"));
    CHECK(tq_out_date(TR_NO_DATE, d, sizeof d) == TR_EINPUT);
}

/* Terms from a parsed query: positive words only. */
static void test_termset_from_query(void)
{
    tq_query q;
    char err[256];
    tq_opts po = {0, 0};
    const char *text = "cats \"dog house\" -bird title:fish pre*";
    int rc = tq_parse(text, strlen(text), an, &po, &q, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc) return;
    tq_termset *ts = NULL;
    CHECK(tq_termset_new(&q, &ts) == 0);
    CHECK_EQ_INT(tq_termset_size(ts), 4); /* cat, dog, hous, pre */
    const char *body = "A bird, a fish, cats, a doghouse, a dog house, preview.";
    tq_snippet sn = {0};
    CHECK(tq_snippet_make(an, ts, body, strlen(body), 200, &sn) == 0);
    char *s = snippet_str(body, &sn, "[", "]");
    CHECK(!strcmp(s, "A bird, a fish, [cats], a doghouse, a [dog] [house], [preview]."));
    free(s);
    tq_snippet_free(&sn);
    tq_termset_free(ts);
    tq_query_free(&q);
}

int main(void)
{
    tr_settings s;
    tr_settings_default(&s);
    char err[256];
    an = tr_analyzer_new(&s, err, sizeof err);
    if (!an) skip("no analyzer");
    test_matches_and_stems();
    test_prefix();
    test_window_choice();
    test_utf8_cuts();
    test_json_escape();
    test_termset_from_query();
    tr_analyzer_free(an);
    return check_done();
}
