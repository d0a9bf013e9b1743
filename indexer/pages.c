/* pages.c - one page file -> one document. Text pages: the first non-empty
 * line is the title. HTML pages: libxml2's forgiving HTML parser builds a
 * tree (decoding entities and honouring <meta charset>); a walk of that tree
 * keeps the visible text, turns block elements into line breaks and collapses
 * whitespace the way a browser would render it. */
#include "source_int.h"
#include "date.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <strings.h>

/* Deepest element nesting walked. libxml2 itself stops at 256 levels
 * without HTML_PARSE_HUGE; this is the walker's own guard. */
#define TR_MAX_HTML_DEPTH 512

struct tr_page {
    tr_buf title, body, h1;
    char *date_meta, *date_time; /* candidate date strings (meta wins) */
    int pending_space, pending_nl;
    int have_h1;
};

int tr_page_create(tr_page **out)
{
    xmlInitParser();
    *out = calloc(1, sizeof **out);
    return *out ? 0 : TR_ENOMEM;
}

/* Output buffers above this are released between pages (one huge page
 * should not pin its memory for the rest of a run). */
#define TR_PAGE_OUT_KEEP_BYTES (16u << 20)

static void reset(tr_page *p)
{
    if (p->body.cap > TR_PAGE_OUT_KEEP_BYTES)
        tr_buf_free(&p->body);
    p->title.len = p->body.len = p->h1.len = 0;
    free(p->date_meta);
    free(p->date_time);
    p->date_meta = p->date_time = NULL;
    p->pending_space = p->pending_nl = 0;
    p->have_h1 = 0;
}

void tr_page_free(tr_page *p)
{
    if (!p)
        return;
    reset(p);
    tr_buf_free(&p->title);
    tr_buf_free(&p->body);
    tr_buf_free(&p->h1);
    free(p);
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int tr_page_text(tr_page *p, const uint8_t *data, size_t len, tr_doc_in *doc)
{
    (void)p;
    const uint8_t *s = data, *end = data + len;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        s += 3; /* UTF-8 byte order mark */
    /* Title: the first line with a non-space byte, trimmed. */
    while (s < end) {
        const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
        const uint8_t *le = nl ? nl : end;
        const uint8_t *a = s, *b = le;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        s = nl ? nl + 1 : end;
        if (a < b) {
            doc->title = (const char *)a;
            doc->title_len = (size_t)(b - a);
            break;
        }
    }
    doc->body = (const char *)s;
    doc->body_len = (size_t)(end - s);
    return 0;
}

/* Append text with whitespace collapsed; a pending line break wins over a
 * pending space, and nothing is emitted before the first word. */
static int emit(tr_page *p, tr_buf *out, const char *text)
{
    for (const uint8_t *s = (const uint8_t *)text; *s; s++) {
        if (is_space(*s)) {
            p->pending_space = 1;
            continue;
        }
        if (out->len) {
            if (p->pending_nl || p->pending_space) {
                uint8_t sep = p->pending_nl ? '\n' : ' ';
                if (tr_buf_append(out, &sep, 1))
                    return TR_ENOMEM;
            }
        }
        p->pending_nl = p->pending_space = 0;
        const uint8_t *run = s;
        while (s[1] && !is_space(s[1]))
            s++;
        if (tr_buf_append(out, run, (size_t)(s - run) + 1))
            return TR_ENOMEM;
    }
    return 0;
}

/* The collapsed text of a subtree, into out (script/style excluded). */
static int subtree_text(tr_page *p, xmlNode *n, tr_buf *out, int depth)
{
    if (depth > TR_MAX_HTML_DEPTH)
        return 0;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content && emit(p, out, (const char *)c->content))
                return TR_ENOMEM;
        } else if (c->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)c->name;
            if (!strcasecmp(name, "script") || !strcasecmp(name, "style"))
                continue;
            if (subtree_text(p, c, out, depth + 1))
                return TR_ENOMEM;
        }
    }
    return 0;
}

static int is_hidden(const char *name)
{
    static const char *const hidden[] = {"script", "style", "noscript", "template",
                                         "iframe", "object", "svg", "math"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (!strcasecmp(name, hidden[i]))
            return 1;
    return 0;
}

static int is_block(const char *name)
{
    static const char *const block[] = {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
        "h6", "tr", "td", "th", "table", "thead", "tbody", "tfoot", "caption", "blockquote",
        "pre", "hr", "section", "article", "header", "footer", "nav", "aside", "main",
        "figure", "figcaption", "form", "fieldset", "address", "details", "summary", "body",
        "title", "option", "center"};
    for (size_t i = 0; i < sizeof block / sizeof block[0]; i++)
        if (!strcasecmp(name, block[i]))
            return 1;
    return 0;
}

static char *attr(xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static void look_for_date(tr_page *p, xmlNode *n)
{
    const char *name = (const char *)n->name;
    if (!strcasecmp(name, "meta") && !p->date_meta) {
        char *key = attr(n, "name");
        if (!key)
            key = attr(n, "property");
        if (!key)
            key = attr(n, "itemprop");
        if (key && (!strcasecmp(key, "date") || !strcasecmp(key, "article:published_time") ||
                    !strcasecmp(key, "dc.date") || !strcasecmp(key, "datePublished")))
            p->date_meta = attr(n, "content");
        xmlFree(key);
    } else if (!strcasecmp(name, "time") && !p->date_time) {
        p->date_time = attr(n, "datetime");
    }
}

/* Walk the tree; emit_body = 0 inside <head>, where only the title and
 * dates are of interest. */
static int walk(tr_page *p, xmlNode *n, int emit_body, int depth)
{
    if (depth > TR_MAX_HTML_DEPTH)
        return 0;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (emit_body && c->content && emit(p, &p->body, (const char *)c->content))
                return TR_ENOMEM;
            continue;
        }
        if (c->type != XML_ELEMENT_NODE || !c->name)
            continue;
        const char *name = (const char *)c->name;
        look_for_date(p, c);
        if (is_hidden(name))
            continue;
        if (!strcasecmp(name, "title")) {
            if (!p->title.len) {
                int ps = p->pending_space, pn = p->pending_nl;
                p->pending_space = p->pending_nl = 0;
                if (subtree_text(p, c, &p->title, depth + 1))
                    return TR_ENOMEM;
                p->pending_space = ps;
                p->pending_nl = pn;
            }
            continue;
        }
        if (!strcasecmp(name, "head")) {
            if (walk(p, c, 0, depth + 1))
                return TR_ENOMEM;
            continue;
        }
        if (!strcasecmp(name, "h1") && !p->have_h1 && emit_body) {
            int ps = p->pending_space, pn = p->pending_nl;
            p->pending_space = p->pending_nl = 0;
            if (subtree_text(p, c, &p->h1, depth + 1))
                return TR_ENOMEM;
            p->have_h1 = p->h1.len > 0;
            p->pending_space = ps;
            p->pending_nl = pn;
        }
        int block = is_block(name);
        if (block)
            p->pending_nl = 1;
        if (walk(p, c, emit_body, depth + 1))
            return TR_ENOMEM;
        if (block)
            p->pending_nl = 1;
    }
    return 0;
}

int tr_page_html(tr_page *p, const uint8_t *data, size_t len, tr_doc_in *doc, int *bad_date)
{
    reset(p);
    *bad_date = 0;
    doc->title = doc->body = "";
    doc->title_len = doc->body_len = 0;
    doc->date = TR_NO_DATE;
    if (len > (size_t)INT32_MAX)
        return TR_ELIMIT;
    htmlDocPtr d = htmlReadMemory((const char *)data, (int)len, NULL, NULL,
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                  HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (!d)
        return 0; /* nothing parseable: an empty page, not an error */
    int rc = walk(p, (xmlNode *)d, 1, 0);
    xmlFreeDoc(d);
    if (rc)
        return rc;
    tr_buf *t = p->title.len ? &p->title : &p->h1;
    if (t->len) {
        doc->title = (const char *)t->data;
        doc->title_len = t->len;
    }
    if (p->body.len) {
        doc->body = (const char *)p->body.data;
        doc->body_len = p->body.len;
    }
    const char *ds = p->date_meta ? p->date_meta : p->date_time;
    if (ds) {
        int64_t v;
        if (tr_parse_date(ds, strlen(ds), &v) == 0)
            doc->date = v;
        else
            *bad_date = 1;
    }
    return 0;
}
