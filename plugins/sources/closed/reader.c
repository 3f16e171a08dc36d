/* reader — the `readers` threads shared by every namespace. Each waits on one epoll set
 * holding every namespace's socket (EPOLLONESHOT: the reader that takes a socket drains
 * it with recvmmsg, then re-arms it), checks that the kernel sent each datagram to a
 * destroy group, filters on the header, parses in place and emits. */
#include <config.h>

#include "clsrc.h"
#include "../netlink/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define CLS_BATCH 32        /* datagrams per recvmmsg */
#define CLS_DGRAM 2048      /* one destroy message is ~350 bytes */

/* A reader's receive area, allocated once when it starts. */
struct cls_rbuf {
	struct mmsghdr msgs[CLS_BATCH];
	struct iovec iov[CLS_BATCH];
	struct sockaddr_nl from[CLS_BATCH];
	uint8_t data[CLS_BATCH][CLS_DGRAM];
};

struct cls_lane {
	struct cls *src;
	unsigned id;
};

void cls_count_drops(struct cls *s, struct cls_ns *n)
{
	uint32_t mi[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mi);

	/* sk_drops: every message netlink_broadcast could not queue on this socket (the
	 * buffer was full, or congested after an ENOBUFS) is counted there, exactly. */
	if (getsockopt(n->fd, SOL_SOCKET, SO_MEMINFO, mi, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(uint32_t)) {
		CLS_ADD(s, CLS_M_ERR_DROPCOUNT, 1);
		return;
	}
	if (mi[SK_MEMINFO_DROPS] != n->drops) {
		CLS_ADD(s, CLS_M_DROPPED, (uint32_t)(mi[SK_MEMINFO_DROPS] - n->drops));
		n->dropped += (uint32_t)(mi[SK_MEMINFO_DROPS] - n->drops);
		n->drops = mi[SK_MEMINFO_DROPS];
	}
}

/* Sent by the kernel to one of the groups we joined, not by a process of the namespace
 * (a process's port id is never 0; a forged multicast needs CAP_NET_ADMIN there). */
static int cls_from_kernel(const struct cls *s, const struct msghdr *mh)
{
	const struct sockaddr_nl *from = mh->msg_name;

	return mh->msg_namelen >= sizeof(*from) && from->nl_family == AF_NETLINK &&
	       from->nl_pid == 0 && from->nl_groups != 0 && !(from->nl_groups & ~s->groups);
}

/* One message: header checked, filtered, parsed, emitted. */
static void cls_message(struct cls *s, struct cls_ns *n, const struct nlmsghdr *h,
			unsigned lane, struct nlp_counts *c)
{
	const struct inet_diag_msg *m = (const void *)((const uint8_t *)h + NLMSG_HDRLEN);
	struct xtcpd_record rec;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct inet_diag_msg)) {
		CLS_ADD(s, CLS_M_ERR_MSG, 1);
		return;
	}
	CLS_ADD(s, CLS_M_RECORDS, 1);
	n->received++;
	if (!clf_match(&s->filter, m->idiag_family, m->idiag_state, ntohs(m->id.idiag_sport),
		       ntohs(m->id.idiag_dport), (const uint8_t *)m->id.idiag_src,
		       (const uint8_t *)m->id.idiag_dst)) {
		CLS_ADD(s, CLS_M_FILTERED, 1);
		return;
	}
	if (nlp_parse(h, NLP_DECODE_ALL, &rec, c) != 0)
		return;
	rec.flags |= XTCPD_REC_CLOSED;
	rec.socket_fd = (uint64_t)n->fd;
	if (s->host->emit_ns(s->ctx, lane, n->ns, &rec) == 0)
		CLS_ADD(s, CLS_M_EMITTED, 1);
}

static void cls_datagram(struct cls *s, struct cls_ns *n, const uint8_t *buf, size_t len,
			 unsigned lane)
{
	struct nlp_counts c = { 0 };
	size_t off = 0;

	for (; off < len && nlp_msg_ok((const struct nlmsghdr *)(buf + off), len - off);
	     off += nlp_msg_step((const struct nlmsghdr *)(buf + off), len - off)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		if (h->nlmsg_type == NLMSG_NOOP || h->nlmsg_type == NLMSG_DONE)
			continue;
		cls_message(s, n, h, lane, &c);
	}
	if (off < len)
		CLS_ADD(s, CLS_M_ERR_TRUNC, 1);
	if (c.bad_header || c.bad_attr || c.bad_type)
		CLS_ADD(s, CLS_M_ERR_MSG, c.bad_header + c.bad_attr + c.bad_type);
}

/* One recvmmsg on n: 1 = something was read (read again), 0 = empty or failed. */
static int cls_read(struct cls *s, struct cls_ns *n, struct cls_rbuf *rb, unsigned lane)
{
	int r;

	for (int i = 0; i < CLS_BATCH; i++) {
		rb->msgs[i].msg_hdr.msg_namelen = sizeof(rb->from[i]);
		rb->msgs[i].msg_hdr.msg_flags = 0;
	}
	do
		r = recvmmsg(n->fd, rb->msgs, CLS_BATCH, MSG_DONTWAIT, NULL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN)
			return 0;
		if (errno == ENOBUFS) {
			/* The buffer overflowed: the kernel dropped messages (counted in
			 * cls_count_drops from its own counter); keep draining. */
			CLS_ADD(s, CLS_M_OVERFLOWS, 1);
			s->host->log_ratelimited(s->ctx, cls_read, 10000, XTCPD_LOG_WARN,
				"namespace %s: receive buffer overflow: closed sockets lost (counted "
				"in xtcpd_closed_dropped_total; raise socket_buffer or readers)",
				n->ns ? n->ns->name : "?");
			return 1;
		}
		CLS_ADD(s, CLS_M_ERR_RECV, 1);
		s->host->log_ratelimited(s->ctx, cls_datagram, 10000, XTCPD_LOG_WARN,
			"namespace %s: recv: %s", n->ns ? n->ns->name : "?", strerror(errno));
		return 0;
	}
	for (int i = 0; i < r; i++) {
		struct msghdr *mh = &rb->msgs[i].msg_hdr;

		if (!cls_from_kernel(s, mh)) {
			CLS_ADD(s, CLS_M_ERR_SENDER, 1);
			continue;
		}
		if (mh->msg_flags & MSG_TRUNC)
			CLS_ADD(s, CLS_M_ERR_TRUNC, 1);
		CLS_ADD(s, CLS_M_DATAGRAMS, 1);
		CLS_ADD(s, CLS_M_BYTES, rb->msgs[i].msg_len);
		cls_datagram(s, n, rb->data[i], rb->msgs[i].msg_len, lane);
	}
	return r > 0;
}

/* Drain n until empty, then count the kernel's drops and re-arm it. */
static void cls_drain(struct cls *s, struct cls_ns *n, struct cls_rbuf *rb, unsigned lane)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = n };

	pthread_mutex_lock(&s->lock);
	if (n->dead) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	n->users++;
	pthread_mutex_unlock(&s->lock);
	while (cls_read(s, n, rb, lane))
		;
	cls_count_drops(s, n);
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, n->fd, &ev);
	pthread_mutex_lock(&s->lock);
	if (--n->users == 0 && n->dead)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

static void cls_rbuf_init(struct cls_rbuf *rb)
{
	for (int i = 0; i < CLS_BATCH; i++) {
		rb->iov[i] = (struct iovec){ .iov_base = rb->data[i], .iov_len = CLS_DGRAM };
		rb->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &rb->from[i],
			.msg_iov = &rb->iov[i], .msg_iovlen = 1 };
	}
}

void cls_drain_last(struct cls *s, struct cls_ns *n)
{
	struct cls_rbuf *rb = malloc(sizeof(*rb));

	if (rb) {
		cls_rbuf_init(rb);
		while (cls_read(s, n, rb, 0))
			;
	}
	free(rb);
	cls_count_drops(s, n);
}

static void *cls_reader(void *arg)
{
	struct cls_lane *l = arg;
	struct cls *s = l->src;
	struct cls_rbuf *rb = calloc(1, sizeof(*rb));
	char name[16];

	snprintf(name, sizeof(name), "cl-read/%u", l->id);
	pthread_setname_np(pthread_self(), name);
	if (!rb) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "reader %u: no receive buffer", l->id);
		return NULL;
	}
	cls_rbuf_init(rb);
	for (;;) {
		struct epoll_event ev;
		int k;

		/* A quiescent point: an event taken before this is fully handled (cls_grave_reap). */
		atomic_fetch_add(&s->loops[l->id], 1);
		k = epoll_wait(s->epfd, &ev, 1, 1000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (k == 0)
			continue;
		if (ev.data.ptr == NULL)
			break; /* stopfd: level-triggered, every reader sees it */
		cls_drain(s, ev.data.ptr, rb, l->id);
	}
	free(rb);
	return NULL;
}

int cls_readers_start(struct cls *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct cls_lane *lanes;

	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev) < 0)
		return -errno;
	s->threads = calloc(s->readers, sizeof(*s->threads) + sizeof(*lanes));
	s->loops = calloc(s->readers, sizeof(*s->loops));
	if (!s->threads || !s->loops)
		return -ENOMEM;
	lanes = (struct cls_lane *)(s->threads + s->readers);
	for (unsigned i = 0; i < s->readers; i++) {
		int err;

		lanes[i] = (struct cls_lane){ .src = s, .id = i };
		err = pthread_create(&s->threads[i], NULL, cls_reader, &lanes[i]);
		if (err)
			return -err;
		s->n_threads++;
	}
	return 0;
}

void cls_readers_stop(struct cls *s)
{
	uint64_t one = 1;

	if (s->stopfd >= 0 && write(s->stopfd, &one, sizeof(one)) < 0)
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot stop the readers: %s", strerror(errno));
	for (unsigned i = 0; i < s->n_threads; i++)
		pthread_join(s->threads[i], NULL);
	s->n_threads = 0;
	free(s->threads);
	s->threads = NULL;
	cls_grave_reap(s, 1);
	free(s->loops);
	s->loops = NULL;
	if (s->stopfd >= 0)
		close(s->stopfd);
	s->stopfd = -1;
}

void cls_grave_reap(struct cls *s, int all)
{
	struct cls_ns **pp = &s->grave;

	while (*pp) {
		struct cls_ns *n = *pp;
		int quiet = all || n->snap != NULL;

		for (unsigned i = 0; !all && quiet && i < s->n_threads; i++)
			quiet = atomic_load(&s->loops[i]) > n->snap[i];
		if (!quiet) {
			pp = &n->grave_next;
			continue;
		}
		*pp = n->grave_next;
		free(n->snap);
		free(n);
	}
}
