/*
 * http1_parser.h - an incremental HTTP/1.x message parser for one
 * direction of a connection (requests, or responses).
 *
 * Bytes arrive in arbitrary pieces (http1_parser_feed), with explicit holes
 * (http1_parser_gap) and an end (http1_parser_eof).  The parser finds each
 * message's head (start line and header fields), tells its owner through
 * callbacks, then skips the body by its framing (RFC 9112 §6.3) without
 * copying it.  A head that arrives in one piece is parsed in place; only a
 * head split across pieces is copied, into a per-parser buffer bounded by
 * the head limit.  Nothing is allocated per message.
 *
 * Framing, as RFC 9112 §6.3 orders it:
 *  - a response to HEAD, any 1xx, 204 and 304 has no body (the owner says
 *    "response to HEAD" through the head callback's return value);
 *  - 101 Switching Protocols, and a 2xx response to CONNECT (owner says so)
 *    end HTTP/1 on this direction: the rest is a tunnel and is skipped;
 *  - Transfer-Encoding whose final coding is chunked: chunked body (chunk
 *    extensions ignored, trailer fields skipped), even with Content-Length;
 *  - a response with Transfer-Encoding not ending in chunked: body until
 *    the connection closes; a request with it is a parse error (§6.3.4);
 *  - Content-Length (one valid value, or a list of identical values);
 *    an invalid or conflicting Content-Length is a parse error;
 *  - otherwise a response's body runs until the connection closes, and a
 *    request has no body.
 *
 * A head whose start line is valid but which has an invalid field line (no
 * colon, whitespace or other non-token bytes in the name: RFC 9112 §5.1)
 * is reported with the fields before that line, then an error follows: the
 * server answers such a request (400), so it is a request all the same, but
 * its framing cannot be trusted.  A request line must have an HTTP-version
 * (RFC 9112 §3); one that starts "HTTP/" with a malformed number is taken
 * as HTTP/1.0.  A stream whose first byte cannot start a message of its
 * direction is reported at once.
 *
 * Leniencies RFC 9112 allows a recipient are taken, and said in the head
 * (HTTP1_LENIENT_*): a request-line split on runs of SP and HTAB, with
 * whitespace after the version ignored (§3: "parse on whitespace-delimited
 * word boundaries"); a line ended by LF alone (§2.2); empty lines before a
 * start line (§2.2).  Whitespace before the method, or a bare CR as a
 * separator, stays a syntax error (§3 allows them too, but they are what
 * request smuggling is made of, and servers reject them).
 *
 * Errors do not stop the parser: after a parse error, an oversized head or
 * a gap that breaks the framing, it resynchronises at the next line that
 * starts like a message of its direction ("METHOD SP" or HTAB for requests,
 * "HTTP/1." for responses) and reports how many bytes it skipped.  A gap
 * inside a body of known length is not an error: the body is just shorter
 * on the wire than in the capture.
 */
#ifndef KALENS_HTTP1_PARSER_H
#define KALENS_HTTP1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kl.h"

#define HTTP1_HEAD_LIMIT_DEFAULT (64u * 1024)
#define HTTP1_HEAD_LIMIT_MIN 1024u

/* Raw header values are kept cut at HTTP1_VALUE_KEEP - 1 bytes (the flags
 * and numbers derived from them are computed on the whole value). */
#define HTTP1_VALUE_KEEP 256

/* Connection / Proxy-Connection tokens (case-insensitive). */
#define HTTP1_CONN_KEEP_ALIVE 0x1u
#define HTTP1_CONN_CLOSE 0x2u
#define HTTP1_CONN_UPGRADE 0x4u
#define HTTP1_CONN_OTHER 0x8u   /* any other token */

/* Leniencies RFC 9112 allows a recipient, by which a head was read
 * (struct http1_head.lenient); a head that needs none has 0. */
#define HTTP1_LENIENT_WHITESPACE 0x1u  /* request-line parts apart by other than one SP,
					* or whitespace after the version (§3) */
#define HTTP1_LENIENT_BARE_LF 0x2u     /* a line of the head ended by LF alone (§2.2) */
#define HTTP1_LENIENT_EMPTY_LINES 0x4u /* empty lines before the start line (§2.2) */

/* A method is at most this long (the longest registered one, RFC 9110 §9
 * and the IANA registry: UPDATEREDIRECTREF, 17). */
#define HTTP1_METHOD_MAX 24u

struct http1_span {
	const char *p;                /* borrowed for the callback only */
	size_t n;
};

/* One message head, valid for the duration of the head callback. */
struct http1_head {
	bool is_request;
	struct http1_span method;     /* requests: "GET" */
	struct http1_span target;     /* requests: "/index.html" */
	int status;                   /* responses: 100..999 */
	struct http1_span reason;     /* responses */
	uint8_t version_major, version_minor;   /* HTTP/1.1 -> 1, 1 */
	struct http1_span version;    /* as written ("HTTP/1.1") */
	bool version_malformed;       /* requests only: "HTTP/" then not d.d, taken as 1.0 */
	unsigned lenient;             /* HTTP1_LENIENT_*: how the head was read */

	int64_t content_length;       /* -1: absent */
	bool chunked;                 /* Transfer-Encoding ends in chunked */
	bool transfer_encoding;       /* Transfer-Encoding present */

	unsigned connection;          /* HTTP1_CONN_* from every Connection field */
	unsigned proxy_connection;    /* same, from Proxy-Connection */
	bool has_connection, has_keep_alive, has_proxy_connection;
	/* Raw values, several fields of a name joined with ", ", cut at
	 * HTTP1_VALUE_KEEP - 1 bytes. */
	struct http1_span connection_raw, keep_alive_raw, proxy_connection_raw;
	struct http1_span host, upgrade;
	int64_t ka_timeout, ka_max;   /* Keep-Alive: timeout=, max=; -1 absent */
	uint64_t head_bytes;          /* bytes of the head on the wire */
};

/* What the owner tells the parser about a response's body (the parser
 * cannot know the request method). */
enum http1_body_hint {
	HTTP1_BODY_AS_FRAMED = 0,     /* apply §6.3 from the head alone */
	HTTP1_BODY_NONE,              /* response to HEAD */
	HTTP1_BODY_TUNNEL,            /* 2xx to CONNECT: stop parsing.  Requests: a
				       * CONNECT or an upgrade without a body: stop
				       * after it until http1_parser_resume() */
};

enum http1_error {
	HTTP1_ERR_SYNTAX = 1,         /* start line or field syntax */
	HTTP1_ERR_HEAD_TOO_LARGE,     /* head over the limit */
	HTTP1_ERR_BAD_LENGTH,         /* invalid/conflicting Content-Length, bad chunk size */
	HTTP1_ERR_GAP,                /* a gap broke the framing */
};

struct http1_callbacks {
	/* A message head.  `ts` is the time of the piece that carried the
	 * message's first byte.  Responses return a hint; requests return
	 * HTTP1_BODY_AS_FRAMED. */
	enum http1_body_hint (*head)(void *ctx, const struct http1_head *h, kl_time ts);
	/* The message is complete; `body_bytes` bytes of body were skipped
	 * (on the wire, gaps included); `ts` is the time of its last byte. */
	void (*done)(void *ctx, uint64_t body_bytes, kl_time ts);
	/* Something went wrong; the current message, if any, is abandoned
	 * (done() is not called for it).  The parser resynchronises. */
	void (*error)(void *ctx, enum http1_error e, kl_time ts);
	/* Resynchronised after skipping `skipped` bytes (gaps included). */
	void (*resync)(void *ctx, uint64_t skipped, kl_time ts);
	/* The rest of this direction is not HTTP/1 (101, CONNECT tunnel). */
	void (*tunnel)(void *ctx, kl_time ts);
};

struct http1_parser;

/* Caller owns the parser; NULL on allocation failure.  `cb` and `ctx` are
 * borrowed and must outlive it. */
struct http1_parser *http1_parser_new(bool requests, size_t head_limit,
				      const struct http1_callbacks *cb, void *ctx);
void http1_parser_free(struct http1_parser *p);

/* Bytes p holds: itself and its head buffer (the memory cap, dissect.h). */
size_t http1_parser_mem(const struct http1_parser *p);

/* Bytes [p, p+n), next in the stream, seen at time ts. */
void http1_parser_feed(struct http1_parser *p, const uint8_t *data, size_t n, kl_time ts);

/* `len` bytes of the stream are missing. */
void http1_parser_gap(struct http1_parser *p, uint64_t len, kl_time ts);

/* The stream ended (FIN, RST or end of capture): a close-delimited body
 * completes; a message cut short is reported as an error. */
void http1_parser_eof(struct http1_parser *p, kl_time ts);

/* A request parser stopped by HTTP1_BODY_TUNNEL goes on (the server
 * declined the tunnel or upgrade) from the end of that request: the owner
 * feeds again every byte and gap that came since.  No effect otherwise. */
void http1_parser_resume(struct http1_parser *p);

/* True until the stream turned out not to be HTTP/1 at its start (the
 * first bytes are not a message head), or became a tunnel. */
bool http1_parser_active(const struct http1_parser *p);

/* After a 101 or a CONNECT tunnel: the stream offset (counting every byte
 * fed and every gap since the parser began) where the tunnel's bytes
 * begin, i.e. just after the head that switched.  False before. */
bool http1_parser_tunnel_at(const struct http1_parser *p, uint64_t *off);

/* Does this look like the start of an HTTP/1 message of that direction?
 * Requests: a method (token characters other than lower-case letters, at
 * most HTTP1_METHOD_MAX) then SP or HTAB (not the HTTP/2 preface
 * "PRI * HTTP/2"); responses: "HTTP/1.".  The parser's own test of where
 * a message may begin (at the start, between messages, when
 * resynchronising): 0 no, 1 yes, 2 need more bytes. */
int http1_looks_like_start(bool requests, const uint8_t *p, size_t n);

/* Is [p, p+n), the first bytes of a direction of a connection (or of a
 * segment of it, when a capture begins inside a message), evidence of
 * HTTP/1?  Stricter than http1_looks_like_start, since a wrong yes takes
 * a connection from the dissector of its real protocol:
 *  - requests (after any empty lines): a method as above, SP or HTAB
 *    runs, a request-target of a form RFC 9112 §3.2 allows for it
 *    (origin-form "/..." and absolute-form "scheme:..." for any method,
 *    authority-form "host:port" for CONNECT, "*" for OPTIONS), SP or HTAB
 *    runs, "HTTP/".  DIGIT "." DIGIT CRLF should follow, but a malformed
 *    version is a request all the same (the parser reads it as 1.0,
 *    servers answer it).  Also "GET" with an origin- or absolute-form
 *    target and the line's end (HTTP/0.9, which the parser reports as an
 *    error), and CONNECT with an origin-form target (servers answer 400).
 *    When the bytes end before "HTTP/" is reached: with `last` (no more
 *    bytes will come), a registered method (RFC 9110 §9, PATCH, WebDAV)
 *    then whitespace and the start of a target of a form allowed for it is
 *    enough; without `last`, the answer is 2 while the bytes so far can
 *    begin such a line;
 *  - responses: "HTTP/1." DIGIT SP 3DIGIT (RFC 9112 §4).
 * 0 no, 1 yes, 2 need more bytes (never with `last`). */
int http1_evidence(bool requests, const uint8_t *p, size_t n, bool last);

#endif
