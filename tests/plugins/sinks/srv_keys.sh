#!/bin/sh
# srv_keys — the http, nats and valkey sinks' keys: a value of the wrong type or out of
# range is refused by `xtcpd -n` with file:line, section, key and what is allowed (exit 2);
# what only the plugin can judge (URL scheme, subject, address form, headers) is refused
# when the sink is created, with the plugin's own words (exit 1), before anything runs.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/srv_lib.sh"
for p in sink_http sink_nats sink_valkey source_synth marshaller_json; do
	have_plugin $p || cannot_run "$p not built (configure --enable-http=yes --enable-nats=yes --enable-valkey=yes)"
done

# conf NAME SINK-SECTION-LINES: a configuration whose sink section starts at line 6.
conf() {
	printf '[core]\nprom_listen =\nnetns = host\n[source synth]\n[marshaller json]\n%s\n' "$2" \
		> "$TMP/$1.conf"
}
# check NAME MODE WANT-STATUS WANT-FIRST-LINE
check() {
	out=$("$XTCPD" "$2" -c "$TMP/$1.conf" -C "$TMP/none" 2>&1 > /dev/null)
	rc=$?
	expect_eq "$1 ($2): exit status" "$3" "$rc"
	expect_eq "$1 ($2): message" "$4" "$(printf '%s\n' "$out" | head -1)"
}

conf http-timeout "[sink http]
url = http://127.0.0.1:1/
timeout = 50ms"
check http-timeout -n 2 "xtcpd: $TMP/http-timeout.conf:8: [sink http] timeout: '50ms' is out of range (allowed: 100ms..600000ms)"
conf http-concurrency "[sink http]
url = http://127.0.0.1:1/
concurrency = 0"
check http-concurrency -n 2 "xtcpd: $TMP/http-concurrency.conf:8: [sink http] concurrency: '0' is out of range (allowed: 1..64)"
conf http-bool "[sink http]
tls_verify = maybe
url = http://127.0.0.1:1/"
check http-bool -n 2 "xtcpd: $TMP/http-bool.conf:7: [sink http] tls_verify: 'maybe' is not a boolean (use true or false)"
conf http-nourl "[sink http]"
check http-nourl -n 2 "xtcpd: $TMP/http-nourl.conf:6: [sink http]: missing required key 'url' (http:// or https:// URL every batch is POSTed to, used as given)"
conf nats-wait "[sink nats]
url = 127.0.0.1:4222
reconnect_wait = soon"
check nats-wait -n 2 "xtcpd: $TMP/nats-wait.conf:8: [sink nats] reconnect_wait: 'soon' is not a duration (use e.g. 250ms, 10s, 2m, 1h; allowed: 10ms..600000ms)"
conf valkey-timeout "[sink valkey]
address = 127.0.0.1:6379
timeout = 1m"
check valkey-timeout -n 2 "xtcpd: $TMP/valkey-timeout.conf:8: [sink valkey] timeout: '1m' is out of range (allowed: 10ms..30000ms)"

# Judged by the plugin when it is created (the future check op will move these to -n).
conf http-scheme "[sink http]
url = file:///etc/passwd"
check http-scheme --once 1 "xtcpd: error: sink/http: url: scheme 'file' is not allowed (allowed: http, https)"
conf http-header "[sink http]
url = http://127.0.0.1:1/
header.Host = evil"
check http-header --once 1 "xtcpd: error: sink/http: header.Host: set by the sink itself"
conf nats-subject "[sink nats]
url = 127.0.0.1:4222
subject = xtcp.>"
check nats-subject --once 1 "xtcpd: error: sink/nats: subject 'xtcp.>': not a subject to publish to (dot-separated tokens, no wildcard * or >, no blank)"
conf nats-url "[sink nats]
url = ws://127.0.0.1:4222"
check nats-url --once 1 "xtcpd: error: sink/nats: url: 'ws://127.0.0.1:4222' is not a server address (HOST:PORT, nats://HOST:PORT or tls://HOST:PORT; at most 16)"
conf valkey-address "[sink valkey]
address = 127.0.0.1"
check valkey-address --once 1 "xtcpd: error: sink/valkey: address '127.0.0.1': expected HOST:PORT or [IPv6]:PORT"

# The shipped examples (conf.d/*.conf.example), enabled beside the shipped configuration,
# pass the check, all three at once too (nothing is connected by -n).
mkdir "$TMP/conf.d"
cp "$XTCPD_SRCDIR"/conf.d/*.conf "$TMP/conf.d/"
for s in http nats valkey; do
	cp "$XTCPD_SRCDIR/conf.d/50-sink-$s.conf.example" "$TMP/conf.d/50-sink-$s.conf"
	expect_eq "conf.d example $s, enabled" "configuration OK" \
		"$("$XTCPD" -n -c "$XTCPD_SRCDIR/xtcpd.conf" -C "$TMP/conf.d" 2>&1)"
done
finish
