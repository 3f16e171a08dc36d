#!/bin/sh
# e2e_kafka — xtcpd polls a test namespace with the netlink source and produces
# protobufList to the mock Kafka cluster, and the same batches to a file. Consumed back,
# the messages decode (protoc --decode and Python protobuf) to exactly the records
# produced: the same count as the metrics, no duplicates, every socket of the namespace
# in every cycle, and byte for byte the batches the file sink got. Needs root. The
# metrics are read at a cycle boundary and compared with the records they cover.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_plugin sink_kafka marshaller_protobufList source_netlink sink_file
need_cmd protoc:protobuf-compiler ip:iproute2 ss:iproute2 curl:curl
need_python google.protobuf:python3-protobuf
[ -x "$MOCK" ] || skip "no $MOCK (configure --enable-kafka=yes)"

NS=xt-e2ekafka-$$
# Only this namespace (and the host's own) is polled: a private bind-mount folder.
private_netns $NS || exit 1
ip netns exec $NS $PY "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 6100 "$TMP/ready" &
kill_on_exit $!
wait_for 600 test -e "$TMP/ready" || { echo "socket maker not ready"; exit 1; }
# Every socket of the namespace has a local port in 6100..6130 (listeners and clients of
# sockets.py): the source's port filter keeps exactly these, so a cycle has NSOCK
# records. The host namespace has none there.
NSOCK=$(ip netns exec $NS ss -tanH state all | wc -l)
expect_eq "socket maker: 3 listeners, 5 connections (10 sockets), 1 TIME-WAIT" 14 "$NSOCK"
expect_eq "no host socket on ports 6100-6199" "" "$(ss -tanH state all '( sport >= :6100 and sport <= :6199 )')"

mc_start
PROM=127.0.0.1:$(free_port)
cat > "$TMP/x.conf" <<EOF
[core]
frequency = 3s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
netlinkers = 2
sport = 6100-6199
[marshaller protobufList pb]
flush_rows = 10
[sink kafka]
marshaller = pb
brokers = $BS
topic = xtcpd
compression = zstd
[sink file copy]
marshaller = pb
path = $TMP/copy.bin
EOF
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" kafka "$NSOCK" || exit 1
daemon_stop
expect_eq "exit status" 0 "$DRC"

mkdir -p "$TMP/msgs"
"$KCONSUME" "$BS" xtcpd "$TMP/msgs" > "$TMP/consumed.txt"
gen_pb2
cycles=$(metric "$TMP/snap" xtcpd_poll_cycles_total)
sent=$(metric "$TMP/snap" 'xtcpd_sink_batches_queued_total{plugin="sink/kafka"}')
rows=$(metric "$TMP/snap" 'xtcpd_sink_records_done_total{plugin="sink/kafka",result="delivered"}')
emitted=$(metric "$TMP/snap" 'xtcpd_records_emitted_total{plugin="source/netlink"}')
expect_ok "kafka messages decode" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" \
	--dir "$TMP/msgs" --netns $NS --upto "$emitted" --hashes "$TMP/kafka.sha" > "$TMP/kafka.sum" ||
	cat "$TMP/kafka.sum"
expect_ok "file copy decodes" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" \
	--stream "$TMP/copy.bin" --hashes "$TMP/file.sha" > "$TMP/file.sum"

cat "$TMP/kafka.sum" "$TMP/file.sum"
expect_eq "metrics: sent == delivered" "$sent" \
	"$(metric "$TMP/snap" 'xtcpd_sink_batches_done_total{plugin="sink/kafka",result="delivered"}')"
expect_eq "metrics: every emitted record delivered" "$emitted" "$rows"
expect_eq "consumed == metrics" "messages $sent rows $rows dups 0 cycles $cycles" \
	"$(head -1 "$TMP/kafka.sum")"
later=$(sed -n 's/^later messages \([0-9]*\) rows \([0-9]*\) cycles \([0-9]*\)$/\1 \2 \3/p' "$TMP/kafka.sum")
set -- $later
expect_eq "consumer total: the snapshot's messages and those of the $3 cycles after it" \
	"total $((sent + $1))" "$(tail -1 "$TMP/consumed.txt")"
expect_eq "every socket of $NS in every cycle ($NSOCK), the later ones too" \
	"$(repeat $((cycles + $3)) "$NSOCK")" "$(tail -1 "$TMP/kafka.sum")"
expect_eq "kafka messages == file batches, byte for byte" "" \
	"$(diff "$TMP/kafka.sha" "$TMP/file.sha")"
expect_eq "every message keyed with the host name" "0" \
	"$(awk -v h="$(hostname)" '$1 != "total" && $5 != h' "$TMP/consumed.txt" | wc -l)"
# protoc (C++) agrees with Python on the row count.
prows=0
for f in "$TMP"/msgs/*.bin; do
	$PY -c '
import sys
d = open(sys.argv[1], "rb").read(); i = 0
while d[i] & 0x80: i += 1
sys.stdout.buffer.write(d[i + 1:])' "$f" > "$TMP/env.bin"
	n=$(protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$TMP/env.bin" | grep -c '^row {')
	prows=$((prows + n))
done
expect_eq "protoc --decode rows = Python's" "$((rows + $2))" "$prows"
expect_eq "rows: every socket of every cycle the snapshot covers" $((NSOCK * cycles)) "$rows"
finish
