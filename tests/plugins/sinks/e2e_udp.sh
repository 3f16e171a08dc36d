#!/bin/sh
# e2e_udp — xtcpd sends protobufList batches over UDP (IPv4 and IPv6 loopback) with
# max_datagram = 1400: a test receiver gets every datagram, each one complete decodable
# message no longer than 1400 bytes, and together exactly the records produced.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
for p in sink_udp marshaller_protobufList source_synth; do
	have_plugin $p || { echo "SKIP: $p not built"; exit $SKIP; }
done
$PY -c 'import google.protobuf' 2> /dev/null || { echo "SKIP: python3-protobuf missing"; exit $SKIP; }
command -v protoc > /dev/null || { echo "SKIP: protoc missing"; exit $SKIP; }
gen_pb2

for fam in 4 6; do
	rm -f "$TMP/port" "$TMP/dgrams"
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/udp_receiver.py" $fam "$TMP/port" "$TMP/dgrams" &
	RPID=$!
	on_exit "kill $RPID 2>/dev/null"
	i=0; while [ ! -e "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	if [ $fam = 4 ]; then addr=127.0.0.1:$(cat "$TMP/port"); else addr="[::1]:$(cat "$TMP/port")"; fi
	cat > "$TMP/x.conf" <<EOC
[core]
frequency = 200ms
max_loops = 5
prom_listen =
netns = host
[source synth]
records = 1000
lanes = 2
[marshaller protobufList]
[sink udp]
address = $addr
max_datagram = 1400
EOC
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log"
	expect_eq "IPv$fam: exit status" 0 $?
	sleep 0.5
	kill -TERM $RPID; wait $RPID
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --datagrams "$TMP/dgrams" --max 1400 \
		> "$TMP/sum" || fail "IPv$fam: a datagram does not decode or is too long"
	cat "$TMP/sum"
	# 5 cycles x 1000 records, each datagram several whole records (so more than 1000).
	expect_eq "IPv$fam: every record, once" "rows 5000 dups 0 cycles 5" \
		"$(sed 's/^messages [0-9]* //' "$TMP/sum")"
	n=$(sed 's/^messages \([0-9]*\).*/\1/' "$TMP/sum")
	[ "$n" -gt 1000 ] && [ "$n" -lt 5000 ] || fail "IPv$fam: $n datagrams"
	grep -q "warn\|error" "$TMP/xtcpd.log" && { fail "IPv$fam: warnings"; cat "$TMP/xtcpd.log"; }
done
finish
