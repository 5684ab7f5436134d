#!/usr/bin/env bash
# t_died.sh KALENS SOURCE_DIR - a run whose process died is recognisable.
#
# kalens reads a capture from a pipe that stays open (so its run is
# `running`), and is killed with SIGKILL: nothing finishes the run.  While
# the process lives, report, `kalens sql` (run_status()) and another kalens
# writing to the same database leave the run `running`; once it is gone,
# report and run_status() say `interrupted (process ended)`, and the next
# `kalens read` into the database marks the row `interrupted` with a
# message, leaving its other runs as they were.  Processes are bounded and
# stopped by PID.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
name=t_died
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
tmp=$(mktemp -d)
feeder=
cleanup() {
	[ -n "$feeder" ] && kill "$feeder" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
db=$tmp/d.db
cap=$src/captures/generated/nginx-keepalive-curl.pcap
mkfifo "$tmp/pipe"
# the writer end stays open for 60 s at most: the run cannot end by itself
(cat "$cap"; sleep 60) > "$tmp/pipe" &
feeder=$!
"$kalens" read -q -o "$db" "$tmp/pipe" &
kp=$!
for _ in $(seq 1 100); do
	[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM runs" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
[ "$(sqlite3 "$db" "SELECT status FROM runs")" = running ] || fail "the run did not start"
# alive: running for everyone, and another writer leaves it so
"$kalens" sql --tsv "$db" "SELECT run_status(status, writer) FROM runs" > "$tmp/s" ||
	fail "kalens sql failed"
grep -qx running "$tmp/s" || fail "a live run is not running: $(cat "$tmp/s")"
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-idle-timeout.pcap" || fail "second read failed"
[ "$(sqlite3 "$db" "SELECT status FROM runs WHERE id = 1")" = running ] ||
	fail "another writer marked a live run"
"$kalens" report "$db" | grep -q '#1 .*\[running,' || fail "report: the live run is not running"
# killed: nothing finishes the run
kill -9 $kp
wait $kp 2>/dev/null
"$kalens" report "$db" > "$tmp/r" || fail "report failed"
grep -q '#1 .*\[interrupted (process ended),' "$tmp/r" || fail "report: $(grep '#1' "$tmp/r")"
grep -q '#2 .*\[complete,' "$tmp/r" || fail "report: run 2: $(grep '#2' "$tmp/r")"
"$kalens" report --json "$db" | python3 -c 'import json,sys; r=json.load(sys.stdin)["runs"]; sys.exit(0 if r[0]["status"] == "interrupted (process ended)" else 1)' ||
	fail "report --json does not say the run's process ended"
"$kalens" sql --tsv "$db" "SELECT run_status(status, writer) FROM runs WHERE id = 1" > "$tmp/s"
grep -qx 'interrupted (process ended)' "$tmp/s" || fail "run_status: $(cat "$tmp/s")"
[ "$(sqlite3 "$db" "SELECT status FROM runs WHERE id = 1")" = running ] ||
	fail "a reader changed the database"
# the next writer marks it, and nothing else
"$kalens" read -q -o "$db" "$src/captures/generated/nginx-early-close.pcap" || fail "third read failed"
[ "$(sqlite3 "$db" "SELECT status || '|' || (message LIKE 'process ended%') FROM runs WHERE id = 1")" = "interrupted|1" ] ||
	fail "the dead run was not marked: $(sqlite3 "$db" "SELECT status, message FROM runs WHERE id = 1")"
[ "$(sqlite3 "$db" "SELECT group_concat(status) FROM runs WHERE id > 1")" = "complete,complete" ] ||
	fail "other runs changed"
# a writer text of another host is not judged
[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE writer LIKE 'host=% pid=% start=% boot=%'")" = 3 ] ||
	fail "writer: $(sqlite3 "$db" "SELECT writer FROM runs")"
"$kalens" sql --tsv "$db" "SELECT run_status('running', 'host=elsewhere.example pid=1 start=1 boot=x')" > "$tmp/s"
grep -qx running "$tmp/s" || fail "another host's run judged: $(cat "$tmp/s")"
[ $failed = 0 ] && echo "$name: ok"
exit $failed
