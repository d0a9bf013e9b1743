/* fuzz_html.c - libFuzzer harness for the HTML page reader (tr_source on an
 * .html file): title, visible text and date from any bytes. */
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read_source(data, size, ".html", TR_FMT_HTML);
}
