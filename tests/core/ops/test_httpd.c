/* test_httpd — the metrics endpoint over real loopback sockets: exact status codes, bodies
 * and headers; handler failures; address errors; and a silent client not blocking others. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/lib/skip.h"

#include "core/ops/httpd.h"

/* Guards against a hang only; no test asserts on time. */
#define IO_GUARD_MS 20000

struct fake {
	int metrics_calls;
	int metrics_err;          /* returned instead of rendering when set */
	size_t big;               /* extra bytes to render, to make the handler grow the buffer */
	int ready;
	const char *reason;
};

static int fake_metrics(void *arg, char **buf, size_t *len, size_t *cap)
{
	struct fake *f = arg;
	char line[64];
	size_t need;
	int n;

	f->metrics_calls++;
	if (f->metrics_err)
		return f->metrics_err;
	n = snprintf(line, sizeof(line), "# TYPE xtcpd_scrapes_total counter\n"
		     "xtcpd_scrapes_total %d\n", f->metrics_calls);
	need = *len + (size_t)n + f->big;
	if (need > *cap) {
		char *nb = realloc(*buf, need);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = need;
	}
	memcpy(*buf + *len, line, (size_t)n);
	*len += (size_t)n;
	memset(*buf + *len, '#', f->big);
	*len += f->big;
	return 0;
}

static int fake_ready(void *arg, char *reason, size_t n)
{
	struct fake *f = arg;

	if (f->ready)
		return 1;
	snprintf(reason, n, "%s", f->reason);
	return 0;
}

struct resp {
	int status;
	char ctype[128];
	char allow[64];
	long clen;
	char *body;
	size_t blen;
};

static int connect_to(int family, int port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (family == AF_INET)
		assert_int_equal(connect(fd, (struct sockaddr *)&a4, sizeof(a4)), 0);
	else
		assert_int_equal(connect(fd, (struct sockaddr *)&a6, sizeof(a6)), 0);
	return fd;
}

static void header(const char *hdrs, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(hdrs, name);

	*out = '\0';
	if (p) {
		p += strlen(name);
		snprintf(out, n, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
}

/* One HTTP/1.0 exchange (the server closes after answering). */
static void http(int family, int port, const char *method, const char *path, struct resp *r)
{
	char req[256], *buf = NULL, *eoh, tmp[32];
	size_t len = 0, cap = 0;
	int fd = connect_to(family, port), n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: test\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		assert_int_equal(poll(&p, 1, IO_GUARD_MS), 1);
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = read(fd, buf + len, cap - len - 1);
		assert_true(got >= 0);
		if (!got)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	eoh = strstr(buf, "\r\n\r\n");
	assert_non_null(eoh);
	*eoh = '\0';
	assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r->status), 1);
	header(buf, "\r\nContent-Type: ", r->ctype, sizeof(r->ctype));
	header(buf, "\r\nAllow: ", r->allow, sizeof(r->allow));
	header(buf, "\r\nContent-Length: ", tmp, sizeof(tmp));
	r->clen = *tmp ? atol(tmp) : -1;
	r->blen = len - (size_t)(eoh + 4 - buf);
	r->body = malloc(r->blen + 1);
	memcpy(r->body, eoh + 4, r->blen + 1);
	free(buf);
}

static void expect(int family, int port, const char *method, const char *path, int status,
		   const char *body, const char *ctype)
{
	struct resp r;

	http(family, port, method, path, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(r.body, body);
	assert_int_equal(r.blen, strlen(body));
	if (ctype)
		assert_string_equal(r.ctype, ctype);
	free(r.body);
}

static struct fake fk;
static struct httpd *srv;
static int port;

static int setup(void **state)
{
	struct httpd_handlers hd = { .arg = &fk, .metrics = fake_metrics, .ready = fake_ready };

	memset(&fk, 0, sizeof(fk));
	fk.reason = "no poll cycle completed yet";
	assert_int_equal(httpd_start("127.0.0.1:0", &hd, &srv), 0);
	assert_string_equal(httpd_error(), "");
	port = httpd_port(srv);
	assert_true(port > 0);
	return 0;
}

static int teardown(void **state)
{
	httpd_stop(srv);
	srv = NULL;
	return 0;
}

static void test_healthz(void **state)
{
	expect(AF_INET, port, "GET", "/healthz", 200, "ok\n", "text/plain; charset=utf-8");
}

static void test_readyz_flips(void **state)
{
	expect(AF_INET, port, "GET", "/readyz", 503, "no poll cycle completed yet\n",
	       "text/plain; charset=utf-8");
	fk.ready = 1;
	expect(AF_INET, port, "GET", "/readyz", 200, "ready\n", NULL);
	fk.ready = 0;
	fk.reason = "last poll cycle overdue by 12s";
	expect(AF_INET, port, "GET", "/readyz", 503, "last poll cycle overdue by 12s\n", NULL);
	fk.reason = "";
	expect(AF_INET, port, "GET", "/readyz", 503, "not ready\n", NULL);
	/* a reason that already ends in a newline gets no second one */
	fk.reason = "no poll cycle has completed yet\n";
	expect(AF_INET, port, "GET", "/readyz", 503, "no poll cycle has completed yet\n", NULL);
	fk.reason = "\n";
	expect(AF_INET, port, "GET", "/readyz", 503, "not ready\n", NULL);
}

static void test_metrics(void **state)
{
	expect(AF_INET, port, "GET", "/metrics", 200,
	       "# TYPE xtcpd_scrapes_total counter\nxtcpd_scrapes_total 1\n",
	       "text/plain; version=0.0.4; charset=utf-8");
	/* the query string is not part of the path */
	expect(AF_INET, port, "GET", "/metrics?name[]=x", 200,
	       "# TYPE xtcpd_scrapes_total counter\nxtcpd_scrapes_total 2\n", NULL);
	assert_int_equal(fk.metrics_calls, 2);
}

/* The handler grows the server's buffer; the whole text arrives, twice. */
static void test_metrics_large(void **state)
{
	struct resp r;

	fk.big = 300000;
	for (int i = 1; i <= 2; i++) {
		http(AF_INET, port, "GET", "/metrics", &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.blen, 300000 + strlen("# TYPE xtcpd_scrapes_total counter\n"
							  "xtcpd_scrapes_total 1\n"));
		assert_int_equal(r.clen, (long)r.blen);
		assert_int_equal(r.body[r.blen - 1], '#');
		free(r.body);
	}
}

static void test_metrics_error(void **state)
{
	fk.metrics_err = -EAGAIN;
	expect(AF_INET, port, "GET", "/metrics", 500,
	       "metrics unavailable: Resource temporarily unavailable\n", NULL);
}

static void test_not_found_and_methods(void **state)
{
	struct resp r;

	expect(AF_INET, port, "GET", "/", 404, "not found\n", NULL);
	expect(AF_INET, port, "GET", "/metricsx", 404, "not found\n", NULL);
	expect(AF_INET, port, "GET", "/healthz/", 404, "not found\n", NULL);
	http(AF_INET, port, "POST", "/metrics", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.body, "method not allowed\n");
	assert_string_equal(r.allow, "GET, HEAD");
	free(r.body);
	expect(AF_INET, port, "DELETE", "/healthz", 405, "method not allowed\n", NULL);
	assert_int_equal(fk.metrics_calls, 0);

	/* HEAD: the headers of GET, no body */
	http(AF_INET, port, "HEAD", "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 0);
	assert_int_equal(r.clen, 3);
	free(r.body);
}

/* Clients that connect and say nothing (or half a request line) hold no one up. */
static void test_slow_clients_do_not_block(void **state)
{
	int idle[8];

	for (int i = 0; i < 8; i++) {
		idle[i] = connect_to(AF_INET, port);
		if (i % 2)
			assert_int_equal(write(idle[i], "GET /hea", 8), 8);
	}
	expect(AF_INET, port, "GET", "/healthz", 200, "ok\n", NULL);
	expect(AF_INET, port, "GET", "/metrics", 200,
	       "# TYPE xtcpd_scrapes_total counter\nxtcpd_scrapes_total 1\n", NULL);
	for (int i = 0; i < 8; i++)
		close(idle[i]);
}

static void start_fails(const char *listen, int err, const char *msg)
{
	struct httpd_handlers hd = { .arg = &fk, .metrics = fake_metrics, .ready = fake_ready };
	struct httpd *h = (struct httpd *)1;

	assert_int_equal(httpd_start(listen, &hd, &h), err);
	assert_null(h);
	assert_string_equal(httpd_error(), msg);
}

static void test_bad_addresses(void **state)
{
	char l[64], m[160];

#define SYNTAX "expected HOST:PORT, [IPV6]:PORT or :PORT with a port 0-65535"
	start_fails("9088", -EINVAL, "prom_listen \"9088\": " SYNTAX);
	start_fails("127.0.0.1:", -EINVAL, "prom_listen \"127.0.0.1:\": " SYNTAX);
	start_fails("127.0.0.1:http", -EINVAL, "prom_listen \"127.0.0.1:http\": " SYNTAX);
	start_fails(":65536", -EINVAL, "prom_listen \":65536\": " SYNTAX);
	start_fails("::1:9088", -EINVAL, "prom_listen \"::1:9088\": " SYNTAX);
	start_fails("[::1]9088", -EINVAL, "prom_listen \"[::1]9088\": " SYNTAX);
	start_fails("[::1", -EINVAL, "prom_listen \"[::1\": " SYNTAX);
	/* TEST-NET-1 is no address of this host */
	start_fails("192.0.2.1:0", -EADDRNOTAVAIL,
		    "prom_listen \"192.0.2.1:0\": cannot listen: Cannot assign requested address");
	/* the port the fixture holds */
	snprintf(l, sizeof(l), "127.0.0.1:%d", port);
	snprintf(m, sizeof(m), "prom_listen \"%s\": cannot listen: Address already in use", l);
	start_fails(l, -EADDRINUSE, m);
	/* the server still answers */
	expect(AF_INET, port, "GET", "/healthz", 200, "ok\n", NULL);
}

static int have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* ":port" and "[::]:port" answer on IPv4 and IPv6 loopback; "[::1]:port" on IPv6. */
static void test_any_and_ipv6(void **state)
{
	struct httpd_handlers hd = { .arg = &fk, .metrics = fake_metrics, .ready = fake_ready };
	struct httpd *h;
	int p;

	assert_int_equal(httpd_start(":0", &hd, &h), 0);
	p = httpd_port(h);
	expect(AF_INET, p, "GET", "/healthz", 200, "ok\n", NULL);
	if (!have_ipv6()) {
		httpd_stop(h);
		XT_SKIP("no IPv6 loopback: the IPv6 half is not checked");
	}
	expect(AF_INET6, p, "GET", "/healthz", 200, "ok\n", NULL);
	httpd_stop(h);
	assert_int_equal(httpd_start("[::]:0", &hd, &h), 0);
	p = httpd_port(h);
	expect(AF_INET, p, "GET", "/healthz", 200, "ok\n", NULL);
	expect(AF_INET6, p, "GET", "/readyz", 503, "no poll cycle completed yet\n", NULL);
	httpd_stop(h);
	assert_int_equal(httpd_start("[::1]:0", &hd, &h), 0);
	expect(AF_INET6, httpd_port(h), "GET", "/healthz", 200, "ok\n", NULL);
	httpd_stop(h);
}

/* Stop releases the port: a new server can take the same one at once. */
static void test_stop_releases_port(void **state)
{
	struct httpd_handlers hd = { .arg = &fk, .metrics = fake_metrics, .ready = fake_ready };
	char l[32];
	int p = port;

	httpd_stop(srv);
	snprintf(l, sizeof(l), "127.0.0.1:%d", p);
	assert_int_equal(httpd_start(l, &hd, &srv), 0);
	assert_int_equal(httpd_port(srv), p);
	expect(AF_INET, p, "GET", "/healthz", 200, "ok\n", NULL);
	httpd_stop(NULL);
	assert_int_equal(httpd_port(NULL), -1);
}

/* Without handlers: always ready, metrics answer 500. */
static void test_null_handlers(void **state)
{
	struct httpd_handlers hd = { 0 };
	struct httpd *h;
	int p;

	assert_int_equal(httpd_start("127.0.0.1:0", &hd, &h), 0);
	p = httpd_port(h);
	expect(AF_INET, p, "GET", "/readyz", 200, "ready\n", NULL);
	expect(AF_INET, p, "GET", "/metrics", 500, "metrics unavailable: Function not implemented\n",
	       NULL);
	httpd_stop(h);
}

/* CapEff, CapPrm and the real uid of one thread of this process. */
static void task_caps(const char *tid, uint64_t *eff, uint64_t *prm, unsigned *uid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapEff: %" SCNx64, eff);
		sscanf(line, "CapPrm: %" SCNx64, prm);
		sscanf(line, "Uid: %u", uid);
	}
	fclose(f);
}

/* Every thread but the caller: no capability, and nobody's uid when we are root. */
static void expect_http_thread_bare(const char *me)
{
	uint64_t eff, prm;
	unsigned uid;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int others = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, me))
			continue;
		eff = prm = 1;
		uid = 0;
		task_caps(e->d_name, &eff, &prm, &uid);
		assert_int_equal(eff, 0);
		assert_int_equal(prm, 0);
		assert_int_equal(uid, getuid() == 0 ? 65534 : getuid());
		others++;
	}
	closedir(d);
	assert_int_equal(others, 1);   /* one HTTP thread, whatever the load */
}

/* The HTTP thread holds no capability from its birth, before any connection (and runs as
 * nobody when we are root); the calling thread keeps its own. */
static void test_http_thread_has_no_caps(void **state)
{
	uint64_t eff = 0, prm = 0, main_eff = 0;
	unsigned uid;
	char me[32];

	snprintf(me, sizeof(me), "%d", (int)getpid());
	task_caps(me, &main_eff, &prm, &uid);
	if (!main_eff)
		XT_SKIP("needs capabilities (root): nothing to shed without them");
	expect_http_thread_bare(me);
	expect(AF_INET, port, "GET", "/healthz", 200, "ok\n", NULL);
	expect_http_thread_bare(me);
	task_caps(me, &eff, &prm, &uid);
	assert_int_equal(eff, main_eff);
	assert_int_equal(uid, getuid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_healthz),
		T(test_readyz_flips),
		T(test_metrics),
		T(test_metrics_large),
		T(test_metrics_error),
		T(test_not_found_and_methods),
		T(test_slow_clients_do_not_block),
		T(test_bad_addresses),
		T(test_any_and_ipv6),
		T(test_stop_releases_port),
		T(test_null_handlers),
		T(test_http_thread_has_no_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
