/*
 * decode.c - link layer, tunnels, IPv4/IPv6 and TCP header decoding.
 *
 * The decoders peel one header each and hand the rest on, outermost
 * first: link -> (VLAN, MPLS, PPPoE)* -> IP -> (tunnel -> link or IP)* ->
 * TCP.  Each works on a struct rd limited to what it may read, so a lying
 * length field can only shrink what the next layer sees, never grow it
 * past the capture.  Recursion happens only through a tunnel, and each
 * tunnel adds one to out->encap.depth, which is capped: the call depth
 * is bounded whatever the packet says.
 */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "rd.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864
#define ETH_TEB 0x6558           /* transparent Ethernet bridging (GRE, GENEVE) */
#define ETH_ERSPAN_1_2 0x88be
#define ETH_ERSPAN_3 0x22eb
#define ETH_PPP 0x880b           /* PPP in GRE (PPTP) */

#define IPPROTO_IPIP_ 4
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_ 47
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_NONE 59
#define IP6_DSTOPTS 60

#define NFULA_PAYLOAD 9

#define UDP_VXLAN 4789
#define UDP_VXLAN_LINUX 8472     /* the Linux kernel's default before IANA's */
#define UDP_GENEVE 6081
#define UDP_GTPU 2152

/* LINKTYPE_RAW as written in files; pcap_datalink() normally maps it to
 * DLT_RAW, but a few libpcap builds hand it through unchanged. */
#define LINKTYPE_RAW_ 101

/* Loads from bytes already known to be inside the capture. */
static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Options are informational: a bad option ends the parse but keeps the
 * segment, as the receiving stack would still have taken its data. */
static void decode_tcp_options(const uint8_t *p, size_t n, struct decode_tcp *out)
{
	/* Nearly every segment of a modern stack carries exactly NOP, NOP,
	 * timestamps (RFC 7323 appendix A's layout): take it in one look. */
	if (n == 12 && p[0] == 1 && p[1] == 1 && p[2] == 8 && p[3] == 10) {
		out->has_timestamps = true;
		return;
	}
	struct rd o = rd_make(p, n);
	while (rd_left(&o) > 0) {
		uint8_t kind = rd_u8(&o);
		if (kind == 0)
			break;
		if (kind == 1)
			continue;
		uint8_t len = rd_u8(&o);
		if (o.bad || len < 2 || len - 2u > rd_left(&o))
			break;
		struct rd v = rd_make(o.p, len - 2u);
		rd_skip(&o, len - 2u);
		if (kind == 2 && len == 4) {
			out->has_mss = true;
			out->mss = rd_be16(&v);
		} else if (kind == 3 && len == 3) {
			out->has_wscale = true;
			out->wscale = rd_u8(&v);
		} else if (kind == 4 && len == 2) {
			out->sack_permitted = true;
		} else if (kind == 8 && len == 10) {
			out->has_timestamps = true;
		}
	}
}

static enum decode_result decode_tcp(struct rd *r, uint32_t wire_len,
				     struct decode_tcp *out)
{
	size_t avail = rd_left(r);
	if (wire_len < 20)
		return DECODE_MALFORMED;     /* the IP length leaves no room for TCP */
	if (avail < 20)
		return DECODE_TRUNCATED;
	const uint8_t *h = r->p;         /* 20 bytes checked above */
	uint32_t hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < 20 || hlen > wire_len)
		return DECODE_MALFORMED;
	if (avail < hlen)
		return DECODE_TRUNCATED;
	out->sport = load_be16(h);
	out->dport = load_be16(h + 2);
	out->seq = load_be32(h + 4);
	out->ack = load_be32(h + 8);
	out->flags = h[13] & 0x3f;
	out->window = load_be16(h + 14);
	if (hlen > 20)
		decode_tcp_options(h + 20, hlen - 20, out);

	uint32_t plen = wire_len - hlen;
	size_t have = avail - hlen;
	out->payload = h + hlen;
	out->payload_len = plen;
	out->payload_caplen = have < plen ? (uint32_t)have : plen;
	return DECODE_TCP;
}


/* One more tunnel around what follows: the IP header just read (in out)
 * is its outer header.  false when tunnels are nested too deep. */
static bool encap_enter(struct decode_tcp *out, enum encap_kind kind)
{
	struct decode_encap *t = &out->encap;
	if (t->depth >= DECODE_MAX_ENCAP)
		return false;
	t->kinds[t->depth++] = (uint8_t)kind;
	t->has_id = false;
	t->id = 0;
	t->outer_version = out->ip_version;
	memcpy(t->outer_src, out->src, 16);
	memcpy(t->outer_dst, out->dst, 16);
	return true;
}

static void encap_id(struct decode_tcp *out, uint32_t id)
{
	out->encap.has_id = true;
	out->encap.id = id;
}

static enum decode_result decode_ethertype(struct rd *r, uint16_t type, struct decode_tcp *out);
static enum decode_result decode_ip_any(struct rd *r, struct decode_tcp *out);
static enum decode_result decode_ipv4(struct rd *r, struct decode_tcp *out);
static enum decode_result decode_ipv6(struct rd *r, struct decode_tcp *out);

/* An Ethernet frame from its destination address: the type, or an 802.3
 * length followed by LLC/SNAP. */
static enum decode_result decode_ether(struct rd *r, struct decode_tcp *out)
{
	rd_skip(r, 12);
	uint16_t type = rd_be16(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	if (type <= 1500) {              /* 802.3 length: LLC must be SNAP */
		const uint8_t *llc = rd_span(r, 8);
		if (!llc)
			return DECODE_TRUNCATED;
		if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
			return DECODE_NOT_TCP;   /* STP, IPX, NetBIOS... */
		type = load_be16(llc + 6);
	}
	return decode_ethertype(r, type, out);
}

/* An LLC/SNAP header with an EtherType (802.11, ATM, Frame Relay SNAP). */
static enum decode_result decode_llc_snap(struct rd *r, struct decode_tcp *out)
{
	const uint8_t *llc = rd_span(r, 8);
	if (!llc)
		return DECODE_TRUNCATED;
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
		return DECODE_NOT_TCP;
	return decode_ethertype(r, load_be16(llc + 6), out);
}

/* A PPP protocol field (RFC 1661; compressed to one byte when odd, RFC
 * 1661 section 6.5) and what follows. */
static enum decode_result decode_ppp_proto(struct rd *r, struct decode_tcp *out)
{
	uint16_t proto = rd_u8(r);
	if (!(proto & 1))
		proto = (uint16_t)(proto << 8 | rd_u8(r));
	if (r->bad)
		return DECODE_TRUNCATED;
	switch (proto) {
	case 0x0021: return decode_ipv4(r, out);
	case 0x0057: return decode_ipv6(r, out);
	case 0x0281: return decode_ethertype(r, ETH_MPLS, out);
	case 0x0283: return decode_ethertype(r, ETH_MPLS_MC, out);
	default: return DECODE_NOT_TCP;      /* LCP, IPCP, CCP, ... */
	}
}

/* PPP with the HDLC address and control bytes (ff 03) when present
 * (RFC 1662; address-and-control-field compression leaves them out). */
static enum decode_result decode_ppp(struct rd *r, struct decode_tcp *out)
{
	if (rd_left(r) >= 2 && r->p[0] == 0xff && r->p[1] == 0x03)
		rd_skip(r, 2);
	return decode_ppp_proto(r, out);
}

/* Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control, EtherType. */
static enum decode_result decode_chdlc(struct rd *r, struct decode_tcp *out)
{
	rd_skip(r, 2);
	uint16_t type = rd_be16(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	return decode_ethertype(r, type, out);
}

/* ---- tunnels ------------------------------------------------------------- */

/* VXLAN (RFC 7348): flags (I must be set), 24 reserved bits, the VNI, 8
 * reserved bits, then an Ethernet frame. */
static enum decode_result decode_vxlan(struct rd *r, struct decode_tcp *out)
{
	uint32_t w0 = rd_be32(r), w1 = rd_be32(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	if (!(w0 & 0x08000000))
		return DECODE_NOT_TCP;       /* no valid VNI: not VXLAN after all */
	if (!encap_enter(out, ENCAP_VXLAN))
		return DECODE_UNSUPPORTED;
	encap_id(out, w1 >> 8);
	return decode_ether(r, out);
}

/* GENEVE (RFC 8926): version, option length, flags, protocol type, VNI;
 * the options are skipped. */
static enum decode_result decode_geneve(struct rd *r, struct decode_tcp *out)
{
	uint8_t b0 = rd_u8(r);
	rd_skip(r, 1);
	uint16_t proto = rd_be16(r);
	uint32_t vni = rd_be32(r) >> 8;
	if (r->bad)
		return DECODE_TRUNCATED;
	if (b0 >> 6 != 0)
		return DECODE_UNSUPPORTED;   /* a version this code does not know */
	rd_skip(r, (size_t)(b0 & 0x3f) * 4);
	if (r->bad)
		return DECODE_TRUNCATED;
	if (!encap_enter(out, ENCAP_GENEVE))
		return DECODE_UNSUPPORTED;
	encap_id(out, vni);
	if (proto == ETH_TEB)
		return decode_ether(r, out);
	return decode_ethertype(r, proto, out);
}

/* ERSPAN type II and III headers (draft-foschiano-erspan), after GRE. */
static enum decode_result decode_erspan(struct rd *r, uint16_t gre_proto, bool gre_seq,
					struct decode_tcp *out)
{
	if (gre_proto == ETH_ERSPAN_1_2 && !gre_seq) {
		/* Type I: no ERSPAN header, no sequence number. */
		if (!encap_enter(out, ENCAP_ERSPAN1))
			return DECODE_UNSUPPORTED;
		return decode_ether(r, out);
	}
	uint16_t w0 = rd_be16(r), w1 = rd_be16(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	uint8_t ver = (uint8_t)(w0 >> 12);
	uint32_t session = w1 & 0x3ff;
	if (gre_proto == ETH_ERSPAN_1_2) {
		if (ver != 1)
			return DECODE_UNSUPPORTED;
		rd_skip(r, 4);               /* reserved, index */
		if (r->bad)
			return DECODE_TRUNCATED;
		if (!encap_enter(out, ENCAP_ERSPAN2))
			return DECODE_UNSUPPORTED;
		encap_id(out, session);
		return decode_ether(r, out);
	}
	if (ver != 2)
		return DECODE_UNSUPPORTED;
	rd_skip(r, 6);                   /* timestamp, security group tag */
	uint16_t w4 = rd_be16(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	uint8_t frame_type = (uint8_t)((w4 >> 10) & 0x1f);
	if (w4 & 1)
		rd_skip(r, 8);               /* the platform-specific subheader */
	if (r->bad)
		return DECODE_TRUNCATED;
	if (!encap_enter(out, ENCAP_ERSPAN3))
		return DECODE_UNSUPPORTED;
	encap_id(out, session);
	if (frame_type == 0)
		return decode_ether(r, out);
	if (frame_type == 2)
		return decode_ip_any(r, out);
	return DECODE_UNSUPPORTED;
}

/* GRE (RFC 2784 with RFC 2890's key and sequence number; version 1 is
 * PPTP's enhanced GRE, RFC 2637, carrying PPP). */
static enum decode_result decode_gre(struct rd *r, struct decode_tcp *out)
{
	uint16_t flags = rd_be16(r), proto = rd_be16(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	uint8_t ver = flags & 7;
	bool has_key = flags & 0x2000, has_seq = flags & 0x1000;
	uint32_t key = 0;
	if (ver == 0) {
		if (flags & 0x4000)
			return DECODE_UNSUPPORTED;   /* RFC 1701 source routing */
		if (flags & 0x8000)
			rd_skip(r, 4);           /* checksum, reserved */
		if (has_key)
			key = rd_be32(r);
		if (has_seq)
			rd_skip(r, 4);
	} else if (ver == 1) {
		if (!has_key || proto != ETH_PPP)
			return DECODE_MALFORMED;
		key = rd_be32(r) & 0xffff;   /* payload length, call id */
		if (has_seq)
			rd_skip(r, 4);
		if (flags & 0x0080)
			rd_skip(r, 4);           /* acknowledgment number */
	} else {
		return DECODE_UNSUPPORTED;
	}
	if (r->bad)
		return DECODE_TRUNCATED;
	if (proto == ETH_ERSPAN_1_2 || proto == ETH_ERSPAN_3)
		return decode_erspan(r, proto, has_seq, out);
	if (!encap_enter(out, ENCAP_GRE))
		return DECODE_UNSUPPORTED;
	if (has_key)
		encap_id(out, key);
	if (ver == 1) {
		if (rd_left(r) == 0)
			return DECODE_NOT_TCP;   /* an acknowledgment alone */
		return decode_ppp(r, out);
	}
	if (proto == ETH_TEB)
		return decode_ether(r, out);
	return decode_ethertype(r, proto, out);
}

/* GTP-U (3GPP TS 29.281): a G-PDU's T-PDU is an IP packet; the optional
 * sequence number, N-PDU number and extension headers are skipped. */
static enum decode_result decode_gtpu(struct rd *r, struct decode_tcp *out)
{
	uint8_t flags = rd_u8(r), type = rd_u8(r);
	uint16_t len = rd_be16(r);
	uint32_t teid = rd_be32(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	if (flags >> 5 != 1 || !(flags & 0x10))
		return DECODE_NOT_TCP;       /* GTP' or GTPv2-C on the port */
	if (type != 0xff)
		return DECODE_NOT_TCP;       /* echo, error indication, end marker */
	if (len < rd_left(r))            /* the length covers what follows the first 8 bytes */
		r->end = r->p + len;
	if (flags & 0x07) {
		rd_skip(r, 3);               /* sequence number, N-PDU number */
		uint8_t next = rd_u8(r);
		while (next != 0 && !r->bad) {
			uint8_t units = rd_u8(r);  /* length in 4-byte units, this byte included */
			if (r->bad)
				break;
			if (units == 0)
				return DECODE_MALFORMED;
			rd_skip(r, (size_t)units * 4 - 2);
			next = rd_u8(r);
		}
		if (r->bad)
			return DECODE_TRUNCATED;
	}
	if (!encap_enter(out, ENCAP_GTPU))
		return DECODE_UNSUPPORTED;
	encap_id(out, teid);
	if (rd_left(r) == 0)
		return DECODE_NOT_TCP;
	return decode_ip_any(r, out);
}

/* UDP: only tunnels are read in it, by their well-known ports. */
static enum decode_result decode_udp(struct rd *r, uint32_t wire_len, struct decode_tcp *out)
{
	uint16_t sport = rd_be16(r), dport = rd_be16(r), len = rd_be16(r);
	rd_skip(r, 2);
	if (r->bad)
		return wire_len < 8 ? DECODE_MALFORMED : DECODE_TRUNCATED;
	/* Length 0: a jumbogram or an offloaded send; the IP length rules. */
	if (len != 0) {
		if (len < 8 || len > wire_len)
			return DECODE_MALFORMED;
		if (len - 8u < rd_left(r))
			r->end = r->p + (len - 8u);
	}
	if (dport == UDP_VXLAN || dport == UDP_VXLAN_LINUX)
		return decode_vxlan(r, out);
	if (dport == UDP_GENEVE)
		return decode_geneve(r, out);
	if (dport == UDP_GTPU || sport == UDP_GTPU)
		return decode_gtpu(r, out);
	return DECODE_NOT_TCP;
}

/* The payload of an IP packet, of protocol `proto`: `r` holds the bytes
 * captured, `wire_len` says how many were on the wire. */
static enum decode_result decode_proto(uint8_t proto, struct rd *r, uint32_t wire_len,
				       struct decode_tcp *out)
{
	switch (proto) {
	case IPPROTO_TCP_:
		return decode_tcp(r, wire_len, out);
	case IPPROTO_UDP_:
		return decode_udp(r, wire_len, out);
	case IPPROTO_GRE_:
		return decode_gre(r, out);
	case IPPROTO_IPIP_:
		if (!encap_enter(out, ENCAP_IPIP))
			return DECODE_UNSUPPORTED;
		return decode_ipv4(r, out);
	case IPPROTO_IPV6_:
		if (!encap_enter(out, ENCAP_IPIP))
			return DECODE_UNSUPPORTED;
		return decode_ipv6(r, out);
	default:
		return DECODE_NOT_TCP;
	}
}

enum decode_result decode_ip_payload(uint8_t proto, const uint8_t *payload, uint32_t caplen,
				     uint32_t wire_len, struct decode_tcp *out)
{
	struct rd r = rd_make(payload, caplen < wire_len ? caplen : wire_len);
	return decode_proto(proto, &r, wire_len, out);
}

static void frag_fill(struct decode_tcp *out, uint32_t id, uint8_t proto, uint32_t offset,
		      bool more, uint32_t header_len, const struct rd *r, uint32_t wire_len)
{
	struct decode_frag *f = &out->frag;
	f->id = id;
	f->proto = proto;
	f->offset = offset;
	f->more = more;
	f->header_len = header_len;
	f->data = r->p;
	f->wire_len = wire_len;
	f->len = rd_left(r) < wire_len ? (uint32_t)rd_left(r) : wire_len;
}

static enum decode_result decode_ipv4(struct rd *r, struct decode_tcp *out)
{
	size_t avail = rd_left(r);
	if (avail < 20)
		return DECODE_TRUNCATED;
	const uint8_t *h = r->p;             /* 20 bytes checked above */
	if (h[0] >> 4 != 4)
		return DECODE_MALFORMED;
	uint32_t ihl = (uint32_t)(h[0] & 0x0f) * 4;
	uint32_t total = load_be16(h + 2);
	uint16_t frag = load_be16(h + 6);
	uint8_t proto = h[9];
	if (ihl < 20)
		return DECODE_MALFORMED;
	/* A total length of 0 is what TCP segmentation offload leaves in
	 * captures taken on the sender: the packet is whatever was captured
	 * (tcpdump does the same). */
	if (total == 0)
		total = avail > UINT16_MAX ? UINT16_MAX : (uint32_t)avail;
	if (total < ihl)
		return DECODE_MALFORMED;
	if (avail < ihl)
		return DECODE_TRUNCATED;

	out->ip_version = 4;
	memset(out->src, 0, sizeof out->src);
	memset(out->dst, 0, sizeof out->dst);
	memcpy(out->src, h + 12, 4);
	memcpy(out->dst, h + 16, 4);
	/* Whatever follows the IP packet in the frame (Ethernet padding) is
	 * not payload: limit the reader to the IP total length. */
	size_t inner = (avail < total ? avail : total) - ihl;
	struct rd t = rd_make(h + ihl, inner);
	if ((frag & 0x3fff) != 0) {          /* MF set or a fragment offset */
		frag_fill(out, load_be16(h + 4), proto, (uint32_t)(frag & 0x1fff) * 8,
			  frag & 0x2000, ihl, &t, total - ihl);
		return DECODE_FRAGMENT;
	}
	return decode_proto(proto, &t, total - ihl, out);
}

static enum decode_result decode_ipv6(struct rd *r, struct decode_tcp *out)
{
	size_t avail = rd_left(r);
	if (avail < 40)
		return DECODE_TRUNCATED;
	const uint8_t *h = r->p;
	if (h[0] >> 4 != 6)
		return DECODE_MALFORMED;
	uint32_t plen = (uint32_t)h[4] << 8 | h[5];
	uint8_t next = h[6];
	if (plen == 0)          /* jumbogram or offloaded: trust the capture */
		plen = avail - 40 > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)(avail - 40);
	size_t inner = avail - 40 < plen ? avail - 40 : plen;
	struct rd x = rd_make(h + 40, inner);
	out->ip_version = 6;
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);

	/* Each extension header is at least 8 bytes long, so this loop ends. */
	for (;;) {
		uint32_t hl;
		switch (next) {
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
		case IP6_AH:
		case IP6_FRAGMENT:
			break;
		default:
			return decode_proto(next, &x, plen, out);   /* IP6_NONE, ICMPv6: not TCP */
		}
		if (rd_left(&x) < 8)
			return plen < 8 ? DECODE_MALFORMED : DECODE_TRUNCATED;
		const uint8_t *e = x.p;
		if (next == IP6_FRAGMENT) {
			uint16_t fo = (uint16_t)(e[2] << 8 | e[3]);
			hl = 8;
			if ((fo & 0xfff9) != 0) {    /* offset != 0 or M set */
				rd_skip(&x, hl);
				/* The headers before it: all but the fixed 40 bytes. */
				frag_fill(out, load_be32(e + 4), e[0], fo & 0xfff8, fo & 1,
					  (uint32_t)(x.p - h) - 48, &x, plen - hl);
				return DECODE_FRAGMENT;
			}
		} else if (next == IP6_AH) {
			hl = ((uint32_t)e[1] + 2) * 4;
		} else {
			hl = ((uint32_t)e[1] + 1) * 8;
		}
		if (hl > plen)
			return DECODE_MALFORMED;
		if (rd_left(&x) < hl)
			return DECODE_TRUNCATED;
		next = e[0];
		rd_skip(&x, hl);
		plen -= hl;
	}
}

/* Dispatch on an IP version nibble (raw IP, MPLS, loopback, tunnels). */
static enum decode_result decode_ip_any(struct rd *r, struct decode_tcp *out)
{
	if (rd_left(r) < 1)
		return DECODE_TRUNCATED;
	switch (r->p[0] >> 4) {
	case 4: return decode_ipv4(r, out);
	case 6: return decode_ipv6(r, out);
	default: return DECODE_NOT_TCP;
	}
}

/* From an Ethernet type onwards: VLAN tags, MPLS labels, PPPoE, then IP.
 * Every step consumes bytes, so a frame of nested tags ends. */
static enum decode_result decode_ethertype(struct rd *r, uint16_t type, struct decode_tcp *out)
{
	for (;;) {
		switch (type) {
		case ETH_IPV4:
			if (rd_left(r) >= 1 && r->p[0] >> 4 != 4)
				return DECODE_MALFORMED;
			return decode_ipv4(r, out);
		case ETH_IPV6:
			if (rd_left(r) >= 1 && r->p[0] >> 4 != 6)
				return DECODE_MALFORMED;
			return decode_ipv6(r, out);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
			rd_skip(r, 2);               /* PCP, DEI, VLAN id */
			type = rd_be16(r);
			if (r->bad)
				return DECODE_TRUNCATED;
			break;
		case ETH_MPLS:
		case ETH_MPLS_MC: {
			uint32_t label;
			do {
				label = rd_be32(r);
				if (r->bad)
					return DECODE_TRUNCATED;
			} while (!(label & 0x100)); /* bottom of stack */
			return decode_ip_any(r, out);
		}
		case ETH_PPPOE:
			rd_skip(r, 6);               /* ver/type, code, session, length */
			if (r->bad)
				return DECODE_TRUNCATED;
			return decode_ppp_proto(r, out);
		default:
			return DECODE_NOT_TCP;
		}
	}
}

/* BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 is
 * 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS), 10 (Linux). */
static enum decode_result decode_af(struct rd *r, uint32_t af, struct decode_tcp *out)
{
	switch (af) {
	case 2:
		return decode_ipv4(r, out);
	case 10:
	case 24:
	case 28:
	case 30:
		return decode_ipv6(r, out);
	default:
		return DECODE_NOT_TCP;
	}
}

/* A 32-bit address family in the capturing host's byte order: whichever
 * reading is small is the right one. */
static uint32_t host_order_af(struct rd *r)
{
	uint32_t le = rd_le32(r);
	return le <= 0xffff ? le : (le >> 24 | (le >> 8 & 0xff00) | (le << 8 & 0xff0000) | le << 24);
}

static enum decode_result decode_nflog(struct rd *r, struct decode_tcp *out)
{
	rd_skip(r, 4);               /* family, version, resource id */
	if (r->bad)
		return DECODE_TRUNCATED;
	/* TLV lengths and types are in the capturing host's byte order; the
	 * machines that write NFLOG captures are little-endian in practice. */
	while (rd_left(r) > 0) {
		uint16_t len = rd_le16(r);
		uint16_t type = rd_le16(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		if (len < 4)
			return DECODE_MALFORMED;
		size_t body = len - 4u;
		if (type == NFULA_PAYLOAD) {
			struct rd p = rd_make(r->p, body < rd_left(r) ? body : rd_left(r));
			return decode_ip_any(&p, out);
		}
		size_t padded = (body + 3) & ~(size_t)3;
		if (padded > rd_left(r))
			return DECODE_TRUNCATED;
		rd_skip(r, padded);
	}
	return DECODE_NOT_TCP;       /* no payload TLV */
}

/* ---- IEEE 802.11 --------------------------------------------------------- */

/* An 802.11 frame (IEEE 802.11-2020 section 9.2): only data frames carry
 * IP; a protected one cannot be read without the keys. */
static enum decode_result decode_80211(struct rd *r, struct decode_tcp *out)
{
	uint8_t fc0 = rd_u8(r), fc1 = rd_u8(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	uint8_t type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
	if (type != 2 || (subtype & 0x4))
		return DECODE_NOT_TCP;       /* management, control, null data */
	size_t hl = 22;                  /* duration, three addresses, sequence control */
	if ((fc1 & 3) == 3)
		hl += 6;                     /* a fourth address (WDS, mesh) */
	bool qos = subtype & 0x8;
	rd_skip(r, hl);
	bool amsdu = false;
	if (qos) {
		uint8_t qc = rd_u8(r);
		rd_skip(r, 1);
		amsdu = qc & 0x80;
		if (fc1 & 0x80)
			rd_skip(r, 4);           /* HT control */
	}
	if (r->bad)
		return DECODE_TRUNCATED;
	if (fc1 & 0x40)
		return DECODE_ENCRYPTED;
	if (amsdu)
		rd_skip(r, 14);              /* the first A-MSDU subframe's header */
	if (r->bad)
		return DECODE_TRUNCATED;
	return decode_llc_snap(r, out);
}

/* A radiotap header (radiotap.org): skipped by its length, after a look
 * at its Flags field, which says when the frame failed its FCS check. */
static enum decode_result decode_radiotap(struct rd *r, struct decode_tcp *out)
{
	struct rd h = *r;
	uint8_t version = rd_u8(&h);
	rd_skip(&h, 1);
	uint16_t len = rd_le16(&h);
	uint32_t present = rd_le32(&h);
	if (h.bad || len > rd_left(r))
		return DECODE_TRUNCATED;
	if (version != 0 || len < 8)
		return DECODE_MALFORMED;
	uint32_t first = present;
	while (present & 0x80000000u) {  /* more presence words */
		present = rd_le32(&h);
		if (h.bad || h.p > r->p + len)
			return DECODE_MALFORMED;
	}
	if (first & 0x2) {               /* Flags, after TSFT (8 bytes, 8-aligned) */
		size_t off = (size_t)(h.p - r->p);
		if (first & 0x1)
			off = ((off + 7) & ~(size_t)7) + 8;
		if (off < len && (r->p[off] & 0x40))
			return DECODE_MALFORMED; /* bad FCS */
	}
	rd_skip(r, len);
	return decode_80211(r, out);
}

/* Frame Relay (RFC 2427): a Q.922 address, then NLPID-multiplexed
 * payload, or Cisco's encapsulation with an EtherType. */
static enum decode_result decode_frelay(struct rd *r, struct decode_tcp *out)
{
	for (int i = 0; i < 4; i++) {    /* the address ends with its EA bit */
		uint8_t a = rd_u8(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		if (i > 0 && (a & 1))
			break;
		if (i == 3)
			return DECODE_MALFORMED;
	}
	if (rd_left(r) >= 1 && r->p[0] != 0x03) {  /* Cisco: an EtherType */
		uint16_t type = rd_be16(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(r, type, out);
	}
	rd_skip(r, 1);                   /* UI control */
	uint8_t nlpid = rd_u8(r);
	if (nlpid == 0x00)               /* padding before SNAP */
		nlpid = rd_u8(r);
	if (r->bad)
		return DECODE_TRUNCATED;
	switch (nlpid) {
	case 0xcc: return decode_ipv4(r, out);
	case 0x8e: return decode_ipv6(r, out);
	case 0x80: {                     /* SNAP: OUI, then an EtherType for OUI 0 */
		rd_skip(r, 3);
		uint16_t type = rd_be16(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(r, type, out);
	}
	default: return DECODE_NOT_TCP;
	}
}

/* Is this an IPoIB encapsulation header (RFC 4391 section 6: an
 * EtherType IPoIB carries, then 16 reserved bits)? */
static bool ipoib_header_at(const struct rd *r, size_t off)
{
	if (rd_left(r) < off + 4)
		return false;
	const uint8_t *h = r->p + off;
	uint16_t type = load_be16(h);
	return (type == ETH_IPV4 || type == ETH_IPV6 || type == 0x0806) && h[2] == 0 && h[3] == 0;
}

/* IP over InfiniBand: the 4-byte header alone (RFC 4391, the link type's
 * definition), after Linux's 20-byte pseudo header (the destination
 * hardware address a packet socket shows), or after a 40-byte Global
 * Route Header (as Wireshark reads the link type). */
static enum decode_result decode_ipoib(struct rd *r, struct decode_tcp *out)
{
	static const size_t offsets[] = { 0, 20, 40 };
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		if (ipoib_header_at(r, offsets[i])) {
			rd_skip(r, offsets[i]);
			uint16_t type = rd_be16(r);
			rd_skip(r, 2);
			return decode_ethertype(r, type, out);
		}
	}
	return rd_left(r) < 4 ? DECODE_TRUNCATED : DECODE_NOT_TCP;
}

/* Link types a header wraps (PPI, PKTAP) may only be these. */
static enum decode_result decode_link(int linktype, struct rd *r, struct decode_tcp *out,
				      bool inner);

static enum decode_result decode_ppi(struct rd *r, struct decode_tcp *out)
{
	struct rd h = *r;
	rd_skip(&h, 2);                  /* version, flags */
	uint16_t len = rd_le16(&h);
	uint32_t dlt = rd_le32(&h);
	if (h.bad || len > rd_left(r))
		return DECODE_TRUNCATED;
	if (len < 8)
		return DECODE_MALFORMED;
	rd_skip(r, len);
	return decode_link((int)dlt, r, out, true);
}

/* macOS PKTAP: a header of its own length saying the link type inside. */
static enum decode_result decode_pktap(struct rd *r, struct decode_tcp *out)
{
	struct rd h = *r;
	uint32_t len = rd_le32(&h), next = rd_le32(&h), dlt = rd_le32(&h);
	if (h.bad || len > rd_left(r))
		return DECODE_TRUNCATED;
	if (len < 12)
		return DECODE_MALFORMED;
	if (next != 1)                   /* PTH_TYPE_PACKET */
		return DECODE_NOT_TCP;
	rd_skip(r, len);
	return decode_link((int)dlt, r, out, true);
}

/* Prism (DLT 119) and AVS (DLT 163) monitor headers, then 802.11. */
static enum decode_result decode_prism_avs(struct rd *r, struct decode_tcp *out)
{
	struct rd h = *r;
	uint32_t magic = rd_be32(&h);
	uint32_t len;
	if ((magic & 0xfffffff0u) == 0x80211000u)
		len = rd_be32(&h);       /* AVS: version, then length, big-endian */
	else
		len = rd_le32(&h);       /* Prism: message code, then length (host order) */
	if (h.bad || len > rd_left(r))
		return DECODE_TRUNCATED;
	if (len < 8)
		return DECODE_MALFORMED;
	rd_skip(r, len);
	return decode_80211(r, out);
}

bool decode_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_NULL:
	case DLT_EN10MB:
	case DLT_RAW:
	case LINKTYPE_RAW_:
	case DLT_LOOP:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NFLOG:
	case DLT_IEEE802_11:
	case DLT_IEEE802_11_RADIO:
	case DLT_IEEE802_11_RADIO_AVS:
	case DLT_PRISM_HEADER:
	case DLT_PPI:
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_PPP_PPPD:
	case DLT_PPP_WITH_DIR:
	case DLT_PPP_ETHER:
	case DLT_C_HDLC:
	case DLT_FRELAY:
	case DLT_ATM_RFC1483:
	case DLT_MPLS:
	case DLT_PKTAP:
	case DLT_IPNET:
	case DLT_IPOIB:
	case DLT_ENC:
	case DLT_PFLOG:
	case DLT_NETANALYZER:
	case DLT_NETANALYZER_TRANSPARENT:
		return true;
	default:
		return false;
	}
}

/* One link layer.  `inner`: named by a PPI or PKTAP header, which may not
 * name another wrapper. */
static enum decode_result decode_link(int linktype, struct rd *r, struct decode_tcp *out,
				      bool inner)
{
	switch (linktype) {
	case DLT_EN10MB:
		return decode_ether(r, out);
	case DLT_LINUX_SLL: {
		rd_skip(r, 14);
		uint16_t type = rd_be16(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(r, type, out);
	}
	case DLT_LINUX_SLL2: {
		uint16_t type = rd_be16(r);
		rd_skip(r, 18);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(r, type, out);
	}
	case DLT_RAW:
	case LINKTYPE_RAW_:
		return decode_ip_any(r, out);
	case DLT_IPV4:
		return decode_ipv4(r, out);
	case DLT_IPV6:
		return decode_ipv6(r, out);
	case DLT_NULL: {
		/* Host byte order of the capturing machine: accept either. */
		uint32_t af = host_order_af(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_af(r, af, out);
	}
	case DLT_LOOP: {
		uint32_t af = rd_be32(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_af(r, af, out);
	}
	case DLT_ENC: {                  /* OpenBSD enc: family, SPI, flags */
		uint32_t af = host_order_af(r);
		rd_skip(r, 8);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_af(r, af, out);
	}
	case DLT_PFLOG: {                /* OpenBSD pflog: its length, family, ... */
		uint8_t len = rd_u8(r), af = rd_u8(r);
		if (r->bad)
			return DECODE_TRUNCATED;
		size_t skip = ((size_t)len + 3) & ~(size_t)3;   /* BPF_WORDALIGN */
		if (skip < 2)
			return DECODE_MALFORMED;
		rd_skip(r, skip - 2);
		if (r->bad)
			return DECODE_TRUNCATED;
		return decode_af(r, af, out);
	}
	case DLT_NFLOG:
		return decode_nflog(r, out);
	case DLT_IEEE802_11:
		return decode_80211(r, out);
	case DLT_IEEE802_11_RADIO:
		return decode_radiotap(r, out);
	case DLT_PRISM_HEADER:
	case DLT_IEEE802_11_RADIO_AVS:
		return decode_prism_avs(r, out);
	case DLT_PPP:
		return decode_ppp(r, out);
	case DLT_PPP_SERIAL:
		/* RFC 1662 framing, or Cisco HDLC under the same link type. */
		if (rd_left(r) >= 1 && (r->p[0] == 0x0f || r->p[0] == 0x8f))
			return decode_chdlc(r, out);
		return decode_ppp(r, out);
	case DLT_PPP_PPPD:               /* the address byte says the direction */
		rd_skip(r, 2);
		return decode_ppp_proto(r, out);
	case DLT_PPP_WITH_DIR:
		rd_skip(r, 1);
		return decode_ppp(r, out);
	case DLT_PPP_ETHER:              /* a PPPoE session header */
		rd_skip(r, 6);
		return decode_ppp_proto(r, out);
	case DLT_C_HDLC:
		return decode_chdlc(r, out);
	case DLT_FRELAY:
		return decode_frelay(r, out);
	case DLT_ATM_RFC1483:
		return decode_llc_snap(r, out);
	case DLT_MPLS:
		return decode_ethertype(r, ETH_MPLS, out);
	case DLT_IPNET: {                /* Solaris: version, family, ..., 24 bytes */
		rd_skip(r, 1);
		uint8_t family = rd_u8(r);
		rd_skip(r, 22);
		if (r->bad)
			return DECODE_TRUNCATED;
		if (family == 2)
			return decode_ipv4(r, out);
		if (family == 26)
			return decode_ipv6(r, out);
		return DECODE_NOT_TCP;
	}
	case DLT_IPOIB:
		return decode_ipoib(r, out);
	case DLT_NETANALYZER:            /* a 4-byte status header */
		rd_skip(r, 4);
		return decode_ether(r, out);
	case DLT_NETANALYZER_TRANSPARENT:    /* status, preamble and SFD */
		rd_skip(r, 12);
		return decode_ether(r, out);
	case DLT_PPI:
		return inner ? DECODE_MALFORMED : decode_ppi(r, out);
	case DLT_PKTAP:
		return inner ? DECODE_MALFORMED : decode_pktap(r, out);
	default:
		return inner ? DECODE_UNSUPPORTED : DECODE_UNSUPPORTED_LINK;
	}
}

enum decode_result decode_packet(int linktype, const uint8_t *frame,
				 uint32_t caplen, struct decode_tcp *out)
{
	struct rd r = rd_make(frame, caplen);
	out->has_mss = out->has_wscale = out->sack_permitted = out->has_timestamps = false;
	out->mss = 0;
	out->wscale = 0;
	out->encap.depth = 0;
	out->encap.has_id = false;
	/* The common case first: IPv4 or IPv6 right in an Ethernet frame. */
	if (linktype == DLT_EN10MB && caplen >= 15) {
		uint16_t type = load_be16(frame + 12);
		rd_skip(&r, 14);
		if (type == ETH_IPV4 && frame[14] >> 4 == 4)
			return decode_ipv4(&r, out);
		if (type == ETH_IPV6 && frame[14] >> 4 == 6)
			return decode_ipv6(&r, out);
		r = rd_make(frame, caplen);
	}
	return decode_link(linktype, &r, out, false);
}

const char *encap_kind_name(enum encap_kind k)
{
	switch (k) {
	case ENCAP_VXLAN: return "vxlan";
	case ENCAP_GENEVE: return "geneve";
	case ENCAP_GRE: return "gre";
	case ENCAP_ERSPAN1: return "erspan-i";
	case ENCAP_ERSPAN2: return "erspan-ii";
	case ENCAP_ERSPAN3: return "erspan-iii";
	case ENCAP_GTPU: return "gtp-u";
	case ENCAP_IPIP: return "ipip";
	case ENCAP_NONE:
	case ENCAP_KIND_COUNT: break;
	}
	return "?";
}

const char *decode_result_name(enum decode_result res)
{
	switch (res) {
	case DECODE_TCP: return "tcp";
	case DECODE_NOT_TCP: return "not-tcp";
	case DECODE_FRAGMENT: return "fragment";
	case DECODE_ENCRYPTED: return "encrypted";
	case DECODE_UNSUPPORTED: return "unsupported";
	case DECODE_TRUNCATED: return "truncated";
	case DECODE_MALFORMED: return "malformed";
	case DECODE_UNSUPPORTED_LINK: return "unsupported-link";
	}
	return "?";
}
