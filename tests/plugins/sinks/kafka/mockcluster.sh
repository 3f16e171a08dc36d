#!/bin/sh
# mockcluster — the test broker itself: started in the background (stdin at EOF), it
# serves kcat; SIGUSR1 takes every broker down (a produce then times out), SIGUSR2 brings
# them back (the next produce lands); the topic holds exactly what was delivered; stdin
# commands answer "ok" or an error; SIGTERM ends it with status 0.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
MOCK="$XTCPD_BUILDDIR/tests/plugins/sinks/kafka/mockcluster"
[ -x "$MOCK" ] || skip "no $MOCK (configure --enable-kafka=yes)"
need_cmd kcat:kcat

"$MOCK" -t sig -p 2 < /dev/null > "$TMP/out" 2> "$TMP/err" &
P=$!
kill_on_exit $P
wait_for 300 test -s "$TMP/out"
BS=$(head -1 "$TMP/out")
expect_eq "three brokers on loopback" 3 "$(echo "$BS" | tr ',' '\n' | grep -c '^127\.0\.0\.1:[0-9]*$')"
printf 'a\nb\n' | kcat -P -b "$BS" -t sig
expect_eq "produce while up" 0 $?
kill -USR1 $P
wait_for 300 grep -qx "signal: down all" "$TMP/out"
expect_ok "SIGUSR1 handled" grep -qx "signal: down all" "$TMP/out"
printf 'c\n' | kcat -P -b "$BS" -t sig -X message.timeout.ms=1500 2> "$TMP/kcat.err"
expect_eq "produce while down fails" 1 $?
expect_ok "timeout reported: $(cat "$TMP/kcat.err")" grep -q "Message timed out" "$TMP/kcat.err"
kill -USR2 $P
wait_for 300 grep -qx "signal: up all" "$TMP/out"
expect_ok "SIGUSR2 handled" grep -qx "signal: up all" "$TMP/out"
printf 'd\n' | kcat -P -b "$BS" -t sig -X message.timeout.ms=20000
expect_eq "produce after up" 0 $?
expect_eq "the topic holds what was delivered" "a b d" \
	"$(kcat -C -b "$BS" -t sig -o beginning -e -q | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "partitions" 2 "$(kcat -L -b "$BS" -t sig | grep -c 'partition [0-9]*,')"
stop $P
expect_eq "SIGTERM: exit 0" 0 "$STOP_RC"

# stdin commands, with a reply per line.
mkfifo "$TMP/in"
"$MOCK" -t cmd < "$TMP/in" > "$TMP/out2" 2> "$TMP/err2" &
P=$!
kill_on_exit $P
{
	echo "down 2"; echo "up 2"; echo "down all"; echo "up all"; echo "down 7"
	echo "topic other 4"; echo "rtt 1 50"; echo "bogus"; echo "quit"
} > "$TMP/in"
wait $P
expect_eq "quit: exit 0" 0 $?
expect_eq "replies" "ok ok ok ok error: no broker 7 ok ok error: unknown command: bogus" \
	"$(tail -n +2 "$TMP/out2" | tr '\n' ' ' | sed 's/ $//')"
finish
