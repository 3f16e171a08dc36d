#!/bin/sh
# Every bad configuration of tests/core/conf/bad-conf gets its own exact message (file:line,
# section, key, what is allowed) and exit status 2, and nothing starts (-n and a real
# start are checked alike). Expected lines: tests/core/conf/bad-conf/expected.txt, with @F@
# for the case's path and @P@ for the plugin folder.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
for p in source_synth marshaller_protobufList sink_file sink_null; do have_plugin $p || { echo "SKIP: $p not built"; exit $SKIP; }; done
DIR="$XTCPD_SRCDIR/tests/core/conf/bad-conf"
n=0
for f in "$DIR"/*.conf; do
	name=$(basename "$f")
	want=$(grep "^$name	" "$DIR/expected.txt" | cut -f2- | sed "s|@F@|$f|g; s|@P@|$XTCPD_PLUGIN_DIR|g")
	[ -n "$want" ] || { fail "$name: no expected message"; continue; }
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
finish
