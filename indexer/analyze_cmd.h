/* analyze_cmd.h - `trawl-index --analyze`: show what the analyzer makes of
 * some text, one term a line, so a user can see why a query does or does
 * not match. */
#ifndef TRAWL_ANALYZE_CMD_H
#define TRAWL_ANALYZE_CMD_H

/* argv holds the arguments AFTER --analyze: [--language NAME]
 * [--no-fold-diacritics] [--stopwords] [TEXT...]. TEXT words are joined by
 * single spaces; with none, stdin is read to its end. Prints
 * "position<TAB>start<TAB>end<TAB>term" per term, offsets in bytes of the
 * (joined) input. Returns the exit status: 0 ok, 1 read or memory failure,
 * 2 usage error or unknown language (the message lists the languages). */
int tr_cmd_analyze(int argc, char **argv);

#endif
