/* probe — one HTTP/1.0 GET of /readyz on the daemon's own endpoint, with a deadline: the
 * exit status of `xtcpd --healthcheck` (0 ready, 1 not ready or not answering). */
#include "config.h"
#include "ops/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ops/clock.h"

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into host and port; wildcards become loopback. */
static int probe_split(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon = strrchr(listen, ':');
	size_t len;

	if (!colon || !colon[1])
		return -EINVAL;
	len = (size_t)(colon - listen);
	if (len >= 2 && listen[0] == '[' && listen[len - 1] == ']')
		listen++, len -= 2;
	if (len >= hn || strlen(colon + 1) >= pn)
		return -EINVAL;
	snprintf(host, hn, "%.*s", (int)len, listen);
	snprintf(port, pn, "%s", colon + 1);
	if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		snprintf(host, hn, "127.0.0.1");
	else if (!strcmp(host, "::"))
		snprintf(host, hn, "::1");
	return 0;
}

static int probe_wait(int fd, short ev, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int64_t left = (deadline - clock_mono_ns()) / 1000000;
	int r;

	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)left);
	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

static int probe_connect(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r;
	socklen_t sl = sizeof(r);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		r = -errno;
	} else if (!(r = probe_wait(fd, POLLOUT, deadline))) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &sl))
			r = errno;
		r = -r;
	}
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* Send the request, read the status line: its code, or -errno. */
static int probe_ask(int fd, const char *host, int64_t deadline)
{
	char req[512], resp[64];
	size_t got = 0;
	int len, code, r;

	len = snprintf(req, sizeof(req), "GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		return -EIO;
	while (got < sizeof(resp) - 1 && !memchr(resp, '\n', got)) {
		ssize_t n;

		if ((r = probe_wait(fd, POLLIN, deadline)))
			return r;
		n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.%*1[01] %3d", &code) != 1)
		return -EPROTO;
	return code;
}

int probe_readyz(const char *listen, int timeout_ms, char *err, size_t n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
	char host[256], port[32];
	int fd = -ENOENT, code = 0, r;

	if (!listen || !*listen) {
		snprintf(err, n, "core.prom_listen is empty: the endpoint is off, nothing to probe");
		return 1;
	}
	if (probe_split(listen, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, n, "core.prom_listen '%s' is not HOST:PORT", listen);
		return 1;
	}
	if ((r = getaddrinfo(host, port, &hints, &res))) {
		snprintf(err, n, "%s: %s", listen, gai_strerror(r));
		return 1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = probe_connect(ai, deadline);
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, n, "http://%s:%s/readyz: %s", host, port, strerror(-fd));
		return 1;
	}
	code = probe_ask(fd, host, deadline);
	close(fd);
	if (code == 200)
		return 0;
	if (code < 0)
		snprintf(err, n, "http://%s:%s/readyz: %s", host, port,
			 code == -EPROTO ? "not an HTTP answer" : strerror(-code));
	else
		snprintf(err, n, "http://%s:%s/readyz answered %d", host, port, code);
	return 1;
}
