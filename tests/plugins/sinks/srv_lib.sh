# tests/plugins/sinks/srv_lib.sh — real servers for the sink end-to-end tests (sourced after
# tests/lib/lib.sh and e2e_lib.sh): Debian's clickhouse-server, nats-server and redis-server,
# each started here on loopback with a free port and a data folder inside $TMP, and
# stopped by its PID; and what the tests of several sinks at once compare.

# nats_start [PORT]: nats-server with JetStream, store in $TMP/nats; sets NATS_PORT,
# NATS_URL, NATS_PID. The same PORT again restarts it on the same store.
nats_start() {
	NATS_PORT=${1:-$(free_port)}
	NATS_URL=nats://127.0.0.1:$NATS_PORT
	NATS_STARTS=$((${NATS_STARTS:-0} + 1))
	NATS_LOG=$TMP/nats/server.$NATS_STARTS.log
	mkdir -p "$TMP/nats"
	nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$TMP/nats/js" -l "$NATS_LOG" &
	NATS_PID=$!
	kill_on_exit $NATS_PID
	wait_for 300 grep -q "Server is ready" "$NATS_LOG" ||
		{ echo "nats-server did not start"; tail "$NATS_LOG"; exit 1; }
}

# redis_start [PORT]: redis-server without persistence, folder $TMP/redis; sets
# REDIS_PORT, REDIS_PID.
_redis_up() { redis-cli -p "$REDIS_PORT" ping > /dev/null 2>&1; }
redis_start() {
	REDIS_PORT=${1:-$(free_port)}
	mkdir -p "$TMP/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP/redis" --save '' \
		--appendonly no --daemonize no --logfile "$TMP/redis/server.log" &
	REDIS_PID=$!
	kill_on_exit $REDIS_PID
	wait_for 300 _redis_up ||
		{ echo "redis-server did not start"; tail "$TMP/redis/server.log"; exit 1; }
}

# ch_start: clickhouse-server with its own config, data and log folders in $TMP/ch, HTTP
# and native ports free; sets CH_HTTP (host:port), CH_PID.
_ch_up() { curl -sf "http://$CH_HTTP/ping" > /dev/null 2>&1; }
ch_start() {
	CH=$TMP/ch
	mkdir -p "$CH"
	CH_HTTP=127.0.0.1:$(free_port)
	cat > "$CH/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/server.log</log><errorlog>$CH/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${CH_HTTP#*:}</http_port>
  <tcp_port>$(free_port)</tcp_port>
  <path>$CH/data/</path>
  <tmp_path>$CH/tmp/</tmp_path>
  <user_files_path>$CH/user_files/</user_files_path>
  <format_schema_path>$CH/format_schemas/</format_schema_path>
  <users_config>$CH/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
	cat > "$CH/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
	clickhouse-server --config-file="$CH/config.xml" > "$CH/stdout.log" 2>&1 &
	CH_PID=$!
	kill_on_exit $CH_PID
	# a loaded machine takes a while to start it: a deadlock guard of 2 minutes
	wait_for 1200 _ch_up ||
		{ echo "clickhouse-server did not start"; tail "$CH/stdout.log" "$CH/error.log"; exit 1; }
}

# ch SQL: run one query over HTTP (64-bit integers unquoted in JSON output).
ch() {
	curl -sS --fail-with-body "http://$CH_HTTP/?output_format_json_quote_64bit_integers=0" \
		--data-binary "$1"
}

# quiet_all FILE PER_CYCLE SINK...: quiet_snapshot FILE SINK1 PER_CYCLE, kept only when
# every other SINK is also done with everything it was given (queued == delivered +
# failed, queue empty) in that same snapshot.
_sink_idle() {
	_i="plugin=\"sink/$2\""
	[ "$(metric_or "$1" "xtcpd_sink_batches_queued_total{$_i}" -1)" = \
	  $(($(metric_or "$1" "xtcpd_sink_batches_done_total{$_i,result=\"delivered\"}" 0) + \
	     $(metric_or "$1" "xtcpd_sink_batches_done_total{$_i,result=\"failed\"}" 0))) ] &&
	[ "$(metric_or "$1" "xtcpd_sink_queue_depth{$_i}" -1)" = 0 ]
}
quiet_all() {
	_file=$1 _per=$2 _first=$3
	shift 3
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		quiet_snapshot "$_file" "$_first" "$_per" || return 1
		_ok=1
		for _s in "$@"; do _sink_idle "$_file" "$_s" || _ok=0; done
		[ $_ok = 1 ] && return 0
		sleep 0.2
	done
	echo "no snapshot with sinks $_first $* all idle"
	return 1
}

# in_send SINK: the sink is inside send() with one batch (taken from its queue, not
# done): queued - delivered - failed - queue depth == 1.
in_send() {
	scrape "$TMP/m.send" || return 1
	_i="plugin=\"sink/$1\""
	[ $(($(metric_or "$TMP/m.send" "xtcpd_sink_batches_queued_total{$_i}" 0) - \
	     $(metric_or "$TMP/m.send" "xtcpd_sink_batches_done_total{$_i,result=\"delivered\"}" 0) - \
	     $(metric_or "$TMP/m.send" "xtcpd_sink_batches_done_total{$_i,result=\"failed\"}" 0) - \
	     $(metric_or "$TMP/m.send" "xtcpd_sink_queue_depth{$_i}" 0))) = 1 ]
}

# covered DIR UPTO: "messages M bytes B" of the protobufList messages in DIR (one per
# *.bin file) whose records are numbered (record_counter) up to UPTO: those a snapshot
# with UPTO records emitted covers. Needs gen_pb2 first.
covered() {
	$PY - "$TMP" "$1" "$2" <<'EOF'
import glob, os, sys
sys.path.insert(0, sys.argv[1])
import xtcp_flat_record_pb2 as pb
n = size = 0
for f in sorted(glob.glob(os.path.join(sys.argv[2], "*.bin"))):
    m = open(f, "rb").read()
    i = 0
    while m[i] & 0x80:
        i += 1
    env = pb.Envelope.FromString(m[i + 1:])
    if env.row and env.row[0].record_counter <= int(sys.argv[3]):
        n, size = n + 1, size + len(m)
print("messages %d bytes %d" % (n, size))
EOF
}
