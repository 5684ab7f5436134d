/*
 * storeq.c - see storeq.h.
 *
 * A record in a block: a header (length, kind), the record struct as the
 * producer passed it with each string pointer replaced by the offset of a
 * copy that follows it (0 for NULL), then the copies.  Static strings
 * (conn_record.protocol) are kept as pointers.
 */
#include "storeq.h"

#include "attempts.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks: one being filled by each lane, two more for the writer's
 * current one and the next, one spare. */
#define STOREQ_SPARE_BLOCKS 3
#define STOREQ_BLOCK_BYTES ((size_t)1 << 20)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

enum rec_kind { REC_CONN = 1, REC_REQUEST, REC_FINDING, REC_ATTEMPT };

struct rec_head {
	uint32_t len;                 /* whole record, header included, aligned */
	uint32_t kind;
};

struct block {
	uint8_t *mem;
	size_t used;
};

/* Requests gathered for one store_requests_add() call; their strings
 * point into the block being written. */
#define REQ_BATCH STORE_REQUEST_ROWS

struct pending_requests {
	struct request_record r[REQ_BATCH];
	size_t n;
};

/* One producer's side: the block it fills. */
struct storeq_lane {
	struct storeq *q;
	int prod;                     /* the block being filled, or -1 */
};

struct storeq {
	struct store *st;
	struct pending_requests pending;   /* the writer's only */
	/* Unanswered attempts summed across the lanes, so that a key makes
	 * one row however the producers split it; the writer's only. */
	struct attempts *attempts;
	pthread_t writer;
	pthread_mutex_t mu;
	pthread_cond_t has_full, has_free, drained;
	int nblocks;
	struct block *blocks;
	int *full, full_head, full_count;
	int *free_list, free_count;
	unsigned nlanes;
	struct storeq_lane *lanes;
	unsigned flush_votes;         /* lanes flushed since the last commit; under mu */
	/* A live run's progress to write with the next commit; under mu. */
	struct store_run_totals progress;
	bool has_progress;
	bool writing;                 /* the writer holds a block */
	bool commit;                  /* commit once the full blocks are stored */
	bool stop;
	/* Set under mu; producers read it without, so that every push after
	 * a failure is refused, not only the one that takes a new block. */
	atomic_bool failed;
	double cpu;                   /* the writer's CPU seconds so far; under mu */
	char err[512];
};

/* ---- writer ------------------------------------------------------------- */

static const char *str_from(const uint8_t *base, const char *off)
{
	uintptr_t o = (uintptr_t)off;
	return o ? (const char *)(base + o - 1) : NULL;
}

static int flush_requests(struct storeq *q, struct pending_requests *pr)
{
	int rc = pr->n ? store_requests_add(q->st, pr->r, pr->n) : 0;
	pr->n = 0;
	return rc;
}

struct attempts_out {
	struct store *st;
	int rc;
};

static void attempt_out(void *ctx, const struct attempt_record *r)
{
	struct attempts_out *o = ctx;
	if (o->rc == 0)
		o->rc = store_attempt_add(o->st, r);
}

/* The summed attempts become rows: when their table is full, before a
 * commit. */
static int store_attempts(struct storeq *q)
{
	struct attempts_out o = { q->st, 0 };
	attempts_drain(q->attempts, attempt_out, &o);
	return o.rc;
}

static int write_record(struct storeq *q, const uint8_t *p, struct pending_requests *pr)
{
	struct rec_head h;
	memcpy(&h, p, sizeof h);
	const uint8_t *body = p + sizeof h;
	if (h.kind == REC_REQUEST) {
		struct request_record *r = &pr->r[pr->n++];
		memcpy(r, body, sizeof *r);
#define STR_FROM_(f) r->f = str_from(p, r->f);
		REQUEST_RECORD_STRINGS(STR_FROM_)
#undef STR_FROM_
		return pr->n == REQ_BATCH ? flush_requests(q, pr) : 0;
	}
	/* Rows keep their order across kinds. */
	if (flush_requests(q, pr) != 0)
		return -1;
	switch (h.kind) {
	case REC_CONN: {
		struct conn_record c;
		memcpy(&c, body, sizeof c);
		/* The block is 8-byte aligned and so is every copy in it; the
		 * sections hold no type that needs more. */
		uint8_t *at = (uint8_t *)p + ALIGN8(sizeof h + sizeof c);
		for (int i = 0; i < FACTS_COUNT; i++) {
			if (!c.facts[i])
				continue;
			c.facts[i] = at;
			at += ALIGN8(facts_section((enum facts_id)i)->size);
		}
		return store_conn_add(q->st, &c);
	}
	case REC_FINDING: {
		struct finding_record f;
		memcpy(&f, body, sizeof f);
		f.detail = str_from(p, f.detail);
		return store_finding_add(q->st, &f);
	}
	case REC_ATTEMPT: {
		struct attempt_record a;
		memcpy(&a, body, sizeof a);
		return attempts_merge(q->attempts, &a) ? store_attempts(q) : 0;
	}
	default:
		return -1;
	}
}

static void *writer_main(void *arg)
{
	struct storeq *q = arg;
	struct pending_requests *pr = &q->pending;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->full_count == 0 && !q->stop && !q->commit)
			pthread_cond_wait(&q->has_full, &q->mu);
		if (q->full_count == 0 && q->commit) {
			/* The store is the writer's while it commits: storeq_sync()
			 * must wait for this too (writing), or the producer would
			 * use the connection at the same time. */
			q->commit = false;
			q->writing = true;
			bool failed = q->failed;
			struct store_run_totals progress = q->progress;
			bool has_progress = q->has_progress;
			q->has_progress = false;
			pthread_mutex_unlock(&q->mu);
			const char *why = NULL;
			if (!failed && (store_attempts(q) != 0 ||
					(has_progress && store_run_progress(q->st, &progress) != 0) ||
					store_flush(q->st) != 0))
				why = store_errmsg(q->st);
			double cpu = kl_thread_cpu_seconds();
			pthread_mutex_lock(&q->mu);
			if (why && !q->failed) {
				q->failed = true;
				snprintf(q->err, sizeof q->err, "%s", why);
			}
			q->cpu = cpu;
			q->writing = false;
			if (q->full_count == 0)
				pthread_cond_broadcast(&q->drained);
			continue;
		}
		if (q->full_count == 0)
			break;                 /* stopped and drained */
		int b = q->full[q->full_head];
		q->full_head = (q->full_head + 1) % q->nblocks;
		q->full_count--;
		q->writing = true;
		bool failed = q->failed;
		pthread_mutex_unlock(&q->mu);

		struct block *blk = &q->blocks[b];
		const char *why = NULL;
		for (size_t off = 0; !failed && off < blk->used;) {
			struct rec_head h;
			memcpy(&h, blk->mem + off, sizeof h);
			if (write_record(q, blk->mem + off, pr) != 0)
				failed = true;
			off += h.len;
		}
		/* The gathered requests point into this block: store them
		 * before it is handed back. */
		if (!failed && flush_requests(q, pr) != 0)
			failed = true;
		pr->n = 0;
		if (failed)
			why = store_errmsg(q->st);

		double cpu = kl_thread_cpu_seconds();
		pthread_mutex_lock(&q->mu);
		if (failed && !q->failed) {
			q->failed = true;
			snprintf(q->err, sizeof q->err, "%s", why ? why : "store failed");
		}
		q->cpu = cpu;
		q->free_list[q->free_count++] = b;
		q->writing = false;
		pthread_cond_signal(&q->has_free);
		if (q->full_count == 0)
			pthread_cond_broadcast(&q->drained);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* ---- producer ----------------------------------------------------------- */

/* Hand the lane's block to the writer (under mu). */
static void hand_over(struct storeq *q, struct storeq_lane *l)
{
	q->full[(q->full_head + q->full_count) % q->nblocks] = l->prod;
	q->full_count++;
	l->prod = -1;
	pthread_cond_signal(&q->has_full);
}

/* Room for `need` bytes in the lane's block (handing over a full one and
 * waiting for a free one as needed); NULL once the writer failed. */
static uint8_t *reserve(struct storeq_lane *l, size_t need)
{
	struct storeq *q = l->q;
	if (need > STOREQ_BLOCK_BYTES || atomic_load_explicit(&q->failed, memory_order_relaxed))
		return NULL;
	if (l->prod < 0 || q->blocks[l->prod].used + need > STOREQ_BLOCK_BYTES) {
		pthread_mutex_lock(&q->mu);
		if (l->prod >= 0)
			hand_over(q, l);
		while (q->free_count == 0)
			pthread_cond_wait(&q->has_free, &q->mu);
		l->prod = q->free_list[--q->free_count];
		q->blocks[l->prod].used = 0;
		bool failed = q->failed;
		pthread_mutex_unlock(&q->mu);
		if (failed)
			return NULL;
	}
	struct block *b = &q->blocks[l->prod];
	uint8_t *p = b->mem + b->used;
	b->used += need;
	return p;
}

/* Copy s (n bytes and its NUL) to *tail, advancing it, and return its
 * offset from rec + 1 (NULL stays NULL). */
static const char *str_put(uint8_t *rec, uint8_t **tail, const char *s, size_t n)
{
	if (!s)
		return NULL;
	memcpy(*tail, s, n + 1);
	uintptr_t off = (uintptr_t)(*tail - rec) + 1;
	*tail += n + 1;
	return (const char *)off;
}

static void put_head(uint8_t *p, size_t len, enum rec_kind kind)
{
	struct rec_head h = { (uint32_t)len, (uint32_t)kind };
	memcpy(p, &h, sizeof h);
}

/* A connection: the record, then a copy of each fact section it has, in
 * registry order, each at a multiple of 8 bytes (its pointer in the copy
 * of the record is only a marker: the writer points it at its copy). */
int storeq_conn(struct storeq_lane *q, const struct conn_record *c)
{
	size_t len = ALIGN8(sizeof(struct rec_head) + sizeof *c);
	for (int i = 0; i < FACTS_COUNT; i++)
		if (c->facts[i])
			len += ALIGN8(facts_section((enum facts_id)i)->size);
	uint8_t *p = reserve(q, len);
	if (!p)
		return -1;
	put_head(p, len, REC_CONN);
	memcpy(p + sizeof(struct rec_head), c, sizeof *c);
	size_t at = ALIGN8(sizeof(struct rec_head) + sizeof *c);
	for (int i = 0; i < FACTS_COUNT; i++) {
		if (!c->facts[i])
			continue;
		size_t n = facts_section((enum facts_id)i)->size;
		memcpy(p + at, c->facts[i], n);
		at += ALIGN8(n);
	}
	return 0;
}

int storeq_request(struct storeq_lane *q, const struct request_record *r)
{
#define STR_OF_(f) r->f,
	const char *str[] = { REQUEST_RECORD_STRINGS(STR_OF_) };
#undef STR_OF_
	enum { NSTR = sizeof str / sizeof str[0] };
	size_t n[NSTR], room = 0;
	for (int i = 0; i < NSTR; i++) {
		n[i] = str[i] ? strlen(str[i]) : 0;
		room += str[i] ? n[i] + 1 : 0;
	}
	size_t len = ALIGN8(sizeof(struct rec_head) + sizeof *r + room);
	uint8_t *p = reserve(q, len);
	if (!p)
		return -1;
	put_head(p, len, REC_REQUEST);
	struct request_record c = *r;
	uint8_t *tail = p + sizeof(struct rec_head) + sizeof c;
#define STR_AT_(f) &c.f,
	const char **dst[NSTR] = { REQUEST_RECORD_STRINGS(STR_AT_) };
#undef STR_AT_
	for (int i = 0; i < NSTR; i++)
		*dst[i] = str_put(p, &tail, str[i], n[i]);
	memcpy(p + sizeof(struct rec_head), &c, sizeof c);
	return 0;
}

int storeq_finding(struct storeq_lane *q, const struct finding_record *f)
{
	size_t dn = f->detail ? strlen(f->detail) : 0;
	size_t len = ALIGN8(sizeof(struct rec_head) + sizeof *f + (f->detail ? dn + 1 : 0));
	uint8_t *p = reserve(q, len);
	if (!p)
		return -1;
	put_head(p, len, REC_FINDING);
	struct finding_record c = *f;
	uint8_t *tail = p + sizeof(struct rec_head) + sizeof c;
	c.detail = str_put(p, &tail, f->detail, dn);
	memcpy(p + sizeof(struct rec_head), &c, sizeof c);
	return 0;
}

int storeq_attempt(struct storeq_lane *q, const struct attempt_record *a)
{
	size_t len = ALIGN8(sizeof(struct rec_head) + sizeof *a);
	uint8_t *p = reserve(q, len);
	if (!p)
		return -1;
	put_head(p, len, REC_ATTEMPT);
	memcpy(p + sizeof(struct rec_head), a, sizeof *a);
	return 0;
}

void storeq_progress(struct storeq *q, const struct store_run_totals *t)
{
	pthread_mutex_lock(&q->mu);
	q->progress = *t;
	q->progress.message = NULL;
	q->has_progress = true;
	pthread_mutex_unlock(&q->mu);
}

double storeq_writer_cpu(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	double cpu = q->cpu;
	pthread_mutex_unlock(&q->mu);
	return cpu;
}

int storeq_flush(struct storeq_lane *l)
{
	struct storeq *q = l->q;
	pthread_mutex_lock(&q->mu);
	/* The part-filled block goes only if another is free to fill next:
	 * this call must not wait for the writer. */
	if (l->prod >= 0 && q->blocks[l->prod].used && q->free_count > 0)
		hand_over(q, l);
	if (++q->flush_votes >= q->nlanes) {
		q->flush_votes = 0;
		q->commit = true;
		pthread_cond_signal(&q->has_full);
	}
	int rc = q->failed ? -1 : 0;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int storeq_sync(struct storeq *q)
{
	pthread_mutex_lock(&q->mu);
	for (unsigned i = 0; i < q->nlanes; i++) {
		struct storeq_lane *l = &q->lanes[i];
		if (l->prod < 0)
			continue;
		if (q->blocks[l->prod].used) {
			hand_over(q, l);
		} else {
			q->free_list[q->free_count++] = l->prod;
			l->prod = -1;
		}
	}
	/* The attempts still summed become rows, in a commit of their own. */
	q->flush_votes = 0;
	q->commit = true;
	pthread_cond_signal(&q->has_full);
	/* A commit asked by storeq_flush() is the writer's to finish first. */
	while (q->full_count > 0 || q->writing || q->commit)
		pthread_cond_wait(&q->drained, &q->mu);
	int rc = q->failed ? -1 : 0;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

const char *storeq_error(const struct storeq *q)
{
	return q->err;
}

/* Free the memory of q (no thread runs). */
static void storeq_release(struct storeq *q)
{
	for (int i = 0; q->blocks && i < q->nblocks; i++)
		free(q->blocks[i].mem);
	free(q->blocks);
	free(q->full);
	free(q->free_list);
	free(q->lanes);
	attempts_free(q->attempts);
	free(q);
}

struct storeq_lane *storeq_lane(struct storeq *q, unsigned i)
{
	return i < q->nlanes ? &q->lanes[i] : NULL;
}

struct storeq *storeq_new(struct store *st, unsigned lanes, uint32_t attempt_keys)
{
	if (lanes == 0 || lanes > STOREQ_MAX_LANES)
		return NULL;
	struct storeq *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->st = st;
	q->nlanes = lanes;
	q->nblocks = (int)lanes + STOREQ_SPARE_BLOCKS;
	q->lanes = calloc(lanes, sizeof *q->lanes);
	q->blocks = calloc((size_t)q->nblocks, sizeof *q->blocks);
	q->full = calloc((size_t)q->nblocks, sizeof *q->full);
	q->free_list = calloc((size_t)q->nblocks, sizeof *q->free_list);
	q->attempts = attempts_new(attempt_keys);
	if (!q->lanes || !q->blocks || !q->full || !q->free_list || !q->attempts)
		goto fail;
	for (unsigned i = 0; i < lanes; i++)
		q->lanes[i] = (struct storeq_lane){ q, -1 };
	for (int i = 0; i < q->nblocks; i++) {
		q->blocks[i].mem = malloc(STOREQ_BLOCK_BYTES);
		if (!q->blocks[i].mem)
			goto fail;
		q->free_list[q->free_count++] = i;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->has_full, NULL);
	pthread_cond_init(&q->has_free, NULL);
	pthread_cond_init(&q->drained, NULL);
	int rc = kl_thread_start(&q->writer, writer_main, q, "kalens-store");
	if (rc != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->has_full);
		pthread_cond_destroy(&q->has_free);
		pthread_cond_destroy(&q->drained);
		goto fail;
	}
	return q;
fail:
	storeq_release(q);
	return NULL;
}

void storeq_free(struct storeq *q)
{
	if (!q)
		return;
	(void)storeq_sync(q);
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->has_full);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->writer, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->has_full);
	pthread_cond_destroy(&q->has_free);
	pthread_cond_destroy(&q->drained);
	storeq_release(q);
}
