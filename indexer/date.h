/* date.h - parsing the date strings that document sources carry (ISO 8601,
 * RFC 2822, Reuters-style and written-out English dates) into seconds since
 * 1970-01-01 00:00:00 UTC, without depending on the C library's time zone. */
#ifndef TRAWL_DATE_H
#define TRAWL_DATE_H

#include "trawl.h"

/* Accepted forms (leading/trailing whitespace ignored, month and weekday
 * names case-insensitive, full or three-letter, optional '.' after an
 * abbreviation):
 *   2018 | 2018-12 | 2018-12-22                 (missing parts = the 1st / Jan)
 *   2018-12-22T10:11[:12[.frac]] [Z | +hh[:mm] | -hhmm]   ('T' or ' ')
 *   26-FEB-1987 16:18:41.47                     (Reuters; time optional;
 *                                                anything from "&#" or '#' on
 *                                                is ignored: SGML debris)
 *   December 22, 2018 | Dec 22 2018 [hh:mm[:ss]] [zone]
 *   22 December 2018 | [Sat, ]22 Dec 2018 10:11:12 +0000   (RFC 2822)
 *   zones: Z, UT, UTC, GMT, EST/EDT/CST/CDT/MST/MDT/PST/PDT, +hhmm, +hh:mm
 * A year alone is accepted (as January 1st) because collections often carry
 * only the year; bare numbers of other lengths are not (they could equally be
 * epoch seconds). Years 1..9999. A time without a zone is UTC. Fractions of a
 * second are dropped. A leap second (:60) counts as the next second.
 * Returns 0 and *out, or TR_EINPUT for anything else (including impossible
 * dates such as 2019-02-29). */
int tr_parse_date(const char *s, size_t len, int64_t *out);

/* Days from 1970-01-01 to the given proleptic Gregorian date (may be
 * negative). m is 1..12, d is 1..31; not validated. */
int64_t tr_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
