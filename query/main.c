/* main.c - trawl-query (stub until the query tool lands). */
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: trawl-query [options] INDEX_DIR QUERY...");
        return 0;
    }
    fprintf(stderr, "trawl-query: not implemented yet\n");
    return 2;
}
