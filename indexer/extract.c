/* extract.c - the article in a scraped page, without the site around it.
 * The page becomes a list of text blocks (HTML: block elements of the
 * libxml2 tree; text: lines), each with its length, word count and the share
 * of it that is link text. A block is "content" when it reads like prose
 * (enough words, a sentence end, few links); the body is the run of blocks
 * with the best balance of content characters against boilerplate blocks
 * (a maximum-sum run, so share lines and a trailing list of one-line
 * headlines end it). Title = the heading just before that run (or a line
 * repeated there, or <title> minus the site name); date = <meta>/<time>, else
 * a dateline such as "Baku, December 22, 2018, AGENCY" above the article.
 * Charsets: the HTTP header's, else <meta charset>, else UTF-8; bytes that
 * are not valid in it are read as windows-1252 (the usual mislabelling);
 * everything is converted to UTF-8 with iconv before parsing. */
#include "source_int.h"
#include "date.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <strings.h>

/* A block is prose when it has at least this many words and ends a
 * sentence, or has TR_EXTRACT_LONG_WORDS words whatever its end. */
#define TR_EXTRACT_MIN_WORDS 6
#define TR_EXTRACT_LONG_WORDS 25
/* Above this share of link text a block is navigation, not prose. */
#define TR_EXTRACT_MAX_LINK_DENSITY 0.3
/* What a non-content block costs the run it is in, in characters: enough
 * that a list of a dozen headlines outweighs a paragraph after it. */
#define TR_EXTRACT_GAP_COST 60
/* A run with fewer content characters is not an article: the caller keeps
 * the page's whole visible text. */
#define TR_EXTRACT_MIN_CHARS 150
/* Boilerplate phrases are only looked for in blocks this short (a
 * paragraph that mentions "share" is still a paragraph). */
#define TR_EXTRACT_BOILER_WORDS 10
/* Deepest element nesting walked. */
#define TR_EXTRACT_MAX_DEPTH 256
/* Title candidates longer than this are paragraphs, not headlines. */
#define TR_EXTRACT_MAX_TITLE_WORDS 30
/* Bytes looked at for <meta charset>. */
#define TR_EXTRACT_META_SNIFF 4096
/* Longest charset name accepted. */
#define TR_EXTRACT_MAX_CHARSET 40

typedef struct block {
    size_t off, len;   /* in x->text */
    size_t link;       /* bytes of it inside <a> */
    size_t words;
    int heading;       /* 1..6 for h1..h6, 0 otherwise */
    int content, boiler, dateline;
} block;

struct tr_extract {
    tr_buf utf8, text, title, body, meta_title, date_str;
    block *blocks;
    size_t nblocks, cap;
    /* current block while walking */
    size_t cur_start, cur_link;
    int cur_heading, in_link, pending_space;
};

int tr_extract_create(tr_extract **out)
{
    xmlInitParser();
    *out = calloc(1, sizeof **out);
    return *out ? 0 : TR_ENOMEM;
}

void tr_extract_free(tr_extract *x)
{
    if (!x)
        return;
    tr_buf *b[] = {&x->utf8, &x->text, &x->title, &x->body, &x->meta_title, &x->date_str};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        tr_buf_free(b[i]);
    free(x->blocks);
    free(x);
}

/* ---- charset ------------------------------------------------------------- */

static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

/* charset=NAME in a <meta> near the top; copied into name. */
static void meta_charset(const uint8_t *s, size_t n, char *name, size_t cap)
{
    if (n > TR_EXTRACT_META_SNIFF)
        n = TR_EXTRACT_META_SNIFF;
    for (size_t i = 0; i + 8 < n; i++) {
        if (strncasecmp((const char *)s + i, "charset=", 8))
            continue;
        size_t j = i + 8, k = 0;
        while (j < n && (s[j] == '"' || s[j] == '\'' || s[j] == ' '))
            j++;
        while (j < n && k + 1 < cap && (isalnum(s[j]) || s[j] == '-' || s[j] == '_' || s[j] == ':'))
            name[k++] = (char)s[j++];
        name[k] = '\0';
        if (k)
            return;
    }
}

/* data in charset -> UTF-8 in x->utf8. TR_EINPUT for a charset iconv does
 * not know. Invalid sequences become U+FFFD rather than ending the text. */
static int to_utf8(tr_extract *x, const uint8_t *data, size_t len, const char *charset,
                   char *why, size_t whycap)
{
    x->utf8.len = 0;
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        snprintf(why, whycap, "unknown charset '%s'", charset);
        return TR_EINPUT;
    }
    int rc = tr_buf_reserve(&x->utf8, len * 2 + 16);
    char *in = (char *)data;
    size_t inleft = len;
    while (!rc && inleft) {
        char *out = (char *)x->utf8.data + x->utf8.len;
        size_t outleft = x->utf8.cap - x->utf8.len, before = outleft;
        size_t r = iconv(cd, &in, &inleft, &out, &outleft);
        x->utf8.len += before - outleft;
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG)
            rc = tr_buf_reserve(&x->utf8, inleft * 2 + 16);
        else { /* EILSEQ / EINVAL: one bad byte */
            rc = tr_buf_append(&x->utf8, "\xef\xbf\xbd", 3);
            in++;
            inleft--;
        }
    }
    iconv_close(cd);
    return rc;
}

/* ---- blocks ------------------------------------------------------------- */

static int is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Append text, collapsing whitespace (and no-break spaces) to one space;
 * runs of other bytes are copied whole. */
static int add_text(tr_extract *x, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        if (is_ws(c)) {
            x->pending_space = 1;
            i++;
            continue;
        }
        if (c == 0xc2 && i + 1 < n && (uint8_t)s[i + 1] == 0xa0) {
            x->pending_space = 1;
            i += 2;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !is_ws((uint8_t)s[j]) && (uint8_t)s[j] != 0xc2)
            j++;
        if (x->pending_space && x->text.len > x->cur_start) {
            if (tr_buf_append(&x->text, " ", 1))
                return TR_ENOMEM;
            x->cur_link += x->in_link;
        }
        x->pending_space = 0;
        if (tr_buf_append(&x->text, s + i, j - i))
            return TR_ENOMEM;
        if (x->in_link)
            x->cur_link += j - i;
        i = j;
    }
    return 0;
}

static int end_block(tr_extract *x)
{
    x->pending_space = 0;
    size_t len = x->text.len - x->cur_start;
    if (len) {
        if (x->nblocks == x->cap) {
            size_t cap = x->cap ? x->cap * 2 : 64;
            block *b = realloc(x->blocks, cap * sizeof *b);
            if (!b)
                return TR_ENOMEM;
            x->blocks = b;
            x->cap = cap;
        }
        block *b = &x->blocks[x->nblocks++];
        memset(b, 0, sizeof *b);
        b->off = x->cur_start;
        b->len = len;
        b->link = x->cur_link < len ? x->cur_link : len;
        b->heading = x->cur_heading;
        b->words = 1;
        for (size_t i = 0; i < len; i++)
            b->words += x->text.data[b->off + i] == ' ';
    }
    x->cur_start = x->text.len;
    x->cur_link = 0;
    x->cur_heading = 0;
    return 0;
}

static int name_in(const xmlChar *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcasecmp((const char *)name, list[i]))
            return 1;
    return 0;
}

static const char *const skip_tags[] = {"script", "style", "noscript", "template", "iframe",
                                         "svg", "nav", "footer", "aside", "form", "button",
                                         "select", "head", "object", "canvas", NULL};
static const char *const block_tags[] = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "tr", "article",
    "section", "header", "blockquote", "pre", "ul", "ol", "table", "br", "dd", "dt", "figure",
    "figcaption", "main", "address", "hr", "body", "html", "dl", "center", "caption", NULL};

static void attr_date(tr_extract *x, const char *v)
{
    if (v && !x->date_str.len)
        tr_buf_append(&x->date_str, v, strlen(v));
}

static void meta(tr_extract *x, xmlNode *n)
{
    xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
    xmlChar *prop = xmlGetProp(n, (const xmlChar *)"property");
    xmlChar *item = xmlGetProp(n, (const xmlChar *)"itemprop");
    xmlChar *content = xmlGetProp(n, (const xmlChar *)"content");
    const char *key = (const char *)(name ? name : prop ? prop : item);
    if (key && content) {
        static const char *const dates[] = {"article:published_time", "date", "pubdate",
                                            "publishdate", "datePublished", "dc.date",
                                            "og:published_time", "sailthru.date", NULL};
        for (size_t i = 0; dates[i]; i++)
            if (!strcasecmp(key, dates[i]))
                attr_date(x, (const char *)content);
        if (!strcasecmp(key, "og:title") && !x->meta_title.len)
            tr_buf_append(&x->meta_title, content, strlen((const char *)content));
    }
    xmlFree(name);
    xmlFree(prop);
    xmlFree(item);
    xmlFree(content);
}

/* <head>: only <title> and <meta> matter there. */
static int walk_head(tr_extract *x, xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        if (!strcasecmp((const char *)n->name, "meta"))
            meta(x, n);
        else if (!strcasecmp((const char *)n->name, "title") && !x->title.len) {
            xmlChar *t = xmlNodeGetContent(n);
            if (t && tr_buf_append(&x->title, t, strlen((const char *)t))) {
                xmlFree(t);
                return TR_ENOMEM;
            }
            xmlFree(t);
        }
    }
    return 0;
}

static int walk(tr_extract *x, xmlNode *n, int depth)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content && add_text(x, (const char *)n->content, strlen((const char *)n->content)))
                return TR_ENOMEM;
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        const char *nm = (const char *)n->name;
        if (!strcasecmp(nm, "meta")) {
            meta(x, n);
            continue;
        }
        if (!strcasecmp(nm, "title") && !x->title.len) {
            xmlChar *t = xmlNodeGetContent(n);
            if (t)
                tr_buf_append(&x->title, t, strlen((const char *)t));
            xmlFree(t);
            continue;
        }
        if (!strcasecmp(nm, "time")) {
            xmlChar *dt = xmlGetProp(n, (const xmlChar *)"datetime");
            attr_date(x, (const char *)dt);
            xmlFree(dt);
        }
        if (!strcasecmp(nm, "head")) { /* only its title and meta */
            if (depth < TR_EXTRACT_MAX_DEPTH && walk_head(x, n->children))
                return TR_ENOMEM;
            continue;
        }
        if (name_in(n->name, skip_tags) || depth >= TR_EXTRACT_MAX_DEPTH)
            continue;
        int is_block = name_in(n->name, block_tags);
        int heading = (nm[0] == 'h' || nm[0] == 'H') && nm[1] >= '1' && nm[1] <= '6' && !nm[2];
        int is_link = !strcasecmp(nm, "a");
        if (is_block && end_block(x))
            return TR_ENOMEM;
        if (heading)
            x->cur_heading = nm[1] - '0';
        int was = x->in_link;
        if (is_link)
            x->in_link = 1;
        int rc = walk(x, n->children, depth + 1);
        x->in_link = was;
        if (rc)
            return rc;
        if (is_block && end_block(x))
            return TR_ENOMEM;
    }
    return 0;
}

/* ---- deciding ------------------------------------------------------------ */

static const char *const boiler_phrases[] = {
    "share", "follow us", "follow on", "subscribe", "cookie", "all rights reserved",
    "copyright", "\xc2\xa9", "sign up", "newsletter", "read more", "related", "advertisement",
    "log in", "login", "tags:", "print", "comments", "next article", "previous article",
    "most read", "latest news", "back to top", "terms of use", "privacy", NULL};

static const char *const months[] = {"january", "february", "march", "april", "may", "june",
                                     "july", "august", "september", "october", "november",
                                     "december", NULL};

static int month_of(const char *w, size_t n)
{
    while (n && (w[n - 1] == '.' || w[n - 1] == ','))
        n--;
    if (n < 3)
        return 0;
    for (int m = 0; months[m]; m++)
        if ((n == 3 || n == strlen(months[m])) && !strncasecmp(w, months[m], n))
            return m + 1;
    return 0;
}

static int number_of(const char *w, size_t n, int *v)
{
    while (n && (w[n - 1] == ',' || w[n - 1] == '.'))
        n--;
    if (!n || n > 4)
        return 0;
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        r = r * 10 + (w[i] - '0');
    }
    *v = r;
    return (int)n;
}

/* A date written out in s ("December 22, 2018", "22 December 2018",
 * "2018-12-22"): 1 and *out when found. A month and day without a year take
 * default_year when there is one. */
static int find_date(const char *s, size_t n, int default_year, int64_t *out)
{
    const char *w[24];
    size_t wl[24], k = 0, i = 0;
    while (i < n && k < 24) {
        while (i < n && (s[i] == ' ' || s[i] == '(' || s[i] == ')' || s[i] == '|'))
            i++;
        size_t st = i;
        while (i < n && s[i] != ' ' && s[i] != '(' && s[i] != ')' && s[i] != '|')
            i++;
        if (i > st) {
            w[k] = s + st;
            wl[k++] = i - st;
        }
    }
    for (size_t j = 0; j < k; j++) {
        int64_t t;
        if (wl[j] >= 10 && w[j][4] == '-' && tr_parse_date(w[j], 10, &t) == 0) {
            *out = t;
            return 1;
        }
        int m = month_of(w[j], wl[j]), d = 0, y = 0, dl;
        if (!m)
            continue;
        if (j + 1 < k && (dl = number_of(w[j + 1], wl[j + 1], &d)) && dl <= 2) {
            if (j + 2 < k && number_of(w[j + 2], wl[j + 2], &y) != 4)
                y = 0;
        } else if (j > 0 && (dl = number_of(w[j - 1], wl[j - 1], &d)) && dl <= 2) {
            if (j + 1 < k && number_of(w[j + 1], wl[j + 1], &y) != 4)
                y = 0;
        } else {
            continue;
        }
        if (!y)
            y = default_year;
        if (!y || d < 1 || d > 31)
            continue;
        char iso[32];
        snprintf(iso, sizeof iso, "%04d-%02d-%02d", y % 10000, m, d);
        if (tr_parse_date(iso, strlen(iso), &t) == 0) {
            *out = t;
            return 1;
        }
    }
    return 0;
}

static int ends_sentence(const uint8_t *s, size_t n)
{
    while (n && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ')'))
        n--;
    if (n >= 3 && s[n - 3] == 0xe2 && s[n - 2] == 0x80 && (s[n - 1] == 0x9d || s[n - 1] == 0x99))
        n -= 3; /* closing curly quote */
    return n && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == '?' || s[n - 1] == ':');
}

static int contains_ci(const uint8_t *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!strncasecmp((const char *)s + i, needle, m))
            return 1;
    return 0;
}

static void classify(tr_extract *x)
{
    for (size_t i = 0; i < x->nblocks; i++) {
        block *b = &x->blocks[i];
        const uint8_t *t = x->text.data + b->off;
        double ld = (double)b->link / (double)b->len;
        b->boiler = ld > 0.5;
        if (b->words <= TR_EXTRACT_BOILER_WORDS)
            for (size_t k = 0; boiler_phrases[k] && !b->boiler; k++)
                b->boiler = contains_ci(t, b->len, boiler_phrases[k]);
        b->content = !b->boiler && !b->heading && ld <= TR_EXTRACT_MAX_LINK_DENSITY &&
                     ((b->words >= TR_EXTRACT_MIN_WORDS && ends_sentence(t, b->len)) ||
                      b->words >= TR_EXTRACT_LONG_WORDS);
    }
}

/* The maximum-sum run: content blocks count their length, the others cost
 * TR_EXTRACT_GAP_COST each. */
static size_t best_run(const tr_extract *x, size_t *from, size_t *to)
{
    long best = 0, cur = 0;
    size_t bs = 0, be = 0, cs = 0;
    size_t chars = 0, best_chars = 0;
    for (size_t i = 0; i < x->nblocks; i++) {
        const block *b = &x->blocks[i];
        long v = b->content ? (long)b->len : -(long)TR_EXTRACT_GAP_COST;
        if (cur <= 0) {
            cur = 0;
            cs = i;
            chars = 0;
        }
        cur += v;
        if (b->content)
            chars += b->len;
        if (cur > best) {
            best = cur;
            bs = cs;
            be = i + 1;
            best_chars = chars;
        }
    }
    *from = bs;
    *to = be;
    return best_chars;
}

static int same_text(const tr_extract *x, const block *a, const block *b)
{
    return a->len == b->len && !memcmp(x->text.data + a->off, x->text.data + b->off, a->len);
}

/* Title from the blocks above the article: the nearest heading; else a line
 * written twice (sites repeat the headline); else the nearest short line
 * that is not boilerplate or the dateline. */
static const block *pick_title(tr_extract *x, size_t from)
{
    for (size_t i = from; i-- > 0;)
        if (x->blocks[i].heading && x->blocks[i].heading <= 2 && !x->blocks[i].boiler)
            return &x->blocks[i];
    for (size_t i = 0; i < from; i++)
        for (size_t j = i + 1; j < from; j++)
            if (!x->blocks[i].boiler && same_text(x, &x->blocks[i], &x->blocks[j]))
                return &x->blocks[i];
    for (size_t i = from; i-- > 0;) {
        const block *b = &x->blocks[i];
        if (!b->boiler && !b->dateline && b->words >= 3 && b->words <= TR_EXTRACT_MAX_TITLE_WORDS)
            return b;
    }
    return NULL;
}

static int year_of(int64_t t)
{
    int64_t days = t / 86400 - (t % 86400 < 0);
    int y = 1970;
    for (;;) { /* few iterations: dates are centuries at most from 1970 */
        int64_t len = tr_days_from_civil(y + 1, 1, 1) - tr_days_from_civil(y, 1, 1);
        if (days >= 0 && days < len)
            return y;
        if (days < 0) {
            y--;
            days += tr_days_from_civil(y + 1, 1, 1) - tr_days_from_civil(y, 1, 1);
        } else {
            days -= len;
            y++;
        }
        if (y < 1 || y > 9999)
            return 0;
    }
}

/* Decide on the blocks and fill doc. 1 = an article, 0 = none found (doc
 * holds the whole text then), TR_ENOMEM. */
static int decide(tr_extract *x, tr_doc_in *doc, int *bad_date)
{
    classify(x);
    size_t from, to;
    size_t chars = best_run(x, &from, &to);
    int article = chars >= TR_EXTRACT_MIN_CHARS;
    if (!article) {
        from = 0;
        to = x->nblocks;
    }
    /* date: <meta>/<time> first, else a dateline above or opening the body */
    int64_t when = TR_NO_DATE, t;
    if (x->date_str.len) {
        if (tr_parse_date((const char *)x->date_str.data, x->date_str.len, &t) == 0 ||
            find_date((const char *)x->date_str.data, x->date_str.len, 0, &t))
            when = t;
        else
            *bad_date = 1;
    }
    size_t look = from > 4 ? from - 4 : 0;
    for (size_t i = look; i < from || (i == from && i < x->nblocks); i++) {
        block *b = &x->blocks[i];
        size_t n = b->len < 120 ? b->len : 120;
        int y = when != TR_NO_DATE ? year_of(when) : 0;
        if (find_date((const char *)x->text.data + b->off, n, y, &t)) {
            if (i < from && b->words <= 12)
                b->dateline = 1;
            if (when == TR_NO_DATE)
                when = t;
            break;
        }
    }
    doc->date = when;
    /* title */
    const block *tb = article ? pick_title(x, from) : NULL;
    x->body.len = 0;
    if (tb) {
        doc->title = (const char *)x->text.data + tb->off;
        doc->title_len = tb->len;
    } else {
        tr_buf *src = x->meta_title.len ? &x->meta_title : &x->title;
        const char *s = (const char *)src->data;
        size_t n = src->len;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        while (n && isspace((unsigned char)*s))
            s++, n--;
        /* "Headline | Site" / "Headline - Site": the site's part goes */
        for (size_t i = n; i >= 3 && src != &x->meta_title; i--)
            if ((s[i - 2] == '|' || s[i - 2] == '-') && s[i - 3] == ' ' && s[i - 1] == ' ') {
                n = i - 3;
                break;
            }
        doc->title = n ? s : "";
        doc->title_len = n;
    }
    for (size_t i = from; i < to; i++) {
        const block *b = &x->blocks[i];
        if (b->boiler || b->dateline || b == tb)
            continue;
        if (article && !b->content && (double)b->link > 0.5 * (double)b->len)
            continue;
        if (x->body.len && tr_buf_append(&x->body, "\n\n", 2))
            return TR_ENOMEM;
        if (tr_buf_append(&x->body, x->text.data + b->off, b->len))
            return TR_ENOMEM;
    }
    doc->body = x->body.len ? (const char *)x->body.data : "";
    doc->body_len = x->body.len;
    return article;
}

static void reset(tr_extract *x)
{
    x->text.len = x->title.len = x->body.len = x->meta_title.len = x->date_str.len = 0;
    x->utf8.len = 0;
    x->nblocks = 0;
    x->cur_start = x->cur_link = 0;
    x->cur_heading = x->in_link = x->pending_space = 0;
}

int tr_extract_html(tr_extract *x, const uint8_t *data, size_t len, const char *charset,
                    tr_doc_in *doc, int *bad_date, char *why, size_t whycap)
{
    reset(x);
    char cs[TR_EXTRACT_MAX_CHARSET + 1] = "";
    if (charset && *charset)
        snprintf(cs, sizeof cs, "%s", charset);
    else
        meta_charset(data, len, cs, sizeof cs);
    int rc;
    if (!cs[0] || !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8")) {
        /* declared or assumed UTF-8: mislabelled pages are nearly always
         * windows-1252 */
        if (valid_utf8(data, len)) {
            if ((rc = tr_buf_append(&x->utf8, data, len)) != 0)
                return rc;
        } else if ((rc = to_utf8(x, data, len, "WINDOWS-1252", why, whycap)) != 0)
            return rc;
    } else if ((rc = to_utf8(x, data, len, cs, why, whycap)) != 0) {
        return rc;
    }
    if (x->utf8.len > (size_t)INT32_MAX)
        return TR_ELIMIT;
    htmlDocPtr d = htmlReadMemory((const char *)x->utf8.data, (int)x->utf8.len, NULL, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                      HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
    x->utf8.len = 0;
    if (!d)
        return decide(x, doc, bad_date);
    rc = walk(x, xmlDocGetRootElement(d), 0);
    if (!rc)
        rc = end_block(x);
    xmlFreeDoc(d);
    if (rc)
        return rc;
    return decide(x, doc, bad_date);
}

int tr_extract_text(tr_extract *x, const uint8_t *data, size_t len, tr_doc_in *doc,
                    int *bad_date)
{
    reset(x);
    if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
        data += 3, len -= 3;
    const uint8_t *p = data, *end = data + len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = nl ? nl : end;
        if (add_text(x, (const char *)p, (size_t)(le - p)) || end_block(x))
            return TR_ENOMEM;
        p = nl ? nl + 1 : end;
    }
    return decide(x, doc, bad_date);
}
