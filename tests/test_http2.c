/*
 * test_http2.c - the HTTP/2 dissector (dissectors/http2.c) and the h2c
 * hand-off of the HTTP/1 one, on frames built here byte by byte: each test
 * knows what it sent, and checks the rows, findings and summary against
 * that and the RFC rule it names.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "flow.h"
#include "http2.h"
#include "http_facts.h"

#define MAXROWS 16

struct row {
	uint64_t seq;
	uint32_t sid;
	char method[16], uri[64], version[16], upgrade[16];
	int status;
	unsigned interim;
	int64_t req_body, resp_body;
};

static struct row rows[MAXROWS];
static size_t nrows;
static char findings[2048];

static void on_request(void *ctx, const struct request_record *r)
{
	(void)ctx;
	cr_assert_lt(nrows, MAXROWS);
	struct row *w = &rows[nrows++];
	memset(w, 0, sizeof *w);
	w->seq = r->seq;
	w->sid = r->stream_id;
	snprintf(w->method, sizeof w->method, "%s", r->method ? r->method : "");
	snprintf(w->uri, sizeof w->uri, "%s", r->uri ? r->uri : "");
	snprintf(w->version, sizeof w->version, "%s", r->version ? r->version : "");
	snprintf(w->upgrade, sizeof w->upgrade, "%s", r->upgrade ? r->upgrade : "");
	w->status = r->status;
	w->interim = r->interim;
	w->req_body = r->request_body_bytes;
	w->resp_body = r->response_body_bytes;
}

static void on_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	size_t l = strlen(findings);
	snprintf(findings + l, sizeof findings - l, "%s: %s\n", finding_kind_name(f->kind), f->detail ? f->detail : "");
}

static struct dissect_output out = { on_request, on_finding, NULL };
static kl_time T;

/* The connection goes through a real flow table with the built-in
 * registry: the dissector that the test names is the one the probes pick
 * from the first bytes, and an h2c upgrade is stacked by the flow layer
 * as in a capture. */
static struct flow_table *FT;
static uint32_t SEQ[2];

/* What the dissectors knew at the end: the HTTP and HTTP/2 facts. */
struct facts {
	struct http_facts http;
	struct h2_facts h2;
};
static struct facts LAST;
static bool ENDED;

static void on_conn_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	memset(&LAST, 0, sizeof LAST);
	if (r->facts[FACTS_HTTP])
		memcpy(&LAST.http, r->facts[FACTS_HTTP], sizeof LAST.http);
	if (r->facts[FACTS_H2])
		memcpy(&LAST.h2, r->facts[FACTS_H2], sizeof LAST.h2);
	ENDED = true;
}

static struct decode_tcp segment(enum kl_dir dir, uint8_t flags, const uint8_t *p, size_t n)
{
	struct decode_tcp d;
	memset(&d, 0, sizeof d);
	d.ip_version = 4;
	d.src[0] = d.dst[0] = 10;
	d.src[3] = dir == KL_TO_SERVER ? 1 : 2;
	d.dst[3] = dir == KL_TO_SERVER ? 2 : 1;
	d.sport = dir == KL_TO_SERVER ? 40000 : 80;
	d.dport = dir == KL_TO_SERVER ? 80 : 40000;
	d.flags = flags;
	d.seq = SEQ[dir];
	d.ack = SEQ[!dir];
	d.payload = p;
	d.payload_caplen = d.payload_len = (uint32_t)n;
	return d;
}

static void start(const struct dissector *d)
{
	(void)d;                          /* the probes recognise it */
	nrows = 0;
	findings[0] = '\0';
	ENDED = false;
	T = (kl_time)1700000000 * KL_NS_PER_SEC;
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.dissectors = dissect_builtin();
	struct flow_hooks hooks = { .conn_done = on_conn_done, .out = &out };
	char err[128];
	FT = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(FT, "%s", err);
	SEQ[KL_TO_SERVER] = 1000;
	SEQ[KL_TO_CLIENT] = 9000;
	struct decode_tcp s = segment(KL_TO_SERVER, KL_TCP_SYN, NULL, 0);
	flow_table_packet(FT, &s, T);
	SEQ[KL_TO_SERVER]++;
	s = segment(KL_TO_CLIENT, KL_TCP_SYN | KL_TCP_ACK, NULL, 0);
	flow_table_packet(FT, &s, T += 1000);
	SEQ[KL_TO_CLIENT]++;
	s = segment(KL_TO_SERVER, KL_TCP_ACK, NULL, 0);
	flow_table_packet(FT, &s, T += 1000);
}

/* Bytes to one direction, one segment, or one byte a segment; each in an
 * allocation of its size, so ASan sees any read past it. */
static void send_to(enum kl_dir dir, const void *p, size_t n, bool bytewise)
{
	const uint8_t *b = p;
	for (size_t at = 0; at < n;) {
		size_t k = bytewise ? 1 : n - at;
		uint8_t *c = malloc(k);
		memcpy(c, b + at, k);
		struct decode_tcp s = segment(dir, KL_TCP_ACK | KL_TCP_PSH, c, k);
		flow_table_packet(FT, &s, T += 1000);
		SEQ[dir] += (uint32_t)k;
		free(c);
		at += k;
	}
}

static struct facts finish(void)
{
	flow_table_flush(FT);
	flow_table_free(FT);
	FT = NULL;
	cr_assert(ENDED);
	return LAST;
}

/* A frame at b: header and payload; its length. */
static size_t frame(uint8_t *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	b[0] = (uint8_t)(n >> 16);
	b[1] = (uint8_t)(n >> 8);
	b[2] = (uint8_t)n;
	b[3] = type;
	b[4] = flags;
	b[5] = (uint8_t)(sid >> 24);
	b[6] = (uint8_t)(sid >> 16);
	b[7] = (uint8_t)(sid >> 8);
	b[8] = (uint8_t)sid;
	memcpy(b + 9, p, n);
	return 9 + n;
}

enum { DATA = 0, HEADERS = 1, RST = 3, SETTINGS = 4, CONT = 9 };
/* HPACK (RFC 7541 Appendix A static table): :method GET, :scheme http,
 * :path /, then :authority "a" as a literal with incremental indexing. */
static const uint8_t REQ[] = { 0x82, 0x86, 0x84, 0x41, 0x01, 'a' };
static const uint8_t S200[] = { 0x88 };   /* :status 200 */

static size_t preface(uint8_t *b)
{
	memcpy(b, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	return HTTP2_PREFACE_LEN;
}

/* A stream across HEADERS + CONTINUATION (END_STREAM on the HEADERS, RFC
 * 9113 §8.1), a 103 before the 200 (interim), padded DATA, trailers: one
 * row, fed whole and one byte at a time. */
Test(http2, stream_with_continuation_interim_padding_trailers)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		start(&http2_dissector);
		uint8_t b[512];
		size_t n = preface(b);
		n += frame(b + n, HEADERS, 0x01, 1, REQ, 2);               /* END_STREAM, no END_HEADERS */
		n += frame(b + n, CONT, 0x04, 1, REQ + 2, sizeof REQ - 2);  /* END_HEADERS */
		send_to(KL_TO_SERVER, b, n, bytewise);
		static const uint8_t s103[] = { 0x08, 0x03, '1', '0', '3' };   /* :status 103 */
		static const uint8_t data[] = { 4, 'a', 'b', 'c', 'd', 'e', 0, 0, 0, 0 };   /* pad 4 */
		static const uint8_t trailer[] = { 0x40, 0x03, 'x', '-', 't', 0x01, 'v' };
		n = frame(b, HEADERS, 0x04, 1, s103, sizeof s103);
		n += frame(b + n, HEADERS, 0x04, 1, S200, 1);
		n += frame(b + n, DATA, 0x08, 1, data, sizeof data);       /* PADDED */
		n += frame(b + n, HEADERS, 0x05, 1, trailer, sizeof trailer);
		send_to(KL_TO_CLIENT, b, n, bytewise);
		struct facts r = finish();
		cr_assert_eq(nrows, 1);
		cr_expect_str_eq(rows[0].method, "GET");
		cr_expect_str_eq(rows[0].uri, "/");
		cr_expect_str_eq(rows[0].version, "HTTP/2");
		cr_expect_eq(rows[0].sid, 1);
		cr_expect_eq(rows[0].status, 200);
		cr_expect_eq(rows[0].interim, 1);
		cr_expect_eq(rows[0].resp_body, 5, "DATA without padding");
		cr_expect_eq(r.h2.streams, 1);
		cr_expect_eq(r.http.requests, 1);
		cr_expect_eq(r.http.responses, 1);
		cr_expect_eq(findings[0], '\0', "%s", findings);
	}
}

/* §8.1: a server may answer in full and reset the stream (NO_ERROR) while
 * the client still uploads; trailers the client had already sent arrive
 * on the closed stream.  Stream ids only grow (§5.1.1): they are not a new
 * request. */
Test(http2, a_finished_stream_id_is_not_a_new_request)
{
	start(&http2_dissector);
	uint8_t b[256];
	size_t n = preface(b);
	n += frame(b + n, HEADERS, 0x04, 1, REQ, sizeof REQ);   /* no END_STREAM: a body follows */
	n += frame(b + n, DATA, 0, 1, "abc", 3);
	send_to(KL_TO_SERVER, b, n, false);
	n = frame(b, HEADERS, 0x04, 1, S200, 1);
	n += frame(b + n, DATA, 0x01, 1, "ok", 2);
	n += frame(b + n, RST, 0, 1, "\0\0\0\0", 4);
	send_to(KL_TO_CLIENT, b, n, false);
	static const uint8_t trailer[] = { 0x40, 0x03, 'x', '-', 't', 0x01, 'v' };
	n = frame(b, HEADERS, 0x05, 1, trailer, sizeof trailer);
	send_to(KL_TO_SERVER, b, n, false);
	struct facts r = finish();
	cr_assert_eq(nrows, 1);
	cr_expect_eq(rows[0].status, 200);
	cr_expect_eq(rows[0].req_body, 3);
	cr_expect_eq(r.http.requests, 1);
	cr_expect_eq(r.h2.rst_streams, 1);
}

/* §6.5.3: a new SETTINGS_HEADER_TABLE_SIZE binds the other side's encoder
 * once that side acknowledged it; here it comes while the client's header
 * block is still open, and the client's next block starts with a table
 * size update to the new size (RFC 7541 §4.2), which is legal. */
Test(http2, table_size_applies_at_the_acknowledgement)
{
	start(&http2_dissector);
	uint8_t b[256];
	size_t n = preface(b);
	n += frame(b + n, HEADERS, 0x01, 1, REQ, 3);            /* no END_HEADERS */
	send_to(KL_TO_SERVER, b, n, false);
	static const uint8_t set[6] = { 0, 1, 0, 1, 0, 0 };     /* HEADER_TABLE_SIZE 65536 */
	n = frame(b, SETTINGS, 0, 0, set, 6);
	send_to(KL_TO_CLIENT, b, n, false);
	n = frame(b, CONT, 0x04, 1, REQ + 3, 3);
	n += frame(b + n, SETTINGS, 0x01, 0, "", 0);             /* the client's ACK */
	/* size update to 65536: 0x3f then 65536 - 31 in 7-bit groups */
	uint8_t blk[16] = { 0x3f, 0xe1, 0xff, 0x03 };
	memcpy(blk + 4, REQ, sizeof REQ);
	n += frame(b + n, HEADERS, 0x05, 3, blk, 4 + sizeof REQ);
	send_to(KL_TO_SERVER, b, n, false);
	n = frame(b, HEADERS, 0x05, 1, S200, 1);
	n += frame(b + n, HEADERS, 0x05, 3, S200, 1);
	send_to(KL_TO_CLIENT, b, n, false);
	finish();
	cr_assert_eq(nrows, 2, "%s", findings);
	for (size_t i = 0; i < 2; i++) {
		cr_expect_str_eq(rows[i].method, "GET", "stream %u", rows[i].sid);
		cr_expect_eq(rows[i].status, 200);
	}
	cr_expect_null(strstr(findings, "h2-protocol-error"), "%s", findings);
}

/* A peer may advertise a table of 2^32 - 1 bytes; the decoder here allows
 * 64 KiB (bounded memory), so an encoder that grows past it is "HPACK
 * cannot decode", once, and the rest of that direction's headers are
 * unknown rather than held in memory. */
Test(http2, hpack_table_is_bounded)
{
	start(&http2_dissector);
	uint8_t b[256];
	size_t n = preface(b);
	static const uint8_t set[6] = { 0, 1, 0xff, 0xff, 0xff, 0xff };
	n += frame(b + n, SETTINGS, 0, 0, set, 6);
	n += frame(b + n, HEADERS, 0x05, 1, REQ, sizeof REQ);
	send_to(KL_TO_SERVER, b, n, false);
	n = frame(b, SETTINGS, 0x01, 0, "", 0);                 /* the server's ACK */
	/* size update to 2^20, over the bound */
	static const uint8_t blk[] = { 0x3f, 0xe1, 0xff, 0x3f, 0x88 };
	n += frame(b + n, HEADERS, 0x05, 1, blk, sizeof blk);
	send_to(KL_TO_CLIENT, b, n, false);
	finish();
	cr_expect(strstr(findings, "h2-protocol-error: server: a header block HPACK cannot decode"),
		  "%s", findings);
	cr_assert_eq(nrows, 1);
	cr_expect_str_eq(rows[0].method, "GET");
	cr_expect_eq(rows[0].status, 0, "the response's fields are unknown");
}

/* h2c on the second request of a connection (RFC 7540 §3.2): the first
 * keeps seq 1; the upgraded request is stream 1 with seq 2, the 101 its
 * interim response and the final status from HTTP/2; the next stream is
 * seq 3.  The 101 head and the server's first frames arrive in one piece,
 * split 3 bytes before the head's end, or byte by byte. */
Test(http2, h2c_upgrade_on_a_later_request)
{
	for (int split = 0; split < 3; split++) {
		start(&http1_dissector);
		static const char r1[] = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n";
		static const char s1[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		static const char r2[] = "GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
					 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
		static const char s2[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
					 "Upgrade: h2c\r\n\r\n";
		send_to(KL_TO_SERVER, r1, strlen(r1), false);
		send_to(KL_TO_CLIENT, s1, strlen(s1), false);
		send_to(KL_TO_SERVER, r2, strlen(r2), false);
		uint8_t b[512];
		size_t n = strlen(s2);
		memcpy(b, s2, n);
		n += frame(b + n, SETTINGS, 0, 0, "", 0);
		n += frame(b + n, HEADERS, 0x04, 1, S200, 1);
		n += frame(b + n, DATA, 0x01, 1, "hello", 5);
		if (split == 1) {
			size_t k = strlen(s2) - 3;
			send_to(KL_TO_CLIENT, b, k, false);
			send_to(KL_TO_CLIENT, b + k, n - k, false);
		} else {
			send_to(KL_TO_CLIENT, b, n, split == 2);
		}
		n = preface(b);
		n += frame(b + n, SETTINGS, 0, 0, "", 0);
		n += frame(b + n, HEADERS, 0x05, 3, REQ, sizeof REQ);
		send_to(KL_TO_SERVER, b, n, false);
		n = frame(b, HEADERS, 0x04, 3, S200, 1);
		n += frame(b + n, DATA, 0x01, 3, "xy", 2);
		send_to(KL_TO_CLIENT, b, n, false);
		struct facts r = finish();
		cr_assert_eq(nrows, 3, "split %d: %s", split, findings);
		cr_expect(rows[0].seq == 1 && rows[0].sid == 0 && !strcmp(rows[0].uri, "/first"));
		cr_expect(rows[1].seq == 2 && rows[1].sid == 1 && !strcmp(rows[1].uri, "/up") &&
			  rows[1].status == 200 && rows[1].interim == 1 && rows[1].resp_body == 5 &&
			  !strcmp(rows[1].version, "HTTP/1.1") && !strcmp(rows[1].upgrade, "h2c"),
			  "split %d: seq %llu sid %u status %d interim %u body %lld", split,
			  (unsigned long long)rows[1].seq, rows[1].sid, rows[1].status, rows[1].interim,
			  (long long)rows[1].resp_body);
		cr_expect(rows[2].seq == 3 && rows[2].sid == 3 && rows[2].status == 200 &&
			  !strcmp(rows[2].version, "HTTP/2"));
		cr_expect_eq(r.http.requests, 3);
		cr_expect_eq(r.http.responses, 3);
	}
}
