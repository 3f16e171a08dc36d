/* synth_record — the deterministic record i used by the synth source, the tests that
 * check what came out of the pipeline, and the marshaller benchmarks. Every group of
 * the record is filled with distinct, realistic values. */
#ifndef XTCPD_SYNTH_RECORD_H
#define XTCPD_SYNTH_RECORD_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <xtcpd/record.h>

static inline void synth_record_fill(struct xtcpd_record *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->netns = "host";
	r->netns_inode = 4026531840u;
	r->socket_fd = 3;
	r->family = (i % 4 == 3) ? AF_INET6 : AF_INET;
	r->state = 1; /* ESTABLISHED */
	r->sport = (uint16_t)(1024 + i % 60000);
	r->dport = 443;
	if (r->family == AF_INET) {
		r->src[0] = 10; r->src[1] = (uint8_t)(i >> 16); r->src[2] = (uint8_t)(i >> 8); r->src[3] = (uint8_t)i;
		r->dst[0] = 192; r->dst[1] = 0; r->dst[2] = 2; r->dst[3] = 7;
	} else {
		r->src[0] = 0x20; r->src[1] = 0x01; r->src[2] = 0x0d; r->src[3] = 0xb8;
		r->src[14] = (uint8_t)(i >> 8); r->src[15] = (uint8_t)i;
		r->dst[0] = 0x20; r->dst[1] = 0x01; r->dst[2] = 0x0d; r->dst[3] = 0xb8; r->dst[15] = 1;
	}
	r->cookie = 0x100000000ull + i;
	r->uid = 1000;
	r->inode = (uint32_t)(50000 + i);
	r->rqueue = 0;
	r->wqueue = (uint32_t)(i % 7);
	r->present = XTCPD_HAS_MEMINFO | XTCPD_HAS_INFO | XTCPD_HAS_CONG | XTCPD_HAS_SKMEM |
		     XTCPD_HAS_SHUTDOWN | XTCPD_HAS_TOS;
	r->mem_rmem = 0; r->mem_wmem = (uint32_t)(i % 4096); r->mem_fmem = 4096; r->mem_tmem = 0;
	r->tcpi_len = sizeof(r->tcpi);
	r->tcpi.state = 1;
	r->tcpi.options = 7;
	r->tcpi.wscale = 0x77;
	r->tcpi.rto = 204000;
	r->tcpi.ato = 40000;
	r->tcpi.snd_mss = 1448;
	r->tcpi.rcv_mss = 536;
	r->tcpi.last_data_sent = (uint32_t)(i % 10000);
	r->tcpi.last_data_recv = (uint32_t)(i % 9000);
	r->tcpi.last_ack_recv = (uint32_t)(i % 8000);
	r->tcpi.pmtu = 1500;
	r->tcpi.rcv_ssthresh = 64088;
	r->tcpi.rtt = (uint32_t)(100 + i % 5000);
	r->tcpi.rttvar = (uint32_t)(50 + i % 2500);
	r->tcpi.snd_ssthresh = 2147483647u;
	r->tcpi.snd_cwnd = 10;
	r->tcpi.advmss = 1448;
	r->tcpi.reordering = 3;
	r->tcpi.rcv_space = 14480;
	r->tcpi.pacing_rate = 289600000ull + i;
	r->tcpi.max_pacing_rate = UINT64_MAX;
	r->tcpi.bytes_acked = 1000ull * i;
	r->tcpi.bytes_received = 2000ull * i;
	r->tcpi.segs_out = (uint32_t)(10 + i);
	r->tcpi.segs_in = (uint32_t)(12 + i);
	r->tcpi.min_rtt = 90;
	r->tcpi.data_segs_out = (uint32_t)i;
	r->tcpi.delivery_rate = 1000000ull + i;
	r->tcpi.busy_time = 3000 + i;
	r->tcpi.delivered = (uint32_t)(i + 1);
	r->tcpi.bytes_sent = 1000ull * i + 17;
	r->tcpi.snd_wnd = 65536;
	r->tcpi.rcv_wnd = 65483;
	strcpy(r->cong_name, "cubic");
	r->cong_enum = 1;
	r->tos = 0;
	r->skmem[0] = 0; r->skmem[1] = 131072; r->skmem[2] = 0; r->skmem[3] = 87040;
	r->skmem[4] = (uint32_t)(i % 4096); r->skmem[5] = 0; r->skmem[6] = 0; r->skmem[7] = 0; r->skmem[8] = 0;
	r->shutdown = 0;
}

#endif
