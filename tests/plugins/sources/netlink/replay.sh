#!/bin/sh
# replay — captured dumps through the same parser: synthetic fixtures (short and
# oversize tcp_info, unknown attribute and message type, lying and cut lengths) give
# exact records and counters; as root, a live capture of the host namespace replays to
# exactly the records the live poll emitted.
B=${XTCPD_BUILDDIR:-.}
S=${XTCPD_SRCDIR:-..}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }
/usr/bin/python3 "$S/tests/plugins/sources/netlink/mkfixtures.py" "$T/fx" || exit 1
"$B/tests/plugins/sources/netlink/nlpoll" -H -o replay_dir="$T/fx" -o deserializers=all >"$T/out" 2>"$T/err" || fail "nlpoll exit"
recs=$(grep -c '^ns=' "$T/out")
[ "$recs" = 4 ] || fail "expected 4 records, got $recs"
grep -q 'local=127.0.0.1:22 peer=127.0.0.2:40000 inode=1001 cookie=100000001 .* cong=cubic tcpi_len=192 ' "$T/out" \
	|| fail "4.15 record"
# 192 bytes: bytes_sent (offset 200) and delivered (192) absent -> 0; rto = bytes 9..12
grep 'inode=1001' "$T/out" | grep -q 'rto=202050057 .* bytes_sent=0 .* delivered=0' || fail "4.15 tcp_info values"
grep 'inode=1002' "$T/out" | grep -q 'flags=0x2 .*tcpi_len=300 ' || fail "oversize record"
grep -q 'inode=1005 .*peer=127.0.0.2:40005\|peer=127.0.0.2:40005 inode=1005' "$T/out" || fail "record before the cut"
grep -q 'peer=127.0.0.2:40007 inode=1005' "$T/out" || fail "record before the 4 GiB length"
grep -q 'inode=1006' "$T/out" && fail "record with a 4 GiB length was emitted"
grep -q 'inode=1004' "$T/out" && fail "record with a lying attribute was emitted"
m() { sed -n "s/^metric $1 //p" "$T/out"; }
[ "$(m 'netlink_info_oversize_total{}')" = 1 ] || fail "oversize counter: $(m 'netlink_info_oversize_total{}')"
[ "$(m 'netlink_unknown_attributes_total{}')" = 1 ] || fail "unknown attribute counter"
[ "$(m 'netlink_errors_total{reason="message_type"}')" = 1 ] || fail "message type counter"
[ "$(m 'netlink_errors_total{reason="bad_attribute"}')" = 1 ] || fail "bad attribute counter"
[ "$(m 'netlink_errors_total{reason="truncated"}')" = 2 ] || fail "truncated counter"
[ "$(m 'netlink_sockets_total{}')" = 4 ] || fail "sockets counter"

if [ "$(id -u)" = 0 ]; then
	# Live capture of the host namespace, then replay: same sockets, same values.
	mkdir "$T/cap"
	"$B/tests/plugins/sources/netlink/nlpoll" -H -o deserializers=all -C "$T/cap" >"$T/live" 2>/dev/null || fail "live poll"
	n=$(ls "$T/cap" | grep -c '\.nlraw$')
	[ "$n" = 1 ] || fail "expected 1 capture file, got $n"
	"$B/tests/plugins/sources/netlink/nlpoll" -H -o replay_dir="$T/cap" -o deserializers=all >"$T/replayed" 2>/dev/null || fail "replay"
	strip() { grep '^ns=' "$1" | sed 's/^ns=[^ ]* ino=[0-9]* nsid=[0-9]* lane=[0-9]* //' | sort; }
	strip "$T/live" >"$T/a"
	strip "$T/replayed" >"$T/b"
	[ -s "$T/a" ] || fail "live poll found no socket"
	cmp -s "$T/a" "$T/b" || { fail "replay differs from live"; diff "$T/a" "$T/b" | head; }
	echo "live capture: $(wc -l <"$T/a") sockets replayed identically"
	# The daemon's --capture: its files replay to as many records as it printed.
	if [ -x "${XTCPD:-}" ] && [ -e "${XTCPD_PLUGIN_DIR:-/nonexistent}/marshaller_json.so" ]; then
		mkdir "$T/dcap" "$T/conf.d"
		printf '[source netlink]\n' >"$T/xtcpd.conf"
		"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
			-o core.netns=host --capture "$T/dcap" >"$T/djson" 2>"$T/derr" || fail "daemon --capture"
		"$B/tests/plugins/sources/netlink/nlpoll" -H -q -o replay_dir="$T/dcap" >"$T/dreplay" 2>/dev/null || fail "replay of the daemon's capture"
		printed=$(grep -c '^{' "$T/djson")
		replayed=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/dreplay")
		echo "daemon --capture: printed $printed, replayed $replayed"
		[ "$printed" -gt 0 ] && [ "$printed" = "$replayed" ] || fail "daemon printed $printed records, its capture replays $replayed"
	fi
fi
[ $rc = 0 ] && echo "replay fixtures: $recs records, counters exact"
exit $rc
