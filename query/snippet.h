/* snippet.h - finding a query's words in a stored body: every matching word's
 * byte range, and the best passage to show (the window of about
 * TQ_SNIPPET_BYTES with the most distinct query terms, cut on word bounds).
 *
 * The body is re-analysed with the index's analyzer, so a word matches
 * exactly when the index would have produced a query term for it. */
#ifndef TRAWL_SNIPPET_H
#define TRAWL_SNIPPET_H

#include "trawl.h"
#include "analyze.h"
#include "parse.h"

/* Default passage length in bytes (a couple of lines on a terminal). */
#define TQ_SNIPPET_BYTES 200
/* Largest passage length accepted: keeps windows cheap to score. */
#define TQ_SNIPPET_MAX_BYTES 4096
/* Distinct positive terms/prefixes tracked for one query (the parser's
 * clause limit bounds it anyway; phrases add their terms). */
#define TQ_SNIPPET_MAX_TERMS (TQ_MAX_CLAUSES * 2)

/* The query's positive words: TERM and PHRASE terms (NEAR included) and
 * PREFIX prefixes, not under a MUST_NOT and not title-only. Opaque; the
 * strings are copied, so it outlives the tq_query. */
typedef struct tq_termset tq_termset;

/* Build from a parsed query. Returns 0 or TR_ENOMEM. */
int tq_termset_new(const tq_query *q, tq_termset **out);
/* Build from explicit lists (tests): terms are analysed terms, prefixes are
 * folded prefixes. Either list may be empty. */
int tq_termset_from_lists(const char *const *terms, size_t nterms,
                          const char *const *prefixes, size_t nprefixes,
                          tq_termset **out);
void tq_termset_free(tq_termset *ts); /* accepts NULL */
size_t tq_termset_size(const tq_termset *ts);

typedef struct tq_span {
    uint32_t start, end;        /* byte range [start, end) in the body */
    uint32_t term;              /* which termset entry matched */
} tq_span;

/* One body's matches and chosen passage. Owns its arrays; reuse it across
 * documents (tq_snippet_make clears it) and free with tq_snippet_free. */
typedef struct tq_snippet {
    tq_span *matches; size_t nmatches, cap;  /* every match, in body order */
    size_t win_start, win_end;               /* the passage [win_start, win_end) */
    int cut_before, cut_after;               /* body continues before / after it */
    size_t win_terms;                        /* distinct terms inside the passage */
    /* private: word bounds of the body */
    uint32_t *bounds; size_t nbounds, bounds_cap;
    uint32_t *counts; size_t counts_cap;
    tr_buf fold;
} tq_snippet;

/* Analyse body (len bytes, any bytes) and fill sn. width is the passage
 * length wanted (clamped to 16..TQ_SNIPPET_MAX_BYTES). The passage starts
 * and ends on word bounds (or the body's ends), never inside a UTF-8
 * sequence; with no match it is the body's beginning. Returns 0 or
 * TR_ENOMEM. */
int tq_snippet_make(tr_analyzer *a, const tq_termset *ts, const char *body, size_t len,
                    size_t width, tq_snippet *sn);
void tq_snippet_free(tq_snippet *sn);

#endif
