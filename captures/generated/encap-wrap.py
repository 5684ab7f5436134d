#!/usr/bin/python3
"""encap-wrap.py BASE4.pcap BASE6.pcap OUTDIR

Wrap the IP packets of two real loopback captures (curl to nginx, made by
make-encap.sh) in tunnel and link-layer headers with scapy, keeping every
packet's timestamp, and write one capture per encapsulation into OUTDIR.
The client's packets are those from the port curl used (not nginx's), so
each direction gets its own outer header where the encapsulation has
directions (outer addresses, GTP-U TEIDs, 802.11 ToDS/FromDS).
"""
import struct
import sys

from scapy.all import (IP, IPv6, UDP, GRE, Ether, Raw, PPP, HDLC, rdpcap, RadioTap, Dot11,
                       Dot11QoS, LLC, SNAP, PrismHeader, PPI, conf)
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE
from scapy.contrib.erspan import ERSPAN, ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

base4, base6, out = sys.argv[1], sys.argv[2], sys.argv[3]

def ip_packets(path):
    """(time, IP bytes, to_server) for each packet of a loopback capture."""
    pkts = rdpcap(path)
    res = []
    server_port = None
    for p in pkts:
        ip = p[IP] if IP in p else p[IPv6]
        tcp = ip.payload
        if server_port is None:       # the first packet is curl's SYN
            server_port = tcp.dport
        res.append((p.time, bytes(ip), tcp.dport == server_port))
    return res

P4, P6 = ip_packets(base4), ip_packets(base6)

MAC_C, MAC_S = "02:00:00:00:00:0c", "02:00:00:00:00:05"
O4 = ("192.0.2.1", "192.0.2.2")          # outer IPv4 endpoints: client side, server side
O6 = ("2001:db8::1", "2001:db8::2")

def inner(b):
    return IP(b) if b[0] >> 4 == 4 else IPv6(b)

def ether(b, to_server):
    src, dst = (MAC_C, MAC_S) if to_server else (MAC_S, MAC_C)
    return Ether(src=src, dst=dst) / inner(b)

def outer4(to_server, **kw):
    a, b = O4 if to_server else O4[::-1]
    return IP(src=a, dst=b, **kw)

def outer6(to_server, **kw):
    a, b = O6 if to_server else O6[::-1]
    return IPv6(src=a, dst=b, **kw)

def write(name, linktype, packets, frames):
    """A classic pcap (microseconds) of the frames at the packets' times."""
    with open(f"{out}/{name}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype))
        for (t, _, _), fr in zip(packets, frames):
            data = fr if isinstance(fr, bytes) else bytes(fr)
            us = int(round(float(t) * 1e6))
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(data), len(data)))
            f.write(data)

def wrap(name, packets, fn, linktype=1):
    write(name, linktype, packets, [fn(b, ts) for (_, b, ts) in packets])

# --- tunnels (Ethernet underlay) ---------------------------------------------
E = lambda ts: Ether(src=MAC_C if ts else MAC_S, dst=MAC_S if ts else MAC_C)

wrap("geneve", P4, lambda b, ts: E(ts) / outer4(ts) / UDP(sport=49152, dport=6081) /
     GENEVE(vni=0x1234, proto=0x6558, optionlen=2,
            options=b"\x01\x02\x03\x01" + b"\xaa\xbb\xcc\xdd") / ether(b, ts))
wrap("gre-key-seq", P4, lambda b, ts: E(ts) / outer4(ts) /
     GRE(key_present=1, key=77, seqnum_present=1, seqence_number=1, proto=0x0800) / inner(b))
wrap("gretap", P4, lambda b, ts: E(ts) / outer4(ts) / GRE(proto=0x6558) / ether(b, ts))
wrap("erspan-i", P4, lambda b, ts: E(ts) / IP(src="192.0.2.50", dst="192.0.2.100") /
     GRE(proto=0x88be) / ether(b, ts))
wrap("erspan-ii", P4, lambda b, ts: E(ts) / IP(src="192.0.2.50", dst="192.0.2.100") /
     GRE(seqnum_present=1, proto=0x88be) / ERSPAN_II(ver=1, session_id=100) / ether(b, ts))
wrap("erspan-iii", P4, lambda b, ts: E(ts) / IP(src="192.0.2.50", dst="192.0.2.100") /
     GRE(seqnum_present=1, proto=0x22eb) / ERSPAN_III(session_id=200, o=1) /
     ERSPAN_PlatformSpecific(platf_id=3) / ether(b, ts))
# GTP-U: each direction has its own TEID (3GPP TS 29.281); an extension
# header (PDU session container) on every packet.
wrap("gtpu", P4, lambda b, ts: E(ts) / outer4(ts) / UDP(sport=2152, dport=2152) /
     GTP_U_Header(teid=0x1001 if ts else 0x2002, next_ex=0x85, E=1) /
     GTPPDUSessionContainer(type=1 if ts else 0, QFI=9) / inner(b))
wrap("ipip-4in4", P4, lambda b, ts: E(ts) / outer4(ts, proto=4) / inner(b))
wrap("ipip-6in4", P6, lambda b, ts: E(ts) / outer4(ts, proto=41) / inner(b))
wrap("ipip-4in6", P4, lambda b, ts: E(ts) / outer6(ts, nh=4) / inner(b))
wrap("ipip-6in6", P6, lambda b, ts: E(ts) / outer6(ts, nh=41) / inner(b))
# GRE over IPv6 carrying a VXLAN underlay: two tunnels, outermost first.
wrap("gre-vxlan", P4, lambda b, ts: E(ts) / outer6(ts) / GRE(proto=0x0800) /
     IP(src="203.0.113.1" if ts else "203.0.113.2", dst="203.0.113.2" if ts else "203.0.113.1") /
     UDP(sport=50000, dport=4789) / VXLAN(vni=99, flags=0x08) / ether(b, ts))
# The two directions mirrored by two switches into two ERSPAN sessions.
wrap("erspan-split", P4, lambda b, ts: E(ts) /
     IP(src="192.0.2.1" if ts else "192.0.2.9", dst="192.0.2.100") /
     GRE(seqnum_present=1, proto=0x88be) / ERSPAN_II(ver=1, session_id=1 if ts else 2) / ether(b, ts))
# The same traffic mirrored from two hosts in two VNIs, interleaved.
two = []
for t, b, ts in P4:
    two.append((t, b, ts, 10, "192.0.2.11"))
    two.append((t + 0.0001, b, ts, 20, "192.0.2.21"))
write("vxlan-two-vni", 1, [(t, b, ts) for (t, b, ts, _, _) in two],
      [E(ts) / IP(src=src, dst="192.0.2.100") / UDP(sport=40000, dport=4789) /
       VXLAN(vni=vni, flags=0x08) / ether(b, ts) for (t, b, ts, vni, src) in two])

# --- link types ------------------------------------------------------------------
BSSID, STA, GW = "02:00:00:00:aa:01", "02:00:00:00:aa:02", "02:00:00:00:aa:03"

def dot11(b, ts, qos=True):
    # The client is the station; the server behind the access point.
    if ts:
        h = Dot11(type=2, subtype=8 if qos else 0, FCfield="to-DS", addr1=BSSID, addr2=STA, addr3=GW)
    else:
        h = Dot11(type=2, subtype=8 if qos else 0, FCfield="from-DS", addr1=STA, addr2=BSSID, addr3=GW)
    if qos:
        h = h / Dot11QoS(TID=0)
    return h / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800 if b[0] >> 4 == 4 else 0x86dd) / inner(b)

def with_extras(packets, frames, extra):
    """Insert frames that are not TCP (a beacon, a protected data frame)
    after the first packet."""
    t0 = packets[0][0]
    ps = [packets[0]] + [(t0 + 0.00001 * (i + 1), b"", False) for i in range(len(extra))] + packets[1:]
    fs = [frames[0]] + extra + frames[1:]
    return ps, fs

beacon = Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=BSSID, addr3=BSSID) / Raw(b"\x00" * 12)
protected = Dot11(type=2, subtype=8, FCfield="to-DS+protected", addr1=BSSID, addr2=STA, addr3=GW) / \
    Dot11QoS() / Raw(b"\x11" * 8 + b"\x42" * 60)
rt = lambda: RadioTap(present="Flags+Rate+Channel", Flags=0, Rate=108, ChannelFrequency=5180, ChannelFlags=0x140)

frames = [rt() / dot11(b, ts) for (_, b, ts) in P4]
ps, fs = with_extras(P4, frames, [rt() / beacon, rt() / protected])
write("wifi-radiotap", 127, ps, fs)
write("wifi-plain", 105, P4, [dot11(b, ts, qos=False) for (_, b, ts) in P4])
write("wifi-ppi", 192, P4, [PPI(dlt=105) / dot11(b, ts) for (_, b, ts) in P4])
write("wifi-prism", 119, P4, [PrismHeader() / dot11(b, ts) for (_, b, ts) in P4])

def avs(b, ts):
    # AVS capture frame header version 2: magic/version and its length
    # (64 bytes), big-endian, then fields this test leaves zero.
    return struct.pack(">II", 0x80211001, 64) + b"\x00" * 56 + bytes(dot11(b, ts))
write("wifi-avs", 163, P4, [avs(b, ts) for (_, b, ts) in P4])

write("ppp", 9, P4, [bytes(HDLC(address=0xff, control=3) / PPP(proto=0x0021) / inner(b)) for (_, b, ts) in P4])
write("ppp-hdlc", 50, P4, [b"\xff\x03\x00\x21" + b for (_, b, ts) in P4])
write("chdlc", 104, P4, [(b"\x0f" if ts else b"\x8f") + b"\x00\x08\x00" + b for (_, b, ts) in P4])
# Frame Relay, RFC 2427: DLCI 100 (Q.922 address 0x18 0x41), UI, NLPID IPv4.
write("frelay", 107, P4, [b"\x18\x41\x03\xcc" + b for (_, b, ts) in P4])

def pktap(b, ts):
    # macOS PKTAP header (little-endian, 108 bytes as macOS writes it):
    # length, type_next (1: packet), the DLT inside (1: Ethernet), if name.
    h = struct.pack("<III", 108, 1, 1) + b"en0".ljust(24, b"\x00")
    h += struct.pack("<IIII", 0, 2, 0, 0) + struct.pack("<i", 4242) + b"curl".ljust(17, b"\x00")
    h = h.ljust(108, b"\x00")
    return h + bytes(ether(b, ts))
write("pktap", 258, P4, [pktap(b, ts) for (_, b, ts) in P4])

def ipnet(b, ts):
    # Solaris ipnet: version 1, family 2 (IPv4), htype, packet length,
    # ifindex, group ifindex, zones: 24 bytes, big-endian.
    return struct.pack(">BBHIIIII", 1, 2, 0, len(b), 2, 0, 0, 0) + b
write("ipnet", 226, P4, [ipnet(b, ts) for (_, b, ts) in P4])
# IP over InfiniBand: a Global Route Header (IB spec 8.3: IPVer 6, payload
# length, next header 0x1b, hop limit, source and destination GIDs) before
# the RFC 4391 header (EtherType, reserved), as Wireshark reads the link type.
def ipoib(b, ts):
    gid_c, gid_s = bytes.fromhex("fe800000000000000002c90300000001"), bytes.fromhex("fe800000000000000002c90300000002")
    sgid, dgid = (gid_c, gid_s) if ts else (gid_s, gid_c)
    grh = struct.pack(">IHBB", 0x60000000, len(b) + 4, 0x1b, 64) + sgid + dgid
    return grh + b"\x08\x00\x00\x00" + b
write("ipoib", 242, P4, [ipoib(b, ts) for (_, b, ts) in P4])
