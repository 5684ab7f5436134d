#!/usr/bin/env python3
"""Copy a capture with one byte of one TLS application-data record changed.

    damage-tls-record.py IN.pcap OUT.pcap server|client N

Walks the TLS records of one direction of the first TCP connection in
IN.pcap (little-endian pcap, Ethernet, IPv4; segments in order, as on
loopback) and flips the bits of the 11th body byte of its N-th record of
content type 23 (application data; in TLS 1.3 also the encrypted
handshake).  The record no longer authenticates; everything else is left
as captured.  Used by tests/test_e2e_tls_decrypt.c.
"""
import struct
import sys


def main():
    src, dst, side, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    d = bytearray(open(src, "rb").read())
    assert struct.unpack("<I", d[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D), "little-endian pcap"
    assert struct.unpack("<I", d[20:24])[0] == 1, "Ethernet"
    pos, server_port = 24, None
    stream = bytearray()      # the direction's payload so far
    where = []                # (file offset of each payload byte run, start in stream, length)
    while pos + 16 <= len(d):
        incl = struct.unpack("<I", d[pos + 8:pos + 12])[0]
        f = pos + 16
        pos = f + incl
        if struct.unpack(">H", d[f + 12:f + 14])[0] != 0x0800:
            continue
        ip = f + 14
        ihl = (d[ip] & 15) * 4
        tot = struct.unpack(">H", d[ip + 2:ip + 4])[0]
        tcp = ip + ihl
        sport, dport = struct.unpack(">HH", d[tcp:tcp + 4])
        flags = d[tcp + 13]
        if flags & 0x12 == 0x12 and server_port is None:   # SYN-ACK: the server's port
            server_port = sport
        if server_port is None:
            continue
        from_server = sport == server_port
        if from_server != (side == "server"):
            continue
        off = (d[tcp + 12] >> 4) * 4
        start, end = tcp + off, ip + tot
        if end > start:
            where.append((start, len(stream), end - start))
            stream += d[start:end]
    # the records of the direction, in order
    at, seen = 0, 0
    while at + 5 <= len(stream):
        ctype, length = stream[at], struct.unpack(">H", stream[at + 3:at + 5])[0]
        if ctype == 23:
            seen += 1
            if seen == nth:
                target = at + 5 + 10
                for fo, so, n in where:
                    if so <= target < so + n:
                        d[fo + target - so] ^= 0xFF
                        open(dst, "wb").write(d)
                        return 0
                break
        at += 5 + length
    sys.exit("no application-data record %d from the %s" % (nth, side))


if __name__ == "__main__":
    sys.exit(main())
