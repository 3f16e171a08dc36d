/* nouring — run a command under a seccomp filter that fails io_uring_setup with the
 * given errno (EPERM: what Docker's default profile or systemd's SystemCallFilter= do;
 * ENOSYS: a kernel without io_uring; ENOMEM: RLIMIT_MEMLOCK on kernels before 5.12):
 * `nouring EPERM|ENOSYS|ENOMEM PROGRAM ARGS...`. For the io_uring unavailability test. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

int main(int argc, char **argv)
{
	int err = argc > 1 && !strcmp(argv[1], "ENOSYS") ? ENOSYS :
		  argc > 1 && !strcmp(argv[1], "ENOMEM") ? ENOMEM : EPERM;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 3) {
		fprintf(stderr, "usage: nouring EPERM|ENOSYS|ENOMEM PROGRAM ARGS...\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "nouring: seccomp: %s\n", strerror(errno));
		return 2;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "nouring: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
