#!/bin/sh
# noalloc — after the first cycle, polling allocates nothing: no malloc, calloc or
# realloc from any thread (nlpoll -A wraps them) over 5 more cycles of a namespace with
# listeners, idle and data-moving connections and a time-wait socket, with every
# attribute decoded, in both dump modes. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$TMP
NS=xt-noalloc-$$
private_netns "$NS" || exit 1
set -e
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/ready" &
kill_on_exit $!
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
