#!/usr/bin/env bash
# Generate a capture of request-lines that only a lenient reading of RFC
# 9112 accepts (§3 whitespace runs and HTAB, §2.2 bare LF and empty lines
# before the request-line), sent by a python3 raw-socket client to nginx,
# one connection per request; and what nginx answered each, as the client
# read it, in lenient/lenient-nginx.client.tsv.
#
# Run as root on Debian 12 with:  apt-get install tcpdump nginx-light python3
# Usage: captures/generated/make-lenient.sh
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lenient
mkdir -p "$out"
all_scenarios=(lenient-nginx)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

p_http=$(free_port 127.0.0.1)
nginx_start "    server { listen 127.0.0.1:$p_http; }"
log "nginx on 127.0.0.1:$p_http"
wait_port 127.0.0.1 "$p_http"

name=lenient-nginx
start_capture "$out/$name.pcap" "$p_http"
timeout 60 python3 - "$p_http" > "$work/$name.rows" <<'EOF'
# One connection per case: the bytes, then read until nginx closes (it
# answers HTTP/1.0 and "Connection: close" requests with a close), the
# status line it sent.  Rows: local port, case, status.
import socket, sys
cases = [
    ("strict", b"GET /small.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    ("two-sp", b"GET  /small.html  HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    ("htab", b"GET\t/small.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    ("trailing-sp", b"GET /small.html HTTP/1.1 \r\nHost: a\r\nConnection: close\r\n\r\n"),
    ("empty-lines", b"\r\n\r\nGET /small.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    ("bare-lf", b"GET /small.html HTTP/1.1\nHost: a\nConnection: close\n\n"),
    ("space-first", b" GET /small.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
]
for name, data in cases:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
    s.settimeout(5)
    s.sendall(data)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    status = got.split(b"\r\n", 1)[0].decode("latin-1")
    print("%d\t%s\t%s" % (s.getsockname()[1], name, status), flush=True)
    s.close()
EOF
stop_capture
{ printf '# client record for %s.pcap: a python3 raw-socket client sends each request-line case on its own connection to nginx (%s); the status line nginx answered, as the client read it\n' "$name" "$(nginx -v 2>&1 | sed 's/.*: //')"
  printf 'tool\tlocal_port\tcase\tstatus_line\n'
  sed 's/^/python3\t/' "$work/$name.rows"; } > "$out/$name.client.tsv"
cat "$out/$name.client.tsv" >&2
