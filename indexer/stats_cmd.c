/* stats_cmd.c - `trawl-index --stats`: documents, terms, postings and the
 * bytes of each part of the index, as text or JSON. */
#include "stats_cmd.h"

#include "index.h"
#include "inspect.h"

#include <stdio.h>

int tr_cmd_stats(const char *dir, int json)
{
    char err[512] = "";
    tr_index *ix = NULL;
    tr_reader *r = NULL;
    tr_index_sizes sz;
    int rc = tr_index_open(dir, &ix, err, sizeof err);
    if (!rc) rc = tr_reader_begin(ix, &r, err, sizeof err);
    if (!rc) rc = tr_index_sizes_get(ix, &sz, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trawl-index: %s: %s\n", dir, err[0] ? err : tr_strerror(rc));
        tr_reader_end(r);
        tr_index_close(ix);
        return 2;
    }
    const tr_stats *st = tr_reader_stats(r);
    char settings[128];
    if (tr_settings_encode(tr_reader_settings(r), settings, sizeof settings) < 0) settings[0] = 0;
    uint64_t dictionary = sz.terms, stored = sz.docs + sz.ids + sz.norms;
    if (json) {
        printf("{\"format_version\":%d,\"settings\":\"%s\",\"documents\":%llu,\"deleted\":%llu,"
               "\"terms\":%llu,\"postings\":%llu,\"chunks\":%llu,\"inline_chunks\":%llu,"
               "\"title_tokens\":%llu,\"body_tokens\":%llu,\"generations\":%u,"
               "\"bytes\":{\"dictionary\":%llu,\"postings\":%llu,\"postings_docs\":%llu,"
               "\"positions\":%llu,\"stored\":%llu,\"docs\":%llu,\"ids\":%llu,\"norms\":%llu,"
               "\"file\":%llu}}\n",
               TR_FORMAT_VERSION, settings, (unsigned long long)st->docs,
               (unsigned long long)st->deleted, (unsigned long long)st->terms,
               (unsigned long long)sz.npostings, (unsigned long long)sz.nchunks,
               (unsigned long long)sz.ninline, (unsigned long long)st->title_tokens,
               (unsigned long long)st->body_tokens, (unsigned)st->generation, (unsigned long long)dictionary,
               (unsigned long long)sz.postings, (unsigned long long)sz.chunk_docs,
               (unsigned long long)sz.chunk_positions, (unsigned long long)stored,
               (unsigned long long)sz.docs, (unsigned long long)sz.ids,
               (unsigned long long)sz.norms, (unsigned long long)sz.file_bytes);
    } else {
        printf("format version   %d\n", TR_FORMAT_VERSION);
        printf("analysis         %s\n", settings);
        printf("documents        %llu live, %llu deleted\n", (unsigned long long)st->docs,
               (unsigned long long)st->deleted);
        printf("terms            %llu\n", (unsigned long long)st->terms);
        printf("postings         %llu in %llu chunks (%llu inline)\n",
               (unsigned long long)sz.npostings, (unsigned long long)sz.nchunks,
               (unsigned long long)sz.ninline);
        printf("tokens           %llu title, %llu body\n", (unsigned long long)st->title_tokens,
               (unsigned long long)st->body_tokens);
        printf("generations      %u (commits that appended postings)\n", (unsigned)st->generation);
        printf("dictionary       %12llu bytes (terms database, with inline chunks)\n",
               (unsigned long long)dictionary);
        printf("postings         %12llu bytes (postings database)\n", (unsigned long long)sz.postings);
        printf("  ids and freqs  %12llu bytes (in all chunks)\n", (unsigned long long)sz.chunk_docs);
        printf("  positions      %12llu bytes (in all chunks)\n", (unsigned long long)sz.chunk_positions);
        printf("stored documents %12llu bytes (docs %llu, ids %llu, norms %llu)\n",
               (unsigned long long)stored, (unsigned long long)sz.docs,
               (unsigned long long)sz.ids, (unsigned long long)sz.norms);
        printf("file             %12llu bytes\n", (unsigned long long)sz.file_bytes);
    }
    tr_reader_end(r);
    tr_index_close(ix);
    return 0;
}
