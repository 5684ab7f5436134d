/*
 * fuzz_ipfrag.c - libFuzzer target for ipfrag.
 *
 * The input is a 3-byte header (the memory cap, the datagram cap and the
 * timeout, all small so the limits are reached) followed by 8-byte
 * operations: push one piece or expire, after a time step.  A piece is
 * carved from its operation: IP version, one of a few keys (id, context,
 * protocol, source), offset, wire length, how much of it was captured, the
 * MF/M flag and the header length, so most pieces belong to a few
 * datagrams and overlap, duplicate, contradict and complete them.
 *
 * A piece's bytes are a function of its key and each byte's offset, or of
 * their complement when the operation says the piece lies; they are
 * copied into a buffer of exactly the captured size that is freed right
 * after the push, so ASan catches a read past it or a pointer kept.
 *
 * After every operation the target aborts unless every piece pushed is
 * reassembled, dropped or held, the drop reasons add up, memory is within
 * the cap and held datagrams within theirs.  A delivered datagram must
 * have caplen <= len <= 65535, every byte readable, and each byte the
 * key's byte at that offset or, only if a lying piece was pushed, its
 * complement; without lying pieces no overlap may conflict.  After
 * ipfrag_finish() nothing is held or charged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OP_BYTES 8

static uint8_t key_byte(uint32_t key, uint32_t off)
{
	uint32_t h = (key + 1) * 0x9E3779B1u ^ off * 0x85EBCA77u;
	h ^= h >> 15;
	return (uint8_t)(h ^ (h >> 8));
}

static void check(const struct ipfrag *t, const struct ipfrag_config *cfg)
{
	struct ipfrag_stats s = ipfrag_stats(t);
	if (s.fragments != s.fragments_reassembled + s.fragments_dropped + s.fragments_held)
		abort();
	if (s.fragments_dropped != s.dropped_bad + s.dropped_oversize + s.dropped_duplicate +
				   s.dropped_timeout + s.dropped_evicted + s.dropped_cap +
				   s.dropped_nomem + s.dropped_at_end)
		abort();
	if (s.bytes_now > cfg->max_total_bytes || s.bytes_now > s.bytes_peak)
		abort();
	if (s.datagrams_held > cfg->max_datagrams || s.datagrams_held > s.fragments_held)
		abort();
	if (s.reassembled > s.fragments_reassembled)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct ipfrag_config cfg;
	ipfrag_config_defaults(&cfg);
	static const size_t caps[4] = { 512, 4096, 70000, (size_t)16 << 20 };
	cfg.max_total_bytes = caps[data[0] & 3];
	cfg.max_datagrams = 1u + (data[0] >> 2 & 7);
	cfg.timeout = (kl_time)(1 + (data[1] & 15)) * KL_NS_PER_SEC;
	cfg.done_linger = (data[1] & 0x10) ? 0 : KL_NS_PER_SEC;
	bool deep = data[2] & 1;         /* offsets over the whole 16 bits */
	struct ipfrag *t = ipfrag_new(&cfg);
	if (!t)
		return 0;
	data += 3;
	size -= 3;

	kl_time now = (kl_time)1700000000 * KL_NS_PER_SEC;
	bool liars = false;
	uint32_t sum = 0;
	uint8_t addr[2][16] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
	uint8_t dst[16] = { 10, 0, 0, 9 };

	for (; size >= OP_BYTES; data += OP_BYTES, size -= OP_BYTES) {
		const uint8_t *o = data;
		/* o[0]: time step; high bit: seconds, else milliseconds */
		now += (o[0] & 0x80) ? (kl_time)(o[0] & 0x7f) * KL_NS_PER_SEC / 8
				     : (kl_time)o[0] * 1000000;
		/* o[1]: kind (3 bits), key (3 bits: id, context, src), version, lie */
		if ((o[1] & 7) == 7) {
			ipfrag_expire(t, now);
			check(t, &cfg);
			continue;
		}
		uint32_t key = (uint32_t)(o[1] >> 3 & 7);
		bool v6 = o[1] & 0x40;
		bool lie = o[1] & 0x80;
		/* o[2..3]: offset; o[4..5]: wire length; o[6]: captured; o[7]: flags */
		uint32_t off = (uint32_t)o[2] << 8 | o[3];
		off = deep ? off & ~7u : (off & 0x3ff) << 3 & 0xfff8;
		if (o[7] & 0x40)
			off |= o[7] & 7;             /* a misaligned offset, now and then */
		uint32_t wire = (uint32_t)o[4] << 8 | o[5];
		if (!(o[7] & 0x20))
			wire &= 0x7ff;
		if (!(o[7] & 0x10) && wire > 8)
			wire &= ~7u;
		uint32_t cap = wire;
		if (o[6] != 0xff && (o[7] & 0x08))
			cap = wire < o[6] ? wire : o[6];   /* cut by the snaplen */
		if (o[6] == 0xfe)
			cap = wire + 1;             /* a decoder's mistake: must be refused */

		struct ipfrag_piece p;
		memset(&p, 0, sizeof p);
		p.ip_version = (o[7] & 0x80) ? 5 : v6 ? 6 : 4;
		p.proto = key & 1 ? 17 : 6;
		p.header_len = v6 ? (uint16_t)((o[7] & 3) * 8) : (uint16_t)(20 + (o[7] & 3) * 4);
		p.id = key >> 1;
		p.context = key & 4 ? 7 : 0;
		p.src = addr[key & 1];
		p.dst = dst;
		p.offset = off;
		p.more = o[7] & 0x04;
		p.wire_len = wire;
		p.len = cap;
		uint8_t *buf = malloc(cap ? cap : 1);
		if (!buf)
			break;
		for (uint32_t i = 0; i < cap; i++)
			buf[i] = (uint8_t)(key_byte(key, off + i) ^ (lie ? 0xff : 0));
		p.data = cap ? buf : NULL;
		if (lie && cap <= wire)
			liars = true;

		struct ipfrag_datagram out;
		memset(&out, 0xa5, sizeof out);
		enum ipfrag_result r = ipfrag_push(t, &p, now, &out);
		if (r == IPFRAG_DONE) {
			if (out.caplen > out.len || out.len > IPFRAG_MAX_PAYLOAD || out.len == 0)
				abort();
			if (out.ip_version != 4 && out.ip_version != 6)
				abort();
			if (out.fragments == 0)
				abort();
			if (out.proto != p.proto || out.ip_version != p.ip_version)
				abort();             /* another key's datagram */
			for (uint32_t i = 0; i < out.caplen; i++) {
				uint8_t want = key_byte(key, i);
				sum += out.data[i];
				if (out.data[i] != want && (!liars || out.data[i] != (uint8_t)~want))
					abort();
			}
		} else if (r != IPFRAG_HELD && r != IPFRAG_DROPPED) {
			abort();
		}
		free(buf);
		check(t, &cfg);
		if (!liars && ipfrag_stats(t).overlap_conflicts != 0)
			abort();
	}

	uint64_t held = ipfrag_stats(t).fragments_held;
	if (ipfrag_finish(t) != held)
		abort();
	check(t, &cfg);
	struct ipfrag_stats s = ipfrag_stats(t);
	if (s.fragments_held != 0 || s.bytes_now != 0 || s.datagrams_held != 0)
		abort();
	ipfrag_free(t);
	volatile uint32_t keep = sum;
	(void)keep;
	return 0;
}
