/* source.c - tr_source: turns a path (file, directory tree, or "-") into a
 * sequence of files, picks each file's format, and hands lines to jsonl.c
 * or whole files to pages.c. Directories are listed up front (sorted by name
 * at each level, depth first) so that progress has a total to report. */
#include "source_int.h"
#include "stream.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

/* A page buffer that grew past this for one huge page is released before
 * the next document, so memory returns to the stream buffers' size. */
#define TR_PAGE_KEEP_BYTES (16u << 20)

/* Bytes at the start of a page file looked at for NUL bytes: a page with a
 * NUL there is a binary file with a misleading name, not text. */
#define TR_BINARY_SNIFF_BYTES 8192

typedef struct entry {
    char *path;        /* as opened, and as named in messages */
    size_t id_off;     /* the id (for pages) is path + id_off */
    int fmt;           /* TR_FMT_*, AUTO = by content */
    uint64_t size;
    char *error;       /* an unreadable directory: reported when reached */
} entry;

struct tr_source {
    tr_source_opts opts;
    int single;        /* one file or stdin: open failures are fatal */
    entry *ents;
    size_t nents, cap, next;
    uint64_t total, done_bytes;
    int total_known;
    /* the file being read */
    tr_lines *lines;
    const entry *cur;
    tr_jsonl *jsonl;
    tr_page *page;
    tr_extract *extract;
    tr_buf page_buf;
    tr_records *rec;   /* the record reader of a wiki, TREC or WARC file */
    tr_source_counts counts;
};

void tr_source_opts_default(tr_source_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = TR_FMT_AUTO;
    o->id_field = "id";
    o->title_field = "title";
    o->body_field = "body";
    o->url_field = "url";
    o->date_field = "date";
    o->max_record = TR_MAX_RECORD_BYTES;
}

static int has_suffix(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len >= n && !strncasecmp(s + len - n, suf, n);
}

/* Format from the file name; -1 when the extension is not one we read. */
static int format_of_name(const char *name)
{
    size_t len = strlen(name);
    static const char *const comp[] = {".gz", ".bz2", ".zst"};
    for (size_t i = 0; i < 3; i++)
        if (has_suffix(name, len, comp[i])) {
            len -= strlen(comp[i]);
            break;
        }
    if (has_suffix(name, len, ".jsonl") || has_suffix(name, len, ".json") ||
        has_suffix(name, len, ".ndjson"))
        return TR_FMT_JSONL;
    if (has_suffix(name, len, ".txt"))
        return TR_FMT_TEXT;
    if (has_suffix(name, len, ".html") || has_suffix(name, len, ".htm"))
        return TR_FMT_HTML;
    if (has_suffix(name, len, ".xml"))
        return TR_FMT_AUTO; /* a wiki export, or not: the content decides */
    if (has_suffix(name, len, ".warc"))
        return TR_FMT_WARC;
    if (has_suffix(name, len, ".trec") || has_suffix(name, len, ".sgml"))
        return TR_FMT_TREC;
    return -1;
}

static int add_entry(tr_source *s, char *path, size_t id_off, int fmt, uint64_t size, char *error)
{
    if (s->nents == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        entry *e = realloc(s->ents, cap * sizeof *e);
        if (!e) {
            free(path);
            free(error);
            return TR_ENOMEM;
        }
        s->ents = e;
        s->cap = cap;
    }
    s->ents[s->nents++] = (entry){path, id_off, fmt, size, error};
    s->total += size;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List dir (whose entries' ids start at id_off of their paths). */
static int walk(tr_source *s, const char *dir, size_t id_off, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        char msg[TR_MAX_PATH_BYTES + 128];
        snprintf(msg, sizeof msg, "%s: cannot open directory: %s", dir, strerror(errno));
        char *p = strdup(dir), *m = strdup(msg);
        if (!p || !m) {
            free(p);
            free(m);
            return TR_ENOMEM;
        }
        return add_entry(s, p, id_off, TR_FMT_AUTO, 0, m);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = TR_ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = TR_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc && n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    size_t dlen = strlen(dir);
    int slash = dlen && dir[dlen - 1] == '/';
    for (size_t i = 0; i < n && !rc; i++) {
        size_t plen = dlen + !slash + strlen(names[i]);
        if (plen > TR_MAX_PATH_BYTES) {
            s->counts.skipped_files++;
            continue;
        }
        char *path = malloc(plen + 1);
        if (!path) {
            rc = TR_ENOMEM;
            break;
        }
        memcpy(path, dir, dlen);
        if (!slash)
            path[dlen] = '/';
        strcpy(path + dlen + !slash, names[i]);
        struct stat st;
        int ok = lstat(path, &st) == 0;
        int is_link = ok && S_ISLNK(st.st_mode);
        if (is_link)
            ok = stat(path, &st) == 0 && S_ISREG(st.st_mode); /* no directory cycles */
        if (ok && S_ISDIR(st.st_mode)) {
            if (depth + 1 >= TR_MAX_WALK_DEPTH)
                s->counts.skipped_files++;
            else
                rc = walk(s, path, id_off, depth + 1);
            free(path);
            continue;
        }
        int fmt = ok && S_ISREG(st.st_mode) ? format_of_name(names[i]) : -1;
        if (ok && S_ISREG(st.st_mode) && s->opts.format == TR_FMT_TREC)
            fmt = TR_FMT_TREC;
        if (fmt < 0) {
            s->counts.skipped_files++;
            free(path);
            continue;
        }
        if (s->opts.format != TR_FMT_AUTO)
            fmt = s->opts.format;
        rc = add_entry(s, path, id_off, fmt, (uint64_t)st.st_size, NULL);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int tr_source_open(const char *path, const tr_source_opts *o, tr_source **out,
                   char *err, size_t errcap)
{
    *out = NULL;
    tr_source *s = calloc(1, sizeof *s);
    if (!s)
        return TR_ENOMEM;
    if (o)
        s->opts = *o;
    else
        tr_source_opts_default(&s->opts);
    if (!s->opts.max_record)
        s->opts.max_record = TR_MAX_RECORD_BYTES;
    int rc = tr_jsonl_create(&s->opts, &s->jsonl);
    if (!rc)
        rc = tr_page_create(&s->page);
    if (!rc)
        rc = tr_extract_create(&s->extract);
    if (rc)
        goto fail;
    s->total_known = 1;
    struct stat st;
    if (!strcmp(path, "-")) {
        s->single = 1;
        s->total_known = 0;
        char *p = strdup("-");
        rc = p ? add_entry(s, p, 0, s->opts.format, 0, NULL) : TR_ENOMEM;
    } else if (stat(path, &st) != 0) {
        tr_set_err(err, errcap, "%s: %s", path, strerror(errno));
        rc = TR_EIO;
    } else if (S_ISDIR(st.st_mode)) {
        size_t len = strlen(path);
        if (len > TR_MAX_PATH_BYTES) {
            tr_set_err(err, errcap, "%s: path longer than %d bytes", path, TR_MAX_PATH_BYTES);
            rc = TR_EIO;
            goto fail;
        }
        DIR *d = opendir(path);
        if (!d) {
            tr_set_err(err, errcap, "%s: cannot open directory: %s", path, strerror(errno));
            rc = TR_EIO;
            goto fail;
        }
        closedir(d);
        rc = walk(s, path, len + (len && path[len - 1] != '/'), 0);
    } else {
        s->single = 1;
        int fmt = s->opts.format;
        if (fmt == TR_FMT_AUTO) {
            const char *base = strrchr(path, '/');
            fmt = format_of_name(base ? base + 1 : path);
            if (fmt < 0)
                fmt = TR_FMT_AUTO;
        }
        /* Open it now so that an unreadable file fails here, fatally. Not a
         * pipe or device: a probe would eat input nobody can read again
         * (those fail, just as fatally, at the first tr_source_next). */
        if (S_ISREG(st.st_mode)) {
            tr_stream *probe;
            rc = tr_stream_open(path, &probe, err, errcap);
            tr_stream_close(probe);
        }
        if (!rc) {
            char *p = strdup(path);
            if (!S_ISREG(st.st_mode))
                s->total_known = 0;
            rc = p ? add_entry(s, p, 0, fmt, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, NULL)
                   : TR_ENOMEM;
        }
    }
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    if (rc == TR_ENOMEM)
        tr_set_err(err, errcap, "%s: out of memory", path);
    tr_source_close(s);
    return rc;
}

static void close_current(tr_source *s)
{
    tr_records_close(s->rec);
    s->rec = NULL;
    if (s->lines) {
        s->done_bytes += tr_stream_consumed(tr_lines_stream(s->lines));
        tr_lines_close(s->lines);
        s->lines = NULL;
    }
    s->cur = NULL;
}

void tr_source_close(tr_source *s)
{
    if (!s)
        return;
    close_current(s);
    for (size_t i = 0; i < s->nents; i++) {
        free(s->ents[i].path);
        free(s->ents[i].error);
    }
    free(s->ents);
    tr_jsonl_free(s->jsonl);
    tr_page_free(s->page);
    tr_extract_free(s->extract);
    tr_buf_free(&s->page_buf);
    free(s);
}

void tr_source_progress(const tr_source *s, uint64_t *done, uint64_t *total)
{
    uint64_t d = s->done_bytes;
    if (s->lines)
        d += tr_stream_consumed(tr_lines_stream(s->lines));
    *done = d;
    *total = s->total_known ? s->total : 0;
}

void tr_source_get_counts(const tr_source *s, tr_source_counts *out)
{
    *out = s->counts;
}

static int bad(tr_source *s, int rc)
{
    if (rc == TR_EINPUT)
        s->counts.bad_records++;
    return rc;
}

/* Read a whole page file (already opened as s->lines) into a document. */
static int read_page(tr_source *s, int fmt, tr_doc_in *doc, char *err, size_t errcap)
{
    const entry *e = s->cur;
    const uint8_t *p;
    size_t n;
    tr_lines_peek(s->lines, &p, &n, err, errcap);
    size_t look = n < TR_BINARY_SNIFF_BYTES ? n : TR_BINARY_SNIFF_BYTES;
    if (memchr(p, '\0', look)) {
        tr_set_err(err, errcap, "%s: binary file skipped", e->path);
        return bad(s, TR_EINPUT);
    }
    int rc = tr_lines_slurp(s->lines, &s->page_buf, s->opts.max_record, err, errcap);
    if (rc == TR_ELIMIT) {
        tr_set_err(err, errcap, "%s: page longer than %zu bytes", e->path, s->opts.max_record);
        return bad(s, TR_EINPUT);
    }
    if (rc)
        return rc;
    memset(doc, 0, sizeof *doc);
    doc->date = TR_NO_DATE;
    int bad_date = 0;
    /* A scraped article page gives its article; any other page (no run of
     * prose found) its whole text, as pages.c renders it. */
    char why[128] = "";
    if (fmt == TR_FMT_HTML)
        rc = tr_extract_html(s->extract, s->page_buf.data, s->page_buf.len, NULL, doc, &bad_date,
                             why, sizeof why);
    else
        rc = tr_extract_text(s->extract, s->page_buf.data, s->page_buf.len, doc, &bad_date);
    if (rc == TR_EINPUT) {
        tr_set_err(err, errcap, "%s: byte 0: %s", e->path, why);
        return bad(s, TR_EINPUT);
    }
    if (rc == 0 || rc == TR_ELIMIT) {
        memset(doc, 0, sizeof *doc);
        doc->date = TR_NO_DATE;
        bad_date = 0;
        if (fmt == TR_FMT_HTML)
            rc = tr_page_html(s->page, s->page_buf.data, s->page_buf.len, doc, &bad_date);
        else
            rc = tr_page_text(s->page, s->page_buf.data, s->page_buf.len, doc);
    } else if (rc == 1) {
        rc = 0;
    }
    if (rc == TR_ELIMIT) {
        tr_set_err(err, errcap, "%s: page too large", e->path);
        return bad(s, TR_EINPUT);
    }
    if (rc)
        return rc;
    if (bad_date)
        s->counts.bad_dates++;
    if (!doc->title_len && !doc->body_len) {
        tr_set_err(err, errcap, "%s: empty page skipped", e->path);
        return bad(s, TR_EINPUT);
    }
    doc->id = e->path + e->id_off;
    doc->id_len = strlen(doc->id);
    if (doc->id_len > TR_MAX_ID_BYTES) {
        tr_set_err(err, errcap, "%s: id (relative path) longer than %d bytes", e->path,
                TR_MAX_ID_BYTES);
        return bad(s, TR_EINPUT);
    }
    s->counts.docs++;
    return 1;
}

/* The first TR_SNIFF_BYTES as ASCII: UTF-16 (after a byte-order mark)
 * loses its zero bytes, so "<mediawiki" reads the same in either form. */
static size_t sniff_ascii(const uint8_t *p, size_t n, char *out)
{
    size_t k = 0;
    if (n > TR_SNIFF_BYTES)
        n = TR_SNIFF_BYTES;
    int utf16 = n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff));
    for (size_t i = utf16 ? 2 : 0; i < n; i++)
        if (!utf16 || p[i])
            out[k++] = p[i] ? (char)p[i] : ' ';
    out[k] = '\0';
    return k;
}

static int sniff(const uint8_t *p, size_t n)
{
    char a[TR_SNIFF_BYTES + 1];
    size_t an = sniff_ascii(p, n, a);
    size_t i = 0;
    if (an >= 3 && (uint8_t)a[0] == 0xef && (uint8_t)a[1] == 0xbb && (uint8_t)a[2] == 0xbf)
        i = 3;
    while (i < an && (a[i] == ' ' || a[i] == '\t' || a[i] == '\r' || a[i] == '\n'))
        i++;
    if (i < an && a[i] == '{')
        return TR_FMT_JSONL;
    if (an - i >= 5 && !memcmp(a + i, "WARC/", 5))
        return TR_FMT_WARC;
    if (i < an && a[i] == '<') {
        if (strstr(a + i, "<mediawiki"))
            return TR_FMT_WIKI;
        if (!strncasecmp(a + i, "<DOC>", 5) || !strncasecmp(a + i, "<DOC ", 5))
            return TR_FMT_TREC;
        return TR_FMT_HTML;
    }
    return TR_FMT_TEXT;
}

static int source_next(tr_source *s, tr_doc_in *doc, char *err, size_t errcap);

int tr_source_next(tr_source *s, tr_doc_in *doc, char *err, size_t errcap)
{
    int rc = source_next(s, doc, err, errcap);
    if (rc == TR_ENOMEM && err && errcap)
        tr_set_err(err, errcap, "%s: out of memory", s->cur ? s->cur->path : "input");
    return rc;
}

static int source_next(tr_source *s, tr_doc_in *doc, char *err, size_t errcap)
{
    memset(doc, 0, sizeof *doc);
    doc->date = TR_NO_DATE;
    if (err && errcap)
        err[0] = '\0';
    if (s->page_buf.cap > TR_PAGE_KEEP_BYTES)
        tr_buf_free(&s->page_buf);
    for (;;) {
        if (!s->lines) {
            if (s->next == s->nents)
                return 0;
            const entry *e = &s->ents[s->next++];
            if (e->error) {
                tr_set_err(err, errcap, "%s", e->error);
                return bad(s, TR_EINPUT);
            }
            tr_stream *st;
            int rc = tr_stream_open(e->path, &st, err, errcap);
            if (rc == TR_ENOMEM)
                return rc;
            if (rc) /* an unreadable file in a directory is one bad record */
                return s->single ? rc : bad(s, TR_EINPUT);
            s->counts.files++;
            if ((rc = tr_lines_create(st, s->opts.max_record, &s->lines)))
                return rc;
            s->cur = e;
            int fmt = e->fmt;
            if (fmt == TR_FMT_AUTO) {
                const uint8_t *p;
                size_t n;
                tr_lines_peek(s->lines, &p, &n, err, errcap);
                fmt = sniff(p, n);
            }
            if (fmt == TR_FMT_WIKI || fmt == TR_FMT_TREC || fmt == TR_FMT_WARC) {
                rc = fmt == TR_FMT_WIKI   ? tr_wiki_open(s->lines, e->path, s->opts.max_record, &s->rec)
                     : fmt == TR_FMT_TREC ? tr_trec_open(s->lines, e->path, s->opts.max_record, &s->rec)
                                          : tr_warc_open(s->lines, e->path, s->opts.max_record, &s->rec);
                if (rc)
                    return rc;
            } else if (fmt != TR_FMT_JSONL) {
                rc = read_page(s, fmt, doc, err, errcap);
                close_current(s);
                return rc;
            }
        }
        if (s->rec) {
            int bad_date = 0;
            int rc = tr_records_next(s->rec, doc, &bad_date, err, errcap);
            if (bad_date)
                s->counts.bad_dates++;
            if (rc == 1) {
                s->counts.docs++;
                return 1;
            }
            if (rc == 0) {
                close_current(s);
                continue;
            }
            memset(doc, 0, sizeof *doc);
            doc->date = TR_NO_DATE;
            if (rc == TR_EINPUT)
                return bad(s, rc);
            if (rc != TR_ENOMEM)
                close_current(s);
            return rc;
        }
        const char *line;
        size_t len;
        uint64_t lineno;
        int rc = tr_lines_next(s->lines, &line, &len, &lineno, err, errcap);
        if (rc == 0) {
            close_current(s);
            continue;
        }
        if (rc == TR_ELIMIT) {
            tr_set_err(err, errcap, "%s:%llu: record longer than %zu bytes", s->cur->path,
                    (unsigned long long)lineno, s->opts.max_record);
            return bad(s, TR_EINPUT);
        }
        if (rc < 0) {
            close_current(s);
            return rc;
        }
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len) {
            s->counts.blank_lines++;
            continue;
        }
        char problem[512];
        int bad_date = 0;
        rc = tr_jsonl_parse(s->jsonl, line, len, doc, &bad_date, problem, sizeof problem);
        if (rc == TR_ENOMEM)
            return rc;
        if (rc) {
            tr_set_err(err, errcap, "%s:%llu: %s", s->cur->path, (unsigned long long)lineno, problem);
            memset(doc, 0, sizeof *doc);
            doc->date = TR_NO_DATE;
            return bad(s, TR_EINPUT);
        }
        if (bad_date)
            s->counts.bad_dates++;
        s->counts.docs++;
        return 1;
    }
}
