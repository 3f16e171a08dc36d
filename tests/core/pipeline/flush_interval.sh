#!/bin/sh
# flush_interval — a continuous source (ABI 1.5) emits between polls: with one cycle an
# hour, its records reach the sink only through the core's time bound (flush_interval),
# counted in the usual metrics (emitted, marshalled batches, delivered), one batch per
# lane, stamped with their emit time rather than the cycle's start. Then a reload that
# keeps the running continuous source but replaces its marshaller, before the source
# emits: its lanes move to the new pipeline and every record still arrives, once.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin source_synthcont marshaller_json sink_file
need_cmd curl:curl
need_python json
PORT=$(free_port)
PROM=127.0.0.1:$PORT
cat > "$TMP/x.conf" << EOC
[core]
frequency = 1h
prom_listen = $PROM
netns = host
[source synthcont]
records = 50
lanes = 2
delay = 700ms
flush_interval = 300ms
[marshaller json]
flush_rows = 1000
[sink file out]
path = $TMP/out.json
EOC
t0=$(date +%s%N)
daemon_start "$TMP/x.conf"
wait_metric 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}' 50 || cat "$TMP/xtcpd.log"
scrape "$TMP/m"
m() { metric "$TMP/m" "$1"; }
expect_eq "one poll cycle ran (at start)" 1 "$(m xtcpd_poll_cycles_total)"
expect_eq "records emitted" 50 "$(m 'xtcpd_records_emitted_total{plugin="source/synthcont"}')"
expect_eq "batches: one per lane, sent by the time bound" 2 \
	"$(m 'xtcpd_marshal_batches_total{plugin="marshaller/json"}')"
expect_eq "records delivered" 50 "$(m 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}')"
expect_eq "records in the file" 50 "$(wc -l < "$TMP/out.json")"
late=$(/usr/bin/python3 -c '
import json, sys
t0 = int(sys.argv[2])
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["timestamp_ns"] >= t0 + 600000000))' "$TMP/out.json" "$t0")
expect_eq "every record stamped at its emit (>= start + delay), not at the cycle's start" 50 "$late"
daemon_stop
expect_eq "exit status" 0 "$DRC"

# The reload: the source section is unchanged (kept, its lanes running), the marshaller's
# flush_rows changes (a new marshaller); the source emits 3 s after start, after the swap.
sed -i 's/^delay = 700ms$/delay = 3s/' "$TMP/x.conf"
rm -f "$TMP/out.json"
daemon_start "$TMP/x.conf"
sed -i 's/^flush_rows = 1000$/flush_rows = 999/' "$TMP/x.conf"
kill -HUP $DPID
wait_for 600 grep -q "configuration reloaded" "$TMP/xtcpd.log" || fail "no reload"
expect_eq "reload: the source and the sink kept, the marshaller new" \
	"SIGHUP: configuration reloaded: 2 instances kept, 1 new, 1 retired" \
	"$(sed -n 's/^xtcpd: info: \(SIGHUP: configuration reloaded.*\)/\1/p' "$TMP/xtcpd.log")"
expect_eq "reload: nothing emitted before the swap" 0 "$([ -e "$TMP/out.json" ] && wc -l < "$TMP/out.json" || echo 0)"
wait_metric 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}' 50 || cat "$TMP/xtcpd.log"
scrape "$TMP/m"
expect_eq "reload: records emitted" 50 "$(m 'xtcpd_records_emitted_total{plugin="source/synthcont"}')"
expect_eq "reload: records delivered once" 50 "$(m 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}')"
expect_eq "reload: records in the file" 50 "$(wc -l < "$TMP/out.json")"
daemon_stop
expect_eq "reload: exit status" 0 "$DRC"
finish
