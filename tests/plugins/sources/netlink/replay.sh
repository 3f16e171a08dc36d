#!/bin/sh
# replay — captured dumps through the same parser: synthetic fixtures (short and
# oversize tcp_info, unknown attribute and message type, lying and cut lengths) give
# exact records and counters; as root, a live capture of the host namespace replays to
# exactly the records the live poll emitted, and so does the daemon's --capture.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
B=$XTCPD_BUILDDIR
# NLPOLL, SOURCE: the driver and plugin under test (tests/plugins/sources/io_uring/ runs
# this again with its own).
NLPOLL=${NLPOLL:-$B/tests/plugins/sources/netlink/nlpoll}
SOURCE=${SOURCE:-netlink}
S=$XTCPD_SRCDIR
T=$TMP
/usr/bin/python3 "$S/tests/plugins/sources/netlink/mkfixtures.py" "$T/fx" || exit 1
"$NLPOLL" -H -o replay_dir="$T/fx" -o deserializers=all >"$T/out" 2>"$T/err"
expect_eq "fixtures: nlpoll exit status" 0 $? || cat "$T/err"
expect_eq "fixtures: records" 4 "$(grep -c '^ns=' "$T/out")"
expect_ok "4.15 record" grep -q 'local=127.0.0.1:22 peer=127.0.0.2:40000 inode=1001 cookie=100000001 .* cong=cubic tcpi_len=192 ' "$T/out"
# 192 bytes: bytes_sent (offset 200) and delivered (192) absent -> 0; rto = bytes 9..12
expect_ok "4.15 tcp_info values" grep -q 'inode=1001 .*rto=202050057 .* bytes_sent=0 .* delivered=0' "$T/out"
expect_ok "oversize record" grep -q 'inode=1002 .*flags=0x2 .*tcpi_len=300 ' "$T/out"
expect_ok "record before the cut" grep -q 'peer=127.0.0.2:40005 inode=1005' "$T/out"
expect_ok "record before the 4 GiB length" grep -q 'peer=127.0.0.2:40007 inode=1005' "$T/out"
expect_fail "record with a 4 GiB length not emitted" grep -q 'inode=1006' "$T/out"
expect_fail "record with a lying attribute not emitted" grep -q 'inode=1004' "$T/out"
m() { sed -n "s/^metric $1 //p" "$T/out"; }
expect_eq "oversize counter" 1 "$(m 'netlink_info_oversize_total{}')"
expect_eq "unknown attribute counter" 1 "$(m 'netlink_unknown_attributes_total{}')"
expect_eq "message type counter" 1 "$(m 'netlink_errors_total{reason="message_type"}')"
expect_eq "bad attribute counter" 1 "$(m 'netlink_errors_total{reason="bad_attribute"}')"
expect_eq "truncated counter" 2 "$(m 'netlink_errors_total{reason="truncated"}')"
expect_eq "sockets counter" 4 "$(m 'netlink_sockets_total{}')"

# Live capture of the host namespace, then replay: same sockets, same values.
if [ "$(id -u)" != 0 ]; then
	skip_part "live capture and the daemon's --capture need root"
	finish
	exit
fi
mkdir "$T/cap"
"$NLPOLL" -H -o deserializers=all -C "$T/cap" >"$T/live" 2>"$T/err"
expect_eq "live poll exit status" 0 $? || cat "$T/err"
expect_eq "one capture file" 1 "$(ls "$T/cap" | grep -c '\.nlraw$')"
"$NLPOLL" -H -o replay_dir="$T/cap" -o deserializers=all >"$T/replayed" 2>"$T/err"
expect_eq "replay exit status" 0 $? || cat "$T/err"
strip() { grep '^ns=' "$1" | sed 's/^ns=[^ ]* ino=[0-9]* nsid=[0-9]* lane=[0-9]* //' | sort; }
strip "$T/live" >"$T/a"
strip "$T/replayed" >"$T/b"
expect_ok "live poll found sockets" test -s "$T/a"
expect_ok "replay equals the live poll" cmp -s "$T/a" "$T/b" || diff "$T/a" "$T/b" | head
echo "live capture: $(wc -l <"$T/a") sockets replayed identically"
# The daemon's --capture: its files replay to as many records as it printed.
need_plugin source_$SOURCE marshaller_json sink_file
mkdir "$T/dcap" "$T/conf.d"
printf '[source %s]\n' "$SOURCE" >"$T/xtcpd.conf"
"$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout --marshal json \
	-o core.netns=host -o core.prom_listen= --capture "$T/dcap" >"$T/djson" 2>"$T/derr"
expect_eq "daemon --capture: exit status" 0 $? || cat "$T/derr"
"$NLPOLL" -H -q -o replay_dir="$T/dcap" >"$T/dreplay" 2>"$T/err"
expect_eq "replay of the daemon's capture: exit status" 0 $? || cat "$T/err"
printed=$(grep -c '^{' "$T/djson")
replayed=$(sed -n 's/^records=\([0-9]*\) .*/\1/p' "$T/dreplay")
echo "daemon --capture: printed $printed, replayed $replayed"
expect_ok "daemon printed records" [ "$printed" -gt 0 ]
expect_eq "its capture replays as many" "$printed" "$replayed"
finish
