/* pipeline.h - reads and parses an input on a thread of its own, so that
 * JSON parsing, decompression and extraction overlap with the writer's
 * inversion and commits. Documents come out in input order (doc ids stay
 * deterministic), through a queue bounded in documents and bytes. */
#ifndef TRAWL_PIPELINE_H
#define TRAWL_PIPELINE_H

#include "source.h"

/* Documents and bytes (id + title + url + body + error text) held in the
 * queue at most; a single document bigger than the byte bound still passes,
 * alone. The consumer takes the queue whole, so up to twice these are held;
 * the bytes are part of the "small constant" above --memory. */
#define TR_PIPE_QUEUE_DOCS 1024
#define TR_PIPE_QUEUE_BYTES ((size_t)16 << 20)

typedef struct tr_pipe tr_pipe;

/* Open path (as tr_source_open does, same errors) and start the reader
 * thread. o may be NULL. queue_bytes bounds the queue's bytes instead of
 * TR_PIPE_QUEUE_BYTES when it is smaller and not 0 (small --memory). */
int tr_pipe_open(const char *path, const tr_source_opts *o, size_t queue_bytes, tr_pipe **out,
                 char *err, size_t errcap);

/* Next item, with the meaning and codes of tr_source_next (1 document, 0
 * end, TR_EINPUT skipped record, TR_EIO, TR_ENOMEM). *doc's pointers are
 * valid until the next call or tr_pipe_close. */
int tr_pipe_next(tr_pipe *p, tr_doc_in *doc, char *err, size_t errcap);

/* Input bytes consumed and the total when known, as of the last item
 * returned by tr_pipe_next. */
void tr_pipe_progress(const tr_pipe *p, uint64_t *done, uint64_t *total);

/* Stop the reader (at any point) and free everything. Accepts NULL. */
void tr_pipe_close(tr_pipe *p);

#endif
