#!/usr/bin/env python3
"""Check the clients' own records of the stacked-protocol captures
(captures/generated/stack/NAME.client.tsv, written by make-stack.sh) against
a fresh tshark reading of NAME.pcap (tests/tools/stack-references.py's
reader, the same that writes tests/expected/stack/NAME.tsv).

Usage: tests/tools/check-stack-records.py [captures/generated/stack/NAME.client.tsv ...]
       (default: every captures/generated/stack/*.client.tsv)

curl records (rows per URL, then `proxy` and `tls` rows):
  - connections: a row with num_connects >= 1 opens one, the rows with 0
    that follow reused it; = tshark's TCP streams, in order, each with the
    client's local_ip:local_port as client and remote_ip:remote_port (the
    proxy) as server
  - `proxy` row (curl -v) of each connection: CONNECT = layer http-connect,
    SOCKS5 / SOCKS5-hostname = socks5, SOCKS4a = socks4 (tshark names v4a
    requests v4); its target = tshark's target (the CONNECT uri, the SOCKS
    request's address or name and port); `granted` = SOCKS reply 0 (v5) or
    90 (v4), `refused(N)` = reply N, a CONNECT response code = tshark's and
    = the connection's first %{http_connect}
  - `tls` rows: TLSv1.2 / TLSv1.3 = tshark's 0x0303 / 0x0304, the IANA
    number = tshark's cipher; SNI = the URL's host (curl sends it for a
    name); no TLS row, no TLS version
  - the answered requests (http_code not 000), in order, = tshark's inner
    exchange: C:GET <path>, S:<http_code>; a connection whose rows are all
    000 carried no request
s_client and swaks records (`tool phase command reply` rows, then for
s_client a `protocol suite iana sni exitcode` row):
  - one TCP stream
  - phase plain rows = tshark's outer exchange ((connect) = the greeting:
    S:<reply>; else C:<command>, S:<reply>)
  - phase tls rows = tshark's inner exchange (decrypted with the key log)
  - protocol / iana / sni = tshark's tls_version / cipher / sni; swaks: no
    TLS at all

Exit status 0 when everything agrees, 1 otherwise. Python 3 stdlib only.
"""
import glob
import importlib.util
import os
import sys
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_spec = importlib.util.spec_from_file_location(
    "stack_references", os.path.join(ROOT, "tests", "tools", "stack-references.py"))
refs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(refs)

TLS_VERSION = {"TLSv1.2": "0x0303", "TLSv1.3": "0x0304"}
LAYER = {"CONNECT": "http-connect", "SOCKS5": "socks5", "SOCKS5-hostname": "socks5",
         "SOCKS4a": "socks4"}


def read_tsv(path):
    """Rows as dicts, each under the last `tool ...` header line before it."""
    header, rows, comments = None, [], []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                comments.append(line)
                continue
            if not line:
                continue
            cols = line.split("\t")
            if cols[0] == "tool":
                header = cols
            else:
                rows.append(dict(zip(header, cols)))
    return rows, comments


class Checker:
    def __init__(self, name):
        self.name, self.failures, self.passes = name, 0, 0

    def eq(self, what, got, want):
        if str(got) == str(want):
            self.passes += 1
        else:
            self.failures += 1
            print("FAIL %s: %s: client record says %r, tshark says %r" % (self.name, what, want, got))


def check_curl(c, rows, streams):
    reqs = [r for r in rows if r["tool"] == "curl"]
    proxies = [r for r in rows if r["tool"] == "proxy"]
    tls = [r for r in rows if r["tool"] == "tls"]
    groups = []
    for r in reqs:
        if int(r["num_connects"]) >= 1 or not groups:
            groups.append([r])
        else:
            groups[-1].append(r)
    c.eq("TCP connections (= rows with num_connects >= 1)", len(streams), len(groups))
    c.eq("proxy negotiations (curl -v) = connections", len(proxies), len(groups))
    tls_i = 0
    for i, (g, s) in enumerate(zip(groups, streams)):
        r0 = g[0]
        where = "connection %d" % (i + 1)
        c.eq(where + ": client", s.client, "%s:%s" % (r0["local_ip"], r0["local_port"]))
        c.eq(where + ": server (the proxy)", s.server, "%s:%s" % (r0["remote_ip"], r0["remote_port"]))
        if i < len(proxies):
            p = proxies[i]
            c.eq(where + ": layer", s.layer, LAYER.get(p["kind"], p["kind"]))
            c.eq(where + ": tunnel target", s.target, p["target"])
            res = p["result"]
            if p["kind"] == "CONNECT":
                c.eq(where + ": CONNECT response", s.reply, res)
                c.eq(where + ": CONNECT response (%{http_connect})", s.reply, r0["http_connect"])
            elif res == "granted":
                c.eq(where + ": SOCKS reply (granted)", s.reply, "90" if p["kind"] == "SOCKS4a" else "0")
            elif res.startswith("refused("):
                c.eq(where + ": SOCKS reply (refused)", s.reply, res[len("refused("):-1])
            else:
                c.eq(where + ": proxy result", s.reply, res)
        url = urllib.parse.urlsplit(r0["url"])
        answered = [r for r in g if r["http_code"] != "000"]
        if url.scheme == "https" and answered:
            t = tls[tls_i] if tls_i < len(tls) else {"version": "", "iana": ""}
            tls_i += 1
            c.eq(where + ": TLS version", s.tls_version, TLS_VERSION.get(t["version"], t["version"]))
            c.eq(where + ": cipher suite", s.cipher, t["iana"])
            host = url.hostname or ""
            c.eq(where + ": SNI (the URL's host name)", s.sni,
                 "" if host.replace(".", "").isdigit() else host)
        else:
            c.eq(where + ": TLS version (no TLS)", s.tls_version, "")
        want = []
        for r in answered:
            u = urllib.parse.urlsplit(r["url"])
            want += ["C:GET %s" % ((u.path or "/") + ("?" + u.query if u.query else "")),
                     "S:%s" % r["http_code"]]
        c.eq(where + ": requests inside the tunnel", s.inner_exchange_text, "|".join(want))
        c.eq(where + ": inner requests", s.inner_requests, len(answered))
    c.eq("tls rows (one per TLS connection)", tls_i, len(tls))


def check_dialog(c, rows, streams):
    c.eq("TCP connections", len(streams), 1)
    if not streams:
        return
    s = streams[0]
    d = [r for r in rows if "phase" in r]

    def ex(phase):
        out = []
        for r in d:
            if r["phase"] != phase:
                continue
            if r["command"] != "(connect)":
                out.append("C:" + r["command"])
            out.append("S:" + (r["reply"] or "-"))
        return "|".join(out)

    c.eq("exchange before TLS", s.outer_exchange_text, ex("plain"))
    c.eq("exchange inside TLS", s.inner_exchange_text, ex("tls"))
    t = [r for r in rows if "protocol" in r]
    if t:
        t = t[0]
        c.eq("TLS version", s.tls_version, TLS_VERSION.get(t["protocol"], t["protocol"]))
        c.eq("cipher suite", s.cipher, t["iana"])
        c.eq("SNI", s.sni, t["sni"])
    else:
        c.eq("TLS version (no TLS)", s.tls_version, "")


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "captures", "generated", "stack",
                                                          "*.client.tsv")))
    if not files:
        print("no client records found")
        return 1
    total = 0
    for f in files:
        pcap = os.path.abspath(f[: -len(".client.tsv")] + ".pcap")
        name = os.path.relpath(pcap, ROOT)
        c = Checker(name)
        rows, _ = read_tsv(f)
        streams, _ = refs.read_capture(pcap)
        for s in streams:
            s.outer_exchange_text = refs.exchange(s.outer)
            s.inner_exchange_text = refs.exchange(s.inner)
        tools = {r["tool"] for r in rows}
        if "curl" in tools:
            check_curl(c, rows, streams)
        elif tools & {"s_client", "swaks"}:
            check_dialog(c, rows, streams)
        else:
            c.eq("known client record format", sorted(tools), "curl / s_client / swaks")
        print("%s %s: %d checks, %d failed" % ("ok  " if c.failures == 0 else "FAIL", name,
                                              c.passes + c.failures, c.failures))
        total += c.failures
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
