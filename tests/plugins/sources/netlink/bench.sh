#!/bin/sh
# bench — what a poll pass costs against the kernel's own dump (the floor), root only.
# BENCH_SOCKETS TCP sockets (loopback connections) are made in namespaces of this run,
# then two phases, each with the floor measured beside every figure (ratios in the same
# round; the machine is shared, so BENCH_ROUNDS rounds and their range are printed):
#   one namespace holding every socket: nldump (a minimal raw dump: one legacy request,
#     default attributes, states without bound-inactive, nothing parsed) against the whole
#     daemon, netlink -> protobufList -> null, CPU of all its threads per steady-state
#     cycle (tests/plugins/sources/netlink/cpu_cycles.py: start-up left out; one floor pass
#     in the idle time after every cycle, so each cycle has its baseline beside it and the
#     median of the per-cycle ratios is printed with the ratio of the means, and the
#     cheapest cycle against the cheapest floor pass: noise only adds CPU time, so the
#     best of each is the closest to its work); json -> null beside
#     `ss -tin` on the same sockets; the peak RSS of every shipped marshaller -> null and
#     -> file.
#   BENCH_NS namespaces sharing the sockets: the floor against the daemon, the source
#     alone (nlpoll: 4 readers, 1 reader, per-family requests) and the raw per-family and
#     naive (all states) dumps.
# The daemons run in a namespace of their own (their "host" namespace is empty), so the
# machine's own sockets are in no figure. BENCH_PERIOD (3s) is the cycle period, 10s for
# the file runs (BENCH_FILE_PERIOD): a loaded machine needs longer ones (a dump that misses
# its deadline fails the run, see cpu_cycles.py, rather than print a cheap cycle).
# BENCH_PHASES ("one many") picks the phases, BENCH_RSS_MARSHALLERS the RSS runs.
# BENCH_CPU (default: the last CPU; "none" = skip): phase one's paired rounds run once
# with the daemon and its floor passes pinned to that one CPU (taskset, inherited by
# every thread and by the floor), then unpinned. Unpinned, the daemon's reader stays on
# one CPU for a whole round while each floor pass lands on either, and on a shared VM the
# CPUs differ (here the floor alone took 205-213 ms pinned to one, 222-236 ms to the
# other): noise in the ratio, not the daemon's work. Pinned, the daemon's threads share
# the CPU, so their hand-offs are context switches in its CPU time.
# Prints numbers only.
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
N=${BENCH_SOCKETS:-20000}
M=${BENCH_NS:-10}
P=${BENCH_PASSES:-10}
R=${BENCH_ROUNDS:-3}
PER=${BENCH_PERIOD:-3s}
FPER=${BENCH_FILE_PERIOD:-10s}
PHASES=${BENCH_PHASES:-one many}
RSSM=${BENCH_RSS_MARSHALLERS:-protobufList protoJson json csv tsv protoText}
CPU=${BENCH_CPU-$(($(nproc) - 1))}
[ "$CPU" = none ] && CPU=
PIN=
# The floor's request: issue 13's (default attributes: meminfo, info, cong, skmem). The
# daemon now leaves meminfo out of its request (its values come with skmem).
EXT=4b
T=$(mktemp -d)
PFX=xt-bench-$$
PIDS=
NSS=
export XTCPD_PLUGIN_DIR="${XTCPD_PLUGIN_DIR:-$B/.libs}"
XTCPD=${XTCPD:-$B/xtcpd}

cleanup() {
	stop_sockets
	for f in "$T"/netns/*; do [ -e "$f" ] && umount "$f" 2>/dev/null; done
	for ns in $NSS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

stop_sockets() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS=
}

newns() {
	ip netns add "$1" && ip -n "$1" link set lo up || exit 1
	NSS="$NSS $1"
}

# sockets NS COUNT: COUNT sockets (COUNT/2 connections) in NS. A helper holds at most
# 19000 (RLIMIT_NOFILE hard limits here are ~20000): several, each with its listener.
sockets() {
	nproc=$(( ($2 + 18999) / 19000 ))
	per=$(( ($2 / nproc - 1) / 2 ))
	for j in $(seq "$nproc"); do
		ip netns exec "$1" /usr/bin/python3 -c '
import resource, socket, sys, time
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
n, port = int(sys.argv[1]), int(sys.argv[3]); keep = []
l = socket.socket(); l.bind(("127.0.0.1", port)); l.listen(4096); keep.append(l)
for k in range(n):
    c = socket.create_connection(("127.0.0.1", port)); keep.extend([c, l.accept()[0]])
open(sys.argv[2], "w").close()
time.sleep(3600)' "$per" "$T/ready-$1-$j" $((9000 + j)) &
		PIDS="$PIDS $!"
		WANT=$((WANT + 1))
	done
}

wait_sockets() {
	for w in $(seq 2400); do
		[ "$(ls "$T" | grep -c '^ready-')" = "$WANT" ] && return 0
		for p in $PIDS; do kill -0 "$p" 2>/dev/null || { echo "bench: a socket helper died"; exit 1; }; done
		sleep 0.5
	done
	echo "bench: sockets not ready"; exit 1
}

field() { tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\)$/\1/p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }
# mib KIB: "n/a" when the run gave no number (a dump missed its deadline on a loaded machine)
mib() { case $1 in ""|*[!0-9]*) echo "n/a" ;; *) awk -v a="$1" 'BEGIN { printf "%.1f", a / 1024 }' ;; esac; }
# range LIST: "min-max" of numbers
range() { echo "$*" | tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { if (a == b) print a; else print a "-" b }'; }
# least LIST: the smallest number
least() { echo "$*" | tr ' ' '\n' | grep . | sort -n | head -1; }

mkdir "$T/netns" "$T/conf.d" "$T/out"
printf '[source netlink]\n' > "$T/xtcpd.conf"

# daemon NS PASSES FREQ MARSHAL DEST [-o ...]: the whole daemon in NS, one warm-up cycle
# then PASSES measured ones; prints cpu_cycles.py's line. With FLOOR set (a command run
# in NS), that floor is measured after every cycle (cpu_cycles.py --floor).
FLOOR=
daemon() {
	ns=$1 passes=$2 freq=$3 marsh=$4 dest=$5
	shift 5
	set -- "$XTCPD" -d -c "$T/xtcpd.conf" -C "$T/conf.d" --dest "$dest" --marshal "$marsh" \
		-o core.frequency="$freq" -o core.prom_listen= -o core.netns_proc_scan=false "$@"
	if [ -n "$FLOOR" ]; then
		set -- --floor "$FLOOR" 1 "$passes" -- "$@"
	else
		set -- 1 "$passes" -- "$@"
	fi
	$PIN ip netns exec "$ns" /usr/bin/python3 "$S/tests/plugins/sources/netlink/cpu_cycles.py" "$@"
}

# paired NS [-o ...]: R rounds of the daemon (protobufList -> null) with the FLOOR pass
# after each cycle; per round the means, their ratio and the per-cycle ratios' median
# (lowest-highest), then the ranges over the rounds.
paired() {
	pns=$1
	shift
	fl= xd= rt= rm= bd= bf= rb=
	for r in $(seq "$R"); do
		d=$(daemon "$pns" "$P" "$PER" protobufList null "$@")
		c=$(echo "$d" | field cpu_us_per_cycle)
		f=$(echo "$d" | field floor_us_per_pass)
		cb=$(echo "$d" | field cpu_us_best)
		fb=$(echo "$d" | field floor_us_best)
		med=$(echo "$d" | tr ' ' '\n' | sed -n 's/^ratio_median=//p')
		lo=$(echo "$d" | tr ' ' '\n' | sed -n 's/^ratio_min=//p')
		hi=$(echo "$d" | tr ' ' '\n' | sed -n 's/^ratio_max=//p')
		[ -n "$c" ] && [ -n "$f" ] || { echo "  round $r: no number (see above)"; continue; }
		fl="$fl $(ms "$f")" xd="$xd $(ms "$c")" rt="$rt $(ratio "$c" "$f")" rm="$rm $med"
		bd="$bd $cb" bf="$bf $fb" rb="$rb $(ratio "$cb" "$fb")"
		echo "  round $r: floor $(ms "$f") ms, daemon $(ms "$c") ms = $(ratio "$c" "$f")x; per cycle median ${med}x ($lo-$hi); best cycle $(ms "$cb") ms against best floor $(ms "$fb") ms = $(ratio "$cb" "$fb")x  (${d#*threads: })"
	done
	bd=$(least $bd) bf=$(least $bf)
	printf '%-62s %14s %12s\n' "what" "CPU ms/pass" "x floor"
	printf '%-62s %14s %12s\n' "floor: raw legacy dump, one walk, no parsing" "$(range $fl)" "1.00"
	printf '%-62s %14s %12s\n' "whole daemon: netlink -> protobufList -> null (steady state)" "$(range $xd)" "$(range $rt)"
	printf '%-62s %14s %12s\n' "  the same, median of the per-cycle ratios" "" "$(range $rm)"
	printf '%-62s %14s %12s\n' "  the same, each round's best cycle against its best floor" "" "$(range $rb)"
	printf '%-62s %14s %12s\n' "  the best cycle of all rounds against the best floor pass" "$(ms "$bd")/$(ms "$bf")" "$(ratio "$bd" "$bf")"
}

# ---- phase 1: one namespace ------------------------------------------------------------
phase_one() {
	ONE=$PFX-one
	newns "$ONE"
	WANT=0
	sockets "$ONE" "$N"
	wait_sockets
	socks=$(ip netns exec "$ONE" "$B/tests/plugins/sources/netlink/nldump" legacy $EXT 1 | field sockets)
	echo "one namespace: $socks sockets, kernel $(uname -r), $R rounds of $P passes; CPU = user + system of every thread"
	FLOOR="$B/tests/plugins/sources/netlink/nldump legacy $EXT 1"
	if [ -n "$CPU" ]; then
		echo "pinned: the daemon and its floor passes on CPU $CPU (taskset -c $CPU)"
		PIN="taskset -c $CPU"
		paired "$ONE" -o core.netns_dirs=
		PIN=
		echo "unpinned:"
	fi
	paired "$ONE" -o core.netns_dirs=
	# json -> null beside ss -tin, same sockets.
	sst= jt= jr=
	for r in $(seq "$R"); do
		s=$(ip netns exec "$ONE" /usr/bin/python3 -c '
import resource, subprocess
subprocess.run(["ss", "-tin"], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("cpu_us=%d" % int((r.ru_utime + r.ru_stime) * 1e6))' | field cpu_us)
		j=$(daemon "$ONE" 3 "$PER" json null -o core.netns_dirs= | field cpu_us_per_cycle)
		sst="$sst $(ms "$s")" jt="$jt $(ms "$j")" jr="$jr $(ratio "$j" "$s")"
	done
	printf '%-62s %14s %12s\n' "ss -tin > /dev/null" "$(range $sst)" "x ss"
	printf '%-62s %14s %12s\n' "whole daemon: netlink -> json -> null (steady state)" "$(range $jt)" "$(range $jr)"
	# Peak RSS (VmHWM) of every shipped marshaller into null and into a file. The file
	# runs get a long period: writing 540 MB of JSON per pass must not miss a deadline.
	echo "peak RSS, $socks sockets:"
	for m in $RSSM; do
		a=$(daemon "$ONE" 3 "$PER" "$m" null -o core.netns_dirs= | field maxrss_kib)
		b=$(daemon "$ONE" 2 "$FPER" "$m" "file:$T/out/x" -o core.netns_dirs= | field maxrss_kib)
		rm -f "$T"/out/*
		printf '  %-14s -> null %6s MiB   -> file %6s MiB\n' "$m" "$(mib "$a")" "$(mib "$b")"
	done
	stop_sockets
	rm -f "$T"/ready-*
	# The closed connections' ~100k TIME-WAIT sockets would stay in the host-wide table
	# (walked by every namespace's dump) for a minute: gone with their namespace.
	ip netns del "$ONE"
}

# ---- phase 2: M namespaces -------------------------------------------------------------
phase_many() {
	D=$PFX-d
	newns "$D"
	WANT=0
	for i in $(seq "$M"); do
		newns "$PFX-$i"
		touch "$T/netns/$PFX-$i" && mount --bind "/run/netns/$PFX-$i" "$T/netns/$PFX-$i"
		sockets "$PFX-$i" $((N / M))
	done
	wait_sockets
	paths=$(ls -d "$T"/netns/*)
	socks=$("$B/tests/plugins/sources/netlink/nldump" legacy $EXT 1 $paths | field sockets)
	echo
	echo "$M namespaces: $socks sockets, $R rounds of $P passes"
	FLOOR="$B/tests/plugins/sources/netlink/nldump legacy $EXT 1 $(echo $paths)"
	paired "$D" -o core.netns_dirs="$T/netns"
	FLOOR=
	floor=$("$B/tests/plugins/sources/netlink/nldump" legacy $EXT "$P" $paths | field cpu_us_per_pass)
	nlp() { ip netns exec "$D" "$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c "$P" "$@" 2>/dev/null | field cpu_us_per_cycle; }
	x=$(nlp)
	x1=$(nlp -o netlinkers=1)
	xpf=$(nlp -o dump=per_family)
	perfam=$("$B/tests/plugins/sources/netlink/nldump" per_family $EXT "$P" $paths | field cpu_us_per_pass)
	naive=$("$B/tests/plugins/sources/netlink/nldump" naive $EXT "$P" $paths | field cpu_us_per_pass)
	echo "  (one more floor for the lines below: $(ms "$floor") ms)"
	printf '%-62s %14s %12s\n' "xtcpd netlink source (legacy, 4 readers) -> no sink" "$(ms "$x")" "$(ratio "$x" "$floor")"
	printf '%-62s %14s %12s\n' "xtcpd netlink source (legacy, 1 reader) -> no sink" "$(ms "$x1")" "$(ratio "$x1" "$floor")"
	printf '%-62s %14s %12s\n' "xtcpd netlink source (per_family, 4 readers)" "$(ms "$xpf")" "$(ratio "$xpf" "$floor")"
	printf '%-62s %14s %12s\n' "raw per-family dump (2 requests), same states" "$(ms "$perfam")" "$(ratio "$perfam" "$floor")"
	printf '%-62s %14s %12s\n' "naive: raw 2 requests, all states (incl. bound-inactive)" "$(ms "$naive")" "$(ratio "$naive" "$floor")"
}

for ph in $PHASES; do
	case $ph in
	one) phase_one ;;
	many) phase_many ;;
	*) echo "bench: BENCH_PHASES: unknown phase '$ph' (one, many)"; exit 2 ;;
	esac
done
