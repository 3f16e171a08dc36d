#!/bin/sh
# filters — every kernel-side filter construct (port, port range, port list, address
# prefix v4/v6, remote side, several conditions together) compiled to
# INET_DIAG_REQ_BYTECODE, accepted by the live kernel, and selecting exactly the
# expected sockets. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
B=${XTCPD_BUILDDIR:-.}
T=$TMP
NS=xt-flt-$$
private_netns "$NS" || exit 1
set -e
ip netns exec "$NS" /usr/bin/python3 -c '
import socket, sys, time
keep = []
def lst(fam, a, p):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((a, p)); s.listen(8); keep.append(s); return s
def con(fam, la, lp, ra, rp, l):
    c = socket.socket(fam); c.bind((la, lp)); c.connect((ra, rp)); keep.extend([c, l.accept()[0]])
l4 = lst(socket.AF_INET, "127.0.0.1", 5000)
l6 = lst(socket.AF_INET6, "::1", 5001)
con(socket.AF_INET, "127.0.0.1", 6000, "127.0.0.1", 5000, l4)
con(socket.AF_INET6, "::1", 6001, "::1", 5001, l6)
con(socket.AF_INET, "127.0.0.1", 6100, "127.0.0.1", 5000, l4)
con(socket.AF_INET, "127.0.0.2", 6200, "127.0.0.1", 5000, l4)
open(sys.argv[1], "w").close()
time.sleep(600)' "$T/ready" &
kill_on_exit $!
wait_for 300 test -e "$T/ready"
set +e
# check "KEY=VALUE[ KEY=VALUE]" "expected sorted local-peer port pairs"
check() {
	opts=
	for kv in $1; do opts="$opts -o $kv"; done
	for mode in legacy per_family; do
		"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o dump=$mode $opts >"$T/out" 2>"$T/err"
		got=$(sed -n "s/^ns=$NS .* local=\(.*\):\([0-9]*\) peer=\(.*\):\([0-9]*\) inode.*/\2-\4/p" "$T/out" | sort | tr '\n' ' ')
		err=$(sed -n 's/.* nlmsg_error=\([0-9]*\)$/\1/p' "$T/out")
		expect_eq "[$1] $mode: sockets" "$2" "$got" || cat "$T/err"
		expect_eq "[$1] $mode: no nlmsg error" 0 "$err"
	done
}
check "sport=5000" "5000-0 5000-6000 5000-6100 5000-6200 "
check "sport=6000-6100" "6000-5000 6001-5001 6100-5000 "
check "sport=5000,5001" "5000-0 5000-6000 5000-6100 5000-6200 5001-0 5001-6001 "
check "dport=5001" "6001-5001 "
check "dport=1-5000" "6000-5000 6100-5000 6200-5000 "
check "src=127.0.0.2" "6200-5000 "
check "dst=127.0.0.2/32" "5000-6200 "
check "src=::1/128" "5001-0 5001-6001 6001-5001 "
check "src=127.0.0.0/8" "5000-0 5000-6000 5000-6100 5000-6200 6000-5000 6100-5000 6200-5000 "
check "src=0.0.0.0/0" "5000-0 5000-6000 5000-6100 5000-6200 6000-5000 6100-5000 6200-5000 "
check "sport=5000 dst=127.0.0.2" "5000-6200 "
check "sport=5000,6000-6300 dport=5000 src=127.0.0.1,::1" "6000-5000 6100-5000 "
check "states=listen" "5000-0 5001-0 "
check "states=established sport=5001-5001" "5001-6001 "
finish
