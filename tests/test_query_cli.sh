#!/usr/bin/env bash
# test_query_cli.sh - end-to-end test of trawl-query on the sample corpus:
# every query form returns the expected ids, every output format is checked
# (JSON byte offsets against the stored bodies), and every exit code and
# error message, including a changed format version and a corrupt block.
set -euo pipefail

: "${TRAWL_SRC:?}" "${TRAWL_INDEX:?}" "${TRAWL_QUERY:?}"
CORPUS=$TRAWL_SRC/corpus/articles.jsonl
if [ ! -f "$CORPUS" ]; then
    echo "SKIP: no sample corpus at $CORPUS"
    exit 77
fi
for tool in python3 mdb_dump mdb_load; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IX=$T/ix
"$TRAWL_INDEX" --quiet "$IX" "$CORPUS"
Q=$TRAWL_QUERY
export NO_COLOR=1

pass=0
fail=0
ok() { echo "ok   - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND... : passes when the command succeeds
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# run ARGS...: trawl-query with stdout in $T/out, stderr in $T/err, status in $rc
run() {
    set +e
    "$Q" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
}

# ids_of ARGS...: the sorted ids a query returns (through --trec)
ids_of() {
    run --trec t -k 1000 "$@"
    awk '{print $3}' "$T/out" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect_ids DESCRIPTION "ID ID ..." ARGS...: the hit set, in any order
expect_ids() {
    local what=$1 want got; shift
    want=$(echo "$1" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'); shift
    got=$(ids_of "$@")
    if [ "$got" = "$want" ]; then ok "$what: $*"
    else bad "$what: $* -> got [$got], want [$want]; stderr: $(head -c 300 "$T/err")"; fi
}

# expect_status DESCRIPTION STATUS ARGS...
expect_status() {
    local what=$1 want=$2; shift 2
    run "$@"
    if [ "$rc" = "$want" ]; then ok "$what (exit $want)"
    else bad "$what: exit $rc, want $want; stderr: $(head -c 300 "$T/err")"; fi
}

# expect_err DESCRIPTION "exact stderr first line"
expect_err() {
    local got; got=$(head -n 1 "$T/err")
    if [ "$got" = "$2" ]; then ok "$1: message"
    else bad "$1: stderr [$got], want [$2]"; fi
}

CHESS="chess-krakow-open-2017 chess-world-championship-2018 chess-zurich-2023 chess-opening-explainer chess-online-boom-2020 chess-school-program-2026"

echo "# query forms"
expect_ids "one word" "volcano-etna-2021" "$IX" etna
expect_ids "word, other case and diacritics folded" "railway-gotthard-2016" "$IX" GOTTHARD
expect_ids "phrase" "railway-night-trains-2022" "$IX" '"night trains"'
expect_ids "phrase (stemmed words)" "railway-night-trains-2022" "$IX" '"night train"'
expect_ids "phrase with a stopword inside" "climate-bonn-2019 climate-loss-damage-2022 climate-2026-preview" "$IX" '"loss and damage"'
expect_ids "NEAR" "railway-gotthard-2016" "$IX" 'gotthard NEAR/3 tunnel'
expect_ids "AND" "chess-zurich-2023" "$IX" chess AND zurich
expect_ids "OR" "volcano-etna-2021 railway-gotthard-2016" "$IX" etna OR gotthard
expect_ids "juxtaposition is OR" "volcano-etna-2021 railway-gotthard-2016" "$IX" etna gotthard
expect_ids "NOT" "chess-krakow-open-2017 chess-world-championship-2018 chess-opening-explainer chess-online-boom-2020 chess-school-program-2026" "$IX" chess NOT zurich
expect_ids "+ and -" "bread-sourdough-explainer bread-lockdown-baking-2020" "$IX" +sourdough -zurich
expect_ids "+ +" "chess-zurich-2023" "$IX" +chess +zurich
expect_ids "parentheses" "railway-gotthard-2016" "$IX" '(etna OR gotthard) AND tunnel'
expect_ids "title:" "chess-opening-explainer volcano-etna-2021" "$IX" title:sicilian
expect_ids "body:" "chess-krakow-open-2017 chess-opening-explainer" "$IX" body:sicilian
expect_ids "prefix*" "climate-cop29-opening climate-bonn-2019 flood-oder-2016 chess-krakow-open-2017 library-krakow-opening-2018 bread-lockdown-baking-2020 bread-competition-zurich-2019 railway-museum-krakow-2024 salt-mine-wieliczka-explainer chess-school-program-2026" "$IX" 'krak*'
expect_ids "--after" "chess-online-boom-2020 chess-zurich-2023 chess-school-program-2026" --after 2020-01-01 "$IX" chess
expect_ids "--after and --before (inclusive days)" "chess-online-boom-2020" --after 2020-12-30 --before 2020-12-30 "$IX" chess
expect_ids "--before" "chess-krakow-open-2017 chess-opening-explainer" --before 2017-12-31 "$IX" chess
expect_ids "date: range in the query" "chess-online-boom-2020" "$IX" 'chess date:2020..2021'
expect_ids "--after overrides the query's lower bound" "chess-online-boom-2020 chess-zurich-2023 chess-school-program-2026" --after 2020-01-01 "$IX" 'chess date:>=2010'
expect_ids "--and" "chess-zurich-2023" --and "$IX" chess zurich
expect_ids "without --and: OR" "$CHESS flood-zurich-2021 library-zurich-renovation-2025 bread-competition-zurich-2019 climate-cop29-opening railway-gotthard-2016 glacier-switzerland-2022 beekeeping-explainer" "$IX" chess zurich
expect_ids "--plain: operators are words" "volcano-etna-2021" --plain "$IX" -etna
expect_status "without --plain, -word alone has no positive clause" 2 "$IX" -etna

echo "# output formats"
run "$IX" etna
check "human: exit 0 with hits" test "$rc" = 0
check "human: rank, score, id and title" grep -Eq '^1\. [0-9]+\.[0-9]{4}  volcano-etna-2021  Etna eruption lights up Sicilian sky$' "$T/out"
check "human: indented snippet with the word, no markers" grep -Eq '^    .*Etna' "$T/out"
check "human: no escape codes with NO_COLOR" bash -c "! grep -q $'\x1b' '$T/out'"
check "human: footer" grep -Eq '^1 hit shown of 1 matching \([0-9.]+ ms\)$' "$T/out"
run --color=always "$IX" etna
check "--color=always highlights the match" grep -q $'\x1b\\[1;31mEtna\x1b\\[0m' "$T/out"
run "$IX" 'zzyzzx'
check "no hits: exit 1" test "$rc" = 1
check "no hits: footer says 0" grep -q '^0 hits shown of 0 matching' "$T/out"

run --json "$IX" 'krak*' chess
check "--json exit 0" test "$rc" = 0
cat > "$T/check_json.py" <<'EOF'
import json, sys, unicodedata
corpus = {}
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    corpus[d["id"]] = d
def fold(s):
    s = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in s if not unicodedata.combining(c))
hits = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(hits) == 10, len(hits)
assert [h["rank"] for h in hits] == list(range(1, 11))
assert all(hits[i]["score"] >= hits[i + 1]["score"] for i in range(9))
for h in hits:
    d = corpus[h["id"]]
    assert h["title"] == d["title"] and h["url"] == d["url"] and h["date"] == d["date"], h["id"]
    body = d["body"].encode("utf-8")
    assert h["matches"], h["id"]
    for s, e in h["matches"]:
        w = fold(body[s:e].decode("utf-8"))
        assert w.startswith("krak") or w == "chess", (h["id"], s, e, w)
    words = [fold(x) for x in d["body"].replace(".", " ").replace(",", " ").split()]
    assert len(h["matches"]) >= sum(1 for x in words if x.startswith("krak") or x == "chess"), h["id"]
    snip = h["snippet"].strip(".")
    assert " ".join(snip.split()) in " ".join(d["body"].split()), (h["id"], snip)

EOF
check "--json: valid JSON, fields and byte offsets match the stored bodies" python3 "$T/check_json.py" "$CORPUS" "$T/out"

run --trec myrun -k 3 "$IX" chess
check "--trec: 3 lines 'qid Q0 docid rank score tag'" \
    test "$(grep -Ec '^1 Q0 chess-[a-z0-9-]+ [123] [0-9]+\.[0-9]{4} myrun$' "$T/out")" = 3

run --explain -k 1 "$IX" etna
check "--explain: clause lines under the hit" grep -Eq '^      [+-][0-9]+\.[0-9]{4}  .*etna' "$T/out"

run --count "$IX" chess
check "--count prints the number" test "$(cat "$T/out")" = 6
run --count "$IX" zzyzzx
check "--count with no match: 0 and exit 1" test "$(cat "$T/out")-$rc" = "0-1"

run --parse "$IX" 'title:etna "night trains"'
check "--parse prints the tree and exits 0" test "$rc" = 0 -a -s "$T/out"
check "--parse shows the analysed terms" grep -q etna "$T/out"

run -k 2 --offset 1 --trec r "$IX" chess
run -k 3 --trec r "$IX" chess
full=$(awk 'NR>1{print $3}' "$T/out" | tr '\n' ' ')
run -k 2 --offset 1 --trec r "$IX" chess
check "--offset skips the first hits and keeps ranks" test "$(awk '{print $3}' "$T/out" | tr '\n' ' ')" = "$full" -a "$(awk 'NR==1{print $4}' "$T/out")" = 2

printf 'q7\tetna\n\ngotthard tunnel\nq9\tzzyzzx\n' > "$T/batch"
run --batch "$T/batch" --trec b "$IX"
check "--batch --trec: qids from the file, plain lines numbered" \
    bash -c "grep -q '^q7 Q0 volcano-etna-2021 1 ' '$T/out' && grep -q '^2 Q0 railway-gotthard-2016 1 ' '$T/out' && ! grep -q '^q9 ' '$T/out'"
check "--batch exit 0" test "$rc" = 0
run --batch - --count "$IX" < "$T/batch"
check "--batch - --count from stdin" test "$(tr '\n' ' ' < "$T/out")" = "q7	1 2	2 q9	0 "

printf 'COUNT\tchess\nTOP_10\tetna\nTOP_100\t+chess +zurich\nTOP_1000\t"night trains"\nTOP_10_COUNT\tchess\nTOP_100_COUNT\tetna gotthard\nTOP_3\tchess\nTOP_10\tzzyzzx\nFOO\tchess\nTOP_10\tetna NEAR/5000 gotthard\nCOUNT_ALL\tchess\nTOP_10\t-etna\n' > "$T/proto"
run --protocol "$IX" < "$T/proto"
mapfile -t ans < "$T/out"
check "--protocol: one line per query" test "${#ans[@]}" = 12
check "--protocol COUNT" test "${ans[0]}" = 6
check "--protocol TOP_10" test "${ans[1]}" = volcano-etna-2021
check "--protocol TOP_100 with +a +b" test "${ans[2]}" = chess-zurich-2023
check "--protocol TOP_1000 phrase" test "${ans[3]}" = railway-night-trains-2022
check "--protocol TOP_10_COUNT" bash -c "[[ '${ans[4]}' =~ ^6$'\t'chess-[a-z0-9-]+( chess-[a-z0-9-]+){5}$ ]]"
check "--protocol TOP_100_COUNT" bash -c "[[ '${ans[5]}' == 2$'\t'* ]] && [[ '${ans[5]}' == *volcano-etna-2021* ]] && [[ '${ans[5]}' == *railway-gotthard-2016* ]]"
check "--protocol TOP_3 (any n)" test "$(echo "${ans[6]}" | wc -w)" = 3
check "--protocol empty result is an empty line" test -z "${ans[7]}"
check "--protocol unknown command" test "${ans[8]}" = UNSUPPORTED
check "--protocol unparsable query" test "${ans[9]}" = UNSUPPORTED
check "--protocol COUNT_ALL is unknown" test "${ans[10]}" = UNSUPPORTED
check "--protocol query without a positive clause" test "${ans[11]}" = UNSUPPORTED
check "--protocol exit 0" test "$rc" = 0

echo "# hostile stored fields, missing dates, the prefix cap warning"
python3 - "$T/odd.jsonl" <<'EOF'
import json, sys, itertools, string
words = ["zq" + "".join(p) for p in itertools.product(string.ascii_lowercase, repeat=2)][:300]
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"id": "many", "title": "Many \u001b[31mred words", "date": "2020-01-01",
                        "body": " ".join(words)}) + "\n")
    f.write(json.dumps({"id": "nodate", "title": "No date\nhere",
                        "body": "plain text,\ta tab and caf\u00e9 au lait"}) + "\n")
EOF
"$TRAWL_INDEX" --quiet "$T/ix2" "$T/odd.jsonl"
run -k 1 "$T/ix2" 'zq*'
check "prefix over TQ_MAX_PREFIX_TERMS: a warning on stderr, hits on stdout" \
    bash -c "[ $rc = 0 ] && grep -q '^trawl-query: warning: ' '$T/err' && grep -q '^1\. .* many ' '$T/out'"
check "human output: an escape byte in a title is not printed" bash -c "! grep -q $'\x1b' '$T/out'"
run --json "$T/ix2" plain OR many
check "--json: a document without a date has date null; control bytes escaped" python3 -c '
import json, sys
hits = {h["id"]: h for h in map(json.loads, open(sys.argv[1]))}
assert hits["nodate"]["date"] is None and hits["nodate"]["title"] == "No date\nhere"
assert hits["many"]["date"] == "2020-01-01" and hits["many"]["title"] == "Many \x1b[31mred words"
assert hits["nodate"]["snippet"] == "plain text, a tab and caf\u00e9 au lait", hits["nodate"]["snippet"]
raw = open(sys.argv[1], "rb").read()
assert b"\x1b" not in raw and b"\\u001b" in raw
' "$T/out"

echo "# exit codes and messages"
expect_status "--help" 0 --help
check "--help documents every option and the exit status" bash -c "for o in --top --offset --and --plain --k1 --b --title-weight --after --before --count --json --trec --explain --parse --batch --protocol --no-verify --color --version 'Exit status'; do grep -q -- \"\$o\" '$T/out' || exit 1; done"
expect_status "--version" 0 --version
expect_status "bad option" 2 --frobnicate "$IX" etna
expect_err "bad option" "trawl-query: unknown option '--frobnicate'"
expect_status "bad --top" 2 -k 0 "$IX" etna
expect_status "--top beyond TQ_MAX_TOP" 2 -k 100001 "$IX" etna
expect_status "bad date" 2 --after 2020-02-30 "$IX" etna
expect_status "missing index dir" 2 "$T/nothing" etna
expect_err "missing index dir" "trawl-query: $T/nothing: no trawl index here (run trawl-index first)"
mkdir "$T/empty"
expect_status "a directory that is not an index" 2 "$T/empty" etna
expect_err "a directory that is not an index" "trawl-query: $T/empty: no trawl index here (run trawl-index first)"
check "not an index: nothing was created there" test -z "$(ls -A "$T/empty")"
mkdir "$T/emptyenv" && : > "$T/emptyenv/data.mdb"
expect_status "an empty data.mdb (a writer killed before its first pages)" 2 "$T/emptyenv" etna
expect_err "an empty data.mdb" "trawl-query: $T/emptyenv: no trawl index here (run trawl-index first)"
expect_status "a query over a limit is a located error" 2 "$IX" 'etna NEAR/5000 gotthard'
expect_err "bad query" "trawl-query: query column 6: NEAR/5000 is over the limit of 1000 (TQ_MAX_NEAR)"
expect_status "unbalanced parentheses and quotes parse leniently" 0 "$IX" '((( etna ) "lava'

python3 -c 'print("(" * 100000)' > "$T/parens"
expect_status "100,000 '(' (no crash)" 2 "$IX" "$(cat "$T/parens")"
check "100,000 '(': message with a column" grep -Eq '^trawl-query: query column [0-9]+: ' "$T/err"
expect_status "1,000 '(' (over the depth limit)" 2 "$IX" "$(python3 -c 'print("(" * 1000 + "etna")')"
check "1,000 '(': message with a column" grep -Eq '^trawl-query: query column [0-9]+: ' "$T/err"

# A format version this build does not read: rewrite meta "format" to 99.
cp -r "$IX" "$T/ixv"
mdb_dump -s meta "$T/ixv" > "$T/meta.dump"
python3 - "$T/meta.dump" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
key = " " + b"format".hex()
i = lines.index(key)
v = bytes.fromhex(lines[i + 1].strip())
assert len(v) == 4 and int.from_bytes(v, "little") not in (0, 99), lines[i + 1]
open(sys.argv[1] + ".version", "w").write(str(int.from_bytes(v, "little")))
lines[i + 1] = " 63000000"
open(sys.argv[1], "w").write("\n".join(lines))
EOF
ver=$(cat "$T/meta.dump.version")
mdb_load -s meta -f "$T/meta.dump" "$T/ixv" 2>/dev/null
expect_status "other format version" 2 "$T/ixv" etna
check "other format version: message names both versions" grep -Eq "99.*$ver|$ver.*99" "$T/err"

# A corrupt posting block: flip one byte in the middle of the largest
# postings value, then search for its term.
cp -r "$IX" "$T/ixc"
mdb_dump -s terms "$T/ixc" > "$T/terms.dump"
mdb_dump -s postings "$T/ixc" > "$T/post.dump"
term=$(python3 - "$T/terms.dump" "$T/post.dump" <<'EOF'
import sys
def pairs(path):
    lines = [l for l in open(path).read().split("\n")]
    i = lines.index("HEADER=END") + 1
    out = []
    while lines[i].strip() != "DATA=END":
        out.append((bytes.fromhex(lines[i].strip()), bytes.fromhex(lines[i + 1].strip()), i + 1))
        i += 2
    return lines, out
def varint(b, p):
    v = s = 0
    while True:
        v |= (b[p] & 0x7f) << s; s += 7; p += 1
        if b[p - 1] < 0x80: return v
def varint_at(b, p):
    v = s = 0
    while True:
        v |= (b[p] & 0x7f) << s; s += 7; p += 1
        if b[p - 1] < 0x80: return v, p
def block_terms(val):
    # dictionary block (docs/FORMAT.md terms): csum | (prefix u8, suffix_len u8,
    # suffix, zigzag id delta v, vlen v, value)*
    p, term, tid, out = 4, b"", 0, []
    while p < len(val):
        pfx, sl = val[p], val[p + 1]
        term = term[:pfx] + val[p + 2:p + 2 + sl]
        zz, p = varint_at(val, p + 2 + sl)
        tid += (zz >> 1) ^ -(zz & 1)
        vl, p = varint_at(val, p)
        p += vl
        out.append((term, tid))
    return out
_, blocks = pairs(sys.argv[1])
lines, posts = pairs(sys.argv[2])
k, v, li = max(posts, key=lambda kv: len(kv[1]))
tid = int.from_bytes(k[4:8], "big")  # key: generation | term id | first doc
name = [t for _, val, _ in blocks for t, i in block_terms(val) if i == tid][0]
bad = bytearray(v)
bad[len(bad) * 2 // 3] ^= 0x5a
lines[li] = " " + bad.hex()
open(sys.argv[2], "w").write("\n".join(lines))
print(name.decode())
EOF
)
mdb_load -s postings -f "$T/post.dump" "$T/ixc" 2>/dev/null
expect_status "corrupt posting block ('$term')" 2 "$T/ixc" "$term"
check "corrupt posting block: a message, not a crash" grep -Eq '^trawl-query: .*(corrupt|checksum)' "$T/err"
expect_status "corrupt block elsewhere leaves other terms searchable" 0 "$T/ixc" gotthard
"$TRAWL_INDEX" --quiet --delete volcano-etna-2021 "$T/ixc"
set +e
"$TRAWL_INDEX" --merge "$T/ixc" 2>"$T/err"; mrc=$?
set -e
check "--merge of an index with a corrupt block: exit 2" [ "$mrc" = 2 ]
check "--merge of an index with a corrupt block: a message naming the term" grep -q "term '$term'.*corrupt" "$T/err"
expect_status "a failed merge leaves the index as it was" 0 "$T/ixc" gotthard

echo "# merge"
IXM=$T/ixm
"$TRAWL_INDEX" --quiet --batch-docs 5 "$IXM" "$CORPUS"
"$TRAWL_INDEX" --quiet --delete volcano-etna-2021 "$IXM"
before=$(ids_of -k 1000 "$IXM" chess OR volcano OR railway)
set +e
mout=$("$TRAWL_INDEX" --merge "$IXM" 2>&1); mrc=$?
set -e
check "--merge exits 0" [ "$mrc" = 0 ]
check "--merge reports the purge" grep -q "purged 1 deleted documents" <<<"$mout"
after=$(ids_of -k 1000 "$IXM" chess OR volcano OR railway)
check "same hits after the merge" [ "$before" = "$after" ]
check "the deleted document stays gone" [ "$(ids_of "$IXM" etna)" = "" ]
stats=$("$TRAWL_INDEX" --stats "$IXM")
check "--stats after merge: nothing deleted left" grep -Eq "documents +[0-9]+ live, 0 deleted" <<<"$stats"
check "--check after merge: sound" "$TRAWL_INDEX" --check "$IXM"
mout=$("$TRAWL_INDEX" --merge "$IXM" 2>&1)
check "a second merge has nothing to do" grep -q "merged 0 posting lists" <<<"$mout"
"$TRAWL_INDEX" --quiet --batch-docs 5 --merge "$T/ixm2" "$CORPUS"
chunks() { "$TRAWL_INDEX" --stats "$1" | grep -E '^postings +[0-9]+ in'; }
check "index in batches and merge in one run: the chunks of a one-batch build" \
    [ "$(chunks "$T/ixm2")" = "$(chunks "$IX")" ]
set +e
"$TRAWL_INDEX" --merge "$T/nonexistent" 2>"$T/err"; mrc=$?
set -e
check "--merge of a missing index: exit 2" [ "$mrc" = 2 ]
check "--merge of a missing index: a message" grep -q "nonexistent" "$T/err"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
