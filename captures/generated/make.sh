#!/usr/bin/env bash
# Generate small captures of real HTTP/1.x traffic on loopback, each with the
# client's own record of what it did (captures/generated/<name>.client.tsv).
#
# Run as root on Debian 12 (tcpdump needs capture rights) with:
#   apt-get install tshark tcpdump nginx-light apache2 apache2-utils curl python3
# Usage: captures/generated/make.sh [SCENARIO...]   (writes into captures/generated/)
#        no SCENARIO: all of them; else only the named ones (the others' files
#        are left alone), e.g. captures/generated/make.sh nginx-ab-close
#        captures/generated/make.sh --list   prints the scenario names
# Then:  tests/tools/make-conn-references.sh   (tshark references)
#        tests/tools/check-client-records.py   (client records vs tshark)
#
# Everything listens on 127.0.0.1 / ::1 only, on ports picked free at run time;
# every server and tcpdump is stopped by its PID; all loops are bounded.
# See captures/generated/README.md for the scenarios.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Scenario names, in the order they run (each writes <name>.pcap and <name>.client.tsv).
all_scenarios=(nginx-keepalive-curl nginx-keepalive-requests3-ab python-http10-curl
               nginx-ipv6-curl nginx-port-reuse nginx-idle-timeout refused-curl
               nginx-ab-close nginx-python-client-idle nginx-pipelined-burst
               nginx-head-and-304 nginx-pipelined-sends nginx-advertised-timeout
               nginx-early-close python-http10-ab-k nginx-request-after-close
               apache-max-requests)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$out/common.sh" "$@"

# --- nginx: three server blocks -------------------------------------------
p_ka=$(free_port 127.0.0.1)     # keepalive_timeout 5s, keepalive_requests 100
p_ka3=$(free_port 127.0.0.1)    # keepalive_timeout 5s, keepalive_requests 3
p_v6=$(free_port ::1)           # IPv6 ::1, keepalive_timeout 5s
p_adv=$(free_port 127.0.0.1)    # keepalive_timeout 2s 2s: sends Keep-Alive: timeout=2, keeps it
p_early=$(free_port 127.0.0.1)  # keepalive_timeout 1s 5s: sends Keep-Alive: timeout=5, closes after 1 s
nginx_start "    sendfile on;
    keepalive_timeout 5s;
    server { listen 127.0.0.1:$p_ka;  keepalive_requests 100; }
    server { listen 127.0.0.1:$p_ka3; keepalive_requests 3; }
    server { listen [::1]:$p_v6;      keepalive_requests 100; }
    server { listen 127.0.0.1:$p_adv; keepalive_timeout 2s 2s; }
    server { listen 127.0.0.1:$p_early; keepalive_timeout 1s 5s; }"
log "nginx on 127.0.0.1:$p_ka, 127.0.0.1:$p_ka3, [::1]:$p_v6"
wait_port 127.0.0.1 "$p_ka"
wait_port 127.0.0.1 "$p_ka3"
wait_port ::1 "$p_v6"
wait_port 127.0.0.1 "$p_adv"
wait_port 127.0.0.1 "$p_early"

# --- apache2: KeepAlive On, MaxKeepAliveRequests 3, KeepAliveTimeout 5 -----
p_apache=$(free_port 127.0.0.1)
apache_start "$p_apache" "KeepAlive On
MaxKeepAliveRequests 3
KeepAliveTimeout 5"
log "apache2 on 127.0.0.1:$p_apache"
wait_port 127.0.0.1 "$p_apache"

# --- python http.server (HTTP/1.0) ----------------------------------------
p_py=$(free_port 127.0.0.1)
log "python3 -m http.server on 127.0.0.1:$p_py"
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$p_py" \
    >"$work/httpserver.log" 2>&1 &
py_pid=$!
pids+=("$py_pid")
wait_port 127.0.0.1 "$p_py"

curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{size_header}\t%{exitcode}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode'

client_head() {  # $1 = file, $2 = description
    { printf '# client record for %s: %s\n' "$(basename "${1%.client.tsv}").pcap" "$2"
      printf '%s\n' "$curl_hdr"; } > "$1"
}

# (a) nginx keep-alive: 5 URLs on one connection, then 3 URLs with Connection: close
name=nginx-keepalive-curl
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p_ka"
client_head "$out/$name.client.tsv" "curl, 5 URLs on one keep-alive connection, then 3 URLs with Connection: close (one connection each)"
start_capture "$out/$name.pcap" "$p_ka"
curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
    "$base/small.html" "$base/100k.bin" "$base/1m.bin" "$base/small.html" "$base/100k.bin" \
    >> "$out/$name.client.tsv"
curl -s -H 'Connection: close' -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
    "$base/small.html" "$base/100k.bin" "$base/small.html" \
    >> "$out/$name.client.tsv"
stop_capture
fi  # nginx-keepalive-curl

ab_metrics() {  # $1 = ab's output: client-record rows (tool metric value) from ab's summary
    printf 'tool\tmetric\tvalue\n'
    awk -F': *' '
        /^Concurrency Level:/   { print "ab\tconcurrency\t" $2 }
        /^Complete requests:/   { print "ab\tcomplete_requests\t" $2 }
        /^Failed requests:/     { print "ab\tfailed_requests\t" $2 }
        /^Keep-Alive requests:/ { print "ab\tkeepalive_requests\t" $2 }
        /^Total transferred:/   { split($2, a, " "); print "ab\ttotal_transferred_bytes\t" a[1] }
        /^HTML transferred:/    { split($2, a, " "); print "ab\thtml_transferred_bytes\t" a[1] }
        /^Non-2xx responses:/   { print "ab\tnon_2xx_responses\t" $2 }
    ' "$1"
}

# (b) ab -k against keepalive_requests 3: nginx closes after every 3rd response
name=nginx-keepalive-requests3-ab
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka3"
ab -k -n 20 -c 2 "http://127.0.0.1:$p_ka3/small.html" > "$work/ab.out" 2>&1
stop_capture
{
    printf '# client record for %s.pcap: ab -k -n 20 -c 2 http://127.0.0.1:PORT/small.html (nginx keepalive_requests 3)\n' "$name"
    ab_metrics "$work/ab.out"
} > "$out/$name.client.tsv"
fi  # nginx-keepalive-requests3-ab

# (c) HTTP/1.0 to python http.server: one connection per request, server closes
name=python-http10-curl
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p_py"
client_head "$out/$name.client.tsv" "curl -0 (HTTP/1.0), 3 URLs to python3 -m http.server (HTTP/1.0: one connection per request)"
start_capture "$out/$name.pcap" "$p_py"
curl -s -0 -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
    "$base/small.html" "$base/100k.bin" "$base/small.html" \
    >> "$out/$name.client.tsv"
stop_capture
fi  # python-http10-curl

# (d) IPv6 ::1: 3 URLs on one keep-alive connection
name=nginx-ipv6-curl
if want "$name"; then
log "$name"
base="http://[::1]:$p_v6"
client_head "$out/$name.client.tsv" "curl -g, 3 URLs on one keep-alive connection over IPv6 ::1"
start_capture "$out/$name.pcap" "$p_v6"
curl -g -s -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
    "$base/small.html" "$base/100k.bin" "$base/small.html" \
    >> "$out/$name.client.tsv"
stop_capture
fi  # nginx-ipv6-curl

# Raw-socket HTTP/1.1 client for (e), (f) and (j): they need control that curl lacks
# (wait for the server's FIN before closing; bind a fixed local port with SO_REUSEADDR;
# several requests in one send()).
# It writes client-record rows in the same columns as curl's -w output.
cat > "$work/client.py" <<'EOF'
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode")

def read_response(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("server closed early")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    code = head.split(b"\r\n")[0].split()[1].decode()
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v)
    while len(rest) < clen:
        d = s.recv(65536)
        if not d:
            raise SystemExit("server closed early")
        rest += d
    return code, clen, len(head) + 4, rest[clen:]

def request(s, path, extra=""):
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kalens-test-client\r\n%s\r\n"
               % (path, host, port, extra)).encode())

def row(s, path, first, code, clen, hlen):
    lip, lport = s.getsockname()[:2]
    rip, rport = s.getpeername()[:2]
    print("python\thttp://%s:%d%s\t%s\t%d\t%s\t%d\t%d\t%s\t%d\t%d\t0"
          % (host, port, path, lip, lport, rip, rport, 1 if first else 0, code, clen, hlen))

def wait_server_close(s):
    t0 = time.monotonic()
    s.settimeout(15)
    d = s.recv(1)   # b'' once the server has sent its FIN
    return d == b"", time.monotonic() - t0

if mode == "idle":
    # 2 requests on one connection, then idle until nginx's keepalive_timeout closes it
    s = socket.create_connection((host, port), 5)
    buf, first = b"", True
    for path in ("/small.html", "/100k.bin"):
        request(s, path)
        code, clen, hlen, buf = read_response(s, buf)
        row(s, path, first, code, clen, hlen)
        first = False
    closed, idle = wait_server_close(s)
    print("# server_closed=%d after_idle_s=%.3f" % (closed, idle))
    s.close()
elif mode == "reuse":
    # 3 connections from the same local port, each one request with
    # Connection: close; the client waits for the server's FIN before it
    # closes, so the TIME_WAIT is on the server side and the port is free again
    lport = int(sys.argv[4])
    for i in range(3):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(5)
        s.bind((host, lport))
        s.connect((host, port))
        request(s, "/small.html", "Connection: close\r\n")
        code, clen, hlen, buf = read_response(s, b"")
        row(s, "/small.html", True, code, clen, hlen)
        closed, _ = wait_server_close(s)
        print("# connection %d: server_closed_first=%d" % (i + 1, closed))
        s.close()
        time.sleep(0.3)
elif mode == "pipeline":
    # HTTP/1.1 pipelining: 5 GET requests written with ONE send(), then the
    # 5 responses read in order (Content-Length), then the client closes
    n, path = 5, "/small.html"
    s = socket.create_connection((host, port), 5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = b"".join(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kalens-test-client\r\n\r\n"
                     % (path, host, port)).encode() for _ in range(n))
    sent = s.send(data)
    if sent != len(data):
        raise SystemExit("short send: %d of %d bytes" % (sent, len(data)))
    buf = b""
    for i in range(n):
        code, clen, hlen, buf = read_response(s, buf)
        row(s, path, i == 0, code, clen, hlen)
    if buf:
        raise SystemExit("%d bytes after the last response" % len(buf))
    print("# pipelined: %d requests written with one send() of %d bytes from local port %d, "
          "then %d responses read on the same connection; the client closes"
          % (n, sent, s.getsockname()[1], n))
    s.close()
elif mode == "pipeline-close":
    # two GETs in one send(): the first says Connection: close, so the second
    # is sent after the client announced the close (nginx answers the first
    # and closes); the client reads what comes until the server's FIN
    s = socket.create_connection((host, port), 5)
    first = ("GET /small.html HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kalens-test-client\r\n"
             "Connection: close\r\n\r\n" % (host, port)).encode()
    second = ("GET /100k.bin HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kalens-test-client\r\n\r\n"
              % (host, port)).encode()
    s.sendall(first + second)
    code, clen, hlen, buf = read_response(s, b"")
    row(s, "/small.html", True, code, clen, hlen)
    closed, _ = wait_server_close(s)
    # the second request was sent; no response came: http_code 000, exit 52
    # (curl's "empty reply"), as for the reused-connection case
    lip, lport = s.getsockname()[:2]
    rip, rport = s.getpeername()[:2]
    print("python\thttp://%s:%d/100k.bin\t%s\t%d\t%s\t%d\t0\t000\t%d\t0\t52"
          % (host, port, lip, lport, rip, rport, len(buf)))
    print("# second request GET /100k.bin sent in the same send() after the first's "
          "Connection: close: %s; server_closed=%d" % ("no response" if not buf else
          "%d bytes came back" % len(buf), closed))
    s.close()
elif mode == "pipeline-sends":
    # HTTP/1.1 pipelining, one send() per request (TCP_NODELAY: one segment
    # each), three different targets, then the three responses read in order
    paths = ("/small.html", "/100k.bin", "/missing.html")
    s = socket.create_connection((host, port), 5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for path in paths:
        request(s, path)
    buf = b""
    for i, path in enumerate(paths):
        code, clen, hlen, buf = read_response(s, buf)
        row(s, path, i == 0, code, clen, hlen)
    if buf:
        raise SystemExit("%d bytes after the last response" % len(buf))
    print("# pipelined: %d requests, one send() each, from local port %d, then %d responses "
          "read; the client closes" % (len(paths), s.getsockname()[1], len(paths)))
    s.close()
EOF

# (e) port reuse: 3 connections from the same local port to nginx, each with
#     Connection: close; nginx closes first, and its TIME_WAIT accepts the
#     next SYN: same 5-tuple, new ISN, new connection
name=nginx-port-reuse
if want "$name"; then
log "$name"
lport=$(free_port 127.0.0.1)
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: raw-socket python client, 3 connections from local port $lport, one 'Connection: close' request each"
    python3 "$work/client.py" reuse 127.0.0.1 "$p_ka" "$lport"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-port-reuse

# (f) idle keep-alive close: 2 requests, then the client idles until nginx's
#     keepalive_timeout (5 s) closes the connection (server FIN); the client then closes.
name=nginx-idle-timeout
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: raw-socket python client, 2 requests on one connection, then idle until nginx (keepalive_timeout 5s) closes"
    python3 "$work/client.py" idle 127.0.0.1 "$p_ka"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-idle-timeout

# (g) connection refused: nothing listens on the port, the kernel answers the SYN with RST
name=refused-curl
if want "$name"; then
log "$name"
p_none=$(free_port 127.0.0.1)
client_head "$out/$name.client.tsv" "curl to 127.0.0.1:PORT where nothing listens (RST answers the SYN)"
start_capture "$out/$name.pcap" "$p_none"
curl -s -o /dev/null -w "$curl_fmt" "http://127.0.0.1:$p_none/" >> "$out/$name.client.tsv" || true
stop_capture
fi  # refused-curl

# (h) ab without -k (HTTP/1.0, no keep-alive): one connection per request, nginx closes each
name=nginx-ab-close
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
ab -n 10 -c 2 "http://127.0.0.1:$p_ka/small.html" > "$work/ab-close.out" 2>&1
stop_capture
{
    printf '# client record for %s.pcap: ab -n 10 -c 2 http://127.0.0.1:PORT/small.html (no -k: HTTP/1.0 without keep-alive, one connection per request)\n' "$name"
    grep -q '^Keep-Alive requests:' "$work/ab-close.out" ||
        printf "# ab printed no 'Keep-Alive requests:' line (it prints one only with -k): no keep-alive requested, none used\n"
    ab_metrics "$work/ab-close.out"
} > "$out/$name.client.tsv"
fi  # nginx-ab-close

# (i) python http.client (stdlib) session: 2 GETs on one connection, 6 s idle
#     (nginx's keepalive_timeout 5s closes the connection meanwhile), a third GET:
#     http.client sends it on the closed connection, gets no response
#     (RemoteDisconnected), and the client reconnects and retries once
cat > "$work/httpclient_idle.py" <<'EOF'
import http.client, sys, time
host, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
print("tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode")

class Counter:
    """Wraps the response's buffered reader: counts the bytes http.client reads."""
    def __init__(self, fp):
        self.fp, self.n = fp, 0
    def _count(self, d):
        self.n += len(d)
        return d
    def readline(self, *a): return self._count(self.fp.readline(*a))
    def read(self, *a): return self._count(self.fp.read(*a))
    def read1(self, *a): return self._count(self.fp.read1(*a))
    def readinto(self, b):
        k = self.fp.readinto(b)
        self.n += k or 0
        return k
    def __getattr__(self, name):   # peek, close, flush, closed, ...
        return getattr(self.fp, name)

class CountingResponse(http.client.HTTPResponse):
    def __init__(self, sock, *a, **kw):
        super().__init__(sock, *a, **kw)
        self.counter = self.fp = Counter(self.fp)
    def begin(self):
        super().begin()
        self.header_bytes = self.counter.n   # status line .. blank line

conn = http.client.HTTPConnection(host, port, timeout=10)
conn.response_class = CountingResponse
nreq = 0
conn_index = 1

def get(path):
    """One GET; True when answered. num_connects 1 when http.client had no open socket."""
    global nreq
    nreq += 1
    new = conn.sock is None
    if new:
        conn.connect()
    lip, lport = conn.sock.getsockname()[:2]
    rip, rport = conn.sock.getpeername()[:2]
    url = "http://%s:%d%s" % (host, port, path)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
        conn.close()
        # sent, no response: code 000, exit 52 (as curl's "empty reply from server")
        print("http.client\t%s\t%s\t%d\t%s\t%d\t%d\t000\t0\t0\t52" % (url, lip, lport, rip, rport, int(new)))
        print("# request %d: %s: %s on the %s connection from local port %d; "
              "the client closes it and retries once on a new connection"
              % (nreq, path, type(e).__name__, "new" if new else "reused", lport))
        if isinstance(e, http.client.RemoteDisconnected) and not new:
            print("# connection %d: server_closed_first=1" % conn_index)
        return False
    body = resp.read()
    if resp.counter.n - resp.header_bytes != len(body):
        raise SystemExit("byte count mismatch")
    print("http.client\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t0"
          % (url, lip, lport, rip, rport, int(new), resp.status, len(body), resp.header_bytes))
    return True

for path in ("/small.html", "/100k.bin"):
    if not get(path):
        raise SystemExit("request on a fresh connection failed")
print("# idle: sleeping %.1f s after request %d (nginx keepalive_timeout 5s)" % (idle, nreq))
time.sleep(idle)
if not get("/small.html"):
    conn_index = 2
    if not get("/small.html"):
        raise SystemExit("retry failed")
else:
    print("# request %d: answered on the reused connection (the server had not closed it)" % nreq)
conn.close()
EOF
name=nginx-python-client-idle
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: python3 http.client.HTTPConnection, 2 GETs on one connection, 6 s idle (nginx keepalive_timeout 5s), a third GET (retried once on a new connection if the old one is gone)"
    python3 "$work/httpclient_idle.py" 127.0.0.1 "$p_ka" 6
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-python-client-idle

# (j) HTTP/1.1 pipelining: raw-socket client writes 5 GETs in one send(), reads 5 responses
name=nginx-pipelined-burst
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: raw-socket python client, 5 GET /small.html pipelined in one send() on one connection, 5 responses read, then the client closes"
    python3 "$work/client.py" pipeline 127.0.0.1 "$p_ka"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-pipelined-burst

# (k) curl on one connection: HEAD (-I), conditional GET with If-None-Match = the
#     HEAD's ETag (--etag-save / --etag-compare) -> 304, then a plain GET
name=nginx-head-and-304
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p_ka"
client_head "$out/$name.client.tsv" "curl, one invocation, 3 requests on one keep-alive connection: HEAD (-I), GET with If-None-Match: <ETag of the HEAD> (304), GET (--next between them)"
rm -f "$work/etag" "$work/head.hdr"
start_capture "$out/$name.pcap" "$p_ka"
curl -s -I -o /dev/null -D "$work/head.hdr" --etag-save "$work/etag" -w "$curl_fmt" "$base/small.html" \
    --next -s -o /dev/null --etag-compare "$work/etag" -w "$curl_fmt" "$base/small.html" \
    --next -s -o /dev/null -w "$curl_fmt" "$base/small.html" \
    >> "$out/$name.client.tsv"
stop_capture
{
    printf '# HEAD response ETag: %s\n' "$(tr -d '\r' < "$work/head.hdr" | sed -n 's/^[Ee][Tt]ag: *//p')"
    printf '# If-None-Match sent with the 2nd request (curl --etag-compare, file written by --etag-save on the HEAD): %s\n' "$(cat "$work/etag")"
} >> "$out/$name.client.tsv"
fi  # nginx-head-and-304

# (l) three pipelined requests, one segment each (/small.html, /100k.bin, /missing.html: 200,
#     200, 404), and a copy of the capture without the segment that carried the second
#     request (editcap deletes that frame): kalens must still give /missing.html its own 404
name=nginx-pipelined-sends
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: raw-socket python client, 3 GETs pipelined with one send() each on one connection, 3 responses read, then the client closes"
    python3 "$work/client.py" pipeline-sends 127.0.0.1 "$p_ka"
} > "$out/$name.client.tsv"
stop_capture
lost=$(tshark -r "$out/$name.pcap" -Y 'frame contains "GET /100k.bin"' -T fields -e frame.number)
[[ $lost =~ ^[0-9]+$ ]] || { echo "$name: no single frame carries GET /100k.bin: '$lost'" >&2; exit 1; }
editcap "$out/$name.pcap" "$out/$name-lost.pcap" "$lost"
{
    echo "# client record for $name-lost.pcap: $name.pcap without frame $lost (the segment carrying GET /100k.bin), deleted by editcap; the client sent it and read its response"
    tail -n +2 "$out/$name.client.tsv"
} > "$out/$name-lost.client.tsv"
fi  # nginx-pipelined-sends

# (m) the idle client against keepalive_timeout 2s 2s: nginx advertises
#     Keep-Alive: timeout=2 and closes the idle connection after 2 s
name=nginx-advertised-timeout
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_adv"
{
    echo "# client record for $name.pcap: raw-socket python client (client.py idle), 2 GETs on one connection, then idle until nginx (keepalive_timeout 2s 2s: Keep-Alive: timeout=2 sent) closes it"
    python3 "$work/client.py" idle 127.0.0.1 "$p_adv"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-advertised-timeout

# (n) the same against keepalive_timeout 1s 5s: nginx advertises timeout=5
#     but closes the idle connection after 1 s, without Connection: close
name=nginx-early-close
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_early"
{
    echo "# client record for $name.pcap: raw-socket python client (client.py idle), 2 GETs on one connection, then idle until nginx (keepalive_timeout 1s 5s: Keep-Alive: timeout=5 sent, closes after 1 s) closes it"
    python3 "$work/client.py" idle 127.0.0.1 "$p_early"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-early-close

# (o) ab -k (HTTP/1.0 requests with Connection: Keep-Alive) against python's
#     HTTP/1.0 http.server, which does not keep connections and does not echo
name=python-http10-ab-k
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_py"
ab -k -n 4 -c 1 "http://127.0.0.1:$p_py/small.html" > "$work/ab.out" 2>&1
stop_capture
{
    printf '# client record for %s.pcap: ab -k -n 4 -c 1 http://127.0.0.1:PORT/small.html against python3 -m http.server (HTTP/1.0)\n' "$name"
    ab_metrics "$work/ab.out"
} > "$out/$name.client.tsv"
fi  # python-http10-ab-k

# (p) a request after Connection: close: two GETs in one send(), the first
#     with Connection: close; nginx answers the first only and closes
name=nginx-request-after-close
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_ka"
{
    echo "# client record for $name.pcap: raw-socket python client (client.py pipeline-close): GET /small.html with Connection: close and GET /100k.bin in one send()"
    python3 "$work/client.py" pipeline-close 127.0.0.1 "$p_ka"
} > "$out/$name.client.tsv"
stop_capture
fi  # nginx-request-after-close

# (q) Apache counts its Keep-Alive max down (max=3, 2, 1) and closes after
#     MaxKeepAliveRequests 3 kept-alive requests: curl's 5 URLs need 2 connections
name=apache-max-requests
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p_apache"
client_head "$out/$name.client.tsv" "curl -H 'Connection: keep-alive' (so Apache sends Keep-Alive: timeout, max), 5 URLs in one invocation against Apache 2.4 (KeepAlive On, MaxKeepAliveRequests 3, KeepAliveTimeout 5)"
start_capture "$out/$name.pcap" "$p_apache"
curl -s -H 'Connection: keep-alive' -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
    "$base/small.html" "$base/small.html" "$base/small.html" "$base/small.html" "$base/small.html" \
    >> "$out/$name.client.tsv"
stop_capture
fi  # apache-max-requests

kill "$py_pid"; wait "$py_pid" 2>/dev/null || true
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
pids=()
for name in "${all_scenarios[@]}"; do
    want "$name" || continue
    chmod 644 "$out/$name.pcap" "$out/$name.client.tsv"
    ls -l "$out/$name.pcap" >&2
done
