/* test_advice — the tuning advice's parsers: tcp_ehash_entries (negative = the namespace
 * shares the host's table) and the host-wide TCP alloc count of /proc/net/sockstat. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/advice.h"

static void test_ehash(void **state)
{
	long v = 7;

	(void)state;
	assert_int_equal(advice_parse_ehash("262144\n", &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(advice_parse_ehash("-262144\n", &v), 0);
	assert_int_equal(v, -262144);
	assert_int_equal(advice_parse_ehash("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(advice_parse_ehash("", &v), -EINVAL);
	assert_int_equal(advice_parse_ehash("\n", &v), -EINVAL);
	assert_int_equal(advice_parse_ehash("12x\n", &v), -EINVAL);
	assert_int_equal(advice_parse_ehash("99999999999999999999999\n", &v), -EINVAL);
}

static void test_sockstat(void **state)
{
	long a = -1;

	(void)state;
	assert_int_equal(advice_parse_sockstat("sockets: used 14\n"
					       "TCP: inuse 3 orphan 0 tw 92 alloc 37 mem 191\n"
					       "UDP: inuse 0 mem 101\n", &a), 0);
	assert_int_equal(a, 37);
	assert_int_equal(advice_parse_sockstat("TCP: inuse 1 orphan 0 tw 0 alloc 200351 mem 9\n", &a), 0);
	assert_int_equal(a, 200351);
	/* "alloc" of another line is not TCP's */
	assert_int_equal(advice_parse_sockstat("TCP: inuse 1 orphan 0\nFOO: alloc 5\n", &a), -EINVAL);
	assert_int_equal(advice_parse_sockstat("sockets: used 1\nUDP: inuse 0 mem 1\n", &a), -EINVAL);
	assert_int_equal(advice_parse_sockstat("TCP: inuse 1 alloc x\n", &a), -EINVAL);
	assert_int_equal(advice_parse_sockstat("TCP: inuse 1 alloc -4\n", &a), -EINVAL);
	assert_int_equal(advice_parse_sockstat("", &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ehash),
		cmocka_unit_test(test_sockstat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
