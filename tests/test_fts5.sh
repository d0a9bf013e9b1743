#!/usr/bin/env bash
# End-to-end test of the SQLite FTS5 adapter (bench/fts5): builds an index of a
# tiny corpus made here and checks protocol answers and a batch TREC run
# against answers worked out by hand from the corpus text.
set -u
B="${TRAWL_BUILD:-build}/bench"
if [ ! -x "$B/fts5_index" ] || [ ! -x "$B/fts5_query" ]; then
    echo "skip: $B/fts5_index or fts5_query not built (libsqlite3-dev absent?)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# Porter stems: running/run/runs -> run, dogs -> dog, foxes -> fox.
cat > "$T/docs.jsonl" <<'EOF'
{"id": "a", "title": "Cats", "body": "the quick brown fox jumps over the lazy dog"}
{"id": 7, "title": "Dogs running", "body": "a lazy dog sleeps while the brown dogs run home"}
{"id": "c", "title": "", "body": "nothing here about foxes"}

not json at all
{"title": "no id: skipped"}
{"id": "d", "title": "Café", "body": "naïve résumé of a cafe"}
EOF
if ! "$B/fts5_index" "$T/t.db" "$T/docs.jsonl" 2> "$T/index.err"; then
    echo "FAIL: fts5_index exited non-zero"; cat "$T/index.err"; exit 1
fi
grep -q "4 documents, 2 lines skipped" "$T/index.err" || { echo "FAIL: index summary"; cat "$T/index.err"; fail=1; }

# query<TAB>expected answer. Ranked answers list ids best first (bm25);
# where two docs tie on term frequency the shorter one ranks first.
cat > "$T/cases.tsv" <<'EOF'
COUNT	dog	2
COUNT	dogs	2
COUNT	+lazy +fox	1
COUNT	+brown +dog	2
COUNT	fox cafe	3
COUNT	"brown fox"	1
COUNT	"lazy dog"	2
COUNT	"dog lazy"	0
COUNT	cafe	1
COUNT	zebra	0
TOP_10	fox	c a
TOP_1	fox	c
TOP_10	zebra	
TOP_10	"lazy dog"	a 7
TOP_10_COUNT	run	1	7
TOP_1_COUNT	fox	2	c
COUNT	+a b	UNSUPPORTED
COUNT	-dog	UNSUPPORTED
COUNT	"brown fox	UNSUPPORTED
COUNT	""	UNSUPPORTED
BOGUS	dog	UNSUPPORTED
TOP_0	dog	UNSUPPORTED
TOP_999999999	dog	UNSUPPORTED
COUNT	 	UNSUPPORTED
COUNT	OR AND NOT	0
COUNT	dog*	2
EOF
cut -f1,2 "$T/cases.tsv" > "$T/in.txt"
printf 'no tab here\n' >> "$T/in.txt"
"$B/fts5_query" "$T/t.db" < "$T/in.txt" > "$T/out.txt" 2> "$T/query.err"
n_in=$(wc -l < "$T/in.txt"); n_out=$(wc -l < "$T/out.txt")
[ "$n_in" = "$n_out" ] || { echo "FAIL: $n_in query lines but $n_out answers"; fail=1; }
i=0
while IFS= read -r expected_line; do
    i=$((i + 1))
    query=$(printf '%s' "$expected_line" | cut -f1,2)
    want=$(printf '%s' "$expected_line" | cut -f3-)
    got=$(sed -n "${i}p" "$T/out.txt")
    if [ "$got" != "$want" ]; then
        echo "FAIL: [$query] got [$got] want [$want]"; fail=1
    fi
done < "$T/cases.tsv"
[ "$(tail -n1 "$T/out.txt")" = "UNSUPPORTED" ] || { echo "FAIL: line without a tab"; fail=1; }

# Batch mode: punctuation is dropped, words are OR-ed; topic 3 has no words.
printf '1\tLazy dog?\n2\tfoxes!\n3\t...\n' > "$T/topics.tsv"
"$B/fts5_query" "$T/t.db" --batch "$T/topics.tsv" --trec tst -k 1 > "$T/run.txt" || { echo "FAIL: batch exit"; fail=1; }
awk '{print $1, $2, $3, $4, $6}' "$T/run.txt" > "$T/run.cols"
printf '1 Q0 7 1 tst\n2 Q0 c 1 tst\n' | cmp -s - "$T/run.cols" || { echo "FAIL: batch run"; cat "$T/run.txt"; fail=1; }
awk '$5 <= 0 {bad=1} END {exit bad}' "$T/run.txt" || { echo "FAIL: TREC scores must be positive (higher is better)"; fail=1; }

# Hostile input: a missing database and a non-FTS5 file fail cleanly.
"$B/fts5_query" "$T/missing.db" < /dev/null 2>/dev/null && { echo "FAIL: missing db accepted"; fail=1; }
printf 'garbage' > "$T/bad.db"
"$B/fts5_query" "$T/bad.db" < /dev/null 2>/dev/null && { echo "FAIL: garbage db accepted"; fail=1; }

[ $fail = 0 ] && echo "test_fts5: all answers match"
exit $fail
