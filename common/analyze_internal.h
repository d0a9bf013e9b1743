/* analyze_internal.h - test and benchmark hooks into the analyzer that are
 * not part of the public pipeline (analyze.h). Nothing in the indexer or the
 * query tools should need these. */
#ifndef TRAWL_ANALYZE_INTERNAL_H
#define TRAWL_ANALYZE_INTERNAL_H

#include "analyze.h"

/* Turn the stem cache off (0) or back on (1). With it off every word goes
 * through the Snowball stemmer; results must be identical either way, which
 * is what the tests check and what the benchmark measures the cost of. */
void tr_analyzer_set_stem_cache(tr_analyzer *a, int on);

#endif
