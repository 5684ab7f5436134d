#!/usr/bin/env bash
# bench/tls.sh [-n RUNS] [-k KALENS_BIN] [--no-tshark] [OUTDIR]
#
# TLS decryption throughput of `kalens read --keylog`, against the physical limit of the cipher
# (`openssl speed -decrypt -evp aes-128-gcm`, 16 KiB blocks: a full TLS record) and against tshark
# decrypting the same capture with the same key log.
#
# The capture, OUTDIR/https-bulk.pcap with OUTDIR/https-bulk.keylog, is made once (root needed):
# in a private network namespace whose lo looks like a wire (MTU 1500, TSO/GSO/GRO off, shaped
# to 1 Gbit/s, as ../shared/bench/make-captures.sh does), nginx 1.22 serves a 1 MiB file over
# TLS 1.2 and curl (SSLKEYLOGFILE) fetches it 32 times on each of 8 keep-alive connections with
# ECDHE-RSA-AES128-GCM-SHA256: 256 MiB of application data in ~16 KiB records, every record
# spread over about 11 segments (so each is gathered before it is opened).
#
# Timed, from a warm page cache, by ../shared/bench/lib/timeit: the libpcap read loop (floor),
# `kalens read` without keys (record layer only), `kalens read --keylog` (RUNS times each),
# tshark -o tls.keylog_file:... -Y http.request (once), and openssl speed (once).
#   -n RUNS       runs of readloop and both kalens (default 5, 1..50)
#   -k KALENS     kalens binary (default build/kalens under the repository root)
#   --no-tshark   skip tshark (about a minute)
#   OUTDIR        where the capture is / is made (default /tmp/kabench)
# Appends rows to OUTDIR/tls-results.tsv.  Exit status: 0 ok, 1 a run failed, 2 setup error.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${KABENCH_SHARED:-$REPO/../shared/bench}
RUNS=5
KALENS=$REPO/build/kalens
TSHARK=1
OUTDIR=/tmp/kabench

usage() { sed -n '2p;17,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench/tls.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
		-n) [ $# -ge 2 ] || usage; RUNS=$2; shift 2 ;;
		-k) [ $# -ge 2 ] || usage; KALENS=$2; shift 2 ;;
		--no-tshark) TSHARK=0; shift ;;
		-h|--help) usage ;;
		-*) usage ;;
		*) OUTDIR=$1; shift ;;
	esac
done
[[ $RUNS =~ ^[0-9]{1,2}$ ]] && [ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || die "-n RUNS must be 1..50"
case $KALENS in /*) ;; *) KALENS=$PWD/$KALENS ;; esac
[ -x "$KALENS" ] || die "no kalens binary at $KALENS (build it first)"
PCAP=$OUTDIR/https-bulk.pcap
KEYS=$OUTDIR/https-bulk.keylog
SCRATCH=$(mktemp -d)
chmod 755 "$SCRATCH"   # nginx's worker (an unprivileged user) reads the file served under it
trap 'rm -rf "$SCRATCH"' EXIT

# --- the capture ------------------------------------------------------------------------------
make_capture() {
	[ "$(id -u)" = 0 ] || die "making $PCAP needs root (network namespace, tcpdump): sudo $0 $OUTDIR"
	for t in nginx curl tcpdump openssl unshare ip tc; do
		command -v "$t" >/dev/null || die "$t not found (Debian: nginx-light curl tcpdump openssl util-linux iproute2)"
	done
	mkdir -p "$OUTDIR"
	local w=$SCRATCH/mk
	mkdir -p "$w/www" "$w/logs"
	chmod 755 "$w" "$w/www"
	head -c 1048576 /dev/urandom > "$w/www/1m.bin"
	chmod 644 "$w/www/1m.bin"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout "$w/key.pem" -out "$w/cert.pem" 2>/dev/null
	cat > "$w/nginx.conf" <<EOF
worker_processes 1;
pid $w/nginx.pid;
error_log $w/logs/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $w/body;
    proxy_temp_path $w/proxy;
    fastcgi_temp_path $w/fastcgi;
    uwsgi_temp_path $w/uwsgi;
    scgi_temp_path $w/scgi;
    keepalive_timeout 5s;
    keepalive_requests 1000;
    root $w/www;
    server {
        listen 127.0.0.1:443 ssl;
        ssl_certificate $w/cert.pem;
        ssl_certificate_key $w/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
    }
}
EOF
	rm -f "$PCAP" "$KEYS"
	echo "# making $PCAP (about 30 s)" >&2
	unshare -n bash -euo pipefail -c '
		w=$1 pcap=$2 keys=$3
		ip link set lo up mtu 1500
		ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || echo "# warning: lo offloads stay on" >&2
		echo 1 > /sys/class/net/lo/queues/rx-0/rps_cpus 2>/dev/null || true
		tc qdisc add dev lo root tbf rate 1gbit burst 512kb latency 50ms
		nginx -p "$w" -e "$w/logs/error.log" -c "$w/nginx.conf" -g "daemon off;" & ngx=$!
		tcpdump -i lo -s 0 -B 262144 -U -w "$pcap" "tcp port 443" 2> "$w/tcpdump.err" & td=$!
		trap "kill $ngx $td 2>/dev/null || true" EXIT
		for i in $(seq 100); do grep -qs "listening on" "$w/tcpdump.err" && break; sleep 0.1; done
		sleep 0.5
		args=()
		for i in $(seq 32); do args+=(-o /dev/null https://127.0.0.1/1m.bin); done
		for c in $(seq 8); do
			SSLKEYLOGFILE=$keys curl -sk --tlsv1.2 --tls-max 1.2 \
				--ciphers ECDHE-RSA-AES128-GCM-SHA256 -w "%{http_code} " "${args[@]}" > "$w/curl.$c"
		done
		sleep 1
		kill -INT $td; wait $td || true
		cat "$w/tcpdump.err" >&2
		kill $ngx; wait $ngx || true
		cat "$w"/curl.* | tr " " "\n" | grep -c "^200$" > "$w/ok" || true
	' _ "$w" "$PCAP" "$KEYS"
	[ "$(cat "$w/ok")" = 256 ] || die "curl did not get 256 responses of 200 ($(cat "$w/ok"))"
	grep -q ' 0 packets dropped by kernel' "$w/tcpdump.err" 2>/dev/null ||
		grep -h 'dropped by kernel' "$w/tcpdump.err" >&2 || true
}
[ -s "$PCAP" ] && [ -s "$KEYS" ] || make_capture

# --- tools ----------------------------------------------------------------------------------
cc -O2 -std=c11 -D_DEFAULT_SOURCE -o "$SCRATCH/readloop" "$SHARED/limit/readloop.c" -lpcap ||
	die "cannot build readloop (needs libpcap-dev)"
cc -O2 -o "$SCRATCH/timeit" "$SHARED/lib/timeit.c" || die "cannot build timeit"
cat "$PCAP" > /dev/null

FAILED=0
declare -A MED CPU
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.4f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# run NAME TIMES COMMAND...: wall and user+sys medians into MED[NAME], CPU[NAME]
run() {
	local name=$1 n=$2 i
	shift 2
	: > "$SCRATCH/t.$name"
	for ((i = 1; i <= n; i++)); do
		rm -f "$SCRATCH/k.db" "$SCRATCH/k.db-wal" "$SCRATCH/k.db-shm"
		if ! "$SCRATCH/timeit" "$SCRATCH/out.$name" "$SCRATCH/err.$name" "$@" >> "$SCRATCH/t.$name"; then
			echo "bench/tls.sh: $name failed: $(head -c 300 "$SCRATCH/err.$name")" >&2
			FAILED=1
			return
		fi
	done
	MED[$name]=$(awk '{ print $1 }' "$SCRATCH/t.$name" | median)
	CPU[$name]=$(awk '{ print $2 + $3 }' "$SCRATCH/t.$name" | median)
	echo "# $name: walls $(awk '{ printf "%s%.3f", (NR > 1 ? "," : ""), $1 }' "$SCRATCH/t.$name")" >&2
}

run readloop "$RUNS" "$SCRATCH/readloop" "$PCAP"
run kalens-nokeys "$RUNS" "$KALENS" read -q -o "$SCRATCH/k.db" "$PCAP"
run kalens-keylog "$RUNS" "$KALENS" read -q --keylog "$KEYS" -o "$SCRATCH/k.db" "$PCAP"
REQS=$(sqlite3 "$SCRATCH/k.db" "select count(*) || ' requests, ' || sum(response_body_bytes) || ' body bytes' from requests")
DEC=$(sqlite3 "$SCRATCH/k.db" "select sum(decrypted) || ' of ' || count(*) from connections")
if [ "$TSHARK" = 1 ]; then
	run tshark-keylog 1 tshark -r "$PCAP" -o "tls.keylog_file:$KEYS" -Y http.request -T fields \
		-e tcp.stream -e http.request.uri
	TREQS=$(wc -l < "$SCRATCH/out.tshark-keylog" | tr -d ' ')
fi
# Application data decrypted: the bodies served, 256 x 1 MiB (headers add < 0.1 %).
APP=$((256 * 1048576))
# The cipher's limit on this machine: openssl decrypting 16 KiB blocks, best of 3 runs of 2 s
# (one core; a VM's figure swings by 2x from run to run, so the best is the limit).
OSSL=$(for i in 1 2 3; do openssl speed -decrypt -evp aes-128-gcm -bytes 16384 -seconds 2 2>/dev/null |
	awk 'tolower($1) == "aes-128-gcm" { v = $NF; sub(/k$/, "", v); print v * 1000 / 1e6 }'; done |
	sort -g | tail -n 1 | awk '{ printf "%.0f", $1 }')

BYTES=$(stat -c %s "$PCAP")
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo
echo "kalens TLS bench — $DATE — commit $COMMIT — $(nproc) cores — $PCAP ($BYTES bytes, 256 MiB of HTTPS bodies, TLS 1.2 AES-128-GCM)"
echo "kalens --keylog stored $REQS; decrypted connections: $DEC${TREQS:+; tshark found $TREQS requests}"
printf '%-15s %10s %10s %12s\n' tool med_wall_s med_cpu_s "app MB/s"
for t in readloop kalens-nokeys kalens-keylog tshark-keylog; do
	[ -n "${MED[$t]:-}" ] || continue
	printf '%-15s %10s %10s %12s\n' "$t" "${MED[$t]}" "${CPU[$t]}" \
		"$(awk -v a=$APP -v w="${MED[$t]}" 'BEGIN { printf "%.0f", a / 1e6 / w }')"
done
echo "openssl speed -decrypt -evp aes-128-gcm, 16 KiB blocks, one core, best of 3: $OSSL MB/s"
r() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
DEC_S=$(awk -v k="${MED[kalens-keylog]:-0}" -v n="${MED[kalens-nokeys]:-0}" 'BEGIN { print k - n }')
echo "kalens --keylog, whole process: $(r "$(awk -v a=$APP -v w="${MED[kalens-keylog]:-0}" 'BEGIN { if (w > 0) print a / 1e6 / w }')" "$OSSL") of openssl speed"
echo "decryption alone (keylog - nokeys wall, ${DEC_S} s): $(awk -v a=$APP -v d="$DEC_S" 'BEGIN { if (d > 0) printf "%.0f", a / 1e6 / d; else print "-" }') MB/s = $(r "$(awk -v a=$APP -v d="$DEC_S" 'BEGIN { if (d > 0) print a / 1e6 / d }')" "$OSSL") of openssl speed"
[ -z "${MED[tshark-keylog]:-}" ] || echo "tshark / kalens --keylog wall: $(r "${MED[tshark-keylog]}" "${MED[kalens-keylog]}")x"

RES=$OUTDIR/tls-results.tsv
[ -s "$RES" ] || printf 'timestamp\tcommit\tcores\ttool\tmedian_wall_s\tmedian_cpu_s\topenssl_MBps\n' > "$RES"
for t in readloop kalens-nokeys kalens-keylog tshark-keylog; do
	[ -n "${MED[$t]:-}" ] || continue
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$DATE" "$COMMIT" "$(nproc)" "$t" "${MED[$t]}" "${CPU[$t]}" "$OSSL" >> "$RES"
done
exit "$FAILED"
