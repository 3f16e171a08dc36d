#!/usr/bin/python3
"""compare_ss.py NLPOLL_OUT NS SS_TANE SS_TINMEA IDLE_PORTS...
Checks that every socket `ss -tane` lists in namespace NS appears exactly once in the
nlpoll output with the same state, addresses, ports, inode and cookie, and nothing
else; and that for sockets touching an idle port, tcp_info/cong/skmem/meminfo equal ss -tinme."""
import ipaddress, re, sys

STATES = {1: 'ESTAB', 2: 'SYN-SENT', 3: 'SYN-RECV', 4: 'FIN-WAIT-1', 5: 'FIN-WAIT-2',
          6: 'TIME-WAIT', 7: 'UNCONN', 8: 'CLOSE-WAIT', 9: 'LAST-ACK', 10: 'LISTEN',
          11: 'CLOSING', 12: 'SYN-RECV', 13: 'UNCONN'}
nl_out, ns, ss_tane, ss_tinm = sys.argv[1:5]
idle = {int(p) for p in sys.argv[5:]}
fails = []

def ep(s):
    host, port = s.rsplit(':', 1)
    host = host.strip('[]')
    if host == '*':
        host = '::'
    host = host.split('%')[0]
    return str(ipaddress.ip_address(host)), 0 if port == '*' else int(port)

def kv(line):
    return dict(t.split('=', 1) for t in line.split() if '=' in t)

recs = [kv(l) for l in open(nl_out) if l.startswith('ns=')]
recs = [r for r in recs if r['ns'] == ns]
ss = []
for line in open(ss_tane):
    f = line.split()
    if not f or f[0] == 'State':
        continue
    ino = re.search(r'ino:(\d+)', line)
    sk = re.search(r'sk:([0-9a-f]+)', line)
    ss.append(dict(state=f[0], local=ep(f[3]), peer=ep(f[4]), ino=int(ino.group(1)) if ino else 0,
                   sk=sk.group(1) if sk else None))
by_cookie = {}
for r in recs:
    r['_local'], r['_peer'] = ep(r['local']), ep(r['peer'])
    by_cookie.setdefault(r['cookie'], []).append(r)
for c, rs in by_cookie.items():
    if len(rs) != 1:
        fails.append('cookie %s appears %d times' % (c, len(rs)))
for s in ss:
    rs = by_cookie.get(s['sk'], [])
    if len(rs) != 1:
        fails.append('ss socket %s not found exactly once (found %d)' % (s, len(rs)))
        continue
    r = rs[0]
    for what, a, b in (('state', s['state'], STATES[int(r['state'])]), ('local', s['local'], r['_local']),
                       ('peer', s['peer'], r['_peer']), ('inode', s['ino'], int(r['inode']))):
        if a != b:
            fails.append('%s: %s ss=%s xtcpd=%s' % (s['sk'], what, a, b))
if len(recs) != len(ss):
    fails.append('namespace %s: ss lists %d sockets, xtcpd %d' % (ns, len(ss), len(recs)))

# tcp_info / cong / skmem / meminfo of idle sockets against ss -tinme
cur, checked = None, 0
detail = {}
for line in open(ss_tinm):
    if line.startswith('\t') or line.startswith(' '):
        if cur:
            detail[cur] += ' ' + line.strip()
        continue
    sk = re.search(r'sk:([0-9a-f]+)', line)
    cur = sk.group(1) if sk else None
    if cur:
        f = line.split()
        detail[cur] = ''
        detail[cur + '/ports'] = (ep(f[3])[1], ep(f[4])[1], f[0])
NUM = ['mss', 'pmtu', 'rcvmss', 'advmss', 'cwnd', 'bytes_sent', 'bytes_acked', 'bytes_received',
       'segs_out', 'segs_in', 'data_segs_out', 'data_segs_in', 'rcv_space', 'rcv_ssthresh',
       'snd_wnd', 'delivered']
for c, d in list(detail.items()):
    if c.endswith('/ports'):
        continue
    lp, pp, st = detail[c + '/ports']
    if st != 'ESTAB' or not (lp in idle or pp in idle) or c not in by_cookie:
        continue
    r = by_cookie[c][0]
    toks = dict(t.split(':', 1) for t in d.split() if ':' in t and not t.startswith('skmem'))
    m = re.search(r'skmem:\((\S+)\)', d)
    if m and m.group(1) != r.get('skmem'):
        fails.append('%s skmem ss=%s xtcpd=%s' % (c, m.group(1), r.get('skmem')))
    # meminfo (r, w, f, t): asked of the kernel as part of skmem, compared the same way
    if m:
        sk = dict(re.match(r'([a-z]+)(\d+)$', t).groups() for t in m.group(1).split(','))
        want = '%s,%s,%s,%s' % (sk['r'], sk['w'], sk['f'], sk['t'])
        if r.get('mem') != want:
            fails.append('%s mem ss=%s xtcpd=%s' % (c, want, r.get('mem')))
    if r.get('cong') not in d.split():
        fails.append('%s cong %s not in ss: %s' % (c, r.get('cong'), d))
    for k in NUM:
        if k in toks and toks[k] != r.get(k):
            fails.append('%s %s ss=%s xtcpd=%s' % (c, k, toks[k], r.get(k)))
        if k not in toks and r.get(k) not in (None, '0'):
            fails.append('%s %s absent in ss, xtcpd=%s' % (c, k, r.get(k)))
    if 'wscale' in toks and toks['wscale'] != r.get('wscale'):
        fails.append('%s wscale ss=%s xtcpd=%s' % (c, toks['wscale'], r.get('wscale')))
    for k, f in (('rto', 'rto'), ('minrtt', 'minrtt')):
        if k in toks and toks[k] != '%g' % (int(r[f]) / 1000.0):
            fails.append('%s %s ss=%s xtcpd=%s' % (c, k, toks[k], r[f]))
    checked += 1
if checked < 2:
    fails.append('only %d idle sockets compared' % checked)
for f in fails:
    print('FAIL', ns, f)
print('%s: %d sockets, %d idle compared, %d failures' % (ns, len(ss), checked, len(fails)))
sys.exit(1 if fails else 0)
