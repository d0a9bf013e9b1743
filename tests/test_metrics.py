#!/usr/bin/env python3
"""Known-answer test of bench/trec_eval.py: a tiny run and qrels scored by hand.

Every expected number below is worked out in the comments from the metric
definitions (trec_eval's), not by running the code under test.
"""
import math
import os
import sys
import tempfile

SRC = os.environ.get("TRAWL_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "bench"))
import trec_eval  # noqa: E402

failures = 0


def check_close(name, got, want, tol=1e-6):
    global failures
    if abs(got - want) > tol:
        failures += 1
        print(f"FAIL {name}: got {got!r}, want {want!r}")


def check(name, cond):
    global failures
    if not cond:
        failures += 1
        print(f"FAIL {name}")


# qrels: graded judgments.
#   q1: d1=2, d2=1, d3=0 (judged, not relevant), d4=3 (relevant, never retrieved),
#       d5=-1 (Cranfield-style code: not relevant)            -> 3 relevant docs
#   q2: e1=1, e2=1                                             -> 2 relevant docs
#   q3: only g1=0                                              -> no relevant doc: excluded
#   q4: h1=1, but q4 is missing from the run                   -> counts 0 (trec_eval -c)
QRELS = """q1 0 d1 2
q1 0 d2 1
q1 0 d3 0
q1 0 d4 3
q1 0 d5 -1
q2 0 e1 1
q2 0 e2 1
q3 0 g1 0
q4 0 h1 1
"""

# run q1 (the rank column is deliberately wrong: trec_eval ignores it):
#   d3 5.0, d1 4.0, d2 3.0, d5 3.0, d9 1.0 (d9 unjudged)
#   tie d2/d5 at 3.0 -> docno descending -> d5 before d2.
#   order: d3 d1 d5 d2 d9 ; relevant at ranks 2 (d1, gain 2) and 4 (d2, gain 1).
# run q2: e2 scored 1000, then 150 unjudged fillers f000..f149 scored 999..850,
#   then e1 scored 1 -> e1 at rank 152.
# run q5: not in the qrels -> ignored.
RUN = ["q1 Q0 d2 1 3.0 t", "q1 Q0 d9 2 1.0 t", "q1 Q0 d1 3 4.0 t",
       "q1 Q0 d3 4 5.0 t", "q1 Q0 d5 5 3.0 t",
       "q2 Q0 e2 1 1000 t"]
RUN += [f"q2 Q0 f{i:03d} {i + 2} {999 - i} t" for i in range(150)]
RUN += ["q2 Q0 e1 152 1 t", "q5 Q0 z1 1 1.0 t"]

# q1 by hand:
#   AP      = (1/2 + 2/4) / 3                     = 0.333333...
#   P@10    = 2/10                                = 0.2
#   R@100   = R@1000 = 2/3
#   RR@10   = 1/2 (first relevant at rank 2)
#   DCG@10  = 2/log2(3) + 1/log2(5)               = 1.261860 + 0.430677 = 1.692536
#   IDCG@10 = 3/log2(2) + 2/log2(3) + 1/log2(4)   = 3 + 1.261860 + 0.5   = 4.761860
#   nDCG@10 = 1.692536 / 4.761860                 = 0.355436
Q1 = {"map": 1 / 3, "P_10": 0.2, "recall_100": 2 / 3, "recall_1000": 2 / 3,
      "recip_rank_10": 0.5, "ndcg_cut_10": 0.355436}
# q2 by hand:
#   AP      = (1/1 + 2/152) / 2                   = 0.506579
#   P@10    = 1/10; R@100 = 1/2 (e1 is at 152); R@1000 = 2/2; RR@10 = 1
#   nDCG@10 = (1/log2(2)) / (1/log2(2) + 1/log2(3)) = 1 / 1.630930 = 0.613147
Q2 = {"map": 0.506579, "P_10": 0.1, "recall_100": 0.5, "recall_1000": 1.0,
      "recip_rank_10": 1.0, "ndcg_cut_10": 0.613147}
# q4: every measure 0. Averages over q1, q2, q4 (3 queries), e.g.
#   MAP = (0.333333 + 0.506579 + 0) / 3 = 0.279971
#   nDCG@10 = (0.355436 + 0.613147) / 3 = 0.322861
AVG = {"map": 0.279971, "ndcg_cut_10": 0.322861, "P_10": 0.1, "recall_100": (2 / 3 + 0.5) / 3,
       "recall_1000": (2 / 3 + 1) / 3, "recip_rank_10": 0.5}

with tempfile.TemporaryDirectory() as tmp:
    qp, rp = os.path.join(tmp, "qrels"), os.path.join(tmp, "run")
    with open(qp, "w") as f:
        f.write(QRELS)
    with open(rp, "w") as f:
        f.write("\n".join(RUN) + "\n")
    per_query, avg = trec_eval.evaluate(trec_eval.read_qrels(qp), trec_eval.read_run(rp))

check("q3 (no relevant doc) excluded", "q3" not in per_query)
check("q5 (run only) ignored", "q5" not in per_query)
check("three queries averaged", avg["queries"] == 3)
check("one judged query missing from the run", avg["missing"] == 1)
for m, want in Q1.items():
    check_close(f"q1 {m}", per_query["q1"][m], want)
for m, want in Q2.items():
    check_close(f"q2 {m}", per_query["q2"][m], want)
for m in trec_eval.MEASURES:
    check_close(f"q4 {m}", per_query["q4"][m], 0.0)
for m, want in AVG.items():
    check_close(f"avg {m}", avg[m], want)

# exact closed forms, to 1e-12
check_close("q1 ndcg exact", per_query["q1"]["ndcg_cut_10"],
            (2 / math.log2(3) + 1 / math.log2(5)) / (3 + 2 / math.log2(3) + 0.5), 1e-12)
check_close("q2 map exact", per_query["q2"]["map"], (1 + 2 / 152) / 2, 1e-12)

# trec_eval's tie order: score descending, then docno descending
check("tie order", trec_eval.order_run([(1.0, "a"), (2.0, "b"), (1.0, "c")]) == ["b", "c", "a"])

# MRR is cut at 10: a first relevant doc at rank 11 scores 0
docs = [f"n{i:02d}" for i in range(10)] + ["r"]
check_close("recip_rank cut at 10", trec_eval.query_measures(docs, {"r": 1})["recip_rank_10"], 0.0)

# a docno twice in one query's run is an error, as in trec_eval
try:
    trec_eval.order_run([(1.0, "a"), (0.5, "a")])
    check("duplicate docno rejected", False)
except ValueError:
    pass

if failures:
    print(f"{failures} failure(s)")
    sys.exit(1)
print("test_metrics: all known answers match")
