#!/bin/sh
# srv_keys — the http, nats and valkey sinks' keys: a value of the wrong type or out of
# range is refused by `xtcpd -n` with file:line, section, key and what is allowed (exit 2);
# so is what only the plugin can judge (URL scheme, headers, subject, address form, CA
# file), by its check op, in the plugin's own words, and at a start (--once) alike,
# before anything runs.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin sink_http sink_nats sink_valkey source_synth marshaller_json

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
check nats-wait -n 2 "xtcpd: $TMP/nats-wait.conf:8: [sink nats] reconnect_wait: 'soon' is not a duration (use e.g. 250ms, 10s, 1m30s, 2h; a bare number is seconds; allowed: 10ms..600000ms)"
conf valkey-timeout "[sink valkey]
address = 127.0.0.1:6379
timeout = 1m"
check valkey-timeout -n 2 "xtcpd: $TMP/valkey-timeout.conf:8: [sink valkey] timeout: '1m' is out of range (allowed: 10ms..30000ms)"

# Judged by the plugin's check op, at the offending key's line: -n and a start alike.
# check2 NAME WANT-FIRST-LINE: both modes refuse it with exit 2 and that message.
check2() {
	check "$1" -n 2 "$2"
	check "$1" --once 2 "$2"
}
conf http-scheme "[sink http]
url = file:///etc/passwd"
check2 http-scheme "xtcpd: $TMP/http-scheme.conf:7: [sink http] url: scheme 'file' is not allowed (allowed: http, https)"
conf http-header "[sink http]
url = http://127.0.0.1:1/
header.Host = evil"
check2 http-header "xtcpd: $TMP/http-header.conf:8: [sink http] header.Host: set by the sink itself"
conf http-ca "[sink http]
url = https://127.0.0.1:1/
ca_file = $TMP/no-such-ca.pem"
check2 http-ca "xtcpd: $TMP/http-ca.conf:8: [sink http] ca_file: '$TMP/no-such-ca.pem': No such file or directory"
conf nats-subject "[sink nats]
url = 127.0.0.1:4222
subject = xtcp.>"
check2 nats-subject "xtcpd: $TMP/nats-subject.conf:8: [sink nats] subject: 'xtcp.>': not a subject to publish to (dot-separated tokens, no wildcard * or >, no blank)"
conf nats-url "[sink nats]
url = ws://127.0.0.1:4222"
check2 nats-url "xtcpd: $TMP/nats-url.conf:7: [sink nats] url: 'ws://127.0.0.1:4222' is not a server address (HOST:PORT, nats://HOST:PORT or tls://HOST:PORT; at most 16)"
conf nats-port "[sink nats]
url = nats://127.0.0.1:4222, nats://127.0.0.1:422200"
check2 nats-port "xtcpd: $TMP/nats-port.conf:7: [sink nats] url: 'nats://127.0.0.1:422200' is not a server address (HOST:PORT, nats://HOST:PORT or tls://HOST:PORT; at most 16)"
conf nats-ca "[sink nats]
url = tls://127.0.0.1:4222
ca_file = $TMP"
check2 nats-ca "xtcpd: $TMP/nats-ca.conf:8: [sink nats] ca_file: '$TMP' is not a regular file"
conf valkey-address "[sink valkey]
address = 127.0.0.1"
check2 valkey-address "xtcpd: $TMP/valkey-address.conf:7: [sink valkey] address: '127.0.0.1': expected HOST:PORT or [IPv6]:PORT"
conf valkey-auth "[sink valkey]
address = [::1]:6379
username = xtcpd"
check2 valkey-auth "xtcpd: $TMP/valkey-auth.conf:8: [sink valkey] username: set, but password is empty"
# Names are resolved by the check: an unknown one is refused (the resolver's words).
conf valkey-name "[sink valkey]
address = no-such-host.invalid:6379"
out=$("$XTCPD" -n -c "$TMP/valkey-name.conf" -C "$TMP/none" 2>&1 > /dev/null)
expect_eq "valkey-name (-n): exit status" 2 $?
expect_ok "valkey-name (-n): the resolver's reason ($out)" \
	test "$out" = "xtcpd: $TMP/valkey-name.conf:7: [sink valkey] address: 'no-such-host.invalid:6379': Name or service not known" \
	-o "$out" = "xtcpd: $TMP/valkey-name.conf:7: [sink valkey] address: 'no-such-host.invalid:6379': Temporary failure in name resolution"

# The shipped examples (conf.d/*.conf.example), enabled beside the shipped configuration,
# pass the check (nothing is connected by -n).
mkdir "$TMP/conf.d"
cp "$XTCPD_SRCDIR"/conf.d/*.conf "$TMP/conf.d/"
for s in http nats valkey; do
	cp "$XTCPD_SRCDIR/conf.d/50-sink-$s.conf.example" "$TMP/conf.d/50-sink-$s.conf"
	expect_eq "conf.d example $s, enabled" "configuration OK" \
		"$("$XTCPD" -n -c "$XTCPD_SRCDIR/xtcpd.conf" -C "$TMP/conf.d" 2>&1)"
done
finish
