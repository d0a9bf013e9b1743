/* fuzz_analyze.c - libFuzzer harness for the analyzer: tokenising, folding
 * and stemming any bytes; every token must lie inside the input and be at
 * most TR_MAX_TERM_BYTES long, positions must not go backwards. */
#include <stdlib.h>

#include "analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen { size_t len; uint32_t last_pos; int any; } seen;

static int on_token(void *ctx, const tr_token *t)
{
    seen *s = ctx;
    if (t->len == 0 || t->len > TR_MAX_TERM_BYTES || t->start > t->end || t->end > s->len ||
        (s->any && t->pos < s->last_pos))
        abort(); /* a broken promise of analyze.h: the fuzzer reports it */
    volatile char c = t->term[t->len - 1]; /* the term bytes must be readable */
    (void)c;
    s->last_pos = t->pos;
    s->any = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tr_analyzer *a[2];
    if (!a[0]) {
        tr_settings s;
        tr_settings_default(&s);
        a[0] = tr_analyzer_new(&s, NULL, 0);
        s.fold_diacritics = 0;
        s.stopwords = 1;
        a[1] = tr_analyzer_new(&s, NULL, 0);
        if (!a[0] || !a[1]) return 0;
    }
    if (size == 0) return 0;
    tr_analyzer *an = a[data[0] & 1];
    seen s = { .len = size - 1 };
    tr_analyze(an, (const char *)data + 1, size - 1, 0, on_token, &s);
    tr_buf b = {0};
    tr_fold(an, (const char *)data + 1, size - 1, &b);
    tr_buf_free(&b);
    return 0;
}
