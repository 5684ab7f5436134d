/*
 * capture.h - packets from a capture file (pcap, pcapng, gzip-compressed)
 * or from a network interface.
 *
 * A thin layer over libpcap: a file's timestamps keep their precision
 * (nanoseconds in kl_time), a gzip-compressed capture (detected by its
 * magic bytes, not its name) is read through zlib without a temporary
 * file, a pipe or FIFO is read as its bytes arrive (each record is
 * returned as soon as it is whole), and an optional BPF filter is
 * compiled as tcpdump does.  Damaged gzip data ends the capture with
 * CAPTURE_TRUNCATED after every record zlib could decode before it.  An interface is opened with
 * pcap_create()/pcap_activate() and the options below.  capture_next()
 * returns frames that are borrowed until the next call (libpcap's buffer:
 * no copy), and copies each to the save file, if any, as tcpdump -w does.
 */
#ifndef KALENS_CAPTURE_H
#define KALENS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	CAPTURE_TRUNCATED = -2,       /* the file ends inside a record, or its gzip data is damaged */
	CAPTURE_TIMEOUT = -3,         /* live: no packet within the read timeout */
};

/* Open a capture file.  `filter` may be NULL.  On failure returns NULL and
 * writes a message naming the file and the reason into err. */
struct capture *capture_open_file(const char *path, const char *filter,
				  char *err, size_t errlen);

struct capture_live_options {
	const char *iface;            /* "eth0", "lo", "any" */
	const char *filter;           /* BPF, or NULL */
	int snaplen;                  /* bytes kept per packet */
	int buffer_kib;               /* kernel buffer; 0: libpcap's default */
	bool promisc;
	bool immediate;               /* deliver each packet at once */
	int timeout_ms;               /* longest wait in capture_next() */
	const char *write_path;       /* save the packets here (pcap), or NULL */
};

/* Open an interface for capture.  On failure returns NULL with a message
 * (no such interface, no permission, bad filter) in err. */
struct capture *capture_open_live(const struct capture_live_options *o, char *err,
				  size_t errlen);

/* Print the interfaces libpcap can capture on, numbered, as tcpdump -D
 * does.  0, or -1 with a message in err. */
int capture_list_interfaces(FILE *out, char *err, size_t errlen);

enum capture_status capture_next(struct capture *c, struct capture_pkt *out);

/* Live: packets received and dropped (by the kernel, and by the interface
 * when it says).  0, or -1 when libpcap cannot tell. */
int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped);

/* File descriptors of files the capture created (the save file), so the
 * caller can hand them to another user before dropping privileges: -1
 * when there is none. */
int capture_save_fd(const struct capture *c);

int capture_linktype(const struct capture *c);            /* DLT_* */
const char *capture_linktype_name(const struct capture *c); /* "EN10MB", ... */

/* The message for the last CAPTURE_ERROR/CAPTURE_TRUNCATED. */
const char *capture_error(const struct capture *c);

/* Bytes of the file consumed so far and its size (compressed bytes for a
 * gzip file), for a progress line. */
void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total);

void capture_close(struct capture *c);   /* NULL is allowed */

#endif
