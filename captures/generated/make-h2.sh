#!/usr/bin/env bash
# Generate captures of real HTTP/2 traffic on loopback, each with the client's
# own record of what it did (<name>.client.tsv); the TLS one also with the
# key log its client wrote (<name>.keylog).
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump nginx-light apache2 curl nghttp2-client nghttp2-server openssl python3
# Usage: captures/generated/make-h2.sh [SCENARIO...]   (writes into captures/generated/)
#        captures/generated/make-h2.sh --list    prints the scenario names
#
# Servers (127.0.0.1 only, free ports, stopped by PID): nghttpd 1.52 --no-tls
# (prior knowledge), Apache 2.4 mod_http2 with "Protocols h2c http/1.1" (h2c
# upgrade and prior knowledge), nginx 1.22 with "listen ... ssl http2",
# and h2_forbidden_server.py below: a raw HTTP/2 server that answers every
# stream with a "connection: keep-alive" field, which RFC 9113 §8.2.2 forbids.
# Clients: nghttp 1.52 (-v: the frames it printed are the record) and
# curl 7.88 (-w per URL, as in make.sh, with %{http_version}).  curl 7.88 fails
# to send a second request on a cleartext HTTP/2 connection (exit 16, "HTTP/2
# framing layer"): its records say so, and the captures show what it did.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

all_scenarios=(h2-nghttp-prior-knowledge h2-curl-prior-knowledge h2-curl-upgrade
               h2-curl-tls-nginx h2-forbidden-connection-header h2-curl-tls13-nginx
               h2-nghttp-push)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$out/common.sh" "$@"

curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{http_version}\t%{exitcode}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\thttp_version\texitcode'

# --- nghttpd, cleartext ----------------------------------------------------------
p_ngd=$(free_port 127.0.0.1)
log "nghttpd --no-tls on 127.0.0.1:$p_ngd"
timeout 600 nghttpd --no-tls -a 127.0.0.1 -d "$work/www" "$p_ngd" > "$work/nghttpd.log" 2>&1 &
pids+=("$!")
wait_port 127.0.0.1 "$p_ngd"
p_push=$(free_port 127.0.0.1)    # the same, pushing /100k.bin with /small.html
log "nghttpd --no-tls --push on 127.0.0.1:$p_push"
timeout 600 nghttpd --no-tls -a 127.0.0.1 -d "$work/www" -p/small.html=/100k.bin "$p_push" \
    > "$work/nghttpd-push.log" 2>&1 &
pids+=("$!")
wait_port 127.0.0.1 "$p_push"

# --- Apache 2.4 with mod_http2, cleartext (h2c: upgrade and prior knowledge) ----------
p_apache=$(free_port 127.0.0.1)
apache_start "$p_apache" "LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so
Protocols h2c http/1.1
KeepAlive On
KeepAliveTimeout 5"
log "apache2 (mod_http2, h2c) on 127.0.0.1:$p_apache"
wait_port 127.0.0.1 "$p_apache"

# --- nginx over TLS with HTTP/2 ------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
p_ngx=$(free_port 127.0.0.1)     # nginx 1.22's default protocols: up to TLS 1.2
p_ngx13=$(free_port 127.0.0.1)   # TLS 1.3 (ALPN in the encrypted EncryptedExtensions)
nginx_start "    keepalive_timeout 5s;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    server { listen 127.0.0.1:$p_ngx ssl http2; }
    server { listen 127.0.0.1:$p_ngx13 ssl http2; ssl_protocols TLSv1.3; }"
log "nginx (TLS, http2) on 127.0.0.1:$p_ngx"
wait_port 127.0.0.1 "$p_ngx"
wait_port 127.0.0.1 "$p_ngx13"

# --- a raw HTTP/2 server that sends a forbidden connection-specific field -----------
cat > "$work/h2_forbidden_server.py" <<'EOF'
# Prior-knowledge HTTP/2: reads the preface and frames, sends its SETTINGS and
# a PING (the client must answer it: a round trip), acknowledges SETTINGS,
# and answers each request stream with HEADERS (:status 200, "connection:
# keep-alive", content-length: 3) and DATA "ok\n".  HPACK by hand: :status 200
# is static entry 8 (0x88); the other fields are literals without indexing,
# no Huffman (RFC 7541 §6.2.2).  Bounded: 60 s, one connection at a time.
import socket, struct, sys, time
def frame(t, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + payload
def lit(name, value):
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); s.settimeout(60)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(10)
    buf = b""
    try:
        while len(buf) < 24:
            d = c.recv(65536)
            if not d: raise EOFError
            buf += d
        buf = buf[24:]
        c.sendall(frame(4, 0, 0, b"") + frame(6, 0, 0, b"kalens01"))
        while True:
            while len(buf) < 9 or len(buf) < 9 + int.from_bytes(buf[:3], "big"):
                d = c.recv(65536)
                if not d: raise EOFError
                buf += d
            n = int.from_bytes(buf[:3], "big"); t, fl = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7fffffff
            buf = buf[9 + n:]
            if t == 4 and not fl & 1:
                c.sendall(frame(4, 1, 0, b""))
            elif t == 1:
                block = b"\x88" + lit(b"connection", b"keep-alive") + lit(b"content-length", b"3")
                c.sendall(frame(1, 4, sid, block) + frame(0, 1, sid, b"ok\n"))
            elif t == 7:
                break
    except (EOFError, OSError):
        pass
    c.close()
EOF
p_bad=$(free_port 127.0.0.1)
log "h2_forbidden_server.py on 127.0.0.1:$p_bad"
python3 "$work/h2_forbidden_server.py" "$p_bad" > "$work/bad.log" 2>&1 &
pids+=("$!")
wait_port 127.0.0.1 "$p_bad"

client_head() {  # $1 = file, $2 = description
    { printf '# client record for %s: %s\n' "$(basename "${1%.client.tsv}").pcap" "$2"
      printf '%s\n' "$curl_hdr"; } > "$1"
}

# nghttp -v: one record row per stream it opened, "nghttp <stream id> <status>
# <body bytes> <path>", from the frames it printed: the :path it sent in the
# stream's HEADERS, the :status it received, the lengths of the DATA frames
# it received on the stream.
nghttp_rows() {  # $1 = nghttp -v's output
    printf 'tool\tstream_id\thttp_code\tsize_download\tpath\n'
    python3 - "$1" <<'PY'
import re, sys
path, status, size, order, cur, promised_path = {}, {}, {}, [], None, None
for line in open(sys.argv[1], errors="replace"):
    # a server push: the promised request's :path, then the promised id
    m = re.search(r"recv \(stream_id=\d+\) :path: (\S+)", line)
    if m:
        promised_path = m.group(1)
    m = re.search(r"promised_stream_id=(\d+)", line)
    if m:
        p = int(m.group(1)); order.append(p); size[p] = 0; path[p] = promised_path or ""
    m = re.search(r"send HEADERS frame <.*stream_id=(\d+)>", line)
    if m:
        cur = int(m.group(1)); order.append(cur); size[cur] = 0; continue
    m = re.match(r"\s+:path: (\S+)", line)
    if m and cur is not None and cur not in path:
        path[cur] = m.group(1); continue
    if not line.startswith(" "):
        cur = None
    m = re.search(r"recv \(stream_id=(\d+)\) :status: (\d+)", line)
    if m:
        status[int(m.group(1))] = m.group(2)
    m = re.search(r"recv DATA frame <length=(\d+), flags=0x[0-9a-f]+, stream_id=(\d+)>", line)
    if m:
        size[int(m.group(2))] = size.get(int(m.group(2)), 0) + int(m.group(1))
for s in order:
    print("nghttp\t%d\t%s\t%d\t%s" % (s, status.get(s, "000"), size.get(s, 0), path.get(s, "")))
PY
}

name=h2-nghttp-prior-knowledge
if want "$name"; then
log "$name"
base="http://127.0.0.1:$p_ngd"
start_capture "$out/$name.pcap" "$p_ngd"
nghttp -n -v "$base/small.html" "$base/100k.bin" "$base/missing.html" "$base/small.html?again" \
    > "$work/nghttp.out" 2>&1 || true
stop_capture
{ printf '# client record for %s.pcap: nghttp -n -v, 4 URLs as concurrent streams on one prior-knowledge connection to nghttpd (rows from the frames nghttp printed)\n' "$name"
  nghttp_rows "$work/nghttp.out"; } > "$out/$name.client.tsv"
fi

# One curl invocation: $1 name, $2 server port, $3 scheme (http/https: https
# also writes the key log <name>.keylog), $4 description, then curl's HTTP/2
# option, then the paths.  Failures are in the record (exitcode), not fatal.
curl_h2() {
    local name=$1 port=$2 scheme=$3 what=$4 opt=$5
    shift 5
    want "$name" || return 0
    log "$name"
    local base="$scheme://127.0.0.1:$port" urls=() outs=() p
    for p in "$@"; do urls+=("$base$p"); outs+=(-o /dev/null); done
    client_head "$out/$name.client.tsv" "$what"
    rm -f "$out/$name.keylog"
    start_capture "$out/$name.pcap" "$port"
    if [[ $scheme == https ]]; then
        SSLKEYLOGFILE="$out/$name.keylog" curl -sk "$opt" "${outs[@]}" -w "$curl_fmt" "${urls[@]}" \
            >> "$out/$name.client.tsv" 2>"$work/$name.err" || true
    else
        curl -s "$opt" "${outs[@]}" -w "$curl_fmt" "${urls[@]}" \
            >> "$out/$name.client.tsv" 2>"$work/$name.err" || true
    fi
    stop_capture
}

curl_h2 h2-curl-prior-knowledge "$p_apache" http \
    "curl --http2-prior-knowledge, 3 URLs one after another on one connection to Apache mod_http2 (curl 7.88 fails to reuse a prior-knowledge connection to nghttpd)" \
    --http2-prior-knowledge /small.html /100k.bin /missing.html
curl_h2 h2-curl-upgrade "$p_apache" http \
    "curl --http2 on http://: the first request asks for Upgrade: h2c, Apache mod_http2 answers 101 and the response comes on stream 1; the next two are HTTP/2 streams on the same connection" \
    --http2 /small.html /100k.bin /small.html
curl_h2 h2-curl-tls-nginx "$p_ngx" https \
    "curl --http2 over TLS (ALPN h2) to nginx, 3 URLs on one connection, key log written by curl (SSLKEYLOGFILE)" \
    --http2 /small.html /100k.bin /missing.html
curl_h2 h2-forbidden-connection-header "$p_bad" http \
    "curl --http2-prior-knowledge to h2_forbidden_server.py, which answers with a connection: keep-alive field; curl (nghttp2) refuses the response (exit 92, stream reset with PROTOCOL_ERROR)" \
    --http2-prior-knowledge /small.html
curl_h2 h2-curl-tls13-nginx "$p_ngx13" https \
    "curl --http2 over TLS 1.3 (ALPN h2, chosen in EncryptedExtensions) to nginx, 3 URLs on one connection, key log written by curl (SSLKEYLOGFILE)" \
    --http2 /small.html /100k.bin /missing.html

name=h2-nghttp-push
if want "$name"; then
log "$name"
start_capture "$out/$name.pcap" "$p_push"
nghttp -n -v "http://127.0.0.1:$p_push/small.html" > "$work/nghttp-push.out" 2>&1 || true
stop_capture
{ printf '# client record for %s.pcap: nghttp -n -v, /small.html to nghttpd -p/small.html=/100k.bin, which pushes /100k.bin on a promised stream (rows from the frames nghttp printed; the pushed one from its PUSH_PROMISE)\n' "$name"
  nghttp_rows "$work/nghttp-push.out"; } > "$out/$name.client.tsv"
fi
