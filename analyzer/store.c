/*
 * store.c - the SQLite store (see store.h; the schema is in docs/schema.md).
 *
 * Write path: the run row is inserted in its own autocommit transaction, so
 * it is visible (status 'running') before any data.  Connections go through
 * one prepared INSERT, reused with reset/clear_bindings, inside a batch
 * transaction that is opened lazily by the first row and committed every
 * STORE_BATCH_ROWS rows, by store_flush() and by store_run_finish().  The
 * final UPDATE of the run row is again its own transaction.  A failure can
 * lose at most the open batch; committed runs are never touched, because
 * nothing here issues DELETE or rewrites a row of another run.
 *
 * Every SQLite return code is checked; the last failure is kept in
 * s->err with the operation that failed ("insert connection: ...").
 */
#include "store.h"

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Milliseconds a writer waits for another process's lock (e.g. a long
 * `kalens sql` read does not block WAL writers, but a checkpoint can). */
#define STORE_BUSY_TIMEOUT_MS 5000

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_conn;   /* INSERT INTO connections, prepared once */
	sqlite3_stmt *ins_req;    /* INSERT INTO requests, one row */
	sqlite3_stmt *ins_reqs;   /* the same, STORE_REQUEST_ROWS rows */
	sqlite3_stmt *ins_find;   /* INSERT INTO findings */
	int64_t next_conn_id;     /* the next connection's id in this run */
	int64_t run_id;           /* current run, 0 between runs */
	bool in_batch;            /* a BEGIN is open */
	unsigned batch_rows;      /* rows inserted in the open batch */
	char err[512];
};

/* Views are created in the same transaction as the tables; the schema text
 * lives here once, and docs/schema.md documents it column by column. */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS runs ("
	" id INTEGER PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" source_kind TEXT NOT NULL CHECK (source_kind IN ('file', 'live')),"
	" filter TEXT,"
	" started_at REAL NOT NULL,"
	" finished_at REAL,"
	" packets INTEGER,"
	" bytes INTEGER,"
	" packets_dropped INTEGER,"
	" kalens_version TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN"
	"  ('running', 'complete', 'truncated', 'interrupted', 'error')),"
	" message TEXT,"
	" link_type TEXT,"
	" link_type_id INTEGER,"
	" first_packet REAL,"
	" last_packet REAL,"
	" packets_not_tcp INTEGER,"
	" packets_fragment INTEGER,"
	" packets_truncated INTEGER,"
	" packets_malformed INTEGER,"
	" connections INTEGER,"
	" reasm_cap_hits INTEGER,"
	" connections_evicted INTEGER,"
	" requests INTEGER,"
	" findings INTEGER,"
	" packets_received INTEGER"
	");"
	"CREATE TABLE IF NOT EXISTS connections ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" client_ip TEXT NOT NULL,"
	" client_port INTEGER NOT NULL,"
	" server_ip TEXT NOT NULL,"
	" server_port INTEGER NOT NULL,"
	" ip_version INTEGER NOT NULL,"
	" first_seen REAL NOT NULL,"
	" last_seen REAL NOT NULL,"
	" syn_seen INTEGER NOT NULL,"
	" handshake_rtt REAL,"
	/* OR chains, not IN lists: SQLite builds a temporary index for an IN
	 * list on every execution, which was a third of an insert's cost. */
	" close_initiator TEXT CHECK (close_initiator = 'client' OR close_initiator = 'server'),"
	" close_kind TEXT NOT NULL CHECK (close_kind = 'fin' OR close_kind = 'rst'"
	" OR close_kind = 'idle' OR close_kind = 'open'),"
	" close_ts REAL,"
	" packets_to_server INTEGER,"
	" packets_to_client INTEGER,"
	" bytes_to_server INTEGER,"
	" bytes_to_client INTEGER,"
	" gap_bytes INTEGER,"
	" retransmitted_bytes INTEGER,"
	" one_sided INTEGER,"
	" protocol TEXT NOT NULL,"
	" requests INTEGER,"
	" responses INTEGER,"
	" max_idle REAL,"
	" ka_timeout_advertised INTEGER,"
	" ka_max_advertised INTEGER,"
	" expected_persistent INTEGER,"
	" idle_before_close REAL,"
	" reuse_saved_s REAL,"
	" tls_version TEXT,"
	" sni TEXT,"
	" alpn TEXT,"
	" cipher TEXT,"
	" tls_resumed INTEGER,"
	" tls_handshake_s REAL,"
	" tls_records_to_server INTEGER,"
	" tls_records_to_client INTEGER,"
	" decrypted INTEGER,"
	" requests_estimated INTEGER,"
	" h2_streams INTEGER,"
	" h2_peak_streams INTEGER,"
	" h2_max_concurrent_streams INTEGER,"
	" h2_initial_window INTEGER,"
	" goaway_by TEXT,"
	" goaway_error INTEGER,"
	" goaway_last_stream INTEGER,"
	" rst_streams INTEGER,"
	" ping_rtt_s REAL"
	");"
	"CREATE INDEX IF NOT EXISTS connections_run ON connections (run_id);"
	/* No REFERENCES: a request is stored when it completes, its connection
	 * when the connection ends, possibly batches later; and a foreign-key
	 * lookup per request row costs more than it checks (kalens writes
	 * run_id itself).  No index at all: keeping one on (conn_id, seq)
	 * cost a quarter of the writer's time (bench/README.md), and queries
	 * join requests to connections through the connection's primary key.
	 * Databases made before keep the index they have. */
	"CREATE TABLE IF NOT EXISTS requests ("
	" id INTEGER PRIMARY KEY,"
	" conn_id INTEGER NOT NULL,"
	" run_id INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" method TEXT,"
	" uri TEXT,"
	" host TEXT,"
	" version TEXT,"
	" status INTEGER,"
	" interim_responses INTEGER,"
	" request_ts REAL,"
	" request_end_ts REAL,"
	" response_ts REAL,"
	" response_end_ts REAL,"
	" req_connection TEXT,"
	" req_keep_alive TEXT,"
	" resp_connection TEXT,"
	" resp_keep_alive TEXT,"
	" request_body_bytes INTEGER,"
	" response_body_bytes INTEGER,"
	" pipelined INTEGER NOT NULL,"
	" idle_before REAL,"
	" upgrade TEXT,"
	" req_proxy_connection TEXT,"
	" stream_id INTEGER"
	");"
	"CREATE TABLE IF NOT EXISTS findings ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" conn_id INTEGER,"
	" request_seq INTEGER,"
	" ts REAL,"
	" kind TEXT NOT NULL,"
	" detail TEXT"
	");"
	"CREATE INDEX IF NOT EXISTS findings_run ON findings (run_id, kind);"
	"CREATE INDEX IF NOT EXISTS connections_server ON connections (server_ip, server_port);"
	/* LEFT JOIN so a run without connections still has its row of zeros;
	 * `x IS 'v'` is 0/1 even when x is NULL, unlike `x = 'v'`. */
	"CREATE VIEW IF NOT EXISTS conn_summary AS SELECT"
	" r.id AS run_id,"
	" COUNT(c.id) AS connections,"
	" COALESCE(SUM(c.syn_seen), 0) AS syn_seen,"
	" COALESCE(SUM(c.close_initiator IS 'client'), 0) AS closed_by_client,"
	" COALESCE(SUM(c.close_initiator IS 'server'), 0) AS closed_by_server,"
	" COALESCE(SUM(c.close_kind IS 'rst'), 0) AS rst,"
	" COALESCE(SUM(c.close_kind IS 'idle'), 0) AS idle,"
	" COALESCE(SUM(c.close_kind IS 'open'), 0) AS open,"
	" COALESCE(SUM(c.bytes_to_server), 0) AS bytes_to_server,"
	" COALESCE(SUM(c.bytes_to_client), 0) AS bytes_to_client,"
	" COALESCE(SUM(c.gap_bytes), 0) AS gap_bytes"
	" FROM runs r LEFT JOIN connections c ON c.run_id = r.id"
	" GROUP BY r.id;"
	/* Keep-alive per HTTP connection: what was advertised and what happened. */
	"CREATE VIEW IF NOT EXISTS connection_reuse AS SELECT"
	" id AS conn_id, run_id, client_ip, client_port, server_ip, server_port, protocol,"
	" requests, responses, requests > 1 AS reused, max_idle, ka_timeout_advertised,"
	" ka_max_advertised, expected_persistent, close_initiator, close_kind,"
	" idle_before_close"
	" FROM connections WHERE requests IS NOT NULL;"
	/* Requests per connection by run, server and HTTP version; the median by
	 * window functions (SQLite 3.25+). */
	"CREATE VIEW IF NOT EXISTS reuse_summary AS"
	" WITH c AS (SELECT run_id, server_ip, server_port, protocol, requests"
	"  FROM connections WHERE requests IS NOT NULL),"
	" g AS (SELECT run_id, server_ip, server_port, protocol, COUNT(*) AS connections,"
	"  SUM(requests) AS requests, AVG(requests) AS requests_per_conn_mean,"
	"  MAX(requests) AS requests_per_conn_max, AVG(requests > 1) AS reused_share"
	"  FROM c GROUP BY run_id, server_ip, server_port, protocol),"
	" r AS (SELECT run_id, server_ip, server_port, protocol, requests,"
	"  ROW_NUMBER() OVER (PARTITION BY run_id, server_ip, server_port, protocol"
	"   ORDER BY requests) AS rn,"
	"  COUNT(*) OVER (PARTITION BY run_id, server_ip, server_port, protocol) AS n FROM c)"
	" SELECT g.run_id, g.server_ip, g.server_port, g.protocol, g.connections, g.requests,"
	"  g.requests_per_conn_mean,"
	"  (SELECT AVG(r.requests) FROM r WHERE r.run_id = g.run_id AND r.server_ip = g.server_ip"
	"   AND r.server_port = g.server_port AND r.protocol = g.protocol"
	"   AND r.rn IN ((r.n + 1) / 2, (r.n + 2) / 2)) AS requests_per_conn_median,"
	"  g.requests_per_conn_max, g.reused_share"
	" FROM g;"
	/* Per server and run: what it advertised, how it behaved, what it was
	 * found doing (docs/keepalive.md, "Findings"). */
	"CREATE VIEW IF NOT EXISTS keepalive_compliance AS"
	" WITH f AS (SELECT conn_id,"
	"  SUM(kind = 'server-idle-timeout') AS server_idle_timeout,"
	"  SUM(kind = 'keepalive-ignored-by-server') AS keepalive_ignored_by_server,"
	"  SUM(kind = 'keepalive-max-reached') AS keepalive_max_reached,"
	"  SUM(kind = 'closed-after-connection-close') AS closed_after_connection_close,"
	"  SUM(kind = 'client-closed-reusable') AS client_closed_reusable,"
	"  SUM(kind = 'idle-close-race') AS idle_close_race,"
	"  SUM(kind = 'retried-request') AS retried_request,"
	"  SUM(kind = 'short-lived-connection') AS short_lived_connection,"
	"  SUM(kind = 'http10-keepalive-not-echoed') AS http10_keepalive_not_echoed,"
	"  SUM(kind = 'request-after-close') AS request_after_close,"
	"  SUM(kind = 'pipelined') AS pipelined,"
	"  SUM(kind = 'h2-idle-close') AS h2_idle_close,"
	"  SUM(kind = 'goaway-with-active-streams') AS goaway_with_active_streams,"
	"  SUM(kind = 'h2-connection-specific-header') AS h2_connection_specific_header"
	"  FROM findings WHERE conn_id IS NOT NULL GROUP BY conn_id),"
	" c AS (SELECT c.*, f.* FROM connections c LEFT JOIN f ON f.conn_id = c.id"
	"  WHERE c.requests IS NOT NULL),"
	/* idle times before the server closed a connection it was expected to keep */
	" i AS (SELECT run_id, server_ip, server_port, idle_before_close AS idle,"
	"  ROW_NUMBER() OVER (PARTITION BY run_id, server_ip, server_port"
	"   ORDER BY idle_before_close) AS rn,"
	"  COUNT(*) OVER (PARTITION BY run_id, server_ip, server_port) AS n"
	"  FROM connections WHERE requests IS NOT NULL AND close_initiator = 'server'"
	"  AND expected_persistent = 1 AND idle_before_close IS NOT NULL)"
	" SELECT c.run_id, c.server_ip, c.server_port, COUNT(*) AS connections,"
	"  SUM(c.requests) AS requests, MAX(c.requests) AS requests_per_conn_max,"
	"  MIN(c.ka_timeout_advertised) AS ka_timeout_advertised_min,"
	"  MAX(c.ka_timeout_advertised) AS ka_timeout_advertised_max,"
	"  MAX(c.ka_max_advertised) AS ka_max_advertised,"
	"  (SELECT MIN(idle) FROM i WHERE i.run_id = c.run_id AND i.server_ip = c.server_ip"
	"   AND i.server_port = c.server_port) AS server_idle_close_min,"
	"  (SELECT AVG(idle) FROM i WHERE i.run_id = c.run_id AND i.server_ip = c.server_ip"
	"   AND i.server_port = c.server_port AND i.rn IN ((i.n + 1) / 2, (i.n + 2) / 2))"
	"   AS server_idle_close_median,"
	"  (SELECT MAX(idle) FROM i WHERE i.run_id = c.run_id AND i.server_ip = c.server_ip"
	"   AND i.server_port = c.server_port) AS server_idle_close_max,"
	"  SUM(c.reuse_saved_s) AS reuse_saved_s,"
	"  COALESCE(SUM(c.server_idle_timeout), 0) AS server_idle_timeout,"
	"  COALESCE(SUM(c.keepalive_ignored_by_server), 0) AS keepalive_ignored_by_server,"
	"  COALESCE(SUM(c.keepalive_max_reached), 0) AS keepalive_max_reached,"
	"  COALESCE(SUM(c.closed_after_connection_close), 0) AS closed_after_connection_close,"
	"  COALESCE(SUM(c.client_closed_reusable), 0) AS client_closed_reusable,"
	"  COALESCE(SUM(c.idle_close_race), 0) AS idle_close_race,"
	"  COALESCE(SUM(c.retried_request), 0) AS retried_request,"
	"  COALESCE(SUM(c.short_lived_connection), 0) AS short_lived_connection,"
	"  COALESCE(SUM(c.http10_keepalive_not_echoed), 0) AS http10_keepalive_not_echoed,"
	"  COALESCE(SUM(c.request_after_close), 0) AS request_after_close,"
	"  COALESCE(SUM(c.pipelined), 0) AS pipelined_connections,"
	/* HTTP/2: reuse ends with GOAWAY, and 8.2.2's forbidden fields */
	"  SUM(c.h2_streams IS NOT NULL) AS h2_connections,"
	"  SUM(c.goaway_by IS 'server') AS h2_goaway_by_server,"
	"  COALESCE(SUM(c.h2_idle_close), 0) AS h2_idle_close,"
	"  COALESCE(SUM(c.goaway_with_active_streams), 0) AS goaway_with_active_streams,"
	"  COALESCE(SUM(c.h2_connection_specific_header), 0) AS h2_connection_specific_header"
	" FROM c GROUP BY c.run_id, c.server_ip, c.server_port;"
	/* Per client -> server pair: connections that could have been reused. */
	"CREATE VIEW IF NOT EXISTS missed_reuse AS"
	" SELECT c.run_id, c.client_ip, c.server_ip, c.server_port, COUNT(*) AS connections,"
	"  SUM(c.requests) AS requests, SUM(c.requests = 1) AS one_request_connections,"
	"  (SELECT COUNT(*) FROM findings f JOIN connections x ON x.id = f.conn_id"
	"   WHERE f.run_id = c.run_id AND f.kind = 'short-lived-connection'"
	"   AND x.client_ip = c.client_ip AND x.server_ip = c.server_ip"
	"   AND x.server_port = c.server_port) AS could_have_been_reused"
	" FROM connections c WHERE c.requests IS NOT NULL"
	" GROUP BY c.run_id, c.client_ip, c.server_ip, c.server_port;"
	/* One row per request, for plotting a waterfall. */
	"CREATE VIEW IF NOT EXISTS timeline AS"
	" SELECT r.run_id, r.conn_id, c.client_ip, c.client_port, c.server_ip, c.server_port,"
	"  r.seq, r.method, r.uri, r.status, r.request_ts AS start,"
	"  COALESCE(r.response_end_ts, r.response_ts, r.request_end_ts, r.request_ts) AS end,"
	"  r.idle_before, r.pipelined, c.close_initiator, c.close_kind, c.close_ts"
	" FROM requests r JOIN connections c ON c.id = r.conn_id;"
	/* Per TLS server: versions, session reuse (resumed handshakes and how
	 * much shorter they were), ALPN, what was decrypted. */
	"CREATE VIEW IF NOT EXISTS tls_servers AS"
	" SELECT run_id, server_ip, server_port, group_concat(DISTINCT sni) AS sni,"
	"  COUNT(*) AS connections, SUM(tls_version = 'TLS 1.3') AS tls13,"
	"  SUM(tls_version = 'TLS 1.2') AS tls12,"
	"  SUM(tls_version NOT IN ('TLS 1.3', 'TLS 1.2')) AS older,"
	"  SUM(tls_resumed = 1) AS resumed, SUM(tls_resumed = 0) AS full_handshakes,"
	"  AVG(CASE WHEN tls_resumed = 0 THEN tls_handshake_s END) AS mean_full_handshake_s,"
	"  AVG(CASE WHEN tls_resumed = 1 THEN tls_handshake_s END) AS mean_resumed_handshake_s,"
	"  group_concat(DISTINCT alpn) AS alpn, SUM(decrypted = 1) AS decrypted,"
	"  SUM(CASE WHEN decrypted = 1 THEN requests END) AS requests_decrypted,"
	"  SUM(requests_estimated) AS requests_estimated"
	" FROM connections WHERE tls_version IS NOT NULL"
	" GROUP BY run_id, server_ip, server_port;";

/* Version 1 databases (connections only) gain the HTTP columns; the new
 * tables and views come from schema_sql. */
static const char migrate_v1_sql[] =
	"ALTER TABLE connections ADD COLUMN requests INTEGER;"
	"ALTER TABLE connections ADD COLUMN responses INTEGER;"
	"ALTER TABLE connections ADD COLUMN max_idle REAL;"
	"ALTER TABLE connections ADD COLUMN ka_timeout_advertised INTEGER;"
	"ALTER TABLE connections ADD COLUMN ka_max_advertised INTEGER;"
	"ALTER TABLE connections ADD COLUMN expected_persistent INTEGER;"
	"ALTER TABLE connections ADD COLUMN idle_before_close REAL;"
	"ALTER TABLE runs ADD COLUMN requests INTEGER;"
	"ALTER TABLE runs ADD COLUMN findings INTEGER;";

/* Version 2 -> 3: the kernel's received count of a live run. */
static const char migrate_v2_sql[] =
	"ALTER TABLE runs ADD COLUMN packets_received INTEGER;"
	"ALTER TABLE connections ADD COLUMN reuse_saved_s REAL;"
	"ALTER TABLE connections ADD COLUMN tls_version TEXT;"
	"ALTER TABLE connections ADD COLUMN sni TEXT;"
	"ALTER TABLE connections ADD COLUMN alpn TEXT;"
	"ALTER TABLE connections ADD COLUMN cipher TEXT;"
	"ALTER TABLE connections ADD COLUMN tls_resumed INTEGER;"
	"ALTER TABLE connections ADD COLUMN tls_handshake_s REAL;"
	"ALTER TABLE connections ADD COLUMN tls_records_to_server INTEGER;"
	"ALTER TABLE connections ADD COLUMN tls_records_to_client INTEGER;"
	"ALTER TABLE connections ADD COLUMN decrypted INTEGER;"
	"ALTER TABLE connections ADD COLUMN requests_estimated INTEGER;";

/* Version 3 -> 4: HTTP/2 (requests exists from version 2 on; a version 1
 * database gets it from schema_sql, new). */
static const char migrate_v3_requests_sql[] =
	"ALTER TABLE requests ADD COLUMN stream_id INTEGER;";
static const char migrate_v3_sql[] =
	"DROP VIEW IF EXISTS keepalive_compliance;"   /* made again with HTTP/2 columns */
	"ALTER TABLE connections ADD COLUMN h2_streams INTEGER;"
	"ALTER TABLE connections ADD COLUMN h2_peak_streams INTEGER;"
	"ALTER TABLE connections ADD COLUMN h2_max_concurrent_streams INTEGER;"
	"ALTER TABLE connections ADD COLUMN h2_initial_window INTEGER;"
	"ALTER TABLE connections ADD COLUMN goaway_by TEXT;"
	"ALTER TABLE connections ADD COLUMN goaway_error INTEGER;"
	"ALTER TABLE connections ADD COLUMN goaway_last_stream INTEGER;"
	"ALTER TABLE connections ADD COLUMN rst_streams INTEGER;"
	"ALTER TABLE connections ADD COLUMN ping_rtt_s REAL;";

static const char insert_request_head[] =
	"INSERT INTO requests (conn_id, run_id, seq, method, uri, host, version, status,"
	" interim_responses, request_ts, request_end_ts, response_ts, response_end_ts,"
	" req_connection, req_keep_alive, resp_connection, resp_keep_alive,"
	" request_body_bytes, response_body_bytes, pipelined, idle_before, upgrade,"
	" req_proxy_connection, stream_id) VALUES ";
#define REQUEST_COLS 24

/* Requests go in STORE_REQUEST_ROWS at a time when they come in bulk: one
 * statement execution per row costs SQLite more than the row itself. */
#define STORE_REQUEST_ROWS 32

/* Prepare "INSERT ... VALUES (?, ...), ..." for `rows` rows. */
static int prepare_request_insert(sqlite3 *db, int rows, sqlite3_stmt **st)
{
	size_t n = sizeof insert_request_head + (size_t)rows * (REQUEST_COLS * 2 + 3);
	char *sql = malloc(n);
	if (!sql)
		return SQLITE_NOMEM;
	size_t len = (size_t)snprintf(sql, n, "%s", insert_request_head);
	for (int r = 0; r < rows; r++) {
		sql[len++] = r ? ',' : ' ';
		sql[len++] = '(';
		for (int c = 0; c < REQUEST_COLS; c++) {
			sql[len++] = '?';
			sql[len++] = c + 1 < REQUEST_COLS ? ',' : ')';
		}
	}
	sql[len] = '\0';
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	free(sql);
	return rc;
}

static const char insert_finding_sql[] =
	"INSERT INTO findings (run_id, conn_id, request_seq, ts, kind, detail)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char insert_conn_sql[] =
	"INSERT INTO connections (run_id, client_ip, client_port, server_ip, server_port,"
	" ip_version, first_seen, last_seen, syn_seen, handshake_rtt, close_initiator,"
	" close_kind, close_ts, packets_to_server, packets_to_client, bytes_to_server,"
	" bytes_to_client, gap_bytes, retransmitted_bytes, one_sided, protocol,"
	" requests, responses, max_idle, ka_timeout_advertised, ka_max_advertised,"
	" expected_persistent, idle_before_close, id, reuse_saved_s, tls_version, sni, alpn,"
	" cipher, tls_resumed, tls_handshake_s, tls_records_to_server, tls_records_to_client,"
	" decrypted, requests_estimated, h2_streams, h2_peak_streams, h2_max_concurrent_streams,"
	" h2_initial_window, goaway_by, goaway_error, goaway_last_stream, rst_streams, ping_rtt_s)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
	" ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31,"
	" ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47,"
	" ?48, ?49)";

static void set_err(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
}

/* Record a failure of `what` with SQLite's message. */
static void db_err(struct store *s, const char *what)
{
	set_err(s, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		db_err(s, what);
		return -1;
	}
	return 0;
}

/* SQLite may roll a transaction back by itself (SQLITE_FULL, IOERR, ...);
 * keep in_batch true to the database's own view. */
static void sync_batch_state(struct store *s)
{
	if (s->in_batch && sqlite3_get_autocommit(s->db)) {
		s->in_batch = false;
		s->batch_rows = 0;
	}
}

/* Commit the open batch, if any.  On failure the batch is rolled back so
 * the connection is left outside any transaction. */
static int batch_commit(struct store *s)
{
	sync_batch_state(s);
	if (!s->in_batch)
		return 0;
	int rc = exec(s, "COMMIT", "commit");
	if (rc != 0 && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_batch = false;
	s->batch_rows = 0;
	return rc;
}

/* Values above INT64_MAX cannot be stored as INTEGER; clamp rather than
 * wrap to a negative count (no real counter gets there). */
static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	return sqlite3_bind_int64(st, i, v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

static int bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* For values that outlive the step, so SQLite need not copy the text.  The
 * pointer stays bound after the step but is never read again: the next
 * row binds every parameter anew before stepping. */
static int bind_text_static(sqlite3_stmt *st, int i, const char *v)
{
	return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* One integer from a single-row query, e.g. PRAGMA user_version. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
	}
	int frc = sqlite3_finalize(st);
	return rc != SQLITE_OK ? rc : frc;
}

/* Refuse a file that is not a database or holds another schema version,
 * before anything (even the WAL switch) writes to it. */
static int check_version(struct store *s, const char *path, bool in_txn, int64_t *version)
{
	int64_t v = 0;
	int rc = query_int(s->db, "PRAGMA user_version", &v);
	if (version)
		*version = v;
	if (rc == SQLITE_NOTADB) {
		set_err(s, "%s: not a kalens database (%s)", path, sqlite3_errstr(rc));
		return -1;
	}
	if (rc != SQLITE_OK) {
		set_err(s, "%s: cannot read the database (%s)", path, sqlite3_errmsg(s->db));
		return -1;
	}
	if (v < 0 || v > STORE_SCHEMA_VERSION) {   /* 1, 2, 3 are migrated */
		set_err(s, "%s: schema version %lld, this kalens writes %d", path, (long long)v,
			STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v == 0 && in_txn) {
		/* Version 0 with objects in it is someone else's database: ours
		 * set user_version in the transaction that creates the schema. */
		int64_t n = 0;
		if (query_int(s->db, "SELECT COUNT(*) FROM sqlite_master", &n) != SQLITE_OK) {
			set_err(s, "%s: cannot read the schema (%s)", path, sqlite3_errmsg(s->db));
			return -1;
		}
		if (n > 0) {
			set_err(s, "%s: not a kalens database (it holds other tables and no"
				" kalens schema version)", path);
			return -1;
		}
	}
	return 0;
}

static int set_pragmas(struct store *s, const char *path)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
		set_err(s, "%s: journal_mode: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	/* The pragma answers with the mode in force, which is not WAL when the
	 * file system cannot do it (no shared memory); say so rather than go
	 * on in another journal mode silently. */
	char mode[32] = "";
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
	int frc = sqlite3_finalize(st);
	if (rc != SQLITE_ROW || frc != SQLITE_OK) {
		set_err(s, "%s: journal_mode: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	if (strcmp(mode, "wal") != 0) {
		set_err(s, "%s: cannot use WAL journal mode (got '%s')", path, mode);
		return -1;
	}
	if (sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
			 NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: pragma: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* Create the schema (idempotent) and set user_version, all in one
 * transaction so a crash leaves either nothing or everything. */
static int create_schema(struct store *s, const char *path)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: begin: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	/* Checked again under the write lock: another process may have created
	 * the schema since the first look. */
	int64_t version = 0;
	if (check_version(s, path, true, &version) != 0)
		goto fail;
	if (version == 1 && sqlite3_exec(s->db, migrate_v1_sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: upgrade schema 1 to %d: %s", path, STORE_SCHEMA_VERSION,
			sqlite3_errmsg(s->db));
		goto fail;
	}
	if ((version == 1 || version == 2) &&
	    sqlite3_exec(s->db, migrate_v2_sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: upgrade schema 2 to %d: %s", path, STORE_SCHEMA_VERSION,
			sqlite3_errmsg(s->db));
		goto fail;
	}
	if (version >= 1 && version <= 3 &&
	    (sqlite3_exec(s->db, migrate_v3_sql, NULL, NULL, NULL) != SQLITE_OK ||
	     (version >= 2 && sqlite3_exec(s->db, migrate_v3_requests_sql, NULL, NULL, NULL) !=
	      SQLITE_OK))) {
		set_err(s, "%s: upgrade schema 3 to %d: %s", path, STORE_SCHEMA_VERSION,
			sqlite3_errmsg(s->db));
		goto fail;
	}
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: create schema: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: create schema: commit: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/* One thread uses the connection: no per-call mutex (NOMUTEX). */
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_err(s, "%s: cannot open (%s)", path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_extended_result_codes(s->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		set_err(s, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (check_version(s, path, false, NULL) != 0 || set_pragmas(s, path) != 0 ||
	    create_schema(s, path) != 0)
		goto fail;
	if (sqlite3_prepare_v2(s->db, insert_conn_sql, -1, &s->ins_conn, NULL) != SQLITE_OK ||
	    prepare_request_insert(s->db, 1, &s->ins_req) != SQLITE_OK ||
	    prepare_request_insert(s->db, STORE_REQUEST_ROWS, &s->ins_reqs) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, insert_finding_sql, -1, &s->ins_find, NULL) != SQLITE_OK) {
		set_err(s, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	return s;
fail:
	snprintf(err, errlen, "%s", s->err);
	sqlite3_finalize(s->ins_conn);
	sqlite3_finalize(s->ins_req);
	sqlite3_finalize(s->ins_reqs);
	sqlite3_finalize(s->ins_find);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

int64_t store_run_begin(struct store *s, const struct store_run_info *info)
{
	/* A run left unfinished keeps status 'running'; its rows are kept. */
	if (batch_commit(s) != 0)
		return -1;
	s->run_id = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db,
			"INSERT INTO runs (source, source_kind, filter, started_at, kalens_version,"
			" status, link_type, link_type_id) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)",
			-1, &st, NULL) != SQLITE_OK) {
		db_err(s, "insert run");
		return -1;
	}
	int64_t id = -1;
	if (bind_text_or_null(st, 1, info->source) != SQLITE_OK ||
	    bind_text_or_null(st, 2, info->source_kind) != SQLITE_OK ||
	    bind_text_or_null(st, 3, info->filter) != SQLITE_OK ||
	    sqlite3_bind_double(st, 4, kl_time_seconds(info->started_at)) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, KALENS_VERSION, -1, SQLITE_STATIC) != SQLITE_OK ||
	    bind_text_or_null(st, 6, info->link_type_name) != SQLITE_OK ||
	    sqlite3_bind_int(st, 7, info->link_type) != SQLITE_OK) {
		db_err(s, "insert run");
	} else if (sqlite3_step(st) != SQLITE_DONE) {
		db_err(s, "insert run");
	} else {
		/* Autocommit: the row is committed when step returns DONE. */
		id = sqlite3_last_insert_rowid(s->db);
	}
	/* finalize repeats the step's error, already recorded. */
	(void)sqlite3_finalize(st);
	if (id > 0) {
		s->run_id = id;
		int64_t max = 0;
		if (query_int(s->db, "SELECT IFNULL(MAX(id), 0) FROM connections", &max) != SQLITE_OK) {
			db_err(s, "number connections");
			return -1;
		}
		s->next_conn_id = max + 1;
	}
	return id;
}

int64_t store_conn_next_id(struct store *s)
{
	return s->next_conn_id++;
}

/* "TLS 1.2" and friends; other values as hex. */
static void tls_version_name(uint16_t v, char *buf, size_t n)
{
	switch (v) {
	case 0x0300: snprintf(buf, n, "SSL 3.0"); break;
	case 0x0301: snprintf(buf, n, "TLS 1.0"); break;
	case 0x0302: snprintf(buf, n, "TLS 1.1"); break;
	case 0x0303: snprintf(buf, n, "TLS 1.2"); break;
	case 0x0304: snprintf(buf, n, "TLS 1.3"); break;
	default: snprintf(buf, n, "0x%04x", v); break;
	}
}

static int bind_conn(struct store *s, const struct conn_record *c)
{
	sqlite3_stmt *st = s->ins_conn;
	int af = c->ip_version == 4 ? AF_INET : c->ip_version == 6 ? AF_INET6 : 0;
	if (!af) {
		set_err(s, "insert connection: ip_version %u is not 4 or 6", c->ip_version);
		return -1;
	}
	const char *kind = conn_close_kind_name(c->close_kind);
	if (!kind) {
		set_err(s, "insert connection: close_kind %d out of range", (int)c->close_kind);
		return -1;
	}
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	if (!inet_ntop(af, c->client_ip, cip, sizeof cip) ||
	    !inet_ntop(af, c->server_ip, sip, sizeof sip)) {
		set_err(s, "insert connection: cannot format an address");
		return -1;
	}
	bool closed = c->close_kind == CONN_CLOSE_FIN || c->close_kind == CONN_CLOSE_RST;
	int rc = SQLITE_OK;
	/* `rc |= ...` would hide which bind failed, but any failure here is
	 * SQLITE_RANGE/NOMEM and errmsg says which. */
#define B(call) do { if (rc == SQLITE_OK) rc = (call); } while (0)
	B(sqlite3_bind_int64(st, 1, s->run_id));
	B(sqlite3_bind_text(st, 2, cip, -1, SQLITE_TRANSIENT));
	B(sqlite3_bind_int(st, 3, c->client_port));
	B(sqlite3_bind_text(st, 4, sip, -1, SQLITE_TRANSIENT));
	B(sqlite3_bind_int(st, 5, c->server_port));
	B(sqlite3_bind_int(st, 6, c->ip_version));
	B(sqlite3_bind_double(st, 7, kl_time_seconds(c->first_seen)));
	B(sqlite3_bind_double(st, 8, kl_time_seconds(c->last_seen)));
	B(sqlite3_bind_int(st, 9, c->syn_seen ? 1 : 0));
	B(c->has_handshake_rtt ? sqlite3_bind_double(st, 10, kl_time_seconds(c->handshake_rtt))
			       : sqlite3_bind_null(st, 10));
	B(bind_text_or_null(st, 11, conn_closer_name(c->close_initiator)));
	B(sqlite3_bind_text(st, 12, kind, -1, SQLITE_STATIC));
	B(closed ? sqlite3_bind_double(st, 13, kl_time_seconds(c->close_ts))
		 : sqlite3_bind_null(st, 13));
	B(bind_u64(st, 14, c->packets[KL_TO_SERVER]));
	B(bind_u64(st, 15, c->packets[KL_TO_CLIENT]));
	B(bind_u64(st, 16, c->bytes[KL_TO_SERVER]));
	B(bind_u64(st, 17, c->bytes[KL_TO_CLIENT]));
	B(bind_u64(st, 18, c->gap_bytes));
	B(bind_u64(st, 19, c->retransmitted_bytes));
	B(sqlite3_bind_int(st, 20, c->one_sided ? 1 : 0));
	/* protocol is static storage by contract; NULL would mean no dissector
	 * looked, which is what "unknown" says. */
	B(sqlite3_bind_text(st, 21, c->protocol ? c->protocol : "unknown", -1, SQLITE_STATIC));
	bool app = c->requests || c->responses;
	B(app ? bind_u64(st, 22, c->requests) : sqlite3_bind_null(st, 22));
	B(app ? bind_u64(st, 23, c->responses) : sqlite3_bind_null(st, 23));
	B(c->has_max_idle ? sqlite3_bind_double(st, 24, kl_time_seconds(c->max_idle))
			  : sqlite3_bind_null(st, 24));
	B(c->ka_timeout_advertised >= 0 ? sqlite3_bind_int64(st, 25, c->ka_timeout_advertised)
					: sqlite3_bind_null(st, 25));
	B(c->ka_max_advertised >= 0 ? sqlite3_bind_int64(st, 26, c->ka_max_advertised)
				    : sqlite3_bind_null(st, 26));
	B(c->expected_persistent >= 0 ? sqlite3_bind_int(st, 27, c->expected_persistent)
				      : sqlite3_bind_null(st, 27));
	B(c->has_idle_before_close
		  ? sqlite3_bind_double(st, 28, kl_time_seconds(c->idle_before_close))
		  : sqlite3_bind_null(st, 28));
	B(c->id > 0 ? sqlite3_bind_int64(st, 29, c->id) : sqlite3_bind_null(st, 29));
	B(c->has_reuse_saved ? sqlite3_bind_double(st, 30, kl_time_seconds(c->reuse_saved))
			     : sqlite3_bind_null(st, 30));
	bool tls = c->tls_version != 0;
	char ver[16], cipher[8];
	tls_version_name(c->tls_version, ver, sizeof ver);
	snprintf(cipher, sizeof cipher, "0x%04x", c->tls_cipher);
	B(tls ? sqlite3_bind_text(st, 31, ver, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, 31));
	B(tls && c->tls_sni[0] ? sqlite3_bind_text(st, 32, c->tls_sni, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, 32));
	B(tls && c->tls_alpn[0] ? sqlite3_bind_text(st, 33, c->tls_alpn, -1, SQLITE_TRANSIENT)
				: sqlite3_bind_null(st, 33));
	B(tls && c->tls_cipher ? sqlite3_bind_text(st, 34, cipher, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, 34));
	B(tls && c->tls_resumed >= 0 ? sqlite3_bind_int(st, 35, c->tls_resumed)
				     : sqlite3_bind_null(st, 35));
	B(c->has_tls_handshake ? sqlite3_bind_double(st, 36, kl_time_seconds(c->tls_handshake))
			       : sqlite3_bind_null(st, 36));
	B(tls ? bind_u64(st, 37, c->tls_records[KL_TO_SERVER]) : sqlite3_bind_null(st, 37));
	B(tls ? bind_u64(st, 38, c->tls_records[KL_TO_CLIENT]) : sqlite3_bind_null(st, 38));
	B(tls ? sqlite3_bind_int(st, 39, c->tls_decrypted ? 1 : 0) : sqlite3_bind_null(st, 39));
	B(tls && c->tls_records[KL_TO_SERVER] ? bind_u64(st, 40, c->tls_exchanges)
					      : sqlite3_bind_null(st, 40));
	bool h2 = c->h2;
	B(h2 ? bind_u64(st, 41, c->h2_streams) : sqlite3_bind_null(st, 41));
	B(h2 ? sqlite3_bind_int64(st, 42, c->h2_peak_streams) : sqlite3_bind_null(st, 42));
	B(h2 && c->h2_settings_max_streams >= 0 ? sqlite3_bind_int64(st, 43, c->h2_settings_max_streams)
						: sqlite3_bind_null(st, 43));
	B(h2 && c->h2_initial_window >= 0 ? sqlite3_bind_int64(st, 44, c->h2_initial_window)
					  : sqlite3_bind_null(st, 44));
	B(bind_text_or_null(st, 45, h2 ? conn_closer_name(c->h2_goaway_by) : NULL));
	B(h2 && c->h2_goaway_error >= 0 ? sqlite3_bind_int64(st, 46, c->h2_goaway_error)
					: sqlite3_bind_null(st, 46));
	B(h2 && c->h2_goaway_last_stream >= 0 ? sqlite3_bind_int64(st, 47, c->h2_goaway_last_stream)
					      : sqlite3_bind_null(st, 47));
	B(h2 ? bind_u64(st, 48, c->h2_rst_streams) : sqlite3_bind_null(st, 48));
	B(h2 && c->has_h2_ping_rtt ? sqlite3_bind_double(st, 49, kl_time_seconds(c->h2_ping_rtt))
				   : sqlite3_bind_null(st, 49));
#undef B
	if (rc != SQLITE_OK) {
		db_err(s, "insert connection: bind");
		return -1;
	}
	return 0;
}

/* Step one INSERT whose values are bound (`bound`; when false the binding
 * failed and the error is recorded) inside the batch, and commit the
 * batch when it is full.  `what` names it in errors. */
static int batch_step(struct store *s, sqlite3_stmt *st, bool bound, const char *what)
{
	int ret = -1;
	if (bound) {
		if (sqlite3_step(st) == SQLITE_DONE)
			ret = 0;
		else
			db_err(s, what);
	}
	/* reset returns the step's error again; it was recorded above.  The
	 * bindings stay: every insert binds all its parameters before each
	 * step (clearing them cost 3 % of the writer). */
	(void)sqlite3_reset(st);
	sync_batch_state(s);
	if (ret == 0 && ++s->batch_rows >= STORE_BATCH_ROWS)
		ret = batch_commit(s);
	return ret;
}

static int batch_open(struct store *s, const char *what)
{
	if (s->run_id <= 0) {
		set_err(s, "%s: no run begun", what);
		return -1;
	}
	sync_batch_state(s);
	if (!s->in_batch) {
		if (exec(s, "BEGIN IMMEDIATE", "begin batch") != 0)
			return -1;
		s->in_batch = true;
		s->batch_rows = 0;
	}
	return 0;
}

int store_conn_add(struct store *s, const struct conn_record *c)
{
	if (batch_open(s, "insert connection") != 0)
		return -1;
	return batch_step(s, s->ins_conn, bind_conn(s, c) == 0, "insert connection");
}

static int bind_time_or_null(sqlite3_stmt *st, int i, kl_time t)
{
	return t ? sqlite3_bind_double(st, i, kl_time_seconds(t)) : sqlite3_bind_null(st, i);
}

/* Bind request r as the row whose first parameter is base + 1. */
static int bind_request(struct store *s, sqlite3_stmt *st, int base,
			const struct request_record *r)
{
	int rc = SQLITE_OK;
#define B(call) do { if (rc == SQLITE_OK) rc = (call); } while (0)
	B(sqlite3_bind_int64(st, base + 1, r->conn_id));
	B(sqlite3_bind_int64(st, base + 2, s->run_id));
	B(bind_u64(st, base + 3, r->seq));
	B(bind_text_static(st, base + 4, r->method));
	B(bind_text_static(st, base + 5, r->uri));
	B(bind_text_static(st, base + 6, r->host));
	B(bind_text_static(st, base + 7, r->version));
	B(r->status ? sqlite3_bind_int(st, base + 8, r->status) : sqlite3_bind_null(st, base + 8));
	B(sqlite3_bind_int(st, base + 9, (int)r->interim));
	B(bind_time_or_null(st, base + 10, r->request_ts));
	B(bind_time_or_null(st, base + 11, r->request_end_ts));
	B(bind_time_or_null(st, base + 12, r->response_ts));
	B(bind_time_or_null(st, base + 13, r->response_end_ts));
	B(bind_text_static(st, base + 14, r->req_connection));
	B(bind_text_static(st, base + 15, r->req_keep_alive));
	B(bind_text_static(st, base + 16, r->resp_connection));
	B(bind_text_static(st, base + 17, r->resp_keep_alive));
	B(r->request_body_bytes >= 0 ? sqlite3_bind_int64(st, base + 18, r->request_body_bytes)
				     : sqlite3_bind_null(st, base + 18));
	B(r->response_body_bytes >= 0 ? sqlite3_bind_int64(st, base + 19, r->response_body_bytes)
				      : sqlite3_bind_null(st, base + 19));
	B(sqlite3_bind_int(st, base + 20, r->pipelined ? 1 : 0));
	B(r->has_idle_before ? sqlite3_bind_double(st, base + 21, kl_time_seconds(r->idle_before))
			     : sqlite3_bind_null(st, base + 21));
	B(bind_text_static(st, base + 22, r->upgrade));
	B(bind_text_static(st, base + 23, r->req_proxy_connection));
	B(r->stream_id ? sqlite3_bind_int64(st, base + 24, r->stream_id)
		       : sqlite3_bind_null(st, base + 24));
#undef B
	if (rc != SQLITE_OK)
		db_err(s, "insert request: bind");
	return rc;
}

int store_requests_add(struct store *s, const struct request_record *r, size_t n)
{
	if (batch_open(s, "insert request") != 0)
		return -1;
	while (n >= STORE_REQUEST_ROWS) {
		int rc = SQLITE_OK;
		for (int i = 0; i < STORE_REQUEST_ROWS && rc == SQLITE_OK; i++)
			rc = bind_request(s, s->ins_reqs, i * REQUEST_COLS, &r[i]);
		/* batch_step counts one row; count the others here. */
		s->batch_rows += STORE_REQUEST_ROWS - 1;
		if (batch_step(s, s->ins_reqs, rc == SQLITE_OK, "insert request") != 0)
			return -1;
		r += STORE_REQUEST_ROWS;
		n -= STORE_REQUEST_ROWS;
		if (n && batch_open(s, "insert request") != 0)
			return -1;
	}
	for (; n; r++, n--) {
		int rc = bind_request(s, s->ins_req, 0, r);
		if (batch_step(s, s->ins_req, rc == SQLITE_OK, "insert request") != 0)
			return -1;
		if (n > 1 && batch_open(s, "insert request") != 0)
			return -1;
	}
	return 0;
}

int store_request_add(struct store *s, const struct request_record *r)
{
	return store_requests_add(s, r, 1);
}

int store_finding_add(struct store *s, const struct finding_record *f)
{
	if (batch_open(s, "insert finding") != 0)
		return -1;
	sqlite3_stmt *st = s->ins_find;
	int rc = sqlite3_bind_int64(st, 1, s->run_id);
	if (rc == SQLITE_OK)
		rc = f->conn_id > 0 ? sqlite3_bind_int64(st, 2, f->conn_id) : sqlite3_bind_null(st, 2);
	if (rc == SQLITE_OK)
		rc = f->request_seq ? bind_u64(st, 3, f->request_seq) : sqlite3_bind_null(st, 3);
	if (rc == SQLITE_OK)
		rc = bind_time_or_null(st, 4, f->ts);
	if (rc == SQLITE_OK)
		rc = bind_text_or_null(st, 5, finding_kind_name(f->kind));
	if (rc == SQLITE_OK)
		rc = bind_text_or_null(st, 6, f->detail);
	if (rc != SQLITE_OK)
		db_err(s, "insert finding: bind");
	return batch_step(s, st, rc == SQLITE_OK, "insert finding");
}

int store_flush(struct store *s)
{
	return batch_commit(s);
}

/* One request, and the same client's next connection to the same server
 * came soon enough that this one could have carried its requests.  The
 * next one is found by window function: one sort, no pairwise join. */
static const char short_lived_sql[] =
	"INSERT INTO findings (run_id, conn_id, request_seq, ts, kind, detail)"
	" SELECT ?1, id, 1, next_first, ?3,"
	"  CASE WHEN next_first >= last_seen"
	"   THEN printf('one request; the same client opened its next connection to this server"
	" %.6f s after this one ended (within %g s)', next_first - last_seen, win)"
	"   ELSE printf('one request; the same client opened another connection to this server"
	" while this one was open') END"
	" FROM (SELECT id, requests, last_seen, COALESCE(ka_timeout_advertised, ?2) AS win,"
	"        LEAD(first_seen) OVER (PARTITION BY client_ip, server_ip, server_port"
	"                               ORDER BY first_seen, id) AS next_first"
	"       FROM connections WHERE run_id = ?1 AND requests IS NOT NULL)"
	" WHERE requests = 1 AND next_first IS NOT NULL AND next_first <= last_seen + win";

/* The request of an idle-close-race, sent again first thing on a new
 * connection of the same client to the same server. */
static const char retried_sql[] =
	"INSERT INTO findings (run_id, conn_id, request_seq, ts, kind, detail)"
	" SELECT ?1, c2.id, 1, f.request_ts, ?3,"
	"  printf('%s %s sent again %.6f s after the try on connection %d, which got no response',"
	"         f.method, f.uri, f.request_ts - race.request_ts, race.conn_id)"
	" FROM (SELECT f.conn_id, r.method, r.uri, r.request_ts, c.client_ip, c.server_ip,"
	"              c.server_port"
	"       FROM findings f JOIN connections c ON c.id = f.conn_id"
	"       JOIN requests r ON r.run_id = ?1 AND r.conn_id = f.conn_id AND r.seq = f.request_seq"
	"       WHERE f.run_id = ?1 AND f.kind = ?4) race"
	" JOIN connections c2 ON c2.run_id = ?1 AND c2.client_ip = race.client_ip"
	"  AND c2.server_ip = race.server_ip AND c2.server_port = race.server_port"
	"  AND c2.id <> race.conn_id"
	" JOIN requests f ON f.run_id = ?1 AND f.conn_id = c2.id AND f.seq = 1"
	"  AND f.method IS race.method AND f.uri IS race.uri"
	"  AND f.request_ts >= race.request_ts AND f.request_ts <= race.request_ts + ?2";

/* Run one of the cross-connection statements: ?1 the run, ?2 the window,
 * ?3 the kind it adds, ?4 the kind it follows (if it uses one). */
static int run_cross(struct store *s, const char *sql, double window_s, enum finding_kind adds,
		     enum finding_kind follows, uint64_t *added)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(s, "cross-connection findings");
		return -1;
	}
	int rc = sqlite3_bind_int64(st, 1, s->run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 2, window_s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, finding_kind_name(adds), -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 4)
		rc = sqlite3_bind_text(st, 4, finding_kind_name(follows), -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc != SQLITE_OK)
		db_err(s, "cross-connection findings");
	else
		*added += (uint64_t)sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

int store_cross_findings(struct store *s, double window_s, uint64_t *added)
{
	if (batch_open(s, "cross-connection findings") != 0)
		return -1;
	if (run_cross(s, short_lived_sql, window_s, FINDING_SHORT_LIVED_CONNECTION,
		      FINDING_KIND_COUNT, added) != 0)
		return -1;
	/* Retries only follow races: skip the scan of the run's requests
	 * when there is none (findings_run index). */
	int64_t races = 0;
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE run_id = %lld"
		 " AND kind = '%s'", (long long)s->run_id, finding_kind_name(FINDING_IDLE_CLOSE_RACE));
	if (query_int(s->db, sql, &races) != SQLITE_OK) {
		db_err(s, "cross-connection findings");
		return -1;
	}
	if (races && run_cross(s, retried_sql, window_s, FINDING_RETRIED_REQUEST,
			       FINDING_IDLE_CLOSE_RACE, added) != 0)
		return -1;
	return batch_commit(s);
}

static const char *status_name(enum store_run_status st)
{
	switch (st) {
	case STORE_RUN_RUNNING: return "running";
	case STORE_RUN_COMPLETE: return "complete";
	case STORE_RUN_TRUNCATED: return "truncated";
	case STORE_RUN_INTERRUPTED: return "interrupted";
	case STORE_RUN_ERROR: return "error";
	}
	return NULL;
}

int store_run_finish(struct store *s, const struct store_run_totals *t)
{
	if (s->run_id <= 0) {
		set_err(s, "finish run: no run begun");
		return -1;
	}
	/* The run row is updated even when the last batch failed, so the
	 * database says the run stopped; the commit error stays reported. */
	int ret = batch_commit(s);
	const char *status = status_name(t->status);
	if (!status) {
		set_err(s, "finish run: status %d out of range", (int)t->status);
		return -1;
	}
	/* Rows of the last batch were lost: the run cannot say 'complete'. */
	char lost[600];
	const char *message = t->message;
	if (ret != 0) {
		status = status_name(STORE_RUN_ERROR);
		snprintf(lost, sizeof lost, "the last rows were not stored: %s", s->err);
		message = lost;
	}
	char keep_err[sizeof s->err];
	memcpy(keep_err, s->err, sizeof keep_err);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db,
			"UPDATE runs SET finished_at = ?2, packets = ?3, bytes = ?4,"
			" packets_dropped = ?5, status = ?6, message = ?7, first_packet = ?8,"
			" last_packet = ?9, packets_not_tcp = ?10, packets_fragment = ?11,"
			" packets_truncated = ?12, packets_malformed = ?13, connections = ?14,"
			" reasm_cap_hits = ?15, connections_evicted = ?16, requests = ?17,"
			" findings = ?18, packets_received = ?19 WHERE id = ?1",
			-1, &st, NULL) != SQLITE_OK) {
		db_err(s, "finish run");
		return -1;
	}
	int rc = SQLITE_OK;
#define B(call) do { if (rc == SQLITE_OK) rc = (call); } while (0)
	B(sqlite3_bind_int64(st, 1, s->run_id));
	B(sqlite3_bind_double(st, 2, kl_time_seconds(t->finished_at)));
	B(bind_u64(st, 3, t->packets));
	B(bind_u64(st, 4, t->bytes));
	B(bind_u64(st, 5, t->packets_dropped));
	B(sqlite3_bind_text(st, 6, status, -1, SQLITE_STATIC));
	B(bind_text_or_null(st, 7, message));
	/* 0 means no packet was read: NULL, not 1970. */
	B(t->first_packet ? sqlite3_bind_double(st, 8, kl_time_seconds(t->first_packet))
			  : sqlite3_bind_null(st, 8));
	B(t->last_packet ? sqlite3_bind_double(st, 9, kl_time_seconds(t->last_packet))
			 : sqlite3_bind_null(st, 9));
	B(bind_u64(st, 10, t->packets_not_tcp));
	B(bind_u64(st, 11, t->packets_fragment));
	B(bind_u64(st, 12, t->packets_truncated));
	B(bind_u64(st, 13, t->packets_malformed));
	B(bind_u64(st, 14, t->connections));
	B(bind_u64(st, 15, t->reasm_cap_hits));
	B(bind_u64(st, 16, t->connections_evicted));
	B(bind_u64(st, 17, t->requests));
	B(bind_u64(st, 18, t->findings));
	B(t->packets_received >= 0 ? sqlite3_bind_int64(st, 19, t->packets_received)
				   : sqlite3_bind_null(st, 19));
#undef B
	if (rc != SQLITE_OK) {
		db_err(s, "finish run: bind");
		ret = -1;
	} else if (sqlite3_step(st) != SQLITE_DONE) {
		db_err(s, "finish run");
		ret = -1;
	} else if (sqlite3_changes(s->db) != 1) {
		set_err(s, "finish run: run %lld is not in the database", (long long)s->run_id);
		ret = -1;
	}
	(void)sqlite3_finalize(st);
	s->run_id = 0;
	if (ret == -1 && keep_err[0] && strstr(s->err, "finish run") == NULL)
		memcpy(s->err, keep_err, sizeof keep_err);   /* report the first failure */
	return ret;
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->err : "no store";
}

void store_close(struct store *s)
{
	if (!s)
		return;
	/* Nobody is left to hear of a failed commit; the run row then still
	 * says 'running', which is what a reader should conclude. */
	(void)batch_commit(s);
	sqlite3_finalize(s->ins_conn);
	sqlite3_finalize(s->ins_req);
	sqlite3_finalize(s->ins_reqs);
	sqlite3_finalize(s->ins_find);
	/* Every statement is finalized, so close cannot be BUSY. */
	(void)sqlite3_close(s->db);
	free(s);
}
