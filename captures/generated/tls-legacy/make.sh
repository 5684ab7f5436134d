#!/usr/bin/env bash
# Generate tls-legacy-hellos.pcap: TLS handshakes that no client on Debian 12
# makes any more (OpenSSL 3.0 and python's ssl send no SSL 2.0-format
# ClientHello and know no TLS 1.3 draft), played by hellos.py between a
# python client and server on 127.0.0.1 over real TCP connections, recorded
# by tcpdump.  Writes into captures/generated/tls-legacy/:
#   tls-legacy-hellos.pcap         the capture
#   tls-legacy-hellos.client.tsv   hellos.py's client record
#
# Run as root on Debian 12 with:
#   apt-get install tcpdump python3   (tshark for tests/tools/tls-references.py)
# Usage: captures/generated/tls-legacy/make.sh [tls-legacy-hellos]
#        captures/generated/tls-legacy/make.sh --list
# Then:  tests/tools/tls-references.py captures/generated/tls-legacy/tls-legacy-hellos.pcap \
#          > tests/expected/tls/captures__generated__tls-legacy__tls-legacy-hellos.pcap.tls.tsv
#
# The port is picked free at run time; tcpdump on lo is stopped by its PID;
# hellos.py ends by itself (every read has a 5 s timeout).
set -euo pipefail

out=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_scenarios=(tls-legacy-hellos)
if [[ ${1:-} == --list ]]; then printf '%s\n' "${all_scenarios[@]}"; exit 0; fi
source "$(dirname "$out")/common.sh" "$@"

if want tls-legacy-hellos; then
    port=$(free_port 127.0.0.1)
    start_capture "$out/tls-legacy-hellos.pcap" "$port"
    python3 "$out/hellos.py" "$port" "$out/tls-legacy-hellos.client.tsv"
    stop_capture
    log "tls-legacy-hellos.pcap: port $port"
fi
