#!/bin/sh
# caps.sh — the capability report, checked by running the probe with capabilities removed
# (setpriv, capsh) and comparing exactly what it says is lost, with libcap and on the
# /proc path; then the daemon's own report at start. Needs root with the three runtime
# capabilities. Starts only the probe and the daemon (--once), which exit by themselves.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
B=$XTCPD_BUILDDIR/tests/core/ops
need_root
need_cmd setpriv:util-linux capsh:libcap2-bin
need_plugin source_synth marshaller_json sink_null
[ -x "$B/caps_probe" ] || skip "no caps_probe: configure --enable-libcap=yes"

ALL="rc=0
sock_diag=1 sys_admin=1 sys_ptrace=1 net_admin=1"
ADMIN="no CAP_SYS_ADMIN: only the host namespace is collected"
PTRACE="no CAP_SYS_PTRACE: namespaces found only through other users' processes (/proc/PID/ns/net) are skipped"
NETADM="no CAP_NET_ADMIN: socket marks (INET_DIAG_MARK) are not reported"
NONE="rc=0
sock_diag=1 sys_admin=0 sys_ptrace=0 net_admin=0
$ADMIN
$PTRACE
$NETADM"

check() { # name expected command...: the output, and exit status 0
	name=$1 want=$2
	shift 2
	got=$("$@" 2>&1)
	expect_eq "$name" "0: $want" "$?: $got"
}

[ "$("$B/caps_probe")" = "$ALL" ] || skip "this root lacks CAP_SYS_ADMIN, CAP_SYS_PTRACE or CAP_NET_ADMIN"
for probe in "$B/caps_probe" "$B/caps_probe_proc"; do
	p=${probe##*/}
	check "$p: all present" "$ALL" "$probe"
	check "$p: no sys_admin" "rc=0
sock_diag=1 sys_admin=0 sys_ptrace=1 net_admin=1
$ADMIN" setpriv --inh-caps=-all --bounding-set=-sys_admin "$probe"
	check "$p: no sys_ptrace" "rc=0
sock_diag=1 sys_admin=1 sys_ptrace=0 net_admin=1
$PTRACE" setpriv --inh-caps=-all --bounding-set=-sys_ptrace "$probe"
	check "$p: no net_admin" "rc=0
sock_diag=1 sys_admin=1 sys_ptrace=1 net_admin=0
$NETADM" setpriv --inh-caps=-all --bounding-set=-net_admin "$probe"
	check "$p: none of the three" "$NONE" \
		setpriv --bounding-set=-sys_admin,-sys_ptrace,-net_admin "$probe"
	check "$p: unprivileged user" "$NONE" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$probe"
	check "$p: capsh --drop" "rc=0
sock_diag=1 sys_admin=0 sys_ptrace=0 net_admin=1
$ADMIN
$PTRACE" capsh --drop=cap_sys_admin,cap_sys_ptrace -- -c "exec $probe"
	# the runtime set survives the drop; without CAP_SETPCAP the bounding set cannot shrink
	check "$p: drop keeps the runtime set" "drop=0
$ALL" "$probe" --drop
	check "$p: drop as unprivileged user" "drop=-1
$NONE" setpriv --reuid=65534 --regid=65534 --clear-groups "$probe" --drop
done

# error injection: no fd left for the sock_diag socket
check "libcap: sock_diag unavailable" "rc=0
sock_diag=0 sys_admin=1 sys_ptrace=1 net_admin=1
cannot dump sockets over NETLINK_SOCK_DIAG (Too many open files): nothing can be collected" \
	"$B/caps_probe" --fd-limit
# ... and without libcap, no fd to read /proc/thread-self/status either
check "proc: status unreadable" "rc=-24
sock_diag=0 sys_admin=0 sys_ptrace=0 net_admin=0" "$B/caps_probe_proc" --fd-limit
# the daemon says the same at start (synth source, host namespace only: no other warning)
tmp=$TMP
printf '[core]\nprom_listen =\nnetns = host\n[source synth]\nrecords = 5\n[marshaller json]\n[sink null]\nmarshaller = json\n' \
	> "$tmp/x.conf"
mkdir "$tmp/conf.d"
check "daemon: all present" "" "$XTCPD" -c "$tmp/x.conf" -C "$tmp/conf.d" --once
check "daemon: no sys_admin, sys_ptrace" "xtcpd: warning: $ADMIN
xtcpd: warning: $PTRACE" setpriv --inh-caps=-all --bounding-set=-sys_admin,-sys_ptrace \
	"$XTCPD" -c "$tmp/x.conf" -C "$tmp/conf.d" --once
finish
