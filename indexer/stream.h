/* stream.h - byte streams over a file or stdin with the compression (gzip,
 * bzip2, zstd; concatenated members/streams/frames) detected from magic bytes,
 * and a line reader on top of them. Memory is bounded by the buffer sizes,
 * whatever the file size; nothing is ever unpacked to disk. */
#ifndef TRAWL_STREAM_H
#define TRAWL_STREAM_H

#include "trawl.h"

/* Input is read from the file in chunks of this size, and decoded output is
 * produced in chunks of this size: large enough that syscalls and decoder
 * calls are noise, small enough to not matter next to the indexer's budget. */
#define TR_STREAM_BUF_BYTES (1u << 20)

enum { TR_COMP_NONE, TR_COMP_GZIP, TR_COMP_BZIP2, TR_COMP_ZSTD };

typedef struct tr_stream tr_stream;

/* Open path ("-" = stdin, which is not closed at the end) and detect its
 * compression by reading the first chunk. TR_EIO with "PATH: why" in err. */
int tr_stream_open(const char *path, tr_stream **out, char *err, size_t errcap);
void tr_stream_close(tr_stream *s); /* accepts NULL */

/* Decode up to cap bytes into buf; *got = 0 means end of stream. Errors are
 * sticky: TR_EIO with "PATH: byte OFFSET: truncated gzip stream" (OFFSET =
 * compressed bytes consumed) or "PATH: read error: ...", TR_ENOMEM. */
int tr_stream_read(tr_stream *s, void *buf, size_t cap, size_t *got, char *err, size_t errcap);

int tr_stream_compression(const tr_stream *s);       /* TR_COMP_* */
uint64_t tr_stream_consumed(const tr_stream *s);     /* raw bytes handed to the decoder */
uint64_t tr_stream_size(const tr_stream *s);         /* raw file size, 0 if unknown */

/* ---- line reader ---------------------------------------------------------
 * Splits a stream into lines ('\n'; a '\r' before it is kept). A line that
 * fits in the current chunk is returned in place; a longer one is gathered in
 * a buffer that grows geometrically (no quadratic copying), up to max_line
 * bytes: beyond it the rest of the line is discarded and TR_ELIMIT returned
 * once for it. A stream error is reported only after every complete line
 * before it; the incomplete line the error cut off is dropped. A last line
 * without '\n' at a clean end of stream is returned as a line. */
typedef struct tr_lines tr_lines;

/* Takes ownership of s (closes it in tr_lines_close). */
int tr_lines_create(tr_stream *s, size_t max_line, tr_lines **out);
void tr_lines_close(tr_lines *l); /* accepts NULL */

/* Before the first tr_lines_next: the first bytes of the decoded stream (up
 * to one chunk, fewer only at end of stream), for sniffing the format. */
int tr_lines_peek(tr_lines *l, const uint8_t **p, size_t *n, char *err, size_t errcap);

/* 1 = a line in *line, *len (without '\n'; valid until the next call) and its
 * 1-based number in *lineno; 0 = end; TR_ELIMIT = line *lineno too long,
 * skipped; TR_EIO/TR_ENOMEM = stream error (err set), final. */
int tr_lines_next(tr_lines *l, const char **line, size_t *len, uint64_t *lineno,
                  char *err, size_t errcap);

tr_stream *tr_lines_stream(tr_lines *l);

/* Read everything not yet returned as lines into out (replacing its
 * contents), at most max bytes: TR_ELIMIT if longer. For page files, which
 * are one record each and are sniffed with tr_lines_peek first. */
int tr_lines_slurp(tr_lines *l, tr_buf *out, size_t max, char *err, size_t errcap);

/* The next block of bytes not yet returned (the rest of the peeked chunk,
 * then one decoded chunk per call), without copying: *p is valid until the
 * next call. *n = 0 at the end of the stream; TR_EIO/TR_ENOMEM once every
 * byte before the error has been handed out. For the record readers (wiki,
 * TREC, WARC) that keep their own state across chunks. */
int tr_lines_read(tr_lines *l, const uint8_t **p, size_t *n, char *err, size_t errcap);

#endif
