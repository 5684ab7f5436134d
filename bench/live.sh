#!/usr/bin/env bash
# bench/live.sh [-k KALENS_BIN] [-n PACKETS] [-r "RATE..."] [OUTDIR]
#
# How fast `kalens live` keeps up: replays the first PACKETS packets of the
# benchmark capture OUTDIR/manysmall.pcap (see bench/README.md; made by
# bench/run.sh) onto one end of a veth pair inside a network namespace made
# for the purpose, while `kalens live` captures on the other end, at each
# RATE (packets per second, or "top" for tcpreplay --topspeed), with the
# filter "tcp" (the veth pair carries a few IPv6 neighbour packets too).  Prints, per
# rate, the rate tcpreplay reached, what kalens counted (packets read,
# dropped by the kernel, connections, requests) and its peak RSS, and the
# highest rate with no drop.
#
#   -k KALENS   kalens binary (default build/kalens)
#   -n PACKETS  packets replayed per rate (default 300000)
#   -r RATES    space-separated, default "25000 50000 100000 200000 400000 top"
#   -a ARGS     more options for kalens live, e.g. -a "-B 2048" (kernel buffer)
#   OUTDIR      where manysmall.pcap is (default /tmp/kabench)
#
# Needs root (namespace, veth, capture), tcpreplay (Debian tcpreplay), iproute2,
# editcap (wireshark-common), sqlite3.  Everything it makes (the namespace with
# its veth pair, the scratch directory) is removed at exit, also on Ctrl-C.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KALENS=$REPO/build/kalens
PACKETS=300000
RATES="25000 50000 100000 200000 400000 top"
OUTDIR=/tmp/kabench
EXTRA=()
die() { echo "bench/live.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
		-k) KALENS=$2; shift 2 ;;
		-n) PACKETS=$2; shift 2 ;;
		-r) RATES=$2; shift 2 ;;
		-a) read -r -a EXTRA <<< "$2"; shift 2 ;;
		-h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) die "unknown option $1" ;;
		*) OUTDIR=$1; shift ;;
	esac
done
case $KALENS in /*) ;; *) KALENS=$PWD/$KALENS ;; esac
[ -x "$KALENS" ] || die "kalens binary not found: $KALENS"
[ "$(id -u)" = 0 ] || die "needs root (network namespace, veth pair, capture)"
for t in tcpreplay ip editcap sqlite3; do command -v "$t" >/dev/null || die "$t not found"; done
[[ $PACKETS =~ ^[0-9]+$ ]] && [ "$PACKETS" -ge 1000 ] || die "-n PACKETS: 1000 or more"
[ -r "$OUTDIR/manysmall.pcap" ] || die "no $OUTDIR/manysmall.pcap (bench/run.sh makes it)"

NS=kabench-live-$$
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kabench-live.XXXXXX")
KPID=""
cleanup() {
	set +e
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

editcap -r "$OUTDIR/manysmall.pcap" "$SCRATCH/replay.pcap" "1-$PACKETS"
ip netns add "$NS"
ip -n "$NS" link add kab0 type veth peer name kab1
ip -n "$NS" link set kab0 up
ip -n "$NS" link set kab1 up
# no offloads: frames arrive as they were captured
ip netns exec "$NS" ethtool -K kab1 gro off >/dev/null 2>&1 || true

q() { sqlite3 -batch -noheader "$1" "$2"; }

# The same packets read from the file: what every live run should find.
"$KALENS" read -q -o "$SCRATCH/file.db" "$SCRATCH/replay.pcap"
FILE_COUNTS=$(q "$SCRATCH/file.db" "select packets || ' packets, ' || connections || ' connections, ' || requests || ' requests' from runs")

echo "# kalens live bench $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "# $PACKETS packets of manysmall.pcap per rate, replayed by tcpreplay on a veth pair in namespace $NS; kalens live ${EXTRA[*]:-(default options)}"
echo "# kalens read on the same packets: $FILE_COUNTS"
printf '%-10s %12s %10s %10s %9s %8s %9s %8s\n' rate_pps reached_pps sent read dropped conns requests rss_MiB
best=""
for rate in $RATES; do
	db=$SCRATCH/live-$rate.db
	rm -f "$db" "$db-wal" "$db-shm"
	ip netns exec "$NS" /usr/bin/time -f '%M' -o "$SCRATCH/rss" "$KALENS" live -q -i kab1 -f tcp -o "$db" "${EXTRA[@]}" \
		> "$SCRATCH/k.out" 2> "$SCRATCH/k.err" &
	KPID=$!
	for _ in $(seq 100); do
		[ "$(q "$db" "select count(*) from runs where status = 'running'" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
	sleep 0.5
	if [ "$rate" = top ]; then speed=(--topspeed); else speed=(--pps="$rate"); fi
	ip netns exec "$NS" tcpreplay -q -K -i kab0 "${speed[@]}" "$SCRATCH/replay.pcap" > "$SCRATCH/tr.out" 2>&1 ||
		{ cat "$SCRATCH/tr.out" >&2; die "tcpreplay failed at rate $rate"; }
	sleep 1
	# kalens's pid is /usr/bin/time's child
	kill -INT "$(pgrep -P "$KPID" -x kalens || echo "$KPID")" 2>/dev/null
	wait "$KPID" || true
	KPID=""
	sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$SCRATCH/tr.out" | head -n 1)
	reached=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$SCRATCH/tr.out" | head -n 1)
	read -r read_ dropped conns reqs < <(q "$db" "select packets, packets_dropped, connections, requests from runs" | tr '|' ' ')
	rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$SCRATCH/rss")
	printf '%-10s %12s %10s %10s %9s %8s %9s %8s\n' "$rate" "${reached:-?}" "${sent:-?}" "${read_:-?}" \
		"${dropped:-?}" "${conns:-?}" "${reqs:-?}" "$rss"
	if [ "${dropped:-1}" = 0 ] && [ "${read_:-0}" = "${sent:-x}" ]; then best="$rate (${reached:-?} pps reached)"; fi
	# (tcpreplay -K: the packets are loaded into memory first, so the
	# sender is as fast as it can be)
done
echo "highest rate with no drop and every packet read: ${best:-none}"
