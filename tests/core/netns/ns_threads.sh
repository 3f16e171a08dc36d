#!/bin/sh
# ns_threads — 200 namespaces do not add threads: the poller's thread count (main +
# netlinkers readers) is the same with 1 and with 200 namespaces, and all 201 (host
# included) are dumped. Root only (77 otherwise).
[ "$(id -u)" = 0 ] || exit 77
command -v ip >/dev/null || exit 77
B=${XTCPD_BUILDDIR:-.}
T=$(mktemp -d)
P=xt-thr-$$
N=200
cleanup() {
	for f in "$T"/netns/*; do umount "$f" 2>/dev/null; done
	for i in $(seq $N); do echo "netns del $P-$i"; done | ip -force -batch - 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/netns"
for i in $(seq $N); do echo "netns add $P-$i"; done | ip -batch - || exit 1
run() {
	"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o skip_empty=false -o netlinkers=4 -q -t -c 2 >"$T/out" 2>"$T/err" || exit 1
	sed -n 's/^threads=\([0-9]*\) namespaces=\([0-9]*\)$/\1 \2/p' "$T/out"
}
touch "$T/netns/$P-1" && mount --bind "/run/netns/$P-1" "$T/netns/$P-1"
set -- $(run)
t1=$1 n1=$2
for i in $(seq 2 $N); do
	touch "$T/netns/$P-$i" && mount --bind "/run/netns/$P-$i" "$T/netns/$P-$i"
done
set -- $(run)
t200=$1 n200=$2
dumps=$(sed -n 's/.* dumps=\([0-9]*\) .*/\1/p' "$T/out")
echo "1 namespace: $t1 threads; $n200 namespaces: $t200 threads; dumps over 2 cycles: $dumps"
rc=0
[ "$n1" = 2 ] || { echo "FAIL: expected 2 namespaces (host + 1), got $n1"; rc=1; }
[ "$n200" = $((N + 1)) ] || { echo "FAIL: expected $((N + 1)) namespaces, got $n200"; rc=1; }
[ "$t1" = 5 ] || { echo "FAIL: expected 5 threads (main + 4 readers), got $t1"; rc=1; }
[ "$t200" = "$t1" ] || { echo "FAIL: $t200 threads with $N namespaces, $t1 with one"; rc=1; }
[ "$dumps" = $((2 * (N + 1))) ] || { echo "FAIL: expected $((2 * (N + 1))) dumps, got $dumps"; rc=1; }
# skip_empty (the default): the 200 namespaces have no TCP socket, only the host is dumped.
"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c 2 >"$T/out" 2>"$T/err" || exit 1
dumps=$(sed -n 's/.* dumps=\([0-9]*\) .*/\1/p' "$T/out")
skipped=$(sed -n 's/.* skipped=\([0-9]*\) .*/\1/p' "$T/out")
echo "skip_empty: dumps=$dumps skipped=$skipped"
[ "$dumps" = 2 ] && [ "$skipped" = $((2 * N)) ] || { echo "FAIL: want 2 dumps and $((2 * N)) skipped"; rc=1; }
# The daemon too: same thread count with 1 and with 200 namespaces.
if [ -x "${XTCPD:-}" ] && [ -e "${XTCPD_PLUGIN_DIR:-/nonexistent}/marshaller_json.so" ]; then
	mkdir -p "$T/conf.d" "$T/one"
	printf '[source netlink]\n' >"$T/xtcpd.conf"
	touch "$T/one/x" && mount --bind "/run/netns/$P-1" "$T/one/x"
	dthreads() {
		"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --dest null --marshal json -o core.frequency=1s \
			-o core.netns_dirs="$1" -o core.netns_proc_scan=false 2>"$T/derr" &
		d=$!
		sleep 2.5
		n=$(ls /proc/$d/task | wc -l)
		kill $d; wait $d
		echo "$n"
	}
	d1=$(dthreads "$T/one")
	d200=$(dthreads "$T/netns")
	umount "$T/one/x"
	echo "daemon: $d1 threads with 1 namespace, $d200 with $N"
	[ "$d1" = "$d200" ] && [ "$d1" -gt 1 ] || { echo "FAIL: daemon thread count $d1 vs $d200"; cat "$T/derr"; rc=1; }
fi
exit $rc
