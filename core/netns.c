/* netns — minimal namespace manager: the daemon's own namespace only. The full manager
 * (bind mounts, /proc scan, inotify) replaces this file. */
#include "config.h"
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct netns_mgr {
	struct netns_ops ops;
	struct xtcpd_netns host;
	struct xtcpd_netns *list[1];
	size_t n;
};

int netns_mgr_create(const struct netns_conf *conf, const struct netns_ops *ops,
		     struct netns_mgr **out)
{
	struct netns_mgr *m = calloc(1, sizeof(*m));
	struct stat st;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->ops = *ops;
	m->host.fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (m->host.fd < 0 || fstat(m->host.fd, &st)) {
		int rc = -errno;
		if (m->host.fd >= 0)
			close(m->host.fd);
		free(m);
		return rc;
	}
	m->host.inode = st.st_ino;
	m->host.name = "host";
	m->host.is_host = 1;
	*out = m;
	return 0;
}

void netns_mgr_destroy(struct netns_mgr *m)
{
	if (!m)
		return;
	if (m->n && m->ops.del)
		m->ops.del(m->ops.arg, &m->host);
	close(m->host.fd);
	free(m);
}

int netns_mgr_reconcile(struct netns_mgr *m)
{
	if (!m->n) {
		int rc = m->ops.add ? m->ops.add(m->ops.arg, &m->host) : 0;
		if (rc)
			return rc;
		m->list[0] = &m->host;
		m->n = 1;
	}
	return 0;
}

int netns_mgr_tick(struct netns_mgr *m, int64_t now_mono_ms)
{
	return netns_mgr_reconcile(m);
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

int netns_socket(const struct xtcpd_netns *ns, int domain, int type, int protocol)
{
	int fd;

	if (!ns->is_host)
		return -EOPNOTSUPP;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	return fd < 0 ? -errno : fd;
}
