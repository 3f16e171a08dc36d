#!/bin/sh
# deadline — cycles whose deadline has passed before the dumps end: poll() returns
# -ETIMEDOUT, counts the missed dumps, and no record is emitted after it returned (the
# readers drain the late answers and count them instead); every parsed record is either
# emitted or counted late; a following cycle with time enough emits every socket of the
# namespace. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
B=${XTCPD_BUILDDIR:-.}
T=$TMP
NS=xt-dl-$$
CONNS=9000
private_netns "$NS" || exit 1
set -e
ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys, time
keep = []
l = socket.socket(); l.bind(("127.0.0.1", 9000)); l.listen(4096); keep.append(l)
for k in range(int(sys.argv[1])):
    c = socket.create_connection(("127.0.0.1", 9000)); keep.extend([c, l.accept()[0]])
open(sys.argv[2], "w").close()
time.sleep(600)' $CONNS "$T/ready" &
kill_on_exit $!
wait_for 600 test -e "$T/ready"
set +e
# Three cycles with a deadline already past, 300 ms apart, then one with time enough (a 10 min bound).
"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -o deserializers=all -o sport=9000 -c 4 -T 0 -L 600000 -i 300 \
	>"$T/out" 2>"$T/err"
expect_eq "nlpoll exits 1: some cycles failed" 1 $? || cat "$T/err"
m() { sed -n "s/^metric $1 //p" "$T/out"; }
outside=$(sed -n 's/^emits_outside_poll=//p' "$T/out")
records=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/out")
parsed=$(m 'netlink_sockets_total{}')
late=$(m 'netlink_late_records_total{}')
missed=$(m 'netlink_dumps_missed_total{}')
last=$(sed -n 's/^cycle=4 emitted=\([0-9]*\) .*/\1/p' "$T/out")
echo "missed dumps=$missed parsed=$parsed emitted=$records late=$late outside_poll=$outside last cycle=$last"
# poll() says -ETIMEDOUT (-110) for each late cycle, 0 for the one with time enough.
expect_eq "poll() result per cycle" "-110 -110 -110 0" \
	"$(sed -n 's/^cycle=[0-9]* emitted=[0-9]* rc=//p' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "no record emitted after poll() returned" 0 "$outside"
expect_eq "parsed = emitted + late" "$((records + late))" "$parsed"
expect_ok "missed dumps counted (${missed:-none})" [ "${missed:-0}" -ge 1 ]
# sport=9000: the listener and the server side of every connection.
expect_eq "last cycle emits every socket" $((CONNS + 1)) "$last"
finish
