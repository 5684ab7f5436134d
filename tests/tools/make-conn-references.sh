#!/usr/bin/env bash
# Regenerate the per-connection references tests/expected/conns/*.conns.tsv
# from tshark (via tests/tools/tshark-conns.py), one file per capture under
# captures/public and captures/generated (when present).
#
#   tests/tools/make-conn-references.sh           write / overwrite the references
#   tests/tools/make-conn-references.sh --check   only compare, exit 1 on any difference
#
# Output name: the capture's repository-relative path with '/' replaced by '__',
# plus '.conns.tsv', e.g. captures/public/zeek/http/bro.org.pcap ->
# tests/expected/conns/captures__public__zeek__http__bro.org.pcap.conns.tsv
# Needs tshark (the references in the repository were made with tshark 4.0.17,
# Debian 12) and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
check=0
if [[ ${1:-} == --check ]]; then check=1; fi

outdir=tests/expected/conns
mkdir -p "$outdir"
tool=tests/tools/tshark-conns.py
status=0
count=0

for dir in captures/public captures/generated; do
    [[ -d $dir ]] || continue
    while IFS= read -r -d '' cap; do
        out="$outdir/${cap//\//__}.conns.tsv"
        tmp=$(mktemp)
        if ! python3 "$tool" "$cap" > "$tmp" 2>"$tmp.err"; then
            grep -v 'Running as user' "$tmp.err" >&2 || true
            echo "FAILED: $cap" >&2
            rm -f "$tmp" "$tmp.err"
            status=1
            continue
        fi
        rm -f "$tmp.err"
        if (( check )); then
            if ! cmp -s "$tmp" "$out"; then
                echo "DIFFERS: $out" >&2
                diff -u "$out" "$tmp" >&2 || true
                status=1
            fi
            rm -f "$tmp"
        else
            mv "$tmp" "$out"
            chmod 644 "$out"
            echo "wrote $out ($(grep -vc '^#' "$out") lines incl. column header)"
        fi
        count=$((count + 1))
    done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
                                    -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 | sort -z)
done
# references whose capture is gone
for ref in "$outdir"/*.conns.tsv; do
    [[ -e $ref ]] || continue
    base=$(basename "$ref" .conns.tsv)
    cap=${base//__//}
    if [[ ! -f $cap ]]; then
        if (( check )); then
            echo "STALE: $ref (no $cap)" >&2
            status=1
        else
            rm -f "$ref"
            echo "removed $ref (no $cap)"
        fi
    fi
done
echo "$count captures processed" >&2
exit $status
