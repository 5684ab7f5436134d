#!/usr/bin/env python3
"""Adversarial captures: the floods and oversized inputs of issue 18.

    floods.py KIND OUT.pcap [N] [--record]

Writes a pcap (Ethernet, IPv4, TCP; every address in 127.0.0.0/8) of one
of these shapes, N units of it (defaults: the full-scale figures of issue
18; the test suite passes small ones):

  syn-flood    N SYNs, each from its own source address and port, to
               127.0.0.1:80, never answered                  (N = 2,000,000)
  half-heads   N connections: handshake, then half a request head, never
               closed                                         (N = 500,000)
  big-heads    N connections: handshake, then a 63,000-byte head without
               CRLFCRLF, in 1448-byte segments               (N = 16,000)
  one-sided    N connections seen one way only: two segments of data from
               the server to the client                      (N = 1,000,000)
  pipelined    one connection, N pipelined GETs and no response, in
               1448-byte segments                            (N = 10,000,000)

With --record, prints what it wrote as `key<TAB>value` lines (packets,
connections, of them unanswered (nothing but the client's SYN), requests):
the expected values of tests, made by the writer of the capture, not by
kalens.  Python 3 standard library only; written with
struct, a few seconds per million packets.
"""
import struct
import sys

DEFAULTS = {"syn-flood": 2000000, "half-heads": 500000, "big-heads": 16000,
            "one-sided": 1000000, "pipelined": 10000000}
MSS = 1448


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.t = 1_700_000_000_000_000   # microseconds
        self.packets = 0

    def tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                          5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                         src, dst) + tcp
        frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip
        self.t += 10
        self.f.write(struct.pack("<IIII", self.t // 1000000, self.t % 1000000, len(frame),
                                 len(frame)) + frame)
        self.packets += 1

    def close(self):
        self.f.close()


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
SERVER = bytes([127, 0, 0, 1])


def client_addr(i):
    """A distinct 127.x.y.z source (never 127.0.0.1) and port for unit i."""
    host = 2 + i // 50000
    return bytes([127, (host >> 16) & 0xff, (host >> 8) & 0xff, host & 0xff]), 1024 + i % 50000


def handshake(p, c, cport, isn=1000, sisn=5000):
    p.tcp(c, SERVER, cport, 80, isn, 0, SYN)
    p.tcp(SERVER, c, 80, cport, sisn, isn + 1, SYN | ACK)
    p.tcp(c, SERVER, cport, 80, isn + 1, sisn + 1, ACK)
    return isn + 1, sisn + 1


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    record = "--record" in sys.argv
    if len(args) < 2 or args[0] not in DEFAULTS:
        sys.exit("usage: floods.py {%s} OUT.pcap [N] [--record]" % "|".join(DEFAULTS))
    kind, out = args[0], args[1]
    n = int(args[2]) if len(args) > 2 else DEFAULTS[kind]
    p = Pcap(out)
    conns = requests = unanswered = 0
    if kind == "syn-flood":
        for i in range(n):
            c, cport = client_addr(i)
            p.tcp(c, SERVER, cport, 80, 1000 + i, 0, SYN)
        conns = unanswered = n
    elif kind == "half-heads":
        head = b"GET /index.html HTTP/1.1\r\nHost: exa"
        for i in range(n):
            c, cport = client_addr(i)
            seq, ack = handshake(p, c, cport)
            p.tcp(c, SERVER, cport, 80, seq, ack, PSH | ACK, head)
        conns = n
    elif kind == "big-heads":
        line = b"X-Filler: " + b"a" * 90 + b"\r\n"
        head = b"GET / HTTP/1.1\r\nHost: example\r\n" + line * ((63000 - 32) // len(line))
        head = head[:63000]
        for i in range(n):
            c, cport = client_addr(i)
            seq, ack = handshake(p, c, cport)
            for off in range(0, len(head), MSS):
                piece = head[off:off + MSS]
                p.tcp(c, SERVER, cport, 80, seq + off, ack, PSH | ACK, piece)
        conns = n
    elif kind == "one-sided":
        body = b"x" * 100
        for i in range(n):
            c, cport = client_addr(i)
            p.tcp(SERVER, c, 80, cport, 5000, 1000, PSH | ACK, body)
            p.tcp(SERVER, c, 80, cport, 5000 + len(body), 1000, PSH | ACK, body)
        conns = n
    elif kind == "pipelined":
        c, cport = client_addr(0)
        seq, ack = handshake(p, c, cport)
        req = b"GET / HTTP/1.1\r\nHost: e\r\n\r\n"
        per = MSS // len(req)
        chunk = req * per
        left = n
        while left > 0:
            k = per if left >= per else left
            piece = chunk if k == per else req * k
            p.tcp(c, SERVER, cport, 80, seq, ack, PSH | ACK, piece)
            seq += len(piece)
            left -= k
        conns, requests = 1, n
    p.close()
    if record:
        print("packets\t%d\nconnections\t%d\nunanswered\t%d\nrequests\t%d"
              % (p.packets, conns, unanswered, requests))


if __name__ == "__main__":
    main()
