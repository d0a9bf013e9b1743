/* test_date.c - tr_parse_date against a table of known answers (computed
 * independently with Python's calendar.timegm), including the boundaries of
 * every field and strings that must be refused. */
#include "check.h"
#include "date.h"

#include <string.h>

#define BAD INT64_MIN

static const struct {
    const char *in;
    int64_t want; /* BAD = must be refused */
} cases[] = {
    {"1970-01-01", 0},
    {"1969-12-31T23:59:59Z", -1},
    {"2018-12-22", 1545436800},
    {"  2018-12-22  ", 1545436800},
    {"2018-12-22T10:11:12Z", 1545473472},
    {"2018-12-22T10:11:12", 1545473472},
    {"2018-12-22 10:11:12", 1545473472},
    {"2018-12-22t10:11:12z", 1545473472},
    {"2018-12-22T10:11:12.999Z", 1545473472},
    {"2018-12-22T12:11:12+02:00", 1545473472},
    {"2018-12-22T05:11:12-0500", 1545473472},
    {"2018-12-22T12:11:12+02", 1545473472},
    {"2018-12-22T10:11Z", 1545473472 - 12},
    {"2018", 1514764800},
    {"2018-12", 1543622400},
    {"2000-02-29", 951782400},
    {"0001-01-01", -62135596800},
    {"9999-12-31T23:59:59Z", 253402300799},
    {"1600-03-01", -11670912000},
    {"2016-12-31T23:59:60Z", 1483228800},            /* leap second */
    {"26-FEB-1987 16:18:41.47", 541354721},
    {"26-feb-1987", 541354721 - (16 * 3600 + 18 * 60 + 41)},
    {" 5-SEP-2001 00:00:00.00", 999648000},
    {"26-FEB-1987 16:18:41.47&#5;&#5;&#5;RM", 541354721},
    {"26-FEB-1987 16:18:41.47    # date added as guesswork", 541354721},
    {"December 22, 2018", 1545436800},
    {"Dec 22, 2018", 1545436800},
    {"dec. 22 2018", 1545436800},
    {"Sept. 5, 2001", 999648000},
    {"Dec 22, 2018 10:11:12 UTC", 1545473472},
    {"22 December 2018", 1545436800},
    {"22 Dec 2018", 1545436800},
    {"Sat, 22 Dec 2018 10:11:12 +0000", 1545473472},
    {"Sat, 22 Dec 2018 05:11:12 EST", 1545473472},
    {"Saturday, 22 Dec 2018 10:11:12 GMT", 1545473472},
    {"22 Dec 2018 10:11 +0000", 1545473472 - 12},
    /* refused */
    {"", BAD},
    {"   ", BAD},
    {"yesterday", BAD},
    {"12345", BAD},
    {"201", BAD},
    {"0000-01-01", BAD},
    {"2018-00-10", BAD},
    {"2018-13-01", BAD},
    {"2018-12-00", BAD},
    {"2018-12-32", BAD},
    {"2019-02-29", BAD},
    {"1900-02-29", BAD},
    {"2018-04-31", BAD},
    {"2018-12-22T24:00:00Z", BAD},
    {"2018-12-22T10:60Z", BAD},
    {"2018-12-22T10:11:61Z", BAD},
    {"2018-12-22T10:11:12+25:00", BAD},
    {"2018-12-22T10:11:12 nonsense", BAD},
    {"2018-12-22 garbage", BAD},
    {"2018-1-2", BAD},
    {"Foo 22, 2018", BAD},
    {"Dece 22, 2018", BAD},
    {"Dec 22", BAD},
    {"Xyz, 22 Dec 2018", BAD},
    {"22 Dec 2018 10:11:12 XYZ", BAD},
    {"26-FEB-87", BAD},
    {"26-FEB-1987 16:18:41.47 RM", BAD},
    {"2018-12-22 &#5;", BAD},
    {"31-MAR-1987 605:12:19.12", BAD},
    {"2018-12-22T", BAD},
    {"2018-12-22T10:11:12.", BAD},
};

int main(void)
{
    CHECK_EQ_INT(tr_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(tr_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(tr_days_from_civil(1969, 12, 31), -1);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = 12345;
        int rc = tr_parse_date(cases[i].in, strlen(cases[i].in), &got);
        if (cases[i].want == BAD) {
            if (rc != TR_EINPUT)
                fprintf(stderr, "accepted \"%s\" as %lld\n", cases[i].in, (long long)got);
            CHECK_EQ_INT(rc, TR_EINPUT);
        } else {
            if (rc != 0 || got != cases[i].want)
                fprintf(stderr, "\"%s\": rc %d got %lld want %lld\n", cases[i].in, rc,
                        (long long)got, (long long)cases[i].want);
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(got, cases[i].want);
        }
    }

    /* The length is honoured: no NUL terminator needed, trailing bytes unread. */
    const char buf[] = "2018-12-22XXXX";
    int64_t v = 0;
    CHECK_EQ_INT(tr_parse_date(buf, 10, &v), 0);
    CHECK_EQ_INT(v, 1545436800);
    CHECK_EQ_INT(tr_parse_date(buf, 9, &v), TR_EINPUT);
    /* NUL bytes and over-long input are refused, not crashed on. */
    CHECK_EQ_INT(tr_parse_date("2018\0-12-22", 11, &v), TR_EINPUT);
    char big[4096];
    memset(big, ' ', sizeof big);
    memcpy(big + 4000, "2018", 4);
    CHECK_EQ_INT(tr_parse_date(big, sizeof big, &v), TR_EINPUT);
    return check_done();
}
