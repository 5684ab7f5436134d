#!/usr/bin/env python3
"""Seeds for fuzz_http2 (tests/fuzz/corpus/http2) from the cleartext HTTP/2
captures made by captures/generated/make-h2.sh and the public one.

Each seed: a control byte (0x00 or 0x06: piece size classes 1 byte and
20000; the preface is in the stream, so bit 0 is clear), a seed byte (7),
the client stream's length (2 bytes, big-endian), the client's stream, the
server's (tshark's tcp.payload of the first TCP connection, each direction
in capture order), each cut at 16000 bytes.

    tests/fuzz/corpus/make-http2-seeds.py   (needs tshark; writes tests/fuzz/corpus/http2)
"""
import os
import subprocess

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
out = os.path.join(root, "tests", "fuzz", "corpus", "http2")
os.makedirs(out, exist_ok=True)
for cap in ["captures/generated/h2-nghttp-prior-knowledge.pcap",
            "captures/generated/h2-forbidden-connection-header.pcap",
            "captures/public/suricata-verify/http2-continuation/input.pcap"]:
    r = subprocess.run(["tshark", "-r", os.path.join(root, cap), "-Y", "tcp.stream == 0 && tcp.len > 0",
                        "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.payload"],
                       capture_output=True, text=True, check=True).stdout
    lines = [l.split("\t") for l in r.splitlines()]
    client_port = lines[0][0]     # the preface comes first
    c = b"".join(bytes.fromhex(p) for s, p in lines if s == client_port)[:16000]
    s = b"".join(bytes.fromhex(p) for s, p in lines if s != client_port)[:16000]
    for ctl in (0x00, 0x06):
        name = "%s-%02x" % (os.path.basename(cap).replace(".pcap", ""), ctl)
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([ctl, 7, len(c) >> 8, len(c) & 255]) + c + s)
