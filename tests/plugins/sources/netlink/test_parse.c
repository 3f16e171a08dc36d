/* test_parse — the inet_diag parser against synthetic messages: today's layout, kernel
 * 4.15's short tcp_info, oversize, truncated and lying lengths, unknown attributes and
 * message types. Every message ends at a PROT_NONE guard page (or, under ASan, at the
 * end of a heap block of its size), so a read past it crashes the test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "plugins/sources/netlink/parse.h"

static uint8_t build[8192] __attribute__((aligned(8)));
static uint8_t *guard_page; /* two pages: RW then PROT_NONE */
static size_t page;

static struct nlmsghdr *msg_start(uint16_t type)
{
	struct nlmsghdr *nlh;
	struct inet_diag_msg *m;

	memset(build, 0, sizeof(build));
	nlh = mnl_nlmsg_put_header(build);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 7;
	m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->idiag_family = AF_INET6;
	m->idiag_state = 1;
	m->idiag_timer = 2;
	m->idiag_retrans = 3;
	m->id.idiag_sport = htons(22);
	m->id.idiag_dport = htons(54321);
	for (int i = 0; i < 16; i++) {
		((uint8_t *)m->id.idiag_src)[i] = (uint8_t)(0x20 + i);
		((uint8_t *)m->id.idiag_dst)[i] = (uint8_t)(0x40 + i);
	}
	m->id.idiag_if = 5;
	m->id.idiag_cookie[0] = 0x11223344;
	m->id.idiag_cookie[1] = 0x55667788;
	m->idiag_expires = 1000;
	m->idiag_rqueue = 11;
	m->idiag_wqueue = 12;
	m->idiag_uid = 1001;
	m->idiag_inode = 424242;
	return nlh;
}

/* A copy of the message where a read past its len bytes is caught: under ASan a heap
 * block of exactly len bytes (ASan sees a read one byte past it); otherwise the end of a
 * page followed by an inaccessible one, starting 4-byte aligned as the kernel's messages
 * do (so the 0-3 bytes a cut length leaves before the guard are not caught there). */
#if defined(__SANITIZE_ADDRESS__)
static void *heap_copy;
#endif
static const struct nlmsghdr *guarded(const struct nlmsghdr *nlh, size_t len)
{
#if defined(__SANITIZE_ADDRESS__)
	free(heap_copy);
	heap_copy = malloc(len);
	assert_non_null(heap_copy);
	memcpy(heap_copy, nlh, len);
	return heap_copy;
#else
	uint8_t *dst = guard_page + page - ((len + 3) & ~(size_t)3);

	memcpy(dst, nlh, len);
	return (const struct nlmsghdr *)dst;
#endif
}

static void fill_tcpi(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i + 1);
}

static int setup(void **state)
{
	(void)state;
	page = (size_t)sysconf(_SC_PAGESIZE);
	guard_page = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page == MAP_FAILED)
		return -1;
	return mprotect(guard_page + page, page, PROT_NONE);
}

static int teardown(void **state)
{
	(void)state;
	munmap(guard_page, 2 * page);
#if defined(__SANITIZE_ADDRESS__)
	free(heap_copy);
#endif
	return 0;
}

static void test_full_message(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	struct inet_diag_meminfo mi = { 1, 2, 3, 4 };
	uint8_t tcpi[280];
	uint32_t skmem[9] = { 10, 20, 30, 40, 50, 60, 70, 80, 90 };
	struct tcp_bbr_info bbr = { 101, 102, 103, 104, 105 };
	uint16_t sockopt = 0x0105;
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	fill_tcpi(tcpi, sizeof(tcpi));
	mnl_attr_put(nlh, INET_DIAG_MEMINFO, sizeof(mi), &mi);
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(tcpi), tcpi);
	mnl_attr_put_strz(nlh, INET_DIAG_CONG, "bbr");
	mnl_attr_put_u8(nlh, INET_DIAG_TOS, 0x10);
	mnl_attr_put_u8(nlh, INET_DIAG_TCLASS, 0x20);
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(skmem), skmem);
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 3);
	mnl_attr_put(nlh, INET_DIAG_BBRINFO, sizeof(bbr), &bbr);
	mnl_attr_put_u32(nlh, INET_DIAG_CLASS_ID, 0x10002);
	mnl_attr_put(nlh, INET_DIAG_SOCKOPT, sizeof(sockopt), &sockopt);
	mnl_attr_put_u64(nlh, INET_DIAG_CGROUP_ID, 0x123456789abcULL);
	mnl_attr_put_u32(nlh, INET_DIAG_MARK, 0xbeef);
	mnl_attr_put_u8(nlh, INET_DIAG_SKV6ONLY, 1); /* known, not in the record */

	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), 0);
	assert_int_equal(rec.family, AF_INET6);
	assert_int_equal(rec.state, 1);
	assert_int_equal(rec.timer, 2);
	assert_int_equal(rec.retrans, 3);
	assert_int_equal(rec.sport, 22);
	assert_int_equal(rec.dport, 54321);
	assert_int_equal(rec.src[0], 0x20);
	assert_int_equal(rec.src[15], 0x2f);
	assert_int_equal(rec.dst[15], 0x4f);
	assert_int_equal(rec.ifindex, 5);
	assert_int_equal(rec.cookie, 0x5566778811223344ULL);
	assert_int_equal(rec.expires, 1000);
	assert_int_equal(rec.rqueue, 11);
	assert_int_equal(rec.wqueue, 12);
	assert_int_equal(rec.uid, 1001);
	assert_int_equal(rec.inode, 424242);
	assert_int_equal(rec.present, XTCPD_HAS_MEMINFO | XTCPD_HAS_INFO | XTCPD_HAS_CONG |
			 XTCPD_HAS_TOS | XTCPD_HAS_TCLASS | XTCPD_HAS_SKMEM | XTCPD_HAS_SHUTDOWN |
			 XTCPD_HAS_BBR | XTCPD_HAS_CLASS_ID | XTCPD_HAS_SOCKOPT | XTCPD_HAS_CGROUP |
			 XTCPD_HAS_MARK);
	assert_int_equal(rec.flags, 0);
	assert_int_equal(rec.mem_rmem, 1);
	assert_int_equal(rec.mem_tmem, 4);
	assert_int_equal(rec.tcpi_len, 280);
	assert_int_equal(rec.tcpi.state, 1);
	assert_int_equal(rec.tcpi.wscale, 7);
	assert_int_equal(XTCPD_TCPI_SND_WSCALE(&rec.tcpi), 7);
	assert_int_equal(XTCPD_TCPI_RCV_WSCALE(&rec.tcpi), 0);
	/* rto = bytes 9..12 at offset 8 */
	assert_int_equal(rec.tcpi.rto, 0x0c0b0a09);
	/* accecn_opt_seen: the last two bytes, offsets 278, 279 -> values 279, 280 (mod 256) */
	assert_int_equal(rec.tcpi.accecn_opt_seen, (uint16_t)(23 | 24 << 8));
	assert_string_equal(rec.cong_name, "bbr");
	assert_int_equal(rec.cong_enum, XTCPD_CONG_BBR1);
	assert_int_equal(rec.tos, 0x10);
	assert_int_equal(rec.tclass, 0x20);
	assert_int_equal(rec.skmem[XTCPD_SKMEM_RMEM_ALLOC], 10);
	assert_int_equal(rec.skmem[XTCPD_SKMEM_DROPS], 90);
	assert_int_equal(rec.shutdown, 3);
	assert_int_equal(rec.bbr_bw_lo, 101);
	assert_int_equal(rec.bbr_cwnd_gain, 105);
	assert_int_equal(rec.class_id, 0x10002);
	assert_int_equal(rec.sockopt, 0x0105);
	assert_int_equal(rec.cgroup_id, 0x123456789abcULL);
	assert_int_equal(rec.mark, 0xbeef);
	assert_int_equal(c.records, 1);
	assert_int_equal(c.unknown_attr, 0);
	assert_int_equal(c.bad_attr, 0);
}

/* The record's presence bits and its four mem_* values. */
static void check_mem(const struct xtcpd_record *rec, uint32_t present, uint32_t rmem,
		      uint32_t wmem, uint32_t fmem, uint32_t tmem)
{
	assert_int_equal(rec->present, present);
	assert_int_equal(rec->mem_rmem, rmem);
	assert_int_equal(rec->mem_wmem, wmem);
	assert_int_equal(rec->mem_fmem, fmem);
	assert_int_equal(rec->mem_tmem, tmem);
}

/* meminfo is not requested when skmem is (nlr_deserializers): mem_* come from skmem's
 * RMEM_ALLOC, WMEM_QUEUED, FWD_ALLOC and WMEM_ALLOC, only when meminfo is decoded, not
 * over a MEMINFO the message carried, and not from an skmem too short to hold them. */
static void test_meminfo_from_skmem(void **state)
{
	const uint32_t skmem[9] = { 10, 20, 30, 40, 50, 60, 70, 80, 90 };
	const struct inet_diag_meminfo mi = { 1, 2, 3, 4 };
	const uint32_t both = XTCPD_HAS_MEMINFO | XTCPD_HAS_SKMEM;
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	struct nlmsghdr *nlh;
	(void)state;

	nlh = msg_start(TCPDIAG_GETSOCK);
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(skmem), skmem);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), both, &rec, &c), 0);
	check_mem(&rec, both, 10, 60, 50, 30);
	assert_int_equal(rec.skmem[XTCPD_SKMEM_DROPS], 90);

	/* skmem decoded, meminfo not: no mem_*. */
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), XTCPD_HAS_SKMEM, &rec, &c), 0);
	check_mem(&rec, XTCPD_HAS_SKMEM, 0, 0, 0, 0);

	/* A MEMINFO first (a capture made by an older xtcpd, or by ss): its values stand. */
	nlh = msg_start(TCPDIAG_GETSOCK);
	mnl_attr_put(nlh, INET_DIAG_MEMINFO, sizeof(mi), &mi);
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, sizeof(skmem), skmem);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), both, &rec, &c), 0);
	check_mem(&rec, both, 1, 2, 3, 4);

	/* Five values end before WMEM_QUEUED: nothing to derive from. Six are enough. */
	nlh = msg_start(TCPDIAG_GETSOCK);
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, 5 * sizeof(uint32_t), skmem);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), both, &rec, &c), 0);
	check_mem(&rec, XTCPD_HAS_SKMEM, 0, 0, 0, 0);
	assert_int_equal(rec.skmem[XTCPD_SKMEM_FWD_ALLOC], 50);
	nlh = msg_start(TCPDIAG_GETSOCK);
	mnl_attr_put(nlh, INET_DIAG_SKMEMINFO, 6 * sizeof(uint32_t), skmem);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), both, &rec, &c), 0);
	check_mem(&rec, both, 10, 60, 50, 30);
	assert_int_equal(rec.skmem[XTCPD_SKMEM_OPTMEM], 0);
	assert_int_equal(c.records, 5);
	assert_int_equal(c.bad_attr, 0);
}

static void test_short_info_4_15(void **state)
{
	struct nlmsghdr *nlh = msg_start(TCPDIAG_GETSOCK);
	uint8_t tcpi[192];
	struct tcpvegas_info veg = { 1, 2, 3, 4 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	fill_tcpi(tcpi, sizeof(tcpi));
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(tcpi), tcpi);
	mnl_attr_put_strz(nlh, INET_DIAG_CONG, "vegas");
	mnl_attr_put(nlh, INET_DIAG_VEGASINFO, sizeof(veg), &veg);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), 0);
	assert_int_equal(rec.tcpi_len, 192);
	assert_int_equal(rec.present, XTCPD_HAS_INFO | XTCPD_HAS_CONG | XTCPD_HAS_VEGAS);
	assert_true(XTCPD_TCPI_HAS(rec.tcpi_len, sndbuf_limited));
	assert_false(XTCPD_TCPI_HAS(rec.tcpi_len, delivered));
	/* sndbuf_limited is bytes 184..191 -> values 185..192 */
	assert_int_equal(rec.tcpi.sndbuf_limited, 0xc0bfbebdbcbbbab9ULL);
	assert_int_equal(rec.tcpi.delivered, 0);
	assert_int_equal(rec.tcpi.bytes_sent, 0);
	assert_int_equal(rec.tcpi.accecn_opt_seen, 0);
	assert_int_equal(rec.cong_enum, XTCPD_CONG_VEGAS);
	assert_int_equal(rec.vegas_enabled, 1);
	assert_int_equal(rec.vegas_min_rtt, 4);
	assert_int_equal(c.oversize_info, 0);
}

static void test_oversize_info(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	uint8_t tcpi[300];
	struct tcp_dctcp_info d = { 1, 2, 3, 4, 5 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	fill_tcpi(tcpi, sizeof(tcpi));
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(tcpi), tcpi);
	mnl_attr_put(nlh, INET_DIAG_DCTCPINFO, sizeof(d), &d);
	mnl_attr_put_strz(nlh, INET_DIAG_CONG, "some-new-cc-name-longer");
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), 0);
	assert_int_equal(rec.tcpi_len, 300);
	assert_int_equal(rec.flags, XTCPD_REC_INFO_OVERSIZE);
	assert_int_equal(c.oversize_info, 1);
	assert_int_equal(rec.tcpi.accecn_opt_seen, (uint16_t)(23 | 24 << 8));
	assert_int_equal(rec.dctcp_enabled, 1);
	assert_int_equal(rec.dctcp_ce_state, 2);
	assert_int_equal(rec.dctcp_alpha, 3);
	assert_int_equal(rec.dctcp_ab_tot, 5);
	/* Truncated to TCP_CA_NAME_MAX - 1 characters, always NUL-terminated. */
	assert_string_equal(rec.cong_name, "some-new-cc-nam");
	assert_int_equal(rec.cong_enum, XTCPD_CONG_UNSPECIFIED);
}

static void test_truncated_header(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct inet_diag_msg) - 4;
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_header, 1);
	assert_int_equal(c.records, 0);
}

static void test_lying_attr_len(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	struct nlattr *a;
	uint8_t tcpi[104] = { 0 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 1);
	a = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(tcpi), tcpi);
	a->nla_len += 64; /* claims bytes past the end of the message */
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_attr, 1);

	a->nla_len = 2; /* shorter than an attribute header */
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_attr, 2);
}

static void test_attr_cut_by_message_end(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	struct inet_diag_meminfo mi = { 1, 2, 3, 4 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	mnl_attr_put(nlh, INET_DIAG_MEMINFO, sizeof(mi), &mi);
	nlh->nlmsg_len -= 8; /* the message ends inside the attribute */
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_attr, 1);

	nlh->nlmsg_len -= 10; /* ... and inside its header: 2 bytes left */
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_attr, 2);
}

static void test_short_fixed_attr(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	uint32_t half[2] = { 1, 2 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	mnl_attr_put(nlh, INET_DIAG_MEMINFO, sizeof(half), half);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -EBADMSG);
	assert_int_equal(c.bad_attr, 1);
}

static void test_unknown_attr_and_type(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	uint8_t blob[13] = { 0 };
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	mnl_attr_put(nlh, 40, sizeof(blob), blob);
	mnl_attr_put_u8(nlh, INET_DIAG_TOS, 7);
	mnl_attr_put(nlh, 0, 4, blob);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), 0);
	assert_int_equal(c.unknown_attr, 2);
	assert_int_equal(rec.present, XTCPD_HAS_TOS);
	assert_int_equal(rec.tos, 7);

	nlh->nlmsg_type = 99;
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), NLP_DECODE_ALL, &rec, &c), -ENOMSG);
	assert_int_equal(c.bad_type, 1);
	assert_int_equal(c.records, 1);
}

static void test_decode_mask(void **state)
{
	struct nlmsghdr *nlh = msg_start(SOCK_DIAG_BY_FAMILY);
	uint8_t tcpi[232];
	struct xtcpd_record rec;
	struct nlp_counts c = { 0 };
	(void)state;

	fill_tcpi(tcpi, sizeof(tcpi));
	mnl_attr_put(nlh, INET_DIAG_INFO, sizeof(tcpi), tcpi);
	mnl_attr_put_strz(nlh, INET_DIAG_CONG, "cubic");
	mnl_attr_put_u32(nlh, INET_DIAG_MARK, 9);
	assert_int_equal(nlp_parse(guarded(nlh, nlh->nlmsg_len), XTCPD_HAS_CONG, &rec, &c), 0);
	assert_int_equal(rec.present, XTCPD_HAS_CONG);
	assert_int_equal(rec.tcpi_len, 0);
	assert_int_equal(rec.tcpi.rto, 0);
	assert_int_equal(rec.mark, 0);
	assert_int_equal(rec.cong_enum, XTCPD_CONG_CUBIC);
}

static void test_cong_names(void **state)
{
	(void)state;
	assert_int_equal(nlp_cong_enum("cubic"), XTCPD_CONG_CUBIC);
	assert_int_equal(nlp_cong_enum("dctcp"), XTCPD_CONG_DCTCP);
	assert_int_equal(nlp_cong_enum("vegas"), XTCPD_CONG_VEGAS);
	assert_int_equal(nlp_cong_enum("prague"), XTCPD_CONG_PRAGUE);
	assert_int_equal(nlp_cong_enum("bbr"), XTCPD_CONG_BBR1);
	assert_int_equal(nlp_cong_enum("bbr2"), XTCPD_CONG_BBR2);
	assert_int_equal(nlp_cong_enum("bbr3"), XTCPD_CONG_BBR3);
	assert_int_equal(nlp_cong_enum("reno"), XTCPD_CONG_UNSPECIFIED);
	assert_int_equal(nlp_cong_enum(""), XTCPD_CONG_UNSPECIFIED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_message),
		cmocka_unit_test(test_meminfo_from_skmem),
		cmocka_unit_test(test_short_info_4_15),
		cmocka_unit_test(test_oversize_info),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_lying_attr_len),
		cmocka_unit_test(test_attr_cut_by_message_end),
		cmocka_unit_test(test_short_fixed_attr),
		cmocka_unit_test(test_unknown_attr_and_type),
		cmocka_unit_test(test_decode_mask),
		cmocka_unit_test(test_cong_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
