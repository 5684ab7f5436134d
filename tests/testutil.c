/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "decode.h"
#include "dissect.h"
#include "flow.h"

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

int tu_each_file(const char *dir, const char *prefix, const char *suffix,
		 int (*each)(const char *absdir, const char *name), int *files)
{
	char abs[4096];
	snprintf(abs, sizeof abs, "%s", tu_src_path(dir));
	DIR *d = opendir(abs);
	cr_assert_not_null(d, "%s", abs);
	int sum = 0;
	*files = 0;
	size_t pl = strlen(prefix), sl = strlen(suffix);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= sl || strcmp(e->d_name + n - sl, suffix) || strncmp(e->d_name, prefix, pl))
			continue;
		(*files)++;
		sum += each(abs, e->d_name);
	}
	closedir(d);
	return sum;
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

const char *tu_cell(const struct tu_table *t, size_t r, size_t c)
{
	cr_assert(r < t->nrows && c < t->ncols, "cell (%zu, %zu) of %zu x %zu", r, c, t->nrows,
		  t->ncols);
	return t->cell[r * t->ncols + c];
}

void tu_table_free(struct tu_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->header);
	free(t->comment);
	memset(t, 0, sizeof *t);
}

char *tu_table_text(const struct tu_table *t)
{
	size_t len = 1;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		len += strlen(t->cell[i]) + 1;
	char *out = malloc(len), *o = out;
	cr_assert_not_null(out);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			o += sprintf(o, "%s%c", tu_cell(t, r, c), c + 1 < t->ncols ? '\t' : '\n');
	*o = '\0';
	return out;
}

/* Room for one more row of t. */
static char **table_row(struct tu_table *t, size_t *cap)
{
	if (t->nrows == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		t->cell = realloc(t->cell, *cap * t->ncols * sizeof *t->cell);
		cr_assert_not_null(t->cell);
	}
	return t->cell + t->nrows++ * t->ncols;
}

void tu_tsv_table(const char *path, size_t ncols, struct tu_table *t)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *line = NULL;
	size_t lcap = 0, cap = 0;
	while (getline(&line, &lcap, f) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' && !t->comment) {
			t->comment = strdup(line);
			cr_assert_not_null(t->comment);
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!t->header) {
			t->header = strdup(line);
			cr_assert_not_null(t->header);
			continue;
		}
		char **row = table_row(t, &cap);
		char *p = line;
		for (size_t c = 0; c < ncols; c++) {
			char *tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			row[c] = strdup(p);
			cr_assert_not_null(row[c]);
			p = tab ? tab + 1 : p + strlen(p);
		}
	}
	free(line);
	fclose(f);
}

size_t tu_load_tsv(const char *path, char *cells, size_t ncols, size_t cell_size, size_t max_rows)
{
	struct tu_table t;
	tu_tsv_table(path, ncols, &t);
	cr_assert_leq(t.nrows, max_rows, "%s: more than %zu rows", path, max_rows);
	for (size_t r = 0; r < t.nrows; r++)
		for (size_t c = 0; c < ncols; c++)
			snprintf(cells + (r * ncols + c) * cell_size, cell_size, "%.*s",
				 (int)(cell_size - 1), tu_cell(&t, r, c));
	size_t n = t.nrows;
	tu_table_free(&t);
	return n;
}

/* kalens read -q OPTIONS -o TMP/k.db CAPTURES...; the database is opened
 * when it succeeded.  Failures are assertions when `must`, else
 * expectations (false). */
static bool db_read(struct tu_db *d, const char *options, const char *const *captures, size_t n,
		    bool truncated_ok, bool must)
{
	d->h = NULL;
	d->tmp = tu_tmpdir();
	cr_assert_not_null(d->tmp);
	char path[4200];
	snprintf(path, sizeof path, "%s/k.db", d->tmp);
	size_t cap = 8192, len = 0;
	for (size_t i = 0; i < n; i++)
		cap += strlen(captures[i]) + 4;
	char *cmd = malloc(cap);
	cr_assert_not_null(cmd);
	len += (size_t)snprintf(cmd, cap, "'%s' read -q %s -o '%s'", KALENS_BINARY, options,
				path);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(cmd + len, cap - len, " '%s'", captures[i]);
	snprintf(cmd + len, cap - len, " 2>&1");
	int st;
	char *out = tu_run(cmd, &st);
	free(cmd);
	bool ok = st == 0 || (truncated_ok && out && strstr(out, "truncated"));
	const char *what = n == 1 ? captures[0] : "kalens read";
	if (must)
		cr_assert(ok, "%s: %s", what, out ? out : "");
	else
		cr_expect(ok, "%s: kalens read failed: %s", what, out ? out : "");
	free(out);
	if (!ok) {
		tu_rmtree(d->tmp);
		d->tmp = NULL;
		return false;
	}
	cr_assert_eq(sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return true;
}

void tu_db_read(struct tu_db *d, const char *options, const char *capture)
{
	db_read(d, options, &capture, 1, false, true);
}

bool tu_db_read_files(struct tu_db *d, const char *options, const char *const *captures,
		      size_t n, bool truncated_ok)
{
	return db_read(d, options, captures, n, truncated_ok, false);
}

void tu_db_open(struct tu_db *d, const char *path)
{
	d->tmp = NULL;
	cr_assert_eq(sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
}

const char *tu_db_path(const struct tu_db *d)
{
	static char buf[4200];
	snprintf(buf, sizeof buf, "%s/k.db", d->tmp);
	return buf;
}

void tu_db_close(struct tu_db *d)
{
	sqlite3_close(d->h);
	d->h = NULL;
	tu_rmtree(d->tmp);
	d->tmp = NULL;
}

void tu_keylog_option(const char *capture, char *opt, size_t n)
{
	static const char *const suffix[] = { ".keylog", ".keys.txt" };
	opt[0] = '\0';
	const char *dot = strrchr(capture, '.');
	const char *slash = strrchr(capture, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - capture) : strlen(capture);
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char k[4200];
		snprintf(k, sizeof k, "%.*s%s", (int)stem, capture, suffix[i]);
		FILE *f = fopen(k, "r");
		if (f) {
			fclose(f);
			snprintf(opt, n, "--keylog '%s'", k);
			return;
		}
	}
}

static sqlite3_stmt *db_prepare(struct tu_db *d, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(d->h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(d->h));
	return st;
}

long long tu_db_int(struct tu_db *d, const char *sql)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

double tu_db_real(struct tu_db *d, const char *sql)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	double v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

const char *tu_db_text(struct tu_db *d, const char *sql, char *buf, size_t n)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	const char *ret = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
		ret = buf;
	}
	sqlite3_finalize(st);
	return ret;
}

long long tu_db_findings(struct tu_db *d, const char *kind)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT COUNT(*) FROM findings WHERE kind = ?1");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

void tu_db_table(struct tu_db *d, const char *sql, struct tu_table *t)
{
	memset(t, 0, sizeof *t);
	sqlite3_stmt *st = db_prepare(d, sql);
	t->ncols = (size_t)sqlite3_column_count(st);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **row = table_row(t, &cap);
		for (size_t c = 0; c < t->ncols; c++) {
			const unsigned char *v = sqlite3_column_text(st, (int)c);
			row[c] = strdup(v ? (const char *)v : "");
			cr_assert_not_null(row[c]);
		}
	}
	cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(d->h));
	sqlite3_finalize(st);
}

void tu_db_row(struct tu_db *d, const char *sql, size_t i, char *out, size_t n)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	out[0] = '\0';
	for (size_t r = 0; sqlite3_step(st) == SQLITE_ROW; r++) {
		if (r != i)
			continue;
		size_t at = 0;
		for (int c = 0; c < sqlite3_column_count(st) && at < n; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			at += (size_t)snprintf(out + at, n - at, "%s%s", c ? "|" : "",
					       t ? (const char *)t : "NULL");
		}
		break;
	}
	sqlite3_finalize(st);
}

/* ---- a synthetic TCP connection ----------------------------------------- */

static struct decode_tcp conn_segment(const struct tu_conn *c, enum kl_dir dir, uint8_t flags,
				      const uint8_t *p, size_t n)
{
	struct decode_tcp d;
	memset(&d, 0, sizeof d);
	d.ip_version = 4;
	d.src[0] = d.dst[0] = 10;
	d.src[3] = dir == KL_TO_SERVER ? 1 : 2;
	d.dst[3] = dir == KL_TO_SERVER ? 2 : 1;
	d.sport = dir == KL_TO_SERVER ? 40000 : c->server_port;
	d.dport = dir == KL_TO_SERVER ? c->server_port : 40000;
	d.flags = flags;
	d.seq = c->seq[dir];
	d.ack = c->seq[!dir];
	d.window = 65535;
	d.payload = p;
	d.payload_caplen = d.payload_len = (uint32_t)n;
	return d;
}

static void conn_packet(struct tu_conn *c, enum kl_dir dir, uint8_t flags, const uint8_t *p,
			size_t n)
{
	struct decode_tcp s = conn_segment(c, dir, flags, p, n);
	flow_table_packet(c->ft, &s, c->t += 1000);
	c->seq[dir] += (uint32_t)n + ((flags & (KL_TCP_SYN | KL_TCP_FIN)) ? 1u : 0u);
}

static void conn_request(void *ctx, const struct request_record *r)
{
	struct tu_conn *c = ctx;
	if (c->out && c->out->request)
		c->out->request(c->out->ctx, r);
}

static void conn_finding(void *ctx, const struct finding_record *f)
{
	struct tu_conn *c = ctx;
	size_t l = strlen(c->findings);
	snprintf(c->findings + l, sizeof c->findings - l, "%s;", finding_kind_name(f->kind));
	if (c->out && c->out->finding)
		c->out->finding(c->out->ctx, f);
}

static void conn_ended(void *ctx, const struct conn_record *r)
{
	struct tu_conn *c = ctx;
	c->ended++;
	snprintf(c->protocol, sizeof c->protocol, "%s", r->protocol ? r->protocol : "");
	if (c->conn_done)
		c->conn_done(c->ctx, r);
}

void tu_conn_start(struct tu_conn *c, uint16_t server_port, const struct dissect_output *out,
		   void (*conn_done)(void *ctx, const struct conn_record *r), void *ctx)
{
	memset(c, 0, sizeof *c);
	c->server_port = server_port;
	c->t = (kl_time)1700000000 * KL_NS_PER_SEC;
	c->out = out;
	c->conn_done = conn_done;
	c->ctx = ctx;
	c->wrap = (struct dissect_output){ conn_request, conn_finding, c };
	struct flow_config cfg;
	flow_config_defaults(&cfg);
	cfg.dissectors = dissect_builtin();
	struct flow_hooks hooks = { .conn_done = conn_ended, .ctx = c, .out = &c->wrap };
	char err[128];
	c->ft = flow_table_new(&cfg, &hooks, err, sizeof err);
	cr_assert_not_null(c->ft, "%s", err);
	c->seq[KL_TO_SERVER] = 1000;
	c->seq[KL_TO_CLIENT] = 9000;
	conn_packet(c, KL_TO_SERVER, KL_TCP_SYN, NULL, 0);
	conn_packet(c, KL_TO_CLIENT, KL_TCP_SYN | KL_TCP_ACK, NULL, 0);
	conn_packet(c, KL_TO_SERVER, KL_TCP_ACK, NULL, 0);
}

void tu_conn_send(struct tu_conn *c, enum kl_dir dir, const void *p, size_t n, size_t piece)
{
	const uint8_t *b = p;
	for (size_t at = 0; at < n;) {
		size_t k = piece && piece < n - at ? piece : n - at;
		uint8_t *copy = malloc(k);
		cr_assert_not_null(copy);
		memcpy(copy, b + at, k);
		conn_packet(c, dir, KL_TCP_ACK | KL_TCP_PSH, copy, k);
		free(copy);
		at += k;
	}
}

void tu_conn_fin(struct tu_conn *c, enum kl_dir dir)
{
	conn_packet(c, dir, KL_TCP_FIN | KL_TCP_ACK, NULL, 0);
}

void tu_conn_end(struct tu_conn *c)
{
	flow_table_flush(c->ft);
	flow_table_free(c->ft);
	c->ft = NULL;
}

static void tu_endpoint(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	(void)argc;
	char buf[128];
	const char *ip = (const char *)sqlite3_value_text(v[1]);
	snprintf(buf, sizeof buf, sqlite3_value_int(v[0]) == 6 ? "[%s]:%d" : "%s:%d",
		 ip ? ip : "?", sqlite3_value_int(v[2]));
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

void tu_db_endpoint_function(struct tu_db *d)
{
	cr_assert_eq(sqlite3_create_function(d->h, "ep", 3, SQLITE_UTF8, NULL, tu_endpoint, NULL,
					     NULL), SQLITE_OK);
}
