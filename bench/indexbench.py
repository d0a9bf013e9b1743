#!/usr/bin/env python3
"""Index build benchmark: trawl-index beside SQLite FTS5 on the same JSONL inputs.

For each input and engine: wall time, MB/s (input bytes / wall), docs/s, CPU
time, peak RSS of the builder (from wait4's rusage), index size in total and,
for trawl, per part (`trawl-index --stats --json`), and the trawl/fts5 MB/s
ratio. Writes indexbench.md and indexbench.json. See bench/README.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

# Bytes read at a time when pre-reading an input into the page cache.
READ_CHUNK = 1 << 20


def scan_input(path):
    """(bytes, documents) of a JSONL file; reading it also warms the page cache
    so that every engine starts from the same cache state."""
    size, docs = 0, 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            docs += chunk.count(b"\n")
    if size and not chunk_ends_newline(path):
        docs += 1
    return size, docs


def chunk_ends_newline(path):
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def timed_build(argv, log_path):
    """(wall s, cpu s, peak RSS bytes, exit status) of one builder process."""
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        except OSError as e:
            log.write(str(e).encode())
            return 0.0, 0.0, 0, 127
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, proc.returncode


def trawl_parts(trawl_index, index):
    """The byte counts of `trawl-index --stats --json`, or None where unavailable."""
    try:
        p = subprocess.run([trawl_index, "--stats", "--json", index], capture_output=True, timeout=600)
        if p.returncode == 0:
            return json.loads(p.stdout.decode()).get("bytes")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass
    return None


def label(path):
    """parent/name: inputs are often docs.jsonl in different folders."""
    return "/".join(os.path.abspath(path).split(os.sep)[-2:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=benchlib.default_shared())
    ap.add_argument("--inputs", help="comma list of JSONL files (default: enwiki-2015 articles "
                    "and passages, made in --work)")
    ap.add_argument("--head", type=int, help="use only the first N documents of each input")
    ap.add_argument("--engines", default="trawl,fts5")
    ap.add_argument("--threads", type=int, help="trawl-index --threads N")
    ap.add_argument("--memory", help="trawl-index --memory BYTES")
    ap.add_argument("--merge", action="store_true",
                    help="trawl-index --merge: merge the batches into one generation after indexing "
                    "(in the timed build, as FTS5's 'optimize' is)")
    ap.add_argument("--reps", type=int, default=1, help="builds per engine and input; the fastest counts")
    ap.add_argument("--keep", action="store_true", help="keep the indexes in --work")
    ap.add_argument("--work", default="/tmp/trawl-indexbench", help="scratch: inputs, indexes, logs")
    ap.add_argument("--out", default=os.path.join(benchlib.HERE, "results"))
    benchlib.add_binary_options(ap)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    table = benchlib.engine_table(args)
    if args.threads:
        table["trawl"][0][1:1] = ["--threads", str(args.threads)]
    if args.memory:
        table["trawl"][0][1:1] = ["--memory", str(args.memory)]
    if args.merge:
        table["trawl"][0][1:1] = ["--merge"]
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in table:
            ap.error(f"unknown engine {e}")
    if args.inputs:
        inputs = [p for p in args.inputs.split(",") if p]
    else:
        inputs = [benchlib.make_articles(args.shared, args.work),
                  benchlib.make_passages(args.shared, args.work)]
    if args.head:
        inputs = [benchlib.head_corpus(p, args.head, args.work) for p in inputs]

    results = []
    for path in inputs:
        size, docs = scan_input(path)
        name = label(path).replace("/", "_")
        for e in engines:
            build_t, _, is_file = table[e]
            index = os.path.join(args.work, f"{name}.{e}" + (".db" if is_file else ""))
            log = os.path.join(args.work, f"{name}.{e}.log")
            best = None
            for _ in range(max(1, args.reps)):
                benchlib.remove_index(index)
                argv = benchlib.fill(build_t, corpus=path, index=index)
                print(f"{name}: {' '.join(argv)}", file=sys.stderr)
                wall, cpu, rss, rc = timed_build(argv, log)
                if rc != 0:
                    best = {"error": f"exit {rc}, see {log}"}
                    break
                if best is None or wall < best["wall_s"]:
                    best = {"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": rss}
            r = {"input": path, "input_bytes": size, "docs": docs, "engine": e}
            if "error" not in best:
                best["index_bytes"] = benchlib.dir_bytes(index)
                best["mb_per_s"] = size / 1e6 / best["wall_s"] if best["wall_s"] else None
                best["docs_per_s"] = docs / best["wall_s"] if best["wall_s"] else None
                best["index_ratio"] = best["index_bytes"] / size if size else None
                best["parts"] = trawl_parts(args.trawl_index, index) if e == "trawl" else \
                    {"file": best["index_bytes"]}
            r.update(best)
            results.append(r)
            print(f"  {e}: " + (r["error"] if "error" in r else
                  f"{r['wall_s']:.2f} s, {r['mb_per_s']:.1f} MB/s, {r['docs_per_s']:.0f} docs/s, "
                  f"RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB, index {r['index_bytes'] / 2**20:.1f} MiB"),
                  file=sys.stderr)
            if not args.keep:
                benchlib.remove_index(index)

    ratios = []
    for path in inputs:
        by = {r["engine"]: r for r in results if r["input"] == path and "error" not in r}
        if "trawl" in by and "fts5" in by:
            ratios.append({"input": path, "trawl_over_fts5_mb_per_s":
                           by["trawl"]["mb_per_s"] / by["fts5"]["mb_per_s"],
                           "trawl_over_fts5_index_bytes":
                           by["trawl"]["index_bytes"] / by["fts5"]["index_bytes"]})
    doc = {"command": sys.argv, "machine": benchlib.machine(), "results": results, "ratios": ratios}
    with open(os.path.join(args.out, "indexbench.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    write_markdown(os.path.join(args.out, "indexbench.md"), doc)
    print(f"wrote {args.out}/indexbench.md and indexbench.json", file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


def write_markdown(path, doc):
    L = ["# Index build: " + ", ".join(sorted({r["engine"] for r in doc["results"]})), "",
         f"Machine: {benchlib.machine_line()}  ",
         f"Command: `python3 {' '.join(doc['command'])}`", "",
         "Wall = builder start to exit (optimize/merge included); MB = 10^6 bytes of input "
         "JSONL; peak RSS of the builder process; index/raw = index bytes / input bytes.", "",
         "| input | MB | docs | engine | wall s | MB/s | docs/s | CPU s | peak RSS MiB | index MiB | index/raw |",
         "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["results"]:
        head = f"| {label(r['input'])} | {r['input_bytes'] / 1e6:.1f} | {r['docs']:,} | {r['engine']} |"
        if "error" in r:
            L.append(f"{head} failed: {r['error']} |")
            continue
        L.append(f"{head} {r['wall_s']:.2f} | {r['mb_per_s']:.1f} | {r['docs_per_s']:,.0f} | "
                 f"{r['cpu_s']:.2f} | {r['peak_rss_bytes'] / 2**20:.0f} | "
                 f"{r['index_bytes'] / 2**20:.1f} | {r['index_ratio']:.3f} |")
    parts = [r for r in doc["results"] if r.get("parts") and r["engine"] == "trawl"]
    if parts:
        L += ["", "trawl index parts (bytes, from `trawl-index --stats --json`):", ""]
        for r in parts:
            L.append(f"- {label(r['input'])}: " +
                     ", ".join(f"{k} {v:,}" for k, v in r["parts"].items()))
    if doc["ratios"]:
        L += ["", "| input | trawl/fts5 MB/s | trawl/fts5 index bytes |", "|---|---:|---:|"]
        for x in doc["ratios"]:
            L.append(f"| {label(x['input'])} | {x['trawl_over_fts5_mb_per_s']:.2f} | "
                     f"{x['trawl_over_fts5_index_bytes']:.2f} |")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())
