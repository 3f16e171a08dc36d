# tests/plugins/sinks/e2e_lib.sh — helpers for the end-to-end tests (sourced after
# tests/lib/lib.sh): the mock Kafka cluster as a child process, the daemon with its metrics
# endpoint, metric reads (a missing series fails), and a snapshot of the metrics at a
# cycle boundary to compare with the records it covers.
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
	wait_for 300 test -s "$TMP/mc.out"
	BS=$(head -1 "$TMP/mc.out")
	[ -n "$BS" ] || { echo "mock cluster did not start"; cat "$TMP/mc.err"; exit 1; }
}

# mc CMD...: send a command and wait for its answer.
mc() {
	_n=$(wc -l < "$TMP/mc.out")
	echo "$*" >&7
	wait_for 300 eval '[ "$(wc -l < "$TMP/mc.out")" -gt "$_n" ]'
	[ "$(tail -1 "$TMP/mc.out")" = ok ] || { echo "mock cluster: $* -> $(tail -1 "$TMP/mc.out")"; exit 1; }
}

# daemon_start CONF: run xtcpd in the background (PID in DPID, log in $TMP/xtcpd.log),
# return once its endpoint ($PROM) answers.
daemon_start() {
	"$XTCPD" -c "$1" -C "$TMP/none" 2> "$TMP/xtcpd.log" &
	DPID=$!
	kill_on_exit $DPID
	wait_for 600 eval 'curl -sf "http://$PROM/metrics" > /dev/null || ! kill -0 $DPID 2>/dev/null'
}

# daemon_stop: SIGTERM, and DRC = its exit status.
daemon_stop() {
	stop $DPID
	DRC=$STOP_RC
}

# scrape FILE: the metrics text into FILE.
scrape() { curl -sf "http://$PROM/metrics" > "$1"; }

# metric FILE NAME{LABELS}: one value from a scrape. A series that is not there fails
# the test (a renamed metric must not read as 0) and prints "#missing", which no
# comparison, test or arithmetic accepts.
metric() {
	awk -v k="$2" '$1 == k { v = $2; n++ } END { if (n) printf "%d\n", v; else exit 1 }' "$1" && return 0
	fail "metric $2 is not in $1" > /dev/null 2>&1
	echo "metric $2 is not in $1" >&2
	echo "#missing"
	return 1
}
# metric_or FILE NAME{LABELS} DEFAULT: the same, DEFAULT when absent (while waiting for
# a series to appear; never for what a test asserts).
metric_or() {
	awk -v k="$2" -v d="$3" '$1 == k { v = $2; n++ } END { if (n) printf "%d\n", v; else print d }' "$1"
}

# wait_metric NAME{LABELS} MIN [TRIES]: until the metric reaches MIN (0.1 s per try; the
# bound is a deadlock guard, not a timing the test relies on).
_metric_at_least() { scrape "$TMP/m.wait" && [ "$(metric_or "$TMP/m.wait" "$1" -1)" -ge "$2" ]; }
wait_metric() {
	wait_for "${3:-600}" _metric_at_least "$1" "$2" && return 0
	echo "timeout waiting for $1 >= $2 (last $(metric_or "$TMP/m.wait" "$1" absent))"
	return 1
}

# quiet_snapshot FILE SINK PER_CYCLE: an instant of the metrics at a cycle boundary,
# with everything SINK was given done. Two scrapes in a row that are equal (but for the
# process figures) show one instant between them, since counters only grow; it is kept
# when the records emitted are exactly cycles x PER_CYCLE (no cycle under way) and SINK
# has no batch queued or in flight. The daemon polls on: compare a snapshot only with
# the records it covers, those numbered (record_counter) up to its records emitted:
# `decode_pbl.py --upto`, `per_cycle FILE UPTO`. PER_CYCLE "-" (the records of a cycle
# change, as across a reload): the equal scrapes alone say no cycle was under way.
quiet_snapshot() {
	_sink="plugin=\"sink/$2\""
	_tries=0
	while [ $_tries -lt 1200 ]; do
		_tries=$((_tries + 1))
		scrape "$TMP/q1" && scrape "$TMP/q2" || return 1
		if [ "$(grep -v '^xtcpd_process\|^xtcpd_thread_cpu\|^#' "$TMP/q1")" = "$(grep -v '^xtcpd_process\|^xtcpd_thread_cpu\|^#' "$TMP/q2")" ]; then
			_c=$(metric_or "$TMP/q2" xtcpd_poll_cycles_total 0)
			_e=$(awk '$1 ~ /^xtcpd_records_emitted_total[{]/ { s += $2 } END { print s + 0 }' "$TMP/q2")
			_s=$(metric_or "$TMP/q2" "xtcpd_sink_batches_queued_total{$_sink}" -1)
			_d=$(metric_or "$TMP/q2" "xtcpd_sink_batches_done_total{$_sink,result=\"delivered\"}" 0)
			_x=$(metric_or "$TMP/q2" "xtcpd_sink_batches_done_total{$_sink,result=\"failed\"}" 0)
			_q=$(metric_or "$TMP/q2" "xtcpd_sink_queue_depth{$_sink}" -1)
			if [ "$_c" -ge 1 ] && { [ "$3" = - ] || [ "$_e" = $((_c * $3)) ]; } && [ "$_s" = $((_d + _x)) ] && [ "$_q" = 0 ]; then
				cp "$TMP/q2" "$1"
				return 0
			fi
		fi
		sleep 0.05
	done
	echo "no quiet snapshot of sink/$2 in 1200 tries (last: cycles $_c, emitted $_e, queued $_s, done $_d + $_x, depth $_q)"
	return 1
}

# per_cycle FILE... [--upto N]: records per cycle (cycles in time order) of json lines,
# only those numbered up to N with --upto; any line that is not a JSON object fails.
per_cycle() {
	$PY -c '
import json, sys
args, upto = sys.argv[1:], None
if "--upto" in args:
    i = args.index("--upto"); upto = int(args[i + 1]); del args[i:i + 2]
counts = {}
for f in args:
    for line in open(f):
        r = json.loads(line)
        if upto is None or r["record_counter"] <= upto:
            counts[r["timestamp_ns"]] = counts.get(r["timestamp_ns"], 0) + 1
print(" ".join(str(counts[t]) for t in sorted(counts)))' "$@"
}

# repeat N WORD: "WORD WORD ... WORD" (N times; empty for 0)
repeat() { _i=0; _o=; while [ $_i -lt "$1" ]; do _o="$_o $2"; _i=$((_i + 1)); done; echo "${_o# }"; }

# Python modules for the wire schema, generated here.
gen_pb2() {
	protoc --proto_path="$PROTO_DIR" --python_out="$TMP" "$PROTO_DIR/xtcp_flat_record.proto"
}
