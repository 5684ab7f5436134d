#!/usr/bin/env python3
"""Who began the close of each TLS connection, as tshark reads it.

    tests/tools/tlsclose-references.py CAPTURE [KEYLOG|-] [TSHARK_OPTION...]

One row per TCP connection (tshark's tcp.stream) that has a TLS record:

  client_port  the port of the SYN's sender (else the higher port)
  fin_by       `client`/`server`: the sender of the first packet with FIN or
               RST; fin_frame, fin_ts its frame number and time (epoch s)
  alert_by     the sender of the first TLS alert that ends its side: a
               close_notify (description 0), a fatal alert (level 2), or an
               alert record tshark cannot read (an "Encrypted Alert": content
               type 21 without a description); alert, alert_frame, alert_ts
               its description (tshark's name in IANA form: "Close Notify" ->
               close_notify; "encrypted" when unread), frame and time
  alert_nokeys the same frame read by tshark without the key log: the name
               when the alert is in the clear, `encrypted` for an Encrypted
               Alert, empty when tshark sees no alert there (TLS 1.3 protects
               alerts inside application-data records)

The reading with keys uses KEYLOG (tls.keylog_file); "-" or none: no keys,
and then alert_nokeys repeats alert.  TSHARK_OPTIONs (decode-as for ports
tshark does not take for a protocol) go to both runs.  Python 3 standard
library and tshark (the references were made with tshark 4.0.17, Debian 12).
"""
import subprocess
import sys

cap = sys.argv[1]
keylog = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
opts = sys.argv[3:]
FIELDS = ["tcp.stream", "frame.number", "frame.time_epoch", "tcp.srcport", "tcp.dstport",
          "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset",
          "tls.record.content_type", "tls.alert_message.level", "tls.alert_message.desc"]

names = {}
for line in subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True,
                           check=True).stdout.splitlines():
    v = line.split("\t")
    if len(v) == 4 and v[:2] == ["V", "tls.alert_message.desc"]:
        names[v[2]] = v[3].lower().replace(" ", "_")


def read(keys):
    cmd = ["tshark", "-r", cap] + opts
    if keys:
        cmd += ["-o", "tls.keylog_file:" + keys]
    cmd += ["-Y", "tcp", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
            "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    rows = []
    for line in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines():
        v = line.split("\t")
        v += [""] * (len(FIELDS) - len(v))
        rows.append(dict(zip(FIELDS, v)))
    return rows


def alert_of(r):
    """The closing alert of one frame (its first alert record), or None."""
    types = r["tls.record.content_type"].split(",") if r["tls.record.content_type"] else []
    if "21" not in types:
        return None
    levels = r["tls.alert_message.level"].split(",") if r["tls.alert_message.level"] else []
    descs = r["tls.alert_message.desc"].split(",") if r["tls.alert_message.desc"] else []
    if not descs:
        return "encrypted"
    level, desc = (levels[0] if levels else ""), descs[0]
    if desc == "0" or level == "2":
        return names.get(desc, "alert %s" % desc)
    return None


keyed = read(keylog)
plain = read(None) if keylog else keyed
plain_alert = {r["frame.number"]: alert_of(r) for r in plain}
conns = {}
for r in keyed:
    s = r["tcp.stream"]
    c = conns.setdefault(s, {"ports": None, "client": None, "tls": False, "fin": None,
                             "alert": None})
    sport, dport = r["tcp.srcport"], r["tcp.dstport"]
    if c["ports"] is None:
        c["ports"] = (sport, dport)
    if r["tcp.flags.syn"] == "1" and r["tcp.flags.ack"] == "0" and c["client"] is None:
        c["client"] = sport
    if r["tls.record.content_type"]:
        c["tls"] = True
    if c["fin"] is None and ("1" in (r["tcp.flags.fin"], r["tcp.flags.reset"])):
        c["fin"] = (sport, r["frame.number"], r["frame.time_epoch"])
    a = alert_of(r)
    if c["alert"] is None and a:
        c["alert"] = (sport, a, r["frame.number"], r["frame.time_epoch"])

print("# made by tests/tools/tlsclose-references.py from tshark readings of %s%s%s; do not edit"
      % (cap, " with the key log " + keylog if keylog else " without keys",
         "".join(" " + o for o in opts)))
print("client_port\tfin_by\tfin_frame\tfin_ts\talert_by\talert\talert_frame\talert_ts\talert_nokeys")
for s in sorted(conns, key=int):
    c = conns[s]
    if not c["tls"]:
        continue
    client = c["client"] or max(c["ports"], key=int)
    side = lambda port: "client" if port == client else "server"
    row = [client]
    row += [side(c["fin"][0]), c["fin"][1], c["fin"][2]] if c["fin"] else ["", "", ""]
    if c["alert"]:
        row += [side(c["alert"][0]), c["alert"][1], c["alert"][2], c["alert"][3],
                plain_alert.get(c["alert"][2]) or ""]
    else:
        row += ["", "", "", "", ""]
    print("\t".join(row))
