#!/bin/sh
# Pipeline accounting over several cycles, scraped from /metrics between cycles (the
# endpoint itself, readiness and 404/405 are tests/core/ops/metrics_http.sh and readyz.sh):
# emitted = marshalled = delivered by each of two sinks, batches as flush_rows implies,
# no drops, promtool-clean; threads are exactly main + readers + sinks + http (+ the
# Docker client's with enrich_docker); a configuration needing more threads than
# max_threads is refused with the count.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin source_synth marshaller_json sink_null sink_file
need_cmd promtool:prometheus curl:curl
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1s
prom_listen = 127.0.0.1:$PORT
[source synth]
records = 700
lanes = 3
[marshaller json]
flush_rows = 100
[sink null]
[sink file out]
path = $TMP/out.json
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
kill_on_exit $PID
# An instant between cycles, with everything delivered to the file (the daemon goes on:
# the file is compared with the records of the cycles the scrape covers), after two
# cycles; checked by promtool.
PROM=127.0.0.1:$PORT
wait_metric xtcpd_poll_cycles_total 2 || cat "$TMP/log"
quiet_snapshot "$TMP/m" out 700 || exit 1
promtool check metrics < "$TMP/m" > "$TMP/promtool" 2>&1
expect_eq "promtool check metrics" "0:" "$?:$(cat "$TMP/promtool")"
m() { metric "$TMP/m" "$1"; }
c=$(m xtcpd_poll_cycles_total)
e=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
d=$(m 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}')
expect_eq "emitted = 700 x cycles" "$((c * 700))" "$e"
expect_eq "marshalled = emitted" "$e" "$(m 'xtcpd_marshal_records_total{plugin="marshaller/json"}')"
expect_eq "null sink delivered = emitted" "$e" "$(m 'xtcpd_sink_records_done_total{plugin="sink/null",result="delivered"}')"
expect_eq "file sink delivered = emitted" "$e" "$d"
expect_eq "file holds every record of those cycles" "$(repeat "$c" 700)" "$(per_cycle "$TMP/out.json" --upto "$e")"
expect_eq "batches = 3 lanes x ceil(234/100 or 233/100) per cycle" "$((c * 9))" \
	"$(m 'xtcpd_marshal_batches_total{plugin="marshaller/json"}')"
expect_eq "no drops (and the drop series are there)" "0 in 1 or more" \
	"$(awk '$1 ~ /^xtcpd_records_dropped_total[{]/ { s += $2; n++ } END { print s + 0, "in", (n ? "1 or more" : "none") }' "$TMP/m")"
expect_eq "cycle histogram count = cycles" "$c" "$(m xtcpd_poll_duration_seconds_count)"
expect_eq "threads: main + 3 lanes + 2 sinks + http" 7 "$(m xtcpd_threads)"
expect_eq "threads really" 7 "$(ls /proc/$PID/task | wc -l)"
expect_eq "pool capacity: 3 lanes x 2 + 2 sinks x (4 + 4) + 2" 24 "$(m 'xtcpd_pool_capacity{pool="batch/json"}')"

stop $PID
expect_eq "exit status after SIGTERM" 0 "$STOP_RC"

# enrich_docker's client has a thread of its own: counted, so that max_threads = exactly
# what runs (main + 3 lanes + 2 sinks + http + docker) starts and one less is refused.
if "$XTCPD" -n -c "$TMP/x.conf" -C "$TMP/none" -o core.enrich_docker=true 2>&1 | grep -q "without libcurl"; then
	skip_part "built without libcurl and json-c: no Docker client thread to count"
else
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" -o core.enrich_docker=true \
		-o core.docker_socket="$TMP/no-docker.sock" -o core.max_threads=8 2> "$TMP/log.d" &
	PID=$!
	kill_on_exit $PID
	wait_metric xtcpd_poll_cycles_total 1 || cat "$TMP/log.d"
	scrape "$TMP/m.d"
	expect_eq "docker: threads: main + 3 lanes + 2 sinks + http + docker" 8 "$(metric "$TMP/m.d" xtcpd_threads)"
	expect_eq "docker: threads really" 8 "$(ls /proc/$PID/task | wc -l)"
	stop $PID
	expect_eq "docker: exit status after SIGTERM" 0 "$STOP_RC"
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once -o core.enrich_docker=true \
		-o core.docker_socket="$TMP/no-docker.sock" -o core.max_threads=7 > /dev/null 2> "$TMP/err"
	expect_eq "docker: refused: exit status" 2 $?
	expect_eq "docker: refused: message" "xtcpd: error: configuration needs 8 threads (main, readers, sinks, metrics, docker), above max_threads = 7: lower the readers (netlinkers) or raise max_threads" "$(cat "$TMP/err")"
fi

# Too many threads for max_threads: refused at start, with the count.
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once -o source.synth.lanes=64 -o core.max_threads=16 \
	-o core.prom_listen= > /dev/null 2> "$TMP/err"
expect_eq "refused: exit status" 2 $?
expect_eq "refused: message" "xtcpd: error: configuration needs 67 threads (main, readers, sinks, metrics, docker), above max_threads = 16: lower the readers (netlinkers) or raise max_threads" "$(cat "$TMP/err")"
finish
