/*
 * tls_crypto.h - TLS record protection, undone with the secrets of a key
 * log: the keys of each direction derived as the endpoints derived them
 * (the TLS 1.0-1.2 PRF from the master secret, RFC 5246 §6.3; TLS 1.3
 * HKDF-Expand-Label from a traffic secret, RFC 8446 §7.1-7.3), and one
 * record at a time authenticated and decrypted with OpenSSL's EVP, MAC and
 * KDF interfaces.  Nothing here knows about streams or segments: the
 * caller hands whole records.
 *
 * Suites: TLS 1.3 TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256; TLS 1.2 AES-128/256-GCM and
 * ChaCha20-Poly1305 (RSA, DHE, ECDHE); TLS 1.0-1.2 AES-128/256-CBC with
 * HMAC-SHA1/SHA256/SHA384, MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
 */
#ifndef KALENS_TLS_CRYPTO_H
#define KALENS_TLS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_cipher_kind { TLS_AES_GCM, TLS_CHACHA20_POLY1305, TLS_AES_CBC };

struct tls_suite {
	uint16_t id;
	const char *name;             /* IANA name */
	enum tls_cipher_kind kind;
	uint8_t key_len;              /* bytes */
	const char *prf_hash;         /* TLS 1.2 PRF / TLS 1.3 HKDF digest */
	const char *mac_hash;         /* CBC only: the record MAC's digest */
	bool tls13;
};

/* The suite with this IANA number, or NULL when kalens cannot decrypt it. */
const struct tls_suite *tls_suite_find(uint16_t id);

/* The keys, the sequence number and the cipher contexts of one direction
 * of one connection.  Owned by the caller; tls_recprot_free() it. */
struct tls_recprot;

/* TLS 1.0-1.2: both directions from the 48-byte master secret and the two
 * hello randoms.  `version` is the negotiated one (0x0301-0x0303), `etm`
 * whether the ServerHello accepted encrypt-then-MAC.  0 with *client and
 * *server set, or -1 (suite not for these versions, out of memory). */
int tls12_recprot_new(const struct tls_suite *s, uint16_t version, bool etm,
		      const uint8_t *master, size_t master_len, const uint8_t client_random[32],
		      const uint8_t server_random[32], struct tls_recprot **client,
		      struct tls_recprot **server);

/* TLS 1.3: one direction from its traffic secret (handshake or
 * application), sequence number 0.  NULL on a bad length or no memory. */
struct tls_recprot *tls13_recprot_new(const struct tls_suite *s, const uint8_t *secret,
				      size_t len);

/* TLS 1.3 KeyUpdate (RFC 8446 §7.2): the next generation of the
 * direction's secret, sequence number back to 0.  0 or -1. */
int tls13_recprot_update(struct tls_recprot *p);

/* TLS 1.3: a new direction state with the next generation of p's secret
 * (what a KeyUpdate would make of it), sequence number 0; p unchanged.
 * NULL when p is not TLS 1.3 or out of memory. */
struct tls_recprot *tls13_recprot_next(const struct tls_recprot *p);

void tls_recprot_free(struct tls_recprot *p);   /* NULL allowed */

/* Bytes p holds, for the memory cap (dissect.h): its own, and a fixed
 * TLS_RECPROT_OPENSSL_BYTES for OpenSSL's cipher and MAC contexts, which
 * OpenSSL allocates and kalens does not measure.  0 for NULL. */
#define TLS_RECPROT_OPENSSL_BYTES ((size_t)1024)
size_t tls_recprot_mem(const struct tls_recprot *p);

/* Open one record: `hdr` its 5-byte header as captured, `body` its n
 * bytes.  The plaintext goes to out (room for n bytes).  Returns the
 * plaintext length, or -1 when the record does not authenticate (wrong key,
 * a record missed, corrupt bytes) or cannot be a record of this suite.
 * *type is the content type: the header's, or TLS 1.3's inner one.  The
 * sequence number advances either way, as the sender's did. */
long tls_recprot_open(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body, size_t n,
		      uint8_t *out, uint8_t *type);

/* The same with keys that may not be in use yet (TLS 1.3: the application
 * keys tried while the handshake's should still be): when the record does
 * not authenticate, nothing changes, the sequence number included. */
long tls_recprot_trial(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body,
		       size_t n, uint8_t *out, uint8_t *type);

/* A record that went by unseen (lost in a capture gap): its sequence
 * number is spent.  TLS 1.0's chained IV is lost with it. */
void tls_recprot_skip(struct tls_recprot *p);

/* Bytes a record's protection adds to its plaintext, at least (a gap's
 * plaintext length is estimated with it). */
size_t tls_recprot_overhead(const struct tls_recprot *p);

#endif
