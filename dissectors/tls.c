/*
 * tls.c - see tls.h.
 *
 * A TLS connection starts with a handshake record (RFC 8446 §5.1): content
 * type 22, legacy record version 3.x with x from 0 (SSL 3.0) to 4, and a
 * length of at most 2^14 + 2048 bytes.  Either direction may be seen first
 * (a capture may miss the ClientHello but see the ServerHello).
 */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_hello.h"

static enum dissect_verdict tls_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	(void)dir;
	static const uint8_t want[3] = { 22, 3, 0 };
	for (size_t i = 0; i < n && i < 5; i++) {
		switch (i) {
		case 0:
		case 1:
			if (p[i] != want[i])
				return DISSECT_NO;
			break;
		case 2:
			if (p[i] > 4)
				return DISSECT_NO;
			break;
		case 4: {
			unsigned len = (unsigned)p[3] << 8 | p[4];
			return len > 0 && len <= (1u << 14) + 2048 ? DISSECT_YES : DISSECT_NO;
		}
		default:
			break;
		}
	}
	return DISSECT_MORE;
}

#define TLS_RECORD_MAX ((1u << 14) + 2048)   /* RFC 8446 §5.2: ciphertext limit */
#define TLS_HS_KEEP 65536u                     /* handshake bytes gathered per direction */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };

struct tls_dir {
	uint8_t hdr[5];
	uint8_t hlen;                 /* header bytes gathered */
	uint32_t left;                /* body bytes of the current record still to come */
	uint8_t type;                 /* of the current record */
	uint32_t reclen;              /* its length */
	bool lost;                    /* a gap or a bad header: the record layer is lost */
	bool encrypted;               /* after ChangeCipherSpec: handshake records are opaque */
	uint8_t *hs;                  /* handshake bytes gathered (plaintext only) */
	uint32_t hs_len;
	uint64_t records[4];          /* by content type 20..23 */
	kl_time first_appdata;
	uint64_t appdata_seen;
};

struct tls_conn {
	const struct dissect_output *out;
	int64_t conn_id;
	struct tls_dir d[2];          /* by enum kl_dir */
	struct tls_hello ch, sh;
	bool have_ch, have_sh, bad_hello;
	kl_time ch_ts;
	kl_time client_app_ts;        /* first application data from the client */
	bool client_run;              /* client application data since the server's last */
	uint64_t exchanges;           /* client runs answered by the server */
};

static void *tls_ctx_new(const struct dissect_conn_info *info)
{
	struct tls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	return c;
}

static void tls_ctx_free(void *ctx)
{
	struct tls_conn *c = ctx;
	if (!c)
		return;
	free(c->d[0].hs);
	free(c->d[1].hs);
	free(c);
}

static void tls_finding(struct tls_conn *c, kl_time ts, const char *detail)
{
	if (!c->out || !c->out->finding)
		return;
	struct finding_record f = { c->conn_id, 0, ts, "tls-parse-error", detail };
	c->out->finding(c->out->ctx, &f);
}

/* Whole handshake messages at the front of the gathered bytes. */
static void handshake_messages(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	uint32_t at = 0;
	while (d->hs_len - at >= 4) {
		uint32_t len = (uint32_t)d->hs[at + 1] << 16 | (uint32_t)d->hs[at + 2] << 8 |
			       d->hs[at + 3];
		if (len > TLS_HS_KEEP - 4) {
			tls_finding(c, ts, "handshake message over 64 KiB");
			d->lost = true;
			break;
		}
		if (d->hs_len - at < 4 + len)
			break;                    /* the rest comes in later records */
		uint8_t type = d->hs[at];
		bool want = (dir == KL_TO_SERVER && type == TLS_HS_CLIENT_HELLO && !c->have_ch) ||
			    (dir == KL_TO_CLIENT && type == TLS_HS_SERVER_HELLO && !c->have_sh);
		if (want) {
			struct tls_hello *h = dir == KL_TO_SERVER ? &c->ch : &c->sh;
			if (tls_hello_parse(d->hs + at, 4 + len, h) == 0) {
				if (dir == KL_TO_SERVER) {
					c->have_ch = true;
					c->ch_ts = ts;
				} else {
					c->have_sh = true;
				}
			} else if (!c->bad_hello) {
				c->bad_hello = true;
				tls_finding(c, ts, dir == KL_TO_SERVER ? "malformed ClientHello"
								       : "malformed ServerHello");
			}
		}
		at += 4 + len;
	}
	memmove(d->hs, d->hs + at, d->hs_len - at);
	d->hs_len -= at;
	if (dir == KL_TO_SERVER ? c->have_ch : c->have_sh) {
		free(d->hs);
		d->hs = NULL;
		d->hs_len = 0;
	}
}

static void gather_handshake(struct tls_conn *c, enum kl_dir dir, const uint8_t *p, size_t n,
			     kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	if (d->lost)
		return;
	/* Once its hello is read, a direction's handshake is of no further
	 * use: keep no buffer for it (memory per TLS connection stays small
	 * on a long live capture). */
	if (dir == KL_TO_SERVER ? c->have_ch : c->have_sh) {
		free(d->hs);
		d->hs = NULL;
		d->hs_len = 0;
		return;
	}
	if (!d->hs && !(d->hs = malloc(TLS_HS_KEEP))) {
		d->lost = true;
		return;
	}
	if (n > TLS_HS_KEEP - d->hs_len) {
		tls_finding(c, ts, "handshake messages over 64 KiB");
		d->lost = true;
		return;
	}
	memcpy(d->hs + d->hs_len, p, n);
	d->hs_len += (uint32_t)n;
	handshake_messages(c, dir, ts);
}

static void record_done(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	if (d->type == CT_CCS)
		d->encrypted = true;
	if (d->type != CT_APPDATA)
		return;
	/* TLS 1.3 (RFC 8446 §5): the encrypted handshake travels as
	 * application data; the client's first such record is its Finished,
	 * so its application data starts with the second. */
	bool v13 = c->have_sh && c->sh.version == 0x0304;
	d->appdata_seen++;
	bool app = dir == KL_TO_SERVER && d->appdata_seen > (v13 ? 1u : 0u);
	if (app && !c->client_app_ts)
		c->client_app_ts = ts;
	if (!d->first_appdata)
		d->first_appdata = ts;
	/* Exchanges, estimated: a run of client records answered by the
	 * server.  Records of 32 bytes or less are encrypted alerts
	 * (close_notify: 19 to 26 bytes), not requests. */
	if (app && d->reclen > 32)
		c->client_run = true;
	else if (dir == KL_TO_CLIENT && c->client_run) {
		c->client_run = false;
		c->exchanges++;
	}
}

static void tls_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
		     kl_time ts)
{
	(void)off;
	struct tls_conn *c = ctx;
	struct tls_dir *d = &c->d[dir];
	while (n && !d->lost) {
		if (d->left == 0 && d->hlen < 5) {
			size_t need = 5u - d->hlen;
			size_t k = need < n ? need : n;
			memcpy(d->hdr + d->hlen, p, k);
			d->hlen = (uint8_t)(d->hlen + k);
			p += k;
			n -= k;
			if (d->hlen < 5)
				return;
			uint32_t len = (uint32_t)d->hdr[3] << 8 | d->hdr[4];
			if (d->hdr[0] < CT_CCS || d->hdr[0] > CT_APPDATA || d->hdr[1] != 3 ||
			    len > TLS_RECORD_MAX) {
				tls_finding(c, ts, "not a TLS record header: the record layer is lost");
				d->lost = true;
				return;
			}
			d->type = d->hdr[0];
			d->records[d->type - CT_CCS]++;
			d->left = len;
			d->reclen = len;
			d->hlen = 0;
			if (len == 0) {
				record_done(c, dir, ts);
				continue;
			}
		}
		size_t k = d->left < n ? d->left : n;
		if (d->type == CT_HANDSHAKE && !d->encrypted)
			gather_handshake(c, dir, p, k, ts);
		p += k;
		n -= k;
		d->left -= (uint32_t)k;
		if (d->left == 0)
			record_done(c, dir, ts);
	}
}

static void tls_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	(void)off, (void)ts;
	struct tls_conn *c = ctx;
	struct tls_dir *d = &c->d[dir];
	/* Inside an application data record a gap costs nothing but bytes;
	 * anywhere else the record boundaries are lost. */
	if (d->left && d->type == CT_APPDATA && len <= d->left) {
		d->left -= (uint32_t)len;
		if (d->left == 0)
			record_done(c, dir, ts);
		return;
	}
	d->lost = true;
}

static void tls_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	(void)ctx, (void)dir, (void)ts;
}

static void tls_summarize(const void *ctx, struct conn_record *r)
{
	const struct tls_conn *c = ctx;
	if (c->have_sh)
		r->tls_version = c->sh.version;
	else if (c->have_ch)
		r->tls_version = c->ch.version;
	if (c->have_ch) {
		snprintf(r->tls_sni, sizeof r->tls_sni, "%s", c->ch.sni);
		if (!c->have_sh)
			snprintf(r->tls_alpn, sizeof r->tls_alpn, "%.63s", c->ch.alpn);
	}
	if (c->have_sh) {
		snprintf(r->tls_alpn, sizeof r->tls_alpn, "%.63s", c->sh.alpn);
		r->tls_cipher = c->sh.cipher;
		/* Resumed: TLS 1.3 accepted a PSK; TLS 1.2 and below echoed the
		 * client's (non-empty) session id. */
		if (c->sh.version == 0x0304)
			r->tls_resumed = c->sh.pre_shared_key ? 1 : 0;
		else if (c->have_ch)
			r->tls_resumed = c->ch.session_id_len && c->ch.session_id_len ==
					 c->sh.session_id_len && !memcmp(c->ch.session_id,
					 c->sh.session_id, c->ch.session_id_len) ? 1 : 0;
	}
	if (c->have_ch && c->client_app_ts >= c->ch_ts && c->client_app_ts) {
		r->has_tls_handshake = true;
		r->tls_handshake = c->client_app_ts - c->ch_ts;
	}
	r->tls_records[KL_TO_SERVER] = c->d[KL_TO_SERVER].records[CT_APPDATA - CT_CCS];
	r->tls_records[KL_TO_CLIENT] = c->d[KL_TO_CLIENT].records[CT_APPDATA - CT_CCS];
	r->tls_exchanges = c->exchanges;
}

const struct dissector tls_dissector = {
	.name = "tls",
	.probe = tls_probe,
	.ctx_new = tls_ctx_new,
	.ctx_free = tls_ctx_free,
	.data = tls_data,
	.gap = tls_gap,
	.eof = tls_eof,
	.protocol = NULL,
	.summarize = tls_summarize,
};
