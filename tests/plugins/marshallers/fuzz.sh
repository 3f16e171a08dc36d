#!/bin/sh
# fuzz — build the marshallers' libFuzzer target (fuzz_marshal.c) with ASan/UBSan and run
# it for FUZZ_SECONDS (default 60) from a few seeds made here. The three marshallers are
# compiled in with coverage, each descriptor renamed; the test host and the core come
# from the build folder's convenience libraries (make check builds them).
# Usage: fuzz.sh SRCDIR BUILDDIR. Exit status: 0 clean, 77 cannot run (says why), else
# the fuzzer found something (its report and the input are printed and kept).
S=${1:?usage: fuzz.sh SRCDIR BUILDDIR}
B=${2:?usage: fuzz.sh SRCDIR BUILDDIR}
command -v clang > /dev/null || { echo "SKIP: no clang (Debian packages clang, libclang-rt-14-dev)"; exit 77; }
for f in "$B/.libs/libtesthost.a" "$B/.libs/libxtcpdcore.a" "$B/proto/xtcp_flat_record.pb-c.c"; do
	[ -e "$f" ] || { echo "fuzz: no $f: run make check in $B first"; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CFLAGS="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-I$B -I$S/core/include -I$S/core -I$S $(pkg-config --cflags json-c libprotobuf-c)"
for p in protobufList/protobuf_list:protobuf_list protoJson/proto_json:proto_json json/json:json; do
	src=${p%%:*} name=${p#*:}
	clang $CFLAGS -c -Dxtcpd_plugin=fz_plugin_$name -o "$T/$name.o" "$S/plugins/marshallers/$src.c" || exit 1
done
LIBS="$(pkg-config --libs json-c libprotobuf-c)" || { echo "fuzz: pkg-config: no json-c or libprotobuf-c"; exit 1; }
# the core links libcurl when enrich_docker is built (core/netns/docker.c)
for m in libmicrohttpd libcap libcurl; do pkg-config --exists $m && LIBS="$LIBS $(pkg-config --libs $m)"; done
clang $CFLAGS -o "$T/fuzz_marshal" "$S/tests/plugins/marshallers/fuzz_marshal.c" "$T"/*.o \
	"$B/proto/xtcp_flat_record.pb-c.c" "$B/.libs/libtesthost.a" "$B/.libs/libxtcpdcore.a" \
	$LIBS -ldl -lpthread || exit 1
# Seeds: one record of zeros, one of 0xff, and a few of pseudo-random bytes.
mkdir "$T/corpus" "$T/crash"
head -c 3000 /dev/zero > "$T/corpus/zeros"
head -c 3000 /dev/zero | tr '\0' '\377' > "$T/corpus/ones"
/usr/bin/python3 -c '
import random, sys
r = random.Random(7)
for i in range(4):
    open("%s/seed%d" % (sys.argv[1], i), "wb").write(bytes(r.randrange(256) for _ in range(500 + 2000 * i)))
' "$T/corpus"
cd "$T" || exit 1
XTCPD_PLUGIN_DIR=/nonexistent ./fuzz_marshal -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 -error_exitcode=99 -timeout_exitcode=98 \
	-artifact_prefix="$T/crash/" corpus > "$T/log" 2>&1
rc=$?
tail -4 "$T/log"
if [ $rc != 0 ]; then
	grep -A40 'ERROR\|runtime error\|deadly signal' "$T/log" | head -80
	mkdir -p "$B/fuzz-artifacts" && cp "$T"/crash/* "$B/fuzz-artifacts/" 2>/dev/null &&
		echo "fuzz: the failing input is in $B/fuzz-artifacts/"
fi
exit $rc
