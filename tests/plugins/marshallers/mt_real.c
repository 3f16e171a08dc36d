/* tests/plugins/marshallers/mt_real.c — a fixed, deterministic set of realistic records for
 * benchmarks and samples (the bench also replays a captured dump, replay.nlraw): a busy
 * host's mix of IPv4 and IPv6, mostly established sockets with a full 6.10-kernel
 * tcp_info, cubic and bbr, some listeners and TIME-WAIT sockets that carry no tcp_info. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "tests/lib/testhost.h"
#include "tests/plugins/marshallers/mt.h"

static uint32_t mt_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

void mt_fill_real(struct mt_rec *m, unsigned i)
{
	th_enrich_retire();  /* text rewritten at the same addresses: see mt_fill */
	struct xtcpd_record *r = &m->r;
	struct xtcpd_tcp_info *t = &r->tcpi;
	uint64_t s = 0x9e3779b97f4a7c15ull ^ i;
	unsigned kind = i % 20; /* 0: listener, 1-2: time-wait, rest established */

	memset(m, 0, sizeof(*m));
	r->schema_version = 1;
	r->daemon_version = "xtcpd 0.1.0";
	r->timestamp_ns = 1764115200000000000ll + (int64_t)(i / 1000) * 10000000000ll;
	r->hostname = "kafka-broker-17.fra2.example.net";
	r->location = "fra2";
	r->netns = (i % 3) ? "cni-4f0e1c2a-7b3d-11ee-9c51-0242ac120002" : "";
	r->netns_inode = 4026531840ull + i % 3;
	r->nsid = i % 3;
	r->label = "prod";
	r->tag = "broker";
	r->record_counter = i;
	r->socket_fd = 7 + i % 4;
	r->netlinker_id = i % 4;

	r->family = (i % 5 < 3) ? AF_INET : AF_INET6;
	r->state = kind == 0 ? 10 : kind < 3 ? 6 : 1;
	r->sport = kind == 0 ? 9092 : (uint16_t)(32768 + mt_rand(&s) % 28000);
	r->dport = kind == 0 ? 0 : 9092;
	if (r->family == AF_INET) {
		r->src[0] = 10, r->src[1] = 20, r->src[2] = (uint8_t)(i >> 8), r->src[3] = (uint8_t)i;
		r->dst[0] = 10, r->dst[1] = 21, r->dst[2] = 7, r->dst[3] = (uint8_t)mt_rand(&s);
	} else {
		r->src[0] = 0x20, r->src[1] = 0x01, r->src[2] = 0x0d, r->src[3] = 0xb8;
		r->src[14] = (uint8_t)(i >> 8), r->src[15] = (uint8_t)i;
		memcpy(r->dst, r->src, 16);
		r->dst[15] = (uint8_t)mt_rand(&s);
	}
	r->cookie = 0x100000000ull * (i % 7) + 4000000 + i;
	r->expires = kind < 3 ? 0 : mt_rand(&s) % 200;
	r->timer = r->expires ? 1 : 0;
	r->rqueue = kind == 0 ? 0 : mt_rand(&s) % 4096;
	r->wqueue = mt_rand(&s) % 65536;
	r->uid = kind < 3 ? 0 : 1000;
	r->inode = kind == 1 || kind == 2 ? 0 : 3000000 + i;
	if (kind == 1 || kind == 2)
		return; /* TIME-WAIT: the kernel sends the header only */

	r->present = XTCPD_HAS_INFO | XTCPD_HAS_CONG | XTCPD_HAS_SKMEM | XTCPD_HAS_TOS |
	             XTCPD_HAS_SHUTDOWN | XTCPD_HAS_CGROUP | XTCPD_HAS_SOCKOPT;
	r->tcpi_len = 248;
	t->state = r->state;
	t->ca_state = mt_rand(&s) % 8 == 0 ? 1 : 0;
	t->options = 7;
	t->wscale = 7 | 7 << 4;
	t->rto = 204000 + mt_rand(&s) % 1000;
	t->ato = 40000;
	t->snd_mss = 1448, t->rcv_mss = 1448, t->advmss = 1448, t->pmtu = 1500;
	t->unacked = mt_rand(&s) % 40;
	t->last_data_sent = mt_rand(&s) % 5000;
	t->last_data_recv = mt_rand(&s) % 5000;
	t->last_ack_recv = mt_rand(&s) % 5000;
	t->rcv_ssthresh = 64088 + mt_rand(&s) % 100000;
	t->rtt = 180 + mt_rand(&s) % 20000;
	t->rttvar = t->rtt / 4;
	t->snd_ssthresh = mt_rand(&s) % 2 ? 2147483647u : 20 + mt_rand(&s) % 400;
	t->snd_cwnd = 10 + mt_rand(&s) % 300;
	t->reordering = 3;
	t->rcv_rtt = mt_rand(&s) % 3000;
	t->rcv_space = 14480 + mt_rand(&s) % 500000;
	t->total_retrans = mt_rand(&s) % 16 == 0 ? mt_rand(&s) % 50 : 0;
	t->pacing_rate = 100000000ull + mt_rand(&s);
	t->max_pacing_rate = ~0ull;
	t->bytes_acked = (uint64_t)mt_rand(&s) * 97;
	t->bytes_received = (uint64_t)mt_rand(&s) * 13;
	t->segs_out = mt_rand(&s) % 10000000;
	t->segs_in = mt_rand(&s) % 10000000;
	t->min_rtt = t->rtt / 2 + 1;
	t->data_segs_in = t->segs_in / 2;
	t->data_segs_out = t->segs_out / 2;
	t->delivery_rate = 50000000ull + mt_rand(&s) % 1000000000u;
	t->busy_time = (uint64_t)mt_rand(&s) * 3;
	t->rwnd_limited = mt_rand(&s) % 4 ? 0 : mt_rand(&s) % 100000;
	t->delivered = t->data_segs_out + 1;
	t->bytes_sent = t->bytes_acked + mt_rand(&s) % 100000;
	t->snd_wnd = 65535 * (1 + mt_rand(&s) % 64);
	t->rcv_wnd = 65535 * (1 + mt_rand(&s) % 64);
	if (i % 4 == 3) {
		memcpy(r->cong_name, "bbr", 4);
		r->cong_enum = XTCPD_CONG_BBR1;
		r->present |= XTCPD_HAS_BBR;
		r->bbr_bw_lo = mt_rand(&s);
		r->bbr_min_rtt = t->min_rtt;
		r->bbr_pacing_gain = 256, r->bbr_cwnd_gain = 512;
	} else {
		memcpy(r->cong_name, "cubic", 6);
		r->cong_enum = XTCPD_CONG_CUBIC;
	}
	r->skmem[XTCPD_SKMEM_RCVBUF] = 131072 + mt_rand(&s) % 6000000;
	r->skmem[XTCPD_SKMEM_SNDBUF] = 87040 + mt_rand(&s) % 4000000;
	r->skmem[XTCPD_SKMEM_WMEM_QUEUED] = mt_rand(&s) % 100000;
	r->skmem[XTCPD_SKMEM_FWD_ALLOC] = mt_rand(&s) % 8192;
	r->tos = 0;
	r->cgroup_id = 8000 + i % 50;
	r->sockopt = 0x0100;
}
