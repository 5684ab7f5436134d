/*
 * test_e2e_attempts.c - connection attempts nothing answered are summed in
 * `attempts`, the rest are connections (captures/generated/make-attempts.sh:
 * curls to listeners whose accept queue is full, over IPv4 and IPv6, among
 * an answered keep-alive connection, an RST from a closed port and the
 * listener's own handshake).  Expected values: tshark's streams
 * (tests/expected/attempts, tests/tools/attempts-references.py) and curl's
 * own record (exit 28, "connection timed out", for each unanswered curl).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

Test(e2e_attempts, unanswered_syns_are_summed_per_client_and_server_port)
{
	struct tu_table ref, rec;
	tu_tsv_table(tu_src_path("tests/expected/attempts/unanswered.tsv"), 8, &ref);
	tu_tsv_table(tu_src_path("captures/generated/attempts/unanswered.client.tsv"), 5, &rec);
	struct tu_db d;
	tu_db_read(&d, "", tu_src_path("captures/generated/attempts/unanswered.pcap"));
	cr_assert_str_eq(tu_cell(&ref, 0, 0), "connections");
	char sql[512], row[256], want[256];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) = %s FROM connections", tu_cell(&ref, 0, 4));
	cr_expect_eq(tu_db_int(&d, sql), 1, "connections: tshark has %s streams that were answered",
		     tu_cell(&ref, 0, 4));
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM attempts"), (long long)ref.nrows - 1);
	long long timed_out = 0, attempts = 0;
	for (size_t i = 0; i < rec.nrows; i++)
		timed_out += strcmp(tu_cell(&rec, i, 0), "28") == 0;
	for (size_t i = 1; i < ref.nrows; i++) {
		tu_db_row(&d, "SELECT client_ip, server_ip, server_port, attempts, syn_packets,"
			  " printf('%.6f', first_seen), printf('%.6f', last_seen) FROM attempts"
			  " ORDER BY first_seen", i - 1, row, sizeof row);
		snprintf(want, sizeof want, "%s|%s|%s|%s|%s|%s|%s", tu_cell(&ref, i, 1),
			 tu_cell(&ref, i, 2), tu_cell(&ref, i, 3), tu_cell(&ref, i, 4),
			 tu_cell(&ref, i, 5), tu_cell(&ref, i, 6), tu_cell(&ref, i, 7));
		cr_expect_str_eq(row, want, "attempts row %zu", i);
		attempts += atoll(tu_cell(&ref, i, 4));
	}
	/* Each curl that timed out made one attempt, and nothing else did. */
	cr_expect_eq(timed_out, 3);
	cr_expect_eq(attempts, timed_out);
	cr_expect_eq(tu_db_int(&d, "SELECT SUM(attempts) FROM attempts"), timed_out);
	/* The port nothing listens on answered with an RST: a connection. */
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections WHERE close_kind = 'rst'"
			      " AND packets_to_client = 1"), 1);
	tu_table_free(&ref);
	tu_table_free(&rec);
	tu_db_close(&d);
}
