/* io_uring — the sock_diag source through io_uring: the netlink source's core (same
 * request, parser, namespaces, checks: libnlcommon) with a ring per reader (ring.c)
 * instead of epoll and one syscall per datagram. Unavailable (old kernel, sysctl,
 * seccomp, memlock) it says why and returns XTCPD_ERR_UNAVAILABLE (probe.c). */
#include <config.h>

#include "nusrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

enum { NLU_K_RECV_BATCH = NLS_K_COUNT, NLU_K_CQE_BATCH, NLU_K_COUNT };

static const struct xtcpd_key nlu_keys[] = {
	/* 1: every namespace's dump in one ring; walks on several CPUs at once cost more CPU
	 * (the kernel's socket table is one for all namespaces: README, Cost) */
	NLS_KEYS("1", "reader threads, each with its own ring, shared by all namespaces (1: every "
		 "dump through one ring, the least CPU; more: dumps walked on several CPUs at once)",
		 "32KiB", "bytes of each receive slot's buffer (a dump datagram is at most 32 KiB)"),
	/* 2: half the system calls of 1 for one more 32 KiB buffer in the one ring (README: Cost) */
	[NLU_K_RECV_BATCH] = { "recv_batch", XTCPD_KEY_INT, "2", 1, 4096, NULL, 0,
		"receive slots (each with a buffer) of each reader's ring: datagrams it takes per "
		"io_uring_enter; each busy reader keeps this many buffers resident "
		"(xtcp2 -ioUringRecvBatch)" },
	[NLU_K_CQE_BATCH] = { "cqe_batch", XTCPD_KEY_INT, "128", 1, 4096, NULL, 0,
		"completions reaped per batch; the completion queue holds as many (xtcp2 -ioUringCqeBatch)" },
	[NLU_K_COUNT] = XTCPD_KEYS_END,
};

static int nlu_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;

	if (cfg->n_values < NLU_K_COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, NLU_K_COUNT);
	for (int k = NLU_K_RECV_BATCH; k <= NLU_K_CQE_BATCH; k++)
		if (v[k].num < 1 || v[k].num > 4096)
			return XTCPD_CHECK_FAIL(res, nlu_keys[k].name, "%lld is out of range (allowed: 1..4096)",
						(long long)v[k].num);
	return nls_check(cfg, res);
}

static unsigned nlu_pow2(unsigned v)
{
	unsigned p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int nlu_init(struct nls *s, const struct xtcpd_config *cfg)
{
	const struct xtcpd_value *v = cfg->values;
	unsigned nbufs = (unsigned)v[NLU_K_RECV_BATCH].num;
	uint8_t req[NLR_REQ_MAX] __attribute__((aligned(4)));
	struct nlu *u;
	int err;

	if (s->replay_dir)
		return 0; /* replay reads files: no ring */
	err = nlu_probe(s->host, s->ctx);
	if (err)
		return err;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	s->io_priv = u;
	u->n_lanes = s->netlinkers;
	/* Ring memory is resident: sized by what is in flight, not more. A reader prepares a
	 * few entries per completion and submits when the queue is full (nlu_sqe); the kernel
	 * keeps completions beyond the queue's size (IORING_FEAT_NODROP, Linux >= 5.5). */
	u->cq_entries = nlu_pow2((unsigned)v[NLU_K_CQE_BATCH].num);
	u->sq_entries = nlu_pow2(nbufs + 2) > NLU_SQ_ENTRIES ? nlu_pow2(nbufs + 2) : NLU_SQ_ENTRIES;
	if (u->sq_entries > u->cq_entries)
		u->sq_entries = u->cq_entries;
	/* the longest request this configuration sends (legacy or per-family) */
	u->req_cap = nlr_build(req, 0, 1, s->ext, s->states, s->bc, s->bc_len)->nlmsg_len;
	if (nlr_build(req, AF_INET6, 1, s->ext, s->states, s->bc, s->bc_len)->nlmsg_len > u->req_cap)
		u->req_cap = ((struct nlmsghdr *)req)->nlmsg_len;
	u->lanes = calloc(u->n_lanes, sizeof(*u->lanes));
	if (!u->lanes)
		return -ENOMEM;
	s->bufs = s->host->pool_create(s->ctx, "io_uring_recv", s->recv_buffer, u->n_lanes * nbufs);
	if (!s->bufs) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot allocate %u receive buffers of %zu bytes",
			     u->n_lanes * nbufs, s->recv_buffer);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < u->n_lanes; i++) {
		struct nlu_lane *l = &u->lanes[i];

		l->src = s;
		l->id = i;
		l->nslots = nbufs;
		l->cqe_batch = (unsigned)v[NLU_K_CQE_BATCH].num;
		l->wakefd = -1;
		pthread_mutex_init(&l->qlock, NULL);
		l->slots = calloc(nbufs, sizeof(*l->slots));
		if (!l->slots)
			return -ENOMEM;
	}
	return 0;
}

static void nlu_fini(struct nls *s)
{
	struct nlu *u = s->io_priv;

	if (!u)
		return;
	nlu_stop(s);
	for (unsigned i = 0; u->lanes && i < u->n_lanes; i++) {
		pthread_mutex_destroy(&u->lanes[i].qlock);
		free(u->lanes[i].slots);
	}
	free(u->lanes);
	free(u);
	s->io_priv = NULL;
}

static int nlu_start_io(struct nls *s)
{
	return s->io_priv ? nlu_start(s) : 0;
}

static void nlu_stop_io(struct nls *s)
{
	if (s->io_priv)
		nlu_stop(s);
}

/* A namespace goes to the rings in turn; its two request slots are allocated once here. */
static int nlu_attach(struct nls *s, struct nls_ns *n)
{
	struct nlu *u = s->io_priv;

	n->req = malloc(2 * u->req_cap); /* req, then req_q */
	if (!n->req)
		return -1;
	n->req_q = n->req + u->req_cap;
	n->lane = u->rr++ % u->n_lanes;
	return 0;
}

static const struct nls_io nlu_io = {
	.check = nlu_check,
	.init = nlu_init,
	.fini = nlu_fini,
	.start = nlu_start_io,
	.stop = nlu_stop_io,
	.ns_attach = nlu_attach,
	.ns_release = nlu_release,
	.xmit = nlu_xmit,
	.kick = nlu_kick,
	.uring_metrics = 1,
};

static int nlu_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	return nls_create_with(host, ctx, cfg, inst, &nlu_io);
}

static const struct xtcpd_source_ops nlu_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_source_ops),
		.create = nlu_create,
		.start = nls_start,
		.stop = nls_stop,
		.destroy = nls_destroy,
	},
	.lanes = nls_lanes,
	.ns_add = nls_ns_add,
	.ns_del = nls_ns_del,
	.poll = nls_poll,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SOURCE, "io_uring", PACKAGE_VERSION,
		     "TCP sockets of every namespace via sock_diag, through io_uring rings", nlu_keys,
		     &nlu_ops, nlu_check);
