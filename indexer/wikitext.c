/* wikitext.c - MediaWiki markup -> the readable text of an article. Not a
 * renderer: templates, references, file/category links, HTML comments and
 * table syntax are dropped; link text, table cell text and headings are kept
 * as plain text. Two passes: the first removes the block constructs that may
 * span lines ({{templates}}, <!-- comments -->, <ref>..</ref> and the like),
 * the second works line by line (tables, headings, lists) and inline (links,
 * bold/italic quotes, entities). Unbalanced markup never swallows the rest of
 * an article: an opener without its closer is dropped by itself. */
#include "source_int.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Links nest inside links (a file caption holding a link); deeper nesting
 * than this is emitted without further link processing. */
#define TR_WIKI_MAX_NEST 16
/* A tag name longer than this is not a tag we know: the '<' is text. */
#define TR_WIKI_MAX_TAG 24

/* Tags whose whole content goes with them: references, galleries, maths,
 * score and code blocks render as something other than prose. */
static const char *const drop_content[] = {
    "ref", "gallery", "math", "score", "timeline", "imagemap", "templatedata",
    "syntaxhighlight", "source", "graph", "mapframe", "chem", "ce", "hiero", NULL};

/* Tags removed while their content stays. */
static const char *const strip_tag[] = {
    "br", "p", "div", "span", "small", "big", "sup", "sub", "center", "nowiki",
    "blockquote", "i", "b", "u", "s", "abbr", "cite", "code", "poem", "onlyinclude",
    "includeonly", "noinclude", "font", "tt", "del", "ins", "ol", "ul", "li", "table",
    "tr", "td", "th", "em", "strong", "hr", "pre", "references", "var", "mark", "dl",
    "dd", "dt", "caption", "bdi", "q", "kbd", "section", "ruby", "rt", "rp", NULL};

/* Tags inside a word ("C<sub>4</sub>H<sub>10</sub>"): removed without a
 * space. The other stripped tags are block boundaries. */
static const char *const inline_tags[] = {
    "span", "small", "big", "sup", "sub", "nowiki", "i", "b", "u", "s", "abbr", "font",
    "tt", "del", "ins", "em", "strong", "var", "mark", "bdi", "kbd", "code", "q", NULL};

static int in_list(const char *const *list, const char *name, size_t n)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && !strncasecmp(list[i], name, n))
            return 1;
    return 0;
}

static int put(tr_buf *b, const void *p, size_t n) { return tr_buf_append(b, p, n); }
static int putc1(tr_buf *b, char c) { return tr_buf_append(b, &c, 1); }

static int is_alpha(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Case-insensitive search for needle in s[0..n). */
static const uint8_t *find_ci(const uint8_t *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!strncasecmp((const char *)s + i, needle, m))
            return s + i;
    return NULL;
}

static const uint8_t *find(const uint8_t *s, size_t n, const char *needle)
{
    return memmem(s, n, needle, strlen(needle));
}

/* A link target that is not prose: files, categories, interlanguage links. */
static int drop_link(const uint8_t *t, size_t n)
{
    while (n && (*t == ' ' || *t == '\n')) {
        t++;
        n--;
    }
    static const char *const ns[] = {"file:", "image:", "category:", "media:", "wikipedia:",
                                      "wp:", "help:", "template:", "special:", NULL};
    for (size_t i = 0; ns[i]; i++)
        if (n >= strlen(ns[i]) && !strncasecmp((const char *)t, ns[i], strlen(ns[i])))
            return 1;
    /* interlanguage: [[de:Titel]], [[zh-yue:...]] */
    size_t i = 0;
    while (i < n && i < 12 && (((t[i] >= 'a' && t[i] <= 'z')) || t[i] == '-'))
        i++;
    return i >= 2 && i < n && t[i] == ':';
}

/* End of a nested pair construct starting at s ("[[...]]", "{{...}}":
 * two open characters, two close characters), past its close; NULL when
 * unbalanced. */
static const uint8_t *pair_end(const uint8_t *s, const uint8_t *end, uint8_t open, uint8_t close)
{
    size_t depth = 0;
    for (const uint8_t *p = s; p + 1 < end;) {
        if (p[0] == open && p[1] == open) {
            depth++;
            p += 2;
        } else if (p[0] == close && p[1] == close) {
            p += 2;
            if (--depth == 0)
                return p;
        } else {
            p++;
        }
    }
    return NULL;
}

/* End of the [[...]] at s (past "]]"), or NULL when unbalanced. */
static const uint8_t *link_end(const uint8_t *s, const uint8_t *end)
{
    return pair_end(s, end, '[', ']');
}

/* ---- pass 1: block constructs ------------------------------------------- */

/* End of the {{...}} starting at s (past its closing braces), or NULL. */
static const uint8_t *template_end(const uint8_t *s, const uint8_t *end)
{
    return pair_end(s, end, '{', '}');
}

static int pass_blocks(const uint8_t *s, size_t n, tr_buf *out)
{
    const uint8_t *p = s, *end = s + n;
    int rc = 0;
    while (p < end && !rc) {
        const uint8_t *run = p;
        while (p < end && *p != '<' && *p != '{' && *p != '}' && *p != '[')
            p++;
        if (p > run && (rc = put(out, run, (size_t)(p - run))))
            break;
        if (p == end)
            break;
        size_t left = (size_t)(end - p);
        if (*p == '[') {
            /* File and category links may span lines (captions): they go
             * here, before the line pass; prose links stay for it. */
            const uint8_t *e = left >= 2 && p[1] == '[' ? link_end(p, end) : NULL;
            if (e) {
                const uint8_t *bar = memchr(p + 2, '|', (size_t)(e - p - 2));
                const uint8_t *te = bar ? bar : e - 2;
                if (drop_link(p + 2, (size_t)(te - p - 2))) {
                    p = e;
                    continue;
                }
            }
            rc = putc1(out, '[');
            p++;
            continue;
        }
        if (*p == '{') {
            if (left >= 2 && p[1] == '{') {
                const uint8_t *e = template_end(p, end);
                /* {{nbsp}} and friends stand between words */
                if (e && e - p <= 12 && (find_ci(p, (size_t)(e - p), "nbsp") ||
                                         find_ci(p, (size_t)(e - p), "spaces")))
                    rc = putc1(out, ' ');
                p = e ? e : p + 2;
            } else {
                rc = putc1(out, '{');
                p++;
            }
            continue;
        }
        if (*p == '}') {
            if (left >= 2 && p[1] == '}')
                p += 2; /* a closer without its opener */
            else {
                rc = putc1(out, '}');
                p++;
            }
            continue;
        }
        /* '<' */
        if (left >= 4 && !memcmp(p, "<!--", 4)) {
            const uint8_t *e = find(p + 4, left - 4, "-->");
            p = e ? e + 3 : end; /* an unclosed comment runs to the end, as in MediaWiki */
            continue;
        }
        const uint8_t *q = p + 1;
        int closing = q < end && *q == '/';
        if (closing)
            q++;
        const uint8_t *name = q;
        while (q < end && is_alpha(*q) && q - name <= TR_WIKI_MAX_TAG)
            q++;
        size_t nlen = (size_t)(q - name);
        int known_drop = nlen && in_list(drop_content, (const char *)name, nlen);
        int known_strip = nlen && !known_drop && in_list(strip_tag, (const char *)name, nlen);
        if (!known_drop && !known_strip) {
            rc = putc1(out, '<');
            p++;
            continue;
        }
        if (q < end && *q != '>' && *q != '/' && *q != ' ' && *q != '\t' && *q != '\n') {
            rc = putc1(out, '<'); /* e.g. "<reference": not our tag */
            p++;
            continue;
        }
        const uint8_t *gt = memchr(q, '>', (size_t)(end - q));
        if (!gt) {
            p = end; /* a tag cut off at the end of the text */
            continue;
        }
        int self_closing = gt > q && gt[-1] == '/';
        p = gt + 1;
        if (known_drop && !closing && !self_closing) {
            char close[TR_WIKI_MAX_TAG + 4] = "</";
            memcpy(close + 2, name, nlen);
            close[2 + nlen] = '\0';
            const uint8_t *c = find_ci(p, (size_t)(end - p), close);
            if (c) {
                const uint8_t *cg = memchr(c, '>', (size_t)(end - c));
                p = cg ? cg + 1 : end;
            }
        } else if (known_strip && !in_list(inline_tags, (const char *)name, nlen)) {
            rc = putc1(out, ' '); /* a block boundary separates words */
        }
    }
    return rc;
}

/* ---- pass 2: lines and inline markup -------------------------------------- */

static int put_utf8(tr_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
        cp = 0xfffd;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return put(b, u, n);
}

/* An HTML entity at s ('&'): its length, or 0 when it is not one we know
 * (the '&' is then text). */
static size_t entity(const uint8_t *s, size_t n, tr_buf *out, int *rc)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } names[] = {{"nbsp", ' '},     {"amp", '&'},      {"lt", '<'},       {"gt", '>'},
                 {"quot", '"'},     {"apos", '\''},    {"ndash", 0x2013}, {"mdash", 0x2014},
                 {"minus", 0x2212}, {"thinsp", ' '},   {"ensp", ' '},     {"emsp", ' '},
                 {"times", 0xd7},   {"deg", 0xb0},     {"hellip", 0x2026}, {"middot", 0xb7},
                 {"shy", 0},        {"zwj", 0},        {"zwnj", 0},       {"prime", 0x2032}};
    const uint8_t *semi = memchr(s, ';', n < 12 ? n : 12);
    if (!semi)
        return 0;
    size_t len = (size_t)(semi - s) + 1;
    if (len > 3 && s[1] == '#') {
        uint32_t cp = 0;
        int hex = s[2] == 'x' || s[2] == 'X';
        for (const uint8_t *d = s + 2 + hex; d < semi; d++) {
            unsigned v;
            if (*d >= '0' && *d <= '9')
                v = *d - '0';
            else if (hex && (*d | 0x20) >= 'a' && (*d | 0x20) <= 'f')
                v = (*d | 0x20) - 'a' + 10;
            else
                return 0;
            cp = cp * (hex ? 16 : 10) + v;
            if (cp > 0x10ffff)
                return 0;
        }
        *rc = put_utf8(out, cp);
        return len;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len - 2 && !memcmp(names[i].name, s + 1, len - 2)) {
            if (names[i].cp)
                *rc = put_utf8(out, names[i].cp);
            return len;
        }
    return 0;
}

static int is_url_start(const uint8_t *s, size_t n)
{
    static const char *const sch[] = {"http://", "https://", "//", "ftp://", "mailto:", NULL};
    for (size_t i = 0; sch[i]; i++)
        if (n >= strlen(sch[i]) && !strncasecmp((const char *)s, sch[i], strlen(sch[i])))
            return 1;
    return 0;
}

static int inline_text(const uint8_t *s, size_t n, tr_buf *out, int nest)
{
    const uint8_t *p = s, *end = s + n;
    int rc = 0;
    while (p < end && !rc) {
        const uint8_t *run = p;
        while (p < end && *p != '[' && *p != ']' && *p != '\'' && *p != '&' && *p != '_')
            p++;
        if (p > run && (rc = put(out, run, (size_t)(p - run))))
            break;
        if (p == end)
            break;
        size_t left = (size_t)(end - p);
        switch (*p) {
        case '[':
            if (left >= 2 && p[1] == '[') {
                const uint8_t *e = link_end(p, end);
                if (!e) {
                    p += 2;
                    break;
                }
                const uint8_t *in = p + 2, *ie = e - 2;
                p = e;
                /* a '|' at nesting level 0 separates target from text */
                const uint8_t *bar = NULL;
                int d = 0;
                for (const uint8_t *q = in; q < ie; q++) {
                    if (q + 1 < ie && q[0] == '[' && q[1] == '[')
                        d++, q++;
                    else if (q + 1 < ie && q[0] == ']' && q[1] == ']')
                        d--, q++;
                    else if (*q == '|' && d == 0) {
                        bar = q;
                        break;
                    }
                }
                size_t tlen = (size_t)((bar ? bar : ie) - in);
                if (drop_link(in, tlen))
                    break;
                const uint8_t *txt = bar ? bar + 1 : in;
                if (!bar && tlen && *in == ':')
                    txt++; /* [[:Category:X]] shows "Category:X" */
                if (nest < TR_WIKI_MAX_NEST)
                    rc = inline_text(txt, (size_t)(ie - txt), out, nest + 1);
                else
                    rc = put(out, txt, (size_t)(ie - txt));
            } else if (is_url_start(p + 1, left - 1)) {
                const uint8_t *close = memchr(p, ']', left);
                const uint8_t *nl = memchr(p, '\n', left);
                if (!close || (nl && nl < close)) {
                    rc = putc1(out, '[');
                    p++;
                    break;
                }
                const uint8_t *sp = memchr(p, ' ', (size_t)(close - p));
                if (sp && nest < TR_WIKI_MAX_NEST)
                    rc = inline_text(sp + 1, (size_t)(close - sp - 1), out, nest + 1);
                p = close + 1;
            } else {
                rc = putc1(out, '[');
                p++;
            }
            break;
        case ']':
            if (left >= 2 && p[1] == ']')
                p += 2; /* stray closer */
            else {
                rc = putc1(out, ']');
                p++;
            }
            break;
        case '\'': {
            const uint8_t *q = p;
            while (q < end && *q == '\'')
                q++;
            if (q - p == 1)
                rc = putc1(out, '\'');
            p = q; /* '' italic, ''' bold, ''''' both: no text */
            break;
        }
        case '&': {
            size_t len = entity(p, left, out, &rc);
            if (len)
                p += len;
            else {
                rc = putc1(out, '&');
                p++;
            }
            break;
        }
        default: { /* '_': magic words such as __NOTOC__ */
            const uint8_t *q = p + 2;
            if (left > 4 && p[1] == '_') {
                while (q < end && *q >= 'A' && *q <= 'Z')
                    q++;
                if (q > p + 2 && q + 1 < end && q[0] == '_' && q[1] == '_') {
                    p = q + 2;
                    break;
                }
            }
            rc = putc1(out, '_');
            p++;
        }
        }
    }
    return rc;
}

/* Only HTML attributes (name=value ...): what is left of a cell whose
 * content was a template, e.g. `| colspan="5" {{CMain}}`. */
static int only_attrs(const uint8_t *c, size_t n)
{
    size_t i = 0, seen = 0;
    for (;;) {
        while (i < n && (c[i] == ' ' || c[i] == '\t'))
            i++;
        if (i == n)
            return seen > 0;
        size_t a = i;
        while (i < n && (is_alpha(c[i]) || c[i] == '-'))
            i++;
        if (i == a || i == n || c[i] != '=')
            return 0;
        i++;
        if (i < n && (c[i] == '"' || c[i] == '\'')) {
            const uint8_t *q = memchr(c + i + 1, c[i], n - i - 1);
            if (!q)
                return 0;
            i = (size_t)(q - c) + 1;
        } else {
            while (i < n && c[i] != ' ' && c[i] != '\t')
                i++;
        }
        seen++;
    }
}

/* One table cell: drop an attribute part ("style=... | text"). */
static int table_cell(const uint8_t *c, size_t n, tr_buf *out)
{
    int d = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && c[i] == '[' && c[i + 1] == '[')
            d++, i++;
        else if (i + 1 < n && c[i] == ']' && c[i + 1] == ']')
            d--, i++;
        else if (c[i] == '|' && d == 0) {
            c += i + 1;
            n -= i + 1;
            break;
        }
    }
    if (only_attrs(c, n))
        return 0;
    int rc = inline_text(c, n, out, 0);
    return rc ? rc : putc1(out, ' ');
}

/* A table row line after its leading '|' or '!': cells separated by "||"
 * (or "!!" in header rows). */
static int table_row(const uint8_t *s, size_t n, tr_buf *out)
{
    const uint8_t *p = s, *end = s + n;
    while (p <= end) {
        const uint8_t *a = memmem(p, (size_t)(end - p), "||", 2);
        const uint8_t *b = memmem(p, (size_t)(end - p), "!!", 2);
        const uint8_t *sep = a && (!b || a < b) ? a : b;
        const uint8_t *ce = sep ? sep : end;
        int rc = table_cell(p, (size_t)(ce - p), out);
        if (rc)
            return rc;
        if (!sep)
            break;
        p = sep + 2;
    }
    return 0;
}

static int pass_lines(const uint8_t *s, size_t n, tr_buf *out)
{
    const uint8_t *p = s, *end = s + n;
    int rc = 0;
    size_t tables = 0;
    while (p < end && !rc) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        const uint8_t *a = p, *b = le;
        p = nl ? nl + 1 : end;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        size_t len = (size_t)(b - a);
        if (len >= 2 && a[0] == '{' && a[1] == '|') {
            tables++;
            continue;
        }
        if (len >= 2 && a[0] == '|' && a[1] == '}') {
            if (tables)
                tables--;
            continue;
        }
        if (len >= 2 && a[0] == '|' && a[1] == '-')
            continue;
        if (len >= 4 && !memcmp(a, "----", 4))
            continue;
        if (len >= 2 && a[0] == '|' && a[1] == '+') {
            rc = table_cell(a + 2, len - 2, out);
        } else if (len && (a[0] == '!' || (a[0] == '|' && tables))) {
            rc = table_row(a + 1, len - 1, out);
        } else if (len >= 2 && a[0] == '=' && b[-1] == '=') {
            while (a < b && *a == '=')
                a++;
            while (b > a && b[-1] == '=')
                b--;
            rc = inline_text(a, (size_t)(b - a), out, 0);
        } else {
            while (a < b && (*a == '*' || *a == '#' || *a == ':' || *a == ';'))
                a++;
            if (a < b && *a == '|')
                a++; /* a cell line of a table whose opener was in a template */
            rc = inline_text(a, (size_t)(b - a), out, 0);
        }
        if (!rc)
            rc = putc1(out, '\n');
    }
    return rc;
}

/* Collapse runs of spaces, trim lines, keep at most one blank line. */
static int tidy(const uint8_t *s, size_t n, tr_buf *out)
{
    out->len = 0;
    int rc = tr_buf_reserve(out, n + 4); /* output never outgrows input */
    if (rc)
        return rc;
    uint8_t *o = out->data;
    size_t k = 0;
    int space = 0, newlines = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            space = 1;
        } else if (c == '\n') {
            newlines++;
            space = 0;
        } else {
            if (c == '(') { /* "()" or "(; , )" left by removed templates */
                size_t j = i + 1;
                while (j < n && j - i < 16 && (s[j] == ' ' || s[j] == ',' || s[j] == ';'))
                    j++;
                if (j < n && s[j] == ')') {
                    i = j;
                    continue;
                }
            }
            if (k) {
                if (newlines)
                    o[k++] = '\n';
                if (newlines > 1)
                    o[k++] = '\n';
                else if (!newlines && space)
                    o[k++] = ' ';
            }
            newlines = space = 0;
            o[k++] = c;
        }
    }
    out->len = k;
    return 0;
}

int tr_wikitext_to_text(const uint8_t *s, size_t n, tr_buf *out, tr_buf *tmp1, tr_buf *tmp2)
{
    tmp1->len = tmp2->len = 0;
    int rc = pass_blocks(s, n, tmp1);
    if (!rc)
        rc = pass_lines(tmp1->data ? tmp1->data : (const uint8_t *)"", tmp1->len, tmp2);
    if (!rc)
        rc = tidy(tmp2->data ? tmp2->data : (const uint8_t *)"", tmp2->len, out);
    return rc;
}
