#!/usr/bin/env python3
"""tshark's reading of the IP-fragmented captures (captures/generated/frag/,
made by captures/generated/frag/make.sh): the datagrams it reassembled and
the HTTP requests it read from them, written to tests/expected/frag/.

Usage: tests/tools/frag-references.py [--check] [CAPTURE.pcap ...]
       (default: every captures/generated/frag/*.pcap except the
       *.unfragmented.pcap; --check compares with the stored references
       instead of writing them, exit 1 on a difference)

How tshark is run: tshark 4.0, `-n -T fields`, with its IPv4 and IPv6
reassembly on (`-o ip.defragment:TRUE -o ipv6.defragment:TRUE`, the
defaults) and TCP reassembly on (the default).

<name>.datagrams.tsv: one row per datagram tshark reassembled, in capture
order (the frame where its last missing fragment arrived):
  frame       frame.number of that frame (1-based, capture order)
  src, dst    ip.src / ipv6.src, ip.dst / ipv6.dst
  id          ip.id (IPv4) or ipv6.fraghdr.ident (IPv6), decimal
  fragments   ip.fragment.count / ipv6.fragment.count: the fragment frames
              tshark used (an overlapping copy counts)
  length      ip.reassembled.length / ipv6.reassembled.length: the
              reassembled payload after the IPv4 header / the Fragment
              header (TCP header + TCP payload here)
  overlap     1 when tshark flagged a fragment overlap (ip.fragment.overlap)
  conflict    1 when the overlapping bytes differed (...overlap.conflict)
  stream      tcp.stream of the reassembled segment
  tcp_len     tcp.len of the reassembled segment

<name>.requests.tsv: one row per HTTP request, in capture order:
  stream      tcp.stream
  client      ip:port of the request's sender ([v6]:port for IPv6)
  server      ip:port it was sent to
  seq         1-based position of the request on its stream
  method      http.request.method
  uri         http.request.uri
  status      http.response.code of the response tshark paired with it
              (the response's http.request_in: a one-pass reading has no
              http.response_in); empty when none

Cross-checks (the tool fails on a difference): the same requests read from
<name>.unfragmented.pcap (what tcpdump recorded before fragment.py), and
the URIs and status codes of <name>.client.tsv (curl's own record), in
order.

Python 3 stdlib only; needs tshark.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CAPDIR = os.path.join(ROOT, "captures", "generated", "frag")
OUTDIR = os.path.join(ROOT, "tests", "expected", "frag")
OPTS = ["-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE"]
DGRAM_COLUMNS = ["frame", "src", "dst", "id", "fragments", "length", "overlap", "conflict",
                 "stream", "tcp_len"]
REQ_COLUMNS = ["stream", "client", "server", "seq", "method", "uri", "status"]


def tshark(args):
    r = subprocess.run(["tshark", "-n"] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("tshark %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"TShark \(Wireshark\) (\S+)", out)
    return m.group(1).rstrip(".") if m else "?"


def fields(pcap, display_filter, names):
    args = ["-r", pcap] + OPTS + ["-Y", display_filter, "-T", "fields", "-E", "occurrence=f",
                                   "-E", "separator=/t"]
    for n in names:
        args += ["-e", n]
    rows = []
    for line in tshark(args).splitlines():
        cells = line.split("\t")
        rows.append(dict(zip(names, cells + [""] * (len(names) - len(cells)))))
    return rows


def datagrams(pcap):
    out = []
    for v, p, ident in (("4", "ip", "ip.id"), ("6", "ipv6", "ipv6.fraghdr.ident")):
        names = ["frame.number", p + ".src", p + ".dst", ident, p + ".fragment.count",
                 p + ".reassembled.length", p + ".fragment.overlap",
                 p + ".fragment.overlap.conflict", "tcp.stream", "tcp.len"]
        for r in fields(pcap, p + ".fragments", names):
            out.append([r["frame.number"], r[p + ".src"], r[p + ".dst"], str(int(r[ident], 0)),
                        r[p + ".fragment.count"], r[p + ".reassembled.length"],
                        "1" if r[p + ".fragment.overlap"] else "0",
                        "1" if r[p + ".fragment.overlap.conflict"] else "0",
                        r["tcp.stream"], r["tcp.len"]])
    out.sort(key=lambda row: int(row[0]))
    return out


def endpoint(ip4, ip6, port):
    return "%s:%s" % (ip4, port) if ip4 else "[%s]:%s" % (ip6, port)


def requests(pcap):
    names = ["frame.number", "tcp.stream", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
             "tcp.srcport", "tcp.dstport", "http.request.method", "http.request.uri",
             "http.response.code", "http.request_in"]
    rows = fields(pcap, "http.request || http.response", names)
    code = {r["http.request_in"]: r["http.response.code"] for r in rows if r["http.response.code"]}
    seq = {}
    out = []
    for r in rows:
        if not r["http.request.method"]:
            continue
        s = r["tcp.stream"]
        seq[s] = seq.get(s, 0) + 1
        out.append([s, endpoint(r["ip.src"], r["ipv6.src"], r["tcp.srcport"]),
                    endpoint(r["ip.dst"], r["ipv6.dst"], r["tcp.dstport"]), str(seq[s]),
                    r["http.request.method"], r["http.request.uri"],
                    code.get(r["frame.number"], "")])
    return out


def client_record(path):
    """(uri, status) per row of a curl -w client record."""
    out = []
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith("#")]
    head = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(head, line.split("\t")))
        uri = "/" + row["url"].split("/", 3)[3]
        out.append((uri, row["http_code"]))
    return out


def table(comment, columns, rows):
    return "\n".join([comment, "\t".join(columns)] + ["\t".join(r) for r in rows]) + "\n"


def references(pcap):
    name = os.path.basename(pcap)[: -len(".pcap")]
    rel = os.path.relpath(pcap, ROOT)
    reqs = requests(pcap)
    whole = pcap[: -len(".pcap")] + ".unfragmented.pcap"
    if os.path.exists(whole) and requests(whole) != reqs:
        raise SystemExit("%s: tshark reads other requests from %s" % (rel, os.path.relpath(whole, ROOT)))
    rec = pcap[: -len(".pcap")] + ".client.tsv"
    if os.path.exists(rec) and client_record(rec) != [(r[5], r[6]) for r in reqs]:
        raise SystemExit("%s: the requests differ from the client record %s"
                         % (rel, os.path.relpath(rec, ROOT)))
    how = "a tshark %s reading of %s (-T fields %s)" % (tshark_version(), rel, " ".join(OPTS))
    return {
        name + ".datagrams.tsv": table("# made by tests/tools/frag-references.py from %s; "
                                       "do not edit" % how, DGRAM_COLUMNS, datagrams(pcap)),
        name + ".requests.tsv": table("# made by tests/tools/frag-references.py from %s; the "
                                      "same as from its .unfragmented.pcap and as its "
                                      ".client.tsv; do not edit" % how, REQ_COLUMNS, reqs),
    }


def main():
    args = sys.argv[1:]
    check = "--check" in args
    caps = [a for a in args if a != "--check"] or sorted(
        p for p in glob.glob(os.path.join(CAPDIR, "*.pcap")) if not p.endswith(".unfragmented.pcap"))
    if not caps:
        print("no captures in %s" % CAPDIR)
        return 1
    os.makedirs(OUTDIR, exist_ok=True)
    bad = 0
    for pcap in caps:
        for name, text in references(os.path.abspath(pcap)).items():
            out = os.path.join(OUTDIR, name)
            if check:
                old = open(out).read() if os.path.exists(out) else None
                if old != text:
                    print("DIFFERS: %s" % os.path.relpath(out, ROOT))
                    bad += 1
            else:
                with open(out, "w") as f:
                    f.write(text)
                print("wrote %s (%d rows)" % (os.path.relpath(out, ROOT), text.count("\n") - 2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
