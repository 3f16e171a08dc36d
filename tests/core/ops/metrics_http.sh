#!/bin/sh
# metrics_http.sh — the daemon's HTTP endpoint during a run: /healthz, /readyz once the
# first cycle is done, /metrics valid for `promtool check metrics` with counters equal to
# what the run did (one cycle of 500 synthetic records through json into null), 404/405,
# an idle client not blocking a scrape, and the port released on SIGTERM.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_null
need_cmd curl:curl promtool:prometheus
PY=/usr/bin/python3
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

# frequency 1h: exactly one cycle runs while we look
cat > "$TMP/xtcpd.conf" <<EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$PORT
netns = host
[source synth]
records = 500
lanes = 2
[marshaller json]
[sink null]
marshaller = json
EOC
mkdir "$TMP/conf.d"
"$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" > "$TMP/out" 2> "$TMP/err" &
PID=$!
on_exit "kill $PID 2>/dev/null"

# status and body of one request: "CODE BODY"
get() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; printf ' %s' "$(cat "$TMP/body")"; }
wait_for 600 eval '[ "$(get "$URL/readyz" 2>/dev/null)" = "200 ready" ]'
expect_eq "/readyz after the first cycle" "200 ready" "$(get "$URL/readyz")"
expect_eq "/healthz" "200 ok" "$(get "$URL/healthz")"
expect_eq "unknown path" "404 not found" "$(get "$URL/debug/pprof")"
expect_eq "POST" "405 method not allowed" "$(get -X POST --data x "$URL/metrics")"

# an idle connection that never sends a request does not hold up the scrape
$PY - "$PORT" "$TMP/idle" <<'EOP' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("connected\n")
time.sleep(3600)  # until the test ends it
EOP
IDLE=$!
on_exit "kill $IDLE 2>/dev/null"
wait_for 300 test -s "$TMP/idle"

ctype=$(curl -s -o "$TMP/metrics" -w '%{content_type}' "$URL/metrics")
expect_eq "metrics content type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
expect_eq "promtool check metrics" "" "$(promtool check metrics < "$TMP/metrics" 2>&1)"
m() { awk -v k="$1" '$1 == k { v = $2; n++ } END { print (n ? v : "#missing") }' "$TMP/metrics"; }
ver=$("$XTCPD" --version | awk '{ print $2 }')
expect_eq "build info" 1 "$(m "xtcpd_build_info{version=\"$ver\"}")"
expect_eq "cycles" 1 "$(m xtcpd_poll_cycles_total)"
expect_eq "overruns" 0 "$(m xtcpd_poll_overruns_total)"
expect_eq "cycle errors" 0 "$(m xtcpd_poll_errors_total)"
expect_eq "duration observations" 1 "$(m xtcpd_poll_duration_seconds_count)"
expect_eq "records emitted" 500 "$(m 'xtcpd_records_emitted_total{plugin="source/synth"}')"
expect_eq "records marshalled" 500 "$(m 'xtcpd_marshal_records_total{plugin="marshaller/json"}')"
expect_eq "rows delivered" 500 "$(m 'xtcpd_sink_records_done_total{plugin="sink/null",result="delivered"}')"
expect_eq "bytes marshalled = bytes delivered" "$(m 'xtcpd_marshal_bytes_total{plugin="marshaller/json"}')" \
	"$(m 'xtcpd_sink_bytes_delivered_total{plugin="sink/null"}')"
expect_eq "records dropped anywhere (and the drop series are there)" "0 in 1 or more" \
	"$(awk '$1 ~ /^xtcpd_records_dropped_total[{]/ { s += $2; n++ } END { print s + 0, "in", (n ? "1 or more" : "none") }' "$TMP/metrics")"
expect_eq "every pool buffer returned" 0 "$(m 'xtcpd_pool_in_use{pool="batch/json"}')"

stop $PID
expect_eq "exit status on SIGTERM" 0 "$STOP_RC"
expect_eq "port released" 000 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" || true)"
finish
