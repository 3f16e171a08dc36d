#!/bin/sh
# conf_examples — every disabled example shipped in conf.d/ (*.conf.example), enabled on
# its own beside the shipped configuration (renamed to .conf), passes `xtcpd -n`; so does
# each example marshaller with each example sink pointed at it. Every example is checked:
# one whose plugin was not built is a skip (a failure under CI).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_netlink
S="$XTCPD_SRCDIR"
n=0 total=0
# try NAME FILE...: the shipped conf.d plus FILEs (as .conf) must check OK.
try() {
	name=$1
	shift
	rm -rf "$TMP/d"
	mkdir "$TMP/d"
	cp "$S"/conf.d/*.conf "$TMP/d/"
	for f in "$@"; do cp "$f" "$TMP/d/$(basename "$f" .example)"; done
	expect_eq "$name" "configuration OK" "$("$XTCPD" -c "$S/xtcpd.conf" -C "$TMP/d" -n 2>&1)"
}
for f in "$S"/conf.d/*.conf.example; do
	total=$((total + 1))
	# the plugin of its first section (names such as io_uring and bpf_iter included)
	p=$(sed -n 's/^\[\(marshaller\|sink\|source\) \([A-Za-z0-9_]*\).*/\1_\2/p' "$f" | head -1)
	have_plugin "$p" || { skip_part "$p not built: $(basename "$f") not checked"; continue; }
	try "$(basename "$f")" "$f"
	n=$((n + 1))
done
for m in "$S"/conf.d/20-marshaller-*.conf.example; do
	mname=$(sed -n 's/^\[marshaller \([A-Za-z]*\).*/\1/p' "$m")
	for k in "$S"/conf.d/40-sink-*.conf.example; do
		sed "s/^marshaller = json/marshaller = $mname/" "$k" > "$TMP/$(basename "$k")"
		try "$(basename "$m") + $(basename "$k")" "$m" "$TMP/$(basename "$k")"
	done
done
expect_eq "shipped examples found" yes "$([ $total -ge 13 ] && echo yes)"
expect_eq "every shipped example checked" "$total" "$n"
finish
