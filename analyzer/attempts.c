/*
 * attempts.c - see attempts.h.
 *
 * The sums are an array in arrival order, found through an open-addressing
 * index of twice as many slots (entry + 1; 0 empty) hashed with a random
 * seed, since addresses in a flood are the sender's choice.  Nothing is
 * allocated after attempts_new(); draining clears the index.
 */
#include "attempts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct attempts {
	struct attempt_record *sums;
	uint32_t n, max;
	uint32_t *index;
	uint32_t mask;
	uint64_t seed;
};

struct attempts *attempts_new(uint32_t max_keys)
{
	if (max_keys == 0 || max_keys > (1u << 30))
		return NULL;
	struct attempts *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	uint32_t slots = 2;
	while (slots < 2 * max_keys)
		slots *= 2;
	a->max = max_keys;
	a->mask = slots - 1;
	a->sums = malloc(max_keys * sizeof *a->sums);
	a->index = calloc(slots, sizeof *a->index);
	if (!a->sums || !a->index) {
		attempts_free(a);
		return NULL;
	}
	if (getrandom(&a->seed, sizeof a->seed, GRND_NONBLOCK) != (ssize_t)sizeof a->seed)
		a->seed = (uint64_t)(uintptr_t)a ^ UINT64_C(0x9E3779B97F4A7C15);
	return a;
}

void attempts_free(struct attempts *a)
{
	if (!a)
		return;
	free(a->sums);
	free(a->index);
	free(a);
}

static uint32_t key_hash(const struct attempts *a, const struct attempt_record *r)
{
	uint64_t w[4];
	memcpy(&w[0], r->client_ip, 16);
	memcpy(&w[2], r->server_ip, 16);
	uint64_t h = a->seed ^ ((uint64_t)r->server_port << 8 | r->ip_version);
	for (int i = 0; i < 4; i++) {
		h = (h ^ w[i]) * UINT64_C(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static bool same_key(const struct attempt_record *s, const struct attempt_record *r)
{
	return s->server_port == r->server_port && s->ip_version == r->ip_version &&
	       memcmp(s->client_ip, r->client_ip, 16) == 0 &&
	       memcmp(s->server_ip, r->server_ip, 16) == 0;
}

bool attempts_merge(struct attempts *a, const struct attempt_record *r)
{
	uint32_t i = key_hash(a, r) & a->mask;
	struct attempt_record *s = NULL;
	for (uint32_t v; (v = a->index[i]) != 0; i = (i + 1) & a->mask) {
		if (same_key(&a->sums[v - 1], r)) {
			s = &a->sums[v - 1];
			break;
		}
	}
	if (!s) {
		if (a->n == a->max)
			return true;          /* the owner did not drain: not counted */
		s = &a->sums[a->n++];
		a->index[i] = a->n;
		*s = *r;
		return a->n == a->max;
	}
	s->attempts += r->attempts;
	s->syn_packets += r->syn_packets;
	if (r->first_seen < s->first_seen)
		s->first_seen = r->first_seen;
	if (r->last_seen > s->last_seen)
		s->last_seen = r->last_seen;
	return a->n == a->max;
}

bool attempts_add(struct attempts *a, const struct conn_record *rec)
{
	struct attempt_record r = {
		.ip_version = rec->ip_version, .server_port = rec->server_port,
		.attempts = 1, .syn_packets = rec->packets[KL_TO_SERVER],
		.first_seen = rec->first_seen, .last_seen = rec->last_seen,
	};
	memcpy(r.client_ip, rec->client_ip, 16);
	memcpy(r.server_ip, rec->server_ip, 16);
	return attempts_merge(a, &r);
}

size_t attempts_drain(struct attempts *a,
		      void (*emit)(void *ctx, const struct attempt_record *r), void *ctx)
{
	size_t n = a->n;
	for (uint32_t k = 0; k < a->n; k++)
		emit(ctx, &a->sums[k]);
	if (a->n)
		memset(a->index, 0, ((size_t)a->mask + 1) * sizeof *a->index);
	a->n = 0;
	return n;
}
