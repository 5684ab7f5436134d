/*
 * test_tls_keylog.c - reading NSS key logs (dissectors/tls_keylog.c).
 *
 * The key logs beside the public TLS captures must hold a secret for the
 * client random of every ClientHello in them, as tshark reads it
 * (tshark -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.random);
 * TLS 1.2 connections have a 48-byte master secret, TLS 1.3 ones the four
 * traffic secrets.  Malformed lines are errors that name the line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "tls_keylog.h"

static void unhex32(const char *s, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static struct tls_keylog *read_ok(const char *rel)
{
	char err[512] = "";
	struct tls_keylog *k = tls_keylog_read(tu_src_path(rel), err, sizeof err);
	cr_assert_not_null(k, "%s: %s", rel, err);
	return k;
}

static size_t secret_len(const struct tls_keylog *k, const char *random_hex, enum tls_secret s)
{
	uint8_t r[32];
	unhex32(random_hex, r);
	size_t len = 0;
	return tls_keylog_find(k, r, s, &len) ? len : 0;
}

Test(tls_keylog, public_key_logs_cover_their_client_hellos)
{
	/* scapy/tls_nss_example: stream 0 TLS 1.2, stream 1 TLS 1.3 (with an
	 * EXPORTER_SECRET line, skipped, and a comment) */
	struct tls_keylog *k = read_ok("captures/public/scapy/tls_nss_example.keys.txt");
	cr_expect_eq(tls_keylog_count(k), 2);
	const char *r12 = "216e876ea1a480c60145c4c80eb8d05c85b6806043105c391236cd4e88f79a21";
	const char *r13 = "74ef95570af6a305910ee6cb0f98fc5bcec0c5d5dffe5f293ae9a4d7ba2110f2";
	cr_expect_eq(secret_len(k, r12, TLS_MASTER_SECRET), 48);
	cr_expect_eq(secret_len(k, r12, TLS_CLIENT_APP_SECRET_0), 0);
	cr_expect_eq(secret_len(k, r13, TLS_MASTER_SECRET), 0);
	/* TLS_AES_256_GCM_SHA384 (0x1302, tshark): SHA-384 secrets */
	cr_expect_eq(secret_len(k, r13, TLS_CLIENT_HS_SECRET), 48);
	cr_expect_eq(secret_len(k, r13, TLS_SERVER_HS_SECRET), 48);
	cr_expect_eq(secret_len(k, r13, TLS_CLIENT_APP_SECRET_0), 48);
	cr_expect_eq(secret_len(k, r13, TLS_SERVER_APP_SECRET_0), 48);
	tls_keylog_free(k);

	k = read_ok("captures/public/zeek/tls/tls-1.2-stream-keylog.keylog");
	cr_expect_eq(secret_len(k, "2095006fcb3f93d255cbb6562587f0dd010212fdee9d233aff64e6ed36cd5c45",
				TLS_MASTER_SECRET), 48);
	tls_keylog_free(k);
	k = read_ok("captures/public/zeek/tls/tls12-decryption.keylog");
	cr_expect_eq(secret_len(k, "4d98940fb40a244b48e42eac287144b1b7393057caa131f961a78e38b0e77c1e",
				TLS_MASTER_SECRET), 48);
	/* another random is not there */
	cr_expect_eq(secret_len(k, "2095006fcb3f93d255cbb6562587f0dd010212fdee9d233aff64e6ed36cd5c45",
				TLS_MASTER_SECRET), 0);
	tls_keylog_free(k);
}

/* Write `text` to a key log in a temporary directory and read it. */
static struct tls_keylog *read_text(const char *text, char *err, size_t errlen, char **dir)
{
	*dir = tu_tmpdir();
	char path[1024];
	snprintf(path, sizeof path, "%s/keys.txt", *dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return tls_keylog_read(path, err, errlen);
}

#define R "0000000000000000000000000000000000000000000000000000000000000001"
#define M48 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

Test(tls_keylog, malformed_lines_name_their_number)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "# ok\nCLIENT_RANDOM " R "\n", "line 2: want LABEL CLIENT_RANDOM SECRET" },
		{ "CLIENT_RANDOM 12 " M48 "\n", "line 1: the client random is not 32 bytes of hex" },
		{ "\n\nCLIENT_RANDOM " R " abcd\n", "line 3: the CLIENT_RANDOM secret is not 48 bytes" },
		{ "SERVER_TRAFFIC_SECRET_0 " R " zz\n", "line 1: the SERVER_TRAFFIC_SECRET_0 secret" },
		{ "CLIENT_RANDOM " R " " M48 " extra\n", "line 1: want LABEL" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[512] = "", *dir;
		struct tls_keylog *k = read_text(cases[i].text, err, sizeof err, &dir);
		cr_expect_null(k, "case %zu read", i);
		cr_expect(strstr(err, cases[i].want), "case %zu: '%s', want '%s'", i, err,
			  cases[i].want);
		tls_keylog_free(k);
		tu_rmtree(dir);
	}
}

Test(tls_keylog, comments_blank_lines_and_other_labels_are_skipped)
{
	char err[512] = "", *dir;
	struct tls_keylog *k = read_text("# a comment\n\n   \nEXPORTER_SECRET " R " 00\n"
					 "EARLY_EXPORTER_SECRET " R " 0011\n"
					 "CLIENT_RANDOM " R " " M48 "\r\n", err, sizeof err, &dir);
	cr_assert_not_null(k, "%s", err);
	cr_expect_eq(tls_keylog_count(k), 1);
	cr_expect_eq(secret_len(k, R, TLS_MASTER_SECRET), 48);
	tls_keylog_free(k);
	tu_rmtree(dir);

	k = read_text("", err, sizeof err, &dir);
	cr_assert_not_null(k, "an empty key log is valid: %s", err);
	cr_expect_eq(tls_keylog_count(k), 0);
	cr_expect_eq(secret_len(k, R, TLS_MASTER_SECRET), 0);
	tls_keylog_free(k);
	tu_rmtree(dir);

	cr_expect_null(tls_keylog_read("/nonexistent/keys.txt", err, sizeof err));
	cr_expect(strstr(err, "/nonexistent/keys.txt"), "%s", err);
}

/* Appends a client makes while kalens follows the file (live capture). */
static void append(const char *dir, const char *text, size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/keys.txt", dir);
	FILE *f = fopen(path, "a");
	cr_assert_not_null(f);
	fwrite(text, 1, n, f);
	fclose(f);
}

static void after_refresh_interval(void)
{
	struct timespec t = { 0, 20 * 1000 * 1000 };   /* refresh looks at most every 10 ms */
	nanosleep(&t, NULL);
}

#define R2 "0000000000000000000000000000000000000000000000000000000000000002"
#define R3 "0000000000000000000000000000000000000000000000000000000000000003"
#define S32 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Lines appended later are read by tls_keylog_refresh(): a half-written
 * line waits until it is whole, a bad or overlong line (or one with a NUL)
 * is skipped rather than blocking what follows, secrets added to a known
 * client random are found, and a file replaced by a new one is read from
 * its start. */
Test(tls_keylog, refresh_follows_a_file_being_written)
{
	char err[512] = "", *dir;
	struct tls_keylog *k = read_text("CLIENT_HANDSHAKE_TRAFFIC_SECRET " R2 " " S32 "\n", err,
					 sizeof err, &dir);
	cr_assert_not_null(k, "%s", err);
	cr_expect_eq(secret_len(k, R2, TLS_CLIENT_APP_SECRET_0), 0);

	/* half a line: not yet */
	static const char half[] = "CLIENT_TRAFFIC_SECRET_0 " R2 " bbbb";
	append(dir, half, sizeof half - 1);
	after_refresh_interval();
	cr_expect_eq(tls_keylog_refresh(k), 0);
	cr_expect_eq(secret_len(k, R2, TLS_CLIENT_APP_SECRET_0), 0);
	/* its end, then junk, an overlong line, a NUL, then a good line */
	static const char rest[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
				   "not a key log line\n";
	append(dir, rest, sizeof rest - 1);
	char longline[2100];
	memset(longline, 'x', sizeof longline - 1);
	longline[sizeof longline - 2] = '\n';
	append(dir, longline, sizeof longline - 1);
	static const char nul[] = "CLIENT_RANDOM \0 x\n";
	append(dir, nul, sizeof nul - 1);
	static const char good[] = "CLIENT_RANDOM " R3 " " M48 "\n";
	append(dir, good, sizeof good - 1);
	after_refresh_interval();
	cr_expect_eq(tls_keylog_refresh(k), 1, "R3 is new; R2 only gained a secret");
	cr_expect_eq(secret_len(k, R2, TLS_CLIENT_APP_SECRET_0), 32);
	cr_expect_eq(secret_len(k, R3, TLS_MASTER_SECRET), 48);
	after_refresh_interval();
	cr_expect_eq(tls_keylog_refresh(k), 0, "nothing new");

	/* the file replaced by a shorter one: read from its start */
	char path[1024], tmp[1100];
	snprintf(path, sizeof path, "%s/keys.txt", dir);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	FILE *f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs("CLIENT_RANDOM " R " " M48 "\n", f);
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0);
	after_refresh_interval();
	cr_expect_eq(tls_keylog_refresh(k), 1);
	cr_expect_eq(secret_len(k, R, TLS_MASTER_SECRET), 48);
	tls_keylog_free(k);
	tu_rmtree(dir);
}
