/*
 * flow.h - the connection table: TCP segments in, connection records out.
 *
 * flow_table_packet() finds the connection of a decoded segment (a hash on
 * the canonical 5-tuple and the tunnel it came in, open addressing, no
 * allocation per packet), keeps
 * its lifecycle (handshake, FIN/RST from either side, port reuse), feeds
 * its reassembler, and hands reassembled bytes to the dissector that
 * claimed it.  A connection ends when:
 *   - it closed (RST, or FIN both ways) and `closed_linger` passed with no
 *     packet (trailing ACKs stay with the connection they belong to);
 *   - a new SYN arrives on its 5-tuple with another ISN, or a segment far
 *     outside its sequence space arrives after it closed (port reuse);
 *   - no packet came for `idle_timeout` (close_kind 'idle');
 *   - the table is full, or the analysis state reached `memcap`, and it is
 *     the first to go by the eviction policy below (close_kind 'evicted',
 *     counted);
 *   - flow_table_flush() at the end of the input (close_kind as seen, or
 *     'open').
 * Each ending produces one struct conn_record through hooks->conn_done.
 *
 * Roles: the client is the sender of the SYN; without one, the receiver of
 * the SYN-ACK; without either, the endpoint with the higher port (the
 * server usually has the well-known, lower one; on a tie, the destination
 * of the first packet seen is the server).
 *
 * Tunnels: a connection is keyed by its inner 5-tuple plus the domain of
 * the innermost tunnel its packets came in (encap.h), so equal 5-tuples
 * mirrored from different hosts stay apart.  The two directions of one
 * connection may come in different tunnels (each mirrored at its own
 * port): a packet that finds no connection in its own tunnel joins the
 * one, in another tunnel, with the same 5-tuple that has so far seen only
 * the opposite direction, when its acknowledgment number fits what that
 * direction sent (within 2^24; an exact match for a SYN-ACK).  From then
 * on both tunnels lead to it.
 *
 * Memory (docs/memory.md): every connection's state is accounted as it
 * changes: its record, the index, its stream part, what reassembly holds
 * out of order, and what each layer's dissector says it holds (its mem
 * hook, read after every segment).  When the total passes `memcap`,
 * connections are evicted until it is 1/8 below: first those already
 * closed (lingering), then those that have seen one direction only (SYNs
 * nothing answered, half-open, one-sided), then the others; least
 * recently active first within each.
 *
 * Time comes only from packet timestamps, so a file reads the same at any
 * speed.
 */
#ifndef KALENS_FLOW_H
#define KALENS_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "conn_record.h"
#include "decode.h"
#include "dissect.h"
#include "kl.h"
#include "records.h"

/* What one tracked connection costs at most before it carries a byte (its
 * record; the index adds 8 to 32 bytes).  Its first payload, FIN or RST
 * adds the reassembler and dissector stack (struct conn_stream, ~450
 * bytes), and what the dissector that claims it holds. */
#define FLOW_CONN_BYTES 216

/* Packet time between two expiry passes of flow_table_packet(). */
#define FLOW_EXPIRE_EVERY KL_NS_PER_SEC

/* Live capture's default closed_linger, in seconds: a closed connection is
 * stored this soon after its close (files: 10 s, flow_config_defaults). */
#define FLOW_LIVE_LINGER_S 2

/* The default memory cap: a small sensor's. */
#define FLOW_MEMCAP_DEFAULT ((size_t)256 << 20)

struct flow_config {
	kl_time idle_timeout;         /* default 900 s */
	kl_time closed_linger;        /* default 10 s */
	uint32_t max_conns;           /* default 1 << 20 tracked at once */
	size_t memcap;                /* analysis state at most, bytes; default FLOW_MEMCAP_DEFAULT, 0: none */
	uint32_t max_tunnels;         /* tunnel identities told apart; default 1 << 16 (encap.h) */
	size_t reasm_conn_cap;        /* default 1 MiB out-of-order per connection */
	size_t reasm_global_cap;      /* default 256 MiB out-of-order in all */
	const struct dissector *const *dissectors;  /* NULL-terminated; NULL: none */
	size_t head_limit;            /* message head limit for dissectors; 0: their default */
	struct tls_keylog *keylog;    /* TLS secrets for dissectors, or NULL; borrowed */
	/* flow_table_packet() leaves expiry to the caller, who calls
	 * flow_table_expire() as its own clock says (analysis workers: the
	 * reading thread's clock over all packets, so a table that sees some
	 * of them ends connections when one table of all would). */
	bool expire_by_caller;
};

void flow_config_defaults(struct flow_config *cfg);

struct flow_hooks {
	/* A connection ended; `rec` is borrowed for the call. */
	void (*conn_done)(void *ctx, const struct conn_record *rec);
	/* A connection began: its id (conn_record.id, request records).
	 * NULL: ids are 0. */
	int64_t (*conn_id)(void *ctx);
	void *ctx;
	/* Where dissectors send requests and findings; NULL: nowhere. */
	const struct dissect_output *out;
};

struct flow_stats {
	uint64_t conns_open;          /* tracked now */
	uint64_t conns_total;         /* created so far */
	uint64_t streams;             /* of them, ones that carried a payload, FIN or RST (or came in a tunnel) */
	uint64_t conns_evicted;       /* ended because the table was full (max_conns) */
	uint64_t conns_evicted_memory;   /* ended because the state reached memcap */
	uint64_t memory_shed;         /* bytes of state those evictions freed */
	uint64_t memory;              /* bytes of state accounted now */
	uint64_t memory_peak;         /* ... at most, so far */
	uint64_t conns_port_reused;   /* ended by a new connection on their 5-tuple */
	uint64_t conns_paired;        /* directions joined across two tunnels */
	uint64_t tunnels_overflow;    /* packets in a tunnel past max_tunnels */
	uint64_t reasm_cap_hits;
	uint64_t reasm_bytes_peak;
};

/* Caller owns the table; `cfg` is copied, `hooks` is copied. NULL with a
 * message in err on failure. */
struct flow_table *flow_table_new(const struct flow_config *cfg,
				  const struct flow_hooks *hooks,
				  char *err, size_t errlen);

/* One decoded TCP segment captured at `ts`.  d->payload is borrowed for
 * the call. */
void flow_table_packet(struct flow_table *ft, const struct decode_tcp *d, kl_time ts);

/* End connections idle (or closed) long enough as of `now`.  Called by
 * flow_table_packet() each time packet time has advanced a second since
 * the last call (unless cfg.expire_by_caller); live capture calls it on
 * timer ticks too. */
void flow_table_expire(struct flow_table *ft, kl_time now);

/* End every connection (end of input): each produces its record. */
void flow_table_flush(struct flow_table *ft);

struct flow_stats flow_table_stats(const struct flow_table *ft);

void flow_table_free(struct flow_table *ft);   /* NULL allowed; ends nothing */

#endif
