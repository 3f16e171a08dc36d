/* plugins/sinks/common/sockaddr.c — where the socket sinks connect: "host:port" resolved
 * once into the addresses to try, a Unix path or abstract name, and the largest datagram
 * a Unix datagram socket takes. Part of the connection engine (sockconn.h). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "plugins/sinks/common/sockconn.h"

/* A Unix datagram socket's limit: the kernel refuses a datagram longer than its
 * SO_SNDBUF - 32 bytes. Asked of a socket made (and closed) here, with `sndbuf` set. */
int sc_dgram_limit(int sndbuf, size_t *lim)
{
	int v = 0, fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	socklen_t len = sizeof(v);

	if (fd < 0)
		return -errno;
	if ((sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len) < 0)
		rc = -errno;
	close(fd);
	*lim = v > 32 ? (size_t)v - 32 : 0;
	return rc;
}

int sc_resolve_inet(struct sc_conf *conf, const char *address, int socktype, char *err,
		    size_t errn)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char buf[320], *host, *port, *end;
	int gai;

	snprintf(buf, sizeof(buf), "%s", address);
	if (buf[0] == '[') {
		end = strchr(buf, ']');
		if (end == NULL || end[1] != ':')
			goto out_syntax;
		*end = '\0';
		host = buf + 1;
		port = end + 2;
	} else {
		end = strrchr(buf, ':');
		if (end == NULL || strchr(buf, ':') != end)     /* bare IPv6 needs brackets */
			goto out_syntax;
		*end = '\0';
		host = buf;
		port = end + 1;
	}
	if (!*host || !*port || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
	    atoi(port) > 65535)
		goto out_syntax;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		snprintf(err, errn, "address '%s': %s", address, gai_strerror(gai));
		return -EINVAL;
	}
	conf->n_addr = 0;
	for (ai = res; ai && conf->n_addr < SC_MAX_ADDRS; ai = ai->ai_next) {
		memcpy(&conf->addr[conf->n_addr], ai->ai_addr, ai->ai_addrlen);
		conf->addr_len[conf->n_addr++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	snprintf(conf->peer, sizeof(conf->peer), "%s", address);
	return 0;
out_syntax:
	snprintf(err, errn, "address '%s': expected host:port or [IPv6]:port", address);
	return -EINVAL;
}

int sc_resolve_unix(struct sc_conf *conf, const char *path, char *err, size_t errn)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&conf->addr[0];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path) || (path[0] == '@' && n < 2)) {
		snprintf(err, errn, "path '%s': a socket path of 1 to %zu bytes (or @name for "
			 "the abstract namespace)", path, sizeof(sun->sun_path) - 1);
		return -EINVAL;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')     /* abstract: a leading NUL, the name's bytes, no terminator */
		sun->sun_path[0] = '\0';
	conf->addr_len[0] = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
					(path[0] == '@' ? 0 : 1));
	conf->n_addr = 1;
	snprintf(conf->peer, sizeof(conf->peer), "%s", path);
	return 0;
}
