#!/bin/sh
# e2e_stdout_epipe — standard output into a pipe whose reader left (EPIPE) is final:
# the stdout sink says so once, gets nothing more (counted), the other sinks go on; when
# it was the only sink the daemon stops on its own with status 141, as a filter killed by
# SIGPIPE (`xtcpd --once | head -1`). Nothing is retried, nothing loops.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin marshaller_json source_synth
CLOSED='xtcpd: warning: sink/stdout: standard output closed (Broken pipe)
xtcpd: warning: sink/stdout: output closed for good: no more batches go to this sink (dropped as reason="closed")'
conf() {   # conf FREQUENCY RECORDS [EXTRA-LINES...]
	f=$1 r=$2
	shift 2
	{
		printf '[core]\nfrequency = %s\nprom_listen = %s\nnetns = host\n' "$f" "$PROM"
		printf '[source synth]\nrecords = %s\nlanes = 2\n[marshaller json]\nflush_rows = 100\n' "$r"
		printf '[sink file stdout]\npath = -\n'
		for kv in "$@"; do printf '%s\n' "$kv"; done
	} > "$TMP/x.conf"
}

# 1. xtcpd --once | head -1: one line read, status 141, two log lines, no retry.
PROM=
conf 10s 20000
( "$XTCPD" --once -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/once.log"; echo $? > "$TMP/once.rc" ) |
	head -1 > "$TMP/first"
expect_eq "--once | head -1: status" 141 "$(cat "$TMP/once.rc")"
expect_eq "--once | head -1: the line read is a record" 1 \
	"$($PY -c 'import json,sys; print(len(json.loads(open(sys.argv[1]).read())) > 10 and 1)' "$TMP/first")"
expect_eq "--once | head -1: said once, nothing retried" "$CLOSED" "$(grep -v '^xtcpd: info' "$TMP/once.log")"

# 2. The only sink, running: the daemon stops by itself, promptly, status 141.
mkfifo "$TMP/pipe"
conf 200ms 1000
head -c 1 < "$TMP/pipe" > /dev/null &
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" > "$TMP/pipe" 2> "$TMP/run.log" &
DPID=$!
kill_on_exit $DPID
i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $DPID 2>/dev/null && fail "only sink closed: the daemon still runs 10 s later"
wait $DPID
expect_eq "only sink closed: status" 141 $?
expect_eq "only sink closed: why it stopped" "xtcpd: info: every sink's output is closed: stopping" \
	"$(grep stopping "$TMP/run.log")"
expect_eq "only sink closed: said once" "$CLOSED" "$(grep -v '^xtcpd: info' "$TMP/run.log")"

# 3. Beside a file sink: the daemon carries on, the file gets every record, and every
# record meant for stdout is accounted for (delivered, failed or dropped as closed).
PROM=127.0.0.1:$(free_port)
conf 2s 1000 '[sink file out]' "path = $TMP/out.json"
head -c 1 < "$TMP/pipe" > /dev/null &
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" > "$TMP/pipe" 2> "$TMP/xtcpd.log" &
DPID=$!
kill_on_exit $DPID
wait_metric 'xtcpd_sink_closed{plugin="sink/stdout"}' 1 || { cat "$TMP/xtcpd.log"; exit 1; }
c=$(metric "$TMP/m.wait" xtcpd_poll_cycles_total)
wait_metric xtcpd_poll_cycles_total $((c + 2)) || exit 1
quiet_snapshot "$TMP/snap" out 1000 || exit 1
kill -TERM $DPID
wait $DPID
expect_eq "beside a file sink: status" 0 $?
m() { metric "$TMP/snap" "$1"; }
S='plugin="sink/stdout"'
emitted=$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')
expect_eq "the file got every record" "$emitted" \
	"$(m 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}')"
expect_eq "stdout: delivered + failed + dropped as closed == emitted" "$emitted" \
	$(( $(m "xtcpd_sink_records_done_total{$S,result=\"delivered\"}") + \
	    $(m "xtcpd_sink_records_done_total{$S,result=\"failed\"}") + \
	    $(m "xtcpd_records_dropped_total{$S,stage=\"sink_queue\",reason=\"closed\"}") ))
dropped=$(m "xtcpd_sink_batches_dropped_total{$S,reason=\"closed\"}")
[ "$dropped" -gt 0 ] || fail "no batch dropped as closed"
expect_eq "stdout: one write failed with EPIPE, none retried" "1 0" \
	"$(m "xtcpd_sink_failed_total{$S,reason=\"epipe\"}") $(m "xtcpd_sink_retried_total{$S}")"
expect_eq "stdout: said once" "$CLOSED" "$(grep -v '^xtcpd: info' "$TMP/xtcpd.log")"
finish
