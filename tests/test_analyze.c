/*
 * test_analyze.c - how analyze_file() ends a run of a capture file: read
 * to the end, stopped by the packet limit (analyze_options.max_packets),
 * or stopped by a stop request (a signal), as runs.status, runs.message
 * and runs.packets say it; and kalens read --count, which sets the limit.
 *
 * The capture's packet count comes from a run without a limit, checked
 * against the number of records walked here from its headers.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "dissect.h"
#include "store.h"
#include "testutil.h"

#define CAP "captures/generated/nginx-keepalive-curl.pcap"

/* Records of a little-endian microsecond pcap file, from its headers. */
static long long pcap_records(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	uint8_t h[24];
	cr_assert_eq(fread(h, 1, sizeof h, f), sizeof h);
	cr_assert(h[0] == 0xd4 && h[1] == 0xc3 && h[2] == 0xb2 && h[3] == 0xa1,
		  "%s is not a little-endian microsecond pcap", path);
	long long n = 0;
	uint8_t r[16];
	while (fread(r, 1, sizeof r, f) == sizeof r) {
		long incl = (long)((uint32_t)r[8] | (uint32_t)r[9] << 8 | (uint32_t)r[10] << 16 |
				   (uint32_t)r[11] << 24);
		cr_assert_eq(fseek(f, incl, SEEK_CUR), 0);
		n++;
	}
	fclose(f);
	return n;
}

/* analyze_file() of CAP into a fresh database, as kalens read sets it up,
 * with `max_packets` and a stop flag already raised or not; the database
 * is then opened read-only in *d (tu_db_close removes it). */
static int analyze_into(struct tu_db *d, uint64_t max_packets, int stop,
			struct analyze_result *res, char *err, size_t errlen)
{
	d->tmp = tu_tmpdir();
	cr_assert_not_null(d->tmp);
	char db[4200];
	snprintf(db, sizeof db, "%s/k.db", d->tmp);
	struct store *st = store_open(db, err, errlen);
	cr_assert_not_null(st, "%s", err);

	struct analyze_options o;
	memset(&o, 0, sizeof o);
	flow_config_defaults(&o.flow);
	keepalive_config_defaults(&o.keepalive);
	o.flow.dissectors = dissect_builtin();
	volatile sig_atomic_t flag = stop;
	o.stop = &flag;
	o.max_packets = max_packets;
	int rc = analyze_file(st, tu_src_path(CAP), &o, res, err, errlen);
	store_close(st);
	cr_assert_eq(sqlite3_open_v2(db, &d->h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return rc;
}

/* A text value of the first row, "(null)" for NULL, "" for no row. */
static void db_text(struct tu_db *d, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *q;
	cr_assert_eq(sqlite3_prepare_v2(d->h, sql, -1, &q, NULL), SQLITE_OK, "%s", sql);
	out[0] = '\0';
	if (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(q, 0);
		snprintf(out, outlen, "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(q);
}

/* Every packet of the file, for the tests below. */
static long long whole_file_packets(void)
{
	struct tu_db d;
	struct analyze_result res;
	char err[1024], s[256];
	cr_assert_eq(analyze_into(&d, 0, 0, &res, err, sizeof err), 0, "%s", err);
	db_text(&d, "SELECT status || ' ' || IFNULL(message, '-') FROM runs", s, sizeof s);
	cr_assert_str_eq(s, "complete -");
	long long n = tu_db_int(&d, "SELECT packets FROM runs");
	cr_assert_eq(n, pcap_records(tu_src_path(CAP)));
	tu_db_close(&d);
	return n;
}

Test(analyze, file_stopped_by_packet_count_is_complete)
{
	long long total = whole_file_packets();
	cr_assert_gt(total, 10);

	struct tu_db d;
	struct analyze_result res;
	char err[1024] = "", s[256];
	int rc = analyze_into(&d, 10, 0, &res, err, sizeof err);
	cr_expect_eq(rc, 0, "analyze_file: %s", err);
	cr_expect_eq(res.totals.status, STORE_RUN_COMPLETE);
	cr_expect_eq(res.totals.packets, 10);
	db_text(&d, "SELECT status FROM runs", s, sizeof s);
	cr_expect_str_eq(s, "complete");
	db_text(&d, "SELECT message FROM runs", s, sizeof s);
	cr_expect_str_eq(s, "packet count reached");
	cr_expect_eq(tu_db_int(&d, "SELECT packets FROM runs"), 10);
	/* What the ten packets began is stored, as for any end of a run. */
	cr_expect_gt(tu_db_int(&d, "SELECT COUNT(*) FROM connections"), 0);
	tu_db_close(&d);
}

Test(analyze, packet_count_beyond_the_file_reads_it_all)
{
	long long total = whole_file_packets();
	struct tu_db d;
	struct analyze_result res;
	char err[1024] = "", s[256];
	int rc = analyze_into(&d, (uint64_t)total + 1, 0, &res, err, sizeof err);
	cr_expect_eq(rc, 0, "analyze_file: %s", err);
	db_text(&d, "SELECT status || ' ' || IFNULL(message, '-') FROM runs", s, sizeof s);
	cr_expect_str_eq(s, "complete -");
	cr_expect_eq(tu_db_int(&d, "SELECT packets FROM runs"), total);
	tu_db_close(&d);
}

Test(analyze, stop_request_interrupts_a_file_run_with_a_packet_count)
{
	struct tu_db d;
	struct analyze_result res;
	char err[1024] = "", s[256];
	int rc = analyze_into(&d, 10, 1, &res, err, sizeof err);
	cr_expect_eq(rc, -1);
	cr_expect(strstr(err, "interrupted after 0 packets"), "%s", err);
	db_text(&d, "SELECT status FROM runs", s, sizeof s);
	cr_expect_str_eq(s, "interrupted");
	db_text(&d, "SELECT message FROM runs", s, sizeof s);
	cr_expect_str_eq(s, "interrupted by a signal");
	cr_expect_eq(tu_db_int(&d, "SELECT packets FROM runs"), 0);
	tu_db_close(&d);
}

/* kalens read --count N: every file's run stops after N packets, complete,
 * and kalens exits 0; a count that is not a whole number >= 1 is a usage
 * error. */
Test(analyze, read_count_option_stops_each_file)
{
	struct tu_db d = { tu_tmpdir(), NULL };
	cr_assert_not_null(d.tmp);
	char cap[4096], db[4200], cmd[16384];
	snprintf(cap, sizeof cap, "%s", tu_src_path(CAP));
	snprintf(db, sizeof db, "%s/k.db", d.tmp);
	snprintf(cmd, sizeof cmd, "'%s' read -q --count 10 -o '%s' '%s' '%s' 2>&1",
		 KALENS_BINARY, db, cap, cap);
	int st;
	char *out = tu_run(cmd, &st);
	cr_expect_eq(st, 0, "%s", out ? out : "");
	free(out);
	cr_assert_eq(sqlite3_open_v2(db, &d.h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM runs"), 2);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM runs WHERE status = 'complete'"
			       " AND message = 'packet count reached' AND packets = 10"), 2);
	tu_db_close(&d);

	static const char *const bad[] = { "-c 0", "--count 1.5", "-c abc", "-c -3" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(cmd, sizeof cmd, "'%s' read -q %s -o /nonexistent/k.db '%s' 2>&1",
			 KALENS_BINARY, bad[i], cap);
		out = tu_run(cmd, &st);
		cr_expect_eq(st, 2, "read %s: %s", bad[i], out ? out : "");
		cr_expect(out && strstr(out, "bad packet count"), "read %s: %s", bad[i], out);
		free(out);
	}
}
