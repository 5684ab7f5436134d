/*
 * test_e2e_http2.c - kalens's HTTP/2 streams (dissectors/http2.c) against
 * outside readings of the same captures.
 *
 *  - tshark: every tests/expected/http2/NAME.streams.tsv was written by
 *    tests/tools/http2-references.py from tshark 4.0's reading (with the key
 *    log beside the capture, where there is one): one row per stream with a
 *    request, in the order the connections began and the streams first
 *    appeared: client port, stream id, method, path, authority, final
 *    status.  kalens's rows (requests with a stream_id) must be the same,
 *    column by column.  tshark has no :authority for stream 1 of an h2c
 *    upgrade (the request was HTTP/1.1, its Host is kalens's host); an empty
 *    reference authority is not compared.
 *  - the clients' own records (captures/generated/make-h2.sh): nghttp's
 *    frames (stream, status, DATA bytes) and curl's -w rows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NCOLS 6
#define MAXROWS 64

/* kalens read CAPTURE (absolute), with the key log beside it if any. */
static void read_capture(struct tu_db *d, const char *capture)
{
	char keylog[4300];
	tu_keylog_option(capture, keylog, sizeof keylog);
	tu_db_read(d, keylog, capture);
}

#define KALENS_STREAMS "SELECT c.client_port, r.stream_id, r.method, r.uri, r.host, r.status" \
	" FROM requests r JOIN connections c ON c.id = r.conn_id WHERE r.stream_id IS NOT NULL" \
	" ORDER BY c.first_seen, c.client_port, r.seq"

static const char *const COLS[NCOLS] = { "client_port", "stream_id", "method", "path",
					  "authority", "status" };

static int compare(const char *refdir, const char *file)
{
	char capture[2048], ref[8192];
	tu_capture_of_reference(file, ".streams.tsv", capture, sizeof capture);
	snprintf(ref, sizeof ref, "%s/%s", refdir, file);
	static char want[MAXROWS][NCOLS][512];
	size_t nw = tu_load_tsv(ref, &want[0][0][0], NCOLS, sizeof want[0][0], MAXROWS);
	struct tu_db d;
	read_capture(&d, tu_src_path(capture));
	struct tu_table got;
	tu_db_table(&d, KALENS_STREAMS, &got);
	size_t ng = got.nrows;
	int bad = 0;
	if (ng != nw) {
		cr_expect_fail("%s: %zu streams, tshark %zu", capture, ng, nw);
		bad++;
	}
	for (size_t i = 0; i < ng && i < nw; i++)
		for (int c = 0; c < NCOLS; c++) {
			if (c == 4 && !want[i][c][0])
				continue;
			const char *g = tu_cell(&got, i, (size_t)c);
			if (strcmp(g, want[i][c])) {
				cr_expect_fail("%s: stream row %zu: %s is '%s', tshark says '%s'", capture,
					       i, COLS[c], g, want[i][c]);
				bad++;
			}
		}
	tu_table_free(&got);
	tu_db_close(&d);
	return bad ? 1 : 0;
}

Test(e2e_http2, streams_match_tshark, .timeout = 120)
{
	int files;
	int bad = tu_each_file("tests/expected/http2", "", ".streams.tsv", compare, &files);
	/* 3 public (prior knowledge with CONTINUATION, two h2c upgrades), 7
	 * generated (nghttp, nghttp with a server push, curl prior knowledge,
	 * h2c upgrade, TLS 1.2 and 1.3 with ALPN h2, a forbidden header) */
	cr_expect_geq(files, 10, "only %d HTTP/2 references", files);
	cr_expect_eq(bad, 0, "%d of %d captures differ from tshark", bad, files);
}

static void gen(struct tu_db *d, const char *name)
{
	char capture[2048];
	snprintf(capture, sizeof capture, "%s/%s.pcap", tu_src_path("captures/generated"), name);
	read_capture(d, capture);
}

/* Each row of an nghttp record (stream id, :status, DATA bytes received,
 * path) is a kalens row; how many there are. */
/* NAME's client record (captures/generated/NAME.client.tsv), ncols columns. */
static void client_record(const char *name, size_t ncols, struct tu_table *t)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/%s.client.tsv", tu_src_path("captures/generated"), name);
	tu_tsv_table(path, ncols, t);
}

static int check_nghttp(struct tu_db *d, const char *name)
{
	/* tool stream_id http_code size_download path */
	struct tu_table t;
	client_record(name, 5, &t);
	char sql[512];
	int rows = 0;
	for (size_t i = 0; i < t.nrows; i++) {
		if (strcmp(tu_cell(&t, i, 0), "nghttp"))
			continue;
		rows++;
		const char *sid = tu_cell(&t, i, 1), *status = tu_cell(&t, i, 2);
		const char *size = tu_cell(&t, i, 3), *p = tu_cell(&t, i, 4);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests WHERE stream_id = %s AND"
			 " status = %s AND response_body_bytes = %s AND uri = '%s'"
			 " AND version = 'HTTP/2'", sid, status, size, p);
		cr_expect_eq(tu_db_int(d, sql), 1, "%s: stream %s: %s, %s bytes, %s", name, sid,
			     status, size, p);
	}
	tu_table_free(&t);
	cr_expect_eq(tu_db_int(d, "SELECT COUNT(*) FROM requests"), rows, "%s", name);
	return rows;
}

/* nghttpd -p/small.html=/100k.bin: nghttp asked for /small.html and was
 * pushed /100k.bin on promised stream 2 (its record, from the
 * PUSH_PROMISE it printed): two rows, the pushed one open while the other
 * was. */
Test(e2e_http2, server_push_matches_the_record)
{
	struct tu_db d;
	gen(&d, "h2-nghttp-push");
	cr_expect_eq(check_nghttp(&d, "h2-nghttp-push"), 2);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests WHERE stream_id = 2 AND"
			       " method = 'GET' AND pipelined = 1"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind LIKE 'h2-%'"), 0);
	tu_db_close(&d);
}

/* nghttp -n -v against nghttpd: 4 streams sent before any response (its
 * log: four "send HEADERS" first), each row of its record (stream id,
 * :status, DATA bytes received) a kalens row; one connection, all 4 open at
 * once; nghttp ended it with GOAWAY (NO_ERROR), as tshark reads it. */
Test(e2e_http2, nghttp_streams_match_its_record)
{
	struct tu_db d;
	gen(&d, "h2-nghttp-prior-knowledge");
	cr_expect_eq(check_nghttp(&d, "h2-nghttp-prior-knowledge"), 4);
	cr_expect_eq(tu_db_int(&d, "SELECT h2_streams FROM connections"), 4);
	cr_expect_eq(tu_db_int(&d, "SELECT h2_peak_streams FROM connections"), 4);
	cr_expect_eq(tu_db_int(&d, "SELECT goaway_by = 'client' AND goaway_error = 0 FROM connections"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind LIKE 'h2-%'"), 0);
	tu_db_close(&d);
}

/* curl's rows: a URL fetched (exit 0) is a stream of that path with curl's
 * status and body bytes on curl's local port; a URL curl failed (exit 16:
 * the server had sent GOAWAY after one stream) has no response in kalens
 * either. */
static void check_curl(const char *name, long long want_conns)
{
	struct tu_db d;
	gen(&d, name);
	/* tool url local_ip local_port remote_ip remote_port num_connects
	 * http_code size_download http_version exitcode */
	struct tu_table t;
	client_record(name, 11, &t);
	char sql[1024];
	for (size_t i = 0; i < t.nrows; i++) {
		if (strcmp(tu_cell(&t, i, 0), "curl"))
			continue;
		const char *url = tu_cell(&t, i, 1), *lport = tu_cell(&t, i, 3);
		const char *code = tu_cell(&t, i, 7), *size = tu_cell(&t, i, 8);
		const char *p = strchr(strstr(url, "//") + 2, '/');
		if (atoi(tu_cell(&t, i, 10)) == 0) {
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests r JOIN connections c"
				 " ON c.id = r.conn_id WHERE c.client_port = %s AND r.uri = '%s' AND"
				 " r.status = %s AND r.response_body_bytes = %s AND r.stream_id > 0",
				 lport, p, code, size);
			cr_expect_geq(tu_db_int(&d, sql), 1, "%s: %s %s %s bytes on port %s", name, p, code,
				      size, lport);
		} else {
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests r JOIN connections c"
				 " ON c.id = r.conn_id WHERE c.client_port = %s AND r.uri = '%s' AND"
				 " r.status IS NOT NULL", lport, p);
			cr_expect_eq(tu_db_int(&d, sql), 0, "%s: curl got no response for %s", name, p);
		}
	}
	tu_table_free(&t);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections"), want_conns, "%s", name);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'h2-connection-specific-header'"),
		     0, "%s", name);
	tu_db_close(&d);
}

Test(e2e_http2, curl_streams_match_its_record)
{
	check_curl("h2-curl-tls-nginx", 1);
	check_curl("h2-curl-tls13-nginx", 1);
	check_curl("h2-curl-prior-knowledge", 1);
	check_curl("h2-curl-upgrade", 2);
}

/* nginx's SETTINGS as tshark reads them in h2-curl-tls-nginx (decrypted
 * with curl's key log): SETTINGS_MAX_CONCURRENT_STREAMS 128,
 * SETTINGS_INITIAL_WINDOW_SIZE 65536; the connection is TLS with ALPN h2,
 * decrypted. */
Test(e2e_http2, server_settings_over_tls)
{
	struct tu_db d;
	gen(&d, "h2-curl-tls-nginx");
	cr_expect_eq(tu_db_int(&d, "SELECT h2_max_concurrent_streams FROM connections"), 128);
	cr_expect_eq(tu_db_int(&d, "SELECT h2_initial_window FROM connections"), 65536);
	cr_expect_eq(tu_db_int(&d, "SELECT protocol = 'tls' AND alpn = 'h2' AND decrypted = 1 AND"
			     " requests = 3 FROM connections"), 1);
	tu_db_close(&d);
	/* TLS 1.3: ALPN is chosen in the EncryptedExtensions (RFC 8446 §4.3.1),
	 * readable only once decrypted; tshark reads h2 there too */
	gen(&d, "h2-curl-tls13-nginx");
	cr_expect_eq(tu_db_int(&d, "SELECT tls_version = 'TLS 1.3' AND alpn = 'h2' AND decrypted = 1"
			     " AND h2_streams = 3 FROM connections"), 1);
	tu_db_close(&d);
}

/* Apache sent GOAWAY (last stream 1) while curl's second request was open
 * on stream 3 (tshark: HEADERS on stream 3 before the GOAWAY; curl: exit
 * 16 for it): goaway-with-active-streams. */
Test(e2e_http2, goaway_with_active_streams)
{
	struct tu_db d;
	gen(&d, "h2-curl-upgrade");
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'goaway-with-active-streams'"
			     " AND detail LIKE '%server%last stream 1%'"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections WHERE goaway_by = 'server'"
			     " AND goaway_last_stream = 1"), 2);
	/* the server's row of keepalive_compliance says the same */
	cr_expect_eq(tu_db_int(&d, "SELECT h2_connections = 2 AND h2_goaway_by_server = 2 AND"
			     " goaway_with_active_streams = 1 FROM keepalive_compliance"), 1);
	tu_db_close(&d);
}

/* RFC 9113 §8.2.2: the raw server of make-h2.sh answers with
 * "connection: keep-alive"; curl (nghttp2) refuses the response (exit 92)
 * and resets the stream.  kalens stores the response as sent (tshark reads
 * :status 200 too), the finding names the header, the side and the stream,
 * and the client's RST_STREAM is counted.  The server's PING and curl's ACK
 * are 55 us apart as tshark reads them (frame.time_epoch 1795632091.177518
 * and .177573). */
Test(e2e_http2, forbidden_connection_header_is_a_finding)
{
	struct tu_db d;
	gen(&d, "h2-forbidden-connection-header");
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'h2-connection-specific-header'"
			     " AND detail LIKE 'the server sent%connection: keep-alive%stream 1)%'"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT rst_streams FROM connections"), 1);
	cr_expect_eq(tu_db_int(&d, "SELECT CAST(round(ping_rtt_s * 1e6) AS INTEGER) FROM connections"),
		     55);
	tu_db_close(&d);
}

/* kalens report's HTTP/2 section and JSON on the nghttp capture: its record
 * has 4 streams, all sent before any response (4 open at once); tshark
 * reads nghttp's GOAWAY at the end. */
Test(e2e_http2, report_http2_section)
{
	char *tmp = tu_tmpdir();
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "'%s' read -q -o '%s/r.db' '%s/captures/generated/h2-nghttp-prior-knowledge.pcap'"
		 " && '%s' report '%s/r.db' && '%s' report --json '%s/r.db'", KALENS_BINARY, tmp,
		 KALENS_SOURCE_DIR, KALENS_BINARY, tmp, KALENS_BINARY, tmp);
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out ? out : "");
	cr_expect(strstr(out, "HTTP/2: 1 connections (0 over TLS), 4 streams, 4.0 per connection"), "%s",
		  out);
	cr_expect(strstr(out, "HTTP (1.x and 2): 4 requests on 1 connections"), "%s", out);
	cr_expect(strstr(out, "HTTP/1.1 on 0 connections, HTTP/1.0 on 0, HTTP/2 on 1 (see below)"), "%s",
		  out);
	cr_expect(strstr(out, "1 connections had several streams open at once (at most 4)"), "%s", out);
	cr_expect(strstr(out, "0 by servers, 1 by clients, 0 with an error"), "%s", out);
	cr_expect(strstr(out, "\"streams\":4,\"peak_streams\":4,"), "%s", out);
	free(out);
	tu_rmtree(tmp);
}
