# bench_sockets.sh — sourced by the benchmarks: BENCH_SOCKETS (N) loopback TCP sockets
# spread over BENCH_NS (M) namespaces made here (PFX-1..M, bind-mounted in $T/netns),
# held by python helpers (PIDS); with BENCH_MOVING=P, P % of the connections get a byte
# every second once $T/pump exists. Needs T, PFX, N, M, PIDS set by the caller.
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
# BENCH_MOVING (percent): once $T/pump exists, that share of the connections gets one
# byte each second (the counters of both ends move); the rest stay idle.
mv = int(len(keep) * int(sys.argv[4]) / 100) // 2 * 2
import os
while True:
    time.sleep(1)
    if mv and os.path.exists(sys.argv[5]):
        for c in keep[1:1 + mv:2]:
            c.send(b"x")' "$per" "$T/ready-$i-$j" $((9000 + j)) "${BENCH_MOVING:-0}" "$T/pump" &
		PIDS="$PIDS $!"
	done
done
for w in $(seq 1200); do
	[ "$(ls "$T" | grep -c '^ready-')" = "$want" ] && break
	for p in $PIDS; do kill -0 "$p" 2>/dev/null || { echo "bench: a socket helper died"; exit 1; }; done
	sleep 0.5
done
[ "$(ls "$T" | grep -c '^ready-')" = "$want" ] || { echo "bench: sockets not ready"; exit 1; }
