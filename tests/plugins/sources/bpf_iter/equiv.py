#!/usr/bin/python3
"""equiv.py NETLINK_OUT BPF_OUT NS:BASE... - compare, namespace by namespace, what the
netlink source and the bpf_iter source emitted (nlpoll/bipoll -F lines): the same set of
sockets (by cookie); for every socket equal family, state, addresses, ports, inode,
cookie, uid; for idle sockets (the listeners, the idle connections base+10..12 and the
time-wait socket base+30 of sockets.py) every field equal, except the clock-derived ones
(EXCEPT), which may differ by the time between the two reads. Exits 1 on a difference."""
import os
import sys

# the second source's name in messages (the io_uring source's test reuses this script)
OTHER = os.environ.get('EQUIV_OTHER', 'bpf_iter')

IDENT = ['inet_diag_msg_family', 'inet_diag_msg_state', 'inet_diag_msg_socket_source',
         'inet_diag_msg_socket_destination', 'inet_diag_msg_socket_source_port',
         'inet_diag_msg_socket_destination_port', 'inet_diag_msg_inode',
         'inet_diag_msg_socket_cookie', 'inet_diag_msg_uid', 'present']
# Read from jiffies at the moment the kernel reads the socket: the two sources read it
# at different moments (see README: exceptions).
# EQUIV_CLOCK_MS: the caller's measure of the time between the reads (default 2000).
_MS = int(os.environ.get('EQUIV_CLOCK_MS', '2000'))
EXCEPT = {'tcp_info_last_data_sent': _MS, 'tcp_info_last_data_recv': _MS,
          'tcp_info_last_ack_recv': _MS, 'inet_diag_msg_expires': _MS}

def load(path):
    out = {}
    for line in open(path):
        if not line.startswith('ns='):
            continue
        kv = dict(w.split('=', 1) for w in line.split())
        out[(kv['ns'], kv['cookie'])] = kv
    return out

def main():
    nl, bp = load(sys.argv[1]), load(sys.argv[2])
    bad = 0
    checked = idle_n = 0
    for spec in sys.argv[3:]:
        ns, base = spec.split(':')
        base = int(base)
        idle_ports = {base + 10, base + 11, base + 12, base + 30}
        a = {k: v for k, v in nl.items() if k[0] == ns}
        b = {k: v for k, v in bp.items() if k[0] == ns}
        if set(a) != set(b):
            print('FAIL %s: sockets only in netlink: %s; only in %s: %s' % (
                ns, sorted(set(a) - set(b)), OTHER, sorted(set(b) - set(a))))
            bad += 1
        if len(a) < 10:
            print('FAIL %s: only %d sockets' % (ns, len(a)))
            bad += 1
        for k in sorted(set(a) & set(b)):
            x, y = a[k], b[k]
            checked += 1
            sp, dp = int(x['inet_diag_msg_socket_source_port']), int(x['inet_diag_msg_socket_destination_port'])
            idle = x['inet_diag_msg_state'] == '10' or sp in idle_ports or dp in idle_ports
            keys = set(x) | set(y) if idle else IDENT
            idle_n += idle
            for f in sorted(keys):
                if f in ('ns',):
                    continue
                u, v = x.get(f), y.get(f)
                if u == v:
                    continue
                if idle and f in EXCEPT and u is not None and v is not None and \
                        abs(int(u) - int(v)) <= EXCEPT[f]:
                    continue
                print('FAIL %s %s port %d->%d %s: netlink %s, %s %s' % (
                    ns, k[1], sp, dp, f, u, OTHER, v))
                bad += 1
    print('%d sockets compared (%d idle, all fields), %d differences' % (checked, idle_n, bad))
    return 1 if bad or not checked else 0

sys.exit(main())
