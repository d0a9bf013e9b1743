#!/usr/bin/env python3
"""test_crash.py - crash safety: trawl-index indexes a real collection in small
committed batches and is killed with SIGKILL at random moments. After every
kill the index must pass `trawl-index --check` and hold exactly the documents
of the batches that committed: the ids stored are the first k*N ids of the
input (or all of them), none half-present. Half the trials resume indexing
into the index a previous trial left behind.

The collection is CISI from the shared data; where that is absent, the sample
corpus repeated under fresh ids stands in, so the test never goes unrun.

TRAWL_CRASH_TRIALS sets the number of kills (default 50; thousands for a long
run); TRAWL_CRASH_SEED fixes the random moments."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BATCH = 20              # documents per committed batch
DEFAULT_TRIALS = 50
MAX_DOCS = 600          # documents of CISI used: 30 batches keep a trial short


def skip(why):
    print("SKIP:", why)
    sys.exit(77)


def stored_ids(ix):
    """External ids in the ids database, via mdb_dump (printable form)."""
    out = subprocess.run(["mdb_dump", "-s", "ids", "-p", ix], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr
    lines = out.stdout.split("\n")
    body = lines[lines.index("HEADER=END") + 1:]
    keys = []
    for i in range(0, len(body), 2):
        if body[i] in ("DATA=END", ""):
            break
        keys.append(body[i][1:])
    return keys, ""


def stats_line(exe, ix, prefix):
    out = subprocess.run([exe, "--stats", ix], capture_output=True, text=True).stdout
    return [line for line in out.split("\n") if line.startswith(prefix) and "chunks" in line]


def merge_trials(exe, cmd, data, tmp, rng, trials):
    """Kill `trawl-index --merge` (small transactions: --memory 1M) at random
    moments: the index must check clean and hold the same postings after every
    kill, and a merge run to the end must leave the chunks of a one-batch
    build (the line "postings N in M chunks (K inline)" of --stats)."""
    ix, one = os.path.join(tmp, "mix"), os.path.join(tmp, "mone")
    for d in (ix, one):
        shutil.rmtree(d, ignore_errors=True)
    subprocess.run(cmd + [ix, data], check=True)
    subprocess.run([exe, "--quiet", "--threads", "2", one, data], check=True)
    postings = stats_line(exe, ix, "postings ")[0].split(" in ")[0]
    mcmd = [exe, "--quiet", "--threads", "2", "--memory", "1M", "--merge", ix]
    t0 = time.monotonic()
    subprocess.run(mcmd, check=True)
    full = time.monotonic() - t0
    failures = []
    killed = 0
    for t in range(trials):
        shutil.rmtree(ix)
        subprocess.run(cmd + [ix, data], check=True)
        child = subprocess.Popen(mcmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, full * 1.05))
        if child.poll() is None:
            killed += 1
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        child.wait()
        chk = subprocess.run([exe, "--check", ix], capture_output=True, text=True)
        if chk.returncode != 0:
            failures.append(f"merge trial {t}: --check exit {chk.returncode}: {(chk.stdout + chk.stderr)[-500:]}")
            continue
        got = stats_line(exe, ix, "postings ")[0].split(" in ")[0]
        if got != postings:
            failures.append(f"merge trial {t}: '{got}' after the kill, '{postings}' before")
            continue
        subprocess.run(mcmd, check=True)
        if stats_line(exe, ix, "postings ") != stats_line(exe, one, "postings "):
            failures.append(f"merge trial {t}: resumed merge: {stats_line(exe, ix, 'postings ')} "
                            f"against a one-batch build's {stats_line(exe, one, 'postings ')}")
    print(f"merge: {trials} kills ({killed} while merging, uninterrupted {full:.2f} s), "
          f"{len(failures)} failed")
    return failures


def main():
    exe = os.environ.get("TRAWL_INDEX")
    shared = os.environ.get("TRAWL_SHARED_DATA", "")
    if not exe:
        skip("TRAWL_INDEX not set")
    src = os.path.join(shared, "rel", "cisi", "docs.jsonl")
    tmp = tempfile.mkdtemp(prefix="trawl_crash_")
    if not os.path.exists(src):
        sample = os.path.join(os.environ.get("TRAWL_SRC", "."), "corpus", "articles.jsonl")
        if not os.path.exists(sample):
            skip("neither " + src + " nor the sample corpus is here")
        print("shared collection absent (" + src + "): using the sample corpus, repeated")
        with open(sample, encoding="utf-8") as f:
            docs = [json.loads(line) for line in f if line.strip()]
        src = os.path.join(tmp, "sample-repeated.jsonl")
        with open(src, "w", encoding="utf-8") as out:
            for n in range(MAX_DOCS):
                d = dict(docs[n % len(docs)])
                d["id"] = "%s#%d" % (d["id"], n // len(docs))
                out.write(json.dumps(d) + "\n")
    if not shutil.which("mdb_dump"):
        skip("mdb_dump not installed")
    trials = int(os.environ.get("TRAWL_CRASH_TRIALS", DEFAULT_TRIALS))
    seed = int(os.environ.get("TRAWL_CRASH_SEED", int(time.time())))
    rng = random.Random(seed)
    print(f"seed {seed}, {trials} trials, batches of {BATCH}")

    try:
        ids = []
        with open(src, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    ids.append(str(json.loads(line)["id"]))
        ids = ids[:MAX_DOCS]
        if len(set(ids)) != len(ids):
            skip("ids of the collection are not unique")
        data = os.path.join(tmp, "docs.jsonl")
        with open(src, encoding="utf-8") as f, open(data, "w", encoding="utf-8") as out:
            for n, line in enumerate(f):
                if n >= MAX_DOCS:
                    break
                out.write(line)
        order = {d: i for i, d in enumerate(ids)}

        cmd = [exe, "--quiet", "--threads", "2", "--batch-docs", str(BATCH)]
        # how long an uninterrupted run takes: kill moments are drawn within it
        ix = os.path.join(tmp, "ix")
        t0 = time.monotonic()
        subprocess.run(cmd + [ix, data], check=True)
        full = time.monotonic() - t0
        shutil.rmtree(ix)
        print(f"uninterrupted run: {full:.2f} s")

        survived = killed_mid = before_first = 0
        failures = []
        for t in range(trials):
            resume = t % 2 == 1 and os.path.exists(ix)
            if not resume and os.path.exists(ix):
                shutil.rmtree(ix)
            child = subprocess.Popen(cmd + [ix, data], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, full * 1.05))
            if child.poll() is None:
                killed_mid += 1
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # it finished between the poll and the kill
            child.wait()
            if not os.path.exists(os.path.join(ix, "data.mdb")):
                survived += 1  # killed before the environment existed: nothing committed
                continue
            chk = subprocess.run([exe, "--check", ix], capture_output=True, text=True)
            keys, why = stored_ids(ix)
            if chk.returncode != 0:
                # killed before the first commit: an LMDB environment holding no
                # trawl database yet, or an empty data.mdb (nothing committed, so
                # nothing to lose);
                # the next trial that resumes into it must work
                if not keys and ("format record" in chk.stderr or "no 'meta' database" in chk.stderr
                                 or "holds no trawl index yet" in chk.stderr):
                    survived += 1
                    before_first += 1
                    continue
                failures.append(f"trial {t}: --check exit {chk.returncode}: "
                                f"{(chk.stdout + chk.stderr)[-500:]}")
                continue
            if keys is None:
                failures.append(f"trial {t}: cannot list ids: {why}")
                continue
            n = len(keys)
            got = sorted(keys, key=lambda k: order.get(k, -1))
            prefix_ok = all(k in order for k in keys) and sorted(order[k] for k in keys) == list(range(n))
            if not prefix_ok or (n % BATCH and n != len(ids)):
                failures.append(f"trial {t}: {n} ids stored, not a whole number of batches of the "
                                f"input prefix (first few: {got[:5]})")
                continue
            survived += 1
        print(f"{trials} kills ({killed_mid} while indexing, {before_first} before the first "
              f"commit), {survived} survived, {len(failures)} failed")
        failures += merge_trials(exe, cmd, data, tmp, rng, max(trials // 5, 4))
        for f in failures[:10]:
            print("FAIL -", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
