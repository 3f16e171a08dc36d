/* ops/threads — thread names by role and CPU time per name for /metrics. */
#ifndef XTCPD_THREADS_H
#define XTCPD_THREADS_H

#include <stddef.h>
#include <stdint.h>

struct metrics_buf;

#define THREADS_NAME_MAX 15   /* what the kernel keeps of a thread name */
#define THREADS_LIST_MAX 256  /* distinct names reported (threads are constant, < 1024) */

/* Name the calling thread (cut to 15 bytes), e.g. "sink/kafka-main". */
void threads_name_self(const char *name);
/* Rename every thread of the process whose name starts with prefix (threads a library
 * starts and names itself); returns how many, or -errno. */
int threads_rename(const char *prefix, const char *name);

struct threads_cpu {
	char name[THREADS_NAME_MAX + 2];
	uint64_t ns;           /* CPU time of the threads with this name, summed */
	unsigned count;        /* how many threads have it */
};
/* The process's threads grouped by name, in no order; at most max names. 0 or -errno. */
int threads_list(struct threads_cpu *out, size_t max, size_t *n);

/* Metrics collector: xtcpd_thread_cpu_seconds_total{thread="NAME"}. */
void threads_collect(void *arg, struct metrics_buf *out);

#endif
