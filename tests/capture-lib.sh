# capture-lib.sh - what the shell tests that capture on the loopback
# interface share (t_live.sh, t_stream.sh): sourced after they set `name`
# (for messages), `tools` (the commands they need) and `packages` (the
# Debian packages that have them).  It defines fail and die, checks the
# tools and the permission to capture, and makes the scratch directory
# `tmp` whose processes (`pids`) are stopped, by PID, when the test exits.
fail() { echo "$name: FAIL: $*" >&2; failed=1; }
die() { echo "$name: $*" >&2; exit 1; }

for t in $tools; do
	command -v "$t" >/dev/null || die "$t not found (Debian packages $packages)"
done
if [ "$(id -u)" != 0 ] && ! command -v capsh >/dev/null; then
	die "capturing on lo needs root or CAP_NET_RAW; this test runs as uid $(id -u) (CI runs it as root)"
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
