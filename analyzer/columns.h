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
 * makes one getter per line and the table of struct column:
 *
 *   #define TLS_COLUMNS(X) \
 *       X(sni, TEXT, 0, NULL, "", "server name sent", "none sent", cv_text_nonempty(f->sni))
 *   #define COLUMN_REC struct tls_facts       // what `f` points to in the getters
 *   #define COLUMN_PREFIX tls_col             // names the getters
 *   COLUMNS_DEFINE(TLS_COLUMNS, tls_columns)
 *
 * A getter may format text into `buf` (len bytes, borrowed for the call)
 * and return it; other text it returns must outlive the row's insert.
 */
#ifndef KALENS_COLUMNS_H
#define KALENS_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kl.h"

enum col_type { COL_INTEGER, COL_REAL, COL_TEXT };

#define COL_NOT_NULL 1u    /* never NULL */
#define COL_KEY 2u         /* the row's identifier (INTEGER, unique, never NULL) */
#define COL_RUN 4u         /* the run being written; filled by the store, not the record */
#define COL_FIXED 8u       /* set when the row is inserted, never updated */

enum col_value_kind { CV_NULL, CV_INT, CV_REAL, CV_TEXT };

struct col_value {
	enum col_value_kind kind;
	int64_t i;
	double r;
	const char *s;
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
	struct col_value (*get)(const void *rec, char *buf, size_t len);   /* NULL with COL_RUN */
};

/* A declared list of columns. */
struct column_list {
	const struct column *cols;
	size_t n;
};

#define COLUMN_LIST(array) { array, sizeof array / sizeof array[0] }

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

/* Value constructors for getters. */
static inline struct col_value cv_null(void)
{
	struct col_value v = { CV_NULL, 0, 0, NULL };
	return v;
}

static inline struct col_value cv_int(int64_t i)
{
	struct col_value v = { CV_INT, i, 0, NULL };
	return v;
}

/* Counters above INT64_MAX are clamped, not wrapped (none gets there). */
static inline struct col_value cv_u64(uint64_t u)
{
	return cv_int(u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u);
}

static inline struct col_value cv_real(double r)
{
	struct col_value v = { CV_REAL, 0, r, NULL };
	return v;
}

static inline struct col_value cv_text(const char *s)
{
	struct col_value v = { s ? CV_TEXT : CV_NULL, 0, 0, s };
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

#define COLUMN_GETTER_(name, type, flags, values, unit, meaning, null_means, expr)          \
	static struct col_value COLUMN_CAT_(COLUMN_PREFIX, name)(const void *rec_, char *buf,  \
								  size_t len)                  \
	{                                                                                      \
		const COLUMN_REC *f = rec_;                                                    \
		(void)f;                                                                       \
		(void)buf;                                                                     \
		(void)len;                                                                     \
		return expr;                                                                   \
	}

#define COLUMN_ENTRY_(name, type, flags, values, unit, meaning, null_means, expr)           \
	{ #name, COL_##type, flags, values, unit, meaning, null_means,                        \
	  COLUMN_CAT_(COLUMN_PREFIX, name) },

/* The getters of LIST and `static const struct column array[]`. */
#define COLUMNS_DEFINE(LIST, array)                                                         \
	LIST(COLUMN_GETTER_)                                                                   \
	static const struct column array[] = { LIST(COLUMN_ENTRY_) };

/* The column called `name` in `list`, or NULL. */
const struct column *column_find(const struct column_list *list, const char *name);

/* The documentation table of t's columns (docs/schema.md):
 * | column | type | unit | meaning | NULL means |, one row per column. */
void columns_markdown(const struct table_decl *t, FILE *out);

/* "INTEGER", "REAL", "TEXT" */
const char *col_type_name(enum col_type t);

#endif
