/*
 * test_e2e_reverse.c - HTTP whose requests come from the TCP server: the
 * agent connection of a reverse tunnel (captures/generated/reverse/make.sh:
 * curl -> relay <- agent -> nginx; the capture holds the agent's
 * connection, where the relay is the TCP server and sends the requests).
 * Expected values: tshark's reading by content (tests/expected/reverse,
 * tests/tools/reverse-references.py: who sent each request, method, target,
 * status) and curl's own record (its URLs, statuses and one connection).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

Test(e2e_reverse, requests_from_the_tcp_server)
{
	struct tu_table ref, rec;
	tu_tsv_table(tu_src_path("tests/expected/reverse/"
				 "captures__generated__reverse__reverse-tunnel-curl.pcap.tsv"), 5, &ref);
	tu_tsv_table(tu_src_path("captures/generated/reverse/reverse-tunnel-curl.client.tsv"), 6,
		     &rec);
	cr_assert_eq(ref.nrows, 3);
	cr_assert_eq(rec.nrows, ref.nrows, "curl made as many requests as tshark sees");
	struct tu_db d;
	tu_db_read(&d, "", tu_src_path("captures/generated/reverse/reverse-tunnel-curl.pcap"));
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections"), 1);
	char buf[64];
	/* The TCP roles stay TCP's (the SYN's sender is the client); the
	 * requests' sender is the TCP server, as tshark reads it. */
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT client_port = %s FROM connections", tu_cell(&ref, 0, 0));
	cr_expect_eq(tu_db_int(&d, sql), 1);
	cr_expect_str_eq(tu_cell(&ref, 0, 1), "server");
	cr_expect_str_eq(tu_db_text(&d, "SELECT http_client FROM connections", buf, sizeof buf),
			 "server");
	cr_expect_str_eq(tu_db_text(&d, "SELECT protocol FROM connections", buf, sizeof buf),
			 "http/1.1");
	for (size_t i = 0; i < ref.nrows; i++) {
		char row[256], want[256];
		tu_db_row(&d, "SELECT method, uri, status FROM requests ORDER BY seq", i, row,
			  sizeof row);
		snprintf(want, sizeof want, "%s|%s|%s", tu_cell(&ref, i, 2), tu_cell(&ref, i, 3),
			 tu_cell(&ref, i, 4));
		cr_expect_str_eq(row, want, "request %zu", i + 1);
		/* curl's record: the same status, all on its one connection */
		cr_expect_str_eq(tu_cell(&rec, i, 3), tu_cell(&ref, i, 4));
		cr_expect_str_eq(tu_cell(&rec, i, 2), i == 0 ? "1" : "0");
	}
	cr_expect_eq(tu_db_int(&d, "SELECT responses FROM connections"), 3);
	cr_expect_eq(tu_db_findings(&d, "parse-error"), 0);
	/* The relay (TCP server, HTTP client) closed after curl was done: in
	 * HTTP's roles the client ended a connection the server would have
	 * kept; the TCP columns keep TCP's view. */
	cr_expect_str_eq(tu_db_text(&d, "SELECT close_initiator FROM connections", buf, sizeof buf),
			 "server");
	cr_expect_eq(tu_db_findings(&d, "client-closed-reusable"), 1);
	cr_expect_eq(tu_db_findings(&d, "keepalive-ignored-by-server"), 0);
	tu_table_free(&ref);
	tu_table_free(&rec);
	tu_db_close(&d);
}
