/*
 * test_ipfrag.c - IPv4/IPv6 fragment reassembly (ipfrag) on synthetic
 * pieces, written from the contract in ipfrag.h and docs/reassembly.md.
 *
 * Datagrams are deterministic pseudo-random bytes; what a completed push
 * delivers is compared byte for byte with the datagram that was cut up
 * (or, where copies differ, with the copy that arrived first), never with
 * recorded output.  After every push the accounting is checked: every
 * piece pushed is reassembled, dropped or held, and the charged memory is
 * within the cap.  Each piece's bytes are an exactly-sized malloc'd copy
 * freed right after the push, so ASan catches a pointer kept past the call.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ipfrag.h"
#include "testutil.h"

#define T0 ((kl_time)1700000000 * KL_NS_PER_SEC)
#define MS(x) ((kl_time)(x) * 1000000)
#define SEC(x) ((kl_time)(x) * KL_NS_PER_SEC)
#define NODE ((uint64_t)IPFRAG_NODE_CHARGE)
#define REC ((uint64_t)IPFRAG_RECORD_CHARGE)

static const uint8_t SRC4[16] = { 192, 0, 2, 1 };
static const uint8_t DST4[16] = { 198, 51, 100, 7 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* ---- deterministic bytes ------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint8_t *make_bytes(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	uint64_t s = seed * 7919 + 1;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)splitmix(&s);
	return p;
}

static void shuffle(uint32_t *v, size_t n, uint64_t seed)
{
	uint64_t s = seed;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(splitmix(&s) % i);
		uint32_t x = v[i - 1];
		v[i - 1] = v[j];
		v[j] = x;
	}
}

/* ---- the table and its checks ------------------------------------------- */

struct fx {
	struct ipfrag *t;
	struct ipfrag_config cfg;
	struct ipfrag_datagram out;
	uint8_t got[IPFRAG_MAX_PAYLOAD];  /* copy of the last delivered bytes */
	uint32_t got_caplen, got_len;
	uint8_t got_proto, got_version;
	uint32_t got_frags;
	int delivered;
};

static void fx_open(struct fx *f, const struct ipfrag_config *cfg)
{
	memset(f, 0, sizeof *f);
	if (cfg)
		f->cfg = *cfg;
	else
		ipfrag_config_defaults(&f->cfg);
	f->t = ipfrag_new(&f->cfg);
	cr_assert_not_null(f->t);
}

static void fx_check(struct fx *f)
{
	struct ipfrag_stats s = ipfrag_stats(f->t);
	cr_assert_eq(s.fragments, s.fragments_reassembled + s.fragments_dropped + s.fragments_held,
		     "pushed %llu != reassembled %llu + dropped %llu + held %llu",
		     (unsigned long long)s.fragments, (unsigned long long)s.fragments_reassembled,
		     (unsigned long long)s.fragments_dropped, (unsigned long long)s.fragments_held);
	cr_assert_eq(s.fragments_dropped,
		     s.dropped_bad + s.dropped_oversize + s.dropped_duplicate + s.dropped_timeout +
		     s.dropped_evicted + s.dropped_cap + s.dropped_nomem + s.dropped_at_end,
		     "dropped is the sum of its reasons");
	cr_assert_leq(s.bytes_now, f->cfg.max_total_bytes, "memory over the cap");
	cr_assert_leq(s.bytes_now, s.bytes_peak);
	cr_assert_leq(s.datagrams_held, f->cfg.max_datagrams);
	if (s.fragments_held == 0)
		cr_assert_eq(s.datagrams_held, 0u);
}

static void fx_close(struct fx *f)
{
	ipfrag_finish(f->t);
	fx_check(f);
	struct ipfrag_stats s = ipfrag_stats(f->t);
	cr_assert_eq(s.fragments_held, 0);
	cr_assert_eq(s.bytes_now, 0, "nothing charged after finish");
	ipfrag_free(f->t);
}

struct pc {
	uint8_t version;
	uint8_t proto;
	uint16_t header_len;
	uint32_t id;
	uint64_t context;
	uint32_t offset;
	bool more;
	uint32_t caplen;              /* when cut: bytes captured (else wire_len) */
	bool cut;
};

static struct pc v4(uint32_t id, uint32_t offset, bool more)
{
	struct pc c = { .version = 4, .proto = 6, .header_len = 20, .id = id, .offset = offset,
			.more = more };
	return c;
}

static struct pc v6(uint32_t id, uint32_t offset, bool more)
{
	struct pc c = { .version = 6, .proto = 6, .header_len = 0, .id = id, .offset = offset,
			.more = more };
	return c;
}

/* Push bytes [0, n) of `bytes` as the piece c describes; on DONE copy what
 * was delivered. */
static enum ipfrag_result push(struct fx *f, struct pc c, const uint8_t *bytes, uint32_t n,
			       kl_time ts)
{
	uint32_t cap = c.cut ? c.caplen : n;
	uint8_t *copy = malloc(cap ? cap : 1);
	cr_assert_not_null(copy);
	if (cap)
		memcpy(copy, bytes, cap);
	struct ipfrag_piece p = {
		.ip_version = c.version, .proto = c.proto, .header_len = c.header_len,
		.id = c.id, .context = c.context,
		.src = c.version == 6 ? SRC6 : SRC4, .dst = c.version == 6 ? DST6 : DST4,
		.offset = c.offset, .more = c.more, .data = copy, .len = cap, .wire_len = n,
	};
	memset(&f->out, 0xa5, sizeof f->out);
	enum ipfrag_result r = ipfrag_push(f->t, &p, ts, &f->out);
	if (r == IPFRAG_DONE) {
		cr_assert_leq(f->out.caplen, f->out.len);
		cr_assert_leq(f->out.len, IPFRAG_MAX_PAYLOAD);
		if (f->out.caplen)
			memcpy(f->got, f->out.data, f->out.caplen);
		f->got_caplen = f->out.caplen;
		f->got_len = f->out.len;
		f->got_proto = f->out.proto;
		f->got_version = f->out.ip_version;
		f->got_frags = f->out.fragments;
		f->delivered++;
	}
	free(copy);
	fx_check(f);
	return r;
}

/* Push datagram[off, off + n) as a fragment of `tmpl` (offset and more
 * filled from off, n and the datagram's total). */
static enum ipfrag_result push_part(struct fx *f, struct pc tmpl, const uint8_t *dg,
				    uint32_t total, uint32_t off, uint32_t n, kl_time ts)
{
	tmpl.offset = off;
	tmpl.more = off + n < total;
	return push(f, tmpl, dg + off, n, ts);
}

static void expect_delivered(struct fx *f, const uint8_t *want, uint32_t len)
{
	cr_assert_eq(f->got_len, len, "delivered length %u, want %u", f->got_len, len);
	cr_assert_eq(f->got_caplen, len, "delivered caplen %u, want %u", f->got_caplen, len);
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(f->got[i], want[i], "byte %u: 0x%02x, want 0x%02x", i, f->got[i],
			     want[i]);
}

/* Cut `total` bytes into pieces of `size` (a multiple of 8) and push them
 * in the order `order` gives (NULL: in order); returns the index of the push
 * that completed the datagram (-1: none). */
static int push_all(struct fx *f, struct pc tmpl, const uint8_t *dg, uint32_t total,
		    uint32_t size, const uint32_t *order, kl_time ts)
{
	uint32_t n = (total + size - 1) / size;
	int done_at = -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = order ? order[i] : i;
		uint32_t off = k * size;
		uint32_t len = total - off < size ? total - off : size;
		enum ipfrag_result r = push_part(f, tmpl, dg, total, off, len, ts + (kl_time)i);
		if (r == IPFRAG_DONE) {
			cr_assert_eq(done_at, -1, "delivered twice");
			done_at = (int)i;
		} else {
			cr_assert_eq(r, IPFRAG_HELD, "piece %u (offset %u): %s", i, off,
				     ipfrag_result_name(r));
		}
	}
	return done_at;
}

/* ---- order ---------------------------------------------------------------- */

Test(ipfrag, ipv4_in_order)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(4000, 1);
	cr_assert_eq(push_all(&f, v4(7, 0, 0), dg, 4000, 1480, NULL, T0), 2);
	expect_delivered(&f, dg, 4000);
	cr_assert_eq(f.got_proto, 6);
	cr_assert_eq(f.got_version, 4);
	cr_assert_eq(f.got_frags, 3);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.reassembled, 1);
	cr_assert_eq(s.fragments_reassembled, 3);
	cr_assert_eq(s.fragments_dropped, 0);
	cr_assert_eq(s.overlapping, 0);
	cr_assert_eq(s.bytes_now, REC, "only the completed key is kept");
	cr_assert_eq(s.bytes_peak, REC + 3 * NODE + 4000, "peak: every piece held as the last came");
	free(dg);
	fx_close(&f);
}

Test(ipfrag, ipv4_reverse_order)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(5000, 2);
	uint32_t order[] = { 4, 3, 2, 1, 0 };
	cr_assert_eq(push_all(&f, v4(8, 0, 0), dg, 5000, 1024, order, T0), 4);
	expect_delivered(&f, dg, 5000);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, ipv6_random_orders)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct fx f;
		fx_open(&f, NULL);
		uint32_t total = 1000 + (uint32_t)seed * 997;
		uint8_t *dg = make_bytes(total, seed);
		uint32_t n = (total + 1231) / 1232, order[64];
		for (uint32_t i = 0; i < n; i++)
			order[i] = i;
		shuffle(order, n, seed);
		cr_assert_eq(push_all(&f, v6((uint32_t)seed << 20, 0, 0), dg, total, 1232, order, T0),
			     (int)n - 1);
		expect_delivered(&f, dg, total);
		cr_assert_eq(f.got_version, 6);
		free(dg);
		fx_close(&f);
	}
}

Test(ipfrag, interleaved_datagrams)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *a = make_bytes(3000, 3), *b = make_bytes(2500, 4);
	/* a: 0..1999, b: 0..999, a: 2000.., b: 1000..1999, b: 2000.. */
	cr_assert_eq(push_part(&f, v4(1, 0, 0), a, 3000, 0, 1000, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(2, 0, 0), b, 2500, 0, 1000, T0 + 1), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), a, 3000, 1000, 1000, T0 + 2), IPFRAG_HELD);
	cr_assert_eq(ipfrag_stats(f.t).datagrams_held, 2);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), a, 3000, 2000, 1000, T0 + 3), IPFRAG_DONE);
	expect_delivered(&f, a, 3000);
	cr_assert_eq(push_part(&f, v4(2, 0, 0), b, 2500, 2000, 500, T0 + 4), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(2, 0, 0), b, 2500, 1000, 1000, T0 + 5), IPFRAG_DONE);
	expect_delivered(&f, b, 2500);
	cr_assert_eq(ipfrag_stats(f.t).reassembled, 2);
	free(a);
	free(b);
	fx_close(&f);
}

Test(ipfrag, whole_datagram_in_one_piece)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(100, 5);
	cr_assert_eq(push(&f, v6(9, 0, false), dg, 100, T0), IPFRAG_DONE);
	expect_delivered(&f, dg, 100);
	cr_assert_eq(ipfrag_stats(f.t).bytes_peak, 0, "nothing held for a whole datagram");
	free(dg);
	fx_close(&f);
}

Test(ipfrag, tiny_pieces_whole_ip_maximum)
{
	/* 65515 bytes (65535 - a 20-byte header) in 8-byte pieces, shuffled. */
	struct fx f;
	fx_open(&f, NULL);
	uint32_t total = 65515;
	uint8_t *dg = make_bytes(total, 6);
	uint32_t n = (total + 7) / 8;
	uint32_t *order = malloc(n * sizeof *order);
	cr_assert_not_null(order);
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n, 6);
	cr_assert_eq(push_all(&f, v4(10, 0, 0), dg, total, 8, order, T0), (int)n - 1);
	expect_delivered(&f, dg, total);
	cr_assert_eq(f.got_frags, n);
	free(order);
	free(dg);
	fx_close(&f);
}

/* ---- overlaps and duplicates ----------------------------------------------- */

/* Pieces [0, 24) and [16, 40) (the second last), where the copies of
 * [16, 24) differ: the copy pushed first is delivered. */
static void overlap_case(struct pc (*mk)(uint32_t, uint32_t, bool), bool late_first)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(40, 11);
	uint8_t alt[24];                 /* the second piece's own copy of [16, 40) */
	memcpy(alt, dg + 16, 24);
	for (int i = 0; i < 8; i++)
		alt[i] ^= 0x5a;
	uint8_t want[40];
	memcpy(want, dg, 40);
	if (late_first) {
		memcpy(want + 16, alt, 24);
		cr_assert_eq(push(&f, mk(1, 16, false), alt, 24, T0), IPFRAG_HELD);
		cr_assert_eq(push(&f, mk(1, 0, true), dg, 24, T0 + 1), IPFRAG_DONE);
	} else {
		cr_assert_eq(push(&f, mk(1, 0, true), dg, 24, T0), IPFRAG_HELD);
		cr_assert_eq(push(&f, mk(1, 16, false), alt, 24, T0 + 1), IPFRAG_DONE);
	}
	expect_delivered(&f, want, 40);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.overlapping, 1);
	cr_assert_eq(s.overlap_conflicts, 1);
	cr_assert_eq(s.fragments_reassembled, 2);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, ipv4_overlap_first_copy_wins)
{
	overlap_case(v4, false);
	overlap_case(v4, true);
}

Test(ipfrag, ipv6_overlap_first_copy_wins)
{
	overlap_case(v6, false);
	overlap_case(v6, true);
}

Test(ipfrag, overlap_spanning_a_hole_fills_only_the_hole)
{
	/* Held [0,8) and [16,24); a piece [0,32) with different bytes
	 * everywhere adds only [8,16) and [24,32). */
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(40, 12);
	uint8_t alt[32];
	for (int i = 0; i < 32; i++)
		alt[i] = (uint8_t)(dg[i] ^ 0xff);
	cr_assert_eq(push(&f, v4(2, 0, true), dg, 8, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(2, 16, true), dg + 16, 8, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(2, 0, true), alt, 32, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(2, 32, false), dg + 32, 8, T0), IPFRAG_DONE);
	uint8_t want[40];
	memcpy(want, dg, 40);
	memcpy(want + 8, alt + 8, 8);
	memcpy(want + 24, alt + 24, 8);
	expect_delivered(&f, want, 40);
	cr_assert_eq(ipfrag_stats(f.t).overlap_conflicts, 1);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, duplicates_before_and_after_completion)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(3000, 13);
	cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_HELD);
	uint64_t held = ipfrag_stats(f.t).bytes_now;
	cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 3000, 0, 1480, T0 + 1), IPFRAG_DROPPED);
	cr_assert_eq(ipfrag_stats(f.t).bytes_now, held, "a duplicate adds nothing");
	cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 3000, 1480, 1480, T0 + 2), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 3000, 2960, 40, T0 + 3), IPFRAG_DONE);
	expect_delivered(&f, dg, 3000);
	uint64_t after = ipfrag_stats(f.t).bytes_now;
	/* The whole datagram again, as a capture on two interfaces shows it. */
	for (uint32_t off = 0; off < 3000; off += 1480) {
		uint32_t n = 3000 - off < 1480 ? 3000 - off : 1480;
		cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 3000, off, n, T0 + MS(1)),
			     IPFRAG_DROPPED);
	}
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(f.delivered, 1, "delivered once");
	cr_assert_eq(s.dropped_duplicate, 4);
	cr_assert_eq(s.overlap_conflicts, 0, "duplicates with the same bytes are no conflict");
	cr_assert_eq(s.bytes_now, after, "duplicates after completion hold nothing");
	cr_assert_eq(s.fragments_held, 0);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, duplicate_with_other_bytes_is_a_conflict)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(16, 14);
	uint8_t alt[8];
	memcpy(alt, dg, 8);
	alt[3] ^= 1;
	cr_assert_eq(push(&f, v6(4, 0, true), dg, 8, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v6(4, 0, true), alt, 8, T0), IPFRAG_DROPPED);
	cr_assert_eq(push(&f, v6(4, 8, false), dg + 8, 8, T0), IPFRAG_DONE);
	expect_delivered(&f, dg, 16);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.overlap_conflicts, 1);
	cr_assert_eq(s.dropped_duplicate, 1);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, id_reused_after_completion_starts_a_new_datagram)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *a = make_bytes(1000, 15), *b = make_bytes(2000, 16);
	cr_assert_eq(push_all(&f, v4(5, 0, 0), a, 1000, 504, NULL, T0), 1);
	expect_delivered(&f, a, 1000);
	/* Same key; its last piece ends beyond the first datagram's end. */
	cr_assert_eq(push_part(&f, v4(5, 0, 0), b, 2000, 1504, 496, T0 + MS(10)), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(5, 0, 0), b, 2000, 0, 1504, T0 + MS(11)), IPFRAG_DONE);
	expect_delivered(&f, b, 2000);
	free(a);
	free(b);
	fx_close(&f);
}

Test(ipfrag, done_linger_then_same_pieces_deliver_again)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(100, 17);
	cr_assert_eq(push_all(&f, v4(6, 0, 0), dg, 100, 64, NULL, T0), 1);
	cr_assert_eq(push_all(&f, v4(6, 0, 0), dg, 100, 64, NULL, T0 + 1 + f.cfg.done_linger), 1);
	cr_assert_eq(f.delivered, 2);
	expect_delivered(&f, dg, 100);
	free(dg);
	fx_close(&f);
}

/* ---- time ----------------------------------------------------------------- */

Test(ipfrag, timeout_drops_incomplete_datagrams)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(3000, 18);
	cr_assert_eq(push_part(&f, v4(7, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_HELD);
	/* A later piece does not refresh the timer (Linux: ipfrag_time). */
	cr_assert_eq(push_part(&f, v4(7, 0, 0), dg, 3000, 1480, 1480, T0 + SEC(20)), IPFRAG_HELD);
	ipfrag_expire(f.t, T0 + SEC(30) - 1);
	cr_assert_eq(ipfrag_stats(f.t).fragments_held, 2, "not yet");
	ipfrag_expire(f.t, T0 + SEC(30));
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.fragments_held, 0);
	cr_assert_eq(s.dropped_timeout, 2);
	cr_assert_eq(s.datagrams_timed_out, 1);
	cr_assert_eq(s.bytes_now, 0);
	/* The last piece now starts a new datagram, which cannot complete. */
	cr_assert_eq(push_part(&f, v4(7, 0, 0), dg, 3000, 2960, 40, T0 + SEC(31)), IPFRAG_HELD);
	cr_assert_eq(f.delivered, 0);
	cr_assert_eq(ipfrag_finish(f.t), 1);
	cr_assert_eq(ipfrag_stats(f.t).dropped_at_end, 1);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, push_expires_without_expire_calls)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(3000, 19);
	cr_assert_eq(push_part(&f, v4(8, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(8, 0, 0), dg, 3000, 1480, 1480, T0 + SEC(1)), IPFRAG_HELD);
	/* The last piece 40 s later must not complete a stale datagram. */
	cr_assert_eq(push_part(&f, v4(8, 0, 0), dg, 3000, 2960, 40, T0 + SEC(40)), IPFRAG_HELD);
	cr_assert_eq(f.delivered, 0);
	cr_assert_eq(ipfrag_stats(f.t).dropped_timeout, 2);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, time_stepping_back_counts_at_the_later_time)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(3000, 20);
	cr_assert_eq(push_part(&f, v4(9, 0, 0), dg, 3000, 0, 1480, T0 + SEC(100)), IPFRAG_HELD);
	/* Older timestamp: taken as T0 + 100 s. */
	cr_assert_eq(push_part(&f, v4(10, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_HELD);
	ipfrag_expire(f.t, T0 + SEC(129));
	cr_assert_eq(ipfrag_stats(f.t).fragments_held, 2);
	ipfrag_expire(f.t, T0 + SEC(130));
	cr_assert_eq(ipfrag_stats(f.t).fragments_held, 0);
	free(dg);
	fx_close(&f);
}

/* ---- caps ------------------------------------------------------------------ */

Test(ipfrag, total_bytes_cap_evicts_the_oldest)
{
	struct ipfrag_config cfg;
	ipfrag_config_defaults(&cfg);
	/* Room for two datagrams holding their first 1480-byte piece and the
	 * rest of one of them, not for three first pieces. */
	cfg.max_total_bytes = 2 * (REC + NODE + 1480) + NODE + 1520 + 16;
	struct fx f;
	fx_open(&f, &cfg);
	uint8_t *a = make_bytes(3000, 21), *b = make_bytes(3000, 22), *c = make_bytes(3000, 23);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), a, 3000, 0, 1480, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(2, 0, 0), b, 3000, 0, 1480, T0 + 1), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(3, 0, 0), c, 3000, 0, 1480, T0 + 2), IPFRAG_HELD);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.datagrams_evicted, 1);
	cr_assert_eq(s.dropped_evicted, 1);
	cr_assert_eq(s.datagrams_held, 2);
	/* a was evicted: its rest does not complete it.  b and c still do. */
	cr_assert_eq(push_part(&f, v4(2, 0, 0), b, 3000, 1480, 1520, T0 + 3), IPFRAG_DONE);
	expect_delivered(&f, b, 3000);
	cr_assert_eq(push_part(&f, v4(3, 0, 0), c, 3000, 1480, 1520, T0 + 4), IPFRAG_DONE);
	expect_delivered(&f, c, 3000);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), a, 3000, 1480, 1520, T0 + 5), IPFRAG_HELD);
	cr_assert_eq(f.delivered, 2);
	free(a);
	free(b);
	free(c);
	fx_close(&f);
}

Test(ipfrag, a_piece_larger_than_the_cap_is_dropped)
{
	struct ipfrag_config cfg;
	ipfrag_config_defaults(&cfg);
	cfg.max_total_bytes = 1000;
	struct fx f;
	fx_open(&f, &cfg);
	uint8_t *dg = make_bytes(3000, 24);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_DROPPED);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.dropped_cap, 1);
	cr_assert_eq(s.bytes_now, 0);
	cr_assert_eq(s.datagrams_held, 0);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, datagram_count_cap_evicts_the_oldest)
{
	struct ipfrag_config cfg;
	ipfrag_config_defaults(&cfg);
	cfg.max_datagrams = 2;
	struct fx f;
	fx_open(&f, &cfg);
	uint8_t *dg = make_bytes(200, 25);
	for (uint32_t id = 1; id <= 5; id++)
		cr_assert_eq(push_part(&f, v6(id, 0, 0), dg, 200, 0, 96, T0 + id), IPFRAG_HELD);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.datagrams_held, 2);
	cr_assert_eq(s.datagrams_evicted, 3);
	cr_assert_eq(s.dropped_evicted, 3);
	/* The newest two (4, 5) complete; 1 does not. */
	cr_assert_eq(push_part(&f, v6(4, 0, 0), dg, 200, 96, 104, T0 + 10), IPFRAG_DONE);
	expect_delivered(&f, dg, 200);
	cr_assert_eq(push_part(&f, v6(5, 0, 0), dg, 200, 96, 104, T0 + 11), IPFRAG_DONE);
	cr_assert_eq(push_part(&f, v6(1, 0, 0), dg, 200, 96, 104, T0 + 12), IPFRAG_HELD);
	cr_assert_eq(f.delivered, 2);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, completed_keys_are_evicted_before_incomplete_datagrams)
{
	struct ipfrag_config cfg;
	ipfrag_config_defaults(&cfg);
	cfg.max_datagrams = 2;
	struct fx f;
	fx_open(&f, &cfg);
	uint8_t *dg = make_bytes(200, 26);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), dg, 200, 0, 96, T0), IPFRAG_HELD);
	cr_assert_eq(push_all(&f, v4(2, 0, 0), dg, 200, 96, NULL, T0 + 1), 2);
	cr_assert_eq(push_part(&f, v4(3, 0, 0), dg, 200, 0, 96, T0 + 2), IPFRAG_HELD);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.datagrams_evicted, 0, "the completed key made room");
	cr_assert_eq(push_part(&f, v4(1, 0, 0), dg, 200, 96, 104, T0 + 3), IPFRAG_DONE);
	free(dg);
	fx_close(&f);
}

/* ---- bad pieces ------------------------------------------------------------ */

Test(ipfrag, bad_pieces_are_dropped_and_the_datagram_survives)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(64, 27);
	uint64_t bad = 0;
	cr_assert_eq(push(&f, v4(1, 0, true), dg, 12, T0), IPFRAG_DROPPED,
		     "a non-last piece of 12 bytes");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	cr_assert_eq(push(&f, v4(1, 0, true), dg, 0, T0), IPFRAG_DROPPED, "empty");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	cr_assert_eq(push(&f, v4(1, 4, true), dg + 4, 8, T0), IPFRAG_DROPPED, "offset not x8");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	struct pc five = v4(1, 0, true);
	five.version = 5;
	cr_assert_eq(push(&f, five, dg, 8, T0), IPFRAG_DROPPED, "IP version 5");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	struct pc over = v4(1, 0, true);
	over.cut = true;
	over.caplen = 16;
	cr_assert_eq(push(&f, over, dg, 8, T0), IPFRAG_DROPPED, "len > wire_len");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	cr_assert_eq(ipfrag_stats(f.t).bytes_now, 0, "nothing held for bad pieces");

	cr_assert_eq(push(&f, v4(1, 0, true), dg, 16, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(1, 32, false), dg + 32, 20, T0), IPFRAG_HELD);  /* end 52 */
	cr_assert_eq(push(&f, v4(1, 48, false), dg + 48, 16, T0), IPFRAG_DROPPED,
		     "a second last piece with another end");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	cr_assert_eq(push(&f, v4(1, 48, true), dg + 48, 8, T0), IPFRAG_DROPPED,
		     "bytes beyond the known end");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	cr_assert_eq(push(&f, v4(1, 16, true), dg + 16, 16, T0), IPFRAG_DONE);
	expect_delivered(&f, dg, 52);

	/* A last piece ending before bytes already seen. */
	cr_assert_eq(push(&f, v4(2, 32, true), dg + 32, 16, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(2, 16, false), dg + 16, 8, T0), IPFRAG_DROPPED,
		     "last piece ends at 24, bytes up to 48 were seen");
	cr_assert_eq(ipfrag_stats(f.t).dropped_bad, ++bad);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, ip_maximum_is_enforced)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(65536, 28);
	/* IPv4, 20-byte header: the payload may end at 65515, not after. */
	cr_assert_eq(push(&f, v4(1, 65512, false), dg, 3, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v4(2, 65512, false), dg, 4, T0), IPFRAG_DROPPED);
	struct pc opt = v4(3, 65512, false);
	opt.header_len = 24;             /* with options: 4 bytes less */
	cr_assert_eq(push(&f, opt, dg, 3, T0), IPFRAG_DROPPED);
	/* Offsets near 2^32 must not wrap. */
	cr_assert_eq(push(&f, v4(4, UINT32_MAX - 7, true), dg, 16, T0), IPFRAG_DROPPED);
	cr_assert_eq(ipfrag_stats(f.t).dropped_oversize, 3);
	/* IPv6 without extension headers before the Fragment header: 65535. */
	cr_assert_eq(push(&f, v6(1, 65528, false), dg, 7, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v6(2, 65528, false), dg, 8, T0), IPFRAG_DROPPED);
	struct pc ext = v6(3, 65528, false);
	ext.header_len = 8;              /* a destination options header before it */
	cr_assert_eq(push(&f, ext, dg, 7, T0), IPFRAG_DROPPED);
	cr_assert_eq(ipfrag_stats(f.t).dropped_oversize, 5);
	/* The whole IPv6 maximum reassembles: 65535 bytes in 1232-byte pieces. */
	cr_assert_eq(push_all(&f, v6(4, 0, 0), dg, 65535, 1232, NULL, T0), 53);
	expect_delivered(&f, dg, 65535);
	free(dg);
	fx_close(&f);
}

/* ---- keys ------------------------------------------------------------------ */

Test(ipfrag, context_separates_equal_ids)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *a = make_bytes(2000, 29), *b = make_bytes(2000, 30);
	struct pc ta = v4(77, 0, 0), tb = v4(77, 0, 0);
	ta.context = 0x1111;
	tb.context = 0x2222;
	cr_assert_eq(push_part(&f, ta, a, 2000, 0, 1000, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, tb, b, 2000, 0, 1000, T0), IPFRAG_HELD);
	cr_assert_eq(ipfrag_stats(f.t).overlap_conflicts, 0, "not one datagram");
	cr_assert_eq(push_part(&f, tb, b, 2000, 1000, 1000, T0), IPFRAG_DONE);
	expect_delivered(&f, b, 2000);
	cr_assert_eq(push_part(&f, ta, a, 2000, 1000, 1000, T0), IPFRAG_DONE);
	expect_delivered(&f, a, 2000);
	free(a);
	free(b);
	fx_close(&f);
}

Test(ipfrag, version_and_protocol_are_part_of_the_key)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *a = make_bytes(64, 31), *b = make_bytes(64, 32);
	struct pc udp = v4(5, 0, 0);
	udp.proto = 17;
	cr_assert_eq(push_part(&f, v4(5, 0, 0), a, 64, 0, 32, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, udp, b, 64, 32, 32, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v6(5, 0, 0), b, 64, 32, 32, T0), IPFRAG_HELD);
	cr_assert_eq(ipfrag_stats(f.t).datagrams_held, 3);
	cr_assert_eq(push_part(&f, udp, b, 64, 0, 32, T0), IPFRAG_DONE);
	expect_delivered(&f, b, 64);
	cr_assert_eq(f.got_proto, 17);
	free(a);
	free(b);
	fx_close(&f);
}

/* ---- snaplen --------------------------------------------------------------- */

Test(ipfrag, snaplen_cut_piece_delivers_the_captured_prefix)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(3000, 33);
	struct pc cut = v4(1, 0, true);
	cut.offset = 1480;
	cut.cut = true;
	cut.caplen = 100;                /* 1380 of its 1480 bytes not captured */
	cr_assert_eq(push_part(&f, v4(1, 0, 0), dg, 3000, 0, 1480, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, cut, dg + 1480, 1480, T0), IPFRAG_HELD);
	cr_assert_eq(push_part(&f, v4(1, 0, 0), dg, 3000, 2960, 40, T0), IPFRAG_DONE);
	cr_assert_eq(f.got_len, 3000, "the wire length");
	cr_assert_eq(f.got_caplen, 1580, "the captured prefix");
	cr_assert_eq(memcmp(f.got, dg, 1580), 0);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.reassembled_truncated, 1);
	/* The uncaptured bytes are not charged. */
	cr_assert_eq(s.bytes_peak, REC + 3 * NODE + 1620);
	free(dg);
	fx_close(&f);
}

Test(ipfrag, snaplen_cut_first_copy_wins_over_a_later_full_copy)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(64, 34);
	struct pc cut = v6(2, 0, true);
	cut.cut = true;
	cut.caplen = 10;
	cr_assert_eq(push(&f, cut, dg, 32, T0), IPFRAG_HELD);
	cr_assert_eq(push(&f, v6(2, 0, true), dg, 32, T0), IPFRAG_DROPPED, "no new wire byte");
	cr_assert_eq(push(&f, v6(2, 32, false), dg + 32, 32, T0), IPFRAG_DONE);
	cr_assert_eq(f.got_caplen, 10);
	cr_assert_eq(f.got_len, 64);
	cr_assert_eq(memcmp(f.got, dg, 10), 0);
	free(dg);
	fx_close(&f);
}

/* ---- end of run ------------------------------------------------------------ */

Test(ipfrag, finish_counts_what_is_held)
{
	struct fx f;
	fx_open(&f, NULL);
	uint8_t *dg = make_bytes(5000, 35);
	for (uint32_t id = 1; id <= 3; id++) {
		cr_assert_eq(push_part(&f, v4(id, 0, 0), dg, 5000, 0, 1480, T0), IPFRAG_HELD);
		cr_assert_eq(push_part(&f, v4(id, 0, 0), dg, 5000, 1480, 1480, T0), IPFRAG_HELD);
	}
	cr_assert_eq(push_all(&f, v4(9, 0, 0), dg, 5000, 1480, NULL, T0), 3);
	cr_assert_eq(ipfrag_finish(f.t), 6);
	struct ipfrag_stats s = ipfrag_stats(f.t);
	cr_assert_eq(s.dropped_at_end, 6);
	cr_assert_eq(s.fragments_dropped, 6);
	cr_assert_eq(s.fragments_reassembled, 4);
	cr_assert_eq(s.fragments_held, 0);
	cr_assert_eq(s.bytes_now, 0);
	cr_assert_eq(ipfrag_finish(f.t), 0, "twice is nothing more");
	free(dg);
	fx_close(&f);
}

Test(ipfrag, result_names)
{
	cr_assert_str_eq(ipfrag_result_name(IPFRAG_HELD), "held");
	cr_assert_str_eq(ipfrag_result_name(IPFRAG_DONE), "done");
	cr_assert_str_eq(ipfrag_result_name(IPFRAG_DROPPED), "dropped");
}

/* ---- real captures ---------------------------------------------------------- */

/*
 * captures/generated/frag/: real curl/nginx sessions whose payload-carrying
 * TCP segments were IP-fragmented by scapy (some out of order, one IPv4
 * overlapping copy).  A test-only reader turns each fragment frame into a
 * piece the way the decoder is meant to (ipfrag.h), and what ipfrag
 * delivers must be, row for row, the datagrams tshark reassembled
 * (tests/expected/frag/<name>.datagrams.tsv: frame, addresses, id,
 * fragments, length, TCP length) and, byte for byte, the IP payloads of the
 * payload-carrying segments of <name>.unfragmented.pcap, in order.
 */
struct frame_ip {
	bool ip, frag;
	struct ipfrag_piece piece;
	uint8_t src[16], dst[16];
	const uint8_t *payload;          /* unfragmented: the IP payload */
	uint32_t payload_len;
	uint8_t proto;
};

static uint32_t be16_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Ethernet, then IPv4 or IPv6 (hop-by-hop, routing and destination options
 * headers before a Fragment header counted in header_len). */
static void read_frame(const uint8_t *f, uint32_t caplen, struct frame_ip *v)
{
	memset(v, 0, sizeof *v);
	if (caplen < 14)
		return;
	uint32_t type = be16_at(f + 12);
	const uint8_t *h = f + 14, *end = f + caplen;
	struct ipfrag_piece *p = &v->piece;
	if (type == 0x0800 && end - h >= 20) {
		uint32_t ihl = (uint32_t)(h[0] & 15) * 4, total = be16_at(h + 2);
		uint32_t fo = be16_at(h + 6);
		cr_assert(ihl >= 20 && total >= ihl && h + total <= end, "an IPv4 header as written");
		memcpy(v->src, h + 12, 4);
		memcpy(v->dst, h + 16, 4);
		v->ip = true;
		v->proto = h[9];
		v->payload = h + ihl;
		v->payload_len = total - ihl;
		if ((fo & 0x3fff) == 0)
			return;
		v->frag = true;
		*p = (struct ipfrag_piece){ .ip_version = 4, .proto = h[9], .header_len = (uint16_t)ihl,
					    .id = be16_at(h + 4), .offset = (fo & 0x1fff) * 8,
					    .more = fo & 0x2000, .data = h + ihl,
					    .len = total - ihl, .wire_len = total - ihl };
	} else if (type == 0x86dd && end - h >= 40) {
		uint32_t plen = be16_at(h + 4), next = h[6], ext = 0;
		cr_assert(h + 40 + plen <= end, "an IPv6 header as written");
		memcpy(v->src, h + 8, 16);
		memcpy(v->dst, h + 24, 16);
		v->ip = true;
		const uint8_t *e = h + 40;
		while (next == 0 || next == 43 || next == 60) {
			uint32_t hl = ((uint32_t)e[1] + 1) * 8;
			next = e[0];
			e += hl;
			ext += hl;
		}
		v->proto = (uint8_t)next;
		v->payload = e;
		v->payload_len = plen - ext;
		if (next != 44)
			return;
		uint32_t fo = be16_at(e + 2);
		v->frag = true;
		*p = (struct ipfrag_piece){ .ip_version = 6, .proto = e[0], .header_len = (uint16_t)ext,
					    .id = (uint32_t)be16_at(e + 4) << 16 | be16_at(e + 6),
					    .offset = fo & 0xfff8, .more = fo & 1, .data = e + 8,
					    .len = plen - ext - 8, .wire_len = plen - ext - 8 };
	}
	p->src = v->src;
	p->dst = v->dst;
}

struct seen {
	uint32_t frame, id, frags, len;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint8_t *bytes;
};

/* Every datagram ipfrag completes in a fragmented capture, or (whole)
 * every IP payload of a TCP segment with data; returns the count. */
static size_t read_capture(const char *rel, bool whole, struct seen *out, size_t max,
			   struct ipfrag_stats *st)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(tu_src_path(rel), err);
	cr_assert_not_null(pc, "%s: %s", rel, err);
	struct ipfrag *t = ipfrag_new(NULL);
	cr_assert_not_null(t);
	struct pcap_pkthdr *ph;
	const uint8_t *f;
	size_t n = 0;
	uint32_t frame = 0;
	while (pcap_next_ex(pc, &ph, &f) == 1) {
		frame++;
		struct frame_ip v;
		read_frame(f, ph->caplen, &v);
		if (!v.ip)
			continue;
		const uint8_t *bytes = NULL;
		uint32_t len = 0, frags = 0, id = 0;
		if (whole) {
			cr_assert(!v.frag, "%s frame %u: a fragment", rel, frame);
			if (v.proto != 6 || v.payload_len < 20 ||
			    v.payload_len == (uint32_t)(v.payload[12] >> 4) * 4)
				continue;        /* not TCP, or no TCP payload */
			bytes = v.payload;
			len = v.payload_len;
		} else {
			if (!v.frag)
				continue;
			kl_time ts = (kl_time)ph->ts.tv_sec * KL_NS_PER_SEC + (kl_time)ph->ts.tv_usec * 1000;
			struct ipfrag_datagram d;
			enum ipfrag_result r = ipfrag_push(t, &v.piece, ts, &d);
			cr_assert_neq(r, IPFRAG_DROPPED, "%s frame %u: dropped", rel, frame);
			if (r != IPFRAG_DONE)
				continue;
			cr_assert_eq(d.caplen, d.len);
			cr_assert_eq(d.proto, 6);
			bytes = d.data;
			len = d.len;
			frags = d.fragments;
			id = v.piece.id;
		}
		cr_assert_lt(n, max);
		struct seen *s = &out[n++];
		s->frame = frame;
		s->id = id;
		s->frags = frags;
		s->len = len;
		int af = v.piece.ip_version == 6 || (!v.frag && f[13] == 0xdd) ? AF_INET6 : AF_INET;
		inet_ntop(af, v.src, s->src, sizeof s->src);
		inet_ntop(af, v.dst, s->dst, sizeof s->dst);
		s->bytes = malloc(len);
		cr_assert_not_null(s->bytes);
		memcpy(s->bytes, bytes, len);
	}
	cr_assert_eq(ipfrag_finish(t), 0, "%s: fragments left over", rel);
	*st = ipfrag_stats(t);
	ipfrag_free(t);
	pcap_close(pc);
	return n;
}

static void capture_case(const char *name)
{
	char frag_rel[256], whole_rel[256], ref_rel[256];
	snprintf(frag_rel, sizeof frag_rel, "captures/generated/frag/%s.pcap", name);
	snprintf(whole_rel, sizeof whole_rel, "captures/generated/frag/%s.unfragmented.pcap", name);
	snprintf(ref_rel, sizeof ref_rel, "tests/expected/frag/%s.datagrams.tsv", name);
	enum { MAXD = 64 };
	static struct seen got[MAXD], want[MAXD];
	struct ipfrag_stats st, st_whole;
	size_t ngot = read_capture(frag_rel, false, got, MAXD, &st);
	size_t nwant = read_capture(whole_rel, true, want, MAXD, &st_whole);

	struct tu_table ref;
	tu_tsv_table(tu_src_path(ref_rel), 10, &ref);
	cr_assert_str_eq(ref.header, "frame\tsrc\tdst\tid\tfragments\tlength\toverlap\tconflict\tstream\ttcp_len");
	cr_assert_eq(ngot, ref.nrows, "%s: %zu datagrams, tshark %zu", name, ngot, ref.nrows);
	cr_assert_eq(ngot, nwant, "%s: %zu datagrams, %zu segments with data", name, ngot, nwant);
	uint64_t overlaps = 0, frags = 0;
	for (size_t i = 0; i < ngot; i++) {
		const struct seen *g = &got[i];
		char row[512];
		snprintf(row, sizeof row, "%u\t%s\t%s\t%u\t%u\t%u\t%s\t0\t0\t%u", g->frame, g->src,
			 g->dst, g->id, g->frags, g->len, tu_cell(&ref, i, 6),
			 g->len - (uint32_t)(g->bytes[12] >> 4) * 4);
		char refrow[512];
		snprintf(refrow, sizeof refrow, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			 tu_cell(&ref, i, 0), tu_cell(&ref, i, 1), tu_cell(&ref, i, 2),
			 tu_cell(&ref, i, 3), tu_cell(&ref, i, 4), tu_cell(&ref, i, 5),
			 tu_cell(&ref, i, 6), tu_cell(&ref, i, 7), tu_cell(&ref, i, 8),
			 tu_cell(&ref, i, 9));
		cr_expect_str_eq(row, refrow, "%s datagram %zu", name, i);
		overlaps += strcmp(tu_cell(&ref, i, 6), "1") == 0;
		frags += g->frags;
		cr_assert_eq(g->len, want[i].len, "%s datagram %zu: length", name, i);
		cr_assert_eq(memcmp(g->bytes, want[i].bytes, g->len), 0,
			     "%s datagram %zu: bytes differ from the unfragmented segment", name, i);
		cr_assert_str_eq(g->src, want[i].src);
		cr_assert_str_eq(g->dst, want[i].dst);
	}
	cr_assert_eq(st.reassembled, ngot);
	cr_assert_eq(st.fragments_reassembled, frags);
	cr_assert_eq(st.fragments_dropped, 0);
	/* tshark flags a datagram; ipfrag counts pieces: the copy overlaps the
	 * fragment before it, and the fragment after it overlaps the copy. */
	cr_assert_eq(st.overlapping, 2 * overlaps, "tshark flags %llu datagrams with overlaps",
		     (unsigned long long)overlaps);
	cr_assert_eq(st.overlap_conflicts, 0);
	for (size_t i = 0; i < ngot; i++)
		free(got[i].bytes);
	for (size_t i = 0; i < nwant; i++)
		free(want[i].bytes);
	tu_table_free(&ref);
}

Test(ipfrag, capture_http_frag_v4_as_tshark_and_unfragmented)
{
	capture_case("http-frag-v4");
}

Test(ipfrag, capture_http_frag_v6_as_tshark_and_unfragmented)
{
	capture_case("http-frag-v6");
}
