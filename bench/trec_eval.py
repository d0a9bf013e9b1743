#!/usr/bin/env python3
"""Relevance metrics with trec_eval's definitions, for bench/relevance.py.

Reads TREC qrels (`qid 0 docno rel`) and TREC runs (`qid Q0 docno rank score tag`)
and computes, per query and averaged: map, ndcg_cut_10, P_10, recall_100,
recall_1000 and recip_rank cut at 10 (MRR@10). Written from trec_eval's
documented behaviour (usnistgov/trec_eval 9.x), not from its code:

* Run order: the rank column is ignored; documents are sorted by score
  descending, ties by docno descending (byte order: trec_eval's
  comp_sim_docno uses strcmp(docno2, docno1)). A docno twice in one query's
  run is an error, as in trec_eval.
* Relevant = qrels relevance >= 1 (trec_eval's default -l1); relevance <= 0
  (Cranfield's -1) is judged but not relevant and gains nothing.
* nDCG@10 (ndcg_cut.10): gain = the relevance value, discount log2(rank + 1),
  ideal = the qrels' gains sorted descending, both cut at 10.
* P@10 always divides by 10, recall by the number of relevant documents.
* Averages: over the queries of the qrels that have at least one relevant
  document; a judged query missing from the run counts 0 (trec_eval -c).
  Queries that are only in the run are ignored (trec_eval skips them).
  trec_eval without -c would skip judged queries missing from the run, so
  `missing` is reported beside every average to show when it matters.

usage: trec_eval.py QRELS RUN [-q]   (prints trec_eval-like lines)
"""
import math
import sys

MEASURES = ("map", "ndcg_cut_10", "P_10", "recall_100", "recall_1000", "recip_rank_10")
# Ranks beyond this are ignored, like trec_eval's usual -M1000 runs: every
# measure here looks at most 1000 deep.
MAX_RANK = 1000


def read_qrels(path):
    """{qid: {docno: rel}} from a TREC qrels file; malformed lines raise ValueError."""
    qrels = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise ValueError(f"{path}:{n}: expected 'qid iter docno rel'")
            qid, _, docno, rel = parts
            qrels.setdefault(qid, {})[docno] = int(rel)
    return qrels


def read_run(path):
    """{qid: [(score, docno), ...]} from a TREC run file (unordered)."""
    run = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise ValueError(f"{path}:{n}: expected 'qid Q0 docno rank score tag'")
            run.setdefault(parts[0], []).append((float(parts[4]), parts[2]))
    return run


def order_run(pairs):
    """docnos in trec_eval's order: score descending, then docno descending."""
    ranked = sorted(pairs, key=lambda p: (p[0], p[1]), reverse=True)
    docnos = [d for _, d in ranked]
    if len(set(docnos)) != len(docnos):
        raise ValueError("duplicate docno in one query's run")
    return docnos[:MAX_RANK]


def query_measures(docnos, judged):
    """All MEASURES for one query: docnos in rank order, judged = {docno: rel}."""
    num_rel = sum(1 for r in judged.values() if r > 0)
    out = dict.fromkeys(MEASURES, 0.0)
    if num_rel == 0:
        return out
    found = 0
    ap_sum = 0.0
    dcg = 0.0
    for i, d in enumerate(docnos):
        rank = i + 1
        rel = judged.get(d, 0)
        if rel <= 0:
            continue
        found += 1
        ap_sum += found / rank
        if rank <= 10:
            dcg += rel / math.log2(rank + 1)
            out["P_10"] += 1
            if out["recip_rank_10"] == 0.0:
                out["recip_rank_10"] = 1.0 / rank
        if rank <= 100:
            out["recall_100"] += 1
        out["recall_1000"] += 1
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    out["map"] = ap_sum / num_rel
    out["ndcg_cut_10"] = dcg / idcg if idcg > 0 else 0.0
    out["P_10"] /= 10
    out["recall_100"] /= num_rel
    out["recall_1000"] /= num_rel
    return out


def evaluate(qrels, run):
    """(per_query {qid: measures}, averages {measure: value, 'queries': n, 'missing': m})."""
    per_query = {}
    missing = 0
    for qid, judged in qrels.items():
        if not any(r > 0 for r in judged.values()):
            continue
        if qid not in run:
            missing += 1
        per_query[qid] = query_measures(order_run(run.get(qid, [])), judged)
    n = len(per_query)
    avg = {m: (sum(q[m] for q in per_query.values()) / n if n else 0.0) for m in MEASURES}
    avg["queries"] = n
    avg["missing"] = missing
    return per_query, avg


def main(argv):
    args = [a for a in argv[1:] if a != "-q"]
    if len(args) != 2:
        sys.stderr.write("usage: trec_eval.py QRELS RUN [-q]\n")
        return 2
    per_query, avg = evaluate(read_qrels(args[0]), read_run(args[1]))
    if "-q" in argv:
        for qid in sorted(per_query):
            for m in MEASURES:
                print(f"{m:<16}\t{qid}\t{per_query[qid][m]:.4f}")
    for m in MEASURES:
        print(f"{m:<16}\tall\t{avg[m]:.4f}")
    print(f"{'num_q':<16}\tall\t{avg['queries']}")
    print(f"{'missing':<16}\tall\t{avg['missing']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
