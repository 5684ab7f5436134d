#!/usr/bin/env bash
# t_html.sh KALENS SOURCE_DIR - `kalens report --html`, rendered by headless
# Chromium (Debian package chromium) to a PNG that must not be blank.
#
#   1. a database of generated captures (nginx, curl, ab, python): the page
#      has its sections, no script and no external reference, and Chromium
#      renders it into a PNG with a good share of non-white pixels (the
#      PNG is decoded here with python's zlib: no image library needed);
#      The page has a section per run; each section's figures (marked
#      data-k) in the DOM Chromium builds (--dump-dom) equal what `kalens
#      report -r N` prints for that run; each waterfall has a time axis; the
#      rendering at 1600 px uses the page's width; an HTTPS/HTTP2 capture read
#      with its key log gets TLS and HTTP/2 tables;
#   2. the same database grown to 100,000 connections and 300,000 requests
#      (rows copied by SQL): the page stays under 3 MB and says it shows a
#      sample of the busiest server's connections.
# Chromium runs with --headless --no-sandbox --disable-gpu --no-first-run
# --disable-background-networking, bounded by timeout.
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
fail() { echo "t_html: FAIL: $*" >&2; failed=1; }
die() { echo "t_html: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || die "chromium not found (Debian package chromium; .ci/packages installs it)"
command -v python3 >/dev/null || die "python3 not found"
command -v sqlite3 >/dev/null || die "sqlite3 not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
db=$tmp/k.db
caps=()
for c in nginx-keepalive-curl nginx-python-client-idle nginx-early-close nginx-ab-close \
	 nginx-keepalive-requests3-ab; do
	caps+=("$src/captures/generated/$c.pcap")
done
"$kalens" read -q -o "$db" "${caps[@]}" || die "kalens read failed"

# --- 1. the page, rendered ------------------------------------------------------
"$kalens" report --html "$tmp/r.html" "$db" || fail "report --html exited $?"
for want in "<svg" "Requests per connection" "Idle time" "Connections of the busiest server" \
	    "Findings, most serious first" "idle-close-race" "keepalive-ignored-by-server"; do
	grep -q -- "$want" "$tmp/r.html" || fail "the page lacks '$want'"
done
grep -qi "<script" "$tmp/r.html" && fail "the page has a script"
grep -Eqi "(src|href)=\"?(https?:)?//" "$tmp/r.html" && fail "the page refers to the network"

render() {  # $1 html, $2 png
	timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --hide-scrollbars --window-size=1600,9000 \
		--user-data-dir="$tmp/profile" --screenshot="$2" "file://$1" > "$tmp/chromium.log" 2>&1
}
render "$tmp/r.html" "$tmp/r.png" || fail "chromium failed: $(tail -n 3 "$tmp/chromium.log")"
[ -s "$tmp/r.png" ] || fail "chromium wrote no PNG"
# Share of pixels that are not near-white, from the decoded PNG.
cat > "$tmp/ink.py" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w, h, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
ink = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        if min(line[x], line[x + 1], line[x + 2]) < 200:
            ink += 1
        # the waterfall's close ticks: server red #c0392b, client blue #2e86de
        px = (line[x], line[x + 1], line[x + 2])
        if any(all(abs(px[k] - c[k]) < 12 for k in range(3)) for c in ((192, 57, 43), (46, 134, 222))):
            right = max(right, x // bpp)
    prev = line
print("%.4f %.3f" % (ink / float(w * h), right / float(w)))
EOF
sed -i 's/^ink = 0$/ink = right = 0/' "$tmp/ink.py"
read -r share right < <(python3 "$tmp/ink.py" "$tmp/r.png") || fail "cannot decode the PNG"
# The page is as wide as the window: its waterfall's last close tick is near
# the right side (a 900-pixel drawing would end at 0.56 of 1600).
awk -v r="${right:-0}" 'BEGIN { exit !(r > 0.85) }' ||
	fail "the page uses ${right:-?} of the window's width (want the full width)"
awk -v s="${share:-0}" 'BEGIN { exit !(s > 0.02) }' ||
	fail "the rendered page is blank (${share:-?} of the pixels are not white)"

# --- 1b. a section per run, its figures as the text report says them -------------
runs=$(sqlite3 "$db" "SELECT COUNT(*) FROM runs")
[ "$(grep -c '<section class="run" id="run-' "$tmp/r.html")" = "$runs" ] ||
	fail "want a section for each of the $runs runs"
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
	--disable-background-networking --user-data-dir="$tmp/profile" --dump-dom \
	"file://$tmp/r.html" > "$tmp/dom.html" 2> "$tmp/chromium.log" || fail "chromium --dump-dom failed"
for n in $(seq "$runs"); do "$kalens" report -r "$n" "$db" > "$tmp/text$n.txt" || fail "report -r $n"; done
python3 - "$tmp/dom.html" "$tmp" "$runs" > "$tmp/dom.diff" <<'EOF' || fail "the page's figures differ from the text report: $(cat "$tmp/dom.diff")"
import html.parser, re, sys
dom, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.run, self.key, self.fig, self.axes = None, None, {}, {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (a.get("id") or "").startswith("run-"):
            self.run = int(a["id"][4:])
            self.fig[self.run] = {}
        if tag == "td" and "data-k" in a:
            self.key = a["data-k"]
        if tag == "g" and a.get("class") == "taxis":
            self.axes[self.run] = self.axes.get(self.run, 0) + 1
    def handle_data(self, d):
        if self.key:
            self.fig[self.run][self.key] = d.strip()
            self.key = None
p = P()
p.feed(open(dom).read())
bad = 0
for n in range(1, runs + 1):
    text = open("%s/text%d.txt" % (tmp, n)).read()
    def num(rx):
        m = re.search(rx, text, re.M)
        return m.group(1) if m else "0"
    want = {
        "connections": num(r"^Connections: (\d+)"),
        "requests": num(r"^HTTP/1: (\d+) requests"),
        "http-connections": num(r"^HTTP/1: \d+ requests on (\d+) connections"),
        "reused": num(r"^  reused +(\d+) of"),
        "reuse-saved-handshakes": num(r"^  reuse saved +(\d+) TCP handshakes"),
        "missed-reuse": num(r"^  missed reuse +(\d+) connections"),
        "unused": num(r"^  unused +(\d+) connections"),
    }
    got = p.fig.get(n, {})
    for k, v in want.items():
        if got.get(k) != v:
            print("run %d: %s is %s on the page, %s in the text report" % (n, k, got.get(k), v))
            bad += 1
    if p.axes.get(n, 0) < 1:
        print("run %d: no time axis on its waterfall" % n)
        bad += 1
sys.exit(1 if bad else 0)
EOF
grep -Eq 'class="taxis">.*class="lab">[0-9.]+ (s|ms|us)</text>' <(tr -d '\n' < "$tmp/r.html") ||
	fail "the time axis has no labels in s, ms or us"
# TLS and HTTP/2, from HTTPS read with curl's key log: curl's server
# (its record: remote_port 39407), ALPN h2, no SNI
# (curl sends none to an address; tshark finds no server_name)
"$kalens" read -q --keylog "$src/captures/generated/h2-curl-tls-nginx.keylog" -o "$tmp/h2.db" \
	"$src/captures/generated/h2-curl-tls-nginx.pcap" || fail "read the h2 capture"
"$kalens" report --html "$tmp/h2.html" "$tmp/h2.db" || fail "report --html of the h2 capture"
for want in "<h3>TLS</h3>" "<h3>HTTP/2</h3>" "<td>127.0.0.1:39407</td>" "<td>h2</td>"; do
	grep -q -- "$want" "$tmp/h2.html" || fail "the h2 page lacks '$want'"
done

# --- 2. 100,000 connections: bounded size ---------------------------------------
sqlite3 "$db" "
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100000)
INSERT INTO connections (run_id, client_ip, client_port, server_ip, server_port, ip_version,
  first_seen, last_seen, syn_seen, handshake_rtt, close_initiator, close_kind, close_ts,
  protocol, requests, responses, expected_persistent, idle_before_close, reuse_saved_s)
SELECT 1, '10.0.' || (i / 250 % 250) || '.' || (i % 250), 10000 + i % 50000, '10.9.9.9', 80, 4,
  1700000000 + i * 0.01, 1700000000 + i * 0.01 + 0.5, 1, 0.001,
  CASE WHEN i % 3 THEN 'server' ELSE 'client' END, 'fin', 1700000000 + i * 0.01 + 0.5,
  'http/1.1', 3, 3, 1, 0.3, 0.002 FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 300000)
INSERT INTO requests (conn_id, run_id, seq, method, uri, status, request_ts, response_end_ts,
  idle_before, pipelined)
SELECT c.id, 1, k.i % 3 + 1, 'GET', '/item/' || k.i, 200, c.first_seen + (k.i % 3) * 0.1,
  c.first_seen + (k.i % 3) * 0.1 + 0.05, CASE WHEN k.i % 3 THEN 0.05 END, 0
FROM k JOIN connections c ON c.id = (SELECT MIN(id) FROM connections WHERE server_ip = '10.9.9.9') + k.i / 3;
" || die "cannot grow the database"
"$kalens" report --html "$tmp/big.html" "$db" || fail "report --html on 100,000 connections exited $?"
size=$(stat -c %s "$tmp/big.html")
[ "$size" -lt 3000000 ] || fail "the page for 100,000 connections is $size bytes (want < 3 MB)"
grep -q "Showing the 60 busiest of its 100000 connections" "$tmp/big.html" ||
	fail "the page does not say it samples the waterfall"
render "$tmp/big.html" "$tmp/big.png" || fail "chromium failed on the big page"
[ -s "$tmp/big.png" ] || fail "no PNG for the big page"

[ "$failed" = 0 ] && echo "t_html: ok (ink ${share}, big page $size bytes)"
exit "$failed"
