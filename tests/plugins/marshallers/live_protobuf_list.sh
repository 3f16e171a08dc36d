#!/bin/sh
# live_protobuf_list — end to end on real sockets: in a namespace made here, the daemon
# (netlink -> protobufList -> file) writes one poll; every message is split on its
# varint prefix, decoded by protoc --decode and by Python protobuf (equal), and the rows
# are exactly the sockets `ss -tane` lists: state, addresses, ports, inode, cookie, uid.
# Needs root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ss:iproute2 ip:iproute2 protoc:protobuf-compiler
need_python google.protobuf:python3-protobuf
need_plugin source_netlink marshaller_protobufList sink_file
PY=/usr/bin/python3
NS=xt-pbl-$$
PROTO_DIR="$XTCPD_SRCDIR/proto"

private_netns "$NS" || exit 1
ip netns exec "$NS" $PY "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 6000 "$TMP/ready" &
kill_on_exit $!
wait_for 600 test -e "$TMP/ready" || { echo "FAIL: sockets not ready"; exit 1; }

mkdir "$TMP/conf.d"
cat > "$TMP/xtcpd.conf" <<EOC
[core]
netns = host
prom_listen =
plugin_dir = $XTCPD_PLUGIN_DIR
hostname = pbl-live
label = L1
tag = T1
location = here
[source netlink]
deserializers = all
[marshaller protobufList]
flush_rows = 7
[sink file out]
marshaller = protobufList
path = $TMP/out.bin
EOC
ip netns exec "$NS" ss -tanHe state all > "$TMP/ss1" 2>/dev/null
ip netns exec "$NS" "$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" --once 2> "$TMP/err"
rc=$?
ip netns exec "$NS" ss -tanHe state all > "$TMP/ss2" 2>/dev/null
expect_eq "exit status" 0 "$rc"
expect_eq "nothing on stderr" "" "$(cat "$TMP/err")"

protoc --proto_path="$PROTO_DIR" --python_out="$TMP" "$PROTO_DIR/xtcp_flat_record.proto"
# Split the stream into bare Envelopes (one per message) for protoc --decode.
$PY - "$TMP/out.bin" "$TMP/msg" <<'EOP' > "$TMP/nmsg"
import sys
d = open(sys.argv[1], "rb").read()
i = k = 0
while i < len(d):
    n = shift = 0
    while True:
        b = d[i]; i += 1
        n |= (b & 0x7f) << shift; shift += 7
        if not b & 0x80: break
    open("%s.%d" % (sys.argv[2], k), "wb").write(d[i:i + n])
    i += n; k += 1
print(k)
EOP
n=$(cat "$TMP/nmsg")
i=0
while [ $i -lt "$n" ]; do
	protoc --proto_path="$PROTO_DIR" --decode=xtcp_flat_record.v1.Envelope \
		"$PROTO_DIR/xtcp_flat_record.proto" < "$TMP/msg.$i" > "$TMP/msg.$i.txt" ||
		fail "protoc --decode of message $i"
	i=$((i + 1))
done

$PY - "$TMP" "$n" > "$TMP/verdict" <<'EOP'
import ipaddress, re, sys
tmp, n = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, tmp)
import xtcp_flat_record_pb2 as pb
from google.protobuf import text_format
STATES = {1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
          6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN",
          11: "CLOSING"}
rows, same = [], True
for k in range(n):
    a = pb.Envelope.FromString(open("%s/msg.%d" % (tmp, k), "rb").read())
    b = text_format.Parse(open("%s/msg.%d.txt" % (tmp, k)).read(), pb.Envelope())
    same = same and a == b and len(a.row) > 0
    rows.extend(a.row)
# ss prints a wildcard address as "*" whatever the family, and v4-mapped as v4.
def norm(h):
    if h == "*":
        return "*"
    ip = ipaddress.ip_address(h)
    ip = (ip.ipv4_mapped or ip) if ip.version == 6 else ip
    return "*" if ip.is_unspecified else str(ip)
def ss(path):
    out = set()
    for line in open(path):
        f = line.split()
        def hp(s):
            h, p = s.rsplit(":", 1)
            h = h.strip("[]").split("%")[0]
            return norm(h), int(p.replace("*", "0"))
        ino = re.search(r"ino:(\d+)", line)
        ck = re.search(r"sk:([0-9a-f]+)", line)
        uid = re.search(r"uid:(\d+)", line)
        out.add((f[0],) + hp(f[3]) + hp(f[4]) + (int(ino.group(1)) if ino else 0,
                int(ck.group(1), 16) if ck else 0, int(uid.group(1)) if uid else 0))
    return out
ss1, ss2 = ss(tmp + "/ss1"), ss(tmp + "/ss2")
xt = set()
for r in rows:
    def addr(b):
        return norm(str(ipaddress.ip_address(b[:4] if r.inet_diag_msg_family == 2 else b)))
    xt.add((STATES.get(r.inet_diag_msg_state, "?"), addr(r.inet_diag_msg_socket_source),
            r.inet_diag_msg_socket_source_port, addr(r.inet_diag_msg_socket_destination),
            r.inet_diag_msg_socket_destination_port, r.inet_diag_msg_inode,
            r.inet_diag_msg_socket_cookie, r.inet_diag_msg_uid))
stable = ss1 & ss2
print("protoc and python decode equal", same)
print("one row per socket", len(rows) == len(xt))
print("every stable socket", sorted(stable - xt)[:3])
print("nothing ss never saw", sorted(xt - (ss1 | ss2))[:3])
print("messages of at most 7 rows", n >= 2 and all(len(pb.Envelope.FromString(open("%s/msg.%d" % (tmp, k), "rb").read()).row) <= 7 for k in range(n)))
meta = {(r.schema_version, r.hostname, r.label, r.tag, r.location, r.daemon_version != "",
         r.timestamp_ns > 1600000000 * 10**9) for r in rows}
print("metadata", meta == {(1, "pbl-live", "L1", "T1", "here", True, True)})
est = [r for r in rows if r.inet_diag_msg_state == 1]
print("tcp_info and cong on established", len(est) > 0 and all(
    r.tcp_info_state == 1 and r.tcp_info_length >= 192 and r.tcp_info_snd_mss > 0 and
    r.congestion_algorithm_string != "" for r in est))
EOP
expect_eq "verdict" "protoc and python decode equal True
one row per socket True
every stable socket []
nothing ss never saw []
messages of at most 7 rows True
metadata True
tcp_info and cong on established True" "$(cat "$TMP/verdict")"
finish
