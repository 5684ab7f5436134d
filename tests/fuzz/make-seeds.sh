#!/usr/bin/env bash
# Make seed corpora under tests/fuzz/corpus/.
#
# tests/fuzz/make-seeds.sh [http1]: fuzz_http1's, from real captures: each
# direction of the first TCP streams of a few HTTP captures, as tshark
# reassembles them ("follow,tcp,raw"), behind fuzz_http1's three control
# bytes (requests or responses, eof at the end, default limits).  Needs
# tshark and python3.  Writes tests/fuzz/corpus/http1/.
#
# tests/fuzz/make-seeds.sh decode: fuzz_decode's, built byte by byte: a
# TCP segment (or a fragment of one) in every link type and tunnel the
# decoder reads, one small frame each, behind the byte that picks the link
# type (its index in fuzz_decode.c's fuzz_linktypes[]).  Needs python3.
# Writes tests/fuzz/corpus/decode/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "${1:-http1}" = decode ]; then
	python3 - "$root/tests/fuzz/corpus/decode" <<'PY'
import os, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

# Indexes in fuzz_linktypes[] (tests/fuzz/fuzz_decode.c).
EN10MB, SLL, SLL2, RAW, LT_RAW, IPV4, IPV6, NULL, LOOP, NFLOG = range(10)
W80211, RADIOTAP, AVS, PRISM, PPI, PPP, PPP_SERIAL, PPP_PPPD = range(10, 18)
PPP_WITH_DIR, PPP_ETHER, C_HDLC, FRELAY, ATM, MPLS, PKTAP, IPNET = range(18, 26)
IPOIB, ENC, PFLOG, NETANALYZER, NETANALYZER_T = range(26, 31)

be16 = lambda v: struct.pack(">H", v)
be32 = lambda v: struct.pack(">I", v)
le16 = lambda v: struct.pack("<H", v)
le32 = lambda v: struct.pack("<I", v)

SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
OA4, OB4 = bytes([203, 0, 113, 1]), bytes([203, 0, 113, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")
OA6 = bytes.fromhex("20010db8ff00000000000000000000a1")
OB6 = bytes.fromhex("20010db8ff00000000000000000000b2")

def tcp(flags=0x18, payload=b"GET / HTTP/1.1\r\n\r\n", syn_opts=False):
    opts = b""
    if syn_opts:   # MSS, SACK permitted, timestamps, NOP, window scale
        opts = bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
        flags, payload = 0x02, b""
    else:
        opts = bytes([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2])
    doff = (20 + len(opts)) // 4
    return (be16(40000) + be16(80) + be32(0x11223344) + be32(0x55667788 if flags & 0x10 else 0)
            + bytes([doff << 4, flags]) + be16(0xfaf0) + be16(0) + be16(0) + opts + payload)

def ip4(proto, payload, src=SRC4, dst=DST4, ident=0x1234, frag=0x4000):
    return (bytes([0x45, 0]) + be16(20 + len(payload)) + be16(ident) + be16(frag)
            + bytes([64, proto]) + be16(0) + src + dst + payload)

def ip6(nh, payload, src=SRC6, dst=DST6):
    return be32(0x60000000) + be16(len(payload)) + bytes([nh, 64]) + src + dst + payload

def tcp4(**kw):
    return ip4(6, tcp(**kw))

def tcp6(**kw):
    return ip6(6, tcp(**kw))

MACS = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])

def eth(etype, payload):
    return MACS + be16(etype) + payload

def udp(dport, payload, sport=50000):
    return be16(sport) + be16(dport) + be16(8 + len(payload)) + be16(0) + payload

def outer4(proto, payload):
    return eth(0x0800, ip4(proto, payload, OA4, OB4, 0x0101))

def outer6(nh, payload):
    return eth(0x86dd, ip6(nh, payload, OA6, OB6))

def vxlan(vni, inner):
    return bytes([0x08, 0, 0, 0]) + be32(vni << 8) + inner

def gre(flags, proto, key=None, seq=None, ack=None):
    h = be16(flags) + be16(proto)
    if flags & 0xc000:
        h += be32(0)
    if key is not None:
        h += be32(key)
    if seq is not None:
        h += be32(seq)
    if ack is not None:
        h += be32(ack)
    return h

LLC_SNAP_IP4 = bytes([0xaa, 0xaa, 3, 0, 0, 0, 8, 0])
LLC_SNAP_IP6 = bytes([0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd])

def wlan(fc0, fc1, body, qc0=0):
    h = bytes([fc0, fc1]) + be16(0x2c00)
    for a in (1, 2, 3):
        h += bytes([2, 0, 0, 0, 0xaa, a])
    h += be16(0x1230)
    if fc1 & 3 == 3:
        h += bytes([2, 0, 0, 0, 0xaa, 4])
    if fc0 & 0x80:
        h += bytes([qc0, 0])
        if fc1 & 0x80:
            h += be32(0)
    return h + body

seeds = {}
def seed(name, idx, frame):
    seeds[name] = bytes([idx]) + frame

# ---- the link types decoded before, one each
seed("eth-ipv4", EN10MB, eth(0x0800, tcp4()))
seed("eth-ipv6-syn", EN10MB, eth(0x86dd, tcp6(syn_opts=True)))
seed("eth-vlan-mpls", EN10MB, MACS + be16(0x8100) + be16(100) + be16(0x8847) + be32(3000 << 12 | 0x100 | 64) + tcp4())
seed("eth-pppoe", EN10MB, eth(0x8864, bytes([0x11, 0]) + be16(1) + be16(2 + 52) + be16(0x0021) + tcp4()))
seed("sll", SLL, be16(0) + be16(1) + be16(6) + MACS[:8] + be16(0x0800) + tcp4())
seed("sll2", SLL2, be16(0x86dd) + be16(0) + be32(3) + be16(1) + bytes([4, 6]) + MACS[:8] + tcp6())
seed("raw", RAW, tcp4())
seed("linktype-raw", LT_RAW, tcp6())
seed("ipv4", IPV4, tcp4())
seed("ipv6-ext", IPV6, ip6(0, bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp()))
seed("null", NULL, le32(2) + tcp4())
seed("loop", LOOP, be32(30) + tcp6())
pl = tcp4()
seed("nflog", NFLOG, bytes([2, 0]) + be16(5) + le16(8) + le16(1) + bytes([8, 0, 3, 0])
     + le16(4 + len(pl)) + le16(9) + pl)

# ---- tunnels (Ethernet)
seed("vxlan", EN10MB, outer4(17, udp(4789, vxlan(0x123456, eth(0x0800, tcp4())))))
seed("vxlan-8472-ipv6", EN10MB, outer6(17, udp(8472, vxlan(7, eth(0x86dd, tcp6())))))
seed("geneve-opt", EN10MB, outer4(17, udp(6081, bytes([2, 0x40]) + be16(0x6558) + be32(0xabcdef << 8)
                                          + be16(0x0102) + bytes([0x80, 1]) + be32(0) + eth(0x0800, tcp4()))))
seed("geneve-ip", EN10MB, outer4(17, udp(6081, bytes([0, 0]) + be16(0x86dd) + be32(9 << 8) + tcp6())))
seed("gre", EN10MB, outer4(47, gre(0, 0x0800) + tcp4()))
seed("gre-csum-key-seq", EN10MB, outer4(47, gre(0xb000, 0x0800, key=0xfeedf00d, seq=1) + tcp4()))
seed("gre-ipv6-over-ipv6", EN10MB, outer6(47, gre(0x2000, 0x86dd, key=1) + tcp6()))
seed("gre-mpls", EN10MB, outer4(47, gre(0, 0x8847) + be32(500 << 12 | 64) + be32(501 << 12 | 0x100 | 64) + tcp4()))
seed("gre-teb-vlan", EN10MB, outer4(47, gre(0x2000, 0x6558, key=2) + MACS + be16(0x8100) + be16(200)
                                    + be16(0x0800) + tcp4()))
ppp_body = bytes([0xff, 3]) + be16(0x0021) + tcp4()
seed("pptp", EN10MB, outer4(47, gre(0x3081, 0x880b, key=len(ppp_body) << 16 | 0x4242, seq=77, ack=76) + ppp_body))
seed("erspan-1", EN10MB, outer4(47, gre(0, 0x88be) + eth(0x0800, tcp4())))
seed("erspan-2", EN10MB, outer4(47, gre(0x1000, 0x88be, seq=1000) + be16(0x1064)
                                + be16(5 << 13 | 3 << 11 | 1 << 10 | 0x2a5) + be32(0xfffff) + eth(0x86dd, tcp6())))
def erspan3(ft, sub, inner):
    h = be16(0x20ab) + be16(7 << 13 | 0x155) + be32(0x5e5e5e5e) + be16(0xfe01)
    h += be16(1 << 15 | ft << 10 | 0x2b << 4 | 1 << 3 | 3 << 1 | (1 if sub else 0))
    if sub:
        h += be32(0x08004500) + be32(0)
    return outer4(47, gre(0x1000, 0x22eb, seq=5) + h + inner)
seed("erspan-3-sub", EN10MB, erspan3(0, True, eth(0x0800, tcp4())))
seed("erspan-3-ip", EN10MB, erspan3(2, False, tcp6()))
def gtpu(flags, body, teid=0xdeadbeef, mtype=0xff):
    return outer4(17, udp(2152, bytes([flags, mtype]) + be16(len(body)) + be32(teid) + body, sport=2152))
seed("gtpu", EN10MB, gtpu(0x30, tcp4()))
seed("gtpu-seq", EN10MB, gtpu(0x32, be16(1) + bytes([0, 0]) + tcp4()))
seed("gtpu-ext2", EN10MB, gtpu(0x36, be16(0x1234) + bytes([0, 0x40, 1]) + be16(2152) + bytes([0x85, 2, 0x45])
                               + be32(0x45000000) + bytes([0x45, 0]) + tcp6()))
seed("gtpu-echo", EN10MB, gtpu(0x32, be16(1) + bytes([0, 0]), mtype=1))
seed("ipip-4in4", EN10MB, outer4(4, tcp4()))
seed("ipip-6in4", EN10MB, outer4(41, tcp6()))
seed("ipip-4in6", EN10MB, outer6(4, tcp4()))
seed("ipip-6in6", EN10MB, outer6(41, tcp6()))
mid = ip4(17, udp(4789, vxlan(77, eth(0x0800, tcp4()))), OA4, OB4, 7, 0)
seed("nested-gre-vxlan", EN10MB, outer6(47, gre(0x2000, 0x0800, key=0x999) + mid))
deep = tcp4()
for i in range(4):
    deep = ip4(4, deep, bytes([10, 0, i, 1]), bytes([10, 0, i, 2]), i, 0)
seed("ipip-depth-4", RAW, deep)
seed("eth-8023-snap", EN10MB, MACS + be16(8 + len(tcp4())) + LLC_SNAP_IP4 + tcp4())

# ---- fragments
seg = tcp(payload=bytes(range(64, 164)))
seed("frag-ipv4-first", EN10MB, eth(0x0800, ip4(6, seg[:48], ident=0x4d2e, frag=0x2000)))
seed("frag-ipv4-last", EN10MB, eth(0x0800, ip4(6, seg[48:], ident=0x4d2e, frag=6)))
seed("frag-ipv6-hbh", EN10MB, eth(0x86dd, ip6(0, bytes([44, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0]) + be16(1)
                                               + be32(0xcafe0001) + seg[:64])))
seed("frag-whole-in-one", EN10MB, eth(0x0800, ip4(6, seg, frag=0x2000)))
vx = udp(4789, vxlan(0x7777, eth(0x0800, tcp4())))
seed("frag-vxlan-udp", EN10MB, eth(0x0800, ip4(17, vx, OA4, OB4, 0x0bad, 0x2000)))
seed("frag-inside-vxlan", EN10MB, outer4(17, udp(4789, vxlan(31, eth(0x0800, ip4(6, seg[:40], frag=0x2000))))))

# ---- 802.11 and its headers
w_plain = wlan(0x08, 0x01, LLC_SNAP_IP4 + tcp4())
w_qos = wlan(0x88, 0x81, LLC_SNAP_IP6 + tcp6())
seed("wlan-data", W80211, w_plain)
seed("wlan-qos-htc", W80211, w_qos)
seed("wlan-wds", W80211, wlan(0x08, 0x03, LLC_SNAP_IP4 + tcp4()))
amsdu = LLC_SNAP_IP4 + tcp4()
seed("wlan-amsdu", W80211, wlan(0x88, 0x02, MACS + be16(len(amsdu)) + amsdu, qc0=0x80))
seed("wlan-protected", W80211, wlan(0x08, 0x41, be32(0x01002000) + be32(0) + bytes(40)))
rt = bytes([0, 0]) + le16(26) + le32(0x80000007) + le32(0x80000000) + le32(0) + bytes(8) + bytes([0x10, 2])
seed("radiotap-ext", RADIOTAP, rt + w_plain + be32(0))
rt1 = bytes([0, 0]) + le16(18) + le32(7) + bytes(8) + bytes([0, 2])
seed("radiotap", RADIOTAP, rt1 + w_qos)
seed("avs", AVS, be32(0x80211001) + be32(64) + bytes(56) + w_plain)
seed("prism", PRISM, le32(0x44) + le32(144) + b"wlan0".ljust(16, b"\0") + bytes(120) + w_plain)
seed("ppi", PPI, bytes([0, 0]) + le16(32) + le32(105) + le16(2) + le16(20) + bytes(20) + w_qos)

# ---- PPP, HDLC, Frame Relay, others
seed("ppp", PPP, bytes([0xff, 3, 0, 0x21]) + tcp4())
seed("ppp-pfc", PPP, bytes([0x57]) + tcp6())
seed("ppp-serial", PPP_SERIAL, bytes([0xff, 3, 0, 0x57]) + tcp6())
seed("ppp-serial-chdlc", PPP_SERIAL, bytes([0x0f, 0, 8, 0]) + tcp4())
seed("ppp-pppd", PPP_PPPD, bytes([1, 3, 0, 0x21]) + tcp4())
seed("ppp-with-dir", PPP_WITH_DIR, bytes([1, 0xff, 3, 0, 0x21]) + tcp4())
seed("ppp-ether", PPP_ETHER, bytes([0x11, 0, 0x12, 0x34, 0, 0x3a, 0, 0x21]) + tcp4())
seed("c-hdlc", C_HDLC, bytes([0x8f, 0, 0x86, 0xdd]) + tcp6())
seed("frelay-nlpid", FRELAY, bytes([0x18, 0x41, 3, 0xcc]) + tcp4())
seed("frelay-snap", FRELAY, bytes([0x18, 0x41, 3, 0, 0x80, 0, 0, 0, 0x86, 0xdd]) + tcp6())
seed("frelay-cisco", FRELAY, bytes([0x18, 0x41, 8, 0]) + tcp4())
seed("atm", ATM, LLC_SNAP_IP4 + tcp4())
seed("mpls", MPLS, be32(100 << 12 | 64) + be32(200 << 12 | 0x100 | 64) + tcp6())
seed("pktap", PKTAP, le32(108) + le32(1) + le32(1) + b"en0".ljust(24, b"\0") + bytes(72) + eth(0x0800, tcp4()))
seed("ipnet", IPNET, bytes([1, 26]) + be16(0) + be32(72) + be32(2) + bytes(12) + tcp6())
seed("ipoib", IPOIB, bytes([8, 0, 0, 0]) + tcp4())
seed("ipoib-pseudo", IPOIB, be32(0x48) + be32(0xfe800000) + bytes(12) + bytes([0x86, 0xdd, 0, 0]) + tcp6())
seed("enc", ENC, le32(2) + be32(0x1001) + be32(3) + tcp4())
seed("pflog", PFLOG, bytes([61, 24, 0, 0]) + b"em0".ljust(16, b"\0") + bytes(16) + bytes(24)
     + bytes([1, 0, 0, 0]) + tcp6())
seed("netanalyzer", NETANALYZER, be32(0x12345678) + eth(0x0800, tcp4()) + be32(0xfcfcfcfc))
seed("netanalyzer-transparent", NETANALYZER_T, be32(0x12345678) + bytes([0x55] * 7 + [0xd5])
     + eth(0x86dd, tcp6()) + be32(0xfcfcfcfc))

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(len(seeds))
PY
	exit 0
fi
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
