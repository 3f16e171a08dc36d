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
	"$B/tests/netlink/nlpoll" -d "$T/netns" -o skip_empty=false -o netlinkers=4 -q -t -c 2 >"$T/out" 2>"$T/err" || exit 1
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
exit $rc
