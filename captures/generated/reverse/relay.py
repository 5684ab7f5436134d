#!/usr/bin/env python3
"""A reverse tunnel, as ngrok, frp or chisel agents make them, in two parts.

    relay.py relay PUBLIC_PORT AGENT_PORT SECONDS
    relay.py agent AGENT_PORT BACKEND_PORT SECONDS

The relay listens on 127.0.0.1:PUBLIC_PORT for HTTP clients and on
127.0.0.1:AGENT_PORT for the agent.  The agent, next to the HTTP server,
*connects* to the relay's AGENT_PORT and to the server at BACKEND_PORT, and
the two copy bytes both ways.  So on the agent's connection the TCP client
(the agent) sends the HTTP responses and the TCP server (the relay) the
requests.  One HTTP client connection, one agent connection; each side
ends when its peer closes; both give up after SECONDS.
"""
import socket, sys, threading, time


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def join(a, b, seconds):
    t = [threading.Thread(target=pump, args=(a, b), daemon=True),
         threading.Thread(target=pump, args=(b, a), daemon=True)]
    for x in t:
        x.start()
    for x in t:
        x.join(seconds)
    a.close()
    b.close()


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    return s


mode, p1, p2, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
if mode == "relay":
    pub, ag = listener(p1), listener(p2)
    pub.settimeout(seconds)
    ag.settimeout(seconds)
    agent, _ = ag.accept()          # the agent dials in first, as agents do
    print("agent connected", flush=True)
    client, _ = pub.accept()
    join(client, agent, seconds)
elif mode == "agent":
    deadline = time.time() + seconds
    while True:
        try:
            relay = socket.create_connection(("127.0.0.1", p1), 1)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    backend = socket.create_connection(("127.0.0.1", p2), 5)
    join(relay, backend, seconds)
else:
    raise SystemExit("relay.py relay|agent ...")
