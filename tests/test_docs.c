/*
 * test_docs.c - the documents say what the code declares.
 *
 * The finding kinds are declared once (analyzer/findings.h); the docs must
 * list each of them, in the document the registry names, and must not
 * list a kind the code does not know.  The stored columns are declared
 * once (columns.h); docs/schema.md's column tables must be made from them.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "findings.h"
#include "store.h"
#include "testutil.h"

/* The whole file, NUL-terminated; caller frees. */
static char *slurp(const char *rel)
{
	FILE *f = fopen(tu_src_path(rel), "rb");
	cr_assert(f, "cannot open %s", rel);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	cr_assert(s);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Does `doc` have a table row that starts with the cell `name`? */
static bool has_row(const char *doc, const char *name)
{
	char cell[96];
	snprintf(cell, sizeof cell, "\n| `%s` |", name);
	return strstr(doc, cell) != NULL;
}

Test(docs, every_finding_kind_is_documented_where_the_registry_says)
{
	char *schema = slurp("docs/schema.md");
	for (unsigned k = 0; k < FINDING_KIND_COUNT; k++) {
		const struct finding_kind_info *fi = finding_kind((enum finding_kind)k);
		cr_expect(has_row(schema, fi->name), "docs/schema.md has no row for finding %s",
			  fi->name);
		char *doc = slurp(fi->doc);
		char quoted[96];
		snprintf(quoted, sizeof quoted, "`%s`", fi->name);
		cr_expect(strstr(doc, quoted), "%s does not mention finding %s", fi->doc, fi->name);
		cr_expect(fi->meaning[0] && !strchr(fi->meaning, '\n'), "%s: one-line meaning",
			  fi->name);
		free(doc);
	}
	free(schema);
}

/* Rows of the `kind | when` tables of docs/schema.md name known kinds. */
Test(docs, schema_lists_no_unknown_finding_kind)
{
	char *schema = slurp("docs/schema.md");
	const char *at = strstr(schema, "\n| `kind` | when |");
	cr_assert(at, "docs/schema.md: no findings table");
	int rows = 0;
	for (; at; at = strstr(at + 1, "\n| `kind` | when |")) {
		const char *line = strchr(at + 1, '\n');        /* the |---| line */
		for (line = line ? strchr(line + 1, '\n') : NULL; line && !strncmp(line, "\n| `", 4);
		     line = strchr(line + 1, '\n')) {
			const char *name = line + 4;
			const char *end = strchr(name, '`');
			cr_assert(end);
			char kind[64];
			snprintf(kind, sizeof kind, "%.*s", (int)(end - name), name);
			enum finding_kind k;
			cr_expect(finding_kind_lookup(kind, &k),
				  "docs/schema.md lists finding %s, which findings.h does not declare",
				  kind);
			rows++;
		}
	}
	cr_expect_eq(rows, FINDING_KIND_COUNT, "docs/schema.md lists %d kinds, findings.h %d",
		     rows, FINDING_KIND_COUNT);
	free(schema);
}

Test(docs, finding_kind_names_are_stored_form)
{
	for (unsigned k = 0; k < FINDING_KIND_COUNT; k++) {
		const char *n = finding_kind_name((enum finding_kind)k);
		for (const char *p = n; *p; p++)
			cr_expect(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-',
				  "kind %s: lower case, digits and '-' only", n);
		enum finding_kind back;
		cr_expect(finding_kind_lookup(n, &back) && back == (enum finding_kind)k);
	}
	cr_expect_null(finding_kind_name(FINDING_KIND_COUNT));
}

/* The column tables of docs/schema.md are what `kalens schema --markdown`
 * makes from the declarations: a column added, renamed or explained
 * differently in one place and not the other fails here. */
Test(docs, schema_column_tables_match_the_declarations)
{
	char *schema = slurp("docs/schema.md");
	struct store_decls d;
	store_decls_init(&d);
	for (size_t i = 0; i < STORE_TABLES; i++) {
		char *want = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&want, &n);
		cr_assert(f);
		columns_markdown(&d.tables[i], f);
		fclose(f);
		char marker[64];
		snprintf(marker, sizeof marker, "<!-- columns %s:", d.tables[i].name);
		const char *at = strstr(schema, marker);
		cr_assert(at, "docs/schema.md: no generated column table for %s", d.tables[i].name);
		at = strchr(at, '\n') + 1;
		const char *end = strstr(at, "<!-- /columns -->");
		cr_assert(end);
		cr_expect(strlen(want) == (size_t)(end - at) && !strncmp(at, want, (size_t)(end - at)),
			  "docs/schema.md, table %s, differs from the declarations; "
			  "`kalens schema --markdown %s` gives:\n%s", d.tables[i].name,
			  d.tables[i].name, want);
		free(want);
	}
	free(schema);
}

/* The views name finding kinds in their SQL; each must be a declared one
 * (a misspelt kind in a view would count nothing, silently). */
Test(docs, views_name_only_declared_finding_kinds)
{
	char *sql = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&sql, &n);
	cr_assert(f);
	cr_assert_eq(store_schema_sql(f), 0);
	fclose(f);
	int seen = 0;
	for (const char *p = strstr(sql, "kind"); p; p = strstr(p + 1, "kind")) {
		const char *q = strchr(p, '\'');
		const char *nl = strchr(p, '\n');
		if (!q || (nl && q > nl) || q - p > 12)
			continue;             /* kind = 'x' or kind IS 'x' on the same line */
		const char *end = strchr(q + 1, '\'');
		cr_assert(end);
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(end - q - 1), q + 1);
		enum finding_kind k;
		if (!strncmp(p, "kind_", 5) || strchr(name, ' '))
			continue;             /* close_kind values, text */
		if (p > sql && p[-1] == '_')
			continue;             /* close_kind, source_kind */
		cr_expect(finding_kind_lookup(name, &k), "a view counts finding '%s', not declared",
			  name);
		seen++;
	}
	cr_expect_geq(seen, 10, "kinds named in views: %d", seen);
	free(sql);
}
