#!/usr/bin/env bash
# t_floods.sh KALENS SOURCE_DIR - the adversarial captures of issue 18 at
# small scale (tests/tools/floods.py; full scale and timings: bench/floods.sh).
# Each is read to the end: the run is complete and holds the connections and
# requests the generator wrote (its own record; the connections it left
# unanswered are summed in `attempts`, the others are rows of
# `connections`), under ASan in CI.  No time or memory is asserted here.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
name=t_floods
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for spec in syn-flood:20000 half-heads:5000 big-heads:100 one-sided:10000 pipelined:100000; do
	kind=${spec%%:*} n=${spec##*:}
	python3 "$src/tests/tools/floods.py" "$kind" "$tmp/$kind.pcap" "$n" --record > "$tmp/rec" ||
		{ fail "$kind: the generator failed"; continue; }
	want() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/rec"; }
	rm -f "$tmp/k.db"*
	"$kalens" read -q -o "$tmp/k.db" "$tmp/$kind.pcap" || { fail "$kind: kalens read failed"; continue; }
	got=$(sqlite3 "$tmp/k.db" "SELECT (SELECT status FROM runs) || ' ' || (SELECT packets FROM runs)
		|| ' ' || (SELECT COUNT(*) FROM connections) || ' ' || (SELECT TOTAL(attempts) FROM attempts)
		|| ' ' || (SELECT COUNT(*) FROM requests)")
	exp="complete $(want packets) $(( $(want connections) - $(want unanswered) )) $(want unanswered).0 $(want requests)"
	[ "$got" = "$exp" ] ||
		fail "$kind: status packets connections attempts requests: $got, the generator wrote $exp"
done
# A cap far below what the flood holds: every connection is still stored,
# the evicted ones as such and counted in the run, the state never held more
# than the cap plus what one packet adds (the peak is taken before the
# evictions that packet causes: a connection, its stream, a dissector and a
# head buffer's growth, well under 128 KiB), and the report says so.
python3 "$src/tests/tools/floods.py" half-heads "$tmp/cap.pcap" 5000 --record > "$tmp/rec" ||
	fail "memcap: the generator failed"
rm -f "$tmp/k.db"*
"$kalens" read -q --memcap 1M -o "$tmp/k.db" "$tmp/cap.pcap" || fail "memcap: kalens read failed"
got=$(sqlite3 "$tmp/k.db" "SELECT status, (SELECT COUNT(*) FROM connections), memcap,
	connections_evicted_memory = (SELECT COUNT(*) FROM connections WHERE close_kind = 'evicted'),
	connections_evicted_memory > 1000, memory_peak <= memcap + 131072, memory_shed > 0 FROM runs")
[ "$got" = "complete|$(awk '$1 == "connections" { print $2 }' "$tmp/rec")|1048576|1|1|1|1" ] ||
	fail "memcap 1M: status, connections, memcap, evictions stored, evictions, peak, shed: $got"
"$kalens" report "$tmp/k.db" > "$tmp/report" || fail "memcap: kalens report failed"
grep -q "connections evicted to stay within --memcap 1.0 MB" "$tmp/report" ||
	fail "memcap: the report does not say connections were evicted"
n=$(sqlite3 "$tmp/k.db" "SELECT COUNT(*) FROM connections WHERE close_kind = 'evicted'")
grep -q "^  evicted             $n   " "$tmp/report" ||
	fail "memcap: the report's connections do not count the $n evicted"

"$kalens" read -q --memcap 3 -o "$tmp/k.db" "$tmp/cap.pcap" 2> "$tmp/err" &&
	fail "memcap 3: accepted"
grep -q "bad memory size '3'" "$tmp/err" || fail "memcap 3: $(cat "$tmp/err")"
[ $failed = 0 ] && echo "$name: ok"
exit $failed
