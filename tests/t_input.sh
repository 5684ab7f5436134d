#!/usr/bin/env bash
# t_input.sh KALENS SOURCE_DIR - gzip captures damaged in the middle.
#
# A real capture is gzipped here and damaged: three bytes flipped where
# zlib then stops mid-stream with an error (the first such place in the
# middle third of the compressed file); eight bytes flipped at its middle
# (deflate often decodes such damage into garbage and only the CRC-32 at
# the end tells); and eight flipped where the garbage holds a record
# header libpcap refuses before zlib has seen the end. kalens must keep every record before the
# damage, mark the run 'truncated', give zlib's reason, and exit 1.
#
# The expected packet count is not kalens': python's zlib inflates the
# damaged file one byte at a time, keeping every byte it gives before the
# error (the most any zlib reader can decode), and capinfos counts the
# records of that partial stream. zcat's output is a prefix of it (gzip
# writes its 32 KiB window out only when full, so it can lose up to that
# much at an error); kalens must keep at least as many records as zcat's
# output holds. Each file is read as a file, as standard input, and
# through a pipe.
# Needs python3 and capinfos (Debian python3, wireshark-common).
set -uo pipefail
kalens=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

fail() { echo "t_input: FAIL: $*" >&2; failed=1; }
for t in python3 capinfos gzip zcat sqlite3; do
	command -v "$t" >/dev/null || { echo "t_input: $t not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
cap=$src/captures/public/zeek/http/bro.org.pcap
gzip -n -6 -c < "$cap" > "$tmp/cap.pcap.gz"

# damage KIND OUT: write the damaged file, print "OFFSET" of the damage.
damage() {
	python3 - "$tmp/cap.pcap.gz" "$2" "$1" <<'EOF'
import sys, zlib
src, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
d = bytearray(open(src, 'rb').read())
n = len(d)

def first_error(e, chunk=64):
    z = zlib.decompressobj(31)
    for i in range(0, len(e), chunk):
        try:
            z.decompress(bytes(e[i:i + chunk]))
        except zlib.error:
            return i
    return None

if kind == 'midstream':
    for off in range(n // 3, 2 * n // 3, 101):
        e = bytearray(d)
        for k in range(off, off + 3):
            e[k] ^= 0xa5
        at = first_error(e)
        if at is not None and at < n - 4096:
            break
    else:
        sys.exit('no place in the middle third where zlib stops early')
elif kind == 'crc':
    off = n // 2
    e = bytearray(d)
    for k in range(off, off + 8):
        e[k] ^= 0xff
else:
    # garbage: zlib decodes it without an error up to the CRC, but a
    # record header in it claims more than 262144 bytes (libpcap and
    # capinfos stop there, before zlib has said anything).
    def bogus_record(pcap):
        at = 24
        while at + 16 <= len(pcap):
            incl = int.from_bytes(pcap[at + 8:at + 12], 'little')
            if incl > 262144:
                return True
            at += 16 + incl
        return False
    for off in range(n // 3, 2 * n // 3, 997):
        e = bytearray(d)
        for k in range(off, off + 8):
            e[k] ^= 0xff
        at = first_error(e)
        if at is None or at < n - 4096:
            continue
        z = zlib.decompressobj(31)
        out_bytes = bytearray()
        for i in range(0, len(e), 4096):
            try:
                out_bytes += z.decompress(bytes(e[i:i + 4096]))
            except zlib.error:
                break
        if bogus_record(out_bytes):
            break
    else:
        sys.exit('no place where the damage decodes into a bogus record')
open(out, 'wb').write(e)
print(off)
EOF
}

# reference DAMAGED: "BYTES REASON" of what zlib decodes before the error;
# the bytes go to DAMAGED.partial.
reference() {
	python3 - "$1" <<'EOF'
import sys, zlib
e = open(sys.argv[1], 'rb').read()
z = zlib.decompressobj(31)
out = bytearray()
why = 'none'
for i in range(len(e)):
    try:
        out += z.decompress(e[i:i + 1])
    except zlib.error as x:
        why = str(x).split(': ', 1)[-1]
        break
open(sys.argv[1] + '.partial', 'wb').write(out)
print(len(out), why)
EOF
}

# records FILE: the number of records capinfos reads from a pcap file.
records() {
	capinfos -c -M "$1" 2>&1 | sed -n -e 's/^Number of packets: *//p' \
		-e 's/.*error occurred after reading \([0-9]*\) packets.*/\1/p' | head -n 1
}

for kind in midstream crc garbage; do
	f=$tmp/$kind.pcap.gz
	off=$(damage "$kind" "$f") || { fail "$kind: $off"; continue; }
	read -r bytes reason < <(reference "$f")
	[ "$reason" != none ] || { fail "$kind: zlib found no damage at $off"; continue; }
	want=$(records "$f.partial")
	zcat "$f" > "$tmp/zcat.pcap" 2>/dev/null
	atleast=$(records "$tmp/zcat.pcap")
	[ -n "$want" ] && [ "$want" -gt 0 ] || { fail "$kind: capinfos counted '$want'"; continue; }
	echo "t_input: $kind: damage at $off, zlib: $bytes bytes then '$reason', $want records (zcat: ${atleast:-0})"
	# Garbage that libpcap refuses first is checked against zlib by
	# reading the file to its end; a pipe is not read to its end (it may
	# be a live stream), so there libpcap's reason stands.
	hows="file stdin pipe"
	[ $kind = garbage ] && hows="file stdin"
	for how in $hows; do
		db=$tmp/$kind-$how.db
		case $how in
		file) "$kalens" read -q -o "$db" "$f" 2> "$db.err" ;;
		stdin) "$kalens" read -q -o "$db" - < "$f" 2> "$db.err" ;;
		pipe) cat "$f" | "$kalens" read -q -o "$db" - 2> "$db.err" ;;
		esac
		rc=$?
		[ "$rc" = 1 ] || fail "$kind ($how): exit status $rc, want 1"
		got=$(sqlite3 "$db" "select packets || '|' || status from runs")
		[ "$got" = "$want|truncated" ] ||
			fail "$kind ($how): run '$got', want $want packets (zlib gives $bytes bytes before '$reason', capinfos counts $want records in them), truncated"
		[ "${got%%|*}" -ge "${atleast:-0}" ] 2>/dev/null ||
			fail "$kind ($how): fewer packets than zcat's output holds ($atleast)"
		msg=$(sqlite3 "$db" "select message from runs")
		case $msg in
		*"damaged gzip data: $reason"*) ;;
		*) fail "$kind ($how): message '$msg' does not give zlib's reason '$reason'" ;;
		esac
		grep -q "Inappropriate ioctl" "$db.err" && fail "$kind ($how): $(cat "$db.err")"
		grep -q "damaged gzip data: $reason; the $want packets before it are stored" "$db.err" ||
			fail "$kind ($how): stderr '$(cat "$db.err")'"
	done
done

# A gzip file cut short: what zlib decodes before the end is kept too.
head -c $(( $(stat -c %s "$tmp/cap.pcap.gz") * 2 / 3 )) "$tmp/cap.pcap.gz" > "$tmp/cut.pcap.gz"
read -r bytes reason < <(reference "$tmp/cut.pcap.gz")
want=$(records "$tmp/cut.pcap.gz.partial")
"$kalens" read -q -o "$tmp/cut.db" "$tmp/cut.pcap.gz" 2> "$tmp/cut.err"
rc=$?
[ "$rc" = 1 ] || fail "cut: exit status $rc, want 1"
got=$(sqlite3 "$tmp/cut.db" "select packets || '|' || status || '|' || message from runs")
[ "$got" = "$want|truncated|$tmp/cut.pcap.gz: damaged gzip data: unexpected end of file; the $want packets before it are stored" ] ||
	fail "cut: run '$got', want $want packets (capinfos), truncated"

[ "$failed" = 0 ] && echo "t_input: ok"
exit "$failed"
