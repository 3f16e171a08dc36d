/* test_filter — the closed source's own filter (plugins/sources/closed/filter.c): port
 * lists and ranges, address prefixes of both families, states, and the refusals with
 * the item named. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../../../plugins/sources/closed/clsrc.h"

static uint8_t a4[16], b4[16], a6[16];

static void addrs(void)
{
	memset(a4, 0, sizeof(a4));
	memset(b4, 0, sizeof(b4));
	inet_pton(AF_INET, "10.1.2.3", a4);
	inet_pton(AF_INET, "192.168.0.1", b4);
	inet_pton(AF_INET6, "fd00::7", a6);
}

static void test_ports(void **state)
{
	struct clf f = { .states = ~0u };
	char err[200];

	(void)state;
	addrs();
	assert_int_equal(clf_ports_parse(" 22, 8000-8100 ,443", &f.sport, err, sizeof(err)), 0);
	assert_int_equal(f.sport.n, 3);
	assert_int_equal(clf_match(&f, AF_INET, 7, 22, 1, a4, b4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 7, 8000, 1, a4, b4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 7, 8100, 1, a4, b4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 7, 8101, 1, a4, b4), 0);
	assert_int_equal(clf_match(&f, AF_INET, 7, 21, 1, a4, b4), 0);
	assert_int_equal(clf_ports_parse("1-65535", &f.dport, err, sizeof(err)), 0);
	assert_int_equal(clf_match(&f, AF_INET, 7, 443, 0, a4, b4), 0);
	assert_int_equal(clf_match(&f, AF_INET, 7, 443, 65535, a4, b4), 1);
}

static void test_ports_bad(void **state)
{
	struct clf_ports p;
	char err[200];

	(void)state;
	assert_int_equal(clf_ports_parse("80,90-70", &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'90-70' is not a port or a range of ports (lo-hi)");
	assert_int_equal(clf_ports_parse("65536", &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'65536' is not a port or a range of ports (lo-hi)");
	assert_int_equal(clf_ports_parse("-5", &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(clf_ports_parse("", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
}

static void test_addrs(void **state)
{
	struct clf f = { .states = ~0u };
	char err[200];

	(void)state;
	addrs();
	assert_int_equal(clf_addrs_parse("10.0.0.0/8, fd00::/8", &f.src, err, sizeof(err)), 0);
	assert_int_equal(f.src.n, 2);
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, a4, b4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, b4, a4), 0);
	assert_int_equal(clf_match(&f, AF_INET6, 7, 1, 1, a6, a4), 1);
	/* a v4 prefix never matches a v6 socket's first bytes */
	assert_int_equal(clf_match(&f, AF_INET6, 7, 1, 1, a4, a4), 0);
	assert_int_equal(clf_addrs_parse("10.1.2.2/31", &f.dst, err, sizeof(err)), 0);
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, a4, a4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, a4, b4), 0);
	assert_int_equal(clf_addrs_parse("0.0.0.0/0", &f.dst, err, sizeof(err)), 0);
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, a4, b4), 1);
	assert_int_equal(clf_addrs_parse("10.0.0.0/33", &f.dst, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'10.0.0.0/33' is not an address or a prefix (10.0.0.0/8, fd00::/8)");
	assert_int_equal(clf_addrs_parse("fd00::/", &f.dst, err, sizeof(err)), -EINVAL);
	assert_int_equal(clf_addrs_parse("nohost", &f.dst, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'nohost' is not an address or a prefix (10.0.0.0/8, fd00::/8)");
}

static void test_states(void **state)
{
	struct clf f = { .states = 1u << 7 }; /* close only */

	(void)state;
	addrs();
	assert_int_equal(clf_match(&f, AF_INET, 7, 1, 1, a4, b4), 1);
	assert_int_equal(clf_match(&f, AF_INET, 10, 1, 1, a4, b4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ports_bad),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
