#!/usr/bin/env python3
"""Check that the clients' own records of the generated captures agree with
tshark's per-connection reading of the same captures.

Usage: tests/tools/check-client-records.py [captures/generated/NAME.client.tsv ...]
       (default: every captures/generated/*.client.tsv)

For each NAME.client.tsv, NAME.pcap is read with tests/tools/tshark-conns.py
(fresh, not the stored reference) and compared:

curl / raw-socket client records (one row per request, curl -w columns):
  - one connection per row with num_connects >= 1, continued by the rows with
    num_connects = 0 that follow it (curl reused the connection); the number of
    connections with a handshake (tshark iRTT) = sum(num_connects)
  - a row with exitcode 7 (curl: could not connect) is one more stream with
    no SYN-ACK, closed by a server RST
  - each connection's client/server address and port = the client's
    local/remote address and port (in order, so a reused 5-tuple matches the
    tshark streams one by one), syn_seen = 1
  - bytes_to_client = sum of size_header + size_download of its requests
    (HTTP/1.x with Content-Length bodies, no compression)
  - '# server_closed=1' / '# connection N: server_closed_first=1' comments:
    those connections are closed by the server with FIN
  - a row with exitcode 52 and http_code 000 (python http.client: the request
    was sent on a reused connection and the server's close came instead of a
    response; curl's exit code for "empty reply from server") belongs to the
    connection it was sent on (num_connects 0, same local port), 0 bytes
  - '# pipelined: N requests written with one send() of B bytes from local
    port P' comment: that connection's bytes_to_server = B, all of it in ONE
    TCP segment (tshark: one client -> server packet with payload, tcp.len B),
    and tshark reads N HTTP requests in it
  - '# HEAD response ETag: X' / '# If-None-Match sent ...: Y' comments:
    X = Y, and tshark sees a response carrying 'ETag: X' and a request
    carrying 'If-None-Match: X'
ab records (tool/metric/value):
  - failed_requests = 0, complete_requests = the requests asked for
  - total_transferred_bytes = sum of bytes_to_client over all streams
  - streams closed by the server with FIN = complete - keepalive requests
    (every response without keep-alive is followed by the server's close)
  - streams in all: at least that, at most that + concurrency (connections
    ab still held at the end), each with a handshake

Exit status 0 when everything agrees, 1 otherwise. Python 3 stdlib only.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tests", "tools", "tshark-conns.py")


def read_tsv(path):
    header, rows, comments, sub = None, [], [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                comments.append(line)
                continue
            if not line:
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
            elif cols[0] == "tool":
                sub = cols          # a second kind of row (make-tls.sh: tls rows)
            else:
                rows.append(dict(zip(sub or header, cols)))
    return header, rows, comments


def tshark_conns(pcap):
    out = subprocess.run([sys.executable, TOOL, pcap], capture_output=True,
                         text=True, check=True).stdout
    header, rows = None, []
    for line in out.splitlines():
        if line.startswith("#") or not line:
            continue
        cols = line.split("\t")
        if header is None:
            header = cols
        else:
            rows.append(dict(zip(header, cols)))
    return rows


class Checker:
    def __init__(self, name):
        self.name = name
        self.failures = 0
        self.passes = 0

    def eq(self, what, got, want):
        if str(got) == str(want):
            self.passes += 1
        else:
            self.failures += 1
            print("FAIL %s: %s: client record says %s, tshark says %s"
                  % (self.name, what, want, got))

    def true(self, what, cond):
        if cond:
            self.passes += 1
        else:
            self.failures += 1
            print("FAIL %s: %s" % (self.name, what))


def tshark_fields(pcap, display_filter, fields, desegment=False):
    cmd = ["tshark", "-n", "-r", pcap]
    if desegment:
        cmd += ["-o", "tcp.desegment_tcp_streams:TRUE", "-o", "http.desegment_body:TRUE"]
    cmd += ["-Y", display_filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def check_tls(c, rows, pcap):
    """make-tls.sh records: the suite of each connection (curl -v, s_client)
    against the ServerHello tshark reads, in order."""
    want = [r["iana"] for r in rows if r["tool"] in ("tls", "s_client")]
    got = ["0x%04x" % int(f[0], 16)
           for f in tshark_fields(pcap, "tls.handshake.type == 2", ["tls.handshake.ciphersuite"])]
    c.eq("cipher suites chosen by the server, in connection order", ",".join(got), ",".join(want))
    if any(r["tool"] == "s_client" for r in rows):
        conns = tshark_fields(pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", ["tcp.srcport"])
        c.eq("connections (= s_client runs)", len(conns),
             sum(1 for r in rows if r["tool"] == "s_client"))


def check_requests(c, rows, comments, conns, pcap, tls=False):
    # group request rows into connections
    groups, refused = [], []
    for r in rows:
        if r.get("exitcode", "0") == "7":
            refused.append(r)
            continue
        if r.get("exitcode", "0") == "52":
            # sent on a connection the server had closed: no response
            c.eq("row %s (exit 52, no response): http_code" % r["url"], r["http_code"], "000")
            c.eq("row %s (exit 52, no response): num_connects" % r["url"], r["num_connects"], 0)
            c.eq("row %s (exit 52, no response): bytes" % r["url"],
                 int(r["size_header"]) + int(r["size_download"]), 0)
        elif r.get("exitcode", "0") in ("16", "92"):
            # HTTP/2 failures (16: framing layer, after a GOAWAY; 92: a stream
            # error, a response curl refused): no response for this URL
            c.eq("row %s (exit %s, HTTP/2 error): http_code" % (r["url"], r["exitcode"]),
                 r["http_code"], "000")
        else:
            c.true("row %s: http_code %s" % (r["url"], r["http_code"]),
                   r["http_code"].isdigit() and r["http_code"] != "000")
        if int(r["num_connects"]) >= 1 or not groups:
            groups.append([r])
        else:
            prev = groups[-1][-1]
            c.eq("row %s reuses the connection of local port %s" % (r["url"], prev["local_port"]),
                 r["local_port"], prev["local_port"])
            groups[-1].append(r)
    established = [x for x in conns if x["handshake_rtt"] != ""]
    others = [x for x in conns if x["handshake_rtt"] == ""]
    c.eq("connections with a handshake (= sum of num_connects)",
         len(established), sum(int(r["num_connects"]) for r in rows))
    c.eq("streams without a handshake (= failed connects)", len(others), len(refused))
    c.eq("connections", len(established), len(groups))

    # match groups to tshark rows with the same 4-tuple, in time order
    pool = sorted(established, key=lambda x: float(x["first_seen"]))
    matched = []
    for g in groups:
        r = g[0]
        key = (r["local_ip"], r["local_port"], r["remote_ip"], r["remote_port"])
        hit = next((x for x in pool
                    if (x["client_ip"], x["client_port"], x["server_ip"], x["server_port"]) == key), None)
        if hit is None:
            c.true("no tshark connection %s:%s -> %s:%s (client and server as the client saw them)"
                   % key, False)
            continue
        pool.remove(hit)
        matched.append((g, hit))
        where = "connection %s:%s -> %s:%s starting %s" % (key + (hit["first_seen"],))
        c.eq(where + ": syn_seen", hit["syn_seen"], 1)
        if not tls:   # over TLS the bytes on the wire are records, not HTTP
            c.eq(where + ": bytes_to_client (= sum of size_header + size_download)",
                 hit["bytes_to_client"],
                 sum(int(x["size_header"]) + int(x["size_download"]) for x in g))
        c.eq(where + ": requests 'carried' (packets_to_server > 0)",
             int(hit["packets_to_server"]) > 0, True)

    for r in refused:
        hit = next((x for x in others if x["server_port"] == r["url"].split(":")[2].split("/")[0]), None)
        c.true("refused connect to %s has a tshark stream" % r["url"], hit is not None)
        if hit:
            c.eq("refused %s: close_kind" % r["url"], hit["close_kind"], "rst")
            c.eq("refused %s: close_initiator" % r["url"], hit["close_initiator"], "server")
            c.eq("refused %s: syn_seen" % r["url"], hit["syn_seen"], 1)

    # closes the client observed
    for line in comments:
        m = re.match(r"# server_closed=(\d)", line)
        if m and m.group(1) == "1":
            for g, hit in matched:
                c.eq("connection from local port %s: closed by" % g[0]["local_port"],
                     "%s %s" % (hit["close_initiator"], hit["close_kind"]), "server fin")
        m = re.match(r"# connection (\d+): server_closed_first=(\d)", line)
        if m and m.group(2) == "1":
            i = int(m.group(1)) - 1
            if i < len(matched):
                hit = matched[i][1]
                c.eq("connection %d: closed by" % (i + 1),
                     "%s %s" % (hit["close_initiator"], hit["close_kind"]), "server fin")
        m = re.match(r"# pipelined: (\d+) requests written with one send\(\) of (\d+) bytes "
                     r"from local port (\d+)", line)
        if m:
            n, nbytes, lport = int(m.group(1)), int(m.group(2)), m.group(3)
            hit = next((h for g, h in matched if h["client_port"] == lport), None)
            c.true("pipelined: a connection from local port %s" % lport, hit is not None)
            if hit:
                c.eq("pipelined from local port %s: bytes_to_server" % lport,
                     hit["bytes_to_server"], nbytes)
                c.eq("pipelined from local port %s: requests in the group" % lport,
                     len(next(g for g, h in matched if h is hit)), n)
                segs = tshark_fields(pcap, "tcp.srcport == %s && tcp.len > 0" % lport,
                                     ["frame.number", "tcp.len"])
                c.eq("pipelined from local port %s: client -> server segments with payload"
                     % lport, len(segs), 1)
                if segs:
                    c.eq("pipelined from local port %s: payload of that segment" % lport,
                         segs[0][1], nbytes)
                    reqs = tshark_fields(pcap, "frame.number == %s && http.request" % segs[0][0],
                                         ["http.request.method"], desegment=True)
                    c.eq("pipelined from local port %s: HTTP requests tshark reads in frame %s"
                         % (lport, segs[0][0]),
                         len(reqs[0][0].split("|")) if reqs else 0, n)
    etag = [l.split(":", 1)[1].strip() for l in comments if l.startswith("# HEAD response ETag:")]
    inm = [l.rsplit(": ", 1)[1].strip() for l in comments if l.startswith("# If-None-Match sent")]
    if etag or inm:
        c.true("ETag and If-None-Match comments both present", bool(etag and inm))
        if etag and inm:
            c.eq("If-None-Match sent (= ETag of the HEAD response)", inm[0], etag[0])
            lines = tshark_fields(pcap, "http", ["http.request.method", "http.request.line",
                                                 "http.response.code", "http.response.line"],
                                  desegment=True)
            req_hdrs = [h for l in lines if l[0] for h in l[1].split("|")]
            resp = [l for l in lines if len(l) > 2 and l[2]]
            c.true("tshark: a response carries 'ETag: %s'" % etag[0],
                   any("ETag: %s\\r\\n" % etag[0] in l[3].split("|") for l in resp))
            c.true("tshark: a request carries 'If-None-Match: %s'" % etag[0],
                   "If-None-Match: %s\\r\\n" % etag[0] in req_hdrs)


def check_ab(c, rows, comments, conns):
    m = {r["metric"]: int(r["value"]) for r in rows}
    asked = None
    for line in comments:
        x = re.search(r"-n (\d+)", line)
        if x:
            asked = int(x.group(1))
    c.eq("failed_requests", m.get("failed_requests", 0), 0)
    if asked is not None:
        c.eq("complete_requests", m["complete_requests"], asked)
    c.eq("total_transferred_bytes (= sum of bytes_to_client)",
         sum(int(x["bytes_to_client"]) for x in conns), m["total_transferred_bytes"])
    non_ka = m["complete_requests"] - m.get("keepalive_requests", 0)
    server_closed = [x for x in conns if x["close_initiator"] == "server" and x["close_kind"] == "fin"]
    c.eq("connections closed by the server (= complete - keep-alive requests)",
         len(server_closed), non_ka)
    conc = m.get("concurrency", 1)
    c.true("%d connections, expected between %d and %d" % (len(conns), non_ka, non_ka + conc),
           non_ka <= len(conns) <= non_ka + conc)
    c.true("every connection has a handshake",
           all(x["handshake_rtt"] != "" and x["syn_seen"] == "1" for x in conns))


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "captures", "generated", "*.client.tsv")))
    if not files:
        print("no client records found")
        return 1
    total_fail = 0
    for f in files:
        pcap = f[: -len(".client.tsv")] + ".pcap"
        name = os.path.relpath(pcap, ROOT)
        c = Checker(name)
        if not os.path.exists(pcap):
            c.true("capture %s missing" % pcap, False)
        else:
            header, rows, comments = read_tsv(f)
            conns = tshark_conns(pcap)
            tls = os.path.exists(f[: -len(".client.tsv")] + ".keylog")
            h2 = os.path.basename(f).startswith("h2-")
            if tls and not h2:
                check_tls(c, rows, pcap)
            if header and "num_connects" in header:
                # over TLS or HTTP/2 the bytes on the wire are not the HTTP
                # message's: the byte count is not checked
                check_requests(c, [r for r in rows if r["tool"] == "curl" or not tls],
                               comments, conns, pcap, tls or h2)
            elif header and "session" in header:
                pass   # s_client: checked by check_tls
            elif header and "stream_id" in header:
                # nghttp: all its streams on one connection
                c.eq("connections (nghttp: one)", len(conns), 1)
            elif header and "metric" in header:
                check_ab(c, rows, comments, conns)
            else:
                c.true("unknown client record format in %s" % f, False)
        print("%s %s: %d checks, %d failed" % ("ok  " if c.failures == 0 else "FAIL",
                                              name, c.passes + c.failures, c.failures))
        total_fail += c.failures
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
