#!/bin/sh
# ns_compare — in two namespaces made here, IPv4 and IPv6 listeners, idle and busy
# connections and a TIME-WAIT socket; every socket `ss -tane` lists must appear exactly
# once in the netlink source's output with equal state, addresses, ports, inode and
# cookie, and idle sockets' tcp_info, cong and skmem must equal `ss -tinme`.
# Needs root (exit 77 otherwise).
[ "$(id -u)" = 0 ] || exit 77
command -v ss >/dev/null && command -v ip >/dev/null || exit 77
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$(mktemp -d)
NS1=xt-cmp-$$-a
NS2=xt-cmp-$$-b
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS1" 2>/dev/null
	ip netns del "$NS2" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
set -e
for ns in "$NS1" "$NS2"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
# An nsid for the first namespace (as a veth peer or `ip netns set` gives one): records
# carry it; the second has none (0).
NSID=$(( ($$ % 1000) + 1000 ))
ip netns set "$NS1" "$NSID"
# Only the namespaces of this test are scanned: a private bind-mount folder.
mkdir "$T/netns"
for ns in "$NS1" "$NS2"; do
	touch "$T/netns/$ns"
	mount --bind "/run/netns/$ns" "$T/netns/$ns"
done
umount_all() { for ns in "$NS1" "$NS2"; do umount "$T/netns/$ns" 2>/dev/null; done; }
trap 'umount_all; cleanup' EXIT
ip netns exec "$NS1" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/r1" & PIDS="$PIDS $!"
ip netns exec "$NS2" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 7000 "$T/r2" & PIDS="$PIDS $!"
for i in $(seq 100); do [ -e "$T/r1" ] && [ -e "$T/r2" ] && break; sleep 0.1; done
[ -e "$T/r1" ] && [ -e "$T/r2" ]
set +e
rc=0
# The daemon too (netlink -> json -> file), when it and the json marshaller are built.
modes="legacy per_family"
if [ -x "${XTCPD:-}" ] && [ -e "${XTCPD_PLUGIN_DIR:-/nonexistent}/marshaller_json.so" ]; then
	modes="$modes daemon"
fi
for mode in $modes; do
	echo "== $mode"
	for ns in "$NS1" "$NS2"; do
		ip netns exec "$ns" ss -tane > "$T/$ns.tane" 2>/dev/null
		ip netns exec "$ns" ss -tinmea > "$T/$ns.tinm" 2>/dev/null
	done
	if [ $mode = daemon ]; then
		mkdir -p "$T/conf.d"
		printf '[source netlink]\ndeserializers = all\n' >"$T/xtcpd.conf"
		"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
			-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false \
			>"$T/json" 2>"$T/err.$mode" || { rc=1; cat "$T/err.$mode"; }
		/usr/bin/python3 "$S/tests/plugins/sources/netlink/json2kv.py" <"$T/json" >"$T/out.$mode"
	else
		"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -o deserializers=all -o dump=$mode > "$T/out.$mode" 2>"$T/err.$mode" || rc=1
	fi
	for ns in "$NS1" "$NS2"; do
		case $ns in *-a) base=5000 ;; *) base=7000 ;; esac
		/usr/bin/python3 "$S/tests/plugins/sources/netlink/compare_ss.py" "$T/out.$mode" "$ns" "$T/$ns.tane" "$T/$ns.tinm" \
			$((base + 10)) $((base + 11)) $((base + 12)) || { rc=1; tail -1 "$T/out.$mode"; cat "$T/err.$mode"; }
	done
	grep "^ns=$NS1 " "$T/out.$mode" | grep -vq " nsid=$NSID " && { echo "FAIL $mode: $NS1 records without nsid $NSID"; rc=1; }
	grep "^ns=$NS2 " "$T/out.$mode" | grep -vq " nsid=0 " && { echo "FAIL $mode: $NS2 records with an nsid"; rc=1; }
	# Both families are there, and time-wait and listeners.
	for what in "state=1 local=\\[" "state=1 local=1" "state=6 " "state=10 "; do
		grep -q "ns=$NS1 .*$what" "$T/out.$mode" || { echo "FAIL $mode: no '$what' in $NS1"; rc=1; }
	done
done
exit $rc
