/* jsonl.c - one JSON Lines record -> one document. yajl parses the line as
 * a stream of events (it validates the grammar and UTF-8 and rejects
 * trailing garbage); this file keeps only the top-level members the indexer
 * reads and checks their types. No tree is built: jansson's (an allocation
 * per value, a hash per object) was 17% of the indexing CPU on the enwiki
 * passages. A string without escapes is not copied: yajl hands out a pointer
 * into the line, which stays valid as long as the document (source_int.h).
 * Duplicate members: the last one wins, as with jansson. */
#include "source_int.h"
#include "date.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <utf8proc.h>
#include <yajl/yajl_parse.h>

enum { F_ID, F_TITLE, F_BODY, F_URL, F_DATE, F_COUNT };
enum { JV_MISSING, JV_NULL, JV_STRING, JV_INTEGER, JV_OTHER };

typedef struct jval {
    int type;
    const char *s;                   /* JV_STRING: into the line, or an offset */
    size_t n;                        /*   into scratch when copied (s == NULL) */
    size_t off;
    long long i;                     /* JV_INTEGER */
} jval;

struct tr_jsonl {
    char *field[F_COUNT];            /* member names, in F_ order */
    size_t field_len[F_COUNT];
    /* state of the line being parsed */
    const char *line;
    size_t len;
    int depth;                       /* 1 = inside the top-level object */
    int is_object;                   /* the top-level value is an object */
    int target;                      /* F_ index the next top-level value fills, or -1 */
    jval val[F_COUNT];
    tr_buf scratch;                  /* strings yajl decoded (escapes) */
    int oom;
    char idbuf[32];                  /* an integer id, written out */
};

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

/* ---- yajl callbacks: return 1 to go on, 0 to stop (out of memory) ------- */

/* A scalar or container opening at this depth: fills the member it belongs
 * to when it is a top-level member the indexer reads. */
static jval *slot(tr_jsonl *j)
{
    if (j->depth != 1 || j->target < 0)
        return NULL;
    jval *v = &j->val[j->target];
    j->target = -1;
    return v;
}

static int on_null(void *ctx)
{
    jval *v = slot(ctx);
    if (v)
        v->type = JV_NULL;
    return 1;
}

static int on_other_scalar(void *ctx)
{
    jval *v = slot(ctx);
    if (v)
        v->type = JV_OTHER;
    return 1;
}

static int on_boolean(void *ctx, int b)
{
    (void)b;
    return on_other_scalar(ctx);
}

static int on_double(void *ctx, double d)
{
    (void)d;
    return on_other_scalar(ctx);
}

static int on_integer(void *ctx, long long i)
{
    jval *v = slot(ctx);
    if (v) {
        v->type = JV_INTEGER;
        v->i = i;
    }
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    tr_jsonl *j = ctx;
    jval *v = slot(j);
    if (!v)
        return 1;
    v->type = JV_STRING;
    v->n = n;
    const char *p = (const char *)s;
    if (p >= j->line && p + n <= j->line + j->len) {
        v->s = p;                    /* no escapes: yajl points into the line */
        return 1;
    }
    /* Decoded into yajl's buffer, which the next string reuses: copy. */
    v->s = NULL;
    v->off = j->scratch.len;
    if (tr_buf_append(&j->scratch, p, n) != 0) {
        j->oom = 1;
        return 0;
    }
    return 1;
}

static int on_start(void *ctx)
{
    tr_jsonl *j = ctx;
    if (j->depth == 0)
        j->is_object = -1;           /* an array at the top: not a record */
    jval *v = slot(j);
    if (v)
        v->type = JV_OTHER;
    j->depth++;
    return 1;
}

static int on_start_map(void *ctx)
{
    tr_jsonl *j = ctx;
    int top = j->depth == 0;
    on_start(ctx);
    if (top)
        j->is_object = 1;
    return 1;
}

static int on_end(void *ctx)
{
    ((tr_jsonl *)ctx)->depth--;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t n)
{
    tr_jsonl *j = ctx;
    j->target = -1;
    if (j->depth != 1)
        return 1;
    for (int f = 0; f < F_COUNT; f++)
        if (n == j->field_len[f] && memcmp(key, j->field[f], n) == 0) {
            j->target = f;
            break;
        }
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start,
    .yajl_end_array = on_end,
};

/* ---- the record ---------------------------------------------------------- */

static const char *str_of(const tr_jsonl *j, const jval *v)
{
    return v->s ? v->s : (const char *)j->scratch.data + v->off;
}

/* yajl checks UTF-8 structure only; the members kept are held to what the
 * analyser and the JSON output expect: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
static int valid_utf8(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        /* eight ASCII bytes at a time: most text is ASCII (this loop was
         * 1.7% of the instructions of indexing the passages, byte by byte) */
        uint64_t w8;
        if (end - p >= 8 && (memcpy(&w8, p, 8), !(w8 & 0x8080808080808080ull))) {
            p += 8;
            continue;
        }
        if (*p < 0x80) {
            p++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, end - p, &cp);
        if (k <= 0)
            return 0;
        p += k;
    }
    return 1;
}

/* An optional string member: missing or null = empty. */
static int opt_string(const tr_jsonl *j, int f, const char **p, size_t *n,
                      char *err, size_t errcap)
{
    const jval *v = &j->val[f];
    *p = "";
    *n = 0;
    if (v->type == JV_MISSING || v->type == JV_NULL)
        return 0;
    if (v->type != JV_STRING) {
        snprintf(err, errcap, "member \"%s\" is not a string", j->field[f]);
        return TR_EINPUT;
    }
    *p = str_of(j, v);
    *n = v->n;
    if (!valid_utf8(*p, *n)) {
        snprintf(err, errcap, "member \"%s\" is not valid UTF-8", j->field[f]);
        return TR_EINPUT;
    }
    return 0;
}

/* Runs yajl over the line; 0, TR_ENOMEM, or TR_EINPUT with err set. */
static int parse_line(tr_jsonl *j, const char *line, size_t len, char *err, size_t errcap)
{
    yajl_handle h = yajl_alloc(&callbacks, NULL, j);
    if (!h)
        return TR_ENOMEM;
    const unsigned char *u = (const unsigned char *)line;
    yajl_status st = yajl_parse(h, u, len);
    size_t at = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        at = len;                    /* what is missing is at the end */
    }
    int rc = 0;
    if (j->oom) {
        rc = TR_ENOMEM;
    } else if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(h, 0, u, len);
        /* yajl's message is "lexical error: ..." or "parse error: ...",
         * with a trailing newline. */
        size_t mlen = msg ? strcspn((const char *)msg, "\n") : 0;
        snprintf(err, errcap, "invalid JSON at column %zu: %.*s", at + 1, (int)mlen,
                 msg ? (const char *)msg : "");
        if (msg)
            yajl_free_error(h, msg);
        rc = TR_EINPUT;
    }
    yajl_free(h);
    return rc;
}

int tr_jsonl_parse(tr_jsonl *j, const char *line, size_t len, tr_doc_in *doc,
                   int *bad_date, char *err, size_t errcap)
{
    memset(doc, 0, sizeof *doc);
    doc->date = TR_NO_DATE;
    *bad_date = 0;
    j->line = line;
    j->len = len;
    j->depth = 0;
    j->is_object = 0;
    j->target = -1;
    j->oom = 0;
    j->scratch.len = 0;
    memset(j->val, 0, sizeof j->val);

    int rc = parse_line(j, line, len, err, errcap);
    if (rc)
        return rc;
    if (j->is_object != 1) {
        snprintf(err, errcap, "record is not a JSON object");
        return TR_EINPUT;
    }

    const jval *id = &j->val[F_ID];
    if (id->type == JV_MISSING) {
        snprintf(err, errcap, "missing \"%s\"", j->field[F_ID]);
        return TR_EINPUT;
    }
    if (id->type == JV_STRING) {
        doc->id = str_of(j, id);
        doc->id_len = id->n;
        if (memchr(doc->id, '\0', doc->id_len)) {
            snprintf(err, errcap, "\"%s\" contains a NUL character", j->field[F_ID]);
            return TR_EINPUT;
        }
        if (!valid_utf8(doc->id, doc->id_len)) {
            snprintf(err, errcap, "\"%s\" is not valid UTF-8", j->field[F_ID]);
            return TR_EINPUT;
        }
    } else if (id->type == JV_INTEGER) {
        snprintf(j->idbuf, sizeof j->idbuf, "%lld", id->i);
        doc->id = j->idbuf;
        doc->id_len = strlen(j->idbuf);
    } else {
        snprintf(err, errcap, "\"%s\" is not a string or integer", j->field[F_ID]);
        return TR_EINPUT;
    }
    if (doc->id_len == 0) {
        snprintf(err, errcap, "\"%s\" is empty", j->field[F_ID]);
        return TR_EINPUT;
    }
    if (doc->id_len > TR_MAX_ID_BYTES) {
        snprintf(err, errcap, "\"%s\" longer than %d bytes", j->field[F_ID], TR_MAX_ID_BYTES);
        return TR_EINPUT;
    }

    if ((rc = opt_string(j, F_BODY, &doc->body, &doc->body_len, err, errcap)) ||
        (rc = opt_string(j, F_TITLE, &doc->title, &doc->title_len, err, errcap)) ||
        (rc = opt_string(j, F_URL, &doc->url, &doc->url_len, err, errcap)))
        return rc;

    const jval *date = &j->val[F_DATE];
    if (date->type == JV_STRING) {
        int64_t t;
        if (tr_parse_date(str_of(j, date), date->n, &t) == 0)
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
