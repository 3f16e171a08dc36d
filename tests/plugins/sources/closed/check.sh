#!/bin/sh
# check — the closed source's keys under `xtcpd -n`: what only the plugin can judge
# (port lists, address prefixes, states, families) and the core's flush_interval are
# refused with file:line, section, key and the reason (exit 2); the shipped example,
# enabled, passes. No root needed.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_closed marshaller_json sink_file
# check NAME KEY-LINE WANT-FIRST-LINE (the key is on line 5)
check() {
	printf '[core]\nprom_listen =\nnetns = host\n[source closed]\n%s\n[marshaller json]\n[sink file out]\npath = -\n' \
		"$2" > "$TMP/$1.conf"
	out=$("$XTCPD" -n -c "$TMP/$1.conf" -C "$TMP/none" 2>&1 > /dev/null)
	rc=$?
	expect_eq "$1: exit status" 2 "$rc"
	expect_eq "$1: message" "$3" "$(printf '%s\n' "$out" | head -1)"
}
check sport "sport = 80,90-70" \
	"xtcpd: $TMP/sport.conf:5: [source closed] sport: '90-70' is not a port or a range of ports (lo-hi)"
check dport "dport = http" \
	"xtcpd: $TMP/dport.conf:5: [source closed] dport: 'http' is not a port or a range of ports (lo-hi)"
check src "src = 10.0.0.0/33" \
	"xtcpd: $TMP/src.conf:5: [source closed] src: '10.0.0.0/33' is not an address or a prefix (10.0.0.0/8, fd00::/8)"
check dst "dst = fd00::/8,nohost" \
	"xtcpd: $TMP/dst.conf:5: [source closed] dst: 'nohost' is not an address or a prefix (10.0.0.0/8, fd00::/8)"
check families "families = ipv5" \
	"xtcpd: $TMP/families.conf:5: [source closed] families: 'ipv5' is not allowed in the list (allowed: ipv4|ipv6)"
check flush "flush_interval = 5ms" \
	"xtcpd: $TMP/flush.conf:5: [source closed] flush_interval: '5ms' is out of range (allowed: 10ms..3600000ms)"
# The shipped example, enabled, with a sink: accepted.
cp "$XTCPD_SRCDIR/conf.d/15-source-closed.conf.example" "$TMP/ok.conf"
printf '[marshaller json]\n[sink file out]\npath = -\n' >> "$TMP/ok.conf"
out=$("$XTCPD" -n -c "$TMP/ok.conf" -C "$TMP/none" 2>&1)
expect_eq "shipped example: accepted" "configuration OK" "$out"
finish
