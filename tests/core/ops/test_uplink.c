/* test_uplink — the default routes' interfaces read from /proc/net/route and
 * /proc/net/ipv6_route text: only default routes that are up, IPv4 before IPv6, no
 * duplicate, no loopback, no reject route, at most the count asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ops/uplink.h"

static const char route4[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	"eth1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"          /* not default */
	"bond0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	"eth9\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"           /* not up */
	"bond0\t00000000\t020200C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"        /* again */
	"eth2\t00000000\t010300C0\t0003\t0\t0\t300\t00000000\t0\t0\t0\n";

static const char route6[] =
	"fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
	"00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	"00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	"00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
	"00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	"00000000000000000000000000000000 ffffffff 00000001 00000000 00200200     eth7\n" /* reject */
	"00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	"fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n";

static void test_routes(void **state)
{
	char names[2][16];
	unsigned n = 0;

	(void)state;
	uplink_routes4(route4, names, &n, 2);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "bond0");
	assert_string_equal(names[1], "eth2");
	n = 0;
	uplink_routes4(route4, names, &n, 1);
	assert_int_equal(n, 1);
	uplink_routes6(route6, names, &n, 2);  /* IPv6 after IPv4 */
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "bond0");
	assert_string_equal(names[1], "eth0");
	n = 0;
	uplink_routes6(route6, names, &n, 2);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "eth0");
	n = 0;
	uplink_routes4("", names, &n, 2);
	uplink_routes6("garbage\n", names, &n, 2);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_routes) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
