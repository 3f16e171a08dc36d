#!/bin/sh
# fallback — a source whose create() reports its mechanism unavailable on this host
# (injected: synth's `unavailable = true`): without a `fallback` key the daemon names the
# cause and the remedy and exits 2; with `fallback = synthfb` that source collects for the
# section instead, with the section's keys it declares too (records, lanes; not
# `unavailable`), logged once and shown as xtcpd_source_fallback; a fallback that is
# unknown, the section's own plugin, or refuses a shared key's value is a config error.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin marshaller_json
need_plugin source_synthfb
conf() {
	printf '[core]\nfrequency = 1s\nprom_listen = %s\n[source synth]\nunavailable = true\nrecords = %s\nlanes = 1\n%s\n[marshaller json]\n[sink file]\npath = %s\n' \
		"$1" "$2" "$3" "$TMP/out.json" > "$TMP/x.conf"
}

# No fallback: exit 2, the plugin's cause and remedy, then the core's hint.
conf "" 7 ""
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once 2> "$TMP/err"
expect_eq "no fallback: exit 2" 2 "$?"
expect_eq "no fallback: the plugin's cause and remedy" 1 \
	"$(grep -c '^xtcpd: error: source/synth: cannot collect here: injected unavailability (remedy: unavailable = false)$' "$TMP/err")"
expect_eq "no fallback: the core's hint" 1 \
	"$(grep -c "^xtcpd: error: source/synth: unavailable on this host, and the section names no fallback (add 'fallback = netlink' to \[source synth\] to collect through sock_diag instead)$" "$TMP/err")"

# fallback = synthfb: it collects, with records = 7 and lanes = 1 from the section.
conf "" 7 "fallback = synthfb"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once 2> "$TMP/err"
expect_eq "fallback: exit 0" 0 "$?"
expect_eq "fallback: 7 records (the section's records key)" 7 "$(wc -l < "$TMP/out.json")"
expect_eq "fallback: logged once" 1 \
	"$(grep -c "^xtcpd: warning: source/synth: unavailable on this host: the fallback source 'synthfb' collects for this section instead$" "$TMP/err")"

# ... and /metrics shows it.
PORT=$((20000 + ($$ + 11) % 20000))
conf "127.0.0.1:$PORT" 7 "fallback = synthfb"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/err" &
PID=$!
on_exit "kill -9 $PID 2>/dev/null"
i=0
while :; do
	curl -s "http://127.0.0.1:$PORT/metrics" > "$TMP/m"
	grep -q '^xtcpd_records_emitted_total{plugin="source/synth"} [1-9]' "$TMP/m" && break
	i=$((i + 1)); [ $i -lt 300 ] || break
	sleep 0.02
done
kill "$PID"; wait "$PID"
expect_eq "metric: xtcpd_source_fallback" 'xtcpd_source_fallback{plugin="source/synth"} 1' \
	"$(grep '^xtcpd_source_fallback{' "$TMP/m")"

# Configuration errors, found by -n before anything starts.
conf "" 7 "fallback = nosuch"
out=$("$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" -n 2>&1); rc=$?
expect_eq "unknown fallback: exit 2" 2 "$rc"
expect_eq "unknown fallback: message" "xtcpd: $TMP/x.conf:8: [source synth] fallback: unknown source plugin 'nosuch': no $XTCPD_PLUGIN_DIR/source_nosuch.so" "$out"
conf "" 7 "fallback = synth"
out=$("$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" -n 2>&1); rc=$?
expect_eq "own plugin: message" "2 xtcpd: $TMP/x.conf:8: [source synth] fallback: 'synth' is this section's own plugin (allowed: another source plugin)" "$rc $out"
conf "" 500 "fallback = synthfb"
out=$("$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" -n 2>&1); rc=$?
expect_eq "shared key out of the fallback's range" "2 xtcpd: $TMP/x.conf:6: [source synth] records: for the fallback synthfb: '500' is out of range (allowed: 0..100)" "$rc $out"
finish
