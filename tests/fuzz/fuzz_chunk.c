/* fuzz_chunk.c - libFuzzer harness for the block decoder: a chunk that opens
 * is decoded block by block (checksums off, so the fuzzer reaches the
 * unpacking code; the first byte of the input turns them on), positions
 * included. Nothing may be read outside the value. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Positions decoded per block at most (a block's tf values come from the
 * fuzzer, so the buffer is bounded and TR_ELIMIT is a fine answer). */
#define FUZZ_MAX_POSITIONS 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int verify = data[0] & 1;
    /* a copy of exactly the value's bytes, so ASan sees any overread */
    uint8_t *v = malloc(size - 1 ? size - 1 : 1);
    if (!v) return 0;
    memcpy(v, data + 1, size - 1);
    tr_chunk c;
    if (tr_chunk_open(&c, v, size - 1) == 0) {
        static uint32_t docs[TR_BLOCK_DOCS], tf[TR_BLOCK_DOCS], ttf[TR_BLOCK_DOCS];
        static uint32_t pos[FUZZ_MAX_POSITIONS];
        for (uint32_t b = 0; b < c.nblocks; b++) {
            tr_bound bd;
            tr_chunk_block_bound(&c, b, &bd);
            (void)tr_chunk_block_last(&c, b);
            (void)tr_chunk_block_count(&c, b);
            int n = tr_chunk_block_decode(&c, b, verify, docs, tf, ttf);
            if (n < 0) continue;
            if (n > TR_BLOCK_DOCS) abort();
            if (c.has_positions) {
                /* field lengths (from the norms in an index) made from the
                 * doc ids, so the runs usually fit and the decoder is reached */
                static uint32_t tl[TR_BLOCK_DOCS], bl[TR_BLOCK_DOCS];
                for (int i = 0; i < n; i++) {
                    tl[i] = ttf[i] + (docs[i] & 15);
                    bl[i] = tf[i] - ttf[i] + (docs[i] >> 4 & 4095);
                }
                tr_chunk_block_positions(&c, b, verify, tf, (uint32_t)n, tl, bl, pos, FUZZ_MAX_POSITIONS);
                if (n > 0) tr_chunk_posting_positions(&c, b, verify, tf, ttf, (uint32_t)n,
                                                      docs[0] % (uint32_t)n, tl, bl, pos);
            }
            (void)tr_bound_bm25(&bd, 1.2, 0.75, 2.0, 100.0);
        }
    }
    free(v);
    return 0;
}
