#!/usr/bin/env python3
"""make_wikixml.py - turn the enwiki JSON Lines collection into the dump
formats trawl reads directly, for the end-to-end and per-reader benchmarks.

  make_wikixml.py [--as wiki|trec|warc] [--limit N] [IN] OUT

IN defaults to $TRAWL_SHARED_DATA/wiki/enwiki-2015.jsonl.zst (.zst is read
through `zstd -dc`; a plain .jsonl is read as is). The default output is a
MediaWiki XML export (pages-articles shape: <page><title><ns><id><revision>
<timestamp><text>). The articles' text is already plain, so each page gets
the markup a real dump carries around it: the title in bold in the first
line, an infobox template, a reference, a link, and category links, so the
wiki reader does real markup work. One in twenty pages is written as a
redirect (skipped by the reader, as in a real dump). --as trec writes <DOC>
SGML, --as warc WARC response records with an HTML page per article.
"""
import json
import os
import subprocess
import sys
from xml.sax.saxutils import escape


def records(path):
    if path.endswith(".zst"):
        p = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        src = p.stdout
    else:
        p = None
        src = open(path, "rb")
    for line in src:
        line = line.strip()
        if line:
            yield json.loads(line)
    if p:
        p.wait()


def wiki_page(out, r, n):
    title = r.get("title") or r["id"]
    body = r.get("body") or ""
    ts = "2015-06-01T00:00:00Z"
    if n % 20 == 19:
        out.write("  <page>\n    <title>%s (redirect)</title>\n    <ns>0</ns>\n    <id>9%s</id>\n"
                  "    <redirect title=\"%s\" />\n    <revision>\n      <timestamp>%s</timestamp>\n"
                  "      <text xml:space=\"preserve\">#REDIRECT [[%s]]</text>\n    </revision>\n"
                  "  </page>\n" % (escape(title), escape(str(r["id"])), escape(title, {'"': "&quot;"}),
                                   ts, escape(title)))
    paras = body.split("\n")
    first = paras[0] if paras else ""
    text = ("{{Infobox article\n| name = %s\n| image = x.jpg\n}}\n'''%s''' &mdash; %s"
            "<ref name=\"src\">{{cite web|url=http://example.org/%s|title=Source}}</ref>\n\n"
            % (title, title, first, r["id"]))
    text += "\n\n".join(paras[1:])
    text += "\n\n== See also ==\n* [[%s|%s]]\n\n[[Category:Articles]]\n" % (title, title)
    out.write("  <page>\n    <title>%s</title>\n    <ns>0</ns>\n    <id>%s</id>\n    <revision>\n"
              "      <id>%d</id>\n      <timestamp>%s</timestamp>\n"
              "      <text xml:space=\"preserve\">%s</text>\n    </revision>\n  </page>\n"
              % (escape(title), escape(str(r["id"])), n, ts, escape(text)))


def trec_doc(out, r, n):
    out.write("<DOC>\n<DOCNO> %s </DOCNO>\n<DATE>June 1, 2015</DATE>\n<HEADLINE>%s</HEADLINE>\n"
              "<TEXT>\n%s\n</TEXT>\n</DOC>\n" % (escape(str(r["id"])), escape(r.get("title") or ""),
                                                  escape(r.get("body") or "")))


def warc_record(out, r, n):
    title = escape(r.get("title") or "")
    paras = "".join("<p>%s</p>\n" % escape(p) for p in (r.get("body") or "").split("\n") if p)
    html = ("<html><head><meta charset=\"utf-8\"><title>%s | Wiki</title></head><body>"
            "<div>Wiki</div><h1>%s</h1>%s<p>Share on social media</p></body></html>"
            % (title, title, paras)).encode("utf-8")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    head = ("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://en.wikipedia.org/?curid=%s\r\n"
            "WARC-Date: 2015-06-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:%08d>\r\n"
            "Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
            % (r["id"], n, len(http))).encode("ascii")
    out.write(head + http + b"\r\n\r\n")


def main():
    args = sys.argv[1:]
    kind, limit = "wiki", None
    while args and args[0].startswith("--"):
        if args[0] == "--as":
            kind = args[1]
            args = args[2:]
        elif args[0] == "--limit":
            limit = int(args[1])
            args = args[2:]
        else:
            sys.exit(__doc__)
    if len(args) == 1:
        shared = os.environ.get("TRAWL_SHARED_DATA", os.path.join(os.path.dirname(__file__),
                                                                     "..", "..", "shared", "data"))
        args.insert(0, os.path.join(shared, "wiki", "enwiki-2015.jsonl.zst"))
    if len(args) != 2 or kind not in ("wiki", "trec", "warc"):
        sys.exit(__doc__)
    src, dst = args
    binary = kind == "warc"
    with open(dst, "wb" if binary else "w", encoding=None if binary else "utf-8") as out:
        if kind == "wiki":
            out.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" '
                      'xml:lang="en">\n  <siteinfo>\n    <sitename>Wikipedia</sitename>\n'
                      '    <base>https://en.wikipedia.org/wiki/Main_Page</base>\n  </siteinfo>\n')
        write = {"wiki": wiki_page, "trec": trec_doc, "warc": warc_record}[kind]
        n = 0
        for r in records(src):
            write(out, r, n)
            n += 1
            if limit and n >= limit:
                break
        if kind == "wiki":
            out.write("</mediawiki>\n")
    print("%s: %d articles as %s" % (dst, n, kind), file=sys.stderr)


if __name__ == "__main__":
    main()
