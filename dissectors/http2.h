/*
 * http2.h - the HTTP/2 dissector (RFC 9113): frames of both directions as
 * they are reassembled (frame headers and fields split anywhere, frames of
 * any size up to 2^24 - 1 walked without being gathered), header blocks
 * decoded with HPACK (RFC 7541, libnghttp2's inflater, one per direction,
 * fed piece by piece), one request row per stream (method, path, authority,
 * status, times of the first and last frame each way, DATA bytes), and the
 * connection's facts: streams, peak concurrency, the server's SETTINGS,
 * GOAWAY, RST_STREAM, PING round trip.  Connection-specific header fields,
 * which §8.2.2 forbids, are findings.
 *
 * Recognised by the client connection preface ("prior knowledge", on
 * cleartext or inside decrypted TLS); the flow layer hands it the
 * plaintext of ALPN "h2" connections, and the rest of an HTTP/1.1
 * connection upgraded with "Upgrade: h2c" and a 101 (RFC 7540 §3.2), with
 * the request that asked for it (dissect_conn_info.upgrade), which becomes
 * stream 1.
 */
#ifndef KALENS_HTTP2_H
#define KALENS_HTTP2_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect.h"
#include "facts.h"

extern const struct dissector http2_dissector;

/* The HTTP/2 section of a connection (facts.h): the h2_* and GOAWAY
 * columns of `connections`.  Present only on HTTP/2 connections. */
struct h2_facts {
	uint64_t streams;             /* streams with a request */
	uint32_t peak_streams;        /* most streams open at once */
	int64_t settings_max_streams; /* the server's SETTINGS_MAX_CONCURRENT_STREAMS, -1: none */
	int64_t initial_window;       /* the server's SETTINGS_INITIAL_WINDOW_SIZE, -1: none */
	enum conn_closer goaway_by;   /* who sent the first GOAWAY (NONE: nobody) */
	int64_t goaway_error;         /* its error code, -1: none */
	int64_t goaway_last_stream;   /* its last stream id, -1: none */
	uint64_t rst_streams;
	bool has_ping_rtt;
	kl_time ping_rtt;             /* the first PING answered */
};

extern const struct fact_section h2_facts_section;

/* The 24-byte client connection preface (RFC 9113 §3.4). */
#define HTTP2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define HTTP2_PREFACE_LEN 24

#endif
