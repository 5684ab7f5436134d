/*
 * connfloor - the storage floor for kalens' own `connections` rows.
 *
 * Inserts ROWS rows shaped like a one-sided connection that carried data
 * (tests/tools/floods.py one-sided: addresses, ports, times, counts and the
 * protocol set, every other column NULL) into the `connections` table of a
 * kalens database, through one prepared statement that binds every column
 * as kalens' store does, 4096 rows per transaction, WAL, synchronous=NORMAL,
 * foreign keys on: SQLite's own cost of the rows, without kalens' reading,
 * queue or value getters.  Drop the indexes first to see what they cost.
 *
 * Build:  cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o connfloor \
 *             bench/limit/connfloor.c -lsqlite3
 * Usage:  kalens read -q -o k.db any.pcap && connfloor k.db ROWS
 *         prints: rows seconds rows_per_s
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "connfloor: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3 || atol(argv[2]) <= 0) {
		fprintf(stderr, "usage: %s KALENS_DB ROWS\n", argv[0]);
		return 2;
	}
	long rows = atol(argv[2]);
	sqlite3 *db;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		die(db, "open");
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 " PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "pragmas");
	/* The columns by name, so the statement does not depend on their order. */
	static const char *const set[] = { "id", "run_id", "client_ip", "client_port", "server_ip",
		"server_port", "ip_version", "first_seen", "last_seen", "syn_seen", "close_kind",
		"packets_to_server", "packets_to_client", "bytes_to_server", "bytes_to_client",
		"gap_bytes", "retransmitted_bytes", "one_sided", "protocol", "stored_seq" };
	enum { NSET = sizeof set / sizeof set[0] };
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('connections') ORDER BY cid",
			       -1, &q, NULL) != SQLITE_OK)
		die(db, "columns");
	char sql[16384] = "INSERT INTO connections (", vals[4096] = "";
	int n = 0, pos[NSET] = { 0 };
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(q, 0);
		if (strlen(sql) + strlen(c) + 8 > sizeof sql || strlen(vals) + 4 > sizeof vals)
			break;
		strcat(sql, n ? ", " : "");
		strcat(sql, c);
		strcat(vals, n ? ",?" : "?");
		n++;
		for (int i = 0; i < NSET; i++)
			if (!strcmp(c, set[i]))
				pos[i] = n;
	}
	sqlite3_finalize(q);
	if (!n || !pos[0])
		die(db, "no connections table");
	strcat(sql, ") VALUES (");
	strcat(sql, vals);
	strcat(sql, ")");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(db, "prepare");
	long run = 0;
	if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM runs", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		run = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (run <= 0)
		die(db, "no run in the database");

	double t0 = now();
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "begin");
	for (long r = 0; r < rows; r++) {
		char ip[32];
		snprintf(ip, sizeof ip, "127.%ld.%ld.%ld", (r >> 16) & 255, (r >> 8) & 255, r & 255);
		for (int i = 1; i <= n; i++)
			sqlite3_bind_null(st, i);
		sqlite3_bind_int64(st, pos[0], 100000000 + r);
		sqlite3_bind_int64(st, pos[1], run);
		sqlite3_bind_text(st, pos[2], ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, pos[3], 1024 + r % 50000);
		sqlite3_bind_text(st, pos[4], "127.0.0.1", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, pos[5], 80);
		sqlite3_bind_int64(st, pos[6], 4);
		sqlite3_bind_double(st, pos[7], 1.7e9 + (double)r * 1e-5);
		sqlite3_bind_double(st, pos[8], 1.7e9 + (double)r * 1e-5);
		sqlite3_bind_int64(st, pos[9], 0);
		sqlite3_bind_text(st, pos[10], "open", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, pos[11], 0);
		sqlite3_bind_int64(st, pos[12], 2);
		sqlite3_bind_int64(st, pos[13], 0);
		sqlite3_bind_int64(st, pos[14], 200);
		sqlite3_bind_int64(st, pos[15], 0);
		sqlite3_bind_int64(st, pos[16], 0);
		sqlite3_bind_int64(st, pos[17], 1);
		sqlite3_bind_text(st, pos[18], "unknown", -1, SQLITE_STATIC);
		if (pos[19])
			sqlite3_bind_int64(st, pos[19], 100000000 + r);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(db, "insert");
		sqlite3_reset(st);
		if (r % 4096 == 4095 && sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			die(db, "commit");
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(db, "commit");
	double s = now() - t0;
	printf("rows=%ld seconds=%.3f rows_per_s=%.0f\n", rows, s, (double)rows / s);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
