/*
 * ship.h - copy a kalens database into ClickHouse over its HTTP interface.
 *
 * The SQLite database stays the durable record; shipping sends what it
 * holds that the destination has not had yet, oldest first, in large
 * gzip-compressed TabSeparated inserts, and writes down in the database
 * (tables ship_progress and ship_runs, docs/fleet.md) how far each table
 * has gone, after the server accepted each insert.  A shipment cut short
 * (the server down, kalens killed) leaves the record where the last
 * accepted insert was; the next one sends from there.  An insert the
 * server stored but kalens did not get to record is sent again: its rows
 * have the keys they had (clickhouse.h), and ReplacingMergeTree keeps one.
 */
#ifndef KALENS_SHIP_H
#define KALENS_SHIP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct ship_options {
	const char *sensor;           /* for runs made before runs.sensor; NULL: the host name */
	size_t batch_rows;            /* rows per insert at most; 0: the default */
	const char *cacert;           /* CA bundle for https://; NULL: the system's */
	volatile sig_atomic_t *stop;  /* set to stop after the insert under way; may be NULL */
};

struct ship_stats {
	uint64_t rows[STORE_TABLES];  /* sent, by table (enum store_table) */
	uint64_t inserts;             /* HTTP inserts accepted */
	uint64_t bytes;               /* compressed bytes sent */
};

/* "1 runs, 5 connections, 9 requests, 0 findings, 0 attempts": rows sent,
 * by table, into buf, which it returns. */
const char *ship_rows_text(const struct ship_stats *st, char *buf, size_t len);

/* "libcurl/7.88.1 OpenSSL/3.0..." (loading libcurl), or NULL when it
 * cannot be loaded. */
const char *ship_curl_version(void);

/* The destination as it is recorded and printed: the URL without
 * credentials (user:password@, password= and user= parameters), into
 * buf.  NULL when url is not http:// or https://. */
const char *ship_destination(const char *url, char *buf, size_t len);

/* Ship the database at db_path to url (http[s]://host:port/?database=DB;
 * credentials in the URL or in KALENS_CLICKHOUSE_USER and
 * KALENS_CLICKHOUSE_PASSWORD, never printed).  0, or -1 with a message in
 * err naming the destination and the reason. */
int ship_database(const char *db_path, const char *url, const struct ship_options *o,
		  struct ship_stats *st, char *err, size_t errlen);

/* ---- shipping while kalens reads or captures ----------------------------------
 *
 * A thread of its own ships the database every `interval` seconds while
 * the run goes on (live: rows reach ClickHouse a few seconds after they
 * are committed).  When the server is down or slow, nothing waits for it:
 * rows stay in the database, the error is said once on stderr (and again
 * when it changes), and the next pass sends them. */
struct ship_bg;

/* Start it; NULL when the thread could not be made (err says why).  The
 * strings and o are borrowed until ship_bg_stop(). */
struct ship_bg *ship_bg_start(const char *db_path, const char *url, const struct ship_options *o,
			      double interval, char *err, size_t errlen);

/* A last pass, for at most `wait` seconds (then rows wait for the next
 * `kalens ship`), and the end of the thread.  Sums what every pass sent
 * into *total.  0 when everything was shipped; -1 with the last error in
 * err otherwise. */
int ship_bg_stop(struct ship_bg *b, double wait, struct ship_stats *total, char *err,
		 size_t errlen);

#endif
