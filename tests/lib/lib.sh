# tests/lib/lib.sh — what every shell test sources: counted assertions, skips that say
# why (and fail under CI=true), a private temp dir and cleanup on exit, namespaces and
# processes of this test only. The rules are in README.md, "Writing a test".
: "${XTCPD:?run through make check}"
SKIP=77
TMP=$(mktemp -d /tmp/xtcpd-test.XXXXXX)
chmod 755 "$TMP"
CLEANUP=""
cleanup() { eval "$CLEANUP"; rm -rf "$TMP"; }
trap cleanup EXIT
# Stopped by make check's per-test timeout (SIGTERM) or ^C: exit, so the EXIT trap still
# tears down this test's namespaces and processes.
trap 'exit 143' TERM
trap 'exit 130' INT
on_exit() { CLEANUP="$1; $CLEANUP"; }

# --- assertions: each one is a check, counted by finish (and by scripts/test.sh) ------
# Counted in files, so that a check made in a subshell ($(...), a pipe) counts too. Each
# returns 1 when it failed (so `expect_eq ... || cat "$TMP/log"` shows why): keep
# `set -e` off where they are used.
fail() { echo "FAIL: $*" >&2; echo x >> "$TMP/.fails"; return 1; }
pass() { echo x >> "$TMP/.passes"; }
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] && { pass; return 0; }
	printf '  expected: %s\n  actual:   %s\n' "$2" "$3" >&2
	fail "$1"
}
# expect_ok NAME COMMAND...: the command succeeds, e.g. expect_ok "some rows" [ "$n" -gt 0 ]
expect_ok() {
	_n=$1
	shift
	"$@" && { pass; return 0; }
	fail "$_n (failed: $*)"
}
# expect_fail NAME COMMAND...: the command fails.
expect_fail() {
	_n=$1
	shift
	"$@" || { pass; return 0; }
	fail "$_n (succeeded: $*)"
}

# --- skips: always with the reason; under CI (CI=true, set by .ci/run) a skip fails ----
in_ci() { [ "${CI:-}" = true ]; }
# skip REASON: this whole test cannot run here. Exit 77 (SKIP), or 1 under CI.
skip() {
	echo "SKIP: $*"
	echo x >> "$TMP/.skips"
	if in_ci; then
		fail "skipped under CI=true: $*"
		_summary
		exit 1
	fi
	_summary
	exit $SKIP
}
# skip_part REASON: some checks of this test cannot run here; the others go on. Counted
# as a skip by finish; under CI also as a failure.
skip_part() {
	echo "SKIP (part): $*"
	echo x >> "$TMP/.skips"
	if in_ci; then fail "skipped under CI=true: $*"; fi
}
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
# need_cmd CMD[:DEBIAN-PACKAGE]...: each command is on PATH (scripts/deps.sh installs it).
need_cmd() {
	for _c in "$@"; do
		command -v "${_c%%:*}" > /dev/null || skip "no ${_c%%:*} (Debian package ${_c#*:})"
	done
}
have_plugin() { [ -e "$XTCPD_PLUGIN_DIR/$1.so" ]; }
# need_plugin NAME...: e.g. need_plugin source_synth marshaller_json (configure built them).
need_plugin() {
	for _p in "$@"; do
		have_plugin "$_p" || skip "plugin $_p not built (configure --enable-...=yes)"
	done
}
# need_python MODULE[:DEBIAN-PACKAGE]...
need_python() {
	for _m in "$@"; do
		/usr/bin/python3 -c "import ${_m%%:*}" 2> /dev/null ||
			skip "no python3 module ${_m%%:*} (Debian package ${_m#*:})"
	done
}

# --- processes and namespaces of this test only ---------------------------------------
# kill_on_exit PID: end a process this test started (by PID) when the test exits.
kill_on_exit() { on_exit "kill $1 2>/dev/null && wait $1 2>/dev/null"; }
# stop PID [SIGNAL]: signal a process this test started (TERM by default) and wait for
# it; sets STOP_RC to its exit status (128 + N when a signal N ended it). Returns 1 (and
# STOP_RC=none) when the process had already gone.
stop() {
	STOP_RC=none
	kill -"${2:-TERM}" "$1" 2> /dev/null || return 1
	wait "$1"
	STOP_RC=$?
}
# wait_for TRIES COMMAND...: run COMMAND every 0.1 s until it succeeds (at most TRIES
# times). Use a generous bound: it is a deadlock guard, never what a test asserts.
wait_for() {
	_t=$1
	shift
	while [ "$_t" -gt 0 ]; do
		"$@" && return 0
		_t=$((_t - 1))
		sleep 0.1
	done
	return 1
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
# cannot_run WHY: this test cannot run here: say why (a skip; under CI=true a failure).
cannot_run() { skip "cannot run: $*"; }
# task_caps PID: one line per thread, sorted: "COMM uid=U eff=E prm=P bnd=B nnp=N"
task_caps() {
	for t in /proc/"$1"/task/*; do
		awk -v comm="$(cat "$t/comm")" '
			/^Uid:/ { uid = $2 } /^CapEff:/ { eff = $2 } /^CapPrm:/ { prm = $2 }
			/^CapBnd:/ { bnd = $2 } /^NoNewPrivs:/ { nnp = $2 }
			END { printf "%s uid=%s eff=%s prm=%s bnd=%s nnp=%s\n", comm, uid, eff, prm, bnd, nnp }' \
			"$t/status"
	done | sort
}

# finish: the summary line scripts/test.sh adds up, and the exit status. A test that
# checked nothing fails: it proves nothing.
_count() { if [ -e "$TMP/$1" ]; then wc -l < "$TMP/$1"; else echo 0; fi; }
_summary() { echo "$(_count .passes) passed, $(_count .fails) failed, $(_count .skips) skipped"; }
finish() {
	[ "$(_count .passes)$(_count .fails)" != 00 ] || fail "no check ran"
	_summary
	[ "$(_count .fails)" = 0 ]
}
