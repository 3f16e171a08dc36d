#!/bin/sh
# forge.sh — the record-forging attack of issue 23 (item 8), as reported: an unprivileged
# user (65534) makes a network namespace of their own (unshare -rn), where the daemon opens
# a sock_diag socket; the user finds its port id in /proc/net/netlink and sprays forged
# dump answers (src 6.6.6.6, sport 31337, uid 424242) with sequence numbers 1-400 while
# the daemon polls. Every forged datagram is refused (the socket is connected to the
# kernel: the sender gets ECONNREFUSED), no forged record reaches the output, and the
# user's namespace is collected all along (its listener on port 4242 is in the output).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root"
command -v setpriv >/dev/null && command -v unshare >/dev/null || cannot_run "no setpriv/unshare"
have_plugin source_netlink && have_plugin marshaller_json && have_plugin sink_file ||
	cannot_run "netlink/json/file plugins not built"
AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
$AS_USER unshare -rn true 2>/dev/null || cannot_run "unprivileged user namespaces are off here"
mkdir -m 1777 "$TMP/att"

cat > "$TMP/att/spray.py" <<'EOP'
# Inside the user's own namespace: listen on 4242, then spray forged answers at every
# sock_diag socket that is not ours, with sequence numbers 1-400, until told to stop.
import errno, os, socket, struct, sys, time
d = sys.argv[1]
lo = socket.if_nametoindex("lo")
os.system("ip link set lo up")
srv = socket.socket(); srv.bind(("127.0.0.1", 4242)); srv.listen()
me = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4)
me.bind((0, 0))
mine = me.getsockname()[0]
open(d + "/ready", "w").write("ready\n")
def msg(typ, seq, pid):
    idm = struct.pack("=BBBBHH16s16sIQ", socket.AF_INET, 1, 0, 0,
                      socket.htons(31337), socket.htons(80),
                      socket.inet_aton("6.6.6.6") + b"\0" * 12,
                      socket.inet_aton("7.7.7.7") + b"\0" * 12, 0, 0)
    body = idm + struct.pack("=IIIII", 0, 0, 0, 424242, 99)
    return struct.pack("=IHHII", 16 + len(body), typ, 2, seq, pid) + body
ok = refused = sprays = 0
while not os.path.exists(d + "/stop"):
    ports = []
    for line in open("/proc/net/netlink").read().splitlines()[1:]:
        f = line.split()
        if f[1] == "4" and int(f[2]) not in (0, mine):  # 0: the kernel itself
            ports.append(int(f[2]) & 0xffffffff)
    for pid in ports:
        for seq in range(1, 401):
            for typ in (18, 20):
                try:
                    me.sendto(msg(typ, seq, pid), (pid, 0)); ok += 1
                except OSError as e:
                    if e.errno != errno.ECONNREFUSED: raise
                    refused += 1
    if ports:
        sprays += 1
        open(d + "/sprays.tmp", "w").write("%d\n" % sprays)
        os.rename(d + "/sprays.tmp", d + "/sprays")
    time.sleep(0.01)
open(d + "/result", "w").write("sent %d refused %s\n" % (ok, "yes" if refused else "no"))
EOP
$AS_USER unshare -rn /usr/bin/python3 "$TMP/att/spray.py" "$TMP/att" 2> "$TMP/att/err" &
APID=$!
kill_on_exit $APID
i=0
while [ ! -e "$TMP/att/ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$TMP/att/ready" ] || { fail "attacker did not start: $(cat "$TMP/att/err")"; finish; exit; }
mkdir -m 700 "$TMP/netns"
touch "$TMP/netns/attacker"
mount --bind /proc/$APID/ns/net "$TMP/netns/attacker" || cannot_run "cannot bind-mount a namespace"
on_exit "umount '$TMP/netns/attacker' 2>/dev/null"

cat > "$TMP/x.conf" <<EOC
[core]
frequency = 200ms
prom_listen =
netns_dirs = $TMP/netns
netns_proc_scan = false
[source netlink]
[marshaller json]
[sink file]
path = $TMP/out.json
EOC
mkdir -m 755 "$TMP/conf.d"
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" 2> "$TMP/err" &
PID=$!
kill_on_exit $PID
# Events, not a fixed time (a loaded machine starts slowly): the daemon has written the
# user's namespace, then the attacker sprays the daemon's sockets at least 100 times while
# the daemon polls that namespace 5 more times (one listener line per poll).
sprays() { s=$(cat "$TMP/att/sprays" 2>/dev/null); echo "${s:-0}"; }
sprayed() { [ "$(sprays)" -ge "$1" ]; }
polls() { p=$(grep -c '"inet_diag_msg_socket_source_port":4242,' "$TMP/out.json" 2>/dev/null); echo "${p:-0}"; }
polled() { [ "$(polls)" -ge "$1" ]; }
wait_for 600 polled 1
s0=$(sprays) p0=$(polls)
wait_for 600 sprayed $((s0 + 100)) ||
	fail "the attacker sprayed fewer than 100 times in 60 s (from $s0 to $(sprays))"
wait_for 600 polled $((p0 + 5)) || fail "fewer than 5 polls in 60 s (from $p0 to $(polls))"
touch "$TMP/att/stop"
wait_for 600 test -e "$TMP/att/result"
kill $PID; wait $PID
expect_eq "attacker: every forged datagram refused by the kernel" "sent 0 refused yes" \
	"$(cat "$TMP/att/result" 2>/dev/null || cat "$TMP/att/err")"
# the forged fields, not the numbers anywhere (a record counter or a cookie passes 31337)
expect_eq "no forged record in the output" 0 "$(grep -c -e '"inet_diag_msg_socket_source":"6\.6\.6\.6"' \
	-e '"inet_diag_msg_socket_source_port":31337,' -e '"inet_diag_msg_uid":424242,' "$TMP/out.json")"
expect_eq "the user's namespace was collected (its listener)" yes \
	"$(grep -q '"inet_diag_msg_socket_source_port":4242,' "$TMP/out.json" && echo yes)"
finish
