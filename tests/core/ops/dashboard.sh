#!/bin/sh
# dashboard.sh — dist/grafana/xtcpd.json and the daemon cannot drift: every metric name
# (and label) the dashboard's queries use is on /metrics of a running daemon (netlink
# source, file sink, the metrics listener on a free loopback port); and the checker
# itself fails, naming them, on a copy with a misspelt metric and an unknown label.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin source_netlink marshaller_json sink_file
need_cmd curl:curl
DASH=$XTCPD_SRCDIR/dist/grafana/xtcpd.json
CHECK=$XTCPD_SRCDIR/tests/core/ops/dashboard_check.py

PROM=127.0.0.1:$(free_port)
mkdir "$TMP/netns"
cat > "$TMP/x.conf" <<EOF
[core]
frequency = 1s
prom_listen = $PROM
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
[marshaller json]
[sink file out]
path = $TMP/out.json
EOF
daemon_start "$TMP/x.conf"
wait_metric xtcpd_poll_cycles_total 2 || { cat "$TMP/xtcpd.log"; exit 1; }
scrape "$TMP/m"
daemon_stop
expect_eq "exit status" 0 "$DRC"

$PY "$CHECK" "$DASH" "$TMP/m" > "$TMP/out"; rc=$?
cat "$TMP/out"
expect_eq "every metric and label of the dashboard is on /metrics" 0 "$rc"
expect_eq "metric names checked" 37 "$(sed -n 's/^\([0-9]*\) metric names.*/\1/p' "$TMP/out")"
expect_eq "panels (rows included)" 20 \
	"$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["panels"]))' "$DASH")"

# The checker catches drift: a misspelt name and a label the metric does not have.
cat > "$TMP/inject.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = [p for p in d["panels"] if p.get("title") == "Cycle duration vs frequency"][0]["targets"]
t[0]["expr"] = 'xtcpd_poll_last_duration_secs{instance=~"$host"}'
t[1]["expr"] = 'sum by (instance, stagex) (rate(xtcpd_poll_overruns_total[5m]))'
json.dump(d, open(sys.argv[2], "w"))
PYEOF
$PY "$TMP/inject.py" "$DASH" "$TMP/bad.json"
$PY "$CHECK" "$TMP/bad.json" "$TMP/m" > "$TMP/bad.out"; rc=$?
expect_eq "drift fails the check" 1 "$rc"
expect_eq "and names what drifted" \
	"MISSING: Cycle duration vs frequency: metric xtcpd_poll_last_duration_secs is not on /metrics
MISSING: Cycle duration vs frequency: metric xtcpd_poll_overruns_total has no label stagex" \
	"$(grep '^MISSING' "$TMP/bad.out")"
expect_eq "per-plugin series are labelled plugin" 'xtcpd_sink_retried_total{plugin="sink/out"} 0' \
	"$(grep '^xtcpd_sink_retried_total{' "$TMP/m")"
# A series labelled like a scrape target (Prometheus would rename it exported_instance).
sed 's/{plugin="sink\/out"/{instance="sink\/out"/' "$TMP/m" > "$TMP/m-instance"
$PY "$CHECK" "$DASH" "$TMP/m-instance" > "$TMP/inst.out"; rc=$?
expect_eq "a series labelled instance fails the check" 1 "$rc"
expect_eq "and is named" "MISSING: /metrics: xtcpd_sink_retried_total carries the scrape target's label instance" \
	"$(grep "^MISSING: /metrics: xtcpd_sink_retried_total" "$TMP/inst.out")"
finish
