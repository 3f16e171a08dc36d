#!/usr/bin/env python3
"""enrich_check — every record of each expected namespace carries exactly the expected
identity. Usage: enrich_check.py RECORDS.json EXPECT.tsv
EXPECT.tsv: netns_inode, then key=value pairs ('-' as value: the key must be absent)."""
import json
import sys

recs = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        r = json.loads(line)
        recs.setdefault(str(r.get("netns_inode")), []).append(r)
bad = 0
for line in open(sys.argv[2]):
    f = line.split()
    if not f:
        continue
    inode, want = f[0], dict(kv.split("=", 1) for kv in f[1:])
    got = recs.get(inode, [])
    if not got:
        print(f"inode {inode}: no record")
        bad += 1
        continue
    for r in got:
        for k, v in want.items():
            have = r.get(k)
            if (v == "-" and have is not None) or (v != "-" and str(have) != v):
                print(f"inode {inode} port {r.get('inet_diag_msg_socket_source_port')}: "
                      f"{k} = {have!r}, want {v!r}")
                bad += 1
    print(f"inode {inode}: {len(got)} records checked")
sys.exit(1 if bad else 0)
