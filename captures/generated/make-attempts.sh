#!/usr/bin/env bash
# Connection attempts nothing answers, next to ones that are answered:
# captures/generated/attempts/<name>.pcap and the clients' own record
# (<name>.client.tsv: curl's exit code and times, one line per curl).
#  - unanswered: attempts/backlog-full.py listens on 127.0.0.1 and on ::1
#    with a full accept queue, so Linux drops every SYN to them.  Three
#    curls (two over IPv4, one over IPv6, --connect-timeout 2.5) send their
#    SYN and its retransmissions (1 s later) and give up (curl exit 28).
#    Around them: the listener's own connection that filled its queue
#    (answered: a handshake), a curl to a port where nothing listens
#    (answered by an RST, curl exit 7), and a curl with two requests on one
#    keep-alive connection to nginx (answered, exit 0).
# Run as root on Debian 12 with: apt-get install tcpdump nginx-light curl python3
# Usage: captures/generated/make-attempts.sh [SCENARIO...] | --list
set -euo pipefail
out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/attempts
mkdir -p "$out"
all_scenarios=(unanswered)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

want unanswered || exit 0
p4=$(free_port 127.0.0.1)        # backlog full, IPv4
p6=$(free_port ::1)              # backlog full, IPv6
pc=$(free_port 127.0.0.1)        # nothing listens
pn=$(free_port 127.0.0.1)        # nginx
mkdir -p "$work/www"
printf '<html>small</html>\n' > "$work/www/small.html"
nginx_start "    keepalive_timeout 5s;
    server { listen 127.0.0.1:$pn; }"
wait_port 127.0.0.1 "$pn"
log unanswered
rm -f "$out/unanswered.pcap"
cap_err="$work/tcpdump.err"
tcpdump -i lo -w "$out/unanswered.pcap" -s 0 -U -Z root \
    "tcp port $p4 or tcp port $p6 or tcp port $pc or tcp port $pn" 2>"$cap_err" &
cap_pid=$!
pids+=("$cap_pid")
for i in $(seq 1 100); do grep -qs 'listening on' "$cap_err" && break; sleep 0.1; done
sleep 0.3
for h in 127.0.0.1:$p4 ::1:$p6; do
    python3 "$out/backlog-full.py" "${h%:*}" "${h##*:}" > "$work/ready.$p4" &
    pids+=("$!")
    for i in $(seq 1 50); do grep -qs ready "$work/ready.$p4" && break; sleep 0.1; done
    grep -qs ready "$work/ready.$p4" || { echo "listener on $h did not start" >&2; exit 1; }
    rm -f "$work/ready.$p4"
done
fmt='%{exitcode}\t%{time_connect}\t%{num_connects}\t%{http_code}\t%{url}\n'
{
    printf '# client record for unanswered.pcap (curl -w), one line per transfer\n'
    printf 'exitcode\ttime_connect\tnum_connects\thttp_code\turl\n'
    curl -s -o /dev/null -w "$fmt" "http://127.0.0.1:$pn/small.html" -o /dev/null "http://127.0.0.1:$pn/small.html" || true
    curl -s -o /dev/null -w "$fmt" "http://127.0.0.1:$pc/" || true
    waits=()
    for u in "http://127.0.0.1:$p4/a" "http://127.0.0.1:$p4/b" "http://[::1]:$p6/c"; do
        curl -s -o /dev/null --connect-timeout 2.5 -w "$fmt" "$u" &
        waits+=("$!")
    done
    wait "${waits[@]}"
} > "$out/unanswered.client.tsv" || true
sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" || true
grep -E 'packets (captured|dropped)' "$cap_err" >&2 || true
