/*
 * sqlout.c - `kalens sql`: read-only SQL and its printing (see sqlout.h).
 *
 * The database is opened with SQLITE_OPEN_READONLY (store_reader_open:
 * never created, and no -wal or -shm left behind), so a mistyped path is
 * an error instead of a new empty database.  Every statement that would
 * write, to the database or anywhere else, is refused before it runs
 * (sqlite3_stmt_readonly(): INSERT, CREATE, VACUUM INTO, a temporary
 * table, PRAGMA journal_mode = ...), and an authorizer refuses ATTACH.
 *
 * CSV and TSV stream row by row.  The table format needs column widths
 * before the first row is printed, so it buffers rows in one arena and
 * prints them every SQLOUT_BUF_ROWS rows (or SQLOUT_BUF_BYTES bytes): the
 * widths of the first chunk set the layout, later chunks can only widen
 * it.  A 10-million-row SELECT therefore costs one chunk of memory.
 */
#include "sqlout.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define SQLOUT_BUF_ROWS 10000
#define SQLOUT_BUF_BYTES ((size_t)16 << 20)
#define SQLOUT_COL_GAP 2           /* blanks between columns, as sqlite3 -column */

/* A growable byte buffer; the arena of table cells and scratch space. */
struct buf {
	char *p;
	size_t n, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->n < n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

enum val_kind { VAL_NULL, VAL_NUM, VAL_TEXT };

/* One value as printed before format escaping.  p is borrowed from the
 * statement or the scratch buffers until the next column is read. */
struct val {
	const char *p;
	size_t n;
	enum val_kind kind;
};

/* The shortest of %.15g..%.17g that reads back as the same double.
 * SQLite's own text conversion stops at 15 digits, which turns the
 * timestamp 1700000000.123456 into 1700000000.12346. */
static void fmt_real(double d, char *out, size_t outlen)
{
	if (isnan(d)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(out, outlen, "%s", d < 0 ? "-Inf" : "Inf");
		return;
	}
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* Keep it visibly a REAL, as SQLite does: 2 -> 2.0, 1e-07 -> 1.0e-07. */
	if (!strchr(tmp, '.')) {
		char *e = strchr(tmp, 'e');
		if (e)
			snprintf(out, outlen, "%.*s.0%s", (int)(e - tmp), tmp, e);
		else
			snprintf(out, outlen, "%s.0", tmp);
	} else {
		snprintf(out, outlen, "%s", tmp);
	}
}

/* Read column i of the current row.  -1 when SQLite ran out of memory. */
/* Column i's value; `epoch`: the column is a stored capture time to print
 * as local time (SQLOUT_LOCALTIME). */
static int get_val(sqlite3_stmt *st, int i, bool epoch, char *num, size_t numlen,
		   struct buf *hex, struct val *v)
{
	int type = sqlite3_column_type(st, i);
	if (epoch && (type == SQLITE_FLOAT || type == SQLITE_INTEGER) &&
	    kl_fmt_localtime(sqlite3_column_double(st, i), num, numlen)) {
		*v = (struct val){ num, strlen(num), VAL_TEXT };
		return 0;
	}
	switch (type) {
	case SQLITE_NULL:
		*v = (struct val){ "", 0, VAL_NULL };
		return 0;
	case SQLITE_FLOAT:
		fmt_real(sqlite3_column_double(st, i), num, numlen);
		*v = (struct val){ num, strlen(num), VAL_NUM };
		return 0;
	case SQLITE_BLOB: {
		/* Shown as an SQL blob literal, so raw bytes never reach the
		 * terminal and the value can be pasted back into a query. */
		static const char digits[] = "0123456789ABCDEF";
		const unsigned char *b = sqlite3_column_blob(st, i);
		size_t n = (size_t)sqlite3_column_bytes(st, i);
		if (!b && n)
			return -1;
		hex->n = 0;
		if (buf_add(hex, "X'", 2) != 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			char h[2] = { digits[b[k] >> 4], digits[b[k] & 15] };
			if (buf_add(hex, h, 2) != 0)
				return -1;
		}
		if (buf_add(hex, "'", 1) != 0)
			return -1;
		*v = (struct val){ hex->p, hex->n, VAL_TEXT };
		return 0;
	}
	default: {
		bool integer = sqlite3_column_type(st, i) == SQLITE_INTEGER;
		const char *t = (const char *)sqlite3_column_text(st, i);
		if (!t)
			return -1;
		*v = (struct val){ t, (size_t)sqlite3_column_bytes(st, i),
				   integer ? VAL_NUM : VAL_TEXT };
		return 0;
	}
	}
}

/* ---- CSV and TSV: streamed ---- */

static void csv_field(FILE *out, const struct val *v)
{
	if (v->kind == VAL_NULL)
		return;
	bool quote = v->kind == VAL_TEXT && (v->n == 0 || memchr(v->p, ',', v->n) ||
		     memchr(v->p, '"', v->n) || memchr(v->p, '\r', v->n) ||
		     memchr(v->p, '\n', v->n));
	if (!quote) {
		fwrite(v->p, 1, v->n, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < v->n; i++) {
		if (v->p[i] == '"')
			fputc('"', out);
		fputc(v->p[i], out);
	}
	fputc('"', out);
}

static void tsv_field(FILE *out, const struct val *v)
{
	for (size_t i = 0; i < v->n; i++) {
		switch (v->p[i]) {
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\\': fputs("\\\\", out); break;
		default: fputc(v->p[i], out); break;
		}
	}
}

static void delim_field(FILE *out, enum sqlout_format fmt, const struct val *v)
{
	if (fmt == SQLOUT_CSV)
		csv_field(out, v);
	else
		tsv_field(out, v);
}

/* ---- table: buffered in chunks ---- */

struct cell {
	size_t off, len;        /* into table.arena */
	size_t width;           /* display columns */
	enum val_kind kind;
};

struct table {
	int ncol;
	struct buf arena;       /* escaped header names, then cell texts */
	size_t header_end;      /* arena bytes holding the header names */
	struct cell *head;      /* ncol header cells */
	size_t *width;          /* ncol column widths */
	bool *right;            /* ncol: header right-aligned (numeric column) */
	struct cell *cells;     /* rows * ncol, grown up to SQLOUT_BUF_ROWS rows */
	size_t rows, cap_rows;
	bool printed_header;
};

/* Display width of UTF-8 text: code points, not bytes.  East Asian wide
 * characters still count one; the layout is a convenience, not a parser. */
static size_t utf8_width(const char *p, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)p[i] & 0xC0) != 0x80;
	return w;
}

/* Append v to the arena with tab, CR and LF made visible, so one value
 * stays on one line. */
static int table_store(struct table *t, const struct val *v, struct cell *c)
{
	c->off = t->arena.n;
	c->kind = v->kind;
	for (size_t i = 0; i < v->n; i++) {
		const char *esc = v->p[i] == '\t' ? "\\t" : v->p[i] == '\n' ? "\\n" :
				  v->p[i] == '\r' ? "\\r" : NULL;
		int rc = esc ? buf_add(&t->arena, esc, 2) : buf_add(&t->arena, v->p + i, 1);
		if (rc != 0)
			return -1;
	}
	c->len = t->arena.n - c->off;
	c->width = utf8_width(t->arena.p + c->off, c->len);
	return 0;
}

static void table_free(struct table *t)
{
	free(t->arena.p);
	free(t->head);
	free(t->width);
	free(t->right);
	free(t->cells);
}

static int table_init(struct table *t, sqlite3_stmt *st)
{
	memset(t, 0, sizeof *t);
	t->ncol = sqlite3_column_count(st);
	size_t n = (size_t)t->ncol;
	t->head = calloc(n, sizeof *t->head);
	t->width = calloc(n, sizeof *t->width);
	t->right = calloc(n, sizeof *t->right);
	if (!t->head || !t->width || !t->right)
		return -1;
	for (int i = 0; i < t->ncol; i++) {
		const char *name = sqlite3_column_name(st, i);
		if (!name)
			return -1;
		struct val v = { name, strlen(name), VAL_TEXT };
		if (table_store(t, &v, &t->head[i]) != 0)
			return -1;
		t->width[i] = t->head[i].width;
	}
	t->header_end = t->arena.n;
	return 0;
}

/* Room for one more row; small results stay small. */
static int table_grow(struct table *t)
{
	size_t rows = t->cap_rows ? t->cap_rows * 2 : 64;
	if (rows > SQLOUT_BUF_ROWS)
		rows = SQLOUT_BUF_ROWS;
	struct cell *c = realloc(t->cells, rows * (size_t)t->ncol * sizeof *c);
	if (!c)
		return -1;
	t->cells = c;
	t->cap_rows = rows;
	return 0;
}

/* Blanks are held back until something visible follows, so no line ends
 * in padding or separators (a NULL in the last column prints nothing). */
struct line {
	FILE *out;
	size_t blanks;
};

static void line_put(struct line *l, const char *p, size_t n)
{
	if (n == 0)
		return;
	for (; l->blanks > 0; l->blanks--)
		fputc(' ', l->out);
	fwrite(p, 1, n, l->out);
}

static void line_end(struct line *l)
{
	l->blanks = 0;
	fputc('\n', l->out);
}

static void put_cell(struct line *l, const struct table *t, const struct cell *c, size_t col,
		     bool right)
{
	size_t pad = t->width[col] > c->width ? t->width[col] - c->width : 0;
	if (col)
		l->blanks += SQLOUT_COL_GAP;
	if (right)
		l->blanks += pad;
	line_put(l, t->arena.p + c->off, c->len);
	if (!right)
		l->blanks += pad;
}

static void table_print(struct table *t, FILE *out)
{
	size_t n = (size_t)t->ncol;
	struct line l = { out, 0 };
	if (!t->printed_header) {
		/* A column is numeric when its first chunk holds numbers and no
		 * text; its header then sits over the right-aligned values. */
		for (size_t c = 0; c < n; c++) {
			bool num = false, text = false;
			for (size_t r = 0; r < t->rows; r++) {
				num = num || t->cells[r * n + c].kind == VAL_NUM;
				text = text || t->cells[r * n + c].kind == VAL_TEXT;
			}
			t->right[c] = num && !text;
		}
		for (size_t c = 0; c < n; c++)
			put_cell(&l, t, &t->head[c], c, t->right[c]);
		line_end(&l);
		for (size_t c = 0; c < n; c++) {
			if (c)
				l.blanks += SQLOUT_COL_GAP;
			for (size_t i = 0; i < t->width[c]; i++)
				line_put(&l, "-", 1);
		}
		line_end(&l);
		t->printed_header = true;
	}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < n; c++) {
			const struct cell *cell = &t->cells[r * n + c];
			put_cell(&l, t, cell, c, cell->kind == VAL_NUM);
		}
		line_end(&l);
	}
	t->rows = 0;
	t->arena.n = t->header_end;
}

/* ---- statements ---- */

struct run {
	sqlite3 *db;
	enum sqlout_format fmt;
	unsigned flags;               /* SQLOUT_* */
	const struct store_decls *decls;
	bool *epoch;                  /* per result column of the statement running */
	FILE *out;
	bool printed;           /* a result set was printed (table: blank line before the next) */
	char *err;
	size_t errlen;
};

static int oom(struct run *r)
{
	snprintf(r->err, r->errlen, "out of memory");
	return 1;
}

static int run_delimited(struct run *r, sqlite3_stmt *st)
{
	int ncol = sqlite3_column_count(st);
	char sep = r->fmt == SQLOUT_CSV ? ',' : '\t';
	for (int i = 0; i < ncol; i++) {
		const char *name = sqlite3_column_name(st, i);
		if (!name)
			return oom(r);
		struct val v = { name, strlen(name), VAL_TEXT };
		if (i)
			fputc(sep, r->out);
		delim_field(r->out, r->fmt, &v);
	}
	fputc('\n', r->out);
	struct buf hex = { 0 };
	char num[48];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			struct val v;
			if (get_val(st, i, r->epoch[i], num, sizeof num, &hex, &v) != 0) {
				free(hex.p);
				return oom(r);
			}
			if (i)
				fputc(sep, r->out);
			delim_field(r->out, r->fmt, &v);
		}
		fputc('\n', r->out);
	}
	free(hex.p);
	if (rc != SQLITE_DONE) {
		snprintf(r->err, r->errlen, "SQL error: %s", sqlite3_errmsg(r->db));
		return 1;
	}
	return 0;
}

static int run_table(struct run *r, sqlite3_stmt *st)
{
	struct table t;
	struct buf hex = { 0 };
	int ret = 0;
	if (table_init(&t, st) != 0) {
		ret = oom(r);
		goto out;
	}
	if (r->printed)
		fputc('\n', r->out);
	size_t n = (size_t)t.ncol;
	char num[48];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (t.rows == t.cap_rows && table_grow(&t) != 0) {
			ret = oom(r);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct val v;
			struct cell *c = &t.cells[t.rows * n + i];
			if (get_val(st, (int)i, r->epoch[i], num, sizeof num, &hex, &v) != 0 ||
			    table_store(&t, &v, c) != 0) {
				ret = oom(r);
				goto out;
			}
			if (c->width > t.width[i])
				t.width[i] = c->width;
		}
		if (++t.rows == SQLOUT_BUF_ROWS || t.arena.n >= SQLOUT_BUF_BYTES)
			table_print(&t, r->out);
	}
	/* Rows before an error are printed, as in the streamed formats. */
	table_print(&t, r->out);
	if (rc != SQLITE_DONE) {
		snprintf(r->err, r->errlen, "SQL error: %s", sqlite3_errmsg(r->db));
		ret = 1;
	}
out:
	free(hex.p);
	table_free(&t);
	return ret;
}

static int run_statement(struct run *r, sqlite3_stmt *st)
{
	if (sqlite3_column_count(st) == 0) {
		/* No result columns (PRAGMA setters, BEGIN, a refused INSERT). */
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			snprintf(r->err, r->errlen, "SQL error: %s", sqlite3_errmsg(r->db));
			return 1;
		}
		return 0;
	}
	/* Which result columns are stored capture times, by their origin. */
	int ncol = sqlite3_column_count(st);
	r->epoch = calloc((size_t)ncol, sizeof *r->epoch);
	if (!r->epoch)
		return oom(r);
	for (int i = 0; (r->flags & SQLOUT_LOCALTIME) && i < ncol; i++) {
		const char *table = sqlite3_column_table_name(st, i);
		const char *name = sqlite3_column_origin_name(st, i);
		const struct column *c = table && name ? store_decl_column(r->decls, table, name) : NULL;
		r->epoch[i] = c && column_is_time(c);
	}
	int ret = r->fmt == SQLOUT_TABLE ? run_table(r, st) : run_delimited(r, st);
	free(r->epoch);
	r->epoch = NULL;
	r->printed = true;
	return ret;
}

/* What the authorizer refused, for the message. */
struct guard {
	const char *refused;          /* NULL, or what was refused and why */
};

/* ATTACH opens another file (and for a WAL database makes its -wal and
 * -shm): kalens sql reads the one database it was given. */
static int authorize(void *ctx, int action, const char *a, const char *b, const char *c,
		     const char *d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	struct guard *g = ctx;
	if (action == SQLITE_ATTACH || action == SQLITE_DETACH) {
		g->refused = "ATTACH and DETACH are refused: kalens sql reads only the database "
			     "it is given";
		return SQLITE_DENY;
	}
	return SQLITE_OK;
}

/* Open read-only and make SQLite read the header now, so "not a database"
 * is reported as such rather than as an error of the first statement. */
static int open_db(const char *path, struct store_reader *rd, struct guard *g, char *err,
		   size_t errlen)
{
	if (store_reader_open(rd, path, err, errlen) != 0)
		return -1;
	sqlite3 *db = rd->db;
	if (sqlite3_set_authorizer(db, authorize, g) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s: cannot read database (%s)", path, sqlite3_errmsg(db));
	/* finalize repeats the step's error, already reported. */
	(void)sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

int sqlout_run(const char *db_path, const char *sql, enum sqlout_format fmt, unsigned flags,
	       FILE *out, char *err, size_t errlen)
{
	struct store_reader rd;
	struct guard g = { NULL };
	if (open_db(db_path, &rd, &g, err, errlen) != 0) {
		store_reader_close(&rd);
		return 2;
	}
	sqlite3 *db = rd.db;
	struct store_decls decls;
	store_decls_init(&decls);
	struct run r = { db, fmt, flags, &decls, NULL, out, false, err, errlen };
	int ret = 0;
	const char *p = sql;
	while (ret == 0 && *p) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
			if (g.refused)
				snprintf(err, errlen, "%s", g.refused);
			else
				snprintf(err, errlen, "SQL error: %s", sqlite3_errmsg(db));
			ret = 1;
			break;
		}
		if (st && !sqlite3_stmt_readonly(st)) {
			/* The connection is read-only, so a write to the database
			 * fails anyway; this also stops what writes elsewhere
			 * (VACUUM INTO a new file, a temporary table) or changes
			 * the file (PRAGMA journal_mode, wal_checkpoint), before
			 * it runs. */
			const char *text = sqlite3_sql(st);
			text += strspn(text, " \t\r\n");
			size_t n = strcspn(text, "\r\n");
			snprintf(err, errlen, "refused: '%.*s%s' would write; kalens sql only reads",
				 (int)(n > 60 ? 60 : n), text, n > 60 || text[n] ? "..." : "");
			(void)sqlite3_finalize(st);
			ret = 1;
			break;
		}
		if (st) {
			ret = run_statement(&r, st);
			/* Its error, if any, was reported by run_statement. */
			(void)sqlite3_finalize(st);
		}
		if (!tail || tail == p)
			break;
		p = tail;
	}
	if (fflush(out) != 0 || ferror(out)) {
		if (ret == 0)
			snprintf(err, errlen, "cannot write the output");
		ret = 1;
	}
	/* Every statement is finalized, so close cannot be BUSY. */
	store_reader_close(&rd);
	return ret;
}
