/* warc.c - WARC files (ISO 28500; .warc, or .warc.gz with one gzip member
 * per record, which the stream layer reads as one stream): each `response`
 * record with an HTML or text payload becomes one document, its article
 * extracted by extract.c with the charset of the HTTP Content-Type header;
 * url and date come from WARC-Target-URI and WARC-Date. Other record types
 * are skipped. A record is held in memory one at a time. A record whose
 * Content-Length does not match what follows it is rejected with its offset
 * and reading resumes at the next "WARC/" header line, so the records after
 * a damaged one are not lost. */
#include "source_int.h"
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Longest WARC or HTTP header block: real ones are a few hundred bytes. */
#define TR_WARC_MAX_HEADER (64u << 10)
/* Longest header value kept (URLs included). */
#define TR_WARC_MAX_VALUE 4096

typedef struct tr_warc {
    tr_records base;
    tr_lines *lines;
    const char *path;
    size_t max_record;
    tr_buf win;
    size_t pos;
    uint64_t win_off;
    int eof, failed;
    uint64_t skip;       /* payload bytes of an over-long record still to drop */
    tr_extract *x;
    char type[64], uri[TR_WARC_MAX_VALUE], date[128], record_id[512], ctype[512];
    char http_ctype[512], charset[64];
    uint64_t length;
    int have_length;
} tr_warc;

/* Make at least want bytes available after pos (fewer only at the end).
 * Returns 0 or a stream error. */
static int fill(tr_warc *w, size_t want, char *err, size_t errcap)
{
    while (w->win.len - w->pos < want && !w->eof) {
        if (w->win.data && (w->pos > (1u << 20) || w->pos == w->win.len)) {
            memmove(w->win.data, w->win.data + w->pos, w->win.len - w->pos);
            w->win.len -= w->pos;
            w->win_off += w->pos;
            w->pos = 0;
        }
        const uint8_t *p;
        size_t n;
        int rc = tr_lines_read(w->lines, &p, &n, err, errcap);
        if (rc)
            return rc;
        if (!n)
            w->eof = 1;
        else if (tr_buf_append(&w->win, p, n))
            return TR_ENOMEM;
    }
    return 0;
}

/* Offset (from pos) just past the blank line ending a header block, or 0
 * when there is none within limit bytes. */
static size_t header_end(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\n')
            continue;
        if (s[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Header "Name: value" lines of s[0..n) -> calls fn for each. */
static void copy_value(char *dst, size_t cap, const uint8_t *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int header(const uint8_t *s, size_t n, const char *name, char *dst, size_t cap)
{
    size_t m = strlen(name);
    const uint8_t *p = s, *end = s + n;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        if ((size_t)(le - p) > m && p[m] == ':' && !strncasecmp((const char *)p, name, m)) {
            copy_value(dst, cap, p + m + 1, (size_t)(le - p - m - 1));
            return 1;
        }
        p = nl ? nl + 1 : end;
    }
    dst[0] = '\0';
    return 0;
}

/* Find the next line starting with "WARC/" at or after from (relative to
 * pos); returns its offset or SIZE_MAX. */
static size_t resync_at(const tr_warc *w, size_t from)
{
    const uint8_t *s = w->win.data + w->pos, *end = w->win.data + w->win.len;
    for (const uint8_t *p = s + from; p + 5 <= end;) {
        const uint8_t *q = memmem(p, (size_t)(end - p), "WARC/", 5);
        if (!q)
            break;
        if (q == w->win.data || q[-1] == '\n')
            return (size_t)(q - s);
        p = q + 1;
    }
    return SIZE_MAX;
}

/* The HTTP response inside a block: headers, then the payload. */
static int response(tr_warc *w, const uint8_t *b, size_t n, tr_doc_in *doc, int *bad_date,
                    char *err, size_t errcap, uint64_t off)
{
    size_t he = header_end(b, n < TR_WARC_MAX_HEADER ? n : TR_WARC_MAX_HEADER);
    if (n < 5 || memcmp(b, "HTTP/", 5) || !he) {
        tr_set_err(err, errcap, "%s: byte %llu: response record without an HTTP header", w->path,
                (unsigned long long)off);
        return TR_EINPUT;
    }
    header(b, he, "Content-Type", w->http_ctype, sizeof w->http_ctype);
    w->charset[0] = '\0';
    const char *cs = strcasestr(w->http_ctype, "charset=");
    if (cs) {
        cs += 8;
        size_t k = 0;
        while (*cs == '"' || *cs == '\'')
            cs++;
        while (*cs && *cs != ';' && *cs != '"' && *cs != '\'' && *cs != ' ' &&
               k + 1 < sizeof w->charset)
            w->charset[k++] = *cs++;
        w->charset[k] = '\0';
    }
    int html = !w->http_ctype[0] || strcasestr(w->http_ctype, "html");
    int text = strcasestr(w->http_ctype, "text/plain") != NULL;
    if (!html && !text)
        return 0; /* images, scripts, ...: not documents */
    const uint8_t *payload = b + he;
    size_t plen = n - he;
    char why[128] = "";
    int rc = html ? tr_extract_html(w->x, payload, plen, w->charset[0] ? w->charset : NULL, doc,
                                    bad_date, why, sizeof why)
                  : tr_extract_text(w->x, payload, plen, doc, bad_date);
    if (rc == TR_EINPUT) {
        tr_set_err(err, errcap, "%s: byte %llu: %s", w->path, (unsigned long long)off, why);
        return rc;
    }
    if (rc < 0)
        return rc == TR_ELIMIT ? TR_EINPUT : rc;
    if (!doc->title_len && !doc->body_len)
        return 0;
    return 1;
}

static int warc_next(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap)
{
    tr_warc *w = (tr_warc *)r;
    if (w->failed)
        return 0;
    for (;;) {
        while (w->skip) { /* the rest of an over-long record */
            int rc = fill(w, 1, err, errcap);
            if (rc)
                return w->failed = 1, rc;
            size_t have = w->win.len - w->pos;
            if (!have)
                return 0;
            size_t drop = have < w->skip ? have : (size_t)w->skip;
            w->pos += drop;
            w->skip -= drop;
        }
        int rc = fill(w, TR_WARC_MAX_HEADER, err, errcap);
        if (rc)
            return w->failed = 1, rc;
        /* blank lines between records */
        while (w->pos < w->win.len && (w->win.data[w->pos] == '\r' || w->win.data[w->pos] == '\n'))
            w->pos++;
        if (w->pos == w->win.len) {
            if (w->eof)
                return 0;
            continue;
        }
        const uint8_t *s = w->win.data + w->pos;
        size_t avail = w->win.len - w->pos;
        uint64_t off = w->win_off + w->pos;
        size_t he = header_end(s, avail < TR_WARC_MAX_HEADER ? avail : TR_WARC_MAX_HEADER);
        if (avail < 5 || memcmp(s, "WARC/", 5) || !he) {
            size_t next = resync_at(w, 1);
            tr_set_err(err, errcap, "%s: byte %llu: %s; skipped to the next record", w->path,
                    (unsigned long long)off, memcmp(s, "WARC/", 5) ? "no WARC header here"
                                                                  : "WARC header not ended");
            if (next == SIZE_MAX) {
                w->failed = 1;
                w->pos = w->win.len;
            } else {
                w->pos += next;
            }
            return TR_EINPUT;
        }
        header(s, he, "WARC-Type", w->type, sizeof w->type);
        header(s, he, "WARC-Target-URI", w->uri, sizeof w->uri);
        header(s, he, "WARC-Date", w->date, sizeof w->date);
        header(s, he, "WARC-Record-ID", w->record_id, sizeof w->record_id);
        char len_s[32];
        char *endp = NULL;
        unsigned long long len = 0;
        if (header(s, he, "Content-Length", len_s, sizeof len_s))
            len = strtoull(len_s, &endp, 10);
        if (!endp || endp == len_s || *endp) {
            size_t next = resync_at(w, he);
            tr_set_err(err, errcap, "%s: byte %llu: record without a valid Content-Length", w->path,
                    (unsigned long long)off);
            w->pos = next == SIZE_MAX ? w->win.len : w->pos + next;
            if (next == SIZE_MAX && w->eof)
                w->failed = 1;
            return TR_EINPUT;
        }
        if (len > w->max_record) {
            w->pos += he;
            w->skip = len;
            tr_set_err(err, errcap, "%s: byte %llu: record longer than %zu bytes", w->path,
                    (unsigned long long)off, w->max_record);
            return TR_EINPUT;
        }
        if ((rc = fill(w, he + (size_t)len + 4, err, errcap)) != 0)
            return w->failed = 1, rc;
        s = w->win.data + w->pos; /* fill may have moved the window */
        avail = w->win.len - w->pos;
        /* the block must be followed by CRLF CRLF (or the end of the file,
         * tolerated for writers that leave it out on the last record) */
        size_t bend = he + (size_t)len;
        int fits = bend <= avail;
        int trailer_ok = fits && (bend == avail || (avail - bend >= 2 && s[bend] == '\r' &&
                                                    s[bend + 1] == '\n') ||
                                  s[bend] == '\n');
        if (!fits || !trailer_ok) {
            size_t next = resync_at(w, he);
            tr_set_err(err, errcap, "%s: byte %llu: Content-Length %llu does not match the record%s",
                    w->path, (unsigned long long)off, len,
                    fits ? "" : " (runs past the end of the file)");
            if (next == SIZE_MAX) {
                w->pos = w->win.len;
                w->failed = w->eof;
            } else {
                w->pos += next;
            }
            return TR_EINPUT;
        }
        w->pos += bend;
        if (strcasecmp(w->type, "response"))
            continue;
        const char *id = w->uri[0] ? w->uri : w->record_id;
        if (!id[0] || strlen(id) > TR_MAX_ID_BYTES)
            id = w->record_id;
        if (!id[0] || strlen(id) > TR_MAX_ID_BYTES) {
            tr_set_err(err, errcap, "%s: byte %llu: record without a usable URI or record id",
                    w->path, (unsigned long long)off);
            return TR_EINPUT;
        }
        memset(doc, 0, sizeof *doc);
        rc = response(w, s + he, (size_t)len, doc, bad_date, err, errcap, off);
        if (rc == 0)
            continue;
        if (rc < 0)
            return rc;
        doc->id = id;
        doc->id_len = strlen(id);
        doc->url = w->uri;
        doc->url_len = strlen(w->uri);
        int64_t t;
        if (w->date[0] && tr_parse_date(w->date, strlen(w->date), &t) == 0)
            doc->date = t; /* the crawl's date, as the WARC header gives it */
        else if (w->date[0])
            *bad_date = 1;
        return 1;
    }
}

static void warc_close(tr_records *r)
{
    tr_warc *w = (tr_warc *)r;
    tr_buf_free(&w->win);
    tr_extract_free(w->x);
    free(w);
}

int tr_warc_open(tr_lines *l, const char *path, size_t max_record, tr_records **out)
{
    *out = NULL;
    tr_warc *w = calloc(1, sizeof *w);
    if (!w)
        return TR_ENOMEM;
    w->base.next = warc_next;
    w->base.close = warc_close;
    w->lines = l;
    w->path = path;
    w->max_record = max_record;
    if (tr_extract_create(&w->x)) {
        free(w);
        return TR_ENOMEM;
    }
    *out = &w->base;
    return 0;
}
