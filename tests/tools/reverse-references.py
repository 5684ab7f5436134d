#!/usr/bin/env python3
"""Which TCP side sent each HTTP request, as tshark reads it.

    tests/tools/reverse-references.py CAPTURE PORT > tests/expected/reverse/NAME.tsv

tshark 4.0 (-d tcp.port==PORT,http: the capture's port is not one tshark
takes for HTTP) finds requests and responses by content in either
direction.  One row per request, in capture order: the TCP client's port
(the sender of the SYN), the request's sender (`client` or `server`, TCP
roles), method, target, and the status of the response that follows it on
the connection.  Python 3 standard library and tshark.
"""
import subprocess, sys

cap, port = sys.argv[1], sys.argv[2]
fields = ["tcp.stream", "tcp.srcport", "tcp.flags.syn", "tcp.flags.ack", "http.request.method",
          "http.request.uri", "http.response.code"]
cmd = ["tshark", "-r", cap, "-d", "tcp.port==%s,http" % port, "-o", "http.desegment_body:TRUE",
       "-T", "fields", "-E", "separator=\t"]
for f in fields:
    cmd += ["-e", f]
syn_from, rows, pending = {}, [], {}
for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
    stream, sport, syn, ack, method, uri, code = (line.split("\t") + [""] * 7)[:7]
    if syn == "1" and ack == "0":
        syn_from[stream] = sport
    if method:
        rows.append([stream, sport, method, uri, ""])
        pending.setdefault(stream, []).append(rows[-1])
    elif code and pending.get(stream):
        pending[stream].pop(0)[4] = code
print("# made by tests/tools/reverse-references.py from a tshark 4.0 reading of %s "
      "(-d tcp.port==%s,http); do not edit" % (cap, port))
print("client_port\tsent_by\tmethod\turi\tstatus")
for stream, sport, method, uri, code in rows:
    client = syn_from.get(stream, "")
    print("\t".join([client, "client" if sport == client else "server", method, uri, code]))
