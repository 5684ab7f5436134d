/*
 * export.h - what a database holds, in formats other tools read
 * (`kalens export`).  Both read the documented tables, so they work on any
 * run of any database kalens wrote.
 *
 *   HAR 1.2 (browser developer tools, HAR viewers): one entry per request,
 *   in start order, with the timings a browser would write (connect and
 *   ssl on a connection's first request only, as browsers do; send, wait,
 *   receive from the packets) and `connection`, the connection's id; the
 *   headers kalens keeps (Host, Connection, Keep-Alive, Proxy-Connection,
 *   Upgrade), not the others, and no bodies.
 *
 *   NDJSON (log pipelines: Elastic/OpenSearch, Splunk, Kafka, jq): one JSON
 *   object per line, "type": "run", "connection", "request", "finding" or
 *   "attempts", every column of its row by name, capture and wall times
 *   (columns declared "s, epoch") as ISO 8601 UTC strings; written row by
 *   row as SQLite returns them, so memory does not grow with the database.
 */
#ifndef KALENS_EXPORT_H
#define KALENS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

enum export_format { EXPORT_HAR, EXPORT_NDJSON };

/* Write run `run` (0: every run) of the database at db_path (opened
 * read-only) to out.  0, or -1 with a message in err. */
int export_write(const char *db_path, int64_t run, enum export_format fmt, FILE *out, char *err,
		 size_t errlen);

#endif
