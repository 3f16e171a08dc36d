#!/bin/sh
# noalloc — after the first cycle, polling allocates nothing: no malloc, calloc or
# realloc from any thread (nlpoll -A wraps them) over 5 more cycles of a namespace with
# listeners, idle and data-moving connections and a time-wait socket, with every
# attribute decoded, in both dump modes; the same for the io_uring source (nupoll: its
# rings, receive slots and request slots are set up in the first cycle), and for the
# bpf_iter source (bipoll), plain and changed_only, when they are built. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$TMP
NS=xt-noalloc-$$
private_netns "$NS" || exit 1
set -e
ip netns exec "$NS" /usr/bin/python3 "$S/tests/plugins/sources/netlink/sockets.py" 5000 "$T/ready" &
kill_on_exit $!
wait_for 300 test -e "$T/ready"
set +e
for mode in legacy per_family; do
	"$B/tests/plugins/sources/netlink/nlpoll" -d "$T/netns" -q -c 6 -A -r 3600000 -o deserializers=all -o dump=$mode \
		>"$T/out" 2>"$T/err"
	expect_eq "$mode: nlpoll exit status" 0 $? || cat "$T/err"
	n=$(sed -n 's/^allocs_after_first_cycle=//p' "$T/out")
	recs=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/out")
	echo "$mode: $recs records in 6 cycles, $n heap calls after the first"
	expect_eq "$mode: no allocation after the first cycle" 0 "$n"
	expect_ok "$mode: at least 84 records (14 sockets x 6 cycles), got ${recs:-none}" [ "${recs:-0}" -ge 84 ]
done
if [ -x "$B/tests/plugins/sources/io_uring/nupoll" ]; then
	for mode in legacy per_family; do
		"$B/tests/plugins/sources/io_uring/nupoll" -d "$T/netns" -q -c 6 -A -r 3600000 -o deserializers=all \
			-o dump=$mode -o recv_batch=4 >"$T/out" 2>"$T/err"
		expect_eq "io_uring $mode: nupoll exit status" 0 $? || cat "$T/err"
		n=$(sed -n 's/^allocs_after_first_cycle=//p' "$T/out")
		recs=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/out")
		echo "io_uring $mode: $recs records in 6 cycles, $n heap calls after the first"
		expect_eq "io_uring $mode: no allocation after the first cycle" 0 "$n"
		expect_ok "io_uring $mode: at least 84 records, got ${recs:-none}" [ "${recs:-0}" -ge 84 ]
	done
elif [ "${CI:-}" = true ]; then
	fail "the io_uring source's nupoll is not built (configure --enable-io-uring=yes)"
fi
if [ -x "$B/tests/plugins/sources/bpf_iter/bipoll" ]; then
	for opts in "changed_only=false" "changed_only=true"; do
		"$B/tests/plugins/sources/bpf_iter/bipoll" -d "$T/netns" -q -c 6 -A -r 3600000 -o deserializers=all -o $opts \
			>"$T/out" 2>"$T/err" || { fail "bipoll $opts"; cat "$T/err"; }
		n=$(sed -n 's/^allocs_after_first_cycle=//p' "$T/out")
		recs=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/out")
		echo "bpf_iter $opts: $recs records in 6 cycles, $n heap calls after the first"
		expect_eq "bpf_iter $opts: no allocation after the first cycle" 0 "$n"
		expect_ok "bpf_iter $opts: at least 14 records, got ${recs:-none}" [ "${recs:-0}" -ge 14 ]
	done
fi
finish
