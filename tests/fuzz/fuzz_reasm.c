/*
 * fuzz_reasm.c - libFuzzer target for tcp_reasm.
 *
 * The input is a 9-byte header (the two directions' starting sequence
 * numbers and the pool caps) followed by 8-byte operations, each one
 * segment: direction, flags, a sequence delta from where that direction's
 * sender stands, an ACK delta from where the other one stands, a length and
 * how much of it was captured.  Payload bytes are taken from the input and
 * copied into a buffer of exactly `caplen` bytes that is freed right after
 * the push, so ASan catches a read past the captured bytes or a borrowed
 * pointer kept beyond the call.
 *
 * The sink aborts unless data and gaps tile each direction from offset 0
 * (no overlap, no hole, no empty callback) and nothing follows eof.  After
 * every push the statistics must agree with the sink and the memory must
 * stay within the caps; after tcp_reasm_finish() both directions have had
 * their eof and nothing is buffered.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tcp_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_dir {
	uint64_t end;                 /* where the next data or gap must start */
	uint64_t data_bytes, gap_bytes;
	bool eof;
};

struct fz {
	struct fz_dir d[2];
	uint32_t sum;                 /* keeps the byte reads alive */
};

static struct fz_dir *fz_dir_of(struct fz *f, enum kl_dir dir)
{
	if (dir != KL_TO_SERVER && dir != KL_TO_CLIENT)
		abort();
	return &f->d[dir];
}

static void fz_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
		    kl_time ts)
{
	struct fz *f = ctx;
	struct fz_dir *d = fz_dir_of(f, dir);
	(void)ts;
	if (d->eof || n == 0 || p == NULL || off != d->end)
		abort();
	for (size_t i = 0; i < n; i++)     /* every byte must be readable */
		f->sum += p[i];
	d->end = off + n;
	d->data_bytes += n;
}

static void fz_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct fz *f = ctx;
	struct fz_dir *d = fz_dir_of(f, dir);
	(void)ts;
	if (d->eof || len == 0 || off != d->end)
		abort();
	d->end = off + len;
	d->gap_bytes += len;
}

static void fz_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	struct fz *f = ctx;
	struct fz_dir *d = fz_dir_of(f, dir);
	(void)ts;
	if (d->eof)
		abort();
	d->eof = true;
}

static const struct tcp_reasm_sink FZ_SINK = { fz_data, fz_gap, fz_eof };

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check(const struct tcp_reasm *r, const struct tcp_reasm_pool *pool,
		  const struct fz *f, uint64_t per_conn, uint64_t global)
{
	struct tcp_reasm_pool_stats ps = tcp_reasm_pool_stats(pool);
	uint64_t held = 0;
	for (int i = 0; i < 2; i++) {
		struct tcp_reasm_half_stats hs = tcp_reasm_half_stats(r, (enum kl_dir)i);
		if (hs.delivered_bytes != f->d[i].data_bytes || hs.gap_bytes != f->d[i].gap_bytes)
			abort();
		held += hs.ooo_bytes;
	}
	if (held != ps.bytes_buffered || held > per_conn || ps.bytes_buffered > global ||
	    ps.bytes_buffered_peak > global)
		abort();
}

static const uint8_t FLAG_BITS[5] = { KL_TCP_SYN, KL_TCP_FIN, KL_TCP_RST, KL_TCP_ACK,
				      KL_TCP_PSH };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	uint32_t cursor[2] = { rd32(data), rd32(data + 4) };  /* next seq per sender */
	uint64_t per_conn = 64 + (uint64_t)(data[8] & 0x0F) * 256;
	uint64_t global = 64 + (uint64_t)(data[8] >> 4) * 256;
	const uint8_t *ops = data + 9;
	size_t nops = (size - 9) / 8;

	struct tcp_reasm_pool *pool = tcp_reasm_pool_new((size_t)per_conn, (size_t)global);
	if (!pool)
		return 0;
	struct fz f;
	memset(&f, 0, sizeof f);
	struct tcp_reasm r;
	tcp_reasm_init(&r, pool, &FZ_SINK, &f);

	size_t pay = 0;                   /* where payload bytes are taken from */
	kl_time ts = 0;
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *op = ops + 8 * i;
		if ((op[0] & 0xC0) == 0xC0) {
			/* Swap the roles, allowed only before any byte was
			 * delivered; the sink's view moves with them. */
			if (f.d[0].data_bytes + f.d[0].gap_bytes + f.d[1].data_bytes +
			    f.d[1].gap_bytes == 0) {
				tcp_reasm_swap(&r);
				struct fz_dir t = f.d[0];
				f.d[0] = f.d[1];
				f.d[1] = t;
				uint32_t c = cursor[0];
				cursor[0] = cursor[1];
				cursor[1] = c;
				check(&r, pool, &f, per_conn, global);
			}
			continue;
		}
		enum kl_dir dir = (enum kl_dir)(op[0] & 1);
		uint8_t flags = 0;
		for (unsigned b = 0; b < 5; b++)
			if (op[0] & (2u << b))
				flags |= FLAG_BITS[b];
		int32_t sdelta = (int16_t)(uint16_t)((unsigned)op[1] << 8 | op[2]);
		int32_t adelta = (int16_t)(uint16_t)((unsigned)op[3] << 8 | op[4]);
		if (op[0] & 0x40)                 /* far jumps: wrap, MAX_JUMP */
			sdelta *= 65536;
		uint32_t len = (uint32_t)op[5] | (uint32_t)(op[6] & 0xF0) << 4;
		uint32_t cut = op[6] & 0x0F;
		uint32_t caplen = cut ? len * (16 - cut) / 16 : len;
		bool stay = (op[7] & 1) != 0;

		struct tcp_seg seg;
		seg.seq = cursor[dir] + (uint32_t)sdelta;
		seg.ack = cursor[dir ^ 1] + (uint32_t)adelta;
		seg.flags = flags;
		seg.len = len;
		seg.caplen = caplen;
		uint8_t *payload = malloc(caplen ? caplen : 1);
		if (!payload)
			break;
		for (uint32_t k = 0; k < caplen; k++) {
			payload[k] = data[pay % size];
			pay++;
		}
		seg.payload = payload;
		tcp_reasm_push(&r, dir, &seg, ts);
		free(payload);
		ts += 1000;
		check(&r, pool, &f, per_conn, global);
		if (!stay)
			cursor[dir] = seg.seq + len + ((flags & (KL_TCP_SYN | KL_TCP_FIN)) ? 1u : 0u);
	}

	tcp_reasm_finish(&r, ts);
	check(&r, pool, &f, per_conn, global);
	if (!f.d[0].eof || !f.d[1].eof)
		abort();
	if (tcp_reasm_pool_stats(pool).bytes_buffered != 0)
		abort();
	tcp_reasm_release(&r);            /* harmless after finish */
	tcp_reasm_pool_free(pool);
	return 0;
}
