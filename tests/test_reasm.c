/*
 * test_reasm.c - TCP stream reassembly (tcp_reasm) on synthetic segment
 * sequences, written from the contract in tcp_reasm.h and
 * docs/reassembly.md.
 *
 * Every test records what the sink receives and checks, inside the sink,
 * that data and gaps tile each direction's stream from offset 0 with no
 * overlap and no hole, that no callback is empty and that nothing follows
 * eof.  After every push the pool and half statistics are compared with
 * what the sink saw.  Streams are deterministic pseudo-random bytes, and
 * delivered bytes are compared with the known stream (or, where copies
 * differ, with the copy that arrived first), never with recorded output.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tcp_reasm.h"

#define MS(x) ((kl_time)(x) * 1000000)
#define T0 ((kl_time)1700000000 * KL_NS_PER_SEC)
#define BIG_CAP ((size_t)1 << 28)
#define CHARGE ((uint64_t)TCP_REASM_NODE_CHARGE)

static const enum kl_dir A = KL_TO_SERVER, B = KL_TO_CLIENT;

/* A zero-length payload still points somewhere, as decode.c's do. */
static const uint8_t NOBYTES[1];

/* ---- deterministic bytes ---------------------------------------------- */

struct prng {
	uint64_t s;
};

static uint64_t prng_next(struct prng *g)
{
	/* splitmix64 */
	uint64_t z = (g->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t prng_below(struct prng *g, uint64_t n)
{
	return n ? prng_next(g) % n : 0;
}

static uint8_t *make_stream(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	struct prng g = { seed * 7919 + 1 };
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = prng_next(&g);
		p[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
	return p;
}

/* A copy of orig[off, off+n) with every byte changed. */
static uint8_t *altered(const uint8_t *orig, size_t off, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(orig[off + i] ^ 0xA5);
	return p;
}

/* ---- the recording sink ----------------------------------------------- */

enum ev_kind { EV_DATA, EV_GAP, EV_EOF };

struct ev {
	enum ev_kind kind;
	uint64_t off, len;
	size_t pos;            /* EV_DATA: where its bytes start in buf */
	const uint8_t *p;      /* EV_DATA: the pointer passed (compared only) */
	kl_time ts;
};

struct rdir {
	uint8_t *buf;          /* delivered bytes, concatenated */
	size_t nbuf, capbuf;
	struct ev *ev;
	size_t nev, capev;
	uint64_t end;          /* where the next data or gap must start */
	uint64_t data_bytes, gap_bytes;
	int eofs;
};

struct rec {
	struct rdir d[2];
	bool nostore;          /* check the tiling only, keep nothing */
	uint64_t calls;
};

static void rec_event(struct rec *rc, enum kl_dir dir, const struct ev *e)
{
	struct rdir *d = &rc->d[dir];
	rc->calls++;
	if (rc->nostore)
		return;
	if (d->nev == d->capev) {
		d->capev = d->capev ? 2 * d->capev : 64;
		d->ev = realloc(d->ev, d->capev * sizeof *d->ev);
		cr_assert_not_null(d->ev);
	}
	d->ev[d->nev++] = *e;
}

static void check_dir(enum kl_dir dir)
{
	cr_assert(dir == KL_TO_SERVER || dir == KL_TO_CLIENT, "bad direction %d", (int)dir);
}

static void rec_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n,
		     uint64_t off, kl_time ts)
{
	struct rec *rc = ctx;
	check_dir(dir);
	struct rdir *d = &rc->d[dir];
	cr_assert_eq(d->eofs, 0, "dir %d: data at %" PRIu64 " after eof", (int)dir, off);
	cr_assert_gt(n, 0, "dir %d: empty data callback at %" PRIu64, (int)dir, off);
	cr_assert_not_null(p);
	cr_assert_eq(off, d->end, "dir %d: data at %" PRIu64 " but the stream is at %" PRIu64
		     " (overlap or hole)", (int)dir, off, d->end);
	struct ev e = { EV_DATA, off, n, d->nbuf, p, ts };
	rec_event(rc, dir, &e);
	d->end = off + n;
	d->data_bytes += n;
	if (rc->nostore)
		return;
	if (d->nbuf + n > d->capbuf) {
		while (d->nbuf + n > d->capbuf)
			d->capbuf = d->capbuf ? 2 * d->capbuf : 4096;
		d->buf = realloc(d->buf, d->capbuf);
		cr_assert_not_null(d->buf);
	}
	memcpy(d->buf + d->nbuf, p, n);
	d->nbuf += n;
}

static void rec_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct rec *rc = ctx;
	check_dir(dir);
	struct rdir *d = &rc->d[dir];
	cr_assert_eq(d->eofs, 0, "dir %d: gap at %" PRIu64 " after eof", (int)dir, off);
	cr_assert_gt(len, 0, "dir %d: empty gap at %" PRIu64, (int)dir, off);
	cr_assert_eq(off, d->end, "dir %d: gap at %" PRIu64 " but the stream is at %" PRIu64
		     " (overlap or hole)", (int)dir, off, d->end);
	struct ev e = { EV_GAP, off, len, 0, NULL, ts };
	rec_event(rc, dir, &e);
	d->end = off + len;
	d->gap_bytes += len;
}

static void rec_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	struct rec *rc = ctx;
	check_dir(dir);
	struct rdir *d = &rc->d[dir];
	cr_assert_eq(d->eofs, 0, "dir %d: second eof", (int)dir);
	struct ev e = { EV_EOF, d->end, 0, 0, NULL, ts };
	rec_event(rc, dir, &e);
	d->eofs++;
}

static const struct tcp_reasm_sink REC_SINK = { rec_data, rec_gap, rec_eof };

static void rec_free(struct rec *rc)
{
	for (int i = 0; i < 2; i++) {
		free(rc->d[i].buf);
		free(rc->d[i].ev);
	}
}

/* ---- harness: one connection, its pool, its known streams --------------- */

struct h {
	struct tcp_reasm_pool *pool;
	bool own_pool;         /* false: shared, so pool != this conn alone */
	struct tcp_reasm r;
	struct rec rc;
	size_t per_conn, global;
	uint32_t base[2];      /* sequence number of stream offset 0 */
	const uint8_t *orig[2];
	kl_time ts;
};

/* Statistics agree with the sink; memory stays within the caps. */
static void h_check(const struct h *h)
{
	struct tcp_reasm_pool_stats ps = tcp_reasm_pool_stats(h->pool);
	uint64_t ooo = 0;
	for (int i = 0; i < 2; i++) {
		struct tcp_reasm_half_stats hs = tcp_reasm_half_stats(&h->r, (enum kl_dir)i);
		cr_assert_eq(hs.delivered_bytes, h->rc.d[i].data_bytes,
			     "dir %d: delivered_bytes %" PRIu64 ", sink got %" PRIu64, i,
			     hs.delivered_bytes, h->rc.d[i].data_bytes);
		cr_assert_eq(hs.gap_bytes, h->rc.d[i].gap_bytes,
			     "dir %d: gap_bytes %" PRIu64 ", sink got %" PRIu64, i,
			     hs.gap_bytes, h->rc.d[i].gap_bytes);
		ooo += hs.ooo_bytes;
	}
	cr_assert_leq(ooo, h->per_conn, "connection holds %" PRIu64 " over its cap %zu",
		      ooo, h->per_conn);
	if (h->own_pool)
		cr_assert_eq(ps.bytes_buffered, ooo, "pool charges %" PRIu64
			     ", the connection %" PRIu64, ps.bytes_buffered, ooo);
	cr_assert_leq(ps.bytes_buffered, h->global, "pool holds %" PRIu64 " over its cap %zu",
		      ps.bytes_buffered, h->global);
	cr_assert_geq(ps.bytes_buffered_peak, ps.bytes_buffered);
	cr_assert_leq(ps.bytes_buffered_peak, h->global);
}

static void h_open_in(struct h *h, struct tcp_reasm_pool *pool, size_t per_conn, size_t global)
{
	memset(h, 0, sizeof *h);
	h->per_conn = per_conn;
	h->global = global;
	h->pool = pool;
	tcp_reasm_init(&h->r, h->pool, &REC_SINK, &h->rc);
	h->ts = T0;
}

static void h_open(struct h *h, size_t per_conn, size_t global)
{
	struct tcp_reasm_pool *pool = tcp_reasm_pool_new(per_conn, global);
	cr_assert_not_null(pool);
	h_open_in(h, pool, per_conn, global);
	h->own_pool = true;
}

static void h_close(struct h *h)
{
	if (h->own_pool)
		tcp_reasm_pool_free(h->pool);
	rec_free(&h->rc);
}

static void h_seg(struct h *h, enum kl_dir dir, uint8_t flags, uint32_t seq, uint32_t ack,
		  const uint8_t *p, uint32_t caplen, uint32_t len)
{
	struct tcp_seg s = { .seq = seq, .ack = ack, .flags = flags,
			     .payload = p ? p : NOBYTES, .caplen = caplen, .len = len };
	tcp_reasm_push(&h->r, dir, &s, h->ts);
	h->ts += MS(1);
	h_check(h);
}

static uint32_t seq_of(const struct h *h, enum kl_dir dir, uint64_t off)
{
	return h->base[dir] + (uint32_t)off;
}

/* Bytes [off, off+n) of dir's known stream; no ACK flag. */
static void h_data(struct h *h, enum kl_dir dir, uint64_t off, uint32_t n)
{
	h_seg(h, dir, 0, seq_of(h, dir, off), 0, h->orig[dir] + off, n, n);
}

/* The same with other bytes p (a copy that differs). */
static void h_data_p(struct h *h, enum kl_dir dir, uint64_t off, const uint8_t *p, uint32_t n)
{
	h_seg(h, dir, 0, seq_of(h, dir, off), 0, p, n, n);
}

static void h_syn(struct h *h, enum kl_dir dir, uint32_t isn)
{
	h->base[dir] = isn + 1;
	h_seg(h, dir, KL_TCP_SYN, isn, 0, NULL, 0, 0);
}

/* A pure ACK in `dir` at dir's stream offset `off`, acknowledging the
 * other direction up to its stream offset `ackoff`. */
static void h_ack(struct h *h, enum kl_dir dir, uint64_t off, uint64_t ackoff)
{
	h_seg(h, dir, KL_TCP_ACK, seq_of(h, dir, off), seq_of(h, (enum kl_dir)!dir, ackoff),
	      NULL, 0, 0);
}

static void h_fin(struct h *h, enum kl_dir dir, uint64_t off)
{
	h_seg(h, dir, KL_TCP_FIN, seq_of(h, dir, off), 0, NULL, 0, 0);
}

static void h_finish(struct h *h)
{
	tcp_reasm_finish(&h->r, h->ts);
	h_check(h);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(h->rc.d[i].eofs, 1, "dir %d: finish() must end with one eof", i);
		cr_assert_eq(tcp_reasm_half_stats(&h->r, (enum kl_dir)i).ooo_bytes, 0);
	}
	if (h->own_pool)
		cr_assert_eq(tcp_reasm_pool_stats(h->pool).bytes_buffered, 0,
			     "finish() frees every buffered byte");
}

static struct tcp_reasm_half_stats hs(const struct h *h, enum kl_dir dir)
{
	return tcp_reasm_half_stats(&h->r, dir);
}

/* ---- checking a recorded stream against the known one ----------------- */

struct range {
	uint64_t off, len;
};

static void check_gap(enum kl_dir dir, uint64_t off, uint64_t len, const struct range *gaps,
		      size_t ngaps, size_t *gi)
{
	cr_assert_lt(*gi, ngaps, "dir %d: unexpected gap [%" PRIu64 ", %" PRIu64 ")",
		     (int)dir, off, off + len);
	cr_assert(off == gaps[*gi].off && len == gaps[*gi].len,
		  "dir %d: gap [%" PRIu64 ", %" PRIu64 "), expected [%" PRIu64 ", %" PRIu64 ")",
		  (int)dir, off, off + len, gaps[*gi].off, gaps[*gi].off + gaps[*gi].len);
	(*gi)++;
}

/*
 * dir's stream, as delivered, must be `want` (indexed by offset) up to
 * `end`, with exactly `gaps` missing (adjacent gap callbacks merged) and
 * every other byte delivered.
 */
static void expect_stream(const struct h *h, enum kl_dir dir, const uint8_t *want,
			  uint64_t end, const struct range *gaps, size_t ngaps)
{
	const struct rdir *d = &h->rc.d[dir];
	size_t gi = 0;
	bool in_gap = false;
	uint64_t goff = 0, glen = 0;
	for (size_t i = 0; i < d->nev; i++) {
		const struct ev *e = &d->ev[i];
		if (e->kind == EV_GAP) {
			if (in_gap) {
				glen += e->len;
			} else {
				in_gap = true;
				goff = e->off;
				glen = e->len;
			}
			continue;
		}
		if (in_gap)
			check_gap(dir, goff, glen, gaps, ngaps, &gi);
		in_gap = false;
		if (e->kind != EV_DATA)
			continue;
		cr_assert_leq(e->off + e->len, end, "dir %d: data [%" PRIu64 ", %" PRIu64
			      ") beyond the stream's end %" PRIu64, (int)dir, e->off,
			      e->off + e->len, end);
		if (memcmp(d->buf + e->pos, want + e->off, e->len) != 0) {
			uint64_t k = 0;
			while (d->buf[e->pos + k] == want[e->off + k])
				k++;
			cr_assert_fail("dir %d: wrong byte at offset %" PRIu64 ": got 0x%02x, expected 0x%02x"
				" (data callback [%" PRIu64 ", %" PRIu64 "))", (int)dir, e->off + k,
				d->buf[e->pos + k], want[e->off + k], e->off, e->off + e->len);
		}
	}
	if (in_gap)
		check_gap(dir, goff, glen, gaps, ngaps, &gi);
	cr_assert_eq(gi, ngaps, "dir %d: %zu gaps, expected %zu", (int)dir, gi, ngaps);
	cr_assert_eq(d->end, end, "dir %d: stream ends at %" PRIu64 ", expected %" PRIu64,
		     (int)dir, d->end, end);
}

/* ======================================================================= */
/* In order, reversed                                                      */
/* ======================================================================= */

Test(reasm, in_order_is_delivered_at_once_straight_from_the_packet)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(3000, 1);
	h.orig[A] = s;
	h_syn(&h, A, 1000);
	for (uint64_t off = 0; off < 3000; off += 300) {
		size_t before = h.rc.d[A].nev;
		h_data(&h, A, off, 300);
		cr_assert_gt(h.rc.d[A].nev, before, "in-order data is delivered at once");
		cr_assert_eq(h.rc.d[A].end, off + 300);
		for (size_t i = before; i < h.rc.d[A].nev; i++) {
			const struct ev *e = &h.rc.d[A].ev[i];
			cr_assert_eq(e->kind, EV_DATA);
			cr_assert(e->p == s + e->off,
				  "zero copy: data at %" PRIu64 " must point into the segment", e->off);
		}
		cr_assert_eq(hs(&h, A).ooo_bytes, 0, "nothing is buffered for in-order data");
	}
	cr_assert_eq(tcp_reasm_pool_stats(h.pool).bytes_buffered_peak, 0);
	cr_assert_eq(h.rc.d[A].eofs, 0, "no eof before FIN or finish");
	h_finish(&h);
	expect_stream(&h, A, s, 3000, NULL, 0);
	expect_stream(&h, B, s, 0, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 0);
	cr_assert_eq(hs(&h, A).delivered_bytes, 3000);
	free(s);
	h_close(&h);
}

Test(reasm, reversed_order_is_buffered_then_delivered_when_the_first_arrives)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(2000, 2);
	h.orig[A] = s;
	h_syn(&h, A, 77);
	uint64_t held = 0;
	for (int i = 19; i >= 1; i--) {
		h_data(&h, A, (uint64_t)i * 100, 100);
		held += 100;
		cr_assert_eq(h.rc.calls, 0, "nothing can be delivered before offset 0 arrives");
		/* Contract: bytes held plus TCP_REASM_NODE_CHARGE per segment. */
		cr_assert_eq(hs(&h, A).ooo_bytes, held + CHARGE * (held / 100));
	}
	h_data(&h, A, 0, 100);
	cr_assert_eq(h.rc.d[A].end, 2000, "all 2000 bytes delivered when the first arrives");
	cr_assert(h.rc.d[A].ev[0].p == s, "the in-order segment itself is not copied");
	cr_assert_eq(hs(&h, A).ooo_bytes, 0, "delivered copies are freed at once");
	cr_assert_eq(tcp_reasm_pool_stats(h.pool).bytes_buffered, 0);
	cr_assert_eq(tcp_reasm_pool_stats(h.pool).bytes_buffered_peak, 1900 + 19 * CHARGE);
	h_finish(&h);
	expect_stream(&h, A, s, 2000, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 0);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* Random permutations                                                     */
/* ======================================================================= */

struct tseg {
	uint64_t off;
	uint32_t len;
	const uint8_t *p;      /* content, orig or a differing copy */
	uint8_t *own;          /* freed at the end */
	bool fin;
};

enum trial_mode {
	TRIAL_PLAIN,           /* each byte once */
	TRIAL_DUPS,            /* exact duplicates and re-cut overlaps */
	TRIAL_DIFFERING,       /* duplicates and overlaps with other bytes */
	TRIAL_LOSS,            /* some segments lost, some duplicated */
	TRIAL_SMALL_CAP,       /* a connection cap far below the stream */
};

/*
 * One random trial on direction A: a known stream cut into segments
 * (fixed or random sizes), maybe with duplicates, differing overlaps and
 * losses, a FIN segment somewhere in the order, all shuffled, after a SYN.
 * Expected: what arrived first for each byte (first copy wins), gaps exactly
 * where no copy arrived; delivery as soon as bytes are contiguous; eof once
 * everything before the FIN is delivered.
 */
static void run_trial(uint64_t seed, enum trial_mode mode)
{
	struct prng g = { seed };
	static const uint32_t sizes[] = { 1, 3, 64, 536, 1460, 4000 };
	uint32_t maxseg = sizes[prng_below(&g, KL_ARRAY_LEN(sizes))];
	bool random_sizes = prng_below(&g, 2);
	uint64_t maxlen = (uint64_t)maxseg * 300 < 30000 ? (uint64_t)maxseg * 300 : 30000;
	size_t len = (size_t)(1 + prng_below(&g, maxlen));
	uint8_t *s = make_stream(len, seed);

	size_t cap = 16, n = 0;
	struct tseg *segs = calloc(cap, sizeof *segs);
	cr_assert_not_null(segs);
#define ADD_SEG(o, l, pp, ownp, f) do { \
		if (n == cap) { \
			cap *= 2; \
			segs = realloc(segs, cap * sizeof *segs); \
			cr_assert_not_null(segs); \
		} \
		segs[n++] = (struct tseg){ (o), (l), (pp), (ownp), (f) }; \
	} while (0)

	for (uint64_t off = 0; off < len;) {
		uint32_t l = random_sizes ? (uint32_t)(1 + prng_below(&g, maxseg)) : maxseg;
		if (l > len - off)
			l = (uint32_t)(len - off);
		bool lost = mode == TRIAL_LOSS && prng_below(&g, 10) == 0;
		if (!lost)
			ADD_SEG(off, l, s + off, NULL, false);
		off += l;
	}
	size_t nbase = n;
	if (mode == TRIAL_DUPS || mode == TRIAL_DIFFERING || mode == TRIAL_LOSS) {
		size_t extra = nbase / 2 + 1;
		for (size_t i = 0; i < extra; i++) {
			uint64_t off;
			uint32_t l;
			if (nbase && prng_below(&g, 2)) {           /* an exact copy */
				const struct tseg *o = &segs[prng_below(&g, nbase)];
				off = o->off;
				l = o->len;
			} else {                                    /* cut elsewhere */
				off = prng_below(&g, len);
				l = (uint32_t)(1 + prng_below(&g, 2 * (uint64_t)maxseg));
				if (l > len - off)
					l = (uint32_t)(len - off);
			}
			if (mode == TRIAL_DIFFERING && prng_below(&g, 2)) {
				uint8_t *p = altered(s, off, l);
				ADD_SEG(off, l, p, p, false);
			} else {
				ADD_SEG(off, l, s + off, NULL, false);
			}
		}
	}
	ADD_SEG(len, 0, NOBYTES, NULL, true);
#undef ADD_SEG
	for (size_t i = n; i > 1; i--) {                  /* Fisher-Yates */
		size_t j = (size_t)prng_below(&g, i);
		struct tseg t = segs[i - 1];
		segs[i - 1] = segs[j];
		segs[j] = t;
	}

	/* The first copy of each byte in push order is the expected byte. */
	uint8_t *want = calloc(len ? len : 1, 1), *have = calloc(len ? len : 1, 1);
	cr_assert(want && have);
	uint64_t covered = 0;
	for (size_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < segs[i].len; k++) {
			if (!have[segs[i].off + k]) {
				have[segs[i].off + k] = 1;
				want[segs[i].off + k] = segs[i].p[k];
				covered++;
			}
		}
	}

	struct h h;
	size_t per_conn = mode == TRIAL_SMALL_CAP ? (size_t)(1000 + prng_below(&g, 8000)) : BIG_CAP;
	h_open(&h, per_conn, BIG_CAP);
	h.orig[A] = s;
	uint32_t isn = (uint32_t)prng_next(&g);
	if (seed % 4 == 0)                                /* cross the 2^32 wrap */
		isn = (uint32_t)(UINT32_MAX - prng_below(&g, len + 100));
	h_syn(&h, A, isn);

	memset(have, 0, len);
	uint64_t prefix = 0, retrans_want = 0;
	bool fin_pushed = false;
	for (size_t i = 0; i < n; i++) {
		const struct tseg *t = &segs[i];
		uint64_t end_before = h.rc.d[A].end;
		size_t nev_before = h.rc.d[A].nev;
		/* Contract: before eof, every byte seen again is counted as
		 * retransmitted; after eof the segment is ignored, but its bytes
		 * at offsets already delivered still count. */
		if (h.rc.d[A].eofs == 0) {
			retrans_want += t->len;
			for (uint32_t k = 0; k < t->len; k++)
				retrans_want -= !have[t->off + k];
		} else if (t->off < h.rc.d[A].end) {
			uint64_t old = h.rc.d[A].end - t->off;
			retrans_want += old < t->len ? old : t->len;
		}
		h_seg(&h, A, t->fin ? KL_TCP_FIN : 0, seq_of(&h, A, t->off), 0, t->p, t->len, t->len);
		fin_pushed |= t->fin;
		if (mode == TRIAL_SMALL_CAP)
			continue;
		for (uint32_t k = 0; k < t->len; k++)
			have[t->off + k] = 1;
		while (prefix < len && have[prefix])
			prefix++;
		cr_assert_eq(h.rc.d[A].end, prefix, "seed %" PRIu64 " push %zu [%" PRIu64 ", +%u):"
			     " delivered up to %" PRIu64 ", contiguous data reaches %" PRIu64,
			     seed, i, t->off, t->len, h.rc.d[A].end, prefix);
		cr_assert_eq(h.rc.d[A].eofs, fin_pushed && prefix == len ? 1 : 0,
			     "seed %" PRIu64 " push %zu: eof iff FIN seen and all before it delivered",
			     seed, i);
		/* Zero copy: the part of an in-order segment that is new comes
		 * straight from its payload. */
		if (t->off <= end_before && t->off + t->len > end_before &&
		    h.rc.d[A].nev > nev_before) {
			const struct ev *e = &h.rc.d[A].ev[nev_before];
			cr_assert(e->kind == EV_DATA && e->p == t->p + (end_before - t->off),
				  "seed %" PRIu64 " push %zu: in-order data not taken from the packet",
				  seed, i);
		}
	}
	h_finish(&h);
	struct tcp_reasm_half_stats st = hs(&h, A);
	if (mode == TRIAL_SMALL_CAP) {
		/* Holes may be skipped early; every byte delivered is still the
		 * right one, and data plus gaps cover the whole stream. */
		for (size_t i = 0; i < h.rc.d[A].nev; i++) {
			const struct ev *e = &h.rc.d[A].ev[i];
			if (e->kind == EV_DATA)
				cr_assert(memcmp(h.rc.d[A].buf + e->pos, s + e->off, e->len) == 0,
					  "seed %" PRIu64 ": wrong bytes at %" PRIu64, seed, e->off);
		}
		cr_assert_eq(h.rc.d[A].end, len, "seed %" PRIu64, seed);
		cr_assert_eq(st.delivered_bytes + st.gap_bytes, len);
	} else {
		struct range *gaps = calloc(len + 1, sizeof *gaps);
		size_t ngaps = 0;
		for (uint64_t o = 0; o < len;) {
			if (have[o]) {
				o++;
				continue;
			}
			uint64_t e = o;
			while (e < len && !have[e])
				e++;
			gaps[ngaps++] = (struct range){ o, e - o };
			o = e;
		}
		expect_stream(&h, A, want, len, gaps, ngaps);
		cr_assert_eq(st.delivered_bytes, covered);
		cr_assert_eq(st.gap_bytes, len - covered);
		cr_assert_eq(st.retrans_bytes, retrans_want, "seed %" PRIu64 ": retrans_bytes %"
			     PRIu64 ", expected %" PRIu64, seed, st.retrans_bytes, retrans_want);
		free(gaps);
	}
	cr_assert_eq(st.bad_seq_segments, 0);
	h_close(&h);
	for (size_t i = 0; i < n; i++)
		free(segs[i].own);
	free(segs);
	free(want);
	free(have);
	free(s);
}

#define TRIALS 250

Test(reasm, random_permutations)
{
	for (uint64_t seed = 1; seed <= TRIALS; seed++)
		run_trial(seed, TRIAL_PLAIN);
}

Test(reasm, random_permutations_with_duplicates)
{
	for (uint64_t seed = 1001; seed <= 1000 + TRIALS; seed++)
		run_trial(seed, TRIAL_DUPS);
}

Test(reasm, random_overlaps_with_differing_bytes_first_copy_wins)
{
	for (uint64_t seed = 2001; seed <= 2000 + TRIALS; seed++)
		run_trial(seed, TRIAL_DIFFERING);
}

Test(reasm, random_losses_become_exact_gaps_at_finish)
{
	for (uint64_t seed = 3001; seed <= 3000 + TRIALS; seed++)
		run_trial(seed, TRIAL_LOSS);
}

Test(reasm, random_permutations_under_a_small_connection_cap)
{
	for (uint64_t seed = 4001; seed <= 4000 + TRIALS; seed++)
		run_trial(seed, TRIAL_SMALL_CAP);
}

/* ======================================================================= */
/* Retransmissions and overlaps                                            */
/* ======================================================================= */

Test(reasm, exact_duplicates_are_dropped_and_counted)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 3);
	h.orig[A] = s;
	h_syn(&h, A, 5000);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 0, 100);                 /* duplicate of delivered data */
	cr_assert_eq(hs(&h, A).retrans_bytes, 100);
	h_data(&h, A, 200, 100);
	uint64_t held = hs(&h, A).ooo_bytes;
	h_data(&h, A, 200, 100);               /* duplicate of buffered data */
	cr_assert_eq(hs(&h, A).ooo_bytes, held, "a duplicate is not buffered twice");
	cr_assert_eq(hs(&h, A).retrans_bytes, 200);
	h_data(&h, A, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 300);
	h_data(&h, A, 100, 100);
	h_data(&h, A, 0, 300);                 /* everything again, as one */
	cr_assert_eq(hs(&h, A).retrans_bytes, 600);
	cr_assert_eq(h.rc.d[A].end, 300);
	h_finish(&h);
	expect_stream(&h, A, s, 300, NULL, 0);
	cr_assert_eq(hs(&h, A).delivered_bytes, 300);
	free(s);
	h_close(&h);
}

Test(reasm, overlap_after_delivery_keeps_the_first_copy)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 4);
	h.orig[A] = s;
	h_syn(&h, A, 1);
	h_data(&h, A, 0, 200);
	/* [100, 300): the first half differs from what was delivered. */
	uint8_t copy[200];
	memcpy(copy, s + 100, 200);
	for (int i = 0; i < 100; i++)
		copy[i] ^= 0xFF;
	size_t before = h.rc.d[A].nev;
	h_data_p(&h, A, 100, copy, 200);
	cr_assert_eq(h.rc.d[A].end, 300, "the new part is delivered at once");
	cr_assert(h.rc.d[A].ev[before].p == copy + 100, "and straight from the packet");
	h_data(&h, A, 300, 100);
	h_finish(&h);
	expect_stream(&h, A, s, 400, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 100);
	free(s);
	h_close(&h);
}

Test(reasm, overlaps_among_buffered_segments_keep_the_first_copy)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 5);
	h.orig[A] = s;
	h_syn(&h, A, 90000);
	h_data(&h, A, 0, 10);
	h_data(&h, A, 100, 100);               /* held */
	uint8_t c1[100];                       /* [150, 250), [150, 200) differ */
	memcpy(c1, s + 150, 100);
	for (int i = 0; i < 50; i++)
		c1[i] ^= 0x3C;
	h_data_p(&h, A, 150, c1, 100);
	uint8_t c2[70];                        /* [50, 120), [100, 120) differ */
	memcpy(c2, s + 50, 70);
	for (int i = 50; i < 70; i++)
		c2[i] ^= 0x3C;
	h_data_p(&h, A, 50, c2, 70);
	cr_assert_eq(h.rc.d[A].end, 10);
	uint8_t c3[50];                        /* [10, 60), [50, 60) differ */
	memcpy(c3, s + 10, 50);
	for (int i = 40; i < 50; i++)
		c3[i] ^= 0x3C;
	h_data_p(&h, A, 10, c3, 50);
	cr_assert_eq(h.rc.d[A].end, 250);
	h_data(&h, A, 250, 50);
	h_finish(&h);
	expect_stream(&h, A, s, 300, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 50 + 20 + 10);
	free(s);
	h_close(&h);
}

Test(reasm, in_order_segment_does_not_override_a_buffered_copy)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 6);
	h.orig[A] = s;
	h_syn(&h, A, 4242);
	/* [100, 200) arrives first with other bytes; then [0, 200) in order. */
	uint8_t *alt = altered(s, 100, 100);
	h_data_p(&h, A, 100, alt, 100);
	h_data(&h, A, 0, 200);
	cr_assert_eq(h.rc.d[A].end, 200);
	uint8_t want[200];
	memcpy(want, s, 100);
	memcpy(want + 100, alt, 100);
	h_finish(&h);
	expect_stream(&h, A, want, 200, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 100);
	free(alt);
	free(s);
	h_close(&h);
}

Test(reasm, segment_covering_buffered_segments_and_holes)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 7);
	h.orig[A] = s;
	h_syn(&h, A, 300);
	h_data(&h, A, 0, 50);
	uint8_t *alt = altered(s, 0, 300);     /* alt[i] differs from s[i] */
	uint8_t want[300];
	memcpy(want, s, 300);
	static const uint64_t held[3] = { 100, 140, 180 };
	for (int i = 0; i < 3; i++) {
		h_data_p(&h, A, held[i], alt + held[i], 20);
		memcpy(want + held[i], alt + held[i], 20);
	}
	/* [90, 210) out of order covers all three and the holes between. */
	h_data(&h, A, 90, 120);
	cr_assert_eq(h.rc.d[A].end, 50);
	/* Held now: the three first copies (60 bytes) and what the cover
	 * added in the holes (60 bytes), plus a charge per node. */
	uint64_t charged = hs(&h, A).ooo_bytes;
	cr_assert(charged > 120 && charged <= 120 + 7 * CHARGE && (charged - 120) % CHARGE == 0,
		  "%" PRIu64 " charged: not 120 bytes plus whole node charges", charged);
	cr_assert_eq(hs(&h, A).retrans_bytes, 60);
	h_data(&h, A, 50, 40);
	cr_assert_eq(h.rc.d[A].end, 210);
	h_data(&h, A, 210, 90);
	h_finish(&h);
	expect_stream(&h, A, want, 300, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 60);
	free(alt);
	free(s);
	h_close(&h);
}

Test(reasm, in_order_segment_covering_buffered_segments)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 8);
	h.orig[A] = s;
	h_syn(&h, A, 12345);
	h_data(&h, A, 0, 50);
	uint8_t *alt = altered(s, 0, 300);
	uint8_t want[300];
	memcpy(want, s, 300);
	h_data_p(&h, A, 100, alt + 100, 20);
	h_data_p(&h, A, 140, alt + 140, 20);
	memcpy(want + 100, alt + 100, 20);
	memcpy(want + 140, alt + 140, 20);
	h_data(&h, A, 50, 120);                /* [50, 170), in order */
	cr_assert_eq(h.rc.d[A].end, 170);
	cr_assert_eq(hs(&h, A).ooo_bytes, 0);
	h_data(&h, A, 170, 130);
	h_finish(&h);
	expect_stream(&h, A, want, 300, NULL, 0);
	cr_assert_eq(hs(&h, A).retrans_bytes, 40);
	free(alt);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* Gaps                                                                    */
/* ======================================================================= */

Test(reasm, missing_middle_segment_is_a_gap_at_finish)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 9);
	h.orig[A] = s;
	h_syn(&h, A, 999);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	cr_assert_eq(h.rc.d[A].end, 100, "the hole is waited for");
	cr_assert_eq(h.rc.d[A].gap_bytes, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 300, gaps, 1);
	const struct rdir *d = &h.rc.d[A];
	cr_assert_eq(d->ev[d->nev - 1].kind, EV_EOF, "eof comes last");
	cr_assert_eq(hs(&h, A).gap_bytes, 100);
	cr_assert_eq(hs(&h, A).delivered_bytes, 200);
	free(s);
	h_close(&h);
}

/* Client A (ISN 1000) and server B (ISN 5000) after a handshake. */
static void handshake(struct h *h)
{
	h_syn(h, A, 1000);
	h->base[B] = 5001;
	h_seg(h, B, KL_TCP_SYN | KL_TCP_ACK, 5000, 1001, NULL, 0, 0);
	h_ack(h, A, 0, 0);
	cr_assert_eq(h->rc.calls, 0, "a handshake delivers nothing");
}

Test(reasm, ack_over_a_hole_with_data_after_it_is_a_gap_at_once)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(500, 10);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	h_data(&h, A, 300, 100);
	cr_assert_eq(h.rc.d[A].end, 100);
	h_ack(&h, B, 0, 400);                  /* B got [100, 200): the capture lost it */
	cr_assert_eq(h.rc.d[A].end, 400, "gap and held data delivered before finish");
	cr_assert_eq(h.rc.d[A].gap_bytes, 100);
	cr_assert_eq(hs(&h, A).ooo_bytes, 0);
	h_data(&h, A, 400, 100);
	cr_assert_eq(h.rc.d[A].end, 500);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 500, gaps, 1);
	expect_stream(&h, B, s, 0, NULL, 0);
	cr_assert_eq(hs(&h, B).gap_bytes, 0);
	free(s);
	h_close(&h);
}

Test(reasm, ack_into_a_hole_declares_only_the_acknowledged_part)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 11);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 300, 100);
	h_ack(&h, B, 0, 200);                  /* [100, 200) acknowledged, never seen */
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].gap_bytes, 100);
	h_ack(&h, B, 0, 150);                  /* an older ACK changes nothing */
	cr_assert_eq(h.rc.d[A].end, 200);
	h_data(&h, A, 200, 100);               /* the rest of the hole arrives */
	cr_assert_eq(h.rc.d[A].end, 400);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 400, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, ack_ahead_of_everything_seen_is_not_a_gap)
{
	/* Contract: capture reordering shows ACKs before the data. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 12);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_ack(&h, B, 0, 300);
	cr_assert_eq(h.rc.d[A].end, 100);
	cr_assert_eq(h.rc.d[A].gap_bytes, 0);
	h_data(&h, A, 100, 200);               /* the data the ACK was ahead of */
	cr_assert_eq(h.rc.d[A].end, 300);
	h_data(&h, A, 300, 100);
	h_finish(&h);
	expect_stream(&h, A, s, 400, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, ack_of_lost_first_bytes_after_a_syn)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(600, 13);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 500, 100);
	cr_assert_eq(h.rc.d[A].end, 0);
	h_ack(&h, B, 0, 600);
	cr_assert_eq(h.rc.d[A].end, 600, "[0, 500) lost from the capture, known at once");
	h_finish(&h);
	static const struct range gaps[] = { { 0, 500 } };
	expect_stream(&h, A, s, 600, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, ack_beyond_held_data_declares_only_holes_before_seen_data)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 14);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	h_ack(&h, B, 0, 1 << 20);              /* 1 MiB ahead of anything seen */
	static const struct range gaps[] = { { 100, 100 } };
	cr_assert_eq(h.rc.d[A].end, 300, "the hole before seen data is a gap, nothing past it");
	h_finish(&h);
	expect_stream(&h, A, s, 300, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, nonsense_ack_beyond_max_jump_declares_nothing_past_seen_data)
{
	/* The header is silent on absurd ACKs; whether the hole before seen
	 * data is declared or the ACK is distrusted, nothing past the last
	 * byte seen may become a gap. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 14);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	h_ack(&h, B, 0, (uint64_t)3 << 29);    /* 1.5 GiB ahead */
	cr_assert(h.rc.d[A].end == 100 || h.rc.d[A].end == 300, "stream at %" PRIu64,
		  h.rc.d[A].end);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 300, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, ack_field_without_the_ack_flag_is_ignored)
{
	/* The header is silent; RFC 9293 makes the field meaningful only with
	 * ACK set (a SYN or a bare RST carries garbage there). */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 15);
	h.orig[A] = s;
	h_syn(&h, A, 700);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	h.base[B] = 3000;
	h_seg(&h, B, KL_TCP_PSH, 3000, seq_of(&h, A, 300), s, 10, 10);
	cr_assert_eq(h.rc.d[A].end, 100);
	cr_assert_eq(h.rc.d[A].gap_bytes, 0);
	h_data(&h, A, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 300);
	h_finish(&h);
	expect_stream(&h, A, s, 300, NULL, 0);
	expect_stream(&h, B, s, 10, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, mid_stream_pickup_starts_at_the_byte_the_peer_acknowledged)
{
	/* The capture starts with B's segment acknowledging X: A's bytes
	 * before X are never reported.  A's first segment seen is [X+100,
	 * X+200), so [X, X+100) was sent (in order) and is a hole: here it
	 * comes later (capture reordering) and fills it. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *sa = make_stream(400, 16), *sb = make_stream(50, 17);
	const uint32_t X = 0x40000000;
	h.orig[B] = sb;
	h.base[B] = 777;
	h_seg(&h, B, KL_TCP_ACK | KL_TCP_PSH, 777, X, sb, 50, 50);
	cr_assert_eq(h.rc.d[A].end, 0);
	cr_assert_eq(h.rc.d[A].gap_bytes, 0, "no gap for bytes before the capture");
	h_seg(&h, A, KL_TCP_ACK, X + 100, 827, sa + 100, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 0, "held behind the hole");
	h_seg(&h, A, KL_TCP_ACK, X, 827, sa, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 200);
	h_seg(&h, A, KL_TCP_ACK, X + 200, 827, sa + 200, 200, 200);
	h_seg(&h, B, KL_TCP_ACK, 827, X + 400, NULL, 0, 0);
	h_finish(&h);
	expect_stream(&h, A, sa, 400, NULL, 0);
	expect_stream(&h, B, sb, 50, NULL, 0);
	free(sa);
	free(sb);
	h_close(&h);
}

Test(reasm, mid_stream_pickup_behind_the_peer_ack_is_a_gap_once_proven)
{
	/* B acknowledged X; A's first segment seen starts at X+100: [X, X+100)
	 * was sent and not captured, which B's next ACK (X+200) proves: a gap
	 * at offset 0, then A's bytes. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *sa = make_stream(200, 18);
	const uint32_t X = 0x7ffffff0;              /* across the sign of int32 */
	h_seg(&h, B, KL_TCP_ACK, 777, X, NULL, 0, 0);
	h_seg(&h, A, KL_TCP_ACK | KL_TCP_PSH, X + 100, 777, sa + 100, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 0);
	h_seg(&h, B, KL_TCP_ACK, 777, X + 200, NULL, 0, 0);
	cr_assert_eq(h.rc.d[A].gap_bytes, 100);
	cr_assert_eq(h.rc.d[A].end, 200);
	h_finish(&h);
	free(sa);
	h_close(&h);
}

Test(reasm, mid_stream_pickup_ahead_of_the_peer_ack_starts_at_the_first_byte)
{
	/* B acknowledged X+300 already: A's segment at X+100 is a
	 * retransmission of bytes B has; the stream starts there, no gap. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *sa = make_stream(200, 19);
	const uint32_t X = 5000;
	h_seg(&h, B, KL_TCP_ACK, 777, X + 300, NULL, 0, 0);
	h_seg(&h, A, KL_TCP_ACK | KL_TCP_PSH, X + 100, 777, sa, 200, 200);
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].gap_bytes, 0);
	h_finish(&h);
	free(sa);
	h_close(&h);
}

/* ======================================================================= */
/* Sequence numbers: SYN, wraparound, offsets past 2^32                     */
/* ======================================================================= */

Test(reasm, syn_consumes_one_sequence_number)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(100, 18);
	h.orig[A] = s;
	h_seg(&h, A, KL_TCP_SYN, 1000, 0, NULL, 0, 0);
	h_seg(&h, A, 0, 1001, 0, s, 100, 100);
	cr_assert_eq(h.rc.d[A].ev[0].off, 0, "ISN+1 is offset 0");
	h_seg(&h, A, KL_TCP_SYN, 1000, 0, NULL, 0, 0);   /* retransmitted SYN */
	h_finish(&h);
	expect_stream(&h, A, s, 100, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, syn_anchors_offset_zero_so_lost_first_bytes_are_a_gap)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 19);
	h.orig[A] = s;
	h_syn(&h, A, 50);
	h_data(&h, A, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 0, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, without_syn_the_first_sequence_number_is_offset_zero)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 20);
	h.orig[A] = s;
	h.base[A] = 5000;
	h_data(&h, A, 0, 100);
	cr_assert_eq(h.rc.d[A].end, 100);
	cr_assert_eq(h.rc.d[A].ev[0].off, 0);
	h_data(&h, A, 200, 100);
	h_data(&h, A, 100, 100);
	h_finish(&h);
	expect_stream(&h, A, s, 300, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, without_syn_a_first_pure_ack_sets_offset_zero)
{
	/* "the first sequence number seen": a pure ACK at seq S says the
	 * next byte is S, so data at S+100 follows 100 lost bytes. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 21);
	h.orig[A] = s;
	h.base[A] = 7000;
	h_seg(&h, A, KL_TCP_ACK, 7000, 0, NULL, 0, 0);
	h_data(&h, A, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 0, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

static void wrap_run(const size_t *order, size_t n, bool check_zero_copy)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(1000, 22);
	h.orig[A] = s;
	h_syn(&h, A, 0xFFFFFF00u);             /* offset 255 is sequence 0 */
	for (size_t i = 0; i < n; i++) {
		size_t before = h.rc.d[A].nev;
		h_data(&h, A, order[i] * 100, 100);
		if (check_zero_copy) {
			cr_assert_eq(h.rc.d[A].end, order[i] * 100 + 100);
			cr_assert(h.rc.d[A].ev[before].p == s + order[i] * 100);
		}
	}
	cr_assert_eq(h.rc.d[A].end, 1000, "all delivered across the wrap before finish");
	h_fin(&h, A, 1000);
	cr_assert_eq(h.rc.d[A].eofs, 1);
	h_finish(&h);
	expect_stream(&h, A, s, 1000, NULL, 0);
	cr_assert_eq(hs(&h, A).bad_seq_segments, 0);
	free(s);
	h_close(&h);
}

Test(reasm, sequence_wrap_in_order)
{
	size_t order[10];
	for (size_t i = 0; i < 10; i++)
		order[i] = i;
	wrap_run(order, 10, true);
}

Test(reasm, sequence_wrap_out_of_order)
{
	size_t order[10];
	for (size_t i = 0; i < 10; i++)
		order[i] = 9 - i;
	wrap_run(order, 10, false);
	for (uint64_t seed = 1; seed <= 30; seed++) {
		struct prng g = { seed };
		for (size_t i = 0; i < 10; i++)
			order[i] = i;
		for (size_t i = 10; i > 1; i--) {
			size_t j = (size_t)prng_below(&g, i), t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		wrap_run(order, 10, false);
	}
}

Test(reasm, sequence_wrap_without_syn_and_ack_gap_across_it)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(1000, 23);
	h.orig[A] = s;
	h.base[A] = 0xFFFFFFF0u;
	h.base[B] = 10;
	h_data(&h, A, 0, 100);                 /* crosses 0 */
	h_data(&h, A, 300, 100);
	h_ack(&h, B, 0, 400);                  /* ack value wrapped past 0 */
	static const struct range gaps[] = { { 100, 200 } };
	cr_assert_eq(h.rc.d[A].end, 400);
	h_data(&h, A, 400, 600);
	h_finish(&h);
	expect_stream(&h, A, s, 1000, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, offsets_continue_past_four_gibibytes)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	h.rc.nostore = true;
	const uint32_t SEG = 65536;
	uint8_t *pa = make_stream(SEG, 24), *pb = make_stream(SEG, 25);
	h_syn(&h, A, 0x7FFFFFFFu);
	uint64_t off = 0;
	const uint64_t total = (UINT64_C(1) << 32) + 3 * (uint64_t)SEG;
	while (off < total) {
		h_seg(&h, A, 0, seq_of(&h, A, off), 0, pa, SEG, SEG);
		off += SEG;
		cr_assert_eq(h.rc.d[A].end, off);
	}
	/* Past 2^32 bytes: one segment out of order, then the one before it. */
	h.rc.nostore = false;
	h_seg(&h, A, 0, seq_of(&h, A, off + SEG), 0, pb, SEG, SEG);
	cr_assert_eq(h.rc.d[A].end, off);
	h_seg(&h, A, 0, seq_of(&h, A, off), 0, pa, SEG, SEG);
	cr_assert_eq(h.rc.d[A].end, off + 2 * (uint64_t)SEG);
	const struct rdir *d = &h.rc.d[A];
	cr_assert_geq(d->nev, 2);
	cr_assert_eq(d->ev[0].off, off);
	cr_assert(memcmp(d->buf, pa, SEG) == 0);
	cr_assert(memcmp(d->buf + SEG, pb, SEG) == 0, "the held segment follows");
	cr_assert_eq(hs(&h, A).delivered_bytes, off + 2 * (uint64_t)SEG);
	cr_assert_eq(hs(&h, A).gap_bytes, 0);
	cr_assert_eq(hs(&h, A).bad_seq_segments, 0);
	h_finish(&h);
	free(pa);
	free(pb);
	h_close(&h);
}

/* ======================================================================= */
/* FIN and RST                                                             */
/* ======================================================================= */

Test(reasm, fin_in_order_gives_eof_at_once)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 26);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_seg(&h, A, KL_TCP_FIN | KL_TCP_ACK, seq_of(&h, A, 100), seq_of(&h, B, 0),
	      s + 100, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].eofs, 1, "eof right after the FIN's data");
	h_ack(&h, B, 0, 201);                  /* B acknowledges the FIN */
	h_fin(&h, A, 200);                     /* retransmitted FIN */
	h_seg(&h, B, KL_TCP_FIN | KL_TCP_ACK, seq_of(&h, B, 0), seq_of(&h, A, 201), NULL, 0, 0);
	cr_assert_eq(h.rc.d[B].eofs, 1);
	h_ack(&h, A, 201, 1);                  /* A acknowledges B's FIN */
	cr_assert_eq(h.rc.d[A].gap_bytes + h.rc.d[B].gap_bytes, 0,
		     "acknowledging a FIN is not a gap");
	h_finish(&h);
	expect_stream(&h, A, s, 200, NULL, 0);
	expect_stream(&h, B, s, 0, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, fin_before_the_last_data_waits_for_it)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 27);
	h.orig[A] = s;
	h_syn(&h, A, 31337);
	h_data(&h, A, 0, 100);
	h_fin(&h, A, 200);
	cr_assert_eq(h.rc.d[A].eofs, 0, "bytes [100, 200) are still to come");
	h_data(&h, A, 100, 100);
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].eofs, 1);
	h_finish(&h);
	expect_stream(&h, A, s, 200, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, fin_carrying_data_out_of_order_waits)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 28);
	h.orig[A] = s;
	h_syn(&h, A, 31337);
	h_seg(&h, A, KL_TCP_FIN, seq_of(&h, A, 100), 0, s + 100, 100, 100);
	cr_assert_eq(h.rc.calls, 0);
	h_data(&h, A, 0, 100);
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].eofs, 1);
	h_finish(&h);
	expect_stream(&h, A, s, 200, NULL, 0);
	free(s);
	h_close(&h);
}

Test(reasm, bytes_after_a_fin_are_ignored)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 29);
	h.orig[A] = s;
	h_syn(&h, A, 8);
	h_data(&h, A, 0, 100);
	h_fin(&h, A, 200);
	h_data(&h, A, 250, 50);                /* wholly after the FIN */
	cr_assert_eq(hs(&h, A).ooo_bytes, 0, "bytes after a FIN are not held");
	h_data(&h, A, 150, 100);               /* straddles the FIN */
	h_data(&h, A, 100, 50);
	cr_assert_eq(h.rc.d[A].end, 200, "bytes before the FIN only");
	cr_assert_eq(h.rc.d[A].eofs, 1);
	uint64_t calls = h.rc.calls;
	h_data(&h, A, 200, 100);               /* after eof */
	cr_assert_eq(h.rc.calls, calls);
	h_finish(&h);
	expect_stream(&h, A, s, 200, NULL, 0);
	cr_assert_eq(hs(&h, A).gap_bytes, 0);
	free(s);
	h_close(&h);
}

Test(reasm, data_held_before_the_fin_arrived_but_past_it_is_ignored)
{
	/* Contract: "bytes after a FIN ... are ignored", whatever the order
	 * in which they arrived. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 49);
	h.orig[A] = s;
	h_syn(&h, A, 8);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 300, 100);               /* held, then turns out past the FIN */
	h_fin(&h, A, 200);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, ack_of_a_fin_with_data_held_past_it_ends_at_the_fin)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 50);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 300, 100);
	h_fin(&h, A, 200);
	h_ack(&h, B, 0, 201);                  /* acknowledges the FIN */
	cr_assert_eq(h.rc.d[A].eofs, 1);
	cr_assert_eq(h.rc.d[A].end, 200, "the stream ends at the FIN, not one past it");
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, hole_before_a_fin_is_a_gap_at_finish)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 30);
	h.orig[A] = s;
	h_syn(&h, A, 8);
	h_data(&h, A, 0, 100);
	h_fin(&h, A, 200);
	cr_assert_eq(h.rc.d[A].eofs, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, ack_of_a_fin_over_a_hole_gives_gap_and_eof_at_once)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 31);
	h.orig[A] = s;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_fin(&h, A, 200);
	h_ack(&h, B, 0, 201);
	cr_assert_eq(h.rc.d[A].end, 200);
	cr_assert_eq(h.rc.d[A].eofs, 1, "the FIN was seen and acknowledged");
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 200, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, rst_flushes_what_is_held_and_the_stream_goes_on)
{
	/* Contract: an RST delivers what its direction holds, holes as gaps,
	 * but does not end the stream (RFC 5961 §3: an RST not exactly in
	 * window is ignored by the receiver; injected RSTs are followed by
	 * more data).  Its payload is ignored. */
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 32), *sb = make_stream(100, 33);
	h.orig[A] = s;
	h.orig[B] = sb;
	handshake(&h);
	h_data(&h, A, 0, 100);
	h_data(&h, A, 200, 100);
	h_data(&h, B, 0, 50);
	h_seg(&h, A, KL_TCP_RST | KL_TCP_ACK, seq_of(&h, A, 300), seq_of(&h, B, 50),
	      s + 300, 50, 50);
	cr_assert_eq(h.rc.d[A].eofs, 0, "an RST does not end the stream");
	cr_assert_eq(h.rc.d[A].end, 300, "held data delivered at the RST");
	cr_assert_eq(hs(&h, A).ooo_bytes, 0);
	h_data(&h, A, 300, 100);               /* data after the RST still counts */
	cr_assert_eq(h.rc.d[A].end, 400);
	h_finish(&h);
	static const struct range gaps[] = { { 100, 100 } };
	expect_stream(&h, A, s, 400, gaps, 1);
	expect_stream(&h, B, sb, 50, NULL, 0);
	free(s);
	free(sb);
	h_close(&h);
}

Test(reasm, rst_with_nothing_held_changes_nothing)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(100, 34);
	h.orig[A] = s;
	h_syn(&h, A, 1);
	h_data(&h, A, 0, 100);
	h_seg(&h, A, KL_TCP_RST, seq_of(&h, A, 100), 0, NULL, 0, 0);
	cr_assert_eq(h.rc.d[A].eofs, 0);
	cr_assert_eq(h.rc.d[A].gap_bytes, 0);
	h_finish(&h);
	cr_assert_eq(h.rc.d[A].eofs, 1);
	expect_stream(&h, A, s, 100, NULL, 0);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* Snaplen                                                                 */
/* ======================================================================= */

Test(reasm, snaplen_cut_segment_in_order_is_data_then_gap)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 35);
	h.orig[A] = s;
	h_syn(&h, A, 2);
	h_data(&h, A, 0, 100);
	size_t before = h.rc.d[A].nev;
	h_seg(&h, A, 0, seq_of(&h, A, 100), 0, s + 100, 50, 200);   /* [100, 300), 50 captured */
	cr_assert_eq(h.rc.d[A].end, 300, "captured part and gap delivered at once");
	cr_assert(h.rc.d[A].ev[before].p == s + 100);
	h_data(&h, A, 300, 100);
	cr_assert_eq(h.rc.d[A].end, 400);
	h_finish(&h);
	static const struct range gaps[] = { { 150, 150 } };
	expect_stream(&h, A, s, 400, gaps, 1);
	cr_assert_eq(hs(&h, A).delivered_bytes, 250);
	free(s);
	h_close(&h);
}

Test(reasm, snaplen_cut_segment_out_of_order)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(400, 36);
	h.orig[A] = s;
	h_syn(&h, A, 2);
	h_seg(&h, A, 0, seq_of(&h, A, 100), 0, s + 100, 50, 200);
	uint64_t charged = hs(&h, A).ooo_bytes;
	/* The 150 uncaptured bytes are not held; node charges (for the
	 * segment and, in this implementation, a marker for the cut tail)
	 * come on top of the 50 captured bytes. */
	cr_assert(charged >= 50 + CHARGE && charged <= 50 + 2 * CHARGE &&
		  (charged - 50) % CHARGE == 0,
		  "only the 50 captured bytes are held (%" PRIu64 " charged)", charged);
	h_data(&h, A, 300, 100);
	h_data(&h, A, 0, 100);
	cr_assert_geq(h.rc.d[A].end, 150, "no stall before the cut");
	h_finish(&h);
	static const struct range gaps[] = { { 150, 150 } };
	expect_stream(&h, A, s, 400, gaps, 1);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* Caps                                                                    */
/* ======================================================================= */

Test(reasm, connection_cap_turns_the_hole_into_a_gap_and_delivery_resumes)
{
	struct h h;
	h_open(&h, 1000, BIG_CAP);
	uint8_t *s = make_stream(5100, 37);
	h.orig[A] = s;
	h_syn(&h, A, 100);
	for (uint64_t off = 100; off < 5100; off += 100)
		h_data(&h, A, off, 100);       /* h_check: never over 1000 */
	struct tcp_reasm_pool_stats ps = tcp_reasm_pool_stats(h.pool);
	cr_assert_gt(ps.cap_hits, 0);
	cr_assert_leq(ps.bytes_buffered_peak, 1000);
	cr_assert_eq(h.rc.d[A].end, 5100, "skip ahead, never stall: all delivered before finish");
	h_finish(&h);
	static const struct range gaps[] = { { 0, 100 } };
	expect_stream(&h, A, s, 5100, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, connection_cap_skips_holes_but_never_held_data)
{
	struct h h;
	h_open(&h, 1000, BIG_CAP);
	uint8_t *s = make_stream(6000, 38);
	h.orig[A] = s;
	h_syn(&h, A, 100);
	/* Holes [0, 100), [600, 700), [1500, 1600); everything else sent in
	 * increasing order in 100-byte segments. */
	for (uint64_t off = 100; off < 6000; off += 100) {
		if (off == 600 || off == 1500)
			continue;
		h_data(&h, A, off, 100);
	}
	cr_assert_gt(tcp_reasm_pool_stats(h.pool).cap_hits, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 0, 100 }, { 600, 100 }, { 1500, 100 } };
	expect_stream(&h, A, s, 6000, gaps, 3);
	free(s);
	h_close(&h);
}

Test(reasm, connection_cap_counts_both_directions)
{
	struct h h;
	h_open(&h, 1000, BIG_CAP);
	uint8_t *sa = make_stream(1000, 39), *sb = make_stream(1000, 40);
	h.orig[A] = sa;
	h.orig[B] = sb;
	handshake(&h);
	for (uint64_t off = 100; off < 500; off += 100)
		h_data(&h, A, off, 100);       /* 400 bytes + 4 nodes held */
	for (uint64_t off = 100; off < 1000; off += 100)
		h_data(&h, B, off, 100);       /* the cap must count A's too */
	cr_assert_gt(tcp_reasm_pool_stats(h.pool).cap_hits, 0);
	h_finish(&h);
	/* Whatever was skipped, held bytes all came out right. */
	for (int dir = 0; dir < 2; dir++) {
		const struct rdir *d = &h.rc.d[dir];
		const uint8_t *want = dir == 0 ? sa : sb;
		for (size_t i = 0; i < d->nev; i++)
			if (d->ev[i].kind == EV_DATA)
				cr_assert(memcmp(d->buf + d->ev[i].pos, want + d->ev[i].off,
						 d->ev[i].len) == 0);
	}
	cr_assert_eq(h.rc.d[A].end, 500);
	cr_assert_eq(h.rc.d[B].end, 1000);
	cr_assert_eq(hs(&h, A).delivered_bytes + hs(&h, B).delivered_bytes, 1300,
		     "a cap skips holes, never held data");
	free(sa);
	free(sb);
	h_close(&h);
}

Test(reasm, segment_larger_than_the_cap_is_delivered_after_skipping_the_hole)
{
	/* The header is silent on one segment bigger than the cap; skipping
	 * the hole before it makes it in order, so a user expects its bytes. */
	struct h h;
	h_open(&h, 1000, BIG_CAP);
	uint8_t *s = make_stream(1600, 41);
	h.orig[A] = s;
	h_syn(&h, A, 100);
	h_data(&h, A, 100, 1500);
	cr_assert_eq(h.rc.d[A].end, 1600);
	cr_assert_gt(tcp_reasm_pool_stats(h.pool).cap_hits, 0);
	h_finish(&h);
	static const struct range gaps[] = { { 0, 100 } };
	expect_stream(&h, A, s, 1600, gaps, 1);
	free(s);
	h_close(&h);
}

Test(reasm, one_byte_segment_flood_is_bounded_by_the_node_charge)
{
	struct h h;
	h_open(&h, 1000, BIG_CAP);
	uint8_t *s = make_stream(2000, 42);
	h.orig[A] = s;
	h_syn(&h, A, 100);
	for (uint64_t off = 2; off < 2000; off += 2)
		h_data(&h, A, off, 1);         /* at most 1000/65 nodes held */
	cr_assert_gt(tcp_reasm_pool_stats(h.pool).cap_hits, 0);
	h_finish(&h);
	for (size_t i = 0; i < h.rc.d[A].nev; i++) {
		const struct ev *e = &h.rc.d[A].ev[i];
		if (e->kind == EV_DATA)
			cr_assert(memcmp(h.rc.d[A].buf + e->pos, s + e->off, e->len) == 0);
	}
	cr_assert_eq(h.rc.d[A].end, 1999);
	cr_assert_eq(hs(&h, A).delivered_bytes, 999, "only holes are skipped");
	free(s);
	h_close(&h);
}

Test(reasm, global_cap_across_two_connections)
{
	const size_t GLOBAL = 1500;
	struct tcp_reasm_pool *pool = tcp_reasm_pool_new(100000, GLOBAL);
	cr_assert_not_null(pool);
	struct h h1, h2;
	h_open_in(&h1, pool, 100000, GLOBAL);
	h_open_in(&h2, pool, 100000, GLOBAL);
	uint8_t *s1 = make_stream(3000, 43), *s2 = make_stream(3000, 44);
	h1.orig[A] = s1;
	h2.orig[A] = s2;
	h_syn(&h1, A, 10);
	h_syn(&h2, A, 20);
	for (uint64_t off = 100; off < 900; off += 100)
		h_data(&h1, A, off, 100);
	for (uint64_t off = 100; off < 3000; off += 100) {
		h_data(&h2, A, off, 100);
		uint64_t both = hs(&h1, A).ooo_bytes + hs(&h2, A).ooo_bytes;
		struct tcp_reasm_pool_stats ps = tcp_reasm_pool_stats(pool);
		cr_assert_eq(ps.bytes_buffered, both, "the pool charges exactly what both hold");
		cr_assert_leq(both, GLOBAL);
	}
	cr_assert_gt(tcp_reasm_pool_stats(pool).cap_hits, 0);
	h_data(&h1, A, 0, 100);
	h_data(&h2, A, 0, 100);
	h_finish(&h1);
	h_finish(&h2);
	cr_assert_eq(tcp_reasm_pool_stats(pool).bytes_buffered, 0);
	cr_assert_leq(tcp_reasm_pool_stats(pool).bytes_buffered_peak, GLOBAL);
	struct h *hh[2] = { &h1, &h2 };
	const uint8_t *ss[2] = { s1, s2 };
	uint64_t ends[2] = { 900, 3000 };
	for (int c = 0; c < 2; c++) {
		const struct rdir *d = &hh[c]->rc.d[A];
		for (size_t i = 0; i < d->nev; i++)
			if (d->ev[i].kind == EV_DATA)
				cr_assert(memcmp(d->buf + d->ev[i].pos, ss[c] + d->ev[i].off,
						 d->ev[i].len) == 0, "conn %d: wrong bytes", c);
		cr_assert_eq(d->end, ends[c]);
	}
	h_close(&h1);
	h_close(&h2);
	tcp_reasm_pool_free(pool);
	free(s1);
	free(s2);
}

Test(reasm, segment_beyond_max_jump_is_counted_and_not_held)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 45);
	h.orig[A] = s;
	h_syn(&h, A, 1);
	h_data(&h, A, 0, 100);
	h_seg(&h, A, 0, seq_of(&h, A, 100 + KL_REASM_MAX_JUMP + 1000), 0, s, 100, 100);
	cr_assert_eq(hs(&h, A).bad_seq_segments, 1);
	cr_assert_eq(hs(&h, A).ooo_bytes, 0);
	cr_assert_eq(h.rc.d[A].end, 100);
	h_data(&h, A, 100, 100);
	h_finish(&h);
	expect_stream(&h, A, s, 200, NULL, 0);
	cr_assert_eq(hs(&h, A).bad_seq_segments, 1);
	free(s);
	h_close(&h);
}

Test(reasm, segment_below_max_jump_is_held)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(200, 46);
	h.orig[A] = s;
	h_syn(&h, A, 1);
	h_data(&h, A, 0, 100);
	const uint64_t far = 100 + KL_REASM_MAX_JUMP / 2;
	h_seg(&h, A, 0, seq_of(&h, A, far), 0, s + 100, 100, 100);
	cr_assert_eq(hs(&h, A).bad_seq_segments, 0);
	cr_assert_gt(hs(&h, A).ooo_bytes, 0);
	h_finish(&h);
	cr_assert_eq(h.rc.d[A].end, far + 100);
	cr_assert_eq(h.rc.d[A].gap_bytes, far - 100);
	const struct rdir *d = &h.rc.d[A];
	cr_assert_eq(d->ev[d->nev - 2].kind, EV_DATA);
	cr_assert_eq(d->ev[d->nev - 2].off, far);
	cr_assert(memcmp(d->buf + d->ev[d->nev - 2].pos, s + 100, 100) == 0);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* release, swap                                                           */
/* ======================================================================= */

Test(reasm, release_frees_without_calling_the_sink)
{
	struct tcp_reasm_pool *pool = tcp_reasm_pool_new(BIG_CAP, BIG_CAP);
	cr_assert_not_null(pool);
	struct h h;
	h_open_in(&h, pool, BIG_CAP, BIG_CAP);
	h.own_pool = false;
	uint8_t *s = make_stream(1000, 47);
	h.orig[A] = h.orig[B] = s;
	handshake(&h);
	for (uint64_t off = 100; off < 1000; off += 100) {
		h_data(&h, A, off, 100);
		h_data(&h, B, off, 50);
	}
	cr_assert_gt(tcp_reasm_pool_stats(pool).bytes_buffered, 0);
	uint64_t calls = h.rc.calls;
	tcp_reasm_release(&h.r);
	cr_assert_eq(h.rc.calls, calls, "release calls no sink function");
	cr_assert_eq(tcp_reasm_pool_stats(pool).bytes_buffered, 0,
		     "released memory goes back to the pool");
	/* The pool is still usable by another connection. */
	struct h h2;
	h_open_in(&h2, pool, BIG_CAP, BIG_CAP);
	h2.orig[A] = s;
	h_syn(&h2, A, 9);
	h_data(&h2, A, 100, 100);
	h_data(&h2, A, 0, 100);
	h_finish(&h2);
	expect_stream(&h2, A, s, 200, NULL, 0);
	cr_assert_eq(tcp_reasm_pool_stats(pool).bytes_buffered, 0);
	h_close(&h);
	h_close(&h2);
	tcp_reasm_pool_free(pool);
	free(s);
}

Test(reasm, swap_moves_offsets_held_data_and_statistics)
{
	struct h h;
	h_open(&h, BIG_CAP, BIG_CAP);
	uint8_t *s = make_stream(300, 48);
	/* Guessed wrong: the SYN and a held segment went in as A. */
	h_seg(&h, A, KL_TCP_SYN, 1000, 0, NULL, 0, 0);
	h_seg(&h, A, 0, 1101, 0, s + 100, 100, 100);
	uint64_t held = hs(&h, A).ooo_bytes;
	cr_assert_gt(held, 0);
	tcp_reasm_swap(&h.r);
	cr_assert_eq(hs(&h, B).ooo_bytes, held);
	cr_assert_eq(hs(&h, A).ooo_bytes, 0);
	h.orig[B] = s;
	h.base[B] = 1001;
	h_data(&h, B, 0, 100);
	cr_assert_eq(h.rc.d[B].end, 200, "the held segment moved with its direction");
	cr_assert_eq(h.rc.d[A].end, 0);
	h_data(&h, B, 200, 100);
	h_finish(&h);
	expect_stream(&h, B, s, 300, NULL, 0);
	expect_stream(&h, A, s, 0, NULL, 0);
	free(s);
	h_close(&h);
}

/* ======================================================================= */
/* A stream made late: bare segments noted first (tcp_reasm_origin_note)   */
/* ======================================================================= */

/* The flow table keeps only a connection's origins until its first
 * payload, FIN or RST, then builds the reassembler from them.  Whatever
 * bare segments came first (a handshake, retransmitted SYNs, ACKs of
 * either side at any distance, a mid-stream pickup), the stream must be
 * exactly the one made by pushing every segment. */
Test(reasm, origins_noted_then_set_deliver_what_pushing_every_segment_does)
{
	struct prng g = { 0x51DEC0DEu };
	uint8_t *sa = make_stream(3000, 31), *sb = make_stream(3000, 32);
	for (int round = 0; round < 400; round++) {
		struct h full, late;
		h_open(&full, BIG_CAP, BIG_CAP);
		h_open(&late, BIG_CAP, BIG_CAP);
		struct tcp_reasm_origin o[2];
		memset(o, 0, sizeof o);
		uint32_t base[2] = { (uint32_t)prng_next(&g), (uint32_t)prng_next(&g) };
		/* Bare segments: SYN, SYN-ACK or ACKs, with sequence and
		 * acknowledgment numbers around each side's base. */
		int nbare = (int)(prng_next(&g) % 5);
		for (int i = 0; i < nbare; i++) {
			enum kl_dir dir = (enum kl_dir)(prng_next(&g) & 1);
			uint64_t r = prng_next(&g);
			uint8_t flags = (r & 3) == 0 ? KL_TCP_SYN : (r & 3) == 1 ? KL_TCP_SYN | KL_TCP_ACK
										 : KL_TCP_ACK;
			uint32_t seq = base[dir] + (uint32_t)((r >> 8) % 300);
			uint32_t ack = base[dir ^ 1] + (uint32_t)((r >> 24) % 300);
			struct tcp_seg s = { .seq = seq, .ack = ack, .flags = flags, .payload = NOBYTES };
			tcp_reasm_push(&full.r, dir, &s, full.ts);
			tcp_reasm_origin_note(o, dir, &s);
		}
		tcp_reasm_set_origin(&late.r, o);
		/* Then data, in and out of order, and FINs. */
		int ndata = 1 + (int)(prng_next(&g) % 8);
		for (int i = 0; i < ndata; i++) {
			enum kl_dir dir = (enum kl_dir)(prng_next(&g) & 1);
			uint64_t r = prng_next(&g);
			uint32_t at = (uint32_t)(r % 400), len = 1 + (uint32_t)((r >> 16) % 200);
			uint8_t flags = KL_TCP_ACK | ((r >> 40) % 7 == 0 ? KL_TCP_FIN : 0);
			const uint8_t *src = dir == A ? sa : sb;
			uint32_t ack = base[dir ^ 1] + (uint32_t)((r >> 48) % 500);
			h_seg(&full, dir, flags, base[dir] + at, ack, src + at, len, len);
			h_seg(&late, dir, flags, base[dir] + at, ack, src + at, len, len);
		}
		h_finish(&full);
		h_finish(&late);
		for (int d = 0; d < 2; d++) {
			const struct rdir *x = &full.rc.d[d], *y = &late.rc.d[d];
			cr_assert_eq(x->nev, y->nev, "round %d dir %d: %zu events pushed, %zu made late",
				     round, d, x->nev, y->nev);
			for (size_t e = 0; e < x->nev; e++)
				cr_assert(x->ev[e].kind == y->ev[e].kind && x->ev[e].off == y->ev[e].off &&
					  x->ev[e].len == y->ev[e].len,
					  "round %d dir %d event %zu differs", round, d, e);
			cr_assert_eq(x->nbuf, y->nbuf);
			cr_assert(x->nbuf == 0 || memcmp(x->buf, y->buf, x->nbuf) == 0);
			struct tcp_reasm_half_stats hx = tcp_reasm_half_stats(&full.r, (enum kl_dir)d);
			struct tcp_reasm_half_stats hy = tcp_reasm_half_stats(&late.r, (enum kl_dir)d);
			cr_assert_eq(hx.gap_bytes, hy.gap_bytes);
			cr_assert_eq(hx.retrans_bytes, hy.retrans_bytes);
		}
		h_close(&full);
		h_close(&late);
	}
	free(sa);
	free(sb);
}
