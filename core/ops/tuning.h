/* tuning — CPU confinement and niceness, applied before any thread starts. */
#ifndef XTCPD_TUNING_H
#define XTCPD_TUNING_H

#include <sched.h>
#include <stddef.h>

int tuning_parse_cpus(const char *list, cpu_set_t *set, char *err, size_t n);
int tuning_apply(const char *cpus, int nice_value, char *err, size_t n);

#endif
