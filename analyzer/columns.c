/*
 * columns.c - what every store and the docs share of the declarations.
 */
#include "columns.h"

#include <string.h>

const struct column *column_find(const struct column_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->cols[i].name, name))
			return &list->cols[i];
	return NULL;
}

const char *col_type_name(enum col_type t)
{
	switch (t) {
	case COL_INTEGER: return "INTEGER";
	case COL_REAL: return "REAL";
	case COL_TEXT: return "TEXT";
	}
	return "?";
}

void columns_markdown(const struct table_decl *t, FILE *out)
{
	fputs("| column | type | unit | meaning | NULL means |\n|---|---|---|---|---|\n", out);
	for (size_t p = 0; p < t->nparts; p++) {
		for (size_t i = 0; i < t->parts[p].n; i++) {
			const struct column *c = &t->parts[p].cols[i];
			bool never = c->flags & (COL_NOT_NULL | COL_KEY | COL_RUN);
			fprintf(out, "| `%s` | %s | %s%s| %s | %s |\n", c->name, col_type_name(c->type),
				c->unit, *c->unit ? " " : "", c->meaning,
				never ? "never NULL" : c->null_means);
		}
	}
}
