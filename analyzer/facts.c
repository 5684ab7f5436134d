/*
 * facts.c - the registry of fact sections and the per-connection set.
 */
#include "facts.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FACTS_EXTERN_(id, section) extern const struct fact_section section;
FACT_SECTIONS(FACTS_EXTERN_)
#undef FACTS_EXTERN_

static const struct fact_section *const sections[FACTS_COUNT] = {
#define FACTS_PTR_(id, section) [FACTS_##id] = &section,
	FACT_SECTIONS(FACTS_PTR_)
#undef FACTS_PTR_
};

const struct fact_section *facts_section(enum facts_id id)
{
	return (unsigned)id < FACTS_COUNT ? sections[id] : NULL;
}

struct facts_set {
	bool present[FACTS_COUNT];
	void *rec[FACTS_COUNT];       /* max_align_t-aligned, in one allocation */
};

struct facts_set *facts_set_new(void)
{
	size_t off[FACTS_COUNT], total = 0, a = alignof(max_align_t);
	for (int i = 0; i < FACTS_COUNT; i++) {
		off[i] = total;
		total += (sections[i]->size + a - 1) / a * a;
	}
	struct facts_set *s = calloc(1, sizeof *s);
	uint8_t *mem = s ? calloc(1, total ? total : 1) : NULL;
	if (!mem) {
		free(s);
		return NULL;
	}
	for (int i = 0; i < FACTS_COUNT; i++)
		s->rec[i] = mem + off[i];
	return s;
}

void facts_set_free(struct facts_set *s)
{
	if (!s)
		return;
	free(s->rec[0]);
	free(s);
}

void facts_set_clear(struct facts_set *s)
{
	memset(s->present, 0, sizeof s->present);
}

void *facts_set_get(struct facts_set *s, enum facts_id id)
{
	if (!s->present[id]) {
		memset(s->rec[id], 0, sections[id]->size);
		if (sections[id]->init)
			sections[id]->init(s->rec[id]);
		s->present[id] = true;
	}
	return s->rec[id];
}

void *facts_set_find(const struct facts_set *s, enum facts_id id)
{
	return s->present[id] ? s->rec[id] : NULL;
}
