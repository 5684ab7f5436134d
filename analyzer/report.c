/*
 * report.c - an overview of the stored connections, for people.
 *
 * Everything comes from SQL on the documented schema (docs/schema.md), so
 * every number printed can be reproduced with `kalens sql`.  Runs are
 * selected by the bound parameter ?1 (0: all runs).
 */
#include "report.h"

#include "findings.h"
#include "jsonout.h"
#include "sqlrow.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define RUN_FILTER " (?1 = 0 OR run_id = ?1) "
#define REPORT_TOP_SERVERS 20

static void fmt_bytes(char *buf, size_t n, double b)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	size_t u = 0;
	while (b >= 1000 && u + 1 < sizeof unit / sizeof unit[0]) {
		b /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void fmt_secs(char *buf, size_t n, double s, int null)
{
	if (null)
		snprintf(buf, n, "-");
	else if (s < 1e-3)
		snprintf(buf, n, "%.0f us", s * 1e6);
	else if (s < 1)
		snprintf(buf, n, "%.1f ms", s * 1e3);
	else if (s < 120)
		snprintf(buf, n, "%.2f s", s);
	else
		snprintf(buf, n, "%.1f min", s / 60);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, int64_t run, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "report query failed: %s", sqlite3_errmsg(db));
		return NULL;
	}
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, run);
	return st;
}

/* The q-quantile (0..1) of a REAL column over the selected connections,
 * by the nearest-rank method; *null when there are no values. */
static double quantile(sqlite3 *db, const char *col, int64_t run, double q, int *null)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM connections WHERE" RUN_FILTER "AND %s IS NOT NULL "
		 "ORDER BY %s LIMIT 1 OFFSET (SELECT CAST(%f * (COUNT(*) - 1) + 0.5 AS INTEGER) "
		 "FROM connections WHERE" RUN_FILTER "AND %s IS NOT NULL)",
		 col, col, col, q, col);
	char err[256];
	sqlite3_stmt *st = prep(db, sql, run, err, sizeof err);
	double v = 0;
	*null = 1;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_double(st, 0);
		*null = 0;
	}
	sqlite3_finalize(st);
	return v;
}

/* One run's frames that were not analysed, and why, as a list ("12 not
 * TCP, 3 encrypted 802.11"); empty when every frame was read. */
static void print_unread(sqlite3_stmt *st, int first, bool v6, FILE *out)
{
	static const char *const why[] = {
		"not TCP", "truncated headers", "malformed headers", "encrypted 802.11",
		"unsupported encapsulation", "IP fragments dropped",
	};
	bool any = false;
	for (int i = 0; i < (v6 ? 6 : 3); i++) {
		long long n = sqlite3_column_int64(st, first + i);
		if (n <= 0)
			continue;
		fprintf(out, "%s%lld %s", any ? ", " : "     not analysed: ", n, why[i]);
		any = true;
	}
	/* Before schema 6 fragments were counted, not reassembled. */
	long long frag = v6 ? 0 : sqlite3_column_int64(st, first + 3);
	if (frag > 0) {
		fprintf(out, "%s%lld IP fragments (not reassembled)", any ? ", " : "     not analysed: ",
			frag);
		any = true;
	}
	if (any)
		fputc('\n', out);
}

static bool has_column(sqlite3 *db, const char *table, const char *column);

/* Connections whose TLS side ended with a closing alert, and on how many
 * the alert came before the other side's FIN (docs/keepalive.md, "Who
 * closed"): the text report's line and report --json's tls_closes. */
#define TLS_CLOSES_SQL \
	"SELECT COUNT(*) AS connections," \
	" COALESCE(SUM(tls_close_by = 'client'), 0) AS by_client," \
	" COALESCE(SUM(tls_close_by = 'server'), 0) AS by_server," \
	" COALESCE(SUM(tls_close_alert = 'close_notify'), 0) AS close_notify," \
	" COALESCE(SUM(tls_close_alert = 'encrypted'), 0) AS encrypted," \
	" COALESCE(SUM(close_initiator IS NOT tcp_close_initiator), 0)" \
	" AS before_the_other_sides_fin" \
	" FROM connections WHERE" RUN_FILTER "AND tls_close_by IS NOT NULL"

/* What a run cost beyond its counts: connections ended early to make room
 * (docs/memory.md), and each thread's CPU time.  `mem`, `cpu`, `workers`:
 * the database has those columns (later kalens added them). */
static void print_run_costs(sqlite3 *db, int64_t run_id, bool mem, bool cpu, bool workers,
			    FILE *out)
{
	if (!mem && !cpu)
		return;
	char sql[448];
	snprintf(sql, sizeof sql, "SELECT %s, %s, %s FROM runs WHERE id = ?1",
		 mem ? "COALESCE(connections_evicted_memory, 0), COALESCE(connections_evicted, 0),"
		       " COALESCE(memcap, 0), COALESCE(memory_peak, 0), COALESCE(memory_shed, 0)"
		     : "0, 0, 0, 0, 0",
		 cpu ? "cpu_read_s, cpu_store_s" : "NULL, NULL",
		 workers ? "COALESCE(threads, 1), cpu_workers_s" : "1, NULL");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, run_id) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		long long evicted_mem = sqlite3_column_int64(st, 0), evicted = sqlite3_column_int64(st, 1);
		char a[32], b[32], c[32];
		if (evicted_mem > 0) {
			fmt_bytes(a, sizeof a, sqlite3_column_double(st, 2));
			fmt_bytes(b, sizeof b, sqlite3_column_double(st, 3));
			fmt_bytes(c, sizeof c, sqlite3_column_double(st, 4));
			fprintf(out, "     %lld connections evicted to stay within --memcap %s (state "
				"peaked at %s; %s shed); they are stored with close_kind 'evicted'\n",
				evicted_mem, a, b, c);
		}
		if (evicted > 0)
			fprintf(out, "     %lld connections evicted because --max-conns were tracked\n",
				evicted);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL && sqlite3_column_type(st, 6) != SQLITE_NULL) {
			fmt_secs(a, sizeof a, sqlite3_column_double(st, 5), 0);
			fmt_secs(b, sizeof b, sqlite3_column_double(st, 6), 0);
			long long threads = sqlite3_column_int64(st, 7);
			if (threads > 1 && sqlite3_column_type(st, 8) != SQLITE_NULL) {
				fmt_secs(c, sizeof c, sqlite3_column_double(st, 8), 0);
				fprintf(out, "     CPU: reading %s, analysing on %lld threads %s, storing %s\n",
					a, threads, c, b);
			} else {
				fprintf(out, "     CPU: reading and analysing %s, storing %s\n", a, b);
			}
		}
	}
	sqlite3_finalize(st);
}

static int print_runs(sqlite3 *db, int64_t run, int version, FILE *out, char *err,
		      size_t errlen)
{
	bool v6 = version >= 6;
	/* A running run whose process is gone says so (run_status, store.c). */
	bool writer = has_column(db, "runs", "writer");
	bool mem = has_column(db, "runs", "connections_evicted_memory");
	bool cpu = has_column(db, "runs", "cpu_read_s");
	bool workers = has_column(db, "runs", "cpu_workers_s");
	/* ... and a live run whose updates stopped, or how recent they are. */
	char with_writer[640];
	snprintf(with_writer, sizeof with_writer,
		 "SELECT id, source, run_status(status, writer%s), COALESCE(packets, 0),"
		 " COALESCE(connections, 0), "
		 "COALESCE(last_packet - first_packet, 0), COALESCE(link_type, '?'), "
		 "message, packets_not_tcp, packets_truncated, packets_malformed, packets_encrypted, "
		 "packets_unsupported, fragments_dropped, packets_time_backwards "
		 "FROM runs WHERE ?1 = 0 OR id = ?1 ORDER BY id",
		 has_column(db, "runs", "updated_at") ? ", updated_at" : "");
	sqlite3_stmt *st = prep(db, writer ? with_writer : v6 ?
		"SELECT id, source, status, COALESCE(packets, 0), COALESCE(connections, 0), "
		"COALESCE(last_packet - first_packet, 0), COALESCE(link_type, '?'), "
		"message, packets_not_tcp, packets_truncated, packets_malformed, packets_encrypted, "
		"packets_unsupported, fragments_dropped, packets_time_backwards "
		"FROM runs WHERE ?1 = 0 OR id = ?1 ORDER BY id" :
		"SELECT id, source, status, COALESCE(packets, 0), COALESCE(connections, 0), "
		"COALESCE(last_packet - first_packet, 0), COALESCE(link_type, '?'), "
		"message, packets_not_tcp, packets_truncated, packets_malformed, packets_fragment "
		"FROM runs WHERE ?1 = 0 OR id = ?1 ORDER BY id", run, err, errlen);
	if (!st)
		return -1;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == 0)
			fprintf(out, "Runs\n");
		char span[32];
		fmt_secs(span, sizeof span, sqlite3_column_double(st, 5), 0);
		fprintf(out, "  #%lld %s  [%s, %s]  %lld packets over %s, %lld connections",
			(long long)sqlite3_column_int64(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 6),
			(long long)sqlite3_column_int64(st, 3), span,
			(long long)sqlite3_column_int64(st, 4));
		fputc('\n', out);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			fprintf(out, "     %s\n", (const char *)sqlite3_column_text(st, 7));
		print_unread(st, 8, v6, out);
		if (v6 && sqlite3_column_int64(st, 14) > 0)
			fprintf(out, "     %lld packets timestamped earlier than the one before them "
				"(durations that would be negative are not stored)\n",
				(long long)sqlite3_column_int64(st, 14));
		print_run_costs(db, sqlite3_column_int64(st, 0), mem, cpu, workers, out);
	}
	sqlite3_finalize(st);
	if (n == 0) {
		snprintf(err, errlen, run ? "no run %lld in the database" : "the database holds no run",
			 (long long)run);
		return -1;
	}
	fputc('\n', out);
	return 0;
}

static int print_totals(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db,
		"SELECT COUNT(*), TOTAL(syn_seen), TOTAL(one_sided),"
		" TOTAL(close_initiator = 'client' AND close_kind = 'fin'),"
		" TOTAL(close_initiator = 'client' AND close_kind = 'rst'),"
		" TOTAL(close_initiator = 'server' AND close_kind = 'fin'),"
		" TOTAL(close_initiator = 'server' AND close_kind = 'rst'),"
		" TOTAL(close_kind = 'idle'), TOTAL(close_kind = 'open'),"
		" TOTAL(bytes_to_server), TOTAL(bytes_to_client),"
		" TOTAL(gap_bytes), TOTAL(retransmitted_bytes),"
		" COUNT(DISTINCT server_ip || ' ' || server_port),"
		" COUNT(DISTINCT client_ip), TOTAL(close_kind = 'evicted')"
		" FROM connections WHERE" RUN_FILTER, run, err, errlen);
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		snprintf(err, errlen, "report query failed: %s", sqlite3_errmsg(db));
		return -1;
	}
	long long n = sqlite3_column_int64(st, 0);
#define COL(i) ((long long)sqlite3_column_double(st, (i)))
	char up[32], down[32], gap[32], rtx[32];
	fmt_bytes(up, sizeof up, sqlite3_column_double(st, 9));
	fmt_bytes(down, sizeof down, sqlite3_column_double(st, 10));
	fmt_bytes(gap, sizeof gap, sqlite3_column_double(st, 11));
	fmt_bytes(rtx, sizeof rtx, sqlite3_column_double(st, 12));
	fprintf(out, "Connections: %lld to %lld servers from %lld clients\n", n,
		(long long)sqlite3_column_int64(st, 13), (long long)sqlite3_column_int64(st, 14));
	fprintf(out, "  handshake seen      %lld   (picked up mid-stream: %lld, one direction only: %lld)\n",
		COL(1), n - COL(1), COL(2));
	fprintf(out, "  closed by client    %lld   (FIN %lld, RST %lld)\n", COL(3) + COL(4), COL(3), COL(4));
	fprintf(out, "  closed by server    %lld   (FIN %lld, RST %lld)\n", COL(5) + COL(6), COL(5), COL(6));
	fprintf(out, "  ended idle          %lld\n", COL(7));
	fprintf(out, "  open at the end     %lld\n", COL(8));
	if (COL(15) > 0)
		fprintf(out, "  evicted             %lld   (to make room: --memcap, --max-conns)\n", COL(15));
	fprintf(out, "  payload             %s to servers, %s to clients\n", up, down);
	fprintf(out, "  missing / resent    %s gap, %s retransmitted\n", gap, rtx);
#undef COL
	sqlite3_finalize(st);

	int null50, null95;
	double p50 = quantile(db, "handshake_rtt", run, 0.5, &null50);
	double p95 = quantile(db, "handshake_rtt", run, 0.95, &null95);
	char a[32], b[32];
	fmt_secs(a, sizeof a, p50, null50);
	fmt_secs(b, sizeof b, p95, null95);
	fprintf(out, "  handshake RTT       median %s, p95 %s\n", a, b);
	p50 = quantile(db, "last_seen - first_seen", run, 0.5, &null50);
	p95 = quantile(db, "last_seen - first_seen", run, 0.95, &null95);
	fmt_secs(a, sizeof a, p50, null50);
	fmt_secs(b, sizeof b, p95, null95);
	fprintf(out, "  duration            median %s, p95 %s\n\n", a, b);
	return 0;
}

/* Per client: connections, requests, how many reused, to how many servers,
 * the missed reuse and unused connections found on them (schema 2 on). */
#define CLIENTS_SQL(version) ((version) < 2 ?                                              \
	"SELECT client_ip, COUNT(*) AS connections, COUNT(DISTINCT server_ip || ':' ||"        \
	" server_port) AS servers FROM connections WHERE" RUN_FILTER                           \
	"GROUP BY 1 ORDER BY 2 DESC, 1" :                                                       \
	"SELECT c.client_ip, COUNT(*) AS connections, COALESCE(SUM(c.requests), 0) AS requests," \
	" COALESCE(SUM(c.requests > 1), 0) AS reused,"                                           \
	" COUNT(DISTINCT c.server_ip || ':' || c.server_port) AS servers,"                        \
	" COALESCE(SUM(f.short_lived), 0) AS missed_reuse, COALESCE(SUM(f.unused), 0) AS unused"  \
	" FROM connections c LEFT JOIN (SELECT conn_id,"                                         \
	"  SUM(kind = 'short-lived-connection') AS short_lived,"                                 \
	"  SUM(kind = 'unused-connection') AS unused FROM findings WHERE conn_id IS NOT NULL"    \
	"  GROUP BY conn_id) f ON f.conn_id = c.id"                                               \
	" WHERE (?1 = 0 OR c.run_id = ?1) GROUP BY 1 ORDER BY 2 DESC, 1")

static int print_clients(sqlite3 *db, int64_t run, int version, FILE *out, char *err,
			 size_t errlen)
{
	if (version < 2)
		return 0;
	sqlite3_stmt *st = prep(db, CLIENTS_SQL(version), run, err, errlen);
	if (!st)
		return -1;
	fprintf(out, "\nBy client (most connections first)\n");
	fprintf(out, "  %-40s %7s %8s %7s %8s %12s %7s\n", "client", "conns", "requests", "reused",
		"servers", "missed reuse", "unused");
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++rows > REPORT_TOP_SERVERS) {
			fprintf(out, "  (more clients: kalens report --json DB, \"clients\")\n");
			break;
		}
		fprintf(out, "  %-40s %7lld %8lld %7lld %8lld %12lld %7lld\n",
			(const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
			(long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
			(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
			(long long)sqlite3_column_int64(st, 6));
	}
	sqlite3_finalize(st);
	return 0;
}

static int print_servers(sqlite3 *db, int64_t run, int version, FILE *out, char *err,
			 size_t errlen)
{
	/* Schema 1 (connections only) has no request counts. */
	sqlite3_stmt *st = prep(db, version < 2 ?
		"SELECT CASE WHEN ip_version = 6 THEN '[' || server_ip || ']' ELSE server_ip END"
		" || ':' || server_port AS server, COUNT(*) AS n,"
		" TOTAL(close_initiator = 'client'), TOTAL(close_initiator = 'server'),"
		" TOTAL(close_kind = 'rst'), TOTAL(close_kind IN ('idle', 'open')),"
		" TOTAL(bytes_to_server), TOTAL(bytes_to_client), TOTAL(syn_seen = 0), 0, 0"
		" FROM connections WHERE" RUN_FILTER
		" GROUP BY server_ip, server_port ORDER BY n DESC, server LIMIT ?2" :
		"SELECT CASE WHEN ip_version = 6 THEN '[' || server_ip || ']' ELSE server_ip END"
		" || ':' || server_port AS server, COUNT(*) AS n,"
		" TOTAL(close_initiator = 'client'), TOTAL(close_initiator = 'server'),"
		" TOTAL(close_kind = 'rst'), TOTAL(close_kind IN ('idle', 'open')),"
		" TOTAL(bytes_to_server), TOTAL(bytes_to_client), TOTAL(syn_seen = 0),"
		" TOTAL(requests), TOTAL(requests > 1)"
		" FROM connections WHERE" RUN_FILTER
		" GROUP BY server_ip, server_port ORDER BY n DESC, server LIMIT ?2",
		run, err, errlen);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 2, REPORT_TOP_SERVERS + 1);
	fprintf(out, "By server (most connections first)\n");
	fprintf(out, "  %-40s %7s %8s %7s %8s %8s %6s %8s %10s %10s %8s\n", "server", "conns",
		"requests", "reused", "cli-clo", "srv-clo", "rst", "idle/op", "to server",
		"to client", "mid-strm");
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++rows > REPORT_TOP_SERVERS) {
			fprintf(out, "  (more servers: kalens sql DB \"SELECT server_ip, server_port,"
				" COUNT(*) FROM connections GROUP BY 1, 2\")\n");
			break;
		}
		char up[32], down[32];
		fmt_bytes(up, sizeof up, sqlite3_column_double(st, 6));
		fmt_bytes(down, sizeof down, sqlite3_column_double(st, 7));
		fprintf(out, "  %-40s %7lld %8lld %7lld %8lld %8lld %6lld %8lld %10s %10s %8lld\n",
			(const char *)sqlite3_column_text(st, 0),
			(long long)sqlite3_column_int64(st, 1),
			(long long)sqlite3_column_double(st, 9),
			(long long)sqlite3_column_double(st, 10),
			(long long)sqlite3_column_double(st, 2),
			(long long)sqlite3_column_double(st, 3),
			(long long)sqlite3_column_double(st, 4),
			(long long)sqlite3_column_double(st, 5), up, down,
			(long long)sqlite3_column_double(st, 8));
	}
	sqlite3_finalize(st);
	if (rows == 0)
		fprintf(out, "  (no connections)\n");
	return 0;
}

/* One integer from a query bound to the run filter, or -1. */
static long long one_int(sqlite3 *db, const char *sql, int64_t run)
{
	char err[256];
	sqlite3_stmt *st = prep(db, sql, run, err, sizeof err);
	long long v = -1;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Does `table` have `column`?  A database of the current schema version
 * written by a kalens that did not declare a column yet lacks it (store.c
 * adds it only when it writes). */
/* The database has view `name` (a later kalens added it; the database
 * gets it the next time kalens writes to it). */
static bool has_view(sqlite3 *db, const char *name)
{
	return sqlrow_schema_has(db, "view", name);
}

static bool has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *st = NULL;
	bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
				      -1, &st, NULL) == SQLITE_OK &&
		   sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) == SQLITE_OK &&
		   sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC) == SQLITE_OK &&
		   sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* Connection attempts nothing answered (table attempts, docs/schema.md):
 * totals, then per server port, most attempted first. */
#define ATTEMPTS_TOTAL_SQL \
	"SELECT COALESCE(SUM(attempts), 0) AS attempts, COALESCE(SUM(syn_packets), 0) AS syn_packets," \
	" COUNT(DISTINCT client_ip) AS clients," \
	" COUNT(DISTINCT server_ip || ' ' || server_port) AS server_ports" \
	" FROM attempts WHERE" RUN_FILTER
#define ATTEMPTS_SERVERS_SQL \
	"SELECT server_ip, server_port, SUM(attempts) AS attempts, SUM(syn_packets) AS syn_packets," \
	" COUNT(DISTINCT client_ip) AS clients, MIN(first_seen) AS first_seen," \
	" MAX(last_seen) AS last_seen FROM attempts WHERE" RUN_FILTER \
	"GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10"

static int print_attempts(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	if (!has_column(db, "attempts", "attempts"))
		return 0;                 /* a database made before the table */
	sqlite3_stmt *st = prep(db, ATTEMPTS_TOTAL_SQL, run, err, errlen);
	if (!st)
		return -1;
	long long n = 0;
	if (sqlite3_step(st) == SQLITE_ROW && (n = sqlite3_column_int64(st, 0)) > 0)
		fprintf(out, "Connection attempts nothing answered: %lld (%lld SYNs) from %lld clients "
			"to %lld server ports\n", n, (long long)sqlite3_column_int64(st, 1),
			(long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
	sqlite3_finalize(st);
	if (n <= 0)
		return 0;
	if (!(st = prep(db, ATTEMPTS_SERVERS_SQL, run, err, errlen)))
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ip = (const char *)sqlite3_column_text(st, 0);
		bool v6 = ip && strchr(ip, ':');
		char span[32];
		fmt_secs(span, sizeof span, sqlite3_column_double(st, 6) - sqlite3_column_double(st, 5), 0);
		fprintf(out, "  %s%s%s:%lld  %lld attempts, %lld SYNs, from %lld clients over %s\n",
			v6 ? "[" : "", ip ? ip : "?", v6 ? "]" : "",
			(long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4),
			span);
	}
	sqlite3_finalize(st);
	fputc('\n', out);
	return 0;
}

/* What was shipped to ClickHouse and what waits (view ship_backlog,
 * docs/fleet.md); nothing when the database was never shipped. */
#define SHIP_SUMMARY_SQL \
	"SELECT destination, MAX(last_shipped_at) AS last_shipped_at," \
	" TOTAL(run_row_waiting) AS runs_waiting, TOTAL(connections_waiting) AS connections_waiting," \
	" TOTAL(requests_waiting) AS requests_waiting, TOTAL(findings_waiting) AS findings_waiting" \
	" FROM ship_backlog WHERE" RUN_FILTER "GROUP BY destination ORDER BY destination"

static int print_shipping(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	if (!has_column(db, "ship_backlog", "destination"))
		return 0;
	sqlite3_stmt *st = prep(db, SHIP_SUMMARY_SQL, run, err, errlen);
	if (!st)
		return -1;
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!rows++)
			fputs("Shipped to ClickHouse (kalens ship, --ship)\n", out);
		double last = sqlite3_column_double(st, 1);
		char when[64] = "never";
		if (last > 0) {
			time_t t = (time_t)last;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
		}
		fprintf(out, "  %s\n    last insert %s; waiting: %lld run rows, %lld connections, "
			"%lld requests, %lld findings\n", (const char *)sqlite3_column_text(st, 0), when,
			(long long)sqlite3_column_double(st, 2), (long long)sqlite3_column_double(st, 3),
			(long long)sqlite3_column_double(st, 4), (long long)sqlite3_column_double(st, 5));
	}
	sqlite3_finalize(st);
	if (rows)
		fputc('\n', out);
	return 0;
}

/* What reuse saved: a TCP handshake for every request after a
 * connection's first (schema 3 on); 0 when no connection has the figure
 * (JSON and HTML). */
#define REUSE_SAVED_SQL                                                                   \
	"SELECT COALESCE(SUM(requests - 1), 0) AS handshakes,"                               \
	" COALESCE(SUM(reuse_saved_s), 0) AS seconds FROM connections WHERE" RUN_FILTER       \
	"AND reuse_saved_s IS NOT NULL"

/* The run's missed reuse in all (view missed_reuse_cost) and its
 * connections never used (finding unused-connection): the text, JSON and
 * HTML reports read these, columns in this order. */
#define MISSED_REUSE_SQL                                                                  \
	"SELECT COUNT(*) AS connections, TOTAL(cost_s) AS cost_s, TOTAL(handshake_s) AS tcp_s," \
	" TOTAL(tls_handshake_s) AS tls_s FROM missed_reuse_cost WHERE" RUN_FILTER
#define UNUSED_SQL                                                                        \
	"SELECT COUNT(*) AS connections, TOTAL(c.handshake_rtt) AS handshake_s FROM findings f" \
	" JOIN connections c ON c.id = f.conn_id WHERE (?1 = 0 OR f.run_id = ?1)"              \
	" AND f.kind = 'unused-connection'"

/* Missed reuse and what it cost (view missed_reuse_cost): connections that
 * carried one request while the client soon opened another, and the
 * handshakes of those others, in all, then the servers and clients with
 * the most.  Nothing for a database without the view. */
static int print_missed_reuse(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	if (!has_view(db, "missed_reuse_cost"))
		return 0;
	sqlite3_stmt *st = prep(db, MISSED_REUSE_SQL, run, err, errlen);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
		char a[32], b[32], c[32];
		fmt_secs(a, sizeof a, sqlite3_column_double(st, 1), 0);
		fmt_secs(b, sizeof b, sqlite3_column_double(st, 2), 0);
		fmt_secs(c, sizeof c, sqlite3_column_double(st, 3), 0);
		fprintf(out, "  missed reuse        %lld connections carried one request while the "
			"client soon opened\n                      another; those handshakes cost %s "
			"(TCP %s, TLS %s)\n", (long long)sqlite3_column_int64(st, 0), a, b, c);
		sqlite3_finalize(st);
		static const char *const by[2][2] = {
			{ "by server", "CASE WHEN instr(server_ip, ':') THEN '[' || server_ip || ']'"
				       " ELSE server_ip END || ':' || server_port" },
			{ "by client", "client_ip" },
		};
		for (int k = 0; k < 2; k++) {
			char sql[512];
			snprintf(sql, sizeof sql, "SELECT %s AS who, COUNT(*), TOTAL(cost_s)"
				 " FROM missed_reuse_cost WHERE" RUN_FILTER " GROUP BY who"
				 " ORDER BY 3 DESC, 2 DESC, who LIMIT 5", by[k][1]);
			st = prep(db, sql, run, err, errlen);
			if (!st)
				return -1;
			fprintf(out, "    %-18s", by[k][0]);
			for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
				fmt_secs(a, sizeof a, sqlite3_column_double(st, 2), 0);
				fprintf(out, "%s%s %lld (%s)", n ? ", " : "",
					(const char *)sqlite3_column_text(st, 0),
					(long long)sqlite3_column_int64(st, 1), a);
			}
			fputc('\n', out);
			sqlite3_finalize(st);
		}
		return 0;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Connections opened and never used (finding unused-connection): how many,
 * and the round trips their handshakes took. */
static int print_unused(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, UNUSED_SQL, run, err, errlen);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
		char a[32];
		fmt_secs(a, sizeof a, sqlite3_column_double(st, 1), 0);
		fprintf(out, "  unused              %lld connections opened and never used (%s of "
			"handshakes)\n", (long long)sqlite3_column_int64(st, 0), a);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The responses by the version of their status line (requests.response_version). */
static int print_response_versions(sqlite3 *db, int64_t run, FILE *out, char *err,
				   size_t errlen)
{
	if (!has_column(db, "requests", "response_version"))
		return 0;
	sqlite3_stmt *st = prep(db, "SELECT response_version, COUNT(*) FROM requests WHERE" RUN_FILTER
				"AND response_version IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1",
				run, err, errlen);
	if (!st)
		return -1;
	int n = 0;
	for (; sqlite3_step(st) == SQLITE_ROW; n++)
		fprintf(out, "%s%s %lld", n ? ", " : "  response versions   ",
			(const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
	if (n)
		fputc('\n', out);
	sqlite3_finalize(st);
	return 0;
}

/* The HTTP/1 part: requests per connection, reuse, what servers advertised
 * and what happened after the last response. */
static int print_http(sqlite3 *db, int version, int64_t run, FILE *out, char *err,
		      size_t errlen)
{
	sqlite3_stmt *st = prep(db,
		"SELECT COUNT(*), TOTAL(requests), TOTAL(responses), TOTAL(requests > 1),"
		" MAX(requests), TOTAL(protocol = 'http/1.1'), TOTAL(protocol = 'http/1.0'),"
		" TOTAL(expected_persistent = 1),"
		" TOTAL(expected_persistent = 1 AND close_initiator = 'server'),"
		" TOTAL(expected_persistent = 1 AND close_initiator = 'client'),"
		" TOTAL(expected_persistent = 0 AND close_kind IN ('open', 'idle')),"
		" TOTAL(expected_persistent = 0 AND close_initiator IS NOT NULL)"
		" FROM connections WHERE" RUN_FILTER "AND requests IS NOT NULL", run, err, errlen);
	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) == 0) {
		sqlite3_finalize(st);
		fprintf(out, "HTTP/1: no requests\n\n");
		return 0;
	}
#define COL(i) ((long long)sqlite3_column_double(st, (i)))
	long long conns = sqlite3_column_int64(st, 0), reqs = COL(1);
	long long h2 = version >= 4 ? one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
					      "AND h2_streams IS NOT NULL", run) : 0;
	fprintf(out, "%s: %lld requests on %lld connections\n", h2 > 0 ? "HTTP (1.x and 2)" : "HTTP/1",
		reqs, conns);
	long long unanswered = one_int(db, "SELECT COUNT(*) FROM requests WHERE" RUN_FILTER
					   "AND status IS NULL", run);
	long long pipelined = one_int(db, "SELECT COUNT(*) FROM requests WHERE" RUN_FILTER
					  "AND pipelined = 1", run);
	/* `responses` counts answers to captured requests (docs/schema.md);
	 * the others are findings. */
	long long orphans = one_int(db, "SELECT COUNT(*) FROM findings WHERE" RUN_FILTER
					"AND kind = 'response-without-request'", run);
	fprintf(out, "  responses           %lld   (requests without one: %lld, ", COL(2), unanswered);
	if (orphans > 0)
		fprintf(out, "responses without a request: %lld, ", orphans);
	fprintf(out, "pipelined requests: %lld)\n", pipelined);
	int n50, n95;
	double p50 = quantile(db, "requests", run, 0.5, &n50);
	double p95 = quantile(db, "requests", run, 0.95, &n95);
	fprintf(out, "  per connection      mean %.1f, median %.0f, p95 %.0f, max %lld\n",
		(double)reqs / (double)conns, p50, p95, (long long)sqlite3_column_int64(st, 4));
	fprintf(out, "  reused              %lld of %lld connections carried more than one request (%.0f%%)\n",
		COL(3), conns, 100.0 * (double)COL(3) / (double)conns);
	fprintf(out, "  versions            HTTP/1.1 on %lld connections, HTTP/1.0 on %lld", COL(5),
		COL(6));
	if (h2 > 0)
		fprintf(out, ", HTTP/2 on %lld (see below)", h2);
	fputc('\n', out);
	if (version >= 6) {
		/* RFC 9112 §9.3: why reuse stopped, when the server spoke HTTP/1.0. */
		long long h10 = one_int(db, "SELECT COUNT(*) FROM requests WHERE" RUN_FILTER
					"AND version = 'HTTP/1.1' AND response_version = 'HTTP/1.0'", run);
		if (h10 > 0)
			fprintf(out, "  answered HTTP/1.0   %lld HTTP/1.1 requests, from %lld servers (%lld "
				"without keep-alive: the connection ended after them)\n", h10,
				one_int(db, "SELECT COUNT(DISTINCT c.server_ip || ' ' || c.server_port)"
					" FROM requests r JOIN connections c ON c.id = r.conn_id WHERE"
					" r.run_id = c.run_id AND (?1 = 0 OR r.run_id = ?1) AND"
					" r.version = 'HTTP/1.1' AND r.response_version = 'HTTP/1.0'", run),
				one_int(db, "SELECT COUNT(*) FROM findings WHERE" RUN_FILTER
					"AND kind = 'http10-response' AND detail LIKE '%without keep-alive%'",
					run));
	}
	if (has_column(db, "connections", "http_client")) {
		long long rev = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
					"AND http_client = 'server'", run);
		if (rev > 0)
			fprintf(out, "  asked by TCP server %lld connections carried requests from the TCP "
				"server (reverse tunnels; http_client = 'server'): the findings speak of "
				"HTTP's roles, the figures below of TCP's\n", rev);
	}
	fprintf(out, "  after the last response\n");
	fprintf(out, "    expected to stay open   %lld: then closed by the server %lld,"
		" by the client %lld\n", COL(7), COL(8), COL(9));
	fprintf(out, "    expected to close       %lld: closed %lld, left open %lld\n",
		conns - COL(7), COL(11), COL(10));
#undef COL
	sqlite3_finalize(st);

	double i50 = quantile(db, "idle_before_close", run, 0.5, &n50);
	double i95 = quantile(db, "idle_before_close", run, 0.95, &n95);
	char a[32], b[32];
	fmt_secs(a, sizeof a, i50, n50);
	fmt_secs(b, sizeof b, i95, n95);
	fprintf(out, "    idle before the close   median %s, p95 %s\n", a, b);
	double m50 = quantile(db, "max_idle", run, 0.5, &n50);
	fmt_secs(a, sizeof a, m50, n50);
	fprintf(out, "  longest idle between requests on a connection: median %s\n", a);
	/* What reuse saved: a handshake for every request after the first
	 * (schema 3; an older database shows it once kalens has written to it). */
	/* Said only when some connection has the figure (NULL sum: none). */
	st = version < 3 ? NULL : prep(db, "SELECT COALESCE(SUM(requests - 1), 0), SUM(reuse_saved_s) FROM connections"
		      " WHERE" RUN_FILTER "AND reuse_saved_s IS NOT NULL", run, err, errlen);
	if (version >= 3 && !st)
		return -1;
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL) {
		fmt_secs(a, sizeof a, sqlite3_column_double(st, 1), 0);
		fprintf(out, "  reuse saved         %lld TCP handshakes, %s of round trips\n",
			(long long)sqlite3_column_int64(st, 0), a);
	}
	sqlite3_finalize(st);
	if (print_missed_reuse(db, run, out, err, errlen) != 0 ||
	    print_unused(db, run, out, err, errlen) != 0 ||
	    print_response_versions(db, run, out, err, errlen) != 0)
		return -1;

	st = prep(db,
		"SELECT ka_timeout_advertised, COUNT(*), MIN(ka_max_advertised), MAX(ka_max_advertised)"
		" FROM connections WHERE" RUN_FILTER
		"AND (ka_timeout_advertised IS NOT NULL OR ka_max_advertised IS NOT NULL)"
		" GROUP BY 1 ORDER BY 2 DESC LIMIT 5", run, err, errlen);
	if (!st)
		return -1;
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(out, rows++ ? "; " : "  Keep-Alive sent     ");
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			fprintf(out, "timeout=%lld", (long long)sqlite3_column_int64(st, 0));
		else
			fprintf(out, "no timeout");
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			long long lo = sqlite3_column_int64(st, 2), hi = sqlite3_column_int64(st, 3);
			if (lo == hi)
				fprintf(out, " max=%lld", lo);
			else
				fprintf(out, " max=%lld..%lld", lo, hi);
		}
		fprintf(out, " (%lld conns)", (long long)sqlite3_column_int64(st, 1));
	}
	fprintf(out, rows ? "\n" : "  Keep-Alive sent     never\n");
	sqlite3_finalize(st);

	st = prep(db, "SELECT kind, COUNT(*) FROM findings WHERE" RUN_FILTER
		      "GROUP BY kind ORDER BY 2 DESC", run, err, errlen);
	if (!st)
		return -1;
	rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "%s%s %lld", rows++ ? ", " : "  findings            ",
			(const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
	fprintf(out, rows ? "\n\n" : "  findings            none\n\n");
	sqlite3_finalize(st);
	return 0;
}

/* ---- TLS ------------------------------------------------------------------- */

/* TLS connections: versions, resumption (reuse of a TLS session), ALPN and
 * handshake time, per server (schema 3). */
static int print_tls(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	long long n = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
			      "AND tls_version IS NOT NULL", run);
	if (n <= 0)
		return 0;
	long long dec = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
				"AND decrypted = 1", run);
	if (dec > 0)
		fprintf(out, "TLS: %lld connections, %lld decrypted with the key log (their HTTP is "
			"in the figures above)\n", n, dec);
	else
		fprintf(out, "TLS: %lld connections (handshakes read without keys; not decrypted)\n",
			n);
	sqlite3_stmt *st = prep(db, "SELECT tls_version, COUNT(*) FROM connections WHERE" RUN_FILTER
				"AND tls_version IS NOT NULL GROUP BY 1 ORDER BY 2 DESC", run, err,
				errlen);
	if (!st)
		return -1;
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "%s%s %lld", rows++ ? ", " : "  versions            ",
			(const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
	fputs(rows ? "\n" : "", out);
	sqlite3_finalize(st);
	long long resumed = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
				    "AND tls_resumed = 1", run);
	long long full = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
				 "AND tls_resumed = 0", run);
	fprintf(out, "  session reuse       %lld resumed, %lld full handshakes\n", resumed, full);
	int null50, null95;
	double h50 = quantile(db, "tls_handshake_s", run, 0.5, &null50);
	double h95 = quantile(db, "tls_handshake_s", run, 0.95, &null95);
	char a[32], b[32];
	fmt_secs(a, sizeof a, h50, null50);
	fmt_secs(b, sizeof b, h95, null95);
	fprintf(out, "  handshake time      median %s, p95 %s (ClientHello to the client's first "
		"application data)\n", a, b);
	if (has_column(db, "connections", "tls_close_by")) {
		/* docs/keepalive.md, "Who closed": an alert before the first FIN. */
		st = prep(db, TLS_CLOSES_SQL, run, err, errlen);
		if (!st)
			return -1;
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
			long long k = sqlite3_column_int64(st, 0);
			long long cn = sqlite3_column_int64(st, 3);
			long long enc = sqlite3_column_int64(st, 4);
			fprintf(out, "  closing alerts      %lld connections (close_notify %lld, encrypted "
				"%lld, fatal %lld); on %lld the other side's FIN came first, and the "
				"alert's sender counts as the closer\n", k, cn, enc, k - cn - enc,
				(long long)sqlite3_column_int64(st, 5));
		}
		sqlite3_finalize(st);
	}
	st = prep(db, "SELECT server_ip, server_port, COUNT(*), SUM(tls_resumed = 1),"
		  " group_concat(DISTINCT alpn), COALESCE(SUM(requests_estimated), 0),"
		  " SUM(decrypted = 1), COALESCE(SUM(CASE WHEN decrypted = 1 THEN requests END), 0)"
		  " FROM connections WHERE" RUN_FILTER "AND tls_version IS NOT NULL"
		  " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10", run, err, errlen);
	if (!st)
		return -1;
	fprintf(out, "  %-40s %6s %8s %-16s %-16s %s\n", "server", "conns", "resumed", "alpn",
		"exchanges (est.)", "decrypted: conns, requests");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char srv[80];
		snprintf(srv, sizeof srv, "%s:%d", (const char *)sqlite3_column_text(st, 0),
			 sqlite3_column_int(st, 1));
		const unsigned char *alpn = sqlite3_column_text(st, 4);
		fprintf(out, "  %-40s %6lld %8lld %-16s %-16lld %lld, %lld\n", srv,
			(long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
			alpn ? (const char *)alpn : "-", (long long)sqlite3_column_int64(st, 5),
			(long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
	}
	sqlite3_finalize(st);
	fputc('\n', out);
	return 0;
}

/* ---- HTTP/2 ------------------------------------------------------------------ */

/* HTTP/2 connections (schema 4): streams and how many ran at once, the
 * servers' concurrency limits, who ended connections with GOAWAY. */
static int print_h2(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	long long n = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
			      "AND h2_streams IS NOT NULL", run);
	if (n <= 0)
		return 0;
	sqlite3_stmt *st = prep(db, "SELECT COALESCE(SUM(h2_streams), 0), MAX(h2_peak_streams),"
				" SUM(h2_peak_streams > 1), SUM(goaway_by IS 'server'),"
				" SUM(goaway_by IS 'client'), SUM(goaway_error > 0),"
				" COALESCE(SUM(rst_streams), 0), group_concat(DISTINCT h2_max_concurrent_streams),"
				" SUM(protocol = 'tls')"
				" FROM connections WHERE" RUN_FILTER "AND h2_streams IS NOT NULL", run, err,
				errlen);
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		long long streams = sqlite3_column_int64(st, 0);
		const unsigned char *limits = sqlite3_column_text(st, 7);
		fprintf(out, "HTTP/2: %lld connections (%lld over TLS), %lld streams, %.1f per connection\n",
			n, (long long)sqlite3_column_int64(st, 8), streams, (double)streams / (double)n);
		fprintf(out, "  multiplexing        %lld connections had several streams open at once "
			"(at most %lld)\n", (long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 1));
		fprintf(out, "  server stream limit %s (SETTINGS_MAX_CONCURRENT_STREAMS)\n",
			limits ? (const char *)limits : "never sent");
		fprintf(out, "  GOAWAY              %lld by servers, %lld by clients, %lld with an error;"
			" %lld RST_STREAM\n\n", (long long)sqlite3_column_int64(st, 3),
			(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
			(long long)sqlite3_column_int64(st, 6));
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- findings, most serious first ---------------------------------------- */

struct finding_row {
	char kind[48];
	long long count, conns;
	char examples[64];
	int impact, order;
	const char *meaning;
};

static int finding_row_cmp(const void *a, const void *b)
{
	const struct finding_row *x = a, *y = b;
	if (x->impact != y->impact)
		return x->impact - y->impact;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->order - y->order;
}

/* The findings of `run` by kind, most serious first, into rows[max]. */
static int collect_findings(sqlite3 *db, int64_t run, struct finding_row *rows, size_t max,
			    size_t *count, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db,
		"SELECT kind, COUNT(*), COUNT(DISTINCT conn_id),"
		" (SELECT group_concat(conn_id, ', ') FROM (SELECT DISTINCT g.conn_id FROM findings g"
		"   WHERE g.kind = f.kind AND (?1 = 0 OR g.run_id = ?1) AND g.conn_id IS NOT NULL"
		"   ORDER BY g.conn_id LIMIT 3))"
		" FROM findings f WHERE" RUN_FILTER "GROUP BY kind", run, err, errlen);
	if (!st)
		return -1;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < max) {
		struct finding_row *r = &rows[n++];
		memset(r, 0, sizeof *r);
		const unsigned char *k = sqlite3_column_text(st, 0);
		const unsigned char *e = sqlite3_column_text(st, 3);
		snprintf(r->kind, sizeof r->kind, "%s", k ? (const char *)k : "?");
		snprintf(r->examples, sizeof r->examples, "%s", e ? (const char *)e : "-");
		r->count = sqlite3_column_int64(st, 1);
		r->conns = sqlite3_column_int64(st, 2);
		enum finding_kind kind;
		if (finding_kind_lookup(r->kind, &kind)) {
			r->impact = (int)finding_kind(kind)->impact;
			r->order = (int)kind;
			r->meaning = finding_kind(kind)->meaning;
		} else {
			r->impact = FINDING_IMPACT_INFO + 1;  /* a kind this version does not know */
			r->order = FINDING_KIND_COUNT;
			r->meaning = "";
		}
	}
	sqlite3_finalize(st);
	qsort(rows, n, sizeof rows[0], finding_row_cmp);
	*count = n;
	return 0;
}


static int print_findings(sqlite3 *db, const char *db_path, int64_t run, FILE *out, char *err,
			  size_t errlen)
{
	struct finding_row rows[64];
	size_t n = 0;
	if (collect_findings(db, run, rows, sizeof rows / sizeof rows[0], &n, err, errlen) != 0)
		return -1;
	if (n == 0)
		return 0;
	fprintf(out, "Findings, most serious first (docs/keepalive.md)\n");
	int last = -1;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].impact != last) {
			last = rows[i].impact;
			fprintf(out, "  %s\n", finding_impact_heading((enum finding_impact)last));
		}
		fprintf(out, "    %-30s %7lld  on %lld conns  e.g. %s\n", rows[i].kind, rows[i].count,
			rows[i].conns, rows[i].examples);
		if (*rows[i].meaning)
			fprintf(out, "    %-30s %s\n", "", rows[i].meaning);
	}
	fprintf(out, "  look one up: kalens conn %s N (its requests, close and findings)\n\n", db_path);
	return 0;
}

/* ---- HTML ----------------------------------------------------------------- */

/* One self-contained page: inline CSS and SVG, no script, no network.  Its
 * size is bounded whatever the capture: histograms are aggregates, the
 * waterfall shows at most HTML_WATERFALL_ROWS connections (and says so),
 * findings are one row per kind. */
#define HTML_WATERFALL_ROWS 60
#define HTML_WATERFALL_BARS 4000   /* request bars drawn in all */

static void html_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, out);
		}
	}
}

/* A bar chart: n bars of values v with labels, width w, height h. */
static void svg_bars(FILE *out, const char *title, const char *const *labels,
		     const double *v, size_t n, const char *unit, size_t mark)
{
	const double w = 640, h = 220, left = 50, bottom = 40, top = 20;
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(out, "<figure><figcaption>");
	html_text(out, title);
	fprintf(out, "</figcaption>\n<svg width=\"%.0f\" height=\"%.0f\" role=\"img\">\n", w, h);
	fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n",
		left, h - bottom, w - 10, h - bottom);
	double bw = n ? (w - left - 20) / (double)n : 0;
	for (size_t i = 0; i < n; i++) {
		double bh = max > 0 ? (h - bottom - top) * v[i] / max : 0;
		double x = left + (double)i * bw + 4, y = h - bottom - bh;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s\">"
			"<title>", x, y, bw - 8, bh, i == mark ? "bar mark" : "bar");
		html_text(out, labels[i]);
		fprintf(out, ": %.0f %s</title></rect>\n", v[i], unit);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">%.0f</text>\n", x + (bw - 8) / 2,
			y - 4, v[i]);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"lab\">", x + (bw - 8) / 2,
			h - bottom + 16);
		html_text(out, labels[i]);
		fputs("</text>\n", out);
	}
	fputs("</svg></figure>\n", out);
}

static void html_rpc_histogram(sqlite3 *db, int64_t run, FILE *out)
{
	static const char *const labels[] = { "1", "2", "3-5", "6-10", "11-20", "21-50", "51-100",
					      "101-1000", ">1000" };
	static const long long hi[] = { 1, 2, 5, 10, 20, 50, 100, 1000, -1 };
	double v[9] = { 0 };
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT requests, COUNT(*) FROM connections WHERE" RUN_FILTER
			       "AND requests IS NOT NULL GROUP BY 1", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, run);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long r = sqlite3_column_int64(st, 0);
		size_t b = 0;
		while (hi[b] >= 0 && r > hi[b])
			b++;
		v[b] += (double)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	svg_bars(out, "Requests per connection (connections)", labels, v, 9, "connections", SIZE_MAX);
}

/* Idle gaps between requests and before a server's close, on a log scale,
 * with the most advertised Keep-Alive timeout marked. */
static void html_idle_histogram(sqlite3 *db, int64_t run, FILE *out)
{
	static const char *const labels[] = { "<1ms", "1-10ms", "10-100ms", "0.1-1s", "1-2s",
					      "2-5s", "5-10s", "10-60s", ">=60s" };
	static const double hi[] = { 0.001, 0.01, 0.1, 1, 2, 5, 10, 60, -1 };
	double between[9] = { 0 }, close[9] = { 0 };
	static const char *const sql[2] = {
		"SELECT idle_before FROM requests WHERE" RUN_FILTER "AND idle_before IS NOT NULL",
		"SELECT idle_before_close FROM connections WHERE" RUN_FILTER
		"AND close_initiator = 'server' AND expected_persistent = 1"
		" AND idle_before_close IS NOT NULL",
	};
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, sql[k], -1, &st, NULL) != SQLITE_OK)
			return;
		sqlite3_bind_int64(st, 1, run);
		while (sqlite3_step(st) == SQLITE_ROW) {
			double x = sqlite3_column_double(st, 0);
			size_t b = 0;
			while (hi[b] >= 0 && x >= hi[b])
				b++;
			(k ? close : between)[b] += 1;
		}
		sqlite3_finalize(st);
	}
	long long adv = one_int(db, "SELECT ka_timeout_advertised FROM connections WHERE" RUN_FILTER
				"AND ka_timeout_advertised IS NOT NULL GROUP BY 1 ORDER BY COUNT(*) DESC"
				" LIMIT 1", run);
	char title[160];
	if (adv > 0)
		snprintf(title, sizeof title, "Idle before a server close (connections the server "
			 "closed while they were expected to persist)");
	else
		snprintf(title, sizeof title, "Idle before a server close (no Keep-Alive timeout "
			 "advertised)");
	size_t mark = SIZE_MAX;
	if (adv > 0) {
		mark = 0;
		while (hi[mark] >= 0 && (double)adv >= hi[mark])
			mark++;
	}
	svg_bars(out, "Idle time between a response and the next request (requests)", labels,
		 between, 9, "requests", mark);
	svg_bars(out, title, labels, close, 9, "closes", mark);
	if (adv > 0)
		fprintf(out, "<p class=\"note\">The orange bucket (%s) holds the advertised timeout, "
			"%lld s.</p>\n", labels[mark], adv);
}

/* The busiest server's connections, one row each, bars per request on a
 * common time axis, the close marked by who closed. */
static void html_waterfall(sqlite3 *db, int64_t run, FILE *out);

/* One figure of the HTML page, marked so a test (or a script) finds it:
 * <td class="n" data-k="KEY">VALUE</td>. */
static void html_num_row(FILE *out, const char *label, const char *key, const char *value)
{
	fputs("<tr><th>", out);
	html_text(out, label);
	fprintf(out, "</th><td class=\"n\" data-k=\"%s\">", key);
	html_text(out, value);
	fputs("</td></tr>\n", out);
}

/* The runs of the database, each linking to its section. */
static void html_runs_table(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, source, status, COALESCE(packets, 0),"
			       " COALESCE(connections, 0), COALESCE(requests, 0) FROM runs ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	fputs("<h2>Runs</h2>\n<table><tr><th>run</th><th>source</th><th>status</th><th>packets</th>"
	      "<th>connections</th><th>requests</th></tr>\n", out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		fprintf(out, "<tr><td><a href=\"#run-%lld\">%lld</a></td><td>", id, id);
		html_text(out, (const char *)sqlite3_column_text(st, 1));
		fputs("</td><td>", out);
		html_text(out, (const char *)sqlite3_column_text(st, 2));
		fprintf(out, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			"<td class=\"n\">%lld</td></tr>\n", (long long)sqlite3_column_int64(st, 3),
			(long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5));
	}
	fputs("</table>\n", out);
	sqlite3_finalize(st);
}

/* What reuse saved and what missed reuse cost, as the text report says it. */
static void html_reuse_table(sqlite3 *db, int64_t run, FILE *out)
{
	char v[96], a[32];
	long long conns = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER, run);
	long long http = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
				 "AND requests IS NOT NULL", run);
	long long reqs = one_int(db, "SELECT COALESCE(SUM(requests), 0) FROM connections WHERE"
				 RUN_FILTER, run);
	long long reused = one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER
				   "AND requests > 1", run);
	fputs("<table class=\"figures\">\n", out);
	snprintf(v, sizeof v, "%lld", conns);
	html_num_row(out, "TCP connections", "connections", v);
	snprintf(v, sizeof v, "%lld", http);
	html_num_row(out, "with HTTP", "http-connections", v);
	snprintf(v, sizeof v, "%lld", reqs);
	html_num_row(out, "requests", "requests", v);
	snprintf(v, sizeof v, "%lld", reused);
	html_num_row(out, "connections that carried more than one request", "reused", v);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, REUSE_SAVED_SQL, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, run) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		fmt_secs(a, sizeof a, sqlite3_column_double(st, 1), 0);
		snprintf(v, sizeof v, "%lld", (long long)sqlite3_column_int64(st, 0));
		html_num_row(out, "reuse saved: TCP handshakes", "reuse-saved-handshakes", v);
		html_num_row(out, "reuse saved: round trips", "reuse-saved-time", a);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (has_view(db, "missed_reuse_cost") &&
	    sqlite3_prepare_v2(db, MISSED_REUSE_SQL, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, run) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		fmt_secs(a, sizeof a, sqlite3_column_double(st, 1), 0);
		snprintf(v, sizeof v, "%lld", (long long)sqlite3_column_int64(st, 0));
		html_num_row(out, "missed reuse: one-request connections followed by another",
			     "missed-reuse", v);
		html_num_row(out, "missed reuse: the handshakes it cost", "missed-reuse-cost", a);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, UNUSED_SQL, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, run) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(v, sizeof v, "%lld", (long long)sqlite3_column_int64(st, 0));
		html_num_row(out, "connections opened and never used", "unused", v);
	}
	sqlite3_finalize(st);
	fputs("</table>\n", out);
}

/* Rows of `sql` (bound to the run) as a table with these headings; nothing
 * when there are none.  Returns the rows. */
static int html_sql_table(sqlite3 *db, int64_t run, const char *sql, const char *const *heads,
			  int nheads, FILE *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, run);
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (rows++ == 0) {
			fputs("<table><tr>", out);
			for (int i = 0; i < nheads; i++) {
				fputs("<th>", out);
				html_text(out, heads[i]);
				fputs("</th>", out);
			}
			fputs("</tr>\n", out);
		}
		fputs("<tr>", out);
		for (int i = 0; i < sqlite3_column_count(st) && i < nheads; i++) {
			bool num = sqlite3_column_type(st, i) == SQLITE_INTEGER ||
				   sqlite3_column_type(st, i) == SQLITE_FLOAT;
			fputs(num ? "<td class=\"n\">" : "<td>", out);
			const unsigned char *t = sqlite3_column_text(st, i);
			html_text(out, t ? (const char *)t : "");
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	if (rows)
		fputs("</table>\n", out);
	sqlite3_finalize(st);
	return rows;
}

/* TLS and HTTP/2, per server, when the run has any. */
static void html_tls_h2(sqlite3 *db, int64_t run, FILE *out)
{
	if (has_view(db, "tls_servers") &&
	    one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER "AND tls_version IS NOT NULL",
		    run) > 0) {
		static const char *const heads[] = { "server", "SNI", "connections", "TLS 1.3", "TLS 1.2",
						     "resumed", "full", "full handshake ms",
						     "resumed handshake ms", "ALPN", "decrypted" };
		fputs("<h3>TLS</h3>\n", out);
		html_sql_table(db, run,
			"SELECT server_ip || ':' || server_port, sni, connections, tls13, tls12, resumed,"
			" full_handshakes, round(mean_full_handshake_s * 1000, 3),"
			" round(mean_resumed_handshake_s * 1000, 3), alpn, decrypted FROM tls_servers"
			" WHERE" RUN_FILTER "ORDER BY connections DESC", heads, 11, out);
	}
	if (has_column(db, "connections", "h2_streams") &&
	    one_int(db, "SELECT COUNT(*) FROM connections WHERE" RUN_FILTER "AND h2_streams IS NOT NULL",
		    run) > 0) {
		static const char *const heads[] = { "server", "connections", "streams",
						     "most at once", "server's limit",
						     "GOAWAY by the server" };
		fputs("<h3>HTTP/2</h3>\n", out);
		html_sql_table(db, run,
			"SELECT server_ip || ':' || server_port, COUNT(*), SUM(h2_streams),"
			" MAX(h2_peak_streams), MAX(h2_max_concurrent_streams), SUM(goaway_by IS 'server')"
			" FROM connections WHERE" RUN_FILTER "AND h2_streams IS NOT NULL"
			" GROUP BY 1 ORDER BY 2 DESC", heads, 6, out);
	}
}

/* One run's figures (or all runs' when run is 0). */
static void html_run_body(sqlite3 *db, int64_t run, FILE *out)
{
	fputs("<h3>Reuse</h3>\n", out);
	html_reuse_table(db, run, out);
	html_rpc_histogram(db, run, out);
	fputs("<h3>Idle time</h3>\n", out);
	html_idle_histogram(db, run, out);
	html_tls_h2(db, run, out);
	fputs("<h3>Connections of the busiest server</h3>\n", out);
	html_waterfall(db, run, out);
}

/* A time axis under a plot of `plot` units from x = left: ticks at round
 * steps (1, 2, 5 x 10^k seconds, about 8 of them) labelled from 0. */
static void html_time_axis(FILE *out, double left, double plot, double y, double span)
{
	double step = pow(10, floor(log10(span / 8)));
	if (span / step > 40)
		step *= 5;
	else if (span / step > 16)
		step *= 2;
	fprintf(out, "<g class=\"taxis\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"class=\"axis\"/>\n", left, y, left + plot, y);
	for (int k = 0; k * step <= span * (1 + 1e-9) && k < 100; k++) {
		double t = k * step, x = left + plot * t / span;
		char lab[32];
		if (step >= 1)
			snprintf(lab, sizeof lab, "%g s", t);
		else if (step >= 1e-3)
			snprintf(lab, sizeof lab, "%g ms", t * 1e3);
		else
			snprintf(lab, sizeof lab, "%g us", t * 1e6);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"lab\">%s</text>\n", x, y, x, y + 4, x,
			y + 15, lab);
	}
	fputs("</g>\n", out);
}

static void html_waterfall(sqlite3 *db, int64_t run, FILE *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT server_ip, server_port, COUNT(*) FROM connections WHERE"
			       RUN_FILTER "AND requests IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC"
			       " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, run);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	char ip[64];
	snprintf(ip, sizeof ip, "%s", (const char *)sqlite3_column_text(st, 0));
	int port = sqlite3_column_int(st, 1);
	long long total = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);

	/* The busiest connections of that server, drawn in start order. */
	if (sqlite3_prepare_v2(db,
		"SELECT id, client_port, first_seen, last_seen, close_ts, close_initiator, close_kind,"
		" requests FROM (SELECT * FROM connections WHERE" RUN_FILTER "AND requests IS NOT NULL"
		" AND server_ip = ?2 AND server_port = ?3 ORDER BY requests DESC, id LIMIT ?4)"
		" ORDER BY first_seen, id", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, port);
	sqlite3_bind_int(st, 4, HTML_WATERFALL_ROWS);
	struct { long long id; int port; double first, last, close; char who[8], kind[8];
		 long long reqs; } rows[HTML_WATERFALL_ROWS];
	size_t n = 0;
	double t0 = 0, t1 = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < HTML_WATERFALL_ROWS) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].port = sqlite3_column_int(st, 1);
		rows[n].first = sqlite3_column_double(st, 2);
		rows[n].last = sqlite3_column_double(st, 3);
		rows[n].close = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 4);
		const unsigned char *w = sqlite3_column_text(st, 5), *k = sqlite3_column_text(st, 6);
		snprintf(rows[n].who, sizeof rows[n].who, "%s", w ? (const char *)w : "");
		snprintf(rows[n].kind, sizeof rows[n].kind, "%s", k ? (const char *)k : "");
		rows[n].reqs = sqlite3_column_int64(st, 7);
		if (n == 0 || rows[n].first < t0)
			t0 = rows[n].first;
		if (rows[n].last > t1)
			t1 = rows[n].last;
		n++;
	}
	sqlite3_finalize(st);
	if (n == 0)
		return;
	double span = t1 > t0 ? t1 - t0 : 1e-6;
	const double w = 900, left = 150, rowh = 14;
	double plot = w - left - 20;
	fprintf(out, "<figure><figcaption>Connections to %s:%d, one row each, one bar per request "
		"(time from the first connection's start, over %.3f s); the tick at the end is the close: "
		"<span class=\"srvt\">server</span> or <span class=\"clit\">client</span>",
		ip, port, span);
	if ((long long)n < total)
		fprintf(out, ". Showing the %zu busiest of its %lld connections.", n, total);
	double axis_y = (double)n * rowh + 16;
	fprintf(out, "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n",
		w, axis_y + 24);
	html_time_axis(out, left, plot, axis_y, span);
	size_t bars = 0;
	for (size_t i = 0; i < n; i++) {
		double y = 10 + (double)i * rowh;
		double xa = left + plot * (rows[i].first - t0) / span;
		double xb = left + plot * (rows[i].last - t0) / span;
		fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" class=\"row\">conn %lld :%d (%lld)</text>\n",
			left - 6, y + 10, rows[i].id, rows[i].port, rows[i].reqs);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"life\"/>\n",
			xa, y + 6, xb < xa + 1 ? xa + 1 : xb, y + 6);
		sqlite3_stmt *q = NULL;
		if (bars < HTML_WATERFALL_BARS &&
		    sqlite3_prepare_v2(db, "SELECT seq, method, uri, status, start, \"end\", idle_before"
				       " FROM timeline WHERE conn_id = ?1 ORDER BY seq LIMIT ?2",
				       -1, &q, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(q, 1, rows[i].id);
			sqlite3_bind_int(q, 2, (int)(HTML_WATERFALL_BARS - bars));
			while (sqlite3_step(q) == SQLITE_ROW) {
				double s0 = sqlite3_column_double(q, 4), s1 = sqlite3_column_double(q, 5);
				double x0 = left + plot * (s0 - t0) / span;
				double bw = plot * (s1 - s0) / span;
				fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" "
					"class=\"req\"><title>#%lld ", x0, y + 1, bw < 2 ? 2 : bw,
					(long long)sqlite3_column_int64(q, 0));
				html_text(out, (const char *)sqlite3_column_text(q, 1));
				fputc(' ', out);
				html_text(out, (const char *)sqlite3_column_text(q, 2));
				if (sqlite3_column_type(q, 3) != SQLITE_NULL)
					fprintf(out, " -> %d", sqlite3_column_int(q, 3));
				if (sqlite3_column_type(q, 6) != SQLITE_NULL)
					fprintf(out, ", idle before %.3f s", sqlite3_column_double(q, 6));
				fputs("</title></rect>\n", out);
				bars++;
			}
			sqlite3_finalize(q);
		}
		if (rows[i].close > 0) {
			double xc = left + plot * (rows[i].close - t0) / span;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"14\" class=\"%s\">"
				"<title>closed by the %s (%s)</title></rect>\n", xc, y - 1,
				strcmp(rows[i].who, "server") ? "cli" : "srv", rows[i].who, rows[i].kind);
		}
	}
	fputs("</svg></figure>\n", out);
	if (bars >= HTML_WATERFALL_BARS)
		fprintf(out, "<p class=\"note\">Only the first %d requests are drawn.</p>\n",
			HTML_WATERFALL_BARS);
}

static int report_html(sqlite3 *db, const char *db_path, int64_t run, FILE *out, char *err,
		       size_t errlen)
{
	struct finding_row rows[64];
	size_t n = 0;
	if (collect_findings(db, run, rows, sizeof rows / sizeof rows[0], &n, err, errlen) != 0)
		return -1;
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>kalens report</title>\n<style>\n"
	      "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222}\n"
	      "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\n"
	      "figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}\n"
	      ".axis{stroke:#888}.bar{fill:#4a7fb5}.bar.mark{fill:#e67e22}.val{font-size:11px;text-anchor:middle}\n"
	      ".lab{font-size:11px;text-anchor:middle;fill:#555}.row{font-size:10px;text-anchor:end}\n"
	      ".life{stroke:#bbb;stroke-width:1}.req{fill:#4a7fb5}.srv{fill:#c0392b}.cli{fill:#2e86de}\n"
	      ".srvt{color:#9a2e22}.clit{color:#1f5f9e}.note{color:#555;font-size:12px}\n"
	      "table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #eee;"
	      "text-align:left}td.n{text-align:right}figure svg{max-width:100%;height:auto}\n"
	      ".taxis .lab{font-size:10px}section.run{border-top:3px solid #4a7fb5;margin-top:2em}\n"
	      "</style></head><body>\n<h1>kalens report</h1>\n<p>", out);
	html_text(out, db_path);
	fprintf(out, run ? ", run %lld.</p>\n" : ", all runs.</p>\n", (long long)run);
	long long nruns = one_int(db, "SELECT COUNT(*) FROM runs WHERE" " (?1 = 0 OR id = ?1)", run);
	if (run == 0 && nruns > 1) {
		/* Several runs: a table of them, then a section each, so that
		 * nothing of two captures is drawn as one. */
		html_runs_table(db, out);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT id, source FROM runs ORDER BY id", -1, &st, NULL) ==
		    SQLITE_OK) {
			while (sqlite3_step(st) == SQLITE_ROW) {
				long long id = sqlite3_column_int64(st, 0);
				fprintf(out, "<section class=\"run\" id=\"run-%lld\"><h2>Run %lld: ", id, id);
				html_text(out, (const char *)sqlite3_column_text(st, 1));
				fputs("</h2>\n", out);
				html_run_body(db, id, out);
				fputs("</section>\n", out);
			}
		}
		sqlite3_finalize(st);
	} else {
		html_run_body(db, run, out);
	}
	fputs("<h2>Findings, most serious first</h2>\n", out);
	if (n == 0) {
		fputs("<p>None.</p>\n", out);
	} else {
		fputs("<table><tr><th>impact</th><th>finding</th><th>count</th><th>connections</th>"
		      "<th>what it means</th><th>e.g. connections</th></tr>\n", out);
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "<tr><td>%s</td><td>", finding_impact_heading((enum finding_impact)rows[i].impact));
			html_text(out, rows[i].kind);
			fprintf(out, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td>",
				rows[i].count, rows[i].conns);
			html_text(out, rows[i].meaning);
			fputs("</td><td>", out);
			html_text(out, rows[i].examples);
			fputs("</td></tr>\n", out);
		}
		fputs("</table>\n<p class=\"note\">Look one up: <code>kalens conn DB N</code> (its "
		      "requests, close and findings); the rules are in docs/keepalive.md.</p>\n", out);
	}
	fputs("</body></html>\n", out);
	return ferror(out) ? -1 : 0;
}

/* ---- JSON ----------------------------------------------------------------- */

/* Emit the rows of `sql` (bound to the run) as JSON objects keyed by the
 * column names: one object when `single`, else an array of them. */
static int json_rows(sqlite3 *db, const char *sql, int64_t run, bool single, FILE *out,
		     char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, sql, run, err, errlen);
	if (!st)
		return -1;
	if (!single)
		fputc('[', out);
	int rows = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++)
			fputc(',', out);
		jsonout_row(out, st);
		if (single)
			break;
	}
	if (single && rows == 0)
		fputs("{}", out);
	if (!single)
		fputc(']', out);
	bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
	if (failed)
		snprintf(err, errlen, "report query failed: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return failed ? -1 : 0;
}

/* A nearest-rank quantile as a JSON number or null. */
/* "missed_reuse" (view missed_reuse_cost: null without it),
 * "unused_connections" and "response_versions" (null without the column),
 * as the text report's lines. */
static int json_missed_reuse(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	fputs(",\"missed_reuse\":", out);
	if (!has_view(db, "missed_reuse_cost")) {
		fputs("null", out);
	} else {
		fputs("{\"total\":", out);
		if (json_rows(db, MISSED_REUSE_SQL, run, true, out, err, errlen) != 0)
			return -1;
		fputs(",\"by_server\":", out);
		if (json_rows(db, "SELECT server_ip, server_port, COUNT(*) AS connections,"
				  " TOTAL(cost_s) AS cost_s FROM missed_reuse_cost WHERE" RUN_FILTER
				  " GROUP BY server_ip, server_port ORDER BY cost_s DESC, connections DESC,"
				  " server_ip, server_port", run, false, out, err, errlen) != 0)
			return -1;
		fputs(",\"by_client\":", out);
		if (json_rows(db, "SELECT client_ip, COUNT(*) AS connections, TOTAL(cost_s) AS cost_s"
				  " FROM missed_reuse_cost WHERE" RUN_FILTER " GROUP BY client_ip"
				  " ORDER BY cost_s DESC, connections DESC, client_ip", run, false, out, err,
				  errlen) != 0)
			return -1;
		fputc('}', out);
	}
	fputs(",\"unused_connections\":", out);
	if (json_rows(db, UNUSED_SQL, run, true, out, err, errlen) != 0)
		return -1;
	fputs(",\"response_versions\":", out);
	if (!has_column(db, "requests", "response_version")) {
		fputs("null", out);
		return 0;
	}
	return json_rows(db, "SELECT response_version AS version, COUNT(*) AS responses"
			 " FROM requests WHERE" RUN_FILTER "AND response_version IS NOT NULL"
			 " GROUP BY 1 ORDER BY 2 DESC, 1", run, false, out, err, errlen);
}

/* Connections that came through tunnels, by their tunnels (the client's
 * packets', else the server's): "vxlan 3, gre > vxlan 2".  Nothing when none. */
static int print_tunnels(sqlite3 *db, int64_t run, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db,
		"SELECT COALESCE(encap_to_server, encap_to_client) AS e, COUNT(*),"
		/* another tunnel back: another kind, identifier (GTP-U's differ by
		 * design) or pair of outer addresses (flow.h) */
		" TOTAL(encap_to_server IS NOT NULL AND encap_to_client IS NOT NULL AND"
		"  (encap_to_server <> encap_to_client OR"
		"   (encap_to_server NOT LIKE '%gtp-u' AND"
		"    IFNULL(encap_id_to_server, -1) <> IFNULL(encap_id_to_client, -1)) OR"
		"   MIN(encap_src_to_server, encap_dst_to_server) <>"
		"    MIN(encap_src_to_client, encap_dst_to_client) OR"
		"   MAX(encap_src_to_server, encap_dst_to_server) <>"
		"    MAX(encap_src_to_client, encap_dst_to_client)))"
		" FROM connections WHERE" RUN_FILTER "AND e IS NOT NULL GROUP BY e ORDER BY 2 DESC, 1",
		run, err, errlen);
	if (!st)
		return -1;
	long long total = 0, split = 0;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(out, "%s%s %lld", n++ ? ", " : "Tunnels: ", (const char *)sqlite3_column_text(st, 0),
			(long long)sqlite3_column_int64(st, 1));
		total += sqlite3_column_int64(st, 1);
		split += (long long)sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	if (n > 0) {
		fprintf(out, " connections\n");
		if (split > 0)
			fprintf(out, "  %lld of the %lld came one way in a tunnel and back in another "
				"(each direction mirrored on its own)\n", split, total);
		fputc('\n', out);
	}
	return 0;
}

static void json_quantile(sqlite3 *db, const char *col, int64_t run, double q, FILE *out)
{
	int null;
	double v = quantile(db, col, run, q, &null);
	if (null)
		fputs("null", out);
	else
		fprintf(out, "%.17g", v);
}

static int report_json(sqlite3 *db, int version, int64_t run, FILE *out, char *err, size_t errlen)
{
	fputs("{\"runs\":", out);
	/* The columns every database has, then those later kalens added, each
	 * when the database has it (a running run whose process is gone says
	 * so: run_status, store.c). */
	bool writer = has_column(db, "runs", "writer");
	char sql[2048];
	int at = snprintf(sql, sizeof sql, "SELECT id, source, source_kind, filter, %s, message,"
			  " link_type, started_at, finished_at, first_packet, last_packet, packets,"
			  " bytes, packets_not_tcp, packets_fragment, packets_truncated,"
			  " packets_malformed, connections, kalens_version",
			  writer ? "run_status(status, writer) AS status" : "status");
	static const char *const later[] = {
		"packets_encrypted", "packets_unsupported", "fragments_reassembled",
		"fragments_dropped", "sensor", "run_uuid", "connections_evicted",
		"connections_evicted_memory", "memcap", "memory_peak", "memory_shed",
		"cpu_read_s", "cpu_store_s", "threads", "cpu_workers_s", "updated_at",
		"connections_open",
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(later) && at > 0 && (size_t)at < sizeof sql; i++)
		if (has_column(db, "runs", later[i]))
			at += snprintf(sql + at, sizeof sql - (size_t)at, ", %s", later[i]);
	if (at > 0 && (size_t)at < sizeof sql)
		snprintf(sql + at, sizeof sql - (size_t)at,
			 " FROM runs WHERE ?1 = 0 OR id = ?1 ORDER BY id");
	if (json_rows(db, sql, run, false, out, err, errlen) != 0)
		return -1;
	fputs(",\"connections\":", out);
	if (json_rows(db, "SELECT COUNT(*) AS total, COALESCE(SUM(syn_seen), 0) AS syn_seen,"
			  " COALESCE(SUM(one_sided), 0) AS one_sided,"
			  " COALESCE(SUM(close_initiator = 'client' AND close_kind = 'fin'), 0) AS client_fin,"
			  " COALESCE(SUM(close_initiator = 'client' AND close_kind = 'rst'), 0) AS client_rst,"
			  " COALESCE(SUM(close_initiator = 'server' AND close_kind = 'fin'), 0) AS server_fin,"
			  " COALESCE(SUM(close_initiator = 'server' AND close_kind = 'rst'), 0) AS server_rst,"
			  " COALESCE(SUM(close_kind = 'idle'), 0) AS idle,"
			  " COALESCE(SUM(close_kind = 'open'), 0) AS open,"
			  " COALESCE(SUM(close_kind = 'evicted'), 0) AS evicted,"
			  " COALESCE(SUM(bytes_to_server), 0) AS bytes_to_server,"
			  " COALESCE(SUM(bytes_to_client), 0) AS bytes_to_client,"
			  " COALESCE(SUM(gap_bytes), 0) AS gap_bytes,"
			  " COALESCE(SUM(retransmitted_bytes), 0) AS retransmitted_bytes"
			  " FROM connections WHERE" RUN_FILTER, run, true, out, err, errlen) != 0)
		return -1;
	if (has_column(db, "attempts", "attempts")) {
		fputs(",\"attempts\":", out);
		if (json_rows(db, ATTEMPTS_TOTAL_SQL, run, true, out, err, errlen) != 0)
			return -1;
		fputs(",\"attempts_by_server\":", out);
		if (json_rows(db, ATTEMPTS_SERVERS_SQL, run, false, out, err, errlen) != 0)
			return -1;
	}
	fputs(",\"handshake_rtt\":{\"median\":", out);
	json_quantile(db, "handshake_rtt", run, 0.5, out);
	fputs(",\"p95\":", out);
	json_quantile(db, "handshake_rtt", run, 0.95, out);
	fputc('}', out);
	if (version >= 2) {
		fputs(",\"http\":", out);
		if (json_rows(db, "SELECT COUNT(*) AS connections, COALESCE(SUM(requests), 0) AS requests,"
				  " COALESCE(SUM(responses), 0) AS responses,"
				  " COALESCE(SUM(requests > 1), 0) AS reused_connections,"
				  " MAX(requests) AS requests_per_connection_max,"
				  " AVG(requests) AS requests_per_connection_mean,"
				  " COALESCE(SUM(protocol = 'http/1.1'), 0) AS http11_connections,"
				  " COALESCE(SUM(protocol = 'http/1.0'), 0) AS http10_connections,"
				  " COALESCE(SUM(expected_persistent = 1), 0) AS expected_persistent,"
				  " COALESCE(SUM(expected_persistent = 1 AND close_initiator = 'server'), 0)"
				  "  AS persistent_closed_by_server,"
				  " COALESCE(SUM(expected_persistent = 1 AND close_initiator = 'client'), 0)"
				  "  AS persistent_closed_by_client"
				  " FROM connections WHERE" RUN_FILTER "AND requests IS NOT NULL",
			      run, true, out, err, errlen) != 0)
			return -1;
		fputs(",\"requests_per_connection\":{\"median\":", out);
		json_quantile(db, "requests", run, 0.5, out);
		fputs(",\"p95\":", out);
		json_quantile(db, "requests", run, 0.95, out);
		fputs("},\"idle_before_close\":{\"median\":", out);
		json_quantile(db, "idle_before_close", run, 0.5, out);
		fputs(",\"p95\":", out);
		json_quantile(db, "idle_before_close", run, 0.95, out);
		fputs("},\"keep_alive_advertised\":", out);
		if (json_rows(db, "SELECT ka_timeout_advertised AS timeout, MIN(ka_max_advertised) AS max_min,"
				  " MAX(ka_max_advertised) AS max_max, COUNT(*) AS connections"
				  " FROM connections WHERE" RUN_FILTER
				  "AND (ka_timeout_advertised IS NOT NULL OR ka_max_advertised IS NOT NULL)"
				  " GROUP BY 1 ORDER BY 4 DESC", run, false, out, err, errlen) != 0)
			return -1;
		fputs(",\"findings\":", out);
		if (json_rows(db, "SELECT kind, COUNT(*) AS count, COUNT(DISTINCT conn_id) AS connections,"
				  " MIN(conn_id) AS example_conn_id, finding_impact(kind) AS impact,"
				  " finding_meaning(kind) AS meaning FROM findings WHERE" RUN_FILTER
				  "GROUP BY kind ORDER BY 2 DESC", run, false, out, err, errlen) != 0)
			return -1;
		fputs(",\"reuse_saved\":", out);
		if (version < 3)
			fputs("null", out);
		else if (json_rows(db, REUSE_SAVED_SQL, run, true, out, err, errlen) != 0)
			return -1;
		if (json_missed_reuse(db, run, out, err, errlen) != 0)
			return -1;
	}
	if (version >= 3) {
		/* TLS: per server, versions and session reuse (schema 3). */
		fputs(",\"tls\":", out);
		if (json_rows(db, "SELECT server_ip, server_port, COUNT(*) AS connections,"
				  " SUM(tls_version = 'TLS 1.3') AS tls13, SUM(tls_version = 'TLS 1.2') AS tls12,"
				  " SUM(tls_resumed = 1) AS resumed, SUM(tls_resumed = 0) AS full_handshakes,"
				  " group_concat(DISTINCT alpn) AS alpn,"
				  " COALESCE(SUM(requests_estimated), 0) AS exchanges_estimated,"
				  " COALESCE(SUM(decrypted = 1), 0) AS decrypted,"
				  " COALESCE(SUM(CASE WHEN decrypted = 1 THEN requests END), 0)"
				  " AS decrypted_requests"
				  " FROM connections WHERE" RUN_FILTER "AND tls_version IS NOT NULL"
				  " GROUP BY 1, 2 ORDER BY 3 DESC", run, false, out, err, errlen) != 0)
			return -1;
		/* Who sent the first closing alert (docs/keepalive.md, "Who closed"). */
		if (has_column(db, "connections", "tls_close_by")) {
			fputs(",\"tls_closes\":", out);
			if (json_rows(db, TLS_CLOSES_SQL, run, true, out, err, errlen) != 0)
				return -1;
		}
	}
	if (version >= 4) {
		/* HTTP/2: per server, streams, multiplexing, GOAWAY (schema 4). */
		if (has_column(db, "ship_backlog", "destination")) {
			fputs(",\"shipping\":", out);
			if (json_rows(db, SHIP_SUMMARY_SQL, run, false, out, err, errlen) != 0)
				return -1;
		}
		fputs(",\"http2\":", out);
		if (json_rows(db, "SELECT server_ip, server_port, COUNT(*) AS connections,"
				  " SUM(h2_streams) AS streams, MAX(h2_peak_streams) AS peak_streams,"
				  " MAX(h2_max_concurrent_streams) AS max_concurrent_streams,"
				  " SUM(goaway_by IS 'server') AS goaway_by_server,"
				  " SUM(goaway_by IS 'client') AS goaway_by_client,"
				  " SUM(rst_streams) AS rst_streams"
				  " FROM connections WHERE" RUN_FILTER "AND h2_streams IS NOT NULL"
				  " GROUP BY 1, 2 ORDER BY 3 DESC", run, false, out, err, errlen) != 0)
			return -1;
	}
	fputs(",\"servers\":", out);
	if (json_rows(db, version < 2 ?
		      "SELECT server_ip, server_port, COUNT(*) AS connections,"
		      " SUM(close_initiator IS 'client') AS closed_by_client,"
		      " SUM(close_initiator IS 'server') AS closed_by_server,"
		      " SUM(bytes_to_server) AS bytes_to_server, SUM(bytes_to_client) AS bytes_to_client"
		      " FROM connections WHERE" RUN_FILTER "GROUP BY 1, 2 ORDER BY 3 DESC" :
		      "SELECT server_ip, server_port, COUNT(*) AS connections,"
		      " COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(requests > 1), 0) AS reused,"
		      " SUM(close_initiator IS 'client') AS closed_by_client,"
		      " SUM(close_initiator IS 'server') AS closed_by_server,"
		      " MAX(ka_timeout_advertised) AS ka_timeout_advertised,"
		      " SUM(bytes_to_server) AS bytes_to_server, SUM(bytes_to_client) AS bytes_to_client"
		      " FROM connections WHERE" RUN_FILTER "GROUP BY 1, 2 ORDER BY 3 DESC",
		      run, false, out, err, errlen) != 0)
		return -1;
	fputs(",\"clients\":", out);
	if (json_rows(db, CLIENTS_SQL(version), run, false, out, err, errlen) != 0)
		return -1;
	fputs("}\n", out);
	return 0;
}

/* SQL functions over the finding registry (findings.h), so queries can
 * rank and explain kinds: finding_impact(kind) ('failure', 'waste',
 * 'info', NULL for a kind this kalens does not know) and
 * finding_meaning(kind). */
static void sql_finding_attr(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	enum finding_kind k;
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	if (!finding_kind_lookup(name, &k)) {
		sqlite3_result_null(cx);
		return;
	}
	const struct finding_kind_info *fi = finding_kind(k);
	sqlite3_result_text(cx, sqlite3_user_data(cx) ? fi->meaning : finding_impact_name(fi->impact),
			    -1, SQLITE_STATIC);
}

static int register_finding_functions(sqlite3 *db)
{
	static int meaning_tag;
	int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
	if (sqlite3_create_function(db, "finding_impact", 1, fl, NULL, sql_finding_attr, NULL,
				    NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "finding_meaning", 1, fl, &meaning_tag, sql_finding_attr,
				    NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

int report_print(const char *db_path, int64_t run_id, enum report_format fmt, FILE *out,
		 char *err, size_t errlen)
{
	struct store_reader rd;
	if (store_reader_open(&rd, db_path, err, errlen) != 0) {
		store_reader_close(&rd);
		return -1;
	}
	sqlite3 *db = rd.db;
	int rc = -1;
	sqlite3_stmt *st = NULL;
	if (register_finding_functions(db) != 0) {
		snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: not a kalens database (%s)", db_path, sqlite3_errmsg(db));
		goto out;
	}
	int version = sqlite3_column_int(st, 0);
	if (version < 1 || version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, version ? "%s: written by a newer kalens (schema %d)"
					      : "%s: not a kalens database", db_path, version);
		goto out;
	}
	if (fmt == REPORT_HTML) {
		if (version < 3) {
			snprintf(err, errlen, "%s: schema %d predates the HTML report's views; kalens "
				 "upgrades it in place the next time it writes a run to it", db_path,
				 version);
			goto out;
		}
		rc = report_html(db, db_path, run_id, out, err, errlen);
		if (rc != 0 && !*err)
			snprintf(err, errlen, "cannot write the HTML report");
		goto out;
	}
	if (fmt == REPORT_JSON) {
		if (one_int(db, "SELECT COUNT(*) FROM runs WHERE ?1 = 0 OR id = ?1", run_id) <= 0) {
			snprintf(err, errlen, run_id ? "no run %lld in the database"
						     : "the database holds no run", (long long)run_id);
			goto out;
		}
		rc = report_json(db, version, run_id, out, err, errlen);
		goto out;
	}
	fprintf(out, "kalens report: %s\n\n", db_path);
	if (print_runs(db, run_id, version, out, err, errlen) == 0 &&
	    print_totals(db, run_id, out, err, errlen) == 0 &&
	    print_attempts(db, run_id, out, err, errlen) == 0 &&
	    (version < 6 || print_tunnels(db, run_id, out, err, errlen) == 0) &&
	    (version < 2 || print_http(db, version, run_id, out, err, errlen) == 0) &&
	    (version < 2 || print_findings(db, db_path, run_id, out, err, errlen) == 0) &&
	    (version < 3 || print_tls(db, run_id, out, err, errlen) == 0) &&
	    (version < 4 || print_h2(db, run_id, out, err, errlen) == 0) &&
	    print_servers(db, run_id, version, out, err, errlen) == 0 &&
	    print_clients(db, run_id, version, out, err, errlen) == 0 &&
	    print_shipping(db, run_id, out, err, errlen) == 0)
		rc = 0;
out:
	sqlite3_finalize(st);
	store_reader_close(&rd);
	return rc;
}
