#!/usr/bin/env bash
# t_threads.sh KALENS SOURCE_DIR - `--threads N` stores the same rows for
# N = 1, 2 and 4 (issue 16; docs/performance.md), compared row by row by
# tests/tools/same-rows.py: ids, stored_seq and the run's own times, CPU and
# memory aside, every column of every connection, request, finding and
# attempts row, and the run's counts.
#
# On every capture bundled in captures/ (160 files: tunnels whose two
# directions come in different tunnels, IP fragments, TLS decrypted with
# its key log, HTTP/2, pipelining, port reuse, mid-stream pickups, damaged
# and truncated files), once with the default timeouts and once with
# 0.2 s idle and 0.05 s linger, so that connections end by the clock in
# the middle of the captures; and on two generated floods (tests/tools/
# floods.py): 20,000 unanswered SYNs (attempts summed across workers) and
# 3,000 connections holding half a request each.  Also checks that each
# run says how many threads it used and that the workers did the work.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
name=t_threads
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

find "$src/captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \
	-o -name '*.pcapng.gz' \) | LC_ALL=C sort > "$tmp/all"
[ "$(wc -l < "$tmp/all")" -ge 100 ] || fail "only $(wc -l < "$tmp/all") bundled captures found"
# Captures with a key log are read one by one with it; the others in one run each of one read.
: > "$tmp/plain"
: > "$tmp/keyed"
while read -r f; do
	if [ -f "${f%.pcap}.keylog" ]; then echo "$f" >> "$tmp/keyed"; else echo "$f" >> "$tmp/plain"; fi
done < "$tmp/all"
python3 "$src/tests/tools/floods.py" syn-flood "$tmp/syn.pcap" 20000 > /dev/null ||
	fail "the syn-flood generator failed"
python3 "$src/tests/tools/floods.py" half-heads "$tmp/half.pcap" 3000 > /dev/null ||
	fail "the half-heads generator failed"

# read_all DB N OPTIONS...: every capture into DB with --threads N.  A
# damaged capture makes kalens exit 1 (its run says why): not a failure here.
read_all() {
	local db=$1 n=$2; shift 2
	local f
	mapfile -t plain < "$tmp/plain"
	"$kalens" read -q --threads "$n" "$@" -o "$db" "${plain[@]}" "$tmp/syn.pcap" "$tmp/half.pcap" \
		2> "$db.err"
	while read -r f; do
		"$kalens" read -q --threads "$n" "$@" --keylog "${f%.pcap}.keylog" -o "$db" "$f" \
			2>> "$db.err" || fail "--threads $n: $f with its key log: $(tail -n 1 "$db.err")"
	done < "$tmp/keyed"
	local runs
	runs=$(sqlite3 "$db" "SELECT COUNT(*) FROM runs")
	[ "$runs" = "$(( $(wc -l < "$tmp/all") + 2 ))" ] ||
		fail "--threads $n $*: $runs runs, want one per capture: $(head -c 600 "$db.err")"
	[ "$(sqlite3 "$db" "SELECT COUNT(*) FROM runs WHERE threads IS NOT $n")" = 0 ] ||
		fail "--threads $n: runs.threads is not $n"
}

for timeouts in "" "--idle-timeout 0.2 --linger 0.05"; do
	for n in 1 2 4; do
		# shellcheck disable=SC2086  # the timeouts are words
		read_all "$tmp/t$n.db" "$n" $timeouts
	done
	for n in 2 4; do
		python3 "$src/tests/tools/same-rows.py" "$tmp/t1.db" "$tmp/t$n.db" > "$tmp/diff" ||
			fail "--threads $n ${timeouts:-(default timeouts)} stores other rows than --threads 1:
$(head -c 3000 "$tmp/diff")"
	done
	# Not a comparison of nothing: connections, requests, attempts and
	# connections ended by the clock are among them.
	got=$(sqlite3 "$tmp/t4.db" "SELECT (SELECT COUNT(*) > 3000 FROM connections)
		AND (SELECT COUNT(*) > 1000 FROM requests) AND (SELECT TOTAL(attempts) >= 20000 FROM attempts)
		AND (SELECT COUNT(*) > 0 FROM connections WHERE close_kind = 'idle' OR '$timeouts' = '')
		AND (SELECT COUNT(*) > 0 FROM connections WHERE decrypted = 1)")
	[ "$got" = 1 ] || fail "${timeouts:-default timeouts}: the captures gave too few rows to compare"
	# The workers did the analysis: their CPU time is counted, the reading
	# thread's is less than with one thread.
	got=$(sqlite3 "$tmp/t4.db" "SELECT COUNT(*) FROM runs WHERE packets > 10000 AND cpu_workers_s <= 0")
	[ "$got" = 0 ] || fail "--threads 4: $got large runs without worker CPU time"
	[ "$(sqlite3 "$tmp/t1.db" "SELECT COUNT(*) FROM runs WHERE cpu_workers_s <> 0")" = 0 ] ||
		fail "--threads 1: worker CPU time counted"
	rm -f "$tmp"/t?.db*
done

# A bad count is refused.
for bad in 0 65 1.5 x; do
	out=$("$kalens" read --threads "$bad" -o "$tmp/bad.db" "$tmp/syn.pcap" 2>&1)
	rc=$?
	[ "$rc" = 2 ] && grep -q "bad thread count" <<< "$out" ||
		fail "--threads $bad: exit $rc: $out"
done
[ ! -e "$tmp/bad.db" ] || fail "a refused --threads made a database"

[ "$failed" = 0 ] && echo "$name: ok"
exit "$failed"
