#!/usr/bin/env python3
"""enrich_check — every record of each expected namespace carries exactly the expected
identity. Usage: enrich_check.py [--last] RECORDS.json EXPECT.tsv
EXPECT.tsv: netns_inode, then key=value pairs ('-' as value: the key must be absent).
--last: only the records of each namespace's last cycle (answers that come later)."""
import json
import sys

last = sys.argv[1] == "--last"
if last:
    del sys.argv[1]
recs = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        r = json.loads(line)
        recs.setdefault(str(r.get("netns_inode")), []).append(r)
if last:
    for k, rs in recs.items():
        t = max(r.get("timestamp_ns", 0) for r in rs)
        recs[k] = [r for r in rs if r.get("timestamp_ns", 0) == t]
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
