#!/bin/sh
# e2e_file — the file sink under the daemon: size rotation (whole batches, files within
# rotate_bytes, rotate_keep honoured, every record once), reopen on SIGHUP after an
# external rename, and a full disk (a small tmpfs in a private mount namespace): failures
# counted, logged once, batches dropped, collection carries on, and writing resumes once
# there is room — with no torn line in the file. Needs root for the tmpfs part.
# As root, the whole test runs in a private mount namespace: the tmpfs dies with it.
if [ "$(id -u)" = 0 ] && [ -z "$XT_E2E_FILE_NS" ] && command -v unshare > /dev/null; then
	XT_E2E_FILE_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_plugin marshaller_json source_synth sink_file
need_cmd curl:curl
conf() {   # conf FREQUENCY MAX_LOOPS SINK-KEYS...
	f=$1 n=$2
	shift 2
	{
		printf '[core]\nfrequency = %s\nmax_loops = %s\nprom_listen = %s\nnetns = host\n' "$f" "$n" "$PROM"
		printf '[source synth]\nrecords = 200\nlanes = 2\n[marshaller json]\nflush_rows = 10\n'
		printf '[sink file out]\npath = %s\n' "$OUT"
		for kv in "$@"; do printf '%s\n' "$kv"; done
	} > "$TMP/x.conf"
}

# 1. Rotation: 5 cycles x 200 records (~2.8 KB of JSON each) in batches of 10, files of
# at most 64 KiB.
OUT=$TMP/rot/out.json
PROM=
mkdir "$TMP/rot"
conf 100ms 5 "rotate_bytes = 64KiB" "rotate_keep = 1000"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log"
expect_eq "rotate: exit status" 0 $?
expect_eq "rotate: every record once, across the files" "200 200 200 200 200" \
	"$(per_cycle "$TMP"/rot/out.json*)"
big=$(find "$TMP/rot" -name 'out.json*' -size +65536c | wc -l)
expect_eq "rotate: no file above rotate_bytes" 0 "$big"
nfiles=$(ls "$TMP/rot" | wc -l)
expect_ok "rotate: at least 10 files ($nfiles)" [ "$nfiles" -ge 10 ]
# rotate_keep = 2: the same run keeps out.json, .1 and .2 only — the newest records.
rm -rf "$TMP/rot"; mkdir "$TMP/rot"
conf 100ms 5 "rotate_bytes = 64KiB" "rotate_keep = 2"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log"
expect_eq "rotate_keep: files" "out.json out.json.1 out.json.2" "$(ls "$TMP/rot" | tr '\n' ' ' | sed 's/ $//')"

# 2. SIGHUP after an external rename. A reload that is refused (bad key) still reopens
# the file (the sink's reopen); a valid one rebuilds the pipeline, which reopens too.
OUT=$TMP/hup.json
PROM=127.0.0.1:$(free_port)
conf 300ms 0
daemon_start "$TMP/x.conf"
wait_metric 'xtcpd_sink_records_done_total{plugin="sink/out",result="delivered"}' 400 || exit 1
mv "$OUT" "$OUT.1"
echo "no_such_key = 1" >> "$TMP/x.conf"
kill -HUP $DPID
wait_for 600 test -s "$OUT"
expect_ok "hup: reload refused" grep -q "new configuration refused" "$TMP/xtcpd.log"
expect_ok "hup: refused reload: file reopened" test -s "$OUT"
mv "$OUT" "$OUT.2"
conf 300ms 0
kill -HUP $DPID
wait_for 600 test -s "$OUT"
expect_ok "hup: valid reload: file reopened" test -s "$OUT"
daemon_stop
expect_eq "hup: exit status" 0 "$DRC"
cyc=$(per_cycle "$OUT.1" "$OUT.2" "$OUT")
expect_eq "hup: every cycle complete across the three files" "" \
	"$(echo "$cyc" | tr ' ' '\n' | grep -v '^200$')"
expect_ok "hup: no file stayed empty: $(wc -l "$OUT".* | tr '\n' ' ')" \
	[ "$(wc -l < "$OUT.1")" -gt 0 -a "$(wc -l < "$OUT.2")" -gt 0 ]

# 3. A full disk: 1 MiB of tmpfs, 768 KiB taken by a filler. A cycle is ~560 KB of JSON,
# so the disk fills in the first cycle; without the filler, the next cycle fits.
if [ -z "$XT_E2E_FILE_NS" ]; then
	skip_part "the full disk (part 3) needs root and unshare (a tmpfs in a mount namespace)"
	finish; exit
fi
mkdir "$TMP/fs"
expect_ok "mount a 1 MiB tmpfs" mount -t tmpfs -o size=1m xt-e2e-file "$TMP/fs" || { finish; exit; }
on_exit "umount '$TMP/fs'"
head -c 786432 /dev/zero > "$TMP/fs/filler"
OUT=$TMP/fs/out.json
PROM=127.0.0.1:$(free_port)
conf 500ms 0 "retry_timeout = 100ms" "queue_full = drop"
daemon_start "$TMP/x.conf"
wait_metric 'xtcpd_sink_failed_total{plugin="sink/out",reason="enospc"}' 1 || exit 1
c=$(metric "$TMP/m.wait" xtcpd_poll_cycles_total)
wait_metric xtcpd_poll_cycles_total $((c + 4)) || fail "enospc: collection stopped"
scrape "$TMP/full"
rm "$TMP/fs/filler"
d=$(metric "$TMP/full" 'xtcpd_sink_batches_done_total{plugin="sink/out",result="delivered"}')
wait_metric 'xtcpd_sink_batches_done_total{plugin="sink/out",result="delivered"}' $((d + 1)) || fail "enospc: no recovery"
daemon_stop
expect_eq "enospc: exit status" 0 "$DRC"
m() { metric "$TMP/full" "$1"; }
echo "enospc: failed $(m 'xtcpd_sink_failed_total{plugin="sink/out",reason="enospc"}') retried $(m 'xtcpd_sink_retried_total{plugin="sink/out"}') dropped $(m 'xtcpd_sink_batches_done_total{plugin="sink/out",result="failed"}') queue drops $(m 'xtcpd_sink_batches_dropped_total{plugin="sink/out",reason="queue_full"}')"
expect_ok "enospc: batches dropped" [ "$(m 'xtcpd_sink_batches_done_total{plugin="sink/out",result="failed"}')" -gt 0 ]
expect_ok "enospc: retried" [ "$(m 'xtcpd_sink_retried_total{plugin="sink/out"}')" -gt 0 ]
expect_eq "enospc: no poll overrun" 0 "$(m xtcpd_poll_overruns_total)"
# At most one line per 10 s, however many failures.
nlog=$(grep -c 'No space left on device' "$TMP/xtcpd.log")
expect_ok "enospc: one or two log lines ($nlog)" [ "$nlog" -ge 1 -a "$nlog" -le 2 ]
# Whole batches only: every line parses (per_cycle fails on a torn line).
expect_ok "enospc: no torn line in the file" per_cycle "$OUT" > /dev/null
finish
