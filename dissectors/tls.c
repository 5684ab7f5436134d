/*
 * tls.c - see tls.h.
 *
 * A TLS connection starts with a handshake record (RFC 8446 §5.1): content
 * type 22, legacy record version 3.x with x from 0 (SSL 3.0) to 4, and a
 * length of at most 2^14 + 2048 bytes.  Either direction may be seen first
 * (a capture may miss the ClientHello but see the ServerHello).  Or the
 * client starts with a ClientHello in the SSL 2.0 format (RFC 5246
 * appendix E.2: a 2-byte record header with the high bit set, message
 * type 1, version 3.x), which old clients sent to reach SSL 2.0 servers
 * too; a TLS server answers with a TLS ServerHello, and the records go on
 * as TLS.
 */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http2.h"
#include "rd.h"
#include "tls_crypto.h"
#include "tls_hello.h"
#include "tls_keylog.h"

/* The first bytes of an SSL 2.0-format ClientHello offering SSL 3.0 or
 * TLS: a length of at least the fixed fields (9 bytes), one cipher spec
 * (3) and the shortest challenge (16); message type 1; version 3.x with x
 * up to 4. */
static enum dissect_verdict sslv2_probe(const uint8_t *p, size_t n)
{
	struct rd r = rd_make(p, n < 5 ? n : 5);
	if (rd_left(&r) < 2)
		return DISSECT_MORE;
	if ((rd_be16(&r) & 0x7fffu) < 9 + 3 + 16)
		return DISSECT_NO;
	if (rd_left(&r) >= 1 && rd_u8(&r) != TLS_HS_CLIENT_HELLO)
		return DISSECT_NO;
	if (rd_left(&r) >= 1 && rd_u8(&r) != 3)
		return DISSECT_NO;
	if (rd_left(&r) >= 1 && rd_u8(&r) > 4)
		return DISSECT_NO;
	return n >= 5 ? DISSECT_YES : DISSECT_MORE;
}

static enum dissect_verdict tls_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	struct rd first = rd_make(p, n);
	if (dir == KL_TO_SERVER && rd_left(&first) && (rd_u8(&first) & 0x80))
		return sslv2_probe(p, n);
	struct rd r = rd_make(p, n < 5 ? n : 5);
	if (rd_left(&r) >= 1 && rd_u8(&r) != 22)        /* handshake */
		return DISSECT_NO;
	if (rd_left(&r) >= 1 && rd_u8(&r) != 3)         /* legacy version 3.x */
		return DISSECT_NO;
	if (rd_left(&r) >= 1 && rd_u8(&r) > 4)
		return DISSECT_NO;
	if (rd_left(&r) < 2)
		return DISSECT_MORE;
	unsigned len = rd_be16(&r);
	return len > 0 && len <= (1u << 14) + 2048 ? DISSECT_YES : DISSECT_NO;
}

#define TLS_RECORD_MAX ((1u << 14) + 2048)   /* RFC 8446 §5.2: ciphertext limit */
#define TLS_HS_KEEP 65536u                     /* handshake bytes gathered per direction */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
/* Not a content type: the client's first record is an SSL 2.0-format
 * ClientHello (its header's high bit is set; TLS content types are < 128). */
enum { CT_SSL2_HELLO = 128 };

struct tls_dir {
	uint8_t hdr[5];
	uint8_t hlen;                 /* header bytes gathered */
	uint32_t left;                /* body bytes of the current record still to come */
	uint8_t type;                 /* of the current record */
	uint32_t reclen;              /* its length */
	bool lost;                    /* a gap or a bad header: the record layer is lost */
	bool seen;                    /* a record header was read */
	bool encrypted;               /* after ChangeCipherSpec: handshake records are opaque */
	uint8_t *hs;                  /* handshake bytes gathered (plaintext only) */
	uint32_t hs_len;
	uint64_t records[4];          /* by content type 20..23 */
	kl_time first_appdata;
	uint64_t appdata_seen;

	/* Decryption (NULL rp: none in this direction). */
	struct tls_recprot *rp;       /* the keys of the records now */
	struct tls_recprot *rp_next;  /* TLS 1.3: the keys that come next: the application
				       * keys while rp has the handshake's; later the next
				       * generation, made when a record fails */
	bool opening;                 /* the current record is to be opened */
	bool rec_broken;              /* bytes of it were lost */
	uint8_t rec_hdr[5];
	uint8_t *rec;                 /* its bytes, when it spans segments */
	uint32_t rec_len;
	uint64_t pt_off;              /* plaintext stream offset, for the layer above */
	/* TLS 1.3 handshake messages inside records: Finished switches to the
	 * application keys, KeyUpdate to the next generation. */
	uint8_t hm_hdr[4];
	uint8_t hm_hlen;
	uint32_t hm_left;
	bool switch_keys, update_keys;
	uint8_t ee[512];              /* TLS 1.3: the server's EncryptedExtensions, gathered */
	uint32_t ee_len;
	bool app_phase;               /* TLS 1.3: rp has application keys */
	uint64_t protected_seen;      /* protected records before the keys were found */
	uint64_t failures;
	uint8_t alert[2];             /* a plaintext alert record's level and description */
	uint8_t alert_len;
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

	struct tls_keylog *keylog;    /* borrowed; NULL: no decryption */
	enum { KEYS_UNTRIED, KEYS_NONE, KEYS_SET } keys;
	uint8_t *pt;                  /* one record's plaintext: the table's scratch, or own */
	bool pt_own;
	bool decrypted;               /* some record authenticated */
	bool inner_tried;             /* the plaintext's first byte went up */
	/* The first alert that ended a side (close_notify, fatal, or one that
	 * could not be read): who sent it, when, and its description
	 * (ALERT_ENCRYPTED: unread). */
	bool have_close;
	enum kl_dir close_dir;
	kl_time close_ts;
	int close_alert;
	struct dissect_conn_info info;
	uint8_t client_ip[16], server_ip[16];
};

static void *tls_ctx_new(const struct dissect_conn_info *info)
{
	struct tls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	c->keylog = info->keylog;
	c->info = *info;
	memcpy(c->client_ip, info->client_ip, 16);
	memcpy(c->server_ip, info->server_ip, 16);
	c->info.client_ip = c->client_ip;
	c->info.server_ip = c->server_ip;
	return c;
}

static size_t tls_mem(const void *ctx)
{
	const struct tls_conn *c = ctx;
	size_t n = kl_heap_bytes(sizeof *c) + (c->pt_own ? kl_heap_bytes(TLS_RECORD_MAX) : 0);
	for (int i = 0; i < 2; i++)
		n += (c->d[i].hs ? kl_heap_bytes(TLS_HS_KEEP) : 0) +
		     (c->d[i].rec ? kl_heap_bytes(TLS_RECORD_MAX) : 0) +
		     tls_recprot_mem(c->d[i].rp) + tls_recprot_mem(c->d[i].rp_next);
	return n;
}

static void tls_ctx_free(void *ctx)
{
	struct tls_conn *c = ctx;
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		free(c->d[i].hs);
		free(c->d[i].rec);
		tls_recprot_free(c->d[i].rp);
		tls_recprot_free(c->d[i].rp_next);
	}
	if (c->pt_own)
		free(c->pt);
	free(c);
}

static void finding(struct tls_conn *c, kl_time ts, enum finding_kind kind, const char *detail)
{
	if (!c->out || !c->out->finding)
		return;
	struct finding_record f = { c->conn_id, 0, ts, kind, detail };
	c->out->finding(c->out->ctx, &f);
}

static void tls_finding(struct tls_conn *c, kl_time ts, const char *detail)
{
	finding(c, ts, FINDING_TLS_PARSE_ERROR, detail);
}

/* Whole handshake messages at the front of the gathered bytes. */
static void handshake_messages(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	uint32_t at = 0;
	while (d->hs_len - at >= 4) {
		struct rd r = rd_make(d->hs + at, d->hs_len - at);
		uint8_t type = rd_u8(&r);
		uint32_t len = rd_be24(&r);
		if (len > TLS_HS_KEEP - 4) {
			tls_finding(c, ts, "handshake message over 64 KiB");
			d->lost = true;
			break;
		}
		if (d->hs_len - at < 4 + len)
			break;                    /* the rest comes in later records */
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

/* Bytes of the client's SSL 2.0-format ClientHello record, its header
 * included, gathered in the handshake buffer (a record is at most
 * 2 + 0x7fff bytes: it fits). */
static void sslv2_bytes(struct tls_conn *c, const uint8_t *p, size_t n)
{
	struct tls_dir *d = &c->d[KL_TO_SERVER];
	if (d->lost || c->have_ch)
		return;
	if (!d->hs && !(d->hs = malloc(TLS_HS_KEEP))) {
		d->lost = true;
		return;
	}
	if (n > TLS_HS_KEEP - d->hs_len) {
		d->lost = true;               /* cannot be: the record is shorter */
		return;
	}
	memcpy(d->hs + d->hs_len, p, n);
	d->hs_len += (uint32_t)n;
}

static void sslv2_hello(struct tls_conn *c, kl_time ts)
{
	struct tls_dir *d = &c->d[KL_TO_SERVER];
	if (!d->hs)
		return;
	if (tls_hello_parse_v2(d->hs, d->hs_len, &c->ch) == 0) {
		c->have_ch = true;
		c->ch_ts = ts;
	} else if (!c->bad_hello) {
		c->bad_hello = true;
		tls_finding(c, ts, "malformed SSL 2.0-format ClientHello");
	}
	free(d->hs);
	d->hs = NULL;
	d->hs_len = 0;
}

/* ---- alerts ---------------------------------------------------------------- */

/* An alert record whose plaintext kalens did not read: TLS 1.2 and older
 * protect alerts after ChangeCipherSpec (tshark: "Encrypted Alert"). */
#define ALERT_ENCRYPTED (-1)

/* An alert from direction dir (RFC 8446 §6): close_notify (0) and fatal
 * alerts end the sender's side of the connection; warnings do not.  One
 * that cannot be read is, after the handshake, almost always a
 * close_notify, and ends the sender's side either way (a warning there is
 * all but unheard of): it counts as closing.  The first closing alert of
 * the connection is a TLS fact, and tells the flow layer who began the
 * close (dissect_closing). */
static void alert_seen(struct tls_conn *c, enum kl_dir dir, kl_time ts, int level, int desc)
{
	bool closing = desc == ALERT_ENCRYPTED || desc == 0 || level == 2;
	if (!closing || c->have_close)
		return;
	c->have_close = true;
	c->close_dir = dir;
	c->close_ts = ts;
	c->close_alert = desc;
	dissect_closing(c->info.link, dir, ts,
			desc == 0 ? "TLS close_notify" :
			desc == ALERT_ENCRYPTED ? "TLS encrypted alert" : "TLS fatal alert");
}

/* TLS 1.3 without keys: the length of a protected record holding one
 * alert (RFC 8446 §5.2: 2 bytes, the inner content type, the AEAD tag;
 * AES-CCM-8's tag is 8 bytes, every other suite's 16).  Nothing else is
 * that short: application data of 2 bytes aside, the shortest handshake
 * message protected (KeyUpdate) is 22 bytes.  Senders may pad records, but
 * the common stacks do not. */
static uint32_t tls13_alert_record_len(const struct tls_conn *c)
{
	return 2 + 1 + (c->sh.cipher == 0x1305 ? 8u : 16u);
}

/* ---- decryption ----------------------------------------------------------- */

/* TLS 1.3 or a draft of it (tls_version_is_13): the handshake after the
 * ServerHello is encrypted, in application-data records. */
static bool is_tls13(const struct tls_conn *c)
{
	return c->have_sh && c->sh.tls13;
}

static struct tls_recprot *secret_recprot(struct tls_conn *c, const struct tls_suite *s,
					  enum tls_secret kind)
{
	size_t len = 0;
	const uint8_t *sec = tls_keylog_find(c->keylog, c->ch.random, kind, &len);
	return sec ? tls13_recprot_new(s, sec, len) : NULL;
}

/* The keys of both directions, from the key log.  Secrets not (yet) in
 * the log leave the connection KEYS_UNTRIED: a client writing its key log
 * during a live capture may add them a moment later, and the records that
 * go by meanwhile are counted (protected_seen) so the sequence numbers
 * catch up.  A suite or version kalens cannot decrypt is KEYS_NONE with a
 * finding. */
static void keys_setup(struct tls_conn *c, kl_time ts)
{
	bool v13 = is_tls13(c);
	enum tls_secret probe = v13 ? TLS_CLIENT_APP_SECRET_0 : TLS_MASTER_SECRET;
	size_t len = 0;
	if (!tls_keylog_find(c->keylog, c->ch.random, probe, &len)) {
		tls_keylog_refresh(c->keylog);    /* cheap when the file has not grown */
		if (!tls_keylog_find(c->keylog, c->ch.random, probe, &len))
			return;                   /* no keys (yet): TLS facts only */
	}
	char detail[128];
	/* The drafts of TLS 1.3 derived their keys with other labels: only
	 * the final version is decrypted. */
	const struct tls_suite *s = v13 && c->sh.version != 0x0304 ? NULL
								     : tls_suite_find(c->sh.cipher);
	struct tls_dir *cl = &c->d[KL_TO_SERVER], *sv = &c->d[KL_TO_CLIENT];
	if (s && s->tls13 == v13 && v13) {
		cl->rp = secret_recprot(c, s, TLS_CLIENT_HS_SECRET);
		cl->rp_next = secret_recprot(c, s, TLS_CLIENT_APP_SECRET_0);
		sv->rp = secret_recprot(c, s, TLS_SERVER_HS_SECRET);
		sv->rp_next = secret_recprot(c, s, TLS_SERVER_APP_SECRET_0);
		/* Without handshake secrets rp stays NULL: the application
		 * keys are tried (rp_next) until a record opens with them. */
	} else if (s && s->tls13 == v13) {
		const uint8_t *m = tls_keylog_find(c->keylog, c->ch.random, TLS_MASTER_SECRET, &len);
		tls12_recprot_new(s, c->sh.version, c->sh.encrypt_then_mac, m, len, c->ch.random,
				  c->sh.random, &cl->rp, &sv->rp);
	}
	/* The plaintext of a record lives only until it is delivered, so
	 * connections share the flow table's scratch when there is one. */
	if (c->info.scratch && DISSECT_SCRATCH_BYTES >= TLS_RECORD_MAX)
		c->pt = c->info.scratch;
	else if ((c->pt = malloc(TLS_RECORD_MAX)))
		c->pt_own = true;
	if ((cl->rp || cl->rp_next || sv->rp || sv->rp_next) && c->pt) {
		c->keys = KEYS_SET;
		for (int i = 0; i < 2; i++)
			for (uint64_t k = 0; c->d[i].rp && k < c->d[i].protected_seen; k++)
				tls_recprot_skip(c->d[i].rp);
		return;
	}
	for (int i = 0; i < 2; i++) {
		tls_recprot_free(c->d[i].rp);
		tls_recprot_free(c->d[i].rp_next);
		c->d[i].rp = c->d[i].rp_next = NULL;
	}
	c->keys = KEYS_NONE;
	char ver[32];
	snprintf(detail, sizeof detail, "%s with cipher suite 0x%04x is not something kalens "
		 "decrypts", tls_version_name(c->sh.version, ver, sizeof ver), c->sh.cipher);
	finding(c, ts, FINDING_TLS_DECRYPT_ERROR, detail);
}

/* Is the record that starts now protected, and can it be opened? */
static bool will_open(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	if (!c->keylog || c->keys == KEYS_NONE || !c->have_ch || !c->have_sh)
		return false;             /* before the ServerHello: 0-RTT data, not opened */
	/* TLS 1.3 protects every record but ChangeCipherSpec as application
	 * data; TLS 1.2 and older protect what follows ChangeCipherSpec. */
	bool protected = is_tls13(c) ? d->type == CT_APPDATA : d->encrypted && d->type != CT_CCS;
	if (!protected)
		return false;
	if (c->keys == KEYS_UNTRIED)
		keys_setup(c, ts);
	if (c->keys != KEYS_SET) {
		d->protected_seen++;
		return false;
	}
	return d->rp || d->rp_next;
}

static void inner_gap(struct tls_conn *c, enum kl_dir dir, uint64_t len, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	dissect_up_gap(c->info.link, dir, d->pt_off, len, ts);
	d->pt_off += len;
}

/* Application data in the clear: a stream of its own, which the flow
 * layer probes (HTTP/1, an HTTP/2 preface, ...), or hands to HTTP/2 when
 * ALPN chose h2 (the server's SETTINGS may come before the client's
 * preface, which the probe looks for). */
static void deliver(struct tls_conn *c, enum kl_dir dir, const uint8_t *p, size_t n, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	if (!c->inner_tried && n) {
		c->inner_tried = true;
		if (c->have_sh && strcmp(c->sh.alpn, "h2") == 0)
			dissect_up_bind(c->info.link, &http2_dissector);
	}
	dissect_up_data(c->info.link, dir, p, n, d->pt_off, ts);
	d->pt_off += n;
}

/* The server's EncryptedExtensions (RFC 8446 §4.3.1): in TLS 1.3 the ALPN
 * protocol the server chose is there, not in the ServerHello. */
static void encrypted_extensions(struct tls_conn *c, const uint8_t *p, size_t n)
{
	struct rd r = rd_make(p, n);
	struct rd exts = rd_vec16(&r);
	while (rd_more(&exts)) {
		unsigned type = rd_be16(&exts);
		struct rd ext = rd_vec16(&exts);
		if (type != 16)           /* ALPN: a list (2-byte length) of one name */
			continue;
		struct rd list = rd_vec16(&ext);
		struct rd name = rd_vec8(&list);
		size_t nl = rd_left(&name);
		const uint8_t *s = rd_span(&name, nl);
		if (!s || !rd_ok(&ext) || !rd_ok(&list))
			return;
		char out[sizeof c->sh.alpn];
		size_t k = nl < sizeof out - 1 ? nl : sizeof out - 1;
		for (size_t i = 0; i < k; i++)
			out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
		out[k] = '\0';
		memcpy(c->sh.alpn, out, k + 1);
	}
}

/* TLS 1.3 handshake messages after the ServerHello, as they are decrypted:
 * a direction's Finished ends its handshake keys (no message spans a key
 * change, RFC 8446 §5.1), a KeyUpdate its current generation (§4.6.3); the
 * server's EncryptedExtensions says which ALPN protocol it chose. */
static void handshake13(struct tls_conn *c, struct tls_dir *d, const uint8_t *p, size_t n)
{
	bool server = d == &c->d[KL_TO_CLIENT];
	while (n) {
		if (d->hm_left == 0) {
			size_t k = 4u - d->hm_hlen < n ? 4u - d->hm_hlen : n;
			memcpy(d->hm_hdr + d->hm_hlen, p, k);
			d->hm_hlen = (uint8_t)(d->hm_hlen + k);
			p += k;
			n -= k;
			if (d->hm_hlen < 4)
				return;
			struct rd r = rd_make(d->hm_hdr + 1, 3);
			d->hm_left = rd_be24(&r);
			d->ee_len = 0;
		} else {
			size_t k = d->hm_left < n ? d->hm_left : n;
			if (server && d->hm_hdr[0] == 8 && d->ee_len + k <= sizeof d->ee) {
				memcpy(d->ee + d->ee_len, p, k);
				d->ee_len += (uint32_t)k;
			}
			d->hm_left -= (uint32_t)k;
			p += k;
			n -= k;
		}
		if (d->hm_hlen == 4 && d->hm_left == 0) {
			struct rd r = rd_make(d->hm_hdr + 1, 3);
			uint32_t len = rd_be24(&r);
			if (server && d->hm_hdr[0] == 8 && d->ee_len == len)
				encrypted_extensions(c, d->ee, d->ee_len);
			if (d->hm_hdr[0] == 20 && !d->app_phase)
				d->switch_keys = true;
			else if (d->hm_hdr[0] == 24 && d->app_phase)
				d->update_keys = true;
			d->hm_hlen = 0;
		}
	}
}

/* rp_next becomes the keys in use. */
static void next_keys(struct tls_dir *d)
{
	tls_recprot_free(d->rp);
	d->rp = d->rp_next;
	d->rp_next = NULL;
	d->app_phase = true;
	d->hm_hlen = 0;
	d->hm_left = 0;
}

static void open_failed(struct tls_conn *c, enum kl_dir dir, size_t n, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	/* TLS 1.3 with no handshake secrets in the log: the encrypted
	 * handshake cannot be opened, and is not application data. */
	if (!d->rp && !d->app_phase)
		return;
	if (d->type == CT_ALERT)
		alert_seen(c, dir, ts, 0, ALERT_ENCRYPTED);
	if (d->failures++ == 0) {
		char detail[160];
		snprintf(detail, sizeof detail, "a record %s does not authenticate: wrong or "
			 "missing key, or records missed", dir == KL_TO_SERVER ?
			 "to the server" : "to the client");
		finding(c, ts, FINDING_TLS_DECRYPT_ERROR, detail);
	}
	/* A handshake message this record continued is lost with it. */
	d->hm_hlen = 0;
	d->hm_left = 0;
	const struct tls_recprot *p = d->rp ? d->rp : d->rp_next;
	size_t over = p ? tls_recprot_overhead(p) : 0;
	inner_gap(c, dir, n > over ? n - over : 0, ts);
}

static void open_record(struct tls_conn *c, enum kl_dir dir, const uint8_t *body, size_t n,
			kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	uint8_t type = 0;
	long m = d->rp ? tls_recprot_open(d->rp, d->rec_hdr, body, n, c->pt, &type) : -1;
	if (m < 0 && is_tls13(c)) {
		/* The keys that come next, tried without spending their sequence
		 * number: the application keys when the handshake's Finished was
		 * missed (or the log has no handshake secrets), the next
		 * generation when a KeyUpdate was. */
		if (!d->rp_next && d->app_phase && d->rp)
			d->rp_next = tls13_recprot_next(d->rp);
		if (d->rp_next &&
		    (m = tls_recprot_trial(d->rp_next, d->rec_hdr, body, n, c->pt, &type)) >= 0)
			next_keys(d);
	}
	if (m < 0) {
		open_failed(c, dir, n, ts);
		return;
	}
	c->decrypted = true;
	if (type == CT_APPDATA)
		deliver(c, dir, c->pt, (size_t)m, ts);
	else if (type == CT_ALERT && m >= 2)
		alert_seen(c, dir, ts, c->pt[0], c->pt[1]);
	else if (type == CT_HANDSHAKE && is_tls13(c))
		handshake13(c, d, c->pt, (size_t)m);
	if (d->switch_keys) {
		d->switch_keys = false;
		next_keys(d);             /* without application secrets: none (rp NULL) */
	}
	if (d->update_keys) {
		d->update_keys = false;
		if (d->rp_next)
			next_keys(d);     /* the next generation, made when a record failed */
		else if (tls13_recprot_update(d->rp)) {
			tls_recprot_free(d->rp);
			d->rp = NULL;
		}
	}
}

/* Body bytes of a record being opened: straight from the segment when the
 * whole record is in it, else gathered. */
static void open_bytes(struct tls_conn *c, enum kl_dir dir, const uint8_t *p, size_t k,
		       kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	if (d->rec_broken)
		return;
	if (d->left == d->reclen && k == d->left) {
		open_record(c, dir, p, k, ts);
		return;
	}
	if (!d->rec && !(d->rec = malloc(TLS_RECORD_MAX))) {
		d->rec_broken = true;
		return;
	}
	memcpy(d->rec + d->rec_len, p, k);
	d->rec_len += (uint32_t)k;
	if (d->rec_len == d->reclen)
		open_record(c, dir, d->rec, d->rec_len, ts);
}

/* The end of a record that was to be opened but lost bytes. */
static void broken_record(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	d->hm_hlen = 0;
	d->hm_left = 0;
	if (d->rp)
		tls_recprot_skip(d->rp);
	const struct tls_recprot *p = d->rp ? d->rp : d->rp_next;
	size_t over = p ? tls_recprot_overhead(p) : 0;
	inner_gap(c, dir, d->reclen > over ? d->reclen - over : 0, ts);
}

static void record_done(struct tls_conn *c, enum kl_dir dir, kl_time ts)
{
	struct tls_dir *d = &c->d[dir];
	bool opened = d->opening;
	if (d->opening && d->rec_broken)
		broken_record(c, dir, ts);
	d->opening = false;
	if (d->type == CT_SSL2_HELLO) {
		sslv2_hello(c, ts);
		return;
	}
	if (d->type == CT_CCS)
		d->encrypted = true;
	if (d->type == CT_ALERT) {
		/* Opened ones were read by open_record().  TLS 1.3 protects
		 * alerts inside application-data records: one of type 21 is in
		 * the clear, as are those before ChangeCipherSpec. */
		if (opened ? d->rec_broken : d->encrypted && !is_tls13(c))
			alert_seen(c, dir, ts, 0, ALERT_ENCRYPTED);
		else if (!opened && d->alert_len == 2)
			alert_seen(c, dir, ts, d->alert[0], d->alert[1]);
		return;
	}
	if (d->type != CT_APPDATA)
		return;
	if (!opened && is_tls13(c) && d->reclen == tls13_alert_record_len(c))
		alert_seen(c, dir, ts, 0, ALERT_ENCRYPTED);
	/* TLS 1.3 (RFC 8446 §5): the encrypted handshake travels as
	 * application data; the client's first such record is its Finished,
	 * so its application data starts with the second. */
	bool v13 = is_tls13(c);
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
			struct rd r = rd_make(d->hdr, 5);
			uint8_t type = rd_u8(&r), major = rd_u8(&r);
			rd_skip(&r, 1);
			uint32_t len = rd_be16(&r);
			if (dir == KL_TO_SERVER && !d->seen && (type & 0x80)) {
				/* An SSL 2.0-format ClientHello: a 2-byte header
				 * (the length, high bit set), so the last 3 bytes
				 * gathered are the message's. */
				struct rd h2 = rd_make(d->hdr, 2);
				len = rd_be16(&h2) & 0x7fffu;
				d->seen = true;
				d->type = CT_SSL2_HELLO;
				d->hlen = 0;
				d->opening = false;
				if (len < 3) {
					tls_finding(c, ts, "malformed SSL 2.0-format ClientHello");
					d->lost = true;
					return;
				}
				d->left = len - 3;
				d->reclen = len;
				sslv2_bytes(c, d->hdr, 5);
				if (d->left == 0) {
					record_done(c, dir, ts);
					continue;
				}
			} else {
				if (type < CT_CCS || type > CT_APPDATA || major != 3 ||
				    len > TLS_RECORD_MAX) {
					tls_finding(c, ts, "not a TLS record header: the record layer "
						    "is lost");
					d->lost = true;
					return;
				}
				d->seen = true;
				d->type = type;
				d->records[d->type - CT_CCS]++;
				d->left = len;
				d->reclen = len;
				d->hlen = 0;
				d->alert_len = 0;
				d->opening = will_open(c, dir, ts);
				if (d->opening) {
					memcpy(d->rec_hdr, d->hdr, 5);
					d->rec_len = 0;
					d->rec_broken = false;
				}
				if (len == 0) {
					if (d->opening)
						open_record(c, dir, p, 0, ts);
					record_done(c, dir, ts);
					continue;
				}
			}
		}
		size_t k = d->left < n ? d->left : n;
		if (d->opening)
			open_bytes(c, dir, p, k, ts);
		else if (d->type == CT_HANDSHAKE && !d->encrypted)
			gather_handshake(c, dir, p, k, ts);
		else if (d->type == CT_SSL2_HELLO)
			sslv2_bytes(c, p, k);
		else if (d->type == CT_ALERT)
			for (size_t i = 0; i < k && d->alert_len < 2; i++)
				d->alert[d->alert_len++] = p[i];
		p += k;
		n -= k;
		d->left -= (uint32_t)k;
		if (d->left == 0)
			record_done(c, dir, ts);
	}
}

static void tls_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	(void)off;
	struct tls_conn *c = ctx;
	struct tls_dir *d = &c->d[dir];
	/* Inside an application data record (or any record being opened) a
	 * gap costs that record; anywhere else the record boundaries are lost. */
	if (d->lost)
		return;
	if (d->left && (d->type == CT_APPDATA || d->opening) && len <= d->left) {
		d->left -= (uint32_t)len;
		d->rec_broken = true;
		if (d->left == 0)
			record_done(c, dir, ts);
		return;
	}
	d->lost = true;
	inner_gap(c, dir, len, ts);
}

/* The end of the plaintext stream is the flow layer's to tell its layer. */
static void tls_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	(void)ctx;
	(void)dir;
	(void)ts;
}

static void tls_facts(const void *ctx, const struct conn_record *tcp, struct facts_set *set)
{
	const struct tls_conn *c = ctx;
	struct tls_facts *f = facts_set_get(set, FACTS_TLS);
	(void)tcp;
	f->decrypted = c->decrypted;
	if (c->have_sh)
		f->version = c->sh.version;
	else if (c->have_ch)
		f->version = c->ch.version;
	if (c->have_ch) {
		snprintf(f->sni, sizeof f->sni, "%s", c->ch.sni);
		if (!c->have_sh)
			snprintf(f->alpn, sizeof f->alpn, "%.63s", c->ch.alpn);
	}
	if (c->have_sh) {
		snprintf(f->alpn, sizeof f->alpn, "%.63s", c->sh.alpn);
		f->cipher = c->sh.cipher;
		/* Resumed: TLS 1.3 accepted a PSK; TLS 1.2 and below echoed the
		 * client's (non-empty) session id. */
		if (c->sh.tls13)
			f->resumed = c->sh.pre_shared_key ? 1 : 0;
		else if (c->have_ch)
			f->resumed = c->ch.session_id_len && c->ch.session_id_len ==
				     c->sh.session_id_len && !memcmp(c->ch.session_id,
				     c->sh.session_id, c->ch.session_id_len) ? 1 : 0;
	}
	if (c->have_ch && c->client_app_ts >= c->ch_ts && c->client_app_ts) {
		f->has_handshake = true;
		f->handshake = c->client_app_ts - c->ch_ts;
	}
	f->records[KL_TO_SERVER] = c->d[KL_TO_SERVER].records[CT_APPDATA - CT_CCS];
	f->records[KL_TO_CLIENT] = c->d[KL_TO_CLIENT].records[CT_APPDATA - CT_CCS];
	f->exchanges = c->exchanges;
	if (c->have_close) {
		f->close_by = c->close_dir == KL_TO_SERVER ? CONN_CLOSER_CLIENT : CONN_CLOSER_SERVER;
		f->close_ts = c->close_ts;
		f->close_alert = c->close_alert;
	}
}

/* The TLS Alerts registry of IANA (RFC 8446 §6 and the RFCs it lists). */
const char *tls_alert_name(uint8_t desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 21: return "decryption_failed";
	case 22: return "record_overflow";
	case 30: return "decompression_failure";
	case 40: return "handshake_failure";
	case 41: return "no_certificate";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 60: return "export_restriction";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	case 121: return "ech_required";
	default: return NULL;
	}
}

static struct col_value close_alert_value(const struct tls_facts *f, char *buf, size_t len)
{
	if (f->close_by == CONN_CLOSER_NONE)
		return cv_null();
	if (f->close_alert < 0)
		return cv_text("encrypted");
	const char *name = tls_alert_name((uint8_t)f->close_alert);
	if (name)
		return cv_text(name);
	snprintf(buf, len, "alert %d", f->close_alert);
	return cv_text_copy(buf);
}

/* Names as tshark 4.0 gives them (tshark -G values: the field
 * tls.handshake.extensions.supported_version), drafts it has no name for
 * (before 14, after 28) by the same rule. */
const char *tls_version_name(uint16_t v, char *buf, size_t len)
{
	switch (v) {
	case 0x0300: snprintf(buf, len, "SSL 3.0"); break;
	case 0x0301: snprintf(buf, len, "TLS 1.0"); break;
	case 0x0302: snprintf(buf, len, "TLS 1.1"); break;
	case 0x0303: snprintf(buf, len, "TLS 1.2"); break;
	case 0x0304: snprintf(buf, len, "TLS 1.3"); break;
	case 0xfb17: snprintf(buf, len, "TLS 1.3 (Facebook draft 23)"); break;
	case 0xfb1a: snprintf(buf, len, "TLS 1.3 (Facebook draft 26)"); break;
	default:
		if ((v & 0xff00) == 0x7f00)   /* draft-ietf-tls-tls13 §4.2.1: 0x7f00 + draft */
			snprintf(buf, len, "TLS 1.3 (draft %u)", v & 0xffu);
		else
			snprintf(buf, len, "0x%04x", v);
		break;
	}
	return buf;
}

const char *tls_cipher_hex(uint16_t cipher, char *buf, size_t len)
{
	snprintf(buf, len, "0x%04x", cipher);
	return buf;
}

/* ---- the TLS columns of `connections` --------------------------------------- */

#define TLS_FACTS_COLUMNS(X) \
	X(tls_version, TEXT, 0, NULL, "", \
	  "TLS connections: the version the server chose (`TLS 1.2`, `TLS 1.3`: its " \
	  "`supported_versions` extension, else the ServerHello version; also when the " \
	  "client's hello was in the SSL 2.0 format), named as tshark names it: TLS 1.3 " \
	  "drafts `TLS 1.3 (draft 18)` (0x7f00 + draft), Facebook's variants `TLS 1.3 " \
	  "(Facebook draft 26)` (0xfb1a; 0xfb17: draft 23), read as TLS 1.3; a version " \
	  "without a name as its number (`0x7e02`); without a ServerHello in the capture, " \
	  "the highest the client offered", \
	  "not TLS", \
	  f->version ? cv_text_copy(tls_version_name(f->version, buf, len)) : cv_null()) \
	X(sni, TEXT, 0, NULL, "", \
	  "the ClientHello's server name (SNI)", \
	  "not TLS, or no server name sent", \
	  f->version ? cv_text_nonempty(f->sni) : cv_null()) \
	X(alpn, TEXT, 0, NULL, "", \
	  "the ALPN protocol the server chose (`h2`, `http/1.1`): TLS 1.2 in its " \
	  "ServerHello; TLS 1.3 in its encrypted EncryptedExtensions, so only for a " \
	  "connection decrypted with `--keylog`; without a ServerHello, the client's " \
	  "offers, comma-separated", \
	  "none negotiated, or TLS 1.3 not decrypted", \
	  f->version ? cv_text_nonempty(f->alpn) : cv_null()) \
	X(cipher, TEXT, 0, NULL, "", \
	  "the cipher suite the server chose, as its IANA number in hex (`0xc030`, " \
	  "`0x1302`), as tshark shows it", \
	  "no ServerHello", \
	  f->version && f->cipher ? cv_text_copy(tls_cipher_hex(f->cipher, buf, len)) : cv_null()) \
	X(tls_resumed, INTEGER, 0, NULL, "0/1", \
	  "the session was resumed: TLS 1.3, the server accepted a pre-shared key; TLS 1.2 " \
	  "and older, the server echoed the client's non-empty session id (abbreviated " \
	  "handshake)", \
	  "no ServerHello", \
	  f->version ? cv_int_or_null(f->resumed) : cv_null()) \
	X(tls_handshake_s, REAL, 0, NULL, "s", \
	  "from the ClientHello to the client's first application data (TLS 1.3: its second " \
	  "encrypted record, the first being its Finished)", \
	  "not TLS, or no application data", \
	  cv_seconds_if(f->has_handshake, f->handshake)) \
	X(tls_records_to_server, INTEGER, 0, NULL, "records", \
	  "application-data records from the client (TLS 1.3: every encrypted record, " \
	  "handshake ones included, as tshark counts them)", \
	  "not TLS", \
	  f->version ? cv_u64(f->records[KL_TO_SERVER]) : cv_null()) \
	X(tls_records_to_client, INTEGER, 0, NULL, "records", \
	  "the same, from the server", \
	  "not TLS", \
	  f->version ? cv_u64(f->records[KL_TO_CLIENT]) : cv_null()) \
	X(decrypted, INTEGER, 0, NULL, "0/1", \
	  "1 when records of the connection were decrypted with the key log given to " \
	  "`--keylog` (at least one authenticated); 0 without keys for it, with a suite " \
	  "kalens does not decrypt, or when none authenticated (`tls-decrypt-error`)", \
	  "not TLS", \
	  f->version ? cv_bool(f->decrypted) : cv_null()) \
	X(requests_estimated, INTEGER, 0, NULL, "", \
	  "TLS (decrypted or not; without keys it is all there is): request/response " \
	  "exchanges estimated from the records — each run of client application-data " \
	  "records longer than 32 bytes (shorter ones are encrypted alerts; TLS 1.3: the " \
	  "client's Finished excluded) that the server answers counts one. An estimate, " \
	  "never stored as `requests`: pipelined requests in one run count once", \
	  "not TLS, or no application data from the client", \
	  f->version && f->records[KL_TO_SERVER] ? cv_u64(f->exchanges) : cv_null()) \
	X(tls_close_by, TEXT, 0, conn_closer_names, "", \
	  "`client` or `server`: the sender of the connection's first alert that ended its " \
	  "side — `close_notify`, a fatal alert, or an alert kalens could not read (TLS 1.2 " \
	  "and older encrypt them after the handshake; tshark's \"Encrypted Alert\"). When it " \
	  "came before any FIN or RST, it is `close_initiator` (docs/keepalive.md, \"Who " \
	  "closed\"). TLS 1.3 hides alerts inside application data: seen only when decrypted", \
	  "not TLS, or no such alert seen", \
	  cv_text(conn_closer_name(f->close_by))) \
	X(tls_close_alert, TEXT, 0, NULL, "", \
	  "that alert's description as the IANA registry names it (`close_notify`, " \
	  "`handshake_failure`, `alert 200` for a value it does not name), or `encrypted` " \
	  "when it could not be read", \
	  "no such alert", \
	  close_alert_value(f, buf, len)) \
	X(tls_close_ts, REAL, 0, NULL, "s, epoch", \
	  "capture time of the segment that completed that alert's record", \
	  "no such alert", \
	  cv_seconds_if(f->close_by != CONN_CLOSER_NONE, f->close_ts))

#define COLUMN_REC struct tls_facts
COLUMNS_DEFINE(TLS_FACTS_COLUMNS, tls_columns)
#undef COLUMN_REC

static void tls_facts_init(void *rec)
{
	struct tls_facts *f = rec;
	f->resumed = -1;
}

const struct fact_section tls_facts_section = {
	.name = "tls",
	.size = sizeof(struct tls_facts),
	.init = tls_facts_init,
	.columns = COLUMN_LIST(tls_columns),
};

const struct dissector tls_dissector = {
	.name = "tls",
	.probe = tls_probe,
	.ctx_new = tls_ctx_new,
	.ctx_free = tls_ctx_free,
	.data = tls_data,
	.gap = tls_gap,
	.eof = tls_eof,
	.protocol = NULL,
	.mem = tls_mem,
	.facts = tls_facts,
};
