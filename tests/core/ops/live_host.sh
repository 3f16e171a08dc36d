#!/bin/sh
# Newcomer command (1) on the live host: the shipped conf.d (netlink -> json -> stdout)
# prints one JSON line per TCP socket of the host namespace, and the sockets match what
# `ss -tan state all` lists — exactly, for every socket present both before and after the
# poll (idle ones; TIME-WAITs may expire and connections open meanwhile). A busy host
# (other test runs) opens and closes sockets during the poll: those are reported and no
# ss saw them, so "nothing but what ss saw" is checked where nothing else runs, in a
# namespace of its own (tests/plugins/sources/netlink/ns_compare.sh).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_plugin source_netlink marshaller_json sink_file
need_cmd ss:iproute2
PY=/usr/bin/python3

# A few idle sockets of our own on loopback: a listener and an established pair.
$PY - "$TMP/ready" <<'EOP' &
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
l6 = socket.socket(socket.AF_INET6); l6.bind(("::1", 0)); l6.listen()
open(sys.argv[1], "w").write("%d %d\n" % (l.getsockname()[1], l6.getsockname()[1]))
time.sleep(3600)  # until the test ends it
EOP
PYPID=$!
on_exit "kill $PYPID 2>/dev/null"
wait_for 300 test -s "$TMP/ready" || { echo "socket maker not ready"; exit 1; }
read port port6 < "$TMP/ready"

ss -tanH state all > "$TMP/ss1"
# The sink may wait up to 60 s for room (default 1 s): a slow machine (or an ASan build)
# must not turn this into a count of drops.
# The tuning advice depends on how many sockets the machine holds (other runs' too), not on
# this test: off (0 = never), so stderr must be empty.
"$XTCPD" -c "$XTCPD_SRCDIR/xtcpd.conf" -C "$XTCPD_SRCDIR/conf.d" --once -o core.prom_listen= -o core.frequency=60s \
	-o sink.stdout.queue_block_timeout=60s -o core.tuning_advice_sockets=0 \
	> "$TMP/out.json" 2> "$TMP/err"
rc=$?
ss -tanH state all > "$TMP/ss2"
expect_eq "exit status" 0 "$rc"
expect_eq "nothing on stderr" "" "$(cat "$TMP/err")"

$PY - "$TMP" "$port" "$port6" > "$TMP/verdict" <<'EOP'
import json, sys, ipaddress
tmp, port, port6 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def ss(path):
    out = set()
    for line in open(path):
        f = line.split()
        st, la, pa = f[0], f[3], f[4]
        def hp(s):
            h, p = s.rsplit(":", 1)
            h = h.strip("[]").split("%")[0]
            return str(ipaddress.ip_address(h.replace("*", "0.0.0.0"))), int(p.replace("*", "0"))
        out.add((st,) + hp(la) + hp(pa))
    return out
ss1, ss2 = ss(tmp + "/ss1"), ss(tmp + "/ss2")
xt, lines, host_lines = set(), 0, 0
for line in open(tmp + "/out.json"):
    lines += 1
    r = json.loads(line)
    if r["netns"] != "host":
        continue
    host_lines += 1
    def addr(a):
        ip = ipaddress.ip_address(a)
        if ip.version == 6 and ip.ipv4_mapped: ip = ip.ipv4_mapped
        return str(ip)
    st = {"ESTABLISHED": "ESTAB", "UNCONNECTED": "UNCONN"}.get(r["inet_diag_msg_state"], r["inet_diag_msg_state"])
    xt.add((st, addr(r["inet_diag_msg_socket_source"]),
            r["inet_diag_msg_socket_source_port"], addr(r["inet_diag_msg_socket_destination"]),
            r["inet_diag_msg_socket_destination_port"]))
# ss shows IPv4-mapped peers of dual-stack sockets as plain IPv4; normalise the same way
norm = lambda s: {(t[0], str(ipaddress.ip_address(t[1]).ipv4_mapped or t[1]) if ":" in t[1] else t[1], t[2],
                   str(ipaddress.ip_address(t[3]).ipv4_mapped or t[3]) if ":" in t[3] else t[3], t[4]) for t in s}
ss1, ss2 = norm(ss1), norm(ss2)
stable = ss1 & ss2
print("one line per host socket", host_lines == len(xt))
print("every stable socket reported", sorted(stable - xt)[:5])
print("own listener", ("LISTEN", "127.0.0.1", port, "0.0.0.0", 0) in xt)
print("own v6 listener", ("LISTEN", "::1", port6, "::", 0) in xt)
print("own pair", sum(1 for t in xt if t[0] == "ESTAB" and port in (t[2], t[4])))
print("count", len(stable) <= host_lines)
EOP
expect_eq "verdict" "one line per host socket True
every stable socket reported []
own listener True
own v6 listener True
own pair 2
count True" "$(cat "$TMP/verdict")"
finish
