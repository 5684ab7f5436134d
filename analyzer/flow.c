/*
 * flow.c - the connection table.
 *
 * Layout: connections live in fixed chunks of CHUNK_SIZE records (allocated
 * when the table grows, never per packet) and are named by a 32-bit index.
 * The hash table is open addressing with linear probing over slots of
 * (index+1, the 32-bit hash): one cache line answers a probe, and most
 * probes never touch a connection; deletion shifts later entries back, so
 * there are no tombstones and probe chains stay short.  The chunks and a
 * large slot array are allocated in 2 MiB-aligned pieces the kernel may
 * back with huge pages: a flood of new connections touches fresh memory at
 * every packet, and a page fault per 4 KiB of it cost a quarter of the
 * time.  Two doubly linked lists in
 * least-recently-active order (open and closed connections) make idle
 * expiry and eviction O(1) per connection: packets arrive in time order,
 * so the head of each list is always the first to expire.
 */
#include "flow.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "encap.h"
#include "tcp_reasm.h"

#define FLOW_HUGE_PAGE ((size_t)2 << 20)
/* 8192 records of FLOW_CONN_BYTES: one huge page. */
#define CHUNK_SHIFT 13
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define NIL UINT32_MAX
#define TABLE_MIN_SLOTS 4096u

/* After a connection closed, a segment this far from where its sender's
 * sequence space stood belongs to a new connection on the same 5-tuple
 * whose SYN was not captured. */
#define FLOW_REUSE_JUMP (1u << 24)
#define LIST_ORDER_GRAIN (KL_NS_PER_SEC / 4)

struct flow_key {
	uint8_t a_ip[16], b_ip[16];   /* a: the lower (ip, port) endpoint */
	uint16_t a_port, b_port;
	uint8_t ip_version;
	uint8_t domain[3];            /* the tunnel's (encap.h), 24 bits; 0: none */
};

/* A slot holding this bit names a connection by its alias key. */
#define SLOT_ALIAS 0x80000000u

/* A tunnelled connection's second key: while it has seen one direction
 * only, "any tunnel" (so the other direction may come in another tunnel,
 * as when each direction is mirrored at its own port); once that came,
 * its tunnel. */
enum alias_state { ALIAS_NONE = 0, ALIAS_ANY, ALIAS_PAIRED };

/* Activity lists, each least recently active first: connections that
 * have seen both directions, those that have seen one (eviction takes
 * them before the first), those closed and lingering (taken first). */
enum conn_list { LIST_NONE = 0, LIST_OPEN, LIST_HALF, LIST_CLOSED, LIST_COUNT };
enum probe_state { PROBE_NONE = 0, PROBE_ACTIVE, PROBE_CLAIMED };

struct conn;

struct dissect_link {
	struct conn *c;
	uint8_t level;                /* 0: the TCP stream's layer */
};

/* One layer of a connection's stack: the dissector reading it, or the
 * probing that looks for one, and where its input goes up. */
struct layer {
	const struct dissector *dis;
	void *ctx;
	struct dissect_link link;
	uint8_t probe;                /* enum probe_state */
	uint16_t probe_len[2];
	uint32_t probe_dir[2];        /* bytes offered to probes, each direction (its own budget) */
	/* A direction's first bytes while a probe needs more of them
	 * (DISSECT_PROBE_BYTES, allocated then; freed when probing ends). */
	uint8_t *probe_buf[2];
	bool handed[2];               /* from hand_at on, a direction is the layer above's */
	uint64_t hand_at[2];
	uint64_t seq_base;            /* dissect_conn_info.seq_base */
	bool switched;                /* the layer below handed over with a request (h2c) */
	bool opaque;                  /* DISSECT_NEXT_NONE: not to be read */
	bool seal_above;              /* a stream it makes is not to be read */
	size_t mem;                   /* what its dissector last said it holds (dissector.mem) */
};

/* What a connection that carries bytes needs besides its TCP state: the
 * reassembler, the stack of dissectors, the second key of a tunnelled
 * connection.  Made by stream_get() at the first payload, FIN or RST (or at
 * once in a tunnel), so a connection that never carries a byte (a SYN
 * flood, a scan, an idle keep-alive) costs only its struct conn. */
struct conn_stream {
	struct flow_table *ft;
	struct layer base;            /* the dissector of the TCP stream */
	struct layer *up;             /* DISSECT_MAX_LAYERS - 1 above it, made when stacked */
	uint8_t nlayers;              /* layers made, base included */
	bool too_deep;                /* a layer above the last was asked for */
	uint8_t notice_by;            /* enum conn_closer: dissect_closing() before any FIN/RST */
	uint8_t alias_state;          /* enum alias_state */
	uint32_t alias_hash;
	const char *notice;           /* its name; static */
	kl_time notice_ts;
	struct flow_key alias;
	struct tcp_reasm reasm;
};

/* One tracked connection; FLOW_CONN_BYTES at most (flow.h). */
struct conn {
	struct flow_key key;
	int64_t id;                   /* from hooks.conn_id */
	uint32_t hash;
	uint32_t self;                /* this record's index */
	uint32_t prev, next;          /* list links; `next` also links the free list */
	kl_time listed_at;            /* last_seen when last moved to its list's tail */
	kl_time first_seen, last_seen, syn_ts, close_ts, handshake_rtt;
	uint64_t packets[2], bytes[2];
	uint32_t client_isn;
	uint32_t snd_next[2];         /* highest sequence end sent, per direction */
	uint32_t encap[2];            /* each direction's tunnel (encap_table_number), 0: none */
	struct tcp_reasm_origin origin[2];   /* until the stream is made */
	struct conn_stream *s;        /* NULL until the first payload, FIN or RST */
	uint8_t list;                 /* enum conn_list */
	bool client_is_a;
	bool syn_seen, synack_seen, rtt_done, rst_seen, closed;
	bool not_syn;                 /* a packet other than the client's bare SYN came */
	bool fin_seen[2], snd_valid[2];
	uint8_t close_initiator;      /* enum conn_closer: the first FIN or RST's sender */
	uint8_t close_kind;           /* enum conn_close_kind */
};
_Static_assert(sizeof(struct conn) <= FLOW_CONN_BYTES, "struct conn grew past its budget");
_Static_assert(FLOW_CONN_BYTES << CHUNK_SHIFT <= FLOW_HUGE_PAGE, "a chunk is one huge page");

/* A connection's index + 1 (0: empty; SLOT_ALIAS: by its alias key) and
 * its key's hash. */
struct slot {
	uint32_t v;
	uint32_t hash;
};

struct flow_table {
	struct flow_config cfg;
	struct flow_hooks hooks;
	uint64_t seed;
	struct slot *slots;
	uint32_t mask;                /* slots - 1 */
	uint32_t count;               /* connections in the table */
	uint32_t aliases;             /* alias slots in the table */
	struct conn **chunks;
	uint32_t nchunks, chunks_cap;
	uint32_t free_head;           /* ended connections' records, linked by `next` */
	uint32_t fresh;               /* records from here to the chunks' end were never used */
	uint32_t head[LIST_COUNT], tail[LIST_COUNT];
	kl_time now, last_expire;
	struct tcp_reasm_pool *pool;
	struct flow_stats st;
	uint8_t *scratch;             /* dissect_conn_info.scratch */
	struct facts_set *facts;      /* the facts of the connection being ended */
	struct encap_table *encap;    /* the tunnels seen */
	/* Memory accounted beyond the connection records and the index
	 * (mem_total): stream parts with their layers and probe buffers,
	 * and what the dissectors hold. */
	size_t mem_streams, mem_dissect;
};

void flow_config_defaults(struct flow_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->idle_timeout = 900 * KL_NS_PER_SEC;
	cfg->closed_linger = 10 * KL_NS_PER_SEC;
	cfg->max_conns = 1u << 20;
	cfg->memcap = FLOW_MEMCAP_DEFAULT;
	cfg->reasm_conn_cap = 1u << 20;
	cfg->reasm_global_cap = (size_t)256 << 20;
	cfg->max_tunnels = 1u << 16;
	cfg->dissectors = NULL;
}

static inline struct conn *conn_at(const struct flow_table *ft, uint32_t i)
{
	return &ft->chunks[i >> CHUNK_SHIFT][i & (CHUNK_SIZE - 1)];
}


/* ---- hashing ----------------------------------------------------------- */

static uint32_t key_hash(const struct flow_key *k, uint64_t seed)
{
	uint64_t w[5];
	memcpy(w, k, sizeof w);
	uint64_t h = seed;
	for (size_t i = 0; i < 5; i++) {
		h = (h ^ w[i]) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* How far apart two sequence numbers are, either way round. */
static uint32_t seq_distance(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	return (int32_t)d < 0 ? (uint32_t)-d : d;
}

static void key_set_domain(struct flow_key *k, uint32_t domain)
{
	k->domain[0] = (uint8_t)(domain >> 16);
	k->domain[1] = (uint8_t)(domain >> 8);
	k->domain[2] = (uint8_t)domain;
}

/* The same 5-tuple in "any tunnel" (the pairing alias, flow.h). */
static struct flow_key key_any_tunnel(const struct flow_key *k)
{
	struct flow_key any = *k;
	key_set_domain(&any, ENCAP_DOMAIN_ANY);
	return any;
}

/* Fill the canonical key; returns true when the packet's source is `a`. */
static bool key_make(struct flow_key *k, const struct decode_tcp *d, uint32_t domain)
{
	memset(k, 0, sizeof *k);
	int cmp = memcmp(d->src, d->dst, 16);
	bool src_is_a = cmp < 0 || (cmp == 0 && d->sport <= d->dport);
	if (src_is_a) {
		memcpy(k->a_ip, d->src, 16);
		memcpy(k->b_ip, d->dst, 16);
		k->a_port = d->sport;
		k->b_port = d->dport;
	} else {
		memcpy(k->a_ip, d->dst, 16);
		memcpy(k->b_ip, d->src, 16);
		k->a_port = d->dport;
		k->b_port = d->sport;
	}
	k->ip_version = d->ip_version;
	key_set_domain(k, domain);
	return src_is_a;
}

/* Index of the connection with this key, or NIL; *slot gets its slot or
 * the empty slot where it would go. */
static uint32_t table_find(const struct flow_table *ft, const struct flow_key *k,
			   uint32_t hash, uint32_t *slot)
{
	uint32_t i = hash & ft->mask;
	for (;;) {
		uint32_t v = ft->slots[i].v;
		if (v == 0) {
			*slot = i;
			return NIL;
		}
		if (ft->slots[i].hash == hash) {
			const struct conn *c = conn_at(ft, (v & ~SLOT_ALIAS) - 1);
			const struct flow_key *ck = v & SLOT_ALIAS ? &c->s->alias : &c->key;
			if (memcmp(ck, k, sizeof *k) == 0) {
				*slot = i;
				return (v & ~SLOT_ALIAS) - 1;
			}
		}
		i = (i + 1) & ft->mask;
	}
}

/* Remove slot i, shifting back the entries whose probe chain crossed it. */
static void table_remove_slot(struct flow_table *ft, uint32_t i)
{
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & ft->mask;
		if (ft->slots[j].v == 0)
			break;
		uint32_t home = ft->slots[j].hash & ft->mask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		ft->slots[i] = ft->slots[j];
		i = j;
	}
	ft->slots[i].v = 0;
}

/* n zeroed bytes; from FLOW_HUGE_PAGE on, mapped at a multiple of it so
 * the kernel may back them with huge pages (malloc's aligned memory may
 * come from its heap, where it does not).  Freed with big_free(p, n). */
static void *big_alloc(size_t n)
{
	if (n < FLOW_HUGE_PAGE)
		return calloc(1, n);
	size_t whole = (n + FLOW_HUGE_PAGE - 1) & ~(FLOW_HUGE_PAGE - 1);
	uint8_t *m = mmap(NULL, whole + FLOW_HUGE_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	size_t lead = (FLOW_HUGE_PAGE - (uintptr_t)m % FLOW_HUGE_PAGE) % FLOW_HUGE_PAGE;
	if (lead)
		munmap(m, lead);
	if (FLOW_HUGE_PAGE - lead)
		munmap(m + lead + whole, FLOW_HUGE_PAGE - lead);
	(void)madvise(m + lead, whole, MADV_HUGEPAGE);   /* a hint: else small pages */
	return m + lead;
}

static void big_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n < FLOW_HUGE_PAGE)
		free(p);
	else
		munmap(p, (n + FLOW_HUGE_PAGE - 1) & ~(FLOW_HUGE_PAGE - 1));
}

static bool table_resize(struct flow_table *ft, uint32_t nslots)
{
	struct slot *slots = big_alloc((size_t)nslots * sizeof *slots);
	if (!slots)
		return false;
	uint32_t mask = nslots - 1;
	for (uint32_t i = 0; ft->slots && i <= ft->mask; i++) {
		if (ft->slots[i].v == 0)
			continue;
		uint32_t j = ft->slots[i].hash & mask;
		while (slots[j].v)
			j = (j + 1) & mask;
		slots[j] = ft->slots[i];
	}
	if (ft->slots)
		big_free(ft->slots, ((size_t)ft->mask + 1) * sizeof *ft->slots);
	ft->slots = slots;
	ft->mask = mask;
	return true;
}

/* Put c in the table under `k` too (its alias), unless another holds it. */
static bool alias_add(struct flow_table *ft, struct conn *c, const struct flow_key *k,
		      enum alias_state state)
{
	uint32_t hash = key_hash(k, ft->seed), slot;
	if (!c->s || table_find(ft, k, hash, &slot) != NIL)
		return false;
	ft->slots[slot] = (struct slot){ (c->self + 1) | SLOT_ALIAS, hash };
	c->s->alias = *k;
	c->s->alias_hash = hash;
	c->s->alias_state = (uint8_t)state;
	ft->aliases++;
	return true;
}

static void alias_remove(struct flow_table *ft, struct conn *c)
{
	uint32_t slot;
	if (!c->s || c->s->alias_state == ALIAS_NONE)
		return;
	if (table_find(ft, &c->s->alias, c->s->alias_hash, &slot) == c->self)
		table_remove_slot(ft, slot);
	c->s->alias_state = ALIAS_NONE;
	ft->aliases--;
}

/* ---- activity lists ---------------------------------------------------- */

static void list_unlink(struct flow_table *ft, struct conn *c)
{
	if (c->list == LIST_NONE)
		return;
	if (c->prev != NIL)
		conn_at(ft, c->prev)->next = c->next;
	else
		ft->head[c->list] = c->next;
	if (c->next != NIL)
		conn_at(ft, c->next)->prev = c->prev;
	else
		ft->tail[c->list] = c->prev;
	c->list = LIST_NONE;
	c->prev = c->next = NIL;
}

static void list_append(struct flow_table *ft, struct conn *c, uint32_t idx, uint8_t list)
{
	c->list = list;
	c->next = NIL;
	c->prev = ft->tail[list];
	if (c->prev != NIL)
		conn_at(ft, c->prev)->next = idx;
	else
		ft->head[list] = idx;
	ft->tail[list] = idx;
}

/* Mark activity: move to the tail of its list (the most recent end). */
/* Keep the lists in order of activity, to LIST_ORDER_GRAIN: moving a
 * connection on every packet costs more than the exact order is worth
 * (expiry and eviction may act up to that much late or early). */
static void list_touch(struct flow_table *ft, struct conn *c, uint32_t idx, uint8_t list)
{
	if (c->list == list && (ft->tail[list] == idx || c->last_seen - c->listed_at < LIST_ORDER_GRAIN))
		return;
	c->listed_at = c->last_seen;
	list_unlink(ft, c);
	list_append(ft, c, idx, list);
}

/* The list a connection belongs on now. */
static uint8_t conn_list_of(const struct conn *c)
{
	if (c->closed)
		return LIST_CLOSED;
	return c->packets[0] && c->packets[1] ? LIST_OPEN : LIST_HALF;
}

/* The connection to end first to make room: the least recently active of
 * the closed ones, else of those seen one way, else of the others. */
static uint32_t eviction_victim(const struct flow_table *ft)
{
	static const uint8_t order[] = { LIST_CLOSED, LIST_HALF, LIST_OPEN };
	for (size_t i = 0; i < sizeof order; i++)
		if (ft->head[order[i]] != NIL)
			return ft->head[order[i]];
	return NIL;
}

/* ---- memory ---------------------------------------------------------------- */

/* What a tracked connection's record costs: its share of a chunk (a huge
 * page holds CHUNK_SIZE records, with room to spare). */
#define CONN_CHARGE (FLOW_HUGE_PAGE >> CHUNK_SHIFT)

/* Every byte of analysis state the table accounts for (flow.h). */
static size_t mem_total(const struct flow_table *ft)
{
	return (size_t)ft->count * CONN_CHARGE +
	       ((size_t)ft->mask + 1) * sizeof *ft->slots + ft->mem_streams + ft->mem_dissect +
	       (size_t)tcp_reasm_pool_stats(ft->pool).bytes_buffered;
}

/* ---- dissector hand-off -------------------------------------------------- */

static inline struct layer *layer_at(struct conn *c, unsigned level)
{
	if (level == 0)
		return &c->s->base;
	return level < c->s->nlayers ? &c->s->up[level - 1] : NULL;
}

static void claim(struct conn *c, struct layer *L, const struct dissector *d,
		  const struct request_record *upgrade)
{
	const struct flow_key *k = &c->key;
	struct dissect_conn_info info = {
		.ip_version = k->ip_version,
		.client_ip = c->client_is_a ? k->a_ip : k->b_ip,
		.server_ip = c->client_is_a ? k->b_ip : k->a_ip,
		.client_port = c->client_is_a ? k->a_port : k->b_port,
		.server_port = c->client_is_a ? k->b_port : k->a_port,
		.first_seen = c->first_seen,
		.conn_id = c->id,
		.head_limit = c->s->ft->cfg.head_limit,
		.out = c->s->ft->hooks.out,
		.keylog = c->s->ft->cfg.keylog,
		.scratch = c->s->ft->scratch,
		.link = &L->link,
		.seq_base = L->seq_base,
		.upgrade = upgrade,
	};
	L->ctx = d->ctx_new(&info);
	if (!L->ctx) {
		L->probe = PROBE_NONE;
		return;
	}
	L->dis = d;
	L->probe = PROBE_CLAIMED;
}

static void layer_data(struct conn *c, unsigned level, enum kl_dir dir, const uint8_t *p,
		       size_t n, uint64_t off, kl_time ts);

/* The claimed layer reads [p, p+n); what lies past an offset it handed
 * over during the call goes up. */
static inline void layer_deliver(struct conn *c, struct layer *L, enum kl_dir dir,
				 const uint8_t *p, size_t n, uint64_t off, kl_time ts)
{
	bool handed = L->handed[dir];
	L->dis->data(L->ctx, dir, p, n, off, ts);
	if (!handed && L->handed[dir] && L->hand_at[dir] < off + n) {
		uint64_t at = L->hand_at[dir] > off ? L->hand_at[dir] : off;
		size_t k = (size_t)(at - off);
		layer_data(c, L->link.level + 1u, dir, p + k, n - k, at - L->hand_at[dir], ts);
	}
}

/* Bytes offered to the probes of layer L, both directions. */
static uint32_t probe_offered(const struct layer *L)
{
	return L->probe_dir[0] + L->probe_dir[1];
}

/* The kept first bytes are no longer needed: the layer was claimed, or
 * will not be. */
static void probe_release(struct flow_table *ft, struct layer *L)
{
	for (int d = 0; d < 2; d++) {
		if (L->probe_buf[d])
			ft->mem_streams -= kl_heap_bytes(DISSECT_PROBE_BYTES);
		free(L->probe_buf[d]);
		L->probe_buf[d] = NULL;
		L->probe_len[d] = 0;
	}
}

/* Offer the first bytes of a direction to the registry.  Bytes of earlier
 * segments that were not enough to decide are kept (up to
 * DISSECT_PROBE_BYTES, in a buffer allocated only then: most connections
 * are recognised by their first segment) and replayed to the dissector
 * that claims.  When the kept bytes and this segment together are no
 * start, this segment alone may be one (a capture that began inside a
 * message: the kept bytes were the end of one). */
static void probe_offer(struct conn *c, struct layer *L, enum kl_dir dir, const uint8_t *p,
			size_t n, uint64_t off, kl_time ts)
{
	const struct dissector *const *list = c->s->ft->cfg.dissectors;
	uint8_t joined[DISSECT_PROBE_BYTES];
	/* Each direction has its own budget: a capture that begins inside a
	 * long response must still see the next request (a direction past
	 * its budget is no longer offered; the other still is). */
	if (L->probe_dir[dir] >= DISSECT_PROBE_BUDGET)
		return;
	uint32_t room = DISSECT_PROBE_BUDGET - L->probe_dir[dir];
	uint32_t took = n >= room ? room : (uint32_t)n;
	L->probe_dir[dir] += took;
	for (;;) {
		size_t have = L->probe_len[dir];
		const uint8_t *view = p;
		size_t vn = n;
		if (have) {
			size_t take = n < DISSECT_PROBE_BYTES - have ? n : DISSECT_PROBE_BYTES - have;
			memcpy(joined, L->probe_buf[dir], have);
			memcpy(joined + have, p, take);
			view = joined;
			vn = have + take;
		}
		bool more = false;
		for (size_t i = 0; list && list[i]; i++) {
			enum dissect_verdict v = list[i]->probe(dir, view, vn);
			if (v == DISSECT_YES) {
				claim(c, L, list[i], NULL);
				if (L->probe != PROBE_CLAIMED) {
					probe_release(c->s->ft, L);
					return;
				}
				if (have) {
					/* joined holds the kept bytes first */
					layer_deliver(c, L, dir, joined, have, off - have, ts);
				}
				probe_release(c->s->ft, L);
				if (L->handed[dir] && L->hand_at[dir] <= off)
					layer_data(c, L->link.level + 1u, dir, p, n, off - L->hand_at[dir], ts);
				else
					layer_deliver(c, L, dir, p, n, off, ts);
				return;
			}
			more |= v == DISSECT_MORE;
		}
		if (L->probe_dir[0] >= DISSECT_PROBE_BUDGET &&
		    L->probe_dir[1] >= DISSECT_PROBE_BUDGET) {
			L->probe = PROBE_NONE;        /* not a protocol we know */
			probe_release(c->s->ft, L);
			return;
		}
		if (L->probe_dir[dir] >= DISSECT_PROBE_BUDGET) {
			L->probe_len[dir] = 0;        /* this direction is no longer looked at */
			return;
		}
		if (more && vn < DISSECT_PROBE_BYTES) {
			/* vn < DISSECT_PROBE_BYTES: all of p was taken, n fits */
			if (!L->probe_buf[dir]) {
				if (!(L->probe_buf[dir] = malloc(DISSECT_PROBE_BYTES)))
					return;   /* out of memory: decide on later segments alone */
				c->s->ft->mem_streams += kl_heap_bytes(DISSECT_PROBE_BYTES);
			}
			memcpy(L->probe_buf[dir] + have, p, n);
			L->probe_len[dir] = (uint16_t)(have + n);
			return;
		}
		/* Not a start here; a later segment of either direction may
		 * be one (a capture that began inside a message). */
		L->probe_len[dir] = 0;
		if (!have)
			return;
	}
}

/* Bytes of layer `level`'s input (offsets are that layer's). */
static void layer_data(struct conn *c, unsigned level, enum kl_dir dir, const uint8_t *p,
		       size_t n, uint64_t off, kl_time ts)
{
	struct layer *L = layer_at(c, level);
	if (!L || n == 0)
		return;
	if (L->handed[dir]) {
		uint64_t at = L->hand_at[dir];
		if (off + n <= at) {
			if (L->probe == PROBE_CLAIMED)
				L->dis->data(L->ctx, dir, p, n, off, ts);
			return;
		}
		if (off < at) {
			size_t k = (size_t)(at - off);
			if (L->probe == PROBE_CLAIMED)
				L->dis->data(L->ctx, dir, p, k, off, ts);
			p += k;
			n -= k;
			off = at;
		}
		layer_data(c, level + 1, dir, p, n, off - at, ts);
		return;
	}
	if (L->probe == PROBE_CLAIMED)
		layer_deliver(c, L, dir, p, n, off, ts);
	else if (L->probe == PROBE_ACTIVE)
		probe_offer(c, L, dir, p, n, off, ts);
}

static void layer_gap(struct conn *c, unsigned level, enum kl_dir dir, uint64_t off,
		      uint64_t len, kl_time ts)
{
	struct layer *L = layer_at(c, level);
	if (!L || len == 0)
		return;
	if (L->handed[dir] && off + len > L->hand_at[dir]) {
		uint64_t at = L->hand_at[dir];
		if (off < at && L->probe == PROBE_CLAIMED)
			L->dis->gap(L->ctx, dir, off, at - off, ts);
		uint64_t from = off > at ? off : at;
		layer_gap(c, level + 1, dir, from - at, off + len - from, ts);
		return;
	}
	if (L->probe == PROBE_CLAIMED)
		L->dis->gap(L->ctx, dir, off, len, ts);
	else if (L->probe == PROBE_ACTIVE)
		L->probe_len[dir] = 0;    /* kept bytes are no longer contiguous */
}

/* End of a direction: every layer's, bottom up. */
static void layers_eof(struct conn *c, enum kl_dir dir, kl_time ts)
{
	for (unsigned level = 0; level < c->s->nlayers; level++) {
		struct layer *L = layer_at(c, level);
		if (L->probe == PROBE_CLAIMED)
			L->dis->eof(L->ctx, dir, ts);
	}
}

/* The layer above `L`, made if it is not there yet (probing); NULL when
 * the stack is full (counted once as a finding) or out of memory. */
static struct layer *layer_above(struct conn *c, struct layer *L, kl_time ts)
{
	struct conn_stream *s = c->s;
	unsigned level = L->link.level + 1u;
	if (level < s->nlayers)
		return &s->up[level - 1];
	if (level >= DISSECT_MAX_LAYERS) {
		if (!s->too_deep && s->ft->hooks.out && s->ft->hooks.out->finding) {
			char d[96];
			snprintf(d, sizeof d, "more than %d protocols stacked on one connection; "
				 "the innermost is not read", DISSECT_MAX_LAYERS);
			struct finding_record f = { c->id, 0, ts, FINDING_STACK_TOO_DEEP, d };
			s->ft->hooks.out->finding(s->ft->hooks.out->ctx, &f);
		}
		s->too_deep = true;
		return NULL;
	}
	if (!s->up) {
		if (!(s->up = calloc(DISSECT_MAX_LAYERS - 1, sizeof *s->up)))
			return NULL;
		s->ft->mem_streams += kl_heap_bytes((DISSECT_MAX_LAYERS - 1) * sizeof *s->up);
	}
	struct layer *U = &s->up[level - 1];
	memset(U, 0, sizeof *U);
	U->link.c = c;
	U->link.level = (uint8_t)level;
	U->seq_base = L->seq_base;
	U->probe = L->seal_above ? PROBE_NONE : PROBE_ACTIVE;
	U->opaque = L->seal_above;
	s->nlayers = (uint8_t)(level + 1);
	return U;
}

void dissect_handover(struct dissect_link *l, enum kl_dir dir, uint64_t off,
		      const struct dissect_handover *h, kl_time ts)
{
	if (!l)
		return;                       /* a dissector run on its own (tests) */
	struct conn *c = l->c;
	struct layer *L = layer_at(c, l->level);
	if (L->handed[dir])
		return;
	bool fresh = l->level + 1u >= c->s->nlayers;
	struct layer *U = layer_above(c, L, ts);
	L->handed[dir] = true;
	L->hand_at[dir] = off;
	if (!U)
		return;                   /* the bytes go nowhere */
	if (fresh) {
		U->seq_base = L->seq_base + h->requests;
		U->switched = h->upgrade != NULL;
		U->seal_above = h->above_opaque;
		if (h->next == DISSECT_NEXT_NONE) {
			U->probe = PROBE_NONE;
			U->opaque = true;
		}
		else if (h->next == DISSECT_NEXT_NAMED && h->named)
			claim(c, U, h->named, h->upgrade);
	}
	if (h->held_len)
		layer_data(c, U->link.level, dir, h->held, h->held_len, 0, ts);
	if (h->lost)
		layer_gap(c, U->link.level, dir, h->held_len, h->lost, ts);
}

void dissect_up_bind(struct dissect_link *l, const struct dissector *d)
{
	if (!l)
		return;
	struct conn *c = l->c;
	struct layer *U = layer_above(c, layer_at(c, l->level), c->last_seen);
	if (U && U->probe == PROBE_ACTIVE && !probe_offered(U))
		claim(c, U, d, NULL);
}

void dissect_up_data(struct dissect_link *l, enum kl_dir dir, const uint8_t *p, size_t n,
		     uint64_t off, kl_time ts)
{
	if (!l)
		return;
	struct conn *c = l->c;
	struct layer *U = layer_above(c, layer_at(c, l->level), ts);
	if (U)
		layer_data(c, U->link.level, dir, p, n, off, ts);
}

void dissect_up_gap(struct dissect_link *l, enum kl_dir dir, uint64_t off, uint64_t len,
		    kl_time ts)
{
	if (!l)
		return;
	struct conn *c = l->c;
	if (l->level + 1u < c->s->nlayers)
		layer_gap(c, l->level + 1u, dir, off, len, ts);
}

void dissect_closing(struct dissect_link *l, enum kl_dir dir, kl_time ts, const char *how)
{
	if (!l)
		return;
	struct conn *c = l->c;
	if (c->s->notice_by != CONN_CLOSER_NONE || c->close_kind != CONN_CLOSE_OPEN)
		return;                   /* not the first, or after a FIN or RST */
	c->s->notice_by = dir == KL_TO_SERVER ? CONN_CLOSER_CLIENT : CONN_CLOSER_SERVER;
	c->s->notice = how;
	c->s->notice_ts = ts;
}

static void sink_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n,
		      uint64_t off, kl_time ts)
{
	struct conn *c = ctx;
	/* The common case, first: the TCP stream's own dissector reads it. */
	if (c->s->base.probe == PROBE_CLAIMED && !c->s->base.handed[dir] && n) {
		layer_deliver(c, &c->s->base, dir, p, n, off, ts);
		return;
	}
	layer_data(c, 0, dir, p, n, off, ts);
}

static void sink_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	layer_gap(ctx, 0, dir, off, len, ts);
}

static void sink_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	layers_eof(ctx, dir, ts);
}

static const struct tcp_reasm_sink flow_sink = { sink_data, sink_gap, sink_eof };

/* A layer above the first that carried bytes no dissector recognised
 * (garbage after a CONNECT 200, a protocol kalens does not read): said
 * once, when the connection ends. */
static void layers_report_unread(struct conn *c, kl_time ts)
{
	const struct dissect_output *out = c->s->ft->hooks.out;
	for (unsigned level = 1; level < c->s->nlayers && out && out->finding; level++) {
		struct layer *L = layer_at(c, level);
		if (L->dis || L->opaque || !probe_offered(L))
			continue;
		char d[128];
		struct layer *B = layer_at(c, level - 1);
		snprintf(d, sizeof d, "%u bytes inside %s are no protocol kalens reads",
			 (unsigned)probe_offered(L), B->dis ? B->dis->name : "the layer below");
		struct finding_record f = { c->id, 0, ts, FINDING_TUNNEL_NOT_READ, d };
		out->finding(out->ctx, &f);
	}
}

/* Free every layer's dissector state. */
static void layers_free(struct conn *c)
{
	struct flow_table *ft = c->s->ft;
	for (unsigned level = 0; level < c->s->nlayers; level++) {
		struct layer *L = layer_at(c, level);
		probe_release(ft, L);
		if (L->dis)
			L->dis->ctx_free(L->ctx);
		ft->mem_dissect -= L->mem;
		L->mem = 0;
		L->dis = NULL;
		L->ctx = NULL;
	}
	if (c->s->up)
		ft->mem_streams -= kl_heap_bytes((DISSECT_MAX_LAYERS - 1) * sizeof *c->s->up);
	free(c->s->up);
	c->s->up = NULL;
	c->s->nlayers = 0;
}

/* Read what each layer's dissector holds now (after a segment). */
static void layers_account(struct flow_table *ft, struct conn *c)
{
	for (unsigned level = 0; level < c->s->nlayers; level++) {
		struct layer *L = layer_at(c, level);
		if (!L->dis || !L->dis->mem)
			continue;
		size_t m = L->dis->mem(L->ctx);
		ft->mem_dissect += m - L->mem;   /* modulo 2^n: a decrease subtracts */
		L->mem = m;
	}
}

/* The stream part of c, made now if it has none (NULL: out of memory; the
 * connection is then counted but not read). */
static struct conn_stream *stream_get(struct flow_table *ft, struct conn *c)
{
	if (c->s)
		return c->s;
	struct conn_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ft = ft;
	const struct dissector *const *list = ft->cfg.dissectors;
	s->base.probe = list && list[0] ? PROBE_ACTIVE : PROBE_NONE;
	s->base.link.c = c;
	s->nlayers = 1;
	tcp_reasm_init(&s->reasm, ft->pool, &flow_sink, c);
	tcp_reasm_set_origin(&s->reasm, c->origin);
	c->s = s;
	ft->st.streams++;
	ft->mem_streams += kl_heap_bytes(sizeof *s);
	return s;
}

/* Free c's stream part (its dissectors, held bytes, alias key). */
static void stream_free(struct flow_table *ft, struct conn *c)
{
	if (!c->s)
		return;
	alias_remove(ft, c);
	tcp_reasm_release(&c->s->reasm);
	layers_free(c);
	free(c->s);
	c->s = NULL;
	ft->mem_streams -= kl_heap_bytes(sizeof(struct conn_stream));
}

/* ---- connection lifecycle ------------------------------------------------ */

static void conn_record_fill(struct flow_table *ft, struct conn *c, struct conn_record *r)
{
	const struct conn_stream *s = c->s;
	const struct flow_key *k = &c->key;
	memset(r, 0, sizeof *r);
	r->id = c->id;
	r->ip_version = k->ip_version;
	memcpy(r->client_ip, c->client_is_a ? k->a_ip : k->b_ip, 16);
	memcpy(r->server_ip, c->client_is_a ? k->b_ip : k->a_ip, 16);
	r->client_port = c->client_is_a ? k->a_port : k->b_port;
	r->server_port = c->client_is_a ? k->b_port : k->a_port;
	r->first_seen = c->first_seen;
	r->last_seen = c->last_seen;
	r->syn_seen = c->syn_seen;
	/* An ACK timestamped before its SYN gives no RTT. */
	r->has_handshake_rtt = c->rtt_done && c->handshake_rtt >= 0;
	r->handshake_rtt = c->handshake_rtt;
	r->close_initiator = (enum conn_closer)c->close_initiator;
	r->tcp_close_initiator = r->close_initiator;
	r->close_kind = (enum conn_close_kind)c->close_kind;
	r->close_ts = c->close_ts;
	/* A notice of closing before the first FIN or RST began the close
	 * (TLS: the peer's FIN may answer a close_notify before the
	 * notifier's own FIN goes out). */
	if (s && s->notice_by != CONN_CLOSER_NONE &&
	    (r->close_kind == CONN_CLOSE_FIN || r->close_kind == CONN_CLOSE_RST)) {
		r->close_initiator = (enum conn_closer)s->notice_by;
		r->close_ts = s->notice_ts;
		r->close_notice = s->notice;
	}
	for (int d = 0; d < 2; d++) {
		r->packets[d] = c->packets[d];
		r->bytes[d] = c->bytes[d];
		if (!s)
			continue;
		struct tcp_reasm_half_stats hs = tcp_reasm_half_stats(&s->reasm, (enum kl_dir)d);
		r->gap_bytes += hs.gap_bytes;
		r->retransmitted_bytes += hs.retrans_bytes;
	}
	r->one_sided = c->packets[0] == 0 || c->packets[1] == 0;
	r->attempt_only = c->syn_seen && !c->not_syn;
	/* The protocol is the TCP stream's, or what it switched to by an
	 * upgrade (h2c); the layers, outermost first, are the stack. */
	const struct layer *named = NULL;
	size_t at = 0;
	unsigned nlayers = s ? s->nlayers : 0;
	for (unsigned level = 0; level < nlayers; level++) {
		struct layer *L = layer_at(c, level);
		if (!L->dis)
			continue;
		if (level == 0 || L->switched)
			named = L;
		const char *p = L->dis->protocol ? L->dis->protocol(L->ctx) : NULL;
		int w = snprintf(r->stack + at, sizeof r->stack - at, "%s%s", at ? " > " : "",
				 p ? p : L->dis->name);
		at = w < 0 || (size_t)w >= sizeof r->stack - at ? sizeof r->stack - 1 : at + (size_t)w;
	}
	if (named)
		r->protocol = named->dis->protocol ? named->dis->protocol(named->ctx) : NULL;
	if (named && !r->protocol)
		r->protocol = named->dis->name;
	if (!r->protocol)
		r->protocol = "unknown";
	struct facts_set *set = ft->facts;
	facts_set_clear(set);
	if (c->encap[0] | c->encap[1]) {
		struct encap_facts *e = facts_set_get(set, FACTS_ENCAP);
		for (int d = 0; d < 2; d++) {
			const struct decode_encap *de = encap_table_get(ft->encap, c->encap[d]);
			if (de)                      /* none past the table's size */
				e->dir[d] = *de;
		}
	}
	for (unsigned level = 0; level < nlayers; level++) {
		struct layer *L = layer_at(c, level);
		if (L->dis && L->dis->facts)
			L->dis->facts(L->ctx, r, set);
	}
	for (int i = 0; i < FACTS_COUNT; i++)
		r->facts[i] = facts_set_find(set, (enum facts_id)i);
}

/* End a connection: flush its streams, emit its record, free its slot.
 * `kind_if_open` is its close_kind when no FIN or RST was seen. */
static void conn_end(struct flow_table *ft, struct conn *c, enum conn_close_kind kind_if_open)
{
	uint32_t idx = c->self;
	if (c->s)
		tcp_reasm_finish(&c->s->reasm, c->last_seen);
	if (c->close_kind == CONN_CLOSE_OPEN)
		c->close_kind = (uint8_t)kind_if_open;

	if (c->s)
		layers_report_unread(c, c->last_seen);
	struct conn_record rec;
	conn_record_fill(ft, c, &rec);
	if (ft->hooks.conn_done)
		ft->hooks.conn_done(ft->hooks.ctx, &rec);
	stream_free(ft, c);

	uint32_t slot;
	if (table_find(ft, &c->key, c->hash, &slot) == idx)
		table_remove_slot(ft, slot);
	ft->count--;
	list_unlink(ft, c);
	c->next = ft->free_head;
	ft->free_head = idx;
}

static bool pool_grow(struct flow_table *ft)
{
	if (ft->nchunks == ft->chunks_cap) {
		uint32_t cap = ft->chunks_cap ? ft->chunks_cap * 2 : 16;
		struct conn **chunks = realloc(ft->chunks, cap * sizeof *chunks);
		if (!chunks)
			return false;
		ft->chunks = chunks;
		ft->chunks_cap = cap;
	}
	/* Not zeroed nor threaded onto the free list: conn_new() takes the
	 * records in order, so a page is first touched by its first
	 * connection (a flood grows the table by one page at a time). */
	struct conn *chunk = big_alloc(FLOW_HUGE_PAGE);
	if (!chunk)
		return false;
	ft->chunks[ft->nchunks++] = chunk;
	return true;
}

static struct conn *conn_new(struct flow_table *ft, const struct flow_key *k, uint32_t hash,
			     const struct decode_tcp *d, bool src_is_a, kl_time ts)
{
	if (ft->count >= ft->cfg.max_conns) {
		uint32_t victim = eviction_victim(ft);
		if (victim == NIL)
			return NULL;
		conn_end(ft, conn_at(ft, victim), CONN_CLOSE_EVICTED);
		ft->st.conns_evicted++;
	}
	/* Room for its key and an alias: the index stays at most half full. */
	if ((uint64_t)(ft->count + ft->aliases + 2) * 2 > (uint64_t)ft->mask + 1 &&
	    !table_resize(ft, (ft->mask + 1) * 2))
		return NULL;
	uint32_t idx;
	if (ft->free_head != NIL) {
		idx = ft->free_head;
		ft->free_head = conn_at(ft, idx)->next;
	} else {
		if (ft->fresh == ft->nchunks << CHUNK_SHIFT && !pool_grow(ft))
			return NULL;
		idx = ft->fresh++;
	}
	struct conn *c = conn_at(ft, idx);
	memset(c, 0, sizeof *c);
	c->key = *k;
	c->hash = hash;
	c->self = idx;
	c->prev = c->next = NIL;
	c->first_seen = c->last_seen = c->listed_at = ts;
	c->id = ft->hooks.conn_id ? ft->hooks.conn_id(ft->hooks.ctx) : 0;

	/* Roles: SYN sender, else SYN-ACK receiver, else the higher port. */
	bool src_is_client;
	uint8_t sa = d->flags & (KL_TCP_SYN | KL_TCP_ACK);
	if (sa == KL_TCP_SYN)
		src_is_client = true;
	else if (sa == (KL_TCP_SYN | KL_TCP_ACK))
		src_is_client = false;
	else
		src_is_client = d->sport >= d->dport;
	c->client_is_a = src_is_client == src_is_a;

	uint32_t slot;
	table_find(ft, k, hash, &slot);
	ft->slots[slot] = (struct slot){ idx + 1, hash };
	ft->count++;
	ft->st.conns_total++;
	list_append(ft, c, idx, LIST_HALF);
	if ((k->domain[0] | k->domain[1] | k->domain[2]) && stream_get(ft, c)) {
		struct flow_key any = key_any_tunnel(k);
		alias_add(ft, c, &any, ALIAS_ANY);
	}
	return c;
}

/* A packet in tunnel domain k->domain found no connection there: the one
 * in another tunnel it completes (flow.h), which from now on is found by
 * k too; or NULL. */
static struct conn *pair_across_tunnels(struct flow_table *ft, const struct flow_key *k,
					bool src_is_a, const struct decode_tcp *d)
{
	struct flow_key any = key_any_tunnel(k);
	uint32_t slot;
	uint32_t idx = table_find(ft, &any, key_hash(&any, ft->seed), &slot);
	if (idx == NIL)
		return NULL;
	struct conn *c = conn_at(ft, idx);
	enum kl_dir dir = src_is_a == c->client_is_a ? KL_TO_SERVER : KL_TO_CLIENT;
	enum kl_dir other = dir == KL_TO_SERVER ? KL_TO_CLIENT : KL_TO_SERVER;
	if (c->packets[dir] != 0 || !(d->flags & KL_TCP_ACK) || !c->snd_valid[other])
		return NULL;
	uint32_t dist = seq_distance(d->ack, c->snd_next[other]);
	bool synack = (d->flags & (KL_TCP_SYN | KL_TCP_ACK)) == (KL_TCP_SYN | KL_TCP_ACK);
	if (synack ? dist != 0 : dist > FLOW_REUSE_JUMP)
		return NULL;
	alias_remove(ft, c);
	alias_add(ft, c, k, ALIAS_PAIRED);
	ft->st.conns_paired++;
	return c;
}

/* Does this segment start a new connection on c's 5-tuple? */
static bool starts_new_conn(const struct conn *c, enum kl_dir dir, const struct decode_tcp *d)
{
	uint8_t sa = d->flags & (KL_TCP_SYN | KL_TCP_ACK);
	if (sa == KL_TCP_SYN) {
		/* A retransmitted SYN carries the same ISN; a SYN after a SYN with
		 * another ISN, or on a closed connection, opens a new connection
		 * (tshark splits tcp.stream the same way).  A first SYN on an open
		 * connection arrived late (captures reorder the handshake). */
		if (c->syn_seen)
			return !(dir == KL_TO_SERVER && d->seq == c->client_isn);
		return c->closed;
	}
	if (!c->closed || !c->snd_valid[dir] || (d->flags & KL_TCP_RST))
		return false;
	uint32_t dist = seq_distance(d->seq, c->snd_next[dir]);
	return dist > FLOW_REUSE_JUMP;
}

/* The state passed memcap (`used` bytes): evict by the policy (flow.h)
 * until it is 1/8 below, so that the next packets do not each evict one. */
static void shed(struct flow_table *ft, size_t used)
{
	size_t low = ft->cfg.memcap - ft->cfg.memcap / 8, now = used;
	uint32_t victim;
	while (now > low && (victim = eviction_victim(ft)) != NIL) {
		conn_end(ft, conn_at(ft, victim), CONN_CLOSE_EVICTED);
		ft->st.conns_evicted_memory++;
		now = mem_total(ft);
	}
	ft->st.memory_shed += used > now ? used - now : 0;
}

void flow_table_packet(struct flow_table *ft, const struct decode_tcp *d, kl_time ts)
{
	if (ts > ft->now)
		ft->now = ts;
	if (!ft->cfg.expire_by_caller && ft->now - ft->last_expire >= FLOW_EXPIRE_EVERY)
		flow_table_expire(ft, ft->now);

	uint32_t encap = 0, domain = ENCAP_DOMAIN_NONE;
	if (d->encap.depth)
		encap = encap_table_number(ft->encap, &d->encap, &domain);
	struct flow_key k;
	bool src_is_a = key_make(&k, d, domain);
	uint32_t hash = key_hash(&k, ft->seed);
	uint32_t slot;
	uint32_t idx = table_find(ft, &k, hash, &slot);
	struct conn *c = idx == NIL ? NULL : conn_at(ft, idx);
	enum kl_dir dir = KL_TO_SERVER;
	if (!c && domain != ENCAP_DOMAIN_NONE) {
		c = pair_across_tunnels(ft, &k, src_is_a, d);
		idx = c ? c->self : NIL;
	}

	if (c) {
		dir = src_is_a == c->client_is_a ? KL_TO_SERVER : KL_TO_CLIENT;
		if (starts_new_conn(c, dir, d)) {
			ft->st.conns_port_reused++;
			conn_end(ft, c, CONN_CLOSE_OPEN);
			c = NULL;
		}
	}
	bool fresh = !c;
	if (!c) {
		c = conn_new(ft, &k, hash, d, src_is_a, ts);
		if (!c)
			return;
		idx = c->self;
		dir = src_is_a == c->client_is_a ? KL_TO_SERVER : KL_TO_CLIENT;
	}

	c->packets[dir]++;
	c->bytes[dir] += d->payload_len;
	if (encap && !c->encap[dir])
		c->encap[dir] = encap;
	/* Both directions came in its own tunnel: no pairing across them. */
	if (c->s && c->s->alias_state == ALIAS_ANY && c->packets[dir ^ 1])
		alias_remove(ft, c);
	/* Times can go backwards (a clock step, merged captures): the
	 * connection spans its earliest to its latest packet. */
	if (ts > c->last_seen)
		c->last_seen = ts;
	if (ts < c->first_seen)
		c->first_seen = ts;

	uint8_t f = d->flags;
	if (dir != KL_TO_SERVER || d->payload_len ||
	    (f & (KL_TCP_SYN | KL_TCP_ACK | KL_TCP_FIN | KL_TCP_RST)) != KL_TCP_SYN)
		c->not_syn = true;
	if ((f & (KL_TCP_SYN | KL_TCP_ACK)) == KL_TCP_SYN && dir == KL_TO_SERVER) {
		/* The RTT runs from the SYN that was answered: a retransmitted
		 * SYN restarts it (Wireshark's iRTT does the same). */
		if (!c->syn_seen || !c->synack_seen)
			c->syn_ts = ts;
		c->syn_seen = true;
		c->client_isn = d->seq;
	}
	if ((f & (KL_TCP_SYN | KL_TCP_ACK)) == (KL_TCP_SYN | KL_TCP_ACK) && dir == KL_TO_CLIENT)
		c->synack_seen = true;
	/* Handshake RTT as Wireshark's iRTT: the SYN to the client's ACK of
	 * the SYN-ACK. */
	if (!c->rtt_done && c->syn_seen && c->synack_seen && dir == KL_TO_SERVER &&
	    (f & (KL_TCP_SYN | KL_TCP_ACK | KL_TCP_RST)) == KL_TCP_ACK) {
		c->rtt_done = true;
		c->handshake_rtt = ts - c->syn_ts;
	}
	if ((f & (KL_TCP_FIN | KL_TCP_RST)) && c->close_kind == CONN_CLOSE_OPEN) {
		c->close_initiator = dir == KL_TO_SERVER ? CONN_CLOSER_CLIENT : CONN_CLOSER_SERVER;
		c->close_kind = (f & KL_TCP_RST) ? CONN_CLOSE_RST : CONN_CLOSE_FIN;
		c->close_ts = ts;
	}
	if (f & KL_TCP_FIN)
		c->fin_seen[dir] = true;
	if (f & KL_TCP_RST)
		c->rst_seen = true;
	if (!(f & KL_TCP_RST)) {
		uint32_t end = d->seq + d->payload_len + (f & KL_TCP_SYN ? 1u : 0u) +
			       (f & KL_TCP_FIN ? 1u : 0u);
		if (!c->snd_valid[dir] || (int32_t)(end - c->snd_next[dir]) > 0)
			c->snd_next[dir] = end;
		c->snd_valid[dir] = true;
	}
	if (!c->closed && (c->rst_seen || (c->fin_seen[0] && c->fin_seen[1])))
		c->closed = true;
	list_touch(ft, c, idx, conn_list_of(c));

	struct tcp_seg seg = {
		.seq = d->seq, .ack = d->ack, .flags = f,
		.payload = d->payload, .caplen = d->payload_caplen, .len = d->payload_len,
	};
	/* A connection's stream is made by its first payload, FIN or RST;
	 * before that only where each direction starts is kept. */
	/* Only a new connection, a segment that carries something, or an ACK
	 * that may release held data to a dissector can make the state grow:
	 * other bare ACKs are not accounted (half the packets of most
	 * traffic). */
	bool may_grow = fresh || d->payload_len || (f & (KL_TCP_SYN | KL_TCP_FIN | KL_TCP_RST)) ||
			(c->s && tcp_reasm_holds(&c->s->reasm));
	if (c->s || ((d->payload_len || (f & (KL_TCP_FIN | KL_TCP_RST))) && stream_get(ft, c))) {
		tcp_reasm_push(&c->s->reasm, dir, &seg, ts);
		if (may_grow)
			layers_account(ft, c);
	} else {
		tcp_reasm_origin_note(c->origin, dir, &seg);
	}
	if (!may_grow)
		return;
	size_t used = mem_total(ft);
	if (used > ft->st.memory_peak)
		ft->st.memory_peak = used;
	if (ft->cfg.memcap && used > ft->cfg.memcap)
		shed(ft, used);
}

void flow_table_expire(struct flow_table *ft, kl_time now)
{
	ft->last_expire = now;
	uint32_t i;
	while ((i = ft->head[LIST_CLOSED]) != NIL &&
	       conn_at(ft, i)->last_seen + ft->cfg.closed_linger <= now)
		conn_end(ft, conn_at(ft, i), CONN_CLOSE_OPEN);
	for (int l = LIST_OPEN; l <= LIST_HALF; l++)
		while ((i = ft->head[l]) != NIL &&
		       conn_at(ft, i)->last_seen + ft->cfg.idle_timeout <= now)
			conn_end(ft, conn_at(ft, i), CONN_CLOSE_IDLE);
}

void flow_table_flush(struct flow_table *ft)
{
	for (int l = LIST_OPEN; l < LIST_COUNT; l++) {
		uint32_t i;
		while ((i = ft->head[l]) != NIL)
			conn_end(ft, conn_at(ft, i), CONN_CLOSE_OPEN);
	}
}

struct flow_table *flow_table_new(const struct flow_config *cfg,
				  const struct flow_hooks *hooks,
				  char *err, size_t errlen)
{
	struct flow_table *ft = calloc(1, sizeof *ft);
	if (!ft)
		goto oom;
	ft->cfg = *cfg;
	if (ft->cfg.max_conns == 0)
		ft->cfg.max_conns = 1;
	if (hooks)
		ft->hooks = *hooks;
	ft->free_head = NIL;
	for (int l = 0; l < LIST_COUNT; l++)
		ft->head[l] = ft->tail[l] = NIL;
	/* A seeded hash: crafted 5-tuples cannot be made to collide. */
	if (getrandom(&ft->seed, sizeof ft->seed, GRND_NONBLOCK) != (ssize_t)sizeof ft->seed)
		ft->seed = (uint64_t)(uintptr_t)ft ^ UINT64_C(0x5851F42D4C957F2D);
	ft->pool = tcp_reasm_pool_new(cfg->reasm_conn_cap, cfg->reasm_global_cap);
	ft->scratch = malloc(DISSECT_SCRATCH_BYTES);
	ft->facts = facts_set_new();
	ft->encap = encap_table_new(cfg->max_tunnels ? cfg->max_tunnels : 1u << 16);
	if (!ft->pool || !ft->scratch || !ft->facts || !ft->encap ||
	    !table_resize(ft, TABLE_MIN_SLOTS))
		goto oom;
	return ft;
oom:
	snprintf(err, errlen, "out of memory creating the connection table");
	flow_table_free(ft);
	return NULL;
}

struct flow_stats flow_table_stats(const struct flow_table *ft)
{
	struct flow_stats s = ft->st;
	s.conns_open = ft->count;
	s.tunnels_overflow = encap_table_overflows(ft->encap);
	struct tcp_reasm_pool_stats ps = tcp_reasm_pool_stats(ft->pool);
	s.reasm_cap_hits = ps.cap_hits;
	s.reasm_bytes_peak = ps.bytes_buffered_peak;
	s.memory = mem_total(ft);
	return s;
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	for (int l = LIST_OPEN; l < LIST_COUNT; l++) {
		for (uint32_t i = ft->head[l]; i != NIL; i = conn_at(ft, i)->next)
			stream_free(ft, conn_at(ft, i));
	}
	for (uint32_t k = 0; k < ft->nchunks; k++)
		big_free(ft->chunks[k], FLOW_HUGE_PAGE);
	free(ft->chunks);
	if (ft->slots)
		big_free(ft->slots, ((size_t)ft->mask + 1) * sizeof *ft->slots);
	tcp_reasm_pool_free(ft->pool);
	free(ft->scratch);
	facts_set_free(ft->facts);
	encap_table_free(ft->encap);
	free(ft);
}
