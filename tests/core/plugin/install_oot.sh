#!/bin/sh
# make install lays out a distro-ready tree (pkgconf prefixes paths with the sysroot), and a plugin built out of tree against
# nothing but the installed headers and `pkg-config --cflags xtcpd` loads and runs.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin marshaller_protobufList sink_file sink_null source_synth
need_cmd pkg-config:pkg-config
ROOT="$TMP/root"
${MAKE:-make} -s -C "$XTCPD_BUILDDIR" install DESTDIR="$ROOT" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "make install"; finish; exit 1; }
pcdir=$(find "$ROOT" -name xtcpd.pc -printf '%h\n' | head -1)
expect_eq "xtcpd.pc installed" yes "$([ -n "$pcdir" ] && echo yes)"
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$ROOT"
plugindir=$(pkg-config --variable=plugindir xtcpd)
sbindir="$(pkg-config --variable=prefix xtcpd)/sbin"
sysconf=$(pkg-config --variable=sysconfdir xtcpd)
for f in "$sbindir/xtcpd" "$plugindir/sink_file.so" "$plugindir/sink_null.so" \
	"$plugindir/marshaller_protobufList.so" "$sysconf/xtcpd/xtcpd.conf" \
	"$sysconf/xtcpd/conf.d/10-source-netlink.conf" "$sysconf/xtcpd/conf.d/30-sink-stdout.conf"; do
	expect_eq "installed: ${f#$ROOT}" yes "$([ -e "$f" ] && echo yes)"
done
incdir=$(pkg-config --cflags xtcpd | sed 's/^-I//; s/ *$//')
expect_eq "headers under the pkg-config include path" yes \
	"$([ -e "$incdir/xtcpd/plugin.h" ] && [ -e "$incdir/xtcpd/record.h" ] &&
		[ -e "$incdir/xtcpd/record_fields.h" ] && echo yes)"
expect_eq "no test plugin installed" "" "$(ls "$plugindir" | grep -E 'test_|synth' || true)"

# The third-party plugin: compiled from one file with the installed headers only.
mkdir -p "$TMP/plugins" && chmod 755 "$TMP/plugins"
${CC:-cc} -std=c11 -Wall -Werror -shared -fPIC $(pkg-config --cflags xtcpd) \
	-o "$TMP/plugins/sink_oot.so" "$XTCPD_SRCDIR/tests/lib/plugins/oot_sink.c" || fail "oot plugin build"
# A marshaller built the same way over the installed field table.
${CC:-cc} -std=c11 -Wall -Werror -shared -fPIC $(pkg-config --cflags xtcpd) \
	-o "$TMP/plugins/marshaller_ootfields.so" "$XTCPD_SRCDIR/tests/lib/plugins/oot_marshaller.c" ||
	fail "oot marshaller build"
cp "$plugindir"/*.so "$XTCPD_PLUGIN_DIR/source_synth.so" "$TMP/plugins/"
chmod 755 "$TMP/plugins"/*.so
cat > "$TMP/oot.conf" <<EOC
[core]
prom_listen =
[source synth]
records = 1234
[marshaller protobufList]
flush_rows = 100
[sink oot]
path = $TMP/counts
EOC
out=$(XTCPD_PLUGIN_DIR="$TMP/plugins" "$sbindir/xtcpd" -c "$TMP/oot.conf" -C "$TMP/none" --once 2>&1)
expect_eq "installed daemon runs the oot sink" 0 $?
expect_eq "oot sink got every row" "rows=1234 batches=14" "$(cat "$TMP/counts" 2>/dev/null)"
expect_eq "oot plugin keys" "path	string	-	up to 4095 characters	(required) where to write the counts" \
	"$(XTCPD_PLUGIN_DIR="$TMP/plugins" "$sbindir/xtcpd" --help-plugin oot | sed -n 3p)"

# Both out-of-tree plugins together: synth -> oot marshaller -> file. Every record once,
# and the field table it expanded maps every schema field (the TSV) plus our extensions.
cat > "$TMP/oot2.conf" <<EOC
[core]
prom_listen =
[source synth]
records = 1234
[marshaller ootfields]
[sink file]
path = $TMP/oot.txt
EOC
XTCPD_PLUGIN_DIR="$TMP/plugins" "$sbindir/xtcpd" -c "$TMP/oot2.conf" -C "$TMP/none" --once \
	>"$TMP/oot2.log" 2>&1
expect_eq "oot marshaller run" 0 $?
nschema=$(($(wc -l < "$XTCPD_SRCDIR/proto/xtcp_flat_record_v1.tsv") - 1))
next=$(grep -c '= 50[0-9][0-9];' "$XTCPD_SRCDIR/proto/xtcp_flat_record.proto")
expect_eq "oot marshaller: one line per record" 1234 "$(wc -l < "$TMP/oot.txt")"
expect_eq "oot marshaller: counters 1..1234 once each" "1 1234 1234" \
	"$(sed 's/counter=\([0-9]*\).*/\1/' "$TMP/oot.txt" | sort -n | uniq | awk 'NR==1{a=$1} {n++; b=$1} END{print a, b, n}')"
expect_eq "oot marshaller: the table maps schema + extensions" "fields=$((nschema + next))" \
	"$(sed 's/.* \(fields=[0-9]*\) .*/\1/' "$TMP/oot.txt" | sort -u)"
finish
