#!/bin/sh
# noalloc — after the first cycle, polling allocates nothing: no malloc, calloc or
# realloc from any thread (nlpoll -A wraps them) over 5 more cycles of a namespace with
# listeners, idle and data-moving connections and a time-wait socket, with every
# attribute decoded, in both dump modes. Root only (77 otherwise).
[ "$(id -u)" = 0 ] || exit 77
command -v ip >/dev/null || exit 77
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$(mktemp -d)
NS=xt-noalloc-$$
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	umount "$T/netns/$NS" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
set -e
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir "$T/netns"
touch "$T/netns/$NS"
mount --bind "/run/netns/$NS" "$T/netns/$NS"
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/ready" & PID=$!
for i in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.1; done
[ -e "$T/ready" ]
set +e
rc=0
for mode in legacy per_family; do
	"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c 6 -A -r 3600000 -o deserializers=all -o dump=$mode \
		>"$T/out" 2>"$T/err" || rc=1
	n=$(sed -n 's/^allocs_after_first_cycle=//p' "$T/out")
	recs=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/out")
	echo "$mode: $recs records in 6 cycles, $n heap calls after the first"
	[ "$n" = 0 ] || { echo "FAIL: $mode: $n allocations after the first cycle"; rc=1; }
	[ "${recs:-0}" -ge 84 ] || { echo "FAIL: $mode: only ${recs:-0} records"; rc=1; }
done
exit $rc
