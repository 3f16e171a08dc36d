#!/bin/sh
# httpd_load.sh — /healthz and /metrics keep answering under 100 idle and 100 trickling
# connections, from one address each (per-address limit) and from 200 addresses (header
# deadline); see httpd_load.py.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_null
PY=/usr/bin/python3
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/x.conf" <<EOC
[core]
frequency = 1s
prom_listen = 127.0.0.1:$PORT
netns = host
[source synth]
records = 10
[marshaller json]
[sink null]
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
kill_on_exit $PID
i=0; while ! curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
$PY "$XTCPD_SRCDIR/tests/core/ops/httpd_load.py" $PORT > "$TMP/out" 2>&1
cat "$TMP/out"
for ph in A B; do
	n=$(sed -n "s/^$ph probes answered: [0-9]* of \([0-9]*\)$/\1/p" "$TMP/out")
	[ "${n:-0}" -gt 10 ] || fail "$ph: too few probes ($n)"
	expect_eq "$ph: every probe answered" "$ph probes answered: $n of $n" "$(grep "^$ph probes answered" "$TMP/out")"
	expect_eq "$ph: no probe problem" "" "$(grep "^$ph probe problem" "$TMP/out")"
	expect_eq "$ph: every trickling connection cut by the header deadline" \
		"$ph trickling cut within the deadline: 100" "$(grep "^$ph trickling cut" "$TMP/out")"
done
expect_eq "A: one address holds 16 idle connections" "A idle open after 1 s: 16" "$(grep '^A idle' "$TMP/out")"
expect_eq "A: and 16 trickling ones" "A trickling open after 1 s: 16" "$(grep '^A trickling open' "$TMP/out")"
expect_eq "B: 100 addresses hold 100 idle connections" "B idle open after 1 s: 100" "$(grep '^B idle' "$TMP/out")"
expect_eq "B: and 100 trickling ones" "B trickling open after 1 s: 100" "$(grep '^B trickling open' "$TMP/out")"
kill -0 $PID || fail "the daemon is gone"
finish
