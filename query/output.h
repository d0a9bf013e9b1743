/* output.h - how trawl-query prints hits: human (with an optional ANSI
 * highlighted snippet), JSON lines, TREC run lines, and explanations.
 * Every function writes to a FILE and returns 0 or TR_EIO when the write
 * failed (a closed pipe, a full disk). Document fields are bytes from the
 * index: printed text is made safe (control bytes become spaces, JSON is
 * escaped with invalid UTF-8 turned into U+FFFD). */
#ifndef TRAWL_OUTPUT_H
#define TRAWL_OUTPUT_H

#include "trawl.h"
#include "index.h"
#include "snippet.h"

#include <stdio.h>

/* One hit with everything a format may print. body/sn may be NULL/empty
 * (TREC needs neither). qid is NULL outside batch mode. */
typedef struct tq_out_hit {
    const char *qid;
    size_t rank;                /* 1-based */
    double score;
    const tr_doc_view *doc;
    const char *body; size_t body_len;
    const tq_snippet *sn;
} tq_out_hit;

/* An explanation line (--explain), gathered before printing. */
typedef struct tq_out_expl {
    char *what;
    double contribution;
} tq_out_expl;

/* JSON string literal of len bytes (quotes included). */
int tq_out_json_string(FILE *f, const char *s, size_t len);

/* "YYYY-MM-DD" of a date in seconds (UTC) into buf (>= 11 bytes); returns 0,
 * or TR_EINPUT for TR_NO_DATE or a date outside years 0..9999. */
int tq_out_date(int64_t date, char *buf, size_t cap);

/* The snippet's passage as one line: whitespace runs become one space,
 * control bytes become spaces, "..." where the body was cut, matches
 * wrapped in hl_on/hl_off (NULL: no markers). */
int tq_out_snippet(FILE *f, const char *body, size_t body_len, const tq_snippet *sn,
                   const char *hl_on, const char *hl_off);

/* Human: "rank. score  id  title" then the snippet indented on the next
 * line, then explanations (if any) indented further. */
int tq_out_human(FILE *f, const tq_out_hit *h, int color,
                 const tq_out_expl *ex, size_t nex);

/* One JSON object on one line: rank, score, id, title, url, date, snippet,
 * matches (byte ranges of every match in the body), "qid" in batch mode,
 * and "explain" (the nex lines of ex) when with_explain. */
int tq_out_json(FILE *f, const tq_out_hit *h, int with_explain,
                const tq_out_expl *ex, size_t nex);

/* "qid Q0 docid rank score runtag" (qid "1" when h->qid is NULL). */
int tq_out_trec(FILE *f, const tq_out_hit *h, const char *runtag);

#endif
