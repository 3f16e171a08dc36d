#!/bin/sh
# fuzz — build the parser's libFuzzer target with ASan/UBSan and run it for
# FUZZ_SECONDS (default 60), seeded with the synthetic replay fixtures.
# Usage: fuzz.sh [SRCDIR] (needs clang with libFuzzer).
S=${1:-${XTCPD_SRCDIR:-..}}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v clang >/dev/null || { echo "fuzz: clang not found"; exit 77; }
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$S" -I"$S/core/include" -o "$T/fuzz_parse" \
	"$S/tests/plugins/sources/netlink/fuzz_parse.c" "$S/plugins/sources/netlink/parse.c" -lmnl || exit 1
mkdir "$T/corpus"
/usr/bin/python3 "$S/tests/plugins/sources/netlink/mkfixtures.py" "$T/corpus" || exit 1
"$T/fuzz_parse" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 "$T/corpus" 2>&1 | tail -3
