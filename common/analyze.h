/* analyze.h - the text-analysis pipeline: UTF-8 bytes -> folded words ->
 * Snowball stems, each with its position and byte offsets in the input.
 *
 * Documents and queries go through the same pipeline, configured by one
 * tr_settings value that the index stores (see tr_settings_encode), so a
 * query is analysed exactly as the documents were. */
#ifndef TRAWL_ANALYZE_H
#define TRAWL_ANALYZE_H

#include "trawl.h"

/* Longest term kept, in bytes of folded UTF-8. A longer word is cut to the
 * last whole code point at or before this length (so it can never become an
 * over-long LMDB key, whose limit is 511 bytes with the term id and prefix). */
#define TR_MAX_TERM_BYTES 64
/* Longest language name accepted (libstemmer names are short). */
#define TR_MAX_LANGUAGE 31

typedef struct tr_settings {
    char language[TR_MAX_LANGUAGE + 1]; /* libstemmer algorithm, or "none" */
    int fold_diacritics;                /* 1: strip accents (default) */
    int stopwords;                      /* 1: drop the language's stopwords (default 0) */
    unsigned max_term_bytes;            /* <= TR_MAX_TERM_BYTES (default it) */
} tr_settings;

/* Defaults: english, fold diacritics, no stopwords, TR_MAX_TERM_BYTES. */
void tr_settings_default(tr_settings *s);

/* Stored form of the settings (what the index's meta records): a short
 * text "v1;language=english;fold=1;stop=0;maxterm=64". encode returns bytes
 * written (without NUL) or TR_ELIMIT if cap is too small; decode returns
 * TR_EINPUT for anything it does not recognise. */
int tr_settings_encode(const tr_settings *s, char *buf, size_t cap);
int tr_settings_decode(tr_settings *s, const char *buf, size_t len);

/* Comma-separated list of every language libstemmer ships, plus "none".
 * Static storage. */
const char *tr_languages(void);

/* One term. `term` points into the analyzer's scratch space and is valid
 * until the callback returns. start/end are byte offsets [start, end) of the
 * word in the original input; pos counts terms (first = first_pos given to
 * tr_analyze; stopwords, when removed, still take a position). */
typedef struct tr_token {
    const char *term;
    uint32_t len;
    uint32_t pos;
    uint32_t start, end;
} tr_token;

/* Return 0 to continue, non-zero to stop (tr_analyze then returns it). */
typedef int (*tr_token_fn)(void *ctx, const tr_token *t);

/* An analyzer holds a stemmer and a stem cache: one per thread. */
typedef struct tr_analyzer tr_analyzer;

/* Returns NULL and writes a message to err (if non-NULL, cap errcap) for an
 * unknown language or out of memory. */
tr_analyzer *tr_analyzer_new(const tr_settings *s, char *err, size_t errcap);
void tr_analyzer_free(tr_analyzer *a); /* accepts NULL */

/* Size the stem cache (a stemming analyzer's table of recent words and
 * their stems) to at most bytes, but never below its default 8 MiB nor
 * above 64 MiB; the cache starts empty again. Tokens are the same at any
 * size: a bigger cache only calls the stemmer less often (passages: 1.82M
 * calls at 8 MiB, 0.85M at 32 MiB). Returns 0 or TR_ENOMEM (the cache
 * is then unchanged). */
int tr_analyzer_set_stem_cache_bytes(tr_analyzer *a, size_t bytes);

/* Analyse len bytes of text (need not be NUL-terminated). Calls fn for every
 * term in order. Returns 0, fn's non-zero value, or TR_ENOMEM. Never reads
 * outside [text, text+len), whatever the bytes. */
int tr_analyze(tr_analyzer *a, const char *text, size_t len, uint32_t first_pos,
               tr_token_fn fn, void *ctx);

/* Fold one word as documents' words are folded (NFKC, case folding,
 * diacritics per the settings; apostrophes unified) but without splitting
 * or stemming: what prefix queries match against. Replaces out's contents.
 * Returns 0 or TR_ENOMEM. */
int tr_fold(tr_analyzer *a, const char *text, size_t len, tr_buf *out);

/* Stem one folded word (as tr_analyze would): result valid until the next
 * call on this analyzer. */
const char *tr_stem(tr_analyzer *a, const char *word, size_t len, size_t *out_len);

/* Counters since the analyzer was made. */
typedef struct tr_analyze_stats {
    uint64_t bytes, terms;
    uint64_t invalid_utf8;   /* invalid/overlong/surrogate/truncated sequences */
    uint64_t truncated_terms;
    uint64_t stem_cache_hits, stem_cache_misses;
} tr_analyze_stats;
void tr_analyzer_stats(const tr_analyzer *a, tr_analyze_stats *out);

#endif
