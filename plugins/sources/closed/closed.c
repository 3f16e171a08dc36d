/* closed — the final tcp_info of every TCP socket as the kernel destroys it: one sock_diag
 * socket per namespace joined to SKNLGRP_INET_TCP_DESTROY and SKNLGRP_INET6_TCP_DESTROY
 * (what `ss -E` shows), read by shared reader threads (reader.c) that emit at any time:
 * a continuous source (ABI 1.5), whose batches the core flushes on flush_interval. */
#include <config.h>

#include "clsrc.h"
#include "../netlink/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

enum { K_READERS, K_FAMILIES, K_STATES, K_SPORT, K_DPORT, K_SRC, K_DST, K_BUFFER, K_COUNT };

static const struct xtcpd_key cls_keys[] = {
	[K_READERS] = { "readers", XTCPD_KEY_INT, "2", 1, 64, NULL, 0,
		"reader threads shared by all namespaces" },
	[K_FAMILIES] = { "families", XTCPD_KEY_LIST, "ipv4,ipv6", 0, 0, "ipv4|ipv6", 0,
		"destroy groups to join: SKNLGRP_INET_TCP_DESTROY (ipv4), SKNLGRP_INET6_TCP_DESTROY (ipv6)" },
	[K_STATES] = { "states", XTCPD_KEY_LIST, "all", 0, 0,
		"all|established|syn-sent|syn-recv|fin-wait-1|fin-wait-2|time-wait|close|close-wait|"
		"last-ack|listen|closing|new-syn-recv|bound-inactive", 0,
		"states reported (the kernel reports almost every destroyed socket in state close)" },
	[K_SPORT] = { "sport", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,
		"local ports, e.g. 22,8000-8100 (filtered in the plugin, before parsing)" },
	[K_DPORT] = { "dport", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,
		"remote ports, e.g. 443,1024-65535 (filtered in the plugin)" },
	[K_SRC] = { "src", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,
		"local address prefixes, e.g. 10.0.0.0/8,fd00::/8 (filtered in the plugin)" },
	[K_DST] = { "dst", XTCPD_KEY_STRING, NULL, 0, 1024, NULL, 0,
		"remote address prefixes (filtered in the plugin)" },
	[K_BUFFER] = { "socket_buffer", XTCPD_KEY_SIZE, "4MiB", 65536, 1LL << 30, NULL, 0,
		"receive buffer of each namespace's socket (SO_RCVBUFFORCE when permitted, else "
		"SO_RCVBUF up to net.core.rmem_max); a full buffer drops closes, counted" },
	[K_COUNT] = XTCPD_KEYS_END,
};

static const struct {
	const char *name, *labels, *help;
	enum xtcpd_metric_type type;
} cls_metric_defs[CLS_M_COUNT] = {
	[CLS_M_RECORDS] = { "closed_received_total", NULL, "destroyed-socket messages received", XTCPD_METRIC_COUNTER },
	[CLS_M_EMITTED] = { "closed_emitted_total", NULL, "closed-socket records emitted", XTCPD_METRIC_COUNTER },
	[CLS_M_FILTERED] = { "closed_filtered_total", NULL, "messages left out by the filter keys", XTCPD_METRIC_COUNTER },
	[CLS_M_DATAGRAMS] = { "closed_datagrams_total", NULL, "datagrams received", XTCPD_METRIC_COUNTER },
	[CLS_M_BYTES] = { "closed_bytes_total", NULL, "bytes received", XTCPD_METRIC_COUNTER },
	[CLS_M_DROPPED] = { "closed_dropped_total", "reason=\"enobufs\"", "destroyed sockets the kernel could not queue (receive buffer full), from the socket's own drop counter", XTCPD_METRIC_COUNTER },
	[CLS_M_OVERFLOWS] = { "closed_overflows_total", NULL, "ENOBUFS reported by a socket (each: one or more drops)", XTCPD_METRIC_COUNTER },
	[CLS_M_ERR_SENDER] = { "closed_errors_total", "reason=\"sender\"", "errors", XTCPD_METRIC_COUNTER },
	[CLS_M_ERR_MSG] = { "closed_errors_total", "reason=\"bad_message\"", "errors", XTCPD_METRIC_COUNTER },
	[CLS_M_ERR_RECV] = { "closed_errors_total", "reason=\"recv\"", "errors", XTCPD_METRIC_COUNTER },
	[CLS_M_ERR_TRUNC] = { "closed_errors_total", "reason=\"truncated\"", "errors", XTCPD_METRIC_COUNTER },
	[CLS_M_ERR_DROPCOUNT] = { "closed_errors_total", "reason=\"drop_counter\"", "errors", XTCPD_METRIC_COUNTER },
	[CLS_M_NAMESPACES] = { "closed_namespaces", NULL, "namespaces whose destroy groups are joined", XTCPD_METRIC_GAUGE },
	[CLS_M_BUFFER] = { "closed_socket_buffer_bytes", NULL, "receive buffer the kernel granted the last socket opened", XTCPD_METRIC_GAUGE },
};

static int cls_families(const char *list, uint32_t *groups)
{
	*groups = 0;
	if (strstr(list, "ipv4"))
		*groups |= 1u << (SKNLGRP_INET_TCP_DESTROY - 1);
	if (strstr(list, "ipv6"))
		*groups |= 1u << (SKNLGRP_INET6_TCP_DESTROY - 1);
	return *groups ? 0 : -EINVAL;
}

/* Everything create() could refuse, without side effects (the check op); fills f. */
static int cls_parse(const struct xtcpd_config *cfg, struct clf *f, uint32_t *groups,
		     struct xtcpd_check *res)
{
	const struct xtcpd_value *v = cfg->values;
	char err[200];

	if (cfg->n_values < K_COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_COUNT);
	if (cls_families(v[K_FAMILIES].str ? v[K_FAMILIES].str : "", groups))
		return XTCPD_CHECK_FAIL(res, cls_keys[K_FAMILIES].name, "name ipv4, ipv6 or both");
	if (nlr_states(v[K_STATES].str, &f->states) < 0)
		return XTCPD_CHECK_FAIL(res, cls_keys[K_STATES].name, "no state, or an unknown one, in '%s'",
					v[K_STATES].str);
	if (clf_ports_parse(v[K_SPORT].str, &f->sport, err, sizeof(err)))
		return XTCPD_CHECK_FAIL(res, cls_keys[K_SPORT].name, "%s", err);
	if (clf_ports_parse(v[K_DPORT].str, &f->dport, err, sizeof(err)))
		return XTCPD_CHECK_FAIL(res, cls_keys[K_DPORT].name, "%s", err);
	if (clf_addrs_parse(v[K_SRC].str, &f->src, err, sizeof(err)))
		return XTCPD_CHECK_FAIL(res, cls_keys[K_SRC].name, "%s", err);
	if (clf_addrs_parse(v[K_DST].str, &f->dst, err, sizeof(err)))
		return XTCPD_CHECK_FAIL(res, cls_keys[K_DST].name, "%s", err);
	return 0;
}

static int cls_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct clf f;
	uint32_t groups;

	return cls_parse(cfg, &f, &groups, res);
}

static int cls_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	struct cls *s = calloc(1, sizeof(*s));
	char msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };

	*inst = s;
	if (!s)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
	s->epfd = s->stopfd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (!XTCPD_HOST_HAS(host, emit_ns) || host->abi_minor < 5) {
		host->log(ctx, XTCPD_LOG_ERR, "needs a daemon with plugin ABI 1.5 or later "
			  "(continuous sources)");
		return -ENOTSUP;
	}
	for (int i = 0; i < CLS_M_COUNT; i++) {
		s->m[i] = host->metric(ctx, cls_metric_defs[i].type, cls_metric_defs[i].name,
				       cls_metric_defs[i].labels, cls_metric_defs[i].help);
		if (!s->m[i])
			s->m[i] = &s->m_dummy;
	}
	if (cls_parse(cfg, &s->filter, &s->groups, &res)) {
		host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "", msg);
		return -EINVAL;
	}
	s->readers = (unsigned)cfg->values[K_READERS].num;
	s->sock_buffer = (size_t)cfg->values[K_BUFFER].num;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	return s->epfd < 0 ? -errno : 0;
}

static int cls_start(void *inst)
{
	struct cls *s = inst;
	int err = cls_readers_start(s);

	if (err)
		s->host->log(s->ctx, XTCPD_LOG_ERR, "cannot start reader threads: %s", strerror(-err));
	return err;
}

static void cls_stop(void *inst)
{
	struct cls *s = inst;

	if (s && s->n_threads)
		cls_readers_stop(s);
}

static void cls_destroy(void *inst)
{
	struct cls *s = inst;

	if (!s)
		return;
	if (s->n_threads)
		cls_readers_stop(s);
	cls_grave_reap(s, 1);
	if (s->epfd >= 0)
		close(s->epfd);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static unsigned cls_lanes(void *inst)
{
	return ((struct cls *)inst)->readers;
}

/* The receive buffer: forced past net.core.rmem_max when we hold CAP_NET_ADMIN, else as
 * much as rmem_max allows; the gauge says what the kernel granted (it doubles it). */
static void cls_buffer(struct cls *s, struct xtcpd_netns *ns, int fd)
{
	int want = s->sock_buffer > (size_t)(1 << 30) ? 1 << 30 : (int)s->sock_buffer, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		s->host->log_ratelimited(s->ctx, cls_buffer, 60000, XTCPD_LOG_WARN,
			"namespace %s: SO_RCVBUFFORCE refused (%s): the buffer is capped by "
			"net.core.rmem_max", ns->name, strerror(errno));
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
		atomic_store(s->m[CLS_M_BUFFER], (uint64_t)got);
}

/* Join the destroy groups (needs CAP_NET_ADMIN over the namespace's owner). */
static int cls_join(struct cls *s, int fd)
{
	for (int g = 1; g <= 32; g++)
		if ((s->groups & (1u << (g - 1))) &&
		    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
			return -errno;
	return 0;
}

static int cls_ns_add(void *inst, struct xtcpd_netns *ns)
{
	struct cls *s = inst;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct epoll_event ev;
	struct cls_ns *n;
	int fd, err;

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
	*n = (struct cls_ns){ .src = s, .ns = ns, .fd = fd };
	cls_buffer(s, ns, fd);
	/* Bound, then connected to the kernel: no process can send to it. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail_errno;
	if ((err = cls_join(s, fd))) {
		s->host->log(s->ctx, XTCPD_LOG_WARN, "namespace %s: cannot join the TCP destroy "
			     "groups: %s", ns->name, strerror(-err));
		goto fail;
	}
	cls_count_drops(s, n); /* start from the socket's counter */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = n;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail_errno;
	ns->source_priv = n;
	CLS_ADD(s, CLS_M_NAMESPACES, 1);
	return 0;
fail_errno:
	err = -errno;
fail:
	close(fd);
	free(n);
	return err;
}

static void cls_ns_del(void *inst, struct xtcpd_netns *ns)
{
	struct cls *s = inst;
	struct cls_ns *n = ns->source_priv;

	if (!n)
		return;
	/* A reader may hold n from an epoll_wait that returned before the DEL: mark it dead
	 * (readers look under the lock), wait for the one draining it, close now (that
	 * releases the namespace) and free n once every reader has looped again. */
	pthread_mutex_lock(&s->lock);
	n->dead = 1;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, n->fd, NULL);
	while (n->users > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	/* What is still queued is emitted while the pipeline runs (the readers do); a stopped
	 * source's lanes may be gone. */
	if (s->n_threads)
		cls_drain_last(s, n);
	else
		cls_count_drops(s, n);
	s->host->log(s->ctx, XTCPD_LOG_INFO, "namespace %s left: %llu closed sockets received, "
		     "%llu lost (receive buffer full)", ns->name, (unsigned long long)n->received,
		     (unsigned long long)n->dropped);
	close(n->fd);
	n->fd = -1;
	n->ns = NULL;
	ns->source_priv = NULL;
	atomic_fetch_sub(s->m[CLS_M_NAMESPACES], 1);
	n->snap = calloc(s->n_threads ? s->n_threads : 1, sizeof(*n->snap));
	for (unsigned i = 0; n->snap && i < s->n_threads; i++)
		n->snap[i] = atomic_load(&s->loops[i]);
	n->grave_next = s->grave;
	s->grave = n;
	cls_grave_reap(s, s->n_threads == 0);
}

/* Nothing to collect per cycle: records come as sockets close. Frees dead namespaces. */
static int cls_poll(void *inst, const struct xtcpd_cycle *cyc)
{
	struct cls *s = inst;

	(void)cyc;
	if (s->grave)
		cls_grave_reap(s, 0);
	return 0;
}

static const struct xtcpd_source_ops cls_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_source_ops),
		.create = cls_create,
		.start = cls_start,
		.stop = cls_stop,
		.destroy = cls_destroy,
	},
	.lanes = cls_lanes,
	.ns_add = cls_ns_add,
	.ns_del = cls_ns_del,
	.poll = cls_poll,
	.flags = XTCPD_SOURCE_CONTINUOUS,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SOURCE, "closed", PACKAGE_VERSION,
		     "the last tcp_info of every TCP socket as it closes (sock_diag destroy groups)",
		     cls_keys, &cls_ops, cls_check);
