/* trawl.h - error codes, limits and small byte helpers shared by every module.
 *
 * Fallible functions return int: 0 (TR_OK) or one of the negative codes below;
 * tr_strerror() names them. Human error text with context (file, offset, term)
 * travels separately, through a caller-supplied buffer or error object. */
#ifndef TRAWL_H
#define TRAWL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRAWL_VERSION "0.1.0"

enum {
    TR_OK = 0,
    TR_ENOMEM = -1,    /* allocation failed */
    TR_ECORRUPT = -2,  /* stored data fails a check: checksum, length, order */
    TR_EFULL = -3,     /* LMDB map full (the writer grows the map and retries) */
    TR_EINPUT = -4,    /* malformed input: document, query, command line */
    TR_EIO = -5,       /* read/write/open failed (errno is meaningful) */
    TR_EVERSION = -6,  /* index written by an unknown format version */
    TR_ELIMIT = -7,    /* a named limit was exceeded */
    TR_ENOTFOUND = -8, /* key, term, document or index not present */
    TR_ELMDB = -9,     /* any other LMDB error */
    TR_EBUSY = -10,    /* another process is writing the index */
};

/* Static text for a TR_E* code; never NULL. */
const char *tr_strerror(int rc);

/* Format a message into the caller's error buffer (err may be NULL or
 * errcap 0: then nothing is written). */
void tr_set_err(char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- growable byte buffer ------------------------------------------------
 * Owns its memory; tr_buf_free() releases it. A failed append leaves the
 * buffer unchanged and returns TR_ENOMEM. */
typedef struct tr_buf {
    uint8_t *data;
    size_t len, cap;
} tr_buf;

void tr_buf_free(tr_buf *b);
int tr_buf_reserve(tr_buf *b, size_t extra);
/* Grow the u32 array *a of *cap entries to hold want, doubling from first
 * (its contents kept). TR_OK or TR_ENOMEM (then *a and *cap unchanged). */
int tr_u32_reserve(uint32_t **a, size_t *cap, size_t want, size_t first);
int tr_buf_append(tr_buf *b, const void *p, size_t n);
int tr_buf_put_varint(tr_buf *b, uint64_t v);
static inline void tr_buf_clear(tr_buf *b) { b->len = 0; }

/* n zeroed bytes for a big table looked up at random: from 2 MiB on,
 * mapped apart, 2 MiB-aligned and advised onto huge pages (a TLB entry
 * covers 2 MiB instead of 4 KiB; a page walk costs much in a VM), else
 * calloc'ed. NULL when out of memory. Free with tr_table_free and the same
 * n. */
void *tr_table_alloc(size_t n);
void tr_table_free(void *p, size_t n);

/* ---- stored integers: explicit width and byte order ----------------------
 * Keys are big-endian (so LMDB's memcmp order is numeric order); values are
 * little-endian. Varints are LEB128 (7 bits a byte, low group first). */
static inline void tr_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline uint32_t tr_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tr_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t tr_get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline void tr_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t tr_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void tr_put_le64(uint8_t *p, uint64_t v)
{
    tr_put_le32(p, (uint32_t)v); tr_put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint64_t tr_get_le64(const uint8_t *p)
{
    return (uint64_t)tr_get_le32(p) | (uint64_t)tr_get_le32(p + 4) << 32;
}

/* Write v as a varint (LEB128) at p, which has room for 10 bytes; returns
 * the byte after it. */
static inline uint8_t *tr_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    return p;
}

/* Bytes of v as a varint (1..10). */
static inline size_t tr_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

/* Decode one varint from [*p, end). Returns 0 and advances *p, or
 * TR_ECORRUPT on a truncated or over-long (> 10 bytes / > 64 bits) varint. */
int tr_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

#endif
