#!/usr/bin/env python3
"""Interleaved latency of two trawl-query --protocol processes (A = before,
B = after) on the same queries: per kind (union, intersection, phrase, near)
and command (TOP_10, COUNT), each line's best of N passes, passes shuffled,
A and B asked one after the other for every line (which first alternates),
both pinned to CPU 1, so load from elsewhere hits both alike. Prints mean and
p50 of the best times, B/A ratios, and how many COUNT answers differ.
Usage: qlat_ab.py QUERY_A INDEX_A QUERY_B INDEX_B QUERIES.tsv [max 300]
       [reps 5] [kinds union,intersection,phrase,near]"""
import random, subprocess, sys, time, gc, statistics
qa, ia, qb, ib, qfile = sys.argv[1:6]
maxq = int(sys.argv[6]) if len(sys.argv) > 6 else 300
reps = int(sys.argv[7]) if len(sys.argv) > 7 else 5
kinds = (sys.argv[8] if len(sys.argv) > 8 else "union,intersection,phrase,near").split(",")
qs, seen = [], set()
for line in open(qfile):
    t = line.rstrip("\n").split("\t")[-1].strip().lower()
    if not t or any(not (c.isascii() and (c.isalpha() or c == " ")) for c in t): continue
    w = t.split()
    if len(w) < 2 or t in seen: continue
    seen.add(t); qs.append(w)
    if len(qs) >= maxq: break
def text(kind, w):
    if kind == "union": return " ".join(w)
    if kind == "intersection": return " ".join("+" + x for x in w)
    if kind == "phrase": return '"' + " ".join(w) + '"'
    if kind == "near": return " NEAR ".join(w)
lines = [(k, c, f"{c}\t{text(k, w)}") for k in kinds for c in ("TOP_10", "COUNT") for w in qs]
def start(q, i):
    return subprocess.Popen(["taskset", "-c", "1", q, "--protocol", i], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
pa, pb = start(qa, ia), start(qb, ib)
def ask(p, l):
    t0 = time.perf_counter_ns(); p.stdin.write(l + "\n"); p.stdin.flush(); a = p.stdout.readline(); return time.perf_counter_ns() - t0, a
best = {"A": [None] * len(lines), "B": [None] * len(lines)}
ans = {"A": [None] * len(lines), "B": [None] * len(lines)}
order = list(range(len(lines)))
for i in order: ask(pa, lines[i][2]); ask(pb, lines[i][2])  # warm-up
gc.disable()
for rep in range(reps):
    random.Random(42 + rep).shuffle(order)
    for j, i in enumerate(order):
        pair = [("A", pa), ("B", pb)] if (i + rep) % 2 == 0 else [("B", pb), ("A", pa)]
        for name, p in pair:
            dt, a = ask(p, lines[i][2])
            if best[name][i] is None or dt < best[name][i]: best[name][i] = dt
            ans[name][i] = a
gc.enable()
pa.stdin.close(); pb.stdin.close(); pa.wait(); pb.wait()
diff = sum(1 for i in range(len(lines)) if lines[i][1] == "COUNT" and ans["A"][i] != ans["B"][i])
print(f"{len(qs)} queries, {len(lines)} lines, best of {reps}; COUNT answers differing: {diff}")
print(f"{'kind':13} {'command':7} {'A mean us':>10} {'B mean us':>10} {'B/A mean':>9} {'A p50':>8} {'B p50':>8} {'median B/A':>10}")
for k in kinds:
    for c in ("TOP_10", "COUNT"):
        idx = [i for i in range(len(lines)) if lines[i][0] == k and lines[i][1] == c]
        a = [best["A"][i] / 1000 for i in idx]; b = [best["B"][i] / 1000 for i in idx]
        r = statistics.median(b[j] / a[j] for j in range(len(idx)))
        print(f"{k:13} {c:7} {sum(a)/len(a):10.1f} {sum(b)/len(b):10.1f} {sum(b)/sum(a):9.3f} {statistics.median(a):8.1f} {statistics.median(b):8.1f} {r:10.3f}")
