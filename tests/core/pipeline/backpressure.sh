#!/bin/sh
# A sink that stops reading (a FIFO nobody drains) fills its own queue; with
# queue_full = drop every batch that does not fit is counted, the poller keeps its
# schedule and a second sink on the same marshaller receives every record. Once the FIFO
# is drained: queued + dropped == emitted, delivered == queued, exactly. A sink stuck in
# a write at shutdown is abandoned after shutdown_timeout, counted, and the daemon exits.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_file
need_cmd curl:curl
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
# between_cycles FILE MIN: a scrape after cycle MIN, taken between cycles (records emitted
# are a whole number of cycles of 1000).
between_cycles() {
	curl -s "http://127.0.0.1:$PORT/metrics" > "$1" || return 1
	_c=$(awk '$1 == "xtcpd_poll_cycles_total" { print $2 }' "$1")
	_e=$(awk '$1 == "xtcpd_records_emitted_total{plugin=\"source/synth\"}" { print $2 }' "$1")
	[ -n "$_c" ] && [ "$_c" -ge "$2" ] && [ "$_e" = "$((_c * 1000))" ]
}
wait_for 1200 between_cycles "$TMP/m1" 4 || echo "no scrape between cycles after the 4th"
# m NAME: a value of the last scrape; a missing series fails
m() { awk -v k="$1" '$1 == k { v = $2; n++ } END { if (n) print v; else print "#missing" }' "$TMP/m1"; }
cycles=$(m xtcpd_poll_cycles_total)
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
queued=$(m 'xtcpd_sink_records_queued_total{plugin="sink/stalled"}')
dropped=$(m 'xtcpd_records_dropped_total{plugin="sink/stalled",stage="sink_queue",reason="queue_full"}')
expect_eq "emitted = 1000 per cycle" $((cycles * 1000)) "$emitted"
expect_eq "stalled sink: some batches dropped" yes "$([ "${dropped:-0}" -gt 0 ] && echo yes)"
expect_eq "stalled sink: queued + dropped = emitted" "$emitted" "$((queued + dropped))"
expect_eq "other sink: every record queued" "$emitted" \
	"$(m 'xtcpd_sink_records_queued_total{plugin="sink/ok"}')"
expect_eq "no overrun while a sink is stuck" 0 "$(m xtcpd_poll_overruns_total)"
expect_eq "drop: never waited for room" 0 "$(m 'xtcpd_sink_block_timeouts_total{plugin="sink/stalled"}')"
expect_eq "cycles seen" yes "$([ "$cycles" -ge 4 ] && echo yes)"

# Drain the FIFO: everything queued is delivered, nothing else.
cat "$TMP/fifo" > "$TMP/drained" &
CAT=$!
drained() {
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m2"
	q=$(awk '$1 == "xtcpd_sink_records_queued_total{plugin=\"sink/stalled\"}" { print $2 }' "$TMP/m2")
	d=$(awk '$1 == "xtcpd_sink_records_done_total{plugin=\"sink/stalled\",result=\"delivered\"}" { print $2 }' "$TMP/m2")
	[ -n "$q" ] && [ "$q" = "$d" ]
}
wait_for 600 drained
expect_eq "drained: delivered == queued" "$q" "$d"
# Stall it again (once a batch is dropped after the reader went, the sink is stuck in a
# write: a batch is far larger than the pipe) and stop: the stuck sink is abandoned
# after shutdown_timeout, and the daemon exits.
drops() { awk '$1 == "xtcpd_records_dropped_total{plugin=\"sink/stalled\",stage=\"sink_queue\",reason=\"queue_full\"}" { print $2 }' "$1"; }
stop $CAT
d0=$(drops "$TMP/m2")
stuck() { curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m2b" && [ "$(drops "$TMP/m2b")" -gt "$d0" ]; }
expect_ok "stuck again: a batch dropped after the reader went" wait_for 600 stuck
kill -TERM $PID
wait_for 600 eval '! kill -0 $PID 2>/dev/null'
expect_eq "exited (no hang on a stuck sink)" no "$(kill -0 $PID 2>/dev/null && echo yes || echo no)"
wait $PID
expect_eq "exit status" 0 $?
expect_eq "abandonment logged" 1 "$(grep -c 'sink/stalled: did not finish in time' "$TMP/log")"

# queue_full = block: the first full queue costs one queue_block_timeout, then the stalled
# sink's batches are dropped at once until it releases one; the poller keeps its
# schedule (40 batches a cycle would otherwise wait 500 ms each).
sed -i 's/^queue_full = drop/queue_full = block\nqueue_block_timeout = 500ms/' "$TMP/x.conf"
expect_eq "block: the configuration says so" "queue_depth = 2|queue_full = block|queue_block_timeout = 500ms|" \
	"$(sed -n '/^\[sink file stalled\]/,/^\[/p' "$TMP/x.conf" | grep '^queue_' | tr '\n' '|')"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log2" &
PID=$!
on_exit "kill -9 $PID 2>/dev/null"
wait_for 1200 between_cycles "$TMP/m1" 5 || echo "no scrape between cycles after the 5th"
c=$(m xtcpd_poll_cycles_total)
expect_eq "block: cycles ran" yes "$([ "$c" -ge 5 ] && echo yes)"
expect_eq "block: at most the first cycle overran" yes "$([ "$(m xtcpd_poll_overruns_total)" -le 1 ] && echo yes)"
expect_eq "block: drops counted" yes "$([ "$(m 'xtcpd_records_dropped_total{plugin="sink/stalled",stage="sink_queue",reason="queue_full"}')" -gt 0 ] && echo yes)"
expect_eq "block: healthy sink got every record" "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')" \
	"$(m 'xtcpd_sink_records_queued_total{plugin="sink/ok"}')"
# What only blocking does: an emitter waited queue_block_timeout for room, once per
# stall (the sink never recovers here), so once or twice (two lanes emit at once).
bt=$(m 'xtcpd_sink_block_timeouts_total{plugin="sink/stalled"}')
expect_ok "block: waited for room and gave up once per lane at most ($bt)" [ "$bt" -ge 1 -a "$bt" -le 2 ]
expect_eq "block: the healthy sink never waited" 0 "$(m 'xtcpd_sink_block_timeouts_total{plugin="sink/ok"}')"
stop $PID
expect_eq "block: exit status" 0 "$STOP_RC"
finish
