#!/usr/bin/env bash
# bench/ship.sh [-n RUNS] [-k KALENS_BIN] [OUTDIR]
#
# How fast kalens ships into ClickHouse: two local clickhouse-server shards (Debian's 18.16,
# tests/tools/clickhouse-local.sh) behind Distributed tables, and the manysmall benchmark capture
# (bench/run.sh makes it in OUTDIR, default /tmp/kabench).  Per run, with the ClickHouse database
# made afresh each time:
#   read         kalens read -q -o DB manysmall.pcap                 (the floor for read --ship)
#   ship         kalens ship DB URL                                  (rows/s end to end)
#   read --ship  kalens read -q -o DB --ship URL manysmall.pcap
#   server       INSERT INTO requests_copy SELECT * FROM requests    (the server's own floor,
#                no parsing, no network: what 18.16 stores per second on this machine)
# Prints wall, kalens's user+sys and peak RSS (GNU time) per run and the medians, and checks
# after each shipment that ClickHouse holds what SQLite holds (tests/tools/compare-ship.py).
# Never run by the test suite; no timing is asserted anywhere.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=3
KALENS=$REPO/build/kalens
while getopts "n:k:" o; do
	case $o in
	n) RUNS=$OPTARG ;;
	k) KALENS=$OPTARG ;;
	*) sed -n '2p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
OUTDIR=${1:-/tmp/kabench}
CAP=$OUTDIR/manysmall.pcap
[ -f "$CAP" ] || { echo "bench/ship.sh: no $CAP: run bench/run.sh first (it makes the captures)" >&2; exit 2; }
command -v clickhouse-server >/dev/null || { echo "bench/ship.sh: clickhouse-server not installed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/ship.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'bash "$REPO/tests/tools/clickhouse-local.sh" stop "$tmp/ch" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
bash "$REPO/tests/tools/clickhouse-local.sh" start "$tmp/ch" 2 > "$tmp/servers"
read -r h1 _ _ < <(sed -n 1p "$tmp/servers")
read -r h2 _ _ < <(sed -n 2p "$tmp/servers")
chq() { curl -sS "http://127.0.0.1:$1/" --data-binary "$2"; }
"$KALENS" schema --clickhouse --cluster kalens_test | grep -v '^--' > "$tmp/ddl.sql"
fresh() {
	local h
	for h in "$h1" "$h2"; do
		chq "$h" "DROP DATABASE IF EXISTS kalens"
		python3 - "$h" "$tmp/ddl.sql" <<'PY'
import sys, urllib.request
for st in [x.strip() for x in open(sys.argv[2]).read().split(";") if x.strip()]:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/" % sys.argv[1], data=st.encode())).read()
PY
	done
}
url="http://127.0.0.1:$h1/?database=kalens"
db=$tmp/k.db
timed() {  # label command...: one line "label wall cpu rss"
	local label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" > /dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	read -r w u s m < "$tmp/t"
	printf '%-12s %8.3f s wall %8.3f s cpu %6d MiB\n' "$label" "$w" "$(echo "$u + $s" | bc)" $((m / 1024)) | tee -a "$tmp/rows"
}
for i in $(seq 1 "$RUNS"); do
	rm -f "$db"*
	timed read "$KALENS" read -q -o "$db" "$CAP"
	fresh
	timed ship "$KALENS" ship -q "$db" "$url"
	python3 "$REPO/tests/tools/compare-ship.py" "$db" "$h1" kalens > /dev/null || { echo "ship: ClickHouse differs" >&2; exit 1; }
	rm -f "$db"*
	fresh
	timed "read --ship" "$KALENS" read -q -o "$db" --ship "$url" "$CAP"
	python3 "$REPO/tests/tools/compare-ship.py" "$db" "$h1" kalens > /dev/null || { echo "read --ship: ClickHouse differs" >&2; exit 1; }
	chq "$h1" "CREATE TABLE kalens.requests_copy AS kalens.requests_local"
	s0=$(date +%s.%N)
	chq "$h1" "INSERT INTO kalens.requests_copy SELECT * FROM kalens.requests_local"
	s1=$(date +%s.%N)
	printf '%-12s %8.3f s wall (%s rows, one shard)\n' server "$(echo "$s1 - $s0" | bc)" \
		"$(chq "$h1" "SELECT count() FROM kalens.requests_copy")" | tee -a "$tmp/rows"
done
rows=$(sqlite3 "$db" "SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM connections) + (SELECT COUNT(*) FROM requests) + (SELECT COUNT(*) FROM findings)")
echo
echo "medians over $RUNS runs ($rows rows shipped per run):"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for l in read ship "read --ship"; do
	w=$(grep "^$l  " "$tmp/rows" | sed 's/.* \([0-9.]*\) s wall.*/\1/' | median)
	c=$(grep "^$l  " "$tmp/rows" | sed 's/.* \([0-9.]*\) s cpu.*/\1/' | median)
	printf '  %-12s %.3f s wall, %.3f s cpu' "$l" "$w" "$c"
	[ "$l" = ship ] && printf ', %.0f rows/s end to end, %.0f rows/s of kalens cpu' \
		"$(echo "$rows / $w" | bc -l)" "$(echo "$rows / $c" | bc -l)"
	echo
done
