#!/bin/sh
# ns_threads — 200 namespaces do not add threads: the poller's thread count (main +
# netlinkers readers) is the same with 1 and with 200 namespaces, and all 201 (host
# included) are dumped; the daemon likewise, once its metrics say it polls all 201.
# Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_cmd ip:iproute2 curl:curl
need_plugin source_${SOURCE:-netlink} marshaller_json sink_null
B=$XTCPD_BUILDDIR
# NLPOLL, SOURCE: the driver and plugin under test (the io_uring source runs this too)
NLPOLL=${NLPOLL:-$B/tests/plugins/sources/netlink/nlpoll}
SOURCE=${SOURCE:-netlink}
T=$TMP
P=xt-thr-$$
N=200
on_exit "for i in \$(seq $N); do echo \"netns del $P-\$i\"; done | ip -force -batch - 2>/dev/null"
on_exit "for f in '$T'/netns/* '$T'/one/*; do umount \"\$f\" 2>/dev/null; done"
mkdir "$T/netns" "$T/one"
for i in $(seq $N); do echo "netns add $P-$i"; done | ip -batch - || exit 1
# bind NAME DIR: bind-mount namespace NAME into DIR
bind() { touch "$2/$1" && mount --bind "/run/netns/$1" "$2/$1"; }
# Each namespace's dump walks the kernel's whole TCP table: on a busy machine 201 of them
# take minutes, so the cycle deadline (-T) is only a deadlock guard here.
run() {
	"$NLPOLL" -d "$T/netns" -o skip_empty=false -o netlinkers=4 -q -t -c 2 -T 600000 \
		>"$T/out" 2>"$T/err"
	expect_eq "nlpoll exit status ($1)" 0 $? || cat "$T/err" >&2
	sed -n 's/^threads=\([0-9]*\) namespaces=\([0-9]*\)$/\1 \2/p' "$T/out"
}
expect_ok "mount $P-1" bind "$P-1" "$T/netns"
set -- $(run 1)
t1=$1 n1=$2
m=0
for i in $(seq 2 $N); do bind "$P-$i" "$T/netns" && m=$((m + 1)); done
expect_eq "mounts of the other namespaces" $((N - 1)) $m
set -- $(run $N)
t200=$1 n200=$2
dumps=$(sed -n 's/.* dumps=\([0-9]*\) .*/\1/p' "$T/out")
echo "1 namespace: $t1 threads; $n200 namespaces: $t200 threads; dumps over 2 cycles: $dumps"
expect_eq "namespaces with 1 (host + 1)" 2 "$n1"
expect_eq "namespaces with $N" $((N + 1)) "$n200"
expect_eq "threads with 1: main + 4 readers" 5 "$t1"
expect_eq "threads with $N: the same" "$t1" "$t200"
expect_eq "dumps over 2 cycles" $((2 * (N + 1))) "$dumps"
# skip_empty (the default): the 200 namespaces have no TCP socket, only the host is dumped.
"$NLPOLL" -d "$T/netns" -q -c 2 -T 600000 >"$T/out" 2>"$T/err"
expect_eq "skip_empty: nlpoll exit status" 0 $? || cat "$T/err"
expect_eq "skip_empty: dumps and skipped" "2 $((2 * N))" \
	"$(sed -n 's/.* dumps=\([0-9]*\) .* skipped=\([0-9]*\) .*/\1 \2/p' "$T/out")"

# The daemon too: the same threads polling 1 and 200 namespaces (the host's too), read
# once its metrics show a cycle that polled them all.
expect_ok "mount $P-1 alone" bind "$P-1" "$T/one"
mkdir "$T/conf.d"
printf '[source %s]\nnetlinkers = 4\n' "$SOURCE" >"$T/xtcpd.conf" # (io_uring's default is 1)
# dthreads DIR WANT: start the daemon on DIR, await a completed cycle knowing WANT
# namespaces; DTHREADS = the daemon's thread count then.
dthreads() {
	PROM=127.0.0.1:$(free_port)
	"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --dest null --marshal json -o core.frequency=1s \
		-o core.prom_listen=$PROM -o core.netns_dirs="$1" -o core.netns_proc_scan=false 2>"$T/derr" &
	DPID=$!
	kill_on_exit $DPID
	wait_for 600 known_ns "$2" || { echo "no cycle with $2 namespaces" >&2; cat "$T/derr" >&2; }
	expect_eq "daemon on $1: namespaces known" "$2" "$(metric "$TMP/m.ns" xtcpd_namespaces_known)"
	DTHREADS=$(ls /proc/$DPID/task | wc -l)
	expect_eq "daemon on $1: its threads metric" "$DTHREADS" "$(metric "$TMP/m.ns" xtcpd_threads)"
	stop $DPID
	expect_eq "daemon on $1: exit status" 0 "$STOP_RC"
}
# known_ns N: a scrape after a cycle that knew N namespaces
known_ns() {
	scrape "$TMP/m.ns" && [ "$(metric_or "$TMP/m.ns" xtcpd_poll_cycles_total 0)" -ge 1 ] &&
		[ "$(metric_or "$TMP/m.ns" xtcpd_namespaces_known 0)" = "$1" ]
}
dthreads "$T/one" 2
d1=$DTHREADS
dthreads "$T/netns" $((N + 1))
d200=$DTHREADS
echo "daemon: $d1 threads with 1 namespace, $d200 with $N"
expect_eq "daemon: threads with 1 namespace: main + 4 readers + sink + http" 7 "$d1"
expect_eq "daemon: threads with $N namespaces: the same" "$d1" "$d200"
finish
