#!/usr/bin/env python3
"""Query latency benchmark (search-benchmark-game method): trawl beside SQLite FTS5.

Builds each engine's index of one JSONL corpus, turns plain queries into the game's
kinds (term, intersection `+a +b`, union `a b`, phrase `"a b"`) times the chosen
commands, keeps one long-running query process per engine, sends a warm-up pass
and then --reps passes in a seeded shuffle, and keeps each query's best time (from
writing its line to reading its answer). Reports mean/p50/p90/p99 per kind and
command, engine-to-engine ratios and COUNT agreement. See bench/README.md.
"""
import argparse
import gc
import io
import itertools
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

KINDS = ("term", "intersection", "union", "phrase")
# Kinds whose COUNT must agree between engines (union counts agree too when
# tokenizers agree, but the game only cross-checks these).
CHECKED_KINDS = ("intersection", "phrase")
# Disagreeing queries listed in the Markdown report (all of them go to the JSON).
SAMPLE_DISAGREEMENTS = 15
# A query process gets this long to answer one line before it is declared hung.
ANSWER_TIMEOUT_S = 120
PLAIN_QUERY = re.compile(r"^[a-z ]+$")


def load_queries(path, max_queries):
    """Unique lower-cased queries of ASCII letters and spaces, in file order."""
    seen, out = set(), []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            text = line.rstrip("\n").split("\t", 1)[-1].strip().lower()
            text = " ".join(text.split())
            if not text or not PLAIN_QUERY.match(text) or text in seen:
                continue
            seen.add(text)
            out.append(text)
            if max_queries and len(out) >= max_queries:
                break
    return out


def protocol_lines(queries, kinds, commands):
    """[(kind, command, query text, protocol line)]."""
    lines = []
    for q in queries:
        words = q.split()
        forms = {}
        if len(words) == 1:
            forms["term"] = q
        else:
            forms["intersection"] = " ".join("+" + w for w in words)
            forms["union"] = q
            forms["phrase"] = f'"{q}"'
        for kind, form in forms.items():
            if kind in kinds:
                for cmd in commands:
                    lines.append((kind, cmd, q, f"{cmd}\t{form}"))
    return lines


class QueryProcess:
    """One long-running engine query process speaking the line protocol."""

    def __init__(self, argv, stderr_path):
        self.err = open(stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, bufsize=0)
        # Buffered on our side only: an unbuffered pipe's readline() reads one
        # byte per system call, which added ~0.3 us per answer byte to every
        # timing (25 us for ten ids, 360 us for a hundred). The protocol is
        # one line per request, so nothing is read ahead of its question.
        self.stdout = io.BufferedReader(self.proc.stdout, 1 << 16)

    def ask(self, line):
        """(answer, nanoseconds); raises RuntimeError when the process dies."""
        data = (line + "\n").encode()
        t0 = time.perf_counter_ns()
        try:
            self.proc.stdin.write(data)
            answer = self.stdout.readline()
        except (BrokenPipeError, OSError) as e:
            raise RuntimeError(f"query process: {e}")
        dt = time.perf_counter_ns() - t0
        if not answer:
            raise RuntimeError(f"query process exited (status {self.proc.poll()})")
        return answer.decode("utf-8", "replace").rstrip("\n"), dt

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def build(name, table, corpus, work, reuse):
    build_t, _, is_file = table[name]
    index = os.path.join(work, f"index-{name}" + (".db" if is_file else ""))
    log = os.path.join(work, f"build-{name}.log")
    if reuse and os.path.exists(index + ".ok"):
        return index, None
    benchlib.remove_index(index)
    if os.path.exists(index + ".ok"):
        os.remove(index + ".ok")
    argv = benchlib.fill(build_t, corpus=corpus, index=index)
    print(f"building {name}: {' '.join(argv)}", file=sys.stderr)
    with open(log, "wb") as f:
        try:
            rc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT).returncode
        except OSError as e:
            return index, str(e)
    if rc != 0:
        return index, f"build exited {rc}, see {log}"
    open(index + ".ok", "w").close()
    return index, None


def run_engine(name, table, index, lines, args, work):
    """{line index: (best ns, answer)} plus stats; raises RuntimeError on failure."""
    argv = benchlib.fill(table[name][1], index=index)
    qp = QueryProcess(argv, os.path.join(work, f"query-{name}.stderr"))
    try:
        order = list(range(len(lines)))
        for w in range(args.warmup):
            random.Random(args.seed + 1000 + w).shuffle(order)
            for i in order:
                qp.ask(lines[i][3])
        best = [None] * len(lines)
        answers = [None] * len(lines)
        unstable = set()
        gc.disable()
        for rep in range(args.reps):
            random.Random(args.seed + rep).shuffle(order)
            for i in order:
                ans, dt = qp.ask(lines[i][3])
                if best[i] is None or dt < best[i]:
                    best[i] = dt
                if answers[i] is None:
                    answers[i] = ans
                elif answers[i] != ans:
                    unstable.add(i)
        gc.enable()
    finally:
        gc.enable()
        qp.close()
    return best, answers, unstable


def stats(values_ns):
    v = sorted(x / 1000.0 for x in values_ns)
    if not v:
        return None
    return {"n": len(v), "mean": sum(v) / len(v), "p50": benchlib.percentile(v, 50),
            "p90": benchlib.percentile(v, 90), "p99": benchlib.percentile(v, 99)}


def answer_count(cmd, answer):
    """The count in a COUNT or TOP_n_COUNT answer, else None."""
    try:
        if cmd == "COUNT":
            return int(answer)
        if cmd.endswith("_COUNT"):
            return int(answer.split("\t", 1)[0])
    except ValueError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=benchlib.default_shared())
    ap.add_argument("--corpus", help="JSONL corpus (default: enwiki-2015 passages, made in --work)")
    ap.add_argument("--head", type=int, help="use only the first N documents of the corpus")
    ap.add_argument("--queries", help="qid<TAB>text query file (default: $SHARED/queries/aol/queries.tsv)")
    ap.add_argument("--max-queries", type=int, default=0, help="use at most N queries (0 = all)")
    ap.add_argument("--engines", default="trawl,fts5")
    ap.add_argument("--commands", default="TOP_10,TOP_100,COUNT")
    ap.add_argument("--kinds", default="intersection,union,phrase",
                    help=f"comma list of {','.join(KINDS)} (term = the one-word queries)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cpu", default="last", help="pin to this CPU: N, 'last' or 'none'")
    ap.add_argument("--reuse", action="store_true", help="reuse indexes built by an earlier run in --work")
    ap.add_argument("--work", default="/tmp/trawl-querybench", help="scratch: corpus, indexes, logs")
    ap.add_argument("--out", default=os.path.join(benchlib.HERE, "results"))
    benchlib.add_binary_options(ap)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    table = benchlib.engine_table(args)
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in table:
            ap.error(f"unknown engine {e}")
    kinds = [k for k in args.kinds.split(",") if k]
    commands = [c for c in args.commands.split(",") if c]

    corpus = args.corpus or benchlib.make_passages(args.shared, args.work)
    if args.head:
        corpus = benchlib.head_corpus(corpus, args.head, args.work)
    qfile = args.queries or os.path.join(args.shared, "queries", "aol", "queries.tsv")
    queries = load_queries(qfile, args.max_queries)
    lines = protocol_lines(queries, kinds, commands)
    print(f"{len(queries)} queries -> {len(lines)} protocol lines; corpus {corpus}", file=sys.stderr)

    indexes, failed = {}, {}
    for e in engines:
        indexes[e], err = build(e, table, corpus, args.work, args.reuse)
        if err:
            failed[e] = err
            print(f"{e}: {err}", file=sys.stderr)

    cpu = None
    if args.cpu != "none":
        cpu = max(os.sched_getaffinity(0)) if args.cpu == "last" else int(args.cpu)
        os.sched_setaffinity(0, {cpu})  # query processes inherit it

    results = {}
    for e in engines:
        if e in failed:
            continue
        print(f"querying {e} ...", file=sys.stderr)
        try:
            results[e] = run_engine(e, table, indexes[e], lines, args, args.work)
        except RuntimeError as err:
            failed[e] = str(err)
            print(f"{e}: {err}", file=sys.stderr)

    # per engine, per (kind, command) latency statistics
    groups = sorted({(l[0], l[1]) for l in lines}, key=lambda g: (KINDS.index(g[0]), g[1]))
    table_stats = {}
    for e, (best, answers, unstable) in results.items():
        table_stats[e] = {}
        for g in groups:
            idx = [i for i, l in enumerate(lines) if (l[0], l[1]) == g]
            table_stats[e][f"{g[0]} {g[1]}"] = stats(best[i] for i in idx)
        for cmd in commands:
            idx = [i for i, l in enumerate(lines) if l[1] == cmd]
            table_stats[e][f"all {cmd}"] = stats(best[i] for i in idx)
    unsupported = {e: sum(1 for a in r[1] if a == "UNSUPPORTED") for e, r in results.items()}

    # engine-to-engine ratios: how many times faster `a` is than `b` (b time / a time)
    ratios = {}
    for a, b in itertools.permutations(results, 2):
        ratios[f"{a} vs {b}"] = {
            key: {m: (table_stats[b][key][m] / table_stats[a][key][m]
                      if table_stats[a][key] and table_stats[a][key][m] else None)
                  for m in ("mean", "p50", "p90", "p99")}
            for key in table_stats[a]}

    # COUNT agreement on intersection and phrase queries
    agreement = {}
    for a, b in itertools.combinations(results, 2):
        dis, compared = [], 0
        for i, (kind, cmd, q, line) in enumerate(lines):
            if kind not in CHECKED_KINDS:
                continue
            ca, cb = answer_count(cmd, results[a][1][i]), answer_count(cmd, results[b][1][i])
            if ca is None or cb is None:
                continue
            compared += 1
            if ca != cb:
                dis.append({"line": line, a: ca, b: cb})
        agreement[f"{a} vs {b}"] = {"compared": compared, "disagree": len(dis), "queries": dis}

    doc = {"command": sys.argv, "machine": benchlib.machine(), "cpu_pinned": cpu,
           "corpus": corpus, "queries_file": qfile, "queries": len(queries),
           "protocol_lines": len(lines), "reps": args.reps, "warmup": args.warmup,
           "seed": args.seed, "failed": failed, "latency_us": table_stats, "speedup": ratios,
           "unsupported": unsupported,
           "unstable": {e: len(r[2]) for e, r in results.items()},
           "count_agreement": agreement}
    with open(os.path.join(args.out, "querybench.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    write_markdown(os.path.join(args.out, "querybench.md"), doc, groups, commands)
    print(f"wrote {args.out}/querybench.md and querybench.json", file=sys.stderr)
    return 1 if failed else 0


def fmt(x):
    return "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.1f}")


def write_markdown(path, doc, groups, commands):
    L = ["# Query latency: " + ", ".join(doc["latency_us"]) + "", "",
         f"Machine: {benchlib.machine_line()}  ",
         f"Command: `python3 {' '.join(doc['command'])}`  ",
         f"Corpus: `{doc['corpus']}`; {doc['queries']} queries from `{doc['queries_file']}` "
         f"-> {doc['protocol_lines']} protocol lines; warm-up {doc['warmup']}, "
         f"best of {doc['reps']} passes (seeded shuffle {doc['seed']}); "
         f"pinned to CPU {doc['cpu_pinned']}.", "",
         "Latency in µs of each query's best pass (from writing its line to reading "
         "its answer, pipe round trip included); nearest-rank percentiles.", ""]
    for e, err in doc["failed"].items():
        L.append(f"**{e} failed:** {err}  ")
    keys = [f"{k} {c}" for k, c in groups] + [f"all {c}" for c in commands]
    engines = list(doc["latency_us"])
    if engines:
        L += ["| kind command | engine | n | mean | p50 | p90 | p99 |", "|---|---|---:|---:|---:|---:|---:|"]
        for key in keys:
            for e in engines:
                s = doc["latency_us"][e].get(key)
                if s:
                    L.append(f"| {key} | {e} | {s['n']} | {fmt(s['mean'])} | {fmt(s['p50'])} | "
                             f"{fmt(s['p90'])} | {fmt(s['p99'])} |")
        L.append("")
    for pair, r in doc["speedup"].items():
        a, b = pair.split(" vs ")
        L += [f"Speedup of {a} over {b} ({b} time / {a} time; > 1 = {a} faster):", "",
              "| kind command | mean | p50 | p90 | p99 |", "|---|---:|---:|---:|---:|"]
        for key in keys:
            if key in r:
                L.append(f"| {key} | " + " | ".join(
                    "-" if r[key][m] is None else f"{r[key][m]:.2f}x" for m in ("mean", "p50", "p90", "p99")) + " |")
        L.append("")
    L.append("UNSUPPORTED answers: " + ", ".join(f"{e} {n}" for e, n in doc["unsupported"].items())
             + "; answers that changed between passes: "
             + ", ".join(f"{e} {n}" for e, n in doc["unstable"].items()) + ".")
    L.append("")
    for pair, r in doc["count_agreement"].items():
        L.append(f"COUNT agreement {pair} (intersection, phrase): {r['compared'] - r['disagree']} of "
                 f"{r['compared']} agree, {r['disagree']} disagree.")
        if r["queries"]:
            a, b = pair.split(" vs ")
            L += ["", f"| query | {a} | {b} |", "|---|---:|---:|"]
            for d in r["queries"][:SAMPLE_DISAGREEMENTS]:
                L.append(f"| `{d['line'].replace(chr(9), ' ')}` | {d[a]} | {d[b]} |")
            if len(r["queries"]) > SAMPLE_DISAGREEMENTS:
                L.append(f"| ... {len(r['queries']) - SAMPLE_DISAGREEMENTS} more in querybench.json | | |")
        L.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    sys.exit(main())
