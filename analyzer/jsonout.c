/*
 * jsonout.c - see jsonout.h.
 */
#include "jsonout.h"

void jsonout_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void jsonout_row(FILE *out, sqlite3_stmt *st)
{
	fputc('{', out);
	jsonout_members(out, st);
	fputc('}', out);
}

void jsonout_value(FILE *out, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		fprintf(out, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		fprintf(out, "%.17g", sqlite3_column_double(st, i));
		break;
	case SQLITE_NULL:
		fputs("null", out);
		break;
	default:
		jsonout_string(out, (const char *)sqlite3_column_text(st, i));
		break;
	}
}

void jsonout_members(FILE *out, sqlite3_stmt *st)
{
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		if (i)
			fputc(',', out);
		jsonout_string(out, sqlite3_column_name(st, i));
		fputc(':', out);
		jsonout_value(out, st, i);
	}
}
