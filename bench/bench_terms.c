/* bench_terms.c - dictionary lookup timing through the public reader API
 * (so the same file builds against any format): ns per tr_reader_term of
 * every term in a shuffled order, of as many absent terms (each term with a
 * byte appended), and ns per term of a full tr_reader_prefix walk. Times
 * are the thread's CPU time, best of the repeats. BENCH_TERMS_NO_WALK=1
 * skips the walks after the first (for profiling lookups).
 *
 * usage: bench_terms INDEX_DIR [repeats] [max_terms] */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct terms {
    char *bytes;
    size_t len, cap;
    size_t *off;
    size_t n, ncap, max;
    uint64_t sum;
} terms;

static int collect(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    terms *t = ctx;
    if (t->n == t->ncap) {
        t->ncap = t->ncap ? 2 * t->ncap : 1 << 16;
        t->off = realloc(t->off, (t->ncap + 1) * sizeof *t->off);
    }
    if (t->len + len + 1 > t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1 << 20;
        t->bytes = realloc(t->bytes, t->cap);
    }
    if (!t->off || !t->bytes) return TR_ENOMEM;
    t->off[t->n++] = t->len;
    memcpy(t->bytes + t->len, term, len);
    t->len += len;
    t->off[t->n] = t->len;
    t->sum += info->df;
    return 0;
}

static int count_term(void *ctx, const char *term, size_t len, const tr_term_info *info)
{
    (void)term; (void)len;
    *(uint64_t *)ctx += info->df;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_terms INDEX_DIR [repeats] [max_terms]\n");
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    size_t maxn = argc > 3 ? (size_t)atol(argv[3]) : 200000;
    tr_index *ix;
    tr_reader *r;
    char err[256];
    if (tr_index_open(argv[1], &ix, err, sizeof err) || tr_reader_begin(ix, &r, err, sizeof err)) {
        fprintf(stderr, "bench_terms: %s\n", err);
        return 1;
    }
    terms t = {0};
    if (tr_reader_prefix(r, "", 0, SIZE_MAX, collect, &t)) { fprintf(stderr, "walk failed\n"); return 1; }
    size_t all = t.n;
    /* a fixed shuffle (xorshift), then the first maxn */
    size_t *ord = malloc(all * sizeof *ord);
    for (size_t i = 0; i < all; i++) ord[i] = i;
    uint64_t x = 88172645463325252ull;
    for (size_t i = all; i > 1; i--) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t j = (size_t)(x % i), tmp = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = tmp;
    }
    size_t n = all < maxn ? all : maxn;
    double best_hit = 1e300, best_miss = 1e300, best_walk = 1e300;
    char buf[TR_MAX_TERM_BYTES + 2];
    for (int rep = 0; rep < repeats; rep++) {
        uint64_t s = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            size_t k = ord[i];
            tr_term_info ti;
            if (tr_reader_term(r, t.bytes + t.off[k], t.off[k + 1] - t.off[k], &ti)) {
                fprintf(stderr, "lookup failed\n");
                return 1;
            }
            s += ti.df;
        }
        double t1 = now_ns();
        for (size_t i = 0; i < n; i++) {
            size_t k = ord[i], l = t.off[k + 1] - t.off[k];
            if (l > TR_MAX_TERM_BYTES - 1) l = TR_MAX_TERM_BYTES - 1;
            memcpy(buf, t.bytes + t.off[k], l);
            buf[l] = '\x01';
            tr_term_info ti;
            if (tr_reader_term(r, buf, l + 1, &ti) == 0) s++;
        }
        double t2 = now_ns();
        uint64_t ws = t.sum;
        if (rep == 0 || !getenv("BENCH_TERMS_NO_WALK")) {
            ws = 0;
            tr_reader_prefix(r, "", 0, SIZE_MAX, count_term, &ws);
        }
        double t3 = now_ns();
        if (ws != t.sum) { fprintf(stderr, "walk differs\n"); return 1; }
        if ((t1 - t0) < best_hit) best_hit = t1 - t0;
        if ((t2 - t1) < best_miss) best_miss = t2 - t1;
        if ((t3 - t2) < best_walk) best_walk = t3 - t2;
        (void)s;
    }
    printf("terms %zu, looked up %zu (best of %d)\n", all, n, repeats);
    printf("lookup hit   %8.1f ns\n", best_hit / (double)n);
    printf("lookup miss  %8.1f ns\n", best_miss / (double)n);
    printf("walk         %8.1f ns/term\n", best_walk / (double)all);
    tr_reader_end(r);
    tr_index_close(ix);
    free(ord);
    free(t.bytes);
    free(t.off);
    return 0;
}
