/* clock — the few time helpers the core needs: "now" in ns and ms, and an absolute
 * deadline `ms` from now for the timed waits (condvars use CLOCK_MONOTONIC, thread
 * joins CLOCK_REALTIME). */
#ifndef XTCPD_CLOCK_H
#define XTCPD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t clock_mono_ns(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}

static inline int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

static inline struct timespec clock_deadline(clockid_t id, int ms)
{
	struct timespec dl;

	clock_gettime(id, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return dl;
}

#endif
