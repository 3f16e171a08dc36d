/* plugins/sinks/common/sockconn.c — see sockconn.h. Everything runs on the sink's own
 * thread except sc_cancel(). The socket is non-blocking; every wait is a poll() that also
 * watches an eventfd, so a cancel (shutdown deadline) ends it at once. A batch is sent
 * whole on one connection: when the connection fails part-way, the batch goes again from
 * its first byte on the next one (counted as torn); it is dropped when it still fails
 * retry_timeout after its first failure. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "plugins/sinks/common/header.h"
#include "plugins/sinks/common/sockconn.h"
#include "plugins/sinks/common/sink_stats.h"

#define SC_LOG_INTERVAL_MS 10000

enum sc_reason {
	R_ECONNREFUSED, R_ENOENT, R_EACCES, R_ETIMEDOUT, R_EPIPE, R_ECONNRESET, R_CLOSED,
	R_DISCONNECTED, R_EMSGSIZE, R_CANCELLED, R_OTHER, R_N
};
static const char *const sc_reasons[R_N] = {
	"econnrefused", "enoent", "eacces", "etimedout", "epipe", "econnreset", "closed",
	"disconnected", "emsgsize", "cancelled", "other",
};

/* The peer closed its end (EOF seen before writing). */
#define SC_ECLOSED 100000

struct sc {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sc_conf c;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	_Atomic uint64_t *connects, *torn, *connected;

	int fd;                 /* -1 while not connected */
	int delivered;          /* this connection delivered a batch */
	int hdr_sent;           /* this connection carried the header line */
	int down;               /* the last batch was dropped: no waiting for the next */
	int64_t next_connect_ns;
	int64_t backoff_ms;
	size_t max_msg;         /* SC_DGRAM: largest datagram */
	unsigned rnd;           /* backoff jitter */
	int cancel_fd;
	atomic_int cancelled;
	char rl[R_N], rl_up, rl_drop; /* rate-limit keys */
	uint8_t drain[512];
};

static int64_t sc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned sc_reason_of(int err)
{
	switch (err < 0 ? -err : err) {
	case ECONNREFUSED: return R_ECONNREFUSED;
	case ENOENT: return R_ENOENT;
	case EACCES: case EPERM: return R_EACCES;
	case ETIMEDOUT: case EAGAIN: return R_ETIMEDOUT;
	case EPIPE: return R_EPIPE;
	case ECONNRESET: case ECONNABORTED: return R_ECONNRESET;
	case SC_ECLOSED: return R_CLOSED;
	case EMSGSIZE: return R_EMSGSIZE;
	case ECANCELED: return R_CANCELLED;
	default: return R_OTHER;
	}
}

static const char *sc_strerror(int err)
{
	return err == -SC_ECLOSED ? "closed by the peer" : strerror(-err);
}

static void sc_fail(struct sc *s, int err, const char *what)
{
	unsigned r = sc_reason_of(err);

	sink_stats_fail(&s->st, r);
	s->host->log_ratelimited(s->ctx, &s->rl[r], SC_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
				 "%s %s: %s", what, s->c.peer, sc_strerror(err));
}

/* Wait for `events` on fd (-1: just sleep) up to timeout_ms. 1 ready, 0 timed out,
 * -ECANCELED after sc_cancel(), or poll's -errno. */
static int sc_wait(struct sc *s, int fd, short events, int64_t timeout_ms)
{
	struct pollfd p[2] = { { s->cancel_fd, POLLIN, 0 }, { fd, events, 0 } };
	int64_t end = sc_now() + timeout_ms * 1000000;

	for (;;) {
		int64_t left = (end - sc_now()) / 1000000;
		int n;

		if (atomic_load(&s->cancelled))
			return -ECANCELED;
		n = poll(p, 2, left > 0 ? (int)(left > 3600000 ? 3600000 : left) : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (atomic_load(&s->cancelled) || (n > 0 && p[0].revents))
			return -ECANCELED;
		if (n > 0)
			return 1;
		if (left <= 0)
			return 0;
	}
}

static void sc_close(struct sc *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		atomic_store_explicit(s->connected, 0, memory_order_relaxed);
	}
	s->fd = -1;
}

/* The next connection attempt: at once after a connection that delivered, otherwise
 * after the current backoff (with jitter in [backoff/2, backoff]), which doubles. */
static void sc_schedule(struct sc *s, int was_useful)
{
	int64_t b = s->backoff_ms;

	if (was_useful) {
		s->backoff_ms = s->c.backoff_min_ms;
		s->next_connect_ns = sc_now();
		return;
	}
	s->rnd = s->rnd * 1103515245u + 12345u;
	if (b > 1)
		b = b / 2 + (int64_t)((s->rnd >> 8) % (uint64_t)(b / 2 + 1));
	s->next_connect_ns = sc_now() + b * 1000000;
	s->backoff_ms = s->backoff_ms * 2 > s->c.backoff_max_ms ? s->c.backoff_max_ms
								: s->backoff_ms * 2;
	if (s->backoff_ms < s->c.backoff_min_ms)
		s->backoff_ms = s->c.backoff_min_ms;
}

static int sc_socket(struct sc *s, int family)
{
	int type = s->c.mode == SC_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	unsigned tmo = (unsigned)s->c.write_timeout_ms;

	if (fd < 0)
		return -errno;
	if (s->c.sndbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->c.sndbuf, sizeof(s->c.sndbuf)) < 0)
		goto out_close;
	if (family == AF_INET || family == AF_INET6) {
		/* Batches are written whole: no reason to hold back their tail. Data the
		 * peer does not acknowledge within write_timeout ends the connection. */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tmo, sizeof(tmo)) < 0)
			goto out_close;
	}
	return fd;
out_close:
	one = -errno;
	close(fd);
	return one;
}

/* One attempt at every address in turn; 0 with s->fd set, or the last -errno. */
static int sc_connect(struct sc *s)
{
	int err = -EDESTADDRREQ;

	for (unsigned i = 0; i < s->c.n_addr; i++) {
		int fd = sc_socket(s, s->c.addr[i].ss_family), rc;
		socklen_t len = sizeof(err);

		if (fd < 0)
			return fd;
		rc = connect(fd, (struct sockaddr *)&s->c.addr[i], s->c.addr_len[i]);
		if (rc < 0 && errno == EINPROGRESS) {
			rc = sc_wait(s, fd, POLLOUT, s->c.connect_timeout_ms);
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
				rc = err ? -err : 0;
			else
				rc = rc == 0 ? -ETIMEDOUT : rc < 0 ? rc : -errno;
		} else if (rc < 0) {
			/* a Unix listener whose backlog is full answers EAGAIN at once */
			rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (rc == 0) {
			s->fd = fd;
			return 0;
		}
		close(fd);
		err = rc;
		if (rc == -ECANCELED)
			break;
	}
	return err;
}

/* Between two batches: has the peer closed (EOF or an error pending)? Data the peer
 * sent is read and dropped. 0, -SC_ECLOSED or -errno. */
static int sc_peer_gone(struct sc *s)
{
	for (int i = 0; i < 64; i++) {
		struct pollfd p = { s->fd, POLLIN | POLLRDHUP, 0 };
		ssize_t n;

		if (poll(&p, 1, 0) <= 0 || !p.revents)
			return 0;
		n = recv(s->fd, s->drain, sizeof(s->drain), MSG_DONTWAIT);
		if (n == 0)
			return -SC_ECLOSED;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	return 0;
}

/* Write the iovecs completely; *written counts bytes that went out. 0, -ETIMEDOUT when
 * no byte moves for write_timeout, -ECANCELED, or the socket's -errno. */
static int sc_writev(struct sc *s, struct iovec *iov, int cnt, size_t *written)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };

	while (mh.msg_iovlen) {
		ssize_t n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			rc = sc_wait(s, s->fd, POLLOUT, s->c.write_timeout_ms);
			if (rc <= 0)
				return rc == 0 ? -ETIMEDOUT : rc;
			continue;
		}
		*written += (size_t)n;
		if (s->c.mode == SC_DGRAM)
			return 0;       /* a datagram goes whole or not at all */
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* One batch on the current connection, framed for its mode; the header line only
 * when the connection has not carried it yet (stream modes). Frame and payload go in one
 * gather write: sendmsg() rather than writev() only for MSG_NOSIGNAL. */
static int sc_write_batch(struct sc *s, const struct xtcpd_buf *buf, size_t *written)
{
	const uint8_t *data = buf->data + buf->off;
	size_t n = buf->len - buf->off, skip = 0;
	uint8_t frame[10];
	struct iovec iov[2];
	int cnt = 0;

	if (s->c.mode != SC_DGRAM && s->hdr_sent)
		skip = sink_header_len(buf);
	if (s->c.mode == SC_FRAMED) {
		size_t len = n - skip, k = 0;

		do {
			frame[k++] = (uint8_t)(len | (len >= 0x80 ? 0x80 : 0));
			len >>= 7;
		} while (len);
		iov[cnt++] = (struct iovec){ frame, k };
	}
	iov[cnt++] = (struct iovec){ (void *)(data + skip), n - skip };
	return sc_writev(s, iov, cnt, written);
}

/* Connect when due; 0 connected, else -errno (counted), -EAGAIN when the next attempt
 * is only due after `deadline`. *tried is set when an attempt was made. */
static int sc_ensure(struct sc *s, int64_t deadline, int *tried)
{
	int64_t now = sc_now();
	int rc;

	if (s->fd >= 0)
		return 0;
	if (now < s->next_connect_ns) {
		if (s->next_connect_ns > deadline)
			return -EAGAIN;
		rc = sc_wait(s, -1, 0, (s->next_connect_ns - now + 999999) / 1000000);
		if (rc < 0)
			return rc;
	}
	*tried = 1;
	rc = sc_connect(s);
	if (rc) {
		if (rc != -ECANCELED)
			sc_fail(s, rc, "connect to");
		sc_schedule(s, 0);
		return rc;
	}
	sink_count(s->connects, 1);
	atomic_store_explicit(s->connected, 1, memory_order_relaxed);
	s->delivered = s->hdr_sent = 0;
	s->host->log_ratelimited(s->ctx, &s->rl_up, SC_LOG_INTERVAL_MS, XTCPD_LOG_INFO,
				 "connected to %s", s->c.peer);
	return 0;
}

/* The connection failed: close it and plan the next one. */
static void sc_lost(struct sc *s)
{
	sc_close(s);
	sc_schedule(s, s->delivered);
}

/* One attempt at delivering the batch on a (re)made connection: 0 delivered, -EAGAIN
 * no connection due before the deadline, -ECANCELED, -EMSGSIZE (final), or another
 * -errno after which a new connection may be tried. Failures are counted here. */
static int sc_attempt(struct sc *s, const struct xtcpd_buf *buf, int64_t deadline, int *tried)
{
	size_t written = 0;
	int rc = sc_ensure(s, deadline, tried);

	if (rc)
		return rc;
	if (s->c.mode != SC_DGRAM && (rc = sc_peer_gone(s)) != 0) {
		sc_fail(s, rc, "connection to");
		sc_lost(s);
		return rc;
	}
	rc = sc_write_batch(s, buf, &written);
	if (rc == 0) {
		s->delivered = 1;
		s->hdr_sent |= (buf->flags & XTCPD_BUF_HEADER) != 0;
		return 0;
	}
	if (rc != -ECANCELED)
		sc_fail(s, rc, "sending to");
	/* Part of the batch is on the wire: this connection can carry nothing more. */
	if (written && s->c.mode != SC_DGRAM)
		sink_count(s->torn, 1);
	if (rc != -EMSGSIZE && (rc != -ECANCELED || written))
		sc_lost(s);
	return rc;
}

int sc_send(void *inst, struct xtcpd_buf *buf)
{
	struct sc *s = inst;
	/* The retry budget runs from the batch's first failure; while the sink is down (the
	 * last batch was dropped) a batch gets the one attempt that is due, if any. */
	int64_t deadline = s->down ? sc_now() : 0;
	int tried = 0, rc;

	if (s->c.mode == SC_DGRAM && buf->len - buf->off > s->max_msg) {
		rc = -EMSGSIZE;
		sc_fail(s, rc, "datagram too large for");
		goto out;
	}
	for (;;) {
		int64_t limit = deadline ? deadline : sc_now() + s->c.retry_timeout_ms * 1000000;

		rc = atomic_load(&s->cancelled) ? -ECANCELED : sc_attempt(s, buf, limit, &tried);
		if (rc == 0 || rc == -EAGAIN || rc == -ECANCELED || rc == -EMSGSIZE)
			break;
		if (!deadline)
			deadline = sc_now() + s->c.retry_timeout_ms * 1000000;
		if (sc_now() >= deadline)
			break;
		sink_count(s->st.retried, 1);
	}
	if (rc == -ECANCELED)
		sink_stats_fail(&s->st, R_CANCELLED);
	else if (rc == -EAGAIN && !tried)       /* not even an attempt: no connection */
		sink_stats_fail(&s->st, R_DISCONNECTED);
out:
	if (rc)
		s->host->log_ratelimited(s->ctx, &s->rl_drop, SC_LOG_INTERVAL_MS,
					 XTCPD_LOG_WARN, "batch of %u records to %s dropped: %s",
					 buf->rows, s->c.peer, rc == -EAGAIN ? "no connection"
					 : sc_strerror(rc));
	s->down = rc != 0;
	sink_stats_done(&s->st, s->host, s->ctx, buf, rc == 0);
	return 0;
}

/* Writes are synchronous: nothing is ever in flight. */
int sc_flush(void *inst, int timeout_ms)
{
	(void)inst, (void)timeout_ms;
	return 0;
}

size_t sc_max_message(void *inst)
{
	const struct sc *s = inst;

	return s->c.mode == SC_DGRAM ? s->max_msg : 0;
}

/* From another thread, at the shutdown deadline: every wait returns, the batch in
 * hand is dropped (counted), and the sink thread can finish. */
void sc_cancel(void *inst)
{
	struct sc *s = inst;
	uint64_t one = 1;

	atomic_store(&s->cancelled, 1);
	if (write(s->cancel_fd, &one, sizeof(one)) < 0) {
		/* an eventfd write fails only when its counter would overflow: already woken */
	}
}

int sc_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx, const struct sc_conf *conf,
	      struct sc **out)
{
	struct sc *s = calloc(1, sizeof(*s));
	int rc;

	*out = s;
	if (s == NULL)
		return -ENOMEM;
	s->host = host;
	s->ctx = ctx;
	s->c = *conf;
	s->fd = -1;
	s->backoff_ms = conf->backoff_min_ms;
	s->rnd = (unsigned)sc_now();
	s->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->cancel_fd < 0) {
		rc = -errno;
		host->log(ctx, XTCPD_LOG_ERR, "eventfd: %s", strerror(-rc));
		return rc;
	}
	rc = sink_stats_init(&s->st, host, ctx, sc_reasons, R_N, s->failed);
	s->connects = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_connects_total", NULL,
				   "Connections made to the peer");
	s->torn = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_torn_batches_total", NULL,
			       "Batches cut by a connection failure after part of them was "
			       "written (each is sent again whole on the next connection)");
	s->connected = host->metric(ctx, XTCPD_METRIC_GAUGE, "sink_connected", NULL,
				    "1 while a connection to the peer is open");
	if (rc || !s->connects || !s->torn || !s->connected) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	s->max_msg = conf->max_datagram;
	return 0;
}

void sc_destroy(void *inst)
{
	struct sc *s = inst;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->cancel_fd >= 0)
		close(s->cancel_fd);
	free(s);
}
