/*
 * workers.c - see workers.h.
 *
 * A batch holds items one after another, each 8-byte aligned: a header
 * (length, kind, time), then for a segment the part of its struct
 * decode_tcp the flow table reads and its payload bytes (the struct's
 * payload pointer is set again by the worker).  Most segments came in no
 * tunnel: their struct stops at encap.depth, 81 bytes of 160.
 * Each worker has a ring of WORKERS_BATCHES: the reader fills batch
 * `handed % WORKERS_BATCHES` while it is free, the worker empties batch
 * `done % WORKERS_BATCHES`; the two meet once per batch (a few hundred
 * segments of 1500 bytes).
 */
#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "attempts.h"
#include "tls_keylog.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* Worker i pushes through storeq lane i. */
_Static_assert(WORKERS_MAX <= STOREQ_MAX_LANES, "a storeq lane for every worker");

enum item_kind {
	ITEM_SEGMENT = 1,             /* a decode_tcp to its frag member, its payload */
	ITEM_SEGMENT_PLAIN,           /* ... to encap.depth (0: no tunnel), its payload */
	ITEM_EXPIRE,                  /* the clock says `ts` */
	ITEM_COMMIT,                  /* live: attempts and rows to the store */
};

struct item_head {
	uint32_t len;                 /* the whole item, header included, aligned */
	uint32_t kind;
	kl_time ts;
};

struct batch {
	uint8_t *mem;
	size_t used;
};

struct worker {
	struct workers *all;
	struct flow_table *ft;
	struct storeq_lane *lane;
	struct attempts *attempts;
	struct tls_keylog *keylog;    /* this worker's copy; NULL: none or the caller's */
	struct dissect_output out;    /* points at this worker */
	uint64_t connections, requests, findings;
	atomic_bool store_failed;

	/* Threads only. */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t has_full, has_free;
	struct batch batches[WORKERS_BATCHES];
	uint64_t handed, done;        /* batches handed by the reader, emptied; under mu */
	bool finish;                  /* no batch comes after those handed; under mu */
	atomic_uint_fast64_t seen_requests, seen_open, seen_connections, seen_findings;
	double cpu;                   /* the thread's CPU seconds, when it ended */
};

struct workers {
	unsigned n;
	bool threaded;
	const struct keepalive_config *keepalive;
	struct store *st;
	uint64_t seed;                /* of the hash that picks a worker */
	kl_time now, last_expire;     /* the clock over all TCP segments */
	struct worker w[];
};

/* ---- the analysis of one worker ------------------------------------------ */

static void mark_failed(struct worker *k)
{
	atomic_store_explicit(&k->store_failed, true, memory_order_relaxed);
}

static void on_attempt_sum(void *ctx, const struct attempt_record *r)
{
	struct worker *k = ctx;
	if (storeq_attempt(k->lane, r) != 0)
		mark_failed(k);
}

/* The worker's sums of attempts go to the store, which adds them up with
 * the other workers' (storeq.h). */
static void attempts_hand(struct worker *k)
{
	attempts_drain(k->attempts, on_attempt_sum, k);
}

/* A connection ended: the keep-alive analysis judges it, then it is stored. */
static void on_conn_done(void *ctx, const struct conn_record *rec)
{
	struct worker *k = ctx;
	if (rec->attempt_only) {
		if (attempts_add(k->attempts, rec))
			attempts_hand(k);
		return;
	}
	k->connections++;
	struct conn_record r = *rec;
	keepalive_conn_done(k->all->keepalive, &r, &k->out);
	if (storeq_conn(k->lane, &r) != 0)
		mark_failed(k);
}

static int64_t on_conn_id(void *ctx)
{
	struct worker *k = ctx;
	return store_conn_next_id(k->all->st);
}

static void on_request(void *ctx, const struct request_record *r)
{
	struct worker *k = ctx;
	k->requests++;
	if (storeq_request(k->lane, r) != 0)
		mark_failed(k);
}

static void on_finding(void *ctx, const struct finding_record *f)
{
	struct worker *k = ctx;
	k->findings++;
	if (storeq_finding(k->lane, f) != 0)
		mark_failed(k);
}

static void worker_commit(struct worker *k)
{
	attempts_hand(k);
	if (storeq_flush(k->lane) != 0)
		mark_failed(k);
}

/* ---- worker threads ------------------------------------------------------ */

/* How much of a segment's struct decode_tcp travels: to its frag member
 * (never read by the flow table), or, in no tunnel, to encap.depth. */
static size_t segment_struct_bytes(bool plain)
{
	return plain ? offsetof(struct decode_tcp, encap.depth) + sizeof(uint8_t)
		     : offsetof(struct decode_tcp, frag);
}

static void worker_item(struct worker *k, const uint8_t *p)
{
	struct item_head h;
	memcpy(&h, p, sizeof h);
	switch ((enum item_kind)h.kind) {
	case ITEM_SEGMENT:
	case ITEM_SEGMENT_PLAIN: {
		/* The members past the copied part are not read: encap's others
		 * when encap.depth is 0, frag always. */
		struct decode_tcp d;
		size_t n = segment_struct_bytes(h.kind == ITEM_SEGMENT_PLAIN);
		memcpy(&d, p + sizeof h, n);
		d.payload = p + ALIGN8(sizeof h + n);
		flow_table_packet(k->ft, &d, h.ts);
		break;
	}
	case ITEM_EXPIRE:
		flow_table_expire(k->ft, h.ts);
		break;
	case ITEM_COMMIT:
		worker_commit(k);
		break;
	}
}

static void worker_publish(struct worker *k)
{
	atomic_store_explicit(&k->seen_requests, k->requests, memory_order_relaxed);
	atomic_store_explicit(&k->seen_connections, k->connections, memory_order_relaxed);
	atomic_store_explicit(&k->seen_findings, k->findings, memory_order_relaxed);
	atomic_store_explicit(&k->seen_open, flow_table_stats(k->ft).conns_open,
			      memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (k->done == k->handed && !k->finish)
			pthread_cond_wait(&k->has_full, &k->mu);
		if (k->done == k->handed)
			break;                 /* finished and emptied */
		struct batch *b = &k->batches[k->done % WORKERS_BATCHES];
		pthread_mutex_unlock(&k->mu);

		for (size_t off = 0; off < b->used;) {
			struct item_head h;
			memcpy(&h, b->mem + off, sizeof h);
			worker_item(k, b->mem + off);
			off += h.len;
		}
		worker_publish(k);

		pthread_mutex_lock(&k->mu);
		k->done++;
		pthread_cond_signal(&k->has_free);
	}
	pthread_mutex_unlock(&k->mu);
	/* The end of the input: every connection ends here, in this thread. */
	flow_table_flush(k->ft);
	attempts_hand(k);
	worker_publish(k);
	k->cpu = kl_thread_cpu_seconds();
	return NULL;
}

/* The batch the reader fills for k (free: handed - done < WORKERS_BATCHES,
 * which workers_hand() waits for). */
static struct batch *filling(struct worker *k)
{
	return &k->batches[k->handed % WORKERS_BATCHES];
}

/* Hand k's filling batch over (if it holds anything) and wait until the
 * next is free.  Only the reader hands, so `handed` is read unlocked. */
static void workers_hand(struct worker *k)
{
	if (filling(k)->used == 0)
		return;
	pthread_mutex_lock(&k->mu);
	k->handed++;
	pthread_cond_signal(&k->has_full);
	while (k->handed - k->done >= WORKERS_BATCHES)
		pthread_cond_wait(&k->has_free, &k->mu);
	pthread_mutex_unlock(&k->mu);
	filling(k)->used = 0;
}

/* Room for an item of `len` bytes (aligned) in k's filling batch. */
static uint8_t *item_room(struct worker *k, size_t len)
{
	struct batch *b = filling(k);
	if (b->used + len > WORKERS_BATCH_BYTES) {
		workers_hand(k);
		b = filling(k);
	}
	uint8_t *p = b->mem + b->used;
	b->used += len;
	return p;
}

static void item_put(struct worker *k, enum item_kind kind, kl_time ts)
{
	struct item_head h = { (uint32_t)ALIGN8(sizeof h), kind, ts };
	memcpy(item_room(k, h.len), &h, sizeof h);
}

/* A segment's item: its header, its decode_tcp as far as the flow table
 * reads it, its payload. */
static void segment_put(struct worker *k, const struct decode_tcp *d, kl_time ts)
{
	bool plain = d->encap.depth == 0;
	struct item_head h = { 0, plain ? ITEM_SEGMENT_PLAIN : ITEM_SEGMENT, ts };
	size_t n = segment_struct_bytes(plain);
	size_t fixed = ALIGN8(sizeof h + n);
	uint32_t caplen = d->payload_caplen;
	/* A snapshot length caps a segment well below a batch; a larger one
	 * keeps what fits, as a capture cut short would. */
	if (caplen > WORKERS_BATCH_BYTES - fixed)
		caplen = (uint32_t)(WORKERS_BATCH_BYTES - fixed);
	h.len = (uint32_t)ALIGN8(fixed + caplen);
	uint8_t *p = item_room(k, h.len);
	memcpy(p, &h, sizeof h);
	memcpy(p + sizeof h, d, n);
	memcpy(p + sizeof h + offsetof(struct decode_tcp, payload_caplen), &caplen, sizeof caplen);
	if (caplen)
		memcpy(p + fixed, d->payload, caplen);
}

/* The worker of a segment's connection: a seeded hash of its two
 * endpoints, the same both ways. */
static unsigned worker_of(const struct workers *w, const struct decode_tcp *d)
{
	uint64_t e[2];
	for (int side = 0; side < 2; side++) {
		const uint8_t *ip = side ? d->dst : d->src;
		uint64_t a, b;
		memcpy(&a, ip, 8);
		memcpy(&b, ip + 8, 8);
		uint64_t h = w->seed ^ (side ? d->dport : d->sport);
		h = (h ^ a) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
		h = (h ^ b) * UINT64_C(0xBF58476D1CE4E5B9);
		h ^= h >> 31;
		e[side] = h;
	}
	uint64_t h = (e[0] + e[1]) * UINT64_C(0x94D049BB133111EB);
	return (unsigned)(((h >> 32) * w->n) >> 32);
}

/* ---- the reader's side --------------------------------------------------- */

static void expire_all(struct workers *w, kl_time now)
{
	w->last_expire = now;
	for (unsigned i = 0; i < w->n; i++) {
		if (w->threaded)
			item_put(&w->w[i], ITEM_EXPIRE, now);
		else
			flow_table_expire(w->w[i].ft, now);
	}
}

void workers_packet(struct workers *w, const struct decode_tcp *d, kl_time ts)
{
	/* The clock flow_table_packet() keeps for itself in one table. */
	if (ts > w->now)
		w->now = ts;
	if (w->now - w->last_expire >= FLOW_EXPIRE_EVERY)
		expire_all(w, w->now);
	if (!w->threaded)
		flow_table_packet(w->w[0].ft, d, ts);
	else
		segment_put(&w->w[worker_of(w, d)], d, ts);
}

void workers_expire(struct workers *w, kl_time now)
{
	expire_all(w, now);
}

void workers_kick(struct workers *w)
{
	for (unsigned i = 0; w->threaded && i < w->n; i++)
		workers_hand(&w->w[i]);
}

void workers_commit(struct workers *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		if (w->threaded)
			item_put(&w->w[i], ITEM_COMMIT, 0);
		else
			worker_commit(&w->w[i]);
	}
	workers_kick(w);
}

bool workers_failed(const struct workers *w)
{
	for (unsigned i = 0; i < w->n; i++)
		if (atomic_load_explicit(&w->w[i].store_failed, memory_order_relaxed))
			return true;
	return false;
}

/* Tell k's thread that nothing more comes and wait for it to end. */
static void worker_stop(struct worker *k)
{
	if (!k->started)
		return;
	pthread_mutex_lock(&k->mu);
	k->finish = true;
	pthread_cond_signal(&k->has_full);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	k->started = false;
}

void workers_finish(struct workers *w)
{
	if (!w->threaded) {
		flow_table_flush(w->w[0].ft);
		attempts_hand(&w->w[0]);
		return;
	}
	for (unsigned i = 0; i < w->n; i++) {
		workers_hand(&w->w[i]);
		worker_stop(&w->w[i]);
	}
}

static void flow_stats_add(struct flow_stats *s, const struct flow_stats *a)
{
	s->conns_open += a->conns_open;
	s->conns_total += a->conns_total;
	s->streams += a->streams;
	s->conns_evicted += a->conns_evicted;
	s->conns_evicted_memory += a->conns_evicted_memory;
	s->memory_shed += a->memory_shed;
	s->memory += a->memory;
	s->memory_peak += a->memory_peak;
	s->conns_port_reused += a->conns_port_reused;
	s->conns_paired += a->conns_paired;
	s->tunnels_overflow += a->tunnels_overflow;
	s->reasm_cap_hits += a->reasm_cap_hits;
	s->reasm_bytes_peak += a->reasm_bytes_peak;
}

struct workers_totals workers_totals(struct workers *w)
{
	struct workers_totals t = { 0 };
	for (unsigned i = 0; i < w->n; i++) {
		struct worker *k = &w->w[i];
		if (k->started) {
			/* Running: what it published after its last batch. */
			t.requests += atomic_load_explicit(&k->seen_requests, memory_order_relaxed);
			t.connections += atomic_load_explicit(&k->seen_connections,
							      memory_order_relaxed);
			t.findings += atomic_load_explicit(&k->seen_findings, memory_order_relaxed);
			t.conns_open += atomic_load_explicit(&k->seen_open, memory_order_relaxed);
			continue;
		}
		struct flow_stats fs = flow_table_stats(k->ft);
		flow_stats_add(&t.flow, &fs);
		t.connections += k->connections;
		t.requests += k->requests;
		t.findings += k->findings;
		t.conns_open += fs.conns_open;
		t.cpu += k->cpu;
	}
	return t;
}

/* ---- making and freeing -------------------------------------------------- */

static void worker_free(struct worker *k, bool threaded)
{
	worker_stop(k);
	flow_table_free(k->ft);
	attempts_free(k->attempts);
	tls_keylog_free(k->keylog);
	if (threaded) {
		for (int b = 0; b < WORKERS_BATCHES; b++)
			free(k->batches[b].mem);
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->has_full);
		pthread_cond_destroy(&k->has_free);
	}
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++)
		worker_free(&w->w[i], w->threaded);
	free(w);
}

/* A worker's share of a limit (0 stays 0: none). */
static size_t share(size_t limit, unsigned n)
{
	size_t s = limit / n;
	return limit && s == 0 ? 1 : s;
}

static bool worker_init(struct workers *w, struct worker *k, unsigned i,
			const struct workers_config *c, char *err, size_t errlen)
{
	k->all = w;
	if (w->threaded) {
		pthread_mutex_init(&k->mu, NULL);
		pthread_cond_init(&k->has_full, NULL);
		pthread_cond_init(&k->has_free, NULL);
	}
	k->lane = storeq_lane(c->q, i);
	k->out = (struct dissect_output){ on_request, on_finding, k };
	k->attempts = attempts_new(WORKERS_ATTEMPT_KEYS);
	struct flow_config fc = *c->flow;
	fc.expire_by_caller = true;
	fc.max_conns = (uint32_t)share(fc.max_conns, w->n);
	fc.memcap = share(fc.memcap, w->n);
	fc.reasm_global_cap = share(fc.reasm_global_cap, w->n);
	/* The TLS dissector refreshes a key log from its file: one per thread. */
	if (w->threaded && fc.keylog) {
		k->keylog = tls_keylog_clone(fc.keylog);
		fc.keylog = k->keylog;
	}
	if (!k->lane || !k->attempts || (c->flow->keylog && w->threaded && !k->keylog)) {
		snprintf(err, errlen, "out of memory starting analysis worker %u", i);
		return false;
	}
	struct flow_hooks hooks = { on_conn_done, on_conn_id, k, &k->out };
	k->ft = flow_table_new(&fc, &hooks, err, errlen);
	if (!k->ft)
		return false;
	if (!w->threaded)
		return true;

	for (int b = 0; b < WORKERS_BATCHES; b++) {
		k->batches[b].mem = malloc(WORKERS_BATCH_BYTES);
		if (!k->batches[b].mem) {
			snprintf(err, errlen, "out of memory starting analysis worker %u", i);
			return false;
		}
	}
	char name[16];
	snprintf(name, sizeof name, "kalens-flow%u", i);
	int rc = kl_thread_start(&k->thread, worker_main, k, name);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start analysis worker %u: %s", i, strerror(rc));
		return false;
	}
	k->started = true;
	return true;
}

struct workers *workers_new(const struct workers_config *c, char *err, size_t errlen)
{
	if (c->threads == 0 || c->threads > WORKERS_MAX) {
		snprintf(err, errlen, "analysis threads must be 1 to %d", WORKERS_MAX);
		return NULL;
	}
	struct workers *w = calloc(1, sizeof *w + c->threads * sizeof w->w[0]);
	if (!w) {
		snprintf(err, errlen, "out of memory starting the analysis");
		return NULL;
	}
	w->n = c->threads;
	w->threaded = c->threads > 1;
	w->keepalive = c->keepalive;
	w->st = c->st;
	if (getrandom(&w->seed, sizeof w->seed, GRND_NONBLOCK) != (ssize_t)sizeof w->seed)
		w->seed = (uint64_t)(uintptr_t)w ^ UINT64_C(0x2545F4914F6CDD1D);
	for (unsigned i = 0; i < w->n; i++) {
		if (!worker_init(w, &w->w[i], i, c, err, errlen)) {
			/* Workers already started stop without ending anything. */
			w->n = i + 1;
			workers_free(w);
			return NULL;
		}
	}
	return w;
}
