/*
 * report.h - the report of a kalens database, as text, JSON or HTML.
 */
#ifndef KALENS_REPORT_H
#define KALENS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_HTML };

/* Print the report of `run_id` (0: every run) in the database at db_path
 * to `out`, reading it read-only, as text for people, as one JSON object
 * for scripts (the same figures; keys are documented in kalens(1)), or as
 * one self-contained HTML page (inline SVG and CSS, no script, bounded
 * size).
 * 0, or -1 with a message in err. */
int report_print(const char *db_path, int64_t run_id, enum report_format fmt, FILE *out,
		 char *err, size_t errlen);

#endif
