/*
 * jsonout.h - JSON text for the reports and exports: strings escaped per
 * RFC 8259, and SQLite result rows as objects keyed by column name.
 */
#ifndef KALENS_JSONOUT_H
#define KALENS_JSONOUT_H

#include <sqlite3.h>
#include <stdio.h>

/* s as a JSON string; NULL prints as "". */
void jsonout_string(FILE *out, const char *s);

/* The current row of st as one object: each column by its name; integers
 * and reals as numbers (reals with every digit), NULL as null, the rest as
 * strings. */
void jsonout_row(FILE *out, sqlite3_stmt *st);

/* Column i of the current row as a JSON value, as jsonout_row() writes it. */
void jsonout_value(FILE *out, sqlite3_stmt *st, int i);

/* The same members without the braces, to add others after them. */
void jsonout_members(FILE *out, sqlite3_stmt *st);

#endif
