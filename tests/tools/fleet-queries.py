#!/usr/bin/env python3
"""docs/fleet.md's ClickHouse forms of docs/queries.md's questions give the
same answers as the SQLite queries.

    fleet-queries.py DB HTTP_PORT DATABASE [N...]

Runs question N (every one by default) of docs/queries.md with SQLite on DB
and its form in docs/fleet.md ("### N." headings, the first ```sql block
under each) on ClickHouse at 127.0.0.1:HTTP_PORT, with the kalens tables in
DATABASE (the queries name `kalens.`; it is replaced), with
distributed_product_mode=local (joins and IN on a connection's rows stay on
its shard: docs/fleet.md).  DB must hold one run, so grouping by run (as the
SQLite views do) and over all runs (as the fleet forms do) agree; a leading
`run_id` column of an SQLite answer (the views are per run) is left out.  Rows are
compared as sets; numbers to 6 significant digits; comma-separated lists as
sets; NULL as empty.  Prints each difference; exit 1 when there is one, 2
when a question has no form.  Python 3 standard library.
"""
import os, re, sqlite3, sys, urllib.parse, urllib.request

db, port, chdb = sys.argv[1], sys.argv[2], sys.argv[3]
only = set(sys.argv[4:])
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def questions(path):
    text = open(os.path.join(root, path)).read()
    out = {}
    for m in re.finditer(r"^### (\d+)\..*?```sql\n(.*?)```", text, re.S | re.M):
        out.setdefault(m.group(1), m.group(2))
    return out


def norm(v):
    if v is None or v == "" or v == "\\N":
        return ""
    if isinstance(v, (int, float)):
        return "%.6g" % v
    try:
        return "%.6g" % float(v)
    except ValueError:
        pass
    if "," in v:
        return ",".join(sorted(x.strip() for x in v.split(",")))
    return v


lite, fleet = questions("docs/queries.md"), questions("docs/fleet.md")
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
bad = missing = 0
for n in sorted(lite, key=int):
    if only and n not in only:
        continue
    if n not in fleet:
        print("question %s: no ClickHouse form in docs/fleet.md" % n)
        missing += 1
        continue
    cur = con.execute(lite[n])
    skip = 1 if cur.description and cur.description[0][0] == "run_id" else 0
    want = sorted(tuple(norm(v) for v in row[skip:]) for row in cur)
    q = fleet[n].replace("kalens.", chdb + ".").rstrip().rstrip(";") + "\nFORMAT TabSeparated"
    url = "http://127.0.0.1:%s/?distributed_product_mode=local" % port
    try:
        body = urllib.request.urlopen(urllib.request.Request(url, data=q.encode())).read().decode()
    except urllib.error.HTTPError as e:
        print("question %s: ClickHouse: %s" % (n, e.read().decode()[:400]))
        bad += 1
        continue
    got = sorted(tuple(norm(v) for v in line.split("\t")) for line in body.splitlines())
    if got != want:
        print("question %s: sqlite %d rows, clickhouse %d rows" % (n, len(want), len(got)))
        for r in want:
            if r not in got:
                print("  only sqlite:     %s" % (r,))
        for r in got:
            if r not in want:
                print("  only clickhouse: %s" % (r,))
        bad += 1
    else:
        print("question %s: %d rows agree" % (n, len(want)))
sys.exit(2 if missing else 1 if bad else 0)
