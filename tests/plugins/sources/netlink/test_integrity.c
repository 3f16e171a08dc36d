/* test_integrity — the readers' checks on answers, driven with crafted datagrams
 * through nls_process() on an instance made by the plugin's own create(): wrong port
 * id and stale sequence numbers dropped and counted, NLM_F_DUMP_INTR flagged on the
 * records and counted at the end of the dump, NLMSG_ERROR counted, the legacy request's
 * refusal falling back to per-family requests (read back from the socket's other end),
 * the per-family chain IPv4 -> IPv6 -> done, records of a closed cycle not emitted, a
 * namespace whose dump never ended skipped, then asked again, the end of a superseded
 * request ignored; and, read off real sockets
 * (nls_read_one), answers forged by a process (right port id, right sequence number)
 * dropped and counted as reason="sender" while the kernel's pass, a socket connected as the
 * source connects its own refusing the forger outright, and sequence numbers that do not
 * follow one another. */
#include <errno.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "plugins/sources/netlink/nlsrc.h"
#include "tests/lib/testhost.h"

extern const struct xtcpd_plugin xtcpd_plugin;

static uint8_t dgram[16384] __attribute__((aligned(8)));
static size_t dlen;
static unsigned emitted, emitted_intr;
static struct xtcpd_ctx *ctx;
static struct xtcpd_config *cfg;
static struct nls *s;
static struct nls_ns n;
static struct xtcpd_netns ns = { .name = "test", .inode = 4242, .nsid = 7 };
static int sv[2];

static int on_emit(void *arg, unsigned lane, struct xtcpd_record *r)
{
	(void)lane;
	emitted++;
	emitted_intr += !!(r->flags & XTCPD_REC_DUMP_INTR);
	assert_string_equal(r->netns, "test");
	assert_int_equal(r->netns_inode, 4242);
	assert_int_equal(r->nsid, 7);
	return 0;
}

static void put(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, int err)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(dgram + dlen);

	h->nlmsg_type = type;
	h->nlmsg_flags = flags | NLM_F_MULTI;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = pid;
	if (type == NLMSG_ERROR) {
		struct nlmsgerr *e = mnl_nlmsg_put_extra_header(h, sizeof(*e));

		e->error = err;
	} else if (type == NLMSG_DONE) {
		*(int *)mnl_nlmsg_put_extra_header(h, sizeof(int)) = 0;
	} else {
		struct inet_diag_msg *m = mnl_nlmsg_put_extra_header(h, sizeof(*m));

		m->idiag_family = AF_INET;
		m->idiag_state = 1;
		m->id.idiag_sport = htons(80);
	}
	dlen += h->nlmsg_len;
}

static void feed(int emit)
{
	nls_process(s, &n, dgram, dlen, 0, 1, emit);
	dlen = 0;
}

static uint64_t M(const char *name, const char *labels)
{
	return th_metric(ctx, name, labels);
}

/* The request the source sent on its socket. */
static void sent(uint16_t type, int family, uint32_t *seq)
{
	uint8_t b[8192];
	ssize_t r = recv(sv[1], b, sizeof(b), MSG_DONTWAIT);
	const struct nlmsghdr *h = (const void *)b;

	assert_true(r > 0);
	assert_int_equal(h->nlmsg_type, type);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	if (type == SOCK_DIAG_BY_FAMILY)
		assert_int_equal(((const struct inet_diag_req_v2 *)(b + NLMSG_HDRLEN))->sdiag_family, family);
	*seq = h->nlmsg_seq;
}

static void nothing_sent(void)
{
	uint8_t b[64];

	assert_int_equal(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), -1);
}

static void start_dump(int family, uint32_t seq)
{
	n.family = family;
	atomic_store(&n.seq, seq);
	atomic_store(&n.seq_prev, 0);
	atomic_store(&n.intr, 0);
	n.busy = 1;
	n.cycle = 1;
	s->cycle = 1;
	s->cycle_open = 1;
	s->outstanding = 1;
}

static int setup(void **state)
{
	const struct xtcpd_source_ops *ops = xtcpd_plugin.ops;

	(void)state;
	/* created, not started: the test plays the reader threads itself */
	ctx = th_ctx_new("source/netlink");
	th_ctx_on_emit(ctx, on_emit, NULL);
	cfg = th_config(&xtcpd_plugin, "netlink", NULL);
	if (!cfg || ops->common.create(&th_host, ctx, cfg, (void **)&s))
		return -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		return -1;
	n.src = s;
	n.ns = &ns;
	n.fd = sv[0];
	n.portid = 1234;
	n.capture_fd = -1;
	n.ss = (struct nlss)NLSS_INIT;
	pthread_mutex_init(&n.lock, NULL);
	return 0;
}

static int teardown(void **state)
{
	const struct xtcpd_source_ops *ops = xtcpd_plugin.ops;

	(void)state;
	close(sv[0]);
	close(sv[1]);
	pthread_mutex_destroy(&n.lock);
	if (s)
		ops->common.destroy(s);
	th_config_free(cfg);
	th_ctx_free(ctx);
	return 0;
}

static void test_portid_seq_intr(void **state)
{
	(void)state;
	start_dump(0, 77);
	emitted = emitted_intr = 0;
	put(TCPDIAG_GETSOCK, 0, 77, 999, 0);   /* another port id */
	put(TCPDIAG_GETSOCK, 0, 76, 1234, 0);  /* an older request */
	put(TCPDIAG_GETSOCK, 0, 77, 1234, 0);
	feed(1);
	assert_int_equal(emitted, 1);
	assert_int_equal(M("netlink_errors_total", "reason=\"portid\""), 1);
	assert_int_equal(M("netlink_errors_total", "reason=\"seq\""), 1);
	put(TCPDIAG_GETSOCK, NLM_F_DUMP_INTR, 77, 1234, 0);
	put(TCPDIAG_GETSOCK, 0, 77, 1234, 0);  /* later records of the dump: flagged too */
	feed(1);
	assert_int_equal(emitted, 3);
	assert_int_equal(emitted_intr, 2);
	assert_int_equal(s->outstanding, 1);
	put(NLMSG_DONE, 0, 77, 1234, 0);
	feed(1);
	assert_int_equal(M("netlink_dump_intr_total", NULL), 1);
	assert_int_equal(s->outstanding, 0);
	assert_int_equal(n.busy, 0);
	nothing_sent();
}

static void test_legacy_refused_falls_back(void **state)
{
	uint32_t seq4, seq6;
	(void)state;

	start_dump(0, 100);
	emitted = 0;
	assert_int_equal(atomic_load(&s->legacy_ok), 1);
	put(NLMSG_ERROR, 0, 100, 1234, -EINVAL);
	feed(1);
	assert_int_equal(M("netlink_errors_total", "reason=\"nlmsg_error\""), 1);
	assert_int_equal(atomic_load(&s->legacy_ok), 0);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET, &seq4);
	assert_int_equal(atomic_load(&n.seq), seq4);
	assert_int_equal(s->outstanding, 1); /* still running, now per family */
	put(SOCK_DIAG_BY_FAMILY, 0, seq4, 1234, 0);
	put(NLMSG_DONE, 0, seq4, 1234, 0);
	feed(1);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET6, &seq6);
	assert_int_equal(s->outstanding, 1);
	/* A late datagram of the IPv4 dump parsed after the IPv6 request went out: kept. */
	put(SOCK_DIAG_BY_FAMILY, 0, seq4, 1234, 0);
	put(SOCK_DIAG_BY_FAMILY, 0, seq6, 1234, 0);
	put(NLMSG_DONE, 0, seq6, 1234, 0);
	feed(1);
	assert_int_equal(emitted, 3);
	assert_int_equal(s->outstanding, 0);
	nothing_sent();
}

static void test_error_per_family_ends_dump(void **state)
{
	(void)state;
	start_dump(AF_INET, 200);
	put(NLMSG_ERROR, 0, 200, 1234, -ENOENT);
	feed(1);
	assert_int_equal(M("netlink_errors_total", "reason=\"nlmsg_error\""), 2);
	assert_int_equal(s->outstanding, 0);
	assert_int_equal(n.busy, 0);
	nothing_sent();
}

static void test_closed_cycle_not_emitted(void **state)
{
	(void)state;
	start_dump(0, 300);
	emitted = 0;
	put(TCPDIAG_GETSOCK, 0, 300, 1234, 0);
	put(TCPDIAG_GETSOCK, 0, 300, 1234, 0);
	feed(0);
	assert_int_equal(emitted, 0);
	assert_int_equal(M("netlink_late_records_total", NULL), 2);
	/* parsed: 3 (first test) + 3 (fallback) + 2 here; dropped answers are not parsed */
	assert_int_equal(M("netlink_sockets_total", NULL), 3 + 3 + 2);
}

static void test_busy_namespace_retried(void **state)
{
	const struct xtcpd_source_ops *ops = xtcpd_plugin.ops;
	struct xtcpd_netns *list[1] = { &ns };
	struct xtcpd_cycle cyc = { .ns = list, .n_ns = 1 };
	uint32_t seq;
	(void)state;

	/* A dump from an earlier cycle never ended: skipped 4 cycles, then asked again. */
	ns.source_priv = &n;
	n.busy = 1;
	n.busy_skips = 0;
	for (int i = 1; i <= 4; i++) {
		cyc.seq = 10 + (uint64_t)i;
		cyc.deadline_ns = 0; /* long past */
		assert_int_equal(ops->poll(s, &cyc), 0);
		nothing_sent();
	}
	assert_int_equal(M("netlink_namespaces_busy_total", NULL), 4);
	cyc.seq = 15;
	assert_int_equal(ops->poll(s, &cyc), -ETIMEDOUT); /* nobody answers here */
	sent(SOCK_DIAG_BY_FAMILY, AF_INET, &seq);        /* per family since the refusal */
	assert_int_equal(M("netlink_dumps_missed_total", NULL), 1);
	assert_int_equal(n.busy, 1);
	assert_int_equal(n.busy_skips, 0);
	ns.source_priv = NULL;
}

/* The end of a request that is no longer the running one (its successor was sent: the
 * chain moved on, or poll() asked again after NLS_BUSY_MAX cycles) neither chains nor
 * ends the running dump: only the running request's end does. */
static void test_superseded_end_ignored(void **state)
{
	uint32_t a, b, c;
	(void)state;

	start_dump(AF_INET, 0);
	assert_int_equal(nls_send(s, &n, AF_INET, 0), 0);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET, &a);
	put(NLMSG_DONE, 0, a, 1234, 0);
	feed(1);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET6, &b);       /* the chain: IPv6 half */
	assert_int_equal(atomic_load(&n.seq_prev), a);
	put(NLMSG_ERROR, 0, a, 1234, -EBUSY);         /* a late end of the IPv4 request */
	feed(1);
	nothing_sent();
	assert_int_equal(n.busy, 1);                  /* the IPv6 dump still runs */
	assert_int_equal(s->outstanding, 1);
	assert_int_equal(n.family, AF_INET6);
	/* poll() asks again (the dump missed NLS_BUSY_MAX cycles): the old chain's end, even
	 * one that passed the reader's sequence check just before, starts nothing */
	assert_int_equal(nls_send(s, &n, AF_INET, 0), 0);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET, &c);
	atomic_store(&n.seq_prev, b);                 /* as if checked before the new seq */
	put(NLMSG_DONE, 0, b, 1234, 0);
	feed(1);
	nothing_sent();
	assert_int_equal(n.busy, 1);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(atomic_load(&n.seq), c);
	put(NLMSG_DONE, 0, c, 1234, 0);               /* its own IPv4 end chains IPv6 */
	feed(1);
	sent(SOCK_DIAG_BY_FAMILY, AF_INET6, &b);
	put(NLMSG_DONE, 0, b, 1234, 0);
	feed(1);
	nothing_sent();
	assert_int_equal(n.busy, 0);
	assert_int_equal(s->outstanding, 0);
}

/* A dump answer as a process of the namespace would forge it: our port id, our seq. */
static void forge(uint32_t seq, uint32_t portid)
{
	dlen = 0;
	put(TCPDIAG_GETSOCK, 0, seq, portid, 0);
	put(NLMSG_DONE, 0, seq, portid, 0);
}

static uint8_t rbuf[64 << 10];   /* a reader's receive buffer (recv_buffer's default) */

static void test_forged_sender_dropped(void **state)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK }, to = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(me);
	uint64_t dgrams;
	int a, forger, c;
	uint8_t drain[65536];
	(void)state;
	assert_true(s->recv_buffer <= sizeof(rbuf));

	/* 1. not even a netlink sender (the socketpair): dropped before parsing */
	start_dump(0, 500);
	emitted = 0;
	forge(500, 1234);
	assert_int_equal(send(sv[1], dgram, dlen, 0), (ssize_t)dlen);
	nls_read_one(s, &n, rbuf, 0);
	assert_int_equal(emitted, 0);
	assert_int_equal(M("netlink_errors_total", "reason=\"sender\""), 1);
	assert_int_equal(s->outstanding, 1);   /* its NLMSG_DONE ended nothing */

	/* 2. a process's netlink socket sending to an unconnected sock_diag socket */
	a = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	forger = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	assert_true(a >= 0 && forger >= 0);
	assert_int_equal(bind(a, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(getsockname(a, (struct sockaddr *)&me, &sl), 0);
	n.fd = a;
	n.portid = me.nl_pid;
	start_dump(0, 501);
	forge(501, me.nl_pid);
	to.nl_pid = me.nl_pid;
	assert_int_equal(sendto(forger, dgram, dlen, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)dlen);
	dgrams = M("netlink_datagrams_total", NULL);
	nls_read_one(s, &n, rbuf, 0);
	assert_int_equal(emitted, 0);
	assert_int_equal(M("netlink_errors_total", "reason=\"sender\""), 2);
	assert_int_equal(M("netlink_datagrams_total", NULL), dgrams);
	assert_int_equal(s->outstanding, 1);

	/* 3. the kernel's answer to a real request on the same socket is taken */
	assert_int_equal(nls_send(s, &n, AF_INET, 0), 0);
	s->cycle_open = 0;   /* read, counted, not emitted */
	nls_read_one(s, &n, rbuf, 0);
	assert_int_equal(M("netlink_datagrams_total", NULL), dgrams + 1);
	assert_int_equal(M("netlink_errors_total", "reason=\"sender\""), 2);
	while (recv(a, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;

	/* 4. connected to the kernel, as nls_ns_add leaves every socket: refused at send */
	c = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	me = (struct sockaddr_nl){ .nl_family = AF_NETLINK };
	sl = sizeof(me);
	assert_int_equal(bind(c, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(getsockname(c, (struct sockaddr *)&me, &sl), 0);
	to = (struct sockaddr_nl){ .nl_family = AF_NETLINK };
	assert_int_equal(connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	to.nl_pid = me.nl_pid;
	assert_int_equal(sendto(forger, dgram, dlen, 0, (struct sockaddr *)&to, sizeof(to)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(c);
	close(forger);
	close(a);
	n.fd = sv[0];
	n.portid = 1234;
	s->outstanding = 0;
	n.busy = 0;
}

/* A forger sprayed sequence numbers 1-200: ours are random, never 0, none repeated. */
static void test_seq_unpredictable(void **state)
{
	uint32_t seq[8];
	(void)state;

	for (int i = 0; i < 8; i++) {
		assert_int_equal(nls_send(s, &n, AF_INET, 0), 0);
		sent(SOCK_DIAG_BY_FAMILY, AF_INET, &seq[i]);
		assert_true(seq[i] > 1000);   /* 8 draws: a false alarm once in 5e5 runs */
		for (int j = 0; j < i; j++) {
			assert_true(seq[i] != seq[j]);
			assert_true(seq[i] != seq[j] + 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portid_seq_intr),
		cmocka_unit_test(test_legacy_refused_falls_back),
		cmocka_unit_test(test_error_per_family_ends_dump),
		cmocka_unit_test(test_closed_cycle_not_emitted),
		cmocka_unit_test(test_busy_namespace_retried),
		cmocka_unit_test(test_superseded_end_ignored),
		cmocka_unit_test(test_forged_sender_dropped),
		cmocka_unit_test(test_seq_unpredictable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
