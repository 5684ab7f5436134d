#!/usr/bin/env python3
"""Connection attempts nothing answered, as tshark reads a capture.

    tests/tools/attempts-references.py CAPTURE > tests/expected/attempts/NAME.tsv

tshark 4.0 numbers TCP conversations (tcp.stream).  A stream whose every
packet is a SYN without ACK, payload, FIN or RST, all from one address and
port, is an attempt nothing answered; the others are connections.  After a
comment and a header, rows of eight columns: `connections` with the number
of streams that are not such attempts in `count`, then one `attempts` row
per (client address, server address, server port) that made attempts, in
order of its first SYN: streams, SYNs, first and last SYN (epoch seconds,
microseconds).  Addresses
as tshark prints them.  Python 3 standard library and tshark.
"""
import subprocess, sys

cap = sys.argv[1]
fields = ["tcp.stream", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
          "tcp.flags.reset", "tcp.len"]
cmd = ["tshark", "-r", cap, "-Y", "tcp", "-T", "fields", "-E", "separator=\t"]
for f in fields:
    cmd += ["-e", f]
streams = {}
order = []
for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
    st, t, s4, s6, d4, d6, sp, dp, syn, ack, fin, rst, ln = (line.split("\t") + [""] * 13)[:13]
    src, dst = s4 or s6, d4 or d6
    bare_syn = syn == "1" and ack == "0" and fin == "0" and rst == "0" and ln in ("0", "")
    if st not in streams:
        streams[st] = {"from": (src, sp), "to": (dst, dp), "only_syn": True, "syns": 0,
                       "first": t, "last": t}
        order.append(st)
    s = streams[st]
    if not bare_syn or (src, sp) != s["from"]:
        s["only_syn"] = False
    s["syns"] += 1
    s["last"] = t
conns = sum(1 for k in order if not streams[k]["only_syn"])
print("# tshark's reading of %s (tests/tools/attempts-references.py)" % cap)
print("row\tclient\tserver\tport\tcount\tsyns\tfirst\tlast")
print("connections\t\t\t\t%d\t\t\t" % conns)
groups = {}
gorder = []
for k in order:
    s = streams[k]
    if not s["only_syn"]:
        continue
    key = (s["from"][0], s["to"][0], s["to"][1])
    if key not in groups:
        groups[key] = [0, 0, s["first"], s["last"]]
        gorder.append(key)
    g = groups[key]
    g[0] += 1
    g[1] += s["syns"]
    g[2] = min(g[2], s["first"], key=float)
    g[3] = max(g[3], s["last"], key=float)
for key in gorder:
    g = groups[key]
    print("attempts\t%s\t%s\t%s\t%d\t%d\t%.6f\t%.6f" % (key[0], key[1], key[2], g[0], g[1],
                                                         float(g[2]), float(g[3])))
