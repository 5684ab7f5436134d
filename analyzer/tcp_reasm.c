/*
 * tcp_reasm.c - TCP stream reassembly (see tcp_reasm.h for the policies).
 *
 * Per direction the state is one number, next_off, plus a sorted list of
 * out-of-order pieces beyond it.  A piece either holds copied bytes or
 * stands for bytes known to be missing (the uncaptured tail of a segment
 * cut by the snaplen), so the list says exactly what each future offset
 * will be: data, gap, or not seen yet.
 *
 * The common case, the next in-order segment with nothing buffered, costs
 * one sequence comparison and one sink call on the packet's own bytes.
 */
#include "tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"

struct tcp_reasm_node {
	struct tcp_reasm_node *next;
	uint64_t off;
	uint32_t len;
	bool has_data;                /* false: a known hole (snaplen) */
	uint8_t data[];               /* len bytes when has_data */
};

struct tcp_reasm_pool {
	uint64_t per_conn_cap, global_cap;
	uint64_t charged, peak, cap_hits;
};

struct tcp_reasm_pool *tcp_reasm_pool_new(size_t per_conn_cap, size_t global_cap)
{
	struct tcp_reasm_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->per_conn_cap = per_conn_cap;
	p->global_cap = global_cap;
	return p;
}

void tcp_reasm_pool_free(struct tcp_reasm_pool *pool)
{
	free(pool);
}

struct tcp_reasm_pool_stats tcp_reasm_pool_stats(const struct tcp_reasm_pool *pool)
{
	struct tcp_reasm_pool_stats s = { pool->charged, pool->peak, pool->cap_hits };
	return s;
}

void tcp_reasm_init(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
		    const struct tcp_reasm_sink *sink, void *sink_ctx)
{
	memset(r, 0, sizeof *r);
	r->pool = pool;
	r->sink = sink;
	r->sink_ctx = sink_ctx;
}

static uint64_t node_charge(const struct tcp_reasm_node *n)
{
	return (n->has_data ? n->len : 0) + (uint64_t)TCP_REASM_NODE_CHARGE;
}

static void node_free(struct tcp_reasm *r, struct tcp_reasm_half *h, struct tcp_reasm_node *n)
{
	uint64_t c = node_charge(n);
	h->ooo_charge -= c;
	r->pool->charged -= c;
	free(n);
}

/* ---- delivery ----------------------------------------------------------- */

static void emit_data(struct tcp_reasm *r, enum kl_dir dir, const uint8_t *p,
		      uint64_t n, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	if (n == 0)
		return;
	r->sink->data(r->sink_ctx, dir, p, (size_t)n, h->next_off, ts);
	h->next_off += n;
	h->delivered_bytes += n;
}

static void emit_gap(struct tcp_reasm *r, enum kl_dir dir, uint64_t n, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	if (n == 0)
		return;
	r->sink->gap(r->sink_ctx, dir, h->next_off, n, ts);
	h->next_off += n;
	h->gap_bytes += n;
}

static void emit_eof_if_done(struct tcp_reasm *r, enum kl_dir dir, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	if (!h->eof_sent && h->fin_seen && h->next_off >= h->fin_off) {
		h->eof_sent = true;
		r->sink->eof(r->sink_ctx, dir, ts);
	}
}

/* Deliver the buffered pieces that start at or before next_off. */
static void drain(struct tcp_reasm *r, enum kl_dir dir, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	struct tcp_reasm_node *n;
	while ((n = h->ooo) != NULL && n->off <= h->next_off) {
		uint64_t end = n->off + n->len;
		if (end > h->next_off) {
			uint64_t skip = h->next_off - n->off;
			if (n->has_data)
				emit_data(r, dir, n->data + skip, n->len - skip, ts);
			else
				emit_gap(r, dir, n->len - skip, ts);
		}
		h->ooo = n->next;
		if (!h->ooo)
			h->ooo_tail = NULL;
		node_free(r, h, n);
	}
}

/* Declare everything up to `limit` delivered: holes become gaps, buffered
 * pieces are delivered. */
static void advance_to(struct tcp_reasm *r, enum kl_dir dir, uint64_t limit, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	while (h->next_off < limit) {
		struct tcp_reasm_node *n = h->ooo;
		uint64_t stop = n && n->off < limit ? n->off : limit;
		if (stop > h->next_off)
			emit_gap(r, dir, stop - h->next_off, ts);
		drain(r, dir, ts);
	}
}

/* Deliver segment bytes [seg_off, seg_off+n), of which the first `cap`
 * were captured; seg_off <= next_off < seg_off + n.  Bytes before next_off
 * are retransmissions; buffered pieces that overlap came first and win. */
static void deliver_in_order(struct tcp_reasm *r, enum kl_dir dir, uint64_t seg_off,
			     const uint8_t *p, uint64_t n, uint64_t cap, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	uint64_t end = seg_off + n;
	uint64_t cap_end = seg_off + cap;
	h->retrans_bytes += h->next_off - seg_off;
	while (h->next_off < end) {
		struct tcp_reasm_node *b = h->ooo;
		if (b && b->off <= h->next_off) {
			uint64_t before = h->next_off;
			drain(r, dir, ts);
			uint64_t upto = h->next_off < end ? h->next_off : end;
			h->retrans_bytes += upto - before;
			continue;
		}
		uint64_t stop = b && b->off < end ? b->off : end;
		if (h->next_off < cap_end) {
			uint64_t e = stop < cap_end ? stop : cap_end;
			emit_data(r, dir, p + (h->next_off - seg_off), e - h->next_off, ts);
		}
		if (h->next_off < stop)
			emit_gap(r, dir, stop - h->next_off, ts);
	}
	drain(r, dir, ts);
}

/* ---- out-of-order buffering --------------------------------------------- */

/* Memory that inserting [off, off+len) would add: only the sub-ranges not
 * covered by pieces already held (first copy wins). */
static uint64_t insert_charge(const struct tcp_reasm_half *h, uint64_t off, uint64_t len,
			      bool has_data)
{
	uint64_t cur = off, end = off + len, charge = 0;
	const struct tcp_reasm_node *n = h->ooo;
	if (h->ooo_tail && h->ooo_tail->off + h->ooo_tail->len <= off)
		n = NULL;                        /* appending past the tail */
	while (cur < end) {
		while (n && n->off + n->len <= cur)
			n = n->next;
		if (n && n->off <= cur) {
			cur = n->off + n->len;
			continue;
		}
		uint64_t piece_end = n && n->off < end ? n->off : end;
		charge += (has_data ? piece_end - cur : 0) + TCP_REASM_NODE_CHARGE;
		cur = piece_end;
	}
	return charge;
}

static struct tcp_reasm_node *node_new(struct tcp_reasm *r, struct tcp_reasm_half *h,
				       uint64_t off, uint64_t len, const uint8_t *data)
{
	struct tcp_reasm_node *n = malloc(sizeof *n + (data ? (size_t)len : 0));
	if (!n)
		return NULL;
	n->next = NULL;
	n->off = off;
	n->len = (uint32_t)len;
	n->has_data = data != NULL;
	if (data)
		memcpy(n->data, data, (size_t)len);
	uint64_t c = node_charge(n);
	h->ooo_charge += c;
	r->pool->charged += c;
	if (r->pool->charged > r->pool->peak)
		r->pool->peak = r->pool->charged;
	return n;
}

/* Insert [off, off+len) (bytes at `data`, or a known hole when NULL) into
 * the sorted list, keeping pieces already held.  Returns false when out of
 * memory (the caller turns the range into a gap). */
static bool insert_range(struct tcp_reasm *r, struct tcp_reasm_half *h, uint64_t off,
			 uint64_t len, const uint8_t *data)
{
	uint64_t cur = off, end = off + len;
	struct tcp_reasm_node **pp = &h->ooo;
	if (h->ooo_tail && h->ooo_tail->off + h->ooo_tail->len <= off)
		pp = &h->ooo_tail->next;
	while (cur < end) {
		while (*pp && (*pp)->off + (*pp)->len <= cur)
			pp = &(*pp)->next;
		struct tcp_reasm_node *n = *pp;
		if (n && n->off <= cur) {
			uint64_t covered = n->off + n->len < end ? n->off + n->len : end;
			h->retrans_bytes += covered - cur;
			cur = covered;
			continue;
		}
		uint64_t piece_end = n && n->off < end ? n->off : end;
		struct tcp_reasm_node *m = node_new(r, h, cur, piece_end - cur,
						    data ? data + (cur - off) : NULL);
		if (!m)
			return false;
		m->next = n;
		*pp = m;
		if (!n)
			h->ooo_tail = m;
		pp = &m->next;
		cur = piece_end;
	}
	return true;
}

static bool over_cap(const struct tcp_reasm *r, uint64_t add)
{
	const struct tcp_reasm_pool *p = r->pool;
	uint64_t conn = r->half[0].ooo_charge + r->half[1].ooo_charge;
	return conn + add > p->per_conn_cap || p->charged + add > p->global_cap;
}

/* Buffer an out-of-order segment [off, off+n), `cap` bytes captured.  When
 * a cap would be exceeded, skip ahead: the first hole becomes a gap and the
 * buffered data behind it is delivered, until the segment fits or has
 * become in-order. */
static void buffer_segment(struct tcp_reasm *r, enum kl_dir dir, uint64_t off,
			   const uint8_t *p, uint64_t n, uint64_t cap, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	bool counted = false;
	for (;;) {
		uint64_t need = insert_charge(h, off, cap, true) +
				(n > cap ? insert_charge(h, off + cap, n - cap, false) : 0);
		if (!over_cap(r, need))
			break;
		if (!counted) {
			r->pool->cap_hits++;
			counted = true;
		}
		uint64_t stop = h->ooo && h->ooo->off < off ? h->ooo->off : off;
		emit_gap(r, dir, stop - h->next_off, ts);
		drain(r, dir, ts);
		if (h->next_off >= off) {
			/* Now in order (or partly old): deliver directly. */
			if (off + n <= h->next_off)
				h->retrans_bytes += n;
			else
				deliver_in_order(r, dir, off, p, n, cap, ts);
			return;
		}
	}
	bool ok = insert_range(r, h, off, cap, p);
	if (ok && n > cap)
		ok = insert_range(r, h, off + cap, n - cap, NULL);
	if (!ok) {
		/* Out of memory: what could not be held is lost; say so. */
		r->pool->cap_hits++;
		advance_to(r, dir, off + n, ts);
	}
}

/* A FIN at `fin_off` arrived after data beyond it was held: that data
 * cannot belong to the stream, drop it. */
static void trim_held_after(struct tcp_reasm *r, struct tcp_reasm_half *h, uint64_t fin_off)
{
	struct tcp_reasm_node **pp = &h->ooo, *last = NULL;
	while (*pp && (*pp)->off < fin_off) {
		struct tcp_reasm_node *n = *pp;
		if (n->off + n->len > fin_off) {
			uint64_t cut = n->off + n->len - fin_off;
			if (n->has_data) {
				h->ooo_charge -= cut;
				r->pool->charged -= cut;
			}
			n->len = (uint32_t)(fin_off - n->off);
		}
		last = n;
		pp = &n->next;
	}
	struct tcp_reasm_node *n = *pp;
	*pp = NULL;
	h->ooo_tail = last;
	while (n) {
		struct tcp_reasm_node *next = n->next;
		node_free(r, h, n);
		n = next;
	}
}

/* ---- segments ----------------------------------------------------------- */

/* The stream offset of sequence number `seq` in half h, or false when it is
 * before the stream's start.  Sequence numbers are unwrapped around
 * next_off, so a stream may run past 2^32 bytes. */
static bool seq_to_off(const struct tcp_reasm_half *h, uint32_t seq, uint64_t *off)
{
	uint32_t next_seq = h->o.isn + 1 + (uint32_t)h->next_off;
	int64_t o = (int64_t)h->next_off + (int32_t)(seq - next_seq);
	if (o < 0)
		return false;
	*off = (uint64_t)o;
	return true;
}

/* The other direction acknowledged up to `ack`: holes in it that lie
 * before data (or a FIN) we did see were lost from the capture. */
static void ack_received(struct tcp_reasm *r, enum kl_dir acked, uint32_t ack, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[acked];
	uint64_t ack_off;
	if (!h->ooo_tail && !h->fin_seen)
		return;                      /* nothing seen beyond next_off */
	if (!h->o.started || h->eof_sent || !seq_to_off(h, ack, &ack_off))
		return;
	if (ack_off <= h->next_off || ack_off - h->next_off > KL_REASM_MAX_JUMP)
		return;
	uint64_t seen_end = h->ooo_tail ? h->ooo_tail->off + h->ooo_tail->len : 0;
	if (h->fin_seen && h->fin_off > seen_end)
		seen_end = h->fin_off;
	uint64_t limit = ack_off < seen_end ? ack_off : seen_end;
	if (limit <= h->next_off)
		return;
	advance_to(r, acked, limit, ts);
	emit_eof_if_done(r, acked, ts);
}

/* Deliver the rest of direction `dir`: buffered pieces with gaps for the
 * holes, the missing bytes before a FIN, then eof. */
static void flush_half(struct tcp_reasm *r, enum kl_dir dir, kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	if (h->eof_sent)
		return;
	if (h->ooo_tail)
		advance_to(r, dir, h->ooo_tail->off + h->ooo_tail->len, ts);
	if (h->fin_seen && h->next_off < h->fin_off)
		advance_to(r, dir, h->fin_off, ts);
	h->eof_sent = true;
	r->sink->eof(r->sink_ctx, dir, ts);
}

/* The other side acknowledged `ack` before this direction started. */
static void origin_ack(struct tcp_reasm_origin *o, uint32_t ack)
{
	if (!o->peer_ack_seen || (int32_t)(ack - o->peer_ack) > 0)
		o->peer_ack = ack;
	o->peer_ack_seen = true;
}

/* The first segment of a direction sets its offset 0. */
static void origin_start(struct tcp_reasm_origin *o, const struct tcp_seg *seg)
{
	bool syn = (seg->flags & KL_TCP_SYN) != 0;
	o->started = true;
	o->syn_seen = syn;
	o->isn = syn ? seg->seq : seg->seq - 1;
	/* Picked up mid-stream after the other side acknowledged less: the
	 * stream starts at the byte it acknowledged, the bytes between are a
	 * hole (tcp_reasm.h). */
	uint32_t missing = seg->seq - o->peer_ack;
	if (!syn && !(seg->flags & KL_TCP_RST) && o->peer_ack_seen && (int32_t)missing > 0 &&
	    missing <= KL_REASM_START_GAP_MAX)
		o->isn = o->peer_ack - 1;
}

void tcp_reasm_origin_note(struct tcp_reasm_origin o[2], enum kl_dir dir,
			   const struct tcp_seg *seg)
{
	/* An ACK of a started direction matters only to data held after a
	 * hole, and there is none yet. */
	if ((seg->flags & KL_TCP_ACK) && !o[dir ^ 1].started)
		origin_ack(&o[dir ^ 1], seg->ack);
	if (!o[dir].started)
		origin_start(&o[dir], seg);
}

void tcp_reasm_set_origin(struct tcp_reasm *r, const struct tcp_reasm_origin o[2])
{
	r->half[0].o = o[0];
	r->half[1].o = o[1];
}

void tcp_reasm_push(struct tcp_reasm *r, enum kl_dir dir, const struct tcp_seg *seg,
		    kl_time ts)
{
	struct tcp_reasm_half *h = &r->half[dir];
	uint8_t f = seg->flags;

	if (f & KL_TCP_ACK) {
		struct tcp_reasm_half *o = &r->half[dir ^ 1];
		if (!o->o.started)
			origin_ack(&o->o, seg->ack);
		else
			ack_received(r, (enum kl_dir)(dir ^ 1), seg->ack, ts);
	}
	if (h->eof_sent) {
		/* Late retransmissions still count as retransmitted. */
		uint64_t off;
		uint32_t dseq = seg->seq + ((f & KL_TCP_SYN) ? 1u : 0u);
		if (seg->len && !(f & KL_TCP_RST) && seq_to_off(h, dseq, &off) && off < h->next_off)
			h->retrans_bytes += h->next_off - off < seg->len ? h->next_off - off : seg->len;
		return;
	}

	/* The common case: the next in-order segment, nothing held. */
	if (h->o.started && !h->ooo && !h->fin_seen &&
	    !(f & (KL_TCP_SYN | KL_TCP_FIN | KL_TCP_RST)) &&
	    seg->seq == h->o.isn + 1 + (uint32_t)h->next_off) {
		uint64_t cap = seg->caplen < seg->len ? seg->caplen : seg->len;
		emit_data(r, dir, seg->payload, cap, ts);
		emit_gap(r, dir, seg->len - cap, ts);
		return;
	}

	bool syn = (f & KL_TCP_SYN) != 0;
	if (!h->o.started)
		origin_start(&h->o, seg);
	if (f & KL_TCP_RST) {
		/* Deliver what is held (holes become gaps) but keep the stream
		 * open: a receiver ignores an RST that is not exactly in window
		 * (RFC 5961 §3), and injected RSTs are followed by more data.
		 * The stream ends with the connection. */
		if (h->ooo_tail)
			advance_to(r, dir, h->ooo_tail->off + h->ooo_tail->len, ts);
		emit_eof_if_done(r, dir, ts);
		return;
	}

	/* Data (and a FIN) start after the SYN's sequence number. */
	uint32_t dseq = seg->seq + (syn ? 1u : 0u);
	uint64_t off;
	if (!seq_to_off(h, dseq, &off)) {
		/* Before the stream's start: a SYN retransmitted after we started
		 * from data, or old bytes from before a mid-stream pickup. */
		h->retrans_bytes += seg->len;
		return;
	}
	if (off > h->next_off && off - h->next_off > KL_REASM_MAX_JUMP) {
		h->bad_seq_segments++;
		return;
	}

	uint64_t n = seg->len;
	uint64_t cap = seg->caplen < seg->len ? seg->caplen : seg->len;
	const uint8_t *p = seg->payload;
	if ((f & KL_TCP_FIN) && !h->fin_seen) {
		h->fin_seen = true;
		h->fin_off = off + n;
		if (h->ooo_tail && h->ooo_tail->off + h->ooo_tail->len > h->fin_off)
			trim_held_after(r, h, h->fin_off);
	}
	if (h->fin_seen && off + n > h->fin_off) {
		/* Bytes past the FIN cannot be data of this stream. */
		uint64_t keep = h->fin_off > off ? h->fin_off - off : 0;
		n = keep;
		if (cap > keep)
			cap = keep;
	}

	if (off + n <= h->next_off) {
		h->retrans_bytes += n;
	} else if (off <= h->next_off) {
		deliver_in_order(r, dir, off, p, n, cap, ts);
	} else {
		buffer_segment(r, dir, off, p, n, cap, ts);
	}
	emit_eof_if_done(r, dir, ts);
}

void tcp_reasm_finish(struct tcp_reasm *r, kl_time ts)
{
	flush_half(r, KL_TO_SERVER, ts);
	flush_half(r, KL_TO_CLIENT, ts);
	tcp_reasm_release(r);
}

void tcp_reasm_release(struct tcp_reasm *r)
{
	for (int d = 0; d < 2; d++) {
		struct tcp_reasm_half *h = &r->half[d];
		struct tcp_reasm_node *n = h->ooo;
		while (n) {
			struct tcp_reasm_node *next = n->next;
			node_free(r, h, n);
			n = next;
		}
		h->ooo = h->ooo_tail = NULL;
	}
}

void tcp_reasm_swap(struct tcp_reasm *r)
{
	struct tcp_reasm_half t = r->half[0];
	r->half[0] = r->half[1];
	r->half[1] = t;
}

bool tcp_reasm_holds(const struct tcp_reasm *r)
{
	return r->half[0].ooo || r->half[1].ooo;
}

struct tcp_reasm_half_stats tcp_reasm_half_stats(const struct tcp_reasm *r, enum kl_dir dir)
{
	const struct tcp_reasm_half *h = &r->half[dir];
	struct tcp_reasm_half_stats s = {
		.gap_bytes = h->gap_bytes,
		.retrans_bytes = h->retrans_bytes,
		.delivered_bytes = h->delivered_bytes,
		.bad_seq_segments = h->bad_seq_segments,
		.ooo_bytes = h->ooo_charge,
	};
	return s;
}
