/*
 * tls_hello.h - the facts of a TLS ClientHello or ServerHello (RFC 8446
 * §4.1.2-4.1.3, RFC 5246 §7.4.1), from one whole handshake message; and of
 * a ClientHello in the SSL 2.0 format that clients offering SSL 3.0 or TLS
 * once sent (RFC 5246 appendix E.2, RFC 6101 appendix E.1).
 *
 * A pure parser: every read is bounds-checked against the message, and a
 * message that does not parse leaves an error, never a partial answer
 * that looks whole.
 */
#ifndef KALENS_TLS_HELLO_H
#define KALENS_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2

struct tls_hello {
	uint8_t type;                 /* TLS_HS_CLIENT_HELLO or TLS_HS_SERVER_HELLO */
	uint16_t legacy_version;      /* 0x0303 for TLS 1.2 and 1.3 */
	/* ServerHello: the version chosen (supported_versions, else
	 * legacy_version); ClientHello: the highest offered. */
	uint16_t version;
	uint8_t random[32];           /* the key log's index (CLIENT_RANDOM ...) */
	uint8_t session_id_len;
	uint8_t session_id[32];
	uint16_t cipher;              /* ServerHello: the suite chosen */
	uint16_t ciphers_offered;     /* ClientHello: how many suites */
	char sni[256];                /* ClientHello: server_name host_name, "" if none */
	char alpn[128];               /* ClientHello: offered, comma-separated; ServerHello: chosen */
	bool session_ticket;          /* ClientHello: a non-empty ticket offered */
	bool pre_shared_key;          /* ClientHello: PSK offered; ServerHello: PSK accepted */
	bool encrypt_then_mac;        /* RFC 7366: offered; in a ServerHello, in use (CBC) */
	bool tls13;                   /* version is TLS 1.3, a draft of it or a variant
				       * (tls_version_is_13) */
	bool sslv2;                   /* ClientHello: in the SSL 2.0 format */
};

/* TLS 1.3 (0x0304), one of its drafts (0x7f00 + draft number), or
 * Facebook's variants of drafts 23 and 26 (0xfb17, 0xfb1a): a handshake
 * whose messages after the ServerHello are encrypted. */
bool tls_version_is_13(uint16_t version);

/* Parse the handshake message [p, p+n) (its 4-byte header included).
 * 0, or -1 when it is not a well-formed ClientHello/ServerHello. */
int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *h);

/* Parse a ClientHello in the SSL 2.0 format: the record [p, p+n), its
 * 2-byte header (high bit set) included.  The challenge is the random,
 * right-aligned with leading zeros; ciphers_offered counts the 3-byte
 * cipher specs that are TLS suites (first byte 0).  0, or -1 when it is not
 * a well-formed one offering SSL 3.0 or TLS (version 3.x). */
int tls_hello_parse_v2(const uint8_t *p, size_t n, struct tls_hello *h);

#endif
