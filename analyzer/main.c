/*
 * main.c - the kalens command line: read, live, report, sql.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "clickhouse.h"
#include "dissect.h"
#include "export.h"
#include "kl.h"
#include "report.h"
#include "ship.h"
#include "sqlout.h"
#include "store.h"
#include "story.h"
#include "tls_keylog.h"
#include "workers.h"

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
	"  live    capture on a network interface into a database\n"
	"  report  print an overview of a database\n"
	"  conn    tell one connection's story: its requests, its close, its findings\n"
	"  export  write a database as HAR 1.2 or NDJSON, for other tools\n"
	"  sql     run read-only SQL against a database\n"
	"  schema  print the database schema kalens creates\n"
	"  ship    copy a database into ClickHouse (docs/fleet.md)\n"
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
	"A FILE of - reads standard input; it and a FIFO are read as the data\n"
	"arrives.  A FILE that is not a capture is skipped (no database is made\n"
	"for it); damaged gzip data keeps what came before it (run 'truncated').\n"
	"\n"
	"  -o, --output DB          database to write (default: " DEFAULT_DB ")\n"
	"  -f, --filter EXPR        BPF filter, as tcpdump writes it\n"
	"  -c, --count N            stop each FILE after N packets\n"
	"  -q, --quiet              no summary, no progress line\n"
	"      --keylog FILE        TLS secrets in NSS key log format (SSLKEYLOGFILE):\n"
	"                           connections with keys in FILE are decrypted and\n"
	"                           their HTTP analysed as cleartext\n"
	"      --idle-timeout SECS  end a connection idle this long (default 900)\n"
	"      --linger SECS        keep a closed connection for trailing packets\n"
	"                           (default 10)\n"
	"      --max-conns N        connections tracked at once (default 1048576);\n"
	"                           beyond, one is evicted (as for --memcap)\n"
	"      --memcap SIZE        analysis state held at most: connections,\n"
	"                           reassembly, dissectors (default 256M; K, M, G\n"
	"                           suffixes; 0: no cap); beyond, connections are\n"
	"                           evicted: closed ones first, then those seen one\n"
	"                           way, then the least recently active\n"
	"      --threads N          analysis workers, 1 to " KL_STR(WORKERS_MAX) " (default 1): each\n"
	"                           takes the connections that hash to it; the rows\n"
	"                           are the same for any N (docs/performance.md)\n"
	"      --reasm-conn-cap B   out-of-order bytes buffered per connection\n"
	"                           (default 1048576)\n"
	"      --reasm-cap B        out-of-order bytes buffered in all\n"
	"                           (default 268435456)\n"
	"      --head-limit B       longest HTTP message head kept (default 65536,\n"
	"                           at least 1024); longer heads are skipped and\n"
	"                           reported as header-too-large findings\n"
	"      --ka-tolerance SECS  a server close counts as its advertised\n"
	"                           Keep-Alive timeout from timeout - max(SECS,\n"
	"                           10% of it) on (default 1); earlier is\n"
	"                           keepalive-ignored-by-server\n"
	"      --quick-close SECS   with no timeout advertised, a server close\n"
	"                           sooner than this after the last response is\n"
	"                           keepalive-ignored-by-server (default 1)\n"
	"      --reuse-window SECS  a client's next connection to a server within\n"
	"                           this of a one-request connection's end (or the\n"
	"                           advertised Keep-Alive timeout) is missed reuse,\n"
	"                           and a request sent again within it after an\n"
	"                           idle-close race a retry (default 5)\n"
	"      --sensor NAME        this sensor's name in runs.sensor (default: the\n"
	"                           host name); each run also gets a random UUID\n"
	"      --ship URL           while reading, ship the database to ClickHouse at\n"
	"                           URL as kalens ship does (every 2 s; the database\n"
	"                           is the spool: rows wait in it while the server\n"
	"                           is down), and a last time at the end\n"
	"      --ship-wait SECS     how long that last pass may take (default 60);\n"
	"                           what is left is sent by the next kalens ship\n"
	"  -h, --help               this text\n"
	"\n"
	"A progress line is shown on stderr when it is a terminal.  SIGINT or\n"
	"SIGTERM stops reading: what was read is stored, the run is marked\n"
	"'interrupted', and the exit status is 1.\n";

static const char usage_live[] =
	"usage: kalens live -i IFACE [OPTIONS]\n"
	"       kalens live -D\n"
	"\n"
	"Capture on a network interface into the database as one run, until\n"
	"SIGINT or SIGTERM (Ctrl-C), --duration or --count.  Finished connections\n"
	"are committed every few seconds, so kalens report and kalens sql work on\n"
	"the database while the capture runs.  At the end, connections still open\n"
	"are stored as open and the kernel's received/dropped counts recorded.\n"
	"\n"
	"  -i, --interface IFACE    interface to capture on ('any': all of them)\n"
	"  -D, --list-interfaces    list the interfaces and exit\n"
	"  -o, --output DB          database to write (default: " DEFAULT_DB ")\n"
	"  -f, --filter EXPR        BPF filter, as tcpdump writes it\n"
	"  -w, --write FILE         also save the packets to FILE (pcap), as tcpdump -w\n"
	"  -c, --count N            stop after N packets\n"
	"      --duration SECS      stop after SECS seconds\n"
	"  -s, --snaplen BYTES      bytes kept per packet (default 262144); a smaller\n"
	"                           value turns the rest of each packet into gaps\n"
	"  -B, --buffer-size KIB    kernel capture buffer in KiB (default 32768)\n"
	"  -p, --no-promiscuous-mode\n"
	"                           do not put the interface in promiscuous mode\n"
	"      --immediate          deliver each packet at once instead of in\n"
	"                           batches (more wake-ups, less delay)\n"
	"  -Z, --user NAME          give up root for NAME once the capture, the save\n"
	"                           file and the database are open (they are handed\n"
	"                           to NAME), as tcpdump -Z does\n"
	"  -q, --quiet              no status line, no summary\n"
	"      --idle-timeout SECS, --linger SECS, --max-conns N, --memcap SIZE,\n"
	"      --threads N, --reasm-conn-cap B, --reasm-cap B, --head-limit B,\n"
	"      --ka-tolerance SECS, --quick-close SECS, --reuse-window SECS\n"
	"                           as for kalens read, but --linger is 2 by default\n"
	"                           (closed connections are stored sooner); idle\n"
	"                           connections end by the clock even when no packet\n"
	"                           comes\n"
	"      --keylog FILE        as for kalens read; lines the client appends to\n"
	"                           FILE during the capture are read as needed\n"
	"      --sensor NAME, --ship URL, --ship-wait SECS\n"
	"                           as for kalens read; rows are shipped a few\n"
	"                           seconds after they are committed\n"
	"  -h, --help               this text\n"
	"\n"
	"A status line (packets, connections open, requests, drops) is shown on\n"
	"stderr when it is a terminal.  A second SIGINT exits at once; the\n"
	"database stays consistent (the run keeps status 'running').\n";

static const char usage_report[] =
	"usage: kalens report [OPTIONS] DB\n"
	"\n"
	"Print an overview of the connections stored in DB.\n"
	"\n"
	"  -r, --run ID   only this run (default: all runs)\n"
	"      --json     the same figures as one JSON object, for scripts\n"
	"      --html FILE  write one self-contained HTML page to FILE: requests per\n"
	"                 connection, idle times against the advertised timeout, a\n"
	"                 waterfall of the busiest server's connections, the findings\n"
	"  -h, --help     this text\n";

static const char usage_conn[] =
	"usage: kalens conn [OPTIONS] DB ID\n"
	"\n"
	"Tell the story of connection ID (connections.id, as report and sql show\n"
	"it): its endpoints, TLS, HTTP/2, tunnel; each request and response in\n"
	"order with what both sides said about the connection, the idle gaps and\n"
	"pipelining; how it closed, after how much idle, against what the server\n"
	"advertised; its findings and what they mean.\n"
	"\n"
	"      --json     the connection's row, its requests and findings as one\n"
	"                 JSON object\n"
	"  -h, --help     this text\n";

static const char usage_export[] =
	"usage: kalens export (--har FILE | --ndjson) [-r ID] DB\n"
	"\n"
	"Write what DB holds in a format other tools read.\n"
	"\n"
	"      --har FILE   HAR 1.2, as browsers' developer tools save it: an entry\n"
	"                   per request with its timings (connect and ssl on a\n"
	"                   connection's first request) and its connection id\n"
	"      --ndjson     one JSON object per line on standard output: runs,\n"
	"                   connections, requests, findings and attempts, each with\n"
	"                   \"type\" and its columns, times in ISO 8601 UTC\n"
	"  -r, --run ID     only this run (default: all runs)\n"
	"  -h, --help       this text\n";

static const char usage_sql[] =
	"usage: kalens sql [OPTIONS] DB SQL\n"
	"\n"
	"Run SQL (one or more statements) against DB, read-only: a statement that\n"
	"would write anywhere (INSERT, VACUUM INTO, a writing PRAGMA, ATTACH) is\n"
	"refused.  Tables and columns are described in docs/schema.md.\n"
	"\n"
	"      --csv      comma-separated output (RFC 4180), with a header row\n"
	"      --tsv      tab-separated output, with a header row\n"
	"      --localtime  capture times (first_seen, request_ts, ...: columns\n"
	"                 selected as they are stored) as local time,\n"
	"                 2026-12-03 05:45:41.610549, not epoch seconds\n"
	"  -h, --help     this text\n";

static const char usage_schema[] =
	"usage: kalens schema [OPTIONS] [TABLE]\n"
	"\n"
	"Print the SQLite schema kalens creates (tables, indexes, views), made from\n"
	"the same column declarations it stores with.\n"
	"\n"
	"      --markdown  the column tables of docs/schema.md instead (all tables,\n"
	"                  or TABLE: runs, connections, requests, findings)\n"
	"      --clickhouse  the same tables for ClickHouse (18.16 or later), for\n"
	"                  kalens ship (docs/fleet.md)\n"
	"      --cluster NAME  with --clickhouse: for the cluster NAME of the\n"
	"                  servers' remote_servers: <table>_local on each server and\n"
	"                  Distributed tables <table> over them\n"
	"      --database DB  with --clickhouse: the database (default: kalens)\n"
	"  -h, --help      this text\n";

static const char usage_ship[] =
	"usage: kalens ship [OPTIONS] DB URL\n"
	"\n"
	"Copy what the database DB holds into ClickHouse at URL, over its HTTP\n"
	"interface (http://host:8123/?database=kalens, or https://).  Only what\n"
	"was not shipped to URL before is sent, in large compressed inserts; how\n"
	"far each table went is recorded in DB after the server accepted it, so\n"
	"shipping again, or after a failure, sends the rest.  The tables must\n"
	"exist: kalens schema --clickhouse prints them (docs/fleet.md).\n"
	"Credentials go in the URL (http://user:password@host:8123/) or in\n"
	"KALENS_CLICKHOUSE_USER and KALENS_CLICKHOUSE_PASSWORD; they are never\n"
	"printed.\n"
	"\n"
	"      --sensor NAME   for runs made before runs.sensor existed (default:\n"
	"                      the host name)\n"
	"      --batch ROWS    rows per insert at most (default 200000)\n"
	"      --cacert FILE   CA certificates for https:// (default: the system's)\n"
	"  -q, --quiet         no summary\n"
	"  -h, --help          this text\n";

/* After a usage error: the command's usage line and where its options
 * are, not the whole help, which would bury the error.  Returns 2. */
static int usage_hint(const char *usage)
{
	size_t n = strcspn(usage, "\n");
	char cmd[32] = "";
	/* "usage: kalens read [OPTIONS] FILE...": the command is its third
	 * word, unless it is the placeholder of the main usage. */
	if (sscanf(usage, "usage: kalens %31[a-z]", cmd) != 1)
		cmd[0] = '\0';
	fprintf(stderr, "%.*s\nTry 'kalens %s%s--help' for more.\n", (int)n, usage, cmd,
		cmd[0] ? " " : "");
	return 2;
}

/* "kalens: " and the message on one line, then usage_hint().  Returns 2. */
static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "kalens: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return usage_hint(usage);
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

/* A byte count with an optional binary suffix (256M = 256 MiB; K, M, G),
 * at most 16 TiB. */
static bool parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return false;
	int shift = 0;
	if (*end && !end[1])
		shift = strchr("kK", *end) ? 10 : strchr("mM", *end) ? 20 : strchr("gG", *end) ? 30 : -1;
	else if (*end)
		shift = -1;
	v *= (double)((size_t)1 << (shift > 0 ? shift : 0));
	if (shift < 0 || v > (double)((size_t)1 << 44))
		return false;
	*out = (size_t)v;
	return true;
}

/* --count: a whole number of packets, at least 1. */
static bool parse_count(const char *s, uint64_t *out)
{
	double v;
	if (!parse_number(s, 1e18, &v) || v < 1 || v != (double)(uint64_t)v)
		return false;
	*out = (uint64_t)v;
	return true;
}

enum {
	OPT_IDLE = 256, OPT_LINGER, OPT_MAX_CONNS, OPT_REASM_CONN, OPT_REASM, OPT_CSV, OPT_TSV,
	OPT_JSON, OPT_HEAD_LIMIT, OPT_DURATION, OPT_IMMEDIATE, OPT_KA_TOLERANCE, OPT_QUICK_CLOSE,
	OPT_REUSE_WINDOW, OPT_HTML, OPT_KEYLOG, OPT_MARKDOWN, OPT_SENSOR, OPT_CLICKHOUSE,
	OPT_CLUSTER, OPT_DATABASE, OPT_BATCH, OPT_SHIP, OPT_SHIP_WAIT, OPT_MEMCAP, OPT_THREADS,
	OPT_LOCALTIME, OPT_HAR, OPT_NDJSON,
};

#define FLOW_LONG_OPTIONS \
	{ "idle-timeout", required_argument, NULL, OPT_IDLE }, \
	{ "linger", required_argument, NULL, OPT_LINGER }, \
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS }, \
	{ "memcap", required_argument, NULL, OPT_MEMCAP }, \
	{ "threads", required_argument, NULL, OPT_THREADS }, \
	{ "reasm-conn-cap", required_argument, NULL, OPT_REASM_CONN }, \
	{ "reasm-cap", required_argument, NULL, OPT_REASM }, \
	{ "head-limit", required_argument, NULL, OPT_HEAD_LIMIT }, \
	{ "ka-tolerance", required_argument, NULL, OPT_KA_TOLERANCE }, \
	{ "quick-close", required_argument, NULL, OPT_QUICK_CLOSE }, \
	{ "reuse-window", required_argument, NULL, OPT_REUSE_WINDOW }, \
	{ "keylog", required_argument, NULL, OPT_KEYLOG }, \
	{ "sensor", required_argument, NULL, OPT_SENSOR }, \
	{ "ship", required_argument, NULL, OPT_SHIP }, \
	{ "ship-wait", required_argument, NULL, OPT_SHIP_WAIT }

/* A sensor name: 1 to 128 printable ASCII characters (it is shipped and
 * printed as it is). */
static bool sensor_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* The analysis options read and live share: 0 taken, else 2 (a usage
 * error, or not an option of the command: printed). */
static int flow_option(int c, const char *arg, struct analyze_options *o, const char *usage)
{
	struct flow_config *f = &o->flow;
	double v;
	char err[1024];
	switch (c) {
	case OPT_SHIP: {
		char dest[1024];
		if (!ship_destination(arg, dest, sizeof dest))
			return usage_error(usage, "--ship %s: not an http:// or https:// URL",
					   strncmp(arg, "http", 4) ? arg : "(the URL given)");
		o->ship_url = arg;
		return 0;
	}
	case OPT_SHIP_WAIT:
		if (!parse_number(arg, 1e6, &v))
			return usage_error(usage, "bad number of seconds '%s'", arg);
		o->ship_wait = v;
		return 0;
	case OPT_SENSOR:
		if (!sensor_name_ok(arg))
			return usage_error(usage, "bad sensor name '%s' (1 to 128 printable characters)",
					   arg);
		o->sensor = arg;
		return 0;
	case OPT_KEYLOG:
		tls_keylog_free(f->keylog);
		f->keylog = tls_keylog_read(arg, err, sizeof err);
		if (!f->keylog) {
			fprintf(stderr, "kalens: --keylog %s\n", err);
			return 2;
		}
		return 0;
	case OPT_KA_TOLERANCE:
	case OPT_QUICK_CLOSE:
	case OPT_REUSE_WINDOW:
		if (!parse_number(arg, 1e6, &v))
			return usage_error(usage, "bad number of seconds '%s'", arg);
		if (c == OPT_KA_TOLERANCE)
			o->keepalive.tolerance = KL_SEC(v);
		else if (c == OPT_QUICK_CLOSE)
			o->keepalive.quick_close = KL_SEC(v);
		else
			o->keepalive.window_s = v;
		return 0;
	case OPT_IDLE:
	case OPT_LINGER:
		if (!parse_number(arg, 1e9, &v))
			return usage_error(usage, "bad number of seconds '%s'", arg);
		if (c == OPT_IDLE)
			f->idle_timeout = KL_SEC(v);
		else
			f->closed_linger = KL_SEC(v);
		return 0;
	case OPT_MAX_CONNS:
		if (!parse_number(arg, (double)(1u << 30), &v) || v < 1)
			return usage_error(usage, "bad connection count '%s'", arg);
		f->max_conns = (uint32_t)v;
		return 0;
	case OPT_MEMCAP:
		if (!parse_size(arg, &f->memcap) || (f->memcap && f->memcap < ((size_t)1 << 20)))
			return usage_error(usage, "bad memory size '%s' (0, or 1M or more)", arg);
		return 0;
	case OPT_THREADS:
		if (!parse_number(arg, WORKERS_MAX, &v) || v < 1 || v != (double)(unsigned)v)
			return usage_error(usage, "bad thread count '%s' (1 to " KL_STR(WORKERS_MAX) ")",
					   arg);
		o->threads = (unsigned)v;
		return 0;
	case OPT_HEAD_LIMIT:
		if (!parse_number(arg, (double)(1u << 30), &v) || v < 1024)
			return usage_error(usage, "bad head limit '%s' (1024 or more)", arg);
		f->head_limit = (size_t)v;
		return 0;
	case OPT_REASM_CONN:
	case OPT_REASM:
		if (!parse_number(arg, (double)((size_t)1 << 40), &v))
			return usage_error(usage, "bad byte count '%s'", arg);
		if (c == OPT_REASM)
			f->reasm_global_cap = (size_t)v;
		else
			f->reasm_conn_cap = (size_t)v;
		return 0;
	default:                          /* getopt said what was wrong */
		return usage_hint(usage);
	}
}

/* Defaults both read and live start from; every dissector on. */
static void analyze_defaults(struct analyze_options *o)
{
	memset(o, 0, sizeof *o);
	flow_config_defaults(&o->flow);
	keepalive_config_defaults(&o->keepalive);
	o->flow.dissectors = dissect_builtin();
	o->flush_interval = 2.0;          /* live: commit at least this often */
}

/* Wire up stopping by signal and the progress line for the runs. */
static void prepare_runs(struct analyze_options *o, bool quiet)
{
	install_signals();
	o->stop = &stop_requested;
	o->progress = !quiet && isatty(STDERR_FILENO);
}

/* Open the database once a capture has opened, so a capture that cannot
 * be read leaves no database where there was none; NULL (message printed)
 * when the database cannot be used. */
static struct store *open_db(const char *db)
{
	char err[1024];
	struct store *st = store_open(db, err, sizeof err);
	if (!st)
		fprintf(stderr, "kalens: %s\n", err);
	return st;
}

/* --ship: the shipper thread, once the database is open. */
static struct ship_bg *ship_begin(const struct analyze_options *o, const char *db,
				  struct ship_options *so)
{
	if (!o->ship_url)
		return NULL;
	memset(so, 0, sizeof *so);
	so->sensor = o->sensor;
	char err[1024];
	struct ship_bg *b = ship_bg_start(db, o->ship_url, so, 2.0, err, sizeof err);
	if (!b)
		fprintf(stderr, "kalens: %s\n", err);
	return b;
}

/* The last pass; what was shipped, or what waits. */
static void ship_end(struct ship_bg *b, const struct analyze_options *o, const char *db, bool quiet)
{
	if (!b)
		return;
	struct ship_stats st;
	char err[1024], dest[1024], rows[256];
	int rc = ship_bg_stop(b, o->ship_wait > 0 ? o->ship_wait : 60, &st, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kalens: %s; what was not shipped waits in %s: kalens ship %s URL "
			"sends it\n", err, db, db);
	else if (!quiet)
		fprintf(stderr, "kalens: shipped to %s: %s\n",
			ship_destination(o->ship_url, dest, sizeof dest),
			ship_rows_text(&st, rows, sizeof rows));
}

/* What the user should know of a run's capture beyond its counts. */
static void warn_run(const char *path, const struct store_run_totals *t)
{
	if (t->packets_time_backwards > 0)
		fprintf(stderr, "kalens: %s: %llu packets are timestamped earlier than the packet "
			"before them; intervals that would come out negative are stored as NULL\n",
			path, (unsigned long long)t->packets_time_backwards);
	if (t->connections_evicted_memory > 0)
		fprintf(stderr, "kalens: %s: %llu connections were evicted to keep the analysis "
			"state within --memcap %llu MiB (close_kind 'evicted'); a larger cap keeps "
			"them whole\n", path, (unsigned long long)t->connections_evicted_memory,
			(unsigned long long)(t->memcap >> 20));
}

static int cmd_read_with(int argc, char **argv, struct analyze_options *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		FLOW_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = DEFAULT_DB;
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+o:f:c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': db = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'c':
			if (!parse_count(optarg, &o->max_packets))
				return usage_error(usage_read, "bad packet count '%s'", optarg);
			break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage_read, stdout); return 0;
		default:
			if (flow_option(c, optarg, o, usage_read) != 0)
				return 2;
			break;
		}
	}
	if (optind >= argc)
		return usage_error(usage_read, "%s", "no capture file given");

	char err[1024];
	prepare_runs(o, quiet);
	struct store *st = NULL;
	struct ship_options so;
	struct ship_bg *ship = NULL;
	int status = 0;
	for (int i = optind; i < argc && !stop_requested; i++) {
		struct capture *cap = capture_open_file(argv[i], o->filter, err, sizeof err);
		if (!cap) {
			fprintf(stderr, "kalens: %s\n", err);
			status = 1;
			continue;
		}
		if (!st && !(st = open_db(db))) {
			capture_close(cap);
			return 1;
		}
		if (!ship && o->ship_url && !(ship = ship_begin(o, db, &so))) {
			capture_close(cap);
			store_close(st);
			return 1;
		}
		struct analyze_result res;
		int rc = analyze_capture(st, cap, argv[i], false, o, &res, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "kalens: %s\n", err);
			status = 1;
		}
		if (!quiet)
			warn_run(argv[i], &res.totals);
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
	ship_end(ship, o, db, quiet);
	return status;
}

static int cmd_read(int argc, char **argv)
{
	struct analyze_options o;
	analyze_defaults(&o);
	int rc = cmd_read_with(argc, argv, &o);
	tls_keylog_free(o.flow.keylog);
	return rc;
}

/* --user: hand the files kalens writes to the user, then become it. */
struct drop_ctx {
	const char *user;
	const char *db;
};

static int chown_if_there(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (chown(path, uid, gid) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot hand to the user: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int drop_privileges(void *ctx, struct capture *cap, char *err, size_t errlen)
{
	const struct drop_ctx *d = ctx;
	struct passwd *pw = getpwnam(d->user);
	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user", d->user);
		return -1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	char path[PATH_MAX + 8];
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(path, sizeof path, "%s%s", d->db, suffix[i]);
		if (chown_if_there(path, uid, gid, err, errlen) != 0)
			return -1;
	}
	int fd = capture_save_fd(cap);
	if (fd >= 0 && fchown(fd, uid, gid) != 0) {
		snprintf(err, errlen, "save file: cannot hand to %s: %s", d->user, strerror(errno));
		return -1;
	}
	if (initgroups(d->user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "--user %s: cannot become that user: %s", d->user,
			 strerror(errno));
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "--user %s: root could be regained; stopping", d->user);
		return -1;
	}
	return 0;
}

static int cmd_live_with(int argc, char **argv, struct analyze_options *o)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "list-interfaces", no_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },
		{ "filter", required_argument, NULL, 'f' },
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "snaplen", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "no-promiscuous-mode", no_argument, NULL, 'p' },
		{ "immediate", no_argument, NULL, OPT_IMMEDIATE },
		{ "user", required_argument, NULL, 'Z' },
		{ "quiet", no_argument, NULL, 'q' },
		FLOW_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = DEFAULT_DB;
	bool quiet = false, list = false;
	struct capture_live_options co = {
		.snaplen = 262144, .buffer_kib = 32768, .promisc = true, .timeout_ms = 250,
	};
	struct drop_ctx drop = { NULL, NULL };
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "+i:Do:f:w:c:s:B:pZ:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': co.iface = optarg; break;
		case 'D': list = true; break;
		case 'o': db = optarg; break;
		case 'f': co.filter = o->filter = optarg; break;
		case 'w': co.write_path = optarg; break;
		case 'c':
			if (!parse_count(optarg, &o->max_packets))
				return usage_error(usage_live, "bad packet count '%s'", optarg);
			break;
		case OPT_DURATION:
			if (!parse_number(optarg, 1e9, &v) || v <= 0)
				return usage_error(usage_live, "bad number of seconds '%s'", optarg);
			o->duration = v;
			break;
		case 's':
			if (!parse_number(optarg, 262144, &v) || v < 64)
				return usage_error(usage_live, "bad snaplen '%s' (64..262144)", optarg);
			co.snaplen = (int)v;
			break;
		case 'B':
			if (!parse_number(optarg, 4194304, &v) || v < 1)
				return usage_error(usage_live, "bad buffer size '%s' (KiB)", optarg);
			co.buffer_kib = (int)v;
			break;
		case 'p': co.promisc = false; break;
		case OPT_IMMEDIATE: co.immediate = true; break;
		case 'Z': drop.user = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage_live, stdout); return 0;
		default:
			if (flow_option(c, optarg, o, usage_live) != 0)
				return 2;
			break;
		}
	}
	char err[1024];
	if (list) {
		if (capture_list_interfaces(stdout, err, sizeof err) != 0) {
			fprintf(stderr, "kalens: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (optind < argc)
		return usage_error(usage_live, "unexpected argument '%s'", argv[optind]);
	if (!co.iface)
		return usage_error(usage_live, "%s", "no interface given (-i IFACE; -D lists them)");
	if (co.snaplen < 65535 && !quiet)
		fprintf(stderr, "kalens: warning: snaplen %d: the bytes of longer packets beyond it "
			"are lost, and show as gaps in the TCP streams\n", co.snaplen);

	prepare_runs(o, quiet);
	/* The database first: opening the interface creates the --write file,
	 * which must not be truncated for a database kalens then refuses. */
	struct store *st = open_db(db);
	if (!st)
		return 1;
	struct ship_options so;
	struct ship_bg *ship = NULL;
	if (o->ship_url && !(ship = ship_begin(o, db, &so))) {
		store_close(st);
		return 1;
	}
	struct capture *cap = capture_open_live(&co, err, sizeof err);
	if (!cap) {
		fprintf(stderr, "kalens: %s\n", err);
		store_close(st);
		ship_end(ship, o, db, true);
		return 1;
	}
	if (drop.user) {
		drop.db = db;
		o->ready = drop_privileges;
		o->ready_ctx = &drop;
	}
	struct analyze_result res;
	int rc = analyze_capture(st, cap, co.iface, true, o, &res, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kalens: %s\n", err);
	if (!quiet && res.run_id > 0)
		printf("%s: run %lld: %llu packets (%llu dropped), %llu connections, "
		       "%llu requests%s%s -> %s\n",
		       co.iface, (long long)res.run_id, (unsigned long long)res.totals.packets,
		       (unsigned long long)res.totals.packets_dropped,
		       (unsigned long long)res.totals.connections,
		       (unsigned long long)res.totals.requests,
		       res.totals.message ? "; " : "",
		       res.totals.message ? res.totals.message : "", db);
	store_close(st);
	ship_end(ship, o, db, quiet);
	return rc == 0 ? 0 : 1;
}

static int cmd_live(int argc, char **argv)
{
	struct analyze_options o;
	analyze_defaults(&o);
	/* A closed connection reaches the database (and report, sql) once its
	 * linger for trailing packets is over: live keeps it short. */
	o.flow.closed_linger = KL_SEC(FLOW_LIVE_LINGER_S);
	int rc = cmd_live_with(argc, argv, &o);
	tls_keylog_free(o.flow.keylog);
	return rc;
}

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "har", required_argument, NULL, OPT_HAR },
		{ "ndjson", no_argument, NULL, OPT_NDJSON },
		{ "run", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t run = 0;
	const char *har = NULL;
	bool ndjson = false;
	double v;
	int c;
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!parse_number(optarg, 9e15, &v) || v < 1)
				return usage_error(usage_export, "bad run id '%s'", optarg);
			run = (int64_t)v;
			break;
		case OPT_HAR: har = optarg; break;
		case OPT_NDJSON: ndjson = true; break;
		case 'h': fputs(usage_export, stdout); return 0;
		default: return usage_hint(usage_export);
		}
	}
	if (!har == !ndjson)
		return usage_error(usage_export, "%s", "give --har FILE or --ndjson, one of them");
	if (argc - optind != 1)
		return usage_error(usage_export, "%s", "expected one database");
	char err[1024] = "";
	FILE *out = stdout;
	if (har && !(out = fopen(har, "w"))) {
		fprintf(stderr, "kalens: %s: %s\n", har, strerror(errno));
		return 1;
	}
	int rc = export_write(argv[optind], run, har ? EXPORT_HAR : EXPORT_NDJSON, out, err,
			      sizeof err);
	if (har && fclose(out) != 0 && rc == 0) {
		snprintf(err, sizeof err, "%s: %s", har, strerror(errno));
		rc = -1;
	}
	if (rc != 0) {
		if (har)
			unlink(har);      /* no half-written file left behind */
		fprintf(stderr, "kalens: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_conn(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum story_format fmt = STORY_TEXT;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: fmt = STORY_JSON; break;
		case 'h': fputs(usage_conn, stdout); return 0;
		default: return usage_hint(usage_conn);
		}
	}
	if (argc - optind != 2)
		return usage_error(usage_conn, "%s", "expected a database and a connection id");
	double v;
	const char *id = argv[optind + 1];
	if (!parse_number(id, 9e15, &v) || v < 1 || v != (double)(int64_t)v)
		return usage_error(usage_conn, "bad connection id '%s'", id);
	char err[1024] = "";
	int rc = story_print(argv[optind], (int64_t)v, fmt, stdout, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "kalens: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t run = 0;
	enum report_format fmt = REPORT_TEXT;
	const char *html = NULL;
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!parse_number(optarg, 9e15, &v) || v < 1)
				return usage_error(usage_report, "bad run id '%s'", optarg);
			run = (int64_t)v;
			break;
		case OPT_JSON:
		case OPT_HTML:
			/* Two formats asked for: say so rather than pick one. */
			if (fmt != REPORT_TEXT && fmt != (c == OPT_JSON ? REPORT_JSON : REPORT_HTML))
				return usage_error(usage_report, "%s",
						   "--json and --html are two formats: give one");
			fmt = c == OPT_JSON ? REPORT_JSON : REPORT_HTML;
			if (c == OPT_HTML)
				html = optarg;
			break;
		case 'h': fputs(usage_report, stdout); return 0;
		default: return usage_hint(usage_report);
		}
	}
	if (argc - optind != 1)
		return usage_error(usage_report, "%s", "expected one database");
	char err[1024] = "";
	FILE *out = stdout;
	if (html && !(out = fopen(html, "w"))) {
		fprintf(stderr, "kalens: %s: %s\n", html, strerror(errno));
		return 1;
	}
	int rc = report_print(argv[optind], run, fmt, out, err, sizeof err);
	if (html && fclose(out) != 0 && rc == 0) {
		snprintf(err, sizeof err, "%s: %s", html, strerror(errno));
		rc = -1;
	}
	if (rc != 0) {
		fprintf(stderr, "kalens: %s\n", err);
		if (html)
			remove(html);
		return 1;
	}
	return 0;
}

static int cmd_sql(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "tsv", no_argument, NULL, OPT_TSV },
		{ "localtime", no_argument, NULL, OPT_LOCALTIME },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sqlout_format fmt = SQLOUT_TABLE;
	unsigned flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CSV:
		case OPT_TSV:
			if (fmt != SQLOUT_TABLE && fmt != (c == OPT_CSV ? SQLOUT_CSV : SQLOUT_TSV))
				return usage_error(usage_sql, "%s", "--csv and --tsv are two formats: give one");
			fmt = c == OPT_CSV ? SQLOUT_CSV : SQLOUT_TSV;
			break;
		case OPT_LOCALTIME: flags |= SQLOUT_LOCALTIME; break;
		case 'h': fputs(usage_sql, stdout); return 0;
		default: return usage_hint(usage_sql);
		}
	}
	if (argc - optind != 2)
		return usage_error(usage_sql, "%s", "expected a database and an SQL text");
	char err[1024];
	int rc = sqlout_run(argv[optind], argv[optind + 1], fmt, flags, stdout, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "kalens: %s\n", err);
	return rc == 0 ? 0 : 1;
}

/* A ClickHouse identifier kalens writes into DDL unquoted. */
static bool ch_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64 || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

static int cmd_schema(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "markdown", no_argument, NULL, OPT_MARKDOWN },
		{ "clickhouse", no_argument, NULL, OPT_CLICKHOUSE },
		{ "cluster", required_argument, NULL, OPT_CLUSTER },
		{ "database", required_argument, NULL, OPT_DATABASE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool markdown = false, clickhouse = false;
	const char *cluster = NULL, *database = "kalens";
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_MARKDOWN: markdown = true; break;
		case OPT_CLICKHOUSE: clickhouse = true; break;
		case OPT_CLUSTER: cluster = optarg; break;
		case OPT_DATABASE: database = optarg; break;
		case 'h': fputs(usage_schema, stdout); return 0;
		default: return usage_hint(usage_schema);
		}
	}
	if (markdown && clickhouse)
		return usage_error(usage_schema, "%s", "--markdown or --clickhouse, not both");
	if ((cluster || strcmp(database, "kalens")) && !clickhouse)
		return usage_error(usage_schema, "%s", "--cluster and --database go with --clickhouse");
	if (cluster && !ch_name_ok(cluster))
		return usage_error(usage_schema, "bad cluster name '%s'", cluster);
	if (!ch_name_ok(database))
		return usage_error(usage_schema, "bad database name '%s'", database);
	if (argc - optind > 1 || (argc - optind == 1 && !markdown))
		return usage_error(usage_schema, "%s", "a table name goes with --markdown");
	if (clickhouse)
		return ch_schema(stdout, database, cluster) == 0 ? 0 : 1;
	if (!markdown)
		return store_schema_sql(stdout) == 0 ? 0 : 1;
	struct store_decls d;
	store_decls_init(&d);
	const char *want = argc > optind ? argv[optind] : NULL;
	bool found = false;
	for (size_t i = 0; i < STORE_TABLES; i++) {
		if (want && strcmp(want, d.tables[i].name))
			continue;
		if (!want)
			printf("%s### %s\n\n", i ? "\n" : "", d.tables[i].name);
		columns_markdown(&d.tables[i], stdout);
		found = true;
	}
	if (!found)
		return usage_error(usage_schema, "no table '%s'", want);
	return 0;
}

static int cmd_ship(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sensor", required_argument, NULL, OPT_SENSOR },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "cacert", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ship_options o = { 0 };
	bool quiet = false;
	double v;
	int c;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SENSOR:
			if (!sensor_name_ok(optarg))
				return usage_error(usage_ship, "bad sensor name '%s'", optarg);
			o.sensor = optarg;
			break;
		case OPT_BATCH:
			if (!parse_number(optarg, 1e8, &v) || v < 1)
				return usage_error(usage_ship, "bad row count '%s'", optarg);
			o.batch_rows = (size_t)v;
			break;
		case 'C': o.cacert = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(usage_ship, stdout); return 0;
		default: return usage_hint(usage_ship);
		}
	}
	if (argc - optind != 2)
		return usage_error(usage_ship, "%s", "a database and a URL");
	const char *db = argv[optind], *url = argv[optind + 1];
	install_signals();
	o.stop = &stop_requested;
	struct ship_stats st;
	char err[1024];
	int rc = ship_database(db, url, &o, &st, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "kalens: %s\n", err);
		return 1;
	}
	char dest[1024], rows[256];
	if (!quiet)
		fprintf(stderr, "kalens: shipped to %s: %s in %llu inserts (%llu bytes compressed)%s\n",
			ship_destination(url, dest, sizeof dest), ship_rows_text(&st, rows, sizeof rows),
			(unsigned long long)st.inserts, (unsigned long long)st.bytes,
			stop_requested ? "; stopped by a signal, the rest is sent next time" : "");
	return stop_requested ? 1 : 0;
}

/* kalens' version and each library's, as the library itself reports it
 * (the one loaded, not the one built against). */
static void print_version(void)
{
	printf("kalens %s\n", KALENS_VERSION);
	printf("%s\n", pcap_lib_version());
	printf("SQLite %s\n", sqlite3_libversion());
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("nghttp2 %s\n", nghttp2_version(0)->version_str);
	printf("zlib %s\n", zlibVersion());
	const char *curl = ship_curl_version();
	printf("%s (for kalens ship)\n", curl ? curl : "libcurl: not found (kalens ship needs libcurl4)");
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
	/* SQLite's memory statistics take a global mutex on every allocation:
	 * kalens reads none of them. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* Each command parses its own options: argv[1] becomes its argv[0]. */
	optind = 1;
	if (!strcmp(cmd, "read"))
		return cmd_read(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return cmd_live(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "sql"))
		return cmd_sql(argc - 1, argv + 1);
	if (!strcmp(cmd, "conn"))
		return cmd_conn(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(cmd, "schema"))
		return cmd_schema(argc - 1, argv + 1);
	if (!strcmp(cmd, "ship"))
		return cmd_ship(argc - 1, argv + 1);
	return usage_error(usage_main, "unknown command '%s'", cmd);
}
