/* fuzz_parse.c - libFuzzer harness for the query parser: any bytes, any mode
 * (first byte picks --and / --plain), must give a tree or a located error;
 * a tree is also printed, which walks every node. */
#include <stdio.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tr_analyzer *a;
    static FILE *devnull;
    if (!a) {
        tr_settings s;
        tr_settings_default(&s);
        a = tr_analyzer_new(&s, NULL, 0);
        devnull = fopen("/dev/null", "w");
        if (!a || !devnull) return 0;
    }
    if (size == 0) return 0;
    tq_opts o = { .default_and = data[0] & 1, .plain = (data[0] >> 1) & 1 };
    tq_query q;
    char err[256];
    if (tq_parse((const char *)data + 1, size - 1, a, &o, &q, err, sizeof err) == 0) {
        tq_print(&q, devnull);
        tq_query_free(&q);
    }
    return 0;
}
