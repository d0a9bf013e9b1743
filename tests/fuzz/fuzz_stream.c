/* fuzz_stream.c - libFuzzer harness for the compressed-stream reader: the
 * compression is detected from magic bytes (gzip, bzip2, zstd, plain), so
 * seeds are small compressed files; damaged or truncated streams must end in
 * an error after the complete lines before the damage. */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* format auto: a JSON '{' goes to the JSONL reader, anything else to text */
    return fuzz_read_source(data, size, "", TR_FMT_AUTO);
}
