/*
 * decode.h - link layer, tunnels, IPv4/IPv6 and TCP header decoding.
 *
 * decode_packet() takes one captured frame and fills a struct decode_tcp
 * that points into the frame: nothing is copied and nothing is allocated.
 * Every byte read is bounds-checked against the captured length (caplen);
 * bytes that were on the wire but not captured (snaplen) are reported as
 * payload_len > payload_caplen, so reassembly can turn them into a gap.
 *
 * Link types: Ethernet (802.1Q, 802.1ad/QinQ tags, MPLS label stacks,
 * PPPoE), Linux cooked SLL and SLL2, raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6),
 * BSD loopback (DLT_NULL in either byte order, DLT_LOOP), OpenBSD enc and
 * pflog, Linux NFLOG, IEEE 802.11 data frames (plain, radiotap, PPI, Prism
 * and AVS headers; LLC/SNAP), PPP (plain, in HDLC framing, pppd's), Cisco
 * HDLC, Frame Relay (RFC 2427), PPPoE sessions, MPLS, ATM RFC 1483 LLC,
 * macOS PKTAP, Solaris IPNET, IP over InfiniBand, Hilscher netANALYZER.
 *
 * Tunnels are peeled down to the innermost IP packet, at most
 * DECODE_MAX_ENCAP deep: VXLAN (UDP 4789 and Linux's 8472), GENEVE (UDP
 * 6081), GRE (RFC 2784/2890 with key and sequence, and PPTP's enhanced
 * GRE) carrying IPv4, IPv6, MPLS, PPP or Ethernet (0x6558), ERSPAN types
 * I, II and III, GTP-U (UDP 2152, G-PDUs with extension headers), and
 * IP-in-IP (4in4, 6in4, 4in6, 6in6).  Everything Ethernet carries works
 * inside them too.  decode_tcp.encap says what was peeled.
 *
 * IP fragments (IPv4 MF or offset; an IPv6 Fragment header that is not
 * atomic) are returned as DECODE_FRAGMENT with the piece described in
 * decode_tcp.frag, so the caller can reassemble them (ipfrag.h) and go on
 * with decode_ip_payload().  IPv6 extension headers (hop-by-hop, routing,
 * destination options, AH) are skipped.  Checksums are not verified
 * (captures taken on the sending host carry offloaded, invalid checksums;
 * tshark does not verify by default).
 */
#ifndef KALENS_DECODE_H
#define KALENS_DECODE_H

#include <stdbool.h>
#include <stdint.h>

enum decode_result {
	DECODE_TCP = 0,          /* a TCP segment: *out is filled */
	DECODE_NOT_TCP,          /* a well-formed frame that is not TCP over IP */
	DECODE_FRAGMENT,         /* an IP fragment: *out's addresses, encap and frag are filled */
	DECODE_ENCRYPTED,        /* a protected (encrypted) 802.11 data frame */
	DECODE_UNSUPPORTED,      /* an encapsulation kalens does not read (GRE source
				  * routing, an unknown ERSPAN version, tunnels nested
				  * deeper than DECODE_MAX_ENCAP) */
	DECODE_TRUNCATED,        /* the headers were cut by the snaplen */
	DECODE_MALFORMED,        /* the headers contradict themselves */
	DECODE_UNSUPPORTED_LINK, /* the link type is not one we decode */
};

/* TCP flag bits, as in the header's 13th byte. */
#define KL_TCP_FIN 0x01
#define KL_TCP_SYN 0x02
#define KL_TCP_RST 0x04
#define KL_TCP_PSH 0x08
#define KL_TCP_ACK 0x10
#define KL_TCP_URG 0x20

/* Tunnels, by what carried the inner packet. */
enum encap_kind {
	ENCAP_NONE = 0,
	ENCAP_VXLAN,
	ENCAP_GENEVE,
	ENCAP_GRE,
	ENCAP_ERSPAN1,
	ENCAP_ERSPAN2,
	ENCAP_ERSPAN3,
	ENCAP_GTPU,
	ENCAP_IPIP,             /* IPv4 or IPv6 directly in IPv4 or IPv6 */
	ENCAP_KIND_COUNT
};

#define DECODE_MAX_ENCAP 4

/* The tunnels a packet came through, outermost first; the identity of the
 * innermost one is what flows are keyed by (flow.h). */
struct decode_encap {
	uint8_t depth;                /* tunnels peeled; 0: none (nothing else is set) */
	uint8_t kinds[DECODE_MAX_ENCAP];   /* enum encap_kind */
	/* The innermost tunnel: */
	bool has_id;
	uint32_t id;                  /* VNI, GRE key, ERSPAN session, GTP-U TEID */
	uint8_t outer_version;        /* 4 or 6: the IP header that carried it */
	uint8_t outer_src[16], outer_dst[16];   /* IPv4 in the first 4 bytes */
};

/* An IP fragment (DECODE_FRAGMENT), for reassembly. */
struct decode_frag {
	uint32_t id;                  /* IPv4 identification, IPv6 fragment id */
	uint8_t proto;                /* the protocol of the reassembled payload */
	bool more;                    /* more fragments follow */
	uint32_t offset;              /* bytes */
	uint32_t header_len;          /* IPv4: the header length (IHL); IPv6: the extension
				       * headers before the Fragment header (ipfrag.h) */
	const uint8_t *data;          /* this piece, borrowed from the frame */
	uint32_t len;                 /* bytes captured */
	uint32_t wire_len;            /* bytes on the wire */
};

struct decode_tcp {
	uint8_t ip_version;           /* 4 or 6 */
	uint8_t flags;                /* KL_TCP_* */
	uint8_t src[16];              /* IPv4: first 4 bytes, rest zero */
	uint8_t dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t window;              /* raw, unscaled */

	/* TCP options, when present (normally on SYN and SYN-ACK). */
	bool has_mss, has_wscale, sack_permitted, has_timestamps;
	uint16_t mss;
	uint8_t wscale;

	/* Payload: borrowed from the frame, valid until the frame is released. */
	const uint8_t *payload;
	uint32_t payload_caplen;      /* bytes present in the capture */
	uint32_t payload_len;         /* bytes on the wire (from the IP length) */

	struct decode_encap encap;    /* always set */
	struct decode_frag frag;      /* DECODE_FRAGMENT only */
};

/*
 * Decode one frame of link type `linktype` (a DLT_* value as returned by
 * pcap_datalink()).  `caplen` is the number of captured bytes at `frame`.
 * Returns DECODE_TCP and fills *out, or another result and leaves *out
 * unspecified.  Never reads outside frame[0, caplen).
 */
enum decode_result decode_packet(int linktype, const uint8_t *frame,
				 uint32_t caplen, struct decode_tcp *out);

/*
 * Go on after a fragmented datagram was reassembled: `payload` is what
 * follows its IP header (IPv6: its Fragment header), of protocol `proto`,
 * caplen bytes of the wire_len it had; `out` still holds what the
 * decode of its fragment filled (addresses, tunnels), which is kept.
 * Returns like decode_packet() (a reassembled datagram may itself carry a
 * tunnel, whose inner packet may be a fragment again).
 */
enum decode_result decode_ip_payload(uint8_t proto, const uint8_t *payload, uint32_t caplen,
				     uint32_t wire_len, struct decode_tcp *out);

/* "vxlan", "gre", "erspan-ii", ... */
const char *encap_kind_name(enum encap_kind k);

/* True when decode_packet() understands this link type. */
bool decode_linktype_supported(int linktype);

/* A short name for a result, for messages and counters ("truncated", ...). */
const char *decode_result_name(enum decode_result r);

#endif
