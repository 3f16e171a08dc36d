/* test_tcp — the tcp sink through its ops table against a peer in this test: the byte
 * stream is exactly the batches (IPv4, IPv6), the csv header once per connection, and
 * each failure injected and counted exactly: refused (dropped at once with
 * retry_timeout 0, ridden through with a retry budget), the peer closing between two
 * batches (noticed before writing, reconnected, nothing lost), a reset in the middle of
 * a large batch (torn, sent again whole on the next connection), a peer that stops
 * reading (write_timeout), cancel while writing and while waiting to reconnect, and bad
 * keys. In every case each batch is released exactly once: delivered + dropped = sent. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/skip.h"
#include "tests/plugins/sinks/peer.h"

static struct th_plugin tcp_plugin;
static uint8_t out[4 << 20], in_buf[8 << 20];

#define FAILED(in, r) th_metric((in)->ctx, "sink_failed_total", "reason=\"" r "\"")

/* Every batch released once; the sink's own counters agree. */
static void expect_counts(struct th_inst *in, uint64_t delivered, uint64_t dropped)
{
	struct th_released r;

	th_released_get(in->ctx, &r);
	assert_int_equal(r.ok, delivered);
	assert_int_equal(r.failed, dropped);
	assert_int_equal(r.twice, 0);
	assert_int_equal(th_outcome(in->ctx, TH_SENT), delivered + dropped);
}

/* A sink for 127.0.0.1:port, reconnecting without pause unless the extra keys (up to
 * three, NULL-terminated early) say otherwise. */
static int make(struct th_inst *in, unsigned port, const char *e1, const char *e2,
		const char *e3)
{
	static char kv_addr[64];
	const char *kv[] = { kv_addr, "reconnect_min=0", e1, e2, e3, NULL };

	snprintf(kv_addr, sizeof(kv_addr), "address=127.0.0.1:%u", port);
	return th_inst_create(in, &tcp_plugin, kv);
}

static struct xtcpd_buf *batch(size_t n, unsigned seed)
{
	peer_fill(out, n, seed);
	return th_buf(out, n, seed + 1);
}

static void roundtrip(int family, const char *host)
{
	char kv_addr[80];
	const char *kv[] = { kv_addr, NULL };
	struct th_inst in;
	unsigned port = 0;
	int lfd = peer_listen_tcp(family, &port, 0), c = -1;

	if (lfd < 0)
		XT_SKIP("no loopback for address family %d", family);
	snprintf(kv_addr, sizeof(kv_addr), "address=%s:%u", host, port);
	assert_int_equal(th_inst_create(&in, &tcp_plugin, kv), 0);
	assert_int_equal(in.ops->max_message(in.sink), 0);
	for (unsigned i = 0; i < 40; i++) {
		size_t n = 1 + (size_t)i * 1499 % 30000;

		assert_int_equal(in.ops->send(in.sink, batch(n, i)), 0);
		if (c < 0)
			c = peer_accept(lfd, 2000);
		assert_true(c >= 0);
		assert_int_equal(peer_read(c, in_buf, n, 2000), n);
		peer_fill(out, n, i);
		assert_memory_equal(in_buf, out, n);
	}
	assert_int_equal(in.ops->flush(in.sink, 10), 0);
	expect_counts(&in, 40, 0);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connected", NULL), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	th_inst_destroy(&in);
	/* destroy closed the connection */
	assert_int_equal(peer_read(c, in_buf, 1, 2000), 0);
	close(c);
	close(lfd);
}

static void test_ipv4(void **state) { (void)state; roundtrip(AF_INET, "127.0.0.1"); }
static void test_ipv6(void **state) { (void)state; roundtrip(AF_INET6, "[::1]"); }

static struct xtcpd_buf *csv_batch(unsigned i)
{
	char text[64];
	struct xtcpd_buf *b;

	snprintf(text, sizeof(text), "a,b\n%u,x\n%u,y\n", i, i);
	b = th_buf(text, strlen(text), 2);
	b->flags |= XTCPD_BUF_HEADER;
	return b;
}

/* The peer closes between two batches: the sink sees it before writing, reconnects at
 * once (the connection had delivered), and the new connection starts with the header. */
static void test_peer_closed(void **state)
{
	struct th_inst in;
	unsigned port = 0;
	int lfd = peer_listen_tcp(AF_INET, &port, 0), c1, c2, sfd;
	const char *want1 = "a,b\n0,x\n0,y\n1,x\n1,y\n", *want2 = "a,b\n2,x\n2,y\n3,x\n3,y\n";

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(make(&in, port, NULL, NULL, NULL), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(0)), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(1)), 0);
	c1 = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c1, in_buf, strlen(want1), 2000), strlen(want1));
	assert_memory_equal(in_buf, want1, strlen(want1));
	sfd = peer_sink_fd(c1);
	assert_true(sfd >= 0);
	close(c1);
	assert_true(peer_wait_closed(sfd, 2000));
	assert_int_equal(in.ops->send(in.sink, csv_batch(2)), 0);
	assert_int_equal(in.ops->send(in.sink, csv_batch(3)), 0);
	c2 = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c2, in_buf, strlen(want2) + 1, 500), strlen(want2));
	assert_memory_equal(in_buf, want2, strlen(want2));
	expect_counts(&in, 4, 0);
	assert_int_equal(FAILED(&in, "closed"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 2);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 0);
	th_inst_destroy(&in);
	close(c2);
	close(lfd);
}

/* Nobody listens. With retry_timeout = 0 each batch gets one attempt and is dropped;
 * once a listener is there, the next batch goes through. */
static void test_refused(void **state)
{
	struct th_inst in;
	unsigned port = peer_closed_port();
	int lfd, c;

	(void)state;
	assert_int_equal(make(&in, port, "retry_timeout=0", "reconnect_max=0", NULL), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(in.ops->send(in.sink, batch(100, i)), 0);
	expect_counts(&in, 0, 3);
	assert_int_equal(FAILED(&in, "econnrefused"), 3);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 0);
	assert_int_equal(th_metric(in.ctx, "sink_connected", NULL), 0);
	lfd = peer_listen_tcp(AF_INET, &port, 0);
	assert_true(lfd >= 0);
	assert_int_equal(in.ops->send(in.sink, batch(100, 3)), 0);
	c = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c, in_buf, 101, 500), 100);
	peer_fill(out, 100, 3);
	assert_memory_equal(in_buf, out, 100);
	expect_counts(&in, 1, 3);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 3);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 0);
	assert_int_equal(th_metric(in.ctx, "sink_connected", NULL), 1);
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

/* The listener comes up while a batch waits (retry_timeout 10s, 20 ms pauses): it is
 * delivered; every refused attempt was followed by exactly one retry. */
static void test_refused_then_up(void **state)
{
	struct peer_sender ps;
	struct th_inst in;
	unsigned port = peer_closed_port();
	uint64_t refused;
	int lfd, c;

	(void)state;
	assert_int_equal(make(&in, port, "retry_timeout=10s", "reconnect_min=20ms", NULL), 0);
	peer_send_start(&ps, &in, batch(5000, 7));
	while (FAILED(&in, "econnrefused") < 2)
		usleep(5000);
	lfd = peer_listen_tcp(AF_INET, &port, 0);
	assert_true(lfd >= 0);
	c = peer_accept(lfd, 5000);
	assert_int_equal(peer_read(c, in_buf, 5000, 2000), 5000);
	assert_int_equal(peer_send_join(&ps), 0);
	peer_fill(out, 5000, 7);
	assert_memory_equal(in_buf, out, 5000);
	expect_counts(&in, 1, 0);
	refused = FAILED(&in, "econnrefused");
	assert_true(refused >= 2);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), refused);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), refused);
	th_inst_destroy(&in);
	close(c);
	close(lfd);
}

/* A 4 MiB batch through small buffers; the peer reads 1000 bytes and closes with data
 * unread (a reset). The batch is torn, then sent again whole on a second connection. */
static void test_reset_mid_batch(void **state)
{
	const size_t n = 4 << 20;
	struct peer_sender ps;
	struct th_inst in;
	unsigned port = 0;
	int lfd = peer_listen_tcp(AF_INET, &port, 4096), c1, c2;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(make(&in, port, "sndbuf=4096", NULL, NULL), 0);
	peer_send_start(&ps, &in, batch(n, 9));
	c1 = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c1, in_buf, 1000, 2000), 1000);
	assert_int_equal(peer_read(c1, in_buf + 1000, 1, 2000), 1); /* more is queued */
	close(c1);                                                  /* unread data: RST */
	c2 = peer_accept(lfd, 5000);
	assert_true(c2 >= 0);
	assert_int_equal(peer_read(c2, in_buf, n, 5000), n);
	assert_int_equal(peer_send_join(&ps), 0);
	peer_fill(out, n, 9);
	assert_memory_equal(in_buf, out, n);
	expect_counts(&in, 1, 0);
	assert_int_equal(FAILED(&in, "econnreset"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_retried_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 2);
	th_inst_destroy(&in);
	close(c2);
	close(lfd);
}

/* The peer accepts but never reads: after write_timeout (1s) the connection is given up
 * (torn); the batch goes whole over a second connection that is read. */
static void test_write_timeout(void **state)
{
	const size_t n = 2 << 20;
	struct peer_sender ps;
	struct th_inst in;
	unsigned port = 0;
	int lfd = peer_listen_tcp(AF_INET, &port, 4096), c1, c2;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(make(&in, port, "sndbuf=4096", "write_timeout=1s", NULL), 0);
	peer_send_start(&ps, &in, batch(n, 11));
	c1 = peer_accept(lfd, 2000);
	c2 = peer_accept(lfd, 10000);
	assert_true(c1 >= 0 && c2 >= 0);
	assert_int_equal(peer_read(c2, in_buf, n, 5000), n);
	assert_int_equal(peer_send_join(&ps), 0);
	peer_fill(out, n, 11);
	assert_memory_equal(in_buf, out, n);
	expect_counts(&in, 1, 0);
	assert_int_equal(FAILED(&in, "etimedout"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connects_total", NULL), 2);
	th_inst_destroy(&in);
	close(c1);
	close(c2);
	close(lfd);
}

/* Shutdown: cancel ends a send stuck on a peer that does not read (write_timeout 10m)
 * and one waiting minutes to reconnect; both batches dropped, counted as cancelled. */
static void test_cancel(void **state)
{
	struct peer_sender ps;
	struct th_inst in, in2;
	unsigned port = 0;
	int lfd = peer_listen_tcp(AF_INET, &port, 4096), c;

	(void)state;
	assert_true(lfd >= 0);
	assert_int_equal(make(&in, port, "sndbuf=4096", "write_timeout=10m", NULL), 0);
	peer_send_start(&ps, &in, batch(2 << 20, 13));
	c = peer_accept(lfd, 2000);
	assert_int_equal(peer_read(c, in_buf, 1, 2000), 1);     /* it is writing */
	in.ops->cancel(in.sink);
	assert_int_equal(peer_send_join(&ps), 0);
	expect_counts(&in, 0, 1);
	assert_int_equal(FAILED(&in, "cancelled"), 1);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 1);
	assert_int_equal(th_metric(in.ctx, "sink_torn_batches_total", NULL), 1);
	assert_int_equal(th_metric(in.ctx, "sink_connected", NULL), 0);
	th_inst_destroy(&in);
	close(c);
	close(lfd);

	assert_int_equal(make(&in2, peer_closed_port(), "retry_timeout=10m", "reconnect_min=5m",
			      "reconnect_max=5m"), 0);
	peer_send_start(&ps, &in2, batch(10, 14));
	while (FAILED(&in2, "econnrefused") < 1)
		usleep(5000);
	in2.ops->cancel(in2.sink);
	assert_int_equal(peer_send_join(&ps), 0);
	expect_counts(&in2, 0, 1);
	assert_int_equal(FAILED(&in2, "econnrefused"), 1);
	assert_int_equal(FAILED(&in2, "cancelled"), 1);
	assert_int_equal(th_metric(in2.ctx, "sink_retried_total", NULL), 1);
	th_inst_destroy(&in2);
}

static void test_bad_keys(void **state)
{
	const char *bad[][4] = {
		{ "address=localhost", NULL },                  /* no port */
		{ "address=::1:80", NULL },                     /* IPv6 needs brackets */
		{ "address=127.0.0.1:0", NULL },
		{ "address=127.0.0.1:65536", NULL },
		{ "address=[::1]80", NULL },
		{ "address=127.0.0.1:80", "reconnect_min=2s", "reconnect_max=1s", NULL },
	};
	struct th_inst in;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(th_inst_create(&in, &tcp_plugin, bad[i]), -EINVAL);
		th_inst_destroy(&in);
	}
}

static int setup(void **state)
{
	(void)state;
	return th_load(XTCPD_KIND_SINK, "tcp", &tcp_plugin);
}

static int teardown(void **state)
{
	(void)state;
	th_unload(&tcp_plugin);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_peer_closed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_then_up),
		cmocka_unit_test(test_reset_mid_batch),
		cmocka_unit_test(test_write_timeout),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
