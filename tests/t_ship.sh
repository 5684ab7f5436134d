#!/usr/bin/env bash
# t_ship.sh KALENS SOURCE_DIR - kalens ship into real ClickHouse servers.
#
# Two clickhouse-server processes (Debian's 18.16; tests/tools/clickhouse-local.sh:
# private configs and data folders, 127.0.0.1, free ports, stopped by PID)
# are the two shards of a cluster; `kalens schema --clickhouse --cluster` is
# applied to both, and kalens ships through the Distributed tables of the
# first.  After each step, tests/tools/compare-ship.py compares every
# table's row count and aggregates, read through the Distributed tables
# with FINAL, with the SQLite database's.  Steps:
#  - several captures shipped; shipped again (nothing sent, no duplicate
#    even without FINAL); a new run added and shipped (only it is sent);
#  - faults: a shard stopped before shipping (a clear error, the database
#    intact, everything there after it returns); a shard killed in the
#    middle of a batch; kalens killed (SIGKILL) in the middle of shipping,
#    through a slow proxy, and started again; a slow server (0.2 s per
#    request) throughout; after OPTIMIZE ... FINAL no duplicate is left
#    even without FINAL;
#  - read --ship (and, as root, live --ship: rows in ClickHouse while the
#    capture runs); with the server away the read goes on and the rows
#    wait in the database for kalens ship;
#  - bad input: a URL that is not http(s), a refused connection, a database
#    that does not exist, a table of the wrong shape, a wrong password
#    (never printed), a server whose certificate is not trusted.
# Then every question of docs/queries.md in its docs/fleet.md form, on two
# shards, against SQLite on the same capture (tests/tools/fleet-queries.py).
# The database must stay intact through all of it (integrity_check, and
# its tables' contents unchanged by a failed shipment).
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
name=t_ship
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
die() { echo "$name: $*" >&2; exit 1; }
for t in clickhouse-server curl python3 sqlite3 openssl timeout; do
	command -v "$t" >/dev/null || die "$t not found (Debian packages clickhouse-server curl python3 sqlite3 openssl coreutils)"
done
tmp=$(mktemp -d)
pids=()
cleanup() {
	bash "$src/tests/tools/clickhouse-local.sh" stop "$tmp/ch" 2>/dev/null
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0

bash "$src/tests/tools/clickhouse-local.sh" start "$tmp/ch" 2 > "$tmp/servers" || die "clickhouse-server did not start"
read -r h1 _ _ < <(sed -n 1p "$tmp/servers")
read -r h2 _ _ < <(sed -n 2p "$tmp/servers")
chq() { curl -sS --max-time 30 "http://127.0.0.1:$1/" --data-binary "$2"; }
"$kalens" schema --clickhouse --cluster kalens_test > "$tmp/ddl.sql" || die "schema --clickhouse failed"
apply_ddl() {  # port file
	python3 - "$1" "$2" <<'PY' || return 1
import sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
text = "\n".join(l for l in open(path).read().splitlines() if not l.startswith("--"))
for st in [x.strip() for x in text.split(";") if x.strip()]:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/" % port, data=st.encode())).read()
PY
}
apply_ddl "$h1" "$tmp/ddl.sql" && apply_ddl "$h2" "$tmp/ddl.sql" || die "the DDL did not apply"
url="http://127.0.0.1:$h1/?database=kalens"
db="$tmp/k.db"
compare() {  # what [--raw]
	python3 "$src/tests/tools/compare-ship.py" "$db" "$h1" kalens "${@:2}" > "$tmp/cmp" 2>&1 ||
		{ fail "$1: ClickHouse differs from SQLite"; cat "$tmp/cmp" >&2; }
}
fingerprint() {  # the data tables' contents, for "unchanged"
	sqlite3 "$db" "SELECT (SELECT COUNT(*) || '/' || TOTAL(bytes_to_client) FROM connections),
	    (SELECT COUNT(*) || '/' || TOTAL(length(uri)) FROM requests),
	    (SELECT COUNT(*) FROM findings), (SELECT TOTAL(attempts) FROM attempts),
	    (SELECT group_concat(status) FROM runs)"
}
intact() {  # what
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "$1: integrity_check"
}

caps="captures/generated/nginx-keepalive-curl.pcap captures/public/zeek/http/bro.org.pcap
captures/generated/h2-curl-tls-nginx.pcap captures/generated/stack/connect-proxy-https.pcap
captures/generated/tlsclose/tls12-unwrap-late-fin.pcap captures/generated/nginx-pipelined-burst.pcap
captures/generated/attempts/unanswered.pcap"
for c in $caps; do
	k=""
	[ -f "$src/${c%.pcap}.keylog" ] && k="--keylog $src/${c%.pcap}.keylog"
	# shellcheck disable=SC2086
	"$kalens" read -q --sensor sensor-a $k -o "$db" "$src/$c" || die "read $c failed"
done

# 1. everything, then nothing again
"$kalens" ship -q "$db" "$url" || fail "first ship failed"
compare "first ship"
compare "first ship" --raw
"$kalens" ship "$db" "$url" 2> "$tmp/again" || fail "second ship failed"
grep -q ': 0 runs, 0 connections, 0 requests, 0 findings, 0 attempts in 0 inserts' "$tmp/again" ||
	fail "the second ship sent something: $(cat "$tmp/again")"
compare "shipped twice" --raw
n1=$(chq "$h1" "SELECT count() FROM kalens.connections_local")
n2=$(chq "$h2" "SELECT count() FROM kalens.connections_local")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "connections not spread over both shards ($n1, $n2)"
# each connection's requests on its connection's shard
for h in "$h1" "$h2"; do
	orphans=$(chq "$h" "SELECT count() FROM kalens.requests_local WHERE (run_uuid, conn_id) NOT IN (SELECT run_uuid, id FROM kalens.connections_local)")
	[ "$orphans" = 0 ] || fail "server $h: $orphans requests away from their connection's shard"
done

# 2. a new run: only it is sent
"$kalens" read -q --sensor sensor-b -o "$db" "$src/captures/generated/apache-max-requests.pcap" || die "read failed"
"$kalens" ship "$db" "$url" 2> "$tmp/third" || fail "third ship failed"
want=$(sqlite3 "$db" "SELECT COUNT(*) FROM connections WHERE run_id = (SELECT MAX(id) FROM runs)")
grep -q ": 1 runs, $want connections" "$tmp/third" || fail "the third ship sent more than the new run: $(cat "$tmp/third")"
compare "new run" --raw

# 3. a shard stopped before shipping: a clear error, nothing lost
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-idle-timeout.pcap" || die "read failed"
before=$(fingerprint)
bash "$src/tests/tools/clickhouse-local.sh" stop "$tmp/ch" >/dev/null
bash "$src/tests/tools/clickhouse-local.sh" restart "$tmp/ch" 0 >/dev/null || die "restart 0"
"$kalens" ship "$db" "$url" 2> "$tmp/down"
rc=$?
[ $rc = 1 ] || fail "ship with a shard down exited $rc"
grep -q "ship to http://127.0.0.1:$h1/?database=kalens: insert into" "$tmp/down" ||
	fail "no clear error with a shard down: $(cat "$tmp/down")"
[ "$(fingerprint)" = "$before" ] || fail "the database changed under a failed shipment"
intact "shard down"
bash "$src/tests/tools/clickhouse-local.sh" restart "$tmp/ch" 1 >/dev/null || die "restart 1"
"$kalens" ship -q "$db" "$url" || fail "ship after the shard came back failed"
compare "after a shard came back"

# 4. a slow server, in small batches, with kalens killed in the middle
read -r pp < <(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$src/tests/tools/slow-proxy.py" "$pp" "$h1" 0.2 120 > "$tmp/proxy" 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do grep -q ready "$tmp/proxy" && break; sleep 0.1; done
slow="http://127.0.0.1:$pp/?database=kalens"
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-keepalive-requests3-ab.pcap" || die "read failed"
"$kalens" read -q -o "$db" "$src/captures/public/zeek/wikipedia.pcap" || die "read failed"
"$kalens" ship -q --batch 3 "$db" "$slow" &
sp=$!
sleep 1.5
kill -9 $sp 2>/dev/null
wait $sp 2>/dev/null
intact "kalens killed"
# it was killed with rows still to send (else this step tests nothing)
if python3 "$src/tests/tools/compare-ship.py" "$db" "$h1" kalens > /dev/null 2>&1; then
	fail "kalens had shipped everything before it was killed: make the step slower"
fi
"$kalens" ship -q --batch 3 "$db" "$slow" || fail "ship after kalens was killed failed"
compare "kalens killed and started again"

# 5. a shard killed in the middle of a batch
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-pipelined-sends.pcap" || die "read failed"
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-port-reuse.pcap" || die "read failed"
"$kalens" ship -q --batch 2 "$db" "$slow" 2> "$tmp/killed" &
sp=$!
sleep 0.7
kill -9 "$(cat "$tmp/ch/s1/pid")"
wait $sp
rc=$?
[ $rc = 1 ] || fail "ship with a shard killed under it exited $rc"
grep -q "insert into" "$tmp/killed" || fail "no clear error with a shard killed: $(cat "$tmp/killed")"
intact "shard killed"
bash "$src/tests/tools/clickhouse-local.sh" restart "$tmp/ch" 1 >/dev/null || die "restart 1"
"$kalens" ship -q "$db" "$url" || fail "ship after the shard was killed failed"
compare "shard killed and restarted"
# Rows sent twice (kalens killed after an insert was stored) collapse:
for h in "$h1" "$h2"; do
	for t in runs connections requests findings attempts; do
		chq "$h" "OPTIMIZE TABLE kalens.${t}_local FINAL" || fail "optimize $t"
	done
done
compare "after OPTIMIZE FINAL" --raw

# 6. bad input: clear errors, the database untouched
before=$(fingerprint)
expect_error() {  # what pattern url [env...]
	local what=$1 pat=$2 u=$3
	shift 3
	env "$@" "$kalens" ship "$db" "$u" > "$tmp/out" 2> "$tmp/err"
	local rc=$?
	[ $rc = 1 ] || fail "$what: exit status $rc"
	grep -q -- "$pat" "$tmp/err" || fail "$what: no '$pat' in: $(cat "$tmp/err")"
	if grep -q 'pa55word' "$tmp/err" "$tmp/out"; then fail "$what: the password was printed"; fi
}
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-early-close.pcap" || die "read failed"
before=$(fingerprint)
expect_error "not http" "is not an http:// or https:// URL" "ftp://127.0.0.1/"
read -r dead < <(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_error "refused" "ship to http://127.0.0.1:$dead/: connect: Couldn't connect to server" "http://127.0.0.1:$dead/"
expect_error "no such database" "Database nope doesn't exist" "http://127.0.0.1:$h1/?database=nope"
expect_error "wrong password" "HTTP 401" "http://kalens:pa55word@127.0.0.1:$h1/?database=kalens"
expect_error "wrong password (environment)" "Wrong password for user kalens" "$url" \
	KALENS_CLICKHOUSE_USER=kalens KALENS_CLICKHOUSE_PASSWORD=pa55word
chq "$h1" "CREATE DATABASE wrong" && chq "$h1" "CREATE TABLE wrong.connections (x Int64) ENGINE = Memory"
for t in runs requests findings; do chq "$h1" "CREATE TABLE wrong.$t AS kalens.${t}_local ENGINE = Memory"; done
expect_error "wrong table shape" "insert into connections: HTTP" "http://127.0.0.1:$h1/?database=wrong"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" 2>/dev/null
read -r tp < <(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 60 openssl s_server -quiet -accept "127.0.0.1:$tp" -cert "$tmp/cert.pem" -key "$tmp/key.pem" -www > /dev/null 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do curl -sk "https://127.0.0.1:$tp/" >/dev/null 2>&1 && break; sleep 0.1; done
expect_error "untrusted certificate" "SSL" "https://127.0.0.1:$tp/"
[ "$(fingerprint)" = "$before" ] || fail "a failed shipment changed the database"
intact "bad input"
# and it all goes once the destination is right
"$kalens" ship -q "$db" "$url" || fail "the last ship failed"
compare "last"
chq "$h1" "SELECT sensor, count() FROM kalens.runs FINAL GROUP BY sensor ORDER BY sensor FORMAT TSV" > "$tmp/sensors"
grep -q "^sensor-a	7$" "$tmp/sensors" || fail "runs of sensor-a: $(cat "$tmp/sensors")"
grep -q "^sensor-b	1$" "$tmp/sensors" || fail "runs of sensor-b: $(cat "$tmp/sensors")"

# 7. read --ship: shipped while reading; with the server away, the read
# goes on, the rows wait in the database, and kalens ship sends them
db="$tmp/r.db"
"$kalens" read -q -o "$db" --sensor sensor-c --ship "$url" "$src/captures/generated/nginx-keepalive-curl.pcap" \
	"$src/captures/public/zeek/http/bro.org.pcap" 2> "$tmp/rs" || fail "read --ship failed: $(cat "$tmp/rs")"
compare "read --ship"
"$kalens" read -o "$db" --ship "http://127.0.0.1:$dead/?database=kalens" --ship-wait 2 \
	"$src/captures/generated/nginx-pipelined-burst.pcap" > /dev/null 2> "$tmp/rs"
rc=$?
[ $rc = 0 ] || fail "read --ship with the server away exited $rc"
grep -q "Couldn't connect to server" "$tmp/rs" || fail "read --ship: no word of the server away: $(cat "$tmp/rs")"
grep -q "waits in $db: kalens ship" "$tmp/rs" || fail "read --ship: no word of what waits: $(cat "$tmp/rs")"
intact "read --ship, server away"
"$kalens" ship -q "$db" "$url" || fail "ship after read --ship with the server away failed"
compare "read --ship, then ship"

# 7b. a database made by an older kalens (schema 4: no run names, no
# stored_seq): upgraded in place, its runs named once, shipped by id
db="$tmp/v4.db"
cp "$src/tests/fixtures/schema-v4.db" "$db"
"$kalens" ship -q --sensor old-sensor "$db" "$url" || fail "ship of a schema-4 database failed"
compare "schema-4 database"
[ "$(sqlite3 "$db" "SELECT COUNT(*) = (SELECT COUNT(*) FROM runs) FROM runs WHERE sensor = 'old-sensor'
	AND length(run_uuid) = 36")" = 1 ] || fail "schema-4 runs not named"
intact "schema-4 database"

# 8. live --ship: rows reach ClickHouse while the capture runs
if [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null; then
	db="$tmp/l.db"
	read -r wp < <(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$tmp/www" && echo hello > "$tmp/www/a.txt"
	(cd "$tmp/www" && exec timeout 60 python3 -m http.server --bind 127.0.0.1 "$wp") > /dev/null 2>&1 &
	pids+=("$!")
	for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$wp/a.txt" > /dev/null && break; sleep 0.1; done
	timeout 60 "$kalens" live -q -i lo -f "tcp port $wp" -o "$db" --linger 0.5 --duration 12 --ship "$url" \
		2> "$tmp/live" &
	lp=$!
	sleep 2
	for _ in 1 2 3; do curl -s "http://127.0.0.1:$wp/a.txt" "http://127.0.0.1:$wp/a.txt" > /dev/null; done
	# while it runs: the connections are in ClickHouse within seconds
	seen=0
	for _ in $(seq 1 16); do
		sleep 0.5
		uuid=$(sqlite3 "$db" "SELECT run_uuid FROM runs ORDER BY id DESC LIMIT 1" 2>/dev/null)
		[ -n "$uuid" ] || continue
		seen=$(chq "$h1" "SELECT count() FROM kalens.requests FINAL WHERE run_uuid = '$uuid'")
		[ "$seen" -ge 6 ] 2>/dev/null && break
	done
	kill -0 $lp 2>/dev/null || fail "live ended before its requests were shipped"
	[ "$seen" -ge 6 ] 2>/dev/null || fail "live --ship: $seen requests in ClickHouse while it ran, 6 sent"
	wait $lp || fail "live --ship failed: $(cat "$tmp/live")"
	compare "live --ship"
fi
# 9. docs/fleet.md's forms of docs/queries.md's questions: the same answers
# through the Distributed tables as SQLite on the same capture (one run each)
"$kalens" schema --clickhouse --cluster kalens_test --database fq > "$tmp/fq.sql" || die "schema"
: > "$tmp/fq.out"
for c in generated/nginx-early-close generated/nginx-python-client-idle generated/apache-max-requests \
	generated/python-http10-ab-k generated/nginx-advertised-timeout public/zeek/http/bro.org \
	generated/tls12-resumed-s_client generated/encap/vxlan-two-vni generated/nginx-pipelined-burst; do
	db="$tmp/q.db"
	rm -f "$db"*
	k=""
	[ -f "$src/captures/$c.keylog" ] && k="--keylog $src/captures/$c.keylog"
	# shellcheck disable=SC2086
	"$kalens" read -q $k -o "$db" "$src/captures/$c.pcap" || die "read $c"
	for h in "$h1" "$h2"; do
		chq "$h" "DROP DATABASE IF EXISTS fq" && apply_ddl "$h" "$tmp/fq.sql" || die "fq DDL"
	done
	"$kalens" ship -q "$db" "http://127.0.0.1:$h1/?database=fq" || fail "ship $c for the questions"
	python3 "$src/tests/tools/fleet-queries.py" "$db" "$h1" fq > "$tmp/fq.one" 2>&1 ||
		{ fail "$c: the fleet forms of the questions differ"; cat "$tmp/fq.one" >&2; }
	cat "$tmp/fq.one" >> "$tmp/fq.out"
done
# every question answered with rows somewhere (else it was not compared)
for n in $(seq 1 16); do
	grep -Eq "^question $n: [1-9][0-9]* rows agree" "$tmp/fq.out" ||
		fail "question $n returned no rows on any capture: not compared"
done

[ $failed = 0 ] && echo "$name: ok"
exit $failed
