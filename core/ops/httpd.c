/* httpd — /metrics, /healthz and /readyz over libmicrohttpd. We bind the listening socket
 * ourselves so a bad address or a taken port comes back as the exact errno with a message,
 * then hand it to one internal MHD thread (epoll) with a connection cap and an idle timeout:
 * nothing a client does can reach the poll loop except through the two handlers. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <microhttpd.h>

#include "ops/httpd.h"

#define HTTPD_BACKLOG 64
#define HTTPD_REASON_MAX 256

struct httpd {
	struct MHD_Daemon *mhd;
	struct httpd_handlers hd;
	int port;
	/* Scrape buffer: only MHD's single thread touches it, so no lock. */
	char *mbuf;
	size_t mlen, mcap;
	int caps_shed;          /* MHD's thread has dropped its capabilities */
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

/* Capabilities are per thread: the one thread that parses what the network sends needs
 * none, whatever the daemon keeps for setns. It sheds them all (effective, permitted,
 * inheritable) when it accepts its first connection, before reading a byte of it; this
 * holds even when the daemon starts the endpoint before dropping its own capabilities
 * (to bind a port below 1024). The thread never execs, so the bounding set is moot. */
static void httpd_conn(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };

	if (toe != MHD_CONNECTION_NOTIFY_STARTED || h->caps_shed)
		return;
	if (syscall(SYS_capset, &hdr, none) == 0)
		h->caps_shed = 1;
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

int httpd_start(const char *listen, const struct httpd_handlers *hd, struct httpd **out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
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
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							  : ((struct sockaddr_in *)&ss)->sin_port);
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL
									 : MHD_USE_POLL;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, httpd_answer, h,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_CONNECTION, httpd_conn, h,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		free(h);
		return httpd_fail(-EIO, listen, "libmicrohttpd did not start");
	}
	*out = h;
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);   /* joins the thread, closes connections and the socket */
	free(h->mbuf);
	free(h);
}

int httpd_port(const struct httpd *h)
{
	return h ? h->port : -1;
}
