#!/usr/bin/env bash
# t_live.sh KALENS SOURCE_DIR - `kalens live` on the loopback interface,
# against a real HTTP server and a real client, checked against the client's
# own record (curl -w) of what it did.
#
# A python HTTP/1.1 keep-alive server listens on 127.0.0.1 on a free port
# (bounded by `timeout`, stopped by PID).  Each case starts `kalens live -i
# lo -f 'tcp port P'` in the background, waits until its run row says it is
# capturing, drives curl, stops kalens and reads the database:
#   - SIGINT and SIGTERM: exit 0, run complete, the client's connections and
#     requests (curl's num_connects and one row per URL), statuses, seq;
#   - a query while kalens is still writing (kalens sql sees finished
#     connections within the flush interval);
#   - --duration and --count end the run by themselves; -i any (SLL2);
#   - an idle connection ends by the clock while no packet comes, and
#     --max-conns evicts (counted in runs);
#   - --threads 3: rows committed while running, idle ends by the clock,
#     the rows match curl's record;
#   - the run row while running: counts, open connections, updated_at;
#     report's "running, updated N s ago", run_status's "stopped
#     unexpectedly"; closed connections stored within the live linger;
#   - --write saves packets that `kalens read` turns into the same rows;
#   - --user nobody: the capture runs as nobody, the database is nobody's;
#   - --keylog: HTTPS (python ssl, TLS 1.3) decrypted with the key log curl
#     writes during the capture (the file is empty when kalens starts);
#   - a second SIGINT exits at once and leaves a consistent database;
#   - a bad filter, a bad interface and no permission to capture are clear
#     errors (exit 1); a database kalens refuses leaves the --write file
#     untouched.
# Capturing needs root (or CAP_NET_RAW): without it the test fails and says so.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

name=t_live
tools="curl python3 sqlite3 timeout"
packages="curl python3 sqlite3 coreutils"
# shellcheck source=capture-lib.sh
source "$src/tests/capture-lib.sh"

# --- the server -------------------------------------------------------------
cat > "$tmp/server.py" <<'EOF'
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive unless the client closes
    def do_GET(self):
        if self.path == "/missing":
            body, code = b"not here\n", 404
        else:
            body, code = (self.path * 10).encode() + b"\n", 200
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Keep-Alive", "timeout=5, max=100")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass                                # a client that resets is not news
s = S(("127.0.0.1", 0), H)
if len(sys.argv) > 3:                       # CERT KEY: HTTPS
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(sys.argv[1], "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
EOF
timeout 300 python3 "$tmp/server.py" "$tmp/port" &
srv=$!
pids+=("$srv")
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || die "the test server did not start"
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"

# --- helpers ----------------------------------------------------------------
q() { sqlite3 -batch -noheader "$1" "$2"; }

# start_kalens DB [OPTIONS...]: kalens live in the background; waits until
# its run row exists (the capture is open by then).  Sets $kpid.
start_kalens() {
	local db=$1; shift
	rm -f "$db" "$db-wal" "$db-shm"
	# Not under timeout(1): it would forward a signal to kalens twice (to
	# the process and to its group), and a second SIGINT means "exit now".
	"$kalens" live -i "${iface:-lo}" -f "tcp port $port" -o "$db" "$@" > "$db.out" 2> "$db.err" &
	kpid=$!
	pids+=("$kpid")
	# a bound on every run; killed (with its sleep) when the test ends
	( sleep 120 & s=$!; trap 'kill $s 2>/dev/null; exit 0' TERM; wait $s
	  kill -KILL "$kpid" 2>/dev/null ) &
	pids+=("$!")
	local i
	for i in $(seq 100); do
		if [ -s "$db" ] && [ "$(q "$db" "select count(*) from runs where status = 'running'" 2>/dev/null)" = 1 ]; then
			sleep 0.3   # the capture is open before the run row is written; settle
			return 0
		fi
		if ! kill -0 "$kpid" 2>/dev/null; then
			fail "kalens live exited at start: $(cat "$db.err")"
			return 1
		fi
		sleep 0.1
	done
	fail "kalens live did not start within 10 s: $(cat "$db.err")"
	return 1
}

# stop_kalens SIGNAL: signal kalens and wait; sets $krc.
stop_kalens() {
	kill -s "$1" "$kpid"
	wait "$kpid"
	krc=$?
}

# hold_open PATH SECS: in the background, one GET of PATH on a connection
# then kept open and silent for SECS; sets $held to its PID.
hold_open() {
	python3 - "$port" "$1" "$2" <<'EOF' > /dev/null &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
s.recv(4096)
time.sleep(float(sys.argv[3]))
s.close()
EOF
	held=$!
	pids+=("$held")
}

# sql_reaches DB SQL WANT: true once `kalens sql` (a reader beside the
# running kalens) answers WANT, within 6 s; sets $got to the last answer.
sql_reaches() {
	local _
	for _ in $(seq 60); do
		got=$("$kalens" sql --tsv "$1" "$2" 2>/dev/null | tail -n 1)
		[ "$got" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# clients FILE N URL...: N curl invocations, each fetching every URL on one
# connection; appends curl's record (num_connects http_code url) to FILE.
clients() {
	local rec=$1 n=$2; shift 2
	local i args=() u
	for u in "$@"; do args+=(-o /dev/null -w '%{num_connects} %{http_code} %{url_effective}\n' "$u"); done
	for i in $(seq "$n"); do
		curl -s ${curl_tls:+-k} --max-time 10 "${args[@]}" >> "$rec" || fail "curl failed"
	done
}

# check_against_record DB RECORD: connections, requests, statuses, seq.
check_against_record() {
	local db=$1 rec=$2
	local want_conns want_reqs got
	want_conns=$(awk '{ s += $1 } END { print s + 0 }' "$rec")
	want_reqs=$(wc -l < "$rec" | tr -d ' ')
	got=$(q "$db" "select count(*) from connections where server_port = $port")
	[ "$got" = "$want_conns" ] || fail "$db: $got connections, curl made $want_conns"
	got=$(q "$db" "select count(*) from requests")
	[ "$got" = "$want_reqs" ] || fail "$db: $got requests, curl sent $want_reqs"
	# every URL's status, in the order curl sent them on each connection
	local want_status got_status
	want_status=$(awk '{ print $2 }' "$rec" | sort | uniq -c | tr -s ' ')
	got_status=$(q "$db" "select status from requests" | sort | uniq -c | tr -s ' ')
	[ "$got_status" = "$want_status" ] || fail "$db: statuses '$got_status', curl saw '$want_status'"
	got=$(q "$db" "select count(*) from connections c where server_port = $port and requests <> (select max(seq) from requests r where r.conn_id = c.id)")
	[ "$got" = 0 ] || fail "$db: $got connections whose seq does not run 1..requests"
}

# --- SIGINT: the whole path -----------------------------------------------------
db=$tmp/int.db
if start_kalens "$db" --linger 1; then
	clients "$tmp/int.rec" 3 "$base/a" "$base/b" "$base/missing" "$base/c"
	sleep 0.5
	stop_kalens INT
	[ "$krc" = 0 ] || fail "SIGINT: exit status $krc, want 0: $(cat "$db.err")"
	[ "$(q "$db" "select status || ' ' || message from runs")" = "complete stopped by a signal" ] ||
		fail "SIGINT: run row: $(q "$db" "select status, message from runs")"
	[ "$(q "$db" "select source_kind || ' ' || source from runs")" = "live lo" ] ||
		fail "SIGINT: run source: $(q "$db" "select source_kind, source from runs")"
	[ "$(q "$db" "select packets_received >= packets and packets > 0 and packets_dropped = 0 from runs")" = 1 ] ||
		fail "SIGINT: kernel counts: $(q "$db" "select packets, packets_received, packets_dropped from runs")"
	check_against_record "$db" "$tmp/int.rec"
	# 3 connections x 4 requests, keep-alive on each: 3 connections reused
	[ "$(q "$db" "select count(*) from connections where requests = 4")" = 3 ] ||
		fail "SIGINT: want 3 connections with 4 requests each"
	[ "$(q "$db" "select count(distinct ka_timeout_advertised) || ',' || max(ka_timeout_advertised) from connections where server_port = $port")" = "1,5" ] ||
		fail "SIGINT: Keep-Alive timeout=5 not recorded"
	grep -q "dropped" "$db.out" || fail "SIGINT: no summary on stdout: $(cat "$db.out")"
fi

# --- SIGTERM, and a query while kalens is writing ------------------------------
db=$tmp/term.db
if start_kalens "$db" --linger 0.5; then
	clients "$tmp/term.rec" 2 "$base/x" "$base/y"
	# finished connections are committed within the flush interval (2 s)
	# once they end (linger 0.5 s after the FIN)
	sql_reaches "$db" "select count(*) from connections" 2 ||
		fail "query while writing: kalens sql saw ${got:-nothing}, want 2 connections"
	kill -0 "$kpid" 2>/dev/null || fail "kalens live stopped before SIGTERM"
	[ "$(q "$db" "select status from runs")" = running ] || fail "run not 'running' while capturing"
	stop_kalens TERM
	[ "$krc" = 0 ] || fail "SIGTERM: exit status $krc, want 0: $(cat "$db.err")"
	check_against_record "$db" "$tmp/term.rec"
fi

# --- --duration ---------------------------------------------------------------
db=$tmp/dur.db
if start_kalens "$db" --duration 2; then
	clients "$tmp/dur.rec" 1 "$base/d"
	wait "$kpid"; krc=$?
	[ "$krc" = 0 ] || fail "--duration: exit status $krc: $(cat "$db.err")"
	[ "$(q "$db" "select status || ' ' || message from runs")" = "complete duration reached" ] ||
		fail "--duration: run row: $(q "$db" "select status, message from runs")"
	check_against_record "$db" "$tmp/dur.rec"
	# a connection still open at the end is stored as open: none here, the
	# client closed; the request was stored
fi

# --- the any pseudo-interface: Linux cooked headers, version 2 -------------------
db=$tmp/any.db
if iface=any start_kalens "$db" --duration 2; then
	clients "$tmp/any.rec" 1 "$base/g" "$base/h"
	wait "$kpid"; krc=$?
	[ "$krc" = 0 ] || fail "-i any: exit status $krc: $(cat "$db.err")"
	[ "$(q "$db" "select link_type from runs")" = LINUX_SLL2 ] ||
		fail "-i any: link type $(q "$db" "select link_type from runs")"
	check_against_record "$db" "$tmp/any.rec"
fi

# --- memory bounds: connections end by the clock, and beyond --max-conns ------------
db=$tmp/idle.db
if start_kalens "$db" --idle-timeout 1; then
	# one request, then the connection stays open and silent for 4 s
	python3 - "$port" > "$tmp/idle.rec" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"GET /idle HTTP/1.1\r\nHost: t\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
time.sleep(4)
s.close()
EOF
	# ended as idle by the clock (no packet came), committed while running
	got=$(q "$db" "select count(*) from connections where close_kind = 'idle' and requests = 1")
	[ "$got" = 1 ] || fail "--idle-timeout 1: $got idle connections stored while the client held it open"
	stop_kalens INT
	grep -q " 200 " "$tmp/idle.rec" || fail "idle client: $(cat "$tmp/idle.rec")"
fi
# --- honest live status: the run row while it runs ---------------------------
# At every commit (2 s) the run row gets the packets, connections and
# requests so far, the connections still open and the time; report says
# "running, updated N s ago" with those counts; a run whose updates stopped
# a minute ago reads "stopped unexpectedly"; with the live linger (2 s) a
# closed connection is stored within about 4 s, without --linger.
db=$tmp/status.db
if start_kalens "$db"; then
	clients "$tmp/status.rec" 2 "$base/s1" "$base/s2"
	hold_open /held 10
	holder=$held
	sql_reaches "$db" "select count(*) from connections" 2 ||
		fail "status: ${got:-nothing} connections stored while running, curl closed 2 (live linger 2 s)"
	sql_reaches "$db" "select packets > 0 and requests >= 4 and connections >= 2 and connections_open >= 1
		and abs(updated_at - strftime('%s', 'now')) < 5 and status = 'running' from runs" 1 ||
		fail "status: the run row while running: $(q "$db" "select packets, requests, connections, connections_open, updated_at, status from runs")"
	out=$("$kalens" report "$db" 2>&1)
	grep -Eq "\[running, updated [0-9]+ s ago" <<< "$out" || fail "status: report says: $(head -5 <<< "$out")"
	grep -q " 0 packets" <<< "$out" && fail "status: report shows 0 packets while running: $(head -5 <<< "$out")"
	got=$("$kalens" sql --tsv "$db" "select run_status(status, writer, updated_at - 120) from runs" | tail -n 1)
	[[ $got == "stopped unexpectedly (no update for 1"[12]?" s)" ]] ||
		fail "status: a run not updated for 2 minutes reads '$got'"
	stop_kalens INT
	kill "$holder" 2>/dev/null
	[ "$(q "$db" "select connections_open = 0 and updated_at >= started_at from runs")" = 1 ] ||
		fail "status: the finished run row: $(q "$db" "select connections_open, updated_at from runs")"
fi

# --- --threads 3: the same through analysis workers -------------------------
# Connections spread over three workers: each worker's rows are committed
# while kalens runs (the commit waits for every worker's part), an idle one
# ends by the wall clock sent to every worker, and at the end the rows
# match curl's record.
db=$tmp/threads.db
if start_kalens "$db" --threads 3 --idle-timeout 1 --linger 0.5; then
	clients "$tmp/threads.rec" 6 "$base/t1" "$base/t2"
	sql_reaches "$db" "select count(*) from connections" 6 ||
		fail "--threads 3: kalens sql saw ${got:-nothing} connections while running, want 6"
	# One request, then silence until kalens has stopped (its close would
	# make a connection of its own once the idle one has ended).
	hold_open /idle 8
	idler=$held
	sql_reaches "$db" "select count(*) from connections where close_kind = 'idle' and requests = 1" 1 ||
		fail "--threads 3: $got idle connections stored while the client held it open"
	stop_kalens INT
	[ "$krc" = 0 ] || fail "--threads 3: exit status $krc: $(cat "$db.err")"
	kill "$idler" 2>/dev/null
	echo "1 200 idle" >> "$tmp/threads.rec"
	check_against_record "$db" "$tmp/threads.rec"
fi
db=$tmp/cap.db
if start_kalens "$db" --max-conns 1; then
	clients "$tmp/cap.rec" 3 "$base/m"
	stop_kalens INT
	[ "$krc" = 0 ] || fail "--max-conns 1: exit status $krc"
	check_against_record "$db" "$tmp/cap.rec"
	got=$(q "$db" "select connections_evicted from runs")
	[ "${got:-0}" -ge 2 ] || fail "--max-conns 1: $got evictions counted, want at least 2 (3 connections, each lingering after its close)"
fi

# --- --count, --write -----------------------------------------------------------
db=$tmp/cnt.db
if start_kalens "$db" --count 20 --write "$tmp/cnt.pcap"; then
	clients "$tmp/cnt.rec" 3 "$base/e" "$base/f"
	for _ in $(seq 50); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$kpid" 2>/dev/null; then
		fail "--count 20: still running after 5 s"
		stop_kalens INT
	else
		wait "$kpid"; krc=$?
		[ "$krc" = 0 ] || fail "--count: exit status $krc: $(cat "$db.err")"
	fi
	[ "$(q "$db" "select packets || ' ' || message from runs")" = "20 packet count reached" ] ||
		fail "--count: run row: $(q "$db" "select packets, message from runs")"
	# the saved packets read back into the same connections and requests
	"$kalens" read -q -o "$tmp/cnt-read.db" "$tmp/cnt.pcap" || fail "--write: the saved file does not read"
	a=$(q "$db" "select group_concat(client_port || ':' || ifnull(requests, 0) || ':' || close_kind, ' ') from (select * from connections order by client_port)")
	b=$(q "$tmp/cnt-read.db" "select group_concat(client_port || ':' || ifnull(requests, 0) || ':' || close_kind, ' ') from (select * from connections order by client_port)")
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "--write: live '$a', read back '$b'"
	[ "$(q "$tmp/cnt-read.db" "select packets from runs")" = 20 ] || fail "--write: not 20 packets saved"
fi

# --- --user nobody --------------------------------------------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	db=$tmp/user.db
	if start_kalens "$db" --user nobody --linger 0.5; then
		clients "$tmp/user.rec" 1 "$base/u" "$base/v"
		sleep 3
		[ "$(ps -o user= -p "$kpid" | tr -d ' ')" = nobody ] ||
			fail "--user: kalens runs as $(ps -o user= -p "$kpid"), not nobody"
		stop_kalens INT
		[ "$krc" = 0 ] || fail "--user: exit status $krc: $(cat "$db.err")"
		[ "$(stat -c %U "$db")" = nobody ] || fail "--user: the database belongs to $(stat -c %U "$db")"
		check_against_record "$db" "$tmp/user.rec"
	fi
fi

# --- a second SIGINT exits at once ----------------------------------------------
db=$tmp/twice.db
if start_kalens "$db"; then
	"$kalens" read -q -o "$db.other" "$src/captures/generated/nginx-keepalive-curl.pcap" 2>/dev/null
	clients "$tmp/twice.rec" 1 "$base/t"
	kill -INT "$kpid"; kill -INT "$kpid"
	wait "$kpid"; krc=$?
	[ "$krc" != 0 ] || true   # killed by the signal or finished: either way, at once
	[ "$(q "$db" "pragma integrity_check")" = ok ] || fail "second SIGINT: database not consistent"
	[ "$(q "$db" "select count(*) from runs")" = 1 ] || fail "second SIGINT: run row lost"
fi

# --- --keylog: HTTPS, the key log written by curl during the capture -----------
# An HTTPS server (the same handler behind python's ssl, a self-signed
# certificate made here); curl writes SSLKEYLOGFILE as it connects, after
# kalens started with the file still empty: kalens must read the lines as
# they come, decrypt, and store the requests as curl recorded them.
if command -v openssl >/dev/null &&
   openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null; then
	timeout 300 python3 "$tmp/server.py" "$tmp/tport" "$tmp/cert.pem" "$tmp/key.pem" &
	pids+=("$!")
	for _ in $(seq 50); do [ -s "$tmp/tport" ] && break; sleep 0.1; done
	http_port=$port
	port=$(cat "$tmp/tport")
	db=$tmp/tls.db
	: > "$tmp/keys.txt"
	if start_kalens "$db" --linger 1 --keylog "$tmp/keys.txt"; then
		curl_tls=1 SSLKEYLOGFILE="$tmp/keys.txt" \
			clients "$tmp/tls.rec" 2 "https://127.0.0.1:$port/s1" "https://127.0.0.1:$port/missing"
		sleep 0.5
		stop_kalens INT
		[ "$krc" = 0 ] || fail "--keylog: exit status $krc: $(cat "$db.err")"
		check_against_record "$db" "$tmp/tls.rec"
		[ "$(q "$db" "select count(*) from connections where decrypted = 1 and tls_version is not null")" = 2 ] ||
			fail "--keylog: connections: $(q "$db" "select tls_version, decrypted, requests from connections")"
		[ "$(q "$db" "select count(*) from findings where kind like 'tls-%'")" = 0 ] ||
			fail "--keylog: $(q "$db" "select kind, detail from findings where kind like 'tls-%'")"
	fi
	port=$http_port
else
	fail "openssl could not make a certificate (Debian package openssl)"
fi

# --- errors -------------------------------------------------------------------
out=$("$kalens" live -i lo -f 'tcp port nonsense' -o "$tmp/bad.db" --duration 1 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "bad filter: exit status $rc, want 1"
case $out in *"bad filter"*) ;; *) fail "bad filter: message '$out'" ;; esac
out=$("$kalens" live -i kalens-no-such0 -o "$tmp/bad.db" --duration 1 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "bad interface: exit status $rc, want 1"
case $out in *"no such interface"*|*"No such device"*) ;; *) fail "bad interface: message '$out'" ;; esac
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	mkdir -m 777 "$tmp/nobody"
	out=$(setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups \
		"$kalens" live -i lo -o "$tmp/nobody/perm.db" --duration 1 2>&1)
	rc=$?
	[ "$rc" = 1 ] || fail "no permission: exit status $rc, want 1"
	case $out in *"no permission to capture"*) ;; *) fail "no permission: message '$out'" ;; esac
fi
# a database kalens refuses: nothing else is touched (the --write file is
# opened with the interface, after the database)
echo "not a capture, not to be truncated" > "$tmp/keep.pcap"
sqlite3 "$tmp/other.db" "create table notes (body text)"
out=$("$kalens" live -i lo -o "$tmp/other.db" -w "$tmp/keep.pcap" --duration 1 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "foreign database: exit status $rc, want 1"
case $out in *"not a kalens database"*) ;; *) fail "foreign database: message '$out'" ;; esac
[ "$(cat "$tmp/keep.pcap")" = "not a capture, not to be truncated" ] ||
	fail "foreign database: the --write file was truncated"
out=$("$kalens" live -o "$tmp/bad.db" 2>&1)
rc=$?
[ "$rc" = 2 ] || fail "no interface: exit status $rc, want 2"
"$kalens" live -D | grep -q '^[0-9]*\.lo ' || fail "live -D does not list lo"

[ "$failed" = 0 ] && echo "t_live: ok"
exit "$failed"
