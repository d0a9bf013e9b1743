#!/usr/bin/env python3
"""qlat_lines_ab.py - interleaved A/B latency of two trawl-query --protocol processes
on ready-made protocol lines (e.g. the peers driver's q.tsv, or a grep of it), where
qlat_ab.py builds its own from AOL queries.
Usage: qlat_lines_ab.py QUERY_A INDEX_A QUERY_B INDEX_B LINES_FILE [reps 3]
Each line: COMMAND<TAB>query. Both pinned to CPU 1; per line best of reps; prints means,
p50, B/A, answers that differ, and the 5 lines where B gained least."""
import subprocess, sys, time, gc, random, statistics
qa, ia, qb, ib, lf = sys.argv[1:6]
reps = int(sys.argv[6]) if len(sys.argv) > 6 else 3
L = [l.rstrip("\n") for l in open(lf) if l.strip()]
def start(q, i):
    return subprocess.Popen(["taskset", "-c", "1", q, "--protocol", i], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
P = {"A": start(qa, ia), "B": start(qb, ib)}
def ask(p, l):
    t0 = time.perf_counter_ns(); p.stdin.write(l + "\n"); p.stdin.flush(); a = p.stdout.readline()
    return time.perf_counter_ns() - t0, a.strip()
best = {k: [float("inf")] * len(L) for k in P}; ans = {k: [None] * len(L) for k in P}
for l in L: ask(P["A"], l); ask(P["B"], l)
gc.disable()
order = list(range(len(L)))
for r in range(reps):
    random.Random(r).shuffle(order)
    for n, i in enumerate(order):
        for k in (("A", "B") if (n + r) % 2 == 0 else ("B", "A")):
            d, a = ask(P[k], L[i]); best[k][i] = min(best[k][i], d); ans[k][i] = a
by = {}
for i, l in enumerate(L): by.setdefault(l.split("\t")[0], []).append(i)
for cmd, ix in sorted(by.items()):
    ma = statistics.mean(best["A"][i] for i in ix) / 1e3; mb = statistics.mean(best["B"][i] for i in ix) / 1e3
    pa = sorted(best["A"][i] for i in ix)[len(ix) // 2] / 1e3; pb = sorted(best["B"][i] for i in ix)[len(ix) // 2] / 1e3
    print(f"{cmd:12s} n={len(ix):4d} mean A {ma:9.1f} B {mb:9.1f} B/A {mb/ma:.3f} | p50 A {pa:8.1f} B {pb:8.1f} B/A {pb/pa:.3f}")
mism = [i for i in range(len(L)) if ans["A"][i] != ans["B"][i]]
print("answer mismatches:", len(mism), [L[i] for i in mism[:5]])
o = sorted(range(len(L)), key=lambda i: best["A"][i] - best["B"][i])
print("lines where B gained least (B-A µs):")
for i in o[:5]: print(f"  {(best['B'][i]-best['A'][i])/1e3:+9.1f}  A {best['A'][i]/1e3:9.1f}  {L[i]}")
