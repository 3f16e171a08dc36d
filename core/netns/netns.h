/* netns — the network namespace manager: discovers namespaces, keeps one fd per
 * namespace, tells the source when one appears or goes, and opens sockets inside a
 * namespace from a helper thread (so no long-lived thread ever changes namespace). */
#ifndef XTCPD_NETNS_H
#define XTCPD_NETNS_H

#include <stdint.h>
#include <sys/types.h>
#include <xtcpd/plugin.h>

struct netns_conf {
	int host_only;              /* 1: only the daemon's own namespace */
	const char *dirs;           /* bind-mount folders, ':'-separated ("/run/netns:/run/docker/netns") */
	int proc_scan;              /* also scan /proc/<pid>/ns/net */
	int64_t reconcile_ms;       /* full rescan period */
	size_t max_namespaces;      /* most namespaces kept, the host's included (0 = no limit) */
	size_t max_per_owner;       /* most kept per owner of their user namespace, root's
	                             * (owner uid 0) not counted (0 = no limit) */
	int enrich_container;       /* resolve each namespace's container and pod (ident.c) */
	const char *enrich_root;    /* tests: prefix of /proc, /sys/fs/cgroup, /var/log/pods
	                             * when reading them ("" or NULL = none) */
	struct docker *docker;      /* names and images of Docker containers, or NULL */
};

enum netns_limit { NETNS_LIMIT_TOTAL, NETNS_LIMIT_PER_OWNER };

struct netns_ops {
	void *arg;
	int (*add)(void *arg, struct xtcpd_netns *ns);   /* a namespace appeared */
	void (*del)(void *arg, struct xtcpd_netns *ns);  /* it is gone: release it now */
	/* A namespace found but not kept, at this scan, for a limit (owner: the uid owning its
	 * user namespace, (uid_t)-1 if unknown). NULL = not told. */
	void (*limited)(void *arg, const char *name, uid_t owner, enum netns_limit why);
	/* A namespace (or a folder of them) that exists could not be opened (out of file
	 * descriptors...): it is missed until a later scan succeeds. May be NULL. */
	void (*fail)(void *arg, const char *what, int err);
	/* 1 when one more namespace fits beside the n held (the file-descriptor budget);
	 * 0: it is not opened, reported through fail as -EMFILE. May be NULL. */
	int (*room)(void *arg, size_t n);
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
/* Namespaces the last scan found but did not keep because of a limit. */
size_t netns_mgr_limited(const struct netns_mgr *m);

struct netns_ident;
/* What the last scan resolved of ns's container and pod (NULL: nothing, or enrichment
 * off). ns must be one the manager lent. Readable from any thread: a published identity
 * is never changed, and one replaced stays valid until the next replacement. */
const struct netns_ident *netns_ident_of(const struct xtcpd_netns *ns);

/* The enrichment generation (host->enrich_generation, ABI 1.7): moved forward before any
 * text a record may point at (an identity, an uplink set) is freed, so a marshaller that
 * caches by address knows when an address may come back with other text. */
uint64_t enrich_generation(void);
void enrich_retire(void);

/* socket(domain, type, protocol) inside ns; returns the fd or -errno. Thread-safe. */
int netns_socket(const struct xtcpd_netns *ns, int domain, int type, int protocol);

/* fn(arg) run inside ns by the one long-lived helper thread (netns_run.c); returns what fn
 * returned, or -errno when ns could not be entered. For the host namespace fn runs in the
 * caller. Callers are served one at a time. Thread-safe. */
int netns_run(const struct xtcpd_netns *ns, int (*fn)(void *arg), void *arg);
/* Tests: replace setns() in the helper (NULL restores it). */
void netns_run_inject_setns(int (*fn)(int fd, int nstype));

#endif
