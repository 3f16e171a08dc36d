#!/bin/sh
# changed_only — in a namespace made here (tests/plugins/sources/netlink/sockets.py: 14
# sockets, of which the 4 ends of the two pumping connections move all the time, plus 300
# idle connections: 614 sockets, enough to fill the iterator's buffer many times over, so
# records it shows again after an overflow are covered), with changed_only and refresh = 5,
# each pass emits: pass 1 every socket, then only the 4 moving ones, and every 5th pass
# (6, 11) every socket again. Without changed_only, every socket every pass.
# Root only (77 otherwise).
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: needs ip"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$(mktemp -d)
NS=xt-bpfch-$$
PID=
PID2=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$PID2" ] && kill "$PID2" 2>/dev/null && wait "$PID2" 2>/dev/null
	umount "$T/netns/$NS" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
set -e
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir "$T/netns"
touch "$T/netns/$NS"
mount --bind "/run/netns/$NS" "$T/netns/$NS"
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/ready" & PID=$!
ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 6000)); l.listen(512); keep = [l]
for i in range(300):
    keep += [socket.create_connection(("127.0.0.1", 6000)), l.accept()[0]]
open(sys.argv[1], "w").close()
time.sleep(3600)' "$T/ready2" & PID2=$!
for i in $(seq 100); do [ -e "$T/ready" ] && [ -e "$T/ready2" ] && break; sleep 0.1; done
[ -e "$T/ready" ] && [ -e "$T/ready2" ]
set +e
rc=0
# Per pass, the records of our namespace (the host's are polled too and left out).
per_pass() {
	awk -v ns="$NS" '$1 == "ns=" ns { n++ } /^cycle=/ { printf "%s%d", sep, n; sep = " "; n = 0 } END { print "" }' "$1"
}
"$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -c 12 -i 100 -o changed_only=true -o refresh=5 >"$T/out" 2>"$T/err" || { rc=1; cat "$T/err"; }
got=$(per_pass "$T/out")
want="615 4 4 4 4 615 4 4 4 4 615 4"
echo "changed_only, refresh 5: $got"
[ "$got" = "$want" ] || { echo "FAIL: want $want"; rc=1; }
"$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -c 3 -i 100 >"$T/out" 2>"$T/err" || { rc=1; cat "$T/err"; }
got=$(per_pass "$T/out")
echo "changed_only off: $got"
[ "$got" = "615 615 615" ] || { echo "FAIL: want 615 615 615"; rc=1; }
exit $rc
