/*
 * test_detect.c - which dissector a connection's first bytes choose
 * (docs/stacking.md, "Recognising a protocol"): HTTP/1 by evidence, not
 * shape (http1_evidence, the HTTP/1 probe), and request-lines read by the
 * leniencies RFC 9112 allows a recipient (finding lenient-request-syntax,
 * docs/schema.md).
 *
 * The openings of other protocols are written from their RFCs (FTP RFC
 * 959, SMTP RFC 5321, POP3 RFC 1939, IMAP RFC 9051, NNTP RFC 3977, IRC RFC
 * 2812, RTSP RFC 2326, SIP RFC 3261), HTTP's from RFC 9110 §9 and RFC 9112
 * §2-§4; the verdicts expected are those rules', never kalens' output.
 * Connections go through a real flow table of the built-in dissectors
 * (testutil's tu_conn: every segment in an allocation of its exact size,
 * so ASan sees any read past it), whole and one byte per segment.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "http1.h"
#include "http1_parser.h"
#include "testutil.h"

/* ---- the probe on its own ------------------------------------------------ */

static int ev(bool requests, const char *s, bool last)
{
	size_t n = strlen(s);
	uint8_t *copy = malloc(n ? n : 1);      /* exactly its size: ASan sees over-reads */
	cr_assert_not_null(copy);
	memcpy(copy, s, n);
	int v = http1_evidence(requests, copy, n, last);
	free(copy);
	return v;
}

/* Every registered method (RFC 9110 §9, RFC 5789, RFC 4918 and the WebDAV
 * extensions) and extension tokens of token characters without lower-case
 * letters, with each target form RFC 9112 §3.2 allows. */
Test(detect, evidence_accepts_request_lines)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "PROPFIND",
		"PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "MKCALENDAR",
		"SEARCH", "MKWORKSPACE", "BASELINE-CONTROL", "UPDATEREDIRECTREF", "X_CUSTOM.2",
		"BREW", "CCM_POST", "M!#$%&'*+.^_`|~",
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "%s /index.html?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", methods[i]);
		cr_expect_eq(ev(true, line, false), 1, "%s", line);
		snprintf(line, sizeof line, "%s http://a.example/x HTTP/1.1\r\n", methods[i]);
		cr_expect_eq(ev(true, line, false), 1, "%s", line);          /* absolute-form */
	}
	static const char *const yes[] = {
		"CONNECT a.example:443 HTTP/1.1\r\n",          /* authority-form */
		"CONNECT 192.0.2.1:8080 HTTP/1.1\r\n",
		"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n",
		"OPTIONS * HTTP/1.1\r\n",                       /* asterisk-form */
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\n",                             /* bare LF (§2.2) */
		"\r\n\r\nGET / HTTP/1.1\r\n",                   /* empty lines first (§2.2) */
		"GET  /a \t HTTP/1.1 \r\n",                     /* whitespace runs (§3) */
		"GET\t/a\tHTTP/1.1\r\n",
		"GET / HTTP/1.\r\n",                            /* malformed version: a request */
		"GET /\r\n",                                    /* HTTP/0.9 */
		"GET / HTTP/1.1",                               /* "HTTP/" seen: enough */
		"CONNECT / HTTP/1.1\r\n",                       /* invalid, answered 400 */
	};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		cr_expect_eq(ev(true, yes[i], false), 1, "%s", yes[i]);
}

Test(detect, evidence_accepts_a_status_line_first)
{
	/* Mid-stream: the first bytes seen may be a response. */
	cr_expect_eq(ev(false, "HTTP/1.1 200 OK\r\n", false), 1);
	cr_expect_eq(ev(false, "HTTP/1.0 404 Not Found\r\n", false), 1);
	cr_expect_eq(ev(false, "HTTP/1.1 101 Switching Protocols\r\n", false), 1);
	cr_expect_eq(ev(false, "HTTP/1.1 200", false), 1);
	cr_expect_eq(ev(false, "HTTP/1.1 2", false), 2);
	cr_expect_eq(ev(false, "HTTP/1.1 2", true), 0);
	cr_expect_eq(ev(false, "", false), 2);
	cr_expect_eq(ev(false, "HTTP/2 200\r\n", false), 0);
	cr_expect_eq(ev(false, "HTTP/1.1 2OO OK\r\n", false), 0);
	cr_expect_eq(ev(false, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n", false), 0);
	cr_expect_eq(ev(false, "SIP/2.0 200 OK\r\n", false), 0);
	cr_expect_eq(ev(false, "220 mail.example ESMTP\r\n", false), 0);
	cr_expect_eq(ev(false, "GET / HTTP/1.1\r\n", false), 0);
}

/* A request-line cut before its "HTTP/": more is asked for, and once no
 * more will come (the probe budget), a registered method with a target's
 * start is enough, anything else is not. */
Test(detect, evidence_of_a_line_cut_at_the_budget)
{
	cr_expect_eq(ev(true, "", false), 2);
	cr_expect_eq(ev(true, "GE", false), 2);
	cr_expect_eq(ev(true, "GET", false), 2);
	cr_expect_eq(ev(true, "GET ", false), 2);
	cr_expect_eq(ev(true, "GET /ind", false), 2);
	cr_expect_eq(ev(true, "GET /index.html HTTP", false), 2);
	cr_expect_eq(ev(true, "GET /ind", true), 1);
	cr_expect_eq(ev(true, "GET http://a.exa", true), 1);
	cr_expect_eq(ev(true, "CONNECT a.example:4", true), 1);
	cr_expect_eq(ev(true, "OPTIONS *", true), 1);
	cr_expect_eq(ev(true, "GET ", true), 0);           /* no target yet */
	cr_expect_eq(ev(true, "GET", true), 0);
	cr_expect_eq(ev(true, "FOO /ind", true), 0);       /* extension: needs its version */
	cr_expect_eq(ev(true, "USER anonym", true), 0);
	cr_expect_eq(ev(true, "GET #x", false), 0);        /* no target begins so */
	cr_expect_eq(ev(true, "OPTIONS *x", false), 0);
	cr_expect_eq(ev(true, "GET 12", false), 0);        /* digits: CONNECT only */
	cr_expect_eq(ev(true, "CONNECT 12", false), 2);

	/* Through the dissector: DISSECT_PROBE_BYTES of a long URL are the
	 * budget; fewer ask for more. */
	char line[DISSECT_PROBE_BYTES + 1];
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', sizeof line - 5);
	cr_expect_eq(http1_dissector.probe(KL_TO_SERVER, (const uint8_t *)line, DISSECT_PROBE_BYTES),
		     DISSECT_YES);
	cr_expect_eq(http1_dissector.probe(KL_TO_SERVER, (const uint8_t *)line,
					   DISSECT_PROBE_BYTES - 1), DISSECT_MORE);
	memcpy(line, "XGT /", 5);
	cr_expect_eq(http1_dissector.probe(KL_TO_SERVER, (const uint8_t *)line, DISSECT_PROBE_BYTES),
		     DISSECT_NO);
}

/* The first lines clients of other protocols send, and servers' replies. */
Test(detect, evidence_rejects_other_protocols)
{
	static const char *const client[] = {
		/* FTP (RFC 959) */
		"USER anonymous\r\n", "PASS guest@\r\n", "EPSV\r\n", "TYPE I\r\n", "CWD /pub\r\n",
		"RETR /pub/file.txt\r\n", "LIST /\r\n", "AUTH TLS\r\n", "FEAT\r\n",
		/* SMTP (RFC 5321) */
		"EHLO client.example\r\n", "HELO client.example\r\n", "MAIL FROM:<a@example.org>\r\n",
		"RCPT TO:<b@example.org>\r\n", "DATA\r\n", "STARTTLS\r\n", "QUIT\r\n",
		"Subject: GET / HTTP/1.1\r\n",
		/* POP3 (RFC 1939) */
		"USER alice\r\n", "STAT\r\n", "RETR 1\r\n", "TOP 1 10\r\n", "CAPA\r\n", "STLS\r\n",
		/* IMAP (RFC 9051) */
		"a1 CAPABILITY\r\n", "A001 LOGIN alice secret\r\n", "A002 SELECT INBOX\r\n",
		"A003 FETCH 1:* (FLAGS)\r\n",
		/* NNTP (RFC 3977) */
		"CAPABILITIES\r\n", "GROUP misc.test\r\n", "HEAD 3000234\r\n",
		"ARTICLE <45223423@example.com>\r\n", "POST\r\n", "LIST ACTIVE\r\n",
		/* IRC (RFC 2812) */
		"NICK kalens\r\n", "USER kalens 0 * :kalens test\r\n", "CAP LS 302\r\n",
		"JOIN #test\r\n", "PRIVMSG #test :GET / HTTP/1.1\r\n", "PING :irc.example\r\n",
		/* RTSP (RFC 2326) */
		"OPTIONS rtsp://media.example.com/movie.mp4 RTSP/1.0\r\nCSeq: 1\r\n",
		"DESCRIBE rtsp://media.example.com/movie.mp4 RTSP/1.0\r\n",
		"SETUP rtsp://media.example.com/movie.mp4/track1 RTSP/1.0\r\n",
		"GET_PARAMETER rtsp://media.example.com/movie.mp4 RTSP/1.0\r\n",
		/* SIP (RFC 3261) */
		"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
		"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n",
		"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n",
		/* upper-case text, and what looks like HTTP but is not */
		"HELLO WORLD THIS IS NOT HTTP\r\n", "ABC DEF GHI\r\n", "GET OUT OF HERE\r\n",
		"GET READY HTTP\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "SSH-2.0-OpenSSH_9.6\r\n",
		"get / HTTP/1.1\r\n", " GET / HTTP/1.1\r\n", "GET /a\rHTTP/1.1\r\n",
		"POST /\r\n", "M-SEARCH * HTTP/1.1\r\n", "ABCDEFGHIJKLMNOPQRSTUVWXY / HTTP/1.1\r\n",
		"\x16\x03\x01\x02\x00\x01", "\x05\x01\x00",
	};
	for (size_t i = 0; i < sizeof client / sizeof client[0]; i++) {
		cr_expect_eq(ev(true, client[i], false), 0, "%s", client[i]);
		cr_expect_eq(ev(true, client[i], true), 0, "%s (last)", client[i]);
	}
	static const char *const server[] = {
		"220 (vsFTPd 3.0.3)\r\n", "220 mail.example ESMTP Exim 4.96\r\n",
		"+OK Dovecot ready.\r\n", "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n",
		"200 news.example.com InterNetNews server ready\r\n",
		":irc.example NOTICE * :*** Looking up your hostname\r\n",
		"RTSP/1.0 200 OK\r\n", "SIP/2.0 180 Ringing\r\n", "HTTPS/1.1 200 OK\r\n",
	};
	for (size_t i = 0; i < sizeof server / sizeof server[0]; i++)
		cr_expect_eq(ev(false, server[i], true), 0, "%s", server[i]);
}

/* ---- connections through the registry ------------------------------------ */

static char rows[4096];           /* "seq METHOD uri version status;" per request */
static char finds[4096];          /* "kind@seq;" per finding */
static char details[4096];        /* every finding's detail, "|" apart */
static char stack[128];

static void on_request(void *ctx, const struct request_record *r)
{
	(void)ctx;
	size_t l = strlen(rows);
	snprintf(rows + l, sizeof rows - l, "%llu %s %s %s %d;", (unsigned long long)r->seq,
		 r->method ? r->method : "-", r->uri ? r->uri : "-", r->version ? r->version : "-",
		 r->status);
}

static void on_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	size_t l = strlen(finds);
	snprintf(finds + l, sizeof finds - l, "%s@%llu;", finding_kind_name(f->kind),
		 (unsigned long long)f->request_seq);
	l = strlen(details);
	snprintf(details + l, sizeof details - l, "%s|", f->detail ? f->detail : "");
}

static void on_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	snprintf(stack, sizeof stack, "%s", r->stack);
}

static const struct dissect_output out = { on_request, on_finding, NULL };

/* One step of an exchange: who sends what. */
struct step {
	enum kl_dir dir;
	const char *s;
	size_t n;                     /* 0: strlen(s) */
};
#define C(x) { KL_TO_SERVER, (x), 0 }
#define S(x) { KL_TO_CLIENT, (x), 0 }
#define END { KL_TO_SERVER, NULL, 0 }

/* Play the steps on port `port`, each step in one segment (piece 0) or
 * in pieces of `piece` bytes; the stored protocol in *proto. */
static void play(uint16_t port, const struct step *st, size_t piece, char *proto, size_t pn)
{
	rows[0] = finds[0] = details[0] = stack[0] = '\0';
	struct tu_conn c;
	tu_conn_start(&c, port, &out, on_done, NULL);
	for (; st->s; st++)
		tu_conn_send(&c, st->dir, st->s, st->n ? st->n : strlen(st->s), piece);
	tu_conn_fin(&c, KL_TO_SERVER);
	tu_conn_fin(&c, KL_TO_CLIENT);
	tu_conn_end(&c);
	snprintf(proto, pn, "%s", c.protocol);
}

/* Sessions of other protocols, as their RFCs have them: never HTTP, no
 * request rows, no findings; the STARTTLS protocols are named by their
 * greeting, the others stay unknown. */
Test(detect, other_protocols_are_not_http_whole_or_byte_by_byte)
{
	static const struct step ftp[] = {
		S("220 (vsFTPd 3.0.3)\r\n"), C("USER anonymous\r\n"),
		S("331 Please specify the password.\r\n"), C("PASS \r\n"),
		S("230 Login successful.\r\n"), C("EPSV\r\n"),
		S("229 Entering Extended Passive Mode (|||40001|)\r\n"), C("RETR /pub/a.txt\r\n"),
		S("150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n"),
		C("QUIT\r\n"), S("221 Goodbye.\r\n"), END,
	};
	static const struct step irc[] = {
		C("CAP LS 302\r\nNICK kalens\r\nUSER kalens 0 * :kalens\r\n"),
		S(":irc.example NOTICE * :*** Looking up your hostname...\r\n"),
		S(":irc.example 001 kalens :Welcome to the Internet Relay Network\r\n"),
		/* (Not a request-line inside a message: every segment start is
		 * probed, so one byte per segment would find it.) */
		C("JOIN #test\r\n"), C("PRIVMSG #test :GET me a coffee\r\n"), C("QUIT :bye\r\n"),
		S("ERROR :Closing connection\r\n"), END,
	};
	static const struct step nntp[] = {
		S("200 news.example.com InterNetNews server INN 2.7 ready\r\n"),
		C("CAPABILITIES\r\n"), S("101 Capability list:\r\nVERSION 2\r\nREADER\r\n.\r\n"),
		C("GROUP misc.test\r\n"), S("211 1234 3000234 3002322 misc.test\r\n"),
		C("HEAD 3000234\r\n"), S("221 3000234 <45223423@example.com>\r\nPath: x\r\n.\r\n"),
		C("QUIT\r\n"), S("205 closing connection\r\n"), END,
	};
	static const struct step rtsp[] = {
		C("OPTIONS rtsp://media.example.com/movie.mp4 RTSP/1.0\r\nCSeq: 1\r\n\r\n"),
		S("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, TEARDOWN, PLAY\r\n\r\n"),
		C("DESCRIBE rtsp://media.example.com/movie.mp4 RTSP/1.0\r\nCSeq: 2\r\n\r\n"),
		S("RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 0\r\n\r\n"), END,
	};
	static const struct step sip[] = {
		C("OPTIONS sip:carol@chicago.example.com SIP/2.0\r\nCSeq: 63104 OPTIONS\r\n"
		  "Content-Length: 0\r\n\r\n"),
		S("SIP/2.0 200 OK\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 0\r\n\r\n"), END,
	};
	static const struct step pop3[] = {
		S("+OK Dovecot ready.\r\n"), C("USER alice\r\n"), S("+OK\r\n"), C("PASS x\r\n"),
		S("+OK Logged in.\r\n"), C("LIST\r\n"), S("+OK 0 messages:\r\n.\r\n"), C("QUIT\r\n"),
		S("+OK Logging out.\r\n"), END,
	};
	static const struct {
		const char *name;
		uint16_t port;
		const struct step *steps;
		const char *protocol;
	} cases[] = {
		{ "ftp", 21, ftp, "ftp" },
		{ "irc", 6667, irc, "unknown" },
		{ "nntp", 119, nntp, "unknown" },
		{ "rtsp", 554, rtsp, "unknown" },
		{ "sip", 5060, sip, "unknown" },
		{ "pop3", 110, pop3, "pop3" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t piece = 0; piece <= 1; piece++) {
			char proto[32];
			play(cases[i].port, cases[i].steps, piece, proto, sizeof proto);
			cr_expect_str_eq(proto, cases[i].protocol, "%s (pieces %zu)", cases[i].name, piece);
			cr_expect_str_eq(rows, "", "%s (pieces %zu)", cases[i].name, piece);
			cr_expect_str_eq(finds, "", "%s (pieces %zu)", cases[i].name, piece);
		}
	}
}

/* A minimal TLS 1.3 ClientHello and ServerHello (RFC 8446 §4.1.2, §4.1.3:
 * TLS_AES_128_GCM_SHA256, supported_versions). */
static const uint8_t client_hello[] = {
	0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x00,
};
static const uint8_t server_hello[] = {
	0x16, 0x03, 0x03, 0x00, 0x32, 0x02, 0x00, 0x00, 0x2e, 0x03, 0x03,
	32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
	16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
	0x00, 0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
};

/* An SMTP client that talks before the greeting (RFC 5321 §4.3.1 forbids
 * it; some do): its EHLO is the connection's first byte.  HTTP/1 used to
 * claim the connection on "EHLO "; the greeting now names SMTP, and the
 * STARTTLS that follows leads to TLS. */
Test(detect, smtp_client_talking_first_keeps_its_starttls)
{
	for (size_t piece = 0; piece <= 1; piece++) {
		const struct step smtp[] = {
			C("EHLO client.example\r\n"),
			S("220 mail.example ESMTP\r\n"),
			S("250-mail.example\r\n250 STARTTLS\r\n"),
			C("STARTTLS\r\n"),
			S("220 2.0.0 Ready to start TLS\r\n"),
			{ KL_TO_SERVER, (const char *)client_hello, sizeof client_hello },
			{ KL_TO_CLIENT, (const char *)server_hello, sizeof server_hello },
			END,
		};
		char proto[32];
		play(25, smtp, piece, proto, sizeof proto);
		cr_expect_str_eq(proto, "smtp", "pieces %zu", piece);
		cr_expect_str_eq(stack, "smtp > tls", "pieces %zu", piece);
		cr_expect_str_eq(rows, "", "pieces %zu", piece);
		cr_expect_str_eq(finds, "", "pieces %zu", piece);
	}
}

#define GET_OK "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/* A request-line typed one byte per segment, and one longer than the probe
 * budget in 100-byte segments: a registered method is recognised at the
 * budget and the whole line is read; an extension method's line must show
 * its version within the budget. */
Test(detect, request_line_in_pieces_and_over_the_budget)
{
	static const struct step typed[] = { C("GET /typed HTTP/1.1\r\nHost: a\r\n\r\n"), S(GET_OK), END };
	char proto[32];
	play(80, typed, 1, proto, sizeof proto);
	cr_expect_str_eq(rows, "1 GET /typed HTTP/1.1 200;");
	cr_expect_str_eq(proto, "http/1.1");

	char line[1700];
	size_t k = (size_t)snprintf(line, sizeof line, "GET /");
	memset(line + k, 'a', 1500);
	k += 1500;
	snprintf(line + k, sizeof line - k, " HTTP/1.1\r\nHost: a\r\n\r\n");
	const struct step longline[] = { C(line), S(GET_OK), END };
	play(80, longline, 100, proto, sizeof proto);
	cr_expect_str_eq(proto, "http/1.1");
	cr_expect(strncmp(rows, "1 GET /aaaa", 11) == 0 && strstr(rows, "a HTTP/1.1 200;") &&
		  strlen(rows) == strlen("1 GET / HTTP/1.1 200;") + 1500, "%.60s...", rows);

	/* An extension method: the same line in 100-byte pieces is not
	 * recognised from the client; the response still is. */
	memcpy(line, "FOO", 3);
	play(80, longline, 100, proto, sizeof proto);
	cr_expect_str_eq(proto, "http/1.1");
	cr_expect_str_eq(rows, "");
	cr_expect_str_eq(finds, "response-without-request@0;");
	/* ... in one segment, its version is there. */
	play(80, longline, 0, proto, sizeof proto);
	cr_expect(strncmp(rows, "1 FOO /aaaa", 11) == 0, "%.60s", rows);
}

/* Mid-stream pickup: a capture that begins inside a request body, then a
 * response, then the next request. */
Test(detect, capture_beginning_inside_a_message)
{
	static const struct step mid[] = {
		C("the last bytes of a request body\r\n"), S(GET_OK),
		C("GET /next HTTP/1.1\r\nHost: a\r\n\r\n"), S(GET_OK), END,
	};
	char proto[32];
	play(80, mid, 0, proto, sizeof proto);
	cr_expect_str_eq(proto, "http/1.1");
	cr_expect_str_eq(rows, "1 GET /next HTTP/1.1 200;");
	cr_expect_str_eq(finds, "response-without-request@0;");

	/* Kept bytes that led nowhere ("ABC" may begin a method) do not hide a
	 * request the next segment begins. */
	static const struct step kept[] = {
		C("ABC"), C("\r\nGET /b HTTP/1.1\r\n\r\n"), S(GET_OK), END,
	};
	play(80, kept, 0, proto, sizeof proto);
	cr_expect_str_eq(rows, "1 GET /b HTTP/1.1 200;");
	cr_expect_str_eq(finds, "lenient-request-syntax@1;");
}

/* Roles by content: requests from the TCP server (a reverse tunnel's agent
 * connection) are read as requests, whichever side speaks first, whole and
 * byte by byte; a status line from the TCP client says the same.  The
 * stored TCP roles do not change (http_client says who asked). */
Test(detect, requests_from_the_tcp_server)
{
	static const struct step server_asks[] = {
		S("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"), C(GET_OK),
		S("GET /b HTTP/1.1\r\nHost: a\r\n\r\n"), C(GET_OK), END,
	};
	static const struct step answer_seen_first[] = {
		C(GET_OK), S("GET /b HTTP/1.1\r\nHost: a\r\n\r\n"), C(GET_OK), END,
	};
	char proto[32];
	for (size_t piece = 0; piece < 2; piece++) {
		play(8080, server_asks, piece, proto, sizeof proto);
		cr_expect_str_eq(proto, "http/1.1", "piece %zu", piece);
		cr_expect_str_eq(rows, "1 GET /a HTTP/1.1 200;2 GET /b HTTP/1.1 200;", "piece %zu",
				 piece);
		cr_expect_str_eq(finds, "", "piece %zu", piece);
		play(8080, answer_seen_first, piece, proto, sizeof proto);
		cr_expect_str_eq(rows, "1 GET /b HTTP/1.1 200;", "piece %zu", piece);
		cr_expect_str_eq(finds, "response-without-request@0;", "piece %zu", piece);
	}
}

/* ---- item 4: request-lines read by RFC 9112's leniencies ---------------- */

/* Each line, at the start of a connection and after a strict request,
 * whole and one byte per segment: the row as RFC 9112 §3 reads it on
 * whitespace boundaries, and one lenient-request-syntax finding on it that
 * names the leniency. */
Test(detect, lenient_request_lines_are_kept_with_a_finding)
{
	static const struct {
		const char *wire, *method, *uri, *version, *says;
	} cases[] = {
		{ "GET  /a  HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a", "HTTP/1.1", "§3" },
		{ "GET\t/a HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a", "HTTP/1.1", "§3" },
		{ "GET /a\t\tHTTP/1.0\r\n\r\n", "GET", "/a", "HTTP/1.0", "§3" },
		{ "GET /a HTTP/1.1 \r\nHost: a\r\n\r\n", "GET", "/a", "HTTP/1.1", "§3" },
		{ "POST \t /form HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy", "POST", "/form", "HTTP/1.1",
		  "§3" },
		{ "\r\n\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a", "HTTP/1.1", "empty lines" },
		{ "\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a", "HTTP/1.1", "empty lines" },
		{ "GET /a HTTP/1.1\nHost: a\n\n", "GET", "/a", "HTTP/1.1", "bare LF" },
		{ "GET /a HTTP/1.1\r\nHost: a\n\r\n", "GET", "/a", "HTTP/1.1", "bare LF" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int after = 0; after <= 1; after++) {
			for (size_t piece = 0; piece <= 1; piece++) {
				const struct step st[] = {
					C(after ? "GET /first HTTP/1.1\r\nHost: a\r\n\r\n" : ""), S(after ? GET_OK : ""),
					C(cases[i].wire), S(GET_OK), END,
				};
				char proto[32], want[256];
				play(80, after ? st : st + 2, piece, proto, sizeof proto);
				unsigned seq = after ? 2 : 1;
				snprintf(want, sizeof want, "%s%u %s %s %s 200;",
					 after ? "1 GET /first HTTP/1.1 200;" : "", seq, cases[i].method,
					 cases[i].uri, cases[i].version);
				cr_expect_str_eq(rows, want, "%s (after %d, pieces %zu)", cases[i].wire,
						 after, piece);
				snprintf(want, sizeof want, "lenient-request-syntax@%u;", seq);
				cr_expect_str_eq(finds, want, "%s (after %d, pieces %zu)", cases[i].wire,
						 after, piece);
				cr_expect(strstr(details, cases[i].says), "%s: detail %s", cases[i].wire,
					  details);
				cr_expect(strstr(details, "1 requests"), "%s: detail %s", cases[i].wire,
					  details);
			}
		}
	}
}

/* One finding per leniency and connection, counting its requests, on the
 * first; a strict request has none. */
Test(detect, lenient_findings_count_per_connection)
{
	static const struct step st[] = {
		C("GET /strict HTTP/1.1\r\n\r\n"), S(GET_OK),
		C("GET  /ws1 HTTP/1.1\r\n\r\n"), S(GET_OK),
		C("GET /lf HTTP/1.1\n\n"), S(GET_OK),
		C("GET\t/ws2 HTTP/1.1\n\n"), S(GET_OK), END,
	};
	char proto[32];
	play(80, st, 0, proto, sizeof proto);
	cr_expect_str_eq(rows, "1 GET /strict HTTP/1.1 200;2 GET /ws1 HTTP/1.1 200;"
			       "3 GET /lf HTTP/1.1 200;4 GET /ws2 HTTP/1.1 200;");
	cr_expect_str_eq(finds, "lenient-request-syntax@2;lenient-request-syntax@3;");
	cr_expect(strstr(details, "2 requests: request-line parts") != NULL, "%s", details);
	cr_expect(strstr(details, "2 requests: lines ended by a bare LF") != NULL, "%s", details);

	static const struct step strict[] = { C("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), S(GET_OK), END };
	play(80, strict, 0, proto, sizeof proto);
	cr_expect_str_eq(finds, "");
}

/* What §3 does not make a request-line stays a parse error (after a valid
 * request, so the connection is HTTP): whitespace before the method, a
 * bare CR between parts, a fourth word that is no version. */
Test(detect, malformed_request_lines_stay_parse_errors)
{
	static const char *const bad[] = {
		" GET /a HTTP/1.1\r\n\r\n",
		"GET /a\rHTTP/1.1\r\n\r\n",
		"GET /a b HTTP/1.1\r\n\r\n",
		"GET\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct step st[] = {
			C("GET /first HTTP/1.1\r\n\r\n"), S(GET_OK), C(bad[i]), END,
		};
		char proto[32];
		play(80, st, 0, proto, sizeof proto);
		cr_expect_str_eq(rows, "1 GET /first HTTP/1.1 200;", "%s", bad[i]);
		cr_expect(strstr(finds, "parse-error@0;") != NULL, "%s: %s", bad[i], finds);
		cr_expect(strstr(finds, "lenient") == NULL, "%s: %s", bad[i], finds);
	}
}

/* The same leniencies as nginx 1.22 met them (captures/generated/
 * make-lenient.sh: a python3 raw-socket client, one connection per case;
 * lenient/lenient-nginx.client.tsv has the status line nginx answered
 * each).  nginx reads two SPs, whitespace after the version, empty lines
 * before the request-line and bare LFs (200), and rejects HTAB between the
 * parts and SP before the method (400).  kalens decides by RFC 9112: §3
 * lets a recipient split on HTAB too, so that request is a row (with the
 * 400 nginx gave it) and a lenient-request-syntax finding; SP before the
 * method is no request-line for kalens either: no row, nginx's 400 is a
 * response without a request. */
Test(detect, lenient_request_lines_against_nginx)
{
	static const struct {
		const char *name, *finding;   /* the detail's words; NULL: no finding */
		bool row;
	} want[] = {
		{ "strict", NULL, true },
		{ "two-sp", "RFC 9112 §3", true },
		{ "htab", "RFC 9112 §3", true },
		{ "trailing-sp", "RFC 9112 §3", true },
		{ "empty-lines", "empty lines", true },
		{ "bare-lf", "bare LF", true },
		{ "space-first", NULL, false },
	};
	char cells[8][4][64];
	size_t nrec = tu_load_tsv(tu_src_path("captures/generated/lenient/lenient-nginx.client.tsv"),
				  &cells[0][0][0], 4, 64, 8);
	cr_assert_eq(nrec, KL_ARRAY_LEN(want));
	struct tu_db db;
	tu_db_read(&db, "", tu_src_path("captures/generated/lenient/lenient-nginx.pcap"));
	for (size_t i = 0; i < nrec; i++) {
		cr_assert_str_eq(cells[i][2], want[i].name);
		char sql[512], got[256];
		int status = atoi(cells[i][3] + strlen("HTTP/1.1 "));
		long long port = atoll(cells[i][1]);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM requests r JOIN connections c ON "
			 "c.id = r.conn_id WHERE c.client_port = %lld AND r.method = 'GET' AND "
			 "r.uri = '/small.html' AND r.version = 'HTTP/1.1' AND r.status = %d", port, status);
		cr_expect_eq(tu_db_int(&db, sql), want[i].row ? 1 : 0, "%s: the request row (nginx: %s)",
			     want[i].name, cells[i][3]);
		snprintf(sql, sizeof sql, "SELECT group_concat(f.detail, '|') FROM findings f JOIN "
			 "connections c ON c.id = f.conn_id WHERE c.client_port = %lld AND "
			 "f.kind = 'lenient-request-syntax'", port);
		const char *d = tu_db_text(&db, sql, got, sizeof got);
		if (want[i].finding)
			cr_expect(d && strstr(d, want[i].finding), "%s: finding %s", want[i].name,
				  d ? d : "none");
		else
			cr_expect_null(d, "%s: finding %s", want[i].name, d);
		snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM findings f JOIN connections c ON "
			 "c.id = f.conn_id WHERE c.client_port = %lld AND f.kind = "
			 "'response-without-request'", port);
		cr_expect_eq(tu_db_int(&db, sql), want[i].row ? 0 : 1, "%s", want[i].name);
	}
	tu_db_close(&db);
}
