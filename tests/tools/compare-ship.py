#!/usr/bin/env python3
"""Compare a kalens SQLite database with what ClickHouse holds of it.

    compare-ship.py DB HTTP_PORT DATABASE [--raw]

For each table, the same aggregates (row count, sums of numbers and of
text lengths, counts of non-NULL values) computed by SQLite on DB and by
ClickHouse on DATABASE.<table> FINAL (through the Distributed table when
there is a cluster), restricted to DB's runs (by run_uuid).  --raw: without
FINAL (after OPTIMIZE ... FINAL, or to show duplicates).  Prints each
difference and exits 1 when there is one.  Python 3 standard library.
"""
import sqlite3, sys, urllib.request

db, port, chdb = sys.argv[1], sys.argv[2], sys.argv[3]
final = "" if "--raw" in sys.argv else " FINAL"
AGG = {
    "runs": "count(*), sum(packets), sum(connections), sum(requests), sum(findings),"
            " sum(length(source)), sum(length(status)), count(finished_at), sum(length(sensor))",
    "connections": "count(*), sum(bytes_to_server), sum(bytes_to_client), sum(requests),"
                   " sum(responses), sum(gap_bytes), count(tls_version), count(close_initiator),"
                   " sum(length(client_ip)), round(sum(first_seen), 2), sum(length(stack)),"
                   " sum(expected_persistent), count(idle_before_close), sum(length(sni)),"
                   " sum(packets_to_client), count(stored_seq)",
    "requests": "count(*), sum(seq), sum(status), sum(length(uri)), sum(length(method)),"
                " round(sum(request_ts), 2), count(response_ts), sum(length(host)),"
                " sum(pipelined)",
    "findings": "count(*), sum(length(kind)), sum(length(detail)), count(conn_id),"
                " count(request_seq)",
    "attempts": "count(*), sum(attempts), sum(syn_packets), sum(server_port),"
                " sum(length(client_ip)), sum(length(server_ip)), round(sum(first_seen), 2),"
                " round(sum(last_seen), 2)",
}
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
uuids = [r[0] for r in con.execute("SELECT run_uuid FROM runs")]
inlist = ",".join("'%s'" % u for u in uuids)
bad = 0
for t, agg in AGG.items():
    want = con.execute("SELECT %s FROM %s" % (agg, t)).fetchone()
    q = "SELECT %s FROM %s.%s%s WHERE run_uuid IN (%s) FORMAT TabSeparated" % (agg, chdb, t, final, inlist)
    got = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/" % port,
                                                        data=q.encode())).read().decode().split("\t")
    for i, (w, g) in enumerate(zip(want, got)):
        w = float(w or 0)
        g = float(g.strip()) if g.strip() not in ("", "\\N") else 0.0
        if abs(w - g) > 1e-6 * max(1.0, abs(w)):
            print("%s: aggregate %d (%s): sqlite %s, clickhouse %s" % (t, i, agg.split(",")[i].strip(), w, g))
            bad += 1
print("compare-ship: %s: %d differences (%s)" % (db, bad, "FINAL" if final else "raw"))
sys.exit(1 if bad else 0)
