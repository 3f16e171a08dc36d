#!/bin/sh
# equiv — the io_uring source against the netlink source on the same two namespaces made
# here (IPv4/IPv6 listeners, idle connections, connections moving data, a time-wait
# socket: tests/plugins/sources/netlink/sockets.py): every socket once in each, equal
# identity fields (addresses, ports, state, inode, cookie), and for idle sockets every
# field equal but the clock-derived ones (bpf_iter/equiv.py); in both dump modes. Then
# the daemon with the shipped conf.d example enabled, against ss (compare_ss.py). Root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets_ns.sh"
need_root
need_cmd ss:iproute2 ip:iproute2
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$TMP
sockets_ns xt-ureq || { finish; exit; }
ms() { echo $(($(date +%s%N) / 1000000)); }
for mode in legacy per_family; do
	t0=$(ms)
	expect_ok "$mode: nlpoll" "$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -F -o deserializers=all \
		-o dump=$mode >"$T/nl" 2>"$T/nl.err" || cat "$T/nl.err"
	expect_ok "$mode: nupoll" "$B/tests/plugins/sources/io_uring/nupoll" -d "$T/netns" -F -o deserializers=all \
		-o dump=$mode >"$T/ur" 2>"$T/ur.err" || cat "$T/ur.err"
	# the clock-derived fields (last_data_*, expires) may differ by the time between the
	# two reads: at most the time both runs took (seconds on a loaded machine)
	expect_ok "$mode: equiv.py: the same sockets, equal fields" env EQUIV_OTHER=io_uring \
		EQUIV_CLOCK_MS=$(($(ms) - t0 + 100)) /usr/bin/python3 \
		"$S/tests/plugins/sources/bpf_iter/equiv.py" "$T/nl" "$T/ur" "$NS1:5000" "$NS2:7000"
	# once each: no cookie twice in a namespace
	expect_eq "$mode: no socket twice from io_uring" "" \
		"$(grep '^ns=' "$T/ur" | sed 's/^\(ns=[^ ]*\) cookie=\([0-9a-f]*\) .*/\1 \2/' | sort | uniq -d)"
	# (in the namespaces made here: the host's sockets come and go with other tests)
	expect_eq "$mode: as many sockets from each" "$(grep -c "^ns=\($NS1\|$NS2\) " "$T/nl")" \
		"$(grep -c "^ns=\($NS1\|$NS2\) " "$T/ur")"
	for what in "inet_diag_msg_state=6 " "inet_diag_msg_family=10 " "inet_diag_msg_family=2 "; do
		expect_ok "$mode: io_uring in $NS1 shows $what" grep -q "^ns=$NS1 .*$what" "$T/ur"
	done
done
# The daemon with the shipped example enabled as its comment says.
if [ -x "${XTCPD:-}" ] && [ -e "${XTCPD_PLUGIN_DIR:-/nonexistent}/marshaller_json.so" ]; then
	mkdir -p "$T/conf.d"
	cp "$S/conf.d/10-source-io_uring.conf.example" "$T/conf.d/10-source-io_uring.conf"
	: >"$T/xtcpd.conf"
	for ns in "$NS1" "$NS2"; do
		ip netns exec "$ns" ss -tane > "$T/$ns.tane" 2>/dev/null
		ip netns exec "$ns" ss -tinmea > "$T/$ns.tinm" 2>/dev/null
	done
	"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
		-o core.netns_dirs="$T/netns" -o core.netns_proc_scan=false -o core.prom_listen= \
		-o source.io_uring.deserializers=all >"$T/json" 2>"$T/err"
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
