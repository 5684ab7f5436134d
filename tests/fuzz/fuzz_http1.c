/*
 * fuzz_http1.c - libFuzzer target for http1_parser.
 *
 * Input: one control byte (bit 0: requests or responses; bits 1-2: the
 * head limit; bits 3-4: how the owner answers response heads; bit 5: end
 * with eof; bit 6: allow gaps), two bytes that seed the piece sizes, then
 * the stream.  The stream is fed in pieces of pseudo-random sizes, each
 * copied into a buffer of exactly its size that is freed right after the
 * feed, with now and then a gap (input bytes skipped, or a huge hole that
 * skips nothing) and an eof at the end.
 *
 * The callbacks copy every span into exact-size buffers (so ASan catches a
 * span that points outside readable bytes) and abort unless: each message
 * is done or abandoned before the next head; done follows a head; nothing
 * follows the tunnel; statuses are 100..999; versions are single digits
 * (1.0 when flagged malformed); head_bytes is within the stream so far;
 * span and raw-value lengths are within the head limit and
 * HTTP1_VALUE_KEEP; numbers are -1 or more; body_bytes and skipped never
 * exceed the stream so far; times lie within the feed's times.  After a
 * tunnel the parser is inactive.  http1_looks_like_start answers 0, 1 or
 * 2, and once a prefix is decided a longer one is not "need more".
 *
 * Without gaps, the same stream is parsed again in one piece, and the two
 * runs must report the same events with the same values (times aside):
 * where the pieces break must not change what is parsed.  A whole head in
 * one piece takes the parser's one-pass path, a split one the
 * line-by-line path, so this checks one against the other.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_T0 ((kl_time)1700000000 * KL_NS_PER_SEC)

static volatile uint32_t fz_sink;     /* keeps the span copies alive */

struct fz {
	bool requests;
	size_t limit;
	unsigned hint_mode;
	uint8_t hint_bits;
	bool open, tunneled;
	uint64_t stream;              /* bytes fed and gaps so far */
	uint64_t heads;
	kl_time now;                  /* time of the latest call */
	uint32_t sum;                 /* keeps the copies alive */
	uint64_t digest, events;      /* what was reported, times aside */
};

/* FNV-1a over the events, for comparing two runs. */
static void fz_mix(struct fz *f, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		f->digest = (f->digest ^ b[i]) * UINT64_C(0x100000001b3);
}

static void fz_mix_u64(struct fz *f, uint64_t v)
{
	fz_mix(f, &v, sizeof v);
}

static void fz_mix_span(struct fz *f, struct http1_span s)
{
	fz_mix_u64(f, s.n);
	if (s.n)
		fz_mix(f, s.p, s.n);
}

static void fz_check_ts(const struct fz *f, kl_time ts)
{
	if (ts < FZ_T0 || ts > f->now)
		abort();
}

static void fz_copy(struct fz *f, struct http1_span s, size_t max)
{
	if (s.n > max || (s.n && s.p == NULL))
		abort();
	if (!s.n)
		return;
	uint8_t *c = malloc(s.n);
	if (!c)
		abort();
	memcpy(c, s.p, s.n);
	f->sum += c[0] + c[s.n - 1];
	free(c);
}

static enum http1_body_hint fz_head(void *ctx, const struct http1_head *h, kl_time ts)
{
	struct fz *f = ctx;
	fz_check_ts(f, ts);
	if (f->tunneled || f->open || h->is_request != f->requests)
		abort();
	if (!h->is_request && (h->status < 100 || h->status > 999))
		abort();
	if (h->is_request && (h->method.n == 0 || h->target.n == 0))
		abort();
	if (h->version_major > 9 || h->version_minor > 9)
		abort();
	if (h->version_malformed && (h->version_major != 1 || h->version_minor != 0))
		abort();
	if (h->head_bytes == 0 || h->head_bytes > f->stream)
		abort();
	if (h->content_length < -1 || h->ka_timeout < -1 || h->ka_max < -1)
		abort();
	if (h->chunked && !h->transfer_encoding)
		abort();
	unsigned all = HTTP1_CONN_KEEP_ALIVE | HTTP1_CONN_CLOSE | HTTP1_CONN_UPGRADE |
		       HTTP1_CONN_OTHER;
	if ((h->connection & ~all) || (h->proxy_connection & ~all))
		abort();
	if (!h->has_connection && (h->connection || h->connection_raw.n))
		abort();
	if (!h->has_proxy_connection && (h->proxy_connection || h->proxy_connection_raw.n))
		abort();
	if (!h->has_keep_alive && (h->ka_timeout != -1 || h->ka_max != -1 || h->keep_alive_raw.n))
		abort();
	fz_copy(f, h->method, f->limit);
	fz_copy(f, h->target, f->limit);
	fz_copy(f, h->reason, f->limit);
	fz_copy(f, h->version, f->limit);
	fz_copy(f, h->host, f->limit);
	fz_copy(f, h->upgrade, f->limit);
	fz_copy(f, h->connection_raw, HTTP1_VALUE_KEEP);
	fz_copy(f, h->keep_alive_raw, HTTP1_VALUE_KEEP);
	fz_copy(f, h->proxy_connection_raw, HTTP1_VALUE_KEEP);
	f->events++;
	fz_mix_u64(f, 'H');
	fz_mix_span(f, h->method);
	fz_mix_span(f, h->target);
	fz_mix_span(f, h->reason);
	fz_mix_span(f, h->version);
	fz_mix_span(f, h->host);
	fz_mix_span(f, h->upgrade);
	fz_mix_span(f, h->connection_raw);
	fz_mix_span(f, h->keep_alive_raw);
	fz_mix_span(f, h->proxy_connection_raw);
	uint64_t v[] = { (uint64_t)h->status, h->version_major, h->version_minor,
			 h->version_malformed, (uint64_t)h->content_length, h->chunked,
			 h->transfer_encoding, h->connection, h->proxy_connection,
			 h->has_connection, h->has_keep_alive, h->has_proxy_connection,
			 (uint64_t)h->ka_timeout, (uint64_t)h->ka_max, h->head_bytes };
	fz_mix(f, v, sizeof v);
	f->open = true;
	uint64_t k = f->heads++;
	if (h->is_request)
		return HTTP1_BODY_AS_FRAMED;
	switch (f->hint_mode) {
	case 1:
		return k % 2 ? HTTP1_BODY_NONE : HTTP1_BODY_AS_FRAMED;
	case 2:
		return h->status / 100 == 2 && k % 4 == 3 ? HTTP1_BODY_TUNNEL : HTTP1_BODY_AS_FRAMED;
	case 3:
		switch ((f->hint_bits >> (2 * (k % 4))) & 3u) {
		case 1:
			return HTTP1_BODY_NONE;
		case 2:
			return HTTP1_BODY_TUNNEL;
		default:
			return HTTP1_BODY_AS_FRAMED;
		}
	default:
		return HTTP1_BODY_AS_FRAMED;
	}
}

static void fz_done(void *ctx, uint64_t body_bytes, kl_time ts)
{
	struct fz *f = ctx;
	fz_check_ts(f, ts);
	if (f->tunneled || !f->open || body_bytes > f->stream)
		abort();
	f->open = false;
	f->events++;
	fz_mix_u64(f, 'D');
	fz_mix_u64(f, body_bytes);
}

static void fz_error(void *ctx, enum http1_error e, kl_time ts)
{
	struct fz *f = ctx;
	fz_check_ts(f, ts);
	if (f->tunneled || e < HTTP1_ERR_SYNTAX || e > HTTP1_ERR_GAP)
		abort();
	f->open = false;
	f->events++;
	fz_mix_u64(f, 'E');
	fz_mix_u64(f, (uint64_t)e);
}

static void fz_resync(void *ctx, uint64_t skipped, kl_time ts)
{
	struct fz *f = ctx;
	fz_check_ts(f, ts);
	if (f->tunneled || f->open || skipped > f->stream)
		abort();
	f->events++;
	fz_mix_u64(f, 'R');
	fz_mix_u64(f, skipped);
}

static void fz_tunnel(void *ctx, kl_time ts)
{
	struct fz *f = ctx;
	fz_check_ts(f, ts);
	if (f->tunneled)
		abort();
	f->tunneled = true;
	f->open = false;
	f->events++;
	fz_mix_u64(f, 'T');
}

static const struct http1_callbacks FZ_CB = { fz_head, fz_done, fz_error, fz_resync,
					      fz_tunnel };

static uint64_t fz_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static void fz_probe(bool requests, const uint8_t *p, size_t n)
{
	size_t upto = n < 24 ? n : 24;
	bool decided = false;
	for (size_t k = 0; k <= upto; k++) {
		int r = http1_looks_like_start(requests, p, k);
		if (r < 0 || r > 2 || (decided && r == 2))
			abort();
		decided = decided || r != 2;
	}
	/* The probe's evidence: an answer given on a prefix stands for every
	 * longer one, and with `last` it is never "more" and agrees with it. */
	upto = n < 600 ? n : 600;
	int verdict = 2;
	for (size_t k = 0; k <= upto; k++) {
		int r = http1_evidence(requests, p, k, false);
		int l = http1_evidence(requests, p, k, true);
		if (r < 0 || r > 2 || l < 0 || l > 1 || (verdict != 2 && r != verdict) ||
		    (r != 2 && l != r))
			abort();
		verdict = r;
	}
}

static const size_t LIMITS[4] = { HTTP1_HEAD_LIMIT_MIN, 1500, 4096, HTTP1_HEAD_LIMIT_DEFAULT };
static const size_t MAX_PIECE[4] = { 1, 7, 64, 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct fz f;
	memset(&f, 0, sizeof f);
	f.requests = data[0] & 1u;
	f.limit = LIMITS[(data[0] >> 1) & 3u];
	f.hint_mode = (data[0] >> 3) & 3u;
	f.hint_bits = data[1];
	bool eof = data[0] & 0x20u;
	bool gaps = data[0] & 0x40u;
	size_t max_piece = MAX_PIECE[data[1] & 3u];
	uint64_t seed = (uint64_t)data[1] << 8 | data[2];
	const uint8_t *s = data + 3;
	size_t n = size - 3;

	fz_probe(f.requests, s, n);
	fz_probe(!f.requests, s, n);

	f.now = FZ_T0;
	struct http1_parser *p = http1_parser_new(f.requests, f.limit, &FZ_CB, &f);
	if (!p)
		return 0;
	size_t off = 0;
	while (off < n) {
		f.now += 1000;
		uint64_t r = fz_rand(&seed);
		if (gaps && r % 16 == 0) {
			if ((r >> 8) % 8 == 0) {
				uint64_t len = UINT64_C(1) << 40;
				f.stream += len;
				http1_parser_gap(p, len, f.now);
			} else {
				size_t len = 1 + (size_t)((r >> 8) % 32);
				if (len > n - off)
					len = n - off;
				f.stream += len;
				http1_parser_gap(p, len, f.now);
				off += len;
			}
		} else {
			size_t len = 1 + (size_t)((r >> 8) % max_piece);
			if (len > n - off)
				len = n - off;
			uint8_t *c = malloc(len);
			if (!c)
				abort();
			memcpy(c, s + off, len);
			f.stream += len;
			http1_parser_feed(p, c, len, f.now);
			free(c);
			off += len;
		}
		if (f.tunneled && http1_parser_active(p))
			abort();
	}
	if (eof) {
		f.now += 1000;
		http1_parser_eof(p, f.now);
		if (f.open)
			abort();      /* eof completes or abandons the message */
	}
	if (f.tunneled && http1_parser_active(p))
		abort();
	http1_parser_free(p);
	fz_sink = f.sum;

	if (!gaps && n > 0) {
		/* The same stream in one piece must tell the same story. */
		struct fz w;
		memset(&w, 0, sizeof w);
		w.requests = f.requests;
		w.limit = f.limit;
		w.hint_mode = f.hint_mode;
		w.hint_bits = f.hint_bits;
		w.now = FZ_T0 + 1000;
		struct http1_parser *q = http1_parser_new(w.requests, w.limit, &FZ_CB, &w);
		if (!q)
			return 0;
		uint8_t *c = malloc(n);
		if (!c)
			abort();
		memcpy(c, s, n);
		w.stream = n;
		http1_parser_feed(q, c, n, w.now);
		free(c);
		if (eof) {
			w.now += 1000;
			http1_parser_eof(q, w.now);
		}
		http1_parser_free(q);
		if (w.events != f.events || w.digest != f.digest)
			abort();
	}
	return 0;
}
