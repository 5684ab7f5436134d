#!/usr/bin/env bash
# Generate IP-fragmented captures of real HTTP/1.1 keep-alive sessions: curl
# and nginx on loopback, recorded by tcpdump, then rewritten by
# fragment.py (python3-scapy) so that every TCP segment carrying payload
# travels as IP fragments, some out of order, one overlapping duplicate
# (IPv4).  Each scenario writes into captures/generated/frag/:
#   <name>.pcap              the fragmented capture
#   <name>.unfragmented.pcap what tcpdump recorded (the same session, whole)
#   <name>.client.tsv        curl's own record (-w), as in ../make.sh
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump nginx-light curl python3 python3-scapy
# (tshark for tests/tools/frag-references.py)
# Usage: captures/generated/frag/make.sh [SCENARIO...]   no SCENARIO: all
#        captures/generated/frag/make.sh --list          prints the names
# Then:  tests/tools/frag-references.py   (tshark references, tests/expected/frag/)
#
# nginx 1.22 with a private configuration in the work directory (common.sh),
# on 127.0.0.1 and [::1] on ports picked free at run time, stopped by its
# PID; tcpdump on lo stopped by its PID; all loops are bounded.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_scenarios=(http-frag-v4 http-frag-v6)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

# Debian's python3 has python3-scapy; a python3 earlier on PATH may not.
scapy_python=${SCAPY_PYTHON:-/usr/bin/python3}
"$scapy_python" -c 'import scapy' 2>/dev/null ||
    { echo "$scapy_python cannot import scapy: apt-get install python3-scapy" >&2; exit 1; }

# A response of a few fragments' worth beside small.html (81 bytes).
python3 - "$work/www/3k.txt" <<'EOF'
import sys
line = "kalens fragment test 0123456789abcdefghijklmnopqrstuvwxyz\n"
open(sys.argv[1], "w").write((line * 60)[:3000])
EOF

p4=$(free_port 127.0.0.1)
p6=$(free_port ::1)
nginx_start "    sendfile on;
    keepalive_timeout 5s;
    server { listen 127.0.0.1:$p4; keepalive_requests 100; }
    server { listen [::1]:$p6;     keepalive_requests 100; }"
log "nginx on 127.0.0.1:$p4, [::1]:$p6"
wait_port 127.0.0.1 "$p4"
wait_port ::1 "$p6"

curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{size_header}\t%{exitcode}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode'

# $1 name, $2 4|6, $3 port, $4 description, then the URLs (one keep-alive connection)
session() {
    local name=$1 version=$2 port=$3 what=$4
    shift 4
    local raw="$work/$name.raw.pcap" outs=() u
    for u in "$@"; do outs+=(-o /dev/null); done
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf '%s\n' "$curl_hdr"; } > "$out/$name.client.tsv"
    start_capture "$raw" "$port"
    curl -g -s "${outs[@]}" -w "$curl_fmt" "$@" >> "$out/$name.client.tsv"
    stop_capture
    cp "$raw" "$out/$name.unfragmented.pcap"
    "$scapy_python" "$out/fragment.py" "$version" "$raw" "$out/$name.pcap"
}

name=http-frag-v4
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p4"
session "$name" 4 "$p4" "curl, 4 URLs on one keep-alive connection over IPv4 (then fragmented by fragment.py)" \
    "$base/small.html" "$base/3k.txt" "$base/missing.html" "$base/small.html"
fi

name=http-frag-v6
if want "$name"; then
log "$name"
base="http://[::1]:$p6"
session "$name" 6 "$p6" "curl -g, 3 URLs on one keep-alive connection over IPv6 ::1 (then fragmented by fragment.py)" \
    "$base/small.html" "$base/3k.txt" "$base/small.html"
fi
