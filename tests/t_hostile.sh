#!/usr/bin/env bash
# t_hostile.sh KALENS SOURCE_DIR - every public capture, corrupted the way
# Wireshark's own fuzzing does it (editcap -E 0.02: each byte of each packet
# has a 2 % chance of being changed), under fixed seeds, read by kalens.
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
while IFS= read -r -d '' cap; do
	for seed in "${seeds[@]}"; do
		out="$tmp/c.pcapng"
		if ! editcap -E 0.02 --seed "$seed" "$cap" "$out" 2>"$tmp/editcap.err"; then
			echo "t_hostile: editcap failed on $cap: $(cat "$tmp/editcap.err")" >&2
			failed=$((failed + 1))
			continue
		fi
		rm -f "$tmp/k.db"
		timeout 120 "$kalens" read -q -o "$tmp/k.db" "$out" >"$tmp/out" 2>&1
		rc=$?
		runs=$((runs + 1))
		if (( rc != 0 && rc != 1 )); then
			echo "t_hostile: $cap seed $seed: exit $rc" >&2
			tail -30 "$tmp/out" >&2
			failed=$((failed + 1))
		fi
	done
done < <(find "$src/captures/public" -type f \( -name '*.pcap' -o -name '*.pcapng' \
		-o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 | sort -z)

echo "t_hostile: $runs corrupted captures read, $failed failures"
(( runs > 0 && failed == 0 ))
