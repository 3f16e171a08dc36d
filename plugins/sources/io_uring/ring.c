/* ring — the io_uring source's transport: one ring per reader thread (`uring/N`), each
 * owning a share of the namespaces. A cycle's requests are queued to their rings by
 * poll() and sent by the readers, so every namespace's dump is in flight at once and a
 * reader sleeps in one io_uring_enter for all of them. A namespace with a datagram
 * waiting gets receives (recvmsg, MSG_DONTWAIT) from its ring's slots, each with a
 * buffer taken from a core pool once: the kernel runs them during the submission, as
 * the dump's next datagram is made inside the receive before it, so a slot is never
 * held across a wait. A receive that finds the socket empty leaves the namespace
 * waiting in the ring with POLLIN, no buffer held. Answers are checked and decoded by
 * dump.c. */
#include <config.h>

#include "nusrc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

/* user_data: the namespace, or for a receive its slot (8-byte aligned) | the operation */
enum { NLU_OP_RECV, NLU_OP_SEND, NLU_OP_CANCEL, NLU_OP_WAKE, NLU_OP_POLL };
#define NLU_UD(p, op) ((uint64_t)(uintptr_t)(p) | (op))
#define NLU_UD_PTR(ud) ((void *)(uintptr_t)((ud) & ~(uint64_t)7))
#define NLU_UD_OP(ud) ((unsigned)((ud) & 7))

static __thread struct nlu_lane *nlu_self; /* the ring this reader owns */

static struct io_uring_sqe *nlu_sqe(struct nlu_lane *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) { /* the queue is full: hand it to the kernel and go on */
		io_uring_submit(&l->ring);
		l->submits++;
		NLS_ADD(l->src, NLS_M_URING_ENTERS, 1);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

/* n waits in the ring for its next datagram, holding no buffer. */
static void nlu_arm_poll(struct nlu_lane *l, struct nls_ns *n)
{
	struct io_uring_sqe *sqe;

	if (n->armed || !(sqe = nlu_sqe(l)))
		return;
	io_uring_prep_poll_add(sqe, n->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, NLU_UD(n, NLU_OP_POLL));
	n->armed = 1;
	n->ops++;
}

/* n has a datagram waiting (or will have once its request is sent): on the ready list. */
static void nlu_want(struct nlu_lane *l, struct nls_ns *n)
{
	if (n->ready || n->dead)
		return;
	n->ready = 1;
	n->ready_next = NULL;
	*l->ready_tail = n;
	l->ready_tail = &n->ready_next;
}

static void nlu_unready(struct nlu_lane *l, struct nls_ns *n)
{
	struct nls_ns **pp = &l->ready;

	if (!n->ready)
		return;
	while (*pp != n)
		pp = &(*pp)->ready_next;
	*pp = n->ready_next;
	if (l->ready_tail == &n->ready_next)
		l->ready_tail = pp;
	n->ready = 0;
}

/* Receives for the ready namespaces, oldest first, while slots are free: the first takes
 * every free slot, its receives run one after the other in the next io_uring_enter (each
 * finds the datagram the one before made), so recv_batch datagrams of one dump cost one
 * system call. MSG_DONTWAIT: one that finds the socket empty completes at once with
 * EAGAIN instead of waiting in the ring with its buffer. */
static void nlu_issue(struct nlu_lane *l)
{
	while (l->ready && l->free) {
		struct nls_ns *n = l->ready;

		nlu_unready(l, n);
		if (n->dead)
			continue; /* reaped when its release is taken from the queue */
		while (l->free) {
			struct nlu_slot *sl = l->free;
			struct io_uring_sqe *sqe = nlu_sqe(l);

			if (!sqe) {
				if (!n->rx)
					nlu_want(l, n);
				return;
			}
			l->free = sl->next;
			sl->n = n;
			sl->mh.msg_namelen = sizeof(sl->from);
			io_uring_prep_recvmsg(sqe, n->fd, &sl->mh, MSG_DONTWAIT);
			io_uring_sqe_set_data64(sqe, NLU_UD(sl, NLU_OP_RECV));
			n->rx++;
			n->ops++;
		}
	}
	if (l->ready) /* they wait for this batch's slots to come back */
		NLS_ADD(l->src, NLS_M_URING_NOBUFS, 1);
}

static void nlu_send_req(struct nlu_lane *l, struct nls_ns *n)
{
	struct io_uring_sqe *sqe = nlu_sqe(l);

	if (!sqe) {
		NLS_ADD(l->src, NLS_M_ERR_SEND, 1);
		nls_dump_finished(l->src, n);
		return;
	}
	io_uring_prep_send(sqe, n->fd, n->req, n->req_len, 0);
	io_uring_sqe_set_data64(sqe, NLU_UD(n, NLU_OP_SEND));
	n->ops++;
	n->req_gen = l->submits + 1;
	/* the kernel makes the first datagram inside the send: receive it right after */
	if (n->rx)
		n->rx_want = 1;
	else
		nlu_want(l, n);
}

static void nlu_arm_wake(struct nlu_lane *l)
{
	struct io_uring_sqe *sqe = nlu_sqe(l);

	if (!sqe)
		return;
	io_uring_prep_read(sqe, l->wakefd, &l->wakebuf, sizeof(l->wakebuf), 0);
	io_uring_sqe_set_data64(sqe, NLU_UD(NULL, NLU_OP_WAKE));
}

void nlu_free(struct nls_ns *n)
{
	nls_ns_close(n);
	pthread_mutex_destroy(&n->lock);
	free(n->req);
	free(n);
}

/* Off its lane's list of dead namespaces still in the ring. */
static void nlu_unlist(struct nlu_lane *l, struct nls_ns *n)
{
	for (struct nls_ns **pp = &l->dying; *pp; pp = &(*pp)->grave_next)
		if (*pp == n) {
			*pp = n->grave_next;
			return;
		}
}

/* A dead namespace with nothing left in the ring: its socket closes here (that releases
 * the namespace). One with a receive still armed is cancelled first. It is freed only
 * once ns_release handed it over and it no longer waits in the queue: its last
 * completion can come while ns_del is still between marking it dead and releasing it,
 * or while it is queued (poll()'s request, the release), and taking it from the queue
 * reaps it again. */
static void nlu_reap(struct nlu_lane *l, struct nls_ns *n)
{
	struct io_uring_sqe *sqe;

	if (n->ops == 0) {
		int mine;

		pthread_mutex_lock(&l->qlock);
		mine = n->released && !n->queued;
		pthread_mutex_unlock(&l->qlock);
		if (!mine)
			return;  /* reaped again when taken from the queue */
		nlu_unready(l, n);
		if (n->listed)
			nlu_unlist(l, n);
		nlu_free(n);
		return;
	}
	if (!n->listed) {
		n->listed = 1;
		n->grave_next = l->dying;
		l->dying = n;
	}
	/* its receives complete by themselves (MSG_DONTWAIT); its wait does not */
	if (n->armed && !n->cancelled && (sqe = nlu_sqe(l))) {
		io_uring_prep_cancel64(sqe, NLU_UD(n, NLU_OP_POLL), 0);
		io_uring_sqe_set_data64(sqe, NLU_UD(n, NLU_OP_CANCEL));
		n->ops++;
		n->cancelled = 1;
	}
}

/* Before n->req is written again: a send of n still unsubmitted would read the new
 * bytes, so hand the ring to the kernel first (a netlink send to the kernel completes
 * inline: once submitted, its request has been read). */
static void nlu_req_free(struct nlu_lane *l, struct nls_ns *n)
{
	if (n->req_gen != l->submits + 1)
		return;
	io_uring_submit(&l->ring);
	l->submits++;
	NLS_ADD(l->src, NLS_M_URING_ENTERS, 1);
}

/* What poll() and ns_del queued for this ring. poll()'s requests wait in req_q: a
 * request chained by this reader (still unsubmitted, in req) is never overwritten. */
static void nlu_take_queue(struct nlu_lane *l)
{
	struct nls_ns *q;

	pthread_mutex_lock(&l->qlock);
	q = l->q;
	l->q = NULL;
	for (struct nls_ns *n = q; n; n = n->q_next) {
		n->queued = 0;
		n->send = n->tx;
		n->tx = 0;
		if (n->send) {
			nlu_req_free(l, n);
			memcpy(n->req, n->req_q, n->req_q_len);
			n->req_len = n->req_q_len;
		}
	}
	pthread_mutex_unlock(&l->qlock);
	while (q) {
		struct nls_ns *n = q;

		q = n->q_next;
		if (n->dead) {
			nlu_reap(l, n);
			continue;
		}
		if (n->send)
			nlu_send_req(l, n);
		n->send = 0;
	}
}

/* One received datagram, in slot sl's buffer. */
static void nlu_datagram(struct nlu_lane *l, struct nls_ns *n, struct nlu_slot *sl, int res)
{
	struct nls *s = l->src;
	int emit;

	if (!nls_from_kernel(&sl->from, sl->mh.msg_namelen)) {
		if (!n->dead)
			nls_foreign(s, n, &sl->from, sl->mh.msg_namelen);
	} else if (nls_datagram_begin(s, n, &emit) == 0) {
		if (sl->mh.msg_flags & MSG_TRUNC)
			NLS_ADD(s, NLS_M_ERR_TRUNC, 1);
		NLS_ADD(s, NLS_M_DATAGRAMS, 1);
		NLS_ADD(s, NLS_M_BYTES, res);
		if (n->capture_fd >= 0)
			nls_capture(s, n, sl->iov.iov_base, (size_t)res);
		nls_process(s, n, sl->iov.iov_base, (size_t)res, l->id, 1, emit);
		nls_datagram_end(s);
	}
}

/* A receive is back: its slot is free again. When n's last receive of the batch is in,
 * n receives again if every one found a datagram or a request went out since, else it
 * waits in the ring (the dump ended, or the kernel has not made its next datagram). */
static void nlu_recv_done(struct nlu_lane *l, struct nlu_slot *sl, int res)
{
	struct nls *s = l->src;
	struct nls_ns *n = sl->n;

	n->rx--;
	n->ops--;
	if (res > 0) {
		nlu_datagram(l, n, sl, res);
	} else {
		n->rx_empty = 1;
		if (res < 0 && res != -EAGAIN && res != -ECANCELED && !n->dead) {
			NLS_ADD(s, NLS_M_ERR_RECV, 1);
			s->host->log_ratelimited(s->ctx, nlu_recv_done, 10000, XTCPD_LOG_WARN,
				"namespace %s: recvmsg: %s", n->ns ? n->ns->name : "?", strerror(-res));
		}
	}
	sl->n = NULL;
	sl->next = l->free;
	l->free = sl;
	if (n->rx || n->dead)
		return;
	if (n->rx_empty && !n->rx_want)
		nlu_arm_poll(l, n);
	else
		nlu_want(l, n);
	n->rx_empty = n->rx_want = 0;
}

/* n's wait saw POLLIN: receive (unless its receives already run, or the wait failed). */
static void nlu_poll_done(struct nlu_lane *l, struct nls_ns *n, int res)
{
	struct nls *s = l->src;

	n->armed = 0;
	n->ops--;
	if (n->dead || res == -ECANCELED)
		return;
	if (res < 0) { /* not re-armed: its next request makes it receive again */
		NLS_ADD(s, NLS_M_ERR_RECV, 1);
		s->host->log_ratelimited(s->ctx, nlu_poll_done, 10000, XTCPD_LOG_WARN,
			"namespace %s: poll: %s", n->ns ? n->ns->name : "?", strerror(-res));
		return;
	}
	if (!n->rx)
		nlu_want(l, n);
}

static void nlu_complete(struct nlu_lane *l, const struct io_uring_cqe *cqe)
{
	struct nls_ns *n = NLU_UD_PTR(cqe->user_data);

	switch (NLU_UD_OP(cqe->user_data)) {
	case NLU_OP_WAKE:
		if (!atomic_load(&l->stopping))
			nlu_arm_wake(l);
		nlu_take_queue(l);
		return;
	case NLU_OP_RECV: {
		struct nlu_slot *sl = NLU_UD_PTR(cqe->user_data);

		n = sl->n;
		nlu_recv_done(l, sl, cqe->res);
		break;
	}
	case NLU_OP_POLL:
		nlu_poll_done(l, n, cqe->res);
		break;
	case NLU_OP_SEND:
		n->ops--;
		if (cqe->res < 0 && !n->dead) {
			NLS_ADD(l->src, NLS_M_ERR_SEND, 1);
			nls_dump_finished(l->src, n);
		}
		break;
	case NLU_OP_CANCEL:
		n->ops--;
		break;
	}
	if (n->dead)
		nlu_reap(l, n);
}

static void *nlu_reader(void *arg)
{
	struct nlu_lane *l = arg;
	struct nls *s = l->src;
	struct io_uring_cqe *cqes[NLU_CQE_BATCH_MAX];
	char name[16];

	snprintf(name, sizeof(name), "uring/%u", l->id); /* per-thread CPU in /metrics */
	pthread_setname_np(pthread_self(), name);
	nlu_self = l;
	nlu_arm_wake(l);
	nlu_take_queue(l);
	while (!atomic_load(&l->stopping)) {
		unsigned k;
		int r;

		nlu_issue(l);
		r = io_uring_submit_and_wait(&l->ring, 1);

		l->submits++;
		NLS_ADD(s, NLS_M_URING_ENTERS, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			s->host->log(s->ctx, XTCPD_LOG_ERR, "reader %u: io_uring_enter: %s", l->id,
				     strerror(-r));
			break;
		}
		while ((k = io_uring_peek_batch_cqe(&l->ring, cqes, l->cqe_batch)) > 0) {
			for (unsigned i = 0; i < k; i++)
				nlu_complete(l, cqes[i]);
			io_uring_cq_advance(&l->ring, k);
		}
	}
	return NULL;
}

/* The request of n (under n->lock, nls_send); the ring sends it: at once from its own
 * reader (a chained request, into req), else through req_q, queued for the reader and
 * sent after poll()'s kick. Two slots because poll() may ask again (a dump that missed
 * NLS_BUSY_MAX cycles) while the reader's chained send still waits in the ring. */
int nlu_xmit(struct nls *s, struct nls_ns *n, const struct nlmsghdr *nlh)
{
	struct nlu *u = s->io_priv;
	struct nlu_lane *l = &u->lanes[n->lane];

	if (nlh->nlmsg_len > u->req_cap)
		return -EMSGSIZE;
	if (nlu_self == l) {
		nlu_req_free(l, n);
		memcpy(n->req, nlh, nlh->nlmsg_len);
		n->req_len = nlh->nlmsg_len;
		nlu_send_req(l, n);
		return 0;
	}
	pthread_mutex_lock(&l->qlock);
	if (!l->running) {
		pthread_mutex_unlock(&l->qlock);
		return -ESHUTDOWN;
	}
	memcpy(n->req_q, nlh, nlh->nlmsg_len);
	n->req_q_len = nlh->nlmsg_len;
	n->tx = 1;
	if (!n->queued) {
		n->queued = 1;
		n->q_next = l->q;
		l->q = n;
	}
	l->pending = 1;
	pthread_mutex_unlock(&l->qlock);
	return 0;
}

static void nlu_wake(struct nlu_lane *l)
{
	uint64_t one = 1;

	if (write(l->wakefd, &one, sizeof(one)) < 0)
		l->src->host->log_ratelimited(l->src->ctx, nlu_wake, 10000, XTCPD_LOG_ERR,
			"reader %u: cannot wake: %s", l->id, strerror(errno));
}

void nlu_kick(struct nls *s)
{
	struct nlu *u = s->io_priv;

	for (unsigned i = 0; i < u->n_lanes; i++) {
		struct nlu_lane *l = &u->lanes[i];
		int wake;

		pthread_mutex_lock(&l->qlock);
		wake = l->pending;
		l->pending = 0;
		pthread_mutex_unlock(&l->qlock);
		if (wake)
			nlu_wake(l);
	}
}

/* ns_del (after the readers are idle on n): its reader cancels the receive, closes the
 * socket and frees n; with the readers stopped, at once. */
void nlu_release(struct nls *s, struct nls_ns *n)
{
	struct nlu *u = s->io_priv;
	struct nlu_lane *l = &u->lanes[n->lane];

	pthread_mutex_lock(&l->qlock);
	if (!l->running) {
		pthread_mutex_unlock(&l->qlock);
		nlu_free(n);
		return;
	}
	n->released = 1;
	if (!n->queued) {
		n->queued = 1;
		n->q_next = l->q;
		l->q = n;
	}
	pthread_mutex_unlock(&l->qlock);
	nlu_wake(l);
}

/* The ring and its slots' buffers (from the pool, for good). */
static int nlu_lane_init(struct nls *s, struct nlu *u, struct nlu_lane *l)
{
	struct io_uring_params p = { 0 };
	int err;

	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = u->cq_entries;
	err = io_uring_queue_init_params(u->sq_entries, &l->ring, &p);
	if (err < 0)
		return err;
	l->ring_ok = 1;
	l->free = NULL;
	l->ready = NULL;
	l->ready_tail = &l->ready;
	for (unsigned i = 0; i < l->nslots; i++) {
		struct nlu_slot *sl = &l->slots[i];

		sl->iov.iov_base = s->host->pool_get(s->bufs, 0);
		if (!sl->iov.iov_base) {
			NLS_ADD(s, NLS_M_ERR_POOL, 1);
			return -ENOMEM;
		}
		sl->iov.iov_len = s->recv_buffer;
		sl->mh.msg_name = &sl->from;
		sl->mh.msg_iov = &sl->iov;
		sl->mh.msg_iovlen = 1;
		sl->next = l->free;
		l->free = sl;
	}
	l->wakefd = eventfd(0, EFD_CLOEXEC);
	return l->wakefd < 0 ? -errno : 0;
}

static void nlu_lane_fini(struct nls *s, struct nlu_lane *l)
{
	if (l->ring_ok)
		io_uring_queue_exit(&l->ring); /* cancels what is still in flight */
	l->ring_ok = 0;
	for (unsigned i = 0; i < l->nslots; i++)
		if (l->slots[i].iov.iov_base)
			s->host->pool_put(s->bufs, l->slots[i].iov.iov_base);
	memset(l->slots, 0, l->nslots * sizeof(*l->slots));
	l->free = NULL;
	if (l->wakefd >= 0)
		close(l->wakefd);
	l->wakefd = -1;
}

int nlu_start(struct nls *s)
{
	struct nlu *u = s->io_priv;

	for (unsigned i = 0; i < u->n_lanes; i++) {
		struct nlu_lane *l = &u->lanes[i];
		int err = nlu_lane_init(s, u, l);

		if (err)
			return err;
		pthread_mutex_lock(&l->qlock);
		l->running = 1;
		pthread_mutex_unlock(&l->qlock);
		err = pthread_create(&l->th, NULL, nlu_reader, l);
		if (err) {
			l->running = 0;
			return -err;
		}
		l->started = 1;
		s->n_threads++;
	}
	return 0;
}

/* Stop the readers, then drop the rings: a namespace still queued (dead or not) is the
 * transport's no more; the dead ones are freed here. */
void nlu_stop(struct nls *s)
{
	struct nlu *u = s->io_priv;

	if (!u)
		return;
	for (unsigned i = 0; i < u->n_lanes; i++) {
		struct nlu_lane *l = &u->lanes[i];

		if (!l->started)
			continue;
		atomic_store(&l->stopping, 1);
		nlu_wake(l);
		pthread_join(l->th, NULL);
		l->started = 0;
	}
	for (unsigned i = 0; i < u->n_lanes; i++) {
		struct nlu_lane *l = &u->lanes[i];
		struct nls_ns *q;

		pthread_mutex_lock(&l->qlock);
		l->running = 0;
		q = l->q;
		l->q = NULL;
		pthread_mutex_unlock(&l->qlock);
		while (l->ready)
			nlu_unready(l, l->ready);
		nlu_lane_fini(s, l);
		while (l->dying) {
			struct nls_ns *n = l->dying;

			l->dying = n->grave_next;
			nlu_free(n);
		}
		while (q) {
			struct nls_ns *n = q;

			q = n->q_next;
			n->queued = 0;
			n->armed = 0;
			n->rx = 0;
			n->ops = 0;
			if (n->dead && !n->listed)
				nlu_free(n);
		}
	}
	s->n_threads = 0;
}
