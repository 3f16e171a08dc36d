/* nlsrc — state shared by the netlink source's files: the instance, its namespaces and
 * its reader threads. Internal to plugins/sources/netlink/. */
#ifndef NLS_NLSRC_H
#define NLS_NLSRC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <xtcpd/plugin.h>

#include "parse.h"
#include "request.h"

/* Metric slots (host->metric), indexes into struct nls.m. */
enum nls_metric {
	NLS_M_RECORDS, NLS_M_MESSAGES, NLS_M_BYTES, NLS_M_DATAGRAMS, NLS_M_DUMPS,
	NLS_M_DUMPS_MISSED, NLS_M_DUMP_INTR, NLS_M_OVERSIZE, NLS_M_UNKNOWN_ATTR,
	NLS_M_NS_SKIPPED, NLS_M_NS_BUSY, NLS_M_LATE,
	NLS_M_ERR_NLMSG, NLS_M_ERR_SEQ, NLS_M_ERR_PORTID, NLS_M_ERR_HEADER, NLS_M_ERR_ATTR,
	NLS_M_ERR_TYPE, NLS_M_ERR_TRUNC, NLS_M_ERR_RECV, NLS_M_ERR_SEND, NLS_M_ERR_POOL,
	NLS_M_ERR_CAPTURE, NLS_M_ERR_SENDER, NLS_M_NAMESPACES,
	NLS_M_CYCLE_SOCKETS, NLS_M_CYCLE_MESSAGES, NLS_M_CYCLE_BYTES, /* gauges: last cycle */
	NLS_M_COUNT
};

struct nls;

/* One namespace: its sock_diag socket and the state of the dump running on it. */
struct nls_ns {
	struct nls *src;
	struct xtcpd_netns *ns;
	int fd;                  /* NETLINK_SOCK_DIAG socket inside the namespace */
	uint32_t portid;         /* its netlink port id: every answer must carry it */
	int ss4, ss6;            /* sockstat/sockstat6 of the namespace, -1 = unknown */
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
	uint64_t key;            /* its epoll tag: slot + 1 | generation << 32 */
};

/* The namespaces by slot. Epoll events carry a slot and its generation, never a pointer:
 * a reader looks the namespace up under the lock, so an event taken just before the
 * namespace was deleted finds nothing, and the namespace is freed at once (no reader
 * has to wake up to prove it no longer holds it). */
struct nls_slot {
	struct nls_ns *n;        /* NULL: free */
	uint32_t gen;            /* bumped at each deletion */
};

struct nls {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
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
	struct nls_slot *slots;          /* under lock; grows, never shrinks */
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

/* reader.c */
int nls_readers_start(struct nls *s);
void nls_readers_stop(struct nls *s);
/* Send the request for family (0 = legacy, both) on n; `chained` = 1 when it follows
 * another request of the same cycle. 0 or -errno. */
int nls_send(struct nls *s, struct nls_ns *n, int family, int chained);
/* Read one datagram of n, a namespace the caller knows is alive (readers go through its
 * epoll tag instead): dropped and counted unless the kernel sent it, then captured and
 * decoded; an empty socket is re-armed. */
int nls_read_one(struct nls *s, struct nls_ns *n, uint8_t *buf, unsigned lane);
/* Decode one buffer of messages. live = 1: answers of n's socket (checked, finishes
 * dumps); live = 0: replay (no checks). emit = 0: parse and count, emit nothing (the
 * cycle was closed when the reader took the datagram). */
void nls_process(struct nls *s, struct nls_ns *n, const uint8_t *buf, size_t len,
		 unsigned lane, int live, int emit);
/* A dump of the current cycle is over (done or failed). */
void nls_dump_finished(struct nls *s, struct nls_ns *n);

/* The namespace an epoll tag names, NULL if it was deleted since. Under s->lock. */
struct nls_ns *nls_slot_get(struct nls *s, uint64_t key);

/* sockstat.c */
int nls_sockstat_open(struct nls_ns *n);
void nls_sockstat_close(struct nls_ns *n);
/* 1: the namespace has TCP sockets (or we cannot tell), 0: none. */
int nls_sockstat_has_tcp(struct nls_ns *n);

/* replay.c */
int nls_replay(struct nls *s, const struct xtcpd_cycle *cyc);

#endif
