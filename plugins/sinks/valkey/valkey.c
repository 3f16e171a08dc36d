/* sink valkey — PUBLISHes each batch to a Valkey/Redis channel (xtcp2's -topic) over one
 * connection (hiredis). The command is written straight from the pooled buffer with one
 * sendmsg (no copy of the batch); the server's integer reply confirms it. While the server
 * is away batches are dropped at once and counted, and the connection is retried at most
 * every reconnect_wait, so an outage never stalls the sink for long. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <xtcpd/plugin.h>

#include "plugins/sinks/common/sink_stats.h"

#define VK_LOG_INTERVAL_MS 10000

enum vk_key { K_ADDRESS, K_CHANNEL, K_TIMEOUT, K_RECONNECT_WAIT, K_USERNAME, K_PASSWORD, K_N };

static const struct xtcpd_key vk_keys[] = {
	[K_ADDRESS] = { "address", XTCPD_KEY_STRING, NULL, 0, 300, NULL, XTCPD_KEY_REQUIRED,
			"server HOST:PORT or [IPv6]:PORT" },
	[K_CHANNEL] = { "channel", XTCPD_KEY_STRING, "xtcp", 0, 1024, NULL, 0,
			"channel every batch is PUBLISHed to (xtcp2's -topic)" },
	[K_TIMEOUT] = { "timeout", XTCPD_KEY_DURATION, "1s", 10, 30000, NULL, 0,
			"longest a connect or one PUBLISH may take" },
	[K_RECONNECT_WAIT] = { "reconnect_wait", XTCPD_KEY_DURATION, "1s", 0, 600000, NULL, 0,
			       "least time between two connection attempts while the server is away" },
	[K_USERNAME] = { "username", XTCPD_KEY_STRING, "", 0, 256, NULL, 0,
			 "ACL user for AUTH (empty: AUTH with the password only, if one is set)" },
	[K_PASSWORD] = { "password", XTCPD_KEY_STRING, "", 0, 1024, NULL, 0,
			 "password for AUTH; empty = no AUTH" },
	XTCPD_KEYS_END,
};

enum vk_reason { R_DISCONNECTED, R_UNCONFIRMED, R_TIMEOUT, R_ERROR, R_AUTH, R_CANCELLED,
		 R_OTHER, R_N };
static const char *const vk_reasons[R_N] = {
	[R_DISCONNECTED] = "disconnected", [R_UNCONFIRMED] = "unconfirmed", [R_TIMEOUT] = "timeout",
	[R_ERROR] = "error", [R_AUTH] = "auth", [R_CANCELLED] = "cancelled", [R_OTHER] = "other",
};

struct vk_sink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	struct sink_stats st;
	_Atomic uint64_t *failed[R_N];
	_Atomic uint64_t *connects, *disconnects, *unheard;

	char hostname[256];
	int port;
	const char *channel, *username, *password;
	char head[1100];                /* the command's RESP text up to the batch's length */
	size_t head_len;
	struct timeval tv;
	int64_t reconnect_wait_ns;

	pthread_mutex_t lock;           /* rc is swapped under it (cancel shuts its socket) */
	redisContext *rc;
	int64_t next_connect_ns;
	atomic_int cancelled;
	char rl[R_N];
};

static int64_t vk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void vk_fail(struct vk_sink *vs, unsigned r, const char *fmt, ...) XTCPD_PRINTF(3, 4);
static void vk_fail(struct vk_sink *vs, unsigned r, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	sink_stats_fail(&vs->st, r);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vs->host->log_ratelimited(vs->ctx, &vs->rl[r], VK_LOG_INTERVAL_MS, XTCPD_LOG_WARN, "%s",
				  line);
}

/* Everything create() could refuse, without side effects: the address parsed and its
 * name resolved, the channel, the credentials' pairing; into vs when it is not NULL. */
static int vk_conf(struct vk_sink *vs, const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	const struct xtcpd_value *v = cfg->values;
	const char *a, *colon, *host, *channel, *user, *pass;
	char hostname[256];
	size_t hlen;
	char *end;
	long port;
	int gai;

	if (cfg->n_values < K_N)
		return XTCPD_CHECK_FAIL(res, NULL, "configuration has %zu keys, this plugin needs %d",
					cfg->n_values, K_N);
	if (!v[K_ADDRESS].str)
		return XTCPD_CHECK_FAIL(res, "address", "required");
	a = v[K_ADDRESS].str;
	if (a[0] == '[') {
		colon = strstr(a, "]:");
		host = a + 1;
		hlen = colon ? (size_t)(colon - host) : 0;
		colon = colon ? colon + 1 : NULL;
	} else {
		colon = strrchr(a, ':');
		host = a;
		hlen = colon && strchr(a, ':') == colon ? (size_t)(colon - a) : 0;
	}
	port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!hlen || hlen >= sizeof(hostname) || !colon || !colon[1] || *end || port < 1 ||
	    port > 65535)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': expected HOST:PORT or [IPv6]:PORT", a);
	memcpy(hostname, host, hlen);
	hostname[hlen] = '\0';
	gai = getaddrinfo(hostname, NULL, &hints, &ai);
	if (gai)
		return XTCPD_CHECK_FAIL(res, "address", "'%s': %s", a,
					gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	freeaddrinfo(ai);
	channel = v[K_CHANNEL].str;
	if (!channel || !*channel)
		return XTCPD_CHECK_FAIL(res, "channel", "must not be empty");
	user = v[K_USERNAME].str ? v[K_USERNAME].str : "";
	pass = v[K_PASSWORD].str ? v[K_PASSWORD].str : "";
	if (*user && !*pass)
		return XTCPD_CHECK_FAIL(res, "username", "set, but password is empty");
	if (!vs)
		return 0;
	memcpy(vs->hostname, hostname, hlen + 1);
	vs->port = (int)port;
	vs->channel = channel;
	vs->tv.tv_sec = v[K_TIMEOUT].num / 1000;
	vs->tv.tv_usec = (v[K_TIMEOUT].num % 1000) * 1000;
	vs->reconnect_wait_ns = v[K_RECONNECT_WAIT].num * 1000000LL;
	vs->username = *user ? user : NULL;
	vs->password = *pass ? pass : NULL;
	/* PUBLISH channel <batch>: everything before the batch is the same every time. */
	vs->head_len = (size_t)snprintf(vs->head, sizeof(vs->head),
					"*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$",
					strlen(vs->channel), vs->channel);
	return 0;
}

/* The check op (ABI 1.3): no connection made. */
static int vk_check(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	return vk_conf(NULL, cfg, res);
}

static void vk_drop_conn(struct vk_sink *vs)
{
	pthread_mutex_lock(&vs->lock);
	redisFree(vs->rc);
	vs->rc = NULL;
	pthread_mutex_unlock(&vs->lock);
}

/* Connect (and AUTH): 0, -ECONNREFUSED (not reachable) or -EACCES (AUTH refused), with
 * the server's or the system's words in why. */
static int vk_connect(struct vk_sink *vs, char *why, size_t n)
{
	redisContext *c = redisConnectWithTimeout(vs->hostname, vs->port, vs->tv);
	redisReply *r = NULL;

	vs->next_connect_ns = vk_now_ns() + vs->reconnect_wait_ns;
	if (!c || c->err) {
		snprintf(why, n, "connect to %s:%d: %s", vs->hostname, vs->port,
			 c ? c->errstr : "out of memory");
		redisFree(c);
		return -ECONNREFUSED;
	}
	redisSetTimeout(c, vs->tv);
	if (vs->password) {
		r = vs->username ? redisCommand(c, "AUTH %s %s", vs->username, vs->password)
				 : redisCommand(c, "AUTH %s", vs->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, n, "AUTH refused by %s:%d: %s", vs->hostname, vs->port,
				 r ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return -EACCES;
		}
		freeReplyObject(r);
	}
	pthread_mutex_lock(&vs->lock);
	vs->rc = c;
	pthread_mutex_unlock(&vs->lock);
	if (atomic_fetch_add(vs->connects, 1))
		vs->host->log(vs->ctx, XTCPD_LOG_INFO, "connected to %s:%d again", vs->hostname,
			      vs->port);
	return 0;
}

/* Write the whole PUBLISH from the batch itself; SO_SNDTIMEO (redisSetTimeout) bounds it. */
static int vk_write(struct vk_sink *vs, const uint8_t *data, size_t len)
{
	char num[32];
	struct iovec iov[4] = {
		{ vs->head, vs->head_len },
		{ num, (size_t)snprintf(num, sizeof(num), "%zu\r\n", len) },
		{ (void *)data, len },
		{ "\r\n", 2 },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 4 };

	while (mh.msg_iovlen) {
		ssize_t w = sendmsg(vs->rc->fd, &mh, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		while (mh.msg_iovlen && (size_t)w >= mh.msg_iov->iov_len) {
			w -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* PUBLISH one batch; returns 1 when the server confirmed it. */
static int vk_publish(struct vk_sink *vs, struct xtcpd_buf *buf)
{
	redisReply *r = NULL;
	int err, ok = 0;

	err = vk_write(vs, buf->data + buf->off, buf->len - buf->off);
	if (!err && redisGetReply(vs->rc, (void **)&r) != REDIS_OK) {
		int e = errno;  /* what the failed read left */

		err = vs->rc->err == REDIS_ERR_IO && e ? -e : -EIO;
	}
	if (err) {
		unsigned reason = atomic_load(&vs->cancelled) ? R_CANCELLED :
				  err == -EAGAIN ? R_TIMEOUT : R_UNCONFIRMED;

		vk_fail(vs, reason, "batch of %u records: no reply from %s:%d (%s); it may or "
			"may not have been published", buf->rows, vs->hostname, vs->port,
			err == -EIO ? vs->rc->errstr : strerror(-err));
		vk_drop_conn(vs);       /* a reply may still come: the stream is out of step */
		sink_count(vs->disconnects, 1);
		vs->next_connect_ns = vk_now_ns();
		return 0;
	}
	if (r->type == REDIS_REPLY_INTEGER) {
		ok = 1;
		if (r->integer == 0)
			sink_count(vs->unheard, 1);
	} else {
		vk_fail(vs, r->type == REDIS_REPLY_ERROR ? R_ERROR : R_OTHER,
			"batch of %u records refused: %s", buf->rows,
			r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
	}
	freeReplyObject(r);
	return ok;
}

/* Did the server close the connection since the last reply (restart, idle timeout)? Then
 * the next batch goes to a new connection instead of being lost on the old one. */
static int vk_alive(struct vk_sink *vs)
{
	char c;
	ssize_t n = recv(vs->rc->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int vk_send(void *inst, struct xtcpd_buf *buf)
{
	struct vk_sink *vs = inst;
	char why[640];
	int ok = 0, err;

	if (vs->rc && !vk_alive(vs)) {
		vk_drop_conn(vs);
		sink_count(vs->disconnects, 1);
		vs->next_connect_ns = 0;
	}
	if (atomic_load(&vs->cancelled)) {
		vk_fail(vs, R_CANCELLED, "batch dropped: shutdown deadline passed");
	} else if (!vs->rc && vk_now_ns() < vs->next_connect_ns) {
		vk_fail(vs, R_DISCONNECTED, "batch dropped: %s:%d is not connected", vs->hostname,
			vs->port);
	} else if (!vs->rc && (err = vk_connect(vs, why, sizeof(why)))) {
		vk_fail(vs, err == -EACCES ? R_AUTH : R_DISCONNECTED, "batch dropped: %s", why);
	} else {
		ok = vk_publish(vs, buf);
	}
	sink_stats_done(&vs->st, vs->host, vs->ctx, buf, ok);
	return 0;
}

static int vk_flush(void *inst, int timeout_ms)
{
	(void)inst;
	(void)timeout_ms;       /* send() waits for each reply */
	return 0;
}

static size_t vk_max_message(void *inst)
{
	(void)inst;
	return 0;               /* proto-max-bulk-len is 512 MB: flush_bytes decides */
}

/* Shutdown deadline passed: shutting the socket ends a PUBLISH waiting for its reply. */
static void vk_cancel(void *inst)
{
	struct vk_sink *vs = inst;

	atomic_store(&vs->cancelled, 1);
	pthread_mutex_lock(&vs->lock);
	if (vs->rc)
		shutdown(vs->rc->fd, SHUT_RDWR);
	pthread_mutex_unlock(&vs->lock);
}

static void vk_destroy(void *inst)
{
	struct vk_sink *vs = inst;

	if (!vs)
		return;
	redisFree(vs->rc);
	pthread_mutex_destroy(&vs->lock);
	free(vs);
}

static int vk_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
		     const struct xtcpd_config *cfg, void **inst)
{
	struct vk_sink *vs = calloc(1, sizeof(*vs));
	char why[640], msg[400];
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
	int err;

	*inst = vs;
	if (!vs)
		return -ENOMEM;
	vs->host = host;
	vs->ctx = ctx;
	pthread_mutex_init(&vs->lock, NULL);
	if ((err = vk_conf(vs, cfg, &res))) {
		host->log(ctx, XTCPD_LOG_ERR, "%s%s%s", res.key ? res.key : "", res.key ? ": " : "",
			  msg);
		return err;
	}
	err = sink_stats_init(&vs->st, host, ctx, vk_reasons, R_N, vs->failed);
	vs->connects = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_valkey_connects_total", NULL,
				    "Connections made to the server");
	vs->disconnects = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_valkey_disconnects_total",
				       NULL, "Connections lost (I/O error or timeout)");
	vs->unheard = host->metric(ctx, XTCPD_METRIC_COUNTER, "sink_valkey_unheard_total", NULL,
				   "Batches delivered while nobody was subscribed to the channel");
	if (err || !vs->connects || !vs->disconnects || !vs->unheard) {
		host->log(ctx, XTCPD_LOG_ERR, "cannot register metrics");
		return -ENOMEM;
	}
	/* Reachable now? Not required (the first batches reconnect), but say so; a refused
	 * AUTH is a configuration error. */
	err = vk_connect(vs, why, sizeof(why));
	if (err == -EACCES) {
		host->log(ctx, XTCPD_LOG_ERR, "%s", why);
		return err;
	}
	if (err)
		host->log(ctx, XTCPD_LOG_WARN, "%s; retrying with the first batches", why);
	vs->next_connect_ns = 0;
	return 0;
}

static const struct xtcpd_sink_ops vk_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_sink_ops),
		.create = vk_create,
		.destroy = vk_destroy,
	},
	.max_message = vk_max_message,
	.send = vk_send,
	.flush = vk_flush,
	.cancel = vk_cancel,
};

XTCPD_PLUGIN_CHECKED(XTCPD_KIND_SINK, "valkey", PACKAGE_VERSION,
		     "PUBLISH each batch to a Valkey/Redis channel (hiredis, zero-copy write)",
		     vk_keys, &vk_ops, vk_check);
