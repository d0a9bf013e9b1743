#!/usr/bin/env python3
"""Estimate what a front-coded dictionary would take (issue #3).

Reads a format-4 index (one LMDB node per term); format 5 stores the dictionary as
front-coded blocks (common/dict.c), so run it on an index built by a version-4 build.

Reads the `terms` database of an index with mdb_dump and packs its entries, in key
order, into blocks of at most CAP bytes: per term the shared prefix length with the
previous term, the suffix, and the value without its 4-byte checksum (one checksum per
block), optionally with the term id as a delta to the previous term's (ids are given in
byte order within a commit, so neighbours' ids are close). A block is one LMDB node
keyed by its last term. Prints the node bytes and the pages they would fill at 97%
(appended pages), beside the current database's node bytes.

    python3 bench/dict_frontcode_estimate.py INDEX_DIR [CAP ...]
"""
import subprocess
import sys


def entries(index):
    out = subprocess.run(["mdb_dump", "-s", "terms", index], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    i = out.index("HEADER=END") + 1
    res = []
    while out[i].strip() != "DATA=END":
        res.append((bytes.fromhex(out[i].strip()), bytes.fromhex(out[i + 1].strip())))
        i += 2
    return res


def vlen(x):
    n = 1
    while x >= 0x80:
        x >>= 7
        n += 1
    return n


def varint(b, p):
    v = s = 0
    while True:
        v |= (b[p] & 0x7F) << s
        s += 7
        p += 1
        if b[p - 1] < 0x80:
            return v, p


def estimate(ents, cap, delta_ids):
    total = blocks = blk = cnt = 0
    prev, previd, last = b"", 0, b""
    for k, v in ents:
        tid, p = varint(v, 4)
        rest = len(v) - p                       # the value after csum and term id
        fresh = cnt == 0
        for attempt in range(2):
            shared = 0
            if not fresh:
                m = min(len(prev), len(k))
                while shared < m and prev[shared] == k[shared]:
                    shared += 1
            idb = vlen(tid - previd) if (delta_ids and not fresh and tid > previd) else vlen(tid)
            e = vlen(shared) + vlen(len(k) - shared) + (len(k) - shared) + vlen(idb + rest) + idb + rest
            if fresh or blk + e <= cap:
                break
            total += 8 + len(last) + 2 + 4 + blk   # node header, key, index slot, csum
            blocks += 1
            blk = cnt = 0
            fresh = True
        blk += e
        cnt += 1
        prev, previd, last = k, tid, k
    if cnt:
        total += 8 + len(last) + 2 + 4 + blk
        blocks += 1
    return blocks, total


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ents = entries(sys.argv[1])
    caps = [int(c) for c in sys.argv[2:]] or [512, 1024, 2000]
    n = len(ents)
    now = sum(8 + len(k) + len(v) + 2 for k, v in ents)
    print(f"{n} terms; now {now / 1e6:.2f} MB of nodes ({now / n:.1f} B a term; keys "
          f"{sum(len(k) for k, _ in ents) / n:.1f} B, values {sum(len(v) for _, v in ents) / n:.1f} B)")
    for cap in caps:
        for d in (0, 1):
            blocks, total = estimate(ents, cap, d)
            print(f"blocks <= {cap} B, term ids {'as deltas' if d else 'absolute'}: {blocks} blocks, "
                  f"{total / 1e6:.2f} MB of nodes, ~{total / (4080 * 0.97) * 4096 / 1e6:.2f} MB of pages, "
                  f"{total / n:.1f} B a term")


if __name__ == "__main__":
    main()
