#!/bin/sh
# What a configuration file may be: a regular text file of at most 1 MiB. A directory (as
# -c or as conf.d/NAME.conf), a FIFO, a device, an entry whose reads fail, a binary file
# or a huge one each get their own message and exit 2, promptly (nothing hangs or spins);
# lines as long as the longest value a key allows work, a UTF-8 byte-order mark is skipped.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synth marshaller_json sink_null
mkdir -p "$TMP/d/conf.d"
M="$TMP/d/x.conf"
printf '[core]\nprom_listen =\n[source synth]\n[marshaller json]\n[sink null]\n' > "$M"
# check: run -n (at most 5 s), print "rc: message"
check() {
	out=$(timeout -k 1 5 "$XTCPD" -n "$@" 2>&1)
	echo "$? ${out#xtcpd: }"
}
expect_eq "the base configuration" "0 configuration OK" "$(check -c "$M")"

C="$TMP/d/conf.d/20.conf"
mkfifo "$C"
expect_eq "a FIFO in conf.d" "2 $C: refused: file $C is a FIFO, not a regular file" "$(check -c "$M")"
rm "$C"
ln -s /dev/zero "$C"
expect_eq "a link to /dev/zero in conf.d" "2 $C: refused: file /dev/zero is a character device, not a regular file" "$(check -c "$M")"
rm "$C"
ln -s /proc/self/mem "$C"
expect_eq "an entry whose reads fail" "2 $C: cannot read: Input/output error" "$(check -c "$M")"
rm "$C"
ln -s "$TMP/nowhere" "$C"
expect_eq "a dangling link" "2 $C: cannot open: No such file or directory" "$(check -c "$M")"
rm "$C"
mkdir "$C"
expect_eq "a directory named 20.conf" "2 $C: refused: file $C is a directory, not a regular file" "$(check -c "$M")"
rmdir "$C"
expect_eq "-c naming a directory" "2 $TMP/d: refused: file $TMP/d is a directory, not a regular file" "$(check -c "$TMP/d")"
head -c 1048577 /dev/zero | tr '\0' '#' > "$C"
expect_eq "a file over 1 MiB" "2 $C: larger than 1048576 bytes: not a configuration file" "$(check -c "$M")"
head -c 1048576 /dev/zero | tr '\0' '#' > "$C"
expect_eq "a file of exactly 1 MiB (all comment)" "0 configuration OK" "$(check -c "$M")"
rm "$C"

# Binary content: its own message, with the line.
printf '[core]\nfrequency = 5s\nlab\000el = x\n' > "$C"
expect_eq "a NUL byte" "2 $C:3: NUL byte: this is not a text file (binary content?)" "$(check -c "$M")"
printf '[core]\n\033[1mlabel = x\n' > "$C"
expect_eq "a control character" "2 $C:2: control character 0x1b: this is not a text file (binary content?)" \
	"$(check -c "$M")"
printf '[core]\nlabel = caf\351\n' > "$C"
expect_eq "Latin-1, not UTF-8" "2 $C:2: byte 0xe9 is not UTF-8: this is not a UTF-8 text file" "$(check -c "$M")"
printf '[core]\nlabel = caf\303\251 ; a comment\n' > "$C"
expect_eq "UTF-8 and an inline comment" "0 configuration OK" "$(check -c "$M")"

# Long lines: label up to 255 characters, plugin_dir up to 4095; the same through -o.
L255=$(head -c 255 /dev/zero | tr '\0' 'x')
printf '[core]\nlabel = %s\n' "$L255" > "$C"
expect_eq "a 255-character label in a file" "0 configuration OK" "$(check -c "$M")"
expect_eq "the same through -o" "0 configuration OK" "$(check -c "$M" -o "core.label=$L255")"
printf '[core]\nlabel = %sx\n' "$L255" > "$C"
expect_eq "a 256-character label: the key's limit, not the line's" \
	"2 $C:2: [core] label: value is 256 characters long (allowed: up to 255 characters)" "$(check -c "$M")"
DIRS=/$(head -c 4094 /dev/zero | tr '\0' 'p')
printf '[core]\nnetns_dirs = %s\n' "$DIRS" > "$C"
expect_eq "a 4095-character netns_dirs (the longest core value)" "0 configuration OK" "$(check -c "$M")"
printf '[core]\nnetns_dirs = %sp\n' "$DIRS" > "$C"
expect_eq "4096 characters: the key's limit" \
	"2 $C:2: [core] netns_dirs: value is 4096 characters long (allowed: up to 4095 characters)" \
	"$(check -c "$M")"
rm "$C"

# A UTF-8 byte-order mark (Windows editors) is not part of the first line.
printf '\357\273\277[core]\nfrequency = 5s\nprom_listen = ""\n[source synth]\n[marshaller json]\n[sink null]\n' > "$TMP/bom.conf"
expect_eq "a byte-order mark" "0 configuration OK" "$(check -c "$TMP/bom.conf" -C "$TMP/none")"
printf '[core]\r\nfrequency = 5s\r\n[source synth]\r\n[marshaller json]\r\n[sink null]\r\n' > "$TMP/crlf.conf"
expect_eq "CRLF line ends" "0 configuration OK" "$(check -c "$TMP/crlf.conf" -C "$TMP/none" -o core.prom_listen=)"
printf '[core] junk\n' > "$TMP/junk.conf"
expect_eq "text after a section header" "2 $TMP/junk.conf:1: text after the section header's ']'" \
	"$(check -c "$TMP/junk.conf" -C "$TMP/none")"

# SIGTERM and SIGINT end the daemon from the first instruction, even while a check is
# slow (the stall source's check takes 20 s, like a name lookup that hangs).
# int_default PID: SIGINT is not ignored by PID (bit 2 of SigIgn clear)
int_default() {
	_ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$_ign" ] && [ $((0x$_ign & 2)) = 0 ]
}
if have_plugin source_stall; then
	printf '[core]\nprom_listen =\n[source stall]\ncheck_ms = 20000\n[marshaller json]\n[sink null]\n' > "$TMP/slow.conf"
	for sig in TERM:143 INT:130; do
		for mode in -n --once; do
			"$XTCPD" $mode -c "$TMP/slow.conf" -C "$TMP/none" > /dev/null 2>&1 &
			P=$!
			# a shell's background job starts with SIGINT ignored: signal once the
			# daemon has put it back to its default (its first instructions)
			expect_ok "SIG${sig%:*} ($mode): SIGINT no longer ignored" wait_for 300 int_default $P
			kill -"${sig%:*}" $P
			i=0; while kill -0 $P 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			kill -0 $P 2>/dev/null && { kill -9 $P; fail "SIG${sig%:*} during a slow check ($mode): still running 5 s later"; }
			wait $P
			expect_eq "SIG${sig%:*} during a slow check ($mode): killed by it" "${sig#*:}" $?
		done
	done
else
	echo "stall not built: signal cases skipped"; [ "${CI:-}" = true ] && fail "stall not built under CI"
fi
finish
