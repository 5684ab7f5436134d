/*
 * tls_hello.h - the facts of a TLS ClientHello or ServerHello (RFC 8446
 * §4.1.2-4.1.3, RFC 5246 §7.4.1), from one whole handshake message.
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
};

/* Parse the handshake message [p, p+n) (its 4-byte header included).
 * 0, or -1 when it is not a well-formed ClientHello/ServerHello. */
int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *h);

#endif
