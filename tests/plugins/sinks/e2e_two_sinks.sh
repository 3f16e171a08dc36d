#!/bin/sh
# e2e_two_sinks — two sinks fed from the same cycles, each with its own marshaller:
# protobufList to Kafka with every broker down (the sink blocks on its full librdkafka
# queue and holds its batch buffers), json to a file. The file still gets every cycle,
# complete, with no poll overrun; Kafka's own queue fills and its own drop counters rise;
# shutdown reports what Kafka never got.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
for p in sink_kafka marshaller_protobufList marshaller_json source_synth; do
	have_plugin $p || { echo "SKIP: $p not built"; exit $SKIP; }
done
[ -x "$MOCK" ] || { echo "SKIP: mockcluster missing"; exit $SKIP; }
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
quiet_snapshot "$TMP/snap" out || exit 1
daemon_stop
expect_eq "exit status" 0 "$DRC"
[ "$DRC" = 0 ] || tail -40 "$TMP/xtcpd.log"
m() { metric "$TMP/snap" "$1"; }

cycles=$(m xtcpd_poll_cycles_total)
# Every cycle in the file, each complete: "records-per-cycle x cycles".
got=$($PY -c '
import json, sys
counts = {}
for line in open(sys.argv[1]):
    t = json.loads(line)["timestamp_ns"]
    counts[t] = counts.get(t, 0) + 1
print(" ".join(str(counts[t]) for t in sorted(counts)))' "$TMP/out.json")
expect_eq "file: every cycle, complete" \
	"$(for c in $(seq "$cycles"); do printf '300 '; done | sed 's/ $//')" "$got"
expect_eq "file: all delivered" "$((cycles * 300))" \
	"$(m 'xtcpd_sink_records_done_total{instance="sink/out",result="delivered"}')"
expect_eq "no poll overrun" 0 "$(m xtcpd_poll_overruns_total)"
expect_eq "file: nothing dropped" 0 "$(m 'xtcpd_sink_batches_dropped_total{instance="sink/out",reason="queue_full"}')"

# Kafka: nothing delivered, its own queue full and counted.
expect_eq "kafka: nothing delivered" 0 "$(m 'xtcpd_sink_batches_done_total{instance="sink/kafka",result="delivered"}')"
qdrop=$(m 'xtcpd_sink_batches_dropped_total{instance="sink/kafka",reason="queue_full"}')
sdrop=$(m 'xtcpd_sink_batches_done_total{instance="sink/kafka",result="failed"}')
nobuf=$(m 'xtcpd_records_dropped_total{instance="marshaller/protobufList",stage="marshal",reason="no_buffer"}')
echo "kafka: core queue drops $qdrop, sink drops $sdrop, records without a buffer $nobuf"
[ $((qdrop + sdrop)) -gt 0 ] || fail "kafka: no drop counted"
expect_eq "kafka: librdkafka holds its 4" 4 "$(m 'xtcpd_sink_kafka_queue_messages{instance="sink/kafka"}')"
grep -q "sink/kafka: .* batches not delivered" "$TMP/xtcpd.log" || fail "shutdown: undelivered not reported"
finish
