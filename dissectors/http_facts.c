/*
 * http_facts.c - the HTTP section of `connections` (http_facts.h).
 */
#include "http_facts.h"

/* One line per column: name, type, flags, allowed words, unit, meaning,
 * what NULL means, and its value from `f`, the struct http_facts. */
#define HTTP_FACTS_COLUMNS(X) \
	X(requests, INTEGER, 0, NULL, "", \
	  "HTTP requests seen on it (rows in `requests`)", \
	  "not HTTP", \
	  f->requests || f->responses ? cv_u64(f->requests) : cv_null()) \
	X(responses, INTEGER, 0, NULL, "", \
	  "final responses (not 1xx) seen complete that answer a request of the connection " \
	  "(one whose request was lost in a capture gap counts: its place in the order is " \
	  "known); a response with no request before it in the capture is not counted here " \
	  "but as a `response-without-request` finding, so `responses` <= `requests` + the " \
	  "requests lost in gaps", \
	  "not HTTP", \
	  f->requests || f->responses ? cv_u64(f->responses) : cv_null()) \
	X(max_idle, REAL, 0, NULL, "s", \
	  "the longest time between the end of a response and the first byte of the next " \
	  "request (the idle time a keep-alive timeout has to cover)", \
	  "fewer than two requests in sequence", \
	  cv_seconds_if(f->has_max_idle, f->max_idle)) \
	X(ka_timeout_advertised, INTEGER, 0, NULL, "s", \
	  "`timeout=` of the last `Keep-Alive` header the server sent", \
	  "the server never sent one", \
	  cv_int_or_null(f->ka_timeout_advertised)) \
	X(ka_max_advertised, INTEGER, 0, NULL, "requests", \
	  "`max=` of the last `Keep-Alive` header the server sent", \
	  "the server never sent one", \
	  cv_int_or_null(f->ka_max_advertised)) \
	X(expected_persistent, INTEGER, 0, NULL, "0/1", \
	  "whether, after the last response, the connection was expected to stay open (RFC " \
	  "9112 §9.3, see [keepalive.md](keepalive.md))", \
	  "no final response seen", \
	  cv_int_or_null(f->expected_persistent)) \
	X(idle_before_close, REAL, 0, NULL, "s", \
	  "from the end of the last response to when the close began (`close_ts`: the " \
	  "first FIN or RST, or the TLS alert before it): how long an idle connection was " \
	  "kept before someone closed it", \
	  "no response, or no FIN/RST", \
	  cv_seconds_if(f->has_idle_before_close, f->idle_before_close)) \
	X(reuse_saved_s, REAL, 0, NULL, "s", \
	  "what reuse saved: the handshake RTT for every request after the first " \
	  "(`handshake_rtt × (requests − 1)`; 0 for one request)", \
	  "not HTTP, or no handshake RTT (picked up mid-stream)", \
	  cv_seconds_if(f->has_reuse_saved, f->reuse_saved)) \
	X(http_client, TEXT, 0, conn_closer_names, "", \
	  "the TCP side that sent the HTTP requests: `client`, or `server` when the TCP " \
	  "server asked and the TCP client answered (the agent's connection of a reverse " \
	  "tunnel such as ngrok or frp, or a connection picked up mid-stream whose roles " \
	  "were guessed from the ports). HTTP/1 requests are recognised in either direction " \
	  "(docs/keepalive.md, \"Who asks\"); the HTTP columns and findings then speak of " \
	  "HTTP's client and server, the TCP columns of TCP's", \
	  "not HTTP", \
	  f->requests || f->responses ? cv_text(conn_closer_name(f->http_client)) : cv_null())


#define COLUMN_REC struct http_facts
COLUMNS_DEFINE(HTTP_FACTS_COLUMNS, http_columns)
#undef COLUMN_REC

static void http_facts_init(void *rec)
{
	struct http_facts *h = rec;
	h->ka_timeout_advertised = h->ka_max_advertised = -1;
	h->http_client = CONN_CLOSER_CLIENT;
	h->expected_persistent = -1;
	h->ka_max_first = -1;
	h->close_announced_by = CONN_CLOSER_NONE;
	h->goaway_by = CONN_CLOSER_NONE;
}

const struct fact_section http_facts_section = {
	.name = "http",
	.size = sizeof(struct http_facts),
	.init = http_facts_init,
	.columns = COLUMN_LIST(http_columns),
};
