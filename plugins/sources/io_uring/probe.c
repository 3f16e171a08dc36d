/* probe — can this process use io_uring as the source needs it (a ring; recvmsg, send,
 * poll and cancel)? If not, one line with the cause and the remedy, and
 * XTCPD_ERR_UNAVAILABLE: the core then exits 2 or switches to the section's fallback. */
#include <config.h>

#include "nusrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int nlu_unavailable(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
			   const char *cause, const char *remedy)
{
	host->log(ctx, XTCPD_LOG_ERR, "io_uring unavailable: %s; remedy: %s, or set "
		  "'fallback = netlink' in this section to collect through sock_diag syscalls",
		  cause, remedy);
	return XTCPD_ERR_UNAVAILABLE;
}

/* kernel.io_uring_disabled (Linux >= 6.6), -1 when there is no such sysctl. */
static int nlu_disabled_sysctl(void)
{
	char b[16] = "";
	int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, b, sizeof(b) - 1);
	close(fd);
	return r > 0 ? atoi(b) : -1;
}

/* Linux 6.0: the oldest kernel the source is built and tested against (io_uring's
 * networking changed much before it). */
static int nlu_kernel_ok(char *rel, size_t n)
{
	struct utsname u;
	int maj = 0;

	if (uname(&u) < 0)
		return 1;
	snprintf(rel, n, "%s", u.release);
	if (sscanf(u.release, "%d.", &maj) != 1)
		return 1;
	return maj >= 6;
}

int nlu_probe(const struct xtcpd_host *host, struct xtcpd_ctx *ctx)
{
	struct io_uring ring;
	struct io_uring_probe *p;
	char rel[128] = "", cause[300];
	int err = io_uring_queue_init(2, &ring, 0), dis;

	if (err == -ENOSYS)
		return nlu_unavailable(host, ctx, "the kernel has no io_uring (io_uring_setup: Function not implemented: "
				       "built without CONFIG_IO_URING, or older than 5.1)",
				       "run Linux >= 6.0 built with CONFIG_IO_URING=y (Debian's are)");
	if (err == -EPERM && (dis = nlu_disabled_sysctl()) > 0) {
		snprintf(cause, sizeof(cause), "io_uring_setup refused (Operation not permitted): "
			 "sysctl kernel.io_uring_disabled = %d", dis);
		return nlu_unavailable(host, ctx, cause, "sysctl -w kernel.io_uring_disabled=0 "
				       "(or 1 with xtcpd's group in kernel.io_uring_group)");
	}
	if (err == -EPERM)
		return nlu_unavailable(host, ctx, "io_uring_setup refused (Operation not permitted): a seccomp "
				       "profile (such as Docker's default) or an LSM blocks it",
				       "allow io_uring_setup, io_uring_enter and io_uring_register for xtcpd "
				       "(the container runtime's seccomp profile, systemd SystemCallFilter=)");
	if (err == -ENOMEM)
		return nlu_unavailable(host, ctx, "io_uring_setup: Cannot allocate memory (kernels before 5.12 "
				       "charge the rings to RLIMIT_MEMLOCK)",
				       "raise RLIMIT_MEMLOCK (ulimit -l, systemd LimitMEMLOCK=) or run Linux >= 5.12");
	if (err < 0) {
		snprintf(cause, sizeof(cause), "io_uring_setup: %s", strerror(-err));
		return nlu_unavailable(host, ctx, cause, "run Linux >= 6.0 with io_uring enabled");
	}
	p = io_uring_get_probe_ring(&ring);
	err = !p || !io_uring_opcode_supported(p, IORING_OP_RECVMSG) ||
	      !io_uring_opcode_supported(p, IORING_OP_SEND) ||
	      !io_uring_opcode_supported(p, IORING_OP_POLL_ADD) ||
	      !io_uring_opcode_supported(p, IORING_OP_ASYNC_CANCEL);
	if (p)
		io_uring_free_probe(p);
	io_uring_queue_exit(&ring);
	if (err || !nlu_kernel_ok(rel, sizeof(rel))) {
		snprintf(cause, sizeof(cause), "kernel %s too old: the source needs io_uring's "
			 "recvmsg, send, poll and cancel as in Linux >= 6.0", rel[0] ? rel : "?");
		return nlu_unavailable(host, ctx, cause, "run Linux >= 6.0");
	}
	return 0;
}
