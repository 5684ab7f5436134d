/*
 * tls_hello.c - see tls_hello.h.  A cursor over the message; every read
 * goes through it and fails once past the end.
 */
#include "tls_hello.h"

#include <string.h>

struct cur {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t get(struct cur *c, size_t k)
{
	if (c->bad || c->n < k) {
		c->bad = true;
		return 0;
	}
	uint32_t v = 0;
	for (size_t i = 0; i < k; i++)
		v = v << 8 | c->p[i];
	c->p += k;
	c->n -= k;
	return v;
}

/* A sub-cursor over the next len bytes (skipped in c). */
static struct cur sub(struct cur *c, size_t len)
{
	struct cur s = { c->p, len, c->bad || c->n < len };
	if (s.bad) {
		c->bad = true;
		s.n = 0;
		return s;
	}
	c->p += len;
	c->n -= len;
	return s;
}

/* Copy a printable name (hostname, protocol id), cut to fit. */
static void put_name(char *dst, size_t cap, const uint8_t *p, size_t n, bool append)
{
	size_t len = append ? strlen(dst) : 0;
	if (append && len && len + 1 < cap)
		dst[len++] = ',';
	for (size_t i = 0; i < n && len + 1 < cap; i++)
		dst[len++] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != ',' ? (char)p[i] : '?';
	dst[len] = '\0';
}

static void server_name(struct cur e, struct tls_hello *h)
{
	struct cur list = sub(&e, get(&e, 2));
	while (!list.bad && list.n) {
		uint32_t type = get(&list, 1);
		struct cur name = sub(&list, get(&list, 2));
		if (!name.bad && type == 0 && !h->sni[0])
			put_name(h->sni, sizeof h->sni, name.p, name.n, false);
	}
}

static void alpn(struct cur e, struct tls_hello *h)
{
	struct cur list = sub(&e, get(&e, 2));
	while (!list.bad && list.n) {
		struct cur id = sub(&list, get(&list, 1));
		if (!id.bad)
			put_name(h->alpn, sizeof h->alpn, id.p, id.n, true);
	}
}

static void supported_versions(struct cur e, struct tls_hello *h)
{
	if (h->type == TLS_HS_SERVER_HELLO) {
		uint32_t v = get(&e, 2);
		if (!e.bad)
			h->version = (uint16_t)v;
		return;
	}
	struct cur list = sub(&e, get(&e, 1));
	while (!list.bad && list.n >= 2) {
		uint32_t v = get(&list, 2);
		/* GREASE values (RFC 8701) are 0x?a?a: not versions */
		if ((v & 0x0f0f) != 0x0a0a && v > h->version)
			h->version = (uint16_t)v;
	}
}

int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *h)
{
	memset(h, 0, sizeof *h);
	struct cur c = { p, n, false };
	uint32_t type = get(&c, 1);
	struct cur m = sub(&c, get(&c, 3));
	if (c.bad || (type != TLS_HS_CLIENT_HELLO && type != TLS_HS_SERVER_HELLO))
		return -1;
	h->type = (uint8_t)type;
	h->legacy_version = (uint16_t)get(&m, 2);
	h->version = h->legacy_version;
	struct cur rnd = sub(&m, 32);
	if (!rnd.bad)
		memcpy(h->random, rnd.p, 32);
	uint32_t sid = get(&m, 1);
	if (sid > 32)
		return -1;
	struct cur s = sub(&m, sid);
	if (!s.bad) {
		memcpy(h->session_id, s.p, sid);
		h->session_id_len = (uint8_t)sid;
	}
	if (type == TLS_HS_CLIENT_HELLO) {
		uint32_t len = get(&m, 2);
		if (len % 2)
			return -1;
		sub(&m, len);
		h->ciphers_offered = (uint16_t)(len / 2);
		sub(&m, get(&m, 1));              /* compression methods */
	} else {
		h->cipher = (uint16_t)get(&m, 2);
		get(&m, 1);                       /* compression method */
	}
	if (m.bad)
		return -1;
	if (m.n == 0)
		return 0;                         /* no extensions (old clients) */
	struct cur exts = sub(&m, get(&m, 2));
	while (!exts.bad && exts.n) {
		uint32_t et = get(&exts, 2);
		struct cur e = sub(&exts, get(&exts, 2));
		if (e.bad)
			break;
		switch (et) {
		case 0: if (type == TLS_HS_CLIENT_HELLO) server_name(e, h); break;
		case 16: alpn(e, h); break;
		case 22: h->encrypt_then_mac = true; break;
		case 35: if (e.n) h->session_ticket = true; break;
		case 41: h->pre_shared_key = true; break;
		case 43: supported_versions(e, h); break;
		default: break;
		}
	}
	return exts.bad ? -1 : 0;
}
