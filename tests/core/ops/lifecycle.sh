#!/bin/sh
# Signals: SIGHUP reloads a valid configuration (new values from the next cycle), keeps
# the running one on an invalid configuration (and says why), and SIGTERM stops after
# flushing: every cycle written is complete, exit status 0.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_file
PY=/usr/bin/python3
conf() {
	cat > "$TMP/x.conf" <<EOC
[core]
frequency = $2
prom_listen =
[source synth]
records = $1
lanes = 2
[marshaller json]
flush_rows = 100000
[sink file out]
path = $TMP/out.json
EOC
}
# cycles: the number of records of each cycle, in order (records of a cycle share timestamp_ns)
cycles() {
	$PY -c '
import json, sys
seen = []
counts = {}
for line in open(sys.argv[1]):
    t = json.loads(line)["timestamp_ns"]
    if t not in counts: seen.append(t); counts[t] = 0
    counts[t] += 1
print(" ".join(str(counts[t]) for t in seen))' "$TMP/out.json"
}
# wait_lines N: until the output has N lines (the bound is a deadlock guard)
has_lines() { [ "$( (wc -l < "$TMP/out.json") 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_lines() { wait_for 600 has_lines "$1"; }

conf 500 200ms
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
on_exit "kill $PID 2>/dev/null"
wait_lines 1000
conf 300 200ms
kill -HUP $PID
wait_for 600 grep -q "configuration reloaded" "$TMP/log"
n=$(wc -l < "$TMP/out.json")
wait_lines $((n + 600))
sed -i 's/^frequency = 200ms/frequency = fast/' "$TMP/x.conf"
kill -HUP $PID
wait_for 600 grep -q "refused" "$TMP/log"
n=$(wc -l < "$TMP/out.json")
wait_lines $((n + 600))
stop $PID
expect_eq "exit status after SIGTERM" 0 "$STOP_RC"

expect_eq "reload logged: the source is new, the marshaller and sink are kept" \
	"xtcpd: info: SIGHUP: configuration reloaded: 2 instances kept, 1 new, 1 retired" "$(grep reloaded "$TMP/log")"
expect_eq "bad reload refused with the reason" \
	"xtcpd: error: SIGHUP: new configuration refused, keeping the running one: $TMP/x.conf:2: [core] frequency: 'fast' is not a duration (use e.g. 250ms, 10s, 1m30s, 2h; a bare number is seconds; allowed: 100ms..86400000ms)" \
	"$(grep refused "$TMP/log")"
expect_eq "stop logged" "xtcpd: info: Terminated: stopping" "$(grep stopping "$TMP/log")"
# Every cycle complete, 500 each until the reload, 300 each after it (also after the
# refused reload, which kept the running configuration).
verdict=$(cycles | $PY -c '
import sys, re
c = sys.stdin.read().split()
s = " ".join(c)
print(bool(re.fullmatch(r"(500 ){2,}(300 ?){4,}", s + " ")), "|", s[:40], "...")')
expect_eq "cycles: 500s then 300s, none partial" "True" "${verdict%% |*}"
finish
