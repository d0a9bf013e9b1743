/* wiki.c - a MediaWiki XML export (pages-articles.xml, plain or through the
 * compression layer) -> one document per main-namespace article. expat
 * parses the stream chunk by chunk and is suspended at each </page>, so a
 * page is handed out before the parser reads on: memory stays at one page,
 * and an XML error reports only what follows the last good page. expat reads
 * UTF-16 with a byte-order mark by itself. Redirects (a <redirect/> element
 * or #REDIRECT text) and other namespaces are skipped. */
#include "source_int.h"
#include "date.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Which element's text is being gathered. */
enum { F_NONE, F_TITLE, F_NS, F_ID, F_TEXT, F_TIME, F_BASE };

/* Deepest element nesting accepted: an export is 5 levels deep; a file far
 * deeper is not an export, and expat's own stack should not grow for it. */
#define TR_WIKI_MAX_DEPTH 64
/* Longest title / id / timestamp kept; longer ones are cut. */
#define TR_WIKI_MAX_FIELD 1024

typedef struct tr_wiki {
    tr_records base;
    tr_lines *lines;
    const char *path;
    size_t max_record;
    XML_Parser xp;
    int suspended, finished, failed;
    int depth, in_page, in_revision, field;
    int page_ready, too_long, redirect, have_ns, have_id;
    long ns;
    tr_buf title, id, text, ts, site, url;
    tr_buf body, tmp1, tmp2;
    char xml_err[256];
} tr_wiki;

/* Element name without a namespace prefix (exports declare a default
 * namespace, which expat leaves in the name only when asked to). */
static const char *local(const XML_Char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    tr_wiki *w = ud;
    (void)attrs;
    if (++w->depth > TR_WIKI_MAX_DEPTH) {
        snprintf(w->xml_err, sizeof w->xml_err, "elements nested deeper than %d",
                 TR_WIKI_MAX_DEPTH);
        XML_StopParser(w->xp, XML_FALSE);
        return;
    }
    const char *n = local(name);
    w->field = F_NONE;
    if (!strcmp(n, "page")) {
        w->in_page = 1;
        w->in_revision = 0;
        w->title.len = w->id.len = w->text.len = w->ts.len = 0;
        w->too_long = w->redirect = w->have_ns = w->have_id = 0;
        w->ns = 0;
    } else if (!w->in_page) {
        if (!strcmp(n, "base"))
            w->field = F_BASE, w->site.len = 0;
    } else if (!strcmp(n, "revision")) {
        w->in_revision = 1;
    } else if (!strcmp(n, "redirect")) {
        w->redirect = 1;
    } else if (!strcmp(n, "title") && !w->in_revision) {
        w->field = F_TITLE;
    } else if (!strcmp(n, "ns") && !w->in_revision) {
        w->field = F_NS;
        w->have_ns = 1;
    } else if (!strcmp(n, "id") && !w->in_revision && !w->have_id) {
        w->field = F_ID; /* the page's id, not a revision's or contributor's */
        w->have_id = 1;
    } else if (!strcmp(n, "text") && w->in_revision) {
        w->field = F_TEXT;
        w->text.len = 0; /* the last revision wins in a history dump */
    } else if (!strcmp(n, "timestamp") && w->in_revision) {
        w->field = F_TIME;
        w->ts.len = 0;
    }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    tr_wiki *w = ud;
    tr_buf *b;
    size_t cap = TR_WIKI_MAX_FIELD;
    switch (w->field) {
    case F_TITLE: b = &w->title; break;
    case F_NS: {
        for (int i = 0; i < len; i++)
            if (s[i] >= '0' && s[i] <= '9' && w->ns < 1000000)
                w->ns = w->ns * 10 + (s[i] - '0');
            else if (s[i] == '-')
                w->ns = -1;
        return;
    }
    case F_ID: b = &w->id; break;
    case F_TIME: b = &w->ts; break;
    case F_BASE: b = &w->site; break;
    case F_TEXT:
        b = &w->text;
        cap = w->max_record;
        break;
    default: return;
    }
    if (b->len + (size_t)len > cap) {
        if (w->field == F_TEXT)
            w->too_long = 1;
        return;
    }
    if (tr_buf_append(b, s, (size_t)len)) {
        snprintf(w->xml_err, sizeof w->xml_err, "out of memory");
        XML_StopParser(w->xp, XML_FALSE);
    }
}

static int is_redirect_text(const tr_buf *t)
{
    size_t i = 0;
    while (i < t->len && (t->data[i] == ' ' || t->data[i] == '\n'))
        i++;
    return t->len - i >= 9 && !strncasecmp((const char *)t->data + i, "#redirect", 9);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    tr_wiki *w = ud;
    w->depth--;
    w->field = F_NONE;
    const char *n = local(name);
    if (!strcmp(n, "revision")) {
        w->in_revision = 0;
    } else if (!strcmp(n, "page") && w->in_page) {
        w->in_page = 0;
        if (w->ns == 0 && !w->redirect && !is_redirect_text(&w->text) && w->id.len) {
            w->page_ready = 1;
            XML_StopParser(w->xp, XML_TRUE);
        }
    }
}

static void wiki_close(tr_records *r)
{
    tr_wiki *w = (tr_wiki *)r;
    if (w->xp)
        XML_ParserFree(w->xp);
    tr_buf *bufs[] = {&w->title, &w->id, &w->text, &w->ts, &w->site,
                      &w->url, &w->body, &w->tmp1, &w->tmp2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        tr_buf_free(bufs[i]);
    free(w);
}

/* url = the site's article path (from <siteinfo><base>) + the title with
 * spaces as underscores. */
static int make_url(tr_wiki *w)
{
    w->url.len = 0;
    if (!w->site.len)
        return 0;
    size_t keep = w->site.len;
    while (keep && w->site.data[keep - 1] != '/')
        keep--;
    int rc = tr_buf_append(&w->url, w->site.data, keep);
    for (size_t i = 0; i < w->title.len && !rc; i++) {
        uint8_t c = w->title.data[i] == ' ' ? '_' : w->title.data[i];
        rc = tr_buf_append(&w->url, &c, 1);
    }
    return rc;
}

static void trim(tr_buf *b, const char **p, size_t *n)
{
    const char *s = (const char *)b->data;
    size_t len = b->len;
    while (len && (*s == ' ' || *s == '\n' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t'))
        len--;
    *p = len ? s : "";
    *n = len;
}

static int wiki_next(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap)
{
    tr_wiki *w = (tr_wiki *)r;
    for (;;) {
        if (w->page_ready) {
            w->page_ready = 0;
            unsigned long long at = (unsigned long long)XML_GetCurrentByteIndex(w->xp);
            if (w->too_long) {
                tr_set_err(err, errcap, "%s: byte %llu: page text longer than %zu bytes", w->path,
                        at, w->max_record);
                return TR_EINPUT;
            }
            if (w->id.len > TR_MAX_ID_BYTES) {
                tr_set_err(err, errcap, "%s: byte %llu: page id longer than %d bytes", w->path, at,
                        TR_MAX_ID_BYTES);
                return TR_EINPUT;
            }
            int rc = tr_wikitext_to_text(w->text.data ? w->text.data : (const uint8_t *)"",
                                         w->text.len, &w->body, &w->tmp1, &w->tmp2);
            if (!rc)
                rc = make_url(w);
            if (rc)
                return rc;
            trim(&w->id, &doc->id, &doc->id_len);
            trim(&w->title, &doc->title, &doc->title_len);
            doc->body = w->body.len ? (const char *)w->body.data : "";
            doc->body_len = w->body.len;
            doc->url = w->url.len ? (const char *)w->url.data : "";
            doc->url_len = w->url.len;
            doc->date = TR_NO_DATE;
            if (w->ts.len) {
                int64_t t;
                if (tr_parse_date((const char *)w->ts.data, w->ts.len, &t) == 0)
                    doc->date = t;
                else
                    *bad_date = 1;
            }
            if (!doc->id_len) {
                tr_set_err(err, errcap, "%s: byte %llu: page without an id", w->path, at);
                return TR_EINPUT;
            }
            return 1;
        }
        if (w->finished)
            return 0;
        if (w->failed)
            return 0;
        enum XML_Status st;
        if (w->suspended) {
            w->suspended = 0;
            st = XML_ResumeParser(w->xp);
        } else {
            const uint8_t *p;
            size_t n;
            int rc = tr_lines_read(w->lines, &p, &n, err, errcap);
            if (rc) {
                w->failed = 1;
                return rc;
            }
            if (n > (size_t)INT32_MAX)
                n = INT32_MAX; /* chunks are TR_STREAM_BUF_BYTES; never happens */
            st = XML_Parse(w->xp, n ? (const char *)p : "", (int)n, n == 0);
            if (n == 0 && st == XML_STATUS_OK)
                w->finished = 1;
        }
        if (st == XML_STATUS_SUSPENDED) {
            w->suspended = 1;
            continue;
        }
        if (st == XML_STATUS_ERROR) {
            w->failed = 1;
            unsigned long long at = (unsigned long long)XML_GetCurrentByteIndex(w->xp);
            if (!strcmp(w->xml_err, "out of memory"))
                return TR_ENOMEM;
            tr_set_err(err, errcap, "%s: byte %llu (line %lu): XML error: %s; rest of file skipped",
                    w->path, at, (unsigned long)XML_GetCurrentLineNumber(w->xp),
                    w->xml_err[0] ? w->xml_err : XML_ErrorString(XML_GetErrorCode(w->xp)));
            return TR_EINPUT;
        }
    }
}

int tr_wiki_open(tr_lines *l, const char *path, size_t max_record, tr_records **out)
{
    *out = NULL;
    tr_wiki *w = calloc(1, sizeof *w);
    if (!w)
        return TR_ENOMEM;
    w->base.next = wiki_next;
    w->base.close = wiki_close;
    w->lines = l;
    w->path = path;
    w->max_record = max_record;
    w->xp = XML_ParserCreate(NULL);
    if (!w->xp) {
        wiki_close(&w->base);
        return TR_ENOMEM;
    }
    XML_SetUserData(w->xp, w);
    XML_SetElementHandler(w->xp, on_start, on_end);
    XML_SetCharacterDataHandler(w->xp, on_text);
    *out = &w->base;
    return 0;
}

int tr_records_next(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap)
{
    return r->next(r, doc, bad_date, err, errcap);
}

void tr_records_close(tr_records *r)
{
    if (r)
        r->close(r);
}
