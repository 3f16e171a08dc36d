/* tuning — CPU confinement and niceness, applied before any thread starts. */
#ifndef XTCPD_TUNING_H
#define XTCPD_TUNING_H

#include <sched.h>
#include <stddef.h>

int tuning_parse_cpus(const char *list, cpu_set_t *set, char *err, size_t n);
int tuning_apply(const char *cpus, int nice_value, char *err, size_t n);
/* Raise the open-files soft limit to the hard limit (every namespace costs fds): 0 with
 * *from and *to (equal when there was nothing to raise), or -errno. */
int tuning_raise_nofile(unsigned long long *from, unsigned long long *to);
/* The fds open now (number and inode, ascending), *n of them (malloc'd; NULL when
 * /proc/self/fd cannot be read), and then how many fds are open that were not (a number
 * closed and opened again is a new file), leaving out IP sockets: the
 * endpoint's and the sinks' connections come and go meanwhile, and a namespace costs
 * none; *nopen is how many fds are open now, all kinds (0 when unreadable). Together they
 * measure what one namespace opened while other threads run. */
struct tuning_fd;
struct tuning_fd *tuning_fds_list(size_t *n);
unsigned tuning_fds_new(const struct tuning_fd *before, size_t n, unsigned *nopen);

#endif
