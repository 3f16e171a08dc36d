#!/bin/sh
# reload.sh — a SIGHUP never stops collection. Each configuration that used to pass the
# key tables and then fail to start (issue 10: a netlink port or prefix, a kafka
# property, a udp address without port or that does not resolve), one that fails only
# when built (too many threads) and one a plugin's own check refuses, is refused with
# its file:line message, and the running pipeline goes on polling: more complete cycles
# of the old size after each. A valid reload then takes effect, keeping what did not
# change.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_file
PY=/usr/bin/python3
OUT="$TMP/out.json"
# conf RECORDS [EXTRA SECTIONS...]: the running configuration, plus a failing part
conf() {
	{
		printf '[core]\nfrequency = 200ms\nprom_listen =\nnetns = host\n'
		printf '[source synth]\nrecords = %s\nlanes = 2\n' "$1"
		printf '[marshaller json]\nflush_rows = 100000\n[sink file out]\npath = %s\n' "$OUT"
		shift
		for part in "$@"; do printf '%s\n' "$part"; done
	} > "$TMP/x.conf"
}
lines() { (wc -l < "$OUT") 2>/dev/null || echo 0; }
wait_lines() { i=0; while [ "$(lines)" -lt "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done; }
# hup WHAT PATTERN: reload, wait for the log line matching PATTERN, then for 3 more cycles
hup() {
	n=$(grep -c "$2" "$TMP/log")
	kill -HUP $PID
	i=0; while [ "$(grep -c "$2" "$TMP/log")" -le "$n" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	got=$(grep "$2" "$TMP/log" | tail -1)
	l=$(lines)
	wait_lines $((l + 300))
	kill -0 $PID 2>/dev/null || fail "$1: the daemon is gone"
	[ "$(lines)" -ge $((l + 300)) ] || fail "$1: polling stopped after the reload"
}
REFUSED="xtcpd: error: SIGHUP: new configuration refused, keeping the running one:"
conf 100
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/log" &
PID=$!
kill_on_exit $PID
wait_lines 300

if have_plugin source_netlink; then
	conf 100 '[source netlink]' 'sport = 70000'
	hup "netlink port" "refused"
	expect_eq "netlink port refused" "$REFUSED $TMP/x.conf:13: [source netlink] sport: '70000' is not a port (0..65535) or a range LOW-HIGH" "$got"
	conf 100 '[source netlink]' 'src = 10.0.0.0/99'
	hup "netlink prefix" "refused"
	expect_eq "netlink prefix refused" "$REFUSED $TMP/x.conf:13: [source netlink] src: '10.0.0.0/99' is not an address prefix (like 10.0.0.0/8 or fd00::/8; at most /32 for IPv4, /128 for IPv6)" "$got"
else
	echo "netlink not built: its cases skipped"; [ "${CI:-}" = true ] && fail "netlink not built under CI"
fi
if have_plugin sink_kafka; then
	conf 100 '[sink kafka]' 'marshaller = json' 'brokers = 127.0.0.1:9' 'topic = t' 'property.nosuch.prop = 1'
	hup "kafka property" "refused"
	expect_eq "kafka property refused" "$REFUSED $TMP/x.conf:16: [sink kafka] property.nosuch.prop: No such configuration property: \"nosuch.prop\"" "$got"
else
	echo "kafka not built: its case skipped"; [ "${CI:-}" = true ] && fail "kafka not built under CI"
fi
if have_plugin sink_udp; then
	conf 100 '[sink udp]' 'marshaller = json' 'address = localhost'
	hup "udp without port" "refused"
	expect_eq "udp address without port refused" "$REFUSED $TMP/x.conf:14: [sink udp] address: 'localhost': expected host:port or [IPv6]:port" "$got"
	conf 100 '[sink udp]' 'marshaller = json' 'address = no-such-host.invalid:9'
	hup "udp unresolvable" "refused"
	got=$(echo "$got" | sed 's/Temporary failure in name resolution/Name or service not known/')
	expect_eq "udp address that does not resolve refused" "$REFUSED $TMP/x.conf:14: [sink udp] address: 'no-such-host.invalid:9': Name or service not known" "$got"
else
	echo "udp not built: its cases skipped"; [ "${CI:-}" = true ] && fail "udp not built under CI"
fi
if have_plugin source_stall; then
	conf 100 '[source stall]' 'check_error = refused on cue'
	hup "plugin check" "refused"
	expect_eq "a plugin's own check refuses" "$REFUSED $TMP/x.conf:13: [source stall] check_error: refused on cue" "$got"
fi
# Passes every check, fails to build: 1 + 2 lanes + 1 sink + 64 lanes > 64 threads.
conf 100 '[source synth more]' 'lanes = 64'
hup "too many threads" "failed to start"
expect_eq "a build failure keeps the running pipeline" \
	"xtcpd: error: SIGHUP: the new configuration failed to start (Argument list too long): keeping the running one" "$got"
expect_eq "and says why" \
	"xtcpd: error: configuration needs 68 threads (main, readers, sinks, metrics, docker), above max_threads = 64: lower the readers (netlinkers) or raise max_threads" \
	"$(grep "needs 68 threads" "$TMP/log")"

# A valid reload: only the source changed.
conf 50
hup "valid reload" "configuration reloaded"
expect_eq "valid reload: marshaller and sink kept" \
	"xtcpd: info: SIGHUP: configuration reloaded: 2 instances kept, 1 new, 1 retired" "$got"
kill -TERM $PID
wait $PID
expect_eq "exit status after SIGTERM" 0 $?
verdict=$($PY -c '
import json, re, sys
seen, counts = [], {}
for line in open(sys.argv[1]):
    t = json.loads(line)["timestamp_ns"]
    if t not in counts: seen.append(t); counts[t] = 0
    counts[t] += 1
s = " ".join(str(counts[t]) for t in seen)
print(bool(re.fullmatch(r"(100 ){10,}(50 ?){3,}", s + " ")), s[:60])' "$OUT")
expect_eq "cycles: 100 records each through every refused reload, then 50, none partial" True "${verdict%% *}"
finish
