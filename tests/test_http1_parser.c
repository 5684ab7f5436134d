/*
 * test_http1_parser.c - the incremental HTTP/1.x parser (http1_parser),
 * written from the contract in http1_parser.h, RFC 9112 (message format
 * §2-§5, framing §6.3, chunked §7.1, persistence §9.3) and RFC 9110
 * (Connection §7.6.1, lists §5.6.1).
 *
 * A recording harness turns every callback into an event (HEAD with a copy
 * of every field of struct http1_head, DONE, ERROR, RESYNC, TUNNEL) and
 * checks, inside the callbacks, what holds for any input: spans are
 * readable for their whole length, a message is done or abandoned before
 * the next head, nothing follows a tunnel.  Every piece is copied into a
 * buffer of exactly its size that is freed right after the feed, so ASan
 * catches a read past a piece or a span kept beyond its callback.
 *
 * Expected values come from the bytes written here, never from running
 * the parser.  Fixed streams are also fed split at every offset, one byte
 * at a time and in random pieces; the event lists must be identical to the
 * one-piece feed, with each timestamp the time of the piece that carried
 * the byte the contract names (a head's first byte, a message's last).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1_parser.h"

#define MS(x) ((kl_time)(x) * 1000000)
#define T0 ((kl_time)1700000000 * KL_NS_PER_SEC)

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN_STATS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN_STATS 1
#endif
#endif
#ifdef HAVE_ASAN_STATS
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* ---- the recording harness -------------------------------------------- */

enum ev_kind { EV_HEAD, EV_DONE, EV_ERROR, EV_RESYNC, EV_TUNNEL };

struct str {
	char *p;                      /* NUL-terminated copy (may hold NULs) */
	size_t n;
};

struct ev {
	enum ev_kind kind;
	kl_time ts;
	uint64_t n;                   /* DONE: body_bytes; RESYNC: skipped */
	int err;                      /* ERROR */
	/* HEAD: a copy of struct http1_head */
	bool is_request;
	struct str method, target, reason;
	int status;
	int vmaj, vmin;
	struct str version;
	bool version_malformed;
	unsigned lenient;
	uint64_t head_bytes;
	int64_t cl;
	bool chunked, te;
	unsigned conn, pconn;
	bool has_conn, has_ka, has_pconn;
	struct str conn_raw, ka_raw, pconn_raw, host, upgrade;
	int64_t ka_timeout, ka_max;
};

#define MAX_HINTS 16

struct rec {
	bool requests;
	size_t head_limit;
	struct ev *ev;
	size_t nev, cap;
	enum http1_body_hint hints[MAX_HINTS];  /* answer to the i-th response head */
	size_t nheads;
	bool open;                    /* a head is out, not yet done or abandoned */
	bool tunneled;
};

static struct ev *rec_push(struct rec *rc, enum ev_kind kind, kl_time ts)
{
	cr_assert(!rc->tunneled, "an event (kind %d) after the tunnel", (int)kind);
	if (rc->nev == rc->cap) {
		rc->cap = rc->cap ? 2 * rc->cap : 32;
		rc->ev = realloc(rc->ev, rc->cap * sizeof *rc->ev);
		cr_assert_not_null(rc->ev);
	}
	struct ev *e = &rc->ev[rc->nev++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->ts = ts;
	return e;
}

/* Copies a span, which must be readable for its whole length (ASan) and
 * no longer than `max`. */
static struct str copy_span(struct http1_span s, size_t max, const char *what)
{
	cr_assert(s.n == 0 || s.p != NULL, "%s: %zu bytes at NULL", what, s.n);
	cr_assert_leq(s.n, max, "%s: %zu bytes, more than %zu", what, s.n, max);
	struct str c = { malloc(s.n + 1), s.n };
	cr_assert_not_null(c.p);
	if (s.n)
		memcpy(c.p, s.p, s.n);
	c.p[s.n] = '\0';
	return c;
}

static enum http1_body_hint rec_head(void *ctx, const struct http1_head *h, kl_time ts)
{
	struct rec *rc = ctx;
	cr_assert(!rc->open, "a head while the previous message is neither done nor abandoned");
	cr_assert_eq(h->is_request, rc->requests, "is_request %d on a %s parser",
		     (int)h->is_request, rc->requests ? "request" : "response");
	if (!h->is_request)
		cr_assert(h->status >= 100 && h->status <= 999, "status %d", h->status);
	cr_assert_geq(h->content_length, -1);
	cr_assert_geq(h->ka_timeout, -1);
	cr_assert_geq(h->ka_max, -1);
	struct ev *e = rec_push(rc, EV_HEAD, ts);
	size_t lim = rc->head_limit;
	e->is_request = h->is_request;
	e->method = copy_span(h->method, lim, "method");
	e->target = copy_span(h->target, lim, "target");
	e->reason = copy_span(h->reason, lim, "reason");
	e->status = h->status;
	e->vmaj = h->version_major;
	e->vmin = h->version_minor;
	e->version = copy_span(h->version, lim, "version");
	e->version_malformed = h->version_malformed;
	e->lenient = h->lenient;
	e->head_bytes = h->head_bytes;
	e->cl = h->content_length;
	e->chunked = h->chunked;
	e->te = h->transfer_encoding;
	e->conn = h->connection;
	e->pconn = h->proxy_connection;
	e->has_conn = h->has_connection;
	e->has_ka = h->has_keep_alive;
	e->has_pconn = h->has_proxy_connection;
	e->conn_raw = copy_span(h->connection_raw, HTTP1_VALUE_KEEP, "connection_raw");
	e->ka_raw = copy_span(h->keep_alive_raw, HTTP1_VALUE_KEEP, "keep_alive_raw");
	e->pconn_raw = copy_span(h->proxy_connection_raw, HTTP1_VALUE_KEEP,
				 "proxy_connection_raw");
	e->host = copy_span(h->host, lim, "host");
	e->upgrade = copy_span(h->upgrade, lim, "upgrade");
	e->ka_timeout = h->ka_timeout;
	e->ka_max = h->ka_max;
	rc->open = true;
	enum http1_body_hint hint = HTTP1_BODY_AS_FRAMED;
	if (!rc->requests && rc->nheads < MAX_HINTS)
		hint = rc->hints[rc->nheads];
	rc->nheads++;
	return hint;
}

static void rec_done(void *ctx, uint64_t body_bytes, kl_time ts)
{
	struct rec *rc = ctx;
	cr_assert(rc->open, "done() without a head");
	rc->open = false;
	rec_push(rc, EV_DONE, ts)->n = body_bytes;
}

static void rec_error(void *ctx, enum http1_error err, kl_time ts)
{
	struct rec *rc = ctx;
	cr_assert(err >= HTTP1_ERR_SYNTAX && err <= HTTP1_ERR_GAP, "error code %d", (int)err);
	rc->open = false;
	rec_push(rc, EV_ERROR, ts)->err = (int)err;
}

static void rec_resync(void *ctx, uint64_t skipped, kl_time ts)
{
	struct rec *rc = ctx;
	cr_assert(!rc->open, "resync while a message is open");
	rec_push(rc, EV_RESYNC, ts)->n = skipped;
}

static void rec_tunnel(void *ctx, kl_time ts)
{
	struct rec *rc = ctx;
	rec_push(rc, EV_TUNNEL, ts);
	rc->open = false;
	rc->tunneled = true;
}

static const struct http1_callbacks REC_CB = { rec_head, rec_done, rec_error, rec_resync,
					       rec_tunnel };

static void ev_free(struct ev *e)
{
	struct str *s[] = { &e->method, &e->target, &e->reason, &e->version, &e->conn_raw,
			    &e->ka_raw, &e->pconn_raw, &e->host, &e->upgrade };
	for (size_t i = 0; i < KL_ARRAY_LEN(s); i++)
		free(s[i]->p);
}

/* ---- one parser and its recording ------------------------------------- */

struct t {
	struct rec rc;
	struct http1_parser *p;
	kl_time ts;                   /* of the next piece fed by t_feed */
	uint64_t fed;                 /* stream bytes so far, gaps included */
};

static void t_open_hints(struct t *t, bool requests, size_t limit,
			 const enum http1_body_hint *hints, size_t nhints)
{
	memset(t, 0, sizeof *t);
	t->rc.requests = requests;
	t->rc.head_limit = limit;
	cr_assert_leq(nhints, MAX_HINTS);
	for (size_t i = 0; i < nhints; i++)
		t->rc.hints[i] = hints[i];
	t->p = http1_parser_new(requests, limit, &REC_CB, &t->rc);
	cr_assert_not_null(t->p);
	t->ts = T0;
}

static void t_open(struct t *t, bool requests, size_t limit)
{
	t_open_hints(t, requests, limit, NULL, 0);
}

static void t_close(struct t *t)
{
	http1_parser_free(t->p);
	for (size_t i = 0; i < t->rc.nev; i++)
		ev_free(&t->rc.ev[i]);
	free(t->rc.ev);
}

/* Feeds a copy of exactly n bytes, freed at once. */
static void t_feed_at(struct t *t, const void *s, size_t n, kl_time ts)
{
	uint8_t *c = malloc(n ? n : 1);
	cr_assert_not_null(c);
	if (n)
		memcpy(c, s, n);
	http1_parser_feed(t->p, c, n, ts);
	free(c);
	t->fed += n;
}

static void t_feedn(struct t *t, const void *s, size_t n)
{
	t_feed_at(t, s, n, t->ts);
	t->ts += MS(1);
}

static void t_feed_ts(struct t *t, const char *s, kl_time ts)
{
	t_feed_at(t, s, strlen(s), ts);
}

static void t_feed(struct t *t, const char *s)
{
	t_feedn(t, s, strlen(s));
}

static void t_gap(struct t *t, uint64_t len)
{
	http1_parser_gap(t->p, len, t->ts);
	t->ts += MS(1);
	t->fed += len;
}

static void t_eof(struct t *t)
{
	http1_parser_eof(t->p, t->ts);
	t->ts += MS(1);
}

/* ---- looking at the events -------------------------------------------- */

static const char KIND_CH[] = { 'H', 'D', 'E', 'R', 'T' };

/* "HDHD...": one letter per event, in a static buffer. */
static const char *kinds(const struct t *t)
{
	static char buf[4096];
	size_t i;
	for (i = 0; i < t->rc.nev && i + 1 < sizeof buf; i++)
		buf[i] = KIND_CH[t->rc.ev[i].kind];
	buf[i] = '\0';
	return buf;
}

/* Readable event list for failure messages, in a static buffer. */
static const char *dump(const struct t *t)
{
	static char buf[8192];
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->rc.nev && o + 200 < sizeof buf; i++) {
		const struct ev *e = &t->rc.ev[i];
		int k = 0;
		switch (e->kind) {
		case EV_HEAD:
			if (e->is_request)
				k = snprintf(buf + o, sizeof buf - o, " HEAD(%.40s %.60s %d.%d cl=%" PRId64 ")",
					     e->method.p, e->target.p, e->vmaj, e->vmin, e->cl);
			else
				k = snprintf(buf + o, sizeof buf - o, " HEAD(%d %.40s %d.%d cl=%" PRId64 ")",
					     e->status, e->reason.p, e->vmaj, e->vmin, e->cl);
			break;
		case EV_DONE:
			k = snprintf(buf + o, sizeof buf - o, " DONE(%" PRIu64 ")", e->n);
			break;
		case EV_ERROR:
			k = snprintf(buf + o, sizeof buf - o, " ERROR(%d)", e->err);
			break;
		case EV_RESYNC:
			k = snprintf(buf + o, sizeof buf - o, " RESYNC(%" PRIu64 ")", e->n);
			break;
		case EV_TUNNEL:
			k = snprintf(buf + o, sizeof buf - o, " TUNNEL");
			break;
		}
		if (k > 0)
			o += (size_t)k;
	}
	return buf;
}

#define EXPECT_KINDS(t, want) \
	cr_assert_str_eq(kinds(t), (want), "events%s, expected %s", dump(t), (want))

static const struct ev *ev_get(const struct t *t, size_t i, enum ev_kind kind)
{
	cr_assert_lt(i, t->rc.nev, "event %zu missing; events%s", i, dump(t));
	const struct ev *e = &t->rc.ev[i];
	cr_assert_eq(e->kind, kind, "event %zu is %c, expected %c; events%s", i,
		     KIND_CH[e->kind], KIND_CH[kind], dump(t));
	return e;
}

static bool str_is(struct str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

#define EXPECT_STR(s, lit, what) \
	cr_assert(str_is((s), (lit)), "%s is \"%.*s\" (%zu bytes), expected \"%s\"", (what), \
		  (int)((s).n > 200 ? 200 : (s).n), (s).p, (s).n, (lit))

static const struct ev *expect_req(const struct t *t, size_t i, const char *method,
				   const char *target, int vmaj, int vmin)
{
	const struct ev *e = ev_get(t, i, EV_HEAD);
	cr_assert(e->is_request);
	EXPECT_STR(e->method, method, "method");
	EXPECT_STR(e->target, target, "target");
	cr_assert_eq(e->vmaj, vmaj, "version %d.%d, expected %d.%d", e->vmaj, e->vmin, vmaj, vmin);
	cr_assert_eq(e->vmin, vmin, "version %d.%d, expected %d.%d", e->vmaj, e->vmin, vmaj, vmin);
	char v[16];
	snprintf(v, sizeof v, "HTTP/%d.%d", vmaj, vmin);
	EXPECT_STR(e->version, v, "version");
	cr_assert(!e->version_malformed);
	return e;
}

static const struct ev *expect_resp(const struct t *t, size_t i, int status, const char *reason,
				    int vmaj, int vmin)
{
	const struct ev *e = ev_get(t, i, EV_HEAD);
	cr_assert(!e->is_request);
	cr_assert_eq(e->status, status, "status %d, expected %d; events%s", e->status, status,
		     dump(t));
	if (reason)
		EXPECT_STR(e->reason, reason, "reason");
	cr_assert_eq(e->vmaj, vmaj, "version %d.%d, expected %d.%d", e->vmaj, e->vmin, vmaj, vmin);
	cr_assert_eq(e->vmin, vmin, "version %d.%d, expected %d.%d", e->vmaj, e->vmin, vmaj, vmin);
	return e;
}

static void expect_done(const struct t *t, size_t i, uint64_t body)
{
	const struct ev *e = ev_get(t, i, EV_DONE);
	cr_assert_eq(e->n, body, "event %zu: body_bytes %" PRIu64 ", expected %" PRIu64
		     "; events%s", i, e->n, body, dump(t));
}

static void expect_error(const struct t *t, size_t i, enum http1_error err)
{
	const struct ev *e = ev_get(t, i, EV_ERROR);
	cr_assert_eq(e->err, (int)err, "event %zu: error %d, expected %d; events%s", i, e->err,
		     (int)err, dump(t));
}

/* RESYNC with lo <= skipped <= hi. */
static void expect_resync(const struct t *t, size_t i, uint64_t lo, uint64_t hi)
{
	const struct ev *e = ev_get(t, i, EV_RESYNC);
	cr_assert(e->n >= lo && e->n <= hi, "event %zu: skipped %" PRIu64 ", expected %" PRIu64
		  "..%" PRIu64 "; events%s", i, e->n, lo, hi, dump(t));
}

static const struct ev *last_head(const struct t *t)
{
	for (size_t i = t->rc.nev; i-- > 0;)
		if (t->rc.ev[i].kind == EV_HEAD)
			return &t->rc.ev[i];
	cr_assert_fail("no head at all");
	return NULL;
}

static size_t count_kind(const struct t *t, enum ev_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < t->rc.nev; i++)
		n += t->rc.ev[i].kind == kind;
	return n;
}

/* Opens t and feeds one head (a message of t's direction with nothing
 * after it); its HEAD is t->rc.ev[0]. */
static void one_head(struct t *t, bool requests, const char *wire)
{
	t_open(t, requests, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(t, wire);
	cr_assert_geq(t->rc.nev, 1, "no event for %s", wire);
	ev_get(t, 0, EV_HEAD);
}

/* ---- comparing two recordings ----------------------------------------- */

static bool str_same(struct str a, struct str b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static bool ev_same(const struct ev *a, const struct ev *b)
{
	if (a->kind != b->kind || a->n != b->n || a->err != b->err)
		return false;
	if (a->kind != EV_HEAD)
		return true;
	return a->is_request == b->is_request && str_same(a->method, b->method) &&
	       str_same(a->target, b->target) && str_same(a->reason, b->reason) &&
	       a->status == b->status && a->vmaj == b->vmaj && a->vmin == b->vmin &&
	       str_same(a->version, b->version) && a->version_malformed == b->version_malformed &&
	       a->lenient == b->lenient &&
	       a->head_bytes == b->head_bytes &&
	       a->cl == b->cl && a->chunked == b->chunked && a->te == b->te &&
	       a->conn == b->conn && a->pconn == b->pconn && a->has_conn == b->has_conn &&
	       a->has_ka == b->has_ka && a->has_pconn == b->has_pconn &&
	       str_same(a->conn_raw, b->conn_raw) && str_same(a->ka_raw, b->ka_raw) &&
	       str_same(a->pconn_raw, b->pconn_raw) && str_same(a->host, b->host) &&
	       str_same(a->upgrade, b->upgrade) && a->ka_timeout == b->ka_timeout &&
	       a->ka_max == b->ka_max;
}

/* Piece j (0-based) of a cut feed has time T0 + MS(j + 1). */
static kl_time ts_of_offset(const size_t *cuts, size_t ncuts, size_t off)
{
	size_t j = 0;
	while (j < ncuts && cuts[j] <= off)
		j++;
	return T0 + MS(j + 1);
}

/* Feeds s[0, n) cut before each offset in cuts (ascending, in (0, n)),
 * then eof. */
static void run_cuts(struct t *t, const uint8_t *s, size_t n, const size_t *cuts, size_t ncuts)
{
	size_t from = 0;
	for (size_t j = 0; j <= ncuts; j++) {
		size_t to = j < ncuts ? cuts[j] : n;
		t_feed_at(t, s + from, to - from, T0 + MS(j + 1));
		from = to;
	}
	http1_parser_eof(t->p, T0 + MS(ncuts + 2));
}

/*
 * got must equal want event by event.  at[i] is the stream offset of the
 * byte whose piece gives event i its time (a head's first byte, a
 * message's last byte), or SIZE_MAX where the time is not checked.
 */
static void compare_runs(const struct t *want, const struct t *got, const size_t *at,
			 const size_t *cuts, size_t ncuts, const char *what)
{
	cr_assert_eq(got->rc.nev, want->rc.nev, "%s: %zu events%s, one piece gave %zu%s", what,
		     got->rc.nev, dump(got), want->rc.nev, dump(want));
	for (size_t i = 0; i < want->rc.nev; i++) {
		const struct ev *a = &want->rc.ev[i], *b = &got->rc.ev[i];
		cr_assert(ev_same(a, b), "%s: event %zu differs: got%s; one piece gave%s", what, i,
			  dump(got), dump(want));
		if (at && at[i] != SIZE_MAX) {
			kl_time ts = ts_of_offset(cuts, ncuts, at[i]);
			cr_assert_eq(b->ts, ts, "%s: event %zu (%c) has time +%" PRId64 " ms, expected +%"
				     PRId64 " ms (the piece of byte %zu)", what, i, KIND_CH[b->kind],
				     (b->ts - T0) / MS(1), (ts - T0) / MS(1), at[i]);
		}
	}
}

struct prng {
	uint64_t s;
};

static uint64_t prng_next(struct prng *g)
{
	/* splitmix64 */
	uint64_t z = (g->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Feeds s whole, split in two at every offset, one byte at a time and in
 * random pieces, and requires the same events each time, timed by `at`
 * (NULL: times unchecked).  `want` receives the one-piece run (caller
 * closes it).
 */
static void every_split(bool requests, size_t limit, const enum http1_body_hint *hints,
			size_t nhints, const uint8_t *s, size_t n, const size_t *at, struct t *want)
{
	t_open_hints(want, requests, limit, hints, nhints);
	run_cuts(want, s, n, NULL, 0);
	if (at)
		for (size_t i = 0; i < want->rc.nev; i++)
			if (at[i] != SIZE_MAX)
				cr_assert_eq(want->rc.ev[i].ts, T0 + MS(1), "one piece: event %zu's time",
					     i);

	char what[96];
	for (size_t k = 1; k < n; k++) {
		struct t t;
		t_open_hints(&t, requests, limit, hints, nhints);
		run_cuts(&t, s, n, &k, 1);
		snprintf(what, sizeof what, "split at %zu of %zu", k, n);
		compare_runs(want, &t, at, &k, 1, what);
		t_close(&t);
	}

	size_t *cuts = malloc(n * sizeof *cuts);
	cr_assert_not_null(cuts);
	for (size_t k = 1; k < n; k++)
		cuts[k - 1] = k;
	struct t t;
	t_open_hints(&t, requests, limit, hints, nhints);
	run_cuts(&t, s, n, cuts, n - 1);
	compare_runs(want, &t, at, cuts, n - 1, "one byte at a time");
	t_close(&t);

	struct prng g = { n };
	for (int round = 0; round < 100; round++) {
		size_t nc = 0;
		for (size_t k = 1; k < n; k++)
			if (prng_next(&g) % 16 == 0)
				cuts[nc++] = k;
		t_open_hints(&t, requests, limit, hints, nhints);
		run_cuts(&t, s, n, cuts, nc);
		snprintf(what, sizeof what, "random pieces, round %d (%zu cuts)", round, nc);
		compare_runs(want, &t, at, cuts, nc, what);
		t_close(&t);
	}
	free(cuts);
}

/* One message of a fixed stream: what its HEAD and DONE must say. */
struct xmsg {
	const char *wire;
	const char *method;           /* requests */
	const char *target;
	int status;                   /* responses */
	int64_t body;                 /* body_bytes; -1: checked elsewhere */
};

/* Builds the stream, checks the one-piece run against the messages (each
 * a HEAD then a DONE), then every split against the one-piece run. */
static void check_fixed_stream(bool requests, const struct xmsg *m, size_t nm,
			       const enum http1_body_hint *hints, size_t nhints)
{
	size_t n = 0;
	for (size_t i = 0; i < nm; i++)
		n += strlen(m[i].wire);
	uint8_t *s = malloc(n);
	size_t *at = malloc(2 * nm * sizeof *at);
	cr_assert(s && at);
	size_t off = 0;
	for (size_t i = 0; i < nm; i++) {
		size_t len = strlen(m[i].wire);
		memcpy(s + off, m[i].wire, len);
		at[2 * i] = off;                /* HEAD: the message's first byte */
		at[2 * i + 1] = off + len - 1;  /* DONE: its last byte */
		off += len;
	}

	struct t want;
	every_split(requests, HTTP1_HEAD_LIMIT_DEFAULT, hints, nhints, s, n, at, &want);
	cr_assert_eq(want.rc.nev, 2 * nm, "one piece: events%s", dump(&want));
	for (size_t i = 0; i < nm; i++) {
		const struct ev *h = ev_get(&want, 2 * i, EV_HEAD);
		if (requests) {
			EXPECT_STR(h->method, m[i].method, "method");
			EXPECT_STR(h->target, m[i].target, "target");
		} else {
			cr_assert_eq(h->status, m[i].status, "message %zu: status %d, expected %d", i,
				     h->status, m[i].status);
		}
		ev_get(&want, 2 * i + 1, EV_DONE);
		if (m[i].body >= 0)
			expect_done(&want, 2 * i + 1, (uint64_t)m[i].body);
	}
	t_close(&want);
	free(at);
	free(s);
}

/* ======================================================================= */
/* Requests and responses, whole                                           */
/* ======================================================================= */

Test(http1, simple_get_request)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	cr_assert(http1_parser_active(t.p));
	static const char head[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
	t_feed(&t, head);
	EXPECT_KINDS(&t, "HD");
	const struct ev *e = expect_req(&t, 0, "GET", "/index.html", 1, 1);
	EXPECT_STR(e->version, "HTTP/1.1", "version");
	cr_assert(!e->version_malformed);
	cr_assert_eq(e->head_bytes, sizeof head - 1, "head_bytes %" PRIu64, e->head_bytes);
	cr_assert_eq(e->cl, -1, "no Content-Length: -1");
	cr_assert(!e->chunked && !e->te);
	cr_assert_eq(e->conn, 0u);
	cr_assert_eq(e->pconn, 0u);
	cr_assert(!e->has_conn && !e->has_ka && !e->has_pconn);
	cr_assert_eq(e->conn_raw.n, 0u);
	cr_assert_eq(e->ka_raw.n, 0u);
	cr_assert_eq(e->pconn_raw.n, 0u);
	EXPECT_STR(e->host, "example.com", "host");
	cr_assert_eq(e->upgrade.n, 0u);
	cr_assert_eq(e->ka_timeout, -1);
	cr_assert_eq(e->ka_max, -1);
	expect_done(&t, 1, 0);
	cr_assert(http1_parser_active(t.p));
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");     /* eof between messages is no error */
	t_close(&t);
}

Test(http1, http_1_0_request_and_other_targets)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET / HTTP/1.0\r\n\r\n"
		   "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
		   "GET http://example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
		   "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
		   "DELETE /r/1 HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHDHDHD");
	EXPECT_STR(expect_req(&t, 0, "GET", "/", 1, 0)->version, "HTTP/1.0", "version");
	cr_assert_eq(t.rc.ev[0].head_bytes, strlen("GET / HTTP/1.0\r\n\r\n"));
	expect_req(&t, 2, "OPTIONS", "*", 1, 1);
	expect_req(&t, 4, "GET", "http://example.com/x?y=1", 1, 1);
	const struct ev *e = expect_req(&t, 6, "CONNECT", "example.com:443", 1, 1);
	EXPECT_STR(e->host, "example.com:443", "host");
	expect_req(&t, 8, "DELETE", "/r/1", 1, 1);
	for (size_t i = 1; i < 10; i += 2)
		expect_done(&t, i, 0);
	t_close(&t);
}

Test(http1, response_200_with_content_length_body)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
		   "Hello, world!");
	EXPECT_KINDS(&t, "HD");
	const struct ev *e = expect_resp(&t, 0, 200, "OK", 1, 1);
	EXPECT_STR(e->version, "HTTP/1.1", "version");
	cr_assert_eq(e->head_bytes,
		     strlen("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"));
	cr_assert_eq(e->cl, 13);
	cr_assert(!e->chunked && !e->te);
	expect_done(&t, 1, 13);
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	t_close(&t);
}

Test(http1, response_1_0_reasons_and_statuses)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.0 404 Not Found Here\r\nContent-Length: 3\r\n\r\nno!"
		   "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"       /* empty reason */
		   "HTTP/1.1 599 Custom\r\nContent-Length: 1\r\n\r\nx"
		   "HTTP/1.1 999 Max\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHDHD");
	expect_resp(&t, 0, 404, "Not Found Here", 1, 0);
	expect_done(&t, 1, 3);
	expect_resp(&t, 2, 200, "", 1, 1);
	expect_done(&t, 3, 0);
	expect_resp(&t, 4, 599, "Custom", 1, 1);
	expect_done(&t, 5, 1);
	expect_resp(&t, 6, 999, "Max", 1, 1);
	expect_done(&t, 7, 0);
	t_close(&t);
}

Test(http1, content_length_zero_and_large_body_in_pieces)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		   "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
	EXPECT_KINDS(&t, "HDH");
	expect_done(&t, 1, 0);
	char *body = malloc(1000000);
	cr_assert_not_null(body);
	memset(body, 'b', 1000000);
	t_feedn(&t, body, 999999);
	EXPECT_KINDS(&t, "HDH");
	t_feedn(&t, body, 1);
	EXPECT_KINDS(&t, "HDHD");
	expect_done(&t, 3, 1000000);
	free(body);
	t_close(&t);
}

/* ======================================================================= */
/* Pipelining                                                              */
/* ======================================================================= */

Test(http1, three_pipelined_gets_in_one_piece)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /1 HTTP/1.1\r\nHost: h1\r\n\r\n"
		   "GET /2 HTTP/1.1\r\nHost: h2\r\n\r\n"
		   "GET /3 HTTP/1.1\r\nHost: h3\r\nConnection: close\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHD");
	EXPECT_STR(expect_req(&t, 0, "GET", "/1", 1, 1)->host, "h1", "host");
	EXPECT_STR(expect_req(&t, 2, "GET", "/2", 1, 1)->host, "h2", "host");
	const struct ev *e = expect_req(&t, 4, "GET", "/3", 1, 1);
	EXPECT_STR(e->host, "h3", "host");
	cr_assert_eq(e->conn, HTTP1_CONN_CLOSE);
	for (size_t i = 1; i < 6; i += 2)
		expect_done(&t, i, 0);
	t_close(&t);
}

Test(http1, three_responses_in_one_piece)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"
		   "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
		   "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHD");
	expect_resp(&t, 0, 200, "OK", 1, 1);
	expect_done(&t, 1, 5);
	expect_resp(&t, 2, 404, "Not Found", 1, 1);
	expect_done(&t, 3, 9);
	expect_resp(&t, 4, 301, "Moved Permanently", 1, 1);
	expect_done(&t, 5, 0);
	t_close(&t);
}

/* ======================================================================= */
/* Every byte split                                                        */
/* ======================================================================= */

Test(http1, request_stream_split_at_every_offset)
{
	static const struct xmsg m[] = {
		{ "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n"
		  "Connection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n\r\n",
		  "GET", "/index.html", 0, 0 },
		{ "POST /submit HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\n"
		  "hello=world", "POST", "/submit", 0, 11 },
		{ "PUT /up HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
		  "PUT", "/up", 0, -1 },
		{ "GET /last HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		  "GET", "/last", 0, 0 },
	};
	check_fixed_stream(true, m, KL_ARRAY_LEN(m), NULL, 0);
}

Test(http1, response_stream_split_at_every_offset)
{
	static const struct xmsg m[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n"
		  "hello world\n", NULL, NULL, 200, 12 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "5;name=value\r\nhello\r\nA\r\n0123456789\r\n1a;x=\"q\"\r\n"
		  "abcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n",
		  NULL, NULL, 200, -1 },
		{ "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n\r\n",
		  NULL, NULL, 304, 0 },
		{ "HTTP/1.1 100 Continue\r\n\r\n", NULL, NULL, 100, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL, NULL, 200, 2 },
		{ "HTTP/1.1 204 No Content\r\n\r\n", NULL, NULL, 204, 0 },
	};
	check_fixed_stream(false, m, KL_ARRAY_LEN(m), NULL, 0);
}

Test(http1, head_responses_split_at_every_offset)
{
	/* A response to HEAD (the owner answers NONE) has no body whatever
	 * its Content-Length or Transfer-Encoding say (RFC 9112 §6.3 item 1). */
	static const struct xmsg m[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", NULL, NULL, 200, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", NULL, NULL, 200, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", NULL, NULL, 200, 3 },
	};
	static const enum http1_body_hint hints[] = { HTTP1_BODY_NONE, HTTP1_BODY_NONE,
						      HTTP1_BODY_AS_FRAMED };
	check_fixed_stream(false, m, KL_ARRAY_LEN(m), hints, KL_ARRAY_LEN(hints));
}

Test(http1, long_head_split_at_every_offset_is_copied_whole)
{
	/* A 3000-byte target under a 4096-byte limit: wherever the head is
	 * cut, the span must hold every byte of it. */
	char *wire = malloc(4000);
	cr_assert_not_null(wire);
	char *target = malloc(3001);
	cr_assert_not_null(target);
	target[0] = '/';
	for (size_t i = 1; i < 3000; i++)
		target[i] = (char)('a' + i % 26);
	target[3000] = '\0';
	int n = snprintf(wire, 4000, "GET %s HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
			 target);
	cr_assert(n > 0 && n < 4000);
	size_t first = strlen(target) + strlen("GET  HTTP/1.1\r\nHost: x\r\n\r\n");
	size_t at[] = { 0, first - 1, first, (size_t)n - 1 };
	struct t want;
	every_split(true, 4096, NULL, 0, (const uint8_t *)wire, (size_t)n, at, &want);
	EXPECT_KINDS(&want, "HDHD");
	expect_req(&want, 0, "GET", target, 1, 1);
	expect_req(&want, 2, "GET", "/2", 1, 1);
	t_close(&want);
	free(target);
	free(wire);
}

Test(http1, streams_with_errors_split_at_every_offset)
{
	/* Errors and resynchronisation do not depend on where pieces end
	 * (times of errors and resyncs are not checked). */
	static const char req[] =
		"GET /a HTTP/1.1\r\n\r\n"
		"<<garbage>>\r\n"
		"POST /b HTTP/1.1\r\nContent-Length: x\r\n\r\n"
		"GET /c HTTP/1.1\r\n\r\n";
	struct t want;
	every_split(true, HTTP1_HEAD_LIMIT_DEFAULT, NULL, 0, (const uint8_t *)req,
		    sizeof req - 1, NULL, &want);
	/* the POST's head may be shown before its BAD_LENGTH (see
	 * expect_bad_request) */
	size_t e = 4;
	if (!strcmp(kinds(&want), "HDERHERHD"))
		e = 5;
	else
		EXPECT_KINDS(&want, "HDERERHD");
	expect_req(&want, 0, "GET", "/a", 1, 1);
	expect_error(&want, 2, HTTP1_ERR_SYNTAX);
	expect_resync(&want, 3, 13, 13);
	expect_error(&want, e, HTTP1_ERR_BAD_LENGTH);
	expect_req(&want, e + 2, "GET", "/c", 1, 1);
	t_close(&want);

	static const char resp[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"
		"HTTP/1.1 204 No Content\r\n\r\n";
	every_split(false, HTTP1_HEAD_LIMIT_DEFAULT, NULL, 0, (const uint8_t *)resp,
		    sizeof resp - 1, NULL, &want);
	EXPECT_KINDS(&want, "HERHD");
	expect_error(&want, 1, HTTP1_ERR_BAD_LENGTH);
	expect_resp(&want, 3, 204, "No Content", 1, 1);
	t_close(&want);
}

/* GET /a with a 1500-byte X-Big field (`fmt` puts it and what follows),
 * 1024-byte limit: too large however it is cut, then GET /b. */
static void expect_oversized_then_b(const char *fmt)
{
	char *wire = malloc(2000);
	cr_assert_not_null(wire);
	char *val = malloc(1501);
	cr_assert_not_null(val);
	memset(val, 'v', 1500);
	val[1500] = '\0';
	int n = snprintf(wire, 2000, fmt, val);
	cr_assert(n > 0 && n < 2000);
	struct t want;
	every_split(true, HTTP1_HEAD_LIMIT_MIN, NULL, 0, (const uint8_t *)wire, (size_t)n, NULL,
		    &want);
	EXPECT_KINDS(&want, "ERHD");
	expect_error(&want, 0, HTTP1_ERR_HEAD_TOO_LARGE);
	expect_req(&want, 2, "GET", "/b", 1, 1);
	t_close(&want);
	free(val);
	free(wire);
}

Test(http1, oversized_head_split_at_every_offset)
{
	expect_oversized_then_b("GET /a HTTP/1.1\r\nX-Big: %s\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
}

Test(http1, oversized_head_abandoned_at_the_crossing_line_however_cut)
{
	/* The head goes over the limit in the X-Big line; it is abandoned at
	 * that line's end, so the request line right after it is found, in
	 * one piece or cut anywhere (a gathered head used to be checked only
	 * at the end of each piece, skipping the lines between; found by
	 * fuzz_http1's one-piece comparison). */
	expect_oversized_then_b("GET /a HTTP/1.1\r\nX-Big: %s\r\nGET /b HTTP/1.1\r\n\r\n");
}

Test(http1, start_line_ruled_out_early_however_cut)
{
	/* 30 upper-case letters cannot begin a request line (a method is at
	 * most 24): the error comes at once, not when the line or the stream
	 * ends, in one piece or cut anywhere. */
	static const char req[] = "GET /a HTTP/1.1\r\n\r\n"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD";
	struct t want;
	every_split(true, HTTP1_HEAD_LIMIT_DEFAULT, NULL, 0, (const uint8_t *)req,
		    sizeof req - 1, NULL, &want);
	EXPECT_KINDS(&want, "HDE");
	expect_error(&want, 2, HTTP1_ERR_SYNTAX);
	t_close(&want);
}

/* ======================================================================= */
/* Chunked                                                                 */
/* ======================================================================= */

Test(http1, chunked_extensions_uppercase_hex_trailers)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "5;name=value\r\nhello\r\n"
		   "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		   "a ; x = \"y z\" ;flag\r\n0123456789\r\n"   /* BWS in extensions (RFC 9112 §7.1.1) */
		   "0;last=1\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n"
		   "HTTP/1.1 204 No Content\r\n\r\n");
	EXPECT_KINDS(&t, "HDHD");
	const struct ev *e = expect_resp(&t, 0, 200, "OK", 1, 1);
	cr_assert(e->chunked && e->te);
	cr_assert_eq(e->cl, -1);
	expect_resp(&t, 2, 204, "No Content", 1, 1);
	t_close(&t);
}

Test(http1, chunked_body_bytes_count_the_encoding_on_the_wire)
{
	/*
	 * done() says "body_bytes bytes of body were skipped (on the wire,
	 * gaps included)".  A chunked message body (RFC 9112 §7.1,
	 * chunked-body = *chunk last-chunk trailer-section CRLF) is every byte
	 * after the head up to the end of the message: size lines, data,
	 * CRLFs, trailers, not just the chunk data.
	 */
	static const char body[] = "5;name=value\r\nhello\r\nA\r\n0123456789\r\n"
				   "0\r\nX-Trailer: yes\r\n\r\n";
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	t_feed(&t, body);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, sizeof body - 1);
	t_close(&t);

	static const char body2[] = "0\r\n\r\n";    /* empty chunked body */
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	t_feed(&t, body2);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, sizeof body2 - 1);
	t_close(&t);
}

Test(http1, chunked_done_comes_at_the_last_crlf)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n");
	EXPECT_KINDS(&t, "H");
	t_feed(&t, "Trailer-A: 1\r\n");
	EXPECT_KINDS(&t, "H");
	t_feed(&t, "\r");
	EXPECT_KINDS(&t, "H");
	t_feed(&t, "\n");
	EXPECT_KINDS(&t, "HD");
	t_feed(&t, "GET /next HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDHD");
	expect_req(&t, 2, "GET", "/next", 1, 1);
	t_close(&t);
}

Test(http1, transfer_encoding_chunked_wins_over_content_length)
{
	/* RFC 9112 §6.3 item 3 and the contract: chunked framing even with
	 * Content-Length.  Were Content-Length used, the 5 bytes "3\r\nab"
	 * would be the body and the next message would not parse. */
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "3\r\nabc\r\n0\r\n\r\n"
		   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ");
	EXPECT_KINDS(&t, "HDHD");
	cr_assert(ev_get(&t, 0, EV_HEAD)->chunked);
	expect_done(&t, 3, 1);
	t_close(&t);

	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
		   "3\r\nabc\r\n0\r\n\r\n"
		   "GET /b HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDHD");
	cr_assert(ev_get(&t, 0, EV_HEAD)->chunked);
	expect_req(&t, 2, "GET", "/b", 1, 1);
	t_close(&t);
}

Test(http1, transfer_coding_lists_and_case)
{
	/* The final coding decides (RFC 9112 §6.3 items 3-4); coding names are
	 * case-insensitive (§7); several fields form one list (RFC 9110 §5.3). */
	struct t t;
	one_head(&t, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	cr_assert(t.rc.ev[0].chunked && t.rc.ev[0].te);
	t_close(&t);
	one_head(&t, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
	cr_assert(t.rc.ev[0].chunked);
	t_close(&t);
	one_head(&t, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n");
	cr_assert(t.rc.ev[0].chunked);
	t_close(&t);

	/* Not ending in chunked, in a response: body until close. */
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
		   "0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
	EXPECT_KINDS(&t, "H");
	const struct ev *e = ev_get(&t, 0, EV_HEAD);
	cr_assert(!e->chunked && e->te);
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, strlen("0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"));
	t_close(&t);
}

Test(http1, request_with_transfer_encoding_not_chunked_is_an_error)
{
	/* RFC 9112 §6.3 item 4: the server MUST respond 400 and close. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
		   "GET /b HTTP/1.1\r\n\r\n");
	cr_assert_geq(t.rc.nev, 1, "events%s", dump(&t));
	cr_assert(t.rc.ev[0].kind == EV_ERROR ||
		  (t.rc.ev[0].kind == EV_HEAD && t.rc.nev > 1 && t.rc.ev[1].kind == EV_ERROR),
		  "an error for the message; events%s", dump(&t));
	cr_assert_eq(count_kind(&t, EV_DONE), 1, "only /b is done; events%s", dump(&t));
	EXPECT_STR(last_head(&t)->target, "/b", "last target");
	t_close(&t);
}

Test(http1, bad_chunk_sizes)
{
	static const char *const bad[] = {
		"zz\r\nabc\r\n0\r\n\r\n",
		"11111111111111111\r\n",          /* 17 hex digits: over 64 bits */
		"-5\r\nhello\r\n0\r\n\r\n",
		"\r\nhello\r\n0\r\n\r\n",            /* empty size */
		"0x5\r\nhello\r\n0\r\n\r\n",
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(bad); i++) {
		struct t t;
		t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
		t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		t_feed(&t, bad[i]);
		t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
		cr_assert_str_eq(kinds(&t), "HERHD", "chunk size line %zu: events%s", i, dump(&t));
		expect_error(&t, 1, HTTP1_ERR_BAD_LENGTH);
		expect_resp(&t, 3, 204, "No Content", 1, 1);
		t_close(&t);
	}
}

Test(http1, chunk_data_not_followed_by_crlf_is_an_error)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "5\r\nhelloXX\r\n0\r\n\r\n"
		   "HTTP/1.1 204 No Content\r\n\r\n");
	cr_assert_eq(count_kind(&t, EV_DONE), 1, "events%s", dump(&t));
	ev_get(&t, 1, EV_ERROR);
	expect_resp(&t, t.rc.nev - 2, 204, "No Content", 1, 1);
	t_close(&t);
}

/* ======================================================================= */
/* Responses without a body, tunnels                                       */
/* ======================================================================= */

Test(http1, no_body_for_204_304_and_1xx)
{
	/* RFC 9112 §6.3 item 1: whatever the header says. */
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 100 Continue\r\n\r\n"
		   "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
		   "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
		   "HTTP/1.1 204 No Content\r\nContent-Length: 1234\r\n\r\n"
		   "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"
		   "HTTP/1.1 204 No Content\r\n\r\n"
		   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	EXPECT_KINDS(&t, "HDHDHDHDHDHDHD");
	expect_resp(&t, 0, 100, "Continue", 1, 1);
	expect_done(&t, 1, 0);
	expect_resp(&t, 2, 103, "Early Hints", 1, 1);
	expect_done(&t, 3, 0);
	expect_resp(&t, 4, 200, "OK", 1, 1);
	expect_done(&t, 5, 4);
	expect_resp(&t, 6, 204, "No Content", 1, 1);
	expect_done(&t, 7, 0);
	expect_resp(&t, 8, 304, "Not Modified", 1, 1);
	expect_done(&t, 9, 0);
	expect_resp(&t, 10, 204, "No Content", 1, 1);
	expect_done(&t, 11, 0);
	expect_done(&t, 13, 2);
	t_close(&t);
}

Test(http1, response_to_head_does_not_wait_for_its_content_length)
{
	static const enum http1_body_hint hints[] = { HTTP1_BODY_NONE };
	struct t t;
	t_open_hints(&t, false, HTTP1_HEAD_LIMIT_DEFAULT, hints, 1);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
	EXPECT_KINDS(&t, "HD");
	cr_assert_eq(ev_get(&t, 0, EV_HEAD)->cl, 1234);
	expect_done(&t, 1, 0);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	EXPECT_KINDS(&t, "HDHD");
	expect_done(&t, 3, 2);
	t_close(&t);
}

/* 101 / CONNECT: from event `first`, HEAD, then (a DONE with no body
 * allowed) TUNNEL, then nothing at all; the parser is no longer active. */
static void expect_tunnel_after_head(struct t *t, size_t first)
{
	const char *k = kinds(t) + first;
	cr_assert(!strcmp(k, "HT") || !strcmp(k, "HDT"),
		  "events%s, expected HEAD [DONE(0)] TUNNEL from event %zu", dump(t), first);
	if (t->rc.nev == first + 3)
		expect_done(t, first + 1, 0);
	cr_assert(!http1_parser_active(t->p), "a tunnel ends HTTP/1 on this direction");
	size_t nev = t->rc.nev;
	t_feed(t, "\x81\x05hello\x82\x7e\x01\x05");    /* websocket frames */
	t_feed(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
	t_gap(t, 100);
	t_feed(t, "HTTP/1.1 200 OK\r\n\r\n");
	t_eof(t);
	cr_assert_eq(t->rc.nev, nev, "nothing after the tunnel; events%s", dump(t));
	cr_assert(!http1_parser_active(t->p));
}

Test(http1, switching_protocols_is_a_tunnel)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		   "Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
	const struct ev *e = expect_resp(&t, 0, 101, "Switching Protocols", 1, 1);
	cr_assert_eq(e->conn, HTTP1_CONN_UPGRADE);
	EXPECT_STR(e->upgrade, "websocket", "upgrade");
	expect_tunnel_after_head(&t, 0);
	t_close(&t);

	/* Frames in the same piece as the head are tunnel bytes too. */
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
		   "HTTP/1.1 200 OK\r\n\r\n");
	expect_resp(&t, 0, 101, NULL, 1, 1);
	expect_tunnel_after_head(&t, 0);
	t_close(&t);
}

Test(http1, connect_2xx_with_tunnel_hint_is_a_tunnel)
{
	static const enum http1_body_hint hints[] = { HTTP1_BODY_AS_FRAMED, HTTP1_BODY_TUNNEL };
	struct t t;
	t_open_hints(&t, false, HTTP1_HEAD_LIMIT_DEFAULT, hints, 2);
	/* A refused CONNECT first (407, framed as usual), then the tunnel. */
	t_feed(&t, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!");
	EXPECT_KINDS(&t, "HD");
	t_feed(&t, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x05\x31\x02");
	expect_resp(&t, 2, 200, "Connection established", 1, 1);
	expect_tunnel_after_head(&t, 2);
	t_close(&t);
}

/* ======================================================================= */
/* Close-delimited bodies, bodiless requests                                */
/* ======================================================================= */

Test(http1, close_delimited_response_ends_at_eof)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	EXPECT_KINDS(&t, "H");
	const struct ev *e = ev_get(&t, 0, EV_HEAD);
	cr_assert_eq(e->cl, -1);
	cr_assert_eq(e->conn, HTTP1_CONN_CLOSE);
	t_feed(&t, "first part, ");
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");  /* just body bytes */
	t_feed(&t, "last part");
	kl_time last_piece = t.ts - MS(1);
	EXPECT_KINDS(&t, "H");
	kl_time eof_ts = t.ts;
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, strlen("first part, ") + strlen("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") +
		    strlen("last part"));
	/* "the time of its last byte": the last piece; the eof time is
	 * accepted too (the end of a close-delimited body is the close). */
	kl_time ts = t.rc.ev[1].ts;
	cr_assert(ts == last_piece || ts == eof_ts, "done time +%" PRId64 " ms", (ts - T0) / MS(1));
	t_close(&t);

	/* HTTP/1.0 without Content-Length, empty body. */
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n");
	EXPECT_KINDS(&t, "H");
	expect_resp(&t, 0, 200, "OK", 1, 0);
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, 0);
	t_close(&t);
}

Test(http1, request_without_length_has_no_body)
{
	/* RFC 9112 §6.3 item 7. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /form HTTP/1.1\r\nHost: a\r\n\r\n");
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, 0);
	t_feed(&t, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
	EXPECT_KINDS(&t, "HDHD");
	expect_req(&t, 2, "GET", "/next", 1, 1);
	t_close(&t);
}

/* ======================================================================= */
/* Connection, Proxy-Connection, Keep-Alive, Host, Upgrade                  */
/* ======================================================================= */

static void expect_conn(const char *value, unsigned flags)
{
	char wire[512];
	snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\nConnection: %s\r\n\r\n", value);
	struct t t;
	one_head(&t, true, wire);
	const struct ev *e = &t.rc.ev[0];
	cr_assert_eq(e->conn, flags, "Connection: %s -> flags 0x%x, expected 0x%x", value, e->conn,
		     flags);
	cr_assert(e->has_conn);
	cr_assert(!e->has_pconn);
	cr_assert_eq(e->pconn, 0u);
	t_close(&t);
}

Test(http1, connection_tokens)
{
	expect_conn("keep-alive", HTTP1_CONN_KEEP_ALIVE);
	expect_conn("Keep-Alive", HTTP1_CONN_KEEP_ALIVE);
	expect_conn("Close", HTTP1_CONN_CLOSE);
	expect_conn("close", HTTP1_CONN_CLOSE);
	expect_conn("Upgrade", HTTP1_CONN_UPGRADE);
	expect_conn("keep-alive, Upgrade", HTTP1_CONN_KEEP_ALIVE | HTTP1_CONN_UPGRADE);
	expect_conn("keep-alive ,  Upgrade", HTTP1_CONN_KEEP_ALIVE | HTTP1_CONN_UPGRADE);
	expect_conn("foo", HTTP1_CONN_OTHER);
	expect_conn("TE, close", HTTP1_CONN_OTHER | HTTP1_CONN_CLOSE);
	expect_conn("closed", HTTP1_CONN_OTHER);           /* a token, not a prefix */
	expect_conn("keep-alives", HTTP1_CONN_OTHER);
	/* RFC 9110 §5.6.1: empty list elements do not count. */
	expect_conn(",close,", HTTP1_CONN_CLOSE);
	expect_conn("close, , keep-alive", HTTP1_CONN_CLOSE | HTTP1_CONN_KEEP_ALIVE);
}

Test(http1, connection_raw_values_and_several_fields)
{
	struct t t;
	one_head(&t, true, "GET / HTTP/1.1\r\nConnection:   keep-alive  \r\nHost: a\r\n"
				    "connection: Upgrade\r\n\r\n");
	const struct ev *e = &t.rc.ev[0];
	cr_assert_eq(e->conn, HTTP1_CONN_KEEP_ALIVE | HTTP1_CONN_UPGRADE);
	/* Field values exclude OWS (RFC 9112 §5); fields joined with ", ". */
	EXPECT_STR(e->conn_raw, "keep-alive, Upgrade", "connection_raw");
	t_close(&t);

	one_head(&t, true, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	EXPECT_STR(t.rc.ev[0].conn_raw, "close", "connection_raw");
	t_close(&t);
}

Test(http1, proxy_connection)
{
	struct t t;
	one_head(&t, true, "GET http://a/ HTTP/1.1\r\nProxy-Connection: Keep-Alive\r\n\r\n");
	const struct ev *e = &t.rc.ev[0];
	cr_assert_eq(e->pconn, HTTP1_CONN_KEEP_ALIVE);
	cr_assert(e->has_pconn);
	EXPECT_STR(e->pconn_raw, "Keep-Alive", "proxy_connection_raw");
	cr_assert(!e->has_conn);
	cr_assert_eq(e->conn, 0u);
	t_close(&t);

	one_head(&t, true, "GET http://a/ HTTP/1.1\r\nproxy-connection: close\r\n"
			   "Connection: keep-alive\r\nPROXY-CONNECTION: x-y\r\n\r\n");
	e = &t.rc.ev[0];
	cr_assert_eq(e->pconn, HTTP1_CONN_CLOSE | HTTP1_CONN_OTHER);
	EXPECT_STR(e->pconn_raw, "close, x-y", "proxy_connection_raw");
	cr_assert_eq(e->conn, HTTP1_CONN_KEEP_ALIVE);
	EXPECT_STR(e->conn_raw, "keep-alive", "connection_raw");
	t_close(&t);
}

Test(http1, raw_values_are_cut_but_flags_see_the_whole_value)
{
	/* 60 x "x-token, " (540 bytes) then "close": the raw copy keeps
	 * HTTP1_VALUE_KEEP - 1 bytes, the flags come from the whole value. */
	char val[1024] = "";
	for (int i = 0; i < 60; i++)
		strcat(val, "x-token, ");
	strcat(val, "close");
	char wire[1200];
	snprintf(wire, sizeof wire, "HTTP/1.1 200 OK\r\nConnection: %s\r\nContent-Length: 0\r\n\r\n",
		 val);
	struct t t;
	one_head(&t, false, wire);
	const struct ev *e = &t.rc.ev[0];
	cr_assert_eq(e->conn, HTTP1_CONN_OTHER | HTTP1_CONN_CLOSE);
	cr_assert_eq(e->conn_raw.n, (size_t)HTTP1_VALUE_KEEP - 1);
	cr_assert(memcmp(e->conn_raw.p, val, HTTP1_VALUE_KEEP - 1) == 0);
	t_close(&t);
}

static void expect_ka(const char *value, int64_t timeout, int64_t max)
{
	char wire[512];
	snprintf(wire, sizeof wire, "HTTP/1.1 200 OK\r\nKeep-Alive: %s\r\nContent-Length: 0\r\n\r\n",
		 value);
	struct t t;
	one_head(&t, false, wire);
	const struct ev *e = &t.rc.ev[0];
	cr_assert(e->has_ka);
	cr_assert_eq(e->ka_timeout, timeout, "Keep-Alive: %s -> timeout %" PRId64 ", expected %"
		     PRId64, value, e->ka_timeout, timeout);
	cr_assert_eq(e->ka_max, max, "Keep-Alive: %s -> max %" PRId64 ", expected %" PRId64, value,
		     e->ka_max, max);
	EXPECT_STR(e->ka_raw, value, "keep_alive_raw");
	t_close(&t);
}

Test(http1, keep_alive_parameters)
{
	expect_ka("timeout=5, max=100", 5, 100);
	/* Keep-Alive comes from RFC 2068 §19.7.1.1, whose grammar had implied
	 * LWS between tokens. */
	expect_ka("timeout = 5 ,max=100", 5, 100);
	expect_ka("Timeout=\"5\"", 5, -1);
	expect_ka("max=100, timeout=5, foo=bar", 5, 100);
	expect_ka("timeout=15", 15, -1);
	expect_ka("max=7", -1, 7);
	expect_ka("foo=bar", -1, -1);

	struct t t;
	one_head(&t, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert(!t.rc.ev[0].has_ka);
	cr_assert_eq(t.rc.ev[0].ka_timeout, -1);
	cr_assert_eq(t.rc.ev[0].ka_max, -1);
	cr_assert_eq(t.rc.ev[0].ka_raw.n, 0u);
	t_close(&t);

	/* Hostile numbers do not crash or go negative (checked in rec_head). */
	one_head(&t, false, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=999999999999999999999999999,"
			    " max=-3, timeout=\"\r\nContent-Length: 0\r\n\r\n");
	t_close(&t);

	/* Two fields are joined. */
	one_head(&t, false, "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nKeep-Alive: max=9\r\n"
			    "Content-Length: 0\r\n\r\n");
	EXPECT_STR(t.rc.ev[0].ka_raw, "timeout=5, max=9", "keep_alive_raw");
	cr_assert_eq(t.rc.ev[0].ka_timeout, 5);
	cr_assert_eq(t.rc.ev[0].ka_max, 9);
	t_close(&t);
}

Test(http1, host_and_upgrade_spans)
{
	struct t t;
	one_head(&t, true, "GET /chat HTTP/1.1\r\nHost:  server.example.com:8080 \r\n"
				    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				    "Sec-WebSocket-Version: 13\r\n\r\n");
	const struct ev *e = &t.rc.ev[0];
	EXPECT_STR(e->host, "server.example.com:8080", "host");
	EXPECT_STR(e->upgrade, "websocket", "upgrade");
	cr_assert_eq(e->conn, HTTP1_CONN_UPGRADE);
	t_close(&t);

	one_head(&t, true, "GET / HTTP/1.1\r\nhOST:\ta.b\t\r\nuPgRaDe: h2c\r\n\r\n");
	EXPECT_STR(t.rc.ev[0].host, "a.b", "host");
	EXPECT_STR(t.rc.ev[0].upgrade, "h2c", "upgrade");
	t_close(&t);
}

/* ======================================================================= */
/* Syntax tolerance                                                         */
/* ======================================================================= */

Test(http1, header_names_are_case_insensitive)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\nCONNECTION: CLOSE\r\n\r\nabc"
		   "HTTP/1.1 200 OK\r\ncontent-length:4\r\n\r\nabcd"
		   "HTTP/1.1 200 OK\r\ntransfer-ENCODING: chunked\r\n\r\n0\r\n\r\n"
		   "HTTP/1.1 204 No Content\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHDHD");
	const struct ev *e = ev_get(&t, 0, EV_HEAD);
	cr_assert_eq(e->cl, 3);
	cr_assert_eq(e->conn, HTTP1_CONN_CLOSE);
	expect_done(&t, 1, 3);
	cr_assert_eq(ev_get(&t, 2, EV_HEAD)->cl, 4);
	expect_done(&t, 3, 4);
	cr_assert(ev_get(&t, 4, EV_HEAD)->chunked);
	t_close(&t);
}

Test(http1, optional_whitespace_around_values)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length:   5 \t \r\n\r\nabcde"
		   "HTTP/1.1 200 OK\r\nContent-Length:\t2\r\n\r\nab");
	EXPECT_KINDS(&t, "HDHD");
	cr_assert_eq(ev_get(&t, 0, EV_HEAD)->cl, 5);
	expect_done(&t, 1, 5);
	expect_done(&t, 3, 2);
	t_close(&t);
}

Test(http1, obs_fold_does_not_break_the_stream)
{
	/* RFC 9112 §5.2: obs-fold is rejected or replaced by SP; the contract
	 * is silent, so only: no crash, and the next message parses. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /a HTTP/1.1\r\nX-Folded: one\r\n two\r\n\tthree\r\nHost: a\r\n\r\n"
		   "GET /next HTTP/1.1\r\nHost: b\r\n\r\n");
	EXPECT_STR(last_head(&t)->target, "/next", "last target");
	cr_assert_eq(t.rc.ev[t.rc.nev - 1].kind, EV_DONE, "events%s", dump(&t));
	t_close(&t);
}

Test(http1, bare_lf_line_endings)
{
	/* RFC 9112 §2.2: a recipient MAY recognise a single LF as a line
	 * terminator. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /lf HTTP/1.1\nHost: a\n\nPOST /p HTTP/1.1\nContent-Length: 2\n\nxy"
		   "GET /mixed HTTP/1.1\r\nHost: m\n\r\n");
	EXPECT_KINDS(&t, "HDHDHD");
	EXPECT_STR(expect_req(&t, 0, "GET", "/lf", 1, 1)->host, "a", "host");
	cr_assert_eq(t.rc.ev[0].head_bytes, strlen("GET /lf HTTP/1.1\nHost: a\n\n"));
	expect_req(&t, 2, "POST", "/p", 1, 1);
	expect_done(&t, 3, 2);
	EXPECT_STR(expect_req(&t, 4, "GET", "/mixed", 1, 1)->host, "m", "host");
	t_close(&t);

	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\nContent-Length: 1\n\nz"
		   "HTTP/1.1 204 No Content\n\n");
	EXPECT_KINDS(&t, "HDHD");
	expect_done(&t, 1, 1);
	expect_resp(&t, 2, 204, "No Content", 1, 1);
	t_close(&t);
}

Test(http1, empty_lines_before_a_request_line_are_ignored)
{
	/* RFC 9112 §2.2: a server SHOULD ignore at least one empty line
	 * before the request-line (clients send CRLF after a POST body). */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\nGET /b HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDHD");
	expect_req(&t, 2, "GET", "/b", 1, 1);
	t_close(&t);
}

Test(http1, lenient_request_lines_split_at_every_offset)
{
	/* RFC 9112 §3: a recipient MAY split the request-line on runs of
	 * whitespace (SP, HTAB); §2.2: LF alone may end a line, and empty lines
	 * before a request-line are ignored.  Each head says which it needed,
	 * however the stream is cut; a strict head says none. */
	static const char req[] =
		"GET /strict HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET  /two-sp  HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET\t/tab HTTP/1.0\r\n\r\n"
		"GET /trailing HTTP/1.1 \t\r\n\r\n"
		"\r\n\r\nPOST /after-empty HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy"
		"\r\nGET /lf HTTP/1.1\nHost: b\n\n"
		"OPTIONS\t \t*\t \tHTTP/1.1\n\n";
	struct t want;
	every_split(true, HTTP1_HEAD_LIMIT_DEFAULT, NULL, 0, (const uint8_t *)req, sizeof req - 1,
		    NULL, &want);
	EXPECT_KINDS(&want, "HDHDHDHDHDHDHD");
	static const struct {
		const char *method, *target;
		int vmin;
		unsigned lenient;
	} w[] = {
		{ "GET", "/strict", 1, 0 },
		{ "GET", "/two-sp", 1, HTTP1_LENIENT_WHITESPACE },
		{ "GET", "/tab", 0, HTTP1_LENIENT_WHITESPACE },
		{ "GET", "/trailing", 1, HTTP1_LENIENT_WHITESPACE },
		{ "POST", "/after-empty", 1, HTTP1_LENIENT_EMPTY_LINES },
		{ "GET", "/lf", 1, HTTP1_LENIENT_EMPTY_LINES | HTTP1_LENIENT_BARE_LF },
		{ "OPTIONS", "*", 1, HTTP1_LENIENT_WHITESPACE | HTTP1_LENIENT_BARE_LF },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(w); i++) {
		const struct ev *e = expect_req(&want, 2 * i, w[i].method, w[i].target, 1, w[i].vmin);
		cr_expect_eq(e->lenient, w[i].lenient, "%s: lenient %#x, want %#x", w[i].target,
			     e->lenient, w[i].lenient);
		EXPECT_STR(e->version, w[i].vmin ? "HTTP/1.1" : "HTTP/1.0", "version");
	}
	expect_done(&want, 9, 2);
	t_close(&want);
}

/* ======================================================================= */
/* Malformed and hostile                                                    */
/* ======================================================================= */

/*
 * A bad request head, then "GET /next": ERROR(err), RESYNC, HEAD, DONE.
 * The contract does not say whether a head whose framing is bad (an
 * invalid Content-Length) is shown before its error, so for BAD_LENGTH a
 * HEAD may precede the ERROR.  The resync may skip nothing when the next
 * message follows at once.
 */
static void expect_bad_request(const char *bad, size_t badlen, enum http1_error err)
{
	static const char next[] = "GET /next HTTP/1.1\r\nHost: n\r\n\r\n";
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /first HTTP/1.1\r\n\r\n");
	t_feedn(&t, bad, badlen);
	t_feed(&t, next);
	size_t e = 2;
	if (err == HTTP1_ERR_BAD_LENGTH && !strcmp(kinds(&t), "HDHERHD"))
		e = 3;
	else
		cr_assert_str_eq(kinds(&t), "HDERHD", "%.*s: events%s, expected HDERHD", (int)badlen,
				 bad, dump(&t));
	expect_error(&t, e, err);
	expect_resync(&t, e + 1, 0, badlen);
	expect_req(&t, e + 2, "GET", "/next", 1, 1);
	expect_done(&t, e + 3, 0);
	cr_assert(http1_parser_active(t.p), "a later error does not make the stream non-HTTP");
	t_close(&t);
}

#define BAD_REQ(name, s, err) \
	Test(http1, bad_request_##name) { expect_bad_request((s), sizeof(s) - 1, (err)); }

/* RFC 9110 §8.6, RFC 9112 §6.3 item 5: invalid or conflicting values. */
BAD_REQ(content_length_negative, "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_20_digits,
	"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_int64_max_plus_1,
	"POST /x HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_two_fields_differ,
	"POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_list_differs, "POST /x HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_plus_sign, "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_hex, "POST /x HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_two_numbers, "POST /x HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_exponent, "POST /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)
BAD_REQ(content_length_empty, "POST /x HTTP/1.1\r\nContent-Length: \r\n\r\n",
	HTTP1_ERR_BAD_LENGTH)

/* RFC 9112 §3: request-line = method SP request-target SP HTTP-version. */
BAD_REQ(nul_in_target, "GET /\0x HTTP/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)
BAD_REQ(nul_in_method, "G\0T / HTTP/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)
BAD_REQ(lowercase_http_name, "GET / http/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)  /* §2.3 */
BAD_REQ(http_0_9_line, "GET /\r\n\r\n", HTTP1_ERR_SYNTAX)
/* §3 lets a recipient ignore whitespace before the method and take a bare
 * CR as whitespace; kalens does not (servers reject both: a smuggling
 * pattern), nor a fourth word. */
BAD_REQ(space_before_method, " GET / HTTP/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)
BAD_REQ(bare_cr_between_parts, "GET /\rHTTP/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)
BAD_REQ(word_before_version, "GET / x HTTP/1.1\r\n\r\n", HTTP1_ERR_SYNTAX)
BAD_REQ(whitespace_only_after_target, "GET / \t \r\n\r\n", HTTP1_ERR_SYNTAX)
/*
 * An invalid field line after a valid request line: the contract reports
 * the head (the server answers such a request, with 400) with the fields
 * before the bad line, then ERROR(SYNTAX): HEAD, ERROR, RESYNC, then the
 * next request.  The bad line's own field is not used (no body is read for
 * "Content-Length : 5").
 */
static void expect_bad_field(const char *bad, size_t badlen, const char *target)
{
	static const char next[] = "GET /next HTTP/1.1\r\nHost: n\r\n\r\n";
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /first HTTP/1.1\r\n\r\n");
	t_feedn(&t, bad, badlen);
	t_feed(&t, next);
	cr_assert_str_eq(kinds(&t), "HDHERHD", "%.*s: events%s", (int)badlen, bad, dump(&t));
	const struct ev *h = ev_get(&t, 2, EV_HEAD);
	EXPECT_STR(h->target, target, "target");
	cr_assert_eq(h->cl, -1, "the bad line's Content-Length is not used");
	expect_error(&t, 3, HTTP1_ERR_SYNTAX);
	expect_resync(&t, 4, 0, badlen);
	expect_req(&t, 5, "GET", "/next", 1, 1);
	t_close(&t);
}

#define BAD_FIELD(name, s, target) \
	Test(http1, bad_request_##name) { expect_bad_field((s), sizeof(s) - 1, (target)); }

/* RFC 9112 §5: field-line = field-name ":" OWS field-value OWS.  A line
 * without a colon (e.g. two lines glued by a lost CRLF) is invalid. */
BAD_FIELD(field_line_without_colon, "GET /a HTTP/1.1\r\nHost a\r\n\r\n", "/a")
BAD_FIELD(field_line_without_colon_no_space, "GET /a HTTP/1.1\r\nX-No-Colon\r\n\r\n", "/a")
/* RFC 9112 §5.1: no whitespace between field name and colon; a server
 * MUST reject it (request smuggling: "Content-Length : 5"). */
BAD_FIELD(space_before_colon, "POST /a HTTP/1.1\r\nContent-Length : 5\r\n\r\n", "/a")
/* RFC 9110 §5.1: field-name = token; a space inside is invalid. */
BAD_FIELD(space_in_field_name, "GET /a HTTP/1.1\r\nX Y: z\r\n\r\n", "/a")

/* The contract: "HTTP/" then not d.d is taken as 1.0, flagged. */
static void expect_malformed_version(bool requests, const char *wire, const char *version)
{
	struct t t;
	t_open(&t, requests, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, wire);
	cr_assert_str_eq(kinds(&t), "HD", "%s: events%s", wire, dump(&t));
	const struct ev *e = ev_get(&t, 0, EV_HEAD);
	cr_assert(e->version_malformed, "%s: not flagged", wire);
	cr_assert(e->vmaj == 1 && e->vmin == 0, "%s: taken as %d.%d", wire, e->vmaj, e->vmin);
	EXPECT_STR(e->version, version, "version");
	cr_assert_eq(e->head_bytes, strlen(wire));
	t_close(&t);
}

Test(http1, malformed_version_in_a_request_line_is_taken_as_1_0)
{
	expect_malformed_version(true, "GET / HTTP/1.x\r\n\r\n", "HTTP/1.x");
	expect_malformed_version(true, "GET / HTTP/12.3\r\n\r\n", "HTTP/12.3");
	expect_malformed_version(true, "GET / HTTP/\r\n\r\n", "HTTP/");
}

Test(http1, malformed_version_in_a_status_line_is_an_error)
{
	/* The contract: only requests get the lenient reading (servers answer
	 * them); a status line needs HTTP/d.d (RFC 9112 §4). */
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.x 204 No Content\r\n\r\n");
	EXPECT_KINDS(&t, "E");
	expect_error(&t, 0, HTTP1_ERR_SYNTAX);
	t_close(&t);
}

Test(http1, identical_content_length_list_is_valid)
{
	/* RFC 9110 §8.6 / RFC 9112 §6.3 item 5. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST /x HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello"
		   "POST /y HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
		   "POST /z HTTP/1.1\r\nContent-Length: 007\r\n\r\n1234567"
		   "GET /next HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHDHD");
	cr_assert_eq(ev_get(&t, 0, EV_HEAD)->cl, 5);
	expect_done(&t, 1, 5);
	cr_assert_eq(ev_get(&t, 2, EV_HEAD)->cl, 3);
	expect_done(&t, 3, 3);
	cr_assert_eq(ev_get(&t, 4, EV_HEAD)->cl, 7);
	expect_done(&t, 5, 7);
	expect_req(&t, 6, "GET", "/next", 1, 1);
	t_close(&t);
}

Test(http1, content_length_up_to_int64_max_is_accepted)
{
	/* content_length is an int64_t; 1*DIGIT values that fit are valid
	 * (RFC 9110 §8.6); the contract names no smaller cap. */
	static const char *const ok[] = { "9223372036854775807", "1000000000000000000",
					  "20000000000000000" };
	static const int64_t want[] = { INT64_MAX, INT64_C(1000000000000000000),
					INT64_C(20000000000000000) };
	for (size_t i = 0; i < KL_ARRAY_LEN(ok); i++) {
		char wire[128];
		snprintf(wire, sizeof wire, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nabc", ok[i]);
		struct t t;
		t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
		t_feed(&t, wire);
		cr_assert_str_eq(kinds(&t), "H", "Content-Length: %s -> events%s", ok[i], dump(&t));
		cr_assert_eq(ev_get(&t, 0, EV_HEAD)->cl, want[i]);
		t_eof(&t);
		EXPECT_KINDS(&t, "HE");      /* cut short */
		t_close(&t);
	}
}

/* A bad status line or field after a 204, then a 200. */
static void expect_bad_response(const char *bad)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	t_feed(&t, bad);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_str_eq(kinds(&t), "HDERHD", "%s: events%s", bad, dump(&t));
	expect_error(&t, 2, HTTP1_ERR_SYNTAX);
	expect_resync(&t, 3, 0, strlen(bad));
	expect_resp(&t, 4, 200, "OK", 1, 1);
	t_close(&t);
}

#define BAD_RESP(name, s) \
	Test(http1, bad_response_##name) { expect_bad_response(s); }

/* RFC 9112 §4: status-code = 3DIGIT; the contract: 100..999. */
BAD_RESP(status_not_digits, "HTTP/1.1 2x0 OK\r\n\r\n")
BAD_RESP(status_two_digits, "HTTP/1.1 20 OK\r\n\r\n")
BAD_RESP(status_four_digits, "HTTP/1.1 2000 OK\r\n\r\n")
BAD_RESP(status_below_100, "HTTP/1.1 099 Low\r\n\r\n")

Test(http1, bad_response_field_line_without_colon)
{
	/* As for requests: the head is reported, then the error. */
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	t_feed(&t, "HTTP/1.1 200 OK\r\nBad Field\r\n\r\n");
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HDHERHD");
	expect_error(&t, 3, HTTP1_ERR_SYNTAX);
	t_close(&t);
}

Test(http1, missing_crlf_between_messages)
{
	/* The second request line lands in the first head's field lines. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /a HTTP/1.1\r\nHost: a\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"
		   "GET /c HTTP/1.1\r\n\r\n");
	/* /a is reported (with its Host), then the error for the glued line;
	 * /b is lost inside /a's head; /c parses. */
	const struct ev *h = ev_get(&t, 0, EV_HEAD);
	EXPECT_STR(h->target, "/a", "first target");
	expect_error(&t, 1, HTTP1_ERR_SYNTAX);
	ev_get(&t, 2, EV_RESYNC);
	EXPECT_STR(last_head(&t)->target, "/c", "last target");
	cr_assert_eq(t.rc.ev[t.rc.nev - 1].kind, EV_DONE);
	t_close(&t);
}

Test(http1, garbage_between_requests_then_resync)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /a HTTP/1.1\r\n\r\n");
	t_feed(&t, "<<<>>>\r\n\x01\x02\x03\r\n");    /* 13 bytes, no line like "METHOD SP" */
	t_feed(&t, "GET /b HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HDERHD");
	expect_error(&t, 2, HTTP1_ERR_SYNTAX);
	expect_resync(&t, 3, 13, 13);
	expect_req(&t, 4, "GET", "/b", 1, 1);
	cr_assert(http1_parser_active(t.p));
	t_close(&t);

	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	t_feed(&t, "junk junk\r\nHTTP/2 200\r\n");          /* 23 bytes */
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HDERHD");
	expect_error(&t, 2, HTTP1_ERR_SYNTAX);
	expect_resync(&t, 3, 23, 23);
	cr_assert(http1_parser_active(t.p));
	t_close(&t);
}

/* A 1 MiB field; limit 4096.  Memory stays bounded (checked through ASan's
 * allocator statistics where available). */
static void huge_head(size_t piece)
{
	size_t big = (size_t)1 << 20;
	static const char pre[] = "GET /big HTTP/1.1\r\nX-Big: ";
	static const char post[] = "\r\n\r\nGET /next HTTP/1.1\r\nHost: n\r\n\r\n";
	size_t n = sizeof pre - 1 + big + sizeof post - 1;
	char *s = malloc(n);
	cr_assert_not_null(s);
	memcpy(s, pre, sizeof pre - 1);
	memset(s + sizeof pre - 1, 'A', big);
	memcpy(s + sizeof pre - 1 + big, post, sizeof post - 1);
	size_t headlen = sizeof pre - 1 + big + 4;

#ifdef HAVE_ASAN_STATS
	size_t before = __sanitizer_get_current_allocated_bytes();
#endif
	struct t t;
	t_open(&t, true, 4096);
	for (size_t off = 0; off < n; off += piece) {
		t_feedn(&t, s + off, n - off < piece ? n - off : piece);
#ifdef HAVE_ASAN_STATS
		size_t now = __sanitizer_get_current_allocated_bytes();
		cr_assert_lt(now, before + 256 * 1024, "%zu bytes held after %zu bytes fed",
			     now - before, off);
#endif
	}
	EXPECT_KINDS(&t, "ERHD");
	expect_error(&t, 0, HTTP1_ERR_HEAD_TOO_LARGE);
	expect_resync(&t, 1, headlen - 4096 - 64, headlen);
	expect_req(&t, 2, "GET", "/next", 1, 1);
	EXPECT_STR(t.rc.ev[2].host, "n", "host");
	cr_assert(http1_parser_active(t.p));
	t_close(&t);
	free(s);
}

Test(http1, one_mib_header_is_too_large_and_resyncs)
{
	huge_head((size_t)1 << 21);   /* one piece */
	huge_head(1460);
	huge_head(1);
}

Test(http1, many_fields_and_long_start_line_are_too_large)
{
	struct t t;
	t_open(&t, false, 4096);
	t_feed(&t, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < 2000; i++)
		t_feed(&t, "X: y\r\n");
	t_feed(&t, "\r\nHTTP/1.1 204 No Content\r\n\r\n");
	EXPECT_KINDS(&t, "ERHD");
	expect_error(&t, 0, HTTP1_ERR_HEAD_TOO_LARGE);
	expect_resp(&t, 2, 204, "No Content", 1, 1);
	t_close(&t);

	t_open(&t, true, 4096);
	t_feed(&t, "GET /");
	for (int i = 0; i < 1000; i++)
		t_feed(&t, "aaaaaaaaaa");
	t_feed(&t, " HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "ERHD");
	expect_error(&t, 0, HTTP1_ERR_HEAD_TOO_LARGE);
	expect_req(&t, 2, "GET", "/next", 1, 1);
	t_close(&t);
}

Test(http1, head_limit_applies_to_a_head_in_one_piece)
{
	/* "head over the limit" is an error however the head arrives. */
	char wire[6000];
	char val[5001];
	memset(val, 'v', 5000);
	val[5000] = '\0';
	snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\nX: %s\r\n\r\nGET /n HTTP/1.1\r\n\r\n", val);
	struct t t;
	t_open(&t, true, 4096);
	t_feed(&t, wire);
	EXPECT_KINDS(&t, "ERHD");
	expect_error(&t, 0, HTTP1_ERR_HEAD_TOO_LARGE);
	t_close(&t);

	/* Under the default limit the same head is fine. */
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, wire);
	EXPECT_KINDS(&t, "HDHD");
	t_close(&t);
}

/* ======================================================================= */
/* Gaps                                                                     */
/* ======================================================================= */

Test(http1, gap_inside_content_length_body_is_not_an_error)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
	t_feed(&t, "0123456789012345678901234567890");    /* 31 */
	t_gap(&t, 50);
	EXPECT_KINDS(&t, "H");
	t_feed(&t, "0123456789012345678");                /* 19: 100 */
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, 100);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
	t_gap(&t, 10);          /* the whole body lost */
	EXPECT_KINDS(&t, "HDHD");
	expect_done(&t, 3, 10);
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	EXPECT_KINDS(&t, "HDHDHD");
	t_close(&t);
}

Test(http1, gap_inside_a_head_is_an_error_then_resync)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /a HTTP/1.1\r\nHo");                 /* 19 bytes */
	t_gap(&t, 10);
	t_feed(&t, "st: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n");  /* 9 bytes to skip */
	EXPECT_KINDS(&t, "ERHD");
	expect_error(&t, 0, HTTP1_ERR_GAP);
	/* skipped counts the gap and what follows it, perhaps the cut head */
	expect_resync(&t, 1, 19, 38);
	expect_req(&t, 2, "GET", "/b", 1, 1);
	t_close(&t);
}

Test(http1, gap_inside_close_delimited_body_still_completes_at_eof)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.0 200 OK\r\n\r\n");
	t_feed(&t, "abc");
	t_gap(&t, 1000);
	t_feed(&t, "defg");
	EXPECT_KINDS(&t, "H");
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	expect_done(&t, 1, 1007);
	t_close(&t);
}

Test(http1, gap_across_the_end_of_a_body_loses_the_next_head)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
	t_gap(&t, 5 + 12);     /* 5 body bytes, then "HTTP/1.1 200" of the next */
	t_feed(&t, " OK\r\nContent-Length: 0\r\n\r\n");
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\n");
	ev_get(&t, 0, EV_HEAD);
	expect_done(&t, 1, 10);
	const struct ev *e = last_head(&t);
	cr_assert_eq(e->status, 204, "events%s", dump(&t));
	cr_assert_eq(count_kind(&t, EV_HEAD), 2, "the cut head is not reported; events%s",
		     dump(&t));
	t_close(&t);
}

Test(http1, gap_that_hides_a_chunk_size_breaks_the_framing)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe");
	t_gap(&t, 3 + 2 + 4);      /* "llo", CRLF, "3\r\na" */
	t_feed(&t, "bc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
	cr_assert_geq(t.rc.nev, 2);
	ev_get(&t, 0, EV_HEAD);
	expect_error(&t, 1, HTTP1_ERR_GAP);
	ev_get(&t, 2, EV_RESYNC);
	cr_assert_eq(last_head(&t)->status, 204, "events%s", dump(&t));
	cr_assert_eq(count_kind(&t, EV_DONE), 1, "events%s", dump(&t));
	t_close(&t);
}

Test(http1, gap_between_messages_then_a_later_request)
{
	/* What follows a gap at a boundary may be mid-message: only require
	 * that the request after it is found and nothing crashes. */
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET /a HTTP/1.1\r\n\r\n");
	t_gap(&t, 20);
	t_feed(&t, "tial-junk: x\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
	EXPECT_STR(last_head(&t)->target, "/c", "last target");
	cr_assert_eq(count_kind(&t, EV_HEAD), 2, "events%s", dump(&t));
	cr_assert_eq(t.rc.ev[t.rc.nev - 1].kind, EV_DONE);
	t_close(&t);
}

/* ======================================================================= */
/* Start of stream, active, eof                                             */
/* ======================================================================= */

Test(http1, garbage_at_the_start_is_not_http)
{
	static const char *const starts[] = {
		"tail of body\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"\x16\x03\x01\x02\x05\x01\x07\x01\xfc\x03\x03",
		"SSH-2.0-OpenSSH_9.6\r\n",
		"dy></html>\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	};
	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < KL_ARRAY_LEN(starts); i++) {
			struct t t;
			t_open(&t, dir == 0, HTTP1_HEAD_LIMIT_DEFAULT);
			cr_assert(http1_parser_active(t.p));
			t_feed(&t, starts[i]);
			cr_assert(!http1_parser_active(t.p), "%s parser, start %zu: still active",
				  dir == 0 ? "request" : "response", i);
			/* Whether an inactive parser goes on looking for messages is
			 * not said; feeding on must be harmless. */
			t_feed(&t, "more bytes\r\n");
			t_eof(&t);
			t_close(&t);
		}
	}
}

Test(http1, partial_start_stays_active)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GE");
	cr_assert(http1_parser_active(t.p));
	EXPECT_KINDS(&t, "");
	t_feed(&t, "T / HTTP/1.1\r\n\r\n");
	EXPECT_KINDS(&t, "HD");
	cr_assert(http1_parser_active(t.p));
	t_close(&t);

	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/");
	cr_assert(http1_parser_active(t.p));
	t_feed(&t, "1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HD");
	t_close(&t);
}

Test(http1, valid_start_then_garbage_stays_active_and_resyncs)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	t_feed(&t, "\x16\x03\x01\x02\x05\r\n");
	cr_assert(http1_parser_active(t.p));
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_KINDS(&t, "HDERHD");
	expect_resync(&t, 3, 7, 7);
	cr_assert(http1_parser_active(t.p));
	t_close(&t);
}

Test(http1, eof_inside_a_head_is_an_error)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "GET / HTTP/1.1\r\nHost: a\r\n");
	EXPECT_KINDS(&t, "");
	t_eof(&t);
	EXPECT_KINDS(&t, "E");
	t_close(&t);

	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 O");
	t_eof(&t);
	EXPECT_KINDS(&t, "HDE");
	t_close(&t);
}

Test(http1, eof_inside_a_body_is_an_error)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012345678");
	t_eof(&t);
	EXPECT_KINDS(&t, "HE");
	t_close(&t);

	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
	t_eof(&t);
	EXPECT_KINDS(&t, "HE");
	t_close(&t);

	/* A chunked body cut in its trailers. */
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n");
	t_eof(&t);
	EXPECT_KINDS(&t, "HE");
	t_close(&t);
}

Test(http1, empty_feeds_are_harmless)
{
	struct t t;
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feedn(&t, "", 0);
	cr_assert(http1_parser_active(t.p));
	t_feed(&t, "GET / HTTP/1.1\r\n");
	t_feedn(&t, "", 0);
	t_feed(&t, "\r\n");
	t_feedn(&t, "", 0);
	EXPECT_KINDS(&t, "HD");
	t_eof(&t);
	EXPECT_KINDS(&t, "HD");
	t_close(&t);
}

/* ======================================================================= */
/* Probe                                                                    */
/* ======================================================================= */

static int probe(bool requests, const char *s)
{
	return http1_looks_like_start(requests, (const uint8_t *)s, strlen(s));
}

Test(http1, looks_like_start)
{
	cr_assert_eq(probe(true, "GET / HTTP/1.1"), 1);
	cr_assert_eq(probe(true, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 1);
	cr_assert_eq(probe(true, "POST /x HTTP/1.0\r\n"), 1);
	cr_assert_eq(probe(true, "GE"), 2);
	cr_assert_eq(probe(true, "GET\t/ HTTP/1.1"), 1);      /* §3: HTAB splits too */
	cr_assert_eq(probe(true, "BASELINE-CONTROL /"), 1);
	cr_assert_eq(probe(true, "get / HTTP/1.1"), 0);       /* no lower-case method */
	cr_assert_eq(probe(true, ""), 2);
	cr_assert_eq(probe(true, "\x16\x03\x01"), 0);
	cr_assert_eq(probe(true, "SSH-2.0-OpenSSH_9.6\r\n"), 0);
	cr_assert_eq(probe(true, "HTTP/1.1 200 OK"), 0);      /* '/' is no tchar */
	cr_assert_eq(probe(false, "HTTP/1.1 200"), 1);
	cr_assert_eq(probe(false, "HTTP/1.1 200 OK\r\n\r\n"), 1);
	cr_assert_eq(probe(false, "HTTP/1.0 404 Not Found\r\n"), 1);
	cr_assert_eq(probe(false, "HTTP/"), 2);
	cr_assert_eq(probe(false, "H"), 2);
	cr_assert_eq(probe(false, ""), 2);
	cr_assert_eq(probe(false, "SSH-2.0"), 0);
	cr_assert_eq(probe(false, "\x16\x03\x01"), 0);
	cr_assert_eq(probe(false, "GET / HTTP/1.1"), 0);
	cr_assert_eq(probe(false, "HTTP/2 200"), 0);
	/* A method of 24 characters is allowed: its 24 letters alone are
	 * undecided, not ruled out (fuzz_http1 found the earlier 0 here
	 * contradicting the 1 for the same line one byte longer). */
	cr_assert_eq(probe(true, "ABCDEFGHIJKLMNOPQRSTUVWX"), 2);
	cr_assert_eq(probe(true, "ABCDEFGHIJKLMNOPQRSTUVWX /"), 1);
	cr_assert_eq(probe(true, "ABCDEFGHIJKLMNOPQRSTUVWXY"), 0);
}

Test(http1, looks_like_start_rejects_the_http2_preface)
{
	/* "PRI * HTTP/2.0" starts like "METHOD SP" but is the HTTP/2
	 * connection preface (RFC 9113 §3.4), not an HTTP/1 message; a
	 * probe answering yes would claim prior-knowledge h2c connections. */
	cr_assert_eq(probe(true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0);
}

/* ======================================================================= */
/* Timestamps                                                               */
/* ======================================================================= */

Test(http1, head_time_is_first_byte_done_time_is_last_byte)
{
	struct t t;
	t_open(&t, false, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed_ts(&t, "HTTP/1.1 200 OK\r\nContent-Le", T0 + 10);
	t_feed_ts(&t, "ngth: 10\r\n\r\n01234", T0 + 20);
	EXPECT_KINDS(&t, "H");
	t_feed_ts(&t, "56789H", T0 + 30);
	EXPECT_KINDS(&t, "HD");
	t_feed_ts(&t, "TTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
		  T0 + 40);
	EXPECT_KINDS(&t, "HDHDH");
	t_feed_ts(&t, "x", T0 + 50);
	EXPECT_KINDS(&t, "HDHDHD");
	cr_assert_eq(t.rc.ev[0].ts, T0 + 10);
	cr_assert_eq(t.rc.ev[1].ts, T0 + 30);
	cr_assert_eq(t.rc.ev[2].ts, T0 + 30, "the 204 began with the last byte of piece 3");
	cr_assert_eq(t.rc.ev[3].ts, T0 + 40);
	cr_assert_eq(t.rc.ev[4].ts, T0 + 40);
	cr_assert_eq(t.rc.ev[5].ts, T0 + 50);
	t_close(&t);

	/* A request whose final CRLF ends a piece: done at that piece. */
	t_open(&t, true, HTTP1_HEAD_LIMIT_DEFAULT);
	t_feed_ts(&t, "GET / HTTP/1.1\r\n\r", T0 + 1);
	t_feed_ts(&t, "\n", T0 + 2);
	t_feed_ts(&t, "GET /2 HTTP/1.1\r\n\r\n", T0 + 3);
	EXPECT_KINDS(&t, "HDHD");
	cr_assert_eq(t.rc.ev[0].ts, T0 + 1);
	cr_assert_eq(t.rc.ev[1].ts, T0 + 2);
	cr_assert_eq(t.rc.ev[2].ts, T0 + 3);
	cr_assert_eq(t.rc.ev[3].ts, T0 + 3);
	t_close(&t);
}
