#!/bin/sh
# bench — CPU per full pass of the bpf_iter source against the kernel's own sock_diag
# dump and the netlink source, every attribute, BENCH_SOCKETS sockets (default 200000) in
# each of BENCH_NS_LIST namespace counts (default "1 10"), BENCH_PASSES passes (the
# host's namespace included in every pass), BENCH_MOVING % of the connections moving
# (default 10: a 90 %-idle load). Rows (CPU = user + system of every thread, per pass):
#   floor     nldump: one raw legacy dump per namespace, all attributes, nothing parsed
#   netlink   the netlink source (4 readers), every attribute, emitting to nothing
#   walk      the same with BIPOLL_WALK_ONLY: the BPF program returns at once, so this is
#             the iterator's own walk (lock_sock per socket, the host-wide table per
#             namespace), the floor under any iter/tcp collector
#   bpf_iter  the bpf_iter source (2 readers), every attribute, emitting to nothing
#   base      with BENCH_BASE=DIR (another build folder): that build's bpf_iter in the
#             same run, to compare two versions against the same floor
#   daemons   netlink / bpf_iter -> protobufList -> null sink, per cycle (5 s apart, so a
#             cycle never meets its deadline)
#   changed   bpf_iter changed_only (refresh 10): records and CPU per pass while
#             BENCH_MOVING % of the connections move. Root only; prints, never fails.
# BENCH_QUICK=1 leaves out the daemons and changed_only (the source rows only).
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
N=${BENCH_SOCKETS:-200000}
P=${BENCH_PASSES:-10}
BENCH_MOVING=${BENCH_MOVING:-10}
EXT=ff   # every attribute the request can ask for
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }
# wrow LABEL US: the row with its ratios to the floor and to the walk of the same run
wrow() { printf '%-64s %10s %8s %8s\n' "$1" "$(ms "$2")" "$(ratio "$2" "$floor")" "$(ratio "$2" "$walk")"; }
# source_rows NOTE: the heading and the rows of the sources alone (NOTE: one more line, or "")
source_rows() {
	echo
	echo "bpf_iter vs sock_diag: $socks sockets in $((M + 1)) namespaces (host included), $P passes, every attribute, kernel $(uname -r)"
	echo "  (TCP sockets allocated host-wide at the start: $host_tcp; load average $(cut -d' ' -f1-3 /proc/loadavg))"
	[ -z "$1" ] || echo "  $1"
	printf '%-64s %10s %8s %8s\n' "what" "CPU ms/pass" "x floor" "x walk"
	wrow "floor: raw sock_diag dump (nldump legacy, all attributes)" "$floor"
	wrow "iterator walk only (the BPF program returns at once)" "$walk"
	wrow "netlink source (4 readers) -> no sink" "$nl"
	wrow "bpf_iter source (2 readers) -> no sink" "$bi"
	wrow "bpf_iter source (4 readers) -> no sink" "$bi4"
	[ -z "${BENCH_BASE:-}" ] || wrow "bpf_iter source (2 readers), BENCH_BASE's build" "$base"
}

# daemon SOURCE_SECTION: CPU us per cycle of the whole daemon over P cycles.
daemon() {
	mkdir -p "$T/conf.d"
	printf '%b\n' "$1" >"$T/xtcpd.conf"
	c=$(XTCPD_PLUGIN_DIR="$B/.libs" /usr/bin/python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((r.ru_utime + r.ru_stime) * 1e6))' "${XTCPD:-$B/xtcpd}" -c "$T/xtcpd.conf" -C "$T/conf.d" \
		--dest null --marshal protobufList -o core.frequency=5s -o core.max_loops="$P" \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.prom_listen=)
	echo $((c / P))
}

one() {
	M=$1
	T=$(mktemp -d)
	PFX=xt-bbench-$$-$M
	PIDS=
	. "$S/tests/plugins/sources/netlink/bench_sockets.sh"
	paths="/proc/self/ns/net $(ls -d "$T"/netns/*)"
	# every walk crosses the host-wide table: other TCP sockets on the machine (another
	# benchmark's) make every row dearer; said with the results
	host_tcp=$(sed -n 's/^TCP: .* alloc \([0-9]*\).*/\1/p' /proc/net/sockstat)
	floor_out=$("$B/tests/plugins/sources/netlink/nldump" legacy $EXT "$P" $paths)
	floor=$(echo "$floor_out" | field cpu_us_per_pass)
	socks=$(echo "$floor_out" | field sockets)
	nl=$("$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -T 60000 -c "$P" -o skip_empty=false -o deserializers=all 2>/dev/null | field cpu_us_per_cycle)
	bo=$("$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -T 60000 -c "$P" -o skip_empty=false -o deserializers=all 2>/dev/null)
	bi=$(echo "$bo" | field cpu_us_per_cycle)
	brec=$(echo "$bo" | field records)
	bi4=$("$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -T 60000 -c "$P" -o skip_empty=false -o deserializers=all -o readers=4 2>/dev/null | field cpu_us_per_cycle)
	walk=$(BIPOLL_WALK_ONLY=1 "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -T 60000 -c "$P" -o skip_empty=false 2>/dev/null | field cpu_us_per_cycle)
	[ -z "${BENCH_BASE:-}" ] || base=$("$BENCH_BASE/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -T 60000 -c "$P" -o skip_empty=false -o deserializers=all 2>/dev/null | field cpu_us_per_cycle)
	if [ -n "${BENCH_QUICK:-}" ]; then
		source_rows ""
		cleanup_one
		return
	fi
	dnl=$(daemon '[source netlink]\ndeserializers = all\nskip_empty = false')
	dbi=$(daemon '[source bpf_iter]\ndeserializers = all\nskip_empty = false')
	# changed_only on the moving load: passes 1 s apart, as the daemon runs them.
	touch "$T/pump"
	sleep 2
	co=$("$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -T 60000 -c "$P" -i 1000 -o skip_empty=false -o deserializers=all \
		-o changed_only=true -o refresh=10 -o changed_max=$((2 * N)) 2>/dev/null)
	cpu_co=$(echo "$co" | field cpu_us_per_cycle)
	first=$(echo "$co" | sed -n 's/^cycle=1 emitted=\([0-9]*\).*/\1/p')
	rest=$(echo "$co" | awk -F'[= ]' '/^cycle=/ && $2 > 1 { s += $4; n++ } END { printf "%d", n ? s / n : 0 }')
	dco=$(daemon '[source bpf_iter]\ndeserializers = all\nskip_empty = false\nchanged_only = true\nrefresh = 10\nchanged_max = '$((2 * N)))
	rm -f "$T/pump"
	source_rows "(bpf_iter emitted $((brec / P)) records per pass)"
	wrow "daemon: netlink -> protobufList -> null sink, per cycle" "$dnl"
	wrow "daemon: bpf_iter -> protobufList -> null sink, per cycle" "$dbi"
	wrow "bpf_iter changed_only, $BENCH_MOVING % moving -> no sink (passes 1 s apart)" "$cpu_co"
	wrow "daemon: bpf_iter changed_only -> protobufList -> null, per cycle" "$dco"
	echo "  changed_only: pass 1 emitted $first records, passes 2..$P $rest on average" \
		"($(awk -v a="$rest" -v b="$first" 'BEGIN { printf "%.1f", 100 * a / b }') %);" \
		"with refresh 10 the long-run share is about $BENCH_MOVING % + $((100 - BENCH_MOVING)) % / 10"
	cleanup_one
}

cleanup_one() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for f in "$T"/netns/*; do umount "$f" 2>/dev/null; done
	for i in $(seq "$M"); do ip netns del "$PFX-$i" 2>/dev/null; done
	rm -rf "$T"
}

trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; for f in "$T"/netns/*; do umount "$f" 2>/dev/null; done; for i in $(seq "${M:-0}"); do ip netns del "$PFX-$i" 2>/dev/null; done; rm -rf "$T"' EXIT
for M in ${BENCH_NS_LIST:-1 10}; do
	one "$M"
done
