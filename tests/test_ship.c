/*
 * test_ship.c - the parts of shipping to ClickHouse that need no server:
 * the destination as printed (credentials never shown), TabSeparated
 * escaping as ClickHouse reads it, the DDL made from the declarations, run
 * identities and the order connections are stored in.  tests/t_ship.sh
 * ships to real servers.
 */
#include <criterion/criterion.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse.h"
#include "ship.h"
#include "store.h"
#include "testutil.h"

Test(ship, destination_hides_credentials)
{
	char b[256];
	static const char *const cases[][2] = {
		{ "http://127.0.0.1:8123/?database=kalens", "http://127.0.0.1:8123/?database=kalens" },
		{ "http://u:p@ch.example:8123/?database=k", "http://ch.example:8123/?database=k" },
		{ "https://u@ch.example/?user=u&password=p&database=k",
		  "https://ch.example/?database=k" },
		{ "http://ch.example:8123?password=secret", "http://ch.example:8123" },
		{ "http://ch.example", "http://ch.example" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_not_null(ship_destination(cases[i][0], b, sizeof b), "%s", cases[i][0]);
		cr_expect_str_eq(b, cases[i][1]);
		cr_expect_null(strstr(b, "secret"));
	}
	cr_expect_null(ship_destination("ftp://x/", b, sizeof b));
	cr_expect_null(ship_destination("127.0.0.1:8123", b, sizeof b));
}

/* ClickHouse's RowBinary (its docs, "Formats: RowBinary"): little-endian
 * integers and IEEE doubles, strings as an unsigned LEB128 length and the
 * bytes. */
Test(ship, rowbinary_encodings)
{
	struct ch_buf b = { 0 };
	ch_put_i64(&b, -2);
	ch_put_u64(&b, 0x0102030405060708ull);
	ch_put_f64(&b, 1.5);
	ch_put_u8(&b, 1);
	ch_put_string(&b, "ab", 2);
	static char big[300];
	memset(big, 'x', sizeof big);
	ch_put_string(&b, big, sizeof big);
	ch_put_string(&b, "", 0);
	static const unsigned char want[] = {
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f,
		0x01,
		0x02, 'a', 'b',
		0xac, 0x02,                      /* 300 */
	};
	cr_assert(!b.oom);
	cr_assert_eq(b.len, sizeof want + 300 + 1);
	cr_expect(memcmp(b.p, want, sizeof want) == 0);
	cr_expect(memcmp(b.p + sizeof want, big, 300) == 0);
	cr_expect_eq(b.p[b.len - 1], 0);
	free(b.p);
}

/* The DDL has every declared column once, by its name, typed as declared,
 * and the keys docs/fleet.md gives; with a cluster, local tables and
 * Distributed ones over them. */
Test(ship, ddl_from_the_declarations)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cr_assert(ch_schema(f, "kalens", "two") == 0);
	fclose(f);
	struct store_decls d;
	store_decls_init(&d);
	for (size_t t = 0; t < STORE_TABLES; t++) {
		char want[128];
		snprintf(want, sizeof want, "CREATE TABLE IF NOT EXISTS kalens.%s_local (",
			 d.tables[t].name);
		const char *at = strstr(buf, want);
		cr_assert_not_null(at, "%s", want);
		const char *end = strstr(at, "ENGINE");
		for (size_t p = 0; p < d.tables[t].nparts; p++) {
			for (size_t i = 0; i < d.tables[t].parts[p].n; i++) {
				const struct column *c = &d.tables[t].parts[p].cols[i];
				char ty[32], line[160];
				/* sensor and run_uuid lead every table, as String */
				snprintf(line, sizeof line, "    %s %s", c->name,
					 ch_leading_column(c->name) ? "String" : ch_type(c, ty, sizeof ty));
				const char *hit = strstr(at, line);
				cr_expect(hit && hit < end, "%s: %s", d.tables[t].name, line);
			}
		}
		snprintf(want, sizeof want, "CREATE TABLE IF NOT EXISTS kalens.%s AS kalens.%s_local\n"
			 "ENGINE = Distributed(two, kalens, %s_local, %s);", d.tables[t].name,
			 d.tables[t].name, d.tables[t].name, ch_tables[t].shard_by);
		cr_expect_not_null(strstr(buf, want), "%s", want);
	}
	cr_expect_not_null(strstr(buf, "ORDER BY (server_ip, server_port, first_seen, run_uuid, id)"));
	cr_expect_not_null(strstr(buf, "ENGINE = ReplacingMergeTree(_version)"));
	cr_expect_null(strstr(buf, "LowCardinality"), "not in 18.16");
	cr_expect_null(strstr(buf, "DateTime64"), "not in 18.16");
	free(buf);
}

Test(ship, runs_have_a_sensor_and_a_uuid)
{
	char u[40], v[40];
	regex_t re;
	cr_assert(regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
			  REG_EXTENDED | REG_NOSUB) == 0);
	cr_assert(store_uuid4(u, sizeof u) == 0 && store_uuid4(v, sizeof v) == 0);
	cr_expect(regexec(&re, u, 0, NULL, 0) == 0, "%s", u);
	cr_expect_str_neq(u, v);
	cr_expect_eq(store_uuid4(u, 36), -1, "no room for the terminator");

	struct tu_db d;
	tu_db_read(&d, "--sensor 'lb 7'",
		   tu_src_path("captures/generated/nginx-keepalive-curl.pcap"));
	char b[64];
	cr_expect_str_eq(tu_db_text(&d, "SELECT sensor FROM runs", b, sizeof b), "lb 7");
	cr_expect(regexec(&re, tu_db_text(&d, "SELECT run_uuid FROM runs", b, sizeof b), 0, NULL,
			  0) == 0);
	/* Connections are numbered when they begin and stored when they end:
	 * stored_seq is 1..N in the order of storing. */
	cr_expect_eq(tu_db_int(&d, "SELECT COUNT(*) = MAX(stored_seq) AND MIN(stored_seq) = 1 AND"
				   " COUNT(DISTINCT stored_seq) = COUNT(*) FROM connections"), 1);
	tu_db_close(&d);
	regfree(&re);
}
