/* parse.h - the query language: text -> query tree.
 *
 * Grammar (lenient: anything typed gives a tree or one located error):
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := unary ( ["AND"] unary )*     juxtaposition = default operator
 *   unary   := "NOT" unary | "+" primary | "-" primary | primary
 *   primary := "(" query ")" | field? atom
 *   field   := ("title" | "body") ":"
 *   atom    := word | word "*" | '"' words '"' | '"' words '"' NEAR/n ...
 *   near    := atom "NEAR/" n atom            (within n positions, any order)
 * Precedence NOT > AND > OR. The default operator is OR (ranked, as in
 * Lucene and Xapian) unless tq_opts.default_and. Words go through the index's
 * analyzer; a word that analyses into several terms (COP-29, U.S.) becomes a
 * phrase; one that analyses to nothing (punctuation, a removed stopword) is
 * dropped. */
#ifndef TRAWL_PARSE_H
#define TRAWL_PARSE_H

#include "trawl.h"
#include "analyze.h"

#include <stdio.h>

/* Limits, checked while parsing (the error names the limit). */
#define TQ_MAX_DEPTH 32          /* nesting of parentheses/operators */
#define TQ_MAX_CLAUSES 1024      /* terms and phrases in one query */
#define TQ_MAX_PHRASE_TERMS 64   /* terms in one phrase */
#define TQ_MAX_QUERY_BYTES 65536 /* query text */
#define TQ_MAX_NEAR 1000         /* largest n in NEAR/n */
/* Weight of a term that a plain query repeats qtf times: BM25's query-term
 * saturation (Robertson's k3), tuned on the relevance collections. */
#define TQ_QTF_K3 12.0
#define TQ_QTF_WEIGHT(qtf) ((qtf) * (TQ_QTF_K3 + 1.0) / ((qtf) + TQ_QTF_K3))

typedef enum tq_kind {
    TQ_TERM,    /* one analysed term */
    TQ_PREFIX,  /* folded, unstemmed prefix: expanded against the dictionary */
    TQ_PHRASE,  /* terms at fixed relative offsets (offset[i]), in a field */
    TQ_NEAR,    /* kids (TERM or PHRASE) all within `slop` positions, any order */
    TQ_BOOL,    /* clauses with occur MUST / SHOULD / MUST_NOT */
    TQ_NONE,    /* matches nothing (e.g. a query of stopwords only) */
} tq_kind;

enum { TQ_FIELD_ANY = 0, TQ_FIELD_TITLE = 1, TQ_FIELD_BODY = 2 };
enum { TQ_SHOULD = 0, TQ_MUST = 1, TQ_MUST_NOT = 2 };

typedef struct tq_node tq_node;
struct tq_node {
    tq_kind kind;
    int field;                  /* TQ_FIELD_* (TERM, PREFIX, PHRASE, NEAR) */
    int occur;                  /* TQ_SHOULD/MUST/MUST_NOT: role in the parent BOOL */
    char *text; size_t len;     /* TERM: the term; PREFIX: the prefix */
    char **terms; size_t *term_lens; uint32_t *offsets; size_t nterms; /* PHRASE */
    uint32_t slop;              /* NEAR */
    double weight;              /* multiplies the clause's score (1; in plain
                                   mode it grows with the term's repeats) */
    tq_node **kids; size_t nkids; /* BOOL, NEAR */
    uint32_t src_start, src_end;  /* byte range in the query text */
};

typedef struct tq_opts {
    int default_and;            /* juxtaposition means AND (--and) */
    int plain;                  /* no operators at all: every word is a SHOULD term
                                   (relevance topics; AND, -dash, quotes are words);
                                   a repeated word is one clause weighted by
                                   TQ_QTF_WEIGHT(repeats) */
} tq_opts;

typedef struct tq_query {
    tq_node *root;              /* never NULL after a successful parse */
    int64_t after, before;      /* date filter from date:>=.. syntax, TR_NO_DATE if none
                                   (INT64_MIN); the CLI's --after/--before override */
    /* private: arena */
    void *arena;
} tq_query;

/* Parse text (len bytes, any bytes) with analyzer a. On error returns
 * TR_EINPUT or TR_ELIMIT and writes "column N: what is wrong" to err. */
int tq_parse(const char *text, size_t len, tr_analyzer *a, const tq_opts *o,
             tq_query *out, char *err, size_t errcap);
void tq_query_free(tq_query *q);

/* Print the tree (for --parse), one node per line, indented. */
void tq_print(const tq_query *q, FILE *f);

#endif
