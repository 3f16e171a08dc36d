/* sink udp — one datagram per batch to a fixed address (IPv4 or IPv6). The socket is
 * connected (so a closed port comes back as ECONNREFUSED, read after each send: such a
 * datagram is failed, not delivered) and non-blocking: a full socket buffer or any other
 * send error drops the batch with a count, it never waits. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

#define UDP_LOG_INTERVAL_MS 10000

enum udp_key { K_ADDRESS, K_MAX_DATAGRAM, K_SNDBUF };

static const struct xtcpd_key udp_keys[] = {
	[K_ADDRESS] = { "address", XTCPD_KEY_STRING, NULL, 0, 300, NULL, XTCPD_KEY_REQUIRED,
			"destination host:port, IPv4 or [IPv6]:port" },
	[K_MAX_DATAGRAM] = { "max_datagram", XTCPD_KEY_SIZE, "65507", 1, 65535, NULL, 0,
			     "largest datagram; marshallers size their batches to fit it" },
	[K_SNDBUF] = { "sndbuf", XTCPD_KEY_SIZE, "0", 0, 256 << 20, NULL, 0,
		       "SO_SNDBUF of the socket (0 = the kernel default)" },
	XTCPD_KEYS_END,
};

enum udp_reason { R_ECONNREFUSED, R_ENOBUFS, R_EMSGSIZE, R_OTHER, R_N };
static const char *const udp_reasons[R_N] = { "econnrefused", "enobufs", "emsgsize", "other" };

struct udp_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	int fd;
	size_t max_datagram;
	char rl[R_N], rl_late[R_N]; /* rate-limit keys, one per reason */
};

/* "host:port", "[v6]:port" -> host, port (in place in `s`). */
static int udp_split(char *s, char **host, char **port)
{
	char *colon;

	if (s[0] == '[') {
		char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		*host = s + 1;
		*port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)  /* bare IPv6 needs brackets */
			return -EINVAL;
		*colon = '\0';
		*host = s;
		*port = colon + 1;
	}
	return **host && **port ? 0 : -EINVAL;
}

/* address -> its addresses (freeaddrinfo them), or -EINVAL with the reason in res. */
static int udp_resolve(const char *address, struct addrinfo **out, struct xtcpd_check *res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV };
	char buf[320], *host, *port, *end;
	unsigned long p;
	int gai;

	snprintf(buf, sizeof(buf), "%s", address);
	if (udp_split(buf, &host, &port))
		return XTCPD_CHECK_FAIL(res, "address", "'%s': expected host:port or [IPv6]:port", address);
	p = strtoul(port, &end, 10);
	if (*end || port[0] < '0' || port[0] > '9' || p < 1 || p > 65535)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': port '%s' is not a number 1..65535", address, port);
	gai = getaddrinfo(host, port, &hints, out);
	if (gai)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': %s", address,
					gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	return 0;
}

/* Everything create() could refuse, without side effects: the address is parsed and
 * resolved, no socket is made. */
static int udp_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct addrinfo *ai;
	int err;

	if (cfg->n_values < K_SNDBUF + 1)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_SNDBUF + 1);
	if (!cfg->values[K_ADDRESS].str)
		return XTCPD_CHECK_FAIL(res, "address", "required");
	if ((err = udp_resolve(cfg->values[K_ADDRESS].str, &ai, res)))
		return err;
	freeaddrinfo(ai);
	return 0;
}

static int udp_connect(struct udp_sink *us, const char *address, int sndbuf)
{
	struct addrinfo *res, *ai;
	char msg[400];
	struct xtcpd_check chk = { .struct_size = sizeof(chk), .msg = msg, .msg_size = sizeof(msg) };
	int err;

	if (udp_resolve(address, &res, &chk)) {
		us->host->log(us->ctx, XTCPD_LOG_ERR, "address %s", msg);
		return -EINVAL;
	}
	err = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			err = -errno;
			continue;
		}
		if ((sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = -errno;
			close(fd);
			continue;
		}
		us->fd = fd;
		err = 0;
		break;
	}
	freeaddrinfo(res);
	if (err)
		us->host->log(us->ctx, XTCPD_LOG_ERR, "address '%s': %s", address, strerror(-err));
	return err;
}

static unsigned udp_reason_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return R_ECONNREFUSED;
	case ENOBUFS:
	case EAGAIN:
		return R_ENOBUFS;
	case EMSGSIZE:
		return R_EMSGSIZE;
	default:
		return R_OTHER;
	}
}

static void udp_fail(struct udp_sink *us, int err, size_t n)
{
	unsigned r = udp_reason_of(err);

	sink_stats_fail(&us->st, r);
	us->host->log_ratelimited(us->ctx, &us->rl[r], UDP_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				  "datagram of %zu bytes not sent: %s", n, strerror(err));
}

/* The error the socket holds from an ICMP message (port or host unreachable), cleared. */
static int udp_pending(struct udp_sink *us)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(us->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return 0;
	return err;
}

/* The destination refused a datagram after send() had taken it (ICMP port unreachable).
 * Across loopback the ICMP comes back before send() returns, so the refusal is this
 * datagram's: it failed. A refusal found before a send belongs to an earlier datagram
 * (a remote destination answers later), already released: only the reason is counted. */
static void udp_refused(struct udp_sink *us, int err, size_t n, int earlier)
{
	unsigned r = udp_reason_of(err);

	sink_stats_fail(&us->st, r);
	if (earlier)
		us->host->log_ratelimited(us->ctx, &us->rl_late[r], UDP_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
					  "an earlier datagram was refused by the destination: %s "
					  "(counted in sink_failed_total only)", strerror(err));
	else
		us->host->log_ratelimited(us->ctx, &us->rl[r], UDP_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
					  "datagram of %zu bytes refused by the destination: %s", n,
					  strerror(err));
}

static int udp_send(void *inst, struct xtcpd_buf *buf)
{
	struct udp_sink *us = inst;
	const uint8_t *p = buf->data + buf->off;
	size_t n = buf->len - buf->off;
	int ok = 0, err;

	if (n > us->max_datagram) {
		udp_fail(us, EMSGSIZE, n);
		goto out;
	}
	if ((err = udp_pending(us)))
		udp_refused(us, err, n, 1);
	for (;;) {
		ssize_t w = send(us->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w == (ssize_t)n) {
			err = udp_pending(us);
			ok = !err;
			if (err)
				udp_refused(us, err, n, 0);
			break;
		}
		if (w >= 0) {           /* datagram sockets do not send short, but be sure */
			udp_fail(us, EMSGSIZE, n);
			break;
		}
		err = errno;
		if (err == EINTR)
			continue;
		udp_fail(us, err, n);
		break;
	}
out:
	sink_stats_done(&us->st, us->host, us->ctx, buf, ok);
	return 0;
}

static size_t udp_max_message(void *inst)
{
	struct udp_sink *us = inst;

	return us->max_datagram;
}

static int udp_flush(void *inst, int timeout_ms)
{
	(void)inst;
	(void)timeout_ms;       /* send() is synchronous: nothing in flight */
	return 0;
}

static void udp_destroy(void *inst)
{
	struct udp_sink *us = inst;

	if (!us)
		return;
	if (us->fd >= 0)
		close(us->fd);
	free(us);
}

static int udp_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		      const struct xtcpd_config *cfg, void **inst)
{
	const struct xtcpd_value *v = cfg->values;
	struct udp_sink *us;
	int err;

	*inst = NULL;
	if (cfg->n_values < K_SNDBUF + 1 || !v[K_ADDRESS].str) {
		host->log(ctx, XTCPD_LOG_ERR, "address is required");
		return -EINVAL;
	}
	/* udp_check's one side-effect-free step, resolving, is redone by udp_connect. */
	us = calloc(1, sizeof(*us));
	if (!us)
		return -ENOMEM;
	us->fd = -1;
	us->host = host;
	us->ctx = ctx;
	*inst = us;
	us->max_datagram = (size_t)v[K_MAX_DATAGRAM].num;
	err = sink_stats_init(&us->st, host, ctx, udp_reasons, R_N, us->failed);
	if (err) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return err;
	}
	return udp_connect(us, v[K_ADDRESS].str, (int)v[K_SNDBUF].num);
}

static const struct xtcpd_sink_ops udp_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = udp_create,
		.destroy = udp_destroy,
	},
	.max_message = udp_max_message,
	.send = udp_send,
	.flush = udp_flush,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "udp", PACKAGE_VERSION,
		     "send each batch as one UDP datagram (IPv4 or IPv6)", udp_keys, &udp_ops, udp_check);
