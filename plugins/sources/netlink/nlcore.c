/* nlcore — what the sock_diag sources share (netlink, io_uring): configuration, one
 * NETLINK_SOCK_DIAG socket per namespace, a dump request per namespace per cycle (one
 * table walk for both families when the kernel allows it), the cycle's bookkeeping. How
 * requests go out and answers come in is the transport's (struct nls_io). */
#include <config.h>

#include "nlsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

static const struct {
	const char *name, *labels, *help;
	enum xtcpd_metric_type type;
} nls_metric_defs[NLS_M_COUNT] = {
	[NLS_M_RECORDS] = { "netlink_sockets_total", NULL, "sockets parsed", XTCPD_METRIC_COUNTER },
	[NLS_M_MESSAGES] = { "netlink_messages_total", NULL, "netlink messages received", XTCPD_METRIC_COUNTER },
	[NLS_M_BYTES] = { "netlink_bytes_total", NULL, "bytes received", XTCPD_METRIC_COUNTER },
	[NLS_M_DATAGRAMS] = { "netlink_datagrams_total", NULL, "datagrams received", XTCPD_METRIC_COUNTER },
	[NLS_M_DUMPS] = { "netlink_dumps_total", NULL, "namespace dumps requested", XTCPD_METRIC_COUNTER },
	[NLS_M_DUMPS_MISSED] = { "netlink_dumps_missed_total", NULL, "dumps unfinished at the cycle deadline", XTCPD_METRIC_COUNTER },
	[NLS_M_DUMP_INTR] = { "netlink_dump_intr_total", NULL, "dumps flagged NLM_F_DUMP_INTR", XTCPD_METRIC_COUNTER },
	[NLS_M_OVERSIZE] = { "netlink_info_oversize_total", NULL, "tcp_info longer than this build knows", XTCPD_METRIC_COUNTER },
	[NLS_M_UNKNOWN_ATTR] = { "netlink_unknown_attributes_total", NULL, "attributes of unknown type skipped", XTCPD_METRIC_COUNTER },
	[NLS_M_NS_SKIPPED] = { "netlink_namespaces_skipped_total", NULL, "namespace polls skipped: no TCP socket", XTCPD_METRIC_COUNTER },
	[NLS_M_NS_BUSY] = { "netlink_namespaces_busy_total", NULL, "namespace polls skipped: previous dump still running", XTCPD_METRIC_COUNTER },
	[NLS_M_LATE] = { "netlink_late_records_total", NULL, "records received after their cycle closed", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_NLMSG] = { "netlink_errors_total", "reason=\"nlmsg_error\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_SEQ] = { "netlink_errors_total", "reason=\"seq\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_PORTID] = { "netlink_errors_total", "reason=\"portid\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_HEADER] = { "netlink_errors_total", "reason=\"short_header\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_ATTR] = { "netlink_errors_total", "reason=\"bad_attribute\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_TYPE] = { "netlink_errors_total", "reason=\"message_type\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_TRUNC] = { "netlink_errors_total", "reason=\"truncated\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_RECV] = { "netlink_errors_total", "reason=\"recv\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_SEND] = { "netlink_errors_total", "reason=\"send\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_POOL] = { "netlink_errors_total", "reason=\"no_buffer\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_CAPTURE] = { "netlink_errors_total", "reason=\"capture\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_ERR_SENDER] = { "netlink_errors_total", "reason=\"sender\"", "netlink errors", XTCPD_METRIC_COUNTER },
	[NLS_M_NAMESPACES] = { "netlink_namespaces", NULL, "namespaces with an open sock_diag socket", XTCPD_METRIC_GAUGE },
	[NLS_M_CYCLE_SOCKETS] = { "netlink_cycle_sockets", NULL, "sockets parsed in the last cycle (all namespaces)", XTCPD_METRIC_GAUGE },
	[NLS_M_CYCLE_MESSAGES] = { "netlink_cycle_messages", NULL, "netlink messages received in the last cycle", XTCPD_METRIC_GAUGE },
	[NLS_M_CYCLE_BYTES] = { "netlink_cycle_bytes", NULL, "bytes received in the last cycle", XTCPD_METRIC_GAUGE },
	/* io_uring transport only */
	[NLS_M_URING_NOBUFS] = { "io_uring_nobufs_total", NULL, "times namespaces with a datagram waiting had to wait for a free receive slot of their ring", XTCPD_METRIC_COUNTER },
	[NLS_M_URING_ENTERS] = { "io_uring_enters_total", NULL, "io_uring_enter calls of the readers (submit and wait)", XTCPD_METRIC_COUNTER },
};

static const char *const nls_filter_keys[] = { "sport", "dport", "src", "dst" };

/* Under s->lock: wait until no reader is between its emit decision and the end of its
 * datagram. */
static void nls_wait_idle(struct nls *s)
{
	s->idle_waiters++;
	while (s->inflight > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	s->idle_waiters--;
}

#define NLS_BUSY_MAX 5 /* cycles a namespace waits for its previous dump's end */

/* Everything create() could refuse in the configuration, without side effects (the
 * plugin's check op; create() runs it first). */
int nls_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	uint8_t ext, bc[NLR_BC_MAX];
	uint32_t decode, states;
	struct stat st;
	size_t bc_len;
	char err[300];

	if (cfg->n_values < NLS_K_COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, NLS_K_COUNT);
	if (nlr_deserializers(v[NLS_K_DESER].str, &ext, &decode) < 0)
		return XTCPD_CHECK_FAIL(res, "deserializers", "unknown name in '%s'", v[NLS_K_DESER].str);
	if (nlr_states(v[NLS_K_STATES].str, &states) < 0)
		return XTCPD_CHECK_FAIL(res, "states", "no state, or an unknown one, in '%s'",
					v[NLS_K_STATES].str);
	for (int k = NLS_K_SPORT; k <= NLS_K_DST; k++)
		if (v[k].str && nlr_bc_check(v[k].str, k <= NLS_K_DPORT, err, sizeof(err)) < 0)
			return XTCPD_CHECK_FAIL(res, nls_filter_keys[k - NLS_K_SPORT], "%s", err);
	if (nlr_bytecode(v[NLS_K_SPORT].str, v[NLS_K_DPORT].str, v[NLS_K_SRC].str, v[NLS_K_DST].str, bc, sizeof(bc),
			 &bc_len))
		return XTCPD_CHECK_FAIL(res, NULL, "sport, dport, src and dst together make a kernel "
					"filter longer than %d bytes: fewer items", NLR_BC_MAX);
	if (v[NLS_K_REPLAY].str && *v[NLS_K_REPLAY].str) {
		if (stat(v[NLS_K_REPLAY].str, &st) < 0)
			return XTCPD_CHECK_FAIL(res, "replay_dir", "'%s': %s", v[NLS_K_REPLAY].str,
						strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return XTCPD_CHECK_FAIL(res, "replay_dir", "'%s' is not a folder",
						v[NLS_K_REPLAY].str);
	}
	return 0;
}

static int nls_conf(struct nls *s, const struct xtcpd_config *cfg)
{
	const struct xtcpd_value *v = cfg->values;
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };

	if (s->io->check(cfg, &res)) {
		s->host->log(s->ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "", msg);
		return -EINVAL;
	}
	s->netlinkers = (unsigned)v[NLS_K_NETLINKERS].num;
	nlr_deserializers(v[NLS_K_DESER].str, &s->ext, &s->decode);
	nlr_states(v[NLS_K_STATES].str, &s->states);
	s->dump = (int)v[NLS_K_DUMP].num;
	nlr_bytecode(v[NLS_K_SPORT].str, v[NLS_K_DPORT].str, v[NLS_K_SRC].str, v[NLS_K_DST].str, s->bc,
		     sizeof(s->bc), &s->bc_len);
	s->recv_buffer = (size_t)v[NLS_K_RECVBUF].num;
	s->skip_empty = (int)v[NLS_K_SKIP_EMPTY].num;
	s->replay_dir = v[NLS_K_REPLAY].str && *v[NLS_K_REPLAY].str ? v[NLS_K_REPLAY].str : NULL;
	return 0;
}

int nls_create_with(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		    const struct xtcpd_config *cfg, void **inst, const struct nls_io *io)
{
	struct nls *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int err;

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
	s->io = io;
	s->epfd = s->stopfd = -1;
	atomic_store(&s->legacy_ok, 1);
	atomic_store(&s->next_seq, 1);   /* sequence numbers are random (reader.c) */
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_cond_init(&s->idle, NULL);
	pthread_condattr_destroy(&ca);
	if (!XTCPD_HOST_HAS(host, emit_ns)) {
		host->log(ctx, XTCPD_LOG_ERR, "needs a daemon with plugin ABI 1.2 or later (emit_ns)");
		return -ENOTSUP;
	}
	for (int i = 0; i < NLS_M_COUNT; i++) {
		s->m[i] = &s->m_dummy;
		if (i >= NLS_M_URING_NOBUFS && !io->uring_metrics)
			continue;
		s->m[i] = host->metric(ctx, nls_metric_defs[i].type, nls_metric_defs[i].name,
				       nls_metric_defs[i].labels, nls_metric_defs[i].help);
		if (!s->m[i])
			s->m[i] = &s->m_dummy;
	}
	err = nls_conf(s, cfg);
	if (err)
		return err;
	return io->init(s, cfg);
}

int nls_start(void *inst)
{
	struct nls *s = inst;
	int err = s->io->start(s);

	if (err)
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot start reader threads: %s", strerror(-err));
	return err;
}

void nls_stop(void *inst)
{
	struct nls *s = inst;

	if (s && s->io)
		s->io->stop(s);
}

void nls_destroy(void *inst)
{
	struct nls *s = inst;

	if (!s)
		return;
	if (s->io)
		s->io->fini(s);
	if (s->bufs)
		s->host->pool_destroy(s->bufs);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

unsigned nls_lanes(void *inst)
{
	return ((struct nls *)inst)->netlinkers;
}

int nls_ns_add(void *inst, struct xtcpd_netns *ns)
{
	struct nls *s = inst;
	struct nls_ns *n;
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);
	int fd;

	if (s->replay_dir)
		return 0;
	fd = s->host->ns_socket(s->ctx, ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		s->host->log(s->ctx, XTCPD_LOG_WARN, "namespace %s: no sock_diag socket: %s",
			     ns->name, strerror(-fd));
		return fd;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	n->src = s;
	n->ns = ns;
	n->fd = fd;
	n->capture_fd = -1;
	n->ss = (struct nlss)NLSS_INIT;
	pthread_mutex_init(&n->lock, NULL);
	/* The kernel assigns the port id at the first send; bind now to know it. Connected
	 * to the kernel (port 0), the socket takes datagrams from nobody else: a process of
	 * the namespace sending to our port gets ECONNREFUSED. */
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	n->portid = sa.nl_pid;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	if (s->skip_empty)
		nls_sockstat_open(n); /* failure = always dump */
	if (s->io->ns_attach(s, n) < 0)
		goto fail;
	ns->source_priv = n;
	NLS_ADD(s, NLS_M_NAMESPACES, 1);
	return 0;
fail:
	{
		int err = -errno;

		nlss_close(&n->ss);
		close(fd);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return err;
	}
}

void nls_ns_del(void *inst, struct xtcpd_netns *ns)
{
	struct nls *s = inst;
	struct nls_ns *n = ns->source_priv;

	if (!n)
		return;
	/* A reader may hold n (an event or completion taken before this): mark it dead
	 * (readers check under the lock), wait for readers mid-buffer, then the transport
	 * closes the socket (that releases the namespace) and frees n once no reader can
	 * still see it. */
	pthread_mutex_lock(&s->lock);
	n->dead = 1;
	if (n->busy && n->cycle == s->cycle && s->cycle_open && s->outstanding > 0)
		s->outstanding--;
	n->busy = 0;
	pthread_mutex_unlock(&s->lock);
	if (s->io->ns_unwatch)
		s->io->ns_unwatch(s, n);
	pthread_mutex_lock(&s->lock);
	nls_wait_idle(s);
	pthread_mutex_unlock(&s->lock);
	n->ns = NULL;
	ns->source_priv = NULL;
	atomic_fetch_sub(s->m[NLS_M_NAMESPACES], 1);
	s->io->ns_release(s, n);
}

/* The namespace's files (the transport saw its last use of n). */
void nls_ns_close(struct nls_ns *n)
{
	nlss_close(&n->ss);
	if (n->capture_fd >= 0)
		close(n->capture_fd);
	if (n->fd >= 0)
		close(n->fd);
	n->fd = n->capture_fd = -1;
}

static void nls_capture_open(struct nls *s, struct nls_ns *n, const struct xtcpd_cycle *cyc)
{
	const char *dir = s->host->capture_dir ? s->host->capture_dir(s->ctx) : NULL;
	char path[4096];

	pthread_mutex_lock(&n->lock);
	if (n->capture_fd >= 0)
		close(n->capture_fd);
	n->capture_fd = -1;
	if (dir) {
		snprintf(path, sizeof(path), "%s/netlink-%llu-%06llu.nlraw", dir,
			 (unsigned long long)n->ns->inode, (unsigned long long)cyc->seq);
		/* A predictable name: created here or not written at all, never through a
		 * link or into a file that was already there (the core checked the folder). */
		n->capture_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (n->capture_fd < 0) {
			int err = errno;

			NLS_ADD(s, NLS_M_ERR_CAPTURE, 1);
			s->host->log_ratelimited(s->ctx, nls_capture_open, 10000, XTCPD_LOG_WARN,
				"--capture: %s: %s%s", path, strerror(err),
				err == EEXIST ? " (capture files are never overwritten)" : "");
		}
	}
	pthread_mutex_unlock(&n->lock);
}

/* Start this cycle's dump in namespace n; 1 if a dump is now running. */
static int nls_poll_ns(struct nls *s, struct nls_ns *n, const struct xtcpd_cycle *cyc)
{
	int family;

	pthread_mutex_lock(&s->lock);
	if (n->busy && ++n->busy_skips < NLS_BUSY_MAX) {
		pthread_mutex_unlock(&s->lock);
		NLS_ADD(s, NLS_M_NS_BUSY, 1); /* still draining a dump that missed its deadline */
		return 0;
	}
	if (n->busy)
		/* Its end never came (a lost datagram?): ask again; if the kernel is really
		 * still dumping, it answers EBUSY and we retry next cycle. */
		s->host->log_ratelimited(s->ctx, nls_poll_ns, 60000, XTCPD_LOG_WARN,
			"namespace %s: no end of dump for %u cycles, asking again",
			n->ns->name, n->busy_skips);
	n->busy_skips = 0;
	pthread_mutex_unlock(&s->lock);
	if (s->skip_empty && !nlss_has_tcp(&n->ss)) {
		NLS_ADD(s, NLS_M_NS_SKIPPED, 1);
		return 0;
	}
	nls_capture_open(s, n, cyc);
	atomic_store(&n->intr, 0);
	family = s->dump == NLR_DUMP_PER_FAMILY ||
		 (s->dump == NLR_DUMP_AUTO && !atomic_load(&s->legacy_ok)) ? AF_INET : 0;
	pthread_mutex_lock(&s->lock);
	n->busy = 1;
	n->cycle = cyc->seq;
	s->outstanding++;
	pthread_mutex_unlock(&s->lock);
	NLS_ADD(s, NLS_M_DUMPS, 1);
	if (nls_send(s, n, family, 0) < 0) {
		nls_dump_finished(s, n);
		return 0;
	}
	return 1;
}

int nls_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	struct nls *s = inst;
	struct timespec dl = { (time_t)(cyc->deadline_ns / 1000000000), (long)(cyc->deadline_ns % 1000000000) };
	uint64_t before[3];
	int err = 0;

	for (int i = 0; i < 3; i++)
		before[i] = s->m[NLS_M_RECORDS + i] ? atomic_load(s->m[NLS_M_RECORDS + i]) : 0;
	if (s->replay_dir) {
		err = nls_replay(s, cyc);
		goto out;
	}
	if (s->io->cycle_begin)
		s->io->cycle_begin(s);
	pthread_mutex_lock(&s->lock);
	s->cycle = cyc->seq;
	s->cycle_open = 1;
	s->outstanding = 0;
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < cyc->n_ns; i++) {
		struct nls_ns *n = cyc->ns[i]->source_priv;

		if (n)
			nls_poll_ns(s, n, cyc);
	}
	if (s->io->kick)
		s->io->kick(s);
	pthread_mutex_lock(&s->lock);
	while (s->outstanding > 0 && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
	if (s->outstanding > 0) {
		NLS_ADD(s, NLS_M_DUMPS_MISSED, s->outstanding);
		s->host->log_ratelimited(s->ctx, nls_poll, 10000, XTCPD_LOG_WARN,
			"cycle %llu: %u namespace dumps unfinished at the deadline",
			(unsigned long long)cyc->seq, s->outstanding);
		err = -ETIMEDOUT;
	} else {
		err = 0;
	}
	/* No emit after we return: close the cycle, then wait for readers mid-buffer. */
	s->cycle_open = 0;
	nls_wait_idle(s);
	pthread_mutex_unlock(&s->lock);
out:
	for (int i = 0; i < 3; i++) /* NLS_M_RECORDS, _MESSAGES, _BYTES -> the cycle gauges */
		if (s->m[NLS_M_CYCLE_SOCKETS + i] && s->m[NLS_M_RECORDS + i])
			atomic_store(s->m[NLS_M_CYCLE_SOCKETS + i], atomic_load(s->m[NLS_M_RECORDS + i]) - before[i]);
	return err;
}
