/* jsonl.c - one JSON Lines record -> one document. jansson parses the line
 * (it validates UTF-8 and rejects trailing garbage); this file checks the
 * members the indexer needs and their types. */
#include "source_int.h"
#include "date.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

struct tr_jsonl {
    char *id_field, *title_field, *body_field, *url_field, *date_field;
    json_t *cur;                     /* the record the last doc points into */
    char idbuf[32];                  /* an integer id, written out */
};

void tr_jsonl_free(tr_jsonl *j)
{
    if (!j)
        return;
    json_decref(j->cur);
    free(j->id_field);
    free(j->title_field);
    free(j->body_field);
    free(j->url_field);
    free(j->date_field);
    free(j);
}

int tr_jsonl_create(const tr_source_opts *o, tr_jsonl **out)
{
    *out = NULL;
    tr_jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return TR_ENOMEM;
    j->id_field = strdup(o->id_field ? o->id_field : "id");
    j->title_field = strdup(o->title_field ? o->title_field : "title");
    j->body_field = strdup(o->body_field ? o->body_field : "body");
    j->url_field = strdup(o->url_field ? o->url_field : "url");
    j->date_field = strdup(o->date_field ? o->date_field : "date");
    if (!j->id_field || !j->title_field || !j->body_field || !j->url_field || !j->date_field) {
        tr_jsonl_free(j);
        return TR_ENOMEM;
    }
    *out = j;
    return 0;
}

/* An optional string member: missing or null = empty. */
static int opt_string(json_t *obj, const char *name, const char **p, size_t *n,
                      char *err, size_t errcap)
{
    json_t *v = json_object_get(obj, name);
    *p = "";
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errcap, "member \"%s\" is not a string", name);
        return TR_EINPUT;
    }
    *p = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

int tr_jsonl_parse(tr_jsonl *j, const char *line, size_t len, tr_doc_in *doc,
                   int *bad_date, char *err, size_t errcap)
{
    memset(doc, 0, sizeof *doc);
    doc->date = TR_NO_DATE;
    *bad_date = 0;
    json_decref(j->cur);
    j->cur = NULL;

    json_error_t je;
    /* JSON_ALLOW_NUL: a "\u0000" escape inside a body is odd but harmless,
     * since every field travels with its length; the id is checked below. */
    json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, &je);
    if (!root) {
        snprintf(err, errcap, "invalid JSON at column %d: %s", je.column, je.text);
        return TR_EINPUT;
    }
    j->cur = root;
    if (!json_is_object(root)) {
        snprintf(err, errcap, "record is not a JSON object");
        return TR_EINPUT;
    }

    json_t *id = json_object_get(root, j->id_field);
    if (!id) {
        snprintf(err, errcap, "missing \"%s\"", j->id_field);
        return TR_EINPUT;
    }
    if (json_is_string(id)) {
        doc->id = json_string_value(id);
        doc->id_len = json_string_length(id);
        if (memchr(doc->id, '\0', doc->id_len)) {
            snprintf(err, errcap, "\"%s\" contains a NUL character", j->id_field);
            return TR_EINPUT;
        }
    } else if (json_is_integer(id)) {
        snprintf(j->idbuf, sizeof j->idbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        doc->id = j->idbuf;
        doc->id_len = strlen(j->idbuf);
    } else {
        snprintf(err, errcap, "\"%s\" is not a string or integer", j->id_field);
        return TR_EINPUT;
    }
    if (doc->id_len == 0) {
        snprintf(err, errcap, "\"%s\" is empty", j->id_field);
        return TR_EINPUT;
    }
    if (doc->id_len > TR_MAX_ID_BYTES) {
        snprintf(err, errcap, "\"%s\" longer than %d bytes", j->id_field, TR_MAX_ID_BYTES);
        return TR_EINPUT;
    }

    int rc;
    if ((rc = opt_string(root, j->body_field, &doc->body, &doc->body_len, err, errcap)) ||
        (rc = opt_string(root, j->title_field, &doc->title, &doc->title_len, err, errcap)) ||
        (rc = opt_string(root, j->url_field, &doc->url, &doc->url_len, err, errcap)))
        return rc;

    json_t *date = json_object_get(root, j->date_field);
    if (date && json_is_string(date)) {
        int64_t t;
        if (tr_parse_date(json_string_value(date), json_string_length(date), &t) == 0)
            doc->date = t;
        else
            *bad_date = 1;
    } else if (date && json_is_integer(date)) {
        doc->date = (int64_t)json_integer_value(date);
        if (doc->date == TR_NO_DATE) {
            doc->date = TR_NO_DATE;
            *bad_date = 1;
        }
    } else if (date && !json_is_null(date)) {
        *bad_date = 1;
    }
    return 0;
}
