#!/bin/sh
# Each deliberately broken plugin is refused with one line naming the file and the
# reason, and a configuration that uses it exits 2 without starting anything.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
ABI=$(sed -n 's/^#define XTCPD_ABI_MAJOR \([0-9]*\)$/\1/p' "$XTCPD_SRCDIR/core/include/xtcpd/plugin.h").$(sed -n 's/^#define XTCPD_ABI_MINOR \([0-9]*\)$/\1/p' "$XTCPD_SRCDIR/core/include/xtcpd/plugin.h")
LIBS="$XTCPD_BUILDDIR/.libs"

# setup DIR FILE-IN-LIBS NAME-AS: a plugin folder with the synth source and one plugin.
setup() {
	mkdir -p "$TMP/$1"
	chmod 755 "$TMP/$1"
	cp "$LIBS/source_synth.so" "$TMP/$1/source_synth.so"
	cp "$LIBS/$2" "$TMP/$1/$3"
	chmod 755 "$TMP/$1"/*.so
}

# run_case NAME DIR SECTION EXPECTED-REASON
run_case() {
	printf '%s\n' "$3" "[source synth]" > "$TMP/$1.conf"
	out=$(XTCPD_PLUGIN_DIR="$TMP/$2" "$XTCPD" -n -c "$TMP/$1.conf" -C "$TMP/none" 2>&1)
	rc=$?
	expect_eq "$1: exit status" 2 "$rc"
	expect_eq "$1: message" "xtcpd: $TMP/$1.conf:1: $3: $4" "$out"
}

setup nosym test_broken_nosym.so sink_broken.so
run_case nosym nosym "[sink broken]" "plugin $TMP/nosym/sink_broken.so refused: missing symbol 'xtcpd_plugin'"

setup abi test_broken_abi.so sink_broken.so
run_case abi abi "[sink broken]" "plugin $TMP/abi/sink_broken.so refused: ABI major 2, this xtcpd speaks ABI $ABI"

setup short test_broken_short.so sink_broken.so
run_case short short "[sink broken]" "plugin $TMP/short/sink_broken.so refused: descriptor is 16 bytes, at least 56 needed"

setup kind test_broken_kind.so sink_broken.so
run_case kind kind "[sink broken]" "plugin $TMP/kind/sink_broken.so refused: unknown kind 9 (allowed: 1 source, 2 marshaller, 3 sink)"

setup ops test_broken_ops.so sink_broken.so
run_case ops ops "[sink broken]" "plugin $TMP/ops/sink_broken.so refused: ops table is 40 bytes, a sink needs at least 64"

setup name test_good.so sink_other.so
run_case name name "[sink other]" "plugin $TMP/name/sink_other.so refused: it is named 'broken', configured as 'other'"

setup wrongkind test_good.so source_broken.so
run_case wrongkind wrongkind "[source broken]" "plugin $TMP/wrongkind/source_broken.so refused: it is a sink, configured as a source"

setup missing test_good.so sink_broken.so
run_case missing missing "[sink nope]" "unknown sink plugin 'nope': no $TMP/missing/sink_nope.so"

setup gw test_good.so sink_broken.so
chmod g+w "$TMP/gw/sink_broken.so"
run_case gw gw "[sink broken]" "plugin $TMP/gw/sink_broken.so refused: file $TMP/gw/sink_broken.so is writable by its group (chmod go-w)"

setup ow test_good.so sink_broken.so
chmod o+w "$TMP/ow"
run_case ow ow "[sink broken]" "plugin $TMP/ow/sink_broken.so refused: folder $TMP/ow is writable by others (chmod go-w)"

# Duplicate names: two files declaring sink 'broken'; listing the folder refuses the second.
setup dup test_good.so sink_broken.so
cp "$LIBS/test_good.so" "$TMP/dup/sink_broken2.so"
chmod 755 "$TMP/dup/sink_broken2.so"
out=$(XTCPD_PLUGIN_DIR="$TMP/dup" "$XTCPD" --list-plugins 2>&1 >/dev/null)
rc=$?
expect_eq "dup: exit status" 1 "$rc"
expect_eq "dup: message" "xtcpd: plugin $TMP/dup/sink_broken2.so refused: duplicate name: sink 'broken' is already loaded from $TMP/dup/sink_broken.so" "$out"

# The good one loads and lists.
setup good test_good.so sink_broken.so
out=$(XTCPD_PLUGIN_DIR="$TMP/good" "$XTCPD" --list-plugins 2>&1)
expect_eq "good: listed" "$(printf 'sink\tbroken\t0\tdeliberately broken test plugin\nsource\tsynth\t1.0\tsynthetic records for tests and benchmarks')" "$out"
finish
