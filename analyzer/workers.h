/*
 * workers.h - the flow stage of the data path (flow table, reassembly,
 * dissectors, keep-alive analysis, rows to the storeq) on one thread or
 * on several.
 *
 * With one worker it runs in the caller's thread, segment by segment,
 * with no copy.  With N > 1 the caller (the reading thread, which decoded
 * the packet) copies each TCP segment into a batch for the worker its
 * connection hashes to; each worker thread owns a flow table with its
 * reassembly and dissectors, a copy of the TLS key log, sums of
 * unanswered attempts, and a lane of the storeq.  The hash is of the
 * connection's two endpoints and not of its tunnel: the two directions of
 * one connection mirrored in two tunnels must meet in one table (flow.h).
 *
 * Expiry follows one clock, the caller's: every FLOW_EXPIRE_EVERY of TCP
 * packet time (and at each live tick) every worker is told the time, in
 * order with its segments, so each ends a connection exactly when one
 * table of all the packets would.  The rows stored are therefore the same
 * for any N except for ids and connections.stored_seq (the order rows
 * reached the store) and for what limits shed: --memcap, --max-conns and
 * the reassembly caps are split evenly across workers, so which
 * connections an eviction picks depends on N.
 *
 * Memory per worker thread: WORKERS_BATCHES batches of WORKERS_BATCH_BYTES
 * (4 MiB), its flow table (within its share of the memcap), and a 1 MiB
 * storeq block.
 */
#ifndef KALENS_WORKERS_H
#define KALENS_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "keepalive.h"
#include "store.h"
#include "storeq.h"

/* Worker threads at most (--threads). */
#define WORKERS_MAX 64

/* Each worker thread's ring of segment batches: 8 x 512 KiB.  A batch
 * carries a few hundred full-size segments, so the reader and a worker
 * meet rarely, and it stays small enough to be read back from cache. */
#define WORKERS_BATCHES 8
#define WORKERS_BATCH_BYTES ((size_t)512 << 10)

/* Sums of unanswered attempts a worker holds before it hands them to
 * the store (attempts.h): about 1 MiB. */
#define WORKERS_ATTEMPT_KEYS 16384u

struct workers_config {
	unsigned threads;             /* workers, 1..WORKERS_MAX; 1: the caller's thread */
	const struct flow_config *flow;   /* copied; its limits are split across workers */
	const struct keepalive_config *keepalive;   /* borrowed; outlives the workers */
	struct store *st;             /* borrowed: connection ids only (store_conn_next_id) */
	struct storeq *q;             /* borrowed: worker i pushes through lane i */
};

struct workers_totals {
	uint64_t connections, requests, findings;   /* stored (attempts aside) */
	uint64_t conns_open;          /* tracked now */
	struct flow_stats flow;       /* summed over workers, after workers_finish() */
	double cpu;                   /* the worker threads' CPU seconds (0 when inline) */
};

struct workers;

/* Start the workers.  NULL with a message in err. */
struct workers *workers_new(const struct workers_config *c, char *err, size_t errlen);

/* One decoded TCP segment captured at `ts`; d and its payload are
 * borrowed for the call (copied when a thread takes it). */
void workers_packet(struct workers *w, const struct decode_tcp *d, kl_time ts);

/* Live: the wall clock says `now` (no packet may come): connections idle
 * or lingering long enough end, as flow_table_expire(). */
void workers_expire(struct workers *w, kl_time now);

/* Live: each worker hands its attempts and its rows to the store, which
 * commits once all have (storeq_flush); segments waiting in part-filled
 * batches go to their workers. */
void workers_commit(struct workers *w);

/* Live: segments waiting in part-filled batches go to their workers now
 * (a quiet interface still sees its connections end). */
void workers_kick(struct workers *w);

/* A worker's row could not be queued: the store failed (storeq_error). */
bool workers_failed(const struct workers *w);

/* End every connection (end of input), hand every attempt to the store and
 * stop the threads.  The caller then storeq_sync()s. */
void workers_finish(struct workers *w);

/* Totals so far: while running, connections, requests, findings and
 * conns_open as of each worker's last batch (the live status line and
 * progress); exact after workers_finish(). */
struct workers_totals workers_totals(struct workers *w);

/* NULL allowed; threads still running end their connections first, as
 * in workers_finish(). */
void workers_free(struct workers *w);

#endif
