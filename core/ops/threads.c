/* ops/threads — every thread of the daemon carries its role in its name (`xtcpd`, `http`,
 * `sink/<instance>`, a plugin's own such as `nl-read/0`), and /metrics reports CPU
 * seconds per name: an operator sees which stage costs what without a profiler.
 *
 * The names and times are read from /proc/self/task at scrape time rather than from a
 * registry of thread CPU clocks: that covers the threads the core does not create
 * (plugins', librdkafka's, libmicrohttpd's) without any plugin ABI, costs nothing
 * between scrapes, and schedstat gives the same nanoseconds clock_gettime would. */
#include "config.h"
#include "ops/threads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/metrics.h"

void threads_name_self(const char *name)
{
	char n[THREADS_NAME_MAX + 1];

	snprintf(n, sizeof(n), "%s", name); /* the kernel keeps 15 bytes */
	pthread_setname_np(pthread_self(), n);
}

/* Read a small /proc file into buf (NUL-terminated); its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return r;
}

int threads_rename(const char *prefix, const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int renamed = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], comm[32];
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (read_small(path, comm, sizeof(comm)) <= 0 ||
		    strncmp(comm, prefix, strlen(prefix)) != 0)
			continue;
		/* The kernel lets a thread rename any thread of its own process this way
		 * (what pthread_setname_np does for another thread). */
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, name, strlen(name)) == (ssize_t)strlen(name))
				renamed++;
			close(fd);
		}
	}
	closedir(d);
	return renamed;
}

int threads_list(struct threads_cpu *out, size_t max, size_t *n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], buf[64], sched[128], *nl;
		unsigned long long ns;
		size_t i;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if (read_small(path, buf, sizeof(buf)) <= 0)
			continue; /* it just ended */
		if ((nl = strchr(buf, '\n')))
			*nl = '\0';
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		/* First field: time on a CPU, in ns (user + system, like the thread's
		 * CPU clock). */
		if (read_small(path, sched, sizeof(sched)) <= 0 || sscanf(sched, "%llu", &ns) != 1)
			continue;
		for (i = 0; i < *n && strcmp(out[i].name, buf); i++)
			;
		if (i == *n) {
			if (*n == max)
				continue; /* more names than we report: bounded */
			snprintf(out[i].name, sizeof(out[i].name), "%.*s", THREADS_NAME_MAX, buf);
			out[i].ns = 0;
			out[i].count = 0;
			(*n)++;
		}
		out[i].ns += ns;
		out[i].count++;
	}
	closedir(d);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct threads_cpu *)a)->name, ((const struct threads_cpu *)b)->name);
}

/* Label values come from thread names, which config instance names flow into. */
static void put_escaped(struct metrics_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			metrics_printf(out, "\\%c", *s);
		else if (*s == '\n')
			metrics_printf(out, "\\n");
		else
			metrics_printf(out, "%c", *s);
	}
}

void threads_collect(void *arg, struct metrics_buf *out)
{
	struct threads_cpu t[THREADS_LIST_MAX];
	size_t n;

	(void)arg;
	if (threads_list(t, THREADS_LIST_MAX, &n) < 0)
		return;
	qsort(t, n, sizeof(t[0]), by_name);
	metrics_printf(out, "# HELP xtcpd_thread_cpu_seconds_total CPU time (user + system) of the "
		    "threads with this name (named by role), summed\n"
		    "# TYPE xtcpd_thread_cpu_seconds_total counter\n");
	for (size_t i = 0; i < n; i++) {
		metrics_printf(out, "xtcpd_thread_cpu_seconds_total{thread=\"");
		put_escaped(out, t[i].name);
		metrics_printf(out, "\"} %.6f\n", (double)t[i].ns / 1e9);
	}
}
