/* stats — the daemon's own metrics (cycles, process, pools, build info), readiness,
 * and the HTTP endpoint that serves them. */
#ifndef XTCPD_STATS_H
#define XTCPD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* Registers metrics and binds the endpoint's socket (no thread yet: binding a port below
 * 1024 is done while the capabilities are still there). 0 or -errno (logged). */
int stats_start(const struct conf *c);
/* Starts the endpoint's thread, born without capabilities. 0 or -errno (logged). */
int stats_serve(void);
void stats_set_conf(const struct conf *c);
void stats_cycle_done(uint64_t seq, int64_t duration_ns, int rc, size_t n_ns, int overrun);
/* 1 = ready; else 0 and why. */
int stats_ready(char *reason, size_t n);
void stats_stop(void);

#endif
