/*
 * attempts.h - connection attempts nothing answered, added up.
 *
 * A connection whose every packet was the client's SYN (a server down or
 * filtered, a scan, a SYN flood) says only "this client tried this port,
 * this many times, then".  Stored as a row of `connections` each, a flood
 * of them costs the store a wide row per packet; here they are summed per
 * (client address, server address, server port), in a table of at most
 * `max_keys` sums, which the owner drains into the store when it is full,
 * when it commits (live capture) and at the end of the run.  A key drained
 * twice makes two rows, which queries add up (docs/schema.md).
 */
#ifndef KALENS_ATTEMPTS_H
#define KALENS_ATTEMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn_record.h"
#include "records.h"

struct attempts;

/* Caller owns the result; NULL when out of memory.  max_keys >= 1. */
struct attempts *attempts_new(uint32_t max_keys);
void attempts_free(struct attempts *a);          /* NULL allowed; drops what it holds */

/* Add the connection `rec` (rec->attempt_only) to its sum.  Returns true
 * when the table is full: drain it before the next add. */
bool attempts_add(struct attempts *a, const struct conn_record *rec);

/* Add the sum `r` (another table's, drained) to its key's sum.  Returns
 * like attempts_add(). */
bool attempts_merge(struct attempts *a, const struct attempt_record *r);

/* Hand every sum to emit(ctx, r), in the order their keys first came (r is
 * borrowed for the call), and empty the table.  Returns how many. */
size_t attempts_drain(struct attempts *a,
		      void (*emit)(void *ctx, const struct attempt_record *r), void *ctx);

#endif
