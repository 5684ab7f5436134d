/*
 * dissect.h - the interface between reassembled streams and dissectors.
 *
 * A dissector is a static const vtable; its per-connection state is its
 * own (ctx_new/ctx_free).  The flow table offers the start of each payload
 * segment of a connection, either direction, to each dissector's probe() in
 * registry order, until one answers DISSECT_YES or DISSECT_PROBE_BUDGET
 * bytes went by (a capture may begin inside a message: a later segment can
 * still start one).  The first to answer DISSECT_YES owns the connection and from then on receives, per
 * direction and in stream order, exactly what reassembly produces: data
 * (borrowed for the call, usually straight from the packet), gaps (bytes
 * that will never come) and end of stream.  A connection no dissector
 * claims is stored with protocol "unknown" and costs nothing further.
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
 * DISSECT_MORE (a request line typed one byte per segment). */
#define DISSECT_PROBE_BYTES 16

/* Payload bytes of a connection (both directions) looked at before it is
 * left unclaimed ("unknown"). */
#define DISSECT_PROBE_BUDGET 8192u

/* Bytes of the scratch buffer every connection of a flow table shares
 * (dissect_conn_info.scratch): a TLS record's plaintext at most. */
#define DISSECT_SCRATCH_BYTES (1u << 15)

enum dissect_verdict { DISSECT_NO = 0, DISSECT_YES, DISSECT_MORE };

struct tls_keylog;

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
};

struct dissector {
	const char *name;             /* stored as connections.protocol */

	/* Look at the first n bytes (n <= DISSECT_PROBE_BYTES or the first
	 * segment, whichever is larger) sent in direction dir. */
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

	/* Write what it knows of the connection into its sections of `set`
	 * (facts.h), after eof in both directions and before ctx_free; `tcp`
	 * has the TCP facts (the close, for idle times).  NULL: none. */
	void (*facts)(const void *ctx, const struct conn_record *tcp, struct facts_set *set);
};

/* The built-in dissectors, NULL-terminated, in probe order. */
const struct dissector *const *dissect_builtin(void);

#endif
