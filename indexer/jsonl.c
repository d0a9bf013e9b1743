/* jsonl.c - one JSON Lines record -> one document. A single-pass parser
 * made for this: it validates the whole line as RFC 8259 JSON the way
 * jansson (which it replaced) did — UTF-8 checked, control characters and
 * trailing garbage rejected, \u0000 allowed, duplicate members: the last
 * wins, nesting at most TR_JSON_MAX_DEPTH — but builds no tree: it keeps
 * only the members the indexer reads, and a string without escapes is not
 * copied (it points into the line). jansson's tree (an allocation per value
 * and member, a hash per object) was 17% of the indexing CPU on the passages.
 * tests/test_source.c checks it against jansson on valid and mutated lines. */
#include "source_int.h"
#include "date.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's JSON_PARSER_MAX_DEPTH: deeper lines are refused, as before. */
#define TR_JSON_MAX_DEPTH 2048
/* Longest number text converted on the stack (longer ones are copied). */
#define TR_JSON_NUM_BYTES 64

enum { JV_MISSING, JV_NULL, JV_STRING, JV_INTEGER, JV_OTHER };
enum { F_ID, F_TITLE, F_BODY, F_URL, F_DATE, F_COUNT };

typedef struct jval {
    int type;
    const char *s; size_t n;         /* JV_STRING */
    long long i;                     /* JV_INTEGER */
} jval;

struct tr_jsonl {
    char *field[F_COUNT];            /* member names, in F_ order */
    size_t field_len[F_COUNT];
    tr_buf scratch;                  /* decoded strings with escapes (NUL-ended) */
    char idbuf[32];                  /* an integer id, written out */
};

/* One line being parsed. */
typedef struct jp {
    const uint8_t *s, *p, *end;
    uint8_t *out;                    /* next free byte of scratch */
    const tr_jsonl *j;
    jval *val;                       /* F_COUNT slots */
    char *err; size_t errcap;
} jp;

void tr_jsonl_free(tr_jsonl *j)
{
    if (!j)
        return;
    for (int i = 0; i < F_COUNT; i++)
        free(j->field[i]);
    tr_buf_free(&j->scratch);
    free(j);
}

int tr_jsonl_create(const tr_source_opts *o, tr_jsonl **out)
{
    *out = NULL;
    tr_jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return TR_ENOMEM;
    const char *names[F_COUNT] = {
        o->id_field ? o->id_field : "id", o->title_field ? o->title_field : "title",
        o->body_field ? o->body_field : "body", o->url_field ? o->url_field : "url",
        o->date_field ? o->date_field : "date",
    };
    for (int i = 0; i < F_COUNT; i++) {
        if (!(j->field[i] = strdup(names[i]))) {
            tr_jsonl_free(j);
            return TR_ENOMEM;
        }
        j->field_len[i] = strlen(names[i]);
    }
    *out = j;
    return 0;
}

/* Fails the parse with "invalid JSON at column C: what" (C 1-based, bytes). */
static int jfail(jp *x, const uint8_t *at, const char *what, unsigned arg)
{
    char msg[96];
    snprintf(msg, sizeof msg, what, arg);
    snprintf(x->err, x->errcap, "invalid JSON at column %zu: %s", (size_t)(at - x->s) + 1, msg);
    return TR_EINPUT;
}

static void skip_ws(jp *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

/* Bytes of the valid UTF-8 sequence at p (non-ASCII first byte), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

static int hex4(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    if (end - p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Nonzero when one of the 8 bytes of v is < 0x20, '"', '\\' or >= 0x80:
 * the bytes a string scan must stop at (exact for presence). */
static inline uint64_t special8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b) | v) & high;
}

/* The string at x->p (its opening quote). With want, *s and *n receive its
 * value: a pointer into the line when it has no escapes, else into
 * scratch (NUL-ended). Without, it is only validated. */
static int parse_string(jp *x, int want, const char **s, size_t *n)
{
    const uint8_t *p = x->p + 1, *end = x->end, *start = p;
    uint8_t *o = NULL;               /* decoding into scratch once an escape is seen */
    for (;;) {
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            if (special8(v))
                break;
            p += 8;
        }
        if (p >= end)
            return jfail(x, end, "premature end of input", 0);
        uint8_t c = *p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            size_t k = utf8_len(p, end);
            if (!k)
                return jfail(x, p, "unable to decode byte 0x%x", c);
            p += k;
            continue;
        }
        if (c < 0x20)
            return jfail(x, p, "control character 0x%x", c);
        if (c != '\\') {
            p++;
            continue;
        }
        /* an escape: from here on the value is built in scratch */
        if (want && !o) {
            o = x->out;
            memcpy(o, start, (size_t)(p - start));
            o += p - start;
        } else if (o) {
            memcpy(o, start, (size_t)(p - start));
            o += p - start;
        }
        const uint8_t *esc = p;
        if (++p >= end)
            return jfail(x, end, "premature end of input", 0);
        char e = (char)*p++;
        uint8_t one = 0;
        switch (e) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(p, end, &cp))
                return jfail(x, esc, "invalid escape", 0);
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return jfail(x, esc, "invalid Unicode '\\u%04X'", cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return jfail(x, esc, "invalid Unicode '\\u%04X'", cp);
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (o) {
                if (cp < 0x80) *o++ = (uint8_t)cp;
                else if (cp < 0x800) { *o++ = (uint8_t)(0xC0 | cp >> 6); *o++ = (uint8_t)(0x80 | (cp & 0x3F)); }
                else if (cp < 0x10000) {
                    *o++ = (uint8_t)(0xE0 | cp >> 12);
                    *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                    *o++ = (uint8_t)(0x80 | (cp & 0x3F));
                } else {
                    *o++ = (uint8_t)(0xF0 | cp >> 18);
                    *o++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
                    *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                    *o++ = (uint8_t)(0x80 | (cp & 0x3F));
                }
            }
            start = p;
            continue;
        }
        default:
            return jfail(x, esc, "invalid escape", 0);
        }
        if (o)
            *o++ = one;
        start = p;
    }
    if (want) {
        if (o) {
            memcpy(o, start, (size_t)(p - start));
            o += p - start;
            *s = (const char *)x->out;
            *n = (size_t)(o - x->out);
            *o++ = 0;
            x->out = o;
        } else {
            *s = (const char *)start;
            *n = (size_t)(p - start);
        }
    }
    x->p = p + 1;
    return 0;
}

/* A number at x->p: validated; *v gets its type (and value if integer). */
static int parse_number(jp *x, jval *v)
{
    const uint8_t *p = x->p, *end = x->end, *b = p;
    int real = 0;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return jfail(x, p < end ? p : end, "invalid token", 0);
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return jfail(x, p, "invalid token", 0);
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && *p == '.') {
        real = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return jfail(x, p < end ? p : end, "invalid token", 0);
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return jfail(x, p < end ? p : end, "invalid token", 0);
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    /* convert as jansson did, to refuse what it refused (out of range) */
    size_t len = (size_t)(p - b);
    char stack[TR_JSON_NUM_BYTES], *t = len < sizeof stack ? stack : malloc(len + 1);
    if (!t)
        return TR_ENOMEM;
    memcpy(t, b, len);
    t[len] = 0;
    int rc = 0;
    errno = 0;
    if (!real) {
        long long i = strtoll(t, NULL, 10);
        if (errno == ERANGE)
            rc = jfail(x, b, i < 0 ? "too big negative integer" : "too big integer", 0);
        v->type = JV_INTEGER;
        v->i = i;
    } else {
        double d = strtod(t, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            rc = jfail(x, b, "real number overflow", 0);
        v->type = JV_OTHER;
    }
    if (t != stack)
        free(t);
    x->p = p;
    return rc;
}

static int parse_value(jp *x, int depth, jval *v);

/* The object at x->p. At depth 1 (the record) the members named by the
 * options are kept in x->val; deeper objects are only validated. */
static int parse_object(jp *x, int depth)
{
    x->p++;
    skip_ws(x);
    if (x->p < x->end && *x->p == '}') {
        x->p++;
        return 0;
    }
    for (;;) {
        skip_ws(x);
        if (x->p >= x->end)
            return jfail(x, x->end, "premature end of input", 0);
        if (*x->p != '"')
            return jfail(x, x->p, "string or '}' expected", 0);
        const uint8_t *kat = x->p;
        const char *key;
        size_t klen;
        uint8_t *mark = x->out;
        int rc = parse_string(x, 1, &key, &klen);
        if (rc)
            return rc;
        if (memchr(key, 0, klen))
            return jfail(x, kat, "NUL byte in object key not supported", 0);
        jval tmp, *slot = &tmp;
        if (depth == 1)
            for (int f = 0; f < F_COUNT; f++)
                if (klen == x->j->field_len[f] && !memcmp(key, x->j->field[f], klen)) {
                    slot = &x->val[f];
                    break;
                }
        x->out = mark;               /* a key's decoded bytes are not kept */
        skip_ws(x);
        if (x->p >= x->end)
            return jfail(x, x->end, "premature end of input", 0);
        if (*x->p != ':')
            return jfail(x, x->p, "':' expected", 0);
        x->p++;
        skip_ws(x);
        if ((rc = parse_value(x, depth, slot == &tmp ? NULL : slot)))
            return rc;
        skip_ws(x);
        if (x->p >= x->end)
            return jfail(x, x->end, "premature end of input", 0);
        if (*x->p == '}') {
            x->p++;
            return 0;
        }
        if (*x->p != ',')
            return jfail(x, x->p, "'}' expected", 0);
        x->p++;
    }
}

static int parse_array(jp *x, int depth)
{
    x->p++;
    skip_ws(x);
    if (x->p < x->end && *x->p == ']') {
        x->p++;
        return 0;
    }
    for (;;) {
        skip_ws(x);
        int rc = parse_value(x, depth, NULL);
        if (rc)
            return rc;
        skip_ws(x);
        if (x->p >= x->end)
            return jfail(x, x->end, "premature end of input", 0);
        if (*x->p == ']') {
            x->p++;
            return 0;
        }
        if (*x->p != ',')
            return jfail(x, x->p, "']' expected", 0);
        x->p++;
    }
}

/* A value at x->p (whitespace skipped). v: where a kept member goes, or
 * NULL; depth: of the container the value is in. */
static int parse_value(jp *x, int depth, jval *v)
{
    jval tmp;
    if (!v)
        v = &tmp;
    if (x->p >= x->end)
        return jfail(x, x->end, "premature end of input", 0);
    uint8_t c = *x->p;
    if (c == '"') {
        v->type = JV_STRING;
        return parse_string(x, v != &tmp, &v->s, &v->n);
    }
    if (c == '{' || c == '[') {
        if (depth + 1 > TR_JSON_MAX_DEPTH)
            return jfail(x, x->p, "maximum parsing depth reached", 0);
        v->type = JV_OTHER;
        return c == '{' ? parse_object(x, depth + 1) : parse_array(x, depth + 1);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(x, v);
    /* a word: eaten whole, as jansson did, so the column ends it */
    const uint8_t *w = x->p;
    while (x->p < x->end && ((*x->p | 0x20) >= 'a' && (*x->p | 0x20) <= 'z'))
        x->p++;
    size_t wl = (size_t)(x->p - w);
    if (wl == 4 && !memcmp(w, "null", 4)) v->type = JV_NULL;
    else if ((wl == 4 && !memcmp(w, "true", 4)) || (wl == 5 && !memcmp(w, "false", 5))) v->type = JV_OTHER;
    else return jfail(x, wl ? x->p - 1 : w, "invalid token", 0);
    return 0;
}

/* An optional string member: missing or null = empty. */
static int opt_string(const jval *v, const char *name, const char **p, size_t *n,
                      char *err, size_t errcap)
{
    *p = "";
    *n = 0;
    if (v->type == JV_MISSING || v->type == JV_NULL)
        return 0;
    if (v->type != JV_STRING) {
        snprintf(err, errcap, "member \"%s\" is not a string", name);
        return TR_EINPUT;
    }
    *p = v->s;
    *n = v->n;
    return 0;
}

int tr_jsonl_parse(tr_jsonl *j, const char *line, size_t len, tr_doc_in *doc,
                   int *bad_date, char *err, size_t errcap)
{
    memset(doc, 0, sizeof *doc);
    doc->date = TR_NO_DATE;
    *bad_date = 0;

    /* decoded strings never outgrow their quoted text: one reserve serves
     * the whole line, so no pointer into scratch moves */
    tr_buf_clear(&j->scratch);
    if (tr_buf_reserve(&j->scratch, len + 1))
        return TR_ENOMEM;
    jval val[F_COUNT];
    memset(val, 0, sizeof val);
    jp x = { (const uint8_t *)line, (const uint8_t *)line, (const uint8_t *)line + len,
             j->scratch.data, j, val, err, errcap };
    skip_ws(&x);
    if (x.p >= x.end || (*x.p != '{' && *x.p != '[')) {
        /* the token is read first, as jansson did: "this" is an invalid
         * token at column 4, a valid scalar is not a record */
        const uint8_t *at = x.p;
        int trc = parse_value(&x, TR_JSON_MAX_DEPTH, NULL);
        return trc ? trc : jfail(&x, at, "'[' or '{' expected", 0);
    }
    int is_object = *x.p == '{';
    int rc = is_object ? parse_object(&x, 1) : parse_array(&x, 1);
    if (rc)
        return rc;
    skip_ws(&x);
    if (x.p < x.end)
        return jfail(&x, x.p, "end of file expected", 0);
    if (!is_object) {
        snprintf(err, errcap, "record is not a JSON object");
        return TR_EINPUT;
    }

    const jval *id = &val[F_ID];
    const char *idf = j->field[F_ID];
    if (id->type == JV_MISSING) {
        snprintf(err, errcap, "missing \"%s\"", idf);
        return TR_EINPUT;
    }
    if (id->type == JV_STRING) {
        doc->id = id->s;
        doc->id_len = id->n;
        if (memchr(doc->id, '\0', doc->id_len)) {
            snprintf(err, errcap, "\"%s\" contains a NUL character", idf);
            return TR_EINPUT;
        }
    } else if (id->type == JV_INTEGER) {
        snprintf(j->idbuf, sizeof j->idbuf, "%lld", id->i);
        doc->id = j->idbuf;
        doc->id_len = strlen(j->idbuf);
    } else {
        snprintf(err, errcap, "\"%s\" is not a string or integer", idf);
        return TR_EINPUT;
    }
    if (doc->id_len == 0) {
        snprintf(err, errcap, "\"%s\" is empty", idf);
        return TR_EINPUT;
    }
    if (doc->id_len > TR_MAX_ID_BYTES) {
        snprintf(err, errcap, "\"%s\" longer than %d bytes", idf, TR_MAX_ID_BYTES);
        return TR_EINPUT;
    }

    if ((rc = opt_string(&val[F_BODY], j->field[F_BODY], &doc->body, &doc->body_len, err, errcap)) ||
        (rc = opt_string(&val[F_TITLE], j->field[F_TITLE], &doc->title, &doc->title_len, err, errcap)) ||
        (rc = opt_string(&val[F_URL], j->field[F_URL], &doc->url, &doc->url_len, err, errcap)))
        return rc;

    const jval *date = &val[F_DATE];
    if (date->type == JV_STRING) {
        int64_t t;
        if (tr_parse_date(date->s, date->n, &t) == 0)
            doc->date = t;
        else
            *bad_date = 1;
    } else if (date->type == JV_INTEGER) {
        doc->date = (int64_t)date->i;
        if (doc->date == TR_NO_DATE)
            *bad_date = 1;
    } else if (date->type != JV_MISSING && date->type != JV_NULL) {
        *bad_date = 1;
    }
    return 0;
}
