#!/bin/sh
# thread_names.sh — every thread of a running daemon is named by its role, and
# xtcpd_thread_cpu_seconds_total has exactly one series per thread name, in seconds.
# A daemon with the netlink source (3 readers, replaying the fixture), two marshallers,
# a null, a file and a kafka sink (librdkafka's mock cluster): /proc/PID/task/*/comm
# must be exactly xtcpd (once: an unnamed thread would inherit it), http, nl-read/0..2,
# sink/<each instance>, dr/<kafka instance>, plus librdkafka's own rdk:* threads; the
# metric's label set must equal the set of names; the per-thread seconds must add up to
# at most the process's CPU and to most of it.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
for p in source_netlink marshaller_json marshaller_protobufList sink_null sink_file sink_kafka; do
	have_plugin $p || { echo "SKIP: $p not built"; exit $SKIP; }
done
[ -x "$MOCK" ] || { echo "SKIP: mockcluster not built"; exit $SKIP; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit $SKIP; }

mc_start
PROM=127.0.0.1:$(free_port)
mkdir "$TMP/replay" "$TMP/netns"
cp "$XTCPD_SRCDIR/tests/plugins/marshallers/replay.nlraw" "$TMP/replay/"
cat > "$TMP/x.conf" <<EOF
[core]
frequency = 1h
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
netlinkers = 3
replay_dir = $TMP/replay
[marshaller json]
[marshaller protobufList pb]
[sink null]
marshaller = json
[sink file out]
marshaller = json
path = $TMP/out.json
[sink kafka bus]
marshaller = pb
brokers = $BS
topic = xtcpd
EOF
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 1 || { cat "$TMP/xtcpd.log"; exit 1; }
# librdkafka starts its broker threads as it connects: wait until the set is stable.
names() { for t in /proc/$DPID/task/*; do cat "$t/comm"; done 2>/dev/null | LC_ALL=C sort; }
prev=
for i in $(seq 50); do
	cur=$(names | tr '\n' ' ')
	[ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 0.2
done
names > "$TMP/before"
scrape "$TMP/m"
names > "$TMP/after"
expect_eq "thread set stable around the scrape" "$(cat "$TMP/before")" "$(cat "$TMP/after")"

# Exactly the roles (librdkafka's own threads aside).
expect_eq "one thread named xtcpd (the main one; unnamed threads would inherit it)" 1 \
	"$(grep -c '^xtcpd$' "$TMP/before")"
expect_eq "our threads by role" \
	"dr/bus http nl-read/0 nl-read/1 nl-read/2 sink/bus sink/null sink/out xtcpd" \
	"$(grep -v '^rdk:' "$TMP/before" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "librdkafka's threads are there and named by it" yes \
	"$(grep -q '^rdk:main$' "$TMP/before" && echo yes)"

# One series per distinct name, nothing else.
sed -n 's/^xtcpd_thread_cpu_seconds_total{thread="\([^"]*\)"} .*/\1/p' "$TMP/m" | LC_ALL=C sort > "$TMP/labels"
expect_eq "metric labels = thread names" "$(LC_ALL=C sort -u "$TMP/before" | tr '\n' ' ')" \
	"$(tr '\n' ' ' < "$TMP/labels")"
expect_eq "TYPE counter" 1 "$(grep -c '^# TYPE xtcpd_thread_cpu_seconds_total counter$' "$TMP/m")"

# Seconds: the threads' sum is at most the process's CPU (which also counts threads
# that ended) and most of it (a unit slip of 1000 either way fails).
sum=$(awk '/^xtcpd_thread_cpu_seconds_total\{/ { s += $2 } END { printf "%.6f", s }' "$TMP/m")
proc=$(awk '$1 == "xtcpd_process_cpu_seconds_total" { print $2 }' "$TMP/m")
expect_eq "sum of threads <= process CPU (+10 ms)" yes \
	"$(awk -v s="$sum" -v p="$proc" 'BEGIN { if (s <= p + 0.01) print "yes"; else print s " > " p }')"
expect_eq "sum of threads >= half the process CPU" yes \
	"$(awk -v s="$sum" -v p="$proc" 'BEGIN { if (s >= p / 2) print "yes"; else print s " < " p / 2 }')"
expect_eq "the main thread ran (parsed the replay)" yes \
	"$(awk '$1 == "xtcpd_thread_cpu_seconds_total{thread=\"xtcpd\"}" { if ($2 > 0) print "yes" }' "$TMP/m")"
daemon_stop
expect_eq "exit status" 0 "$DRC"
finish
