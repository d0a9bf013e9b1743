/* main.c - trawl-index (stub until the indexer lands). */
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: trawl-index [options] INDEX_DIR [INPUT...]");
        return 0;
    }
    fprintf(stderr, "trawl-index: not implemented yet\n");
    return 2;
}
