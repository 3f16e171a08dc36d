#!/bin/sh
# enrich_lldp — [core] enrich_lldp: each uplink's LLDP neighbour on every record, from a
# real lldpd. Two veth pairs join two namespaces made here: in the far one an lldpd plays
# the switch (known system name, chassis id, management address, and a port id and
# description per port), in the near one another lldpd listens, and xtcpd runs there
# with both veths as its uplinks and the near lldpd's control socket. The records must
# carry exactly the switch's values, each port on its own uplink. Then the failures, each
# injected: no lldpd (the daemon runs, fields empty, xtcpd_lldp_reads_total counts it,
# one log line across SIGHUPs, and a SIGHUP to a live lldpd fills them), an lldpd that
# does not answer (stopped: the read gives up after 1 s), a broken answer, a socket
# xtcpd may not open; -n refuses a relative lldpd_socket. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2 lldpd:lldpd lldpcli:lldpd setpriv:util-linux curl:curl
need_python
need_plugin source_netlink marshaller_json sink_file
T=$TMP
mkdir -p "$T/conf.d"
printf '[source netlink]\n' > "$T/xtcpd.conf"

# A build without liblldpctl refuses the key, naming where and how to get it.
printf '[source netlink]\n[marshaller json]\n[sink null]\n[core]\nenrich_lldp = true\n' > "$T/n.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
rc=$?
if grep -q "built without liblldpctl" "$T/n.out"; then
	expect_eq "no liblldpctl: -n exit status" 2 $rc
	expect_eq "no liblldpctl: -n says why" "xtcpd: $T/n.conf:5: [core] enrich_lldp: this xtcpd was built without liblldpctl (configure --enable-lldp=yes)" "$(cat "$T/n.out")"
	skip_part "xtcpd was built without liblldpctl (configure --enable-lldp=yes): lldpd not asked"
	finish
	exit
fi
expect_eq "-n: enrich_lldp accepted" 0 $rc || cat "$T/n.out"
printf '[core]\nenrich_lldp = true\nlldpd_socket = lldpd.socket\n' > "$T/conf.d/bad.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
expect_eq "-n: relative lldpd_socket refused" 2 $?
expect_eq "-n: relative lldpd_socket: file:line and why" \
	"xtcpd: $T/conf.d/bad.conf:3: [core] lldpd_socket: 'lldpd.socket' is not an absolute path" "$(cat "$T/n.out")"
rm -f "$T/conf.d/bad.conf"

getent group _lldpd > /dev/null || cannot_run "no group _lldpd (the lldpd package makes it)"
NS=xt-lldp-$$
SW=xt-lldpsw-$$
private_netns "$NS" || exit 1
private_netns "$SW" || exit 1
set -e
ip -n "$NS" link add xln0 type veth peer name xln1 netns "$SW"
ip -n "$NS" link add xlm0 type veth peer name xlm1 netns "$SW"
for i in xln0 xlm0; do ip -n "$NS" link set $i up; done
for i in xln1 xlm1; do ip -n "$SW" link set $i up; done
ip -n "$NS" addr add 192.0.2.1/24 dev xln0
ip -n "$SW" addr add 192.0.2.2/24 dev xln1
set +e

# The switch: what lldpcli sets at its start (-O), sent every second.
SYS=sw-$$
CHASSIS=chassis-$$
PORT=port-$$
DESCR="switch port $$ to xtcpd"
PORT2=port2-$$
DESCR2="switch port two"
cat > "$T/sw.conf" <<EOF
configure system hostname $SYS
configure system chassisid $CHASSIS
configure ports xln1 lldp portidsubtype local $PORT description "$DESCR"
configure ports xlm1 lldp portidsubtype local $PORT2 description "$DESCR2"
configure lldp tx-interval 1
EOF
: > "$T/near.conf"
# Own control sockets and pid files, in the foreground, stopped by PID on exit.
ip netns exec "$SW" lldpd -d -u "$T/sw.sock" -p "$T/sw.pid" -m 192.0.2.2 -I xln1,xlm1 -O "$T/sw.conf" \
	2> "$T/sw.log" &
SWPID=$!
kill_on_exit $SWPID
ip netns exec "$NS" lldpd -d -u "$T/near.sock" -p "$T/near.pid" -I xln0,xlm0 -O "$T/near.conf" \
	2> "$T/near.log" &
NEAR=$!
kill_on_exit $NEAR
# the near lldpd knows the switch on both ports, port descriptions included
knows() {
	lldpcli -u "$T/near.sock" show neighbors 2> /dev/null > "$T/neighbors.txt" &&
		grep -q "PortDescr: *$DESCR\$" "$T/neighbors.txt" && grep -q "PortDescr: *$DESCR2\$" "$T/neighbors.txt"
}
if ! wait_for 600 knows; then
	cat "$T/sw.log" "$T/near.log" >&2
	cannot_run "lldpd does not see its neighbour over a veth pair here"
fi

# A listener in the near namespace: the records to check.
ip netns exec "$NS" /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", 0))
s.listen()
open(sys.argv[1], "w").close()
time.sleep(600)' "$T/ready" &
kill_on_exit $!
wait_for 300 test -e "$T/ready" || { echo "listener not ready"; exit 1; }
INO=$(stat -L -c %i "/proc/$!/ns/net")

# lldp_of FILE: the uplink and LLDP fields of the records of $NS, one line per distinct set
lldp_of() {
	/usr/bin/python3 - "$1" "$INO" <<'EOP' | sort -u
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if str(r["netns_inode"]) == sys.argv[2]:
        print(" ".join("|".join(str(r.get(f"uplink{u}_{k}", "-")) for k in ("ifname",
              "lldp_chassis_name", "lldp_chassis_id", "lldp_mgmt_ip", "lldp_port_id",
              "lldp_port_descr", "nic_driver")) for u in (1, 2)))
EOP
}
# each uplink its own port of the switch; no NIC fields (enrich_nic is off)
U1="xln0|$SYS|$CHASSIS|192.0.2.2|$PORT|$DESCR|-"
U2="xlm0|$SYS|$CHASSIS|192.0.2.2|$PORT2|$DESCR2|-"
WANT="$U1 $U2"
EMPTY="xln0|-|-|-|-|-|- xlm0|-|-|-|-|-|-"
# run NAME SOCKET [setpriv args]: one cycle of xtcpd in $NS asking the lldpd at SOCKET;
# as packaged, xtcpd reaches lldpd through the socket's group (_lldpd)
run() {
	_n=$1 _s=$2
	shift 2
	ip netns exec "$NS" setpriv "$@" -- "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once \
		--dest stdout --marshal json -o core.netns=host -o core.prom_listen= \
		-o core.enrich_lldp=true -o core.uplink_interfaces="${UPLINKS:-xln0,xlm0}" \
		-o core.lldpd_socket="$_s" -o core.enrich_nic="${NIC:-false}" \
		> "$T/$_n.json" 2> "$T/$_n.err"
	expect_eq "$_n: exit status" 0 $? || cat "$T/$_n.err"
}

run live "$T/near.sock" --groups=_lldpd
expect_eq "live: the switch on every record" "$WANT" "$(lldp_of "$T/live.json")" || cat "$T/live.err" "$T/neighbors.txt"
expect_eq "live: logged" \
	"xtcpd: info: uplink1: xln0: LLDP neighbour $SYS (chassis id $CHASSIS, management 192.0.2.2), port $PORT ($DESCR)
xtcpd: info: uplink2: xlm0: LLDP neighbour $SYS (chassis id $CHASSIS, management 192.0.2.2), port $PORT2 ($DESCR2)" \
	"$(cat "$T/live.err")"
# the neighbour follows its interface, whatever the uplinks' order
UPLINKS=xlm0,xln0 run swapped "$T/near.sock" --groups=_lldpd
expect_eq "swapped: each port on its own uplink" "$U2 $U1" "$(lldp_of "$T/swapped.json")"

# with enrich_nic too: the NICs' fields beside the neighbours'
NIC=true run nic "$T/near.sock" --groups=_lldpd
expect_eq "nic: both" "${U1%-}veth ${U2%-}veth" "$(lldp_of "$T/nic.json")"

# A broken answer (a server that is no lldpd): counted apart, fields empty.
/usr/bin/python3 - "$T/fake.sock" <<'EOP' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
c, _ = s.accept()
c.recv(4096)
c.sendall(struct.pack("=iiQ", 99, 0, 0))  # a header of a message type lldpd never sends
c.close()
EOP
kill_on_exit $!
wait_for 300 test -S "$T/fake.sock" || { echo "fake lldpd not ready"; exit 1; }
run broken "$T/fake.sock"
expect_eq "broken: no LLDP fields" "$EMPTY" "$(lldp_of "$T/broken.json")"
expect_ok "broken: said" grep -qF "enrich_lldp: lldpd on $T/fake.sock: unusable answer (" "$T/broken.err"

# Not allowed to open the socket (not in its group): said with the remedy, fields empty.
run denied "$T/near.sock" --clear-groups
expect_eq "denied: no LLDP fields" "$EMPTY" "$(lldp_of "$T/denied.json")"
expect_ok "denied: says why and what to do" grep -qF \
	"enrich_lldp: lldpd on $T/near.sock: Permission denied (xtcpd needs to be in the group of that socket, _lldpd on Debian)" \
	"$T/denied.err"

# An lldpd that does not answer (stopped with its child): the read gives up, the cycle runs.
# stop_tree SIG: the near lldpd and its children
stop_tree() {
	_sig=$1 _kids=""
	for _f in /proc/[0-9]*/stat; do
		read -r _l < "$_f" 2> /dev/null || continue
		set -- ${_l##*) }  # after the command name, which may hold spaces: state, ppid
		[ "$2" = "$NEAR" ] && _kids="$_kids ${_l%% *}"
	done
	kill -"$_sig" $NEAR $_kids
}
stop_tree STOP
run stalled "$T/near.sock" --groups=_lldpd
stop_tree CONT
expect_eq "stalled: no LLDP fields" "$EMPTY" "$(lldp_of "$T/stalled.json")"
expect_ok "stalled: timed out" grep -qF "enrich_lldp: lldpd on $T/near.sock: Connection timed out" "$T/stalled.err"

# No lldpd on the socket: the daemon runs, counts each read, says it once; a SIGHUP with
# the live socket fills the fields and says so.
PROM=127.0.0.1:9977  # in $NS, which is this test's alone: no port to share
printf '[core]\nenrich_lldp = true\nuplink_interfaces = xln0,xlm0\nlldpd_socket = %s\nfrequency = 200ms\nprom_listen = %s\n[marshaller json]\n[sink file]\nmarshaller = json\npath = %s\n' \
	"$T/none.sock" "$PROM" "$T/hup.json" > "$T/conf.d/lldp.conf"
ip netns exec "$NS" setpriv --groups=_lldpd -- "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" \
	-o core.netns=host 2> "$T/hup.err" &
D=$!
kill_on_exit $D
# reads RESULT: xtcpd_lldp_reads_total{result=RESULT}, scraped inside $NS
reads() {
	ip netns exec "$NS" curl -sf "http://$PROM/metrics" |
		awk -v k="xtcpd_lldp_reads_total{result=\"$1\"}" '$1 == k { print $2; n++ } END { if (!n) print "missing" }'
}
reads_are() { [ "$(reads "$1")" = "$2" ]; }
wait_for 300 grep -qs '"uplink1_ifname":"xln0"' "$T/hup.json"
expect_eq "down: no LLDP fields" "$EMPTY" "$(lldp_of "$T/hup.json")"
expect_eq "down: counted" 1 "$(reads unreachable)"
expect_eq "down: the other results there, at 0" "0 0" "$(reads ok) $(reads error)"
LINE="enrich_lldp: lldpd on $T/none.sock: No such file or directory"
kill -HUP $D
wait_for 300 reads_are unreachable 2
expect_eq "down, SIGHUP: counted again" 2 "$(reads unreachable)"
expect_eq "down: logged once" 1 "$(grep -cF "$LINE" "$T/hup.err")"
sed -i "s|^lldpd_socket = .*|lldpd_socket = $T/near.sock|" "$T/conf.d/lldp.conf"
kill -HUP $D
wait_for 300 grep -qs "\"uplink1_lldp_chassis_name\":\"$SYS\"" "$T/hup.json"
expect_eq "up, SIGHUP: read (ok unreachable error)" "1 2 0" "$(reads ok) $(reads unreachable) $(reads error)"
expect_ok "up, SIGHUP: said" grep -qF "enrich_lldp: lldpd on $T/near.sock answers again" "$T/hup.err"
# liblldpctl comes with the lldpd package: loaded by the first read, never linked
expect_eq "on: liblldpctl loaded" 1 "$(grep -c 'r-xp.*/liblldpctl\.so' /proc/$D/maps)"
expect_eq "xtcpd does not link liblldpctl" 0 "$(ldd "$XTCPD" | grep -c lldpctl)"
stop $D
expect_eq "clean exit" 0 "$STOP_RC" || cat "$T/hup.err"

echo "== liblldpctl missing (lldpd not installed; a private mount namespace hides it)"
LIB=$(ldconfig -p | sed -n 's/^\s*liblldpctl\.so\.4 (libc6,x86-64) => //p' | head -1)
if [ -z "$LIB" ]; then
	skip_part "liblldpctl.so.4 not found by ldconfig -p"
else
	ip netns exec "$NS" unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$LIB" \
		setpriv --groups=_lldpd -- "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once \
		--dest stdout --marshal json -o core.netns=host -o core.prom_listen= \
		-o core.enrich_lldp=true -o core.uplink_interfaces=xln0,xlm0 \
		-o core.lldpd_socket="$T/near.sock" > "$T/nolib.json" 2> "$T/nolib.err"
	expect_eq "no library: exit status" 0 $? || cat "$T/nolib.err"
	expect_eq "no library: one warning naming it and the package" 1 \
		"$(grep -c "enrich_lldp: lldpd on $T/near.sock: cannot load liblldpctl.so.4 (Debian package lldpd): .*: the lldp fields stay empty" "$T/nolib.err")"
	expect_eq "no library: no LLDP fields" "$EMPTY" "$(lldp_of "$T/nolib.json")"
fi
grep -h "\"uplink1_lldp_chassis_name\":\"$SYS\"" "$T/hup.json" > "$T/hup.up.json"
expect_eq "up, SIGHUP: the switch on the records" "$WANT" "$(lldp_of "$T/hup.up.json")"
finish
