/*
 * report.h - the text report of a kalens database.
 */
#ifndef KALENS_REPORT_H
#define KALENS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Print the report of `run_id` (0: every run) in the database at db_path
 * to `out`, reading it read-only.  0, or -1 with a message in err. */
int report_print(const char *db_path, int64_t run_id, FILE *out, char *err, size_t errlen);

#endif
