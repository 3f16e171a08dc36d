#!/bin/sh
# ns_free — a namespace the netlink source polls is really freed after `ip netns del`
# while the poller keeps running: its veth peer (which dies only with the namespace)
# disappears from the host. If the source kept its sock_diag socket or the manager its
# fd, the namespace, and so the veth, would live on. Root only (77 otherwise).
[ "$(id -u)" = 0 ] || exit 77
command -v ip >/dev/null || exit 77
B=${XTCPD_BUILDDIR:-.}
T=$(mktemp -d)
NS=xt-free-$$
V=xtfv$$
PID=
cleanup() {
	rm -f "$T/running"
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	umount "$T/netns/$NS" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$V" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
set -e
ip netns add "$NS"
ip link add "$V" type veth peer name eth0 netns "$NS"
ip -n "$NS" link set lo up
mkdir "$T/netns"
touch "$T/netns/$NS"
mount --bind "/run/netns/$NS" "$T/netns/$NS"
# Poll every 100 ms; full rescan every 500 ms (the reconcile interval).
"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o skip_empty=false -q -i 100 -r 500 -w "$T/running" \
	>"$T/out" 2>"$T/err" &
PID=$!
for i in $(seq 100); do [ -e "$T/running" ] && break; sleep 0.1; done
[ -e "$T/running" ]
set +e
sleep 0.5
ip link show "$V" >/dev/null 2>&1 || { echo "FAIL: veth gone before the delete"; exit 1; }
# The namespace loses its mounts (its last holders besides the poller).
umount "$T/netns/$NS" && rm "$T/netns/$NS"
ip netns del "$NS"
gone=0
for i in $(seq 100); do
	if ! ip link show "$V" >/dev/null 2>&1; then gone=1; break; fi
	sleep 0.1
done
kill -0 "$PID" 2>/dev/null || { echo "FAIL: the poller is not running any more"; exit 1; }
grep -q "namespace $NS gone" "$T/err" || { echo "FAIL: no del for $NS"; cat "$T/err"; exit 1; }
[ $gone = 1 ] || { echo "FAIL: namespace $NS still alive 10 s after ip netns del"; exit 1; }
echo "namespace $NS freed while the poller runs (after ${i}00 ms)"
exit 0
