/*
 * http1.c - the HTTP/1.x dissector (see http1.h, docs/keepalive.md).
 *
 * Two parsers per connection, one per direction.  Each request head opens
 * a pending entry at the back of a FIFO; each response head is matched to
 * the entry at the front (RFC 9112 §9.3: responses come in request order),
 * and the entry is stored as one `requests` row when its final response
 * ends, or, without a response, when the connection ends or the FIFO is
 * full.  The strings of pending requests live in one per-connection arena
 * that is emptied whenever nothing is pending, so a keep-alive exchange
 * allocates nothing once the arena has grown to fit its heads.
 */
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1_parser.h"
#include "http2.h"
#include "http_facts.h"
#include "tunnel_facts.h"

enum str_id {
	S_METHOD, S_URI, S_HOST, S_VERSION, S_REQ_CONN, S_REQ_KA, S_RESP_CONN, S_RESP_KA,
	S_UPGRADE, S_REQ_PROXY_CONN, S_COUNT
};

#define ARENA_MAX ((size_t)256 << 10)
/* Client bytes held while a CONNECT or an upgrade awaits its response (a
 * client that does not wait: a TLS ClientHello fits). */
#define HTTP1_HOLD_MAX ((size_t)16 << 10)
#define NO_STR UINT32_MAX

/* The leniencies of RFC 9112 a request may be read by (http1_parser.h),
 * bit i of HTTP1_LENIENT_*, as the lenient-request-syntax finding names
 * them. */
#define LENIENT_WS_TEXT "request-line parts apart by other than one SP, or whitespace " \
			"after the version: read on whitespace boundaries (RFC 9112 §3)"
static const char *const leniency_text[] = {
	LENIENT_WS_TEXT,
	"lines ended by a bare LF (RFC 9112 §2.2)",
	"empty lines before the request-line, ignored (RFC 9112 §2.2)",
};
#define LENIENCIES (sizeof leniency_text / sizeof leniency_text[0])

struct pending {
	uint64_t seq;
	kl_time req_ts, req_end_ts, resp_ts, resp_end_ts;
	kl_time idle_before;
	int64_t req_body, resp_body;
	int status;
	unsigned interim;
	bool req_done, pipelined, has_idle, persists_req, req_keep_alive;
	bool hidden;                  /* a request lost in a gap: no row, its response pairs here */
	uint8_t req_major, req_minor;
	const char *resp_version;     /* static (http_version_name), or NULL */
	uint32_t str[S_COUNT];        /* arena offsets, NO_STR when absent */
};

struct http1_conn {
	const struct dissect_output *out;
	int64_t conn_id;
	struct http1_parser *parser[2];   /* by enum kl_dir */

	struct pending *q;            /* ring */
	uint32_t q_cap, q_head, q_len;
	struct pending *req_open;     /* the request whose body is being parsed */

	char *arena;
	size_t arena_len, arena_cap;

	uint64_t seq_base;            /* requests numbered by the layers below */
	uint64_t requests, responses, unanswered, orphan_responses;
	uint64_t req_wire_bytes;      /* heads and bodies of complete requests */
	uint64_t req_done_count;      /* ... and how many */
	uint64_t orphans_since_req;   /* responses without a request since the last request head */
	bool last_persists_req;       /* the last request seen asked to persist */
	/* Keep-alive facts for the analysis (see conn_record.h). */
	enum conn_closer close_announced_by;
	uint64_t close_announced_seq;
	bool close_on_persistent_request;
	int64_t ka_max_first;
	uint64_t pipelined_requests;
	kl_time last_req_ts;
	uint64_t last_req_seq;
	uint64_t hol_count;           /* pipelined responses that waited for an earlier one */
	kl_time hol_total, hol_max;
	uint64_t resp_wire_bytes;     /* heads and bodies of complete responses */
	uint64_t resp_skipped;        /* response bytes skipped since the last head */
	kl_time last_resp_end;
	bool has_max_idle;
	kl_time max_idle;
	int64_t ka_timeout, ka_max;
	int expected_persistent;
	uint64_t fed[2];              /* stream bytes and gaps given to each parser */
	uint64_t base[2];             /* this layer's stream offset of each parser's first byte */
	bool started[2];
	/* A request that may switch protocols (CONNECT, an upgrade) stops the
	 * request parser; the client's bytes after it are held until its
	 * response decides: the tunnel's (handed over with them) or HTTP/1's
	 * again (fed to the parser). */
	bool holding;
	uint64_t hold_seq;            /* that request */
	uint8_t *held;
	size_t held_len;
	uint64_t held_lost;           /* bytes past HTTP1_HOLD_MAX, or in gaps */
	bool switch_pending;
	bool switched;                /* both directions belong to the layer above */
	bool connect_ok;              /* a CONNECT was answered 2xx */
	char *connect_target;         /* its target (allocated then), for the tunnel's facts */
	struct dissect_conn_info info;   /* to create it; addresses copied below */
	uint8_t client_ip[16], server_ip[16];
	uint8_t eofs;
	/* HTTP's roles, decided by the first bytes read: requests may come
	 * from the TCP server (reversed).  Inside, "to the server" is always
	 * the requests' direction. */
	bool oriented, reversed;
	uint8_t proto_major, proto_minor;
	bool proto_known, proto_from_request;
	/* Requests read by each leniency (HTTP1_LENIENT_*, by bit), and the
	 * first of them: one finding each at the end. */
	struct {
		uint64_t count, first_seq;
		kl_time first_ts;
	} lenient[LENIENCIES];
};

/* ---- arena -------------------------------------------------------------- */

static const char *str_at(const struct http1_conn *c, uint32_t off)
{
	return off == NO_STR ? NULL : c->arena + off;
}

static void emit_request(struct http1_conn *c, struct pending *p);

/* Copy the live strings to the front of the arena. */
static void arena_compact(struct http1_conn *c)
{
	char *fresh = malloc(c->arena_cap);
	if (!fresh)
		return;
	size_t len = 0;
	for (uint32_t i = 0; i < c->q_len; i++) {
		struct pending *p = &c->q[(c->q_head + i) % c->q_cap];
		for (int s = 0; s < S_COUNT; s++) {
			if (p->str[s] == NO_STR)
				continue;
			size_t n = strlen(c->arena + p->str[s]) + 1;
			memcpy(fresh + len, c->arena + p->str[s], n);
			p->str[s] = (uint32_t)len;
			len += n;
		}
	}
	free(c->arena);
	c->arena = fresh;
	c->arena_len = len;
}

static void pop_front(struct http1_conn *c);

/* Keep a NUL-terminated copy of [p, p+n), cut at HTTP1_STRING_KEEP. */
static uint32_t arena_put(struct http1_conn *c, const char *p, size_t n)
{
	if (!p)
		return NO_STR;
	if (n > HTTP1_STRING_KEEP)
		n = HTTP1_STRING_KEEP;
	for (int attempt = 0; c->arena_len + n + 1 > c->arena_cap; attempt++) {
		if (c->arena_cap < ARENA_MAX) {
			size_t cap = c->arena_cap ? c->arena_cap * 2 : 1024;
			while (cap < c->arena_len + n + 1 && cap < ARENA_MAX)
				cap *= 2;
			char *a = realloc(c->arena, cap);
			if (!a)
				return NO_STR;
			c->arena = a;
			c->arena_cap = cap;
			continue;
		}
		if (attempt > 2 * HTTP1_PENDING_MAX)
			return NO_STR;
		/* Full: the oldest pending request goes out without its response. */
		if (c->q_len > 1) {
			emit_request(c, &c->q[c->q_head]);
			pop_front(c);
		}
		arena_compact(c);
		if (c->q_len <= 1 && c->arena_len + n + 1 > c->arena_cap)
			return NO_STR;
	}
	uint32_t off = (uint32_t)c->arena_len;
	memcpy(c->arena + off, p, n);
	c->arena[off + n] = '\0';
	c->arena_len += n + 1;
	return off;
}

/* ---- records ------------------------------------------------------------ */

static void finding(struct http1_conn *c, uint64_t seq, kl_time ts, enum finding_kind kind,
		    const char *detail)
{
	if (!c->out || !c->out->finding)
		return;
	struct finding_record f = { c->conn_id, seq, ts, kind, detail };
	c->out->finding(c->out->ctx, &f);
}

static void fill_record(const struct http1_conn *c, const struct pending *p,
			struct request_record *out)
{
	struct request_record r = {
		.conn_id = c->conn_id,
		.seq = p->seq,
		.method = str_at(c, p->str[S_METHOD]),
		.uri = str_at(c, p->str[S_URI]),
		.host = str_at(c, p->str[S_HOST]),
		.version = str_at(c, p->str[S_VERSION]),
		.status = p->status,
		.interim = p->interim,
		.request_ts = p->req_ts,
		.request_end_ts = p->req_done ? p->req_end_ts : 0,
		.response_ts = p->resp_ts,
		.response_end_ts = p->resp_end_ts,
		.req_connection = str_at(c, p->str[S_REQ_CONN]),
		.req_keep_alive = str_at(c, p->str[S_REQ_KA]),
		.resp_connection = str_at(c, p->str[S_RESP_CONN]),
		.resp_keep_alive = str_at(c, p->str[S_RESP_KA]),
		.request_body_bytes = p->req_done ? p->req_body : -1,
		.response_body_bytes = p->resp_end_ts ? p->resp_body : -1,
		.pipelined = p->pipelined,
		.has_idle_before = p->has_idle,
		.idle_before = p->idle_before,
		.upgrade = str_at(c, p->str[S_UPGRADE]),
		.req_proxy_connection = str_at(c, p->str[S_REQ_PROXY_CONN]),
		.response_version = p->resp_version,
	};
	*out = r;
}

static void emit_request(struct http1_conn *c, struct pending *p)
{
	if (p->hidden)
		return;                    /* never seen: nothing to store */
	if (!p->status)
		c->unanswered++;
	if (!c->out || !c->out->request)
		return;
	struct request_record r;
	fill_record(c, p, &r);
	c->out->request(c->out->ctx, &r);
}

static void pop_front(struct http1_conn *c)
{
	if (c->req_open == &c->q[c->q_head])
		c->req_open = NULL;
	c->q_head = (c->q_head + 1) % c->q_cap;
	if (--c->q_len == 0) {
		c->q_head = 0;
		c->arena_len = 0;          /* nothing pending: the arena is free */
	}
}

/* A new entry at the back of the FIFO, or NULL (out of memory). */
static struct pending *push_back(struct http1_conn *c, kl_time ts)
{
	if (c->q_len == HTTP1_PENDING_MAX) {
		emit_request(c, &c->q[c->q_head]);
		pop_front(c);
	}
	if (c->q_len == c->q_cap) {
		uint32_t cap = c->q_cap ? c->q_cap * 2 : 2;
		struct pending *q = malloc(cap * sizeof *q);
		if (!q)
			return NULL;
		for (uint32_t i = 0; i < c->q_len; i++)
			q[i] = c->q[(c->q_head + i) % c->q_cap];
		if (c->req_open)
			c->req_open = q + ((uint32_t)(c->req_open - c->q) + c->q_cap - c->q_head) % c->q_cap;
		free(c->q);
		c->q = q;
		c->q_cap = cap;
		c->q_head = 0;
	}
	struct pending *p = &c->q[(c->q_head + c->q_len) % c->q_cap];
	c->q_len++;
	memset(p, 0, sizeof *p);
	for (int s = 0; s < S_COUNT; s++)
		p->str[s] = NO_STR;
	p->req_ts = ts;
	p->req_body = -1;
	p->resp_body = -1;
	return p;
}

/* The connection's protocol is the version its client speaks (the first
 * request's); without any request, the first response's. */
static void note_version(struct http1_conn *c, bool request, uint8_t major, uint8_t minor)
{
	if (c->proto_known && !(request && !c->proto_from_request))
		return;
	c->proto_major = major;
	c->proto_minor = minor;
	c->proto_known = true;
	c->proto_from_request = request;
}

/* ---- request direction -------------------------------------------------- */

static enum http1_body_hint on_request_head(void *ctx, const struct http1_head *h, kl_time ts)
{
	struct http1_conn *c = ctx;
	bool pipelined = c->q_len > 0;
	c->orphans_since_req = 0;
	c->req_wire_bytes += h->head_bytes;
	struct pending *p = push_back(c, ts);
	if (!p)
		return HTTP1_BODY_AS_FRAMED;
	p->seq = c->seq_base + ++c->requests;
	p->pipelined = pipelined;
	if (!pipelined && c->last_resp_end && ts >= c->last_resp_end) {
		p->has_idle = true;
		p->idle_before = ts - c->last_resp_end;
		if (!c->has_max_idle || p->idle_before > c->max_idle) {
			c->has_max_idle = true;
			c->max_idle = p->idle_before;
		}
	}
	for (unsigned i = 0; i < LENIENCIES; i++) {
		if (!(h->lenient & (1u << i)))
			continue;
		if (c->lenient[i].count++ == 0) {
			c->lenient[i].first_seq = p->seq;
			c->lenient[i].first_ts = ts;
		}
	}
	p->req_major = h->version_major;
	p->req_minor = h->version_minor;
	bool v11 = h->version_major > 1 || (h->version_major == 1 && h->version_minor >= 1);
	/* RFC 9112 §9.3, as the server reads this request. */
	p->persists_req = !(h->connection & HTTP1_CONN_CLOSE) &&
			  (v11 || (h->connection & HTTP1_CONN_KEEP_ALIVE));
	p->req_keep_alive = (h->connection & HTTP1_CONN_KEEP_ALIVE) != 0;
	c->last_req_ts = ts;
	c->last_req_seq = p->seq;
	c->last_persists_req = p->persists_req;
	if (pipelined)
		c->pipelined_requests++;
	if (c->close_announced_by != CONN_CLOSER_NONE) {
		/* RFC 9112 §9.6: no request after close was signalled. */
		char d[112];
		snprintf(d, sizeof d, "sent after the %s announced Connection: close on request %llu",
			 conn_closer_name(c->close_announced_by),
			 (unsigned long long)c->close_announced_seq);
		finding(c, p->seq, ts, FINDING_REQUEST_AFTER_CLOSE, d);
	} else if (h->connection & HTTP1_CONN_CLOSE) {
		c->close_announced_by = CONN_CLOSER_CLIENT;
		c->close_announced_seq = p->seq;
	}
	note_version(c, true, h->version_major, h->version_minor);
	p->str[S_METHOD] = arena_put(c, h->method.p, h->method.n);
	p->str[S_URI] = arena_put(c, h->target.p, h->target.n);
	p->str[S_HOST] = arena_put(c, h->host.p, h->host.n);
	/* As written: "HTTP/d.d" when well formed, else the malformed text. */
	p->str[S_VERSION] = arena_put(c, h->version.p, h->version.n);
	if (h->has_connection)
		p->str[S_REQ_CONN] = arena_put(c, h->connection_raw.p, h->connection_raw.n);
	if (h->has_keep_alive)
		p->str[S_REQ_KA] = arena_put(c, h->keep_alive_raw.p, h->keep_alive_raw.n);
	if (h->has_proxy_connection)
		p->str[S_REQ_PROXY_CONN] = arena_put(c, h->proxy_connection_raw.p,
						     h->proxy_connection_raw.n);
	c->req_open = p;
	/* CONNECT (RFC 9110 §9.3.6) or an upgrade (§7.8): what the client
	 * sends next may be another protocol, if the server agrees. */
	if ((h->method.n == 7 && !memcmp(h->method.p, "CONNECT", 7)) ||
	    (h->upgrade.p && (h->connection & HTTP1_CONN_UPGRADE))) {
		c->hold_seq = p->seq;
		return HTTP1_BODY_TUNNEL;
	}
	return HTTP1_BODY_AS_FRAMED;
}

static void on_request_done(void *ctx, uint64_t body, kl_time ts)
{
	struct http1_conn *c = ctx;
	struct pending *p = c->req_open;
	if (!p)
		return;
	p->req_done = true;
	p->req_end_ts = ts;
	p->req_body = (int64_t)body;
	c->req_open = NULL;
	c->req_wire_bytes += body;
	c->req_done_count++;
}

/* ---- response direction ------------------------------------------------- */

/* Whole responses may have been in the bytes skipped before this head:
 * estimate how many from the size of responses (those seen so far, else
 * this one's head and Content-Length), and give that many of the oldest
 * pending requests up as unanswered, so this response pairs with the
 * request it answers.  The newest pending request always stays. */
static void hidden_responses(struct http1_conn *c, const struct http1_head *h)
{
	uint64_t skipped = c->resp_skipped;
	c->resp_skipped = 0;
	if (c->q_len < 2)
		return;
	uint64_t size = c->responses ? c->resp_wire_bytes / c->responses
				     : h->head_bytes + (h->content_length > 0 ? (uint64_t)h->content_length : 0);
	if (size == 0)
		return;
	uint64_t hidden = (skipped + size / 2) / size;
	if (hidden > c->q_len - 1)
		hidden = c->q_len - 1;
	for (uint64_t i = 0; i < hidden && !c->q[c->q_head].resp_ts; i++) {
		emit_request(c, &c->q[c->q_head]);
		pop_front(c);
	}
}

static enum http1_body_hint on_response_head(void *ctx, const struct http1_head *h, kl_time ts)
{
	struct http1_conn *c = ctx;
	note_version(c, false, h->version_major, h->version_minor);
	if (h->ka_timeout >= 0)
		c->ka_timeout = h->ka_timeout;
	if (h->ka_max >= 0)
		c->ka_max = h->ka_max;
	if (c->q_len == 0) {
		char d[64];
		snprintf(d, sizeof d, "status %d", h->status);
		c->orphan_responses++;
		c->orphans_since_req++;
		finding(c, 0, ts, FINDING_RESPONSE_WITHOUT_REQUEST, d);
		return HTTP1_BODY_AS_FRAMED;
	}
	if (c->resp_skipped)
		hidden_responses(c, h);
	struct pending *p = &c->q[c->q_head];
	if (!p->resp_ts)
		p->resp_ts = ts;
	c->resp_wire_bytes += h->head_bytes;
	if (h->status < 200 && h->status != 101) {
		p->interim++;              /* RFC 9110 §15.2: 1xx before the final response */
		return HTTP1_BODY_AS_FRAMED;
	}
	p->status = h->status;
	p->resp_version = http_version_name(h->version_major, h->version_minor);
	if (h->has_connection)
		p->str[S_RESP_CONN] = arena_put(c, h->connection_raw.p, h->connection_raw.n);
	if (h->has_keep_alive)
		p->str[S_RESP_KA] = arena_put(c, h->keep_alive_raw.p, h->keep_alive_raw.n);
	if (!p->hidden && c->ka_max_first < 0 && h->ka_max >= 0)
		c->ka_max_first = h->ka_max;
	if ((h->connection & HTTP1_CONN_CLOSE) && c->close_announced_by == CONN_CLOSER_NONE) {
		c->close_announced_by = CONN_CLOSER_SERVER;
		c->close_announced_seq = p->seq;
		c->close_on_persistent_request = p->persists_req;
	}
	if (!p->hidden && p->req_major == 1 && p->req_minor == 0 && p->req_keep_alive &&
	    !(h->connection & (HTTP1_CONN_KEEP_ALIVE | HTTP1_CONN_CLOSE))) {
		/* RFC 9112 §9.3 (and RFC 2068 §19.7.1): an HTTP/1.0 connection
		 * persists only if the response says keep-alive too.  A response
		 * that says close declined openly: that is another finding. */
		char d[96];
		snprintf(d, sizeof d, "HTTP/1.0 request asked for keep-alive; the %d response "
			 "(HTTP/%u.%u) did not echo it", h->status, h->version_major, h->version_minor);
		finding(c, p->seq, ts, FINDING_HTTP10_KEEPALIVE_NOT_ECHOED, d);
	}
	const char *req_method = str_at(c, p->str[S_METHOD]);
	if (!p->hidden && p->req_major == 1 && p->req_minor >= 1 && h->version_major == 1 &&
	    h->version_minor == 0 && !(req_method && !strcmp(req_method, "CONNECT"))) {
		/* (A CONNECT's answer opens a tunnel: it is not about reuse.) */
		/* RFC 9112 §9.3: an HTTP/1.0 response persists only with
		 * keep-alive; the most common reason reuse stops. */
		char d[128];
		snprintf(d, sizeof d, "%d response (HTTP/1.0) to an HTTP/1.%u request, %s", h->status,
			 p->req_minor, (h->connection & HTTP1_CONN_KEEP_ALIVE) ?
			 "with keep-alive" : "without keep-alive: the connection ends after it");
		finding(c, p->seq, ts, FINDING_HTTP10_RESPONSE, d);
	}
	if (p->pipelined && p->req_done && c->last_resp_end > p->req_end_ts) {
		/* Complete before the previous response had ended: it waited. */
		kl_time wait = c->last_resp_end - p->req_end_ts;
		c->hol_count++;
		c->hol_total += wait;
		if (wait > c->hol_max)
			c->hol_max = wait;
	}
	const char *method = str_at(c, p->str[S_METHOD]);
	bool v11 = h->version_major > 1 || (h->version_major == 1 && h->version_minor >= 1);
	bool persists_resp = !(h->connection & HTTP1_CONN_CLOSE) &&
			     (v11 || (h->connection & HTTP1_CONN_KEEP_ALIVE));
	bool framed = h->status == 204 || h->status == 304 || h->content_length >= 0 ||
		      h->chunked || (method && !strcmp(method, "HEAD"));
	c->expected_persistent = p->persists_req && persists_resp && framed ? 1 : 0;
	if (h->status == 101) {
		if (h->upgrade.p)
			p->str[S_UPGRADE] = arena_put(c, h->upgrade.p, h->upgrade.n);
		return HTTP1_BODY_AS_FRAMED;
	}
	if (method && !strcmp(method, "HEAD"))
		return HTTP1_BODY_NONE;
	if (method && !strcmp(method, "CONNECT") && h->status >= 200 && h->status < 300) {
		p->str[S_UPGRADE] = arena_put(c, "CONNECT", 7);
		return HTTP1_BODY_TUNNEL;
	}
	return HTTP1_BODY_AS_FRAMED;
}

static void resume(struct http1_conn *c, kl_time ts);

static void on_response_done(void *ctx, uint64_t body, kl_time ts)
{
	struct http1_conn *c = ctx;
	if (c->q_len == 0)
		return;                    /* a response without a request */
	struct pending *p = &c->q[c->q_head];
	if (!p->status)
		return;                    /* an interim response ended */
	p->resp_end_ts = ts;
	p->resp_body = (int64_t)body;
	c->resp_wire_bytes += body;
	c->last_resp_end = ts;
	uint64_t at;
	if (http1_parser_tunnel_at(c->parser[KL_TO_CLIENT], &at) && !p->hidden) {
		/* 101, or 2xx to CONNECT: the switch is made once the parser
		 * has said where the head ended (http1_data). */
		c->switch_pending = true;
		return;
	}
	c->responses++;
	bool declined = c->holding && p->seq == c->hold_seq;
	emit_request(c, p);
	pop_front(c);
	/* Declined: HTTP/1 goes on, and what the client sent since is read
	 * now, so that a response to it in the rest of this piece pairs. */
	if (declined)
		resume(c, ts);
}

/* ---- both directions ---------------------------------------------------- */

static void on_error(struct http1_conn *c, enum kl_dir dir, enum http1_error e, kl_time ts)
{
	const char *side = dir == KL_TO_SERVER ? "request" : "response";
	char d[96];
	switch (e) {
	case HTTP1_ERR_HEAD_TOO_LARGE:
		snprintf(d, sizeof d, "%s head over the limit", side);
		finding(c, 0, ts, FINDING_HEADER_TOO_LARGE, d);
		break;
	case HTTP1_ERR_BAD_LENGTH:
		snprintf(d, sizeof d, "%s body length (Content-Length or chunk size)", side);
		finding(c, 0, ts, FINDING_PARSE_ERROR, d);
		break;
	case HTTP1_ERR_GAP:
		/* The reassembly-gap finding already says where. */
		break;
	case HTTP1_ERR_SYNTAX:
	default:
		snprintf(d, sizeof d, "%s syntax", side);
		finding(c, 0, ts, FINDING_PARSE_ERROR, d);
		break;
	}
	if (dir == KL_TO_SERVER)
		c->req_open = NULL;
}

static void on_request_error(void *ctx, enum http1_error e, kl_time ts)
{
	on_error(ctx, KL_TO_SERVER, e, ts);
}

static void on_response_error(void *ctx, enum http1_error e, kl_time ts)
{
	struct http1_conn *c = ctx;
	on_error(c, KL_TO_CLIENT, e, ts);
}

static void on_resync(struct http1_conn *c, enum kl_dir dir, uint64_t skipped, kl_time ts)
{
	char d[96];
	snprintf(d, sizeof d, "%s stream: %llu bytes skipped to the next message",
		 dir == KL_TO_SERVER ? "request" : "response", (unsigned long long)skipped);
	finding(c, 0, ts, FINDING_RESYNC, d);
}

/* Whole requests may have been in the bytes skipped: estimate how many
 * from the size of the connection's complete requests, less the responses
 * that already came without a request since the last one seen (a client
 * that waits for each response has had them answered before the gap shows),
 * and queue that many placeholders, so the responses to them pair there and
 * the requests after the gap keep their own responses.  No estimate before
 * a first complete request (mid-stream pickup). */
static void hidden_requests(struct http1_conn *c, uint64_t skipped, kl_time ts)
{
	if (c->req_done_count == 0 || c->req_wire_bytes == 0)
		return;
	uint64_t size = c->req_wire_bytes / c->req_done_count;
	if (size == 0)
		return;
	uint64_t hidden = (skipped + size / 2) / size;
	hidden = hidden > c->orphans_since_req ? hidden - c->orphans_since_req : 0;
	if (hidden > HTTP1_PENDING_MAX / 2)
		hidden = HTTP1_PENDING_MAX / 2;
	if (hidden == 0)
		return;
	char d[96];
	snprintf(d, sizeof d, "about %llu requests hidden in %llu bytes skipped",
		 (unsigned long long)hidden, (unsigned long long)skipped);
	finding(c, 0, ts, FINDING_HIDDEN_REQUESTS, d);
	for (uint64_t i = 0; i < hidden; i++) {
		struct pending *p = push_back(c, ts);
		if (!p)
			return;
		p->hidden = true;
		/* What its response implies is read as for the request before. */
		p->persists_req = c->last_persists_req;
		p->req_major = c->proto_major;
		p->req_minor = c->proto_minor;
	}
	c->req_open = NULL;
}

static void on_request_resync(void *ctx, uint64_t skipped, kl_time ts)
{
	on_resync(ctx, KL_TO_SERVER, skipped, ts);
	hidden_requests(ctx, skipped, ts);
}

/* The response stream resumed after skipping `skipped` bytes; the next
 * response head decides what they hid (see hidden_responses()). */
static void on_response_resync(void *ctx, uint64_t skipped, kl_time ts)
{
	struct http1_conn *c = ctx;
	on_resync(c, KL_TO_CLIENT, skipped, ts);
	c->resp_skipped += skipped;
}

/* The switch is made in http1_data, once the head's end is known. */
static void on_tunnel(void *ctx, kl_time ts)
{
	(void)ctx;
	(void)ts;
}

static const struct http1_callbacks request_cb = {
	on_request_head, on_request_done, on_request_error, on_request_resync, on_tunnel,
};

static const struct http1_callbacks response_cb = {
	on_response_head, on_response_done, on_response_error, on_response_resync, on_tunnel,
};

/* ---- the dissector interface ------------------------------------------- */

/* Evidence, not shape (http1_evidence): a whole request-line or a
 * status-line; a request-line longer than the bytes the flow layer keeps
 * for probing (DISSECT_PROBE_BYTES) is judged on its registered method and
 * the start of its target when that many have come.  Either may come in
 * either direction: the TCP server may be the one that asks (a reverse
 * tunnel's agent connection; roles guessed wrong mid-stream).  The
 * direction's usual role is tried first. */
static enum dissect_verdict http1_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	bool last = n >= DISSECT_PROBE_BYTES;
	int usual = http1_evidence(dir == KL_TO_SERVER, p, n, last);
	if (usual == 1)
		return DISSECT_YES;
	int other = http1_evidence(dir != KL_TO_SERVER, p, n, last);
	if (other == 1)
		return DISSECT_YES;
	return usual == 2 || other == 2 ? DISSECT_MORE : DISSECT_NO;
}

/* The first bytes read (those the probe took) decide HTTP's roles: a
 * request from the TCP server, or a status line from the TCP client, and
 * nothing of the usual kind there, reverse them. */
static void orient(struct http1_conn *c, enum kl_dir dir, const uint8_t *p, size_t n)
{
	c->oriented = true;
	int req = http1_evidence(true, p, n, false), resp = http1_evidence(false, p, n, false);
	c->reversed = dir == KL_TO_SERVER ? req == 0 && resp != 0 : req != 0 && resp == 0;
}

/* A TCP direction in HTTP's roles, and back (the same swap). */
static enum kl_dir http_dir(const struct http1_conn *c, enum kl_dir dir)
{
	return c->reversed ? (dir == KL_TO_SERVER ? KL_TO_CLIENT : KL_TO_SERVER) : dir;
}

static void http1_ctx_free(void *ctx);

static void *http1_ctx_new(const struct dissect_conn_info *info)
{
	struct http1_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	c->seq_base = info->seq_base;
	c->info = *info;
	memcpy(c->client_ip, info->client_ip, 16);
	memcpy(c->server_ip, info->server_ip, 16);
	c->info.client_ip = c->client_ip;
	c->info.server_ip = c->server_ip;
	c->ka_timeout = c->ka_max = c->ka_max_first = -1;
	c->expected_persistent = -1;
	size_t limit = info->head_limit ? info->head_limit : HTTP1_HEAD_LIMIT_DEFAULT;
	c->parser[KL_TO_SERVER] = http1_parser_new(true, limit, &request_cb, c);
	c->parser[KL_TO_CLIENT] = http1_parser_new(false, limit, &response_cb, c);
	if (!c->parser[0] || !c->parser[1]) {
		http1_ctx_free(c);
		return NULL;
	}
	return c;
}

static size_t http1_mem(const void *ctx)
{
	const struct http1_conn *c = ctx;
	return kl_heap_bytes(sizeof *c) + http1_parser_mem(c->parser[0]) +
	       http1_parser_mem(c->parser[1]) +
	       (c->q_cap ? kl_heap_bytes(c->q_cap * sizeof *c->q) : 0) +
	       (c->arena_cap ? kl_heap_bytes(c->arena_cap) : 0) +
	       (c->held ? kl_heap_bytes(HTTP1_HOLD_MAX) : 0) +
	       (c->connect_target ? kl_heap_bytes(strlen(c->connect_target) + 1) : 0);
}

static void http1_ctx_free(void *ctx)
{
	struct http1_conn *c = ctx;
	if (!c)
		return;
	http1_parser_free(c->parser[0]);
	http1_parser_free(c->parser[1]);
	free(c->held);
	free(c->q);
	free(c->arena);
	free(c->connect_target);
	free(c);
}

/* Client bytes after a request that may switch protocols, kept (up to
 * HTTP1_HOLD_MAX; the rest counted) until its response decides. */
static void hold(struct http1_conn *c, const uint8_t *p, size_t n)
{
	if (!c->held && n && c->held_lost == 0)
		c->held = malloc(HTTP1_HOLD_MAX);
	size_t room = c->held && c->held_lost == 0 ? HTTP1_HOLD_MAX - c->held_len : 0;
	size_t k = n < room ? n : room;
	if (k)
		memcpy(c->held + c->held_len, p, k);
	c->held_len += k;
	c->held_lost += n - k;
}

static void held_free(struct http1_conn *c)
{
	free(c->held);
	c->held = NULL;
	c->held_len = 0;
	c->held_lost = 0;
	c->holding = false;
}

/* The server declined the switch: the client's bytes since are HTTP/1. */
static void resume(struct http1_conn *c, kl_time ts)
{
	if (!c->holding)
		return;
	struct http1_parser *rp = c->parser[KL_TO_SERVER];
	uint64_t from = 0, at;
	(void)http1_parser_tunnel_at(rp, &from);
	http1_parser_resume(rp);
	uint8_t *held = c->held;
	size_t n = c->held_len;
	uint64_t lost = c->held_lost;
	c->held = NULL;
	held_free(c);
	if (n)
		http1_parser_feed(rp, held, n, ts);
	/* Another CONNECT among them (with credentials, after a 407). */
	if (http1_parser_tunnel_at(rp, &at)) {
		c->holding = true;
		if (at < from + n)
			hold(c, held + (at - from), (size_t)(from + n - at));
		c->held_lost += lost;
	} else if (lost) {
		http1_parser_gap(rp, lost, ts);
	}
	free(held);
}

/* The response at the front switched protocols (its head ended at `at` of
 * the response stream): from there on, and from the end of its request on
 * the client's side, the connection is the layer above's: a CONNECT
 * tunnel's content (probed), HTTP/2 after "Upgrade: h2c" (with the request,
 * which becomes its stream 1), nothing kalens reads after other upgrades
 * (websocket). */
static void switch_protocols(struct http1_conn *c, uint64_t at, kl_time ts)
{
	c->switch_pending = false;
	struct pending *p = &c->q[c->q_head];
	const char *up = str_at(c, p->str[S_UPGRADE]);
	struct request_record r;
	struct dissect_handover h = { .next = DISSECT_NEXT_NONE, .requests = c->requests };
	/* h.requests: this layer numbered seq_base + 1 .. seq_base + requests. */
	if (p->status != 101) {
		h.next = DISSECT_NEXT_PROBE;       /* CONNECT 2xx: whatever the tunnel carries */
		c->connect_ok = true;
		const char *target = str_at(c, p->str[S_URI]);
		free(c->connect_target);
		c->connect_target = strdup(target ? target : "");
		c->responses++;
		emit_request(c, p);
	} else if (up && !strcasecmp(up, "h2c")) {
		/* The request goes on as stream 1 of HTTP/2, the 101 its
		 * interim response (not counted here: HTTP/2 stores it). */
		p->status = 0;
		fill_record(c, p, &r);
		r.response_ts = p->resp_ts;
		h.next = DISSECT_NEXT_NAMED;
		h.named = &http2_dissector;
		h.upgrade = &r;
	} else {
		c->responses++;
		emit_request(c, p);
	}
	/* The client's side: from the end of its request, with what it sent
	 * since (a client that did not wait). */
	uint64_t req_at = c->fed[KL_TO_SERVER];
	if (c->holding)
		(void)http1_parser_tunnel_at(c->parser[KL_TO_SERVER], &req_at);
	h.held = c->held;
	h.held_len = c->held_len;
	h.lost = c->held_lost;
	dissect_handover(c->info.link, http_dir(c, KL_TO_SERVER), c->base[KL_TO_SERVER] + req_at,
			 &h, ts);
	h.held = NULL;
	h.held_len = 0;
	h.lost = 0;
	dissect_handover(c->info.link, http_dir(c, KL_TO_CLIENT), c->base[KL_TO_CLIENT] + at, &h,
			 ts);
	held_free(c);
	pop_front(c);
	c->switched = true;
}

static void note_start(struct http1_conn *c, enum kl_dir dir, uint64_t off)
{
	if (!c->started[dir]) {
		c->started[dir] = true;
		c->base[dir] = off;
	}
}

static void http1_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n,
		       uint64_t off, kl_time ts)
{
	struct http1_conn *c = ctx;
	if (!c->oriented)
		orient(c, dir, p, n);
	dir = http_dir(c, dir);
	note_start(c, dir, off);
	if (c->switched)
		return;                   /* bytes of this layer before the switch, late */
	if (dir == KL_TO_SERVER && c->holding) {
		hold(c, p, n);
		c->fed[dir] += n;
		return;
	}
	http1_parser_feed(c->parser[dir], p, n, ts);
	uint64_t at;
	if (dir == KL_TO_SERVER && http1_parser_tunnel_at(c->parser[dir], &at)) {
		c->holding = true;
		if (at < c->fed[dir] + n)
			hold(c, p + (at - c->fed[dir]), (size_t)(c->fed[dir] + n - at));
	}
	c->fed[dir] += n;
	if (c->switch_pending && http1_parser_tunnel_at(c->parser[KL_TO_CLIENT], &at))
		switch_protocols(c, at, ts);
}

static void http1_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct http1_conn *c = ctx;
	c->oriented = true;
	char d[96];
	snprintf(d, sizeof d, "%llu bytes missing %s at offset %llu", (unsigned long long)len,
		 dir == KL_TO_SERVER ? "to the server" : "to the client", (unsigned long long)off);
	dir = http_dir(c, dir);
	note_start(c, dir, off);
	c->fed[dir] += len;
	finding(c, 0, ts, FINDING_REASSEMBLY_GAP, d);
	if (c->switched)
		return;
	if (dir == KL_TO_SERVER && c->holding)
		c->held_lost += len;
	else
		http1_parser_gap(c->parser[dir], len, ts);
}

static void http1_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	struct http1_conn *c = ctx;
	http1_parser_eof(c->parser[http_dir(c, dir)], ts);
	if (++c->eofs < 2)
		return;
	/* Both directions are over: what is still pending had no (complete)
	 * response in the capture. */
	while (c->q_len) {
		emit_request(c, &c->q[c->q_head]);
		pop_front(c);
	}
	if (c->unanswered) {
		char d[64];
		snprintf(d, sizeof d, "%llu requests without a response",
			 (unsigned long long)c->unanswered);
		finding(c, 0, ts, FINDING_REQUEST_WITHOUT_RESPONSE, d);
	}
	if (c->pipelined_requests) {
		char d[96];
		snprintf(d, sizeof d, "%llu requests sent before the previous response ended",
			 (unsigned long long)c->pipelined_requests);
		finding(c, 0, ts, FINDING_PIPELINED, d);
	}
	for (unsigned i = 0; i < LENIENCIES; i++) {
		if (!c->lenient[i].count)
			continue;
		char d[192];
		snprintf(d, sizeof d, "%llu requests: %s", (unsigned long long)c->lenient[i].count,
			 leniency_text[i]);
		finding(c, c->lenient[i].first_seq, c->lenient[i].first_ts,
			FINDING_LENIENT_REQUEST_SYNTAX, d);
	}
	if (c->hol_count) {
		char d[128];
		snprintf(d, sizeof d, "%llu responses waited behind an earlier one: %.6f s in all, "
			 "at most %.6f s", (unsigned long long)c->hol_count,
			 kl_time_seconds(c->hol_total), kl_time_seconds(c->hol_max));
		finding(c, 0, ts, FINDING_HEAD_OF_LINE_WAIT, d);
	}
}

static const char *http1_protocol(const void *ctx)
{
	const struct http1_conn *c = ctx;
	if (!c->proto_known)
		return "http";
	if (c->proto_major == 1 && c->proto_minor == 0)
		return "http/1.0";
	if (c->proto_major == 1 && c->proto_minor == 1)
		return "http/1.1";
	return "http";
}

/* HTTP/1's facts.  A layer above this one (HTTP inside a tunnel, HTTP/2
 * after h2c) adds its own after: counts add up, and the keep-alive state is
 * the last layer's that carried requests. */
static void http1_facts(const void *ctx, const struct conn_record *tcp, struct facts_set *set)
{
	const struct http1_conn *c = ctx;
	struct http_facts *h = facts_set_get(set, FACTS_HTTP);
	bool first = h->requests == 0 && h->responses == 0;
	h->requests += c->requests;
	h->responses += c->responses;
	h->pipelined_requests += c->pipelined_requests;
	if (c->reversed)
		h->http_client = CONN_CLOSER_SERVER;
	if (c->connect_ok) {
		struct tunnel_facts *t = facts_set_get(set, FACTS_TUNNEL);
		t->kind = "connect";
		snprintf(t->target, sizeof t->target, "%s", c->connect_target ? c->connect_target : "");
	}
	if (!first && !c->requests)
		return;
	h->has_max_idle = c->has_max_idle;
	h->max_idle = c->max_idle;
	h->ka_timeout_advertised = c->ka_timeout;
	h->ka_max_advertised = c->ka_max;
	h->expected_persistent = c->expected_persistent;
	h->close_announced_by = c->close_announced_by;
	h->close_announced_seq = c->close_announced_seq;
	h->close_on_persistent_request = c->close_on_persistent_request;
	h->ka_max_first = c->ka_max_first;
	h->last_request_ts = c->last_req_ts;
	h->last_request_seq = c->last_req_seq;
	h->has_idle_before_close = false;
	if (c->last_resp_end &&
	    (tcp->close_kind == CONN_CLOSE_FIN || tcp->close_kind == CONN_CLOSE_RST) &&
	    tcp->close_ts >= c->last_resp_end) {
		h->has_idle_before_close = true;
		h->idle_before_close = tcp->close_ts - c->last_resp_end;
	}
}

const struct dissector http1_dissector = {
	.name = "http",
	.probe = http1_probe,
	.ctx_new = http1_ctx_new,
	.ctx_free = http1_ctx_free,
	.data = http1_data,
	.gap = http1_gap,
	.eof = http1_eof,
	.protocol = http1_protocol,
	.mem = http1_mem,
	.facts = http1_facts,
};
