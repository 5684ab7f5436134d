/*
 * main.c - the kalens command line: read, report, sql.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "dissect.h"
#include "kl.h"
#include "report.h"
#include "sqlout.h"
#include "store.h"

#define DEFAULT_DB "kalens.db"

/* The one piece of process-wide state: signal handlers can only talk to
 * the program through a volatile sig_atomic_t. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	if (stop_requested) {
		/* Second signal: leave now.  SQLite's journal keeps the database
		 * consistent; the run stays marked 'running'. */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static const char usage_main[] =
	"usage: kalens COMMAND [OPTIONS] ...\n"
	"\n"
	"kalens (keep-alive lens) reads packet captures and finds out how HTTP/1.x\n"
	"clients and servers reuse their connections: TCP connections, requests,\n"
	"what each side said about keep-alive and who closed, stored in a SQLite\n"
	"database you can query.\n"
	"\n"
	"commands:\n"
	"  read    read capture files (pcap, pcapng, gzip) into a database\n"
	"  report  print an overview of a database\n"
	"  sql     run read-only SQL against a database\n"
	"\n"
	"  kalens COMMAND --help   options of a command\n"
	"  kalens --version        version and library versions\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error.  See kalens(1).\n";

static const char usage_read[] =
	"usage: kalens read [OPTIONS] FILE...\n"
	"\n"
	"Read each capture FILE (pcap or pcapng, optionally gzip-compressed) into\n"
	"the database as one run; earlier runs in the database are kept.\n"
	"A FILE of - reads standard input.\n"
	"\n"
	"  -o, --output DB          database to write (default: " DEFAULT_DB ")\n"
	"  -f, --filter EXPR        BPF filter, as tcpdump writes it\n"
	"  -q, --quiet              no summary, no progress line\n"
	"      --idle-timeout SECS  end a connection idle this long (default 900)\n"
	"      --linger SECS        keep a closed connection for trailing packets\n"
	"                           (default 10)\n"
	"      --max-conns N        connections tracked at once (default 1048576);\n"
	"                           beyond, the least recently active is ended\n"
	"      --reasm-conn-cap B   out-of-order bytes buffered per connection\n"
	"                           (default 1048576)\n"
	"      --reasm-cap B        out-of-order bytes buffered in all\n"
	"                           (default 268435456)\n"
	"      --head-limit B       longest HTTP message head kept (default 65536,\n"
	"                           at least 1024); longer heads are skipped and\n"
	"                           reported as header-too-large findings\n"
	"  -h, --help               this text\n"
	"\n"
	"A progress line is shown on stderr when it is a terminal.  SIGINT or\n"
	"SIGTERM stops reading: what was read is stored, the run is marked\n"
	"'interrupted', and the exit status is 1.\n";

static const char usage_report[] =
	"usage: kalens report [OPTIONS] DB\n"
	"\n"
	"Print an overview of the connections stored in DB.\n"
	"\n"
	"  -r, --run ID   only this run (default: all runs)\n"
	"      --json     the same figures as one JSON object, for scripts\n"
	"  -h, --help     this text\n";

static const char usage_sql[] =
	"usage: kalens sql [OPTIONS] DB SQL\n"
	"\n"
	"Run SQL (one or more statements) against DB, read-only.  Tables and\n"
	"columns are described in docs/schema.md.\n"
	"\n"
	"      --csv      comma-separated output (RFC 4180), with a header row\n"
	"      --tsv      tab-separated output, with a header row\n"
	"  -h, --help     this text\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "kalens: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

/* A non-negative number, possibly fractional; false on junk. */
static bool parse_number(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > max || v != v)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_IDLE = 256, OPT_LINGER, OPT_MAX_CONNS, OPT_REASM_CONN, OPT_REASM, OPT_CSV, OPT_TSV,
	OPT_JSON, OPT_HEAD_LIMIT,
};

static int cmd_read(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "linger", required_argument, NULL, OPT_LINGER },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "reasm-conn-cap", required_argument, NULL, OPT_REASM_CONN },
		{ "reasm-cap", required_argument, NULL, OPT_REASM },
		{ "head-limit", required_argument, NULL, OPT_HEAD_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = DEFAULT_DB;
	bool quiet = false;
	struct analyze_options o;
	memset(&o, 0, sizeof o);
	flow_config_defaults(&o.flow);
	o.flow.dissectors = dissect_builtin();
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "+o:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': db = optarg; break;
		case 'f': o.filter = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage_read, stdout); return 0;
		case OPT_IDLE:
		case OPT_LINGER:
			if (!parse_number(optarg, 1e9, &v))
				return usage_error(usage_read, "bad number of seconds '%s'", optarg);
			if (c == OPT_IDLE)
				o.flow.idle_timeout = KL_SEC(v);
			else
				o.flow.closed_linger = KL_SEC(v);
			break;
		case OPT_MAX_CONNS:
			if (!parse_number(optarg, (double)(1u << 30), &v) || v < 1)
				return usage_error(usage_read, "bad connection count '%s'", optarg);
			o.flow.max_conns = (uint32_t)v;
			break;
		case OPT_HEAD_LIMIT:
			if (!parse_number(optarg, (double)(1u << 30), &v) || v < 1024)
				return usage_error(usage_read, "bad head limit '%s' (1024 or more)", optarg);
			o.flow.head_limit = (size_t)v;
			break;
		case OPT_REASM_CONN:
		case OPT_REASM:
			if (!parse_number(optarg, (double)((size_t)1 << 40), &v))
				return usage_error(usage_read, "bad byte count '%s'", optarg);
			if (c == OPT_REASM)
				o.flow.reasm_global_cap = (size_t)v;
			else
				o.flow.reasm_conn_cap = (size_t)v;
			break;
		default:
			fputs(usage_read, stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return usage_error(usage_read, "%s", "no capture file given");

	char err[1024];
	struct store *st = store_open(db, err, sizeof err);
	if (!st) {
		fprintf(stderr, "kalens: %s\n", err);
		return 1;
	}
	install_signals();
	o.stop = &stop_requested;
	o.progress = !quiet && isatty(STDERR_FILENO);

	int status = 0;
	for (int i = optind; i < argc && !stop_requested; i++) {
		struct analyze_result res;
		int rc = analyze_file(st, argv[i], &o, &res, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "kalens: %s\n", err);
			status = 1;
		}
		if (!quiet && res.run_id > 0)
			printf("%s: run %lld: %llu packets, %llu connections, %llu requests%s -> %s\n",
			       argv[i], (long long)res.run_id,
			       (unsigned long long)res.totals.packets,
			       (unsigned long long)res.totals.connections,
			       (unsigned long long)res.totals.requests,
			       res.totals.status == STORE_RUN_COMPLETE ? "" : " (incomplete)",
			       db);
	}
	store_close(st);
	return status;
}

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t run = 0;
	enum report_format fmt = REPORT_TEXT;
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!parse_number(optarg, 9e15, &v) || v < 1)
				return usage_error(usage_report, "bad run id '%s'", optarg);
			run = (int64_t)v;
			break;
		case OPT_JSON: fmt = REPORT_JSON; break;
		case 'h': fputs(usage_report, stdout); return 0;
		default: fputs(usage_report, stderr); return 2;
		}
	}
	if (argc - optind != 1)
		return usage_error(usage_report, "%s", "expected one database");
	char err[1024];
	if (report_print(argv[optind], run, fmt, stdout, err, sizeof err) != 0) {
		fprintf(stderr, "kalens: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_sql(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "tsv", no_argument, NULL, OPT_TSV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sqlout_format fmt = SQLOUT_TABLE;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CSV: fmt = SQLOUT_CSV; break;
		case OPT_TSV: fmt = SQLOUT_TSV; break;
		case 'h': fputs(usage_sql, stdout); return 0;
		default: fputs(usage_sql, stderr); return 2;
		}
	}
	if (argc - optind != 2)
		return usage_error(usage_sql, "%s", "expected a database and an SQL text");
	char err[1024];
	int rc = sqlout_run(argv[optind], argv[optind + 1], fmt, stdout, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kalens: %s\n", err);
	return rc == 0 ? 0 : 1;
}

static void print_version(void)
{
	printf("kalens %s\n", KALENS_VERSION);
	printf("%s\n", pcap_lib_version());
	printf("SQLite %s\n", sqlite3_libversion());
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_main, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		print_version();
		return 0;
	}
	/* Each command parses its own options: argv[1] becomes its argv[0]. */
	optind = 1;
	if (!strcmp(cmd, "read"))
		return cmd_read(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "sql"))
		return cmd_sql(argc - 1, argv + 1);
	fprintf(stderr, "kalens: unknown command '%s'\n\n%s", cmd, usage_main);
	return 2;
}
