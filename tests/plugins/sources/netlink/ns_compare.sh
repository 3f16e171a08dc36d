#!/bin/sh
# ns_compare — in two namespaces made here, IPv4 and IPv6 listeners, idle and busy
# connections and a TIME-WAIT socket; every socket `ss -tane` lists must appear exactly
# once in the netlink source's output with equal state, addresses, ports, inode and
# cookie, and idle sockets' tcp_info, cong and skmem must equal `ss -tinme`. The same
# through the daemon (netlink -> json -> stdout). Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2 ss:iproute2
need_plugin source_netlink marshaller_json sink_file
B=$XTCPD_BUILDDIR
S=$XTCPD_SRCDIR
T=$TMP
NS1=xt-cmp-$$-a
NS2=xt-cmp-$$-b
# Only the namespaces of this test are scanned: a private bind-mount folder.
private_netns "$NS1" || exit 1
private_netns "$NS2" || exit 1
# An nsid for the first namespace (as a veth peer or `ip netns set` gives one): records
# carry it; the second has none (0).
NSID=$(( ($$ % 1000) + 1000 ))
ip netns set "$NS1" "$NSID" || exit 1
ip netns exec "$NS1" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/r1" &
kill_on_exit $!
ip netns exec "$NS2" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 7000 "$T/r2" &
kill_on_exit $!
wait_for 300 test -e "$T/r1" -a -e "$T/r2" || { echo "socket makers not ready"; exit 1; }
for mode in legacy per_family daemon; do
	echo "== $mode"
	for ns in "$NS1" "$NS2"; do
		ip netns exec "$ns" ss -tane > "$T/$ns.tane" 2>/dev/null
		ip netns exec "$ns" ss -tinmea > "$T/$ns.tinm" 2>/dev/null
	done
	if [ $mode = daemon ]; then
		mkdir -p "$T/conf.d"
		printf '[source netlink]\ndeserializers = all\n' >"$T/xtcpd.conf"
		"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
			-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.prom_listen= \
			>"$T/json" 2>"$T/err.$mode"
		expect_eq "$mode: exit status" 0 $? || cat "$T/err.$mode"
		/usr/bin/python3 "$S/tests/plugins/sources/netlink/json2kv.py" <"$T/json" >"$T/out.$mode"
	else
		"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o deserializers=all -o dump=$mode > "$T/out.$mode" 2>"$T/err.$mode"
		expect_eq "$mode: exit status" 0 $? || cat "$T/err.$mode"
	fi
	for ns in "$NS1" "$NS2"; do
		case $ns in *-a) base=5000 ;; *) base=7000 ;; esac
		expect_ok "$mode: $ns equals ss" /usr/bin/python3 "$S/tests/plugins/sources/netlink/compare_ss.py" \
			"$T/out.$mode" "$ns" "$T/$ns.tane" "$T/$ns.tinm" $((base + 10)) $((base + 11)) $((base + 12)) ||
			{ tail -1 "$T/out.$mode"; cat "$T/err.$mode"; }
	done
	expect_eq "$mode: every $NS1 record has nsid $NSID" "" "$(grep "^ns=$NS1 " "$T/out.$mode" | grep -v " nsid=$NSID ")"
	expect_eq "$mode: no $NS2 record has an nsid" "" "$(grep "^ns=$NS2 " "$T/out.$mode" | grep -v " nsid=0 ")"
	# Both families are there, and time-wait and listeners.
	for what in "state=1 local=\\[" "state=1 local=1" "state=6 " "state=10 "; do
		expect_ok "$mode: '$what' in $NS1" grep -q "ns=$NS1 .*$what" "$T/out.$mode"
	done
done
finish
