/*
 * test_e2e_keepalive.c - the keep-alive findings (docs/keepalive.md,
 * "Findings") on captures of real software, made by
 * captures/generated/make.sh.  Expected values come from the servers'
 * configuration written in make.sh (nginx keepalive_timeout and
 * keepalive_requests) and from the clients' own records (curl -w rows,
 * ab's summary, the python client's measured idle time), never from kalens.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* kalens read [OPTIONS] captures/generated/NAME.pcap into a fresh database. */
static void run_open_with(struct tu_db *r, const char *name, const char *options)
{
	char capture[1024];
	snprintf(capture, sizeof capture, "%s/captures/generated/%s.pcap", KALENS_SOURCE_DIR, name);
	tu_db_read(r, options, capture);
}

static void run_open(struct tu_db *r, const char *name)
{
	run_open_with(r, name, "");
}

/* The value after `key` in the client record's comment lines
 * ("# server_closed=1 after_idle_s=2.002"), or a failed test. */
static double record_value(const char *name, const char *key)
{
	char path[1024];
	snprintf(path, sizeof path, "captures/generated/%s.client.tsv", name);
	FILE *f = fopen(tu_src_path(path), "r");
	cr_assert_not_null(f, "%s", path);
	char line[2048];
	double v = -1;
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		char *p = line[0] == '#' || !strncmp(line, "ab\t", 3) ? strstr(line, key) : NULL;
		if (p) {
			p += strlen(key);
			while (*p == '=' || *p == '\t' || *p == ' ')
				p++;
			v = strtod(p, NULL);
			found = true;
		}
	}
	fclose(f);
	cr_assert(found, "%s: no '%s' in the client record", path, key);
	return v;
}

/* Findings that say something went wrong: a clean session has none. */
static const char *const WARNINGS[] = {
	"keepalive-ignored-by-server", "http10-keepalive-not-echoed", "request-after-close",
	"idle-close-race", "parse-error", "hidden-requests", "response-without-request",
	"request-without-response", "header-too-large", "reassembly-gap", "resync",
};

static void expect_no_warnings(struct tu_db *r, const char *name)
{
	for (size_t i = 0; i < sizeof WARNINGS / sizeof WARNINGS[0]; i++)
		cr_expect_eq(tu_db_findings(r, WARNINGS[i]), 0, "%s: a %s finding", name, WARNINGS[i]);
}

/* nginx keepalive_timeout 5s (no Keep-Alive header sent): the python
 * client idles until nginx closes; the client measured how long. */
Test(keepalive, server_idle_timeout_without_an_advertised_timeout)
{
	struct tu_db r;
	run_open(&r, "nginx-idle-timeout");
	double idle = record_value("nginx-idle-timeout", "after_idle_s");
	cr_expect_eq(tu_db_findings(&r, "server-idle-timeout"), 1);
	cr_expect_eq(tu_db_findings(&r, "keepalive-ignored-by-server"), 0);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE ka_timeout_advertised IS NULL"),
		     1, "nginx sends no Keep-Alive header with a one-value keepalive_timeout");
	double got = tu_db_real(&r, "SELECT idle_before_close FROM connections");
	cr_expect(got > idle - 0.05 && got < idle + 0.05, "idle %.6f s, the client measured %.3f s",
		  got, idle);
	cr_expect(got >= 5.0, "nginx keepalive_timeout 5s, closed after %.6f s", got);
	expect_no_warnings(&r, "nginx-idle-timeout");
	tu_db_close(&r);
}

/* keepalive_timeout 2s 2s: Keep-Alive: timeout=2 advertised and kept. */
Test(keepalive, server_idle_timeout_as_advertised)
{
	struct tu_db r;
	run_open(&r, "nginx-advertised-timeout");
	double idle = record_value("nginx-advertised-timeout", "after_idle_s");
	cr_expect_eq(tu_db_findings(&r, "server-idle-timeout"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT ka_timeout_advertised FROM connections"), 2);
	double got = tu_db_real(&r, "SELECT idle_before_close FROM connections");
	cr_expect(got > idle - 0.05 && got < idle + 0.05, "idle %.6f s, the client measured %.3f s",
		  got, idle);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'server-idle-timeout'"
			     " AND detail LIKE '%advertised timeout=2 (+%'"), 1);
	expect_no_warnings(&r, "nginx-advertised-timeout");
	tu_db_close(&r);
}

/* keepalive_timeout 1s 5s: timeout=5 advertised, closed after 1 s. */
Test(keepalive, keepalive_ignored_by_server)
{
	struct tu_db r;
	run_open(&r, "nginx-early-close");
	double idle = record_value("nginx-early-close", "after_idle_s");
	cr_expect_eq(tu_db_findings(&r, "keepalive-ignored-by-server"), 1);
	cr_expect_eq(tu_db_findings(&r, "server-idle-timeout"), 0);
	cr_expect_eq(tu_db_real(&r, "SELECT ka_timeout_advertised FROM connections"), 5);
	double got = tu_db_real(&r, "SELECT idle_before_close FROM connections");
	cr_expect(got > idle - 0.05 && got < idle + 0.05, "idle %.6f s, the client measured %.3f s",
		  got, idle);
	tu_db_close(&r);

	/* --ka-tolerance 5: a close 4 s early counts as the timeout. */
	run_open_with(&r, "nginx-early-close", "--ka-tolerance 5");
	cr_expect_eq(tu_db_findings(&r, "keepalive-ignored-by-server"), 0);
	cr_expect_eq(tu_db_findings(&r, "server-idle-timeout"), 1);
	tu_db_close(&r);
	/* --quick-close 10: nginx's 5 s timeout (none advertised) is "quick". */
	run_open_with(&r, "nginx-idle-timeout", "--quick-close 10");
	cr_expect_eq(tu_db_findings(&r, "keepalive-ignored-by-server"), 1);
	tu_db_close(&r);
}

/* keepalive_requests 3: nginx ends reuse after the 3rd request. */
Test(keepalive, keepalive_max_reached)
{
	struct tu_db r;
	run_open(&r, "nginx-keepalive-requests3-ab");
	double complete = record_value("nginx-keepalive-requests3-ab", "complete_requests");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM requests"), complete);
	int64_t n = tu_db_findings(&r, "keepalive-max-reached");
	cr_expect_geq(n, 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'keepalive-max-reached'"
			     " AND request_seq = 3 AND detail LIKE '%after 3 requests%'"), n,
		     "every max-reached after the configured 3 requests");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings f JOIN connections c ON c.id = f.conn_id"
			     " WHERE f.kind = 'keepalive-max-reached' AND c.requests = 3"
			     " AND c.close_initiator = 'server'"), n);
	/* and nginx said so: each is also a close after Connection: close */
	cr_expect_geq(tu_db_findings(&r, "closed-after-connection-close"), n);
	tu_db_close(&r);
}

/* Apache, MaxKeepAliveRequests 3, counts Keep-Alive max down (3, 2, 1)
 * and closes on the 4th request: curl's record shows its 5 URLs went 4 on
 * the first connection and 1 on a second (num_connects). */
Test(keepalive, keepalive_max_reached_as_apache_advertised)
{
	struct tu_db r;
	run_open(&r, "apache-max-requests");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'keepalive-max-reached'"
			     " AND request_seq = 4 AND detail LIKE '%max=3, allowing 4: as advertised'"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE requests = 4 AND ka_max_advertised = 1"),
		     1, "the last max= before the close was 1");
	/* report --json: 3 handshakes avoided (4 requests on one connection,
	 * 1 on the other), and the finding points at the 4-request one */
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' report --json '%s'", KALENS_BINARY, tu_db_path(&r));
	int st;
	char *out = tu_run(cmd, &st);
	cr_expect_eq(st, 0);
	cr_expect(out && strstr(out, "\"reuse_saved\":{\"handshakes\":3,"), "%s", out);
	char want[256];
	snprintf(want, sizeof want, "{\"kind\":\"keepalive-max-reached\",\"count\":1,"
		 "\"connections\":1,\"example_conn_id\":%.0f,\"impact\":\"info\","
		 "\"meaning\":\"server ended reuse after its request limit\"}",
		 tu_db_real(&r, "SELECT id FROM connections WHERE requests = 4"));
	cr_expect(out && strstr(out, want), "want %s in %s", want, out);
	free(out);
	tu_db_close(&r);
}

/* curl -H 'Connection: close' x3 (one connection each, nginx closes), and
 * ab without -k (HTTP/1.0, no keep-alive asked: nginx announces close). */
Test(keepalive, closed_after_connection_close)
{
	struct tu_db r;
	run_open(&r, "nginx-keepalive-curl");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'closed-after-connection-close'"
			     " AND detail LIKE 'the client announced%closed by the server (FIN)'"), 3);
	tu_db_close(&r);

	run_open(&r, "nginx-ab-close");
	double complete = record_value("nginx-ab-close", "complete_requests");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'closed-after-connection-close'"
			     " AND request_seq = 1 AND detail LIKE 'the server announced%'"), complete);
	cr_expect_eq(tu_db_findings(&r, "keepalive-max-reached"), 0, "one request each: nothing reused");
	tu_db_close(&r);
}

/* curl reuses one connection for 5 URLs and closes it when it exits: the
 * server would have kept it (keepalive_timeout 5s). */
Test(keepalive, client_closed_reusable_and_reuse_saved)
{
	struct tu_db r;
	run_open(&r, "nginx-keepalive-curl");
	cr_expect_eq(tu_db_findings(&r, "client-closed-reusable"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings f JOIN connections c ON c.id = f.conn_id"
			     " WHERE f.kind = 'client-closed-reusable' AND c.requests = 5"
			     " AND c.close_initiator = 'client'"), 1);
	/* 4 requests went without a handshake of their own */
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE requests = 5"
			     " AND abs(reuse_saved_s - 4 * handshake_rtt) < 1e-9"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE requests = 1"
			     " AND reuse_saved_s = 0"), 3);
	expect_no_warnings(&r, "nginx-keepalive-curl");
	tu_db_close(&r);
}

/* ab -k sends HTTP/1.0 requests with Connection: Keep-Alive; python's
 * HTTP/1.0 server answers without echoing it (ab: 0 keep-alive requests). */
Test(keepalive, http10_keepalive_not_echoed)
{
	struct tu_db r;
	run_open(&r, "python-http10-ab-k");
	double complete = record_value("python-http10-ab-k", "complete_requests");
	cr_expect_eq(record_value("python-http10-ab-k", "keepalive_requests"), 0);
	cr_expect_eq(tu_db_findings(&r, "http10-keepalive-not-echoed"), complete);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE expected_persistent = 1"), 0);
	tu_db_close(&r);
}

/* Two requests in one send(), the first with Connection: close. */
Test(keepalive, request_after_close)
{
	struct tu_db r;
	run_open(&r, "nginx-request-after-close");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'request-after-close'"
			     " AND request_seq = 2"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM requests WHERE seq = 2 AND uri = '/100k.bin'"
			     " AND status IS NULL"), 1, "the client record: http_code 000");
	cr_expect_eq(tu_db_findings(&r, "request-without-response"), 1);
	tu_db_close(&r);
}

/* python http.client sends its 3rd request on the connection nginx closed
 * 1 s before (keepalive_timeout 5s, client slept 6 s): no response, then it
 * reconnects and retries (its record: exit 52 on the reused connection). */
Test(keepalive, idle_close_race)
{
	struct tu_db r;
	run_open(&r, "nginx-python-client-idle");
	cr_expect_eq(tu_db_findings(&r, "idle-close-race"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings f JOIN requests q"
			     " ON q.conn_id = f.conn_id AND q.seq = f.request_seq"
			     " WHERE f.kind = 'idle-close-race' AND q.seq = 3 AND q.status IS NULL"), 1);
	cr_expect_eq(tu_db_findings(&r, "server-idle-timeout"), 1, "the close that made the race");
	/* the client's record: the same URL again, first on a new connection
	 * (local port 40502, num_connects 1) */
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings f JOIN connections c ON c.id = f.conn_id"
			     " JOIN requests q ON q.conn_id = f.conn_id AND q.seq = 1"
			     " WHERE f.kind = 'retried-request' AND c.client_port = 40502"
			     " AND q.uri = '/small.html' AND q.status = 200"), 1);
	cr_expect_eq(tu_db_findings(&r, "retried-request"), 1);
	tu_db_close(&r);
}

/* ab without -k: 10 requests, one connection each, two at a time: each
 * connection but the last was followed by the client's next one within
 * the window (nginx advertises no timeout: --reuse-window, 5 s). */
Test(keepalive, short_lived_connections_are_missed_reuse)
{
	struct tu_db r;
	run_open(&r, "nginx-ab-close");
	double complete = record_value("nginx-ab-close", "complete_requests");
	/* (ab also opens one connection it closes without a request: not HTTP) */
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM connections WHERE requests = 1"), complete);
	cr_expect_eq(tu_db_findings(&r, "short-lived-connection"), complete - 1);
	tu_db_close(&r);
	/* a connection carrying 5 requests is not short-lived */
	run_open(&r, "nginx-keepalive-curl");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings f JOIN connections c ON c.id = f.conn_id"
			     " WHERE f.kind = 'short-lived-connection' AND c.requests > 1"), 0);
	tu_db_close(&r);
}

/* 5 GETs written in one send() (4 pipelined); 3 in one send() each. */
Test(keepalive, pipelined_and_head_of_line_wait)
{
	struct tu_db r;
	run_open(&r, "nginx-pipelined-burst");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'pipelined'"
			     " AND detail LIKE '4 requests%'"), 1);
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM requests WHERE pipelined = 1"), 4);
	/* all 5 arrived in one segment: each of the 4 later ones was complete
	 * while the response before it was still being sent */
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'head-of-line-wait'"
			     " AND detail LIKE '4 responses waited%'"), 1);
	tu_db_close(&r);
	run_open(&r, "nginx-pipelined-sends");
	cr_expect_eq(tu_db_real(&r, "SELECT COUNT(*) FROM findings WHERE kind = 'pipelined'"
			     " AND detail LIKE '2 requests%'"), 1);
	tu_db_close(&r);
}

/* Clean keep-alive sessions raise no warning. */
Test(keepalive, clean_sessions_have_no_warnings)
{
	static const char *const clean[] = { "nginx-ipv6-curl", "nginx-head-and-304",
					     "nginx-keepalive-curl", "nginx-advertised-timeout" };
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		struct tu_db r;
		run_open(&r, clean[i]);
		expect_no_warnings(&r, clean[i]);
		tu_db_close(&r);
	}
}

/* One expected cell of tests/expected/queries.tsv against the answer's: the
 * same text, a number in LO..HI, or * for any value. */
static bool query_cell_matches(const char *want, const char *got)
{
	if (!strcmp(want, "*"))
		return true;
	const char *dots = strstr(want, "..");
	if (dots && dots != want) {
		char *end;
		double lo = strtod(want, &end), hi = strtod(dots + 2, NULL), v = strtod(got, &end);
		return *got && !*end && v >= lo && v <= hi;
	}
	size_t n = strlen(want);
	if (n > 1 && want[n - 1] == '*')      /* "text *": this prefix */
		return !strncmp(want, got, n - 1);
	return !strcmp(want, got);
}

static bool query_row_matches(char *const *want, size_t nwant, const struct tu_table *t,
			      size_t r)
{
	if (nwant != t->ncols)
		return false;
	for (size_t c = 0; c < nwant; c++)
		if (!query_cell_matches(want[c], tu_cell(t, r, c)))
			return false;
	return true;
}

/* Question q's expected rows from tests/expected/queries.tsv, each a
 * malloc'd array of cells (want[i][0..ncells[i])); whether any order goes. */
struct query_answer {
	char **rows[64];
	size_t ncells[64];
	size_t n;
	bool unordered;
};

static void query_answer_load(int q, struct query_answer *a)
{
	memset(a, 0, sizeof *a);
	FILE *f = fopen(tu_src_path("tests/expected/queries.tsv"), "r");
	cr_assert_not_null(f);
	char line[2048];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0] || atoi(line) != q)
			continue;
		char *rest = strchr(line, '\t');
		cr_assert_not_null(rest, "queries.tsv: %s", line);
		rest++;
		if (!strcmp(rest, "unordered")) {
			a->unordered = true;
			continue;
		}
		cr_assert_lt(a->n, 64);
		char **cells = calloc(32, sizeof *cells);
		size_t k = 0;
		for (char *c = rest;; c++) {
			char *tab = strchr(c, '\t');
			cr_assert_lt(k, 32);
			cells[k++] = strndup(c, tab ? (size_t)(tab - c) : strlen(c));
			if (!tab)
				break;
			c = tab;
		}
		a->rows[a->n] = cells;
		a->ncells[a->n++] = k;
	}
	fclose(f);
}

static void query_answer_free(struct query_answer *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < a->ncells[i]; k++)
			free(a->rows[i][k]);
		free(a->rows[i]);
	}
}

/* Question q's answer t against its expected rows: in order, or, when any
 * order goes, each expected row matched by a different answer row. */
static void query_answer_check(int q, const char *sql, const struct tu_table *t)
{
	struct query_answer a;
	query_answer_load(q, &a);
	char *text = tu_table_text(t);
	cr_expect_gt(a.n, 0, "question %d has no answer in tests/expected/queries.tsv", q);
	cr_expect_eq(t->nrows, a.n, "question %d: %zu rows, expected %zu:\n%s\n%s", q, t->nrows,
		     a.n, text, sql);
	bool used[64] = { false };
	for (size_t i = 0; i < a.n && t->nrows == a.n; i++) {
		bool ok = false;
		for (size_t r = 0; r < t->nrows && !ok; r++) {
			if (a.unordered ? used[r] : r != i)
				continue;
			if (query_row_matches(a.rows[i], a.ncells[i], t, r)) {
				ok = true;
				used[r] = true;
			}
		}
		cr_expect(ok, "question %d: expected row %zu (%s, %s, ...) not in the answer:\n%s", q,
			  i + 1, a.rows[i][0], a.ncells[i] > 1 ? a.rows[i][1] : "", text);
	}
	free(text);
	query_answer_free(&a);
}

/* docs/queries.md: every ```sql block runs on a database of the generated
 * captures (an HTTPS one read with its key log, a mirrored one) and gives
 * the answer tests/expected/queries.tsv writes out from the clients' own
 * records and the generators' configuration. */
Test(keepalive, docs_queries_answer)
{
	static const char *const caps[] = {
		"nginx-keepalive-curl", "nginx-keepalive-requests3-ab", "nginx-idle-timeout",
		"nginx-early-close", "nginx-advertised-timeout", "nginx-python-client-idle",
		"nginx-ab-close", "python-http10-ab-k", "tls12-resumed-s_client",
		"encap/erspan-split",
	};
	enum { N = sizeof caps / sizeof caps[0] };
	char paths[N][1024], keylog[1200];
	const char *files[N];
	for (size_t i = 0; i < N; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/captures/generated/%s.pcap", KALENS_SOURCE_DIR,
			 caps[i]);
		files[i] = paths[i];
	}
	snprintf(keylog, sizeof keylog, "--keylog '%s/captures/generated/tls12-resumed-s_client.keylog'",
		 KALENS_SOURCE_DIR);
	struct tu_db d;
	cr_assert(tu_db_read_files(&d, keylog, files, N, false));

	FILE *f = fopen(tu_src_path("docs/queries.md"), "r");
	cr_assert_not_null(f);
	char line[1024], sql[8192];
	size_t n = 0;
	bool in = false;
	int queries = 0, question = 0;
	while (fgets(line, sizeof line, f)) {
		if (!in && !strncmp(line, "### ", 4))
			question = atoi(line + 4);
		if (!in && !strncmp(line, "```sql", 6)) {
			in = true;
			n = 0;
			sql[0] = '\0';
			continue;
		}
		if (in && !strncmp(line, "```", 3)) {
			in = false;
			queries++;
			cr_expect_eq(question, queries, "the query after question %d's heading", question);
			struct tu_table t;
			tu_db_table(&d, sql, &t);
			query_answer_check(question, sql, &t);
			tu_table_free(&t);
			continue;
		}
		if (in) {
			size_t l = strlen(line);
			cr_assert_lt(n + l, sizeof sql);
			memcpy(sql + n, line, l + 1);
			n += l;
		}
	}
	fclose(f);
	cr_expect_eq(queries, 16, "docs/queries.md has %d queries", queries);
	tu_db_close(&d);
}

/* Question 1 is about servers that said a timeout: tcpreplay's test.pcap has
 * a server that closes a persistent connection at once (a finding) but
 * never advertised one (tshark: its 9 responses carry "Connection:
 * keep-alive" and no Keep-Alive header), so it is not in the answer. */
Test(keepalive, docs_question_1_leaves_out_servers_that_advertised_nothing)
{
	char cap[1024], sql[4096] = "";
	snprintf(cap, sizeof cap, "%s/captures/public/tcpreplay/test.pcap", KALENS_SOURCE_DIR);
	struct tu_db d;
	cr_assert(tu_db_read_files(&d, "", (const char *const[]){ cap }, 1, false));
	cr_assert_eq(tu_db_int(&d, "SELECT SUM(keepalive_ignored_by_server) > 0 AND"
			       " MAX(ka_timeout_advertised_max) IS NULL FROM keepalive_compliance"), 1,
		     "the capture no longer shows what this test is about");
	FILE *f = fopen(tu_src_path("docs/queries.md"), "r");
	cr_assert_not_null(f);
	char line[1024];
	int state = 0;                    /* 0 before question 1, 1 in it, 2 in its SQL */
	while (state < 3 && fgets(line, sizeof line, f)) {
		if (state == 0 && !strncmp(line, "### 1.", 6))
			state = 1;
		else if (state == 1 && !strncmp(line, "```sql", 6))
			state = 2;
		else if (state == 2 && !strncmp(line, "```", 3))
			state = 3;
		else if (state == 2 && strlen(sql) + strlen(line) < sizeof sql)
			strcat(sql, line);
	}
	fclose(f);
	cr_assert_eq(state, 3, "no SQL under question 1");
	struct tu_table t;
	tu_db_table(&d, sql, &t);
	cr_expect_eq(t.nrows, 0, "question 1 lists a server that never advertised a timeout");
	tu_table_free(&t);
	tu_db_close(&d);
}

/* kalens report ranks the findings: failed requests, then reuse thrown
 * away, then the rest, with example connection ids that look them up. */
Test(keepalive, report_ranks_findings_with_examples)
{
	char caps[2][1024], cmd[8192];
	snprintf(caps[0], sizeof caps[0], "%s/captures/generated/nginx-early-close.pcap",
		 KALENS_SOURCE_DIR);
	snprintf(caps[1], sizeof caps[1], "%s/captures/generated/nginx-python-client-idle.pcap",
		 KALENS_SOURCE_DIR);
	struct tu_db d;
	cr_assert(tu_db_read_files(&d, "", (const char *const[]){ caps[0], caps[1] }, 2, false));
	snprintf(cmd, sizeof cmd, "'%s' report '%s'", KALENS_BINARY, tu_db_path(&d));
	int st;
	char *out = tu_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out ? out : "");
	const char *sec = strstr(out, "Findings, most serious first");
	cr_assert_not_null(sec, "%s", out);
	const char *fail = strstr(sec, "requests that failed");
	const char *waste = strstr(sec, "reuse thrown away");
	const char *info = strstr(sec, "worth knowing");
	cr_assert(fail && waste && info && fail < waste && waste < info, "%s", sec);
	const char *race = strstr(sec, "idle-close-race");
	const char *ignored = strstr(sec, "keepalive-ignored-by-server");
	const char *timeout = strstr(sec, "server-idle-timeout");
	cr_assert(race && ignored && timeout, "%s", sec);
	cr_expect(fail < race && race < waste, "the race is a failure");
	cr_expect(waste < ignored && ignored < info, "an early close throws reuse away");
	cr_expect(info < timeout, "a timeout as advertised is worth knowing");
	/* the clients' records: 2 requests on one connection (early-close), 3
	 * on local port 40486 (the third unanswered) and 1 on 40502: 1 + 2 + 0
	 * requests went without a handshake of their own */
	cr_expect(strstr(out, "reuse saved         3 TCP handshakes"), "%s", out);
	/* the race's example is its connection: in run 2 (python-client-idle),
	 * the connection of client port 40486 (the client's record) */
	long long id = tu_db_int(&d, "SELECT id FROM connections WHERE run_id = 2 AND client_port = 40486");
	cr_assert_gt(id, 0);
	char want[64];
	snprintf(want, sizeof want, "e.g. %lld\n", id);
	const char *eol = strchr(race, '\n');
	cr_assert_not_null(eol);
	cr_expect(strstr(race, want) && strstr(race, want) < eol + 1, "want '%s' on: %.*s", want,
		  (int)(eol - race), race);
	free(out);
	tu_db_close(&d);
}
