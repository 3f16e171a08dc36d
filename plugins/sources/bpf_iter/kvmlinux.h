/* kvmlinux — the few kernel types the BPF program reads, declared by hand for CO-RE:
 * field names matter, layout does not (libbpf relocates every access against the
 * running kernel's BTF), so the build needs no kernel headers and no vmlinux.h. Types
 * named `x___old` describe fields older kernels had instead (bpf_core_field_exists). */
#ifndef BPFI_KVMLINUX_H
#define BPFI_KVMLINUX_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

#define CORE __attribute__((preserve_access_index))

/* <linux/bpf.h> values the program uses (UAPI: fixed). */
enum { BPF_MAP_TYPE_PERCPU_ARRAY = 6, BPF_MAP_TYPE_LRU_HASH = 9 };
enum { BPF_ANY = 0 };

struct in6_addr { union { __u8 u6_addr8[16]; } in6_u; } CORE;
typedef struct { int counter; } CORE atomic_t;
typedef struct { atomic_t refs; } CORE refcount_t;
struct hlist_node { struct hlist_node *next, **pprev; } CORE;
struct timer_list { struct hlist_node entry; unsigned long expires; } CORE;

struct sock_common {
	__be32 skc_daddr, skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	int skc_bound_dev_if;
	struct in6_addr skc_v6_daddr, skc_v6_rcv_saddr;
} CORE;

struct kernfs_node { __u64 id; } CORE;
struct cgroup { struct kernfs_node *kn; } CORE;
struct sock_cgroup_data { struct cgroup *cgroup; __u32 classid; } CORE;
struct inode { unsigned long i_ino; } CORE;
struct socket { short type; } CORE;
struct socket_alloc { struct socket socket; struct inode vfs_inode; } CORE;
struct numa_drop_counters { atomic_t drops0, drops1; } CORE;

struct sock {
	struct sock_common __sk_common;
	struct { atomic_t rmem_alloc; int len; } sk_backlog;
	atomic_t sk_drops;
	struct numa_drop_counters *sk_drop_counters;
	int sk_rcvbuf, sk_sndbuf, sk_forward_alloc, sk_wmem_queued;
	atomic_t sk_omem_alloc;
	refcount_t sk_wmem_alloc;
	struct timer_list sk_timer;
	unsigned long sk_pacing_rate, sk_max_pacing_rate;
	__u32 sk_priority, sk_mark, sk_ack_backlog, sk_max_ack_backlog;
	__u8 sk_shutdown;
	unsigned long sk_ino;
	struct socket *sk_socket;
	struct sock_cgroup_data sk_cgrp_data;
} CORE;

struct ipv6_pinfo { __u8 tclass; } CORE;

struct inet_sock {
	struct sock sk;
	struct ipv6_pinfo *pinet6;
	unsigned long inet_flags;
	__u8 tos;
} CORE;

struct tcp_congestion_ops { char name[16]; } CORE;
struct minmax_sample { __u32 t, v; } CORE;
struct minmax { struct minmax_sample s[3]; } CORE;

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	struct timer_list icsk_retransmit_timer;
	__u32 icsk_rto, icsk_delack_max, icsk_pmtu_cookie;
	const struct tcp_congestion_ops *icsk_ca_ops;
	__u8 icsk_ca_state: 5;
	__u8 icsk_retransmits, icsk_pending, icsk_backoff, icsk_probes_out;
	struct { __u32 ato, lrcvtime; __u16 rcv_mss; } icsk_ack;
	__u64 icsk_ca_priv[13];
} CORE;

/* Before Linux 6.13 the retransmit timer's expiry had a field of its own. */
struct inet_connection_sock___old { unsigned long icsk_timeout; } CORE;

/* tcp_bbr.c's private state (in BTF when BBR is built in). */
struct bbr {
	__u32 min_rtt_us;
	struct minmax bw;
	__u32 lt_use_bw: 1;
	__u32 lt_bw;
	__u32 pacing_gain: 10, cwnd_gain: 10;
} CORE;

struct tcp_options_received {
	__u16 tstamp_ok: 1, wscale_ok: 1, sack_ok: 3, snd_wscale: 4, rcv_wscale: 4;
} CORE;


struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 rcv_ssthresh, reordering, snd_wnd, mss_cache, snd_cwnd, lost_out, sacked_out;
	__u8 tcp_usec_ts: 1;
	__u32 copied_seq, retrans_out, snd_ssthresh;
	__u16 advmss;
	struct minmax rtt_min;
	__u32 segs_out, data_segs_out;
	__u64 bytes_sent;
	__u8 chrono_type;
	__u32 chrono_start, chrono_stat[3], write_seq, lsndtime, mdev_us;
	__u8 ecn_flags;
	__u8 rate_app_limited: 1;
	__u32 rcv_nxt, snd_nxt, snd_una, srtt_us, packets_out, delivered, delivered_ce, received_ce;
	__u32 received_ecn_bytes[3];
	__u32 rcv_wnd, rcv_tstamp;
	struct tcp_options_received rx_opt;
	__u64 bytes_received;
	__u32 segs_in, data_segs_in, rate_delivered, rate_interval_us;
	__u32 delivered_ecn_bytes[3];
	__u64 bytes_acked;
	struct { __u32 rtt_us; } rcv_rtt_est;
	struct { int space; } rcvq_space;
	__u32 dsack_dups;
	__u8 fastopen_client_fail: 2, syn_data_acked: 1, syn_fastopen_child: 1;
	__u8 accecn_fail_mode: 4, saw_accecn_opt: 2;
	__u32 reord_seen;
	__u64 bytes_retrans;
	__u32 total_retrans, rto_stamp;
	__u16 total_rto, total_rto_recoveries;
	__u32 total_rto_time;
	__u16 timeout_rehash;
	__u32 rcv_ooopack, plb_rehash;
} CORE;

struct inet_timewait_sock {
	struct sock_common __tw_common;
	__u32 tw_mark;
	unsigned char tw_substate;
	struct timer_list tw_timer;
} CORE;

struct request_sock {
	struct sock_common __req_common;
	__u8 num_retrans;
	struct timer_list rsk_timer;
} CORE;
struct inet_request_sock { struct request_sock req; __u32 ir_mark; } CORE;
struct tcp_request_sock { struct inet_request_sock req; } CORE;
struct tcp6_sock { struct tcp_sock tcp; } CORE;
struct tcp_timewait_sock { struct inet_timewait_sock tw_sk; } CORE;

struct tcp_info { __u8 tcpi_state; } CORE;

struct seq_file;
struct bpf_iter_meta { struct seq_file *seq; __u64 session_id, seq_num; } CORE;
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
} CORE;

#endif
