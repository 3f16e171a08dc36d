#!/bin/sh
# e2e_nats — xtcpd (synthetic source, protobufList) publishes to Debian's nats-server,
# started here on loopback. A JetStream stream on the server records every message the
# server accepted on the subject, so what the sink calls delivered is checked against what
# the server really has: (1) every batch, byte for byte the same as a file sink's copy;
# (2) the server down for 10 s mid-run: nothing delivered meanwhile, cycles go on, the
# batches of the outage dropped and counted (reason "disconnected"), the client reconnects
# by itself, and delivered + dropped == produced exactly, records and batches; (3) a
# server that stops answering does not hold the shutdown past its deadline (cancel).
# The metrics are read at a cycle boundary (quiet_snapshot) and compared with the records
# that snapshot covers; the daemon polls on until it is stopped.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
NATS_STREAM="$XTCPD_BUILDDIR/tests/plugins/sinks/nats_stream"
need_plugin sink_nats marshaller_protobufList source_synth sink_file
need_cmd nats-server:nats-server protoc:protobuf-compiler curl:curl
need_python google.protobuf:python3-protobuf
[ -x "$NATS_STREAM" ] || cannot_run "no $NATS_STREAM (configure --enable-nats=yes)"
nats_start
gen_pb2
S='plugin="sink/nats"'
PER=500
m() { metric "$TMP/snap" "$1"; }

# run NAME EXTRA-SINK-KEYS: starts the daemon publishing to subject NAME (recorded by a
# stream of the same name).
run() {
	"$NATS_STREAM" "$NATS_URL" create "$1" "$1" || exit 1
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
[sink nats]
url = 127.0.0.1:$NATS_PORT
subject = $1
$2
EOF
	daemon_start "$TMP/$1.conf"
	wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
}

# dump NAME: what the server stored into $TMP/NAME.msgs, "messages N bytes B" of all of
# it into $TMP/NAME.stored, decoded (the records the snapshot covers, then the later
# ones) into $TMP/NAME.sum.
dump() {
	rm -rf "$TMP/$1.msgs"
	mkdir "$TMP/$1.msgs"
	"$NATS_STREAM" "$NATS_URL" dump "$1" "$TMP/$1.msgs" > "$TMP/$1.stored" || fail "$1: dump"
	expect_ok "$1: what the server stored decodes" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" \
		"$TMP" --dir "$TMP/$1.msgs" --upto "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')" \
		--hashes "$TMP/$1.sha" > "$TMP/$1.sum" || cat "$TMP/$1.sum"
	echo "$1: stored $(cat "$TMP/$1.stored"); $(cat "$TMP/$1.sum")"
}

# 1. Exact delivery, the same bytes as a file sink of the same marshaller.
run exact "[sink file copy]
marshaller = protobufList
path = $TMP/copy.bin"
quiet_all "$TMP/snap" $PER nats copy || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "exact: exit status" 0 "$DRC"
dump exact
expect_ok "exact: the file copy decodes" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" \
	--stream "$TMP/copy.bin" --hashes "$TMP/copy.sha" > /dev/null
cycles=$(m xtcpd_poll_cycles_total)
sent=$(m "xtcpd_sink_batches_queued_total{$S}")
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
expect_eq "exact: sent == delivered" "$sent" "$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "exact: every emitted record delivered" \
	"$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')" "$rows"
expect_eq "exact: rows = $PER per cycle" $((cycles * PER)) "$rows"
expect_eq "exact: stored == delivered (messages and bytes)" \
	"messages $sent bytes $(m "xtcpd_sink_bytes_delivered_total{$S}")" \
	"$(covered "$TMP/exact.msgs" "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')")"
expect_eq "exact: decoded == delivered" "messages $sent rows $rows dups 0 cycles $cycles" \
	"$(head -1 "$TMP/exact.sum")"
set -- $(sed -n 's/^later messages \([0-9]*\) rows \([0-9]*\) cycles \([0-9]*\)$/\1 \2 \3/p' "$TMP/exact.sum")
expect_eq "exact: the cycles after the snapshot, complete" "$(($3 * PER))" "$2"
expect_eq "exact: the server stored the snapshot's messages and the later ones" \
	"$((sent + $1))" "$(sed 's/^messages \([0-9]*\) .*/\1/' "$TMP/exact.stored")"
expect_eq "exact: nats messages == file batches, byte for byte" "" \
	"$(diff "$TMP/exact.sha" "$TMP/copy.sha")"
expect_eq "exact: no failure" 0 \
	"$(awk '/^xtcpd_sink_failed_total\{plugin="sink\/nats"/ { s += $2 } END { print s + 0 }' "$TMP/snap")"

# 2. Outage: the server stops (SIGTERM, so its store keeps what it acknowledged) for 10 s
# (the length of the outage is the scenario, not a wait).
run outage "reconnect_wait = 200ms"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 10 || exit 1
stop $NATS_PID
scrape "$TMP/down"
sleep 10
scrape "$TMP/during"
nats_start "$NATS_PORT"
wait_metric "xtcpd_sink_nats_reconnects_total{$S}" 1 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" nats $PER || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "outage: exit status" 0 "$DRC"
dump outage
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
echo "outage: emitted $emitted, batches sent $sent delivered $delivered dropped $dropped" \
	"(disconnected $disc, unconfirmed $unconf), queue drops $qrows records"
expect_ok "outage: the outage dropped batches" [ "$dropped" -gt 0 ]
expect_eq "outage: delivered + dropped == produced (records)" "$emitted" $((rows + drows + qrows))
expect_eq "outage: batches sent == delivered + dropped" "$sent" $((delivered + dropped))
expect_eq "outage: every drop has its reason" "$dropped" $((disc + unconf))
expect_eq "outage: one disconnect, one reconnect" "1 1" \
	"$(m "xtcpd_sink_nats_disconnects_total{$S}") $(m "xtcpd_sink_nats_reconnects_total{$S}")"
# A batch whose confirmation was cut by the outage may have reached the server: of the
# snapshot's records, the store holds every delivered batch, plus at most the
# unconfirmed ones.
stored=$(sed -n 's/^messages \([0-9]*\) rows \([0-9]*\) .*/\1 \2/p' "$TMP/outage.sum")
set -- $stored
expect_ok "outage: stored $1 batches, delivered $delivered, unconfirmed $unconf" \
	test "$1" -ge "$delivered" -a "$1" -le $((delivered + unconf))
if [ "$unconf" = 0 ]; then
	expect_eq "outage: stored == delivered" "$delivered $rows" "$1 $2"
fi

# 3. The server stops answering (SIGSTOP) while a batch waits for its confirmation, with
# a 20 s timeout: at shutdown (shutdown_timeout 1 s) cancel closes the connection, which
# ends the wait at once.
SHUTDOWN=1s run stall "timeout = 20s"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 1 || exit 1
kill -STOP $NATS_PID
on_exit "kill -CONT $NATS_PID 2>/dev/null"
# the next batch is taken by the sink and waits in send() for its confirmation
wait_for 600 in_send nats || { fail "stall: no batch waiting in send"; cat "$TMP/xtcpd.log"; }
t0=$(date +%s)
daemon_stop
took=$(($(date +%s) - t0))
kill -CONT $NATS_PID
expect_eq "stall: exit status" 0 "$DRC"
expect_ok "stall: shutdown took $took s, not the 20 s wait (cancelled)" [ $took -lt 15 ]
expect_eq "stall: the waiting batch was given up by cancel" \
	"xtcpd: warning: sink/nats: batch dropped: no confirmation from the server: Connection Closed" \
	"$(grep 'sink/nats: batch dropped' "$TMP/xtcpd.log")"
finish
