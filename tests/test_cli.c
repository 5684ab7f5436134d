/*
 * test_cli.c - the kalens command line as a user meets it: exit codes and
 * messages, truncated and foreign files, gzip and standard input, BPF
 * filters, appending runs, and SIGINT in the middle of a read.
 *
 * Expected values come from the capture file itself (its record headers,
 * walked here independently of libpcap and kalens) or from comparing two
 * kalens runs that must agree (gzip vs plain), never from pasted output.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define CAP "captures/public/zeek/http/bro.org.pcap"

static char *dir;

static void setup(void)
{
	dir = tu_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	tu_rmtree(dir);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Run `kalens ARGS` with stderr folded into the output. */
static char *kalens(const char *args, int *status)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, KALENS_BINARY, args);
	return tu_run(cmd, status);
}

static char *path_in(const char *name)
{
	static char buf[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

/* One integer from a query, or -1. */
static int64_t query_int(const char *db, const char *sql)
{
	sqlite3 *h;
	int64_t v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				v = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(h);
	return v;
}

/* One text value (malloc'd) from a query, or NULL. */
static char *query_text(const char *db, const char *sql)
{
	sqlite3 *h;
	char *v = NULL;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				v = strdup((const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(h);
	return v;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	rewind(f);
	uint8_t *b = malloc((size_t)sz);
	cr_assert_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* The byte offset of record `k` (0-based) of a little-endian pcap file,
 * and the number of records; walked from the record headers. */
static size_t pcap_record_offset(const uint8_t *b, size_t n, size_t k, size_t *count)
{
	cr_assert_geq(n, 24);
	cr_assert(b[0] == 0xd4 && b[1] == 0xc3 && b[2] == 0xb2 && b[3] == 0xa1,
		  "test capture is not a little-endian microsecond pcap");
	size_t off = 24, i = 0, at = 0;
	while (off + 16 <= n) {
		if (i == k)
			at = off;
		uint32_t incl = (uint32_t)b[off + 8] | (uint32_t)b[off + 9] << 8 |
				(uint32_t)b[off + 10] << 16 | (uint32_t)b[off + 11] << 24;
		off += 16 + incl;
		i++;
	}
	*count = i;
	return at;
}

Test(cli, usage_errors_exit_2)
{
	static const char *const cases[] = {
		"", "frobnicate", "read", "read --bogus x.pcap", "read --idle-timeout abc x.pcap",
		"read --max-conns 0 x.pcap", "report", "report -r zero db", "sql db", "conn db",
		"conn db 0", "conn db x", "conn --bogus db 1", "export db", "export --ndjson",
		"export --har x.har --ndjson db",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st;
		free(kalens(cases[i], &st));
		cr_expect_eq(st, 2, "'kalens %s' exited %d", cases[i], st);
	}
}

/* A usage error is one line saying what is wrong, the command's usage line
 * and where its options are; not the whole help, which would bury it. */
Test(cli, usage_error_is_short_and_points_at_help)
{
	static const struct {
		const char *args, *says, *hint;
	} cases[] = {
		{ "read --idle-timeout abc x.pcap", "bad number of seconds 'abc'", "kalens read --help" },
		{ "read --bogus x.pcap", "unrecognized option", "kalens read --help" },
		{ "report", "expected one database", "kalens report --help" },
		{ "frobnicate", "unknown command 'frobnicate'", "kalens --help" },
		/* two formats at once are an error, not a silent choice */
		{ "report --json --html r.html db", "--json and --html", "kalens report --help" },
		{ "report --html r.html --json db", "--json and --html", "kalens report --help" },
		{ "sql --csv --tsv db 'select 1'", "--csv and --tsv", "kalens sql --help" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st;
		char *out = kalens(cases[i].args, &st);
		cr_expect_eq(st, 2, "'kalens %s' exited %d", cases[i].args, st);
		cr_expect(out && strstr(out, cases[i].says), "'kalens %s': %s", cases[i].args, out);
		cr_expect(out && strstr(out, cases[i].hint), "'kalens %s': %s", cases[i].args, out);
		cr_expect(out && !strstr(out, "  -h, --help"), "'kalens %s' printed the whole help: %s",
			  cases[i].args, out);
		size_t lines = 0;
		for (const char *c = out; c && *c; c++)
			lines += *c == '\n';
		cr_expect_leq(lines, 3, "'kalens %s': %zu lines: %s", cases[i].args, lines, out);
		free(out);
	}
	cr_expect(access(path_in("r.html"), F_OK) != 0, "a refused report wrote its HTML file");
}

/* --version names every library kalens uses, with the version loaded. */
Test(cli, version_lists_every_library)
{
	int st;
	char *out = kalens("--version", &st);
	cr_expect_eq(st, 0);
	static const char *const libs[] = { "libpcap version ", "SQLite 3.", "OpenSSL 3.",
					     "nghttp2 1.", "zlib 1." };
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
		cr_expect(out && strstr(out, libs[i]), "no '%s' in: %s", libs[i], out);
	free(out);
}

Test(cli, help_and_version_exit_0)
{
	static const char *const cases[] = {
		"--help", "--version", "read --help", "report --help", "sql --help", "conn --help",
		"export --help",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st;
		char *out = kalens(cases[i], &st);
		cr_expect_eq(st, 0, "'kalens %s' exited %d", cases[i], st);
		cr_expect(out && strstr(out, i == 1 ? "kalens 0." : "usage:"), "%s", out);
		free(out);
	}
}

static bool exists(const char *name)
{
	return access(path_in(name), F_OK) == 0;
}

/* A read that fails before any packet creates no database (nor -wal,
 * -shm) where there was none. */
Test(cli, missing_file_names_it)
{
	int st;
	char *out = kalens("read -o k.db no-such-file.pcap", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "no-such-file.pcap: No such file or directory"), "%s", out);
	free(out);
	cr_expect(!exists("k.db") && !exists("k.db-wal") && !exists("k.db-shm"),
		  "a database was created for a capture that does not exist");
}

Test(cli, not_a_capture_names_it)
{
	spit(path_in("notes.txt"), "hello, not a capture\n", 21);
	int st;
	char *out = kalens("read -o k.db notes.txt", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "notes.txt: not a pcap or pcapng capture"), "%s", out);
	free(out);
	cr_expect(!exists("k.db"), "a database was created for a file that is not a capture");
	/* The same through a pipe, and with gzip around it. */
	out = kalens("read -o k.db - < notes.txt", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "-: not a pcap or pcapng capture"), "%s", out);
	free(out);
	char sh[4096];
	snprintf(sh, sizeof sh, "cd '%s' && gzip -c notes.txt | '%s' read -o k.db - 2>&1", dir,
		 KALENS_BINARY);
	out = tu_run(sh, &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "-: not a pcap or pcapng capture (inside gzip)"), "%s", out);
	free(out);
	cr_expect(!exists("k.db"), "a database was created for standard input that is not a capture");
	/* A capture after a missing one is read into a new database. */
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "read -q -o k.db no-such.pcap '%s'", tu_src_path(CAP));
	out = kalens(cmd, &st);
	cr_expect_eq(st, 1, "%s", out);
	free(out);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT COUNT(*) FROM runs WHERE status = 'complete'"), 1);
}

Test(cli, database_that_is_not_sqlite_is_refused_untouched)
{
	const char *text = "this is my thesis, not a database\n";
	spit(path_in("thesis.db"), text, strlen(text));
	int st;
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "read -o thesis.db '%s'", tu_src_path(CAP));
	char *out = kalens(cmd, &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "thesis.db"), "%s", out);
	free(out);
	size_t n;
	uint8_t *b = slurp(path_in("thesis.db"), &n);
	cr_expect(n == strlen(text) && memcmp(b, text, n) == 0, "the file was modified");
	free(b);
}

Test(cli, truncated_capture_keeps_what_was_read)
{
	size_t n, count;
	uint8_t *b = slurp(tu_src_path(CAP), &n);
	size_t cut = pcap_record_offset(b, n, 300, &count);
	cr_assert_gt(count, 300);
	/* Cut in the middle of record 300's data: records 0..299 are whole. */
	spit(path_in("cut.pcap"), b, cut + 16 + 10);
	free(b);

	int st;
	char *out = kalens("read -o k.db cut.pcap", &st);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(strstr(out, "cut.pcap") && strstr(out, "truncated"), "%s", out);
	free(out);
	char *status = query_text(path_in("k.db"), "SELECT status FROM runs");
	cr_expect_str_eq(status, "truncated");
	free(status);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT packets FROM runs"), 300);
	cr_expect_gt(query_int(path_in("k.db"), "SELECT COUNT(*) FROM connections"), 0);
}

/* A pcap file header with link type `lt` and one 4-byte record. */
static void write_linktype_pcap(const char *path, uint8_t lt)
{
	uint8_t cap[] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, lt, 0, 0, 0,
		1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
	};
	spit(path, cap, sizeof cap);
}

/* A capture of a link type kalens does not decode is refused with the
 * same message and exit status, but its run is recorded: status 'error',
 * the reason in runs.message, so `kalens report` says why the database
 * holds nothing from it. */
Test(cli, unsupported_link_type_is_named)
{
	int st;
	write_linktype_pcap(path_in("user0.pcap"), 147);    /* DLT_USER0: no name */
	char *out = kalens("read -o k.db user0.pcap", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "kalens: user0.pcap: unsupported link type 147\n"), "%s", out);
	free(out);
	char *row = query_text(path_in("k.db"), "SELECT status || '|' || message || '|' ||"
			       " link_type_id || '|' || packets || '|' || connections FROM runs");
	cr_expect_str_eq(row, "error|user0.pcap: unsupported link type 147|147|0|0");
	free(row);
	out = kalens("report k.db", &st);
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(out && strstr(out, "user0.pcap  [error,") &&
		  strstr(out, "user0.pcap: unsupported link type 147"), "%s", out);
	free(out);

	write_linktype_pcap(path_in("tokenring.pcap"), 6);  /* IEEE 802.5 Token Ring */
	out = kalens("read -o k.db tokenring.pcap", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "tokenring.pcap: unsupported link type IEEE802 (6)"), "%s", out);
	free(out);
	row = query_text(path_in("k.db"), "SELECT group_concat(status || ':' || message, ',')"
			 " FROM runs");
	cr_expect_str_eq(row, "error:user0.pcap: unsupported link type 147,"
			 "error:tokenring.pcap: unsupported link type IEEE802 (6)");
	free(row);
}

/* Every connection column but the ids, in a stable order, as one text. */
#define CONN_DIGEST(run) \
	"SELECT group_concat(r, '|') FROM (SELECT client_ip || ',' || client_port || ',' ||" \
	" server_ip || ',' || server_port || ',' || first_seen || ',' || last_seen || ',' ||" \
	" syn_seen || ',' || IFNULL(handshake_rtt, '-') || ',' || IFNULL(close_initiator, '-')" \
	" || ',' || close_kind || ',' || packets_to_server || ',' || packets_to_client || ',' ||" \
	" bytes_to_server || ',' || bytes_to_client || ',' || gap_bytes AS r" \
	" FROM connections WHERE run_id = " run " ORDER BY first_seen, client_port)"

Test(cli, gzip_stdin_and_append_agree_and_keep_earlier_runs)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > cap.pcap.gz", tu_src_path(CAP));
	int st;
	char sh[8192];
	snprintf(sh, sizeof sh, "cd '%s' && %s", dir, cmd);
	cr_assert_eq(system(sh), 0);

	snprintf(cmd, sizeof cmd, "read -q -o k.db '%s'", tu_src_path(CAP));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);
	char *run1 = query_text(path_in("k.db"), CONN_DIGEST("1"));
	cr_assert_not_null(run1);

	free(kalens("read -q -o k.db cap.pcap.gz", &st));
	cr_assert_eq(st, 0);
	snprintf(cmd, sizeof cmd, "read -q -o k.db - < '%s'", tu_src_path(CAP));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);

	cr_expect_eq(query_int(path_in("k.db"), "SELECT COUNT(*) FROM runs WHERE status = 'complete'"), 3);
	/* tshark: 31 requests in this capture, in each of the three runs. */
	cr_expect_eq(query_int(path_in("k.db"), "SELECT SUM(requests = 31) FROM runs"), 3);
	char *again = query_text(path_in("k.db"), CONN_DIGEST("1"));
	char *gz = query_text(path_in("k.db"), CONN_DIGEST("2"));
	char *in = query_text(path_in("k.db"), CONN_DIGEST("3"));
	cr_expect_str_eq(again, run1, "appending changed run 1");
	cr_expect_str_eq(gz, run1, "gzip read differs from plain read");
	cr_expect_str_eq(in, run1, "standard input read differs from plain read");
	free(run1);
	free(again);
	free(gz);
	free(in);
}

Test(cli, bpf_filter_selects_one_connection)
{
	char cmd[4096];
	int st;
	/* The capture's connection from client port 55081 (tshark: tcp.stream
	 * with tcp.port == 55081 is a single conversation). */
	snprintf(cmd, sizeof cmd, "read -q -o k.db -f 'tcp port 55081' '%s'", tu_src_path(CAP));
	char *out = kalens(cmd, &st);
	cr_expect_eq(st, 0, "%s", out);
	free(out);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT COUNT(*) FROM connections"), 1);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT client_port FROM connections"), 55081);
	char *f = query_text(path_in("k.db"), "SELECT filter FROM runs");
	cr_expect_str_eq(f, "tcp port 55081");
	free(f);

	snprintf(cmd, sizeof cmd, "read -q -o k.db -f 'tcp port' '%s'", tu_src_path(CAP));
	out = kalens(cmd, &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "bad filter 'tcp port'"), "%s", out);
	free(out);
}

/* `reader` is a shell command (in `dir`) that feeds kalens a.part, pauses
 * 3 s, then feeds b.part; BIN in it stands for the kalens binary.  SIGINT
 * comes 1.5 s into the pause.  kalens must have processed every record of
 * a.part by then (it reads what arrives, without waiting for a buffer to
 * fill), store them, mark the run 'interrupted' and exit 1. */
static void interrupted_in_the_pause(const char *reader, const char *what, int64_t want)
{
	char script[8192];
	snprintf(script, sizeof script,
		 "BIN='%s'\nrm -f k.db k.db-wal k.db-shm fifo\n%s &\npid=$!\nsleep 1.5\n"
		 "kill -INT $pid\nwait $pid\n", KALENS_BINARY, reader);
	spit(path_in("run.sh"), script, strlen(script));
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cd '%s' && bash run.sh 2>&1", dir);
	int st;
	char *out = tu_run(cmd, &st);
	cr_expect_eq(st, 1, "%s: kalens exited %d: %s", what, st, out);
	free(out);
	char *status = query_text(path_in("k.db"), "SELECT status FROM runs");
	cr_expect_str_eq(status, "interrupted", "%s", what);
	free(status);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT packets FROM runs"), want,
		     "%s: not every record that arrived before the pause was read", what);
	cr_expect_gt(query_int(path_in("k.db"), "SELECT COUNT(*) FROM connections"), 0, "%s", what);
}

Test(cli, sigint_during_a_read_marks_the_run_interrupted, .timeout = 60)
{
	/* The capture in two parts: the first 400 records (counted from the
	 * record headers), then the rest. */
	size_t n, count;
	uint8_t *b = slurp(tu_src_path(CAP), &n);
	size_t half = pcap_record_offset(b, n, 400, &count);
	spit(path_in("a.part"), b, half);
	spit(path_in("b.part"), b + half, n - half);
	free(b);
	cr_assert_gt(count, 400);

	interrupted_in_the_pause("{ cat a.part; sleep 3; cat b.part; } | \"$BIN\" read -q -o k.db -",
				 "standard input", 400);
	interrupted_in_the_pause("mkfifo fifo; { cat a.part; sleep 3; cat b.part; } > fifo &\n"
				 "\"$BIN\" read -q -o k.db fifo", "a FIFO", 400);
	/* gzip compressed as a stream, a.part flushed (Z_SYNC_FLUSH) so that
	 * a decompressor can give all of it before the pause. */
	static const char feed[] =
		"import sys, time, zlib\n"
		"z = zlib.compressobj(6, zlib.DEFLATED, 31)\n"
		"o = sys.stdout.buffer\n"
		"o.write(z.compress(open('a.part', 'rb').read()) + z.flush(zlib.Z_SYNC_FLUSH))\n"
		"o.flush()\n"
		"time.sleep(3)\n"
		"o.write(z.compress(open('b.part', 'rb').read()) + z.flush())\n";
	spit(path_in("feed.py"), feed, strlen(feed));
	interrupted_in_the_pause("python3 feed.py | \"$BIN\" read -q -o k.db -",
				 "gzip on standard input", 400);
}

/* kalens report and kalens sql read the database read-only and leave the
 * directory as they found it: no -wal or -shm beside a WAL database
 * (kalens' own), and nothing changed in the file. */
Test(cli, report_and_sql_leave_the_directory_as_it_was)
{
	char cmd[4096];
	int st;
	snprintf(cmd, sizeof cmd, "read -q -o k.db '%s'", tu_src_path(CAP));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);
	cr_assert(!exists("k.db-wal") && !exists("k.db-shm"));
	static const char state[] = "find . -mindepth 1 -printf '%p %s %T@\\n' | sort && md5sum k.db";
	snprintf(cmd, sizeof cmd, "cd '%s' && %s", dir, state);
	char *before = tu_run(cmd, &st);
	static const char *const reads[] = {
		"report k.db", "report --json k.db", "report -r 1 k.db",
		"sql k.db 'SELECT COUNT(*) FROM connections'",
		"sql --csv k.db 'SELECT * FROM runs'",
		"sql k.db 'DELETE FROM runs'",
	};
	for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		free(kalens(reads[i], &st));
		cr_expect_eq(st, i + 1 < sizeof reads / sizeof reads[0] ? 0 : 1, "%s", reads[i]);
		char *after = tu_run(cmd, &st);
		cr_expect_str_eq(after, before, "after 'kalens %s'", reads[i]);
		free(after);
	}
	free(before);
}

Test(cli, sql_formats_and_errors)
{
	char cmd[4096];
	int st;
	snprintf(cmd, sizeof cmd, "read -q -o k.db '%s'", tu_src_path(CAP));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);

	char *out = kalens("sql --csv k.db \"SELECT 'a,b' AS x, 1 AS y\"", &st);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "x,y\n\"a,b\",1\n");
	free(out);

	out = kalens("sql k.db 'SELECT nosuchcolumn FROM runs'", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "nosuchcolumn"), "%s", out);
	free(out);

	out = kalens("sql k.db 'DELETE FROM runs'", &st);
	cr_expect_eq(st, 1, "a write through 'kalens sql' succeeded");
	free(out);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT COUNT(*) FROM runs"), 1);

	out = kalens("sql missing.db 'SELECT 1'", &st);
	cr_expect_eq(st, 1);
	cr_expect(strstr(out, "missing.db"), "%s", out);
	free(out);

	out = kalens("report missing.db", &st);
	cr_expect_eq(st, 1);
	free(out);

	out = kalens("report k.db", &st);
	cr_expect_eq(st, 0);
	cr_expect(strstr(out, "Connections: 13 to 1 servers"), "%s", out);
	/* tshark: 31 HTTP requests on 8 of the 13 connections (the
	 * reference in tests/expected/http/). */
	cr_expect(strstr(out, "HTTP/1: 31 requests on 8 connections"), "%s", out);
	free(out);

	/* The views agree with the same reference: 8 HTTP connections, 31
	 * requests, at most 7 on one connection (the tshark reference's
	 * largest seq), a median of 3 (its per-connection counts sorted:
	 * 1 2 3 3 3 6 6 7 -> (3 + 3) / 2). */
	out = kalens("sql --csv k.db \"SELECT protocol, connections, requests,"
		     " requests_per_conn_median, requests_per_conn_max FROM reuse_summary\"", &st);
	cr_expect_eq(st, 0);
	cr_expect_str_eq(out, "protocol,connections,requests,requests_per_conn_median,"
			      "requests_per_conn_max\nhttp/1.1,8,31,3.0,7\n");
	free(out);
	out = kalens("report --json k.db", &st);
	cr_expect_eq(st, 0);
	cr_expect(out && strstr(out, "\"connections\":{\"total\":13,"), "%s", out);
	cr_expect(out && strstr(out, "\"http\":{\"connections\":8,\"requests\":31,"), "%s", out);
	free(out);
	out = kalens("report --json -r 9 k.db", &st);
	cr_expect_eq(st, 1, "a run that does not exist");
	free(out);

	out = kalens("sql --csv k.db \"SELECT COUNT(*), SUM(reused) FROM connection_reuse\"", &st);
	cr_expect_str_eq(out, "COUNT(*),SUM(reused)\n8,7\n");
	free(out);
}

Test(cli, full_disk_marks_the_run_and_keeps_earlier_runs)
{
	/* RLIMIT_FSIZE stands in for a full disk: with SIGXFSZ ignored, writes
	 * past the limit fail with EFBIG.  Run 1 is read without a limit; run 2
	 * gets 64 KiB per file, enough for its run row but not for its 1000
	 * requests.  Run 1 must stay whole (31 requests, as tshark reads it),
	 * run 2 must say it failed, and the exit status is 1. */
	char sh[8192];
	snprintf(sh, sizeof sh, "cd '%s' && '%s' read -q -o k.db '%s' 2>&1", dir, KALENS_BINARY,
		 tu_src_path("captures/public/zeek/http/bro.org.pcap"));
	int st;
	free(tu_run(sh, &st));
	cr_assert_eq(st, 0);
	snprintf(sh, sizeof sh,
		 "bash -c \"cd '%s' && trap '' XFSZ && ulimit -f 64 && '%s' read -q -o k.db '%s'\" 2>&1",
		 dir, KALENS_BINARY,
		 tu_src_path("captures/public/zeek/http/1000-requests-one-dropped-response.pcap.gz"));
	char *out = tu_run(sh, &st);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(out && strstr(out, "1000-requests-one-dropped-response.pcap.gz:"), "%s", out);
	free(out);
	char *s1 = query_text(path_in("k.db"), "SELECT status FROM runs WHERE id = 1");
	char *s2 = query_text(path_in("k.db"), "SELECT status FROM runs WHERE id = 2");
	cr_expect_str_eq(s1, "complete");
	cr_expect_str_eq(s2, "error");
	free(s1);
	free(s2);
	cr_expect_eq(query_int(path_in("k.db"), "SELECT COUNT(*) FROM requests WHERE run_id = 1"), 31);
}

Test(cli, head_limit_option)
{
	/* http_espn.pcapng has message heads over 1 KiB (long Cookie and
	 * Set-Cookie fields): with --head-limit 1024 they are skipped and
	 * reported, with the default 64 KiB none is.  Below 1024 is refused. */
	char cmd[4096];
	int st;
	snprintf(cmd, sizeof cmd, "read -q -o a.db '%s'",
		 tu_src_path("captures/public/chrissanders-packets/http_espn.pcapng"));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);
	snprintf(cmd, sizeof cmd, "read -q --head-limit 1024 -o b.db '%s'",
		 tu_src_path("captures/public/chrissanders-packets/http_espn.pcapng"));
	free(kalens(cmd, &st));
	cr_assert_eq(st, 0);
	const char *q = "SELECT COUNT(*) FROM findings WHERE kind = 'header-too-large'";
	cr_expect_eq(query_int(path_in("a.db"), q), 0);
	int64_t big = query_int(path_in("b.db"), q);
	cr_expect_gt(big, 0);
	int64_t ra = query_int(path_in("a.db"), "SELECT COUNT(*) FROM requests");
	int64_t rb = query_int(path_in("b.db"), "SELECT COUNT(*) FROM requests");
	cr_expect_eq(ra, 61, "tshark counts 61 requests");
	cr_expect(rb < ra && ra - rb <= big, "requests %lld -> %lld with %lld oversized heads",
		  (long long)ra, (long long)rb, (long long)big);

	snprintf(cmd, sizeof cmd, "read -q --head-limit 100 -o c.db '%s'",
		 tu_src_path("captures/public/chrissanders-packets/http_espn.pcapng"));
	free(kalens(cmd, &st));
	cr_expect_eq(st, 2);
}

/* kalens report reads a database of the previous schema (2, before live
 * capture and the keep-alive analysis) as it is: read-only, no upgrade. */
Test(cli, report_reads_a_schema_2_database)
{
	FILE *f = fopen(tu_src_path("tests/fixtures/schema-v2.sql"), "r");
	cr_assert_not_null(f);
	static char sql[65536];
	size_t n = fread(sql, 1, sizeof sql - 1, f);
	fclose(f);
	sql[n] = '\0';
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(path_in("v2.db"), &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_exec(h, "INSERT INTO runs (id, source, source_kind, started_at,"
				  " kalens_version, status) VALUES (1, 'old.pcap', 'file', 1.5,"
				  " '0.1.0', 'complete')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	int st;
	char *out = kalens("report v2.db", &st);
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(out && strstr(out, "old.pcap"), "%s", out);
	free(out);
	out = kalens("report --json v2.db", &st);
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(out && strstr(out, "\"reuse_saved\":null"), "%s", out);
	free(out);
	out = kalens("report --html v2.html v2.db", &st);
	cr_expect_eq(st, 1, "the HTML report needs schema 3: %s", out);
	cr_expect(out && strstr(out, "schema 2"), "%s", out);
	free(out);
	cr_expect_eq(query_int(path_in("v2.db"), "PRAGMA user_version"), 2, "report upgraded it");
}

/* `kalens schema` prints the schema kalens creates: loaded into an empty
 * database with sqlite3, it gives the same tables, indexes and views, to
 * the letter, as a database `kalens read` made. */
Test(cli, schema_prints_what_read_creates)
{
	int st;
	char *out = kalens("schema > s.sql && sqlite3 s.db < s.sql", &st);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	char cap[1200];
	snprintf(cap, sizeof cap, "read -q -o k.db '%s'",
		 tu_src_path("captures/generated/nginx-keepalive-curl.pcap"));
	free(kalens(cap, &st));
	cr_assert_eq(st, 0);
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cd '%s' &&"
		 " sqlite3 s.db 'SELECT type, name, sql FROM sqlite_master ORDER BY name' > a.txt &&"
		 " sqlite3 k.db 'SELECT type, name, sql FROM sqlite_master ORDER BY name' > b.txt &&"
		 " cmp a.txt b.txt && wc -l < a.txt", dir);
	out = tu_run(cmd, &st);
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(out && atoi(out) >= 12, "%s", out);
	free(out);
	out = kalens("schema --markdown connections", &st);
	cr_expect_eq(st, 0);
	cr_expect(out && strstr(out, "| `stack` | TEXT |") && strstr(out, "| `tunnel_target` | TEXT |"),
		  "%s", out);
	free(out);
	out = kalens("schema --markdown nosuch", &st);
	cr_expect_eq(st, 2, "%s", out);
	free(out);
}
