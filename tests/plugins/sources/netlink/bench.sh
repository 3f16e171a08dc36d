#!/bin/sh
# bench — CPU per full pass of the netlink source against the floor. Creates
# BENCH_SOCKETS TCP sockets (loopback connections) spread over BENCH_NS namespaces made
# here, then measures, over BENCH_PASSES passes of every namespace (the host's too):
#   floor   : nldump, a minimal raw dump (one legacy request per namespace, default
#             attributes, states without bound-inactive), messages counted, not parsed
#   xtcpd   : the netlink source (4 readers, parse every record, emit to nothing)
#   naive   : the raw two-request (IPv4, IPv6) all-states dump
# and prints CPU (user+system, all threads) per pass and the ratios. Root only.
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
N=${BENCH_SOCKETS:-20000}
M=${BENCH_NS:-10}
P=${BENCH_PASSES:-10}
EXT=4b   # default deserializers: meminfo, info, cong, skmem
T=$(mktemp -d)
PFX=xt-bench-$$
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for f in "$T"/netns/*; do umount "$f" 2>/dev/null; done
	for i in $(seq "$M"); do ip netns del "$PFX-$i" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/netns"
# Each helper holds at most 19000 sockets (RLIMIT_NOFILE hard limits here are ~20000):
# several helpers, each with its own listener, per namespace when needed.
pns=$((N / M))
nproc=$(( (pns + 18999) / 19000 ))
per=$(( (pns / nproc - 1) / 2 ))   # connections per helper: 2 sockets each + 1 listener
want=$((M * nproc))
for i in $(seq "$M"); do
	ip netns add "$PFX-$i" && ip -n "$PFX-$i" link set lo up || exit 1
	touch "$T/netns/$PFX-$i" && mount --bind "/run/netns/$PFX-$i" "$T/netns/$PFX-$i"
	for j in $(seq "$nproc"); do
		ip netns exec "$PFX-$i" /usr/bin/python3 -c '
import resource, socket, sys, time
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
n, port = int(sys.argv[1]), int(sys.argv[3]); keep = []
l = socket.socket(); l.bind(("127.0.0.1", port)); l.listen(4096); keep.append(l)
for k in range(n):
    c = socket.create_connection(("127.0.0.1", port)); keep.extend([c, l.accept()[0]])
open(sys.argv[2], "w").close()
time.sleep(3600)' "$per" "$T/ready-$i-$j" $((9000 + j)) &
		PIDS="$PIDS $!"
	done
done
for w in $(seq 1200); do
	[ "$(ls "$T" | grep -c '^ready-')" = "$want" ] && break
	for p in $PIDS; do kill -0 "$p" 2>/dev/null || { echo "bench: a socket helper died"; exit 1; }; done
	sleep 0.5
done
[ "$(ls "$T" | grep -c '^ready-')" = "$want" ] || { echo "bench: sockets not ready"; exit 1; }
paths="/proc/self/ns/net $(ls -d "$T"/netns/*)"
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" | head -1; }
floor_out=$("$B/tests/plugins/sources/netlink/nldump" legacy $EXT "$P" $paths)
floor=$(echo "$floor_out" | field cpu_us_per_pass)
socks=$(echo "$floor_out" | field sockets)
naive=$("$B/tests/plugins/sources/netlink/nldump" naive $EXT "$P" $paths | field cpu_us_per_pass)
perfam=$("$B/tests/plugins/sources/netlink/nldump" per_family $EXT "$P" $paths | field cpu_us_per_pass)
x_out=$("$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c "$P" -o skip_empty=false 2>/dev/null)
x=$(echo "$x_out" | field cpu_us_per_cycle)
xrec=$(echo "$x_out" | field records)
x1=$("$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c "$P" -o skip_empty=false -o netlinkers=1 2>/dev/null | field cpu_us_per_cycle)
xpf=$("$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c "$P" -o skip_empty=false -o dump=per_family 2>/dev/null | field cpu_us_per_cycle)
# The whole daemon for reference: netlink -> protobufList -> null sink, frequency 1 s,
# P cycles (includes startup, namespace discovery and marshalling).
xd=
if [ -x "${XTCPD:-$B/xtcpd}" ] && [ -e "$B/.libs/marshaller_protobufList.so" ]; then
	mkdir -p "$T/conf.d"
	printf '[source netlink]\n' >"$T/xtcpd.conf"
	xd=$(XTCPD_PLUGIN_DIR="$B/.libs" /usr/bin/python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((r.ru_utime + r.ru_stime) * 1e6))' "${XTCPD:-$B/xtcpd}" -c "$T/xtcpd.conf" -C "$T/conf.d" \
		--dest null --marshal protobufList -o core.frequency=1s -o core.max_loops="$P" \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false)
	[ -n "$xd" ] && xd=$((xd / P))
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1000 }'; }
echo "netlink dump cost: $socks sockets in $((M + 1)) namespaces (host included), $P passes, kernel $(uname -r)"
echo "  (xtcpd parsed $((xrec / P)) records per pass)"
printf '%-58s %10s %8s\n' "what" "CPU ms/pass" "x floor"
printf '%-58s %10s %8s\n' "floor: raw legacy dump, one walk, no parsing" "$(ms $floor)" "1.00"
printf '%-58s %10s %8s\n' "xtcpd netlink source (legacy, 4 readers) -> no sink" "$(ms $x)" "$(ratio $x $floor)"
printf '%-58s %10s %8s\n' "xtcpd netlink source (legacy, 1 reader) -> no sink" "$(ms $x1)" "$(ratio $x1 $floor)"
printf '%-58s %10s %8s\n' "xtcpd netlink source (per_family, 4 readers)" "$(ms $xpf)" "$(ratio $xpf $floor)"
[ -n "$xd" ] && printf '%-58s %10s %8s\n' "whole daemon: netlink -> protobufList -> null (per cycle)" "$(ms $xd)" "$(ratio $xd $floor)"
printf '%-58s %10s %8s\n' "raw per-family dump (2 requests), same states" "$(ms $perfam)" "$(ratio $perfam $floor)"
printf '%-58s %10s %8s\n' "naive: raw 2 requests, all states (incl. bound-inactive)" "$(ms $naive)" "$(ratio $naive $floor)"
