#!/bin/sh
# Every bad configuration of tests/core/conf/bad-conf gets its own exact message (file:line,
# section, key, what is allowed) and exit status 2, and nothing starts (-n and a real
# start are checked alike). Expected lines: tests/core/conf/bad-conf/expected.txt, with @F@
# for the case's path and @P@ for the plugin folder. A case's "# needs: PLUGIN" line names a
# plugin it needs beyond the four below: without it the case is skipped (a failure under CI).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_protobufList marshaller_csv marshaller_tsv sink_file sink_null sink_unix sink_tcp
DIR="$XTCPD_SRCDIR/tests/core/conf/bad-conf"
n=0
for f in "$DIR"/*.conf; do
	name=$(basename "$f")
	want=$(grep "^$name	" "$DIR/expected.txt" | cut -f2- | sed "s|@F@|$f|g; s|@P@|$XTCPD_PLUGIN_DIR|g")
	[ -n "$want" ] || { fail "$name: no expected message"; continue; }
	needs=$(sed -n 's/^# needs: //p' "$f")
	if [ -n "$needs" ] && ! have_plugin "$needs"; then
		echo "$name: skipped, $needs not built"
		[ "${CI:-}" = true ] && fail "$name: $needs not built under CI"
		continue
	fi
	args=$(sed -n 's/^# args: //p' "$f")
	for mode in -n --once; do
		if [ -n "$args" ]; then
			out=$("$XTCPD" $mode -c "$f" -C "$TMP/none" "${args%% *}" "${args#* }" 2>&1 >"$TMP/stdout")
		else
			out=$("$XTCPD" $mode -c "$f" -C "$TMP/none" 2>&1 >"$TMP/stdout")
		fi
		rc=$?
		expect_eq "$name ($mode): exit status" 2 "$rc"
		expect_eq "$name ($mode): message" "xtcpd: $want" "$out"
		expect_eq "$name ($mode): nothing on stdout" "" "$(cat "$TMP/stdout")"
	done
	n=$((n + 1))
done
expect_eq "corpus size is at least 15" yes "$([ $n -ge 15 ] && echo yes)"
expect_eq "a refused start created nothing (31: two sinks, one file)" no \
	"$([ -e /tmp/xtcpd-corpus-31.out ] && echo yes || echo no)"
finish
