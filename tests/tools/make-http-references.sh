#!/usr/bin/env bash
# Regenerate the per-request HTTP references tests/expected/http/*.requests.tsv
# (and *.requests.zeek.tsv where the shared collection has a Zeek http.log
# baseline) with tests/tools/http-references.py, one per capture under
# captures/public and captures/generated.
#
#   tests/tools/make-http-references.sh           write / overwrite the references
#   tests/tools/make-http-references.sh --check   only compare, exit 1 on any difference
#
# Output names: the capture's repository-relative path with '/' replaced by
# '__', plus '.requests.tsv' (tshark / client record) and '.requests.zeek.tsv'
# (Zeek), e.g. captures/public/zeek/wikipedia.pcap ->
# tests/expected/http/captures__public__zeek__wikipedia.pcap.requests.tsv
# The raw shared references the tool reads are in tests/expected/http/raw/
# (copied byte for byte from the shared collection; never written here).
# Needs tshark (the references in the repository were made with tshark 4.0.17,
# Debian 12) and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
check=0
if [[ ${1:-} == --check ]]; then check=1; fi

outdir=tests/expected/http
mkdir -p "$outdir"
tool=tests/tools/http-references.py
status=0
count=0

compare_or_move() {   # tmp out
    local tmp=$1 out=$2
    if (( check )); then
        if [[ ! -s $tmp && ! -e $out ]]; then rm -f "$tmp"; return; fi
        if ! cmp -s "$tmp" "$out"; then
            echo "DIFFERS: $out" >&2
            diff -u "$out" "$tmp" >&2 || true
            status=1
        fi
        rm -f "$tmp"
    else
        if [[ -s $tmp ]]; then
            mv "$tmp" "$out"
            chmod 644 "$out"
            echo "wrote $out ($(grep -vc '^#' "$out") lines incl. column header)"
        else
            rm -f "$tmp"
            # only a Zeek reference can legitimately be empty (no baseline)
            if [[ $out == *.requests.zeek.tsv && -e $out ]]; then
                rm -f "$out"; echo "removed $out (no Zeek baseline)"
            elif [[ $out != *.requests.zeek.tsv ]]; then
                echo "EMPTY OUTPUT: $out" >&2; status=1
            fi
        fi
    fi
}

for dir in captures/public captures/generated; do
    [[ -d $dir ]] || continue
    while IFS= read -r -d '' cap; do
        # A capture with a segment deleted on purpose (NAME-lost.pcap) holds
        # fewer requests than its client sent: a per-request reference would
        # list one the capture does not contain.  test_e2e_http checks it
        # against the client record itself (hidden requests).
        case $cap in *-lost.pcap) continue ;; esac
        # Generated HTTPS captures (make-tls.sh) are checked against their
        # clients' records by test_e2e_tls_decrypt; tshark loses the HTTP
        # after a second TLS 1.3 KeyUpdate, which curl and s_client did not.
        case $cap in captures/generated/tls*|captures/generated/h2-*) continue ;; esac
        # Stacked protocols (make-stack.sh) have their own references, read
        # with decode-as per capture: tests/expected/stack/ (test_e2e_stack).
        case $cap in captures/generated/stack/*) continue ;; esac
        # No HTTP/1.x at all (HTTP/2 with prior knowledge; TLS with ALPN h2 and
        # no key log): their streams are in tests/expected/http2/.
        case $cap in */http2-continuation/input.pcap|*/signed_certificate_timestamp-2.pcap) continue ;; esac
        # HTTP inside TLS (read by tshark with the capture's key log) has
        # its references apart: test_e2e_http reads those captures with
        # --keylog.
        od=$outdir
        case $cap in */tls/*|*/tls_*) od=tests/expected/http-tls; mkdir -p "$od" ;; esac
        base="$od/${cap//\//__}"
        tmp=$(mktemp)
        ztmp=$(mktemp)
        : > "$ztmp"
        if ! python3 "$tool" "$cap" --zeek-out "$ztmp" > "$tmp" 2>"$tmp.err"; then
            cat "$tmp.err" >&2
            echo "FAILED: $cap" >&2
            rm -f "$tmp" "$tmp.err" "$ztmp"
            status=1
            continue
        fi
        rm -f "$tmp.err"
        compare_or_move "$tmp" "$base.requests.tsv"
        compare_or_move "$ztmp" "$base.requests.zeek.tsv"
        count=$((count + 1))
    done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \
                                    -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0 | sort -z)
done
# references whose capture is gone
for ref in "$outdir"/*.requests.tsv "$outdir"/*.requests.zeek.tsv \
           tests/expected/http-tls/*.requests.tsv tests/expected/http-tls/*.requests.zeek.tsv; do
    [[ -e $ref ]] || continue
    base=$(basename "$ref")
    base=${base%.requests.zeek.tsv}
    base=${base%.requests.tsv}
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
