#!/bin/sh
# reload_ns.sh — a reload that keeps the source keeps its namespaces as they are: the
# first pipeline's source got them from the namespace manager, and a SIGHUP must not
# give them to it again (each namespace's sock_diag socket was opened a second time and
# the first one lost: one socket and its state leaked per namespace). The daemon's
# sockets are counted before and after two reloads; records per cycle stay the same.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_plugin source_netlink marshaller_json sink_file
NS=xt-rns-$$
private_netns "$NS" || exit 1
for i in 1 2; do private_netns "$NS-$i" || exit 1; done
printf '[source netlink]\n' > "$TMP/xtcpd.conf"
mkdir "$TMP/conf.d"
printf '[core]\nfrequency = 200ms\nprom_listen =\ntuning_advice_sockets = 0\n[marshaller json]\n[sink file]\nmarshaller = json\npath = %s\n' \
	"$TMP/out.json" > "$TMP/conf.d/a.conf"
# one listener in each namespace of the test (the daemon's own namespace, $NS, has none),
# listening before the daemon starts: its first cycles count too
for i in 1 2; do
	ip netns exec "$NS-$i" /usr/bin/python3 -c 'import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 7000)); l.listen(); open(sys.argv[1], "w").close()
time.sleep(120)' "$TMP/ready-$i" &
	kill_on_exit $!
done
for i in 1 2; do
	wait_for 300 test -e "$TMP/ready-$i" || { echo "listener $i not ready"; exit 1; }
done
ip netns exec "$NS" "$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" \
	-o core.netns_dirs="$TMP/netns" -o core.netns_proc_scan=false 2> "$TMP/log" &
D=$!
kill_on_exit $D
sockets() { ls -l "/proc/$D/fd" | grep -c 'socket:'; }
lines() { (wc -l < "$TMP/out.json") 2> /dev/null || echo 0; }
# hup N: the Nth reload, then 3 more cycles' worth of records
reloads() { grep -c 'SIGHUP: configuration reloaded: 3 instances kept, 0 new, 0 retired' "$TMP/log"; }
hup() {
	_n=$1
	kill -HUP $D
	wait_for 100 eval '[ "$(reloads)" -ge $_n ]'
	_l=$(lines)
	wait_for 100 eval '[ "$(lines)" -ge $((_l + 6)) ]'
}
wait_for 100 eval '[ "$(lines)" -ge 4 ]'
expect_ok "the daemon polls" test "$(lines)" -ge 4
before=$(sockets)
hup 1
hup 2
expect_eq "two reloads done" 2 "$(reloads)"
expect_eq "sockets: one sock_diag socket per namespace (the daemon's own and the test's two)" 3 "$before"
expect_eq "sockets after two reloads: the same" "$before" "$(sockets)"
stop $D
expect_eq "clean exit" 0 "$STOP_RC" || cat "$TMP/log"
# every cycle: the two listeners, before and after the reloads
expect_eq "records per cycle: 2 in every cycle" "2" \
	"$(/usr/bin/python3 -c '
import json, sys
c = {}
for l in open(sys.argv[1]):
    t = json.loads(l)["timestamp_ns"]; c[t] = c.get(t, 0) + 1
print(" ".join(sorted(set(str(v) for v in c.values()))))' "$TMP/out.json")"
finish
