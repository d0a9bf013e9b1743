#!/usr/bin/env python3
"""test_memory.py - issue #3: the indexer's peak RSS stays within --memory plus
a small constant however many batches it commits and however big the index it
has written so far. A generated collection is indexed in many small batches
(--batch-docs) under a small --memory; the peak (ru_maxrss of the child, which
counts the index file's pages mapped as well as the heap) must stay below
--memory + SLACK_MIB.

The batches outnumber the ~64 commits after which the terms in every batch
need their chunks moved (TR_TERM_GENS_MAX_BYTES), and each reads the
dictionary, the norms and the ids of the growing index: the costs that grew
with the index (a 524 MiB peak for a 32M budget on the passages before the
fix). Skipped under sanitizers, whose shadow memory is no part of the bound."""
import itertools
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile

MEMORY_MIB = 16
SLACK_MIB = 64          # the constant: input queue, analysers, LMDB, zstd
DOCS = 36000
BATCH_DOCS = 450        # 80 commits
WORDS_PER_DOC = 140
VOCABULARY = 60000


def skip(why):
    print("SKIP:", why)
    sys.exit(77)


def sanitized(exe):
    with open(exe, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data or b"__ubsan_handle" in data


def write_collection(path):
    rng = random.Random(3)
    # Zipf-like: common words in every batch, a long tail of rare ones
    vocab = ["w%x%s" % (i, "abcdefghij"[i % 10]) for i in range(VOCABULARY)]
    cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(VOCABULARY)))
    with open(path, "w") as f:
        for d in range(DOCS):
            words = rng.choices(vocab, cum_weights=cum, k=WORDS_PER_DOC)
            title = " ".join(words[:5])
            body = " ".join(words[5:])
            f.write('{"id": "%d.%d", "title": "%s", "body": "%s"}\n' % (d * 7919 % 100003, d, title, body))


def peak_rss_mib(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print("FAIL: %s exited %d: %s" % (" ".join(cmd), code, err))
        sys.exit(1)
    return ru.ru_maxrss / 1024.0          # KiB on Linux


def main():
    exe = os.environ.get("TRAWL_INDEX")
    if not exe or not os.path.exists(exe):
        skip("TRAWL_INDEX not set")
    if sys.platform != "linux":
        skip("ru_maxrss in KiB is Linux's")
    if sanitized(exe):
        skip("sanitizer build")
    tmp = tempfile.mkdtemp(prefix="trawl-memory-")
    try:
        data = os.path.join(tmp, "docs.jsonl")
        write_collection(data)
        ix = os.path.join(tmp, "ix")
        cmd = [exe, "--quiet", "--threads", "2", "--memory", "%dM" % MEMORY_MIB,
               "--batch-docs", str(BATCH_DOCS), ix, data]
        peak = peak_rss_mib(cmd)
        bound = MEMORY_MIB + SLACK_MIB
        print("peak RSS %.1f MiB with --memory %dM, %d commits (bound %d MiB)"
              % (peak, MEMORY_MIB, DOCS // BATCH_DOCS, bound))
        chk = subprocess.run([exe, "--check", "--quick", ix], capture_output=True, text=True)
        if chk.returncode != 0:
            print("FAIL: --check:", chk.stdout, chk.stderr)
            return 1
        if peak > bound:
            print("FAIL: peak RSS %.1f MiB above --memory + %d MiB" % (peak, SLACK_MIB))
            return 1
        print("PASS")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
