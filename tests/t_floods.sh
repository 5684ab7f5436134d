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
[ $failed = 0 ] && echo "$name: ok"
exit $failed
