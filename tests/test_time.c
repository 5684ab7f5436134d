/*
 * test_time.c - capture timestamps that lie: time that goes backwards, and
 * record headers whose fraction of a second is out of range.
 *
 * The captures are a real one (curl against nginx, keep-alive) with some
 * record headers rewritten here.  Expected values come from the record
 * headers, walked here independently of libpcap and kalens (which packets
 * are earlier than the one before, each connection's earliest and latest
 * packet), from the rule docs/schema.md states (a negative duration is
 * NULL), or from kalens' reading of the unmodified file (an out-of-range
 * fraction is read with its carry in the seconds, so moving a second from
 * the seconds field into the fraction must change nothing).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define CAP "captures/generated/nginx-keepalive-curl.pcap"
#define MAX_RECS 4096

/* A little-endian microsecond pcap file in memory, and where each record
 * header is. */
struct pcap_file {
	uint8_t *b;
	size_t n;
	size_t rec[MAX_RECS];         /* offset of each record header */
	size_t nrec;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void pcap_load(struct pcap_file *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp, "%s", path);
	fseek(fp, 0, SEEK_END);
	long sz = ftell(fp);
	rewind(fp);
	f->b = malloc((size_t)sz);
	cr_assert_not_null(f->b);
	cr_assert_eq(fread(f->b, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	f->n = (size_t)sz;
	cr_assert(f->n >= 24 && le32(f->b) == 0xa1b2c3d4, "not a little-endian microsecond pcap");
	f->nrec = 0;
	for (size_t off = 24; off + 16 <= f->n; off += 16 + le32(f->b + off + 8)) {
		cr_assert_lt(f->nrec, MAX_RECS);
		f->rec[f->nrec++] = off;
	}
}

static void pcap_save(const struct pcap_file *f, const char *path)
{
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(f->b, 1, f->n, fp), f->n);
	fclose(fp);
}

/* Record i's time in microseconds, as the header says (carry included). */
static int64_t rec_us(const struct pcap_file *f, size_t i)
{
	const uint8_t *h = f->b + f->rec[i];
	return (int64_t)le32(h) * 1000000 + (int64_t)le32(h + 4);
}

static void set_rec_us(struct pcap_file *f, size_t i, int64_t us)
{
	uint8_t *h = f->b + f->rec[i];
	put_le32(h, (uint32_t)(us / 1000000));
	put_le32(h + 4, (uint32_t)(us % 1000000));
}

/* The TCP ports of record i (Ethernet, IPv4: the whole capture is). */
static void rec_ports(const struct pcap_file *f, size_t i, unsigned *sport, unsigned *dport)
{
	const uint8_t *p = f->b + f->rec[i] + 16;
	cr_assert_eq(p[12] << 8 | p[13], 0x0800, "record %zu is not IPv4", i);
	const uint8_t *tcp = p + 14 + (p[14] & 15) * 4;
	*sport = (unsigned)(tcp[0] << 8 | tcp[1]);
	*dport = (unsigned)(tcp[2] << 8 | tcp[3]);
}

/* The first record, from `from` on, of the connection of client port
 * `port` whose TCP payload starts with `prefix` ("" for any). */
static size_t find_rec(const struct pcap_file *f, size_t from, unsigned port, const char *prefix)
{
	for (size_t i = from; i < f->nrec; i++) {
		unsigned sp, dp;
		rec_ports(f, i, &sp, &dp);
		if (sp != port)
			continue;
		const uint8_t *p = f->b + f->rec[i] + 16;
		const uint8_t *tcp = p + 14 + (p[14] & 15) * 4;
		const uint8_t *pay = tcp + (tcp[12] >> 4) * 4;
		size_t caplen = le32(f->b + f->rec[i] + 8);
		size_t have = caplen - (size_t)(pay - p);
		if (strlen(prefix) <= have && memcmp(pay, prefix, strlen(prefix)) == 0)
			return i;
	}
	cr_assert_fail("no record of client port %u starting '%s'", port, prefix);
	return 0;
}

static char *tmpdir;

static void setup(void)
{
	tmpdir = tu_tmpdir();
	cr_assert_not_null(tmpdir);
}

static void teardown(void)
{
	tu_rmtree(tmpdir);
}

TestSuite(time, .init = setup, .fini = teardown);

/* Time goes backwards twice in the first connection (client port 51654):
 * its handshake ACK is stamped 2 ms before its SYN, and its second
 * request ("GET /100k.bin") 1 s before the end of the first response. */
Test(time, backwards_time_gives_no_negative_duration)
{
	struct pcap_file f;
	pcap_load(&f, tu_src_path(CAP));
	size_t syn = find_rec(&f, 0, 51654, "");
	size_t ack = syn + 2;                 /* SYN, SYN-ACK, ACK */
	unsigned sp, dp;
	rec_ports(&f, ack, &sp, &dp);
	cr_assert_eq(sp, 51654);
	set_rec_us(&f, ack, rec_us(&f, syn) - 2000);
	size_t second = find_rec(&f, find_rec(&f, 0, 51654, "GET ") + 1, 51654, "GET ");
	set_rec_us(&f, second, rec_us(&f, second - 1) - 1000000);
	char path[600];
	snprintf(path, sizeof path, "%s/backwards.pcap", tmpdir);
	pcap_save(&f, path);

	/* What the headers say: packets earlier than the one before, the
	 * run's earliest and latest time, each connection's. */
	long long backwards = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < f.nrec; i++) {
		backwards += i > 0 && rec_us(&f, i) < rec_us(&f, i - 1);
		lo = rec_us(&f, i) < lo ? rec_us(&f, i) : lo;
		hi = rec_us(&f, i) > hi ? rec_us(&f, i) : hi;
	}
	cr_assert_geq(backwards, 2);

	struct tu_db d;
	tu_db_read(&d, "", path);
	cr_expect_eq(tu_db_int(&d, "SELECT packets_time_backwards FROM runs"), backwards);
	/* and the report says so */
	char cmd[1400], want[160];
	snprintf(cmd, sizeof cmd, "'%s' report '%s' 2>&1", KALENS_BINARY, tu_db_path(&d));
	int st;
	char *rep = tu_run(cmd, &st);
	snprintf(want, sizeof want, "     %lld packets timestamped earlier than the one before them",
		 backwards);
	cr_expect(st == 0 && rep && strstr(rep, want), "%s", rep ? rep : "");
	free(rep);
	cr_expect_eq(tu_db_int(&d, "SELECT CAST(ROUND(first_packet * 1e6) AS INTEGER) FROM runs"), lo);
	cr_expect_eq(tu_db_int(&d, "SELECT CAST(ROUND(last_packet * 1e6) AS INTEGER) FROM runs"), hi);

	struct tu_table t;
	tu_db_table(&d, "SELECT client_port, CAST(ROUND(first_seen * 1e6) AS INTEGER),"
		    " CAST(ROUND(last_seen * 1e6) AS INTEGER) FROM connections ORDER BY client_port",
		    &t);
	cr_expect_eq(t.nrows, 4, "curl made 4 connections (its client record)");
	for (size_t r = 0; r < t.nrows; r++) {
		unsigned port = (unsigned)atoi(tu_cell(&t, r, 0));
		int64_t first = INT64_MAX, last = INT64_MIN;
		for (size_t i = 0; i < f.nrec; i++) {
			rec_ports(&f, i, &sp, &dp);
			if (sp != port && dp != port)
				continue;
			first = rec_us(&f, i) < first ? rec_us(&f, i) : first;
			last = rec_us(&f, i) > last ? rec_us(&f, i) : last;
		}
		cr_expect_eq(atoll(tu_cell(&t, r, 1)), first, "port %u first_seen", port);
		cr_expect_eq(atoll(tu_cell(&t, r, 2)), last, "port %u last_seen", port);
	}
	tu_table_free(&t);

	/* The ACK before its SYN: no handshake RTT, hence nothing saved by
	 * reuse either; the request before the response it follows: no
	 * idle time.  The other connections keep theirs. */
	char buf[256];
	cr_expect_str_eq(tu_db_text(&d, "SELECT IFNULL(handshake_rtt, 'NULL') || ' ' ||"
				    " IFNULL(reuse_saved_s, 'NULL') FROM connections"
				    " WHERE client_port = 51654", buf, sizeof buf), "NULL NULL");
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections WHERE client_port <> 51654"
			       " AND handshake_rtt > 0"), 3);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests r JOIN connections c"
			       " ON c.id = r.conn_id WHERE client_port = 51654 AND seq = 2"
			       " AND idle_before IS NULL"), 1);
	/* curl's record: 5 requests on that connection, all stored. */
	cr_expect_eq(tu_db_int(&d, "SELECT requests FROM connections WHERE client_port = 51654"), 5);
	/* No duration anywhere is negative. */
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM connections WHERE handshake_rtt < 0"
			       " OR max_idle < 0 OR idle_before_close < 0 OR reuse_saved_s < 0"
			       " OR last_seen < first_seen"), 0);
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) FROM requests WHERE idle_before < 0"), 0);
	tu_db_close(&d);
	free(f.b);
}

/* Every connection and request column that depends on time, as text. */
#define TIMES_DIGEST \
	"SELECT group_concat(x, '|') FROM (SELECT client_port || ',' ||" \
	" printf('%.6f,%.6f,', first_seen, last_seen) || IFNULL(handshake_rtt, '-') || ',' ||" \
	" IFNULL(max_idle, '-') || ',' || IFNULL(idle_before_close, '-') || ',' ||" \
	" close_kind || ',' || IFNULL(requests, '-') AS x FROM connections" \
	" UNION ALL SELECT printf('%d,%d,%.6f,', conn_id, seq, request_ts) ||" \
	" IFNULL(idle_before, '-') FROM requests ORDER BY 1)"

static char *digest_of(const char *path)
{
	struct tu_db d;
	tu_db_read(&d, "", path);
	char buf[16384];
	const char *v = tu_db_text(&d, TIMES_DIGEST, buf, sizeof buf);
	cr_assert_not_null(v);
	char *out = strdup(v);
	cr_assert_eq(tu_db_int(&d, "SELECT packets_time_backwards FROM runs"), 0);
	tu_db_close(&d);
	return out;
}

/* A fraction of a second or more carries into the seconds: a record whose
 * second moved into its fraction (sec - 1, usec + 1000000), and one whose
 * 4294 s moved there (usec up to 4294967295, the field's largest: libpcap
 * scaling it to nanoseconds in 32 bits would wrap), read as the original. */
Test(time, microsecond_fraction_out_of_range_carries_into_seconds)
{
	char *want = digest_of(tu_src_path(CAP));
	struct pcap_file f;
	pcap_load(&f, tu_src_path(CAP));
	size_t moved = 0, big = 0;
	for (size_t i = 0; i < f.nrec; i++) {
		uint8_t *h = f.b + f.rec[i];
		uint32_t sec = le32(h), usec = le32(h + 4);
		if (i % 3 == 0) {
			put_le32(h, sec - 1);
			put_le32(h + 4, usec + 1000000);
			moved++;
		} else if (i % 3 == 1 && usec <= 967295) {
			put_le32(h, sec - 4294);
			put_le32(h + 4, usec + 4294000000u);
			big++;
		}
	}
	cr_assert_gt(moved, 10);
	cr_assert_gt(big, 10);
	char path[600];
	snprintf(path, sizeof path, "%s/carry.pcap", tmpdir);
	pcap_save(&f, path);
	char *got = digest_of(path);
	cr_expect_str_eq(got, want);
	free(got);
	free(want);
	free(f.b);
}

/* The same in a nanosecond pcap: the file rewritten with the nanosecond
 * magic (fractions times 1000), then every other record with a second
 * moved into its fraction (ns + 10^9, up to 1999999999). */
Test(time, nanosecond_fraction_out_of_range_carries_into_seconds)
{
	char *want = digest_of(tu_src_path(CAP));
	struct pcap_file f;
	pcap_load(&f, tu_src_path(CAP));
	put_le32(f.b, 0xa1b23c4d);
	for (size_t i = 0; i < f.nrec; i++) {
		uint8_t *h = f.b + f.rec[i];
		uint32_t sec = le32(h), ns = le32(h + 4) * 1000;
		if (i % 2 == 0) {
			sec -= 1;
			ns += 1000000000u;
		}
		put_le32(h, sec);
		put_le32(h + 4, ns);
	}
	char path[600];
	snprintf(path, sizeof path, "%s/carry-ns.pcap", tmpdir);
	pcap_save(&f, path);
	char *got = digest_of(path);
	cr_expect_str_eq(got, want);
	free(got);
	free(want);
	free(f.b);
}
