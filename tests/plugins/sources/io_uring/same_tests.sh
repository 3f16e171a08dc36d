#!/bin/sh
# same_tests — the netlink source's namespace tests, run again with the io_uring source
# (its nupoll driver and plugin): replay and --capture (the live capture replays to the
# live records, the daemon's capture to what it printed), a deleted namespace is freed
# while polling (its receive is cancelled and its socket closed), and 200 namespaces add
# no thread, in the driver and in the daemon. Each prints its own counts. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
for t in tests/plugins/sources/netlink/replay.sh tests/core/netns/ns_free.sh tests/core/netns/ns_threads.sh; do
	echo "== $t with the io_uring source"
	NLPOLL="$B/tests/plugins/sources/io_uring/nupoll" SOURCE=io_uring sh "$S/$t" >"$TMP/out" 2>&1
	rc=$?
	cat "$TMP/out"
	expect_eq "$t with io_uring: exit status" 0 "$rc"
	# its own count line: no failed and (under CI) no skipped check
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$TMP/out" | tail -1)
	expect_ok "$t with io_uring: it ran checks ($counts)" [ -n "$counts" ]
	expect_eq "$t with io_uring: failed checks" 0 "$(echo "$counts" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')"
	expect_eq "$t with io_uring: skipped checks" 0 "$(echo "$counts" | sed -n 's/.* failed, \([0-9]*\) skipped.*/\1/p')"
done
finish
