/* xtcpd/record.h — the flat per-socket record that sources fill and marshallers read.
 * It mirrors proto/xtcp_flat_record.proto (schema v1, see the field numbers in the
 * comments) plus extension fields. Filling it never allocates: strings the core owns
 * are borrowed pointers valid until the emit call returns. */
#ifndef XTCPD_RECORD_H
#define XTCPD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define XTCPD_SCHEMA_VERSION 1u

/* Presence bits (struct xtcpd_record.present): one per attribute group the kernel may
 * or may not send. A group whose bit is clear has all its fields zero. */
enum xtcpd_present {
	XTCPD_HAS_MEMINFO  = 1u << 0,  /* INET_DIAG_MEMINFO    -> mem_info_*          */
	XTCPD_HAS_INFO     = 1u << 1,  /* INET_DIAG_INFO       -> tcpi (see tcpi_len) */
	XTCPD_HAS_CONG     = 1u << 2,  /* INET_DIAG_CONG       -> cong_name/cong_enum */
	XTCPD_HAS_TOS      = 1u << 3,  /* INET_DIAG_TOS                                */
	XTCPD_HAS_TCLASS   = 1u << 4,  /* INET_DIAG_TCLASS                             */
	XTCPD_HAS_SKMEM    = 1u << 5,  /* INET_DIAG_SKMEMINFO  -> skmem[]              */
	XTCPD_HAS_SHUTDOWN = 1u << 6,  /* INET_DIAG_SHUTDOWN                           */
	XTCPD_HAS_VEGAS    = 1u << 7,  /* INET_DIAG_VEGASINFO                          */
	XTCPD_HAS_DCTCP    = 1u << 8,  /* INET_DIAG_DCTCPINFO                          */
	XTCPD_HAS_BBR      = 1u << 9,  /* INET_DIAG_BBRINFO                            */
	XTCPD_HAS_CLASS_ID = 1u << 10, /* INET_DIAG_CLASS_ID                           */
	XTCPD_HAS_SOCKOPT  = 1u << 11, /* INET_DIAG_SOCKOPT                            */
	XTCPD_HAS_CGROUP   = 1u << 12, /* INET_DIAG_CGROUP_ID                          */
	XTCPD_HAS_MARK     = 1u << 13, /* INET_DIAG_MARK (extension field)             */
};

/* Record flags (struct xtcpd_record.flags). */
enum xtcpd_record_flag {
	XTCPD_REC_DUMP_INTR     = 1u << 0, /* the dump this came from had NLM_F_DUMP_INTR */
	XTCPD_REC_INFO_OVERSIZE = 1u << 1, /* tcp_info longer than struct xtcpd_tcp_info  */
	XTCPD_REC_CLOSED        = 1u << 2, /* the socket's final state, sent by the kernel
	                                    * as it destroyed the socket (source `closed`) */
};

/* CongestionAlgorithm enum of the wire schema. */
enum xtcpd_cong {
	XTCPD_CONG_UNSPECIFIED = 0,
	XTCPD_CONG_CUBIC = 1,
	XTCPD_CONG_DCTCP = 2,
	XTCPD_CONG_VEGAS = 3,
	XTCPD_CONG_PRAGUE = 4,
	XTCPD_CONG_BBR1 = 5,
	XTCPD_CONG_BBR2 = 6,
	XTCPD_CONG_BBR3 = 7,
};

/* The kernel's struct tcp_info (include/uapi/linux/tcp.h), laid out byte for byte as of
 * Linux 6.18, so parsing is one bounded memcpy into a zeroed struct. Older kernels send
 * a prefix of it (4.15: 192 bytes); struct xtcpd_record.tcpi_len says how much arrived,
 * so a marshaller knows which fields are really absent. Bitfields of the kernel struct
 * are kept as raw bytes: use the XTCPD_TCPI_* accessors. */
struct xtcpd_tcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options;
	uint8_t wscale;     /* snd_wscale:4 (low nibble), rcv_wscale:4 (high nibble) */
	uint8_t rate_flags; /* delivery_rate_app_limited:1, fastopen_client_fail:2 */
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space;
	uint32_t total_retrans;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received; /* offset 104 */
	uint32_t segs_out, segs_in;
	uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
	uint64_t delivery_rate;                                             /* offset 160 */
	uint64_t busy_time, rwnd_limited, sndbuf_limited;                   /* ends at 192 */
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen;
	uint32_t rcv_ooopack;
	uint32_t snd_wnd;
	uint32_t rcv_wnd;                                                   /* ends at 236 */
	uint32_t rehash;
	uint16_t total_rto, total_rto_recoveries;
	uint32_t total_rto_time;                                            /* ends at 248 */
	uint32_t received_ce;
	uint32_t delivered_e1_bytes, delivered_e0_bytes, delivered_ce_bytes;
	uint32_t received_e1_bytes, received_e0_bytes, received_ce_bytes;
	uint16_t accecn_fail_mode, accecn_opt_seen;                         /* ends at 280 */
};

#define XTCPD_TCPI_SND_WSCALE(t)          ((uint32_t)((t)->wscale & 0x0f))
#define XTCPD_TCPI_RCV_WSCALE(t)          ((uint32_t)((t)->wscale >> 4))
#define XTCPD_TCPI_APP_LIMITED(t)         ((uint32_t)((t)->rate_flags & 0x01))
#define XTCPD_TCPI_FASTOPEN_FAIL(t)       ((uint32_t)(((t)->rate_flags >> 1) & 0x03))
/* The byte where `field` of a tcp_info ends. */
#define XTCPD_TCPI_END(field) \
	(offsetof(struct xtcpd_tcp_info, field) + sizeof(((struct xtcpd_tcp_info *)0)->field))
/* True when a tcp_info of `len` bytes carried `field` completely. */
#define XTCPD_TCPI_HAS(len, field) ((size_t)(len) >= XTCPD_TCPI_END(field))

/* Indexes of struct xtcpd_record.skmem (the kernel's SK_MEMINFO_*). */
enum xtcpd_skmem {
	XTCPD_SKMEM_RMEM_ALLOC, XTCPD_SKMEM_RCVBUF, XTCPD_SKMEM_WMEM_ALLOC, XTCPD_SKMEM_SNDBUF,
	XTCPD_SKMEM_FWD_ALLOC, XTCPD_SKMEM_WMEM_QUEUED, XTCPD_SKMEM_OPTMEM, XTCPD_SKMEM_BACKLOG,
	XTCPD_SKMEM_DROPS, XTCPD_SKMEM_VARS
};

#define XTCPD_CONG_NAME_MAX 16 /* TCP_CA_NAME_MAX, including the NUL */

/* Optional host enrichment of one uplink (fields 100-124 / 200-224). NULL strings and
 * zero numbers are "not known" and are not written. */
struct xtcpd_uplink {
	const char *ifname, *nic_driver, *nic_model, *nic_bus_info, *nic_fw_version;
	uint32_t nic_pci_vendor, nic_pci_device, nic_speed_mbps;
	const char *lldp_chassis_name, *lldp_chassis_id, *lldp_mgmt_ip, *lldp_port_id,
		*lldp_port_descr;
};

/* One socket. Who fills what (one owner per field):
 * - the core, in host->emit() / host->emit_ns(): every metadata field except socket_fd;
 *   the namespace fields (netns, netns_inode, nsid, container_*) only through emit_ns,
 *   from the namespace the source names (borrowed strings, valid until emit returns);
 * - the source: socket_fd and the kernel part. */
struct xtcpd_record {
	/* --- collector metadata (filled by the core, but socket_fd) --- */
	uint32_t schema_version;          /* 1 */
	const char *daemon_version;       /* 2 */
	int64_t timestamp_ns;             /* 10: poll start, ns since the epoch */
	const char *hostname;             /* 20 */
	const char *location;             /* 21 */
	const char *netns;                /* 30: namespace name */
	uint64_t netns_inode;             /* 31 */
	uint32_t nsid;                    /* 32 */
	const char *container_id, *container_runtime, *container_name, *container_image; /* 40-43 */
	const char *label;                /* 50 */
	const char *tag;                  /* 51 */
	uint64_t record_counter;          /* 60 */
	uint64_t socket_fd;               /* 61: the source's: the socket the dump came from */
	uint64_t netlinker_id;            /* 62: reader thread (lane) that parsed it */
	const struct xtcpd_uplink *uplink[2]; /* 100-124, 200-224; NULL = none */

	/* --- kernel part (filled by the source) --- */
	uint32_t present;                 /* enum xtcpd_present */
	uint32_t flags;                   /* enum xtcpd_record_flag */
	/* struct inet_diag_msg: 1001-1017 */
	uint8_t family, state, timer, retrans;
	uint16_t sport, dport;            /* host byte order */
	uint8_t src[16], dst[16];         /* raw, as the kernel gives them (IPv4: first 4) */
	uint32_t ifindex;
	uint64_t cookie;                  /* idiag_cookie[0] | idiag_cookie[1] << 32 */
	uint64_t dest_asn, next_hop_asn;  /* 1011, 1012: enrichment, 0 = unknown */
	uint32_t expires, rqueue, wqueue, uid, inode;
	/* INET_DIAG_MEMINFO: 1101-1104 */
	uint32_t mem_rmem, mem_wmem, mem_fmem, mem_tmem;
	/* INET_DIAG_INFO: 1201-1265; tcpi_len = bytes the kernel sent (0 = absent) */
	uint16_t tcpi_len;
	struct xtcpd_tcp_info tcpi;
	/* INET_DIAG_CONG: 1300, 1301 */
	char cong_name[XTCPD_CONG_NAME_MAX];
	uint32_t cong_enum;               /* enum xtcpd_cong */
	uint32_t tos, tclass;             /* 1401, 1402 */
	uint32_t skmem[XTCPD_SKMEM_VARS]; /* 1501-1509 */
	uint32_t shutdown;                /* 1600 */
	uint32_t vegas_enabled, vegas_rtt_cnt, vegas_rtt, vegas_min_rtt;              /* 1701-1704 */
	uint32_t dctcp_enabled, dctcp_ce_state, dctcp_alpha, dctcp_ab_ecn, dctcp_ab_tot; /* 1801-1805 */
	uint32_t bbr_bw_lo, bbr_bw_hi, bbr_min_rtt, bbr_pacing_gain, bbr_cwnd_gain;    /* 1901-1905 */
	uint32_t class_id;                /* 2001 */
	uint32_t sockopt;                 /* 2002: struct inet_diag_sockopt as a 16-bit mask */
	uint64_t cgroup_id;               /* 2103 */
	uint32_t mark;                    /* extension: see proto/xtcp_flat_record.proto */
	/* --- ABI 1.6: appended (filled by the core in emit_ns, for a source built with
	 * 1.6 or later headers; an older source's record is shorter and never written) --- */
	const char *pod_namespace;        /* 5005: Kubernetes namespace of the pod */
	const char *pod_name;             /* 5006: Kubernetes pod */
};

#endif /* XTCPD_RECORD_H */
