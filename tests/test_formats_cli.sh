#!/usr/bin/env bash
# test_formats_cli.sh - trawl-index on the real Wikipedia export samples:
# the enwiki sample gives exactly its 106 articles (100 redirects skipped),
# the table sample keeps cell text, the UTF-16 bgwiki sample is found by a
# Cyrillic query (stemming off); the same export also from stdin and with
# --format wikipedia. Skips where the shared data is absent.
set -euo pipefail

: "${TRAWL_INDEX:?}" "${TRAWL_QUERY:?}"
W=${TRAWL_SHARED_DATA:-}/wiki
if [ ! -f "$W/enwiki-pages-articles-sample.xml.bz2" ]; then
    echo "SKIP: no Wikipedia samples under $W"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export NO_COLOR=1
fail=0
expect() { # expect DESCRIPTION WANTED-SUBSTRING OUTPUT
    if [[ "$3" == *"$2"* ]]; then echo "ok   - $1"; else echo "FAIL - $1: wanted '$2' in: $3"; fail=1; fi
}

out=$("$TRAWL_INDEX" "$T/en" "$W/enwiki-pages-articles-sample.xml.bz2" 2>&1)
expect "enwiki sample: 106 articles" "106 added (0 replaced)" "$out"
expect "enwiki sample: nothing malformed" "0 skipped as malformed" "$out"
out=$(bzcat "$W/enwiki-pages-articles-sample.xml.bz2" | "$TRAWL_INDEX" --format wikipedia "$T/en2" - 2>&1)
expect "enwiki sample from stdin, forced format" "106 added" "$out"
out=$("$TRAWL_QUERY" "$T/en" 'anarchism' 2>&1)
expect "query finds Anarchism" "Anarchism" "$out"

out=$("$TRAWL_INDEX" "$T/tab" "$W/enwiki-table-markup.xml.bz2" 2>&1)
expect "table sample: 5 articles" "5 added" "$out"
out=$("$TRAWL_QUERY" "$T/tab" '"Rainer Barzel"' 2>&1)
expect "table cell text is indexed" "Constructive vote of no confidence" "$out"

out=$("$TRAWL_INDEX" --language none "$T/bg" "$W/bgwiki-pages-articles-sample.xml.bz2" 2>&1)
expect "bgwiki UTF-16 sample: 1 article (2 in namespace 4)" "1 added" "$out"
out=$("$TRAWL_QUERY" "$T/bg" 'календар' 2>&1)
expect "Cyrillic query on the UTF-16 export" "Григориански календар" "$out"
exit $fail
