#!/bin/sh
# e2e_net — the daemon (synthetic source, csv) with the tcp, unix, unixgram and stderr
# sinks at once, against receivers in Python (net_receiver.py): every record arrives once
# in each, the header once per connection / in every datagram / once on stderr, and
# xtcp2's spellings (-dest tcp: -marshal csv -columns) do the same. Then an outage: all
# receivers gone for ~5 s mid-run and back; for each sink, records delivered (counted by
# the daemon) == records received, delivered + dropped == produced exactly, and every
# drop has a reason. Last, a peer that never reads cannot hold the shutdown. The metrics
# are read at a cycle boundary (quiet_snapshot) and compared with the records that
# snapshot covers (check_net.py --upto); the daemon polls on until it is stopped.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
need_plugin sink_tcp sink_unix sink_unixgram sink_stderr marshaller_csv source_synth
need_cmd curl:curl
COLS=recordCounter,timestampNs,hostname,netns,inetDiagMsgSocketSource,inetDiagMsgState,congestionAlgorithmEnum
RECV="$XTCPD_SRCDIR/tests/plugins/sinks/net_receiver.py"
CHECK="$XTCPD_SRCDIR/tests/plugins/sinks/check_net.py"

# receivers_start [TCP-PORT]: tcp, unix and unixgram receivers writing into $TMP/in;
# sets TPORT and RPIDS.
receivers_start() {
	mkdir -p "$TMP/in"
	rm -f "$TMP/tport" "$TMP/u.sock.ready" "$TMP/g.sock.ready"
	$PY "$RECV" tcp "$TMP/tport" "$TMP/in" ${1:-} & r1=$!
	$PY "$RECV" unix "$TMP/u.sock" "$TMP/in" & r2=$!
	$PY "$RECV" unixgram "$TMP/g.sock" "$TMP/in" & r3=$!
	RPIDS="$r1 $r2 $r3"
	for p in $RPIDS; do kill_on_exit $p; done
	wait_for 600 test -e "$TMP/tport" -a -e "$TMP/u.sock.ready" -a -e "$TMP/g.sock.ready" ||
		{ echo "receivers did not start"; exit 1; }
	TPORT=$(cat "$TMP/tport")
}

# receivers_stop: SIGTERM; each keeps what arrived and exits 0.
receivers_stop() {
	for p in $RPIDS; do
		stop $p
		expect_eq "receiver $p: exit status" 0 "$STOP_RC"
	done
}

# check NAME MODE WANT FILES...: the receiver's files of one sink hold WANT (only the
# records up to $UPTO when set).
check() {
	name=$1 mode=$2 want=$3
	shift 3
	got=$($PY "$CHECK" ${UPTO:+--upto $UPTO} $mode $COLS "$@")
	expect_eq "$name" "$want" "$(echo "$got" | sed 's/^conns [0-9]* //')"
	echo "$name: $got"
}

# 1. Four sinks, one run of 3 cycles x 1000 records, batches of 100 rows.
receivers_start
cat > "$TMP/x.conf" <<EOF
[core]
frequency = 300ms
max_loops = 3
prom_listen =
netns = host
[source synth]
records = 1000
lanes = 2
[marshaller csv]
columns = $COLS
flush_rows = 100
[sink tcp]
address = 127.0.0.1:$TPORT
[sink unix]
path = $TMP/u.sock
[sink unixgram]
path = $TMP/g.sock
[sink stderr]
EOF
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/stderr.out"
expect_eq "four sinks: exit status" 0 $?
receivers_stop
expect_eq "four sinks: no warning, no error" "" "$(grep "^xtcpd: " "$TMP/stderr.out" | grep "warn\|error")"
check "tcp: one connection, header once" stream "rows 3000 unique 3000" "$TMP"/in/tcp-*
check "unix: one connection, header in its first frame" framed "rows 3000 unique 3000" "$TMP"/in/unix-*
check "unixgram: header in every datagram" dgram "rows 3000 unique 3000" "$TMP"/in/unixgram-*
check "stderr: header once" stderr "rows 3000 unique 3000" "$TMP/stderr.out"
expect_eq "tcp: connections" 1 "$(ls "$TMP"/in/tcp-* | wc -l)"
expect_eq "unixgram: one datagram per batch (at least 30)" yes \
	"$([ "$(ls "$TMP"/in/unixgram-* | wc -l)" -ge 30 ] && echo yes)"

# 2. xtcp2's command line: -dest tcp: -marshal csv -columns.
rm -rf "$TMP/in"
receivers_start
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" -dest "tcp:127.0.0.1:$TPORT" -marshal csv \
	-columns "$COLS" -envelopeFlushRows 250 2> "$TMP/xtcp2.log"
expect_eq "xtcp2 spelling: exit status" 0 $?
receivers_stop
check "xtcp2 -dest tcp: -marshal csv -columns" stream "rows 3000 unique 3000" "$TMP"/in/tcp-*

# 3. An outage of every receiver while the daemon polls (a cycle every 2 s).
rm -rf "$TMP/in"
receivers_start
PROM=127.0.0.1:$(free_port)
cat > "$TMP/y.conf" <<EOF
[core]
frequency = 2s
prom_listen = $PROM
netns = host
[source synth]
records = 500
lanes = 2
[marshaller csv]
columns = $COLS
flush_rows = 100
[sink tcp]
address = 127.0.0.1:$TPORT
retry_timeout = 200ms
reconnect_max = 500ms
[sink unix]
path = $TMP/u.sock
retry_timeout = 200ms
reconnect_max = 500ms
[sink unixgram]
path = $TMP/g.sock
retry_timeout = 200ms
reconnect_max = 500ms
EOF
daemon_start "$TMP/y.conf"
wait_metric 'xtcpd_sink_records_done_total{plugin="sink/unixgram",result="delivered"}' 1000 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_all "$TMP/before" 500 tcp unix unixgram || exit 1
receivers_stop                         # between two cycles: nothing in flight is lost
# the receivers stay away for two cycles at least (the outage is the scenario)
c=$(metric "$TMP/before" xtcpd_poll_cycles_total)
wait_metric xtcpd_poll_cycles_total $((c + 2)) || exit 1
receivers_start "$TPORT"
wait_metric xtcpd_poll_cycles_total $((c + 5)) || exit 1
quiet_all "$TMP/snap" 500 tcp unix unixgram || exit 1
daemon_stop
expect_eq "outage: exit status" 0 "$DRC"
receivers_stop
m() { metric "$TMP/snap" "$1"; }
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
UPTO=$emitted          # a cycle may still run between the snapshot and the stop
mrows=0
for r in no_buffer too_large error no_sink; do
	mrows=$((mrows + $(m "xtcpd_records_dropped_total{plugin=\"marshaller/csv\",stage=\"marshal\",reason=\"$r\"}")))
done
for s in tcp unix unixgram; do
	i="plugin=\"sink/$s\""
	rows=$(m "xtcpd_sink_records_done_total{$i,result=\"delivered\"}")
	drows=$(m "xtcpd_sink_records_done_total{$i,result=\"failed\"}")
	qrows=$(( $(m "xtcpd_records_dropped_total{$i,stage=\"sink_queue\",reason=\"queue_full\"}") + \
		$(m "xtcpd_records_dropped_total{$i,stage=\"sink_queue\",reason=\"in_flight_full\"}") ))
	dropped=$(m "xtcpd_sink_batches_done_total{$i,result=\"failed\"}")
	failed=0
	for r in econnrefused enoent eacces etimedout epipe econnreset closed disconnected emsgsize cancelled other; do
		failed=$((failed + $(m "xtcpd_sink_failed_total{$i,reason=\"$r\"}")))
	done
	echo "$s: emitted $emitted delivered $rows dropped(sink) $drows dropped(queue) $qrows" \
		"dropped(marshal) $mrows, failures $failed, connects $(m "xtcpd_sink_connects_total{$i}")"
	expect_ok "$s: the outage dropped records ($drows)" [ "$drows" -gt 0 ]
	expect_eq "$s: delivered + dropped == produced" "$emitted" $((rows + drows + qrows + mrows))
	expect_eq "$s: batches queued == delivered + dropped" "$(m "xtcpd_sink_batches_queued_total{$i}")" \
		$(($(m "xtcpd_sink_batches_done_total{$i,result=\"delivered\"}") + dropped))
	expect_ok "$s: every drop counted as a failure ($dropped drops, $failed failures)" \
		[ "$failed" -ge "$dropped" ]
	case $s in tcp) mode=stream;; unix) mode=framed;; unixgram) mode=dgram;; esac
	check "$s: received == delivered, each once" $mode "rows $rows unique $rows" "$TMP"/in/$s-*
done
UPTO=
expect_eq "tcp: a connection before and one after the outage" 2 "$(ls "$TMP"/in/tcp-* | wc -l)"
expect_eq "tcp: connects" 2 "$(m 'xtcpd_sink_connects_total{plugin="sink/tcp"}')"
expect_eq "unix: connects" 2 "$(m 'xtcpd_sink_connects_total{plugin="sink/unix"}')"
expect_eq "tcp: the close was seen before writing" 1 \
	"$(m 'xtcpd_sink_failed_total{plugin="sink/tcp",reason="closed"}')"
expect_eq "no torn batch" "0 0" "$(m 'xtcpd_sink_torn_batches_total{plugin="sink/tcp"}') $(m 'xtcpd_sink_torn_batches_total{plugin="sink/unix"}')"

# 4. Shutdown stays bounded: a peer that accepts and never reads, the sink stuck in a
# write (write_timeout 10m); SIGTERM: past shutdown_timeout the core cancels the send,
# the batch is dropped as cancelled, the daemon exits 0.
rm -f "$TMP/sport"
$PY "$RECV" stall "$TMP/sport" "$TMP/in" & SPID=$!
kill_on_exit $SPID
wait_for 600 test -e "$TMP/sport" || { echo "stalled peer did not start"; exit 1; }
PROM=127.0.0.1:$(free_port)
cat > "$TMP/z.conf" <<EOC
[core]
frequency = 2s
prom_listen = $PROM
netns = host
shutdown_timeout = 1s
[source synth]
records = 20000
lanes = 1
[marshaller csv]
[sink tcp]
address = 127.0.0.1:$(cat "$TMP/sport")
write_timeout = 10m
sndbuf = 4096
EOC
daemon_start "$TMP/z.conf"
wait_metric 'xtcpd_sink_connects_total{plugin="sink/tcp"}' 1 || { cat "$TMP/xtcpd.log"; exit 1; }
# a batch taken by the sink, stuck in its write to the peer that never reads
wait_for 600 in_send tcp || { fail "stalled peer: no batch in send"; cat "$TMP/xtcpd.log"; }
kill -TERM $DPID
# a deadlock guard of 30 s, far above shutdown_timeout (1 s): the 10 min write was cancelled
if wait_for 300 eval '! kill -0 $DPID 2>/dev/null'; then
	wait $DPID
	expect_eq "stalled peer: exit status" 0 $?
else
	fail "stalled peer: the daemon did not exit"
	stop $DPID KILL
fi
expect_ok "stalled peer: the batch in the write dropped as cancelled" \
	grep -q 'sink/tcp: batch of [0-9]* records to 127.0.0.1:[0-9]* dropped: Operation canceled' \
	"$TMP/xtcpd.log" || cat "$TMP/xtcpd.log"
stop $SPID
finish
