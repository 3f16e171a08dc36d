#!/bin/sh
# unavailable — io_uring refused, injected with a seccomp filter failing io_uring_setup
# (nouring): EPERM as Docker's default profile does, ENOSYS as a kernel without
# io_uring, ENOMEM as RLIMIT_MEMLOCK on kernels before 5.12. Each: one line with the
# cause and the remedy, exit 2; with `fallback = netlink`: logged once, the netlink
# source collects (exit 0, records), and the gauge xtcpd_source_fallback says 1. Root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_cmd curl:curl
need_plugin source_io_uring source_netlink marshaller_json sink_null
NOURING="$XTCPD_BUILDDIR/tests/plugins/sources/io_uring/nouring"
REMEDY="or set 'fallback = netlink' in this section to collect through sock_diag syscalls"

# run KEYS ERRNO: the daemon once under nouring ERRNO, host namespace, json to $TMP/out
run() {
	printf '[source io_uring]\n%b\n' "$1" > "$TMP/x.conf"
	${2:+"$NOURING" "$2"} "$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once --dest stdout --marshal json \
		-o core.netns=host -o core.prom_listen= > "$TMP/out" 2> "$TMP/err"
	echo $? > "$TMP/rc"
}

# check ERRNO CAUSE REMEDY
check() {
	run "" "$1"
	expect_eq "$1: exit 2" 2 "$(cat "$TMP/rc")"
	expect_eq "$1: cause and remedy" \
		"xtcpd: error: source/io_uring: io_uring unavailable: $2; remedy: $3, $REMEDY" \
		"$(grep 'io_uring unavailable' "$TMP/err")"
	run "fallback = netlink" "$1"
	expect_eq "$1 + fallback: exit 0" 0 "$(cat "$TMP/rc")"
	expect_eq "$1 + fallback: logged once" 1 \
		"$(grep -c "source/io_uring: unavailable on this host: the fallback source 'netlink' collects for this section instead" "$TMP/err")"
	expect_eq "$1 + fallback: records from sock_diag" 1 "$([ -s "$TMP/out" ] && echo 1)"
}

if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
	fail "kernel.io_uring_disabled is set on this machine: the EPERM case would name it, not seccomp"
fi
check EPERM "io_uring_setup refused (Operation not permitted): a seccomp profile (such as Docker's default) or an LSM blocks it" \
	"allow io_uring_setup, io_uring_enter and io_uring_register for xtcpd (the container runtime's seccomp profile, systemd SystemCallFilter=)"
check ENOSYS "the kernel has no io_uring (io_uring_setup: Function not implemented: built without CONFIG_IO_URING, or older than 5.1)" \
	"run Linux >= 6.0 built with CONFIG_IO_URING=y (Debian's are)"
check ENOMEM "io_uring_setup: Cannot allocate memory (kernels before 5.12 charge the rings to RLIMIT_MEMLOCK)" \
	"raise RLIMIT_MEMLOCK (ulimit -l, systemd LimitMEMLOCK=) or run Linux >= 5.12"

# -n (the check op) does not touch io_uring: the configuration is fine under seccomp too.
printf '[source io_uring]\n' > "$TMP/x.conf"
expect_eq "-n under seccomp" "configuration OK" \
	"$("$NOURING" EPERM "$XTCPD" -n -c "$TMP/x.conf" -C "$TMP/none" --dest null --marshal json 2>&1 | tail -1)"

# Running with the fallback: the gauge says so.
printf '[source io_uring]\nfallback = netlink\n' > "$TMP/x.conf"
PROM=127.0.0.1:$(free_port)
"$NOURING" EPERM "$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --dest null --marshal json -o core.frequency=1s \
	-o core.netns=host -o core.prom_listen=$PROM 2>"$TMP/derr" &
DPID=$!
kill_on_exit $DPID
expect_ok "fallback daemon: a cycle" wait_for 300 eval 'scrape "$TMP/m" && [ "$(metric_or "$TMP/m" xtcpd_poll_cycles_total 0)" -ge 1 ]'
expect_eq "fallback daemon: xtcpd_source_fallback" 1 "$(grep '^xtcpd_source_fallback{' "$TMP/m" | sed 's/.* //')"
# threads NAME: the daemon's threads whose name starts with NAME
threads() { cat /proc/$DPID/task/*/comm | grep -c "^$1"; }
# keys the section does not set take the fallback's defaults: netlink's four readers
expect_eq "fallback daemon: netlink's readers, at its default" "4 0" "$(threads nl-read/) $(threads uring/)"
stop $DPID
expect_eq "fallback daemon: exit status" 0 "$STOP_RC"
# The same section with io_uring allowed: one ring (its default), no fallback.
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --dest null --marshal json -o core.frequency=1s \
	-o core.netns=host -o core.prom_listen=$PROM 2>"$TMP/derr" &
DPID=$!
kill_on_exit $DPID
expect_ok "io_uring daemon: a cycle" wait_for 300 eval 'scrape "$TMP/m" && [ "$(metric_or "$TMP/m" xtcpd_poll_cycles_total 0)" -ge 1 ]'
expect_eq "io_uring daemon: one ring, at its default" "1 0" "$(threads uring/) $(threads nl-read/)"
expect_eq "io_uring daemon: no fallback gauge" 0 "$(grep -c '^xtcpd_source_fallback{' "$TMP/m")"
stop $DPID
expect_eq "io_uring daemon: exit status" 0 "$STOP_RC"

# Without seccomp the same configuration uses io_uring (no fallback) and its metrics.
run "" ""
expect_eq "io_uring available: exit 0" 0 "$(cat "$TMP/rc")" || cat "$TMP/err"
expect_eq "io_uring available: no fallback" 0 "$(grep -c unavailable "$TMP/err")"
finish
