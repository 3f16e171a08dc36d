#!/bin/sh
# ns_free — a namespace the netlink source polls is really freed after `ip netns del`
# while the poller keeps running: its veth peer (which dies only with the namespace)
# disappears from the host. If the source kept its sock_diag socket or the manager its
# fd, the namespace, and so the veth, would live on. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
B=${XTCPD_BUILDDIR:-.}
T=$TMP
NS=xt-free-$$
V=xtfv$$
private_netns "$NS" || exit 1
on_exit "ip link del $V 2>/dev/null"
set -e
ip link add "$V" type veth peer name eth0 netns "$NS"
# Poll every 100 ms; full rescan every 500 ms (the reconcile interval).
"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o skip_empty=false -q -i 100 -r 500 -w "$T/running" \
	>"$T/out" 2>"$T/err" &
PID=$!
on_exit "rm -f '$T/running'; kill $PID 2>/dev/null; wait $PID 2>/dev/null"
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
