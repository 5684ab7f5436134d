#!/usr/bin/env python3
"""tshark's reading of the captures of protocols that are not HTTP
(captures/generated/nonhttp/, made by captures/generated/make-nonhttp.sh):
one row per TCP stream, written to tests/expected/nonhttp/<capture name>.tsv.

Usage: tests/tools/nonhttp-references.py [--check] [CAPTURE.pcap ...]
       (default: every captures/generated/nonhttp/*.pcap; --check compares
       with the stored references instead of writing them, exit 1 on a
       difference)

How tshark (4.0) is run, three times per capture:
  1. the server port decoded as the protocol the capture is named for
     (`-d tcp.port==P,PROTO`: ftp-* ftp, smtp-* smtp, imap-* imap, pop3-*
     pop, irc-* irc); tshark follows FTP's passive data connections itself;
  2. plain, with `-Y http`: the frames tshark's own reading calls HTTP;
  3. the server port forced to HTTP (`-d tcp.port==P,http`): how many
     requests and responses tshark's HTTP dissector finds when told the
     stream is HTTP.
The server port is the destination of the capture's SYNs; a capture
without one (cut to begin inside the connection) begins with the
client's command, so it is the destination of its first data frame.

Columns:
  stream          tcp.stream
  client, server  ip:port (the server: the SYN's destination, else as above)
  syn             1 when the stream's SYN is in the capture
  first_sender    client or server: who sent the stream's first payload
  client_frames   frames with payload from the client
  protocol        the first layer above tcp in frame.protocols of the
                  stream's payload frames (run 1): ftp, ftp-data, smtp,
                  imap, pop, irc
  http_frames     frames of the stream matched by -Y http (run 2).  Not
                  always 0: tshark's HTTP-over-TCP heuristic (http_tcp)
                  takes the IRC stream for HTTP from the PRIVMSG whose text
                  is "GET / HTTP/1.1" on, as continuation data without a
                  request (with --disable-heuristic http_tcp: none)
  http_messages   of those, the frames with http.request or http.response
  http_requests   http.request frames with the port forced to HTTP (run 3)
  http_responses  http.response frames, the same way

Python 3 stdlib only; needs tshark.
"""
import glob
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CAPS = os.path.join(ROOT, "captures", "generated", "nonhttp")
REFS = os.path.join(ROOT, "tests", "expected", "nonhttp")
PROTO = {"ftp": "ftp", "smtp": "smtp", "imap": "imap", "pop3": "pop", "irc": "irc"}


def tshark(pcap, *args):
    r = subprocess.run(["tshark", "-r", pcap, *args], capture_output=True, text=True, check=True)
    return [l.split("\t") for l in r.stdout.splitlines() if l]


def reference(pcap):
    name = os.path.basename(pcap)[:-5]
    proto = PROTO[name.split("-")[0]]
    frames = tshark(pcap, "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport",
                    "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tcp.flags.syn",
                    "-e", "tcp.flags.ack", "-e", "tcp.len")
    syns = [f for f in frames if f[5] == "1" and f[6] == "0"]
    if syns:
        port = syns[0][4]
    else:
        port = next(f[4] for f in frames if int(f[7]) > 0)
    streams = {}
    for st, src, sport, dst, dport, syn, ack, length in frames:
        s = streams.setdefault(st, {"syn": 0, "first": None, "client_frames": 0, "server": None})
        if syn == "1" and ack == "0":
            s["syn"] = 1
            s["server"] = (dst, dport)
        if int(length) > 0 and s["first"] is None:
            s["first"] = (src, sport, dst, dport)
    for st, s in streams.items():
        if s["server"] is None:     # no SYN: the first data frame is the client's
            src, sport, dst, dport = s["first"]
            s["server"] = (dst, dport) if not syns else None
            if s["server"] is None:
                s["server"] = (dst, dport) if dport == port else (src, sport)
            s["client"] = (src, sport) if s["server"] == (dst, dport) else (dst, dport)
    for st, src, sport, dst, dport, syn, ack, length in frames:
        s = streams[st]
        if "client" not in s:
            s["client"] = (src, sport) if (dst, dport) == s["server"] else (dst, dport)
        if int(length) > 0 and (src, sport) == s["client"]:
            s["client_frames"] += 1
    layers = {}
    for st, protos in tshark(pcap, "-d", "tcp.port==%s,%s" % (port, proto), "-Y", "tcp.len > 0",
                             "-T", "fields", "-e", "tcp.stream", "-e", "frame.protocols"):
        parts = protos.split(":")
        above = parts[parts.index("tcp") + 1] if "tcp" in parts[:-1] else ""
        if above:
            layers.setdefault(st, set()).add(above)
    http_frames, http_messages = {}, {}
    for st, rq, rs in tshark(pcap, "-Y", "http", "-T", "fields", "-e", "tcp.stream",
                             "-e", "http.request", "-e", "http.response"):
        http_frames[st] = http_frames.get(st, 0) + 1
        http_messages[st] = http_messages.get(st, 0) + (rq == "1" or rs == "1")
    reqs, resps = {}, {}
    for st, rq, rs in tshark(pcap, "-d", "tcp.port==%s,http" % port, "-Y", "http",
                             "-T", "fields", "-e", "tcp.stream", "-e", "http.request",
                             "-e", "http.response"):
        reqs[st] = reqs.get(st, 0) + (rq == "1")
        resps[st] = resps.get(st, 0) + (rs == "1")
    rows = ["# made by tests/tools/nonhttp-references.py from a tshark 4.0 reading of "
            "captures/generated/nonhttp/%s.pcap (server port %s decoded as %s; -Y http; the port "
            "forced to http); do not edit" % (name, port, proto),
            "\t".join(["stream", "client", "server", "syn", "first_sender", "client_frames",
                       "protocol", "http_frames", "http_messages", "http_requests",
                       "http_responses"])]
    for st in sorted(streams, key=int):
        s = streams[st]
        first = "client" if s["first"] and s["first"][:2] == s["client"] else "server"
        rows.append("\t".join([st, "%s:%s" % s["client"], "%s:%s" % s["server"], str(s["syn"]),
                               first, str(s["client_frames"]),
                               ",".join(sorted(layers.get(st, []))),
                               str(http_frames.get(st, 0)), str(http_messages.get(st, 0)),
                               str(reqs.get(st, 0)),
                               str(resps.get(st, 0))]))
    return name, "\n".join(rows) + "\n"


def main():
    args = sys.argv[1:]
    check = "--check" in args
    pcaps = [a for a in args if a != "--check"] or sorted(glob.glob(os.path.join(CAPS, "*.pcap")))
    os.makedirs(REFS, exist_ok=True)
    bad = 0
    for pcap in pcaps:
        name, text = reference(pcap)
        path = os.path.join(REFS, name + ".tsv")
        if check:
            old = open(path).read() if os.path.exists(path) else None
            if old != text:
                print("differs: %s" % path)
                bad = 1
        else:
            with open(path, "w") as f:
                f.write(text)
            print("wrote %s" % path)
    return bad


if __name__ == "__main__":
    sys.exit(main())
