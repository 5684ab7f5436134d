/*
 * tls_detect.c - see tls_detect.h.
 *
 * A TLS connection starts with a handshake record (RFC 8446 §5.1): content
 * type 22, legacy record version 3.x with x from 0 (SSL 3.0) to 4, and a
 * length of at most 2^14 + 2048 bytes.  Either direction may be seen first
 * (a capture may miss the ClientHello but see the ServerHello).
 */
#include "tls_detect.h"

#include <stdlib.h>

static enum dissect_verdict tls_probe(enum kl_dir dir, const uint8_t *p, size_t n)
{
	(void)dir;
	static const uint8_t want[3] = { 22, 3, 0 };
	for (size_t i = 0; i < n && i < 5; i++) {
		switch (i) {
		case 0:
		case 1:
			if (p[i] != want[i])
				return DISSECT_NO;
			break;
		case 2:
			if (p[i] > 4)
				return DISSECT_NO;
			break;
		case 4: {
			unsigned len = (unsigned)p[3] << 8 | p[4];
			return len > 0 && len <= (1u << 14) + 2048 ? DISSECT_YES : DISSECT_NO;
		}
		default:
			break;
		}
	}
	return DISSECT_MORE;
}

/* A static non-NULL context: nothing is kept per connection. */
static void *tls_ctx_new(const struct dissect_conn_info *info)
{
	(void)info;
	static const char none;
	return (void *)&none;
}

static void tls_ctx_free(void *ctx)
{
	(void)ctx;
}

static void tls_data(void *ctx, enum kl_dir dir, const uint8_t *p, size_t n, uint64_t off,
		     kl_time ts)
{
	(void)ctx, (void)dir, (void)p, (void)n, (void)off, (void)ts;
}

static void tls_gap(void *ctx, enum kl_dir dir, uint64_t off, uint64_t len, kl_time ts)
{
	(void)ctx, (void)dir, (void)off, (void)len, (void)ts;
}

static void tls_eof(void *ctx, enum kl_dir dir, kl_time ts)
{
	(void)ctx, (void)dir, (void)ts;
}

const struct dissector tls_detect_dissector = {
	.name = "tls",
	.probe = tls_probe,
	.ctx_new = tls_ctx_new,
	.ctx_free = tls_ctx_free,
	.data = tls_data,
	.gap = tls_gap,
	.eof = tls_eof,
	.protocol = NULL,
	.summarize = NULL,
};
