/* analyze.c - the text-analysis pipeline of analyze.h: a strict UTF-8
 * decoder that turns bad bytes into word breaks, a word scanner with the
 * joiner rules of docs/ANALYSIS.md, folding through utf8proc behind an ASCII
 * fast path, and a Snowball stemmer behind a direct-mapped stem cache.
 *
 * Cost model: every input byte is looked at a bounded number of times (a
 * joiner's neighbour is decoded twice); a word copies at most WORD_RAW_BYTES
 * of itself, so a 1 MB "word" is one linear pass and no allocation. Word
 * frequencies are Zipfian, so the stem cache answers most words without
 * running the stemmer. */
#include "analyze.h"
#include "analyze_internal.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
/* XXH3 inlined: the stem cache hashes every word, and a call through the
 * shared library costs as much as hashing a short word */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* Stem cache: 2-way sets (power of two) of 64-byte slots, one cache line
 * each. 64K sets = 8 MB per analyzer, touched lazily; enough to hold the
 * head of a Wikipedia-sized English vocabulary, where nearly all tokens
 * fall. A word whose word+stem exceed STEM_SLOT_TEXT bytes (over ~27
 * characters) is not cached. */
#define STEM_CACHE_SETS (1u << 16)
/* tr_analyzer_set_stem_cache_bytes may grow it up to this (64 MiB). */
#define STEM_CACHE_SETS_MAX (1u << 19)
/* In front of it, a direct-mapped table small enough to stay in the CPU's
 * L2 (4K slots = 256 KB) for the few thousand words that make up most
 * running text; the big table costs a memory access per word. */
#define STEM_FRONT_SLOTS (1u << 12)
#define STEM_SLOT_TEXT 54
/* Bytes of one word kept for folding. Folding can shrink text (stripped
 * marks, compatibility forms), so we keep well over TR_MAX_TERM_BYTES; the
 * rest of a longer word is scanned but not copied. */
#define WORD_RAW_BYTES 1024
/* Longest input tr_analyze accepts: offsets are uint32_t. */
#define ANALYZE_MAX_INPUT ((size_t)UINT32_MAX)
/* Longest stored settings text decode looks at. */
#define SETTINGS_TEXT_MAX 128
/* Room for every libstemmer name plus "none". */
#define LANGUAGES_TEXT_MAX 1024

/* ---- character classes -------------------------------------------------- */

enum {
    C_SEP,     /* breaks words: spaces, punctuation, symbols, controls, NUL */
    C_LETTER,  /* L* */
    C_DIGIT,   /* Nd: joins across '.' and ',' */
    C_NUMBER,  /* Nl, No: word characters that are not decimal digits */
    C_MARK,    /* M* */
    C_APOS,    /* ' ` U+2018 U+2019 U+02BC: joins two word characters */
    C_DOT,     /* . : joins digits (kept) and single-letter acronyms (dropped) */
    C_COMMA,   /* , : joins digits (dropped) */
    C_IGNORE,  /* soft hyphen, ZWJ, ZWNJ, word joiner: invisible inside a word */
    C_INVALID, /* an ill-formed UTF-8 sequence */
};
#define IS_WORD(c) ((c) >= C_LETTER && (c) <= C_MARK)

static uint8_t ascii_class[128];
static uint8_t ascii_alnum[256];    /* 1 for ASCII letters and digits, 0 for any other byte */
static char languages_text[LANGUAGES_TEXT_MAX];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    for (int c = 0; c < 128; c++) {
        uint8_t k = C_SEP;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = C_LETTER;
        else if (c >= '0' && c <= '9') k = C_DIGIT;
        else if (c == '\'' || c == '`') k = C_APOS;
        else if (c == '.') k = C_DOT;
        else if (c == ',') k = C_COMMA;
        ascii_class[c] = k;
        ascii_alnum[c] = k == C_LETTER || k == C_DIGIT;
    }
    size_t n = 0;
    for (const char **l = sb_stemmer_list(); *l; l++) {
        size_t k = strlen(*l);
        if (n + k + 2 >= sizeof languages_text - sizeof "none") break;
        memcpy(languages_text + n, *l, k);
        n += k;
        languages_text[n++] = ',';
    }
    memcpy(languages_text + n, "none", sizeof "none");
}

static int class_of_cp(int32_t cp)
{
    switch (cp) {
    case 0x2018: case 0x2019: case 0x02BC: return C_APOS;
    case 0x00AD: case 0x200C: case 0x200D: case 0x2060: return C_IGNORE;
    default: break;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND: return C_DIGIT;
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return C_NUMBER;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    default: return C_SEP;
    }
}

/* Decode one code point from s[0, avail), avail >= 1. Returns the bytes
 * consumed (>= 1). *cp is the code point, or -1 for an ill-formed sequence,
 * in which case the bytes consumed are its maximal ill-formed subpart (the
 * Unicode U+FFFD substitution practice): overlongs, surrogates, values over
 * U+10FFFF, stray continuation bytes and truncated tails all land here. */
static size_t utf8_decode(const uint8_t *s, size_t avail, int32_t *cp)
{
    uint8_t c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    int32_t v;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { need = 1; v = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; v = c & 0x07;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else { *cp = -1; return 1; }
    for (size_t i = 1; i <= need; i++) {
        if (i >= avail || s[i] < lo || s[i] > hi) { *cp = -1; return i; }
        lo = 0x80; hi = 0xBF;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return need + 1;
}

typedef struct uchar {
    int cls;
    int32_t cp;
    size_t n;
} uchar;

static inline void peek(const uint8_t *s, size_t len, size_t i, uchar *u)
{
    uint8_t c = s[i];
    if (c < 0x80) { u->cls = ascii_class[c]; u->cp = c; u->n = 1; return; }
    u->n = utf8_decode(s + i, len - i, &u->cp);
    u->cls = u->cp < 0 ? C_INVALID : class_of_cp(u->cp);
}

/* ---- the analyzer ------------------------------------------------------- */

typedef struct stem_slot {
    uint64_t hash;
    uint8_t wlen, slen; /* wlen 0: empty (words are never empty) */
    char text[STEM_SLOT_TEXT]; /* the word, then its stem */
} stem_slot;
_Static_assert(sizeof(stem_slot) == 64, "one stem slot per cache line");

struct tr_analyzer {
    tr_settings s;
    struct sb_stemmer *stemmer; /* NULL for "none" */
    stem_slot *cache;           /* 2 * sets then STEM_FRONT_SLOTS; NULL for "none" */
    void *cache_mem;            /* cache's allocation (cache is it 64-aligned) */
    size_t cache_bytes;         /* its size */
    int cache_table;            /* from tr_table_alloc, not calloc */
    size_t sets;                /* a power of two, STEM_CACHE_SETS at first */
    stem_slot *front;
    int use_cache;
    int stopwords;
    /* the word being built: ASCII already lowercased, joiners normalised */
    uint8_t raw[WORD_RAW_BYTES];
    size_t rawlen;
    int raw_nonascii, raw_capped;
    /* utf8proc scratch; reencoding writes UTF-8 back into it */
    int32_t *ucs;
    size_t ucs_cap;
    char stem_out[TR_MAX_TERM_BYTES + 1];
    char term[TR_MAX_TERM_BYTES + 1];
    tr_analyze_stats st;
};

/* English stopwords: function words only, sorted for bsearch. Content words
 * such as "new" or "state" stay searchable. */
static const char *const english_stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and",
    "any", "are", "as", "at", "be", "because", "been", "before", "being", "below",
    "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
    "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
    "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off",
    "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over",
    "own", "same", "she", "should", "so", "some", "such", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
    "would", "you", "your", "yours", "yourself", "yourselves",
};
#define N_ENGLISH_STOPWORDS (sizeof english_stopwords / sizeof english_stopwords[0])

typedef struct word_ref {
    const char *p;
    size_t n;
} word_ref;

static int stopword_cmp(const void *key, const void *elem)
{
    const word_ref *w = key;
    const char *s = *(const char *const *)elem;
    size_t sn = strlen(s);
    int c = memcmp(w->p, s, w->n < sn ? w->n : sn);
    if (c) return c;
    return w->n < sn ? -1 : w->n > sn;
}

static int is_stopword(const char *p, size_t n)
{
    word_ref w = {p, n};
    return bsearch(&w, english_stopwords, N_ENGLISH_STOPWORDS, sizeof english_stopwords[0],
                   stopword_cmp) != NULL;
}

static int is_known_language(const char *name)
{
    if (strcmp(name, "none") == 0) return 1;
    for (const char **l = sb_stemmer_list(); *l; l++)
        if (strcmp(*l, name) == 0) return 1;
    return 0;
}

const char *tr_languages(void)
{
    pthread_once(&init_once, init_tables);
    return languages_text;
}

void tr_settings_default(tr_settings *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->language, "english", sizeof "english");
    s->fold_diacritics = 1;
    s->stopwords = 0;
    s->max_term_bytes = TR_MAX_TERM_BYTES;
}

int tr_settings_encode(const tr_settings *s, char *buf, size_t cap)
{
    if (memchr(s->language, '\0', sizeof s->language) == NULL) return TR_EINPUT;
    int n = snprintf(buf, cap, "v1;language=%s;fold=%d;stop=%d;maxterm=%u", s->language,
                     s->fold_diacritics ? 1 : 0, s->stopwords ? 1 : 0, s->max_term_bytes);
    if (n < 0) return TR_EINPUT;
    if ((size_t)n >= cap) return TR_ELIMIT;
    return n;
}

/* "0" or "1" exactly. */
static int parse_flag(const char *v, int *out)
{
    if ((v[0] == '0' || v[0] == '1') && v[1] == '\0') { *out = v[0] - '0'; return 0; }
    return TR_EINPUT;
}

int tr_settings_decode(tr_settings *s, const char *buf, size_t len)
{
    char text[SETTINGS_TEXT_MAX + 1];
    if (len > SETTINGS_TEXT_MAX || memchr(buf, '\0', len)) return TR_EINPUT;
    memcpy(text, buf, len);
    text[len] = '\0';

    tr_settings t;
    memset(&t, 0, sizeof t);
    int have_lang = 0, have_fold = 0, have_stop = 0, have_max = 0;
    char *save = NULL;
    char *field = strtok_r(text, ";", &save);
    if (!field || strcmp(field, "v1") != 0 || len < 2 || buf[len - 1] == ';') return TR_EINPUT;
    /* strtok_r skips empty fields; refuse them so the text round-trips exactly */
    for (size_t i = 1; i < len; i++)
        if (buf[i] == ';' && buf[i - 1] == ';') return TR_EINPUT;
    while ((field = strtok_r(NULL, ";", &save)) != NULL) {
        char *eq = strchr(field, '=');
        if (!eq) return TR_EINPUT;
        *eq = '\0';
        const char *key = field, *val = eq + 1;
        if (strcmp(key, "language") == 0 && !have_lang) {
            size_t n = strlen(val);
            if (n == 0 || n > TR_MAX_LANGUAGE) return TR_EINPUT;
            for (size_t i = 0; i < n; i++)
                if (!((val[i] >= 'a' && val[i] <= 'z') || val[i] == '_')) return TR_EINPUT;
            if (!is_known_language(val)) return TR_EINPUT;
            memcpy(t.language, val, n + 1);
            have_lang = 1;
        } else if (strcmp(key, "fold") == 0 && !have_fold) {
            if (parse_flag(val, &t.fold_diacritics)) return TR_EINPUT;
            have_fold = 1;
        } else if (strcmp(key, "stop") == 0 && !have_stop) {
            if (parse_flag(val, &t.stopwords)) return TR_EINPUT;
            have_stop = 1;
        } else if (strcmp(key, "maxterm") == 0 && !have_max) {
            /* 1..TR_MAX_TERM_BYTES, decimal, no leading zero */
            size_t n = strlen(val);
            if (n == 0 || n > 2 || val[0] == '0') return TR_EINPUT;
            unsigned v = 0;
            for (size_t i = 0; i < n; i++) {
                if (val[i] < '0' || val[i] > '9') return TR_EINPUT;
                v = v * 10 + (unsigned)(val[i] - '0');
            }
            if (v < 1 || v > TR_MAX_TERM_BYTES) return TR_EINPUT;
            t.max_term_bytes = v;
            have_max = 1;
        } else {
            return TR_EINPUT; /* unknown or repeated key */
        }
    }
    if (!(have_lang && have_fold && have_stop && have_max)) return TR_EINPUT;
    *s = t;
    return 0;
}

/* Caches resized by tr_analyzer_set_stem_cache_bytes are big tables on huge
 * pages (tr_table_alloc): every word looks its set up at random, and with
 * 4 KiB pages a 32 MiB table missed the TLB on most lookups (a page walk,
 * costly in a VM: 11% of indexing CPU sat on the set's prefetch). */
static void stem_cache_release(tr_analyzer *a)
{
    if (a->cache_table) tr_table_free(a->cache_mem, a->cache_bytes);
    else free(a->cache_mem);
    a->cache_mem = NULL;
}

/* An empty cache of sets sets: calloc'ed (a big one comes zeroed from
 * mmap, so only the pages used count against the RSS), or with table set,
 * from tr_table_alloc. */
static int stem_cache_alloc(tr_analyzer *a, size_t sets, int table)
{
    size_t slots = 2 * sets + STEM_FRONT_SLOTS, bytes = (slots + 1) * sizeof(stem_slot);
    void *mem = table ? tr_table_alloc(bytes) : calloc(1, bytes);
    if (!mem) return TR_ENOMEM;
    stem_cache_release(a);
    a->cache_mem = mem;
    a->cache_table = table;
    a->cache_bytes = bytes;
    a->cache = (stem_slot *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    a->front = a->cache + 2 * sets;
    a->sets = sets;
    return TR_OK;
}

tr_analyzer *tr_analyzer_new(const tr_settings *s, char *err, size_t errcap)
{
    char dummy[1];
    if (!err || errcap == 0) { err = dummy; errcap = sizeof dummy; }
    err[0] = '\0';
    pthread_once(&init_once, init_tables);

    if (memchr(s->language, '\0', sizeof s->language) == NULL || !is_known_language(s->language)) {
        snprintf(err, errcap, "unknown language '%.*s'; known: %s", TR_MAX_LANGUAGE,
                 s->language, languages_text);
        return NULL;
    }
    if (s->max_term_bytes < 1 || s->max_term_bytes > TR_MAX_TERM_BYTES) {
        snprintf(err, errcap, "max_term_bytes %u out of range 1..%d", s->max_term_bytes,
                 TR_MAX_TERM_BYTES);
        return NULL;
    }
    if (s->stopwords && strcmp(s->language, "english") != 0 && strcmp(s->language, "porter") != 0) {
        snprintf(err, errcap, "no stopword list exists for language '%s' (only english)",
                 s->language);
        return NULL;
    }

    tr_analyzer *a = calloc(1, sizeof *a);
    if (!a) goto nomem;
    a->s = *s;
    a->s.fold_diacritics = s->fold_diacritics ? 1 : 0;
    a->s.stopwords = s->stopwords ? 1 : 0;
    a->stopwords = a->s.stopwords;
    a->use_cache = 1;
    if (strcmp(s->language, "none") != 0) {
        a->stemmer = sb_stemmer_new(s->language, "UTF_8");
        if (!a->stemmer) {
            snprintf(err, errcap, "cannot start the '%s' stemmer", s->language);
            tr_analyzer_free(a);
            return NULL;
        }
        if (stem_cache_alloc(a, STEM_CACHE_SETS, 0)) goto nomem;
    }
    a->ucs_cap = WORD_RAW_BYTES + 1;
    a->ucs = malloc(a->ucs_cap * sizeof *a->ucs);
    if (!a->ucs) goto nomem;
    return a;

nomem:
    tr_analyzer_free(a);
    snprintf(err, errcap, "out of memory");
    return NULL;
}

void tr_analyzer_free(tr_analyzer *a)
{
    if (!a) return;
    if (a->stemmer) sb_stemmer_delete(a->stemmer);
    stem_cache_release(a);
    free(a->ucs);
    free(a);
}

void tr_analyzer_set_stem_cache(tr_analyzer *a, int on)
{
    a->use_cache = on ? 1 : 0;
}

int tr_analyzer_set_stem_cache_bytes(tr_analyzer *a, size_t bytes)
{
    if (!a->stemmer) return TR_OK;
    size_t sets = STEM_CACHE_SETS;
    while (sets < STEM_CACHE_SETS_MAX && 4 * sets * sizeof(stem_slot) <= bytes) sets *= 2;
    return sets == a->sets && a->cache_table ? TR_OK : stem_cache_alloc(a, sets, 1);
}

void tr_analyzer_stats(const tr_analyzer *a, tr_analyze_stats *out)
{
    *out = a->st;
}

/* ---- folding ------------------------------------------------------------ */

/* Applied to each code point before decomposition: unify apostrophes, and
 * map U+0130 (capital I with dot) to plain i so that Turkish İlham meets
 * ilham even when diacritics are kept (full case folding would give
 * i + U+0307). */
static utf8proc_int32_t fold_custom(utf8proc_int32_t cp, void *data)
{
    (void)data;
    switch (cp) {
    case 0x0130: return 'i';
    case 0x2018: case 0x2019: case 0x02BC: case '`': return '\'';
    default: return cp;
    }
}

/* The diacritics that folding removes: the combining-mark blocks used over
 * Latin, Greek and Cyrillic letters. Marks of other scripts (Indic vowel
 * signs, viramas) are parts of their letters and are kept, which is why this
 * is not utf8proc's STRIPMARK. */
static int is_diacritic(int32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* Fold len bytes of valid UTF-8 (NFKC, case folding, diacritics per the
 * settings). On success *out points at the folded UTF-8 in a->ucs and
 * *out_len is its length. */
static int fold_utf8proc(tr_analyzer *a, const uint8_t *p, size_t len, const uint8_t **out,
                         size_t *out_len)
{
    const utf8proc_option_t opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD;
    utf8proc_ssize_t n;
    for (;;) {
        n = utf8proc_decompose_custom(p, (utf8proc_ssize_t)len, a->ucs,
                                      (utf8proc_ssize_t)a->ucs_cap - 1, opts, fold_custom, NULL);
        if (n < 0) {
            if (n == UTF8PROC_ERROR_NOMEM || n == UTF8PROC_ERROR_OVERFLOW) return TR_ENOMEM;
            *out_len = 0; /* cannot happen: the input was validated */
            return 0;
        }
        if ((size_t)n < a->ucs_cap) break;
        int32_t *bigger = realloc(a->ucs, ((size_t)n + 1) * sizeof *bigger);
        if (!bigger) return TR_ENOMEM;
        a->ucs = bigger;
        a->ucs_cap = (size_t)n + 1;
    }
    if (a->s.fold_diacritics) {
        utf8proc_ssize_t k = 0;
        for (utf8proc_ssize_t i = 0; i < n; i++)
            if (!is_diacritic(a->ucs[i])) a->ucs[k++] = a->ucs[i];
        n = k;
    }
    utf8proc_ssize_t m = utf8proc_reencode(a->ucs, n, UTF8PROC_COMPOSE);
    if (m < 0) return TR_ENOMEM;
    *out = (const uint8_t *)a->ucs;
    *out_len = (size_t)m;
    return 0;
}

/* Cut s to at most max bytes, at the last whole code point. */
static size_t cut_utf8(const uint8_t *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t k = max;
    while (k > 0 && (s[k] & 0xC0) == 0x80) k--;
    return k;
}

static inline void raw_put(tr_analyzer *a, const uint8_t *p, size_t n)
{
    if (a->raw_capped) return;
    if (a->rawlen + n > WORD_RAW_BYTES) { a->raw_capped = 1; return; }
    memcpy(a->raw + a->rawlen, p, n);
    a->rawlen += n;
}

/* Append one word character (ASCII lowercased here; others left to utf8proc). */
static inline void raw_put_char(tr_analyzer *a, const uint8_t *p, const uchar *u)
{
    if (u->n == 1 && u->cp < 0x80) {
        uint8_t c = (uint8_t)u->cp;
        if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
        if (!a->raw_capped && a->rawlen < WORD_RAW_BYTES) a->raw[a->rawlen++] = c;
        else a->raw_capped = 1;
    } else {
        a->raw_nonascii = 1;
        raw_put(a, p, u->n);
    }
}

/* Fold the collected word. Sets *out and *out_len to the folded, cut term. */
static int fold_word(tr_analyzer *a, int for_analysis, const uint8_t **out, size_t *out_len,
                     int *truncated)
{
    const uint8_t *f = a->raw;
    size_t n = a->rawlen;
    if (a->raw_nonascii) {
        int rc = fold_utf8proc(a, a->raw, a->rawlen, &f, &n);
        if (rc) return rc;
        if (for_analysis) {
            /* compatibility forms can bring in punctuation or spaces
             * (U+037A -> " ι", ½ -> "1⁄2"); a term holds only word
             * characters, apostrophes and dots */
            uint8_t *w = (uint8_t *)a->ucs;
            size_t k = 0;
            for (size_t i = 0; i < n;) {
                int32_t cp;
                size_t m = utf8_decode(w + i, n - i, &cp);
                int keep = cp < 0 ? 0
                         : cp < 0x80 ? ascii_class[cp] == C_LETTER || ascii_class[cp] == C_DIGIT ||
                                           cp == '\'' || cp == '.'
                                     : IS_WORD(class_of_cp(cp));
                if (keep) { memmove(w + k, w + i, m); k += m; }
                i += m;
            }
            n = k;
            while (n > 0 && (w[0] == '\'' || w[0] == '.')) { w++; n--; }
            f = w;
        }
    }
    size_t cut = cut_utf8(f, n, a->s.max_term_bytes);
    *truncated = a->raw_capped || cut < n;
    if (for_analysis)
        while (cut > 0 && (f[cut - 1] == '\'' || f[cut - 1] == '.')) cut--;
    *out = f;
    *out_len = cut;
    return 0;
}

/* ---- stemming ----------------------------------------------------------- */

/* The stem cache hash of a folded word, with its front slot and set
 * prefetched (0 without a cache). tr_analyze asks for it one word ahead of
 * the lookup: the big table misses the CPU caches on most lookups, and the
 * scan of the next word hides that latency. */
static inline uint64_t stem_prefetch(tr_analyzer *a, const char *w, size_t n)
{
    if (!a->stemmer || !a->use_cache) return 0;
    uint64_t h = XXH3_64bits(w, n);
    const stem_slot *set = &a->cache[2 * (h & (a->sets - 1))];
    __builtin_prefetch(&a->front[(h >> 40) & (STEM_FRONT_SLOTS - 1)]);
    __builtin_prefetch(set);
    __builtin_prefetch(set + 1);
    return h;
}

/* Stem a folded word of at most TR_MAX_TERM_BYTES whose stem_prefetch hash
 * is h; NULL when out of memory. */
static const char *stem_word(tr_analyzer *a, const char *w, size_t n, uint64_t h, size_t *out_len)
{
    if (!a->stemmer) { *out_len = n; return w; }
    stem_slot *set = NULL;
    if (a->use_cache) {
        stem_slot *fr = &a->front[(h >> 40) & (STEM_FRONT_SLOTS - 1)];
        if (fr->hash == h && fr->wlen == n && memcmp(fr->text, w, n) == 0) {
            a->st.stem_cache_hits++;
            *out_len = fr->slen;
            return fr->text + n;
        }
        set = &a->cache[2 * (h & (a->sets - 1))];
        for (int k = 0; k < 2; k++) {
            stem_slot *sl = &set[k];
            if (sl->hash == h && sl->wlen == n && memcmp(sl->text, w, n) == 0) {
                a->st.stem_cache_hits++;
                *fr = *sl;
                *out_len = fr->slen;
                return fr->text + n;
            }
        }
    }
    a->st.stem_cache_misses++;
    const sb_symbol *r = sb_stemmer_stem(a->stemmer, (const sb_symbol *)w, (int)n);
    if (!r) return NULL;
    int rl = sb_stemmer_length(a->stemmer);
    size_t sl = cut_utf8(r, rl > 0 ? (size_t)rl : 0, a->s.max_term_bytes);
    if (set && n + sl <= STEM_SLOT_TEXT) {
        /* the newest word goes first; the older one moves to the second way */
        set[1] = set[0];
        set[0].hash = h;
        set[0].wlen = (uint8_t)n;
        set[0].slen = (uint8_t)sl;
        memcpy(set[0].text, w, n);
        memcpy(set[0].text + n, r, sl);
        a->front[(h >> 40) & (STEM_FRONT_SLOTS - 1)] = set[0];
        *out_len = sl;
        return set[0].text + n;
    }
    memcpy(a->stem_out, r, sl);
    a->stem_out[sl] = '\0';
    *out_len = sl;
    return a->stem_out;
}

const char *tr_stem(tr_analyzer *a, const char *word, size_t len, size_t *out_len)
{
    if (len > a->s.max_term_bytes) len = cut_utf8((const uint8_t *)word, len, a->s.max_term_bytes);
    size_t n;
    const char *r = stem_word(a, word, len, stem_prefetch(a, word, len), &n);
    if (!r) { *out_len = 0; return NULL; }
    memmove(a->stem_out, r, n);
    a->stem_out[n] = '\0';
    *out_len = n;
    return a->stem_out;
}

int tr_fold(tr_analyzer *a, const char *text, size_t len, tr_buf *out)
{
    const uint8_t *s = (const uint8_t *)text;
    a->rawlen = 0;
    a->raw_nonascii = a->raw_capped = 0;
    for (size_t i = 0; i < len && !a->raw_capped;) {
        uchar u;
        peek(s, len, i, &u);
        if (u.cls == C_INVALID || u.cls == C_IGNORE) { i += u.n; continue; }
        if (u.cls == C_APOS) raw_put(a, (const uint8_t *)"'", 1);
        else raw_put_char(a, s + i, &u);
        i += u.n;
    }
    const uint8_t *f;
    size_t n;
    int truncated;
    int rc = fold_word(a, 0, &f, &n, &truncated);
    if (rc) return rc;
    tr_buf_clear(out);
    if (tr_buf_reserve(out, n + 1)) return TR_ENOMEM;
    memcpy(out->data, f, n);
    out->data[n] = '\0'; /* convenience; not counted in len */
    out->len = n;
    return 0;
}

/* ---- the scanner -------------------------------------------------------- */

/* A folded word waiting for its stem (see tr_analyze). */
typedef struct pending_word {
    char w[TR_MAX_TERM_BYTES];
    size_t n;
    uint64_t h;
    uint32_t pos, start, end;
    int have;
} pending_word;

static int emit_pending(tr_analyzer *a, const pending_word *pw, tr_token_fn fn, void *ctx)
{
    size_t tl;
    const char *t = stem_word(a, pw->w, pw->n, pw->h, &tl);
    if (!t) return TR_ENOMEM;
    if (tl == 0) { t = pw->w; tl = pw->n; } /* a stemmer never erases a word */
    memcpy(a->term, t, tl);
    a->term[tl] = '\0';
    tr_token tok = {a->term, (uint32_t)tl, pw->pos, pw->start, pw->end};
    a->st.terms++;
    return fn(ctx, &tok);
}

/* A letter followed by its marks, starting at i: returns the index after it,
 * or 0 if there is no letter at i. Appends it to the word. */
static size_t take_letter_group(tr_analyzer *a, const uint8_t *s, size_t len, size_t i)
{
    uchar u;
    if (i >= len) return 0;
    peek(s, len, i, &u);
    if (u.cls != C_LETTER) return 0;
    raw_put_char(a, s + i, &u);
    i += u.n;
    while (i < len) {
        peek(s, len, i, &u);
        if (u.cls != C_MARK) break;
        raw_put_char(a, s + i, &u);
        i += u.n;
    }
    return i;
}

/* Single letters joined by dots (U.S., U.S.A.): if one starts at i, collect
 * it (letters only) and return the end of its last letter; else 0 with the
 * word buffer reset. */
static size_t scan_acronym(tr_analyzer *a, const uint8_t *s, size_t len, size_t i)
{
    /* fast refusal for the common case: an ASCII letter followed by
     * anything ASCII but a dot */
    if (s[i] < 0x80 && (i + 1 >= len || (s[i + 1] < 0x80 && s[i + 1] != '.'))) return 0;
    size_t groups = 0, end = 0, mark = 0;
    size_t j = take_letter_group(a, s, len, i);
    while (j) {
        uchar u = {C_SEP, 0, 0};
        int more = j < len;
        if (more) peek(s, len, j, &u);
        if (more && IS_WORD(u.cls)) { a->rawlen = mark; break; } /* not a single letter */
        groups++;
        end = j;
        if (!more || u.cls != C_DOT) break;
        mark = a->rawlen;
        j = take_letter_group(a, s, len, j + 1);
        if (!j) { a->rawlen = mark; break; }
    }
    if (groups >= 2) return end; /* U.S.Army: the acronym is U.S */
    a->rawlen = 0;
    a->raw_nonascii = a->raw_capped = 0;
    return 0;
}

int tr_analyze(tr_analyzer *a, const char *text, size_t len, uint32_t first_pos,
               tr_token_fn fn, void *ctx)
{
    if (len > ANALYZE_MAX_INPUT) return TR_ELIMIT;
    const uint8_t *s = (const uint8_t *)text;
    uint32_t pos = first_pos;
    size_t i = 0;
    a->st.bytes += len;
    /* A word is stemmed and emitted once the next one is folded (or the
     * text ends), so that its cache lines, prefetched when it was folded,
     * have arrived: the tokens and their order are the same. */
    pending_word pw[2];                 /* [cur]: waiting; the other: being filled */
    int cur = 0;
    pw[0].have = 0;
    while (i < len) {
        uchar u;
        peek(s, len, i, &u);
        if (!IS_WORD(u.cls)) {
            if (u.cls == C_INVALID) a->st.invalid_utf8++;
            i += u.n;
            continue;
        }
        size_t start = i, end = 0;
        a->rawlen = 0;
        a->raw_nonascii = a->raw_capped = 0;
        if (u.cls == C_LETTER) {
            end = scan_acronym(a, s, len, i);
            if (end) i = end;
        }
        if (!end) {
            int last_digit = u.cls == C_DIGIT;
            raw_put_char(a, s + i, &u);
            i += u.n;
            while (i < len) {
                /* fast path: a run of ASCII letters and digits, found
                 * first and then copied, | 0x20 lowercasing letters and
                 * leaving digits alone; a character past the word buffer
                 * marks the word capped */
                size_t j = i;
                while (j < len && ascii_alnum[s[j]]) j++;
                if (j > i) {
                    size_t room = a->raw_capped ? 0 : WORD_RAW_BYTES - a->rawlen;
                    size_t take = j - i < room ? j - i : room;
                    for (size_t k = 0; k < take; k++) a->raw[a->rawlen + k] = (uint8_t)(s[i + k] | 0x20);
                    a->rawlen += take;
                    if (take < j - i) a->raw_capped = 1;
                    last_digit = ascii_class[s[j - 1]] == C_DIGIT;
                    i = j;
                    if (i >= len) break;
                }
                peek(s, len, i, &u);
                if (IS_WORD(u.cls)) {
                    raw_put_char(a, s + i, &u);
                    last_digit = u.cls == C_DIGIT;
                    i += u.n;
                    continue;
                }
                if (u.cls != C_APOS && u.cls != C_DOT && u.cls != C_COMMA && u.cls != C_IGNORE)
                    break;
                if (i + u.n >= len) break;
                uchar v;
                peek(s, len, i + u.n, &v);
                if (u.cls == C_APOS || u.cls == C_IGNORE) {
                    if (!IS_WORD(v.cls)) break;
                    if (u.cls == C_APOS) raw_put(a, (const uint8_t *)"'", 1);
                } else {
                    if (!(last_digit && v.cls == C_DIGIT)) break;
                    if (u.cls == C_DOT) raw_put(a, (const uint8_t *)".", 1);
                }
                i += u.n;
            }
            end = i;
        }

        const uint8_t *f;
        size_t n;
        int truncated;
        int rc = fold_word(a, 1, &f, &n, &truncated);
        if (rc) return rc;
        if (truncated) a->st.truncated_terms++;
        if (n == 0) continue; /* only marks, or nothing left after folding */
        if (a->stopwords && is_stopword((const char *)f, n)) { pos++; continue; }
        /* copied before the waiting word is emitted: fn may use the
         * analyzer (the snippet maker folds with it), which reuses the
         * buffers f points into */
        pending_word *nx = &pw[cur ^ 1];
        nx->h = stem_prefetch(a, (const char *)f, n);
        memcpy(nx->w, f, n);
        nx->n = n;
        nx->pos = pos++;
        nx->start = (uint32_t)start;
        nx->end = (uint32_t)end;
        nx->have = 1;
        if (pw[cur].have && (rc = emit_pending(a, &pw[cur], fn, ctx))) return rc;
        cur ^= 1;
    }
    return pw[cur].have ? emit_pending(a, &pw[cur], fn, ctx) : 0;
}
