#!/bin/sh
# bench — the io_uring source against the netlink source (A/B, same run, same sockets),
# root only: BENCH_SOCKETS loopback sockets (default 200000) in 1 namespace, then spread
# over BENCH_NS namespaces (default 10), then BENCH_SMALL small namespaces (default 500,
# "0" skips them) of BENCH_SMALL_CONNS connections each (default 10: 21 sockets with the
# listener), as containers on a host are. For each source and layout, BENCH_ROUNDS rounds
# (default 3) of the nlpoll driver (nupoll for io_uring; default attributes, no sink,
# each source's default readers: 4 for netlink, 1 ring for io_uring) over BENCH_PASSES
# passes (default 10): CPU per pass of every thread, wall time per pass, peak RSS (GNU
# time), threads, and syscalls per pass (perf stat raw_syscalls:sys_enter, a run of 1+P
# passes minus a run of 1: start-up left out); io_uring at each variant of
# BENCH_RECV_BATCHES (default "2 1 64 2/4": recv_batch 2 (the default), 1, xtcp2's 64;
# "R/N" = recv_batch R with netlinkers N, here four rings as netlink has four readers).
# Then the whole daemon (source -> protobufList -> null, P cycles): CPU (user + system)
# and peak RSS with each source at its defaults. Every round runs each driver twice:
# pinned to BENCH_CPU (default: the last CPU; "none" = pinned runs skipped), so both
# sources run where the same interrupts and neighbours are (see netlink's bench.sh), and
# unpinned, as a daemon runs (its readers spread over the CPUs: that changes which dumps
# share a CPU's caches, and which walk the kernel's socket table at the same time).
# Prints numbers only.
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
N=${BENCH_SOCKETS:-200000}
M=${BENCH_NS:-10}
P=${BENCH_PASSES:-10}
R=${BENCH_ROUNDS:-3}
RB=${BENCH_RECV_BATCHES:-2 1 64 2/4} # io_uring recv_batch[/netlinkers] to run (2: the default; 64: xtcp2's)
SMALL=${BENCH_SMALL:-500}
SMALL_CONNS=${BENCH_SMALL_CONNS:-10}
CPU=${BENCH_CPU-$(($(nproc) - 1))}
[ "$CPU" = none ] && CPU=
T=$(mktemp -d)
PFX=xt-ubench-$$
PIDS= NSS= WANT=0
NL=$B/tests/plugins/sources/netlink/nlpoll
NU=$B/tests/plugins/sources/io_uring/nupoll
export XTCPD_PLUGIN_DIR="${XTCPD_PLUGIN_DIR:-$B/.libs}"
XTCPD=${XTCPD:-$B/xtcpd}
command -v perf >/dev/null || { echo "bench: perf missing (Debian package linux-perf)"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: GNU time missing (Debian package time)"; exit 1; }

cleanup() {
	stop_sockets
	for f in "$T"/netns/*; do [ -e "$f" ] && umount "$f" 2>/dev/null; done
	for ns in $(printf "%s\n" $NSS | sort -u); do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap "exit 1" INT TERM
stop_sockets() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS= WANT=0
	rm -f "$T"/ready-*
}
newns() {
	ip netns add "$1" && ip -n "$1" link set lo up || exit 1
	NSS="$NSS $1"
	mkdir -p "$T/netns" && touch "$T/netns/$1" && mount --bind "/run/netns/$1" "$T/netns/$1"
}
# hold CONNS PORT NS...: a helper holds CONNS connections and their listener (on PORT) in
# each NS, entering them in turn (setns): sockets stay in the namespace they were made in.
hold() {
	/usr/bin/python3 -c '
import ctypes, os, resource, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
n, port, keep = int(sys.argv[2]), int(sys.argv[3]), []
for ns in sys.argv[4:]:
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0: # CLONE_NEWNET
        sys.exit("setns %s: %s" % (ns, os.strerror(ctypes.get_errno())))
    os.close(fd)
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(4096); keep.append(l)
    for k in range(n):
        c = socket.create_connection(("127.0.0.1", port)); keep.extend([c, l.accept()[0]])
open(sys.argv[1], "w").close()
time.sleep(3600)' "$T/ready-$WANT" "$@" &
	PIDS="$PIDS $!"
	WANT=$((WANT + 1))
}
# sockets NS COUNT: COUNT sockets (COUNT/2 connections) in NS, 19000 per helper at most
sockets() {
	nproc=$(( ($2 + 18999) / 19000 ))
	for j in $(seq "$nproc"); do
		hold $(( ($2 / nproc - 1) / 2 )) $((9000 + j)) "$1"
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
# one PIN DRIVER [-o KEY=VALUE]: "cpu_us rss_kb threads syscalls_per_pass records_per_pass
# wall_us" (wall: from a pass's start to its last dump's end)
# (PIN: a CPU, or "-" for none)
one() {
	PIN=
	[ "$1" = - ] || PIN="taskset -c $1"
	drv=$2
	shift 2
	$PIN /usr/bin/time -f "rss=%M" "$drv" "$@" -d "$T/netns" -q -t -c "$P" -T 600000 >"$T/o" 2>"$T/e" || { cat "$T/e" >&2; exit 1; }
	cpu=$(sed -n 's/.*cpu_us_per_cycle=\([0-9]*\).*/\1/p' "$T/o")
	wall=$(sed -n 's/.*wall_us_per_cycle=\([0-9]*\).*/\1/p' "$T/o")
	thr=$(sed -n 's/^threads=\([0-9]*\) .*/\1/p' "$T/o")
	recs=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/o")
	rss=$(sed -n 's/^rss=//p' "$T/e")
	if [ -n "$PIN" ] || [ -z "$CPU" ]; then # (once a round: pinning does not change them)
		s1=$(perf stat -x, -e raw_syscalls:sys_enter "$drv" "$@" -d "$T/netns" -q -c 1 -T 600000 2>&1 >/dev/null | sed -n 's/^\([0-9]*\),.*/\1/p')
		sp=$(perf stat -x, -e raw_syscalls:sys_enter "$drv" "$@" -d "$T/netns" -q -c $((P + 1)) -T 600000 2>&1 >/dev/null | sed -n 's/^\([0-9]*\),.*/\1/p')
		sc=$(( (sp - s1) / P ))
	else
		sc=-
	fi
	echo "$cpu $rss $thr $sc $((recs / P)) $wall"
}
# uopts VARIANT: nupoll's options for "R" (recv_batch) or "R/N" (and netlinkers)
uopts() {
	case $1 in
	*/*) echo "-o recv_batch=${1%/*} -o netlinkers=${1#*/}" ;;
	*) echo "-o recv_batch=$1" ;;
	esac
}
layout() { # NAME SOCKETS
	echo "== $1: $(( $(ls "$T/netns" | wc -l) )) namespaces (+ the host's), $2 sockets; CPU runs pinned to CPU ${CPU:-(none)}, then unpinned"
	printf '%-6s %-4s %-11s %12s %13s %10s %8s %14s %12s\n' round cpu source "CPU ms/pass" "wall ms/pass" "RSS MiB" threads "syscalls/pass" records/pass
	best=
	for r in $(seq "$R"); do
		for pin in $CPU -; do
			set -- $(one "$pin" "$NL")
			a_cpu=$1 a_rss=$2
			best="$best $pin:netlink:$1"
			printf '%-6s %-4s %-11s %12s %13s %10s %8s %14s %12s\n' "$r" "$pin" netlink "$(echo "$1" | awk '{printf "%.1f", $1/1000}')" \
				"$(echo "$6" | awk '{printf "%.1f", $1/1000}')" "$(echo "$2" | awk '{printf "%.1f", $1/1024}')" "$3" "$4" "$5"
			for rb in $RB; do
				set -- $(one "$pin" "$NU" $(uopts "$rb"))
				best="$best $pin:$rb:$1"
				printf '%-6s %-4s %-11s %12s %13s %10s %8s %14s %12s   /netlink: CPU %s, RSS %s\n' "$r" "$pin" "uring/$rb" \
					"$(echo "$1" | awk '{printf "%.1f", $1/1000}')" "$(echo "$6" | awk '{printf "%.1f", $1/1000}')" \
					"$(echo "$2" | awk '{printf "%.1f", $1/1024}')" \
					"$3" "$4" "$5" "$(echo "$1 $a_cpu" | awk '{printf "%.2fx", $1/$2}')" \
					"$(echo "$2 $a_rss" | awk '{printf "%.2fx", $1/$2}')"
			done
		done
	done
	# Noise only adds CPU time (this VM counts what the host steals as the task's): the
	# cheapest pass of each over the rounds is the closest to its work.
	for pin in $CPU -; do
		mn=$(echo $best | tr ' ' '\n' | sed -n "s|^$pin:netlink:||p" | sort -n | head -1)
		for rb in $RB; do
			mu=$(echo $best | tr ' ' '\n' | sed -n "s|^$pin:$rb:||p" | sort -n | head -1)
			echo "best of $R rounds, cpu $pin: netlink $(echo "$mn" | awk '{printf "%.1f", $1/1000}') ms, uring/$rb $(echo "$mu" | awk '{printf "%.1f", $1/1000}') ms: $(echo "$mu $mn" | awk '{printf "%.3fx", $1/$2}')"
		done
	done
	for src in netlink io_uring; do
		printf '[source %s]\n' "$src" >"$T/d.conf"
		/usr/bin/time -f "rss=%M cpu=%U+%S" "$XTCPD" -c "$T/d.conf" -C "$T/none" --dest null \
			--marshal protobufList -o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false \
			-o core.prom_listen= -o core.max_loops="$P" -o core.frequency=2s -o core.timeout=1900ms \
			>/dev/null 2>"$T/de" || { tail -3 "$T/de"; exit 1; }
		echo "daemon $src -> protobufList -> null, $P cycles: $(sed -n 's/^rss=\([0-9]*\) cpu=\(.*\)/peak RSS \1 KiB, CPU \2 s/p' "$T/de")"
	done
}
newns "$PFX-0"
sockets "$PFX-0" "$N"
wait_sockets
layout "1 namespace" "$N"
stop_sockets
# The closed connections leave ~100k TIME-WAIT sockets in $PFX-0 for a minute: a fresh
# namespace, so the second layout has the sockets it says.
umount "$T/netns/$PFX-0" && rm -f "$T/netns/$PFX-0" && ip netns del "$PFX-0" || exit 1
newns "$PFX-0"
for i in $(seq 1 $((M - 1))); do newns "$PFX-$i"; done
for i in $(seq 0 $((M - 1))); do sockets "$PFX-$i" $((N / M)); done
wait_sockets
layout "$M namespaces" "$N"
[ "$SMALL" -gt 0 ] || exit 0
stop_sockets
for f in "$T"/netns/*; do umount "$f" && rm -f "$f" || exit 1; done
for ns in $(printf "%s\n" $NSS | sort -u); do ip netns del "$ns" || exit 1; done
NSS=
# (RLIMIT_NOFILE hard limits here are ~20000: a helper per 19000 sockets)
chunk=$((19000 / (2 * SMALL_CONNS + 1)))
list=
for i in $(seq "$SMALL"); do
	newns "$PFX-s$i"
	list="$list $PFX-s$i"
	if [ $((i % chunk)) = 0 ] || [ "$i" = "$SMALL" ]; then
		hold "$SMALL_CONNS" 9000 $list
		list=
	fi
done
wait_sockets
layout "$SMALL small namespaces" $((SMALL * (2 * SMALL_CONNS + 1)))
