/* caps — capability report and drop. With libcap the sets come from cap_get_proc() and
 * are changed with cap_set_proc(); without it CapEff is parsed from /proc/self/status and
 * the sets are changed with the raw capset(2)/prctl(2) calls. sock_diag is checked by
 * asking the kernel for an (empty) dump rather than guessed from capabilities, because
 * what stops it in practice is a seccomp filter or a missing inet_diag module. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#if defined(HAVE_LIBCAP) && !defined(CAPS_NO_LIBCAP)
#define CAPS_USE_LIBCAP 1
#include <sys/capability.h>
#endif

#include "ops/caps.h"

/* The pieces caps_check reports, with what the daemon loses without each. */
#define CAPS_NEEDED_(cap, field, lost) { cap, offsetof(struct caps_report, field), lost },
static const struct {
	int cap;
	size_t off;
	const char *lost;
} caps_needed[] = { CAPS_RUNTIME(CAPS_NEEDED_) };

static void caps_line(char *msg, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= n)
		return;
	if (*used)
		msg[(*used)++] = '\n';
	if (*used >= n) {
		msg[n - 1] = '\0';
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(msg + *used, n - *used, fmt, ap);
	va_end(ap);
	*used = w < 0 ? n : *used + (size_t)w;
}

/* Sends an inet_diag dump for no state at all: the kernel answers NLMSG_DONE at once
 * when sock_diag works. Returns 0 or -errno. */
static int caps_sock_diag(void)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 0 },
	};
	struct timeval tv = { .tv_sec = 2 };
	union { char b[8192]; struct nlmsghdr nh; } resp;
	struct nlmsghdr *nh;
	ssize_t len;
	int fd, err = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out_close;
	}
	len = recv(fd, resp.b, sizeof(resp.b), 0);
	if (len < 0) {
		err = -errno;
		goto out_close;
	}
	nh = &resp.nh;
	if (!NLMSG_OK(nh, (size_t)len))
		err = -EPROTO;
	else if (nh->nlmsg_type == NLMSG_ERROR)
		err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	else if (nh->nlmsg_type == NLMSG_DONE && nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
		err = *(int *)NLMSG_DATA(nh);   /* a failed dump ends in DONE carrying -errno */
out_close:
	close(fd);
	return err < 0 ? err : 0;
}

#ifdef CAPS_USE_LIBCAP
static int caps_effective(int cap, const void *st)
{
	cap_flag_value_t v = CAP_CLEAR;

	cap_get_flag((cap_t)st, (cap_value_t)cap, CAP_EFFECTIVE, &v);
	return v == CAP_SET;
}

static int caps_read(void **st)
{
	*st = cap_get_proc();
	return *st ? 0 : -errno;
}

static void caps_release(void *st)
{
	cap_free(st);
}
#else
static int caps_effective(int cap, const void *st)
{
	return (int)((*(const uint64_t *)st >> cap) & 1);
}

/* CapEff from /proc/self/status (of this thread, which is what setns will use). */
static int caps_read(void **st)
{
	static _Thread_local uint64_t eff;
	char line[256];
	FILE *f;
	int found = 0;

	f = fopen("/proc/thread-self/status", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &eff) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	*st = &eff;
	return found ? 0 : -ENOENT;
}

static void caps_release(void *st)
{
}
#endif

int caps_check(struct caps_report *r, char *msg, size_t n)
{
	size_t used = 0;
	void *st;
	int err;

	memset(r, 0, sizeof(*r));
	if (n)
		*msg = '\0';
	err = caps_read(&st);
	if (err)
		return err;
	err = caps_sock_diag();
	r->sock_diag = !err;
	if (err)
		caps_line(msg, n, &used, "cannot dump sockets over NETLINK_SOCK_DIAG (%s): nothing "
			  "can be collected", strerror(-err));
	for (size_t i = 0; i < sizeof(caps_needed) / sizeof(caps_needed[0]); i++) {
		int have = caps_effective(caps_needed[i].cap, st);

		*(int *)((char *)r + caps_needed[i].off) = have;
		if (!have)
			caps_line(msg, n, &used, "%s", caps_needed[i].lost);
	}
	caps_release(st);
	return 0;
}

static int caps_kept(int cap, const int *keep, size_t n_keep)
{
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] == cap)
			return 1;
	return 0;
}

/* Highest capability number this kernel knows. */
static int caps_last(void)
{
	int c = 63;

	while (c > 0 && prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) < 0)
		c--;
	return c;
}

/* Drops from the bounding set every capability not kept; needs CAP_SETPCAP. */
static int caps_drop_bounding(const int *keep, size_t n_keep, int last)
{
	int err = 0;

	for (int c = 0; c <= last; c++) {
		if (caps_kept(c, keep, n_keep) || prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0 && !err)
			err = -errno;
	}
	return err;
}

#ifdef CAPS_USE_LIBCAP
static int caps_set(const int *keep, size_t n_keep)
{
	cap_t cur = cap_get_proc(), next = cap_init();
	int err = 0;

	if (!cur || !next) {
		err = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n_keep; i++) {
		cap_value_t c = (cap_value_t)keep[i];
		cap_flag_value_t v = CAP_CLEAR;

		/* a capability not permitted now cannot be gained: keep only what we have */
		if (cap_get_flag(cur, c, CAP_PERMITTED, &v) || v != CAP_SET)
			continue;
		cap_set_flag(next, CAP_PERMITTED, 1, &c, CAP_SET);
		cap_set_flag(next, CAP_EFFECTIVE, 1, &c, CAP_SET);
	}
	if (cap_set_proc(next) < 0)
		err = -errno;
out_free:
	cap_free(cur);
	cap_free(next);
	return err;
}
#else
static int caps_set(const int *keep, size_t n_keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d) < 0)
		return -errno;
	for (int w = 0; w < 2; w++) {
		uint32_t mask = 0;

		for (size_t i = 0; i < n_keep; i++)
			if (keep[i] >= 32 * w && keep[i] < 32 * (w + 1))
				mask |= 1u << (keep[i] - 32 * w);
		d[w].permitted &= mask;
		d[w].effective = d[w].permitted;
		d[w].inheritable = 0;
	}
	return syscall(SYS_capset, &hdr, d) < 0 ? -errno : 0;
}
#endif

int caps_drop_except(const int *keep, size_t n_keep)
{
	int err_bound, err;

	/* bounding first: dropping from it needs CAP_SETPCAP, which the capset below removes */
	err_bound = caps_drop_bounding(keep, n_keep, caps_last());
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	err = caps_set(keep, n_keep);
	return err ? err : err_bound;
}

struct caps_job {
	int (*fn)(void *);
	void *arg;
	int as_nobody, nobody, rc;
};

/* Raw syscalls throughout: they change this thread only, where glibc's set*id() and
 * libcap (with libpsx) would change every thread of the process. */
static int caps_confine_self(struct caps_job *j)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = { { 0 } };
	uid_t id = CAPS_NOBODY;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return -errno;
	if (prctl(PR_CAPBSET_READ, (unsigned long)CAP_SETPCAP, 0, 0, 0) == 1)
		caps_drop_bounding(NULL, 0, caps_last());  /* fails harmlessly without SETPCAP */
	if (j->as_nobody && syscall(SYS_geteuid) == 0 && syscall(SYS_setgroups, 0, NULL) == 0 &&
	    syscall(SYS_setresgid, id, id, id) == 0 && syscall(SYS_setresuid, id, id, id) == 0)
		j->nobody = 1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return syscall(SYS_capset, &hdr, none) < 0 ? -errno : 0;
}

static void *caps_confined_thread(void *arg)
{
	struct caps_job *j = arg;

	j->rc = caps_confine_self(j);
	if (!j->rc)
		j->rc = j->fn(j->arg);
	return NULL;
}

int caps_run_confined(int as_nobody, int (*fn)(void *), void *arg, int *nobody)
{
	struct caps_job j = { .fn = fn, .arg = arg, .as_nobody = as_nobody, .rc = -EIO };
	pthread_t t;
	int err = pthread_create(&t, NULL, caps_confined_thread, &j);

	if (err)
		return -err;
	pthread_join(t, NULL);
	if (nobody)
		*nobody = j.nobody;
	return j.rc;
}
