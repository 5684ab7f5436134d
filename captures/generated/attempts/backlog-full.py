#!/usr/bin/env python3
"""A listener nobody is answered by: listen(0), never accept().

    backlog-full.py HOST PORT

Binds HOST:PORT, listens with a backlog of 0 and connects to itself once, so
its accept queue is full: Linux then drops every further SYN to it
(tcp_conn_request: the listen queue overflows), and a client sees no
answer at all, as from a server too busy to accept or a filtered port.
Prints "ready" when the queue is full, then sleeps until killed.
"""
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
srv = socket.socket(fam, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(0)
held = socket.create_connection((host, port), timeout=5)   # fills the queue
print("ready", flush=True)
while True:
    time.sleep(60)
