/*
 * fuzz_http2.c - libFuzzer target for the HTTP/2 dissector (frame reader,
 * HPACK through libnghttp2, stream table; dissectors/http2.c).
 *
 * Input: a control byte (bit 0: prepend the client connection preface, so
 * the fuzzer need not find it; bits 1-2: piece size class), a seed byte,
 * two bytes giving the length of the client's stream, the client's bytes,
 * then the server's.  The two streams are cut into pieces of pseudo-random
 * sizes, each copied into an exact-size buffer (so ASan sees a read past a
 * piece), and given in a pseudo-random interleaving of the directions, with
 * now and then a gap; then end of stream both ways and a summary.  Every
 * request row and finding must be well formed (strings are read whole) and
 * the summary sane.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http2.h"
#include "http_facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t fz_sink;

static void touch(const char *s)
{
	if (s)
		fz_sink += strlen(s);
}

static void fz_request(void *ctx, const struct request_record *r)
{
	(void)ctx;
	if (r->conn_id != 1 || r->seq < 1 || (r->status && (r->status < 200 || r->status > 999)) ||
	    r->stream_id == 0 || r->stream_id > 0x7fffffffu || r->request_body_bytes < -1 ||
	    r->response_body_bytes < -1)
		abort();
	touch(r->method);
	touch(r->uri);
	touch(r->host);
	touch(r->version);
	touch(r->upgrade);
}

static void fz_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	if (!finding_kind_name(f->kind) || !f->detail)
		abort();
	touch(f->detail);
}

static const size_t PIECE[4] = { 1, 9, 300, 20000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t clen = (size_t)data[2] << 8 | data[3];
	const uint8_t *body = data + 4;
	size_t n = size - 4;
	if (clen > n)
		clen = n;
	/* the client's stream, with the preface when asked */
	size_t pre = data[0] & 1 ? HTTP2_PREFACE_LEN : 0;
	uint8_t *cs = malloc(pre + clen + 1);
	if (!cs)
		abort();
	memcpy(cs, HTTP2_PREFACE, pre);
	memcpy(cs + pre, body, clen);
	const uint8_t *st[2] = { cs, body + clen };
	size_t left[2] = { pre + clen, n - clen }, off[2] = { 0, 0 };

	const struct dissector *d = &http2_dissector;
	struct dissect_output out = { fz_request, fz_finding, NULL };
	uint8_t ip[16] = { 0 };
	struct dissect_conn_info info = { .ip_version = 4, .client_ip = ip, .server_ip = ip,
					  .client_port = 1, .server_port = 2, .conn_id = 1, .out = &out };
	void *ctx = d->ctx_new(&info);
	if (!ctx) {
		free(cs);
		return 0;
	}
	size_t max = PIECE[(data[0] >> 1) & 3u];
	uint32_t seed = data[1] * 2654435761u + 1;
	kl_time ts = (kl_time)1700000000 * KL_NS_PER_SEC;
	while (left[0] || left[1]) {
		seed = seed * 1103515245u + 12345u;
		int dir = left[0] && left[1] ? (int)((seed >> 20) & 1) : left[0] ? 0 : 1;
		size_t len = 1 + (seed >> 8) % max;
		if (len > left[dir])
			len = left[dir];
		ts += 1000;
		if ((seed >> 24) % 64 == 0) {
			d->gap(ctx, (enum kl_dir)dir, off[dir], len, ts);
		} else {
			uint8_t *c = malloc(len);
			if (!c)
				abort();
			memcpy(c, st[dir], len);
			d->data(ctx, (enum kl_dir)dir, c, len, off[dir], ts);
			free(c);
		}
		st[dir] += len;
		off[dir] += len;
		left[dir] -= len;
	}
	d->eof(ctx, KL_TO_SERVER, ts);
	d->eof(ctx, KL_TO_CLIENT, ts);
	struct conn_record tcp;
	memset(&tcp, 0, sizeof tcp);
	struct facts_set *set = facts_set_new();
	if (!set)
		abort();
	d->facts(ctx, &tcp, set);
	const struct http_facts *h = facts_set_find(set, FACTS_HTTP);
	const struct h2_facts *f = facts_set_find(set, FACTS_H2);
	if (!h || !f || h->responses > h->requests || f->peak_streams > f->streams ||
	    (h->has_max_idle && h->max_idle < 0) || (f->has_ping_rtt && f->ping_rtt < 0))
		abort();
	facts_set_free(set);
	d->ctx_free(ctx);
	free(cs);
	return 0;
}
