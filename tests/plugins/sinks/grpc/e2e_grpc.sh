#!/bin/sh
# e2e_grpc — the grpc sink under the daemon, driven by Python gRPC clients (stubs made here
# from the plugin's protos): FlatRecords gets every record of N polls exactly once, byte
# for byte the rows the file sink wrote; PollFlatRecords a poll per request; TriggerPoll
# coalesced with a running poll; a burst of 5 at 1 s is 5 polls; SetPollFrequency moves
# the schedule; Set refused with the check's message keeps the old configuration, a good
# one is applied in place; control = false and a token refuse (counted); health follows
# /readyz; a stalled subscriber is dropped (counted) while the file sink gets every record;
# and inside a test namespace, with the netlink source, every record of 3 polls once.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin sink_grpc source_synth source_stall marshaller_protobufList sink_file source_netlink
need_cmd curl:curl openssl:openssl
need_python grpc:python3-grpcio grpc_tools:python3-grpc-tools google.protobuf:python3-protobuf
GDIR="$XTCPD_SRCDIR/plugins/sinks/grpc"
mkdir "$TMP/pb"
$PY -m grpc_tools.protoc -I"$PROTO_DIR" -I"$GDIR" --python_out="$TMP/pb" --grpc_python_out="$TMP/pb" \
	"$PROTO_DIR/xtcp_flat_record.proto" "$GDIR/xtcp_flat_record_service.proto" \
	"$GDIR/xtcp_config.proto" "$GDIR/health.proto" || { fail "stubs"; finish; exit; }
CLIENT="$XTCPD_SRCDIR/tests/plugins/sinks/grpc/grpc_client.py"
gc() { _port=$1; shift; $PY "$CLIENT" "$TMP/pb" "127.0.0.1:$_port" "$@"; }
m() { metric "$TMP/s" "$1"; }
cycles() { scrape "$TMP/c" && metric "$TMP/c" xtcpd_poll_cycles_total; }

# 0. The check (xtcpd -n) refuses what create() could not take.
bad() {
	printf '[core]\nnetns = host\n[source synth]\n[marshaller protobufList]\n[sink grpc]\nmarshaller = protobufList\n%s\n' "$1" > "$TMP/bad.conf"
	"$XTCPD" -c "$TMP/bad.conf" -C "$TMP/none" -n 2>&1
	echo "exit $?"
}
expect_eq "check: address" "xtcpd: $TMP/bad.conf:7: [sink grpc] address: 'localhost' is not an IPv4 or IPv6 address
exit 2" "$(bad "address = localhost")"
expect_eq "check: TLS pair" "xtcpd: $TMP/bad.conf:5: [sink grpc] tls_key: tls_cert and tls_key go together
exit 2" "$(bad "tls_cert = /etc/hostname")"
expect_eq "check: unreadable key" "xtcpd: $TMP/bad.conf:8: [sink grpc] tls_key: $TMP/nosuch.pem: cannot read: No such file or directory
exit 2" "$(bad "tls_cert = /etc/hostname
tls_key = $TMP/nosuch.pem")"

# 1. One daemon, four grpc instances: the main one, one with control off (and one
# subscriber at most), one with a token, one with TLS. Polls only when asked (frequency
# 1h; the first cycle at start).
PROM=127.0.0.1:$(free_port)
G=$(free_port) RO=$(free_port) TOK=$(free_port) TLS=$(free_port)
OUT=$TMP/out.pbl
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2> /dev/null ||
	fail "openssl: a self-signed certificate"
cat > "$TMP/x.conf" <<CONF
[core]
frequency = 1h
poll_jitter_pct = 0
prom_listen = $PROM
netns = host
[source synth]
records = 100
[marshaller protobufList]
flush_rows = 30
[sink file out]
marshaller = protobufList
path = $OUT
[sink grpc]
marshaller = protobufList
port = $G
[sink grpc ro]
marshaller = protobufList
port = $RO
control = false
max_subscribers = 1
[sink grpc tok]
marshaller = protobufList
port = $TOK
token = s3cret
[sink grpc tls]
marshaller = protobufList
port = $TLS
tls_cert = $TMP/cert.pem
tls_key = $TMP/key.pem
CONF
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 1 || { cat "$TMP/xtcpd.log"; finish; exit; }
expect_eq "health after the first poll" SERVING "$(gc $G health)"
expect_eq "health of a served service" SERVING "$(gc $G health xtcp_config.v1.ConfigService)"
expect_eq "health of another service" "error NOT_FOUND: unknown service" "$(gc $G health nosuch.Service)"

# FlatRecords: 3 polls asked for while subscribed, each of its 300 records once.
gc $G stream "$TMP/g.hex" 300 60 > "$TMP/g.res" &
SPID=$!
kill_on_exit $SPID
wait_for 300 test -e "$TMP/g.hex.ready"
wait_metric 'xtcpd_grpc_subscribers{plugin="sink/grpc"}' 1 || fail "no subscriber"
for i in 1 2 3; do
	c=$(cycles)
	expect_eq "trigger poll $i" ok "$(gc $G trigger)"
	wait_metric xtcpd_poll_cycles_total $((c + 1)) || fail "poll $i did not run"
done
wait $SPID
expect_eq "stream: records" "records 300" "$(cat "$TMP/g.res")"
expect_eq "stream: the file sink's rows of those 3 polls, each exactly once, same bytes" \
	"grpc 300 dups 0 notinfile 0 missed 0 cycles 3" "$(gc $G compare "$OUT" "$TMP/g.hex" 1)"

# PollFlatRecords: each request brings back its poll's records, and only those.
expect_eq "PollFlatRecords: a poll per request" "poll 1 records 100 cycles 1
poll 2 records 100 cycles 1" "$(gc $G poll 2 20)"

# A burst of 5 at 1 s: 5 polls, one burst at a time, ranges checked.
c=$(cycles)
expect_eq "burst: accepted" "ok count 5 interval_s 1" "$(gc $G burst 5 1000)"
expect_eq "burst: one at a time" "error FAILED_PRECONDITION: a burst is running: one at a time" \
	"$(gc $G burst 2 1000)"
expect_eq "burst: count range" \
	"error INVALID_ARGUMENT: count 1001 / interval 1000 ms refused: count 1..1000, interval 1s..1h" \
	"$(gc $G burst 1001 1000)"
expect_eq "burst: interval range" \
	"error INVALID_ARGUMENT: count 5 / interval 999 ms refused: count 1..1000, interval 1s..1h" \
	"$(gc $G burst 5 999)"
wait_metric 'xtcpd_control_polls_total{reason="burst"}' 5 || fail "burst: 5 polls"
sleep 1.5  # a sixth would be due by now
scrape "$TMP/s"
expect_eq "burst: exactly 5 polls" $((c + 5)) "$(m xtcpd_poll_cycles_total)"
expect_eq "burst: counted" 1 "$(m 'xtcpd_control_requests_total{request="burst",result="started"}')"
expect_eq "burst: busy counted" 1 "$(m 'xtcpd_control_requests_total{request="burst",result="busy"}')"
expect_eq "burst: invalid counted" 2 "$(m 'xtcpd_control_requests_total{request="burst",result="invalid"}')"

# Set: a configuration the core's check refuses comes back with its message; nothing
# changes. A good one is applied in place (every instance kept).
gc $G set poll_frequency=1000 poll_timeout=5000 > "$TMP/set.out"
expect_ok "Set refused: the check's message ($(cat "$TMP/set.out"))" grep -qxE \
	"error INVALID_ARGUMENT: control service:[0-9]+: \[core\] timeout: 5000ms must be below frequency = 1000ms \(1000 ms\)" \
	"$TMP/set.out"
expect_eq "Set refused: old configuration kept" \
	"ok frequency_ms 3600000 timeout_ms 3240000 jitter 0 max_loops 0 tag - label - grpc_port $G" \
	"$(gc $G get)"
expect_eq "Set applied" \
	"ok frequency_ms 3600000 timeout_ms 3240000 jitter 0 max_loops 0 tag INC-1234 label - grpc_port $G" \
	"$(gc $G set tag=INC-1234)"
expect_ok "Set: every instance kept" grep -q "control service: configuration reloaded: 7 instances kept, 0 new, 0 retired" "$TMP/xtcpd.log"
expect_ok "Set: the refusal logged" grep -q "control service: new configuration refused, keeping the running one" "$TMP/xtcpd.log"

# control = false: ConfigService refused, the record stream served.
expect_eq "control off: Get refused" \
	"error PERMISSION_DENIED: control is off on this server (sink grpc: control = false)" "$(gc $RO get)"
expect_eq "control off: PollFlatRecords refused" \
	"error PERMISSION_DENIED: control is off on this server (sink grpc: control = false)" "$(gc $RO poll 1 5)"
# a token: refused without it or with another one, served with it
expect_eq "token: none" \
	"error UNAUTHENTICATED: a bearer token is required (authorization: Bearer TOKEN)" "$(gc $TOK get)"
expect_eq "token: wrong" \
	"error UNAUTHENTICATED: a bearer token is required (authorization: Bearer TOKEN)" \
	"$(gc $TOK --token nope get)"
expect_eq "token: right" \
	"ok frequency_ms 3600000 timeout_ms 3240000 jitter 0 max_loops 0 tag INC-1234 label - grpc_port $TOK" \
	"$(gc $TOK --token s3cret get)"
expect_eq "token: the health check needs none" SERVING "$(gc $TOK health)"
# TLS: served to a client that trusts the certificate, not in plain text
expect_eq "tls: Get" \
	"ok frequency_ms 3600000 timeout_ms 3240000 jitter 0 max_loops 0 tag INC-1234 label - grpc_port $TLS" \
	"$(gc $TLS --tls "$TMP/cert.pem" get)"
expect_ok "tls: plain text refused" sh -c "$PY '$CLIENT' '$TMP/pb' 127.0.0.1:$TLS health | grep -q '^error UNAVAILABLE'"
# max_subscribers = 1: a second record stream is refused while the first is open
gc $RO stall "$TMP/never" 60 > /dev/null &
HPID=$!
kill_on_exit $HPID
wait_metric 'xtcpd_grpc_subscribers{plugin="sink/ro"}' 1 || fail "ro: no subscriber"
expect_eq "max_subscribers: the second refused" "error RESOURCE_EXHAUSTED: too many subscribers (sink grpc: max_subscribers)
records 0" "$(gc $RO stream "$TMP/r2.hex" 1 10)"
kill $HPID; wait $HPID 2> /dev/null

# SetPollFrequency: the schedule moves at once (seen in /metrics).
expect_eq "SetPollFrequency" \
	"ok frequency_ms 500 timeout_ms 450 jitter 0 max_loops 0 tag INC-1234 label - grpc_port $G" \
	"$(gc $G setfreq 500 0)"
c=$(cycles)
scrape "$TMP/s"
expect_ok "SetPollFrequency: in /metrics" grep -qx "xtcpd_poll_frequency_seconds 0.500" "$TMP/s"
wait_metric xtcpd_poll_cycles_total $((c + 4)) || fail "SetPollFrequency: no cycles every 500 ms"
expect_eq "SetPollFrequency: out of range" \
	"error INVALID_ARGUMENT: poll_frequency 50 ms / poll_timeout 0 ms refused: frequency 100 ms..1 day, timeout below it (0 = 9/10 of it)" \
	"$(gc $G setfreq 50 0)"
scrape "$TMP/s"
expect_eq "refused: control off" 2 "$(m 'xtcpd_grpc_refused_total{plugin="sink/ro",reason="control_off"}')"
expect_eq "refused: no token" 2 "$(m 'xtcpd_grpc_refused_total{plugin="sink/tok",reason="unauthenticated"}')"
expect_eq "config requests refused" 1 "$(m 'xtcpd_control_requests_total{request="config",result="refused"}')"
expect_eq "config requests applied" 1 "$(m 'xtcpd_control_requests_total{request="config",result="applied"}')"
expect_eq "no record lost for the subscriber" 0 "$(m 'xtcpd_grpc_records_dropped_total{plugin="sink/grpc",reason="queue_full"}')"
expect_eq "refused: max_subscribers" 1 "$(m 'xtcpd_grpc_refused_total{plugin="sink/ro",reason="max_subscribers"}')"
# SIGHUP reads the files again (what Set and SetPollFrequency changed goes); a grpc
# section that changed is a new instance, built and listening beside the old one on the
# same port before the swap (SO_REUSEPORT), so the reload cannot fail on the port.
sed -i 's/^max_subscribers = 1$/max_subscribers = 2/' "$TMP/x.conf"
kill -HUP $DPID
wait_for 300 grep -q "SIGHUP: configuration reloaded" "$TMP/xtcpd.log"
expect_ok "SIGHUP: the changed grpc instance replaced" \
	grep -q "SIGHUP: configuration reloaded: 6 instances kept, 1 new, 1 retired" "$TMP/xtcpd.log"
expect_eq "SIGHUP: the files' configuration again" \
	"ok frequency_ms 3600000 timeout_ms 3240000 jitter 0 max_loops 0 tag - label - grpc_port $G" \
	"$(gc $G get)"
expect_eq "SIGHUP: the new instance serves its port" SERVING "$(gc $RO health)"
daemon_stop
expect_eq "exit status" 0 "$DRC"

# 2. TriggerPoll during a running poll is coalesced with it; health says NOT_SERVING until
# the first poll completes. The stall source holds cycle N until the file rel/N exists.
mkdir "$TMP/rel"
PROM=127.0.0.1:$(free_port)
G=$(free_port)
cat > "$TMP/y.conf" <<CONF
[core]
frequency = 1h
poll_jitter_pct = 0
prom_listen = $PROM
netns = host
[source stall]
stalls = 60000,60000
release = $TMP/rel
[marshaller protobufList]
[sink grpc]
marshaller = protobufList
port = $G
CONF
daemon_start "$TMP/y.conf"
wait_for 300 eval 'gc $G health > "$TMP/h" 2>&1 && [ -s "$TMP/h" ]'
expect_eq "health before the first poll completes" NOT_SERVING "$(cat "$TMP/h")"
touch "$TMP/rel/1"
wait_metric xtcpd_poll_cycles_total 1 || fail "cycle 1"
expect_eq "health after it" SERVING "$(gc $G health)"
expect_eq "trigger: a poll starts" ok "$(gc $G trigger)"
expect_eq "three more while it runs" "ok 3" "$(gc $G triggers 3)"
scrape "$TMP/s"
expect_eq "coalesced" 3 "$(m 'xtcpd_control_requests_total{request="poll",result="coalesced"}')"
expect_eq "started" 1 "$(m 'xtcpd_control_requests_total{request="poll",result="started"}')"
touch "$TMP/rel/2"
wait_metric xtcpd_poll_cycles_total 2 || fail "cycle 2"
sleep 0.5  # a coalesced trigger would have started a third by now
scrape "$TMP/s"
expect_eq "one poll for four triggers" 2 "$(m xtcpd_poll_cycles_total)"
expect_eq "polls run on request" 1 "$(m 'xtcpd_control_polls_total{reason="triggered"}')"
daemon_stop
expect_eq "stall daemon: exit status" 0 "$DRC"

# 3. A subscriber that stops reading: its queue (64 KiB) fills, records are dropped for
# it (counted), it is ended after stall_timeout; the file sink beside it gets every record.
PROM=127.0.0.1:$(free_port)
G=$(free_port)
OUT=$TMP/slow.pbl
cat > "$TMP/z.conf" <<CONF
[core]
frequency = 300ms
poll_jitter_pct = 0
prom_listen = $PROM
netns = host
[source synth]
records = 2000
[marshaller protobufList]
[sink file out]
marshaller = protobufList
path = $OUT
[sink grpc]
marshaller = protobufList
port = $G
subscriber_queue = 64KiB
stall_timeout = 1s
CONF
daemon_start "$TMP/z.conf"
gc $G stall "$TMP/go" 60 > "$TMP/stall.out" &
SPID=$!
kill_on_exit $SPID
wait_metric 'xtcpd_grpc_subscribers_dropped_total{plugin="sink/grpc",reason="stalled"}' 1 ||
	fail "the stalled subscriber was not dropped"
touch "$TMP/go"
wait $SPID
expect_eq "stalled: the client saw it ended" "open
ended RESOURCE_EXHAUSTED" "$(cat "$TMP/stall.out")"
quiet_snapshot "$TMP/q" out 2000 || fail "no quiet snapshot"
daemon_stop
gen_pb2
n=$(metric "$TMP/q" xtcpd_poll_cycles_total)
emitted=$(awk '$1 ~ /^xtcpd_records_emitted_total[{]/ { s += $2 } END { print s + 0 }' "$TMP/q")
expect_eq "stalled: the file sink got every record of $n cycles" "rows $((n * 2000)) dups 0" \
	"$($PY "$XTCPD_SRCDIR/tests/plugins/sinks/decode_pbl.py" "$TMP" --stream "$OUT" --upto "$emitted" | head -1 | awk '{ print $3, $4, $5, $6 }')"
expect_ok "stalled: records dropped for it" [ "$(metric "$TMP/q" 'xtcpd_grpc_records_dropped_total{plugin="sink/grpc",reason="queue_full"}')" -gt 0 ]
expect_eq "stalled: the file sink lost nothing" 0 \
	"$(metric "$TMP/q" 'xtcpd_sink_batches_dropped_total{plugin="sink/out",reason="queue_full"}')"
expect_eq "stalled: nor did the grpc sink's queue" 0 \
	"$(metric "$TMP/q" 'xtcpd_sink_batches_dropped_total{plugin="sink/grpc",reason="queue_full"}')"

# 4. Real sockets: the daemon and the client inside a test namespace (its own loopback),
# the netlink source collecting that namespace's sockets: the subscriber gets every record
# of 3 polls exactly once, the bytes the file sink wrote.
if [ "$(id -u)" != 0 ]; then
	skip_part "part 4 (a test namespace) needs root"
	finish
	exit
fi
NS=xtgrpc$$
private_netns "$NS" || { fail "a test namespace"; finish; exit; }
ip netns exec "$NS" /usr/bin/python3 "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 5000 "$TMP/socks" &
kill_on_exit $!
wait_for 300 test -e "$TMP/socks" || fail "socket maker not ready"
scrape() { ip netns exec "$NS" curl -sf "http://$PROM/metrics" > "$1"; }
gn() { _port=$1; shift; ip netns exec "$NS" $PY "$CLIENT" "$TMP/pb" "127.0.0.1:$_port" "$@"; }
PROM=127.0.0.1:$(free_port)
G=$(free_port)
OUT=$TMP/ns.pbl
cat > "$TMP/n.conf" <<CONF
[core]
frequency = 1h
poll_jitter_pct = 0
prom_listen = $PROM
netns = host
[source netlink]
[marshaller protobufList]
[sink file out]
marshaller = protobufList
path = $OUT
[sink grpc]
marshaller = protobufList
port = $G
CONF
ip netns exec "$NS" "$XTCPD" -c "$TMP/n.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log" &
DPID=$!
kill_on_exit $DPID
wait_metric xtcpd_poll_cycles_total 1 || { cat "$TMP/xtcpd.log"; finish; exit; }
gn $G stream "$TMP/n.hex" 0 120 > "$TMP/n.res" &
SPID=$!
kill_on_exit $SPID
wait_for 300 test -e "$TMP/n.hex.ready"
wait_metric 'xtcpd_grpc_subscribers{plugin="sink/grpc"}' 1 || fail "ns: no subscriber"
scrape "$TMP/s"
e1=$(m 'xtcpd_records_emitted_total{plugin="source/netlink"}')
for i in 1 2 3; do
	c=$(cycles)
	expect_eq "ns: trigger poll $i" ok "$(gn $G trigger)"
	wait_metric xtcpd_poll_cycles_total $((c + 1)) || fail "ns: poll $i did not run"
done
scrape "$TMP/s"
n=$(($(m 'xtcpd_records_emitted_total{plugin="source/netlink"}') - e1))
wait_metric 'xtcpd_grpc_records_sent_total{plugin="sink/grpc"}' "$n" || fail "ns: not all sent"
wait_metric 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}' $((n + e1)) ||
	fail "ns: the file sink is behind"
touch "$TMP/n.hex.stop"
wait $SPID
expect_ok "ns: records of the namespace's sockets ($n)" [ "$n" -ge 30 ]
expect_eq "ns: stream" "records $n" "$(cat "$TMP/n.res")"
expect_eq "ns: the file sink's rows of those 3 polls, each exactly once, same bytes" \
	"grpc $n dups 0 notinfile 0 missed 0 cycles 3" "$(gn $G compare "$OUT" "$TMP/n.hex" 1)"
stop $DPID
expect_eq "ns: exit status" 0 "$STOP_RC"
finish
