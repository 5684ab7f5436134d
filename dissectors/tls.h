/*
 * tls.h - the TLS dissector: recognises TLS by its first record, walks the
 * record layer of both directions (records split across segments,
 * handshake messages split across records), reads the ClientHello and
 * ServerHello (tls_hello.h), counts application data, and keeps the
 * connection's TLS facts (struct tls_facts: the TLS columns of
 * `connections`).
 *
 * With a key log (dissect_conn_info.keylog) that has the connection's
 * secrets, records are opened (tls_crypto.h) and the application data is a
 * stream of its own that the flow layer probes (or hands to HTTP/2 when
 * ALPN chose h2; dissect_up_*); records that do not authenticate are
 * findings and reach it as gaps.  Without keys,
 * application data is skipped by length, never copied.
 */
#ifndef KALENS_TLS_H
#define KALENS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect.h"
#include "facts.h"

extern const struct dissector tls_dissector;

/* The TLS section of a connection (facts.h); 0 / "" where not seen. */
struct tls_facts {
	uint16_t version;             /* 0x0303 TLS 1.2, 0x0304 TLS 1.3 (negotiated) */
	uint16_t cipher;              /* the suite the server chose */
	char sni[256];
	char alpn[64];                /* chosen by the server (else offered by the client) */
	int resumed;                  /* 1, 0, -1 unknown */
	bool has_handshake;
	kl_time handshake;            /* ClientHello to the client's first application data */
	uint64_t records[2];          /* application data records, by enum kl_dir */
	uint64_t exchanges;           /* request/response exchanges, estimated from records */
	bool decrypted;               /* application data was decrypted with a key log */
	/* The first alert that ended a side: close_notify, a fatal alert, or
	 * one that could not be read (close_alert -1). */
	enum conn_closer close_by;    /* CONN_CLOSER_NONE: none seen */
	kl_time close_ts;
	int close_alert;              /* its description (RFC 8446 §6), -1: not read */
};

extern const struct fact_section tls_facts_section;

/* "TLS 1.2" and friends, other values as "0x%04x", into buf; returns buf. */
const char *tls_version_name(uint16_t version, char *buf, size_t len);

/* An alert description's name in the IANA registry ("close_notify",
 * "handshake_failure"), NULL for a value it does not name. */
const char *tls_alert_name(uint8_t desc);

/* A cipher suite as tshark shows it, "0xc030", into buf; returns buf. */
const char *tls_cipher_hex(uint16_t cipher, char *buf, size_t len);

#endif
