/* source_int.h - what source.c (walking and dispatch) shares with jsonl.c
 * (one JSON record -> document) and pages.c (one text/HTML page ->
 * document). Not for use outside the input layer. */
#ifndef TRAWL_SOURCE_INT_H
#define TRAWL_SOURCE_INT_H

#include "source.h"
#include "stream.h"

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

/* ---- record formats: many documents per file, read incrementally ------
 * Each reader borrows the file's tr_lines (pulling bytes with tr_lines_read)
 * and the file's name for messages. next returns 1 = document in *doc
 * (valid until the next call), 0 = end of the file, TR_EINPUT = one bad
 * record skipped ("FILE: byte OFFSET: problem"; call again), TR_EIO = the
 * rest of the file is unreadable (after every document before it), or
 * TR_ENOMEM. *bad_date is set when a date was present but not understood. */
typedef struct tr_records tr_records;
int tr_wiki_open(tr_lines *l, const char *path, size_t max_record, tr_records **out);
int tr_trec_open(tr_lines *l, const char *path, size_t max_record, tr_records **out);
int tr_warc_open(tr_lines *l, const char *path, size_t max_record, tr_records **out);
int tr_records_next(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap);
void tr_records_close(tr_records *r); /* accepts NULL */

/* Shared shape of the readers: wiki.c, trec.c and warc.c embed this first. */
struct tr_records {
    int (*next)(tr_records *r, tr_doc_in *doc, int *bad_date, char *err, size_t errcap);
    void (*close)(tr_records *r);
};

/* Wiki markup -> readable text into out (replacing it); tmp1/tmp2 are
 * scratch buffers the caller keeps between calls. 0 or TR_ENOMEM. */
int tr_wikitext_to_text(const uint8_t *s, size_t n, tr_buf *out, tr_buf *tmp1, tr_buf *tmp2);

/* Article extraction from a scraped page (extract.c): fills title, body
 * and date of doc (pointers valid until the next call) from the main text,
 * leaving out navigation, share lines and headline lists. Returns 1 = an
 * article was found, 0 = none (doc then holds the page's whole text),
 * TR_EINPUT with why = "unknown charset 'X'", TR_ELIMIT, TR_ENOMEM.
 * charset: from an HTTP header, or NULL to use <meta> (else UTF-8). */
typedef struct tr_extract tr_extract;
int tr_extract_create(tr_extract **out);
void tr_extract_free(tr_extract *x);
int tr_extract_html(tr_extract *x, const uint8_t *data, size_t len, const char *charset,
                    tr_doc_in *doc, int *bad_date, char *why, size_t whycap);
int tr_extract_text(tr_extract *x, const uint8_t *data, size_t len, tr_doc_in *doc,
                    int *bad_date);

#endif
