/*
 * capture.h - packets from a capture file (pcap, pcapng, gzip-compressed).
 *
 * A thin layer over libpcap: the file is opened with nanosecond timestamp
 * precision, a gzip-compressed capture (detected by its magic bytes, not
 * its name) is read through zlib without a temporary file, and an optional
 * BPF filter is compiled as tcpdump does.  capture_next() returns frames
 * that are borrowed until the next call (libpcap's buffer: no copy).
 */
#ifndef KALENS_CAPTURE_H
#define KALENS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "kl.h"

struct capture;

struct capture_pkt {
	kl_time ts;
	uint32_t caplen;              /* bytes at data */
	uint32_t wirelen;             /* bytes on the wire */
	const uint8_t *data;          /* borrowed until the next capture_next() */
};

enum capture_status {
	CAPTURE_PACKET = 1,           /* *out holds a frame */
	CAPTURE_END = 0,              /* clean end of file */
	CAPTURE_ERROR = -1,           /* read error: capture_error() says which */
	CAPTURE_TRUNCATED = -2,       /* the file ends inside a record */
};

/* Open a capture file.  `filter` may be NULL.  On failure returns NULL and
 * writes a message naming the file and the reason into err. */
struct capture *capture_open_file(const char *path, const char *filter,
				  char *err, size_t errlen);

enum capture_status capture_next(struct capture *c, struct capture_pkt *out);

int capture_linktype(const struct capture *c);            /* DLT_* */
const char *capture_linktype_name(const struct capture *c); /* "EN10MB", ... */

/* The message for the last CAPTURE_ERROR/CAPTURE_TRUNCATED. */
const char *capture_error(const struct capture *c);

/* Bytes of the file consumed so far and its size (compressed bytes for a
 * gzip file), for a progress line. */
void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total);

void capture_close(struct capture *c);   /* NULL is allowed */

#endif
