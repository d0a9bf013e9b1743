/* stats_cmd.h - `trawl-index --stats [--json] INDEX_DIR`. */
#ifndef TRAWL_STATS_CMD_H
#define TRAWL_STATS_CMD_H

/* Prints the index's statistics; returns the exit status (0, or 2). */
int tr_cmd_stats(const char *dir, int json);

#endif
