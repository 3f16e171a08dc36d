#!/bin/sh
# Pipeline accounting over several cycles, scraped from /metrics between cycles (the
# endpoint itself, readiness and 404/405 are tests/core/ops/metrics_http.sh and readyz.sh):
# emitted = marshalled = delivered by each of two sinks, batches as flush_rows implies,
# no drops, promtool-clean; threads are exactly main + readers + sinks + http; a
# configuration needing more threads than max_threads is refused with the count.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
have_plugin marshaller_json || { echo "SKIP: json not built"; exit $SKIP; }
command -v promtool >/dev/null || { echo "SKIP: promtool (Debian package prometheus) missing"; exit $SKIP; }
PORT=$((20000 + ($$ + 7) % 20000))
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
on_exit "kill -9 $PID 2>/dev/null"
# A scrape between cycles (emitted is a whole number of cycles), checked by promtool.
i=0
while :; do
	curl -s "$URL/metrics" > "$TMP/m"
	c=$(awk '$1 == "xtcpd_poll_cycles_total" { print $2 }' "$TMP/m")
	e=$(awk '$1 == "xtcpd_records_emitted_total{instance=\"source/synth\"}" { print $2 }' "$TMP/m")
	d=$(awk '$1 == "xtcpd_sink_records_done_total{instance=\"sink/out\",result=\"delivered\"}" { print $2 }' "$TMP/m")
	[ "${c:-0}" -ge 2 ] && [ "$e" = "$((c * 700))" ] && [ "$d" = "$e" ] && break
	i=$((i + 1)); [ $i -lt 300 ] || break
	sleep 0.02
done
promtool check metrics < "$TMP/m" > "$TMP/promtool" 2>&1
expect_eq "promtool check metrics" "0:" "$?:$(cat "$TMP/promtool")"
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m"; }
expect_eq "emitted = 700 x cycles" "$((c * 700))" "$e"
expect_eq "marshalled = emitted" "$e" "$(m 'xtcpd_marshal_records_total{instance="marshaller/json"}')"
expect_eq "null sink delivered = emitted" "$e" "$(m 'xtcpd_sink_records_done_total{instance="sink/null",result="delivered"}')"
expect_eq "file sink delivered = emitted" "$e" "$d"
expect_eq "file holds every record" "$e" "$(wc -l < "$TMP/out.json")"
expect_eq "batches = 3 lanes x ceil(234/100 or 233/100) per cycle" "$((c * 9))" \
	"$(m 'xtcpd_marshal_batches_total{instance="marshaller/json"}')"
expect_eq "no drops" 0 "$(awk '$1 ~ /^xtcpd_records_dropped_total/ { s += $2 } END { print s + 0 }' "$TMP/m")"
expect_eq "cycle histogram count = cycles" "$c" "$(m xtcpd_poll_duration_seconds_count)"
expect_eq "threads: main + 3 lanes + 2 sinks + http" 7 "$(m xtcpd_threads)"
expect_eq "threads really" 7 "$(ls /proc/$PID/task | wc -l)"
expect_eq "pool capacity: 3 lanes x 2 + 2 sinks x (16 + 4) + 2" 48 "$(m 'xtcpd_pool_capacity{pool="batch/json"}')"

kill $PID; wait $PID

# Too many threads for max_threads: refused at start, with the count.
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once -o source.synth.lanes=64 -o core.max_threads=16 \
	-o core.prom_listen= > /dev/null 2> "$TMP/err"
expect_eq "refused: exit status" 2 $?
expect_eq "refused: message" "xtcpd: error: configuration needs 67 threads (main, readers, sinks, metrics), above max_threads = 16: lower the readers (netlinkers) or raise max_threads" "$(cat "$TMP/err")"
finish
