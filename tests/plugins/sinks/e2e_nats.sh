#!/bin/sh
# e2e_nats — xtcpd (synthetic source, protobufList) publishes to Debian's nats-server,
# started here on loopback. A JetStream stream on the server records every message the
# server accepted on the subject, so what the sink calls delivered is checked against what
# the server really has: (1) every batch, byte for byte the same as a file sink's copy;
# (2) the server down for 10 s mid-run: nothing delivered meanwhile, cycles go on, the
# batches of the outage dropped and counted (reason "disconnected"), the client reconnects
# by itself, and delivered + dropped == produced exactly, records and batches; (3) a
# server that stops answering does not hold the shutdown past its deadline (cancel).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
NATS_STREAM="$XTCPD_BUILDDIR/tests/plugins/sinks/nats_stream"
for p in sink_nats marshaller_protobufList source_synth; do
	have_plugin $p || cannot_run "$p not built (configure --enable-nats=yes)"
done
[ -x "$NATS_STREAM" ] || cannot_run "tests/plugins/sinks/nats_stream not built"
command -v nats-server > /dev/null || cannot_run "nats-server missing (Debian package nats-server)"
$PY -c 'import google.protobuf' 2> /dev/null || cannot_run "python3-protobuf missing"
command -v protoc > /dev/null || cannot_run "protoc missing"
nats_start
gen_pb2
S='instance="sink/nats"'
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
records = 500
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

# dump NAME: what the server stored, decoded, into $TMP/NAME.sum.
dump() {
	rm -rf "$TMP/$1.msgs"; mkdir "$TMP/$1.msgs"
	"$NATS_STREAM" "$NATS_URL" dump "$1" "$TMP/$1.msgs" > "$TMP/$1.stored" || fail "$1: dump"
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/$1.msgs" \
		--hashes "$TMP/$1.sha" > "$TMP/$1.sum" || fail "$1: decode"
	echo "$1: stored $(cat "$TMP/$1.stored"); $(cat "$TMP/$1.sum")"
}

# 1. Exact delivery, the same bytes as a file sink of the same marshaller.
run exact "[sink file copy]
marshaller = protobufList
path = $TMP/copy.bin"
quiet_snapshot "$TMP/snap" nats || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "exact: exit status" 0 "$DRC"
dump exact
$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --stream "$TMP/copy.bin" \
	--hashes "$TMP/copy.sha" > /dev/null || fail "exact: file copy decodes"
sent=$(m "xtcpd_sink_batches_queued_total{$S}")
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
expect_eq "exact: sent == delivered" "$sent" "$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "exact: every emitted record delivered" \
	"$(m 'xtcpd_records_emitted_total{instance="source/synth"}')" "$rows"
expect_eq "exact: stored == delivered" \
	"messages $sent bytes $(m "xtcpd_sink_bytes_delivered_total{$S}")" "$(cat "$TMP/exact.stored")"
expect_eq "exact: decoded == delivered" \
	"messages $sent rows $rows dups 0 cycles $(m xtcpd_poll_cycles_total)" "$(cat "$TMP/exact.sum")"
expect_eq "exact: nats messages == file batches, byte for byte" "" \
	"$(diff "$TMP/exact.sha" "$TMP/copy.sha")"
expect_eq "exact: no failure" 0 "$(awk '/^xtcpd_sink_failed_total\{instance="sink\/nats"/ { s += $2 } END { print s + 0 }' "$TMP/snap")"

# 2. Outage: the server stops (SIGTERM, so its store keeps what it acknowledged) for 10 s.
run outage "reconnect_wait = 200ms"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 10 || exit 1
stop_pid $NATS_PID
scrape "$TMP/down"
sleep 10
scrape "$TMP/during"
nats_start "$NATS_PORT"
wait_metric "xtcpd_sink_nats_reconnects_total{$S}" 1 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" nats || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "outage: exit status" 0 "$DRC"
dump outage
expect_eq "outage: nothing delivered while the server was down" \
	"$(metric "$TMP/down" "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")" \
	"$(metric "$TMP/during" "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
c0=$(metric "$TMP/down" xtcpd_poll_cycles_total)
c1=$(metric "$TMP/during" xtcpd_poll_cycles_total)
[ $((c1 - c0)) -ge 4 ] || fail "outage: only $((c1 - c0)) cycles during the 10 s outage"
expect_eq "outage: no overrun" 0 "$(m xtcpd_poll_overruns_total)"
emitted=$(m 'xtcpd_records_emitted_total{instance="source/synth"}')
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
[ "$dropped" -gt 0 ] || fail "outage: nothing was dropped: the outage did not happen"
expect_eq "outage: delivered + dropped == produced (records)" "$emitted" $((rows + drows + qrows))
expect_eq "outage: batches sent == delivered + dropped" "$sent" $((delivered + dropped))
expect_eq "outage: every drop has its reason" "$dropped" $((disc + unconf))
expect_eq "outage: one disconnect, one reconnect" "1 1" \
	"$(m "xtcpd_sink_nats_disconnects_total{$S}") $(m "xtcpd_sink_nats_reconnects_total{$S}")"
# A batch whose confirmation was cut by the outage may have reached the server: the store
# holds every delivered batch, plus at most the unconfirmed ones.
stored=$(sed 's/messages \([0-9]*\) .*/\1/' "$TMP/outage.stored")
[ "$stored" -ge "$delivered" ] && [ "$stored" -le $((delivered + unconf)) ] ||
	fail "outage: stored $stored, delivered $delivered, unconfirmed $unconf"
[ "$unconf" = 0 ] && expect_eq "outage: stored == delivered" \
	"messages $delivered rows $rows dups 0" "$(sed 's/ cycles.*//' "$TMP/outage.sum")"

# 3. The server stops answering (SIGSTOP) while a batch waits for its confirmation, with
# a 20 s timeout: at shutdown (shutdown_timeout 1 s) cancel closes the connection, which
# ends the wait at once.
SHUTDOWN=1s run stall "timeout = 20s"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 1 || exit 1
kill -STOP $NATS_PID
on_exit "kill -CONT $NATS_PID 2>/dev/null"
scrape "$TMP/stopped"            # then the next cycle's first batch waits in send
wait_metric "xtcpd_sink_batches_queued_total{$S}" \
	$(($(metric "$TMP/stopped" "xtcpd_sink_batches_queued_total{$S}") + 1)) || exit 1
sleep 0.5
t0=$(date +%s)
daemon_stop
took=$(($(date +%s) - t0))
kill -CONT $NATS_PID
expect_eq "stall: exit status" 0 "$DRC"
[ $took -lt 10 ] || fail "stall: shutdown took $took s: the 20 s wait was not cancelled"
expect_eq "stall: the waiting batch was given up by cancel" \
	"xtcpd: warning: sink/nats: batch dropped: no confirmation from the server: Connection Closed" \
	"$(grep 'sink/nats: batch dropped' "$TMP/xtcpd.log")"
finish
