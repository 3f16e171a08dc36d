#!/bin/sh
# Signals: SIGHUP reloads a valid configuration (new values from the next cycle), keeps
# the running one on an invalid configuration (and says why), and SIGTERM stops after
# flushing: every cycle written is complete, exit status 0.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
have_plugin marshaller_json || { echo "SKIP: json not built"; exit $SKIP; }
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
wait_lines() { i=0; while [ "$( (wc -l < "$TMP/out.json") 2>/dev/null || echo 0)" -lt "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; }

conf 500 200ms
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
on_exit "kill $PID 2>/dev/null"
wait_lines 1000
conf 300 200ms
kill -HUP $PID
i=0; while ! grep -q "configuration reloaded" "$TMP/log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
n=$(wc -l < "$TMP/out.json")
wait_lines $((n + 600))
sed -i 's/^frequency = 200ms/frequency = fast/' "$TMP/x.conf"
kill -HUP $PID
i=0; while ! grep -q "refused" "$TMP/log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
n=$(wc -l < "$TMP/out.json")
wait_lines $((n + 600))
kill -TERM $PID
wait $PID
expect_eq "exit status after SIGTERM" 0 $?

expect_eq "reload logged" "xtcpd: info: SIGHUP: configuration reloaded" "$(grep reloaded "$TMP/log")"
expect_eq "bad reload refused with the reason" \
	"xtcpd: error: SIGHUP: new configuration refused, keeping the running one: $TMP/x.conf:2: [core] frequency: 'fast' is not a duration (use e.g. 250ms, 10s, 2m, 1h; allowed: 100ms..86400000ms)" \
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
