/*
 * tls_hello.c - see tls_hello.h.  Every byte is read through analyzer/rd.h:
 * a cursor over the message, and a sub-cursor over each length-prefixed
 * part.  An extension whose inside does not parse is taken for what it
 * yielded; one whose length runs past the extensions rejects the message.
 */
#include "tls_hello.h"

#include <string.h>

#include "rd.h"

/* Copy a printable name (hostname, protocol id), cut to fit. */
static void put_name(char *dst, size_t cap, struct rd name, bool append)
{
	size_t len = append ? strlen(dst) : 0;
	if (append && len && len + 1 < cap)
		dst[len++] = ',';
	while (rd_more(&name) && len + 1 < cap) {
		uint8_t c = rd_u8(&name);
		dst[len++] = c >= 0x20 && c < 0x7f && c != ',' ? (char)c : '?';
	}
	dst[len] = '\0';
}

static void server_name(struct rd e, struct tls_hello *h)
{
	struct rd list = rd_vec16(&e);
	while (rd_more(&list)) {
		uint8_t type = rd_u8(&list);
		struct rd name = rd_vec16(&list);
		if (rd_ok(&name) && type == 0 && !h->sni[0])
			put_name(h->sni, sizeof h->sni, name, false);
	}
}

static void alpn(struct rd e, struct tls_hello *h)
{
	struct rd list = rd_vec16(&e);
	while (rd_more(&list)) {
		struct rd id = rd_vec8(&list);
		if (rd_ok(&id))
			put_name(h->alpn, sizeof h->alpn, id, true);
	}
}

static void supported_versions(struct rd e, struct tls_hello *h)
{
	if (h->type == TLS_HS_SERVER_HELLO) {
		uint16_t v = rd_be16(&e);
		if (rd_ok(&e))
			h->version = v;
		return;
	}
	struct rd list = rd_vec8(&e);
	while (rd_ok(&list) && rd_left(&list) >= 2) {
		uint16_t v = rd_be16(&list);
		/* GREASE values (RFC 8701) are 0x?a?a: not versions */
		if ((v & 0x0f0f) != 0x0a0a && v > h->version)
			h->version = v;
	}
}

bool tls_version_is_13(uint16_t v)
{
	return v == 0x0304 || (v & 0xff00) == 0x7f00 || v == 0xfb17 || v == 0xfb1a;
}

/* TLS 1.3 drafts up to 21 put the chosen version in the ServerHello's
 * first field and had no session id or compression method there
 * (draft-ietf-tls-tls13-21 §4.1.3); draft 22 made the ServerHello look like
 * TLS 1.2's, the version moving to supported_versions. */
static bool early_draft(uint16_t v)
{
	return (v & 0xff00) == 0x7f00 && (v & 0xff) < 22;
}

static int extensions(struct rd *m, struct tls_hello *h)
{
	if (rd_done(m))
		return 0;                         /* no extensions (old clients) */
	struct rd exts = rd_vec16(m);
	while (rd_more(&exts)) {
		uint16_t et = rd_be16(&exts);
		struct rd e = rd_vec16(&exts);
		if (!rd_ok(&e))
			break;
		switch (et) {
		case 0: if (h->type == TLS_HS_CLIENT_HELLO) server_name(e, h); break;
		case 16: alpn(e, h); break;
		case 22: h->encrypt_then_mac = true; break;
		case 35: if (rd_left(&e)) h->session_ticket = true; break;
		case 41: h->pre_shared_key = true; break;
		case 43: supported_versions(e, h); break;
		default: break;
		}
	}
	return rd_ok(&exts) ? 0 : -1;
}

int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *h)
{
	memset(h, 0, sizeof *h);
	struct rd c = rd_make(p, n);
	uint8_t type = rd_u8(&c);
	struct rd m = rd_sub(&c, rd_be24(&c));
	if (!rd_ok(&c) || (type != TLS_HS_CLIENT_HELLO && type != TLS_HS_SERVER_HELLO))
		return -1;
	h->type = type;
	h->legacy_version = rd_be16(&m);
	h->version = h->legacy_version;
	const uint8_t *rnd = rd_span(&m, sizeof h->random);
	if (rnd)
		memcpy(h->random, rnd, sizeof h->random);
	bool draft = type == TLS_HS_SERVER_HELLO && early_draft(h->legacy_version);
	if (!draft) {
		uint8_t sid = rd_u8(&m);
		if (sid > sizeof h->session_id)
			return -1;
		const uint8_t *s = rd_span(&m, sid);
		if (s) {
			memcpy(h->session_id, s, sid);
			h->session_id_len = sid;
		}
	}
	if (type == TLS_HS_CLIENT_HELLO) {
		uint16_t len = rd_be16(&m);
		if (len % 2)
			return -1;
		rd_skip(&m, len);
		h->ciphers_offered = (uint16_t)(len / 2);
		rd_skip(&m, rd_u8(&m));           /* compression methods */
	} else {
		h->cipher = rd_be16(&m);
		if (!draft)
			rd_skip(&m, 1);           /* compression method */
	}
	if (!rd_ok(&m) || extensions(&m, h) != 0)
		return -1;
	h->tls13 = tls_version_is_13(h->version);
	return 0;
}

/* RFC 5246 appendix E.2 (RFC 6101 appendix E.1 for SSL 3.0):
 *   msg_length (2 bytes, high bit set), msg_type 1, version,
 *   cipher_spec_length, session_id_length, challenge_length,
 *   cipher_specs (3 bytes each), session_id, challenge.
 * The lengths must add up to the record: nothing follows a ClientHello
 * in it. */
int tls_hello_parse_v2(const uint8_t *p, size_t n, struct tls_hello *h)
{
	memset(h, 0, sizeof *h);
	struct rd c = rd_make(p, n);
	uint16_t hdr = rd_be16(&c);
	struct rd m = rd_sub(&c, hdr & 0x7fffu);
	if (!rd_ok(&c) || !(hdr & 0x8000u) || rd_u8(&m) != TLS_HS_CLIENT_HELLO)
		return -1;
	h->type = TLS_HS_CLIENT_HELLO;
	h->sslv2 = true;
	h->legacy_version = h->version = rd_be16(&m);
	uint16_t specs = rd_be16(&m), sid = rd_be16(&m), chal = rd_be16(&m);
	/* The challenge becomes the 32-byte random, right-aligned: 16 to 32
	 * bytes (E.2; OpenSSL's SSL2_MIN/MAX_CHALLENGE_LENGTH). */
	if (!rd_ok(&m) || h->version >> 8 != 3 || specs == 0 || specs % 3 ||
	    sid > sizeof h->session_id || chal < 16 || chal > sizeof h->random)
		return -1;
	struct rd cs = rd_sub(&m, specs);
	while (rd_more(&cs)) {
		uint8_t first = rd_u8(&cs);
		rd_skip(&cs, 2);
		if (first == 0)                   /* a TLS suite; else SSL 2.0's own */
			h->ciphers_offered++;
	}
	const uint8_t *s = rd_span(&m, sid);
	if (s) {
		memcpy(h->session_id, s, sid);
		h->session_id_len = (uint8_t)sid;
	}
	const uint8_t *r = rd_span(&m, chal);
	if (r)
		memcpy(h->random + sizeof h->random - chal, r, chal);
	if (!rd_done(&m))
		return -1;
	h->tls13 = tls_version_is_13(h->version);
	return 0;
}
