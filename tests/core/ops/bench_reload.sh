#!/bin/sh
# bench_reload — resident memory across a storm of 200 SIGHUP reloads (make bench-reload):
# "same" reloads an unchanged configuration (every instance kept), "changed" alternates
# the marshaller's flush_rows and the source's records (marshaller, its buffer pool and
# the source rebuilt every time). Prints RSS after warm-up, after the storm and after 10
# more cycles, in MB. Numbers only, never a pass/fail. RELOADS=N overrides 200.
: "${XTCPD:?run through make bench-reload}"
N=${RELOADS:-200}
TMP=$(mktemp -d /tmp/xtcpd-bench.XXXXXX)
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
conf() {   # conf FLUSH_ROWS RECORDS
	cat > "$TMP/x.conf" <<EOC
[core]
frequency = 200ms
prom_listen =
netns = host
[source synth]
records = $2
lanes = 4
[marshaller json]
flush_rows = $1
[sink file out]
path = /dev/null
EOC
}
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$PID/status; }
reloaded() { grep -c "configuration reloaded" "$TMP/log"; }
for mode in same changed; do
	conf 1000 20000
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
	PID=$!
	sleep 3
	before=$(rss)
	for i in $(seq "$N"); do
		[ $mode = changed ] && conf $((1000 + i % 2)) $((20000 + i % 2))
		kill -HUP $PID
		j=0; while [ "$(reloaded)" -lt "$i" ] && [ $j -lt 400 ]; do sleep 0.01; j=$((j + 1)); done
	done
	after=$(rss)
	sleep 2
	settled=$(rss)
	echo "reload $mode: $N reloads ($(reloaded) done): RSS $before MB after warm-up, $after MB after the storm, $settled MB 10 cycles later"
	kill $PID; wait $PID
done
