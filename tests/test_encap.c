/*
 * test_encap.c - tunnel identities (encap.h) and the flow table's keying
 * by tunnel (flow.h): the same inner 5-tuple in two VXLAN VNIs is two
 * connections; the two directions of one connection mirrored in two
 * ERSPAN sessions are one (paired when the acknowledgment fits, not when
 * it does not); a GRE tunnel's two directions with swapped outer
 * addresses and a GTP-U bearer's two TEIDs are one without pairing; a
 * plain connection has no encap section; past max_tunnels a connection is
 * still tracked, without its tunnel's identity.
 *
 * Segments are synthetic struct decode_tcp values; expected values come
 * from what each test puts in them.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "encap.h"
#include "flow.h"

#define MS(x) ((kl_time)(x) * 1000000)
#define T0 ((kl_time)1700000000 * KL_NS_PER_SEC)

/* ---- records ------------------------------------------------------------- */

struct rec {
	struct conn_record r;         /* facts[] not to be followed: borrowed */
	bool has_encap;
	struct encap_facts e;
};

struct rec_log {
	struct rec r[16];
	int n;
};

static void on_done(void *ctx, const struct conn_record *rec)
{
	struct rec_log *log = ctx;
	cr_assert_lt(log->n, 16);
	struct rec *x = &log->r[log->n++];
	x->r = *rec;
	const struct encap_facts *e = rec->facts[FACTS_ENCAP];
	x->has_encap = e != NULL;
	if (e)
		x->e = *e;
}

static struct flow_table *table(struct rec_log *log, uint32_t max_tunnels)
{
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	if (max_tunnels)
		cfg.max_tunnels = max_tunnels;
	struct flow_hooks hooks = { .conn_done = on_done, .ctx = log };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(ft, "%s", err);
	return ft;
}

/* ---- segments ------------------------------------------------------------ */

struct endpoint {
	uint8_t ip[16];
	uint16_t port;
};

static const struct endpoint CLI = { { 10, 0, 0, 5 }, 41000 };
static const struct endpoint SRV = { { 10, 0, 0, 6 }, 443 };

/* Outer addresses: two mirroring switches, a collector, two routers, an
 * eNodeB and an SGW. */
static const uint8_t SW1[4] = { 192, 0, 2, 1 };
static const uint8_t SW9[4] = { 192, 0, 2, 9 };
static const uint8_t COLL[4] = { 198, 51, 100, 9 };
static const uint8_t R1[4] = { 203, 0, 113, 1 };
static const uint8_t R2[4] = { 203, 0, 113, 2 };

/* One tunnel over IPv4. */
static struct decode_encap tun(enum encap_kind k, bool has_id, uint32_t id, const uint8_t src[4],
			       const uint8_t dst[4])
{
	struct decode_encap e;
	memset(&e, 0, sizeof e);
	e.depth = 1;
	e.kinds[0] = (uint8_t)k;
	e.has_id = has_id;
	e.id = has_id ? id : 0;
	e.outer_version = 4;
	memcpy(e.outer_src, src, 4);
	memcpy(e.outer_dst, dst, 4);
	return e;
}

static struct decode_tcp seg(const struct endpoint *from, const struct endpoint *to,
			     uint8_t flags, uint32_t seq, uint32_t ack, const char *payload,
			     const struct decode_encap *e)
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
	if (e)
		d.encap = *e;
	return d;
}

/* The tunnels of a conversation's client and server packets. */
struct ways {
	const struct decode_encap *to_server, *to_client;
};

/*
 * A whole connection CLI -> SRV from `isn` (server ISN `sisn`): handshake,
 * a request, a response, the client closes.  4 packets each way.
 * `step`: called after each packet (interleaving), may be NULL.
 */
static void conversation(struct flow_table *ft, kl_time t, uint32_t isn, uint32_t sisn,
			 const struct ways *w, void (*step)(int i, void *arg), void *arg)
{
	const struct endpoint *c = &CLI, *s = &SRV;
	const struct decode_encap *ts = w->to_server, *tc = w->to_client;
	struct decode_tcp p[8] = {
		seg(c, s, KL_TCP_SYN, isn, 0, NULL, ts),
		seg(s, c, KL_TCP_SYN | KL_TCP_ACK, sisn, isn + 1, NULL, tc),
		seg(c, s, KL_TCP_ACK, isn + 1, sisn + 1, NULL, ts),
		seg(c, s, KL_TCP_ACK | KL_TCP_PSH, isn + 1, sisn + 1, "GET / HTTP/1.1\r\n\r\n", ts),
		seg(s, c, KL_TCP_ACK | KL_TCP_PSH, sisn + 1, isn + 19, "HTTP/1.1 200 OK\r\n\r\n", tc),
		seg(c, s, KL_TCP_FIN | KL_TCP_ACK, isn + 19, sisn + 20, NULL, ts),
		seg(s, c, KL_TCP_FIN | KL_TCP_ACK, sisn + 20, isn + 20, NULL, tc),
		seg(s, c, KL_TCP_ACK, sisn + 21, isn + 20, NULL, tc),
	};
	for (int i = 0; i < 8; i++) {
		flow_table_packet(ft, &p[i], t + MS(10 * i));
		if (step)
			step(i, arg);
	}
}

static void check_encap_eq(const struct decode_encap *got, const struct decode_encap *want,
			   const char *what)
{
	cr_assert_eq(got->depth, want->depth, "%s: depth %u, want %u", what, got->depth,
		     want->depth);
	for (unsigned i = 0; i < want->depth; i++)
		cr_assert_eq(got->kinds[i], want->kinds[i], "%s: kind %u", what, i);
	if (want->depth == 0)
		return;
	cr_assert_eq(got->has_id, want->has_id, "%s: has_id", what);
	if (want->has_id)
		cr_assert_eq(got->id, want->id, "%s: id %#x, want %#x", what, got->id, want->id);
	cr_assert_eq(got->outer_version, want->outer_version, "%s: outer version", what);
	size_t n = want->outer_version == 4 ? 4 : 16;
	cr_assert(memcmp(got->outer_src, want->outer_src, n) == 0, "%s: outer source", what);
	cr_assert(memcmp(got->outer_dst, want->outer_dst, n) == 0, "%s: outer destination", what);
}

static void check_roles(const struct rec *x)
{
	cr_assert(memcmp(x->r.client_ip, CLI.ip, 16) == 0, "client address");
	cr_assert(memcmp(x->r.server_ip, SRV.ip, 16) == 0, "server address");
	cr_assert_eq(x->r.client_port, CLI.port);
	cr_assert_eq(x->r.server_port, SRV.port);
}

/* A record's encap facts against the tunnels each way (NULL: none). */
static void check_facts(const struct rec *x, const struct decode_encap *to_server,
			const struct decode_encap *to_client)
{
	cr_assert(x->has_encap, "an encap section");
	static const struct decode_encap none;
	check_encap_eq(&x->e.dir[KL_TO_SERVER], to_server ? to_server : &none, "to server");
	check_encap_eq(&x->e.dir[KL_TO_CLIENT], to_client ? to_client : &none, "to client");
}

/* ---- the encap table ----------------------------------------------------- */

Test(encap, table_numbers_identities_and_domains)
{
	struct encap_table *t = encap_table_new(16);
	cr_assert_not_null(t);
	struct decode_encap none;
	memset(&none, 0, sizeof none);
	uint32_t dom = 12345;
	cr_assert_eq(encap_table_number(t, &none, &dom), 0);
	cr_assert_eq(dom, ENCAP_DOMAIN_NONE);
	cr_assert_null(encap_table_get(t, 0));

	/* VXLAN 100 each way: two identities, one domain. */
	struct decode_encap ab = tun(ENCAP_VXLAN, true, 100, R1, R2);
	struct decode_encap ba = tun(ENCAP_VXLAN, true, 100, R2, R1);
	uint32_t d_ab, d_ba, d_ab2;
	uint32_t n_ab = encap_table_number(t, &ab, &d_ab);
	uint32_t n_ba = encap_table_number(t, &ba, &d_ba);
	cr_assert(n_ab != 0 && n_ab != ENCAP_NUMBER_OVERFLOW);
	cr_assert(n_ba != 0 && n_ba != ENCAP_NUMBER_OVERFLOW);
	cr_assert_neq(n_ab, n_ba);
	cr_assert_eq(d_ab, d_ba, "both directions of a tunnel share a domain");
	cr_assert(d_ab != ENCAP_DOMAIN_NONE && d_ab < ENCAP_DOMAIN_OVERFLOW);
	/* Asked again, after another: the same answers. */
	cr_assert_eq(encap_table_number(t, &ab, &d_ab2), n_ab);
	cr_assert_eq(d_ab2, d_ab);
	check_encap_eq(encap_table_get(t, n_ab), &ab, "get ab");
	check_encap_eq(encap_table_get(t, n_ba), &ba, "get ba");

	/* Another VNI between the same VTEPs: another domain. */
	struct decode_encap other = tun(ENCAP_VXLAN, true, 101, R1, R2);
	uint32_t d_o;
	cr_assert_neq(encap_table_number(t, &other, &d_o), n_ab);
	cr_assert_neq(d_o, d_ab);
	/* Another kind with the same id and addresses: another domain. */
	struct decode_encap gre = tun(ENCAP_GRE, true, 100, R1, R2);
	uint32_t d_g;
	encap_table_number(t, &gre, &d_g);
	cr_assert_neq(d_g, d_ab);
	/* GTP-U: the TEID is per direction, not part of the domain. */
	struct decode_encap up = tun(ENCAP_GTPU, true, 0x1111, SW1, COLL);
	struct decode_encap down = tun(ENCAP_GTPU, true, 0x2222, COLL, SW1);
	uint32_t d_up, d_down;
	uint32_t n_up = encap_table_number(t, &up, &d_up);
	uint32_t n_down = encap_table_number(t, &down, &d_down);
	cr_assert_neq(n_up, n_down);
	cr_assert_eq(d_up, d_down);
	/* ... but the VXLAN VNI is. */
	struct decode_encap ba2 = tun(ENCAP_VXLAN, true, 102, R2, R1);
	uint32_t d_ba2;
	encap_table_number(t, &ba2, &d_ba2);
	cr_assert_neq(d_ba2, d_ab);
	cr_assert_eq(encap_table_overflows(t), 0);
	encap_table_free(t);
	encap_table_free(NULL);
}

Test(encap, table_nested_and_ipv6_identities)
{
	struct encap_table *t = encap_table_new(16);
	struct decode_encap a = tun(ENCAP_VXLAN, true, 7, R1, R2);
	struct decode_encap b = a;
	b.depth = 2;                 /* GRE > VXLAN: another identity */
	b.kinds[0] = ENCAP_GRE;
	b.kinds[1] = ENCAP_VXLAN;
	uint32_t da, db;
	uint32_t na = encap_table_number(t, &a, &da), nb = encap_table_number(t, &b, &db);
	cr_assert_neq(na, nb);
	cr_assert_neq(da, db);
	check_encap_eq(encap_table_get(t, nb), &b, "nested");
	/* IPv6 outer addresses that differ only past the first 4 bytes. */
	struct decode_encap x, y;
	memset(&x, 0, sizeof x);
	x.depth = 1;
	x.kinds[0] = ENCAP_IPIP;
	x.outer_version = 6;
	x.outer_src[0] = 0x20;
	x.outer_dst[0] = 0x20;
	x.outer_dst[15] = 1;
	y = x;
	y.outer_dst[15] = 2;
	uint32_t dx, dy;
	cr_assert_neq(encap_table_number(t, &x, &dx), encap_table_number(t, &y, &dy));
	cr_assert_neq(dx, dy);
	encap_table_free(t);
}

Test(encap, table_many_identities_stay_numbered)
{
	/* More than the initial array (64) and index (128 at half load). */
	struct encap_table *t = encap_table_new(1000);
	uint32_t num[600], dom[600];
	for (uint32_t i = 0; i < 600; i++) {
		struct decode_encap e = tun(ENCAP_GENEVE, true, i, i & 1 ? R1 : R2, i & 1 ? R2 : R1);
		num[i] = encap_table_number(t, &e, &dom[i]);
		cr_assert(num[i] != 0 && num[i] != ENCAP_NUMBER_OVERFLOW, "identity %u", i);
		for (uint32_t j = 0; j < i; j += 37)
			cr_assert_neq(num[i], num[j]);
	}
	for (uint32_t i = 0; i < 600; i++) {
		struct decode_encap e = tun(ENCAP_GENEVE, true, i, i & 1 ? R1 : R2, i & 1 ? R2 : R1);
		uint32_t d;
		cr_assert_eq(encap_table_number(t, &e, &d), num[i], "identity %u renumbered", i);
		cr_assert_eq(d, dom[i]);
		check_encap_eq(encap_table_get(t, num[i]), &e, "get");
	}
	cr_assert_eq(encap_table_overflows(t), 0);
	encap_table_free(t);
}

Test(encap, table_bound_overflows)
{
	struct encap_table *t = encap_table_new(2);
	struct decode_encap e[3];
	uint32_t n[3], d[3];
	for (int i = 0; i < 3; i++) {
		e[i] = tun(ENCAP_ERSPAN2, true, (uint32_t)i + 1, SW1, COLL);
		n[i] = encap_table_number(t, &e[i], &d[i]);
	}
	cr_assert(n[0] != ENCAP_NUMBER_OVERFLOW && n[1] != ENCAP_NUMBER_OVERFLOW);
	cr_assert_eq(n[2], ENCAP_NUMBER_OVERFLOW);
	cr_assert_eq(d[2], ENCAP_DOMAIN_OVERFLOW);
	cr_assert_null(encap_table_get(t, n[2]));
	cr_assert_eq(encap_table_overflows(t), 1);
	/* Known ones still answer; the third overflows each time it is asked. */
	uint32_t dd;
	cr_assert_eq(encap_table_number(t, &e[0], &dd), n[0]);
	cr_assert_eq(encap_table_number(t, &e[2], &dd), ENCAP_NUMBER_OVERFLOW);
	cr_assert_eq(encap_table_overflows(t), 2);
	encap_table_free(t);
}

/*
 * decode.c writes only kinds[0, depth) (encap_enter()) and analyze.c's
 * struct decode_tcp is an uninitialised stack variable, so kinds[depth..]
 * hold whatever an earlier packet or call left there: they must not be
 * part of an identity, or one tunnel's packets get two identities, two
 * domains, and their connection is split.
 */
Test(encap, table_kinds_past_depth_are_not_identity)
{
	struct encap_table *t = encap_table_new(16);
	struct decode_encap a = tun(ENCAP_VXLAN, true, 7, R1, R2), b = a;
	b.kinds[1] = ENCAP_VXLAN;    /* left by an earlier GRE > VXLAN packet */
	b.kinds[3] = 0xa5;
	uint32_t da, db;
	uint32_t na = encap_table_number(t, &a, &da);
	uint32_t nb = encap_table_number(t, &b, &db);
	cr_assert_eq(na, nb, "the same tunnel numbered twice");
	cr_assert_eq(da, db, "the same tunnel in two domains");
	encap_table_free(t);
}

/* ---- the flow table ------------------------------------------------------ */

/* (a) The same inner 5-tuple in two VNIs, interleaved packet by packet,
 * with the same ISNs (cloned VMs): two connections. */
struct two_vni {
	struct decode_encap v1s, v1c, v2s, v2c;
};

Test(encap, same_tuple_in_two_vnis_is_two_connections)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct two_vni v = {
		tun(ENCAP_VXLAN, true, 100, R1, R2), tun(ENCAP_VXLAN, true, 100, R2, R1),
		tun(ENCAP_VXLAN, true, 200, R1, R2), tun(ENCAP_VXLAN, true, 200, R2, R1),
	};
	/* Two conversations, interleaved: build both packet lists and
	 * alternate between them. */
	const struct endpoint *c = &CLI, *s = &SRV;
	struct decode_tcp p[2][8];
	for (int k = 0; k < 2; k++) {
		const struct decode_encap *ts = k ? &v.v2s : &v.v1s, *tc = k ? &v.v2c : &v.v1c;
		uint32_t isn = 1000, sisn = 9000;
		struct decode_tcp q[8] = {
			seg(c, s, KL_TCP_SYN, isn, 0, NULL, ts),
			seg(s, c, KL_TCP_SYN | KL_TCP_ACK, sisn, isn + 1, NULL, tc),
			seg(c, s, KL_TCP_ACK, isn + 1, sisn + 1, NULL, ts),
			seg(c, s, KL_TCP_ACK | KL_TCP_PSH, isn + 1, sisn + 1, k ? "bb" : "a", ts),
			seg(s, c, KL_TCP_ACK | KL_TCP_PSH, sisn + 1, isn + 1 + 1 + k, k ? "dddd" : "ccc", tc),
			seg(c, s, KL_TCP_FIN | KL_TCP_ACK, isn + 2 + k, sisn + 4 + k, NULL, ts),
			seg(s, c, KL_TCP_FIN | KL_TCP_ACK, sisn + 4 + k, isn + 3 + k, NULL, tc),
			seg(c, s, KL_TCP_ACK, isn + 3 + k, sisn + 5 + k, NULL, ts),
		};
		memcpy(p[k], q, sizeof q);
	}
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 2; k++)
			flow_table_packet(ft, &p[k][i], T0 + MS(10 * i + k));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	struct flow_stats st = flow_table_stats(ft);
	cr_assert_eq(st.conns_total, 2);
	cr_assert_eq(st.conns_paired, 0);
	for (int i = 0; i < 2; i++) {
		const struct rec *x = &log.r[i];
		check_roles(x);
		cr_assert_eq(x->r.packets[KL_TO_SERVER], 5);
		cr_assert_eq(x->r.packets[KL_TO_CLIENT], 3);
		cr_assert(x->r.has_handshake_rtt);
		cr_assert_eq(x->r.close_kind, CONN_CLOSE_FIN);
		/* Which is which: by the bytes each carried. */
		int k = x->r.bytes[KL_TO_SERVER] == 2;
		cr_assert_eq(x->r.bytes[KL_TO_SERVER], k ? 2 : 1);
		cr_assert_eq(x->r.bytes[KL_TO_CLIENT], k ? 4 : 3);
		check_facts(x, k ? &v.v2s : &v.v1s, k ? &v.v2c : &v.v1c);
	}
	cr_assert_neq(log.r[0].r.bytes[KL_TO_SERVER], log.r[1].r.bytes[KL_TO_SERVER]);
	flow_table_free(ft);
}

/* (b) Each direction mirrored in its own ERSPAN session, from its own
 * switch: one connection, each direction's tunnel as it came. */
Test(encap, directions_in_two_tunnels_are_paired)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN2, true, 2, SW9, COLL);
	struct ways w = { &s1, &s2 };
	conversation(ft, T0, 1000, 70000, &w, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	const struct rec *x = &log.r[0];
	check_roles(x);
	cr_assert_eq(x->r.packets[KL_TO_SERVER], 4);
	cr_assert_eq(x->r.packets[KL_TO_CLIENT], 4);
	cr_assert_eq(x->r.bytes[KL_TO_SERVER], 18);
	cr_assert_eq(x->r.bytes[KL_TO_CLIENT], 19);
	cr_assert_not(x->r.one_sided);
	cr_assert(x->r.has_handshake_rtt);
	cr_assert_eq(x->r.handshake_rtt, MS(20));
	cr_assert_eq(x->r.gap_bytes, 0);
	check_facts(x, &s1, &s2);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 1);
	flow_table_free(ft);
}

/* (b') Picked up mid-stream: the server's first packet acknowledges
 * within 2^24 of what the client sent: paired; a little further: not. */
static int pair_midstream(uint32_t ack_delta_from_end, bool minus)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN2, true, 2, SW9, COLL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_ACK | KL_TCP_PSH, 5000, 800, "0123456789", &s1);
	flow_table_packet(ft, &d, T0);
	uint32_t end = 5010;
	d = seg(&SRV, &CLI, KL_TCP_ACK, 800, minus ? end - ack_delta_from_end
						   : end + ack_delta_from_end, NULL, &s2);
	flow_table_packet(ft, &d, T0 + MS(1));
	flow_table_flush(ft);
	int n = log.n;
	if (n == 1) {
		check_facts(&log.r[0], &s1, &s2);
		cr_assert_eq(log.r[0].r.packets[KL_TO_CLIENT], 1);
		cr_assert_eq(log.r[0].r.server_port, SRV.port);
	} else {
		for (int i = 0; i < n; i++)
			cr_assert(log.r[i].r.one_sided);
	}
	flow_table_free(ft);
	return n;
}

Test(encap, midstream_pairing_within_2_to_24)
{
	cr_assert_eq(pair_midstream(0, false), 1, "exactly what was sent");
	cr_assert_eq(pair_midstream(10, true), 1, "part of it");
	cr_assert_eq(pair_midstream(1u << 24, false), 1, "2^24 ahead");
	cr_assert_eq(pair_midstream(1u << 24, true), 1, "2^24 behind");
	cr_assert_eq(pair_midstream((1u << 24) + 1, false), 2, "past 2^24 ahead");
	cr_assert_eq(pair_midstream((1u << 24) + 1, true), 2, "past 2^24 behind");
}

/* (c) A SYN-ACK in another tunnel that does not acknowledge the SYN: not
 * joined; a segment without ACK neither. */
Test(encap, join_whose_ack_does_not_fit_is_refused)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN2, true, 2, SW9, COLL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 7000, 1002, NULL, &s2);   /* not 1001 */
	flow_table_packet(ft, &d, T0 + MS(1));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	for (int i = 0; i < 2; i++)
		cr_assert(log.r[i].r.one_sided);
	/* Each with its own direction's tunnel only. */
	const struct rec *cli = log.r[0].r.syn_seen ? &log.r[0] : &log.r[1];
	const struct rec *srv = cli == &log.r[0] ? &log.r[1] : &log.r[0];
	check_facts(cli, &s1, NULL);
	check_facts(srv, NULL, &s2);
	cr_assert_eq(srv->r.client_port, CLI.port, "the SYN-ACK's receiver is the client");
	flow_table_free(ft);

	/* An RST without ACK from the other tunnel. */
	struct rec_log log2 = { .n = 0 };
	ft = table(&log2, 0);
	d = seg(&CLI, &SRV, KL_TCP_ACK | KL_TCP_PSH, 1000, 50, "x", &s1);
	flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_RST, 50, 0, NULL, &s2);
	flow_table_packet(ft, &d, T0 + MS(1));
	flow_table_flush(ft);
	cr_assert_eq(log2.n, 2);
	flow_table_free(ft);
}

/* A segment from the same side in another tunnel (a duplicate mirror) is
 * not taken for the other direction. */
Test(encap, same_direction_in_another_tunnel_is_not_paired)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN2, true, 2, SW9, COLL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0);
	d.encap = s2;
	flow_table_packet(ft, &d, T0 + MS(1));
	/* The SYN-ACK in the first session goes to the first connection. */
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 7000, 1001, NULL, &s1);
	flow_table_packet(ft, &d, T0 + MS(2));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	int both = 0;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(log.r[i].r.packets[KL_TO_SERVER], 1);
		both += log.r[i].r.packets[KL_TO_CLIENT] == 1;
		if (log.r[i].r.packets[KL_TO_CLIENT])
			check_facts(&log.r[i], &s1, &s1);
		else
			check_facts(&log.r[i], &s2, NULL);
	}
	cr_assert_eq(both, 1);
	flow_table_free(ft);
}

/* A paired connection ended by port reuse; the next one pairs again. */
Test(encap, pairing_again_after_port_reuse)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN3, true, 11, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN3, true, 12, SW9, COLL);
	struct ways w = { &s1, &s2 };
	conversation(ft, T0, 1000, 70000, &w, NULL, NULL);
	conversation(ft, T0 + MS(500), 900000, 123456, &w, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 2);
	cr_assert_eq(flow_table_stats(ft).conns_port_reused, 1);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(log.r[i].r.packets[KL_TO_SERVER], 4);
		cr_assert_eq(log.r[i].r.packets[KL_TO_CLIENT], 4);
		check_facts(&log.r[i], &s1, &s2);
	}
	cr_assert_eq(log.r[1].r.first_seen, T0 + MS(500));
	flow_table_free(ft);
}

/* (d) A GRE tunnel between two routers: each direction's outer addresses
 * swapped, the same key; one domain, no pairing needed. */
Test(encap, gre_both_ways_swapped_outer_is_one_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap ab = tun(ENCAP_GRE, true, 42, R1, R2);
	struct decode_encap ba = tun(ENCAP_GRE, true, 42, R2, R1);
	struct ways w = { &ab, &ba };
	conversation(ft, T0, 5, 6, &w, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	cr_assert_eq(log.r[0].r.packets[KL_TO_SERVER], 4);
	cr_assert_eq(log.r[0].r.packets[KL_TO_CLIENT], 4);
	check_facts(&log.r[0], &ab, &ba);
	flow_table_free(ft);
}

/* The same without a key, over IPv6 routers, and a mid-stream start from
 * the server side (no SYN to decide roles). */
Test(encap, keyless_gre_over_ipv6_midstream)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap ab, ba;
	memset(&ab, 0, sizeof ab);
	ab.depth = 1;
	ab.kinds[0] = ENCAP_GRE;
	ab.outer_version = 6;
	ab.outer_src[0] = ab.outer_dst[0] = 0x20;
	ab.outer_src[15] = 1;
	ab.outer_dst[15] = 2;
	ba = ab;
	ba.outer_src[15] = 2;
	ba.outer_dst[15] = 1;
	struct decode_tcp d = seg(&SRV, &CLI, KL_TCP_ACK | KL_TCP_PSH, 70, 10, "abc", &ba);
	flow_table_packet(ft, &d, T0);
	d = seg(&CLI, &SRV, KL_TCP_ACK, 10, 73, NULL, &ab);
	flow_table_packet(ft, &d, T0 + MS(1));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	check_roles(&log.r[0]);
	check_facts(&log.r[0], &ab, &ba);
	flow_table_free(ft);
}

/* (e) A GTP-U bearer: each direction its own TEID, one connection. */
Test(encap, gtpu_teid_per_direction_is_one_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap up = tun(ENCAP_GTPU, true, 0x00001111, R1, R2);     /* eNB -> SGW */
	struct decode_encap down = tun(ENCAP_GTPU, true, 0x00002222, R2, R1);   /* SGW -> eNB */
	struct ways w = { &up, &down };
	conversation(ft, T0, 300, 400, &w, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	cr_assert_eq(log.r[0].r.packets[KL_TO_SERVER], 4);
	cr_assert_eq(log.r[0].r.packets[KL_TO_CLIENT], 4);
	check_facts(&log.r[0], &up, &down);
	cr_assert_eq(log.r[0].e.dir[KL_TO_SERVER].id, 0x1111);
	cr_assert_eq(log.r[0].e.dir[KL_TO_CLIENT].id, 0x2222);
	flow_table_free(ft);
}

/* (f) Not tunnelled: no encap section, and a tunnelled connection with
 * the same 5-tuple is another one. */
Test(encap, plain_connection_has_no_encap_section)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct ways plain = { NULL, NULL };
	conversation(ft, T0, 1, 2, &plain, NULL, NULL);
	struct decode_encap v = tun(ENCAP_VXLAN, true, 3, R1, R2);
	struct decode_encap vr = tun(ENCAP_VXLAN, true, 3, R2, R1);
	struct ways w = { &v, &vr };
	conversation(ft, T0 + MS(1), 1, 2, &w, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(flow_table_stats(ft).conns_paired, 0);
	const struct rec *p = log.r[0].has_encap ? &log.r[1] : &log.r[0];
	const struct rec *t = p == &log.r[0] ? &log.r[1] : &log.r[0];
	cr_assert_not(p->has_encap);
	cr_assert_null(p->r.facts[FACTS_ENCAP]);
	cr_assert_eq(p->r.packets[KL_TO_SERVER], 4);
	cr_assert_eq(p->r.packets[KL_TO_CLIENT], 4);
	cr_assert_eq(p->r.first_seen, T0);
	check_facts(t, &v, &vr);
	cr_assert_eq(t->r.packets[KL_TO_SERVER], 4);
	cr_assert_eq(t->r.packets[KL_TO_CLIENT], 4);
	flow_table_free(ft);
}

/* A plain direction never joins a tunnelled one (and the reverse). */
Test(encap, plain_and_tunnelled_directions_are_not_paired)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap s1 = tun(ENCAP_ERSPAN1, false, 0, SW1, COLL);
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 7000, 1001, NULL, NULL);
	flow_table_packet(ft, &d, T0 + MS(1));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	flow_table_free(ft);
}

/* (g) max_tunnels 2, three ERSPAN sessions (both directions of each
 * mirrored in it, so one identity each): the third's connection is still
 * tracked, whole, in the overflow domain, stored without an identity. */
Test(encap, tunnels_past_the_bound_are_tracked_without_identity)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 2);
	struct decode_encap s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = tun(ENCAP_ERSPAN2, true, (uint32_t)i + 1, SW1, COLL);
		struct ways w = { &s[i], &s[i] };
		conversation(ft, T0 + MS(1000 * i), 1000 + (uint32_t)i, 5000, &w, NULL, NULL);
	}
	flow_table_flush(ft);
	cr_assert_eq(log.n, 3);
	struct flow_stats st = flow_table_stats(ft);
	cr_assert_eq(st.conns_total, 3);
	cr_assert_eq(st.tunnels_overflow, 8, "the third tunnel's 8 packets");
	for (int i = 0; i < 3; i++) {
		const struct rec *x = &log.r[i];
		cr_assert_eq(x->r.packets[KL_TO_SERVER], 4);
		cr_assert_eq(x->r.packets[KL_TO_CLIENT], 4);
		int k = (int)((x->r.first_seen - T0) / MS(1000));
		if (k < 2) {
			check_facts(x, &s[k], &s[k]);
		} else {
			/* No identity: no section, or one that names no tunnel. */
			if (x->has_encap) {
				cr_assert_eq(x->e.dir[KL_TO_SERVER].depth, 0);
				cr_assert_eq(x->e.dir[KL_TO_CLIENT].depth, 0);
			}
		}
	}
	flow_table_free(ft);
}

/* The same 5-tuple in a tunnel past the bound and in a known one: apart. */
Test(encap, overflow_domain_is_apart_from_known_tunnels)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 1);
	struct decode_encap a = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap b = tun(ENCAP_ERSPAN2, true, 2, SW1, COLL);
	struct ways wa = { &a, &a }, wb = { &b, &b };
	conversation(ft, T0, 1000, 5000, &wa, NULL, NULL);
	conversation(ft, T0 + MS(1), 3000, 6000, &wb, NULL, NULL);
	flow_table_flush(ft);
	cr_assert_eq(log.n, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(log.r[i].r.packets[KL_TO_SERVER], 4);
		cr_assert_eq(log.r[i].r.packets[KL_TO_CLIENT], 4);
	}
	flow_table_free(ft);
}

/* Many tunnelled connections (with their aliases), ended in an
 * interleaved order: every one still found afterwards. */
Test(encap, many_tunnelled_connections)
{
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.closed_linger = 0;
	struct flow_hooks hooks = { .conn_done = NULL };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(ft);
	for (uint32_t i = 0; i < 6000; i++) {
		struct decode_encap e = tun(ENCAP_VXLAN, true, i % 50, R1, R2);
		struct endpoint c = CLI;
		c.port = (uint16_t)(1024 + i);
		struct decode_tcp d = seg(&c, &SRV, KL_TCP_SYN, i, 0, NULL, &e);
		flow_table_packet(ft, &d, T0);
		if (i % 3 == 0) {
			d = seg(&c, &SRV, KL_TCP_RST, i + 1, 0, NULL, &e);
			flow_table_packet(ft, &d, T0);
		}
	}
	cr_assert_eq(flow_table_stats(ft).conns_total, 6000);
	for (uint32_t i = 0; i < 6000; i++) {
		if (i % 3 == 0)
			continue;
		/* The answer in the reverse tunnel direction: found, not paired. */
		struct decode_encap e = tun(ENCAP_VXLAN, true, i % 50, R2, R1);
		struct endpoint c = CLI;
		c.port = (uint16_t)(1024 + i);
		struct decode_tcp d = seg(&SRV, &c, KL_TCP_SYN | KL_TCP_ACK, 7, i + 1, NULL, &e);
		flow_table_packet(ft, &d, T0 + MS(1500));
	}
	struct flow_stats st = flow_table_stats(ft);
	cr_assert_eq(st.conns_total, 6000);
	cr_assert_eq(st.conns_paired, 0);
	flow_table_free(ft);
}

/*
 * The flow-level face of table_kinds_past_depth_are_not_identity: the
 * client's third packet carries a stale kinds[1] (decode.c leaves kinds
 * past depth as they were); it belongs to the same connection.
 */
Test(encap, stale_kinds_past_depth_do_not_split_a_connection)
{
	struct rec_log log = { .n = 0 };
	struct flow_table *ft = table(&log, 0);
	struct decode_encap ab = tun(ENCAP_VXLAN, true, 9, R1, R2);
	struct decode_encap ba = tun(ENCAP_VXLAN, true, 9, R2, R1);
	struct decode_encap ab_stale = ab;
	ab_stale.kinds[1] = ENCAP_GRE;
	struct decode_tcp d = seg(&CLI, &SRV, KL_TCP_SYN, 1, 0, NULL, &ab);
	flow_table_packet(ft, &d, T0);
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 100, 2, NULL, &ba);
	flow_table_packet(ft, &d, T0 + MS(1));
	d = seg(&CLI, &SRV, KL_TCP_ACK, 2, 101, NULL, &ab_stale);
	flow_table_packet(ft, &d, T0 + MS(2));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 1, "one connection, not %d", log.n);
	cr_assert_eq(log.r[0].r.packets[KL_TO_SERVER], 2);
	flow_table_free(ft);
}

/*
 * A join that comes later than the activity lists' grain (250 ms) after
 * the connection's last packet moves it in its list: it must be moved as
 * itself.  (flow.c once passed no index for a joined connection: the
 * connection fell out of its list, so that nothing ended it, until a later
 * packet of it more than the grain later put it back.)  Here the join is
 * its last packet: it still ends by idle expiry and is counted closed.
 */
Test(encap, late_join_keeps_the_connection_listed)
{
	struct rec_log log = { .n = 0 };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.idle_timeout = 60 * KL_NS_PER_SEC;
	struct flow_hooks hooks = { .conn_done = on_done, .ctx = &log };
	char err[128];
	struct flow_table *ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(ft, "%s", err);
	struct decode_encap s1 = tun(ENCAP_ERSPAN2, true, 1, SW1, COLL);
	struct decode_encap s2 = tun(ENCAP_ERSPAN2, true, 2, SW9, COLL);
	/* Another connection before it in its list, and one after. */
	struct endpoint other = CLI;
	other.port = 50000;
	struct decode_tcp d = seg(&other, &SRV, KL_TCP_SYN, 1, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0);
	d = seg(&CLI, &SRV, KL_TCP_SYN, 1000, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0 + MS(1));
	struct endpoint third = CLI;
	third.port = 50001;
	d = seg(&third, &SRV, KL_TCP_SYN, 1, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0 + MS(2));
	d = seg(&SRV, &CLI, KL_TCP_SYN | KL_TCP_ACK, 7000, 1001, NULL, &s2);
	flow_table_packet(ft, &d, T0 + MS(900));
	cr_assert_eq(flow_table_stats(ft).conns_paired, 1);
	flow_table_expire(ft, T0 + MS(59500));
	cr_assert_eq(log.n, 0);
	flow_table_expire(ft, T0 + MS(61000));
	cr_assert_eq(log.n, 3, "every connection idles out, the joined one too (%d)", log.n);
	const struct rec *x = NULL;
	for (int i = 0; i < 3; i++)
		if (log.r[i].r.client_port == CLI.port)
			x = &log.r[i];
	cr_assert_not_null(x);
	check_roles(x);
	cr_assert_eq(x->r.close_kind, CONN_CLOSE_IDLE);
	cr_assert_eq(x->r.packets[KL_TO_SERVER], 1);
	cr_assert_eq(x->r.packets[KL_TO_CLIENT], 1);
	cr_assert_eq(x->r.last_seen, T0 + MS(900));
	check_facts(x, &s1, &s2);
	cr_assert_eq(flow_table_stats(ft).conns_open, 0);
	/* The lists still work: a new connection is tracked and flushed. */
	d = seg(&CLI, &SRV, KL_TCP_SYN, 5, 0, NULL, &s1);
	flow_table_packet(ft, &d, T0 + MS(62000));
	flow_table_flush(ft);
	cr_assert_eq(log.n, 4);
	cr_assert_eq(flow_table_stats(ft).conns_open, 0);
	flow_table_free(ft);
}
