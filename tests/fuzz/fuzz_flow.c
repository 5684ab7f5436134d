/*
 * fuzz_flow.c - libFuzzer target for the packet path after capture:
 * decode -> flow table -> reassembly, on a stream of raw-IP frames.
 *
 * Input: records of [2-byte length][1-byte time step][frame bytes], with
 * DLT_RAW frames (IPv4 or IPv6, first nibble), so the fuzzer can build
 * handshakes, port reuse, closes and interleaved connections directly.
 * Small caps make eviction, idle expiry and reassembly caps reachable.
 * Every connection record must be self-consistent; ASan/UBSan catch the
 * rest.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	if (r->close_kind > CONN_CLOSE_IDLE || r->last_seen < r->first_seen ||
	    (r->packets[0] == 0 && r->packets[1] == 0) ||
	    r->one_sided != (r->packets[0] == 0 || r->packets[1] == 0) ||
	    !r->protocol || (r->has_handshake_rtt && r->handshake_rtt < 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.max_conns = 8;
	cfg.idle_timeout = 5 * KL_NS_PER_SEC;
	cfg.closed_linger = KL_NS_PER_SEC;
	cfg.reasm_conn_cap = 2048;
	cfg.reasm_global_cap = 8192;
	struct flow_hooks hooks = { .conn_done = on_done };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	if (!ft)
		return 0;

	kl_time ts = (kl_time)1700000000 * KL_NS_PER_SEC;
	size_t pos = 0;
	while (pos + 3 <= size) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		ts += (kl_time)data[pos + 2] * (KL_NS_PER_SEC / 8);
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		/* An exact-size copy, so ASan sees any read past the frame. */
		uint8_t *frame = malloc(len ? len : 1);
		if (!frame)
			break;
		memcpy(frame, data + pos, len);
		struct decode_tcp d;
		if (decode_packet(DLT_RAW, frame, (uint32_t)len, &d) == DECODE_TCP)
			flow_table_packet(ft, &d, ts);
		free(frame);
		pos += len;
	}
	flow_table_flush(ft);
	flow_table_free(ft);
	return 0;
}
