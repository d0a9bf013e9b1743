/* util.c - error names, the growable buffer, varints and big tables on huge
 * pages (see trawl.h). */
#include "trawl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *tr_table_alloc(size_t n)
{
    if (n < HUGE_PAGE) return calloc(1, n ? n : 1);
    size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *map = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    /* keep [p, p + len): the unaligned head (maybe none) and the tail
     * (at least a page: p is under map + HUGE_PAGE) go back */
    if (p > map) munmap(map, (size_t)(p - map));
    munmap(p + len, (size_t)(map + HUGE_PAGE - p));
    (void)madvise(p, len, MADV_HUGEPAGE);   /* a hint: 4 KiB pages work too */
    return p;
}

void tr_table_free(void *p, size_t n)
{
    if (!p) return;
    if (n < HUGE_PAGE) free(p);
    else munmap(p, (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}

const char *tr_strerror(int rc)
{
    switch (rc) {
    case TR_OK: return "ok";
    case TR_ENOMEM: return "out of memory";
    case TR_ECORRUPT: return "index data is corrupt";
    case TR_EFULL: return "index map is full";
    case TR_EINPUT: return "malformed input";
    case TR_EIO: return "input/output error";
    case TR_EVERSION: return "unsupported index format version";
    case TR_ELIMIT: return "limit exceeded";
    case TR_ENOTFOUND: return "not found";
    case TR_ELMDB: return "LMDB error";
    case TR_EBUSY: return "another process is writing the index";
    default: return "unknown error";
    }
}

void tr_set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || !errcap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

void tr_buf_free(tr_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int tr_u32_reserve(uint32_t **a, size_t *cap, size_t want, size_t first)
{
    if (want <= *cap) return TR_OK;
    size_t n = *cap ? *cap : first;
    while (n < want) n *= 2;
    uint32_t *p = realloc(*a, n * sizeof *p);
    if (!p) return TR_ENOMEM;
    *a = p;
    *cap = n;
    return TR_OK;
}

int tr_buf_reserve(tr_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return TR_OK;
    if (extra > SIZE_MAX / 2 - b->len) return TR_ENOMEM;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return TR_ENOMEM;
    b->data = p;
    b->cap = cap;
    return TR_OK;
}

int tr_buf_append(tr_buf *b, const void *p, size_t n)
{
    if (n == 0) return TR_OK;
    int rc = tr_buf_reserve(b, n);
    if (rc) return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return TR_OK;
}

int tr_buf_put_varint(tr_buf *b, uint64_t v)
{
    int rc = tr_buf_reserve(b, 10);
    if (rc) return rc;
    b->len = (size_t)(tr_put_varint(b->data + b->len, v) - b->data);
    return TR_OK;
}

int tr_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return TR_ECORRUPT;
        uint8_t c = *p++;
        if (shift == 63 && c > 1) return TR_ECORRUPT;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *pp = p;
            *out = v;
            return TR_OK;
        }
    }
    return TR_ECORRUPT;
}
