/* test_http — the http sink through its ops table against a small HTTP/1.1 server in this
 * test (one thread per connection, answers scripted per request): bodies arrive byte-exact
 * with the configured headers, concurrency is bounded, 5xx and refused connections are
 * retried with backoff and counted, 4xx fails at once with the body's first line logged,
 * timeouts and cancel are bounded, every batch comes back exactly once; bad keys refused
 * alike by the check op (nothing opened) and create. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/testhost.h"

#define MAXREQ 64

/* The server's script and what it saw. */
struct srv {
	int lfd;
	unsigned port;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int statuses[16];           /* answer of request i (then the last one again) */
	unsigned n_statuses;
	const char *reply_body;
	int hold;                   /* hold answers until released (or forever) */
	int stopping;
	unsigned requests, concurrent, max_concurrent;
	size_t body_len[MAXREQ];
	unsigned char *body[MAXREQ];
	char ctype[128], xtest[64], target[256], method[16];
	int conns[64];
	unsigned n_conns;
};

static struct th_plugin http_plugin;
static struct srv S;

static ssize_t read_until(int fd, char *buf, size_t cap, size_t *have)
{
	while (!memmem(buf, *have, "\r\n\r\n", 4)) {
		ssize_t r;

		if (*have == cap)
			return -1;
		r = read(fd, buf + *have, cap - *have);
		if (r <= 0)
			return -1;
		*have += (size_t)r;
	}
	return (char *)memmem(buf, *have, "\r\n\r\n", 4) - buf + 4;
}

static void header_value(const char *head, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(head, name);

	out[0] = '\0';
	if (p) {
		p += strlen(name);
		while (*p == ' ')
			p++;
		snprintf(out, n, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
}

/* One connection: requests until the peer closes. */
static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char head[8192], cl[32], resp[1024];
	size_t have = 0;

	for (;;) {
		ssize_t end = read_until(fd, head, sizeof(head) - 1, &have);
		size_t len, got;
		unsigned char *body;
		unsigned idx;
		int status;

		if (end < 0)
			break;
		head[end - 1] = '\0';
		header_value(head, "\r\nContent-Length:", cl, sizeof(cl));
		len = strtoul(cl, NULL, 10);
		body = malloc(len + 1);
		got = have - (size_t)end < len ? have - (size_t)end : len;
		memcpy(body, head + end, got);
		memmove(head, head + end + got, have - (size_t)end - got);
		have -= (size_t)end + got;
		while (got < len) {
			ssize_t r = read(fd, body + got, len - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		pthread_mutex_lock(&S.lock);
		idx = S.requests++;
		if (++S.concurrent > S.max_concurrent)
			S.max_concurrent = S.concurrent;
		sscanf(head, "%15s %255s", S.method, S.target);
		header_value(head, "\r\nContent-Type:", S.ctype, sizeof(S.ctype));
		header_value(head, "\r\nX-Test:", S.xtest, sizeof(S.xtest));
		if (idx < MAXREQ) {
			S.body[idx] = body;
			S.body_len[idx] = got;
		} else {
			free(body);
		}
		while (S.hold && !S.stopping)
			pthread_cond_wait(&S.cond, &S.lock);
		status = S.statuses[idx < S.n_statuses ? idx : S.n_statuses - 1];
		S.concurrent--;
		pthread_mutex_unlock(&S.lock);
		if (S.stopping)
			break;
		snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n\r\n%s", status, strlen(S.reply_body), S.reply_body);
		if (write(fd, resp, strlen(resp)) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static void *accept_thread(void *arg)
{
	pthread_t t[64];
	unsigned n = 0;
	int fd;

	(void)arg;
	while ((fd = accept(S.lfd, NULL, NULL)) >= 0 && n < 64) {
		pthread_create(&t[n++], NULL, conn_thread, (void *)(intptr_t)fd);
		pthread_mutex_lock(&S.lock);
		S.conns[S.n_conns++] = fd;
		pthread_mutex_unlock(&S.lock);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

/* Start the server: answers `statuses` in order (the last one repeats). */
static void srv_start(const char *reply, int hold, unsigned n, const int *statuses)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);

	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.lock, NULL);
	pthread_cond_init(&S.cond, NULL);
	memcpy(S.statuses, statuses, n * sizeof(int));
	S.n_statuses = n;
	S.reply_body = reply;
	S.hold = hold;
	S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(S.lfd >= 0);
	assert_int_equal(bind(S.lfd, (void *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(S.lfd, 64), 0);
	getsockname(S.lfd, (void *)&sin, &sl);
	S.port = ntohs(sin.sin_port);
	pthread_create(&S.accept_thread, NULL, accept_thread, NULL);
}

static void srv_release(void)
{
	pthread_mutex_lock(&S.lock);
	S.hold = 0;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
}

static void srv_stop(void)
{
	pthread_mutex_lock(&S.lock);
	S.stopping = 1;
	S.hold = 0;
	pthread_cond_broadcast(&S.cond);
	for (unsigned i = 0; i < S.n_conns; i++)
		shutdown(S.conns[i], SHUT_RDWR);
	pthread_mutex_unlock(&S.lock);
	shutdown(S.lfd, SHUT_RDWR);
	pthread_join(S.accept_thread, NULL);
	close(S.lfd);
	for (unsigned i = 0; i < MAXREQ; i++)
		free(S.body[i]);
}

static unsigned srv_requests(void)
{
	unsigned n;

	pthread_mutex_lock(&S.lock);
	n = S.requests;
	pthread_mutex_unlock(&S.lock);
	return n;
}

static void wait_requests(unsigned n)
{
	for (int i = 0; i < 500 && srv_requests() < n; i++)
		usleep(10000);
	assert_true(srv_requests() >= n);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create an http sink posting to the test server at PATH with extra keys. */
static void make_sink(struct th_inst *in, const char *path, const char *const *more)
{
	char url[300];
	const char *kv[16] = { url };
	int n = 1;

	snprintf(url, sizeof(url), "url=http://127.0.0.1:%u%s", S.port, path);
	while (more && *more)
		kv[n++] = *more++;
	kv[n] = NULL;
	assert_int_equal(th_inst_create(in, &http_plugin, kv), 0);
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define M(name, lab) th_metric(in.ctx, name, lab)

static void test_roundtrip(void **state)
{
	static const int ok[] = { 200 };
	static unsigned char data[3][300000];
	static const size_t sizes[3] = { 1, 4321, 300000 };
	struct th_released r;
	struct th_inst in;

	srv_start("Ok.\n", 0, 1, ok);
	make_sink(&in, "/?query=INSERT%20INTO%20t%20FORMAT%20JSONEachRow",
		  KV("header.X-Test=yes please", "content_type=application/x-test"));
	assert_int_equal(in.ops->max_message(in.sink), 0);
	for (unsigned i = 0; i < 3; i++) {
		for (size_t j = 0; j < sizes[i]; j++)
			data[i][j] = (unsigned char)(i * 7 + j * 13 + (j >> 9));
		in.ops->send(in.sink, th_buf(data[i], sizes[i], 10 + i));
	}
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 3);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.twice, 0);
	assert_int_equal(r.rows_ok, 33);
	assert_int_equal(srv_requests(), 3);
	/* concurrent POSTs may arrive in any order: match by size */
	for (unsigned i = 0; i < 3; i++) {
		unsigned k;

		for (k = 0; k < 3 && S.body_len[k] != sizes[i]; k++)
			;
		assert_true(k < 3);
		assert_memory_equal(S.body[k], data[i], sizes[i]);
	}
	assert_string_equal(S.method, "POST");
	assert_string_equal(S.target, "/?query=INSERT%20INTO%20t%20FORMAT%20JSONEachRow");
	assert_string_equal(S.ctype, "application/x-test");
	assert_string_equal(S.xtest, "yes please");
	assert_int_equal(th_outcome(in.ctx, TH_SENT), 3);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 3);
	assert_int_equal(th_outcome(in.ctx, TH_BYTES_OK), 1 + 4321 + 300000);
	assert_int_equal(M("sink_retried_total", NULL), 0);
	assert_int_equal(th_metric_sum(in.ctx, "sink_failed_total"), 0);
	assert_int_equal(M("sink_http_in_flight", NULL), 0);
	th_inst_destroy(&in);
	srv_stop();
}

/* No content_type key, and a host that lends no content_type (the test host's, like a
 * daemon older than ABI 1.4): application/octet-stream. */
static void test_default_content_type(void **state)
{
	static const int ok[] = { 204 };
	struct th_inst in;

	srv_start("", 0, 1, ok);
	make_sink(&in, "/ingest", NULL);
	in.ops->send(in.sink, th_buf("x", 1, 1));
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	assert_string_equal(S.ctype, "application/octet-stream");
	assert_string_equal(S.target, "/ingest");
	assert_int_equal(th_outcome(in.ctx, TH_OK), 1);
	th_inst_destroy(&in);
	srv_stop();
}

struct sender {
	struct th_inst *in;
	int done;
};

static void *send_one(void *arg)
{
	struct sender *s = arg;

	s->in->ops->send(s->in->sink, th_buf("late", 4, 1));
	__atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* concurrency = 2: two POSTs at once, the third send waits for a free slot. */
static void test_concurrency_bound(void **state)
{
	static const int ok[] = { 200 };
	struct sender s;
	struct th_inst in;
	pthread_t t;

	srv_start("", 1, 1, ok);
	make_sink(&in, "/", KV("concurrency=2"));
	in.ops->send(in.sink, th_buf("a", 1, 1));
	in.ops->send(in.sink, th_buf("b", 1, 1));
	s.in = &in;
	s.done = 0;
	pthread_create(&t, NULL, send_one, &s);
	wait_requests(2);
	usleep(300000);
	assert_int_equal(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(srv_requests(), 2);
	assert_int_equal(M("sink_http_in_flight", NULL), 2);
	srv_release();
	pthread_join(t, NULL);
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	assert_int_equal(srv_requests(), 3);
	assert_int_equal(S.max_concurrent, 2);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 3);
	th_inst_destroy(&in);
	srv_stop();
}

/* 503, 502, then 200: two retries, delivered; always 500: retries run out, failed. */
static void test_5xx_retried(void **state)
{
	static const int flaky[] = { 503, 502, 200 }, bad[] = { 500 };
	struct th_released r;
	struct th_inst in;
	int64_t t0;

	srv_start("overloaded\n", 0, 3, flaky);
	make_sink(&in, "/", KV("retries=3", "retry_backoff=50ms", "retry_backoff_max=80ms"));
	t0 = now_ms();
	in.ops->send(in.sink, th_buf("retry me", 8, 5));
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	assert_true(now_ms() - t0 >= 50 + 80);      /* backoffs 50 ms, then 80 (capped) */
	assert_int_equal(srv_requests(), 3);
	assert_memory_equal(S.body[2], "retry me", 8);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.failed, 0);
	assert_int_equal(M("sink_retried_total", NULL), 2);
	assert_int_equal(M("sink_failed_total", "reason=\"http_5xx\""), 2);
	assert_int_equal(th_outcome(in.ctx, TH_OK), 1);
	th_inst_destroy(&in);
	srv_stop();

	srv_start("down\n", 0, 1, bad);
	make_sink(&in, "/", KV("retries=2", "retry_backoff=10ms"));
	in.ops->send(in.sink, th_buf("lost", 4, 7));
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	assert_int_equal(srv_requests(), 3);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.rows_failed, 7);
	assert_int_equal(M("sink_retried_total", NULL), 2);
	assert_int_equal(M("sink_failed_total", "reason=\"http_5xx\""), 3);
	assert_int_equal(th_outcome(in.ctx, TH_FAILED), 1);
	assert_int_equal(th_outcome(in.ctx, TH_ROWS_FAILED), 7);
	th_inst_destroy(&in);
	srv_stop();
}

/* 400: no retry, failed at once, the body's first line in the (rate-limited) log. */
static void test_4xx_logged(void **state)
{
	static const int bad[] = { 400 };
	struct th_released r;
	struct th_logs l;
	struct th_inst in;
	char last[1024], want[300];

	srv_start("Code: 27. DB::Exception: Cannot parse input: expected { before: \x01x\n"
		  "second line\n", 0, 1, bad);
	make_sink(&in, "/?user=u&password=secret", KV("retries=5"));
	for (int i = 0; i < 4; i++)
		in.ops->send(in.sink, th_buf("{bad", 4, 2));
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	assert_int_equal(srv_requests(), 4);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 4);
	assert_int_equal(r.rows_failed, 8);
	assert_int_equal(M("sink_retried_total", NULL), 0);
	assert_int_equal(M("sink_failed_total", "reason=\"http_4xx\""), 4);
	th_last_log(in.ctx, last, sizeof(last));
	/* no password, no query; the first line only, non-printable bytes replaced */
	snprintf(want, sizeof(want), "POST http://127.0.0.1:%u/: HTTP 400 (attempt 1): Code: 27. "
		 "DB::Exception: Cannot parse input: expected { before: ?x", S.port);
	assert_string_equal(last, want);
	th_logs_get(in.ctx, &l);
	assert_int_equal(l.lines, 1);
	assert_int_equal(l.suppressed, 3);
	th_inst_destroy(&in);
	srv_stop();
}

/* Nobody listening: connect failures are retried, then the batch fails. */
static void test_connect_refused(void **state)
{
	static const int ok[] = { 200 };
	struct th_released r;
	struct th_inst in;

	srv_start("", 0, 1, ok);
	srv_stop();             /* its port is now closed */
	make_sink(&in, "/", KV("retries=2", "retry_backoff=10ms"));
	in.ops->send(in.sink, th_buf("nobody", 6, 3));
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(M("sink_failed_total", "reason=\"connect\""), 3);
	assert_int_equal(M("sink_retried_total", NULL), 2);
	th_inst_destroy(&in);
}

/* A server that never answers: the POST times out (no retry asked), flush reports what
 * is still in flight while it waits. */
static void test_timeout(void **state)
{
	static const int ok[] = { 200 };
	struct th_released r;
	struct th_inst in;

	srv_start("", 1, 1, ok);
	make_sink(&in, "/", KV("timeout=400ms", "retries=0"));
	in.ops->send(in.sink, th_buf("slow", 4, 1));
	assert_int_equal(in.ops->flush(in.sink, 100), 1);
	assert_int_equal(in.ops->flush(in.sink, 5000), 0);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(M("sink_failed_total", "reason=\"timeout\""), 1);
	th_inst_destroy(&in);
	srv_stop();
}

/* Shutdown deadline: cancel frees a send waiting for a slot and aborts the POST. */
static void test_cancel(void **state)
{
	static const int ok[] = { 200 };
	struct th_released r;
	struct sender s;
	struct th_inst in;
	pthread_t t;
	int64_t t0;

	srv_start("", 1, 1, ok);
	make_sink(&in, "/", KV("concurrency=1", "timeout=60s"));
	in.ops->send(in.sink, th_buf("first", 5, 1));
	s.in = &in;
	s.done = 0;
	pthread_create(&t, NULL, send_one, &s);
	wait_requests(1);
	usleep(100000);
	assert_int_equal(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST), 0);
	t0 = now_ms();
	in.ops->cancel(in.sink);
	pthread_join(t, NULL);
	assert_int_equal(th_wait_released(in.ctx, 2, 2000), 2);
	assert_true(now_ms() - t0 < 1000);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 2);
	assert_int_equal(r.twice, 0);
	assert_int_equal(M("sink_failed_total", "reason=\"cancelled\""), 2);
	/* nothing left in flight: the worker releases a batch, then frees its slot, so the
	 * last slot may still be taken for a moment after the releases were counted */
	assert_int_equal(in.ops->flush(in.sink, 2000), 0);
	/* after cancel, a batch is refused at once */
	in.ops->send(in.sink, th_buf("after", 5, 1));
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 3);
	th_inst_destroy(&in);
	srv_stop();
}

/* stop with a POST in flight: the batch still comes back, as failed (shutdown). */
static void test_stop_in_flight(void **state)
{
	static const int ok[] = { 200 };
	struct th_released r;
	struct th_inst in;

	srv_start("", 1, 1, ok);
	make_sink(&in, "/", KV("timeout=60s"));
	in.ops->send(in.sink, th_buf("held", 4, 9));
	wait_requests(1);
	th_inst_destroy_sink(&in);
	th_released_get(in.ctx, &r);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.rows_failed, 9);
	assert_int_equal(M("sink_failed_total", "reason=\"shutdown\""), 1);
	th_inst_destroy(&in);
	srv_stop();
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* The check op (ABI 1.3) refuses it with its reason, naming the key, and opens
 * nothing; create refuses it with the same words. */
static void refused(const char *const *kv, const char *want)
{
	char got[1024], last[1024];
	struct th_inst in;
	int fds = open_fds();

	assert_int_equal(th_check(http_plugin.desc, kv, got, sizeof(got)), -EINVAL);
	assert_string_equal(got, want);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(th_inst_create(&in, &http_plugin, kv), -EINVAL);
	th_last_log(in.ctx, last, sizeof(last));
	assert_string_equal(last, want);
	th_inst_destroy(&in);
}

static void test_bad_keys(void **state)
{
	char got[1024], kv_ca[300], ca[] = "/tmp/xt-test-http-ca-XXXXXX";
	int fd;

	(void)state;
	refused(KV("url=ftp://example.org/x"), "url: scheme 'ftp' is not allowed (allowed: http, https)");
	refused(KV("url=file:///etc/passwd"), "url: scheme 'file' is not allowed (allowed: http, https)");
	refused(KV("url=http://"), "url: not a valid URL (expected http://HOST[:PORT]/PATH or https://...)");
	refused(KV("url=http://127.0.0.1/", "header.X-A=1\r\nX-Injected: 1"),
		"header.X-A: not a valid header (a name of token characters, a value of at most "
		"1000 bytes without control characters)");
	refused(KV("url=http://127.0.0.1/", "header.Bad Name=1"),
		"header.Bad Name: not a valid header (a name of token characters, a value of at "
		"most 1000 bytes without control characters)");
	refused(KV("url=http://127.0.0.1/", "header.content-type=text/plain"),
		"header.content-type: set by the sink itself (use content_type)");
	refused(KV("url=http://127.0.0.1/", "header.Host=evil"), "header.Host: set by the sink itself");
	refused(KV("url=http://127.0.0.1/", "retry_backoff=2s", "retry_backoff_max=1s"),
		"retry_backoff_max: 1000 ms is below retry_backoff (2000 ms)");
	refused(KV("url=http://127.0.0.1/", "content_type=text/plain\nX: y"),
		"content_type: control characters are not allowed");
	refused(KV("url=https://127.0.0.1/", "ca_file=/nonexistent-xtcpd/ca.pem"),
		"ca_file: '/nonexistent-xtcpd/ca.pem': No such file or directory");
	refused(KV("url=https://127.0.0.1/", "ca_file=/tmp"), "ca_file: '/tmp' is not a regular file");
	/* A name that does not resolve (no proxy in the environment to resolve it): the
	 * resolver's reason, no such name or no resolver here. */
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	assert_int_equal(th_check(http_plugin.desc, KV("url=http://no-such-host.invalid:8123/"), got,
				  sizeof(got)), -EINVAL);
	assert_true(!strcmp(got, "url: 'http://no-such-host.invalid:8123/': host no-such-host.invalid: "
			    "Name or service not known") ||
		    !strcmp(got, "url: 'http://no-such-host.invalid:8123/': host no-such-host.invalid: "
			    "Temporary failure in name resolution"));
	/* What passes: a name that resolves, an IPv6 literal, a CA file that is there. */
	fd = mkstemp(ca);
	assert_true(fd >= 0);
	close(fd);
	snprintf(kv_ca, sizeof(kv_ca), "ca_file=%s", ca);
	assert_int_equal(th_check(http_plugin.desc, KV("url=http://localhost:8123/?query=INSERT", kv_ca),
				  got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(th_check(http_plugin.desc, KV("url=http://[::1]:8123/"), got, sizeof(got)), 0);
	unlink(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_default_content_type),
		cmocka_unit_test(test_concurrency_bound),
		cmocka_unit_test(test_5xx_retried),
		cmocka_unit_test(test_4xx_logged),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_stop_in_flight),
		cmocka_unit_test(test_bad_keys),
	};
	int rc;

	if (th_load(XTCPD_KIND_SINK, "http", &http_plugin))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	th_unload(&http_plugin);
	return rc;
}
