/*
 * fuzz_decode.c - libFuzzer target for decode_packet().
 *
 * The first input byte picks a link type (every supported one plus one
 * that is not), the rest is the frame.  The frame is copied to a heap
 * buffer of exactly its size, so ASan catches any read past caplen.  On
 * DECODE_TCP the target aborts unless the payload lies inside the frame
 * and payload_caplen <= payload_len.
 */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP, DLT_NFLOG,
	DLT_USER0,                   /* unsupported */
};

#define N_LINKTYPES (sizeof fuzz_linktypes / sizeof fuzz_linktypes[0])

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

	if (decode_result_name(r) == NULL)
		abort();
	if (!decode_linktype_supported(linktype) && r != DECODE_UNSUPPORTED_LINK)
		abort();
	if (r == DECODE_TCP) {
		uintptr_t p = (uintptr_t)d.payload, b = (uintptr_t)frame;
		if (d.payload_caplen > d.payload_len)
			abort();
		if (d.ip_version != 4 && d.ip_version != 6)
			abort();
		if (d.payload_caplen > 0 || d.payload != NULL) {
			/* payload in [frame, frame + n], payload_caplen bytes fit */
			if (p < b || p - b > n || n - (p - b) < d.payload_caplen)
				abort();
		}
		if (d.ip_version == 4) {
			for (size_t i = 4; i < 16; i++)
				if (d.src[i] != 0 || d.dst[i] != 0)
					abort();
		}
		/* Touch every payload byte, so ASan checks the span. */
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < d.payload_caplen; i++)
			sum = (uint8_t)(sum + d.payload[i]);
		(void)sum;
	}
	free(frame);
	return 0;
}
