/*
 * http_facts.h - what the HTTP dissectors (HTTP/1 and HTTP/2) know of a
 * connection's keep-alive, and what the keep-alive analysis adds
 * (keepalive.c): the HTTP columns of `connections` (docs/schema.md,
 * docs/keepalive.md).
 *
 * A dissector that reads HTTP on a connection fills this section at the
 * connection's end; one that reads after another (HTTP/2 after an h2c
 * upgrade, HTTP inside a tunnel) adds its counts and, when it saw requests,
 * its keep-alive state replaces the outer one's: the connection's last
 * exchanges decide how it ended.
 */
#ifndef KALENS_HTTP_FACTS_H
#define KALENS_HTTP_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn_record.h"
#include "facts.h"
#include "kl.h"

struct http_facts {
	uint64_t requests, responses;
	bool has_max_idle;
	kl_time max_idle;                /* longest gap between a response and the next request */
	int64_t ka_timeout_advertised;   /* server's Keep-Alive timeout=, -1: never sent */
	int64_t ka_max_advertised;       /* server's Keep-Alive max=, -1: never sent */
	int expected_persistent;         /* after the last response: 1, 0, or -1 unknown */
	bool has_idle_before_close;
	kl_time idle_before_close;       /* end of the last response to the first FIN/RST */
	/* Who first sent Connection: close (NONE: nobody), on which request. */
	enum conn_closer close_announced_by;
	uint64_t close_announced_seq;
	bool close_on_persistent_request; /* the server announced it answering a request
					   * that asked the connection to persist */
	int64_t ka_max_first;            /* the first Keep-Alive max= the server sent, -1: none */
	uint64_t pipelined_requests;
	kl_time last_request_ts;         /* first byte of the last request, 0: none */
	uint64_t last_request_seq;
	/* HTTP/2 semantics: no Keep-Alive timeout; GOAWAY ends reuse. */
	bool h2;
	enum conn_closer goaway_by;      /* who sent the first GOAWAY (NONE: nobody) */

	/* The TCP side that sent the requests: CONN_CLOSER_SERVER when the
	 * TCP server asked (the agent side of a reverse tunnel, or roles
	 * guessed wrong for a connection picked up mid-stream).  Every other
	 * fact here is in HTTP's roles: "server" is the side that answered. */
	enum conn_closer http_client;

	/* What the keep-alive analysis adds (keepalive.c). */
	bool has_reuse_saved;
	kl_time reuse_saved;             /* handshake RTT x requests after the first */
};

extern const struct fact_section http_facts_section;

/* The connection's HTTP facts, or NULL when it carried no HTTP. */
static inline struct http_facts *http_facts_of(const struct conn_record *r)
{
	return r->facts[FACTS_HTTP];
}

#endif
