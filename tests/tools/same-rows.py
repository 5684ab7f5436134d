#!/usr/bin/env python3
"""same-rows.py A.db B.db: do two kalens databases hold the same rows?

Each database holds the runs of the same captures, in the same order (one
`kalens read` of the same files with other --threads).  Rows are compared
as multisets, run by run, with what is only a numbering left out: row ids,
connections.stored_seq (the order rows reached the store), and a
connection id (conn_id, and "connection N" in a finding's detail) is
replaced by the connection's own row.  Of the runs row,
the counts are compared; times of the run itself, its CPU and memory are
not facts of the capture.

Exit 0 when they agree; 1 with the first differences on stdout.
"""
import re
import sqlite3
import sys

# Of runs: what the capture decides.
RUN_FACTS = [
    "source", "status", "message", "link_type", "packets", "bytes", "first_packet",
    "last_packet", "packets_not_tcp", "packets_fragment", "packets_truncated",
    "packets_malformed", "packets_encrypted", "packets_unsupported",
    "fragments_reassembled", "fragments_dropped", "packets_time_backwards",
    "connections", "requests", "findings", "connections_evicted",
    "connections_evicted_memory", "reasm_cap_hits",
]
NUMBERING = {"id", "run_id", "stored_seq"}


def columns(db, table):
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


def load(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    runs = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id")]
    out = []
    for run in runs:
        facts = {}
        rc = columns(db, "runs")
        row = db.execute("SELECT * FROM runs WHERE id = ?", (run,)).fetchone()
        facts["runs"] = [tuple((c, row[rc.index(c)]) for c in RUN_FACTS)]
        cc = columns(db, "connections")
        keep = [i for i, c in enumerate(cc) if c not in NUMBERING]
        conn = {}
        for r in db.execute("SELECT * FROM connections WHERE run_id = ?", (run,)):
            conn[r[0]] = tuple(r[i] for i in keep)
        facts["connections"] = sorted(conn.values(), key=repr)
        for table in ("requests", "findings", "attempts"):
            tc = columns(db, table)
            rows = []
            for r in db.execute(f"SELECT * FROM {table} WHERE run_id = ?", (run,)):
                v = []
                for c, x in zip(tc, r):
                    if c in NUMBERING:
                        continue
                    if c == "conn_id" and x is not None:
                        x = conn.get(x, ("missing connection", x))
                    if c == "detail" and x is not None:
                        x = re.sub(r"connection (\d+)",
                                   lambda m: "connection " + repr(conn.get(int(m.group(1)))), x)
                    v.append(x)
                rows.append(tuple(v))
            facts[table] = sorted(rows, key=repr)
        out.append((run, facts))
    db.close()
    return out


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if len(a) != len(b):
        print(f"runs: {len(a)} against {len(b)}")
        return 1
    bad = 0
    for (ra, fa), (rb, fb) in zip(a, b):
        for table in fa:
            if fa[table] == fb[table]:
                continue
            bad += 1
            sa, sb = set(fa[table]), set(fb[table])
            print(f"run {ra}/{rb} {table}: {len(fa[table])} rows against {len(fb[table])}")
            for x in sorted(sa - sb, key=repr)[:3]:
                print(f"  only in {sys.argv[1]}: {x}")
            for x in sorted(sb - sa, key=repr)[:3]:
                print(f"  only in {sys.argv[2]}: {x}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
