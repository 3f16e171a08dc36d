/* netns_int — the manager's state, shared by netns.c (scans) and netns_enrich.c (the
 * identity of each namespace: container, pod). Not for other parts of the core. */
#ifndef XTCPD_NETNS_INT_H
#define XTCPD_NETNS_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "netns/netns.h"

#define NETNS_MAX_DIRS 8
#define NETNS_NAME_MAX 64

struct netns_ent {
	struct xtcpd_netns ns;
	char name[NETNS_NAME_MAX];
	uid_t owner;                   /* owner of its user namespace, (uid_t)-1 = unknown */
	int seen;                      /* found by the scan in progress */
	pid_t pid;                     /* a process in it (enrichment), 0 = none known */
	_Atomic(struct netns_ident *) ident; /* published identity, NULL = none */
	struct netns_ident *old;       /* the one it replaced: readers may still hold it */
};

struct netns_mgr {
	struct netns_conf conf;
	struct netns_ops ops;
	char *dirs[NETNS_MAX_DIRS];
	int wd[NETNS_MAX_DIRS];        /* inotify watch per dir, -1 = not watched (yet) */
	size_t n_dirs;
	int ifd;                       /* inotify */
	dev_t nsfs_dev;                /* st_dev of namespace files */
	int64_t last_ms;               /* last full reconcile (CLOCK_MONOTONIC) */
	int pending;                   /* a bind-mount file exists but is not mounted yet */
	size_t limited, limited_scan;  /* not kept for a limit: last scan, scan in progress */
	struct netns_ent **ents;
	struct xtcpd_netns **list;
	size_t n, cap;
	char *enrich_root;             /* conf.enrich_root, owned (NULL = "") */
	unsigned docker_gen;           /* docker answers seen by the last identity refresh */
};

/* netns_enrich.c: after a scan (or when Docker answered), resolve the identity of every
 * namespace kept; free an entry's identities. */
void netns_enrich_refresh(struct netns_mgr *m, int rescan_pids);
void netns_enrich_free(struct netns_ent *e);
/* 1 when the Docker client has answers the last refresh has not seen. */
int netns_enrich_pending(struct netns_mgr *m);

#endif
