/*
 * decode.c - link layer, IPv4/IPv6 and TCP header decoding.
 *
 * The decoders peel one header each and hand the rest on, outermost
 * first: link -> (VLAN, MPLS, PPPoE)* -> IP -> TCP.  Each works on a
 * struct rd limited to what it may read, so a lying length field can only
 * shrink what the next layer sees, never grow it past the capture.
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

#define IPPROTO_TCP_ 6
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_NONE 59
#define IP6_DSTOPTS 60

#define NFULA_PAYLOAD 9

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
	if ((frag & 0x3fff) != 0)            /* MF set or a fragment offset */
		return DECODE_FRAGMENT;
	if (proto != IPPROTO_TCP_)
		return DECODE_NOT_TCP;

	out->ip_version = 4;
	memset(out->src, 0, sizeof out->src);
	memset(out->dst, 0, sizeof out->dst);
	memcpy(out->src, h + 12, 4);
	memcpy(out->dst, h + 16, 4);
	/* Whatever follows the IP packet in the frame (Ethernet padding) is
	 * not payload: limit the reader to the IP total length. */
	size_t inner = (avail < total ? avail : total) - ihl;
	struct rd t = rd_make(h + ihl, inner);
	return decode_tcp(&t, total - ihl, out);
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

	/* Each extension header is at least 8 bytes long, so this loop ends. */
	for (;;) {
		uint32_t hl;
		if (next == IPPROTO_TCP_)
			break;
		switch (next) {
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
		case IP6_AH:
		case IP6_FRAGMENT:
			break;
		default:
			return DECODE_NOT_TCP;       /* includes IP6_NONE, ICMPv6, UDP */
		}
		if (rd_left(&x) < 8)
			return plen < 8 ? DECODE_MALFORMED : DECODE_TRUNCATED;
		const uint8_t *e = x.p;
		if (next == IP6_FRAGMENT) {
			uint16_t fo = (uint16_t)(e[2] << 8 | e[3]);
			if ((fo & 0xfff9) != 0)   /* offset != 0 or M set */
				return DECODE_FRAGMENT;
			hl = 8;
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
	out->ip_version = 6;
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);
	return decode_tcp(&x, plen, out);
}

/* Dispatch on an IP version nibble (raw IP, MPLS, loopback). */
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
		case ETH_PPPOE: {
			rd_skip(r, 6);               /* ver/type, code, session, length */
			uint16_t ppp = rd_be16(r);
			if (r->bad)
				return DECODE_TRUNCATED;
			if (ppp == 0x0021)
				type = ETH_IPV4;
			else if (ppp == 0x0057)
				type = ETH_IPV6;
			else
				return DECODE_NOT_TCP;
			break;
		}
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
		return true;
	default:
		return false;
	}
}

enum decode_result decode_packet(int linktype, const uint8_t *frame,
				 uint32_t caplen, struct decode_tcp *out)
{
	struct rd r = rd_make(frame, caplen);
	out->has_mss = out->has_wscale = out->sack_permitted = out->has_timestamps = false;
	out->mss = 0;
	out->wscale = 0;

	switch (linktype) {
	case DLT_EN10MB: {
		rd_skip(&r, 12);
		uint16_t type = rd_be16(&r);
		if (r.bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(&r, type, out);
	}
	case DLT_LINUX_SLL: {
		rd_skip(&r, 14);
		uint16_t type = rd_be16(&r);
		if (r.bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(&r, type, out);
	}
	case DLT_LINUX_SLL2: {
		uint16_t type = rd_be16(&r);
		rd_skip(&r, 18);
		if (r.bad)
			return DECODE_TRUNCATED;
		return decode_ethertype(&r, type, out);
	}
	case DLT_RAW:
	case LINKTYPE_RAW_:
		return decode_ip_any(&r, out);
	case DLT_IPV4:
		return decode_ipv4(&r, out);
	case DLT_IPV6:
		return decode_ipv6(&r, out);
	case DLT_NULL: {
		/* Host byte order of the capturing machine: accept either. */
		if (rd_left(&r) < 4)
			return DECODE_TRUNCATED;
		uint32_t le = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 |
			      (uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 24;
		uint32_t af = le <= 0xffff ? le : rd_be32(&r);
		if (le <= 0xffff)
			rd_skip(&r, 4);
		return decode_af(&r, af, out);
	}
	case DLT_LOOP: {
		uint32_t af = rd_be32(&r);
		if (r.bad)
			return DECODE_TRUNCATED;
		return decode_af(&r, af, out);
	}
	case DLT_NFLOG:
		return decode_nflog(&r, out);
	default:
		return DECODE_UNSUPPORTED_LINK;
	}
}

const char *decode_result_name(enum decode_result res)
{
	switch (res) {
	case DECODE_TCP: return "tcp";
	case DECODE_NOT_TCP: return "not-tcp";
	case DECODE_FRAGMENT: return "fragment";
	case DECODE_TRUNCATED: return "truncated";
	case DECODE_MALFORMED: return "malformed";
	case DECODE_UNSUPPORTED_LINK: return "unsupported-link";
	}
	return "?";
}
