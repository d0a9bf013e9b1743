/* check_cmd.c - `trawl-index --check`: runs the integrity checker and prints
 * a located report (one line per problem) and a summary of what was read. */
#include "check_cmd.h"

#include "check.h"

#include <stdio.h>

static void report(void *ctx, const char *db, const char *key, const char *what)
{
    (void)ctx;
    printf("%s: %s: %s\n", db, key, what);
}

int tr_cmd_check(const char *dir, int quick)
{
    char err[512] = "";
    tr_check_counts n;
    int rc = tr_check_index(dir, quick, report, NULL, &n, err, sizeof err);
    if (rc && rc != TR_ECORRUPT) {
        fprintf(stderr, "trawl-index: %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        return 2;
    }
    printf("%s check of %s: %llu terms, %llu chunks, %llu blocks, %llu postings, %llu positions, "
           "%llu documents (%llu deleted, %llu body bytes), %llu ids\n",
           quick ? "quick" : "full", dir, (unsigned long long)n.terms, (unsigned long long)n.chunks,
           (unsigned long long)n.blocks, (unsigned long long)n.postings, (unsigned long long)n.positions,
           (unsigned long long)n.docs, (unsigned long long)n.deleted, (unsigned long long)n.body_bytes,
           (unsigned long long)n.ids);
    if (n.problems) {
        printf("%llu problem%s found%s\n", (unsigned long long)n.problems, n.problems == 1 ? "" : "s",
               n.problems > TR_CHECK_MAX_REPORTS ? " (only the first ones are listed)" : "");
        return 1;
    }
    printf("no problems found\n");
    return 0;
}
