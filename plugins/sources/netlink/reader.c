/* reader — the netlink source's transport: `netlinkers` threads shared by every
 * namespace, each waiting on one epoll set holding every namespace's sock_diag socket
 * (EPOLLONESHOT: the reader that takes a socket drains it with recvmsg, then re-arms
 * it); requests go out with send(2). Answers are checked and decoded by dump.c. */
#include <config.h>

#include "nlsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/netlink.h>

struct nls_lane {
	struct nls *src;
	unsigned id;
};

static void nls_rearm(struct nls *s, struct nls_ns *n)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = n->key };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, n->fd, &ev);
}

/* The namespace an epoll tag names, NULL if it was deleted since. Under s->lock. */
static struct nls_ns *nls_slot_get(struct nls *s, uint64_t key)
{
	uint32_t slot = (uint32_t)key - 1;

	if (slot >= s->n_slots || s->slots[slot].gen != (uint32_t)(key >> 32))
		return NULL;
	return s->slots[slot].n;
}

/* nls_datagram_begin for the namespace tagged `key`: looked up and counted in one hold of
 * the lock, so ns_del (which waits for inflight readers) cannot free it in between. */
static struct nls_ns *nls_datagram_begin_key(struct nls *s, uint64_t key, int *emit)
{
	struct nls_ns *n;

	pthread_mutex_lock(&s->lock);
	n = nls_slot_get(s, key);
	if (n && !n->dead) {
		*emit = s->cycle_open && n->cycle == s->cycle;
		s->inflight++;
	} else {
		n = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* One datagram into buf, of n, or when n is NULL of the namespace tagged `key`. 1: one
 * was read (and processed unless it did not come from the kernel), 0: the socket is
 * empty (or failed) and was re-armed, -1: the namespace is gone. n is used only while
 * counted in `inflight`, which ns_del waits for before the socket is closed and n freed. */
static int nls_read(struct nls *s, uint64_t key, struct nls_ns *n, uint8_t *buf, unsigned lane)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = s->recv_buffer };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t r;
	int emit;

	/* decided before recv */
	if (n ? nls_datagram_begin(s, n, &emit) < 0 : !(n = nls_datagram_begin_key(s, key, &emit)))
		return -1;
	do
		r = recvmsg(n->fd, &mh, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN) {
			NLS_ADD(s, NLS_M_ERR_RECV, 1);
			s->host->log_ratelimited(s->ctx, nls_read_one, 10000, XTCPD_LOG_WARN,
				"namespace %s: recv: %s", n->ns ? n->ns->name : "?", strerror(errno));
		}
	} else if (!nls_from_kernel(mh.msg_name, mh.msg_namelen)) {
		nls_foreign(s, n, mh.msg_name, mh.msg_namelen);
	} else {
		if (mh.msg_flags & MSG_TRUNC)
			NLS_ADD(s, NLS_M_ERR_TRUNC, 1);
		NLS_ADD(s, NLS_M_DATAGRAMS, 1);
		NLS_ADD(s, NLS_M_BYTES, r);
		if (n->capture_fd >= 0)
			nls_capture(s, n, buf, (size_t)r);
		nls_process(s, n, buf, (size_t)r, lane, 1, emit);
	}
	if (r <= 0 && key)
		nls_rearm(s, n); /* still inflight: ns_del has not closed the socket */
	nls_datagram_end(s);
	return r > 0;
}

/* One datagram of namespace n (tests, and callers that know n is alive). */
int nls_read_one(struct nls *s, struct nls_ns *n, uint8_t *buf, unsigned lane)
{
	return nls_read(s, 0, n, buf, lane);
}

/* Drain namespace n: its socket stays disarmed (EPOLLONESHOT) while this reader takes
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

static int nls_ep_init(struct nls *s, const struct xtcpd_config *cfg)
{
	(void)cfg;
	/* One buffer per reader, held for the reader's life. */
	s->bufs = s->host->pool_create(s->ctx, "netlink_recv", s->recv_buffer, s->netlinkers);
	if (!s->bufs) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot allocate %u receive buffers", s->netlinkers);
		return -ENOMEM;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	return s->epfd < 0 ? -errno : 0;
}

static void nls_ep_fini(struct nls *s)
{
	if (s->n_threads)
		nls_readers_stop(s);
	free(s->slots);
	s->slots = NULL;
	if (s->epfd >= 0)
		close(s->epfd);
	s->epfd = -1;
}

/* Give n a slot (and its epoll tag). Under s->lock. */
static int nls_slot_take(struct nls *s, struct nls_ns *n)
{
	unsigned i = 0;

	while (i < s->n_slots && s->slots[i].n)
		i++;
	if (i == s->n_slots) {
		unsigned cap = s->n_slots ? s->n_slots * 2 : 16;
		struct nls_slot *t = realloc(s->slots, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		memset(t + s->n_slots, 0, (cap - s->n_slots) * sizeof(*t));
		s->slots = t;
		s->n_slots = cap;
	}
	s->slots[i].n = n;
	n->key = (uint64_t)s->slots[i].gen << 32 | (i + 1);
	return 0;
}

/* Free n's slot: from now on its tag finds nothing. Under s->lock. */
static void nls_slot_drop(struct nls *s, struct nls_ns *n)
{
	struct nls_slot *sl = &s->slots[(uint32_t)n->key - 1];

	sl->n = NULL;
	sl->gen++;
}

static int nls_ep_attach(struct nls *s, struct nls_ns *n)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	int err;

	pthread_mutex_lock(&s->lock);
	err = nls_slot_take(s, n);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		errno = -err;  /* nls_ns_add reports errno */
		return -1;
	}
	ev.data.u64 = n->key;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, n->fd, &ev) < 0) {
		err = errno;
		pthread_mutex_lock(&s->lock);
		nls_slot_drop(s, n);
		pthread_mutex_unlock(&s->lock);
		errno = err;
		return -1;
	}
	return 0;
}

/* A reader may still hold n's tag from an epoll_wait that returned before this: dropping
 * the slot makes its look-up fail. */
static void nls_ep_unwatch(struct nls *s, struct nls_ns *n)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, n->fd, NULL);
	pthread_mutex_lock(&s->lock);
	nls_slot_drop(s, n);
	pthread_mutex_unlock(&s->lock);
}

/* ns_del waited for the readers mid-datagram and no tag finds n any more: close (that
 * releases the namespace) and free it now. */
static void nls_ep_release(struct nls *s, struct nls_ns *n)
{
	(void)s;
	nls_ns_close(n);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static int nls_ep_xmit(struct nls *s, struct nls_ns *n, const struct nlmsghdr *nlh)
{
	ssize_t r;

	(void)s;
	do
		r = send(n->fd, nlh, nlh->nlmsg_len, 0); /* connected to the kernel (nls_ns_add) */
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

const struct nls_io nls_epoll_io = {
	.check = nls_check,
	.init = nls_ep_init,
	.fini = nls_ep_fini,
	.start = nls_readers_start,
	.stop = nls_readers_stop,
	.ns_attach = nls_ep_attach,
	.ns_unwatch = nls_ep_unwatch,
	.ns_release = nls_ep_release,
	.xmit = nls_ep_xmit,
};
