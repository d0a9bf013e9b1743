/* date.c - tr_parse_date: a small hand-written scanner for the date forms
 * listed in date.h. Each form is tried in turn on a cursor over the input;
 * the first that consumes the whole string wins. */
#include "date.h"

#include <ctype.h>
#include <strings.h>

/* Longest date string considered; real ones are far shorter, and the cap
 * keeps a hostile multi-megabyte "date" from costing anything. */
#define TR_MAX_DATE_BYTES 128
#define TR_MIN_YEAR 1
#define TR_MAX_YEAR 9999

/* Civil date to day count, after Howard Hinnant's "days_from_civil"
 * (eras of 400 years, March-based years so the leap day comes last). */
int64_t tr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

typedef struct cur {
    const char *p, *end;
} cur;

static void skip_ws(cur *c)
{
    while (c->p < c->end && isspace((unsigned char)*c->p))
        c->p++;
}

static int peek(const cur *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int eat(cur *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Exactly n digits (n <= 9). */
static int digits(cur *c, int n, int *out)
{
    int v = 0;
    if (c->end - c->p < n)
        return 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)c->p[i]))
            return 0;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return 1;
}

/* min..max digits. */
static int digits_range(cur *c, int min, int max, int *out)
{
    int n = 0, v = 0;
    while (n < max && c->p + n < c->end && isdigit((unsigned char)c->p[n])) {
        v = v * 10 + (c->p[n] - '0');
        n++;
    }
    if (n < min || (c->p + n < c->end && isdigit((unsigned char)c->p[n])))
        return 0;
    c->p += n;
    *out = v;
    return 1;
}

static const char *const month_names[12] = {
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december"};
static const char *const day_names[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

/* A run of letters matching a name in full or as its first three letters
 * (plus "sept"), optionally followed by '.'. Returns the index or -1. */
static int name_word(cur *c, const char *const *names, int count)
{
    const char *s = c->p;
    size_t n = 0;
    while (s + n < c->end && isalpha((unsigned char)s[n]))
        n++;
    if (n < 3)
        return -1;
    for (int i = 0; i < count; i++) {
        size_t full = strlen(names[i]);
        if (n > full)
            continue;
        if (n != 3 && n != full && !(i == 8 && names == month_names && n == 4))
            continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[k]) == names[i][k])
            k++;
        if (k == n) {
            c->p = s + n;
            if (n < full)
                eat(c, '.');
            return i;
        }
    }
    return -1;
}

static int month_word(cur *c, int *month)
{
    int i = name_word(c, month_names, 12);
    if (i < 0)
        return 0;
    *month = i + 1;
    return 1;
}

/* hh:mm[:ss[.frac]] */
static int clock_time(cur *c, int *secs)
{
    int h, m, s = 0;
    if (!digits_range(c, 1, 2, &h) || !eat(c, ':') || !digits(c, 2, &m))
        return 0;
    if (eat(c, ':')) {
        if (!digits(c, 2, &s))
            return 0;
        if (eat(c, '.') || eat(c, ',')) {
            if (!isdigit(peek(c)))
                return 0;
            while (isdigit(peek(c)))
                c->p++;
        }
    }
    if (h > 23 || m > 59 || s > 60)
        return 0;
    *secs = h * 3600 + m * 60 + s;
    return 1;
}

/* Zone after a time: returns offset seconds east of UTC in *off; 1 if a zone
 * was read, 0 if none is present, -1 if malformed. */
static int zone(cur *c, int *off, int allow_space)
{
    cur save = *c;
    if (allow_space)
        skip_ws(c);
    *off = 0;
    int ch = peek(c);
    if (ch == 'Z' || ch == 'z') {
        c->p++;
        return 1;
    }
    if (ch == '+' || ch == '-') {
        int sign = ch == '-' ? -1 : 1, h, m = 0;
        c->p++;
        if (!digits(c, 2, &h))
            return -1;
        if (eat(c, ':')) {
            if (!digits(c, 2, &m))
                return -1;
        } else if (isdigit(peek(c))) {
            if (!digits(c, 2, &m))
                return -1;
        }
        if (h > 23 || m > 59)
            return -1;
        *off = sign * (h * 3600 + m * 60);
        return 1;
    }
    static const struct { const char *name; int hours; } named[] = {
        {"UTC", 0}, {"UT", 0}, {"GMT", 0}, {"EST", -5}, {"EDT", -4}, {"CST", -6},
        {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
    size_t n = 0;
    while (c->p + n < c->end && isalpha((unsigned char)c->p[n]))
        n++;
    if (n) {
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
            if (strlen(named[i].name) == n && !strncasecmp(c->p, named[i].name, n)) {
                c->p += n;
                *off = named[i].hours * 3600;
                return 1;
            }
        }
        return -1;
    }
    *c = save;
    return 0;
}

static int finish(cur *c, int64_t y, int m, int d, int64_t secs, int off, int64_t *out)
{
    skip_ws(c);
    if (c->p != c->end)
        return TR_EINPUT;
    if (y < TR_MIN_YEAR || y > TR_MAX_YEAR || m < 1 || m > 12 || d < 1 ||
        (unsigned)d > days_in_month(y, (unsigned)m))
        return TR_EINPUT;
    *out = tr_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + secs - off;
    return 0;
}

/* Optional " hh:mm[:ss] [zone]" after a written-out date. */
static int opt_time_zone(cur *c, int *secs, int *off)
{
    *secs = 0;
    *off = 0;
    cur save = *c;
    skip_ws(c);
    if (!isdigit(peek(c))) {
        *c = save;
        return 1;
    }
    if (!clock_time(c, secs))
        return 0;
    return zone(c, off, 1) >= 0;
}

static int try_iso(cur c, int64_t *out)
{
    int y, m = 1, d = 1, secs = 0, off = 0;
    if (!digits(&c, 4, &y))
        return TR_EINPUT;
    if (eat(&c, '-')) {
        if (!digits(&c, 2, &m))
            return TR_EINPUT;
        if (eat(&c, '-')) {
            if (!digits(&c, 2, &d))
                return TR_EINPUT;
            int ch = peek(&c);
            if (ch == 'T' || ch == 't' || (ch == ' ' && c.p + 1 < c.end && isdigit((unsigned char)c.p[1]))) {
                c.p++;
                if (!clock_time(&c, &secs) || zone(&c, &off, 0) < 0)
                    return TR_EINPUT;
            }
        }
    }
    return finish(&c, y, m, d, secs, off, out);
}

/* 26-FEB-1987 [16:18:41.47]. Reuters-21578's SGML leaves control-character
 * entities ("&#5;&#5;&#5;RM") and "# comments" after some of these dates;
 * text from "&#" or '#' on is ignored in this form only. */
static int try_reuters(cur c, int64_t *out)
{
    int d, m, y, secs, off;
    if (!digits_range(&c, 1, 2, &d) || !eat(&c, '-') || !month_word(&c, &m) ||
        !eat(&c, '-') || !digits(&c, 4, &y) || !opt_time_zone(&c, &secs, &off))
        return TR_EINPUT;
    skip_ws(&c);
    if (peek(&c) == '#' || (peek(&c) == '&' && c.p + 1 < c.end && c.p[1] == '#'))
        c.p = c.end;
    return finish(&c, y, m, d, secs, off, out);
}

/* December 22, 2018 | Dec 22 2018 */
static int try_month_first(cur c, int64_t *out)
{
    int d, m, y, secs, off;
    if (!month_word(&c, &m))
        return TR_EINPUT;
    skip_ws(&c);
    if (!digits_range(&c, 1, 2, &d))
        return TR_EINPUT;
    eat(&c, ',');
    skip_ws(&c);
    if (!digits(&c, 4, &y) || !opt_time_zone(&c, &secs, &off))
        return TR_EINPUT;
    return finish(&c, y, m, d, secs, off, out);
}

/* [Sat, ]22 Dec 2018 [10:11:12 +0000] | 22 December 2018 */
static int try_day_first(cur c, int64_t *out)
{
    int d, m, y, secs, off;
    if (isalpha(peek(&c))) {
        if (name_word(&c, day_names, 7) < 0)
            return TR_EINPUT;
        eat(&c, ',');
        skip_ws(&c);
    }
    if (!digits_range(&c, 1, 2, &d))
        return TR_EINPUT;
    skip_ws(&c);
    if (!month_word(&c, &m))
        return TR_EINPUT;
    eat(&c, ',');
    skip_ws(&c);
    if (!digits(&c, 4, &y) || !opt_time_zone(&c, &secs, &off))
        return TR_EINPUT;
    return finish(&c, y, m, d, secs, off, out);
}

int tr_parse_date(const char *s, size_t len, int64_t *out)
{
    if (!s || len > TR_MAX_DATE_BYTES)
        return TR_EINPUT;
    cur c = {s, s + len};
    skip_ws(&c);
    int64_t v;
    if (try_iso(c, &v) == 0 || try_reuters(c, &v) == 0 ||
        try_month_first(c, &v) == 0 || try_day_first(c, &v) == 0) {
        *out = v;
        return 0;
    }
    return TR_EINPUT;
}
