#!/bin/sh
# bench_daemon — the whole daemon's CPU per record on the replay fixture, per marshaller:
# the netlink source parsing tests/plugins/marshallers/replay.nlraw (40 copies a cycle: 23,360
# records with every attribute) -> marshaller -> null sink, start-up left out
# (tests/plugins/sources/netlink/cpu_cycles.py). With several build folders (make bench-pgo: the normal
# build and a PGO one), each round measures each build in turn, and the gain of the
# last build over the first is printed per marshaller. Numbers only; no root needed.
# usage: bench_daemon.sh BUILDDIR [BUILDDIR...]   (BENCH_ROUNDS, BENCH_CYCLES)
S=${XTCPD_SRCDIR:-..}
R=${BENCH_ROUNDS:-5}
C=${BENCH_CYCLES:-20}
COPIES=40
REC=$((COPIES * 584))
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/replay" "$T/conf.d" "$T/netns"
for i in $(seq -w $COPIES); do cp "$S/tests/plugins/marshallers/replay.nlraw" "$T/replay/r$i.nlraw"; done
printf '[source netlink]\nreplay_dir = %s\n' "$T/replay" > "$T/xtcpd.conf"

# run BUILDDIR MARSHALLER: ns of daemon CPU per record
run() {
	XTCPD_PLUGIN_DIR="$1/.libs" /usr/bin/python3 "$S/tests/plugins/sources/netlink/cpu_cycles.py" 2 "$C" -- \
		"$1/xtcpd" -d -c "$T/xtcpd.conf" -C "$T/conf.d" --dest null --marshal "$2" \
		-o core.frequency=300ms -o core.prom_listen= -o core.netns_dirs="$T/netns" \
		-o core.netns_proc_scan=false |
		sed -n 's/.*cpu_us_per_cycle=\([0-9]*\).*/\1/p' |
		awk -v n=$REC '{ printf "%.0f", $1 * 1000 / n }'
}

echo "whole daemon on the replay ($REC records a cycle, $C cycles, best and range of $R rounds): ns of CPU per record"
printf '  %-14s' "marshaller"
for b in "$@"; do printf ' %22s' "$(basename "$b")"; done
[ $# -gt 1 ] && printf ' %10s' "gain"
echo
for m in protobufList protoJson json csv tsv protoText; do
	all=
	for r in $(seq "$R"); do
		for b in "$@"; do all="$all $(run "$b" "$m")"; done
	done
	printf '  %-14s' "$m"
	i=0 first= last=
	for b in "$@"; do
		i=$((i + 1))
		v=$(echo "$all" | tr ' ' '\n' | grep . | awk -v k=$i -v n=$# '(NR - 1) % n == k - 1')
		best=$(echo "$v" | sort -n | head -1)
		printf ' %10s (%s-%s)' "$best" "$best" "$(echo "$v" | sort -n | tail -1)"
		[ $i = 1 ] && first=$best
		last=$best
	done
	[ $# -gt 1 ] && awk -v a="$first" -v b="$last" 'BEGIN { printf " %9.1f%%", (a - b) * 100 / a }'
	echo
done
