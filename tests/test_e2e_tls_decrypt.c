/*
 * test_e2e_tls_decrypt.c - decryption with a key log (kalens read --keylog)
 * on captures of real software made by captures/generated/make-tls.sh:
 * nginx over TLS 1.0-1.3 and curl or openssl s_client, each with the key
 * log its client wrote.  Expected values are the clients' own records
 * (<name>.client.tsv): curl's -w fields per URL (connection by local port,
 * URL, status, body bytes) and the protocol and suite curl -v reported;
 * s_client's "New,"/"Reused," line, protocol and suite, the requests the
 * script sent it and the status lines it printed.
 *
 * The public captures with key logs are compared with tshark's and Zeek's
 * decrypted reading in test_e2e_http.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAXF 12

/* "TLSv1.2" (OpenSSL's name) as kalens stores it: "TLS 1.2"; TLSv1 is 1.0. */
static void kalens_version(const char *openssl, char *out, size_t n)
{
	const char *v = openssl + strlen("TLSv");
	snprintf(out, n, "TLS %s", strcmp(v, "1") == 0 ? "1.0" : v);
}

/* kalens read --keylog KEYLOG CAPTURE into a fresh database. */
static void read_with(struct tu_db *d, const char *capture, const char *keylog)
{
	char opt[2100];
	snprintf(opt, sizeof opt, "--keylog '%s'", keylog);
	tu_db_read(d, opt, capture);
}

#define CONNS "SELECT tls_version, cipher, tls_resumed, decrypted, client_port FROM connections" \
	" ORDER BY first_seen"
#define REQS "SELECT c.client_port, r.uri, r.status, r.response_body_bytes FROM requests r" \
	" JOIN connections c ON c.id = r.conn_id ORDER BY c.first_seen, r.seq"

/* One generated capture against its client's record; how many differences. */
static int check_capture(const char *name)
{
	char base[1024], capture[1100], keylog[1100], record[1100];
	snprintf(base, sizeof base, "%s", tu_src_path("captures/generated"));
	snprintf(capture, sizeof capture, "%s/%s.pcap", base, name);
	snprintf(keylog, sizeof keylog, "%s/%s.keylog", base, name);
	snprintf(record, sizeof record, "%s/%s.client.tsv", base, name);
	/* the record's rows (its header rows, "tool ...", match no tool below) */
	struct tu_table rec;
	tu_tsv_table(record, MAXF, &rec);
	struct tu_db d;
	read_with(&d, capture, keylog);
	int bad = 0, req = 0, conn = 0;
	char got[1024], want[1024], ver[32];
	for (size_t i = 0; i < rec.nrows; i++) {
		char *const *f = rec.cell + i * MAXF;
		if (!strcmp(f[0], "curl")) {
			/* url local_ip local_port ... http_code size_download */
			const char *path = strstr(f[1] + strlen("https://"), "/");
			snprintf(want, sizeof want, "%s|%s|%s|%s", f[3], path, f[7], f[8]);
			tu_db_row(&d, REQS, req++, got, sizeof got);
		} else if (!strcmp(f[0], "tls")) {
			kalens_version(f[1], ver, sizeof ver);
			tu_db_row(&d, CONNS, conn++, got, sizeof got);
			*strrchr(got, '|') = '\0';                /* client_port: from curl rows */
			snprintf(want, sizeof want, "%s|%s|0|1", ver, f[3]);
		} else if (!strcmp(f[0], "s_client")) {
			/* request session protocol suite iana status_lines */
			kalens_version(f[3], ver, sizeof ver);
			tu_db_row(&d, CONNS, conn, got, sizeof got);
			*strrchr(got, '|') = '\0';
			snprintf(want, sizeof want, "%s|%s|%d|1", ver, f[5],
				 strcmp(f[2], "Reused") == 0);
			if (strcmp(got, want)) {
				cr_expect_fail("%s: connection %d is %s, the client says %s", name, conn,
					       got, want);
				bad++;
			}
			/* Its requests: the paths sent (K is a KeyUpdate, not a
			 * request), each answered 200 as s_client printed. */
			char paths[256];
			snprintf(paths, sizeof paths, "%s", f[1]);
			int sent = 0;
			for (char *tok = strtok(paths, " "); tok; tok = strtok(NULL, " ")) {
				if (!strcmp(tok, "K"))
					continue;
				char *bang = strchr(tok, '!');
				if (bang)
					*bang = '\0';
				char sql[512];
				snprintf(sql, sizeof sql, "SELECT r.uri, r.status FROM requests r JOIN"
					 " connections c ON c.id = r.conn_id ORDER BY c.first_seen, r.seq"
					 " LIMIT 1 OFFSET %d", req++);
				tu_db_row(&d, sql, 0, got, sizeof got);
				snprintf(want, sizeof want, "%s|200", tok);
				sent++;
				if (strcmp(got, want)) {
					cr_expect_fail("%s: request %d is %s, the client sent %s", name,
						       req, got, want);
					bad++;
				}
			}
			cr_expect_eq(sent, atoi(f[6]), "%s: %d sent, %s status lines", name, sent,
				     f[6]);
			conn++;
			continue;
		} else {
			continue;
		}
		if (strcmp(got, want)) {
			cr_expect_fail("%s: got %s, the client says %s", name, got, want);
			bad++;
		}
	}
	snprintf(want, sizeof want, "%d", req);
	if (tu_db_int(&d, "SELECT COUNT(*) FROM requests") != req) {
		cr_expect_fail("%s: %lld requests, the client made %d", name,
			       tu_db_int(&d, "SELECT COUNT(*) FROM requests"), req);
		bad++;
	}
	if (tu_db_int(&d, "SELECT COUNT(*) FROM connections") != conn) {
		cr_expect_fail("%s: %lld connections, the client made %d", name,
			       tu_db_int(&d, "SELECT COUNT(*) FROM connections"), conn);
		bad++;
	}
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind LIKE 'tls-%'"), 0, "%s",
		     name);
	tu_table_free(&rec);
	tu_db_close(&d);
	return bad;
}

/* make-tls.sh's captures (tls*), by their key logs; h2-* are test_e2e_http2's. */
static int check_keylog(const char *dir, const char *file)
{
	(void)dir;
	char name[256];
	snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - strlen(".keylog")), file);
	return check_capture(name) ? 1 : 0;
}

Test(e2e_tls_decrypt, generated_captures_match_client_records, .timeout = 120)
{
	int files;
	int bad = tu_each_file("captures/generated", "tls", ".keylog", check_keylog, &files);
	/* TLS 1.2 GCM x2, ChaCha20, CBC SHA1 EtM, SHA256 and SHA384 MtE; TLS 1.0 CBC MtE, EtM; TLS 1.3 x3;
	 * resumption 1.2 and 1.3; KeyUpdate */
	cr_expect_geq(files, 14, "only %d generated TLS captures", files);
	cr_expect_eq(bad, 0, "%d of %d captures differ from their client's record", bad, files);
}

/* Write `src` to `dst` with the last hex digit of every secret changed. */
static void spoil_keylog(const char *src, const char *dst)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	cr_assert(in && out);
	char line[1024];
	while (fgets(line, sizeof line, in)) {
		size_t n = strcspn(line, "\r\n");
		if (line[0] != '#' && n > 0)
			line[n - 1] = line[n - 1] == '0' ? '1' : '0';
		fputs(line, out);
	}
	fclose(in);
	fclose(out);
}

/* Wrong keys (every secret off by one bit): no HTTP is made up from
 * garbage; each direction's first record that does not authenticate is a
 * tls-decrypt-error finding, and the connection keeps its TLS facts. */
Test(e2e_tls_decrypt, wrong_keys_are_findings_not_garbage)
{
	static const char *const names[] = { "tls12-aes128gcm-curl", "tls12-aes128cbc-sha-etm-curl",
					     "tls13-chacha20-curl" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char src[1024], capture[1024], bad[1024];
		snprintf(src, sizeof src, "%s/%s.keylog", tu_src_path("captures/generated"),
			 names[i]);
		snprintf(capture, sizeof capture, "%s/%s.pcap", tu_src_path("captures/generated"),
			 names[i]);
		char *tmp = tu_tmpdir();
		snprintf(bad, sizeof bad, "%s/spoilt.keylog", tmp);
		spoil_keylog(src, bad);
		struct tu_db d;
		read_with(&d, capture, bad);
		cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), 0, "%s", names[i]);
		cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'tls-decrypt-error'"),
			     2, "%s: one per direction", names[i]);
		cr_expect_eq(tu_db_int(&d, "SELECT decrypted FROM connections"), 0, "%s", names[i]);
		cr_expect_eq(tu_db_int(&d, "SELECT tls_records_to_server > 0 FROM connections"), 1, "%s",
			     names[i]);
		tu_db_close(&d);
		tu_rmtree(tmp);
	}
}

/* A key log without this connection's client random: TLS facts only,
 * decrypted = 0, no finding (most connections of a shared capture may
 * belong to other clients). */
Test(e2e_tls_decrypt, connections_without_keys_keep_tls_facts)
{
	char capture[1024], other[1024];
	snprintf(capture, sizeof capture, "%s/tls13-aes128gcm-curl.pcap",
		 tu_src_path("captures/generated"));
	snprintf(other, sizeof other, "%s/tls12-aes128gcm-curl.keylog",
		 tu_src_path("captures/generated"));
	struct tu_db d;
	read_with(&d, capture, other);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests"), 0);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind LIKE 'tls-%'"), 0);
	cr_expect_eq(tu_db_int(&d, "SELECT decrypted FROM connections"), 0);
	/* curl's record: 3 URLs on the connection, estimated from the records */
	cr_expect_eq(tu_db_int(&d, "SELECT requests_estimated FROM connections"), 3);
	tu_db_close(&d);
}

/* One damaged record (tests/tools/damage-tls-record.py flips a byte) costs
 * that record only.  TLS 1.3, tls13-aes128gcm-curl: the server's first
 * protected record carries its encrypted handshake (its Finished among
 * it), so the switch to the application keys is found by trying them on
 * the next record; the client's second is its first request.  curl's
 * record: 3 requests, each answered 200. */
static void damaged_in(const char *name, const char *side, int nth, long long want_requests)
{
	char *tmp = tu_tmpdir();
	char cmd[8192], out[1024], keylog[1024], tool[1024];
	snprintf(out, sizeof out, "%s/d.pcap", tmp);
	snprintf(tool, sizeof tool, "%s", tu_src_path("tests/tools/damage-tls-record.py"));
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s/%s.pcap' '%s' %s %d 2>&1",
		 tool, tu_src_path("captures/generated"), name, out, side, nth);
	int st;
	char *o = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", o ? o : "");
	free(o);
	snprintf(keylog, sizeof keylog, "%s/%s.keylog", tu_src_path("captures/generated"), name);
	struct tu_db d;
	read_with(&d, out, keylog);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'tls-decrypt-error'"), 1,
		     "%s: %s record %d", name, side, nth);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests WHERE status = 200"), want_requests,
		     "%s: %s record %d", name, side, nth);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind = 'parse-error'"), 0,
		     "%s: %s record %d: no garbage reaches HTTP", name, side, nth);
	cr_expect_eq(tu_db_int(&d, "SELECT decrypted FROM connections"), 1);
	tu_db_close(&d);
	tu_rmtree(tmp);
}

static void damaged(const char *side, int nth, long long want_requests)
{
	damaged_in("tls13-aes128gcm-curl", side, nth, want_requests);
}

Test(e2e_tls_decrypt, a_damaged_record_costs_that_record_only)
{
	damaged("server", 1, 3);   /* encrypted handshake: nothing of HTTP lost */
	damaged("client", 1, 3);   /* the client's Finished: likewise */
	damaged("server", 2, 3);   /* a NewSessionTicket: likewise */
	damaged("client", 2, 2);   /* the first request: lost, the other two kept */
	/* tls13-keyupdate-s_client: the client's 3rd and 5th records are its
	 * KeyUpdates (s_client's K); lost, the next generation of keys is
	 * found by trying it on the record that fails */
	damaged_in("tls13-keyupdate-s_client", "client", 3, 3);
	damaged_in("tls13-keyupdate-s_client", "client", 5, 3);
}

/* The tls_servers view on the resumption captures: s_client's record says
 * New then Reused, two requests answered on each connection. */
Test(e2e_tls_decrypt, tls_servers_view_counts_session_reuse)
{
	static const char *const names[] = { "tls12-resumed-s_client", "tls13-resumed-s_client" };
	for (size_t i = 0; i < 2; i++) {
		char capture[1024], keylog[1024];
		snprintf(capture, sizeof capture, "%s/%s.pcap", tu_src_path("captures/generated"),
			 names[i]);
		snprintf(keylog, sizeof keylog, "%s/%s.keylog", tu_src_path("captures/generated"),
			 names[i]);
		struct tu_db d;
		read_with(&d, capture, keylog);
		char got[256];
		tu_db_row(&d, "SELECT connections, resumed, full_handshakes, decrypted, requests_decrypted,"
		       " mean_resumed_handshake_s > 0, sni FROM tls_servers", 0, got, sizeof got);
		cr_expect_str_eq(got, "2|1|1|2|4|1|localhost", "%s", names[i]);
		tu_db_close(&d);
	}
}

/* A TLS 1.3 key log with only the application secrets (the
 * *_HANDSHAKE_TRAFFIC_SECRET lines removed): the application keys are
 * tried until a record opens with them, without spending their sequence
 * numbers on the encrypted handshake; all of curl's requests are read and
 * the handshake kalens could not open is no finding. */
Test(e2e_tls_decrypt, tls13_without_handshake_secrets)
{
	static const char *const names[] = { "tls13-aes128gcm-curl", "tls13-chacha20-curl",
					     "tls13-keyupdate-s_client" };
	static const long long want[] = { 3, 3, 3 };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *tmp = tu_tmpdir();
		char cmd[8192], capture[1024], keylog[1024];
		snprintf(keylog, sizeof keylog, "%s/app.keylog", tmp);
		snprintf(capture, sizeof capture, "%s/%s.pcap", tu_src_path("captures/generated"),
			 names[i]);
		snprintf(cmd, sizeof cmd, "grep -v HANDSHAKE '%s/%s.keylog' > '%s'",
			 tu_src_path("captures/generated"), names[i], keylog);
		int st;
		free(tu_run(cmd, &st));
		cr_assert_eq(st, 0);
		struct tu_db d;
		read_with(&d, capture, keylog);
		cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests WHERE status = 200"), want[i], "%s",
			     names[i]);
		cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings WHERE kind LIKE 'tls-%'"), 0, "%s",
			     names[i]);
		tu_db_close(&d);
		tu_rmtree(tmp);
	}
}

/* TLS 1.0 chains each record's IV to the previous record's last block;
 * with encrypt-then-MAC the record after a damaged one authenticates but
 * would decrypt to garbage.  tls10-aes128cbc-sha-etm-curl, the client's
 * first application-data record (OpenSSL's empty fragment before the first
 * request) damaged: that request is lost with the record after it, the
 * other two are read as curl recorded them, and nothing else reaches the
 * HTTP parser (before this was handled, garbage made it give up on all
 * three). */
Test(e2e_tls_decrypt, tls10_chained_iv_after_a_damaged_record)
{
	damaged_in("tls10-aes128cbc-sha-etm-curl", "client", 1, 2);
}

/* TLS 1.3 drafts derived their keys with other labels than RFC 8446: a key
 * log that has a draft connection's secrets (any values: nothing is
 * opened) gives one tls-decrypt-error naming the version and suite, and
 * the connection keeps its TLS facts.  captures/generated/tls-legacy: the
 * draft 18 connection, client random as tshark reads it
 * (tls.handshake.random of stream 2's ClientHello). */
Test(e2e_tls_decrypt, tls13_drafts_are_not_decrypted)
{
	static const char *const labels[] = { "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
		"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0" };
	char *tmp = tu_tmpdir();
	char keylog[1024];
	snprintf(keylog, sizeof keylog, "%s/draft.keylog", tmp);
	FILE *f = fopen(keylog, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		fprintf(f, "%s c24d2a1d465a19ccb692f8e04bdd1b56961610a18be299379a61a18457bb6f43 "
			"%064x\n", labels[i], (unsigned)i + 1);
	fclose(f);
	struct tu_db d;
	read_with(&d, tu_src_path("captures/generated/tls-legacy/tls-legacy-hellos.pcap"), keylog);
	char buf[256];
	cr_expect_str_eq(tu_db_text(&d, "SELECT group_concat(detail, '|') FROM findings WHERE kind ="
				    " 'tls-decrypt-error'", buf, sizeof buf),
			 "TLS 1.3 (draft 18) with cipher suite 0x1301 is not something kalens decrypts");
	cr_expect_str_eq(tu_db_text(&d, "SELECT tls_version || ' ' || decrypted || ' ' ||"
				    " tls_records_to_server || ' ' || tls_records_to_client FROM"
				    " connections WHERE sni = 'draft18.test'", buf, sizeof buf),
			 "TLS 1.3 (draft 18) 0 4 3");
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM findings"), 1);
	tu_db_close(&d);
	tu_rmtree(tmp);
}
