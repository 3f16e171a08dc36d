# tests/plugins/sinks/srv_lib.sh — real servers for the sink end-to-end tests (sourced after
# tests/lib.sh and e2e_lib.sh): Debian's clickhouse-server, nats-server and redis-server,
# each started here on loopback with a free port and a data folder inside $TMP, and
# stopped by its PID. A test that cannot run says why, and fails under CI=true.

# cannot_run WHY: skip (exit 77), or fail when CI=true.
cannot_run() {
	echo "SKIP: $*"
	[ "${CI:-}" = true ] && { echo "FAIL: CI=true and this test cannot run"; exit 1; }
	exit $SKIP
}

# wait_for TRIES CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	n=$1; shift
	i=0
	while ! "$@" > /dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge "$n" ] && return 1
		sleep 0.1
	done
}

# stop_pid PID [SIGNAL]: signal it and reap it.
stop_pid() {
	kill -"${2:-TERM}" "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}

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
	on_exit "kill $NATS_PID 2>/dev/null"
	wait_for 100 grep -q "Server is ready" "$NATS_LOG" ||
		{ echo "nats-server did not start"; tail "$NATS_LOG"; exit 1; }
}

# redis_start [PORT]: redis-server without persistence, folder $TMP/redis; sets
# REDIS_PORT, REDIS_PID.
redis_start() {
	REDIS_PORT=${1:-$(free_port)}
	mkdir -p "$TMP/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP/redis" --save '' \
		--appendonly no --daemonize no --logfile "$TMP/redis/server.log" &
	REDIS_PID=$!
	on_exit "kill $REDIS_PID 2>/dev/null"
	wait_for 100 redis-cli -p "$REDIS_PORT" ping ||
		{ echo "redis-server did not start"; tail "$TMP/redis/server.log"; exit 1; }
}

# ch_start: clickhouse-server with its own config, data and log folders in $TMP/ch, HTTP
# and native ports free; sets CH_HTTP (host:port), CH_PID.
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
	on_exit "kill $CH_PID 2>/dev/null; wait $CH_PID 2>/dev/null"
	wait_for 300 curl -sf "http://$CH_HTTP/ping" ||
		{ echo "clickhouse-server did not start"; tail "$CH/stdout.log" "$CH/error.log"; exit 1; }
}

# ch SQL: run one query over HTTP (64-bit integers unquoted in JSON output).
ch() {
	curl -sS --fail-with-body "http://$CH_HTTP/?output_format_json_quote_64bit_integers=0" \
		--data-binary "$1"
}
