#!/usr/bin/env bash
# Captures of HTTP/1.1 requests answered with HTTP/1.0 (RFC 9112 §9.3: such
# a response persists only if it says keep-alive), into captures/generated/http10/:
#  - python-http10-server: curl 7.88 (HTTP/1.1), 3 URLs, to python3 -m
#    http.server (BaseHTTPRequestHandler answers HTTP/1.0 and closes);
#  - http10-keepalive-server: curl, 3 URLs, to a small python3 socket server
#    (http10-keepalive-server.py here) that answers every request with
#    "HTTP/1.0 200 OK", Content-Length and Connection: keep-alive, and keeps
#    the connection: curl reuses it.
# Each <name>.pcap has <name>.client.tsv, curl's -w record, whose
# http_version column (%{http_version}) is the response's version.
# Run as root on Debian 12 with: apt-get install tcpdump curl python3
set -euo pipefail
out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/http10
mkdir -p "$out"
all_scenarios=(python-http10-server http10-keepalive-server)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

fmt='curl\t%{url_effective}\t%{local_port}\t%{num_connects}\t%{http_code}\t%{http_version}\t%{exitcode}\n'
hdr=$'tool\turl\tlocal_port\tnum_connects\thttp_code\thttp_version\texitcode'

name=python-http10-server
if want "$name"; then
    log "$name"
    p=$(free_port 127.0.0.1)
    python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$p" >"$work/py.log" 2>&1 &
    pids+=("$!")
    wait_port 127.0.0.1 "$p"
    start_capture "$out/$name.pcap" "$p"
    { printf '# client record for %s.pcap: curl (HTTP/1.1), 3 URLs to python3 -m http.server, which answers HTTP/1.0 and closes\n' "$name"
      printf '%s\n' "$hdr"
      curl -s -o /dev/null -o /dev/null -o /dev/null -w "$fmt" \
          "http://127.0.0.1:$p/small.html" "http://127.0.0.1:$p/small.html?1" "http://127.0.0.1:$p/small.html?2"
    } > "$out/$name.client.tsv"
    stop_capture
fi

name=http10-keepalive-server
if want "$name"; then
    log "$name"
    p=$(free_port 127.0.0.1)
    python3 "$(dirname "$out")/http10/http10-keepalive-server.py" "$p" 30 >"$work/ka.log" 2>&1 &
    pids+=("$!")
    wait_port 127.0.0.1 "$p"
    start_capture "$out/$name.pcap" "$p"
    { printf '# client record for %s.pcap: curl (HTTP/1.1), 3 URLs to a server that answers HTTP/1.0 with Connection: keep-alive and keeps the connection\n' "$name"
      printf '%s\n' "$hdr"
      curl -s -o /dev/null -o /dev/null -o /dev/null -w "$fmt" \
          "http://127.0.0.1:$p/a" "http://127.0.0.1:$p/b" "http://127.0.0.1:$p/c"
    } > "$out/$name.client.tsv"
    stop_capture
fi

# tshark's reading of each capture, in message order: the reference for
# what curl does not record (the version of each request it sent).
if command -v tshark >/dev/null; then
    mkdir -p "$(dirname "$out")/../../tests/expected/http10"
    for f in "$out"/*.pcap; do
        n=$(basename "$f" .pcap)
        { printf '# made by captures/generated/make-http10.sh from a tshark %s reading of captures/generated/http10/%s.pcap (-Y http.request); do not edit\n' \
              "$(tshark --version | head -1 | awk '{print $3}')" "$n"
          printf 'request_version\n'
          tshark -r "$f" -Y http.request -T fields -e http.request.version 2>/dev/null
        } > "$(dirname "$out")/../../tests/expected/http10/$n.tsv"
    done
fi
