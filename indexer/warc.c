/* warc.c - placeholder */
#include "source_int.h"
int tr_warc_open(tr_lines *l, const char *path, size_t max_record, tr_records **out)
{
    (void)l; (void)path; (void)max_record;
    *out = NULL;
    return TR_EINPUT;
}
