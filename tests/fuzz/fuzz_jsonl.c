/* fuzz_jsonl.c - libFuzzer harness for the JSON Lines reader (tr_source on a
 * .jsonl file): every record parses into a document or a located error. */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read_source(data, size, ".jsonl", TR_FMT_JSONL);
}
