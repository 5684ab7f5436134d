/*
 * test_e2e_tls.c - the TLS handshake facts kalens stores without keys
 * (dissectors/tls.c), against tshark's reading of the same captures.
 *
 * Each tests/expected/tls/NAME.tls.tsv was written by
 * tests/tools/tls-references.py from tshark 4.0 (no key log): per TCP
 * connection with a ServerHello, the client port, the version the server
 * chose, the server name, the ALPN protocol chosen, the cipher suite
 * chosen, the application-data records each way, and the HTTP requests
 * tshark finds once it decrypts the connection with the capture's key log:
 * kalens, without keys, estimates them (requests_estimated) from how the
 * client's and the server's records alternate.  Compared column by column
 * with the `connections` rows kalens writes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NCOLS 8
static const char *const COLS[NCOLS] = { "client_port", "tls_version", "sni", "alpn", "cipher",
					 "records_to_server", "records_to_client",
					 "requests_estimated" };

static int compare(const char *refdir, const char *file)
{
	char capture[2048], ref[8192];
	tu_capture_of_reference(file, ".tls.tsv", capture, sizeof capture);
	snprintf(ref, sizeof ref, "%s/%s", refdir, file);
	struct tu_db d;
	const char *abs = tu_src_path(capture);
	if (!tu_db_read_files(&d, "", &abs, 1, false))
		return 1;

	static char want[64][NCOLS][128];
	size_t n = tu_load_tsv(ref, &want[0][0][0], NCOLS, sizeof want[0][0], 64);
	struct tu_table got;
	tu_db_table(&d,
		"SELECT client_port, tls_version, IFNULL(sni, ''), IFNULL(alpn, ''), cipher,"
		" tls_records_to_server, tls_records_to_client, requests_estimated FROM connections"
		" WHERE protocol = 'tls' AND cipher IS NOT NULL ORDER BY first_seen, client_port", &got);
	int bad = 0;
	if (got.nrows > n) {
		cr_expect_fail("%s: more TLS connections than tshark's %zu", capture, n);
		bad++;
	}
	for (size_t i = 0; i < got.nrows && i < n; i++) {
		for (int c = 0; c < NCOLS; c++) {
			const char *v = tu_cell(&got, i, (size_t)c);
			/* requests_estimated is checked where tshark could decrypt */
			if (c == NCOLS - 1 && !want[i][c][0])
				continue;
			if (strcmp(v, want[i][c])) {
				cr_expect_fail("%s: connection %zu (port %s): %s is '%s', tshark says '%s'",
					       capture, i, want[i][0], COLS[c], v, want[i][c]);
				bad++;
			}
		}
	}
	if (got.nrows < n) {
		cr_expect_fail("%s: %zu TLS connections, tshark %zu", capture, got.nrows, n);
		bad++;
	}
	tu_table_free(&got);
	tu_db_close(&d);
	return bad ? 1 : 0;
}

Test(e2e_tls, handshakes_match_tshark)
{
	int files;
	int bad = tu_each_file("tests/expected/tls", "", ".tls.tsv", compare, &files);
	cr_expect_geq(files, 3, "only %d TLS reference files", files);
	cr_expect_eq(bad, 0, "%d of %d captures differ from tshark", bad, files);
}

/* kalens report's TLS section over the three captures: versions as tshark
 * read them (3 TLS 1.2, 1 TLS 1.3), and per server the estimated exchanges,
 * which equal the requests tshark decrypts (2 on 127.0.0.1:443, 16 and 1 on
 * the two heise.de addresses). */
Test(e2e_tls, report_tls_section)
{
	char *tmp = tu_tmpdir();
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "'%s' read -q -o '%s/r.db' '%s/captures/public/scapy/tls_nss_example.pcap'"
		 " '%s/captures/public/zeek/tls/tls-1.2-stream-keylog.pcap'"
		 " '%s/captures/public/zeek/tls/tls12-decryption.pcap' && '%s' report '%s/r.db'",
		 KALENS_BINARY, tmp, KALENS_SOURCE_DIR, KALENS_SOURCE_DIR, KALENS_SOURCE_DIR,
		 KALENS_BINARY, tmp);
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out ? out : "");
	cr_expect(strstr(out, "TLS: 4 connections"), "%s", out);
	cr_expect(strstr(out, "versions            TLS 1.2 3, TLS 1.3 1"), "%s", out);
	cr_expect(strstr(out, "127.0.0.1:443                                 2        0 -                2"
			      "                0, 0\n"), "%s", out);
	cr_expect(strstr(out, "193.99.144.85:443                             1        0 http/1.1         16"
			      "               0, 0\n"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "'%s' report --json '%s/r.db'", KALENS_BINARY, tmp);
	out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out ? out : "");
	cr_expect(strstr(out, "{\"server_ip\":\"127.0.0.1\",\"server_port\":443,\"connections\":2,"
			      "\"tls13\":1,\"tls12\":1,\"resumed\":0,\"full_handshakes\":2,\"alpn\":null,"
			      "\"exchanges_estimated\":2,\"decrypted\":0,\"decrypted_requests\":0}"),
		  "%s", out);
	free(out);
	tu_rmtree(tmp);
}

/* The same three captures read with their key logs (one file, the three
 * concatenated): every connection decrypted, and per server the requests
 * tshark finds with the same key logs (2, 16, 1). */
Test(e2e_tls, report_decrypted)
{
	char *tmp = tu_tmpdir();
	char cmd[16384];
	const char *src = KALENS_SOURCE_DIR "/captures/public";
	snprintf(cmd, sizeof cmd, "cat '%s/scapy/tls_nss_example.keys.txt'"
		 " '%s/zeek/tls/tls-1.2-stream-keylog.keylog' '%s/zeek/tls/tls12-decryption.keylog'"
		 " > '%s/all.keylog' && '%s' read -q --keylog '%s/all.keylog' -o '%s/r.db'"
		 " '%s/scapy/tls_nss_example.pcap' '%s/zeek/tls/tls-1.2-stream-keylog.pcap'"
		 " '%s/zeek/tls/tls12-decryption.pcap' && '%s' report '%s/r.db' &&"
		 " '%s' report --json '%s/r.db'", src, src, src, tmp, KALENS_BINARY, tmp, tmp, src,
		 src, src, KALENS_BINARY, tmp, KALENS_BINARY, tmp);
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out ? out : "");
	cr_expect(strstr(out, "TLS: 4 connections, 4 decrypted with the key log"), "%s", out);
	cr_expect(strstr(out, "127.0.0.1:443                                 2        0 -                2"
			      "                2, 2\n"), "%s", out);
	cr_expect(strstr(out, "193.99.144.85:443                             1        0 http/1.1         16"
			      "               1, 16\n"), "%s", out);
	cr_expect(strstr(out, "193.99.144.80:443                             1        0 http/1.1         1"
			      "                1, 1\n"), "%s", out);
	cr_expect(strstr(out, "\"decrypted\":1,\"decrypted_requests\":16}"), "%s", out);
	free(out);
	tu_rmtree(tmp);
}
