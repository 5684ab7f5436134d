/*
 * tls_crypto.c - see tls_crypto.h.
 *
 * Per record nothing is allocated: each direction keeps one cipher context
 * (and for CBC one MAC context) keyed once, and a record only sets its
 * nonce or IV.  Timing does not matter to a passive reader, so padding and
 * MAC checks are plain comparisons.
 */
#include "tls_crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "kl.h"

static const struct tls_suite SUITES[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", TLS_AES_GCM, 16, "SHA256", NULL, true },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", TLS_AES_GCM, 32, "SHA384", NULL, true },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", TLS_CHACHA20_POLY1305, 32, "SHA256", NULL, true },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", TLS_AES_GCM, 16, "SHA256", NULL, false },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", TLS_AES_GCM, 32, "SHA384", NULL, false },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", TLS_AES_GCM, 16, "SHA256", NULL, false },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TLS_AES_GCM, 32, "SHA384", NULL, false },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TLS_AES_GCM, 16, "SHA256", NULL, false },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TLS_AES_GCM, 32, "SHA384", NULL, false },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TLS_AES_GCM, 16, "SHA256", NULL, false },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TLS_AES_GCM, 32, "SHA384", NULL, false },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_CHACHA20_POLY1305, 32, "SHA256", NULL, false },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", TLS_CHACHA20_POLY1305, 32, "SHA256", NULL, false },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TLS_CHACHA20_POLY1305, 32, "SHA256", NULL, false },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", TLS_AES_CBC, 16, "SHA256", "SHA1", false },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", TLS_AES_CBC, 32, "SHA256", "SHA1", false },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", TLS_AES_CBC, 16, "SHA256", "SHA1", false },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", TLS_AES_CBC, 32, "SHA256", "SHA1", false },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", TLS_AES_CBC, 16, "SHA256", "SHA256", false },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", TLS_AES_CBC, 32, "SHA256", "SHA256", false },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", TLS_AES_CBC, 16, "SHA256", "SHA256", false },
	{ 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", TLS_AES_CBC, 32, "SHA256", "SHA256", false },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", TLS_AES_CBC, 16, "SHA256", "SHA1", false },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", TLS_AES_CBC, 32, "SHA256", "SHA1", false },
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TLS_AES_CBC, 16, "SHA256", "SHA1", false },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", TLS_AES_CBC, 32, "SHA256", "SHA1", false },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", TLS_AES_CBC, 16, "SHA256", "SHA256", false },
	{ 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", TLS_AES_CBC, 32, "SHA384", "SHA384", false },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", TLS_AES_CBC, 16, "SHA256", "SHA256", false },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", TLS_AES_CBC, 32, "SHA384", "SHA384", false },
};

const struct tls_suite *tls_suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++)
		if (SUITES[i].id == id)
			return &SUITES[i];
	return NULL;
}

#define TAG_LEN 16
#define CBC_BLOCK 16
#define MAX_HASH 48

struct tls_recprot {
	const struct tls_suite *suite;
	uint16_t version;             /* 0x0301..0x0304 */
	bool etm;
	uint64_t seq;
	EVP_CIPHER_CTX *cipher;       /* keyed once; per record only the IV */
	EVP_MAC_CTX *mac;             /* CBC: HMAC keyed with the MAC secret */
	size_t mac_len;
	uint8_t iv[12];               /* AEAD: the fixed part (4 GCM in TLS 1.2, else 12) */
	uint8_t cbc_iv[CBC_BLOCK];    /* TLS 1.0: the chained IV */
	bool cbc_iv_lost;
	uint8_t secret[MAX_HASH];     /* TLS 1.3: this generation's traffic secret */
	size_t secret_len;
};

static const EVP_CIPHER *suite_cipher(const struct tls_suite *s)
{
	switch (s->kind) {
	case TLS_AES_GCM:
		return s->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
	case TLS_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	case TLS_AES_CBC:
		return s->key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
	}
	return NULL;
}

size_t tls_recprot_mem(const struct tls_recprot *p)
{
	return p ? kl_heap_bytes(sizeof *p) + TLS_RECPROT_OPENSSL_BYTES : 0;
}

void tls_recprot_free(struct tls_recprot *p)
{
	if (!p)
		return;
	EVP_CIPHER_CTX_free(p->cipher);
	EVP_MAC_CTX_free(p->mac);
	OPENSSL_cleanse(p, sizeof *p);
	free(p);
}

/* Key the cipher context (and the MAC for CBC). */
static struct tls_recprot *recprot_new(const struct tls_suite *s, uint16_t version, bool etm,
				       const uint8_t *key, const uint8_t *mac_key, size_t mac_len)
{
	struct tls_recprot *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->suite = s;
	p->version = version;
	p->etm = etm;
	p->mac_len = mac_len;
	p->cipher = EVP_CIPHER_CTX_new();
	if (!p->cipher || !EVP_DecryptInit_ex(p->cipher, suite_cipher(s), NULL, key, NULL))
		goto fail;
	if (s->kind == TLS_AES_CBC) {
		EVP_CIPHER_CTX_set_padding(p->cipher, 0);
		EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (!hmac)
			goto fail;
		p->mac = EVP_MAC_CTX_new(hmac);
		EVP_MAC_free(hmac);
		OSSL_PARAM prm[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 (char *)s->mac_hash, 0),
			OSSL_PARAM_construct_end(),
		};
		if (!p->mac || !EVP_MAC_init(p->mac, mac_key, mac_len, prm))
			goto fail;
	}
	return p;
fail:
	tls_recprot_free(p);
	return NULL;
}

static size_t hash_len(const char *name)
{
	return strcmp(name, "SHA384") == 0 ? 48 : strcmp(name, "SHA1") == 0 ? 20 : 32;
}

/* ---- TLS 1.0-1.2 ----------------------------------------------------------- */

/* key_block = PRF(master, "key expansion", server_random + client_random),
 * RFC 5246 §6.3; TLS 1.0 and 1.1 use the MD5/SHA-1 PRF (RFC 2246 §5). */
static int tls12_key_block(const char *digest, const uint8_t *master, size_t mlen,
			   const uint8_t cr[32], const uint8_t sr[32], uint8_t *out, size_t n)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	if (!kdf)
		return -1;
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kc)
		return -1;
	static const char label[] = "key expansion";
	uint8_t seed[sizeof label - 1 + 64];
	memcpy(seed, label, sizeof label - 1);
	memcpy(seed + sizeof label - 1, sr, 32);
	memcpy(seed + sizeof label - 1 + 32, cr, 32);
	OSSL_PARAM prm[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, mlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
		OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(kc, out, n, prm);
	EVP_KDF_CTX_free(kc);
	return ok > 0 ? 0 : -1;
}

int tls12_recprot_new(const struct tls_suite *s, uint16_t version, bool etm,
		      const uint8_t *master, size_t master_len, const uint8_t client_random[32],
		      const uint8_t server_random[32], struct tls_recprot **client,
		      struct tls_recprot **server)
{
	*client = *server = NULL;
	if (!s || s->tls13 || version < 0x0301 || version > 0x0303 || master_len != 48)
		return -1;
	/* AEAD suites are TLS 1.2 only (RFC 5288, RFC 7905). */
	if (s->kind != TLS_AES_CBC && version != 0x0303)
		return -1;
	size_t mac = s->kind == TLS_AES_CBC ? hash_len(s->mac_hash) : 0;
	size_t iv = s->kind == TLS_AES_GCM ? 4 : s->kind == TLS_CHACHA20_POLY1305 ? 12 : CBC_BLOCK;
	uint8_t kb[2 * (MAX_HASH + 32 + CBC_BLOCK)];
	size_t need = 2 * (mac + s->key_len + iv);
	const char *prf = version == 0x0303 ? s->prf_hash : "MD5-SHA1";
	if (tls12_key_block(prf, master, master_len, client_random, server_random, kb, need))
		return -1;
	const uint8_t *cmac = kb, *smac = kb + mac, *ckey = kb + 2 * mac,
		      *skey = ckey + s->key_len, *civ = skey + s->key_len, *siv = civ + iv;
	*client = recprot_new(s, version, etm, ckey, cmac, mac);
	*server = recprot_new(s, version, etm, skey, smac, mac);
	int ret = 0;
	if (!*client || !*server) {
		tls_recprot_free(*client);
		tls_recprot_free(*server);
		*client = *server = NULL;
		ret = -1;
	} else if (s->kind == TLS_AES_CBC) {
		memcpy((*client)->cbc_iv, civ, CBC_BLOCK);
		memcpy((*server)->cbc_iv, siv, CBC_BLOCK);
	} else {
		memcpy((*client)->iv, civ, iv);
		memcpy((*server)->iv, siv, iv);
	}
	OPENSSL_cleanse(kb, sizeof kb);
	return ret;
}

/* ---- TLS 1.3 ------------------------------------------------------------- */

/* HKDF-Expand-Label(secret, label, "", n), RFC 8446 §7.1. */
static int hkdf_expand_label(const char *digest, const uint8_t *secret, size_t slen,
			     const char *label, uint8_t *out, size_t n)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t ll = 6 + strlen(label);
	if (ll > 255)
		return -1;
	info[0] = (uint8_t)(n >> 8);
	info[1] = (uint8_t)n;
	info[2] = (uint8_t)ll;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll - 6);
	info[3 + ll] = 0;                        /* empty context */
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -1;
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kc)
		return -1;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM prm[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 4 + ll),
		OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(kc, out, n, prm);
	EVP_KDF_CTX_free(kc);
	return ok > 0 ? 0 : -1;
}

/* Key and IV of the current secret, into a fresh or rekeyed context. */
static int tls13_key(struct tls_recprot *p)
{
	uint8_t key[32];
	const struct tls_suite *s = p->suite;
	if (hkdf_expand_label(s->prf_hash, p->secret, p->secret_len, "key", key, s->key_len) ||
	    hkdf_expand_label(s->prf_hash, p->secret, p->secret_len, "iv", p->iv, 12))
		return -1;
	int ok = EVP_DecryptInit_ex(p->cipher, NULL, NULL, key, NULL);
	OPENSSL_cleanse(key, sizeof key);
	p->seq = 0;
	return ok ? 0 : -1;
}

struct tls_recprot *tls13_recprot_new(const struct tls_suite *s, const uint8_t *secret,
				      size_t len)
{
	if (!s || !s->tls13 || len != hash_len(s->prf_hash))
		return NULL;
	static const uint8_t zero[32];
	struct tls_recprot *p = recprot_new(s, 0x0304, false, zero, NULL, 0);
	if (!p)
		return NULL;
	memcpy(p->secret, secret, len);
	p->secret_len = len;
	if (tls13_key(p)) {
		tls_recprot_free(p);
		return NULL;
	}
	return p;
}

int tls13_recprot_update(struct tls_recprot *p)
{
	if (p->version != 0x0304)
		return -1;
	uint8_t next[MAX_HASH];
	if (hkdf_expand_label(p->suite->prf_hash, p->secret, p->secret_len, "traffic upd", next,
			      p->secret_len))
		return -1;
	memcpy(p->secret, next, p->secret_len);
	OPENSSL_cleanse(next, sizeof next);
	return tls13_key(p);
}

struct tls_recprot *tls13_recprot_next(const struct tls_recprot *p)
{
	if (p->version != 0x0304)
		return NULL;
	uint8_t next[MAX_HASH];
	if (hkdf_expand_label(p->suite->prf_hash, p->secret, p->secret_len, "traffic upd", next,
			      p->secret_len))
		return NULL;
	struct tls_recprot *q = tls13_recprot_new(p->suite, next, p->secret_len);
	OPENSSL_cleanse(next, sizeof next);
	return q;
}

/* ---- records ------------------------------------------------------------- */

static void put_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

/* The AEAD nonce: the IV XOR the sequence number, left-padded (RFC 8446
 * §5.3, RFC 7905 §2). */
static void xor_nonce(const struct tls_recprot *p, uint8_t nonce[12])
{
	uint8_t s[8];
	put_be64(s, p->seq);
	memcpy(nonce, p->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
}

static long aead_open(struct tls_recprot *p, const uint8_t nonce[12], const uint8_t *aad,
		      size_t aad_len, const uint8_t *ct, size_t n, const uint8_t *tag, uint8_t *out)
{
	uint8_t t[TAG_LEN];
	memcpy(t, tag, TAG_LEN);
	int l1 = 0, l2 = 0, l3 = 0;
	if (n > (size_t)INT32_MAX ||
	    !EVP_DecryptInit_ex(p->cipher, NULL, NULL, NULL, nonce) ||
	    !EVP_DecryptUpdate(p->cipher, NULL, &l1, aad, (int)aad_len) ||
	    !EVP_DecryptUpdate(p->cipher, out, &l2, ct, (int)n) ||
	    !EVP_CIPHER_CTX_ctrl(p->cipher, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, t) ||
	    EVP_DecryptFinal_ex(p->cipher, out + l2, &l3) <= 0)
		return -1;
	return (long)l2 + l3;
}

/* seq || type || version || length: what TLS 1.2 authenticates besides
 * the content (RFC 5246 §6.2.3). */
static void tls12_aad(const struct tls_recprot *p, const uint8_t hdr[5], size_t len,
		      uint8_t aad[13])
{
	put_be64(aad, p->seq);
	aad[8] = hdr[0];
	aad[9] = hdr[1];
	aad[10] = hdr[2];
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

static bool hmac_ok(struct tls_recprot *p, const uint8_t aad[13], const uint8_t *a, size_t an,
		    const uint8_t *b, size_t bn, const uint8_t *want)
{
	uint8_t got[EVP_MAX_MD_SIZE];
	size_t gl = 0;
	if (!EVP_MAC_init(p->mac, NULL, 0, NULL) || !EVP_MAC_update(p->mac, aad, 13) ||
	    (an && !EVP_MAC_update(p->mac, a, an)) || (bn && !EVP_MAC_update(p->mac, b, bn)) ||
	    !EVP_MAC_final(p->mac, got, &gl, sizeof got) || gl != p->mac_len)
		return false;
	return memcmp(got, want, gl) == 0;
}

static long cbc_open_chained(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body,
			     size_t n, uint8_t *out);

/* TLS 1.0 chains each record's IV to the last ciphertext block of the one
 * before: after a record that did not open, that block cannot be trusted
 * (with encrypt-then-MAC the next record would authenticate and still
 * decrypt wrong), so the next record is given up too and only sets the IV. */
static long cbc_open(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body, size_t n,
		     uint8_t *out)
{
	bool was_lost = p->cbc_iv_lost;
	long m = cbc_open_chained(p, hdr, body, n, out);
	if (m < 0 && p->version < 0x0302 && !was_lost)
		p->cbc_iv_lost = true;
	return m;
}

static long cbc_open_chained(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body,
			     size_t n, uint8_t *out)
{
	size_t explicit_iv = p->version >= 0x0302 ? CBC_BLOCK : 0;
	uint8_t aad[13];
	const uint8_t *iv = explicit_iv ? body : p->cbc_iv;
	if (p->etm) {
		/* RFC 7366: the MAC covers IV and ciphertext, and follows them. */
		if (n < explicit_iv + CBC_BLOCK + p->mac_len)
			return -1;
		size_t cn = n - p->mac_len;
		tls12_aad(p, hdr, cn, aad);
		if (!hmac_ok(p, aad, body, cn, NULL, 0, body + cn))
			return -1;
		n = cn;
	}
	if (n < explicit_iv + CBC_BLOCK || (n - explicit_iv) % CBC_BLOCK)
		return -1;
	const uint8_t *ct = body + explicit_iv;
	size_t cn = n - explicit_iv;
	if (!explicit_iv && p->cbc_iv_lost) {
		/* This record's IV went with the lost one; the next has its own. */
		memcpy(p->cbc_iv, ct + cn - CBC_BLOCK, CBC_BLOCK);
		p->cbc_iv_lost = false;
		return -1;
	}
	int l1 = 0;
	if (cn > (size_t)INT32_MAX || !EVP_DecryptInit_ex(p->cipher, NULL, NULL, NULL, iv) ||
	    !EVP_DecryptUpdate(p->cipher, out, &l1, ct, (int)cn) || (size_t)l1 != cn)
		return -1;
	if (!explicit_iv)
		memcpy(p->cbc_iv, ct + cn - CBC_BLOCK, CBC_BLOCK);
	size_t pad = out[cn - 1];
	size_t mac = p->etm ? 0 : p->mac_len;
	if (pad + 1 + mac > cn)
		return -1;
	for (size_t i = cn - 1 - pad; i < cn - 1; i++)
		if (out[i] != pad)
			return -1;
	size_t len = cn - pad - 1 - mac;
	if (!p->etm) {
		tls12_aad(p, hdr, len, aad);
		if (!hmac_ok(p, aad, out, len, NULL, 0, out + len))
			return -1;
	}
	return (long)len;
}

static long open_record(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body,
			size_t n, uint8_t *out, uint8_t *type)
{
	*type = hdr[0];
	uint8_t nonce[12], aad[13];
	if (p->version == 0x0304) {
		if (n < TAG_LEN + 1)
			return -1;
		xor_nonce(p, nonce);
		long m = aead_open(p, nonce, hdr, 5, body, n - TAG_LEN, body + n - TAG_LEN, out);
		/* TLSInnerPlaintext: content, type, zero padding (§5.2). */
		while (m > 0 && out[m - 1] == 0)
			m--;
		if (m <= 0)
			return -1;
		*type = out[--m];
		return m;
	}
	switch (p->suite->kind) {
	case TLS_AES_GCM:
		/* RFC 5288: an 8-byte explicit nonce precedes the ciphertext. */
		if (n < 8 + TAG_LEN)
			return -1;
		memcpy(nonce, p->iv, 4);
		memcpy(nonce + 4, body, 8);
		tls12_aad(p, hdr, n - 8 - TAG_LEN, aad);
		return aead_open(p, nonce, aad, 13, body + 8, n - 8 - TAG_LEN, body + n - TAG_LEN,
				 out);
	case TLS_CHACHA20_POLY1305:
		if (n < TAG_LEN)
			return -1;
		xor_nonce(p, nonce);
		tls12_aad(p, hdr, n - TAG_LEN, aad);
		return aead_open(p, nonce, aad, 13, body, n - TAG_LEN, body + n - TAG_LEN, out);
	case TLS_AES_CBC:
		return cbc_open(p, hdr, body, n, out);
	}
	return -1;
}

long tls_recprot_open(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body, size_t n,
		      uint8_t *out, uint8_t *type)
{
	long m = open_record(p, hdr, body, n, out, type);
	p->seq++;
	return m;
}

long tls_recprot_trial(struct tls_recprot *p, const uint8_t hdr[5], const uint8_t *body,
		       size_t n, uint8_t *out, uint8_t *type)
{
	uint8_t iv[CBC_BLOCK];
	bool lost = p->cbc_iv_lost;
	memcpy(iv, p->cbc_iv, sizeof iv);
	long m = open_record(p, hdr, body, n, out, type);
	if (m < 0) {
		memcpy(p->cbc_iv, iv, sizeof iv);
		p->cbc_iv_lost = lost;
		return -1;
	}
	p->seq++;
	return m;
}

void tls_recprot_skip(struct tls_recprot *p)
{
	p->seq++;
	p->cbc_iv_lost = true;
}

size_t tls_recprot_overhead(const struct tls_recprot *p)
{
	if (p->version == 0x0304)
		return TAG_LEN + 1;
	switch (p->suite->kind) {
	case TLS_AES_GCM:
		return 8 + TAG_LEN;
	case TLS_CHACHA20_POLY1305:
		return TAG_LEN;
	case TLS_AES_CBC:
		return (p->version >= 0x0302 ? CBC_BLOCK : 0) + p->mac_len + 1;
	}
	return 0;
}
