/*
 * test_e2e_frag.c - `kalens read` of IP-fragmented captures of real curl
 * and nginx traffic (captures/generated/frag/make.sh: a loopback capture
 * whose segments scapy fragmented, some out of order, one overlapping
 * copy), against tshark's reading with IP reassembly on
 * (tests/expected/frag/, made by tests/tools/frag-references.py, which
 * also checks that reading against the unfragmented capture and curl's
 * own record).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void check(const char *name)
{
	char capture[1024], ref[1024];
	snprintf(capture, sizeof capture, "%s/captures/generated/frag/%s.pcap", KALENS_SOURCE_DIR,
		 name);
	struct tu_db db;
	tu_db_read(&db, "", capture);
	tu_db_endpoint_function(&db);

	/* Every request on its connection, in order, with its status. */
	snprintf(ref, sizeof ref, "%s/tests/expected/frag/%s.requests.tsv", KALENS_SOURCE_DIR, name);
	struct tu_table want, got;
	tu_tsv_table(ref, 7, &want);
	for (size_t i = 0; i < want.nrows; i++)
		free(want.cell[i * want.ncols]), want.cell[i * want.ncols] = strdup("");
	tu_db_table(&db,
		    "SELECT '', ep(c.ip_version, c.client_ip, c.client_port),"
		    " ep(c.ip_version, c.server_ip, c.server_port), r.seq, r.method, r.uri,"
		    " IFNULL(r.status, '') FROM requests r JOIN connections c ON c.id = r.conn_id"
		    " ORDER BY c.first_seen, r.seq", &got);
	char *w = tu_table_text(&want), *g = tu_table_text(&got);
	cr_expect_str_eq(g, w, "%s: requests\nkalens:\n%s\ntshark:\n%s", name, g, w);
	free(w);
	free(g);

	/* Every fragment went into a datagram tshark reassembled too. */
	snprintf(ref, sizeof ref, "%s/tests/expected/frag/%s.datagrams.tsv", KALENS_SOURCE_DIR, name);
	struct tu_table dg;
	tu_tsv_table(ref, 10, &dg);
	long long pieces = 0;
	for (size_t i = 0; i < dg.nrows; i++)
		pieces += atoll(tu_cell(&dg, i, 4));
	cr_expect_gt(dg.nrows, 0);
	cr_expect_eq(tu_db_int(&db, "SELECT fragments_reassembled FROM runs"), pieces,
		     "%s: fragments reassembled", name);
	cr_expect_eq(tu_db_int(&db, "SELECT fragments_dropped FROM runs"), 0, "%s", name);
	cr_expect_eq(tu_db_int(&db, "SELECT packets_fragment FROM runs"), pieces, "%s", name);
	cr_expect_eq(tu_db_int(&db, "SELECT gap_bytes FROM connections"), 0,
		     "%s: nothing missing", name);
	tu_table_free(&dg);
	tu_table_free(&want);
	tu_table_free(&got);
	tu_db_close(&db);
}

Test(e2e_frag, ipv4_fragments_as_tshark_reassembles_them)
{
	check("http-frag-v4");
}

Test(e2e_frag, ipv6_fragments_as_tshark_reassembles_them)
{
	check("http-frag-v6");
}
