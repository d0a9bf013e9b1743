#!/usr/bin/env python3
"""test_concurrency.py - queries while another process indexes and commits.
One trawl-index adds documents in committed batches of BATCH while this
process runs trawl-query over and over: no query may fail, and every answer
must come from one committed snapshot: the count of a word in every document
is a whole number of batches, never goes down, and the count of a word in
every other document is a whole number of half batches. At the end the index passes --check."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BATCH = 50          # documents per commit (even, so "odd" is half of every batch)
BATCHES = 80        # commits made while the queries run
MIN_QUERIES = 20    # the test is meaningless if the writer finished too fast


def main():
    exe, query = os.environ.get("TRAWL_INDEX"), os.environ.get("TRAWL_QUERY")
    if not exe or not query:
        print("SKIP: TRAWL_INDEX / TRAWL_QUERY not set")
        return 77
    tmp = tempfile.mkdtemp(prefix="trawl_conc_")
    try:
        data = os.path.join(tmp, "docs.jsonl")
        with open(data, "w") as f:
            for i in range(BATCH * BATCHES):
                words = " ".join(f"w{(i * 31 + k) % 997}" for k in range(60))
                f.write(json.dumps({"id": f"c{i}", "title": f"doc {i}",
                                    "body": f"everyone {'oddity' if i % 2 else 'even'} {words}"}) + "\n")
        ix = os.path.join(tmp, "ix")
        first = os.path.join(tmp, "first.jsonl")
        with open(first, "w") as f:
            f.write(json.dumps({"id": "seed", "body": "seed"}) + "\n")
        subprocess.run([exe, "--quiet", ix, first], check=True)

        writer = subprocess.Popen([exe, "--quiet", "--threads", "1", "--batch-docs", str(BATCH), ix, data])
        answers, failures, last = 0, [], -1
        while True:
            done = writer.poll() is not None
            # each query is one read transaction: its count must be that of a
            # whole number of committed batches (every batch adds BATCH
            # "everyone" documents, BATCH/2 of them with "oddity")
            r = subprocess.run([query, "--count", ix, "everyone"], capture_output=True, text=True)
            r2 = subprocess.run([query, "--count", "--and", ix, "everyone oddity"],
                                capture_output=True, text=True)
            for res in (r, r2):
                if res.returncode == 1 and res.stdout.strip() == "0":
                    res.returncode = 0  # exit 1 = no hits: nothing committed yet
                if res.returncode != 0:
                    failures.append(f"query failed (exit {res.returncode}): {res.stderr.strip()[:300]}")
            if r.returncode == 0 and r2.returncode == 0:
                n, odd = int(r.stdout.strip()), int(r2.stdout.strip())
                answers += 1
                if n % BATCH:
                    failures.append(f"'everyone' counted {n}: not a whole number of batches of {BATCH}")
                if n < last:
                    failures.append(f"'everyone' went down from {last} to {n}")
                if odd % (BATCH // 2):
                    failures.append(f"'everyone oddity' counted {odd}: not a whole number of half batches")
                last = n
            if done:
                break
        if writer.returncode != 0:
            failures.append(f"writer exit {writer.returncode}")
        if last != BATCH * BATCHES:
            failures.append(f"final count {last}, want {BATCH * BATCHES}")
        chk = subprocess.run([exe, "--check", ix], capture_output=True, text=True)
        if chk.returncode != 0:
            failures.append("--check: " + chk.stdout[-400:])
        print(f"{answers} consistent answers while {BATCHES} batches were committed")
        if answers < MIN_QUERIES:
            print(f"note: only {answers} answers (the writer was fast); checks still hold")
        for f in failures[:10]:
            print("FAIL -", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
