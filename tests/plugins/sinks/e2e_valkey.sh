#!/bin/sh
# e2e_valkey — xtcpd (synthetic source, protobufList) PUBLISHes to Debian's redis-server
# (the Redis protocol valkey speaks), started here on loopback; a subscriber records every
# message. (1) Every batch arrives, byte for byte the file sink's copy. (2) The server
# down for 10 s mid-run: nothing delivered meanwhile, cycles go on, the outage's batches
# dropped and counted, the sink reconnects, delivered + dropped == produced exactly, and
# the subscriber got exactly the delivered batches that had a subscriber to hear them
# (PUBLISH's reply says how many clients got each one). (3) A server that stops answering
# does not hold the shutdown past its deadline (cancel). The metrics are read at a cycle
# boundary (quiet_snapshot) and compared with the records that snapshot covers; the
# daemon polls on until it is stopped.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
VSUB="$XTCPD_BUILDDIR/tests/plugins/sinks/valkey_sub"
need_plugin sink_valkey marshaller_protobufList source_synth sink_file
need_cmd redis-server:redis-server redis-cli:redis-tools protoc:protobuf-compiler curl:curl
need_python google.protobuf:python3-protobuf
[ -x "$VSUB" ] || cannot_run "no $VSUB (configure --enable-valkey=yes)"
redis_start
gen_pb2
S='plugin="sink/valkey"'
PER=500
m() { metric "$TMP/snap" "$1"; }

# run NAME EXTRA-SINK-KEYS: a subscriber to channel NAME, then the daemon publishing to it.
run() {
	mkdir "$TMP/$1.msgs"
	"$VSUB" 127.0.0.1 "$REDIS_PORT" "$1" "$TMP/$1.msgs" "$TMP/$1.ready" > "$TMP/$1.got" &
	SUBPID=$!
	kill_on_exit $SUBPID
	wait_for 300 test -s "$TMP/$1.ready" || { echo "subscriber did not start"; exit 1; }
	PROM=127.0.0.1:$(free_port)
	cat > "$TMP/$1.conf" <<EOF
[core]
frequency = 2s
shutdown_timeout = ${SHUTDOWN:-5s}
prom_listen = $PROM
netns = host
[source synth]
records = $PER
lanes = 2
[marshaller protobufList]
flush_rows = 100
[sink valkey]
address = 127.0.0.1:$REDIS_PORT
channel = $1
$2
EOF
	daemon_start "$TMP/$1.conf"
	wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
}

# collect NAME [UPTO]: end the subscriber; what it got decoded into $TMP/NAME.sum (with
# UPTO: the records a snapshot with UPTO records emitted covers, then the later ones).
collect() {
	redis-cli -p "$REDIS_PORT" publish "$1" END > /dev/null
	wait $SUBPID || fail "$1: subscriber"
	expect_ok "$1: what the subscriber got decodes" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" \
		"$TMP" --dir "$TMP/$1.msgs" ${2:+--upto "$2"} --hashes "$TMP/$1.sha" > "$TMP/$1.sum" ||
		cat "$TMP/$1.sum"
	echo "$1: received $(cat "$TMP/$1.got"); $(cat "$TMP/$1.sum")"
}

# 1. Exact delivery, the same bytes as a file sink of the same marshaller.
run exact "[sink file copy]
marshaller = protobufList
path = $TMP/copy.bin"
quiet_all "$TMP/snap" $PER valkey copy || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "exact: exit status" 0 "$DRC"
collect exact "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')"
expect_ok "exact: the file copy decodes" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" \
	--stream "$TMP/copy.bin" --hashes "$TMP/copy.sha" > /dev/null
cycles=$(m xtcpd_poll_cycles_total)
sent=$(m "xtcpd_sink_batches_queued_total{$S}")
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
expect_eq "exact: sent == delivered" "$sent" "$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "exact: every emitted record delivered" \
	"$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')" "$rows"
expect_eq "exact: rows = $PER per cycle" $((cycles * PER)) "$rows"
expect_eq "exact: every batch had its subscriber" 0 "$(m "xtcpd_sink_valkey_unheard_total{$S}")"
expect_eq "exact: received == delivered (messages and bytes)" \
	"messages $sent bytes $(m "xtcpd_sink_bytes_delivered_total{$S}")" \
	"$(covered "$TMP/exact.msgs" "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')")"
expect_eq "exact: decoded == delivered" "messages $sent rows $rows dups 0 cycles $cycles" \
	"$(head -1 "$TMP/exact.sum")"
set -- $(sed -n 's/^later messages \([0-9]*\) rows \([0-9]*\) cycles \([0-9]*\)$/\1 \2 \3/p' "$TMP/exact.sum")
expect_eq "exact: the cycles after the snapshot, complete" "$(($3 * PER))" "$2"
expect_eq "exact: the subscriber got the snapshot's messages and the later ones" \
	"$((sent + $1))" "$(sed 's/^messages \([0-9]*\) .*/\1/' "$TMP/exact.got")"
expect_eq "exact: published messages == file batches, byte for byte" "" \
	"$(diff "$TMP/exact.sha" "$TMP/copy.sha")"

# 2. Outage: the server stops for 10 s (the length of the outage is the scenario, not a
# wait), then comes back on the same port.
run outage "reconnect_wait = 200ms"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 10 || exit 1
stop $REDIS_PID
scrape "$TMP/down"
sleep 10
scrape "$TMP/during"
redis_start "$REDIS_PORT"
wait_metric "xtcpd_sink_valkey_connects_total{$S}" 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" valkey $PER || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "outage: exit status" 0 "$DRC"
collect outage "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')"
expect_eq "outage: nothing delivered while the server was down" \
	"$(metric "$TMP/down" "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")" \
	"$(metric "$TMP/during" "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
c0=$(metric "$TMP/down" xtcpd_poll_cycles_total)
c1=$(metric "$TMP/during" xtcpd_poll_cycles_total)
expect_ok "outage: cycles went on while the server was down ($((c1 - c0)) in 10 s)" [ $((c1 - c0)) -ge 4 ]
expect_eq "outage: no overrun" 0 "$(m xtcpd_poll_overruns_total)"
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
sent=$(m "xtcpd_sink_batches_queued_total{$S}")
delivered=$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")
dropped=$(m "xtcpd_sink_batches_done_total{$S,result=\"failed\"}")
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
drows=$(m "xtcpd_sink_records_done_total{$S,result=\"failed\"}")
qrows=0
for r in queue_full in_flight_full; do
	qrows=$((qrows + $(m "xtcpd_records_dropped_total{$S,stage=\"sink_queue\",reason=\"$r\"}")))
done
disc=$(m "xtcpd_sink_failed_total{$S,reason=\"disconnected\"}")
unconf=$(m "xtcpd_sink_failed_total{$S,reason=\"unconfirmed\"}")
unheard=$(m "xtcpd_sink_valkey_unheard_total{$S}")
echo "outage: emitted $emitted, batches sent $sent delivered $delivered (unheard $unheard)" \
	"dropped $dropped (disconnected $disc, unconfirmed $unconf), queue drops $qrows records"
expect_ok "outage: the outage dropped batches" [ "$dropped" -gt 0 ]
expect_eq "outage: delivered + dropped == produced (records)" "$emitted" $((rows + drows + qrows))
expect_eq "outage: batches sent == delivered + dropped" "$sent" $((delivered + dropped))
expect_eq "outage: every drop has its reason" "$dropped" $((disc + unconf))
expect_eq "outage: connected twice, lost once" "2 1" \
	"$(m "xtcpd_sink_valkey_connects_total{$S}") $(m "xtcpd_sink_valkey_disconnects_total{$S}")"
# A batch whose reply was cut by the outage may have been published: of the snapshot's
# records, the subscriber got every delivered batch that had a listener, plus at most the
# unconfirmed ones.
got=$(sed -n 's/^messages \([0-9]*\) .*/\1/p' "$TMP/outage.sum")
heard=$((delivered - unheard))
expect_ok "outage: received $got, delivered with a listener $heard, unconfirmed $unconf" \
	test "$got" -ge "$heard" -a "$got" -le $((heard + unconf))

# 3. The server stops answering (SIGSTOP) while a PUBLISH waits for its reply, with a 20 s
# timeout: at shutdown (shutdown_timeout 1 s) cancel shuts the socket, which ends the
# wait at once.
SHUTDOWN=1s run stall "timeout = 20s"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 1 || exit 1
kill -STOP $REDIS_PID
on_exit "kill -CONT $REDIS_PID 2>/dev/null"
# the next batch is taken by the sink and waits in send() for its reply
wait_for 600 in_send valkey || { fail "stall: no batch waiting in send"; cat "$TMP/xtcpd.log"; }
t0=$(date +%s)
daemon_stop
took=$(($(date +%s) - t0))
kill -CONT $REDIS_PID
expect_eq "stall: exit status" 0 "$DRC"
expect_ok "stall: shutdown took $took s, not the 20 s wait (cancelled)" [ $took -lt 15 ]
expect_eq "stall: the waiting batch was given up by cancel" \
	"xtcpd: warning: sink/valkey: batch of 100 records: no reply from 127.0.0.1:$REDIS_PORT (Server closed the connection); it may or may not have been published" \
	"$(grep 'sink/valkey: batch of' "$TMP/xtcpd.log")"
collect stall
finish
