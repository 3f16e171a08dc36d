#!/bin/sh
# bench — CPU of the whole daemon (closed source -> protobufList -> null sink) per
# destroyed socket, as "CPU per 1,000 closes/s" (the share of one core the daemon needs
# for a steady 1,000 closes a second), beside the CPU the closing process itself spent
# (the kernel's connect/accept/close work: the baseline, measured in the same run).
# BENCH_CONNS connections (2 sockets each) per round, BENCH_ROUNDS rounds. Root.
set -u
B=${XTCPD_BUILDDIR:?}
S=${XTCPD_SRCDIR:?}
CONNS=${BENCH_CONNS:-50000}
ROUNDS=${BENCH_ROUNDS:-3}
[ "$(id -u)" = 0 ] || { echo "bench-closed: needs root"; exit 1; }
TMP=$(mktemp -d /tmp/xtcpd-bench-closed.XXXXXX)
NS=xt-cbench-$$
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	umount "$TMP/netns/$NS" 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up
mkdir -p "$TMP/netns" && touch "$TMP/netns/$NS" && mount --bind "/run/netns/$NS" "$TMP/netns/$NS"
cat > "$TMP/x.conf" << EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$PORT
netns_dirs = $TMP/netns
netns_proc_scan = false
[source closed]
socket_buffer = 64MiB
[marshaller protobufList]
[sink null]
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
DPID=$!
m() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
RCV='xtcpd_closed_received_total{plugin="source/closed"}'
DROP='xtcpd_closed_dropped_total{plugin="source/closed",reason="enobufs"}'
i=0
until [ "$(m 'xtcpd_closed_namespaces{plugin="source/closed"}')" = 2 ]; do
	i=$((i + 1)); [ $i -lt 300 ] || { echo "bench-closed: daemon not ready"; cat "$TMP/log"; exit 1; }
	sleep 0.1
done
# CPU ticks (utime + stime) of a process
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "bench-closed: $CONNS connections (x2 sockets) per round, $ROUNDS rounds, $(nproc) CPUs"
r=1
while [ $r -le "$ROUNDS" ]; do
	before=$(( $(m "$RCV") + $(m "$DROP") ))
	d0=$(ticks $DPID)
	t0=$(date +%s%N)
	ip netns exec "$NS" "$B/tests/plugins/sources/closed/closer" "$CONNS" 4 0 0 rst < /dev/null > "$TMP/closer" &
	cpid=$!
	c0=0
	while kill -0 $cpid 2>/dev/null; do c1=$(ticks $cpid 2>/dev/null) && c0=$c1; sleep 0.05; done
	wait $cpid
	# closer's children: none; its CPU is what it last showed (a lower bound)
	want=$((before + 2 * CONNS + 1))
	i=0
	while [ "$(( $(m "$RCV") + $(m "$DROP") ))" -lt $want ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
	t1=$(date +%s%N)
	d1=$(ticks $DPID)
	got=$(( $(m "$RCV") + $(m "$DROP") - before ))
	drops=$(m "$DROP")
	awk -v dt=$((d1 - d0)) -v ct="$c0" -v hz="$hz" -v n=$((2 * CONNS + 1)) -v got="$got" \
		-v wall=$(( (t1 - t0) / 1000000 )) -v drops="$drops" -v r=$r 'BEGIN {
		us = dt / hz * 1e6 / n; cus = ct / hz * 1e6 / n
		printf "round %d: %d sockets closed in %d ms (%d seen, drops so far %d): daemon %.2f us CPU per close = %.2f%% of a core per 1,000 closes/s; the closing process %.2f us per close (ratio %.2f)\n",
			r, n, wall, got, drops, us, us / 10, cus, (cus > 0 ? us / cus : 0) }'
	r=$((r + 1))
done
