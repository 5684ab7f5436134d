/*
 * dissect.h - the interface between reassembled streams and dissectors.
 *
 * A dissector is a static const vtable; its per-connection state is its
 * own (ctx_new/ctx_free).  The flow table offers the start of each payload
 * segment of a connection, either direction, to each dissector's probe() in
 * registry order, until one answers DISSECT_YES or DISSECT_PROBE_BUDGET
 * bytes went by in each direction (a capture may begin inside a message: a
 * later segment can still start one, and a direction past its budget does
 * not stop the other's).  The first to answer DISSECT_YES owns the connection and from then on receives, per
 * direction and in stream order, exactly what reassembly produces: data
 * (borrowed for the call, usually straight from the packet), gaps (bytes
 * that will never come) and end of stream.  A connection no dissector
 * claims is stored with protocol "unknown" and costs nothing further.
 *
 * Stacking belongs to the flow layer.  A dissector that finds another
 * protocol inside its own never creates or drives the next dissector: it
 * tells the flow layer, through the struct dissect_link it was given,
 *  - that from a stream offset on, a direction of its input is someone
 *    else's (dissect_handover: an HTTP CONNECT tunnel, a SOCKS handshake
 *    done, STARTTLS accepted, an h2c or websocket upgrade), or
 *  - that it produces a new stream (dissect_up_*: TLS plaintext).
 * The flow layer then probes that stream with the same registry (or hands
 * it to the dissector named) and feeds the layer above, up to
 * DISSECT_MAX_LAYERS deep.  Each layer writes its own facts at the end,
 * outermost first.
 */
#ifndef KALENS_DISSECT_H
#define KALENS_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn_record.h"
#include "facts.h"
#include "kl.h"
#include "records.h"

/* Bytes of each direction kept for probing while a dissector answers
 * DISSECT_MORE (a request line typed one byte per segment), and the most
 * a probe is given once they are joined: a whole HTTP/1 request-line as
 * most are, which is the longest start a probe needs (http1_evidence).  A
 * probe shown at least this many bytes sees no more of that start: it
 * must answer DISSECT_YES or DISSECT_NO (DISSECT_MORE counts as no). The
 * buffer is allocated only while a probe waits for more. */
#define DISSECT_PROBE_BYTES 512

/* Payload bytes of each direction of a connection looked at before it is
 * no longer offered; when both are past it the connection is left
 * unclaimed ("unknown"). */
#define DISSECT_PROBE_BUDGET 8192u

/* Bytes of the scratch buffer every connection of a flow table shares
 * (dissect_conn_info.scratch): a TLS record's plaintext at most. */
#define DISSECT_SCRATCH_BYTES (1u << 15)

/* Layers one connection may stack (e.g. HTTP CONNECT, TLS, HTTP CONNECT,
 * TLS, HTTP); a deeper one is a finding and is not read. */
#define DISSECT_MAX_LAYERS 6

enum dissect_verdict { DISSECT_NO = 0, DISSECT_YES, DISSECT_MORE };

struct tls_keylog;
struct dissector;
struct request_record;

/* The flow layer's handle of one layer of one connection; valid for the
 * connection's life. */
struct dissect_link;

/* What a dissector learns about its connection when it is created. */
struct dissect_conn_info {
	uint8_t ip_version;
	const uint8_t *client_ip, *server_ip;   /* 16 bytes each; borrowed for ctx_new() */
	uint16_t client_port, server_port;
	kl_time first_seen;
	int64_t conn_id;                        /* for the records it emits */
	size_t head_limit;                      /* longest message head to gather; 0: default */
	const struct dissect_output *out;       /* borrowed; outlives the ctx */
	/* TLS secrets (tls_keylog.h), or NULL; borrowed, outlives the ctx.
	 * Not const: the TLS dissector reads lines appended to the file when
	 * a connection's keys are not in it yet (live capture). */
	struct tls_keylog *keylog;
	/* DISSECT_SCRATCH_BYTES bytes shared by all connections of the table
	 * (one thread): usable during one data/gap/eof call, contents not kept
	 * from one call to the next; NULL when there is none. */
	uint8_t *scratch;
	/* This layer's handle, for stacking (below). */
	struct dissect_link *link;
	/* Requests the layers below numbered on the connection: this one's
	 * request rows continue after them. */
	uint64_t seq_base;
	/* Set when the layer below switched protocols with a request (an h2c
	 * upgrade): that request, which the new protocol continues (HTTP/2
	 * stream 1).  Borrowed for ctx_new(); NULL otherwise. */
	const struct request_record *upgrade;
};

struct dissector {
	const char *name;             /* stored as connections.protocol */

	/* Look at the first n bytes (n <= DISSECT_PROBE_BYTES or the first
	 * segment, whichever is larger) sent in direction dir.  DISSECT_MORE
	 * asks for the next segment's bytes joined to these; with
	 * n >= DISSECT_PROBE_BYTES there are no more to come, and it is
	 * taken as DISSECT_NO. */
	enum dissect_verdict (*probe)(enum kl_dir dir, const uint8_t *p, size_t n);

	/* Per-connection state; caller owns the result and frees it with
	 * ctx_free().  NULL means out of memory: the connection stays unknown. */
	void *(*ctx_new)(const struct dissect_conn_info *info);
	void (*ctx_free)(void *ctx);

	/* Stream events, as in tcp_reasm.h. */
	void (*data)(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n,
		     uint64_t off, kl_time ts);
	void (*gap)(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts);
	void (*eof)(void *ctx, enum kl_dir dir, kl_time ts);

	/* The name to store when the dissector refines it per connection
	 * (e.g. "http/1.0"); NULL to use `name`.  Static storage. */
	const char *(*protocol)(const void *ctx);

	/* Bytes the ctx holds now: itself and every buffer it owns (their
	 * allocated sizes).  Read by the flow layer after each segment, for
	 * the memory cap (flow.h).  NULL: nothing beyond what it counts in
	 * ctx_new's allocation is known (counted as 0). */
	size_t (*mem)(const void *ctx);

	/* Write what it knows of the connection into its sections of `set`
	 * (facts.h), after eof in both directions and before ctx_free; `tcp`
	 * has the TCP facts (the close, for idle times).  NULL: none. */
	void (*facts)(const void *ctx, const struct conn_record *tcp, struct facts_set *set);
};

/* The built-in dissectors, NULL-terminated, in probe order. */
const struct dissector *const *dissect_builtin(void);

/* ---- stacking (implemented by the flow layer, flow.c) -------------------- */

enum dissect_next {
	DISSECT_NEXT_PROBE = 0,       /* whatever the registry recognises */
	DISSECT_NEXT_NAMED,           /* the dissector named */
	DISSECT_NEXT_NONE,            /* nothing kalens reads (websocket) */
};

struct dissect_handover {
	enum dissect_next next;
	const struct dissector *named;          /* with DISSECT_NEXT_NAMED */
	uint64_t requests;                      /* request rows this layer numbered */
	const struct request_record *upgrade;   /* see dissect_conn_info.upgrade; borrowed */
	/* Bytes of this direction past `off` that this layer already received
	 * and held back (a client that sent into the tunnel before it was
	 * accepted): they go first; `lost` more were not kept (a gap). */
	const uint8_t *held;
	size_t held_len;
	uint64_t lost;
	/* The layer above makes a stream (TLS after STARTTLS) that carries
	 * the same application protocol kalens does not read: not probed. */
	bool above_opaque;
};

/* From offset `off` of direction dir of this layer's input on, the bytes
 * belong to the layer above (made on the first call of either direction,
 * from h; h of a second call is read for held/lost only).  The layer gets
 * nothing more of that direction; an offset inside the piece being
 * delivered splits it.  Called at most once per direction. */
void dissect_handover(struct dissect_link *l, enum kl_dir dir, uint64_t off,
		      const struct dissect_handover *h, kl_time ts);

/* A stream this layer makes (TLS plaintext), to the layer above: its
 * bytes, gaps and, per direction, its end.  Offsets are the new stream's.
 * dissect_up_bind() names the dissector before the first byte (ALPN h2);
 * else the first bytes are probed. */
void dissect_up_bind(struct dissect_link *l, const struct dissector *d);
void dissect_up_data(struct dissect_link *l, enum kl_dir dir, const uint8_t *p, size_t n,
		     uint64_t off, kl_time ts);
void dissect_up_gap(struct dissect_link *l, enum kl_dir dir, uint64_t off, uint64_t len,
		    kl_time ts);

/* The sender of direction dir ended its side in this layer's protocol at
 * ts (TLS: close_notify, or a fatal alert).  The flow layer takes the
 * first such notice of a connection that comes before any FIN or RST as
 * the start of its close: close_initiator and close_ts (conn_record.h).
 * `how` names it for people ("TLS close_notify"); static storage. */
void dissect_closing(struct dissect_link *l, enum kl_dir dir, kl_time ts, const char *how);



#endif
