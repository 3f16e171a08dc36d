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

unsigned tuning_fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n ? n - 1 : 0;  /* not the directory's own fd */
}
