#!/bin/sh
# live_proto_json — protoJson from the real daemon as xtcp2's consumers read it. In a
# namespace made here (sockets.py: v4/v6 listeners, established pairs, TIME-WAIT), one
# poll goes through protobufList and four protoJson instances (default, layout = jsonl,
# enums = number, extensions = true) into files. check_xtcp2_json.py parses the JSON
# with xtcp2's v1 schema (from the TSV) under json_format.Parse without
# ignore_unknown_fields, checks every row equals the protobufList decode of the same
# poll and every line is byte for byte canonical; the jsonl rows are then the sockets
# `ss -tane` lists (state, ports, inode, cookie). Needs root.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ss:iproute2 ip:iproute2 protoc:protobuf-compiler
need_python google.protobuf:python3-protobuf
need_plugin source_netlink marshaller_protobufList marshaller_protoJson sink_file
PY=/usr/bin/python3
NS=xt-pjl-$$
D="$XTCPD_SRCDIR/tests/plugins/marshallers"
PROTO_DIR="$XTCPD_SRCDIR/proto"

private_netns "$NS" || exit 1
ip netns exec "$NS" $PY "$XTCPD_SRCDIR/tests/plugins/sources/netlink/sockets.py" 6300 "$TMP/ready" &
kill_on_exit $!
wait_for 600 test -e "$TMP/ready" || { echo "FAIL: sockets not ready"; exit 1; }

mkdir "$TMP/conf.d" "$TMP/v1"
{
	cat <<EOC
[core]
netns = host
prom_listen =
plugin_dir = $XTCPD_PLUGIN_DIR
hostname = pj-live
label = 'L "q\\1"'
[source netlink]
deserializers = all
[marshaller protobufList]
flush_rows = 5
[sink file pbl]
marshaller = protobufList
path = $TMP/pbl
EOC
	for m in "pj" "pjl layout = jsonl" "pjn enums = number" "pjx extensions = true"; do
		printf '[marshaller protoJson %s]\nflush_rows = 5\n%s\n' "${m%% *}" \
			"$(echo "$m" | sed -n 's/^[^ ]* //p')"
		printf '[sink file %s]\nmarshaller = %s\npath = %s\n' "${m%% *}" "${m%% *}" "$TMP/${m%% *}"
	done
} > "$TMP/xtcpd.conf"
ip netns exec "$NS" ss -tanHe state all > "$TMP/ss1" 2>/dev/null
ip netns exec "$NS" "$XTCPD" -c "$TMP/xtcpd.conf" -C "$TMP/conf.d" --once 2> "$TMP/err"
rc=$?
ip netns exec "$NS" ss -tanHe state all > "$TMP/ss2" 2>/dev/null
expect_eq "exit status" 0 "$rc"
expect_eq "nothing on stderr" "" "$(cat "$TMP/err")"

$PY "$D/v1proto.py" "$PROTO_DIR/xtcp_flat_record_v1.tsv" "$TMP/v1/xtcp_flat_record.proto" &&
	protoc --proto_path="$TMP/v1" --descriptor_set_out="$TMP/v1.pb" "$TMP/v1/xtcp_flat_record.proto" &&
	protoc --proto_path="$PROTO_DIR" --descriptor_set_out="$TMP/full.pb" "$PROTO_DIR/xtcp_flat_record.proto"
expect_eq "descriptor sets of xtcp2's v1 schema and of xtcpd's" 0 $?
$PY "$D/check_xtcp2_json.py" --v1 "$TMP/v1.pb" --full "$TMP/full.pb" --pbl "$TMP/pbl" \
	--envelope "$TMP/pj" --jsonl "$TMP/pjl" --numbers "$TMP/pjn" --ext "$TMP/pjx" > "$TMP/check.out" 2>&1
expect_eq "check_xtcp2_json.py on the daemon's output" "0 failed" \
	"$(tail -1 "$TMP/check.out" | sed 's/.*, //')" || cat "$TMP/check.out"
expect_ok "several batches (flush_rows = 5)" [ "$(wc -l < "$TMP/pj")" -ge 2 ]

# The jsonl rows, read as plain JSON, against ss: every socket seen in both listings is
# there once, with its state, ports, inode and cookie; none that ss never saw.
$PY - "$TMP" > "$TMP/verdict" <<'EOP'
import json, re, sys
tmp = sys.argv[1]
STATES = {1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
          6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN",
          11: "CLOSING"}
def ss(path):
    out = set()
    for line in open(path):
        f = line.split()
        port = lambda s: int(s.rsplit(":", 1)[1].replace("*", "0"))
        ino = re.search(r"ino:(\d+)", line)
        ck = re.search(r"sk:([0-9a-f]+)", line)
        out.add((f[0], port(f[3]), port(f[4]), int(ino.group(1)) if ino else 0,
                 int(ck.group(1), 16) if ck else 0))
    return out
rows = [json.loads(l) for l in open(tmp + "/pjl")]
xt = {(STATES.get(r.get("inetDiagMsgState", 0), "?"), r.get("inetDiagMsgSocketSourcePort", 0),
       r.get("inetDiagMsgSocketDestinationPort", 0), r.get("inetDiagMsgInode", 0),
       int(r.get("inetDiagMsgSocketCookie", "0"))) for r in rows}
ss1, ss2 = ss(tmp + "/ss1"), ss(tmp + "/ss2")
print("one row per socket", len(rows) == len(xt))
print("every stable socket", sorted((ss1 & ss2) - xt)[:3])
print("nothing ss never saw", sorted(xt - (ss1 | ss2))[:3])
print("listeners and established", {r["inetDiagMsgState"] for r in rows} >= {1, 10})
print("metadata", {(r["hostname"], r["label"], r["schemaVersion"]) for r in rows} ==
      {("pj-live", 'L "q\\1"', 1)})
EOP
expect_eq "jsonl rows = ss" "one row per socket True
every stable socket []
nothing ss never saw []
listeners and established True
metadata True" "$(cat "$TMP/verdict")"
finish
