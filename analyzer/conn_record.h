/*
 * conn_record.h - the facts kalens keeps about one finished TCP connection.
 *
 * The flow table fills one of these when a connection ends (closed and
 * lingered, evicted idle, replaced by port reuse, or still open at the end
 * of the capture) and hands it to the store.  It holds the TCP facts; each
 * protocol's own are in sections it points to (facts.h).  It is a plain
 * value: the receiver copies what it keeps before returning.
 */
#ifndef KALENS_CONN_RECORD_H
#define KALENS_CONN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "facts.h"
#include "kl.h"

enum conn_closer { CONN_CLOSER_NONE = 0, CONN_CLOSER_CLIENT, CONN_CLOSER_SERVER };

enum conn_close_kind {
	CONN_CLOSE_OPEN = 0,   /* still open when the capture (or run) ended */
	CONN_CLOSE_FIN,        /* the first close seen was a FIN */
	CONN_CLOSE_RST,        /* the first close seen was an RST */
	CONN_CLOSE_IDLE,       /* ended after the idle timeout, no FIN/RST */
	CONN_CLOSE_EVICTED,    /* ended early to make room (--max-conns, --memcap), no FIN/RST */
};

struct conn_record {
	int64_t id;                      /* numbered when it began (0: unnumbered) */
	uint8_t ip_version;              /* 4 or 6 */
	uint8_t client_ip[16];           /* IPv4 in the first 4 bytes */
	uint8_t server_ip[16];
	uint16_t client_port, server_port;

	kl_time first_seen, last_seen;
	bool syn_seen;                   /* the client's SYN was captured */
	bool has_handshake_rtt;
	kl_time handshake_rtt;           /* SYN to the ACK of the SYN-ACK */
	/* Who began the close and when, when close_kind is fin/rst: the
	 * first FIN or RST, unless a protocol's notice of closing (TLS
	 * close_notify, dissect_closing) came before it: then that notice's
	 * sender and time (close_notice names it). */
	enum conn_closer close_initiator;
	enum conn_close_kind close_kind;
	kl_time close_ts;
	const char *close_notice;        /* "TLS close_notify"; NULL: the FIN/RST began it */
	enum conn_closer tcp_close_initiator;  /* the sender of the first FIN or RST */

	uint64_t packets[2];             /* indexed by enum kl_dir */
	uint64_t bytes[2];               /* TCP payload bytes on the wire, retransmissions included */
	uint64_t gap_bytes;              /* both directions */
	uint64_t retransmitted_bytes;    /* both directions */
	bool one_sided;                  /* packets seen in one direction only */
	/* Every packet was the client's SYN (retransmissions included): an
	 * attempt nothing answered, which the store adds up in `attempts`
	 * instead of a row of `connections` (attempts.h). */
	bool attempt_only;

	const char *protocol;            /* "unknown" until a dissector claims it; static storage */
	char stack[96];                  /* every layer read, outermost first ("socks5 > tls >
					  * http/1.1"); cut at the size */

	/* What each protocol knows of it, by section (facts.h): NULL where it
	 * has no such facts.  Borrowed with the record; the receiver of a
	 * record may amend a present section (the keep-alive analysis adds
	 * to the HTTP one) before it is stored. */
	void *facts[FACTS_COUNT];
};

const char *conn_closer_name(enum conn_closer c);        /* "client", "server" or NULL */
/* "open", "fin", "rst", "idle", "evicted" */
const char *conn_close_kind_name(enum conn_close_kind k);

/* The stored words of each (NULL-terminated), for column declarations. */
extern const char *const conn_closer_names[];
extern const char *const conn_close_kind_names[];

/* The TCP columns of `connections` (docs/schema.md); `f` is the record. */
extern const struct column_list conn_columns;

/* An address as stored: "192.0.2.10", "2001:db8::1"; NULL when ip_version
 * is neither 4 nor 6. */
const char *conn_ip_text(uint8_t ip_version, const uint8_t ip[16], char *buf, size_t len);

#endif
