/* advice — host tuning advice. A namespace created while net.ipv4.tcp_child_ehash_entries
 * was 0 shares the host-wide TCP hash table (its tcp_ehash_entries reads negative), so
 * each of its sock_diag dumps walks every socket of the host: with many namespaces and
 * many sockets that is most of a cycle. Said once, with the cost measured, never per
 * cycle. */
#include "config.h"
#include "ops/advice.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "ops/threads.h"

#define ADVICE_EHASH "/proc/sys/net/ipv4/tcp_ehash_entries"
#define ADVICE_SOCKSTAT "/proc/net/sockstat"

static struct {
	uint64_t sig;           /* namespace set of the last count */
	int64_t scanned_ms;     /* when it was counted (a churning host is not rescanned
	                         * more than once per interval) */
	size_t shared, total;   /* its count: namespaces sharing the host's table, of total */
	int unsupported;        /* the kernel has no per-namespace tables (< 6.1) */
	int logged;             /* a line was logged for (logged_shared, logged_total) */
	size_t logged_shared, logged_total;
	int64_t logged_ms;
} advice;

int advice_parse_ehash(const char *text, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

int advice_parse_sockstat(const char *text, long *alloc)
{
	const char *line = !strncmp(text, "TCP: ", 5) ? text : strstr(text, "\nTCP: ");
	const char *eol, *p;
	char *end;

	if (!line)
		return -EINVAL;
	line += *line == '\n';
	eol = strchr(line, '\n');
	p = strstr(line, " alloc ");
	if (!p || (eol && p > eol))
		return -EINVAL;
	errno = 0;
	*alloc = strtol(p + 7, &end, 10);
	if (errno || end == p + 7 || *alloc < 0)
		return -EINVAL;
	return 0;
}

/* The first bytes of a /proc file, NUL-terminated; 0 or -errno. */
static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	do
		r = read(fd, buf, n - 1);
	while (r < 0 && errno == EINTR);
	r = r < 0 ? -errno : r;
	close(fd);
	if (r < 0)
		return (int)r;
	buf[r] = '\0';
	return 0;
}

/* 1 if the calling thread's namespace shares the host's table, 0 if it has its own,
 * or -errno. The sysctl shows the namespace of the thread reading it. */
static int read_shared(void)
{
	char buf[32];
	long v;
	int rc = read_small(ADVICE_EHASH, buf, sizeof(buf));

	if (rc)
		return rc;
	if (advice_parse_ehash(buf, &v))
		return -EINVAL;
	return v < 0;
}

struct advice_scan {
	struct xtcpd_netns *const *list;
	size_t n, shared, total;
};

/* A thread of its own walks the namespaces with setns and then ends, wherever it is:
 * no thread stays behind for a check made once per change, none has to come home. */
static void *scan_thread(void *arg)
{
	struct advice_scan *sc = arg;

	threads_name_self("ns-advice");
	for (size_t i = 0; i < sc->n; i++) {
		const struct xtcpd_netns *ns = sc->list[i];
		int rc;

		if (ns->is_host)
			continue; /* it owns the host table */
		sc->total++;
		rc = setns(ns->fd, CLONE_NEWNET) < 0 ? -errno : read_shared();
		if (rc > 0)
			sc->shared++;
		else if (rc < 0)
			log_debug("tuning: namespace %llu: cannot read %s: %s",
				  (unsigned long long)ns->inode, ADVICE_EHASH, log_errstr(rc));
	}
	return NULL;
}

static uint64_t set_sig(struct xtcpd_netns *const *list, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h += (list[i]->inode + 1) * 0x9e3779b97f4a7c15ULL; /* order does not matter */
	return h;
}

static int count_shared(struct xtcpd_netns *const *list, size_t n)
{
	struct advice_scan sc = { list, n, 0, 0 };
	pthread_t t;
	int rc = pthread_create(&t, NULL, scan_thread, &sc);

	if (rc)
		return -rc;
	pthread_join(t, NULL);
	advice.shared = sc.shared;
	advice.total = sc.total;
	return 0;
}

void advice_cycle(const struct advice_conf *c, struct xtcpd_netns *const *list, size_t n,
		  int64_t cycle_ns)
{
	char buf[1024];
	uint64_t sig = set_sig(list, n);
	int64_t now = clock_mono_ns() / 1000000;
	long alloc;

	if (!c->sockets || advice.unsupported || !n)
		return;
	/* Few sockets: nothing to say, and no namespace is visited. */
	if (read_small(ADVICE_SOCKSTAT, buf, sizeof(buf)) || advice_parse_sockstat(buf, &alloc) ||
	    alloc < c->sockets)
		return;
	if ((sig != advice.sig || !advice.sig) &&
	    (!advice.scanned_ms || now - advice.scanned_ms >= c->interval_ms)) {
		if (access(ADVICE_EHASH, R_OK)) {
			advice.unsupported = 1;
			log_debug("tuning: no %s (Linux < 6.1): namespaces always share the host's TCP "
				  "hash table", ADVICE_EHASH);
			return;
		}
		if (count_shared(list, n))
			return;
		advice.sig = sig;
		advice.scanned_ms = now;
	}
	if (!advice.shared)
		return;
	if (advice.logged && advice.logged_shared == advice.shared && advice.logged_total == advice.total)
		return; /* said already */
	if (advice.logged && now - advice.logged_ms < c->interval_ms)
		return; /* said recently: the change waits for the interval */
	log_info("tuning: %zu of %zu namespaces share the host-wide TCP hash table while the host "
		 "holds %ld TCP sockets, so each of their dumps walks all of them (last cycle: %zu "
		 "namespaces in %.1f ms, %.2f ms per namespace); namespaces created after "
		 "'sysctl net.ipv4.tcp_child_ehash_entries=N' (Linux >= 6.1) get their own table "
		 "(README: Tuning)", advice.shared, advice.total, alloc, n, (double)cycle_ns / 1e6,
		 (double)cycle_ns / 1e6 / (double)n);
	advice.logged = 1;
	advice.logged_shared = advice.shared;
	advice.logged_total = advice.total;
	advice.logged_ms = now;
}
