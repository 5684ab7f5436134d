#!/usr/bin/env bash
# Make the seed corpus of fuzz_http1 from real captures: each direction of
# the first TCP streams of a few HTTP captures, as tshark reassembles them
# ("follow,tcp,raw"), behind fuzz_http1's three control bytes (requests or
# responses, eof at the end, default limits).  Needs tshark and python3.
# Usage: tests/fuzz/make-seeds.sh   (writes tests/fuzz/corpus/http1/)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/tests/fuzz/corpus/http1
mkdir -p "$out"
for cap in zeek/http/bro.org.pcap zeek/http/pipelined-requests.pcap zeek/http/100-continue.pcap \
	   zeek/http/docker-http-upgrade.pcap zeek/http/connect-with-header.pcap \
	   scapy/http_chunk.pcap.gz suricata-verify/http-close-headers/input.pcap; do
	for stream in 0 1; do
		tshark -r "$root/captures/public/$cap" -q -z "follow,tcp,raw,$stream" 2>/dev/null |
		python3 -c '
import sys, os
name, out = sys.argv[1], sys.argv[2]
req, resp = bytearray(), bytearray()
for line in sys.stdin:
    s = line.rstrip("\n")
    if not s or s.startswith("=") or ":" in s and not s.strip().startswith(("\t",)) and not all(c in "0123456789abcdef\t" for c in s.strip()):
        continue
    if s.startswith("\t"):
        resp += bytes.fromhex(s.strip())
    else:
        try:
            req += bytes.fromhex(s.strip())
        except ValueError:
            pass
for kind, ctl, data in (("req", 0x21, req), ("resp", 0x20, resp)):
    if data:
        with open(os.path.join(out, name + "." + kind), "wb") as f:
            f.write(bytes([ctl, 0, 0]) + bytes(data[:65536]))
' "$(echo "$cap" | tr '/' '_')-$stream" "$out"
	done
done
ls "$out" | wc -l
