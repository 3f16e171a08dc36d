/* dump — the part of a sock_diag dump both transports share: the request (random
 * sequence number, handed to the transport), the end of a dump (per-family chaining,
 * legacy refusal), and the checks and decoding of every answer datagram. */
#include <config.h>

#include "nlsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

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

/* Under n->lock: the request state (family, seq, seq_prev) and the transport's copy of
 * the request change together, so a reader chaining the next family and poll() asking
 * again after NLS_BUSY_MAX cycles never interleave. */
static int nls_send_locked(struct nls *s, struct nls_ns *n, int family, int chained)
{
	uint8_t req[NLR_REQ_MAX] __attribute__((aligned(4)));
	uint32_t seq = nls_new_seq(s);
	struct nlmsghdr *nlh = nlr_build(req, family, seq, s->ext, s->states, s->bc, s->bc_len);
	int err;

	n->family = family;
	atomic_store(&n->seq_prev, chained ? atomic_load(&n->seq) : 0);
	atomic_store(&n->seq, seq);
	err = s->io->xmit(s, n, nlh);
	if (err < 0)
		NLS_ADD(s, NLS_M_ERR_SEND, 1);
	return err;
}

int nls_send(struct nls *s, struct nls_ns *n, int family, int chained)
{
	int err;

	pthread_mutex_lock(&n->lock);
	err = nls_send_locked(s, n, family, chained);
	pthread_mutex_unlock(&n->lock);
	return err;
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

/* What the end of a dump leads to: the next request sent (0), the dump over (1), or
 * nothing: the end is not the running request's (-1). Under n->lock. */
static int nls_dump_next(struct nls *s, struct nls_ns *n, const struct nlmsghdr *h, int err)
{
	/* The end of a request that is no longer the running one (poll() asked again after
	 * NLS_BUSY_MAX cycles, or the chain already moved on) neither chains nor finishes:
	 * the newer request owns the dump. */
	if (h->nlmsg_seq != atomic_load(&n->seq))
		return -1;
	if (err < 0) {
		NLS_ADD(s, NLS_M_ERR_NLMSG, 1);
		if (n->family == 0 && s->dump == NLR_DUMP_AUTO) {
			/* The kernel refuses the one-walk legacy dump: ask per family from now on. */
			atomic_store(&s->legacy_ok, 0);
			s->host->log_ratelimited(s->ctx, &s->legacy_ok, 60000, XTCPD_LOG_WARN,
				"legacy TCPDIAG_GETSOCK dump refused (%s): using per-family dumps",
				strerror(-err));
			return nls_send_locked(s, n, AF_INET, 1) == 0 ? 0 : 1;
		}
		s->host->log_ratelimited(s->ctx, nls_dump_next, 10000, XTCPD_LOG_WARN,
			"namespace %s: dump failed: %s", n->ns ? n->ns->name : "?", strerror(-err));
		return 1;
	}
	if (atomic_load(&n->intr))
		NLS_ADD(s, NLS_M_DUMP_INTR, 1);
	if (n->family == AF_INET && nls_send_locked(s, n, AF_INET6, 1) == 0)
		return 0;
	return 1;
}

/* NLMSG_DONE or NLMSG_ERROR for the running request. */
static void nls_dump_end(struct nls *s, struct nls_ns *n, const struct nlmsghdr *h)
{
	int err = 0, next;

	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

		err = h->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ? e->error : -EBADMSG;
	} else if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		/* NLMSG_DONE carries the dump's return value (negative if it failed). */
		memcpy(&err, mnl_nlmsg_get_payload(h), sizeof(err));
	}
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		atomic_store(&n->intr, 1);
	pthread_mutex_lock(&n->lock);
	next = nls_dump_next(s, n, h, err);
	pthread_mutex_unlock(&n->lock);
	if (next == 1)
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

void nls_capture(struct nls *s, struct nls_ns *n, const void *buf, size_t len)
{
	pthread_mutex_lock(&n->lock);
	if (n->capture_fd >= 0 && write(n->capture_fd, buf, len) != (ssize_t)len)
		NLS_ADD(s, NLS_M_ERR_CAPTURE, 1);
	pthread_mutex_unlock(&n->lock);
}

/* Sent by the kernel (port 0), not by a process of the namespace that found our port id
 * in /proc/net/netlink? The socket is connected to the kernel, which already refuses
 * other senders; this holds even where that would not. */
int nls_from_kernel(const void *name, size_t namelen)
{
	const struct sockaddr_nl *from = name;

	return namelen >= sizeof(*from) && from->nl_family == AF_NETLINK &&
	       from->nl_pid == 0 && from->nl_groups == 0;
}

/* Counted and logged, never parsed. */
void nls_foreign(struct nls *s, struct nls_ns *n, const void *name, size_t namelen)
{
	const struct sockaddr_nl *from = name;
	int nl = namelen >= sizeof(*from) && from->nl_family == AF_NETLINK;

	NLS_ADD(s, NLS_M_ERR_SENDER, 1);
	s->host->log_ratelimited(s->ctx, nls_from_kernel, 10000, XTCPD_LOG_WARN,
		"namespace %s: a datagram not sent by the kernel (%s %u) dropped",
		n->ns ? n->ns->name : "?", nl ? "netlink port" : "address family",
		nl ? (unsigned)from->nl_pid : namelen ? (unsigned)from->nl_family : 0u);
}

int nls_datagram_begin(struct nls *s, struct nls_ns *n, int *emit)
{
	pthread_mutex_lock(&s->lock);
	if (n->dead) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* Decided per datagram: the cycle may close (deadline) mid-dump, and poll() waits
	 * for every reader between here and nls_datagram_end. */
	*emit = s->cycle_open && n->cycle == s->cycle;
	s->inflight++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void nls_datagram_end(struct nls *s)
{
	pthread_mutex_lock(&s->lock);
	if (--s->inflight == 0 && s->idle_waiters)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}
