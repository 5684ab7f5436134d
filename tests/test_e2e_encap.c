/*
 * test_e2e_encap.c - HTTP inside tunnels and on other link types, on
 * captures of real curl and nginx traffic (captures/generated/make-encap.sh:
 * real Linux VXLAN between two network namespaces, and a real loopback
 * capture wrapped by scapy in GENEVE, GRE, ERSPAN I/II/III, GTP-U, IP-in-IP,
 * GRE-over-IPv6 carrying VXLAN, 802.11 with radiotap/PPI/Prism/AVS, PPP,
 * Cisco HDLC, Frame Relay, PKTAP, IPNET and IPoIB), against tshark's reading
 * of the same captures (tests/expected/encap/, made by
 * tests/tools/encap-references.py).
 *
 * Where kalens and Wireshark disagree by design, the reference script says
 * so and follows the rule kalens documents (flow.h, encap.h): connections
 * are keyed by the tunnel too, so the same traffic mirrored in two VXLAN
 * VNIs is two connections (tshark: one stream seen twice), and a
 * connection whose directions were mirrored into two ERSPAN sessions is
 * one (as tshark's stream).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NCOLS 12

/* The reference's columns, from what kalens stored. */
#define CONN_ROWS \
	"SELECT ep(ip_version, client_ip, client_port), ep(ip_version, server_ip, server_port)," \
	" IFNULL(requests, 0)," \
	" IFNULL((SELECT group_concat(uri, '|') FROM (SELECT uri FROM requests r" \
	"   WHERE r.conn_id = c.id ORDER BY seq)), '')," \
	" IFNULL(encap_to_server, ''), IFNULL(encap_id_to_server, '')," \
	" IFNULL(encap_src_to_server, ''), IFNULL(encap_dst_to_server, '')," \
	" IFNULL(encap_to_client, ''), IFNULL(encap_id_to_client, '')," \
	" IFNULL(encap_src_to_client, ''), IFNULL(encap_dst_to_client, '')" \
	" FROM connections c ORDER BY 1, CAST(encap_id_to_server AS TEXT)"

static int check_capture(const char *refdir, const char *ref)
{
	if (strstr(ref, ".run.tsv"))
		return 0;
	char path[1024], name[256], capture[1024];
	snprintf(path, sizeof path, "%s/%s", refdir, ref);
	snprintf(name, sizeof name, "%.*s", (int)(strlen(ref) - 4), ref);
	snprintf(capture, sizeof capture, "%s/captures/generated/encap/%s.pcap", KALENS_SOURCE_DIR,
		 name);

	struct tu_table want, got;
	tu_tsv_table(path, NCOLS, &want);
	struct tu_db db;
	tu_db_read(&db, "", capture);
	tu_db_endpoint_function(&db);
	tu_db_table(&db, CONN_ROWS, &got);
	char *w = tu_table_text(&want), *g = tu_table_text(&got);
	cr_expect_str_eq(g, w, "%s: connections as tshark read them\nkalens:\n%s\ntshark:\n%s", name,
			 g, w);
	free(w);
	free(g);

	/* Frames read, and protected 802.11 data frames. */
	snprintf(path, sizeof path, "%s/%s.run.tsv", refdir, name);
	struct tu_table run;
	tu_tsv_table(path, 2, &run);
	cr_assert_eq(run.nrows, 1);
	cr_expect_eq(tu_db_int(&db, "SELECT packets FROM runs"), atoll(tu_cell(&run, 0, 0)),
		     "%s: frames", name);
	cr_expect_eq(tu_db_int(&db, "SELECT packets_encrypted FROM runs"),
		     atoll(tu_cell(&run, 0, 1)), "%s: encrypted frames", name);
	cr_expect_eq(tu_db_int(&db, "SELECT packets_malformed + packets_truncated +"
				    " packets_unsupported FROM runs"), 0, "%s: every frame read", name);
	tu_table_free(&run);
	tu_table_free(&want);
	tu_table_free(&got);
	tu_db_close(&db);
	return 0;
}

Test(e2e_encap, every_capture_as_tshark_reads_it, .timeout = 120)
{
	int files = 0;
	tu_each_file("tests/expected/encap", "", ".tsv", check_capture, &files);
	cr_expect_geq(files, 27 * 2, "references found: %d", files);
}
