/*
 * sqlrow.h - the current row of a statement, column by name: a query of
 * `SELECT *` on a database an older kalens wrote may lack a column, which
 * then reads as NULL.  For one-off readers (a story, an export), not for
 * hot loops: each lookup scans the column names.
 */
#ifndef KALENS_SQLROW_H
#define KALENS_SQLROW_H

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

/* Column `name` of st's result, or -1. */
static inline int sqlrow_col(sqlite3_stmt *st, const char *name)
{
	for (int i = 0; i < sqlite3_column_count(st); i++)
		if (!strcmp(sqlite3_column_name(st, i), name))
			return i;
	return -1;
}

/* The column is there and not NULL. */
static inline bool sqlrow_has(sqlite3_stmt *st, const char *name)
{
	int i = sqlrow_col(st, name);
	return i >= 0 && sqlite3_column_type(st, i) != SQLITE_NULL;
}

/* Its text ("" for NULL or absent); valid until the next step. */
static inline const char *sqlrow_text(sqlite3_stmt *st, const char *name)
{
	int i = sqlrow_col(st, name);
	const unsigned char *t = i >= 0 ? sqlite3_column_text(st, i) : NULL;
	return t ? (const char *)t : "";
}

static inline double sqlrow_real(sqlite3_stmt *st, const char *name)
{
	int i = sqlrow_col(st, name);
	return i >= 0 ? sqlite3_column_double(st, i) : 0;
}

static inline long long sqlrow_int(sqlite3_stmt *st, const char *name)
{
	int i = sqlrow_col(st, name);
	return i >= 0 ? (long long)sqlite3_column_int64(st, i) : 0;
}

#endif
