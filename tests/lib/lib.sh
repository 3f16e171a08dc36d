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
# private_netns NAME: a network namespace of this test (lo up), also bind-mounted alone
# into $TMP/netns/ so that a poll of `-d $TMP/netns` sees it and nothing else; removed
# (with its mount) on exit.
private_netns() {
	ip netns add "$1" || return 1
	on_exit "umount '$TMP/netns/$1' 2>/dev/null; ip netns del '$1' 2>/dev/null"
	ip -n "$1" link set lo up || return 1
	mkdir -p "$TMP/netns" && touch "$TMP/netns/$1" &&
		mount --bind "/run/netns/$1" "$TMP/netns/$1"
}
# kill_on_exit PID: end a process this test started (by PID) when the test exits.
kill_on_exit() { on_exit "kill $1 2>/dev/null && wait $1 2>/dev/null"; }
need_root() { [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit $SKIP; }; }
have_plugin() { [ -e "$XTCPD_PLUGIN_DIR/$1.so" ]; }
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}
