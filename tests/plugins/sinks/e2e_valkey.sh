#!/bin/sh
# e2e_valkey — xtcpd (synthetic source, protobufList) PUBLISHes to Debian's redis-server
# (the Redis protocol valkey speaks), started here on loopback; a subscriber records every
# message. (1) Every batch arrives, byte for byte the file sink's copy. (2) The server
# down for 10 s mid-run: nothing delivered meanwhile, cycles go on, the outage's batches
# dropped and counted, the sink reconnects, delivered + dropped == produced exactly, and
# the subscriber got exactly the delivered batches that had a subscriber to hear them
# (PUBLISH's reply says how many clients got each one). (3) A server that stops answering
# does not hold the shutdown past its deadline (cancel).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
VSUB="$XTCPD_BUILDDIR/tests/plugins/sinks/valkey_sub"
for p in sink_valkey marshaller_protobufList source_synth; do
	have_plugin $p || cannot_run "$p not built (configure --enable-valkey=yes)"
done
[ -x "$VSUB" ] || cannot_run "tests/plugins/sinks/valkey_sub not built"
command -v redis-server > /dev/null && command -v redis-cli > /dev/null ||
	cannot_run "redis-server missing (Debian package redis-server)"
$PY -c 'import google.protobuf' 2> /dev/null || cannot_run "python3-protobuf missing"
command -v protoc > /dev/null || cannot_run "protoc missing"
redis_start
gen_pb2
S='instance="sink/valkey"'
m() { metric "$TMP/snap" "$1"; }

# run NAME EXTRA-SINK-KEYS: a subscriber to channel NAME, then the daemon publishing to it.
run() {
	mkdir "$TMP/$1.msgs"
	"$VSUB" 127.0.0.1 "$REDIS_PORT" "$1" "$TMP/$1.msgs" "$TMP/$1.ready" > "$TMP/$1.got" &
	SUBPID=$!
	on_exit "kill $SUBPID 2>/dev/null"
	wait_for 100 test -s "$TMP/$1.ready" || { echo "subscriber did not start"; exit 1; }
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
[sink valkey]
address = 127.0.0.1:$REDIS_PORT
channel = $1
$2
EOF
	daemon_start "$TMP/$1.conf"
	wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
}

# collect NAME: end the subscriber and decode what it got into $TMP/NAME.sum.
collect() {
	redis-cli -p "$REDIS_PORT" publish "$1" END > /dev/null
	wait $SUBPID || fail "$1: subscriber"
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/$1.msgs" \
		--hashes "$TMP/$1.sha" > "$TMP/$1.sum" || fail "$1: decode"
	echo "$1: received $(cat "$TMP/$1.got"); $(cat "$TMP/$1.sum")"
}

# 1. Exact delivery, the same bytes as a file sink of the same marshaller.
run exact "[sink file copy]
marshaller = protobufList
path = $TMP/copy.bin"
quiet_snapshot "$TMP/snap" valkey || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "exact: exit status" 0 "$DRC"
collect exact
$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --stream "$TMP/copy.bin" \
	--hashes "$TMP/copy.sha" > /dev/null || fail "exact: file copy decodes"
sent=$(m "xtcpd_sink_batches_queued_total{$S}")
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
expect_eq "exact: sent == delivered" "$sent" "$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "exact: every emitted record delivered" \
	"$(m 'xtcpd_records_emitted_total{instance="source/synth"}')" "$rows"
expect_eq "exact: every batch had its subscriber" 0 "$(m "xtcpd_sink_valkey_unheard_total{$S}")"
expect_eq "exact: received == delivered" \
	"messages $sent bytes $(m "xtcpd_sink_bytes_delivered_total{$S}")" "$(cat "$TMP/exact.got")"
expect_eq "exact: decoded == delivered" \
	"messages $sent rows $rows dups 0 cycles $(m xtcpd_poll_cycles_total)" "$(cat "$TMP/exact.sum")"
expect_eq "exact: published messages == file batches, byte for byte" "" \
	"$(diff "$TMP/exact.sha" "$TMP/copy.sha")"

# 2. Outage: the server stops for 10 s, then comes back on the same port.
run outage "reconnect_wait = 200ms"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 10 || exit 1
stop_pid $REDIS_PID
scrape "$TMP/down"
sleep 10
scrape "$TMP/during"
redis_start "$REDIS_PORT"
wait_metric "xtcpd_sink_valkey_connects_total{$S}" 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" valkey || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "outage: exit status" 0 "$DRC"
collect outage
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
unheard=$(m "xtcpd_sink_valkey_unheard_total{$S}")
echo "outage: emitted $emitted, batches sent $sent delivered $delivered (unheard $unheard)" \
	"dropped $dropped (disconnected $disc, unconfirmed $unconf), queue drops $qrows records"
[ "$dropped" -gt 0 ] || fail "outage: nothing was dropped: the outage did not happen"
expect_eq "outage: delivered + dropped == produced (records)" "$emitted" $((rows + drows + qrows))
expect_eq "outage: batches sent == delivered + dropped" "$sent" $((delivered + dropped))
expect_eq "outage: every drop has its reason" "$dropped" $((disc + unconf))
expect_eq "outage: connected twice, lost once" "2 1" \
	"$(m "xtcpd_sink_valkey_connects_total{$S}") $(m "xtcpd_sink_valkey_disconnects_total{$S}")"
# A batch whose reply was cut by the outage may have been published: the subscriber got
# every delivered batch that had a listener, plus at most the unconfirmed ones.
got=$(sed 's/messages \([0-9]*\) .*/\1/' "$TMP/outage.got")
heard=$((delivered - unheard))
[ "$got" -ge "$heard" ] && [ "$got" -le $((heard + unconf)) ] ||
	fail "outage: received $got, delivered with a listener $heard, unconfirmed $unconf"

# 3. The server stops answering (SIGSTOP) while a PUBLISH waits for its reply, with a 20 s
# timeout: at shutdown (shutdown_timeout 1 s) cancel shuts the socket, which ends the
# wait at once.
SHUTDOWN=1s run stall "timeout = 20s"
wait_metric "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}" 1 || exit 1
kill -STOP $REDIS_PID
on_exit "kill -CONT $REDIS_PID 2>/dev/null"
scrape "$TMP/stopped"            # then the next cycle's first batch waits in send
wait_metric "xtcpd_sink_batches_queued_total{$S}" \
	$(($(metric "$TMP/stopped" "xtcpd_sink_batches_queued_total{$S}") + 1)) || exit 1
sleep 0.5
t0=$(date +%s)
daemon_stop
took=$(($(date +%s) - t0))
kill -CONT $REDIS_PID
expect_eq "stall: exit status" 0 "$DRC"
[ $took -lt 10 ] || fail "stall: shutdown took $took s: the 20 s wait was not cancelled"
expect_eq "stall: the waiting batch was given up by cancel" \
	"xtcpd: warning: sink/valkey: batch of 100 records: no reply from 127.0.0.1:$REDIS_PORT (Server closed the connection); it may or may not have been published" \
	"$(grep 'sink/valkey: batch of' "$TMP/xtcpd.log")"
collect stall
finish
