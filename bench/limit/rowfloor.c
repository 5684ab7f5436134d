/*
 * rowfloor - SQLite's own cost of exactly the rows kalens stored for a run.
 *
 * Loads every row of run 1's `connections`, `requests` and `findings`
 * from a kalens database into memory (sqlite3_value_dup), then inserts
 * them into the same tables of another, empty kalens database, in the
 * order kalens stored them (by id; a connection after its requests, as
 * kalens' writer does), through prepared INSERTs as kalens' store makes
 * them (requests 32 rows to a statement, text bound without a copy), BATCH rows per transaction (kalens: 4096), WAL,
 * synchronous=NORMAL, foreign keys on, the destination's page size and
 * indexes.  Only the inserts and commits are timed: what the store's
 * writer thread cannot go below on this machine for these rows, whatever
 * the analysis does.
 *
 * Build:  cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o rowfloor \
 *             bench/limit/rowfloor.c -lsqlite3
 * Usage:  kalens read -q -o src.db manysmall.pcap
 *         kalens read -q -o dst.db empty.pcap       (the schema, no rows)
 *         rowfloor src.db dst.db [BATCH]
 *         prints: rows per table, then rows seconds rows_per_s in all
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "rowfloor: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum { T_CONN, T_REQ, T_FIND, T_COUNT };
static const char *const table[T_COUNT] = { "connections", "requests", "findings" };

struct rows {
	int cols;
	long n;
	sqlite3_value **v;            /* n * cols */
	sqlite3_int64 *id;            /* for the order */
	sqlite3_int64 *conn;          /* requests: conn_id, to order connections after them */
};

static void load(sqlite3 *src, int t, struct rows *r)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE run_id = (SELECT MIN(id) FROM runs) ORDER BY id",
		 table[t]);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(src, sql, -1, &q, NULL) != SQLITE_OK)
		die(src, "select");
	r->cols = sqlite3_column_count(q);
	long cap = 1024;
	r->v = malloc(sizeof *r->v * (size_t)cap * (size_t)r->cols);
	r->id = malloc(sizeof *r->id * (size_t)cap);
	for (r->n = 0; sqlite3_step(q) == SQLITE_ROW; r->n++) {
		if (r->n == cap) {
			cap *= 2;
			r->v = realloc(r->v, sizeof *r->v * (size_t)cap * (size_t)r->cols);
			r->id = realloc(r->id, sizeof *r->id * (size_t)cap);
		}
		if (!r->v || !r->id) {
			fprintf(stderr, "rowfloor: out of memory\n");
			exit(1);
		}
		for (int c = 0; c < r->cols; c++)
			r->v[r->n * r->cols + c] = sqlite3_value_dup(sqlite3_column_value(q, c));
		r->id[r->n] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
}

/* kalens inserts requests REQ_ROWS to a statement (storeq.c, store.c). */
#define REQ_ROWS 32

static sqlite3_stmt *insert(sqlite3 *dst, int t, int cols, int rows)
{
	char sql[65536];
	int k = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES ", table[t]);
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols && k < (int)sizeof sql - 8; c++)
			k += snprintf(sql + k, sizeof sql - (size_t)k, "%s%s", c ? "," : r ? "),(" : "(",
				      "?");
	snprintf(sql + k, sizeof sql - (size_t)k, ")");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(dst, sql, -1, &st, NULL) != SQLITE_OK)
		die(dst, "prepare");
	return st;
}

/* Row i of x as parameters base+1.. of st: text and blobs bound static
 * (they live in the loaded values, as kalens' live in its queue blocks);
 * run_id the destination's run, ids moved out of the way. */
static void bind_row(sqlite3_stmt *st, int base, int t, const struct rows *x, long i)
{
	for (int c = 0; c < x->cols; c++) {
		sqlite3_value *v = x->v[i * x->cols + c];
		int at = base + c + 1;
		bool run_col = (t == T_REQ && c == 2) || (t != T_REQ && c == 1);
		bool conn_col = (t == T_REQ && c == 1) || (t == T_FIND && c == 2);
		if (c == 0 || (conn_col && sqlite3_value_type(v) != SQLITE_NULL))
			sqlite3_bind_int64(st, at, sqlite3_value_int64(v) + 100000000);
		else if (run_col)
			sqlite3_bind_int64(st, at, 1000000);
		else if (sqlite3_value_type(v) == SQLITE_TEXT)
			sqlite3_bind_text(st, at, (const char *)sqlite3_value_text(v),
					  sqlite3_value_bytes(v), SQLITE_STATIC);
		else
			sqlite3_bind_value(st, at, v);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s SRC_DB EMPTY_KALENS_DB [BATCH]\n", argv[0]);
		return 2;
	}
	long batch = argc == 4 ? atol(argv[3]) : 4096;
	if (batch < 1)
		batch = 1;
	sqlite3 *src, *dst;
	if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(src, "open source");
	if (sqlite3_open(argv[2], &dst) != SQLITE_OK)
		die(dst, "open destination");
	if (sqlite3_exec(dst, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 " PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "pragmas");
	struct rows r[T_COUNT];
	sqlite3_stmt *ins[T_COUNT];
	for (int t = 0; t < T_COUNT; t++) {
		load(src, t, &r[t]);
		ins[t] = insert(dst, t, r[t].cols, 1);
	}
	sqlite3_stmt *ins_reqs = insert(dst, T_REQ, r[T_REQ].cols, REQ_ROWS);
	/* The run row the rows point at. */
	if (sqlite3_exec(dst, "INSERT INTO runs (id, source, source_kind, started_at,"
			 " kalens_version, status) VALUES (1000000, 'rowfloor', 'file', 0, 'x',"
			 " 'complete')", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "run row");

	long done = 0, idx[T_COUNT] = { 0 };
	double t0 = now();
	if (sqlite3_exec(dst, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "begin");
	/* kalens' order: a connection's requests and findings, then the
	 * connection (it is stored when it ends): requests and findings up
	 * to the next connection's id, then that connection. */
	while (idx[T_CONN] < r[T_CONN].n || idx[T_REQ] < r[T_REQ].n || idx[T_FIND] < r[T_FIND].n) {
		int t = T_CONN;
		if (idx[T_CONN] < r[T_CONN].n) {
			sqlite3_int64 cid = r[T_CONN].id[idx[T_CONN]];
			int conn_col_req = 1, conn_col_find = 2;   /* requests.conn_id, findings.conn_id */
			if (idx[T_REQ] < r[T_REQ].n &&
			    sqlite3_value_int64(r[T_REQ].v[idx[T_REQ] * r[T_REQ].cols + conn_col_req]) <= cid)
				t = T_REQ;
			else if (idx[T_FIND] < r[T_FIND].n &&
				 sqlite3_value_int64(r[T_FIND].v[idx[T_FIND] * r[T_FIND].cols +
								conn_col_find]) <= cid)
				t = T_FIND;
		} else {
			t = idx[T_REQ] < r[T_REQ].n ? T_REQ : T_FIND;
		}
		/* Requests in a row go REQ_ROWS to a statement when there are
		 * that many before the next connection. */
		int rows = 1;
		sqlite3_stmt *st = ins[t];
		if (t == T_REQ && idx[T_REQ] + REQ_ROWS <= r[T_REQ].n &&
		    (idx[T_CONN] >= r[T_CONN].n ||
		     sqlite3_value_int64(r[T_REQ].v[(idx[T_REQ] + REQ_ROWS - 1) * r[T_REQ].cols + 1]) <=
			     r[T_CONN].id[idx[T_CONN]])) {
			rows = REQ_ROWS;
			st = ins_reqs;
		}
		for (int k = 0; k < rows; k++, idx[t]++)
			bind_row(st, k * r[t].cols, t, &r[t], idx[t]);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(dst, table[t]);
		sqlite3_reset(st);
		for (int k = 0; k < rows; k++)
			if (++done % batch == 0 &&
			    sqlite3_exec(dst, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
				die(dst, "commit");
	}
	if (sqlite3_exec(dst, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "commit");
	double s = now() - t0;
	for (int t = 0; t < T_COUNT; t++)
		printf("%s rows=%ld\n", table[t], r[t].n);
	printf("all rows=%ld seconds=%.3f rows_per_s=%.0f\n", done, s, (double)done / s);
	return 0;
}
