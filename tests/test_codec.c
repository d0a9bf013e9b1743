/* test_codec.c - the posting-list codec: bit packing at every width, chunk
 * round trips at block and bit-width boundaries, known byte vectors for the
 * compact form, input rejection, BM25 bounds checked against brute force,
 * and corruption (every byte flipped, every truncation) never crashing. */
#include "check.h"
#include "codec.h"

#include <math.h>
#include <stdlib.h>
#include <xxhash.h>

/* ---- a small seeded generator so failures reproduce ---- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rnd_below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* A generated posting list that owns its arrays. */
typedef struct plist {
    uint32_t n;
    uint32_t *docs, *tf, *ttf, *dl, *title_len, *pos;
    uint64_t npos;
} plist;

static void plist_free(plist *l)
{
    free(l->docs); free(l->tf); free(l->ttf); free(l->dl); free(l->title_len); free(l->pos);
    memset(l, 0, sizeof *l);
}

static void plist_alloc(plist *l, uint32_t n)
{
    memset(l, 0, sizeof *l);
    l->n = n;
    l->docs = calloc(n + 1, 4); l->tf = calloc(n + 1, 4); l->ttf = calloc(n + 1, 4);
    l->dl = calloc(n + 1, 4); l->title_len = calloc(n + 1, 4);
}

/* Zipf-like tf, a title hit now and then, positions strictly increasing in
 * each field; max_gap controls doc gaps. */
static void plist_random(plist *l, uint32_t n, uint32_t max_gap, int with_pos)
{
    plist_alloc(l, n);
    uint64_t d = rnd_below(1000);
    for (uint32_t i = 0; i < n; i++) {
        l->docs[i] = (uint32_t)d;
        d += 1 + rnd_below(max_gap);
        uint32_t r = rnd_below(100);
        l->tf[i] = r < 60 ? 1 : r < 85 ? 2 + rnd_below(3) : r < 98 ? 5 + rnd_below(40) : 45 + rnd_below(400);
        l->ttf[i] = rnd_below(4) == 0 ? rnd_below(l->tf[i] < 3 ? l->tf[i] + 1 : 3) : 0;
        l->npos += l->tf[i];
    }
    /* field lengths from the positions: each field ends after its last one
     * (or is exactly as long, now and then: the tightest case) */
    l->pos = malloc((l->npos + 1) * 4);
    uint64_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rnd_below(5);
        for (uint32_t j = 0; j < l->ttf[i]; j++) { l->pos[k++] = p; p += 1 + rnd_below(3); }
        l->title_len[i] = (l->ttf[i] ? l->pos[k - 1] + 1 : 0) + (rnd_below(4) ? rnd_below(10) : 0);
        p = rnd_below(50);
        uint32_t body = 0;
        for (uint32_t j = l->ttf[i]; j < l->tf[i]; j++) {
            l->pos[k++] = p;
            body = p + 1;
            p += 1 + (rnd_below(10) == 0 ? rnd_below(100000) : rnd_below(20));
        }
        l->dl[i] = l->title_len[i] + body + (rnd_below(4) ? rnd_below(2000) : 0);
    }
    if (!with_pos) { free(l->pos); l->pos = NULL; }
}

/* Body lengths of postings [at, at + n) of l. */
static void plist_body_len(const plist *l, uint32_t at, uint32_t n, uint32_t *bl)
{
    for (uint32_t i = 0; i < n; i++) bl[i] = l->dl[at + i] - l->title_len[at + i];
}

static tr_postings_in plist_in(const plist *l)
{
    tr_postings_in in = { l->n, l->docs, l->tf, l->ttf, l->dl, l->pos, l->title_len };
    return in;
}

/* Decode every block of chunk c and compare with l. Returns 0 when equal,
 * TR_ECORRUPT when a decode reported corruption, 1 on a silent mismatch. */
static int chunk_matches(const tr_chunk *c, const plist *l, int verify)
{
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
    uint32_t *pos = NULL;
    size_t cap = 0;
    uint32_t at = 0;
    uint64_t pat = 0;
    int result = 0;
    if (c->ndocs != l->n || c->first_doc != l->docs[0] || c->last_doc != l->docs[l->n - 1])
        return 1;
    if (c->has_positions != (l->pos != NULL)) return 1;
    for (uint32_t b = 0; b < c->nblocks && !result; b++) {
        int n = tr_chunk_block_decode(c, b, verify, docs, tf, ttf);
        if (n < 0) { result = n; break; }
        if ((uint32_t)n != tr_chunk_block_count(c, b) || at + (uint32_t)n > l->n) { result = 1; break; }
        if (tr_chunk_block_last(c, b) != docs[n - 1]) { result = 1; break; }
        /* doc ids alone (counting): the same ids */
        uint32_t docs2[TR_BLOCK_DOCS];
        if (tr_chunk_block_decode(c, b, verify, docs2, NULL, NULL) != n ||
            memcmp(docs2, docs, (size_t)n * 4)) { result = 1; break; }
        for (int i = 0; i < n; i++)
            if (docs[i] != l->docs[at + i] || tf[i] != l->tf[at + i] || ttf[i] != l->ttf[at + i])
                result = 1;
        if (result) break;
        if (l->pos) {
            uint64_t want = 0;
            for (int i = 0; i < n; i++) want += tf[i];
            if (want > cap) { cap = want; pos = realloc(pos, cap * 4); }
            uint32_t bl[TR_BLOCK_DOCS];
            plist_body_len(l, at, (uint32_t)n, bl);
            int np = tr_chunk_block_positions(c, b, verify, tf, (uint32_t)n, l->title_len + at, bl, pos, cap);
            if (np < 0) { result = np; break; }
            if ((uint64_t)np != want || memcmp(pos, l->pos + pat, want * 4)) { result = 1; break; }
            /* single postings through a tr_pos_block: in order, then
             * backwards (a restart of the quotient scan each time) */
            tr_pos_block *pb = tr_pos_block_new();
            uint32_t *one = malloc((want + 1) * 4);
            if (!pb || !one || tr_pos_block_open(pb, c, b, verify, tf, ttf, (uint32_t)n,
                                                 l->title_len + at, bl)) {
                result = 1;
            } else {
                for (int pass = 0; pass < 2 && !result; pass++) {
                    for (int k = 0; k < n && !result; k++) {
                        int i = pass ? n - 1 - k : k;
                        uint64_t start = 0;
                        for (int j = 0; j < i; j++) start += tf[j];
                        int m = tr_pos_block_posting(pb, (uint32_t)i, one);
                        if (m != (int)tf[i] || memcmp(one, l->pos + pat + start, tf[i] * 4)) result = 1;
                    }
                }
                if (tr_pos_block_posting(pb, (uint32_t)n, one) != TR_EINPUT) result = 1;
            }
            tr_pos_block_free(pb);
            free(one);
            if (result) break;
            pat += want;
        }
        at += (uint32_t)n;
    }
    if (!result && at != l->n) result = 1;
    free(pos);
    return result;
}

static void roundtrip(const plist *l, const char *what)
{
    tr_postings_in in = plist_in(l);
    tr_buf out = {0};
    int rc = tr_chunk_encode(&in, &out);
    CHECK_EQ_INT(rc, 0);
    tr_chunk c;
    rc = tr_chunk_open(&c, out.data, out.len);
    CHECK_EQ_INT(rc, 0);
    if (!rc) {
        CHECK_EQ_INT(c.nblocks, (l->n + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS);
        int m = chunk_matches(&c, l, 1);
        if (m) fprintf(stderr, "round trip failed: %s (n=%u, rc=%d)\n", what, l->n, m);
        CHECK_EQ_INT(m, 0);
        CHECK_EQ_INT(chunk_matches(&c, l, 0), 0);
    }
    tr_buf_free(&out);
}

/* ---- bit packing ---- */
static void test_pack(void)
{
    uint32_t v[300], back[300 + 8];
    for (unsigned w = 0; w <= 32; w++) {
        uint32_t mask = w == 32 ? 0xFFFFFFFFu : (1u << w) - 1;
        for (size_t n = 0; n <= 300; n++) {
            for (size_t i = 0; i < n; i++) v[i] = (i % 3 == 0) ? mask : (uint32_t)rnd() & mask;
            size_t bytes = tr_packed_size(n, w);
            /* exact-size heap buffer so ASan catches any overread */
            uint8_t *buf = malloc(bytes ? bytes : 1);
            size_t wrote = tr_pack(buf, v, n, w);
            if (wrote != bytes) { CHECK_EQ_INT(wrote, bytes); free(buf); continue; }
            back[n] = 0xDEADBEEF; /* the canary past the end stays put */
            tr_unpack(back, buf, n, w);
            int same = memcmp(back, v, n * 4) == 0 && back[n] == 0xDEADBEEF;
            if (!same) fprintf(stderr, "pack w=%u n=%zu\n", w, n);
            CHECK(same);
            if (n) CHECK_EQ_INT(tr_bits_needed(v, n), w);
            free(buf);
        }
    }
    /* bit order: value i sits at bits i*w.., least significant first */
    uint32_t three[3] = {1, 2, 3};
    uint8_t b[2];
    CHECK_EQ_INT(tr_pack(b, three, 3, 4), 2);
    CHECK_EQ_INT(b[0], 0x21);
    CHECK_EQ_INT(b[1], 0x03);
    CHECK_EQ_INT(tr_bits_needed(three, 0), 0);
}

/* ---- known answers ---- */
static void test_compact_vectors(void)
{
    uint32_t doc = 5, tf = 1, ttf = 0, dl = 10, pos = 3;
    uint32_t tl = 0;
    tr_postings_in in = { 1, &doc, &tf, &ttf, &dl, NULL, &tl };
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    /* format, flags (1 point), doc 5, ndocs - 1, dl 10, then the doc-block:
     * gap head (width 0, no ttf stream), tf head (width 0) */
    static const uint8_t want[] = {0x08, 0x02, 0x05, 0x00, 0x0A, 0x00, 0x00};
    CHECK_EQ_INT(out.len, sizeof want + 4);
    CHECK(out.len == sizeof want + 4 && memcmp(out.data, want, sizeof want) == 0);
    if (out.len == sizeof want + 4)
        CHECK_EQ_INT(tr_get_le32(out.data + sizeof want), (uint32_t)XXH3_64bits(want, sizeof want));

    /* with one position: flags gain bit 0; one body run of one position in
     * a body of 10: no gaps, the first position 3 in truncated binary over
     * [0, 10) (b = 4, u = 6: 3 < 6 takes 3 bits: 0x03) */
    tr_buf_clear(&out);
    in.pos = &pos;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    static const uint8_t want2[] = {0x08, 0x03, 0x05, 0x00, 0x0A, 0x00, 0x00, 0x03};
    CHECK(out.len == sizeof want2 + 4 && memcmp(out.data, want2, sizeof want2) == 0);
    tr_chunk c;
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    CHECK_EQ_INT(c.nblocks, 1);
    CHECK_EQ_INT(c.first_doc, 5);
    CHECK_EQ_INT(c.last_doc, 5);
    CHECK_EQ_INT(c.bound.npoints, 1);
    CHECK_EQ_INT(c.bound.pt[0].tf, 1);
    CHECK_EQ_INT(c.bound.pt[0].dl, 10);

    /* singleton overhead beyond doc/tf/position bits stays small, even for a
     * large doc id, a title hit and a long document */
    uint32_t bigdoc = 4000000000u, tf3 = 3, ttf1 = 1, dl3 = 30000, pos3[3] = {0, 7, 9}, tl3 = 5;
    tr_postings_in in3 = { 1, &bigdoc, &tf3, &ttf1, &dl3, pos3, &tl3 };
    tr_buf_clear(&out);
    CHECK_EQ_INT(tr_chunk_encode(&in3, &out), 0);
    /* payload bits: doc id 32 bits (4 bytes), tf-1 2 bits, ttf 1 bit, 3 positions <= 4 bits */
    size_t payload = 4 + 1 + 1 + 2;
    fprintf(stderr, "singleton chunk: %zu bytes (%zu overhead)\n", out.len, out.len - payload);
    CHECK(out.len - payload <= 16);
    tr_buf_free(&out);
}

/* Positions coded per run from the field lengths: known bytes for a small
 * posting, lengths that cannot hold the runs (TR_ECORRUPT, verified or
 * not), wrong lengths never read outside the chunk, and long gaps (k
 * clamped at 24, quotients of thousands of bits) at every width. */
static void test_run_positions(void)
{
    /* title {2} in a title of 3; body {1, 2, 9} in a body of 16 */
    uint32_t doc = 5, tf = 4, ttf = 1, tl = 3, dl = 19, pos[4] = {2, 1, 2, 9};
    tr_postings_in in = { 1, &doc, &tf, &ttf, &dl, pos, &tl };
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    /* body run: k = floor(log2(16 / 3)) = 2; gaps 0 and 6: lows 00, 01
     * (LSB first); firsts' leading bits: title 2 over [0, 3) (b 2, u 1:
     * z = 3, leading bit 1), body 1 over [0, 14) (b 4, u 2: 1 < 2, 3 bits
     * 100); their last bits: the title's (1); quotients 0 and 1: 1, 01.
     * Bits 0001 1100 1101: 0x38, 0x0B. */
    static const uint8_t want[] = {0x38, 0x0B};
    CHECK(out.len >= sizeof want + 4 &&
          memcmp(out.data + out.len - 4 - sizeof want, want, sizeof want) == 0);
    tr_chunk c;
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    uint32_t d[TR_BLOCK_DOCS], t[TR_BLOCK_DOCS], tt[TR_BLOCK_DOCS], got[4];
    uint32_t bl = 16;
    CHECK_EQ_INT(tr_chunk_block_decode(&c, 0, 1, d, t, tt), 1);
    CHECK_EQ_INT(tr_chunk_block_positions(&c, 0, 1, t, 1, &tl, &bl, got, 4), 4);
    CHECK(memcmp(got, pos, sizeof pos) == 0);
    memset(got, 0, sizeof got);
    CHECK_EQ_INT(tr_chunk_posting_positions(&c, 0, 1, t, tt, 1, 0, &tl, &bl, got), 4);
    CHECK(memcmp(got, pos, sizeof pos) == 0);
    CHECK_EQ_INT(tr_chunk_block_positions(&c, 0, 1, t, 1, NULL, &bl, got, 4), TR_EINPUT);
    /* lengths that cannot hold the runs, or that do not match the bits */
    uint32_t bad_tl[] = {0, 3, 3, 3, 1}, bad_bl[] = {16, 2, 0, 9, 16};
    for (int k = 0; k < 5; k++) {
        for (int v = 0; v < 2; v++) {
            int rc = tr_chunk_block_positions(&c, 0, v, t, 1, &bad_tl[k], &bad_bl[k], got, 4);
            int rc1 = tr_chunk_posting_positions(&c, 0, v, t, tt, 1, 0, &bad_tl[k], &bad_bl[k], got);
            if (k < 3) {
                CHECK_EQ_INT(rc, TR_ECORRUPT);
                CHECK_EQ_INT(rc1, TR_ECORRUPT);
            } else {   /* decodable or not, never a position past its field */
                CHECK(rc == TR_ECORRUPT || (rc == 4 && got[0] < bad_tl[k] && got[3] < bad_bl[k]));
            }
        }
    }
    /* every length from 0 to 40 for both fields: no crash, no read outside
     * (ASan), and only the right pair is sure to give the positions */
    for (uint32_t a = 0; a <= 40; a++)
        for (uint32_t z = 0; z <= 40; z++) {
            int rc = tr_chunk_block_positions(&c, 0, 0, t, 1, &a, &z, got, 4);
            CHECK(rc == TR_ECORRUPT || (rc == 4 && got[0] < a && got[3] < z));
            (void)tr_chunk_posting_positions(&c, 0, 0, t, tt, 1, 0, &a, &z, got);
        }
    /* one outlier of every width after 129 dense positions in a long body */
    uint32_t ttf0 = 0, tl0 = 0;
    for (unsigned wbig = 1; wbig <= 32; wbig++) {
        uint32_t p2[130];
        uint32_t tf2 = 130;
        for (uint32_t i = 0; i < 130; i++) p2[i] = i * 2;
        uint64_t top = (wbig == 32 ? 0xFFFFFFFEull : (1ull << wbig) - 1) - 1;
        if (top > p2[128]) p2[129] = (uint32_t)top;
        uint32_t dl2 = p2[129] + 1 + (wbig & 1) * 1000;
        if (dl2 < p2[129]) dl2 = p2[129] + 1;
        tr_postings_in in2 = { 1, &doc, &tf2, &ttf0, &dl2, p2, &tl0 };
        tr_buf_clear(&out);
        CHECK_EQ_INT(tr_chunk_encode(&in2, &out), 0);
        uint32_t got2[130];
        if (tr_chunk_open(&c, out.data, out.len) == 0 && tr_chunk_block_decode(&c, 0, 1, d, t, tt) == 1) {
            CHECK_EQ_INT(tr_chunk_block_positions(&c, 0, 1, t, 1, &tl0, &dl2, got2, 130), 130);
            CHECK(memcmp(got2, p2, sizeof p2) == 0);
            memset(got2, 0, sizeof got2);
            CHECK_EQ_INT(tr_chunk_posting_positions(&c, 0, 1, t, tt, 1, 0, &tl0, &dl2, got2), 130);
            CHECK(memcmp(got2, p2, sizeof p2) == 0);
        } else {
            CHECK(0);
        }
    }
    /* a run that ends past its field, or a title without room, is refused */
    uint32_t short_dl = 9;
    in.dl = &short_dl;   /* body of 6: position 9 is outside */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    uint32_t short_tl = 2;
    in.dl = &dl;
    in.tl = &short_tl;   /* title position 2 in a title of 2 */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    in.tl = NULL;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    tr_buf_free(&out);
}

/* Bytes of a full chunk's directory entry for its flags (FORMAT.md). */
static unsigned full_stride(unsigned flags)
{
    unsigned pos = flags & 1;
    return 4 + (flags & 2 ? 2 : 4) + (pos ? (flags & 4 ? 2 : 4) + 4 : 0) + 4 + 9;
}

static void test_full_header(void)
{
    plist l;
    plist_random(&l, 129, 100, 1);
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    /* format, flags: positions, u16 doc and pos offsets (both areas small) */
    CHECK_EQ_INT(out.data[0], 0x07);
    CHECK_EQ_INT(out.data[1], 0x07);
    CHECK_EQ_INT(tr_get_le32(out.data + 3), 129);
    CHECK_EQ_INT(tr_get_le32(out.data + 7), l.docs[0]);
    /* 25-byte entries: last u32, doc_end u16, pos_end u16, two csums, bound
     * codes 9 */
    CHECK_EQ_INT(full_stride(out.data[1]), 25);
    CHECK_EQ_INT(tr_get_le32(out.data + 33), l.docs[127]);      /* dir[0].last_doc */
    CHECK_EQ_INT(tr_get_le32(out.data + 33 + 25), l.docs[128]); /* dir[1].last_doc */
    CHECK_EQ_INT(33 + 2 * 25 + tr_get_le16(out.data + 33 + 25 + 4) + tr_get_le16(out.data + 33 + 25 + 6),
                 out.len);
    /* appending keeps what the buffer held */
    size_t first = out.len;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(out.len, 2 * first);
    CHECK(memcmp(out.data, out.data + first, first) == 0);
    tr_buf_free(&out);
    plist_free(&l);
}

/* Patched bit packing: a known vector (one outlier gap becomes an
 * exception), exceptions behind a valid checksum that break the rules are
 * corrupt, an outlier of every width in every stream round-trips, and both
 * offset widths of the directory. */
static void test_patched_streams(void)
{
    /* docs 100..108 then 1109: gaps 0 x 9 and 1000; tf 1; dl 10 */
    plist l;
    plist_alloc(&l, 10);
    for (uint32_t i = 0; i < 10; i++) { l.docs[i] = 100 + i; l.tf[i] = 1; l.dl[i] = 10; }
    l.docs[9] = 1109;
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    /* format, flags (1 point), first 100, ndocs - 1, span 1009, max_ttf 0,
     * point (1, 10); gap head: width 0 + exceptions, count 1, width 10,
     * index 9, 1000 in 10 bits; tf head: width 0 */
    static const uint8_t want[] = {0x08, 0x02, 0x64, 0x09, 0xF1, 0x07, 0x00, 0x01, 0x0A,
                                   0x40, 0x01, 0x0A, 0x09, 0xE8, 0x03, 0x00};
    CHECK_EQ_INT(out.len, sizeof want + 4);
    CHECK(out.len == sizeof want + 4 && memcmp(out.data, want, sizeof want) == 0);
    roundtrip(&l, "one exception");
    /* rewrite one byte, fix the checksum: refused at open or at decode */
    static const struct { size_t at; uint8_t v; } bad[] = {
        {10, 0}, {10, 11}, {11, 0}, {11, 33}, {12, 10}, {12, 200}, {15, 0x80}, {9, 0x61},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        uint8_t p[sizeof want + 4];
        memcpy(p, want, sizeof want);
        p[bad[k].at] = bad[k].v;
        tr_put_le32(p + sizeof want, (uint32_t)XXH3_64bits(p, sizeof want));
        tr_chunk c;
        int rc = tr_chunk_open(&c, p, sizeof p);
        if (rc == 0) {
            uint32_t d[TR_BLOCK_DOCS], t[TR_BLOCK_DOCS], tt[TR_BLOCK_DOCS];
            rc = tr_chunk_block_decode(&c, 0, 1, d, t, tt);
        }
        if (rc != TR_ECORRUPT) fprintf(stderr, "bad exception byte %zu = %u accepted\n", bad[k].at, bad[k].v);
        CHECK_EQ_INT(rc, TR_ECORRUPT);
    }
    plist_free(&l);
    /* two exceptions (gaps 1000 at postings 3 and 7): their indexes swapped
     * or equal are corrupt, in range as they are */
    plist_alloc(&l, 10);
    for (uint32_t i = 0; i < 10; i++) {
        l.docs[i] = 100 + i + (i >= 3 ? 1000 : 0) + (i >= 7 ? 1000 : 0);
        l.tf[i] = 1;
        l.dl[i] = 10;
    }
    in = plist_in(&l);
    tr_buf_clear(&out);
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    roundtrip(&l, "two exceptions");
    /* format, flags, first 100, ndocs - 1, span 2009 (2 bytes), max_ttf,
     * point (1, 10); then the gap head at 9: width 0 + exceptions, count 2,
     * width 10, indexes 3 and 7 */
    CHECK(out.len > 14 && out.data[9] == 0x40 && out.data[10] == 2 && out.data[12] == 3 &&
          out.data[13] == 7);
    static const uint8_t idx_bad[][2] = { {7, 3}, {3, 3}, {7, 7}, {3, 10} };
    for (size_t k = 0; k < sizeof idx_bad / sizeof *idx_bad && out.len > 14; k++) {
        uint8_t p[64];
        CHECK(out.len <= sizeof p);
        if (out.len > sizeof p) break;
        memcpy(p, out.data, out.len);
        p[12] = idx_bad[k][0];
        p[13] = idx_bad[k][1];
        tr_put_le32(p + out.len - 4, (uint32_t)XXH3_64bits(p, out.len - 4));
        tr_chunk c;
        int rc = tr_chunk_open(&c, p, out.len);
        if (rc == 0) {
            uint32_t d[TR_BLOCK_DOCS], t[TR_BLOCK_DOCS], tt[TR_BLOCK_DOCS];
            rc = tr_chunk_block_decode(&c, 0, 1, d, t, tt);
        }
        CHECK_EQ_INT(rc, TR_ECORRUPT);
    }
    plist_free(&l);

    /* a dense block (every gap below 16) takes no exceptions: the same
     * list with gaps of 1 keeps tf's outlier in a 10-bit stream */
    plist_alloc(&l, 10);
    for (uint32_t i = 0; i < 10; i++) { l.docs[i] = 100 + 2 * i; l.tf[i] = 1; l.dl[i] = 10; }
    l.tf[9] = 1001;
    in = plist_in(&l);
    tr_buf_clear(&out);
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    /* ... point (1001, 10); gap head: width 1, no exceptions, 10 x 1 bit
     * (0x3FE: gap[0] = 0, then 1s); tf head: width 10, 10 x 10 bits */
    static const uint8_t dense[] = {0x08, 0x02, 0x64, 0x09, 0x12, 0x00, 0xE9, 0x07, 0x0A,
                                    0x01, 0xFE, 0x03, 0x0A};
    CHECK(out.len == sizeof dense + 13 + 4 && memcmp(out.data, dense, sizeof dense) == 0);
    roundtrip(&l, "dense block");
    plist_free(&l);

    /* an outlier of every width, in each stream, at the first, a middle and
     * the last posting of a full block and of a partial one; gaps of 20 and
     * more make the blocks sparse, so exceptions are allowed */
    static const uint32_t idx[] = {0, 63, 127, 128, 199};
    for (unsigned w = 1; w <= 32; w++) {
        for (size_t k = 0; k < sizeof idx / sizeof *idx; k++) {
            for (int stream = 0; stream < 3; stream++) {
                plist_alloc(&l, 200);
                uint64_t d = 7;
                uint32_t big = w == 32 ? UINT32_MAX - 300 : (uint32_t)((1ull << w) - 1);
                for (uint32_t i = 0; i < 200; i++) {
                    uint32_t gap = stream == 0 && i == idx[k] ? big : 20 + i % 3;
                    if (d + gap + 1 >= TR_DOC_END - 200) gap = 0;
                    d += gap;
                    l.docs[i] = (uint32_t)d;
                    d++;
                    l.tf[i] = 1 + i % 2;
                    if (stream >= 1 && i == idx[k]) l.tf[i] = w == 32 ? UINT32_MAX : big + 1;
                    l.ttf[i] = stream == 2 && i == idx[k] ? l.tf[i] : 0;
                    l.dl[i] = 100;
                }
                roundtrip(&l, "outlier");
                plist_free(&l);
            }
        }
    }

    /* offsets: small areas take u16 (flags 0x06), large ones u32 */
    plist_random(&l, 20000, 1000, 1);
    in = plist_in(&l);
    tr_buf_clear(&out);
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(out.data[1] & 0x06, 0x02);  /* doc area < 64 KiB, positions over */
    roundtrip(&l, "u32 positions offsets");
    plist_free(&l);
    plist_random(&l, 60000, 60000, 0);
    in = plist_in(&l);
    tr_buf_clear(&out);
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(out.data[1], 0x00);         /* no positions, doc area over 64 KiB */
    CHECK_EQ_INT(full_stride(out.data[1]), 21);
    roundtrip(&l, "u32 doc offsets");
    plist_free(&l);
    tr_buf_free(&out);
}

/* The directory's one-byte bound codes at their boundaries: a two-block
 * chunk whose first block has one (tf, dl, ttf) everywhere reads back a
 * bound with tf and max_ttf rounded up and dl rounded down, by at most
 * 1/16, and the chunk bound covers it. */
static void test_dir_bound_codes(void)
{
    static const uint32_t vals[] = {1, 2, 15, 16, 17, 31, 32, 33, 255, 1000, 4097,
                                    63488, 63489, 65534, 65535, 70000};
    size_t nv = sizeof vals / sizeof *vals;
    for (size_t a = 0; a < nv; a++) {
        for (size_t z = 0; z < nv; z += 3) {
            plist l;
            plist_alloc(&l, 129);
            for (uint32_t i = 0; i < 129; i++) {
                l.docs[i] = 10 + i;
                l.tf[i] = i < 128 ? vals[a] : 1;
                l.ttf[i] = i < 128 ? vals[a] / 2 : 0;
                l.dl[i] = i < 128 ? vals[z] : 5;
            }
            tr_postings_in in = plist_in(&l);
            tr_buf out = {0};
            tr_chunk c;
            CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
            CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
            tr_bound bd;
            tr_chunk_block_bound(&c, 0, &bd);
            CHECK_EQ_INT(bd.npoints, 1);
            uint32_t t = vals[a] > 65535 ? 65535 : vals[a], d = vals[z] > 65535 ? 65535 : vals[z];
            uint32_t tt = vals[a] / 2 > 65535 ? 65535 : vals[a] / 2;
            CHECK(bd.pt[0].tf >= t && bd.pt[0].tf <= t + t / 16 + 1);
            CHECK(bd.pt[0].dl <= d && bd.pt[0].dl + d / 16 + 1 >= d);
            CHECK(bd.max_ttf >= tt && bd.max_ttf <= tt + tt / 16 + 1);
            CHECK(tr_bound_bm25(&c.bound, 1.2, 0.75, 2.0, 100.0) >= tr_bound_bm25(&bd, 1.2, 0.75, 2.0, 100.0));
            tr_buf_free(&out);
            plist_free(&l);
        }
    }
}

static void test_gaps(void)
{
    /* gaps 0, 1, 127, 128, 2^31 and the extreme doc ids */
    static const uint64_t gaps[] = {0, 1, 127, 128, 1ull << 31, 0, 1};
    plist l;
    plist_alloc(&l, 8);
    uint64_t d = 0;
    for (uint32_t i = 0; i < 8; i++) {
        l.docs[i] = (uint32_t)d;
        l.tf[i] = 1; l.dl[i] = 1;
        if (i < 7) d += 1 + gaps[i];
    }
    roundtrip(&l, "gaps 0 1 127 128 2^31");
    plist_free(&l);

    plist_alloc(&l, 2);
    l.docs[0] = 0; l.docs[1] = UINT32_MAX - 1; /* gap 2^32 - 2 */
    l.tf[0] = l.tf[1] = 1;
    roundtrip(&l, "docs 0 and UINT32_MAX-1");
    tr_postings_in in = plist_in(&l);
    in.dl = NULL; /* dl is optional: bounds then assume dl 0 */
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    tr_buf_free(&out);
    plist_free(&l);

    /* the same extremes in a multi-block chunk, gap 2^32-2 inside block 2 */
    plist_alloc(&l, 200);
    for (uint32_t i = 0; i < 199; i++) { l.docs[i] = i; l.tf[i] = 1; }
    l.docs[199] = UINT32_MAX - 1; l.tf[199] = 1;
    roundtrip(&l, "multi-block extreme");
    plist_free(&l);

    /* tf up to 2^32-1 with ttf = tf (no positions) */
    plist_alloc(&l, 130);
    for (uint32_t i = 0; i < 130; i++) {
        l.docs[i] = i * 3;
        l.tf[i] = i % 2 ? UINT32_MAX : (uint32_t)i + 1;
        l.ttf[i] = l.tf[i];
        l.dl[i] = UINT32_MAX;
    }
    roundtrip(&l, "tf 2^32-1");
    plist_free(&l);
}

static void test_block_sizes(void)
{
    static const uint32_t sizes[] = {1, 2, 127, 128, 129, 255, 256, 257, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (int wp = 0; wp < 2; wp++) {
            plist l;
            plist_random(&l, sizes[s], s % 2 ? 3 : 100000, wp);
            roundtrip(&l, "block sizes");
            plist_free(&l);
        }
    }
    /* positions across group boundaries: one posting with 300 positions,
     * then postings whose positions straddle the 128-value groups */
    plist l;
    plist_alloc(&l, 5);
    uint32_t tfs[5] = {300, 127, 1, 129, 128};
    for (uint32_t i = 0; i < 5; i++) {
        l.docs[i] = 10 + i; l.tf[i] = tfs[i]; l.ttf[i] = i == 0 ? 2 : 0;
        l.title_len[i] = 10; l.dl[i] = 10 + 400000;
        l.npos += tfs[i];
    }
    l.pos = malloc(l.npos * 4);
    uint64_t k = 0;
    for (uint32_t i = 0; i < 5; i++) {
        for (uint32_t j = 0; j < l.ttf[i]; j++) l.pos[k++] = j * 2;
        for (uint32_t j = l.ttf[i]; j < l.tf[i]; j++) l.pos[k++] = j * 1000 + (j % 7);
    }
    roundtrip(&l, "position groups");
    /* too small a position buffer is TR_ELIMIT, not an overflow */
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    tr_chunk c;
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS], pos[700];
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    CHECK_EQ_INT(tr_chunk_block_decode(&c, 0, 1, docs, tf, ttf), 5);
    uint32_t bl[5];
    plist_body_len(&l, 0, 5, bl);
    CHECK_EQ_INT(tr_chunk_block_positions(&c, 0, 1, tf, 5, l.title_len, bl, pos, 684), TR_ELIMIT);
    CHECK_EQ_INT(tr_chunk_block_positions(&c, 0, 1, tf, 5, l.title_len, bl, pos, 685), 685);
    tr_buf_free(&out);
    plist_free(&l);
}

static void test_random_roundtrips(void)
{
    for (int t = 0; t < 300; t++) {
        uint32_t n = 1 + (t % 3 == 0 ? rnd_below(5) : rnd_below(2000));
        plist l;
        plist_random(&l, n, 1 + rnd_below(t % 2 ? 10 : 5000), (int)(rnd() & 1));
        roundtrip(&l, "random");
        plist_free(&l);
    }
}

/* Blocks as a single posting's set-up (tr_pos_block) lays them out: with
 * no title run at all (its loop without them), with title-only postings
 * (empty body runs: no leading or last bit), and mixed, block by block;
 * a chunk's last block is read with tail-checked loads, the others
 * without. roundtrip compares every posting with the whole-block decode. */
static void plist_titles(plist *l, uint32_t n, int mode)
{
    plist_alloc(l, n);
    uint64_t d = rnd_below(100);
    for (uint32_t i = 0; i < n; i++) {
        l->docs[i] = (uint32_t)d;
        d += 1 + rnd_below(20);
        l->tf[i] = 1 + (rnd_below(4) == 0 ? rnd_below(30) : rnd_below(3));
        int m = mode == 2 ? (int)((i / TR_BLOCK_DOCS) % 3) : mode;
        l->ttf[i] = m == 0 ? 0 : m == 1 ? l->tf[i] : rnd_below(2) ? rnd_below(l->tf[i] + 1) : 0;
        l->npos += l->tf[i];
    }
    l->pos = malloc((l->npos + 1) * 4);
    uint64_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rnd_below(5);
        for (uint32_t j = 0; j < l->ttf[i]; j++) { l->pos[k++] = p; p += 1 + rnd_below(3); }
        l->title_len[i] = (l->ttf[i] ? l->pos[k - 1] + 1 : 0) + (rnd_below(2) ? rnd_below(10) : 0);
        p = rnd_below(50);
        uint32_t body = 0;
        for (uint32_t j = l->ttf[i]; j < l->tf[i]; j++) {
            l->pos[k++] = p;
            body = p + 1;
            p += 1 + rnd_below(rnd_below(8) == 0 ? 5000 : 20);
        }
        l->dl[i] = l->title_len[i] + body + (rnd_below(2) ? rnd_below(300) : 0);
    }
}

static void test_single_posting_layout(void)
{
    static const char *what[3] = { "no title runs", "title-only postings", "mixed blocks" };
    for (int t = 0; t < 60; t++) {
        int mode = t % 3;
        uint32_t n = t < 6 ? 1 + rnd_below(TR_BLOCK_DOCS) : 1 + rnd_below(5 * TR_BLOCK_DOCS);
        plist l;
        plist_titles(&l, n, mode);
        roundtrip(&l, what[mode]);
        plist_free(&l);
    }
}

/* A set-up serves whichever postings are asked for: each posting of a
 * fresh set-up alone (its first positions and last bits found without
 * reading the earlier postings'), pairs and increasing sequences asked in
 * order (the quotient scan resumed), a posting asked again after later
 * ones, and every posting downwards or every second one upwards, must
 * give the whole-block decode's positions: postings 0, 1, 7, 8, 9 (either
 * side of an eight-posting step), 63, 127 and the block's last, in blocks
 * of 1, 2, 9, 128 postings and more, with and without title runs; the
 * last block of a chunk is read with tail-checked loads. A damaged field
 * length must be refused or give positions inside the fields given, to
 * every posting in order and to one posting asked alone. */
static void single_alone(const plist *l, const char *what)
{
    tr_postings_in in = plist_in(l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    tr_chunk c;
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS], bad[TR_BLOCK_DOCS];
    tr_pos_block *pb = tr_pos_block_new();
    uint32_t *all = NULL, *one = NULL;
    uint32_t at = 0;
    int fails = 0;
    for (uint32_t b = 0; b < c.nblocks && pb; b++) {
        int n = tr_chunk_block_decode(&c, b, 1, docs, tf, ttf);
        CHECK(n > 0);
        if (n <= 0) break;
        uint64_t sum = 0, start[TR_BLOCK_DOCS + 1];
        for (int i = 0; i < n; i++) { start[i] = sum; sum += tf[i]; }
        start[n] = sum;
        all = realloc(all, (sum + 1) * 4);
        one = realloc(one, (sum + 1) * 4);
        plist_body_len(l, at, (uint32_t)n, bl);
        const uint32_t *tl = l->title_len + at;
        CHECK_EQ_INT(tr_chunk_block_positions(&c, b, 1, tf, (uint32_t)n, tl, bl, all, sum), (int)sum);
        enum { NPICK = 8 };
        static const int pick[NPICK] = { 0, 1, 7, 8, 9, 63, 127, -1 };
        for (int a = 0; a < NPICK; a++) {
            int i = pick[a] < 0 ? n - 1 : pick[a];
            if (i >= n) continue;
            /* i alone, then i with each later pick */
            for (int z = a; z < NPICK; z++) {
                int j = pick[z] < 0 ? n - 1 : pick[z];
                if (j >= n || (z > a && j <= i)) continue;
                if (tr_pos_block_open(pb, &c, b, 1, tf, ttf, (uint32_t)n, tl, bl)) { fails++; continue; }
                int m = tr_pos_block_posting(pb, (uint32_t)i, one);
                if (m != (int)tf[i] || memcmp(one, all + start[i], tf[i] * 4)) fails++;
                if (z == a) continue;
                m = tr_pos_block_posting(pb, (uint32_t)j, one);
                if (m != (int)tf[j] || memcmp(one, all + start[j], tf[j] * 4)) fails++;
            }
            /* from i on, the later picks in increasing order in one
             * set-up (the layout extended step by step), then i again */
            if (tr_pos_block_open(pb, &c, b, 1, tf, ttf, (uint32_t)n, tl, bl)) { fails++; continue; }
            int last = -1;
            for (int z = a; z <= NPICK; z++) {
                int j = z == NPICK ? i : pick[z] < 0 ? n - 1 : pick[z];
                if (j >= n || (z < NPICK && j <= last)) continue;
                last = j;
                int m = tr_pos_block_posting(pb, (uint32_t)j, one);
                if (m != (int)tf[j] || memcmp(one, all + start[j], tf[j] * 4)) fails++;
            }
        }
        /* every posting of a fresh set-up from the block's last down to
         * its first, and every second one upwards */
        for (int pass = 0; pass < 2; pass++) {
            if (tr_pos_block_open(pb, &c, b, 0, tf, ttf, (uint32_t)n, tl, bl)) { fails++; continue; }
            for (int k = 0; k < n; k += 1 + pass) {
                int i = pass ? k : n - 1 - k;
                int m = tr_pos_block_posting(pb, (uint32_t)i, one);
                if (m != (int)tf[i] || memcmp(one, all + start[i], tf[i] * 4)) fails++;
            }
        }
        /* one body length off by a little or doubled: refused, or every
         * posting's positions inside its fields */
        for (int k = 0; k < 8; k++) {
            memcpy(bad, bl, (size_t)n * 4);
            uint32_t v = rnd_below((uint32_t)n);
            bad[v] = k % 4 == 0 ? bl[v] + 1 : k % 4 == 1 ? bl[v] * 2 + 1
                   : k % 4 == 2 ? bl[v] - (bl[v] > 0) : bl[v] + 1000;
            if (tr_pos_block_open(pb, &c, b, 0, tf, ttf, (uint32_t)n, tl, bad)) continue;
            /* k >= 4: one posting alone, the set-up left lazy */
            for (int i = k >= 4 ? (int)rnd_below((uint32_t)n) : 0; i < n; i++) {
                int m = tr_pos_block_posting(pb, (uint32_t)i, one);
                if (m < 0) continue;
                if (m != (int)tf[i]) { fails++; continue; }
                for (uint32_t x = 0; x < tf[i]; x++)
                    if (one[x] >= (x < ttf[i] ? tl[i] : bad[i])) fails++;
                if (k >= 4) break;
            }
        }
        at += (uint32_t)n;
    }
    if (fails) fprintf(stderr, "single postings alone (%s): %d failed\n", what, fails);
    CHECK_EQ_INT(fails, 0);
    tr_pos_block_free(pb);
    free(all);
    free(one);
    tr_buf_free(&out);
}

/* A common word's postings: tf of 10 to 70 in bodies a few times as long,
 * so a block's unary section runs to thousands of bits (past what a lazy
 * set-up indexes from the payload's end). */
static void plist_dense(plist *l, uint32_t n)
{
    plist_alloc(l, n);
    uint64_t d = rnd_below(10);
    for (uint32_t i = 0; i < n; i++) {
        l->docs[i] = (uint32_t)d;
        d += 1 + rnd_below(3);
        l->tf[i] = 10 + rnd_below(61);
        l->ttf[i] = rnd_below(8) == 0 ? rnd_below(3) : 0;
        l->npos += l->tf[i];
    }
    l->pos = malloc((l->npos + 1) * 4);
    uint64_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = rnd_below(3);
        for (uint32_t j = 0; j < l->ttf[i]; j++) { l->pos[k++] = p; p += 1 + rnd_below(3); }
        l->title_len[i] = (l->ttf[i] ? l->pos[k - 1] + 1 : 0) + rnd_below(5);
        p = rnd_below(10);
        uint32_t body = 0;
        for (uint32_t j = l->ttf[i]; j < l->tf[i]; j++) {
            l->pos[k++] = p;
            body = p + 1;
            p += 1 + rnd_below(12);
        }
        l->dl[i] = l->title_len[i] + body + rnd_below(50);
    }
}

/* A set-up is lazy: the prefix sums and last-bit counts are extended as
 * postings are asked for, and a posting's quotients are found from the
 * payload's end. Damaged payload bytes (verification off, as behind a
 * checksum that matches) must give, to a posting asked alone, to sparse
 * postings in order and to the block's last (which lays the block out in
 * full and checks it), positions inside the fields or TR_ECORRUPT, and
 * never a read outside the chunk (ASan: the chunk is copied to a buffer of
 * its exact size). */
static void damaged_singles(const plist *l, const char *what)
{
    tr_postings_in in = plist_in(l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    tr_chunk c;
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    size_t pos_at = (size_t)(c.posdata - out.data), pos_len = c.poslen;
    uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
    tr_pos_block *pb = tr_pos_block_new();
    uint32_t *one = malloc(4096 * 4);
    int outside = 0, refused = 0, given = 0;
    for (int t = 0; t < 300 && pb && one && pos_len; t++) {
        uint8_t *p = malloc(out.len);
        memcpy(p, out.data, out.len);
        for (int k = 1 + (int)rnd_below(3); k > 0; k--) {
            size_t at = pos_at + rnd_below((uint32_t)pos_len);
            p[at] = rnd_below(2) ? (uint8_t)rnd() : (uint8_t)(p[at] ^ (1u << rnd_below(8)));
        }
        if (p[0] == 0x08)   /* a compact chunk's checksum covers all of it */
            tr_put_le32(p + out.len - 4, (uint32_t)XXH3_64bits(p, out.len - 4));
        tr_chunk d;
        if (tr_chunk_open(&d, p, out.len) == 0) {
            uint32_t b = rnd_below(d.nblocks), at = b * TR_BLOCK_DOCS;
            int n = tr_chunk_block_decode(&d, b, 0, docs, tf, ttf);
            CHECK(n > 0);
            plist_body_len(l, at, n > 0 ? (uint32_t)n : 0, bl);
            const uint32_t *tl = l->title_len + at;
            for (int pass = 0; pass < 3 && n > 0; pass++) {
                if (tr_pos_block_open(pb, &d, b, 0, tf, ttf, (uint32_t)n, tl, bl)) { refused++; break; }
                for (uint32_t i = pass == 2 ? (uint32_t)n - 1 : rnd_below((uint32_t)n); i < (uint32_t)n;
                     i += 1 + rnd_below(40)) {
                    int m = tr_pos_block_posting(pb, i, one);
                    if (m < 0) { refused++; continue; }
                    given++;
                    if (m != (int)tf[i]) { outside++; continue; }
                    for (uint32_t x = 0; x < tf[i]; x++)
                        if (one[x] >= (x < ttf[i] ? tl[i] : bl[i])) outside++;
                    if (pass == 0) break;   /* one posting alone */
                }
            }
        }
        free(p);
    }
    if (outside) fprintf(stderr, "damaged single postings (%s): %d outside their fields\n", what, outside);
    CHECK_EQ_INT(outside, 0);
    CHECK(refused + given > 0);
    tr_pos_block_free(pb);
    free(one);
    tr_buf_free(&out);
}

static void test_single_posting_lazy(void)
{
    for (int t = 0; t < 24; t++) {
        plist l;
        uint32_t n = t % 3 == 0 ? TR_BLOCK_DOCS : t % 3 == 1 ? 3 * TR_BLOCK_DOCS + 7 : 1 + rnd_below(TR_BLOCK_DOCS);
        if (t % 2) plist_dense(&l, n);
        else plist_random(&l, n, 1 + rnd_below(50), 1);
        if (t < 8) single_alone(&l, "dense");
        damaged_singles(&l, t % 2 ? "dense" : "random");
        plist_free(&l);
    }
}

static void test_single_posting_alone(void)
{
    static const uint32_t sizes[] = { 1, 2, 9, TR_BLOCK_DOCS, TR_BLOCK_DOCS + 1, 3 * TR_BLOCK_DOCS + 5 };
    for (int t = 0; t < 72; t++) {
        plist l;
        uint32_t n = sizes[t % 6];
        if ((t / 6) % 2) plist_titles(&l, n, (t / 12) % 3);
        else plist_random(&l, n, 1 + rnd_below(50), 1);
        single_alone(&l, (t / 6) % 2 ? "titles" : "random");
        plist_free(&l);
    }
}

/* Field lengths of every size class in one block: a block's body runs'
 * parameters are worked out eight postings at a time where the CPU allows
 * (pos_dec_open), with fields below 2^30 only; a group holding a longer
 * one, and the last postings of a block, go the scalar way. A single
 * posting's set-up (tr_pos_block) takes the vector way only for fields
 * below 2^24 (its log2 from a float's exponent, exact there). Lengths at and around the powers of two where log2 from a
 * float's exponent rounds (2^24 + 1 and up) and at 2^25, with runs as
 * long as their field (m = L) and runs of one position. Whole blocks and
 * single postings must read back exactly. */
static void test_long_fields(void)
{
    static const uint32_t base[] = { 1, 2, 3, 7, 8, 9, 1000, (1u << 24) - 1, 1u << 24, (1u << 24) + 1,
                                     (1u << 25) - 3, (1u << 25) - 1, 1u << 25, (1u << 25) + 1,
                                     (1u << 29) + 7, (1u << 30) - 1, 1u << 30,
                                     (1u << 31) + 5, 0xFFFFFFF0u };
    const uint32_t nb = sizeof base / sizeof base[0];
    for (int t = 0; t < 40; t++) {
        uint32_t n = 1 + rnd_below(400);
        plist l;
        plist_alloc(&l, n);
        /* small fields only in some lists: every group of eight takes the
         * vector path there */
        int small_only = t % 3 == 0;
        for (uint32_t i = 0; i < n; i++) {
            l.docs[i] = 1 + i * 3;
            uint32_t L = base[rnd_below(small_only ? 7 : nb)];
            if (rnd_below(2)) L = L > 40 ? L - rnd_below(40) : L;
            uint32_t m = L < 5 && rnd_below(2) ? L : 1 + rnd_below(L < 4 ? L : 4);
            l.tf[i] = m;
            l.ttf[i] = 0;
            l.title_len[i] = 0;
            l.dl[i] = L;
            l.npos += m;
        }
        l.pos = malloc((l.npos + 1) * 4);
        uint64_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t L = l.dl[i], m = l.tf[i];
            if (m == L) {
                for (uint32_t j = 0; j < m; j++) l.pos[k++] = j;
                continue;
            }
            /* m increasing positions in [0, L): spread over the field */
            uint64_t step = (uint64_t)L / m;
            for (uint32_t j = 0; j < m; j++)
                l.pos[k++] = (uint32_t)(j * step + rnd_below(step > 1 ? (uint32_t)(step < 0xFFFFFFFFu ? step : 0xFFFFFFFFu) : 1));
        }
        roundtrip(&l, "long fields");
        plist_free(&l);
    }
}

static void test_rejects(void)
{
    uint32_t docs[3] = {1, 5, 9}, tf[3] = {1, 4, 1}, ttf[3] = {0, 2, 0}, dl[3] = {5, 10, 9};
    uint32_t pos[6] = {3, 0, 2, 4, 6, 8}, tl[3] = {0, 3, 0};
    tr_postings_in in = { 3, docs, tf, ttf, dl, pos, tl };
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    size_t good = out.len;
    in.n = 0;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    in.n = 3;
    docs[1] = 1; /* duplicate */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    docs[1] = 0; /* unsorted */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    docs[1] = 5;
    tf[2] = 0;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    tf[2] = 1;
    ttf[2] = 2; /* ttf > tf */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    ttf[2] = 0;
    docs[2] = TR_DOC_END;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    docs[2] = 9;
    pos[4] = 4; /* body positions must increase */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    pos[4] = 6;
    pos[2] = 0; /* so must title positions */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    pos[2] = 2;
    pos[3] = 0; /* the body run restarts: a smaller first body position is fine */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    dl[1] = 9;  /* body of 6: position 6 is outside it */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    dl[1] = 10;
    tl[1] = 2;  /* title of 2: position 2 is outside it */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    tl[1] = 11; /* a title longer than the document */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    tl[1] = 3;
    in.tl = NULL; /* positions need the lengths */
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    in.tl = tl;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    out.len = good;
    in.docs = NULL;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), TR_EINPUT);
    CHECK_EQ_INT(out.len, good); /* failures leave the buffer as it was */
    tr_buf_free(&out);
}

/* ---- bounds ---- */
static double bm25_part(double tf, double dl, double k1, double b, double avgdl)
{
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl));
}

static void test_bounds(void)
{
    tr_bound one = { .max_ttf = 0, .npoints = 1, .pt = {{1, 100}} };
    CHECK(fabs(tr_bound_bm25(&one, 1.2, 0.75, 1.0, 100.0) - 1.0) < 1e-12);
    tr_bound sat = { .max_ttf = 0, .npoints = 1, .pt = {{TR_SAT16, 5}} };
    CHECK(fabs(tr_bound_bm25(&sat, 1.2, 0.75, 1.0, 100.0) - 2.2) < 1e-12);

    int failures = 0, tested = 0;
    for (int t = 0; t < 60; t++) {
        plist l;
        plist_random(&l, 1 + rnd_below(1500), 50, 0);
        /* some extremes: saturating tf, title-only hits, huge documents */
        for (uint32_t i = 0; i < l.n; i += 1 + rnd_below(50)) {
            uint32_t r = rnd_below(4);
            if (r == 0) { l.tf[i] = 70000 + rnd_below(10); l.ttf[i] = 0; l.title_len[i] = 3; l.dl[i] = 80000; }
            if (r == 1) { l.ttf[i] = l.tf[i]; l.title_len[i] = l.tf[i] + rnd_below(3); l.dl[i] = l.title_len[i] + rnd_below(5); }
            if (r == 2) { l.dl[i] = 100000 + rnd_below(10); l.title_len[i] = l.ttf[i]; }
        }
        tr_postings_in in = plist_in(&l);
        tr_buf out = {0};
        tr_chunk c;
        CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
        CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
        for (int q = 0; q < 20; q++) {
            double k1 = 0.1 + 2.9 * rnd_unit(), b = rnd_unit(), w = 0.5 + 3.5 * rnd_unit();
            double avgdl = 5 + 1000 * rnd_unit();
            double cb = tr_bound_bm25(&c.bound, k1, b, w, avgdl);
            for (uint32_t blk = 0; blk < c.nblocks; blk++) {
                tr_bound bd;
                tr_chunk_block_bound(&c, blk, &bd);
                double bb = tr_bound_bm25(&bd, k1, b, w, avgdl);
                if (cb < bb - 1e-9) failures++;
                for (uint32_t i = blk * TR_BLOCK_DOCS; i < l.n && i < (blk + 1) * TR_BLOCK_DOCS; i++) {
                    double tfw = w * l.ttf[i] + (l.tf[i] - l.ttf[i]);
                    double dlw = w * l.title_len[i] + (l.dl[i] - l.title_len[i]);
                    double s = bm25_part(tfw, dlw, k1, b, avgdl);
                    tested++;
                    if (bb < s - 1e-9) {
                        if (failures++ < 5)
                            fprintf(stderr, "bound %.6f < %.6f (tf %u ttf %u dl %u title %u k1 %.3f b %.3f w %.3f)\n",
                                    bb, s, l.tf[i], l.ttf[i], l.dl[i], l.title_len[i], k1, b, w);
                    }
                }
            }
        }
        tr_buf_free(&out);
        plist_free(&l);
    }
    fprintf(stderr, "bounds: %d posting checks\n", tested);
    CHECK_EQ_INT(failures, 0);

    /* tightness: a block whose postings share a Pareto front of <= 4 points
     * is bounded exactly by its best posting */
    plist l;
    plist_alloc(&l, 4);
    uint32_t tfs[4] = {1, 3, 7, 20}, dls[4] = {10, 50, 200, 900};
    for (uint32_t i = 0; i < 4; i++) { l.docs[i] = i; l.tf[i] = tfs[i]; l.dl[i] = dls[i]; }
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    tr_chunk c;
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(tr_chunk_open(&c, out.data, out.len), 0);
    CHECK_EQ_INT(c.bound.npoints, 4);
    double best = 0;
    for (uint32_t i = 0; i < 4; i++) {
        double s = bm25_part(tfs[i], dls[i], 1.2, 0.75, 100);
        if (s > best) best = s;
    }
    CHECK(fabs(tr_bound_bm25(&c.bound, 1.2, 0.75, 1.0, 100) - best) < 1e-12);
    tr_buf_free(&out);
    plist_free(&l);
}

/* ---- corruption ---- */
static void corrupt_one(const tr_buf *good, const plist *l, size_t len, size_t flip,
                        uint8_t mask, int *silent)
{
    uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(p, good->data, len);
    if (flip < len) p[flip] ^= mask;
    tr_chunk c;
    int rc = tr_chunk_open(&c, p, len);
    if (rc == 0) {
        int m = chunk_matches(&c, l, 1);
        if (m == 1) (*silent)++;
        else if (m != 0 && m != TR_ECORRUPT) (*silent)++;
        (void)chunk_matches(&c, l, 0); /* unverified: any answer, but no crash */
    } else if (rc != TR_ECORRUPT) {
        (*silent)++;
    }
    free(p);
}

static void test_corruption(void)
{
    static const uint32_t sizes[] = {1, 5, 128, 300};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (int wp = 0; wp < 2; wp++) {
            plist l;
            plist_random(&l, sizes[s], 40, wp);
            tr_postings_in in = plist_in(&l);
            tr_buf out = {0};
            CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
            int silent = 0;
            for (size_t len = 0; len < out.len; len++) corrupt_one(&out, &l, len, SIZE_MAX, 0, &silent);
            for (size_t i = 0; i < out.len; i++) {
                corrupt_one(&out, &l, out.len, i, 0xFF, &silent);
                corrupt_one(&out, &l, out.len, i, 0x01, &silent);
                corrupt_one(&out, &l, out.len, i, (uint8_t)(1u << rnd_below(8)), &silent);
            }
            if (silent) fprintf(stderr, "corruption undetected: n=%u pos=%d (%d cases)\n", l.n, wp, silent);
            CHECK_EQ_INT(silent, 0);
            tr_buf_free(&out);
            plist_free(&l);
        }
    }
    /* mutations behind a valid checksum reach the decoders' own checks:
     * they must reject or decode, never read out of bounds */
    for (int t = 0; t < 4000; t++) {
        plist l;
        plist_random(&l, 1 + rnd_below(t % 2 ? 128 : 400), 1 + rnd_below(300), (int)(rnd() & 1));
        tr_postings_in in = plist_in(&l);
        tr_buf out = {0};
        CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
        size_t len = out.len - (rnd_below(4) == 0 ? rnd_below((uint32_t)out.len) : 0);
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, out.data, len);
        for (int k = 1 + (int)rnd_below(3); k > 0 && len > 1; k--)
            p[1 + rnd_below((uint32_t)len - 1)] = (uint8_t)rnd();
        if (len >= 6 && p[0] == 0x08) {
            tr_put_le32(p + len - 4, (uint32_t)XXH3_64bits(p, len - 4));
        } else if (len >= 33 && p[0] == 0x07) {
            uint64_t dirlen = (uint64_t)full_stride(p[1]) *
                              (((uint64_t)tr_get_le32(p + 3) + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS);
            if (33 + dirlen <= len)
                tr_put_le32(p + 29, (uint32_t)XXH3_64bits_withSeed(p + 33, (size_t)dirlen,
                                                                  XXH3_64bits(p, 29)));
        }
        tr_chunk c;
        if (tr_chunk_open(&c, p, len) == 0) {
            (void)chunk_matches(&c, &l, 0);
            (void)chunk_matches(&c, &l, 1);
        }
        free(p);
        tr_buf_free(&out);
        plist_free(&l);
    }

    /* random garbage of every small length never crashes */
    for (int t = 0; t < 20000; t++) {
        size_t len = rnd_below(200);
        uint8_t *p = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) p[i] = (uint8_t)rnd();
        if (len) p[0] = (uint8_t)(0x07 + (t & 1)); /* full or compact */
        tr_chunk c;
        if (tr_chunk_open(&c, p, len) == 0) {
            uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS], pos[4096];
            for (uint32_t b = 0; b < c.nblocks; b++) {
                int n = tr_chunk_block_decode(&c, b, 0, docs, tf, ttf);
                uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
                for (int i = 0; i < n; i++) { tl[i] = rnd_below(50); bl[i] = rnd_below(5000); }
                if (n > 0) (void)tr_chunk_block_positions(&c, b, 0, tf, (uint32_t)n, tl, bl, pos, 4096);
            }
        }
        free(p);
    }
    CHECK(1);
}

/* tr_chunk_open_seen: a chunk whose header and directory were found sound
 * in a snapshot is not checked again there (same address, length and
 * stored checksum), while a damaged one is refused every time it is opened
 * (a failure is not remembered), and one at another address, or with
 * another table (a new snapshot), is checked afresh. Short directories are
 * always checked. */
static void test_open_seen(void)
{
    plist l;
    plist_random(&l, 40 * TR_BLOCK_DOCS, 20, 1);   /* a directory of 40 entries */
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(out.data[0], 0x07);               /* a full chunk */
    tr_vseen *vs = tr_vseen_new(), *vs2 = tr_vseen_new();
    CHECK(vs && vs2);
    tr_chunk c;
    const size_t hd = 33 + (size_t)full_stride(out.data[1]) * 40;
    const uint32_t want = tr_get_le32(out.data + 29);
    CHECK(!tr_vseen_has(vs, out.data, hd, want));
    /* a damaged directory entry: refused, and still refused when asked again */
    out.data[33 + 5] ^= 0x10;
    CHECK_EQ_INT(tr_chunk_open_seen(&c, out.data, out.len, vs), TR_ECORRUPT);
    CHECK(!tr_vseen_has(vs, out.data, hd, want));
    CHECK_EQ_INT(tr_chunk_open_seen(&c, out.data, out.len, vs), TR_ECORRUPT);
    out.data[33 + 5] ^= 0x10;
    /* sound: opened, remembered, and decodes as ever */
    CHECK_EQ_INT(tr_chunk_open_seen(&c, out.data, out.len, vs), 0);
    CHECK(tr_vseen_has(vs, out.data, hd, want));
    CHECK(c.vs == vs && c.nblocks == 40);
    CHECK_EQ_INT(chunk_matches(&c, &l, 1), 0);
    /* the same bytes elsewhere, or under another snapshot's table, are
     * checked: a copy damaged at the other address is refused */
    uint8_t *copy = malloc(out.len);
    memcpy(copy, out.data, out.len);
    copy[33 + 5] ^= 0x10;
    CHECK_EQ_INT(tr_chunk_open_seen(&c, copy, out.len, vs), TR_ECORRUPT);
    CHECK(!tr_vseen_has(vs2, out.data, hd, want));
    out.data[33 + 5] ^= 0x10;
    CHECK_EQ_INT(tr_chunk_open_seen(&c, out.data, out.len, vs2), TR_ECORRUPT);
    /* the table trusts its snapshot's bytes (they never change): the
     * remembered address opens without a check */
    CHECK_EQ_INT(tr_chunk_open_seen(&c, out.data, out.len, vs), 0);
    out.data[33 + 5] ^= 0x10;
    /* a NULL table and a short range remember nothing */
    tr_vseen_note(NULL, out.data, hd, want);
    CHECK(!tr_vseen_has(NULL, out.data, hd, want));
    tr_vseen_note(vs2, out.data, 100, want);
    CHECK(!tr_vseen_has(vs2, out.data, 100, want));
    free(copy);
    tr_vseen_free(vs);
    tr_vseen_free(vs2);
    tr_buf_free(&out);
    plist_free(&l);
}

/* The inline form (a compact chunk without format byte and checksum, kept
 * in a dictionary value): round trips for single-block lists, only compact
 * chunks convert, and every truncation or byte change of the inline bytes
 * opens and decodes without reading outside them (ASan) or is refused. */
static void test_inline_form(void)
{
    for (uint32_t n = 1; n <= TR_BLOCK_DOCS; n += 1 + n / 4) {
        for (int with_pos = 0; with_pos < 2; with_pos++) {
            plist l;
            plist_random(&l, n, 1 + n * 7, with_pos);
            tr_postings_in in = plist_in(&l);
            tr_buf out = {0};
            CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
            size_t full = out.len;
            size_t il = tr_chunk_inline_form(out.data, out.len);
            CHECK_EQ_INT(il, full - 5);
            tr_chunk c;
            CHECK_EQ_INT(tr_chunk_open_inline(&c, out.data, il), 0);
            CHECK_EQ_INT(chunk_matches(&c, &l, 1), 0);
            /* damaged inline bytes: refused or decoded in bounds, never a crash */
            uint8_t *p = malloc(il);
            for (size_t cut = 0; cut < il; cut++) {
                memcpy(p, out.data, cut);
                if (tr_chunk_open_inline(&c, p, cut) == 0) (void)chunk_matches(&c, &l, 0);
            }
            for (size_t at = 0; at < il; at++) {
                memcpy(p, out.data, il);
                p[at] ^= (uint8_t)(1 + rnd_below(255));
                if (tr_chunk_open_inline(&c, p, il) == 0) (void)chunk_matches(&c, &l, 0);
            }
            free(p);
            tr_buf_free(&out);
            plist_free(&l);
        }
    }
    /* a full chunk has no inline form */
    plist l;
    plist_random(&l, TR_BLOCK_DOCS + 1, 50, 1);
    tr_postings_in in = plist_in(&l);
    tr_buf out = {0};
    CHECK_EQ_INT(tr_chunk_encode(&in, &out), 0);
    CHECK_EQ_INT(tr_chunk_inline_form(out.data, out.len), 0);
    CHECK_EQ_INT(out.data[0], 0x07);
    tr_buf_free(&out);
    plist_free(&l);
}


/* tr_chunk_encode_cut: random cut plans over random lists; every piece is
 * byte for byte tr_chunk_encode of its postings (the long first block of a
 * later piece re-based, single blocks in the compact form), and plans that
 * are not a cut are refused. */
typedef struct cut_plan { uint32_t cut[600]; size_t m; size_t seen_nb, seen_whole; } cut_plan;

static size_t fixed_plan(void *ctx, const size_t *bytes, size_t nb, size_t whole, uint32_t *cut)
{
    cut_plan *p = ctx;
    size_t sum = 0;
    for (size_t b = 0; b < nb; b++) sum += bytes[b];
    p->seen_nb = nb;
    p->seen_whole = whole;
    CHECK(whole > sum);
    memcpy(cut, p->cut, p->m * sizeof *cut);
    return p->m;
}

static void test_encode_cut(void)
{
    for (int t = 0; t < 200; t++) {
        plist l;
        uint32_t n = 1 + rnd_below(t < 20 ? TR_BLOCK_DOCS : 5000);
        plist_random(&l, n, t % 3 == 0 ? 3 : 2000, t % 4 != 1);
        tr_postings_in in = plist_in(&l);
        uint32_t nb = (n + TR_BLOCK_DOCS - 1) / TR_BLOCK_DOCS;
        cut_plan plan = {0};
        for (uint32_t b = 1; b < nb; b++)
            if (rnd_below(3) == 0) plan.cut[plan.m++] = b;
        plan.cut[plan.m++] = nb;
        tr_buf got = {0}, want = {0};
        CHECK_EQ_INT(tr_chunk_encode_cut(&in, fixed_plan, &plan, &got), 0);
        if (nb > 1) {
            CHECK_EQ_INT(plan.seen_nb, nb);
            tr_buf whole = {0};
            CHECK_EQ_INT(tr_chunk_encode(&in, &whole), 0);
            CHECK_EQ_INT(plan.seen_whole, whole.len);
            tr_buf_free(&whole);
        }
        size_t off = 0, pieces = nb > 1 ? plan.m : 1;
        int same = 1;
        for (size_t i = 0, b0 = 0; i < pieces && same; b0 = nb > 1 ? plan.cut[i++] : nb) {
            uint32_t b1 = nb > 1 ? plan.cut[i] : nb, start = (uint32_t)b0 * TR_BLOCK_DOCS;
            uint32_t end = b1 * TR_BLOCK_DOCS < n ? b1 * TR_BLOCK_DOCS : n;
            tr_postings_in s = in;
            s.n = end - start;
            s.docs += start; s.tf += start; s.ttf += start; s.dl += start; s.tl += start;
            if (s.pos) for (uint32_t k = 0; k < start; k++) s.pos += in.tf[k];
            tr_buf_clear(&want);
            CHECK_EQ_INT(tr_chunk_encode(&s, &want), 0);
            same = off + 8 <= got.len && tr_get_le32(got.data + off) == s.docs[0] &&
                   tr_get_le32(got.data + off + 4) == want.len && off + 8 + want.len <= got.len &&
                   !memcmp(got.data + off + 8, want.data, want.len);
            off += 8 + want.len;
            if (nb == 1) break;
        }
        CHECK(same);
        CHECK_EQ_INT(off, got.len);
        if (nb > 1) {   /* not a cut: ends out of order, or not ending at nb */
            cut_plan bad = { .cut = { nb, 1 }, .m = 2 };
            size_t before = got.len;
            CHECK_EQ_INT(tr_chunk_encode_cut(&in, fixed_plan, &bad, &got), TR_EINPUT);
            bad = (cut_plan){ .cut = { nb - 1 }, .m = 1 };
            CHECK_EQ_INT(tr_chunk_encode_cut(&in, fixed_plan, &bad, &got), TR_EINPUT);
            CHECK_EQ_INT(got.len, before);
        }
        tr_buf_free(&got);
        tr_buf_free(&want);
        plist_free(&l);
    }
}

int main(void)
{
    test_pack();
    test_compact_vectors();
    test_run_positions();
    test_dir_bound_codes();
    test_full_header();
    test_patched_streams();
    test_gaps();
    test_block_sizes();
    test_random_roundtrips();
    test_single_posting_layout();
    test_single_posting_alone();
    test_single_posting_lazy();
    test_long_fields();
    test_rejects();
    test_bounds();
    test_corruption();
    test_open_seen();
    test_inline_form();
    test_encode_cut();
    return check_done();
}
