/* netns — the network namespace manager: discovers namespaces, keeps one fd per
 * namespace, tells the source when one appears or goes, and opens sockets inside a
 * namespace from a helper thread (so no long-lived thread ever changes namespace). */
#ifndef XTCPD_NETNS_H
#define XTCPD_NETNS_H

#include <stdint.h>
#include <xtcpd/plugin.h>

struct netns_conf {
	int host_only;              /* 1: only the daemon's own namespace */
	const char *dirs;           /* bind-mount folders, ':'-separated ("/run/netns:/run/docker/netns") */
	int proc_scan;              /* also scan /proc/<pid>/ns/net */
	int64_t reconcile_ms;       /* full rescan period */
};

struct netns_ops {
	void *arg;
	int (*add)(void *arg, struct xtcpd_netns *ns);   /* a namespace appeared */
	void (*del)(void *arg, struct xtcpd_netns *ns);  /* it is gone: release it now */
};

struct netns_mgr;

int netns_mgr_create(const struct netns_conf *conf, const struct netns_ops *ops,
		     struct netns_mgr **out);
void netns_mgr_destroy(struct netns_mgr *m);            /* calls del for every namespace */
/* Rescan now (main thread, between cycles); add/del are called from here. */
int netns_mgr_reconcile(struct netns_mgr *m);
/* Cheap check for inotify events; rescans only when something changed or when the
 * reconcile interval has passed. */
int netns_mgr_tick(struct netns_mgr *m, int64_t now_mono_ms);
/* The namespaces to poll, valid until the next reconcile/tick. */
size_t netns_mgr_list(struct netns_mgr *m, struct xtcpd_netns *const **list);
size_t netns_mgr_count(const struct netns_mgr *m);

/* socket(domain, type, protocol) inside ns; returns the fd or -errno. Thread-safe. */
int netns_socket(const struct xtcpd_netns *ns, int domain, int type, int protocol);

#endif
