#!/usr/bin/env python3
"""http10-keepalive-server.py PORT SECONDS: on 127.0.0.1:PORT, answer every
HTTP request with "HTTP/1.0 200 OK", Content-Length and Connection:
keep-alive, keeping the connection open (RFC 9112 §9.3 / RFC 2068 §19.7.1:
an HTTP/1.0 response persists when it says keep-alive).  Serves one
connection at a time and stops after SECONDS."""
import socket
import sys
import time

port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(4)
srv.settimeout(1.0)
body = b"<p>answered with HTTP/1.0 and keep-alive</p>\n"
while time.time() < end:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        continue
    conn.settimeout(5.0)
    buf = b""
    try:
        while time.time() < end:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while b"\r\n\r\n" in buf:            # requests without bodies (GET)
                head, buf = buf.split(b"\r\n\r\n", 1)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
                             b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body) + body)
    except socket.timeout:
        pass
    conn.close()
