/*
 * test_e2e_http10.c - HTTP/1.1 requests answered with HTTP/1.0 (RFC 9112
 * §9.3), on captures of curl against python3's http.server (HTTP/1.0, closes)
 * and against a server that answers HTTP/1.0 with Connection: keep-alive
 * (captures/generated/make-http10.sh).  Expected values are curl's own
 * record of each transfer (-w): its status, whether it opened a connection,
 * and %{http_version}, the response's version, which curl 7.88 writes as
 * "1" for HTTP/1.0 and "1.1" for HTTP/1.1.  The version of each request
 * curl sent is tshark's reading (tests/expected/http10/): after an HTTP/1.0
 * answer, curl asks the same server with HTTP/1.0 on the reused connection,
 * so only requests sent as HTTP/1.1 and answered HTTP/1.0 are findings.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { C_TOOL, C_URL, C_PORT, C_CONNECTS, C_CODE, C_HTTPVER, C_EXIT, NCOLS };

static void check(const char *name, const char *keep_alive_words)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/captures/generated/http10/%s.client.tsv", KALENS_SOURCE_DIR,
		 name);
	struct tu_table rec;
	tu_tsv_table(path, NCOLS, &rec);
	cr_assert_eq(rec.nrows, 3, "%s: curl's record", name);
	snprintf(path, sizeof path, "%s/captures/generated/http10/%s.pcap", KALENS_SOURCE_DIR, name);
	struct tu_db db;
	tu_db_read(&db, "", path);
	snprintf(path, sizeof path, "%s/tests/expected/http10/%s.tsv", KALENS_SOURCE_DIR, name);
	struct tu_table sent;
	tu_tsv_table(path, 1, &sent);
	cr_assert_eq(sent.nrows, rec.nrows, "%s: tshark's requests", name);
	struct tu_table got;
	tu_db_table(&db, "SELECT r.status, r.response_version, r.version, c.client_port"
		    " FROM requests r JOIN connections c ON c.id = r.conn_id ORDER BY r.request_ts",
		    &got);
	cr_assert_eq(got.nrows, rec.nrows, "%s: requests", name);
	long long connects = 0, http10 = 0;
	for (size_t i = 0; i < rec.nrows; i++) {
		const char *v = tu_cell(&rec, i, C_HTTPVER);
		const char *want = !strcmp(v, "1") ? "HTTP/1.0" : !strcmp(v, "1.1") ? "HTTP/1.1" : v;
		cr_expect_str_eq(tu_cell(&got, i, 0), tu_cell(&rec, i, C_CODE), "%s: status", name);
		cr_expect_str_eq(tu_cell(&got, i, 1), want, "%s: request %zu's response version",
				 name, i + 1);
		cr_expect_str_eq(tu_cell(&got, i, 2), tu_cell(&sent, i, 0), "%s: request version", name);
		cr_expect_str_eq(tu_cell(&got, i, 3), tu_cell(&rec, i, C_PORT), "%s: connection", name);
		connects += atoll(tu_cell(&rec, i, C_CONNECTS));
		http10 += !strcmp(want, "HTTP/1.0") && !strcmp(tu_cell(&sent, i, 0), "HTTP/1.1");
	}
	cr_expect_eq(tu_db_int(&db, "SELECT COUNT(*) FROM connections"), connects, "%s", name);
	cr_expect_eq(tu_db_findings(&db, "http10-response"), http10, "%s: findings", name);
	char sql[256], buf[256];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE kind = 'http10-response'"
		 " AND detail LIKE '%%%s%%'", keep_alive_words);
	cr_expect_eq(tu_db_int(&db, sql), http10, "%s: %s", name,
		     tu_db_text(&db, "SELECT detail FROM findings WHERE kind = 'http10-response'",
				buf, sizeof buf));
	cr_expect_eq(tu_db_int(&db, "SELECT SUM(http10_response) FROM keepalive_compliance"),
		     http10, "%s: per server", name);
	/* the report's HTTP section says it */
	char cmd[1400], want[128];
	snprintf(cmd, sizeof cmd, "'%s' report '%s' 2>&1", KALENS_BINARY, tu_db_path(&db));
	int st;
	char *rep = tu_run(cmd, &st);
	snprintf(want, sizeof want, "  answered HTTP/1.0   %lld HTTP/1.1 requests, from 1 servers",
		 http10);
	cr_expect(st == 0 && rep && strstr(rep, want), "%s: %s", name, rep ? rep : "");
	free(rep);
	tu_table_free(&sent);
	tu_table_free(&got);
	tu_table_free(&rec);
	tu_db_close(&db);
}

Test(e2e_http10, http_server_answers_http10_and_closes)
{
	check("python-http10-server", "without keep-alive");
}

Test(e2e_http10, server_answers_http10_with_keep_alive_and_keeps_it)
{
	check("http10-keepalive-server", "with keep-alive");
}

/* Zeek's version-mismatch.pcap: tshark reads the second response of the
 * connection as HTTP/1.0 with Connection: close, to an HTTP/1.1 request
 * (tests/expected/http/raw/zeek/http/version-mismatch.pcap.tshark.tsv). */
Test(e2e_http10, public_capture_version_mismatch)
{
	struct tu_db db;
	tu_db_read(&db, "", tu_src_path("captures/public/zeek/http/version-mismatch.pcap"));
	struct tu_table got;
	tu_db_table(&db, "SELECT response_version FROM requests ORDER BY seq", &got);
	char *g = tu_table_text(&got);
	cr_expect_str_eq(g, "HTTP/1.1\nHTTP/1.0\n");
	free(g);
	cr_expect_eq(tu_db_findings(&db, "http10-response"), 1);
	tu_table_free(&got);
	tu_db_close(&db);
}
