/*
 * findings.h - the registry of finding kinds.
 *
 * Every kind of `findings` row is declared once, here: its stored name,
 * how much it matters, a one-line meaning (the report prints it) and the
 * document that states its rule.  Emitters name a kind by its enum
 * constant (FINDING_PARSE_ERROR), so a misspelt kind does not compile; the
 * store, the report, the JSON and the docs test all read this table.
 * Stored names are part of the documented schema: a kind only ever gains
 * new neighbours, it is never renamed.
 */
#ifndef KALENS_FINDINGS_H
#define KALENS_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

/* How a report ranks a kind: requests that failed or went wrong, then
 * reuse thrown away, then what is worth knowing. */
enum finding_impact { FINDING_IMPACT_FAILURE, FINDING_IMPACT_WASTE, FINDING_IMPACT_INFO };

/* X(ID, "stored-name", IMPACT, "docs/FILE.md", flags, "one-line meaning")
 * flags: PER_SERVER when view keepalive_compliance counts it per server
 * (column: the ID, which SQL reads without regard to case), else NONE.  Order: the report's
 * order within an impact class when counts tie. */
#define FINDING_KINDS(X)                                                                        \
	X(IDLE_CLOSE_RACE, "idle-close-race", FAILURE, "docs/keepalive.md", PER_SERVER,  \
	  "request sent as the server closed the idle connection; no response")                   \
	X(REQUEST_DROPPED_BY_SERVER, "request-dropped-by-server", FAILURE, "docs/keepalive.md",    \
	  PER_SERVER, "the server closed with a request outstanding, sent well before the close")    \
	X(RETRIED_REQUEST, "retried-request", FAILURE, "docs/keepalive.md", PER_SERVER,  \
	  "the client sent a request left unanswered by a server close again on a new connection") \
	X(REQUEST_AFTER_CLOSE, "request-after-close", FAILURE, "docs/keepalive.md",              \
	  PER_SERVER, "request sent after Connection: close was announced")               \
	X(REQUEST_WITHOUT_RESPONSE, "request-without-response", FAILURE, "docs/schema.md", NONE,    \
	  "requests with no response in the capture")                                             \
	X(RESPONSE_WITHOUT_REQUEST, "response-without-request", FAILURE, "docs/schema.md", NONE,    \
	  "responses with no request in the capture")                                             \
	X(PARSE_ERROR, "parse-error", FAILURE, "docs/schema.md", NONE,                              \
	  "messages that break RFC 9112")                                                         \
	X(HEADER_TOO_LARGE, "header-too-large", FAILURE, "docs/schema.md", NONE,                    \
	  "heads over --head-limit, skipped")                                                     \
	X(KEEPALIVE_IGNORED_BY_SERVER, "keepalive-ignored-by-server", WASTE, "docs/keepalive.md",\
	  PER_SERVER, "server closed a kept-alive connection early, unannounced")         \
	X(HTTP10_KEEPALIVE_NOT_ECHOED, "http10-keepalive-not-echoed", WASTE, "docs/keepalive.md",\
	  PER_SERVER, "HTTP/1.0 keep-alive asked, not granted")                           \
	X(HTTP10_RESPONSE, "http10-response", WASTE, "docs/keepalive.md", PER_SERVER,            \
	  "HTTP/1.1 request answered with HTTP/1.0 (persists only with keep-alive)")             \
	X(SHORT_LIVED_CONNECTION, "short-lived-connection", WASTE, "docs/keepalive.md",          \
	  PER_SERVER, "one request, while the client soon opened another: missed reuse")  \
	X(CLIENT_CLOSED_REUSABLE, "client-closed-reusable", WASTE, "docs/keepalive.md",          \
	  PER_SERVER, "client closed a connection the server would have kept")            \
	X(UNUSED_CONNECTION, "unused-connection", WASTE, "docs/keepalive.md", NONE,               \
	  "opened and closed (or left) without a byte sent: a handshake for nothing")             \
	X(SERVER_IDLE_TIMEOUT, "server-idle-timeout", INFO, "docs/keepalive.md",                 \
	  PER_SERVER, "server closed an idle connection at its timeout")                  \
	X(KEEPALIVE_MAX_REACHED, "keepalive-max-reached", INFO, "docs/keepalive.md",             \
	  PER_SERVER, "server ended reuse after its request limit")                       \
	X(CLOSED_AFTER_CONNECTION_CLOSE, "closed-after-connection-close", INFO,                  \
	  "docs/keepalive.md", PER_SERVER, "closed after Connection: close, as announced")\
	X(PIPELINED, "pipelined", INFO, "docs/keepalive.md", PER_SERVER,                 \
	  "connections with pipelined requests")                                                  \
	X(HEAD_OF_LINE_WAIT, "head-of-line-wait", INFO, "docs/schema.md", NONE,                     \
	  "pipelined responses that waited behind earlier ones")                                  \
	X(HIDDEN_REQUESTS, "hidden-requests", INFO, "docs/keepalive.md", NONE,                      \
	  "requests estimated lost in capture gaps")                                              \
	X(REASSEMBLY_GAP, "reassembly-gap", INFO, "docs/schema.md", NONE,                           \
	  "bytes missing from the capture")                                                       \
	X(RESYNC, "resync", INFO, "docs/schema.md", NONE, "parser skipped to the next message")     \
	X(H2_CONNECTION_SPECIFIC_HEADER, "h2-connection-specific-header", FAILURE,               \
	  "docs/http2.md", PER_SERVER,                                                    \
	  "HTTP/2 responses or requests with a forbidden Connection-type field (RFC 9113 8.2.2)") \
	X(GOAWAY_WITH_ACTIVE_STREAMS, "goaway-with-active-streams", FAILURE, "docs/http2.md",    \
	  PER_SERVER, "HTTP/2 GOAWAY while streams were open")                            \
	X(H2_IDLE_CLOSE, "h2-idle-close", INFO, "docs/http2.md", PER_SERVER,             \
	  "HTTP/2 server ended an idle connection with GOAWAY")                                   \
	X(H2_PROTOCOL_ERROR, "h2-protocol-error", INFO, "docs/http2.md", NONE,                      \
	  "HTTP/2 frames that break the protocol")                                                \
	X(TLS_DECRYPT_ERROR, "tls-decrypt-error", INFO, "docs/tls.md", NONE,                        \
	  "TLS records the key log did not open (wrong key, records missed)")                     \
	X(TLS_PARSE_ERROR, "tls-parse-error", INFO, "docs/tls.md", NONE,                            \
	  "TLS record layer or hello that does not parse")                                         \
	X(STACK_TOO_DEEP, "stack-too-deep", INFO, "docs/stacking.md", NONE,                         \
	  "more protocols inside one another than kalens follows")                                  \
	X(TUNNEL_NOT_READ, "tunnel-not-read", INFO, "docs/stacking.md", NONE,                       \
	  "a tunnel or switched protocol whose bytes no dissector recognised")                      \
	X(SOCKS_ERROR, "socks-error", INFO, "docs/stacking.md", NONE,                               \
	  "SOCKS handshake refused, cut short or malformed")                                        \
	X(STARTTLS_REFUSED, "starttls-refused", INFO, "docs/stacking.md", NONE,                     \
	  "STARTTLS (or AUTH TLS, STLS) asked and refused: no TLS followed")                       \
	X(LENIENT_REQUEST_SYNTAX, "lenient-request-syntax", INFO, "docs/schema.md", NONE,           \
	  "requests read by a leniency RFC 9112 allows (whitespace runs, bare LF, empty lines)")

/* Flags, named in the list without the prefix. */
#define FINDING_FLAG_NONE 0u
#define FINDING_FLAG_PER_SERVER 1u   /* view keepalive_compliance counts it per server */

/* " SUM(kind = 'name') AS ID," for each PER_SERVER kind: the counts of
 * view keepalive_compliance, as one string literal. */
#define FINDING_SQL_SEL_PER_SERVER(x) x
#define FINDING_SQL_SEL_NONE(x)
#define FINDING_SQL_CAT_(a, b) a##b
#define FINDING_SQL_COUNT_(id, name, impact, doc, flags, meaning) \
	FINDING_SQL_CAT_(FINDING_SQL_SEL_, flags)(" SUM(kind = '" name "') AS " #id ",")
#define FINDING_SQL_PER_SERVER_COUNTS FINDING_KINDS(FINDING_SQL_COUNT_)

enum finding_kind {
#define FINDING_ENUM_(id, name, impact, doc, flags, meaning) FINDING_##id,
	FINDING_KINDS(FINDING_ENUM_)
#undef FINDING_ENUM_
	FINDING_KIND_COUNT
};

struct finding_kind_info {
	const char *name;             /* as stored in findings.kind */
	enum finding_impact impact;
	const char *doc;              /* the document that states its rule */
	unsigned flags;               /* FINDING_FLAG_* */
	const char *meaning;          /* one line */
};

/* The entry of kind k (k < FINDING_KIND_COUNT); static storage. */
const struct finding_kind_info *finding_kind(enum finding_kind k);

/* The stored name of k, or NULL when k is out of range. */
const char *finding_kind_name(enum finding_kind k);

/* The kind stored as `name` (a database may hold kinds of a newer kalens):
 * true and *k, or false. */
bool finding_kind_lookup(const char *name, enum finding_kind *k);

/* An impact class as JSON and SQL name it: "failure", "waste", "info";
 * NULL when out of range. */
const char *finding_impact_name(enum finding_impact i);

/* A heading for an impact class ("requests that failed"). */
const char *finding_impact_heading(enum finding_impact i);

#endif
