/* advice — host tuning advice. A namespace created while net.ipv4.tcp_child_ehash_entries
 * was 0 shares the host-wide TCP hash table (its tcp_ehash_entries reads negative), so
 * each of its sock_diag dumps walks every socket of the host: with many namespaces and
 * many sockets that is most of a cycle. Said once, with the cost measured, never per
 * cycle. */
#include "config.h"
#include "ops/advice.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns/netns.h"
#include "ops/clock.h"
#include "ops/log.h"

#define ADVICE_EHASH "/proc/sys/net/ipv4/tcp_ehash_entries"
#define ADVICE_SOCKSTAT "/proc/net/sockstat"

static struct {
	uint64_t sig;           /* namespace set of the last count */
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

/* Run inside a namespace: 1 if it shares the host's table, 0 if it has its own. The
 * sysctl shows the namespace of the thread reading it. */
static int read_shared(void *arg)
{
	char buf[32];
	long v;
	int rc = read_small(ADVICE_EHASH, buf, sizeof(buf));

	(void)arg;
	if (rc)
		return rc;
	if (advice_parse_ehash(buf, &v))
		return -EINVAL;
	return v < 0;
}

static uint64_t set_sig(struct xtcpd_netns *const *list, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h += (list[i]->inode + 1) * 0x9e3779b97f4a7c15ULL; /* order does not matter */
	return h;
}

static void count_shared(struct xtcpd_netns *const *list, size_t n)
{
	advice.shared = advice.total = 0;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (list[i]->is_host)
			continue; /* it owns the host table */
		advice.total++;
		rc = netns_run(list[i], read_shared, NULL);
		if (rc > 0)
			advice.shared++;
		else if (rc < 0)
			log_debug("tuning: namespace %llu: cannot read %s: %s",
				  (unsigned long long)list[i]->inode, ADVICE_EHASH, log_errstr(rc));
	}
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
	if (sig != advice.sig || !advice.sig) {
		if (access(ADVICE_EHASH, R_OK)) {
			advice.unsupported = 1;
			log_debug("tuning: no %s (Linux < 6.1): namespaces always share the host's TCP "
				  "hash table", ADVICE_EHASH);
			return;
		}
		count_shared(list, n);
		advice.sig = sig;
	}
	if (!advice.shared || read_small(ADVICE_SOCKSTAT, buf, sizeof(buf)) ||
	    advice_parse_sockstat(buf, &alloc) || alloc < c->sockets)
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
