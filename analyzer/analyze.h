/*
 * analyze.h - one capture file through the whole data path into one run:
 * capture -> decode -> flow (reassembly, dissectors) -> store.
 */
#ifndef KALENS_ANALYZE_H
#define KALENS_ANALYZE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "store.h"

struct analyze_options {
	const char *filter;           /* BPF, or NULL */
	struct flow_config flow;
	bool progress;                /* a progress line on stderr */
	/* Set (by a signal handler) to stop reading: the run is flushed and
	 * marked interrupted.  May be NULL. */
	volatile sig_atomic_t *stop;
};

struct analyze_result {
	int64_t run_id;               /* 0 when no run was started */
	struct store_run_totals totals;
};

/* Analyze `path` into a new run of `st`.  Returns 0 when the file was read
 * to the end; -1 otherwise with a message in err (the run, if started,
 * keeps everything read and its status says why it stopped). */
int analyze_file(struct store *st, const char *path, const struct analyze_options *o,
		 struct analyze_result *res, char *err, size_t errlen);

#endif
