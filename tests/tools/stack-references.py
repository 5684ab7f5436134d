#!/usr/bin/env python3
"""tshark's reading of the stacked-protocol captures (captures/generated/stack/,
made by captures/generated/make-stack.sh): one row per TCP stream, written to
tests/expected/stack/<capture name>.tsv.

Usage: tests/tools/stack-references.py [--check] [CAPTURE.pcap ...]
       (default: every captures/generated/stack/*.pcap; --check compares
       with the stored references instead of writing them, exit 1 on a
       difference)

How tshark is run (tshark 4.0, `-T pdml`, with the key log
<capture>.keylog when there is one: `-o tls.keylog_file:...`):
  - the server port of the capture (the destination of the SYNs) is decoded
    as the outer protocol with decode-as, chosen by the capture's name:
    connect-* http, socks* socks, smtp-* smtp, imap-* imap, pop3-* pop,
    ftp-* ftp (`-d tcp.port==P,PROTO`);
  - a first pass reads the tunnel targets (the CONNECT request's host:port,
    the SOCKS request's port); a second pass also decodes each target port
    as what the tunnel carries (`-d tcp.port==T,tls` when the capture has a
    key log, else http): tshark 4.0 hands the data after a CONNECT or a
    SOCKS handshake to the dissector of the target port;
  - `-o http.desegment_body:FALSE`: with body reassembly, tshark 4.0 loses
    a non-2xx answer to a CONNECT whose body comes in a second segment
    (tinyproxy's 500).

Columns:
  stream          tcp.stream
  client, server  ip:port; the client is the SYN sender
  layer           the outer protocol: http-connect, socks4, socks5, smtp,
                  imap, pop, ftp
  target          CONNECT: http.request.uri of the CONNECT; SOCKS: the
                  request's socks.remote_name / socks.v4a_dns_name /
                  socks.dst, ':', socks.port (v5) / socks.dstport (v4);
                  STARTTLS: the command (STARTTLS, STLS, AUTH TLS) when sent
  reply           the answer to it: CONNECT http.response.code; SOCKS
                  socks.results (v5: 0 = succeeded, 5 = refused; v4: 90 =
                  granted); STARTTLS the reply code / status
  tls_version     the ServerHello's supported_versions extension, else its
                  tls.handshake.version (0x0303 TLS 1.2, 0x0304 TLS 1.3)
  sni             tls.handshake.extensions_server_name of the ClientHello
  cipher          tls.handshake.ciphersuite of the ServerHello (0x....)
  inner_requests  client messages inside the tunnel / after TLS that tshark
                  read (HTTP requests, mail/FTP commands)
  outer_exchange  what tshark reads before the tunnel / TLS, in order:
                  C:<command> client, S:<code> server (a server's reply
                  lines up to the next client message give one S: entry,
                  the last code: SMTP/FTP the final line, IMAP the tagged
                  status, POP3 the +OK/-ERR); SOCKS: C:auth <methods>,
                  S:auth <method>, C:CONNECT <target>, S:<result>
  inner_exchange  the same inside (HTTP: C:<method> <uri>, S:<status>),
                  decrypted with the key log when in TLS

Python 3 stdlib only; needs tshark.
"""
import glob
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CAPDIR = os.path.join(ROOT, "captures", "generated", "stack")
OUTDIR = os.path.join(ROOT, "tests", "expected", "stack")
COLUMNS = ["stream", "client", "server", "layer", "target", "reply", "tls_version", "sni",
           "cipher", "inner_requests", "outer_exchange", "inner_exchange"]
OUTER = [("connect-", "http"), ("socks", "socks"), ("smtp-", "smtp"), ("imap-", "imap"),
         ("pop3-", "pop"), ("ftp-", "ftp")]
STARTTLS = {"STARTTLS", "STLS", "AUTH TLS"}
IMAP_STATUS = {"OK", "NO", "BAD", "PREAUTH", "BYE"}


def outer_proto(name):
    for prefix, proto in OUTER:
        if name.startswith(prefix):
            return proto
    raise SystemExit("%s: no outer protocol known for this name" % name)


def tshark(args):
    r = subprocess.run(["tshark", "-n"] + args, capture_output=True)
    if r.returncode != 0:
        raise SystemExit("tshark %s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r.stdout


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"TShark \(Wireshark\) (\S+)", out)
    return m.group(1).rstrip(".") if m else "?"


def server_port(pcap):
    out = tshark(["-r", pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                  "-T", "fields", "-e", "tcp.dstport"]).decode()
    ports = sorted(set(out.split()))
    if len(ports) != 1:
        raise SystemExit("%s: SYNs to %d ports (%s), expected one" % (pcap, len(ports), ports))
    return ports[0]


def fields(elem, name, real_only=False):
    """show= of every field called name under elem, in document order
    (real_only: not the ones tshark generates, size 0)."""
    return [f.get("show") for f in elem.iter("field")
            if f.get("name") == name and (not real_only or f.get("size", "0") != "0")]


def first(elem, name, real_only=False):
    v = fields(elem, name, real_only)
    return v[0] if v else None


def hex4(v):
    return "0x%04x" % int(v, 0)


class Stream:
    def __init__(self, n):
        self.n = n
        self.client = self.server = None
        self.layer = ""
        self.target = self.reply = ""
        self.tls_version = self.sni = self.cipher = ""
        self.tls_started = False
        self.tunnel_up = False
        self.outer, self.inner = [], []
        self.inner_requests = 0

    def add(self, inner, who, text):
        (self.inner if inner else self.outer).append((who, text))
        if inner and who == "C":
            self.inner_requests += 1


def exchange(entries):
    """C: entries as they come; a run of S: entries is one reply, its last
    code ("-": tshark read server data without a code)."""
    out = []
    for who, text in entries:
        if who == "S" and out and out[-1].startswith("S:"):
            if text:
                out[-1] = "S:" + text
            continue
        out.append("%s:%s" % (who, text or "-"))
    return "|".join(out)


def read(pcap, proto, port, keylog, inner_decodes):
    args = ["-r", pcap, "-o", "http.desegment_body:FALSE", "-d", "tcp.port==%s,%s" % (port, proto)]
    for p, what in inner_decodes:
        args += ["-d", "tcp.port==%s,%s" % (p, what)]
    if keylog:
        args += ["-o", "tls.keylog_file:" + keylog]
    xml = tshark(args + ["-T", "pdml"])
    streams = {}
    for pkt in ET.fromstring(xml).iter("packet"):
        n = first(pkt, "tcp.stream")
        if n is None:
            continue
        s = streams.setdefault(int(n), Stream(int(n)))
        src = "%s:%s" % (first(pkt, "ip.src"), first(pkt, "tcp.srcport"))
        dst = "%s:%s" % (first(pkt, "ip.dst"), first(pkt, "tcp.dstport"))
        if s.client is None:
            if first(pkt, "tcp.flags.syn") in ("1", "True") and first(pkt, "tcp.flags.ack") in ("0", "False"):
                s.client, s.server = src, dst
            else:
                continue
        from_client = src == s.client
        who = "C" if from_client else "S"
        for p in pkt.findall("proto"):
            name = p.get("name")
            if name == "tls":
                for hs in p.iter("field"):
                    if hs.get("name") != "tls.handshake":
                        continue
                    t = first(hs, "tls.handshake.type")
                    if t == "1":
                        s.tls_started = True
                        s.sni = first(hs, "tls.handshake.extensions_server_name") or s.sni
                    elif t == "2":
                        sv = first(hs, "tls.handshake.extensions.supported_version")
                        v = sv or first(hs, "tls.handshake.version")
                        s.tls_version = hex4(v) if v else ""
                        c = first(hs, "tls.handshake.ciphersuite")
                        s.cipher = hex4(c) if c else ""
            elif name == "http":
                s.layer = s.layer or "http-connect"
                method = first(p, "http.request.method")
                code = first(p, "http.response.code")
                if method is not None:
                    uri = first(p, "http.request.uri") or ""
                    if method == "CONNECT" and not s.tunnel_up and not s.target:
                        s.target = uri
                        s.add(False, "C", "CONNECT " + uri)
                    else:
                        s.add(True, "C", "%s %s" % (method, uri))
                elif code is not None:
                    if s.target and not s.tunnel_up and not s.reply:
                        s.reply = code
                        s.tunnel_up = code.startswith("2")
                        s.add(False, "S", code)
                    else:
                        s.add(True, "S", code)
            elif name == "socks":
                ver = first(p, "socks.version", True)
                if ver is None:
                    continue            # only tshark's generated fields: tunnelled data
                if ver in ("4", "5") and not s.layer.startswith("socks"):
                    s.layer = "socks" + ver     # (a v4 reply has version 0)
                methods = fields(p, "socks.auth_method", True)
                accepted = first(p, "socks.auth_accepted_method", True)
                cmd = first(p, "socks.command", True)
                res = first(p, "socks.results", True)
                if from_client and methods:
                    s.add(False, "C", "auth " + ",".join(methods))
                elif not from_client and accepted is not None:
                    s.add(False, "S", "auth " + accepted)
                elif from_client and cmd == "1":
                    host = (first(p, "socks.remote_name", True) or first(p, "socks.v4a_dns_name", True)
                            or first(p, "socks.dst", True) or "")
                    dport = first(p, "socks.port", True) or first(p, "socks.dstport", True) or ""
                    s.target = "%s:%s" % (host, dport)
                    s.add(False, "C", "CONNECT " + s.target)
                elif not from_client and res is not None:
                    s.reply = res
                    s.tunnel_up = res in ("0", "90")
                    s.add(False, "S", res)
            elif name in ("smtp", "imap", "pop", "ftp"):
                s.layer = name
                if name == "smtp":
                    # smtp.req.command is 4 letters: STARTTLS is "STAR" + parameter "TLS"
                    c, a = first(p, "smtp.command_line"), None
                    c = c.replace("\\r\\n", "").strip() if c is not None else None
                    codes = fields(p, "smtp.response.code")
                elif name == "imap":
                    c, a = first(p, "imap.request.command"), None
                    codes = fields(p, "imap.response.status")
                    if not codes and not from_client:
                        # tshark 4.0 gives the untagged greeting no status field
                        for line in fields(p, "imap.line"):
                            w = line.split()
                            if len(w) > 1 and w[0] == "*" and w[1] in IMAP_STATUS:
                                codes.append(w[1])
                elif name == "pop":
                    c, a = first(p, "pop.request.command"), first(p, "pop.request.parameter")
                    codes = fields(p, "pop.response.indicator")
                else:
                    c, a = first(p, "ftp.request.command"), first(p, "ftp.request.arg")
                    codes = fields(p, "ftp.response.code")
                if from_client and c is not None:
                    cmd = c + (" " + a if a else "")
                    if not s.tls_started and cmd.upper() in STARTTLS:
                        s.target = cmd
                    s.add(s.tls_started, "C", cmd)
                elif not from_client:
                    if not codes:
                        s.add(s.tls_started, "S", "")
                        continue
                    if (not s.tls_started and s.target and not s.reply
                            and s.outer and s.outer[-1] == ("C", s.target)):
                        s.reply = codes[-1]
                    s.add(s.tls_started, "S", codes[-1])
    return [streams[k] for k in sorted(streams) if streams[k].client is not None]


def read_capture(pcap):
    """tshark's streams of one capture, and the options it was read with."""
    name = os.path.basename(pcap)[: -len(".pcap")]
    proto = outer_proto(name)
    port = server_port(pcap)
    keylog = pcap[: -len(".pcap")] + ".keylog"
    keylog = keylog if os.path.exists(keylog) and os.path.getsize(keylog) > 0 else None
    inner = []
    if proto in ("http", "socks"):
        targets = set()
        for s in read(pcap, proto, port, keylog, []):
            if s.target and s.target.rsplit(":", 1)[-1].isdigit():
                targets.add(s.target.rsplit(":", 1)[-1])
        inner = [(t, "tls" if keylog else "http") for t in sorted(targets)]
    streams = read(pcap, proto, port, keylog, inner)
    opts = "-o http.desegment_body:FALSE -d tcp.port==%s,%s%s%s" % (
        port, proto, "".join(" -d tcp.port==%s,%s" % x for x in inner),
        " -o tls.keylog_file:%s" % os.path.relpath(keylog, ROOT) if keylog else "")
    return streams, opts


def rows_for(pcap):
    name = os.path.basename(pcap)[: -len(".pcap")]
    streams, opts = read_capture(pcap)
    head = ["# made by tests/tools/stack-references.py from a tshark %s reading of %s (-T pdml %s); "
            "do not edit" % (tshark_version(), os.path.relpath(pcap, ROOT), opts),
            "\t".join(COLUMNS)]
    body = []
    for s in streams:
        body.append("\t".join([str(s.n), s.client, s.server, s.layer, s.target, s.reply,
                               s.tls_version, s.sni, s.cipher, str(s.inner_requests),
                               exchange(s.outer), exchange(s.inner)]))
    return name, "\n".join(head + body) + "\n"


def main():
    args = sys.argv[1:]
    check = "--check" in args
    caps = [a for a in args if a != "--check"] or sorted(glob.glob(os.path.join(CAPDIR, "*.pcap")))
    if not caps:
        print("no captures in %s" % CAPDIR)
        return 1
    os.makedirs(OUTDIR, exist_ok=True)
    bad = 0
    for pcap in caps:
        name, text = rows_for(os.path.abspath(pcap))
        out = os.path.join(OUTDIR, name + ".tsv")
        if check:
            old = open(out).read() if os.path.exists(out) else None
            if old != text:
                print("DIFFERS: %s" % os.path.relpath(out, ROOT))
                bad += 1
        else:
            with open(out, "w") as f:
                f.write(text)
            print("wrote %s (%d streams)" % (os.path.relpath(out, ROOT), text.count("\n") - 2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
