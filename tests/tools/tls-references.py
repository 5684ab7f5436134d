#!/usr/bin/env python3
"""TLS handshake references: tshark's reading of each TLS connection.

    tests/tools/tls-references.py CAPTURE [TSHARK_OPTION...] > tests/expected/tls/NAME.tls.tsv

One row per TCP connection with a ServerHello: client port, the version the
server chose (its supported_versions extension, else the ServerHello
version), the ClientHello's server name, the ALPN protocol the server chose,
the cipher suite the server chose, the application-data records each
way, and, when a key log sits beside the capture, the HTTP requests tshark
finds in the decrypted connection (tls.record.content_type or, for TLS 1.3, tls.record.opaque_type == 23). Made with TShark 4.0 (Debian 12),
no key log: the rows are what the handshake says in clear.

Versions are named by tshark's own table (tshark -G values, the field
tls.handshake.extensions.supported_version): "TLS 1.2", "TLS 1.3 (draft
18)" for 0x7f12, "TLS 1.3 (Facebook draft 26)" for 0xfb1a; one not in
it stays its number ("0x7e02", which tshark shows as "Unknown (0x7e02)").  TSHARK_OPTIONs go to every tshark run: a capture on
ports tshark does not take for TLS needs "-d tcp.port==PORT,tls" for it to
read a connection's first record when that is an SSL 2.0-format
ClientHello (its heuristics look for a TLS record header).
"""
import os, subprocess, sys

cap = sys.argv[1]
opts = sys.argv[2:]
# A key log beside the capture (NAME.keylog or NAME-without-.pcap.keys.txt):
# tshark decrypts, and counts the HTTP requests of each connection, the
# truth kalens's requests_estimated is compared with.
keylog = None
for k in (cap[:-len(".pcap")] + ".keylog", cap[:-len(".pcap")] + ".keys.txt"):
    if cap.endswith(".pcap") and os.path.exists(k):
        keylog = k
decrypted = {}
if keylog:
    r = subprocess.run(["tshark", "-r", cap] + opts + ["-o", "tls.keylog_file:" + keylog, "-Y",
                        "http.request", "-T", "fields", "-e", "tcp.stream"],
                       capture_output=True, text=True, check=True).stdout
    for line in r.splitlines():
        decrypted[line] = decrypted.get(line, 0) + 1
fields = ["tcp.stream", "tcp.srcport", "tcp.dstport", "tls.handshake.type",
          "tls.handshake.version", "tls.handshake.extensions_server_name",
          "tls.handshake.extensions_alpn_str", "tls.handshake.ciphersuite",
          "tls.handshake.extensions.supported_version", "tls.record.content_type",
          "tls.record.opaque_type"]
cmd = ["tshark", "-r", cap] + opts + ["-o", "tcp.desegment_tcp_streams:TRUE", "-T", "fields",
       "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
for f in fields:
    cmd += ["-e", f]
out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
conns = {}
for line in out.splitlines():
    v = line.split("\t")
    v += [""] * (len(fields) - len(v))
    stream, sport, dport, htypes, hver, sni, alpn, cipher, sver, ctypes, otypes = v
    if not stream:
        continue
    c = conns.setdefault(stream, {"client": None, "server_port": None, "version": "", "sni": "",
                                  "alpn": "", "cipher": "", "app": {}})
    types = htypes.split(",") if htypes else []
    if "1" in types and c["client"] is None:
        c["client"], c["server_port"] = sport, dport
        c["sni"] = sni.split(",")[0] if sni else ""
    if "2" in types:
        c["version"] = sver.split(",")[0] if sver else hver.split(",")[0]
        c["alpn"] = alpn.split(",")[0] if alpn else ""
        c["cipher"] = cipher.split(",")[0] if cipher else ""
    # TLS 1.3 records carry their type in opaque_type (RFC 8446 §5.2)
    n = (ctypes.split(",").count("23") if ctypes else 0) + \
        (otypes.split(",").count("23") if otypes else 0)
    c["app"][sport] = c["app"].get(sport, 0) + n
names = {}
for line in subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True,
                           check=True).stdout.splitlines():
    v = line.split("\t")
    if len(v) == 4 and v[:2] == ["V", "tls.handshake.extensions.supported_version"] \
            and "GREASE" not in v[3]:
        names["0x%04x" % int(v[2], 16)] = v[3]
print("# made by tests/tools/tls-references.py from a tshark 4.0 reading of %s%s; do not edit"
      % (cap, "".join(" " + o for o in opts)))
if keylog:
    print("# requests_decrypted: tshark -o tls.keylog_file:%s -Y http.request, per connection" % keylog)
print("client_port\ttls_version\tsni\talpn\tcipher\trecords_to_server\trecords_to_client"
      "\trequests_decrypted")
for stream in sorted(conns, key=int):
    c = conns[stream]
    if c["client"] is None or not c["cipher"]:
        continue
    to_server = c["app"].get(c["client"], 0)
    to_client = sum(n for p, n in c["app"].items() if p != c["client"])
    print("\t".join([c["client"], names.get(c["version"], c["version"]), c["sni"], c["alpn"],
                     c["cipher"], str(to_server), str(to_client),
                     str(decrypted.get(stream, 0)) if keylog else ""]))
