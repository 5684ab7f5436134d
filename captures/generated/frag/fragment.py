#!/usr/bin/python3
"""IP-fragment the TCP segments that carry payload in a loopback capture.

Usage: fragment.py 4|6 IN.pcap OUT.pcap

Called by make.sh in this folder.  Runs with Debian's /usr/bin/python3 and
python3-scapy (2.5).  IN is a tcpdump capture on Linux `lo` (Ethernet link
type, zero MAC addresses) of one TCP connection over IPv4 (4) or IPv6 (6).
Every frame is copied to OUT with its timestamp; each TCP segment with
payload is replaced by the IP fragments of its datagram, all with the
original frame's timestamp:

  IPv4: DF cleared, the original identification kept (a fresh one if it was
        already used in that direction), scapy's fragment() with
        fragsize 64 (64 payload bytes per fragment, the TCP header counted);
  IPv6: a Fragment header after the IPv6 header (identification
        0x6b6c0001, 0x6b6c0002, ... per datagram), scapy's fragment6() with
        an MTU of 112 (64 payload bytes per fragment).

Fragment order, by the number k (0, 1, ...) of the fragmented datagram in
the capture: k % 3 == 1 reversed (last fragment first), k % 3 == 2 the first
two swapped, else in order.  IPv4 only: the first in-order datagram with
at least 3 fragments gets one more fragment right after its first, a copy
of the datagram's bytes [32, 96) (MF set): it overlaps the first and second
fragments with the same bytes, so every overlap policy reassembles the
same datagram.  TCP bytes (checksums included) are copied unchanged; the IP
header checksum and lengths are recomputed.

Prints a summary line on stderr.
"""
import sys

from scapy.all import IP, IPv6, TCP, Ether, IPv6ExtHdrFragment, Raw, fragment, fragment6
from scapy.utils import PcapReader, PcapWriter

FRAGSIZE = 64            # payload bytes per fragment
V6_ID_BASE = 0x6B6C0000  # "kl"


def reorder(frags, k):
    if k % 3 == 1:
        return list(reversed(frags))
    if k % 3 == 2 and len(frags) >= 2:
        return [frags[1], frags[0]] + frags[2:]
    return list(frags)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("4", "6"):
        sys.exit(__doc__)
    version, inp, outp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    w = PcapWriter(outp, linktype=1, sync=True)
    used_ids = set()
    k = 0
    frames_in = frames_out = 0
    overlap_done = version == 6
    for pkt in PcapReader(inp):
        frames_in += 1
        ip = pkt[IP] if version == 4 and IP in pkt else pkt[IPv6] if version == 6 and IPv6 in pkt else None
        if ip is None or TCP not in pkt or len(pkt[TCP].payload) == 0:
            w.write(pkt)
            frames_out += 1
            continue
        eth = pkt[Ether]
        l4 = bytes(ip.payload)          # the TCP segment as captured
        if version == 4:
            ident = ip.id
            while (ip.src, ip.dst, ident) in used_ids:
                ident = (ident + 1) & 0xFFFF
            used_ids.add((ip.src, ip.dst, ident))
            dgram = IP(tos=ip.tos, id=ident, flags=0, frag=0, ttl=ip.ttl, proto=ip.proto,
                       src=ip.src, dst=ip.dst, options=ip.options) / Raw(l4)
            frags = fragment(dgram, fragsize=FRAGSIZE)
        else:
            dgram = (IPv6(tc=ip.tc, fl=ip.fl, hlim=ip.hlim, src=ip.src, dst=ip.dst)
                     / IPv6ExtHdrFragment(nh=ip.nh, id=V6_ID_BASE + k + 1) / Raw(l4))
            frags = fragment6(dgram, 40 + 8 + FRAGSIZE)
        if len(frags) < 2:
            sys.exit("frame %d: %d bytes of TCP did not fragment" % (frames_in, len(l4)))
        order = reorder(frags, k)
        if not overlap_done and k % 3 == 0 and len(frags) >= 3:
            dup = IP(tos=ip.tos, id=ident, flags="MF", frag=32 // 8, ttl=ip.ttl, proto=ip.proto,
                     src=ip.src, dst=ip.dst, options=ip.options) / Raw(l4[32:96])
            order = order[:1] + [dup] + order[1:]
            overlap_done = True
        for f in order:
            out = Ether(src=eth.src, dst=eth.dst, type=eth.type) / f
            out.time = pkt.time
            w.write(out)
            frames_out += 1
        k += 1
    w.close()
    if not overlap_done:
        sys.exit("no datagram was fit for the overlapping copy")
    print("fragment.py: %s: %d frames in, %d out, %d datagrams fragmented"
          % (outp, frames_in, frames_out, k), file=sys.stderr)


if __name__ == "__main__":
    main()
