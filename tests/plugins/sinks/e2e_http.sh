#!/bin/sh
# e2e_http — the http sink end to end. Needs root (a test namespace).
# (1) Debian's clickhouse-server (18.16), started here on loopback with its own config and
#     data folder, gets the json marshaller's lines as INSERT ... FORMAT JSONEachRow into a
#     table made from the schema, with xtcp2's command line (-dest http://... -marshal jsonl
#     -produceTimeout 5s): of the records a metrics snapshot covers, count() == the records
#     delivered == emitted, every socket `ss` lists in the test namespace in every cycle,
#     and a cycle's rows match ss field by field (compare_ss.py of the netlink tests).
# (2) The same server's refusals: a missing table (404: failed at once, the first line of
#     ClickHouse's message logged) and a table lacking columns (500: retried, then
#     failed), all counted. (3) ClickHouse 18.16 has no ProtobufList format, so
#     protobufList goes to a small server of the test that decodes every body with protoc,
#     over http and https (a certificate made here), with the marshaller's Content-Type and
#     an extra header. The metrics are read at a cycle boundary (quiet_snapshot) and
#     compared with the records that snapshot covers; the daemon polls on until stopped.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
need_root
need_plugin sink_http marshaller_json marshaller_protobufList source_netlink source_synth
need_cmd clickhouse-server:clickhouse-server protoc:protobuf-compiler openssl:openssl \
	curl:curl ip:iproute2 ss:iproute2
need_python google.protobuf:python3-protobuf
RF=$XTCPD_SRCDIR/core/include/xtcpd/record_fields.h
NL=$XTCPD_SRCDIR/tests/plugins/sources/netlink
S='plugin="sink/http"'
m() { metric "$TMP/snap" "$1"; }
ch_start
expect_ok "clickhouse: database" ch "CREATE DATABASE xtcp" || exit 1
expect_ok "clickhouse: table from the schema" \
	ch "$($PY "$XTCPD_SRCDIR/tests/plugins/sinks/ch_schema.py" "$RF" xtcp.records)" || exit 1
expect_ok "clickhouse: a narrow table" \
	ch "CREATE TABLE xtcp.narrow (schema_version UInt32) ENGINE = MergeTree ORDER BY schema_version" || exit 1

# A test namespace with sockets of every kind (sockets.py of the netlink tests: local ports
# 6200..6230, one of them in TIME-WAIT for 60 s from here). The daemon polls it and the
# host's own namespace, where the source's port filter keeps nothing: a cycle is NSOCK
# records.
NS=xt-e2ehttp-$$
private_netns $NS || exit 1
ip netns exec $NS $PY "$NL/sockets.py" 6200 "$TMP/ready" &
kill_on_exit $!
wait_for 600 test -e "$TMP/ready" || { echo "sockets.py did not start"; exit 1; }
ip netns exec $NS ss -tane > "$TMP/ss.tane" 2> /dev/null
ip netns exec $NS ss -tinmea > "$TMP/ss.tinm" 2> /dev/null
NSOCK=$(tail -n +2 "$TMP/ss.tane" | wc -l)
expect_eq "sockets.py: 3 listeners, 5 connections (10 sockets), 1 TIME-WAIT" 14 "$NSOCK"
expect_eq "no host socket on ports 6200-6299" "" "$(ss -tanH state all '( sport >= :6200 and sport <= :6299 )')"

# 1. xtcp2's spelling into ClickHouse.
INSERT="http://$CH_HTTP/?query=INSERT%20INTO%20xtcp.records%20FORMAT%20JSONEachRow"
PROM=127.0.0.1:$(free_port)
cat > "$TMP/ch.conf" <<EOF
[core]
frequency = 3s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
deserializers = all
sport = 6200-6299
EOF
"$XTCPD" -c "$TMP/ch.conf" -C "$TMP/none" -dest "$INSERT" -marshal jsonl -produceTimeout 5s \
	2> "$TMP/xtcpd.log" &
DPID=$!
kill_on_exit $DPID
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" http "$NSOCK" || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "clickhouse: exit status" 0 "$DRC"
cycles=$(m xtcpd_poll_cycles_total)
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/netlink"}')
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
UPTO="record_counter <= $emitted"
expect_eq "clickhouse: sent == delivered" "$(m "xtcpd_sink_batches_queued_total{$S}")" \
	"$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "clickhouse: every emitted record delivered" "$emitted" "$rows"
expect_eq "clickhouse: count() == delivered" "$rows" "$(ch "SELECT count() FROM xtcp.records WHERE $UPTO")"
expect_eq "clickhouse: every socket of $NS in every cycle ($NSOCK)" \
	"$(for c in $(seq "$cycles"); do printf '%s\n' "$NSOCK"; done)" \
	"$(ch "SELECT count() FROM xtcp.records WHERE netns = '$NS' AND $UPTO GROUP BY timestamp_ns ORDER BY timestamp_ns")"
expect_eq "clickhouse: one row per socket and cycle" 0 \
	"$(ch "SELECT count() - uniqExact(timestamp_ns, inet_diag_msg_socket_cookie) FROM xtcp.records WHERE netns = '$NS'")"
# Per socket: the snapshot's last cycle, read back from ClickHouse, against what ss listed.
ch "SELECT * FROM xtcp.records WHERE netns = '$NS' AND timestamp_ns =
    (SELECT max(timestamp_ns) FROM xtcp.records WHERE $UPTO) FORMAT JSONEachRow" |
	$PY "$NL/json2kv.py" > "$TMP/ch.kv"
$PY "$NL/compare_ss.py" "$TMP/ch.kv" $NS "$TMP/ss.tane" "$TMP/ss.tinm" \
	6210 6211 6212 > "$TMP/compare.out"
expect_eq "clickhouse: rows match ss socket by socket" \
	"$NS: $NSOCK sockets, 6 idle compared, 0 failures" "$(tail -1 "$TMP/compare.out")" ||
	cat "$TMP/compare.out"

# 2. ClickHouse refusing: no such table (404), a table without those columns (500).
PROM=127.0.0.1:$(free_port)
cat > "$TMP/bad.conf" <<EOF
[core]
frequency = 2s
prom_listen = $PROM
netns = host
[source synth]
records = 20
lanes = 1
[marshaller json]
[sink http nosuch]
url = http://$CH_HTTP/?query=INSERT%20INTO%20xtcp.nosuch%20FORMAT%20JSONEachRow
[sink http narrow]
url = http://$CH_HTTP/?query=INSERT%20INTO%20xtcp.narrow%20FORMAT%20JSONEachRow
retries = 2
retry_backoff = 20ms
EOF
t0=$(date +%s)
daemon_start "$TMP/bad.conf"
wait_metric 'xtcpd_sink_batches_done_total{plugin="sink/narrow",result="failed"}' 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_all "$TMP/snap" 20 narrow nosuch || exit 1
daemon_stop
secs=$(($(date +%s) - t0))
for k in nosuch narrow; do
	sent=$(m "xtcpd_sink_batches_queued_total{plugin=\"sink/$k\"}")
	expect_ok "$k: batches sent ($sent)" [ "$sent" -ge 2 ]
	expect_eq "$k: every batch failed" "0 $sent" \
		"$(m "xtcpd_sink_batches_done_total{plugin=\"sink/$k\",result=\"delivered\"}") $(m "xtcpd_sink_batches_done_total{plugin=\"sink/$k\",result=\"failed\"}")"
done
sent=$(m 'xtcpd_sink_batches_queued_total{plugin="sink/nosuch"}')
expect_eq "nosuch: 404 counted once per batch, no retry" "$sent 0" \
	"$(m 'xtcpd_sink_failed_total{plugin="sink/nosuch",reason="http_4xx"}') $(m 'xtcpd_sink_retried_total{plugin="sink/nosuch"}')"
expect_eq "nosuch: ClickHouse's first line, logged" \
	"xtcpd: warning: sink/nosuch: POST http://$CH_HTTP/: HTTP 404 (attempt 1): Code: 60, e.displayText() = DB::Exception: Table xtcp.nosuch doesn't exist., e.what() = DB::Exception" \
	"$(grep 'sink/nosuch: POST' "$TMP/xtcpd.log" | head -1)"
lines=$(grep -c 'sink/nosuch: POST' "$TMP/xtcpd.log")
expect_ok "nosuch: rate-limited, $lines lines in $secs s (one per 10 s)" [ "$lines" -le $((1 + secs / 10)) ]
sent=$(m 'xtcpd_sink_batches_queued_total{plugin="sink/narrow"}')
expect_eq "narrow: 500 retried twice per batch" "$((3 * sent)) $((2 * sent))" \
	"$(m 'xtcpd_sink_failed_total{plugin="sink/narrow",reason="http_5xx"}') $(m 'xtcpd_sink_retried_total{plugin="sink/narrow"}')"
expect_eq "narrow: ClickHouse's first line" \
	"xtcpd: warning: sink/narrow: POST http://$CH_HTTP/: HTTP 500 (attempt 1): Code: 117, e.displayText() = DB::Exception: Unknown field found while parsing JSONEachRow format: daemon_version: (at row 1)" \
	"$(grep 'sink/narrow: POST' "$TMP/xtcpd.log" | head -1)"
expect_eq "narrow: nothing inserted" 0 "$(ch "SELECT count() FROM xtcp.narrow")"
stop $CH_PID

# 3. protobufList over http and https to the test's protoc-decoding server.
expect_ok "a certificate for localhost" openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
	-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" 2> "$TMP/openssl.log" || { cat "$TMP/openssl.log"; exit 1; }
for s in plain tls; do
	mkdir "$TMP/$s"
	if [ $s = tls ]; then
		$PY "$XTCPD_SRCDIR/tests/plugins/sinks/http_receiver.py" "$PROTO_DIR" "$TMP/$s" "$TMP/$s.port" \
			"$TMP/cert.pem" "$TMP/key.pem" &
	else
		$PY "$XTCPD_SRCDIR/tests/plugins/sinks/http_receiver.py" "$PROTO_DIR" "$TMP/$s" "$TMP/$s.port" &
	fi
	kill_on_exit $!
	wait_for 300 test -s "$TMP/$s.port" || { echo "http_receiver did not start"; exit 1; }
done
PROM=127.0.0.1:$(free_port)
# (frequency 5 s: protoc per POST is slow, and the quiet snapshot needs every sink
# drained between two cycles.)
cat > "$TMP/pbl.conf" <<EOF
[core]
frequency = 5s
prom_listen = $PROM
netns = host
[source synth]
records = 300
lanes = 2
[marshaller protobufList]
flush_rows = 50
[marshaller json]
[sink http plain]
marshaller = protobufList
url = http://127.0.0.1:$(cat "$TMP/plain.port")/ingest?x=1
header.Authorization = Bearer t0ken
[sink http tls]
marshaller = protobufList
url = https://localhost:$(cat "$TMP/tls.port")/ingest
ca_file = $TMP/cert.pem
[sink http raw]
marshaller = json
url = http://127.0.0.1:$(cat "$TMP/plain.port")/raw
EOF
daemon_start "$TMP/pbl.conf"
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_all "$TMP/snap" 300 raw plain tls || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "protobufList: exit status" 0 "$DRC"
gen_pb2
cycles=$(m xtcpd_poll_cycles_total)
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
expect_eq "synth: 300 records per cycle" $((cycles * 300)) "$emitted"
for s in plain tls; do
	sent=$(m "xtcpd_sink_batches_queued_total{plugin=\"sink/$s\"}")
	expect_eq "$s: every record delivered" "$sent $emitted" \
		"$(m "xtcpd_sink_batches_done_total{plugin=\"sink/$s\",result=\"delivered\"}") $(m "xtcpd_sink_records_done_total{plugin=\"sink/$s\",result=\"delivered\"}")"
	expect_ok "$s: decoded by python" $PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" \
		--dir "$TMP/$s" --upto "$emitted" > "$TMP/$s.sum" || cat "$TMP/$s.sum"
	expect_eq "$s: decoded == delivered" "messages $sent rows $emitted dups 0 cycles $cycles" \
		"$(head -1 "$TMP/$s.sum")"
	set -- $(sed -n 's/^later messages \([0-9]*\) rows \([0-9]*\) cycles \([0-9]*\)$/\1 \2/p' "$TMP/$s.sum")
	# every POST, those after the snapshot too, answered 200 and decoded by protoc to
	# the rows Python found
	expect_eq "$s: every POST decoded by protoc" "200 $((sent + $1)) $((emitted + $2))" \
		"$(awk '$3 !~ /^\/raw/ { s[$1]++; r += $2 } END { for (k in s) printf "%s %d ", k, s[k]; print r }' "$TMP/$s/requests")"
done
expect_eq "plain: path, the marshaller's Content-Type, the extra header" \
	"/ingest?x=1 application/octet-stream Bearer t0ken" \
	"$(awk '$3 !~ /^\/raw/ { print $3, $4, $5, $6 }' "$TMP/plain/requests" | sort -u)"
expect_eq "tls: path and Content-Type" "/ingest application/octet-stream None" \
	"$(awk '{ print $3, $4, $5 }' "$TMP/tls/requests" | sort -u)"
# json: the marshaller's own type reaches the header (ABI 1.4 host->content_type); every
# cycle the snapshot covers is there, complete, in as many POSTs as were sent.
expect_eq "raw: labelled by the json marshaller" "200 /raw application/x-ndjson" \
	"$(awk '$3 ~ /^\/raw/ { print $1, $3, $4 }' "$TMP/plain/requests" | sort -u)"
expect_eq "raw: every json line of the snapshot's cycles" "$(repeat "$cycles" 300)" \
	"$(per_cycle "$TMP"/plain/*.json --upto "$emitted")"
expect_eq "raw: POSTs of the snapshot's cycles" \
	"$(m 'xtcpd_sink_batches_queued_total{plugin="sink/raw"}')" \
	"$($PY -c '
import json, sys
print(sum(json.loads(open(f).readline())["record_counter"] <= int(sys.argv[1]) for f in sys.argv[2:]))' \
	"$emitted" "$TMP"/plain/*.json)"
finish
