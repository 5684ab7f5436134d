/*
 * story.c - see story.h.
 *
 * Columns are looked up by name (sqlrow.h), so a database of an older
 * kalens, which lacks some, tells what it has.  Times are shown from the connection's
 * first packet ("+1.204 ms"), so a story reads without epoch arithmetic.
 */
#include "story.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "findings.h"
#include "jsonout.h"
#include "kl.h"
#include "sqlrow.h"
#include "store.h"

/* A duration: "812 us", "1.204 ms", "5.005 s". */
static void fmt_span(char *buf, size_t n, double s)
{
	double a = fabs(s);
	if (a < 1e-3)
		snprintf(buf, n, "%.0f us", s * 1e6);
	else if (a < 1)
		snprintf(buf, n, "%.3f ms", s * 1e3);
	else
		snprintf(buf, n, "%.3f s", s);
}

/* A capture time as an offset from the connection's first packet. */
static void fmt_at(char *buf, size_t n, double t, double t0)
{
	char d[32];
	fmt_span(d, sizeof d, t - t0);
	snprintf(buf, n, "+%s", d);
}

static const char *ip_version(sqlite3_stmt *c)
{
	return sqlrow_int(c, "ip_version") == 6 ? "IPv6" : "IPv4";
}

/* "[2001:db8::1]:80" or "192.0.2.1:80". */
static void endpoint(char *buf, size_t n, sqlite3_stmt *c, const char *ip, const char *port)
{
	bool v6 = sqlrow_int(c, "ip_version") == 6;
	snprintf(buf, n, "%s%s%s:%lld", v6 ? "[" : "", sqlrow_text(c, ip), v6 ? "]" : "",
		 sqlrow_int(c, port));
}

static void print_layers(sqlite3_stmt *c, FILE *out)
{
	char a[32];
	if (sqlrow_has(c, "tls_version")) {
		fprintf(out, "  %s", sqlrow_text(c, "tls_version"));
		if (sqlrow_has(c, "sni"))
			fprintf(out, ", SNI %s", sqlrow_text(c, "sni"));
		if (sqlrow_has(c, "alpn"))
			fprintf(out, ", ALPN %s", sqlrow_text(c, "alpn"));
		if (sqlrow_has(c, "cipher"))
			fprintf(out, ", %s", sqlrow_text(c, "cipher"));
		if (sqlrow_has(c, "tls_resumed"))
			fprintf(out, ", %s", sqlrow_int(c, "tls_resumed") ? "resumed" : "full handshake");
		if (sqlrow_has(c, "tls_handshake_s")) {
			fmt_span(a, sizeof a, sqlrow_real(c, "tls_handshake_s"));
			fprintf(out, " of %s", a);
		}
		fprintf(out, "%s\n", sqlrow_int(c, "decrypted") ? ", decrypted with the key log"
							     : ", not decrypted");
	}
	if (sqlrow_has(c, "h2_streams")) {
		fprintf(out, "  HTTP/2: %lld streams, at most %lld at once", sqlrow_int(c, "h2_streams"),
			sqlrow_int(c, "h2_peak_streams"));
		if (sqlrow_has(c, "h2_max_concurrent_streams"))
			fprintf(out, "; the server allows %lld", sqlrow_int(c, "h2_max_concurrent_streams"));
		if (sqlrow_has(c, "goaway_by"))
			fprintf(out, "; GOAWAY by the %s (error %lld, last stream %lld)",
				sqlrow_text(c, "goaway_by"), sqlrow_int(c, "goaway_error"),
				sqlrow_int(c, "goaway_last_stream"));
		fputc('\n', out);
	}
	if (sqlrow_has(c, "tunnel"))
		fprintf(out, "  tunnel: %s to %s\n", sqlrow_text(c, "tunnel"), sqlrow_text(c, "tunnel_target"));
	if (sqlrow_has(c, "encap_to_server") || sqlrow_has(c, "encap_to_client")) {
		fprintf(out, "  mirrored:");
		if (sqlrow_has(c, "encap_to_server"))
			fprintf(out, " to the server in %s %lld from %s", sqlrow_text(c, "encap_to_server"),
				sqlrow_int(c, "encap_id_to_server"), sqlrow_text(c, "encap_src_to_server"));
		if (sqlrow_has(c, "encap_to_client"))
			fprintf(out, "%s to the client in %s %lld from %s",
				sqlrow_has(c, "encap_to_server") ? ";" : "", sqlrow_text(c, "encap_to_client"),
				sqlrow_int(c, "encap_id_to_client"), sqlrow_text(c, "encap_src_to_client"));
		fputc('\n', out);
	}
	if (sqlrow_has(c, "stack"))
		fprintf(out, "  layers: %s\n", sqlrow_text(c, "stack"));
}

static void print_head(sqlite3_stmt *c, FILE *out)
{
	char cl[96], sv[96], a[32];
	endpoint(cl, sizeof cl, c, "client_ip", "client_port");
	endpoint(sv, sizeof sv, c, "server_ip", "server_port");
	fprintf(out, "Connection %lld (run %lld: %s)\n", sqlrow_int(c, "id"), sqlrow_int(c, "run_id"),
		sqlrow_text(c, "run_source"));
	fprintf(out, "  client %s -> server %s, %s, %s\n", cl, sv, ip_version(c),
		sqlrow_text(c, "protocol"));
	char from[40];
	if (!kl_fmt_localtime(sqlrow_real(c, "first_seen"), from, sizeof from))
		snprintf(from, sizeof from, "%.6f", sqlrow_real(c, "first_seen"));
	fmt_span(a, sizeof a, sqlrow_real(c, "last_seen") - sqlrow_real(c, "first_seen"));
	fprintf(out, "  from %s (local time), lasting %s", from, a);
	if (sqlrow_int(c, "syn_seen")) {
		fprintf(out, "; handshake seen");
		if (sqlrow_has(c, "handshake_rtt")) {
			fmt_span(a, sizeof a, sqlrow_real(c, "handshake_rtt"));
			fprintf(out, ", round trip %s", a);
		}
	} else {
		fprintf(out, "; picked up mid-stream");
	}
	fputc('\n', out);
	fprintf(out, "  %lld packets and %lld bytes to the server, %lld and %lld to the client",
		sqlrow_int(c, "packets_to_server"), sqlrow_int(c, "bytes_to_server"),
		sqlrow_int(c, "packets_to_client"), sqlrow_int(c, "bytes_to_client"));
	if (sqlrow_int(c, "gap_bytes"))
		fprintf(out, "; %lld bytes missing from the capture", sqlrow_int(c, "gap_bytes"));
	fputc('\n', out);
	print_layers(c, out);
}

/* What one side said about the connection: "Connection: keep-alive;
 * Keep-Alive: timeout=5", or "nothing about the connection". */
static void print_said(sqlite3_stmt *r, const char *who, const char *conn, const char *ka,
		       const char *proxy, FILE *out)
{
	fprintf(out, "         %s: ", who);
	bool any = false;
	if (sqlrow_has(r, conn)) {
		fprintf(out, "Connection: %s", sqlrow_text(r, conn));
		any = true;
	}
	if (sqlrow_has(r, ka)) {
		fprintf(out, "%sKeep-Alive: %s", any ? "; " : "", sqlrow_text(r, ka));
		any = true;
	}
	if (proxy && sqlrow_has(r, proxy)) {
		fprintf(out, "%sProxy-Connection: %s", any ? "; " : "", sqlrow_text(r, proxy));
		any = true;
	}
	fprintf(out, "%s\n", any ? "" : "nothing about the connection");
}

static void print_request(sqlite3_stmt *r, double t0, FILE *out)
{
	char at[40], a[32];
	fmt_at(at, sizeof at, sqlrow_has(r, "request_ts") ? sqlrow_real(r, "request_ts") : t0, t0);
	fprintf(out, "  %11s  #%lld %s %s %s", at, sqlrow_int(r, "seq"), sqlrow_text(r, "method"),
		sqlrow_text(r, "uri"), sqlrow_text(r, "version"));
	if (sqlrow_has(r, "stream_id"))
		fprintf(out, " (stream %lld)", sqlrow_int(r, "stream_id"));
	if (sqlrow_has(r, "status")) {
		fprintf(out, " -> %lld", sqlrow_int(r, "status"));
		if (sqlrow_has(r, "response_version") &&
		    strcmp(sqlrow_text(r, "response_version"), sqlrow_text(r, "version")))
			fprintf(out, " %s", sqlrow_text(r, "response_version"));
		if (sqlrow_int(r, "response_body_bytes") >= 0 && sqlrow_has(r, "response_body_bytes"))
			fprintf(out, ", %lld bytes", sqlrow_int(r, "response_body_bytes"));
		if (sqlrow_has(r, "response_ts") && sqlrow_has(r, "request_ts")) {
			fmt_span(a, sizeof a, sqlrow_real(r, "response_ts") - sqlrow_real(r, "request_ts"));
			fprintf(out, " after %s", a);
		}
	} else {
		fprintf(out, " -> no response");
	}
	fputc('\n', out);
	if (sqlrow_int(r, "pipelined") || sqlrow_has(r, "idle_before") || sqlrow_has(r, "upgrade")) {
		fprintf(out, "        ");
		if (sqlrow_int(r, "pipelined"))
			fprintf(out, " pipelined: sent before the previous response ended;");
		if (sqlrow_has(r, "idle_before")) {
			fmt_span(a, sizeof a, sqlrow_real(r, "idle_before"));
			fprintf(out, " idle %s before it;", a);
		}
		if (sqlrow_has(r, "upgrade"))
			fprintf(out, " Upgrade: %s;", sqlrow_text(r, "upgrade"));
		fputc('\n', out);
	}
	print_said(r, "client", "req_connection", "req_keep_alive", "req_proxy_connection", out);
	if (sqlrow_has(r, "status"))
		print_said(r, "server", "resp_connection", "resp_keep_alive", NULL, out);
}

static const char *close_how(const char *kind);

/* The close as a line of the timeline. */
static void print_close_mark(sqlite3_stmt *c, double t0, FILE *out)
{
	char at[40];
	fmt_at(at, sizeof at, sqlrow_real(c, "close_ts"), t0);
	fprintf(out, "  %11s  the %s closed the connection %s\n", at, sqlrow_text(c, "close_initiator"),
		close_how(sqlrow_text(c, "close_kind")));
}

static const char *close_how(const char *kind)
{
	if (!strcmp(kind, "fin"))
		return "with a FIN";
	if (!strcmp(kind, "rst"))
		return "with a RST";
	return kind;
}

static void print_close(sqlite3_stmt *c, double t0, FILE *out)
{
	char at[40], a[32];
	const char *kind = sqlrow_text(c, "close_kind");
	fprintf(out, "\nClose: ");
	if (!strcmp(kind, "fin") || !strcmp(kind, "rst")) {
		fmt_at(at, sizeof at, sqlrow_real(c, "close_ts"), t0);
		fprintf(out, "the %s closed it %s at %s", sqlrow_text(c, "close_initiator"), close_how(kind), at);
		if (sqlrow_has(c, "idle_before_close")) {
			fmt_span(a, sizeof a, sqlrow_real(c, "idle_before_close"));
			fprintf(out, ", %s after the last response", a);
		}
		fputc('\n', out);
	} else if (!strcmp(kind, "idle")) {
		fprintf(out, "none seen; kalens ended it after --idle-timeout without packets\n");
	} else if (!strcmp(kind, "evicted")) {
		fprintf(out, "none seen; kalens evicted it to stay within its memory cap\n");
	} else {
		fprintf(out, "none seen: still open when the capture ended\n");
	}
	if (sqlrow_has(c, "tls_close_by"))
		fprintf(out, "       TLS: the %s sent %s\n", sqlrow_text(c, "tls_close_by"),
			sqlrow_has(c, "tls_close_alert") ? sqlrow_text(c, "tls_close_alert") : "an alert");
	fprintf(out, "       the server advertised ");
	if (sqlrow_has(c, "ka_timeout_advertised") || sqlrow_has(c, "ka_max_advertised")) {
		if (sqlrow_has(c, "ka_timeout_advertised"))
			fprintf(out, "timeout=%lld s", sqlrow_int(c, "ka_timeout_advertised"));
		if (sqlrow_has(c, "ka_max_advertised"))
			fprintf(out, "%smax=%lld", sqlrow_has(c, "ka_timeout_advertised") ? ", " : "",
				sqlrow_int(c, "ka_max_advertised"));
	} else {
		fprintf(out, "no Keep-Alive timeout or max");
	}
	fputc('\n', out);
	if (sqlrow_has(c, "expected_persistent"))
		fprintf(out, "       by the RFC rules it was %spersistent\n",
			sqlrow_int(c, "expected_persistent") ? "" : "not ");
	if (sqlrow_has(c, "max_idle")) {
		fmt_span(a, sizeof a, sqlrow_real(c, "max_idle"));
		fprintf(out, "       the longest idle between requests was %s\n", a);
	}
}

static int print_findings(sqlite3_stmt *f, double t0, FILE *out)
{
	int n = 0, rc;
	while ((rc = sqlite3_step(f)) == SQLITE_ROW) {
		if (n++ == 0)
			fprintf(out, "\nFindings:\n");
		enum finding_kind k;
		const char *kind = sqlrow_text(f, "kind");
		bool known = finding_kind_lookup(kind, &k);
		char at[40] = "";
		if (sqlrow_has(f, "ts"))
			fmt_at(at, sizeof at, sqlrow_real(f, "ts"), t0);
		fprintf(out, "  %s", kind);
		if (known)
			fprintf(out, " (%s)", finding_impact_heading(finding_kind(k)->impact));
		if (sqlrow_has(f, "request_seq"))
			fprintf(out, ", request #%lld", sqlrow_int(f, "request_seq"));
		if (*at)
			fprintf(out, ", at %s", at);
		fprintf(out, "\n");
		if (known)
			fprintf(out, "      %s\n", finding_kind(k)->meaning);
		if (sqlrow_has(f, "detail"))
			fprintf(out, "      %s\n", sqlrow_text(f, "detail"));
	}
	if (n == 0 && rc == SQLITE_DONE)
		fprintf(out, "\nFindings: none\n");
	return rc == SQLITE_DONE ? 0 : -1;
}

static int json_story(sqlite3_stmt *c, sqlite3_stmt *r, sqlite3_stmt *f, FILE *out)
{
	fputs("{\"connection\":", out);
	jsonout_row(out, c);
	fputs(",\"requests\":[", out);
	int n = 0, rc;
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		if (n++)
			fputc(',', out);
		jsonout_row(out, r);
	}
	if (rc != SQLITE_DONE)
		return -1;
	fputs("],\"findings\":[", out);
	n = 0;
	while ((rc = sqlite3_step(f)) == SQLITE_ROW) {
		if (n++)
			fputc(',', out);
		/* The row, then what kalens knows of its kind (nothing for a
		 * kind of a newer kalens). */
		fputc('{', out);
		jsonout_members(out, f);
		enum finding_kind k;
		if (finding_kind_lookup(sqlrow_text(f, "kind"), &k)) {
			fputs(",\"impact\":", out);
			jsonout_string(out, finding_impact_name(finding_kind(k)->impact));
			fputs(",\"meaning\":", out);
			jsonout_string(out, finding_kind(k)->meaning);
		}
		fputc('}', out);
	}
	if (rc != SQLITE_DONE)
		return -1;
	fputs("]}\n", out);
	return 0;
}

int story_print(const char *db_path, int64_t conn_id, enum story_format fmt, FILE *out,
		char *err, size_t errlen)
{
	struct store_reader rd;
	sqlite3_stmt *c = NULL, *r = NULL, *f = NULL;
	int ret = -1;
	if (store_reader_open(&rd, db_path, err, errlen) != 0)
		goto out;
	sqlite3 *db = rd.db;
	if (sqlite3_prepare_v2(db,
		"SELECT c.*, r.source AS run_source"
		" FROM connections c JOIN runs r ON r.id = c.run_id WHERE c.id = ?1",
		-1, &c, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT * FROM requests WHERE conn_id = ?1 ORDER BY seq", -1, &r,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT * FROM findings WHERE conn_id = ?1 ORDER BY ts, id", -1,
			       &f, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: not a kalens database (%s)", db_path, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(c, 1, conn_id);
	sqlite3_bind_int64(r, 1, conn_id);
	sqlite3_bind_int64(f, 1, conn_id);
	int rc = sqlite3_step(c);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "%s: no connection %lld", db_path, (long long)conn_id);
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto sql_error;
	if (fmt == STORY_JSON) {
		if (json_story(c, r, f, out) != 0)
			goto sql_error;
		ret = 0;
		goto out;
	}
	double t0 = sqlrow_real(c, "first_seen");
	print_head(c, out);
	long long n = sqlrow_int(c, "requests");
	fprintf(out, "\nRequests: %lld", n);
	if (sqlrow_has(c, "responses"))
		fprintf(out, ", responses: %lld", sqlrow_int(c, "responses"));
	fputc('\n', out);
	/* The close in its place in time: a request sent after it (a race)
	 * reads after it. */
	bool closed = !sqlrow_has(c, "close_ts");
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		if (!closed && sqlrow_has(r, "request_ts") &&
		    sqlrow_real(r, "request_ts") > sqlrow_real(c, "close_ts")) {
			print_close_mark(c, t0, out);
			closed = true;
		}
		print_request(r, t0, out);
	}
	if (rc != SQLITE_DONE)
		goto sql_error;
	if (!closed)
		print_close_mark(c, t0, out);
	print_close(c, t0, out);
	if (print_findings(f, t0, out) != 0)
		goto sql_error;
	ret = ferror(out) ? -1 : 0;
	if (ret)
		snprintf(err, errlen, "cannot write the story");
	goto out;
sql_error:
	snprintf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(rd.db));
out:
	sqlite3_finalize(c);
	sqlite3_finalize(r);
	sqlite3_finalize(f);
	store_reader_close(&rd);
	return ret;
}
