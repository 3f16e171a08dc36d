/* ring — the io_uring source's transport: one ring per reader thread (`uring/N`), each
 * owning a share of the namespaces. Each namespace's socket has one multishot recvmsg in
 * its ring for its whole life, fed by the ring's provided buffers (taken from a core
 * pool once); a cycle's requests are queued to their rings by poll() and sent by the
 * readers, so every namespace's dump is in flight at once and a reader sleeps in one
 * io_uring_enter for all of them. Answers are checked and decoded by dump.c. */
#include <config.h>

#include "nusrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

/* user_data: the namespace (8-byte aligned) | what the operation is */
enum { NLU_OP_RECV, NLU_OP_SEND, NLU_OP_CANCEL, NLU_OP_WAKE };
#define NLU_UD(p, op) ((uint64_t)(uintptr_t)(p) | (op))
#define NLU_UD_PTR(ud) ((struct nls_ns *)(uintptr_t)((ud) & ~(uint64_t)7))
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

static void nlu_arm_recv(struct nlu_lane *l, struct nls_ns *n)
{
	struct io_uring_sqe *sqe = nlu_sqe(l);

	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, n->fd, &l->mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = NLU_BGID;
	io_uring_sqe_set_data64(sqe, NLU_UD(n, NLU_OP_RECV));
	n->armed = 1;
	n->ops++;
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
	if (n->armed && !n->cancelled && (sqe = nlu_sqe(l))) {
		io_uring_prep_cancel64(sqe, NLU_UD(n, NLU_OP_RECV), 0);
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
		if (!n->armed)
			nlu_arm_recv(l, n);
		if (n->send)
			nlu_send_req(l, n);
		n->send = 0;
	}
}

/* One received datagram in provided buffer bid. */
static void nlu_datagram(struct nlu_lane *l, struct nls_ns *n, int res, unsigned bid)
{
	struct nls *s = l->src;
	uint8_t *buf = l->bufs[bid];
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &l->mh);
	int emit;

	if (!o) {
		NLS_ADD(s, NLS_M_ERR_TRUNC, 1);
	} else if (!nls_from_kernel(io_uring_recvmsg_name(o), o->namelen)) {
		if (!n->dead)
			nls_foreign(s, n, io_uring_recvmsg_name(o), o->namelen);
	} else if (nls_datagram_begin(s, n, &emit) == 0) {
		uint8_t *p = io_uring_recvmsg_payload(o, &l->mh);
		unsigned len = io_uring_recvmsg_payload_length(o, res, &l->mh);

		if (o->flags & MSG_TRUNC)
			NLS_ADD(s, NLS_M_ERR_TRUNC, 1);
		NLS_ADD(s, NLS_M_DATAGRAMS, 1);
		NLS_ADD(s, NLS_M_BYTES, len);
		if (n->capture_fd >= 0)
			nls_capture(s, n, p, len);
		nls_process(s, n, p, len, l->id, 1, emit);
		nls_datagram_end(s);
	}
	/* the buffer goes back to the ring at once */
	io_uring_buf_ring_add(l->br, buf, (unsigned)s->recv_buffer, (unsigned short)bid,
			      io_uring_buf_ring_mask(l->nbufs), 0);
	io_uring_buf_ring_advance(l->br, 1);
}

static void nlu_recv_done(struct nlu_lane *l, struct nls_ns *n, const struct io_uring_cqe *cqe)
{
	struct nls *s = l->src;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		n->armed = 0;
		n->ops--;
	}
	if (cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER))
		nlu_datagram(l, n, cqe->res, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	else if (cqe->res == -ENOBUFS)
		NLS_ADD(s, NLS_M_URING_NOBUFS, 1); /* every buffer was full: re-armed below */
	else if (cqe->res < 0 && cqe->res != -ECANCELED && !n->dead) {
		NLS_ADD(s, NLS_M_ERR_RECV, 1);
		s->host->log_ratelimited(s->ctx, nlu_recv_done, 10000, XTCPD_LOG_WARN,
			"namespace %s: recvmsg: %s", n->ns ? n->ns->name : "?", strerror(-cqe->res));
	}
	if (!n->armed && !n->dead)
		nlu_arm_recv(l, n);
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
	case NLU_OP_RECV:
		nlu_recv_done(l, n, cqe);
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
		int r = io_uring_submit_and_wait(&l->ring, 1);

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

/* The ring, its provided-buffer ring and its buffers (from the pool, for good). */
static int nlu_lane_init(struct nls *s, struct nlu *u, struct nlu_lane *l)
{
	struct io_uring_buf_reg reg = { 0 };
	struct io_uring_params p = { 0 };
	size_t brsz = l->nbufs * sizeof(struct io_uring_buf);
	int err;

	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = u->cq_entries;
	err = io_uring_queue_init_params(u->sq_entries, &l->ring, &p);
	if (err < 0)
		return err;
	l->ring_ok = 1;
	l->br = mmap(NULL, brsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (l->br == MAP_FAILED) {
		l->br = NULL;
		return -errno;
	}
	l->br_size = brsz;
	io_uring_buf_ring_init(l->br);
	reg.ring_addr = (uint64_t)(uintptr_t)l->br;
	reg.ring_entries = l->nbufs;
	reg.bgid = NLU_BGID;
	err = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < l->nbufs; i++) {
		l->bufs[i] = s->host->pool_get(s->bufs, 0);
		if (!l->bufs[i]) {
			NLS_ADD(s, NLS_M_ERR_POOL, 1);
			return -ENOMEM;
		}
		io_uring_buf_ring_add(l->br, l->bufs[i], (unsigned)s->recv_buffer, (unsigned short)i,
				      io_uring_buf_ring_mask(l->nbufs), (int)i);
	}
	io_uring_buf_ring_advance(l->br, (int)l->nbufs);
	l->wakefd = eventfd(0, EFD_CLOEXEC);
	return l->wakefd < 0 ? -errno : 0;
}

static void nlu_lane_fini(struct nls *s, struct nlu_lane *l)
{
	if (l->ring_ok)
		io_uring_queue_exit(&l->ring); /* cancels what is still in flight */
	l->ring_ok = 0;
	if (l->br)
		munmap(l->br, l->br_size);
	l->br = NULL;
	for (unsigned i = 0; i < l->nbufs; i++)
		if (l->bufs[i])
			s->host->pool_put(s->bufs, l->bufs[i]);
	memset(l->bufs, 0, l->nbufs * sizeof(*l->bufs));
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
			n->ops = 0;
			if (n->dead && !n->listed)
				nlu_free(n);
		}
	}
	s->n_threads = 0;
}
