#!/usr/bin/python3
"""v1proto.py TSV OUT.proto - write xtcp2's flat record v1 schema, exactly as the TSV
(shared/schema/xtcp_flat_record_v1.tsv, proto/ in the tree) lists it and nothing more: no
xtcpd extension field, so a strict parser built from it refuses any key outside xtcp2's
v1. The enum values and the Envelope (repeated row = 10) are xtcp2's
(proto/xtcp_flat_record/v1/xtcp_flat_record.proto in its repository); the package is
its own, xtcp_flat_record.v1."""
import sys

CONG = ["UNSPECIFIED", "CUBIC", "DCTCP", "VEGAS", "PRAGUE", "BBR1", "BBR2", "BBR3"]
SCALAR = {"uint32", "uint64", "int64", "string", "bytes", "bool"}

rows = [line.split("\t")[:3] for line in open(sys.argv[1]).read().splitlines()[1:]]
out = ['syntax = "proto3";', "package xtcp_flat_record.v1;", "message XtcpFlatRecord {",
       "  enum CongestionAlgorithm {"]
out += ["    CONGESTION_ALGORITHM_%s = %d;" % (n, i) for i, n in enumerate(CONG)]
out.append("  }")
for num, name, typ in rows:
    if typ not in SCALAR and typ != "CongestionAlgorithm":
        sys.exit("v1proto.py: field %s %s: unknown type %s" % (num, name, typ))
    out.append("  %s %s = %s;" % (typ, name, num))
out += ["}", "message Envelope {", "  repeated XtcpFlatRecord row = 10;", "}", ""]
open(sys.argv[2], "w").write("\n".join(out))
