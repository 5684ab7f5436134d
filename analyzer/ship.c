/*
 * ship.c - see ship.h.
 *
 * What is sent, table by table, and how far it went is recorded:
 *  - requests and findings: the store numbers their rows in the order they
 *    are committed, so one high-water mark per destination and table
 *    (ship_progress.last_id) says what was sent;
 *  - connections are numbered when they begin but stored when they end, so
 *    a run's are sent in the order they were stored (connections.stored_seq),
 *    with a mark per run (ship_runs.conn_seq); runs stored before that
 *    column existed are finished, and go by id;
 *  - a run row changes until the run ends: it is sent again whenever its
 *    status or packet count changed, with a higher `_version`.
 * Rows go before the run row that sums them, so a run that ClickHouse shows
 * finished has all its rows there.
 */
#include "ship.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clickhouse.h"
#include "curlapi.h"
#include "store.h"

#define SHIP_BATCH_DEFAULT 200000
/* SQLite's clock as epoch seconds, for ship_*.shipped_at. */
#define SHIP_NOW "((julianday('now') - 2440587.5) * 86400.0)"
/* An insert stops growing here, whatever its rows: two such buffers and
 * their compressed copy are the memory shipping takes. */
#define SHIP_BATCH_BYTES (16u << 20)
#define SHIP_RESPONSE_KEEP 2048


struct shipper {
	sqlite3 *db;
	struct curl_api api;          /* libcurl, loaded for shipping */
	CURL *curl;
	const char *url;              /* as given: may hold credentials, never printed */
	char dest[1024];              /* printable */
	const struct ship_options *o;
	struct ship_stats *st;
	char *err;
	size_t errlen;
	struct store_decls decls;
	/* Per table: the declared columns the database has, comma-separated,
	 * bare and with the table's alias, and each one's declaration. */
	char *cols[STORE_TABLES], *qcols[STORE_TABLES];
	size_t ncols[STORE_TABLES];
	const struct column **decl[STORE_TABLES];
	/* Inserts are made in one buffer while the other is compressed and
	 * sent by a thread of its own (the server's work overlaps ours). */
	struct ch_buf rows[2];
	int cur;                      /* the buffer being filled */
	unsigned char *gz;
	size_t gz_cap;
	char resp[SHIP_RESPONSE_KEEP];
	size_t resp_len;
	size_t batch;
};

static void fail(struct shipper *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct shipper *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(s->err, s->errlen, "ship to %s: %s", s->dest, msg);
}

/* ---- the destination ---------------------------------------------------- */

const char *ship_curl_version(void)
{
	struct curl_api api;
	char err[256];
	return curl_api_load(&api, err, sizeof err) == 0 ? api.version() : NULL;
}

const char *ship_rows_text(const struct ship_stats *st, char *buf, size_t len)
{
	struct store_decls d;
	store_decls_init(&d);
	size_t at = 0;
	buf[0] = '\0';
	for (int t = 0; t < STORE_TABLES; t++) {
		int k = snprintf(buf + at, len - at, "%s%llu %s", t ? ", " : "",
				 (unsigned long long)st->rows[t], d.tables[t].name);
		if (k < 0 || (size_t)k >= len - at)
			break;
		at += (size_t)k;
	}
	return buf;
}

const char *ship_destination(const char *url, char *buf, size_t len)
{
	const char *rest;
	if (!strncmp(url, "http://", 7))
		rest = url + 7;
	else if (!strncmp(url, "https://", 8))
		rest = url + 8;
	else
		return NULL;
	size_t scheme = (size_t)(rest - url);
	size_t host_end = strcspn(rest, "/?#");
	const char *at = memchr(rest, '@', host_end);
	const char *host = at ? at + 1 : rest;
	int n = snprintf(buf, len, "%.*s%.*s", (int)scheme, url, (int)(rest + host_end - host), host);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	/* The path and the parameters, without user= and password=. */
	const char *p = rest + host_end;
	size_t at_out = (size_t)n;
	char sep = 0;
	while (*p && *p != '?' && *p != '#' && at_out + 1 < len)
		buf[at_out++] = *p++;
	if (*p == '?') {
		p++;
		while (*p && *p != '#') {
			size_t k = strcspn(p, "&#");
			bool secret = !strncmp(p, "password=", 9) || !strncmp(p, "user=", 5);
			if (!secret && at_out + k + 2 < len) {
				buf[at_out++] = sep ? '&' : '?';
				memcpy(buf + at_out, p, k);
				at_out += k;
				sep = '&';
			}
			p += k;
			if (*p == '&')
				p++;
		}
	}
	buf[at_out] = '\0';
	return buf;
}

/* ---- HTTP ------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct shipper *s = ctx;
	size_t k = size * n, room = sizeof s->resp - 1 - s->resp_len;
	memcpy(s->resp + s->resp_len, p, k < room ? k : room);
	s->resp_len += k < room ? k : room;
	s->resp[s->resp_len] = '\0';
	return k;
}

/* The URL with `params` added to its query string; caller frees. */
static char *url_with(const struct shipper *s, const char *params)
{
	size_t n = strlen(s->url) + strlen(params) + 2;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s%c%s", s->url, strchr(s->url, '?') ? '&' : '?', params);
	return u;
}

/* The first line of the server's answer, cut, for messages. */
static const char *resp_line(struct shipper *s)
{
	size_t k = strcspn(s->resp, "\r\n");
	if (k > 400)
		k = 400;
	s->resp[k] = '\0';
	return s->resp;
}

/* One request: a POST of body (gzip when `gzip`) with `params`.  0 when
 * the server answered 200; else -1 with the reason recorded. */
static int http_post(struct shipper *s, const char *params, const void *body, size_t n, bool gzip,
		     const char *what)
{
	char *u = url_with(s, params);
	if (!u) {
		fail(s, "%s: out of memory", what);
		return -1;
	}
	struct curl_slist *h = NULL;
	if (gzip)
		h = s->api.slist_append(h, "Content-Encoding: gzip");
	h = s->api.slist_append(h, "Content-Type: application/octet-stream");
	s->resp_len = 0;
	s->resp[0] = '\0';
	s->api.easy_setopt(s->curl, CURLOPT_URL, u);
	s->api.easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	s->api.easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	s->api.easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	CURLcode rc = s->api.easy_perform(s->curl);
	long code = 0;
	s->api.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	s->api.easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	s->api.slist_free_all(h);
	free(u);
	if (rc != CURLE_OK) {
		fail(s, "%s: %s", what, s->api.easy_strerror(rc));
		return -1;
	}
	if (code != 200) {
		fail(s, "%s: HTTP %ld: %s", what, code, s->resp_len ? resp_line(s) : "(no message)");
		return -1;
	}
	return 0;
}

/* gzip (level 1: the link is rarely slower than it) of b into s->gz. */
static int deflate_rows(struct shipper *s, const struct ch_buf *b, size_t *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, (uLong)b->len) + 32;
	if (bound > s->gz_cap) {
		unsigned char *g = realloc(s->gz, bound);
		if (!g) {
			deflateEnd(&z);
			return -1;
		}
		s->gz = g;
		s->gz_cap = bound;
	}
	z.next_in = b->p;
	z.avail_in = (uInt)b->len;
	z.next_out = s->gz;
	z.avail_out = (uInt)s->gz_cap;
	int rc = deflate(&z, Z_FINISH);
	*out = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* Send the rows made for table t in b (`rows` of them). */
static int send_rows(struct shipper *s, int t, const struct ch_buf *b, uint64_t rows)
{
	const char *name = ch_tables[t].name;
	char q[8192];
	int n = snprintf(q, sizeof q, "INSERT INTO %s (sensor, run_uuid, run_started_at%s, %s) FORMAT "
			 "RowBinary", name, ch_tables[t].versioned ? ", _version" : "", s->cols[t]);
	if (n < 0 || (size_t)n >= sizeof q) {
		fail(s, "insert into %s: too many columns", name);
		return -1;
	}
	char *esc = s->api.easy_escape(s->curl, q, n);
	size_t plen = esc ? strlen(esc) + 64 : 0;
	char *params = esc ? malloc(plen) : NULL;
	if (!params) {
		if (esc)
			s->api.free(esc);
		fail(s, "insert into %s: out of memory", name);
		return -1;
	}
	/* Through a Distributed table, wait until every shard has its rows:
	 * then an accepted insert is stored, not queued on this server. */
	snprintf(params, plen, "query=%s&insert_distributed_sync=1", esc);
	s->api.free(esc);
	size_t gz = 0;
	char what[64];
	snprintf(what, sizeof what, "insert into %s", name);
	int rc = -1;
	if (b->oom)
		fail(s, "%s: out of memory", what);
	else if (deflate_rows(s, b, &gz) != 0)
		fail(s, "%s: compression failed", what);
	else
		rc = http_post(s, params, s->gz, gz, true, what);
	free(params);
	if (rc == 0) {
		s->st->rows[t] += rows;
		s->st->inserts++;
		s->st->bytes += gz;
	}
	return rc;
}

/* ---- the database ---------------------------------------------------------- */

static int exec(struct shipper *s, const char *sql)
{
	char *e = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &e) != SQLITE_OK) {
		fail(s, "local database: %s", e ? e : sqlite3_errmsg(s->db));
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prep(struct shipper *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(s, "local database: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* The declared columns of table t that the database has (an older kalens
 * did not have them all: the others stay NULL in ClickHouse). */
static int table_columns(struct shipper *s, int t)
{
	const struct table_decl *d = &s->decls.tables[t];
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", d->name);
	sqlite3_stmt *st = prep(s, sql);
	if (!st)
		return -1;
	char have[8192] = ",";
	size_t hl = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int k = snprintf(have + hl, sizeof have - hl, "%s,", sqlite3_column_text(st, 0));
		if (k > 0 && (size_t)k < sizeof have - hl)
			hl += (size_t)k;
	}
	sqlite3_finalize(st);
	if (hl == 1 && t >= STORE_T_ATTEMPTS)
		return 0;                 /* a table added after the database was made */
	size_t cap = 8192, total = 0;
	for (size_t p = 0; p < d->nparts; p++)
		total += d->parts[p].n;
	s->cols[t] = calloc(1, cap);
	s->qcols[t] = calloc(1, cap);
	s->decl[t] = calloc(total ? total : 1, sizeof *s->decl[t]);
	if (!s->cols[t] || !s->qcols[t] || !s->decl[t])
		return -1;
	size_t a = 0, b = 0;
	for (size_t p = 0; p < d->nparts; p++) {
		for (size_t i = 0; i < d->parts[p].n; i++) {
			const char *name = d->parts[p].cols[i].name;
			char probe[96];
			if (ch_leading_column(name))
				continue;
			snprintf(probe, sizeof probe, ",%s,", name);
			if (!strstr(have, probe))
				continue;
			const char *sep = s->ncols[t] ? ", " : "";
			int k = snprintf(s->cols[t] + a, cap - a, "%s%s", sep, name);
			int l = snprintf(s->qcols[t] + b, cap - b, "%sx.%s", sep, name);
			if (k < 0 || l < 0 || (size_t)k >= cap - a || (size_t)l >= cap - b)
				return -1;
			a += (size_t)k;
			b += (size_t)l;
			s->decl[t][s->ncols[t]++] = &d->parts[p].cols[i];
		}
	}
	return s->ncols[t] ? 0 : -1;
}

/* A result row as RowBinary: the leading columns (sensor, run_uuid,
 * run_started_at, and for a versioned table _version) from the query's
 * first columns, then table t's declared ones in order.  A NULL in a
 * column ClickHouse has as not Nullable (a database older than it) is
 * sent as 0 or "". */
static void encode_row(struct shipper *s, int t, sqlite3_stmt *st)
{
	struct ch_buf *b = &s->rows[s->cur];
	for (int i = 0; i < 2; i++) {
		const unsigned char *v = sqlite3_column_text(st, i);
		ch_put_string(b, v, v ? (size_t)sqlite3_column_bytes(st, i) : 0);
	}
	ch_put_f64(b, sqlite3_column_double(st, 2));
	int at = 3;
	if (ch_tables[t].versioned)
		ch_put_u64(b, (uint64_t)sqlite3_column_int64(st, at++));
	for (size_t k = 0; k < s->ncols[t]; k++, at++) {
		const struct column *c = s->decl[t][k];
		bool null = sqlite3_column_type(st, at) == SQLITE_NULL;
		if (!(c->flags & (COL_NOT_NULL | COL_KEY | COL_RUN))) {
			ch_put_u8(b, null);
			if (null)
				continue;
		}
		switch (c->type) {
		case COL_INTEGER: ch_put_i64(b, sqlite3_column_int64(st, at)); break;
		case COL_REAL: ch_put_f64(b, sqlite3_column_double(st, at)); break;
		case COL_TEXT: {
			const unsigned char *v = sqlite3_column_text(st, at);
			ch_put_string(b, v, v ? (size_t)sqlite3_column_bytes(st, at) : 0);
			break;
		}
		}
	}
}

/* Step and finalize a bound write of the shipping record. */
static int record_step(struct shipper *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(s, "local database: record progress: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

static int64_t progress_get(struct shipper *s, const char *table)
{
	sqlite3_stmt *st = prep(s, "SELECT last_id FROM ship_progress WHERE destination = ?1 AND"
				   " table_name = ?2");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, s->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return v;
}

static int progress_set(struct shipper *s, const char *table, int64_t last)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO ship_progress (destination, table_name,"
				   " last_id, shipped_at) VALUES (?1, ?2, ?3, " SHIP_NOW ")");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, s->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, last);
	return record_step(s, st);
}

static bool stopping(const struct shipper *s)
{
	return s->o->stop && *s->o->stop;
}

/* Ship the rows of `sql` (bound by `bind`, last column the mark it goes
 * by: a row's key) in batches; after each accepted insert `mark` records
 * the last key.  The query's first columns are sensor, run_uuid,
 * run_started_at, then the table's; its last is the key, not sent. */
struct mark_ctx {
	const char *table;            /* ship_progress */
	int64_t run_id;               /* ship_runs, when table is NULL */
};

static int conn_mark_set(struct shipper *s, int64_t run_id, int64_t seq);

/* An insert on its way: sent by its own thread; recorded (its mark) by
 * the caller once the server accepted it. */
struct inflight {
	struct shipper *s;
	pthread_t th;
	bool on;
	int t, rc;
	const struct ch_buf *buf;
	uint64_t rows;
	struct mark_ctx mark;
	int64_t last;
};

static void *inflight_main(void *arg)
{
	struct inflight *f = arg;
	f->rc = send_rows(f->s, f->t, f->buf, f->rows);
	return NULL;
}

/* Wait for the insert on its way, if any, and record how far it went.
 * 0, or -1 when it (or recording it) failed. */
static int inflight_finish(struct inflight *f)
{
	if (!f->on)
		return 0;
	f->on = false;
	pthread_join(f->th, NULL);
	if (f->rc != 0)
		return -1;
	return f->mark.table ? progress_set(f->s, f->mark.table, f->last)
			     : conn_mark_set(f->s, f->mark.run_id, f->last);
}

static int inflight_start(struct inflight *f, struct shipper *s, int t, uint64_t rows,
			  const struct mark_ctx *m, int64_t last)
{
	*f = (struct inflight){ .s = s, .on = true, .t = t, .buf = &s->rows[s->cur], .rows = rows,
				.mark = *m, .last = last };
	if (pthread_create(&f->th, NULL, inflight_main, f) != 0) {
		f->on = false;               /* send it from here */
		if (send_rows(s, t, f->buf, rows) != 0)
			return -1;
		return m->table ? progress_set(s, m->table, last) : conn_mark_set(s, m->run_id, last);
	}
	s->cur ^= 1;                         /* the next rows go to the other buffer */
	return 0;
}

static int ship_rows(struct shipper *s, int t, const char *sql, int64_t from, int64_t run_id,
		     const struct mark_ctx *m)
{
	struct inflight f = { .on = false };
	int ret = 0;
	for (;;) {
		/* No message while an insert is on its way (its thread may be
		 * writing one): recorded once it is in. */
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(s->db));
			if (inflight_finish(&f) == 0)
				fail(s, "local database: %s", msg);
			return -1;
		}
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)s->batch);
		if (run_id)
			sqlite3_bind_int64(st, 3, run_id);
		s->rows[s->cur].len = 0;
		uint64_t rows = 0;
		int64_t last = from;
		int rc;
		bool full = false;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			/* the last column is the key, not sent */
			last = sqlite3_column_int64(st, sqlite3_column_count(st) - 1);
			encode_row(s, t, st);
			rows++;
			if (s->rows[s->cur].len >= SHIP_BATCH_BYTES) {
				full = true;
				break;
			}
		}
		bool read_ok = rc == SQLITE_DONE || (full && rc == SQLITE_ROW);
		char msg[256];
		snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		/* The previous insert must be in before this one is sent, so
		 * the marks advance in order. */
		if (inflight_finish(&f) != 0) {
			ret = -1;
			break;
		}
		if (!read_ok) {
			fail(s, "local database: %s", msg);
			ret = -1;
			break;
		}
		if (rows == 0)
			break;
		if (inflight_start(&f, s, t, rows, m, last) != 0) {
			ret = -1;
			break;
		}
		from = last;
		if ((rows < s->batch && !full) || stopping(s))
			break;
	}
	if (inflight_finish(&f) != 0)
		ret = -1;
	return ret;
}

/* ---- runs ---------------------------------------------------------------------- */

struct run_state {
	int64_t conn_seq, version, packets;
	char status[16];
	bool known;
};

static int run_state_get(struct shipper *s, int64_t run_id, struct run_state *r)
{
	memset(r, 0, sizeof *r);
	sqlite3_stmt *st = prep(s, "SELECT conn_seq, version, status, packets FROM ship_runs"
				   " WHERE destination = ?1 AND run_id = ?2");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, s->dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->known = true;
		r->conn_seq = sqlite3_column_int64(st, 0);
		r->version = sqlite3_column_int64(st, 1);
		snprintf(r->status, sizeof r->status, "%s",
			 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
		r->packets = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
}

static int conn_mark_set(struct shipper *s, int64_t run_id, int64_t seq)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO ship_runs (destination, run_id, conn_seq, version,"
				   " shipped_at) VALUES (?1, ?2, ?3, 0, " SHIP_NOW ") ON CONFLICT"
				   " (destination, run_id) DO UPDATE SET conn_seq = excluded.conn_seq,"
				   " shipped_at = excluded.shipped_at");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, s->dest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run_id);
	sqlite3_bind_int64(st, 3, seq);
	return record_step(s, st);
}

/* The ids `sql` selects, all read before anything is written: a write
 * while a statement still reads would have to turn this connection's read
 * snapshot into a write, which SQLite refuses (busy) when the analysis
 * committed since.  Caller frees *ids. */
static int run_ids(struct shipper *s, const char *sql, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	sqlite3_stmt *st = prep(s, sql);
	if (!st)
		return -1;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			int64_t *p = realloc(*ids, cap * sizeof *p);
			if (!p) {
				sqlite3_finalize(st);
				fail(s, "out of memory");
				return -1;
			}
			*ids = p;
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		fail(s, "local database: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs made before runs.sensor and runs.run_uuid get them now, once: the
 * rows shipped from them need a name. */
static int name_old_runs(struct shipper *s)
{
	char host[256] = "";
	const char *sensor = s->o->sensor ? s->o->sensor : store_host_name(host, sizeof host);
	int64_t *ids;
	size_t n;
	if (run_ids(s, "SELECT id FROM runs WHERE run_uuid IS NULL OR sensor IS NULL", &ids, &n) != 0)
		return -1;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		char uuid[40];
		int64_t id = ids[k];
		sqlite3_stmt *up = prep(s, "UPDATE runs SET run_uuid = COALESCE(run_uuid, ?1),"
					   " sensor = COALESCE(sensor, ?2) WHERE id = ?3");
		if (!up || store_uuid4(uuid, sizeof uuid) != 0) {
			sqlite3_finalize(up);
			rc = -1;
			break;
		}
		sqlite3_bind_text(up, 1, uuid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, sensor, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 3, id);
		if (sqlite3_step(up) != SQLITE_DONE) {
			fail(s, "local database: name run %lld: %s", (long long)id, sqlite3_errmsg(s->db));
			rc = -1;
		}
		sqlite3_finalize(up);
	}
	free(ids);
	return rc;
}

/* A run's connections not sent yet, in the order they were stored. */
static int ship_run_connections(struct shipper *s, int64_t run_id, const struct run_state *rs)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM connections WHERE run_id = ?1 AND stored_seq IS NULL"
				   " LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bool by_id = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	const char *key = by_id ? "x.id" : "x.stored_seq";
	size_t n = strlen(s->qcols[STORE_T_CONNECTIONS]) + 512;
	char *sql = malloc(n);
	if (!sql)
		return -1;
	snprintf(sql, n, "SELECT r.sensor, r.run_uuid, r.started_at, %s, %s FROM connections x"
		 " JOIN runs r ON r.id = x.run_id WHERE x.run_id = ?3 AND %s > ?1 ORDER BY %s LIMIT ?2",
		 s->qcols[STORE_T_CONNECTIONS], key, key, key);
	struct mark_ctx m = { NULL, run_id };
	int rc = ship_rows(s, STORE_T_CONNECTIONS, sql, rs->conn_seq, run_id, &m);
	free(sql);
	return rc;
}

/* Requests, findings or attempts not sent yet, in the order they were
 * stored. */
static int ship_table_by_id(struct shipper *s, int t)
{
	const char *name = ch_tables[t].name;
	if (s->ncols[t] == 0)
		return 0;                 /* a database made before the table */
	int64_t from = progress_get(s, name);
	if (from < 0)
		return -1;
	size_t n = strlen(s->qcols[t]) + 512;
	char *sql = malloc(n);
	if (!sql)
		return -1;
	snprintf(sql, n, "SELECT r.sensor, r.run_uuid, r.started_at, %s, x.id FROM %s x"
		 " JOIN runs r ON r.id = x.run_id WHERE x.id > ?1 ORDER BY x.id LIMIT ?2",
		 s->qcols[t], name);
	struct mark_ctx m = { name, 0 };
	int rc = ship_rows(s, t, sql, from, 0, &m);
	free(sql);
	return rc;
}

/* The run rows whose status or packet count changed since they were sent. */
static int ship_runs(struct shipper *s)
{
	int64_t *ids;
	size_t nids;
	if (run_ids(s, "SELECT id FROM runs ORDER BY id", &ids, &nids) != 0)
		return -1;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < nids; k++) {
		int64_t id = ids[k];
		char status[16] = "";
		int64_t packets = -1;
		sqlite3_stmt *cur = prep(s, "SELECT status, COALESCE(packets, -1) FROM runs WHERE id = ?1");
		if (!cur) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(cur, 1, id);
		if (sqlite3_step(cur) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(cur, 0);
			snprintf(status, sizeof status, "%s", t ? (const char *)t : "");
			packets = sqlite3_column_int64(cur, 1);
		}
		sqlite3_finalize(cur);
		struct run_state rs;
		if (run_state_get(s, id, &rs) != 0) {
			rc = -1;
			break;
		}
		if (rs.known && rs.version > 0 && !strcmp(rs.status, status) && rs.packets == packets)
			continue;
		size_t n = strlen(s->qcols[STORE_T_RUNS]) + 256;
		char *sql = malloc(n);
		if (!sql) {
			rc = -1;
			break;
		}
		snprintf(sql, n, "SELECT x.sensor, x.run_uuid, x.started_at, ?2, %s FROM runs x"
			 " WHERE x.id = ?1", s->qcols[STORE_T_RUNS]);
		sqlite3_stmt *row = prep(s, sql);
		free(sql);
		if (!row) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(row, 1, id);
		sqlite3_bind_int64(row, 2, rs.version + 1);
		s->rows[s->cur].len = 0;
		bool ok = sqlite3_step(row) == SQLITE_ROW;
		if (ok)
			encode_row(s, STORE_T_RUNS, row);
		sqlite3_finalize(row);
		if (!ok || send_rows(s, STORE_T_RUNS, &s->rows[s->cur], 1) != 0) {
			if (!ok)
				fail(s, "local database: run %lld: %s", (long long)id, sqlite3_errmsg(s->db));
			rc = -1;
			break;
		}
		sqlite3_stmt *up = prep(s, "INSERT INTO ship_runs (destination, run_id, conn_seq, version,"
					   " status, packets, shipped_at) VALUES (?1, ?2, 0, ?3, ?4, ?5, "
					   SHIP_NOW ") ON CONFLICT (destination, run_id) DO UPDATE SET"
					   " version = excluded.version, status = excluded.status,"
					   " packets = excluded.packets, shipped_at = excluded.shipped_at");
		if (!up) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(up, 1, s->dest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, id);
		sqlite3_bind_int64(up, 3, rs.version + 1);
		sqlite3_bind_text(up, 4, status, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 5, packets);
		if (record_step(s, up) != 0)
			rc = -1;
	}
	free(ids);
	return rc;
}

/* ---- the whole ------------------------------------------------------------------ */

static int open_db(struct shipper *s, const char *path)
{
	/* One thread uses the connection: no mutex around every call (it was
	 * a fifth of the time of a shipment). */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fail(s, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		return -1;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_stmt *st = NULL;
	int64_t version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	bool runs = sqlite3_prepare_v2(s->db, "SELECT 1 FROM runs LIMIT 1", -1, &st, NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	if (version < 1 || version > STORE_SCHEMA_VERSION || !runs) {
		fail(s, "%s: not a kalens database of schema 1 to %d", path, STORE_SCHEMA_VERSION);
		return -1;
	}
	/* A database made before what shipping reads (runs.run_uuid,
	 * connections.stored_seq) is upgraded in place first, as any kalens
	 * that writes to it does (docs/schema.md): the columns are added, NULL
	 * in the old rows. */
	st = NULL;
	bool current = sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM (SELECT name FROM"
					  " pragma_table_info('runs') WHERE name = 'run_uuid' UNION ALL"
					  " SELECT name FROM pragma_table_info('connections')"
					  " WHERE name = 'stored_seq')", -1, &st, NULL) == SQLITE_OK &&
		       sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2;
	sqlite3_finalize(st);
	if (!current) {
		char why[512];
		struct store *up = store_open(path, why, sizeof why);
		if (!up) {
			fail(s, "%s", why);
			return -1;
		}
		store_close(up);
	}
	return exec(s, store_ship_sql);
}

int ship_database(const char *db_path, const char *url, const struct ship_options *o,
		  struct ship_stats *st, char *err, size_t errlen)
{
	struct shipper s;
	memset(&s, 0, sizeof s);
	memset(st, 0, sizeof *st);
	s.url = url;
	s.o = o;
	s.st = st;
	s.err = err;
	s.errlen = errlen;
	s.batch = o->batch_rows ? o->batch_rows : SHIP_BATCH_DEFAULT;
	err[0] = '\0';
	if (!ship_destination(url, s.dest, sizeof s.dest)) {
		snprintf(err, errlen, "ship: '%s' is not an http:// or https:// URL",
			 strncmp(url, "http", 4) ? url : "(the URL given)");
		return -1;
	}
	store_decls_init(&s.decls);
	int rc = -1;
	if (open_db(&s, db_path) != 0)
		goto out;
	char why[256];
	if (curl_api_load(&s.api, why, sizeof why) != 0) {
		fail(&s, "%s", why);
		goto out;
	}
	s.curl = s.api.easy_init();
	if (!s.curl) {
		fail(&s, "cannot start libcurl");
		goto out;
	}
	s.api.easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, on_body);
	s.api.easy_setopt(s.curl, CURLOPT_WRITEDATA, &s);
	s.api.easy_setopt(s.curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A server that stops answering: give up after a minute without progress. */
	s.api.easy_setopt(s.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	s.api.easy_setopt(s.curl, CURLOPT_LOW_SPEED_TIME, 60L);
	s.api.easy_setopt(s.curl, CURLOPT_NOSIGNAL, 1L);
	s.api.easy_setopt(s.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->cacert)
		s.api.easy_setopt(s.curl, CURLOPT_CAINFO, o->cacert);
	const char *user = getenv("KALENS_CLICKHOUSE_USER");
	const char *pass = getenv("KALENS_CLICKHOUSE_PASSWORD");
	if (user && *user) {
		s.api.easy_setopt(s.curl, CURLOPT_USERNAME, user);
		s.api.easy_setopt(s.curl, CURLOPT_PASSWORD, pass ? pass : "");
	}
	/* Is it there, and a ClickHouse? */
	static const char ping[] = "SELECT version()";
	if (http_post(&s, "", ping, sizeof ping - 1, false, "connect") != 0)
		goto out;
	for (int t = 0; t < STORE_TABLES; t++)
		if (table_columns(&s, t) != 0) {
			fail(&s, "local database: table %s", s.decls.tables[t].name);
			goto out;
		}
	if (name_old_runs(&s) != 0)
		goto out;
	/* Rows first, then the run rows that sum them. */
	int64_t *ids;
	size_t nids;
	if (run_ids(&s, "SELECT id FROM runs ORDER BY id", &ids, &nids) != 0)
		goto out;
	int r = 0;
	for (size_t k = 0; r == 0 && !stopping(&s) && k < nids; k++) {
		struct run_state rs;
		r = run_state_get(&s, ids[k], &rs);
		if (r == 0)
			r = ship_run_connections(&s, ids[k], &rs);
	}
	free(ids);
	if (r != 0)
		goto out;
	if (!stopping(&s) && (ship_table_by_id(&s, STORE_T_REQUESTS) != 0 ||
			      ship_table_by_id(&s, STORE_T_FINDINGS) != 0 ||
			      ship_table_by_id(&s, STORE_T_ATTEMPTS) != 0))
		goto out;
	if (!stopping(&s) && ship_runs(&s) != 0)
		goto out;
	rc = 0;
out:
	if (s.curl)
		s.api.easy_cleanup(s.curl);
	sqlite3_close(s.db);
	for (int t = 0; t < STORE_TABLES; t++) {
		free(s.cols[t]);
		free(s.qcols[t]);
	}
	free(s.rows[0].p);
	free(s.rows[1].p);
	for (int t = 0; t < STORE_TABLES; t++)
		free(s.decl[t]);
	free(s.gz);
	return rc;
}

/* ---- shipping while kalens reads or captures ------------------------------ */

struct ship_bg {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *db, *url;
	struct ship_options o;
	double interval;
	bool finishing;               /* a last pass, then out */
	volatile sig_atomic_t abort;  /* the last pass ran out of time */
	bool clean;                   /* the last pass sent everything */
	struct ship_stats total;
	char err[1024], said[1024];
};

static void stats_add(struct ship_stats *a, const struct ship_stats *b)
{
	for (int i = 0; i < STORE_TABLES; i++)
		a->rows[i] += b->rows[i];
	a->inserts += b->inserts;
	a->bytes += b->bytes;
}

static void *ship_bg_main(void *arg)
{
	struct ship_bg *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		bool last = b->finishing;
		pthread_mutex_unlock(&b->mu);
		struct ship_stats st = { { 0 }, 0, 0 };
		char err[1024] = "";
		/* A database not made yet (no capture opened) has nothing to ship. */
		int rc = access(b->db, F_OK) == 0 ? ship_database(b->db, b->url, &b->o, &st, err, sizeof err)
						   : 0;
		pthread_mutex_lock(&b->mu);
		stats_add(&b->total, &st);
		b->clean = rc == 0;
		if (rc != 0) {
			snprintf(b->err, sizeof b->err, "%s", err);
			/* Said once, and again when it changes, not every pass. */
			if (strcmp(b->said, err) != 0 && !b->abort) {
				fprintf(stderr, "kalens: %s; rows wait in the database and are sent when "
					"it answers\n", err);
				snprintf(b->said, sizeof b->said, "%s", err);
			}
		} else {
			b->said[0] = '\0';
		}
		if (last && (rc == 0 || b->abort))
			break;
		if (!last) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)b->interval;
			until.tv_nsec += (long)((b->interval - (double)(time_t)b->interval) * 1e9);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!b->finishing &&
			       pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0)
				;
		} else {
			/* the last pass failed: try again shortly, until the time is up */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			while (!b->abort && pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0)
				;
			if (b->abort)
				break;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

struct ship_bg *ship_bg_start(const char *db_path, const char *url, const struct ship_options *o,
			      double interval, char *err, size_t errlen)
{
	char dest[1024];
	if (!ship_destination(url, dest, sizeof dest)) {
		snprintf(err, errlen, "ship: '%s' is not an http:// or https:// URL",
			 strncmp(url, "http", 4) ? url : "(the URL given)");
		return NULL;
	}
	/* libcurl is loaded (and initialised) here, in the caller's thread,
	 * before the shipper's thread starts. */
	struct curl_api api;
	char why[256];
	if (curl_api_load(&api, why, sizeof why) != 0) {
		snprintf(err, errlen, "ship: %s", why);
		return NULL;
	}
	struct ship_bg *b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "ship: out of memory");
		return NULL;
	}
	b->db = db_path;
	b->url = url;
	b->o = *o;
	b->o.stop = &b->abort;
	b->interval = interval > 0.05 ? interval : 0.05;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (pthread_create(&b->th, NULL, ship_bg_main, b) != 0) {
		snprintf(err, errlen, "ship: cannot start its thread");
		pthread_mutex_destroy(&b->mu);
		pthread_cond_destroy(&b->cv);
		free(b);
		return NULL;
	}
	return b;
}

int ship_bg_stop(struct ship_bg *b, double wait, struct ship_stats *total, char *err,
		 size_t errlen)
{
	pthread_mutex_lock(&b->mu);
	b->finishing = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	/* Wait for the last pass, at most `wait` seconds; then it stops after
	 * the insert under way. */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)wait;
	if (pthread_timedjoin_np(b->th, NULL, &until) != 0) {
		pthread_mutex_lock(&b->mu);
		b->abort = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->th, NULL);
	}
	*total = b->total;
	int rc = b->clean && !b->abort ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "%s", b->err[0] ? b->err : "ship: the last pass ran out of time");
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
	return rc;
}
