#!/bin/sh
# A sink that stops reading (a FIFO nobody drains) fills its own queue; with
# queue_full = drop every batch that does not fit is counted, the poller keeps its
# schedule and a second sink on the same marshaller receives every record. Once the FIFO
# is drained: queued + dropped == emitted, delivered == queued, exactly. A sink stuck in
# a write at shutdown is abandoned after shutdown_timeout, counted, and the daemon exits.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
have_plugin marshaller_json || { echo "SKIP: json not built"; exit $SKIP; }
PORT=$((20000 + $$ % 20000))
mkfifo "$TMP/fifo"
exec 3<>"$TMP/fifo"   # a reader that never reads: writes block once the pipe is full
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1s
prom_listen = 127.0.0.1:$PORT
shutdown_timeout = 1s
[source synth]
records = 1000
lanes = 2
[marshaller json]
flush_rows = 50
[sink file stalled]
path = $TMP/fifo
queue_depth = 2
queue_full = drop
[sink file ok]
path = $TMP/ok.json
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
on_exit "kill -9 $PID 2>/dev/null"
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
i=0; while [ "$(metric xtcpd_poll_cycles_total)" != 4 ] && [ $i -lt 400 ]; do sleep 0.02; i=$((i + 1)); done
# A consistent scrape is one taken between cycles: emitted is a whole number of cycles.
i=0
while :; do
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m1"
	c=$(awk '$1 == "xtcpd_poll_cycles_total" { print $2 }' "$TMP/m1")
	e=$(awk '$1 == "xtcpd_records_emitted_total{instance=\"source/synth\"}" { print $2 }' "$TMP/m1")
	[ -n "$c" ] && [ "$e" = "$((c * 1000))" ] && break
	i=$((i + 1)); [ $i -lt 100 ] || break
	sleep 0.01
done
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m1"; }
cycles=$(m xtcpd_poll_cycles_total)
emitted=$(m 'xtcpd_records_emitted_total{instance="source/synth"}')
queued=$(m 'xtcpd_sink_records_queued_total{instance="sink/stalled"}')
dropped=$(m 'xtcpd_records_dropped_total{instance="sink/stalled",stage="sink_queue",reason="queue_full"}')
expect_eq "emitted = 1000 per cycle" $((cycles * 1000)) "$emitted"
expect_eq "stalled sink: some batches dropped" yes "$([ "${dropped:-0}" -gt 0 ] && echo yes)"
expect_eq "stalled sink: queued + dropped = emitted" "$emitted" "$((queued + dropped))"
expect_eq "other sink: every record queued" "$emitted" \
	"$(m 'xtcpd_sink_records_queued_total{instance="sink/ok"}')"
expect_eq "no overrun while a sink is stuck" 0 "$(m xtcpd_poll_overruns_total)"
expect_eq "cycles seen" yes "$([ "$cycles" -ge 4 ] && echo yes)"

# Drain the FIFO: everything queued is delivered, nothing else.
cat "$TMP/fifo" > "$TMP/drained" &
CAT=$!
i=0
while :; do
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m2"
	q=$(awk '$1 == "xtcpd_sink_records_queued_total{instance=\"sink/stalled\"}" { print $2 }' "$TMP/m2")
	d=$(awk '$1 == "xtcpd_sink_records_done_total{instance=\"sink/stalled\",result=\"delivered\"}" { print $2 }' "$TMP/m2")
	[ "$q" = "$d" ] && break
	i=$((i + 1)); [ $i -lt 300 ] || break
	sleep 0.02
done
expect_eq "drained: delivered == queued" "$q" "$d"
# Stall it again and stop: the stuck sink is abandoned after shutdown_timeout.
kill $CAT; wait $CAT 2>/dev/null
sleep 1
kill -TERM $PID
i=0; while kill -0 $PID 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "exited (no hang on a stuck sink)" no "$(kill -0 $PID 2>/dev/null && echo yes || echo no)"
wait $PID
expect_eq "exit status" 0 $?
expect_eq "abandonment logged" 1 "$(grep -c 'sink/stalled: did not finish in time' "$TMP/log")"

# queue_full = block: the first full queue costs one queue_block_timeout, then the stalled
# sink's batches are dropped at once until it releases one; the poller keeps its
# schedule (40 batches a cycle would otherwise wait 500 ms each).
sed -i 's/^queue_full = drop/queue_full = block\nqueue_block_timeout = 500ms/' "$TMP/x.conf"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log2" &
PID=$!
on_exit "kill -9 $PID 2>/dev/null"
i=0
while :; do # a scrape between cycles, after the fifth
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m3"
	c=$(awk '$1 == "xtcpd_poll_cycles_total" { print $2 }' "$TMP/m3")
	e=$(awk '$1 == "xtcpd_records_emitted_total{instance=\"source/synth\"}" { print $2 }' "$TMP/m3")
	[ "${c:-0}" -ge 5 ] && [ "$e" = "$((c * 1000))" ] && break
	i=$((i + 1)); [ $i -lt 600 ] || break
	sleep 0.02
done
m3() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m3"; }
expect_eq "block: cycles ran" yes "$([ "${c:-0}" -ge 5 ] && echo yes)"
expect_eq "block: at most the first cycle overran" yes "$([ "$(m3 xtcpd_poll_overruns_total)" -le 1 ] && echo yes)"
expect_eq "block: drops counted" yes "$([ "$(m3 'xtcpd_records_dropped_total{instance="sink/stalled",stage="sink_queue",reason="queue_full"}')" -gt 0 ] && echo yes)"
expect_eq "block: healthy sink got every record" "$(m3 'xtcpd_records_emitted_total{instance="source/synth"}')" \
	"$(m3 'xtcpd_sink_records_queued_total{instance="sink/ok"}')"
kill -9 $PID
finish
