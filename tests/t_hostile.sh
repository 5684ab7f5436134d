#!/usr/bin/env bash
# t_hostile.sh KALENS SOURCE_DIR - every public capture, corrupted the way
# Wireshark's own fuzzing does it (editcap -E 0.02: each byte of each packet
# has a 2 % chance of being changed), under fixed seeds, read by kalens;
# captures with a key log beside them are read with it (--keylog), and the
# generated HTTPS captures are also damaged lightly (-E 0.0002).
#
# Passes when no run crashes, hangs, trips a sanitizer (the CTest sanitizer
# build runs this too) or exits with anything but 0 (read) or 1 (a reported
# error such as a truncated file).  Needs editcap (Debian wireshark-common).
set -uo pipefail
kalens=$1
src=$2
seeds=(1 2 3)

if ! command -v editcap >/dev/null; then
	echo "t_hostile: editcap not found (Debian package wireshark-common)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Sanitizer reports get their own exit codes, so they cannot pass for
# kalens's own "error" status 1.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=87:print_stacktrace=1"

failed=0 runs=0
# corrupt CAPTURE RATE [KEYLOG]: editcap -E RATE under each seed, read by kalens
# (with --keylog when the capture has one: decryption of damaged records).
corrupt() {
	local cap=$1 rate=$2 keylog=${3:-} seed rc
	for seed in "${seeds[@]}"; do
		out="$tmp/c.pcapng"
		if ! editcap -E "$rate" --seed "$seed" "$cap" "$out" 2>"$tmp/editcap.err"; then
			echo "t_hostile: editcap failed on $cap: $(cat "$tmp/editcap.err")" >&2
			failed=$((failed + 1))
			continue
		fi
		rm -f "$tmp/k.db"
		timeout 120 "$kalens" read -q ${keylog:+--keylog "$keylog"} -o "$tmp/k.db" "$out" \
			>"$tmp/out" 2>&1
		rc=$?
		runs=$((runs + 1))
		if (( rc != 0 && rc != 1 )); then
			echo "t_hostile: $cap (-E $rate) seed $seed: exit $rc" >&2
			tail -30 "$tmp/out" >&2
			failed=$((failed + 1))
		fi
	done
}
# the key log beside a capture (X.keylog or X.keys.txt), or nothing
keylog_of() {
	local stem=${1%.pcap*} k
	for k in "$stem.keylog" "$stem.keys.txt"; do [ -f "$k" ] && { echo "$k"; return; }; done
}
while IFS= read -r -d '' cap; do
	corrupt "$cap" 0.02 "$(keylog_of "$cap")"
done < <(find "$src/captures/public" -type f \( -name '*.pcap' -o -name '*.pcapng' \
		-o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 | sort -z)
# HTTPS captures with their key logs: heavily damaged (every record fails),
# and lightly (some records open, some do not, record headers shift).
while IFS= read -r -d '' cap; do
	corrupt "$cap" 0.02 "$(keylog_of "$cap")"
	corrupt "$cap" 0.0002 "$(keylog_of "$cap")"
done < <(find "$src/captures/generated" -type f \( -name 'tls*.pcap' -o -name 'h2-*.pcap' \) \
		-print0 | sort -z)

echo "t_hostile: $runs corrupted captures read, $failed failures"
(( runs > 0 && failed == 0 ))
