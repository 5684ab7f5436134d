/*
 * ipfrag.c - IPv4 and IPv6 fragment reassembly (see ipfrag.h for the
 * policies).
 *
 * A datagram is a record in a chained hash table plus a sorted list of
 * non-overlapping byte ranges ("nodes"), each holding the bytes a piece
 * added that no earlier piece had (first copy wins), or knowing them
 * uncaptured past a snaplen cut.  `covered` is the sum of the ranges'
 * lengths, so a datagram is complete when its end is known and covered
 * equals it: no walk per piece to find out.  Completed datagrams are
 * copied once into a table-owned buffer of 65535 bytes and delivered.
 *
 * Records sit on one of two lists in the order they were made (open:
 * incomplete, by first fragment; done: by completion), so expiry and
 * eviction always take a list's head and cost O(1) per record.  Record
 * times are clamped to the latest time seen, which keeps each list sorted
 * by time even when capture timestamps step back.
 */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#define BUCKETS_MIN 64u
#define BUCKETS_MAX (1u << 20)

struct frag_node {
	struct frag_node *next;
	uint32_t off, len;            /* wire bytes [off, off + len) */
	uint32_t caplen;              /* the first caplen of them are in data */
	uint8_t data[];
};

struct frag_key {
	uint8_t src[16], dst[16];
	uint64_t context;
	uint32_t id;
	uint8_t version, proto;
	uint8_t pad[2];               /* zeroed: keys are compared with memcmp */
};

struct dgram {
	struct frag_key key;
	struct dgram *hnext;          /* hash chain; the free list when unused */
	struct dgram *prev, *next;    /* its list (open or done) */
	uint32_t hash;
	bool done;                    /* delivered: kept only to absorb duplicates */
	bool has_end;                 /* the last fragment was seen */
	uint32_t end;                 /* payload length (has_end), or of the delivered one */
	uint32_t max_end;             /* the furthest byte seen */
	uint32_t covered;             /* wire bytes held: the nodes' lengths */
	uint32_t nfrags;              /* pieces held */
	uint64_t charge;              /* memory charged for this record and its nodes */
	kl_time since;                /* first fragment (open), completion (done) */
	struct frag_node *nodes, *tail;
};

struct dlist {
	struct dgram *head, *tail;
};

struct ipfrag {
	struct ipfrag_config cfg;
	uint64_t seed;
	struct dgram **buckets;
	uint32_t mask;
	struct dlist open, done;
	uint32_t count;               /* records in use (open + done) */
	struct dgram *free_recs;      /* recycled records */
	kl_time now;                  /* latest time seen */
	bool now_set;
	uint8_t *out;                 /* IPFRAG_MAX_PAYLOAD bytes: the delivered datagram */
	struct ipfrag_stats st;
};

void ipfrag_config_defaults(struct ipfrag_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_total_bytes = (size_t)16 << 20;
	cfg->max_datagrams = 4096;
	cfg->timeout = 30 * KL_NS_PER_SEC;
	cfg->done_linger = KL_NS_PER_SEC;
}

struct ipfrag *ipfrag_new(const struct ipfrag_config *cfg)
{
	struct ipfrag *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (cfg)
		t->cfg = *cfg;
	else
		ipfrag_config_defaults(&t->cfg);
	if (t->cfg.max_datagrams == 0)
		t->cfg.max_datagrams = 1;
	uint32_t nb = BUCKETS_MIN;
	while (nb < t->cfg.max_datagrams && nb < BUCKETS_MAX)
		nb <<= 1;
	t->mask = nb - 1;
	t->buckets = calloc(nb, sizeof *t->buckets);
	t->out = malloc(IPFRAG_MAX_PAYLOAD);
	if (!t->buckets || !t->out) {
		ipfrag_free(t);
		return NULL;
	}
	/* A seeded hash: crafted ids cannot be made to collide. */
	if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
		t->seed = (uint64_t)(uintptr_t)t ^ UINT64_C(0x5851F42D4C957F2D);
	return t;
}

/* ---- records, lists, memory ---------------------------------------------- */

static void list_add(struct dlist *l, struct dgram *d)
{
	d->next = NULL;
	d->prev = l->tail;
	if (l->tail)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
}

static void list_del(struct dlist *l, struct dgram *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		l->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		l->tail = d->prev;
	d->prev = d->next = NULL;
}

static void charge_add(struct ipfrag *t, struct dgram *d, uint64_t n)
{
	d->charge += n;
	t->st.bytes_now += n;
	if (t->st.bytes_now > t->st.bytes_peak)
		t->st.bytes_peak = t->st.bytes_now;
}

static void charge_sub(struct ipfrag *t, struct dgram *d, uint64_t n)
{
	d->charge -= n;
	t->st.bytes_now -= n;
}

static uint64_t node_charge(uint32_t caplen)
{
	return (uint64_t)caplen + IPFRAG_NODE_CHARGE;
}

static void nodes_free(struct ipfrag *t, struct dgram *d)
{
	struct frag_node *n = d->nodes;
	while (n) {
		struct frag_node *next = n->next;
		charge_sub(t, d, node_charge(n->caplen));
		free(n);
		n = next;
	}
	d->nodes = d->tail = NULL;
	d->covered = 0;
}

static void hash_del(struct ipfrag *t, struct dgram *d)
{
	struct dgram **pp = &t->buckets[d->hash & t->mask];
	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
}

/* Unlink a record and put it on the free list; its fragments are already
 * counted by the caller. */
static void rec_release(struct ipfrag *t, struct dgram *d)
{
	hash_del(t, d);
	list_del(d->done ? &t->done : &t->open, d);
	if (!d->done)
		t->st.datagrams_held--;
	nodes_free(t, d);
	charge_sub(t, d, IPFRAG_RECORD_CHARGE);
	t->count--;
	d->hnext = t->free_recs;
	t->free_recs = d;
}

enum drop_why { WHY_TIMEOUT, WHY_EVICTED, WHY_AT_END };

/* Drop an incomplete datagram with every fragment it holds. */
static void open_drop(struct ipfrag *t, struct dgram *d, enum drop_why why)
{
	uint64_t n = d->nfrags;
	t->st.fragments_held -= n;
	t->st.fragments_dropped += n;
	switch (why) {
	case WHY_TIMEOUT:
		t->st.dropped_timeout += n;
		t->st.datagrams_timed_out++;
		break;
	case WHY_EVICTED:
		t->st.dropped_evicted += n;
		t->st.datagrams_evicted++;
		break;
	case WHY_AT_END:
		t->st.dropped_at_end += n;
		break;
	}
	rec_release(t, d);
}

/* Evict the oldest record other than `keep`: a completed one if any
 * (nothing is lost), else the oldest incomplete one.  False if none. */
static bool evict_one(struct ipfrag *t, const struct dgram *keep)
{
	if (t->done.head) {
		rec_release(t, t->done.head);
		return true;
	}
	struct dgram *d = t->open.head;
	if (d && d == keep)
		d = d->next;
	if (!d)
		return false;
	open_drop(t, d, WHY_EVICTED);
	return true;
}

/* Make room for `bytes` more charged memory and, if `record`, one more
 * record, evicting others than `keep`. */
static bool make_room(struct ipfrag *t, uint64_t bytes, bool record, const struct dgram *keep)
{
	while (record && t->count >= t->cfg.max_datagrams)
		if (!evict_one(t, keep))
			return false;
	while (t->st.bytes_now + bytes > t->cfg.max_total_bytes)
		if (!evict_one(t, keep))
			return false;
	return true;
}

/* ---- time ----------------------------------------------------------------- */

static kl_time clock_at(struct ipfrag *t, kl_time ts)
{
	if (!t->now_set || ts > t->now) {
		t->now = ts;
		t->now_set = true;
	}
	return t->now;
}

/* Has `span` passed from `since` to `now` (now >= since: clamped)? */
static bool due(kl_time since, kl_time span, kl_time now)
{
	if (span <= 0)
		return true;
	return (uint64_t)now - (uint64_t)since >= (uint64_t)span;
}

void ipfrag_expire(struct ipfrag *t, kl_time now)
{
	now = clock_at(t, now);
	while (t->open.head && due(t->open.head->since, t->cfg.timeout, now))
		open_drop(t, t->open.head, WHY_TIMEOUT);
	while (t->done.head && due(t->done.head->since, t->cfg.done_linger, now))
		rec_release(t, t->done.head);
}

uint64_t ipfrag_finish(struct ipfrag *t)
{
	uint64_t before = t->st.dropped_at_end;
	while (t->open.head)
		open_drop(t, t->open.head, WHY_AT_END);
	while (t->done.head)
		rec_release(t, t->done.head);
	return t->st.dropped_at_end - before;
}

void ipfrag_free(struct ipfrag *t)
{
	if (!t)
		return;
	if (t->buckets) {
		while (t->open.head)
			rec_release(t, t->open.head);
		while (t->done.head)
			rec_release(t, t->done.head);
	}
	while (t->free_recs) {
		struct dgram *d = t->free_recs;
		t->free_recs = d->hnext;
		free(d);
	}
	free(t->buckets);
	free(t->out);
	free(t);
}

/* ---- lookup --------------------------------------------------------------- */

static uint32_t key_hash(const struct frag_key *k, uint64_t seed)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	uint64_t h = seed;
	for (size_t i = 0; i < KL_ARRAY_LEN(w); i++) {
		h = (h ^ w[i]) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

_Static_assert(sizeof(struct frag_key) % 8 == 0, "frag_key hashed as 64-bit words");

static struct dgram *lookup(struct ipfrag *t, const struct frag_key *k, uint32_t hash)
{
	for (struct dgram *d = t->buckets[hash & t->mask]; d; d = d->hnext)
		if (d->hash == hash && memcmp(&d->key, k, sizeof *k) == 0)
			return d;
	return NULL;
}

/* A new, empty incomplete record (room already made), or NULL. */
static struct dgram *rec_new(struct ipfrag *t, const struct frag_key *k, uint32_t hash,
			     kl_time now)
{
	struct dgram *d = t->free_recs;
	if (d)
		t->free_recs = d->hnext;
	else if (!(d = malloc(sizeof *d)))
		return NULL;
	memset(d, 0, sizeof *d);
	d->key = *k;
	d->hash = hash;
	d->since = now;
	d->hnext = t->buckets[hash & t->mask];
	t->buckets[hash & t->mask] = d;
	list_add(&t->open, d);
	t->count++;
	t->st.datagrams_held++;
	charge_add(t, d, IPFRAG_RECORD_CHARGE);
	return d;
}

/* ---- one piece into one datagram ------------------------------------------ */

/* What a piece would add to a datagram: the charge of its new ranges, and
 * how it relates to the bytes held. */
struct plan {
	uint64_t charge;
	uint32_t new_bytes;
	bool overlaps, conflicts;
};

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Do the captured bytes of held node n and of the piece differ on the
 * wire range [a, b)? */
static bool differs(const struct frag_node *n, const struct ipfrag_piece *p, uint32_t a,
		    uint32_t b)
{
	uint32_t lo = max_u32(a, max_u32(n->off, p->offset));
	uint32_t hi = min_u32(b, min_u32(n->off + n->caplen, p->offset + p->len));
	if (lo >= hi)
		return false;
	return memcmp(n->data + (lo - n->off), p->data + (lo - p->offset), hi - lo) != 0;
}

/* Where the walk over d's nodes may start for a piece at `off`: after the
 * tail when the piece lies beyond it (in-order arrival), else the head. */
static struct frag_node **walk_start(struct dgram *d, uint32_t off)
{
	if (d->tail && d->tail->off + d->tail->len <= off)
		return &d->tail->next;
	return &d->nodes;
}

/*
 * Walk the piece [p->offset, end) over d's sorted nodes.  Ranges already
 * held stay as they are (first copy wins); each range not held becomes a
 * node when `commit`, else is only charged in *pl.  Returns false when a
 * node could not be allocated (what was linked before stays, consistent).
 */
static bool walk(struct ipfrag *t, struct dgram *d, const struct ipfrag_piece *p, uint32_t end,
		 bool commit, struct plan *pl)
{
	uint32_t cur = p->offset;
	uint32_t cap_end = p->offset + p->len;
	struct frag_node **link = walk_start(d, cur);
	while (cur < end) {
		struct frag_node *n = *link;
		if (n && n->off + n->len <= cur) {
			link = &n->next;
			continue;
		}
		if (n && n->off <= cur) {
			uint32_t stop = min_u32(end, n->off + n->len);
			pl->overlaps = true;
			if (!pl->conflicts && differs(n, p, cur, stop))
				pl->conflicts = true;
			cur = stop;
			link = &n->next;
			continue;
		}
		uint32_t stop = n ? min_u32(n->off, end) : end;
		uint32_t cap = cur < cap_end ? min_u32(stop, cap_end) - cur : 0;
		if (commit) {
			struct frag_node *m = malloc(sizeof *m + cap);
			if (!m)
				return false;
			m->off = cur;
			m->len = stop - cur;
			m->caplen = cap;
			if (cap)
				memcpy(m->data, p->data + (cur - p->offset), cap);
			m->next = n;
			*link = m;
			if (!n)
				d->tail = m;
			link = &m->next;
			d->covered += m->len;
			charge_add(t, d, node_charge(cap));
		} else {
			pl->charge += node_charge(cap);
			pl->new_bytes += stop - cur;
		}
		cur = stop;
	}
	return true;
}

/* Copy a complete datagram's bytes into t->out and describe it. */
static void assemble(struct ipfrag *t, const struct dgram *d, struct ipfrag_datagram *out)
{
	uint32_t caplen = 0;
	for (const struct frag_node *n = d->nodes; n; n = n->next) {
		memcpy(t->out + n->off, n->data, n->caplen);
		caplen += n->caplen;
		if (n->caplen < n->len)
			break;               /* only the captured prefix is delivered */
	}
	out->data = t->out;
	out->caplen = caplen;
	out->len = d->end;
	out->ip_version = d->key.version;
	out->proto = d->key.proto;
	out->fragments = d->nfrags;
}

/* d has just completed: its fragments are delivered; keep the key for
 * done_linger to absorb duplicates. */
static void complete(struct ipfrag *t, struct dgram *d, kl_time now)
{
	t->st.reassembled++;
	t->st.fragments_held -= d->nfrags;
	t->st.fragments_reassembled += d->nfrags;
	nodes_free(t, d);
	list_del(&t->open, d);
	t->st.datagrams_held--;
	d->done = true;
	d->since = now;
	list_add(&t->done, d);
	if (t->cfg.done_linger <= 0)
		rec_release(t, d);
}

static enum ipfrag_result drop(struct ipfrag *t, uint64_t *why)
{
	(*why)++;
	t->st.fragments_dropped++;
	return IPFRAG_DROPPED;
}

/* Drop a piece that was to start `d`: a record left empty goes too. */
static enum ipfrag_result drop_new(struct ipfrag *t, struct dgram *d, uint64_t *why)
{
	if (d && d->nfrags == 0)
		rec_release(t, d);
	return drop(t, why);
}

enum ipfrag_result ipfrag_push(struct ipfrag *t, const struct ipfrag_piece *p, kl_time ts,
			       struct ipfrag_datagram *out)
{
	t->st.fragments++;
	ipfrag_expire(t, ts);
	kl_time now = t->now;

	/* The piece by itself. */
	if ((p->ip_version != 4 && p->ip_version != 6) || p->len > p->wire_len ||
	    (p->len > 0 && !p->data) || !p->src || !p->dst)
		return drop(t, &t->st.dropped_bad);
	uint64_t end64 = (uint64_t)p->offset + p->wire_len;
	if (end64 + p->header_len > IPFRAG_MAX_PAYLOAD)
		return drop(t, &t->st.dropped_oversize);
	if (p->offset % 8 != 0 || p->wire_len == 0 || (p->more && p->wire_len % 8 != 0))
		return drop(t, &t->st.dropped_bad);
	uint32_t end = (uint32_t)end64;

	struct frag_key k;
	memset(&k, 0, sizeof k);
	memcpy(k.src, p->src, 16);
	memcpy(k.dst, p->dst, 16);
	k.context = p->context;
	k.id = p->id;
	k.version = p->ip_version;
	k.proto = p->proto;
	uint32_t hash = key_hash(&k, t->seed);
	struct dgram *d = lookup(t, &k, hash);

	if (d && d->done) {
		/* Fits inside the datagram delivered: a duplicate.  Else the id
		 * was reused by a new datagram, which replaces the old key. */
		if (end <= d->end && (p->more || end == d->end))
			return drop(t, &t->st.dropped_duplicate);
		rec_release(t, d);
		d = NULL;
	}

	if (!d) {
		if (p->offset == 0 && !p->more) {
			/* A whole datagram in one piece: no copy, no record. */
			t->st.reassembled++;
			t->st.fragments_reassembled++;
			if (p->len < p->wire_len)
				t->st.reassembled_truncated++;
			out->data = p->data;
			out->caplen = p->len;
			out->len = p->wire_len;
			out->ip_version = p->ip_version;
			out->proto = p->proto;
			out->fragments = 1;
			return IPFRAG_DONE;
		}
		uint32_t cap = p->len;
		if (!make_room(t, IPFRAG_RECORD_CHARGE + node_charge(cap), true, NULL))
			return drop(t, &t->st.dropped_cap);
		d = rec_new(t, &k, hash, now);
		if (!d)
			return drop(t, &t->st.dropped_nomem);
	} else {
		/* RFC 791 / RFC 8200 §4.5: one end per datagram. */
		if (d->has_end && (end > d->end || (!p->more && end != d->end)))
			return drop(t, &t->st.dropped_bad);
		if (!d->has_end && !p->more && end < d->max_end)
			return drop(t, &t->st.dropped_bad);
	}

	struct plan pl = { 0, 0, false, false };
	walk(t, d, p, end, false, &pl);
	if (pl.conflicts)
		t->st.overlap_conflicts++;
	if (pl.new_bytes == 0)
		return drop_new(t, d, &t->st.dropped_duplicate);
	if (!make_room(t, pl.charge, false, d))
		return drop_new(t, d, &t->st.dropped_cap);
	uint32_t covered_before = d->covered;
	bool ok = walk(t, d, p, end, true, &pl);
	if (!ok && d->covered == covered_before)
		return drop_new(t, d, &t->st.dropped_nomem);
	if (pl.overlaps)
		t->st.overlapping++;

	d->nfrags++;
	t->st.fragments_held++;
	if (!p->more) {
		d->has_end = true;
		d->end = end;
	}
	if (end > d->max_end)
		d->max_end = end;
	if (d->has_end && d->covered == d->end) {
		assemble(t, d, out);
		if (out->caplen < out->len)
			t->st.reassembled_truncated++;
		complete(t, d, now);
		return IPFRAG_DONE;
	}
	return IPFRAG_HELD;
}

struct ipfrag_stats ipfrag_stats(const struct ipfrag *t)
{
	return t->st;
}

const char *ipfrag_result_name(enum ipfrag_result r)
{
	switch (r) {
	case IPFRAG_HELD: return "held";
	case IPFRAG_DONE: return "done";
	case IPFRAG_DROPPED: return "dropped";
	}
	return "?";
}
