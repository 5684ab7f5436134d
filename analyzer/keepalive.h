/*
 * keepalive.h - what a finished connection says about keep-alive: the
 * per-connection findings of docs/keepalive.md ("Findings"), each one rule,
 * and what reuse saved.
 *
 * Runs on the connection's record once its dissectors have written their
 * facts (facts.h), before it is stored; reads the HTTP section
 * (http_facts.h), emits findings through a dissect_output and adds the
 * reuse fields to that section.
 */
#ifndef KALENS_KEEPALIVE_H
#define KALENS_KEEPALIVE_H

#include "conn_record.h"
#include "records.h"

struct keepalive_config {
	/* A server close counts as its advertised idle timeout when it comes
	 * no earlier than timeout - max(tolerance, tolerance_share x timeout). */
	kl_time tolerance;            /* default 1 s */
	double tolerance_share;       /* default 0.1 */
	/* Without an advertised timeout, a server close sooner than this
	 * after the last response is not an idle timeout. */
	kl_time quick_close;          /* default 1 s */
	/* Across connections (store_cross_findings): how soon after a
	 * one-request connection the client's next one counts as missed
	 * reuse when the server advertised no timeout, and how soon a retry
	 * must follow an idle-close-race. */
	double window_s;              /* default 5 s */
};

void keepalive_config_defaults(struct keepalive_config *cfg);

/* Judge the finished connection `r` (the reuse fields of its HTTP section
 * are filled in) and report findings to `out`. */
void keepalive_conn_done(const struct keepalive_config *cfg, struct conn_record *r,
			 const struct dissect_output *out);

#endif
