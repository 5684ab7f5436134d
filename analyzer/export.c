/*
 * export.c - see export.h.
 */
#include "export.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "jsonout.h"
#include "kl.h"
#include "sqlrow.h"
#include "store.h"

/* ---- HAR 1.2 ------------------------------------------------------------- */

/* Milliseconds between two stored times, never negative (clock steps),
 * 0 when either is missing. */
static double span_ms(sqlite3_stmt *r, const char *from, const char *to)
{
	if (!sqlrow_has(r, from) || !sqlrow_has(r, to))
		return 0;
	double d = (sqlrow_real(r, to) - sqlrow_real(r, from)) * 1e3;
	return d > 0 ? d : 0;
}

static void json_time(FILE *out, double secs)
{
	char t[48];
	if (!kl_fmt_time(secs, true, t, sizeof t))
		snprintf(t, sizeof t, "1970-01-01T00:00:00.000000Z");
	jsonout_string(out, t);
}

/* {"name": N, "value": V} for each header kalens kept that is present. */
static void har_headers(FILE *out, sqlite3_stmt *r, const char *const (*hs)[2], size_t n)
{
	fputc('[', out);
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!sqlrow_has(r, hs[i][1]))
			continue;
		fprintf(out, "%s{\"name\":", k++ ? "," : "");
		jsonout_string(out, hs[i][0]);
		fputs(",\"value\":", out);
		jsonout_string(out, sqlrow_text(r, hs[i][1]));
		fputc('}', out);
	}
	fputc(']', out);
}

/* The query string's name=value pairs, as they are (not decoded: HAR
 * viewers show them so). */
static void har_query(FILE *out, const char *uri)
{
	fputc('[', out);
	const char *q = strchr(uri, '?');
	int k = 0;
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		size_t n = strcspn(p, "&#");
		const char *eq = memchr(p, '=', n);
		size_t nn = eq ? (size_t)(eq - p) : n;
		char name[256], value[1024];
		snprintf(name, sizeof name, "%.*s", (int)(nn < 255 ? nn : 255), p);
		snprintf(value, sizeof value, "%.*s", eq ? (int)((n - nn - 1) < 1023 ? n - nn - 1 : 1023) : 0,
			 eq ? eq + 1 : "");
		if (n) {
			fprintf(out, "%s{\"name\":", k++ ? "," : "");
			jsonout_string(out, name);
			fputs(",\"value\":", out);
			jsonout_string(out, value);
			fputc('}', out);
		}
		if (p[n] != '&')
			break;
		p += n + 1;
	}
	fputc(']', out);
}

/* The request's URL as a browser would log it: absolute-form as sent;
 * otherwise scheme (https when the connection is TLS), the Host header (or
 * the server's address and port) and the target. */
static void har_url(FILE *out, sqlite3_stmt *r)
{
	const char *uri = sqlrow_text(r, "uri");
	if (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8)) {
		jsonout_string(out, uri);
		return;
	}
	bool tls = sqlrow_has(r, "tls_version");
	char host[300];
	if (sqlrow_has(r, "host"))
		snprintf(host, sizeof host, "%s", sqlrow_text(r, "host"));
	else if (sqlrow_int(r, "ip_version") == 6)
		snprintf(host, sizeof host, "[%s]:%lld", sqlrow_text(r, "server_ip"),
			 sqlrow_int(r, "server_port"));
	else
		snprintf(host, sizeof host, "%s:%lld", sqlrow_text(r, "server_ip"),
			 sqlrow_int(r, "server_port"));
	char url[4096];
	snprintf(url, sizeof url, "%s://%s%s%s", tls ? "https" : "http", host,
		 uri[0] == '/' || !uri[0] ? "" : "/", uri[0] == '*' ? "" : uri);
	jsonout_string(out, url);
}

static void har_entry(FILE *out, sqlite3_stmt *r)
{
	static const char *const req_headers[][2] = {
		{ "Host", "host" }, { "Connection", "req_connection" },
		{ "Keep-Alive", "req_keep_alive" }, { "Proxy-Connection", "req_proxy_connection" },
		{ "Upgrade", "upgrade" },
	};
	static const char *const resp_headers[][2] = {
		{ "Connection", "resp_connection" }, { "Keep-Alive", "resp_keep_alive" },
	};
	bool first = sqlrow_int(r, "seq") == 1;
	bool responded = sqlrow_has(r, "status");
	/* A connection's first request pays its handshakes (connect includes
	 * ssl, HAR 1.2); later ones reuse it: -1. */
	double ssl = first && sqlrow_has(r, "tls_handshake_s") ? sqlrow_real(r, "tls_handshake_s") * 1e3
							       : -1;
	double connect = first && sqlrow_has(r, "handshake_rtt") ?
				 sqlrow_real(r, "handshake_rtt") * 1e3 + (ssl > 0 ? ssl : 0) : -1;
	const char *sent = sqlrow_has(r, "request_end_ts") ? "request_end_ts" : "request_ts";
	double send = span_ms(r, "request_ts", sent);
	double wait = responded ? span_ms(r, sent, "response_ts") : 0;
	double receive = responded ? span_ms(r, "response_ts", "response_end_ts") : 0;
	double start = sqlrow_real(r, "request_ts");
	if (connect >= 0)
		start -= connect / 1e3;   /* the entry begins with its connection */

	fputs("{\"startedDateTime\":", out);
	json_time(out, start);
	fprintf(out, ",\"time\":%.3f", (connect > 0 ? connect : 0) + send + wait + receive);
	fputs(",\"request\":{\"method\":", out);
	jsonout_string(out, sqlrow_text(r, "method"));
	fputs(",\"url\":", out);
	har_url(out, r);
	fputs(",\"httpVersion\":", out);
	jsonout_string(out, sqlrow_text(r, "version"));
	fputs(",\"cookies\":[],\"headers\":", out);
	har_headers(out, r, req_headers, KL_ARRAY_LEN(req_headers));
	fputs(",\"queryString\":", out);
	har_query(out, sqlrow_text(r, "uri"));
	fprintf(out, ",\"headersSize\":-1,\"bodySize\":%lld}",
		sqlrow_has(r, "request_body_bytes") ? sqlrow_int(r, "request_body_bytes") : -1);
	long long body = responded && sqlrow_has(r, "response_body_bytes") &&
				 sqlrow_int(r, "response_body_bytes") >= 0
			 ? sqlrow_int(r, "response_body_bytes") : -1;
	fprintf(out, ",\"response\":{\"status\":%lld,\"statusText\":\"\",\"httpVersion\":",
		responded ? sqlrow_int(r, "status") : 0);
	jsonout_string(out, !responded ? "" : sqlrow_has(r, "response_version")
						? sqlrow_text(r, "response_version") : sqlrow_text(r, "version"));
	fputs(",\"cookies\":[],\"headers\":", out);
	if (responded)
		har_headers(out, r, resp_headers, KL_ARRAY_LEN(resp_headers));
	else
		fputs("[]", out);
	fprintf(out, ",\"content\":{\"size\":%lld,\"mimeType\":\"\"},\"redirectURL\":\"\","
		"\"headersSize\":-1,\"bodySize\":%lld}", body > 0 ? body : 0, body);
	fputs(",\"cache\":{}", out);
	fprintf(out, ",\"timings\":{\"blocked\":-1,\"dns\":-1,\"connect\":%.3f,\"send\":%.3f,"
		"\"wait\":%.3f,\"receive\":%.3f,\"ssl\":%.3f}", connect, send, wait, receive, ssl);
	fputs(",\"serverIPAddress\":", out);
	jsonout_string(out, sqlrow_text(r, "server_ip"));
	fprintf(out, ",\"connection\":\"%lld\"", sqlrow_int(r, "conn_id"));
	/* What HAR has no field for, under a custom (underscore) name. */
	fprintf(out, ",\"_kalens\":{\"run_id\":%lld,\"seq\":%lld,\"pipelined\":%s",
		sqlrow_int(r, "run_id"), sqlrow_int(r, "seq"),
		sqlrow_int(r, "pipelined") ? "true" : "false");
	if (sqlrow_has(r, "idle_before"))
		fprintf(out, ",\"idle_before_s\":%.6f", sqlrow_real(r, "idle_before"));
	if (sqlrow_has(r, "stream_id"))
		fprintf(out, ",\"stream_id\":%lld", sqlrow_int(r, "stream_id"));
	fputs("}}", out);
}

static int export_har(sqlite3 *db, int64_t run, FILE *out)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
		"SELECT r.*, c.server_ip, c.server_port, c.ip_version, c.handshake_rtt,"
		" c.tls_version, c.tls_handshake_s"
		" FROM requests r JOIN connections c ON c.id = r.conn_id"
		" WHERE (?1 = 0 OR r.run_id = ?1) ORDER BY r.request_ts, r.id", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	fprintf(out, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"kalens\","
		"\"version\":\"%s\"},\"entries\":[", KALENS_VERSION);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++)
			fputc(',', out);
		fputc('\n', out);
		har_entry(out, st);
	}
	fputs("\n]}}\n", out);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- NDJSON -------------------------------------------------------------- */

/* One table's rows of the run, a line each: {"type": type, column: value,
 * ...}, times declared "s, epoch" as ISO 8601 UTC strings. */
static int ndjson_table(sqlite3 *db, const struct store_decls *d, const char *table,
			const char *type, int64_t run, FILE *out)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE (?1 = 0 OR %s = ?1) ORDER BY id", table,
		 strcmp(table, "runs") ? "run_id" : "id");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run);
	int n = sqlite3_column_count(st);
	bool epoch[256] = { false };
	for (int i = 0; i < n && i < 256; i++) {
		const struct column *c = store_decl_column(d, table, sqlite3_column_name(st, i));
		epoch[i] = c && column_is_time(c);
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fputs("{\"type\":", out);
		jsonout_string(out, type);
		for (int i = 0; i < n; i++) {
			fputc(',', out);
			jsonout_string(out, sqlite3_column_name(st, i));
			fputc(':', out);
			int t = sqlite3_column_type(st, i);
			if (i < 256 && epoch[i] && (t == SQLITE_FLOAT || t == SQLITE_INTEGER))
				json_time(out, sqlite3_column_double(st, i));
			else
				jsonout_value(out, st, i);
		}
		fputs("}\n", out);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int export_ndjson(sqlite3 *db, int64_t run, FILE *out)
{
	struct store_decls d;
	store_decls_init(&d);
	static const char *const tables[][2] = {
		{ "runs", "run" }, { "connections", "connection" }, { "requests", "request" },
		{ "findings", "finding" }, { "attempts", "attempts" },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(tables); i++) {
		/* A database from before a table has none of its rows. */
		if (sqlrow_schema_has(db, "table", tables[i][0]) && ndjson_table(db, &d, tables[i][0], tables[i][1], run, out) != 0)
			return -1;
	}
	return 0;
}

int export_write(const char *db_path, int64_t run, enum export_format fmt, FILE *out, char *err,
		 size_t errlen)
{
	struct store_reader rd;
	int rc = -1;
	if (store_reader_open(&rd, db_path, err, errlen) != 0)
		goto out;
	sqlite3_stmt *st = NULL;
	long long runs = -1;
	if (sqlite3_prepare_v2(rd.db, "SELECT COUNT(*) FROM runs WHERE ?1 = 0 OR id = ?1", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_bind_int64(st, 1, run) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		runs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (runs < 0) {
		snprintf(err, errlen, "%s: not a kalens database (%s)", db_path, sqlite3_errmsg(rd.db));
		goto out;
	}
	if (runs == 0) {
		snprintf(err, errlen, run ? "%s: no run %lld" : "%s: the database holds no run",
			 db_path, (long long)run);
		goto out;
	}
	rc = fmt == EXPORT_HAR ? export_har(rd.db, run, out) : export_ndjson(rd.db, run, out);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(rd.db));
	else if (ferror(out)) {
		snprintf(err, errlen, "cannot write the export");
		rc = -1;
	}
out:
	store_reader_close(&rd);
	return rc;
}
