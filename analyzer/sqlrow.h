/*
 * sqlrow.h - the current row of a statement, column by name: a query of
 * `SELECT *` on a database an older kalens wrote may lack a column, which
 * then reads as NULL.  For one-off readers (a story, an export, the
 * report), not for hot loops: each lookup scans the column names.
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

/* The database's schema has an object of `type` ("table", "view") called
 * `name` (a later kalens added it; an older database lacks it). */
static inline bool sqlrow_schema_has(sqlite3 *db, const char *type, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2",
				      -1, &st, NULL) == SQLITE_OK &&
		   sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC) == SQLITE_OK &&
		   sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) == SQLITE_OK &&
		   sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

#endif
