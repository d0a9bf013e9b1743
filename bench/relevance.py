#!/usr/bin/env python3
"""Relevance table: trawl and SQLite FTS5 on the shared test collections.

For each collection in $SHARED/rel/<name>/ (docs.jsonl, queries.tsv, qrels.txt)
every engine indexes docs.jsonl, runs all topics as plain natural-language
queries (top 1000, TREC run) and bench/trec_eval.py scores the run. Writes
relevance.md and relevance.json; --check BASELINE fails (exit 1) when trawl's
MAP or nDCG@10 falls more than CHECK_TOLERANCE below the recorded figures.
See bench/README.md for every option.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import trec_eval  # noqa: E402

COLLECTIONS = ("cranfield", "cisi", "medline", "scifact")
ENGINES = ("trawl", "fts5")
# How far below the baseline (absolute) MAP or nDCG@10 may fall before --check fails.
CHECK_TOLERANCE = 0.005
CHECKED = ("map", "ndcg_cut_10")
# FTS5 figures (MAP, nDCG@10) from the issue that asked for this suite, shown
# beside ours so a drift in the adapter is visible.
ISSUE_FTS5 = {"cranfield": (0.3013, 0.3623), "cisi": (0.2172, 0.3780),
              "medline": (0.5281, 0.6900), "scifact": (0.6426, 0.6824)}
LABELS = (("map", "MAP"), ("ndcg_cut_10", "nDCG@10"), ("P_10", "P@10"),
          ("recall_100", "R@100"), ("recall_1000", "R@1000"), ("recip_rank_10", "MRR@10"))


def default_shared():
    return os.environ.get("TRAWL_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")


def run_cmd(cmd, stdout=None):
    """Runs cmd; returns (seconds, error text or None)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE)
    except OSError as e:
        return time.perf_counter() - t0, f"{cmd[0]}: {e}"
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        return dt, f"{' '.join(cmd)} exited {p.returncode}: {' | '.join(tail)}"
    return dt, None


def run_engine(engine, coll_dir, work, args):
    """Builds the index and the TREC run of one engine; returns a result dict."""
    docs = os.path.join(coll_dir, "docs.jsonl")
    topics = os.path.join(coll_dir, "queries.tsv")
    run_path = os.path.join(work, f"{engine}.run")
    if engine == "trawl":
        index = os.path.join(work, "trawl-index")
        shutil.rmtree(index, ignore_errors=True)
        build = [args.trawl_index, "--quiet", index, docs]
        query = [args.trawl_query, "--batch", topics, "--trec", "trawl", "--plain",
                 "-k", str(args.k)]
        for opt, val in (("--k1", args.k1), ("--b", args.b), ("--title-weight", args.title_weight)):
            if val is not None:
                query += [opt, str(val)]
        query.append(index)
    else:
        index = os.path.join(work, "fts5.db")
        if os.path.exists(index):
            os.remove(index)
        build = [args.fts5_index, index, docs]
        query = [args.fts5_query, index, "--batch", topics, "--trec", "fts5", "-k", str(args.k)]
    res = {}
    res["index_seconds"], err = run_cmd(build)
    if err:
        return {"error": err}
    with open(run_path, "wb") as out:
        res["batch_seconds"], err = run_cmd(query, stdout=out)
    if err:
        return {"error": err}
    with open(topics, encoding="utf-8") as f:
        nq = sum(1 for line in f if line.strip())
    res["topics"] = nq
    res["ms_per_query"] = 1000 * res["batch_seconds"] / max(nq, 1)
    try:
        _, avg = trec_eval.evaluate(trec_eval.read_qrels(os.path.join(coll_dir, "qrels.txt")),
                                    trec_eval.read_run(run_path))
    except ValueError as e:
        return {"error": f"scoring {run_path}: {e}"}
    res.update(avg)
    return res


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, {platform.system()} {platform.release()}"


def write_markdown(path, results, args):
    lines = ["# Relevance: trawl vs SQLite FTS5", "",
             f"Machine: {machine()}  ",
             f"Command: `python3 {' '.join(sys.argv)}`  ",
             f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "Metrics as trec_eval (bench/trec_eval.py): averages over the judged queries "
             "with a relevant document; a judged query with no results counts 0. "
             "ms/query = batch wall time (process start, index open, all topics) / topics.", ""]
    head = "| collection | engine | " + " | ".join(lab for _, lab in LABELS) + \
        " | queries | ms/query |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for coll in args.collections:
        for eng in args.engines:
            r = results[eng].get(coll, {})
            if "error" in r:
                lines.append(f"| {coll} | {eng} | failed: {r['error'][:120]} |")
                continue
            cells = " | ".join(f"{r[k]:.4f}" for k, _ in LABELS)
            lines.append(f"| {coll} | {eng} | {cells} | {r['queries']} | {r['ms_per_query']:.2f} |")
    lines.append("")
    lines.append("Mean over collections:")
    lines.append("")
    lines += ["| engine | " + " | ".join(lab for _, lab in LABELS) + " |",
              "|---|" + "---:|" * len(LABELS)]
    for eng in args.engines:
        ok = [results[eng][c] for c in args.collections if "error" not in results[eng].get(c, {"error": 1})]
        if len(ok) != len(args.collections):
            lines.append(f"| {eng} | (not every collection ran) |")
            continue
        cells = " | ".join(f"{sum(r[k] for r in ok) / len(ok):.4f}" for k, _ in LABELS)
        lines.append(f"| {eng} | {cells} |")
    if "fts5" in args.engines:
        lines += ["", "FTS5 against the issue's reference figures (MAP / nDCG@10):", "",
                  "| collection | ours | issue | difference |", "|---|---|---|---|"]
        for coll in args.collections:
            r = results["fts5"].get(coll, {})
            if coll in ISSUE_FTS5 and "error" not in r:
                m, n = ISSUE_FTS5[coll]
                lines.append(f"| {coll} | {r['map']:.4f} / {r['ndcg_cut_10']:.4f} | "
                             f"{m:.4f} / {n:.4f} | {r['map'] - m:+.4f} / {r['ndcg_cut_10'] - n:+.4f} |")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def check(results, baseline_path):
    """Messages for every trawl figure more than CHECK_TOLERANCE below the
    baseline's trawl figure, or below its FTS5 figure (trawl's defaults must
    rank at least as well as FTS5 on every collection)."""
    with open(baseline_path, encoding="utf-8") as f:
        recorded = json.load(f)["results"]
    base = recorded.get("trawl", {})
    problems = []
    for coll, figures in recorded.get("fts5", {}).items():
        now = results.get("trawl", {}).get(coll)
        if now is None or "error" in now or "error" in figures:
            continue
        for m in CHECKED:
            if m in figures and now[m] < figures[m]:
                problems.append(f"{coll} {m}: {now[m]:.4f} < FTS5's {figures[m]:.4f}")
    if not base:
        # Nothing recorded yet (the baseline predates a working trawl): say so
        # loudly, but there is nothing to fall below.
        print(f"relevance check: {baseline_path} holds no trawl figures yet; record them with "
              f"`bench/relevance.py --out DIR` and copy DIR/relevance.json there", file=sys.stderr)
    for coll, figures in base.items():
        now = results.get("trawl", {}).get(coll)
        if now is None:
            continue  # collection not selected in this run
        if "error" in now:
            problems.append(f"{coll}: trawl failed: {now['error']}")
            continue
        for m in CHECKED:
            if m in figures and now[m] < figures[m] - CHECK_TOLERANCE:
                problems.append(f"{coll} {m}: {now[m]:.4f} < baseline {figures[m]:.4f} - {CHECK_TOLERANCE}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=default_shared(), help="shared data folder (holds rel/)")
    ap.add_argument("--collections", default=",".join(COLLECTIONS))
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--trawl-index", default=os.path.join(ROOT, "build/indexer/trawl-index"))
    ap.add_argument("--trawl-query", default=os.path.join(ROOT, "build/query/trawl-query"))
    ap.add_argument("--fts5-index", default=os.path.join(ROOT, "build/bench/fts5_index"))
    ap.add_argument("--fts5-query", default=os.path.join(ROOT, "build/bench/fts5_query"))
    ap.add_argument("--k1", type=float, help="BM25 k1 passed to trawl-query")
    ap.add_argument("--b", type=float, help="BM25 b passed to trawl-query")
    ap.add_argument("--title-weight", type=float, help="title field weight passed to trawl-query")
    ap.add_argument("-k", type=int, default=1000, help="run depth (default 1000)")
    ap.add_argument("--work", help="scratch folder for indexes and runs (default: a temp dir)")
    ap.add_argument("--out", help="output folder (default bench/results; none with --check)")
    ap.add_argument("--check", metavar="BASELINE", help="exit 1 if trawl MAP or nDCG@10 falls "
                    f"more than {CHECK_TOLERANCE} below BASELINE (a relevance.json)")
    args = ap.parse_args()
    args.collections = [c for c in args.collections.split(",") if c]
    args.engines = [e for e in args.engines.split(",") if e]
    for e in args.engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e} (known: {', '.join(ENGINES)})")
    if not os.path.isdir(os.path.join(args.shared, "rel")):
        print(f"relevance.py: no {args.shared}/rel: shared data absent", file=sys.stderr)
        return 77
    work = args.work or tempfile.mkdtemp(prefix="trawl-relevance-")
    results = {e: {} for e in args.engines}
    for coll in args.collections:
        coll_dir = os.path.join(args.shared, "rel", coll)
        for eng in args.engines:
            wdir = os.path.join(work, coll)
            os.makedirs(wdir, exist_ok=True)
            r = run_engine(eng, coll_dir, wdir, args) if os.path.isdir(coll_dir) \
                else {"error": f"{coll_dir} missing"}
            results[eng][coll] = r
            if "error" in r:
                print(f"{coll:10} {eng:6} FAILED {r['error']}", file=sys.stderr)
            else:
                print(f"{coll:10} {eng:6} MAP {r['map']:.4f} nDCG@10 {r['ndcg_cut_10']:.4f} "
                      f"P@10 {r['P_10']:.4f} R@1000 {r['recall_1000']:.4f} "
                      f"({r['queries']} q, {r['missing']} without results, "
                      f"{r['ms_per_query']:.2f} ms/q)", file=sys.stderr)
    out = args.out or (None if args.check else os.path.join(HERE, "results"))
    if out:
        os.makedirs(out, exist_ok=True)
        doc = {"command": sys.argv, "machine": machine(),
               "settings": {"k": args.k, "k1": args.k1, "b": args.b,
                            "title_weight": args.title_weight},
               "results": results}
        with open(os.path.join(out, "relevance.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
        write_markdown(os.path.join(out, "relevance.md"), results, args)
        print(f"wrote {out}/relevance.md and relevance.json", file=sys.stderr)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    if args.check:
        problems = check(results, args.check)
        for p in problems:
            print(f"relevance check FAILED: {p}", file=sys.stderr)
        if problems:
            return 1
        print("relevance check passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
