#!/bin/sh
# e2e_kafka_outage — every broker of the mock cluster down for 10 s while xtcpd keeps
# polling (synthetic source, protobufList). With a queue large enough, everything
# produced during the outage is delivered after recovery, exactly once. With a small
# librdkafka queue (on_full = drop), delivered + counted drops == produced, exactly.
# Polling never waits for Kafka: no overrun, cycles keep coming during the outage.
# The metrics are read at a cycle boundary and compared with the records they cover.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin sink_kafka marshaller_protobufList source_synth
need_cmd protoc:protobuf-compiler curl:curl
need_python google.protobuf:python3-protobuf
[ -x "$MOCK" ] || skip "no $MOCK (configure --enable-kafka=yes)"
mc_start
gen_pb2

# A bad pass-through property stops the start (the plugin's check) with librdkafka's own
# words.
cat > "$TMP/bad.conf" <<EOF
[core]
prom_listen =
netns = host
[source synth]
[marshaller protobufList]
[sink kafka]
brokers = $BS
topic = xtcpd
property.no.such = 1
property.linger.ms = soon
EOF
"$XTCPD" -c "$TMP/bad.conf" -C "$TMP/none" 2> "$TMP/bad.log"
expect_eq "bad property: exit status" 2 $?
expect_eq "bad property: librdkafka's message" \
	"xtcpd: $TMP/bad.conf:9: [sink kafka] property.no.such: No such configuration property: \"no.such\"" \
	"$(head -1 "$TMP/bad.log")"

# run TOPIC BUFFERS EXTRA-KAFKA-KEYS: one daemon run with a 10 s outage; leaves $TMP/snap and
# the decoded summary in $TMP/TOPIC.sum (first line: the records the snapshot covers).
run() {
	mc topic "$1" 3
	PROM=127.0.0.1:$(free_port)
	cat > "$TMP/x.conf" <<EOF
[core]
frequency = 2s
prom_listen = $PROM
netns = host
[source synth]
records = 500
lanes = 2
[marshaller protobufList]
flush_rows = 100
buffers = $2
[sink kafka]
brokers = $BS
topic = $1
compression = lz4
$3
EOF
	daemon_start "$TMP/x.conf"
	wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
	wait_metric 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}' 10 || exit 1
	mc down all
	scrape "$TMP/down"
	sleep 10
	scrape "$TMP/during"
	mc up all
	quiet_snapshot "$TMP/snap" kafka 500 || { cat "$TMP/xtcpd.log"; exit 1; }
	daemon_stop
	expect_eq "$1: exit status" 0 "$DRC"
	# The outage was real: nothing was delivered while it lasted, and polling went on.
	expect_eq "$1: no delivery during the outage" \
		"$(metric "$TMP/down" 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}')" \
		"$(metric "$TMP/during" 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}')"
	c0=$(metric "$TMP/down" xtcpd_poll_cycles_total)
	c1=$(metric "$TMP/during" xtcpd_poll_cycles_total)
	expect_ok "$1: cycles went on during the 10 s outage ($((c1 - c0)))" [ $((c1 - c0)) -ge 4 ]
	expect_eq "$1: no overrun" 0 "$(metric "$TMP/snap" xtcpd_poll_overruns_total)"
	rm -rf "$TMP/msgs"; mkdir "$TMP/msgs"
	expect_ok "$1: consume" "$KCONSUME" "$BS" "$1" "$TMP/msgs" > /dev/null
	expect_ok "$1: decode" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/msgs" \
		--upto "$(metric "$TMP/snap" 'xtcpd_records_emitted_total{plugin="source/synth"}')" > "$TMP/$1.sum" ||
		cat "$TMP/$1.sum"
	echo "$1: $(cat "$TMP/$1.sum"), librdkafka request retries" \
		"$(metric "$TMP/snap" 'xtcpd_sink_kafka_request_retries_total{plugin="sink/kafka"}')," \
		"client errors $(metric "$TMP/snap" 'xtcpd_sink_kafka_errors_total{plugin="sink/kafka"}')"
}

m() { metric "$TMP/snap" "$1"; }

# 1. Default (large) librdkafka queue, and max_in_flight covering what it holds during
# the outage (zero-copy: a held batch is a pool buffer; the pool is sized from it):
# nothing lost, nothing twice.
run outage 0 "max_in_flight = 256"
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
rows=$(m 'xtcpd_sink_records_done_total{plugin="sink/kafka",result="delivered"}')
sent=$(m 'xtcpd_sink_batches_queued_total{plugin="sink/kafka"}')
expect_eq "outage: every record emitted was delivered" "$emitted" "$rows"
expect_eq "outage: no drop" 0 "$(m 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="failed"}')"
expect_eq "outage: no buffer shortage" 0 \
	"$(m 'xtcpd_records_dropped_total{plugin="marshaller/protobufList",stage="marshal",reason="no_buffer"}')"
expect_eq "outage: consumed == delivered" "messages $sent rows $rows dups 0 cycles $(m xtcpd_poll_cycles_total)" \
	"$(head -1 "$TMP/outage.sum")"
# The cycles after the snapshot: each delivered whole (500 records), exactly once.
later=$(sed -n 's/^later messages [0-9]* rows \([0-9]*\) cycles \([0-9]*\)$/\1 \2/p' "$TMP/outage.sum")
expect_eq "outage: later cycles delivered whole" "$(( ${later#* } * 500 ))" "${later% *}"

# 2. A queue of 3 batches that drops when full: exact accounting.
run small 0 "queue_max_messages = 3
on_full = drop"
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
rows=$(m 'xtcpd_sink_records_done_total{plugin="sink/kafka",result="delivered"}')
sent=$(m 'xtcpd_sink_batches_queued_total{plugin="sink/kafka"}')
delivered=$(m 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}')
dropped=$(m 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="failed"}')
drows=$(m 'xtcpd_sink_records_done_total{plugin="sink/kafka",result="failed"}')
qrows=$(( $(m 'xtcpd_records_dropped_total{plugin="sink/kafka",stage="sink_queue",reason="queue_full"}') + \
	$(m 'xtcpd_records_dropped_total{plugin="sink/kafka",stage="sink_queue",reason="in_flight_full"}') ))
mrows=0
for r in no_buffer too_large error no_sink; do
	mrows=$((mrows + $(m "xtcpd_records_dropped_total{plugin=\"marshaller/protobufList\",stage=\"marshal\",reason=\"$r\"}")))
done
echo "small: emitted $emitted delivered $rows dropped(sink) $drows dropped(queue) $qrows dropped(marshal) $mrows"
expect_ok "small: the small queue filled" [ "$dropped" -gt 0 ]
expect_eq "small: delivered + dropped == produced (records)" "$emitted" $((rows + drows + qrows + mrows))
expect_eq "small: batches sent == delivered + dropped" "$sent" $((delivered + dropped))
expect_eq "small: every drop has its reason" "$dropped" \
	"$(m 'xtcpd_sink_failed_total{plugin="sink/kafka",reason="queue_full"}')"
expect_eq "small: consumed == delivered" "messages $delivered rows $rows dups 0" \
	"$(head -1 "$TMP/small.sum" | sed 's/ cycles.*//')"
finish
