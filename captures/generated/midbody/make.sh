#!/usr/bin/env bash
# Captures that begin inside a response, cut with editcap from a real one
# (../nginx-keepalive-curl.pcap: curl, 5 URLs on one keep-alive connection to
# nginx, then 3 with Connection: close), and tshark's reading of each
# (tests/expected/midbody/<name>.tsv: each request tshark reads, in order,
# with the status of the response whose http.request_in names it).
#  - nginx-keepalive-curl-from-mid-body: frames 23 and 25 on: the capture
#    begins with the client's ACK of 244548 inside the 1 MB response, and the
#    server's next segment seen is 47104 bytes later (frame 24 dropped).
#  - nginx-keepalive-curl-head-lost: frames 16-17 and 21 on: the client's
#    request for /1m.bin, then the server's bytes from 47364 after the start
#    of its response (head and first segment dropped, and the client's ACK
#    that would have acknowledged them).
# Needs editcap and tshark (Debian: wireshark-common, tshark).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=$here/../nginx-keepalive-curl.pcap
editcap -r "$src" "$here/nginx-keepalive-curl-from-mid-body.pcap" 23 25-100000
editcap -r "$src" "$here/nginx-keepalive-curl-head-lost.pcap" 16-17 21-100000
mkdir -p "$root/tests/expected/midbody"
for f in "$here"/*.pcap; do
    n=$(basename "$f" .pcap)
    tshark -r "$f" -Y http -T fields -E separator=/t -e frame.number -e tcp.srcport \
        -e tcp.dstport -e http.request.method -e http.request.uri -e http.response.code \
        -e http.request_in 2>/dev/null | python3 -c '
import sys
name, ver = sys.argv[1], sys.argv[2]
reqs, status = [], {}
for line in sys.stdin:
    fr, sp, dp, m, uri, code, req_in = line.rstrip("\n").split("\t")
    if m:
        reqs.append((fr, sp, m, uri))
    elif code and req_in:
        status[req_in] = code
print("# made by captures/generated/midbody/make.sh from a tshark %s reading of captures/generated/midbody/%s.pcap (-Y http; the status of the response whose http.request_in is the request); do not edit" % (ver, name))
print("client_port\tmethod\turi\tstatus")
for fr, sp, m, uri in reqs:
    print("%s\t%s\t%s\t%s" % (sp, m, uri, status.get(fr, "")))
' "$n" "$(tshark --version | head -1 | awk '{print $3}')" > "$root/tests/expected/midbody/$n.tsv"
done
