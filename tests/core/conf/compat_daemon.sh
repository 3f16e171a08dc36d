#!/bin/sh
# compat_daemon.sh — xtcp2's spellings reach the right configuration keys of the real
# daemon: each valid one passes `xtcpd -n`, and each out-of-range one is refused naming
# the xtcpd key it was mapped to (so the mapping target is a real key, checked by the
# daemon's own validation, not only by test_compat's string comparison).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
X=$XTCPD
S=$XTCPD_SRCDIR
need_plugin source_netlink source_io_uring marshaller_json marshaller_protobufList marshaller_protoJson \
	sink_file sink_udp sink_null
L=$(printf 'x%.0s' $(seq 256))

run() { # expected-status expected-output xtcp2-args...
	want_rc=$1 want=$2
	shift 2
	got=$("$X" -c "$S/xtcpd.conf" -C "$S/conf.d" -n "$@" 2>&1)
	rc=$?
	expect_eq "$(echo "$*" | cut -c1-100)" "$want_rc: $want" "$rc: $got"
}
OK="configuration OK"
E="xtcpd: command line:"

run 0 "$OK" -frequency 30s -timeout 5s -maxLoops 3 -netlinkers 8 -deserializers info,cong \
	-hostname h1 -label l -tag t -location fra1 -promListen 127.0.0.1:0
run 0 "$OK" --frequency=1m30s --timeout=1.5s -ioUring -ioUringRecvBatch 256 -ioUringCqeBatch=512 -netlinkers 2
run 0 "$OK" -d
run 0 "$OK" -d=0
run 0 "$OK" -dest udp:127.0.0.1:9 -marshal jsonl -envelopeFlushRows 100 -envelopeFlushBytes 65536
run 0 "$OK" -dest stdout -marshal protoJson
run 0 "$OK" -dest null -envelopeFlushRows 0
# -marshal alone: the shipped configuration (json into stdout) stays, flush rows set on it
run 0 "xtcpd: warning: ignoring xtcp2 option -marshal without -dest: the configured marshallers and sinks are used
$OK" -marshal json -envelopeFlushRows 500
run 0 "xtcpd: warning: ignoring xtcp2 option -goMaxProcs: use -o core.cpus=LIST to confine xtcpd's threads, -o core.max_threads=N to cap them
$OK" -goMaxProcs 4

run 2 "$E [core] frequency: '1ms' is out of range (allowed: 100ms..86400000ms)" -frequency 1ms
run 2 "$E [core] timeout: 1h must be below frequency = 10s (10000 ms)" -timeout=1h
run 2 "$E [core] max_loops: '99999999999999999999' is not an integer (allowed: 0..9223372036854775807)" \
	-maxLoops 99999999999999999999
run 2 "$E [source netlink] netlinkers: '65' is out of range (allowed: 1..64)" -netlinkers 65
run 2 "$E [source netlink] deserializers: 'bogus' is not allowed in the list (allowed: meminfo|info|vegas|cong|tos|tc|skmem|shut|dctcp|bbr|classid|cgroup|sockopt|mark|all|default)" \
	--deserializers=bogus
for k in hostname label tag location; do
	run 2 "$E [core] $k: value is 256 characters long (allowed: up to 255 characters)" -$k "$L"
done
run 2 "$E [core] prom_listen: value is 256 characters long (allowed: up to 255 characters)" \
	-promListen "$L"
run 2 "$E [source io_uring] recv_batch: '5000' is out of range (allowed: 1..4096)" -ioUring -ioUringRecvBatch 5000
run 2 "$E [source io_uring] cqe_batch: '0' is out of range (allowed: 1..4096)" -ioUringCqeBatch 0 -ioUring
run 0 "xtcpd: warning: ignoring xtcp2 option -ioUringRecvBatch: it applies with -ioUring only
$OK" -ioUringRecvBatch 256
run 2 "$E [marshaller json] flush_rows: '10000001' is out of range (allowed: 1..10000000)" \
	-dest udp:127.0.0.1:9 -marshal json -envelopeFlushRows 10000001
run 2 "$E [marshaller protobufList] flush_bytes: '100' is out of range (allowed: 1024..268435456 bytes)" \
	-envelopeFlushBytes=100 -dest null
run 2 "$E --dest 'amqp:x' is not allowed (use kafka:HOST:PORT, udp:HOST:PORT, tcp:HOST:PORT, unix:PATH, unixgram:PATH, file:PATH, stdout, stderr, null, http://HOST[:PORT]/PATH, https://HOST[:PORT]/PATH, nats:HOST:PORT or valkey:HOST:PORT)" \
	-dest amqp:x
run 2 "$E --dest 'nsq:127.0.0.1:4150': xtcpd has no nsq sink: there is no maintained C client library for NSQ" \
	-dest nsq:127.0.0.1:4150
run 2 "$E --dest 's3parquet:x': xtcpd has no s3parquet sink: no C library that writes Parquet is packaged in Debian" \
	-dest s3parquet:x
run 2 "$E --marshal 'msgpack' is not allowed (allowed: protobufList|protoJson|jsonl|protoText|json|csv|tsv)" \
	-dest null -marshal msgpack
# xtcp2's text formats and local/stream destinations, and -columns for csv/tsv
run 0 "$OK" -dest tcp:127.0.0.1:9000 -marshal csv -columns hostname,inetDiagMsgSocketSource,tcpInfoRtt
run 0 "$OK" -dest unix:/run/xtcpd-collector.sock -marshal tsv -columns netns
run 0 "$OK" -dest unixgram:/run/xtcpd-collector.sock -marshal protoText
run 0 "$OK" -dest stderr -marshal csv
run 2 "$E [marshaller csv] columns: 'tcpInfoRTT' is not allowed in the list (allowed: all|schemaVersion|daemonVersion|timestampNs|hostname|location|netns|netnsInode|nsid|containerId|containerRuntime|containerName|containerImage|label|tag|...)" \
	-dest stderr -marshal csv -columns hostname,tcpInfoRTT
run 0 "xtcpd: warning: ignoring xtcp2 option -columns: it picks the columns of -dest with -marshal csv or tsv
$OK" -dest stdout -marshal json -columns hostname
run 2 "xtcpd: xtcp2 option -netlinkers: \"four\" is not a whole number" -netlinkers four
if have_plugin sink_kafka; then
	run 0 "$OK" -dest kafka:127.0.0.1:9092 -topic xtcp -marshal protobufList
else
	skip_part "no sink_kafka.so (configure --enable-kafka=yes): -topic not checked against the daemon"
fi
# -topic and -produceTimeout follow the destination to its sink's key (checked by the
# daemon's own validation: out of range values name the key they landed in).
if have_plugin sink_http; then
	run 0 "$OK" -dest 'http://127.0.0.1:8123/?query=INSERT' -marshal jsonl -produceTimeout 5s
	# xtcp2's jsonl: protoJson one record a line, posted as application/x-ndjson
	expect_eq "-marshal jsonl: protoJson's layout and the http Content-Type" \
		"[marshaller protoJson]
layout = jsonl ; from command line
marshaller = protoJson ; from command line
content_type = application/x-ndjson ; from command line" \
		"$("$X" -c "$S/xtcpd.conf" -C "$S/conf.d" --print-config \
			-dest 'http://127.0.0.1:8123/?query=INSERT' -marshal jsonl 2>&1 |
			grep -E '^\[marshaller|^(layout|marshaller|content_type) =')"
	run 2 "$E [sink http] timeout: '50ms' is out of range (allowed: 100ms..600000ms)" \
		-dest https://127.0.0.1:8443/ -produceTimeout 50ms
else
	skip_part "no sink_http.so: -dest http:// not checked against the daemon"
fi
if have_plugin sink_nats; then
	run 0 "$OK" -dest nats:127.0.0.1:4222 -topic xtcp -marshal protobufList
	run 2 "$E [sink nats] subject: value is 256 characters long (allowed: up to 255 characters)" \
		-dest nats:127.0.0.1:4222 -topic "$L"
else
	skip_part "no sink_nats.so: -dest nats: not checked against the daemon"
fi
if have_plugin sink_valkey; then
	run 0 "$OK" -dest valkey:127.0.0.1:6379 -topic xtcp -marshal protobufList
else
	skip_part "no sink_valkey.so: -dest valkey: not checked against the daemon"
fi
finish
