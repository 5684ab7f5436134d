/*
 * http2.c - see http2.h.
 *
 * Each direction is a frame reader: the 9-byte frame header is gathered,
 * then the payload goes by piece by piece.  The few fixed fields a frame
 * starts with (pad length, priority, promised stream, a SETTINGS entry,
 * the PING data, the GOAWAY ids, the RST_STREAM code) are gathered in a
 * small buffer; header block fragments go straight to the HPACK inflater,
 * which takes a block in any number of pieces; DATA and padding are only
 * counted.  Memory per connection is the stream table and two inflaters.
 */
#include "http2.h"

#include "http_facts.h"
#include "rd.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	T_DATA = 0, T_HEADERS, T_PRIORITY, T_RST_STREAM, T_SETTINGS, T_PUSH_PROMISE, T_PING,
	T_GOAWAY, T_WINDOW_UPDATE, T_CONTINUATION,
};
#define F_END_STREAM 0x01
#define F_ACK 0x01
#define F_END_HEADERS 0x04
#define F_PADDED 0x08
#define F_PRIORITY 0x20

/* Streams tracked at once (about 1.3 KiB each); beyond, a finding.  Servers
 * allow 100 to 128 (SETTINGS_MAX_CONCURRENT_STREAMS); RFC 9113 §6.5.2
 * recommends no fewer than 100. */
#define H2_MAX_STREAMS 256

/* The largest HPACK table a decoder here allows (a peer may advertise up to
 * 2^32 - 1; an encoder using more than this is taken as lost, not given the
 * memory).  Common stacks use 4 KiB to 64 KiB. */
#define H2_TABLE_MAX 65536u

/* RFC 9113 §8.2.2: fields with a connection-specific meaning, forbidden. */
static const char *const FORBIDDEN[] = {
	"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
};
#define N_FORBIDDEN (sizeof FORBIDDEN / sizeof FORBIDDEN[0])

struct h2_stream {
	uint32_t id;
	uint64_t seq;                 /* order the streams began in */
	bool pushed;
	bool client_end, server_end, reset, final_status;
	bool upgraded;                /* stream 1 of an h2c upgrade */
	char version[12];             /* the upgrade request's; else HTTP/2 */
	char method[24];
	char path[1024];
	char authority[256];
	int status;
	unsigned interim;
	kl_time req_ts, req_end_ts, resp_ts, resp_end_ts;
	int64_t req_body, resp_body;
	bool has_idle_before, multiplexed;
	kl_time idle_before;
};

struct h2_dir {
	uint32_t preface_left;        /* client: preface bytes still to see */
	bool lost;                    /* a gap broke the framing */
	uint8_t hdr[9];
	uint8_t hlen;
	bool in_frame;
	uint32_t len, pos;            /* payload length, bytes of it gone by */
	uint8_t type, flags;
	uint32_t sid;
	uint8_t fixed[8];             /* leading fields being gathered */
	uint8_t fixed_need, fixed_have;
	bool fixed_done;              /* the leading fields were handled */
	uint32_t data_end;            /* payload offset where padding starts */
	bool bad_frame;               /* skip the rest of this frame */
	nghttp2_hd_inflater *hd;
	bool hd_lost;                 /* HPACK state no longer known */
	int64_t table_pending;        /* the peer's SETTINGS_HEADER_TABLE_SIZE for this
				       * direction's encoder, until this side ACKs it; -1 */
	bool in_block;                /* a header block awaits CONTINUATION */
	uint32_t block_sid;           /* the stream its fields belong to */
	bool block_push, block_end_stream, block_trailers;
	uint8_t ping[8];
	kl_time ping_ts;
	bool ping_pending;
	uint64_t frames;
};

struct h2_conn {
	const struct dissect_output *out;
	int64_t conn_id;
	struct h2_dir d[2];
	struct h2_stream *st;
	size_t n_st, cap_st;
	uint64_t next_seq;
	uint32_t max_client_sid, max_pushed_sid;   /* stream ids only grow (§5.1.1) */
	uint64_t streams;             /* streams with a request */
	uint64_t responses;
	uint32_t active, peak;
	kl_time idle_since;           /* when the last active stream ended (0: never) */
	bool has_max_idle;
	kl_time max_idle;
	int64_t settings_max_streams, settings_initial_window;   /* the server's, -1: none */
	int goaway_by;                /* enum conn_closer */
	int64_t goaway_error, goaway_last;
	kl_time goaway_ts;
	uint64_t rst_streams;
	bool has_ping_rtt, ping_by_client;
	kl_time ping_rtt;
	uint64_t forbidden[2][N_FORBIDDEN];
	uint32_t forbidden_stream[2][N_FORBIDDEN];
	char forbidden_value[2][N_FORBIDDEN][48];
	bool too_many_reported, protocol_error_reported;
	kl_time last_request_ts;
	uint64_t last_request_seq;
	kl_time last_response_end;
	int eofs;
	bool upgraded;                /* began with an h2c upgrade: stream 1 was an HTTP/1 request */
};

/* ---- probe ------------------------------------------------------------------ */

static enum dissect_verdict h2_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	if (dir != KL_TO_SERVER)
		return DISSECT_NO;    /* only the client's preface says HTTP/2 */
	size_t m = n < HTTP2_PREFACE_LEN ? n : HTTP2_PREFACE_LEN;
	if (memcmp(p, HTTP2_PREFACE, m) != 0)
		return DISSECT_NO;
	return m == HTTP2_PREFACE_LEN ? DISSECT_YES : DISSECT_MORE;
}

/* ---- connection state ------------------------------------------------------- */

static void upgraded(struct h2_conn *c, const struct request_record *r);

static void *h2_ctx_new(const struct dissect_conn_info *info)
{
	struct h2_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	c->settings_max_streams = c->settings_initial_window = -1;
	c->goaway_error = c->goaway_last = -1;
	c->d[KL_TO_SERVER].preface_left = HTTP2_PREFACE_LEN;
	for (int i = 0; i < 2; i++) {
		c->d[i].table_pending = -1;
		if (nghttp2_hd_inflate_new(&c->d[i].hd) != 0) {
			if (c->d[0].hd)
				nghttp2_hd_inflate_del(c->d[0].hd);
			free(c);
			return NULL;
		}
	}
	c->next_seq = info->seq_base;
	if (info->upgrade)
		upgraded(c, info->upgrade);
	return c;
}

/* nghttp2 allocates its inflater itself: counted as its dynamic table's
 * size (what a peer controls) plus a fixed H2_INFLATER_BYTES. */
#define H2_INFLATER_BYTES 1024

static size_t h2_mem(const void *ctx)
{
	const struct h2_conn *c = ctx;
	size_t n = kl_heap_bytes(sizeof *c) + (c->cap_st ? kl_heap_bytes(c->cap_st * sizeof *c->st) : 0);
	for (int i = 0; i < 2; i++)
		if (c->d[i].hd)
			n += H2_INFLATER_BYTES + nghttp2_hd_inflate_get_dynamic_table_size(c->d[i].hd);
	return n;
}

static void h2_ctx_free(void *ctx)
{
	struct h2_conn *c = ctx;
	if (!c)
		return;
	nghttp2_hd_inflate_del(c->d[0].hd);
	nghttp2_hd_inflate_del(c->d[1].hd);
	free(c->st);
	free(c);
}

static void finding(struct h2_conn *c, uint64_t seq, kl_time ts, enum finding_kind kind,
		    const char *detail)
{
	if (!c->out || !c->out->finding)
		return;
	struct finding_record f = { c->conn_id, seq, ts, kind, detail };
	c->out->finding(c->out->ctx, &f);
}

static const char *side(enum kl_dir dir)
{
	return dir == KL_TO_SERVER ? "client" : "server";
}

static void protocol_error(struct h2_conn *c, enum kl_dir dir, kl_time ts, const char *what)
{
	if (c->protocol_error_reported)
		return;
	c->protocol_error_reported = true;
	char d[200];
	snprintf(d, sizeof d, "%s: %s", side(dir), what);
	finding(c, 0, ts, FINDING_H2_PROTOCOL_ERROR, d);
}

/* ---- streams ---------------------------------------------------------------- */

static struct h2_stream *stream_find(struct h2_conn *c, uint32_t id)
{
	for (size_t i = c->n_st; i-- > 0;)
		if (c->st[i].id == id)
			return &c->st[i];
	return NULL;
}

static struct h2_stream *stream_open(struct h2_conn *c, uint32_t id, bool pushed, kl_time ts)
{
	if (c->n_st >= H2_MAX_STREAMS) {
		if (!c->too_many_reported) {
			c->too_many_reported = true;
			char d[96];
			snprintf(d, sizeof d, "more than %d streams open at once: later ones not tracked",
				 H2_MAX_STREAMS);
			finding(c, 0, ts, FINDING_H2_PROTOCOL_ERROR, d);
		}
		return NULL;
	}
	if (c->n_st == c->cap_st) {
		size_t cap = c->cap_st ? c->cap_st * 2 : 8;
		struct h2_stream *s = realloc(c->st, cap * sizeof *s);
		if (!s)
			return NULL;
		c->st = s;
		c->cap_st = cap;
	}
	struct h2_stream *s = &c->st[c->n_st++];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->seq = ++c->next_seq;
	s->pushed = pushed;
	s->req_ts = ts;
	s->req_body = s->resp_body = 0;
	if (c->active == 0 && c->idle_since) {
		s->has_idle_before = true;
		s->idle_before = ts - c->idle_since;
		if (!c->has_max_idle || s->idle_before > c->max_idle) {
			c->has_max_idle = true;
			c->max_idle = s->idle_before;
		}
	}
	s->multiplexed = c->active > 0;
	if (++c->active > c->peak)
		c->peak = c->active;
	c->streams++;
	c->last_request_ts = ts;
	c->last_request_seq = s->seq;
	return s;
}

/* The stream is over (both ends, or reset): its row, and it is forgotten. */
static void stream_emit(struct h2_conn *c, struct h2_stream *s, kl_time ts)
{
	if (c->out && c->out->request) {
		struct request_record r;
		memset(&r, 0, sizeof r);
		r.conn_id = c->conn_id;
		r.seq = s->seq;
		r.method = s->method[0] ? s->method : NULL;
		r.uri = s->path[0] ? s->path : NULL;
		r.host = s->authority[0] ? s->authority : NULL;
		r.version = s->version[0] ? s->version : "HTTP/2";
		r.upgrade = s->upgraded ? "h2c" : NULL;
		r.status = s->final_status ? s->status : 0;
		r.interim = s->interim;
		r.request_ts = s->req_ts;
		r.request_end_ts = s->req_end_ts;
		r.response_ts = s->resp_ts;
		r.response_end_ts = s->resp_end_ts;
		r.request_body_bytes = s->req_body;
		r.response_body_bytes = s->resp_ts ? s->resp_body : -1;
		r.pipelined = s->multiplexed;
		r.has_idle_before = s->has_idle_before;
		r.idle_before = s->idle_before;
		r.stream_id = s->id;
		r.response_version = s->final_status ? "HTTP/2" : NULL;
		c->out->request(c->out->ctx, &r);
	}
	if (s->final_status)
		c->responses++;
	if (s->resp_end_ts > c->last_response_end)
		c->last_response_end = s->resp_end_ts;
	if (c->active && --c->active == 0)
		c->idle_since = ts;
	*s = c->st[--c->n_st];
}

static void put(char *dst, size_t cap, const uint8_t *p, size_t n);

/* An HTTP/1.1 connection upgraded with "Upgrade: h2c" and a 101 (RFC 7540
 * §3.2; deprecated by RFC 9113 but still sent by curl): `r`, the request
 * that asked for it (its response_end_ts: the end of the 101), becomes
 * stream 1, half-closed by the client; its response comes as HTTP/2 on
 * stream 1, the 101 counted as interim.  The strings of r are copied. */
static void upgraded(struct h2_conn *c, const struct request_record *r)
{
	kl_time switched_ts = r->response_end_ts;
	/* The HTTP/1 requests before it keep their seq; streams follow. */
	c->next_seq = r->seq ? r->seq - 1 : 0;
	c->max_client_sid = 1;
	struct h2_stream *s = stream_open(c, 1, false, r->request_ts ? r->request_ts : switched_ts);
	if (!s)
		return;
	const struct {
		char *dst;
		size_t cap;
		const char *src;
	} f[] = {
		{ s->method, sizeof s->method, r->method }, { s->path, sizeof s->path, r->uri },
		{ s->authority, sizeof s->authority, r->host },
		{ s->version, sizeof s->version, r->version },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (f[i].src)
			put(f[i].dst, f[i].cap, (const uint8_t *)f[i].src, strlen(f[i].src));
	s->upgraded = true;
	c->upgraded = true;
	s->client_end = true;
	s->req_end_ts = r->request_end_ts;
	s->req_body = r->request_body_bytes;
	s->resp_ts = r->response_ts ? r->response_ts : switched_ts;
	s->interim = r->interim + 1;        /* the 101 */
}

static void stream_maybe_done(struct h2_conn *c, struct h2_stream *s, kl_time ts)
{
	if (s->reset || (s->client_end && s->server_end))
		stream_emit(c, s, ts);
}

/* ---- header fields ------------------------------------------------------------ */

static void put(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0')
			dst[i] = '?';     /* HPACK allows any octet; rows hold text */
}

static bool name_is(const nghttp2_nv *nv, const char *s)
{
	size_t n = strlen(s);
	return nv->namelen == n && memcmp(nv->name, s, n) == 0;
}

static void on_field(struct h2_conn *c, enum kl_dir dir, const nghttp2_nv *nv, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	(void)ts;
	for (size_t i = 0; i < N_FORBIDDEN; i++) {
		if (!name_is(nv, FORBIDDEN[i]))
			continue;
		if (i == N_FORBIDDEN - 1 && nv->valuelen == 8 && !memcmp(nv->value, "trailers", 8))
			break;                /* TE: trailers is allowed */
		enum kl_dir who = d->block_push ? KL_TO_CLIENT : dir;
		if (c->forbidden[who][i]++ == 0) {
			c->forbidden_stream[who][i] = d->block_sid;
			put(c->forbidden_value[who][i], sizeof c->forbidden_value[who][i], nv->value,
			    nv->valuelen);
		}
	}
	struct h2_stream *s = stream_find(c, d->block_sid);
	if (!s || d->block_trailers)
		return;
	if (dir == KL_TO_SERVER || d->block_push) {
		if (name_is(nv, ":method"))
			put(s->method, sizeof s->method, nv->value, nv->valuelen);
		else if (name_is(nv, ":path"))
			put(s->path, sizeof s->path, nv->value, nv->valuelen);
		else if (name_is(nv, ":authority") || (name_is(nv, "host") && !s->authority[0]))
			put(s->authority, sizeof s->authority, nv->value, nv->valuelen);
		return;
	}
	if (name_is(nv, ":status")) {
		int v = 0;
		for (size_t i = 0; i < nv->valuelen && i < 4; i++)
			v = nv->value[i] >= '0' && nv->value[i] <= '9' ? v * 10 + (nv->value[i] - '0') : -1000;
		if (nv->valuelen != 3 || v < 100 || v > 999) {
			protocol_error(c, dir, ts, "a :status that is not three digits");
			return;
		}
		if (v < 200) {
			s->interim++;
		} else {
			s->status = v;
			s->final_status = true;
		}
	}
}

/* Feed a piece of a header block to the direction's inflater; `final` at
 * the block's end.  A decoding error loses the HPACK state for good. */
static void inflate(struct h2_conn *c, enum kl_dir dir, const uint8_t *p, size_t n, bool final,
		    kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	static const uint8_t none[1];
	if (d->hd_lost)
		return;
	if (!p)
		p = none;
	for (;;) {
		nghttp2_nv nv;
		int fl = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(d->hd, &nv, &fl, p, n, final ? 1 : 0);
		if (r < 0) {
			d->hd_lost = true;
			protocol_error(c, dir, ts, "a header block HPACK cannot decode");
			return;
		}
		p += r;
		n -= (size_t)r;
		if (fl & NGHTTP2_HD_INFLATE_EMIT)
			on_field(c, dir, &nv, ts);
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->hd);
			return;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && r == 0)
			return;               /* all of this piece taken: more to come */
	}
}

/* A header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) ended. */
static void block_done(struct h2_conn *c, enum kl_dir dir, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	inflate(c, dir, NULL, 0, true, ts);
	d->in_block = false;
	if (d->block_push)
		return;
	struct h2_stream *s = stream_find(c, d->block_sid);
	if (!s)
		return;
	if (d->block_end_stream) {
		if (dir == KL_TO_SERVER) {
			s->client_end = true;
			s->req_end_ts = ts;
		} else {
			s->server_end = true;
			s->resp_end_ts = ts;
		}
		stream_maybe_done(c, s, ts);
	}
}

/* ---- frames ------------------------------------------------------------------- */

/* A frame header was read: check it and set up its payload. */
static void frame_begin(struct h2_conn *c, enum kl_dir dir, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	struct rd r = rd_make(d->hdr, sizeof d->hdr);
	d->len = rd_be24(&r);
	d->type = rd_u8(&r);
	d->flags = rd_u8(&r);
	d->sid = rd_be32(&r) & 0x7fffffffu;       /* the reserved bit is ignored (§4.1) */
	d->pos = 0;
	d->fixed_have = 0;
	d->fixed_need = 0;
	d->fixed_done = false;
	d->data_end = d->len;
	d->bad_frame = false;
	d->in_frame = true;
	d->frames++;
	if (d->in_block && (d->type != T_CONTINUATION || d->sid != d->block_sid)) {
		protocol_error(c, dir, ts, "a header block not continued by CONTINUATION");
		d->in_block = false;
		d->hd_lost = true;
	}
	bool padded = d->flags & F_PADDED;
	switch (d->type) {
	case T_DATA:
		d->fixed_need = padded ? 1 : 0;
		break;
	case T_HEADERS:
		d->fixed_need = (uint8_t)((padded ? 1 : 0) + (d->flags & F_PRIORITY ? 5 : 0));
		break;
	case T_PUSH_PROMISE:
		d->fixed_need = (uint8_t)((padded ? 1 : 0) + 4);
		break;
	case T_RST_STREAM:
		d->fixed_need = 4;
		break;
	case T_SETTINGS:
		if (d->sid) {
			protocol_error(c, dir, ts, "a SETTINGS frame on a stream");
			d->bad_frame = true;
		} else if (d->len % 6 || (d->flags & F_ACK && d->len)) {
			protocol_error(c, dir, ts, "a SETTINGS frame of a length not a multiple of 6");
			d->bad_frame = true;
		} else if (d->flags & F_ACK && d->table_pending >= 0) {
			/* This side acknowledged the peer's table size: its
			 * encoder may use it from here (never inside a block). */
			if (nghttp2_hd_inflate_change_table_size(d->hd, (size_t)d->table_pending) != 0)
				d->hd_lost = true;
			d->table_pending = -1;
		}
		d->fixed_need = d->len ? 6 : 0;    /* each entry in turn; none in an ACK */
		break;
	case T_PING:
		d->fixed_need = 8;
		break;
	case T_GOAWAY:
		d->fixed_need = 8;
		break;
	default:
		break;                        /* PRIORITY, WINDOW_UPDATE, unknown: skipped */
	}
	if (d->fixed_need > d->len) {
		protocol_error(c, dir, ts, "a frame shorter than its fixed fields");
		d->bad_frame = true;
	}
	if ((d->type == T_HEADERS || d->type == T_DATA || d->type == T_PUSH_PROMISE ||
	     d->type == T_RST_STREAM || d->type == T_CONTINUATION) && d->sid == 0) {
		protocol_error(c, dir, ts, "a stream frame on stream 0");
		d->bad_frame = true;
	}
	if (d->type == T_CONTINUATION && !d->in_block && !d->bad_frame) {
		protocol_error(c, dir, ts, "a CONTINUATION without a header block");
		d->bad_frame = true;
	}
	if (d->bad_frame) {
		if (d->type == T_HEADERS || d->type == T_PUSH_PROMISE || d->type == T_CONTINUATION) {
			d->in_block = false;
			d->hd_lost = true;    /* a header block skipped: the table is out of step */
		}
		return;
	}
	if (d->type == T_HEADERS) {
		d->in_block = true;
		d->block_sid = d->sid;
		d->block_push = false;
		d->block_end_stream = d->flags & F_END_STREAM;
		d->block_trailers = false;
		struct h2_stream *s = stream_find(c, d->sid);
		if (dir == KL_TO_SERVER) {
			if (s) {
				d->block_trailers = true;
			} else if ((d->sid & 1) && d->sid > c->max_client_sid) {
				c->max_client_sid = d->sid;
				stream_open(c, d->sid, false, ts);
			} else {
				d->block_sid = 0;     /* a stream that ended: nothing new */
			}
		} else if (s) {
			if (!s->resp_ts)
				s->resp_ts = ts;
			else if (s->final_status)
				d->block_trailers = true;
		}
	}
}

/* The leading fields of the frame are in d->fixed. */
static void fixed_fields(struct h2_conn *c, enum kl_dir dir, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	const uint8_t *f = d->fixed;
	struct rd r = rd_make(f, d->fixed_need);
	uint32_t pad = d->flags & F_PADDED && (d->type == T_DATA || d->type == T_HEADERS ||
					     d->type == T_PUSH_PROMISE) ? rd_u8(&r) : 0;
	switch (d->type) {
	case T_DATA:
	case T_HEADERS:
	case T_PUSH_PROMISE:
		if (pad > d->len - d->fixed_need) {
			protocol_error(c, dir, ts, "padding longer than the frame");
			d->bad_frame = true;
			if (d->type != T_DATA) {
				d->in_block = false;
				d->hd_lost = true;
			}
			break;
		}
		d->data_end = d->len - pad;
		if (d->type == T_PUSH_PROMISE) {
			uint32_t promised = rd_be32(&r) & 0x7fffffffu;
			d->in_block = true;
			d->block_push = true;
			d->block_sid = promised;
			d->block_end_stream = false;
			d->block_trailers = false;
			/* Promised streams are the server's: even, not 0 (§5.1.1).
			 * The block is still decoded, to keep HPACK in step. */
			if (promised == 0 || (promised & 1) || dir != KL_TO_CLIENT ||
			    promised <= c->max_pushed_sid) {
				protocol_error(c, dir, ts, "a PUSH_PROMISE of a stream that cannot be promised");
				d->block_sid = 0;     /* decoded for HPACK, kept nowhere */
				break;
			}
			c->max_pushed_sid = promised;
			struct h2_stream *s = stream_open(c, promised, true, ts);
			if (s)
				s->client_end = true;   /* a promised request has no body */
		}
		break;
	case T_RST_STREAM: {
		c->rst_streams++;
		struct h2_stream *s = stream_find(c, d->sid);
		if (s) {
			s->reset = true;
			stream_maybe_done(c, s, ts);
		}
		break;
	}
	case T_SETTINGS: {
		uint16_t id = rd_be16(&r);
		uint32_t v = rd_be32(&r);
		if (id == 0x1) {
			/* This side's decoder table: the other direction's encoder
			 * may use up to it once it has the SETTINGS, i.e. from its
			 * ACK on (RFC 9113 §6.5.3; a smaller table applied sooner
			 * would break blocks already on their way). */
			struct h2_dir *o = &c->d[dir == KL_TO_SERVER ? KL_TO_CLIENT : KL_TO_SERVER];
			o->table_pending = v < H2_TABLE_MAX ? v : H2_TABLE_MAX;
		} else if (dir == KL_TO_CLIENT && id == 0x3) {
			c->settings_max_streams = v;
		} else if (dir == KL_TO_CLIENT && id == 0x4) {
			c->settings_initial_window = v;
		}
		d->fixed_have = 0;            /* the next entry */
		return;
	}
	case T_PING: {
		const uint8_t *opaque = rd_span(&r, 8);
		if (!opaque)
			break;
		if (!(d->flags & F_ACK)) {
			memcpy(d->ping, opaque, 8);
			d->ping_ts = ts;
			d->ping_pending = true;
		} else {
			struct h2_dir *o = &c->d[dir == KL_TO_SERVER ? KL_TO_CLIENT : KL_TO_SERVER];
			/* The first PING answered; one the client sent (the
			 * round trip to the server) is preferred. */
			bool from_client = dir == KL_TO_CLIENT;
			if (o->ping_pending && !memcmp(o->ping, opaque, 8) &&
			    (!c->has_ping_rtt || (from_client && !c->ping_by_client))) {
				c->has_ping_rtt = true;
				c->ping_by_client = from_client;
				c->ping_rtt = ts - o->ping_ts;
			}
			o->ping_pending = false;
		}
		break;
	}
	case T_GOAWAY:
		if (c->goaway_by == CONN_CLOSER_NONE) {
			c->goaway_by = dir == KL_TO_SERVER ? CONN_CLOSER_CLIENT : CONN_CLOSER_SERVER;
			c->goaway_last = rd_be32(&r) & 0x7fffffffu;
			c->goaway_error = rd_be32(&r);
			c->goaway_ts = ts;
			char dt[200];
			if (c->active) {
				snprintf(dt, sizeof dt, "the %s sent GOAWAY (error %lld, last stream %lld)"
					 " with %u streams open", side(dir), (long long)c->goaway_error,
					 (long long)c->goaway_last, c->active);
				finding(c, 0, ts, FINDING_GOAWAY_WITH_ACTIVE_STREAMS, dt);
			} else if (dir == KL_TO_CLIENT && c->idle_since) {
				snprintf(dt, sizeof dt, "the server sent GOAWAY (error %lld) after %.6f s"
					 " idle", (long long)c->goaway_error,
					 kl_time_seconds(ts - c->idle_since));
				finding(c, 0, ts, FINDING_H2_IDLE_CLOSE, dt);
			}
		}
		break;
	default:
		break;
	}
	d->fixed_done = true;
}

/* The frame's payload is over. */
static void frame_end(struct h2_conn *c, enum kl_dir dir, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	d->in_frame = false;
	d->hlen = 0;
	if (d->bad_frame)
		return;
	switch (d->type) {
	case T_HEADERS:
	case T_PUSH_PROMISE:
	case T_CONTINUATION:
		if (d->flags & F_END_HEADERS && d->in_block)
			block_done(c, dir, ts);
		break;
	case T_DATA:
		if (d->flags & F_END_STREAM) {
			struct h2_stream *s = stream_find(c, d->sid);
			if (s && dir == KL_TO_SERVER) {
				s->client_end = true;
				s->req_end_ts = ts;
			} else if (s) {
				s->server_end = true;
				s->resp_end_ts = ts;
			}
			if (s)
				stream_maybe_done(c, s, ts);
		}
		break;
	default:
		break;
	}
}

/* Payload bytes [p, p+n) of the current frame, n <= what is left of it. */
static void payload(struct h2_conn *c, enum kl_dir dir, const uint8_t *p, size_t n, kl_time ts)
{
	struct h2_dir *d = &c->d[dir];
	while (n) {
		if (d->bad_frame) {
			d->pos += (uint32_t)n;
			return;
		}
		if (d->fixed_have < d->fixed_need && (!d->fixed_done || d->type == T_SETTINGS)) {
			size_t k = d->fixed_need - d->fixed_have;
			if (k > n)
				k = n;
			memcpy(d->fixed + d->fixed_have, p, k);
			d->fixed_have = (uint8_t)(d->fixed_have + k);
			d->pos += (uint32_t)k;
			p += k;
			n -= k;
			if (d->fixed_have == d->fixed_need)
				fixed_fields(c, dir, ts);
			continue;
		}
		/* data or fragment up to data_end, then padding */
		size_t k = n;
		if (d->pos < d->data_end) {
			if (k > d->data_end - d->pos)
				k = d->data_end - d->pos;
			if (d->type == T_DATA) {
				struct h2_stream *s = stream_find(c, d->sid);
				if (s && dir == KL_TO_SERVER)
					s->req_body += (int64_t)k;
				else if (s)
					s->resp_body += (int64_t)k;
			} else if ((d->type == T_HEADERS || d->type == T_PUSH_PROMISE ||
				    d->type == T_CONTINUATION) && d->in_block) {
				inflate(c, dir, p, k, false, ts);
			}
		}
		d->pos += (uint32_t)k;
		p += k;
		n -= k;
	}
}

static void h2_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
		    kl_time ts)
{
	(void)off;
	struct h2_conn *c = ctx;
	struct h2_dir *d = &c->d[dir];
	if (d->lost)
		return;
	if (d->preface_left) {
		size_t k = n < d->preface_left ? n : d->preface_left;
		static const char preface[] = HTTP2_PREFACE;
		size_t at = HTTP2_PREFACE_LEN - d->preface_left;
		if (memcmp(p, preface + at, k) != 0) {
			protocol_error(c, dir, ts, "the connection preface is wrong");
			d->lost = true;
			return;
		}
		d->preface_left -= (uint32_t)k;
		p += k;
		n -= k;
	}
	while (n) {
		if (!d->in_frame) {
			size_t k = 9u - d->hlen < n ? 9u - d->hlen : n;
			memcpy(d->hdr + d->hlen, p, k);
			d->hlen = (uint8_t)(d->hlen + k);
			p += k;
			n -= k;
			if (d->hlen < 9)
				return;
			frame_begin(c, dir, ts);
			if (d->len == 0) {
				if (d->fixed_need == 0 && !d->bad_frame)
					d->fixed_done = true;
				frame_end(c, dir, ts);
			}
			continue;
		}
		size_t k = d->len - d->pos < n ? d->len - d->pos : n;
		payload(c, dir, p, k, ts);
		p += k;
		n -= k;
		if (d->pos == d->len)
			frame_end(c, dir, ts);
	}
}

static void h2_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	(void)off;
	struct h2_conn *c = ctx;
	struct h2_dir *d = &c->d[dir];
	if (d->lost)
		return;
	/* Inside a DATA frame's data a gap costs only bytes; anywhere else
	 * the frame boundaries, or the HPACK state, are lost. */
	if (d->in_frame && d->type == T_DATA && !d->bad_frame &&
	    (d->fixed_have == d->fixed_need) && d->pos + len <= d->data_end) {
		struct h2_stream *s = stream_find(c, d->sid);
		if (s && dir == KL_TO_SERVER)
			s->req_body += (int64_t)len;
		else if (s)
			s->resp_body += (int64_t)len;
		d->pos += (uint32_t)len;
		if (d->pos == d->len)
			frame_end(c, dir, ts);
		return;
	}
	d->lost = true;
	char dt[160];
	snprintf(dt, sizeof dt, "%llu bytes missing %s: the HTTP/2 frames of that direction are "
		 "lost from here", (unsigned long long)len, dir == KL_TO_SERVER ? "to the server" :
		 "to the client");
	finding(c, 0, ts, FINDING_REASSEMBLY_GAP, dt);
}

static void h2_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	(void)dir;
	struct h2_conn *c = ctx;
	if (++c->eofs < 2)
		return;
	/* Both directions are over: streams still open had no end in the
	 * capture; their rows say what was seen. */
	while (c->n_st)
		stream_emit(c, &c->st[c->n_st - 1], ts);
	char d[200];
	for (int w = 0; w < 2; w++)
		for (size_t i = 0; i < N_FORBIDDEN; i++) {
			if (!c->forbidden[w][i])
				continue;
			snprintf(d, sizeof d, "the %s sent connection-specific header \"%s: %s\" "
				 "%llu times (first on stream %u); RFC 9113 §8.2.2 makes such a "
				 "message malformed", side((enum kl_dir)w), FORBIDDEN[i],
				 c->forbidden_value[w][i], (unsigned long long)c->forbidden[w][i],
				 c->forbidden_stream[w][i]);
			finding(c, 0, ts, FINDING_H2_CONNECTION_SPECIFIC_HEADER, d);
		}
}

/* HTTP/2's facts; after an h2c upgrade the HTTP section already holds the
 * HTTP/1 exchanges (the upgrade request among them, as stream 1 here), and
 * the connection's keep-alive state from then on is HTTP/2's. */
static void h2_facts(const void *ctx, const struct conn_record *tcp, struct facts_set *set)
{
	const struct h2_conn *c = ctx;
	struct http_facts *h = facts_set_get(set, FACTS_HTTP);
	h->requests += c->streams - (c->upgraded && c->streams ? 1 : 0);
	h->responses += c->responses;
	h->has_max_idle = c->has_max_idle;
	h->max_idle = c->max_idle;
	/* HTTP/2 connections persist until a GOAWAY says otherwise. */
	h->expected_persistent = c->goaway_by == CONN_CLOSER_NONE ? 1 : 0;
	h->close_announced_by = CONN_CLOSER_NONE;   /* no Connection: close in HTTP/2 */
	h->has_idle_before_close = false;
	if (c->last_response_end && (tcp->close_kind == CONN_CLOSE_FIN ||
	    tcp->close_kind == CONN_CLOSE_RST) && tcp->close_ts >= c->last_response_end &&
	    c->active == 0) {
		h->has_idle_before_close = true;
		h->idle_before_close = tcp->close_ts - c->last_response_end;
	}
	h->last_request_ts = c->last_request_ts;
	h->last_request_seq = c->last_request_seq;
	h->h2 = true;
	h->goaway_by = (enum conn_closer)c->goaway_by;

	struct h2_facts *f = facts_set_get(set, FACTS_H2);
	f->streams = c->streams;
	f->peak_streams = c->peak;
	f->settings_max_streams = c->settings_max_streams;
	f->initial_window = c->settings_initial_window;
	f->goaway_by = (enum conn_closer)c->goaway_by;
	f->goaway_error = c->goaway_error;
	f->goaway_last_stream = c->goaway_last;
	f->rst_streams = c->rst_streams;
	f->has_ping_rtt = c->has_ping_rtt;
	f->ping_rtt = c->ping_rtt;
}

/* ---- the HTTP/2 columns of `connections` -------------------------------------- */

#define H2_FACTS_COLUMNS(X) \
	X(h2_streams, INTEGER, 0, NULL, "", \
	  "HTTP/2: streams that carried a request (each is a `requests` row with its " \
	  "`stream_id`)", \
	  "not HTTP/2", \
	  cv_u64(f->streams)) \
	X(h2_peak_streams, INTEGER, 0, NULL, "", \
	  "HTTP/2: the most streams open at once (multiplexing actually used)", \
	  "not HTTP/2", \
	  cv_int(f->peak_streams)) \
	X(h2_max_concurrent_streams, INTEGER, 0, NULL, "", \
	  "HTTP/2: the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (the last it sent)", \
	  "not HTTP/2, or the server never sent it", \
	  cv_int_or_null(f->settings_max_streams)) \
	X(h2_initial_window, INTEGER, 0, NULL, "bytes", \
	  "HTTP/2: the server's `SETTINGS_INITIAL_WINDOW_SIZE`", \
	  "not HTTP/2, or never sent", \
	  cv_int_or_null(f->initial_window)) \
	X(goaway_by, TEXT, 0, conn_closer_names, "", \
	  "HTTP/2: who sent the first `GOAWAY`: `client` or `server`", \
	  "not HTTP/2, or no GOAWAY", \
	  cv_text(conn_closer_name(f->goaway_by))) \
	X(goaway_error, INTEGER, 0, NULL, "", \
	  "its error code (0 `NO_ERROR`: a graceful end)", \
	  "no GOAWAY", \
	  cv_int_or_null(f->goaway_error)) \
	X(goaway_last_stream, INTEGER, 0, NULL, "", \
	  "its last stream id: streams above it were not processed", \
	  "no GOAWAY", \
	  cv_int_or_null(f->goaway_last_stream)) \
	X(rst_streams, INTEGER, 0, NULL, "", \
	  "HTTP/2: `RST_STREAM` frames, both sides", \
	  "not HTTP/2", \
	  cv_u64(f->rst_streams)) \
	X(ping_rtt_s, REAL, 0, NULL, "s", \
	  "HTTP/2: the first `PING` answered, from the PING to its ACK (a round trip seen " \
	  "from the capture point)", \
	  "not HTTP/2, or no PING answered", \
	  cv_seconds_if(f->has_ping_rtt, f->ping_rtt))

#define COLUMN_REC struct h2_facts
COLUMNS_DEFINE(H2_FACTS_COLUMNS, h2_columns)
#undef COLUMN_REC

static void h2_facts_init(void *rec)
{
	struct h2_facts *f = rec;
	f->settings_max_streams = f->initial_window = -1;
	f->goaway_by = CONN_CLOSER_NONE;
	f->goaway_error = f->goaway_last_stream = -1;
}

const struct fact_section h2_facts_section = {
	.name = "http2",
	.size = sizeof(struct h2_facts),
	.init = h2_facts_init,
	.columns = COLUMN_LIST(h2_columns),
};

static const char *h2_protocol(const void *ctx)
{
	(void)ctx;
	return "http/2";
}

const struct dissector http2_dissector = {
	.name = "http/2",
	.probe = h2_probe,
	.ctx_new = h2_ctx_new,
	.ctx_free = h2_ctx_free,
	.data = h2_data,
	.gap = h2_gap,
	.eof = h2_eof,
	.protocol = h2_protocol,
	.mem = h2_mem,
	.facts = h2_facts,
};
