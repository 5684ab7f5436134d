#!/usr/bin/env python3
"""A TCP proxy that delays: for tests of a slow server.

    slow-proxy.py LISTEN_PORT TARGET_PORT DELAY SECONDS

Listens on 127.0.0.1:LISTEN_PORT and forwards each connection to
127.0.0.1:TARGET_PORT, sleeping DELAY seconds before it passes on each
chunk the client sent (so every request waits).  Exits after SECONDS.
Prints "ready" once it listens.
"""
import socket, sys, threading, time

lport, tport, delay, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])


def pump(a, b, slow):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if slow:
                time.sleep(delay)
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(c):
    try:
        u = socket.create_connection(("127.0.0.1", tport), 5)
    except OSError:
        c.close()
        return
    threading.Thread(target=pump, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, False), daemon=True).start()


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(16)
ls.settimeout(0.5)
print("ready", flush=True)
end = time.time() + seconds
while time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    serve(c)
