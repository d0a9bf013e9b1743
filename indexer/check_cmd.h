/* check_cmd.h - `trawl-index --check [--quick] INDEX_DIR`: the integrity
 * check (common/check.h) as a command. */
#ifndef TRAWL_CHECK_CMD_H
#define TRAWL_CHECK_CMD_H

/* Prints each problem as "DATABASE: KEY: what" and a summary; returns the
 * exit status: 0 sound, 1 problems found, 2 the check could not run. */
int tr_cmd_check(const char *dir, int quick);

#endif
