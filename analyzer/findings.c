/*
 * findings.c - the finding kinds table, expanded from findings.h.
 */
#include "findings.h"

#include <string.h>

static const struct finding_kind_info kinds[FINDING_KIND_COUNT] = {
#define FINDING_INFO_(id, name, impact, doc, flags, meaning) \
	[FINDING_##id] = { name, FINDING_IMPACT_##impact, doc, FINDING_FLAG_##flags, meaning },
	FINDING_KINDS(FINDING_INFO_)
#undef FINDING_INFO_
};

const struct finding_kind_info *finding_kind(enum finding_kind k)
{
	return (unsigned)k < FINDING_KIND_COUNT ? &kinds[k] : NULL;
}

const char *finding_kind_name(enum finding_kind k)
{
	return (unsigned)k < FINDING_KIND_COUNT ? kinds[k].name : NULL;
}

bool finding_kind_lookup(const char *name, enum finding_kind *k)
{
	for (unsigned i = 0; name && i < FINDING_KIND_COUNT; i++) {
		if (!strcmp(kinds[i].name, name)) {
			*k = (enum finding_kind)i;
			return true;
		}
	}
	return false;
}

const char *finding_impact_name(enum finding_impact i)
{
	switch (i) {
	case FINDING_IMPACT_FAILURE: return "failure";
	case FINDING_IMPACT_WASTE: return "waste";
	case FINDING_IMPACT_INFO: return "info";
	}
	return NULL;
}

const char *finding_impact_heading(enum finding_impact i)
{
	switch (i) {
	case FINDING_IMPACT_FAILURE: return "requests that failed";
	case FINDING_IMPACT_WASTE: return "reuse thrown away";
	case FINDING_IMPACT_INFO: return "worth knowing";
	}
	return "other";
}
