/* tests/plugins/sinks/peer.c — see peer.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/plugins/sinks/peer.h"

int peer_listen_tcp(int family, unsigned *port, int rcvbuf)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf)     /* inherited by accepted connections */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons((uint16_t)*port);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons((uint16_t)*port);
		sl = sizeof(*sin6);
	}
	if (bind(fd, (void *)&ss, sl) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (void *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int peer_listen_unix(const char *path, int type, int rcvbuf)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	socklen_t len = sizeof(sun);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (path[0] == '@') {           /* abstract: leading NUL, exact length */
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	} else {
		unlink(path);
	}
	if (bind(fd, (void *)&sun, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

unsigned peer_closed_port(void)
{
	unsigned port = 0;
	int fd = peer_listen_tcp(AF_INET, &port, 0);

	close(fd);      /* the port stays unused for the short life of a test */
	return port;
}

int peer_accept(int lfd, int timeout_ms)
{
	struct pollfd p = { lfd, POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

size_t peer_read(int fd, uint8_t *buf, size_t want, int timeout_ms)
{
	size_t got = 0;

	while (got < want) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) != 1)
			break;
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Same address: family plus the bytes that identify it. */
static int peer_same(const struct sockaddr_storage *a, socklen_t al,
		     const struct sockaddr_storage *b, socklen_t bl)
{
	return al == bl && a->ss_family == b->ss_family && !memcmp(a, b, al);
}

int peer_sink_fd(int conn)
{
	struct sockaddr_storage want, want_peer, got;
	socklen_t wl = sizeof(want), wpl = sizeof(want_peer), gl;

	/* The sink's socket: its local address is our peer's, its peer is our local one
	 * (for Unix sockets the client is unnamed: match on its peer, our bound path). */
	if (getpeername(conn, (void *)&want, &wl) < 0 ||
	    getsockname(conn, (void *)&want_peer, &wpl) < 0)
		return -1;
	for (int fd = 3; fd < 1024; fd++) {
		if (fd == conn)
			continue;
		gl = sizeof(got);
		if (want.ss_family == AF_UNIX) {
			if (getpeername(fd, (void *)&got, &gl) == 0 &&
			    peer_same(&got, gl, &want_peer, wpl))
				return fd;
		} else if (getsockname(fd, (void *)&got, &gl) == 0 &&
			   peer_same(&got, gl, &want, wl)) {
			return fd;
		}
	}
	return -1;
}

int peer_wait_closed(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void *peer_send_main(void *arg)
{
	struct peer_sender *ps = arg;

	ps->rc = ps->in->ops->send(ps->in->sink, ps->buf);
	return NULL;
}

void peer_send_start(struct peer_sender *ps, struct th_inst *in, struct xtcpd_buf *buf)
{
	ps->in = in;
	ps->buf = buf;
	ps->rc = -1;
	if (pthread_create(&ps->t, NULL, peer_send_main, ps) != 0)
		ps->t = 0;
}

int peer_send_join(struct peer_sender *ps)
{
	if (ps->t)
		pthread_join(ps->t, NULL);
	return ps->rc;
}

void peer_fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

int peer_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}
