/* nusrc — the io_uring source's state: the shared sock_diag core (netlink/nlsrc.h) plus
 * one ring per reader. Internal to plugins/sources/io_uring/. */
#ifndef NLU_NUSRC_H
#define NLU_NUSRC_H

#include <liburing.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "plugins/sources/netlink/nlsrc.h"

#define NLU_CQE_BATCH_MAX 4096
#define NLU_SQ_ENTRIES 16       /* submission queue: one page of entries (64 B each) */

/* One receive: its buffer (from the pool, for good) and the msghdr the kernel reads when
 * the receive is submitted and writes the sender and flags back into when it completes. */
struct nlu_slot {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_nl from;
	struct nls_ns *n;                /* whose receive it is, while in the ring */
	struct nlu_slot *next;           /* on its lane's free list */
};

/* One reader thread and its ring. */
struct nlu_lane {
	struct nls *src;
	unsigned id;
	struct io_uring ring;
	int ring_ok;
	struct nlu_slot *slots;          /* recv_batch receives, each with its buffer */
	unsigned nslots;
	struct nlu_slot *free;           /* the slots not in the ring */
	struct nls_ns *ready, **ready_tail; /* namespaces with a datagram waiting, oldest first */
	unsigned cqe_batch;
	unsigned submits;                /* io_uring_submit calls (reader only) */
	int wakefd;                      /* eventfd: the queue has work, or stop */
	uint64_t wakebuf;
	pthread_mutex_t qlock;
	struct nls_ns *q;                /* namespaces with a request to send, or dead */
	int pending;                     /* q grew since the last kick */
	int running;                     /* the reader takes queued work (under qlock) */
	struct nls_ns *dying;            /* dead, ops still in the ring (reader only) */
	_Atomic int stopping;
	pthread_t th;
	int started;
};

struct nlu {
	unsigned n_lanes, rr;
	unsigned sq_entries, cq_entries;
	size_t req_cap;                  /* bytes of each namespace's request slot */
	struct nlu_lane *lanes;
};

/* ring.c */
int nlu_start(struct nls *s);
void nlu_stop(struct nls *s);
int nlu_xmit(struct nls *s, struct nls_ns *n, const struct nlmsghdr *nlh);
void nlu_kick(struct nls *s);
void nlu_release(struct nls *s, struct nls_ns *n);
void nlu_free(struct nls_ns *n);

/* probe.c: 0, or XTCPD_ERR_UNAVAILABLE with the cause and remedy logged */
int nlu_probe(const struct xtcpd_host *host, struct xtcpd_ctx *ctx);

#endif
