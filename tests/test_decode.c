/*
 * test_decode.c - decode_packet() on hand-built frames: every link type
 * decode.h promises (Ethernet with VLAN/QinQ/MPLS, Linux SLL and SLL2, raw
 * IP, BSD loopback in both byte orders, DLT_LOOP, NFLOG), IPv4 options and
 * fragments, IPv6 extension headers, TCP options (well-formed and broken),
 * every snaplen cut of a frame, Ethernet trailer padding, and malformed
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
 * Decode an exactly-sized heap copy of bytes[0, n), so any read past n is
 * an ASan error.  On DECODE_TCP, check that the payload lies inside the
 * copy, then rebase out->payload onto `bytes` so tests can compare it.
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
	if (r == DECODE_TCP) {
		cr_assert_leq(out->payload_caplen, out->payload_len,
			      "payload_caplen %u > payload_len %u",
			      out->payload_caplen, out->payload_len);
		if (out->payload == NULL) {
			cr_assert_eq(out->payload_caplen, 0, "NULL payload with bytes");
		} else {
			uintptr_t p = (uintptr_t)out->payload, b = (uintptr_t)copy;
			cr_assert(p >= b && p - b <= n && n - (p - b) >= out->payload_caplen,
				  "payload outside the frame");
			out->payload = bytes + (p - b);
		}
	}
	free(copy);
	return r;
}

static enum decode_result run_frame(int linktype, const struct frame *f, struct decode_tcp *out)
{
	return run(linktype, f->b, f->n, out);
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
				  DLT_IPV4, DLT_IPV6, DLT_NFLOG, DLT_LINUX_SLL2 };
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
}

Test(decode, result_names_distinct)
{
	static const enum decode_result all[] = { DECODE_TCP, DECODE_NOT_TCP, DECODE_FRAGMENT,
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
