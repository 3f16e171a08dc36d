#!/usr/bin/env bash
# Newcomer command (2), and what CI runs (.ci/run, with CI=true): install dependencies,
# build from scratch in build-test/, make check (as root so the namespace tests run),
# then side by side: make distcheck, make deb (the Debian packages built, linted and
# test-installed in a debootstrap root), the unit tests again under ASan+UBSan
# (build-asan/), and the fuzz targets for FUZZ_SECONDS (60) each. Under CI=true any skip fails the run.
# Prints the time of each part; the last line says how many checks ran and how they ended.
# XTCPD_SKIP_DISTCHECK=1, XTCPD_SKIP_DEB=1, XTCPD_SKIP_SANITIZERS=1, XTCPD_SKIP_FUZZ=1 leave a part out
# (counted as a skip).
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
CI=${CI:-}
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc)
# Tests mostly wait (on daemons, brokers, namespaces): twice as many as CPUs at once.
CHECK_JOBS=${CHECK_JOBS:-$((JOBS * 2))}
CONFIGURE_FLAGS=(--enable-netlink=yes --enable-json=yes --enable-protobuf=yes --enable-kafka=yes
	--enable-http=yes --enable-nats=yes --enable-valkey=yes --enable-tests=yes --enable-metrics-http=yes --enable-libcap=yes --enable-bpf-iter=yes --enable-io-uring=yes --enable-grpc=yes --enable-lldp=yes)
# What runs under ASan+UBSan (and why the rest does not) is in README.md, "Sanitizers".
ASAN_TESTS="tests/core/conf/test_conf tests/core/conf/test_compat tests/core/pipeline/test_pool_queue
	tests/core/netns/test_netns tests/core/netns/test_ident tests/core/ops/test_uplink tests/core/ops/test_httpd tests/core/ops/test_caps
	tests/core/ops/test_caps_proc tests/plugins/sources/netlink/test_parse
	tests/plugins/sources/netlink/test_request tests/plugins/sources/netlink/test_integrity
	tests/plugins/sources/closed/test_filter
	tests/plugins/marshallers/test_json tests/plugins/marshallers/test_protobuf_list
	tests/plugins/marshallers/test_random tests/plugins/sinks/test_file tests/plugins/sinks/test_udp
	tests/plugins/sinks/kafka/test_kafka
	tests/core/conf/config_corpus.sh tests/core/conf/compat_daemon.sh
	tests/core/netns/enrich_container.sh tests/core/netns/enrich_docker.sh tests/core/ops/enrich_lldp.sh tests/core/ops/reload_ns.sh
	tests/core/plugin/broken_plugins.sh tests/core/ops/lifecycle.sh tests/core/ops/metrics_http.sh
	tests/core/ops/live_host.sh tests/core/pipeline/pipeline_metrics.sh tests/core/pipeline/old_source.sh
	tests/plugins/marshallers/live_protobuf_list.sh tests/plugins/sinks/e2e_file.sh
	tests/plugins/sinks/e2e_udp.sh tests/plugins/sinks/e2e_two_sinks.sh
	tests/plugins/sources/io_uring/ring_daemon.sh"
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

P=0 F=0 S=0 NTESTS=0 TIMES=""
UNCOUNTED=""
# part NAME SECONDS: remember how long a part took
part() { TIMES="$TIMES$(printf '  %-26s %5d s' "$1" "$2")"$'\n'; echo "== $1: $2 s"; }
# add PASSED FAILED SKIPPED
add() { P=$((P + $1)) F=$((F + $2)) S=$((S + $3)); }

# count_tests DIR: add up the checks every test of a make check in DIR reported: the
# "N passed, N failed, N skipped" lines (tests/lib/lib.sh, check_formats.py) and
# cmocka's totals. A test that reports no count counts as one check (a failure under CI:
# every test must say what it checked).
count_tests() {
	local trs log res p f s n
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
		NTESTS=$((NTESTS + 1))
		read -r p f s n < <(awk '
			/^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ { p += $1; f += $3; s += $5; n++ }
			/^\[  PASSED  \] [0-9]+ test\(s\)\.$/ { p += $4; n++ }
			/^\[  FAILED  \] [0-9]+ test\(s\), listed below:$/ { f += $4; n++ }
			/^\[  SKIPPED \] [0-9]+ test\(s\), listed below:$/ { s += $4; n++ }
			END { print p + 0, f + 0, s + 0, n + 0 }' "$log")
		case $res in FAIL|ERROR|XPASS) [ "$f" -gt 0 ] || f=1 ;; SKIP) [ "$s" -gt 0 ] || s=1 ;; esac
		if [ "$n" = 0 ]; then
			UNCOUNTED="$UNCOUNTED ${trs%.trs}"
			case $res in PASS) if [ "$CI" = true ]; then f=1; else p=1; fi ;; esac
		fi
		add "$p" "$f" "$s"
		case $res in FAIL|ERROR|XPASS) echo "=== ${log#./}"; tail -40 "$log" ;; esac
	done < <(find . -name '*.trs' -path './tests/*' | sort)
}

bash scripts/deps.sh || exit 1
t=$SECONDS
autoreconf -fi > /dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }
rm -rf build-test build-asan
mkdir build-test && cd build-test || exit 1
../configure "${CONFIGURE_FLAGS[@]}" > configure.log 2>&1 || { tail -30 configure.log; exit 1; }
make -j"$JOBS" > build.log 2>&1 || { tail -60 build.log; exit 1; }
cd "$TOP"
part "build" $((SECONDS - t))

# make check
t=$SECONDS
(cd build-test && make -j"$CHECK_JOBS" check > check.out 2>&1)
check_rc=$?
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' build-test/check.out | sed 's/^/  /'
pushd build-test > /dev/null; count_tests; popd > /dev/null
[ $check_rc = 0 ] || { [ $F -gt 0 ] || F=$((F + 1)); tail -20 build-test/check.out; }
part "make check ($NTESTS tests)" $((SECONDS - t))

# Then, at once (each mostly waits on its tests' processes): make distcheck, make deb, the
# ASan+UBSan build and its tests, and the fuzz targets. Each writes its log, exit status
# and time under build-test/parts/; they are reported in this order afterwards.
mkdir -p build-test/parts
# bg NAME COMMAND...: run COMMAND in the background, keeping its status and time
bg() {
	local name=$1
	shift
	# absolute paths: the part's function changes folder
	( t0=$SECONDS; "$@" > "$TOP/build-test/parts/$name.log" 2>&1; echo $? > "$TOP/build-test/parts/$name.rc"
	  echo $((SECONDS - t0)) > "$TOP/build-test/parts/$name.secs" ) &
}
# distcheck proves the release tarball builds, installs, uninstalls and runs its tests from
# a read-only source tree; make check above already ran every test on this tree, so the
# tarball runs the unit tests, the configuration corpus and the out-of-tree plugin build
# (TESTS on the command line reaches distcheck's inner make check).
DIST_TESTS="tests/core/conf/test_conf tests/core/conf/test_compat tests/core/conf/config_corpus.sh
	tests/core/pipeline/test_pool_queue tests/core/plugin/install_oot.sh
	tests/plugins/sources/netlink/test_parse tests/plugins/sources/netlink/test_request
	tests/plugins/marshallers/test_json tests/plugins/marshallers/test_protobuf_list
	tests/plugins/sinks/test_file tests/plugins/sinks/test_udp"
distcheck() {
	cd build-test && make -j"$CHECK_JOBS" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-tests=yes" \
		TESTS="$(echo $DIST_TESTS)"
}
asan() {
	mkdir build-asan && cd build-asan || return 1
	../configure "${CONFIGURE_FLAGS[@]}" CFLAGS="-O1 -g $SAN_FLAGS" LDFLAGS="$SAN_FLAGS" \
		> configure.log 2>&1 || { tail -40 configure.log; return 2; }
	make -j"$JOBS" > build.log 2>&1 || { tail -60 build.log; return 2; }
	# halt on the first report, leaks included: the test's exit status then fails
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:strict_string_checks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
		make -j"$CHECK_JOBS" check TESTS="$(echo $ASAN_TESTS)" > check.out 2>&1
}
fuzz() { cd build-test && make "$1"; }
debs() { cd build-test && make deb; }
t=$SECONDS
[ "${XTCPD_SKIP_DISTCHECK:-0}" = 1 ] || bg distcheck distcheck
[ "${XTCPD_SKIP_DEB:-0}" = 1 ] || bg deb debs
[ "${XTCPD_SKIP_SANITIZERS:-0}" = 1 ] || bg asan asan
if [ "${XTCPD_SKIP_FUZZ:-0}" != 1 ]; then
	bg fuzz-netlink fuzz fuzz-netlink
	bg fuzz-marshal fuzz fuzz-marshal
fi
wait
echo "== distcheck, deb, sanitizers and fuzzing, side by side: $((SECONDS - t)) s"
# absolute paths: the sanitizer report below reads them from build-asan/
secs() { cat "$TOP/build-test/parts/$1.secs" 2>/dev/null || echo 0; }
rc_of() { cat "$TOP/build-test/parts/$1.rc" 2>/dev/null || echo 1; }

if [ "${XTCPD_SKIP_DISTCHECK:-0}" != 1 ]; then
	if [ "$(rc_of distcheck)" = 0 ]; then echo "make distcheck: OK"; add 1 0 0
	else tail -60 build-test/parts/distcheck.log; echo "make distcheck: FAILED"; add 0 1 0; fi
	part "make distcheck" "$(secs distcheck)"
else
	echo "SKIP: make distcheck (XTCPD_SKIP_DISTCHECK=1)"; add 0 0 1
fi

if [ "${XTCPD_SKIP_DEB:-0}" != 1 ]; then
	log=build-test/parts/deb.log
	if [ "$(rc_of deb)" != 0 ]; then tail -80 "$log"; echo "make deb: FAILED"; add 0 1 0
	elif grep -q '^SKIP' "$log"; then grep '^SKIP' "$log"; if [ "$CI" = true ]; then add 0 1 1; else add 0 0 1; fi
	else echo "make deb: OK ($(grep '^== done' "$log"))"; add 1 0 0; fi
	part "make deb" "$(secs deb)"
else
	echo "SKIP: make deb (XTCPD_SKIP_DEB=1)"; add 0 0 1
fi

if [ "${XTCPD_SKIP_SANITIZERS:-0}" != 1 ]; then
	n0=$NTESTS p0=$P f0=$F s0=$S
	if [ -e build-asan/check.out ]; then
		cd build-asan
		grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' check.out | sed 's/^/  /'
		count_tests
		[ "$(rc_of asan)" = 0 ] || [ $F -gt $f0 ] || add 0 1 0
		reports=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $(find tests -name '*.log') 2>/dev/null)
		[ -z "$reports" ] || { echo "sanitizer reports in:"; echo "$reports"; [ $F -gt $f0 ] || add 0 1 0; }
		cd "$TOP"
	else
		cat build-test/parts/asan.log; add 0 1 0
	fi
	echo "asan+ubsan: $((NTESTS - n0)) tests, $((P - p0)) passed, $((F - f0)) failed, $((S - s0)) skipped"
	part "asan+ubsan ($((NTESTS - n0)) tests)" "$(secs asan)"
else
	echo "SKIP: sanitizers (XTCPD_SKIP_SANITIZERS=1)"; add 0 0 1
fi

# Fuzzing: each target FUZZ_SECONDS; any report fails
if [ "${XTCPD_SKIP_FUZZ:-0}" != 1 ]; then
	for target in fuzz-netlink fuzz-marshal; do
		log=build-test/parts/$target.log
		case $(rc_of "$target") in
		0) tail -2 "$log"; echo "$target: clean for $FUZZ_SECONDS s"; add 1 0 0 ;;
		*) if grep -q '^SKIP: ' "$log"; then
			   grep '^SKIP: ' "$log"
			   if [ "$CI" = true ]; then add 0 1 1; else add 0 0 1; fi
		   else
			   tail -60 "$log"; echo "$target: FAILED"; add 0 1 0
		   fi ;;
		esac
		part "$target" "$(secs "$target")"
	done
else
	echo "SKIP: fuzzing (XTCPD_SKIP_FUZZ=1)"; add 0 0 1
fi

if [ -n "$UNCOUNTED" ]; then
	echo "tests that report no count of their checks (use tests/lib/lib.sh's finish):$UNCOUNTED"
fi
[ "$CI" = true ] && [ "$S" -gt 0 ] && echo "CI=true: $S skipped: every skip fails the run"
echo "time per part:"
printf '%s' "$TIMES"
echo "total: $((P + F + S)) checks in $NTESTS tests + distcheck + fuzz targets: $P passed, $F failed, $S skipped"
[ "$F" = 0 ] && { [ "$CI" != true ] || [ "$S" = 0 ]; }
