/* bpf_rec — the fixed binary record the BPF program writes per socket (bpf_seq_write)
 * and the plugin reads back: raw kernel values; conv.c derives what tcp_get_info() and
 * inet_diag would report from them (jiffies -> ms/us needs HZ, known in user space).
 * Shared by bpf_iter.bpf.c (clang -target bpf) and the plugin: fixed-width types only. */
#ifndef BPFI_REC_H
#define BPFI_REC_H

#ifndef __BPF__
#include <stdint.h>
typedef uint8_t bpfi_u8;
typedef uint16_t bpfi_u16;
typedef uint32_t bpfi_u32;
typedef uint64_t bpfi_u64;
#else
typedef unsigned char bpfi_u8;
typedef unsigned short bpfi_u16;
typedef unsigned int bpfi_u32;
typedef unsigned long long bpfi_u64;
#endif

/* Which kind of socket the record is (struct sock_common's three shapes). */
enum bpfi_kind { BPFI_FULL = 0, BPFI_TIMEWAIT = 1, BPFI_REQUEST = 2 };

/* What this kernel let the program read (bits of bpfi_rec.have). */
enum bpfi_have {
	BPFI_HAVE_SOCKOPT = 1u << 0,  /* inet_flags (Linux >= 6.6) */
	BPFI_HAVE_TCLASS  = 1u << 1,  /* an IPv6 socket's ipv6_pinfo */
	BPFI_HAVE_CGROUP  = 1u << 2,  /* sk_cgrp_data.cgroup */
	BPFI_HAVE_CONG    = 1u << 3,  /* icsk_ca_ops */
	BPFI_HAVE_BBR     = 1u << 4,  /* the socket runs BBR and this kernel's BTF has struct bbr */
};

/* Attribute groups the configuration asks for (cfg_want): the same bits as the
 * record's XTCPD_HAS_* (conv.c asserts it); the program reads only these. */
enum bpfi_want {
	BPFI_W_MEMINFO = 1u << 0, BPFI_W_INFO = 1u << 1, BPFI_W_CONG = 1u << 2,
	BPFI_W_TOS = 1u << 3, BPFI_W_TCLASS = 1u << 4, BPFI_W_SKMEM = 1u << 5,
	BPFI_W_SHUTDOWN = 1u << 6, BPFI_W_BBR = 1u << 9, BPFI_W_CLASS_ID = 1u << 10,
	BPFI_W_SOCKOPT = 1u << 11, BPFI_W_CGROUP = 1u << 12, BPFI_W_MARK = 1u << 13,
};

#define BPFI_MAGIC 0x78746362u /* "xtcb": first word of every record */

struct bpfi_rec {
	bpfi_u32 magic, size;          /* BPFI_MAGIC, sizeof(struct bpfi_rec) */
	bpfi_u64 cookie;
	bpfi_u64 jiffies;              /* jiffies when the socket was read */
	bpfi_u64 clock_ms;             /* tcp_clock_ms() then, when rto_stamp != 0 */
	bpfi_u64 timer_expires;        /* jiffies of the timer idiag_timer reports */
	bpfi_u64 inode;
	bpfi_u64 cgroup_id;
	bpfi_u64 pacing_rate, max_pacing_rate;
	bpfi_u64 bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	bpfi_u8 src[16], dst[16];
	bpfi_u16 family, sport, dport; /* sport host order (skc_num), dport as the kernel keeps it */
	bpfi_u8 kind, state;           /* enum bpfi_kind; sk_state, tw_substate or SYN_RECV */
	bpfi_u8 timer, retrans, shutdown, tos;
	bpfi_u8 tclass, ca_state, retransmits, probes;
	bpfi_u8 backoff, options, wscale, rate_flags;
	bpfi_u16 sockopt, tcpi_len;    /* inet_diag_sockopt bits; sizeof(struct tcp_info) here */
	bpfi_u32 have;                 /* enum bpfi_have */
	bpfi_u32 ifindex, uid, mark, class_id;
	bpfi_u32 rqueue, wqueue;
	/* skmem[] (SK_MEMINFO_*), meminfo from the same values */
	bpfi_u32 rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog, drops;
	/* tcp_info inputs */
	bpfi_u32 rto_j, ato_j, delack_max_j, snd_mss, rcv_mss;
	bpfi_u32 unacked, sacked, lost, retrans_out;
	bpfi_u32 lsndtime, lrcvtime, rcv_tstamp;
	bpfi_u32 pmtu, rcv_ssthresh, srtt_us, mdev_us, snd_ssthresh, snd_cwnd, advmss, reordering;
	bpfi_u32 rcv_rtt_us, rcv_space, total_retrans;
	bpfi_u32 segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
	bpfi_u32 rate_delivered, rate_interval_us;
	bpfi_u32 chrono_start, chrono_stat[3];
	bpfi_u32 chrono_type;
	bpfi_u32 delivered, delivered_ce, dsack_dups, reord_seen, rcv_ooopack, snd_wnd, rcv_wnd;
	bpfi_u32 rehash, rto_stamp, total_rto_time;
	bpfi_u16 total_rto, total_rto_recoveries;
	bpfi_u32 received_ce;
	bpfi_u32 delivered_ecn_bytes[3], received_ecn_bytes[3];
	bpfi_u16 accecn_fail_mode, accecn_opt_seen;
	bpfi_u32 bbr_bw, bbr_min_rtt, bbr_pacing_gain, bbr_cwnd_gain; /* bbr_get_info() inputs */
	char cong[16];
};

/* changed_only: what the program remembers per socket cookie (LRU map). */
struct bpfi_seen {
	bpfi_u64 bytes_acked, bytes_received;
	bpfi_u32 segs_in, segs_out, total_retrans, skipped;
	bpfi_u8 state, pad[7];
};

#endif
