/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *tu_src_path(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", KALENS_SOURCE_DIR, rel);
	return buf;
}

char *tu_tmpdir(void)
{
	char tmpl[] = "/tmp/kalens-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

void tu_rmtree(char *dir)
{
	if (!dir)
		return;
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

char *tu_run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	if (!f) {
		*status = -1;
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *out = malloc(cap);
	size_t got;
	while (out && (got = fread(out + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n < 2) {
			char *bigger = realloc(out, cap * 2);
			if (!bigger) {
				free(out);
				out = NULL;
				break;
			}
			out = bigger;
			cap *= 2;
		}
	}
	if (out)
		out[n] = '\0';
	int st = pclose(f);
	*status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
	return out;
}

void tu_capture_of_reference(const char *file, const char *suffix, char *out, size_t outlen)
{
	size_t len = strlen(file), sl = strlen(suffix), o = 0;
	if (len >= sl && strcmp(file + len - sl, suffix) == 0)
		len -= sl;
	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		if (file[i] == '_' && file[i + 1] == '_') {
			out[o++] = '/';
			i++;
		} else {
			out[o++] = file[i];
		}
	}
	out[o] = '\0';
}

void tu_db_read(struct tu_db *d, const char *options, const char *capture)
{
	d->tmp = tu_tmpdir();
	cr_assert_not_null(d->tmp);
	char cmd[16384], db[4200];
	snprintf(db, sizeof db, "%s/k.db", d->tmp);
	snprintf(cmd, sizeof cmd, "'%s' read -q %s -o '%s' '%s' 2>&1", KALENS_BINARY, options, db,
		 capture);
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s: %s", capture, out ? out : "");
	free(out);
	cr_assert_eq(sqlite3_open_v2(db, &d->h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
}

void tu_db_close(struct tu_db *d)
{
	sqlite3_close(d->h);
	tu_rmtree(d->tmp);
}

long long tu_db_int(struct tu_db *d, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(d->h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(d->h));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

const char *tu_db_text(struct tu_db *d, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(d->h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(d->h));
	const char *ret = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
		ret = buf;
	}
	sqlite3_finalize(st);
	return ret;
}

size_t tu_load_tsv(const char *path, char *cells, size_t ncols, size_t cell_size, size_t max_rows)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char line[4096];
	size_t n = 0;
	bool header = false;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (!header) {
			header = true;
			continue;
		}
		cr_assert_lt(n, max_rows, "%s: more than %zu rows", path, max_rows);
		char *p = line;
		for (size_t c = 0; c < ncols; c++) {
			char *tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			snprintf(cells + (n * ncols + c) * cell_size, cell_size, "%.*s",
				 (int)(cell_size - 1), p);
			p = tab ? tab + 1 : p + strlen(p);
		}
		n++;
	}
	fclose(f);
	return n;
}
