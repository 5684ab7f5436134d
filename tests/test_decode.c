/*
 * test_decode.c - decode_packet() on hand-built frames: every link type
 * decode.h promises (Ethernet with VLAN/QinQ/MPLS and 802.3/SNAP, Linux SLL
 * and SLL2, raw IP, BSD loopback in both byte orders, DLT_LOOP, NFLOG,
 * 802.11 plain/QoS/WDS/A-MSDU under radiotap, PPI, Prism and AVS, PPP in
 * its framings, Cisco HDLC, Frame Relay, ATM, MPLS, PKTAP, IPNET, IPoIB,
 * enc, pflog, netANALYZER), every tunnel (VXLAN, GENEVE, GRE and PPTP,
 * ERSPAN I-III, GTP-U, IP-in-IP, nested up to DECODE_MAX_ENCAP) with the
 * decode_tcp.encap it reports, IPv4 options and fragments (decode_tcp.frag,
 * then decode_ip_payload() on the reassembly), IPv6 extension headers, TCP
 * options (well-formed and broken), every snaplen cut of a frame (through
 * tunnels and radio headers too), Ethernet trailer padding, and malformed
 * headers.
 *
 * Expected values come from the bytes the builders below put in, never
 * from running the decoder.  Each decode runs on an exactly-sized malloc'd
 * copy of the frame, so ASan reports any read past caplen.
 */
#include <criterion/criterion.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* ---- byte builder ------------------------------------------------------ */

#define FRAME_MAX 4096

struct frame {
	uint8_t b[FRAME_MAX];
	size_t n;
};

static void put8(struct frame *f, unsigned v)
{
	cr_assert_lt(f->n, FRAME_MAX, "test frame too big");
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)  /* network order */
{
	put8(f, (v >> 8) & 0xff);
	put8(f, v & 0xff);
}

static void put32(struct frame *f, uint32_t v)  /* network order */
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void put_h16(struct frame *f, uint16_t v)  /* host order */
{
	uint8_t b[2];
	memcpy(b, &v, 2);
	put8(f, b[0]);
	put8(f, b[1]);
}

static void put_h32(struct frame *f, uint32_t v)  /* host order */
{
	uint8_t b[4];
	memcpy(b, &v, 4);
	for (int i = 0; i < 4; i++)
		put8(f, b[i]);
}

static void put_bytes(struct frame *f, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		put8(f, s[i]);
}

static void put_frame(struct frame *f, const struct frame *g)
{
	put_bytes(f, g->b, g->n);
}

static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* ---- addresses --------------------------------------------------------- */

static const uint8_t SRC4[4] = { 192, 0, 2, 1 };
static const uint8_t DST4[4] = { 198, 51, 100, 2 };
/* 2001:db8:1:2:3:4:5:6 and 2001:db8:a:b:c:d:e:f: every 16-bit group differs. */
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0xb, 0, 0xc, 0, 0xd, 0, 0xe, 0, 0xf };

/* ---- TCP --------------------------------------------------------------- */

struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;               /* byte 13 as written */
	uint8_t byte12_low;          /* low nibble of byte 12 (reserved/AE bits) */
	uint16_t window;
	const uint8_t *opt;          /* options, a multiple of 4 bytes */
	size_t optlen;
	unsigned doff;               /* 0: (20 + optlen) / 4 */
	size_t paylen;               /* payload bytes, a known pattern */
};

static struct tcp_spec tcp_default(void)
{
	struct tcp_spec t = {
		.sport = 40000, .dport = 80,
		.seq = 0x11223344, .ack = 0x55667788,
		.flags = KL_TCP_PSH | KL_TCP_ACK,
		.window = 0xfaf0,
		.paylen = 5,
	};
	return t;
}

static uint8_t pay_byte(size_t i)
{
	return (uint8_t)(0x41 + i % 26);
}

static void tcp_build(struct frame *f, const struct tcp_spec *t)
{
	cr_assert_eq(t->optlen % 4, 0, "test bug: options must be padded");
	unsigned doff = t->doff ? t->doff : (unsigned)(20 + t->optlen) / 4;
	put16(f, t->sport);
	put16(f, t->dport);
	put32(f, t->seq);
	put32(f, t->ack);
	put8(f, (doff << 4) | (t->byte12_low & 0x0f));
	put8(f, t->flags);
	put16(f, t->window);
	put16(f, 0xdead);            /* checksum: not verified */
	put16(f, 0);                 /* urgent pointer */
	put_bytes(f, t->opt, t->optlen);
	for (size_t i = 0; i < t->paylen; i++)
		put8(f, pay_byte(i));
}

/* ---- IPv4 -------------------------------------------------------------- */

struct ip4_spec {
	unsigned version;            /* 0: 4 */
	unsigned ihl;                /* 0: (20 + optlen) / 4 */
	uint8_t proto;
	uint16_t frag;               /* flags + fragment offset field */
	bool set_tot;
	uint16_t tot;                /* total length, when set_tot */
	const uint8_t *opt;
	size_t optlen;
};

static struct ip4_spec ip4_default(void)
{
	/* DF set, as Linux sends: DF is not fragmentation. */
	struct ip4_spec s = { .proto = 6, .frag = 0x4000 };
	return s;
}

static void ip4_build(struct frame *f, const struct ip4_spec *s, const struct frame *l4)
{
	unsigned ihl = s->ihl ? s->ihl : (unsigned)(20 + s->optlen) / 4;
	unsigned version = s->version ? s->version : 4;
	unsigned tot = s->set_tot ? s->tot : (unsigned)(20 + s->optlen + l4->n);
	put8(f, (version << 4) | (ihl & 0x0f));
	put8(f, 0);                  /* TOS */
	put16(f, tot);
	put16(f, 0x1234);            /* id */
	put16(f, s->frag);
	put8(f, 64);                 /* TTL */
	put8(f, s->proto);
	put16(f, 0xbeef);            /* checksum: not verified */
	put_bytes(f, SRC4, 4);
	put_bytes(f, DST4, 4);
	put_bytes(f, s->opt, s->optlen);
	put_frame(f, l4);
}

/* IPv4 + TCP with the given TCP spec and default IP fields. */
static void ip4_tcp(struct frame *f, const struct tcp_spec *t)
{
	struct frame l4 = { .n = 0 };
	tcp_build(&l4, t);
	struct ip4_spec s = ip4_default();
	ip4_build(f, &s, &l4);
}

/* ---- IPv6 -------------------------------------------------------------- */

struct ip6_spec {
	unsigned version;            /* 0: 6 */
	uint8_t nh;                  /* next header after the fixed header */
	const struct frame *ext;     /* extension headers, or NULL */
	bool set_plen;
	uint16_t plen;
};

static void ip6_build(struct frame *f, const struct ip6_spec *s, const struct frame *l4)
{
	unsigned version = s->version ? s->version : 6;
	size_t extlen = s->ext ? s->ext->n : 0;
	unsigned plen = s->set_plen ? s->plen : (unsigned)(extlen + l4->n);
	put32(f, (uint32_t)version << 28 | 0x00012345);  /* flow label */
	put16(f, plen);
	put8(f, s->nh);
	put8(f, 64);                 /* hop limit */
	put_bytes(f, SRC6, 16);
	put_bytes(f, DST6, 16);
	if (s->ext)
		put_frame(f, s->ext);
	put_frame(f, l4);
}

static void ip6_tcp(struct frame *f, const struct tcp_spec *t)
{
	struct frame l4 = { .n = 0 };
	tcp_build(&l4, t);
	struct ip6_spec s = { .nh = 6 };
	ip6_build(f, &s, &l4);
}

/* Extension headers (RFC 8200 §4), each a multiple of 8 bytes. */
static void ext_hbh(struct frame *f, uint8_t nh)          /* 8 bytes, PadN */
{
	put8(f, nh);
	put8(f, 0);
	put8(f, 1); put8(f, 4); put32(f, 0);
}

static void ext_dstopts(struct frame *f, uint8_t nh)      /* 16 bytes, PadN */
{
	put8(f, nh);
	put8(f, 1);
	put8(f, 1); put8(f, 12);
	for (int i = 0; i < 12; i++)
		put8(f, 0);
}

static void ext_routing(struct frame *f, uint8_t nh)      /* 24 bytes */
{
	put8(f, nh);
	put8(f, 2);                  /* (2 + 1) * 8 = 24 bytes */
	put8(f, 4);                  /* segment routing header type */
	put8(f, 0);                  /* segments left 0: processed as done */
	put32(f, 0);                 /* last entry, flags, tag */
	put_bytes(f, DST6, 16);
}

static void ext_frag(struct frame *f, uint8_t nh, unsigned offset8, bool more)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, (offset8 << 3) | (more ? 1u : 0u));
	put32(f, 0xcafe0001);        /* identification */
}

static void ext_ah(struct frame *f, uint8_t nh)           /* 24 bytes */
{
	put8(f, nh);
	put8(f, 4);                  /* (4 + 2) * 4 = 24 bytes (RFC 4302) */
	put16(f, 0);
	put32(f, 0x100);             /* SPI */
	put32(f, 1);                 /* sequence number */
	for (int i = 0; i < 12; i++) /* ICV, HMAC-SHA1-96 */
		put8(f, 0xa0);
}

/* ---- link layers ------------------------------------------------------- */

static void eth_hdr(struct frame *f)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	put_bytes(f, macs, 12);
}

static void eth(struct frame *f, uint16_t type, const struct frame *inner)
{
	eth_hdr(f);
	put16(f, type);
	put_frame(f, inner);
}

static void sll(struct frame *f, uint16_t proto, const struct frame *inner)
{
	put16(f, 0);                 /* packet type: to us */
	put16(f, 1);                 /* ARPHRD_ETHER */
	put16(f, 6);                 /* address length */
	eth_hdr(f);                  /* 8 bytes of address field... */
	f->n -= 4;                   /* ...so keep 8 of the 12 */
	put16(f, proto);             /* offset 14 */
	put_frame(f, inner);
}

static void sll2(struct frame *f, uint16_t proto, const struct frame *inner)
{
	put16(f, proto);             /* offset 0 */
	put16(f, 0);                 /* reserved */
	put32(f, 3);                 /* ifindex */
	put16(f, 1);                 /* ARPHRD_ETHER */
	put8(f, 4);                  /* packet type: outgoing */
	put8(f, 6);                  /* address length */
	eth_hdr(f);
	f->n -= 4;                   /* 8-byte address field */
	put_frame(f, inner);
}

static void null_hdr(struct frame *f, uint32_t family_host, const struct frame *inner)
{
	put_h32(f, family_host);
	put_frame(f, inner);
}

static void loop_hdr(struct frame *f, uint32_t family, const struct frame *inner)
{
	put32(f, family);
	put_frame(f, inner);
}

/* NFLOG TLV: 16-bit length (including these 4 bytes) and type, host order,
 * value padded to 4 bytes. */
static void nflog_tlv(struct frame *f, uint16_t type, const void *v, size_t n)
{
	put_h16(f, (uint16_t)(4 + n));
	put_h16(f, type);
	put_bytes(f, v, n);
	while (f->n % 4)
		put8(f, 0);
}

#define NFULA_PACKET_HDR 1
#define NFULA_PREFIX 10
#define NFULA_UID 11
#define NFULA_PAYLOAD 9

/* NFLOG header and TLVs before the payload; returns nothing, appends. */
static void nflog_head(struct frame *f, uint8_t family)
{
	put8(f, family);
	put8(f, 0);                  /* version */
	put16(f, 5);                 /* resource id (group), network order */
	static const uint8_t pkthdr[4] = { 0x08, 0x00, 3, 0 };  /* hw_protocol, hook */
	nflog_tlv(f, NFULA_PACKET_HDR, pkthdr, 4);
	nflog_tlv(f, NFULA_PREFIX, "drop:", 6);                  /* 10 -> padded 12 */
	uint32_t uid = 1000;
	nflog_tlv(f, NFULA_UID, &uid, 4);
}

static void nflog(struct frame *f, uint8_t family, const struct frame *inner)
{
	nflog_head(f, family);
	nflog_tlv(f, NFULA_PAYLOAD, inner->b, inner->n);
}

/* ---- running the decoder ----------------------------------------------- */

/*
 * Check what a decode into the exactly-sized `copy` of bytes[0, n) says
 * against the copy, then rebase its pointers onto `bytes`: on DECODE_TCP
 * the payload lies inside the copy; on DECODE_FRAGMENT frag.data does.
 */
static void settle(enum decode_result r, const uint8_t *copy, const uint8_t *bytes, size_t n,
		   struct decode_tcp *out)
{
	uintptr_t b = (uintptr_t)copy;
	if (r == DECODE_TCP) {
		cr_assert_leq(out->payload_caplen, out->payload_len,
			      "payload_caplen %u > payload_len %u",
			      out->payload_caplen, out->payload_len);
		cr_assert_leq(out->encap.depth, DECODE_MAX_ENCAP, "encap depth %u", out->encap.depth);
		if (out->payload == NULL) {
			cr_assert_eq(out->payload_caplen, 0, "NULL payload with bytes");
		} else {
			uintptr_t p = (uintptr_t)out->payload;
			cr_assert(p >= b && p - b <= n && n - (p - b) >= out->payload_caplen,
				  "payload outside the frame");
			out->payload = bytes + (p - b);
		}
	}
	if (r == DECODE_FRAGMENT) {
		cr_assert_leq(out->frag.len, out->frag.wire_len, "frag.len %u > frag.wire_len %u",
			      out->frag.len, out->frag.wire_len);
		uintptr_t p = (uintptr_t)out->frag.data;
		cr_assert(p >= b && p - b <= n && n - (p - b) >= out->frag.len,
			  "fragment outside the frame");
		out->frag.data = bytes + (p - b);
	}
}

/*
 * Decode an exactly-sized heap copy of bytes[0, n), so any read past n is
 * an ASan error; settle() checks and rebases what points into it.
 */
static enum decode_result run(int linktype, const uint8_t *bytes, size_t n,
			      struct decode_tcp *out)
{
	uint8_t *copy = malloc(n);
	cr_assert(copy != NULL || n == 0);
	if (n)
		memcpy(copy, bytes, n);
	memset(out, 0xa5, sizeof *out);
	enum decode_result r = decode_packet(linktype, copy, (uint32_t)n, out);
	settle(r, copy, bytes, n, out);
	free(copy);
	return r;
}

static enum decode_result run_frame(int linktype, const struct frame *f, struct decode_tcp *out)
{
	return run(linktype, f->b, f->n, out);
}

/* decode_ip_payload() on an exactly-sized copy of bytes[0, n) (what
 * reassembly would hand it: n bytes captured of wire_len), `out` as the
 * fragment's decode left it. */
static enum decode_result run_payload(uint8_t proto, const uint8_t *bytes, size_t n,
				      uint32_t wire_len, struct decode_tcp *out)
{
	uint8_t *copy = malloc(n);
	cr_assert(copy != NULL || n == 0);
	if (n)
		memcpy(copy, bytes, n);
	enum decode_result r = decode_ip_payload(proto, copy, (uint32_t)n, wire_len, out);
	settle(r, copy, bytes, n, out);
	free(copy);
	return r;
}

/* The fields of a decoded segment against the spec it was built from. */
static void check_tcp(const struct decode_tcp *d, const struct tcp_spec *t, int ipver)
{
	cr_assert_eq(d->ip_version, ipver);
	cr_assert_eq(d->sport, t->sport);
	cr_assert_eq(d->dport, t->dport);
	cr_assert_eq(d->seq, t->seq);
	cr_assert_eq(d->ack, t->ack);
	cr_assert_eq(d->window, t->window);
	cr_assert_eq(d->flags, t->flags & 0x3f);
	if (ipver == 4) {
		static const uint8_t zero[12];
		cr_assert(memcmp(d->src, SRC4, 4) == 0, "IPv4 source");
		cr_assert(memcmp(d->dst, DST4, 4) == 0, "IPv4 destination");
		cr_assert(memcmp(d->src + 4, zero, 12) == 0, "IPv4 source: rest zero");
		cr_assert(memcmp(d->dst + 4, zero, 12) == 0, "IPv4 destination: rest zero");
	} else {
		cr_assert(memcmp(d->src, SRC6, 16) == 0, "IPv6 source");
		cr_assert(memcmp(d->dst, DST6, 16) == 0, "IPv6 destination");
	}
}

/* A whole frame that ends with the TCP payload: payload at n - paylen. */
static void check_payload_at_end(const struct decode_tcp *d, const struct frame *f, size_t paylen)
{
	cr_assert_eq(d->payload_len, paylen);
	cr_assert_eq(d->payload_caplen, paylen);
	if (paylen)
		cr_assert(d->payload == f->b + f->n - paylen, "payload offset %td, want %zu",
			  d->payload - f->b, f->n - paylen);
	for (size_t i = 0; i < paylen; i++)
		cr_assert_eq(d->payload[i], pay_byte(i));
}

/* The standard segment over `linktype`: fields, payload, no options. */
static void expect_std(int linktype, const struct frame *f, const struct tcp_spec *t, int ipver)
{
	struct decode_tcp d;
	enum decode_result r = run_frame(linktype, f, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, t, ipver);
	check_payload_at_end(&d, f, t->paylen);
	cr_assert_not(d.has_mss);
	cr_assert_not(d.has_wscale);
	cr_assert_not(d.sack_permitted);
	cr_assert_not(d.has_timestamps);
}

static void expect_result(int linktype, const struct frame *f, enum decode_result want)
{
	struct decode_tcp d;
	enum decode_result r = run_frame(linktype, f, &d);
	cr_assert_eq(r, want, "want %s, got %s", decode_result_name(want), decode_result_name(r));
}

/*
 * Every cut of a frame whose TCP header ends at `hdr` and which carries
 * `paylen` payload bytes to its end: shorter than the headers is
 * truncated (caplen 0 too), anything longer decodes with a shorter
 * payload_caplen but the same payload_len.
 */
static void every_caplen_but(int linktype, const struct frame *f, size_t hdr, uint32_t paylen,
			     const size_t *either, size_t n_either)
{
	cr_assert_eq(f->n, hdr + paylen, "test bug: frame layout");
	for (size_t c = 0; c <= f->n; c++) {
		struct decode_tcp d;
		enum decode_result r = run(linktype, f->b, c, &d);
		bool amb = false;
		for (size_t i = 0; i < n_either; i++)
			amb |= either[i] == c;
		if (amb) {
			cr_assert(r == DECODE_TRUNCATED || r == DECODE_NOT_TCP,
				  "linktype %d caplen %zu (a record boundary): got %s",
				  linktype, c, decode_result_name(r));
			continue;
		}
		if (c < hdr) {
			cr_assert_eq(r, DECODE_TRUNCATED, "linktype %d caplen %zu (headers %zu): got %s",
				     linktype, c, hdr, decode_result_name(r));
			continue;
		}
		cr_assert_eq(r, DECODE_TCP, "linktype %d caplen %zu (headers %zu): got %s",
			     linktype, c, hdr, decode_result_name(r));
		cr_assert_eq(d.payload_caplen, c - hdr, "caplen %zu: payload_caplen %u",
			     c, d.payload_caplen);
		cr_assert_eq(d.payload_len, paylen, "caplen %zu: payload_len %u", c, d.payload_len);
		if (d.payload_caplen)
			cr_assert(d.payload == f->b + hdr, "caplen %zu: payload offset", c);
	}
}

static void every_caplen(int linktype, const struct frame *f, size_t hdr, uint32_t paylen)
{
	every_caplen_but(linktype, f, hdr, paylen, NULL, 0);
}

/* Timestamps as Linux puts them on data segments: NOP NOP TS. */
static const uint8_t OPT_NOP_NOP_TS[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };

static struct tcp_spec tcp_100(void)
{
	struct tcp_spec t = tcp_default();
	t.opt = OPT_NOP_NOP_TS;
	t.optlen = sizeof OPT_NOP_NOP_TS;
	t.paylen = 100;
	return t;
}

/* ---- Ethernet, VLAN, QinQ, MPLS ---------------------------------------- */

Test(decode, ethernet_ipv4)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
}

Test(decode, ethernet_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	eth(&f, 0x86dd, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
}

Test(decode, vlan_8021q_ipv4)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8100);
	put16(&f, 0x2064);           /* PCP 1, VID 100 */
	put16(&f, 0x0800);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
}

Test(decode, vlan_8021q_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8100);
	put16(&f, 0x0fff);           /* VID 4095 */
	put16(&f, 0x86dd);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
}

Test(decode, qinq_88a8_then_8100)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x88a8);
	put16(&f, 0x000a);           /* S-tag VID 10 */
	put16(&f, 0x8100);
	put16(&f, 0x0014);           /* C-tag VID 20 */
	put16(&f, 0x0800);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
}

/* MPLS label entry: label(20) TC(3) S(1) TTL(8). */
static void mpls_label(struct frame *f, uint32_t label, bool bottom)
{
	put32(f, label << 12 | (bottom ? 1u : 0u) << 8 | 64);
}

Test(decode, mpls_two_labels_ipv4)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8847);
	mpls_label(&f, 1000, false);
	mpls_label(&f, 2000, true);
	put_frame(&f, &ip);      /* no ethertype after MPLS: first nibble 4 */
	expect_std(DLT_EN10MB, &f, &t, 4);
}

Test(decode, mpls_three_labels_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8847);
	mpls_label(&f, 16, false);
	mpls_label(&f, 17, false);
	mpls_label(&f, 0xfffff, true);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
}

Test(decode, vlan_then_mpls_ipv4)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8100);
	put16(&f, 0x0064);
	put16(&f, 0x8847);
	mpls_label(&f, 3000, true);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
}

/* ---- Linux cooked, raw IP, loopback, NFLOG ------------------------------ */

Test(decode, linux_sll_ipv4_and_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	sll(&f, 0x0800, &ip);
	cr_assert_eq(f.n, 16 + ip.n);
	expect_std(DLT_LINUX_SLL, &f, &t, 4);

	struct frame ip6 = { .n = 0 }, f6 = { .n = 0 };
	ip6_tcp(&ip6, &t);
	sll(&f6, 0x86dd, &ip6);
	expect_std(DLT_LINUX_SLL, &f6, &t, 6);
}

Test(decode, linux_sll2_ipv4_and_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	sll2(&f, 0x0800, &ip);
	cr_assert_eq(f.n, 20 + ip.n);
	expect_std(DLT_LINUX_SLL2, &f, &t, 4);

	struct frame ip6 = { .n = 0 }, f6 = { .n = 0 };
	ip6_tcp(&ip6, &t);
	sll2(&f6, 0x86dd, &ip6);
	expect_std(DLT_LINUX_SLL2, &f6, &t, 6);
}

Test(decode, raw_ip_by_version_nibble)
{
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	/* pcap_datalink() maps LINKTYPE_RAW (101) to DLT_RAW (12 on Linux). */
	expect_std(DLT_RAW, &ip4, &t, 4);
	expect_std(DLT_RAW, &ip6, &t, 6);
	/* LINKTYPE_RAW itself is optional; if claimed, it must work. */
	if (decode_linktype_supported(101)) {
		expect_std(101, &ip4, &t, 4);
		expect_std(101, &ip6, &t, 6);
	}
}

Test(decode, dlt_ipv4_and_dlt_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	expect_std(DLT_IPV4, &ip4, &t, 4);
	expect_std(DLT_IPV6, &ip6, &t, 6);
}

Test(decode, dlt_null_host_order)
{
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	struct frame f = { .n = 0 };
	null_hdr(&f, 2, &ip4);       /* AF_INET */
	expect_std(DLT_NULL, &f, &t, 4);
	/* AF_INET6 on NetBSD/OpenBSD (24), FreeBSD (28), macOS (30). */
	static const uint32_t fam6[] = { 24, 28, 30 };
	for (size_t i = 0; i < 3; i++) {
		struct frame g = { .n = 0 };
		null_hdr(&g, fam6[i], &ip6);
		expect_std(DLT_NULL, &g, &t, 6);
	}
}

Test(decode, dlt_null_swapped_order)
{
	/* A capture written on a host of the other byte order: libpcap does
	 * not swap the DLT_NULL family, readers accept both (tcpdump
	 * print-null.c). */
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	struct frame f = { .n = 0 };
	null_hdr(&f, swap32(2), &ip4);
	expect_std(DLT_NULL, &f, &t, 4);
	static const uint32_t fam6[] = { 24, 28, 30 };
	for (size_t i = 0; i < 3; i++) {
		struct frame g = { .n = 0 };
		null_hdr(&g, swap32(fam6[i]), &ip6);
		expect_std(DLT_NULL, &g, &t, 6);
	}
}

Test(decode, dlt_loop_network_order)
{
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	struct frame f = { .n = 0 };
	loop_hdr(&f, 2, &ip4);
	cr_assert_eq(f.b[3], 2);
	expect_std(DLT_LOOP, &f, &t, 4);
	static const uint32_t fam6[] = { 24, 28, 30 };
	for (size_t i = 0; i < 3; i++) {
		struct frame g = { .n = 0 };
		loop_hdr(&g, fam6[i], &ip6);
		expect_std(DLT_LOOP, &g, &t, 6);
	}
}

Test(decode, nflog_ipv4_payload_tlv)
{
	struct tcp_spec t = tcp_default();
	t.paylen = 8;                /* IP length 48: no TLV padding */
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	nflog(&f, 2, &ip);
	expect_std(DLT_NFLOG, &f, &t, 4);
}

Test(decode, nflog_ipv6_payload_tlv)
{
	struct tcp_spec t = tcp_default();
	t.paylen = 4;                /* IP length 64 */
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	nflog(&f, 10, &ip);          /* Linux AF_INET6 */
	expect_std(DLT_NFLOG, &f, &t, 6);
}

Test(decode, nflog_padding_is_not_payload)
{
	struct tcp_spec t = tcp_default();
	t.paylen = 5;                /* IP length 45: 3 bytes of TLV padding */
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	nflog(&f, 2, &ip);
	cr_assert_eq(f.n % 4, 0);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_NFLOG, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, 5);
	cr_assert_eq(d.payload_caplen, 5);
	cr_assert(d.payload == f.b + f.n - 3 - 5);
}

Test(decode, nflog_tlv_after_payload)
{
	/* The payload need not be the last TLV. */
	struct tcp_spec t = tcp_default();
	t.paylen = 6;
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	nflog(&f, 2, &ip);
	size_t pay_at = f.n - 2 - 6;     /* 46-byte packet padded to 48 */
	uint32_t gid = 100;
	nflog_tlv(&f, 14 /* NFULA_GID */, &gid, 4);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_NFLOG, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, 6);
	cr_assert_eq(d.payload_caplen, 6);
	cr_assert(d.payload == f.b + pay_at);
}

Test(decode, nflog_kernel_copy_range)
{
	/* nflog with a copy range: the payload TLV holds only the first
	 * bytes of the packet; the IP length still says what was sent. */
	struct tcp_spec t = tcp_default();
	t.paylen = 100;
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	ip.n = 20 + 20 + 48;         /* keep headers and 48 payload bytes */
	nflog(&f, 2, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_NFLOG, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, 100);
	cr_assert_eq(d.payload_caplen, 48);
}

Test(decode, nflog_without_payload_tlv_is_not_tcp)
{
	struct frame f = { .n = 0 };
	nflog_head(&f, 2);
	struct decode_tcp d;
	enum decode_result r = run_frame(DLT_NFLOG, &f, &d);
	/* No packet at all: anything but a TCP segment. */
	cr_assert_neq(r, DECODE_TCP);
}

/* ---- IPv4 --------------------------------------------------------------- */

Test(decode, ipv4_options)
{
	static const uint8_t opts[8] = { 1, 1, 1, 1, 0x94, 4, 0, 0 };  /* NOPs, router alert */
	struct tcp_spec t = tcp_default();
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.opt = opts;
	s.optlen = sizeof opts;      /* IHL 7 */
	ip4_build(&ip, &s, &l4);
	cr_assert_eq(ip.b[0], 0x47);
	eth(&f, 0x0800, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
	struct decode_tcp d;
	run_frame(DLT_EN10MB, &f, &d);
	cr_assert(d.payload == f.b + 14 + 28 + 20);
}

static enum decode_result ip4_frag_result(uint16_t frag)
{
	struct tcp_spec t = tcp_default();
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.frag = frag;
	ip4_build(&ip, &s, &l4);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	return run_frame(DLT_EN10MB, &f, &d);
}

Test(decode, ipv4_fragments)
{
	cr_assert_eq(ip4_frag_result(0x2000), DECODE_FRAGMENT, "MF, offset 0");
	cr_assert_eq(ip4_frag_result(0x00b9), DECODE_FRAGMENT, "offset 185*8, last");
	cr_assert_eq(ip4_frag_result(0x20b9), DECODE_FRAGMENT, "MF, offset 185*8");
	cr_assert_eq(ip4_frag_result(0x0001), DECODE_FRAGMENT, "offset 8, last");
	cr_assert_eq(ip4_frag_result(0x4000), DECODE_TCP, "DF only");
	cr_assert_eq(ip4_frag_result(0x0000), DECODE_TCP, "no flags");
}

Test(decode, ipv4_total_length_beyond_capture_is_not_malformed)
{
	/* The IP length says 100 payload bytes, only 20 were captured. */
	struct tcp_spec t = tcp_default();
	t.paylen = 20;
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 20 + 20 + 100;
	ip4_build(&ip, &s, &l4);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, 100);
	cr_assert_eq(d.payload_caplen, 20);
	cr_assert(d.payload == f.b + 54);
}

Test(decode, ipv4_total_length_zero_tso)
{
	/*
	 * decode.h does not say.  A capture on the sending host with TCP
	 * segmentation offload shows super-frames whose IPv4 total length is
	 * 0 (the NIC fills it in per segment); tcpdump then uses the captured
	 * length ("[total length 0 - assumed TSO]" in print-ip.c).  Dropping
	 * them would lose every large send, so: DECODE_TCP, and the payload
	 * is every captured byte after the headers.
	 */
	struct tcp_spec t = tcp_default();
	t.paylen = 3000;
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 0;
	ip4_build(&ip, &s, &l4);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	enum decode_result r = run_frame(DLT_EN10MB, &f, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, &t, 4);
	check_payload_at_end(&d, &f, 3000);
}

Test(decode, ethernet_trailer_padding_is_not_payload)
{
	/* 14 + 20 + 20 + 2 = 56 bytes, padded to the 60-byte minimum. */
	struct tcp_spec t = tcp_default();
	t.paylen = 2;
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	for (int i = 0; i < 4; i++)
		put8(&f, 0);
	cr_assert_eq(f.n, 60);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, 2);
	cr_assert_eq(d.payload_caplen, 2);
	cr_assert(d.payload == f.b + 54);

	/* A bare ACK: 54 bytes + 6 of padding, no payload at all. */
	struct tcp_spec a = tcp_default();
	a.flags = KL_TCP_ACK;
	a.paylen = 0;
	struct frame ip2 = { .n = 0 }, g = { .n = 0 };
	ip4_tcp(&ip2, &a);
	eth(&g, 0x0800, &ip2);
	for (int i = 0; i < 6; i++)
		put8(&g, 0xff);
	cr_assert_eq(run_frame(DLT_EN10MB, &g, &d), DECODE_TCP);
	check_tcp(&d, &a, 4);
	cr_assert_eq(d.payload_len, 0);
	cr_assert_eq(d.payload_caplen, 0);
}

/* ---- IPv6 extension headers ---------------------------------------------- */

Test(decode, ipv6_hbh_dstopts_routing_then_tcp)
{
	struct tcp_spec t = tcp_default();
	struct frame ext = { .n = 0 }, l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	ext_hbh(&ext, 60);
	ext_dstopts(&ext, 43);
	ext_routing(&ext, 6);
	cr_assert_eq(ext.n, 48);
	tcp_build(&l4, &t);
	struct ip6_spec s = { .nh = 0, .ext = &ext };
	ip6_build(&ip, &s, &l4);
	eth(&f, 0x86dd, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
	struct decode_tcp d;
	run_frame(DLT_EN10MB, &f, &d);
	cr_assert(d.payload == f.b + 14 + 40 + 48 + 20);
}

Test(decode, ipv6_ah_then_tcp)
{
	struct tcp_spec t = tcp_default();
	struct frame ext = { .n = 0 }, l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	ext_ah(&ext, 6);
	cr_assert_eq(ext.n, 24);
	tcp_build(&l4, &t);
	struct ip6_spec s = { .nh = 51, .ext = &ext };
	ip6_build(&ip, &s, &l4);
	eth(&f, 0x86dd, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
}

static enum decode_result ip6_frag_result(unsigned offset8, bool more, struct decode_tcp *d,
					  struct tcp_spec *t)
{
	*t = tcp_default();
	struct frame ext = { .n = 0 }, l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	ext_frag(&ext, 6, offset8, more);
	tcp_build(&l4, t);
	struct ip6_spec s = { .nh = 44, .ext = &ext };
	ip6_build(&ip, &s, &l4);
	eth(&f, 0x86dd, &ip);
	return run_frame(DLT_EN10MB, &f, d);
}

Test(decode, ipv6_atomic_fragment_is_tcp)
{
	/* RFC 6946: offset 0 and M=0 is a whole packet. */
	struct decode_tcp d;
	struct tcp_spec t;
	cr_assert_eq(ip6_frag_result(0, false, &d, &t), DECODE_TCP);
	check_tcp(&d, &t, 6);
	cr_assert_eq(d.payload_len, t.paylen);
	cr_assert_eq(d.payload_caplen, t.paylen);
}

Test(decode, ipv6_real_fragments)
{
	struct decode_tcp d;
	struct tcp_spec t;
	cr_assert_eq(ip6_frag_result(0, true, &d, &t), DECODE_FRAGMENT, "first fragment");
	cr_assert_eq(ip6_frag_result(181, true, &d, &t), DECODE_FRAGMENT, "middle fragment");
	cr_assert_eq(ip6_frag_result(181, false, &d, &t), DECODE_FRAGMENT, "last fragment");
}

/* ---- not TCP ------------------------------------------------------------- */

Test(decode, ipv4_udp_and_icmp_are_not_tcp)
{
	struct frame udp = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	put16(&udp, 5353); put16(&udp, 53); put16(&udp, 12); put16(&udp, 0);
	put32(&udp, 0x01020304);
	struct ip4_spec s = ip4_default();
	s.proto = 17;
	ip4_build(&ip, &s, &udp);
	eth(&f, 0x0800, &ip);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);

	struct frame icmp = { .n = 0 }, ip2 = { .n = 0 }, g = { .n = 0 };
	put8(&icmp, 8); put8(&icmp, 0); put16(&icmp, 0); put32(&icmp, 0x00010001);
	s.proto = 1;
	ip4_build(&ip2, &s, &icmp);
	eth(&g, 0x0800, &ip2);
	expect_result(DLT_EN10MB, &g, DECODE_NOT_TCP);
}

Test(decode, ipv6_udp_icmpv6_and_no_next_header_are_not_tcp)
{
	struct frame udp = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	put16(&udp, 5353); put16(&udp, 53); put16(&udp, 8); put16(&udp, 0);
	struct ip6_spec s = { .nh = 17 };
	ip6_build(&ip, &s, &udp);
	eth(&f, 0x86dd, &ip);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);

	struct frame icmp = { .n = 0 }, ip2 = { .n = 0 }, g = { .n = 0 };
	put8(&icmp, 128); put8(&icmp, 0); put16(&icmp, 0); put32(&icmp, 1);
	struct ip6_spec s2 = { .nh = 58 };
	ip6_build(&ip2, &s2, &icmp);
	eth(&g, 0x86dd, &ip2);
	expect_result(DLT_EN10MB, &g, DECODE_NOT_TCP);

	/* UDP behind a hop-by-hop header. */
	struct frame ext = { .n = 0 }, ip3 = { .n = 0 }, h = { .n = 0 };
	ext_hbh(&ext, 17);
	struct ip6_spec s3 = { .nh = 0, .ext = &ext };
	ip6_build(&ip3, &s3, &udp);
	eth(&h, 0x86dd, &ip3);
	expect_result(DLT_EN10MB, &h, DECODE_NOT_TCP);

	struct frame none = { .n = 0 }, ip4 = { .n = 0 }, k = { .n = 0 };
	struct ip6_spec s4 = { .nh = 59 };
	ip6_build(&ip4, &s4, &none);
	eth(&k, 0x86dd, &ip4);
	expect_result(DLT_EN10MB, &k, DECODE_NOT_TCP);
}

Test(decode, arp_and_other_ethertypes_are_not_tcp)
{
	/* ARP request for 192.0.2.2 from 192.0.2.1, padded to 60 bytes. */
	struct frame arp = { .n = 0 }, f = { .n = 0 };
	put16(&arp, 1); put16(&arp, 0x0800); put8(&arp, 6); put8(&arp, 4); put16(&arp, 1);
	put_bytes(&arp, "\x02\x00\x00\x00\x00\x02", 6); put_bytes(&arp, SRC4, 4);
	put_bytes(&arp, "\x00\x00\x00\x00\x00\x00", 6); put32(&arp, 0xc0000202);
	for (int i = 0; i < 18; i++)
		put8(&arp, 0);
	eth(&f, 0x0806, &arp);
	cr_assert_eq(f.n, 60);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);

	/* LLDP (0x88cc) and ARP inside a VLAN tag. */
	struct frame g = { .n = 0 };
	eth(&g, 0x88cc, &arp);
	expect_result(DLT_EN10MB, &g, DECODE_NOT_TCP);
	struct frame h = { .n = 0 };
	eth_hdr(&h);
	put16(&h, 0x8100); put16(&h, 5); put16(&h, 0x0806);
	put_frame(&h, &arp);
	expect_result(DLT_EN10MB, &h, DECODE_NOT_TCP);

	/* ARP on a Linux cooked capture. */
	struct frame k = { .n = 0 };
	sll(&k, 0x0806, &arp);
	expect_result(DLT_LINUX_SLL, &k, DECODE_NOT_TCP);
}

/* ---- TCP fields and options --------------------------------------------- */

static void decode_with_options(const uint8_t *opt, size_t optlen, struct decode_tcp *d,
				enum decode_result *r, struct tcp_spec *t, struct frame *f)
{
	*t = tcp_default();
	t->flags = KL_TCP_SYN;
	t->opt = opt;
	t->optlen = optlen;
	t->paylen = 3;
	struct frame ip = { .n = 0 };
	ip4_tcp(&ip, t);
	f->n = 0;
	eth(f, 0x0800, &ip);
	*r = run_frame(DLT_EN10MB, f, d);
}

Test(decode, flags_each_and_all)
{
	static const uint8_t each[] = { KL_TCP_FIN, KL_TCP_SYN, KL_TCP_RST, KL_TCP_PSH,
					KL_TCP_ACK, KL_TCP_URG, 0x3f, KL_TCP_SYN | KL_TCP_ACK, 0 };
	for (size_t i = 0; i < sizeof each; i++) {
		struct tcp_spec t = tcp_default();
		t.flags = each[i];
		struct frame ip = { .n = 0 }, f = { .n = 0 };
		ip4_tcp(&ip, &t);
		eth(&f, 0x0800, &ip);
		struct decode_tcp d;
		cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
		cr_assert_eq(d.flags, each[i], "flags 0x%02x -> 0x%02x", each[i], d.flags);
	}
	/* ECE and CWR (0x40, 0x80) and the AE bit in byte 12 must not
	 * disturb the six KL_TCP_* bits or the data offset. */
	struct tcp_spec t = tcp_default();
	t.flags = 0xff;
	t.byte12_low = 0x01;
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
	cr_assert_eq(d.flags & 0x3f, 0x3f);
	check_payload_at_end(&d, &f, t.paylen);
}

Test(decode, ports_seq_ack_window_extremes)
{
	struct tcp_spec t = tcp_default();
	t.sport = 65535;
	t.dport = 1;
	t.seq = 0xffffffff;
	t.ack = 0x80000001;
	t.window = 0xffff;
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	eth(&f, 0x86dd, &ip);
	expect_std(DLT_EN10MB, &f, &t, 6);
}

Test(decode, syn_options_linux)
{
	/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
	static const uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34,
					 0, 0, 0, 0, 1, 3, 3, 7 };
	struct decode_tcp d;
	enum decode_result r;
	struct tcp_spec t;
	struct frame f;
	decode_with_options(opt, sizeof opt, &d, &r, &t, &f);
	cr_assert_eq(r, DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert(d.has_mss);
	cr_assert_eq(d.mss, 1460);
	cr_assert(d.sack_permitted);
	cr_assert(d.has_timestamps);
	cr_assert(d.has_wscale);
	cr_assert_eq(d.wscale, 7);
	check_payload_at_end(&d, &f, 3);
	cr_assert(d.payload == f.b + 14 + 20 + 40);
}

Test(decode, no_options_reports_none)
{
	struct decode_tcp d;
	enum decode_result r;
	struct tcp_spec t;
	struct frame f;
	decode_with_options(NULL, 0, &d, &r, &t, &f);
	cr_assert_eq(r, DECODE_TCP);
	cr_assert_not(d.has_mss);
	cr_assert_not(d.has_wscale);
	cr_assert_not(d.sack_permitted);
	cr_assert_not(d.has_timestamps);
}

Test(decode, options_stop_at_eol)
{
	/* MSS, EOL, then bytes that would read as window scale 7: after
	 * End of Option List nothing is an option (RFC 9293 §3.2). */
	static const uint8_t opt[8] = { 2, 4, 0x02, 0x18, 0, 3, 3, 7 };
	struct decode_tcp d;
	enum decode_result r;
	struct tcp_spec t;
	struct frame f;
	decode_with_options(opt, sizeof opt, &d, &r, &t, &f);
	cr_assert_eq(r, DECODE_TCP);
	cr_assert(d.has_mss);
	cr_assert_eq(d.mss, 536);
	cr_assert_not(d.has_wscale);
	check_payload_at_end(&d, &f, 3);
}

Test(decode, unknown_option_is_skipped)
{
	/* Experimental option 254 (length 4), then window scale 14, NOP,
	 * SACK permitted, NOP, NOP. */
	static const uint8_t opt[12] = { 254, 4, 0xab, 0xcd, 3, 3, 14, 1, 4, 2, 1, 1 };
	struct decode_tcp d;
	enum decode_result r;
	struct tcp_spec t;
	struct frame f;
	decode_with_options(opt, sizeof opt, &d, &r, &t, &f);
	cr_assert_eq(r, DECODE_TCP);
	cr_assert(d.has_wscale);
	cr_assert_eq(d.wscale, 14);
	cr_assert(d.sack_permitted);
	cr_assert_not(d.has_mss);
	cr_assert_not(d.has_timestamps);
}

/*
 * Broken option lists.  Options are informational (decode.h: "TCP
 * options, when present"); the segment's ports, sequence numbers and
 * payload are intact, and the Linux receiver (tcp_parse_options) simply
 * stops parsing at a silly option length and accepts the segment.  So a
 * bad option list must not lose the segment: DECODE_TCP, options read
 * before the bad one are still reported, nothing after it is.
 */
static void expect_bad_options(const uint8_t *opt, size_t optlen, const char *what)
{
	struct decode_tcp d;
	enum decode_result r;
	struct tcp_spec t;
	struct frame f;
	decode_with_options(opt, optlen, &d, &r, &t, &f);
	cr_assert_eq(r, DECODE_TCP, "%s: got %s", what, decode_result_name(r));
	check_tcp(&d, &t, 4);
	cr_assert(d.has_mss, "%s: MSS before the bad option", what);
	cr_assert_eq(d.mss, 1460, "%s", what);
	cr_assert_not(d.has_timestamps, "%s", what);
	check_payload_at_end(&d, &f, 3);
}

Test(decode, bad_option_length_zero)
{
	static const uint8_t opt[12] = { 2, 4, 0x05, 0xb4, 8, 0, 0, 0, 0, 0, 0, 0 };
	expect_bad_options(opt, sizeof opt, "length 0");
}

Test(decode, bad_option_length_one)
{
	static const uint8_t opt[12] = { 2, 4, 0x05, 0xb4, 8, 1, 0, 0, 0, 0, 0, 0 };
	expect_bad_options(opt, sizeof opt, "length 1");
}

Test(decode, bad_option_runs_past_header)
{
	/* Timestamps (length 10) starting 3 bytes before the end. */
	static const uint8_t opt[8] = { 2, 4, 0x05, 0xb4, 1, 8, 10, 0 };
	expect_bad_options(opt, sizeof opt, "length past the header");
}

Test(decode, bad_option_kind_without_length_byte)
{
	/* Timestamps kind in the last option byte, no room for its length. */
	static const uint8_t opt[8] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 8 };
	expect_bad_options(opt, sizeof opt, "kind at the last byte");
}

/* ---- every snaplen ------------------------------------------------------- */

Test(decode, snaplen_every_cut_ethernet_ipv4)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	every_caplen(DLT_EN10MB, &f, 14 + 20 + 32, 100);
}

Test(decode, snaplen_every_cut_ethernet_ipv6_ext_headers)
{
	struct tcp_spec t = tcp_100();
	struct frame ext = { .n = 0 }, l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	ext_hbh(&ext, 60);
	ext_dstopts(&ext, 43);
	ext_routing(&ext, 44);
	ext_frag(&ext, 6, 0, false);
	tcp_build(&l4, &t);
	struct ip6_spec s = { .nh = 0, .ext = &ext };
	ip6_build(&ip, &s, &l4);
	eth(&f, 0x86dd, &ip);
	every_caplen(DLT_EN10MB, &f, 14 + 40 + 56 + 32, 100);
}

Test(decode, snaplen_every_cut_qinq_ipv4_options)
{
	static const uint8_t opts[4] = { 0x94, 4, 0, 0 };
	struct tcp_spec t = tcp_100();
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.opt = opts;
	s.optlen = 4;
	ip4_build(&ip, &s, &l4);
	eth_hdr(&f);
	put16(&f, 0x88a8); put16(&f, 10); put16(&f, 0x8100); put16(&f, 20); put16(&f, 0x0800);
	put_frame(&f, &ip);
	every_caplen(DLT_EN10MB, &f, 22 + 24 + 32, 100);
}

Test(decode, snaplen_every_cut_mpls)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, 0x8847);
	mpls_label(&f, 100, false);
	mpls_label(&f, 200, true);
	put_frame(&f, &ip);
	every_caplen(DLT_EN10MB, &f, 14 + 8 + 20 + 32, 100);
}

Test(decode, snaplen_every_cut_sll_sll2)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, f = { .n = 0 }, g = { .n = 0 };
	ip4_tcp(&ip, &t);
	sll(&f, 0x0800, &ip);
	every_caplen(DLT_LINUX_SLL, &f, 16 + 20 + 32, 100);
	struct frame ip6 = { .n = 0 };
	ip6_tcp(&ip6, &t);
	sll2(&g, 0x86dd, &ip6);
	every_caplen(DLT_LINUX_SLL2, &g, 20 + 40 + 32, 100);
}

Test(decode, snaplen_every_cut_raw_null_loop)
{
	struct tcp_spec t = tcp_100();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	every_caplen(DLT_RAW, &ip4, 20 + 32, 100);
	every_caplen(DLT_RAW, &ip6, 40 + 32, 100);
	every_caplen(DLT_IPV4, &ip4, 20 + 32, 100);
	every_caplen(DLT_IPV6, &ip6, 40 + 32, 100);
	struct frame n4 = { .n = 0 }, n6 = { .n = 0 }, l4 = { .n = 0 };
	null_hdr(&n4, 2, &ip4);
	every_caplen(DLT_NULL, &n4, 4 + 20 + 32, 100);
	null_hdr(&n6, swap32(30), &ip6);
	every_caplen(DLT_NULL, &n6, 4 + 40 + 32, 100);
	loop_hdr(&l4, 2, &ip4);
	every_caplen(DLT_LOOP, &l4, 4 + 20 + 32, 100);
}

Test(decode, snaplen_every_cut_nflog)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);            /* 152 bytes: no TLV padding */
	nflog(&f, 2, &ip);
	size_t head = f.n - ip.n;    /* NFLOG header, TLVs, payload TLV header */
	cr_assert_eq(head, 4 + 8 + 12 + 8 + 4);
	/*
	 * A cut that ends exactly between TLVs before the payload TLV looks
	 * like a whole NFLOG record that carries no packet (copy mode "meta"):
	 * decode_packet() sees caplen only, not the wire length, so it cannot
	 * tell the two apart.  There, not-tcp is as right as truncated.
	 */
	static const size_t boundaries[] = { 4, 12, 24, 32 };
	every_caplen_but(DLT_NFLOG, &f, head + 20 + 32, 100, boundaries, 4);
}

/* ---- malformed ----------------------------------------------------------- */

static void eth_ip4_custom(struct frame *f, const struct ip4_spec *s, const struct tcp_spec *t)
{
	struct frame l4 = { .n = 0 }, ip = { .n = 0 };
	tcp_build(&l4, t);
	ip4_build(&ip, s, &l4);
	f->n = 0;
	eth(f, 0x0800, &ip);
}

Test(decode, malformed_ipv4_ihl_below_5)
{
	struct tcp_spec t = tcp_default();
	struct frame f;
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		struct ip4_spec s = ip4_default();
		eth_ip4_custom(&f, &s, &t);
		f.b[14] = (uint8_t)(0x40 | ihl);     /* by hand: ihl 0 means "computed" */
		struct decode_tcp d;
		enum decode_result r = run_frame(DLT_EN10MB, &f, &d);
		cr_assert_eq(r, DECODE_MALFORMED, "IHL %u: got %s", ihl, decode_result_name(r));
	}
}

Test(decode, malformed_ipv4_total_length_below_header)
{
	struct tcp_spec t = tcp_default();
	struct frame f;
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 19;
	eth_ip4_custom(&f, &s, &t);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);

	/* IHL 6 (24 bytes) but total length 22. */
	static const uint8_t opts[4] = { 1, 1, 1, 0 };
	s.opt = opts;
	s.optlen = 4;
	s.tot = 22;
	eth_ip4_custom(&f, &s, &t);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

Test(decode, malformed_ipv4_total_length_below_tcp_header)
{
	/* Total length 30: 10 bytes for a 20-byte TCP header. */
	struct tcp_spec t = tcp_default();
	struct frame f;
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 30;
	eth_ip4_custom(&f, &s, &t);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

Test(decode, malformed_ipv6_payload_length_below_tcp_header)
{
	/* Payload length 10 with next header TCP: no room for 20 bytes. */
	struct tcp_spec t = tcp_default();
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip6_spec s = { .nh = 6, .set_plen = true, .plen = 10 };
	ip6_build(&ip, &s, &l4);
	eth(&f, 0x86dd, &ip);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

Test(decode, malformed_tcp_data_offset_below_5)
{
	for (unsigned doff = 1; doff < 5; doff++) {
		struct tcp_spec t = tcp_default();
		t.doff = doff;
		struct frame f;
		struct ip4_spec s = ip4_default();
		eth_ip4_custom(&f, &s, &t);
		struct decode_tcp d;
		enum decode_result r = run_frame(DLT_EN10MB, &f, &d);
		cr_assert_eq(r, DECODE_MALFORMED, "data offset %u: got %s", doff,
			     decode_result_name(r));
	}
	/* Data offset 0 too (the loop starts at 1 so that 0 is not taken
	 * as "computed" by tcp_build): write it by hand. */
	struct tcp_spec t = tcp_default();
	struct frame f;
	struct ip4_spec s = ip4_default();
	eth_ip4_custom(&f, &s, &t);
	f.b[14 + 20 + 12] = 0x00;
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

Test(decode, malformed_tcp_data_offset_beyond_ip_length)
{
	/* Data offset 15 (60 bytes) and 60 bytes captured, but the IP total
	 * length leaves room for only 20 + 20. */
	static const uint8_t opt[40] = { 1 };  /* NOP then EOLs */
	struct tcp_spec t = tcp_default();
	t.opt = opt;
	t.optlen = sizeof opt;
	t.paylen = 0;
	struct frame f;
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 40;
	eth_ip4_custom(&f, &s, &t);
	cr_assert_eq(f.n, 14 + 20 + 60);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);

	/* The same in IPv6: payload length 24 < data offset 60 bytes. */
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, g = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip6_spec s6 = { .nh = 6, .set_plen = true, .plen = 24 };
	ip6_build(&ip, &s6, &l4);
	eth(&g, 0x86dd, &ip);
	expect_result(DLT_EN10MB, &g, DECODE_MALFORMED);
}

Test(decode, malformed_ip_version_mismatch)
{
	/* Version 6 in an IPv4 ethertype. */
	struct tcp_spec t = tcp_default();
	struct frame f;
	struct ip4_spec s = ip4_default();
	s.version = 6;
	eth_ip4_custom(&f, &s, &t);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);

	/* Version 4 in an IPv6 ethertype. */
	struct frame ip = { .n = 0 }, g = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&g, 0x86dd, &ip);
	expect_result(DLT_EN10MB, &g, DECODE_MALFORMED);

	/* The same contradiction on the fixed-version raw link types. */
	struct frame ip6 = { .n = 0 };
	ip6_tcp(&ip6, &t);
	expect_result(DLT_IPV4, &ip6, DECODE_MALFORMED);
	expect_result(DLT_IPV6, &ip, DECODE_MALFORMED);
}

/* ---- link types and names ------------------------------------------------ */

Test(decode, unsupported_link_type)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	cr_assert_not(decode_linktype_supported(DLT_USER0));
	expect_result(DLT_USER0, &f, DECODE_UNSUPPORTED_LINK);
	cr_assert_not(decode_linktype_supported(-1));
	expect_result(-1, &f, DECODE_UNSUPPORTED_LINK);
	/* Even with nothing captured: the link type is judged first. */
	struct decode_tcp d;
	cr_assert_eq(run(DLT_USER0, f.b, 0, &d), DECODE_UNSUPPORTED_LINK);
}

Test(decode, supported_link_types)
{
	static const int lt[] = { DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_LOOP, DLT_LINUX_SLL,
				  DLT_IPV4, DLT_IPV6, DLT_NFLOG, DLT_LINUX_SLL2,
				  DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_IEEE802_11_RADIO_AVS,
				  DLT_PRISM_HEADER, DLT_PPI, DLT_PPP, DLT_PPP_SERIAL, DLT_PPP_PPPD,
				  DLT_PPP_WITH_DIR, DLT_PPP_ETHER, DLT_C_HDLC, DLT_FRELAY,
				  DLT_ATM_RFC1483, DLT_MPLS, DLT_PKTAP, DLT_IPNET, DLT_IPOIB,
				  DLT_ENC, DLT_PFLOG, DLT_NETANALYZER, DLT_NETANALYZER_TRANSPARENT };
	for (size_t i = 0; i < sizeof lt / sizeof lt[0]; i++)
		cr_assert(decode_linktype_supported(lt[i]), "linktype %d", lt[i]);
	/* Values checked against <pcap/dlt.h> on Linux. */
	cr_assert_eq(DLT_RAW, 12);
	cr_assert_eq(DLT_LOOP, 108);
	cr_assert_eq(DLT_LINUX_SLL, 113);
	cr_assert_eq(DLT_LINUX_SLL2, 276);
	cr_assert_eq(DLT_NFLOG, 239);
	cr_assert_eq(DLT_IPV4, 228);
	cr_assert_eq(DLT_IPV6, 229);
	cr_assert_eq(DLT_PPP_PPPD, 166);
	cr_assert_eq(DLT_PPP_WITH_DIR, 204);
	cr_assert_eq(DLT_C_HDLC, 104);
	cr_assert_eq(DLT_FRELAY, 107);
	cr_assert_eq(DLT_MPLS, 219);
	cr_assert_eq(DLT_PKTAP, 258);
	cr_assert_eq(DLT_IPNET, 226);
	cr_assert_eq(DLT_IPOIB, 242);
	cr_assert_eq(DLT_ENC, 109);
	cr_assert_eq(DLT_PFLOG, 117);
	cr_assert_eq(DLT_NETANALYZER, 240);
	cr_assert_eq(DLT_NETANALYZER_TRANSPARENT, 241);
	/* Link types a wrapper may name but that are not decoded alone. */
	cr_assert_not(decode_linktype_supported(DLT_USER0));
	cr_assert_not(decode_linktype_supported(DLT_SLIP));
}

Test(decode, result_names_distinct)
{
	static const enum decode_result all[] = { DECODE_TCP, DECODE_NOT_TCP, DECODE_FRAGMENT,
						  DECODE_ENCRYPTED, DECODE_UNSUPPORTED,
						  DECODE_TRUNCATED, DECODE_MALFORMED,
						  DECODE_UNSUPPORTED_LINK };
	size_t n = sizeof all / sizeof all[0];
	for (size_t i = 0; i < n; i++) {
		const char *a = decode_result_name(all[i]);
		cr_assert_not_null(a);
		cr_assert_gt(strlen(a), 0);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(a, decode_result_name(all[j]));
	}
	cr_assert_str_eq(decode_result_name(DECODE_TRUNCATED), "truncated");
}

/* ==== tunnels ============================================================= */

/* Outer (tunnel) addresses, distinct from the inner SRC4/DST4, SRC6/DST6. */
static const uint8_t OA4[4] = { 203, 0, 113, 1 };
static const uint8_t OB4[4] = { 203, 0, 113, 2 };
static const uint8_t OA6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1 };
static const uint8_t OB6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb2 };

static void put24(struct frame *f, uint32_t v)  /* network order */
{
	put8(f, (v >> 16) & 0xff);
	put16(f, v & 0xffff);
}

static void put_le16(struct frame *f, uint16_t v)
{
	put8(f, v & 0xff);
	put8(f, v >> 8);
}

static void put_le32(struct frame *f, uint32_t v)
{
	put_le16(f, (uint16_t)(v & 0xffff));
	put_le16(f, (uint16_t)(v >> 16));
}

static void put_fill(struct frame *f, uint8_t b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(f, b);
}

/* An IPv4 header with these addresses, id and flags/offset around l4. */
static void ip4_addr_build(struct frame *f, uint8_t proto, const uint8_t src[4],
			   const uint8_t dst[4], uint16_t id, uint16_t frag, const struct frame *l4)
{
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (unsigned)(20 + l4->n));
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0xbeef);
	put_bytes(f, src, 4);
	put_bytes(f, dst, 4);
	put_frame(f, l4);
}

static void ip6_addr_build(struct frame *f, uint8_t nh, const uint8_t src[16],
			   const uint8_t dst[16], const struct frame *payload)
{
	put32(f, 0x60000000u | 0x000abcde);
	put16(f, (unsigned)payload->n);
	put8(f, nh);
	put8(f, 64);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	put_frame(f, payload);
}

static void udp_build(struct frame *f, uint16_t sport, uint16_t dport, const struct frame *payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (unsigned)(8 + payload->n));
	put16(f, 0);                 /* checksum: none */
	put_frame(f, payload);
}

/* Ethernet + outer IPv4 OA4 -> OB4 (or IPv6 OA6 -> OB6) around l4. */
static void outer4_eth(struct frame *f, uint8_t proto, const struct frame *l4)
{
	struct frame ip = { .n = 0 };
	ip4_addr_build(&ip, proto, OA4, OB4, 0x0101, 0x4000, l4);
	eth(f, 0x0800, &ip);
}

static void outer6_eth(struct frame *f, uint8_t nh, const struct frame *l4)
{
	struct frame ip = { .n = 0 };
	ip6_addr_build(&ip, nh, OA6, OB6, l4);
	eth(f, 0x86dd, &ip);
}

/* Inner Ethernet frames around the standard segment. */
static void inner_eth4(struct frame *f, const struct tcp_spec *t)
{
	struct frame ip = { .n = 0 };
	ip4_tcp(&ip, t);
	eth(f, 0x0800, &ip);
}

static void inner_eth6(struct frame *f, const struct tcp_spec *t)
{
	struct frame ip = { .n = 0 };
	ip6_tcp(&ip, t);
	eth(f, 0x86dd, &ip);
}

/* What decode_tcp.encap should say. */
struct encap_want {
	uint8_t depth;
	uint8_t kinds[DECODE_MAX_ENCAP];
	bool has_id;
	uint32_t id;
	uint8_t outer_version;
	const uint8_t *osrc, *odst;
};

static void check_encap(const struct decode_encap *e, const struct encap_want *w)
{
	cr_assert_eq(e->depth, w->depth, "encap depth %u, want %u", e->depth, w->depth);
	for (unsigned i = 0; i < w->depth; i++)
		cr_assert_eq(e->kinds[i], w->kinds[i], "encap kind %u: %s, want %s", i,
			     encap_kind_name((enum encap_kind)e->kinds[i]),
			     encap_kind_name((enum encap_kind)w->kinds[i]));
	if (w->depth == 0)
		return;
	cr_assert_eq(e->has_id, w->has_id, "encap has_id %d, want %d", e->has_id, w->has_id);
	if (w->has_id)
		cr_assert_eq(e->id, w->id, "encap id %#x, want %#x", e->id, w->id);
	cr_assert_eq(e->outer_version, w->outer_version);
	if (w->outer_version == 4) {
		static const uint8_t zero[12];
		cr_assert(memcmp(e->outer_src, w->osrc, 4) == 0, "outer source");
		cr_assert(memcmp(e->outer_dst, w->odst, 4) == 0, "outer destination");
		cr_assert(memcmp(e->outer_src + 4, zero, 12) == 0, "outer IPv4 source: rest zero");
		cr_assert(memcmp(e->outer_dst + 4, zero, 12) == 0, "outer IPv4 destination: rest zero");
	} else {
		cr_assert(memcmp(e->outer_src, w->osrc, 16) == 0, "outer source");
		cr_assert(memcmp(e->outer_dst, w->odst, 16) == 0, "outer destination");
	}
}

static struct encap_want want1(enum encap_kind k, bool has_id, uint32_t id, int outer_version)
{
	struct encap_want w = {
		.depth = 1, .kinds = { (uint8_t)k }, .has_id = has_id, .id = id,
		.outer_version = (uint8_t)outer_version,
		.osrc = outer_version == 4 ? OA4 : OA6,
		.odst = outer_version == 4 ? OB4 : OB6,
	};
	return w;
}

/* The standard segment, in tunnels: fields, payload at the end, encap. */
static void expect_tunnel(int linktype, const struct frame *f, const struct tcp_spec *t, int ipver,
			  const struct encap_want *w)
{
	struct decode_tcp d;
	enum decode_result r = run_frame(linktype, f, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, t, ipver);
	check_payload_at_end(&d, f, t->paylen);
	check_encap(&d.encap, w);
}

Test(decode, plain_frame_has_no_encap)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
	cr_assert_eq(d.encap.depth, 0);
}

/* ---- VXLAN --------------------------------------------------------------- */

static void vxlan_hdr(struct frame *f, uint8_t flags, uint32_t vni)
{
	put8(f, flags);
	put24(f, 0);
	put24(f, vni);
	put8(f, 0);
}

/* Ethernet/IPv4/UDP(dport)/VXLAN(flags, vni)/Ethernet/IPv4/TCP. */
static void vxlan_frame(struct frame *f, uint16_t dport, uint8_t flags, uint32_t vni,
			const struct tcp_spec *t)
{
	struct frame in = { .n = 0 }, vx = { .n = 0 }, udp = { .n = 0 };
	inner_eth4(&in, t);
	vxlan_hdr(&vx, flags, vni);
	put_frame(&vx, &in);
	udp_build(&udp, 54321, dport, &vx);
	outer4_eth(f, 17, &udp);
}

Test(decode, vxlan_4789)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	vxlan_frame(&f, 4789, 0x08, 0x123456, &t);
	struct encap_want w = want1(ENCAP_VXLAN, true, 0x123456, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	/* The largest VNI: 24 bits, the reserved byte after it not included. */
	f.n = 0;
	vxlan_frame(&f, 4789, 0x08, 0xffffff, &t);
	w.id = 0xffffff;
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, vxlan_8472_linux)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	vxlan_frame(&f, 8472, 0x08, 42, &t);
	struct encap_want w = want1(ENCAP_VXLAN, true, 42, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, vxlan_inner_ipv6_outer_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, vx = { .n = 0 }, udp = { .n = 0 }, f = { .n = 0 };
	inner_eth6(&in, &t);
	vxlan_hdr(&vx, 0x08, 7);
	put_frame(&vx, &in);
	udp_build(&udp, 1234, 4789, &vx);
	outer6_eth(&f, 17, &udp);
	struct encap_want w = want1(ENCAP_VXLAN, true, 7, 6);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
}

Test(decode, vxlan_without_i_flag_is_not_tcp)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	vxlan_frame(&f, 4789, 0x00, 0x123456, &t);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
	/* Other flag bits without I: still not VXLAN. */
	f.n = 0;
	vxlan_frame(&f, 4789, 0xf7, 0x123456, &t);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
}

Test(decode, udp_other_port_is_not_a_tunnel)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	vxlan_frame(&f, 4790, 0x08, 1, &t);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
}

/* ---- GENEVE -------------------------------------------------------------- */

/* A GENEVE header with one 8-byte option (2 words) when `opt`. */
static void geneve_hdr(struct frame *f, unsigned version, bool opt, uint16_t proto, uint32_t vni)
{
	put8(f, version << 6 | (opt ? 2u : 0u));
	put8(f, 0x40);               /* C: a critical option present */
	put16(f, proto);
	put24(f, vni);
	put8(f, 0);
	if (opt) {
		put16(f, 0x0102);    /* option class */
		put8(f, 0x80);       /* type */
		put8(f, 1);          /* 4 bytes of data */
		put32(f, 0x08004500);  /* data that looks like a frame start */
	}
}

static void geneve_frame(struct frame *f, unsigned version, bool opt, uint16_t proto,
			 uint32_t vni, const struct frame *in)
{
	struct frame g = { .n = 0 }, udp = { .n = 0 };
	geneve_hdr(&g, version, opt, proto, vni);
	put_frame(&g, in);
	udp_build(&udp, 40000, 6081, &g);
	outer4_eth(f, 17, &udp);
}

Test(decode, geneve_ethernet_with_options)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	geneve_frame(&f, 0, true, 0x6558, 0xabcdef, &in);
	struct encap_want w = want1(ENCAP_GENEVE, true, 0xabcdef, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	/* Without options too. */
	f.n = 0;
	geneve_frame(&f, 0, false, 0x6558, 0xabcdef, &in);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, geneve_ip_directly)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&in, &t);
	geneve_frame(&f, 0, true, 0x86dd, 9, &in);
	struct encap_want w = want1(ENCAP_GENEVE, true, 9, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
}

Test(decode, geneve_version_1_is_unsupported)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	geneve_frame(&f, 1, true, 0x6558, 5, &in);
	expect_result(DLT_EN10MB, &f, DECODE_UNSUPPORTED);
	f.n = 0;
	geneve_frame(&f, 3, false, 0x6558, 5, &in);
	expect_result(DLT_EN10MB, &f, DECODE_UNSUPPORTED);
}

/* ---- GRE ----------------------------------------------------------------- */

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_A 0x0080             /* enhanced GRE (version 1): acknowledgment present */

struct gre_spec {
	uint16_t flags;              /* with the version in the low 3 bits */
	uint16_t proto;
	uint32_t key, seq, ackno;
};

static void gre_hdr(struct frame *f, const struct gre_spec *g)
{
	put16(f, g->flags);
	put16(f, g->proto);
	if (g->flags & (GRE_C | GRE_R)) {
		put16(f, 0xc5c5);    /* checksum */
		put16(f, 0);         /* offset (RFC 1701) / reserved */
	}
	if (g->flags & GRE_K)
		put32(f, g->key);
	if (g->flags & GRE_S)
		put32(f, g->seq);
	if ((g->flags & 7) == 1 && (g->flags & GRE_A))
		put32(f, g->ackno);
}

/* Ethernet/IPv4(proto 47)/GRE/inner. */
static void gre_frame4(struct frame *f, const struct gre_spec *g, const struct frame *in)
{
	struct frame gre = { .n = 0 };
	gre_hdr(&gre, g);
	put_frame(&gre, in);
	outer4_eth(f, 47, &gre);
}

Test(decode, gre_plain_ipv4)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&in, &t);
	struct gre_spec g = { .proto = 0x0800 };
	gre_frame4(&f, &g, &in);
	struct encap_want w = want1(ENCAP_GRE, false, 0, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, gre_checksum_key_seq_combinations)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 };
	ip4_tcp(&in, &t);
	static const uint16_t flags[] = {
		GRE_C, GRE_K, GRE_S, GRE_K | GRE_S, GRE_C | GRE_K | GRE_S, GRE_C | GRE_S,
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		struct gre_spec g = { .flags = flags[i], .proto = 0x0800,
				      .key = 0xfeedf00d, .seq = 0x45000028 };
		struct frame f = { .n = 0 };
		gre_frame4(&f, &g, &in);
		struct encap_want w = want1(ENCAP_GRE, (flags[i] & GRE_K) != 0, 0xfeedf00d, 4);
		expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	}
}

Test(decode, gre_routing_bit_is_unsupported)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&in, &t);
	struct gre_spec g = { .flags = GRE_R, .proto = 0x0800 };
	struct frame gre = { .n = 0 };
	gre_hdr(&gre, &g);
	put32(&gre, 0x08000004);     /* an SRE: address family, offset, length */
	put32(&gre, 0xc0000201);
	put32(&gre, 0);              /* the NULL SRE */
	put_frame(&gre, &in);
	outer4_eth(&f, 47, &gre);
	expect_result(DLT_EN10MB, &f, DECODE_UNSUPPORTED);
}

Test(decode, gre_carrying_ipv6_over_ipv6)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, gre = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&in, &t);
	struct gre_spec g = { .flags = GRE_K, .proto = 0x86dd, .key = 1 };
	gre_hdr(&gre, &g);
	put_frame(&gre, &in);
	outer6_eth(&f, 47, &gre);
	struct encap_want w = want1(ENCAP_GRE, true, 1, 6);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
}

Test(decode, gre_carrying_mpls)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	mpls_label(&in, 500, false);
	mpls_label(&in, 501, true);
	struct frame ip = { .n = 0 };
	ip4_tcp(&ip, &t);
	put_frame(&in, &ip);
	struct gre_spec g = { .proto = 0x8847 };
	gre_frame4(&f, &g, &in);
	struct encap_want w = want1(ENCAP_GRE, false, 0, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, gre_transparent_ethernet_with_vlan)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, ip = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	eth_hdr(&in);
	put16(&in, 0x8100);
	put16(&in, 0x00c8);          /* VID 200 */
	put16(&in, 0x86dd);
	put_frame(&in, &ip);
	struct gre_spec g = { .flags = GRE_K, .proto = 0x6558, .key = 0x00010002 };
	gre_frame4(&f, &g, &in);
	struct encap_want w = want1(ENCAP_GRE, true, 0x00010002, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
}

/* PPTP: enhanced GRE (version 1, key = payload length and call id) with PPP. */
static void pptp_frame(struct frame *f, uint16_t flags, uint16_t call_id, const struct frame *ppp)
{
	struct gre_spec g = { .flags = (uint16_t)(flags | GRE_K | 1), .proto = 0x880b,
			      .key = (uint32_t)ppp->n << 16 | call_id, .seq = 77, .ackno = 76 };
	gre_frame4(f, &g, ppp);
}

Test(decode, pptp_enhanced_gre_with_ppp)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, ppp = { .n = 0 };
	ip4_tcp(&ip, &t);
	put8(&ppp, 0xff);
	put8(&ppp, 0x03);
	put16(&ppp, 0x0021);
	put_frame(&ppp, &ip);
	struct encap_want w = want1(ENCAP_GRE, true, 0x4242, 4);
	static const uint16_t flags[] = { 0, GRE_S, GRE_S | GRE_A, GRE_A };
	for (size_t i = 0; i < 4; i++) {
		struct frame f = { .n = 0 };
		pptp_frame(&f, flags[i], 0x4242, &ppp);
		expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	}
	/* Address and control compressed, protocol compressed, IPv6. */
	struct frame ip6 = { .n = 0 }, ppp6 = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip6, &t);
	put16(&ppp6, 0x0057);
	put_frame(&ppp6, &ip6);
	pptp_frame(&f, GRE_S, 9, &ppp6);
	w.id = 9;
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
	struct frame ppp4 = { .n = 0 }, g4 = { .n = 0 };
	put8(&ppp4, 0x21);
	put_frame(&ppp4, &ip);
	pptp_frame(&g4, GRE_S, 9, &ppp4);
	expect_tunnel(DLT_EN10MB, &g4, &t, 4, &w);
}

Test(decode, pptp_ack_only_and_bad_headers)
{
	struct frame empty = { .n = 0 }, f = { .n = 0 };
	pptp_frame(&f, GRE_A, 3, &empty);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
	/* LCP is not TCP. */
	struct frame lcp = { .n = 0 }, g = { .n = 0 };
	put8(&lcp, 0xff); put8(&lcp, 0x03); put16(&lcp, 0xc021);
	put32(&lcp, 0x01010004);
	pptp_frame(&g, GRE_S, 3, &lcp);
	expect_result(DLT_EN10MB, &g, DECODE_NOT_TCP);
	/* Version 1 without a key, or not carrying PPP: contradictions. */
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, h = { .n = 0 };
	ip4_tcp(&ip, &t);
	struct gre_spec nokey = { .flags = GRE_S | 1, .proto = 0x880b, .seq = 1 };
	gre_frame4(&h, &nokey, &ip);
	expect_result(DLT_EN10MB, &h, DECODE_MALFORMED);
	h.n = 0;
	struct gre_spec notppp = { .flags = GRE_K | 1, .proto = 0x0800, .key = 1 };
	gre_frame4(&h, &notppp, &ip);
	expect_result(DLT_EN10MB, &h, DECODE_MALFORMED);
	/* Versions 2 to 7 are not GRE kalens knows. */
	h.n = 0;
	struct gre_spec v2 = { .flags = 2, .proto = 0x0800 };
	gre_frame4(&h, &v2, &ip);
	expect_result(DLT_EN10MB, &h, DECODE_UNSUPPORTED);
}

/* ---- ERSPAN -------------------------------------------------------------- */

Test(decode, erspan_type_1)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	struct gre_spec g = { .proto = 0x88be };
	gre_frame4(&f, &g, &in);
	struct encap_want w = want1(ENCAP_ERSPAN1, false, 0, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

/* ERSPAN type II header: version 1, VLAN; COS, En, T, session; index. */
static void erspan2_hdr(struct frame *f, unsigned version, uint16_t session)
{
	put16(f, version << 12 | 0x064);
	put16(f, 5u << 13 | 3u << 11 | 1u << 10 | session);
	put32(f, 0x000fffff);        /* reserved, index */
}

Test(decode, erspan_type_2)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	inner_eth6(&in, &t);
	erspan2_hdr(&body, 1, 0x2a5);
	put_frame(&body, &in);
	struct gre_spec g = { .flags = GRE_S, .proto = 0x88be, .seq = 1000 };
	gre_frame4(&f, &g, &body);
	struct encap_want w = want1(ENCAP_ERSPAN2, true, 0x2a5, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
	/* The largest session id, over IPv6, with a GRE key too (ignored). */
	struct frame body2 = { .n = 0 }, gre = { .n = 0 }, g6 = { .n = 0 };
	erspan2_hdr(&body2, 1, 0x3ff);
	put_frame(&body2, &in);
	struct gre_spec gk = { .flags = GRE_S | GRE_K, .proto = 0x88be, .seq = 1, .key = 77 };
	gre_hdr(&gre, &gk);
	put_frame(&gre, &body2);
	outer6_eth(&g6, 47, &gre);
	struct encap_want w6 = want1(ENCAP_ERSPAN2, true, 0x3ff, 6);
	expect_tunnel(DLT_EN10MB, &g6, &t, 6, &w6);
}

Test(decode, erspan_type_2_wrong_version_is_unsupported)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	erspan2_hdr(&body, 2, 1);
	put_frame(&body, &in);
	struct gre_spec g = { .flags = GRE_S, .proto = 0x88be, .seq = 1 };
	gre_frame4(&f, &g, &body);
	expect_result(DLT_EN10MB, &f, DECODE_UNSUPPORTED);
}

/* ERSPAN type III header: version 2, VLAN; COS, BSO, T, session; timestamp;
 * SGT; P, FT, hardware id, D, Gra, O; the optional subheader when O. */
static void erspan3_hdr(struct frame *f, unsigned version, uint16_t session, unsigned ft, bool sub)
{
	put16(f, version << 12 | 0x0ab);
	put16(f, 7u << 13 | 2u << 11 | 1u << 10 | session);
	put32(f, 0x5e5e5e5e);        /* timestamp */
	put16(f, 0xfe01);            /* security group tag */
	put16(f, 1u << 15 | ft << 10 | 0x2bu << 4 | 1u << 3 | 3u << 1 | (sub ? 1u : 0u));
	if (sub) {
		put32(f, 0x08004500);  /* platform id and data, looking like a frame */
		put32(f, 0x86dd6000);
	}
}

Test(decode, erspan_type_3_with_and_without_subheader)
{
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 };
	inner_eth4(&in, &t);
	for (int sub = 0; sub < 2; sub++) {
		struct frame body = { .n = 0 }, f = { .n = 0 };
		erspan3_hdr(&body, 2, 0x155, 0, sub);
		put_frame(&body, &in);
		struct gre_spec g = { .flags = GRE_S, .proto = 0x22eb, .seq = 5 };
		gre_frame4(&f, &g, &body);
		struct encap_want w = want1(ENCAP_ERSPAN3, true, 0x155, 4);
		expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	}
}

Test(decode, erspan_type_3_ip_frame_and_other_types)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	erspan3_hdr(&body, 2, 3, 2, false);   /* frame type 2: IP */
	put_frame(&body, &ip);
	struct gre_spec g = { .flags = GRE_S, .proto = 0x22eb, .seq = 5 };
	gre_frame4(&f, &g, &body);
	struct encap_want w = want1(ENCAP_ERSPAN3, true, 3, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);

	/* Frame type 5 is nothing kalens reads; version 1 under 0x22eb neither. */
	struct frame in = { .n = 0 }, b5 = { .n = 0 }, f5 = { .n = 0 };
	inner_eth4(&in, &t);
	erspan3_hdr(&b5, 2, 3, 5, false);
	put_frame(&b5, &in);
	gre_frame4(&f5, &g, &b5);
	expect_result(DLT_EN10MB, &f5, DECODE_UNSUPPORTED);
	struct frame bv = { .n = 0 }, fv = { .n = 0 };
	erspan3_hdr(&bv, 1, 3, 0, false);
	put_frame(&bv, &in);
	gre_frame4(&fv, &g, &bv);
	expect_result(DLT_EN10MB, &fv, DECODE_UNSUPPORTED);
}

/* ---- GTP-U --------------------------------------------------------------- */

#define GTP_V1_PT 0x30
#define GTP_E 0x04
#define GTP_S 0x02
#define GTP_PN 0x01

static void gtpu_frame(struct frame *f, uint8_t flags, uint8_t type, uint32_t teid,
		       const struct frame *body, uint16_t sport, uint16_t dport)
{
	struct frame g = { .n = 0 }, udp = { .n = 0 };
	put8(&g, flags);
	put8(&g, type);
	put16(&g, (unsigned)body->n);  /* what follows the first 8 bytes */
	put32(&g, teid);
	put_frame(&g, body);
	udp_build(&udp, sport, dport, &g);
	outer4_eth(f, 17, &udp);
}

Test(decode, gtpu_no_optional_fields)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	gtpu_frame(&f, GTP_V1_PT, 0xff, 0xdeadbeef, &ip, 2152, 2152);
	struct encap_want w = want1(ENCAP_GTPU, true, 0xdeadbeef, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	/* IPv6 inside, and only the source port 2152 (a reply). */
	struct frame ip6 = { .n = 0 }, g = { .n = 0 };
	ip6_tcp(&ip6, &t);
	gtpu_frame(&g, GTP_V1_PT, 0xff, 1, &ip6, 2152, 33000);
	w.id = 1;
	expect_tunnel(DLT_EN10MB, &g, &t, 6, &w);
}

Test(decode, gtpu_sequence_number)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	put16(&body, 0x4500);        /* sequence number */
	put8(&body, 0x45);           /* N-PDU number */
	put8(&body, 0);              /* no extension header */
	put_frame(&body, &ip);
	gtpu_frame(&f, GTP_V1_PT | GTP_S, 0xff, 0x100, &body, 2152, 2152);
	struct encap_want w = want1(ENCAP_GTPU, true, 0x100, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
	/* N-PDU number flag alone makes the same 4 bytes present. */
	f.n = 0;
	gtpu_frame(&f, GTP_V1_PT | GTP_PN, 0xff, 0x100, &body, 2152, 2152);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, gtpu_extension_headers)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 };
	ip4_tcp(&ip, &t);

	/* One: a PDU session container (type 0x85), 4 bytes. */
	struct frame one = { .n = 0 }, f = { .n = 0 };
	put16(&one, 0); put8(&one, 0); put8(&one, 0x85);
	put8(&one, 1); put8(&one, 0x10); put8(&one, 0x09); put8(&one, 0);
	put_frame(&one, &ip);
	gtpu_frame(&f, GTP_V1_PT | GTP_E, 0xff, 77, &one, 2152, 2152);
	struct encap_want w = want1(ENCAP_GTPU, true, 77, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);

	/* Two: a 4-byte UDP port extension (0x40), then an 8-byte one (0x85). */
	struct frame two = { .n = 0 }, g = { .n = 0 };
	put16(&two, 0x1234); put8(&two, 0); put8(&two, 0x40);
	put8(&two, 1); put16(&two, 2152); put8(&two, 0x85);
	put8(&two, 2); put8(&two, 0x45); put32(&two, 0x45000000); put8(&two, 0x45); put8(&two, 0);
	put_frame(&two, &ip);
	gtpu_frame(&g, GTP_V1_PT | GTP_E | GTP_S, 0xff, 78, &two, 2152, 2152);
	w.id = 78;
	expect_tunnel(DLT_EN10MB, &g, &t, 4, &w);
}

Test(decode, gtpu_zero_length_extension_is_malformed)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	put16(&body, 0); put8(&body, 0); put8(&body, 0x85);
	put8(&body, 0); put8(&body, 0); put8(&body, 0); put8(&body, 0);
	put_frame(&body, &ip);
	gtpu_frame(&f, GTP_V1_PT | GTP_E, 0xff, 77, &body, 2152, 2152);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

Test(decode, gtpu_other_messages_are_not_tcp)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	/* Echo request (1), end marker (254), error indication (26). */
	static const uint8_t types[] = { 1, 254, 26 };
	for (size_t i = 0; i < 3; i++) {
		f.n = 0;
		gtpu_frame(&f, GTP_V1_PT, types[i], 5, &ip, 2152, 2152);
		expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
	}
	/* Version 2 (GTPv2-C) and GTP' (PT 0) are not GTP-U. */
	f.n = 0;
	gtpu_frame(&f, 0x40 | 0x10, 0xff, 5, &ip, 2152, 2152);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
	f.n = 0;
	gtpu_frame(&f, 0x20, 0xff, 5, &ip, 2152, 2152);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
	/* A G-PDU with nothing in it. */
	struct frame empty = { .n = 0 };
	f.n = 0;
	gtpu_frame(&f, GTP_V1_PT, 0xff, 5, &empty, 2152, 2152);
	expect_result(DLT_EN10MB, &f, DECODE_NOT_TCP);
}

Test(decode, gtpu_length_limits_the_inner_packet)
{
	/* Padding after the GTP-U message (its length says where it ends) is
	 * not payload: the inner IPv4 total length is 0 (TSO), so only the
	 * GTP-U length can stop the padding from becoming payload. */
	struct tcp_spec t = tcp_default();
	struct frame l4 = { .n = 0 }, ip = { .n = 0 }, g = { .n = 0 }, udp = { .n = 0 }, f = { .n = 0 };
	tcp_build(&l4, &t);
	struct ip4_spec s = ip4_default();
	s.set_tot = true;
	s.tot = 0;
	ip4_build(&ip, &s, &l4);
	put8(&g, GTP_V1_PT);
	put8(&g, 0xff);
	put16(&g, (unsigned)ip.n);
	put32(&g, 5);
	put_frame(&g, &ip);
	put_fill(&g, 0xee, 6);       /* inside the UDP datagram, outside GTP-U */
	udp_build(&udp, 2152, 2152, &g);
	outer4_eth(&f, 17, &udp);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_TCP);
	cr_assert_eq(d.payload_len, t.paylen);
	cr_assert_eq(d.payload_caplen, t.paylen);
}

/* ---- IP in IP ------------------------------------------------------------ */

Test(decode, ipip_all_four)
{
	struct tcp_spec t = tcp_default();
	struct frame ip4 = { .n = 0 }, ip6 = { .n = 0 };
	ip4_tcp(&ip4, &t);
	ip6_tcp(&ip6, &t);
	struct frame f = { .n = 0 };
	outer4_eth(&f, 4, &ip4);
	struct encap_want w4 = want1(ENCAP_IPIP, false, 0, 4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w4);
	f.n = 0;
	outer4_eth(&f, 41, &ip6);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w4);
	struct encap_want w6 = want1(ENCAP_IPIP, false, 0, 6);
	f.n = 0;
	outer6_eth(&f, 4, &ip4);
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w6);
	f.n = 0;
	outer6_eth(&f, 41, &ip6);
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w6);
}

Test(decode, ipip_version_mismatch_is_malformed)
{
	/* Protocol 4 announcing IPv4, carrying IPv6. */
	struct tcp_spec t = tcp_default();
	struct frame ip6 = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip6, &t);
	outer4_eth(&f, 4, &ip6);
	expect_result(DLT_EN10MB, &f, DECODE_MALFORMED);
}

/* ---- nesting ------------------------------------------------------------- */

Test(decode, nested_vxlan_in_gre_in_ipv6)
{
	/* Ethernet / IPv6 OA6->OB6 / GRE key 0x999 / IPv4 OA4->OB4 / UDP 4789 /
	 * VXLAN 77 / Ethernet / IPv4 / TCP. */
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, vx = { .n = 0 }, udp = { .n = 0 }, mid = { .n = 0 };
	struct frame gre = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	vxlan_hdr(&vx, 0x08, 77);
	put_frame(&vx, &in);
	udp_build(&udp, 50000, 4789, &vx);
	ip4_addr_build(&mid, 17, OA4, OB4, 7, 0, &udp);
	struct gre_spec g = { .flags = GRE_K, .proto = 0x0800, .key = 0x999 };
	gre_hdr(&gre, &g);
	put_frame(&gre, &mid);
	outer6_eth(&f, 47, &gre);
	struct encap_want w = {
		.depth = 2, .kinds = { ENCAP_GRE, ENCAP_VXLAN }, .has_id = true, .id = 77,
		.outer_version = 4, .osrc = OA4, .odst = OB4,
	};
	expect_tunnel(DLT_EN10MB, &f, &t, 4, &w);
}

Test(decode, nested_keyless_gre_in_vxlan_has_no_id)
{
	/* The innermost tunnel (GRE without a key) has no id, though VXLAN had. */
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, gre = { .n = 0 }, mid = { .n = 0 }, in = { .n = 0 };
	struct frame vx = { .n = 0 }, udp = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	struct gre_spec g = { .proto = 0x86dd };
	gre_hdr(&gre, &g);
	put_frame(&gre, &ip);
	ip6_addr_build(&mid, 47, OB6, OA6, &gre);
	eth(&in, 0x86dd, &mid);
	vxlan_hdr(&vx, 0x08, 5);
	put_frame(&vx, &in);
	udp_build(&udp, 50000, 4789, &vx);
	outer4_eth(&f, 17, &udp);
	struct encap_want w = {
		.depth = 2, .kinds = { ENCAP_VXLAN, ENCAP_GRE }, .has_id = false,
		.outer_version = 6, .osrc = OB6, .odst = OA6,
	};
	expect_tunnel(DLT_EN10MB, &f, &t, 6, &w);
}

/* n IPv4-in-IPv4 layers around the standard segment, layer i (0: the
 * innermost tunnel's outer header) from 10.0.i.1 to 10.0.i.2; raw IP. */
static void ipip_nest(struct frame *f, unsigned n, const struct tcp_spec *t)
{
	struct frame cur = { .n = 0 };
	ip4_tcp(&cur, t);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t a[4] = { 10, 0, (uint8_t)i, 1 }, b[4] = { 10, 0, (uint8_t)i, 2 };
		struct frame next = { .n = 0 };
		ip4_addr_build(&next, 4, a, b, (uint16_t)i, 0, &cur);
		cur = next;
	}
	*f = cur;
}

Test(decode, nesting_up_to_max_encap)
{
	struct tcp_spec t = tcp_default();
	for (unsigned n = 1; n <= DECODE_MAX_ENCAP; n++) {
		struct frame f;
		ipip_nest(&f, n, &t);
		const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
		struct encap_want w = { .depth = (uint8_t)n, .outer_version = 4, .osrc = a, .odst = b };
		for (unsigned i = 0; i < n; i++)
			w.kinds[i] = ENCAP_IPIP;
		expect_tunnel(DLT_RAW, &f, &t, 4, &w);
	}
}

Test(decode, nesting_deeper_than_max_encap_is_unsupported)
{
	struct tcp_spec t = tcp_default();
	struct frame f;
	ipip_nest(&f, DECODE_MAX_ENCAP + 1, &t);
	expect_result(DLT_RAW, &f, DECODE_UNSUPPORTED);
	/* Four IP-in-IP, then a VXLAN inside: the fifth tunnel is refused too. */
	struct frame vxf = { .n = 0 }, cur = { .n = 0 };
	vxlan_frame(&vxf, 4789, 0x08, 1, &t);
	put_bytes(&cur, vxf.b + 14, vxf.n - 14);   /* the outer IPv4 packet */
	for (unsigned i = 0; i < DECODE_MAX_ENCAP; i++) {
		struct frame next = { .n = 0 };
		ip4_addr_build(&next, 4, OB4, OA4, 1, 0, &cur);
		cur = next;
	}
	expect_result(DLT_RAW, &cur, DECODE_UNSUPPORTED);
}

/* ==== more link types ===================================================== */

static void llc_snap(struct frame *f, uint16_t type)
{
	put8(f, 0xaa);
	put8(f, 0xaa);
	put8(f, 0x03);
	put24(f, 0);                 /* OUI 00-00-00: an EtherType follows */
	put16(f, type);
}

/* ---- IEEE 802.11 --------------------------------------------------------- */

#define WLAN_FC0_DATA 0x08       /* type 2, subtype 0 */
#define WLAN_FC0_QOS_DATA 0x88   /* type 2, subtype 8 */
#define WLAN_FC0_NULL 0x48       /* type 2, subtype 4: no data */
#define WLAN_FC0_QOS_NULL 0xc8   /* type 2, subtype 12 */
#define WLAN_FC0_BEACON 0x80     /* type 0, subtype 8 */
#define WLAN_FC0_ACK 0xd4        /* type 1, subtype 13 */
#define WLAN_FC1_TODS 0x01
#define WLAN_FC1_FROMDS 0x02
#define WLAN_FC1_PROTECTED 0x40
#define WLAN_FC1_ORDER 0x80

/* An 802.11 MAC header: frame control, duration, three addresses,
 * sequence control, the fourth address when ToDS and FromDS, QoS control
 * (first byte qc0) for QoS subtypes, HT control when QoS and Order. */
static void wlan_hdr(struct frame *f, uint8_t fc0, uint8_t fc1, uint8_t qc0)
{
	put8(f, fc0);
	put8(f, fc1);
	put16(f, 0x2c00);            /* duration */
	for (int a = 1; a <= 3; a++) {
		put16(f, 0x0200);
		put32(f, 0x0000aa00u | (uint32_t)a);
	}
	put16(f, 0x1230);            /* sequence control */
	if ((fc1 & 3) == 3) {
		put16(f, 0x0200);
		put32(f, 0x0000aa04);
	}
	if (fc0 & 0x80) {            /* QoS subtypes */
		put8(f, qc0);
		put8(f, 0);
		if (fc1 & WLAN_FC1_ORDER)
			put32(f, 0xaaaa0300);  /* HT control, looking like LLC */
	}
}

/* A data frame around the standard segment (IPv4 or IPv6). */
static void wlan_data(struct frame *f, uint8_t fc0, uint8_t fc1, uint8_t qc0,
		      const struct tcp_spec *t, int ipver)
{
	struct frame ip = { .n = 0 };
	if (ipver == 4)
		ip4_tcp(&ip, t);
	else
		ip6_tcp(&ip, t);
	wlan_hdr(f, fc0, fc1, qc0);
	llc_snap(f, ipver == 4 ? 0x0800 : 0x86dd);
	put_frame(f, &ip);
}

Test(decode, wlan_plain_data)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	wlan_data(&f, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	cr_assert_eq(f.n, 24 + 8 + 20 + 20 + t.paylen);
	expect_std(DLT_IEEE802_11, &f, &t, 4);
	f.n = 0;
	wlan_data(&f, WLAN_FC0_DATA, WLAN_FC1_FROMDS, 0, &t, 6);
	expect_std(DLT_IEEE802_11, &f, &t, 6);
}

Test(decode, wlan_qos_data_and_htc)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	wlan_data(&f, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS, 0x05, &t, 4);
	cr_assert_eq(f.n, 26 + 8 + 40 + t.paylen);
	expect_std(DLT_IEEE802_11, &f, &t, 4);
	/* Order bit on a QoS data frame: 4 bytes of HT control. */
	f.n = 0;
	wlan_data(&f, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS | WLAN_FC1_ORDER, 0x05, &t, 6);
	cr_assert_eq(f.n, 30 + 8 + 40 + 20 + t.paylen);
	expect_std(DLT_IEEE802_11, &f, &t, 6);
}

Test(decode, wlan_four_address_wds)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	wlan_data(&f, WLAN_FC0_DATA, WLAN_FC1_TODS | WLAN_FC1_FROMDS, 0, &t, 4);
	cr_assert_eq(f.n, 30 + 8 + 40 + t.paylen);
	expect_std(DLT_IEEE802_11, &f, &t, 4);
	f.n = 0;
	wlan_data(&f, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS | WLAN_FC1_FROMDS | WLAN_FC1_ORDER, 0,
		  &t, 6);
	cr_assert_eq(f.n, 36 + 8 + 60 + t.paylen);
	expect_std(DLT_IEEE802_11, &f, &t, 6);
}

Test(decode, wlan_protected_is_encrypted)
{
	struct frame f = { .n = 0 };
	wlan_hdr(&f, WLAN_FC0_DATA, WLAN_FC1_TODS | WLAN_FC1_PROTECTED, 0);
	put32(&f, 0x01002000);       /* CCMP header */
	put32(&f, 0);
	put_fill(&f, 0x5a, 60);      /* ciphertext */
	expect_result(DLT_IEEE802_11, &f, DECODE_ENCRYPTED);
	f.n = 0;
	wlan_hdr(&f, WLAN_FC0_QOS_DATA, WLAN_FC1_FROMDS | WLAN_FC1_PROTECTED, 0x80);
	put_fill(&f, 0xaa, 60);      /* even when it looks like LLC/SNAP */
	expect_result(DLT_IEEE802_11, &f, DECODE_ENCRYPTED);
}

Test(decode, wlan_management_control_and_null_are_not_tcp)
{
	struct tcp_spec t = tcp_default();
	static const uint8_t fc0s[] = { WLAN_FC0_BEACON, WLAN_FC0_NULL, WLAN_FC0_QOS_NULL,
					WLAN_FC0_ACK };
	for (size_t i = 0; i < sizeof fc0s; i++) {
		/* Even with what would decode as a segment after the header. */
		struct frame f = { .n = 0 };
		wlan_data(&f, fc0s[i], WLAN_FC1_TODS, 0, &t, 4);
		struct decode_tcp d;
		enum decode_result r = run_frame(DLT_IEEE802_11, &f, &d);
		cr_assert_eq(r, DECODE_NOT_TCP, "fc0 %#x: got %s", fc0s[i], decode_result_name(r));
	}
}

Test(decode, wlan_amsdu_first_subframe)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	wlan_hdr(&f, WLAN_FC0_QOS_DATA, WLAN_FC1_FROMDS, 0x80);  /* A-MSDU present */
	put16(&f, 0x0200); put32(&f, 0x0000bb01);    /* DA */
	put16(&f, 0x0200); put32(&f, 0x0000bb02);    /* SA */
	put16(&f, (unsigned)(8 + ip.n));             /* subframe length */
	llc_snap(&f, 0x0800);
	put_frame(&f, &ip);
	expect_std(DLT_IEEE802_11, &f, &t, 4);
}

Test(decode, wlan_llc_not_snap_is_not_tcp)
{
	struct tcp_spec t = tcp_default();
	struct frame f = { .n = 0 };
	wlan_data(&f, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	f.b[24] = 0x42;              /* DSAP STP */
	f.b[25] = 0x42;
	expect_result(DLT_IEEE802_11, &f, DECODE_NOT_TCP);
}

/* ---- radiotap, PPI, Prism, AVS ------------------------------------------- */

#define RT_TSFT 0x00000001u
#define RT_FLAGS 0x00000002u
#define RT_RATE 0x00000004u
#define RT_EXT 0x80000000u
#define RT_F_FCS_AT_END 0x10
#define RT_F_BAD_FCS 0x40

/* A radiotap header: the presence words, then `fields` (already aligned
 * as radiotap requires, from the start of the header). */
static void radiotap(struct frame *f, const uint32_t *present, size_t npresent,
		     const struct frame *fields)
{
	put8(f, 0);                  /* version */
	put8(f, 0);                  /* pad */
	put_le16(f, (uint16_t)(4 + 4 * npresent + fields->n));
	for (size_t i = 0; i < npresent; i++)
		put_le32(f, present[i]);
	put_frame(f, fields);
}

/* TSFT (8-aligned), Flags, Rate, after `npresent` presence words; every
 * byte but Flags has the bad-FCS bit set, so reading Flags at a wrong
 * offset shows. */
static void rt_tsft_flags(struct frame *f, const uint32_t *present, size_t npresent,
			  uint8_t flags)
{
	struct frame fl = { .n = 0 };
	size_t at = 4 + 4 * npresent;
	while ((at + fl.n) % 8)
		put8(&fl, 0xff);     /* alignment padding */
	put_fill(&fl, 0xff, 8);      /* TSFT */
	put8(&fl, flags);
	put8(&fl, 0xff);             /* Rate */
	radiotap(f, present, npresent, &fl);
}

Test(decode, radiotap_tsft_flags_rate)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS, 0, &t, 4);
	const uint32_t p[1] = { RT_TSFT | RT_FLAGS | RT_RATE };
	rt_tsft_flags(&f, p, 1, 0x02);
	cr_assert_eq(f.n, 18);
	put_frame(&f, &w);
	expect_std(DLT_IEEE802_11_RADIO, &f, &t, 4);
}

Test(decode, radiotap_extended_presence_bitmap)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_FROMDS, 0, &t, 6);
	const uint32_t p[3] = { RT_TSFT | RT_FLAGS | RT_RATE | RT_EXT, RT_EXT, 0 };
	rt_tsft_flags(&f, p, 3, 0x00);
	cr_assert_eq(f.n, 16 + 8 + 2);
	put_frame(&f, &w);
	expect_std(DLT_IEEE802_11_RADIO, &f, &t, 6);
}

Test(decode, radiotap_bad_fcs_is_malformed)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	/* TSFT + Flags */
	const uint32_t p1[1] = { RT_TSFT | RT_FLAGS | RT_RATE };
	struct frame f = { .n = 0 };
	rt_tsft_flags(&f, p1, 1, RT_F_BAD_FCS);
	put_frame(&f, &w);
	expect_result(DLT_IEEE802_11_RADIO, &f, DECODE_MALFORMED);
	/* The same after two presence words (Flags at 24, not 16). */
	const uint32_t p2[2] = { RT_TSFT | RT_FLAGS | RT_RATE | RT_EXT, 0 };
	f.n = 0;
	rt_tsft_flags(&f, p2, 2, RT_F_BAD_FCS);
	put_frame(&f, &w);
	expect_result(DLT_IEEE802_11_RADIO, &f, DECODE_MALFORMED);
	/* Flags without TSFT: right after the presence word. */
	struct frame fl = { .n = 0 }, g = { .n = 0 };
	put8(&fl, RT_F_BAD_FCS);
	put8(&fl, 0);
	const uint32_t p3[1] = { RT_FLAGS };
	radiotap(&g, p3, 1, &fl);
	put_frame(&g, &w);
	expect_result(DLT_IEEE802_11_RADIO, &g, DECODE_MALFORMED);
	g.b[8] = 0;                  /* FCS fine */
	expect_std(DLT_IEEE802_11_RADIO, &g, &t, 4);
}

Test(decode, radiotap_fcs_at_end_is_not_payload)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	const uint32_t p[1] = { RT_TSFT | RT_FLAGS | RT_RATE };
	rt_tsft_flags(&f, p, 1, RT_F_FCS_AT_END);
	put_frame(&f, &w);
	put32(&f, 0x12345678);       /* the FCS */
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_IEEE802_11_RADIO, &f, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	cr_assert_eq(d.payload_len, t.paylen);
	cr_assert_eq(d.payload_caplen, t.paylen);
	cr_assert(d.payload == f.b + f.n - 4 - t.paylen);
}

Test(decode, radiotap_bad_headers)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	/* Version 1. */
	struct frame fl = { .n = 0 }, f = { .n = 0 };
	const uint32_t p[1] = { 0 };
	radiotap(&f, p, 1, &fl);
	put_frame(&f, &w);
	f.b[0] = 1;
	expect_result(DLT_IEEE802_11_RADIO, &f, DECODE_MALFORMED);
	/* A length below 8. */
	f.b[0] = 0;
	f.b[2] = 4;
	expect_result(DLT_IEEE802_11_RADIO, &f, DECODE_MALFORMED);
	/* A length beyond the capture. */
	f.b[2] = 0xff;
	f.b[3] = 0x7f;
	expect_result(DLT_IEEE802_11_RADIO, &f, DECODE_TRUNCATED);
	/* Presence words running past the header's length. */
	struct frame g = { .n = 0 };
	const uint32_t ext[3] = { RT_EXT, RT_EXT, RT_EXT };
	radiotap(&g, ext, 3, &fl);
	g.b[2] = 12;                 /* the third word is outside */
	put_frame(&g, &w);
	expect_result(DLT_IEEE802_11_RADIO, &g, DECODE_MALFORMED);
}

/* PPI: version 0, flags, length, link type (little-endian), one field. */
static void ppi_hdr(struct frame *f, uint32_t dlt)
{
	put8(f, 0);
	put8(f, 0);
	put_le16(f, 8 + 4 + 20);
	put_le32(f, dlt);
	put_le16(f, 2);              /* 802.11-Common */
	put_le16(f, 20);
	put_fill(f, 0x08, 20);
}

Test(decode, ppi_80211_and_ethernet)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS, 0, &t, 6);
	ppi_hdr(&f, DLT_IEEE802_11);
	put_frame(&f, &w);
	expect_std(DLT_PPI, &f, &t, 6);
	struct frame e = { .n = 0 }, g = { .n = 0 };
	inner_eth4(&e, &t);
	ppi_hdr(&g, DLT_EN10MB);
	put_frame(&g, &e);
	expect_std(DLT_PPI, &g, &t, 4);
}

Test(decode, ppi_wrapping_a_wrapper_or_unknown)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, inner = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	ppi_hdr(&inner, DLT_IEEE802_11);
	put_frame(&inner, &w);
	ppi_hdr(&f, DLT_PPI);
	put_frame(&f, &inner);
	expect_result(DLT_PPI, &f, DECODE_MALFORMED);
	struct frame g = { .n = 0 };
	ppi_hdr(&g, DLT_USER0);
	put_frame(&g, &w);
	expect_result(DLT_PPI, &g, DECODE_UNSUPPORTED);
	/* A length below its own 8 bytes. */
	struct frame h = { .n = 0 };
	ppi_hdr(&h, DLT_IEEE802_11);
	put_frame(&h, &w);
	h.b[2] = 7;
	h.b[3] = 0;
	expect_result(DLT_PPI, &h, DECODE_MALFORMED);
}

Test(decode, prism_header)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_DATA, WLAN_FC1_TODS, 0, &t, 4);
	put_le32(&f, 0x00000044);    /* msgcode, host order (little-endian) */
	put_le32(&f, 144);           /* msglen */
	put_bytes(&f, "wlan0\0\0\0\0\0\0\0\0\0\0\0", 16);
	put_fill(&f, 0, 120);        /* ten DID items */
	cr_assert_eq(f.n, 144);
	put_frame(&f, &w);
	expect_std(DLT_PRISM_HEADER, &f, &t, 4);
}

static void avs_hdr(struct frame *f)
{
	put32(f, 0x80211001);        /* magic and version, big-endian */
	put32(f, 64);                /* length */
	put_fill(f, 0x11, 56);
}

Test(decode, avs_header)
{
	struct tcp_spec t = tcp_default();
	struct frame w = { .n = 0 }, f = { .n = 0 };
	wlan_data(&w, WLAN_FC0_QOS_DATA, WLAN_FC1_FROMDS, 0, &t, 6);
	avs_hdr(&f);
	put_frame(&f, &w);
	expect_std(DLT_IEEE802_11_RADIO_AVS, &f, &t, 6);
	/* libpcap hands AVS headers out under DLT_PRISM_HEADER too. */
	expect_std(DLT_PRISM_HEADER, &f, &t, 6);
}

/* ---- PPP, Cisco HDLC, Frame Relay ---------------------------------------- */

/* The standard IPv4 (or IPv6) segment behind `hdr`. */
static void behind(struct frame *f, const struct frame *hdr, const struct tcp_spec *t, int ipver)
{
	struct frame ip = { .n = 0 };
	if (ipver == 4)
		ip4_tcp(&ip, t);
	else
		ip6_tcp(&ip, t);
	f->n = 0;
	put_frame(f, hdr);
	put_frame(f, &ip);
}

static struct frame bytes_frame(const uint8_t *p, size_t n)
{
	struct frame h = { .n = 0 };
	put_bytes(&h, p, n);
	return h;
}

#define HDR(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* The standard segment behind the header bytes given, of link type lt. */
static void expect_behind(int lt, int ipver, const uint8_t *hdr, size_t n)
{
	struct tcp_spec t = tcp_default();
	struct frame h = bytes_frame(hdr, n), f;
	behind(&f, &h, &t, ipver);
	expect_std(lt, &f, &t, ipver);
}

static void expect_behind_result(int lt, int ipver, enum decode_result want, const uint8_t *hdr,
				 size_t n)
{
	struct tcp_spec t = tcp_default();
	struct frame h = bytes_frame(hdr, n), f;
	behind(&f, &h, &t, ipver);
	expect_result(lt, &f, want);
}

Test(decode, ppp_with_and_without_address_control)
{
	expect_behind(DLT_PPP, 4, HDR(0xff, 0x03, 0x00, 0x21));
	expect_behind(DLT_PPP, 6, HDR(0xff, 0x03, 0x00, 0x57));
	expect_behind(DLT_PPP, 4, HDR(0x00, 0x21));
	expect_behind(DLT_PPP, 6, HDR(0x00, 0x57));
}

Test(decode, ppp_protocol_field_compression)
{
	expect_behind(DLT_PPP, 4, HDR(0x21));
	expect_behind(DLT_PPP, 6, HDR(0x57));
	expect_behind(DLT_PPP, 4, HDR(0xff, 0x03, 0x21));
}

Test(decode, ppp_mpls_and_control_protocols)
{
	struct tcp_spec t = tcp_default();
	struct frame h = { .n = 0 }, f;
	put16(&h, 0x0281);           /* MPLS unicast */
	mpls_label(&h, 16, true);
	behind(&f, &h, &t, 4);
	expect_std(DLT_PPP, &f, &t, 4);
	expect_behind_result(DLT_PPP, 4, DECODE_NOT_TCP, HDR(0xff, 0x03, 0xc0, 0x21));  /* LCP */
	expect_behind_result(DLT_PPP, 4, DECODE_NOT_TCP, HDR(0x80, 0x21));              /* IPCP */
}

Test(decode, ppp_serial_ppp_and_cisco_hdlc)
{
	expect_behind(DLT_PPP_SERIAL, 4, HDR(0xff, 0x03, 0x00, 0x21));
	expect_behind(DLT_PPP_SERIAL, 6, HDR(0xff, 0x03, 0x00, 0x57));
	expect_behind(DLT_PPP_SERIAL, 4, HDR(0x0f, 0x00, 0x08, 0x00));   /* Cisco HDLC unicast */
	expect_behind(DLT_PPP_SERIAL, 6, HDR(0x8f, 0x00, 0x86, 0xdd));   /* broadcast */
}

Test(decode, ppp_pppd_with_dir_ether)
{
	expect_behind(DLT_PPP_PPPD, 4, HDR(0x00, 0x03, 0x00, 0x21));    /* received */
	expect_behind(DLT_PPP_PPPD, 6, HDR(0x01, 0x03, 0x00, 0x57));    /* sent */
	expect_behind(DLT_PPP_WITH_DIR, 4, HDR(0x01, 0xff, 0x03, 0x00, 0x21));
	expect_behind(DLT_PPP_WITH_DIR, 6, HDR(0x00, 0x00, 0x57));
	expect_behind(DLT_PPP_WITH_DIR, 4, HDR(0x00, 0x21));
	/* PPPoE session header: ver/type, code 0, session, length; protocol. */
	expect_behind(DLT_PPP_ETHER, 4, HDR(0x11, 0x00, 0x12, 0x34, 0x00, 0x3a, 0x00, 0x21));
	expect_behind(DLT_PPP_ETHER, 6, HDR(0x11, 0x00, 0x12, 0x34, 0x00, 0x4e, 0x00, 0x57));
}

Test(decode, cisco_hdlc)
{
	expect_behind(DLT_C_HDLC, 4, HDR(0x0f, 0x00, 0x08, 0x00));
	expect_behind(DLT_C_HDLC, 6, HDR(0x8f, 0x00, 0x86, 0xdd));
	expect_behind_result(DLT_C_HDLC, 4, DECODE_NOT_TCP, HDR(0x8f, 0x00, 0x80, 0x35)); /* SLARP */
}

Test(decode, frame_relay_nlpid_snap_and_cisco)
{
	/* Q.922 address DLCI 100: 0x18 0x41 (EA on the second byte). */
	expect_behind(DLT_FRELAY, 4, HDR(0x18, 0x41, 0x03, 0xcc));
	expect_behind(DLT_FRELAY, 6, HDR(0x18, 0x41, 0x03, 0x8e));
	expect_behind(DLT_FRELAY, 4, HDR(0x18, 0x41, 0x03, 0x00, 0x80, 0x00, 0x00, 0x00, 0x08, 0x00));
	expect_behind(DLT_FRELAY, 6, HDR(0x18, 0x41, 0x03, 0x00, 0x80, 0x00, 0x00, 0x00, 0x86, 0xdd));
	/* A three-byte address. */
	expect_behind(DLT_FRELAY, 4, HDR(0x18, 0x40, 0x01, 0x03, 0xcc));
	/* Cisco: the address, then an EtherType. */
	expect_behind(DLT_FRELAY, 4, HDR(0x18, 0x41, 0x08, 0x00));
	expect_behind(DLT_FRELAY, 6, HDR(0x18, 0x41, 0x86, 0xdd));
	/* Another NLPID (0x81: ISO CLNP). */
	expect_behind_result(DLT_FRELAY, 4, DECODE_NOT_TCP, HDR(0x18, 0x41, 0x03, 0x81));
	/* No EA bit in four bytes. */
	expect_behind_result(DLT_FRELAY, 4, DECODE_MALFORMED, HDR(0x18, 0x40, 0x00, 0x00, 0x03, 0xcc));
}

/* ---- PKTAP, IPNET, IPoIB, ENC, PFLOG, netANALYZER, ATM, MPLS, 802.3 ------ */

static void pktap_hdr(struct frame *f, uint32_t dlt)
{
	put_le32(f, 108);            /* pth_length */
	put_le32(f, 1);              /* pth_type_next: PTH_TYPE_PACKET */
	put_le32(f, dlt);
	put_bytes(f, "en0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	put_fill(f, 0, 108 - 36);
}

Test(decode, pktap_wrapping_ethernet)
{
	struct tcp_spec t = tcp_default();
	struct frame e = { .n = 0 }, f = { .n = 0 };
	inner_eth6(&e, &t);
	pktap_hdr(&f, DLT_EN10MB);
	cr_assert_eq(f.n, 108);
	put_frame(&f, &e);
	expect_std(DLT_PKTAP, &f, &t, 6);
	/* And raw IP under PKTAP. */
	struct frame ip = { .n = 0 }, g = { .n = 0 };
	ip4_tcp(&ip, &t);
	pktap_hdr(&g, DLT_RAW);
	put_frame(&g, &ip);
	expect_std(DLT_PKTAP, &g, &t, 4);
}

Test(decode, pktap_wrapping_pktap_is_malformed)
{
	struct tcp_spec t = tcp_default();
	struct frame e = { .n = 0 }, in = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&e, &t);
	pktap_hdr(&in, DLT_EN10MB);
	put_frame(&in, &e);
	pktap_hdr(&f, DLT_PKTAP);
	put_frame(&f, &in);
	expect_result(DLT_PKTAP, &f, DECODE_MALFORMED);
	/* PKTAP naming PPI is a wrapper in a wrapper too. */
	f.n = 0;
	pktap_hdr(&f, DLT_PPI);
	put_frame(&f, &in);
	expect_result(DLT_PKTAP, &f, DECODE_MALFORMED);
	/* Not a packet record. */
	struct frame g = { .n = 0 };
	pktap_hdr(&g, DLT_EN10MB);
	g.b[4] = 2;
	put_frame(&g, &e);
	expect_result(DLT_PKTAP, &g, DECODE_NOT_TCP);
}

static void ipnet_hdr(struct frame *f, uint8_t family, uint32_t pktlen)
{
	put8(f, 1);                  /* version */
	put8(f, family);
	put16(f, 0);                 /* htype */
	put32(f, pktlen);
	put32(f, 2);                 /* ifindex */
	put32(f, 0);                 /* grifindex */
	put32(f, 0);                 /* zone src */
	put32(f, 0);                 /* zone dst */
}

Test(decode, ipnet_v4_v6)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	ipnet_hdr(&f, 2, (uint32_t)ip.n);
	cr_assert_eq(f.n, 24);
	put_frame(&f, &ip);
	expect_std(DLT_IPNET, &f, &t, 4);
	struct frame ip6 = { .n = 0 }, g = { .n = 0 };
	ip6_tcp(&ip6, &t);
	ipnet_hdr(&g, 26, (uint32_t)ip6.n);
	put_frame(&g, &ip6);
	expect_std(DLT_IPNET, &g, &t, 6);
	struct frame h = { .n = 0 };
	ipnet_hdr(&h, 7, (uint32_t)ip.n);
	put_frame(&h, &ip);
	expect_result(DLT_IPNET, &h, DECODE_NOT_TCP);
}

Test(decode, ipoib)
{
	expect_behind(DLT_IPOIB, 4, HDR(0x08, 0x00, 0x00, 0x00));
	expect_behind(DLT_IPOIB, 6, HDR(0x86, 0xdd, 0x00, 0x00));
	expect_behind_result(DLT_IPOIB, 4, DECODE_NOT_TCP, HDR(0x08, 0x06, 0x00, 0x00));  /* ARP */
	/* After Linux's 20-byte pseudo header (a destination hardware address). */
	struct tcp_spec t = tcp_default();
	struct frame h = { .n = 0 }, f;
	put32(&h, 0x00000048);       /* QPN */
	put32(&h, 0xfe800000);       /* GID */
	put_fill(&h, 0x11, 12);
	put16(&h, 0x86dd);
	put16(&h, 0);
	behind(&f, &h, &t, 6);
	expect_std(DLT_IPOIB, &f, &t, 6);
	/* After a 40-byte Global Route Header. */
	h.n = 0;
	put32(&h, 0x60000000);
	put16(&h, 0);
	put8(&h, 0x1b);
	put8(&h, 0x40);
	put_fill(&h, 0x22, 32);
	put16(&h, 0x0800);
	put16(&h, 0);
	behind(&f, &h, &t, 4);
	expect_std(DLT_IPOIB, &f, &t, 4);
}

Test(decode, openbsd_enc)
{
	struct tcp_spec t = tcp_default();
	struct frame h = { .n = 0 }, f;
	put_h32(&h, 2);              /* AF_INET, host order */
	put32(&h, 0x00001001);       /* SPI */
	put32(&h, 0x00000003);       /* flags */
	behind(&f, &h, &t, 4);
	expect_std(DLT_ENC, &f, &t, 4);
	/* Written on a machine of the other byte order; IPv6 (AF_INET6 24). */
	struct frame h6 = { .n = 0 }, g;
	put_h32(&h6, swap32(24));
	put32(&h6, 0x00001001);
	put32(&h6, 0);
	behind(&g, &h6, &t, 6);
	expect_std(DLT_ENC, &g, &t, 6);
}

/* OpenBSD pflog: length (61, padded to 64), family, action, reason,
 * interface, ruleset, rule numbers, uid/pid, direction, padding. */
static void pflog_hdr(struct frame *f, uint8_t family)
{
	put8(f, 61);
	put8(f, family);
	put8(f, 0);                  /* PF_PASS */
	put8(f, 0);
	put_bytes(f, "em0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	put_fill(f, 0, 16);          /* ruleset */
	put_fill(f, 0x02, 24);       /* rule numbers, uids, pids */
	put8(f, 1);                  /* direction in */
	put_fill(f, 0, 3);
	cr_assert_eq(f->n % 4, 0);
}

Test(decode, pflog)
{
	struct tcp_spec t = tcp_default();
	struct frame h = { .n = 0 }, f;
	pflog_hdr(&h, 2);
	cr_assert_eq(h.n, 64);
	behind(&f, &h, &t, 4);
	expect_std(DLT_PFLOG, &f, &t, 4);
	struct frame h6 = { .n = 0 }, g;
	pflog_hdr(&h6, 24);
	behind(&g, &h6, &t, 6);
	expect_std(DLT_PFLOG, &g, &t, 6);
	/* A length of 0 leaves no room for the length and family bytes. */
	f.b[0] = 0;
	expect_result(DLT_PFLOG, &f, DECODE_MALFORMED);
}

Test(decode, netanalyzer_and_transparent)
{
	/* Both carry the Ethernet FCS at the end: not payload. */
	struct tcp_spec t = tcp_default();
	struct frame e = { .n = 0 }, f = { .n = 0 }, g = { .n = 0 };
	inner_eth4(&e, &t);
	put32(&f, 0x12345678);       /* status */
	put_frame(&f, &e);
	put32(&f, 0xfcfcfcfc);       /* FCS */
	put32(&g, 0x12345678);
	put_fill(&g, 0x55, 7);       /* preamble */
	put8(&g, 0xd5);              /* SFD */
	put_frame(&g, &e);
	put32(&g, 0xfcfcfcfc);
	const int lts[2] = { DLT_NETANALYZER, DLT_NETANALYZER_TRANSPARENT };
	const struct frame *fs[2] = { &f, &g };
	for (int i = 0; i < 2; i++) {
		struct decode_tcp d;
		cr_assert_eq(run_frame(lts[i], fs[i], &d), DECODE_TCP, "linktype %d", lts[i]);
		check_tcp(&d, &t, 4);
		cr_assert_eq(d.payload_len, t.paylen);
		cr_assert_eq(d.payload_caplen, t.paylen);
		cr_assert(d.payload == fs[i]->b + fs[i]->n - 4 - t.paylen);
	}
}

Test(decode, atm_rfc1483_llc_snap)
{
	expect_behind(DLT_ATM_RFC1483, 4, HDR(0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00));
	expect_behind(DLT_ATM_RFC1483, 6, HDR(0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd));
	expect_behind_result(DLT_ATM_RFC1483, 4, DECODE_NOT_TCP,
			     HDR(0xfe, 0xfe, 0x03, 0xcc, 0x00, 0x00, 0x00, 0x00));
}

Test(decode, dlt_mpls)
{
	struct tcp_spec t = tcp_default();
	struct frame h = { .n = 0 }, f;
	mpls_label(&h, 100, false);
	mpls_label(&h, 200, true);
	behind(&f, &h, &t, 6);
	expect_std(DLT_MPLS, &f, &t, 6);
	h.n = 0;
	mpls_label(&h, 3, true);
	behind(&f, &h, &t, 4);
	expect_std(DLT_MPLS, &f, &t, 4);
}

Test(decode, ethernet_8023_length_and_snap)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&f);
	put16(&f, (unsigned)(8 + ip.n));   /* an 802.3 length */
	llc_snap(&f, 0x0800);
	put_frame(&f, &ip);
	expect_std(DLT_EN10MB, &f, &t, 4);
	/* STP's LLC (42 42 03) is not SNAP. */
	struct frame g = { .n = 0 };
	eth_hdr(&g);
	put16(&g, 38);
	put8(&g, 0x42); put8(&g, 0x42); put8(&g, 0x03);
	put_fill(&g, 0, 35);
	expect_result(DLT_EN10MB, &g, DECODE_NOT_TCP);
}

/* ==== fragments and decode_ip_payload() =================================== */

static void check_frag(const struct decode_tcp *d, uint32_t id, uint8_t proto, uint32_t offset,
		       bool more, uint32_t header_len, const uint8_t *data, uint32_t len,
		       uint32_t wire_len)
{
	cr_assert_eq(d->frag.id, id, "frag.id %#x, want %#x", d->frag.id, id);
	cr_assert_eq(d->frag.proto, proto);
	cr_assert_eq(d->frag.offset, offset, "frag.offset %u, want %u", d->frag.offset, offset);
	cr_assert_eq(d->frag.more, more);
	cr_assert_eq(d->frag.header_len, header_len, "frag.header_len %u, want %u",
		     d->frag.header_len, header_len);
	cr_assert(d->frag.data == data, "frag.data at the wrong place");
	cr_assert_eq(d->frag.len, len, "frag.len %u, want %u", d->frag.len, len);
	cr_assert_eq(d->frag.wire_len, wire_len, "frag.wire_len %u, want %u", d->frag.wire_len,
		     wire_len);
}

static void check_addrs4(const struct decode_tcp *d, const uint8_t src[4], const uint8_t dst[4])
{
	static const uint8_t zero[12];
	cr_assert_eq(d->ip_version, 4);
	cr_assert(memcmp(d->src, src, 4) == 0 && memcmp(d->src + 4, zero, 12) == 0, "source");
	cr_assert(memcmp(d->dst, dst, 4) == 0 && memcmp(d->dst + 4, zero, 12) == 0, "destination");
}

Test(decode, ipv4_first_middle_last_fragment)
{
	struct tcp_spec t = tcp_100();   /* 32 + 100 = 132 bytes */
	struct frame seg = { .n = 0 };
	tcp_build(&seg, &t);

	/* First: MF, offset 0, 48 bytes. */
	struct frame p1 = bytes_frame(seg.b, 48), ip = { .n = 0 }, f = { .n = 0 };
	ip4_addr_build(&ip, 6, SRC4, DST4, 0x4d2e, 0x2000, &p1);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	enum decode_result r = run_frame(DLT_EN10MB, &f, &d);
	cr_assert_eq(r, DECODE_FRAGMENT, "got %s", decode_result_name(r));
	check_addrs4(&d, SRC4, DST4);
	cr_assert_eq(d.encap.depth, 0);
	check_frag(&d, 0x4d2e, 6, 0, true, 20, f.b + 34, 48, 48);

	/* Middle: an IPv4 option (IHL 6), MF, offset 6 * 8, bytes 48..95. */
	static const uint8_t ra[4] = { 0x94, 4, 0, 0 };
	struct frame p2 = bytes_frame(seg.b + 48, 48), ip2 = { .n = 0 }, g = { .n = 0 };
	struct ip4_spec s = ip4_default();
	s.frag = 0x2000 | 6;
	s.opt = ra;
	s.optlen = 4;
	ip4_build(&ip2, &s, &p2);
	eth(&g, 0x0800, &ip2);
	cr_assert_eq(run_frame(DLT_EN10MB, &g, &d), DECODE_FRAGMENT);
	check_addrs4(&d, SRC4, DST4);
	check_frag(&d, 0x1234, 6, 48, true, 24, g.b + 14 + 24, 48, 48);

	/* Last: offset 12 * 8, no MF, bytes 96..131; DF is not MF. */
	struct frame p3 = bytes_frame(seg.b + 96, 36), ip3 = { .n = 0 }, h = { .n = 0 };
	ip4_addr_build(&ip3, 6, SRC4, DST4, 0x4d2e, 0x4000 | 12, &p3);
	eth(&h, 0x0800, &ip3);
	cr_assert_eq(run_frame(DLT_EN10MB, &h, &d), DECODE_FRAGMENT);
	check_frag(&d, 0x4d2e, 6, 96, false, 20, h.b + 34, 36, 36);

	/* The first again, its last 10 bytes not captured. */
	cr_assert_eq(run(DLT_EN10MB, f.b, f.n - 10, &d), DECODE_FRAGMENT);
	check_frag(&d, 0x4d2e, 6, 0, true, 20, f.b + 34, 38, 48);
}

Test(decode, ipv6_fragment_after_hop_by_hop)
{
	struct tcp_spec t = tcp_100();
	struct frame seg = { .n = 0 };
	tcp_build(&seg, &t);
	for (unsigned k = 0; k < 2; k++) {
		/* k = 0: the first 64 bytes; k = 1: the next 64 (offset 8 * 8). */
		struct frame ext = { .n = 0 }, piece = bytes_frame(seg.b + 64 * k, 64);
		struct frame ip = { .n = 0 }, f = { .n = 0 };
		ext_hbh(&ext, 44);
		ext_frag(&ext, 6, 8 * k, true);
		struct ip6_spec s = { .nh = 0, .ext = &ext };
		ip6_build(&ip, &s, &piece);
		eth(&f, 0x86dd, &ip);
		struct decode_tcp d;
		enum decode_result r = run_frame(DLT_EN10MB, &f, &d);
		cr_assert_eq(r, DECODE_FRAGMENT, "got %s", decode_result_name(r));
		cr_assert_eq(d.ip_version, 6);
		cr_assert(memcmp(d.src, SRC6, 16) == 0 && memcmp(d.dst, DST6, 16) == 0);
		/* header_len: the extension headers before the Fragment header. */
		check_frag(&d, 0xcafe0001, 6, 64 * k, true, 8, f.b + 14 + 56, 64, 64);
	}
	/* The last piece (M clear, offset 128): 4 bytes. */
	struct frame ext = { .n = 0 }, piece = bytes_frame(seg.b + 128, 4);
	struct frame ip = { .n = 0 }, f = { .n = 0 };
	ext_hbh(&ext, 44);
	ext_frag(&ext, 6, 16, false);
	struct ip6_spec s = { .nh = 0, .ext = &ext };
	ip6_build(&ip, &s, &piece);
	eth(&f, 0x86dd, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_FRAGMENT);
	check_frag(&d, 0xcafe0001, 6, 128, false, 8, f.b + 14 + 56, 4, 4);
	/* Without the hop-by-hop header: none before it. */
	struct frame ext0 = { .n = 0 }, ip0 = { .n = 0 }, f0 = { .n = 0 };
	ext_frag(&ext0, 6, 16, false);
	struct ip6_spec s0 = { .nh = 44, .ext = &ext0 };
	ip6_build(&ip0, &s0, &piece);
	eth(&f0, 0x86dd, &ip0);
	cr_assert_eq(run_frame(DLT_EN10MB, &f0, &d), DECODE_FRAGMENT);
	check_frag(&d, 0xcafe0001, 6, 128, false, 0, f0.b + 14 + 48, 4, 4);
}

Test(decode, ip_payload_after_ipv4_reassembly)
{
	struct tcp_spec t = tcp_100();
	struct frame seg = { .n = 0 };
	tcp_build(&seg, &t);
	struct frame p1 = bytes_frame(seg.b, 48), ip = { .n = 0 }, f = { .n = 0 };
	ip4_addr_build(&ip, 6, SRC4, DST4, 0x4d2e, 0x2000, &p1);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_FRAGMENT);
	/* The reassembled payload: the whole segment. */
	enum decode_result r = run_payload(d.frag.proto, seg.b, seg.n, (uint32_t)seg.n, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, &t, 4);
	cr_assert(d.has_timestamps);
	cr_assert_eq(d.encap.depth, 0);
	cr_assert_eq(d.payload_len, 100);
	cr_assert_eq(d.payload_caplen, 100);
	cr_assert(d.payload == seg.b + 32);
}

Test(decode, ip_payload_after_ipv6_reassembly)
{
	struct tcp_spec t = tcp_100();
	struct frame seg = { .n = 0 };
	tcp_build(&seg, &t);
	struct frame ext = { .n = 0 }, piece = bytes_frame(seg.b, 64), ip = { .n = 0 }, f = { .n = 0 };
	ext_hbh(&ext, 44);
	ext_frag(&ext, 6, 0, true);
	struct ip6_spec s = { .nh = 0, .ext = &ext };
	ip6_build(&ip, &s, &piece);
	eth(&f, 0x86dd, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_FRAGMENT);
	enum decode_result r = run_payload(d.frag.proto, seg.b, seg.n, (uint32_t)seg.n, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, &t, 6);
	cr_assert(d.payload == seg.b + 32);
	cr_assert_eq(d.payload_len, 100);
}

Test(decode, ip_payload_of_fragmented_vxlan)
{
	/* The outer UDP datagram of a VXLAN packet was fragmented: its
	 * reassembly carries the tunnel; the fragment's (outer) addresses
	 * become the tunnel's, the inner ones are filled. */
	struct tcp_spec t = tcp_default();
	struct frame in = { .n = 0 }, vx = { .n = 0 }, udp = { .n = 0 };
	inner_eth4(&in, &t);
	vxlan_hdr(&vx, 0x08, 0x7777);
	put_frame(&vx, &in);
	udp_build(&udp, 40000, 4789, &vx);
	struct frame p1 = bytes_frame(udp.b, 32), ip = { .n = 0 }, f = { .n = 0 };
	ip4_addr_build(&ip, 17, OA4, OB4, 0x0bad, 0x2000, &p1);
	eth(&f, 0x0800, &ip);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_FRAGMENT);
	check_addrs4(&d, OA4, OB4);
	check_frag(&d, 0x0bad, 17, 0, true, 20, f.b + 34, 32, 32);
	enum decode_result r = run_payload(d.frag.proto, udp.b, udp.n, (uint32_t)udp.n, &d);
	cr_assert_eq(r, DECODE_TCP, "got %s", decode_result_name(r));
	check_tcp(&d, &t, 4);
	struct encap_want w = want1(ENCAP_VXLAN, true, 0x7777, 4);
	check_encap(&d.encap, &w);
	cr_assert(d.payload == udp.b + udp.n - t.paylen);
	cr_assert_eq(d.payload_len, t.paylen);
}

Test(decode, fragment_inside_a_tunnel)
{
	/* VXLAN whose inner IPv4 packet is a fragment: encap is filled too,
	 * and survives decode_ip_payload(). */
	struct tcp_spec t = tcp_100();
	struct frame seg = { .n = 0 };
	tcp_build(&seg, &t);
	struct frame p1 = bytes_frame(seg.b, 40), ip = { .n = 0 }, in = { .n = 0 };
	struct frame vx = { .n = 0 }, udp = { .n = 0 }, f = { .n = 0 };
	ip4_addr_build(&ip, 6, SRC4, DST4, 0x0042, 0x2000, &p1);
	eth(&in, 0x0800, &ip);
	vxlan_hdr(&vx, 0x08, 31);
	put_frame(&vx, &in);
	udp_build(&udp, 40000, 4789, &vx);
	outer4_eth(&f, 17, &udp);
	struct decode_tcp d;
	cr_assert_eq(run_frame(DLT_EN10MB, &f, &d), DECODE_FRAGMENT);
	check_addrs4(&d, SRC4, DST4);
	struct encap_want w = want1(ENCAP_VXLAN, true, 31, 4);
	check_encap(&d.encap, &w);
	check_frag(&d, 0x0042, 6, 0, true, 20, f.b + f.n - 40, 40, 40);
	cr_assert_eq(run_payload(6, seg.b, seg.n, (uint32_t)seg.n, &d), DECODE_TCP);
	check_tcp(&d, &t, 4);
	check_encap(&d.encap, &w);
}

Test(decode, ip_payload_other_protocols)
{
	struct decode_tcp d;
	struct frame f = { .n = 0 };
	put32(&f, 0x08000000);       /* ICMP echo */
	put32(&f, 0);
	memset(&d, 0, sizeof d);
	d.ip_version = 4;
	cr_assert_eq(run_payload(1, f.b, f.n, 8, &d), DECODE_NOT_TCP);
	/* A TCP header longer than what was reassembled. */
	cr_assert_eq(run_payload(6, f.b, f.n, 8, &d), DECODE_MALFORMED);
	cr_assert_eq(run_payload(6, f.b, 0, 0, &d), DECODE_MALFORMED);
	/* 8 bytes captured of a 60-byte datagram: cut, not malformed. */
	cr_assert_eq(run_payload(6, f.b, f.n, 60, &d), DECODE_TRUNCATED);
}

/* ==== every snaplen, through tunnels and wrappers ========================= */

/*
 * every_caplen_but() with the encap checked too on every cut that still
 * decodes: short of the headers truncated, except at the cuts listed in
 * `either` (where a header may legitimately end, or a known bug is), where
 * anything but TCP goes; from the headers on, TCP with the payload cut.
 */
static void every_cut_encap(int linktype, const struct frame *f, size_t hdr, uint32_t paylen,
			    const struct encap_want *w, const size_t *either, size_t n_either)
{
	cr_assert_eq(f->n, hdr + paylen, "test bug: frame layout (%zu, want %zu)", f->n,
		     hdr + paylen);
	for (size_t c = 0; c <= f->n; c++) {
		struct decode_tcp d;
		enum decode_result r = run(linktype, f->b, c, &d);
		bool amb = false;
		for (size_t i = 0; i < n_either; i++)
			amb |= either[i] == c;
		if (c < hdr) {
			if (amb)
				cr_assert(r != DECODE_TCP,
					  "linktype %d caplen %zu (a header boundary): got %s",
					  linktype, c, decode_result_name(r));
			else
				cr_assert_eq(r, DECODE_TRUNCATED,
					     "linktype %d caplen %zu (headers %zu): got %s",
					     linktype, c, hdr, decode_result_name(r));
			continue;
		}
		cr_assert_eq(r, DECODE_TCP, "linktype %d caplen %zu (headers %zu): got %s",
			     linktype, c, hdr, decode_result_name(r));
		cr_assert_eq(d.payload_caplen, c - hdr, "caplen %zu: payload_caplen %u", c,
			     d.payload_caplen);
		cr_assert_eq(d.payload_len, paylen, "caplen %zu: payload_len %u", c, d.payload_len);
		if (d.payload_caplen)
			cr_assert(d.payload == f->b + hdr, "caplen %zu: payload offset", c);
		if (w)
			check_encap(&d.encap, w);
	}
}

Test(decode, snaplen_every_cut_vxlan)
{
	struct tcp_spec t = tcp_100();
	struct frame f = { .n = 0 };
	vxlan_frame(&f, 4789, 0x08, 0xabc, &t);
	struct encap_want w = want1(ENCAP_VXLAN, true, 0xabc, 4);
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 8 + 8 + 14 + 20 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_geneve)
{
	struct tcp_spec t = tcp_100();
	struct frame in = { .n = 0 }, f = { .n = 0 };
	inner_eth6(&in, &t);
	geneve_frame(&f, 0, true, 0x6558, 0x10, &in);
	struct encap_want w = want1(ENCAP_GENEVE, true, 0x10, 4);
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 8 + 16 + 14 + 40 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_gre_all_fields_teb_vlan_over_ipv6)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, in = { .n = 0 }, gre = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	eth_hdr(&in);
	put16(&in, 0x8100);
	put16(&in, 7);
	put16(&in, 0x0800);
	put_frame(&in, &ip);
	struct gre_spec g = { .flags = GRE_C | GRE_K | GRE_S, .proto = 0x6558, .key = 5, .seq = 6 };
	gre_hdr(&gre, &g);
	put_frame(&gre, &in);
	outer6_eth(&f, 47, &gre);
	struct encap_want w = want1(ENCAP_GRE, true, 5, 6);
	every_cut_encap(DLT_EN10MB, &f, 14 + 40 + 16 + 18 + 20 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_pptp)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, ppp = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	put8(&ppp, 0xff);
	put8(&ppp, 0x03);
	put16(&ppp, 0x0021);
	put_frame(&ppp, &ip);
	pptp_frame(&f, GRE_S | GRE_A, 0x77, &ppp);
	struct encap_want w = want1(ENCAP_GRE, true, 0x77, 4);
	/* Right after the GRE header, a cut looks like an acknowledgment
	 * alone; one byte later, like PPP protocol 0xff. */
	static const size_t either[] = { 14 + 20 + 16, 14 + 20 + 16 + 1 };
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 16 + 4 + 20 + 32, 100, &w, either, 2);
}

Test(decode, snaplen_every_cut_erspan3_with_subheader)
{
	struct tcp_spec t = tcp_100();
	struct frame in = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	erspan3_hdr(&body, 2, 0x101, 0, true);
	put_frame(&body, &in);
	struct gre_spec g = { .flags = GRE_S, .proto = 0x22eb, .seq = 5 };
	gre_frame4(&f, &g, &body);
	struct encap_want w = want1(ENCAP_ERSPAN3, true, 0x101, 4);
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 8 + 20 + 14 + 20 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_erspan2)
{
	struct tcp_spec t = tcp_100();
	struct frame in = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	inner_eth6(&in, &t);
	erspan2_hdr(&body, 1, 0x3);
	put_frame(&body, &in);
	struct gre_spec g = { .flags = GRE_S, .proto = 0x88be, .seq = 5 };
	gre_frame4(&f, &g, &body);
	struct encap_want w = want1(ENCAP_ERSPAN2, true, 0x3, 4);
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 8 + 8 + 14 + 40 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_gtpu_extensions)
{
	struct tcp_spec t = tcp_100();
	struct frame ip = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	ip6_tcp(&ip, &t);
	put16(&body, 0x1234); put8(&body, 0); put8(&body, 0x40);
	put8(&body, 1); put16(&body, 2152); put8(&body, 0x85);
	put8(&body, 2); put_fill(&body, 0x45, 6); put8(&body, 0);
	put_frame(&body, &ip);
	gtpu_frame(&f, GTP_V1_PT | GTP_E | GTP_S, 0xff, 0x5151, &body, 2152, 2152);
	struct encap_want w = want1(ENCAP_GTPU, true, 0x5151, 4);
	/* Right after the GTP-U headers, a cut looks like an empty G-PDU. */
	static const size_t either[] = { 14 + 20 + 8 + 8 + 4 + 4 + 8 };
	every_cut_encap(DLT_EN10MB, &f, 14 + 20 + 8 + 8 + 4 + 4 + 8 + 40 + 32, 100, &w, either, 1);
}

/* A capture that ends right before an extension header's length byte was
 * cut by the snaplen, not malformed (a zero length is). */
Test(decode, gtpu_cut_before_extension_length_is_truncated)
{
	struct tcp_spec t = tcp_default();
	struct frame ip = { .n = 0 }, body = { .n = 0 }, f = { .n = 0 };
	ip4_tcp(&ip, &t);
	put16(&body, 0); put8(&body, 0); put8(&body, 0x85);   /* next: an extension */
	put8(&body, 1); put8(&body, 0x10); put8(&body, 0x09); put8(&body, 0);
	put_frame(&body, &ip);
	gtpu_frame(&f, GTP_V1_PT | GTP_E, 0xff, 77, &body, 2152, 2152);
	/* Ethernet, IPv4, UDP, GTP-U's 8 bytes and its 4 optional ones. */
	struct decode_tcp d;
	enum decode_result r = run(DLT_EN10MB, f.b, 14 + 20 + 8 + 8 + 4, &d);
	cr_assert_eq(r, DECODE_TRUNCATED, "got %s", decode_result_name(r));
}

Test(decode, snaplen_every_cut_nested)
{
	struct tcp_spec t = tcp_100();
	struct frame in = { .n = 0 }, vx = { .n = 0 }, udp = { .n = 0 }, mid = { .n = 0 };
	struct frame gre = { .n = 0 }, f = { .n = 0 };
	inner_eth4(&in, &t);
	vxlan_hdr(&vx, 0x08, 77);
	put_frame(&vx, &in);
	udp_build(&udp, 50000, 4789, &vx);
	ip4_addr_build(&mid, 17, OA4, OB4, 7, 0, &udp);
	struct gre_spec g = { .flags = GRE_K, .proto = 0x0800, .key = 0x999 };
	gre_hdr(&gre, &g);
	put_frame(&gre, &mid);
	outer6_eth(&f, 47, &gre);
	struct encap_want w = {
		.depth = 2, .kinds = { ENCAP_GRE, ENCAP_VXLAN }, .has_id = true, .id = 77,
		.outer_version = 4, .osrc = OA4, .odst = OB4,
	};
	every_cut_encap(DLT_EN10MB, &f, 14 + 40 + 8 + 20 + 8 + 8 + 14 + 20 + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_ipip_max_depth)
{
	struct tcp_spec t = tcp_100();
	struct frame f;
	ipip_nest(&f, DECODE_MAX_ENCAP, &t);
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	struct encap_want w = { .depth = DECODE_MAX_ENCAP, .outer_version = 4, .osrc = a, .odst = b };
	for (unsigned i = 0; i < DECODE_MAX_ENCAP; i++)
		w.kinds[i] = ENCAP_IPIP;
	every_cut_encap(DLT_RAW, &f, 20 * (DECODE_MAX_ENCAP + 1) + 32, 100, &w, NULL, 0);
}

Test(decode, snaplen_every_cut_radiotap_qos_80211)
{
	struct tcp_spec t = tcp_100();
	struct frame wl = { .n = 0 }, f = { .n = 0 };
	wlan_data(&wl, WLAN_FC0_QOS_DATA, WLAN_FC1_TODS | WLAN_FC1_ORDER, 0, &t, 6);
	const uint32_t p[3] = { RT_TSFT | RT_FLAGS | RT_RATE | RT_EXT, RT_EXT, 0 };
	rt_tsft_flags(&f, p, 3, 0x02);
	put_frame(&f, &wl);
	every_cut_encap(DLT_IEEE802_11_RADIO, &f, 26 + 30 + 8 + 40 + 32, 100, NULL, NULL, 0);
}

Test(decode, snaplen_every_cut_ppi_wds_and_plain_80211)
{
	struct tcp_spec t = tcp_100();
	struct frame wl = { .n = 0 }, f = { .n = 0 };
	wlan_data(&wl, WLAN_FC0_DATA, WLAN_FC1_TODS | WLAN_FC1_FROMDS, 0, &t, 4);
	ppi_hdr(&f, DLT_IEEE802_11);
	put_frame(&f, &wl);
	every_cut_encap(DLT_PPI, &f, 32 + 30 + 8 + 20 + 32, 100, NULL, NULL, 0);
	every_cut_encap(DLT_IEEE802_11, &wl, 30 + 8 + 20 + 32, 100, NULL, NULL, 0);
}

Test(decode, snaplen_every_cut_prism_avs_pktap)
{
	struct tcp_spec t = tcp_100();
	struct frame wl = { .n = 0 }, f = { .n = 0 }, e = { .n = 0 }, g = { .n = 0 };
	wlan_data(&wl, WLAN_FC0_DATA, WLAN_FC1_FROMDS, 0, &t, 4);
	avs_hdr(&f);
	put_frame(&f, &wl);
	every_cut_encap(DLT_IEEE802_11_RADIO_AVS, &f, 64 + 24 + 8 + 20 + 32, 100, NULL, NULL, 0);
	inner_eth4(&e, &t);
	pktap_hdr(&g, DLT_EN10MB);
	put_frame(&g, &e);
	every_cut_encap(DLT_PKTAP, &g, 108 + 14 + 20 + 32, 100, NULL, NULL, 0);
}

Test(decode, snaplen_every_cut_ppp_hdlc_frelay)
{
	struct tcp_spec t = tcp_100();
	struct frame f;
	struct frame h = bytes_frame(HDR(0xff, 0x03, 0x00, 0x21));
	behind(&f, &h, &t, 4);
	/* One byte, 0xff, reads as a compressed (odd) protocol field. */
	static const size_t one[] = { 1 };
	every_cut_encap(DLT_PPP, &f, 4 + 20 + 32, 100, NULL, one, 1);
	h = bytes_frame(HDR(0x8f, 0x00, 0x86, 0xdd));
	behind(&f, &h, &t, 6);
	every_cut_encap(DLT_C_HDLC, &f, 4 + 40 + 32, 100, NULL, NULL, 0);
	every_cut_encap(DLT_PPP_SERIAL, &f, 4 + 40 + 32, 100, NULL, NULL, 0);
	h = bytes_frame(HDR(0x18, 0x41, 0x03, 0x00, 0x80, 0x00, 0x00, 0x00, 0x08, 0x00));
	behind(&f, &h, &t, 4);
	every_cut_encap(DLT_FRELAY, &f, 10 + 20 + 32, 100, NULL, NULL, 0);
}
