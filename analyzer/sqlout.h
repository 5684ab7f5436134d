/*
 * sqlout.h - run read-only SQL on a kalens database and print the results
 * (the `kalens sql` command).
 *
 * Every statement in the text runs in turn; each one that returns columns
 * prints a header row and its rows.  NULL prints as an empty field.  REAL
 * values print with the fewest digits (15 to 17 significant) that read back
 * as the same number, so microsecond timestamps keep every digit.
 *
 *   SQLOUT_TABLE  aligned columns for people: header, a row of dashes,
 *                 numbers right-aligned, text left-aligned; result sets are
 *                 separated by a blank line; tab, CR and LF in text show as
 *                 \t, \r, \n.  Widths come from the first 10000 rows (and
 *                 only grow after), so memory stays bounded.
 *   SQLOUT_CSV    RFC 4180 with LF line ends: a field holding a comma,
 *                 quote, CR or LF is quoted with inner quotes doubled; an
 *                 empty string is "" so it differs from NULL.
 *   SQLOUT_TSV    tab-separated, LF line ends; tab, LF, CR and backslash in
 *                 values are written \t, \n, \r and \\.
 */
#ifndef KALENS_SQLOUT_H
#define KALENS_SQLOUT_H

#include <stddef.h>
#include <stdio.h>

enum sqlout_format { SQLOUT_TABLE, SQLOUT_CSV, SQLOUT_TSV };

/* A result column read straight from a stored column declared as a
 * capture time ("s, epoch": first_seen, request_ts, started_at, ...)
 * prints as local time, "2026-12-03 05:45:41.610549" (the TZ environment
 * variable decides the zone), instead of epoch seconds.  Expressions over
 * such columns (MIN(first_seen), last_seen - first_seen) stay numbers. */
#define SQLOUT_LOCALTIME 1u

/* Open db_path read-only (never created), run `sql`, write to `out`.
 * Returns 0, 1 on an SQL or output error, 2 when the database cannot be
 * opened; on failure err holds the message.  Output of the statements
 * before a failing one has already been written. */
int sqlout_run(const char *db_path, const char *sql, enum sqlout_format fmt, unsigned flags,
	       FILE *out, char *err, size_t errlen);

#endif
