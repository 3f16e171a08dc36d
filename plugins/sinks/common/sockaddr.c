/* plugins/sinks/common/sockaddr.c — where the socket sinks connect: "host:port" resolved
 * once into the addresses to try, a Unix path or abstract name, the keys the three share
 * and the largest datagram a Unix datagram socket takes; all without side effects, for
 * the plugins' check ops. Part of the connection engine (sockconn.h). */
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

int sc_resolve_inet(struct sc_conf *conf, const char *address, int socktype,
		    struct xtcpd_check *res)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai_list, *ai;
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
	if (!*host || !*port)
		goto out_syntax;
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || atoi(port) < 1 ||
	    atoi(port) > 65535)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': port '%s' is not a number 1..65535",
					address, port);
	gai = getaddrinfo(host, port, &hints, &ai_list);
	if (gai)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': %s", address,
					gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	conf->n_addr = 0;
	for (ai = ai_list; ai && conf->n_addr < SC_MAX_ADDRS; ai = ai->ai_next) {
		memcpy(&conf->addr[conf->n_addr], ai->ai_addr, ai->ai_addrlen);
		conf->addr_len[conf->n_addr++] = ai->ai_addrlen;
	}
	freeaddrinfo(ai_list);
	snprintf(conf->peer, sizeof(conf->peer), "%s", address);
	return 0;
out_syntax:
	return XTCPD_CHECK_FAIL(res, "address", "'%s': expected host:port or [IPv6]:port", address);
}

int sc_resolve_unix(struct sc_conf *conf, const char *path, struct xtcpd_check *res)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&conf->addr[0];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path) || (path[0] == '@' && n < 2))
		return XTCPD_CHECK_FAIL(res, "path", "'%s': a socket path of 1 to %zu bytes (or "
					"@name for the abstract namespace)", path,
					sizeof(sun->sun_path) - 1);
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

int sc_conf_common(struct sc_conf *conf, const struct xtcpd_value *v,
		   const struct sc_key_idx *idx, struct xtcpd_check *res)
{
	if (v[idx->reconnect_min].num > v[idx->reconnect_max].num)
		return XTCPD_CHECK_FAIL(res, "reconnect_min", "%s is above reconnect_max = %s",
					v[idx->reconnect_min].str, v[idx->reconnect_max].str);
	/* connect(2) on a datagram socket does not wait: 1 s is never reached */
	conf->connect_timeout_ms = idx->connect_timeout >= 0 ? v[idx->connect_timeout].num : 1000;
	conf->write_timeout_ms = v[idx->write_timeout].num;
	conf->retry_timeout_ms = v[idx->retry_timeout].num;
	conf->backoff_min_ms = v[idx->reconnect_min].num;
	conf->backoff_max_ms = v[idx->reconnect_max].num;
	conf->sndbuf = (int)v[idx->sndbuf].num;
	return 0;
}

int sc_refused(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
	       const struct xtcpd_check *res, int rc)
{
	host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res->key ? res->key : "", res->key ? ": " : "",
		  res->msg);
	return rc;
}
