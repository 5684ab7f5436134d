/*
 * tls_keylog.c - see tls_keylog.h.  Entries in a hash table on the client
 * random: a key log of a long browser session reads in linear time, and
 * lines appended later (live capture) go in the same table.
 */
#include "tls_keylog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct entry {
	uint8_t random[32];
	bool used;
	uint8_t len[TLS_SECRET_KINDS];            /* 0: not in the log */
	uint8_t secret[TLS_SECRET_KINDS][48];
};

/* Open addressing on the client random (random bytes: its first 8 are a
 * good hash), at most half full. */
struct tls_keylog {
	struct entry *e;
	size_t n, cap;                            /* cap: a power of two */
	char *path;
	long offset;                              /* after the last whole line read */
	unsigned long lines;
	long long size_seen;                      /* of the file at the last refresh */
	ino_t ino;                                /* a new file at the path starts over */
	int64_t last_refresh;                     /* monotonic ns */
};

#define KEYLOG_LINE_MAX 1024
#define REFRESH_NS 10000000                       /* 10 ms */

static const struct {
	const char *label;
	enum tls_secret kind;
	size_t min, max;                         /* secret bytes */
} LABELS[] = {
	{ "CLIENT_RANDOM", TLS_MASTER_SECRET, 48, 48 },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_CLIENT_HS_SECRET, 32, 48 },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_SERVER_HS_SECRET, 32, 48 },
	{ "CLIENT_TRAFFIC_SECRET_0", TLS_CLIENT_APP_SECRET_0, 32, 48 },
	{ "SERVER_TRAFFIC_SECRET_0", TLS_SERVER_APP_SECRET_0, 32, 48 },
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex [s, s+n) into out[max]; its byte count, or 0 when it is not hex of
 * an even length that fits. */
static size_t unhex(const char *s, size_t n, uint8_t *out, size_t max)
{
	if (n == 0 || n % 2 || n / 2 > max)
		return 0;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static size_t slot_of(const struct tls_keylog *k, const uint8_t random[32])
{
	uint64_t h;
	memcpy(&h, random, sizeof h);
	size_t i = (size_t)(h * 0x9e3779b97f4a7c15ull >> 17) & (k->cap - 1);
	while (k->e[i].used && memcmp(k->e[i].random, random, 32))
		i = (i + 1) & (k->cap - 1);
	return i;
}

static int grow(struct tls_keylog *k)
{
	size_t cap = k->cap ? k->cap * 2 : 64;
	struct entry *old = k->e;
	size_t ocap = k->cap;
	k->e = calloc(cap, sizeof *k->e);
	if (!k->e) {
		k->e = old;
		return -1;
	}
	k->cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			k->e[slot_of(k, old[i].random)] = old[i];
	free(old);
	return 0;
}

static struct entry *entry_for(struct tls_keylog *k, const uint8_t random[32])
{
	if ((k->n + 1) * 2 > k->cap && grow(k))
		return NULL;
	struct entry *e = &k->e[slot_of(k, random)];
	if (!e->used) {
		e->used = true;
		memcpy(e->random, random, 32);
		k->n++;
	}
	return e;
}

/* One line (NUL-terminated, no newline): 0, or -1 with the reason in err. */
static int parse_line(struct tls_keylog *k, char *line, unsigned long no, char *err,
		      size_t errlen)
{
	const char *path = k->path;
	char *p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return 0;
	char *label = p, *rnd, *sec;
	size_t ll = strcspn(label, " \t");
	rnd = label + ll + strspn(label + ll, " \t");
	size_t rl = strcspn(rnd, " \t");
	sec = rnd + rl + strspn(rnd + rl, " \t");
	size_t sl = strcspn(sec, " \t");
	if (!ll || !rl || !sl || sec[sl + strspn(sec + sl, " \t")] != '\0') {
		snprintf(err, errlen, "%s line %lu: want LABEL CLIENT_RANDOM SECRET", path, no);
		return -1;
	}
	size_t which = sizeof LABELS / sizeof LABELS[0];
	for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
		if (strlen(LABELS[i].label) == ll && !memcmp(label, LABELS[i].label, ll))
			which = i;
	if (which == sizeof LABELS / sizeof LABELS[0])
		return 0;                         /* a label decryption does not use */
	uint8_t random[32], secret[48];
	if (unhex(rnd, rl, random, 32) != 32) {
		snprintf(err, errlen, "%s line %lu: the client random is not 32 bytes of hex",
			 path, no);
		return -1;
	}
	size_t sn = unhex(sec, sl, secret, 48);
	if (sn < LABELS[which].min || sn > LABELS[which].max) {
		snprintf(err, errlen, "%s line %lu: the %s secret is not %zu%s bytes of hex",
			 path, no, LABELS[which].label, LABELS[which].min,
			 LABELS[which].max > LABELS[which].min ? " or 48" : "");
		return -1;
	}
	struct entry *e = entry_for(k, random);
	if (!e) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	e->len[LABELS[which].kind] = (uint8_t)sn;
	memcpy(e->secret[LABELS[which].kind], secret, sn);
	return 0;
}

/* Whole lines from k->offset on.  strict: a bad line is an error (-1);
 * otherwise it is skipped (a file still being written by a browser). */
static int read_lines(struct tls_keylog *k, bool strict, char *err, size_t errlen)
{
	FILE *f = fopen(k->path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", k->path, strerror(errno));
		return -1;
	}
	if (k->offset && fseek(f, k->offset, SEEK_SET)) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", k->path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		bool complete = line[n - 1] == '\n';
		if (!complete && !strict)
			break;                    /* half written: read it next time */
		k->lines++;
		size_t len = strcspn(line, "\r\n");
		const char *why = (size_t)n > KEYLOG_LINE_MAX ? "longer than 1024 bytes" :
				  memchr(line, '\0', (size_t)n) ? "a NUL byte in it" : NULL;
		if (why) {
			if (strict) {
				snprintf(err, errlen, "%s line %lu: %s", k->path, k->lines, why);
				ret = -1;
				break;
			}
		} else {
			line[len] = '\0';
			if (parse_line(k, line, k->lines, err, errlen) && strict) {
				ret = -1;
				break;
			}
		}
		k->offset = ftell(f);         /* bad lines are skipped when following */
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: read error", k->path);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

struct tls_keylog *tls_keylog_read(const char *path, char *err, size_t errlen)
{
	struct tls_keylog *k = calloc(1, sizeof *k);
	if (!k || !(k->path = strdup(path)) || grow(k)) {
		snprintf(err, errlen, "%s: out of memory", path);
		tls_keylog_free(k);
		return NULL;
	}
	if (read_lines(k, true, err, errlen)) {
		tls_keylog_free(k);
		return NULL;
	}
	struct stat sb;
	if (stat(path, &sb) == 0) {
		k->size_seen = (long long)sb.st_size;
		k->ino = sb.st_ino;
	}
	return k;
}

size_t tls_keylog_refresh(struct tls_keylog *k)
{
	/* At most one stat() per REFRESH_NS of real time, however many
	 * connections still wait for their keys. */
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if (k->last_refresh && t - k->last_refresh < REFRESH_NS)
		return 0;
	k->last_refresh = t;
	struct stat sb;
	if (stat(k->path, &sb))
		return 0;
	bool replaced = sb.st_ino != k->ino || (long long)sb.st_size < k->offset;
	if (!replaced && (long long)sb.st_size == k->size_seen)
		return 0;
	k->size_seen = (long long)sb.st_size;
	k->ino = sb.st_ino;
	if (replaced) {
		k->offset = 0;                    /* a new file, or truncated and rewritten */
		k->lines = 0;
	}
	size_t before = k->n;
	char err[256];
	read_lines(k, false, err, sizeof err);
	return k->n - before;
}

struct tls_keylog *tls_keylog_clone(const struct tls_keylog *k)
{
	struct tls_keylog *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	*c = *k;
	c->e = k->cap ? malloc(k->cap * sizeof *k->e) : NULL;
	c->path = strdup(k->path);
	if ((k->cap && !c->e) || !c->path) {
		free(c->e);
		free(c->path);
		free(c);
		return NULL;
	}
	if (k->cap)
		memcpy(c->e, k->e, k->cap * sizeof *k->e);
	return c;
}

void tls_keylog_free(struct tls_keylog *k)
{
	if (!k)
		return;
	free(k->e);
	free(k->path);
	free(k);
}

size_t tls_keylog_count(const struct tls_keylog *k)
{
	return k->n;
}

const uint8_t *tls_keylog_find(const struct tls_keylog *k, const uint8_t random[32],
			       enum tls_secret kind, size_t *len)
{
	if (!k->n || (unsigned)kind >= TLS_SECRET_KINDS)
		return NULL;
	const struct entry *e = &k->e[slot_of(k, random)];
	if (!e->used || !e->len[kind])
		return NULL;
	*len = e->len[kind];
	return e->secret[kind];
}
