#!/bin/sh
# equiv — the bpf_iter source against the netlink source on the same two namespaces made
# here (IPv4/IPv6 listeners, idle connections, connections moving data, a time-wait
# socket: tests/plugins/sources/netlink/sockets.py): the same sockets, equal identity fields, and for idle
# sockets every field equal but the clock-derived ones (equiv.py). Then the daemon (which
# drops its capabilities to SYS_ADMIN, SYS_PTRACE, NET_ADMIN before loading the program)
# with bpf_iter -> json is checked against ss like the netlink source (compare_ss.py).
# Root only (77 otherwise).
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ss >/dev/null && command -v ip >/dev/null || { echo "SKIP: needs ss and ip"; exit 77; }
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$(mktemp -d)
NS1=xt-bpfeq-$$-a
NS2=xt-bpfeq-$$-b
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$NS1" "$NS2"; do umount "$T/netns/$ns" 2>/dev/null; ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
set -e
mkdir "$T/netns"
for ns in "$NS1" "$NS2"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	touch "$T/netns/$ns"
	mount --bind "/run/netns/$ns" "$T/netns/$ns"
done
ip netns exec "$NS1" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/r1" & PIDS="$PIDS $!"
ip netns exec "$NS2" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 7000 "$T/r2" & PIDS="$PIDS $!"
for i in $(seq 100); do [ -e "$T/r1" ] && [ -e "$T/r2" ] && break; sleep 0.1; done
[ -e "$T/r1" ] && [ -e "$T/r2" ]
set +e
rc=0
"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -F -o deserializers=all >"$T/nl" 2>"$T/nl.err" || { rc=1; cat "$T/nl.err"; }
"$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -F -o deserializers=all >"$T/bpf" 2>"$T/bpf.err" || { rc=1; cat "$T/bpf.err"; }
/usr/bin/python3 "$S/tests/plugins/sources/bpf_iter/equiv.py" "$T/nl" "$T/bpf" "$NS1:5000" "$NS2:7000" || rc=1
# Time-wait (state 6) and both families are there.
for what in "inet_diag_msg_state=6 " "inet_diag_msg_family=10 " "inet_diag_msg_family=2 "; do
	grep "^ns=$NS1 " "$T/bpf" | grep -q "$what" || { echo "FAIL: no '$what' from bpf_iter in $NS1"; rc=1; }
done
# The daemon, as it runs: capabilities dropped, then the program loaded.
if [ -x "${XTCPD:-}" ] && [ -e "${XTCPD_PLUGIN_DIR:-/nonexistent}/marshaller_json.so" ]; then
	# the shipped example, enabled as its comment says
	mkdir -p "$T/conf.d"
	cp "$S/conf.d/10-source-bpf_iter.conf.example" "$T/conf.d/10-source-bpf_iter.conf"
	: >"$T/xtcpd.conf"
	for ns in "$NS1" "$NS2"; do
		ip netns exec "$ns" ss -tane > "$T/$ns.tane" 2>/dev/null
		ip netns exec "$ns" ss -tinmea > "$T/$ns.tinm" 2>/dev/null
	done
	"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.prom_listen= \
		-o source.bpf_iter.deserializers=all \
		>"$T/json" 2>"$T/err" || { rc=1; cat "$T/err"; }
	grep -q unavailable "$T/err" && { echo "FAIL: the daemon fell back"; cat "$T/err"; rc=1; }
	/usr/bin/python3 "$S/tests/plugins/sources/netlink/json2kv.py" <"$T/json" >"$T/out.daemon"
	for ns in "$NS1" "$NS2"; do
		case $ns in *-a) base=5000 ;; *) base=7000 ;; esac
		/usr/bin/python3 "$S/tests/plugins/sources/netlink/compare_ss.py" "$T/out.daemon" "$ns" "$T/$ns.tane" "$T/$ns.tinm" \
			$((base + 10)) $((base + 11)) $((base + 12)) || { rc=1; cat "$T/err"; }
	done
	echo "daemon: $(grep -c . "$T/out.daemon") records"
else
	echo "FAIL: the daemon or the json marshaller is not built"; rc=1
fi
exit $rc
