/*
 * conn_record.h - the facts kalens keeps about one finished TCP connection.
 *
 * The flow table fills one of these when a connection ends (closed and
 * lingered, evicted idle, replaced by port reuse, or still open at the end
 * of the capture) and hands it to the store.  It is a plain value: the
 * receiver copies what it keeps before returning.
 */
#ifndef KALENS_CONN_RECORD_H
#define KALENS_CONN_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "kl.h"

enum conn_closer { CONN_CLOSER_NONE = 0, CONN_CLOSER_CLIENT, CONN_CLOSER_SERVER };

enum conn_close_kind {
	CONN_CLOSE_OPEN = 0,   /* still open when the capture (or run) ended */
	CONN_CLOSE_FIN,        /* the first close seen was a FIN */
	CONN_CLOSE_RST,        /* the first close seen was an RST */
	CONN_CLOSE_IDLE,       /* evicted after the idle timeout, no FIN/RST */
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
	enum conn_closer close_initiator;
	enum conn_close_kind close_kind;
	kl_time close_ts;                /* first FIN/RST, when close_kind is fin/rst */

	uint64_t packets[2];             /* indexed by enum kl_dir */
	uint64_t bytes[2];               /* TCP payload bytes on the wire, retransmissions included */
	uint64_t gap_bytes;              /* both directions */
	uint64_t retransmitted_bytes;    /* both directions */
	bool one_sided;                  /* packets seen in one direction only */

	const char *protocol;            /* "unknown" until a dissector claims it; static storage */

	/* What the dissector summarised (struct dissector.summarize); the
	 * defaults mean "not known". */
	uint64_t requests, responses;
	bool has_max_idle;
	kl_time max_idle;                /* longest gap between a response and the next request */
	int64_t ka_timeout_advertised;   /* server's Keep-Alive timeout=, -1: never sent */
	int64_t ka_max_advertised;       /* server's Keep-Alive max=, -1: never sent */
	int expected_persistent;         /* after the last response: 1, 0, or -1 unknown */
	bool has_idle_before_close;
	kl_time idle_before_close;       /* end of the last response to the first FIN/RST */
	/* Who first sent Connection: close (NONE: nobody), on which request. */
	enum conn_closer close_announced_by;
	uint64_t close_announced_seq;
	bool close_on_persistent_request; /* the server announced it answering a request
					   * that asked the connection to persist */
	int64_t ka_max_first;            /* the first Keep-Alive max= the server sent, -1: none */
	uint64_t pipelined_requests;
	kl_time last_request_ts;         /* first byte of the last request, 0: none */
	uint64_t last_request_seq;

	/* TLS (dissectors/tls.c): 0 / "" when not TLS or not seen. */
	uint16_t tls_version;            /* 0x0303 TLS 1.2, 0x0304 TLS 1.3 (negotiated) */
	uint16_t tls_cipher;             /* the suite the server chose */
	char tls_sni[256];
	char tls_alpn[64];               /* chosen by the server (else offered by the client) */
	int tls_resumed;                 /* 1, 0, -1 unknown */
	bool has_tls_handshake;
	kl_time tls_handshake;           /* ClientHello to the client's first application data */
	uint64_t tls_records[2];         /* application data records, by enum kl_dir */
	uint64_t tls_exchanges;          /* request/response exchanges, estimated from records */
	bool tls_decrypted;              /* application data was decrypted with a key log */

	/* HTTP/2 (dissectors/http2.c): h2 false when not HTTP/2. */
	bool h2;
	uint64_t h2_streams;             /* streams with a request */
	uint32_t h2_peak_streams;        /* most streams open at once */
	int64_t h2_settings_max_streams; /* the server's SETTINGS_MAX_CONCURRENT_STREAMS, -1: none */
	int64_t h2_initial_window;       /* the server's SETTINGS_INITIAL_WINDOW_SIZE, -1: none */
	enum conn_closer h2_goaway_by;   /* who sent the first GOAWAY (NONE: nobody) */
	int64_t h2_goaway_error;         /* its error code, -1: none */
	int64_t h2_goaway_last_stream;   /* its last stream id, -1: none */
	uint64_t h2_rst_streams;
	bool has_h2_ping_rtt;
	kl_time h2_ping_rtt;             /* the first PING answered */

	/* What the keep-alive analysis adds (keepalive.c). */
	bool has_reuse_saved;
	kl_time reuse_saved;             /* handshake RTT x requests after the first */
};

/* Set the "not known" defaults of the dissector summary fields. */
void conn_record_summary_defaults(struct conn_record *r);

const char *conn_closer_name(enum conn_closer c);        /* "client", "server" or NULL */
const char *conn_close_kind_name(enum conn_close_kind k); /* "open", "fin", "rst", "idle" */

#endif
