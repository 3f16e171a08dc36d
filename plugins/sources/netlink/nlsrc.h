/* nlsrc — state shared by the sock_diag sources' files (netlink, io_uring): the
 * instance, its namespaces, its transport (struct nls_io) and reader threads. Internal to
 * plugins/sources/netlink/ and plugins/sources/io_uring/. */
#ifndef NLS_NLSRC_H
#define NLS_NLSRC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

#include "parse.h"
#include "request.h"
#include "sockstat.h"

/* Metric slots (host->metric), indexes into struct nls.m. */
enum nls_metric {
	NLS_M_RECORDS, NLS_M_MESSAGES, NLS_M_BYTES, NLS_M_DATAGRAMS, NLS_M_DUMPS,
	NLS_M_DUMPS_MISSED, NLS_M_DUMP_INTR, NLS_M_OVERSIZE, NLS_M_UNKNOWN_ATTR,
	NLS_M_NS_SKIPPED, NLS_M_NS_BUSY, NLS_M_LATE,
	NLS_M_ERR_NLMSG, NLS_M_ERR_SEQ, NLS_M_ERR_PORTID, NLS_M_ERR_HEADER, NLS_M_ERR_ATTR,
	NLS_M_ERR_TYPE, NLS_M_ERR_TRUNC, NLS_M_ERR_RECV, NLS_M_ERR_SEND, NLS_M_ERR_POOL,
	NLS_M_ERR_CAPTURE, NLS_M_ERR_SENDER, NLS_M_NAMESPACES,
	NLS_M_CYCLE_SOCKETS, NLS_M_CYCLE_MESSAGES, NLS_M_CYCLE_BYTES, /* gauges: last cycle */
	NLS_M_URING_NOBUFS, NLS_M_URING_ENTERS, /* io_uring transport only (nls_io.uring_metrics) */
	NLS_M_COUNT
};

/* The keys both sources have, first in both tables (the io_uring source appends its own). */
enum {
	NLS_K_NETLINKERS, NLS_K_DESER, NLS_K_STATES, NLS_K_DUMP, NLS_K_SPORT, NLS_K_DPORT,
	NLS_K_SRC, NLS_K_DST, NLS_K_RECVBUF, NLS_K_SKIP_EMPTY, NLS_K_REPLAY, NLS_K_COUNT
};

/* READERS_DEFAULT: the netlinkers default, RECVBUF_DEFAULT: the recv_buffer default (a
 * size string); each with its help. */
#define NLS_KEYS(READERS_DEFAULT, READERS_HELP, RECVBUF_DEFAULT, RECVBUF_HELP)           \
	[NLS_K_NETLINKERS] = { "netlinkers", XTCPD_KEY_INT, READERS_DEFAULT, 1, 64, NULL, 0, \
		READERS_HELP },                                                          \
	[NLS_K_DESER] = { "deserializers", XTCPD_KEY_LIST, "default", 0, 0,              \
		"meminfo|info|vegas|cong|tos|tc|skmem|shut|dctcp|bbr|classid|cgroup|sockopt|mark|all|default", 0, \
		"attributes to request and decode (default = meminfo,info,cong,skmem)" }, \
	[NLS_K_STATES] = { "states", XTCPD_KEY_LIST, "all", 0, 0,                        \
		"all|established|syn-sent|syn-recv|fin-wait-1|fin-wait-2|time-wait|close|close-wait|" \
		"last-ack|listen|closing|new-syn-recv|bound-inactive", 0,                \
		"TCP states to dump (all = every state but bound-inactive)" },           \
	[NLS_K_DUMP] = { "dump", XTCPD_KEY_ENUM, "auto", 0, 0, "auto|legacy|per_family", 0, \
		"auto: one legacy walk for both families, per-family if refused" },      \
	[NLS_K_SPORT] = { "sport", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,             \
		"local ports, e.g. 22,8000-8100 (kernel-side filter)" },                 \
	[NLS_K_DPORT] = { "dport", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,             \
		"remote ports, e.g. 443,1024-65535 (kernel-side filter)" },              \
	[NLS_K_SRC] = { "src", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,                 \
		"local address prefixes, e.g. 10.0.0.0/8,fd00::/8 (kernel-side filter)" }, \
	[NLS_K_DST] = { "dst", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,                 \
		"remote address prefixes (kernel-side filter)" },                        \
	[NLS_K_RECVBUF] = { "recv_buffer", XTCPD_KEY_SIZE, RECVBUF_DEFAULT, 32768, 16 << 20, NULL, 0, \
		RECVBUF_HELP },                                                          \
	[NLS_K_SKIP_EMPTY] = { "skip_empty", XTCPD_KEY_BOOL, "true", 0, 1, NULL, 0,      \
		"skip namespaces whose sockstat shows no TCP socket" },                  \
	[NLS_K_REPLAY] = { "replay_dir", XTCPD_KEY_STRING, NULL, 0, 4096, NULL, 0,       \
		"testing: parse the captured dumps in this folder instead of the kernel's" }

struct nls;
struct nls_ns;

/* How requests go out and answers come in: epoll + send/recvmsg (reader.c, the netlink
 * source) or io_uring rings (plugins/sources/io_uring/). Called by nlcore.c. */
struct nls_io {
	int (*check)(const struct xtcpd_config *cfg, struct xtcpd_check *res); /* every key */
	int (*init)(struct nls *s, const struct xtcpd_config *cfg); /* end of create() */
	void (*fini)(struct nls *s);                    /* destroy(): readers may still run */
	int (*start)(struct nls *s);                    /* reader threads */
	void (*stop)(struct nls *s);
	int (*ns_attach)(struct nls *s, struct nls_ns *n); /* a namespace's socket is ready */
	void (*ns_unwatch)(struct nls *s, struct nls_ns *n); /* ns_del, before waiting idle */
	void (*ns_release)(struct nls *s, struct nls_ns *n); /* ns_del: close and free n */
	int (*xmit)(struct nls *s, struct nls_ns *n, const struct nlmsghdr *nlh); /* 0/-errno */
	void (*cycle_begin)(struct nls *s);             /* poll(), before any request; or NULL */
	void (*kick)(struct nls *s);                    /* poll(), after the requests; or NULL */
	int uring_metrics;                              /* register NLS_M_URING_* */
};

/* The epoll transport's namespaces by slot. Epoll events carry a slot and its generation,
 * never a pointer: a reader looks the namespace up under the lock, so an event taken just
 * before the namespace was deleted finds nothing, and ns_del frees it at once (no reader
 * has to wake up to prove it no longer holds it, so readers block without a timeout). */
struct nls_slot {
	struct nls_ns *n;        /* NULL: free */
	uint32_t gen;            /* bumped at each deletion */
};

/* One namespace: its sock_diag socket and the state of the dump running on it. */
struct nls_ns {
	struct nls *src;
	struct xtcpd_netns *ns;
	int fd;                  /* NETLINK_SOCK_DIAG socket inside the namespace */
	uint32_t portid;         /* its netlink port id: every answer must carry it */
	struct nlss ss;          /* its sockstat files (sockstat.h), -1 = unknown */
	pthread_mutex_t lock;    /* seq/family/cycle/capture changes */
	_Atomic uint32_t seq;    /* seq of the request running on fd */
	_Atomic uint32_t seq_prev; /* the request before it in this cycle (0 = none): its
	                          * last datagrams may still be parsed by another reader */
	int family;              /* 0 legacy (both), AF_INET or AF_INET6 */
	uint64_t cycle;          /* cycle that sent it */
	int busy;                /* a dump is running on fd */
	unsigned busy_skips;     /* cycles skipped in a row because of it */
	_Atomic int intr;        /* NLM_F_DUMP_INTR seen in this dump */
	int capture_fd;          /* raw datagrams of this cycle, -1 = off */
	int dead;                /* ns_del ran: readers must not touch it (under src->lock) */
	uint64_t key;            /* epoll transport: its tag, slot + 1 | generation << 32 */
	struct nls_ns *grave_next; /* io_uring transport: on its lane's dying list */
	/* io_uring transport: n belongs to ring `lane`; only that reader touches these */
	unsigned lane;
	struct nls_ns *q_next;   /* in its lane's queue (under the lane's lock) */
	int queued;              /* in the queue (under the lane's lock) */
	int released;            /* ns_release handed it to its reader (lane's lock) */
	int tx;                  /* a request from poll() waits in req_q (lane's lock) */
	int armed;               /* its wait for a datagram (POLLIN) is in the ring */
	unsigned rx;             /* its receives in the ring */
	int rx_empty;            /* one of them found the socket empty (or failed) */
	int rx_want;             /* a request went out meanwhile: receive again */
	int ready;               /* on its lane's ready list */
	struct nls_ns *ready_next;
	int cancelled, listed;   /* dead: its receive's cancel sent; on the lane's dying list */
	unsigned ops;            /* its operations in the ring (requests, receives, wait, cancel) */
	uint8_t *req;            /* the request being sent: the ring reads it after xmit;
	                          * written by its reader only */
	size_t req_len;
	unsigned req_gen;        /* the lane's submit count + 1 when req was last prepared */
	int send;                /* its reader took poll()'s request: send it */
	uint8_t *req_q;          /* poll()'s request, until its reader takes it (lane's lock) */
	size_t req_q_len;
};

struct nls {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	const struct nls_io *io;
	void *io_priv;                   /* the transport's state */
	/* configuration */
	unsigned netlinkers;
	uint8_t ext;
	uint32_t decode, states;
	int dump;                        /* enum nlr_dump */
	uint8_t bc[NLR_BC_MAX];
	size_t bc_len;
	size_t recv_buffer;
	int skip_empty;
	const char *replay_dir;
	/* runtime */
	_Atomic int legacy_ok;           /* auto: 1 until the kernel refuses TCPDIAG_GETSOCK */
	_Atomic uint32_t next_seq;       /* only where getrandom(2) fails */
	struct xtcpd_pool *bufs;
	int epfd, stopfd;
	pthread_t *threads;
	unsigned n_threads;
	struct nls_slot *slots;          /* epoll transport, under lock; grows, never shrinks */
	unsigned n_slots;
	pthread_mutex_t lock;            /* cycle bookkeeping below */
	pthread_cond_t cond;             /* CLOCK_MONOTONIC: outstanding reached 0 */
	pthread_cond_t idle;             /* inflight reached 0 while idle_waiters > 0 */
	uint64_t cycle;                  /* current cycle seq */
	int cycle_open;                  /* records of this cycle may still be emitted */
	unsigned outstanding;            /* dumps of this cycle not finished */
	unsigned inflight;               /* readers between their decision to emit and the
	                                  * end of parsing that datagram */
	unsigned idle_waiters;           /* threads waiting for inflight == 0 (rare: wake only
	                                  * them, never poll() once per datagram) */
	_Atomic uint64_t *m[NLS_M_COUNT];
	_Atomic uint64_t m_dummy;
};

#define NLS_ADD(s, idx, v) atomic_fetch_add_explicit((s)->m[idx], (uint64_t)(v), memory_order_relaxed)

/* nlcore.c: the source ops both plugins use; create with their transport */
int nls_check(const struct xtcpd_config *cfg, struct xtcpd_check *res);
int nls_create_with(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		    const struct xtcpd_config *cfg, void **inst, const struct nls_io *io);
int nls_start(void *inst);
void nls_stop(void *inst);
void nls_destroy(void *inst);
unsigned nls_lanes(void *inst);
int nls_ns_add(void *inst, struct xtcpd_netns *ns);
void nls_ns_del(void *inst, struct xtcpd_netns *ns);
int nls_poll(void *inst, const struct xtcpd_cycle *cyc);
void nls_ns_close(struct nls_ns *n);

/* reader.c: the epoll transport */
extern const struct nls_io nls_epoll_io;
int nls_readers_start(struct nls *s);
void nls_readers_stop(struct nls *s);
/* Send the request for family (0 = legacy, both) on n; `chained` = 1 when it follows
 * another request of the same cycle. 0 or -errno. */
int nls_send(struct nls *s, struct nls_ns *n, int family, int chained);
/* Read one datagram of n (a reader thread, after epoll said so): dropped and counted
 * unless the kernel sent it, then captured and decoded. */
int nls_read_one(struct nls *s, struct nls_ns *n, uint8_t *buf, unsigned lane);
/* Decode one buffer of messages. live = 1: answers of n's socket (checked, finishes
 * dumps); live = 0: replay (no checks). emit = 0: parse and count, emit nothing (the
 * cycle was closed when the reader took the datagram). */
void nls_process(struct nls *s, struct nls_ns *n, const uint8_t *buf, size_t len,
		 unsigned lane, int live, int emit);
/* A dump of the current cycle is over (done or failed). */
void nls_dump_finished(struct nls *s, struct nls_ns *n);
/* Around the processing of one datagram of n: begin says whether its records may be
 * emitted, or -1 when n is dead (then no end); poll() waits for readers in between. */
int nls_datagram_begin(struct nls *s, struct nls_ns *n, int *emit);
void nls_datagram_end(struct nls *s);
/* --capture: append a datagram to n's capture file. */
void nls_capture(struct nls *s, struct nls_ns *n, const void *buf, size_t len);
/* 1: the datagram's sender address is the kernel's; else count and log it (nls_foreign). */
int nls_from_kernel(const void *name, size_t namelen);
void nls_foreign(struct nls *s, struct nls_ns *n, const void *name, size_t namelen);


/* sockstat.c: n's sockstat files, opened inside its namespace (nlss_* in sockstat.h
 * closes and reads them). */
int nls_sockstat_open(struct nls_ns *n);

/* replay.c */
int nls_replay(struct nls *s, const struct xtcpd_cycle *cyc);

#endif
