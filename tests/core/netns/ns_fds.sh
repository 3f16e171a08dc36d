#!/bin/sh
# ns_fds — out of file descriptors is never silent. Started with an open-files soft limit
# of 64 under a hard one of 192, the daemon raises the soft limit to 192, says how many
# namespaces that has room for (and serves it as xtcpd_namespaces_capacity), polls that
# many of the 41 there are (40 of this test's and the host), and counts and logs every
# namespace it leaves out, keeping file descriptors for its endpoint (which answers).
# With room for all, all are polled and nothing is counted. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_plugin source_netlink marshaller_json sink_null
need_cmd prlimit:util-linux
P=xt-fds-$$
for i in $(seq 40); do private_netns "$P-$i" || { fail "namespace $i"; finish; exit 1; }; done
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1s
prom_listen = 127.0.0.1:$PORT
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
[marshaller json]
[sink null]
EOC
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m"; }
# run SOFT:HARD: the daemon under that limit until 3 cycles ran; scrape in $TMP/m
run() {
	prlimit --nofile="$1" "$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
	PID=$!
	i=0
	while [ $i -lt 200 ]; do
		curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m" 2>/dev/null
		[ "$(m xtcpd_poll_cycles_total)" -ge 3 ] 2>/dev/null && break
		sleep 0.1; i=$((i + 1))
	done
	kill $PID; wait $PID
}

run 64:192
expect_eq "the soft limit raised to the hard one" \
	"xtcpd: info: open files: soft limit raised from 64 to 192 (the hard limit)" "$(grep raised "$TMP/log")"
cap=$(sed -n 's/.*4 per namespace: room for \([0-9]*\) namespaces.*/\1/p' "$TMP/log")
expect_eq "the budget at start-up: 192 - 56 kept (32 + 192/8 for the endpoint) over 4 fds each" \
	"xtcpd: info: open files: limit 192, 56 kept for the endpoint and sinks, 4 per namespace: room for $cap namespaces ($cap now)" \
	"$(grep 'info: open files: limit' "$TMP/log")"
[ "${cap:-0}" -gt 1 ] && [ "$cap" -lt 41 ] || fail "capacity $cap: expected between 1 and 41"
expect_eq "the budget as a metric" "$cap" "$(m xtcpd_namespaces_capacity)"
expect_eq "as many namespaces polled as there is room for" "$cap" "$(m xtcpd_namespaces_known)"
failed=$(m xtcpd_namespaces_open_failed_total)
[ "${failed:-0}" -ge $((41 - cap)) ] || fail "namespaces left out: $failed counted, $((41 - cap)) at least"
expect_eq "and logged (rate-limited)" "cannot open: Too many open files (open files limit 192, 4 per namespace: room for $cap; raise LimitNOFILE)" \
	"$(sed -n 's/.*: \(cannot open: .*\)/\1/p' "$TMP/log" | sort -u)"

run 4096:4096
expect_eq "room for all: the limit as it was" "" "$(grep raised "$TMP/log")"
expect_eq "room for all: all 41 polled" 41 "$(m xtcpd_namespaces_known)"
expect_eq "room for all: nothing left out" 0 "$(m xtcpd_namespaces_open_failed_total)"
finish
