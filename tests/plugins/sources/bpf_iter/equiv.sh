#!/bin/sh
# equiv — the bpf_iter source against the netlink source on the same two namespaces made
# here (IPv4/IPv6 listeners, idle connections, connections moving data, a time-wait
# socket: tests/plugins/sources/netlink/sockets.py): the same sockets, equal identity fields, and for idle
# sockets every field equal but the clock-derived ones (equiv.py), with every attribute
# group and with fewer (the program reads only those asked for). Then the daemon (which
# drops its capabilities to SYS_ADMIN, SYS_PTRACE, NET_ADMIN before loading the program)
# with bpf_iter -> json is checked against ss like the netlink source (compare_ss.py).
# Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets_ns.sh"
need_root
need_cmd ss:iproute2 ip:iproute2
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$TMP
sockets_ns xt-bpfeq || { finish; exit; }
t0=$(($(date +%s%N) / 1000000))
expect_ok "nlpoll" "$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -F -o deserializers=all >"$T/nl" 2>"$T/nl.err" || cat "$T/nl.err"
expect_ok "bipoll" "$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -F -o deserializers=all >"$T/bpf" 2>"$T/bpf.err" || cat "$T/bpf.err"
# clock-derived fields may differ by the time between the reads: both runs' time at most
expect_ok "equiv.py: the same sockets, equal fields" env EQUIV_CLOCK_MS=$(($(date +%s%N) / 1000000 - t0 + 100)) /usr/bin/python3 "$S/tests/plugins/sources/bpf_iter/equiv.py" "$T/nl" "$T/bpf" "$NS1:5000" "$NS2:7000"
# The program reads only the groups asked for: with fewer, the same presence bits and
# values as the netlink source's (BBR without info or cong reads mss and the name itself).
for deser in default bbr,tos,mark; do
	t0=$(($(date +%s%N) / 1000000))
	"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -F -o deserializers=$deser >"$T/nl.$deser" 2>"$T/nl.err" || cat "$T/nl.err"
	"$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -F -o deserializers=$deser >"$T/bpf.$deser" 2>"$T/bpf.err" || cat "$T/bpf.err"
	expect_ok "equiv.py, deserializers = $deser" env EQUIV_CLOCK_MS=$(($(date +%s%N) / 1000000 - t0 + 100)) /usr/bin/python3 "$S/tests/plugins/sources/bpf_iter/equiv.py" "$T/nl.$deser" "$T/bpf.$deser" "$NS1:5000" "$NS2:7000"
done
# Time-wait (state 6) and both families are there.
for what in "inet_diag_msg_state=6 " "inet_diag_msg_family=10 " "inet_diag_msg_family=2 "; do
	expect_ok "bpf_iter in $NS1 shows $what" grep -q "^ns=$NS1 .*$what" "$T/bpf"
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
		>"$T/json" 2>"$T/err"
	expect_eq "the daemon: exit status" 0 "$?" || cat "$T/err"
	expect_eq "the daemon did not fall back" 0 "$(grep -c unavailable "$T/err")"
	/usr/bin/python3 "$S/tests/plugins/sources/netlink/json2kv.py" <"$T/json" >"$T/out.daemon"
	for ns in "$NS1" "$NS2"; do
		case $ns in *-a) base=5000 ;; *) base=7000 ;; esac
		expect_ok "the daemon against ss in $ns" /usr/bin/python3 "$S/tests/plugins/sources/netlink/compare_ss.py" \
			"$T/out.daemon" "$ns" "$T/$ns.tane" "$T/$ns.tinm" $((base + 10)) $((base + 11)) $((base + 12))
	done
	echo "daemon: $(grep -c . "$T/out.daemon") records"
else
	fail "the daemon or the json marshaller is not built"
fi
finish
