/* analyze_cmd.c - `trawl-index --analyze`: runs the analysis pipeline on
 * command-line text or stdin and prints every term with its position and
 * byte offsets (see analyze_cmd.h). */
#include "analyze_cmd.h"
#include "analyze.h"

#include <stdio.h>
#include <string.h>

/* Read stdin in pieces of this size. */
#define STDIN_CHUNK 65536
/* Error text from tr_analyzer_new (it lists every language). */
#define ERRBUF_SIZE 2048

static int print_term(void *ctx, const tr_token *t)
{
    FILE *out = ctx;
    fprintf(out, "%u\t%u\t%u\t%.*s\n", t->pos, t->start, t->end, (int)t->len, t->term);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: trawl-index --analyze [--language NAME] [--no-fold-diacritics] "
                    "[--stopwords] [TEXT...]\n"
                    "languages: %s\n", tr_languages());
    return 2;
}

int tr_cmd_analyze(int argc, char **argv)
{
    tr_settings s;
    tr_settings_default(&s);
    int i = 0;
    for (; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) { i++; break; }
        if (strcmp(o, "--language") == 0) {
            if (i + 1 >= argc) return usage();
            const char *lang = argv[++i];
            if (strlen(lang) > TR_MAX_LANGUAGE) {
                fprintf(stderr, "trawl-index: unknown language '%.*s...'; known: %s\n",
                        TR_MAX_LANGUAGE, lang, tr_languages());
                return 2;
            }
            memset(s.language, 0, sizeof s.language);
            memcpy(s.language, lang, strlen(lang));
        } else if (strncmp(o, "--language=", 11) == 0) {
            const char *lang = o + 11;
            if (strlen(lang) > TR_MAX_LANGUAGE) {
                fprintf(stderr, "trawl-index: unknown language '%.*s...'; known: %s\n",
                        TR_MAX_LANGUAGE, lang, tr_languages());
                return 2;
            }
            memset(s.language, 0, sizeof s.language);
            memcpy(s.language, lang, strlen(lang));
        } else if (strcmp(o, "--no-fold-diacritics") == 0) {
            s.fold_diacritics = 0;
        } else if (strcmp(o, "--stopwords") == 0) {
            s.stopwords = 1;
        } else if (o[0] == '-' && o[1] == '-') {
            fprintf(stderr, "trawl-index: unknown option %s for --analyze\n", o);
            return usage();
        } else {
            break;
        }
    }

    char err[ERRBUF_SIZE];
    tr_analyzer *a = tr_analyzer_new(&s, err, sizeof err);
    if (!a) {
        fprintf(stderr, "trawl-index: %s\n", err);
        return 2;
    }

    tr_buf text = {0};
    int rc = 0;
    if (i < argc) {
        for (int k = i; k < argc && rc == 0; k++) {
            if (k > i) rc = tr_buf_append(&text, " ", 1);
            if (rc == 0) rc = tr_buf_append(&text, argv[k], strlen(argv[k]));
        }
    } else {
        for (;;) {
            if ((rc = tr_buf_reserve(&text, STDIN_CHUNK)) != 0) break;
            size_t n = fread(text.data + text.len, 1, STDIN_CHUNK, stdin);
            text.len += n;
            if (n < STDIN_CHUNK) {
                if (ferror(stdin)) {
                    fprintf(stderr, "trawl-index: reading stdin failed\n");
                    rc = TR_EIO;
                }
                break;
            }
        }
    }
    if (rc == 0) rc = tr_analyze(a, (const char *)text.data, text.len, 0, print_term, stdout);
    if (rc != 0 && rc != TR_EIO) fprintf(stderr, "trawl-index: analysis failed: %s\n", tr_strerror(rc));
    tr_buf_free(&text);
    tr_analyzer_free(a);
    if (fflush(stdout) != 0) rc = TR_EIO;
    return rc == 0 ? 0 : 1;
}
