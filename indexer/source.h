/* source.h - where the indexer's documents come from: a file, a directory
 * tree or stdin; plain, gzip, bzip2 or zstd (detected by magic bytes); JSON
 * Lines records, MediaWiki XML exports, TREC <DOC> files, WARC files, or one
 * page (.txt / .html, article extracted) per file. docs/FORMATS.md has the
 * details of each format.
 *
 * Caveats: a directory is listed completely when it is opened (one path per
 * file in memory); symbolic links to files are followed, to directories not
 * (no cycles). Everything else is streamed: memory stays bounded by the
 * 1 MiB stream buffers plus the largest single record. */
#ifndef TRAWL_SOURCE_H
#define TRAWL_SOURCE_H

#include "index.h" /* tr_doc_in */

/* Longest single record (one JSON line, or one page file): a longer one is
 * skipped with TR_EINPUT. Bounds memory against a file with no newlines. */
#define TR_MAX_RECORD_BYTES ((size_t)256 << 20)
/* Longest path built while walking a directory. */
#define TR_MAX_PATH_BYTES 4096
/* Deepest directory nesting walked (deeper directories are skipped and
 * counted): guards against pathological trees. */
#define TR_MAX_WALK_DEPTH 64

enum { TR_FMT_AUTO, TR_FMT_JSONL, TR_FMT_TEXT, TR_FMT_HTML, TR_FMT_WIKI, TR_FMT_TREC,
       TR_FMT_WARC };

/* Bytes at the start of a file looked at to recognise a MediaWiki export,
 * a TREC <DOC> file or a WARC file by content. */
#define TR_SNIFF_BYTES 4096

typedef struct tr_source_opts {
    /* TR_FMT_*. AUTO: a file's extension (after stripping .gz/.bz2/.zst)
     * decides (.jsonl/.json/.ndjson, .txt, .html/.htm); a single file or
     * stdin with no known extension goes by content: '{' as the first
     * non-space byte -> jsonl, "WARC/" -> warc, "<mediawiki" (UTF-8 or
     * UTF-16 with a byte-order mark) -> wiki, "<DOC>" -> trec, other '<' ->
     * html, else text. .xml files and, in a directory, files named .warc,
     * .trec, .sgml are read too (.xml by content). A forced format
     * applies to every file read, but in a directory only files with one of
     * the known extensions are read either way, except for trec, whose
     * collections often have no extension: then every file is read. */
    int format;
    /* JSON member names; defaults id, title, body, url, date. */
    const char *id_field, *title_field, *body_field, *url_field, *date_field;
    /* Longest record; tr_source_opts_default sets TR_MAX_RECORD_BYTES
     * (tests lower it to exercise the limit cheaply). */
    size_t max_record;
} tr_source_opts;

void tr_source_opts_default(tr_source_opts *o);

typedef struct tr_source tr_source;

/* path: a file, a directory (walked recursively, entries in byte order of
 * name, regular files only: .txt text, .html/.htm html, .jsonl/.json/.ndjson
 * jsonl, compressed variants .gz/.bz2/.zst likewise;
 * others skipped and counted), or "-" for stdin.
 * Returns 0, TR_EIO when path cannot be opened or read (err says why),
 * TR_ENOMEM. o may be NULL for the defaults; its strings are copied. */
int tr_source_open(const char *path, const tr_source_opts *o, tr_source **out,
                   char *err, size_t errcap);

/* Next document.
 *  1          a document in *doc; its pointers are valid until the next call.
 *  0          end of input.
 *  TR_EINPUT  one bad record (or one unreadable/binary/over-long file in a
 *             directory) skipped; err = "FILE:LINE: problem" or, for a page,
 *             "FILE: problem", for wiki/TREC/WARC records "FILE: byte
 *             OFFSET: problem". Call again to continue.
 *  TR_EIO     read error or corrupt/truncated compressed data, after every
 *             complete record before it: err = "FILE: byte OFFSET: truncated
 *             gzip stream" / "FILE: read error: ...". The rest of that file
 *             is abandoned; calling again goes on with the next file of a
 *             directory (or returns 0), so the caller chooses to stop or not.
 *  TR_ENOMEM  out of memory.
 * JSONL: id (string, or integer written in decimal) is required, at most
 * TR_MAX_ID_BYTES; body/title/url are strings or null/missing (= empty); date
 * is a string parsed by tr_parse_date (date.h) or an integer of seconds since
 * 1970; an unparseable date leaves TR_NO_DATE and is only counted. Blank lines
 * are skipped. Text page: title = first non-empty line, body = the rest.
 * HTML page: title from <title> (else the first <h1>), body = visible text,
 * date from <meta name=date|article:published_time> or <time datetime>. A
 * page's id is its path relative to the directory walked (or as given; "-"
 * for stdin). */
int tr_source_next(tr_source *s, tr_doc_in *doc, char *err, size_t errcap);

/* Compressed/raw bytes consumed so far, and the total input size when known
 * (0 if not, e.g. stdin). */
void tr_source_progress(const tr_source *s, uint64_t *done, uint64_t *total);

typedef struct tr_source_counts {
    uint64_t files;          /* files opened (stdin counts as one) */
    uint64_t skipped_files;  /* directory entries not read: unknown extension,
                                not a regular file, too deep, path too long */
    uint64_t docs;           /* documents returned */
    uint64_t bad_records;    /* TR_EINPUT returns */
    uint64_t bad_dates;      /* dates present but not understood */
    uint64_t blank_lines;    /* JSONL lines with only whitespace */
} tr_source_counts;

void tr_source_get_counts(const tr_source *s, tr_source_counts *out);

void tr_source_close(tr_source *s); /* accepts NULL */

#endif
