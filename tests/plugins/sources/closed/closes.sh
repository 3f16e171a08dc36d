#!/bin/sh
# closes — the closed source under the daemon: N short-lived connections (IPv4 and IPv6)
# opened and closed in a namespace this test makes, between two polls (frequency 1h: only
# flush_interval can deliver them), give exactly 2N final records per family (client and
# server side), each once, with the right ports, bytes_acked/bytes_received equal to what
# was sent, and socket_closed set. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
. "$XTCPD_SRCDIR/tests/plugins/sinks/e2e_lib.sh"
need_root
need_cmd ip:iproute2 curl:curl
need_plugin source_closed marshaller_json sink_file
need_python json
B=${XTCPD_BUILDDIR:-.}
NS=xt-closed-$$
N=20
private_netns "$NS" || exit 1
PORT=$(free_port)
OUT=$TMP/out.json
cat > "$TMP/x.conf" << EOC
[core]
frequency = 1h
prom_listen = 127.0.0.1:$PORT
netns_dirs = $TMP/netns
netns_proc_scan = false
[source closed]
flush_interval = 300ms
[marshaller json]
[sink file out]
path = $OUT
EOC
"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" 2> "$TMP/xtcpd.log" &
DPID=$!
kill_on_exit $DPID
scrape() { curl -sf "http://127.0.0.1:$PORT/metrics" > "$TMP/m" 2>/dev/null; }
joined() { scrape && grep -q '^xtcpd_closed_namespaces{plugin="source/closed"} 2$' "$TMP/m"; }
wait_for 600 joined || { cat "$TMP/xtcpd.log"; fail "the daemon did not join 2 namespaces"; finish; exit 1; }

# run FAMILY SEND RECV: N connections; their client ports into $TMP/ports.FAMILY. The
# closer keeps its listener open (its stdin) until the daemon has stopped.
mkfifo "$TMP/hold4" "$TMP/hold6"
run() {
	ip netns exec "$NS" "$B/tests/plugins/sources/closed/closer" $N "$1" "$2" "$3" fin \
		< "$TMP/hold$1" > "$TMP/closer.$1" &
	kill_on_exit $!
	exec 8> "$TMP/hold$1"
	wait_for 600 grep -q "^done $N" "$TMP/closer.$1"
}
run 4 3000 5000 || fail "closer v4 did not finish"
exec 7>&8
run 6 7000 11000 || fail "closer v6 did not finish"
in_ns() { [ -e "$OUT" ] && [ "$(grep -c "\"netns\":\"$NS\"" "$OUT")" -ge $((4 * N)) ]; }
wait_for 600 in_ns || fail "fewer than $((4 * N)) records of $NS in the output"
# The daemon is stopped first: anything that came twice or late would be in the file.
stop $DPID
expect_eq "daemon exit status" 0 "$STOP_RC"
exec 7>&- 8>&-

/usr/bin/python3 - "$OUT" "$NS" "$TMP/closer.4" "$TMP/closer.6" $N > "$TMP/check" << 'EOP'
import json, sys
out, ns, c4, c6, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
recs = [json.loads(l) for l in open(out) if l.strip()]
recs = [r for r in recs if r.get("netns") == ns]
def ports(path):
    lines = open(path).read().split("\n")
    return int(lines[0].split()[1]), [int(l.split()[1]) for l in lines if l.startswith("conn ")]
# bytes on the wire per family: (client sent, server sent)
sent = {"AF_INET": (3000, 5000), "AF_INET6": (7000, 11000)}
for fam, path in (("AF_INET", c4), ("AF_INET6", c6)):
    lport, cports = ports(path)
    rs = [r for r in recs if r.get("inet_diag_msg_family") == fam]
    print(f"{fam} records {len(rs)}")
    print(f"{fam} client ports {len(cports)}")
    pairs = sorted((r["inet_diag_msg_socket_source_port"], r["inet_diag_msg_socket_destination_port"]) for r in rs)
    want = sorted([(p, lport) for p in cports] + [(lport, p) for p in cports])
    print(f"{fam} port pairs as expected {pairs == want}")
    print(f"{fam} each socket once {len(set(r['inet_diag_msg_socket_cookie'] for r in rs)) == len(rs)}")
    print(f"{fam} socket_closed on all {all(r.get('socket_closed') is True for r in rs)}")
    cs, ss = sent[fam]
    bad = []
    for r in rs:
        client = r["inet_diag_msg_socket_destination_port"] == lport
        tx, rx = (cs, ss) if client else (ss, cs)
        # tcp_info counts sequence space: acked = the data + our FIN (+ our SYN on the
        # connecting side; the accepting side's SYN-ACK is acked before the socket
        # exists); received = the data + the peer's FIN.
        got = (r.get("tcp_info_bytes_acked"), r.get("tcp_info_bytes_received"))
        if got != (tx + (2 if client else 1), rx + 1):
            bad.append((client, got, tx, rx))
    print(f"{fam} byte counts {bad[:3] if bad else 'ok'}")
EOP
cat "$TMP/check"
for f in AF_INET AF_INET6; do
	expect_eq "$f: 2N records" "$f records $((2 * N))" "$(grep "^$f records" "$TMP/check")"
	expect_eq "$f: N connections made" "$f client ports $N" "$(grep "^$f client" "$TMP/check")"
	expect_eq "$f: ports of every client and server side" "$f port pairs as expected True" "$(grep "^$f port" "$TMP/check")"
	expect_eq "$f: no socket twice" "$f each socket once True" "$(grep "^$f each" "$TMP/check")"
	expect_eq "$f: event marker" "$f socket_closed on all True" "$(grep "^$f socket_closed" "$TMP/check")"
	expect_eq "$f: bytes_acked/bytes_received" "$f byte counts ok" "$(grep "^$f byte" "$TMP/check")"
done
finish
