/*
 * test_store.c - the SQLite store and `kalens sql` output: schema and
 * version checks, the run row committed before data, every connection
 * column round-tripped, batching, appending runs, run totals, the
 * conn_summary view, and sqlout in its three formats, read-only.
 *
 * Expected values are written out by hand from the inputs; the database is
 * read back through a second, independent SQLite connection.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sqlout.h"
#include "http_facts.h"
#include "store.h"
#include "testutil.h"

#define NS(sec, usec) ((kl_time)(sec) * KL_NS_PER_SEC + (kl_time)(usec) * 1000)

struct tmp {
	char *dir;
	char path[512];       /* dir/k.db */
};

static void tmp_init(struct tmp *t)
{
	t->dir = tu_tmpdir();
	cr_assert_not_null(t->dir);
	snprintf(t->path, sizeof t->path, "%s/k.db", t->dir);
}

static struct store *open_ok(const char *path)
{
	char err[512] = "";
	struct store *s = store_open(path, err, sizeof err);
	cr_assert_not_null(s, "store_open: %s", err);
	return s;
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* The first row of `sql` as text: columns joined by '|', NULL as "NULL",
 * REAL as %.6f (so microseconds show and the type is visible), "(none)"
 * when there is no row. */
static void row_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	size_t len = 0;
	buf[0] = '\0';
	int rc = sqlite3_step(st);
	cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	if (rc == SQLITE_DONE)
		snprintf(buf, n, "(none)");
	for (int i = 0; rc == SQLITE_ROW && i < sqlite3_column_count(st); i++) {
		const char *sep = i ? "|" : "";
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			len += (size_t)snprintf(buf + len, n - len, "%sNULL", sep);
			break;
		case SQLITE_INTEGER:
			len += (size_t)snprintf(buf + len, n - len, "%s%lld", sep,
						(long long)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			len += (size_t)snprintf(buf + len, n - len, "%s%.6f", sep,
						sqlite3_column_double(st, i));
			break;
		default:
			len += (size_t)snprintf(buf + len, n - len, "%s%s", sep,
						(const char *)sqlite3_column_text(st, i));
			break;
		}
		cr_assert_lt(len, n);
	}
	sqlite3_finalize(st);
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const struct store_run_info RUN_INFO = {
	.source = "/captures/a.pcap", .source_kind = "file", .filter = "tcp port 443",
	.link_type = 1, .link_type_name = "EN10MB", .started_at = NS(1700000900, 250000),
};

/* 192.0.2.10:51234 -> 198.51.100.7:443, closed by the client with a FIN. */
static struct conn_record rec4(void)
{
	struct conn_record r;
	memset(&r, 0, sizeof r);
	r.ip_version = 4;
	memcpy(r.client_ip, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	memcpy(r.server_ip, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	r.client_port = 51234;
	r.server_port = 443;
	r.first_seen = NS(1700000000, 123456);
	r.last_seen = NS(1700000002, 500000);
	r.syn_seen = true;
	r.has_handshake_rtt = true;
	r.handshake_rtt = 1500000;           /* 1.5 ms */
	r.close_initiator = CONN_CLOSER_CLIENT;
	r.close_kind = CONN_CLOSE_FIN;
	r.close_ts = NS(1700000002, 250000);
	r.packets[KL_TO_SERVER] = 7;
	r.packets[KL_TO_CLIENT] = 5;
	r.bytes[KL_TO_SERVER] = 1200;
	r.bytes[KL_TO_CLIENT] = 34000;
	r.gap_bytes = 100;
	r.retransmitted_bytes = 1460;
	r.one_sided = false;
	r.protocol = "unknown";
	return r;
}

/* [2001:db8::1]:40000 -> [2001:db8:0:1::80]:8080, mid-stream, idle. */
static struct conn_record rec6(void)
{
	struct conn_record r;
	memset(&r, 0, sizeof r);
	r.ip_version = 6;
	static const uint8_t cli[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x80 };
	memcpy(r.client_ip, cli, 16);
	memcpy(r.server_ip, srv, 16);
	r.client_port = 40000;
	r.server_port = 8080;
	r.first_seen = NS(1700000100, 1);
	r.last_seen = NS(1700001000, 999999);
	r.syn_seen = false;
	r.has_handshake_rtt = false;
	r.handshake_rtt = 777;               /* not measured: must not be stored */
	r.close_initiator = CONN_CLOSER_NONE;
	r.close_kind = CONN_CLOSE_IDLE;
	r.close_ts = NS(1700000500, 0);      /* meaningless for idle: must not be stored */
	r.packets[KL_TO_SERVER] = 3;
	r.one_sided = true;
	r.protocol = "tls";
	return r;
}

static const char CONN_COLS[] =
	"run_id, client_ip, client_port, server_ip, server_port, ip_version, first_seen,"
	" last_seen, syn_seen, handshake_rtt, close_initiator, close_kind, close_ts,"
	" packets_to_server, packets_to_client, bytes_to_server, bytes_to_client, gap_bytes,"
	" retransmitted_bytes, one_sided, protocol";

static void conn_row(sqlite3 *db, long long id, char *buf, size_t n)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT %s FROM connections WHERE id = %lld", CONN_COLS, id);
	row_text(db, sql, buf, n);
}

static struct store_run_totals totals(enum store_run_status st)
{
	struct store_run_totals t = {
		.finished_at = NS(1700000950, 500000), .packets = 1000, .bytes = 123456,
		.packets_dropped = 3, .packets_not_tcp = 4, .packets_fragment = 5,
		.packets_truncated = 6, .packets_malformed = 7, .connections = 8,
		.reasm_cap_hits = 9, .connections_evicted = 10,
		.first_packet = NS(1700000000, 1), .last_packet = NS(1700000400, 250000),
		.status = st, .message = NULL,
	};
	return t;
}

/* Every file of dir with its size, time and bytes, as one text (the
 * directory's own time is left out: SQLite may make and remove files in it). */
static char *dir_state(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cd '%s' && find . -mindepth 1 -printf '%%p %%s %%T@\\n' | sort &&"
		 " find . -type f -print0 | sort -z | xargs -0 -r md5sum", dir);
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0);
	return out;
}

/* ---- store ---- */

Test(store, schema_created_with_version_and_wal)
{
	struct tmp t;
	tmp_init(&t);
	store_close(open_ok(t.path));
	store_close(open_ok(t.path));     /* an existing kalens database opens again */

	sqlite3 *db = raw_open(t.path);
	char buf[1024];
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	row_text(db, "PRAGMA journal_mode", buf, sizeof buf);
	cr_assert_str_eq(buf, "wal");
	row_text(db, "SELECT group_concat(type || ':' || name, ',') FROM"
		 " (SELECT type, name FROM sqlite_master ORDER BY name)", buf, sizeof buf);
	cr_assert_str_eq(buf, "table:attempts,view:conn_summary,view:connection_reuse,table:connections,"
			 "index:connections_run,"
			 "index:connections_server,table:findings,index:findings_run,"
			 "view:keepalive_compliance,view:missed_reuse,view:missed_reuse_cost,table:requests,"
			 "view:reuse_summary,table:runs,view:ship_backlog,table:ship_progress,"
			 "table:ship_runs,index:sqlite_autoindex_ship_progress_1,"
			 "index:sqlite_autoindex_ship_runs_1,view:timeline,view:tls_servers");
	row_text(db, "SELECT group_concat(name, ',') FROM"
		 " (SELECT name FROM pragma_table_info('runs') ORDER BY cid)", buf, sizeof buf);
	cr_assert_str_eq(buf, "id,source,source_kind,filter,started_at,finished_at,packets,bytes,"
			 "packets_dropped,kalens_version,status,message,link_type,link_type_id,"
			 "first_packet,last_packet,packets_not_tcp,packets_fragment,"
			 "packets_truncated,packets_malformed,connections,reasm_cap_hits,"
			 "connections_evicted,requests,findings,packets_received,packets_encrypted,"
			 "packets_unsupported,fragments_reassembled,fragments_dropped,"
			 "packets_time_backwards,sensor,run_uuid,writer,memcap,memory_peak,"
			 "connections_evicted_memory,memory_shed,cpu_read_s,cpu_store_s,threads,"
			 "cpu_workers_s,updated_at,connections_open");
	row_text(db, "SELECT group_concat(name, ',') FROM"
		 " (SELECT name FROM pragma_table_info('connections') ORDER BY cid)", buf, sizeof buf);
	cr_assert_str_eq(buf, "id,run_id,client_ip,client_port,server_ip,server_port,ip_version,"
			 "first_seen,last_seen,syn_seen,handshake_rtt,close_initiator,close_kind,"
			 "close_ts,tcp_close_initiator,packets_to_server,packets_to_client,bytes_to_server,"
			 "bytes_to_client,gap_bytes,retransmitted_bytes,one_sided,protocol,stack,stored_seq,"
			 "requests,"
			      "responses,max_idle,ka_timeout_advertised,ka_max_advertised,"
			      "expected_persistent,idle_before_close,reuse_saved_s,http_client,tls_version,"
			      "sni,alpn,"
			      "cipher,tls_resumed,tls_handshake_s,tls_records_to_server,"
			      "tls_records_to_client,decrypted,requests_estimated,tls_close_by,tls_close_alert,"
		   "tls_close_ts,h2_streams,"
			      "h2_peak_streams,h2_max_concurrent_streams,h2_initial_window,goaway_by,"
			      "goaway_error,goaway_last_stream,rst_streams,ping_rtt_s,tunnel,tunnel_target,"
			 "encap_to_server,encap_id_to_server,encap_src_to_server,encap_dst_to_server,"
			 "encap_to_client,encap_id_to_client,encap_src_to_client,encap_dst_to_client");
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM runs"), 0);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, run_row_committed_before_data)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	int64_t id = store_run_begin(s, &RUN_INFO);
	cr_assert_eq(id, 1, "%s", store_errmsg(s));

	sqlite3 *db = raw_open(t.path);
	char buf[1024];
	row_text(db, "SELECT id, source, source_kind, filter, started_at, finished_at, status,"
		 " kalens_version, link_type, link_type_id, packets, message FROM runs", buf, sizeof buf);
	cr_assert_str_eq(buf, "1|/captures/a.pcap|file|tcp port 443|1700000900.250000|NULL|running|"
			 KALENS_VERSION "|EN10MB|1|NULL|NULL");

	/* A connection sits in the open batch until it is flushed. */
	struct conn_record r = rec4();
	cr_assert_eq(store_conn_add(s, &r), 0, "%s", store_errmsg(s));
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 0);
	cr_assert_eq(store_flush(s), 0, "%s", store_errmsg(s));
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 1);
	cr_assert_eq(store_flush(s), 0, "flushing with no open batch is harmless");
	cr_assert_eq(store_conn_add(s, &r), 0, "a batch reopens after a flush: %s", store_errmsg(s));

	/* Closed without run_finish (the process died): rows kept, status says so. */
	store_close(s);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 2);
	row_text(db, "SELECT status FROM runs", buf, sizeof buf);
	cr_assert_str_eq(buf, "running");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, ipv4_and_ipv6_records_round_trip)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record a = rec4(), b = rec6();
	cr_assert_eq(store_conn_add(s, &a), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_conn_add(s, &b), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0,
		     "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char buf[1024];
	conn_row(db, 1, buf, sizeof buf);
	cr_assert_str_eq(buf, "1|192.0.2.10|51234|198.51.100.7|443|4|1700000000.123456|"
			 "1700000002.500000|1|0.001500|client|fin|1700000002.250000|"
			 "7|5|1200|34000|100|1460|0|unknown");
	conn_row(db, 2, buf, sizeof buf);
	cr_assert_str_eq(buf, "1|2001:db8::1|40000|2001:db8:0:1::80|8080|6|1700000100.000001|"
			 "1700001000.999999|0|NULL|NULL|idle|NULL|3|0|0|0|0|0|1|tls");
	/* Times are REAL seconds, exact to the microsecond. */
	row_text(db, "SELECT typeof(first_seen), typeof(handshake_rtt),"
		 " abs(first_seen - 1700000000.123456) < 5e-7, abs(handshake_rtt - 0.0015) < 1e-12"
		 " FROM connections WHERE id = 1", buf, sizeof buf);
	cr_assert_str_eq(buf, "real|real|1|1");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, batches_commit_every_batch_rows)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	sqlite3 *db = raw_open(t.path);
	struct conn_record r = rec4();
	int n = 2 * STORE_BATCH_ROWS + 10;
	for (int i = 0; i < n; i++) {
		r.client_port = (uint16_t)(1024 + i);
		cr_assert_eq(store_conn_add(s, &r), 0, "row %d: %s", i, store_errmsg(s));
		if (i == STORE_BATCH_ROWS - 2)
			cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 0);
	}
	/* Two full batches committed by themselves; the last 10 wait. */
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 2 * STORE_BATCH_ROWS);
	struct store_run_totals tot = totals(STORE_RUN_COMPLETE);
	tot.connections = (uint64_t)n;
	cr_assert_eq(store_run_finish(s, &tot), 0, "%s", store_errmsg(s));
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), n);
	cr_assert_eq(query_int(db, "SELECT COUNT(DISTINCT client_port) FROM connections"), n);
	cr_assert_eq(query_int(db, "SELECT MAX(client_port) FROM connections"), 1024 + n - 1);
	store_close(s);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, second_run_appends_and_keeps_the_first)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record r = rec4();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(store_conn_add(s, &r), 0);
	struct store_run_totals tot = totals(STORE_RUN_COMPLETE);
	tot.packets = 10;
	cr_assert_eq(store_run_finish(s, &tot), 0, "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char before[1024], after[1024], buf[1024];
	row_text(db, "SELECT * FROM runs WHERE id = 1", before, sizeof before);
	sqlite3_close(db);

	s = open_ok(t.path);
	struct store_run_info info = RUN_INFO;
	info.source = "/captures/b.pcap";
	cr_assert_eq(store_run_begin(s, &info), 2, "%s", store_errmsg(s));
	struct conn_record v6 = rec6();
	cr_assert_eq(store_conn_add(s, &v6), 0);
	cr_assert_eq(store_conn_add(s, &v6), 0);
	tot.packets = 20;
	cr_assert_eq(store_run_finish(s, &tot), 0, "%s", store_errmsg(s));
	store_close(s);

	db = raw_open(t.path);
	row_text(db, "SELECT * FROM runs WHERE id = 1", after, sizeof after);
	cr_assert_str_eq(after, before);
	row_text(db, "SELECT group_concat(id || ':' || source || ':' || packets, ',') FROM runs",
		 buf, sizeof buf);
	cr_assert_str_eq(buf, "1:/captures/a.pcap:10,2:/captures/b.pcap:20");
	row_text(db, "SELECT group_concat(run_id || ':' || id || ':' || ip_version, ',') FROM"
		 " (SELECT * FROM connections ORDER BY id)", buf, sizeof buf);
	cr_assert_str_eq(buf, "1:1:4,1:2:4,1:3:4,2:4:6,2:5:6");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, refuses_other_schema_version)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open(t.path);
	raw_exec(db, "CREATE TABLE runs (x); PRAGMA user_version = 7");
	sqlite3_close(db);

	char err[512] = "", want[600];
	cr_assert_null(store_open(t.path, err, sizeof err));
	snprintf(want, sizeof want, "%s: schema version 7, this kalens writes %d", t.path,
		 STORE_SCHEMA_VERSION);
	cr_assert_str_eq(err, want);

	/* Untouched: same version, still in its rollback journal mode. */
	db = raw_open(t.path);
	char buf[64];
	cr_assert_eq(query_int(db, "PRAGMA user_version"), 7);
	row_text(db, "PRAGMA journal_mode", buf, sizeof buf);
	cr_assert_str_eq(buf, "delete");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, refuses_a_file_that_is_not_sqlite)
{
	struct tmp t;
	tmp_init(&t);
	char text[2000];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = "this is a text file\n"[i % 20];
	FILE *f = fopen(t.path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, sizeof text, f), sizeof text);
	fclose(f);

	char err[512] = "", want[600];
	cr_assert_null(store_open(t.path, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a kalens database (file is not a database)", t.path);
	cr_assert_str_eq(err, want);

	char back[sizeof text + 1];
	f = fopen(t.path, "rb");
	cr_assert_not_null(f);
	cr_assert_eq(fread(back, 1, sizeof back, f), sizeof text, "file size unchanged");
	fclose(f);
	cr_assert(memcmp(back, text, sizeof text) == 0, "file content unchanged");
	char wal[600];
	struct stat sb;
	snprintf(wal, sizeof wal, "%s-wal", t.path);
	cr_assert_neq(stat(wal, &sb), 0, "no WAL file was created");
	tu_rmtree(t.dir);
}

Test(store, refuses_a_database_of_another_program)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open(t.path);
	raw_exec(db, "CREATE TABLE notes (body TEXT)");
	sqlite3_close(db);

	/* Refused before anything is written: the file stays byte for byte
	 * as it was (its journal mode is not switched to WAL), and no -wal,
	 * -shm or -journal is left beside it. */
	char *before = dir_state(t.dir);
	char err[512] = "", want[600];
	cr_assert_null(store_open(t.path, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a kalens database (it holds other tables and no"
		 " kalens schema version)", t.path);
	cr_assert_str_eq(err, want);
	char *after = dir_state(t.dir);
	cr_assert_str_eq(after, before, "the other program's database changed");
	free(before);
	free(after);
	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master"), 1);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* The same for a database in WAL mode, and for one that sets a
 * user_version of its own (kalens would have "upgraded" it). */
Test(store, leaves_a_wal_database_of_another_program_as_it_was)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open(t.path);
	raw_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT);"
		 " INSERT INTO notes VALUES ('x'); PRAGMA user_version = 3");
	sqlite3_close(db);
	char *before = dir_state(t.dir);
	char err[512] = "", want[600];
	cr_assert_null(store_open(t.path, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a kalens database (user_version 3 but no runs table)",
		 t.path);
	cr_assert_str_eq(err, want);
	char *after = dir_state(t.dir);
	cr_assert_str_eq(after, before, "the other program's database changed");
	free(before);
	free(after);
	tu_rmtree(t.dir);
}

Test(store, empty_file_becomes_a_database)
{
	struct tmp t;
	tmp_init(&t);
	FILE *f = fopen(t.path, "wb");
	cr_assert_not_null(f);
	fclose(f);
	store_close(open_ok(t.path));
	sqlite3 *db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, missing_directory_is_an_error_naming_the_file)
{
	char err[512] = "";
	cr_assert_null(store_open("/nonexistent-kalens-dir/x.db", err, sizeof err));
	cr_assert(strncmp(err, "/nonexistent-kalens-dir/x.db: ", 30) == 0, "%s", err);
}

Test(store, run_finish_writes_totals_and_each_status)
{
	static const char *const names[] = { "running", "complete", "truncated", "interrupted", "error" };
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(store_run_begin(s, &RUN_INFO), i + 1, "%s", store_errmsg(s));
		struct store_run_totals tot = totals((enum store_run_status)i);
		tot.message = i == STORE_RUN_ERROR ? "read error: Input/output error" : NULL;
		cr_assert_eq(store_run_finish(s, &tot), 0, "%s", store_errmsg(s));
	}
	/* No packet at all: the capture span is NULL, not the epoch. */
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 6);
	struct store_run_totals none = { .finished_at = NS(1700000901, 0), .status = STORE_RUN_COMPLETE };
	cr_assert_eq(store_run_finish(s, &none), 0, "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char buf[1024], sql[256];
	row_text(db, "SELECT finished_at, packets, bytes, packets_dropped, first_packet, last_packet,"
		 " packets_not_tcp, packets_fragment, packets_truncated, packets_malformed,"
		 " connections, reasm_cap_hits, connections_evicted, message FROM runs WHERE id = 1",
		 buf, sizeof buf);
	cr_assert_str_eq(buf, "1700000950.500000|1000|123456|3|1700000000.000001|1700000400.250000|"
			 "4|5|6|7|8|9|10|NULL");
	for (int i = 0; i < 5; i++) {
		snprintf(sql, sizeof sql, "SELECT status FROM runs WHERE id = %d", i + 1);
		row_text(db, sql, buf, sizeof buf);
		cr_assert_str_eq(buf, names[i]);
	}
	row_text(db, "SELECT message FROM runs WHERE id = 5", buf, sizeof buf);
	cr_assert_str_eq(buf, "read error: Input/output error");
	row_text(db, "SELECT first_packet, last_packet, packets, status FROM runs WHERE id = 6",
		 buf, sizeof buf);
	cr_assert_str_eq(buf, "NULL|NULL|0|complete");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, bad_input_is_refused_with_a_message)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	struct conn_record r = rec4();
	cr_assert_eq(store_conn_add(s, &r), -1);
	cr_assert_str_eq(store_errmsg(s), "insert connection: no run begun");
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), -1);
	cr_assert_str_eq(store_errmsg(s), "finish run: no run begun");

	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	r.ip_version = 5;
	cr_assert_eq(store_conn_add(s, &r), -1);
	cr_assert_str_eq(store_errmsg(s), "insert connection: ip_version 5 is not 4 or 6");
	r = rec4();
	r.close_kind = (enum conn_close_kind)9;
	cr_assert_eq(store_conn_add(s, &r), -1);
	cr_assert_str_eq(store_errmsg(s), "insert connection: close_kind 9 out of range");
	struct store_run_info bad = RUN_INFO;
	bad.source_kind = "pipe";
	cr_assert_eq(store_run_begin(s, &bad), -1);
	cr_assert(strncmp(store_errmsg(s), "insert run: CHECK constraint failed", 35) == 0, "%s",
		  store_errmsg(s));

	/* The store goes on after refusals. */
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 2, "%s", store_errmsg(s));
	r = rec4();
	cr_assert_eq(store_conn_add(s, &r), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0);
	store_close(s);
	sqlite3 *db = raw_open(t.path);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections WHERE run_id = 2"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections"), 1);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, conn_summary_view)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record a = rec4();          /* client fin, syn, 1200/34000, gap 100 */
	struct conn_record b = rec4();          /* server rst, syn */
	b.close_initiator = CONN_CLOSER_SERVER;
	b.close_kind = CONN_CLOSE_RST;
	b.bytes[KL_TO_SERVER] = 1;
	b.bytes[KL_TO_CLIENT] = 2;
	b.gap_bytes = 3;
	struct conn_record c = rec6();          /* idle, no syn, 0 bytes */
	struct conn_record d = rec6();          /* open, no syn */
	d.close_kind = CONN_CLOSE_OPEN;
	d.bytes[KL_TO_SERVER] = 10;
	/* Counts differ per category (fin 2, rst 1, idle 1, open 2) so a view
	 * that mixes two of them up gives other numbers. */
	const struct conn_record *all[] = { &a, &b, &c, &d, &a, &d };
	for (size_t i = 0; i < KL_ARRAY_LEN(all); i++)
		cr_assert_eq(store_conn_add(s, all[i]), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 2);  /* a run without connections */
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0);
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char buf[512];
	row_text(db, "SELECT group_concat(name, ',') FROM"
		 " (SELECT name FROM pragma_table_info('conn_summary') ORDER BY cid)", buf, sizeof buf);
	cr_assert_str_eq(buf, "run_id,connections,syn_seen,closed_by_client,closed_by_server,rst,"
			 "idle,open,bytes_to_server,bytes_to_client,gap_bytes");
	row_text(db, "SELECT * FROM conn_summary WHERE run_id = 1", buf, sizeof buf);
	cr_assert_str_eq(buf, "1|6|3|2|1|1|1|2|2421|68002|203");
	row_text(db, "SELECT * FROM conn_summary WHERE run_id = 2", buf, sizeof buf);
	cr_assert_str_eq(buf, "2|0|0|0|0|0|0|0|0|0|0");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* ---- sqlout ---- */

static int sql_capture_flags(const char *db, const char *sql, enum sqlout_format f,
			     unsigned flags, char **out, char *err, size_t errlen)
{
	size_t n = 0;
	FILE *m = open_memstream(out, &n);
	cr_assert_not_null(m);
	err[0] = '\0';
	int rc = sqlout_run(db, sql, f, flags, m, err, errlen);
	fclose(m);
	return rc;
}

static int sql_capture(const char *db, const char *sql, enum sqlout_format f, char **out,
		       char *err, size_t errlen)
{
	return sql_capture_flags(db, sql, f, 0, out, err, errlen);
}

/* t(id, name, score): every kind of value the formats treat differently. */
static void make_sample(const char *path)
{
	sqlite3 *db = raw_open(path);
	raw_exec(db, "CREATE TABLE t (id INTEGER, name TEXT, score REAL)");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3)", -1, &st, NULL), SQLITE_OK);
	static const struct { int id; const char *name; double score; bool null_score; } rows[] = {
		{ 1, "alpha", 0.5, false },
		{ 3, NULL, 1700000000.123456, false },
		{ 4, "t\tab\\", 2.0, false },
		{ 5, "", -1, false },
		{ 22, "b,\"c\"\nd", 0, true },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		sqlite3_bind_int(st, 1, rows[i].id);
		if (rows[i].name)
			sqlite3_bind_text(st, 2, rows[i].name, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		if (rows[i].null_score)
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_double(st, 3, rows[i].score);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

Test(sqlout, table_aligns_numbers_right_and_text_left)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "SELECT id, name, score FROM t WHERE id IN (1, 3) ORDER BY id",
				 SQLOUT_TABLE, &out, err, sizeof err), 0, "%s", err);
	/* widths: id 2 (header), name 5 ("alpha"), score 17; NULL is blank */
	cr_assert_str_eq(out,
		"id  name               score\n"
		"--  -----  -----------------\n"
		" 1  alpha                0.5\n"
		" 3         1700000000.123456\n");
	free(out);

	cr_assert_eq(sql_capture(t.path, "SELECT 1 AS a; ; -- nothing\n SELECT 'x' || char(10) || 'y' AS b;",
				 SQLOUT_TABLE, &out, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out, "a\n-\n1\n\nb\n----\nx\\ny\n");
	free(out);

	/* No line ends in blanks, even when its last value is NULL or empty. */
	cr_assert_eq(sql_capture(t.path, "SELECT 1 AS a, NULL AS bb UNION ALL SELECT 22, ''",
				 SQLOUT_TABLE, &out, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out, " a  bb\n--  --\n 1\n22\n");
	free(out);

	/* A statement with columns but no rows still shows its header. */
	cr_assert_eq(sql_capture(t.path, "SELECT name AS nm FROM t WHERE 0", SQLOUT_TABLE, &out, err,
				 sizeof err), 0);
	cr_assert_str_eq(out, "nm\n--\n");
	free(out);
	tu_rmtree(t.dir);
}

/* SQLOUT_LOCALTIME: the stored capture times (declared "s, epoch") print
 * as local time, in any format and through a view or an alias; durations,
 * other numbers and expressions over times stay numbers.  1700000000 is
 * 2023-11-14 22:13:20 UTC (date -u -d @1700000000); under TZ=Asia/Tokyo
 * (UTC+9, no DST) it is 2023-11-15 07:13:20. */
Test(sqlout, localtime_prints_stored_capture_times_readably)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record a = rec4();
	cr_assert_eq(store_conn_add(s, &a), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0,
		     "%s", store_errmsg(s));
	store_close(s);
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	static const struct {
		const char *tz, *first, *close;
	} zones[] = {
		{ "UTC", "2023-11-14 22:13:20.123456", "2023-11-14 22:13:22.250000" },
		{ "Asia/Tokyo", "2023-11-15 07:13:20.123456", "2023-11-15 07:13:22.250000" },
	};
	for (size_t z = 0; z < KL_ARRAY_LEN(zones); z++) {
		setenv("TZ", zones[z].tz, 1);
		tzset();
		char err[512], *out = NULL, want[512];
		cr_assert_eq(sql_capture_flags(t.path,
			"SELECT first_seen, close_ts AS closed, handshake_rtt, client_port,"
			" round(last_seen - first_seen, 6) AS span, MIN(first_seen) AS earliest FROM connections",
			SQLOUT_CSV, SQLOUT_LOCALTIME, &out, err, sizeof err), 0, "%s", err);
		snprintf(want, sizeof want, "first_seen,closed,handshake_rtt,client_port,span,earliest\n"
			 "%s,%s,0.0015,51234,2.376544,1700000000.123456\n", zones[z].first, zones[z].close);
		cr_expect_str_eq(out, want);
		free(out);
		/* Without the flag: epoch seconds, as before. */
		cr_assert_eq(sql_capture(t.path, "SELECT first_seen FROM connections", SQLOUT_CSV, &out,
					 err, sizeof err), 0, "%s", err);
		cr_expect_str_eq(out, "first_seen\n1700000000.123456\n");
		free(out);
	}
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	tu_rmtree(t.dir);
}

Test(sqlout, table_beyond_one_buffer_chunk)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1"
				 " FROM c WHERE x < 10005) SELECT x FROM c", SQLOUT_TABLE, &out, err,
				 sizeof err), 0, "%s", err);
	size_t lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2 + 10005);
	cr_assert(strncmp(out, "    x\n-----\n    1\n    2\n", 24) == 0, "%.40s", out);
	size_t n = strlen(out);
	cr_assert_str_eq(out + n - 12, "10004\n10005\n");
	free(out);
	tu_rmtree(t.dir);
}

Test(sqlout, csv_quotes_per_rfc4180)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "SELECT * FROM t ORDER BY id", SQLOUT_CSV, &out, err,
				 sizeof err), 0, "%s", err);
	cr_assert_str_eq(out,
		"id,name,score\n"
		"1,alpha,0.5\n"
		"3,,1700000000.123456\n"
		"4,t\tab\\,2.0\n"
		"5,\"\",-1.0\n"
		"22,\"b,\"\"c\"\"\nd\",\n");
	free(out);

	cr_assert_eq(sql_capture(t.path, "SELECT 'a,b' AS \"x,y\", X'00ff' AS blob, 1e-7 AS tiny",
				 SQLOUT_CSV, &out, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out, "\"x,y\",blob,tiny\n\"a,b\",X'00FF',1.0e-07\n");
	free(out);
	tu_rmtree(t.dir);
}

Test(sqlout, tsv_escapes_tabs_newlines_and_backslashes)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "SELECT * FROM t ORDER BY id", SQLOUT_TSV, &out, err,
				 sizeof err), 0, "%s", err);
	cr_assert_str_eq(out,
		"id\tname\tscore\n"
		"1\talpha\t0.5\n"
		"3\t\t1700000000.123456\n"
		"4\tt\\tab\\\\\t2.0\n"
		"5\t\t-1.0\n"
		"22\tb,\"c\"\\nd\t\n");
	free(out);
	tu_rmtree(t.dir);
}

Test(sqlout, errors_and_missing_database)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "SELECT * FROM nope", SQLOUT_CSV, &out, err, sizeof err), 1);
	cr_assert_str_eq(err, "SQL error: no such table: nope");
	free(out);

	/* The statements before the failing one have printed. */
	cr_assert_eq(sql_capture(t.path, "SELECT 7 AS n; SELEC 1", SQLOUT_CSV, &out, err, sizeof err), 1);
	cr_assert_str_eq(out, "n\n7\n");
	cr_assert_str_eq(err, "SQL error: near \"SELEC\": syntax error");
	free(out);

	char missing[600], want[700];
	snprintf(missing, sizeof missing, "%s/missing.db", t.dir);
	cr_assert_eq(sql_capture(missing, "SELECT 1", SQLOUT_TABLE, &out, err, sizeof err), 2);
	snprintf(want, sizeof want, "%s: cannot open database (unable to open database file)", missing);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(out, "");
	free(out);
	struct stat sb;
	cr_assert_neq(stat(missing, &sb), 0, "a missing database is not created");

	char notdb[600];
	snprintf(notdb, sizeof notdb, "%s/notes.txt", t.dir);
	FILE *f = fopen(notdb, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 100; i++)
		fputs("just some text\n", f);
	fclose(f);
	cr_assert_eq(sql_capture(notdb, "SELECT 1", SQLOUT_TABLE, &out, err, sizeof err), 2);
	snprintf(want, sizeof want, "%s: cannot read database (file is not a database)", notdb);
	cr_assert_str_eq(err, want);
	free(out);
	tu_rmtree(t.dir);
}

/* Nothing that writes runs: not to the database (it is opened read-only
 * anyway), not to a new file (VACUUM INTO, ATTACH), not to the file's
 * settings (PRAGMAs), not to a temporary table.  Each is refused with a
 * message naming it, exit status 1, and the directory is as it was. */
Test(sqlout, refuses_writes)
{
	struct tmp t;
	tmp_init(&t);
	make_sample(t.path);
	char *before = dir_state(t.dir);
	char vac[700], att[700];
	snprintf(vac, sizeof vac, "VACUUM INTO '%s/copy.db'", t.dir);
	snprintf(att, sizeof att, "ATTACH '%s/new.db' AS n", t.dir);
	const char *const writes[] = {
		"INSERT INTO t VALUES (9, 'z', 1.0)",
		"UPDATE t SET name = 'q'",
		"DELETE FROM t",
		"CREATE TABLE u (a)",
		"PRAGMA user_version = 5",
		"PRAGMA journal_mode = WAL",
		"PRAGMA wal_checkpoint",
		"CREATE TEMP TABLE x (a)",
		"VACUUM",
		vac,
	};
	char err[512], want[800], *out = NULL;
	for (size_t i = 0; i < KL_ARRAY_LEN(writes); i++) {
		cr_assert_eq(sql_capture(t.path, writes[i], SQLOUT_CSV, &out, err, sizeof err), 1,
			     "%s", writes[i]);
		snprintf(want, sizeof want, "refused: '%s' would write; kalens sql only reads",
			 writes[i]);
		cr_assert_str_eq(err, want, "%s", writes[i]);
		free(out);
	}
	/* After a statement that reads, and on a later line. */
	cr_assert_eq(sql_capture(t.path, "SELECT 1;\n  DELETE FROM t; SELECT 2", SQLOUT_CSV, &out,
				 err, sizeof err), 1);
	cr_assert_str_eq(out, "1\n1\n");
	cr_assert_str_eq(err, "refused: 'DELETE FROM t;' would write; kalens sql only reads");
	free(out);
	const char *const attach[] = { att, "DETACH n" };
	for (size_t i = 0; i < KL_ARRAY_LEN(attach); i++) {
		cr_assert_eq(sql_capture(t.path, attach[i], SQLOUT_CSV, &out, err, sizeof err), 1);
		cr_assert_str_eq(err, "ATTACH and DETACH are refused: kalens sql reads only the "
				 "database it is given", "%s", attach[i]);
		free(out);
	}
	char *after = dir_state(t.dir);
	cr_assert_str_eq(after, before, "the directory changed");
	free(before);
	free(after);
	sqlite3 *db = raw_open(t.path);
	char buf[256];
	row_text(db, "SELECT COUNT(*), SUM(name = 'q'), (SELECT user_version FROM pragma_user_version)"
		 " FROM t", buf, sizeof buf);
	cr_assert_str_eq(buf, "5|0|0");
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master"), 1);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(sqlout, reads_a_store_while_it_is_written)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record r = rec4();
	cr_assert_eq(store_conn_add(s, &r), 0);
	cr_assert_eq(store_flush(s), 0);
	r = rec6();
	cr_assert_eq(store_conn_add(s, &r), 0);   /* in the open batch: not visible */

	char err[512], *out = NULL;
	cr_assert_eq(sql_capture(t.path, "SELECT client_ip, server_port, handshake_rtt FROM connections",
				 SQLOUT_CSV, &out, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out, "client_ip,server_port,handshake_rtt\n192.0.2.10,443,0.0015\n");
	free(out);

	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE }), 0);
	store_close(s);
	cr_assert_eq(sql_capture(t.path, "SELECT run_id, connections, open, idle FROM conn_summary",
				 SQLOUT_TSV, &out, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(out, "run_id\tconnections\topen\tidle\n1\t2\t0\t1\n");
	free(out);
	tu_rmtree(t.dir);
}

/* ---- schema version 2: requests, findings, upgrade of version 1 ----------- */

static char *slurp_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* A database at `path` made by an older kalens: its schema from `fixture`. */
static sqlite3 *raw_open_fixture(const char *path, const char *fixture)
{
	sqlite3 *db = raw_open(path);
	char *sql = slurp_text(tu_src_path(fixture));
	raw_exec(db, sql);
	free(sql);
	return db;
}

Test(store, version_1_database_is_upgraded_in_place)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open_fixture(t.path, "tests/fixtures/schema-v1.sql");
	raw_exec(db, "INSERT INTO runs (id, source, source_kind, started_at, kalens_version, status)"
		     " VALUES (1, 'old.pcap', 'file', 1.5, '0.1.0', 'complete');"
		     "INSERT INTO connections (id, run_id, client_ip, client_port, server_ip,"
		     " server_port, ip_version, first_seen, last_seen, syn_seen, close_kind, protocol)"
		     " VALUES (1, 1, '10.0.0.1', 40000, '10.0.0.2', 80, 4, 1.0, 2.0, 1, 'fin', 'unknown')");
	sqlite3_close(db);

	struct store *s = open_ok(t.path);
	int64_t run = store_run_begin(s, &RUN_INFO);
	cr_assert_eq(run, 2);
	/* Numbering continues after the old run's connections. */
	cr_assert_eq(store_conn_next_id(s), 2);
	store_close(s);

	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM runs WHERE id = 1 AND packets_received IS NULL"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM connections WHERE id = 1 AND client_port = 40000"
				   " AND requests IS NULL AND ka_timeout_advertised IS NULL"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM requests"), 0);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM findings"), 0);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, version_2_database_is_upgraded_in_place)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open_fixture(t.path, "tests/fixtures/schema-v2.sql");
	raw_exec(db, "INSERT INTO runs (id, source, source_kind, started_at, kalens_version, status,"
		     " packets_dropped) VALUES (1, 'eth0', 'live', 1.5, '0.1.0', 'complete', 7);"
		     "INSERT INTO requests (conn_id, run_id, seq, method, pipelined)"
		     " VALUES (1, 1, 1, 'GET', 0)");
	sqlite3_close(db);

	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 2);
	store_close(s);

	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM runs WHERE id = 1 AND packets_dropped = 7"
				   " AND packets_received IS NULL"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM pragma_table_info('connections') WHERE name = 'reuse_saved_s'"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM requests WHERE method = 'GET'"), 1);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* A version 3 database (TLS, before HTTP/2) gains the HTTP/2 columns; its
 * rows stay. */
Test(store, version_3_database_is_upgraded_in_place)
{
	struct tmp t;
	tmp_init(&t);
	sqlite3 *db = raw_open_fixture(t.path, "tests/fixtures/schema-v3.sql");
	raw_exec(db, "INSERT INTO runs (id, source, source_kind, started_at, kalens_version, status)"
		     " VALUES (1, 'a.pcap', 'file', 1.5, '0.1.0', 'complete');"
		     "INSERT INTO requests (conn_id, run_id, seq, method, pipelined)"
		     " VALUES (1, 1, 1, 'GET', 0)");
	sqlite3_close(db);

	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 2);
	store_close(s);

	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM requests WHERE method = 'GET'"
				   " AND stream_id IS NULL"), 1);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM pragma_table_info('connections')"
				   " WHERE name IN ('h2_streams', 'goaway_by', 'ping_rtt_s')"), 3);
	/* the view is made again with its HTTP/2 columns */
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM pragma_table_info('keepalive_compliance')"
				   " WHERE name = 'h2_goaway_by_server'"), 1);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* Every row of `table` (its columns as the database made by the previous
 * release has them, in id order), one line each, into a malloc'd string. */
static char *dump_table(sqlite3 *db, const char *table, const char *where)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s ORDER BY id", table, where);
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	cr_assert(out);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			size_t need = strlen(sqlite3_column_name(st, i)) + (v ? strlen(v) : 4) + 4;
			while (len + need >= cap)
				cr_assert((out = realloc(out, cap *= 2)));
			len += (size_t)snprintf(out + len, cap - len, "%s=%s%c", sqlite3_column_name(st, i),
						v ? v : "NULL", i + 1 < sqlite3_column_count(st) ? '|' : '\n');
		}
	}
	sqlite3_finalize(st);
	return out;
}

/* A copy of tests/fixtures/schema-v4.db at t->path. */
static void copy_schema_v4(const struct tmp *t)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", tu_src_path("tests/fixtures/schema-v4.db"), t->path);
	cr_assert_eq(system(cmd), 0);
}

/* `kalens read -q OPTIONS -o DB CAPTURE` (a path under the source tree),
 * asserted to succeed. */
static void kalens_read_into(const char *db, const char *options, const char *capture)
{
	char cmd[2048];
	int st;
	snprintf(cmd, sizeof cmd, "'%s' read -q %s -o '%s' '%s'", KALENS_BINARY, options, db,
		 tu_src_path(capture));
	free(tu_run(cmd, &st));
	cr_assert_eq(st, 0, "%s", cmd);
}

/* tests/fixtures/schema-v4.db was written by the release before the
 * declared columns (commit e6a65f1): five runs (HTTP/1, h2c, HTTP/2,
 * a browser capture, TLS 1.2 decrypted).  Reading a capture into it
 * upgrades it in place and leaves every earlier row as it was. */
Test(store, database_of_the_previous_release_upgrades_with_its_rows_intact)
{
	struct tmp t;
	tmp_init(&t);
	copy_schema_v4(&t);
	static const char *const tables[] = { "runs", "connections", "requests", "findings" };
	char *before[4];
	sqlite3 *db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), 4);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM runs"), 5);
	for (int i = 0; i < 4; i++)
		before[i] = dump_table(db, tables[i], "1");
	sqlite3_close(db);

	kalens_read_into(t.path, "", "captures/generated/nginx-idle-timeout.pcap");

	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM runs WHERE id = 6 AND status = 'complete'"), 1);
	static const char *const old_rows[] = { "id <= 5", "run_id <= 5", "run_id <= 5", "run_id <= 5" };
	for (int i = 0; i < 4; i++) {
		/* The columns the old database had, by name, as they were. */
		char *now = dump_table(db, tables[i], old_rows[i]);
		size_t n = strlen(before[i]);
		cr_expect(strlen(now) >= n, "%s: rows lost", tables[i]);
		/* New columns come after the old ones in every row: compare each
		 * row's old prefix. */
		char *b = before[i], *a = now;
		while (*b) {
			char *be = strchr(b, '\n');
			size_t bl = (size_t)(be - b);
			cr_assert(strncmp(a, b, bl) == 0 && (a[bl] == '\n' || a[bl] == '|'),
				  "%s: row changed:\n was %.*s\n now %.200s", tables[i], (int)bl, b, a);
			a = strchr(a, '\n') + 1;
			b = be + 1;
		}
		cr_expect_eq(*a, '\0', "%s: rows added to old runs", tables[i]);
		free(now);
		free(before[i]);
	}
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM keepalive_compliance WHERE run_id = 6"), 1);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM keepalive_compliance WHERE run_id <= 5"),
		     query_int(db, "SELECT COUNT(DISTINCT run_id || server_ip || server_port)"
				   " FROM connections WHERE requests IS NOT NULL AND run_id <= 5"));
	char ok[64];
	row_text(db, "PRAGMA integrity_check", ok, sizeof ok);
	cr_expect_str_eq(ok, "ok");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* A word declared after a database was made (close_kind 'evicted') is not
 * in that database's CHECK, which SQLite cannot change: the writer does not
 * enforce CHECKs there, and the row is stored. */
Test(store, a_word_newer_than_the_database_is_stored)
{
	struct tmp t;
	tmp_init(&t);
	copy_schema_v4(&t);
	sqlite3 *db = raw_open(t.path);
	char sql[4096];
	row_text(db, "SELECT sql FROM sqlite_master WHERE name = 'connections'", sql, sizeof sql);
	cr_assert(strstr(sql, "close_kind = 'idle'") && !strstr(sql, "'evicted'"));
	sqlite3_close(db);
	/* attempts/unanswered, one connection tracked at a time: the two
	 * listeners' own connections, which never close (tshark: no FIN or
	 * RST in those streams, tests/expected/attempts), are each evicted
	 * open by the connection after them. */
	kalens_read_into(t.path, "--max-conns 1", "captures/generated/attempts/unanswered.pcap");
	db = raw_open(t.path);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM connections WHERE run_id = 6"), 4);
	cr_expect_eq(query_int(db, "SELECT COUNT(*) FROM connections WHERE run_id = 6 AND"
			       " close_kind = 'evicted' AND packets_to_server = 2"), 2);
	/* Every SYN tshark counts is in `attempts` (with one connection
	 * tracked, a retransmission after another client's SYN begins anew). */
	cr_expect_eq(query_int(db, "SELECT SUM(syn_packets) FROM attempts WHERE run_id = 6"), 9);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* A duration (unit s) that comes out negative because capture time went
 * backwards is stored as NULL; an epoch time keeps its value, and so does
 * a duration of zero. */
Test(store, negative_durations_are_stored_as_null)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct conn_record a = rec4(), b = rec4();
	a.handshake_rtt = -1500000;          /* the ACK stamped 1.5 ms before the SYN */
	b.handshake_rtt = 0;
	int64_t cid = store_conn_next_id(s);
	a.id = cid;
	b.id = store_conn_next_id(s);
	cr_assert_eq(store_conn_add(s, &a), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_conn_add(s, &b), 0, "%s", store_errmsg(s));
	struct request_record r;
	memset(&r, 0, sizeof r);
	r.conn_id = cid;
	r.seq = 2;
	r.request_ts = NS(1700000001, 0);
	r.request_body_bytes = r.response_body_bytes = -1;
	r.has_idle_before = true;
	r.idle_before = -2500000;
	cr_assert_eq(store_request_add(s, &r), 0, "%s", store_errmsg(s));
	struct store_run_totals tt = totals(STORE_RUN_COMPLETE);
	tt.packets_time_backwards = 2;
	cr_assert_eq(store_run_finish(s, &tt), 0, "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char buf[512];
	row_text(db, "SELECT group_concat(IFNULL(handshake_rtt, 'NULL'), ',') FROM"
		 " (SELECT handshake_rtt FROM connections ORDER BY id)", buf, sizeof buf);
	cr_assert_str_eq(buf, "NULL,0.0");
	row_text(db, "SELECT idle_before, request_ts FROM requests", buf, sizeof buf);
	cr_assert_str_eq(buf, "NULL|1700000001.000000");
	row_text(db, "SELECT packets_time_backwards FROM runs", buf, sizeof buf);
	cr_assert_str_eq(buf, "2");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

/* A database of the current schema version written before a column was
 * declared (the column list grew without a version bump) gets the column
 * when kalens opens it, and a run can be written to it. */
Test(store, current_version_database_gets_a_new_column)
{
	struct tmp t;
	tmp_init(&t);
	store_close(open_ok(t.path));
	sqlite3 *db = raw_open(t.path);
	raw_exec(db, "ALTER TABLE runs DROP COLUMN packets_time_backwards");
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM pragma_table_info('runs')"
			       " WHERE name = 'packets_time_backwards'"), 0);
	cr_assert_eq(query_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	sqlite3_close(db);

	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1, "%s", store_errmsg(s));
	cr_assert_eq(store_run_finish(s, &(struct store_run_totals){ .status = STORE_RUN_COMPLETE,
				      .packets_time_backwards = 4 }), 0, "%s", store_errmsg(s));
	store_close(s);
	db = raw_open(t.path);
	cr_assert_eq(query_int(db, "SELECT packets_time_backwards FROM runs"), 4);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, requests_and_findings_round_trip)
{
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	int64_t cid = store_conn_next_id(s);
	cr_assert_eq(cid, 1);

	struct request_record r;
	memset(&r, 0, sizeof r);
	r.conn_id = cid;
	r.seq = 2;
	r.method = "GET";
	r.uri = "/a?b=c";
	r.host = "example.org";
	r.version = "HTTP/1.0";
	r.status = 200;
	r.interim = 1;
	r.request_ts = NS(1700000001, 0);
	r.request_end_ts = NS(1700000001, 500);
	r.response_ts = NS(1700000001, 250000);
	r.response_end_ts = 0;
	r.req_connection = "keep-alive";
	r.resp_keep_alive = "timeout=5, max=100";
	r.request_body_bytes = 0;
	r.response_body_bytes = -1;
	r.pipelined = true;
	r.has_idle_before = true;
	r.idle_before = 2500000;             /* 2.5 ms */
	cr_assert_eq(store_request_add(s, &r), 0, "%s", store_errmsg(s));

	struct finding_record f = { cid, 2, NS(1700000003, 0), FINDING_REASSEMBLY_GAP, "100 bytes" };
	cr_assert_eq(store_finding_add(s, &f), 0, "%s", store_errmsg(s));

	struct conn_record c = rec4();
	c.id = cid;
	struct http_facts h;
	memset(&h, 0, sizeof h);
	http_facts_section.init(&h);
	h.requests = 2;
	h.responses = 1;
	h.ka_timeout_advertised = 5;
	h.expected_persistent = 1;
	c.facts[FACTS_HTTP] = &h;
	cr_assert_eq(store_conn_add(s, &c), 0, "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	char buf[1024];
	row_text(db, "SELECT conn_id, run_id, seq, method, uri, host, version, status,"
		     " interim_responses, request_ts, request_end_ts, response_ts,"
		     " IFNULL(response_end_ts, 'null'), req_connection, IFNULL(req_keep_alive, 'null'),"
		     " IFNULL(resp_connection, 'null'), resp_keep_alive, request_body_bytes,"
		     " IFNULL(response_body_bytes, 'null'), pipelined, idle_before FROM requests",
		 buf, sizeof buf);
	/* row_text prints REALs with six decimals. */
	cr_assert_str_eq(buf, "1|1|2|GET|/a?b=c|example.org|HTTP/1.0|200|1|1700000001.000000|"
			      "1700000001.000500|1700000001.250000|null|keep-alive|null|null|"
			      "timeout=5, max=100|0|null|1|0.002500");
	row_text(db, "SELECT run_id, conn_id, request_seq, ts, kind, detail FROM findings", buf, sizeof buf);
	cr_assert_str_eq(buf, "1|1|2|1700000003.000000|reassembly-gap|100 bytes");
	row_text(db, "SELECT id, requests, responses, IFNULL(max_idle, 'null'), ka_timeout_advertised,"
		     " IFNULL(ka_max_advertised, 'null'), expected_persistent,"
		     " IFNULL(idle_before_close, 'null') FROM connections", buf, sizeof buf);
	cr_assert_str_eq(buf, "1|2|1|null|5|null|1|null");
	sqlite3_close(db);
	tu_rmtree(t.dir);
}

Test(store, requests_in_bulk_keep_order_and_values)
{
	/* 70 requests in one call: two multi-row statements and 6 single rows
	 * must store the same rows, in order, as 70 single calls would. */
	struct tmp t;
	tmp_init(&t);
	struct store *s = open_ok(t.path);
	cr_assert_eq(store_run_begin(s, &RUN_INFO), 1);
	struct request_record r[70];
	char uri[70][16];
	memset(r, 0, sizeof r);
	for (int i = 0; i < 70; i++) {
		snprintf(uri[i], sizeof uri[i], "/r%d", i);
		r[i].conn_id = 1 + i / 10;
		r[i].seq = (uint64_t)(i % 10) + 1;
		r[i].method = i % 2 ? "POST" : "GET";
		r[i].uri = uri[i];
		r[i].version = "HTTP/1.1";
		r[i].status = 200 + i;
		r[i].request_ts = NS(1700000000 + i, 0);
		r[i].request_body_bytes = i;
		r[i].response_body_bytes = -1;
	}
	cr_assert_eq(store_requests_add(s, r, 70), 0, "%s", store_errmsg(s));
	store_close(s);

	sqlite3 *db = raw_open(t.path);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM requests"), 70);
	cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM requests WHERE"
				   " uri = '/r' || (id - 1) AND status = 200 + id - 1"
				   " AND conn_id = 1 + (id - 1) / 10 AND seq = (id - 1) % 10 + 1"
				   " AND method = CASE (id - 1) % 2 WHEN 1 THEN 'POST' ELSE 'GET' END"
				   " AND request_body_bytes = id - 1 AND response_body_bytes IS NULL"
				   " AND request_ts = 1700000000 + id - 1"), 70);
	sqlite3_close(db);
	tu_rmtree(t.dir);
}
