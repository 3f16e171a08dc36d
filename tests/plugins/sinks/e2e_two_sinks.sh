#!/bin/sh
# e2e_two_sinks — two sinks fed from the same cycles, each with its own marshaller:
# protobufList to Kafka with every broker down (the sink blocks on its full librdkafka
# queue and holds its batch buffers), json to a file. The file still gets every cycle,
# complete, with no poll overrun; Kafka's own queue fills and its own drop counters rise;
# shutdown reports what Kafka never got. The metrics are read at a cycle boundary and
# compared with the records they cover; the cycles run after it are checked on their own.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin sink_kafka marshaller_protobufList marshaller_json source_synth sink_file
need_cmd curl:curl
[ -x "$MOCK" ] || skip "no $MOCK (configure --enable-kafka=yes)"
mc_start
mc down all
PROM=127.0.0.1:$(free_port)
cat > "$TMP/x.conf" <<EOF
[core]
frequency = 2s
prom_listen = $PROM
netns = host
shutdown_timeout = 1s
[source synth]
records = 300
lanes = 2
[marshaller protobufList]
flush_rows = 50
[marshaller json]
[sink kafka]
marshaller = protobufList
brokers = $BS
topic = xtcpd
queue_max_messages = 4
on_full = block
block_timeout_ms = 5000
queue_depth = 4
queue_full = drop
[sink file out]
marshaller = json
path = $TMP/out.json
EOF
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 5 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" out 300 || exit 1
daemon_stop
expect_eq "exit status" 0 "$DRC" || tail -40 "$TMP/xtcpd.log"
m() { metric "$TMP/snap" "$1"; }

cycles=$(m xtcpd_poll_cycles_total)
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
# Every cycle the snapshot covers is in the file, complete: "records-per-cycle x cycles";
# and so is every cycle run after it, until the stop.
expect_eq "file: every cycle of the snapshot, complete" "$(repeat "$cycles" 300)" \
	"$(per_cycle "$TMP/out.json" --upto "$emitted")"
all=$(per_cycle "$TMP/out.json")
expect_ok "file: at least the snapshot's $cycles cycles" [ "$(echo "$all" | wc -w)" -ge "$cycles" ]
expect_eq "file: the cycles after it, complete" "$(repeat "$(echo "$all" | wc -w)" 300)" "$all"
expect_eq "file: all delivered" "$((cycles * 300))" \
	"$(m 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}')"
expect_eq "no poll overrun" 0 "$(m xtcpd_poll_overruns_total)"
expect_eq "file: nothing dropped" 0 "$(m 'xtcpd_sink_batches_dropped_total{plugin="sink/out",reason="queue_full"}')"

# Kafka: nothing delivered, its own queue full and counted.
expect_eq "kafka: nothing delivered" 0 "$(m 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}')"
qdrop=$(m 'xtcpd_sink_batches_dropped_total{plugin="sink/kafka",reason="queue_full"}')
sdrop=$(m 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="failed"}')
nobuf=$(m 'xtcpd_records_dropped_total{plugin="marshaller/protobufList",stage="marshal",reason="no_buffer"}')
echo "kafka: core queue drops $qdrop, sink drops $sdrop, records without a buffer $nobuf"
expect_ok "kafka: drops counted" [ $((qdrop + sdrop)) -gt 0 ]
expect_eq "kafka: librdkafka holds its 4" 4 "$(m 'xtcpd_sink_kafka_queue_messages{plugin="sink/kafka"}')"
expect_ok "shutdown: undelivered reported" grep -q "sink/kafka: .* batches not delivered" "$TMP/xtcpd.log"
finish
