/*
 * test_e2e_retry.c - a server that reads a request and closes without
 * answering it, 0.3 s later (not the stale-connection race), and curl
 * retrying it on a new connection (RFC 9112 §9.3.1), on a capture of curl
 * 7.88 against such a server (captures/generated/make-retry.sh).  Expected
 * values are curl's own record: its -w lines (each URL's status and the
 * local port of the connection that answered it) and its -v lines ("Connection
 * died, retrying a fresh connect" once per retry).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

Test(e2e_retry, request_dropped_by_server_and_retried)
{
	const char *rec_path = tu_src_path("captures/generated/retry/curl-retry.client.tsv");
	FILE *f = fopen(rec_path, "r");
	cr_assert_not_null(f);
	char line[512];
	int retries = 0;
	while (fgets(line, sizeof line, f))
		retries += strstr(line, "# curl -v: * Connection died, retrying") != NULL;
	fclose(f);
	cr_assert_eq(retries, 2, "curl's record");
	struct tu_table rec;
	tu_tsv_table(rec_path, 6, &rec);

	struct tu_db db;
	tu_db_read(&db, "", tu_src_path("captures/generated/retry/curl-retry.pcap"));
	/* Each URL answered, on the connection curl says answered it. */
	for (size_t i = 0; i < rec.nrows; i++) {
		char sql[512];
		const char *url = tu_cell(&rec, i, 1);
		const char *path = strchr(strstr(url, "//") + 2, '/');
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests r JOIN connections c ON"
			 " c.id = r.conn_id WHERE r.uri = '%s' AND r.status = %s AND c.client_port = %s",
			 path, tu_cell(&rec, i, 4), tu_cell(&rec, i, 2));
		cr_expect_eq(tu_db_int(&db, sql), 1, "%s", sql);
	}
	cr_expect_eq(tu_db_findings(&db, "request-dropped-by-server"), retries);
	cr_expect_eq(tu_db_findings(&db, "retried-request"), retries);
	cr_expect_eq(tu_db_findings(&db, "idle-close-race"), 0, "sent 0.3 s before the close");
	cr_expect_eq(tu_db_findings(&db, "keepalive-ignored-by-server"), 0, "it was not idle");
	cr_expect_eq(tu_db_int(&db, "SELECT COUNT(*) FROM connections WHERE close_initiator ="
				    " 'server' AND idle_before_close IS NOT NULL"), 0);
	/* Each retry names the request it repeats. */
	cr_expect_eq(tu_db_int(&db, "SELECT COUNT(*) FROM findings f JOIN requests r ON"
				    " r.conn_id = f.conn_id AND r.seq = f.request_seq"
				    " WHERE f.kind = 'retried-request' AND f.detail LIKE"
				    " r.method || ' ' || r.uri || ' sent again%'"), retries);
	cr_expect_eq(tu_db_int(&db, "SELECT SUM(request_dropped_by_server) FROM keepalive_compliance"),
		     retries);
	tu_table_free(&rec);
	tu_db_close(&db);
}
