#!/bin/sh
# listen_any.sh — prom_listen = :PORT (or 0.0.0.0:PORT, [::]:PORT) listens on every
# interface, which makes /metrics reachable from the network: the daemon says so at start
# (issue 23, item 11); 127.0.0.1:PORT says nothing.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
have_plugin source_synth && have_plugin marshaller_json && have_plugin sink_null ||
	cannot_run "synth/json/null plugins not built"
printf '[core]\nnetns = host\n[source synth]\nrecords = 1\n[marshaller json]\n[sink null]\n' > "$TMP/x.conf"
mkdir -m 755 "$TMP/conf.d"
# said LISTEN: what the daemon says on stderr for one cycle with prom_listen = LISTEN
said() {
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" --once -o core.prom_listen="$1" 2>&1 >/dev/null |
		sed 's/127\.0\.0\.1:[0-9]* to keep/127.0.0.1:PORT to keep/'
}
for l in :0 0.0.0.0:0 '[::]:0'; do
	expect_eq "prom_listen = $l" "xtcpd: warning: [core] prom_listen = $l listens on every interface: /metrics, /healthz and /readyz are reachable from the network (use 127.0.0.1:PORT to keep them local)" "$(said "$l")"
done
expect_eq "prom_listen = 127.0.0.1:0" "" "$(said 127.0.0.1:0)"
expect_eq "prom_listen = [::1]:0" "" "$(said '[::1]:0')"
finish
