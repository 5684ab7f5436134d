/*
 * encap.c - tunnel identities numbered once (encap.h), and the tunnel
 * columns of `connections`.
 *
 * Two interning tables of the same shape: exact identities and domains,
 * each a grown array of fixed-size keys with an open-addressing index of
 * seeded hashes (crafted identities cannot be made to collide).  A packet
 * in a tunnel usually follows one in the same tunnel: the last exact
 * identity is remembered, so most packets cost one memcmp here.
 */
#include "encap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conn_record.h"

/* An identity as a key: zero padded, compared with memcmp. */
struct ident {
	uint8_t kinds[DECODE_MAX_ENCAP];
	uint8_t depth, outer_version, has_id, pad;
	uint32_t id;
	uint8_t a[16], b[16];
	uint32_t pad2;
};

struct intern {
	struct ident *keys;           /* [0, n): number i + 1 */
	uint32_t *domain;             /* exact table only: each entry's domain */
	uint32_t n, cap;
	uint32_t *slots;              /* number, 0 = empty */
	uint32_t mask;
};

struct encap_table {
	uint32_t max;
	uint64_t seed;
	struct intern exact, domains;
	struct decode_encap *encaps;  /* exact table: as decoded, for encap_table_get */
	struct decode_encap last;     /* the last identity looked up, and its answer */
	uint32_t last_number, last_domain;
	uint64_t overflows;
};

/* Same identity?  Field by field: what lies past depth is not set. */
static bool encap_same(const struct decode_encap *a, const struct decode_encap *b)
{
	if (a->depth != b->depth || a->has_id != b->has_id || a->id != b->id ||
	    a->outer_version != b->outer_version)
		return false;
	for (unsigned i = 0; i < a->depth; i++)
		if (a->kinds[i] != b->kinds[i])
			return false;
	return memcmp(a->outer_src, b->outer_src, 16) == 0 &&
	       memcmp(a->outer_dst, b->outer_dst, 16) == 0;
}

static uint64_t ident_mix(const struct ident *k, uint64_t seed)
{
	uint64_t w[sizeof *k / 8];
	memcpy(w, k, sizeof w);
	uint64_t h = seed;
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		h ^= w[i];
		h *= UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	return h;
}

static uint32_t ident_hash(const struct ident *k, uint64_t seed)
{
	uint64_t h = ident_mix(k, seed);
	return (uint32_t)(h ^ (h >> 32));
}

static void ident_exact(struct ident *k, const struct decode_encap *e)
{
	memset(k, 0, sizeof *k);
	memcpy(k->kinds, e->kinds, e->depth < DECODE_MAX_ENCAP ? e->depth : DECODE_MAX_ENCAP);
	k->depth = e->depth;
	k->outer_version = e->outer_version;
	k->has_id = e->has_id;
	k->id = e->id;
	memcpy(k->a, e->outer_src, 16);
	memcpy(k->b, e->outer_dst, 16);
}

/* Both directions of one tunnel: addresses in order, no per-direction id. */
static void ident_domain(struct ident *d, const struct ident *k)
{
	*d = *k;
	if (k->depth > 0 && k->kinds[k->depth - 1] == ENCAP_GTPU) {
		d->has_id = 0;
		d->id = 0;
	}
	if (memcmp(d->a, d->b, 16) > 0) {
		memcpy(d->a, k->b, 16);
		memcpy(d->b, k->a, 16);
	}
}

static bool intern_index(struct intern *in, uint32_t nslots, uint64_t seed)
{
	uint32_t *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return false;
	uint32_t mask = nslots - 1;
	for (uint32_t i = 0; i < in->n; i++) {
		uint32_t j = ident_hash(&in->keys[i], seed) & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = i + 1;
	}
	free(in->slots);
	in->slots = slots;
	in->mask = mask;
	return true;
}

/* The number of k in `in`; *fresh says it was just added.  0 when it is
 * not there and cannot be added (full, or out of memory). */
static uint32_t intern(struct encap_table *t, struct intern *in, const struct ident *k,
		       bool *fresh)
{
	*fresh = false;
	uint32_t h = ident_hash(k, t->seed);
	uint32_t i = h & in->mask;
	for (uint32_t v; (v = in->slots[i]) != 0; i = (i + 1) & in->mask)
		if (memcmp(&in->keys[v - 1], k, sizeof *k) == 0)
			return v;
	if (in->n >= t->max)
		return 0;
	if (in->n == in->cap) {
		uint32_t cap = in->cap * 2;
		struct ident *keys = realloc(in->keys, cap * sizeof *keys);
		if (!keys)
			return 0;
		in->keys = keys;
		if (in == &t->exact) {
			uint32_t *dom = realloc(in->domain, cap * sizeof *dom);
			struct decode_encap *enc = dom ? realloc(t->encaps, cap * sizeof *enc) : NULL;
			if (dom)
				in->domain = dom;
			if (enc)
				t->encaps = enc;
			if (!dom || !enc)
				return 0;
		}
		in->cap = cap;
	}
	in->keys[in->n++] = *k;
	*fresh = true;
	/* Keep the index at most half full; a new index holds every key. */
	if ((uint64_t)in->n * 2 > (uint64_t)in->mask + 1) {
		if (!intern_index(in, (in->mask + 1) * 2, t->seed)) {
			in->n--;
			*fresh = false;
			return 0;
		}
		return in->n;
	}
	i = h & in->mask;
	while (in->slots[i])
		i = (i + 1) & in->mask;
	in->slots[i] = in->n;
	return in->n;
}

static bool intern_init(struct intern *in, bool exact)
{
	in->cap = 64;
	in->keys = malloc(in->cap * sizeof *in->keys);
	in->domain = exact ? malloc(in->cap * sizeof *in->domain) : NULL;
	in->slots = calloc(256, sizeof *in->slots);
	in->mask = 255;
	return in->keys && in->slots && (!exact || in->domain);
}

static void intern_free(struct intern *in)
{
	free(in->keys);
	free(in->domain);
	free(in->slots);
}

struct encap_table *encap_table_new(uint32_t max)
{
	struct encap_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->max = max < 1 ? 1 : max > ENCAP_TABLE_MAX ? ENCAP_TABLE_MAX : max;
	if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
		t->seed = (uint64_t)(uintptr_t)t ^ UINT64_C(0x2545F4914F6CDD1D);
	t->encaps = malloc(64 * sizeof *t->encaps);
	if (!t->encaps || !intern_init(&t->exact, true) || !intern_init(&t->domains, false)) {
		encap_table_free(t);
		return NULL;
	}
	return t;
}

void encap_table_free(struct encap_table *t)
{
	if (!t)
		return;
	intern_free(&t->exact);
	intern_free(&t->domains);
	free(t->encaps);
	free(t);
}

uint32_t encap_table_number(struct encap_table *t, const struct decode_encap *e,
			    uint32_t *domain)
{
	if (e->depth == 0) {
		*domain = ENCAP_DOMAIN_NONE;
		return 0;
	}
	if (t->last_number && encap_same(e, &t->last)) {
		*domain = t->last_domain;
		return t->last_number;
	}
	struct ident k;
	ident_exact(&k, e);
	bool fresh;
	uint32_t n = intern(t, &t->exact, &k, &fresh);
	if (fresh) {
		struct ident d;
		ident_domain(&d, &k);
		bool dfresh;
		uint32_t dn = intern(t, &t->domains, &d, &dfresh);
		/* The domain table holds at most as many as the exact one. */
		t->exact.domain[n - 1] = dn ? dn : ENCAP_DOMAIN_OVERFLOW;
		t->encaps[n - 1] = *e;
	}
	if (n == 0) {
		t->overflows++;
		*domain = ENCAP_DOMAIN_OVERFLOW;
		return ENCAP_NUMBER_OVERFLOW;
	}
	t->last = *e;
	t->last_number = n;
	t->last_domain = t->exact.domain[n - 1];
	*domain = t->last_domain;
	return n;
}

const struct decode_encap *encap_table_get(const struct encap_table *t, uint32_t n)
{
	if (n == 0 || n > t->exact.n)
		return NULL;
	return &t->encaps[n - 1];
}

uint64_t encap_identity_hash(const struct decode_encap *e)
{
	if (e->depth == 0)
		return 0;
	struct ident k;
	ident_exact(&k, e);
	return ident_mix(&k, UINT64_C(0xcbf29ce484222325)) | 1;
}

uint64_t encap_table_overflows(const struct encap_table *t)
{
	return t->overflows;
}

/* ---- the columns ----------------------------------------------------------- */

static const char *encap_chain(const struct decode_encap *e, char *buf, size_t len)
{
	if (e->depth == 0)
		return NULL;
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < e->depth && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%s", i ? " > " : "",
				 encap_kind_name((enum encap_kind)e->kinds[i]));
		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

static const char *encap_addr(const struct decode_encap *e, const uint8_t a[16], char *buf,
			      size_t len)
{
	return e->depth ? conn_ip_text(e->outer_version, a, buf, len) : NULL;
}

static struct col_value encap_id_value(const struct decode_encap *e)
{
	return e->depth && e->has_id ? cv_int(e->id) : cv_null();
}

#define ENCAP_DIR_COLUMNS(X, D, W, way) \
	X(encap_##D, TEXT, 0, NULL, "", \
	  "the tunnels the " way " packets came through, outermost first: `vxlan`, " \
	  "`geneve`, `gre`, `erspan-i`, `erspan-ii`, `erspan-iii`, `gtp-u`, `ipip`, joined " \
	  "by ` > ` when nested (`gre > vxlan`)", \
	  "not tunnelled (or no such packet)", \
	  cv_text_copy(encap_chain(&f->dir[W], buf, len))) \
	X(encap_id_##D, INTEGER, 0, NULL, "", \
	  "the innermost tunnel's identifier on the " way " packets: VXLAN or GENEVE VNI, " \
	  "GRE key, ERSPAN session id, GTP-U TEID", \
	  "not tunnelled, or a tunnel without one (IP-in-IP, GRE without a key)", \
	  encap_id_value(&f->dir[W])) \
	X(encap_src_##D, TEXT, 0, NULL, "", \
	  "outer source address of the innermost tunnel on the " way " packets", \
	  "not tunnelled", \
	  cv_text_copy(encap_addr(&f->dir[W], f->dir[W].outer_src, buf, len))) \
	X(encap_dst_##D, TEXT, 0, NULL, "", \
	  "outer destination address of the innermost tunnel on the " way " packets", \
	  "not tunnelled", \
	  cv_text_copy(encap_addr(&f->dir[W], f->dir[W].outer_dst, buf, len)))

#define ENCAP_COLUMNS(X) \
	ENCAP_DIR_COLUMNS(X, to_server, KL_TO_SERVER, "client's") \
	ENCAP_DIR_COLUMNS(X, to_client, KL_TO_CLIENT, "server's")

#define COLUMN_REC struct encap_facts
COLUMNS_DEFINE(ENCAP_COLUMNS, encap_columns)
#undef COLUMN_REC

const struct fact_section encap_facts_section = {
	.name = "encap",
	.size = sizeof(struct encap_facts),
	.init = NULL,
	.columns = COLUMN_LIST(encap_columns),
};
