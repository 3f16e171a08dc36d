#!/bin/sh
# ns_free — a namespace the netlink source polls is really freed after `ip netns del`
# while the poller keeps running: its veth peer (which dies only with the namespace)
# disappears from the host. If the source kept its sock_diag socket or the manager its
# fd, the namespace, and so the veth, would live on. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
B=${XTCPD_BUILDDIR:-.}
NLPOLL=${NLPOLL:-$B/tests/plugins/sources/netlink/nlpoll} # or the io_uring source's nupoll
T=$TMP
NS=xt-free-$$
V=xtfv$$
private_netns "$NS" || exit 1
on_exit "ip link del $V 2>/dev/null"
set -e
ip link add "$V" type veth peer name eth0 netns "$NS"
# Poll every 100 ms; full rescan every 500 ms (the reconcile interval).
"$NLPOLL" -d "$T/netns" -o skip_empty=false -q -i 100 -r 500 -w "$T/running" \
	>"$T/out" 2>"$T/err" &
PID=$!
on_exit "rm -f '$T/running'; kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 600 test -e "$T/running"
set +e
# The poller holds a socket in the namespace now (its first cycle is done).
expect_ok "veth alive while the namespace is polled" ip link show "$V" >/dev/null 2>&1
expect_ok "poller sees $NS" grep -q "^cycle=1 " "$T/out"
# The namespace loses its mounts (its last holders besides the poller).
expect_ok "unmount $NS" umount "$T/netns/$NS"
rm "$T/netns/$NS"
expect_ok "ip netns del $NS" ip netns del "$NS"
# The bound is a deadlock guard (the manager's 500 ms rescan frees it well before).
wait_for 600 eval '! ip link show "$V" >/dev/null 2>&1'
expect_fail "namespace freed: its veth is gone" ip link show "$V" >/dev/null 2>&1
expect_ok "the poller still runs" kill -0 "$PID"
expect_ok "the manager saw $NS go" grep -q "namespace $NS gone" "$T/err" || cat "$T/err"
finish
