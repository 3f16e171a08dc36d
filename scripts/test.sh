#!/usr/bin/env bash
# Newcomer command (2), and what CI runs: install dependencies, build from scratch in
# build-test/, run the whole test suite (make check, as root so the namespace tests
# run), then make deb and make distcheck. Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 1
autoreconf -fi || exit 1
rm -rf build-test
mkdir build-test && cd build-test || exit 1
../configure --enable-netlink=yes --enable-json=yes --enable-protobuf=yes --enable-kafka=yes \
	--enable-tests=yes --enable-metrics-http=yes --enable-libcap=yes || exit 1
make -j"$(nproc)" || exit 1
make -j"$(nproc)" check
check_rc=$?
for f in $(find . -name '*.log' -path './tests/*' | sort); do
	grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null && { echo "=== $f"; tail -40 "$f"; }
done
pass=$(grep -h '^:test-result: PASS' $(find . -name '*.trs') | wc -l)
failed=$(grep -h '^:test-result: \(FAIL\|ERROR\|XPASS\)' $(find . -name '*.trs') | wc -l)
skipped=$(grep -h '^:test-result: SKIP' $(find . -name '*.trs') | wc -l)
# The Debian packages: built from this tree's tarball, lintian, installed and purged in a
# debootstrap root (scripts/deb.sh; needs the Debian mirror).
deb_rc=0
if [ "${XTCPD_SKIP_DEB:-0}" != 1 ]; then
	make deb >deb.log 2>&1
	deb_rc=$?
	if [ $deb_rc -ne 0 ]; then tail -80 deb.log; echo "make deb: FAILED"; failed=$((failed + 1))
	elif grep -q '^SKIP' deb.log; then grep '^SKIP' deb.log; skipped=$((skipped + 1))
	else echo "make deb: OK ($(grep '^== done' deb.log))"; pass=$((pass + 1)); fi
fi
dist_rc=0
if [ "${XTCPD_SKIP_DISTCHECK:-0}" != 1 ]; then
	make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-tests=yes" >distcheck.log 2>&1
	dist_rc=$?
	if [ $dist_rc -eq 0 ]; then echo "make distcheck: OK"; pass=$((pass + 1)); else
		tail -60 distcheck.log; echo "make distcheck: FAILED"; failed=$((failed + 1)); fi
fi
echo "$pass passed, $failed failed, $skipped skipped"
[ $check_rc -eq 0 ] && [ $deb_rc -eq 0 ] && [ $dist_rc -eq 0 ] && [ "$failed" -eq 0 ]
