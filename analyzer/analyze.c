/*
 * analyze.c - the data path for one capture, file or interface, top to
 * bottom: capture -> decode -> flow (reassembly, dissectors) -> storeq.
 */
#include "analyze.h"

#include <pcap/pcap.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "decode.h"
#include "keepalive.h"
#include "storeq.h"

struct analyze_ctx {
	struct store *st;             /* only for connection ids while q runs */
	struct storeq *q;
	const struct keepalive_config *keepalive;
	const struct dissect_output *out;   /* findings of the analysis go here too */
	uint64_t connections, requests, findings;
	int store_failed;
};

/* A connection ended: the keep-alive analysis judges it, then it is stored. */
static void on_conn_done(void *ctx, const struct conn_record *rec)
{
	struct analyze_ctx *a = ctx;
	a->connections++;
	struct conn_record r = *rec;
	keepalive_conn_done(a->keepalive, &r, a->out);
	if (!a->store_failed && storeq_conn(a->q, &r) != 0)
		a->store_failed = 1;
}

static int64_t on_conn_id(void *ctx)
{
	struct analyze_ctx *a = ctx;
	return store_conn_next_id(a->st);
}

static void on_request(void *ctx, const struct request_record *r)
{
	struct analyze_ctx *a = ctx;
	a->requests++;
	if (!a->store_failed && storeq_request(a->q, r) != 0)
		a->store_failed = 1;
}

static void on_finding(void *ctx, const struct finding_record *f)
{
	struct analyze_ctx *a = ctx;
	a->findings++;
	if (!a->store_failed && storeq_finding(a->q, f) != 0)
		a->store_failed = 1;
}

static kl_time wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (kl_time)ts.tv_sec * KL_NS_PER_SEC + ts.tv_nsec;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_line(const char *path, struct capture *cap, uint64_t packets,
			  double started, bool final)
{
	uint64_t done, total;
	capture_progress(cap, &done, &total);
	double secs = mono_now() - started;
	double pps = secs > 0 ? (double)packets / secs : 0;
	if (total > 0 && !final)
		fprintf(stderr, "\r%s: %.1f%% of %.1f MB, %llu packets, %.0f packets/s   ",
			path, 100.0 * (double)done / (double)total, (double)total / 1e6,
			(unsigned long long)packets, pps);
	else
		fprintf(stderr, "\r%s: %llu packets, %.0f packets/s%s", path,
			(unsigned long long)packets, pps, final ? "\033[K\n" : "   ");
	fflush(stderr);
}

static void status_line(const char *iface, const struct store_run_totals *t,
			struct capture *cap, const struct flow_table *ft, uint64_t requests,
			bool final)
{
	uint64_t recv = 0, drop = 0;
	bool have = capture_stats(cap, &recv, &drop) == 0;
	struct flow_stats fs = flow_table_stats(ft);
	fprintf(stderr, "\r%s: %llu packets, %llu connections open, %llu requests, ", iface,
		(unsigned long long)t->packets, (unsigned long long)fs.conns_open,
		(unsigned long long)requests);
	if (have)
		fprintf(stderr, "%llu dropped", (unsigned long long)drop);
	else
		fprintf(stderr, "drops unknown");
	fprintf(stderr, "%s", final ? "\033[K\n" : "\033[K");
	fflush(stderr);
}

static int run_capture(struct store *st, struct capture *cap, const char *path,
		       const char *kind, const struct analyze_options *o,
		       struct analyze_result *res, char *err, size_t errlen);

int analyze_file(struct store *st, const char *path, const struct analyze_options *o,
		 struct analyze_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct capture *cap = capture_open_file(path, o->filter, err, errlen);
	if (!cap)
		return -1;
	return run_capture(st, cap, path, "file", o, res, err, errlen);
}

int analyze_live(struct store *st, const struct capture_live_options *co,
		 const struct analyze_options *o, struct analyze_result *res, char *err,
		 size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct capture *cap = capture_open_live(co, err, errlen);
	if (!cap)
		return -1;
	return run_capture(st, cap, co->iface, "live", o, res, err, errlen);
}

/* The run could not get going: mark it 'error' with `err`, free what was
 * made (any may be NULL) and return -1. */
static int abandon_run(struct store *st, struct store_run_totals *t, const char *err,
		       struct flow_table *ft, struct storeq *q, struct capture *cap)
{
	flow_table_free(ft);
	storeq_free(q);
	t->status = STORE_RUN_ERROR;
	t->message = err;
	t->finished_at = wall_now();
	store_run_finish(st, t);
	capture_close(cap);
	return -1;
}

/* Takes `cap` and closes it. */
static int run_capture(struct store *st, struct capture *cap, const char *path,
		       const char *kind, const struct analyze_options *o,
		       struct analyze_result *res, char *err, size_t errlen)
{
	struct store_run_totals *t = &res->totals;
	bool live = !strcmp(kind, "live");
	t->packets_received = -1;
	int dlt = capture_linktype(cap);
	if (!decode_linktype_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);
		if (name)
			snprintf(err, errlen, "%s: unsupported link type %s (%d)", path, name, dlt);
		else
			snprintf(err, errlen, "%s: unsupported link type %d", path, dlt);
		capture_close(cap);
		return -1;
	}

	struct store_run_info info = {
		.source = path, .source_kind = kind, .filter = o->filter,
		.link_type = dlt, .link_type_name = capture_linktype_name(cap),
		.started_at = wall_now(),
	};
	res->run_id = store_run_begin(st, &info);
	if (res->run_id < 0) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		capture_close(cap);
		return -1;
	}

	/* Rows go through a writer thread; this thread only numbers
	 * connections in the store until storeq_sync(). */
	struct analyze_ctx actx = { .st = st, .q = storeq_new(st), .keepalive = &o->keepalive };
	struct dissect_output out = { on_request, on_finding, &actx };
	actx.out = &out;
	struct flow_hooks hooks = { on_conn_done, on_conn_id, &actx, &out };
	struct flow_table *ft = actx.q ? flow_table_new(&o->flow, &hooks, err, errlen) : NULL;
	if (!ft) {
		if (!actx.q)
			snprintf(err, errlen, "%s: cannot start the store writer", path);
		return abandon_run(st, t, err, NULL, actx.q, cap);
	}

	/* Live: the caller may now give up privileges (the capture, the save
	 * file and the database are open). */
	if (live && o->ready && o->ready(o->ready_ctx, cap, err, errlen) != 0)
		return abandon_run(st, t, err, ft, actx.q, cap);

	double started = mono_now(), last_progress = started, last_flush = started;
	const char *why_stopped = NULL;
	/* Live: once told to stop (a signal, the duration), the packets the
	 * kernel already holds are still read, until the first read timeout
	 * after that (a packet may wait up to the timeout in a kernel block)
	 * or half a second. */
	double drain_until = 0;
	enum capture_status cs;
	struct capture_pkt pkt;
	struct decode_tcp d;
	while ((cs = capture_next(cap, &pkt)) == CAPTURE_PACKET || cs == CAPTURE_TIMEOUT) {
		if (cs == CAPTURE_TIMEOUT || (t->packets & 0xff) == 0) {
			if (live) {
				double now = mono_now();
				if (cs == CAPTURE_TIMEOUT)
					flow_table_expire(ft, wall_now());
				if (now - last_flush >= o->flush_interval) {
					last_flush = now;
					if (storeq_flush(actx.q) != 0)
						actx.store_failed = 1;
				}
				if (o->progress && now - last_progress >= 1.0) {
					last_progress = now;
					status_line(path, t, cap, ft, actx.requests, false);
				}
				if (drain_until == 0) {
					if (o->stop && *o->stop)
						why_stopped = "stopped by a signal";
					else if (o->duration > 0 && now - started >= o->duration)
						why_stopped = "duration reached";
					if (why_stopped)
						drain_until = now + 0.5;
				} else if (cs == CAPTURE_TIMEOUT || now >= drain_until) {
					break;
				}
			} else if (o->stop && *o->stop) {
				break;
			}
			if (actx.store_failed)
				break;
			if (cs == CAPTURE_TIMEOUT)
				continue;
		}
		t->packets++;
		t->bytes += pkt.wirelen;
		if (t->first_packet == 0)
			t->first_packet = pkt.ts;
		t->last_packet = pkt.ts;
		switch (decode_packet(dlt, pkt.data, pkt.caplen, &d)) {
		case DECODE_TCP:
			flow_table_packet(ft, &d, pkt.ts);
			break;
		case DECODE_NOT_TCP:
		case DECODE_UNSUPPORTED_LINK:
			t->packets_not_tcp++;
			break;
		case DECODE_FRAGMENT:
			t->packets_fragment++;
			break;
		case DECODE_TRUNCATED:
			t->packets_truncated++;
			break;
		case DECODE_MALFORMED:
			t->packets_malformed++;
			break;
		}
		if (!live && (t->packets & 0xffff) == 0) {
			if (o->progress && mono_now() - last_progress >= 0.25) {
				last_progress = mono_now();
				progress_line(path, cap, t->packets, started, false);
			}
			if (actx.store_failed)
				break;
		}
		if (o->stop && *o->stop) {
			if (!live)
				break;
			if (drain_until == 0) {
				why_stopped = "stopped by a signal";
				drain_until = mono_now() + 0.5;
			}
		}
		if (o->max_packets && t->packets >= o->max_packets) {
			why_stopped = "packet count reached";
			break;
		}
	}
	if (live) {
		uint64_t recv;
		if (capture_stats(cap, &recv, &t->packets_dropped) == 0)
			t->packets_received = recv > INT64_MAX ? INT64_MAX : (int64_t)recv;
		else
			t->packets_dropped = 0;
	}

	/* Whatever stopped the loop, every connection still open is stored. */
	if (o->progress && live)
		status_line(path, t, cap, ft, actx.requests, true);
	flow_table_flush(ft);
	struct flow_stats fs = flow_table_stats(ft);
	flow_table_free(ft);
	if (storeq_sync(actx.q) != 0)
		actx.store_failed = 1;
	/* Every row of the run is stored: the rules that compare connections. */
	uint64_t cross = 0;
	if (!actx.store_failed && store_cross_findings(st, o->keepalive.window_s, &cross) != 0)
		actx.store_failed = 2;
	actx.findings += cross;
	if (o->progress && !live)
		progress_line(path, cap, t->packets, started, true);

	int rc = 0;
	t->connections = actx.connections;
	t->requests = actx.requests;
	t->findings = actx.findings;
	t->reasm_cap_hits = fs.reasm_cap_hits;
	t->connections_evicted = fs.conns_evicted;
	t->finished_at = wall_now();
	if (actx.store_failed) {
		t->status = STORE_RUN_ERROR;
		snprintf(err, errlen, "%s: %s", path,
			 actx.store_failed == 2 ? store_errmsg(st) : storeq_error(actx.q));
		t->message = err;
		rc = -1;
	} else if (live && cs != CAPTURE_ERROR) {
		/* A live run ends when it is told to: that is its normal end. */
		t->status = STORE_RUN_COMPLETE;
		t->message = why_stopped;
	} else if (cs == CAPTURE_PACKET || (o->stop && *o->stop)) {
		/* A signal during a blocking read (a pipe) surfaces as a read
		 * error: the stop request is still what ended the run. */
		t->status = STORE_RUN_INTERRUPTED;
		t->message = "interrupted by a signal";
		snprintf(err, errlen, "%s: interrupted after %llu packets; what was read is stored",
			 path, (unsigned long long)t->packets);
		rc = -1;
	} else if (cs == CAPTURE_TRUNCATED) {
		t->status = STORE_RUN_TRUNCATED;
		snprintf(err, errlen, "%s; the %llu packets before it are stored",
			 capture_error(cap), (unsigned long long)t->packets);
		t->message = err;
		rc = -1;
	} else if (cs == CAPTURE_ERROR) {
		t->status = STORE_RUN_ERROR;
		snprintf(err, errlen, "%s", capture_error(cap));
		t->message = err;
		rc = -1;
	} else {
		t->status = STORE_RUN_COMPLETE;
	}
	storeq_free(actx.q);
	if (store_run_finish(st, t) != 0) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(st));
		rc = -1;
	}
	capture_close(cap);
	return rc;
}
