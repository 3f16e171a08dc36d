#!/bin/sh
# e2e_http — the http sink end to end. Needs root (a test namespace).
# (1) Debian's clickhouse-server (18.16), started here on loopback with its own config and
#     data folder, gets the json marshaller's lines as INSERT ... FORMAT JSONEachRow into a
#     table made from the schema, with xtcp2's command line (-dest http://... -marshal jsonl
#     -produceTimeout 5s): count() == the records delivered == emitted, every socket `ss`
#     lists in the test namespace in every cycle, and the last cycle's rows match ss field by
#     field (compare_ss.py of the netlink tests). (2) The same server's refusals: a missing table
#     (404: failed at once, the first line of ClickHouse's message logged) and a table
#     lacking columns (500: retried, then failed), all counted. (3) ClickHouse 18.16 has no
#     ProtobufList format, so protobufList goes to a small server of the test
#     that decodes every body with protoc, over http and https (a certificate made here),
#     with the marshaller's Content-Type and an extra header.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
need_root
for p in sink_http marshaller_json marshaller_protobufList source_netlink source_synth; do
	have_plugin $p || cannot_run "$p not built (configure --enable-http=yes --enable-json=yes)"
done
command -v clickhouse-server > /dev/null || cannot_run "clickhouse-server missing (Debian package clickhouse-server)"
command -v protoc > /dev/null && command -v openssl > /dev/null || cannot_run "protoc or openssl missing"
$PY -c 'import google.protobuf' 2> /dev/null || cannot_run "python3-protobuf missing"
RF=$XTCPD_SRCDIR/core/include/xtcpd/record_fields.h
ch_start

# A test namespace with sockets of every kind (sockets.py of the netlink tests), polled
# alone.
NL=$XTCPD_SRCDIR/tests/plugins/sources/netlink
NS=xt-e2ehttp-$$
private_netns $NS || exit 1
ip netns exec $NS $PY "$NL/sockets.py" 6200 "$TMP/ready" &
kill_on_exit $!
wait_for 100 test -e "$TMP/ready" || { echo "sockets.py did not start"; exit 1; }
ip netns exec $NS ss -tane > "$TMP/ss.tane" 2> /dev/null
ip netns exec $NS ss -tinmea > "$TMP/ss.tinm" 2> /dev/null
NSOCK=$(tail -n +2 "$TMP/ss.tane" | wc -l)
ch "CREATE DATABASE xtcp" || exit 1
ch "$($PY "$XTCPD_SRCDIR/tests/plugins/sinks/ch_schema.py" "$RF" xtcp.records)" || exit 1
ch "CREATE TABLE xtcp.narrow (schema_version UInt32) ENGINE = MergeTree ORDER BY schema_version" || exit 1
INSERT="http://$CH_HTTP/?query=INSERT%20INTO%20xtcp.records%20FORMAT%20JSONEachRow"
S='instance="sink/http"'
m() { metric "$TMP/snap" "$1"; }

# 1. xtcp2's spelling into ClickHouse.
PROM=127.0.0.1:$(free_port)
cat > "$TMP/ch.conf" <<EOF
[core]
frequency = 3s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
deserializers = all
EOF
"$XTCPD" -c "$TMP/ch.conf" -C "$TMP/none" -dest "$INSERT" -marshal jsonl -produceTimeout 5s \
	2> "$TMP/xtcpd.log" &
DPID=$!
on_exit "kill $DPID 2>/dev/null"
wait_for 100 curl -sf "http://$PROM/metrics" || { cat "$TMP/xtcpd.log"; exit 1; }
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" http || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "clickhouse: exit status" 0 "$DRC"
cycles=$(m xtcpd_poll_cycles_total)
rows=$(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}")
expect_eq "clickhouse: sent == delivered" "$(m "xtcpd_sink_batches_queued_total{$S}")" \
	"$(m "xtcpd_sink_batches_done_total{$S,result=\"delivered\"}")"
expect_eq "clickhouse: every emitted record delivered" \
	"$(m 'xtcpd_records_emitted_total{instance="source/netlink"}')" "$rows"
expect_eq "clickhouse: count() == delivered" "$rows" "$(ch "SELECT count() FROM xtcp.records")"
expect_eq "clickhouse: every socket of $NS in every cycle ($NSOCK)" \
	"$(for c in $(seq "$cycles"); do printf '%s\n' "$NSOCK"; done)" \
	"$(ch "SELECT count() FROM xtcp.records WHERE netns = '$NS' GROUP BY timestamp_ns ORDER BY timestamp_ns")"
expect_eq "clickhouse: one row per socket and cycle" 0 \
	"$(ch "SELECT count() - uniqExact(timestamp_ns, inet_diag_msg_socket_cookie) FROM xtcp.records WHERE netns = '$NS'")"
# Per socket: the last cycle's rows, read back from ClickHouse, against what ss listed.
ch "SELECT * FROM xtcp.records WHERE netns = '$NS' AND timestamp_ns =
    (SELECT max(timestamp_ns) FROM xtcp.records) FORMAT JSONEachRow" |
	$PY "$NL/json2kv.py" > "$TMP/ch.kv"
$PY "$NL/compare_ss.py" "$TMP/ch.kv" $NS "$TMP/ss.tane" "$TMP/ss.tinm" \
	6210 6211 6212 > "$TMP/compare.out"
expect_eq "clickhouse: rows match ss socket by socket" \
	"$NS: $NSOCK sockets, 6 idle compared, 0 failures" "$(tail -1 "$TMP/compare.out")"

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
daemon_start "$TMP/bad.conf"
wait_metric 'xtcpd_sink_batches_done_total{instance="sink/narrow",result="failed"}' 2 || { cat "$TMP/xtcpd.log"; exit 1; }
quiet_snapshot "$TMP/snap" narrow || exit 1
daemon_stop
for k in nosuch narrow; do
	sent=$(m "xtcpd_sink_batches_queued_total{instance=\"sink/$k\"}")
	[ "$sent" -ge 2 ] || fail "$k: only $sent batches"
	expect_eq "$k: every batch failed" "0 $sent" \
		"$(m "xtcpd_sink_batches_done_total{instance=\"sink/$k\",result=\"delivered\"}") $(m "xtcpd_sink_batches_done_total{instance=\"sink/$k\",result=\"failed\"}")"
done
sent=$(m 'xtcpd_sink_batches_queued_total{instance="sink/nosuch"}')
expect_eq "nosuch: 404 counted once per batch, no retry" "$sent 0" \
	"$(m 'xtcpd_sink_failed_total{instance="sink/nosuch",reason="http_4xx"}') $(m 'xtcpd_sink_retried_total{instance="sink/nosuch"}')"
expect_eq "nosuch: ClickHouse's first line, logged once" \
	"xtcpd: warning: sink/nosuch: POST http://$CH_HTTP/: HTTP 404 (attempt 1): Code: 60, e.displayText() = DB::Exception: Table xtcp.nosuch doesn't exist., e.what() = DB::Exception" \
	"$(grep 'sink/nosuch: POST' "$TMP/xtcpd.log")"
sent=$(m 'xtcpd_sink_batches_queued_total{instance="sink/narrow"}')
expect_eq "narrow: 500 retried twice per batch" "$((3 * sent)) $((2 * sent))" \
	"$(m 'xtcpd_sink_failed_total{instance="sink/narrow",reason="http_5xx"}') $(m 'xtcpd_sink_retried_total{instance="sink/narrow"}')"
expect_eq "narrow: ClickHouse's first line" \
	"xtcpd: warning: sink/narrow: POST http://$CH_HTTP/: HTTP 500 (attempt 1): Code: 117, e.displayText() = DB::Exception: Unknown field found while parsing JSONEachRow format: daemon_version: (at row 1)" \
	"$(grep 'sink/narrow: POST' "$TMP/xtcpd.log" | head -1)"
expect_eq "narrow: nothing inserted" 0 "$(ch "SELECT count() FROM xtcp.narrow")"
stop_pid $CH_PID

# 3. protobufList over http and https to the test's protoc-decoding server.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	2> "$TMP/openssl.log" || { cat "$TMP/openssl.log"; exit 1; }
for s in plain tls; do
	mkdir "$TMP/$s"
	if [ $s = tls ]; then
		$PY "$XTCPD_SRCDIR/tests/plugins/sinks/http_receiver.py" "$PROTO_DIR" "$TMP/$s" "$TMP/$s.port" \
			"$TMP/cert.pem" "$TMP/key.pem" &
	else
		$PY "$XTCPD_SRCDIR/tests/plugins/sinks/http_receiver.py" "$PROTO_DIR" "$TMP/$s" "$TMP/$s.port" &
	fi
	on_exit "kill $!"
	wait_for 100 test -s "$TMP/$s.port" || { echo "http_receiver did not start"; exit 1; }
done
PROM=127.0.0.1:$(free_port)
# (frequency 5 s: protoc per POST is slow; the quiet snapshot needs every sink drained
# well before the next cycle.)
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
quiet_snapshot "$TMP/snap" raw || { cat "$TMP/xtcpd.log"; exit 1; }
daemon_stop
expect_eq "protobufList: exit status" 0 "$DRC"
gen_pb2
emitted=$(m 'xtcpd_records_emitted_total{instance="source/synth"}')
for s in plain tls; do
	sent=$(m "xtcpd_sink_batches_queued_total{instance=\"sink/$s\"}")
	expect_eq "$s: every record delivered" "$sent $emitted" \
		"$(m "xtcpd_sink_batches_done_total{instance=\"sink/$s\",result=\"delivered\"}") $(m "xtcpd_sink_records_done_total{instance=\"sink/$s\",result=\"delivered\"}")"
	expect_eq "$s: every POST decoded by protoc, $emitted rows" "200 $sent $emitted" \
		"$(awk '$3 != "/raw" { s[$1]++; r += $2 } END { for (k in s) printf "%s %d ", k, s[k]; print r }' "$TMP/$s/requests")"
	$PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --dir "$TMP/$s" > "$TMP/$s.sum"
	expect_eq "$s: decoded by python too" "messages $sent rows $emitted dups 0 cycles $(m xtcpd_poll_cycles_total)" \
		"$(cat "$TMP/$s.sum")"
done
expect_eq "plain: path, the marshaller's Content-Type, the extra header" \
	"/ingest?x=1 application/octet-stream Bearer t0ken" \
	"$(awk '$3 != "/raw" { print $3, $4, $5, $6 }' "$TMP/plain/requests" | sort -u)"
expect_eq "tls: path and Content-Type" "/ingest application/octet-stream None" \
	"$(awk '{ print $3, $4, $5 }' "$TMP/tls/requests" | sort -u)"
# json: the marshaller's own type reaches the header (ABI 1.4 host->content_type)
expect_eq "raw: every json line, labelled by the json marshaller" \
	"$(m 'xtcpd_sink_batches_queued_total{instance="sink/raw"}') $emitted /raw application/x-ndjson" \
	"$(awk '$3 == "/raw" { n++; r += $2; t = $3 " " $4 } END { print n, r, t }' "$TMP/plain/requests")"
finish
