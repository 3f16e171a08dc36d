#!/bin/sh
# tests/plugins/marshallers/xtcp2_json.sh — protoJson as xtcp2's consumers read it, on the
# mtool test set and the tricky set (quotes, control characters, UTF-8): the default
# output, layout = jsonl and enums = number parse with xtcp2's v1 schema (built from the
# TSV, no extension) under json_format.Parse without ignore_unknown_fields, equal the
# protobufList decode and are byte for byte the canonical compact JSON; extensions = true
# is refused by that parser and parsed by xtcpd's .proto (check_xtcp2_json.py). Then a
# bad value of each protoJson key is refused by `xtcpd -n` with file:line, exit 2.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
PY=/usr/bin/python3
need_cmd protoc:protobuf-compiler
need_python google.protobuf:python3-protobuf
need_plugin marshaller_protobufList marshaller_protoJson source_netlink sink_file
MTOOL="$XTCPD_BUILDDIR/tests/plugins/marshallers/mtool"
D="$XTCPD_SRCDIR/tests/plugins/marshallers"
PROTO_DIR="$XTCPD_SRCDIR/proto"

mkdir "$TMP/v1"
expect_ok "v1proto.py: xtcp2's v1 .proto from the TSV" \
	$PY "$D/v1proto.py" "$PROTO_DIR/xtcp_flat_record_v1.tsv" "$TMP/v1/xtcp_flat_record.proto"
expect_ok "protoc: the v1 descriptor set" protoc --proto_path="$TMP/v1" \
	--descriptor_set_out="$TMP/v1.pb" "$TMP/v1/xtcp_flat_record.proto"
expect_ok "protoc: xtcpd's descriptor set" protoc --proto_path="$PROTO_DIR" \
	--descriptor_set_out="$TMP/full.pb" "$PROTO_DIR/xtcp_flat_record.proto"
# The v1 schema has every TSV field and no other (xtcpd's .proto has 4 more).
expect_eq "v1 schema: the TSV's $(($(wc -l < "$PROTO_DIR/xtcp_flat_record_v1.tsv") - 1)) fields" \
	"$(($(wc -l < "$PROTO_DIR/xtcp_flat_record_v1.tsv") - 1))" \
	"$(grep -c ' = [0-9]*;$' "$TMP/v1/xtcp_flat_record.proto" | awk '{ print $1 - 8 - 1 }')"

for set in encode tricky; do
	for out in "protobufList pbl" "protoJson pj" "protoJson pjl layout=jsonl" \
		"protoJson pjn enums=number" "protoJson pjx extensions=true"; do
		# shellcheck disable=SC2086
		set -- $out
		m=$1 f=$2
		shift 2
		expect_ok "mtool $set $m $*" "$MTOOL" $set $m "$TMP/$set.$f" "$@"
	done
	$PY "$D/check_xtcp2_json.py" --v1 "$TMP/v1.pb" --full "$TMP/full.pb" \
		--pbl "$TMP/$set.pbl" --envelope "$TMP/$set.pj" --jsonl "$TMP/$set.pjl" \
		--numbers "$TMP/$set.pjn" --ext "$TMP/$set.pjx" > "$TMP/$set.out" 2>&1
	expect_eq "check_xtcp2_json.py on the $set set" "0 failed" \
		"$(tail -1 "$TMP/$set.out" | sed 's/.*, //')" || cat "$TMP/$set.out"
done
# jsonl is the envelope's rows, one a line: the same bytes without the wrapper.
expect_eq "jsonl = the envelope's rows, one a line" "$(cat "$TMP/encode.pj")" \
	"$(printf '{"row":[%s]}' "$(paste -sd, "$TMP/encode.pjl")")"

# A bad value of each key: refused by -n, naming the file, line, section and key.
mkdir "$TMP/conf.d"
for kv in "layout = rows:'rows' is not allowed (allowed: envelope|jsonl)" \
	"enums = numbr:'numbr' is not allowed (allowed: name|number)" \
	"extensions = maybe:'maybe' is not a boolean (use true or false)"; do
	key=${kv%%:*}
	printf '[core]\nnetns = host\nprom_listen =\n[source netlink]\n[marshaller protoJson]\n%s\n[sink file]\nmarshaller = protoJson\npath = -\n' \
		"$key" > "$TMP/bad.conf"
	out=$("$XTCPD" -c "$TMP/bad.conf" -C "$TMP/conf.d" -n 2>&1)
	expect_eq "$key: refused by -n" "2: xtcpd: $TMP/bad.conf:6: [marshaller protoJson] ${key%% *}: ${kv#*:}" \
		"$?: $out"
done
finish
