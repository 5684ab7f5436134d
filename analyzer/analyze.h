/*
 * analyze.h - one capture (a file, or an interface until told to stop)
 * through the whole data path into one run:
 * capture -> decode -> flow (reassembly, dissectors) -> store.
 */
#ifndef KALENS_ANALYZE_H
#define KALENS_ANALYZE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "flow.h"
#include "keepalive.h"
#include "store.h"

struct analyze_options {
	const char *filter;           /* BPF, or NULL */
	const char *sensor;           /* runs.sensor; NULL: the host name */
	/* --ship: ship the database there while reading (ship.h); NULL: no. */
	const char *ship_url;
	double ship_wait;             /* seconds the last pass may take at the end */
	struct flow_config flow;
	struct keepalive_config keepalive;
	bool progress;                /* a progress line on stderr */
	/* Analysis workers (workers.h): 1 runs the flow stage in the reading
	 * thread; 0 is taken as 1. */
	unsigned threads;
	/* Set (by a signal handler) to stop reading: the run is flushed and
	 * marked interrupted (a file) or complete (live).  May be NULL. */
	volatile sig_atomic_t *stop;
	/* Stop after this many packets, the run complete with the message
	 * "packet count reached"; 0: no limit. */
	uint64_t max_packets;

	/* Live only. */
	double duration;              /* seconds; 0: until stopped */
	double flush_interval;        /* seconds between commits */
	/* Called once the capture, its save file and the database are open,
	 * before the first packet (to drop privileges).  0, or -1 with a
	 * message in err, which ends the run.  May be NULL. */
	int (*ready)(void *ctx, struct capture *cap, char *err, size_t errlen);
	void *ready_ctx;
};

struct analyze_result {
	int64_t run_id;               /* 0 when no run was started */
	struct store_run_totals totals;
};

/* Analyze `path` into a new run of `st`.  Returns 0 when the file was read
 * to the end or to o->max_packets (run 'complete'); -1 otherwise with a
 * message in err (the run, if started, keeps everything read and its
 * status says why it stopped). */
int analyze_file(struct store *st, const char *path, const struct analyze_options *o,
		 struct analyze_result *res, char *err, size_t errlen);

/* analyze_file() or analyze_live() of a capture the caller opened
 * (capture_open_file(), or capture_open_live() when `live`), so a capture
 * that does not open never touches the database; takes `cap` and closes
 * it.  `path` (the file or interface) names it in the run and messages. */
int analyze_capture(struct store *st, struct capture *cap, const char *path, bool live,
		    const struct analyze_options *o, struct analyze_result *res, char *err,
		    size_t errlen);

/* Capture on an interface into a new run of `st` until *o->stop, the
 * duration or the packet count; connections still open are stored as
 * 'open', and the run records the kernel's received/dropped counts.
 * Returns 0 when it ended that way (run 'complete'); -1 with a message in
 * err when the interface could not be opened or failed, or the store did. */
int analyze_live(struct store *st, const struct capture_live_options *co,
		 const struct analyze_options *o, struct analyze_result *res, char *err,
		 size_t errlen);

#endif
