#!/usr/bin/env bash
# test_relevance.sh - the relevance guard: trawl's MAP and nDCG@10 on the
# shared test collections may not fall more than 0.005 below the figures
# recorded in bench/results/relevance-baseline.json, nor below FTS5's.
# Skips (77) where ../shared/data is absent.
set -euo pipefail
: "${TRAWL_SRC:?}" "${TRAWL_INDEX:?}" "${TRAWL_QUERY:?}"
shared=${TRAWL_SHARED_DATA:-$TRAWL_SRC/../shared/data}
if [ ! -d "$shared/rel" ]; then
    echo "SKIP: $shared/rel absent (the shared test collections)"
    exit 77
fi
python3 "$TRAWL_SRC/bench/relevance.py" --shared "$shared" --engines trawl \
    --trawl-index "$TRAWL_INDEX" --trawl-query "$TRAWL_QUERY" \
    --check "$TRAWL_SRC/bench/results/relevance-baseline.json"
