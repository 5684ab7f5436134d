/*
 * starttls.c - see starttls.h.
 *
 * Both directions are read as CRLF lines (a line longer than the buffer is
 * skipped to its end).  The client's line that asks for TLS arms the
 * switch; the server's next final reply decides it.  The client waits for
 * that reply before its ClientHello (each RFC requires it), but whatever it
 * sends meanwhile is held and goes to TLS with the rest.
 */
#include "starttls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls.h"

#define LINE_MAX_KEPT 512u
#define HELD_MAX 4096u

enum starttls_proto { ST_UNKNOWN, ST_SMTP, ST_IMAP, ST_POP3, ST_FTP };

struct line_dir {
	char line[LINE_MAX_KEPT];
	size_t len;
	bool overlong;                /* skipping to the end of a long line */
};

struct starttls_conn {
	const struct dissect_output *out;
	int64_t conn_id;
	struct dissect_link *link;
	struct line_dir d[2];
	enum starttls_proto proto;
	bool greeting_220;            /* SMTP or FTP: the client's commands tell */
	bool armed;                   /* the client asked for TLS */
	char tag[32];                 /* IMAP: the tag of its STARTTLS */
	uint64_t cmd_end;             /* client stream offset after that command */
	uint8_t held[HELD_MAX];
	size_t held_len;
	uint64_t held_lost;
	bool switched;
};

static bool starts(const char *line, size_t n, const char *word)
{
	size_t k = strlen(word);
	return n >= k && strncasecmp(line, word, k) == 0;
}

static enum dissect_verdict starttls_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	if (dir != KL_TO_CLIENT)
		return DISSECT_NO;        /* the server greets first */
	static const char *const greetings[] = { "220 ", "220-", "* OK", "+OK" };
	bool more = false;
	for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
		size_t k = strlen(greetings[i]);
		size_t m = n < k ? n : k;
		if (memcmp(p, greetings[i], m) != 0)
			continue;
		if (m < k) {
			more = true;
			continue;
		}
		/* A greeting is one text line (or SMTP/FTP continuation lines). */
		const uint8_t *nl = memchr(p, '\n', n);
		for (const uint8_t *q = p; q < (nl ? nl : p + n); q++)
			if ((*q < 0x20 || *q > 0x7e) && *q != '\r' && *q != '\t')
				return DISSECT_NO;
		return DISSECT_YES;
	}
	return more ? DISSECT_MORE : DISSECT_NO;
}

static void *starttls_ctx_new(const struct dissect_conn_info *info)
{
	struct starttls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = info->out;
	c->conn_id = info->conn_id;
	c->link = info->link;
	return c;
}

static void starttls_ctx_free(void *ctx)
{
	free(ctx);
}

static void refused(struct starttls_conn *c, const char *line, size_t n, kl_time ts)
{
	c->armed = false;
	if (!c->out || !c->out->finding)
		return;
	char d[160];
	snprintf(d, sizeof d, "TLS asked for and refused: %.*s", (int)(n < 100 ? n : 100), line);
	struct finding_record f = { c->conn_id, 0, ts, FINDING_STARTTLS_REFUSED, d };
	c->out->finding(c->out->ctx, &f);
}

/* A client command line (without its CRLF), ending at stream offset end. */
static void client_line(struct starttls_conn *c, const char *line, size_t n, uint64_t end)
{
	if (c->proto == ST_UNKNOWN && c->greeting_220) {
		if (starts(line, n, "EHLO") || starts(line, n, "HELO") || starts(line, n, "STARTTLS") ||
		    starts(line, n, "MAIL "))
			c->proto = ST_SMTP;
		else if (starts(line, n, "AUTH ") || starts(line, n, "USER ") || starts(line, n, "FEAT"))
			c->proto = ST_FTP;
	}
	bool ask = false;
	switch (c->proto) {
	case ST_SMTP:
		ask = n == 8 && starts(line, n, "STARTTLS");
		break;
	case ST_POP3:
		ask = n == 4 && starts(line, n, "STLS");
		break;
	case ST_FTP:
		ask = starts(line, n, "AUTH TLS") || starts(line, n, "AUTH SSL");
		break;
	case ST_IMAP: {
		const char *sp = memchr(line, ' ', n);
		size_t tl = sp ? (size_t)(sp - line) : 0;
		ask = sp && tl < sizeof c->tag && n - tl - 1 == 8 && starts(sp + 1, 8, "STARTTLS");
		if (ask) {
			memcpy(c->tag, line, tl);
			c->tag[tl] = '\0';
		}
		break;
	}
	case ST_UNKNOWN:
		break;
	}
	if (ask) {
		c->armed = true;
		c->cmd_end = end;
	}
}

static void feed(struct starttls_conn *c, enum kl_dir dir, const uint8_t *p, size_t n,
		 uint64_t off, kl_time ts);

/* A server reply line; `end` is the stream offset after it. */
static void server_line(struct starttls_conn *c, const char *line, size_t n, uint64_t end,
			kl_time ts)
{
	if (c->proto == ST_UNKNOWN && !c->greeting_220) {
		if (starts(line, n, "* OK"))
			c->proto = ST_IMAP;
		else if (starts(line, n, "+OK"))
			c->proto = ST_POP3;
		else if (starts(line, n, "220"))
			c->greeting_220 = true;
		return;
	}
	if (!c->armed)
		return;
	bool ok;
	switch (c->proto) {
	case ST_SMTP:
	case ST_FTP:
		/* "250-..." continues a multi-line reply; "XYZ " or "XYZ" ends it. */
		if (n < 3 || (n > 3 && line[3] == '-'))
			return;
		ok = starts(line, n, c->proto == ST_SMTP ? "220" : "234");
		break;
	case ST_POP3:
		ok = starts(line, n, "+OK");
		break;
	case ST_IMAP: {
		size_t tl = strlen(c->tag);
		if (n <= tl || strncmp(line, c->tag, tl) != 0 || line[tl] != ' ')
			return;           /* untagged ("* ...") or another command's */
		ok = starts(line + tl + 1, n - tl - 1, "OK");
		break;
	}
	default:
		return;
	}
	if (!ok) {
		refused(c, line, n, ts);
		/* The session goes on in clear text: what the client sent
		 * after its command is read again as commands. */
		uint8_t again[HELD_MAX];
		size_t k = c->held_len;
		memcpy(again, c->held, k);
		c->held_len = 0;
		c->held_lost = 0;
		feed(c, KL_TO_SERVER, again, k, c->cmd_end, ts);
		return;
	}
	/* TLS from the next byte on, both ways. */
	c->switched = true;
	struct dissect_handover h = { .next = DISSECT_NEXT_NAMED, .named = &tls_dissector,
				      .held = c->held, .held_len = c->held_len,
				      .lost = c->held_lost, .above_opaque = true };
	dissect_handover(c->link, KL_TO_SERVER, c->cmd_end, &h, ts);
	h.held = NULL;
	h.held_len = 0;
	h.lost = 0;
	dissect_handover(c->link, KL_TO_CLIENT, end, &h, ts);
}

/* Bytes [p, p+n) of direction dir, the first at stream offset off. */
static void feed(struct starttls_conn *c, enum kl_dir dir, const uint8_t *p, size_t n,
		 uint64_t off, kl_time ts)
{
	struct line_dir *d = &c->d[dir];
	for (size_t i = 0; i < n && !c->switched; i++) {
		uint64_t at = off + i + 1;    /* offset after this byte */
		if (dir == KL_TO_SERVER && c->armed) {
			/* Past the command that asked for TLS: held for TLS. */
			if (c->held_len < HELD_MAX)
				c->held[c->held_len++] = p[i];
			else
				c->held_lost++;
			continue;
		}
		if (p[i] != '\n') {
			if (d->len < LINE_MAX_KEPT)
				d->line[d->len++] = (char)p[i];
			else
				d->overlong = true;
			continue;
		}
		size_t len = d->len;
		if (len && d->line[len - 1] == '\r')
			len--;
		d->len = 0;
		if (d->overlong) {
			d->overlong = false;
			continue;
		}
		if (dir == KL_TO_SERVER)
			client_line(c, d->line, len, at);
		else
			server_line(c, d->line, len, at, ts);
	}
}

static void starttls_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
			  kl_time ts)
{
	struct starttls_conn *c = ctx;
	if (!c->switched)
		feed(c, dir, p, n, off, ts);
}

static void starttls_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	struct starttls_conn *c = ctx;
	(void)off;
	(void)ts;
	struct line_dir *d = &c->d[dir];
	if (dir == KL_TO_SERVER && c->armed)
		c->held_lost += len;
	d->len = 0;
	d->overlong = true;           /* the line the gap cut is not read */
}

static void starttls_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	(void)ctx;
	(void)dir;
	(void)ts;
}

static const char *starttls_protocol(const void *ctx)
{
	const struct starttls_conn *c = ctx;
	switch (c->proto) {
	case ST_SMTP: return "smtp";
	case ST_IMAP: return "imap";
	case ST_POP3: return "pop3";
	case ST_FTP: return "ftp";
	case ST_UNKNOWN: break;
	}
	return c->greeting_220 ? "smtp/ftp" : "unknown";
}

static size_t starttls_mem(const void *ctx)
{
	(void)ctx;
	return kl_heap_bytes(sizeof(struct starttls_conn));  /* no buffer of its own */
}

const struct dissector starttls_dissector = {
	.name = "starttls",
	.probe = starttls_probe,
	.ctx_new = starttls_ctx_new,
	.ctx_free = starttls_ctx_free,
	.data = starttls_data,
	.gap = starttls_gap,
	.eof = starttls_eof,
	.protocol = starttls_protocol,
	.mem = starttls_mem,
	.facts = NULL,
};
