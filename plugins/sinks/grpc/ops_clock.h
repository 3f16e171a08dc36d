/* ops_clock.h — the gRPC plugin's small helpers: a monotonic clock and a counter add
 * (plugins do not include the core's headers). */
#ifndef XTCPD_GRPC_OPS_CLOCK_H
#define XTCPD_GRPC_OPS_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static inline int64_t ops_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void metrics_add_(_Atomic uint64_t *m, uint64_t v)
{
	if (m && v)
		atomic_fetch_add_explicit(m, v, memory_order_relaxed);
}

#endif
