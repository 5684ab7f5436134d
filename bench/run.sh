#!/usr/bin/env bash
# bench/run.sh [-n RUNS] [-k KALENS_BIN] [-t THREADS] [--no-tshark] [OUTDIR]
#
# Whole-process benchmark of `kalens read` against the libpcap read-loop floor and tshark, on the
# shared captures (../shared/bench, see bench/README.md):
#   empty.pcap      24-byte file header only: fixed start-up cost
#   manysmall.pcap  ~430 MB, ~1.1 M packets of 100-byte HTTP responses (packet/request rate)
#   large.pcap      ~1.08 GB, ~0.87 M packets, mixed body sizes (bytes)
#   large-vxlan.pcap  large.pcap's frames inside VXLAN (bench/vxlan-wrap.py; no tshark runs): the tunnel's cost
# Per capture: readloop RUNS times, `kalens read -q -o SCRATCH/k.db PCAP` RUNS times (the DB and
# its -wal/-shm/-journal removed before every run), `tshark -r PCAP -q -z conv,tcp` once (tool
# "tshark": the connections) and `tshark -r PCAP -Y http.request -T fields -e tcp.stream
# -e http.request.method -e http.request.uri` once (tool "tshark-http": the requests).
# Each run is timed by ../shared/bench/lib/timeit (wall, user+sys, peak RSS of the process and
# its children), the capture read from a warm page cache.  Prints a table and the targets, and
# appends the rows to OUTDIR/results.tsv.
#
#   -n RUNS       runs of readloop and kalens per capture (default 5, 1..50)
#   -k KALENS     kalens binary (default build/kalens under the repository root)
#   -t THREADS    kalens read --threads THREADS (default: kalens' default)
#   --no-tshark   skip both tshark runs (together about 2 minutes)
#   OUTDIR        where the captures are / are made (default /tmp/kabench)
# Environment: KABENCH_SHARED (default REPO/../shared/bench), KABENCH_RUN_TIMEOUT (seconds a
# single run may take before it is killed, default 900).
# Missing manysmall.pcap / large.pcap are made with make-captures.sh, which needs root (network
# namespace, tcpdump) and nginx, wrk, ab, curl, tcpdump, iproute2, ethtool.
# Exit status: 0 all runs succeeded, 1 a run failed or timed out, 2 usage or setup error.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${KABENCH_SHARED:-$REPO/../shared/bench}
RUNS=5
KALENS=$REPO/build/kalens
TSHARK=1
THREADS=()
OUTDIR=/tmp/kabench
RUN_TIMEOUT=${KABENCH_RUN_TIMEOUT:-900}
CAPTURES=(empty manysmall large large-vxlan)

usage() { sed -n '2p;18,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench/run.sh: $*" >&2; exit 2; }

ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
		-n) [ $# -ge 2 ] || usage; RUNS=$2; shift 2 ;;
		-n*) RUNS=${1#-n}; shift ;;
		-k) [ $# -ge 2 ] || usage; KALENS=$2; shift 2 ;;
		-k*) KALENS=${1#-k}; shift ;;
		-t) [ $# -ge 2 ] || usage; THREADS=(--threads "$2"); shift 2 ;;
		--no-tshark) TSHARK=0; shift ;;
		-h|--help) usage ;;
		--) shift; ARGS+=("$@"); break ;;
		-*) echo "bench/run.sh: unknown option $1" >&2; usage ;;
		*) ARGS+=("$1"); shift ;;
	esac
done
[ ${#ARGS[@]} -le 1 ] || usage
[ ${#ARGS[@]} -eq 1 ] && OUTDIR=${ARGS[0]}
if ! [[ $RUNS =~ ^[0-9]{1,3}$ ]] || [ "$((10#$RUNS))" -lt 1 ] || [ "$((10#$RUNS))" -gt 50 ]; then die "-n RUNS must be 1..50"; fi
RUNS=$((10#$RUNS))
if ! [[ $RUN_TIMEOUT =~ ^[0-9]{1,6}$ ]] || [ "$((10#$RUN_TIMEOUT))" -lt 1 ]; then die "KABENCH_RUN_TIMEOUT must be 1..999999 seconds"; fi

# A relative -k is taken from the current directory; the default lives in the repository.
case $KALENS in /*) ;; *) KALENS=$PWD/$KALENS ;; esac
if ! [ -f "$KALENS" ] || ! [ -x "$KALENS" ]; then die "kalens binary not found or not executable: $KALENS (build it, or pass -k)"; fi
[ -d "$SHARED" ] || die "shared bench folder not found: $SHARED (set KABENCH_SHARED)"
for t in cc sqlite3 timeout; do command -v "$t" >/dev/null || die "$t not found"; done
if [ "$TSHARK" = 1 ]; then
	command -v tshark >/dev/null || die "tshark not found (apt-get install -y tshark, or pass --no-tshark)"
fi

# --- captures ---------------------------------------------------------------------------------
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
# A capture counts as present when it has at least 1 MiB and, if make-captures.sh wrote its
# NAME.meta.txt, tcpdump's closing counters are in it (an interrupted make leaves a partial file).
capture_ok() {
	local p=$OUTDIR/$1.pcap m=$OUTDIR/$1.meta.txt
	[ -f "$p" ] && [ "$(stat -c %s "$p")" -ge 1048576 ] || return 1
	[ ! -e "$m" ] || grep -q 'packets captured' "$m"
}
missing=()
for c in manysmall large; do capture_ok "$c" || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		die "missing ${missing[*]/%/.pcap} in $OUTDIR; making them needs root (private network namespace, tcpdump): run
    sudo $SHARED/make-captures.sh $OUTDIR ${missing[*]}
or run this script as root (needs nginx wrk apache2-utils curl tcpdump iproute2 ethtool)"
	fi
	echo "# making ${missing[*]} in $OUTDIR with make-captures.sh (root; about 1-2 minutes)" >&2
	"$SHARED/make-captures.sh" "$OUTDIR" "${missing[@]}"
fi
# empty.pcap: a pcap file header (24 bytes) and no packets; make-captures.sh only writes it
# along with small.pcap, so take the header of manysmall.pcap when it is missing.
if [ ! -s "$OUTDIR/empty.pcap" ]; then
	head -c 24 "$OUTDIR/manysmall.pcap" > "$OUTDIR/empty.pcap.tmp"
	mv "$OUTDIR/empty.pcap.tmp" "$OUTDIR/empty.pcap"
fi
# large-vxlan.pcap: large.pcap's frames inside VXLAN, as a mirror session delivers them.
if [ ! -s "$OUTDIR/large-vxlan.pcap" ] || [ "$OUTDIR/large.pcap" -nt "$OUTDIR/large-vxlan.pcap" ]; then
	echo "# making large-vxlan.pcap from large.pcap with bench/vxlan-wrap.py (about 10 s)" >&2
	python3 "$REPO/bench/vxlan-wrap.py" "$OUTDIR/large.pcap" "$OUTDIR/large-vxlan.pcap.tmp" &&
		mv "$OUTDIR/large-vxlan.pcap.tmp" "$OUTDIR/large-vxlan.pcap" || die "cannot make large-vxlan.pcap"
fi
for c in "${CAPTURES[@]}"; do [ -r "$OUTDIR/$c.pcap" ] || die "cannot read $OUTDIR/$c.pcap"; done

# --- scratch, cleanup, bounded runs -----------------------------------------------------------
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kabench-run.XXXXXX")
CUR=""   # pid of the timed job in flight (a `timeout`, leader of its own process group)
cleanup() {
	set +e
	if [ -n "$CUR" ]; then
		kill -TERM -- "-$CUR" 2>/dev/null || kill -TERM "$CUR" 2>/dev/null
		wait "$CUR" 2>/dev/null
	fi
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CFLAGS=(-O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror)
cc "${CFLAGS[@]}" -o "$SCRATCH/readloop" "$SHARED/limit/readloop.c" -lpcap ||
	die "cannot build readloop (needs libpcap-dev)"
cc -O2 -Wall -Wextra -Werror -o "$SCRATCH/timeit" "$SHARED/lib/timeit.c" || die "cannot build timeit"
mkdir "$SCRATCH/times" "$SCRATCH/work"

# timed NAME OUT COMMAND...: one run of COMMAND under timeit (stdout to OUT, stderr to
# SCRATCH/err), bounded by RUN_TIMEOUT; appends "wall user sys maxrss_kib" to times/NAME.
# Runs in the background and is waited for, so SIGINT/SIGTERM reach the trap at once; `timeout`
# leads its own process group, which cleanup kills as a whole.
timed() {
	local name=$1 out=$2 rc=0; shift 2
	timeout -k 10 "$RUN_TIMEOUT" "$SCRATCH/timeit" "$out" "$SCRATCH/err" "$@" > "$SCRATCH/time" &
	CUR=$!
	wait "$CUR" || rc=$?
	CUR=""
	if [ "$rc" != 0 ] || ! [ -s "$SCRATCH/time" ]; then
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "bench/run.sh: $name: timed out after ${RUN_TIMEOUT}s (or killed: status $rc)" >&2
		else
			echo "bench/run.sh: $name: exit status $rc; its stderr ends:" >&2
			tail -n 5 "$SCRATCH/err" | sed 's/^/    /' >&2
		fi
		return 1
	fi
	cat "$SCRATCH/time" >> "$SCRATCH/times/$name"
}

# stats FILE -> "runs median_wall min_wall median_cpu max_rss_kib walls" (medians of an even
# count are the mean of the middle two)
stats() {
	local walls med min cpu rss
	walls=$(awk '{ printf "%s%.3f", (NR > 1 ? "," : ""), $1 }' "$1")
	read -r med min < <(awk '{ print $1 }' "$1" | sort -g | median_min)
	read -r cpu _ < <(awk '{ print $2 + $3 }' "$1" | sort -g | median_min)
	rss=$(awk '$4 > m { m = $4 } END { print m + 0 }' "$1")
	echo "$(wc -l < "$1" | tr -d ' ') $med $min $cpu $rss $walls"
}
median_min() {   # sorted numbers on stdin -> "median min"
	awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6f %.6f\n", m, v[1] }'
}

DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
TREE=clean
if [ "$COMMIT" = unknown ]; then TREE=unknown
# dirty: tracked changes or untracked (not ignored) files outside bench/ -- CMake globs the
# sources, so an untracked analyzer/*.c is in the binary but not in the commit
elif [ -n "$(cd "$REPO" && git status --porcelain -- . ':!bench' 2>/dev/null)" ]; then TREE=dirty; fi
# The commit recorded is the repository's HEAD: say so when the binary is older than a source
# file (any .c/.h change relinks kalens; a CMakeLists.txt change need not, so it is not checked).
STALE=$(cd "$REPO" && for d in analyzer dissectors; do [ ! -d "$d" ] ||
	find "$d" -newer "$KALENS" -name '*.[ch]' -print 2>/dev/null || true; done | head -n 3 | paste -sd ' ') || STALE=""
if [ -n "$STALE" ]; then
	echo "# warning: $KALENS is older than ${STALE}: rebuild it, or the commit recorded ($COMMIT) is not what is timed" >&2
fi
LOAD0=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
echo "# kalens bench $DATE, commit $COMMIT ($TREE tree), $(nproc) cores, runs $RUNS, load average $LOAD0; kalens: $KALENS" >&2
if awk -v l="$LOAD0" 'BEGIN { exit !(l + 0 > 0.5) }'; then
	echo "# warning: load average $LOAD0 at start: other processes share the CPUs and wall times will be noisy" >&2
fi

FAILED=0
ROWS=()   # capture bytes packets tool runs med min cpu rss_kib walls conns
declare -A WALL MINW CPU RSS CONNS PKTS REQS
for c in "${CAPTURES[@]}"; do
	PCAP=$OUTDIR/$c.pcap
	BYTES=$(stat -c %s "$PCAP")
	cat "$PCAP" > /dev/null   # warm the page cache: every tool reads the capture from memory
	echo "# $c.pcap: $BYTES bytes" >&2
	PACKETS=""
	tools=(readloop kalens)
	[ "$TSHARK" = 1 ] && [ "$c" != large-vxlan ] && tools+=(tshark tshark-http)
	for tool in "${tools[@]}"; do
		n=$RUNS
		[ "${tool%-http}" = tshark ] && n=1
		name=$c.$tool
		conns=""
		: > "$SCRATCH/times/$name"
		for ((i = 1; i <= n; i++)); do
			case $tool in
				readloop)
					timed "$name" "$SCRATCH/out" "$SCRATCH/readloop" "$PCAP" || { FAILED=1; break; }
					[ -n "$PACKETS" ] || PACKETS=$(sed -n 's/^packets=\([0-9]*\) .*/\1/p' "$SCRATCH/out") ;;
				kalens)
					DB=$SCRATCH/work/k.db
					rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"   # a fresh DB every run
					timed "$name" /dev/null "$KALENS" read -q ${THREADS[@]+"${THREADS[@]}"} -o "$DB" "$PCAP" || { FAILED=1; break; } ;;
				tshark)
					timed "$name" "$SCRATCH/out" tshark -r "$PCAP" -q -z conv,tcp || { FAILED=1; break; }
					conns=$(grep -c -- '<->' "$SCRATCH/out" || true) ;;
				tshark-http)
					timed "$name" "$SCRATCH/out" tshark -r "$PCAP" -Y http.request -T fields \
						-e tcp.stream -e http.request.method -e http.request.uri || { FAILED=1; break; }
					REQS[$name]=$(wc -l < "$SCRATCH/out" | tr -d ' ') ;;
			esac
		done
		if [ "$tool" = kalens ] && [ -s "$SCRATCH/times/$name" ]; then
			# the last run's DB: connections it stored
			conns=$(sqlite3 "$DB" 'select count(*) from connections' 2>"$SCRATCH/err") ||
				{ echo "bench/run.sh: $c: cannot count connections in the kalens DB: $(head -c 300 "$SCRATCH/err")" >&2; conns="?"; FAILED=1; }
			REQS[$name]=$(sqlite3 "$DB" 'select count(*) from requests' 2>/dev/null || echo '?')
			cpu=$(sqlite3 "$DB" "select printf('%.3f s reading, %.3f s in %d analysis workers, %.3f s storing', cpu_read_s, cpu_workers_s, threads, cpu_store_s) from runs" 2>/dev/null || echo 'CPU per thread not recorded')
			echo "#   kalens DB: $(stat -c %s "$DB" 2>/dev/null || echo '?') bytes, $conns connections, ${REQS[$name]} requests; CPU: $cpu (last run)" >&2
		fi
		rm -rf "$SCRATCH/work" "$SCRATCH/out"; mkdir "$SCRATCH/work"
		[ -z "$PACKETS" ] || PKTS[$c]=$PACKETS
		[ -s "$SCRATCH/times/$name" ] || { ROWS+=("$c $BYTES ${PACKETS:-0} $tool 0 - - - - - -"); continue; }
		read -r runs med min cpu rss walls < <(stats "$SCRATCH/times/$name")
		WALL[$name]=$med MINW[$name]=$min CPU[$name]=$cpu RSS[$name]=$rss CONNS[$name]=${conns:--}
		ROWS+=("$c $BYTES ${PACKETS:-0} $tool $runs $med $min $cpu $rss $walls ${conns:--}")
		echo "#   $tool: runs $runs, median wall ${med}s, peak RSS $((rss / 1024)) MiB, walls $walls" >&2
	done
done

# --- table, results.tsv -----------------------------------------------------------------------
# ratio A B: A/B to 2 decimals, "-" when either is missing
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print "-"; else printf "%.2f", a / b }'; }

RESULTS=$OUTDIR/results.tsv
HDR="timestamp	commit	tree	cores	loadavg	capture	bytes	packets	tool	runs	median_wall_s	min_wall_s	median_cpu_s	peak_rss_MiB	MB_per_s	packets_per_s	wall_vs_readloop	wall_vs_kalens	connections	wall_each_run_s"
if [ -s "$RESULTS" ] && [ "$(head -n 1 "$RESULTS")" != "$HDR" ]; then
	mv "$RESULTS" "$RESULTS.old-$(date -u +%Y%m%dT%H%M%SZ)"
	echo "bench/run.sh: $RESULTS had other columns; moved aside, starting a new one" >&2
fi
[ -s "$RESULTS" ] || echo "$HDR" > "$RESULTS"

echo
echo "kalens bench — $DATE — commit $COMMIT ($TREE) — $(nproc) cores — readloop/kalens $RUNS runs, tshark 1 run each — load average $LOAD0 at start, $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?') at end"
echo
FMT='%-10s %-11s %4s %9s %9s %9s %8s %8s %11s %9s %9s %7s\n'
# shellcheck disable=SC2059
printf "$FMT" capture tool runs med_wall_s min_wall_s med_cpu_s rss_MiB MB/s packets/s x_readloop x_kalens conns
for r in "${ROWS[@]}"; do
	read -r c bytes packets tool runs med min cpu rss walls conns <<< "$r"
	if [ "$runs" = 0 ]; then
		# shellcheck disable=SC2059
		printf "$FMT" "$c" "$tool" 0 FAILED - - - - - - - -
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n' "$DATE" "$COMMIT" "$TREE" "$(nproc)" "$LOAD0" "$c" "$bytes" "$packets" "$tool" >> "$RESULTS"
		continue
	fi
	vs_rl=$(ratio "$med" "${WALL[$c.readloop]:-}")
	vs_k=$(ratio "$med" "${WALL[$c.kalens]:-}")
	line=$(awk -v med="$med" -v min="$min" -v cpu="$cpu" -v rss="$rss" -v bytes="$bytes" -v pk="$packets" 'BEGIN {
		w = (med > 0) ? med : 1e-6
		mbs = (pk > 0) ? sprintf("%.1f", bytes / 1e6 / w) : "-"
		pps = (pk > 0) ? sprintf("%.0f", pk / w) : "-"
		printf "%.3f %.3f %.3f %.1f %s %s", med, min, cpu, rss / 1024, mbs, pps
	}')
	read -r f_med f_min f_cpu f_rss f_mbs f_pps <<< "$line"
	# shellcheck disable=SC2059
	printf "$FMT" "$c" "$tool" "$runs" "$f_med" "$f_min" "$f_cpu" "$f_rss" "$f_mbs" "$f_pps" "$vs_rl" "$vs_k" "$conns"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$DATE" "$COMMIT" "$TREE" "$(nproc)" "$LOAD0" "$c" "$bytes" "$packets" "$tool" "$runs" \
		"$f_med" "$f_min" "$f_cpu" "$f_rss" "$f_mbs" "$f_pps" "$vs_rl" "$vs_k" "$conns" "$walls" >> "$RESULTS"
done

echo
echo "targets (connections layer):"
for c in manysmall large; do
	r=$(ratio "${WALL[$c.kalens]:-}" "${WALL[$c.readloop]:-}")
	verdict="-"
	[ "$r" != - ] && verdict=$(awk -v r="$r" 'BEGIN { print (r <= 1.5) ? "met" : "NOT met" }')
	printf '  %-10s kalens/readloop median wall %5sx  (target <= 1.5x: %s; min wall %sx, user+sys %sx)' "$c" "$r" "$verdict" \
		"$(ratio "${MINW[$c.kalens]:-}" "${MINW[$c.readloop]:-}")" "$(ratio "${CPU[$c.kalens]:-}" "${CPU[$c.readloop]:-}")"
	[ "$TSHARK" = 1 ] && printf ';  tshark/kalens wall %sx' "$(ratio "${WALL[$c.tshark]:-}" "${WALL[$c.kalens]:-}")"
	echo
done
echo
echo "targets (HTTP layer: every request parsed and stored):"
r=$(ratio "${WALL[large.kalens]:-}" "${WALL[large.readloop]:-}")
verdict="-"
[ "$r" != - ] && verdict=$(awk -v r="$r" 'BEGIN { print (r <= 2) ? "met" : "NOT met" }')
printf '  large      kalens/readloop median wall %5sx  (target <= 2x: %s)\n' "$r" "$verdict"
if [ "$TSHARK" = 1 ]; then
	r=$(ratio "${WALL[manysmall.tshark-http]:-}" "${WALL[manysmall.kalens]:-}")
	verdict="-"
	[ "$r" != - ] && verdict=$(awk -v r="$r" 'BEGIN { print (r >= 50) ? "met" : "NOT met" }')
	printf '  manysmall  tshark-http/kalens median wall %5sx  (target >= 50x: %s; by min wall %sx)\n' "$r" "$verdict" \
		"$(ratio "${WALL[manysmall.tshark-http]:-}" "${MINW[manysmall.kalens]:-}")"
fi
r=$(ratio "${WALL[large-vxlan.kalens]:-}" "${WALL[large.kalens]:-}")
verdict="-"
[ "$r" != - ] && verdict=$(awk -v r="$r" 'BEGIN { print (r <= 1.10) ? "met" : "NOT met" }')
printf '  large-vxlan kalens(large in VXLAN)/kalens(large) median wall %5sx  (target <= 1.10x: %s)\n' "$r" "$verdict"
awk -v n="${REQS[manysmall.kalens]:-}" -v w="${WALL[manysmall.kalens]:-}" 'BEGIN {
	if (n + 0 > 0 && w + 0 > 0) printf "  manysmall  %d requests in %.3f s: %.0f requests/s end to end (aim: 1 M/s)\n", n, w, n / w }'
mib() { awk -v k="${1:-}" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }
printf '  kalens peak RSS large/manysmall: %sx  (%s / %s MiB; flat is ~1.0x; large.pcap has %sx the bytes, %sx the packets)\n' \
	"$(ratio "${RSS[large.kalens]:-}" "${RSS[manysmall.kalens]:-}")" "$(mib "${RSS[large.kalens]:-}")" "$(mib "${RSS[manysmall.kalens]:-}")" \
	"$(ratio "$(stat -c %s "$OUTDIR/large.pcap")" "$(stat -c %s "$OUTDIR/manysmall.pcap")")" \
	"$(ratio "${PKTS[large]:-}" "${PKTS[manysmall]:-}")"
echo
echo "connections (kalens: rows in its DB's connections table; tshark: conv,tcp lines, one per 5-tuple,"
echo "so port reuse counts once there and once per connection in kalens — they need not be equal):"
for c in "${CAPTURES[@]}"; do
	printf '  %-10s kalens %-8s tshark %s\n' "$c" "${CONNS[$c.kalens]:-?}" \
		"$([ "$TSHARK" = 1 ] && echo "${CONNS[$c.tshark]:-?}" || echo '(not run)')"
done
echo
echo "requests (kalens: rows in its DB's requests table; tshark: lines of -Y http.request):"
for c in "${CAPTURES[@]}"; do
	printf '  %-10s kalens %-8s tshark %s\n' "$c" "${REQS[$c.kalens]:-?}" \
		"$([ "$TSHARK" = 1 ] && echo "${REQS[$c.tshark-http]:-?}" || echo '(not run)')"
done
echo
echo "rows appended to $RESULTS"
[ "$FAILED" = 0 ] || { echo "bench/run.sh: some runs failed (see above)" >&2; exit 1; }
