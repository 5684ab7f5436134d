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
 * One producer thread (the analysis).  The store must not be used by the
 * producer while the queue runs, except for store_conn_next_id(), which
 * touches nothing the writer uses.  storeq_sync() waits until every record
 * pushed so far is in the store; after it the producer may use the store
 * directly again (store_run_finish).
 */
#ifndef KALENS_STOREQ_H
#define KALENS_STOREQ_H

#include "records.h"
#include "store.h"

struct storeq;

/* Start the writer for `st` (borrowed; must outlive the queue).  NULL when
 * memory or a thread is not available. */
struct storeq *storeq_new(struct store *st);

/* Queue one row; the record is copied.  0, or -1 once the writer has
 * failed (storeq_error() says why); rows after a failure are dropped. */
int storeq_conn(struct storeq *q, const struct conn_record *c);
int storeq_request(struct storeq *q, const struct request_record *r);
int storeq_finding(struct storeq *q, const struct finding_record *f);
int storeq_attempt(struct storeq *q, const struct attempt_record *a);

/* Wait until everything queued is stored.  0, or -1 if a row failed. */
int storeq_sync(struct storeq *q);

/* Hand what is queued to the writer now, even a part-filled block, and
 * have it commit once it has stored it, without waiting for either (live
 * capture calls this every few seconds, so readers see recent rows).  0,
 * or -1 once the writer has failed. */
int storeq_flush(struct storeq *q);

/* CPU seconds the writer thread has used, as of the last block or commit
 * it finished (after storeq_sync(): all of its work). */
double storeq_writer_cpu(struct storeq *q);

/* The first failure's message (from store_errmsg), or "". */
const char *storeq_error(const struct storeq *q);

/* Sync, stop the writer and free.  NULL is allowed. */
void storeq_free(struct storeq *q);

#endif
