/* closer — opens and closes TCP connections on loopback for the closed source's tests:
 * `closer N FAMILY SEND RECV MODE`: listens on port 0 (127.0.0.1 or ::1), then N times
 * connects, sends SEND bytes to the server, which answers RECV bytes, and closes
 * (MODE fin: client first, server after reading the end; rst: SO_LINGER 0, no
 * TIME_WAIT, for bursts). Prints "listen PORT", then "conn CLIENT_PORT" per connection
 * (fin mode), then "done N" once every socket but the listener is closed; exits when
 * its standard input closes (then the listener closes too). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "closer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void xfer(int from, int to, size_t n)
{
	char buf[65536];

	memset(buf, 'x', sizeof(buf));
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
		ssize_t w = write(from, buf, k), r;

		if (w <= 0)
			die("write");
		for (ssize_t got = 0; got < w; got += r)
			if ((r = read(to, buf, (size_t)(w - got))) <= 0)
				die("read");
		done += (size_t)w;
	}
}

static socklen_t addr_of(int fam, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
	return sizeof(struct sockaddr_in6);
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		die("getsockname");
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct linger lg = { 1, 0 };
	int one = 1, fam, rst, l;
	long n;
	size_t snd, rcv;
	uint16_t port;
	socklen_t sl;
	char c;

	if (argc != 6) {
		fprintf(stderr, "usage: closer N 4|6 SEND RECV fin|rst\n");
		return 2;
	}
	n = atol(argv[1]);
	fam = atoi(argv[2]) == 6 ? AF_INET6 : AF_INET;
	snd = (size_t)atol(argv[3]);
	rcv = (size_t)atol(argv[4]);
	rst = !strcmp(argv[5], "rst");
	l = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sl = addr_of(fam, 0, &ss);
	if (bind(l, (struct sockaddr *)&ss, sl) < 0 || listen(l, 1024) < 0)
		die("listen");
	port = port_of(l);
	printf("listen %u\n", port);
	sl = addr_of(fam, port, &ss);
	for (long i = 0; i < n; i++) {
		int c_fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), s_fd;

		if (c_fd < 0 || connect(c_fd, (struct sockaddr *)&ss, sl) < 0)
			die("connect");
		if ((s_fd = accept(l, NULL, NULL)) < 0)
			die("accept");
		if (!rst)
			printf("conn %u\n", port_of(c_fd));
		if (snd)
			xfer(c_fd, s_fd, snd);
		if (rcv)
			xfer(s_fd, c_fd, rcv);
		if (rst) {
			setsockopt(c_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c_fd);
		} else {
			close(c_fd);
			if (read(s_fd, &c, 1) != 0) /* the client's FIN */
				die("read end");
		}
		close(s_fd);
	}
	printf("done %ld\n", n);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(l);
	return 0;
}
