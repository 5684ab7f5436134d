#!/usr/bin/env bash
# A server that reads a request and closes without answering it, well after
# the request came (not an idle-close race), and clients that retry it on a
# new connection (RFC 9112 §9.3.1): captures/generated/retry/<name>.pcap with
# <name>.client.tsv, the client's own record.
#  - curl-retry: curl 7.88, 3 URLs; the server (retry/drop-second-request-
#    server.py) answers the first request of each connection and drops the
#    second after 0.3 s.  curl sends the second URL on the kept connection,
#    sees it closed with no response, and sends it again on a new one.
# Run as root on Debian 12 with: apt-get install tcpdump curl python3
set -euo pipefail
out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/retry
mkdir -p "$out"
all_scenarios=(curl-retry)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

fmt='curl\t%{url_effective}\t%{local_port}\t%{num_connects}\t%{http_code}\t%{exitcode}\n'
name=curl-retry
if want "$name"; then
    log "$name"
    p=$(free_port 127.0.0.1)
    python3 "$out/drop-second-request-server.py" "$p" 30 >"$work/drop.log" 2>&1 &
    pids+=("$!")
    wait_port 127.0.0.1 "$p"
    start_capture "$out/$name.pcap" "$p"
    { printf '# client record for %s.pcap: curl, 3 URLs to a server that answers the first request of a connection and drops the second after 0.3 s; curl -v says when it retries\n' "$name"
      printf 'tool\turl\tlocal_port\tnum_connects\thttp_code\texitcode\n'
      curl -s -v -o /dev/null -o /dev/null -o /dev/null -w "$fmt" \
          "http://127.0.0.1:$p/a" "http://127.0.0.1:$p/b" "http://127.0.0.1:$p/c" 2>"$work/curl.err"
      grep -E 'retry|Connection died|Re-using|Connected to' "$work/curl.err" | sed 's/^/# curl -v: /'
    } > "$out/$name.client.tsv"
    stop_capture
fi
