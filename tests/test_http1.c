/*
 * test_http1.c - the HTTP/1 dissector's pairing of requests and responses
 * (dissectors/http1.c) and the connection facts it writes
 * (dissectors/http_facts.h), on synthetic connections through a real flow
 * table with the built-in dissectors (testutil's tu_conn: every segment in
 * an allocation of its exact size, so ASan sees any read past it).
 *
 * One table of exchanges, each fed twice: every step in one segment, and
 * one byte per segment.  The expected rows, findings and facts of each
 * case are worked out by hand from the bytes it sends and the RFC rule
 * named in its comment (RFC 9110, RFC 9112 §6.3 framing, §9.3 persistence,
 * §9.3.2 pipelining, §9.6 close), never from kalens' output.  Body sizes
 * are counted from the bytes on the wire after the head, chunk framing
 * included (docs/schema.md, response_body_bytes).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "http_facts.h"
#include "testutil.h"

/* ---- what the dissector reported ---------------------------------------- */

static char rows[4096];           /* "seq METHOD uri status body=N[ pipelined];" */
static unsigned interim;          /* interim responses, all rows */
static struct {
	bool http;
	struct http_facts h;
} last;

static void on_request(void *ctx, const struct request_record *r)
{
	(void)ctx;
	size_t l = strlen(rows);
	snprintf(rows + l, sizeof rows - l, "%llu %s %s %d body=%lld%s;",
		 (unsigned long long)r->seq, r->method ? r->method : "-", r->uri ? r->uri : "-",
		 r->status, (long long)r->response_body_bytes, r->pipelined ? " pipelined" : "");
	interim += r->interim;
}

static void on_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	const struct http_facts *h = http_facts_of(r);
	last.http = h != NULL;
	if (h)
		last.h = *h;
}

static const struct dissect_output out = { on_request, NULL, NULL };

/* ---- the cases ---------------------------------------------------------- */

/* A step: 'C' bytes from the client, 'S' from the server, 'c' / 's' a FIN
 * from either. */
struct step {
	char what;
	const char *bytes;
};
#define FIN_C { 'c', NULL }
#define FIN_S { 's', NULL }

struct h1case {
	const char *name;
	struct step steps[10];
	const char *rows, *findings;
	unsigned interim;
	unsigned long long requests, responses;
	long long ka_timeout, ka_max;     /* -1: never sent */
	int expected_persistent;          /* 1, 0, -1 unknown */
	const char *protocol;
};

#define GET(path) "GET " path " HTTP/1.1\r\nHost: h\r\n\r\n"
#define OK2 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define KA(max) "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n" \
	"Keep-Alive: timeout=5, max=" #max "\r\n\r\nok"

/* The chunked body below, counted on the wire: "5\r\nhello\r\n" 10,
 * "6;ext=1\r\n" 9, " world\r\n" 8, "0\r\n" 3, "X-Checksum: abc\r\n" 17,
 * the final "\r\n" 2: 49 bytes. */
#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" \
	"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n"

static const struct h1case CASES[] = {
	/* RFC 9112 §9.3: HTTP/1.1 persists unless "close" is sent; three
	 * requests, each after the response before, on one connection.  The
	 * server's Keep-Alive (RFC 2068 §19.7.1.1) counts max down as Apache's
	 * MaxKeepAliveRequests does: the facts keep the timeout and the last
	 * max (docs/schema.md, ka_max_advertised: the last value sent). */
	{ "keep-alive sequence of three",
	  { { 'C', GET("/a") }, { 'S', KA(100) }, { 'C', GET("/b") }, { 'S', KA(99) },
	    { 'C', GET("/c") }, { 'S', KA(98) } },
	  "1 GET /a 200 body=2;2 GET /b 200 body=2;3 GET /c 200 body=2;", "",
	  0, 3, 3, 5, 98, 1, "http/1.1" },

	/* RFC 9112 §9.3.2: a client may send requests without waiting; the
	 * server answers in the order received, so the 404 is /2's.  /2 and /3
	 * went before the response before them: pipelined; both were complete
	 * while an earlier response was still coming: they waited
	 * (head-of-line-wait). */
	{ "pipelined requests answered in order",
	  { { 'C', GET("/1") GET("/2") GET("/3") },
	    { 'S', "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
		   "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop" OK2 } },
	  "1 GET /1 200 body=1;2 GET /2 404 body=3 pipelined;3 GET /3 200 body=2 pipelined;",
	  "pipelined;head-of-line-wait;", 0, 3, 3, -1, -1, 1, "http/1.1" },

	/* RFC 9110 §9.3.2 and RFC 9112 §6.3 (1): a response to HEAD has no
	 * body whatever its Content-Length says; the next response follows
	 * the head at once. */
	{ "HEAD response without a body",
	  { { 'C', "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n" },
	    { 'S', "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" },
	    { 'C', GET("/g") }, { 'S', OK2 } },
	  "1 HEAD /h 200 body=0;2 GET /g 200 body=2;", "", 0, 2, 2, -1, -1, 1, "http/1.1" },

	/* RFC 9112 §6.3 (1): 204 and 304 end at their head; a 304 may carry the
	 * Content-Length the 200 would have had (RFC 9110 §8.6) and still has
	 * no body. */
	{ "204 and 304 without a body",
	  { { 'C', GET("/n") }, { 'S', "HTTP/1.1 204 No Content\r\n\r\n" },
	    { 'C', "GET /m HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n" },
	    { 'S', "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 5\r\n\r\n" },
	    { 'C', GET("/x") }, { 'S', OK2 } },
	  "1 GET /n 204 body=0;2 GET /m 304 body=0;3 GET /x 200 body=2;", "",
	  0, 3, 3, -1, -1, 1, "http/1.1" },

	/* RFC 9110 §15.2 and §10.1.1: 100 Continue is interim; the client
	 * sends its body and the final 201 answers the same request (one row,
	 * one interim response, docs/keepalive.md). */
	{ "100 Continue before the final response",
	  { { 'C', "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n" },
	    { 'S', "HTTP/1.1 100 Continue\r\n\r\n" }, { 'C', "data" },
	    { 'S', "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok" },
	    { 'C', GET("/after") }, { 'S', OK2 } },
	  "1 POST /up 201 body=2;2 GET /after 200 body=2;", "", 1, 2, 2, -1, -1, 1, "http/1.1" },

	/* RFC 9112 §7.1: chunks with an extension, the last chunk, a trailer
	 * field (§7.1.2); the message ends after the trailer section, and the
	 * next response is read as one. */
	{ "chunked response with trailers",
	  { { 'C', GET("/c") }, { 'S', CHUNKED }, { 'C', GET("/d") }, { 'S', OK2 } },
	  "1 GET /c 200 body=49;2 GET /d 200 body=2;", "", 0, 2, 2, -1, -1, 1, "http/1.1" },

	/* RFC 9112 §6.3 (8): no Content-Length nor chunked: the body runs to
	 * the close (25 bytes); such a connection cannot persist (§9.3). */
	{ "close-delimited body ended by FIN",
	  { { 'C', GET("/s") }, { 'S', "HTTP/1.1 200 OK\r\n\r\nall of this until the FIN" },
	    FIN_S, FIN_C },
	  "1 GET /s 200 body=25;", "", 0, 1, 1, -1, -1, 0, "http/1.1" },

	/* RFC 9112 §9.3 (and RFC 2068 §19.7.1): HTTP/1.0 persists when the
	 * request asks keep-alive and the response says it too. */
	{ "HTTP/1.0 keep-alive asked and echoed",
	  { { 'C', "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" },
	    { 'S', "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok" },
	    { 'C', "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" },
	    { 'S', "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok" } },
	  "1 GET /a 200 body=2;2 GET /b 200 body=2;", "", 0, 2, 2, -1, -1, 1, "http/1.0" },

	/* ... and does not when the HTTP/1.0 response leaves it out: the
	 * server closes after it (docs/keepalive.md). */
	{ "HTTP/1.0 keep-alive asked, not echoed",
	  { { 'C', "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n" },
	    { 'S', "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok" }, FIN_S, FIN_C },
	  "1 GET /a 200 body=2;", "http10-keepalive-not-echoed;", 0, 1, 1, -1, -1, 0, "http/1.0" },

	/* RFC 9112 §9.3: HTTP/1.0 without keep-alive closes; nothing was asked,
	 * so nothing was refused. */
	{ "HTTP/1.0 without keep-alive",
	  { { 'C', "GET /a HTTP/1.0\r\n\r\n" },
	    { 'S', "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok" }, FIN_S, FIN_C },
	  "1 GET /a 200 body=2;", "", 0, 1, 1, -1, -1, 0, "http/1.0" },

	/* RFC 9112 §9.6: a client that sent "close" sends no further request.
	 * This one sent two at once (as in nginx-request-after-close); the
	 * server answers the first and closes: the second has no response and
	 * went before the first's response (pipelined). */
	{ "request after the client announced close",
	  { { 'C', "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" GET("/b") },
	    { 'S', "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" },
	    FIN_S, FIN_C },
	  "1 GET /a 200 body=2;2 GET /b 0 body=-1 pipelined;",
	  "request-after-close;request-without-response;pipelined;", 0, 2, 1, -1, -1, 0,
	  "http/1.1" },

	/* RFC 9112 §9.6: after a response with "close" the client must not
	 * send another request on the connection. */
	{ "request after the server announced close",
	  { { 'C', GET("/a") },
	    { 'S', "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok" },
	    { 'C', GET("/b") }, FIN_S, FIN_C },
	  "1 GET /a 200 body=2;2 GET /b 0 body=-1;", "request-after-close;request-without-response;",
	  0, 2, 1, -1, -1, 0, "http/1.1" },

	/* RFC 9112 §9.3: responses answer requests in order; a second
	 * response (a 408 sent to an idle connection) answers none. */
	{ "response without a request",
	  { { 'C', GET("/a") }, { 'S', OK2 },
	    { 'S', "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n" },
	    FIN_S, FIN_C },
	  "1 GET /a 200 body=2;", "response-without-request;", 0, 1, 1, -1, -1, 1, "http/1.1" },

	/* A request the server never answered before both sides closed. */
	{ "request without a response at the end",
	  { { 'C', GET("/a") }, { 'S', OK2 }, { 'C', GET("/b") }, FIN_C, FIN_S },
	  "1 GET /a 200 body=2;2 GET /b 0 body=-1;", "request-without-response;",
	  0, 2, 1, -1, -1, 1, "http/1.1" },

	/* No response at all: whether the connection would persist is
	 * unknown (§9.3 decides on the response). */
	{ "a lone request",
	  { { 'C', GET("/a") }, FIN_C },
	  "1 GET /a 0 body=-1;", "request-without-response;", 0, 1, 0, -1, -1, -1, "http/1.1" },
};

/* ---- running a case ----------------------------------------------------- */

static void run_case(const struct h1case *k, size_t piece)
{
	rows[0] = '\0';
	interim = 0;
	memset(&last, 0, sizeof last);
	struct tu_conn c;
	tu_conn_start(&c, 80, &out, on_done, NULL);
	for (size_t i = 0; i < KL_ARRAY_LEN(k->steps) && k->steps[i].what; i++) {
		const struct step *s = &k->steps[i];
		switch (s->what) {
		case 'C': tu_conn_send(&c, KL_TO_SERVER, s->bytes, strlen(s->bytes), piece); break;
		case 'S': tu_conn_send(&c, KL_TO_CLIENT, s->bytes, strlen(s->bytes), piece); break;
		case 'c': tu_conn_fin(&c, KL_TO_SERVER); break;
		case 's': tu_conn_fin(&c, KL_TO_CLIENT); break;
		default: cr_assert_fail("%s: step %c", k->name, s->what);
		}
	}
	tu_conn_end(&c);
	const char *how = piece ? "bytewise" : "whole";
	cr_assert_eq(c.ended, 1, "%s (%s): %d connections ended", k->name, how, c.ended);
	cr_expect_str_eq(rows, k->rows, "%s (%s): rows", k->name, how);
	cr_expect_str_eq(c.findings, k->findings, "%s (%s): findings", k->name, how);
	cr_expect_str_eq(c.protocol, k->protocol, "%s (%s)", k->name, how);
	cr_assert(last.http, "%s (%s): no HTTP facts", k->name, how);
	const struct http_facts *h = &last.h;
	cr_expect_eq(h->requests, k->requests, "%s (%s): requests %llu", k->name, how,
		     (unsigned long long)h->requests);
	cr_expect_eq(h->responses, k->responses, "%s (%s): responses %llu", k->name, how,
		     (unsigned long long)h->responses);
	cr_expect_eq(h->ka_timeout_advertised, k->ka_timeout, "%s (%s): ka timeout %lld", k->name,
		     how, (long long)h->ka_timeout_advertised);
	cr_expect_eq(h->ka_max_advertised, k->ka_max, "%s (%s): ka max %lld", k->name, how,
		     (long long)h->ka_max_advertised);
	cr_expect_eq(h->expected_persistent, k->expected_persistent,
		     "%s (%s): expected_persistent %d", k->name, how, h->expected_persistent);
	cr_expect_eq(interim, k->interim, "%s (%s): interim responses %u", k->name, how, interim);
}

Test(http1, pairing_and_facts_table)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(CASES); i++) {
		run_case(&CASES[i], 0);
		run_case(&CASES[i], 1);
	}
}

/* The Keep-Alive facts keep the first max as well (the analysis compares
 * it with the requests carried, docs/keepalive.md), and the last request's
 * number. */
Test(http1, keep_alive_first_max_and_last_request)
{
	run_case(&CASES[0], 0);
	cr_expect_eq(last.h.ka_max_first, 100);
	cr_expect_eq(last.h.last_request_seq, 3);
	cr_expect_eq(last.h.pipelined_requests, 0);
	run_case(&CASES[1], 0);
	cr_expect_eq(last.h.pipelined_requests, 2);
	cr_expect_eq(last.h.ka_max_first, -1);
}
