#!/usr/bin/env python3
"""vxlan-wrap.py IN.pcap OUT.pcap: the same frames, each inside VXLAN (VNI 4242,
UDP 4789) in IPv4 in Ethernet, as a mirror session would deliver them; the
timestamps, the inner frames and their captured lengths are unchanged (the
outer headers add 50 bytes to each).  Classic pcap, Ethernet, either byte
order and time precision in; the same header out.  Python 3 stdlib only."""
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
OUTER_ETH = bytes.fromhex("020000000002" "020000000001" "0800")
with open(src, "rb") as f, open(dst, "wb") as o:
    head = f.read(24)
    magic = struct.unpack("<I", head[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    if struct.unpack(e + "I", head[20:24])[0] != 1:
        sys.exit("vxlan-wrap.py: only Ethernet captures")
    snap = struct.unpack(e + "I", head[16:20])[0]
    o.write(head[:16] + struct.pack(e + "I", snap + 50) + head[20:])
    rec = struct.Struct(e + "IIII")
    ident = 0
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        sec, frac, caplen, wirelen = rec.unpack(h)
        frame = f.read(caplen)
        ident = (ident + 1) & 0xffff
        udp_len = 8 + 8 + wirelen
        ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident, 0x4000, 64, 17, 0,
                                   bytes([192, 0, 2, 1]), bytes([192, 0, 2, 100])))
        s = sum(struct.unpack(">10H", ip))
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        ip[10:12] = struct.pack(">H", ~s & 0xffff)
        udp = struct.pack(">HHHH", 49152 + (ident & 0x3fff), 4789, udp_len, 0)
        vxlan = struct.pack(">II", 0x08000000, 4242 << 8)
        outer = OUTER_ETH + bytes(ip) + udp + vxlan
        o.write(rec.pack(sec, frac, caplen + 50, wirelen + 50) + outer + frame)
