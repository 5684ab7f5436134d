#!/usr/bin/env python3
"""Seeds for fuzz_tls (tests/fuzz/corpus/tls) from the TLS captures.

Each seed is a control byte (0x00: pieces of 1 byte; 0x06: pieces up to
20000), a seed byte (7), then one TCP connection's payload, both
directions in capture order (tshark's tcp.payload), cut at 20000 bytes.
From captures/generated/tls-legacy/tls-legacy-hellos.pcap only two
connections: stream 0 (an SSL 2.0-format ClientHello answered by TLS 1.0)
and stream 2 (a TLS 1.3 draft 18 ServerHello, the draft's own layout).

    tests/fuzz/corpus/make-tls-seeds.py     (needs tshark; writes into tests/fuzz/corpus/tls)
"""
import os, subprocess

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
out = os.path.join(root, "tests", "fuzz", "corpus", "tls")
os.makedirs(out, exist_ok=True)
for cap, only in [("captures/public/scapy/tls_nss_example.pcap", None),
                  ("captures/public/zeek/tls/tls12-decryption.pcap", None),
                  ("captures/generated/tls-legacy/tls-legacy-hellos.pcap", ("0", "2"))]:
    r = subprocess.run(["tshark", "-r", os.path.join(root, cap), "-Y", "tcp.len>0", "-T", "fields",
                        "-e", "tcp.stream", "-e", "tcp.payload"],
                       capture_output=True, text=True, check=True).stdout
    streams = {}
    for line in r.splitlines():
        s, p = line.split("\t")
        streams[s] = streams.get(s, b"") + bytes.fromhex(p)
    for s, b in streams.items():
        if only and s not in only:
            continue
        for ctl in (0x00, 0x06):
            name = "%s-%s-%02x" % (os.path.basename(cap), s, ctl)
            with open(os.path.join(out, name), "wb") as f:
                f.write(bytes([ctl, 7]) + b[:20000])
