#!/usr/bin/env python3
"""Independent per-connection reference for kalens, computed by tshark.

Usage: tshark-conns.py CAPTURE [--name NAME]

Runs tshark (single pass, TCP desegmentation off) over CAPTURE, groups the TCP
packets by tshark's tcp.stream index (one stream = one connection; tshark starts
a new stream when a SYN with a different ISN reuses a 5-tuple) and prints one
TSV row per connection, with the rules kalens uses:

  client  = sender of a SYN without ACK; else the receiver of a SYN+ACK; else
            the endpoint with the higher port (tie: source of the first packet)
  syn_seen = 1 when the client's SYN (SYN without ACK) is in the capture
  packets_to_* = every TCP packet of the stream in that direction
  bytes_to_*   = sum of tcp.len (payload length by the IP length, so
                 snaplen-cut packets count in full; retransmissions included)
  close_kind   = 'rst' or 'fin' from the FIRST packet carrying FIN or RST
                 (both flags -> 'rst'); 'open' if none. close_initiator is the
                 direction of that packet, empty when open.
  handshake_rtt = tcp.analysis.initial_rtt (first value seen in the stream),
                  left empty when the stream has no SYN-ACK: tshark measures its
                  iRTT from the most recent SYN to the first non-SYN packet with
                  ACK in either direction, so a SYN answered by RST+ACK
                  (connection refused) gets an "iRTT" from tshark. With a
                  retransmitted SYN, tshark measures from the LAST SYN; a note
                  says so.
  first_seen / last_seen = frame.time_epoch of the first / last packet

Which IP header: the display filter is `tcp && !icmp && !icmpv6`, so ICMP
errors that quote a TCP header are not counted at all. When a packet has
several IP headers (a tunnel: IP-in-IP, GRE, 6in4, ...), the header that
carries the TCP segment is the LAST ip/ipv6 layer before 'tcp' in
frame.protocols, and its addresses are the last values of ip.src/ip.dst (or
ipv6.src/ipv6.dst). IPv6 addresses are printed by the C library's inet_ntop.

Packets that tshark does not dissect as TCP (for instance a TCP header cut by
the snaplen) are not counted.

Lines starting with '#' after the column header are notes (for example a
stream that is idle for more than 900 s, kalens's idle timeout, in the middle
of the capture: kalens would close it as 'idle' and may split it).
Python 3 standard library only.
"""
import os
import socket
import subprocess
import sys

IDLE_TIMEOUT = 900.0

FIELDS = [
    "tcp.stream", "frame.time_epoch",
    "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
    "tcp.srcport", "tcp.dstport",
    "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset",
    "tcp.len", "tcp.seq_raw", "tcp.analysis.initial_rtt",
    "frame.protocols", "frame.number",
]

COLUMNS = ["client_ip", "client_port", "server_ip", "server_port", "ip_version",
           "syn_seen", "packets_to_server", "packets_to_client",
           "bytes_to_server", "bytes_to_client", "close_initiator",
           "close_kind", "handshake_rtt", "first_seen", "last_seen"]


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True,
                         text=True, check=True).stdout
    # "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)."
    first = out.splitlines()[0]
    parts = first.split()
    return parts[2] if len(parts) > 2 else first


def flag(v):
    v = last(v)
    return v in ("1", "True", "true")


def last(v):
    """tshark joins repeated occurrences with ','; take the last one."""
    if v == "":
        return v
    return v.split(",")[-1]


def norm_ip6(a):
    return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, a))


def run_tshark(path):
    cmd = ["tshark", "-n", "-r", path,
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-Y", "tcp && !icmp && !icmpv6",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("tshark failed on %s (exit %d)" % (path, p.returncode))
    return p.stdout


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.pkts = []   # one dict per packet, in capture order
        self.ipver = None
        self.irtt = ""
        self.irtt_frame = ""
        self.irtt_flags = ""


def parse(path, notes):
    streams = {}
    order = []
    for line in run_tshark(path).splitlines():
        if not line.strip():
            continue
        c = line.split("\t")
        if len(c) < len(FIELDS):
            c += [""] * (len(FIELDS) - len(c))
        d = dict(zip(FIELDS, c))
        protos = d["frame.protocols"].split(":")
        # the IP layer carrying this TCP header: last ip/ipv6 before the last tcp
        try:
            ti = len(protos) - 1 - protos[::-1].index("tcp")
        except ValueError:
            ti = len(protos)
        iplayer = None
        for p in protos[:ti]:
            if p in ("ip", "ipv6"):
                iplayer = p
        nip = sum(1 for p in protos[:ti] if p in ("ip", "ipv6"))
        if nip > 1:
            notes.add("some packets have %d IP headers (tunnel): the innermost "
                      "one (the one carrying TCP) is used, e.g. frame %s (%s)"
                      % (nip, d["frame.number"], d["frame.protocols"]))
        if iplayer == "ip":
            src, dst, ver = last(d["ip.src"]), last(d["ip.dst"]), 4
        elif iplayer == "ipv6":
            src, dst, ver = norm_ip6(last(d["ipv6.src"])), norm_ip6(last(d["ipv6.dst"])), 6
        else:
            raise SystemExit("%s: frame %s has TCP without IP (%s)"
                             % (path, d["frame.number"], d["frame.protocols"]))
        if len(d["tcp.stream"].split(",")) > 1:
            notes.add("frame %s has several TCP headers; the last one is used"
                      % d["frame.number"])
        sid = int(last(d["tcp.stream"]))
        s = streams.get(sid)
        if s is None:
            s = streams[sid] = Stream(sid)
            order.append(sid)
        s.ipver = ver
        t = d["frame.time_epoch"]
        s.pkts.append(dict(t=t, tf=float(t), src=src, dst=dst,
                           sport=int(last(d["tcp.srcport"])),
                           dport=int(last(d["tcp.dstport"])),
                           syn=flag(d["tcp.flags.syn"]), ack=flag(d["tcp.flags.ack"]),
                           fin=flag(d["tcp.flags.fin"]), rst=flag(d["tcp.flags.reset"]),
                           len=int(last(d["tcp.len"]) or 0),
                           frame=d["frame.number"]))
        if not s.irtt and last(d["tcp.analysis.initial_rtt"]):
            s.irtt = last(d["tcp.analysis.initial_rtt"])
            s.irtt_frame = d["frame.number"]
            s.irtt_flags = "".join(n for n, k in (("S", "tcp.flags.syn"), ("A", "tcp.flags.ack"),
                                                  ("F", "tcp.flags.fin"), ("R", "tcp.flags.reset"))
                                   if flag(d[k]))
    return [streams[i] for i in order]


def ep(addr, port):
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def summarize(s, notes):
    p0 = s.pkts[0]
    a = (p0["src"], p0["sport"])
    b = (p0["dst"], p0["dport"])
    syn = next((p for p in s.pkts if p["syn"] and not p["ack"]), None)
    synack = next((p for p in s.pkts if p["syn"] and p["ack"]), None)
    if syn is not None:
        client = (syn["src"], syn["sport"])
        syn_seen = 1
    elif synack is not None:
        client = (synack["dst"], synack["dport"])
        syn_seen = 0
    else:
        syn_seen = 0
        if a[1] > b[1]:
            client = a
        elif b[1] > a[1]:
            client = b
        else:
            client = a
    server = b if client == a else a
    row = dict(client_ip=client[0], client_port=client[1],
               server_ip=server[0], server_port=server[1],
               ip_version=s.ipver, syn_seen=syn_seen,
               packets_to_server=0, packets_to_client=0,
               bytes_to_server=0, bytes_to_client=0,
               close_initiator="", close_kind="open",
               handshake_rtt=s.irtt, first_seen=p0["t"], last_seen=s.pkts[-1]["t"])
    if row["handshake_rtt"] and synack is None:
        # tshark's iRTT is "most recent SYN -> first packet with ACK and without
        # SYN", in either direction, so a SYN answered by RST+ACK gets an iRTT.
        # kalens's handshake RTT needs the SYN-ACK, so drop it here.
        notes.add("stream %d (%s -> %s): tshark gives iRTT %s but there is no "
                  "SYN-ACK (the ACK it measured to is frame %s, flags %s); "
                  "handshake_rtt left empty"
                  % (s.sid, ep(*client), ep(*server), s.irtt,
                     s.irtt_frame, s.irtt_flags))
        row["handshake_rtt"] = ""
    syns = [p for p in s.pkts if p["syn"] and not p["ack"]]
    if len(syns) > 1:
        notes.add("stream %d (%s -> %s): %d SYNs without ACK (frames %s); tshark's "
                  "iRTT is measured from the LAST one (%.6f s after the first)"
                  % (s.sid, ep(*client), ep(*server), len(syns),
                     ",".join(p["frame"] for p in syns), syns[-1]["tf"] - syns[0]["tf"]))
    if syn is not None and synack is not None and synack["tf"] < syn["tf"]:
        notes.add("stream %d (%s -> %s): the SYN-ACK (frame %s) comes before the "
                  "SYN (frame %s) in capture order"
                  % (s.sid, ep(*client), ep(*server),
                     synack["frame"], syn["frame"]))
    closed = False
    prev = None
    for p in s.pkts:
        to_server = (p["src"], p["sport"]) == client
        if to_server:
            row["packets_to_server"] += 1
            row["bytes_to_server"] += p["len"]
        else:
            row["packets_to_client"] += 1
            row["bytes_to_client"] += p["len"]
        if not closed and (p["fin"] or p["rst"]):
            closed = True
            row["close_kind"] = "rst" if p["rst"] else "fin"
            row["close_initiator"] = "client" if to_server else "server"
        if prev is not None and p["tf"] - prev["tf"] > IDLE_TIMEOUT:
            notes.add("stream %d (%s -> %s) is idle for %.3f s (> %d s) "
                      "between frames %s and %s"
                      % (s.sid, ep(*client), ep(*server),
                         p["tf"] - prev["tf"], IDLE_TIMEOUT, prev["frame"], p["frame"]))
        prev = p
    return row


def main():
    args = sys.argv[1:]
    name = None
    if "--name" in args:
        i = args.index("--name")
        name = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write("usage: tshark-conns.py CAPTURE [--name NAME]\n")
        return 2
    path = args[0]
    notes = set()
    rows = [summarize(s, notes) for s in parse(path, notes)]
    # first_seen strings all come from tshark with the same precision; sort numerically
    rows.sort(key=lambda r: (float(r["first_seen"]), r["client_port"]))
    out = sys.stdout
    out.write("# made by tests/tools/tshark-conns.py from tshark %s reading %s; do not edit\n"
              % (tshark_version(), name or path))
    out.write("\t".join(COLUMNS) + "\n")
    for r in rows:
        out.write("\t".join(str(r[c]) for c in COLUMNS) + "\n")
    for n in sorted(notes):
        out.write("# note: %s\n" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
