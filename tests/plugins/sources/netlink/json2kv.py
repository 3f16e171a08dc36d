#!/usr/bin/python3
"""json2kv.py < xtcpd json lines > nlpoll-style key=value lines, so compare_ss.py checks
the daemon's output (netlink source -> json marshaller -> file sink) the same way."""
import json, sys

STATES = {'ESTABLISHED': 1, 'SYN-SENT': 2, 'SYN-RECV': 3, 'FIN-WAIT-1': 4, 'FIN-WAIT-2': 5,
          'TIME-WAIT': 6, 'UNCONNECTED': 7, 'CLOSE-WAIT': 8, 'LAST-ACK': 9, 'LISTEN': 10,
          'CLOSING': 11, 'NEW-SYN-RECV': 12}
TI = [('mss', 'snd_mss'), ('pmtu', 'pmtu'), ('rcvmss', 'rcv_mss'), ('advmss', 'adv_mss'),
      ('cwnd', 'snd_cwnd'), ('bytes_sent', 'bytes_sent'), ('bytes_acked', 'bytes_acked'),
      ('bytes_received', 'bytes_received'), ('segs_out', 'segs_out'), ('segs_in', 'segs_in'),
      ('data_segs_out', 'data_segs_out'), ('data_segs_in', 'data_segs_in'),
      ('rcv_space', 'rcv_space'), ('rcv_ssthresh', 'rcv_ssthresh'), ('snd_wnd', 'snd_wnd'),
      ('rcv_wnd', 'rcv_wnd'), ('delivered', 'delivered'), ('rto', 'rto_us'), ('minrtt', 'min_rtt_us')]
SK = ['rmem_alloc', 'rcv_buf', 'wmem_alloc', 'snd_buf', 'fwd_alloc', 'wmem_queued', 'optmem',
      'backlog', 'drops']
SKP = ['r', 'rb', 't', 'tb', 'f', 'w', 'o', 'bl', 'd']

def ep(r, side, port):
    a = r.get('inet_diag_msg_socket_' + side, '')
    p = r.get('inet_diag_msg_socket_' + port, 0)
    return '[%s]:%d' % (a, p) if r.get('inet_diag_msg_family') == 'AF_INET6' else '%s:%d' % (a, p)

for line in sys.stdin:
    line = line.strip()
    if not line.startswith('{'):
        continue
    r = json.loads(line)
    g = lambda k: r.get(k, 0)
    out = ['ns=%s' % r.get('netns', ''), 'nsid=%d' % r.get('nsid', 0), 'state=%d' % STATES[r['inet_diag_msg_state']],
           'local=%s' % ep(r, 'source', 'source_port'), 'peer=%s' % ep(r, 'destination', 'destination_port'),
           'inode=%d' % g('inet_diag_msg_inode'), 'cookie=%x' % int(g('inet_diag_msg_socket_cookie'))]
    if 'congestion_algorithm_string' in r:
        out.append('cong=%s' % r['congestion_algorithm_string'])
    if 'tcp_info_length' in r:
        out.append('wscale=%d,%d' % (g('tcp_info_send_scale'), g('tcp_info_rcv_scale')))
        out += ['%s=%d' % (k, int(g('tcp_info_' + f))) for k, f in TI]
    if 'sk_mem_info_rcv_buf' in r:
        out.append('skmem=' + ','.join('%s%d' % (p, g('sk_mem_info_' + k)) for p, k in zip(SKP, SK)))
    if 'mem_info_rmem' in r:
        out.append('mem=' + ','.join('%d' % g('mem_info_' + k) for k in ('rmem', 'wmem', 'fmem', 'tmem')))
    print(' '.join(out))
