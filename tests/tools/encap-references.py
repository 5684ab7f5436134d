#!/usr/bin/env python3
"""tshark's reading of the tunnel and link-type captures
(captures/generated/encap/, made by captures/generated/make-encap.sh): one
row per connection, written to tests/expected/encap/<capture name>.tsv.

Usage: tests/tools/encap-references.py [--check] [CAPTURE.pcap ...]
       (default: every captures/generated/encap/*.pcap; --check compares
       with the stored references instead of writing them, exit 1 on a
       difference)

tshark (4.0) decodes every one of these encapsulations on its own (by the
well-known UDP ports 4789, 6081, 2152, GRE protocol types, link types); it
is run once per capture with `-T fields -E occurrence=a`, and each frame's
frame.protocols says which headers it has, outermost first.

Connections: tshark's tcp.stream, with one difference that kalens makes on
purpose and this script states: Wireshark's conversations ignore tunnels,
so the same traffic mirrored from two hosts in two VXLAN VNIs is one
tcp.stream there (every packet seen twice).  kalens keys a connection by
its tunnel too (mirrored traffic from many hosts overlaps in address
space), so here a stream is split by the innermost tunnel's domain (kind,
identifier except GTP-U's per-direction TEID, outer addresses in either
order), and two parts of one stream are joined again when each saw only
one direction, the opposite of the other's (one connection whose
directions were mirrored into two tunnels: tshark's one stream).  When a
stream is split, each part's requests are read by tshark again from a
capture of that part's frames alone (`-Y "frame.number in {...}" -w`):
in the whole capture tshark takes the second copy of every segment for a
retransmission and reads no request in it.

Columns:
  client, server     inner ip:port; the client is the SYN sender
  requests           http.request frames
  uris               their http.request.uri, in order, joined by '|'
  encap_to_server    the tunnels of the client's first packet, outermost
                     first, as kalens names them: vxlan, geneve, gre,
                     erspan-i/-ii/-iii (erspan.version absent/1/2), gtp-u,
                     ipip (an IP header directly inside another), ' > '
  encap_id_to_server the innermost tunnel's vxlan.vni, geneve.vni,
                     gre.key, erspan.spanid or gtp.teid; empty when none
  encap_src_to_server, encap_dst_to_server
                     the outer ip.src/ipv6.src and dst of the innermost
                     tunnel (the IP header just before it)
  encap_*_to_client  the same for the server's first packet
And <name>.run.tsv: frames, and wlan.fc.protected data frames (encrypted).

Python 3 stdlib only; needs tshark.
"""
import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPS = os.path.join(ROOT, "captures", "generated", "encap")
EXPECT = os.path.join(ROOT, "tests", "expected", "encap")

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack",
          "vxlan.vni", "geneve.vni", "gre.key", "erspan.spanid", "erspan.version", "gtp.teid",
          "http.request.uri", "wlan.fc.protected", "wlan.fc.type"]

COLUMNS = ["client", "server", "requests", "uris"] + [
    f"encap{p}_{d}" for d in ("to_server", "to_client") for p in ("", "_id", "_src", "_dst")]


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    return out.split("\n")[0].replace("TShark (Wireshark) ", "").split(" ")[0]


def frames(path):
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        v = line.split("\t")
        yield {k: (v[i].split(",") if v[i] else []) for i, k in enumerate(FIELDS)}


def tunnels(fr):
    """[(kind, id or '', outer src, outer dst)] outermost first."""
    protos = fr["frame.protocols"][0].split(":")
    ips = {"ip": (fr["ip.src"], fr["ip.dst"]), "ipv6": (fr["ipv6.src"], fr["ipv6.dst"])}
    seen = {"ip": 0, "ipv6": 0}
    ids = {k: list(fr[k]) for k in ("vxlan.vni", "geneve.vni", "gre.key", "erspan.spanid",
                                    "gtp.teid")}
    res = []
    last_ip = None
    for i, p in enumerate(protos):
        if p in ("ip", "ipv6"):
            if last_ip and protos[i - 1] in ("ip", "ipv6"):
                res.append(("ipip", "") + last_ip)
            n = seen[p]
            seen[p] += 1
            last_ip = (ips[p][0][n], ips[p][1][n])
        elif p == "vxlan":
            res.append(("vxlan", ids["vxlan.vni"].pop(0)) + last_ip)
        elif p == "geneve":
            res.append(("geneve", ids["geneve.vni"].pop(0)) + last_ip)
        elif p == "gtp":
            res.append(("gtp-u", str(int(ids["gtp.teid"].pop(0), 16))) + last_ip)
        elif p == "gre":
            key = ids["gre.key"].pop(0) if ids["gre.key"] and "erspan" not in protos[i:i + 2] else ""
            if protos[i + 1] == "erspan":
                ver = fr["erspan.version"][0] if fr["erspan.version"] else ""
                kind = {"": "erspan-i", "1": "erspan-ii", "2": "erspan-iii"}[ver]
                sid = ids["erspan.spanid"].pop(0) if ver else ""
                res.append((kind, sid) + last_ip)
            else:
                res.append(("gre", str(int(key, 16)) if key.startswith("0x") else key) + last_ip)
    return res


def inner_endpoints(fr):
    """(src ip, dst ip) of the innermost IP header."""
    protos = fr["frame.protocols"][0].split(":")
    last = [p for p in protos if p in ("ip", "ipv6")][-1]
    key = "ip" if last == "ip" else "ipv6"
    return fr[key + ".src"][-1], fr[key + ".dst"][-1]


def hostport(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def domain(tun):
    if not tun:
        return None
    kind, ident, a, b = tun[-1]
    if kind == "gtp-u":
        ident = ""
    return (tuple(t[0] for t in tun), ident, min(a, b), max(a, b))


def read(path):
    run = {"frames": 0, "encrypted": 0}
    parts = {}     # (stream, domain) -> connection facts
    order = []
    for fr in frames(path):
        run["frames"] += 1
        if fr["wlan.fc.protected"] == ["1"] and fr["wlan.fc.type"] == ["2"]:
            run["encrypted"] += 1
        if not fr["tcp.stream"]:
            continue
        tun = tunnels(fr)
        src, dst = inner_endpoints(fr)
        sport, dport = fr["tcp.srcport"][-1], fr["tcp.dstport"][-1]
        key = (fr["tcp.stream"][-1], domain(tun))
        c = parts.get(key)
        if c is None:
            c = parts[key] = {"dirs": {}, "client": None, "uris": [], "ends": None}
            order.append(key)
        a, b = hostport(src, sport), hostport(dst, dport)
        if c["ends"] is None:
            c["ends"] = {a, b}
        syn, ack = fr["tcp.flags.syn"][-1], fr["tcp.flags.ack"][-1]
        if syn in ("1", "True") and ack in ("0", "False") and c["client"] is None:
            c["client"] = a
        c["dirs"].setdefault(a, tun)
        c["uris"] += fr["http.request.uri"]
        c.setdefault("frames", []).append(fr["frame.number"][0])
    # A stream split by tunnel: each part's requests from its frames alone.
    streams = {}
    for key in order:
        streams.setdefault(key[0], []).append(key)
    for keys in streams.values():
        if len(keys) < 2:
            continue
        for key in keys:
            c = parts[key]
            with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
                subprocess.run(["tshark", "-r", path, "-Y",
                                "frame.number in {" + ",".join(c["frames"]) + "}", "-w", tmp.name],
                               capture_output=True, check=True)
                c["uris"] = [u for f in frames(tmp.name) for u in f["http.request.uri"]]
    # Join the parts of a stream that each saw one direction only.
    merged = []
    for key in order:
        c = parts[key]
        for m in merged:
            if m["stream"] == key[0] and len(m["dirs"]) == 1 and len(c["dirs"]) == 1 and \
                    set(m["dirs"]) != set(c["dirs"]):
                m["dirs"].update(c["dirs"])
                m["uris"] += c["uris"]
                m["client"] = m["client"] or c["client"]
                break
        else:
            c["stream"] = key[0]
            merged.append(c)
    rows = []
    for c in merged:
        client = c["client"]
        server = [e for e in c["ends"] if e != client][0]
        row = {"client": client, "server": server, "requests": str(len(c["uris"])),
               "uris": "|".join(c["uris"])}
        for d, who in (("to_server", client), ("to_client", server)):
            tun = c["dirs"].get(who, [])
            row[f"encap_{d}"] = " > ".join(t[0] for t in tun)
            ident = tun[-1][1] if tun else ""
            row[f"encap_id_{d}"] = str(int(ident, 16)) if ident.startswith("0x") else ident
            row[f"encap_src_{d}"] = tun[-1][2] if tun else ""
            row[f"encap_dst_{d}"] = tun[-1][3] if tun else ""
        rows.append(row)
    rows.sort(key=lambda r: (r["client"], r["encap_id_to_server"]))
    return rows, run


def render(path, rows, run):
    name = os.path.basename(path)
    head = (f"# made by tests/tools/encap-references.py from a tshark {tshark_version()} reading of "
            f"captures/generated/encap/{name}; do not edit\n")
    body = "\t".join(COLUMNS) + "\n" + "".join(
        "\t".join(r[c] for c in COLUMNS) + "\n" for r in rows)
    run_text = head + "frames\tencrypted\n" + f"{run['frames']}\t{run['encrypted']}\n"
    return head + body, run_text


def main(argv):
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"] or sorted(glob.glob(os.path.join(CAPS, "*.pcap")))
    os.makedirs(EXPECT, exist_ok=True)
    bad = 0
    for p in paths:
        rows, run = read(p)
        text, run_text = render(p, rows, run)
        n = os.path.splitext(os.path.basename(p))[0]
        for target, t in ((os.path.join(EXPECT, n + ".tsv"), text),
                          (os.path.join(EXPECT, n + ".run.tsv"), run_text)):
            if check:
                old = open(target).read() if os.path.exists(target) else ""
                strip = lambda s: s.split("\n", 1)[1] if s.startswith("#") else s
                if strip(old) != strip(t):
                    print(f"{target}: differs from tshark's reading", file=sys.stderr)
                    bad = 1
            else:
                with open(target, "w") as f:
                    f.write(t)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
