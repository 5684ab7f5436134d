/*
 * kl.h - small definitions shared by every kalens module.
 *
 * Time inside kalens is an integer count of nanoseconds since the epoch
 * (kl_time); it becomes a REAL number of seconds only at the SQLite
 * boundary, so microsecond captures keep every digit and nanosecond
 * captures lose nothing on the way.
 */
#ifndef KALENS_KL_H
#define KALENS_KL_H

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define KALENS_VERSION "0.1.0"

typedef int64_t kl_time;                 /* nanoseconds since the epoch */

#define KL_NS_PER_SEC INT64_C(1000000000)
#define KL_SEC(s) ((kl_time)((s) * (double)KL_NS_PER_SEC))

static inline double kl_time_seconds(kl_time t)
{
	return (double)(t / KL_NS_PER_SEC) + (double)(t % KL_NS_PER_SEC) / 1e9;
}

/* Direction of a byte or packet within a connection. */
enum kl_dir { KL_TO_SERVER = 0, KL_TO_CLIENT = 1 };

#define KL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A macro's value as a string literal ("64" for WORKERS_MAX). */
#define KL_STR_(x) #x
#define KL_STR(x) KL_STR_(x)

/* Start a helper thread named `name` (in top -H and perf; 15 characters
 * at most) that never takes SIGINT or SIGTERM: the reading thread does,
 * and decides when to stop.  0, or pthread_create()'s error. */
static inline int kl_thread_start(pthread_t *t, void *(*fn)(void *), void *arg,
				  const char *name)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		pthread_setname_np(*t, name);
	return rc;
}

/* Epoch seconds with microseconds, as local time "2026-12-03
 * 05:45:41.610549" (TZ decides the zone), or as ISO 8601 UTC
 * "2026-12-03T05:45:41.610549Z" when `utc`; false if out of range. */
static inline bool kl_fmt_time(double secs, bool utc, char *out, size_t outlen)
{
	if (!(secs > -1e11 && secs < 1e11))
		return false;
	double whole = floor(secs);
	long usec = lround((secs - whole) * 1e6);
	if (usec >= 1000000) {
		whole += 1;
		usec -= 1000000;
	}
	time_t t = (time_t)whole;
	struct tm tm;
	char day[32];
	if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ||
	    !strftime(day, sizeof day, utc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm))
		return false;
	snprintf(out, outlen, "%.20s.%06u%s", day, (unsigned)usec % 1000000u, utc ? "Z" : "");
	return true;
}

static inline bool kl_fmt_localtime(double secs, char *out, size_t outlen)
{
	return kl_fmt_time(secs, false, out, outlen);
}

/* CPU seconds the calling thread has used (runs.cpu_read_s, cpu_store_s). */
static inline double kl_thread_cpu_seconds(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What malloc(n) takes from the heap with glibc's allocator: a header
 * word, rounded up to 16 bytes, 32 at least.  The memory cap counts each
 * block this way (flow.h), so many small ones are not undercounted. */
static inline size_t kl_heap_bytes(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}

#endif
