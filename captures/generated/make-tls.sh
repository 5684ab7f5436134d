#!/usr/bin/env bash
# Generate captures of real HTTPS keep-alive traffic on loopback, each with
# the key log its client wrote (<name>.keylog, SSLKEYLOGFILE / -keylogfile)
# and the client's own record of what it did (<name>.client.tsv).
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump nginx-light curl openssl python3
# Usage: captures/generated/make-tls.sh [SCENARIO...]  (writes into captures/generated/)
#        captures/generated/make-tls.sh --list   prints the scenario names
#
# nginx 1.22 serves TLS 1.0-1.3 with a self-signed RSA certificate made at run
# time (not kept: the key logs are what decrypts).  Clients:
#  - curl 7.88 (OpenSSL 3.0): one keep-alive connection per scenario, the
#    protocol and suite forced with --tlsv1.x/--tls-max/--ciphers/--tls13-ciphers.
#    Record rows: curl's -w fields per URL, and one `tls` row per connection
#    from curl -v's "SSL connection using <version> / <suite>" line, with the
#    suite's IANA number from `openssl ciphers -V`.
#  - openssl s_client: session resumption (-sess_out then -sess_in) and TLS 1.3
#    KeyUpdate (the K command).  Record rows: the requests the script sent,
#    s_client's "New," / "Reused," line per connection, and the status lines
#    it printed.
# Everything listens on 127.0.0.1 only, on free ports; every server and
# tcpdump is stopped by its PID; loops are bounded.
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

all_scenarios=(tls12-aes128gcm-curl tls12-aes256gcm-curl tls12-chacha20-curl
               tls12-aes128cbc-sha-etm-curl tls12-aes256cbc-sha384-mte-curl
               tls12-aes128cbc-sha256-mte-curl
               tls10-aes256cbc-sha-curl tls10-aes128cbc-sha-etm-curl
               tls13-aes128gcm-curl tls13-aes256gcm-curl tls13-chacha20-curl
               tls12-resumed-s_client tls13-resumed-s_client tls13-keyupdate-s_client)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$out/common.sh" "$@"

# --- nginx over TLS ------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
p_tls=$(free_port 127.0.0.1)     # TLS 1.0-1.3, every suite OpenSSL has (client picks)
p_mte=$(free_port 127.0.0.1)     # the same without encrypt-then-MAC (RFC 7366)
nginx_start "    keepalive_timeout 5s;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers ALL:@SECLEVEL=0;
    ssl_session_cache shared:kalens:1m;
    server { listen 127.0.0.1:$p_tls ssl; }
    server { listen 127.0.0.1:$p_mte ssl; ssl_conf_command Options -EncryptThenMac; }"
log "nginx (TLS) on 127.0.0.1:$p_tls, without encrypt-then-MAC on 127.0.0.1:$p_mte"
wait_port 127.0.0.1 "$p_tls"
wait_port 127.0.0.1 "$p_mte"

curl_fmt='curl\t%{url_effective}\t%{local_ip}\t%{local_port}\t%{remote_ip}\t%{remote_port}\t%{num_connects}\t%{http_code}\t%{size_download}\t%{size_header}\t%{exitcode}\n'
curl_hdr=$'tool\turl\tlocal_ip\tlocal_port\tremote_ip\tremote_port\tnum_connects\thttp_code\tsize_download\tsize_header\texitcode'

iana() {  # $1 = an OpenSSL suite name: its IANA number (0x....), by openssl ciphers -V
    openssl ciphers -V 'ALL:@SECLEVEL=0' | awk -v s="$1" '$3 == s { print $1 }' |
        sed 's/0x//; s/,0x//; s/^/0x/' | tr 'A-F' 'a-f'
}

# "tls <version> <suite> <IANA number>" rows from curl -v's stderr.
tls_rows() {  # $1 = curl's stderr
    local v s
    grep -o 'SSL connection using [^ ]* / [^ ]*' "$1" | while read -r _ _ _ v _ s; do
        printf 'tls\t%s\t%s\t%s\n' "$v" "$s" "$(iana "$s")"
    done
}

# One curl over one connection: $1 name, $2 port, $3 description, rest: curl's TLS options.
curl_scenario() {
    local name=$1 port=$2 what=$3
    shift 3
    want "$name" || return 0
    log "$name"
    local base="https://127.0.0.1:$port" rec="$out/$name.client.tsv"
    rm -f "$out/$name.keylog"
    start_capture "$out/$name.pcap" "$port"
    SSLKEYLOGFILE="$out/$name.keylog" curl -sv -k "$@" \
        -o /dev/null -o /dev/null -o /dev/null -w "$curl_fmt" \
        "$base/small.html" "$base/100k.bin" "$base/small.html" \
        > "$work/$name.rows" 2> "$work/$name.err"
    stop_capture
    { printf '# client record for %s.pcap: %s\n' "$name" "$what"
      printf '%s\n' "$curl_hdr"
      cat "$work/$name.rows"
      printf 'tool\tversion\tsuite\tiana\n'
      tls_rows "$work/$name.err"; } > "$rec"
}

curl_scenario tls12-aes128gcm-curl "$p_tls" "curl, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
curl_scenario tls12-aes256gcm-curl "$p_tls" "curl, TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384, 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384
curl_scenario tls12-chacha20-curl "$p_tls" "curl, TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305, 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
curl_scenario tls12-aes128cbc-sha-etm-curl "$p_tls" "curl, TLS 1.2 ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1, encrypt-then-MAC), 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA
curl_scenario tls12-aes256cbc-sha384-mte-curl "$p_mte" "curl, TLS 1.2 ECDHE-RSA-AES256-SHA384 (CBC, HMAC-SHA384, MAC-then-encrypt: the server refuses encrypt-then-MAC), 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-SHA384
curl_scenario tls12-aes128cbc-sha256-mte-curl "$p_mte" "curl, TLS 1.2 ECDHE-RSA-AES128-SHA256 (CBC, HMAC-SHA256, MAC-then-encrypt), 3 URLs on one connection" \
    --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA256
curl_scenario tls10-aes256cbc-sha-curl "$p_mte" "curl, TLS 1.0 ECDHE-RSA-AES256-SHA (CBC with chained IVs, MD5/SHA-1 PRF, MAC-then-encrypt), 3 URLs on one connection" \
    --tlsv1.0 --tls-max 1.0 --ciphers 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0'
curl_scenario tls10-aes128cbc-sha-etm-curl "$p_tls" "curl, TLS 1.0 ECDHE-RSA-AES128-SHA (CBC with chained IVs, encrypt-then-MAC), 3 URLs on one connection" \
    --tlsv1.0 --tls-max 1.0 --ciphers 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
curl_scenario tls13-aes128gcm-curl "$p_tls" "curl, TLS 1.3 TLS_AES_128_GCM_SHA256, 3 URLs on one connection" \
    --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
curl_scenario tls13-aes256gcm-curl "$p_tls" "curl, TLS 1.3 TLS_AES_256_GCM_SHA384, 3 URLs on one connection" \
    --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
curl_scenario tls13-chacha20-curl "$p_tls" "curl, TLS 1.3 TLS_CHACHA20_POLY1305_SHA256, 3 URLs on one connection" \
    --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256

# --- openssl s_client -----------------------------------------------------------
# Requests written to s_client's stdin, one write each, $2 seconds apart
# (the last asks the server to close); "K" alone on a line is s_client's
# KeyUpdate command (update_requested: the server answers with its own).
feed() {  # $1 = gap seconds, rest: requests (paths) or K
    local gap=$1 r
    shift
    for r in "$@"; do
        sleep "$gap"
        if [[ $r == K ]]; then printf 'K\n'; continue; fi
        local close=
        [[ $r == *!close ]] && close=$'Connection: close\r\n'
        printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n' "${r%%!*}" "$close"
    done
    sleep 2
}

sclient_hdr=$'tool\trequest\tsession\tprotocol\tsuite\tiana\tstatus_lines'
# One s_client connection: $1 name, $2 record file, $3 extra options, rest: feed's arguments.
sclient_conn() {
    local name=$1 rec=$2 opts=$3
    shift 3
    # shellcheck disable=SC2086  # opts are words
    feed 0.3 "$@" | timeout 20 openssl s_client -connect "127.0.0.1:$p_tls" -servername localhost \
        -keylogfile "$out/$name.keylog" $opts > "$work/$name.out" 2>&1 || true
    local sess proto suite st
    read -r sess proto suite < <(grep -m1 -E '^(New|Reused), ' "$work/$name.out" |
        sed -E 's/^(New|Reused), ([^,]*), Cipher is (.*)$/\1 \2 \3/')
    st=$(grep -c '^HTTP/1.1 200' "$work/$name.out" || true)
    printf 's_client\t%s\t%s\t%s\t%s\t%s\t%s\n' "$*" "$sess" "$proto" "$suite" "$(iana "$suite")" \
        "$st" >> "$rec"
}

sclient_resumed() {  # $1 name, $2 TLS version option
    local name=$1 ver=$2
    want "$name" || return 0
    log "$name"
    local rec="$out/$name.client.tsv"
    rm -f "$out/$name.keylog" "$work/sess.pem"
    { printf '# client record for %s.pcap: openssl s_client %s, a full handshake (-sess_out) then a resumed one (-sess_in), two requests each on its connection\n' "$name" "$ver"
      printf '%s\n' "$sclient_hdr"; } > "$rec"
    start_capture "$out/$name.pcap" "$p_tls"
    sclient_conn "$name" "$rec" "$ver -sess_out $work/sess.pem" /small.html /100k.bin!close
    sclient_conn "$name" "$rec" "$ver -sess_in $work/sess.pem" /small.html /small.html!close
    stop_capture
}
sclient_resumed tls12-resumed-s_client -tls1_2
sclient_resumed tls13-resumed-s_client -tls1_3

name=tls13-keyupdate-s_client
if want "$name"; then
log "$name"
rec="$out/$name.client.tsv"
rm -f "$out/$name.keylog"
{ printf '# client record for %s.pcap: openssl s_client -tls1_3, a request, KeyUpdate (K: update_requested, the server updates too), a request, KeyUpdate, a last request with Connection: close, on one connection\n' "$name"
  printf '%s\n' "$sclient_hdr"; } > "$rec"
start_capture "$out/$name.pcap" "$p_tls"
sclient_conn "$name" "$rec" "-tls1_3" /small.html K /100k.bin K /small.html!close
stop_capture
fi
