/*
 * fuzz_flow.c - libFuzzer target for the packet path after capture:
 * decode -> flow table -> reassembly -> dissectors (every registered one,
 * stacked by the flow layer: CONNECT, SOCKS, STARTTLS, h2c, TLS plaintext)
 * -> keep-alive analysis, on a stream of raw-IP frames.
 *
 * Input: records of [2-byte length][1-byte time step][frame bytes], with
 * DLT_RAW frames (IPv4 or IPv6, first nibble), so the fuzzer can build
 * handshakes, port reuse, closes and interleaved connections directly.
 * Small caps make eviction, idle expiry and reassembly caps reachable.
 * The key logs of captures/generated/ (and stack/, tlsclose/) are loaded once, so seeds made from
 * those HTTPS captures reach TLS decryption (and mutations of them, its
 * failures).
 * Every connection record must be self-consistent, every request and
 * finding well formed (strings are read whole, so ASan sees a bad one);
 * ASan/UBSan catch the rest.
 */
#include <dirent.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "dissect.h"
#include "flow.h"
#include "http_facts.h"
#include "keepalive.h"
#include "tls_keylog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tls_keylog *fz_keylog;

/* Every captures/generated/ *.keylog in one temporary key log. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	static const char *const dirs[] = { KALENS_SOURCE_DIR "/captures/generated",
					     KALENS_SOURCE_DIR "/captures/generated/stack",
					     KALENS_SOURCE_DIR "/captures/generated/tlsclose" };
	char tmp[] = "/tmp/fuzz_flow.keylog.XXXXXX";
	int fd = mkstemp(tmp);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out)
		abort();
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		const char *dir = dirs[i];
		DIR *d = opendir(dir);
		if (!d)
			abort();
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t n = strlen(e->d_name);
			if (n < 8 || strcmp(e->d_name + n - 7, ".keylog"))
				continue;
			char path[4096], line[1024];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			FILE *in = fopen(path, "r");
			while (in && fgets(line, sizeof line, in))
				fputs(line, out);
			if (in)
				fclose(in);
		}
		closedir(d);
	}
	fclose(out);
	char err[256];
	fz_keylog = tls_keylog_read(tmp, err, sizeof err);
	remove(tmp);
	if (!fz_keylog)
		abort();
	return 0;
}

static volatile size_t fz_sink;

struct fz {
	int64_t next_id;
	struct keepalive_config ka;
	struct dissect_output out;
};

static void touch(const char *s)
{
	if (s)
		fz_sink += strlen(s);
}

static void on_request(void *ctx, const struct request_record *r)
{
	struct fz *f = ctx;
	if (r->conn_id < 1 || r->conn_id >= f->next_id || r->seq < 1 ||
	    (r->status && (r->status < 100 || r->status > 999)) || r->request_body_bytes < -1 ||
	    r->response_body_bytes < -1 || (r->has_idle_before && r->idle_before < 0))
		abort();
	touch(r->method);
	touch(r->uri);
	touch(r->host);
	touch(r->version);
	touch(r->req_connection);
	touch(r->req_keep_alive);
	touch(r->req_proxy_connection);
	touch(r->resp_connection);
	touch(r->resp_keep_alive);
	touch(r->upgrade);
}

static void on_finding(void *ctx, const struct finding_record *fr)
{
	struct fz *f = ctx;
	if (!finding_kind_name(fr->kind) || fr->conn_id >= f->next_id)
		abort();
	touch(fr->detail);
}

static int64_t on_conn_id(void *ctx)
{
	struct fz *f = ctx;
	return f->next_id++;
}

static void on_done(void *ctx, const struct conn_record *rec)
{
	struct fz *f = ctx;
	if (rec->close_kind > CONN_CLOSE_EVICTED || rec->last_seen < rec->first_seen ||
	    (rec->packets[0] == 0 && rec->packets[1] == 0) ||
	    rec->one_sided != (rec->packets[0] == 0 || rec->packets[1] == 0) ||
	    !rec->protocol || (rec->has_handshake_rtt && rec->handshake_rtt < 0) ||
	    strnlen(rec->stack, sizeof rec->stack) == sizeof rec->stack)
		abort();
	struct conn_record r = *rec;
	keepalive_conn_done(&f->ka, &r, &f->out);
	const struct http_facts *h = http_facts_of(&r);
	if (h && (h->responses > h->requests + 1000000 || (h->has_reuse_saved && h->reuse_saved < 0)))
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
	cfg.head_limit = 1024;
	/* Small enough that a TLS connection's buffers or a few HTTP ones
	 * pass it: evictions for memory run on every input that has them. */
	cfg.memcap = 96u << 10;
	cfg.dissectors = dissect_builtin();
	cfg.keylog = fz_keylog;
	struct fz f = { .next_id = 1 };
	keepalive_config_defaults(&f.ka);
	f.out = (struct dissect_output){ on_request, on_finding, &f };
	struct flow_hooks hooks = { on_done, on_conn_id, &f, &f.out };
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
		if (decode_packet(DLT_RAW, frame, (uint32_t)len, &d) == DECODE_TCP) {
			flow_table_packet(ft, &d, ts);
			/* Within the cap after every packet, unless nothing is
			 * left to evict but the index. */
			struct flow_stats st = flow_table_stats(ft);
			if (st.memory > cfg.memcap && st.conns_open > 0)
				abort();
		}
		free(frame);
		pos += len;
	}
	flow_table_flush(ft);
	flow_table_free(ft);
	return 0;
}
