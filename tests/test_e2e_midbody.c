/*
 * test_e2e_midbody.c - a capture that begins inside a response (#14 item 2):
 * cut with editcap from a real curl/nginx capture (captures/generated/
 * midbody/make.sh), against tshark's reading of the cut captures
 * (tests/expected/midbody/).  Every request after the cut is found with
 * the status of its response, as tshark pairs them, and no message is
 * taken for a parse error: the bytes of the body the capture began in are
 * not read as a message head, and a response head lost before the first
 * server byte seen (the client's ACK proves it was sent) is a gap after
 * which the parser resynchronises.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void check(const char *name, long long gap_findings)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/expected/midbody/%s.tsv", KALENS_SOURCE_DIR, name);
	struct tu_table want, got;
	tu_tsv_table(path, 4, &want);
	snprintf(path, sizeof path, "%s/captures/generated/midbody/%s.pcap", KALENS_SOURCE_DIR, name);
	struct tu_db db;
	tu_db_read(&db, "", path);
	tu_db_table(&db, "SELECT c.client_port, r.method, r.uri, IFNULL(r.status, '') FROM requests r"
		    " JOIN connections c ON c.id = r.conn_id ORDER BY c.first_seen, r.seq", &got);
	char *w = tu_table_text(&want), *g = tu_table_text(&got);
	cr_expect_str_eq(g, w, "%s\nkalens:\n%s\ntshark:\n%s", name, g, w);
	free(w);
	free(g);
	cr_expect_eq(tu_db_findings(&db, "parse-error"), 0, "%s", name);
	cr_expect_eq(tu_db_findings(&db, "reassembly-gap"), gap_findings, "%s", name);
	tu_table_free(&want);
	tu_table_free(&got);
	tu_db_close(&db);
}

/* The server's bytes before the client's next request are the rest of a
 * body: kalens does not read them (the connection is claimed by the
 * request); nothing is proven missing before the first server byte seen
 * after it. */
Test(e2e_midbody, capture_begins_inside_a_response_body)
{
	check("nginx-keepalive-curl-from-mid-body", 0);
}

/* The client's request and ACK of 102976 are seen, the server's first byte
 * seen is 150340: 47364 bytes (its head, the start of its body) were sent
 * and not captured: one gap, then the next response is found. */
Test(e2e_midbody, response_head_lost_before_the_first_server_byte)
{
	check("nginx-keepalive-curl-head-lost", 1);
}
