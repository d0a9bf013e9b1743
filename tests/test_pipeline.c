/* test_pipeline.c - the input reader thread (indexer/pipeline.c): records
 * come out whole and in input order through the slabs they are copied
 * into, whatever their size against a slab (small ones packed many to a
 * slab, ones bigger than a slab in one of their own), bad records come out
 * as errors in their place, and closing the pipe with records still queued
 * or handed out releases every slab (ASan's leak check in CI). */
#include "check.h"
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOCS 1200

static char path[512];

/* The body of record i: a length that cycles through tiny ones, one
 * bigger than the smallest slab (64 KiB) and, now and then, one bigger
 * than the largest (1 MiB); the content depends on the record. */
static size_t body_len(int i)
{
    static const size_t sizes[] = { 1, 30, 700, 5000, 70000, 200 };
    return i % 300 == 5 ? (size_t)3 << 20 : sizes[i % 6];
}

static void body_fill(char *b, size_t n, int i)
{
    for (size_t k = 0; k < n; k++) b[k] = (char)('a' + (i + (int)k) % 26);
}

static void write_input(void)
{
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    char *b = malloc((size_t)4 << 20);
    if (!b) exit(1);
    for (int i = 0; i < DOCS; i++) {
        if (i % 500 == 250) fputs("{\"id\": \"broken\", \"body\": \n", f);  /* bad JSON */
        size_t n = body_len(i);
        body_fill(b, n, i);
        fprintf(f, "{\"id\": \"d%d\", \"title\": \"t%d\", \"body\": \"", i, i);
        fwrite(b, 1, n, f);
        fputs("\"}\n", f);
    }
    free(b);
    fclose(f);
}

/* Read everything through a pipe with the given queue bound. */
static void read_all(size_t queue_bytes)
{
    tr_pipe *p;
    char err[512];
    CHECK_EQ_INT(tr_pipe_open(path, NULL, queue_bytes, &p, err, sizeof err), TR_OK);
    char *want = malloc((size_t)4 << 20);
    int next = 0, errors = 0, bad_body = 0, rc;
    tr_doc_in d;
    while ((rc = tr_pipe_next(p, &d, err, sizeof err)) != 0) {
        if (rc == TR_EINPUT) {
            errors++;
            CHECK(strstr(err, "invalid JSON") != NULL);
            continue;
        }
        CHECK_EQ_INT(rc, 1);
        if (rc != 1) break;
        char id[32];
        snprintf(id, sizeof id, "d%d", next);
        size_t n = body_len(next);
        body_fill(want, n, next);
        CHECK(d.id_len == strlen(id) && !memcmp(d.id, id, d.id_len));
        if (d.body_len != n || memcmp(d.body, want, n)) bad_body++;
        next++;
    }
    CHECK_EQ_INT(next, DOCS);
    CHECK_EQ_INT(errors, DOCS / 500);
    CHECK_EQ_INT(bad_body, 0);
    tr_pipe_close(p);
    free(want);
}

/* Stop after a few records: the queue and the reader's slab still hold
 * records when the pipe closes. */
static void close_early(size_t queue_bytes)
{
    tr_pipe *p;
    char err[512];
    CHECK_EQ_INT(tr_pipe_open(path, NULL, queue_bytes, &p, err, sizeof err), TR_OK);
    tr_doc_in d;
    int got = 0;
    for (int i = 0; i < 40; i++)
        if (tr_pipe_next(p, &d, err, sizeof err) == 1) got++;
    CHECK_EQ_INT(got, 40);
    usleep(20000);              /* let the reader fill the queue */
    tr_pipe_close(p);
}

int main(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/test_pipeline.%d.jsonl", base, (int)getpid());
    write_input();
    read_all(0);                /* default queue: 1 MiB slabs */
    read_all(512 << 10);        /* 64 KiB slabs: 70 KB records get their own */
    read_all(1);                /* the smallest bound: one record at a time */
    close_early(0);
    close_early(512 << 10);
    unlink(path);
    return check_done();
}
