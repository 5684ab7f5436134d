#!/usr/bin/env python3
"""tshark's reading of the HTTP/2 streams in a capture, one row per stream
that carried a request:

    client_port  stream_id  method  path  authority  status

Usage: tests/tools/http2-references.py CAPTURE > tests/expected/http2/NAME.streams.tsv
       tests/tools/make-http2-references.sh   (all of them)

tshark (-T json --no-duplicate-keys) reads the capture with the key log
beside it (X.keylog or X.keys.txt, -o tls.keylog_file:) and with every
server port of the capture decoded as HTTP/2 (-d tcp.port==P,http2: a
cleartext prior-knowledge connection is not found by tshark's heuristics),
when the capture has the preface and no "Upgrade: h2c" (forcing HTTP/2 would
hide an upgrade's HTTP/1.1 part).  Per TCP connection and HTTP/2 stream: the pseudo-header
fields of the client's HEADERS frames, and the first :status of 200 or more
of the server's (1xx are interim).  After an "Upgrade: h2c" and a 101, stream
1 is the HTTP/1.1 request that asked for it (RFC 7540 §3.2): its method and
path are that request's, as tshark read them.  A server push: the promised
stream's request fields are those of the PUSH_PROMISE.  Rows in the order the TCP
connections began, then the order the streams first appear.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def L(v):
    return v if isinstance(v, list) else [v]


def tshark(args):
    return subprocess.run(["tshark"] + args, capture_output=True, text=True, check=True).stdout


def main():
    cap = sys.argv[1]
    path = os.path.join(ROOT, cap)
    stem = path.rsplit(".", 1)[0]
    opts = []
    for k in (stem + ".keylog", stem + ".keys.txt"):
        if os.path.exists(k):
            opts += ["-o", "tls.keylog_file:" + k]
    ports = set(int(p) for p in tshark(["-r", path, "-Y", "tcp.flags.syn == 1 && "
                                          "tcp.flags.ack == 0", "-T", "fields", "-e",
                                          "tcp.dstport"]).split())
    # Prior knowledge (the connection preface, "PRI * HTTP/2.0", hex
    # 505249202a20485454502f322e30) is not found by tshark's heuristics.
    preface = tshark(["-r", path, "-Y", "tcp.payload", "-T", "fields", "-e",
                      "tcp.payload"]).lower()
    # (An h2c upgrade sends the preface too, after the 101: no forcing then.)
    if "505249202a20485454502f322e30" in preface and "557067726164653a20683263" not in preface:
        for p in sorted(ports):
            opts += ["-d", "tcp.port==%d,http2" % p]
    out = tshark(["-r", path] + opts + ["-Y", "http2 || http", "-T", "json",
                                        "--no-duplicate-keys"])
    pkts = json.loads(out) if out.strip() else []
    # Server ports: from the SYNs, and (a capture may begin after them) the
    # destination of HTTP/1 requests and of the HTTP/2 connection preface.
    for pk in pkts:
        ly = pk["_source"]["layers"]
        dport = int(ly["tcp"]["tcp.dstport"])
        for h in L(ly.get("http", [])) + L(ly.get("http2", [])):
            if isinstance(h, dict) and ("http2.magic" in json.dumps(h) or any(
                    isinstance(v, dict) and "http.request.method" in v for v in h.values())):
                ports.add(dport)
    streams = {}     # (tcp stream, h2 stream) -> row
    order = []
    first = {}       # tcp stream -> first frame time
    upgrade_req = {}  # tcp stream -> (method, uri) of the request answered by 101
    last_req = {}
    for pk in pkts:
        ly = pk["_source"]["layers"]
        tcp = ly["tcp"]
        ts = int(L(tcp["tcp.stream"])[0])
        first.setdefault(ts, float(ly["frame"]["frame.time_epoch"]))
        sport, dport = int(tcp["tcp.srcport"]), int(tcp["tcp.dstport"])
        for h in L(ly.get("http", [])):
            if not isinstance(h, dict):
                continue
            for k, v in h.items():
                if isinstance(v, dict) and "http.request.method" in v:
                    last_req[ts] = (v["http.request.method"], v.get("http.request.uri", ""))
                if isinstance(v, dict) and v.get("http.response.code") == "101":
                    upgrade_req[ts] = last_req.get(ts)
        for h in L(ly.get("http2", [])):
            if not isinstance(h, dict):
                continue
            for st in L(h.get("http2.stream", [])):
                if not isinstance(st, dict) or st.get("http2.type") not in ("1", "5", "9"):
                    continue
                sid = int(st.get("http2.streamid", "0"))
                fields = [(x.get("http2.header.name", ""), x.get("http2.header.value", ""))
                          for x in L(st.get("http2.header", [])) if isinstance(x, dict)]
                from_client = dport in ports
                client_port = sport if from_client else dport
                if st.get("http2.type") == "5":
                    # PUSH_PROMISE: the promised stream's request, sent by the
                    # server on the client's connection
                    sid = int(st.get("http2.push_promise.promised_stream_id", "0"))
                    from_client = True
                key = (ts, sid)
                if key not in streams:
                    if not from_client and not (sid == 1 and ts in upgrade_req):
                        continue
                    streams[key] = {"client_port": client_port,
                                    "stream_id": sid, "method": "", "path": "",
                                    "authority": "", "status": ""}
                    order.append(key)
                    if sid == 1 and ts in upgrade_req and upgrade_req[ts]:
                        streams[key]["method"], streams[key]["path"] = upgrade_req[ts]
                row = streams[key]
                for name, value in fields:
                    if from_client and name == ":method" and not row["method"]:
                        row["method"] = value
                    elif from_client and name == ":path" and not row["path"]:
                        row["path"] = value
                    elif from_client and name == ":authority" and not row["authority"]:
                        row["authority"] = value
                    elif not from_client and name == ":status" and not row["status"] and \
                            value.isdigit() and int(value) >= 200:
                        row["status"] = value
    ver = tshark(["-v"]).splitlines()[0].split(" (Git")[0]
    print("# made by tests/tools/http2-references.py from %s reading %s (-T json "
          "--no-duplicate-keys %s); do not edit" % (ver, cap, " ".join(
              o if not o.startswith("tls.keylog_file:") else "tls.keylog_file:" +
              os.path.relpath(o.split(":", 1)[1], ROOT) for o in opts)))
    cols = ["client_port", "stream_id", "method", "path", "authority", "status"]
    print("\t".join(cols))
    seen = {k: i for i, k in enumerate(order)}
    order.sort(key=lambda k: (first.get(k[0], 0), k[0], seen[k]))
    for k in order:
        print("\t".join(str(streams[k][c]) for c in cols))


if __name__ == "__main__":
    main()
