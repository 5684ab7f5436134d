/*
 * test_storeq.c - the store's writer thread (analyzer/storeq.h): records
 * pushed through the queue reach the store in order with every string and
 * every fact section (HTTP, TLS, HTTP/2, tunnel) intact, however many
 * blocks they fill, and each lane's in its order when several threads
 * push at once; storeq_flush() makes them visible to another reader
 * before any sync; a row the store refuses stops the writer, keeps what
 * came before and drops what comes after.
 *
 * Expected values: the stored rows of one connection, request and finding
 * are written out by hand from the records built here (docs/schema.md
 * gives each column's unit and NULL rule), and every row of every table is
 * compared, column by column, with a database written from the same
 * records straight through store.h (tests/test_store.c checks that path),
 * read back through SQLite connections of the test's own.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http2.h"
#include "http_facts.h"
#include "store.h"
#include "storeq.h"
#include "testutil.h"
#include "tls.h"
#include "tunnel_facts.h"

#define NS(sec, usec) ((kl_time)(sec) * KL_NS_PER_SEC + (kl_time)(usec) * 1000)

static const struct store_run_info RUN = {
	.source = "q.pcap", .source_kind = "file", .link_type = 1, .link_type_name = "EN10MB",
	.started_at = NS(1700000900, 0),
};

/* A database with one run begun, at dir/name. */
static struct store *store_at(const char *dir, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	char err[512] = "";
	struct store *s = store_open(path, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(store_run_begin(s, &RUN), 1, "%s", store_errmsg(s));
	return s;
}

/* ---- the records ---------------------------------------------------------- */

/* Storage for the strings and sections of one record, so that the test can
 * spoil them once the record is queued (the queue must have copied them). */
struct conn_src {
	struct conn_record c;
	struct http_facts http;
	struct tls_facts tls;
	struct h2_facts h2;
	struct tunnel_facts tunnel;
};

struct req_src {
	struct request_record r;
	char s[10][64];
};

struct find_src {
	struct finding_record f;
	char detail[64];
};

/* Connection i; with all four sections when `full`, else HTTP only (odd i)
 * or none (even i). */
static void make_conn(struct conn_src *s, int64_t id, int i, bool full)
{
	memset(s, 0, sizeof *s);
	struct conn_record *c = &s->c;
	c->id = id;
	c->ip_version = 4;
	memcpy(c->client_ip, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	memcpy(c->server_ip, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	c->client_port = (uint16_t)(51234 + i);
	c->server_port = 443;
	c->first_seen = NS(1700000000 + i, 123456);
	c->last_seen = NS(1700000002 + i, 500000);
	c->syn_seen = true;
	c->has_handshake_rtt = true;
	c->handshake_rtt = 1500000;
	c->close_initiator = CONN_CLOSER_SERVER;
	c->close_kind = CONN_CLOSE_FIN;
	c->close_ts = NS(1700000002 + i, 250000);
	c->packets[KL_TO_SERVER] = 7;
	c->packets[KL_TO_CLIENT] = 5;
	c->bytes[KL_TO_SERVER] = 1200 + (uint64_t)i;
	c->bytes[KL_TO_CLIENT] = 34000;
	c->gap_bytes = 100;
	c->retransmitted_bytes = 1460;
	c->protocol = full ? "http/1.1" : i % 2 ? "http/1.1" : "unknown";
	if (full)
		snprintf(c->stack, sizeof c->stack, "http/1.1 > tls > http/2");
	if (full || i % 2) {
		s->http = (struct http_facts){
			.requests = 3, .responses = 2, .has_max_idle = true, .max_idle = 250000000,
			.ka_timeout_advertised = 5, .ka_max_advertised = 100, .ka_max_first = 100,
			.expected_persistent = 1, .has_idle_before_close = true,
			.idle_before_close = 1500000000, .has_reuse_saved = true, .reuse_saved = 3000000,
		};
		c->facts[FACTS_HTTP] = &s->http;
	}
	if (!full)
		return;
	s->tls = (struct tls_facts){
		.version = 0x0304, .cipher = 0x1301, .sni = "www.example.org", .alpn = "h2",
		.resumed = 1, .has_handshake = true, .handshake = 2000000, .records = { 5, 7 },
		.exchanges = 2, .decrypted = true,
	};
	s->h2 = (struct h2_facts){
		.streams = 2, .peak_streams = 2, .settings_max_streams = 128, .initial_window = 65536,
		.goaway_by = CONN_CLOSER_SERVER, .goaway_error = 0, .goaway_last_stream = 3,
		.rst_streams = 1, .has_ping_rtt = true, .ping_rtt = 55000,
	};
	s->tunnel = (struct tunnel_facts){ .kind = "connect", .target = "www.example.org:443" };
	c->facts[FACTS_TLS] = &s->tls;
	c->facts[FACTS_H2] = &s->h2;
	c->facts[FACTS_TUNNEL] = &s->tunnel;
}

/* Request i on connection conn; every string set, except on odd i, where
 * host, the Keep-Alive values and upgrade are NULL. */
static void make_req(struct req_src *s, int64_t conn, int i)
{
	memset(s, 0, sizeof *s);
	struct request_record *r = &s->r;
	static const char *const fmt[10] = {
		"GET", "/item/%06d?q=%d", "host-%d.example", "HTTP/1.1", "keep-alive %d",
		"timeout=%d", "close", "Keep-Alive", "timeout=5, max=%d", "h2c",
	};
	for (int k = 0; k < 10; k++)
		snprintf(s->s[k], sizeof s->s[k], fmt[k], i, i);
	r->conn_id = conn;
	r->seq = (uint64_t)i + 1;
	r->method = s->s[0];
	r->uri = s->s[1];
	r->host = i % 2 ? NULL : s->s[2];
	r->version = s->s[3];
	r->req_connection = s->s[4];
	r->req_keep_alive = i % 2 ? NULL : s->s[5];
	r->req_proxy_connection = s->s[6];
	r->resp_connection = s->s[7];
	r->resp_keep_alive = i % 2 ? NULL : s->s[8];
	r->upgrade = i % 2 ? NULL : s->s[9];
	r->status = 200 + i % 300;
	r->interim = (unsigned)(i % 2);
	r->request_ts = NS(1700000001 + i, 0);
	r->request_end_ts = NS(1700000001 + i, 500);
	r->response_ts = NS(1700000001 + i, 250000);
	r->response_end_ts = i % 3 ? NS(1700000001 + i, 750000) : 0;
	r->request_body_bytes = i;
	r->response_body_bytes = i % 3 ? 1000 + i : -1;
	r->pipelined = i % 2;
	r->has_idle_before = !(i % 2);
	r->idle_before = 2500000;
	r->stream_id = (uint32_t)(i % 5 ? 0 : 2 * i + 1);
}

static void make_find(struct find_src *s, int64_t conn, int i)
{
	memset(s, 0, sizeof *s);
	snprintf(s->detail, sizeof s->detail, "finding %d about the connection", i);
	s->f.conn_id = conn;
	s->f.request_seq = (uint64_t)(i % 4);
	s->f.ts = NS(1700000003 + i, 0);
	s->f.kind = (enum finding_kind)(i % FINDING_KIND_COUNT);
	s->f.detail = i % 3 ? s->detail : NULL;
}

/* Overwrite what a queued record pointed at. */
static void spoil_conn(struct conn_src *s)
{
	struct conn_record keep = s->c;
	memset(s, 0xa5, sizeof *s);
	s->c = keep;    /* the pointers stay, to spoilt storage */
}

static void spoil_req(struct req_src *s)
{
	memset(s->s, 'X', sizeof s->s);
	for (int k = 0; k < 10; k++)
		s->s[k][63] = '\0';
}

/* ---- the same rows both ways ---------------------------------------------- */

/* What a test pushes: `n` requests in a fixed mix of kinds (a connection
 * every `conn_every`, after its requests as the dissectors send them, a
 * finding every 7th), to the queue and, when `ref` is set, straight to the
 * store; at least how many bytes the requests took (records and strings). */
static size_t push_mix(struct storeq *q, struct store *ref, int n, int conn_every,
		       int64_t *next_conn)
{
	size_t bytes = 0;
	struct conn_src c, c2;
	struct req_src r, r2;
	struct find_src f, f2;
	int64_t conn = *next_conn;
	for (int i = 0; i < n; i++) {
		make_req(&r, conn, i);
		make_req(&r2, conn, i);
		bytes += sizeof r.r;
		for (int k = 0; k < 10; k++)
			bytes += strlen(r.s[k]);
		cr_assert_eq(storeq_request(storeq_lane(q, 0), &r.r), 0, "request %d: %s", i, storeq_error(q));
		spoil_req(&r);
		if (ref)
			cr_assert_eq(store_request_add(ref, &r2.r), 0, "%s", store_errmsg(ref));
		if (i % 7 == 3) {
			make_find(&f, conn, i);
			make_find(&f2, conn, i);
			cr_assert_eq(storeq_finding(storeq_lane(q, 0), &f.f), 0);
			memset(f.detail, 'Y', sizeof f.detail - 1);
			if (ref)
				cr_assert_eq(store_finding_add(ref, &f2.f), 0, "%s", store_errmsg(ref));
		}
		if (i % conn_every == conn_every - 1) {
			make_conn(&c, conn, i, (i / conn_every) % 3 == 0);
			make_conn(&c2, conn, i, (i / conn_every) % 3 == 0);
			cr_assert_eq(storeq_conn(storeq_lane(q, 0), &c.c), 0);
			spoil_conn(&c);
			if (ref)
				cr_assert_eq(store_conn_add(ref, &c2.c), 0, "%s", store_errmsg(ref));
			conn++;
		}
	}
	*next_conn = conn;
	return bytes;
}

/* Every row of `table` in a and b, in id order, equal column by column
 * (type and value); the row count. */
static size_t same_table(sqlite3 *a, sqlite3 *b, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY id", table);
	sqlite3_stmt *x, *y;
	cr_assert_eq(sqlite3_prepare_v2(a, sql, -1, &x, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(b, sql, -1, &y, NULL), SQLITE_OK);
	size_t rows = 0;
	for (;;) {
		int rx = sqlite3_step(x), ry = sqlite3_step(y);
		cr_assert_eq(rx, ry, "%s: row %zu is in one database only", table, rows);
		if (rx != SQLITE_ROW)
			break;
		for (int i = 0; i < sqlite3_column_count(x); i++) {
			const char *col = sqlite3_column_name(x, i);
			int tx = sqlite3_column_type(x, i), ty = sqlite3_column_type(y, i);
			cr_assert_eq(tx, ty, "%s row %zu %s: type %d, store %d", table, rows, col, tx, ty);
			if (tx == SQLITE_FLOAT)
				cr_assert_eq(sqlite3_column_double(x, i), sqlite3_column_double(y, i),
					     "%s row %zu %s", table, rows, col);
			else if (tx != SQLITE_NULL)
				cr_assert_str_eq((const char *)sqlite3_column_text(x, i),
						 (const char *)sqlite3_column_text(y, i), "%s row %zu %s",
						 table, rows, col);
		}
		rows++;
	}
	sqlite3_finalize(x);
	sqlite3_finalize(y);
	return rows;
}

/* ---- tests ---------------------------------------------------------------- */

/* One connection with every section, one request with every string, one
 * finding, through the queue: the stored rows as written out here. */
Test(storeq, every_string_and_section_reaches_the_store)
{
	char *dir = tu_tmpdir(), path[4200];
	struct store *st = store_at(dir, "q.db", path, sizeof path);
	struct storeq *q = storeq_new(st, 1, 16384);
	cr_assert_not_null(q);
	struct req_src r;
	make_req(&r, 1, 0);
	cr_assert_eq(storeq_request(storeq_lane(q, 0), &r.r), 0);
	spoil_req(&r);
	struct find_src f;
	make_find(&f, 1, 5);
	cr_assert_eq(storeq_finding(storeq_lane(q, 0), &f.f), 0);
	memset(f.detail, 'Y', sizeof f.detail - 1);
	struct conn_src c;
	make_conn(&c, 1, 0, true);
	cr_assert_eq(storeq_conn(storeq_lane(q, 0), &c.c), 0);
	spoil_conn(&c);
	cr_assert_eq(storeq_sync(q), 0, "%s", storeq_error(q));
	cr_expect_str_eq(storeq_error(q), "");
	storeq_free(q);
	store_close(st);

	struct tu_db d;
	tu_db_open(&d, path);
	char got[2048];
	tu_db_row(&d, "SELECT id, run_id, client_ip, client_port, server_ip, server_port, ip_version,"
		  " printf('%.6f', first_seen), printf('%.6f', last_seen), syn_seen,"
		  " printf('%.6f', handshake_rtt), close_initiator, close_kind, printf('%.6f', close_ts),"
		  " packets_to_server, packets_to_client, bytes_to_server, bytes_to_client, gap_bytes,"
		  " retransmitted_bytes, one_sided, protocol, stack FROM connections", 0, got, sizeof got);
	cr_expect_str_eq(got, "1|1|192.0.2.10|51234|198.51.100.7|443|4|1700000000.123456|"
			      "1700000002.500000|1|0.001500|server|fin|1700000002.250000|7|5|1200|34000|"
			      "100|1460|0|http/1.1|http/1.1 > tls > http/2");
	/* HTTP: seconds from nanoseconds (max_idle 0.25 s, idle 1.5 s, saved 3 ms) */
	tu_db_row(&d, "SELECT requests, responses, max_idle, ka_timeout_advertised, ka_max_advertised,"
		  " expected_persistent, idle_before_close, reuse_saved_s FROM connections", 0, got,
		  sizeof got);
	cr_expect_str_eq(got, "3|2|0.25|5|100|1|1.5|0.003");
	/* TLS: 0x0304 is TLS 1.3, the suite in tshark's hex, ALPN and SNI as sent */
	tu_db_row(&d, "SELECT tls_version, sni, alpn, cipher, tls_resumed, tls_handshake_s,"
		  " tls_records_to_server, tls_records_to_client, decrypted, requests_estimated"
		  " FROM connections", 0, got, sizeof got);
	cr_expect_str_eq(got, "TLS 1.3|www.example.org|h2|0x1301|1|0.002|5|7|1|2");
	tu_db_row(&d, "SELECT h2_streams, h2_peak_streams, h2_max_concurrent_streams, h2_initial_window,"
		  " goaway_by, goaway_error, goaway_last_stream, rst_streams, printf('%.6f', ping_rtt_s),"
		  " tunnel, tunnel_target FROM connections", 0, got, sizeof got);
	cr_expect_str_eq(got, "2|2|128|65536|server|0|3|1|0.000055|connect|www.example.org:443");
	tu_db_row(&d, "SELECT conn_id, run_id, seq, method, uri, host, version, status, interim_responses,"
		  " printf('%.6f', request_ts), printf('%.6f', request_end_ts),"
		  " printf('%.6f', response_ts), response_end_ts, req_connection, req_keep_alive,"
		  " resp_connection, resp_keep_alive, request_body_bytes, response_body_bytes, pipelined,"
		  " idle_before, upgrade, req_proxy_connection, stream_id FROM requests", 0, got,
		  sizeof got);
	/* request 0: no response end (0 % 3), stream 1 (0 % 5 == 0) */
	cr_expect_str_eq(got, "1|1|1|GET|/item/000000?q=0|host-0.example|HTTP/1.1|200|0|"
			      "1700000001.000000|1700000001.000500|1700000001.250000|NULL|keep-alive 0|"
			      "timeout=0|Keep-Alive|timeout=5, max=0|0|NULL|0|0.0025|h2c|close|1");
	tu_db_row(&d, "SELECT run_id, conn_id, request_seq, printf('%.6f', ts), kind, detail FROM findings",
		  0, got, sizeof got);
	/* finding 5: the 6th kind of findings.h, about request 1 */
	char want5[160];
	snprintf(want5, sizeof want5, "1|1|1|1700000008.000000|%s|finding 5 about the connection",
		 finding_kind_name((enum finding_kind)(5 % FINDING_KIND_COUNT)));
	cr_expect_str_eq(got, want5);
	tu_db_close(&d);
	tu_rmtree(dir);
}

/* 16000 requests with 10 strings each, a connection every 9 (a third with
 * every section), a finding every 7th request: more than 4 MiB of records,
 * more than the queue's four 1 MiB blocks (storeq.c) hold at once, so the
 * producer waits for blocks the writer hands back.  The rows are those of the same
 * records written straight to a store, in the same order. */
Test(storeq, rows_across_many_blocks_keep_order_and_values, .timeout = 60)
{
	char *dir = tu_tmpdir(), qpath[4200], rpath[4200];
	struct store *st = store_at(dir, "q.db", qpath, sizeof qpath);
	struct store *ref = store_at(dir, "r.db", rpath, sizeof rpath);
	struct storeq *q = storeq_new(st, 1, 16384);
	cr_assert_not_null(q);
	int64_t conn = 1;
	enum { N = 16000 };
	size_t bytes = push_mix(q, ref, N, 9, &conn);
	cr_assert_gt(bytes, (size_t)4 << 20, "%zu bytes: the test must fill every block", bytes);
	cr_assert_eq(storeq_sync(q), 0, "%s", storeq_error(q));
	storeq_free(q);
	store_close(st);
	store_close(ref);

	struct tu_db a, b;
	tu_db_open(&a, qpath);
	tu_db_open(&b, rpath);
	cr_expect_eq(same_table(a.h, b.h, "requests"), N);
	cr_expect_eq(same_table(a.h, b.h, "connections"), (size_t)(conn - 1));
	cr_expect_eq(same_table(a.h, b.h, "findings"), (size_t)((N - 4) / 7 + 1));
	/* in push order: the request pushed i-th is row i, for every i */
	cr_expect_eq(tu_db_int(&a, "SELECT COUNT(*) FROM requests WHERE"
			       " uri = printf('/item/%06d?q=%d', id - 1, id - 1) AND seq = id"),
		     N);
	tu_db_close(&a);
	tu_db_close(&b);
	tu_rmtree(dir);
}

/* Producers on their own threads, one lane each (analysis workers,
 * workers.h): every row reaches the store, each lane's rows in the order it
 * pushed them, and the sums of attempts the lanes push for one key become
 * one row with their total. */
struct lane_job {
	struct storeq *q;
	unsigned lane;
	int n;
};

enum { LANES = 4, LANE_ROWS = 6000 };

static void *lane_push(void *arg)
{
	struct lane_job *j = arg;
	struct storeq_lane *l = storeq_lane(j->q, j->lane);
	struct req_src r;
	for (int i = 0; i < j->n; i++) {
		/* Lane k's requests are on connection k + 1, seq 1.. in push order. */
		make_req(&r, (int64_t)j->lane + 1, i);
		if (storeq_request(l, &r.r) != 0)
			return "push failed";
		if (i % 1000 == 999) {
			struct attempt_record a = {
				.ip_version = 4, .server_port = 80, .attempts = 1, .syn_packets = 2,
				.first_seen = NS(1700000000 + i, j->lane), .last_seen = NS(1700000100 + i, 0),
			};
			a.client_ip[0] = 10;
			a.server_ip[0] = 192;
			if (storeq_attempt(l, &a) != 0)
				return "attempt failed";
		}
	}
	return NULL;
}

Test(storeq, lanes_on_threads_keep_their_order_and_sum_attempts, .timeout = 60)
{
	char *dir = tu_tmpdir(), path[4200];
	struct store *st = store_at(dir, "q.db", path, sizeof path);
	struct storeq *q = storeq_new(st, LANES, 16384);
	cr_assert_not_null(q);
	cr_assert_null(storeq_lane(q, LANES));
	pthread_t th[LANES];
	struct lane_job job[LANES];
	for (unsigned k = 0; k < LANES; k++) {
		job[k] = (struct lane_job){ q, k, LANE_ROWS };
		cr_assert_eq(pthread_create(&th[k], NULL, lane_push, &job[k]), 0);
	}
	for (unsigned k = 0; k < LANES; k++) {
		void *why;
		pthread_join(th[k], &why);
		cr_expect_null(why, "lane %u: %s", k, why ? (const char *)why : "");
	}
	cr_assert_eq(storeq_sync(q), 0, "%s", storeq_error(q));
	storeq_free(q);
	store_close(st);

	struct tu_db d;
	tu_db_open(&d, path);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), LANES * LANE_ROWS);
	/* Within each connection (lane), ids rise with seq: push order kept. */
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests a JOIN requests b"
			       " ON a.conn_id = b.conn_id AND b.seq = a.seq + 1 WHERE b.id < a.id"), 0);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(DISTINCT conn_id) FROM requests"), LANES);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM attempts"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT attempts FROM attempts"), LANES * (LANE_ROWS / 1000));
	cr_expect_eq(tu_db_int(&d, "SELECT syn_packets FROM attempts"),
		     2 * LANES * (LANE_ROWS / 1000));
	cr_expect_eq(tu_db_int(&d, "SELECT first_seen = 1700000999 FROM attempts"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT last_seen = 1700000100 + 5999 FROM attempts"), 1);
	tu_db_close(&d);
	tu_rmtree(dir);
}

/* storeq_flush(): what was queued is committed without a sync, and a
 * second connection (a reader, as `kalens report` during a live capture)
 * sees it; without the flush it sees nothing, the block being unfilled. */
Test(storeq, flush_makes_rows_visible_to_another_reader, .timeout = 30)
{
	char *dir = tu_tmpdir(), path[4200];
	struct store *st = store_at(dir, "q.db", path, sizeof path);
	struct storeq *q = storeq_new(st, 1, 16384);
	cr_assert_not_null(q);
	int64_t conn = 1;
	push_mix(q, NULL, 50, 10, &conn);
	struct tu_db d;
	tu_db_open(&d, path);
	struct timespec ms20 = { 0, 20000000 };
	nanosleep(&ms20, NULL);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), 0, "nothing before the flush");
	cr_assert_eq(storeq_flush(storeq_lane(q, 0)), 0);
	long long n = 0;
	for (int i = 0; i < 500 && n < 50; i++) {
		n = tu_db_int(&d, "SELECT COUNT(*) FROM requests");
		if (n < 50)
			nanosleep(&ms20, NULL);
	}
	cr_expect_eq(n, 50, "the flushed requests, seen by another connection before a sync");
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections"), 5);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings"), 7);
	/* the queue goes on after a flush */
	push_mix(q, NULL, 10, 10, &conn);
	cr_assert_eq(storeq_sync(q), 0, "%s", storeq_error(q));
	storeq_free(q);
	store_close(st);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), 60);
	tu_db_close(&d);
	tu_rmtree(dir);
}

/* A queue whose writer failed on a refused connection record (ip_version
 * 5) after `before` requests and their connections; `after` requests
 * pushed behind it.  Its database path in path. */
static struct storeq *failed_queue(struct store **st, char *dir, char *path, size_t n, int before,
				   int after)
{
	*st = store_at(dir, "q.db", path, n);
	struct storeq *q = storeq_new(*st, 1, 16384);
	cr_assert_not_null(q);
	int64_t conn = 1;
	push_mix(q, NULL, before, 10, &conn);
	struct conn_src bad;
	make_conn(&bad, conn++, 1, false);
	bad.c.ip_version = 5;
	cr_assert_eq(storeq_conn(storeq_lane(q, 0), &bad.c), 0, "queued: the writer has not seen it yet");
	struct req_src r;
	for (int i = 0; i < after; i++) {
		make_req(&r, conn, i);
		(void)storeq_request(storeq_lane(q, 0), &r.r);    /* 0 until the producer learns of the failure */
	}
	cr_expect_eq(storeq_sync(q), -1);
	cr_expect(strstr(storeq_error(q), "ip_version 5"), "%s", storeq_error(q));
	return q;
}

/* A connection record the store refuses after 3000 requests and their
 * connections (spread over blocks, some committed in batches):
 * storeq_sync() says the writer failed and storeq_error() why; everything
 * before the bad row is stored, nothing after it, and the producer is
 * told. */
Test(storeq, a_refused_row_keeps_earlier_rows_and_drops_later_ones, .timeout = 60)
{
	char *dir = tu_tmpdir(), path[4200];
	struct store *st;
	struct storeq *q = failed_queue(&st, dir, path, sizeof path, 3000, 3000);
	struct req_src r;
	make_req(&r, 1000, 0);
	cr_expect_eq(storeq_request(storeq_lane(q, 0), &r.r), -1, "a push after the failure");
	cr_expect_eq(storeq_flush(storeq_lane(q, 0)), -1);
	storeq_free(q);
	store_close(st);

	struct tu_db d;
	tu_db_open(&d, path);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), 3000);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections"), 300);
	cr_expect_eq(tu_db_int(&d, "SELECT MAX(id) FROM connections"), 300);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests WHERE conn_id > 300"), 0);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings"), (3000 - 4) / 7 + 1);
	tu_db_close(&d);
	tu_rmtree(dir);
}

/* storeq.h: "0, or -1 once the writer has failed": every push after it,
 * not only the one that takes a fresh block. */
Test(storeq, every_push_after_a_failure_is_refused)
{
	char *dir = tu_tmpdir(), path[4200];
	struct store *st;
	struct storeq *q = failed_queue(&st, dir, path, sizeof path, 10, 0);
	struct req_src r;
	make_req(&r, 1000, 0);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(storeq_request(storeq_lane(q, 0), &r.r), -1, "push %d after the failure", i);
	struct conn_src c;
	make_conn(&c, 1000, 0, true);
	cr_expect_eq(storeq_conn(storeq_lane(q, 0), &c.c), -1);
	storeq_free(q);
	store_close(st);
	tu_rmtree(dir);
}
