#!/bin/sh
# readyz.sh — /readyz during a run: 503 "no poll cycle has completed yet" while the first
# cycle hangs, 200 once it completed, 503 "... ms ago, more than 2 x frequency" while a
# later cycle hangs past 2 x frequency + 1 s, 200 again when it ends; /healthz 200 all
# along. The stall source hangs cycles 1 and 3 (6 s each) on cue; only the order of the
# states is asserted, each awaited with a generous bound.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
have_plugin source_stall && have_plugin marshaller_json && have_plugin sink_null ||
	{ echo "SKIP: stall/json/null plugins not built"; exit $SKIP; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit $SKIP; }
PY=/usr/bin/python3
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
cat > "$TMP/xtcpd.conf" <<EOC
[core]
frequency = 500ms
prom_listen = 127.0.0.1:$PORT
netns = host
[source stall]
stalls = 6000,0,6000
[marshaller json]
[sink null]
marshaller = json
EOC
mkdir "$TMP/conf.d"
"$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" > "$TMP/out" 2> "$TMP/err" &
PID=$!
on_exit "kill $PID 2>/dev/null"

get() { curl -s -o "$TMP/body" -w '%{http_code}' "$1" 2>/dev/null; printf ' %s' "$(cat "$TMP/body" 2>/dev/null)"; }
# await CODE: poll /readyz until it answers CODE (at most 20 s); print the answer
await() {
	i=0
	while r=$(get "$URL/readyz"); [ "${r%% *}" != "$1" ] && [ $i -lt 400 ]; do
		sleep 0.05; i=$((i + 1))
	done
	echo "$r"
}
i=0; while [ "$(get "$URL/healthz")" != "200 ok" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "/healthz while the first cycle hangs" "200 ok" "$(get "$URL/healthz")"
expect_eq "/readyz before any cycle completed" "503 no poll cycle has completed yet" "$(get "$URL/readyz")"
expect_eq "/readyz once the first cycle completed" "200 ready" "$(await 200)"
r=$(await 503)
expect_eq "/readyz while cycle 3 hangs" "503 last poll cycle completed N ms ago, more than 2 x frequency" \
	"$(echo "$r" | sed 's/completed [0-9]* ms/completed N ms/')"
expect_eq "/healthz while cycle 3 hangs" "200 ok" "$(get "$URL/healthz")"
expect_eq "/readyz once cycle 3 completed" "200 ready" "$(await 200)"
kill -TERM $PID
wait $PID
expect_eq "exit status" 0 "$?"
finish
