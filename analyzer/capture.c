/*
 * capture.c - capture files through libpcap; gzip through zlib.
 *
 * libpcap reads from a FILE *.  A plain regular file is handed to it
 * directly (stdio, a large buffer).  Everything else - a gzip file, and a
 * pipe, FIFO or standard input, compressed or not - goes through one
 * reader of our own behind a glibc fopencookie() FILE (struct input):
 *
 *   - it peeks the first bytes itself (a pipe cannot be rewound) and
 *     serves them first, so plain data reaches libpcap unchanged and gzip
 *     is inflated by zlib in the same pass, without a temporary file;
 *   - every call does at most what one read(2) brings and returns what it
 *     has, short counts included: a record is parsed as soon as its bytes
 *     arrive (gzread() would block until its whole request is filled, so a
 *     slow pipe showed nothing until 256 KiB had come);
 *   - damaged gzip data ends the stream after every byte zlib could decode
 *     before the damage (gzread() returns -1 and drops what it had decoded
 *     in that call), and the reason zlib gives is kept for the message.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CAPTURE_IOBUF ((size_t)256 << 10)

/* What a FILE * of fopencookie() reads: plain bytes or a gzip stream
 * from a file descriptor, the first bytes already peeked. */
struct input {
	int fd;                       /* owned */
	bool gzip;
	bool eof;                     /* read(2) returned 0 */
	bool failed;                  /* a read(2) error: errno kept in err_no */
	int err_no;
	z_stream zs;
	bool zs_init;
	bool member_end;              /* a gzip member ended; another may follow */
	unsigned members;             /* gzip members begun */
	unsigned char head[4];        /* the first bytes of the data, served first */
	size_t head_len, head_off;
	unsigned char *in;            /* CAPTURE_IOBUF compressed bytes (gzip) */
	uint64_t consumed;            /* bytes read from fd */
	char zerr[160];               /* why zlib stopped, or "" */
};

struct capture {
	pcap_t *pcap;
	FILE *fp;                     /* the stream libpcap reads */
	struct input *input;          /* non-NULL when fp is our reader */
	char *iobuf;                  /* stdio buffer of fp; freed after it is closed */
	pcap_dumper_t *save;          /* live: the --write file, or NULL */
	int fd, timeout_ms;           /* live: what capture_next() polls, how long */
	bool live;
	bool regular;                 /* a regular file named by its path */
	bool drainable;               /* read from a regular file (stdin too): it ends */
	bool micro;                   /* timestamps in microseconds (else nanoseconds) */
	bool pcap32;                  /* classic pcap: unsigned 32-bit time fields */
	uint64_t size;                /* file size in bytes */
	char path[512];
	char err[PCAP_ERRBUF_SIZE + 600];
};

/* One read(2), as much as it gives: > 0 bytes, 0 at the end, -1 on an
 * error (errno; EINTR included: a signal is how kalens is told to stop). */
static ssize_t input_read_fd(struct input *in, void *buf, size_t n)
{
	ssize_t got = read(in->fd, buf, n);
	if (got > 0)
		in->consumed += (uint64_t)got;
	else if (got == 0)
		in->eof = true;
	return got;
}

static void input_zerr(struct input *in, const char *what)
{
	if (!in->zerr[0])
		snprintf(in->zerr, sizeof in->zerr, "%s", what);
}

/* Inflate into buf, at most n bytes: > 0 bytes, 0 at the end of the data
 * (a clean end, or damage: then in->zerr says why), -1 on a read error. */
static ssize_t input_inflate(struct input *in, unsigned char *buf, size_t n)
{
	z_stream *zs = &in->zs;
	for (;;) {
		if (in->zerr[0])
			return 0;
		if (zs->avail_in == 0 && !in->eof) {
			ssize_t got = input_read_fd(in, in->in, CAPTURE_IOBUF);
			if (got < 0)
				return -1;
			zs->next_in = in->in;
			zs->avail_in = (uInt)got;
		}
		if (zs->avail_in == 0) {
			/* The input ended: cleanly only between members. */
			if (!in->member_end)
				input_zerr(in, "unexpected end of file");
			return 0;
		}
		if (in->member_end) {
			/* gzip -d reads concatenated members as one stream, and
			 * so does zlib's gzread(); anything else after a member
			 * is trailing garbage, ignored as they ignore it. */
			if (zs->next_in[0] != 0x1f)
				return 0;
			if (inflateReset(zs) != Z_OK) {
				input_zerr(in, "inflateReset failed");
				return 0;
			}
			in->member_end = false;
			in->members++;
		}
		zs->next_out = buf;
		zs->avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		uInt avail = zs->avail_out;
		int rc = inflate(zs, Z_NO_FLUSH);
		size_t made = avail - zs->avail_out;
		if (rc == Z_STREAM_END) {
			in->member_end = true;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			/* The bytes decoded before the damage are in buf: they
			 * are returned now, the end (and why) comes next call. */
			input_zerr(in, zs->msg ? zs->msg : zError(rc));
		}
		if (made > 0)
			return (ssize_t)made;
	}
}

static ssize_t input_cookie_read(void *cookie, char *buf, size_t n)
{
	struct input *in = cookie;
	if (n == 0)
		return 0;
	if (in->head_off < in->head_len) {
		size_t k = in->head_len - in->head_off;
		if (k > n)
			k = n;
		memcpy(buf, in->head + in->head_off, k);
		in->head_off += k;
		return (ssize_t)k;
	}
	if (in->failed) {
		errno = in->err_no;
		return -1;
	}
	ssize_t got = in->gzip ? input_inflate(in, (unsigned char *)buf, n)
			       : in->eof ? 0 : input_read_fd(in, buf, n);
	if (got < 0 && errno != EINTR) {
		/* Sticky, as stdio would retry; EINTR is not: the caller
		 * decides whether the signal stops the run. */
		in->failed = true;
		in->err_no = errno;
	}
	return got;
}

static int input_cookie_close(void *cookie)
{
	(void)cookie;                 /* the input is freed by capture_close() */
	return 0;
}

static void input_free(struct input *in)
{
	if (!in)
		return;
	if (in->zs_init)
		inflateEnd(&in->zs);
	if (in->fd >= 0)
		close(in->fd);
	free(in->in);
	free(in);
}

/* Peek the first (up to 4) bytes of the data behind fd: raw bytes, then,
 * for gzip, the first inflated bytes.  Takes fd.  NULL with a message in
 * err when out of memory, zlib cannot start or the first read fails. */
static struct input *input_open(int fd, const char *path, char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof *in);
	if (!in) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	in->fd = fd;
	unsigned char raw[4];
	size_t have = 0;
	while (have < sizeof raw && !in->eof) {
		ssize_t got = input_read_fd(in, raw + have, sizeof raw - have);
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		have += (size_t)got;
	}
	if (have < 2 || raw[0] != 0x1f || raw[1] != 0x8b) {
		memcpy(in->head, raw, have);
		in->head_len = have;
		return in;
	}
	in->gzip = true;
	in->members = 1;
	in->in = malloc(CAPTURE_IOBUF);
	/* 16 + MAX_WBITS: gzip framing only (header, CRC-32 and length). */
	if (!in->in || inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
		snprintf(err, errlen, "%s: cannot start zlib", path);
		goto fail;
	}
	in->zs_init = true;
	memcpy(in->in, raw, have);
	in->zs.next_in = in->in;
	in->zs.avail_in = (uInt)have;
	while (in->head_len < sizeof in->head) {
		ssize_t got = input_inflate(in, in->head + in->head_len,
					    sizeof in->head - in->head_len);
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		in->head_len += (size_t)got;
	}
	return in;
fail:
	input_free(in);
	return NULL;
}

/* What the first 4 bytes say the file is.  Classic pcap record headers
 * hold the seconds and the fraction as unsigned 32-bit fields, which
 * libpcap hands back sign-extended (its header struct has bpf_int32), so
 * a fraction of 2^31 or more, or a time after 2038, comes back negative:
 * capture_next() takes them back as unsigned.  Microsecond files (the
 * classic magic, and Kuznetzov's modified one) are read at microsecond
 * precision and scaled in 64 bits here: libpcap's own scaling to
 * nanoseconds multiplies the 32-bit field in 32 bits, so a bogus fraction
 * of 4294968 us or more would wrap. */
enum file_magic { MAGIC_OTHER, MAGIC_PCAP_US, MAGIC_PCAP_NS };

static enum file_magic magic_of(const unsigned char *m, size_t n)
{
	if (n < 4)
		return MAGIC_OTHER;
	uint32_t le = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
		      (uint32_t)m[3] << 24;
	uint32_t be = (uint32_t)m[3] | (uint32_t)m[2] << 8 | (uint32_t)m[1] << 16 |
		      (uint32_t)m[0] << 24;
	for (int i = 0; i < 2; i++) {
		uint32_t v = i ? be : le;
		if (v == 0xa1b2c3d4 || v == 0xa1b2cd34)
			return MAGIC_PCAP_US;
		if (v == 0xa1b23c4d)
			return MAGIC_PCAP_NS;
	}
	return MAGIC_OTHER;
}

static void set_magic(struct capture *c, const unsigned char *m, size_t n)
{
	enum file_magic k = magic_of(m, n);
	c->micro = k == MAGIC_PCAP_US;
	c->pcap32 = k != MAGIC_OTHER;
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

/* Only the reading thread touches the capture's FILE, and libpcap calls
 * fread twice a packet: without stdio's lock on each call (the process
 * has other threads, so glibc would take it). */
static void unlocked_stdio(FILE *f)
{
	__fsetlocking(f, FSETLOCKING_BYCALLER);
}

/* A plain regular file: stdio straight from the file, with a large buffer.
 * Takes fd; 0, or -1 with a message in err. */
static int open_plain_file(struct capture *c, int fd, char *err, size_t errlen)
{
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		close(fd);
		return -1;
	}
	c->fp = f;
	/* libpcap reads a record at a time through stdio; a large buffer
	 * (set before the first read; glibc ignores the size unless it is
	 * given the buffer) turns 4 KiB reads into 256 KiB ones: 100 k fewer
	 * read calls on a 400 MB capture. */
	c->iobuf = malloc(CAPTURE_IOBUF);
	if (!c->iobuf || setvbuf(f, c->iobuf, _IOFBF, CAPTURE_IOBUF) != 0) {
		snprintf(err, errlen, "%s: cannot set a read buffer", c->path);
		return -1;
	}
	unlocked_stdio(f);
	return 0;
}

/* Anything else: our reader (struct input) behind a FILE *.  Takes fd;
 * 0, or -1 with a message in err. */
static int open_input(struct capture *c, int fd, char *err, size_t errlen)
{
	c->input = input_open(fd, c->path, err, errlen);
	if (!c->input)
		return -1;
	set_magic(c, c->input->head, c->input->head_len);
	cookie_io_functions_t io = { .read = input_cookie_read, .close = input_cookie_close };
	c->fp = fopencookie(c->input, "rb", io);
	if (!c->fp) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		return -1;
	}
	/* Large requests, so a gzip file inflates in large steps; a pipe still
	 * returns what one read(2) gives. */
	c->iobuf = malloc(CAPTURE_IOBUF);
	if (!c->iobuf || setvbuf(c->fp, c->iobuf, _IOFBF, CAPTURE_IOBUF) != 0) {
		snprintf(err, errlen, "%s: cannot set a read buffer", c->path);
		return -1;
	}
	unlocked_stdio(c->fp);
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

	bool from_stdin = strcmp(path, "-") == 0;
	int fd = from_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
			    : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", from_stdin ? "standard input" : path,
			 strerror(errno));
		goto fail;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		close(fd);
		goto fail;
	}
	/* Standard input may be a regular file at any offset: read it as a
	 * stream from where it stands. */
	c->regular = S_ISREG(st.st_mode) && !from_stdin;
	c->drainable = S_ISREG(st.st_mode);
	c->size = c->regular ? (uint64_t)st.st_size : 0;
	unsigned char magic[4];
	ssize_t got = c->regular ? pread(fd, magic, sizeof magic, 0) : 0;
	if (c->regular && got >= 0 && !(got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {
		set_magic(c, magic, (size_t)got);
		if (open_plain_file(c, fd, err, errlen) != 0)
			goto fail;
	} else if (open_input(c, fd, err, errlen) != 0) {
		goto fail;
	}

	c->pcap = pcap_fopen_offline_with_tstamp_precision(c->fp,
			c->micro ? PCAP_TSTAMP_PRECISION_MICRO : PCAP_TSTAMP_PRECISION_NANO,
			pcap_err);
	if (!c->pcap) {
		/* libpcap says "unknown file format" for anything that is not
		 * pcap or pcapng, and "truncated dump file" for a short header. */
		bool gz = c->input && c->input->gzip;
		if (c->input && c->input->zerr[0])
			snprintf(err, errlen, "%s: damaged gzip data: %s", path, c->input->zerr);
		else if (strstr(pcap_err, "unknown file format"))
			snprintf(err, errlen, "%s: not a pcap or pcapng capture%s", path,
				 gz ? " (inside gzip)" : "");
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

/* A record's time in nanoseconds.  The fraction is taken as libpcap
 * hands it (microseconds or nanoseconds; for classic pcap both fields
 * taken back as the unsigned 32-bit values of the file) and added in 64
 * bits, so a fraction of a second or more - a damaged or hand-made record;
 * pcapng timestamps are one 64-bit count and cannot have one - carries
 * into the seconds (1000 s + 1500000 us is 1001.5 s).  Seconds beyond
 * kl_time (year 2262) are clamped rather than overflowed. */
static kl_time packet_time(const struct capture *c, int64_t sec, int64_t frac)
{
	if (c->pcap32) {
		sec = (int64_t)(uint32_t)sec;
		frac = (int64_t)(uint32_t)frac;
	}
	const int64_t max_sec = INT64_MAX / KL_NS_PER_SEC - 5;   /* room for the fraction */
	if (sec > max_sec)
		sec = max_sec;
	if (sec < -max_sec)
		sec = -max_sec;
	if (frac < 0 || frac > UINT32_MAX)      /* none of libpcap's; nothing to carry */
		frac = 0;
	return sec * KL_NS_PER_SEC + frac * (c->micro ? 1000 : 1);
}

/* After the last record libpcap could read (rc: its code), did the data
 * end because zlib found the gzip stream damaged?  A damaged stream can
 * also inflate to garbage that libpcap refuses first ("invalid packet
 * capture length"): then the rest of a file (standard input too, when it
 * is one) is inflated to see whether zlib agrees; a pipe is not drained:
 * it may never end, and libpcap's reason stands. */
static bool gzip_damaged(struct capture *c, int rc)
{
	struct input *in = c->input;
	if (!in || !in->gzip)
		return false;
	if (!in->zerr[0] && rc == PCAP_ERROR && c->drainable) {
		unsigned char sink[8192];
		while (input_inflate(in, sink, sizeof sink) > 0)
			;
	}
	return in->zerr[0] != 0;
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
		out->ts = packet_time(c, h->ts.tv_sec, h->ts.tv_usec);
		out->caplen = h->caplen;
		out->wirelen = h->len;
		out->data = data;
		if (c->save)
			pcap_dump((u_char *)c->save, h, data);
		return CAPTURE_PACKET;
	}
	if (rc == 0 && c->live)
		return CAPTURE_TIMEOUT;
	if (gzip_damaged(c, rc)) {
		snprintf(c->err, sizeof c->err, "%s: damaged gzip data: %s", c->path,
			 c->input->zerr);
		return CAPTURE_TRUNCATED;
	}
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
	if (c->input) {
		*done = c->input->consumed;
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
	input_free(c->input);         /* after the FILE * that reads it */
	free(c->iobuf);
	free(c);
}
