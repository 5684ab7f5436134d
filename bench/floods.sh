#!/usr/bin/env bash
# bench/floods.sh [-k KALENS_BIN] [-s SCALE] [OUTDIR]
#
# The adversarial captures of issue 18 at full scale (tests/tools/floods.py: SYN flood, half
# request heads never closed, 63,000-byte heads without CRLFCRLF, one-sided connections, 10 M
# pipelined GETs), made in OUTDIR (default /tmp/kabench/floods, kept between runs), each read once
# by `kalens read` under GNU time: wall, peak RSS, packets/s, and what was stored (conns: rows of
# `connections` plus the attempts summed in `attempts`).  SCALE divides
# every count (default 1: the figures of the issue).  A measurement, never a test.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KALENS=$REPO/build/kalens
SCALE=1
while getopts "k:s:" o; do
	case $o in
	k) KALENS=$OPTARG ;;
	s) SCALE=$OPTARG ;;
	*) sed -n '2p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
OUT=${1:-/tmp/kabench/floods}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "bench/floods.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
printf '%-11s %10s %9s %9s %11s %10s %10s\n' capture packets wall_s rss_MiB packets/s conns requests
for spec in syn-flood:2000000 half-heads:500000 big-heads:16000 one-sided:1000000 pipelined:10000000; do
	kind=${spec%%:*}
	n=$(( ${spec##*:} / SCALE ))
	pcap=$OUT/$kind-$n.pcap
	[ -s "$pcap" ] || python3 "$REPO/tests/tools/floods.py" "$kind" "$pcap" "$n" > /dev/null
	db=$(mktemp -d)/k.db
	/usr/bin/time -f "%e %M" -o "$db.time" "$KALENS" read -q -o "$db" "$pcap" || true
	read -r wall rss < "$db.time"
	read -r packets conns reqs < <(sqlite3 -separator ' ' "$db" "SELECT (SELECT packets FROM runs),
		(SELECT COUNT(*) FROM connections) + (SELECT COALESCE(SUM(attempts), 0) FROM attempts),
		(SELECT COUNT(*) FROM requests)")
	printf '%-11s %10s %9s %9d %11.0f %10s %10s\n' "$kind" "$packets" "$wall" $((rss / 1024)) \
		"$(echo "$packets / $wall" | bc -l)" "$conns" "$reqs"
	rm -rf "$(dirname "$db")"
done
