/*
 * fuzz_decode.c - libFuzzer target for decode_packet() and
 * decode_ip_payload().
 *
 * The first input byte picks a link type (every supported one plus one
 * that is not, by index in fuzz_linktypes[], modulo its size), the rest
 * is the frame.  The frame is copied to a heap buffer of exactly its
 * size, so ASan catches any read past caplen.  The target aborts unless:
 *   - an unsupported link type gives DECODE_UNSUPPORTED_LINK, and only it;
 *     DECODE_ENCRYPTED comes only from link types that carry 802.11;
 *   - on DECODE_TCP the payload lies inside the frame, payload_caplen <=
 *     payload_len, the IP version is 4 or 6 (IPv4 addresses zero past 4
 *     bytes), and encap says at most DECODE_MAX_ENCAP tunnels of known
 *     kinds, each with an outer IP version of 4 or 6;
 *   - on DECODE_FRAGMENT the same of the addresses and encap, and the
 *     piece (frag.data, frag.len) lies inside the frame with frag.len <=
 *     frag.wire_len;
 *   - a second decode of the same bytes into a differently filled struct
 *     says the same (nothing read from *out before it is written).
 * A fragment is then handed to decode_ip_payload() as the data path does
 * with a reassembled datagram (its bytes in an exactly-sized buffer of
 * their own, as ipfrag delivers them), up to DECODE_MAX_ENCAP + 1 times
 * while the result is a fragment again, with the same checks.
 */
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Indexes are what seeds' first bytes name (tests/fuzz/make-seeds.sh
 * decode): append, do not reorder. */
static const int fuzz_linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */,   /* 0-4 */
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP, DLT_NFLOG,                          /* 5-9 */
	DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_IEEE802_11_RADIO_AVS,            /* 10-12 */
	DLT_PRISM_HEADER, DLT_PPI, DLT_PPP, DLT_PPP_SERIAL, DLT_PPP_PPPD,           /* 13-17 */
	DLT_PPP_WITH_DIR, DLT_PPP_ETHER, DLT_C_HDLC, DLT_FRELAY, DLT_ATM_RFC1483,   /* 18-22 */
	DLT_MPLS, DLT_PKTAP, DLT_IPNET, DLT_IPOIB, DLT_ENC,                         /* 23-27 */
	DLT_PFLOG, DLT_NETANALYZER, DLT_NETANALYZER_TRANSPARENT,                   /* 28-30 */
	DLT_USER0,                   /* 31: unsupported */
};

#define N_LINKTYPES (sizeof fuzz_linktypes / sizeof fuzz_linktypes[0])

/* Link types under which an 802.11 frame may be (PPI and PKTAP name one). */
static bool carries_80211(int linktype)
{
	switch (linktype) {
	case DLT_IEEE802_11:
	case DLT_IEEE802_11_RADIO:
	case DLT_IEEE802_11_RADIO_AVS:
	case DLT_PRISM_HEADER:
	case DLT_PPI:
	case DLT_PKTAP:
		return true;
	default:
		return false;
	}
}

static bool zero_past_4(const uint8_t a[16])
{
	for (size_t i = 4; i < 16; i++)
		if (a[i] != 0)
			return false;
	return true;
}

static void check_addrs_encap(const struct decode_tcp *d)
{
	if (d->ip_version != 4 && d->ip_version != 6)
		abort();
	if (d->ip_version == 4 && (!zero_past_4(d->src) || !zero_past_4(d->dst)))
		abort();
	const struct decode_encap *e = &d->encap;
	if (e->depth > DECODE_MAX_ENCAP)
		abort();
	if (e->depth == 0)
		return;
	for (unsigned i = 0; i < e->depth; i++)
		if (e->kinds[i] == ENCAP_NONE || e->kinds[i] >= ENCAP_KIND_COUNT)
			abort();
	if (e->outer_version != 4 && e->outer_version != 6)
		abort();
	if (e->outer_version == 4 && (!zero_past_4(e->outer_src) || !zero_past_4(e->outer_dst)))
		abort();
	if (e->has_id != true && e->has_id != false)
		abort();
}

/* The invariants of one result over buf[0, n). */
static void check(enum decode_result r, const struct decode_tcp *d, const uint8_t *buf, size_t n)
{
	uintptr_t b = (uintptr_t)buf;
	if (decode_result_name(r) == NULL)
		abort();
	if (r == DECODE_TCP) {
		check_addrs_encap(d);
		uintptr_t p = (uintptr_t)d->payload;
		if (d->payload_caplen > d->payload_len)
			abort();
		if (d->payload_caplen > 0 || d->payload != NULL) {
			/* payload in [buf, buf + n], payload_caplen bytes fit */
			if (p < b || p - b > n || n - (p - b) < d->payload_caplen)
				abort();
		}
		/* Touch every payload byte, so ASan checks the span. */
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < d->payload_caplen; i++)
			sum = (uint8_t)(sum + d->payload[i]);
		(void)sum;
	} else if (r == DECODE_FRAGMENT) {
		check_addrs_encap(d);
		const struct decode_frag *f = &d->frag;
		uintptr_t p = (uintptr_t)f->data;
		if (f->len > f->wire_len)
			abort();
		if (f->more != true && f->more != false)
			abort();
		if (f->len > 0 || f->data != NULL) {
			if (p < b || p - b > n || n - (p - b) < f->len)
				abort();
		}
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < f->len; i++)
			sum = (uint8_t)(sum + f->data[i]);
		(void)sum;
	}
}

/* The same decode into a struct filled otherwise says the same. */
static void check_again(int linktype, const uint8_t *frame, uint32_t n, enum decode_result r,
			const struct decode_tcp *d)
{
	struct decode_tcp e;
	memset(&e, 0x00, sizeof e);
	if (decode_packet(linktype, frame, n, &e) != r)
		abort();
	if (r != DECODE_TCP && r != DECODE_FRAGMENT)
		return;
	if (e.ip_version != d->ip_version || memcmp(e.src, d->src, 16) != 0 ||
	    memcmp(e.dst, d->dst, 16) != 0)
		abort();
	if (e.encap.depth != d->encap.depth ||
	    memcmp(e.encap.kinds, d->encap.kinds, e.encap.depth) != 0)
		abort();
	if (e.encap.depth) {
		if (e.encap.has_id != d->encap.has_id || (e.encap.has_id && e.encap.id != d->encap.id) ||
		    e.encap.outer_version != d->encap.outer_version ||
		    memcmp(e.encap.outer_src, d->encap.outer_src, 16) != 0 ||
		    memcmp(e.encap.outer_dst, d->encap.outer_dst, 16) != 0)
			abort();
	}
	if (r == DECODE_TCP) {
		if (e.sport != d->sport || e.dport != d->dport || e.seq != d->seq || e.ack != d->ack ||
		    e.flags != d->flags || e.window != d->window || e.payload != d->payload ||
		    e.payload_len != d->payload_len || e.payload_caplen != d->payload_caplen ||
		    e.has_mss != d->has_mss || e.has_wscale != d->has_wscale ||
		    e.sack_permitted != d->sack_permitted || e.has_timestamps != d->has_timestamps ||
		    (e.has_mss && e.mss != d->mss) || (e.has_wscale && e.wscale != d->wscale))
			abort();
	} else {
		if (e.frag.id != d->frag.id || e.frag.proto != d->frag.proto ||
		    e.frag.more != d->frag.more || e.frag.offset != d->frag.offset ||
		    e.frag.header_len != d->frag.header_len || e.frag.data != d->frag.data ||
		    e.frag.len != d->frag.len || e.frag.wire_len != d->frag.wire_len)
			abort();
	}
}

/* A fragment's piece as if it were its whole reassembled datagram; its
 * inner packet may be a fragment again (a tunnel in it). */
static void follow_fragments(struct decode_tcp *d)
{
	uint8_t *prev = NULL;             /* holds what d->frag.data points into */
	for (int i = 0; i <= DECODE_MAX_ENCAP; i++) {
		uint32_t n = d->frag.len, wire = d->frag.wire_len;
		uint8_t *buf = malloc(n);     /* exact size; malloc(0) is a 0-byte block */
		if (!buf && n)
			break;
		if (n)
			memcpy(buf, d->frag.data, n);
		free(prev);
		prev = buf;
		enum decode_result r = decode_ip_payload(d->frag.proto, buf, n, wire, d);
		if (r == DECODE_UNSUPPORTED_LINK)
			abort();
		check(r, d, buf, n);
		if (r != DECODE_FRAGMENT)
			break;
	}
	free(prev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	int linktype = fuzz_linktypes[data[0] % N_LINKTYPES];
	size_t n = size - 1;
	uint8_t *frame = malloc(n);  /* exact size; malloc(0) is a 0-byte block */
	if (!frame && n)
		return 0;
	if (n)
		memcpy(frame, data + 1, n);

	struct decode_tcp d;
	memset(&d, 0xa5, sizeof d);
	enum decode_result r = decode_packet(linktype, frame, (uint32_t)n, &d);

	if (decode_linktype_supported(linktype) != (r != DECODE_UNSUPPORTED_LINK))
		abort();
	if (r == DECODE_ENCRYPTED && !carries_80211(linktype))
		abort();
	check(r, &d, frame, n);
	check_again(linktype, frame, (uint32_t)n, r, &d);
	if (r == DECODE_FRAGMENT)
		follow_fragments(&d);
	free(frame);
	return 0;
}
