/* output.c - printing hits for trawl-query: human, JSON lines, TREC runs.
 * Stored fields are untrusted bytes: nothing reaches a terminal or a JSON
 * consumer without being made safe here. */
#include "output.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#define HL_COLOR_ON "\033[1;31m"
#define HL_COLOR_OFF "\033[0m"
#define TITLE_COLOR_ON "\033[1m"
#define TITLE_COLOR_OFF "\033[0m"
#define ELLIPSIS "..."

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there
 * are not one (bad lead, truncated, overlong, surrogate, > U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { need = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 4; cp = c & 0x07; }
    else return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

int tq_out_json_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (putc('"', f) == EOF) return TR_EIO;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f); fputc((int)c, f); i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            i++;
        } else if (c < 0x80) {
            fputc((int)c, f); i++;
        } else {
            size_t n = utf8_valid_len(p + i, len - i);
            if (n) { fwrite(p + i, 1, n, f); i += n; }
            else { fputs("\\ufffd", f); i++; }
        }
    }
    return putc('"', f) == EOF || ferror(f) ? TR_EIO : 0;
}

int tq_out_date(int64_t date, char *buf, size_t cap)
{
    /* Years 0..9999 keep the YYYY-MM-DD form and gmtime in range. */
    const int64_t lo = -62167219200LL, hi = 253402300799LL;
    if (date == TR_NO_DATE || date < lo || date > hi || cap < 11)
        return TR_EINPUT;
    time_t t = (time_t)date;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return TR_EINPUT;
    char tmp[48]; /* room for any ints, to keep the compiler's range check quiet */
    int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (n < 0 || (size_t)n >= cap)
        return TR_EINPUT;
    memcpy(buf, tmp, (size_t)n + 1);
    return 0;
}

static int is_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The passage as one line into out (see tq_out_snippet). */
static int snippet_text(tr_buf *out, const char *body, size_t body_len, const tq_snippet *sn,
                        const char *hl_on, const char *hl_off)
{
    int rc = 0;
    size_t ws = sn->win_start, we = sn->win_end;
    if (we > body_len) we = body_len;
    if (ws > we) ws = we;
    /* Skip whitespace at the ends so ellipses sit next to words. */
    while (ws < we && is_space((unsigned char)body[ws])) ws++;
    while (we > ws && is_space((unsigned char)body[we - 1])) we--;
    if (sn->cut_before) rc |= tr_buf_append(out, ELLIPSIS, strlen(ELLIPSIS));
    size_t m = 0;
    while (m < sn->nmatches && sn->matches[m].start < ws) m++;
    int pending_space = 0, in_match = 0;
    size_t match_end = 0;
    for (size_t i = ws; i < we && !rc; i++) {
        unsigned c = (unsigned char)body[i];
        if (in_match && i >= match_end) {
            rc |= tr_buf_append(out, hl_off, strlen(hl_off));
            in_match = 0;
        }
        if (is_space(c) || c < 0x20 || c == 0x7f) {
            pending_space = 1;
            continue;
        }
        if (pending_space) {
            rc |= tr_buf_append(out, " ", 1);
            pending_space = 0;
        }
        if (hl_on && !in_match && m < sn->nmatches && sn->matches[m].start == i) {
            rc |= tr_buf_append(out, hl_on, strlen(hl_on));
            in_match = 1;
            match_end = sn->matches[m].end;
            m++;
        }
        rc |= tr_buf_append(out, &body[i], 1);
        while (m < sn->nmatches && sn->matches[m].start <= i) m++;
    }
    if (in_match) rc |= tr_buf_append(out, hl_off, strlen(hl_off));
    if (sn->cut_after) rc |= tr_buf_append(out, ELLIPSIS, strlen(ELLIPSIS));
    return rc ? TR_ENOMEM : 0;
}

int tq_out_snippet(FILE *f, const char *body, size_t body_len, const tq_snippet *sn,
                   const char *hl_on, const char *hl_off)
{
    tr_buf b = {0};
    int rc = snippet_text(&b, body, body_len, sn, hl_on, hl_off ? hl_off : "");
    if (!rc && b.len && fwrite(b.data, 1, b.len, f) != b.len) rc = TR_EIO;
    tr_buf_free(&b);
    return rc;
}

/* Bytes of a stored field on one line: control bytes become spaces. */
static void put_line_safe(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? ' ' : (int)c, f);
    }
}

int tq_out_human(FILE *f, const tq_out_hit *h, int color,
                 const tq_out_expl *ex, size_t nex)
{
    const tr_doc_view *d = h->doc;
    fprintf(f, "%zu. %.4f  ", h->rank, h->score);
    put_line_safe(f, d->id, d->id_len);
    if (d->title_len) {
        fputs("  ", f);
        if (color) fputs(TITLE_COLOR_ON, f);
        put_line_safe(f, d->title, d->title_len);
        if (color) fputs(TITLE_COLOR_OFF, f);
    }
    fputc('\n', f);
    int rc = 0;
    if (h->sn && h->body && h->body_len) {
        fputs("    ", f);
        rc = tq_out_snippet(f, h->body, h->body_len, h->sn,
                            color ? HL_COLOR_ON : NULL, color ? HL_COLOR_OFF : NULL);
        fputc('\n', f);
    }
    for (size_t i = 0; i < nex; i++) {
        fprintf(f, "      %+.4f  ", ex[i].contribution);
        put_line_safe(f, ex[i].what, strlen(ex[i].what));
        fputc('\n', f);
    }
    return rc ? rc : ferror(f) ? TR_EIO : 0;
}

static void put_json_number(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.4f", v);
    else fputs("null", f);
}

int tq_out_json(FILE *f, const tq_out_hit *h, int with_explain,
                const tq_out_expl *ex, size_t nex)
{
    const tr_doc_view *d = h->doc;
    int rc = 0;
    fputc('{', f);
    if (h->qid) {
        fputs("\"qid\":", f);
        rc |= tq_out_json_string(f, h->qid, strlen(h->qid));
        fputc(',', f);
    }
    fprintf(f, "\"rank\":%zu,\"score\":", h->rank);
    put_json_number(f, h->score);
    fputs(",\"id\":", f);
    rc |= tq_out_json_string(f, d->id, d->id_len);
    fputs(",\"title\":", f);
    rc |= tq_out_json_string(f, d->title, d->title_len);
    fputs(",\"url\":", f);
    rc |= tq_out_json_string(f, d->url, d->url_len);
    char date[16];
    fputs(",\"date\":", f);
    if (tq_out_date(d->date, date, sizeof date) == 0) fprintf(f, "\"%s\"", date);
    else fputs("null", f);
    fputs(",\"snippet\":", f);
    tr_buf b = {0};
    if (h->sn && h->body && h->body_len)
        rc |= snippet_text(&b, h->body, h->body_len, h->sn, NULL, "");
    rc |= tq_out_json_string(f, (const char *)b.data, b.len);
    tr_buf_free(&b);
    fputs(",\"matches\":[", f);
    for (size_t i = 0; h->sn && i < h->sn->nmatches; i++)
        fprintf(f, "%s[%u,%u]", i ? "," : "", h->sn->matches[i].start, h->sn->matches[i].end);
    fputc(']', f);
    if (with_explain) {
        fputs(",\"explain\":[", f);
        for (size_t i = 0; i < nex; i++) {
            fputs(i ? ",{\"what\":" : "{\"what\":", f);
            rc |= tq_out_json_string(f, ex[i].what, strlen(ex[i].what));
            fputs(",\"score\":", f);
            put_json_number(f, ex[i].contribution);
            fputc('}', f);
        }
        fputc(']', f);
    }
    fputs("}\n", f);
    if (rc) return rc == TR_ENOMEM ? TR_ENOMEM : TR_EIO;
    return ferror(f) ? TR_EIO : 0;
}

int tq_out_trec(FILE *f, const tq_out_hit *h, const char *runtag)
{
    const tr_doc_view *d = h->doc;
    fputs(h->qid ? h->qid : "1", f);
    fputs(" Q0 ", f);
    /* TREC columns are space-separated: an id with spaces would break the
     * line, so those bytes become underscores. */
    for (size_t i = 0; i < d->id_len; i++) {
        unsigned c = (unsigned char)d->id[i];
        fputc(c <= 0x20 || c == 0x7f ? '_' : (int)c, f);
    }
    fprintf(f, " %zu %.4f %s\n", h->rank, isfinite(h->score) ? h->score : 0.0, runtag);
    return ferror(f) ? TR_EIO : 0;
}
