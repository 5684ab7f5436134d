/*
 * decode.h - link layer, IPv4/IPv6 and TCP header decoding.
 *
 * decode_packet() takes one captured frame and fills a struct decode_tcp
 * that points into the frame: nothing is copied and nothing is allocated.
 * Every byte read is bounds-checked against the captured length (caplen);
 * bytes that were on the wire but not captured (snaplen) are reported as
 * payload_len > payload_caplen, so reassembly can turn them into a gap.
 *
 * Link types: Ethernet (802.1Q, 802.1ad/QinQ tags, MPLS label stacks),
 * Linux cooked SLL and SLL2, raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6), BSD
 * loopback (DLT_NULL in either byte order, DLT_LOOP) and Linux NFLOG.
 *
 * IPv4 fragments are not reassembled: any fragment (MF set or offset > 0)
 * is reported as DECODE_FRAGMENT and counted by the caller.  HTTP over TCP
 * is practically never IP-fragmented (TCP sizes segments to the path MTU);
 * a fragment buffer would be memory spent on attack traffic.
 * IPv6 extension headers (hop-by-hop, routing, destination options,
 * fragment with offset 0 and no more fragments, AH) are skipped.
 * Checksums are not verified (captures taken on the sending host carry
 * offloaded, invalid checksums; tshark does not verify by default).
 */
#ifndef KALENS_DECODE_H
#define KALENS_DECODE_H

#include <stdbool.h>
#include <stdint.h>

enum decode_result {
	DECODE_TCP = 0,          /* a TCP segment: *out is filled */
	DECODE_NOT_TCP,          /* a well-formed frame that is not TCP over IP */
	DECODE_FRAGMENT,         /* an IP fragment (not reassembled) */
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
};

/*
 * Decode one frame of link type `linktype` (a DLT_* value as returned by
 * pcap_datalink()).  `caplen` is the number of captured bytes at `frame`.
 * Returns DECODE_TCP and fills *out, or another result and leaves *out
 * unspecified.  Never reads outside frame[0, caplen).
 */
enum decode_result decode_packet(int linktype, const uint8_t *frame,
				 uint32_t caplen, struct decode_tcp *out);

/* True when decode_packet() understands this link type. */
bool decode_linktype_supported(int linktype);

/* A short name for a result, for messages and counters ("truncated", ...). */
const char *decode_result_name(enum decode_result r);

#endif
