#!/usr/bin/env bash
# Regenerate tests/expected/tlsclose/*.tlsclose.tsv: who sent the first
# closing TLS alert and the first FIN/RST of each TLS connection, as tshark
# reads them (tests/tools/tlsclose-references.py), for every capture with
# TLS that has its key log in the repository, and the public ones without.
#
#   tests/tools/make-tlsclose-references.sh           write / overwrite
#   tests/tools/make-tlsclose-references.sh --check   compare only, exit 1 on a difference
#
# Output names: the capture's repository path with '/' replaced by '__',
# plus '.tlsclose.tsv'.  The first line of each names the key log and the
# decode-as options (ports tshark does not take for a protocol; the same as
# tests/expected/stack's).  Needs tshark (made with 4.0.17, Debian 12).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
check=0
[[ ${1:-} == --check ]] && check=1
outdir=tests/expected/tlsclose
mkdir -p "$outdir"
status=0

one() {  # capture keylog|- tshark-options...
    local cap=$1 keys=$2
    shift 2
    local out="$outdir/${cap//\//__}.tlsclose.tsv" tmp
    tmp=$(mktemp)
    python3 tests/tools/tlsclose-references.py "$cap" "$keys" "$@" > "$tmp"
    if (( check )); then
        cmp -s "$tmp" "$out" || { echo "DIFFERS: $out" >&2; diff -u "$out" "$tmp" >&2 || true; status=1; }
        rm -f "$tmp"
    else
        mv "$tmp" "$out"
        chmod 644 "$out"
        echo "wrote $out ($(grep -vc '^#' "$out") lines incl. column header)"
    fi
}

g=captures/generated
for cap in $g/tlsclose/*.pcap $g/tls1[023]-*.pcap $g/h2-curl-tls-nginx.pcap $g/h2-curl-tls13-nginx.pcap; do
    one "$cap" "${cap%.pcap}.keylog"
done
one captures/public/zeek/tls/tls12-decryption.pcap captures/public/zeek/tls/tls12-decryption.keylog
one captures/public/zeek/tls/tls-1.2-stream-keylog.pcap captures/public/zeek/tls/tls-1.2-stream-keylog.keylog
one captures/public/zeek/tls/signed_certificate_timestamp-2.pcap -
one captures/public/scapy/tls_nss_example.pcap captures/public/scapy/tls_nss_example.keys.txt
s=$g/stack
one $s/connect-proxy-https.pcap $s/connect-proxy-https.keylog -d tcp.port==51063,http -d tcp.port==52805,tls
one $s/socks5-https.pcap $s/socks5-https.keylog -d tcp.port==1080,socks -d tcp.port==52805,tls
one $s/smtp-starttls.pcap $s/smtp-starttls.keylog -d tcp.port==35811,smtp
one $s/imap-starttls.pcap $s/imap-starttls.keylog -d tcp.port==43837,imap
one $s/pop3-starttls.pcap $s/pop3-starttls.keylog -d tcp.port==54233,pop
one $s/ftp-auth-tls.pcap $s/ftp-auth-tls.keylog -d tcp.port==48621,ftp
exit $status
