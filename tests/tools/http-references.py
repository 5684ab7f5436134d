#!/usr/bin/env python3
"""Per-request HTTP/1.x reference for kalens, from tshark 4.0 (and Zeek).

Usage: http-references.py CAPTURE [--zeek-out FILE]

CAPTURE is a repository-relative path, captures/public/... or
captures/generated/...  The reference is printed on stdout; with --zeek-out,
the Zeek reference (when the capture has a Zeek http.log baseline) is written
to FILE (an empty FILE name or a capture without a baseline writes nothing).
tests/tools/make-http-references.sh runs this for every capture.

Output: a first line "# made by tests/tools/http-references.py from ...; do
not edit", the column header, then one row per HTTP/1.x request, ordered by
(connection first_seen, position of the request on the connection):

  client_ip client_port server_ip server_port seq method uri version status

  seq     = 1-based position of the request on its TCP connection (tshark's
            tcp.stream)
  status  = status code of the response paired with the request, empty when
            there is none. Interim 1xx responses (100 Continue, 102, 103) do
            not complete a request; 101 Switching Protocols does (after it the
            connection no longer carries HTTP/1.x).
  client  = sender of the request (IPv6 addresses through inet_ntop, as in
            tshark-conns.py; with tunnels, the innermost IP header).

Lines starting with "# note:" after the rows are remarks (responses without
a request, interim 1xx responses, Upgrade/CONNECT, where tshark's own pairing
or Zeek disagree, the shared README's "Known disagreements" bullet).

Pairing rule (RFC 9112 section 9.3: responses come back in the order of the
requests): per connection, walk the responses in byte-stream order; a final
response (>= 200, or 101) completes the oldest request that has no response
yet, an interim 1xx response is attached to it without completing it. A
response for which there is no such request, or whose oldest open request was
sent after the response (first segment of the request later in the capture
than the response's last segment: the request that response answered is not
in the capture), is a "response-without-request" and does not consume a
request. One exception: when tshark saw a capture gap in the server -> client
direction ("previous segment not captured") between the previous response and
this one, whole responses may be lost in the gap (tshark cannot complete a
message with missing bytes), and plain FIFO would shift every later pairing on
the connection by one. There, if tshark's own pairing (http.request_in, the
frame of the request tshark matched the response to) names a later open
request, the pairing re-synchronises to it and the skipped requests get no
status ("gap-resync" note). Otherwise tshark's http.request_in is a
cross-check only (it is frame-level and, with pipelining, pairs a response
with the latest request before it, which is wrong); every response that it
pairs with a different frame is counted in a "tshark-pairing-differs" note.

Sources:

* captures/public/X: method, uri, version, status and the HTTP message order
  come from the shared collection's reading tests/expected/http/raw/X.tshark.tsv
  (tshark 4.0.17 -T pdml, copied byte for byte; HTTP/2 rows are left out).
  That file has no addresses, ports or pairing fields, so the capture is read
  again with tshark 4.0 (TSHARK_PDML below, the same per-file options as the
  shared reading, from tests/expected/http/raw/INVENTORY.tsv); the two
  readings must agree message for message (stream, direction, method or
  status, version, frame), or the tool fails. A second tshark pass over all
  TCP packets gives each tcp.stream's first_seen.
  When tests/expected/http/raw/X.zeek-http.log exists (Zeek's btest baseline),
  the Zeek reference is made from it (trans_depth = seq, id.orig_h/p =
  client, id.resp_h/p = server, version prefixed "HTTP/", status_code; "-"
  and "(empty)" -> empty) and the disagreements are listed in the tshark file.
* captures/generated/X (loopback traffic from captures/generated/make.sh):
  curl and the python client wrote one row per request in X.client.tsv;
  the reference takes connections (num_connects), ports, order, URI path and
  status (http_code) from it, and method and version from tshark's reading
  (the client record has neither). A client row with exitcode 52 and
  http_code 000 (python http.client: the request was sent on a reused
  connection the server had closed, and no response came) is a request with
  an empty status. ab only records counts, so for ab the reference is
  tshark's reading, and the counts are checked against it (ab prints no
  keep-alive count without -k: the record then has no keepalive_requests,
  taken as 0).

Python 3 standard library only; needs tshark (references made with TShark
4.0.17, Debian 12 package 4.0.17-0+deb12u3).
"""
import argparse
import collections
import os
import re
import socket
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RAW = "tests/expected/http/raw"
COLUMNS = ["client_ip", "client_port", "server_ip", "server_port", "seq",
           "method", "uri", "version", "status"]

# The tshark re-reading. Per-file options from the shared INVENTORY.tsv are
# appended (a later -o overrides an earlier one, so scapy/tls_nss_example's
# -o http.desegment_body:FALSE wins, as in the shared reading).
TSHARK_PDML = ["tshark", "-n", "-r", "{capture}",
               "-o", "tcp.desegment_tcp_streams:TRUE",
               "-o", "http.desegment_body:TRUE",
               "{extra_options}",
               "-Y", "http", "-T", "pdml", "-J", "frame ip ipv6 tcp http"]
# connection first_seen (all TCP packets, ICMP errors quoting TCP left out,
# as in tshark-conns.py)
TSHARK_STREAMS = ["tshark", "-n", "-r", "{capture}", "{extra_options}",
                  "-Y", "tcp && !icmp && !icmpv6", "-T", "fields",
                  "-e", "tcp.stream", "-e", "frame.time_epoch",
                  "-e", "frame.number", "-e", "tcp.srcport",
                  "-e", "tcp.analysis.lost_segment", "-e", "ip.src", "-e", "ipv6.src"]

MAX_LISTED = 8      # notes list at most this many examples of one kind


def die(msg):
    print("http-references.py: " + msg, file=sys.stderr)
    sys.exit(1)


def norm_ip(a):
    if ":" in a:
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, a))
    return a


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True,
                         text=True, check=True).stdout
    parts = out.splitlines()[0].split()
    return parts[2] if len(parts) > 2 else out.splitlines()[0]


def run(cmd_template, capture, extra):
    cmd = []
    for a in cmd_template:
        if a == "{capture}":
            cmd.append(capture)
        elif a == "{extra_options}":
            cmd.extend(extra)
        else:
            cmd.append(a)
    p = subprocess.run(cmd, capture_output=True, cwd=ROOT)
    if p.returncode != 0:
        err = "\n".join(l for l in p.stderr.decode(errors="replace").splitlines()
                        if "Running as user" not in l)
        die("tshark failed on %s: %s" % (capture, err))
    return p.stdout


# ---------------------------------------------------------------- tshark ---

class Msg:
    """One HTTP/1.x message as read by the tshark re-reading."""
    __slots__ = ("stream", "frame", "idx", "start", "time", "src", "sport",
                 "dst", "dport", "kind", "method", "uri", "version", "code",
                 "request_in", "connection")

    def __init__(self):
        self.request_in = None
        self.connection = ""


def child_fields(el):
    for f in el:
        if f.tag == "field":
            yield f


def read_pdml(capture, extra):
    """List of Msg in capture order (frame, then position in the frame)."""
    data = run(TSHARK_PDML, capture, extra)
    msgs = []
    seg_re = re.compile(r"#(\d+)\(")
    for _, pkt in ET.iterparse(__import__("io").BytesIO(data), events=("end",)):
        if pkt.tag != "packet":
            continue
        frame = time = None
        ipsrc = ipdst = None
        sport = dport = stream = None
        first_seg = None
        https = []
        for proto in pkt:
            if proto.tag != "proto":
                continue
            name = proto.get("name")
            if name == "frame":
                for f in child_fields(proto):
                    if f.get("name") == "frame.number":
                        frame = int(f.get("show"))
                    elif f.get("name") == "frame.time_epoch":
                        time = f.get("show")
            elif name in ("ip", "ipv6") and stream is None:
                # the last IP header before TCP is the one carrying it
                for f in child_fields(proto):
                    n = f.get("name")
                    if n in ("ip.src", "ipv6.src"):
                        ipsrc = norm_ip(f.get("show"))
                    elif n in ("ip.dst", "ipv6.dst"):
                        ipdst = norm_ip(f.get("show"))
            elif name == "tcp":
                for f in child_fields(proto):
                    n = f.get("name")
                    if n == "tcp.srcport":
                        sport = f.get("show")
                    elif n == "tcp.dstport":
                        dport = f.get("show")
                    elif n == "tcp.stream":
                        stream = int(f.get("show"))
            elif name == "fake-field-wrapper":
                for f in child_fields(proto):
                    if f.get("name") == "tcp.segments":
                        m = seg_re.findall(f.get("showname", ""))
                        if m:
                            first_seg = min(int(x) for x in m)
            elif name == "http":
                https.append(proto)
        idx = 0
        for proto in https:
            m = Msg()
            m.kind = None
            m.method = m.uri = m.version = m.code = ""
            for f in child_fields(proto):
                n = f.get("name")
                if n == "http.request_in":
                    m.request_in = int(f.get("show"))
                elif n == "http.connection":
                    m.connection = (m.connection + " | " if m.connection else "") + f.get("show")
                for g in child_fields(f):
                    gn = g.get("name")
                    if gn == "http.request.method":
                        m.kind, m.method = "request", g.get("show")
                    elif gn == "http.request.uri":
                        m.uri = g.get("show")
                    elif gn == "http.request.version":
                        m.version = g.get("show")
                    elif gn == "http.response.version":
                        m.version = g.get("show")
                    elif gn == "http.response.code":
                        m.kind, m.code = "response", g.get("show")
            if m.kind is None:
                continue
            if stream is None:
                die("%s frame %s: HTTP without tcp.stream" % (capture, frame))
            m.stream, m.frame, m.idx, m.time = stream, frame, idx, time
            m.src, m.sport, m.dst, m.dport = ipsrc, sport, ipdst, dport
            # the first message of a frame may be the reassembled one: it
            # starts in the first of the reassembled segments
            m.start = first_seg if (idx == 0 and first_seg) else frame
            msgs.append(m)
            idx += 1
        pkt.clear()
    return msgs


GAPS = {}   # tcp.stream -> [(frame, src ip, src port)] where tshark saw a gap


def read_streams(capture, extra):
    """tcp.stream -> (first_seen float, first_seen text); fills GAPS."""
    out = run(TSHARK_STREAMS, capture, extra).decode()
    first = {}
    GAPS.clear()
    for line in out.splitlines():
        p = line.split("\t")
        if len(p) < 2 or not p[0]:
            continue
        s = int(p[0].split(",")[-1])
        if s not in first:
            first[s] = (float(p[1]), p[1])
        if len(p) >= 7 and p[4]:
            src = (p[6] or p[5]).split(",")[-1]
            GAPS.setdefault(s, []).append((int(p[2]), norm_ip(src) if src else "",
                                           p[3].split(",")[-1]))
    return first


# ------------------------------------------------------ shared .tshark.tsv ---

def read_shared_tsv(path):
    rows = []
    with open(os.path.join(ROOT, path), encoding="utf-8", newline="\n") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header[:5] != ["stream", "direction", "method_or_status", "uri", "version"]:
            die("%s: unexpected header %r" % (path, header))
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            p = line.split("\t")
            rows.append(dict(zip(header, p)))
    return rows


def read_inventory():
    path = os.path.join(ROOT, RAW, "INVENTORY.tsv")
    inv = {}
    if not os.path.exists(path):
        return inv
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        for line in fh:
            p = line.rstrip("\n").split("\t")
            d = dict(zip(header, p))
            inv[d["file"]] = d
    return inv


def extra_options(rel, inv):
    """Per-file tshark options of the shared reading, paths made repo-relative."""
    opts = inv.get(rel, {}).get("tshark_extra_options", "").split()
    out = []
    for o in opts:
        if o.startswith("tls.keylog_file:"):
            o = "tls.keylog_file:captures/public/" + o[len("tls.keylog_file:"):]
        out.append(o)
    return out


def known_disagreements(rel):
    """Bullets of the shared README's 'Known disagreements' section naming rel."""
    path = os.path.join(ROOT, RAW, "README.md")
    if not os.path.exists(path):
        return []
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^## Known disagreements.*?$(.*?)^## ", text, re.S | re.M)
    if not m:
        return []
    bullets = re.split(r"\n- ", "\n" + m.group(1).strip())
    comps = rel.split("/")
    out = []
    for b in bullets:
        b = " ".join(b.split())
        if not b:
            continue
        for tok in re.findall(r"`([^`]+)`", b):
            if ("/" in tok and (rel == tok or rel.endswith("/" + tok) or
                                rel.startswith(tok + "/"))) or \
               ("-" in tok and "/" not in tok and tok in comps):
                out.append(b)
                break
    return out


# ----------------------------------------------------------------- pairing ---

def is_interim(code):
    return code.isdigit() and 100 <= int(code) < 200 and int(code) != 101


class Conn:
    def __init__(self, stream):
        self.stream = stream
        self.requests = []      # Msg
        self.responses = []     # Msg
        self.status = {}        # id(request) -> Msg (final response)
        self.interim = collections.defaultdict(list)
        self.orphans = []       # responses without request
        self.resync = []        # (response, FIFO index, index tshark pairs it with)


def pair(conn, resp_gaps=()):
    """FIFO pairing; after a server -> client capture gap, re-synchronised
    with tshark's http.request_in (see the module docstring)."""
    k = 0
    reqs = conn.requests
    prev = 0
    for r in conn.responses:
        gap = any(prev < g <= r.frame for g in resp_gaps)
        prev = r.frame
        if gap and r.request_in is not None and not is_interim(r.code):
            later = [j for j in range(k + 1, len(reqs)) if reqs[j].frame == r.request_in]
            if later and not any(reqs[j].frame == r.request_in for j in range(k, later[0])):
                j = later[0]
                conn.resync.append((r, k, j))
                k = j
        if k < len(reqs) and reqs[k].start < r.frame:
            if is_interim(r.code):
                conn.interim[id(reqs[k])].append(r)
            else:
                conn.status[id(reqs[k])] = r
                k += 1
        else:
            conn.orphans.append(r)


def ep(ip, port):
    return ("[%s]:%s" if ":" in ip else "%s:%s") % (ip, port)


def conn_label(conn):
    if conn.requests:
        m = conn.requests[0]
        return "stream %d %s -> %s" % (conn.stream, ep(m.src, m.sport), ep(m.dst, m.dport))
    m = conn.responses[0]
    return "stream %d %s -> %s" % (conn.stream, ep(m.dst, m.dport), ep(m.src, m.sport))


def build_conns(msgs):
    """Needs read_streams() first (GAPS)."""
    conns = {}
    for m in msgs:
        c = conns.setdefault(m.stream, Conn(m.stream))
        (c.requests if m.kind == "request" else c.responses).append(m)
    for s, c in conns.items():
        if c.requests:
            cl = (c.requests[0].src, c.requests[0].sport)
        else:
            cl = (c.responses[0].dst, c.responses[0].dport)
        pair(c, [f for f, ip, port in GAPS.get(s, []) if (ip, port) != cl])
    return conns


def tshark_notes(conns, notes):
    """Notes on orphans, 1xx, Upgrade/CONNECT and tshark's own pairing."""
    for s in sorted(conns):
        c = conns[s]
        label = conn_label(c)
        clients = {(m.src, m.sport) for m in c.requests}
        if len(clients) > 1:
            notes.append("requests-from-both-sides: %s: requests come from %s"
                         % (label, ", ".join(ep(*x) for x in sorted(clients))))
        for r in c.orphans:
            notes.append("response-without-request: %s: response %s %s in frame %d"
                         % (label, r.version, r.code, r.frame) +
                         (" (interim)" if is_interim(r.code) else "") +
                         (" (tshark's http.request_in: frame %d)" % r.request_in
                          if r.request_in else ""))
        for i, q in enumerate(c.requests, 1):
            for r in c.interim.get(id(q), []):
                fin = c.status.get(id(q))
                notes.append("interim-1xx: %s: request %d (%s %s, frame %d) got %s %s "
                             "(frame %d) before its final response %s"
                             % (label, i, q.method, q.uri, q.frame, r.version, r.code,
                                r.frame, ("%s (frame %d)" % (fin.code, fin.frame))
                                if fin else "(none in the capture)"))
            fin = c.status.get(id(q))
            if fin and fin.code == "101":
                notes.append("upgrade-101: %s: request %d (%s %s) switched protocols "
                             "(frame %d); what follows on this connection is not HTTP/1.x"
                             % (label, i, q.method, q.uri, fin.frame))
            if fin and q.method == "CONNECT" and fin.code.startswith("2"):
                notes.append("connect-tunnel: %s: request %d (CONNECT %s) got %s (frame %d); "
                             "what follows is tunnelled data, not HTTP/1.x"
                             % (label, i, q.uri, fin.code, fin.frame))
        gaps = GAPS.get(s, [])
        if gaps and c.requests:
            cl = (c.requests[0].src, c.requests[0].sport)
            g_req = [f for f, ip, port in gaps if (ip, port) == cl]
            g_resp = [f for f, ip, port in gaps if (ip, port) != cl]
            for name, g in (("client -> server", g_req), ("server -> client", g_resp)):
                if g:
                    notes.append("capture-gap: %s: %s data missing before frame(s) %s (tshark: "
                                 "previous segment not captured)%s" % (
                                     label, name, ", ".join(map(str, g[:MAX_LISTED])) +
                                     (" ..." if len(g) > MAX_LISTED else ""),
                                     "; responses after it are paired FIFO unless tshark's "
                                     "http.request_in says a later request (gap-resync)" if name.startswith("server") else ""))
        for r, k, j in c.resync:
            notes.append("gap-resync: %s: response %s in frame %d follows a server -> client "
                         "capture gap; FIFO would pair it with request %d (frame %d), tshark's "
                         "http.request_in with request %d (frame %d); the latter is used, so "
                         "request(s) %s get no status (their responses are lost in the gap)"
                         % (label, r.code, r.frame, k + 1, c.requests[k].frame, j + 1,
                            r.request_in, list_compact(list(range(k + 1, j + 1)))))
        unanswered = [i for i, q in enumerate(c.requests, 1) if id(q) not in c.status]
        if unanswered:
            notes.append("request-without-response: %s: request(s) %s have no final "
                         "response in the capture" % (label, list_compact(unanswered)))
        # tshark's own pairing, frame level
        diffs = []
        checked = 0
        qmap = {}
        for q in c.requests:
            for r in c.interim.get(id(q), []):
                qmap[id(r)] = q
            if id(q) in c.status:
                qmap[id(c.status[id(q)])] = q
        for r in c.responses:
            q = qmap.get(id(r))
            if r.request_in is None:
                continue
            checked += 1
            if q is None or q.frame != r.request_in:
                diffs.append("response frame %d (%s): tshark request_in frame %d, FIFO %s"
                             % (r.frame, r.code, r.request_in,
                                ("request %d (frame %d)" % (c.requests.index(q) + 1, q.frame))
                                if q else "none"))
        if diffs:
            more = "" if len(diffs) <= MAX_LISTED else "; ... (%d more)" % (len(diffs) - MAX_LISTED)
            notes.append("tshark-pairing-differs: %s: %d of the %d responses that carry "
                         "tshark's http.request_in are paired with another request frame "
                         "by FIFO: %s%s" % (label, len(diffs), checked,
                                            "; ".join(diffs[:MAX_LISTED]), more))


def list_compact(nums):
    """[1,2,3,5] -> '1-3, 5'"""
    out = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d-%d" % (nums[i], nums[j]))
        i = j + 1
    return ", ".join(out)


def tshark_rows(conns, first_seen):
    rows = []
    for s in sorted(conns, key=lambda s: (first_seen.get(s, (float("inf"),))[0], s)):
        c = conns[s]
        for i, q in enumerate(c.requests, 1):
            fin = c.status.get(id(q))
            rows.append([q.src, q.sport, q.dst, q.dport, str(i), q.method, q.uri,
                         q.version, fin.code if fin else ""])
    return rows


# -------------------------------------------------------------------- Zeek ---

def read_zeek_http(path):
    """List of dicts (column -> value, '-' and '(empty)' -> '')."""
    fields = None
    rows = []
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#fields\t"):
                fields = line.split("\t")[1:]
                continue
            if line.startswith("#") or not line:
                continue
            p = line.split("\t")
            if fields is None:          # zeek-cut -m output: plain header line
                fields = p
                continue
            d = {}
            for k, v in zip(fields, p):
                d[k] = "" if v in ("-", "(empty)") else v
            rows.append(d)
    return fields or [], rows


def zeek_reference(zrows, fields, conns, first_seen, notes):
    """Rows of the Zeek reference, and how its connections map to tshark's."""
    have_ids = "id.orig_h" in fields
    have_depth = "trans_depth" in fields
    groups = collections.OrderedDict()
    for z in zrows:
        if have_ids:
            key = ("tuple", norm_ip(z["id.orig_h"]), z["id.orig_p"],
                   norm_ip(z["id.resp_h"]), z["id.resp_p"])
        else:
            key = ("uid", z.get("uid", ""))
        groups.setdefault(key, []).append(z)
    # map each Zeek connection to a tshark stream
    by_pair = collections.defaultdict(list)
    for s, c in conns.items():
        m = (c.requests or c.responses)[0]
        by_pair[frozenset([(m.src, m.sport), (m.dst, m.dport)])].append(s)
    mapping = {}
    for key, zs in groups.items():
        if key[0] == "tuple":
            cand = by_pair.get(frozenset([(key[1], key[2]), (key[3], key[4])]), [])
        else:
            want = [(z.get("method", ""), z.get("uri", "")) for z in zs if z.get("method")]
            cand = [s for s, c in conns.items()
                    if [(q.method, q.uri) for q in c.requests] == want]
        if len(cand) == 1:
            mapping[key] = cand[0]
    # streams without HTTP in tshark but with a Zeek row: order by tshark's
    # first_seen of the 5-tuple is not known here; they go last, in log order
    out = []

    def order(item):
        key, _ = item
        s = mapping.get(key)
        return (0, first_seen[s][0], s) if s is not None and s in first_seen else (1, 0, 0)

    for key, zs in sorted(groups.items(), key=order):
        if have_depth:
            zs = sorted(zs, key=lambda z: int(z["trans_depth"] or 0))
        for pos, z in enumerate(zs, 1):
            ver = z.get("version", "")
            out.append([norm_ip(z["id.orig_h"]) if have_ids else "",
                        z["id.orig_p"] if have_ids else "",
                        norm_ip(z["id.resp_h"]) if have_ids else "",
                        z["id.resp_p"] if have_ids else "",
                        z["trans_depth"] if have_depth else str(pos),
                        z.get("method", ""), z.get("uri", ""),
                        ("HTTP/" + ver) if ver else "", z.get("status_code", "")])
    return out, groups, mapping


def compare_zeek(groups, mapping, conns, have_depth, notes, cite):
    zn = []
    mapped = set(mapping.values())
    agree = 0
    for key, zs in groups.items():
        s = mapping.get(key)
        if have_depth:
            zs = sorted(zs, key=lambda z: int(z["trans_depth"] or 0))
        zlabel = (("%s -> %s" % (ep(key[1], key[2]), ep(key[3], key[4])))
                  if key[0] == "tuple" else "uid %s" % key[1])
        if s is None:
            zn.append("zeek: connection %s: %d Zeek row(s), no HTTP/1.x request or response "
                      "in tshark's reading" % (zlabel, len(zs)))
            continue
        c = conns[s]
        label = conn_label(c)
        zreq = [(pos, z) for pos, z in enumerate(zs, 1) if z.get("method")]
        if len(zreq) != len(c.requests) or len(zs) != len(c.requests):
            extra = [int(z["trans_depth"]) if have_depth else pos
                     for pos, z in enumerate(zs, 1) if not z.get("method")]
            zn.append("zeek: %s: tshark %d request(s), Zeek %d row(s), %d with a method%s"
                      % (label, len(c.requests), len(zs), len(zreq),
                         (" (rows %s have no method)" % list_compact(extra)) if extra else ""))
        for i, (q, (pos, z)) in enumerate(zip(c.requests, zreq), 1):
            fin = c.status.get(id(q))
            tstat = fin.code if fin else ""
            diffs = []
            zseq = int(z["trans_depth"]) if have_depth else pos
            if zseq != i:
                diffs.append("seq %d, Zeek trans_depth %d" % (i, zseq) if have_depth
                             else "seq %d, Zeek row %d" % (i, zseq))
            if z.get("method", "") != q.method:
                diffs.append("method %s, Zeek %s" % (q.method, z.get("method", "")))
            if z.get("uri", "") != q.uri:
                diffs.append("uri %r, Zeek %r" % (q.uri, z.get("uri", "")))
            # Zeek's http_reply handler overwrites c$http$version with the
            # reply's version, so Zeek's column is the response's version
            # when there is a response
            zver = ("HTTP/" + z["version"]) if z.get("version") else ""
            tver = fin.version if fin else q.version
            if "version" in z and zver != tver:
                diffs.append("version %s %s, Zeek %s" % ("response" if fin else "request",
                                                        tver or "(none)", zver or "(none)"))
            zstat = z.get("status_code", "")
            if "status_code" in z and zstat != tstat:
                diffs.append("status %s, Zeek %s" % (tstat or "(none)", zstat or "(none)"))
            if diffs:
                zn.append("zeek: %s: request %d (%s %s): %s"
                          % (label, i, q.method, q.uri, "; ".join(diffs)))
            else:
                agree += 1
    for s, c in sorted(conns.items()):
        if s not in mapped and c.requests:
            zn.append("zeek: %s: tshark %d request(s), no Zeek row"
                      % (conn_label(c), len(c.requests)))
    total = sum(len(c.requests) for c in conns.values())
    if zn and total == 0:
        notes.append("zeek: tshark has no HTTP/1.x request here; Zeek's rows are listed below%s" % cite)
        notes.extend(zn)
    elif zn:
        notes.append("zeek: %d of tshark's %d requests agree with Zeek's http.log in every "
                      "compared column; the disagreements follow%s" % (agree, total, cite))
        notes.extend(zn)
    else:
        notes.append("zeek: Zeek's http.log agrees with this file on every request "
                     "(count per connection, seq, method, uri, status, and "
                     "version: Zeek's is the response's)")


# ---------------------------------------------------------------- output ---

def fmt(rows, first_line, notes):
    out = [first_line, "\t".join(COLUMNS)]
    out += ["\t".join(r) for r in rows]
    out += ["# note: " + " ".join(n.split("\n")) for n in notes]
    return "\n".join(out) + "\n"


def check_against_shared(msgs, shared, capture, notes):
    """The re-reading must be the shared reading, message for message."""
    h1 = [r for r in shared if r["version"] != "HTTP/2"]
    h2 = len(shared) - len(h1)
    by_frame = collections.defaultdict(list)
    for r in h1:
        by_frame[int(r["frame_number"])].append(r)
    if len(h1) != len(msgs):
        die("%s: the tshark re-reading has %d HTTP/1.x messages, the shared .tshark.tsv %d"
            % (capture, len(msgs), len(h1)))
    pos = collections.Counter()
    uri_diffs = 0
    for m in msgs:
        lst = by_frame.get(m.frame, [])
        i = pos[m.frame]
        pos[m.frame] += 1
        if i >= len(lst):
            die("%s: frame %d: message not in the shared .tshark.tsv" % (capture, m.frame))
        r = lst[i]
        want = m.method if m.kind == "request" else m.code
        if (int(r["stream"]) != m.stream or r["direction"] != m.kind or
                r["method_or_status"] != want or r["version"] != m.version):
            die("%s: frame %d: re-reading %s/%s/%s/%s, shared %s/%s/%s/%s"
                % (capture, m.frame, m.stream, m.kind, want, m.version,
                   r["stream"], r["direction"], r["method_or_status"], r["version"]))
        if m.kind == "request" and r["uri"] != m.uri:
            uri_diffs += 1
        # the shared reading is the source of method/uri/version/status
        if m.kind == "request":
            m.method, m.uri = r["method_or_status"], r["uri"]
        else:
            m.code = r["method_or_status"]
        m.version = r["version"]
    if uri_diffs:
        notes.append("uri: %d request-target(s) differ between tshark's http.request.uri and "
                     "the shared reading's decoding of the request line; the shared one is kept"
                     % uri_diffs)
    return h2


def public(capture, rel, zeek_out):
    inv = read_inventory()
    extra = extra_options(rel, inv)
    tsv = "%s/%s.tshark.tsv" % (RAW, rel)
    if not os.path.exists(os.path.join(ROOT, tsv)):
        die("no shared reading %s for %s" % (tsv, capture))
    notes = []
    shared = read_shared_tsv(tsv)
    msgs = read_pdml(capture, extra)
    h2 = check_against_shared(msgs, shared, capture, notes)
    first_seen = read_streams(capture, extra)
    conns = build_conns(msgs)
    rows = tshark_rows(conns, first_seen)
    ver = tshark_version()
    optxt = " ".join(["-o tcp.desegment_tcp_streams:TRUE", "-o http.desegment_body:TRUE"] + extra)
    first = ("# made by tests/tools/http-references.py from %s (tshark 4.0 reading, shared "
             "collection) and a tshark %s re-reading of %s (-T pdml %s; for addresses, ports, "
             "connection order and tshark's http.request_in); do not edit"
             % (tsv, ver, capture, optxt))
    if not msgs:
        notes.append("no HTTP/1.x message in tshark's reading")
    if h2:
        notes.append("http2: %d HTTP/2 message(s) in the shared reading are not HTTP/1.x and are "
                      "left out (after an h2c Upgrade the upgraded request is HTTP/2 stream 1 "
                      "and has no row of its own)" % h2)
    tshark_notes(conns, notes)
    for b in known_disagreements(rel):
        notes.append("shared README, Known disagreements: " + b)
    zlog = "%s/%s.zeek-http.log" % (RAW, rel)
    zrows_out = None
    if os.path.exists(os.path.join(ROOT, zlog)):
        fields, zrows = read_zeek_http(zlog)
        zrows_out, groups, mapping = zeek_reference(zrows, fields, conns, first_seen, notes)
        compare_zeek(groups, mapping, conns, "trans_depth" in fields, notes,
                     " (see the shared README, \"Known disagreements\", quoted above)"
                     if known_disagreements(rel) else
                     " (not listed in the shared README's \"Known disagreements\")")
        zfirst = ("# made by tests/tools/http-references.py from %s (Zeek btest baseline, "
                  "zeek/zeek @ a13de64fbb); do not edit" % zlog)
        znotes = []
        if "id.orig_h" not in fields:
            znotes.append("this baseline (zeek-cut) has no id.* columns: address columns are "
                          "empty, rows are grouped by uid")
        if "trans_depth" not in fields:
            znotes.append("this baseline (zeek-cut) has no trans_depth: seq is the row's position "
                          "among the rows of its connection, in log order")
        nometh = sum(1 for r in zrows_out if not r[5])
        if nometh:
            znotes.append("%d row(s) have no method: Zeek logged a transaction without a request "
                          "it could parse (for example a response without a request)" % nometh)
        znotes.append("version is Zeek's: its http_reply handler overwrites the request's "
                      "version with the reply's, so it is the response's version when there "
                      "is a response (the tshark file has the request's)")
        znotes.append("rows are ordered by the tshark first_seen of the connection "
                      "(matched by address pair, or by uid -> same request list), then seq")
        if zeek_out:
            with open(zeek_out, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
                fh.write(fmt(zrows_out, zfirst, znotes))
    zo = "%s/%s.zeek-out.txt" % (RAW, rel)
    if os.path.exists(os.path.join(ROOT, zo)):
        lines = [l.strip() for l in open(os.path.join(ROOT, zo), encoding="utf-8")
                 if l.strip() and not l.startswith("#")]
        notes.append("zeek: no http.log baseline; Zeek's btest 'out' baseline (%s) holds: %s; "
                     "tshark: %d request(s)" % (zo, " / ".join('"%s"' % l for l in lines), len(rows)))
    return fmt(rows, first, notes)


# -------------------------------------------------------------- generated ---

def read_client(path):
    tool_rows = []
    header = None
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            p = line.split("\t")
            if header is None:
                header = p
                continue
            tool_rows.append(dict(zip(header, p)))
    return header or [], tool_rows


def generated(capture, rel):
    base = capture[:-len(".pcap")] if capture.endswith(".pcap") else capture
    client = base + ".client.tsv"
    if not os.path.exists(os.path.join(ROOT, client)):
        die("no client record %s" % client)
    header, crow = read_client(client)
    notes = []
    msgs = read_pdml(capture, [])
    first_seen = read_streams(capture, [])
    conns = build_conns(msgs)
    ver = tshark_version()
    trows = tshark_rows(conns, first_seen)
    tshark_notes(conns, notes)
    if "metric" in header:                           # ab: counts only
        metric = {r["metric"]: r["value"] for r in crow}
        first = ("# made by tests/tools/http-references.py from a tshark %s reading of %s "
                 "(-T pdml -o tcp.desegment_tcp_streams:TRUE -o http.desegment_body:TRUE); "
                 "%s (ab) records counts only and is used as a cross-check; do not edit"
                 % (ver, capture, client))
        complete = int(metric.get("complete_requests", -1))
        ka = int(metric.get("keepalive_requests", 0))   # ab without -k prints none
        n = len(trows)
        answered = sum(1 for r in trows if r[8])
        closes = 0
        for c in conns.values():
            for q in c.requests:
                fin = c.status.get(id(q))
                if fin and "close" in fin.connection.lower():
                    closes += 1
        agree = (n == complete and answered == complete and complete - closes == ka)
        notes.append("client-record: ab says complete_requests %d, keepalive_requests %d; "
                     "tshark: %d requests, %d with a response, %d responses with "
                     "'Connection: close' (complete - those = %d): %s"
                     % (complete, ka, n, answered, closes, n - closes,
                        "the client record agrees" if agree else "DISAGREES"))
        return fmt(trows, first, notes)
    # curl / python client: one row per request
    first = ("# made by tests/tools/http-references.py from %s (connections, ports, order, URI, "
             "status) and a tshark %s reading of %s (method and version; cross-check); do not edit"
             % (client, ver, capture))
    cconns = []
    for r in crow:
        if r.get("exitcode") == "52" and r.get("http_code") == "000":
            notes.append("client-record: %s %s: sent on the reused connection from local port "
                         "%s, no response (exit 52: the server had closed it): a row with an "
                         "empty status" % (r["tool"], r["url"], r["local_port"]))
        elif r.get("exitcode", "0") != "0" or r.get("http_code") in ("000", ""):
            notes.append("client-record: %s %s failed (exit %s, http_code %s): no request was "
                         "sent, no row" % (r["tool"], r["url"], r.get("exitcode"), r.get("http_code")))
            continue
        if r["num_connects"] == "1" or not cconns:
            cconns.append([])
        cconns[-1].append(r)
    # match client connections to tshark streams, in order per 5-tuple
    streams_by_tuple = collections.defaultdict(list)
    for s in sorted(conns, key=lambda s: (first_seen[s][0], s)):
        c = conns[s]
        if c.requests:
            q = c.requests[0]
            streams_by_tuple[(q.src, q.sport, q.dst, q.dport)].append(s)
    used = collections.Counter()
    rows = []
    keyed = []
    agree = 0
    for cc in cconns:
        r0 = cc[0]
        t = (norm_ip(r0["local_ip"]), r0["local_port"], norm_ip(r0["remote_ip"]), r0["remote_port"])
        lst = streams_by_tuple.get(t, [])
        s = lst[used[t]] if used[t] < len(lst) else None
        used[t] += 1
        c = conns.get(s) if s is not None else None
        if c is None:
            notes.append("client-record: connection %s -> %s (%d requests) not found in "
                         "tshark's reading" % (ep(t[0], t[1]), ep(t[2], t[3]), len(cc)))
        elif len(c.requests) != len(cc):
            notes.append("client-record: %s: client %d requests, tshark %d"
                         % (conn_label(c), len(cc), len(c.requests)))
        for i, r in enumerate(cc, 1):
            u = urllib.parse.urlsplit(r["url"])
            uri = (u.path or "/") + ("?" + u.query if u.query else "")
            q = c.requests[i - 1] if c is not None and i <= len(c.requests) else None
            method = q.method if q else ""
            version = q.version if q else ""
            status = "" if r.get("exitcode") == "52" else r["http_code"]
            row = [t[0], t[1], t[2], t[3], str(i), method, uri, version, status]
            if q is not None:
                fin = c.status.get(id(q))
                tst = fin.code if fin else ""
                if q.uri != uri or tst != status:
                    notes.append("client-record: %s request %d: client %s -> %s, tshark %s -> %s"
                                 % (conn_label(c), i, uri, status or "(none)", q.uri,
                                    tst or "(none)"))
                else:
                    agree += 1
            keyed.append(((first_seen[s][0], s) if s is not None else (float("inf"), 0), i, row))
    keyed.sort(key=lambda x: (x[0], x[1]))
    rows = [k[2] for k in keyed]
    extra_t = len(trows) - agree
    notes.append("client-record: %d of %d client rows agree with tshark's reading (connection, "
                 "seq, uri, status)%s" % (agree, len(rows),
                                          "" if extra_t == 0 else
                                          "; tshark has %d request(s) not matched" % extra_t))
    return fmt(rows, first, notes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--zeek-out", default="")
    a = ap.parse_args()
    capture = os.path.relpath(os.path.abspath(a.capture), ROOT)
    if not os.path.exists(os.path.join(ROOT, capture)):
        die("no such capture %s" % capture)
    if capture.startswith("captures/public/"):
        text = public(capture, capture[len("captures/public/"):], a.zeek_out)
    elif capture.startswith("captures/generated/"):
        text = generated(capture, capture[len("captures/generated/"):])
    else:
        die("capture must be under captures/public or captures/generated: %s" % capture)
    sys.stdout.buffer.write(text.encode("utf-8", errors="surrogateescape"))


if __name__ == "__main__":
    main()
