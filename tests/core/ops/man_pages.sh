#!/bin/sh
# man_pages.sh — the manual pages render without warnings; xtcpd(8) documents every option
# `xtcpd --help` lists; and the example plugin of xtcpd-plugin(3), cut from the page as a
# reader would, builds warning-free against the public headers, exports one symbol, and is
# loaded and run by the daemon, its check op refusing a bad value at -n.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_cmd man:man-db col:bsdextrautils nm:binutils "${CC:-cc}:build-essential"
need_plugin source_synth marshaller_json
B=$XTCPD_BUILDDIR S=$XTCPD_SRCDIR
render() { MANWIDTH=120 MAN_KEEP_FORMATTING= man --warnings -l "$1" 2>"$TMP/warn" | col -bx; }

render "$B/man/xtcpd.8" > "$TMP/xtcpd.8.txt"
expect_eq "xtcpd.8 renders cleanly" "" "$(cat "$TMP/warn")"
render "$S/man/xtcpd-plugin.3" > "$TMP/plugin.3.txt"
expect_eq "xtcpd-plugin.3 renders cleanly" "" "$(cat "$TMP/warn")"
expect_eq "no unsubstituted @VAR@ in xtcpd.8" "" "$(grep -o '@[a-zA-Z]*@' "$B/man/xtcpd.8" || true)"

# every option of --help is a tag in OPTIONS
sed -n '/^OPTIONS/,/^   Options of xtcp2/p' "$TMP/xtcpd.8.txt" | grep '^       -' > "$TMP/tags"
"$XTCPD" --help | grep -o -e '--[a-z][a-z-]*' -e '^  -[a-zA-Z]' | sed 's/^ *//' | sort -u > "$TMP/opts"
while read -r o; do
	grep -qE -- "(^|[ ,])$o([ ,]|$)" "$TMP/tags" || fail "xtcpd.8 does not document $o"
done < "$TMP/opts"
expect_eq "options compared" 1 "$([ "$(wc -l < "$TMP/opts")" -ge 15 ] && echo 1)"

# the example plugin, exactly as printed
awk '/^EXAMPLE/ { on = 1; next } on && /^[A-Z]/ { exit } on' "$TMP/plugin.3.txt" |
	awk '/^       #include <errno.h>/ { on = 1 } on && /^       Build and install/ { exit }
	     on { print substr($0, 8) }' > "$TMP/count.c"
expect_eq "example starts with its includes" "#include <errno.h>" "$(head -1 "$TMP/count.c")"
CC=${CC:-cc}
if ! $CC -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -shared -fPIC \
	-fvisibility=hidden -I"$S/core/include" -o "$TMP/sink_count.so" "$TMP/count.c" 2> "$TMP/cc"; then
	fail "example does not build"; cat "$TMP/cc" >&2
	finish; exit
fi
expect_eq "exported symbols" "xtcpd_plugin" \
	"$(nm -D --defined-only "$TMP/sink_count.so" | awk '$2 ~ /[A-Z]/ { print $3 }')"
if [ "$(id -u)" != 0 ]; then
	skip_part "not root: the loader takes only root-owned plugins, the example is not loaded"
else
	# the loader wants root-owned files not writable by others: a private plugin folder
	mkdir -m 755 "$TMP/plugins"
	cp "$TMP/sink_count.so" "$XTCPD_PLUGIN_DIR/source_synth.so" \
		"$XTCPD_PLUGIN_DIR/marshaller_json.so" "$TMP/plugins/"
	chmod 644 "$TMP/plugins/"*.so
	out=$(XTCPD_PLUGIN_DIR="$TMP/plugins" "$XTCPD" --help-plugin count 2>&1 | grep -v '^#' | head -1)
	expect_eq "the daemon lists the example's key" \
		"$(printf 'fail\tbool\tfalse\ttrue|false\treport every batch as failed (for tests)')" "$out"
	printf '[core]\nprom_listen =\nnetns = host\n[source synth]\nrecords = 50\n[marshaller json]\n[sink count]\nmarshaller = json\n' \
		> "$TMP/x.conf"
	mkdir "$TMP/conf.d"
	XTCPD_PLUGIN_DIR="$TMP/plugins" "$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" --once > "$TMP/out" 2>&1
	expect_eq "one cycle into the example sink" "0 " "$? $(cat "$TMP/out")"
	XTCPD_PLUGIN_DIR="$TMP/plugins" "$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" -n \
		-o sink.count.unit=kB > "$TMP/out" 2>&1
	expect_eq "the example's check refuses a bad unit at -n" \
		"2 xtcpd: command line: [sink count] unit: 'kB' is not a unit (allowed: bytes)" "$? $(cat "$TMP/out")"
fi
finish
