/*
 * clickhouse.c - see clickhouse.h.
 */
#include "clickhouse.h"

#include <stdlib.h>
#include <string.h>

/* Sorting keys: connections and attempts for the documented questions "by
 * server and time" (docs/queries.md group by server and filter by time),
 * the others by connection; each ends with the row's identity in the database it came
 * from, so only a row sent twice has the same key.  Sharding keeps each
 * connection's rows (its requests and findings) on one shard, so joins on
 * (run_uuid, conn_id) stay local to a shard. */
const struct ch_table ch_tables[STORE_TABLES] = {
	[STORE_T_RUNS] = { "runs", "(sensor, run_uuid)", "cityHash64(run_uuid)", true },
	[STORE_T_CONNECTIONS] = { "connections", "(server_ip, server_port, first_seen, run_uuid, id)",
				  "cityHash64(run_uuid, id)", false },
	[STORE_T_REQUESTS] = { "requests", "(run_uuid, conn_id, id)",
			       "cityHash64(run_uuid, conn_id)", false },
	[STORE_T_FINDINGS] = { "findings", "(kind, run_uuid, id)",
			       "cityHash64(run_uuid, ifNull(conn_id, 0))", false },
	[STORE_T_ATTEMPTS] = { "attempts", "(server_ip, server_port, first_seen, run_uuid, id)",
			       "cityHash64(run_uuid, id)", false },
};

bool ch_leading_column(const char *name)
{
	return !strcmp(name, "sensor") || !strcmp(name, "run_uuid");
}

const char *ch_type(const struct column *c, char *buf, size_t len)
{
	const char *t = c->type == COL_INTEGER ? "Int64" : c->type == COL_REAL ? "Float64" : "String";
	if (c->flags & (COL_NOT_NULL | COL_KEY | COL_RUN))
		snprintf(buf, len, "%s", t);
	else
		snprintf(buf, len, "Nullable(%s)", t);
	return buf;
}

static void columns_ddl(FILE *out, const struct table_decl *t, const struct ch_table *ct)
{
	fputs("    sensor String,\n    run_uuid String,\n    run_started_at Float64", out);
	if (ct->versioned)
		fputs(",\n    _version UInt64", out);
	for (size_t p = 0; p < t->nparts; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++) {
			char ty[32];
			if (ch_leading_column(t->parts[p].cols[i].name))
				continue;
			fprintf(out, ",\n    %s %s", t->parts[p].cols[i].name,
				ch_type(&t->parts[p].cols[i], ty, sizeof ty));
		}
	}
}

static void engine_ddl(FILE *out, const struct ch_table *ct)
{
	fprintf(out, "ENGINE = ReplacingMergeTree(%s)\n"
		"PARTITION BY toYYYYMM(toDateTime(toUInt32(run_started_at)))\nORDER BY %s;\n",
		ct->versioned ? "_version" : "", ct->order_by);
}

int ch_schema(FILE *out, const char *database, const char *cluster)
{
	struct store_decls d;
	store_decls_init(&d);
	fprintf(out, "-- kalens %s: its tables in ClickHouse (18.16 or later), made from the\n"
		"-- declarations of docs/schema.md; docs/fleet.md explains the keys.\n",
		KALENS_VERSION);
	if (cluster)
		fprintf(out, "-- Cluster '%s': run all of this on every server of the cluster\n"
			"-- (each keeps its shard in <table>_local; <table> reads and writes them all).\n",
			cluster);
	fprintf(out, "CREATE DATABASE IF NOT EXISTS %s;\n", database);
	for (size_t i = 0; i < STORE_TABLES; i++) {
		const struct ch_table *ct = &ch_tables[i];
		fprintf(out, "\nCREATE TABLE IF NOT EXISTS %s.%s%s (\n", database, ct->name,
			cluster ? "_local" : "");
		columns_ddl(out, &d.tables[i], ct);
		fputs("\n)\n", out);
		engine_ddl(out, ct);
		if (cluster)
			fprintf(out, "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s_local\n"
				"ENGINE = Distributed(%s, %s, %s_local, %s);\n", database, ct->name,
				database, ct->name, cluster, database, ct->name, ct->shard_by);
	}
	return ferror(out) ? -1 : 0;
}

bool ch_grow(struct ch_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->cap - b->len >= n)
		return true;
	size_t c = b->cap ? b->cap : 65536;
	while (c - b->len < n)
		c *= 2;
	unsigned char *p = realloc(b->p, c);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = c;
	return true;
}
