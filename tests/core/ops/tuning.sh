#!/bin/sh
# tuning.sh — core.cpus confines every thread of the daemon and core.nice sets every
# thread's nice value: the main thread, the source's lanes, the sinks' threads and the
# HTTP endpoint's, as /proc/PID/task/*/status (Cpus_allowed_list) and .../stat (nice)
# show once a cycle ran. A CPU the machine does not have is refused at start.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin source_synth marshaller_json sink_null
need_cmd curl:curl

# The CPU to confine to: the last one this test may use, so that the confinement shows
# (unless only one is allowed, then it cannot).
mine=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
CPU=$(/usr/bin/python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
[ "$mine" != "$CPU" ] || skip_part "only CPU $CPU is allowed here: confinement is not observable"

PROM=127.0.0.1:$(free_port)
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1s
prom_listen = $PROM
netns = host
cpus = $CPU
nice = 7
[source synth]
records = 100
lanes = 3
[marshaller json]
[sink null]
[sink null other]
EOC
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 1 || cat "$TMP/xtcpd.log"
# every thread: "TID cpus nice"
for t in /proc/$DPID/task/*; do
	printf '%s %s %s\n' "${t##*/}" "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")" \
		"$(sed 's/^.*) //' "$t/stat" | awk '{ print $17 }')"
done > "$TMP/threads"
cat "$TMP/threads"
# main + 3 lanes + 2 sinks + http
expect_eq "threads" 7 "$(wc -l < "$TMP/threads")"
expect_eq "threads confined to CPU $CPU" "" "$(awk -v c="$CPU" '$2 != c' "$TMP/threads")"
expect_eq "threads at nice 7" "" "$(awk '$3 != 7' "$TMP/threads")"
daemon_stop
expect_eq "exit status" 0 "$DRC"

# No such CPU (a valid list, but none of it here): refused at start, exit status 2.
sed -i 's/^cpus = .*/cpus = 1000/; s/^prom_listen = .*/prom_listen =/' "$TMP/x.conf"
out=$("$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once 2>&1)
expect_eq "cpus = 1000: refused" "2: xtcpd: error: [core] cpus = '1000': Invalid argument" "$?: $out"
finish
