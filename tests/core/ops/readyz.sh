#!/bin/sh
# readyz.sh — /readyz during a run: 503 "no poll cycle has completed yet" while the first
# cycle hangs, 200 once it completed, 503 "... ms ago, more than 2 x frequency" while a
# later cycle hangs past 2 x frequency + 1 s, 200 again when it ends; /healthz 200 all
# along. The stall source hangs cycles 1 and 3 until the test releases them (a file per
# cycle), so each state is seen before the test moves on; no timing is assumed.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_stall marshaller_json sink_null
need_cmd curl:curl
PY=/usr/bin/python3
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
cat > "$TMP/xtcpd.conf" <<EOC
[core]
frequency = 500ms
prom_listen = 127.0.0.1:$PORT
netns = host
[source stall]
stalls = 600000,0,600000
release = $TMP/release
[marshaller json]
[sink null]
marshaller = json
EOC
mkdir "$TMP/conf.d" "$TMP/release"
"$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" > "$TMP/out" 2> "$TMP/err" &
PID=$!
on_exit "kill -9 $PID 2>/dev/null"   # a stalled cycle would hold a SIGTERM

get() { curl -s -o "$TMP/body" -w '%{http_code}' "$1" 2>/dev/null; printf ' %s' "$(cat "$TMP/body" 2>/dev/null)"; }
# await CODE: poll /readyz until it answers CODE (a deadlock guard of 60 s); print the answer
await() {
	i=0
	while r=$(get "$URL/readyz"); [ "${r%% *}" != "$1" ] && [ $i -lt 1200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	echo "$r"
}
wait_for 600 eval '[ "$(get "$URL/healthz")" = "200 ok" ]'
expect_eq "/healthz while the first cycle hangs" "200 ok" "$(get "$URL/healthz")"
expect_eq "/readyz before any cycle completed" "503 no poll cycle has completed yet" "$(get "$URL/readyz")"
touch "$TMP/release/1"
expect_eq "/readyz once the first cycle completed" "200 ready" "$(await 200)"
r=$(await 503)
expect_eq "/readyz while cycle 3 hangs" "503 last poll cycle completed N ms ago, more than 2 x frequency" \
	"$(echo "$r" | sed 's/completed [0-9]* ms/completed N ms/')"
expect_eq "/healthz while cycle 3 hangs" "200 ok" "$(get "$URL/healthz")"
touch "$TMP/release/3"
expect_eq "/readyz once cycle 3 completed" "200 ready" "$(await 200)"
stop $PID
expect_eq "exit status" 0 "$STOP_RC"
finish
