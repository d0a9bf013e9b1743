/* stream.c - decompressing byte streams and the line reader (see stream.h).
 * One raw input buffer feeds whichever decoder the magic bytes chose; a
 * decoder that reaches the end of a member/stream is restarted while input
 * remains, which is how concatenated .gz/.bz2/.zst files are read. */
#include "stream.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* A line buffer that grew past this for one huge record is released after
 * that record, so one 200 MB document does not pin 256 MiB for the rest. */
#define TR_LINES_KEEP_BYTES (16u << 20)

struct tr_stream {
    int fd, own_fd;
    char *name;
    int comp;
    uint8_t *in;
    size_t in_pos, in_len;
    int in_eof;
    uint64_t raw_read;   /* bytes read from fd */
    uint64_t size;
    int rc;              /* sticky error */
    char errmsg[512];
    int ended;           /* current member/stream/frame finished */
    z_stream z;
    int z_init;
    bz_stream bz;
    int bz_init;
    ZSTD_DStream *zs;
    size_t zs_last;      /* last ZSTD_decompressStream result: 0 = frame done */
};

static const char *comp_name(int comp)
{
    switch (comp) {
    case TR_COMP_GZIP: return "gzip";
    case TR_COMP_BZIP2: return "bzip2";
    case TR_COMP_ZSTD: return "zstd";
    default: return "plain";
    }
}

/* Fill the input buffer when it is empty. Returns 0 or TR_EIO. */
static int fill(tr_stream *s)
{
    if (s->in_pos < s->in_len || s->in_eof)
        return 0;
    s->in_pos = s->in_len = 0;
    for (;;) {
        ssize_t n = read(s->fd, s->in, TR_STREAM_BUF_BYTES);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(s->errmsg, sizeof s->errmsg, "%s: read error: %s", s->name, strerror(errno));
            return s->rc = TR_EIO;
        }
        if (n == 0)
            s->in_eof = 1;
        s->in_len = (size_t)n;
        s->raw_read += (uint64_t)n;
        return 0;
    }
}

uint64_t tr_stream_consumed(const tr_stream *s)
{
    return s->raw_read - (s->in_len - s->in_pos);
}

uint64_t tr_stream_size(const tr_stream *s) { return s->size; }
int tr_stream_compression(const tr_stream *s) { return s->comp; }

static int fail(tr_stream *s, const char *what, const char *detail)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s: byte %llu: %s %s stream%s%s", s->name,
             (unsigned long long)tr_stream_consumed(s), what, comp_name(s->comp),
             detail ? ": " : "", detail ? detail : "");
    return s->rc = TR_EIO;
}

int tr_stream_open(const char *path, tr_stream **out, char *err, size_t errcap)
{
    *out = NULL;
    tr_stream *s = calloc(1, sizeof *s);
    if (!s)
        return TR_ENOMEM;
    s->name = strdup(path);
    s->in = malloc(TR_STREAM_BUF_BYTES);
    if (!s->name || !s->in) {
        tr_stream_close(s);
        return TR_ENOMEM;
    }
    if (!strcmp(path, "-")) {
        s->fd = 0;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            tr_set_err(err, errcap, "%s: cannot open: %s", path, strerror(errno));
            s->fd = -1;
            tr_stream_close(s);
            return TR_EIO;
        }
        s->own_fd = 1;
    }
    struct stat st;
    if (fstat(s->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            tr_set_err(err, errcap, "%s: is a directory", path);
            tr_stream_close(s);
            return TR_EIO;
        }
        if (S_ISREG(st.st_mode))
            s->size = (uint64_t)st.st_size;
    }
    if (fill(s)) {
        tr_set_err(err, errcap, "%s", s->errmsg);
        tr_stream_close(s);
        return TR_EIO;
    }
    const uint8_t *m = s->in;
    size_t n = s->in_len;
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        s->comp = TR_COMP_GZIP;
    else if (n >= 4 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h' && m[3] >= '1' && m[3] <= '9')
        s->comp = TR_COMP_BZIP2;
    else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        s->comp = TR_COMP_ZSTD;
    int ok = 1;
    if (s->comp == TR_COMP_GZIP) {
        ok = inflateInit2(&s->z, 15 + 16) == Z_OK; /* +16: gzip wrapper only */
        s->z_init = ok;
    } else if (s->comp == TR_COMP_BZIP2) {
        ok = BZ2_bzDecompressInit(&s->bz, 0, 0) == BZ_OK;
        s->bz_init = ok;
    } else if (s->comp == TR_COMP_ZSTD) {
        s->zs = ZSTD_createDStream();
        ok = s->zs && !ZSTD_isError(ZSTD_initDStream(s->zs));
        s->zs_last = 1;
    }
    if (!ok) {
        tr_stream_close(s);
        return TR_ENOMEM;
    }
    *out = s;
    return 0;
}

void tr_stream_close(tr_stream *s)
{
    if (!s)
        return;
    if (s->z_init)
        inflateEnd(&s->z);
    if (s->bz_init)
        BZ2_bzDecompressEnd(&s->bz);
    ZSTD_freeDStream(s->zs);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->in);
    free(s->name);
    free(s);
}

/* Whether more input follows the end of a member (refilling if needed). */
static int more_input(tr_stream *s, int *more)
{
    if (fill(s))
        return s->rc;
    *more = s->in_pos < s->in_len;
    return 0;
}

static int read_gzip(tr_stream *s, uint8_t *buf, size_t cap, size_t *got)
{
    for (;;) {
        if (fill(s))
            return s->rc;
        if (s->ended) {
            int more = 0;
            if (more_input(s, &more))
                return s->rc;
            if (!more)
                return 0;
            if (s->in[s->in_pos] != 0x1f)
                return fail(s, "trailing garbage after", NULL);
            inflateReset(&s->z);
            s->ended = 0;
        }
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        s->z.next_out = buf;
        s->z.avail_out = (uInt)cap;
        int zr = inflate(&s->z, Z_NO_FLUSH);
        size_t used = (s->in_len - s->in_pos) - s->z.avail_in;
        s->in_pos += used;
        *got = cap - s->z.avail_out;
        if (zr == Z_STREAM_END)
            s->ended = 1;
        else if (zr == Z_MEM_ERROR)
            return s->rc = TR_ENOMEM;
        else if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR)
            return fail(s, "corrupt", s->z.msg ? s->z.msg : "bad data");
        if (*got)
            return 0;
        if (!used && s->in_pos == s->in_len && s->in_eof && !s->ended)
            return fail(s, "truncated", NULL);
    }
}

static int read_bzip2(tr_stream *s, uint8_t *buf, size_t cap, size_t *got)
{
    for (;;) {
        if (fill(s))
            return s->rc;
        if (s->ended) {
            int more = 0;
            if (more_input(s, &more))
                return s->rc;
            if (!more)
                return 0;
            BZ2_bzDecompressEnd(&s->bz);
            s->bz_init = 0;
            if (BZ2_bzDecompressInit(&s->bz, 0, 0) != BZ_OK)
                return s->rc = TR_ENOMEM;
            s->bz_init = 1;
            s->ended = 0;
        }
        s->bz.next_in = (char *)(s->in + s->in_pos);
        s->bz.avail_in = (unsigned)(s->in_len - s->in_pos);
        s->bz.next_out = (char *)buf;
        s->bz.avail_out = (unsigned)cap;
        int br = BZ2_bzDecompress(&s->bz);
        size_t used = (s->in_len - s->in_pos) - s->bz.avail_in;
        s->in_pos += used;
        *got = cap - s->bz.avail_out;
        if (br == BZ_STREAM_END)
            s->ended = 1;
        else if (br == BZ_MEM_ERROR)
            return s->rc = TR_ENOMEM;
        else if (br != BZ_OK)
            return fail(s, "corrupt", br == BZ_DATA_ERROR_MAGIC ? "bad magic" : "bad data");
        if (*got)
            return 0;
        if (!used && s->in_pos == s->in_len && s->in_eof && !s->ended)
            return fail(s, "truncated", NULL);
    }
}

static int read_zstd(tr_stream *s, uint8_t *buf, size_t cap, size_t *got)
{
    for (;;) {
        if (fill(s))
            return s->rc;
        /* The decoder reads frame after frame by itself; the end is a clean
         * one only if the last call finished a frame (returned 0). */
        ZSTD_inBuffer in = {s->in + s->in_pos, s->in_len - s->in_pos, 0};
        ZSTD_outBuffer o = {buf, cap, 0};
        if (in.size == 0 && s->in_eof && s->zs_last == 0)
            return 0;
        size_t zr = ZSTD_decompressStream(s->zs, &o, &in);
        s->in_pos += in.pos;
        *got = o.pos;
        if (ZSTD_isError(zr))
            return fail(s, "corrupt", ZSTD_getErrorName(zr));
        s->zs_last = zr;
        if (*got)
            return 0;
        if (!in.pos && s->in_pos == s->in_len && s->in_eof)
            return zr == 0 ? 0 : fail(s, "truncated", NULL);
    }
}

int tr_stream_read(tr_stream *s, void *buf, size_t cap, size_t *got, char *err, size_t errcap)
{
    *got = 0;
    int rc = s->rc;
    if (!rc && cap) {
        if (cap > UINT_MAX)
            cap = UINT_MAX; /* the zlib and bzip2 counters are unsigned int */
        switch (s->comp) {
        case TR_COMP_GZIP: rc = read_gzip(s, buf, cap, got); break;
        case TR_COMP_BZIP2: rc = read_bzip2(s, buf, cap, got); break;
        case TR_COMP_ZSTD: rc = read_zstd(s, buf, cap, got); break;
        default:
            if (s->in_pos == s->in_len && !s->in_eof) {
                /* Plain input past the sniffed chunk goes straight to buf. */
                for (;;) {
                    ssize_t n = read(s->fd, buf, cap);
                    if (n < 0 && errno == EINTR)
                        continue;
                    if (n < 0) {
                        snprintf(s->errmsg, sizeof s->errmsg, "%s: read error: %s",
                                 s->name, strerror(errno));
                        rc = s->rc = TR_EIO;
                    } else {
                        if (n == 0)
                            s->in_eof = 1;
                        s->raw_read += (uint64_t)n;
                        *got = (size_t)n;
                    }
                    break;
                }
            } else {
                size_t n = s->in_len - s->in_pos;
                if (n > cap)
                    n = cap;
                memcpy(buf, s->in + s->in_pos, n);
                s->in_pos += n;
                *got = n;
            }
        }
    }
    if (rc) {
        s->rc = rc;
        if (rc == TR_ENOMEM)
            tr_set_err(err, errcap, "%s: out of memory", s->name);
        else
            tr_set_err(err, errcap, "%s", s->errmsg);
        *got = 0;
    }
    return rc;
}

/* ---- line reader --------------------------------------------------------- */

struct tr_lines {
    tr_stream *s;
    size_t max_line;
    uint8_t *chunk;
    size_t pos, len;
    int started;         /* the first chunk has been read */
    int done;
    int rc;              /* final error, reported once lines run out */
    char errmsg[600];
    uint64_t lineno;
    tr_buf acc;
};

int tr_lines_create(tr_stream *s, size_t max_line, tr_lines **out)
{
    *out = NULL;
    tr_lines *l = calloc(1, sizeof *l);
    if (!l) {
        tr_stream_close(s);
        return TR_ENOMEM;
    }
    l->s = s;
    l->max_line = max_line;
    l->chunk = malloc(TR_STREAM_BUF_BYTES);
    if (!l->chunk) {
        tr_lines_close(l);
        return TR_ENOMEM;
    }
    *out = l;
    return 0;
}

void tr_lines_close(tr_lines *l)
{
    if (!l)
        return;
    tr_stream_close(l->s);
    free(l->chunk);
    tr_buf_free(&l->acc);
    free(l);
}

tr_stream *tr_lines_stream(tr_lines *l) { return l->s; }

/* Read the next chunk; 1 = data, 0 = end of stream, <0 = error (kept). */
static int refill(tr_lines *l)
{
    size_t got;
    l->pos = l->len = 0;
    int rc = tr_stream_read(l->s, l->chunk, TR_STREAM_BUF_BYTES, &got, l->errmsg, sizeof l->errmsg);
    if (rc) {
        l->rc = rc;
        return rc;
    }
    l->len = got;
    return got > 0;
}

int tr_lines_peek(tr_lines *l, const uint8_t **p, size_t *n, char *err, size_t errcap)
{
    *p = NULL;
    *n = 0;
    if (!l->started) {
        l->started = 1;
        /* Keep reading until the chunk holds a full buffer or the stream
         * ends: decoders may hand out small pieces at first. */
        size_t got = 0;
        while (l->len < TR_STREAM_BUF_BYTES) {
            int rc = tr_stream_read(l->s, l->chunk + l->len, TR_STREAM_BUF_BYTES - l->len, &got,
                                    l->errmsg, sizeof l->errmsg);
            if (rc) {
                l->rc = rc;
                break;
            }
            if (!got)
                break;
            l->len += got;
        }
        (void)err;
        (void)errcap;
    }
    *p = l->chunk + l->pos;
    *n = l->len - l->pos;
    return 0;
}

int tr_lines_next(tr_lines *l, const char **line, size_t *len, uint64_t *lineno,
                  char *err, size_t errcap)
{
    *line = NULL;
    *len = 0;
    if (!l->started) {
        const uint8_t *p;
        size_t n;
        tr_lines_peek(l, &p, &n, err, errcap);
    }
    if (l->acc.cap > TR_LINES_KEEP_BYTES)
        tr_buf_free(&l->acc);
    l->acc.len = 0;
    int partial = 0, overlong = 0;
    for (;;) {
        if (l->pos < l->len) {
            const uint8_t *start = l->chunk + l->pos;
            size_t avail = l->len - l->pos;
            const uint8_t *nl = memchr(start, '\n', avail);
            size_t seg = nl ? (size_t)(nl - start) : avail;
            if (!overlong) {
                if (l->acc.len + seg > l->max_line) {
                    overlong = 1;
                    tr_buf_free(&l->acc);
                } else if (nl && !partial) {
                    l->pos += seg + 1;
                    *line = (const char *)start;
                    *len = seg;
                    *lineno = ++l->lineno;
                    return 1;
                } else {
                    int rc = tr_buf_append(&l->acc, start, seg);
                    if (rc)
                        return rc;
                }
            }
            partial = 1;
            l->pos += seg + (nl ? 1 : 0);
            if (nl)
                break;
        }
        if (l->done || l->rc) {
            /* An error cuts off the partial line; the clean end completes it. */
            if (l->rc) {
                l->done = 1;
                tr_set_err(err, errcap, "%s", l->errmsg);
                return l->rc;
            }
            if (!partial)
                return 0;
            break;
        }
        int r = refill(l);
        if (r < 0)
            continue;
        if (r == 0)
            l->done = 1;
    }
    *lineno = ++l->lineno;
    if (overlong)
        return TR_ELIMIT;
    *line = (const char *)l->acc.data;
    *len = l->acc.len;
    if (!*line)
        *line = "";
    return 1;
}

int tr_lines_slurp(tr_lines *l, tr_buf *out, size_t max, char *err, size_t errcap)
{
    out->len = 0;
    if (!l->started) {
        const uint8_t *p;
        size_t n;
        tr_lines_peek(l, &p, &n, err, errcap);
    }
    size_t n = l->len - l->pos;
    if (n > max)
        return TR_ELIMIT;
    if (tr_buf_append(out, l->chunk + l->pos, n))
        return TR_ENOMEM;
    l->pos = l->len;
    if (l->rc) {
        tr_set_err(err, errcap, "%s", l->errmsg);
        return l->rc;
    }
    for (;;) {
        /* Read straight into out, doubling it as it fills. */
        size_t want = out->len < TR_STREAM_BUF_BYTES ? TR_STREAM_BUF_BYTES : out->len;
        if (want > max + 1 - out->len)
            want = max + 1 - out->len;
        if (tr_buf_reserve(out, want))
            return TR_ENOMEM;
        size_t got;
        int rc = tr_stream_read(l->s, out->data + out->len, want, &got, err, errcap);
        if (rc)
            return rc;
        if (!got)
            return 0;
        out->len += got;
        if (out->len > max)
            return TR_ELIMIT;
    }
}

int tr_lines_read(tr_lines *l, const uint8_t **p, size_t *n, char *err, size_t errcap)
{
    *p = NULL;
    *n = 0;
    if (!l->started) {
        const uint8_t *q;
        size_t m;
        tr_lines_peek(l, &q, &m, err, errcap);
    }
    if (l->pos == l->len && !l->done && !l->rc) {
        int r = refill(l);
        if (r == 0)
            l->done = 1;
    }
    if (l->pos < l->len) {
        *p = l->chunk + l->pos;
        *n = l->len - l->pos;
        l->pos = l->len;
        return 0;
    }
    if (l->rc) {
        tr_set_err(err, errcap, "%s", l->errmsg);
        return l->rc;
    }
    return 0;
}
