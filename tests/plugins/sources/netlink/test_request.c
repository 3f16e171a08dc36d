/* test_request — deserializer names -> idiag_ext and decode bits, state names -> mask,
 * filter text -> exact bytecode, and the refusals. (The bytecode's acceptance and
 * meaning are tested against the live kernel by filters.sh.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <cmocka.h>

#include "plugins/sources/netlink/request.h"
#include <xtcpd/record.h>

#define EXT(a) (1u << ((a) - 1))

static void test_deserializers(void **state)
{
	uint8_t ext;
	uint32_t dec;
	(void)state;

	assert_int_equal(nlr_deserializers("default", &ext, &dec), 0);
	/* meminfo is decoded from skmem's attribute: not asked for when skmem is. */
	assert_int_equal(ext, EXT(INET_DIAG_INFO) | EXT(INET_DIAG_CONG) | EXT(INET_DIAG_SKMEMINFO));
	assert_int_equal(dec, XTCPD_HAS_MEMINFO | XTCPD_HAS_INFO | XTCPD_HAS_CONG | XTCPD_HAS_SKMEM);
	assert_int_equal(nlr_deserializers("meminfo,info", &ext, &dec), 0);
	assert_int_equal(ext, EXT(INET_DIAG_MEMINFO) | EXT(INET_DIAG_INFO));
	assert_int_equal(dec, XTCPD_HAS_MEMINFO | XTCPD_HAS_INFO);
	assert_int_equal(nlr_deserializers("skmem", &ext, &dec), 0);
	assert_int_equal(ext, EXT(INET_DIAG_SKMEMINFO));
	assert_int_equal(dec, XTCPD_HAS_SKMEM);
	assert_int_equal(nlr_deserializers("all", &ext, &dec), 0);
	assert_int_equal(ext, 0xff & ~EXT(INET_DIAG_MEMINFO));
	assert_int_equal(dec, 0x3fff);
	/* bbr and dctcp ride on the VEGASINFO bit, classid on TCLASS; mark/cgroup/sockopt
	 * need no bit at all. */
	assert_int_equal(nlr_deserializers("bbr, dctcp", &ext, &dec), 0);
	assert_int_equal(ext, EXT(INET_DIAG_VEGASINFO));
	assert_int_equal(dec, XTCPD_HAS_BBR | XTCPD_HAS_DCTCP);
	assert_int_equal(nlr_deserializers("classid", &ext, &dec), 0);
	assert_int_equal(ext, EXT(INET_DIAG_TCLASS));
	assert_int_equal(dec, XTCPD_HAS_CLASS_ID);
	assert_int_equal(nlr_deserializers("mark,cgroup,sockopt", &ext, &dec), 0);
	assert_int_equal(ext, 0);
	assert_int_equal(dec, XTCPD_HAS_MARK | XTCPD_HAS_CGROUP | XTCPD_HAS_SOCKOPT);
	assert_int_equal(nlr_deserializers("info,bogus", &ext, &dec), -EINVAL);
}

static void test_states(void **state)
{
	uint32_t m;
	(void)state;

	assert_int_equal(nlr_states("all", &m), 0);
	assert_int_equal(m, 0x1ffe); /* 1..12: everything but bound-inactive (13) */
	assert_int_equal(nlr_states("listen,time-wait", &m), 0);
	assert_int_equal(m, (1u << 10) | (1u << 6));
	assert_int_equal(nlr_states("all,bound-inactive", &m), 0);
	assert_int_equal(m, 0x3ffe);
	assert_int_equal(nlr_states("listening", &m), -EINVAL);
	assert_int_equal(nlr_states("", &m), -EINVAL);
}

static void op(const uint8_t *p, unsigned code, unsigned yes, unsigned no)
{
	struct inet_diag_bc_op o;

	memcpy(&o, p, sizeof(o));
	assert_int_equal(o.code, code);
	assert_int_equal(o.yes, yes);
	assert_int_equal(o.no, no);
}

static void test_bytecode_ports(void **state)
{
	uint8_t bc[NLR_BC_MAX];
	size_t len = 99;
	(void)state;

	assert_int_equal(nlr_bytecode(NULL, NULL, NULL, NULL, bc, sizeof(bc), &len), 0);
	assert_int_equal(len, 0);
	/* sport 22 or 80-90: GE 22, LE 22, JMP end, GE 80, LE 90 (reject = len + 4). */
	assert_int_equal(nlr_bytecode("22,80-90", "", NULL, NULL, bc, sizeof(bc), &len), 0);
	assert_int_equal(len, 36);
	op(bc + 0, INET_DIAG_BC_S_GE, 8, 20);
	op(bc + 4, 0, 0, 22);
	op(bc + 8, INET_DIAG_BC_S_LE, 8, 12);
	op(bc + 12, 0, 0, 22);
	op(bc + 16, INET_DIAG_BC_JMP, 4, 20);
	op(bc + 20, INET_DIAG_BC_S_GE, 8, 20);
	op(bc + 24, 0, 0, 80);
	op(bc + 28, INET_DIAG_BC_S_LE, 8, 12);
	op(bc + 32, 0, 0, 90);
}

static void test_bytecode_prefix(void **state)
{
	uint8_t bc[NLR_BC_MAX];
	struct inet_diag_hostcond hc;
	size_t len;
	(void)state;

	/* dport 443 and dst 10.0.0.0/8 */
	assert_int_equal(nlr_bytecode(NULL, "443", NULL, "10.0.0.0/8", bc, sizeof(bc), &len), 0);
	assert_int_equal(len, 16 + 16);
	op(bc + 0, INET_DIAG_BC_D_GE, 8, 36);
	op(bc + 8, INET_DIAG_BC_D_LE, 8, 28);
	op(bc + 16, INET_DIAG_BC_D_COND, 16, 20);
	memcpy(&hc, bc + 20, sizeof(hc));
	assert_int_equal(hc.family, AF_INET);
	assert_int_equal(hc.prefix_len, 8);
	assert_int_equal(hc.port, -1);
	assert_int_equal(bc[28], 10);
	assert_int_equal(bc[29], 0);
	/* IPv6 without a length is a /128. */
	assert_int_equal(nlr_bytecode(NULL, NULL, "::1", NULL, bc, sizeof(bc), &len), 0);
	assert_int_equal(len, 4 + 8 + 16);
	memcpy(&hc, bc + 4, sizeof(hc));
	assert_int_equal(hc.family, AF_INET6);
	assert_int_equal(hc.prefix_len, 128);
}

/* The first bad item is named, with what is allowed. */
static const char *bc_err(const char *s, int ports)
{
	static char err[300];

	err[0] = '\0';
	if (nlr_bc_check(s, ports, err, sizeof(err)) == 0)
		return "ok";
	return err;
}

static void test_bad_filters(void **state)
{
	static const char port_msg[] = "' is not a port (0..65535) or a range LOW-HIGH";
	static const char pfx_msg[] = "' is not an address prefix (like 10.0.0.0/8 or fd00::/8; at "
				      "most /32 for IPv4, /128 for IPv6)";
	char want[300], many[400] = "";

	(void)state;
	assert_string_equal(bc_err("22,80-90, 100", 1), "ok");
	snprintf(want, sizeof(want), "'65536%s", port_msg);
	assert_string_equal(bc_err("22, 65536,80", 1), want);
	snprintf(want, sizeof(want), "'90-80%s", port_msg);
	assert_string_equal(bc_err("90-80", 1), want);
	snprintf(want, sizeof(want), "'ssh%s", port_msg);
	assert_string_equal(bc_err("ssh", 1), want);
	snprintf(want, sizeof(want), "'-5%s", port_msg);
	assert_string_equal(bc_err("-5", 1), want);
	assert_string_equal(bc_err("10.0.0.0/8,fd00::/8", 0), "ok");
	snprintf(want, sizeof(want), "'10.0.0.0/33%s", pfx_msg);
	assert_string_equal(bc_err("10.0.0.0/33", 0), want);
	snprintf(want, sizeof(want), "'::/129%s", pfx_msg);
	assert_string_equal(bc_err("::/129", 0), want);
	snprintf(want, sizeof(want), "'10.0.0/8%s", pfx_msg);
	assert_string_equal(bc_err("10.0.0/8", 0), want);
	snprintf(want, sizeof(want), "'10.0.0.0/%s", pfx_msg);
	assert_string_equal(bc_err("10.0.0.0/", 0), want);
	for (int i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", i);
	assert_string_equal(bc_err(many, 1), "more than 64 items");
}

static void test_requests(void **state)
{
	uint8_t buf[NLR_REQ_MAX] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	const struct inet_diag_req *old;
	const struct inet_diag_req_v2 *v2;
	uint8_t bc[8] = { 0 };
	(void)state;

	nlh = nlr_build(buf, 0, 42, 0x0b, 0x1ffe, NULL, 0);
	assert_int_equal(nlh->nlmsg_type, 18 /* TCPDIAG_GETSOCK */);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 42);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + sizeof(*old));
	old = (const void *)(buf + NLMSG_HDRLEN);
	assert_int_equal(old->idiag_ext, 0x0b);
	assert_int_equal(old->idiag_states, 0x1ffe);

	nlh = nlr_build(buf, AF_INET6, 7, 0x02, 0x400, bc, sizeof(bc));
	assert_int_equal(nlh->nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + sizeof(*v2) + 4 + sizeof(bc));
	v2 = (const void *)(buf + NLMSG_HDRLEN);
	assert_int_equal(v2->sdiag_family, AF_INET6);
	assert_int_equal(v2->sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(v2->idiag_ext, 0x02);
	assert_int_equal(v2->idiag_states, 0x400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deserializers),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_bytecode_ports),
		cmocka_unit_test(test_bytecode_prefix),
		cmocka_unit_test(test_bad_filters),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
