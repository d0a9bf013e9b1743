/* test_formats.c - the record formats of the input layer: MediaWiki XML
 * (wiki.c, wikitext.c), TREC SGML (trec.c), WARC (warc.c) and article
 * extraction from scraped news pages (extract.c). Small files are written
 * by the test itself, broken ones included; the real Wikipedia samples in
 * the shared data are checked when present.
 * `test_formats --dump PATH [FORMAT]` prints what the source reads. */
#include "check.h"
#include "source.h"
#include "source_int.h"
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bzlib.h>
#include <zlib.h>

static char tmpdir[] = "/tmp/trawl_formats_XXXXXX";

static char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(tmp_path(name), "wb");
    if (!f) {
        perror(name);
        exit(1);
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

static void write_str(const char *name, const char *s) { write_file(name, s, strlen(s)); }

/* What one source read: the documents (copied) and the errors. */
#define MAX_DOCS 256
typedef struct got {
    int n, bad, io;
    char *id[MAX_DOCS], *title[MAX_DOCS], *body[MAX_DOCS], *url[MAX_DOCS];
    int64_t date[MAX_DOCS];
    char err[8][512];
} got;

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    CHECK(s != NULL || n == 0); /* an empty field may be NULL */
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void read_all(const char *path, int fmt, got *g)
{
    memset(g, 0, sizeof *g);
    tr_source_opts o;
    tr_source_opts_default(&o);
    o.format = fmt;
    tr_source *s;
    char err[512];
    int rc = tr_source_open(path, &o, &s, err, sizeof err);
    if (rc) {
        snprintf(g->err[0], sizeof g->err[0], "%s", err);
        g->io = 1;
        return;
    }
    tr_doc_in d;
    for (;;) {
        rc = tr_source_next(s, &d, err, sizeof err);
        if (rc == 0)
            break;
        if (rc == 1) {
            if (g->n < MAX_DOCS) {
                g->id[g->n] = dup_n(d.id, d.id_len);
                g->title[g->n] = dup_n(d.title, d.title_len);
                g->body[g->n] = dup_n(d.body, d.body_len);
                g->url[g->n] = dup_n(d.url, d.url_len);
                g->date[g->n] = d.date;
            }
            g->n++;
            continue;
        }
        int k = g->bad + g->io;
        if (k < 8)
            snprintf(g->err[k], sizeof g->err[k], "%s", err);
        if (rc == TR_EINPUT)
            g->bad++;
        else
            g->io++;
        if (rc != TR_EINPUT && rc != TR_EIO)
            break;
    }
    tr_source_close(s);
}

static void free_got(got *g)
{
    for (int i = 0; i < g->n && i < MAX_DOCS; i++) {
        free(g->id[i]);
        free(g->title[i]);
        free(g->body[i]);
        free(g->url[i]);
    }
}

static int64_t date_of(const char *s)
{
    int64_t t = TR_NO_DATE;
    tr_parse_date(s, strlen(s), &t);
    return t;
}

/* ---- MediaWiki ----------------------------------------------------------- */

static const char *const wiki_head =
    "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\" version=\"0.10\">\n"
    "<siteinfo><sitename>Wikipedia</sitename>"
    "<base>https://en.wikipedia.org/wiki/Main_Page</base></siteinfo>\n";

static void test_wikitext(void)
{
    tr_buf out = {0}, t1 = {0}, t2 = {0};
    const char *in =
        "{{Infobox city|name=Baku|population={{formatnum:2000000}}}}\n"
        "'''Baku''' is the [[capital city|capital]] of [[Azerbaijan]].<ref name=\"a\">{{cite web|url=x}}</ref>"
        " It lies on the [[Caspian Sea]]s coast.<ref name=b/><!-- hidden -->\n"
        "== History ==\n"
        "* [[File:Baku.jpg|thumb|A [[photo]] of Baku]]Founded in the ''5th'' century.\n"
        "{| class=\"wikitable\"\n|+ Districts\n|-\n! Name !! Area\n|-\n| style=\"x\" | Sabail || 28&nbsp;km\n|}\n"
        "See [http://example.com the site] and [http://bare.example.com].\n"
        "[[Category:Cities]]\n[[de:Baku]]\n__NOTOC__\n";
    CHECK_EQ_INT(tr_wikitext_to_text((const uint8_t *)in, strlen(in), &out, &t1, &t2), 0);
    CHECK(tr_buf_append(&out, "", 1) == 0);
    const char *s = (const char *)out.data;
    CHECK(strstr(s, "Baku is the capital of Azerbaijan.") != NULL);
    CHECK(strstr(s, "Caspian Seas coast.") != NULL);
    CHECK(strstr(s, "History\n") != NULL);
    CHECK(strstr(s, "Founded in the 5th century.") != NULL);
    CHECK(strstr(s, "Districts") != NULL);
    CHECK(strstr(s, "Name Area") != NULL);
    CHECK(strstr(s, "Sabail 28 km") != NULL);
    CHECK(strstr(s, "See the site and .") != NULL);
    static const char *const gone[] = {"{{", "}}", "[[", "]]", "<ref", "|-", "'''", "''",
                                       "Infobox", "cite web", "hidden", "photo", "Category",
                                       "de:", "NOTOC", "style", "wikitable", NULL};
    for (int i = 0; gone[i]; i++)
        if (strstr(s, gone[i])) {
            fprintf(stderr, "left in wikitext output: %s\n%s\n", gone[i], s);
            CHECK(0);
        }
    /* unbalanced markup drops only itself */
    const char *bad = "a {{b [[c d ]] e }} f }} g [[h";
    CHECK_EQ_INT(tr_wikitext_to_text((const uint8_t *)bad, strlen(bad), &out, &t1, &t2), 0);
    CHECK(out.len == strlen("a f g h") && !memcmp(out.data, "a f g h", out.len));
    /* what removed templates leave: no glued words, no empty brackets */
    const char *tpl = "On 24{{nbsp}}August ({{IPA|x}}; {{lang|y}}) it rained";
    CHECK_EQ_INT(tr_wikitext_to_text((const uint8_t *)tpl, strlen(tpl), &out, &t1, &t2), 0);
    CHECK(out.len == strlen("On 24 August it rained") &&
          !memcmp(out.data, "On 24 August it rained", out.len));
    tr_buf_free(&out);
    tr_buf_free(&t1);
    tr_buf_free(&t2);
}

static void test_wiki_small(void)
{
    char xml[8192];
    snprintf(xml, sizeof xml,
             "%s<page><title>Baku</title><ns>0</ns><id>7</id><revision><id>99</id>"
             "<timestamp>2014-10-26T04:50:23Z</timestamp><contributor><id>5</id></contributor>"
             "<text xml:space=\"preserve\">'''Baku''' is a [[city]].</text></revision></page>\n"
             "<page><title>Talk:Baku</title><ns>1</ns><id>8</id><revision><text>talk</text>"
             "</revision></page>\n"
             "<page><title>Bacu</title><ns>0</ns><id>9</id><redirect title=\"Baku\"/>"
             "<revision><text>#REDIRECT [[Baku]]</text></revision></page>\n"
             "<page><title>Old</title><ns>0</ns><id>10</id><revision><text>#redirect [[Baku]]"
             "</text></revision></page>\n"
             "<page><title>Caspian Sea</title><ns>0</ns><id>11</id><revision><text>A lake &amp; "
             "sea.</text></revision></page>\n</mediawiki>\n",
             wiki_head);
    write_str("w.xml", xml);
    got g;
    read_all(tmp_path("w.xml"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_INT(g.bad + g.io, 0);
    if (g.n == 2) {
        CHECK(!strcmp(g.id[0], "7"));
        CHECK(!strcmp(g.title[0], "Baku"));
        CHECK(!strcmp(g.body[0], "Baku is a city."));
        CHECK(!strcmp(g.url[0], "https://en.wikipedia.org/wiki/Baku"));
        CHECK(g.date[0] == date_of("2014-10-26T04:50:23Z"));
        CHECK(!strcmp(g.url[1], "https://en.wikipedia.org/wiki/Caspian_Sea"));
        CHECK(!strcmp(g.body[1], "A lake & sea."));
    }
    free_got(&g);

    /* gzip-compressed, read as a forced format from a name that says nothing */
    gzFile z = gzopen(tmp_path("w.dat"), "wb");
    gzwrite(z, xml, (unsigned)strlen(xml));
    gzclose(z);
    read_all(tmp_path("w.dat"), TR_FMT_WIKI, &g);
    CHECK_EQ_INT(g.n, 2);
    free_got(&g);

    /* bzip2 multistream, as pages-articles-multistream.xml.bz2: the split
     * falls in the middle of a page */
    {
        static char bz[16384];
        unsigned total = 0;
        size_t half = strlen(xml) / 2;
        for (int part = 0; part < 2; part++) {
            unsigned cap = (unsigned)(sizeof bz - total);
            char *src = xml + (part ? half : 0);
            unsigned len = (unsigned)(part ? strlen(xml) - half : half);
            CHECK_EQ_INT(BZ2_bzBuffToBuffCompress(bz + total, &cap, src, len, 9, 0, 0), BZ_OK);
            total += cap;
        }
        write_file("multi.xml.bz2", bz, total);
        read_all(tmp_path("multi.xml.bz2"), TR_FMT_AUTO, &g);
        CHECK_EQ_INT(g.n, 2);
        CHECK_EQ_INT(g.bad + g.io, 0);
        free_got(&g);
    }

    /* UTF-16LE with a byte-order mark */
    const char *u8 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><mediawiki><page><title>\xd0\xa1\xd0\xbe\xd1\x84\xd0\xb8\xd1\x8f</title>"
                     "<ns>0</ns><id>3</id><revision><text>\xd0\xa1\xd0\xbe\xd1\x84\xd0\xb8\xd1\x8f is a [[city]]</text></revision></page></mediawiki>";
    uint8_t u16[4096];
    size_t k = 0;
    u16[k++] = 0xff;
    u16[k++] = 0xfe;
    for (const uint8_t *p = (const uint8_t *)u8; *p;) { /* BMP only */
        uint32_t cp;
        if (*p < 0x80)
            cp = *p++;
        else {
            cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
            p += 2;
        }
        u16[k++] = (uint8_t)cp;
        u16[k++] = (uint8_t)(cp >> 8);
    }
    write_file("u16.xml", u16, k);
    read_all(tmp_path("u16.xml"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 1);
    if (g.n == 1) {
        CHECK(!strcmp(g.title[0], "\xd0\xa1\xd0\xbe\xd1\x84\xd0\xb8\xd1\x8f"));
        CHECK(!strcmp(g.body[0], "\xd0\xa1\xd0\xbe\xd1\x84\xd0\xb8\xd1\x8f is a city"));
    }
    free_got(&g);

    /* truncated: the pages before the cut are read, then one error with
     * file and offset */
    size_t cut = (size_t)(strstr(xml, "<page><title>Caspian") - xml) + 40;
    write_file("trunc.xml", xml, cut);
    read_all(tmp_path("trunc.xml"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.bad, 1);
    CHECK(strstr(g.err[0], "trunc.xml: byte ") != NULL);
    free_got(&g);

    /* broken XML in the middle */
    char broken[8192];
    snprintf(broken, sizeof broken, "%s<page><title>A</title><ns>0</ns><id>1</id><revision><text>one"
             "</text></revision></page><page><title>B</ti></page></mediawiki>", wiki_head);
    write_str("broken.xml", broken);
    read_all(tmp_path("broken.xml"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.bad, 1);
    CHECK(strstr(g.err[0], "broken.xml: byte ") && strstr(g.err[0], "mismatched tag"));
    free_got(&g);
}

/* The shared Wikipedia samples: counts and no markup left. */
static void test_wiki_shared(void)
{
    const char *dir = getenv("TRAWL_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/wiki/enwiki-pages-articles-sample.xml.bz2", dir ? dir : "");
    if (!dir || access(path, R_OK)) {
        fprintf(stderr, "note: %s absent, Wikipedia sample checks skipped\n", path);
        return;
    }
    got g;
    read_all(path, TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 106);
    CHECK_EQ_INT(g.bad + g.io, 0);
    static const char *const marks[] = {"{{", "}}", "[[", "]]", "<ref", "|-", "'''", NULL};
    int leaks = 0, empty = 0;
    for (int i = 0; i < g.n && i < MAX_DOCS; i++) {
        if (!g.body[i][0])
            empty++;
        for (int m = 0; marks[m]; m++)
            if (strstr(g.body[i], marks[m]) || strstr(g.title[i], marks[m])) {
                if (leaks++ < 5)
                    fprintf(stderr, "markup %s left in %s (%s): ...%.80s\n", marks[m], g.id[i],
                                    g.title[i], strstr(g.body[i], marks[m]));
            }
    }
    CHECK_EQ_INT(leaks, 0);
    CHECK_EQ_INT(empty, 0);
    if (g.n > 0)
        CHECK(!strncmp(g.url[0], "https://en.wikipedia.org/wiki/", 30));
    free_got(&g);

    snprintf(path, sizeof path, "%s/wiki/enwiki-table-markup.xml.bz2", dir);
    read_all(path, TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 5);
    CHECK_EQ_INT(g.bad + g.io, 0);
    if (g.n == 5) /* cell text kept: the vote table's header and a count */
        CHECK(strstr(g.body[0], "Opposition candidate (party)\nChancellor (party)") != NULL);
    for (int i = 0; i < g.n && i < MAX_DOCS; i++) {
        CHECK(!strstr(g.body[i], "|-") && !strstr(g.body[i], "{|") && !strstr(g.body[i], "|}") &&
              !strstr(g.body[i], "||") && !strstr(g.body[i], "!!"));
    }
    free_got(&g);

    snprintf(path, sizeof path, "%s/wiki/bgwiki-pages-articles-sample.xml.bz2", dir);
    read_all(path, TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 1); /* 3 pages, 2 of them in namespace 4 */
    CHECK_EQ_INT(g.bad + g.io, 0);
    if (g.n == 1) { /* decoded from UTF-16 into Cyrillic UTF-8 */
        CHECK(!strcmp(g.title[0], "Григориански календар"));
        CHECK(strstr(g.body[0], "Григорианският календар") == g.body[0]);
    }
    free_got(&g);
}


/* ---- TREC ------------------------------------------------------------- */

static void test_trec(void)
{
    const char *trec =
        "<DOC>\n<DOCNO> LA010189-0001 </DOCNO>\n<DATE><P>January 1, 1989, Sunday, Home Edition</P></DATE>\n"
        "<HEADLINE><P>Talks resume &amp; go on</P></HEADLINE>\n<TEXT>\n<P>Climate talks resumed.</P>\n"
        "<P>Second paragraph.</P>\n</TEXT>\n</DOC>\n"
        "<DOC>\n<DOCNO>FT911-1</DOCNO>\n<DATE>910514</DATE>\n<TEXT>Money markets.</TEXT>\n</DOC>\n"
        "<DOC>\n<DOCNO>R-3</DOCNO>\n<DATE>26-FEB-1987 16:18:41.47</DATE>\n<TITLE>Cocoa</TITLE>\n"
        "<TEXT>Cocoa prices fell.\n"                          /* no </DOC>: */
        "<DOC>\n<DOCNO>R-4</DOCNO>\n<TEXT>After the broken one.</TEXT>\n</DOC>\n"
        "<DOC>\n<DOCNO>R-5</DOCNO>\n<TEXT>Cut off at the end";
    write_str("coll.trec", trec);
    got g;
    read_all(tmp_path("coll.trec"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 3);
    CHECK_EQ_INT(g.bad, 2);
    if (g.n == 3) {
        CHECK(!strcmp(g.id[0], "LA010189-0001"));
        CHECK(!strcmp(g.title[0], "Talks resume & go on"));
        CHECK(strstr(g.body[0], "Climate talks resumed.") && strstr(g.body[0], "Second paragraph."));
        CHECK(g.date[0] == date_of("1989-01-01"));
        CHECK(!strcmp(g.id[1], "FT911-1"));
        CHECK(g.date[1] == date_of("1991-05-14"));
        CHECK(!strcmp(g.id[2], "R-4"));
        CHECK(!strcmp(g.body[2], "After the broken one."));
    }
    /* errors name the file and the byte offset of the broken <DOC> */
    char want[64];
    snprintf(want, sizeof want, "coll.trec: byte %d: <DOC> without </DOC>",
             (int)(strstr(trec, "<DOC>\n<DOCNO>R-3") - trec));
    CHECK(strstr(g.err[0], want) != NULL);
    CHECK(strstr(g.err[1], "at end of file") != NULL);
    free_got(&g);

    /* gzip, from a name without an extension, forced */
    gzFile z = gzopen(tmp_path("fbis3"), "wb");
    gzwrite(z, trec, (unsigned)strlen(trec));
    gzclose(z);
    read_all(tmp_path("fbis3"), TR_FMT_TREC, &g);
    CHECK_EQ_INT(g.n, 3);
    free_got(&g);
}

/* ---- WARC ------------------------------------------------------------- */

static size_t warc_record(char *out, size_t cap, const char *type, const char *uri,
                          const char *payload, long lie)
{
    char block[8192];
    int bn = snprintf(block, sizeof block, "%s", payload);
    return (size_t)snprintf(out, cap,
                            "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Target-URI: %s\r\n"
                            "WARC-Date: 2018-12-22T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:%s>\r\n"
                            "Content-Type: application/http; msgtype=response\r\n"
                            "Content-Length: %ld\r\n\r\n%s\r\n\r\n",
                            type, uri, uri, (long)bn + lie, block);
}

static void test_warc(void)
{
    static char warc[65536];
    size_t n = 0;
    n += warc_record(warc + n, sizeof warc - n, "warcinfo", "info", "software: test\r\n", 0);
    n += warc_record(warc + n, sizeof warc - n, "response", "http://a.example/1",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n"
                     "<html><head><title>Caf\xe9 news</title></head><body><p>Na\xefve caf\xe9 "
                     "owners met on Monday.</p></body></html>", 0);
    n += warc_record(warc + n, sizeof warc - n, "request", "http://a.example/1",
                     "GET /1 HTTP/1.1\r\n\r\n", 0);
    size_t lie_at = n;
    n += warc_record(warc + n, sizeof warc - n, "response", "http://a.example/lies",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>liar</p>", 40);
    n += warc_record(warc + n, sizeof warc - n, "response", "http://a.example/img",
                     "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\nPNG", 0);
    n += warc_record(warc + n, sizeof warc - n, "response", "http://a.example/2",
                     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                     "<title>Second</title><p>After the liar.</p>", 0);
    write_file("crawl.warc", warc, n);
    got g;
    read_all(tmp_path("crawl.warc"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_INT(g.bad, 1);
    if (g.n == 2) {
        CHECK(!strcmp(g.id[0], "http://a.example/1"));
        CHECK(!strcmp(g.url[0], "http://a.example/1"));
        CHECK(!strcmp(g.title[0], "Caf\xc3\xa9 news"));
        CHECK(strstr(g.body[0], "Na\xc3\xafve caf\xc3\xa9 owners") != NULL);
        CHECK(g.date[0] == date_of("2018-12-22T10:00:00Z"));
        CHECK(!strcmp(g.id[1], "http://a.example/2"));
        CHECK(!strcmp(g.body[1], "After the liar."));
    }
    char want[64];
    snprintf(want, sizeof want, "crawl.warc: byte %zu: Content-Length", lie_at);
    CHECK(strstr(g.err[0], want) != NULL);
    free_got(&g);

    /* .warc.gz: one gzip member per record, read from stdin-like pipes too */
    gzFile z = gzopen(tmp_path("crawl.warc.gz"), "wb");
    size_t half = lie_at;
    gzwrite(z, warc, (unsigned)half);
    gzclose(z);
    z = gzopen(tmp_path("crawl2.gz"), "wb");
    gzwrite(z, warc + half, (unsigned)(n - half));
    gzclose(z);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cat %s >> %s", tmp_path("crawl2.gz"), tmp_path("crawl.warc.gz"));
    CHECK(system(cmd) == 0);
    read_all(tmp_path("crawl.warc.gz"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_INT(g.bad, 1);
    free_got(&g);

    /* truncated in the middle of the last record */
    write_file("cut.warc", warc, n - 20);
    read_all(tmp_path("cut.warc"), TR_FMT_WARC, &g);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_INT(g.bad, 2);
    free_got(&g);
}

/* ---- extraction ------------------------------------------------------- */

static const char *const news_tail =
    "<p>Share news on social media</p>\n"
    "<p>Follow us on Twitter and Facebook</p>\n"
    "<div class=more><a href=/1>Parliament approves the state budget for next year</a></div>\n"
    "<div><a href=/2>Ministers discuss energy cooperation in Brussels</a></div>\n"
    "<div><a href=/3>President receives the delegation of a friendly country</a></div>\n"
    "<div>Football club wins the national cup after penalties</div>\n"
    "<div>New metro station opens in the capital city</div>\n"
    "<div>Weather to stay warm and dry through the weekend</div>\n"
    "<div>Exhibition of carpets opens at the national museum</div>\n"
    "<div>Central bank keeps its refinancing rate unchanged</div>\n"
    "<p>\xc2\xa9 2018 News Agency. All rights reserved.</p>\n";

static void test_extract(void)
{
    char page[8192];
    snprintf(page, sizeof page,
             "<html><head><title>Caspian states sign a convention | News Agency</title></head><body>\n"
             "<div>News Agency</div>\n"
             "<div>Caspian states sign a convention</div>\n"
             "<h2>Caspian states sign a convention</h2>\n"
             "<div>Baku, December 22, 2018, AGENCY</div>\n"
             "<p>The five Caspian states signed a convention on the legal status of the sea after "
             "more than twenty years of talks.</p>\n"
             "<p>The document divides the seabed into national sectors and leaves the surface for "
             "common use.</p>\n"
             "<p>Experts said the agreement opens the way for pipelines.</p>\n%s</body></html>",
             news_tail);
    write_str("news/caspian.html", page);
    write_str("news/plain.txt",
              "News Agency\nEnergy ministers meet in Baku\nEnergy ministers meet in Baku\n"
              "Baku, 14 March 2019, AGENCY\n\n"
              "Energy ministers from eight countries met in Baku on Thursday to discuss gas "
              "supplies.\nThey agreed to meet again next year in Ashgabat and to share data on "
              "reserves.\n\nShare news on social media\nFollow us\n"
              "Parliament approves the state budget for next year\n"
              "Ministers discuss energy cooperation in Brussels\n"
              "Football club wins the national cup after penalties\n"
              "New metro station opens in the capital city\n");
    got g;
    read_all(tmp_path("news"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 2);
    if (g.n == 2) {
        CHECK(!strcmp(g.id[0], "caspian.html"));
        CHECK(!strcmp(g.title[0], "Caspian states sign a convention"));
        CHECK(g.date[0] == date_of("2018-12-22"));
        CHECK(!strncmp(g.body[0], "The five Caspian states", 23));
        CHECK(strstr(g.body[0], "opens the way for pipelines.") != NULL);
        static const char *const not_body[] = {"Share", "Follow", "Parliament", "Football",
                                               "refinancing", "rights reserved", "AGENCY",
                                               "News Agency", NULL};
        for (int i = 0; not_body[i]; i++)
            if (strstr(g.body[0], not_body[i])) {
                fprintf(stderr, "boilerplate in body: %s\n", not_body[i]);
                CHECK(0);
            }
        CHECK(!strcmp(g.title[1], "Energy ministers meet in Baku"));
        CHECK(g.date[1] == date_of("2019-03-14"));
        CHECK(!strncmp(g.body[1], "Energy ministers from eight", 27));
        CHECK(strstr(g.body[1], "reserves.") && !strstr(g.body[1], "Share") &&
              !strstr(g.body[1], "Parliament") && !strstr(g.body[1], "Football"));
    }
    free_got(&g);

    /* date from <meta>; a page labelled UTF-8 but written in windows-1252 */
    snprintf(page, sizeof page,
             "<html><head><meta charset=\"utf-8\"><meta property=\"article:published_time\" "
             "content=\"2018-12-22T09:30:00+04:00\"><title>Caf\xe9 prices</title></head><body>"
             "<h1>Caf\xe9 prices rise</h1><p>Prices in every caf\xe9 of the city rose by a tenth "
             "this year, the statistics office said on Friday.</p><p>Owners blame the cost of "
             "coffee beans and rents in the centre of town.</p>%s</body></html>", news_tail);
    write_str("cafe.html", page);
    read_all(tmp_path("cafe.html"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 1);
    if (g.n == 1) {
        CHECK(!strcmp(g.title[0], "Caf\xc3\xa9 prices rise"));
        CHECK(g.date[0] == date_of("2018-12-22T09:30:00+04:00"));
        CHECK(strstr(g.body[0], "every caf\xc3\xa9 of") && !strstr(g.body[0], "Share"));
    }
    free_got(&g);

    /* a charset nobody knows: rejected with the file named */
    write_str("odd.html", "<meta charset=\"x-no-such-charset\"><p>text</p>");
    read_all(tmp_path("odd.html"), TR_FMT_AUTO, &g);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.bad, 1);
    CHECK(strstr(g.err[0], "odd.html: byte 0: unknown charset") != NULL);
    free_got(&g);
}

/* Dates the formats meet, normalised to one value. */
static void test_dates(void)
{
    int64_t a, b, c;
    CHECK_EQ_INT(tr_parse_date("1987-02-26T16:18:41Z", 20, &a), 0);
    CHECK_EQ_INT(tr_parse_date("26-FEB-1987 16:18:41.47", 23, &b), 0);
    CHECK(a == b);
    CHECK_EQ_INT(tr_parse_date("December 22, 2018", 17, &c), 0);
    CHECK(c == date_of("2018-12-22"));
}

/* Every record format from stdin, by content, compressed or not: the files
 * the tests above wrote. */
static void test_stdin(void)
{
    static const struct {
        const char *file;
        int docs, bad;
    } cases[] = {{"w.xml", 2, 0}, {"w.dat", 2, 0}, {"u16.xml", 1, 0}, {"coll.trec", 3, 2},
                 {"fbis3", 3, 2}, {"crawl.warc", 2, 1}, {"crawl.warc.gz", 2, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!freopen(tmp_path(cases[i].file), "rb", stdin)) {
            CHECK(0);
            continue;
        }
        got g;
        read_all("-", TR_FMT_AUTO, &g);
        if (g.n != cases[i].docs || g.bad != cases[i].bad)
            fprintf(stderr, "stdin %s: %d docs %d bad\n", cases[i].file, g.n, g.bad);
        CHECK_EQ_INT(g.n, cases[i].docs);
        CHECK_EQ_INT(g.bad, cases[i].bad);
        free_got(&g);
    }
}

/* Every truncation and a byte flipped at every offset of each small file:
 * no crash (the sanitizer build watches), never more documents than the
 * whole file has. */
static void test_hostile(void)
{
    static const char *const files[] = {"w.xml", "coll.trec", "crawl.warc", "u16.xml"};
    static const int full[] = {2, 3, 2, 1};
    static uint8_t data[65536];
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        FILE *in = fopen(tmp_path(files[f]), "rb");
        if (!in) {
            CHECK(0);
            continue;
        }
        size_t n = fread(data, 1, sizeof data, in);
        fclose(in);
        int over = 0;
        size_t step = n / 400 + 1; /* a few hundred cases per file */
        for (size_t cut = 0; cut < n; cut += step) {
            write_file("hostile", data, cut);
            got g;
            read_all(tmp_path("hostile"), TR_FMT_AUTO, &g);
            over += g.n > full[f];
            free_got(&g);
            uint8_t keep = data[cut];
            data[cut] ^= (uint8_t)(0x5a + cut);
            write_file("hostile", data, n);
            read_all(tmp_path("hostile"), TR_FMT_AUTO, &g);
            over += g.n > full[f] + 1; /* a flip may split one record in two */
            free_got(&g);
            data[cut] = keep;
        }
        CHECK_EQ_INT(over, 0);
    }
}

static void dump(const char *path, int fmt)
{
    got g;
    read_all(path, fmt, &g);
    for (int i = 0; i < g.n && i < MAX_DOCS; i++)
        printf("=== id=%s title=[%s] url=%s date=%lld\n%s\n", g.id[i], g.title[i], g.url[i],
               (long long)g.date[i], g.body[i]);
    for (int i = 0; i < g.bad + g.io && i < 8; i++)
        printf("!!! %s\n", g.err[i]);
    printf("docs %d bad %d io %d\n", g.n, g.bad, g.io);
    free_got(&g);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--dump")) {
        dump(argv[2], argc > 3 ? atoi(argv[3]) : TR_FMT_AUTO);
        return 0;
    }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_wikitext();
    test_wiki_small();
    test_wiki_shared();
    test_trec();
    test_warc();
    CHECK(mkdir(tmp_path("news"), 0700) == 0);
    test_extract();
    test_dates();
    test_stdin();
    test_hostile();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", tmpdir);
    return check_done();
}
