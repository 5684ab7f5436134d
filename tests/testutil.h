/*
 * testutil.h - helpers shared by the Criterion tests.
 */
#ifndef KALENS_TESTUTIL_H
#define KALENS_TESTUTIL_H

#include <sqlite3.h>
#include <stddef.h>

/* Absolute path of a file under the source tree, in a static buffer that
 * the next call overwrites. */
const char *tu_src_path(const char *rel);

/* A fresh, empty temporary directory path (mkdtemp); caller frees it with
 * tu_rmtree(). */
char *tu_tmpdir(void);
void tu_rmtree(char *dir);

/* Run a shell command, capturing stdout into a malloc'd NUL-terminated
 * buffer (caller frees).  *status gets the exit status (or -1). */
char *tu_run(const char *cmd, int *status);

/* The capture a reference file describes: tests/expected/.../NAME<suffix>
 * where NAME is the capture's repository path with '/' spelled "__". */
void tu_capture_of_reference(const char *file, const char *suffix, char *out, size_t outlen);

/* The rows of a reference file (tab-separated; `#` comment lines and the
 * first other line, the column header, skipped) into cells[max_rows][ncols]
 * of cell_size bytes each, cut to fit; missing columns are "".  Asserts
 * the file opens and has at most max_rows rows.  Returns the row count. */
size_t tu_load_tsv(const char *path, char *cells, size_t ncols, size_t cell_size, size_t max_rows);

/* A database kalens wrote for one test: `kalens read -q OPTIONS -o TMP/k.db
 * CAPTURE` (an absolute path; OPTIONS may be ""), asserted to succeed, then
 * opened read-only.  tu_db_close() closes it and removes TMP. */
struct tu_db {
	char *tmp;
	sqlite3 *h;
};
void tu_db_read(struct tu_db *d, const char *options, const char *capture);
void tu_db_close(struct tu_db *d);

/* The first column of the first row of `sql` as an integer; -1: no row. */
long long tu_db_int(struct tu_db *d, const char *sql);

/* ... as text into buf (n bytes); NULL when there is no row or it is NULL. */
const char *tu_db_text(struct tu_db *d, const char *sql, char *buf, size_t n);

#endif
