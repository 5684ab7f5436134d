/*
 * test_e2e_stack.c - protocols inside protocols (docs/stacking.md), on
 * captures of real software (captures/generated/make-stack.sh: curl through
 * tinyproxy and danted, ssh -D, openssl s_client against exim, dovecot and
 * vsftpd), against tshark's reading of the same captures with the same key
 * logs (tests/expected/stack/, made by tests/tools/stack-references.py;
 * tests/tools/check-stack-records.py checks it against each client's own
 * record).
 *
 * Where tshark and kalens name things differently, the rule is written
 * here: tshark calls a SOCKS4a request "socks4" (version 4 with a host
 * name: kalens says socks4a, as the SOCKS4A extension names it), and
 * "pop" for POP3.  Inside TLS after STARTTLS, tshark reads the mail
 * commands; kalens reads no further than TLS there (they are not HTTP).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { C_STREAM, C_CLIENT, C_SERVER, C_LAYER, C_TARGET, C_REPLY, C_TLS_VERSION, C_SNI, C_CIPHER,
       C_INNER_REQUESTS, C_OUTER, C_INNER, NCOLS };
#define CELL 512

static const char *tls_name(const char *hex)
{
	if (!strcmp(hex, "0x0304"))
		return "TLS 1.3";
	if (!strcmp(hex, "0x0303"))
		return "TLS 1.2";
	return hex;
}

/* The port of "a.b.c.d:port". */
static int port_of(const char *ep)
{
	const char *c = strrchr(ep, ':');
	return c ? atoi(c + 1) : -1;
}

static bool is_dotted_ip(const char *target)
{
	unsigned a, b, c, d;
	char rest;
	return sscanf(target, "%u.%u.%u.%u:%c", &a, &b, &c, &d, &rest) == 5;
}

/* "C:GET /a|S:200|C:GET /b|S:404" as kalens stores it: method uri status
 * of each request after the first `skip` on the connection. */
static void inner_exchange(struct tu_db *db, long long conn, int skip, char *out, size_t n)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT group_concat('C:' || method || ' ' || uri || '|S:' || IFNULL(status, '-'), '|')"
		 " FROM (SELECT * FROM requests WHERE conn_id = %lld AND seq > %d ORDER BY seq)",
		 conn, skip);
	if (!tu_db_text(db, sql, out, n))
		out[0] = '\0';
}

/* Always 0: every difference is a failed expectation. */
static int check_capture(const char *refdir, const char *ref)
{
	char path[1024], name[256];
	snprintf(path, sizeof path, "%s/%s", refdir, ref);
	snprintf(name, sizeof name, "%.*s", (int)(strlen(ref) - 4), ref);
	static char cells[4][NCOLS][CELL];
	size_t rows = tu_load_tsv(path, &cells[0][0][0], NCOLS, CELL, 4);
	cr_assert_eq(rows, 1, "%s: one connection", ref);
	char (*r)[CELL] = cells[0];

	char capture[1024], options[1200];
	snprintf(capture, sizeof capture, "%s/captures/generated/stack/%s.pcap", KALENS_SOURCE_DIR, name);
	tu_keylog_option(capture, options, sizeof options);
	struct tu_db db;
	tu_db_read(&db, options, capture);
	char sql[512], got[1024], want[1024];
	snprintf(sql, sizeof sql, "SELECT id FROM connections WHERE client_port = %d AND server_port = %d",
		 port_of(r[C_CLIENT]), port_of(r[C_SERVER]));
	long long conn = tu_db_int(&db, sql);
	cr_assert_gt(conn, 0, "%s: no connection %s -> %s", name, r[C_CLIENT], r[C_SERVER]);
#define COL(what) (snprintf(sql, sizeof sql, "SELECT " what " FROM connections WHERE id = %lld", conn), \
		   tu_db_text(&db, sql, got, sizeof got))

	const char *layer = r[C_LAYER];
	bool tunnel = !strcmp(layer, "http-connect") || !strncmp(layer, "socks", 5);
	bool granted = !strcmp(r[C_REPLY], "200") || !strcmp(r[C_REPLY], "0") ||
		       !strcmp(r[C_REPLY], "90") || !strcmp(r[C_REPLY], "220") ||
		       !strcmp(r[C_REPLY], "234") || !strcmp(r[C_REPLY], "OK") ||
		       !strcmp(r[C_REPLY], "+OK");
	/* The tunnel and where it leads, when it was granted. */
	if (tunnel) {
		const char *kind = !strcmp(layer, "http-connect") ? "connect" :
				   !strcmp(layer, "socks4") && !is_dotted_ip(r[C_TARGET]) ? "socks4a" : layer;
		if (granted) {
			cr_expect(COL("tunnel") && !strcmp(got, kind), "%s: tunnel %s, want %s", name,
				  COL("tunnel") ? got : "NULL", kind);
			cr_expect(COL("tunnel_target") && !strcmp(got, r[C_TARGET]),
				  "%s: target %s, want %s", name, COL("tunnel_target") ? got : "NULL",
				  r[C_TARGET]);
		} else {
			cr_expect_null(COL("tunnel"), "%s: a refused tunnel is no tunnel", name);
		}
	} else {
		const char *proto = !strcmp(layer, "pop") ? "pop3" : layer;
		cr_expect(COL("protocol") && !strcmp(got, proto), "%s: protocol %s, want %s", name,
			  COL("protocol") ? got : "NULL", proto);
		cr_expect_null(COL("requests"), "%s: mail and file commands are not HTTP requests", name);
	}
	/* TLS inside, as tshark read its handshake. */
	if (r[C_TLS_VERSION][0]) {
		cr_expect(COL("tls_version") && !strcmp(got, tls_name(r[C_TLS_VERSION])),
			  "%s: tls_version %s, want %s", name, COL("tls_version") ? got : "NULL",
			  r[C_TLS_VERSION]);
		cr_expect(COL("sni") && !strcmp(got, r[C_SNI]), "%s: sni", name);
		cr_expect(COL("cipher") && !strcmp(got, r[C_CIPHER]), "%s: cipher %s, want %s", name,
			  COL("cipher") ? got : "NULL", r[C_CIPHER]);
		cr_expect(COL("stack") && strstr(got, "tls"), "%s: stack %s", name,
			  COL("stack") ? got : "NULL");
	} else {
		cr_expect_null(COL("tls_version"), "%s: no TLS", name);
	}
	/* HTTP inside a tunnel: the same requests and statuses as tshark, after
	 * the CONNECT (kalens' request 1). */
	if (tunnel) {
		int skip = !strcmp(layer, "http-connect") ? 1 : 0;
		inner_exchange(&db, conn, skip, got, sizeof got);
		snprintf(want, sizeof want, "%s", r[C_INNER]);
		/* tshark's "C:GET /x" has no URI query; both sides list
		 * method, target and status in order. */
		cr_expect_str_eq(got, want, "%s: requests inside the tunnel", name);
		snprintf(sql, sizeof sql, "SELECT requests FROM connections WHERE id = %lld", conn);
		cr_expect_eq(tu_db_int(&db, sql), atoi(r[C_INNER_REQUESTS]) + skip,
			     "%s: requests on the connection", name);
	}
	/* A refusal is said. */
	if (!granted) {
		const char *kind = !strcmp(layer, "http-connect") ? NULL :
				   !strncmp(layer, "socks", 5) ? "socks-error" : "starttls-refused";
		if (kind) {
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE conn_id = %lld"
				 " AND kind = '%s' AND detail LIKE '%%%s%%'", conn, kind, r[C_REPLY]);
			cr_expect_eq(tu_db_int(&db, sql), 1, "%s: a %s finding naming %s", name, kind,
				     r[C_REPLY]);
		} else {
			snprintf(sql, sizeof sql, "SELECT status FROM requests WHERE conn_id = %lld"
				 " AND method = 'CONNECT'", conn);
			cr_expect_eq(tu_db_int(&db, sql), atoi(r[C_REPLY]), "%s: CONNECT status", name);
		}
	}
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings WHERE conn_id = %lld AND kind IN"
		 " ('parse-error', 'tunnel-not-read', 'tls-parse-error', 'tls-decrypt-error')", conn);
	cr_expect_eq(tu_db_int(&db, sql), 0, "%s: no parse or decryption error", name);
#undef COL
	tu_db_close(&db);
	return 0;
}

Test(stack, every_capture_against_tshark)
{
	int n;
	tu_each_file("tests/expected/stack", "", ".tsv", check_capture, &n);
	cr_expect_geq(n, 12, "%d references", n);
}
