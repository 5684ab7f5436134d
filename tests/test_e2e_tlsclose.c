/*
 * test_e2e_tlsclose.c - who began the close of a TLS connection: the first
 * TLS alert that ended a side (close_notify or fatal) when it came before
 * the first FIN or RST, else that FIN or RST (docs/keepalive.md, "Who
 * closed").
 *
 * The references (tests/expected/tlsclose, tests/tools/tlsclose-references.py)
 * are tshark's reading of each TLS connection: the first FIN/RST, the first
 * closing alert with the key log (its description, frame and time), and how
 * tshark shows that frame without keys.  Every capture is read with its key
 * log and again without: without keys, an alert tshark reads in the clear
 * has its name, an "Encrypted Alert" (TLS 1.2 and older) is `encrypted`,
 * and one tshark sees only as application data (TLS 1.3 protects alerts)
 * is kalens's length rule — a protected record as long as one alert — which
 * must find the very record tshark decrypts as the alert, named `encrypted`.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { R_PORT, R_FIN_BY, R_FIN_FRAME, R_FIN_TS, R_ALERT_BY, R_ALERT, R_ALERT_FRAME, R_ALERT_TS,
       R_ALERT_NOKEYS, R_COUNT };

static bool same_time(const char *a, const char *b)
{
	if (!*a || !*b)
		return !*a && !*b;
	return fabs(strtod(a, NULL) - strtod(b, NULL)) < 1.5e-6;
}

static int check_reading(const char *file, const char *capture, const struct tu_table *ref,
			 bool keys)
{
	char opt[4400] = "";
	if (keys)
		tu_keylog_option(capture, opt, sizeof opt);
	struct tu_db d;
	const char *abs = capture;
	if (!tu_db_read_files(&d, opt, &abs, 1, false))
		return 1;
	int bad = 0;
	for (size_t i = 0; i < ref->nrows; i++) {
		const char *port = tu_cell(ref, i, R_PORT);
		const char *fin_by = tu_cell(ref, i, R_FIN_BY), *alert_by = tu_cell(ref, i, R_ALERT_BY);
		const char *alert = tu_cell(ref, i, R_ALERT);
		const char *nokeys = tu_cell(ref, i, R_ALERT_NOKEYS);
		/* The alert kalens can name: with keys tshark's decrypted reading;
		 * without, what tshark shows in the clear, else the length rule. */
		const char *want_alert = keys || !*alert ? alert : *nokeys ? nokeys : "encrypted";
		/* The rule under test: a closing alert before the first FIN/RST
		 * (by frame) began the close. */
		bool by_alert = *alert_by && (!*fin_by || atol(tu_cell(ref, i, R_ALERT_FRAME)) <
							  atol(tu_cell(ref, i, R_FIN_FRAME)));
		const char *want_by = !*fin_by ? "" : by_alert ? alert_by : fin_by;
		const char *want_ts = !*fin_by ? "" : by_alert ? tu_cell(ref, i, R_ALERT_TS)
							      : tu_cell(ref, i, R_FIN_TS);
		char sql[512];
		snprintf(sql, sizeof sql, "SELECT COALESCE(tcp_close_initiator, ''),"
			 " COALESCE(tls_close_by, ''), COALESCE(tls_close_alert, ''),"
			 " CASE WHEN tls_close_ts IS NULL THEN '' ELSE printf('%%.6f', tls_close_ts) END,"
			 " COALESCE(close_initiator, ''),"
			 " CASE WHEN close_ts IS NULL THEN '' ELSE printf('%%.6f', close_ts) END"
			 " FROM connections WHERE client_port = %s AND tls_version IS NOT NULL", port);
		struct tu_table k;
		tu_db_table(&d, sql, &k);
		if (k.nrows != 1) {
			cr_expect_fail("%s (%s keys): client port %s: %zu TLS connections", file,
				       keys ? "with" : "without", port, k.nrows);
			bad++;
			tu_table_free(&k);
			continue;
		}
		struct { const char *what, *kal, *want; bool time; } cmp[] = {
			{ "tcp_close_initiator", tu_cell(&k, 0, 0), fin_by, false },
			{ "tls_close_by", tu_cell(&k, 0, 1), alert_by, false },
			{ "tls_close_alert", tu_cell(&k, 0, 2), want_alert, false },
			{ "tls_close_ts", tu_cell(&k, 0, 3), tu_cell(ref, i, R_ALERT_TS), true },
			{ "close_initiator", tu_cell(&k, 0, 4), want_by, false },
			{ "close_ts", tu_cell(&k, 0, 5), want_ts, true },
		};
		for (size_t c = 0; c < sizeof cmp / sizeof cmp[0]; c++) {
			if (cmp[c].time ? same_time(cmp[c].kal, cmp[c].want)
					: strcmp(cmp[c].kal, cmp[c].want) == 0)
				continue;
			cr_expect_fail("%s (%s keys): client port %s: %s is '%s', expected '%s'", file,
				       keys ? "with" : "without", port, cmp[c].what, cmp[c].kal,
				       cmp[c].want);
			bad++;
		}
		tu_table_free(&k);
	}
	tu_db_close(&d);
	return bad;
}

static int check_capture(const char *refdir, const char *file)
{
	char capture[2048], refpath[8192];
	tu_capture_of_reference(file, ".tlsclose.tsv", capture, sizeof capture);
	snprintf(refpath, sizeof refpath, "%s/%s", refdir, file);
	struct tu_table ref;
	tu_tsv_table(refpath, R_COUNT, &ref);
	const char *abs = tu_src_path(capture);
	char opt[4400];
	tu_keylog_option(abs, opt, sizeof opt);
	int bad = check_reading(file, abs, &ref, false);
	if (*opt)
		bad += check_reading(file, abs, &ref, true);
	tu_table_free(&ref);
	return bad;
}

Test(e2e_tlsclose, close_attribution_matches_tshark, .timeout = 300)
{
	int files;
	int bad = tu_each_file("tests/expected/tlsclose", "", ".tlsclose.tsv", check_capture, &files);
	cr_expect_geq(files, 30, "only %d reference files", files);
	cr_expect_eq(bad, 0, "%d differences from tshark", bad);
}

/* The references have what the rule is about: closes where TCP and TLS
 * disagree, and alerts of each kind. */
Test(e2e_tlsclose, references_cover_the_cases)
{
	struct tu_table t;
	int disagree = 0, fatal = 0, enc12 = 0, hidden13 = 0;
	const char *files[] = {
		"captures__generated__tlsclose__tls13-unwrap-late-fin.pcap.tlsclose.tsv",
		"captures__generated__tlsclose__tls12-unwrap-late-fin.pcap.tlsclose.tsv",
		"captures__generated__tlsclose__tls12-curl-unknown-ca.pcap.tlsclose.tsv",
		"captures__generated__tls12-aes128gcm-curl.pcap.tlsclose.tsv",
	};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[1024];
		snprintf(path, sizeof path, "tests/expected/tlsclose/%s", files[f]);
		tu_tsv_table(tu_src_path(path), R_COUNT, &t);
		for (size_t i = 0; i < t.nrows; i++) {
			disagree += strcmp(tu_cell(&t, i, R_FIN_BY), tu_cell(&t, i, R_ALERT_BY)) != 0;
			fatal += strcmp(tu_cell(&t, i, R_ALERT), "unknown_ca") == 0;
			enc12 += strcmp(tu_cell(&t, i, R_ALERT_NOKEYS), "encrypted") == 0;
			hidden13 += *tu_cell(&t, i, R_ALERT_NOKEYS) == '\0';
		}
		tu_table_free(&t);
	}
	cr_expect_eq(disagree, 4, "the server's FIN first after the client's alert, in each");
	cr_expect_eq(fatal, 1);
	cr_expect_eq(enc12, 2);
	cr_expect_eq(hidden13, 1);
}

/* What the clients recorded, and what the keep-alive verdicts make of it:
 * the Python client sent close_notify before it had the server's
 * (close_notify_sent < close_notify_received), so the client ended a
 * connection the server would have kept; nginx closed the idle one itself,
 * after the Keep-Alive: timeout=1 it advertised. */
static double record_time(const char *rec, const char *event)
{
	struct tu_table t;
	tu_tsv_table(tu_src_path(rec), 3, &t);
	double v = -1;
	for (size_t i = 0; i < t.nrows; i++)
		if (!strcmp(tu_cell(&t, i, 0), event))
			v = strtod(tu_cell(&t, i, 1), NULL);
	tu_table_free(&t);
	cr_assert_geq(v, 0, "%s: no %s row", rec, event);
	return v;
}

Test(e2e_tlsclose, keepalive_verdicts_follow_the_tls_close)
{
	static const char *const names[] = { "tls12-unwrap-late-fin", "tls13-unwrap-late-fin" };
	for (size_t n = 0; n < 2; n++) {
		char rec[256], cap[256], opt[4400];
		snprintf(rec, sizeof rec, "captures/generated/tlsclose/%s.client.tsv", names[n]);
		snprintf(cap, sizeof cap, "captures/generated/tlsclose/%s.pcap", names[n]);
		double sent = record_time(rec, "close_notify_sent");
		double received = record_time(rec, "close_notify_received");
		double fin = record_time(rec, "fin_sent");
		cr_assert_lt(sent, received, "%s: the client's close_notify came first", rec);
		tu_keylog_option(tu_src_path(cap), opt, sizeof opt);
		struct tu_db d;
		tu_db_read(&d, opt, tu_src_path(cap));
		cr_expect_eq(tu_db_int(&d, "SELECT requests FROM connections"), 2);
		cr_expect_eq(tu_db_findings(&d, "client-closed-reusable"), 1, "%s", names[n]);
		cr_expect_eq(tu_db_findings(&d, "keepalive-ignored-by-server"), 0, "%s", names[n]);
		char buf[256];
		cr_expect_not_null(tu_db_text(&d, "SELECT detail FROM findings WHERE kind ="
					      " 'client-closed-reusable' AND detail LIKE"
					      " '%(TLS close_notify)%'", buf, sizeof buf));
		/* Idle until the close_notify, not until the client's FIN 0.3 s later. */
		double idle = tu_db_real(&d, "SELECT idle_before_close FROM connections");
		cr_expect_lt(idle, (fin - sent) / 2, "%s: idle %.6f s", names[n], idle);
		tu_db_close(&d);
	}

	const char *cap = "captures/generated/tlsclose/tls12-nginx-idle-close.pcap";
	double waited = record_time("captures/generated/tlsclose/tls12-nginx-idle-close.client.tsv",
				    "server_closed") -
			record_time("captures/generated/tlsclose/tls12-nginx-idle-close.client.tsv",
				    "response");
	char opt[4400];
	tu_keylog_option(tu_src_path(cap), opt, sizeof opt);
	struct tu_db d;
	tu_db_read(&d, opt, tu_src_path(cap));
	cr_expect_eq(tu_db_int(&d, "SELECT ka_timeout_advertised FROM connections"), 1);
	cr_expect_eq(tu_db_findings(&d, "server-idle-timeout"), 1);
	double idle = tu_db_real(&d, "SELECT idle_before_close FROM connections");
	cr_expect(fabs(idle - waited) < 0.05, "idle %.6f s, the client waited %.6f s", idle, waited);
	tu_db_close(&d);
}
