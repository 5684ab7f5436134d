#!/usr/bin/env python3
"""hellos.py PORT RECORD.tsv

Plays the TLS handshakes that kalens's own clients cannot make (OpenSSL 3.0
sends no SSL 2.0-format ClientHello and knows no TLS 1.3 draft), one TCP
connection per scenario, between a client and a server in this process
on 127.0.0.1:PORT (ordinary sockets: the kernel makes the TCP handshakes,
make.sh records them with tcpdump).  The bytes are TLS records built here
by hand after the RFCs; nothing is encrypted: the "encrypted" records are
filler of the right type and size.  Each flight is one send() with
TCP_NODELAY, and each side reads the other's flight whole before it
answers, so every flight is its own segment(s).

RECORD.tsv is the client's own record, one row per connection: what it
offered, what the server sent back, and the application-data records
(content type 23) each side sent.

Formats:
  - SSL 2.0-format ClientHello, RFC 5246 appendix E.2 (RFC 6101 E.1): a
    2-byte header (length | 0x8000), msg_type 1, version, cipher_spec_length,
    session_id_length, challenge_length, 3-byte cipher specs, session id,
    challenge.
  - TLS 1.3 draft 18 ServerHello (draft-ietf-tls-tls13-18 section 4.1.3):
    version (0x7f12), random, cipher_suite, extensions: no session id and
    no compression method; key_share is extension 40 in that draft.
  - draft 22 and later (draft 28: 0x7f1c, and Facebook's 0xfb1a): the
    TLS 1.2-shaped ServerHello (legacy_version 0x0303, session id echo,
    compression method 0) with supported_versions (43) naming the version.
"""
import hashlib
import socket
import struct
import sys
import threading

port, record = int(sys.argv[1]), sys.argv[2]


def fill(label, n):
    """n deterministic bytes named by label (randoms, keys, ciphertext)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


def u8(v): return struct.pack(">B", v)
def u16(v): return struct.pack(">H", v)
def vec8(b): return u8(len(b)) + b
def vec16(b): return u16(len(b)) + b
def ext(t, data): return u16(t) + vec16(data)
def hs(t, body): return u8(t) + len(body).to_bytes(3, "big") + body
def rec(ct, body, ver=0x0303): return u8(ct) + u16(ver) + vec16(body)


def sslv2_hello(version, specs, challenge):
    body = (u8(1) + u16(version) + u16(3 * len(specs)) + u16(0) + u16(len(challenge)) +
            b"".join(s.to_bytes(3, "big") for s in specs) + challenge)
    return u16(0x8000 | len(body)) + body


def client_hello(name, versions, suites, key_share_ext, sid=b""):
    exts = (ext(0, vec16(u8(0) + vec16(name.encode()))) +
            ext(10, vec16(u16(0x001d))) +
            ext(43, vec8(b"".join(u16(v) for v in versions))) +
            ext(key_share_ext, vec16(u16(0x001d) + vec16(fill(name + "/ckey", 32)))))
    body = (u16(0x0303) + fill(name + "/crandom", 32) + vec8(sid) +
            vec16(b"".join(u16(s) for s in suites)) + vec8(b"\x00") + vec16(exts))
    return rec(22, hs(1, body), 0x0301)


SSL2_CK_RC4_128_WITH_MD5 = 0x010080
SSL2_CK_DES_192_EDE3_CBC_WITH_MD5 = 0x0700c0


def scenario_sslv2(name, version, specs, challenge_len, suite, sh_exts, exchanges):
    """An SSL 2.0-format ClientHello answered with a TLS ServerHello of
    `version`, then a TLS 1.2-style handshake (RSA key exchange, CCS,
    encrypted Finished) and `exchanges` request/response pairs."""
    hello = sslv2_hello(version, specs, fill(name + "/challenge", challenge_len))
    sh = (u16(version) + fill(name + "/srandom", 32) + vec8(fill(name + "/sid", 32)) + u16(suite) +
          u8(0) + (vec16(sh_exts) if sh_exts is not None else b""))
    flights = [
        ("c", hello),
        ("s", rec(22, hs(2, sh) + hs(14, b""), version)),
        ("c", rec(22, hs(16, vec16(fill(name + "/pms", 128))), version) + rec(20, b"\x01", version) +
         rec(22, fill(name + "/cfin", 48), version)),
        ("s", rec(20, b"\x01", version) + rec(22, fill(name + "/sfin", 48), version)),
    ]
    for i in range(exchanges):
        flights.append(("c", rec(23, fill("%s/req%d" % (name, i), 96 + 16 * i), version)))
        flights.append(("s", rec(23, fill("%s/resp%d" % (name, i), 400 - 32 * i), version)))
    flights.append(("c", rec(21, fill(name + "/alert", 32), version)))   # encrypted close_notify
    tls_suites = sum(1 for s in specs if s >> 16 == 0)
    return dict(name=name, hello="sslv2", offered="0x%04x" % version, suites=tls_suites,
                version="0x%04x" % version, suite="0x%04x" % suite, flights=flights,
                exchanges=exchanges)


def scenario_tls13(name, offered, chosen, suite, exchanges):
    """A TLS ClientHello offering `offered` (supported_versions), answered
    with a ServerHello choosing `chosen`: draft 18's own format for 0x7f12,
    else the TLS 1.2-shaped one with supported_versions; then the encrypted
    handshake as application-data records (the server's flight, the
    client's Finished) and `exchanges` request/response pairs."""
    early = chosen & 0xff00 == 0x7f00 and chosen & 0xff < 22
    sid = b"" if early else fill(name + "/csid", 32)   # middlebox compatibility mode
    ks = 40 if early else 51      # key_share's number before draft 23, and after
    ch = client_hello(name + ".test", offered, [0x1301, 0x1302, 0x1303, 0xc02f], ks, sid)
    share = ext(ks, u16(0x001d) + vec16(fill(name + "/skey", 32)))
    if early:
        sh = u16(chosen) + fill(name + "/srandom", 32) + u16(suite) + vec16(share)
    else:
        sh = (u16(0x0303) + fill(name + "/srandom", 32) + vec8(sid) + u16(suite) + u8(0) +
              vec16(ext(43, u16(chosen)) + share))
    ccs = b"" if early else rec(20, b"\x01")
    flights = [
        ("c", ch),
        ("s", rec(22, hs(2, sh)) + ccs + rec(23, fill(name + "/sflight", 700))),
        ("c", ccs + rec(23, fill(name + "/cfin", 53))),
    ]
    for i in range(exchanges):
        flights.append(("c", rec(23, fill("%s/req%d" % (name, i), 90 + 10 * i))))
        flights.append(("s", rec(23, fill("%s/resp%d" % (name, i), 300 + 50 * i))))
    flights.append(("c", rec(23, fill(name + "/alert", 19))))        # encrypted close_notify
    return dict(name=name, hello="tls", offered=",".join("0x%04x" % v for v in offered),
                suites=4, version="0x%04x" % chosen, suite="0x%04x" % suite, flights=flights,
                exchanges=exchanges)


def scenario_plain(name, offered, chosen, suite, exchanges):
    """A ServerHello choosing a version this script does not call TLS 1.3
    (0x7e02: no draft number, no variant kalens knows), TLS 1.2-shaped,
    then application-data records straight away."""
    ch = client_hello(name + ".test", offered, [0x1301, 0xc02f], 51)
    sh = (u16(0x0303) + fill(name + "/srandom", 32) + vec8(b"") + u16(suite) + u8(0) +
          vec16(ext(43, u16(chosen))))
    flights = [("c", ch), ("s", rec(22, hs(2, sh)) + rec(23, fill(name + "/sflight", 500)))]
    for i in range(exchanges):
        flights.append(("c", rec(23, fill("%s/req%d" % (name, i), 90))))
        flights.append(("s", rec(23, fill("%s/resp%d" % (name, i), 300))))
    return dict(name=name, hello="tls", offered=",".join("0x%04x" % v for v in offered),
                suites=2, version="0x%04x" % chosen, suite="0x%04x" % suite, flights=flights,
                exchanges=exchanges)


SCENARIOS = [
    # OpenSSL 0.9.8's kind of hello: SSL 2.0 suites beside TLS ones, the
    # renegotiation SCSV (0x0000ff), a 16-byte challenge; TLS 1.0 chosen
    scenario_sslv2("sslv2-tls10", 0x0301,
                   [SSL2_CK_RC4_128_WITH_MD5, SSL2_CK_DES_192_EDE3_CBC_WITH_MD5, 0x000039,
                    0x000035, 0x000033, 0x00002f, 0x00000a, 0x0000ff], 16, 0x002f, None, 2),
    # offering TLS 1.2 in the old format, a 32-byte challenge; the server
    # answers with extensions (renegotiation_info, extended_master_secret)
    scenario_sslv2("sslv2-tls12", 0x0303,
                   [0x00c02f, 0x00c030, 0x00009c, 0x00002f, 0x0000ff, SSL2_CK_RC4_128_WITH_MD5],
                   32, 0xc02f, ext(0xff01, b"\x00") + ext(23, b""), 1),
    scenario_tls13("draft18", [0x7f12, 0x0303], 0x7f12, 0x1301, 2),
    scenario_tls13("draft28", [0x7f1c, 0x0304, 0x0303], 0x7f1c, 0x1302, 1),
    scenario_tls13("fb-draft26", [0xfb1a, 0x7f1c, 0x0303], 0xfb1a, 0x1301, 1),
    scenario_plain("unknown-7e02", [0x7e02, 0x0303], 0x7e02, 0xc02f, 1),
]


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("peer closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def play(sock, flights, me):
    """Send my flights, read the other side's (their lengths are known)."""
    for who, data in flights:
        if who == me:
            sock.sendall(data)
        else:
            recv_exact(sock, len(data))


def serve(ls):
    for sc in SCENARIOS:
        conn, _ = ls.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            play(conn, sc["flights"], "s")
            conn.settimeout(5)
            while conn.recv(4096):        # until the client closes
                pass


ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(4)
server = threading.Thread(target=serve, args=(ls,))
server.start()
rows = []
for sc in SCENARIOS:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    local_port = s.getsockname()[1]
    play(s, sc["flights"], "c")
    s.close()
    appdata = {"c": 0, "s": 0}
    for who, data in sc["flights"]:
        at = 0
        while at < len(data):
            if data[at] & 0x80:           # the SSL 2.0-format hello: a 2-byte header
                at += 2 + (struct.unpack(">H", data[at:at + 2])[0] & 0x7fff)
                continue
            ct, _, length = struct.unpack(">BHH", data[at:at + 5])
            appdata[who] += ct == 23
            at += 5 + length
    rows.append([sc["name"], str(local_port), sc["hello"], sc["offered"], str(sc["suites"]),
                 sc["version"], sc["suite"], str(appdata["c"]), str(appdata["s"]),
                 str(sc["exchanges"])])
server.join()
ls.close()
with open(record, "w") as f:
    f.write("# client record for tls-legacy-hellos.pcap (captures/generated/tls-legacy/hellos.py):"
            " per connection, the hello the client sent (sslv2: SSL 2.0 format), the versions it"
            " offered, how many TLS suites, the version and suite the server's ServerHello chose,"
            " the application-data records (content type 23) each side sent, and the"
            " request/response exchanges\n")
    f.write("scenario\tlocal_port\thello\toffered\ttls_suites_offered\tserver_version\tserver_suite"
            "\trecords_to_server\trecords_to_client\texchanges\n")
    for r in rows:
        f.write("\t".join(r) + "\n")
