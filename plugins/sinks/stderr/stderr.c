/* sink stderr — writes each batch to standard error, as xtcp2's -dest stderr. Writes
 * never block: a pipe or terminal gets a private non-blocking open file description
 * (/proc/self/fd/2, so the daemon's own log writes keep their blocking one), a socket
 * (systemd's journal stream) gets MSG_DONTWAIT, a regular file is written as is. A
 * batch that cannot be written within write_timeout, or meets EPIPE, is dropped and
 * counted; cancel ends any wait. The header line of csv/tsv goes out once per run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xtcpd/plugin.h>

#include "plugins/sinks/common/header.h"
#include "plugins/sinks/common/sink_stats.h"

#define ER_LOG_INTERVAL_MS 10000

enum er_key { K_WRITE_TIMEOUT, K__COUNT };

static const struct xtcpd_key er_keys[] = {
	[K_WRITE_TIMEOUT] = { "write_timeout", XTCPD_KEY_DURATION, "5s", 1, 600000, NULL, 0,
			      "drop a batch that standard error does not take within this long" },
	XTCPD_KEYS_END,
};

enum er_reason { R_EPIPE, R_ETIMEDOUT, R_EIO, R_CANCELLED, R_OTHER, R_N };
static const char *const er_reasons[R_N] = { "epipe", "etimedout", "eio", "cancelled", "other" };

enum er_how { ER_WRITE, ER_SEND };

struct er_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	int fd;                 /* where batches go (our own description, or 2) */
	int own_fd;             /* fd is ours to close */
	enum er_how how;
	int64_t write_timeout_ms;
	int hdr_sent;           /* the header line went out (once per run) */
	int cancel_fd;
	atomic_int cancelled;
	char rl[R_N];
};

static int64_t er_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned er_reason_of(int err)
{
	switch (err) {
	case EPIPE: return R_EPIPE;
	case ETIMEDOUT: return R_ETIMEDOUT;
	case EIO: case ENOSPC: return R_EIO;
	case ECANCELED: return R_CANCELLED;
	default: return R_OTHER;
	}
}

/* Until fd takes data, up to timeout_ms: 1, 0 on timeout, -ECANCELED, poll's -errno. */
static int er_wait(struct er_sink *es, int64_t timeout_ms)
{
	struct pollfd p[2] = { { es->cancel_fd, POLLIN, 0 }, { es->fd, POLLOUT, 0 } };
	int64_t end = er_now_ms() + timeout_ms;

	for (;;) {
		int64_t left = end - er_now_ms();
		int n;

		if (atomic_load(&es->cancelled))
			return -ECANCELED;
		n = poll(p, 2, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (atomic_load(&es->cancelled) || (n > 0 && p[0].revents))
			return -ECANCELED;
		if (n > 0)
			return 1;       /* writable, or an error the write will report */
		if (left <= 0)
			return 0;
	}
}

/* Write data[0, n) completely; 0 or -errno (-ETIMEDOUT: no progress for the timeout). */
static int er_write(struct er_sink *es, const uint8_t *data, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = es->how == ER_SEND
			? send(es->fd, data + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL)
			: write(es->fd, data + done, n - done);
		int rc;

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		rc = er_wait(es, es->write_timeout_ms);
		if (rc <= 0)
			return rc == 0 ? -ETIMEDOUT : rc;
	}
	return 0;
}

static int er_send(void *inst, struct xtcpd_buf *buf)
{
	struct er_sink *es = inst;
	size_t skip = es->hdr_sent ? sink_header_len(buf) : 0;
	int rc;

	rc = er_write(es, buf->data + buf->off + skip, buf->len - buf->off - skip);
	if (rc) {
		unsigned r = er_reason_of(-rc);

		sink_stats_fail(&es->st, r);
		es->host->log_ratelimited(es->ctx, &es->rl[r], ER_LOG_INTERVAL_MS, XTCPD_LOG_WARN,
					  "batch of %u records not written to standard error: %s",
					  buf->rows, strerror(-rc));
	} else {
		es->hdr_sent = 1;
	}
	sink_stats_done(&es->st, es->host, es->ctx, buf, rc == 0);
	return 0;
}

static void er_cancel(void *inst)
{
	struct er_sink *es = inst;
	uint64_t one = 1;

	atomic_store(&es->cancelled, 1);
	if (write(es->cancel_fd, &one, sizeof(one)) < 0) {
		/* only when the counter would overflow: already woken */
	}
}

static int er_flush(void *inst, int timeout_ms)
{
	(void)inst, (void)timeout_ms;   /* writes are synchronous */
	return 0;
}

static size_t er_max_message(void *inst)
{
	(void)inst;
	return 0;
}

/* Pick how to write fd 2 without ever blocking (see the top of the file). */
static int er_open(struct er_sink *es)
{
	struct stat sb;
	char path[32];

	if (fstat(STDERR_FILENO, &sb) < 0)
		return -errno;
	es->fd = STDERR_FILENO;
	es->how = S_ISSOCK(sb.st_mode) ? ER_SEND : ER_WRITE;
	if (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", STDERR_FILENO);
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

		if (fd >= 0) {
			es->fd = fd;
			es->own_fd = 1;
		} else {
			es->host->log(es->ctx, XTCPD_LOG_WARN, "cannot reopen standard error "
				      "non-blocking (%s): a stalled reader can hold a write",
				      strerror(errno));
		}
	}
	return 0;
}

static void er_destroy(void *inst)
{
	struct er_sink *es = inst;

	if (es == NULL)
		return;
	if (es->own_fd)
		close(es->fd);
	if (es->cancel_fd >= 0)
		close(es->cancel_fd);
	free(es);
}

/* The check op (ABI 1.3): the key table covers the range; what create() could still
 * refuse is a standard error that is not open. */
static int er_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct stat sb;

	if (cfg->n_values < K__COUNT)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K__COUNT);
	if (fstat(STDERR_FILENO, &sb) < 0)
		return XTCPD_CHECK_FAIL(res, NULL, "standard error: %s", strerror(errno));
	return 0;
}

static int er_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		     const struct xtcpd_config *cfg, void **inst)
{
	struct er_sink *es;
	char msg[128];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int rc;

	*inst = NULL;
	rc = er_check(cfg, &res);
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", msg);
		return rc;
	}
	es = calloc(1, sizeof(*es));
	if (es == NULL)
		return -ENOMEM;
	*inst = es;
	es->host = host;
	es->ctx = ctx;
	es->fd = -1;
	es->write_timeout_ms = cfg->values[K_WRITE_TIMEOUT].num;
	es->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (es->cancel_fd < 0) {
		rc = -errno;
		host->log(ctx, XTCPD_LOG_ERR, "eventfd: %s", strerror(-rc));
		return rc;
	}
	rc = sink_stats_init(&es->st, host, ctx, er_reasons, R_N, es->failed);
	if (rc) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return rc;
	}
	rc = er_open(es);
	if (rc)
		host->log(ctx, XTCPD_LOG_ERR, "standard error: %s", strerror(-rc));
	return rc;
}

static const struct xtcpd_sink_ops er_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = er_create,
		.destroy = er_destroy,
	},
	.max_message = er_max_message,
	.send = er_send,
	.flush = er_flush,
	.cancel = er_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "stderr", PACKAGE_VERSION,
		     "write batches to standard error (non-blocking, bounded wait)", er_keys, &er_ops,
		     er_check);
