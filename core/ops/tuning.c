/* tuning — process-wide knobs applied once at start, before any thread exists (threads
 * inherit them): the CPU list (core.cpus, the analog of GOMAXPROCS confinement), the
 * niceness (core.nice) and the open-files limit. */
#include "config.h"
#include "ops/tuning.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

int tuning_parse_cpus(const char *list, cpu_set_t *set, char *err, size_t n)
{
	const char *p = list;

	CPU_ZERO(set);
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a >= CPU_SETSIZE)
			goto bad;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= CPU_SETSIZE)
				goto bad;
			p = end;
		}
		for (long c = a; c <= b; c++)
			CPU_SET((int)c, set);
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (!CPU_COUNT(set))
		goto bad;
	return 0;
bad:
	snprintf(err, n, "cpus = '%s' is not a CPU list (e.g. 0-3,8)", list);
	return -EINVAL;
}

int tuning_apply(const char *cpus, int nice_value, char *err, size_t n)
{
	cpu_set_t set;
	int rc;

	if (cpus && *cpus) {
		if ((rc = tuning_parse_cpus(cpus, &set, err, n)))
			return rc;
		if (sched_setaffinity(0, sizeof(set), &set)) {
			rc = -errno;
			snprintf(err, n, "cpus = '%s': %s", cpus, strerror(errno));
			return rc;
		}
	}
	if (nice_value && setpriority(PRIO_PROCESS, 0, nice_value)) {
		rc = -errno;
		snprintf(err, n, "nice = %d: %s", nice_value, strerror(errno));
		return rc;
	}
	return 0;
}

int tuning_raise_nofile(unsigned long long *from, unsigned long long *to)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*from = *to = (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*to = (unsigned long long)rl.rlim_cur;
	return 0;
}

struct tuning_fd {
	int fd;
	dev_t dev;
	ino_t ino;
};

static int fd_cmp(const void *a, const void *b)
{
	const struct tuning_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

struct tuning_fd *tuning_fds_list(size_t *n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t cap = 64;
	struct tuning_fd *v = malloc(cap * sizeof(*v));
	int self;

	*n = 0;
	if (!d || !v) {
		if (d)
			closedir(d);
		free(v);
		return NULL;
	}
	self = dirfd(d);
	while ((de = readdir(d))) {
		struct stat st;
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == self || fstat(fd, &st) < 0)
			continue;
		if (*n == cap) {
			struct tuning_fd *w = realloc(v, 2 * cap * sizeof(*v));

			if (!w)
				break;
			v = w, cap *= 2;
		}
		v[(*n)++] = (struct tuning_fd){ fd, st.st_dev, st.st_ino };
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), fd_cmp);
	return v;
}

unsigned tuning_fds_new(const struct tuning_fd *before, size_t n, unsigned *nopen)
{
	size_t k = 0;
	struct tuning_fd *now = tuning_fds_list(&k);
	unsigned added = 0;

	*nopen = (unsigned)k;
	for (size_t i = 0; now && i < k; i++) {
		const struct tuning_fd *b = before && n ?
			bsearch(&now[i], before, n, sizeof(*before), fd_cmp) : NULL;
		int dom = 0;
		socklen_t len = sizeof(dom);

		/* the same number may have been closed and opened again meanwhile: the same
		 * file only if the same inode */
		if (b && b->dev == now[i].dev && b->ino == now[i].ino)
			continue;
		if (getsockopt(now[i].fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
		    (dom == AF_INET || dom == AF_INET6))
			continue;
		added++;
	}
	free(now);
	return added;
}

