#!/usr/bin/env bash
# HTTP whose requests travel from the TCP server to the TCP client: the
# agent side of a reverse tunnel (reverse/relay.py: a relay and an agent,
# the shape of ngrok, frp or chisel), with curl 7.88 as the HTTP client and
# nginx 1.22 as the HTTP server; captures/generated/reverse/<name>.pcap
# holds the agent's connection only (the relay's agent port), and
# <name>.client.tsv curl's own record (-w per URL).
#  - reverse-tunnel-curl: 3 URLs on one keep-alive connection; curl exits,
#    the relay closes the agent connection.
# Run as root on Debian 12 with: apt-get install tcpdump nginx-light curl python3
# Usage: captures/generated/reverse/make.sh [SCENARIO...] | --list
set -euo pipefail
out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_scenarios=(reverse-tunnel-curl)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

mkdir -p "$work/www"
printf '<html>small</html>\n' > "$work/www/small.html"
head -c 20000 /dev/zero | tr '\0' 'x' > "$work/www/20k.txt"
p_http=$(free_port 127.0.0.1)
nginx_start "    keepalive_timeout 5s;
    server { listen 127.0.0.1:$p_http; }"
wait_port 127.0.0.1 "$p_http"

name=reverse-tunnel-curl
if want "$name"; then
    log "$name"
    p_pub=$(free_port 127.0.0.1)
    p_agent=$(free_port 127.0.0.1)
    start_capture "$out/$name.pcap" "$p_agent"
    /usr/bin/python3 "$out/relay.py" relay "$p_pub" "$p_agent" 20 > "$work/relay.out" &
    pids+=("$!")
    /usr/bin/python3 "$out/relay.py" agent "$p_agent" "$p_http" 20 &
    pids+=("$!")
    # (no test connection to the public port: the relay takes one client)
    for _ in $(seq 1 100); do grep -qs 'agent connected' "$work/relay.out" && break; sleep 0.1; done
    grep -qs 'agent connected' "$work/relay.out" || { echo "the agent did not connect" >&2; exit 1; }
    fmt='curl\t%{url_effective}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{exitcode}\n'
    { printf '# client record for %s.pcap: curl to the relay (127.0.0.1:%s), whose agent connection (relay port %s) is captured; nginx behind the agent\n' "$name" "$p_pub" "$p_agent"
      printf 'tool\turl\tnum_connects\thttp_code\tsize_download\texitcode\n'
      curl -s -o /dev/null -o /dev/null -o /dev/null -w "$fmt" \
          "http://127.0.0.1:$p_pub/small.html" "http://127.0.0.1:$p_pub/20k.txt" \
          "http://127.0.0.1:$p_pub/small.html"
    } > "$out/$name.client.tsv"
    sleep 0.5
    stop_capture
fi
