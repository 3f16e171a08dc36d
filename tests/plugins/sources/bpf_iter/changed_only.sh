#!/bin/sh
# changed_only — in a namespace made here (tests/plugins/sources/netlink/sockets.py: 14
# sockets, of which the 4 ends of the two pumping connections move all the time, plus 300
# idle connections: 614 sockets, enough to fill the iterator's buffer many times over, so
# records it shows again after an overflow are covered), with changed_only and refresh = 5,
# each pass emits: pass 1 every socket, then only the 4 moving ones, and every 5th pass
# (6, 11) every socket again. Without changed_only, every socket every pass. And
# skip_empty (the sockstat read shared with the netlink source): a second namespace
# without sockets is never walked, ours always.
# Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$TMP
NS=xt-bpfch-$$
private_netns "$NS" || { fail "namespace $NS"; finish; exit; }
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/ready" &
kill_on_exit $!
ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 6000)); l.listen(512); keep = [l]
for i in range(300):
    keep += [socket.create_connection(("127.0.0.1", 6000)), l.accept()[0]]
open(sys.argv[1], "w").close()
time.sleep(3600)' "$T/ready2" &
kill_on_exit $!
expect_ok "the sockets are up" wait_for 600 test -e "$T/ready" -a -e "$T/ready2" || { finish; exit; }
# Per pass, the records of our namespace (the host's are polled too and left out).
per_pass() {
	awk -v ns="$NS" '$1 == "ns=" ns { n++ } /^cycle=/ { printf "%s%d", sep, n; sep = " "; n = 0 } END { print "" }' "$1"
}
expect_ok "bipoll, changed_only" "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -c 12 -i 100 \
	-o changed_only=true -o refresh=5 >"$T/out" 2>"$T/err" || cat "$T/err"
expect_eq "changed_only, refresh 5: records of our namespace per pass" "615 4 4 4 4 615 4 4 4 4 615 4" \
	"$(per_pass "$T/out")"
expect_ok "bipoll, changed_only off" "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -c 3 -i 100 \
	>"$T/out" 2>"$T/err" || cat "$T/err"
expect_eq "changed_only off: every socket every pass" "615 615 615" "$(per_pass "$T/out")"
private_netns "$NS-empty" || fail "namespace $NS-empty"
expect_ok "bipoll, an empty namespace beside ours" "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" \
	-c 3 -i 100 >"$T/out" 2>"$T/err" || cat "$T/err"
expect_eq "skip_empty: our namespace walked every pass" "615 615 615" "$(per_pass "$T/out")"
expect_eq "skip_empty: the empty one skipped every pass" 3 \
	"$(sed -n 's/^metric bpf_iter_namespaces_skipped_total{} //p' "$T/out")"
expect_ok "bipoll, skip_empty off" "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" \
	-c 3 -i 100 -o skip_empty=false >"$T/out" 2>"$T/err" || cat "$T/err"
expect_eq "skip_empty off: nothing skipped" 0 \
	"$(sed -n 's/^metric bpf_iter_namespaces_skipped_total{} //p' "$T/out")"
finish
