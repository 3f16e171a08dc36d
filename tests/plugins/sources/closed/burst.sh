#!/bin/sh
# burst — 50,000 connections (100,000 sockets and the listener) closed as fast as one
# process can in a namespace this test makes: every destroyed socket is either received
# or counted lost, exactly (the namespace's totals, logged when it goes, and the
# instance's metrics). Then a loss made certain: 5,000 more in a second namespace while
# the daemon is stopped (SIGSTOP), so that its small buffer overflows: received + lost is
# exact again, with lost > 0 reported as ENOBUFS. BURST_N overrides 50000. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_cmd ip:iproute2 curl:curl
need_plugin source_closed marshaller_csv sink_null
B=${XTCPD_BUILDDIR:-.}
NS=xt-cburst-$$
NS2=xt-cburst2-$$
N=${BURST_N:-50000}
N2=5000
private_netns "$NS" || exit 1
private_netns "$NS2" || exit 1
PORT=$(free_port)
# A small buffer (the kernel doubles it) so that the burst may overflow it: the test is
# that what is lost is counted, not that nothing is.
cat > "$TMP/x.conf" << EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$PORT
netns_dirs = $TMP/netns
netns_proc_scan = false
[source closed]
socket_buffer = ${BURST_BUFFER:-256KiB}
[marshaller csv]
columns = inetDiagMsgSocketSourcePort
[sink null]
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log" &
DPID=$!
kill_on_exit $DPID
scrape() { curl -sf "http://127.0.0.1:$PORT/metrics" > "$TMP/m" 2>/dev/null; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m"; }
joined() { scrape && [ "$(val 'xtcpd_closed_namespaces{plugin="source/closed"}')" = 3 ]; }
wait_for 600 joined || { cat "$TMP/xtcpd.log"; fail "the daemon did not join 3 namespaces"; finish; exit 1; }
# The kernel broadcasts destroyed sockets from a workqueue, which lags under load: a
# namespace released before it caught up takes its last closes with it. So the test
# waits until the instance has seen at least WANT more (received + dropped) than BASE
# and the count stands still, before the namespace goes.
seen() { scrape && echo $(( $(val 'xtcpd_closed_received_total{plugin="source/closed"}') + \
	$(val 'xtcpd_closed_dropped_total{plugin="source/closed",reason="enobufs"}') )); }
reached() { [ "$(seen)" -ge $(($1 + $2)) ]; }
still() { a=$(seen); sleep 0.5; [ "$(seen)" = "$a" ]; }
settle() {   # settle BASE WANT
	wait_for 1200 reached "$1" "$2" || echo "the kernel did not report $2 closes" >&2
	wait_for 100 still || echo "the count does not settle" >&2
}
# totals NS: "received lost" from the line the source logs when the namespace goes
totals() {
	umount "$TMP/netns/$1" && rm "$TMP/netns/$1" && ip netns del "$1"
	wait_for 600 grep -q "namespace $1 left:" "$TMP/xtcpd.log" || fail "no totals for $1 in the log"
	grep "namespace $1 left:" "$TMP/xtcpd.log" >&2
	sed -n "s/.*namespace $1 left: \([0-9]*\) closed sockets received, \([0-9]*\) lost.*/\1 \2/p" "$TMP/xtcpd.log"
}

base=$(seen)
t0=$(date +%s%N)
ip netns exec "$NS" "$B/tests/plugins/sources/closed/closer" "$N" 4 0 0 rst < /dev/null > "$TMP/closer"
expect_eq "closer: connections made" "done $N" "$(tail -1 "$TMP/closer")"
t1=$(date +%s%N)
echo "burst: $N connections closed in $(( (t1 - t0) / 1000000 )) ms"
settle "$base" $((2 * N + 1))
got=$(totals "$NS")
rcv=${got% *} lost=${got#* }
expect_eq "received + lost = sockets destroyed (2 x $N + the listener)" $((2 * N + 1)) $((rcv + lost))

# The loss made certain: nothing reads while the daemon is stopped.
base=$(seen)
kill -STOP $DPID
echo "daemon state: $(ps -o stat= -p $DPID)"
ip netns exec "$NS2" "$B/tests/plugins/sources/closed/closer" "$N2" 6 0 0 rst < /dev/null > "$TMP/closer2"
# The kernel broadcasts late under load: keep the daemon stopped until its socket in
# NS2 (sock_diag, groups joined) shows drops in /proc/net/netlink.
nsdrops() { ip netns exec "$NS2" awk '$2 == 4 && $4 != "00000000" { print $9 }' /proc/net/netlink; }
wait_for 600 eval '[ "$(nsdrops)" -gt 0 ]' || echo "no drop on the stopped daemon's socket" >&2
kill -CONT $DPID
expect_eq "closer (stopped daemon): connections made" "done $N2" "$(tail -1 "$TMP/closer2")"
settle "$base" $((2 * N2 + 1))
got=$(totals "$NS2")
rcv2=${got% *} lost2=${got#* }
expect_eq "stopped daemon: received + lost = sockets destroyed (2 x $N2 + 1)" $((2 * N2 + 1)) $((rcv2 + lost2))
expect_ok "stopped daemon: some were lost ($lost2)" [ "${lost2:-0}" -gt 0 ]
scrape
drops=$(val 'xtcpd_closed_dropped_total{plugin="source/closed",reason="enobufs"}')
over=$(val 'xtcpd_closed_overflows_total{plugin="source/closed"}')
echo "metrics: received $(val 'xtcpd_closed_received_total{plugin="source/closed"}'), dropped $drops, overflows $over"
expect_ok "metrics: the instance's drops include both namespaces' ($lost + $lost2)" [ "${drops:-0}" -ge $((lost + lost2)) ]
expect_ok "metrics: the loss was reported as ENOBUFS ($over)" [ "${over:-0}" -ge 1 ]
stop $DPID
expect_eq "daemon exit status" 0 "$STOP_RC"
finish
