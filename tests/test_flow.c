/*
 * test_flow.c - the connection table on synthetic segments: roles,
 * handshake RTT, who closed, port reuse, idle expiry, the connection cap,
 * and the dissector hand-off (probe, replay of probed bytes, events).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

#include "flow.h"
#include "keepalive.h"

#define MS(x) ((kl_time)(x) * 1000000)
#define T0 ((kl_time)1700000000 * KL_NS_PER_SEC)

struct rec_log {
	struct conn_record r[64];
	int n;
};

static void on_done(void *ctx, const struct conn_record *rec)
{
	struct rec_log *log = ctx;
	cr_assert_lt(log->n, 64);
	log->r[log->n++] = *rec;
}

struct endpoint {
	uint8_t ip[16];
	uint16_t port;
};

static const struct endpoint CLI = { { 10, 0, 0, 1 }, 40000 };
static const struct endpoint SRV = { { 10, 0, 0, 2 }, 80 };

static struct decode_tcp seg(const struct endpoint *from, const struct endpoint *to,
			     uint8_t flags, uint32_t seq, uint32_t ack, const char *payload)
{
	struct decode_tcp d;
	memset(&d, 0, sizeof d);
	d.ip_version = 4;
	memcpy(d.src, from->ip, 16);
	memcpy(d.dst, to->ip, 16);
	d.sport = from->port;
	d.dport = to->port;
	d.flags = flags;
	d.seq = seq;
	d.ack = ack;
	d.payload = (const uint8_t *)(payload ? payload : "");
	d.payload_caplen = d.payload_len = (uint32_t)(payload ? strlen(payload) : 0);
	return d;
}

static struct flow_table *table(struct rec_log *log, struct flow_config *cfg)
{
	struct flow_config def;
	if (!cfg) {
		flow_config_defaults(&def);
		cfg = &def;
	}
	struct flow_hooks hooks = { .conn_done = on_done, .ctx = log };
	char err[128];
	struct flow_table *ft = flow_table_new(cfg, &hooks, err, sizeof err);
	cr_assert_not_null(ft, "%s", err);
	return ft;
}

/* A whole connection: handshake, one exchange, close by `closer`. */
static void conversation(struct flow_table *ft, kl_time t, bool client_closes, uint32_t isn)
{
	const struct endpoint *c = &CLI, *s = &SRV;
	struct decode_tcp d;
	d = seg(c, s, KL_TCP_SYN, isn, 0, NULL);                       flow_table_packet(ft, &d, t);
	d = seg(s, c, KL_TCP_SYN | KL_TCP_ACK, 5000, isn + 1, NULL);   flow_table_packet(ft, &d, t + MS(10));
	d = seg(c, s, KL_TCP_ACK, isn + 1, 5001, NULL);                flow_table_packet(ft, &d, t + MS(20));
	d = seg(c, s, KL_TCP_ACK | KL_TCP_PSH, isn + 1, 5001, "GET / HTTP/1.1\r\n\r\n");
	flow_table_packet(ft, &d, t + MS(21));
	d = seg(s, c, KL_TCP_ACK | KL_TCP_PSH, 5001, isn + 19, "HTTP/1.1 200 OK\r\n\r\n");
	flow_table_packet(ft, &d, t + MS(30));
	const struct endpoint *a = client_closes ? c : s, *b = client_closes ? s : c;
	uint32_t aseq = client_closes ? isn + 19 : 5020, bseq = client_closes ? 5020 : isn + 19;
	d = seg(a, b, KL_TCP_FIN | KL_TCP_ACK, aseq, bseq, NULL);      flow_table_packet(ft, &d, t + MS(40));
	d = seg(b, a, KL_TCP_FIN | KL_TCP_ACK, bseq, aseq + 1, NULL);  flow_table_packet(ft, &d, t + MS(50));
	d = seg(a, b, KL_TCP_ACK, aseq + 1, bseq + 1, NULL);           flow_table_packet(ft, &d, t + MS(60));
}

Test(flow, handshake_roles_rtt_and_close)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	conversation(ft, T0, false, 1000);
	cr_assert_eq(log.n, 0, "a closed connection lingers for trailing packets");
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	const struct conn_record *r = &log.r[0];
	cr_assert_eq(r->client_port, 40000);
	cr_assert_eq(r->server_port, 80);
	cr_assert(memcmp(r->client_ip, CLI.ip, 16) == 0);
	cr_assert(r->syn_seen);
	cr_assert(r->has_handshake_rtt);
	cr_assert_eq(r->handshake_rtt, MS(20));
	cr_assert_eq(r->close_initiator, CONN_CLOSER_SERVER);
	cr_assert_eq(r->close_kind, CONN_CLOSE_FIN);
	cr_assert_eq(r->close_ts, T0 + MS(40));
	/* client: SYN, ACK, request, FIN; server: SYN-ACK, response, FIN, ACK */
	cr_assert_eq(r->packets[KL_TO_SERVER], 4);
	cr_assert_eq(r->packets[KL_TO_CLIENT], 4);
	cr_assert_eq(r->bytes[KL_TO_SERVER], 18);
	cr_assert_eq(r->bytes[KL_TO_CLIENT], 19);
	cr_assert_eq(r->gap_bytes, 0);
	cr_assert_eq(r->first_seen, T0);
	cr_assert_eq(r->last_seen, T0 + MS(60));
	cr_assert_str_eq(r->protocol, "unknown");
	cr_assert_not(r->one_sided);
	flow_table_free(ft);
}

Test(flow, closed_connection_ends_after_linger)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	conversation(ft, T0, true, 1000);
	/* An unrelated packet 11 s later moves time past the 10 s linger. */
	struct endpoint other = { { 10, 0, 0, 9 }, 5555 };
	struct decode_tcp d = seg(&other, &SRV, KL_TCP_SYN, 1, 0, NULL);
	flow_table_packet(ft, &d, T0 + MS(11100));
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].close_initiator, CONN_CLOSER_CLIENT);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.r[1].close_kind, CONN_CLOSE_OPEN);
	cr_assert_eq(log.r[1].client_port, 5555);
	cr_assert(log.r[1].one_sided);
	flow_table_free(ft);
}

Test(flow, new_syn_on_closed_tuple_is_port_reuse)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	conversation(ft, T0, true, 1000);
	conversation(ft, T0 + MS(500), false, 900000);
	cr_assert_eq(log.n, 1, "the second SYN ended the first connection");
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.r[0].close_initiator, CONN_CLOSER_CLIENT);
	cr_assert_eq(log.r[1].close_initiator, CONN_CLOSER_SERVER);
	cr_assert_eq(log.r[1].first_seen, T0 + MS(500));
	cr_assert_eq(flow_table_stats(ft).conns_port_reused, 1);
	flow_table_free(ft);
}

Test(flow, retransmitted_syn_stays_in_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 77, 0, NULL);
	flow_table_packet(ft, &d, T0);
	flow_table_packet(ft, &d, T0 + MS(1000));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].packets[KL_TO_SERVER], 2);
	cr_assert(log.r[0].syn_seen);
	cr_assert_not(log.r[0].has_handshake_rtt);
	flow_table_free(ft);
}

Test(flow, handshake_rtt_runs_from_the_answered_syn)
{
	/* SYN at 0, retransmitted at 1 s, SYN-ACK at 1.010 s, ACK at 1.011 s:
	 * the RTT sample is 11 ms, from the SYN that was answered (Wireshark's
	 * iRTT; the 1 s before it is the retransmission timeout, not RTT). */
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 77, 0, NULL);
	flow_table_packet(ft, &d, T0);
	flow_table_packet(ft, &d, T0 + MS(1000));
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 500, 78, NULL);
	flow_table_packet(ft, &d, T0 + MS(1010));
	d = seg(&CLI, &SRV, KL_TCP_ACK, 78, 501, NULL);
	flow_table_packet(ft, &d, T0 + MS(1011));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert(log.r[0].has_handshake_rtt);
	cr_assert_eq(log.r[0].handshake_rtt, MS(11));
	flow_table_free(ft);
}

Test(flow, syn_captured_after_its_syn_ack_is_one_connection)
{
	/* Capture reordering: the SYN-ACK is recorded before the SYN. */
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	struct decode_tcp d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 500, 78, NULL);
	flow_table_packet(ft, &d, T0);
	d = seg(&CLI, &SRV, KL_TCP_SYN, 77, 0, NULL);
	flow_table_packet(ft, &d, T0 + MS(1));
	d = seg(&CLI, &SRV, KL_TCP_ACK, 78, 501, NULL);
	flow_table_packet(ft, &d, T0 + MS(3));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].client_port, CLI.port);
	cr_assert(log.r[0].syn_seen);
	cr_assert_eq(log.r[0].packets[KL_TO_SERVER], 2);
	cr_assert_eq(log.r[0].packets[KL_TO_CLIENT], 1);
	cr_assert(log.r[0].has_handshake_rtt);
	cr_assert_eq(log.r[0].handshake_rtt, MS(2));
	flow_table_free(ft);
}

Test(flow, roles_without_syn)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	/* Picked up mid-stream: the first packet comes from the server (port
	 * 80); the lower port is the server. */
	struct decode_tcp d = seg(&SRV, &CLI, KL_TCP_ACK, 5, 9, "data");
	flow_table_packet(ft, &d, T0);
	/* A SYN-ACK names the server even on a high port. */
	struct endpoint hi_srv = { { 10, 0, 0, 3 }, 50000 }, lo_cli = { { 10, 0, 0, 4 }, 1000 };
	d = seg(&hi_srv, &lo_cli, KL_TCP_SYN | KL_TCP_ACK, 5, 9, NULL);
	flow_table_packet(ft, &d, T0 + 1);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.r[0].server_port, 80);
	cr_assert_not(log.r[0].syn_seen);
	cr_assert_eq(log.r[0].bytes[KL_TO_CLIENT], 4);
	cr_assert_eq(log.r[1].server_port, 50000);
	cr_assert_eq(log.r[1].client_port, 1000);
	flow_table_free(ft);
}

Test(flow, idle_timeout_ends_open_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.idle_timeout = 60 * KL_NS_PER_SEC;
	struct flow_table *ft = table(&log, &cfg);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 1, 0, NULL);
	flow_table_packet(ft, &d, T0);
	flow_table_expire(ft, T0 + 59 * KL_NS_PER_SEC);
	cr_assert_eq(log.n, 0);
	flow_table_expire(ft, T0 + 60 * KL_NS_PER_SEC);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].close_kind, CONN_CLOSE_IDLE);
	cr_assert_eq(log.r[0].close_initiator, CONN_CLOSER_NONE);
	flow_table_free(ft);
}

Test(flow, connection_cap_evicts_least_recent)
{
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.max_conns = 3;
	struct flow_table *ft = table(&log, &cfg);
	for (uint16_t i = 0; i < 5; i++) {
		struct endpoint c = CLI;
		c.port = (uint16_t)(40000 + i);
		struct decode_tcp d = seg(&c, &SRV, KL_TCP_SYN, 1, 0, NULL);
		flow_table_packet(ft, &d, T0 + i);
	}
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.r[0].client_port, 40000);
	cr_assert_eq(log.r[1].client_port, 40001);
	struct flow_stats st = flow_table_stats(ft);
	cr_assert_eq(st.conns_evicted, 2);
	cr_assert_eq(st.conns_open, 3);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 5);
	flow_table_free(ft);
}

Test(flow, many_connections_and_removals)
{
	/* Enough connections to grow the table several times, ended in an
	 * interleaved order so that backward-shift deletion is exercised. */
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.closed_linger = 0;
	struct flow_hooks hooks = { .conn_done = NULL };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	(void)log;
	for (uint32_t i = 0; i < 20000; i++) {
		struct endpoint c = CLI;
		c.ip[2] = (uint8_t)(i >> 8);
		c.ip[3] = (uint8_t)i;
		struct decode_tcp d = seg(&c, &SRV, KL_TCP_SYN, i, 0, NULL);
		flow_table_packet(ft, &d, T0);
		if (i % 3 == 0) {
			d = seg(&c, &SRV, KL_TCP_RST, i + 1, 0, NULL);
			flow_table_packet(ft, &d, T0);
		}
	}
	struct flow_stats st = flow_table_stats(ft);
	cr_assert_eq(st.conns_total, 20000);
	/* Every surviving connection is still found: a packet on it does not
	 * create another.  (The reset ones end at the first expiry pass, as
	 * their linger is 0, so they are left out.) */
	for (uint32_t i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			continue;
		struct endpoint c = CLI;
		c.ip[2] = (uint8_t)(i >> 8);
		c.ip[3] = (uint8_t)i;
		struct decode_tcp d = seg(&SRV, &c, KL_TCP_ACK, 9, i + 1, NULL);
		flow_table_packet(ft, &d, T0 + MS(1500));
	}
	st = flow_table_stats(ft);
	cr_assert_eq(st.conns_total, 20000, "lookups after deletions find every connection");
	flow_table_free(ft);
}

/* ---- a recording dissector ------------------------------------------------ */

struct rec_dis {
	char bytes[2][256];
	size_t n[2];
	int gaps, eofs;
};

static struct rec_dis *last_ctx;
static int freed;

static enum dissect_verdict rec_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	(void)dir;
	static const char magic[] = "HELLO";
	size_t m = n < 5 ? n : 5;
	if (memcmp(p, magic, m) != 0)
		return DISSECT_NO;
	return n >= 5 ? DISSECT_YES : DISSECT_MORE;
}

static void *rec_new(const struct dissect_conn_info *info)
{
	cr_assert_eq(info->server_port, 80);
	last_ctx = calloc(1, sizeof *last_ctx);
	return last_ctx;
}

static void rec_free(void *ctx)
{
	freed++;
	free(ctx);
}

static void rec_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off, kl_time ts)
{
	struct rec_dis *r = ctx;
	(void)ts;
	cr_assert_eq(off, r->n[dir], "data arrives in order without holes");
	cr_assert_lt(r->n[dir] + n, sizeof r->bytes[dir]);
	memcpy(r->bytes[dir] + r->n[dir], p, n);
	r->n[dir] += n;
}

static void rec_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct rec_dis *r = ctx;
	(void)dir, (void)off, (void)len, (void)ts;
	r->gaps++;
}

static void rec_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	struct rec_dis *r = ctx;
	(void)dir, (void)ts;
	r->eofs++;
}

static const char *rec_protocol(const void *ctx)
{
	(void)ctx;
	return "hello/1";
}

static const struct dissector rec_dissector = {
	"hello", rec_probe, rec_new, rec_free, rec_data, rec_gap, rec_eof, rec_protocol, NULL, NULL,
};

Test(flow, dissector_claims_after_split_probe_and_sees_everything)
{
	static const struct dissector *const list[] = { &rec_dissector, NULL };
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.dissectors = list;
	struct flow_table *ft = table(&log, &cfg);
	freed = 0;
	struct decode_tcp d;
	d = seg(&CLI, &SRV, KL_TCP_SYN, 100, 0, NULL);                 flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 700, 101, NULL);  flow_table_packet(ft, &d, T0 + 1);
	/* "HELLO world" typed in pieces: the probe needs more after "HE". */
	d = seg(&CLI, &SRV, KL_TCP_ACK, 101, 701, "HE");               flow_table_packet(ft, &d, T0 + 2);
	d = seg(&CLI, &SRV, KL_TCP_ACK, 103, 701, "LLO world");        flow_table_packet(ft, &d, T0 + 3);
	d = seg(&SRV, &CLI, KL_TCP_ACK, 701, 112, "hi");               flow_table_packet(ft, &d, T0 + 4);
	cr_assert_not_null(last_ctx);
	cr_assert_eq(last_ctx->n[KL_TO_SERVER], 11);
	cr_assert(memcmp(last_ctx->bytes[KL_TO_SERVER], "HELLO world", 11) == 0);
	cr_assert(memcmp(last_ctx->bytes[KL_TO_CLIENT], "hi", 2) == 0);
	flow_table_flush(ft);
	cr_assert_eq(freed, 1);
	cr_assert_eq(log.n, 1);
	cr_assert_str_eq(log.r[0].protocol, "hello/1");
	flow_table_free(ft);
}

Test(flow, unclaimed_connection_stays_unknown)
{
	static const struct dissector *const list[] = { &rec_dissector, NULL };
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.dissectors = list;
	struct flow_table *ft = table(&log, &cfg);
	freed = 0;
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_ACK, 1, 1, "SSH-2.0-OpenSSH");
	flow_table_packet(ft, &d, T0);
	flow_table_flush(ft);
	cr_assert_eq(freed, 0);
	cr_assert_str_eq(log.r[0].protocol, "unknown");
	flow_table_free(ft);
}

Test(flow, ipv6_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	struct endpoint c6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 51000 };
	struct endpoint s6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 443 };
	struct decode_tcp d = seg(&c6, &s6, KL_TCP_SYN, 1, 0, NULL);
	d.ip_version = 6;
	flow_table_packet(ft, &d, T0);
	d = seg(&s6, &c6, KL_TCP_RST | KL_TCP_ACK, 0, 2, NULL);
	d.ip_version = 6;
	flow_table_packet(ft, &d, T0 + 5);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].ip_version, 6);
	cr_assert_eq(log.r[0].close_kind, CONN_CLOSE_RST);
	cr_assert_eq(log.r[0].close_initiator, CONN_CLOSER_SERVER);
	cr_assert(memcmp(log.r[0].server_ip, s6.ip, 16) == 0);
	flow_table_free(ft);
}

Test(flow, a_connection_gets_its_stream_with_its_first_payload_fin_or_rst)
{
	/* A handshake and bare ACKs make no stream (a SYN flood, a scan, an
	 * idle keep-alive cost only the connection); the first payload does,
	 * and it starts where the handshake said, and so do a bare FIN or an
	 * RST (a FIN after lost bytes is a gap). */
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	struct decode_tcp d;
	d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL);                  flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 5000, 1001, NULL);  flow_table_packet(ft, &d, T0 + MS(1));
	d = seg(&CLI, &SRV, KL_TCP_ACK, 1001, 5001, NULL);               flow_table_packet(ft, &d, T0 + MS(2));
	cr_assert_eq(flow_table_stats(ft).streams, 0);
	/* Data one byte after the handshake's end: a 1-byte gap, then it. */
	d = seg(&CLI, &SRV, KL_TCP_ACK | KL_TCP_PSH, 1002, 5001, "abc");  flow_table_packet(ft, &d, T0 + MS(3));
	cr_assert_eq(flow_table_stats(ft).streams, 1);
	const struct endpoint other = { { 10, 0, 0, 3 }, 40001 };
	d = seg(&other, &SRV, KL_TCP_SYN, 7000, 0, NULL);                flow_table_packet(ft, &d, T0 + MS(4));
	d = seg(&SRV, &other, KL_TCP_SYN | KL_TCP_ACK, 9000, 7001, NULL); flow_table_packet(ft, &d, T0 + MS(5));
	cr_assert_eq(flow_table_stats(ft).streams, 1);
	d = seg(&other, &SRV, KL_TCP_FIN | KL_TCP_ACK, 7011, 9001, NULL); flow_table_packet(ft, &d, T0 + MS(6));
	cr_assert_eq(flow_table_stats(ft).streams, 2);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	for (int i = 0; i < 2; i++) {
		const struct conn_record *r = &log.r[i];
		cr_assert_eq(r->gap_bytes, r->client_port == 40000 ? 1 : 10,
			     "port %u: gap %" PRIu64, r->client_port, r->gap_bytes);
	}
	flow_table_free(ft);
}

Test(flow, attempt_only_when_every_packet_was_the_clients_syn)
{
	/* A SYN and its retransmission, nothing back: an attempt.  A SYN
	 * answered by an RST, a SYN-ACK, or followed by the client's ACK is a
	 * connection. */
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, NULL);
	const struct endpoint c2 = { { 10, 0, 0, 3 }, 40002 }, c3 = { { 10, 0, 0, 4 }, 40003 },
			      c4 = { { 10, 0, 0, 5 }, 40004 };
	struct decode_tcp d;
	d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL);                 flow_table_packet(ft, &d, T0);
	d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL);                 flow_table_packet(ft, &d, T0 + MS(1000));
	d = seg(&c2, &SRV, KL_TCP_SYN, 2000, 0, NULL);                  flow_table_packet(ft, &d, T0 + MS(1));
	d = seg(&SRV, &c2, KL_TCP_RST | KL_TCP_ACK, 0, 2001, NULL);     flow_table_packet(ft, &d, T0 + MS(2));
	d = seg(&c3, &SRV, KL_TCP_SYN, 3000, 0, NULL);                  flow_table_packet(ft, &d, T0 + MS(3));
	d = seg(&SRV, &c3, KL_TCP_SYN | KL_TCP_ACK, 7000, 3001, NULL);  flow_table_packet(ft, &d, T0 + MS(4));
	d = seg(&c4, &SRV, KL_TCP_SYN, 4000, 0, NULL);                  flow_table_packet(ft, &d, T0 + MS(5));
	d = seg(&c4, &SRV, KL_TCP_ACK, 4001, 9001, NULL);               flow_table_packet(ft, &d, T0 + MS(6));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 4);
	for (int i = 0; i < log.n; i++) {
		const struct conn_record *r = &log.r[i];
		bool want = r->client_port == 40000;
		cr_expect_eq(r->attempt_only, want, "port %u: attempt_only %d", r->client_port,
			     r->attempt_only);
		if (want)
			cr_expect_eq(r->packets[KL_TO_SERVER], 2);
	}
	flow_table_free(ft);
}

struct kind_count {
	uint64_t n, evicted;
};

static void count_done(void *ctx, const struct conn_record *rec)
{
	struct kind_count *k = ctx;
	k->n++;
	k->evicted += rec->close_kind == CONN_CLOSE_EVICTED;
}

Test(flow, memcap_evicts_connections_and_holds_the_state_under_it)
{
	/* 5000 connections, each a handshake and a request head, none
	 * closed: about 3 MB of state under a 1 MiB cap.  After every packet
	 * the state is within the cap; every connection is still reported,
	 * the evicted ones as such, most recent ones kept. */
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.memcap = 1u << 20;
	cfg.dissectors = dissect_builtin();
	struct kind_count k = { 0, 0 };
	struct flow_hooks hooks = { .conn_done = count_done, .ctx = &k };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(ft, "%s", err);
	for (uint32_t i = 0; i < 5000; i++) {
		struct endpoint c = { { 10, 1, (uint8_t)(i >> 8), (uint8_t)i }, (uint16_t)(1024 + i) };
		kl_time t = T0 + MS(i);
		struct decode_tcp d;
		d = seg(&c, &SRV, KL_TCP_SYN, 1000, 0, NULL);                 flow_table_packet(ft, &d, t);
		d = seg(&SRV, &c, KL_TCP_SYN | KL_TCP_ACK, 5000, 1001, NULL); flow_table_packet(ft, &d, t);
		d = seg(&c, &SRV, KL_TCP_ACK | KL_TCP_PSH, 1001, 5001, "GET /a HTTP/1.1\r\nHost: x");
		flow_table_packet(ft, &d, t);
		struct flow_stats s = flow_table_stats(ft);
		cr_assert_leq(s.memory, cfg.memcap, "after connection %u: %llu bytes", i,
			      (unsigned long long)s.memory);
	}
	struct flow_stats s = flow_table_stats(ft);
	cr_expect_gt(s.conns_evicted_memory, 1000);
	cr_expect_gt(s.memory_shed, 0);
	cr_expect_eq(s.conns_evicted, 0, "not for the connection count");
	cr_expect_eq(k.evicted, s.conns_evicted_memory);
	flow_table_flush(ft);
	cr_expect_eq(k.n, 5000);
	/* Nothing tracked: the streams and dissectors gave back all they
	 * were charged; what is left is the index. */
	cr_expect_lt(flow_table_stats(ft).memory, cfg.memcap / 8);
	flow_table_free(ft);
}
