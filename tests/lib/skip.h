/* tests/lib/skip.h — a cmocka test that cannot run here says why, and under CI=true
 * (set by .ci/run) that is a failure, not a skip: a green CI run proves every test ran.
 * Include after <cmocka.h>; then XT_SKIP("no IPv6 loopback: %s", strerror(errno)). */
#ifndef XTCPD_TESTS_SKIP_H
#define XTCPD_TESTS_SKIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int xt_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

#define XT_SKIP(...)                                                      \
	do {                                                              \
		printf("SKIP: ");                                         \
		printf(__VA_ARGS__);                                      \
		printf("\n");                                             \
		fflush(stdout);                                           \
		if (xt_in_ci())                                           \
			fail_msg("skipped under CI=true (see the SKIP line)"); \
		skip();                                                   \
	} while (0)

#endif /* XTCPD_TESTS_SKIP_H */
