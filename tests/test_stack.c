/*
 * test_stack.c - the flow layer's stacking (docs/stacking.md) on
 * synthetic connections: what real captures rarely show (a client that
 * sends into a tunnel before it is granted, a CONNECT again after a 407, a
 * tunnel carrying garbage, a SOCKS handshake cut short, tunnels nested past
 * the depth bound, a websocket upgrade), each segment in an allocation of
 * its size so ASan sees any read past it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "http_facts.h"
#include "tunnel_facts.h"

#define MAXROWS 32

static char reqs[4096];           /* "seq METHOD target status;" per request row */
static char finds[4096];          /* "kind;" per finding */
static char stack[128], tunnel[64], target[300];   /* stack: every layer, as in the record */
static unsigned long long requests;
static kl_time T;
static uint32_t SEQ[2];
static struct flow_table *FT;

static void on_request(void *ctx, const struct request_record *r)
{
	(void)ctx;
	size_t l = strlen(reqs);
	snprintf(reqs + l, sizeof reqs - l, "%llu %s %s %d;", (unsigned long long)r->seq,
		 r->method ? r->method : "-", r->uri ? r->uri : "-", r->status);
}

static void on_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	size_t l = strlen(finds);
	snprintf(finds + l, sizeof finds - l, "%s;", finding_kind_name(f->kind));
}

static void on_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	snprintf(stack, sizeof stack, "%s", r->stack);
	const struct tunnel_facts *t = r->facts[FACTS_TUNNEL];
	snprintf(tunnel, sizeof tunnel, "%s", t && t->kind ? t->kind : "");
	snprintf(target, sizeof target, "%s", t ? t->target : "");
	const struct http_facts *h = http_facts_of(r);
	requests = h ? (unsigned long long)h->requests : 0;
}

static const struct dissect_output out = { on_request, on_finding, NULL };

static struct decode_tcp segment(enum kl_dir dir, uint8_t flags, const uint8_t *p, size_t n)
{
	struct decode_tcp d;
	memset(&d, 0, sizeof d);
	d.ip_version = 4;
	d.src[0] = d.dst[0] = 10;
	d.src[3] = dir == KL_TO_SERVER ? 1 : 2;
	d.dst[3] = dir == KL_TO_SERVER ? 2 : 1;
	d.sport = dir == KL_TO_SERVER ? 40000 : 3128;
	d.dport = dir == KL_TO_SERVER ? 3128 : 40000;
	d.flags = flags;
	d.seq = SEQ[dir];
	d.ack = SEQ[!dir];
	d.payload = p;
	d.payload_caplen = d.payload_len = (uint32_t)n;
	return d;
}

static void start(void)
{
	reqs[0] = finds[0] = stack[0] = tunnel[0] = target[0] = '\0';
	requests = 0;
	T = (kl_time)1700000000 * KL_NS_PER_SEC;
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.dissectors = dissect_builtin();
	struct flow_hooks hooks = { .conn_done = on_done, .out = &out };
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

static void send_bytes(enum kl_dir dir, const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, p, n);
	struct decode_tcp s = segment(dir, KL_TCP_ACK | KL_TCP_PSH, c, n);
	flow_table_packet(FT, &s, T += 1000);
	SEQ[dir] += (uint32_t)n;
	free(c);
}

static void send_str(enum kl_dir dir, const char *s)
{
	send_bytes(dir, s, strlen(s));
}

static void finish(void)
{
	flow_table_flush(FT);
	flow_table_free(FT);
	FT = NULL;
}

#define GET_OK "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/* A client that sends its first request into the tunnel in the same
 * segment as the CONNECT, before the 200: it is held, then read inside. */
Test(stack, client_that_does_not_wait_for_the_connect_answer)
{
	start();
	send_str(KL_TO_SERVER, "CONNECT a.example:80 HTTP/1.1\r\nHost: a.example:80\r\n\r\n"
			       "GET /in HTTP/1.1\r\nHost: a.example\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 200 Connection established\r\n\r\n" GET_OK);
	finish();
	cr_expect_str_eq(reqs, "1 CONNECT a.example:80 200;2 GET /in 200;");
	cr_expect_str_eq(stack, "http/1.1 > http/1.1");
	cr_expect_str_eq(tunnel, "connect");
	cr_expect_str_eq(target, "a.example:80");
	cr_expect_eq(requests, 2);
	cr_expect_str_eq(finds, "");
}

/* Proxy authentication: 407, then CONNECT again with credentials on the
 * same connection (RFC 9110 §11.7.1); the second is granted. */
Test(stack, connect_again_after_407)
{
	start();
	send_str(KL_TO_SERVER, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 407 Proxy Authentication Required\r\n"
			       "Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n");
	send_str(KL_TO_SERVER, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n"
			       "Proxy-Authorization: Basic dTpw\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 200 OK\r\n\r\n");
	send_str(KL_TO_SERVER, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
	send_str(KL_TO_CLIENT, GET_OK);
	finish();
	cr_expect_str_eq(reqs, "1 CONNECT a.example:443 407;2 CONNECT a.example:443 200;3 GET / 200;");
	cr_expect_str_eq(tunnel, "connect");
}

/* ... and a 407 whose second CONNECT came in the same segment as bytes
 * held after the first. */
Test(stack, declined_connect_reads_held_bytes_as_http)
{
	start();
	send_str(KL_TO_SERVER, "CONNECT a.example:443 HTTP/1.1\r\n\r\n"
			       "CONNECT a.example:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 407 No\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
	send_str(KL_TO_SERVER, "GET /x HTTP/1.1\r\n\r\n");
	send_str(KL_TO_CLIENT, GET_OK);
	finish();
	cr_expect_str_eq(reqs, "1 CONNECT a.example:443 407;2 CONNECT a.example:443 200;3 GET /x 200;");
}

/* A CONNECT answered 200 followed by bytes no dissector knows. */
Test(stack, tunnel_of_garbage_is_a_finding)
{
	start();
	send_str(KL_TO_SERVER, "CONNECT a.example:9 HTTP/1.1\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 200 OK\r\n\r\n");
	uint8_t junk[300];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	send_bytes(KL_TO_SERVER, junk, sizeof junk);
	send_bytes(KL_TO_CLIENT, junk, sizeof junk);
	finish();
	cr_expect_str_eq(reqs, "1 CONNECT a.example:9 200;");
	cr_expect(strstr(finds, "tunnel-not-read;"), "%s", finds);
	cr_expect_str_eq(tunnel, "connect");
	cr_expect_str_eq(stack, "http/1.1", "nothing read inside: one protocol");
}

/* CONNECT inside CONNECT ... past DISSECT_MAX_LAYERS: the innermost is not
 * read, one finding, no crash. */
Test(stack, nesting_is_bounded)
{
	start();
	for (int i = 0; i < DISSECT_MAX_LAYERS + 2; i++) {
		send_str(KL_TO_SERVER, "CONNECT a.example:80 HTTP/1.1\r\n\r\n");
		send_str(KL_TO_CLIENT, "HTTP/1.1 200 OK\r\n\r\n");
	}
	finish();
	cr_expect_str_eq(finds, "stack-too-deep;", "%s", finds);
	char want[512] = "";
	for (int i = 0; i < DISSECT_MAX_LAYERS; i++) {
		size_t l = strlen(want);
		snprintf(want + l, sizeof want - l, "%u CONNECT a.example:80 200;", i + 1);
	}
	cr_expect_str_eq(reqs, want);
}

/* Websocket (RFC 6455): recorded, the rest is not HTTP and not probed. */
Test(stack, websocket_upgrade_is_not_read_further)
{
	start();
	send_str(KL_TO_SERVER, "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
	send_str(KL_TO_CLIENT, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\n\r\n\x81\x05hello");
	send_str(KL_TO_SERVER, "\x81\x85\x01\x02\x03\x04ignored");
	send_str(KL_TO_SERVER, "GET /not-http HTTP/1.1\r\n\r\n");
	finish();
	cr_expect_str_eq(reqs, "1 GET /chat 101;");
	cr_expect_str_eq(finds, "");
	cr_expect_str_eq(stack, "http/1.1");
}

/* An upgrade the server ignores (200): HTTP/1 goes on. */
Test(stack, upgrade_declined_goes_on_as_http)
{
	start();
	send_str(KL_TO_SERVER, "GET /a HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n");
	send_str(KL_TO_CLIENT, GET_OK);
	send_str(KL_TO_SERVER, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
	send_str(KL_TO_CLIENT, GET_OK);
	finish();
	cr_expect_str_eq(reqs, "1 GET /a 200;2 GET /b 200;");
	cr_expect_str_eq(stack, "http/1.1");
}

/* SOCKS5 (RFC 1928): granted, the tunnel's HTTP read; cut short; refused. */
Test(stack, socks5_granted_cut_short_refused)
{
	static const uint8_t greet[] = { 5, 1, 0 };
	static const uint8_t choice[] = { 5, 0 };
	static const uint8_t req[] = { 5, 1, 0, 3, 9, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 80 };
	static const uint8_t ok[] = { 5, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90 };
	static const uint8_t no[] = { 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 };
	start();
	send_bytes(KL_TO_SERVER, greet, sizeof greet);
	send_bytes(KL_TO_CLIENT, choice, sizeof choice);
	send_bytes(KL_TO_SERVER, req, sizeof req);
	send_bytes(KL_TO_CLIENT, ok, sizeof ok);
	send_str(KL_TO_SERVER, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
	send_str(KL_TO_CLIENT, GET_OK);
	finish();
	cr_expect_str_eq(stack, "socks5 > http/1.1");
	cr_expect_str_eq(tunnel, "socks5");
	cr_expect_str_eq(target, "a.example:80");
	cr_expect_str_eq(reqs, "1 GET / 200;");

	start();
	send_bytes(KL_TO_SERVER, greet, sizeof greet);
	send_bytes(KL_TO_CLIENT, choice, sizeof choice);
	send_bytes(KL_TO_SERVER, req, 7);       /* the request cut */
	finish();
	cr_expect_str_eq(finds, "socks-error;", "%s", finds);
	cr_expect_str_eq(tunnel, "");

	start();
	send_bytes(KL_TO_SERVER, greet, sizeof greet);
	send_bytes(KL_TO_CLIENT, choice, sizeof choice);
	send_bytes(KL_TO_SERVER, req, sizeof req);
	send_bytes(KL_TO_CLIENT, no, sizeof no);
	send_str(KL_TO_SERVER, "GET / HTTP/1.1\r\n\r\n");
	finish();
	cr_expect_str_eq(finds, "socks-error;", "%s", finds);
	cr_expect_str_eq(reqs, "", "nothing follows a refusal");
}

/* SOCKS4 with the request and the first tunnel bytes in one segment. */
Test(stack, socks4_client_that_does_not_wait)
{
	static const uint8_t req[] = { 4, 1, 0, 80, 192, 0, 2, 7, 'u', 0 };
	static const uint8_t ok[] = { 0, 90, 0, 0, 0, 0, 0, 0 };
	uint8_t first[sizeof req + 32];
	memcpy(first, req, sizeof req);
	memcpy(first + sizeof req, "GET /q HTTP/1.1\r\nHost: x\r\n\r\n", 28);
	start();
	send_bytes(KL_TO_SERVER, first, sizeof req + 28);
	send_bytes(KL_TO_CLIENT, ok, sizeof ok);
	send_str(KL_TO_CLIENT, GET_OK);
	finish();
	cr_expect_str_eq(tunnel, "socks4");
	cr_expect_str_eq(target, "192.0.2.7:80");
	cr_expect_str_eq(reqs, "1 GET /q 200;");
}

/* STARTTLS refused, then another try that is accepted: only the second
 * switches; what follows it goes to TLS (here not TLS: a finding of the
 * TLS layer, nothing read as mail or HTTP). */
Test(stack, starttls_refused_then_accepted)
{
	start();
	send_str(KL_TO_CLIENT, "220 mail.example ESMTP\r\n");
	send_str(KL_TO_SERVER, "EHLO c\r\n");
	send_str(KL_TO_CLIENT, "250-mail.example\r\n250 STARTTLS\r\n");
	send_str(KL_TO_SERVER, "STARTTLS\r\nNOOP\r\n");
	send_str(KL_TO_CLIENT, "454 4.7.0 TLS not available\r\n250 OK\r\n");
	send_str(KL_TO_SERVER, "STARTTLS\r\n");
	send_str(KL_TO_CLIENT, "220 2.0.0 Ready to start TLS\r\n");
	send_str(KL_TO_SERVER, "not a TLS record at all");
	finish();
	cr_expect_str_eq(finds, "starttls-refused;tls-parse-error;", "%s", finds);
	cr_expect_str_eq(stack, "smtp > tls");
	cr_expect_str_eq(reqs, "");
}
