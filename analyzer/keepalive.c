/*
 * keepalive.c - see keepalive.h.  Each rule here is written out, with its
 * RFC basis, in docs/keepalive.md ("Findings"); keep the two together.
 */
#include "keepalive.h"

#include <stdio.h>

#include "http_facts.h"

void keepalive_config_defaults(struct keepalive_config *cfg)
{
	cfg->tolerance = KL_SEC(1);
	cfg->tolerance_share = 0.1;
	cfg->quick_close = KL_SEC(1);
	cfg->window_s = 5;
}

static void emit(const struct dissect_output *out, const struct conn_record *r, uint64_t seq,
		 kl_time ts, enum finding_kind kind, const char *detail)
{
	if (!out || !out->finding)
		return;
	struct finding_record f = { r->id, seq, ts, kind, detail };
	out->finding(out->ctx, &f);
}

/* How the close began: "RST", "FIN" or the notice before them
 * ("TLS close_notify"). */
static const char *close_how(const struct conn_record *r)
{
	return r->close_notice ? r->close_notice : r->close_kind == CONN_CLOSE_RST ? "RST" : "FIN";
}

/* Who began the close, in HTTP's roles: the TCP server is HTTP's client
 * when it sent the requests (http_facts.http_client). */
static enum conn_closer http_closer(const struct conn_record *r, const struct http_facts *h)
{
	if (h->http_client != CONN_CLOSER_SERVER || r->close_initiator == CONN_CLOSER_NONE)
		return r->close_initiator;
	return r->close_initiator == CONN_CLOSER_CLIENT ? CONN_CLOSER_SERVER : CONN_CLOSER_CLIENT;
}

/* Who closed the connection and how, in HTTP's roles, e.g. "the server
 * (FIN)", "the client (TLS close_notify)", "the client (FIN; the TCP
 * server)". */
static const char *closed_by(const struct conn_record *r, const struct http_facts *h, char *buf,
			     size_t n)
{
	enum conn_closer who = http_closer(r, h);
	snprintf(buf, n, "the %s (%s%s)", who == CONN_CLOSER_SERVER ? "server" : "client",
		 close_how(r), h->http_client != CONN_CLOSER_SERVER ? "" :
		 who == CONN_CLOSER_SERVER ? "; the TCP client" : "; the TCP server");
	return buf;
}

/* Opened and never used: the three-way handshake completed, then no byte
 * of payload either way (a browser's preconnect it did not need, a check
 * that only connects).  Any protocol: nothing was said. */
static void unused_connection(const struct conn_record *r, const struct dissect_output *out)
{
	const struct http_facts *h = http_facts_of(r);
	if (!r->has_handshake_rtt || r->bytes[KL_TO_SERVER] || r->bytes[KL_TO_CLIENT] ||
	    (h && h->requests))
		return;
	char d[200];
	double rtt = (double)r->handshake_rtt / KL_NS_PER_SEC;
	double lived = (double)(r->last_seen - r->first_seen) / KL_NS_PER_SEC;
	bool closed = (r->close_kind == CONN_CLOSE_FIN || r->close_kind == CONN_CLOSE_RST) &&
		      r->close_initiator != CONN_CLOSER_NONE;
	if (closed)
		snprintf(d, sizeof d, "handshake completed (round trip %.6f s), then no byte either "
			 "way; closed by the %s (%s) %.6f s after it opened", rtt,
			 r->close_initiator == CONN_CLOSER_SERVER ? "server" : "client", close_how(r),
			 (double)(r->close_ts - r->first_seen) / KL_NS_PER_SEC);
	else
		snprintf(d, sizeof d, "handshake completed (round trip %.6f s), then no byte either "
			 "way for %.6f s, to the end of %s", rtt, lived,
			 r->close_kind == CONN_CLOSE_OPEN ? "the capture" : "its tracking");
	emit(out, r, 0, closed ? r->close_ts : r->last_seen, FINDING_UNUSED_CONNECTION, d);
}

void keepalive_conn_done(const struct keepalive_config *cfg, struct conn_record *r,
			 const struct dissect_output *out)
{
	unused_connection(r, out);
	struct http_facts *h = http_facts_of(r);
	if (!h || h->requests == 0)
		return;                   /* not HTTP, or nothing asked */
	/* Reuse: every request after the first skipped a TCP handshake. */
	if (r->has_handshake_rtt) {
		h->has_reuse_saved = true;
		h->reuse_saved = r->handshake_rtt * (kl_time)(h->requests - 1);
	}
	bool closed = (r->close_kind == CONN_CLOSE_FIN || r->close_kind == CONN_CLOSE_RST) &&
		      r->close_initiator != CONN_CLOSER_NONE;
	if (!closed)
		return;                   /* idle, evicted or still open: nobody closed it */
	enum conn_closer closer = http_closer(r, h);
	char d[200], who[64];

	if (h->close_announced_by != CONN_CLOSER_NONE) {
		snprintf(d, sizeof d, "the %s announced Connection: close on request %llu; "
			 "closed by %s", conn_closer_name(h->close_announced_by),
			 (unsigned long long)h->close_announced_seq, closed_by(r, h, who, sizeof who));
		emit(out, r, h->close_announced_seq, r->close_ts, FINDING_CLOSED_AFTER_CONNECTION_CLOSE, d);
		if (h->close_announced_by == CONN_CLOSER_SERVER && h->close_on_persistent_request &&
		    h->close_announced_seq >= 2) {
			/* max= counts the requests still allowed after the one it
			 * answers (Apache: 3, 2, 1, then close): M on the first
			 * response allows M + 1 in all. */
			long long allowed = h->ka_max_first + 1;
			long long n = (long long)h->close_announced_seq;
			if (h->ka_max_first >= 0)
				snprintf(d, sizeof d, "the server ended reuse after %lld requests; its "
					 "first response advertised Keep-Alive max=%lld, allowing %lld: %s",
					 n, (long long)h->ka_max_first, allowed,
					 n == allowed ? "as advertised" :
					 n < allowed ? "sooner than advertised" : "later than advertised");
			else
				snprintf(d, sizeof d, "the server ended reuse after %llu requests; "
					 "no Keep-Alive max advertised",
					 (unsigned long long)h->close_announced_seq);
			emit(out, r, h->close_announced_seq, r->close_ts, FINDING_KEEPALIVE_MAX_REACHED, d);
		}
	}

	/* A request the server did not answer, sent after (or just before)
	 * the server began to close: the stale-connection race. */
	if (h->requests > h->responses && closer == CONN_CLOSER_SERVER &&
	    h->last_request_ts) {
		kl_time margin = r->has_handshake_rtt ? r->handshake_rtt : 0;
		if (h->last_request_ts + margin >= r->close_ts) {
			double after = kl_time_seconds(h->last_request_ts) - kl_time_seconds(r->close_ts);
			snprintf(d, sizeof d, "request %llu reached the server %.6f s %s its %s, "
				 "and got no response", (unsigned long long)h->last_request_seq,
				 after >= 0 ? after : -after, after >= 0 ? "after" : "before",
				 close_how(r));
			emit(out, r, h->last_request_seq, h->last_request_ts, FINDING_IDLE_CLOSE_RACE, d);
		} else if (r->gap_bytes == 0 && h->close_announced_by == CONN_CLOSER_NONE) {
			/* Sent well before the close (a handshake RTT or more): the
			 * server read it and closed without answering.  Not an idle
			 * close: the connection was not idle.  (Bytes missing from
			 * the capture may hold the response; after either side
			 * announced close, the request is request-after-close.) */
			double before = kl_time_seconds(r->close_ts) - kl_time_seconds(h->last_request_ts);
			snprintf(d, sizeof d, "request %llu reached the server %.6f s before its %s, "
				 "and got no response", (unsigned long long)h->last_request_seq, before,
				 close_how(r));
			emit(out, r, h->last_request_seq, h->last_request_ts,
			     FINDING_REQUEST_DROPPED_BY_SERVER, d);
			h->has_idle_before_close = false;
			return;
		}
	}

	/* A negative idle time (the close timestamped before the response
	 * ended: time went backwards) says nothing about who waited how long. */
	if (h->expected_persistent != 1 || h->close_announced_by != CONN_CLOSER_NONE ||
	    !h->has_idle_before_close || h->idle_before_close < 0)
		return;
	double idle = kl_time_seconds(h->idle_before_close);
	if (h->h2 && closer == CONN_CLOSER_SERVER) {
		/* HTTP/2 has no Keep-Alive timeout to hold the server to: a
		 * server ending an idle connection is h2-idle-close (the
		 * dissector reports one that sent GOAWAY first). */
		if (h->goaway_by != CONN_CLOSER_SERVER) {
			snprintf(d, sizeof d, "closed by %s after %.6f s idle, without GOAWAY",
				 closed_by(r, h, who, sizeof who), idle);
			emit(out, r, 0, r->close_ts, FINDING_H2_IDLE_CLOSE, d);
		}
		return;
	}
	if (closer == CONN_CLOSER_CLIENT) {
		snprintf(d, sizeof d, "the server would have kept it; the client closed it (%s) "
			 "after %.6f s idle", close_how(r), idle);
		emit(out, r, 0, r->close_ts, FINDING_CLIENT_CLOSED_REUSABLE, d);
		return;
	}
	/* The server closed a connection it was expected to keep. */
	bool early;
	if (h->ka_timeout_advertised >= 0) {
		kl_time adv = KL_SEC((double)h->ka_timeout_advertised);
		kl_time tol = (kl_time)((double)adv * cfg->tolerance_share);
		if (tol < cfg->tolerance)
			tol = cfg->tolerance;
		early = h->idle_before_close + tol < adv;
		if (early)
			snprintf(d, sizeof d, "closed by %s after %.6f s idle, before its advertised "
				 "Keep-Alive timeout=%lld, without Connection: close",
				 closed_by(r, h, who, sizeof who), idle,
				 (long long)h->ka_timeout_advertised);
		else
			snprintf(d, sizeof d, "closed by %s after %.6f s idle; advertised timeout=%lld "
				 "(%+.6f s)", closed_by(r, h, who, sizeof who), idle,
				 (long long)h->ka_timeout_advertised,
				 idle - (double)h->ka_timeout_advertised);
	} else {
		early = h->idle_before_close < cfg->quick_close;
		snprintf(d, sizeof d, "closed by %s after %.6f s idle%s; no Keep-Alive timeout "
			 "advertised", closed_by(r, h, who, sizeof who), idle,
			 early ? ", without Connection: close" : "");
	}
	emit(out, r, 0, r->close_ts, early ? FINDING_KEEPALIVE_IGNORED_BY_SERVER : FINDING_SERVER_IDLE_TIMEOUT, d);
}
