#!/usr/bin/env bash
# Who ends a TLS connection: captures of real clients and nginx on loopback
# where the TLS close_notify (or a fatal alert) and the TCP FINs tell
# different stories: captures/generated/tlsclose/<name>.pcap with the key log
# its client wrote (<name>.keylog) and the client's own record of what it did
# and when (<name>.client.tsv).
#  - tls13-unwrap-late-fin, tls12-unwrap-late-fin: tlsclose/tls-client.py
#    (Python's ssl module, OpenSSL 3) sends two requests, then close_notify
#    (unwrap(), which waits for nginx's close_notify) and closes its socket
#    0.3 s later.  nginx answers the close_notify with its own and its FIN:
#    the first FIN is the server's, the client ended the connection.
#  - tls12-nginx-idle-close: one request, then the client waits; nginx
#    (keepalive_timeout 1s, advertised as Keep-Alive: timeout=1) sends
#    close_notify and FIN after its idle timeout.
#  - tls12-curl-unknown-ca, tls13-curl-unknown-ca: curl 7.88 without -k
#    refuses nginx's self-signed certificate: its fatal alert (unknown_ca)
#    ends the handshake; in TLS 1.3 that alert is protected with the
#    handshake keys (the key log has them).
# Run as root on Debian 12 with: apt-get install tcpdump nginx-light curl openssl python3
# Usage: captures/generated/make-tlsclose.sh [SCENARIO...] | --list
set -euo pipefail
out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tlsclose
mkdir -p "$out"
all_scenarios=(tls13-unwrap-late-fin tls12-unwrap-late-fin tls12-nginx-idle-close
               tls12-curl-unknown-ca tls13-curl-unknown-ca)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
p13=$(free_port 127.0.0.1)       # TLS 1.3 only
p12=$(free_port 127.0.0.1)       # TLS 1.2 only
p_idle=$(free_port 127.0.0.1)    # TLS 1.2, keepalive_timeout 1s
mkdir -p "$work/www"
printf '<html>small</html>\n' > "$work/www/small.html"
nginx_start "    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    keepalive_timeout 5s;
    server { listen 127.0.0.1:$p13 ssl; ssl_protocols TLSv1.3; }
    server { listen 127.0.0.1:$p12 ssl; ssl_protocols TLSv1.2; }
    server { listen 127.0.0.1:$p_idle ssl; ssl_protocols TLSv1.2; keepalive_timeout 1s 1s; }"
wait_port 127.0.0.1 "$p13"
wait_port 127.0.0.1 "$p12"
wait_port 127.0.0.1 "$p_idle"

python_scenario() {  # $1 name, $2 port, $3 mode, $4 what, rest: paths
    local name=$1 port=$2 mode=$3 what=$4
    shift 4
    want "$name" || return 0
    log "$name"
    rm -f "$out/$name.keylog"
    start_capture "$out/$name.pcap" "$port"
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      /usr/bin/python3 "$out/tls-client.py" "$port" "$out/$name.keylog" "$mode" "$@"; } \
        > "$out/$name.client.tsv"
    stop_capture
}
python_scenario tls13-unwrap-late-fin "$p13" unwrap-late-fin \
    "Python ssl, TLS 1.3: 2 requests, then close_notify (unwrap) and close() 0.3 s later" \
    /small.html /small.html
python_scenario tls12-unwrap-late-fin "$p12" unwrap-late-fin \
    "Python ssl, TLS 1.2: 2 requests, then close_notify (unwrap) and close() 0.3 s later" \
    /small.html /small.html
python_scenario tls12-nginx-idle-close "$p_idle" wait-server \
    "Python ssl, TLS 1.2: 1 request, then waits for nginx (keepalive_timeout 1s 1s) to close" \
    /small.html

curl_refused() {  # $1 name, $2 port, $3 what, rest: curl options
    local name=$1 port=$2 what=$3
    shift 3
    want "$name" || return 0
    log "$name"
    rm -f "$out/$name.keylog"
    start_capture "$out/$name.pcap" "$port"
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf 'tool\turl\texitcode\terror\n'
      local rc=0
      SSLKEYLOGFILE="$out/$name.keylog" curl -sS -o /dev/null "$@" "https://127.0.0.1:$port/small.html" \
          2> "$work/$name.err" || rc=$?
      printf 'curl\thttps://127.0.0.1:%s/small.html\t%s\t%s\n' "$port" "$rc" "$(head -1 "$work/$name.err")"
    } > "$out/$name.client.tsv"
    stop_capture
}
curl_refused tls12-curl-unknown-ca "$p12" "curl 7.88 without -k, TLS 1.2: the self-signed certificate is refused" --tlsv1.2 --tls-max 1.2
curl_refused tls13-curl-unknown-ca "$p13" "curl 7.88 without -k, TLS 1.3: the self-signed certificate is refused" --tlsv1.3
