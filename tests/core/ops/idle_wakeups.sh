#!/bin/sh
# idle_wakeups.sh — between polls the daemon sleeps: with frequency = 10s, a namespace of
# a few sockets, the netlink source (4 readers), a file sink and the metrics endpoint on,
# the whole process (every thread, summed from /proc/PID/task/*/status: voluntary +
# nonvoluntary context switches) wakes at most once a second in the quiet part of a
# period, and in fact not at all: every thread blocks on the event that ends its wait.
# (Before: each reader woke once a second on an epoll timeout, 32 in the same window.)
# Then the same with a kafka sink added: xtcpd's own threads stay under the same bound.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_plugin source_netlink marshaller_json sink_file
need_cmd curl:curl

NS=xtcpd-idle-$$
private_netns "$NS" || { echo "cannot create namespace $NS"; exit 1; }
ip netns exec "$NS" $PY "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 6000 "$TMP/ready" &
kill_on_exit $!
i=0
while [ ! -e "$TMP/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$TMP/ready" ] || { echo "sockets.py did not start"; exit 1; }

PROM=127.0.0.1:$(free_port)
# conf [EXTRA]: the daemon's configuration, EXTRA appended.
conf() {
	cat > "$TMP/x.conf" <<EOF
[core]
frequency = 10s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
netlinkers = 4
[marshaller json]
[sink file out]
marshaller = json
path = $TMP/out.json
$1
EOF
}

# Context switches of every thread: "TID COUNT" lines.
switches() {
	for t in /proc/$DPID/task/*; do
		awk -v t="${t##*/}" '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print t, s }' \
			"$t/status" 2>/dev/null
	done | sort
}
size() { stat -c %s "$TMP/out.json"; }

# A window of WIN seconds inside one period: it opens 0.5 s after a cycle's records
# reach the file (the cycle and its sinks are done) and must close before the next cycle
# writes. The file is watched from here, without touching the daemon; a window a loaded
# machine let a cycle into is taken again. Leaves "NAME COUNT" per thread in $TMP/per.
WIN=8
quiet_window() {
	ok=no
	for attempt in 1 2 3; do
		scrape "$TMP/m0"
		c0=$(metric "$TMP/m0" xtcpd_poll_cycles_total)
		s0=$(size)
		i=0
		while [ "$(size)" = "$s0" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
		sleep 0.5
		s1=$(size)
		switches > "$TMP/a"
		sleep $WIN
		switches > "$TMP/b"
		s2=$(size)
		scrape "$TMP/m1"
		c1=$(metric "$TMP/m1" xtcpd_poll_cycles_total)
		# Exactly one cycle began between the scrapes (the one that opened the window).
		if [ "$s1" = "$s2" ] && [ $((c1 - c0)) -eq 1 ]; then ok=yes; break; fi
		echo "attempt $attempt: a cycle ran inside the window (cycles $c0 -> $c1), again"
	done
	expect_eq "a quiet window between two cycles was measured" yes "$ok"
	# Threads present at both ends (none comes or goes while idle).
	expect_eq "same threads at both ends of the window" "$(cut -d' ' -f1 "$TMP/a")" \
		"$(cut -d' ' -f1 "$TMP/b")"
	join "$TMP/a" "$TMP/b" | while read -r t a b; do
		echo "$(cat /proc/$DPID/task/$t/comm 2>/dev/null) $((b - a))"
	done > "$TMP/per"
	sed 's/^/  /' "$TMP/per"
}

conf ""
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 1 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_window
total=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/per")
echo "context switches of the whole process in $WIN s between polls: $total"
expect_eq "at most one wake-up per second between polls ($total in $WIN s)" yes \
	"$([ "$total" -le $WIN ] && echo yes)"
expect_eq "threads: main, http, 4 readers, the sink (the advice's scan thread has ended)" 7 "$(wc -l < "$TMP/per")"
daemon_stop
expect_eq "exit status" 0 "$DRC"

# With a kafka sink too (librdkafka's mock cluster): the sink's delivery-report thread
# sleeps on librdkafka's queue eventfd (it polled every 100 ms: ~80 in the window).
# librdkafka's own threads (rdk:*) keep their one-second timers: shown, not bounded.
if have_plugin sink_kafka && have_plugin marshaller_protobufList && [ -x "$MOCK" ]; then
	mc_start
	conf "[marshaller protobufList pb]
[sink kafka bus]
marshaller = pb
brokers = $BS
topic = xtcpd"
	daemon_start "$TMP/x.conf"
	wait_metric xtcpd_poll_cycles_total 1 || { cat "$TMP/xtcpd.log"; exit 1; }
	quiet_window
	ours=$(awk '$1 !~ /^rdk:/ { s += $2 } END { print s + 0 }' "$TMP/per")
	echo "context switches of xtcpd's own threads in $WIN s between polls: $ours"
	expect_eq "our threads (dr/bus, sink/bus included) at most once a second ($ours in $WIN s)" \
		yes "$([ "$ours" -le $WIN ] && echo yes)"
	expect_eq "the delivery-report thread is there" 1 "$(grep -c '^dr/bus ' "$TMP/per")"
	daemon_stop
	expect_eq "exit status (kafka)" 0 "$DRC"
else
	echo "kafka sink or mock cluster not built: the kafka phase did not run"
	in_ci && fail "kafka phase not run under CI"
fi
finish
