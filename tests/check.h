/* check.h - the few assertion macros the C unit tests share. A failed CHECK
 * prints file:line and the expression and the test goes on; check_done()
 * turns the count into the exit status (0 pass, 1 fail). skip() exits 77,
 * which ctest reports as skipped. */
#ifndef TRAWL_CHECK_H
#define TRAWL_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures, check_count;

#define CHECK(e) do { check_count++; if (!(e)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #e); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); check_count++; \
    if (a_ != b_) { check_failures++; fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
    __FILE__, __LINE__, #a, #b, a_, b_); } } while (0)

static inline int check_done(void)
{
    if (check_count == 0) {
        fprintf(stderr, "no checks ran\n");
        return 1;
    }
    fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

static inline void skip(const char *why)
{
    fprintf(stderr, "SKIP: %s\n", why);
    exit(77);
}

#endif
