#!/usr/bin/env python3
"""A TLS HTTP/1.1 client that says, in its own record, when it did what.

    tls-client.py PORT KEYLOG MODE PATH...

Sends each PATH as a GET on one TLS connection to 127.0.0.1:PORT (reading
each response whole: Content-Length), writing the key log to KEYLOG, then
ends the connection as MODE says:
  unwrap-late-fin  send close_notify (SSLSocket.unwrap(), which waits for the
                   server's close_notify), wait 0.3 s, then close the socket:
                   the server's FIN goes out before the client's
  wait-server      wait (at most 5 s) until the server closes the connection
                   (its idle timeout), then close
Prints TSV rows on stdout: event, time (epoch seconds), detail.  The
`close_notify_sent` row is the time just before unwrap() was called.
"""
import socket, ssl, sys, time

port, keylog, mode, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.keylog_filename = keylog
raw = socket.create_connection(("127.0.0.1", port), 5)
s = ctx.wrap_socket(raw, server_hostname="localhost")
print("event\ttime\tdetail")
print("connected\t%.6f\t%s %s local port %d" % (time.time(), s.version(), s.cipher()[0],
                                                  s.getsockname()[1]))


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed in a response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed in a response body")
        body += chunk
    return head.split(b"\r\n")[0].decode()


for p in paths:
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p).encode())
    print("request\t%.6f\t%s" % (time.time(), p))
    print("response\t%.6f\t%s" % (time.time(), read_response(s)))

if mode == "unwrap-late-fin":
    print("close_notify_sent\t%.6f\tunwrap()" % time.time())
    plain = s.unwrap()      # returns once the server's close_notify came
    print("close_notify_received\t%.6f\tunwrap() returned" % time.time())
    time.sleep(0.3)
    print("fin_sent\t%.6f\tclose()" % time.time())
    plain.close()
elif mode == "wait-server":
    s.settimeout(5)
    try:
        data = s.recv(1)
        print("server_closed\t%.6f\trecv returned %r" % (time.time(), data))
    except (ssl.SSLError, OSError) as e:
        print("server_closed\t%.6f\t%s" % (time.time(), type(e).__name__))
    print("fin_sent\t%.6f\tclose()" % time.time())
    s.close()
else:
    raise SystemExit("unknown mode " + mode)
