# tests/lib/lib.sh — helpers for the shell tests: skip codes, temp dirs cleaned on exit,
# exact-match assertions that print what differed.
: "${XTCPD:?run through make check}"
SKIP=77
TMP=$(mktemp -d /tmp/xtcpd-test.XXXXXX)
chmod 755 "$TMP"
CLEANUP=""
cleanup() { eval "$CLEANUP"; rm -rf "$TMP"; }
trap cleanup EXIT
on_exit() { CLEANUP="$1; $CLEANUP"; }
FAILS=0
PASSES=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { PASSES=$((PASSES + 1)); }
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then pass; else
		fail "$1"; printf '  expected: %s\n  actual:   %s\n' "$2" "$3" >&2; fi
}
need_root() { [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit $SKIP; }; }
have_plugin() { [ -e "$XTCPD_PLUGIN_DIR/$1.so" ]; }
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}
