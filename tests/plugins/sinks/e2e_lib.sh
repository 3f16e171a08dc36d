# tests/plugins/sinks/e2e_lib.sh — helpers for the sink end-to-end tests (sourced after
# tests/lib/lib.sh): the mock Kafka cluster as a child process, the daemon with its metrics
# endpoint, metric reads, and a quiet moment between two cycles to read them in.
PY=/usr/bin/python3
PROTO_DIR="$XTCPD_SRCDIR/proto"
MOCK="$XTCPD_BUILDDIR/tests/plugins/sinks/kafka/mockcluster"
KCONSUME="$XTCPD_BUILDDIR/tests/plugins/sinks/kafka/kconsume"

# A free loopback TCP port (for prom_listen).
free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# mc_start: a 3-broker mock cluster with topic "xtcpd" (3 partitions); sets BS (bootstrap).
mc_start() {
	mkfifo "$TMP/mc.in"
	"$MOCK" -b 3 -t xtcpd -p 3 < "$TMP/mc.in" > "$TMP/mc.out" 2> "$TMP/mc.err" &
	MCPID=$!
	exec 7> "$TMP/mc.in"
	on_exit "kill $MCPID 2>/dev/null; wait $MCPID 2>/dev/null"
	i=0
	while [ ! -s "$TMP/mc.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	BS=$(head -1 "$TMP/mc.out")
	[ -n "$BS" ] || { echo "mock cluster did not start"; cat "$TMP/mc.err"; exit 1; }
}

# mc CMD...: send a command and wait for its answer.
mc() {
	n=$(wc -l < "$TMP/mc.out")
	echo "$*" >&7
	i=0
	while [ "$(wc -l < "$TMP/mc.out")" -le "$n" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(tail -1 "$TMP/mc.out")" = ok ] || { echo "mock cluster: $* -> $(tail -1 "$TMP/mc.out")"; exit 1; }
}

# daemon_start CONF: run xtcpd in the background (PID in DPID, log in $TMP/xtcpd.log).
daemon_start() {
	"$XTCPD" -c "$1" -C "$TMP/none" 2> "$TMP/xtcpd.log" &
	DPID=$!
	on_exit "kill $DPID 2>/dev/null; wait $DPID 2>/dev/null"
	i=0
	while ! curl -sf "http://$PROM/metrics" > /dev/null && [ $i -lt 100 ]; do
		kill -0 $DPID 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
}

daemon_stop() {
	kill -TERM $DPID
	wait $DPID
	DRC=$?
}

# scrape FILE: the metrics text into FILE.
scrape() { curl -sf "http://$PROM/metrics" > "$1"; }

# metric FILE NAME{LABELS}: one value from a scrape (0 when absent).
metric() {
	awk -v k="$2" '$1 == k { v = $2 } END { printf "%d\n", v + 0 }' "$1"
}

# wait_metric NAME{LABELS} MIN [TRIES]: until the metric reaches MIN (0.1 s per try).
wait_metric() {
	i=0
	while [ $i -lt "${3:-300}" ]; do
		scrape "$TMP/m.wait" && [ "$(metric "$TMP/m.wait" "$1")" -ge "$2" ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	echo "timeout waiting for $1 >= $2 (last $(metric "$TMP/m.wait" "$1"))"
	return 1
}

# quiet_snapshot FILE SINK: right after a cycle starts, wait until SINK has nothing in
# flight (sent == delivered + dropped, queue empty), then take two scrapes 0.3 s apart
# and keep them only if identical: a consistent picture, with the next cycle (frequency
# must be >= 2s) still well ahead so the caller can stop the daemon before it.
quiet_snapshot() {
	tries=0
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		scrape "$TMP/q0" || return 1
		c=$(metric "$TMP/q0" xtcpd_poll_cycles_total)
		wait_metric xtcpd_poll_cycles_total $((c + 1)) 100 || continue
		i=0 drained=no
		while [ $i -lt 20 ]; do
			scrape "$TMP/q1"
			s=$(metric "$TMP/q1" "xtcpd_sink_batches_queued_total{instance=\"sink/$2\"}")
			d=$(metric "$TMP/q1" "xtcpd_sink_batches_done_total{instance=\"sink/$2\",result=\"delivered\"}")
			x=$(metric "$TMP/q1" "xtcpd_sink_batches_done_total{instance=\"sink/$2\",result=\"failed\"}")
			q=$(metric "$TMP/q1" "xtcpd_sink_queue_depth{instance=\"sink/$2\"}")
			[ "$s" = $((d + x)) ] && [ "$q" = 0 ] && { drained=yes; break; }
			sleep 0.05; i=$((i + 1))
		done
		[ $drained = yes ] || continue      # still delivering: try after the next cycle
		sleep 0.3
		scrape "$TMP/q2"
		# Process figures (CPU, memory) move on their own: compare the rest.
		if [ "$(grep -v '^xtcpd_process\|^xtcpd_poll_duration\|^#' "$TMP/q1")" = \
		     "$(grep -v '^xtcpd_process\|^xtcpd_poll_duration\|^#' "$TMP/q2")" ]; then
			cp "$TMP/q2" "$1"
			return 0
		fi
	done
	echo "no quiet moment found"
	return 1
}

# Python modules for the wire schema, generated here.
gen_pb2() {
	protoc --proto_path="$PROTO_DIR" --python_out="$TMP" "$PROTO_DIR/xtcp_flat_record.proto"
}
