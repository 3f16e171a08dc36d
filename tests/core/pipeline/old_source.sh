#!/bin/sh
# old_source — a source built against ABI 1.5 headers: its records end before the 1.6
# fields (pod_namespace, pod_name), and the memory past them is not the source's (here a
# pointer that must never be read). The core hands the marshallers a whole record with
# those fields empty: every record comes out, none carries a pod, the daemon exits 0.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_plugin source_synthold marshaller_json marshaller_protobufList sink_file
for m in json protobufList; do
	printf '[core]\nprom_listen =\n[source synthold]\nrecords = 7\nlanes = 2\n[marshaller %s]\n[sink file]\nmarshaller = %s\npath = %s\n' \
		"$m" "$m" "$TMP/out.$m" > "$TMP/x.conf"
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/none" --once 2> "$TMP/err.$m"
	expect_eq "$m: exit 0" 0 "$?" || cat "$TMP/err.$m"
done
expect_eq "json: 7 records" 7 "$(wc -l < "$TMP/out.json")"
expect_eq "json: no record has a pod" 0 "$(grep -c '"pod_' "$TMP/out.json")"
expect_eq "json: the source's records (inodes 50000..50006)" "50000 50001 50002 50003 50004 50005 50006" \
	"$(sed -n 's/.*"inet_diag_msg_inode":\([0-9]*\).*/\1/p' "$TMP/out.json" | sort -n | tr '\n' ' ' | sed 's/ $//')"
expect_ok "protobufList: one batch written" test -s "$TMP/out.protobufList"
finish
