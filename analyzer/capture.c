/*
 * capture.c - capture files through libpcap; gzip through zlib.
 *
 * libpcap reads from a FILE *, so a gzip file becomes a FILE * whose read
 * function is gzread() (glibc fopencookie): no temporary file, and the
 * decompression runs in the same pass as the parsing.
 */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CAPTURE_IOBUF ((size_t)256 << 10)

struct capture {
	pcap_t *pcap;
	FILE *fp;                     /* the stream libpcap reads */
	gzFile gz;                    /* non-NULL for a gzip file */
	char *iobuf;                  /* stdio buffer of a plain file; freed after it is closed */
	pcap_dumper_t *save;          /* live: the --write file, or NULL */
	int fd, timeout_ms;           /* live: what capture_next() polls, how long */
	bool live;
	bool micro;                   /* live: timestamps in microseconds */
	uint64_t size;                /* file size in bytes */
	char path[512];
	char err[PCAP_ERRBUF_SIZE + 600];
};

static ssize_t gz_cookie_read(void *cookie, char *buf, size_t n)
{
	gzFile gz = cookie;
	if (n > (size_t)INT32_MAX)
		n = (size_t)INT32_MAX;
	int got = gzread(gz, buf, (unsigned)n);
	return got < 0 ? -1 : (ssize_t)got;
}

static int gz_cookie_close(void *cookie)
{
	(void)cookie;                 /* gzclose() is done by capture_close() */
	return 0;
}

static int file_is_gzip(FILE *f)
{
	unsigned char magic[2];
	size_t got = fread(magic, 1, sizeof magic, f);
	rewind(f);
	return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

static int set_filter(pcap_t *p, const char *filter, char *err, size_t errlen)
{
	if (!filter || !*filter)
		return 0;
	struct bpf_program prog;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(p));
		return -1;
	}
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
		return -1;
	}
	return 0;
}

struct capture *capture_open_file(const char *path, const char *filter,
				  char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s", path);

	FILE *raw = NULL;
	bool from_stdin = strcmp(path, "-") == 0;
	if (from_stdin) {
		/* A pipe cannot be rewound after sniffing the gzip magic, so
		 * standard input always goes through zlib, which passes data that
		 * is not gzip through unchanged ("transparent" reading). */
		int fd = dup(STDIN_FILENO);
		c->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
		if (!c->gz) {
			snprintf(err, errlen, "standard input: %s", fd < 0 ? strerror(errno)
									: "cannot read");
			if (fd >= 0)
				close(fd);
			goto fail;
		}
	} else {
		raw = fopen(path, "rb");
		if (!raw) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		/* libpcap reads a record at a time through stdio; a large buffer
		 * (set before the first read; glibc ignores the size unless it is
		 * given the buffer) turns 4 KiB reads into 256 KiB ones: 100 k
		 * fewer read calls on a 400 MB capture. */
		c->iobuf = malloc(CAPTURE_IOBUF);
		if (!c->iobuf || setvbuf(raw, c->iobuf, _IOFBF, CAPTURE_IOBUF) != 0) {
			snprintf(err, errlen, "%s: cannot set a read buffer", path);
			fclose(raw);
			goto fail;
		}
		struct stat st;
		if (fstat(fileno(raw), &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			fclose(raw);
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: is a directory", path);
			fclose(raw);
			goto fail;
		}
		c->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		/* A FIFO cannot be rewound either: read it through zlib too. */
		if (!S_ISREG(st.st_mode) || file_is_gzip(raw)) {
			int fd = dup(fileno(raw));
			fclose(raw);
			raw = NULL;
			c->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
			if (!c->gz) {
				snprintf(err, errlen, "%s: cannot open gzip stream", path);
				if (fd >= 0)
					close(fd);
				goto fail;
			}
		}
	}

	if (c->gz) {
		gzbuffer(c->gz, 256 * 1024);
		cookie_io_functions_t io = { .read = gz_cookie_read, .close = gz_cookie_close };
		c->fp = fopencookie(c->gz, "rb", io);
		if (!c->fp) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	} else {
		c->fp = raw;
	}

	c->pcap = pcap_fopen_offline_with_tstamp_precision(c->fp,
			PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (!c->pcap) {
		/* libpcap says "unknown file format" for anything that is not
		 * pcap or pcapng, and "truncated dump file" for a short header. */
		if (strstr(pcap_err, "unknown file format"))
			snprintf(err, errlen, "%s: not a pcap or pcapng capture%s", path,
				 c->gz ? " (inside gzip)" : "");
		else
			snprintf(err, errlen, "%s: %s", path, pcap_err);
		goto fail;
	}
	c->fp = NULL;                 /* pcap_close() closes it now */

	if (set_filter(c->pcap, filter, err, errlen) != 0)
		goto fail;
	return c;
fail:
	capture_close(c);
	return NULL;
}

struct capture *capture_open_live(const struct capture_live_options *o, char *err,
				  size_t errlen)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", o->iface);
		return NULL;
	}
	c->live = true;
	snprintf(c->path, sizeof c->path, "%s", o->iface);
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	c->pcap = pcap_create(o->iface, pcap_err);
	if (!c->pcap) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_err);
		goto fail;
	}
	if (pcap_set_snaplen(c->pcap, o->snaplen) != 0 ||
	    pcap_set_promisc(c->pcap, o->promisc) != 0 ||
	    pcap_set_timeout(c->pcap, o->timeout_ms) != 0 ||
	    pcap_set_immediate_mode(c->pcap, o->immediate) != 0 ||
	    (o->buffer_kib > 0 && pcap_set_buffer_size(c->pcap, o->buffer_kib * 1024) != 0)) {
		snprintf(err, errlen, "%s: cannot set capture options", o->iface);
		goto fail;
	}
	/* Nanoseconds where the platform has them (Linux does). */
	c->micro = pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO) != 0;
	int rc = pcap_activate(c->pcap);
	if (rc < 0) {
		const char *why = pcap_geterr(c->pcap);
		switch (rc) {
		case PCAP_ERROR_NO_SUCH_DEVICE:
			snprintf(err, errlen, "%s: no such interface (kalens live -D lists them)%s%s",
				 o->iface, *why ? ": " : "", why);
			break;
		case PCAP_ERROR_PERM_DENIED:
			snprintf(err, errlen, "%s: no permission to capture (run as root, or give "
				 "the binary CAP_NET_RAW and CAP_NET_ADMIN)%s%s", o->iface,
				 *why ? ": " : "", why);
			break;
		default:
			snprintf(err, errlen, "%s: %s", o->iface, *why ? why : pcap_statustostr(rc));
			break;
		}
		goto fail;
	}
	if (rc > 0)   /* a warning, e.g. promiscuous mode not supported */
		fprintf(stderr, "kalens: %s: %s\n", o->iface, pcap_geterr(c->pcap));
	/* On "any", the SLL2 header also says which interface each packet
	 * came through; keep libpcap's default (SLL) where it is not offered. */
	if (!strcmp(o->iface, "any"))
		(void)pcap_set_datalink(c->pcap, DLT_LINUX_SLL2);
	if (set_filter(c->pcap, o->filter, err, errlen) != 0)
		goto fail;
	/* Without traffic, a blocking read may wait forever (Linux TPACKET_V3
	 * retires a block on its timer only once it holds a packet): read
	 * without blocking and wait in poll() with our own timeout. */
	c->fd = pcap_get_selectable_fd(c->pcap);
	c->timeout_ms = o->timeout_ms;
	if (c->fd < 0 || pcap_setnonblock(c->pcap, 1, pcap_err) != 0) {
		snprintf(err, errlen, "%s: cannot read without blocking%s%s", o->iface,
			 *pcap_err ? ": " : "", pcap_err);
		goto fail;
	}
	if (o->write_path) {
		c->save = pcap_dump_open(c->pcap, o->write_path);
		if (!c->save) {
			snprintf(err, errlen, "%s: %s", o->write_path, pcap_geterr(c->pcap));
			goto fail;
		}
	}
	return c;
fail:
	capture_close(c);
	return NULL;
}

int capture_list_interfaces(FILE *out, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	pcap_if_t *all = NULL;
	if (pcap_findalldevs(&all, pcap_err) != 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", pcap_err);
		return -1;
	}
	int i = 0;
	for (pcap_if_t *d = all; d; d = d->next) {
		fprintf(out, "%d.%s", ++i, d->name);
		if (d->description)
			fprintf(out, " (%s)", d->description);
		fprintf(out, " [%s%s%s]", d->flags & PCAP_IF_UP ? "Up" : "Down",
			d->flags & PCAP_IF_RUNNING ? ", Running" : "",
			d->flags & PCAP_IF_LOOPBACK ? ", Loopback" : "");
		fputc('\n', out);
	}
	pcap_freealldevs(all);
	return 0;
}

int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped)
{
	struct pcap_stat ps;
	if (!c->live || pcap_stats(c->pcap, &ps) != 0)
		return -1;
	*received = ps.ps_recv;
	*dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	return 0;
}

int capture_save_fd(const struct capture *c)
{
	FILE *f = c->save ? pcap_dump_file(c->save) : NULL;
	return f ? fileno(f) : -1;
}

enum capture_status capture_next(struct capture *c, struct capture_pkt *out)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == 0 && c->live) {
		/* Nothing yet: wait for the descriptor, at most the timeout; a
		 * signal (EINTR) ends the wait early, which is what a stop
		 * request wants. */
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		if (poll(&pfd, 1, c->timeout_ms) < 0 && errno != EINTR) {
			snprintf(c->err, sizeof c->err, "%s: poll: %s", c->path, strerror(errno));
			return CAPTURE_ERROR;
		}
		rc = pcap_next_ex(c->pcap, &h, &data);
	}
	if (rc == 1) {
		/* With nanosecond precision, tv_usec holds nanoseconds. */
		out->ts = (kl_time)h->ts.tv_sec * KL_NS_PER_SEC +
			  (kl_time)h->ts.tv_usec * (c->micro ? 1000 : 1);
		out->caplen = h->caplen;
		out->wirelen = h->len;
		out->data = data;
		if (c->save)
			pcap_dump((u_char *)c->save, h, data);
		return CAPTURE_PACKET;
	}
	if (rc == 0 && c->live)
		return CAPTURE_TIMEOUT;
	if (rc == PCAP_ERROR_BREAK)
		return CAPTURE_END;
	const char *msg = pcap_geterr(c->pcap);
	snprintf(c->err, sizeof c->err, "%s: %s", c->path, msg);
	if (strstr(msg, "truncated"))
		return CAPTURE_TRUNCATED;
	return CAPTURE_ERROR;
}

int capture_linktype(const struct capture *c)
{
	return pcap_datalink(c->pcap);
}

const char *capture_linktype_name(const struct capture *c)
{
	const char *n = pcap_datalink_val_to_name(pcap_datalink(c->pcap));
	return n ? n : "unknown";
}

const char *capture_error(const struct capture *c)
{
	return c->err;
}

void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total)
{
	*total = c->size;
	*done = 0;
	if (c->gz) {
		z_off_t off = gzoffset(c->gz);
		*done = off > 0 ? (uint64_t)off : 0;
	} else if (c->pcap) {
		FILE *f = pcap_file(c->pcap);
		long off = f ? ftell(f) : -1;
		*done = off > 0 ? (uint64_t)off : 0;
	}
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->save)
		pcap_dump_close(c->save);
	if (c->pcap)
		pcap_close(c->pcap);
	else if (c->fp)
		fclose(c->fp);
	if (c->gz)
		gzclose(c->gz);
	free(c->iobuf);
	free(c);
}
