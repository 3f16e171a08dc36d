#!/usr/bin/env bash
# Newcomer command (2), and what CI runs: install dependencies, build from scratch in
# build-test/, run the whole test suite (make check, as root so the namespace tests
# run), then make distcheck. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 1
autoreconf -fi || exit 1
rm -rf build-test
mkdir build-test && cd build-test || exit 1
../configure --enable-netlink=yes --enable-json=yes --enable-protobuf=yes --enable-kafka=yes \
	--enable-http=yes --enable-nats=yes --enable-valkey=yes \
	--enable-tests=yes --enable-metrics-http=yes --enable-libcap=yes --enable-bpf-iter=yes || exit 1
make -j"$(nproc)" || exit 1
make -j"$(nproc)" check
check_rc=$?
for f in $(find . -name '*.log' -path './tests/*' | sort); do
	grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null && { echo "=== $f"; tail -40 "$f"; }
done
pass=$(grep -h '^:test-result: PASS' $(find . -name '*.trs') | wc -l)
failed=$(grep -h '^:test-result: \(FAIL\|ERROR\|XPASS\)' $(find . -name '*.trs') | wc -l)
skipped=$(grep -h '^:test-result: SKIP' $(find . -name '*.trs') | wc -l)
dist_rc=0
if [ "${XTCPD_SKIP_DISTCHECK:-0}" != 1 ]; then
	make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-tests=yes" >distcheck.log 2>&1
	dist_rc=$?
	if [ $dist_rc -eq 0 ]; then echo "make distcheck: OK"; pass=$((pass + 1)); else
		tail -60 distcheck.log; echo "make distcheck: FAILED"; failed=$((failed + 1)); fi
fi
echo "$pass passed, $failed failed, $skipped skipped"
[ $check_rc -eq 0 ] && [ $dist_rc -eq 0 ] && [ "$failed" -eq 0 ]
