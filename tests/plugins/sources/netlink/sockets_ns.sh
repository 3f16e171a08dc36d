# tests/plugins/sources/netlink/sockets_ns.sh — sourced by the source equivalence tests
# (bpf_iter/equiv.sh, io_uring/equiv.sh) after tests/lib/lib.sh: the two namespaces they
# compare the netlink source on, each with sockets.py's sockets of every kind.

# sockets_ns PREFIX: make NS1=PREFIX-$$-a (sockets.py ports 5000..) and NS2=PREFIX-$$-b
# (ports 7000..), both ended with the test; returns non-zero, the failure counted, when a
# namespace cannot be made or its sockets do not come up.
sockets_ns() {
	NS1=$1-$$-a
	NS2=$1-$$-b
	for _ns in "$NS1" "$NS2"; do
		private_netns "$_ns" || { fail "namespace $_ns"; return 1; }
	done
	ip netns exec "$NS1" /usr/bin/python3 "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 5000 "$TMP/r1" &
	kill_on_exit $!
	ip netns exec "$NS2" /usr/bin/python3 "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 7000 "$TMP/r2" &
	kill_on_exit $!
	expect_ok "the sockets of both namespaces are up" wait_for 600 test -e "$TMP/r1" -a -e "$TMP/r2"
}
