/* stats — the daemon's own metrics (cycles, process, pools, build info), readiness,
 * and the HTTP endpoint that serves them. */
#ifndef XTCPD_STATS_H
#define XTCPD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

int stats_start(const struct conf *c);   /* registers metrics; starts the endpoint */
void stats_set_conf(const struct conf *c);
void stats_cycle_done(uint64_t seq, int64_t duration_ns, int rc, size_t n_ns, int overrun);
/* 1 = ready; else 0 and why. */
int stats_ready(char *reason, size_t n);
void stats_stop(void);

#endif
