/*
 * store.h - the SQLite store: schema, runs and connections.
 *
 * One database holds any number of runs; a run is one capture file (or one
 * live capture).  A run row is inserted and committed before any of its
 * data, then connections are inserted through prepared statements in
 * batched transactions (every STORE_BATCH_ROWS rows, or store_flush()).
 * A run that stops early (signal, error, truncated file) keeps everything
 * committed so far and says so in runs.status.  Nothing ever deletes or
 * rewrites an earlier run.  The schema is documented in docs/schema.md;
 * PRAGMA user_version holds STORE_SCHEMA_VERSION.
 */
#ifndef KALENS_STORE_H
#define KALENS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "columns.h"
#include "conn_record.h"
#include "facts.h"
#include "kl.h"
#include "records.h"

#define STORE_SCHEMA_VERSION 6   /* 1 to 5 are upgraded in place (store.c) */
#define STORE_BATCH_ROWS 4096

struct store;

/* The stored tables as declared (columns.h): runs, connections (the TCP
 * columns, then each fact section's), requests, findings, attempts.  For
 * the store itself, `kalens schema`, shipping and the docs test. */
enum store_table {
	STORE_T_RUNS, STORE_T_CONNECTIONS, STORE_T_REQUESTS, STORE_T_FINDINGS, STORE_T_ATTEMPTS,
	STORE_TABLES
};
struct store_decls {
	struct column_list runs, requests, findings, attempts;
	struct column_list conn_parts[1 + FACTS_COUNT];
	struct table_decl tables[STORE_TABLES];
};
void store_decls_init(struct store_decls *d);

/* The declaration of column `name` of table `table`, or NULL. */
const struct column *store_decl_column(const struct store_decls *d, const char *table,
				       const char *name);

/* The record of what was shipped where (ship.h, docs/fleet.md): made with
 * the schema, and by kalens ship in a database made before it. */
extern const char store_ship_sql[];

/* The SQLite schema kalens creates (tables, indexes, views) to `out`.
 * 0, or -1 when out of memory. */
int store_schema_sql(FILE *out);

/* How a run ended, stored in runs.status. */
enum store_run_status {
	STORE_RUN_RUNNING = 0,   /* not finished: still going, or the process died */
	STORE_RUN_COMPLETE,      /* read to the end */
	STORE_RUN_TRUNCATED,     /* the capture file ended mid-record; what was read is kept */
	STORE_RUN_INTERRUPTED,   /* stopped by SIGINT/SIGTERM */
	STORE_RUN_ERROR,         /* stopped by a read error; runs.message says which */
};

struct store_run_info {
	const char *source;           /* file path or interface name; copied */
	const char *source_kind;      /* "file" or "live" */
	const char *filter;           /* BPF filter or NULL */
	int link_type;                /* DLT_* */
	const char *link_type_name;   /* e.g. "EN10MB" */
	const char *sensor;           /* the sensor's name (runs.sensor); NULL: the host name */
	kl_time started_at;           /* wall clock when the run began */
	unsigned threads;             /* analysis workers (runs.threads); 0 is taken as 1 */
};

struct store_run_totals {
	kl_time finished_at;          /* wall clock */
	uint64_t packets, bytes;      /* frames read and their wire bytes */
	uint64_t packets_dropped;     /* by the kernel (live) or 0 */
	int64_t packets_received;     /* live: the kernel's count (pcap_stats); -1: not live */
	uint64_t packets_not_tcp, packets_fragment, packets_truncated, packets_malformed;
	uint64_t packets_encrypted;   /* protected 802.11 data frames */
	uint64_t packets_unsupported; /* an encapsulation kalens does not read */
	uint64_t fragments_reassembled, fragments_dropped;   /* IP fragments (ipfrag.h) */
	uint64_t connections;
	uint64_t reasm_cap_hits;      /* times a reassembly memory cap forced a gap */
	uint64_t connections_evicted; /* removed for the connection cap */
	uint64_t memcap;              /* the memory cap (flow.h); 0: none */
	uint64_t memory_peak;         /* analysis state at most, bytes */
	uint64_t connections_evicted_memory;   /* removed for the memory cap */
	uint64_t memory_shed;         /* bytes those evictions freed */
	double cpu_read_s;            /* CPU seconds of the reading thread (decode; the analysis when inline) */
	double cpu_store_s;           /* ... of the store's writer thread */
	double cpu_workers_s;         /* ... of the analysis workers together (0: inline) */
	kl_time updated_at;           /* wall clock of this write (a live run's progress, the end) */
	uint64_t connections_open;    /* followed now (a live run's progress); 0 at the end */
	uint64_t requests, findings;  /* rows of the run in requests / findings */
	kl_time first_packet, last_packet; /* earliest and latest packet time, 0 when none */
	uint64_t packets_time_backwards;   /* packets earlier than the packet before */
	enum store_run_status status;
	const char *message;          /* NULL, or why it stopped (copied) */
};

/* A random (version 4, RFC 9562) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx",
 * into buf (at least 37 bytes).  0, or -1 when no random bytes came. */
int store_uuid4(char *buf, size_t len);

/* This machine's name (the default sensor name, and a run's writer): the
 * host name up to its first space, "unknown" when there is none; into buf,
 * which it returns. */
const char *store_host_name(char *buf, size_t len);

/* Is the process a runs.writer text names still running?  1 yes; 0 it
 * ended (or its pid was reused, or the machine rebooted); -1 cannot tell
 * (another host, or no such text). */
int store_writer_alive(const char *writer);

/* Open or create the database at `path` (WAL, schema created or checked).
 * On failure returns NULL and writes a message naming the file into err. */
struct store *store_open(const char *path, char *err, size_t errlen);

/* Insert the run row and commit it; later calls belong to this run.
 * Returns the run id (> 0) or -1. */
int64_t store_run_begin(struct store *s, const struct store_run_info *info);

/* Add one connection to the current run (inside the open batch). 0 or -1. */
int store_conn_add(struct store *s, const struct conn_record *c);

/* The id the next connection of the current run will be stored under
 * (conn_record.id); connections are numbered when they begin.  Any thread
 * may call it while a storeq writes (an atomic counter). */
int64_t store_conn_next_id(struct store *s);

/* Add one request / finding of the current run (inside the open batch).
 * 0 or -1. */
int store_request_add(struct store *s, const struct request_record *r);
/* Add n requests at once (the fast path: STORE_REQUEST_ROWS rows per
 * statement, the rest one by one).  A statement execution per row costs
 * SQLite more than the row itself. */
#define STORE_REQUEST_ROWS 32
int store_requests_add(struct store *s, const struct request_record *r, size_t n);
int store_finding_add(struct store *s, const struct finding_record *f);
/* Add one sum of unanswered attempts (attempts.h). 0 or -1. */
int store_attempt_add(struct store *s, const struct attempt_record *a);

/* Commit the open batch now (live capture calls this every few seconds). */
int store_flush(struct store *s);

/* The findings that compare connections of the current run with each other
 * (docs/keepalive.md, "Findings across connections"): short-lived-connection
 * (the next connection of the same client to the same server began within
 * the server's advertised Keep-Alive timeout, else `window_s`, of this
 * one-request connection's end) and retried-request (the request of an
 * idle-close-race sent again, as the first request of a connection of the
 * same client to the same server, within `window_s`).  Run once every row
 * of the run is stored; adds the rows to the run and their number to
 * *added.  0, or -1 (store_errmsg). */
int store_cross_findings(struct store *s, double window_s, uint64_t *added);

/* A live run's progress, inside the open batch (committed with it): the
 * runs columns declared COL_LIVE (packets, connections so far,
 * updated_at, ...) from t; the status stays 'running'.  0 or -1. */
int store_run_progress(struct store *s, const struct store_run_totals *t);

/* Commit the open batch and record the run's totals and status. 0 or -1. */
int store_run_finish(struct store *s, const struct store_run_totals *t);

/* The last error, with context ("insert connection: disk I/O error"). */
const char *store_errmsg(const struct store *s);

/* Commit what is open and close the database.  NULL is allowed. */
void store_close(struct store *s);

/* A read-only connection for report and sql: opened with
 * SQLITE_OPEN_READONLY (never created, nothing written), and closed
 * leaving the directory as it was: the -wal and -shm files a reader of a
 * WAL database makes (SQLite needs them to read) are removed again when
 * they were not there before and no other connection uses them. */
struct sqlite3;
struct store_reader {
	struct sqlite3 *db;
	bool side_files;              /* -wal or -shm existed before the open */
};

/* 0, or -1 with a message naming the file in err (r->db may then be set:
 * store_reader_close() it all the same). */
int store_reader_open(struct store_reader *r, const char *path, char *err, size_t errlen);

/* Close (every statement must be finalized).  r->db NULL is allowed. */
void store_reader_close(struct store_reader *r);

#endif
