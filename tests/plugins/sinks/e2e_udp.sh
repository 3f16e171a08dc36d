#!/bin/sh
# e2e_udp — xtcpd sends protobufList batches over UDP (IPv4 and IPv6 loopback) with
# max_datagram = 1400: a test receiver gets every datagram, each one complete decodable
# message no longer than 1400 bytes, and together exactly the records produced. To a
# closed port, the metrics say what the log says: every batch refused, none delivered.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin sink_udp marshaller_protobufList source_synth
need_python google.protobuf:python3-protobuf
need_cmd protoc:protobuf-compiler
gen_pb2

for fam in 4 6; do
	rm -f "$TMP/port" "$TMP/dgrams"
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/udp_receiver.py" $fam "$TMP/port" "$TMP/dgrams" &
	RPID=$!
	on_exit "kill $RPID 2>/dev/null"
	wait_for 300 test -s "$TMP/port"
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
	stop $RPID
	expect_ok "IPv$fam: every datagram decodes, none over 1400 bytes" \
		$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --datagrams "$TMP/dgrams" --max 1400 \
		> "$TMP/sum"
	cat "$TMP/sum"
	# 5 cycles x 1000 records, each datagram several whole records (so more than 1000).
	expect_eq "IPv$fam: every record, once" "rows 5000 dups 0 cycles 5" \
		"$(sed 's/^messages [0-9]* //' "$TMP/sum")"
	n=$(sed 's/^messages \([0-9]*\).*/\1/' "$TMP/sum")
	expect_ok "IPv$fam: several records per datagram ($n datagrams)" [ "$n" -gt 1000 -a "$n" -lt 5000 ]
	expect_eq "IPv$fam: no warning" "" "$(grep "warn\|error" "$TMP/xtcpd.log")"
done

# A closed port: nobody listens on a port that was free a moment ago.
PROM=127.0.0.1:$(free_port)
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 2s
prom_listen = $PROM
netns = host
[source synth]
records = 1000
lanes = 2
[marshaller protobufList]
[sink udp]
address = 127.0.0.1:$(free_port)
max_datagram = 1400
EOC
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" udp 1000 || exit 1
daemon_stop
U='plugin="sink/udp"'
queued=$(metric "$TMP/snap" "xtcpd_sink_batches_queued_total{$U}")
[ "$queued" -gt 0 ] || fail "closed port: nothing was sent"
expect_eq "closed port: no batch counted delivered" 0 \
	"$(metric "$TMP/snap" "xtcpd_sink_batches_done_total{$U,result=\"delivered\"}")"
expect_eq "closed port: every batch failed" "$queued" \
	"$(metric "$TMP/snap" "xtcpd_sink_batches_done_total{$U,result=\"failed\"}")"
expect_eq "closed port: each refusal counted" "$queued" \
	"$(metric "$TMP/snap" "xtcpd_sink_failed_total{$U,reason=\"econnrefused\"}")"
expect_eq "closed port: the log says the same" "refused by the destination: Connection refused" \
	"$(sed -n 's/.*datagram of [0-9]* bytes \(refused.*\)/\1/p' "$TMP/xtcpd.log" | sort -u)"
finish
