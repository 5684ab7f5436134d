#!/usr/bin/env python3
"""Seeds for fuzz_flow from captures of real HTTP traffic.

fuzz_flow reads records of [2-byte big-endian length][1-byte time step, in
1/8 s][DLT_RAW frame]; this turns the Ethernet frames of a pcap into that
(the Ethernet header dropped, time steps rounded down, frames cut at 4 KiB,
or not at all with --whole: TLS records must stay whole to be decrypted).

    tests/fuzz/corpus/make-flow-seeds.py [--whole] OUTDIR CAPTURE.pcap...

The seeds in tests/fuzz/corpus/flow were made from captures/generated/ with:
    tests/fuzz/corpus/make-flow-seeds.py tests/fuzz/corpus/flow \\
        captures/generated/nginx-python-client-idle.pcap \\
        captures/generated/nginx-pipelined-burst.pcap \\
        captures/generated/nginx-request-after-close.pcap \\
        captures/generated/apache-max-requests.pcap
    tests/fuzz/corpus/make-flow-seeds.py --whole tests/fuzz/corpus/flow \\
        captures/generated/tls12-resumed-s_client.pcap \\
        captures/generated/tls13-resumed-s_client.pcap \\
        captures/generated/tls13-keyupdate-s_client.pcap \\
        captures/generated/tls10-aes256cbc-sha-curl.pcap \\
        captures/generated/h2-nghttp-prior-knowledge.pcap \\
        captures/generated/h2-curl-upgrade.pcap
    tests/fuzz/corpus/make-flow-seeds.py --whole tests/fuzz/corpus/flow \\
        captures/generated/stack/connect-proxy-https.pcap \\
        captures/generated/stack/socks5-https.pcap captures/generated/stack/socks4a-http.pcap \\
        captures/generated/stack/smtp-starttls.pcap captures/generated/stack/imap-starttls.pcap \\
        captures/generated/stack/connect-refused.pcap \\
        captures/generated/stack/smtp-starttls-refused.pcap
    tests/fuzz/corpus/make-flow-seeds.py tests/fuzz/corpus/flow \\
        captures/generated/encap/gre-vxlan.pcap captures/generated/encap/erspan-split.pcap \\
        captures/generated/encap/gtpu.pcap captures/generated/encap/ipip-6in4.pcap \\
        captures/generated/encap/geneve.pcap captures/generated/encap/vxlan-two-vni.pcap
    tests/fuzz/corpus/make-flow-seeds.py --whole tests/fuzz/corpus/flow \\
        captures/generated/tlsclose/tls13-unwrap-late-fin.pcap \\
        captures/generated/tlsclose/tls12-curl-unknown-ca.pcap
    tests/fuzz/corpus/make-flow-seeds.py tests/fuzz/corpus/flow \\
        captures/generated/reverse/reverse-tunnel-curl.pcap
(tunnels: the outer IP header is the raw frame; fuzz_flow loads the key logs of captures/generated/, captures/generated/stack/ and captures/generated/tlsclose/).
"""
import os, struct, sys

def records(path):
    d = open(path, "rb").read()
    magic = struct.unpack("<I", d[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), "little-endian pcap only"
    nano = magic == 0xa1b23c4d
    assert struct.unpack("<I", d[20:24])[0] == 1, "Ethernet captures only"
    pos = 24
    while pos + 16 <= len(d):
        sec, frac, incl, _ = struct.unpack("<IIII", d[pos:pos + 16])
        yield sec + frac / (1e9 if nano else 1e6), d[pos + 16:pos + 16 + incl]
        pos += 16 + incl

def main():
    whole = sys.argv[1] == "--whole"
    args = sys.argv[2:] if whole else sys.argv[1:]
    cut = 65535 if whole else 4096
    out = args[0]
    os.makedirs(out, exist_ok=True)
    for cap in args[1:]:
        seed, last = bytearray(), None
        for ts, frame in records(cap):
            ip = frame[14:14 + cut]
            step = 0 if last is None else min(255, int((ts - last) * 8))
            last = ts
            seed += struct.pack(">HB", len(ip), step) + ip
        name = os.path.splitext(os.path.basename(cap))[0]
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed)

main()
