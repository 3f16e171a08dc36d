#!/bin/sh
# fuzz — build the parser's libFuzzer target with ASan/UBSan and run it for
# FUZZ_SECONDS (default 60), seeded with the synthetic replay fixtures.
# Usage: fuzz.sh [SRCDIR [BUILDDIR]] (needs clang with libFuzzer). Exit status: 0 clean,
# 77 cannot run (says why), else the fuzzer found something (report and input kept).
S=${1:-${XTCPD_SRCDIR:-..}}
B=${2:-.}
command -v clang > /dev/null || { echo "SKIP: no clang (Debian packages clang, libclang-rt-14-dev)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$S" -I"$S/core/include" -o "$T/fuzz_parse" \
	"$S/tests/plugins/sources/netlink/fuzz_parse.c" "$S/plugins/sources/netlink/parse.c" -lmnl || exit 1
mkdir "$T/corpus" "$T/crash"
/usr/bin/python3 "$S/tests/plugins/sources/netlink/mkfixtures.py" "$T/corpus" || exit 1
"$T/fuzz_parse" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 -error_exitcode=99 -timeout_exitcode=98 -artifact_prefix="$T/crash/" \
	"$T/corpus" > "$T/log" 2>&1
rc=$?
tail -4 "$T/log"
if [ $rc != 0 ]; then
	grep -A40 'ERROR\|runtime error\|deadly signal' "$T/log" | head -80
	mkdir -p "$B/fuzz-artifacts" && cp "$T"/crash/* "$B/fuzz-artifacts/" 2>/dev/null &&
		echo "fuzz: the failing input is in $B/fuzz-artifacts/"
fi
exit $rc
