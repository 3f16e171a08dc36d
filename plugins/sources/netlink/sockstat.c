/* sockstat — is a namespace worth a dump? The kernel's TCP tables are host-wide, so an
 * empty namespace's dump still costs a walk of every host socket; its sockstat counters
 * (per namespace) answer for the price of one small read. The files are opened from a
 * short-lived thread that enters the namespace: /proc/thread-self/net is the opener's
 * namespace, and the open file stays bound to it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include "nlsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nls_ss_job {
	int nsfd;
	int fd4, fd6, err;
};

static void *nls_ss_thread(void *arg)
{
	struct nls_ss_job *j = arg;

	pthread_setname_np(pthread_self(), "nl-sockstat");
	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->err = -errno;
		return NULL;
	}
	j->fd4 = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	j->fd6 = open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
	if (j->fd4 < 0)
		j->err = -errno;
	return NULL;
}

int nls_sockstat_open(struct nls_ns *n)
{
	struct nls_ss_job j = { .nsfd = n->ns->fd, .fd4 = -1, .fd6 = -1 };
	pthread_t t;
	int err;

	n->ss4 = n->ss6 = -1;
	if (n->ns->is_host) {
		/* Our own namespace: no thread needed. */
		n->ss4 = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
		n->ss6 = open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
		return n->ss4 < 0 ? -errno : 0;
	}
	err = pthread_create(&t, NULL, nls_ss_thread, &j);
	if (err)
		return -err;
	pthread_join(t, NULL);
	n->ss4 = j.fd4;
	n->ss6 = j.fd6;
	return j.err;
}

void nls_sockstat_close(struct nls_ns *n)
{
	if (n->ss4 >= 0)
		close(n->ss4);
	if (n->ss6 >= 0)
		close(n->ss6);
	n->ss4 = n->ss6 = -1;
}

/* Sum of the numbers after each `key` on the line starting with `line`. */
static long nls_ss_field(const char *text, const char *line, const char *key)
{
	const char *p = strstr(text, line);
	const char *eol, *k;

	if (!p)
		return -1;
	eol = strchr(p, '\n');
	k = strstr(p, key);
	if (!k || (eol && k > eol))
		return -1;
	return strtol(k + strlen(key), NULL, 10);
}

static long nls_ss_read(int fd, char *buf, size_t cap)
{
	ssize_t r = pread(fd, buf, cap - 1, 0);

	if (r < 0)
		return -errno;
	buf[r] = '\0';
	return r;
}

int nls_sockstat_has_tcp(struct nls_ns *n)
{
	char buf[512];
	long inuse, tw, inuse6 = 0;

	if (n->ss4 < 0 || nls_ss_read(n->ss4, buf, sizeof(buf)) < 0)
		return 1;
	inuse = nls_ss_field(buf, "TCP:", " inuse ");
	tw = nls_ss_field(buf, "TCP:", " tw ");
	if (inuse < 0 || tw < 0)
		return 1;
	if (n->ss6 >= 0 && nls_ss_read(n->ss6, buf, sizeof(buf)) > 0)
		inuse6 = nls_ss_field(buf, "TCP6:", " inuse ");
	if (inuse6 < 0)
		return 1;
	return inuse + tw + inuse6 > 0;
}
