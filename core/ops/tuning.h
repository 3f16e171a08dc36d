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
/* File descriptors open in this process now. */
unsigned tuning_fds_open(void);

#endif
