/* bpf_iter.bpf.c — the iter/tcp program: for each TCP socket of the namespace the iterator
 * was created in, read what inet_diag and tcp_get_info() would report (raw: conv.c in
 * user space derives the rest) and write one struct bpfi_rec with bpf_seq_write. With
 * changed_only, a socket whose counters did not move since the previous pass is skipped
 * (last-seen values in a bounded LRU map keyed by cookie), but sent every `refresh`
 * passes. Built with clang -target bpf; CO-RE against kvmlinux.h. */
#include "kvmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf_rec.h"

char LICENSE[] SEC("license") = "GPL"; /* bpf_skc_to_* and bpf_seq_write are GPL-only */

/* Set by the plugin before load. */
const volatile __u32 cfg_states = 0xffffffff;  /* 1 << state of the states to emit */
const volatile __u32 cfg_changed_only = 0;
const volatile __u32 cfg_refresh = 10;
/* enum bpfi_want: the attribute groups configured (deserializers); a group not asked
 * for is not read (its cache lines of the socket are not touched) */
const volatile __u32 cfg_want = 0xffffffff;
/* Benchmarks only (bipoll, BIPOLL_WALK_ONLY): return at once, so a pass costs the
 * iterator's own walk; the verifier drops the rest of the program. */
const volatile __u32 cfg_walk_only = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* resized by the plugin (changed_max) before load */
	__type(key, __u64);
	__type(value, struct bpfi_seen);
} seen SEC(".maps");

/* One record per CPU: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpfi_rec);
} scratch SEC(".maps");

enum { TCP_LISTEN = 10, TCP_TIME_WAIT = 6, TCP_NEW_SYN_RECV = 12, TCP_SYN_RECV = 3 };
enum { ICSK_TIME_RETRANS = 1, ICSK_TIME_PROBE0 = 3, ICSK_TIME_LOSS_PROBE = 5, ICSK_TIME_REO_TIMEOUT = 6 };
enum { AF_INET6 = 10 };

static __always_inline void common(struct bpfi_rec *r, struct sock_common *skc)
{
	r->family = skc->skc_family;
	r->sport = skc->skc_num;
	r->dport = skc->skc_dport;
	r->ifindex = skc->skc_bound_dev_if;
	if (r->family == AF_INET6) {
		__builtin_memcpy(r->src, skc->skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(r->dst, skc->skc_v6_daddr.in6_u.u6_addr8, 16);
	} else {
		__builtin_memset(r->src, 0, 16);
		__builtin_memset(r->dst, 0, 16);
		*(__u32 *)r->src = skc->skc_rcv_saddr;
		*(__u32 *)r->dst = skc->skc_daddr;
	}
}

/* bbr_get_info(): bbr_bw() is lt_bw when lt_use_bw, else the windowed max. The private
 * state is read in place: the cast keeps the verifier's view (icsk_ca_priv, an array of
 * scalars inside this tcp_sock), so each field is a direct load at the running kernel's
 * offset (CO-RE), no helper call and no copy; any kernel with BTF allows it. */
static __always_inline void bbrinfo(struct bpfi_rec *r, struct inet_connection_sock *icsk)
{
	struct bbr *bbr = (struct bbr *)(void *)icsk->icsk_ca_priv;

	if (bpf_core_type_size(struct bbr) > sizeof(icsk->icsk_ca_priv))
		return;
	r->bbr_bw = BPF_CORE_READ_BITFIELD(bbr, lt_use_bw) ? bbr->lt_bw : bbr->bw.s[0].v;
	r->bbr_min_rtt = bbr->min_rtt_us;
	r->bbr_pacing_gain = BPF_CORE_READ_BITFIELD(bbr, pacing_gain);
	r->bbr_cwnd_gain = BPF_CORE_READ_BITFIELD(bbr, cwnd_gain);
	r->have |= BPFI_HAVE_BBR;
}

/* The groups of struct sock read only when asked for: marks, cgroup, tclass, sockopt. */
static __always_inline void sockattrs(struct bpfi_rec *r, struct inet_sock *inet)
{
	struct sock *sk = &inet->sk;
	struct sock_cgroup_data *cg = &sk->sk_cgrp_data;

	if (cfg_want & BPFI_W_SHUTDOWN)
		r->shutdown = sk->sk_shutdown;
	if (cfg_want & BPFI_W_TOS)
		r->tos = inet->tos;
	if (cfg_want & BPFI_W_MARK)
		r->mark = sk->sk_mark;
	if (cfg_want & BPFI_W_CLASS_ID) {
		r->class_id = cg->classid;
		if (!r->class_id)
			r->class_id = sk->sk_priority;
	}
	if ((cfg_want & BPFI_W_CGROUP) && cg->cgroup) {
		r->cgroup_id = cg->cgroup->kn->id;
		r->have |= BPFI_HAVE_CGROUP;
	}
	if ((cfg_want & BPFI_W_TCLASS) && r->family == AF_INET6 && inet->pinet6) {
		r->tclass = inet->pinet6->tclass;
		r->have |= BPFI_HAVE_TCLASS;
	}
	if ((cfg_want & BPFI_W_SOCKOPT) && bpf_core_field_exists(inet->inet_flags)) {
		/* inet_diag_sockopt from the INET_FLAGS_* bits (Linux >= 6.6 numbering) */
		unsigned long f = inet->inet_flags;
		__u16 o = 0;

		o |= (f >> 9 & 1) << 0;   /* RECVERR */
		o |= (f >> 16 & 1) << 1;  /* IS_ICSK */
		o |= (f >> 11 & 1) << 2;  /* FREEBIND */
		o |= (f >> 12 & 1) << 3;  /* HDRINCL */
		o |= (f >> 13 & 1) << 4;  /* MC_LOOP */
		o |= (f >> 15 & 1) << 5;  /* TRANSPARENT */
		o |= (f >> 14 & 1) << 6;  /* MC_ALL */
		o |= (f >> 17 & 1) << 7;  /* NODEFRAG */
		o |= (f >> 18 & 1) << 8;  /* BIND_ADDRESS_NO_PORT */
		o |= (f >> 10 & 1) << 9;  /* RECVERR_RFC4884 */
		o |= (f >> 19 & 1) << 10; /* DEFER_CONNECT */
		r->sockopt = o;
		r->have |= BPFI_HAVE_SOCKOPT;
	}
}

/* skmem[] and meminfo (the same values). */
static __always_inline void skmem(struct bpfi_rec *r, struct sock *sk)
{
	struct numa_drop_counters *ndc = 0;

	r->rmem_alloc = sk->sk_backlog.rmem_alloc.counter;
	r->rcvbuf = sk->sk_rcvbuf;
	r->wmem_alloc = sk->sk_wmem_alloc.refs.counter - 1;
	r->sndbuf = sk->sk_sndbuf;
	r->fwd_alloc = sk->sk_forward_alloc;
	r->wmem_queued = sk->sk_wmem_queued;
	r->optmem = sk->sk_omem_alloc.counter;
	r->backlog = sk->sk_backlog.len;
	if (bpf_core_field_exists(sk->sk_drop_counters))
		ndc = sk->sk_drop_counters;
	if (ndc)
		r->drops = ndc->drops0.counter + ndc->drops1.counter;
	else
		r->drops = sk->sk_drops.counter;
}

/* struct sock: queues, memory, timers, marks, cgroup, inode. */
static __always_inline void fullsock(struct bpfi_rec *r, struct tcp_sock *tp, __u32 uid)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct inet_sock *inet = &icsk->icsk_inet;
	struct sock *sk = &inet->sk;
	const struct tcp_congestion_ops *ca;
	__u8 pending;

	r->kind = BPFI_FULL;
	r->uid = uid;
	if (bpf_core_field_exists(sk->sk_ino))
		r->inode = sk->sk_ino;
	else if (sk->sk_socket)
		r->inode = ((struct socket_alloc *)sk->sk_socket)->vfs_inode.i_ino;
	sockattrs(r, inet);
	if (cfg_want & (BPFI_W_MEMINFO | BPFI_W_SKMEM))
		skmem(r, sk);
	ca = icsk->icsk_ca_ops;
	if ((cfg_want & (BPFI_W_CONG | BPFI_W_BBR)) && ca) {
		/* direct (fault-safe) loads, no helper call: this runs for every socket */
		*(__u64 *)&r->cong[0] = *(const __u64 *)&ca->name[0];
		*(__u64 *)&r->cong[8] = *(const __u64 *)&ca->name[8];
		r->have |= BPFI_HAVE_CONG;
		if ((cfg_want & BPFI_W_BBR) && bpf_core_type_exists(struct bbr) &&
		    r->state < TCP_TIME_WAIT && *(__u32 *)r->cong == *(const __u32 *)"bbr") {
			r->snd_mss = tp->mss_cache; /* bbr_bw() is in packets: bytes need it */
			bbrinfo(r, icsk);
		}
	}
	pending = icsk->icsk_pending;
	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE || pending == ICSK_TIME_PROBE0) {
		r->timer = pending == ICSK_TIME_PROBE0 ? 4 : 1;
		r->retrans = pending == ICSK_TIME_PROBE0 ? icsk->icsk_probes_out : icsk->icsk_retransmits;
		if (bpf_core_field_exists(((struct inet_connection_sock___old *)icsk)->icsk_timeout))
			r->timer_expires = ((struct inet_connection_sock___old *)icsk)->icsk_timeout;
		else
			r->timer_expires = icsk->icsk_retransmit_timer.expires;
	} else if (sk->sk_timer.entry.pprev) {
		r->timer = 2;
		r->retrans = icsk->icsk_probes_out;
		r->timer_expires = sk->sk_timer.expires;
	}
}

/* The header's queues (tcp_diag_get_info): a listener's backlog, else bytes. */
static __always_inline void queues(struct bpfi_rec *r, struct tcp_sock *tp)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;

	if (r->state == TCP_LISTEN) {
		r->unacked = sk->sk_ack_backlog;
		r->sacked = sk->sk_max_ack_backlog;
		r->rqueue = r->unacked;
		r->wqueue = r->sacked;
		return;
	}
	r->rqueue = (int)(tp->rcv_nxt - tp->copied_seq) > 0 ? tp->rcv_nxt - tp->copied_seq : 0;
	r->wqueue = tp->write_seq - tp->snd_una;
}

/* What tcp_get_info() reads (listeners: the few fields it reports for them). */
static __always_inline void tcpinfo(struct bpfi_rec *r, struct tcp_sock *tp)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &icsk->icsk_inet.sk;

	r->tcpi_len = bpf_core_type_size(struct tcp_info);
	r->pacing_rate = sk->sk_pacing_rate;
	r->max_pacing_rate = sk->sk_max_pacing_rate;
	r->reordering = tp->reordering;
	r->snd_cwnd = tp->snd_cwnd;
	if (r->state == TCP_LISTEN)
		return;
	r->ca_state = BPF_CORE_READ_BITFIELD(icsk, icsk_ca_state);
	r->retransmits = icsk->icsk_retransmits;
	r->probes = icsk->icsk_probes_out;
	r->backoff = icsk->icsk_backoff;
	if (BPF_CORE_READ_BITFIELD(tp, rx_opt.tstamp_ok))
		r->options |= 1;
	if (BPF_CORE_READ_BITFIELD(tp, rx_opt.sack_ok))
		r->options |= 2;
	if (BPF_CORE_READ_BITFIELD(tp, rx_opt.wscale_ok)) {
		r->options |= 4;
		r->wscale = BPF_CORE_READ_BITFIELD(tp, rx_opt.snd_wscale) |
			    BPF_CORE_READ_BITFIELD(tp, rx_opt.rcv_wscale) << 4;
	}
	if (tp->ecn_flags & 0x11) /* TCP_ECN_MODE_RFC3168 | TCP_ECN_MODE_ACCECN (was TCP_ECN_OK) */
		r->options |= 8;
	if (tp->ecn_flags & 0x08) /* TCP_ECN_SEEN */
		r->options |= 16;
	if (BPF_CORE_READ_BITFIELD(tp, syn_data_acked))
		r->options |= 32;
	if (bpf_core_field_exists(tp->tcp_usec_ts) && BPF_CORE_READ_BITFIELD(tp, tcp_usec_ts))
		r->options |= 64;
	if (bpf_core_field_exists(tp->syn_fastopen_child) && BPF_CORE_READ_BITFIELD(tp, syn_fastopen_child))
		r->options |= 128;
	r->rto_j = icsk->icsk_rto;
	r->ato_j = BPF_CORE_READ_BITFIELD(icsk, icsk_ack.ato); /* a bitfield since 6.x */
	if (bpf_core_field_exists(icsk->icsk_delack_max))
		r->delack_max_j = icsk->icsk_delack_max;
	r->snd_mss = tp->mss_cache;
	r->rcv_mss = icsk->icsk_ack.rcv_mss;
	r->unacked = tp->packets_out;
	r->sacked = tp->sacked_out;
	r->lost = tp->lost_out;
	r->retrans_out = tp->retrans_out;
	r->lsndtime = tp->lsndtime;
	r->lrcvtime = icsk->icsk_ack.lrcvtime;
	r->rcv_tstamp = tp->rcv_tstamp;
	r->pmtu = icsk->icsk_pmtu_cookie;
	r->rcv_ssthresh = tp->rcv_ssthresh;
	r->srtt_us = tp->srtt_us;
	r->mdev_us = tp->mdev_us;
	r->snd_ssthresh = tp->snd_ssthresh;
	r->advmss = tp->advmss;
	r->rcv_rtt_us = tp->rcv_rtt_est.rtt_us;
	r->rcv_space = tp->rcvq_space.space;
	r->total_retrans = tp->total_retrans;
	r->bytes_acked = tp->bytes_acked;
	r->bytes_received = tp->bytes_received;
	r->notsent_bytes = (int)(tp->write_seq - tp->snd_nxt) > 0 ? tp->write_seq - tp->snd_nxt : 0;
	r->chrono_type = BPF_CORE_READ_BITFIELD(tp, chrono_type);
	r->chrono_start = tp->chrono_start;
	r->chrono_stat[0] = tp->chrono_stat[0];
	r->chrono_stat[1] = tp->chrono_stat[1];
	r->chrono_stat[2] = tp->chrono_stat[2];
	r->segs_out = tp->segs_out;
	r->segs_in = tp->segs_in;
	r->data_segs_in = tp->data_segs_in;
	r->min_rtt = tp->rtt_min.s[0].v;
	r->data_segs_out = tp->data_segs_out;
	r->rate_flags = BPF_CORE_READ_BITFIELD(tp, rate_app_limited) ? 1 : 0;
	r->rate_delivered = tp->rate_delivered;
	r->rate_interval_us = tp->rate_interval_us;
	r->delivered = tp->delivered;
	r->delivered_ce = tp->delivered_ce;
	r->bytes_sent = tp->bytes_sent;
	r->bytes_retrans = tp->bytes_retrans;
	r->dsack_dups = tp->dsack_dups;
	r->reord_seen = tp->reord_seen;
	r->rcv_ooopack = tp->rcv_ooopack;
	r->snd_wnd = tp->snd_wnd;
	if (bpf_core_field_exists(tp->rcv_wnd))
		r->rcv_wnd = tp->rcv_wnd;
	if (bpf_core_field_exists(tp->plb_rehash))
		r->rehash = tp->plb_rehash + tp->timeout_rehash;
	if (bpf_core_field_exists(tp->fastopen_client_fail))
		r->rate_flags |= BPF_CORE_READ_BITFIELD(tp, fastopen_client_fail) << 1;
	if (bpf_core_field_exists(tp->total_rto)) {
		r->total_rto = tp->total_rto;
		r->total_rto_recoveries = tp->total_rto_recoveries;
		r->total_rto_time = tp->total_rto_time;
		r->rto_stamp = tp->rto_stamp;
		if (r->rto_stamp)
			r->clock_ms = bpf_ktime_get_ns() / 1000000;
	}
	if (bpf_core_field_exists(tp->received_ce)) {
		r->accecn_fail_mode = BPF_CORE_READ_BITFIELD(tp, accecn_fail_mode);
		r->accecn_opt_seen = BPF_CORE_READ_BITFIELD(tp, saw_accecn_opt);
		r->received_ce = tp->received_ce;
		r->delivered_ecn_bytes[0] = tp->delivered_ecn_bytes[0];
		r->delivered_ecn_bytes[1] = tp->delivered_ecn_bytes[1];
		r->delivered_ecn_bytes[2] = tp->delivered_ecn_bytes[2];
		r->received_ecn_bytes[0] = tp->received_ecn_bytes[0];
		r->received_ecn_bytes[1] = tp->received_ecn_bytes[1];
		r->received_ecn_bytes[2] = tp->received_ecn_bytes[2];
	}
}

static __always_inline void seen_now(struct bpfi_seen *v, const struct bpfi_rec *r)
{
	__builtin_memset(v, 0, sizeof(*v));
	v->bytes_acked = r->bytes_acked;
	v->bytes_received = r->bytes_received;
	v->segs_in = r->segs_in;
	v->segs_out = r->segs_out;
	v->total_retrans = r->total_retrans;
	v->state = r->state;
}

/* changed_only: 1 when the socket is to be sent this pass. An unchanged one is counted
 * as skipped; a sent one is remembered only once its record is in the buffer (seen_sent),
 * because a record that overflows the buffer is shown again by the next read(). */
static __always_inline int moved(struct bpfi_rec *r)
{
	struct bpfi_seen now, *was = bpf_map_lookup_elem(&seen, &r->cookie);

	seen_now(&now, r);
	if (was && was->bytes_acked == now.bytes_acked && was->bytes_received == now.bytes_received &&
	    was->segs_in == now.segs_in && was->segs_out == now.segs_out &&
	    was->total_retrans == now.total_retrans && was->state == now.state &&
	    was->skipped + 1 < cfg_refresh) {
		was->skipped++;
		return 0;
	}
	return 1;
}

static __always_inline void seen_sent(struct bpfi_rec *r)
{
	struct bpfi_seen now;

	seen_now(&now, r);
	bpf_map_update_elem(&seen, &r->cookie, &now, BPF_ANY);
}

SEC("iter/tcp")
int xtcpd_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	__u32 zero = 0;
	struct bpfi_rec *r;
	__u8 state;

	if (cfg_walk_only || !skc)
		return 0;
	state = skc->skc_state;
	if (state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);

		if (!tw)
			return 0;
		state = tw->tw_sk.tw_substate;
	} else if (state == TCP_NEW_SYN_RECV) {
		state = TCP_SYN_RECV;
	}
	if (!(cfg_states & (1u << (skc->skc_state & 31))))
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->magic = BPFI_MAGIC;
	r->size = sizeof(*r);
	r->state = state;
	r->cookie = bpf_get_socket_cookie(skc);
	r->jiffies = bpf_jiffies64();
	common(r, skc);
	if (skc->skc_state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);

		if (!tw)
			return 0;
		r->kind = BPFI_TIMEWAIT;
		r->timer = 3;
		r->mark = tw->tw_sk.tw_mark;
		r->timer_expires = tw->tw_sk.tw_timer.expires;
	} else if (skc->skc_state == TCP_NEW_SYN_RECV) {
		struct tcp_request_sock *req = bpf_skc_to_tcp_request_sock(skc);

		if (!req)
			return 0;
		r->kind = BPFI_REQUEST;
		r->timer = 1;
		r->retrans = req->req.req.num_retrans;
		r->mark = req->req.ir_mark;
		r->timer_expires = req->req.req.rsk_timer.expires;
	} else {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

		if (!tp)
			return 0;
		fullsock(r, tp, ctx->uid);
		queues(r, tp);
		/* changed_only compares tcp_info's counters */
		if ((cfg_want & BPFI_W_INFO) || cfg_changed_only)
			tcpinfo(r, tp);
	}
	if (cfg_changed_only && !moved(r))
		return 0;
	if (bpf_seq_write(ctx->meta->seq, r, sizeof(*r)) == 0 && cfg_changed_only)
		seen_sent(r);
	return 0;
}
