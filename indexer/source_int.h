/* source_int.h - what source.c (walking and dispatch) shares with jsonl.c
 * (one JSON record -> document) and pages.c (one text/HTML page ->
 * document). Not for use outside the input layer. */
#ifndef TRAWL_SOURCE_INT_H
#define TRAWL_SOURCE_INT_H

#include "source.h"

/* Extracted fields of one record. Each extractor owns its storage; the
 * pointers it sets stay valid until its next call or its free. */
typedef struct tr_jsonl tr_jsonl;

int tr_jsonl_create(const tr_source_opts *o, tr_jsonl **out);
void tr_jsonl_free(tr_jsonl *j);
/* Parse one line. 0 = document in *doc; TR_EINPUT with the problem (no file
 * or line prefix) in err. *bad_date is set to 1 when a date was present but
 * not understood. */
int tr_jsonl_parse(tr_jsonl *j, const char *line, size_t len, tr_doc_in *doc,
                   int *bad_date, char *err, size_t errcap);

typedef struct tr_page tr_page;

int tr_page_create(tr_page **out);
void tr_page_free(tr_page *p);
/* Fill doc from a whole page file (title, body, date; not the id). */
int tr_page_text(tr_page *p, const uint8_t *data, size_t len, tr_doc_in *doc);
int tr_page_html(tr_page *p, const uint8_t *data, size_t len, tr_doc_in *doc,
                 int *bad_date);

#endif
