/* netns_run — run a callback inside a network namespace. Objects that bind to the
 * creating thread's namespace (BPF iterators, sockets, /proc/thread-self/net files) may
 * be needed per namespace per cycle: one long-lived helper thread enters the namespace
 * with setns, calls back, and returns home, so there is no thread per namespace or per
 * call, and no allocation after the first call. A helper that cannot return home exits
 * (it is never reused in a foreign namespace) and the next call starts a fresh one. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include "netns/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "ops/threads.h"

struct netns_run_job {
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int rc;
};

static pthread_mutex_t netns_run_callers = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t netns_run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t netns_run_cond = PTHREAD_COND_INITIALIZER;
static struct netns_run_job *netns_run_job;  /* handed to the helper, NULL when taken */
static int netns_run_done;                    /* the helper finished the job */
static int netns_run_alive;                   /* a helper thread is waiting for jobs */
static int (*netns_run_setns)(int fd, int nstype) = setns;

void netns_run_inject_setns(int (*fn)(int fd, int nstype))
{
	netns_run_setns = fn ? fn : setns;
}

static void netns_run_finish(struct netns_run_job *j, int rc, int alive)
{
	pthread_mutex_lock(&netns_run_lock);
	j->rc = rc;
	netns_run_done = 1;
	netns_run_alive = alive;
	pthread_cond_broadcast(&netns_run_cond);
	pthread_mutex_unlock(&netns_run_lock);
}

static void *netns_run_thread(void *arg)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	(void)arg;
	threads_name_self("netns-run"); /* idle between jobs: blocked, no timeout */
	for (;;) {
		struct netns_run_job *j;
		int rc;

		pthread_mutex_lock(&netns_run_lock);
		while (!netns_run_job)
			pthread_cond_wait(&netns_run_cond, &netns_run_lock);
		j = netns_run_job;
		netns_run_job = NULL;
		pthread_mutex_unlock(&netns_run_lock);
		if (home < 0) {
			netns_run_finish(j, -EBADF, 0);
			break;
		}
		if (netns_run_setns(j->nsfd, CLONE_NEWNET) < 0) {
			netns_run_finish(j, -errno, 1);
			continue;
		}
		rc = j->fn(j->arg);
		if (netns_run_setns(home, CLONE_NEWNET) < 0) {
			/* Stuck in a foreign namespace: never run another job here. */
			netns_run_finish(j, rc, 0);
			break;
		}
		netns_run_finish(j, rc, 1);
	}
	if (home >= 0)
		close(home);
	return NULL;
}

int netns_run(const struct xtcpd_netns *ns, int (*fn)(void *arg), void *arg)
{
	struct netns_run_job j = { ns->fd, fn, arg, -EIO };
	int err = 0;

	if (ns->is_host)
		return fn(arg);
	pthread_mutex_lock(&netns_run_callers);
	pthread_mutex_lock(&netns_run_lock);
	if (!netns_run_alive) {
		pthread_attr_t a;
		pthread_t t;

		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&t, &a, netns_run_thread, NULL);
		pthread_attr_destroy(&a);
		if (!err)
			netns_run_alive = 1;
	}
	if (!err) {
		netns_run_done = 0;
		netns_run_job = &j;
		pthread_cond_broadcast(&netns_run_cond);
		while (!netns_run_done)
			pthread_cond_wait(&netns_run_cond, &netns_run_lock);
	}
	pthread_mutex_unlock(&netns_run_lock);
	pthread_mutex_unlock(&netns_run_callers);
	return err ? -err : j.rc;
}
