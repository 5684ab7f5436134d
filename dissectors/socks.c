/*
 * socks.c - see socks.h.
 *
 * Each direction's bytes are gathered (the messages are small) and read
 * one whole message at a time with the rd.h cursor.  The client speaks
 * first: SOCKS4 sends its request at once; SOCKS5 greets with its methods,
 * the server picks one (RFC 1928 §3), the client authenticates if asked
 * (RFC 1929) and sends its request (§4), and the server replies (§6).
 * Client bytes after the request are held until the reply: a client that
 * does not wait has its tunnel's first bytes there.
 */
#include "socks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd.h"
#include "tunnel_facts.h"

/* Bytes gathered per direction: the longest SOCKS message (RFC 1929
 * credentials: 3 + 255 + 255) and what a client sends past its request. */
#define SOCKS_BUF 1024

enum socks_client_state { CS_START, CS_AFTER_GREETING, CS_AFTER_AUTH, CS_WAIT, CS_DONE };
enum socks_server_state { SS_CHOICE, SS_AUTH, SS_REPLY, SS_DONE };

struct socks_dir {
	uint8_t buf[SOCKS_BUF];
	size_t len;
	uint64_t buf_off;             /* stream offset of buf[0] */
	bool started;
	uint64_t lost;                /* bytes past the buffer while holding */
};

struct socks_conn {
	const struct dissect_output *out;
	int64_t conn_id;
	struct dissect_link *link;
	struct socks_dir d[2];
	uint8_t version;              /* 4 or 5, from the client's first message */
	bool socks4a;
	uint8_t method;               /* SOCKS5: the server's choice */
	uint8_t cmd;
	enum socks_client_state cs;
	enum socks_server_state ss;
	bool granted, failed;
	char target[264];
};

/* ---- messages ------------------------------------------------------------ */

/* The length of the SOCKS4 request at p (NUL-terminated user id, and for
 * SOCKS4a a NUL-terminated host), 0 when more bytes are needed, -1 when
 * it is not one. */
static long socks4_request_len(const uint8_t *p, size_t n)
{
	if (n < 9)
		return n && (p[0] != 4 || (n > 1 && p[1] != 1 && p[1] != 2)) ? -1 : 0;
	if (p[0] != 4 || (p[1] != 1 && p[1] != 2))
		return -1;
	bool host = p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] != 0;   /* 0.0.0.x: SOCKS4a */
	size_t at = 8;
	for (int field = 0; field < (host ? 2 : 1); field++) {
		for (;; at++) {
			if (at >= n)
				return at >= 8 + 2 * 256 ? -1 : 0;
			if (p[at] == 0)
				break;
			if (p[at] < 0x20 || p[at] > 0x7e)
				return -1;
		}
		at++;
	}
	return (long)at;
}

/* The length of a SOCKS5 request or reply at p (they share a layout). */
static long socks5_addr_msg_len(const uint8_t *p, size_t n)
{
	if (n < 5)
		return 0;
	switch (p[3]) {
	case 1: return n >= 10 ? 10 : 0;
	case 4: return n >= 22 ? 22 : 0;
	case 3: return n >= 7u + p[4] ? 7 + p[4] : 0;
	default: return -1;
	}
}

/* "host:port" of a SOCKS5 request's address. */
static void socks5_target(struct socks_conn *c, const uint8_t *p, size_t n)
{
	struct rd r = rd_make(p, n);
	rd_skip(&r, 3);
	uint8_t atyp = rd_u8(&r);
	char host[256] = "";
	if (atyp == 1) {
		const uint8_t *a = rd_span(&r, 4);
		if (a)
			snprintf(host, sizeof host, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	} else if (atyp == 4) {
		const uint8_t *a = rd_span(&r, 16);
		char t[48] = "";
		if (a && conn_ip_text(6, a, t, sizeof t))
			snprintf(host, sizeof host, "[%s]", t);
	} else {
		struct rd name = rd_vec8(&r);
		size_t k = rd_left(&name);
		const uint8_t *s = rd_span(&name, k);
		for (size_t i = 0; s && i < k; i++)
			host[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
		host[s ? k : 0] = '\0';
	}
	unsigned port = rd_be16(&r);
	if (rd_ok(&r))
		snprintf(c->target, sizeof c->target, "%s:%u", host, port);
}

static void socks4_target(struct socks_conn *c, const uint8_t *p, size_t n)
{
	struct rd r = rd_make(p, n);
	rd_skip(&r, 2);
	unsigned port = rd_be16(&r);
	const uint8_t *a = rd_span(&r, 4);
	if (!rd_ok(&r))
		return;
	if (c->socks4a) {
		/* After the user id's NUL, the host's (socks4_request_len
		 * checked both are there and printable). */
		const uint8_t *user_end = memchr(p + 8, 0, n - 8);
		const uint8_t *host = user_end ? user_end + 1 : p + n;
		const uint8_t *host_end = host < p + n ? memchr(host, 0, (size_t)(p + n - host)) : NULL;
		int hl = host_end ? (int)(host_end - host) : 0;
		snprintf(c->target, sizeof c->target, "%.*s:%u", hl, (const char *)host, port);
	} else {
		snprintf(c->target, sizeof c->target, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
	}
}

static void finding(struct socks_conn *c, kl_time ts, const char *detail)
{
	c->failed = true;
	if (!c->out || !c->out->finding)
		return;
	struct finding_record f = { c->conn_id, 0, ts, FINDING_SOCKS_ERROR, detail };
	c->out->finding(c->out->ctx, &f);
}

/* ---- the client's side ----------------------------------------------------- */

/* The length of the client's next message, 0: more bytes needed, -1: not
 * SOCKS. */
static long client_msg_len(struct socks_conn *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	switch (c->cs) {
	case CS_START:
		if (p[0] == 4)
			return socks4_request_len(p, n);
		if (p[0] != 5)
			return -1;
		return n < 2 ? 0 : p[1] == 0 ? -1 : n >= 2u + p[1] ? 2 + p[1] : 0;
	case CS_AFTER_GREETING:
		if (p[0] == 1) {          /* RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD */
			if (n < 2 || n < 3u + p[1])
				return 0;
			size_t plen = p[2 + p[1]];
			return n >= 3 + p[1] + plen ? (long)(3 + p[1] + plen) : 0;
		}
		if (p[0] != 5)
			return -1;
		return socks5_addr_msg_len(p, n);   /* the request: no authentication */
	case CS_AFTER_AUTH:
		if (p[0] != 5)
			return -1;
		return socks5_addr_msg_len(p, n);
	default:
		return 0;
	}
}

static void client_msg(struct socks_conn *c, const uint8_t *p, size_t n)
{
	switch (c->cs) {
	case CS_START:
		c->version = p[0];
		if (c->version == 4) {
			c->socks4a = p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] != 0;
			c->cmd = p[1];
			socks4_target(c, p, n);
			c->cs = CS_WAIT;
		} else {
			c->cs = CS_AFTER_GREETING;
		}
		break;
	case CS_AFTER_GREETING:
	case CS_AFTER_AUTH:
		if (p[0] == 1) {
			c->cs = CS_AFTER_AUTH;
			break;
		}
		c->cmd = p[1];
		socks5_target(c, p, n);
		c->cs = CS_WAIT;
		break;
	default:
		break;
	}
}

/* ---- the server's side ------------------------------------------------------- */

static long server_msg_len(struct socks_conn *c, const uint8_t *p, size_t n)
{
	if (c->version == 4)
		return n >= 8 ? 8 : 0;
	if (n == 0)
		return 0;
	if (c->ss == SS_CHOICE || c->ss == SS_AUTH)
		return n >= 2 ? 2 : 0;
	return socks5_addr_msg_len(p, n);
}

static const char *socks5_reply_name(unsigned rep)
{
	static const char *const names[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};
	return rep < sizeof names / sizeof names[0] ? names[rep] : "unassigned";
}

/* The server's reply to the request: granted (a CONNECT: the tunnel
 * follows) or not. */
static void reply(struct socks_conn *c, bool ok, unsigned code, uint64_t server_end, kl_time ts)
{
	char d[360];
	if (!ok) {
		if (c->version == 4)
			snprintf(d, sizeof d, "SOCKS4 request to %s rejected: code %u", c->target, code);
		else
			snprintf(d, sizeof d, "SOCKS5 request to %s refused: reply %u (%s)", c->target,
				 code, socks5_reply_name(code));
		finding(c, ts, d);
		return;
	}
	c->granted = true;
	if (c->cmd != 1)
		return;                   /* BIND, UDP ASSOCIATE: no stream to follow here */
	struct socks_dir *cl = &c->d[KL_TO_SERVER];
	struct dissect_handover h = { .next = DISSECT_NEXT_PROBE, .held = cl->buf,
				      .held_len = cl->len, .lost = cl->lost };
	dissect_handover(c->link, KL_TO_SERVER, cl->buf_off, &h, ts);
	h.held = NULL;
	h.held_len = 0;
	h.lost = 0;
	dissect_handover(c->link, KL_TO_CLIENT, server_end, &h, ts);
}

static void server_msg(struct socks_conn *c, const uint8_t *p, uint64_t end, kl_time ts)
{
	char d[96];
	if (c->version == 4) {
		c->ss = SS_DONE;
		reply(c, p[1] == 90, p[1], end, ts);
		return;
	}
	switch (c->ss) {
	case SS_CHOICE:
		c->method = p[1];
		if (p[0] != 5 || (p[1] != 0 && p[1] != 2)) {
			snprintf(d, sizeof d, p[1] == 0xff ? "SOCKS5: no acceptable method" :
				 "SOCKS5 method %u not followed", p[1]);
			finding(c, ts, d);
			c->ss = SS_DONE;
		} else {
			c->ss = p[1] == 2 ? SS_AUTH : SS_REPLY;
		}
		break;
	case SS_AUTH:
		if (p[1] != 0) {
			finding(c, ts, "SOCKS5 username/password refused");
			c->ss = SS_DONE;
		} else {
			c->ss = SS_REPLY;
		}
		break;
	case SS_REPLY:
		c->ss = SS_DONE;
		reply(c, p[0] == 5 && p[1] == 0, p[1], end, ts);
		break;
	default:
		break;
	}
}

/* ---- the dissector interface ------------------------------------------------- */

static enum dissect_verdict socks_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	if (dir != KL_TO_SERVER || n == 0)
		return DISSECT_NO;       /* the client's first message says SOCKS */
	if (p[0] == 4) {
		long k = socks4_request_len(p, n);
		return k < 0 ? DISSECT_NO : k == 0 ? DISSECT_MORE : DISSECT_YES;
	}
	/* SOCKS5: a greeting of a few methods, whole in its segment, or
	 * followed by the request (a client that does not wait). */
	if (p[0] != 5)
		return DISSECT_NO;
	if (n < 2)
		return DISSECT_MORE;
	size_t m = p[1];
	if (m == 0 || m > 16)
		return DISSECT_NO;
	for (size_t i = 0; i < m && 2 + i < n; i++)
		if (p[2 + i] > 9 && p[2 + i] < 0x80)
			return DISSECT_NO;        /* an unassigned method (RFC 1928 §3) */
	if (n < 2 + m)
		return DISSECT_MORE;
	return n == 2 + m || p[2 + m] == 5 || p[2 + m] == 1 ? DISSECT_YES : DISSECT_NO;
}

static void *socks_ctx_new(const struct dissect_conn_info *info)
{
	struct socks_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	c->link = info->link;
	return c;
}

static void socks_ctx_free(void *ctx)
{
	free(ctx);
}

static void socks_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
		       kl_time ts)
{
	struct socks_conn *c = ctx;
	struct socks_dir *d = &c->d[dir];
	if (c->failed || c->granted)
		return;
	if (!d->started || d->len == 0) {
		d->started = true;
		d->buf_off = off;
	}
	size_t k = n < SOCKS_BUF - d->len ? n : SOCKS_BUF - d->len;
	memcpy(d->buf + d->len, p, k);
	d->len += k;
	d->lost += n - k;
	for (;;) {
		bool client = dir == KL_TO_SERVER;
		if (client && c->cs == CS_WAIT)
			return;               /* held until the reply */
		if (!client && (c->cs == CS_START || c->ss == SS_DONE))
			return;               /* the client's version is not known yet */
		long m = client ? client_msg_len(c, d->buf, d->len) : server_msg_len(c, d->buf, d->len);
		if (m < 0 || (m == 0 && d->len == SOCKS_BUF)) {
			finding(c, ts, client ? "malformed SOCKS request" : "malformed SOCKS reply");
			return;
		}
		if (m == 0)
			return;
		if (client)
			client_msg(c, d->buf, (size_t)m);
		else
			server_msg(c, d->buf, d->buf_off + (uint64_t)m, ts);
		if (c->failed || c->granted)
			return;
		memmove(d->buf, d->buf + m, d->len - (size_t)m);
		d->len -= (size_t)m;
		d->buf_off += (uint64_t)m;
	}
}

static void socks_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct socks_conn *c = ctx;
	(void)off;
	if (c->failed || c->granted)
		return;
	if (dir == KL_TO_SERVER && c->cs == CS_WAIT) {
		c->d[dir].lost += len;    /* inside what is held: the tunnel's gap */
		return;
	}
	finding(c, ts, "SOCKS handshake bytes missing from the capture");
}

static void socks_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	struct socks_conn *c = ctx;
	if (dir != KL_TO_CLIENT || c->failed || c->granted)
		return;
	finding(c, ts, c->cs == CS_START ? "SOCKS handshake cut short" :
		       "SOCKS handshake cut short: no reply to the request");
}

static const char *socks_protocol(const void *ctx)
{
	const struct socks_conn *c = ctx;
	return c->version == 4 ? (c->socks4a ? "socks4a" : "socks4") : "socks5";
}

static void socks_facts(const void *ctx, const struct conn_record *tcp, struct facts_set *set)
{
	const struct socks_conn *c = ctx;
	(void)tcp;
	if (!c->granted || c->cmd != 1)
		return;
	struct tunnel_facts *t = facts_set_get(set, FACTS_TUNNEL);
	t->kind = socks_protocol(c);
	snprintf(t->target, sizeof t->target, "%s", c->target);
}

static size_t socks_mem(const void *ctx)
{
	(void)ctx;
	return kl_heap_bytes(sizeof(struct socks_conn));     /* no buffer of its own */
}

const struct dissector socks_dissector = {
	.name = "socks",
	.probe = socks_probe,
	.ctx_new = socks_ctx_new,
	.ctx_free = socks_ctx_free,
	.data = socks_data,
	.gap = socks_gap,
	.eof = socks_eof,
	.protocol = socks_protocol,
	.mem = socks_mem,
	.facts = socks_facts,
};
