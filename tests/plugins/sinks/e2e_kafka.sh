#!/bin/sh
# e2e_kafka — xtcpd polls a test namespace with the netlink source and produces
# protobufList to the mock Kafka cluster, and the same batches to a file. Consumed back,
# the messages decode (protoc --decode and Python protobuf) to exactly the records
# produced: the same count as the metrics, no duplicates, every socket of the namespace
# in every cycle, and byte for byte the batches the file sink got. Needs root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
for p in sink_kafka marshaller_protobufList source_netlink; do
	have_plugin $p || { echo "SKIP: $p not built"; exit $SKIP; }
done
command -v protoc > /dev/null && [ -x "$MOCK" ] || { echo "SKIP: protoc or mockcluster missing"; exit $SKIP; }
$PY -c 'import google.protobuf' 2> /dev/null || { echo "SKIP: python3-protobuf missing"; exit $SKIP; }

NS=xt-e2ekafka-$$
ip netns add $NS || exit 1
on_exit "ip netns del $NS"
ip -n $NS link set lo up
# Only this namespace (and the host's own) is polled: a private bind-mount folder.
mkdir "$TMP/netns"
touch "$TMP/netns/$NS"
mount --bind /run/netns/$NS "$TMP/netns/$NS"
on_exit "umount '$TMP/netns/$NS'"
ip netns exec $NS $PY "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 6100 "$TMP/ready" &
SPID=$!
on_exit "kill $SPID"
i=0; while [ ! -e "$TMP/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
NSOCK=$(ip netns exec $NS ss -tan | tail -n +2 | wc -l)

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
quiet_snapshot "$TMP/snap" kafka || exit 1
daemon_stop
expect_eq "exit status" 0 "$DRC"

mkdir -p "$TMP/msgs"
"$KCONSUME" "$BS" xtcpd "$TMP/msgs" > "$TMP/consumed.txt"
gen_pb2
$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/msgs" --netns $NS \
	--hashes "$TMP/kafka.sha" > "$TMP/kafka.sum" || { fail "kafka messages decode"; cat "$TMP/kafka.sum"; }
$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --stream "$TMP/copy.bin" \
	--hashes "$TMP/file.sha" > "$TMP/file.sum" || fail "file copy decodes"

cat "$TMP/kafka.sum" "$TMP/file.sum"
cycles=$(metric "$TMP/snap" xtcpd_poll_cycles_total)
sent=$(metric "$TMP/snap" 'xtcpd_sink_batches_queued_total{instance="sink/kafka"}')
rows=$(metric "$TMP/snap" 'xtcpd_sink_records_done_total{instance="sink/kafka",result="delivered"}')
emitted=$(metric "$TMP/snap" 'xtcpd_records_emitted_total{instance="source/netlink"}')
expect_eq "metrics: sent == delivered" "$sent" \
	"$(metric "$TMP/snap" 'xtcpd_sink_batches_done_total{instance="sink/kafka",result="delivered"}')"
expect_eq "metrics: every emitted record delivered" "$emitted" "$rows"
expect_eq "consumed == metrics" "messages $sent rows $rows dups 0 cycles $cycles" \
	"$(head -1 "$TMP/kafka.sum")"
expect_eq "consumer total" "total $sent" "$(tail -1 "$TMP/consumed.txt")"
expect_eq "every socket of $NS in every cycle ($NSOCK)" \
	"$(for c in $(seq "$cycles"); do printf '%s ' "$NSOCK"; done | sed 's/ $//')" \
	"$(tail -1 "$TMP/kafka.sum")"
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
expect_eq "protoc --decode rows" "$rows" "$prows"
[ "$rows" -ge $((NSOCK * 2)) ] || fail "too few rows: $rows"
finish
