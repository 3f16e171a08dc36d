#!/bin/sh
# ring_daemon — the io_uring source's ring code (ring.c) driven through the daemon only
# (no nupoll, which replaces malloc), so that it runs under ASan+UBSan too (ASAN_TESTS):
# exact listener counts from two namespaces with one receive slot per ring and a
# completion queue of one entry, in both dump modes (per_family chains the IPv6 request
# from the reader); then a running daemon with one ring of two slots for three namespaces
# (they wait their turn for a slot), whose namespace is deleted (its wait cancelled, its
# socket closed) and that is stopped with the other still in its ring. Root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_plugin source_io_uring marshaller_json
need_cmd curl:curl
T=$TMP
K=1500 # listeners per namespace: ~40 datagrams of default attributes each
NS1=xt-uring-$$-a
NS2=xt-uring-$$-b
for ns in "$NS1" "$NS2"; do
	private_netns "$ns" || { fail "namespace $ns"; finish; exit; }
done
for ns in "$NS1" "$NS2"; do
	case $ns in *-a) base=20000 ;; *) base=30000 ;; esac
	ip netns exec "$ns" /usr/bin/python3 -c '
import socket, sys, time
keep = []
for i in range(int(sys.argv[1])):
    fam, addr = (socket.AF_INET6, "::1") if i % 2 else (socket.AF_INET, "127.0.0.1")
    l = socket.socket(fam); l.bind((addr, int(sys.argv[2]) + i)); l.listen(); keep.append(l)
open(sys.argv[3], "w").close()
time.sleep(600)' "$K" "$base" "$T/ready-$ns" &
	kill_on_exit $!
done
expect_ok "the listeners are up" wait_for 600 test -e "$T/ready-$NS1" -a -e "$T/ready-$NS2" ||
	{ finish; exit; }
: >"$T/xtcpd.conf"
mkdir "$T/none"
for mode in legacy per_family; do
	printf '[source io_uring]\nrecv_batch = 1\ncqe_batch = 1\ndump = %s\nstates = listen\n' "$mode" >"$T/u.conf"
	# a long deadline: on a loaded machine a dump walks every socket of the host's table
	"$XTCPD" -c "$T/u.conf" -C "$T/none" --once --dest stdout --marshal json \
		-o core.frequency=60s -o core.timeout=59s \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.prom_listen= \
		>"$T/json-$mode" 2>"$T/err-$mode"
	# (info lines aside: the tuning advice depends on the host's other sockets)
	expect_eq "$mode: exit status, no warning" "0 " "$? $(grep -v ': info: ' "$T/err-$mode" | head -3)"
	for ns in "$NS1" "$NS2"; do
		case $ns in *-a) p=2 ;; *) p=3 ;; esac
		expect_eq "$mode: every listener of $ns once" "$K" \
			"$(grep "\"netns\":\"$ns\"" "$T/json-$mode" | grep -c "\"inet_diag_msg_socket_source_port\":$p[0-9][0-9][0-9][0-9],")"
	done
done
# A running daemon, polling often (a dump missing its deadline on a loaded machine is
# only a warning here); the first namespace is deleted while it polls.
printf '[source io_uring]\nnetlinkers = 1\nrecv_batch = 2\nstates = listen\n' >"$T/u.conf"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$XTCPD" -c "$T/u.conf" -C "$T/none" --dest null --marshal json -o core.frequency=200ms \
	-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false \
	-o core.prom_listen=127.0.0.1:"$port" >/dev/null 2>"$T/err-run" &
pid=$!
kill_on_exit $pid
# m NAME: the value of metric NAME (this plugin instance's label) from /metrics, 0 if absent
m() { curl -s "http://127.0.0.1:$port/metrics" |
	awk -v n="xtcpd_$1{plugin=\"source/io_uring\"}" '$1 == n { v = $2 } END { print v + 0 }'; }
# at_least NAME N: metric NAME has reached N
at_least() { [ "$(m "$1")" -ge "$2" ]; }
expect_ok "polling both namespaces" wait_for 900 at_least netlink_sockets_total $((4 * K))
expect_ok "namespaces waited for a free receive slot" at_least io_uring_nobufs_total 1
# at_most NAME N: metric NAME is down to N
at_most() { [ "$(m "$1")" -le "$2" ]; }
nss=$(m netlink_namespaces) # ours and the host's
umount "$T/netns/$NS1" && ip netns del "$NS1" && rm -f "$T/netns/$NS1"
expect_ok "the deleted namespace is let go (of $nss)" wait_for 900 at_most netlink_namespaces $((nss - 1))
before=$(m netlink_sockets_total)
expect_ok "still polling the other" wait_for 900 at_least netlink_sockets_total $((before + 2 * K))
# Two slots: a dump's datagrams come two per io_uring_enter (one each with one slot, and
# the cycles' wake-ups and ends add a few), so fewer enters than 3/4 of the datagrams.
d=$(m netlink_datagrams_total) e=$(m io_uring_enters_total)
expect_ok "two datagrams per io_uring_enter ($e enters for $d datagrams)" [ "$d" -gt 0 -a $((4 * e)) -lt $((3 * d)) ]
stop $pid
# (warnings aside: on a loaded machine a cycle may time out; a sanitizer report or an
# error is not a warning line)
expect_eq "stopped: exit status, no error or sanitizer report" "0 " \
	"$STOP_RC $(grep -v '^xtcpd: info: \|^xtcpd: warning: ' "$T/err-run" | head -5)"
finish
