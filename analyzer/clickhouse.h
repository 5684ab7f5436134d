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
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* Rows in ClickHouse's RowBinary format (its docs, "Formats"): values in
 * column order, integers and floats little-endian in their width, a String
 * as its length (unsigned LEB128) and bytes, a Nullable value as one byte
 * (1: NULL) and then the value unless NULL.  Exact (no decimal rendering
 * of doubles) and cheap to make.  `oom` latches a failed allocation. */
struct ch_buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};
/* Room for n more bytes (false: out of memory, latched in oom). */
bool ch_grow(struct ch_buf *b, size_t n);

static inline bool ch_room(struct ch_buf *b, size_t n)
{
	return b->cap - b->len >= n || ch_grow(b, n);
}

static inline void ch_put_u8(struct ch_buf *b, uint8_t v)
{
	if (ch_room(b, 1))
		b->p[b->len++] = v;
}

static inline void ch_put_u64(struct ch_buf *b, uint64_t v)
{
	if (!ch_room(b, 8))
		return;
	for (int i = 0; i < 8; i++)
		b->p[b->len + (size_t)i] = (unsigned char)(v >> (8 * i));
	b->len += 8;
}

static inline void ch_put_i64(struct ch_buf *b, int64_t v)
{
	ch_put_u64(b, (uint64_t)v);
}

static inline void ch_put_f64(struct ch_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	ch_put_u64(b, u);
}

static inline void ch_put_string(struct ch_buf *b, const void *s, size_t n)
{
	if (!ch_room(b, n + 10))
		return;
	size_t k = n;
	do {
		unsigned char c = (unsigned char)(k & 0x7f);
		k >>= 7;
		b->p[b->len++] = k ? (unsigned char)(c | 0x80) : c;
	} while (k);
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

#endif
