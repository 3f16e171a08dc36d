/* sockstat — is a namespace worth a dump? The kernel's TCP tables are host-wide, so an
 * empty namespace's dump still costs a walk of every host socket; its sockstat counters
 * (per namespace) answer for the price of one small read. nlss_* is shared with the
 * bpf_iter source (sockstat.h); nls_sockstat_open opens the files from a short-lived thread
 * that enters the namespace: /proc/thread-self/net is the opener's namespace, and the
 * open file stays bound to it. */
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

int nlss_open_here(struct nlss *ss)
{
	ss->fd4 = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	if (ss->fd4 < 0)
		return -errno;
	ss->fd6 = open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
	return 0;
}

void nlss_close(struct nlss *ss)
{
	if (ss->fd4 >= 0)
		close(ss->fd4);
	if (ss->fd6 >= 0)
		close(ss->fd6);
	ss->fd4 = ss->fd6 = -1;
}

/* The number after `key` on the line starting with `line`, -1 if absent. */
static long nlss_field(const char *text, const char *line, const char *key)
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

/* `inuse` (+ `tw` when tw) of the line starting with `line`; -1 when unreadable. */
static long nlss_count(int fd, const char *line, int tw)
{
	char buf[512];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	long inuse, t = 0;

	if (r <= 0)
		return -1;
	buf[r] = '\0';
	inuse = nlss_field(buf, line, " inuse ");
	if (tw)
		t = nlss_field(buf, line, " tw ");
	return inuse < 0 || t < 0 ? -1 : inuse + t;
}

int nlss_has_tcp(const struct nlss *ss)
{
	long v4, v6 = 0;

	/* TCP6 has no tw count: time-wait sockets of both families are in TCP's */
	if (ss->fd4 < 0 || (v4 = nlss_count(ss->fd4, "TCP:", 1)) < 0)
		return 1; /* cannot tell: walk it */
	if (ss->fd6 >= 0 && (v6 = nlss_count(ss->fd6, "TCP6:", 0)) < 0)
		return 1;
	return v4 + v6 > 0;
}

struct nls_ss_job {
	int nsfd, err;
	struct nlss ss;
};

static void *nls_ss_thread(void *arg)
{
	struct nls_ss_job *j = arg;

	pthread_setname_np(pthread_self(), "nl-sockstat");
	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->err = -errno;
		return NULL;
	}
	j->err = nlss_open_here(&j->ss);
	return NULL;
}

int nls_sockstat_open(struct nls_ns *n)
{
	struct nls_ss_job j = { .nsfd = n->ns->fd, .ss = NLSS_INIT };
	pthread_t t;
	int err;

	n->ss = (struct nlss)NLSS_INIT;
	if (n->ns->is_host)
		return nlss_open_here(&n->ss); /* our own namespace: no thread needed */
	err = pthread_create(&t, NULL, nls_ss_thread, &j);
	if (err)
		return -err;
	pthread_join(t, NULL);
	n->ss = j.ss;
	return j.err;
}
