/* trec.c - TREC SGML collections: many <DOC>...</DOC> per file, each with a
 * <DOCNO>, optional <HEADLINE>/<TITLE>/<HL> and <DATE>/<DD>, and the text in
 * one or more <TEXT> elements. Not XML (no root, stray '&'), so it is read
 * by finding the <DOC> boundaries in a window of the stream and stripping
 * tags inside each one; memory is one document plus one stream chunk. */
#include "source_int.h"
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* A tag longer than this is not a tag: the '<' is text. */
#define TR_TREC_MAX_TAG 256

typedef struct tr_trec {
    tr_records base;
    tr_lines *lines;
    const char *path;
    size_t max_record;
    tr_buf win;          /* unparsed bytes of the file */
    size_t pos;          /* parsed up to here in win */
    uint64_t win_off;    /* file offset (decoded bytes) of win.data[0] */
    int eof, failed, skipping;
    tr_buf id, title, body, date;
} tr_trec;

/* "<DOC>" or "<DOC attr>" at or after from; NULL if none. */
static const uint8_t *find_tag(const uint8_t *s, const uint8_t *end, const char *tag)
{
    size_t n = strlen(tag);
    const uint8_t *p = s;
    while (p + n < end) {
        const uint8_t *q = memmem(p, (size_t)(end - p), tag, n);
        if (!q || q + n >= end)
            return NULL;
        if (q[n] == '>' || q[n] == ' ' || q[n] == '\n' || q[n] == '\t' || q[n] == '\r')
            return q;
        p = q + 1;
    }
    return NULL;
}

/* Text of s with tags removed (each becomes a space) and the five XML
 * entities decoded, appended to out. */
static int strip(const uint8_t *s, size_t n, tr_buf *out)
{
    const uint8_t *p = s, *end = s + n;
    int rc = 0;
    while (p < end && !rc) {
        const uint8_t *run = p;
        while (p < end && *p != '<' && *p != '&')
            p++;
        if (p > run)
            rc = tr_buf_append(out, run, (size_t)(p - run));
        if (p == end || rc)
            break;
        if (*p == '<') {
            size_t look = (size_t)(end - p) < TR_TREC_MAX_TAG ? (size_t)(end - p) : TR_TREC_MAX_TAG;
            const uint8_t *gt = memchr(p, '>', look);
            if (gt && gt > p + 1 && (p[1] == '/' || p[1] == '!' || (p[1] | 0x20) >= 'a')) {
                rc = tr_buf_append(out, " ", 1);
                p = gt + 1;
            } else {
                rc = tr_buf_append(out, "<", 1);
                p++;
            }
            continue;
        }
        static const struct {
            const char *e, *c;
        } ents[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
        size_t k, left = (size_t)(end - p);
        for (k = 0; k < 5; k++)
            if (left >= strlen(ents[k].e) && !memcmp(p, ents[k].e, strlen(ents[k].e)))
                break;
        if (k < 5) {
            rc = tr_buf_append(out, ents[k].c, 1);
            p += strlen(ents[k].e);
        } else {
            rc = tr_buf_append(out, "&", 1);
            p++;
        }
    }
    return rc;
}

/* Content of every <TAG>...</TAG> in the document, stripped, into out
 * (separated by newlines). Returns the number found, or TR_ENOMEM. */
static int field(const uint8_t *d, const uint8_t *end, const char *name, tr_buf *out)
{
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s", name);
    snprintf(close, sizeof close, "</%s>", name);
    int found = 0;
    const uint8_t *p = d;
    for (;;) {
        const uint8_t *o = find_tag(p, end, open);
        if (!o)
            return found;
        const uint8_t *gt = memchr(o, '>', (size_t)(end - o));
        if (!gt)
            return found;
        const uint8_t *c = memmem(gt + 1, (size_t)(end - gt - 1), close, strlen(close));
        const uint8_t *ce = c ? c : end;
        if (found && tr_buf_append(out, "\n", 1))
            return TR_ENOMEM;
        if (strip(gt + 1, (size_t)(ce - gt - 1), out))
            return TR_ENOMEM;
        found++;
        if (!c)
            return found;
        p = c + strlen(close);
    }
}

static void trimmed(const tr_buf *b, const char **p, size_t *n)
{
    const char *s = (const char *)b->data;
    size_t len = b->len;
    while (len && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' ||
                   s[len - 1] == '\r'))
        len--;
    *p = len ? s : "";
    *n = len;
}

/* Collection dates come in many shapes: "January 1, 1989, Sunday, Home
 * Edition" (LA Times), "910514" (FT, yymmdd), "12/02/87" (WSJ) besides the
 * forms tr_parse_date knows. */
static int loose_date(const char *s, size_t n, int64_t *out)
{
    if (tr_parse_date(s, n, out) == 0)
        return 0;
    for (size_t cut = n; cut > 0; cut--) /* drop trailing ", Sunday, ..." parts */
        if (s[cut - 1] == ',' && tr_parse_date(s, cut - 1, out) == 0)
            return 0;
    unsigned v[3];
    char tail;
    char tmp[64];
    if (n >= sizeof tmp)
        return TR_EINPUT;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    int y = -1;
    unsigned m = 0, d = 0;
    if (n == 6 && sscanf(tmp, "%2u%2u%2u%c", &v[0], &v[1], &v[2], &tail) == 3) {
        y = (int)v[0];
        m = v[1];
        d = v[2];
    } else if (sscanf(tmp, "%u/%u/%u%c", &v[0], &v[1], &v[2], &tail) == 3) {
        m = v[0];
        d = v[1];
        y = (int)v[2];
    }
    if (y < 0)
        return TR_EINPUT;
    if (y < 100)
        y += y < 50 ? 2000 : 1900;
    char iso[48];
    snprintf(iso, sizeof iso, "%04d-%02u-%02u", y, m % 100, d % 100);
    return tr_parse_date(iso, strlen(iso), out);
}

static int parse_doc(tr_trec *t, const uint8_t *d, const uint8_t *end, uint64_t off,
                     tr_doc_in *doc, int *bad_date, char *err, size_t errcap)
{
    t->id.len = t->title.len = t->body.len = t->date.len = 0;
    int n = field(d, end, "DOCNO", &t->id);
    if (n < 0)
        return n;
    const char *id;
    size_t idn;
    trimmed(&t->id, &id, &idn);
    if (!idn) {
        tr_set_err(err, errcap, "%s: byte %llu: <DOC> without <DOCNO>", t->path, (unsigned long long)off);
        return TR_EINPUT;
    }
    if (idn > TR_MAX_ID_BYTES) {
        tr_set_err(err, errcap, "%s: byte %llu: DOCNO longer than %d bytes", t->path,
                (unsigned long long)off, TR_MAX_ID_BYTES);
        return TR_EINPUT;
    }
    static const char *const titles[] = {"HEADLINE", "TITLE", "HL", "HEAD", NULL};
    for (size_t i = 0; titles[i] && !t->title.len; i++)
        if ((n = field(d, end, titles[i], &t->title)) < 0)
            return n;
    static const char *const dates[] = {"DATE", "DD", "DATE_TIME", "DATELINE", NULL};
    for (size_t i = 0; dates[i] && !t->date.len; i++)
        if ((n = field(d, end, dates[i], &t->date)) < 0)
            return n;
    if ((n = field(d, end, "TEXT", &t->body)) < 0)
        return n;
    if (n == 0) { /* no <TEXT>: everything but the DOCNO */
        const uint8_t *dn = memmem(d, (size_t)(end - d), "</DOCNO>", 8);
        const uint8_t *from = dn ? dn + 8 : d;
        if (strip(from, (size_t)(end - from), &t->body))
            return TR_ENOMEM;
    }
    doc->id = id;
    doc->id_len = idn;
    trimmed(&t->title, &doc->title, &doc->title_len);
    trimmed(&t->body, &doc->body, &doc->body_len);
    doc->url = "";
    doc->url_len = 0;
    doc->date = TR_NO_DATE;
    const char *ds;
    size_t dn;
    trimmed(&t->date, &ds, &dn);
    if (dn) {
        int64_t v;
        if (loose_date(ds, dn, &v) == 0)
            doc->date = v;
        else
            *bad_date = 1;
    }
    return 1;
}

/* Read one more chunk into the window; 1 = more data, 0 = end. */
static int more(tr_trec *t, char *err, size_t errcap)
{
    /* keep the window small: drop what has been parsed */
    if (t->pos) {
        memmove(t->win.data, t->win.data + t->pos, t->win.len - t->pos);
        t->win.len -= t->pos;
        t->win_off += t->pos;
        t->pos = 0;
    }
    const uint8_t *p;
    size_t n;
    int rc = tr_lines_read(t->lines, &p, &n, err, errcap);
    if (rc)
        return rc;
    if (!n)
        return 0;
    if (tr_buf_append(&t->win, p, n))
        return TR_ENOMEM;
    return 1;
}

static int trec_next(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap)
{
    tr_trec *t = (tr_trec *)r;
    if (t->failed)
        return 0;
    for (;;) {
        /* an empty window has no data pointer: no arithmetic on NULL */
        const uint8_t *base = t->win.data, *end = base ? base + t->win.len : NULL;
        const uint8_t *d = base ? find_tag(base + t->pos, end, "<DOC") : NULL;
        if (t->skipping && d) {
            t->skipping = 0;
        } else if (t->skipping) {
            t->pos = t->win.len > 5 ? t->win.len - 5 : 0;
        }
        if (d && !t->skipping) {
            uint64_t off = t->win_off + (uint64_t)(d - base);
            const uint8_t *c = memmem(d + 4, (size_t)(end - d - 4), "</DOC>", 6);
            const uint8_t *next = find_tag(d + 4, c ? c : end, "<DOC");
            if (next) {
                t->pos = (size_t)(next - base);
                tr_set_err(err, errcap, "%s: byte %llu: <DOC> without </DOC> (before the next <DOC>)",
                        t->path, (unsigned long long)off);
                return TR_EINPUT;
            }
            if (c) {
                t->pos = (size_t)(c + 6 - base);
                int rc = parse_doc(t, d, c, off, doc, bad_date, err, errcap);
                return rc;
            }
            if ((size_t)(end - d) > t->max_record) {
                t->pos = t->win.len;
                t->skipping = 1;
                tr_set_err(err, errcap, "%s: byte %llu: document longer than %zu bytes", t->path,
                        (unsigned long long)off, t->max_record);
                return TR_EINPUT;
            }
            if (t->eof) {
                t->pos = t->win.len;
                t->failed = 1;
                tr_set_err(err, errcap, "%s: byte %llu: <DOC> without </DOC> at end of file", t->path,
                        (unsigned long long)off);
                return TR_EINPUT;
            }
            t->pos = (size_t)(d - base);
        } else if (!t->skipping) {
            if (t->eof)
                return 0;
            /* no <DOC> yet: keep only a tail that could start one */
            t->pos = t->win.len > 5 ? t->win.len - 5 : 0;
        }
        if (t->eof)
            return 0;
        int rc = more(t, err, errcap);
        if (rc < 0) {
            t->failed = 1;
            return rc;
        }
        if (rc == 0)
            t->eof = 1;
    }
}

static void trec_close(tr_records *r)
{
    tr_trec *t = (tr_trec *)r;
    tr_buf_free(&t->win);
    tr_buf_free(&t->id);
    tr_buf_free(&t->title);
    tr_buf_free(&t->body);
    tr_buf_free(&t->date);
    free(t);
}

int tr_trec_open(tr_lines *l, const char *path, size_t max_record, tr_records **out)
{
    tr_trec *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return TR_ENOMEM;
    t->base.next = trec_next;
    t->base.close = trec_close;
    t->lines = l;
    t->path = path;
    t->max_record = max_record;
    *out = &t->base;
    return 0;
}
