/*
 * tcp_reasm.h - TCP stream reassembly, both directions of one connection.
 *
 * The flow table embeds one struct tcp_reasm in each connection and feeds
 * it every segment; the reassembler turns sequence numbers into 64-bit
 * stream offsets (offset 0 is the first data byte: ISN+1 when the SYN was
 * seen, else the first sequence number seen in that direction) and calls a
 * sink with exactly one of three things per byte range, in order:
 *
 *   data(dir, p, n, off)  bytes [off, off+n) in order.  In-order segments
 *                         are delivered straight from the packet (zero
 *                         copy); `p` is borrowed for the call only.
 *   gap(dir, off, len)    bytes [off, off+len) will never be delivered:
 *                         capture loss, snaplen truncation, data before the
 *                         capture started being acknowledged, or
 *                         out-of-order data dropped over a memory cap.
 *   eof(dir)              nothing more will come in this direction (the
 *                         FIN was reached, an RST, or tcp_reasm_finish()).
 *
 * Policies (documented in docs/reassembly.md):
 *  - retransmitted bytes are dropped and counted; on overlap the first copy
 *    wins (what most stacks deliver);
 *  - out-of-order bytes are copied into a per-direction list, bounded by a
 *    per-connection cap (both directions together) and a global cap shared
 *    through a tcp_reasm_pool.  Memory is charged as the bytes held plus
 *    TCP_REASM_NODE_CHARGE per held piece (a segment, the part of one not
 *    already held, or the uncaptured tail of one), so a flood of one-byte
 *    segments is bounded too.  When a cap would be exceeded, the hole
 *    before the buffered data is declared a gap and delivery resumes (skip
 *    ahead, never stall);
 *  - an ACK that acknowledges bytes of the other direction which were
 *    never seen, while bytes after them (or that direction's FIN) were
 *    seen, proves they were lost from the capture: that hole becomes a gap
 *    at once instead of waiting for the cap (Zeek does the same).  An ACK
 *    ahead of everything seen is not enough: capture reordering between
 *    directions routinely shows the ACK before the data it acknowledges;
 *  - bytes before offset 0 (a mid-stream pickup) are never reported: the
 *    stream starts at the first byte seen, unless the other direction had
 *    already acknowledged less than that (its latest ACK before this
 *    direction's first segment, at most KL_REASM_START_GAP_MAX behind):
 *    a sender sends in order, so the bytes between were sent.  The stream
 *    then starts at the acknowledged byte and the bytes between are a hole
 *    like any other: filled if they come (capture reordering), a gap once
 *    an ACK proves them lost, so a dissector resyncs after it instead of
 *    reading the middle of a message as its start;
 *  - an RST delivers what its direction holds (holes become gaps) but does
 *    not end the stream: receivers ignore RSTs that are not exactly in
 *    window (RFC 5961 §3), and injected RSTs are followed by more data; the
 *    stream ends with the connection (tcp_reasm_finish).  The payload of an
 *    RST is ignored (RFC 9293 §3.10.7.4: diagnostic text at most);
 *  - bytes after a FIN, and segments after eof, are ignored (bytes of them
 *    at offsets already delivered still count as retransmitted);
 *  - a segment more than KL_REASM_MAX_JUMP bytes beyond the next expected
 *    offset is not buffered (it cannot belong to this stream); it is
 *    counted in `bad_seq_segments`;
 *  - sequence numbers wrap at 2^32; offsets never do.
 *
 * No allocation happens for in-order data.  Out-of-order segments are the
 * only copies; they are freed as soon as they are delivered.
 */
#ifndef KALENS_TCP_REASM_H
#define KALENS_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kl.h"

#define KL_REASM_MAX_JUMP (UINT64_C(1) << 30)
#define KL_REASM_START_GAP_MAX (UINT32_C(1) << 24)

/* Memory charged per buffered out-of-order segment, on top of its bytes. */
#define TCP_REASM_NODE_CHARGE 64

struct tcp_reasm_sink {
	void (*data)(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n,
		     uint64_t off, kl_time ts);
	void (*gap)(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len,
		    kl_time ts);
	void (*eof)(void *ctx, enum kl_dir dir, kl_time ts);
};

/* Shared memory budget for out-of-order bytes; one per analyzer. */
struct tcp_reasm_pool;

struct tcp_reasm_pool_stats {
	uint64_t bytes_buffered;      /* out-of-order memory charged now */
	uint64_t bytes_buffered_peak;
	uint64_t cap_hits;            /* times a cap forced a gap */
};

/* caller owns the result; NULL on allocation failure. */
struct tcp_reasm_pool *tcp_reasm_pool_new(size_t per_conn_cap, size_t global_cap);
void tcp_reasm_pool_free(struct tcp_reasm_pool *pool);
struct tcp_reasm_pool_stats tcp_reasm_pool_stats(const struct tcp_reasm_pool *pool);

/* One out-of-order segment copy; private to tcp_reasm.c. */
struct tcp_reasm_node;

/* Where one direction's stream starts: all that segments without payload,
 * FIN or RST (a handshake, bare ACKs) tell reassembly.  A connection that
 * never carries a byte needs only this much (the flow table keeps it in
 * every connection and builds a struct tcp_reasm when the first payload,
 * FIN or RST comes: tcp_reasm_origin_note, tcp_reasm_set_origin).  Fields
 * are private to tcp_reasm.c. */
struct tcp_reasm_origin {
	uint32_t isn;                 /* seq of offset 0, minus one */
	uint32_t peer_ack;            /* before it started: the other side's latest ACK of it */
	bool started, syn_seen, peer_ack_seen;
};

/* One direction.  Fields are private to tcp_reasm.c; read them through
 * tcp_reasm_half_stats(). */
struct tcp_reasm_half {
	struct tcp_reasm_origin o;
	uint64_t next_off;            /* next in-order offset expected */
	uint64_t fin_off;             /* offset of the FIN, when fin_seen */
	uint64_t ooo_charge;          /* memory charged for `ooo` */
	bool fin_seen, eof_sent;
	struct tcp_reasm_node *ooo;   /* sorted by offset, non-overlapping */
	struct tcp_reasm_node *ooo_tail;
	uint64_t gap_bytes, retrans_bytes, delivered_bytes;
	uint64_t bad_seq_segments;
};

struct tcp_reasm {
	struct tcp_reasm_half half[2];   /* indexed by enum kl_dir */
	struct tcp_reasm_pool *pool;
	const struct tcp_reasm_sink *sink;
	void *sink_ctx;
};

/* One TCP segment as decoded; `payload` is borrowed for the call. */
struct tcp_seg {
	uint32_t seq, ack;
	uint8_t flags;                /* KL_TCP_* from decode.h */
	const uint8_t *payload;
	uint32_t caplen;              /* payload bytes present */
	uint32_t len;                 /* payload bytes on the wire (>= caplen) */
};

struct tcp_reasm_half_stats {
	uint64_t gap_bytes;           /* bytes declared missing */
	uint64_t retrans_bytes;       /* payload bytes seen again and dropped */
	uint64_t delivered_bytes;     /* bytes given to sink->data */
	uint64_t bad_seq_segments;    /* segments far outside the stream */
	uint64_t ooo_bytes;           /* memory charged for out-of-order data now */
};

/* Initialise in place.  `pool`, `sink` and `sink_ctx` are borrowed and must
 * outlive r (until tcp_reasm_finish() or tcp_reasm_release()). */
void tcp_reasm_init(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
		    const struct tcp_reasm_sink *sink, void *sink_ctx);

/* Start from what a connection's bare segments told (o[dir], indexed by
 * enum kl_dir), before the first segment is pushed. */
void tcp_reasm_set_origin(struct tcp_reasm *r, const struct tcp_reasm_origin o[2]);

/* A segment in direction `dir` without payload, FIN or RST, of a
 * connection that has no struct tcp_reasm yet: recorded in o[] exactly as
 * tcp_reasm_push() would (zero-length segments deliver nothing, so only
 * where each direction starts is kept).  o[] starts zeroed. */
void tcp_reasm_origin_note(struct tcp_reasm_origin o[2], enum kl_dir dir,
			   const struct tcp_seg *seg);

/* Feed one segment travelling in direction `dir`.  Handles SYN (sets the
 * ISN), FIN, RST (flushes `dir` with gaps, then eof), payload, and the
 * ACK field (which acknowledges the opposite direction). */
void tcp_reasm_push(struct tcp_reasm *r, enum kl_dir dir,
		    const struct tcp_seg *seg, kl_time ts);

/* The connection is over: deliver what is buffered in both directions,
 * with gaps for holes (including missing bytes before a FIN), then eof for
 * each direction that has not had one.  Frees all buffered memory. */
void tcp_reasm_finish(struct tcp_reasm *r, kl_time ts);

/* Free buffered memory without calling the sink (error paths). */
void tcp_reasm_release(struct tcp_reasm *r);

/* Exchange the two directions (roles were guessed wrong before any data
 * was delivered).  Offsets and statistics move with their bytes. */
void tcp_reasm_swap(struct tcp_reasm *r);

/* Does r hold out-of-order data (which an ACK may release to the sink)? */
bool tcp_reasm_holds(const struct tcp_reasm *r);

struct tcp_reasm_half_stats tcp_reasm_half_stats(const struct tcp_reasm *r,
						 enum kl_dir dir);

#endif
