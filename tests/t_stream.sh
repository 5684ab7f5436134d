#!/usr/bin/env bash
# t_stream.sh KALENS SOURCE_DIR - `kalens read` of a capture that is still
# being written: tcpdump on the loopback interface writing to kalens'
# standard input (and to a FIFO kalens reads), real traffic from curl to a
# real HTTP/1.1 keep-alive server, then kalens stopped by a signal while
# tcpdump still runs.
#
# kalens must have read every packet as it arrived (tcpdump -U writes each
# one at once; nothing may wait for a buffer to fill), store everything,
# mark the run 'interrupted' and exit 1.  The stored requests, connections
# and statuses are checked against curl's own record (-w), for SIGINT and
# SIGTERM, on standard input and on a FIFO.  The server listens on
# 127.0.0.1 on a free port; every process is bounded and stopped by PID.
# Capturing needs root (or CAP_NET_RAW) and tcpdump: without them the test
# fails and says so, as t_live.sh does.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

name=t_stream
tools="curl python3 sqlite3 timeout tcpdump"
packages="curl python3 sqlite3 coreutils tcpdump"
# shellcheck source=capture-lib.sh
source "$src/tests/capture-lib.sh"

cat > "$tmp/server.py" <<'EOF'
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive unless the client closes
    def do_GET(self):
        code = 404 if self.path == "/missing" else 200
        body = (self.path * 20).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
with open(sys.argv[1], "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
EOF
timeout 300 python3 "$tmp/server.py" "$tmp/port" &
pids+=("$!")
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || die "the test server did not start"
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"

q() { sqlite3 -batch -noheader "$1" "$2"; }

# stream NAME SIGNAL MODE: tcpdump -> kalens (MODE stdin: a pipe; fifo: a
# FIFO), curl twice (5 URLs on one keep-alive connection, then 2), then
# SIGNAL to kalens, then tcpdump is stopped; checks the database.
stream() {
	local name=$1 sig=$2 mode=$3
	local db=$tmp/$name.db rec=$tmp/$name.rec in=$tmp/$name.fifo
	: > "$rec"
	rm -f "$tmp/$name.tpid"
	# tcpdump's PID comes from the subshell that becomes it (exec).
	if [ "$mode" = stdin ]; then
		( echo "$BASHPID" > "$tmp/$name.tpid"
		  exec timeout 120 tcpdump -i lo -U -w - "tcp port $port" 2> "$tmp/$name.tcpdump" ) |
			"$kalens" read -q -o "$db" - > "$db.out" 2> "$db.err" &
		kpid=$!
	else
		mkfifo "$in"
		( echo "$BASHPID" > "$tmp/$name.tpid"
		  exec timeout 120 tcpdump -i lo -U -w "$in" "tcp port $port" 2> "$tmp/$name.tcpdump" ) &
		pids+=("$!")
		"$kalens" read -q -o "$db" "$in" > "$db.out" 2> "$db.err" &
		kpid=$!
	fi
	pids+=("$kpid")
	local i tpid=
	for i in $(seq 100); do
		[ -s "$tmp/$name.tpid" ] && grep -q "listening on" "$tmp/$name.tcpdump" 2>/dev/null && break
		sleep 0.1
	done
	tpid=$(cat "$tmp/$name.tpid" 2>/dev/null)
	[ -n "$tpid" ] && pids+=("$tpid")
	grep -q "listening on" "$tmp/$name.tcpdump" 2>/dev/null ||
		{ fail "$name: tcpdump did not start: $(cat "$tmp/$name.tcpdump" 2>/dev/null)"; return; }

	local args=() u
	for u in /a /b /missing /c /d; do args+=(-o /dev/null -w '%{num_connects} %{http_code}\n' "$base$u"); done
	curl -s --max-time 10 "${args[@]}" >> "$rec" || fail "$name: curl failed"
	args=()
	for u in /e /f; do args+=(-o /dev/null -w '%{num_connects} %{http_code}\n' "$base$u"); done
	curl -s --max-time 10 "${args[@]}" >> "$rec" || fail "$name: curl failed"
	# tcpdump -U has written every packet by now; give kalens the time to
	# read them (it must not need more data to come first).
	sleep 1
	kill -0 "$kpid" 2>/dev/null || fail "$name: kalens ended before the signal: $(cat "$db.err")"
	kill -s "$sig" "$kpid"
	local krc=
	for i in $(seq 100); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$kpid" 2>/dev/null; then
		fail "$name: kalens still running 10 s after SIG$sig"
		kill -KILL "$kpid"
	fi
	# tcpdump is stopped only now, so kalens saw no end of its input; the
	# wait is after it (for a pipeline, wait covers tcpdump too).
	[ -n "$tpid" ] && kill -INT "$tpid" 2>/dev/null
	wait "$kpid"; krc=$?

	[ "$krc" = 1 ] || fail "$name: exit status $krc after SIG$sig, want 1: $(cat "$db.err")"
	[ "$(q "$db" "select status || '|' || message from runs")" = "interrupted|interrupted by a signal" ] ||
		fail "$name: run row: $(q "$db" "select status, message from runs")"
	local want_conns want_reqs want_status got
	want_conns=$(awk '{ s += $1 } END { print s + 0 }' "$rec")
	want_reqs=$(wc -l < "$rec" | tr -d ' ')
	want_status=$(awk '{ print $2 }' "$rec" | sort | uniq -c | tr -s ' ')
	got=$(q "$db" "select count(*) from connections where server_port = $port")
	[ "$got" = "$want_conns" ] || fail "$name: $got connections stored, curl made $want_conns"
	got=$(q "$db" "select count(*) from requests")
	[ "$got" = "$want_reqs" ] || fail "$name: $got requests stored, curl made $want_reqs"
	got=$(q "$db" "select status from requests" | sort | uniq -c | tr -s ' ')
	[ "$got" = "$want_status" ] || fail "$name: statuses '$got', curl saw '$want_status'"
	got=$(q "$db" "select group_concat(requests, ',') from (select requests from connections where server_port = $port order by client_port)")
	[ "$got" = "5,2" ] || fail "$name: requests per connection '$got', curl sent 5 then 2 on one connection each"
	grep -q "interrupted after" "$db.err" || fail "$name: no message on stderr: $(cat "$db.err")"
}

stream int-stdin INT stdin
stream term-stdin TERM stdin
stream int-fifo INT fifo

[ "$failed" = 0 ] && echo "t_stream: ok"
exit "$failed"
