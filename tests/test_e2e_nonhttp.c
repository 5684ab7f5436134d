/*
 * test_e2e_nonhttp.c - protocols that are not HTTP, on captures of real
 * software (captures/generated/make-nonhttp.sh: curl against vsftpd and
 * dovecot, swaks against exim, a python3 client against ngircd, and the
 * SMTP capture cut to begin after the greeting), against tshark's reading
 * of the same captures (tests/expected/nonhttp/, made by
 * tests/tools/nonhttp-references.py).
 *
 * tshark names each stream's protocol (decoded as the capture's protocol on
 * its server port) and finds no HTTP request or response in it, even with
 * the port forced to HTTP.  kalens must then store no request, call no
 * connection HTTP, and report no HTTP parse error (docs/stacking.md,
 * "Recognising a protocol").  Its name for the connection: the rule of
 * dissectors/starttls.c, which reads the greeting of the protocols whose
 * STARTTLS it follows: a stream whose start was captured, where the server
 * spoke first and the client sent commands, is named as tshark names it
 * (tshark's "pop" is kalens' "pop3"); a 220 greeting with no command after
 * it is "smtp/ftp" (it cannot tell); anything else (IRC, FTP data, a
 * capture that began after the greeting) is "unknown".
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { C_STREAM, C_CLIENT, C_SERVER, C_SYN, C_FIRST, C_CLIENT_FRAMES, C_PROTOCOL, C_HTTP_FRAMES,
       C_HTTP_MESSAGES, C_HTTP_REQUESTS, C_HTTP_RESPONSES, NCOLS };
#define CELL 128
#define MAXROWS 16

static int port_of(const char *ep)
{
	const char *c = strrchr(ep, ':');
	return c ? atoi(c + 1) : -1;
}

/* kalens' name for a stream tshark read as r[C_PROTOCOL] (see above). */
static const char *expected_protocol(char (*r)[CELL])
{
	const char *p = r[C_PROTOCOL];
	bool greeted = !strcmp(r[C_FIRST], "server");
	bool named = !strcmp(p, "smtp") || !strcmp(p, "imap") || !strcmp(p, "pop") || !strcmp(p, "ftp");
	if (named && greeted && !strcmp(r[C_SYN], "1") && atoi(r[C_CLIENT_FRAMES]) > 0)
		return !strcmp(p, "pop") ? "pop3" : p;
	if ((!strcmp(p, "smtp") || !strcmp(p, "ftp")) && greeted && atoi(r[C_CLIENT_FRAMES]) == 0)
		return "smtp/ftp";
	return "unknown";
}

/* Always 0: every difference is a failed expectation. */
static int check_capture(const char *refdir, const char *ref)
{
	char path[1024], name[256];
	snprintf(path, sizeof path, "%s/%s", refdir, ref);
	snprintf(name, sizeof name, "%.*s", (int)(strlen(ref) - 4), ref);
	static char cells[MAXROWS][NCOLS][CELL];
	size_t rows = tu_load_tsv(path, &cells[0][0][0], NCOLS, CELL, MAXROWS);
	cr_assert_gt(rows, 0, "%s: no stream", ref);

	char capture[1024];
	snprintf(capture, sizeof capture, "%s/captures/generated/nonhttp/%s.pcap", KALENS_SOURCE_DIR,
		 name);
	struct tu_db db;
	tu_db_read(&db, "", capture);
	char sql[512], got[256];
	for (size_t i = 0; i < rows; i++) {
		char (*r)[CELL] = cells[i];
		/* The reference: tshark finds no HTTP message in the stream. */
		cr_expect(!strcmp(r[C_HTTP_MESSAGES], "0") && !strcmp(r[C_HTTP_REQUESTS], "0") &&
			  !strcmp(r[C_HTTP_RESPONSES], "0"), "%s stream %s: tshark found HTTP", name,
			  r[C_STREAM]);
		snprintf(sql, sizeof sql, "SELECT id FROM connections WHERE client_port = %d AND "
			 "server_port = %d", port_of(r[C_CLIENT]), port_of(r[C_SERVER]));
		long long conn = tu_db_int(&db, sql);
		cr_expect_gt(conn, 0, "%s: no connection %s -> %s", name, r[C_CLIENT], r[C_SERVER]);
		if (conn <= 0)
			continue;
		snprintf(sql, sizeof sql, "SELECT protocol FROM connections WHERE id = %lld", conn);
		const char *proto = tu_db_text(&db, sql, got, sizeof got);
		const char *want = expected_protocol(r);
		cr_expect(proto && !strcmp(proto, want), "%s stream %s (tshark: %s): protocol %s, want %s",
			  name, r[C_STREAM], r[C_PROTOCOL], proto ? proto : "NULL", want);
		snprintf(sql, sizeof sql, "SELECT IFNULL(requests, 0) FROM connections WHERE id = %lld",
			 conn);
		cr_expect_eq(tu_db_int(&db, sql), 0, "%s stream %s: requests", name, r[C_STREAM]);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests WHERE conn_id = %lld", conn);
		cr_expect_eq(tu_db_int(&db, sql), 0, "%s stream %s: request rows", name, r[C_STREAM]);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE conn_id = %lld AND kind IN"
			 " ('parse-error', 'resync', 'response-without-request', 'request-without-response',"
			 " 'lenient-request-syntax', 'header-too-large')", conn);
		cr_expect_eq(tu_db_int(&db, sql), 0, "%s stream %s: HTTP findings", name, r[C_STREAM]);
	}
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM connections");
	cr_expect_eq(tu_db_int(&db, sql), (long long)rows, "%s: connections", name);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM connections WHERE protocol LIKE 'http%%'");
	cr_expect_eq(tu_db_int(&db, sql), 0, "%s: HTTP connections", name);
	tu_db_close(&db);
	return 0;
}

Test(nonhttp, every_capture_against_tshark)
{
	int n;
	tu_each_file("tests/expected/nonhttp", "", ".tsv", check_capture, &n);
	cr_expect_geq(n, 6, "%d references", n);
}
