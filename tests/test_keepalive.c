/*
 * test_keepalive.c - the per-connection rules of analyzer/keepalive.c, one
 * table row per case, each stated in docs/keepalive.md ("Findings").
 *
 * A case is the facts a connection ended with (its close, from TCP; what
 * was advertised and announced, from HTTP) and the findings the rules
 * must give, in order.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "http_facts.h"
#include "keepalive.h"

static char got[512];

static void on_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	size_t l = strlen(got);
	snprintf(got + l, sizeof got - l, "%s;", finding_kind_name(f->kind));
}

struct ka_case {
	const char *name;
	/* TCP */
	enum conn_close_kind close_kind;
	enum conn_closer closer;
	double rtt;                   /* handshake RTT, s; 0: not measured */
	/* HTTP */
	unsigned requests, responses;
	int expected_persistent;
	double idle;                  /* end of the last response to the close, s; <0: none */
	long long ka_timeout;         /* advertised timeout=, -1: none */
	enum conn_closer announced_by;
	unsigned announced_seq;
	bool announced_on_persistent;
	long long ka_max_first;
	double last_request;          /* s after which the last request came; <0: none */
	bool h2;
	enum conn_closer goaway_by;
	const char *want;             /* findings, ';'-separated in order */
};

#define CLOSE_AT 100.0            /* the close, s */

static const struct ka_case cases[] = {
	/* Keep-Alive timeout=5 honoured: 5.0 s idle is the timeout. */
	{ "server closes at its timeout", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 2, 2, 1, 5.0, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "server-idle-timeout;" },
	/* Within the tolerance, max(1 s, 10 % of 5 s): still the timeout. */
	{ "server closes just early", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 2, 2, 1, 4.2, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "server-idle-timeout;" },
	/* nginx keepalive_timeout 1s 5s: says 5, closes after 1. */
	{ "server closes before its timeout", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 2, 2, 1, 1.0, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE,
	  "keepalive-ignored-by-server;" },
	/* No timeout advertised: under --quick-close (1 s) is ignoring keep-alive. */
	{ "quick close, none advertised", CONN_CLOSE_RST, CONN_CLOSER_SERVER, 0, 1, 1, 1, 0.2, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE,
	  "keepalive-ignored-by-server;" },
	{ "slow close, none advertised", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 1, 1, 1, 30, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "server-idle-timeout;" },
	{ "client throws reuse away", CONN_CLOSE_FIN, CONN_CLOSER_CLIENT, 0, 3, 3, 1, 0.5, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "client-closed-reusable;" },
	/* Not expected to persist: none of the idle rules. */
	{ "not persistent", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 1, 1, 0, 0.1, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "" },
	/* Nobody closed: no close rules at all. */
	{ "idle eviction", CONN_CLOSE_IDLE, CONN_CLOSER_NONE, 0, 2, 2, 1, -1, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "" },
	{ "still open", CONN_CLOSE_OPEN, CONN_CLOSER_NONE, 0, 2, 2, 1, -1, 5,
	  CONN_CLOSER_NONE, 0, false, -1, -1, false, CONN_CLOSER_NONE, "" },
	/* The client said close on request 3: informational only. */
	{ "client announced close", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 3, 3, 0, 0.001, -1,
	  CONN_CLOSER_CLIENT, 3, false, -1, -1, false, CONN_CLOSER_NONE,
	  "closed-after-connection-close;" },
	/* Apache MaxKeepAliveRequests 3: max=3 first, close on the 4th, as advertised. */
	{ "request limit", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 4, 4, 0, 0.001, 5,
	  CONN_CLOSER_SERVER, 4, true, 3, -1, false, CONN_CLOSER_NONE,
	  "closed-after-connection-close;keepalive-max-reached;" },
	/* A close on the first request is no request limit. */
	{ "server close on request 1", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 1, 1, 0, 0.001, -1,
	  CONN_CLOSER_SERVER, 1, true, -1, -1, false, CONN_CLOSER_NONE,
	  "closed-after-connection-close;" },
	/* The unanswered request reached the server 0.1 s after its FIN. */
	{ "stale-connection race", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0.001, 3, 2, 1, 5.0, 5,
	  CONN_CLOSER_NONE, 0, false, -1, CLOSE_AT + 0.1, false, CONN_CLOSER_NONE,
	  "idle-close-race;server-idle-timeout;" },
	/* ... or less than a handshake RTT before it: they crossed. */
	{ "race within an RTT", CONN_CLOSE_RST, CONN_CLOSER_SERVER, 0.010, 3, 2, 1, 5.0, 5,
	  CONN_CLOSER_NONE, 0, false, -1, CLOSE_AT - 0.005, false, CONN_CLOSER_NONE,
	  "idle-close-race;server-idle-timeout;" },
	/* Sent well before the close: not the race, and not an idle close
	 * either (the connection was not idle): the server dropped it. */
	{ "unanswered long before", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0.001, 3, 2, 1, 5.0, 5,
	  CONN_CLOSER_NONE, 0, false, -1, CLOSE_AT - 2, false, CONN_CLOSER_NONE,
	  "request-dropped-by-server;" },
	/* HTTP/2: a server ending an idle connection is h2-idle-close, never the
	 * HTTP/1 timeout findings; after its own GOAWAY the dissector said so. */
	{ "h2 idle close, no GOAWAY", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 2, 2, 1, 0.5, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, true, CONN_CLOSER_NONE, "h2-idle-close;" },
	{ "h2 idle close after GOAWAY", CONN_CLOSE_FIN, CONN_CLOSER_SERVER, 0, 2, 2, 1, 0.5, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, true, CONN_CLOSER_SERVER, "" },
	{ "h2 client closes", CONN_CLOSE_FIN, CONN_CLOSER_CLIENT, 0, 2, 2, 1, 0.5, -1,
	  CONN_CLOSER_NONE, 0, false, -1, -1, true, CONN_CLOSER_NONE, "client-closed-reusable;" },
};

static void run_case(const struct ka_case *k, struct conn_record *r, struct http_facts *h)
{
	memset(r, 0, sizeof *r);
	r->id = 7;
	r->close_kind = k->close_kind;
	r->close_initiator = k->closer;
	r->close_ts = KL_SEC(CLOSE_AT);
	r->has_handshake_rtt = k->rtt > 0;
	r->handshake_rtt = KL_SEC(k->rtt);
	memset(h, 0, sizeof *h);
	http_facts_section.init(h);
	h->requests = k->requests;
	h->responses = k->responses;
	h->expected_persistent = k->expected_persistent;
	h->has_idle_before_close = k->idle >= 0;
	h->idle_before_close = k->idle >= 0 ? KL_SEC(k->idle) : 0;
	h->ka_timeout_advertised = k->ka_timeout;
	h->close_announced_by = k->announced_by;
	h->close_announced_seq = k->announced_seq;
	h->close_on_persistent_request = k->announced_on_persistent;
	h->ka_max_first = k->ka_max_first;
	if (k->last_request >= 0) {
		h->last_request_ts = KL_SEC(k->last_request);
		h->last_request_seq = k->requests;
	}
	h->h2 = k->h2;
	h->goaway_by = k->goaway_by;
	r->facts[FACTS_HTTP] = h;
	struct keepalive_config cfg;
	keepalive_config_defaults(&cfg);
	struct dissect_output out = { NULL, on_finding, NULL };
	got[0] = '\0';
	keepalive_conn_done(&cfg, r, &out);
}

Test(keepalive, rules_table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conn_record r;
		struct http_facts h;
		run_case(&cases[i], &r, &h);
		cr_expect_str_eq(got, cases[i].want, "%s: got %s, want %s", cases[i].name, got,
				 cases[i].want);
	}
}

/* Reuse saved: the handshake RTT for every request after the first. */
Test(keepalive, reuse_saved)
{
	struct conn_record r;
	struct http_facts h;
	run_case(&cases[0], &r, &h);
	cr_expect(!h.has_reuse_saved, "no RTT measured: nothing to say");
	struct ka_case k = cases[5];       /* 3 requests */
	k.rtt = 0.002;
	run_case(&k, &r, &h);
	cr_assert(h.has_reuse_saved);
	cr_expect_eq(h.reuse_saved, 2 * KL_SEC(0.002));
}

/* No HTTP section, or no request: the rules have nothing to judge. */
Test(keepalive, not_http)
{
	struct conn_record r;
	memset(&r, 0, sizeof r);
	r.close_kind = CONN_CLOSE_FIN;
	r.close_initiator = CONN_CLOSER_SERVER;
	struct keepalive_config cfg;
	keepalive_config_defaults(&cfg);
	struct dissect_output out = { NULL, on_finding, NULL };
	got[0] = '\0';
	keepalive_conn_done(&cfg, &r, &out);
	cr_expect_str_eq(got, "");
}
