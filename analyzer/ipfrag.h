/*
 * ipfrag.h - IPv4 and IPv6 fragment reassembly.
 *
 * The decoder calls ipfrag_push() for every fragment it meets (IPv4: MF
 * set or a fragment offset; IPv6: a Fragment header with an offset or M
 * set), describing it in a struct ipfrag_piece that points into the frame.
 * When a piece completes its datagram, the push returns IPFRAG_DONE and a
 * struct ipfrag_datagram: the reassembled upper-layer payload (what
 * follows the IPv4 header, or the IPv6 Fragment header) and its protocol
 * number, from which the decoder goes on (TCP, UDP, or for IPv6 more
 * extension headers).
 *
 * Policies (documented in docs/reassembly.md, "IP fragments"):
 *  - key: IP version, source, destination, identification, protocol and
 *    the caller's `context` (e.g. the tunnel the packet came through), in
 *    a hash table with a random seed, so crafted ids cannot collide;
 *  - overlaps: the first copy wins, as in tcp_reasm: bytes already held
 *    are never changed; a piece adding no new byte is a duplicate; pieces
 *    whose overlapping bytes differ from those held are counted in
 *    `overlap_conflicts` (an evasion signal).  Receivers differ here:
 *    RFC 5722 (IPv6) and Linux since 4.19 (IPv4) discard the whole
 *    datagram on any overlap;
 *  - a piece that contradicts the datagram (a non-last fragment whose
 *    length is not a multiple of 8, a second last fragment with another
 *    end, bytes beyond a known end, a last fragment ending before bytes
 *    already seen, an empty fragment) is dropped and counted; the datagram
 *    keeps what it had;
 *  - size: header_len + offset + wire_len <= 65535 (the IPv4 total length,
 *    the IPv6 payload length of the reassembled packet), else dropped;
 *  - memory: at most max_datagrams records and max_total_bytes charged
 *    (bytes held plus IPFRAG_NODE_CHARGE per held range plus
 *    IPFRAG_RECORD_CHARGE per record); when a new piece would exceed
 *    either, the oldest records are evicted first (completed ones, then
 *    incomplete ones, whose fragments are counted as dropped);
 *  - time: an incomplete datagram is dropped `timeout` after its first
 *    fragment (Linux's ipfrag_time, not refreshed by later fragments);
 *    timestamps are taken as non-decreasing (a packet earlier than one
 *    already seen counts at the later time);
 *  - a completed datagram leaves its key for `done_linger`: pieces that
 *    fit inside it in that time are duplicates (capture duplicates), so a
 *    datagram is delivered once.  A piece that does not fit (an id reused
 *    by a new datagram) starts a new one;
 *  - snaplen: a piece with len < wire_len held bytes that were not
 *    captured.  Its datagram still completes when every wire byte has been
 *    seen, and is delivered with caplen < len (the captured prefix), as
 *    decode.h reports a cut TCP payload; the decoder turns the rest into a
 *    gap.
 *
 * Every pushed piece ends in exactly one place: part of a delivered
 * datagram (fragments_reassembled), dropped (fragments_dropped, with its
 * reason), or held (fragments_held); ipfrag_finish() drops what is held at
 * the end of a run.  The module is only called for fragments: it allocates
 * nothing for other traffic.  Per datagram, records are recycled from a
 * free list; each held byte range is one allocation.
 */
#ifndef KALENS_IPFRAG_H
#define KALENS_IPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kl.h"

/* The largest IPv4 total length and IPv6 payload length. */
#define IPFRAG_MAX_PAYLOAD 65535u

/* Memory charged per held byte range and per datagram record, on top of
 * the bytes held, so a flood of tiny fragments is bounded too. */
#define IPFRAG_NODE_CHARGE 64u
#define IPFRAG_RECORD_CHARGE 128u

struct ipfrag_config {
	size_t max_total_bytes;       /* charged memory, whole table */
	uint32_t max_datagrams;       /* records: incomplete + recently completed */
	kl_time timeout;              /* incomplete: dropped this long after its first fragment */
	kl_time done_linger;          /* completed: duplicates absorbed this long (0: none) */
};

/* 16 MiB, 4096 datagrams, 30 s (Linux's ipfrag_time), 1 s. */
void ipfrag_config_defaults(struct ipfrag_config *cfg);

struct ipfrag;

/* Caller owns the result (ipfrag_free); cfg is copied, NULL takes the
 * defaults; NULL on allocation failure.  A max_datagrams of 0 is taken as 1. */
struct ipfrag *ipfrag_new(const struct ipfrag_config *cfg);
void ipfrag_free(struct ipfrag *t);

/* One fragment, as the decoder read it; every pointer is borrowed for the
 * call (the bytes a piece adds are copied). */
struct ipfrag_piece {
	uint8_t ip_version;           /* 4 or 6 */
	uint8_t proto;                /* IPv4 protocol; IPv6 the Fragment header's next header */
	uint16_t header_len;          /* bytes counted with the payload against 65535:
				       * IPv4 the header (IHL * 4); IPv6 the extension
				       * headers before the Fragment header (0 if none) */
	uint32_t id;                  /* IPv4 identification (16 bits); IPv6 fragment id */
	uint64_t context;             /* the caller's, part of the key (0 if unused) */
	const uint8_t *src, *dst;     /* 16 bytes each; IPv4 in the first 4, the rest zero */
	uint32_t offset;              /* in bytes: the offset field times 8 */
	bool more;                    /* MF (IPv4), M (IPv6) */
	const uint8_t *data;          /* this fragment's payload (after the IPv4 header /
				       * the Fragment header), len bytes captured */
	uint32_t len;                 /* bytes present in the capture (<= wire_len) */
	uint32_t wire_len;            /* its payload length per the IP header */
};

/* A reassembled datagram's upper-layer payload.  `data` points into the
 * table's memory (or, for a piece that was a whole datagram by itself,
 * into that piece's data): valid until the next call on the table. */
struct ipfrag_datagram {
	const uint8_t *data;          /* caplen bytes readable */
	uint32_t caplen;              /* captured prefix (< len: cut by the snaplen) */
	uint32_t len;                 /* payload length on the wire (<= 65535) */
	uint8_t ip_version;
	uint8_t proto;                /* as in the pieces */
	uint32_t fragments;           /* pieces it was made of */
};

enum ipfrag_result {
	IPFRAG_HELD = 0,              /* kept; the datagram is not complete yet */
	IPFRAG_DONE,                  /* completed a datagram: *out is filled */
	IPFRAG_DROPPED,               /* the piece was dropped (see the stats for why) */
};

/*
 * Take one fragment seen at time ts.  Expires what is due at ts first (so
 * ipfrag_expire() is for freeing memory early, not for correctness).
 * On IPFRAG_DONE fills *out; otherwise leaves it unspecified.
 */
enum ipfrag_result ipfrag_push(struct ipfrag *t, const struct ipfrag_piece *p, kl_time ts,
			       struct ipfrag_datagram *out);

/* Drop incomplete datagrams older than the timeout and forget completed
 * ones older than done_linger.  O(1) when nothing is due: call it as
 * packet time advances, per packet if convenient. */
void ipfrag_expire(struct ipfrag *t, kl_time now);

/* End of the run: drop everything held (counted in dropped_at_end) and
 * forget completed datagrams.  Returns the fragments dropped now.  The
 * table stays usable. */
uint64_t ipfrag_finish(struct ipfrag *t);

struct ipfrag_stats {
	uint64_t fragments;           /* pieces pushed */
	uint64_t reassembled;         /* datagrams delivered */
	uint64_t reassembled_truncated;  /* ... of them with caplen < len */
	uint64_t fragments_reassembled;  /* pieces that became part of a delivered datagram */
	uint64_t fragments_held;      /* pieces held now */
	uint64_t fragments_dropped;   /* the sum of the dropped_* below */
	uint64_t dropped_bad;         /* inconsistent with itself or its datagram */
	uint64_t dropped_oversize;    /* beyond 65535 */
	uint64_t dropped_duplicate;   /* no new byte, or a datagram already delivered */
	uint64_t dropped_timeout;     /* held by a datagram that timed out */
	uint64_t dropped_evicted;     /* held by a datagram evicted by a cap */
	uint64_t dropped_cap;         /* did not fit even after evicting every other datagram */
	uint64_t dropped_nomem;       /* an allocation failed */
	uint64_t dropped_at_end;      /* held when ipfrag_finish() ran */
	uint64_t overlapping;         /* pieces that added bytes and overlapped held ones */
	uint64_t overlap_conflicts;   /* pieces whose overlapping bytes differ from those held */
	uint64_t datagrams_timed_out, datagrams_evicted;
	uint32_t datagrams_held;      /* incomplete records now */
	uint64_t bytes_now, bytes_peak;  /* charged memory */
};

struct ipfrag_stats ipfrag_stats(const struct ipfrag *t);

/* "held", "done", "dropped". */
const char *ipfrag_result_name(enum ipfrag_result r);

#endif
