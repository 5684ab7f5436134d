#!/usr/bin/env bash
# t_export.sh KALENS SOURCE_DIR - `kalens export`, checked by outside tools
# and the clients' own records:
#   - HAR: valid HAR 1.2 by its JSON Schema (tests/tools/har-validate.py:
#     har-schema 2.0.0, python3-jsonschema, formats checked; times add up);
#     each run's entries, in start order, are curl's record of what it did
#     (captures/generated/*.client.tsv: url, http_code, size_download as the
#     content size, one "connection" per local port); the first entry of a
#     connection carries its handshake (connect, and ssl over TLS), the
#     others -1; https URLs over TLS (h2 read with curl's key log); IPv6
#     ([::1] URLs, serverIPAddress ::1); -r keeps one run.
#   - NDJSON: every line is a JSON object jq reads, with "type"; as many
#     of each type as the tables have rows; times are ISO 8601 UTC; -r.
#   - usage errors: neither or both formats, no database.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
name=t_export
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for tool in python3 jq sqlite3; do
	command -v "$tool" > /dev/null || { echo "$name: FAIL: $tool is needed" >&2; exit 1; }
done
gen=$src/captures/generated
db=$tmp/k.db
"$kalens" read -q -o "$db" "$gen/nginx-keepalive-curl.pcap" || fail "read nginx-keepalive-curl"
"$kalens" read -q --keylog "$gen/h2-curl-tls-nginx.keylog" -o "$db" "$gen/h2-curl-tls-nginx.pcap" ||
	fail "read h2-curl-tls-nginx"
"$kalens" read -q -o "$db" "$gen/nginx-ipv6-curl.pcap" || fail "read nginx-ipv6-curl"

# --- HAR ----------------------------------------------------------------------
for run in 1 2 3; do
	"$kalens" export --har "$tmp/r$run.har" -r "$run" "$db" || fail "export --har -r $run"
	python3 "$src/tests/tools/har-validate.py" "$tmp/r$run.har" > "$tmp/v" ||
		fail "run $run: not valid HAR 1.2: $(head -c 1500 "$tmp/v")"
done
python3 - "$tmp/r1.har" "$gen/nginx-keepalive-curl.client.tsv" "$tmp/r2.har" \
	"$gen/h2-curl-tls-nginx.client.tsv" "$tmp/r3.har" "$gen/nginx-ipv6-curl.client.tsv" \
	> "$tmp/diff" <<'EOF' || fail "HAR against curl's records: $(cat "$tmp/diff")"
import csv, json, sys
bad = 0
def say(*a):
    global bad
    bad += 1
    print(*a)
for har_path, rec_path in zip(sys.argv[1::2], sys.argv[2::2]):
    entries = json.load(open(har_path))["log"]["entries"]
    rows = [r for r in csv.DictReader((l for l in open(rec_path) if not l.startswith("#")),
                                      delimiter="\t")]
    if len(entries) != len(rows):
        say(har_path, len(entries), "entries, curl made", len(rows), "requests")
        continue
    conn_of_port, seen = {}, set()
    for e, r in zip(entries, rows):
        if e["request"]["url"] != r["url"]:
            say("url", e["request"]["url"], "curl:", r["url"])
        if e["response"]["status"] != int(r["http_code"]):
            say(r["url"], "status", e["response"]["status"], "curl:", r["http_code"])
        if e["response"]["content"]["size"] != int(r["size_download"]):
            say(r["url"], "size", e["response"]["content"]["size"], "curl:", r["size_download"])
        # one connection per local port, and back
        c = e["connection"]
        if conn_of_port.setdefault(r["local_port"], c) != c:
            say(r["url"], "connection", c, "but port", r["local_port"], "was", conn_of_port[r["local_port"]])
        first = c not in seen
        seen.add(c)
        t = e["timings"]
        if first != (t["connect"] > 0):
            say(r["url"], "connect", t["connect"], "on the connection's", "first" if first else "later", "entry")
        tls = r["url"].startswith("https:")
        if first and tls and not 0 <= t["ssl"] <= t["connect"]:
            say(r["url"], "ssl", t["ssl"], "connect", t["connect"])
        if (not first or not tls) and t["ssl"] != -1:
            say(r["url"], "ssl", t["ssl"], "want -1")
    if len(set(conn_of_port.values())) != len(conn_of_port):
        say(har_path, "two local ports share a connection id")
sys.exit(1 if bad else 0)
EOF
# all runs at once: every request of the database
"$kalens" export --har "$tmp/all.har" "$db" || fail "export --har (all runs)"
got=$(jq '.log.entries | length' "$tmp/all.har")
want=$(sqlite3 "$db" "SELECT COUNT(*) FROM requests")
[ "$got" = "$want" ] || fail "HAR of all runs: $got entries, $want requests"

# --- NDJSON -------------------------------------------------------------------
"$kalens" export --ndjson "$db" > "$tmp/all.ndjson" || fail "export --ndjson"
jq -e 'type == "object" and (.type | type) == "string"' "$tmp/all.ndjson" > /dev/null ||
	fail "a line of the NDJSON is not an object with a type"
[ "$(wc -l < "$tmp/all.ndjson")" = "$(jq -c . "$tmp/all.ndjson" | wc -l)" ] ||
	fail "the NDJSON is not one object per line"
for pair in run:runs connection:connections request:requests finding:findings attempts:attempts; do
	type=${pair%%:*} table=${pair#*:}
	got=$(jq -c "select(.type == \"$type\")" "$tmp/all.ndjson" | wc -l)
	want=$(sqlite3 "$db" "SELECT COUNT(*) FROM $table")
	[ "$got" = "$want" ] || fail "NDJSON: $got of type $type, $want rows in $table"
done
# times: ISO 8601 UTC, the same instant as stored
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$'
jq -s -e --arg re "$iso" '[.[] | select(.type == "request") | .request_ts, .response_ts
	| select(. != null) | test($re)] | length > 0 and all' "$tmp/all.ndjson" > /dev/null ||
	fail "NDJSON request and response times are not all ISO 8601 UTC"
first=$(jq -r 'select(.type == "connection" and .id == 1) | .first_seen' "$tmp/all.ndjson")
want=$(sqlite3 "$db" "SELECT strftime('%Y-%m-%dT%H:%M:%S', first_seen, 'unixepoch') || printf('.%06dZ',
	round((first_seen - CAST(first_seen AS INTEGER)) * 1000000)) FROM connections WHERE id = 1")
[ "$first" = "$want" ] || fail "NDJSON first_seen $first, SQLite says $want"
"$kalens" export --ndjson -r 2 "$db" > "$tmp/r2.ndjson" || fail "export --ndjson -r 2"
[ "$(jq -r '.run_id // .id' "$tmp/r2.ndjson" | sort -u)" = 2 ] || fail "NDJSON -r 2 has other runs"

# --- usage --------------------------------------------------------------------
for args in "" "--har x.har --ndjson $db" "--ndjson" "--har"; do
	# shellcheck disable=SC2086
	out=$("$kalens" export $args 2>&1)
	[ $? = 2 ] || fail "export $args: not a usage error: $out"
done
"$kalens" export --ndjson -r 9 "$db" > /dev/null 2>&1 && fail "export of a run the database lacks succeeded"
[ ! -e x.har ] || fail "a refused export wrote x.har"

[ "$failed" = 0 ] && echo "$name: ok"
exit "$failed"
