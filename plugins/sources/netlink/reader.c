/* reader — the `netlinkers` threads shared by every namespace. Each waits on one epoll
 * set holding every namespace's sock_diag socket (EPOLLONESHOT: the reader that takes a
 * socket drains it, then re-arms it), checks each answer and emits its records. */
#include <config.h>

#include "nlsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

struct nls_lane {
	struct nls *src;
	unsigned id;
};

/* A sequence number nobody can guess (a forged answer must carry it); never 0, which
 * stands for "no request" in seq_prev. */
static uint32_t nls_new_seq(struct nls *s)
{
	uint32_t seq = 0;

	while (!seq) {
		ssize_t r = getrandom(&seq, sizeof(seq), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(seq)) /* no getrandom(2): at least never repeat soon */
			seq = atomic_fetch_add(&s->next_seq, 1) * 2654435761u;
	}
	return seq;
}

int nls_send(struct nls *s, struct nls_ns *n, int family, int chained)
{
	uint8_t req[NLR_REQ_MAX] __attribute__((aligned(4)));
	uint32_t seq = nls_new_seq(s);
	struct nlmsghdr *nlh = nlr_build(req, family, seq, s->ext, s->states, s->bc, s->bc_len);
	ssize_t r;

	n->family = family;
	atomic_store(&n->seq_prev, chained ? atomic_load(&n->seq) : 0);
	atomic_store(&n->seq, seq);
	do
		r = send(n->fd, nlh, nlh->nlmsg_len, 0); /* connected to the kernel (nls_ns_add) */
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		NLS_ADD(s, NLS_M_ERR_SEND, 1);
		return -errno;
	}
	return 0;
}

void nls_dump_finished(struct nls *s, struct nls_ns *n)
{
	pthread_mutex_lock(&s->lock);
	if (n->busy && n->cycle == s->cycle && s->cycle_open && s->outstanding > 0) {
		s->outstanding--;
		if (s->outstanding == 0)
			pthread_cond_broadcast(&s->cond);
	}
	n->busy = 0;
	pthread_mutex_unlock(&s->lock);
}

/* NLMSG_DONE or NLMSG_ERROR for the running request. */
static void nls_dump_end(struct nls *s, struct nls_ns *n, const struct nlmsghdr *h)
{
	int err = 0;

	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

		err = h->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ? e->error : -EBADMSG;
	} else if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		/* NLMSG_DONE carries the dump's return value (negative if it failed). */
		memcpy(&err, mnl_nlmsg_get_payload(h), sizeof(err));
	}
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		atomic_store(&n->intr, 1);
	if (err < 0) {
		NLS_ADD(s, NLS_M_ERR_NLMSG, 1);
		if (n->family == 0 && s->dump == NLR_DUMP_AUTO) {
			/* The kernel refuses the one-walk legacy dump: ask per family from now on. */
			atomic_store(&s->legacy_ok, 0);
			s->host->log_ratelimited(s->ctx, &s->legacy_ok, 60000, XTCPD_LOG_WARN,
				"legacy TCPDIAG_GETSOCK dump refused (%s): using per-family dumps",
				strerror(-err));
			if (nls_send(s, n, AF_INET, 1) == 0)
				return;
		} else {
			s->host->log_ratelimited(s->ctx, nls_dump_end, 10000, XTCPD_LOG_WARN,
				"namespace %s: dump failed: %s", n->ns ? n->ns->name : "?",
				strerror(-err));
		}
		nls_dump_finished(s, n);
		return;
	}
	if (atomic_load(&n->intr))
		NLS_ADD(s, NLS_M_DUMP_INTR, 1);
	if (n->family == AF_INET && nls_send(s, n, AF_INET6, 1) == 0)
		return;
	nls_dump_finished(s, n);
}

static void nls_fold(struct nls *s, const struct nlp_counts *c)
{
	if (c->records)
		NLS_ADD(s, NLS_M_RECORDS, c->records);
	if (c->oversize_info)
		NLS_ADD(s, NLS_M_OVERSIZE, c->oversize_info);
	if (c->unknown_attr)
		NLS_ADD(s, NLS_M_UNKNOWN_ATTR, c->unknown_attr);
	if (c->bad_header)
		NLS_ADD(s, NLS_M_ERR_HEADER, c->bad_header);
	if (c->bad_attr)
		NLS_ADD(s, NLS_M_ERR_ATTR, c->bad_attr);
	if (c->bad_type)
		NLS_ADD(s, NLS_M_ERR_TYPE, c->bad_type);
}

void nls_process(struct nls *s, struct nls_ns *n, const uint8_t *buf, size_t len,
		 unsigned lane, int live, int emit)
{
	struct nlp_counts c = { 0 };
	struct xtcpd_record rec;
	size_t off = 0;
	uint64_t msgs = 0, late = 0;

	for (; off < len && nlp_msg_ok((const struct nlmsghdr *)(buf + off), len - off);
	     off += nlp_msg_step((const struct nlmsghdr *)(buf + off), len - off)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		msgs++;
		if (live) {
			if (h->nlmsg_pid != n->portid) {
				NLS_ADD(s, NLS_M_ERR_PORTID, 1);
				continue;
			}
			if (h->nlmsg_seq != atomic_load(&n->seq) &&
			    (h->nlmsg_seq == 0 || h->nlmsg_seq != atomic_load(&n->seq_prev))) {
				NLS_ADD(s, NLS_M_ERR_SEQ, 1); /* a stale answer: never ours to emit */
				continue;
			}
		}
		switch (h->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_DONE:
		case NLMSG_ERROR:
			if (live)
				nls_dump_end(s, n, h);
			continue;
		default:
			break;
		}
		if (nlp_parse(h, s->decode, &rec, &c) != 0)
			continue;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
			rec.flags |= XTCPD_REC_DUMP_INTR;
			if (live)
				atomic_store(&n->intr, 1);
		}
		if (live && atomic_load_explicit(&n->intr, memory_order_relaxed))
			rec.flags |= XTCPD_REC_DUMP_INTR;
		if (!emit) {
			late++;
			continue;
		}
		rec.socket_fd = n ? (uint64_t)n->fd : 0;
		s->host->emit_ns(s->ctx, lane, n ? n->ns : NULL, &rec);
	}
	if (off < len)
		NLS_ADD(s, NLS_M_ERR_TRUNC, 1); /* bytes that are not a whole message */
	NLS_ADD(s, NLS_M_MESSAGES, msgs);
	if (late)
		NLS_ADD(s, NLS_M_LATE, late);
	nls_fold(s, &c);
}

static void nls_capture(struct nls *s, struct nls_ns *n, const void *buf, size_t len)
{
	pthread_mutex_lock(&n->lock);
	if (n->capture_fd >= 0 && write(n->capture_fd, buf, len) != (ssize_t)len)
		NLS_ADD(s, NLS_M_ERR_CAPTURE, 1);
	pthread_mutex_unlock(&n->lock);
}

struct nls_ns *nls_slot_get(struct nls *s, uint64_t key)
{
	uint32_t slot = (uint32_t)key - 1;

	if (slot >= s->n_slots || s->slots[slot].gen != (uint32_t)(key >> 32))
		return NULL;
	return s->slots[slot].n;
}

static void nls_rearm(struct nls *s, struct nls_ns *n)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = n->key };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, n->fd, &ev);
}

/* Sent by the kernel (port 0), not by a process of the namespace that found our port id
 * in /proc/net/netlink? The socket is connected to the kernel, which already refuses
 * other senders; this holds even where that would not. */
static int nls_from_kernel(const struct msghdr *mh)
{
	const struct sockaddr_nl *from = mh->msg_name;

	return mh->msg_namelen >= sizeof(*from) && from->nl_family == AF_NETLINK &&
	       from->nl_pid == 0 && from->nl_groups == 0;
}

/* Counted and logged, never parsed. */
static void nls_foreign(struct nls *s, struct nls_ns *n, const struct msghdr *mh)
{
	const struct sockaddr_nl *from = mh->msg_name;
	int nl = mh->msg_namelen >= sizeof(*from) && from->nl_family == AF_NETLINK;

	NLS_ADD(s, NLS_M_ERR_SENDER, 1);
	s->host->log_ratelimited(s->ctx, nls_from_kernel, 10000, XTCPD_LOG_WARN,
		"namespace %s: a datagram not sent by the kernel (%s %u) dropped",
		n->ns ? n->ns->name : "?", nl ? "netlink port" : "address family",
		nl ? (unsigned)from->nl_pid : mh->msg_namelen ? (unsigned)from->nl_family : 0u);
}

/* One datagram into buf, of n, or when n is NULL of the namespace tagged `key` (looked
 * up under the lock: NULL if it was deleted). 1: one was read (and processed unless it
 * did not come from the kernel), 0: the socket is empty (or failed) and was re-armed,
 * -1: the namespace is gone. n is used only while counted in `inflight`, which ns_del
 * waits for before it closes and frees it. */
static int nls_read(struct nls *s, uint64_t key, struct nls_ns *n, uint8_t *buf, unsigned lane)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = s->recv_buffer };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t r;
	int emit;

	pthread_mutex_lock(&s->lock);
	if (!n)
		n = nls_slot_get(s, key);
	if (!n) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* Decided before recv, per datagram: the cycle may close (deadline) mid-dump, and
	 * poll() waits for every reader between here and the end of its parsing. */
	emit = s->cycle_open && n->cycle == s->cycle;
	s->inflight++;
	pthread_mutex_unlock(&s->lock);
	do
		r = recvmsg(n->fd, &mh, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN) {
			NLS_ADD(s, NLS_M_ERR_RECV, 1);
			s->host->log_ratelimited(s->ctx, nls_read_one, 10000, XTCPD_LOG_WARN,
				"namespace %s: recv: %s", n->ns ? n->ns->name : "?", strerror(errno));
		}
	} else if (!nls_from_kernel(&mh)) {
		nls_foreign(s, n, &mh);
	} else {
		if (mh.msg_flags & MSG_TRUNC)
			NLS_ADD(s, NLS_M_ERR_TRUNC, 1);
		NLS_ADD(s, NLS_M_DATAGRAMS, 1);
		NLS_ADD(s, NLS_M_BYTES, r);
		if (n->capture_fd >= 0)
			nls_capture(s, n, buf, (size_t)r);
		nls_process(s, n, buf, (size_t)r, lane, 1, emit);
	}
	if (r <= 0)
		nls_rearm(s, n); /* still inflight: ns_del has not closed the socket */
	pthread_mutex_lock(&s->lock);
	if (--s->inflight == 0 && s->idle_waiters)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return r > 0;
}

int nls_read_one(struct nls *s, struct nls_ns *n, uint8_t *buf, unsigned lane)
{
	return nls_read(s, 0, n, buf, lane);
}

/* Drain one namespace: its socket stays disarmed (EPOLLONESHOT) while this reader takes
 * datagram after datagram until the socket is empty, then it is re-armed. One reader
 * per dump keeps the kernel's next datagram, the receive buffer and the batch being
 * written in this CPU's caches, and costs no epoll_ctl or wake-up per datagram; other
 * namespaces are drained by the other readers meanwhile. (The kernel queues the next
 * datagram of a dump inside recvmsg, so a running dump never looks empty; a rearm
 * after the last empty read reports anything that arrived in between.) */
static void nls_drain(struct nls *s, uint64_t key, uint8_t *buf, unsigned lane)
{
	while (nls_read(s, key, NULL, buf, lane) > 0)
		;
}

static void *nls_reader(void *arg)
{
	struct nls_lane *l = arg;
	struct nls *s = l->src;
	/* This reader's own receive buffer for its whole life: always warm in its cache. */
	uint8_t *buf = s->host->pool_get(s->bufs, 0);
	char name[16];

	snprintf(name, sizeof(name), "nl-read/%u", l->id); /* per-thread CPU in /metrics */
	pthread_setname_np(pthread_self(), name);

	if (!buf) {
		NLS_ADD(s, NLS_M_ERR_POOL, 1);
		s->host->log(s->ctx, XTCPD_LOG_ERR, "reader %u: no receive buffer", l->id);
	}
	for (;;) {
		struct epoll_event ev;
		int k;

		/* No timeout: between polls a reader sleeps until a dump's answer or stopfd. */
		k = epoll_wait(s->epfd, &ev, 1, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (k == 0)
			continue;
		if (ev.data.u64 == 0)
			break; /* stopfd: level-triggered, so every reader sees it */
		if (buf)
			nls_drain(s, ev.data.u64, buf, l->id);
	}
	s->host->pool_put(s->bufs, buf);
	return NULL;
}

int nls_readers_start(struct nls *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	struct nls_lane *lanes;

	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev) < 0)
		return -errno;
	s->threads = calloc(s->netlinkers, sizeof(*s->threads) + sizeof(*lanes));
	if (!s->threads)
		return -ENOMEM;
	lanes = (struct nls_lane *)(s->threads + s->netlinkers);
	for (unsigned i = 0; i < s->netlinkers; i++) {
		int err;

		lanes[i].src = s;
		lanes[i].id = i;
		err = pthread_create(&s->threads[i], NULL, nls_reader, &lanes[i]);
		if (err)
			return -err;
		s->n_threads++;
	}
	return 0;
}

void nls_readers_stop(struct nls *s)
{
	uint64_t one = 1;

	if (s->stopfd >= 0 && write(s->stopfd, &one, sizeof(one)) < 0)
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot stop the readers: %s", strerror(errno));
	for (unsigned i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	s->n_threads = 0;
	free(s->threads);
	s->threads = NULL;
	if (s->stopfd >= 0)
		close(s->stopfd);
	s->stopfd = -1;
}
