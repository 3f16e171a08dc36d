/* conv — one raw struct bpfi_rec -> struct xtcpd_record, deriving each field the way the
 * kernel does for sock_diag: inet_diag_msg_common_fill / inet_sk_diag_fill /
 * inet_twsk_diag_fill / inet_req_diag_fill for the header and attributes,
 * tcp_get_info() for tcp_info (srtt >> 3, mdev >> 2, jiffies -> us/ms with the kernel's
 * HZ, delivery rate, chrono times against the jiffies read with the socket). */
#include "bisrc.h"

#include <string.h>
#include <arpa/inet.h>

#include "plugins/sources/netlink/parse.h" /* nlp_cong_enum */

#define BPFI_TCP_LISTEN 10

#define BPFI_SAME(w, h) _Static_assert((unsigned)(w) == (unsigned)(h), #w " is " #h)
BPFI_SAME(BPFI_W_MEMINFO, XTCPD_HAS_MEMINFO);
BPFI_SAME(BPFI_W_INFO, XTCPD_HAS_INFO);
BPFI_SAME(BPFI_W_CONG, XTCPD_HAS_CONG);
BPFI_SAME(BPFI_W_TOS, XTCPD_HAS_TOS);
BPFI_SAME(BPFI_W_TCLASS, XTCPD_HAS_TCLASS);
BPFI_SAME(BPFI_W_SKMEM, XTCPD_HAS_SKMEM);
BPFI_SAME(BPFI_W_SHUTDOWN, XTCPD_HAS_SHUTDOWN);
BPFI_SAME(BPFI_W_BBR, XTCPD_HAS_BBR);
BPFI_SAME(BPFI_W_CLASS_ID, XTCPD_HAS_CLASS_ID);
BPFI_SAME(BPFI_W_SOCKOPT, XTCPD_HAS_SOCKOPT);
BPFI_SAME(BPFI_W_CGROUP, XTCPD_HAS_CGROUP);
BPFI_SAME(BPFI_W_MARK, XTCPD_HAS_MARK);

/* jiffies_to_usecs()/jiffies_to_msecs(): exact for every HZ the kernel allows (the
 * kernel's NUM/DEN constants are 10^6/HZ and 10^3/HZ reduced); unsigned int results. */
static uint32_t bpfi_j2us(uint64_t j, unsigned hz)
{
	return (uint32_t)(j * 1000000u / hz);
}

static uint32_t bpfi_j2ms(uint64_t j, unsigned hz)
{
	return (uint32_t)(j * 1000u / hz);
}

/* jiffies_delta_to_msecs(expires - jiffies): negative deltas are 0. */
static uint32_t bpfi_expires(const struct bpfi_rec *b, unsigned hz)
{
	int64_t d = (int64_t)(b->timer_expires - b->jiffies);

	return d > 0 ? bpfi_j2ms((uint64_t)d, hz) : 0;
}

static void bpfi_chrono(const struct bpfi_rec *b, uint32_t now, unsigned hz,
			struct xtcpd_tcp_info *t)
{
	uint64_t stats[4] = { 0 }, total = 0;

	for (unsigned i = 1; i < 4; i++) { /* TCP_CHRONO_BUSY .. SNDBUF_LIMITED */
		stats[i] = b->chrono_stat[i - 1];
		if (i == b->chrono_type)
			stats[i] += (uint32_t)(now - b->chrono_start);
		stats[i] *= 1000000u / hz; /* USEC_PER_SEC / HZ, an integer division as there */
		total += stats[i];
	}
	t->busy_time = total;
	t->rwnd_limited = stats[2];
	t->sndbuf_limited = stats[3];
}

static void bpfi_tcpinfo(const struct bpfi_rec *b, unsigned hz, struct xtcpd_record *rec)
{
	struct xtcpd_tcp_info *t = &rec->tcpi;
	uint32_t now = (uint32_t)b->jiffies; /* tcp_jiffies32 */
	uint32_t ato = b->ato_j;
	size_t len = b->tcpi_len;

	t->state = b->state;
	t->pacing_rate = b->pacing_rate;
	t->max_pacing_rate = b->max_pacing_rate;
	t->reordering = b->reordering;
	t->snd_cwnd = b->snd_cwnd;
	t->unacked = b->unacked;
	t->sacked = b->sacked;
	if (b->state != BPFI_TCP_LISTEN) {
		t->ca_state = b->ca_state;
		t->retransmits = b->retransmits;
		t->probes = b->probes;
		t->backoff = b->backoff;
		t->options = b->options;
		t->wscale = b->wscale;
		t->rate_flags = b->rate_flags;
		if (b->delack_max_j && b->delack_max_j < ato) /* min(ato, tcp_delack_max(sk)) */
			ato = b->delack_max_j;
		t->rto = bpfi_j2us(b->rto_j, hz);
		t->ato = bpfi_j2us(ato, hz);
		t->snd_mss = b->snd_mss;
		t->rcv_mss = b->rcv_mss;
		t->lost = b->lost;
		t->retrans = b->retrans_out;
		t->last_data_sent = bpfi_j2ms((uint32_t)(now - b->lsndtime), hz);
		t->last_data_recv = bpfi_j2ms((uint32_t)(now - b->lrcvtime), hz);
		t->last_ack_recv = bpfi_j2ms((uint32_t)(now - b->rcv_tstamp), hz);
		t->pmtu = b->pmtu;
		t->rcv_ssthresh = b->rcv_ssthresh;
		t->rtt = b->srtt_us >> 3;
		t->rttvar = b->mdev_us >> 2;
		t->snd_ssthresh = b->snd_ssthresh;
		t->advmss = b->advmss;
		t->rcv_rtt = b->rcv_rtt_us >> 3;
		t->rcv_space = b->rcv_space;
		t->total_retrans = b->total_retrans;
		t->bytes_acked = b->bytes_acked;
		t->bytes_received = b->bytes_received;
		t->notsent_bytes = b->notsent_bytes;
		bpfi_chrono(b, now, hz, t);
		t->segs_out = b->segs_out;
		t->segs_in = b->segs_in;
		t->data_segs_in = b->data_segs_in;
		t->min_rtt = b->min_rtt;
		t->data_segs_out = b->data_segs_out;
		if (b->rate_delivered && b->rate_interval_us)
			t->delivery_rate = (uint64_t)b->rate_delivered * b->snd_mss * 1000000u /
					   b->rate_interval_us;
		t->delivered = b->delivered;
		t->delivered_ce = b->delivered_ce;
		t->bytes_sent = b->bytes_sent;
		t->bytes_retrans = b->bytes_retrans;
		t->dsack_dups = b->dsack_dups;
		t->reord_seen = b->reord_seen;
		t->rcv_ooopack = b->rcv_ooopack;
		t->snd_wnd = b->snd_wnd;
		t->rcv_wnd = b->rcv_wnd;
		t->rehash = b->rehash;
		t->total_rto = b->total_rto;
		t->total_rto_recoveries = b->total_rto_recoveries;
		t->total_rto_time = b->total_rto_time;
		if (b->rto_stamp)
			t->total_rto_time += (uint32_t)(b->clock_ms - b->rto_stamp);
		t->received_ce = b->received_ce;
		/* [INET_ECN_ECT_1 - 1], [INET_ECN_ECT_0 - 1], [INET_ECN_CE - 1] */
		t->delivered_e1_bytes = b->delivered_ecn_bytes[0];
		t->delivered_e0_bytes = b->delivered_ecn_bytes[1];
		t->delivered_ce_bytes = b->delivered_ecn_bytes[2];
		t->received_e1_bytes = b->received_ecn_bytes[0];
		t->received_e0_bytes = b->received_ecn_bytes[1];
		t->received_ce_bytes = b->received_ecn_bytes[2];
		t->accecn_fail_mode = b->accecn_fail_mode;
		t->accecn_opt_seen = b->accecn_opt_seen;
	}
	if (len > sizeof(*t)) {
		rec->flags |= XTCPD_REC_INFO_OVERSIZE;
		len = sizeof(*t);
	} else {
		/* This kernel's tcp_info ends here: what lies beyond does not exist. */
		memset((uint8_t *)t + len, 0, sizeof(*t) - len);
	}
	rec->tcpi_len = b->tcpi_len;
}

/* The attributes inet_sk_diag_fill() sends for a full socket. */
static void bpfi_full(const struct bpfi_rec *b, unsigned hz, uint32_t decode,
		      struct xtcpd_record *rec)
{
	uint32_t have = XTCPD_HAS_SHUTDOWN | XTCPD_HAS_TOS | XTCPD_HAS_CLASS_ID | XTCPD_HAS_MARK |
			XTCPD_HAS_MEMINFO | XTCPD_HAS_SKMEM | XTCPD_HAS_INFO;

	rec->rqueue = b->rqueue;
	rec->wqueue = b->wqueue;
	rec->uid = b->uid;
	rec->inode = (uint32_t)b->inode;
	if (b->have & BPFI_HAVE_CONG)
		have |= XTCPD_HAS_CONG;
	if (b->have & BPFI_HAVE_CGROUP)
		have |= XTCPD_HAS_CGROUP;
	if (b->have & BPFI_HAVE_SOCKOPT)
		have |= XTCPD_HAS_SOCKOPT;
	if (b->family == AF_INET6 && (b->have & BPFI_HAVE_TCLASS))
		have |= XTCPD_HAS_TCLASS;
	if ((b->have & BPFI_HAVE_BBR) && b->state < 6) /* ca_ops->get_info only below TIME_WAIT */
		have |= XTCPD_HAS_BBR;
	have &= decode;
	rec->present = have;
	if (have & XTCPD_HAS_SHUTDOWN)
		rec->shutdown = b->shutdown;
	if (have & XTCPD_HAS_TOS)
		rec->tos = b->tos;
	if (have & XTCPD_HAS_TCLASS)
		rec->tclass = b->tclass;
	if (have & XTCPD_HAS_CLASS_ID)
		rec->class_id = b->class_id;
	if (have & XTCPD_HAS_MARK)
		rec->mark = b->mark;
	if (have & XTCPD_HAS_CGROUP)
		rec->cgroup_id = b->cgroup_id;
	if (have & XTCPD_HAS_SOCKOPT)
		rec->sockopt = b->sockopt;
	if (have & XTCPD_HAS_MEMINFO) {
		rec->mem_rmem = b->rmem_alloc;
		rec->mem_wmem = b->wmem_queued;
		rec->mem_fmem = b->fwd_alloc;
		rec->mem_tmem = b->wmem_alloc;
	}
	if (have & XTCPD_HAS_SKMEM) {
		const uint32_t v[XTCPD_SKMEM_VARS] = { b->rmem_alloc, b->rcvbuf, b->wmem_alloc,
			b->sndbuf, b->fwd_alloc, b->wmem_queued, b->optmem, b->backlog, b->drops };

		memcpy(rec->skmem, v, sizeof(v));
	}
	if (have & XTCPD_HAS_CONG) {
		memcpy(rec->cong_name, b->cong, sizeof(rec->cong_name));
		rec->cong_name[sizeof(rec->cong_name) - 1] = '\0';
		rec->cong_enum = nlp_cong_enum(rec->cong_name);
	}
	if (have & XTCPD_HAS_INFO)
		bpfi_tcpinfo(b, hz, rec);
	if (have & XTCPD_HAS_BBR) {
		/* bw * mss_cache * USEC_PER_SEC >> BW_SCALE (24) */
		uint64_t bw = (uint64_t)b->bbr_bw * b->snd_mss * 1000000u >> 24;

		rec->bbr_bw_lo = (uint32_t)bw;
		rec->bbr_bw_hi = (uint32_t)(bw >> 32);
		rec->bbr_min_rtt = b->bbr_min_rtt;
		rec->bbr_pacing_gain = b->bbr_pacing_gain;
		rec->bbr_cwnd_gain = b->bbr_cwnd_gain;
	}
}

void bpfi_conv(const struct bpfi_rec *b, unsigned hz, uint32_t decode, struct xtcpd_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->family = (uint8_t)b->family;
	rec->state = b->state;
	rec->timer = b->timer;
	rec->retrans = b->retrans;
	rec->sport = b->sport;
	rec->dport = ntohs(b->dport);
	memcpy(rec->src, b->src, sizeof(rec->src));
	memcpy(rec->dst, b->dst, sizeof(rec->dst));
	rec->ifindex = b->ifindex;
	rec->cookie = b->cookie;
	if (b->timer)
		rec->expires = bpfi_expires(b, hz);
	if (b->kind == BPFI_FULL) {
		bpfi_full(b, hz, decode, rec);
	} else if (decode & XTCPD_HAS_MARK) {
		/* time-wait and request sockets: the header and the mark only */
		rec->present = XTCPD_HAS_MARK;
		rec->mark = b->mark;
	}
}
