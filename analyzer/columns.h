/*
 * columns.h - stored facts declared once.
 *
 * Every column kalens stores is one line of a declaration list: its name,
 * type, unit, meaning, what NULL means, and how its value is read from the
 * record that carries it.  From those lines come the table definitions,
 * the insert statements and their bindings, the in-place upgrade of an
 * older database (a column it lacks is added), the column tables of
 * docs/schema.md (`kalens schema --markdown`, checked by tests/test_docs.c)
 * and, later, other stores' definitions.  Nothing here is SQLite's: types
 * are the three kinds of value kalens stores, constraints are "never NULL"
 * and a list of allowed words, and each store spells them its own way.
 *
 * A list is an X-macro; its module expands it with COLUMNS_DEFINE, which
 * makes the table of struct column and one function that evaluates every
 * line's value expression for a record (straight-line: what a store calls
 * per row):
 *
 *   #define TLS_COLUMNS(X) \
 *       X(sni, TEXT, 0, NULL, "", "server name sent", "none sent", cv_text_nonempty(f->sni))
 *   #define COLUMN_REC struct tls_facts       // what `f` points to
 *   COLUMNS_DEFINE(TLS_COLUMNS, tls_columns)
 *
 * An expression may format text into `buf` (len bytes, the column's own)
 * and give it with cv_text_copy(); other text it gives (cv_text) must
 * outlive the row's insert.
 */
#ifndef KALENS_COLUMNS_H
#define KALENS_COLUMNS_H

#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kl.h"

enum col_type { COL_INTEGER, COL_REAL, COL_TEXT };

#define COL_NOT_NULL 1u    /* never NULL */
#define COL_KEY 2u         /* the row's identifier (INTEGER, unique, never NULL) */
#define COL_RUN 4u         /* the run being written; filled by the store, not the record */
#define COL_FIXED 8u       /* set when the row is inserted, never updated */
#define COL_SEQ 16u        /* the order the store wrote the row in, within its run; filled
			    * by the store (INTEGER, never NULL in rows it writes) */
#define COL_LIVE 32u       /* runs: refreshed at every commit while a live capture runs */

/* CV_TEXT: text that outlives the row's insert (the record's, or static);
 * CV_TEXT_COPY: text formatted into the getter's buffer, to be copied. */
enum col_value_kind { CV_NULL, CV_INT, CV_REAL, CV_TEXT, CV_TEXT_COPY };

/* Sixteen bytes, so a getter returns it in registers. */
struct col_value {
	enum col_value_kind kind;
	union {
		int64_t i;
		double r;
		const char *s;
	} u;
};

/* Bytes a getter may format into. */
#define COLUMN_TEXT_BUF 64

struct column {
	const char *name;
	enum col_type type;
	unsigned flags;                       /* COL_* */
	const char *const *values;            /* TEXT: the allowed words, NULL-terminated; NULL: any */
	const char *unit;                     /* "s", "s, epoch", "bytes", "" */
	const char *meaning;                  /* one line, for the docs */
	const char *null_means;               /* for the docs; "" with COL_NOT_NULL */
};

/* A declared list of columns. */
struct column_list {
	const struct column *cols;
	size_t n;
	/* Every column's value of `rec` at once, into out[0..n), formatting
	 * into bufs[i] for column i: the getters' expressions in one straight
	 * function (what a store calls per row; `get` is the same per column). */
	void (*values)(const void *rec, struct col_value *out, char (*bufs)[COLUMN_TEXT_BUF]);
};

#define COLUMN_LIST(array) { array, sizeof array / sizeof array[0], COLUMN_CAT_(array, values) }

/* A stored table: its name and its columns, in order (the `connections`
 * table is the TCP list followed by every fact section's, facts.h). */
struct table_decl {
	const char *name;
	const struct column_list *parts;
	size_t nparts;
	unsigned flags;               /* TABLE_* */
};

#define TABLE_KEY_FROM_RECORD 1u  /* the record gives the key (else the store numbers rows) */
#define TABLE_RUN_CHECKED 2u      /* run_id must name a row of `runs` (a foreign key) */

/* The column holds a capture or wall-clock time (unit "s, epoch"), which
 * readers may print as a date. */
static inline bool column_is_time(const struct column *c)
{
	return strcmp(c->unit, "s, epoch") == 0;
}

/* Value constructors for getters. */
static inline struct col_value cv_null(void)
{
	struct col_value v = { CV_NULL, { 0 } };
	return v;
}

static inline struct col_value cv_int(int64_t i)
{
	struct col_value v = { CV_INT, { .i = i } };
	return v;
}

/* Counters above INT64_MAX are clamped, not wrapped (none gets there). */
static inline struct col_value cv_u64(uint64_t u)
{
	return cv_int(u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u);
}

static inline struct col_value cv_real(double r)
{
	struct col_value v = { CV_REAL, { .r = r } };
	return v;
}

static inline struct col_value cv_text(const char *s)
{
	struct col_value v = { s ? CV_TEXT : CV_NULL, { .s = s } };
	return v;
}

/* Text the getter formatted into its buffer (NULL: no value). */
static inline struct col_value cv_text_copy(const char *s)
{
	struct col_value v = { s ? CV_TEXT_COPY : CV_NULL, { .s = s } };
	return v;
}

/* "" is stored as NULL. */
static inline struct col_value cv_text_nonempty(const char *s)
{
	return cv_text(s && *s ? s : NULL);
}

static inline struct col_value cv_seconds(kl_time t)
{
	return cv_real(kl_time_seconds(t));
}

/* Time t when `has`, else NULL. */
static inline struct col_value cv_seconds_if(bool has, kl_time t)
{
	return has ? cv_seconds(t) : cv_null();
}

/* A value that is NULL when negative ("never sent", "unknown"). */
static inline struct col_value cv_int_or_null(int64_t i)
{
	return i >= 0 ? cv_int(i) : cv_null();
}

static inline struct col_value cv_bool(bool b)
{
	return cv_int(b ? 1 : 0);
}

/* ---- declaring a list ----------------------------------------------------- */

#define COLUMN_CAT2_(a, b) a##_##b
#define COLUMN_CAT_(a, b) COLUMN_CAT2_(a, b)

#define COLUMN_ENTRY_(name, type, flags, values, unit, meaning, null_means, expr)           \
	{ #name, COL_##type, flags, values, unit, meaning, null_means },

#define COLUMN_VALUE_(name, type, flags, values, unit, meaning, null_means, expr)           \
	{                                                                                      \
		char *buf = bufs[k];                                                           \
		size_t len = COLUMN_TEXT_BUF;                                                  \
		(void)buf;                                                                     \
		(void)len;                                                                     \
		out[k++] = (expr);                                                             \
	}

/* `static const struct column array[]` of LIST, and array_values(), which
 * evaluates every line's expression (COLUMN_LIST(array) names both). */
#define COLUMNS_DEFINE(LIST, array)                                                         \
	static const struct column array[] = { LIST(COLUMN_ENTRY_) };                          \
	static void COLUMN_CAT_(array, values)(const void *rec_, struct col_value *out,        \
					       char (*bufs)[COLUMN_TEXT_BUF])                  \
	{                                                                                      \
		const COLUMN_REC *f = rec_;                                                    \
		size_t k = 0;                                                                  \
		(void)f;                                                                       \
		LIST(COLUMN_VALUE_)                                                            \
	}

/* The column called `name` in `list`, or NULL. */
const struct column *column_find(const struct column_list *list, const char *name);

/* The documentation table of t's columns (docs/schema.md):
 * | column | type | unit | meaning | NULL means |, one row per column. */
void columns_markdown(const struct table_decl *t, FILE *out);

/* "INTEGER", "REAL", "TEXT" */
const char *col_type_name(enum col_type t);

#endif
