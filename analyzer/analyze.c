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
#include "encap.h"
#include "ipfrag.h"
#include "keepalive.h"
#include "storeq.h"
#include "workers.h"

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
			struct capture *cap, const struct workers_totals *wt, bool final)
{
	uint64_t recv = 0, drop = 0;
	bool have = capture_stats(cap, &recv, &drop) == 0;
	fprintf(stderr, "\r%s: %llu packets, %llu connections open, %llu requests, ", iface,
		(unsigned long long)t->packets, (unsigned long long)wt->conns_open,
		(unsigned long long)wt->requests);
	if (have)
		fprintf(stderr, "%llu dropped", (unsigned long long)drop);
	else
		fprintf(stderr, "drops unknown");
	fprintf(stderr, "%s", final ? "\033[K\n" : "\033[K");
	fflush(stderr);
}

/* Which kind of capture a run reads: a file is read to its end, an
 * interface until told to stop. */
enum analyze_source { ANALYZE_FILE, ANALYZE_LIVE };

/* runs.source_kind */
static const char *source_kind(enum analyze_source s)
{
	return s == ANALYZE_LIVE ? "live" : "file";
}

/* What made the reading stop, when it was not the capture itself. */
enum run_stop {
	RUN_READING = 0,
	RUN_STOP_SIGNAL,              /* *o->stop */
	RUN_STOP_DURATION,            /* live: o->duration */
	RUN_STOP_COUNT,               /* o->max_packets */
};

/* runs.message of a run that ended as it was told to. */
static const char *run_stop_message(enum run_stop s)
{
	switch (s) {
	case RUN_STOP_SIGNAL: return "stopped by a signal";
	case RUN_STOP_DURATION: return "duration reached";
	case RUN_STOP_COUNT: return "packet count reached";
	case RUN_READING: break;
	}
	return NULL;
}

/* One run: what it reads, the data path, and where the reading stands. */
struct run {
	struct store *st;
	struct capture *cap;          /* the run's: closed at its end */
	const char *path;             /* file path or interface name */
	enum analyze_source source;
	const struct analyze_options *o;
	struct analyze_result *res;
	struct store_run_totals *t;   /* &res->totals */
	char *err;
	size_t errlen;

	int dlt;
	struct storeq *q;             /* rows to the store's writer thread */
	struct workers *wk;           /* the flow stage, on one thread or several */
	struct ipfrag *frag;          /* IP fragments being reassembled */
	/* 0; 1: a row could not be queued (storeq_error); 2: the store failed
	 * after the queue (store_errmsg). */
	int store_failed;

	double started, last_progress, last_flush;   /* mono_now() */
	double cpu_started;           /* this thread's CPU seconds when the run began */
	enum run_stop stop;
	double drain_until;           /* live: 0, or when the drain after a stop ends */
	enum capture_status cs;       /* the last read */
	kl_time prev_ts;              /* the time of the packet before */
};

static int run_start(struct run *r);
static void run_read(struct run *r);
static int run_finish(struct run *r);

/* Takes `cap` and closes it. */
static int run_capture(struct store *st, struct capture *cap, const char *path,
		       enum analyze_source source, const struct analyze_options *o,
		       struct analyze_result *res, char *err, size_t errlen)
{
	struct run r = {
		.st = st, .cap = cap, .path = path, .source = source, .o = o,
		.res = res, .t = &res->totals, .err = err, .errlen = errlen,
	};
	if (run_start(&r) != 0)
		return -1;
	run_read(&r);
	return run_finish(&r);
}

int analyze_file(struct store *st, const char *path, const struct analyze_options *o,
		 struct analyze_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct capture *cap = capture_open_file(path, o->filter, err, errlen);
	if (!cap)
		return -1;
	return run_capture(st, cap, path, ANALYZE_FILE, o, res, err, errlen);
}

int analyze_capture(struct store *st, struct capture *cap, const char *path, bool live,
		    const struct analyze_options *o, struct analyze_result *res, char *err,
		    size_t errlen)
{
	memset(res, 0, sizeof *res);
	return run_capture(st, cap, path, live ? ANALYZE_LIVE : ANALYZE_FILE, o, res, err,
			   errlen);
}

int analyze_live(struct store *st, const struct capture_live_options *co,
		 const struct analyze_options *o, struct analyze_result *res, char *err,
		 size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct capture *cap = capture_open_live(co, err, errlen);
	if (!cap)
		return -1;
	return run_capture(st, cap, co->iface, ANALYZE_LIVE, o, res, err, errlen);
}

static bool stop_requested(const struct analyze_options *o)
{
	return o->stop && *o->stop;
}

/* The run could not get going: mark it 'error' with r->err, free what was
 * made and return -1. */
static int run_abandon(struct run *r)
{
	workers_free(r->wk);
	ipfrag_free(r->frag);
	storeq_free(r->q);
	r->t->status = STORE_RUN_ERROR;
	r->t->message = r->err;
	r->t->finished_at = wall_now();
	store_run_finish(r->st, r->t);
	capture_close(r->cap);
	return -1;
}

/* Check the link type, begin the run row, start the store writer and the
 * flow table, and (live) call the ready hook.  0, or -1 with a message in
 * r->err, the capture closed and the run row, if any, marked 'error'. */
static int run_start(struct run *r)
{
	r->t->packets_received = -1;
	r->cpu_started = kl_thread_cpu_seconds();
	r->dlt = capture_linktype(r->cap);
	struct store_run_info info = {
		.source = r->path, .source_kind = source_kind(r->source), .filter = r->o->filter,
		.link_type = r->dlt, .link_type_name = capture_linktype_name(r->cap),
		.sensor = r->o->sensor,
		.started_at = wall_now(),
		.threads = r->o->threads,
	};
	r->res->run_id = store_run_begin(r->st, &info);
	if (r->res->run_id < 0) {
		snprintf(r->err, r->errlen, "%s", store_errmsg(r->st));
		capture_close(r->cap);
		return -1;
	}
	/* A capture kalens cannot decode still gets its run, so the database
	 * says why it holds nothing from it. */
	if (!decode_linktype_supported(r->dlt)) {
		const char *name = pcap_datalink_val_to_name(r->dlt);
		if (name)
			snprintf(r->err, r->errlen, "%s: unsupported link type %s (%d)", r->path,
				 name, r->dlt);
		else
			snprintf(r->err, r->errlen, "%s: unsupported link type %d", r->path, r->dlt);
		return run_abandon(r);
	}

	/* Rows go through a writer thread, a lane for each analysis worker;
	 * the workers only number connections in the store until
	 * storeq_sync(). */
	unsigned threads = r->o->threads ? r->o->threads : 1;
	r->q = storeq_new(r->st, threads, WORKERS_ATTEMPT_KEYS);
	if (!r->q) {
		snprintf(r->err, r->errlen, "%s: cannot start the store writer", r->path);
		return run_abandon(r);
	}
	struct workers_config wc = {
		.threads = threads, .flow = &r->o->flow, .keepalive = &r->o->keepalive,
		.st = r->st, .q = r->q,
	};
	char why[256];
	r->wk = workers_new(&wc, why, sizeof why);
	if (!r->wk) {
		snprintf(r->err, r->errlen, "%s: %s", r->path, why);
		return run_abandon(r);
	}
	r->frag = ipfrag_new(NULL);
	if (!r->frag) {
		snprintf(r->err, r->errlen, "%s: out of memory for IP fragments", r->path);
		return run_abandon(r);
	}

	/* Live: the caller may now give up privileges (the capture, the save
	 * file and the database are open). */
	if (r->source == ANALYZE_LIVE && r->o->ready &&
	    r->o->ready(r->o->ready_ctx, r->cap, r->err, r->errlen) != 0)
		return run_abandon(r);

	r->started = r->last_progress = r->last_flush = mono_now();
	return 0;
}

static bool run_tick(struct run *r);
static void run_dispatch(struct run *r, const struct capture_pkt *pkt);
static bool run_after_packet(struct run *r);

/* Read until the capture ends or fails, or something stops the run: a
 * stop request, the duration, the packet count, a store failure. */
static void run_read(struct run *r)
{
	struct capture_pkt pkt;
	while ((r->cs = capture_next(r->cap, &pkt)) == CAPTURE_PACKET ||
	       r->cs == CAPTURE_TIMEOUT) {
		/* The clock is read every 256 packets, not for each. */
		if (r->cs == CAPTURE_TIMEOUT || (r->t->packets & 0xff) == 0) {
			if (!run_tick(r))
				break;
			if (r->cs == CAPTURE_TIMEOUT)
				continue;
		}
		run_dispatch(r, &pkt);
		if (!run_after_packet(r))
			break;
	}
}

static bool run_tick_live(struct run *r);

static bool run_store_failed(struct run *r)
{
	if (!r->store_failed && workers_failed(r->wk))
		r->store_failed = 1;
	return r->store_failed != 0;
}

/* Every 256 packets and at each read timeout.  false: stop reading. */
static bool run_tick(struct run *r)
{
	if (r->source == ANALYZE_LIVE) {
		if (!run_tick_live(r))
			return false;
	} else if (stop_requested(r->o)) {
		r->stop = RUN_STOP_SIGNAL;
		return false;
	}
	return !run_store_failed(r);
}

/* Live: told to stop at `now`; reading goes on for the drain. */
static void run_live_stop(struct run *r, enum run_stop why, double now)
{
	r->stop = why;
	r->drain_until = now + 0.5;
}

/* Live: once told to stop (a signal, the duration), the packets the
 * kernel already holds are still read, until the first read timeout
 * after that (a packet may wait up to the timeout in a kernel block) or
 * half a second.  false: the drain is over. */
static bool run_live_keep_reading(struct run *r, double now)
{
	if (r->drain_until == 0) {
		if (stop_requested(r->o))
			run_live_stop(r, RUN_STOP_SIGNAL, now);
		else if (r->o->duration > 0 && now - r->started >= r->o->duration)
			run_live_stop(r, RUN_STOP_DURATION, now);
		return true;
	}
	return r->cs != CAPTURE_TIMEOUT && now < r->drain_until;
}

/* Live: the kernel's received and dropped counts into t, when it tells. */
static void kernel_counts(struct capture *cap, struct store_run_totals *t)
{
	uint64_t recv;
	if (capture_stats(cap, &recv, &t->packets_dropped) == 0)
		t->packets_received = recv > INT64_MAX ? INT64_MAX : (int64_t)recv;
	else
		t->packets_dropped = 0;
}

/* Live: the run's row says how far it got (its counts, the kernel's, the
 * connections still open), written with the commit that follows. */
static void run_progress(struct run *r)
{
	struct store_run_totals p = *r->t;
	kernel_counts(r->cap, &p);
	struct workers_totals wt = workers_totals(r->wk);
	p.connections = wt.connections;
	p.requests = wt.requests;
	p.findings = wt.findings;
	p.connections_open = wt.conns_open;
	p.updated_at = wall_now();
	storeq_progress(r->q, &p);
}

/* Live, by the wall clock since no packet may come: end idle connections,
 * commit every flush_interval (report and sql read the database while it
 * runs), refresh the status line, decide whether to stop.  false: stop
 * reading. */
static bool run_tick_live(struct run *r)
{
	double now = mono_now();
	if (r->cs == CAPTURE_TIMEOUT) {
		workers_expire(r->wk, wall_now());
		workers_kick(r->wk);
	}
	if (now - r->last_flush >= r->o->flush_interval) {
		r->last_flush = now;
		run_progress(r);
		workers_commit(r->wk);
	}
	if (r->o->progress && now - r->last_progress >= 1.0) {
		r->last_progress = now;
		struct workers_totals wt = workers_totals(r->wk);
		status_line(r->path, r->t, r->cap, &wt, false);
	}
	return run_live_keep_reading(r, now);
}

/* A fragment: held until its datagram is whole, which is then decoded on
 * like any packet (a tunnel's inner packet may be a fragment again: the
 * loop runs at most once per tunnel).  The result for the packet. */
static enum decode_result run_fragment(struct run *r, struct decode_tcp *d, kl_time ts)
{
	enum decode_result res = DECODE_FRAGMENT;
	r->t->packets_fragment++;
	for (int i = 0; res == DECODE_FRAGMENT && i <= DECODE_MAX_ENCAP; i++) {
		struct ipfrag_piece p = {
			.ip_version = d->ip_version, .proto = d->frag.proto,
			.header_len = (uint16_t)(d->frag.header_len > UINT16_MAX ? UINT16_MAX
										  : d->frag.header_len),
			.id = d->frag.id, .context = encap_identity_hash(&d->encap),
			.src = d->src, .dst = d->dst, .offset = d->frag.offset, .more = d->frag.more,
			.data = d->frag.data, .len = d->frag.len, .wire_len = d->frag.wire_len,
		};
		struct ipfrag_datagram dg;
		if (ipfrag_push(r->frag, &p, ts, &dg) != IPFRAG_DONE)
			return DECODE_FRAGMENT;
		res = decode_ip_payload(dg.proto, dg.data, dg.caplen, dg.len, d);
	}
	return res == DECODE_FRAGMENT ? DECODE_UNSUPPORTED : res;
}

/* Count one packet and decode it; TCP goes to the flow table. */
static void run_dispatch(struct run *r, const struct capture_pkt *pkt)
{
	struct store_run_totals *t = r->t;
	/* A clock stepped back, or records merged out of order: counted, and
	 * the run's span is from its earliest to its latest time. */
	if (t->packets > 0 && pkt->ts < r->prev_ts)
		t->packets_time_backwards++;
	r->prev_ts = pkt->ts;
	if (t->packets == 0 || pkt->ts < t->first_packet)
		t->first_packet = pkt->ts;
	if (t->packets == 0 || pkt->ts > t->last_packet)
		t->last_packet = pkt->ts;
	t->packets++;
	t->bytes += pkt->wirelen;
	struct decode_tcp d;
	enum decode_result res = decode_packet(r->dlt, pkt->data, pkt->caplen, &d);
	if (res == DECODE_FRAGMENT)
		res = run_fragment(r, &d, pkt->ts);
	switch (res) {
	case DECODE_TCP:
		workers_packet(r->wk, &d, pkt->ts);
		break;
	case DECODE_NOT_TCP:
	case DECODE_UNSUPPORTED_LINK:
		t->packets_not_tcp++;
		break;
	case DECODE_FRAGMENT:             /* held, counted by run_fragment() */
		break;
	case DECODE_ENCRYPTED:
		t->packets_encrypted++;
		break;
	case DECODE_UNSUPPORTED:
		t->packets_unsupported++;
		break;
	case DECODE_TRUNCATED:
		t->packets_truncated++;
		break;
	case DECODE_MALFORMED:
		t->packets_malformed++;
		break;
	}
}

/* File: every 65536 packets, the progress line at most 4 times a second. */
static void run_file_progress(struct run *r)
{
	if (r->o->progress && mono_now() - r->last_progress >= 0.25) {
		r->last_progress = mono_now();
		progress_line(r->path, r->cap, r->t->packets, r->started, false);
	}
}

/* After each packet: a file's progress, the stop request, the packet
 * count.  false: stop reading. */
static bool run_after_packet(struct run *r)
{
	if (r->source == ANALYZE_FILE && (r->t->packets & 0xffff) == 0) {
		run_file_progress(r);
		if (run_store_failed(r))
			return false;
	}
	if (stop_requested(r->o)) {
		if (r->source == ANALYZE_FILE) {
			r->stop = RUN_STOP_SIGNAL;
			return false;
		}
		if (r->drain_until == 0)
			run_live_stop(r, RUN_STOP_SIGNAL, mono_now());
	}
	if (r->o->max_packets && r->t->packets >= r->o->max_packets) {
		r->stop = RUN_STOP_COUNT;
		return false;
	}
	return true;
}


/* How the run ended: t->status and t->message.  0, or -1 with a message
 * in r->err (which t->message may point to). */
static int run_status(struct run *r)
{
	struct store_run_totals *t = r->t;
	if (r->store_failed) {
		t->status = STORE_RUN_ERROR;
		snprintf(r->err, r->errlen, "%s: %s", r->path,
			 r->store_failed == 2 ? store_errmsg(r->st) : storeq_error(r->q));
		t->message = r->err;
		return -1;
	}
	if (r->source == ANALYZE_LIVE && r->cs != CAPTURE_ERROR) {
		/* A live run ends when it is told to: that is its normal end. */
		t->status = STORE_RUN_COMPLETE;
		t->message = run_stop_message(r->stop);
		return 0;
	}
	if (r->stop == RUN_STOP_SIGNAL || stop_requested(r->o)) {
		/* A signal during a blocking read (a pipe) surfaces as a read
		 * error: the stop request is still what ended the run. */
		t->status = STORE_RUN_INTERRUPTED;
		t->message = "interrupted by a signal";
		snprintf(r->err, r->errlen, "%s: interrupted after %llu packets; what was read is stored",
			 r->path, (unsigned long long)t->packets);
		return -1;
	}
	if (r->cs == CAPTURE_TRUNCATED) {
		t->status = STORE_RUN_TRUNCATED;
		snprintf(r->err, r->errlen, "%s; the %llu packets before it are stored",
			 capture_error(r->cap), (unsigned long long)t->packets);
		t->message = r->err;
		return -1;
	}
	if (r->cs == CAPTURE_ERROR) {
		t->status = STORE_RUN_ERROR;
		snprintf(r->err, r->errlen, "%s", capture_error(r->cap));
		t->message = r->err;
		return -1;
	}
	/* Read to the end, or to the packet count it was given. */
	t->status = STORE_RUN_COMPLETE;
	t->message = run_stop_message(r->stop);
	return 0;
}

/* Whatever stopped the reading: every connection still open is stored,
 * the rules across connections run, and the run row gets its totals and
 * how it ended.  Closes the capture.  0, or -1 with a message in r->err. */
static int run_finish(struct run *r)
{
	struct store_run_totals *t = r->t;
	bool live = r->source == ANALYZE_LIVE;
	if (live)
		kernel_counts(r->cap, r->t);
	workers_finish(r->wk);
	struct workers_totals wt = workers_totals(r->wk);
	(void)run_store_failed(r);
	if (r->o->progress && live)
		status_line(r->path, t, r->cap, &wt, true);
	ipfrag_finish(r->frag);
	struct ipfrag_stats is = ipfrag_stats(r->frag);
	t->fragments_reassembled = is.fragments_reassembled;
	t->fragments_dropped = is.fragments_dropped;
	ipfrag_free(r->frag);
	r->frag = NULL;
	workers_free(r->wk);
	r->wk = NULL;
	if (storeq_sync(r->q) != 0 && !r->store_failed)
		r->store_failed = 1;
	/* Every row of the run is stored: the rules that compare connections. */
	uint64_t cross = 0;
	if (!r->store_failed &&
	    store_cross_findings(r->st, r->o->keepalive.window_s, &cross) != 0)
		r->store_failed = 2;
	if (r->o->progress && !live)
		progress_line(r->path, r->cap, t->packets, r->started, true);

	const struct flow_stats *fs = &wt.flow;
	t->connections = wt.connections;
	t->requests = wt.requests;
	t->findings = wt.findings + cross;
	t->reasm_cap_hits = fs->reasm_cap_hits;
	t->connections_evicted = fs->conns_evicted;
	t->memcap = r->o->flow.memcap;
	t->memory_peak = fs->memory_peak;
	t->connections_evicted_memory = fs->conns_evicted_memory;
	t->memory_shed = fs->memory_shed;
	t->cpu_read_s = kl_thread_cpu_seconds() - r->cpu_started;
	t->cpu_workers_s = wt.cpu;
	t->cpu_store_s = storeq_writer_cpu(r->q);
	t->finished_at = t->updated_at = wall_now();
	t->connections_open = 0;
	int rc = run_status(r);
	storeq_free(r->q);
	if (store_run_finish(r->st, t) != 0) {
		snprintf(r->err, r->errlen, "%s: %s", r->path, store_errmsg(r->st));
		rc = -1;
	}
	capture_close(r->cap);
	return rc;
}
