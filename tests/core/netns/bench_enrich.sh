#!/bin/sh
# bench_enrich — what enrichment costs a poll pass: BENCH_SOCKETS (200000) sockets in
# BENCH_NS (10) namespaces, the whole daemon (netlink -> protobufList -> null) with every
# enrichment off, then on (enrich_container with a Kubernetes/Docker layout and a pod for
# each namespace in a throwaway root, enrich_docker against the stand-in API of
# tests/core/netns/docker_api.py, enrich_nic with two veth uplinks), alternated for
# BENCH_ROUNDS (3) rounds of BENCH_PASSES (10) steady-state cycles each (CPU of every
# thread per cycle, tests/plugins/sources/netlink/cpu_cycles.py). Prints the CPU per pass
# of each and their ratio per round (the machine is shared: only ratios measured side by
# side mean anything). Root only; numbers only.
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
N=${BENCH_SOCKETS:-200000}
M=${BENCH_NS:-10}
P=${BENCH_PASSES:-6}
R=${BENCH_ROUNDS:-3}
PER=${BENCH_PERIOD:-15s}
T=$(mktemp -d)
PFX=xt-benr-$$
DNS=$PFX-d
PIDS=
API=
PIDS_LLDP=
AS=
export XTCPD_PLUGIN_DIR="${XTCPD_PLUGIN_DIR:-$B/.libs}"
XTCPD=${XTCPD:-$B/xtcpd}

cleanup() {
	for p in $PIDS $API $PIDS_LLDP; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for f in "$T"/netns/*; do [ -e "$f" ] && umount "$f" 2>/dev/null; done
	for i in $(seq "$M"); do ip netns del "$PFX-$i" 2>/dev/null; done
	ip netns del "$DNS" 2>/dev/null
	ip netns del "$SWN" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
field() { tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\)$/\1/p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }

. "$S/tests/plugins/sources/netlink/bench_sockets.sh"

# The daemon's own namespace: two uplinks with default routes (IPv4, IPv6).
# Their far ends are in a switch namespace, where an lldpd plays the switch; another
# lldpd in the daemon's namespace is what enrich_lldp reads (when lldpd is installed and
# xtcpd was built with liblldpctl).
SWN=$PFX-sw
ip netns add "$DNS" || exit 1
ip netns add "$SWN" || exit 1
ip -n "$DNS" link set lo up
for i in 0 1; do
	ip -n "$DNS" link add "xtb$i" type veth peer name "xtp$i" netns "$SWN" && ip -n "$DNS" link set "xtb$i" up &&
		ip -n "$SWN" link set "xtp$i" up || exit 1
done
LLDP=
if command -v lldpd > /dev/null && getent group _lldpd > /dev/null; then
	chmod 711 "$T"  # lldpcli and lldpd reach their sockets in it as _lldpd
	printf 'configure system hostname bench-switch\nconfigure lldp tx-interval 1\n' > "$T/sw.conf"
	: > "$T/near.conf"
	ip netns exec "$SWN" lldpd -d -u "$T/sw.sock" -p "$T/sw.pid" -I xtp0,xtp1 -O "$T/sw.conf" 2> /dev/null &
	PIDS_LLDP=$!
	ip netns exec "$DNS" lldpd -d -u "$T/near.sock" -p "$T/near.pid" -I xtb0,xtb1 -O "$T/near.conf" 2> /dev/null &
	PIDS_LLDP="$PIDS_LLDP $!"
	for w in $(seq 100); do
		[ "$(lldpcli -u "$T/near.sock" show neighbors 2> /dev/null | grep -c 'SysName: *bench-switch')" = 2 ] && break
		sleep 0.1
	done
	printf '[source netlink]\n[marshaller json]\n[sink null]\n[core]\nenrich_lldp = true\n' > "$T/n.conf"
	mkdir -p "$T/n.d" && "$XTCPD" -n -c "$T/n.conf" -C "$T/n.d" > /dev/null 2>&1 && LLDP="-o core.enrich_lldp=true -o core.lldpd_socket=$T/near.sock" &&
		AS="setpriv --groups=_lldpd --"  # as packaged: lldpd's socket is for its group
fi
ip -n "$DNS" addr add 10.78.0.1/24 dev xtb0 && ip -n "$DNS" route add default via 10.78.0.2 dev xtb0
ip -n "$DNS" -6 addr add fd00:78::1/64 dev xtb1 nodad && ip -n "$DNS" -6 route add default via fd00:78::2 dev xtb1

# Every helper process of namespace i: a Docker container in a Kubernetes pod (dockershim
# layout: runtime, id, name, image and pod all known).
RT=$T/root
k=0
table=
nproc=$(( ( (N / M) + 18999) / 19000 ))
for p in $PIDS; do
	i=$(( k / nproc + 1 ))
	k=$((k + 1))
	id=$(printf '%064x' "$i" | sed 's/^0/b/')
	uid=$(printf 'cccccccc-0000-4000-8000-%012d' "$i")
	mkdir -p "$RT/proc/$p" "$RT/var/log/pods/bench_app-$i-7d9f_$uid/app"
	printf '0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/docker-%s.scope\n' \
		"$(echo "$uid" | tr - _)" "$id" > "$RT/proc/$p/cgroup"
	table="$table $id=app-$i=registry.example/app:1.$i"
done
/usr/bin/python3 "$S/tests/core/netns/docker_api.py" "$T/docker.sock" "$T/api.log" ok $table &
API=$!
for w in $(seq 100); do [ -e "$T/docker.sock.ready" ] && break; sleep 0.1; done

mkdir -p "$T/conf.d"
printf '[source netlink]\n' > "$T/xtcpd.conf"
# run [-o ...]: cpu_cycles.py's line for the daemon in DNS
run() {
	ip netns exec "$DNS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/cpu_cycles.py" 2 "$P" -- \
		$AS "$XTCPD" -d -c "$T/xtcpd.conf" -C "$T/conf.d" --dest null --marshal protobufList \
		-o core.frequency="$PER" -o core.prom_listen= -o core.netns_proc_scan=false \
		-o core.netns_dirs="$T/netns" "$@"
}
echo "$N sockets in $M namespaces, kernel $(uname -r), $R rounds of $P passes (period $PER); CPU = user + system of every thread"
echo "enrichment on: container, docker, nic$([ -n "$LLDP" ] && echo ", lldp (a real lldpd)" || echo "; lldp left out (no lldpd, or xtcpd without liblldpctl)")"
rs= ons= offs=
for r in $(seq "$R"); do
	off=$(run | field cpu_us_per_cycle)
	on=$(run -o core.enrich_container=true -o core.enrich_docker=true -o core.docker_socket="$T/docker.sock" \
		-o core.enrich_nic=true -o core.enrich_root="$RT" $LLDP | field cpu_us_per_cycle)
	[ -n "$off" ] && [ -n "$on" ] || { echo "  round $r: no number"; continue; }
	rs="$rs $(ratio "$on" "$off")" ons="$ons $on" offs="$offs $off"
	echo "  round $r: enrichment off $(ms "$off") ms/pass, on $(ms "$on") ms/pass = $(ratio "$on" "$off")x"
done
# median (of an even count: the mean of the middle two) and sum of a list of numbers
median() { echo "$1" | tr ' ' '\n' | grep . | sort -n |
	awk '{ a[NR] = $1 } END { printf "%.4f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sum() { echo "$1" | tr ' ' '\n' | grep . | awk '{ s += $1 } END { print s }'; }
echo "on/off ratios:$rs (median $(median "$rs"); ratio of the means $(ratio "$(sum "$ons")" "$(sum "$offs")")x)"
# What the records carried (one cycle, json): every field known.
ip netns exec "$DNS" $AS "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
	-o core.prom_listen= -o core.netns_proc_scan=false -o core.netns_dirs="$T/netns" \
	-o core.enrich_container=true -o core.enrich_docker=true -o core.docker_socket="$T/docker.sock" \
	-o core.enrich_nic=true -o core.enrich_root="$RT" $LLDP 2>"$T/sample.log" | head -1 |
	/usr/bin/python3 -c 'import json, sys
r = json.loads(sys.stdin.readline())
print("sample record:", {k: r.get(k) for k in ("netns", "container_id", "container_runtime",
      "pod_namespace", "pod_name", "uplink1_ifname", "uplink1_nic_driver", "uplink2_ifname",
      "uplink1_lldp_chassis_name")})'
grep 'LLDP neighbour' "$T/sample.log"
