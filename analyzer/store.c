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

#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include "columns.h"
#include "facts.h"

/* Milliseconds a writer waits for another process's lock (e.g. a long
 * `kalens sql` read does not block WAL writers, but a checkpoint can). */
#define STORE_BUSY_TIMEOUT_MS 5000

struct bind_plan {
	const struct table_decl *t;
	size_t ncols;                 /* the table's columns, every part */
	struct bind_col {
		const struct column *col;
		uint16_t idx;             /* in the table's values, parts in order */
		bool interval;            /* a duration (unit "s"): never stored negative */
	} *cols;
	size_t n;
	int run_idx;                  /* the COL_RUN column's index, or -1 */
	int seq_idx;                  /* the COL_SEQ column's index, or -1 */
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_conn;   /* INSERT INTO connections, prepared once */
	sqlite3_stmt *ins_req;    /* INSERT INTO requests, one row */
	sqlite3_stmt *ins_reqs;   /* the same, STORE_REQUEST_ROWS rows */
	sqlite3_stmt *ins_find;   /* INSERT INTO findings */
	sqlite3_stmt *ins_att;    /* INSERT INTO attempts */
	sqlite3_stmt *ins_run;    /* INSERT INTO runs, when a run begins */
	sqlite3_stmt *upd_run;    /* UPDATE runs, when it finishes */
	sqlite3_stmt *upd_live;   /* UPDATE runs, its COL_LIVE columns: a live run's progress */
	struct store_decls decls; /* the tables, as declared */
	/* What each statement binds: runs insert and update, connections,
	 * requests, findings. */
	struct bind_plan plan_run, plan_run_update, plan_run_live, plan_conn, plan_req, plan_find,
		plan_att;
	/* The next connection's id in this run: taken by the analysis
	 * threads while the writer stores (store_conn_next_id). */
	_Atomic int64_t next_conn_id;
	int64_t stored_seq;       /* connections stored in this run (COL_SEQ) */
	int64_t run_id;           /* current run, 0 between runs */
	bool in_batch;            /* a BEGIN is open */
	unsigned batch_rows;      /* rows inserted in the open batch */
	char err[512];
};

/* The tables come from their declarations (store_decls_init); indexes and
 * views are written here once, created in the same transaction as the
 * tables, and made again when an older database is upgraded.  The
 * per-server finding counts of keepalive_compliance come from the finding
 * registry (findings.h). */
const char store_ship_sql[] =
	"CREATE TABLE IF NOT EXISTS ship_progress (destination TEXT NOT NULL,"
	" table_name TEXT NOT NULL, last_id INTEGER NOT NULL, shipped_at REAL,"
	" PRIMARY KEY (destination, table_name));"
	"CREATE TABLE IF NOT EXISTS ship_runs (destination TEXT NOT NULL, run_id INTEGER NOT NULL,"
	" conn_seq INTEGER NOT NULL, version INTEGER NOT NULL, status TEXT, packets INTEGER,"
	" shipped_at REAL, PRIMARY KEY (destination, run_id));";

static const char schema_sql[] =
	"CREATE INDEX IF NOT EXISTS connections_run ON connections (run_id, stored_seq);"
	/* What waits to be shipped, per destination and run (docs/fleet.md):
	 * rows past the marks kalens ship recorded, and a run row whose status
	 * or packet count changed since it was sent. */
	"CREATE VIEW IF NOT EXISTS ship_backlog AS SELECT d.destination, r.id AS run_id,"
	" (SELECT COUNT(*) FROM connections c WHERE c.run_id = r.id"
	"   AND COALESCE(c.stored_seq, c.id) > COALESCE(s.conn_seq, 0)) AS connections_waiting,"
	" (SELECT COUNT(*) FROM requests q WHERE q.run_id = r.id"
	"   AND q.id > COALESCE(pr.last_id, 0)) AS requests_waiting,"
	" (SELECT COUNT(*) FROM findings f WHERE f.run_id = r.id"
	"   AND f.id > COALESCE(pf.last_id, 0)) AS findings_waiting,"
	" (s.status IS NOT r.status OR s.packets IS NOT COALESCE(r.packets, -1)) AS run_row_waiting,"
	" MAX(COALESCE(s.shipped_at, 0), COALESCE(pr.shipped_at, 0), COALESCE(pf.shipped_at, 0))"
	"   AS last_shipped_at"
	" FROM (SELECT destination FROM ship_progress UNION SELECT destination FROM ship_runs) d"
	" CROSS JOIN runs r"
	" LEFT JOIN ship_runs s ON s.destination = d.destination AND s.run_id = r.id"
	" LEFT JOIN ship_progress pr ON pr.destination = d.destination AND pr.table_name = 'requests'"
	" LEFT JOIN ship_progress pf ON pf.destination = d.destination AND pf.table_name = 'findings';"
	/* No REFERENCES: a request is stored when it completes, its connection
	 * when the connection ends, possibly batches later; and a foreign-key
	 * lookup per request row costs more than it checks (kalens writes
	 * run_id itself).  No index at all: keeping one on (conn_id, seq)
	 * cost a quarter of the writer's time (bench/README.md), and queries
	 * join requests to connections through the connection's primary key.
	 * Databases made before keep the index they have. */
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
	" WITH f AS (SELECT conn_id," FINDING_SQL_PER_SERVER_COUNTS " COUNT(*) AS findings"
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
	"  COALESCE(SUM(c.request_dropped_by_server), 0) AS request_dropped_by_server,"
	"  COALESCE(SUM(c.retried_request), 0) AS retried_request,"
	"  COALESCE(SUM(c.short_lived_connection), 0) AS short_lived_connection,"
	"  COALESCE(SUM(c.http10_keepalive_not_echoed), 0) AS http10_keepalive_not_echoed,"
	"  COALESCE(SUM(c.http10_response), 0) AS http10_response,"
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
	/* What each missed reuse cost: a connection that carried one request
	 * (short-lived-connection) and the same client's next connection to
	 * the same server, whose handshakes reuse would have spared (the
	 * pairing is the finding's own: store_cross_findings). */
	"CREATE VIEW IF NOT EXISTS missed_reuse_cost AS"
	" SELECT s.run_id, s.client_ip, s.server_ip, s.server_port, s.id AS conn_id,"
	"  s.next_id AS next_conn_id, s.next_rtt AS handshake_s, s.next_tls AS tls_handshake_s,"
	"  COALESCE(s.next_rtt, 0) + COALESCE(s.next_tls, 0) AS cost_s"
	" FROM (SELECT id, run_id, client_ip, server_ip, server_port,"
	"   LEAD(id) OVER w AS next_id, LEAD(handshake_rtt) OVER w AS next_rtt,"
	"   LEAD(tls_handshake_s) OVER w AS next_tls"
	"  FROM connections WHERE requests IS NOT NULL"
	"  WINDOW w AS (PARTITION BY run_id, client_ip, server_ip, server_port"
	"   ORDER BY first_seen, id)) s"
	" JOIN findings f ON f.conn_id = s.id AND f.kind = 'short-lived-connection';"
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

/* Columns of the widest table (connections: 59 today), for a row's values. */
#define STORE_MAX_COLS 128

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
static int check_version(struct store *s, const char *path, int64_t *version)
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
	/* Version 0 with objects in it is someone else's database: ours set
	 * user_version in the transaction that creates the schema.  A version
	 * without our runs table is someone else's too.  Both are refused
	 * here, before anything (even the WAL switch) writes to the file, and
	 * again under the write lock: another process may have created the
	 * schema since the first look. */
	int64_t objects = 0, runs = 0;
	if (query_int(s->db, "SELECT COUNT(*) FROM sqlite_master", &objects) != SQLITE_OK ||
	    query_int(s->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
		      " AND name = 'runs'", &runs) != SQLITE_OK) {
		set_err(s, "%s: cannot read the schema (%s)", path, sqlite3_errmsg(s->db));
		return -1;
	}
	if (v == 0 && objects > 0) {
		set_err(s, "%s: not a kalens database (it holds other tables and no"
			" kalens schema version)", path);
		return -1;
	}
	if (v != 0 && runs == 0) {
		set_err(s, "%s: not a kalens database (user_version %lld but no runs table)", path,
			(long long)v);
		return -1;
	}
	if (v < 0 || v > STORE_SCHEMA_VERSION) {   /* 1 to 4 are migrated */
		set_err(s, "%s: schema version %lld, this kalens writes %d", path, (long long)v,
			STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Pages of a new database: rows are appended in bulk, and 16 KiB pages
 * cost SQLite (and the WAL and its checkpoints) a quarter of the page
 * writes of the default 4 KiB: manysmall 13% faster, medians of five
 * paired runs (bench/README.md).  A database that exists keeps its own. */
#define STORE_PAGE_SIZE 16384

static int set_pragmas(struct store *s, const char *path)
{
	sqlite3_stmt *st = NULL;
	char sql[48];
	snprintf(sql, sizeof sql, "PRAGMA page_size = %d", STORE_PAGE_SIZE);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: page_size: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
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

/* ---- the declared tables -------------------------------------------------- */

static const char *const store_source_kinds[] = { "file", "live", NULL };
static const char *const store_run_status_names[] = {
	"running", "complete", "truncated", "interrupted", "error", NULL
};

/* A row of `runs` as its columns read it. */
struct run_row {
	const struct store_run_info *info;
	const struct store_run_totals *t;  /* NULL while the run goes on */
	const char *status, *message;
	const char *uuid;                  /* the run's, made when it began */
	const char *writer;                /* this process (store_writer_alive) */
};

/* One line per column: name, type, flags, allowed words, unit, meaning,
 * what NULL means, and its value from `f`, the struct run_row.  COL_FIXED
 * columns are written when the run begins (from f->info), the others when
 * it finishes (from f->t); each is NULL in the other half of the row. */
#define RUN_COLUMNS(X) \
	X(id, INTEGER, COL_KEY, NULL, "", \
	  "run number, 1, 2, 3… in the order the runs began", \
	  "", \
	  cv_null()) \
	X(source, TEXT, COL_NOT_NULL | COL_FIXED, NULL, "", \
	  "the capture file path as given on the command line, or the interface (`eth0`, " \
	  "`any`)", \
	  "", \
	  f->info ? cv_text(f->info->source) : cv_null()) \
	X(source_kind, TEXT, COL_NOT_NULL | COL_FIXED, store_source_kinds, "", \
	  "`file` (`kalens read`) or `live` (`kalens live`)", \
	  "", \
	  f->info ? cv_text(f->info->source_kind) : cv_null()) \
	X(filter, TEXT, COL_FIXED, NULL, "", \
	  "the BPF filter given with `-f`", \
	  "no filter", \
	  f->info ? cv_text(f->info->filter) : cv_null()) \
	X(started_at, REAL, COL_NOT_NULL | COL_FIXED, NULL, "s, epoch", \
	  "wall-clock time the run began", \
	  "", \
	  f->info ? cv_seconds(f->info->started_at) : cv_null()) \
	X(finished_at, REAL, 0, NULL, "s, epoch", \
	  "wall-clock time the run ended", \
	  "not finished (`running`)", \
	  f->t ? cv_seconds(f->t->finished_at) : cv_null()) \
	X(packets, INTEGER, COL_LIVE, NULL, "frames", \
	  "frames read from the capture", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets) : cv_null()) \
	X(bytes, INTEGER, COL_LIVE, NULL, "bytes", \
	  "their original (wire) length, summed", \
	  "not finished", \
	  f->t ? cv_u64(f->t->bytes) : cv_null()) \
	X(packets_dropped, INTEGER, COL_LIVE, NULL, "frames", \
	  "live: frames dropped by the kernel or the interface while capturing (libpcap's " \
	  "`ps_drop + ps_ifdrop`); 0 for capture files", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets_dropped) : cv_null()) \
	X(kalens_version, TEXT, COL_NOT_NULL | COL_FIXED, NULL, "", \
	  "version of kalens that wrote the run, e.g. `0.1.0`", \
	  "", \
	  f->info ? cv_text(KALENS_VERSION) : cv_null()) \
	X(status, TEXT, COL_NOT_NULL, store_run_status_names, "", \
	  "how the run ended, see below", \
	  "", \
	  cv_text(f->status)) \
	X(message, TEXT, 0, NULL, "", \
	  "why the run stopped: for a file that stopped early the read error, or " \
	  "`packet count reached` (`--count`); for a live run `stopped by a signal`, " \
	  "`duration reached` or `packet count reached`", \
	  "nothing to say", \
	  cv_text(f->message)) \
	X(link_type, TEXT, COL_FIXED, NULL, "", \
	  "capture link type name as libpcap spells it, e.g. `EN10MB`, `LINUX_SLL2`, `RAW`", \
	  "never NULL in practice", \
	  f->info ? cv_text(f->info->link_type_name) : cv_null()) \
	X(link_type_id, INTEGER, COL_FIXED, NULL, "", \
	  "the same as a pcap `DLT_` number, e.g. 1", \
	  "never NULL in practice", \
	  f->info ? cv_int(f->info->link_type) : cv_null()) \
	X(first_packet, REAL, COL_LIVE, NULL, "s, epoch", \
	  "earliest capture timestamp of a frame (the first frame's, unless time went " \
	  "backwards)", \
	  "no frame read, or not finished", \
	  f->t ? f->t->first_packet ? cv_seconds(f->t->first_packet) : cv_null() : cv_null()) \
	X(last_packet, REAL, COL_LIVE, NULL, "s, epoch", \
	  "latest capture timestamp of a frame (the last frame's, unless time went " \
	  "backwards)", \
	  "no frame read, or not finished", \
	  f->t ? f->t->last_packet ? cv_seconds(f->t->last_packet) : cv_null() : cv_null()) \
	X(packets_not_tcp, INTEGER, 0, NULL, "frames", \
	  "well-formed frames that are not TCP over IP (ARP, UDP, ICMP, …)", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets_not_tcp) : cv_null()) \
	X(packets_fragment, INTEGER, 0, NULL, "frames", \
	  "IPv4 and IPv6 fragments read (reassembled since schema 6: see " \
	  "`fragments_reassembled`, `fragments_dropped`)", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets_fragment) : cv_null()) \
	X(packets_truncated, INTEGER, 0, NULL, "frames", \
	  "frames whose link, IP or TCP headers were cut by the snap length", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets_truncated) : cv_null()) \
	X(packets_malformed, INTEGER, 0, NULL, "frames", \
	  "frames whose headers contradict themselves (lengths, versions)", \
	  "not finished", \
	  f->t ? cv_u64(f->t->packets_malformed) : cv_null()) \
	X(connections, INTEGER, COL_LIVE, NULL, "", \
	  "connections stored for this run", \
	  "not finished", \
	  f->t ? cv_u64(f->t->connections) : cv_null()) \
	X(reasm_cap_hits, INTEGER, 0, NULL, "", \
	  "times a reassembly memory cap turned held data into a gap (see " \
	  "[reassembly.md](reassembly.md))", \
	  "not finished", \
	  f->t ? cv_u64(f->t->reasm_cap_hits) : cv_null()) \
	X(connections_evicted, INTEGER, 0, NULL, "", \
	  "connections ended early (`close_kind` `evicted`) because `--max-conns` were " \
	  "already tracked", \
	  "not finished", \
	  f->t ? cv_u64(f->t->connections_evicted) : cv_null()) \
	X(requests, INTEGER, COL_LIVE, NULL, "", \
	  "rows the run wrote to `requests`", \
	  "not finished", \
	  f->t ? cv_u64(f->t->requests) : cv_null()) \
	X(findings, INTEGER, COL_LIVE, NULL, "", \
	  "rows the run wrote to `findings`", \
	  "not finished", \
	  f->t ? cv_u64(f->t->findings) : cv_null()) \
	X(packets_received, INTEGER, COL_LIVE, NULL, "frames", \
	  "live: frames the kernel received for the capture (libpcap's `ps_recv`; with a " \
	  "filter, those that passed it)", \
	  "a file run, a run made before schema 3, or not finished", \
	  f->t ? cv_int_or_null(f->t->packets_received) : cv_null()) \
	X(packets_encrypted, INTEGER, 0, NULL, "frames", \
	  "protected (encrypted) 802.11 data frames, which cannot be read without the keys", \
	  "a run made before schema 6, or not finished", \
	  f->t ? cv_u64(f->t->packets_encrypted) : cv_null()) \
	X(packets_unsupported, INTEGER, 0, NULL, "frames", \
	  "frames in an encapsulation kalens does not read: GRE with source routing, an " \
	  "unknown GENEVE or ERSPAN version, tunnels nested more than 4 deep, a PPI or PKTAP " \
	  "header naming a link type kalens does not read", \
	  "a run made before schema 6, or not finished", \
	  f->t ? cv_u64(f->t->packets_unsupported) : cv_null()) \
	X(fragments_reassembled, INTEGER, 0, NULL, "frames", \
	  "IP fragments that became part of a reassembled datagram, then read like any " \
	  "other packet (see [reassembly.md](reassembly.md))", \
	  "a run made before schema 6, or not finished", \
	  f->t ? cv_u64(f->t->fragments_reassembled) : cv_null()) \
	X(fragments_dropped, INTEGER, 0, NULL, "frames", \
	  "IP fragments that never became part of a datagram: timed out, evicted by the " \
	  "memory caps, contradicting their datagram, duplicates, or still incomplete at the end", \
	  "a run made before schema 6, or not finished", \
	  f->t ? cv_u64(f->t->fragments_dropped) : cv_null()) \
	X(packets_time_backwards, INTEGER, 0, NULL, "frames", \
	  "frames timestamped earlier than the frame before them (a clock stepped back, " \
	  "captures merged out of order); intervals that would come out negative are " \
	  "stored as NULL", \
	  "a run made before schema 6, or not finished", \
	  f->t ? cv_u64(f->t->packets_time_backwards) : cv_null()) \
	X(sensor, TEXT, COL_FIXED, NULL, "", \
	  "the sensor that made the run: `--sensor NAME`, by default the host name; with " \
	  "`run_uuid` it names the run's rows among many sensors' (docs/fleet.md)", \
	  "a run made before this column (`kalens ship` names it by its own `--sensor`)", \
	  f->info ? cv_text(f->info->sensor) : cv_null()) \
	X(run_uuid, TEXT, COL_FIXED, NULL, "", \
	  "a random (version 4) UUID given to the run when it began, `8-4-4-4-12` hex", \
	  "a run made before this column (`kalens ship` gives it one when it ships it)", \
	  f->info ? cv_text(f->uuid) : cv_null()) \
	X(writer, TEXT, COL_FIXED, NULL, "", \
	  "the process that wrote the run: `host=H pid=P start=S boot=B` (S: its start " \
	  "time in clock ticks after boot, from /proc; B: the kernel's boot id), so a " \
	  "`running` run whose process is gone is recognised: `report` and the SQL function " \
	  "`run_status(status, writer)` call it `interrupted (process ended)`, and the next " \
	  "kalens that writes to the database marks it `interrupted`", \
	  "a run made before this column", \
	  f->info ? cv_text(f->writer) : cv_null()) \
	X(memcap, INTEGER, 0, NULL, "bytes", \
	  "the memory cap the run read with (`--memcap`; docs/memory.md)", \
	  "none (`--memcap 0`), a run made before this column, or not finished", \
	  f->t && f->t->memcap ? cv_u64(f->t->memcap) : cv_null()) \
	X(memory_peak, INTEGER, 0, NULL, "bytes", \
	  "the most analysis state held at once, as kalens accounts it (docs/memory.md)", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_u64(f->t->memory_peak) : cv_null()) \
	X(connections_evicted_memory, INTEGER, 0, NULL, "", \
	  "connections ended early (`close_kind` `evicted`) because the analysis state " \
	  "reached `memcap`", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_u64(f->t->connections_evicted_memory) : cv_null()) \
	X(memory_shed, INTEGER, 0, NULL, "bytes", \
	  "the state those evictions freed", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_u64(f->t->memory_shed) : cv_null()) \
	X(cpu_read_s, REAL, 0, NULL, "s", \
	  "CPU time of the thread that read the capture (decoding, IP fragments; with " \
	  "`threads` 1 also the analysis: connections, reassembly, dissectors, the " \
	  "keep-alive rules)", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_real(f->t->cpu_read_s) : cv_null()) \
	X(cpu_store_s, REAL, 0, NULL, "s", \
	  "CPU time of the thread that wrote its rows to this database; with `cpu_read_s` " \
	  "and `cpu_workers_s`, which a run waited on (the threads run at once)", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_real(f->t->cpu_store_s) : cv_null()) \
	X(threads, INTEGER, COL_FIXED, NULL, "", \
	  "analysis workers the run used (`--threads`; docs/performance.md): 1, the " \
	  "reading thread analysed; more, each took the connections that hash to it", \
	  "a run made before this column", \
	  f->info ? cv_int(f->info->threads ? f->info->threads : 1) : cv_null()) \
	X(cpu_workers_s, REAL, 0, NULL, "s", \
	  "CPU time of the analysis worker threads together (connections, reassembly, " \
	  "dissectors, the keep-alive rules); 0 when `threads` is 1 (it is in `cpu_read_s`)", \
	  "a run made before this column, or not finished", \
	  f->t ? cv_real(f->t->cpu_workers_s) : cv_null()) \
	X(updated_at, REAL, COL_LIVE, NULL, "s, epoch", \
	  "wall-clock time the row was last written: each commit of a live capture (every 2 s, " \
	  "with the counts the docs mark as refreshed), and the end " \
	  "of any run; `report` says how long ago, and calls a live run whose updates stopped " \
	  "a minute ago `stopped unexpectedly`", \
	  "a run made before this column, or a file run not finished", \
	  f->t && f->t->updated_at ? cv_seconds(f->t->updated_at) : cv_null()) \
	X(connections_open, INTEGER, COL_LIVE, NULL, "", \
	  "connections being followed when the row was written (a live run's still open, not " \
	  "yet in `connections`); 0 at the end of a run", \
	  "a run made before this column, or a file run not finished", \
	  f->t ? cv_u64(f->t->connections_open) : cv_null())

#define COLUMN_REC struct run_row
COLUMNS_DEFINE(RUN_COLUMNS, run_column_array)
#undef COLUMN_REC

void store_decls_init(struct store_decls *d)
{
	static const struct column_list runs = COLUMN_LIST(run_column_array);
	d->runs = runs;
	d->conn_parts[0] = conn_columns;
	for (int i = 0; i < FACTS_COUNT; i++)
		d->conn_parts[1 + i] = facts_section((enum facts_id)i)->columns;
	d->requests = request_columns;
	d->findings = finding_columns;
	d->attempts = attempt_columns;
	const struct table_decl t[STORE_TABLES] = {
		[STORE_T_RUNS] = { "runs", &d->runs, 1, 0 },
		[STORE_T_CONNECTIONS] = { "connections", d->conn_parts, 1 + FACTS_COUNT,
					  TABLE_KEY_FROM_RECORD | TABLE_RUN_CHECKED },
		[STORE_T_REQUESTS] = { "requests", &d->requests, 1, 0 },
		[STORE_T_FINDINGS] = { "findings", &d->findings, 1, TABLE_RUN_CHECKED },
		[STORE_T_ATTEMPTS] = { "attempts", &d->attempts, 1, TABLE_RUN_CHECKED },
	};
	memcpy(d->tables, t, sizeof t);
}

const struct column *store_decl_column(const struct store_decls *d, const char *table,
				       const char *name)
{
	for (int i = 0; i < STORE_TABLES; i++) {
		const struct table_decl *t = &d->tables[i];
		if (strcmp(t->name, table) != 0)
			continue;
		for (size_t p = 0; p < t->nparts; p++)
			for (size_t c = 0; c < t->parts[p].n; c++)
				if (!strcmp(t->parts[p].cols[c].name, name))
					return &t->parts[p].cols[c];
	}
	return NULL;
}

/* SQL text, grown as it is written; `oom` latches a failed allocation. */
struct sqlbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sqlbuf *b, const char *fmt, ...)
{
	for (int pass = 0; pass < 2 && !b->oom; pass++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* Is column c of table t written by an insert?  A key the store numbers is
 * left to SQLite (rowid). */
static bool col_inserted(const struct table_decl *t, const struct column *c)
{
	return !(c->flags & COL_KEY) || (t->flags & TABLE_KEY_FROM_RECORD);
}

/* How SQLite spells column c in a table definition (`in_create`) or an
 * ALTER TABLE ADD COLUMN, which cannot add NOT NULL or a reference. */
static void column_sql(struct sqlbuf *b, const struct table_decl *t, const struct column *c,
		       bool in_create)
{
	sb_add(b, "%s %s", c->name, col_type_name(c->type));
	if (c->flags & COL_KEY) {
		sb_add(b, " PRIMARY KEY");
		return;
	}
	if (in_create && (c->flags & (COL_NOT_NULL | COL_RUN)))
		sb_add(b, " NOT NULL");
	if (in_create && (c->flags & COL_RUN) && (t->flags & TABLE_RUN_CHECKED))
		sb_add(b, " REFERENCES runs(id)");
	/* OR chains, not IN lists: SQLite builds a temporary index for an IN
	 * list on every execution, which was a third of an insert's cost. */
	for (size_t i = 0; c->values && c->values[i]; i++)
		sb_add(b, "%s%s = '%s'", i ? " OR " : " CHECK (", c->name, c->values[i]);
	if (c->values && c->values[0])
		sb_add(b, ")");
}

static void table_sql(struct sqlbuf *b, const struct table_decl *t)
{
	sb_add(b, "CREATE TABLE IF NOT EXISTS %s (", t->name);
	const char *sep = "";
	for (size_t p = 0; p < t->nparts; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++) {
			sb_add(b, "%s", sep);
			column_sql(b, t, &t->parts[p].cols[i], true);
			sep = ", ";
		}
	}
	sb_add(b, ");\n");
}

/* "INSERT INTO t (a, b, ...) VALUES (?, ?, ...)" for `rows` rows. */
static void insert_sql(struct sqlbuf *b, const struct table_decl *t, int rows)
{
	sb_add(b, "INSERT INTO %s (", t->name);
	int n = 0;
	for (size_t p = 0; p < t->nparts; p++)
		for (size_t i = 0; i < t->parts[p].n; i++)
			if (col_inserted(t, &t->parts[p].cols[i]))
				sb_add(b, "%s%s", n++ ? ", " : "", t->parts[p].cols[i].name);
	sb_add(b, ") VALUES ");
	for (int r = 0; r < rows; r++) {
		for (int i = 0; i < n; i++)
			sb_add(b, "%s", i ? ",?" : r ? ",(?" : "(?");
		sb_add(b, ")");
	}
}

static int prepare_insert(struct store *s, const struct table_decl *t, int rows,
			  sqlite3_stmt **st)
{
	struct sqlbuf b = { 0 };
	insert_sql(&b, t, rows);
	int rc = b.oom ? SQLITE_NOMEM : sqlite3_prepare_v2(s->db, b.p, -1, st, NULL);
	free(b.p);
	return rc;
}

/* A column of unit "s" holds a duration (an epoch time is "s, epoch").
 * Capture timestamps can go backwards (a clock stepped back, merged
 * captures), and a duration computed across such a step comes out
 * negative: that is no fact about the traffic, so it is stored as NULL,
 * for every dissector's columns alike (docs/schema.md). */
static bool col_is_interval(const struct column *c)
{
	return c->type == COL_REAL && strcmp(c->unit, "s") == 0 && !(c->flags & COL_NOT_NULL);
}

/* A column a statement binds: inserted, none of `skip`'s flags, and all of
 * `need`'s (0: any). */
static bool col_planned(const struct table_decl *t, const struct column *c, unsigned skip,
			unsigned need)
{
	return col_inserted(t, c) && !(c->flags & skip) && (c->flags & need) == need;
}

/* What one statement binds, in order: each column and which record of
 * the row (part) it is read from.  Made once when the store opens, so a
 * row's binding is one flat loop. */
static int plan_make(struct bind_plan *pl, const struct table_decl *t, unsigned skip,
		     unsigned need)
{
	pl->t = t;
	pl->n = pl->ncols = 0;
	pl->run_idx = -1;
	pl->seq_idx = -1;
	for (size_t p = 0; p < t->nparts; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++)
			pl->n += col_planned(t, &t->parts[p].cols[i], skip, need);
		pl->ncols += t->parts[p].n;
	}
	if (pl->ncols > STORE_MAX_COLS)
		return SQLITE_TOOBIG;
	pl->cols = calloc(pl->n ? pl->n : 1, sizeof *pl->cols);
	if (!pl->cols)
		return SQLITE_NOMEM;
	size_t k = 0, idx = 0;
	for (size_t p = 0; p < t->nparts; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++, idx++) {
			const struct column *c = &t->parts[p].cols[i];
			if (col_planned(t, c, skip, need)) {
				pl->cols[k].col = c;
				pl->cols[k].interval = col_is_interval(c);
				pl->cols[k++].idx = (uint16_t)idx;
			}
			if (c->flags & COL_RUN)
				pl->run_idx = (int)idx;
			if (c->flags & COL_SEQ)
				pl->seq_idx = (int)idx;
		}
	}
	return SQLITE_OK;
}

/* Bind a row by plan pl from recs (one record per part; NULL: the part is
 * absent, its columns NULL) to the parameters from base + 1 on.  Each
 * part's values come from its list's values() in one call.  Text a getter
 * formatted is copied; other text outlives the step (the records do), so
 * SQLite need not copy it: the pointer stays bound after the step but is
 * never read again, as every statement binds all its parameters before
 * each step. */
static int bind_row(struct store *s, sqlite3_stmt *st, int base, const struct bind_plan *pl,
		    const void *const *recs)
{
	struct col_value vals[STORE_MAX_COLS];
	char bufs[STORE_MAX_COLS][COLUMN_TEXT_BUF];
	size_t off = 0;
	for (size_t p = 0; p < pl->t->nparts; p++) {
		const struct column_list *l = &pl->t->parts[p];
		if (recs[p])
			l->values(recs[p], vals + off, bufs + off);
		else
			for (size_t i = 0; i < l->n; i++)
				vals[off + i] = cv_null();
		off += l->n;
	}
	if (pl->run_idx >= 0)
		vals[pl->run_idx] = cv_int(s->run_id);
	if (pl->seq_idx >= 0)
		vals[pl->seq_idx] = cv_int(++s->stored_seq);
	for (size_t i = 0; i < pl->n; i++) {
		const struct col_value *v = &vals[pl->cols[i].idx];
		int at = base + (int)i + 1, rc;
		switch (v->kind) {
		case CV_INT: rc = sqlite3_bind_int64(st, at, v->u.i); break;
		case CV_REAL:
			rc = v->u.r < 0 && pl->cols[i].interval ? sqlite3_bind_null(st, at)
							       : sqlite3_bind_double(st, at, v->u.r);
			break;
		case CV_TEXT: rc = sqlite3_bind_text(st, at, v->u.s, -1, SQLITE_STATIC); break;
		case CV_TEXT_COPY: rc = sqlite3_bind_text(st, at, v->u.s, -1, SQLITE_TRANSIENT); break;
		case CV_NULL:
		default:
			if (pl->cols[i].col->flags & (COL_NOT_NULL | COL_RUN)) {
				set_err(s, "insert into %s: %s has no value", pl->t->name,
					pl->cols[i].col->name);
				return SQLITE_CONSTRAINT;
			}
			rc = sqlite3_bind_null(st, at);
			break;
		}
		if (rc != SQLITE_OK) {
			db_err(s, "bind");
			return rc;
		}
	}
	return SQLITE_OK;
}

/* The columns a database made by an older kalens lacks: added (NULL in
 * its rows).  The new tables come from CREATE TABLE IF NOT EXISTS. */
static int add_missing_columns(struct store *s, const struct table_decl *t)
{
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", t->name);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	struct sqlbuf have = { 0 }, alter = { 0 };
	int rc;
	sb_add(&have, ",");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sb_add(&have, "%s,", (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	for (size_t p = 0; p < t->nparts && rc == SQLITE_DONE; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++) {
			const struct column *c = &t->parts[p].cols[i];
			char name[80];
			snprintf(name, sizeof name, ",%s,", c->name);
			if (have.p && strstr(have.p, name))
				continue;
			sb_add(&alter, "ALTER TABLE %s ADD COLUMN ", t->name);
			column_sql(&alter, t, c, false);
			sb_add(&alter, ";");
		}
	}
	int ret = rc == SQLITE_DONE && !have.oom && !alter.oom ? 0 : -1;
	if (ret == 0 && alter.p && sqlite3_exec(s->db, alter.p, NULL, NULL, NULL) != SQLITE_OK)
		ret = -1;
	free(have.p);
	free(alter.p);
	return ret;
}

/* Every view of schema_sql, dropped: an upgrade makes them again from the
 * current text (a view may name a column or a kind it did not have). */
static int drop_views(struct store *s)
{
	static const char create[] = "CREATE VIEW IF NOT EXISTS ";
	for (const char *v = strstr(schema_sql, create); v; v = strstr(v + 1, create)) {
		const char *name = v + sizeof create - 1;
		size_t n = strcspn(name, " ");
		char sql[96];
		snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS %.*s", (int)n, name);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	}
	return 0;
}

int store_schema_sql(FILE *out)
{
	struct store_decls d;
	store_decls_init(&d);
	struct sqlbuf b = { 0 };
	for (size_t i = 0; i < STORE_TABLES; i++)
		table_sql(&b, &d.tables[i]);
	if (b.oom)
		return -1;
	fputs(b.p, out);
	free(b.p);
	/* One statement per line. */
	for (int k = 0; k < 2; k++) {
		for (const char *p = k ? schema_sql : store_ship_sql; *p; p++) {
			fputc(*p, out);
			if (*p == ';')
				fputc('\n', out);
		}
	}
	return 0;
}

/* Create the schema (idempotent), or upgrade an older one in place, and
 * set user_version, all in one transaction so a crash leaves either
 * nothing or everything. */
/* Does every table's CHECK know every word its columns declare?  A
 * database made before a word was declared (close_kind 'evicted') has
 * the older list, and SQLite cannot change a CHECK in place: this
 * connection then does not enforce them (PRAGMA ignore_check_constraints;
 * kalens writes only declared words, store.c binds them from the lists). */
static int checks_cover_words(struct store *s)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND"
			       " name = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	bool all = true;
	for (size_t i = 0; all && i < STORE_TABLES; i++) {
		const struct table_decl *t = &s->decls.tables[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		const char *sql = sqlite3_step(st) == SQLITE_ROW ?
				  (const char *)sqlite3_column_text(st, 0) : NULL;
		for (size_t p = 0; sql && all && p < t->nparts; p++) {
			for (size_t k = 0; all && k < t->parts[p].n; k++) {
				const struct column *c = &t->parts[p].cols[k];
				for (size_t w = 0; all && c->values && c->values[w]; w++) {
					char want[128];
					snprintf(want, sizeof want, "%s = '%s'", c->name, c->values[w]);
					/* a column added by ALTER TABLE has no CHECK at all */
					char col[96];
					snprintf(col, sizeof col, "%s = '", c->name);
					all = !strstr(sql, col) || strstr(sql, want);
				}
			}
		}
	}
	sqlite3_finalize(st);
	if (all)
		return 0;
	return sqlite3_exec(s->db, "PRAGMA ignore_check_constraints = ON", NULL, NULL, NULL) ==
	       SQLITE_OK ? 0 : -1;
}

static int create_schema(struct store *s, const char *path)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: begin: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	/* Checked again under the write lock: another process may have created
	 * the schema since the first look. */
	int64_t version = 0;
	if (check_version(s, path, &version) != 0)
		goto fail;
	struct sqlbuf tables = { 0 };
	for (size_t i = 0; i < STORE_TABLES; i++)
		table_sql(&tables, &s->decls.tables[i]);
	int rc = tables.oom ? SQLITE_NOMEM : sqlite3_exec(s->db, tables.p, NULL, NULL, NULL);
	free(tables.p);
	bool upgrade = version >= 1 && version < STORE_SCHEMA_VERSION;
	/* Columns are added to a database of the current version too: one
	 * made by a kalens of the same schema version that did not declare
	 * them yet (a column is added between schema version bumps). */
	for (size_t i = 0; rc == SQLITE_OK && version >= 1 && i < STORE_TABLES; i++)
		if (add_missing_columns(s, &s->decls.tables[i]) != 0)
			rc = SQLITE_ERROR;
	if (rc == SQLITE_OK && upgrade && drop_views(s) != 0)
		rc = SQLITE_ERROR;
	if (rc != SQLITE_OK) {
		set_err(s, "%s: %s schema %lld to %d: %s", path, upgrade ? "upgrade" : "create",
			(long long)version, STORE_SCHEMA_VERSION, sqlite3_errmsg(s->db));
		goto fail;
	}
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	if (sqlite3_exec(s->db, store_ship_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: create schema: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(s, "%s: create schema: commit: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (checks_cover_words(s) != 0) {
		set_err(s, "%s: %s", path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void finalize_all(struct store *s)
{
	sqlite3_finalize(s->ins_conn);
	sqlite3_finalize(s->ins_req);
	sqlite3_finalize(s->ins_reqs);
	sqlite3_finalize(s->ins_find);
	sqlite3_finalize(s->ins_att);
	sqlite3_finalize(s->ins_run);
	sqlite3_finalize(s->upd_run);
	sqlite3_finalize(s->upd_live);
	free(s->plan_run.cols);
	free(s->plan_run_update.cols);
	free(s->plan_run_live.cols);
	free(s->plan_conn.cols);
	free(s->plan_req.cols);
	free(s->plan_find.cols);
	free(s->plan_att.cols);
}

/* "UPDATE runs SET a = ?, ... WHERE id = ?" for the columns plan_make()
 * would bind with `skip` and `need`: at the end every column but the key
 * and those fixed at the start; while live, the refreshed ones. */
static int prepare_run_update(struct store *s, unsigned skip, unsigned need, sqlite3_stmt **st)
{
	const struct table_decl *t = &s->decls.tables[STORE_T_RUNS];
	struct sqlbuf b = { 0 };
	sb_add(&b, "UPDATE runs SET ");
	int n = 0;
	for (size_t i = 0; i < t->parts[0].n; i++) {
		const struct column *c = &t->parts[0].cols[i];
		if (col_planned(t, c, skip, need))
			sb_add(&b, "%s%s = ?", n++ ? ", " : "", c->name);
	}
	sb_add(&b, " WHERE id = ?");
	int rc = b.oom ? SQLITE_NOMEM : sqlite3_prepare_v2(s->db, b.p, -1, st, NULL);
	free(b.p);
	return rc;
}

static void mark_dead_runs(struct store *s);

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	store_decls_init(&s->decls);
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
	if (check_version(s, path, NULL) != 0 || set_pragmas(s, path) != 0 ||
	    create_schema(s, path) != 0)
		goto fail;
	const struct table_decl *t = s->decls.tables;
	if (plan_make(&s->plan_run, &t[STORE_T_RUNS], 0, 0) != SQLITE_OK ||
	    plan_make(&s->plan_run_update, &t[STORE_T_RUNS], COL_KEY | COL_FIXED, 0) != SQLITE_OK ||
	    plan_make(&s->plan_run_live, &t[STORE_T_RUNS], COL_KEY | COL_FIXED, COL_LIVE) !=
		    SQLITE_OK ||
	    plan_make(&s->plan_conn, &t[STORE_T_CONNECTIONS], 0, 0) != SQLITE_OK ||
	    plan_make(&s->plan_req, &t[STORE_T_REQUESTS], 0, 0) != SQLITE_OK ||
	    plan_make(&s->plan_find, &t[STORE_T_FINDINGS], 0, 0) != SQLITE_OK ||
	    plan_make(&s->plan_att, &t[STORE_T_ATTEMPTS], 0, 0) != SQLITE_OK) {
		set_err(s, "%s: out of memory", path);
		goto fail;
	}
	if (prepare_insert(s, &t[STORE_T_RUNS], 1, &s->ins_run) != SQLITE_OK ||
	    prepare_run_update(s, COL_KEY | COL_FIXED, 0, &s->upd_run) != SQLITE_OK ||
	    prepare_run_update(s, COL_KEY | COL_FIXED, COL_LIVE, &s->upd_live) != SQLITE_OK ||
	    prepare_insert(s, &t[STORE_T_CONNECTIONS], 1, &s->ins_conn) != SQLITE_OK ||
	    prepare_insert(s, &t[STORE_T_REQUESTS], 1, &s->ins_req) != SQLITE_OK ||
	    prepare_insert(s, &t[STORE_T_REQUESTS], STORE_REQUEST_ROWS, &s->ins_reqs) != SQLITE_OK ||
	    prepare_insert(s, &t[STORE_T_FINDINGS], 1, &s->ins_find) != SQLITE_OK ||
	    prepare_insert(s, &t[STORE_T_ATTEMPTS], 1, &s->ins_att) != SQLITE_OK) {
		set_err(s, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	mark_dead_runs(s);
	return s;
fail:
	snprintf(err, errlen, "%s", s->err);
	finalize_all(s);
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

/* ---- who wrote a run, and is it still there -------------------------------- */

/* The start time (clock ticks after boot) of process pid, from
 * /proc/PID/stat's 22nd field; -1 when there is no such process. */
static long long proc_start_ticks(long long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%lld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) is in parentheses and may hold anything: the
	 * fields go on after the last ')'. */
	const char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	long long v = -1;
	for (int field = 2; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == 21)
			v = strtoll(p + 1, NULL, 10);
	}
	return v;
}

/* The kernel's boot id (36 characters), "" when unknown. */
static void boot_id(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

const char *store_host_name(char *buf, size_t len)
{
	buf[0] = '\0';
	if (len < 8 || gethostname(buf, len - 1) != 0)
		buf[0] = '\0';
	buf[len - 1] = '\0';
	buf[strcspn(buf, " ")] = '\0';
	if (!buf[0])
		snprintf(buf, len, "unknown");
	return buf;
}

static void writer_identity(char *buf, size_t len)
{
	char host[128], boot[64];
	store_host_name(host, sizeof host);
	boot_id(boot, sizeof boot);
	long long pid = (long long)getpid();
	snprintf(buf, len, "host=%s pid=%lld start=%lld boot=%s", host, pid, proc_start_ticks(pid),
		 boot);
}

int store_writer_alive(const char *writer)
{
	char host[128], boot[64], myhost[128] = "", myboot[64];
	long long pid, start;
	if (!writer || sscanf(writer, "host=%127s pid=%lld start=%lld boot=%63s", host, &pid, &start,
			      boot) != 4)
		return -1;
	if (strcmp(host, store_host_name(myhost, sizeof myhost)) != 0)
		return -1;                   /* another machine's process: cannot tell */
	boot_id(myboot, sizeof myboot);
	if (myboot[0] && strcmp(boot, myboot) != 0)
		return 0;                    /* the machine rebooted since */
	long long now = proc_start_ticks(pid);
	return now >= 0 && now == start ? 1 : 0;   /* gone, or its pid reused */
}

/* Runs left `running` by a process that is gone (killed, crashed, the
 * machine rebooted) are marked interrupted by the next writer. */
static void mark_dead_runs(struct store *s)
{
	sqlite3_stmt *sel = NULL, *up = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT id, writer FROM runs WHERE status = 'running'"
			       " AND writer IS NOT NULL", -1, &sel, NULL) != SQLITE_OK)
		return;
	/* at most 64 at a time (the next writer marks the rest): bounded on any database */
	int64_t dead[64];
	size_t n = 0;
	while (n < sizeof dead / sizeof dead[0] && sqlite3_step(sel) == SQLITE_ROW)
		if (store_writer_alive((const char *)sqlite3_column_text(sel, 1)) == 0)
			dead[n++] = sqlite3_column_int64(sel, 0);
	sqlite3_finalize(sel);
	if (n == 0 || sqlite3_prepare_v2(s->db, "UPDATE runs SET status = 'interrupted', message ="
					 " 'process ended: the kalens that wrote it stopped without"
					 " finishing it (marked by a later kalens)' WHERE id = ?1 AND"
					 " status = 'running'", -1, &up, NULL) != SQLITE_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(up, 1, dead[i]);
		(void)sqlite3_step(up);   /* best effort: report says it anyway */
		sqlite3_reset(up);
	}
	sqlite3_finalize(up);
}

/* A live run that has not written its row for this long has stopped
 * (it writes every commit, 2 s by default). */
#define STORE_LIVE_STALE_S 60

/* SQL run_status(status, writer): the status, or `interrupted (process
 * ended)` for a running run whose process is gone. */
static void sql_run_status(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *status = (const char *)sqlite3_value_text(argv[0]);
	const char *writer = (const char *)sqlite3_value_text(argv[1]);
	bool running = status && !strcmp(status, "running");
	if (running && store_writer_alive(writer) == 0) {
		sqlite3_result_text(cx, "interrupted (process ended)", -1, SQLITE_STATIC);
		return;
	}
	/* run_status(status, writer, updated_at): a live run writes its row
	 * at every commit, so how long ago it last did tells a running
	 * capture from one that stopped without ending its run (its machine
	 * went away, the database was copied off it). */
	if (running && argc == 3 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		double ago = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - sqlite3_value_double(argv[2]);
		char buf[96];
		if (ago > STORE_LIVE_STALE_S)
			snprintf(buf, sizeof buf, "stopped unexpectedly (no update for %.0f s)", ago);
		else
			snprintf(buf, sizeof buf, "running, updated %.0f s ago", ago < 0 ? 0 : ago);
		sqlite3_result_text(cx, buf, -1, SQLITE_TRANSIENT);
		return;
	}
	sqlite3_result_value(cx, argv[0]);
}

int store_uuid4(char *buf, size_t len)
{
	/* The kernel's random bytes: no generator to set up (OpenSSL's
	 * RAND_bytes seeds a DRBG first, 8 M instructions, a third of an empty
	 * run's start). */
	uint8_t b[16];
	if (len < 37 || getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);      /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);      /* the RFC's variant */
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

int64_t store_run_begin(struct store *s, const struct store_run_info *info)
{
	/* A run left unfinished keeps status 'running'; its rows are kept. */
	if (batch_commit(s) != 0)
		return -1;
	s->run_id = 0;
	char uuid[40];
	if (store_uuid4(uuid, sizeof uuid) != 0) {
		set_err(s, "insert run: no random bytes for its UUID");
		return -1;
	}
	/* The sensor by default: this host's name. */
	struct store_run_info in = *info;
	char host[256];
	if (!in.sensor)
		in.sensor = store_host_name(host, sizeof host);
	char writer[256];
	writer_identity(writer, sizeof writer);
	struct run_row row = { &in, NULL, store_run_status_names[STORE_RUN_RUNNING], NULL, uuid,
			       writer };
	const void *recs[1] = { &row };
	sqlite3_stmt *st = s->ins_run;
	int64_t id = -1;
	if (bind_row(s, st, 0, &s->plan_run, recs) != SQLITE_OK)
		; /* recorded */
	else if (sqlite3_step(st) != SQLITE_DONE)
		db_err(s, "insert run");
	else    /* autocommit: the row is committed when step returns DONE */
		id = sqlite3_last_insert_rowid(s->db);
	(void)sqlite3_reset(st);     /* repeats the step's error, already recorded */
	if (id > 0) {
		s->run_id = id;
		int64_t max = 0;
		if (query_int(s->db, "SELECT IFNULL(MAX(id), 0) FROM connections", &max) != SQLITE_OK) {
			db_err(s, "number connections");
			return -1;
		}
		atomic_store(&s->next_conn_id, max + 1);
		s->stored_seq = 0;
	}
	return id;
}

int64_t store_conn_next_id(struct store *s)
{
	return atomic_fetch_add_explicit(&s->next_conn_id, 1, memory_order_relaxed);
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
	/* The TCP part, then each fact section (NULL where it has none). */
	const void *recs[1 + FACTS_COUNT] = { c };
	for (int i = 0; i < FACTS_COUNT; i++)
		recs[1 + i] = c->facts[i];
	int rc = SQLITE_MISUSE;
	/* Say which value is wrong, rather than which column came out NULL. */
	if (c->ip_version != 4 && c->ip_version != 6)
		set_err(s, "insert connection: ip_version %u is not 4 or 6", c->ip_version);
	else if (!conn_close_kind_name(c->close_kind))
		set_err(s, "insert connection: close_kind %d out of range", (int)c->close_kind);
	else
		rc = bind_row(s, s->ins_conn, 0, &s->plan_conn, recs);
	return batch_step(s, s->ins_conn, rc == SQLITE_OK, "insert connection");
}

/* Each request's columns, the row whose first parameter is base + 1. */
static int bind_request(struct store *s, sqlite3_stmt *st, int base,
			const struct request_record *r)
{
	const void *recs[1] = { r };
	return bind_row(s, st, base, &s->plan_req, recs);
}

int store_requests_add(struct store *s, const struct request_record *r, size_t n)
{
	if (batch_open(s, "insert request") != 0)
		return -1;
	int cols = sqlite3_bind_parameter_count(s->ins_req);
	while (n >= STORE_REQUEST_ROWS) {
		int rc = SQLITE_OK;
		for (int i = 0; i < STORE_REQUEST_ROWS && rc == SQLITE_OK; i++)
			rc = bind_request(s, s->ins_reqs, i * cols, &r[i]);
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

/* One row of a one-part table (`what` names it in errors). */
static int add_row(struct store *s, sqlite3_stmt *st, const struct bind_plan *pl,
		   const void *rec, const char *what)
{
	if (batch_open(s, what) != 0)
		return -1;
	const void *recs[1] = { rec };
	int rc = bind_row(s, st, 0, pl, recs);
	return batch_step(s, st, rc == SQLITE_OK, what);
}

int store_finding_add(struct store *s, const struct finding_record *f)
{
	return add_row(s, s->ins_find, &s->plan_find, f, "insert finding");
}

int store_attempt_add(struct store *s, const struct attempt_record *a)
{
	return add_row(s, s->ins_att, &s->plan_att, a, "insert attempts");
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
	"       WHERE f.run_id = ?1 AND f.kind IN (?4, ?5)) race"
	" JOIN connections c2 ON c2.run_id = ?1 AND c2.client_ip = race.client_ip"
	"  AND c2.server_ip = race.server_ip AND c2.server_port = race.server_port"
	"  AND c2.id <> race.conn_id"
	" JOIN requests f ON f.run_id = ?1 AND f.conn_id = c2.id AND f.seq = 1"
	"  AND f.method IS race.method AND f.uri IS race.uri"
	"  AND f.request_ts >= race.request_ts AND f.request_ts <= race.request_ts + ?2";

/* Run one of the cross-connection statements: ?1 the run, ?2 the window,
 * ?3 the kind it adds, ?4 and ?5 the kinds it follows (if it uses them). */
static int run_cross(struct store *s, const char *sql, double window_s, enum finding_kind adds,
		     enum finding_kind follows, enum finding_kind follows2, uint64_t *added)
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
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 5)
		rc = sqlite3_bind_text(st, 5, finding_kind_name(follows2), -1, SQLITE_STATIC);
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
		      FINDING_KIND_COUNT, FINDING_KIND_COUNT, added) != 0)
		return -1;
	/* Retries only follow requests a server close left unanswered (a
	 * race, or a request dropped): skip the scan of the run's requests
	 * when there is none (findings_run index). */
	int64_t races = 0;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE run_id = %lld"
		 " AND kind IN ('%s', '%s')", (long long)s->run_id,
		 finding_kind_name(FINDING_IDLE_CLOSE_RACE),
		 finding_kind_name(FINDING_REQUEST_DROPPED_BY_SERVER));
	if (query_int(s->db, sql, &races) != SQLITE_OK) {
		db_err(s, "cross-connection findings");
		return -1;
	}
	if (races && run_cross(s, retried_sql, window_s, FINDING_RETRIED_REQUEST,
			       FINDING_IDLE_CLOSE_RACE, FINDING_REQUEST_DROPPED_BY_SERVER, added) != 0)
		return -1;
	return batch_commit(s);
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
	if ((unsigned)t->status > STORE_RUN_ERROR) {
		set_err(s, "finish run: status %d out of range", (int)t->status);
		return -1;
	}
	struct run_row row = { NULL, t, store_run_status_names[t->status], t->message, NULL, NULL };
	/* Rows of the last batch were lost: the run cannot say 'complete'. */
	char lost[600];
	if (ret != 0) {
		row.status = store_run_status_names[STORE_RUN_ERROR];
		snprintf(lost, sizeof lost, "the last rows were not stored: %s", s->err);
		row.message = lost;
	}
	char keep_err[sizeof s->err];
	memcpy(keep_err, s->err, sizeof keep_err);
	const void *recs[1] = { &row };
	sqlite3_stmt *st = s->upd_run;
	int rc = bind_row(s, st, 0, &s->plan_run_update, recs);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_count(st), s->run_id);
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
	(void)sqlite3_reset(st);
	s->run_id = 0;
	if (ret == -1 && keep_err[0] && strstr(s->err, "finish run") == NULL)
		memcpy(s->err, keep_err, sizeof keep_err);   /* report the first failure */
	return ret;
}

int store_run_progress(struct store *s, const struct store_run_totals *t)
{
	if (s->run_id <= 0) {
		set_err(s, "run progress: no run begun");
		return -1;
	}
	if (batch_open(s, "run progress") != 0)
		return -1;
	struct run_row row = { NULL, t, store_run_status_names[STORE_RUN_RUNNING], NULL, NULL, NULL };
	const void *recs[1] = { &row };
	sqlite3_stmt *st = s->upd_live;
	int rc = bind_row(s, st, 0, &s->plan_run_live, recs);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_count(st), s->run_id);
	int ret = 0;
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		db_err(s, "run progress");
		ret = -1;
	}
	(void)sqlite3_reset(st);
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
	finalize_all(s);
	/* Every statement is finalized, so close cannot be BUSY. */
	(void)sqlite3_close(s->db);
	free(s);
}

/* ---- read-only connections ------------------------------------------------ */

/* Does PATH-wal or PATH-shm exist?  *wal_bytes: the -wal's size (0 when
 * it does not exist). */
static bool side_files_exist(const char *path, int64_t *wal_bytes)
{
	char p[PATH_MAX + 8];
	struct stat st;
	bool any = false;
	*wal_bytes = 0;
	snprintf(p, sizeof p, "%s-wal", path);
	if (stat(p, &st) == 0) {
		any = true;
		*wal_bytes = (int64_t)st.st_size;
	}
	snprintf(p, sizeof p, "%s-shm", path);
	return stat(p, &st) == 0 || any;
}

int store_reader_open(struct store_reader *r, const char *path, char *err, size_t errlen)
{
	int64_t wal_bytes;
	r->db = NULL;
	r->side_files = side_files_exist(path, &wal_bytes);
	int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open database (%s)", path,
			 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		return -1;
	}
	if (sqlite3_busy_timeout(r->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_create_function(r->db, "run_status", 2, SQLITE_UTF8, NULL, sql_run_status, NULL,
				    NULL) != SQLITE_OK ||
	    sqlite3_create_function(r->db, "run_status", 3, SQLITE_UTF8, NULL, sql_run_status, NULL,
				    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(r->db));
		return -1;
	}
	return 0;
}

void store_reader_close(struct store_reader *r)
{
	if (!r->db)
		return;
	char path[PATH_MAX];
	const char *name = sqlite3_db_filename(r->db, "main");
	snprintf(path, sizeof path, "%s", name ? name : "");
	(void)sqlite3_close(r->db);
	r->db = NULL;
	int64_t wal_bytes;
	if (r->side_files || !path[0] || !side_files_exist(path, &wal_bytes) || wal_bytes > 0)
		return;
	/* Reading a WAL database made its -wal and -shm; a read-only
	 * connection cannot remove them (that takes a checkpoint), a
	 * read-write one does when it closes as the last connection.  So one
	 * is opened that only reads, and SQLite decides: with another
	 * connection open (a writer began meanwhile) the files stay, as they
	 * must.  An empty -wal means there is nothing to checkpoint: the
	 * database file is not written. */
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
		(void)sqlite3_exec(db, "SELECT COUNT(*) FROM sqlite_master", NULL, NULL, NULL);
	(void)sqlite3_close(db);
}
