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
    return check_done();
}
