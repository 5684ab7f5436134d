/*
 * testutil.h - helpers shared by the Criterion tests.
 */
#ifndef KALENS_TESTUTIL_H
#define KALENS_TESTUTIL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kl.h"
#include "records.h"

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

/* Call each(ABSDIR, NAME) for every file NAME of the source directory `dir`
 * (repository-relative) that starts with `prefix` and ends in `suffix`
 * (longer than it), in directory order; the sum of what each returned, and
 * the number of files in *files. */
int tu_each_file(const char *dir, const char *prefix, const char *suffix,
		 int (*each)(const char *absdir, const char *name), int *files);

/* The capture a reference file describes: tests/expected/.../NAME<suffix>
 * where NAME is the capture's repository path with '/' spelled "__". */
void tu_capture_of_reference(const char *file, const char *suffix, char *out, size_t outlen);

/* A table of text: cell (r, c) at cell[r * ncols + c], malloc'd, never
 * NULL ("" for an SQL NULL or a missing column). */
struct tu_table {
	char **cell;
	size_t nrows, ncols;
	char *header;                 /* a reference file's header line, else NULL */
	char *comment;                /* ... its first comment line ("# ..."), else NULL */
};
const char *tu_cell(const struct tu_table *t, size_t r, size_t c);
void tu_table_free(struct tu_table *t);

/* The rows as text, a line each, cells separated by tabs (as `kalens sql
 * --tsv` prints them, without the header); malloc'd. */
char *tu_table_text(const struct tu_table *t);

/* The rows of a reference file, ncols columns each: tab-separated, `#`
 * comment lines and empty lines skipped (the first kept in t->comment),
 * the first other line (the column header) kept in t->header.  Asserts the
 * file opens. */
void tu_tsv_table(const char *path, size_t ncols, struct tu_table *t);

/* The same into cells[max_rows][ncols] of cell_size bytes each, cut to
 * fit.  Asserts it has at most max_rows rows.  Returns the row count. */
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

/* The same for several captures (one run each, in order), or one that may
 * be truncated (kalens says so and exits 1: what was read is kept) when
 * `truncated_ok`.  False (a failed expectation) when kalens failed; then
 * nothing is left to close. */
bool tu_db_read_files(struct tu_db *d, const char *options, const char *const *captures,
		      size_t n, bool truncated_ok);

/* A database file made otherwise, opened read-only (tu_db_close() closes
 * it and removes nothing). */
void tu_db_open(struct tu_db *d, const char *path);

/* TMP/k.db, in a static buffer that the next call overwrites. */
const char *tu_db_path(const struct tu_db *d);

/* --keylog 'STEM.keylog' (or 'STEM.keys.txt', as in captures/public) for
 * the key log beside CAPTURE (STEM: CAPTURE without its extension), into
 * opt; "" when there is none. */
void tu_keylog_option(const char *capture, char *opt, size_t n);

/* The first column of the first row of `sql` as an integer; -1: no row. */
long long tu_db_int(struct tu_db *d, const char *sql);

/* ... as a REAL (asserts there is a row). */
double tu_db_real(struct tu_db *d, const char *sql);

/* ... as text into buf (n bytes); NULL when there is no row or it is NULL. */
const char *tu_db_text(struct tu_db *d, const char *sql, char *buf, size_t n);

/* How many findings of `kind` the database holds. */
long long tu_db_findings(struct tu_db *d, const char *kind);

/* The rows of `sql`, every column, as text. */
void tu_db_table(struct tu_db *d, const char *sql, struct tu_table *t);

/* Row i (0-based) of `sql`, its columns joined by '|' (NULL as "NULL"),
 * into out; "" when there is no such row. */
void tu_db_row(struct tu_db *d, const char *sql, size_t i, char *out, size_t n);

/* Give d's SQL the function ep(ip_version, ip, port): an endpoint as the
 * references spell it, "192.0.2.1:80" or "[2001:db8::1]:80". */
void tu_db_endpoint_function(struct tu_db *d);

/* ---- a synthetic TCP connection through a real flow table -------------- */

struct flow_table;
struct conn_record;

/* 10.0.0.1:40000 -> 10.0.0.2:server_port with a three-way handshake, in a
 * flow table of the built-in dissectors (flow_config_defaults): records go
 * to `out`, the finished connection to conn_done(ctx, ...) (either NULL).
 * Every segment is sent 1 us after the one before.  What every test wants
 * is kept here too: the kinds of the findings, "kind;" each, in order, and
 * the stored protocol of each connection that ended. */
struct tu_conn {
	struct flow_table *ft;
	uint32_t seq[2];              /* by enum kl_dir: the next sequence number */
	kl_time t;
	uint16_t server_port;
	char findings[1024];
	char protocol[32];            /* of the last connection that ended */
	int ended;                    /* connections that ended */
	struct dissect_output wrap;   /* private */
	const struct dissect_output *out;
	void (*conn_done)(void *ctx, const struct conn_record *r);
	void *ctx;
};
void tu_conn_start(struct tu_conn *c, uint16_t server_port, const struct dissect_output *out,
		   void (*conn_done)(void *ctx, const struct conn_record *r), void *ctx);

/* n bytes in direction dir: segments of `piece` bytes (0: one segment), each
 * copied into an allocation of exactly its size, so ASan sees any read past
 * it. */
void tu_conn_send(struct tu_conn *c, enum kl_dir dir, const void *p, size_t n, size_t piece);

/* A FIN in direction dir. */
void tu_conn_fin(struct tu_conn *c, enum kl_dir dir);

/* The end of the input (flow_table_flush): every connection ends; the
 * table is freed. */
void tu_conn_end(struct tu_conn *c);

#endif
