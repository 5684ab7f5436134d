/*
 * fuzz_tls.c - libFuzzer target for the TLS dissector (record layer and
 * ClientHello/ServerHello parsing, dissectors/tls.c and tls_hello.c).
 *
 * Input: one control byte (bit 0: which direction starts; bits 1-2: piece
 * size class), a seed byte, then the bytes.  The bytes are cut into pieces
 * of pseudo-random sizes, each copied into an exact-size buffer (so ASan
 * sees a read past a piece) and given to the dissector in alternating or
 * random directions, with now and then a gap; then end of stream both ways
 * and a summary, whose fields must be sane.  The bytes are also given to
 * tls_hello_parse() and tls_hello_parse_v2() (SSL 2.0-format ClientHello)
 * whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t fz_sink;

static void fz_finding(void *ctx, const struct finding_record *f)
{
	(void)ctx;
	if (!finding_kind_name(f->kind) || !f->detail)
		abort();
	fz_sink += strlen(f->detail);
}

static const size_t PIECE[4] = { 1, 7, 300, 20000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct tls_hello h;
	if (tls_hello_parse(data + 2, size - 2, &h) == 0 &&
	    (h.session_id_len > 32 || strlen(h.sni) >= sizeof h.sni ||
	     strlen(h.alpn) >= sizeof h.alpn))
		abort();
	if (tls_hello_parse_v2(data + 2, size - 2, &h) == 0 &&
	    (!h.sslv2 || h.version >> 8 != 3 || h.session_id_len > 32 || h.sni[0] || h.alpn[0]))
		abort();

	const struct dissector *d = &tls_dissector;
	struct dissect_output out = { NULL, fz_finding, NULL };
	uint8_t ip[16] = { 0 };
	struct dissect_conn_info info = { .ip_version = 4, .client_ip = ip, .server_ip = ip,
					  .client_port = 1, .server_port = 2, .conn_id = 1, .out = &out };
	void *ctx = d->ctx_new(&info);
	if (!ctx)
		return 0;
	size_t max = PIECE[(data[0] >> 1) & 3u];
	uint32_t seed = data[1] * 2654435761u + 1;
	const uint8_t *p = data + 2;
	size_t n = size - 2, off[2] = { 0, 0 };
	int dir = data[0] & 1;
	kl_time ts = (kl_time)1700000000 * KL_NS_PER_SEC;
	while (n) {
		seed = seed * 1103515245u + 12345u;
		size_t len = 1 + (seed >> 8) % max;
		if (len > n)
			len = n;
		ts += 1000;
		if ((seed >> 24) % 32 == 0) {
			d->gap(ctx, (enum kl_dir)dir, off[dir], len, ts);
		} else {
			uint8_t *c = malloc(len);
			if (!c)
				abort();
			memcpy(c, p, len);
			d->data(ctx, (enum kl_dir)dir, c, len, off[dir], ts);
			free(c);
		}
		off[dir] += len;
		p += len;
		n -= len;
		if ((seed >> 20) & 1)
			dir ^= 1;
	}
	d->eof(ctx, KL_TO_SERVER, ts);
	d->eof(ctx, KL_TO_CLIENT, ts);
	struct conn_record tcp;
	memset(&tcp, 0, sizeof tcp);
	struct facts_set *set = facts_set_new();
	if (!set)
		abort();
	d->facts(ctx, &tcp, set);
	const struct tls_facts *f = facts_set_find(set, FACTS_TLS);
	if (!f || strlen(f->sni) >= sizeof f->sni || strlen(f->alpn) >= sizeof f->alpn ||
	    f->resumed < -1 || f->resumed > 1 || (f->has_handshake && f->handshake < 0))
		abort();
	facts_set_free(set);
	d->ctx_free(ctx);
	return 0;
}
