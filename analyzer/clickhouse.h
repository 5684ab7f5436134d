/*
 * clickhouse.h - kalens's tables in ClickHouse, made from the same
 * declarations as SQLite's (columns.h, store_decls).
 *
 * Each table keeps every declared column under its own name (INTEGER as
 * Int64, REAL as Float64, TEXT as String; Nullable unless the declaration
 * says never NULL) and gains the columns that tell sensors and runs apart:
 * `sensor`, `run_uuid`, and `run_started_at` (runs.started_at, the
 * partition key); `runs` also `_version`.  Tables are ReplacingMergeTree:
 * a row sent twice (a shipment retried after the server stored it but
 * before kalens recorded that) has the same sorting key and collapses into
 * one on merge, or at once with FINAL.  docs/fleet.md has the reasons for
 * each key.  Nothing here is newer than ClickHouse 18.16.
 */
#ifndef KALENS_CLICKHOUSE_H
#define KALENS_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "columns.h"
#include "store.h"

/* How a shipped table is kept in ClickHouse. */
struct ch_table {
	const char *name;             /* kalens's table: "runs", "connections", ... */
	const char *order_by;         /* the sorting key, which is also the row's identity */
	const char *shard_by;         /* the Distributed sharding key (cluster) */
	bool versioned;               /* rows are sent again as they change (`_version`) */
};

/* The four tables, in store_decls order. */
extern const struct ch_table ch_tables[STORE_TABLES];

/* The DDL: CREATE DATABASE, and per table either one ReplacingMergeTree
 * table (cluster NULL) or, for a cluster, `<name>_local` on every server
 * and the Distributed `<name>` over them.  0, or -1 on a write error. */
int ch_schema(FILE *out, const char *database, const char *cluster);

/* A declared column every ClickHouse table has first (runs.sensor and
 * runs.run_uuid): not listed again among the table's own. */
bool ch_leading_column(const char *name);

/* ClickHouse's spelling of a declared column's type. */
const char *ch_type(const struct column *c, char *buf, size_t len);

/* Text for TabSeparated input: `\`, tab, newline and the other control
 * characters escaped as ClickHouse reads them.  Appends to *p (grown with
 * realloc; *cap its size); false when out of memory. */
bool ch_tsv_escape(char **p, size_t *len, size_t *cap, const unsigned char *s, size_t n);

#endif
