/*
 * tls_keylog.c - see tls_keylog.h.  Entries in one array sorted by client
 * random once read; a lookup is a binary search.
 */
#include "tls_keylog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	uint8_t random[32];
	uint8_t len[TLS_SECRET_KINDS];            /* 0: not in the log */
	uint8_t secret[TLS_SECRET_KINDS][48];
};

struct tls_keylog {
	struct entry *e;
	size_t n, cap;
};

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

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const struct entry *)a)->random, ((const struct entry *)b)->random, 32);
}

static struct entry *entry_for(struct tls_keylog *k, const uint8_t random[32])
{
	for (size_t i = 0; i < k->n; i++)        /* while reading: few lines per random */
		if (!memcmp(k->e[i].random, random, 32))
			return &k->e[i];
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct entry *e = realloc(k->e, cap * sizeof *e);
		if (!e)
			return NULL;
		k->e = e;
		k->cap = cap;
	}
	struct entry *e = &k->e[k->n++];
	memset(e, 0, sizeof *e);
	memcpy(e->random, random, 32);
	return e;
}

struct tls_keylog *tls_keylog_read(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct tls_keylog *k = calloc(1, sizeof *k);
	if (!k) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	char line[1024];
	unsigned long no = 0;
	while (fgets(line, sizeof line, f)) {
		no++;
		size_t len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(f)) {
			snprintf(err, errlen, "%s line %lu: longer than %zu bytes", path, no,
				 sizeof line - 2);
			goto fail;
		}
		line[len] = '\0';
		char *p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		char *label = p, *rnd, *sec;
		size_t ll = strcspn(label, " \t");
		rnd = label + ll + strspn(label + ll, " \t");
		size_t rl = strcspn(rnd, " \t");
		sec = rnd + rl + strspn(rnd + rl, " \t");
		size_t sl = strcspn(sec, " \t");
		if (!ll || !rl || !sl || sec[sl + strspn(sec + sl, " \t")] != '\0') {
			snprintf(err, errlen, "%s line %lu: want LABEL CLIENT_RANDOM SECRET", path, no);
			goto fail;
		}
		size_t which = sizeof LABELS / sizeof LABELS[0];
		for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
			if (strlen(LABELS[i].label) == ll && !memcmp(label, LABELS[i].label, ll))
				which = i;
		if (which == sizeof LABELS / sizeof LABELS[0])
			continue;                 /* a label decryption does not use */
		uint8_t random[32], secret[48];
		size_t sn;
		if (unhex(rnd, rl, random, 32) != 32) {
			snprintf(err, errlen, "%s line %lu: the client random is not 32 bytes of hex",
				 path, no);
			goto fail;
		}
		sn = unhex(sec, sl, secret, 48);
		if (sn < LABELS[which].min || sn > LABELS[which].max) {
			snprintf(err, errlen, "%s line %lu: the %s secret is not %zu%s bytes of hex",
				 path, no, LABELS[which].label, LABELS[which].min,
				 LABELS[which].max > LABELS[which].min ? " or 48" : "");
			goto fail;
		}
		struct entry *e = entry_for(k, random);
		if (!e) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		e->len[LABELS[which].kind] = (uint8_t)sn;
		memcpy(e->secret[LABELS[which].kind], secret, sn);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	if (k->n)
		qsort(k->e, k->n, sizeof *k->e, cmp_entry);
	return k;
fail:
	fclose(f);
	tls_keylog_free(k);
	return NULL;
}

void tls_keylog_free(struct tls_keylog *k)
{
	if (!k)
		return;
	free(k->e);
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
	struct entry key;
	memcpy(key.random, random, 32);
	const struct entry *e = bsearch(&key, k->e, k->n, sizeof *k->e, cmp_entry);
	if (!e || !e->len[kind])
		return NULL;
	*len = e->len[kind];
	return e->secret[kind];
}
