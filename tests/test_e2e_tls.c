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
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NCOLS 8
static const char *const COLS[NCOLS] = { "client_port", "tls_version", "sni", "alpn", "cipher",
					 "records_to_server", "records_to_client",
					 "requests_estimated" };

static int compare(const char *refdir, const char *file, const char *tmp)
{
	char capture[2048], db[4096], ref[8192], cmd[16384];
	tu_capture_of_reference(file, ".tls.tsv", capture, sizeof capture);
	snprintf(db, sizeof db, "%s/%s.db", tmp, file);
	snprintf(ref, sizeof ref, "%s/%s", refdir, file);
	snprintf(cmd, sizeof cmd, "'%s' read -q -o '%s' '%s' 2>&1", KALENS_BINARY, db,
		 tu_src_path(capture));
	int st;
	char *out = tu_run(cmd, &st);
	cr_expect_eq(st, 0, "%s: %s", capture, out ? out : "");
	free(out);

	static char want[64][NCOLS][128];
	size_t n = tu_load_tsv(ref, &want[0][0][0], NCOLS, sizeof want[0][0], 64);
	sqlite3 *h;
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q;
	cr_assert_eq(sqlite3_prepare_v2(h,
		"SELECT client_port, tls_version, IFNULL(sni, ''), IFNULL(alpn, ''), cipher,"
		" tls_records_to_server, tls_records_to_client, requests_estimated FROM connections"
		" WHERE protocol = 'tls' AND cipher IS NOT NULL ORDER BY first_seen, client_port",
		-1, &q, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	int bad = 0;
	size_t i = 0;
	for (; sqlite3_step(q) == SQLITE_ROW; i++) {
		if (i >= n) {
			cr_expect_fail("%s: more TLS connections than tshark's %zu", capture, n);
			bad++;
			break;
		}
		for (int c = 0; c < NCOLS; c++) {
			const unsigned char *v = sqlite3_column_text(q, c);
			/* requests_estimated is checked where tshark could decrypt */
			if (c == NCOLS - 1 && !want[i][c][0])
				continue;
			if (strcmp(v ? (const char *)v : "", want[i][c])) {
				cr_expect_fail("%s: connection %zu (port %s): %s is '%s', tshark says '%s'",
					       capture, i, want[i][0], COLS[c], v ? (const char *)v : "",
					       want[i][c]);
				bad++;
			}
		}
	}
	if (i < n) {
		cr_expect_fail("%s: %zu TLS connections, tshark %zu", capture, i, n);
		bad++;
	}
	sqlite3_finalize(q);
	sqlite3_close(h);
	return bad ? 1 : 0;
}

Test(e2e_tls, handshakes_match_tshark)
{
	char refdir[4096];
	snprintf(refdir, sizeof refdir, "%s", tu_src_path("tests/expected/tls"));
	DIR *d = opendir(refdir);
	cr_assert_not_null(d, "%s", refdir);
	char *tmp = tu_tmpdir();
	int files = 0, bad = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= 8 || strcmp(e->d_name + n - 8, ".tls.tsv"))
			continue;
		files++;
		bad += compare(refdir, e->d_name, tmp);
	}
	closedir(d);
	tu_rmtree(tmp);
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
