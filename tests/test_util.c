/* test_util.c - the byte helpers and varints of trawl.h. */
#include "check.h"
#include "trawl.h"

int main(void)
{
    tr_buf b = {0};
    uint64_t vals[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) CHECK(tr_buf_put_varint(&b, vals[i]) == 0);
    const uint8_t *p = b.data, *end = b.data + b.len;
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        uint64_t v;
        CHECK(tr_get_varint(&p, end, &v) == 0);
        CHECK(v == vals[i]);
    }
    CHECK(p == end);
    uint64_t v;
    const uint8_t trunc[] = {0x80, 0x80};
    p = trunc;
    CHECK(tr_get_varint(&p, trunc + 2, &v) == TR_ECORRUPT);
    const uint8_t toolong[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    p = toolong;
    CHECK(tr_get_varint(&p, toolong + 10, &v) == TR_ECORRUPT);
    uint8_t k[4];
    tr_put_be32(k, 0x01020304);
    CHECK(k[0] == 1 && k[3] == 4 && tr_get_be32(k) == 0x01020304);
    tr_put_le32(k, 0x01020304);
    CHECK(k[0] == 4 && tr_get_le32(k) == 0x01020304);
    CHECK(strcmp(tr_strerror(TR_ECORRUPT), "index data is corrupt") == 0);
    tr_buf_free(&b);
    /* tables: zeroed, writable end to end, big ones 2 MiB-aligned (on huge
     * pages where the kernel gives them), each freed with its size */
    size_t sizes[] = { 0, 1, 4096, ((size_t)2 << 20) - 1, (size_t)2 << 20, ((size_t)5 << 20) + 3 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        uint8_t *t = tr_table_alloc(n);
        CHECK(t != NULL);
        if (!t) continue;
        int zero = 1;
        for (size_t j = 0; j < n; j += 4093) zero &= t[j] == 0;
        if (n) zero &= t[n - 1] == 0;
        CHECK(zero);
        if (n >= ((size_t)2 << 20)) CHECK(((uintptr_t)t & (((size_t)2 << 20) - 1)) == 0);
        memset(t, 0xa5, n);
        tr_table_free(t, n);
    }
    tr_table_free(NULL, 0);
    return check_done();
}
