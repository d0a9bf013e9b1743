/* pipeline.c - the input reader thread (see pipeline.h). Each record the
 * source returns is copied into the reader's current slab and queued; the
 * consumer releases it when it asks for the next. Parsing was ~20% of
 * indexing CPU on Wikipedia JSONL and sat on the writer's thread, which
 * also inverts and commits: here it runs beside them.
 *
 * Slabs rather than a malloc per record: a block malloc'ed on the reader's
 * thread and freed on the consumer's takes the reader's arena lock, and
 * with 776k passages the two threads queued on that lock all the time (a
 * fifth of the consumer's context switches were in that free). A slab is
 * freed, or kept for reuse, when its last record is released. */
#include "pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_ERR_BYTES 512
#define PIPE_SLAB_MAX ((size_t)1 << 20)
#define PIPE_SLAB_MIN ((size_t)64 << 10)
#define PIPE_SPARE_SLABS 4      /* empty slabs kept for the reader */

typedef struct slab {
    struct slab *next;          /* on the spare list */
    atomic_size_t refs;         /* records not yet released, + 1 while the reader fills it */
    size_t cap, used;
    _Alignas(16) char data[];
} slab;

typedef struct item {
    struct item *next;
    slab *home;
    int rc;                     /* as tr_source_next */
    tr_doc_in doc;              /* pointers into data */
    uint64_t done, total;       /* progress after this record */
    size_t bytes;               /* counted against tr_pipe.max_bytes */
    char *errtext;              /* into data, NUL-terminated, or NULL */
    char data[];
} item;

struct tr_pipe {
    tr_source *src;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item *head, *tail;
    size_t count, bytes;
    size_t max_bytes;           /* TR_PIPE_QUEUE_BYTES or the caller's smaller bound */
    int done;                   /* the reader has queued its last item */
    int stop;                   /* the consumer wants the reader gone */
    int final_rc;               /* returned once the queue is drained after done */
    int consumer_waiting, reader_waiting; /* signal only a thread that sleeps */
    item *local;                /* the consumer's share, taken from the queue in one go */
    item *cur;                  /* handed out, released at the next call */
    uint64_t done_bytes, total_bytes;
    size_t slab_bytes;          /* a slab's size (a bigger record gets one of its own) */
    slab *fill;                 /* the reader's */
    slab *spare;                /* empty, under mu */
    unsigned nspare;
};

static slab *slab_get(tr_pipe *p, size_t need)
{
    slab *s = NULL;
    if (need <= p->slab_bytes) {
        pthread_mutex_lock(&p->mu);
        if ((s = p->spare)) { p->spare = s->next; p->nspare--; }
        pthread_mutex_unlock(&p->mu);
    }
    size_t cap = need > p->slab_bytes ? need : p->slab_bytes;
    if (!s && !(s = malloc(sizeof *s + cap))) return NULL;
    s->cap = cap;
    s->used = 0;
    atomic_init(&s->refs, 1);
    return s;
}

/* Drop one reference; the last one frees the slab or keeps it as a spare. */
static void slab_put(tr_pipe *p, slab *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    if (s->cap == p->slab_bytes) {
        pthread_mutex_lock(&p->mu);
        int keep = p->nspare < PIPE_SPARE_SLABS;
        if (keep) { s->next = p->spare; p->spare = s; p->nspare++; }
        pthread_mutex_unlock(&p->mu);
        if (keep) return;
    }
    free(s);
}

/* Room for an item of n data bytes in the reader's slab (a new one when it
 * is full), or NULL. */
static item *item_alloc(tr_pipe *p, size_t n)
{
    size_t need = (sizeof(item) + n + 15) & ~(size_t)15;
    slab *s = p->fill;
    if (!s || s->cap - s->used < need) {
        slab *ns = slab_get(p, need);
        if (!ns) return NULL;
        slab_put(p, s);
        p->fill = s = ns;
    }
    item *it = (item *)(s->data + s->used);
    s->used += need;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    it->home = s;
    return it;
}

static void item_release(tr_pipe *p, item *it)
{
    if (it) slab_put(p, it->home);
}

static item *make_item(tr_pipe *pp, int rc, const tr_doc_in *d, const char *err)
{
    size_t el = (rc < 0 && err) ? strlen(err) + 1 : 0;
    size_t n = el;
    if (rc == 1) n += d->id_len + d->title_len + d->url_len + d->body_len;
    item *it = item_alloc(pp, n);
    if (!it) return NULL;
    it->next = NULL;
    it->rc = rc;
    it->bytes = n + sizeof *it;
    it->errtext = NULL;
    memset(&it->doc, 0, sizeof it->doc);
    char *p = it->data;
    if (rc == 1) {
        it->doc = *d;
        /* copy each field and point the copy at it (lengths may be 0 with
         * a NULL pointer: memcpy of 0 bytes from NULL is still undefined) */
        const char *src[4] = { d->id, d->title, d->url, d->body };
        size_t len[4] = { d->id_len, d->title_len, d->url_len, d->body_len };
        const char **dst[4] = { &it->doc.id, &it->doc.title, &it->doc.url, &it->doc.body };
        for (int i = 0; i < 4; i++) {
            if (len[i]) memcpy(p, src[i], len[i]);
            *dst[i] = len[i] ? p : (src[i] ? p : NULL);
            p += len[i];
        }
    }
    if (el) {
        memcpy(p, err, el);
        it->errtext = p;
    }
    return it;
}

/* Queue it, waiting for room; returns 0 when the consumer asked to stop. */
static int push(tr_pipe *p, item *it)
{
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->count > 0 &&
           (p->count >= TR_PIPE_QUEUE_DOCS || p->bytes + it->bytes > p->max_bytes)) {
        p->reader_waiting = 1;
        pthread_cond_wait(&p->not_full, &p->mu);
        p->reader_waiting = 0;
    }
    int go = !p->stop;
    if (go) {
        if (p->tail) p->tail->next = it; else p->head = it;
        p->tail = it;
        p->count++;
        p->bytes += it->bytes;
        if (p->consumer_waiting) pthread_cond_signal(&p->not_empty);
    }
    pthread_mutex_unlock(&p->mu);
    if (!go) item_release(p, it);
    return go;
}

static void finish(tr_pipe *p, int rc)
{
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    p->final_rc = rc;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
}

static void *reader(void *arg)
{
    tr_pipe *p = arg;
    char err[PIPE_ERR_BYTES];
    for (;;) {
        tr_doc_in d;
        err[0] = '\0';
        int rc = tr_source_next(p->src, &d, err, sizeof err);
        if (rc == 0) { finish(p, 0); break; }
        item *it = make_item(p, rc, &d, err);
        if (!it) { finish(p, TR_ENOMEM); break; }
        tr_source_progress(p->src, &it->done, &it->total);
        if (!push(p, it)) { finish(p, 0); break; }
        /* TR_EIO: the source goes on with the next file of a directory;
         * the consumer decides whether to stop. Anything else negative
         * besides TR_EINPUT ends the input. */
        if (rc < 0 && rc != TR_EINPUT && rc != TR_EIO) { finish(p, 0); break; }
    }
    return NULL;
}

int tr_pipe_open(const char *path, const tr_source_opts *o, size_t queue_bytes, tr_pipe **out,
                 char *err, size_t errcap)
{
    *out = NULL;
    tr_pipe *p = calloc(1, sizeof *p);
    if (!p) return TR_ENOMEM;
    p->max_bytes = queue_bytes && queue_bytes < TR_PIPE_QUEUE_BYTES ? queue_bytes : TR_PIPE_QUEUE_BYTES;
    int rc = tr_source_open(path, o, &p->src, err, errcap);
    if (rc) { free(p); return rc; }
    p->slab_bytes = p->max_bytes / 8;
    if (p->slab_bytes > PIPE_SLAB_MAX) p->slab_bytes = PIPE_SLAB_MAX;
    if (p->slab_bytes < PIPE_SLAB_MIN) p->slab_bytes = PIPE_SLAB_MIN;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    pthread_cond_init(&p->not_full, NULL);
    if (pthread_create(&p->th, NULL, reader, p) != 0) {
        tr_pipe_close(p);
        if (err && errcap) snprintf(err, errcap, "%s: cannot start the reader thread", path);
        return TR_ENOMEM;
    }
    p->started = 1;
    *out = p;
    return TR_OK;
}

/* The consumer takes everything queued at once and hands it out without
 * the lock: one lock round and at most one wake-up per queue-full rather
 * than per document (776k passages made that a measurable cost). So up to
 * twice the queue bounds are held: the consumer's share and a full queue. */
int tr_pipe_next(tr_pipe *p, tr_doc_in *doc, char *err, size_t errcap)
{
    item_release(p, p->cur);
    p->cur = NULL;
    int rc = 0;
    if (!p->local) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->done) {
            p->consumer_waiting = 1;
            pthread_cond_wait(&p->not_empty, &p->mu);
            p->consumer_waiting = 0;
        }
        p->local = p->head;
        p->head = p->tail = NULL;
        p->count = p->bytes = 0;
        if (!p->local) rc = p->final_rc;
        if (p->reader_waiting) pthread_cond_signal(&p->not_full);
        pthread_mutex_unlock(&p->mu);
    }
    item *it = p->local;
    if (it) p->local = it->next;
    if (!it) {
        if (rc && err && errcap) snprintf(err, errcap, "reading input: %s", tr_strerror(rc));
        return rc;
    }
    p->cur = it;
    p->done_bytes = it->done;
    p->total_bytes = it->total;
    if (it->errtext && err && errcap) snprintf(err, errcap, "%s", it->errtext);
    if (it->rc == 1) *doc = it->doc;
    return it->rc;
}

void tr_pipe_progress(const tr_pipe *p, uint64_t *done, uint64_t *total)
{
    *done = p->done_bytes;
    *total = p->total_bytes;
}

void tr_pipe_close(tr_pipe *p)
{
    if (!p) return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->not_full);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->th, NULL);
    }
    for (int q = 0; q < 2; q++)
        for (item *it = q ? p->local : p->head, *nx; it; it = nx) {
            nx = it->next;
            item_release(p, it);
        }
    item_release(p, p->cur);
    slab_put(p, p->fill);
    for (slab *s = p->spare, *nx; s; s = nx) {
        nx = s->next;
        free(s);
    }
    tr_source_close(p->src);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->not_empty);
    pthread_cond_destroy(&p->not_full);
    free(p);
}
