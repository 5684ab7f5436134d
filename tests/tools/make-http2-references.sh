#!/usr/bin/env bash
# Regenerate the HTTP/2 references tests/expected/http2/*.streams.tsv with
# tests/tools/http2-references.py: one per capture under captures/public and
# captures/generated in which tshark reads at least one HTTP/2 stream with a
# request.  Output names: the capture's repository-relative path with '/'
# replaced by '__', plus '.streams.tsv'.
#
#   tests/tools/make-http2-references.sh           write / overwrite
#   tests/tools/make-http2-references.sh --check   compare only, exit 1 on a difference
# Needs tshark (the references were made with tshark 4.0.17, Debian 12) and python3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
check=0
[[ ${1:-} == --check ]] && check=1
out=tests/expected/http2
mkdir -p "$out"
status=0
while IFS= read -r -d '' cap; do
	tmp=$(mktemp)
	python3 tests/tools/http2-references.py "$cap" > "$tmp"
	ref="$out/${cap//\//__}.streams.tsv"
	if [[ $(grep -vc '^#' "$tmp") -le 1 ]]; then
		rm -f "$tmp"
		continue                  # no HTTP/2 stream in tshark's reading
	fi
	if (( check )); then
		cmp -s "$tmp" "$ref" || { echo "DIFFERS: $ref" >&2; diff -u "$ref" "$tmp" >&2 || true; status=1; }
		rm -f "$tmp"
	else
		mv "$tmp" "$ref"
		chmod 644 "$ref"
		echo "wrote $ref ($(grep -vc '^#' "$ref") lines incl. column header)"
	fi
done < <(find captures/public captures/generated -type f \( -name '*.pcap' -o -name '*.pcapng' \
		-o -name '*.pcap.gz' \) -print0 | sort -z)
exit "$status"
