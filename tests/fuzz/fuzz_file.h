/* fuzz_file.h - the input readers take paths, so the source harnesses write
 * each input to a per-process temporary file with the extension that selects
 * the reader, then read it back through tr_source. */
#ifndef TRAWL_FUZZ_FILE_H
#define TRAWL_FUZZ_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "source.h"

/* Longest record the harnesses let the reader accept: keeps each run small
 * while still crossing the line reader's in-place / gathered boundary. */
#define FUZZ_MAX_RECORD (1u << 20)

static inline int fuzz_read_source(const uint8_t *data, size_t size, const char *ext, int format)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/trawl_fuzz_%ld%s", (long)getpid(), ext);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    tr_source_opts o;
    tr_source_opts_default(&o);
    o.format = format;
    o.max_record = FUZZ_MAX_RECORD;
    tr_source *s = NULL;
    char err[512];
    if (tr_source_open(path, &o, &s, err, sizeof err) == 0) {
        tr_doc_in d;
        int rc, guard = 0;
        /* TR_EINPUT continues; anything else ends; the guard bounds a reader
         * that would keep returning errors */
        while ((rc = tr_source_next(s, &d, err, sizeof err)) != 0 && guard++ < 1000000) {
            if (rc == 1) {
                if (d.id_len && !d.id) abort(); /* source.h promises the id */
                volatile char c = d.body_len ? d.body[d.body_len - 1] : 0;
                (void)c;
            } else if (rc != TR_EINPUT) {
                break;
            }
        }
        tr_source_close(s);
    }
    unlink(path);
    return 0;
}

#endif
