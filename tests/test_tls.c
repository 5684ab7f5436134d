/*
 * test_tls.c - the TLS dissector without keys (dissectors/tls.c) on the
 * bytes of real TLS connections: each connection's TCP payload is read
 * from a committed capture (libpcap and the project's decoder), then
 * played again through a flow table of the built-in dissectors
 * (testutil's tu_conn: every segment in an allocation of its exact size,
 * so ASan sees any read past it): in the capture's own segments, one byte
 * per segment, cut in two at every byte offset (record headers and
 * handshake messages split across segments), and with the first record of
 * each direction re-framed as two records at every byte of its handshake
 * message (RFC 8446 §5.1: handshake messages may be fragmented across
 * records).
 *
 * Expected values are tshark 4.0's reading of the same captures:
 *   tshark -r CAPTURE -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' -T fields
 *     -e tcp.stream -e tcp.srcport -e tls.handshake.version
 *     -e tls.handshake.extensions.supported_version -e tls.handshake.extensions_server_name
 *     -e tls.handshake.ciphersuite -e tls.handshake.extensions_alpn_str
 *     -e tls.handshake.session_id -e tls.handshake.extension.type
 * (version: the ServerHello's supported_version, else its version; resumed:
 * TLS 1.3 ServerHello with pre_shared_key (41), TLS 1.2 ServerHello echoing
 * the ClientHello's non-empty session id), and the application-data records
 * each way: records with tls.record.content_type or (TLS 1.3)
 * tls.record.opaque_type 23, per tcp.srcport.  The exchanges are the
 * clients' records (captures/generated/NAME.client.tsv): curl's 3 URLs, 2
 * requests per s_client connection.
 *
 * captures/generated/tls-legacy/tls-legacy-hellos.pcap holds what no client
 * at hand sends (hellos.py plays it over real TCP connections): SSL
 * 2.0-format ClientHellos (RFC 5246 appendix E.2) answered by TLS 1.0 and
 * TLS 1.2 ServerHellos, and ServerHellos choosing TLS 1.3 drafts 18 (its own
 * layout) and 28, Facebook's draft 26 variant and an unknown 0x7e02.
 * tshark reads it with -d tcp.port==47939,tls (else it misses the first
 * SSL 2.0-format hello); the exchanges are hellos.py's client record.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "testutil.h"
#include "tls.h"

/* ---- a connection read from a capture ------------------------------------- */

struct piece {
	enum kl_dir dir;
	size_t off, len;              /* new bytes of that direction's stream */
};

struct conv {
	uint8_t *stream[2];           /* by enum kl_dir */
	size_t len[2];
	struct piece *pieces;
	size_t n;
};

static void conv_free(struct conv *c)
{
	free(c->stream[0]);
	free(c->stream[1]);
	free(c->pieces);
	memset(c, 0, sizeof *c);
}

/* The payload of the TCP connection of client port `port` in
 * captures/generated/NAME.pcap, each direction's stream in order, and the
 * pieces of new bytes in capture order (retransmitted bytes once). */
static void conv_load(struct conv *cv, const char *name, unsigned port)
{
	memset(cv, 0, sizeof *cv);
	char path[1024], err[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof path, "%s/captures/generated/%s.pcap", KALENS_SOURCE_DIR, name);
	pcap_t *p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "%s", err);
	int link = pcap_datalink(p);
	uint32_t isn[2] = { 0, 0 };
	bool have_isn[2] = { false, false };
	size_t cap[2] = { 0, 0 }, pieces_cap = 0;
	struct pcap_pkthdr *h;
	const u_char *frame;
	while (pcap_next_ex(p, &h, &frame) == 1) {
		struct decode_tcp d;
		if (decode_packet(link, frame, h->caplen, &d) != DECODE_TCP)
			continue;
		enum kl_dir dir;
		if (d.sport == port)
			dir = KL_TO_SERVER;
		else if (d.dport == port)
			dir = KL_TO_CLIENT;
		else
			continue;
		if (d.flags & KL_TCP_SYN) {
			isn[dir] = d.seq;
			have_isn[dir] = true;
			continue;
		}
		if (!d.payload_len)
			continue;
		cr_assert(have_isn[dir], "%s: no SYN for port %u", name, port);
		cr_assert_eq(d.payload_caplen, d.payload_len, "%s: a cut segment", name);
		size_t off = (uint32_t)(d.seq - isn[dir] - 1);
		cr_assert_leq(off, cv->len[dir], "%s: bytes missing before offset %zu", name, off);
		if (off + d.payload_len <= cv->len[dir])
			continue;                 /* retransmitted */
		size_t skip = cv->len[dir] - off, n = d.payload_len - skip;
		if (cv->len[dir] + n > cap[dir]) {
			cap[dir] = (cv->len[dir] + n) * 2;
			cv->stream[dir] = realloc(cv->stream[dir], cap[dir]);
			cr_assert_not_null(cv->stream[dir]);
		}
		memcpy(cv->stream[dir] + cv->len[dir], d.payload + skip, n);
		if (cv->n == pieces_cap) {
			pieces_cap = pieces_cap ? pieces_cap * 2 : 64;
			cv->pieces = realloc(cv->pieces, pieces_cap * sizeof *cv->pieces);
			cr_assert_not_null(cv->pieces);
		}
		cv->pieces[cv->n++] = (struct piece){ dir, cv->len[dir], n };
		cv->len[dir] += n;
	}
	pcap_close(p);
	cr_assert(cv->len[0] && cv->len[1], "%s: no payload on port %u", name, port);
}

/* ---- what the dissector said --------------------------------------------- */

static struct tu_conn C;         /* the last connection played: findings, protocol */
static struct {
	bool tls;
	struct tls_facts f;
	enum conn_closer close_initiator, tcp_close_initiator;
	const char *close_notice;
} last;

static void on_done(void *ctx, const struct conn_record *r)
{
	(void)ctx;
	last.close_initiator = r->close_initiator;
	last.tcp_close_initiator = r->tcp_close_initiator;
	last.close_notice = r->close_notice;
	last.tls = r->facts[FACTS_TLS] != NULL;
	if (last.tls)
		memcpy(&last.f, r->facts[FACTS_TLS], sizeof last.f);
}

/* How a connection is played again. */
struct play {
	size_t piece;                 /* segment size; 0: each piece whole */
	enum kl_dir cut_dir;          /* cut the piece of that direction that holds */
	size_t cut_at;                /* ... this offset (0: no cut) in two there */
	const struct conv *alt;       /* streams to send instead (re-framed), same pieces */
	const uint8_t *tail[2];       /* bytes sent after the connection, by direction */
	size_t tail_len[2];
	size_t tail_piece;
};

static void play(const struct conv *cv, const struct play *pl)
{
	memset(&last, 0, sizeof last);
	const struct conv *src = pl->alt ? pl->alt : cv;
	struct tu_conn *c = &C;
	tu_conn_start(c, 443, NULL, on_done, NULL);
	for (size_t i = 0; i < src->n; i++) {
		const struct piece *p = &src->pieces[i];
		const uint8_t *b = src->stream[p->dir] + p->off;
		if (pl->cut_at && p->dir == pl->cut_dir && p->off < pl->cut_at &&
		    pl->cut_at < p->off + p->len) {
			size_t k = pl->cut_at - p->off;
			tu_conn_send(c, p->dir, b, k, pl->piece);
			tu_conn_send(c, p->dir, b + k, p->len - k, pl->piece);
		} else {
			tu_conn_send(c, p->dir, b, p->len, pl->piece);
		}
	}
	for (int d = 0; d < 2; d++)
		if (pl->tail_len[d])
			tu_conn_send(c, (enum kl_dir)d, pl->tail[d], pl->tail_len[d], pl->tail_piece);
	tu_conn_end(c);
	cr_assert_eq(c->ended, 1);
}

/* ---- tshark's reading ------------------------------------------------------- */

struct tls_case {
	const char *capture;
	unsigned client_port;
	uint16_t version, cipher;
	const char *sni, *alpn;
	int resumed;
	uint64_t records_c2s, records_s2c;
	uint64_t exchanges;           /* the client's record */
	size_t cut_limit;             /* cut at every offset below this, each direction */
};

static const struct tls_case CASES[] = {
	/* curl to nginx, TLS 1.2: no SNI for an IP literal (RFC 6066 §3), ALPN
	 * http/1.1 chosen in the ServerHello, no session id offered */
	{ "tls12-aes128gcm-curl", 40694, 0x0303, 0xc02f, "", "http/1.1", 0, 3, 9, 3, 3000 },
	/* TLS 1.3: the ALPN choice is in the encrypted EncryptedExtensions,
	 * which tshark does not read without keys either */
	{ "tls13-aes128gcm-curl", 53074, 0x0304, 0x1301, "", "", 0, 5, 15, 3, 3000 },
	/* s_client -tls1_2: a full handshake, then one resuming the session
	 * (the ServerHello echoes the session id bd1844d0...) */
	{ "tls12-resumed-s_client", 36588, 0x0303, 0xc030, "localhost", "", 0, 2, 8, 2, 3000 },
	{ "tls12-resumed-s_client", 36602, 0x0303, 0xc030, "localhost", "", 1, 3, 2, 2, SIZE_MAX },
	/* s_client -tls1_3: full, then resumed with a pre_shared_key */
	{ "tls13-resumed-s_client", 36606, 0x0304, 0x1302, "localhost", "", 0, 4, 15, 2, 3000 },
	{ "tls13-resumed-s_client", 60820, 0x0304, 0x1302, "localhost", "", 1, 4, 6, 2, SIZE_MAX },
	/* SSL 2.0-format ClientHellos; the ServerHello's version is the
	 * connection's, the session id it sends echoes none */
	{ "tls-legacy/tls-legacy-hellos", 52782, 0x0301, 0x002f, "", "", 0, 2, 2, 2, SIZE_MAX },
	{ "tls-legacy/tls-legacy-hellos", 52796, 0x0303, 0xc02f, "", "", 0, 1, 1, 1, SIZE_MAX },
	/* TLS 1.3 drafts and a variant: the client's first encrypted record is
	 * its Finished, as in TLS 1.3 */
	{ "tls-legacy/tls-legacy-hellos", 52802, 0x7f12, 0x1301, "draft18.test", "", 0, 4, 3, 2,
	  SIZE_MAX },
	{ "tls-legacy/tls-legacy-hellos", 52806, 0x7f1c, 0x1302, "draft28.test", "", 0, 3, 2, 1,
	  SIZE_MAX },
	{ "tls-legacy/tls-legacy-hellos", 52822, 0xfb1a, 0x1301, "fb-draft26.test", "", 0, 3, 2, 1,
	  SIZE_MAX },
	/* a version kalens does not know: not taken for TLS 1.3 */
	{ "tls-legacy/tls-legacy-hellos", 52824, 0x7e02, 0xc02f, "unknown-7e02.test", "", 0, 1, 2, 1,
	  SIZE_MAX },
};

#define SSLV2_TLS10 6                 /* CASES index of the first SSL 2.0-format hello */

static void expect_facts(const struct tls_case *k, const char *how)
{
	cr_expect_str_eq(C.protocol, "tls", "%s:%u %s", k->capture, k->client_port, how);
	cr_assert(last.tls, "%s:%u %s: no TLS facts", k->capture, k->client_port, how);
	const struct tls_facts *f = &last.f;
	cr_expect_eq(f->version, k->version, "%s:%u %s: version 0x%04x", k->capture, k->client_port,
		     how, f->version);
	cr_expect_eq(f->cipher, k->cipher, "%s:%u %s: cipher 0x%04x", k->capture, k->client_port, how,
		     f->cipher);
	cr_expect_str_eq(f->sni, k->sni, "%s:%u %s: sni", k->capture, k->client_port, how);
	cr_expect_str_eq(f->alpn, k->alpn, "%s:%u %s: alpn", k->capture, k->client_port, how);
	cr_expect_eq(f->resumed, k->resumed, "%s:%u %s: resumed %d", k->capture, k->client_port, how,
		     f->resumed);
	cr_expect_eq(f->records[KL_TO_SERVER], k->records_c2s, "%s:%u %s: records to server %llu",
		     k->capture, k->client_port, how, (unsigned long long)f->records[KL_TO_SERVER]);
	cr_expect_eq(f->records[KL_TO_CLIENT], k->records_s2c, "%s:%u %s: records to client %llu",
		     k->capture, k->client_port, how, (unsigned long long)f->records[KL_TO_CLIENT]);
	cr_expect_eq(f->exchanges, k->exchanges, "%s:%u %s: exchanges %llu", k->capture,
		     k->client_port, how, (unsigned long long)f->exchanges);
	cr_expect_not(f->decrypted, "no key log");
	cr_expect(f->has_handshake, "%s:%u %s: handshake time", k->capture, k->client_port, how);
	cr_expect_str_eq(C.findings, "", "%s:%u %s: findings", k->capture, k->client_port, how);
}

/* ---- tests ------------------------------------------------------------------ */

/* Each connection in the capture's segments and one byte per segment. */
Test(tls, facts_match_tshark_whole_and_bytewise, .timeout = 120)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(CASES); i++) {
		struct conv cv;
		conv_load(&cv, CASES[i].capture, CASES[i].client_port);
		play(&cv, &(struct play){ 0 });
		expect_facts(&CASES[i], "as captured");
		play(&cv, &(struct play){ .piece = 1 });
		expect_facts(&CASES[i], "bytewise");
		conv_free(&cv);
	}
}

/* Each direction cut in two at every byte offset: record headers cut after
 * 1 to 4 bytes, hello messages and their own headers cut anywhere. */
Test(tls, facts_hold_with_a_cut_at_every_offset, .timeout = 300)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(CASES); i++) {
		struct conv cv;
		conv_load(&cv, CASES[i].capture, CASES[i].client_port);
		for (int d = 0; d < 2; d++) {
			size_t lim = cv.len[d] < CASES[i].cut_limit ? cv.len[d] : CASES[i].cut_limit;
			for (size_t k = 1; k < lim; k++) {
				play(&cv, &(struct play){ .cut_dir = (enum kl_dir)d, .cut_at = k });
				char how[64];
				snprintf(how, sizeof how, "cut at %zu to the %s", k,
					 d == KL_TO_SERVER ? "server" : "client");
				expect_facts(&CASES[i], how);
			}
		}
		conv_free(&cv);
	}
}

/* The first record of direction d (a handshake record: the ClientHello, or
 * the ServerHello and what follows it) as two records, the first carrying
 * j bytes of its body: the same stream with a 5-byte header inserted. */
static void reframe(const struct conv *cv, enum kl_dir d, size_t j, struct conv *alt)
{
	const uint8_t *s = cv->stream[d];
	size_t L = (size_t)s[3] << 8 | s[4];
	cr_assert(s[0] == 22 && j > 0 && j < L && 5 + L <= cv->len[d]);
	*alt = *cv;
	alt->stream[d] = malloc(cv->len[d] + 5);
	alt->pieces = malloc(cv->n * sizeof *cv->pieces);
	cr_assert(alt->stream[d] && alt->pieces);
	uint8_t *o = alt->stream[d];
	memcpy(o, s, 3);
	o[3] = (uint8_t)(j >> 8);
	o[4] = (uint8_t)j;
	memcpy(o + 5, s + 5, j);
	memcpy(o + 5 + j, s, 3);
	o[5 + j + 3] = (uint8_t)((L - j) >> 8);
	o[5 + j + 4] = (uint8_t)(L - j);
	memcpy(o + 10 + j, s + 5 + j, cv->len[d] - 5 - j);
	alt->len[d] = cv->len[d] + 5;
	size_t at = 5 + j;                /* where the new header goes */
	for (size_t i = 0; i < cv->n; i++) {
		struct piece p = cv->pieces[i];
		if (p.dir == d) {
			size_t end = p.off + p.len;
			p.off += p.off > at ? 5 : 0;
			end += end > at ? 5 : 0;
			p.len = end - p.off;
		}
		alt->pieces[i] = p;
	}
}

/* RFC 8446 §5.1: a handshake message may be fragmented over several
 * records.  The hellos of a full and a resumed handshake of each version,
 * of the drafts, and the ServerHellos that answer SSL 2.0-format hellos
 * (which are records of their own kind), re-framed at every byte of their
 * first record. */
Test(tls, hello_split_across_two_records, .timeout = 300)
{
	static const size_t which[] = { 0, 1, 3, 5, 6, 7, 8, 9, 10 };
	for (size_t w = 0; w < KL_ARRAY_LEN(which); w++) {
		const struct tls_case *k = &CASES[which[w]];
		struct conv cv;
		conv_load(&cv, k->capture, k->client_port);
		for (int d = 0; d < 2; d++) {
			if (cv.stream[d][0] != 22)
				continue;         /* an SSL 2.0-format hello */
			size_t L = (size_t)cv.stream[d][3] << 8 | cv.stream[d][4];
			for (size_t j = 1; j < L; j++) {
				struct conv alt;
				reframe(&cv, (enum kl_dir)d, j, &alt);
				play(&cv, &(struct play){ .alt = &alt });
				char how[64];
				snprintf(how, sizeof how, "first record to the %s as %zu + %zu",
					 d == KL_TO_SERVER ? "server" : "client", j, L - j);
				expect_facts(k, how);
				free(alt.stream[d]);
				free(alt.pieces);
			}
		}
		conv_free(&cv);
	}
}

/* Application-data records added after a TLS 1.2 connection, fed one byte
 * a segment, then whole: three from the client (empty, which RFC 5246
 * §6.2.1 allows for application data, 1 byte, 300 bytes) and two from the
 * server (the largest ciphertext, 2^14 + 2048 bytes by §6.2.3, and 20
 * bytes): counted each way on top of tshark's count. */
Test(tls, application_data_records_counted_each_way, .timeout = 120)
{
	const struct tls_case *k = &CASES[3];
	struct conv cv;
	conv_load(&cv, k->capture, k->client_port);
	static uint8_t c2s[3 * 5 + 1 + 300], s2c[2 * 5 + 18432 + 20];
	size_t n = 0;
	static const size_t clen[] = { 0, 1, 300 }, slen[] = { 18432, 20 };
	for (size_t i = 0; i < 3; i++) {
		uint8_t h[5] = { 23, 3, 3, (uint8_t)(clen[i] >> 8), (uint8_t)clen[i] };
		memcpy(c2s + n, h, 5);
		memset(c2s + n + 5, (int)i, clen[i]);
		n += 5 + clen[i];
	}
	cr_assert_eq(n, sizeof c2s);
	n = 0;
	for (size_t i = 0; i < 2; i++) {
		uint8_t h[5] = { 23, 3, 3, (uint8_t)(slen[i] >> 8), (uint8_t)slen[i] };
		memcpy(s2c + n, h, 5);
		memset(s2c + n + 5, 0x55, slen[i]);
		n += 5 + slen[i];
	}
	cr_assert_eq(n, sizeof s2c);
	struct play pl = { .tail = { c2s, s2c }, .tail_len = { sizeof c2s, sizeof s2c }, .tail_piece = 1 };
	play(&cv, &pl);
	cr_expect_eq(last.f.records[KL_TO_SERVER], k->records_c2s + 3);
	cr_expect_eq(last.f.records[KL_TO_CLIENT], k->records_s2c + 2);
	cr_expect_str_eq(C.findings, "");
	pl.tail_piece = 0;
	play(&cv, &pl);
	cr_expect_eq(last.f.records[KL_TO_SERVER], k->records_c2s + 3);
	cr_expect_eq(last.f.records[KL_TO_CLIENT], k->records_s2c + 2);
	conv_free(&cv);
}

/* After the handshake of a TLS 1.2 connection, bytes that are not a record
 * header (RFC 5246 §6.2: content types 20 to 23, version 3.x, at most
 * 2^14 + 2048 bytes of ciphertext, §6.2.3): one tls-parse-error, the handshake facts kept, and nothing after
 * it counted as a record (the record layer is lost). */
Test(tls, a_bad_record_header_after_the_handshake_is_a_parse_error)
{
	static const struct {
		const char *what;
		uint8_t hdr[5];
	} bad[] = {
		{ "HTTP in the clear", { 'G', 'E', 'T', ' ', '/' } },
		{ "content type 0 (invalid)", { 0, 3, 3, 0, 5 } },
		{ "version 2.0", { 23, 2, 0, 0, 5 } },
		{ "2^14 + 2049 bytes", { 23, 3, 3, 0x48, 0x01 } },
	};
	const struct tls_case *k = &CASES[3];
	struct conv cv;
	conv_load(&cv, k->capture, k->client_port);
	for (size_t i = 0; i < KL_ARRAY_LEN(bad); i++) {
		for (int d = 0; d < 2; d++) {
			/* the bad header, then a well-formed 5-byte application-data record */
			uint8_t tail[15];
			memcpy(tail, bad[i].hdr, 5);
			static const uint8_t good[10] = { 23, 3, 3, 0, 5, 1, 2, 3, 4, 5 };
			memcpy(tail + 5, good, 10);
			struct play pl = { .tail_piece = 1 };
			pl.tail[d] = tail;
			pl.tail_len[d] = sizeof tail;
			play(&cv, &pl);
			const char *side = d == KL_TO_SERVER ? "client" : "server";
			cr_expect_str_eq(C.findings, "tls-parse-error;", "%s from the %s", bad[i].what, side);
			cr_expect_str_eq(last.f.sni, k->sni, "%s from the %s", bad[i].what, side);
			cr_expect_eq(last.f.cipher, k->cipher, "%s from the %s", bad[i].what, side);
			cr_expect_eq(last.f.records[KL_TO_SERVER], k->records_c2s, "%s from the %s",
				     bad[i].what, side);
			cr_expect_eq(last.f.records[KL_TO_CLIENT], k->records_s2c, "%s from the %s",
				     bad[i].what, side);
		}
	}
	conv_free(&cv);
}

/* The probe takes an SSL 2.0-format ClientHello offering SSL 3.0 or TLS
 * (RFC 5246 appendix E.2: length with the high bit set, message type 1,
 * version 3.x) from the client, and nothing like it from the server. */
Test(tls, probe_takes_sslv2_hellos_from_the_client)
{
	static const struct {
		const char *what;
		uint8_t b[5];
		size_t n;
		enum dissect_verdict to_server, to_client;
	} P[] = {
		{ "TLS 1.0 in SSL 2.0 format", { 0x80, 0x31, 1, 3, 1 }, 5, DISSECT_YES, DISSECT_NO },
		{ "TLS 1.2 in SSL 2.0 format", { 0x80, 0x3b, 1, 3, 3 }, 5, DISSECT_YES, DISSECT_NO },
		{ "its first byte", { 0x80 }, 1, DISSECT_MORE, DISSECT_NO },
		{ "its first 4 bytes", { 0x80, 0x31, 1, 3 }, 4, DISSECT_MORE, DISSECT_NO },
		{ "SSL 2.0 itself (version 0x0002)", { 0x80, 0x31, 1, 0, 2 }, 5, DISSECT_NO,
		  DISSECT_NO },
		{ "version 3.5", { 0x80, 0x31, 1, 3, 5 }, 5, DISSECT_NO, DISSECT_NO },
		{ "message type 4", { 0x80, 0x31, 4, 3, 1 }, 5, DISSECT_NO, DISSECT_NO },
		{ "27 bytes: shorter than any hello", { 0x80, 27, 1, 3, 1 }, 5, DISSECT_NO, DISSECT_NO },
		{ "28 bytes", { 0x80, 28, 1, 3, 1 }, 5, DISSECT_YES, DISSECT_NO },
		{ "a TLS handshake record", { 22, 3, 1, 0, 0x31 }, 5, DISSECT_YES, DISSECT_YES },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(P); i++) {
		uint8_t *b = malloc(P[i].n);
		cr_assert_not_null(b);
		memcpy(b, P[i].b, P[i].n);
		cr_expect_eq(tls_dissector.probe(KL_TO_SERVER, b, P[i].n), P[i].to_server,
			     "%s, from the client", P[i].what);
		cr_expect_eq(tls_dissector.probe(KL_TO_CLIENT, b, P[i].n), P[i].to_client,
			     "%s, from the server", P[i].what);
		free(b);
	}
}

/* An SSL 2.0-format hello whose lengths do not add up (cipher_spec_length
 * 23 instead of 24: not a multiple of 3, and one byte short of the
 * record): one tls-parse-error, no client facts, and the connection read
 * on from the ServerHello as TLS 1.0. */
Test(tls, a_malformed_sslv2_hello_is_a_parse_error)
{
	const struct tls_case *k = &CASES[SSLV2_TLS10];
	struct conv cv;
	conv_load(&cv, k->capture, k->client_port);
	uint8_t *s = cv.stream[KL_TO_SERVER];
	cr_assert(s[0] == 0x80 && s[2] == 1 && s[5] == 0 && s[6] == 24, "not the hello expected");
	s[6] = 23;
	for (size_t piece = 0; piece < 2; piece++) {
		play(&cv, &(struct play){ .piece = piece });
		cr_expect_str_eq(C.protocol, "tls");
		cr_expect_str_eq(C.findings, "tls-parse-error;");
		cr_expect_eq(last.f.version, k->version, "version 0x%04x", last.f.version);
		cr_expect_eq(last.f.cipher, k->cipher);
		cr_expect_eq(last.f.records[KL_TO_SERVER], k->records_c2s);
		cr_expect_eq(last.f.records[KL_TO_CLIENT], k->records_s2c);
		cr_expect_not(last.f.has_handshake, "no ClientHello: no handshake time");
	}
	conv_free(&cv);
}

/* Version names: tshark's (tshark -G values, the field
 * tls.handshake.extensions.supported_version), the number for the others. */
Test(tls, version_names)
{
	static const struct {
		uint16_t v;
		const char *name;
	} N[] = {
		{ 0x0300, "SSL 3.0" }, { 0x0301, "TLS 1.0" }, { 0x0303, "TLS 1.2" },
		{ 0x0304, "TLS 1.3" }, { 0x7f0e, "TLS 1.3 (draft 14)" },
		{ 0x7f12, "TLS 1.3 (draft 18)" }, { 0x7f1c, "TLS 1.3 (draft 28)" },
		{ 0xfb17, "TLS 1.3 (Facebook draft 23)" }, { 0xfb1a, "TLS 1.3 (Facebook draft 26)" },
		{ 0x7e02, "0x7e02" }, { 0xfb1b, "0xfb1b" }, { 0x0002, "0x0002" },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(N); i++) {
		char buf[64];
		cr_expect_str_eq(tls_version_name(N[i].v, buf, sizeof buf), N[i].name, "0x%04x",
				 N[i].v);
	}
	/* drafts tshark 4.0 has no name for (before 14, after 28): by the rule
	 * of the drafts' numbering, 0x7f00 + draft (draft-ietf-tls-tls13-28
	 * §4.2.1) */
	char buf[64];
	cr_expect_str_eq(tls_version_name(0x7f05, buf, sizeof buf), "TLS 1.3 (draft 5)");
	/* a short buffer is cut, not overrun */
	char small[8];
	cr_expect_str_eq(tls_version_name(0xfb1a, small, sizeof small), "TLS 1.3");
}

/* Alerts (RFC 8446 §6): close_notify and fatal alerts end their sender's
 * side, warnings do not; an alert record split byte by byte reads the
 * same; one before the first FIN or RST begins the close, one after it
 * does not (the TLS facts keep it either way). */
static void alert_conn(const uint8_t *alert, size_t alen, size_t piece, bool fin_first)
{
	memset(&last, 0, sizeof last);
	/* A handshake record (the probe's evidence; its message is not a
	 * hello: a finding, not what this is about). */
	static const uint8_t hs[] = { 22, 3, 1, 0, 4, 20, 0, 0, 0 };
	tu_conn_start(&C, 443, NULL, on_done, NULL);
	tu_conn_send(&C, KL_TO_SERVER, hs, sizeof hs, 0);
	tu_conn_send(&C, KL_TO_CLIENT, hs, sizeof hs, 0);
	if (fin_first)
		tu_conn_fin(&C, KL_TO_CLIENT);
	tu_conn_send(&C, KL_TO_SERVER, alert, alen, piece);
	if (!fin_first)
		tu_conn_fin(&C, KL_TO_CLIENT);
	tu_conn_fin(&C, KL_TO_SERVER);
	tu_conn_end(&C);
	cr_assert(last.tls);
}

Test(tls, alerts_and_who_began_the_close)
{
	static const uint8_t close_notify[] = { 21, 3, 3, 0, 2, 1, 0 };
	static const uint8_t warning[] = { 21, 3, 3, 0, 2, 1, 90 };        /* user_canceled */
	static const uint8_t fatal[] = { 21, 3, 3, 0, 2, 2, 40 };          /* handshake_failure */
	static const uint8_t unnamed[] = { 21, 3, 3, 0, 2, 2, 222 };
	static const uint8_t warn_then_close[] = { 21, 3, 3, 0, 2, 1, 90, 21, 3, 3, 0, 2, 1, 0 };
	static const uint8_t two_in_one[] = { 21, 3, 3, 0, 4, 1, 0, 1, 0 };
	static const uint8_t short_alert[] = { 21, 3, 3, 0, 1, 1 };
	static const uint8_t empty_alert[] = { 21, 3, 3, 0, 0 };
	static const struct {
		const char *what;
		const uint8_t *p;
		size_t n;
		int alert;                /* the close alert; -2: none */
	} cases[] = {
		{ "close_notify", close_notify, sizeof close_notify, 0 },
		{ "a warning", warning, sizeof warning, -2 },
		{ "a fatal alert", fatal, sizeof fatal, 40 },
		{ "a fatal alert with no name", unnamed, sizeof unnamed, 222 },
		{ "a warning, then close_notify", warn_then_close, sizeof warn_then_close, 0 },
		{ "two alerts in one record", two_in_one, sizeof two_in_one, 0 },
		{ "a 1-byte alert record", short_alert, sizeof short_alert, -2 },
		{ "an empty alert record", empty_alert, sizeof empty_alert, -2 },
	};
	for (size_t i = 0; i < KL_ARRAY_LEN(cases); i++) {
		for (size_t piece = 0; piece < 2; piece++) {
			alert_conn(cases[i].p, cases[i].n, piece, false);
			bool closing = cases[i].alert != -2;
			cr_expect_eq(last.f.close_by, closing ? CONN_CLOSER_CLIENT : CONN_CLOSER_NONE,
				     "%s, piece %zu", cases[i].what, piece);
			if (closing)
				cr_expect_eq(last.f.close_alert, cases[i].alert, "%s", cases[i].what);
			cr_expect_eq(last.tcp_close_initiator, CONN_CLOSER_SERVER, "%s", cases[i].what);
			cr_expect_eq(last.close_initiator, closing ? CONN_CLOSER_CLIENT : CONN_CLOSER_SERVER,
				     "%s, piece %zu", cases[i].what, piece);
			cr_expect_eq(last.close_notice != NULL, closing, "%s", cases[i].what);
		}
	}
	/* After the server's FIN, the client's close_notify is only a fact. */
	alert_conn(close_notify, sizeof close_notify, 0, true);
	cr_expect_eq(last.f.close_by, CONN_CLOSER_CLIENT);
	cr_expect_eq(last.close_initiator, CONN_CLOSER_SERVER);
	cr_expect_null(last.close_notice);
	cr_expect_str_eq(tls_alert_name(0), "close_notify");
	cr_expect_str_eq(tls_alert_name(48), "unknown_ca");
	cr_expect_null(tls_alert_name(1));
}

/* Recorded connections played byte by byte: the closing alert is found
 * the same (TLS 1.2: an Encrypted Alert; TLS 1.3: the protected record
 * as long as one alert), from the client, as tshark decrypts it. */
Test(tls, closing_alert_of_recorded_connections_bytewise, .timeout = 120)
{
	for (size_t i = 0; i < 2; i++) {
		const struct tls_case *k = &CASES[i];
		struct conv cv;
		conv_load(&cv, k->capture, k->client_port);
		for (size_t piece = 0; piece < 2; piece++) {
			struct play pl = { .piece = piece };
			play(&cv, &pl);
			cr_expect_eq(last.f.close_by, CONN_CLOSER_CLIENT, "%s piece %zu", k->capture, piece);
			cr_expect_eq(last.f.close_alert, -1, "%s", k->capture);
		}
		conv_free(&cv);
	}
}
