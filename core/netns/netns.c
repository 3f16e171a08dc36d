/* netns — the network namespace manager. It finds namespaces through their bind mounts
 * (/run/netns, /run/docker/netns; inotify tells when those change) and through
 * /proc/<pid>/ns/net, keeps one fd per namespace (deduplicated by nsfs inode) and
 * drops it, with its del callback, as soon as a scan no longer finds any mount or
 * process holding it: our fd and the source's socket must not keep a dead namespace
 * alive. Sockets are opened inside a namespace by a short-lived helper thread. How many
 * are kept is bounded, in all and per user owning them (any user can make namespaces). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include "netns/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>

#include "netns/netns_int.h"

static int64_t netns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sockets inside a namespace ------------------------------------------------------ */

struct netns_sock_job {
	int nsfd, domain, type, protocol;
	int result;
};

static void *netns_sock_thread(void *arg)
{
	struct netns_sock_job *j = arg;

	pthread_setname_np(pthread_self(), "netns-helper");
	/* This thread exits right after: the namespace change dies with it. */
	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->result = -errno;
		return NULL;
	}
	j->result = socket(j->domain, j->type, j->protocol);
	if (j->result < 0)
		j->result = -errno;
	return NULL;
}

int netns_socket(const struct xtcpd_netns *ns, int domain, int type, int protocol)
{
	struct netns_sock_job j = { ns->fd, domain, type, protocol, -EIO };
	pthread_t t;
	int err, fd;

	if (ns->is_host) {
		fd = socket(domain, type, protocol);
		return fd < 0 ? -errno : fd;
	}
	err = pthread_create(&t, NULL, netns_sock_thread, &j);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return j.result;
}

/* An fd opened through a bind mount pins that mount (umount gets EBUSY): swap it for
 * one of the namespace's own nsfs file, opened from inside it. */
struct netns_rehome_job {
	int fd, result;
};

static void *netns_rehome_thread(void *arg)
{
	struct netns_rehome_job *j = arg;

	pthread_setname_np(pthread_self(), "netns-helper");
	if (setns(j->fd, CLONE_NEWNET) < 0) {
		j->result = -errno;
		return NULL;
	}
	j->result = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (j->result < 0)
		j->result = -errno;
	return NULL;
}

static int netns_rehome(int fd)
{
	struct netns_rehome_job j = { fd, -EIO };
	pthread_t t;
	int err = pthread_create(&t, NULL, netns_rehome_thread, &j);

	if (err)
		return -err;
	pthread_join(t, NULL);
	return j.result;
}

/* ---- nsid ------------------------------------------------------------------------------ */

/* The id the host namespace gives ns (RTM_GETNSID); 0 when none is assigned. */
static uint32_t netns_nsid(int nsfd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct nlattr a;
		uint32_t fd;
	} req;
	union {
		struct nlmsghdr nh;
		char buf[512];
	} ans;
	struct timeval tv = { 1, 0 };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t r;
	int32_t nsid = -1;

	if (s < 0)
		return 0;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETNSID;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.g.rtgen_family = AF_UNSPEC;
	req.a.nla_len = NLA_HDRLEN + sizeof(uint32_t);
	req.a.nla_type = NETNSA_FD;
	req.fd = (uint32_t)nsfd;
	if (send(s, &req, sizeof(req), 0) < 0)
		goto out;
	r = recv(s, &ans, sizeof(ans), 0);
	if (r < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(&ans.nh, (size_t)r) ||
	    ans.nh.nlmsg_type != RTM_NEWNSID)
		goto out;
	{
		size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtgenmsg));

		while (off + NLA_HDRLEN <= ans.nh.nlmsg_len) {
			struct nlattr *a = (struct nlattr *)(ans.buf + off);

			if (a->nla_len < NLA_HDRLEN || off + a->nla_len > ans.nh.nlmsg_len)
				break;
			if ((a->nla_type & NLA_TYPE_MASK) == NETNSA_NSID &&
			    a->nla_len >= NLA_HDRLEN + sizeof(int32_t))
				memcpy(&nsid, ans.buf + off + NLA_HDRLEN, sizeof(nsid));
			off += NLA_ALIGN(a->nla_len);
		}
	}
out:
	close(s);
	return nsid < 0 ? 0 : (uint32_t)nsid;
}

/* ---- the set of namespaces ------------------------------------------------------------- */

/* Something that exists could not be opened: say so (gone in the meantime is no news). */
static void netns_failed(struct netns_mgr *m, const char *what, int err)
{
	if (err != -ENOENT && err != -ESRCH && m->ops.fail)
		m->ops.fail(m->ops.arg, what, err);
}

static struct netns_ent *netns_find(struct netns_mgr *m, uint64_t inode)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->ents[i]->ns.inode == inode)
			return m->ents[i];
	return NULL;
}

static void netns_ent_free(struct netns_ent *e)
{
	if (e->ns.fd >= 0)
		close(e->ns.fd);
	netns_enrich_free(e);
	free(e);
}

/* The uid owning the user namespace that owns the network namespace open at fd: whoever
 * made it (unshare -rn by a user gives that user's uid). (uid_t)-1 when unknown. */
static uid_t netns_owner(int fd)
{
	int userns = ioctl(fd, NS_GET_USERNS);
	uid_t uid = (uid_t)-1;

	if (userns < 0)
		return uid;
	if (ioctl(userns, NS_GET_OWNER_UID, &uid) < 0)
		uid = (uid_t)-1;
	close(userns);
	return uid;
}

static size_t netns_owned_by(const struct netns_mgr *m, uid_t owner)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += m->ents[i]->owner == owner;
	return n;
}

/* Every namespace costs fds and a dump per cycle, and any user can make them (unshare
 * -rn): past max_namespaces, or past max_per_owner for one user, a new one is left out
 * (told, retried at the next scan). 1 when it is left out. */
static int netns_over_limit(struct netns_mgr *m, const char *name, uid_t owner)
{
	enum netns_limit why;

	if (m->conf.max_namespaces && m->n >= m->conf.max_namespaces)
		why = NETNS_LIMIT_TOTAL;
	else if (m->conf.max_per_owner && owner != 0 &&
		 netns_owned_by(m, owner) >= m->conf.max_per_owner)
		why = NETNS_LIMIT_PER_OWNER;
	else
		return 0;
	m->limited_scan++;
	if (m->ops.limited)
		m->ops.limited(m->ops.arg, name, owner, why);
	return 1;
}

/* Found a namespace at path (inode known; pid: the process it was found through, 0 for
 * a bind mount): mark it seen, or open and add it. */
static int netns_found(struct netns_mgr *m, const char *path, uint64_t inode, const char *name,
		       pid_t pid)
{
	struct netns_ent *e = netns_find(m, inode);
	struct stat st;
	int err;

	if (e) {
		e->seen = 1;
		if (!e->pid)
			e->pid = pid;
		return 0;
	}
	if (m->conf.max_namespaces && m->n >= m->conf.max_namespaces)
		return netns_over_limit(m, name, (uid_t)-1), 0;  /* full: not even opened */
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct netns_ent **ents = realloc(m->ents, cap * sizeof(*ents));
		struct xtcpd_netns **list;

		if (!ents)
			return -ENOMEM;
		m->ents = ents;
		list = realloc(m->list, cap * sizeof(*list));
		if (!list)
			return -ENOMEM;
		m->list = list;
		m->cap = cap;
	}
	if (m->ops.room && !m->ops.room(m->ops.arg, m->n)) {
		netns_failed(m, path, -EMFILE);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ns.fd = open(path, O_RDONLY | O_CLOEXEC);
	/* The process may have exited, or the mount moved, since we looked. */
	if (e->ns.fd < 0 || fstat(e->ns.fd, &st) < 0 || (uint64_t)st.st_ino != inode) {
		if (e->ns.fd < 0)
			netns_failed(m, path, -errno);
		netns_ent_free(e);
		return 0;
	}
	e->owner = netns_owner(e->ns.fd);
	if (netns_over_limit(m, name, e->owner)) {
		netns_ent_free(e);
		return 0;
	}
	if (strncmp(path, "/proc/", 6) != 0) {
		int fd = netns_rehome(e->ns.fd);

		close(e->ns.fd);
		e->ns.fd = fd;
		if (fd < 0) {
			netns_failed(m, path, fd);
			netns_ent_free(e);
			return 0;
		}
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ns.name = e->name;
	e->ns.inode = inode;
	e->ns.nsid = netns_nsid(e->ns.fd);
	e->pid = pid;
	e->seen = 1;
	err = m->ops.add ? m->ops.add(m->ops.arg, &e->ns) : 0;
	if (err) {
		/* The source could not take it (say, no socket): retry at the next scan. */
		netns_ent_free(e);
		return 0;
	}
	m->ents[m->n] = e;
	m->list[m->n] = &e->ns;
	m->n++;
	return 0;
}

static int netns_visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

/* Sorted, so a namespace mounted under two names always gets the same one. */
static void netns_scan_dir(struct netns_mgr *m, size_t k)
{
	struct dirent **names;
	int n;

	if (m->wd[k] < 0 && m->ifd >= 0)
		m->wd[k] = inotify_add_watch(m->ifd, m->dirs[k],
			IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR);
	n = scandir(m->dirs[k], &names, netns_visible, alphasort);
	if (n < 0) {
		netns_failed(m, m->dirs[k], -errno);
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", m->dirs[k], names[i]->d_name);
		if (stat(path, &st) == 0) {
			if (st.st_dev == m->nsfs_dev)
				netns_found(m, path, (uint64_t)st.st_ino, names[i]->d_name, 0);
			else if (time(NULL) - st.st_ctime < 5)
				/* `ip netns add` creates the file, then mounts on it: look again
				 * soon. (Not forever: a stale placeholder would rescan every tick.) */
				m->pending = 1;
		}
		free(names[i]);
	}
	free(names);
}

static void netns_scan_proc(struct netns_mgr *m)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d) {
		netns_failed(m, "/proc", -errno);
		return;
	}
	while ((de = readdir(d))) {
		char path[64], name[32];
		struct stat st;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", de->d_name);
		if (stat(path, &st) < 0)
			continue;
		snprintf(name, sizeof(name), "pid:%.20s", de->d_name);
		netns_found(m, path, (uint64_t)st.st_ino, name, (pid_t)atoi(de->d_name));
	}
	closedir(d);
}

int netns_mgr_reconcile(struct netns_mgr *m)
{
	size_t j = 0;

	m->pending = 0;
	m->limited_scan = 0;
	for (size_t i = 0; i < m->n; i++) {
		m->ents[i]->seen = m->ents[i]->ns.is_host;
		if (m->conf.enrich_container && m->conf.proc_scan)
			m->ents[i]->pid = 0;  /* the scan finds a live one (enrichment) */
	}
	if (!m->conf.host_only) {
		for (size_t k = 0; k < m->n_dirs; k++)
			netns_scan_dir(m, k);
		if (m->conf.proc_scan)
			netns_scan_proc(m);
	}
	/* Whatever no mount and no process holds any more: release it now. */
	for (size_t i = 0; i < m->n; i++) {
		struct netns_ent *e = m->ents[i];

		if (!e->seen) {
			if (m->ops.del)
				m->ops.del(m->ops.arg, &e->ns);
			netns_ent_free(e);
			continue;
		}
		m->ents[j] = e;
		m->list[j] = &e->ns;
		j++;
	}
	m->n = j;
	if (m->conf.enrich_container)
		netns_enrich_refresh(m, 1);
	m->limited = m->limited_scan;
	m->last_ms = netns_now_ms();
	return 0;
}

int netns_mgr_tick(struct netns_mgr *m, int64_t now_mono_ms)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = m->pending;

	if (m->ifd >= 0) {
		ssize_t r;

		while ((r = read(m->ifd, buf, sizeof(buf))) > 0) {
			const struct inotify_event *ev;

			changed = 1;
			for (char *p = buf; p < buf + r; p += sizeof(*ev) + ev->len) {
				ev = (const struct inotify_event *)p;
				for (size_t k = 0; k < m->n_dirs; k++)
					if (ev->mask & (IN_DELETE_SELF | IN_IGNORED) && m->wd[k] == ev->wd)
						m->wd[k] = -1;
			}
		}
	}
	if (changed || now_mono_ms - m->last_ms >= m->conf.reconcile_ms)
		return netns_mgr_reconcile(m);
	if (m->conf.enrich_container && netns_enrich_pending(m))
		netns_enrich_refresh(m, 0);  /* Docker answered: names, no rescan */
	return 0;
}

size_t netns_mgr_list(struct netns_mgr *m, struct xtcpd_netns *const **list)
{
	*list = m->list;
	return m->n;
}

size_t netns_mgr_count(const struct netns_mgr *m)
{
	return m->n;
}

size_t netns_mgr_limited(const struct netns_mgr *m)
{
	return m->limited;
}

static int netns_add_host(struct netns_mgr *m)
{
	struct netns_ent *e = calloc(1, sizeof(*e));
	struct stat st;
	int err;

	if (!e)
		return -ENOMEM;
	e->ns.fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->ns.fd < 0 || fstat(e->ns.fd, &st) < 0) {
		err = -errno;
		netns_ent_free(e);
		return err;
	}
	m->nsfs_dev = st.st_dev;
	e->owner = netns_owner(e->ns.fd);
	snprintf(e->name, sizeof(e->name), "host");
	e->ns.name = e->name;
	e->ns.inode = (uint64_t)st.st_ino;
	e->ns.is_host = 1;
	e->seen = 1;
	m->ents = calloc(16, sizeof(*m->ents));
	m->list = calloc(16, sizeof(*m->list));
	if (!m->ents || !m->list) {
		netns_ent_free(e);
		return -ENOMEM;
	}
	m->cap = 16;
	err = m->ops.add ? m->ops.add(m->ops.arg, &e->ns) : 0;
	if (err) {
		netns_ent_free(e);
		return err;
	}
	m->ents[0] = e;
	m->list[0] = &e->ns;
	m->n = 1;
	return 0;
}

int netns_mgr_create(const struct netns_conf *conf, const struct netns_ops *ops,
		     struct netns_mgr **out)
{
	struct netns_mgr *m = calloc(1, sizeof(*m));
	const char *p;
	int err;

	*out = m;
	if (!m)
		return -ENOMEM;
	m->conf = *conf;
	m->conf.dirs = NULL;
	m->conf.enrich_root = NULL;
	if (conf->enrich_root && *conf->enrich_root && !(m->enrich_root = strdup(conf->enrich_root)))
		return -ENOMEM;
	m->ops = *ops;
	m->ifd = -1;
	if (m->conf.reconcile_ms <= 0)
		m->conf.reconcile_ms = 30000;
	for (p = conf->dirs; p && *p && m->n_dirs < NETNS_MAX_DIRS;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n) {
			m->dirs[m->n_dirs] = strndup(p, n);
			if (!m->dirs[m->n_dirs])
				return -ENOMEM;
			m->wd[m->n_dirs++] = -1;
		}
		p += n + (e ? 1 : 0);
	}
	if (!conf->host_only && m->n_dirs) {
		m->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (m->ifd < 0)
			return -errno;
	}
	err = netns_add_host(m);
	if (err)
		return err;
	return netns_mgr_reconcile(m);
}

void netns_mgr_destroy(struct netns_mgr *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		if (m->ops.del)
			m->ops.del(m->ops.arg, &m->ents[i]->ns);
		netns_ent_free(m->ents[i]);
	}
	free(m->ents);
	free(m->list);
	for (size_t k = 0; k < m->n_dirs; k++)
		free(m->dirs[k]);
	free(m->enrich_root);
	if (m->ifd >= 0)
		close(m->ifd);
	free(m);
}
