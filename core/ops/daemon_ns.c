/* daemon_ns — the namespace manager as the main thread runs it: counts what it finds,
 * loses and refuses, hands namespaces to the pipeline, and keeps their number within
 * what the open-files limit has room for (measured on the first namespace opened). The
 * Docker client, which the manager asks, starts and stops with it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ops/daemon_int.h"
#include "ops/httpd.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/tuning.h"
#include "netns/docker.h"
#include "netns/netns.h"
#include "pipeline/pipeline.h"

enum ns_event { NS_OPENED, NS_CLOSED, NS_REFUSED, NS_OPEN_FAILED };

/* add = 0 registers the counter (at 0) without counting. */
static void ns_count_n(enum ns_event ev, unsigned add)
{
	static const struct { const char *name, *help; } defs[] = {
		[NS_OPENED] = { "xtcpd_namespaces_opened_total",
				"Network namespaces found and handed to the sources" },
		[NS_CLOSED] = { "xtcpd_namespaces_closed_total",
				"Network namespaces gone (no mount, no process) and released" },
		[NS_REFUSED] = { "xtcpd_namespaces_refused_total",
				 "Network namespaces a source could not use (retried at the next scan)" },
		[NS_OPEN_FAILED] = { "xtcpd_namespaces_open_failed_total",
				     "Network namespaces (or folders of them) that could not be opened, "
				     "e.g. out of file descriptors (retried at the next scan)" },
	};
	metrics_add(metrics_get(XTCPD_METRIC_COUNTER, defs[ev].name, NULL, defs[ev].help), add);
}

static void ns_count(enum ns_event ev)
{
	ns_count_n(ev, 1);
}

/* File descriptors kept out of the namespaces' reach: the endpoint's connections (up to
 * an eighth of a small limit), sinks, logs, the namespace helpers. */
static unsigned long long fd_reserve(const struct daemon *d)
{
	const char *prom = d->conf->core[CK_PROM_LISTEN].str;
	unsigned long long http = prom && *prom ? HTTPD_MAX_CONNECTIONS : 0;

	return 32 + (http < d->nofile / 8 ? http : d->nofile / 8);
}

/* Once the first namespace (the host's) is open, its cost is known: the budget is what
 * the limit leaves after the reserve and what was open before it. */
static void fd_budget(struct daemon *d, const struct tuning_fd *before, size_t n)
{
	unsigned nopen;
	/* the manager's fd + what the sources opened for it: counted by fd, so a connection
	 * the endpoint opens or closes meanwhile is not taken for the namespace's */
	unsigned added = tuning_fds_new(before, n, &nopen);
	unsigned long long now = nopen, base, room;

	d->fds_per_ns = 1 + (before ? added : 0);
	base = now - d->fds_per_ns;
	room = d->nofile > base + fd_reserve(d) ? d->nofile - base - fd_reserve(d) : 0;
	d->max_ns = room / d->fds_per_ns > 1 ? room / d->fds_per_ns : 1;
}

static int ns_room_cb(void *arg, size_t n)
{
	struct daemon *d = arg;

	return !d->max_ns || n < d->max_ns;
}

static int ns_add_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;
	size_t n = 0;
	struct tuning_fd *before = d->fds_per_ns ? NULL : tuning_fds_list(&n);
	int rc = pipeline_ns_add(d->pl, ns);

	if (!d->fds_per_ns && !rc)
		fd_budget(d, before, n);
	free(before);
	ns_count(rc ? NS_REFUSED : NS_OPENED);
	if (rc)
		log_ratelimited(ns_add_cb, 60000, XTCPD_LOG_WARN, NULL,
				"namespace %s (inode %llu): source cannot use it: %s", ns->name,
				(unsigned long long)ns->inode, log_errstr(rc));
	return rc;
}

static void ns_limited_cb(void *arg, const char *name, uid_t owner, enum netns_limit why)
{
	static const char *const what[] = { [NETNS_LIMIT_TOTAL] = "max_namespaces",
					    [NETNS_LIMIT_PER_OWNER] = "max_namespaces_per_owner" };
	char lab[64];

	snprintf(lab, sizeof(lab), "limit=\"%s\"", what[why]);
	metrics_add(metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_namespaces_limited_total", lab,
				"Namespaces found but left out for a limit, per scan (retried at the next)"), 1);
	log_ratelimited(ns_limited_cb, 60000, XTCPD_LOG_WARN, NULL,
			"namespace %s (owner uid %d) left out: [core] %s reached", name,
			owner == (uid_t)-1 ? -1 : (int)owner, what[why]);
}

static void ns_del_cb(void *arg, struct xtcpd_netns *ns)
{
	struct daemon *d = arg;

	ns_count(NS_CLOSED);
	pipeline_ns_del(d->pl, ns);
}

static void ns_failed_cb(void *arg, const char *what, int err)
{
	struct daemon *d = arg;

	ns_count(NS_OPEN_FAILED);
	log_ratelimited(ns_failed_cb, 10000, XTCPD_LOG_WARN, NULL,
			"namespace %s: cannot open: %s (open files limit %llu, %u per namespace: room "
			"for %llu; raise LimitNOFILE)", what, log_errstr(err), d->nofile, d->fds_per_ns,
			d->max_ns);
}

/* At start-up: what the open-files limit allows, in namespaces (also a metric). */
void daemon_report_budget(struct daemon *d, unsigned long long from)
{
	unsigned long long cap = d->max_ns;

	if (from != d->nofile)
		log_info("open files: soft limit raised from %llu to %llu (the hard limit)", from, d->nofile);
	/* Said when the limit, not max_namespaces, bounds the namespaces polled. */
	log_msg(cap < (unsigned long long)d->conf->core[CK_MAX_NAMESPACES].num ? XTCPD_LOG_INFO
									      : XTCPD_LOG_DEBUG,
	       "open files: limit %llu, %llu kept for the endpoint and sinks, %u per namespace: "
	       "room for %llu namespaces (%zu now)", d->nofile, fd_reserve(d), d->fds_per_ns, cap,
	       d->ns ? netns_mgr_count(d->ns) : 0);
	metrics_set(metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_namespaces_capacity", NULL,
				"Network namespaces the open-files limit has room for (after a reserve for "
				"the endpoint and sinks), at the file descriptors each costs"), cap);
}

void daemon_ns_refused(void *arg, struct xtcpd_netns *ns, int rc)
{
	ns_count(NS_REFUSED);
	log_ratelimited(ns_add_cb, 60000, XTCPD_LOG_WARN, NULL,
			"namespace %s (inode %llu): source cannot use it: %s", ns->name,
			(unsigned long long)ns->inode, log_errstr(rc));
}

static void netns_conf_of(const struct conf *c, struct netns_conf *nc)
{
	*nc = (struct netns_conf){
		.host_only = c->core[CK_NETNS].num == 1 || daemon_no_setns,
		.dirs = c->core[CK_NETNS_DIRS].str,
		.proc_scan = (int)c->core[CK_NETNS_PROC_SCAN].num,
		.reconcile_ms = c->core[CK_RECONCILE_INTERVAL].num,
		.max_namespaces = (size_t)c->core[CK_MAX_NAMESPACES].num,
		.max_per_owner = (size_t)c->core[CK_MAX_NAMESPACES_PER_OWNER].num,
		.enrich_container = c->core[CK_ENRICH_CONTAINER].num || c->core[CK_ENRICH_DOCKER].num,
		.enrich_root = c->core[CK_ENRICH_ROOT].str,
	};
}

/* The namespace manager and what it owns besides: the Docker client. */
void daemon_ns_stop(struct daemon *d)
{
	netns_mgr_destroy(d->ns);
	d->ns = NULL;
	docker_destroy(d->docker);
	d->docker = NULL;
}

int daemon_ns_start(struct daemon *d)
{
	struct netns_ops nops = { .arg = d, .add = ns_add_cb, .del = ns_del_cb, .fail = ns_failed_cb,
				  .room = ns_room_cb, .limited = ns_limited_cb };
	struct netns_conf nc;
	int rc;

	netns_conf_of(d->conf, &nc);
	if (d->conf->core[CK_ENRICH_DOCKER].num && !d->docker) {
		/* Not fatal: records go out without names, the client's metrics say why. */
		rc = docker_create(d->conf->core[CK_DOCKER_SOCKET].str,
				   d->conf->core[CK_DOCKER_TIMEOUT].num, &d->docker);
		if (rc && rc != -ENOENT) /* -ENOENT: no libcurl, docker_create said so */
			log_warn("enrich_docker: no Docker client: %s", log_errstr(rc));
	}
	nc.docker = d->docker;
	for (enum ns_event ev = NS_OPENED; ev <= NS_OPEN_FAILED; ev++)
		ns_count_n(ev, 0);
	if ((rc = netns_mgr_create(&nc, &nops, &d->ns))) {
		log_ratelimited(daemon_ns_start, 60000, XTCPD_LOG_ERR, NULL, "namespace manager: %s",
				log_errstr(rc));
		daemon_ns_stop(d);
		return rc;
	}
	netns_mgr_reconcile(d->ns); /* a namespace that fails is counted and retried */
	d->m_left_out = metrics_get(XTCPD_METRIC_GAUGE, "xtcpd_namespaces_left_out", NULL,
				    "Namespaces the last scan found but left out for max_namespaces "
				    "or max_namespaces_per_owner");
	metrics_set(d->m_left_out, netns_mgr_limited(d->ns));
	return 0;
}

int daemon_ns_changed(const struct conf *a, const struct conf *b)
{
	struct netns_conf x, y;

	netns_conf_of(a, &x);
	netns_conf_of(b, &y);
	if (x.enrich_container != y.enrich_container ||
	    strcmp(x.enrich_root ? x.enrich_root : "", y.enrich_root ? y.enrich_root : "") ||
	    a->core[CK_ENRICH_DOCKER].num != b->core[CK_ENRICH_DOCKER].num ||
	    a->core[CK_DOCKER_TIMEOUT].num != b->core[CK_DOCKER_TIMEOUT].num ||
	    strcmp(a->core[CK_DOCKER_SOCKET].str, b->core[CK_DOCKER_SOCKET].str))
		return 1;
	return x.host_only != y.host_only || x.proc_scan != y.proc_scan ||
	       x.reconcile_ms != y.reconcile_ms ||
	       x.max_namespaces != y.max_namespaces || x.max_per_owner != y.max_per_owner || strcmp(x.dirs ? x.dirs : "", y.dirs ? y.dirs : "");
}
