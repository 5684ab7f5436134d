/*
 * storeq.h - the store's rows written by a thread of their own.
 *
 * Inserting a row costs SQLite a few microseconds, as much as finding the
 * request it describes; on two cores the analysis should not wait for it.
 * A storeq copies each record (strings included) into one of a few large
 * blocks; a writer thread takes full blocks and inserts their records
 * through the store, in order.  Blocks travel whole, so the two threads
 * meet once per few thousand rows; memory is fixed.
 *
 * Producers push through lanes, one per producing thread (the analysis
 * workers, analyze.c): each lane fills a block of its own, so producers
 * meet each other and the writer only when a block changes hands.  Rows
 * of one lane keep their order; lanes interleave by whole blocks.
 * Unanswered attempts pushed by any lane are summed per key by the writer
 * (attempts.h), so a key makes one row however the lanes split it, and
 * become rows when that table is full and at each commit.
 *
 * The store must not be used by producers while the queue runs, except
 * for store_conn_next_id(), which any thread may call.  storeq_sync(),
 * once no lane is pushed any more, waits until every record is in the
 * store and committed; after it the caller may use the store directly
 * again (store_run_finish).
 */
#ifndef KALENS_STOREQ_H
#define KALENS_STOREQ_H

#include "records.h"
#include "store.h"

#include <stdint.h>

struct storeq;
struct storeq_lane;

/* Producers at most. */
#define STOREQ_MAX_LANES 64

/* Start the writer for `st` (borrowed; must outlive the queue), with
 * `lanes` producers (1..STOREQ_MAX_LANES) and room for `attempt_keys`
 * summed attempts.  Memory: a 1 MiB block per lane plus three.  NULL when
 * memory or a thread is not available. */
struct storeq *storeq_new(struct store *st, unsigned lanes, uint32_t attempt_keys);

/* Lane i (< lanes), owned by q; NULL past the last.  Each lane is used by
 * one thread at a time. */
struct storeq_lane *storeq_lane(struct storeq *q, unsigned i);

/* Queue one row; the record is copied.  0, or -1 once the writer has
 * failed (storeq_error() says why); rows after a failure are dropped. */
int storeq_conn(struct storeq_lane *l, const struct conn_record *c);
int storeq_request(struct storeq_lane *l, const struct request_record *r);
int storeq_finding(struct storeq_lane *l, const struct finding_record *f);
/* A sum of attempts (attempts_drain()): added to the writer's sums. */
int storeq_attempt(struct storeq_lane *l, const struct attempt_record *a);

/* Once no lane is pushed any more: wait until everything queued is stored
 * and committed.  0, or -1 if a row failed. */
int storeq_sync(struct storeq *q);

/* Hand what the lane queued to the writer now, even a part-filled block,
 * without waiting; when every lane has done so since the last commit, the
 * writer commits once it has stored them (live capture calls this every
 * few seconds from each producer, so readers see recent rows).  0, or -1
 * once the writer has failed. */
int storeq_flush(struct storeq_lane *l);

/* A live run's progress (store_run_progress) for the writer to write with
 * its next commit; a later call replaces one not yet written. */
void storeq_progress(struct storeq *q, const struct store_run_totals *t);

/* CPU seconds the writer thread has used, as of the last block or commit
 * it finished (after storeq_sync(): all of its work). */
double storeq_writer_cpu(struct storeq *q);

/* The first failure's message (from store_errmsg), or "". */
const char *storeq_error(const struct storeq *q);

/* Sync, stop the writer and free.  NULL is allowed. */
void storeq_free(struct storeq *q);

#endif
