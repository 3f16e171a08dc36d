#!/bin/sh
# caps.sh — the capability report, checked by running the probe with capabilities removed
# (setpriv, capsh) and comparing exactly what it says is lost. Needs root with the three
# runtime capabilities (else skip, 77). Starts only the probe, which exits by itself.
set -eu
B=${XTCPD_BUILDDIR:-.}/tests/core/ops
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }

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
fails=0

check() { # name expected command...
	name=$1 want=$2
	shift 2
	got=$("$@" 2>&1) || true
	if [ "$got" = "$want" ]; then
		echo "ok: $name"
	else
		printf 'FAIL: %s\n--- expected\n%s\n--- got\n%s\n' "$name" "$want" "$got"
		fails=$((fails + 1))
	fi
}

for probe in "$B/caps_probe" "$B/caps_probe_proc"; do
	[ -x "$probe" ] || continue
	p=${probe##*/}
	if [ "$("$probe")" != "$ALL" ]; then
		echo "SKIP: this root lacks CAP_SYS_ADMIN, CAP_SYS_PTRACE or CAP_NET_ADMIN"
		exit 77
	fi
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
	if command -v capsh >/dev/null; then
		check "$p: capsh --drop" "rc=0
sock_diag=1 sys_admin=0 sys_ptrace=0 net_admin=1
$ADMIN
$PTRACE" capsh --drop=cap_sys_admin,cap_sys_ptrace -- -c "exec $probe"
	fi
	# the runtime set survives the drop; without CAP_SETPCAP the bounding set cannot shrink
	check "$p: drop keeps the runtime set" "drop=0
$ALL" "$probe" --drop
	check "$p: drop as unprivileged user" "drop=-1
$NONE" setpriv --reuid=65534 --regid=65534 --clear-groups "$probe" --drop
done

# error injection: no fd left for the sock_diag socket (caps_probe exists with libcap)
[ ! -x "$B/caps_probe" ] || check "libcap: sock_diag unavailable" "rc=0
sock_diag=0 sys_admin=1 sys_ptrace=1 net_admin=1
cannot dump sockets over NETLINK_SOCK_DIAG (Too many open files): nothing can be collected" \
	"$B/caps_probe" --fd-limit
# ... and without libcap, no fd to read /proc/thread-self/status either
check "proc: status unreadable" "rc=-24
sock_diag=0 sys_admin=0 sys_ptrace=0 net_admin=0" "$B/caps_probe_proc" --fd-limit
# the daemon says the same at start (synth source, host namespace only: no other warning)
P=${XTCPD_PLUGIN_DIR:-}
if [ -n "${XTCPD:-}" ] && [ -x "$XTCPD" ] && [ -e "$P/source_synth.so" ] &&
   [ -e "$P/marshaller_json.so" ] && [ -e "$P/sink_null.so" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	printf '[core]\nprom_listen =\nnetns = host\n[source synth]\nrecords = 5\n[marshaller json]\n[sink null]\nmarshaller = json\n' \
		> "$tmp/x.conf"
	mkdir "$tmp/conf.d"
	check "daemon: all present" "" "$XTCPD" -c "$tmp/x.conf" -C "$tmp/conf.d" --once
	check "daemon: no sys_admin, sys_ptrace" "xtcpd: warning: $ADMIN
xtcpd: warning: $PTRACE" setpriv --inh-caps=-all --bounding-set=-sys_admin,-sys_ptrace \
		"$XTCPD" -c "$tmp/x.conf" -C "$tmp/conf.d" --once
else
	echo "note: no daemon or synth/json/null plugins: the daemon's report is not checked"
fi
[ "$fails" = 0 ]
