#!/usr/bin/env python3
"""drop-second-request-server.py PORT SECONDS: on 127.0.0.1:PORT, answer the
first request of each connection (HTTP/1.1, Content-Length, kept open), then
read the second request, wait 0.3 s and close without answering: a server
that drops a request it has read (as one restarting or at its request limit
does without Connection: close).  One connection at a time; stops after
SECONDS."""
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
body = b"<p>answered</p>\n"
while time.time() < end:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        continue
    conn.settimeout(5.0)
    buf, answered = b"", 0
    try:
        while time.time() < end:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                if answered == 0:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(body) + body)
                    answered += 1
                else:
                    time.sleep(0.3)
                    raise ConnectionAbortedError
    except (socket.timeout, ConnectionAbortedError):
        pass
    conn.close()
