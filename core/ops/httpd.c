/* httpd — /metrics, /healthz and /readyz over libmicrohttpd. We bind the listening socket
 * ourselves so a bad address or a taken port comes back as the exact errno with a message,
 * then hand it to one internal MHD thread (epoll) with a connection cap and an idle timeout:
 * nothing a client does can reach the poll loop except through the two handlers. That
 * thread is started from a confined one (ops/caps.h): it holds no capability from birth
 * and, when the daemon runs as root, runs as nobody. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ops/caps.h"
#include "ops/httpd.h"
#include "ops/threads.h"

#define HTTPD_BACKLOG 64
#define HTTPD_REASON_MAX 256

/* A connection waiting for a request header (see httpd_sweep). */
struct httpd_slot {
	int fd;                 /* -1: free; -2: cut, MHD closes it next */
	int waiting;            /* its next request's header is not complete yet */
	int64_t since_ms;       /* opened, or its previous answer was sent */
};

struct httpd {
	struct MHD_Daemon *mhd;
	struct httpd_slot slots[HTTPD_MAX_CONNECTIONS]; /* MHD's thread only: no lock */
	struct httpd_handlers hd;
	int port;
	/* Scrape buffer: only MHD's single thread touches it, so no lock. */
	char *mbuf;
	size_t mlen, mcap;
	int fd;                 /* the listening socket until MHD takes it */
	int any;                /* it listens on every address */
	int nobody;             /* MHD's thread runs as nobody */
};

static _Thread_local char httpd_err[256];

const char *httpd_error(void)
{
	return httpd_err;
}

/* Sets the message for a failed start: "prom_listen "ADDR": WHAT[: strerror]". */
static int httpd_fail(int err, const char *listen, const char *what)
{
	if (err == -EINVAL)
		snprintf(httpd_err, sizeof(httpd_err), "prom_listen \"%s\": %s", listen, what);
	else
		snprintf(httpd_err, sizeof(httpd_err), "prom_listen \"%s\": %s: %s", listen, what,
			 strerror(-err));
	return err;
}

/* Splits "HOST:PORT", "[ADDR]:PORT" or ":PORT" into host (maybe "") and port text. */
static int httpd_split(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon, *h = listen, *he;
	unsigned long p;
	char *end;

	if (*listen == '[') {
		he = strchr(listen, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		h = listen + 1;
		colon = he + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
			return -EINVAL;  /* no port, or an IPv6 address without brackets */
		he = colon;
	}
	if ((size_t)(he - h) >= hn || strlen(colon + 1) >= pn || !colon[1])
		return -EINVAL;
	if (strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (p > 65535)
		return -EINVAL;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int httpd_bind(const struct sockaddr *sa, socklen_t len, int *out)
{
	int fd, one = 1, zero = 0;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[::]:port" and ":port" take IPv4 too, as Go's listener does for xtcp2 */
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, len) < 0 || listen(fd, HTTPD_BACKLOG) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* Opens the listening socket for `listen`; returns the fd or -errno (message set). */
static int httpd_listen(const char *listen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	char host[256], port[8];
	int r, fd;

	if (httpd_split(listen, host, sizeof(host), port, sizeof(port)))
		return httpd_fail(-EINVAL, listen,
				  "expected HOST:PORT, [IPV6]:PORT or :PORT with a port 0-65535");
	if (!*host) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any,
					   .sin6_port = htons((uint16_t)atoi(port)) };
		struct sockaddr_in a4 = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_ANY),
					  .sin_port = htons((uint16_t)atoi(port)) };

		r = httpd_bind((struct sockaddr *)&a6, sizeof(a6), &fd);
		if (r == -EAFNOSUPPORT)  /* a kernel without IPv6 */
			r = httpd_bind((struct sockaddr *)&a4, sizeof(a4), &fd);
		return r < 0 ? httpd_fail(r, listen, "cannot listen") : fd;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		snprintf(httpd_err, sizeof(httpd_err),
			 "prom_listen \"%.100s\": cannot resolve \"%.100s\": %s", listen, host,
			 gai_strerror(r));
		return -EINVAL;
	}
	r = httpd_bind(ai->ai_addr, ai->ai_addrlen, &fd);
	freeaddrinfo(ai);
	return r < 0 ? httpd_fail(r, listen, "cannot listen") : fd;
}

static int64_t httpd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libmicrohttpd's timeout restarts with every byte, so a client trickling its header
 * would hold its connection forever. Each new connection and each request sweeps: a
 * connection still without a whole header HTTPD_HEADER_DEADLINE_S after it opened (or
 * after its previous answer) is shut down, and MHD closes it. Runs in MHD's thread,
 * which alone closes these fds, and a slot is freed before its fd is: never a stale fd. */
static void httpd_sweep(struct httpd *h)
{
	int64_t now = httpd_now_ms();

	for (size_t i = 0; i < HTTPD_MAX_CONNECTIONS; i++) {
		struct httpd_slot *s = &h->slots[i];

		if (s->fd >= 0 && s->waiting && now - s->since_ms > HTTPD_HEADER_DEADLINE_S * 1000) {
			shutdown(s->fd, SHUT_RDWR);
			s->fd = -2;
		}
	}
}

static struct httpd_slot *httpd_slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void httpd_track(struct httpd *h, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd_slot *s = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (s)
			s->fd = -1;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	for (size_t i = 0; ci && i < HTTPD_MAX_CONNECTIONS; i++)
		if (h->slots[i].fd == -1) {
			h->slots[i] = (struct httpd_slot){ ci->connect_fd, 1, httpd_now_ms() };
			*socket_context = &h->slots[i];
			break;
		}
	httpd_sweep(h);
}

/* A request was answered (or abandoned): the next one's header is due from now. */
static void httpd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct httpd_slot *s = httpd_slot_of(c);

	(void)cls;
	(void)con_cls;
	(void)toe;
	if (s && s->fd >= 0) {
		s->waiting = 1;
		s->since_ms = httpd_now_ms();
	}
}

static void httpd_conn(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	httpd_track(cls, c, socket_context, toe);
}

static enum MHD_Result httpd_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
				   const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"
#define REPLY_STATIC(c, status, s) \
	httpd_reply(c, status, TEXT, s, sizeof(s) - 1, MHD_RESPMEM_PERSISTENT)

static enum MHD_Result httpd_metrics(struct httpd *h, struct MHD_Connection *c)
{
	char msg[128];
	int r = -ENOSYS;

	h->mlen = 0;
	if (h->hd.metrics)
		r = h->hd.metrics(h->hd.arg, &h->mbuf, &h->mlen, &h->mcap);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "metrics unavailable: %s\n", strerror(-r));
		return httpd_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT, msg, strlen(msg),
				   MHD_RESPMEM_MUST_COPY);
	}
	/* copied: a slow reader must not see the buffer change under it at the next scrape */
	return httpd_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", h->mbuf,
			   h->mlen, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result httpd_ready(struct httpd *h, struct MHD_Connection *c)
{
	char reason[HTTPD_REASON_MAX] = "";
	size_t n;

	if (!h->hd.ready || h->hd.ready(h->hd.arg, reason, sizeof(reason) - 1) == 1)
		return REPLY_STATIC(c, MHD_HTTP_OK, "ready\n");
	reason[sizeof(reason) - 2] = '\0';
	n = strlen(reason);
	while (n && (reason[n - 1] == '\n' || reason[n - 1] == ' '))  /* one newline, ours */
		n--;
	if (!n)
		n = (size_t)snprintf(reason, sizeof(reason), "not ready");
	reason[n++] = '\n';
	return httpd_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, reason, n, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result httpd_answer(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size,
				    void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_slot *s = httpd_slot_of(c);

	if (s && s->fd >= 0)
		s->waiting = 0;  /* its header is complete */
	httpd_sweep(h);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return REPLY_STATIC(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return httpd_metrics(h, c);
	if (!strcmp(url, "/healthz"))
		return REPLY_STATIC(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz"))
		return httpd_ready(h, c);
	return REPLY_STATIC(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

int httpd_open(const char *listen, const struct httpd_handlers *hd, struct httpd **out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct httpd *h;
	int fd;

	*out = NULL;
	httpd_err[0] = '\0';
	fd = httpd_listen(listen);
	if (fd < 0)
		return fd;
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return httpd_fail(-ENOMEM, listen, "cannot start");
	}
	h->hd = *hd;
	h->fd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;

		h->port = ntohs(ss.ss_family == AF_INET6 ? a6->sin6_port : a4->sin_port);
		h->any = ss.ss_family == AF_INET6 ? IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr)
						  : a4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	for (size_t i = 0; i < HTTPD_MAX_CONNECTIONS; i++)
		h->slots[i].fd = -1;
	*out = h;
	return 0;
}

/* Runs on a thread confined by caps_run_confined: MHD's thread inherits its state. */
static int httpd_start_mhd(void *arg)
{
	struct httpd *h = arg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;

	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
									 : MHD_USE_POLL;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, httpd_answer, h,
				  MHD_OPTION_LISTEN_SOCKET, h->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTPD_PER_IP_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_CONNECTION, httpd_conn, h,
				  MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
				  MHD_OPTION_END);
	return h->mhd ? 0 : -EIO;
}

int httpd_serve(struct httpd *h)
{
	int rc = caps_run_confined(1, httpd_start_mhd, h, &h->nobody);

	if (rc) {
		snprintf(httpd_err, sizeof(httpd_err), "prom_listen: libmicrohttpd did not start: %s",
			 strerror(-rc));
		return rc;
	}
	h->fd = -1;   /* MHD's now */
	/* libmicrohttpd's thread names itself "MHD-single" once it runs: wait for that (a
	 * few ms at most), then give it our role name. */
	for (int i = 0; i < 500 && threads_rename("MHD-", "http") == 0; i++)
		usleep(1000);
	return 0;
}

int httpd_start(const char *listen, const struct httpd_handlers *hd, struct httpd **out)
{
	int rc = httpd_open(listen, hd, out);

	if (!rc && (rc = httpd_serve(*out))) {
		httpd_stop(*out);
		*out = NULL;
	}
	return rc;
}

int httpd_any(const struct httpd *h)
{
	return h && h->any;
}

int httpd_nobody(const struct httpd *h)
{
	return h && h->nobody;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->mhd)
		MHD_stop_daemon(h->mhd);   /* joins the thread, closes connections and the socket */
	else if (h->fd >= 0)
		close(h->fd);
	free(h->mbuf);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : -1;
}
