#!/bin/sh
# e2e_kafka_reload — a SIGHUP reload during a Kafka outage loses nothing: the kafka sink's
# configuration did not change, so the running instance is kept with the batches it
# holds in librdkafka (a rebuilt sink would purge them). The reload changes the source
# (synth records 500 -> 300), so the pipeline around the sink is rebuilt. After the
# brokers come back every record emitted is delivered, exactly once.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin sink_kafka marshaller_protobufList source_synth
[ -x "$MOCK" ] || skip "the mock cluster driver is not built ($MOCK)"
need_python google.protobuf:python3-protobuf
need_cmd protoc:protobuf-compiler
mc_start
gen_pb2
mc topic reload 3
PROM=127.0.0.1:$(free_port)
conf() {
	cat > "$TMP/x.conf" <<EOF
[core]
frequency = 2s
prom_listen = $PROM
netns = host
[source synth]
records = $1
lanes = 2
[marshaller protobufList]
flush_rows = 100
[sink kafka]
brokers = $BS
topic = reload
max_in_flight = 256
EOF
}
K='plugin="sink/kafka"'
conf 500
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
wait_metric "xtcpd_sink_batches_done_total{$K,result=\"delivered\"}" 10 || exit 1
mc down all
c=$(metric "$TMP/m.wait" xtcpd_poll_cycles_total)
wait_metric xtcpd_poll_cycles_total $((c + 2)) || exit 1
scrape "$TMP/before"
held=$(( $(metric "$TMP/before" "xtcpd_sink_batches_queued_total{$K}") - \
	$(metric "$TMP/before" "xtcpd_sink_batches_done_total{$K,result=\"delivered\"}") ))
[ "$held" -gt 0 ] || fail "no batch was in flight at the reload ($held)"
conf 300
kill -HUP $DPID
i=0; while ! grep -q "configuration reloaded" "$TMP/xtcpd.log" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "reload: the sink and the marshaller kept, the source rebuilt" \
	"xtcpd: info: SIGHUP: configuration reloaded: 2 instances kept, 1 new, 1 retired" \
	"$(grep reloaded "$TMP/xtcpd.log")"
c=$(metric "$TMP/before" xtcpd_poll_cycles_total)
wait_metric xtcpd_poll_cycles_total $((c + 2)) || exit 1
mc up all
quiet_snapshot "$TMP/snap" kafka - || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "exit status" 0 "$DRC"
m() { metric "$TMP/snap" "$1"; }
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
rows=$(m "xtcpd_sink_records_done_total{$K,result=\"delivered\"}")
sent=$(m "xtcpd_sink_batches_queued_total{$K}")
expect_eq "nothing purged by the reload" 0 "$(m "xtcpd_sink_failed_total{$K,reason=\"purged\"}")"
expect_eq "no batch failed" 0 "$(m "xtcpd_sink_batches_done_total{$K,result=\"failed\"}")"
expect_eq "every record emitted (before and after the reload) was delivered" "$emitted" "$rows"
rm -rf "$TMP/msgs"; mkdir "$TMP/msgs"
"$KCONSUME" "$BS" reload "$TMP/msgs" > /dev/null || fail "consume"
# only what the snapshot covers (record_counter <= emitted, numbered across the reload):
# the daemon polls on until it is stopped
$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/msgs" --upto "$emitted" > "$TMP/reload.sum" ||
	fail "decode"
expect_eq "consumed == delivered, no duplicate" "messages $sent rows $rows dups 0" \
	"$(head -1 "$TMP/reload.sum" | sed 's/ cycles.*//')"
finish
