/* ops/lldp — the uplinks' LLDP neighbours from lldpd through liblldpctl, whose own transport
 * blocks without limit: ours is a non-blocking socket behind its send/recv callbacks, every
 * wait bounded by one deadline for the whole read (main thread, start and SIGHUP only).
 * liblldpctl is loaded (dlopen) at the first read: Debian ships it inside the lldpd package,
 * so linking it would make every xtcpd install the LLDP daemon. */
#include "config.h"
#include "ops/lldp.h"

#include <dlfcn.h>
#include <errno.h>
#include <lldpctl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "ops/metrics.h"

/* The part of liblldpctl used here, resolved at the first read; the calls below go
 * through these pointers under the library's own names. */
#define LLDP_LIBRARY "liblldpctl.so.4"
static struct {
	void *lib;
	__typeof__(lldpctl_atom_dec_ref) *atom_dec_ref;
	__typeof__(lldpctl_atom_get) *atom_get;
	__typeof__(lldpctl_atom_get_str) *atom_get_str;
	__typeof__(lldpctl_atom_iter) *atom_iter;
	__typeof__(lldpctl_atom_iter_next) *atom_iter_next;
	__typeof__(lldpctl_atom_iter_value) *atom_iter_value;
	__typeof__(lldpctl_get_interfaces) *get_interfaces;
	__typeof__(lldpctl_get_port) *get_port;
	__typeof__(lldpctl_last_error) *last_error;
	__typeof__(lldpctl_log_callback) *log_callback;
	__typeof__(lldpctl_new) *new;
	__typeof__(lldpctl_release) *release;
	__typeof__(lldpctl_strerror) *strerror;
} lc;
#define lldpctl_atom_dec_ref (lc.atom_dec_ref)
#define lldpctl_atom_get (lc.atom_get)
#define lldpctl_atom_get_str (lc.atom_get_str)
#define lldpctl_atom_iter (lc.atom_iter)
#define lldpctl_atom_iter_next (lc.atom_iter_next)
#define lldpctl_atom_iter_value (lc.atom_iter_value)
#define lldpctl_get_interfaces (lc.get_interfaces)
#define lldpctl_get_port (lc.get_port)
#define lldpctl_last_error (lc.last_error)
#define lldpctl_log_callback (lc.log_callback)
#define lldpctl_new (lc.new)
#define lldpctl_release (lc.release)
#define lldpctl_strerror (lc.strerror)

enum lldp_result { LR_OK, LR_UNREACHABLE, LR_ERROR, LR__COUNT };
static const char *const lldp_result_label[LR__COUNT] = {
	"result=\"ok\"", "result=\"unreachable\"", "result=\"error\"",
};

struct lldp_io {
	int fd;
	int err;            /* errno of the first failure of a callback, 0 = none */
	int64_t deadline;   /* clock_mono_ns() */
};

static int lldp_down;   /* the last read failed and said so: the next failure is quiet */

/* Waits until fd is ready for ev, within the deadline: 0 or -errno. */
static int lldp_wait(struct lldp_io *io, short ev)
{
	for (;;) {
		int64_t left = (io->deadline - clock_mono_ns()) / 1000000;
		struct pollfd p = { .fd = io->fd, .events = ev };
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static ssize_t lldp_fail(struct lldp_io *io, int err)
{
	if (!io->err)
		io->err = err;
	return LLDPCTL_ERR_CALLBACK_FAILURE;
}

static ssize_t lldp_send(lldpctl_conn_t *conn, const uint8_t *data, size_t len, void *arg)
{
	struct lldp_io *io = arg;
	size_t done = 0;
	int rc;

	/* All of it: _lldpctl_do_something() goes on to read the answer after one call */
	(void)conn;
	while (done < len) {
		ssize_t n = send(io->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0)
			done += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return lldp_fail(io, errno);
		else if ((rc = lldp_wait(io, POLLOUT)))
			return lldp_fail(io, -rc);
	}
	return (ssize_t)len;
}

static ssize_t lldp_recv(lldpctl_conn_t *conn, const uint8_t *data, size_t len, void *arg)
{
	struct lldp_io *io = arg;
	int rc;

	(void)conn;
	for (;;) {
		/* liblldpctl declares the buffer const, but hands a writable one to fill */
		ssize_t n = recv(io->fd, (void *)(uintptr_t)data, len, MSG_DONTWAIT);

		if (n > 0)
			return n;
		if (n == 0)
			return lldp_fail(io, ECONNRESET);  /* lldpd went away mid-answer */
		if (errno != EAGAIN && errno != EINTR)
			return lldp_fail(io, errno);
		if ((rc = lldp_wait(io, POLLIN)))
			return lldp_fail(io, -rc);
	}
}

static int lldp_connect(struct lldp_io *io, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t sl = sizeof(int);
	int rc, soerr = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((io->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	if (!connect(io->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	if (errno != EAGAIN && errno != EINPROGRESS)
		return -errno;
	/* a full backlog: wait for room, then the outcome */
	if ((rc = lldp_wait(io, POLLOUT)))
		return rc;
	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
		return -errno;
	return -soerr;
}

static void lldp_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* The first neighbour lldpd knows on port (an uplink faces one switch port). */
static void lldp_neighbour(lldpctl_atom_t *port, struct uplink_nic *u)
{
	lldpctl_atom_t *list = lldpctl_atom_get(port, lldpctl_k_port_neighbors);
	lldpctl_atom_iter_t *it = lldpctl_atom_iter(list);
	lldpctl_atom_t *nb = it ? lldpctl_atom_iter_value(list, it) : NULL;
	lldpctl_atom_t *ch = nb ? lldpctl_atom_get(nb, lldpctl_k_port_chassis) : NULL;
	lldpctl_atom_t *mgmts = ch ? lldpctl_atom_get(ch, lldpctl_k_chassis_mgmt) : NULL;
	lldpctl_atom_iter_t *mit = lldpctl_atom_iter(mgmts);
	lldpctl_atom_t *mgmt = mit ? lldpctl_atom_iter_value(mgmts, mit) : NULL;

	if (nb) {
		lldp_copy(u->lldp_port_id, sizeof(u->lldp_port_id), lldpctl_atom_get_str(nb, lldpctl_k_port_id));
		lldp_copy(u->lldp_port_descr, sizeof(u->lldp_port_descr),
			  lldpctl_atom_get_str(nb, lldpctl_k_port_descr));
	}
	if (ch) {
		lldp_copy(u->lldp_chassis_name, sizeof(u->lldp_chassis_name),
			  lldpctl_atom_get_str(ch, lldpctl_k_chassis_name));
		lldp_copy(u->lldp_chassis_id, sizeof(u->lldp_chassis_id),
			  lldpctl_atom_get_str(ch, lldpctl_k_chassis_id));
	}
	if (mgmt)
		lldp_copy(u->lldp_mgmt_ip, sizeof(u->lldp_mgmt_ip), lldpctl_atom_get_str(mgmt, lldpctl_k_mgmt_ip));
	lldpctl_atom_dec_ref(mgmt);
	lldpctl_atom_dec_ref(mgmts);
	lldpctl_atom_dec_ref(ch);
	lldpctl_atom_dec_ref(nb);
	lldpctl_atom_dec_ref(list);
}

static struct uplink_nic *lldp_uplink(struct uplink_set *s, const char *ifname)
{
	for (unsigned i = 0; ifname && i < s->n; i++)
		if (!strcmp(s->nic[i].ifname, ifname))
			return &s->nic[i];
	return NULL;
}

/* Asks lldpd for every interface it runs on and the neighbour of those that are uplinks.
 * 0 or an lldpctl error (negative). */
static int lldp_ask(lldpctl_conn_t *conn, struct uplink_set *s)
{
	lldpctl_atom_t *ifs = lldpctl_get_interfaces(conn), *iface;
	lldpctl_atom_iter_t *it;
	int rc = 0;

	if (!ifs)
		return lldpctl_last_error(conn) ? lldpctl_last_error(conn) : LLDPCTL_ERR_FATAL;
	for (it = lldpctl_atom_iter(ifs); !rc && it; it = lldpctl_atom_iter_next(ifs, it)) {
		struct uplink_nic *u;
		lldpctl_atom_t *port;

		if (!(iface = lldpctl_atom_iter_value(ifs, it)))
			break;
		u = lldp_uplink(s, lldpctl_atom_get_str(iface, lldpctl_k_interface_name));
		if (u && (port = lldpctl_get_port(iface))) {
			lldp_neighbour(port, u);
			lldpctl_atom_dec_ref(port);
		} else if (u) {
			rc = lldpctl_last_error(conn) ? lldpctl_last_error(conn) : LLDPCTL_ERR_FATAL;
		}
		lldpctl_atom_dec_ref(iface);
	}
	lldpctl_atom_dec_ref(ifs);
	return rc;
}

/* liblldpctl's own messages (it would print them on stderr): debug lines. */
static void lldp_lib_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("enrich_lldp: liblldpctl: %s", msg);
}

static void lldp_publish(struct uplink_nic *u)
{
#define LLDP_STR(s) ((s)[0] ? (s) : NULL)
	u->pub.lldp_chassis_name = LLDP_STR(u->lldp_chassis_name);
	u->pub.lldp_chassis_id = LLDP_STR(u->lldp_chassis_id);
	u->pub.lldp_mgmt_ip = LLDP_STR(u->lldp_mgmt_ip);
	u->pub.lldp_port_id = LLDP_STR(u->lldp_port_id);
	u->pub.lldp_port_descr = LLDP_STR(u->lldp_port_descr);
#undef LLDP_STR
}

static void lldp_said(const char *path, enum lldp_result r, int err, const char *what)
{
	_Atomic uint64_t *m[LR__COUNT];

	/* every result's series, so that a dashboard sees the zeros (found again, not
	 * made, by later reads) */
	for (int i = 0; i < LR__COUNT; i++)
		m[i] = metrics_get(XTCPD_METRIC_COUNTER, "xtcpd_lldp_reads_total", lldp_result_label[i],
				   "Reads of the uplinks' LLDP neighbours from lldpd (enrich_lldp), by result");
	metrics_add(m[r], 1);
	if (r != LR_OK && !lldp_down)
		log_warn("enrich_lldp: lldpd on %s: %s%s: the lldp fields stay empty until a "
			 "SIGHUP finds it", path, what, err == EACCES ?
			 " (xtcpd needs to be in the group of that socket, _lldpd on Debian)" : "");
	else if (r == LR_OK && lldp_down)
		log_info("enrich_lldp: lldpd on %s answers again", path);
	lldp_down = r != LR_OK;
}

/* POSIX's idiom for a function pointer out of dlsym. */
#define LC_SYM(f) (*(void **)&lc.f = dlsym(lc.lib, "lldpctl_" #f))

/* liblldpctl, once per process: 0, or -ENOENT with the reason in `why`. */
static int lldp_load(char *why, size_t n)
{
	if (lc.lib)
		return 0;
	if (!(lc.lib = dlopen(LLDP_LIBRARY, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(why, n, "cannot load %s (Debian package lldpd): %s", LLDP_LIBRARY, dlerror());
		return -ENOENT;
	}
	if (!LC_SYM(atom_dec_ref) || !LC_SYM(atom_get) || !LC_SYM(atom_get_str) ||
	    !LC_SYM(atom_iter) || !LC_SYM(atom_iter_next) || !LC_SYM(atom_iter_value) ||
	    !LC_SYM(get_interfaces) || !LC_SYM(get_port) || !LC_SYM(last_error) ||
	    !LC_SYM(log_callback) || !LC_SYM(new) || !LC_SYM(release) || !LC_SYM(strerror)) {
		snprintf(why, n, "%s lacks a function xtcpd needs (%s)", LLDP_LIBRARY, dlerror());
		dlclose(lc.lib);
		lc.lib = NULL;
		return -ENOENT;
	}
	return 0;
}

int lldp_read(const char *path, struct uplink_set *s)
{
	struct lldp_io io = { .fd = -1, .deadline = clock_mono_ns() + LLDP_TIMEOUT_MS * 1000000LL };
	struct uplink_nic keep[UPLINK_MAX];
	lldpctl_conn_t *conn = NULL;
	int rc;

	char why[256];

	if ((rc = lldp_load(why, sizeof(why)))) {
		lldp_said(path, LR_ERROR, ENOENT, why);
		return rc;
	}
	memcpy(keep, s->nic, sizeof(keep));
	lldpctl_log_callback(lldp_lib_log);
	if ((rc = lldp_connect(&io, path))) {
		lldp_said(path, LR_UNREACHABLE, -rc, log_errstr(rc));
		goto out;
	}
	if (!(conn = lldpctl_new(lldp_send, lldp_recv, &io))) {
		rc = -ENOMEM;
		lldp_said(path, LR_ERROR, ENOMEM, log_errstr(rc));
		goto out;
	}
	if ((rc = lldp_ask(conn, s))) {
		char what[160];

		/* a partial read fills nothing: all uplinks from one answer, or none */
		memcpy(s->nic, keep, sizeof(keep));
		if (io.err) {
			lldp_said(path, LR_UNREACHABLE, io.err, log_errstr(-io.err));
		} else {
			snprintf(what, sizeof(what), "unusable answer (%s)", lldpctl_strerror(rc));
			lldp_said(path, LR_ERROR, EPROTO, what);
		}
		rc = io.err ? -io.err : -EPROTO;
		goto out;
	}
	for (unsigned i = 0; i < s->n; i++)
		lldp_publish(&s->nic[i]);
	lldp_said(path, LR_OK, 0, "");
out:
	lldpctl_release(conn);
	if (io.fd >= 0)
		close(io.fd);
	return rc;
}
