/* load — the BPF side: checks the kernel can run a TCP iterator (BTF, iter/tcp), loads
 * the embedded object (bpftool's skeleton of bpf_iter.bpf.c, so no clang or headers at
 * run time), attaches it, and when anything fails names the cause and the remedy and
 * returns XTCPD_ERR_UNAVAILABLE (the core then uses the section's fallback, or exits 2).
 * Loading needs CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON: the daemon keeps
 * CAP_SYS_ADMIN (core/caps.h), which is enough. */
#include "bisrc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_iter.skel.h"

#define BPFI_KERNEL_BTF "/sys/kernel/btf/vmlinux" /* where libbpf looks first */
#define BPFI_REMEDY_FALLBACK "or set 'fallback = netlink' in this section to collect through sock_diag"

struct bpfi_skel_state {
	struct bpfi_prog *skel;
	struct bpf_link *link;
};

/* libbpf's messages: the last warning is kept for the error we log (the verifier's
 * complaint, a missing BTF type); everything goes to the debug log. libbpf has one
 * process-wide print hook, so loads are serialized. */
static pthread_mutex_t bpfi_load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bpfi *bpfi_loading;
static char bpfi_last[256];

/* The verifier's reason: the last line of its log before the "processed N insns" summary. */
static void bpfi_keep_reason(char *log)
{
	char *end = strstr(log, "\n-- END PROG LOAD LOG --"), *p;

	if (!end)
		return;
	*end = '\0';
	while ((p = strrchr(log, '\n'))) {
		if (p[1] && strncmp(p + 1, "processed ", 10) && strncmp(p + 1, "verification time", 17)) {
			snprintf(bpfi_last, sizeof(bpfi_last), "verifier: %s", p + 1);
			break;
		}
		*p = '\0';
	}
	*end = '\n';
}

static int bpfi_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char line[65536]; /* under bpfi_load_lock */
	size_t n;

	if (!bpfi_loading || level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (strstr(line, "-- END PROG LOAD LOG --"))
		bpfi_keep_reason(line);
	else if (level == LIBBPF_WARN && n && !bpfi_last[0])
		snprintf(bpfi_last, sizeof(bpfi_last), "%s", line);
	bpfi_loading->host->log(bpfi_loading->ctx, XTCPD_LOG_DEBUG, "%s", line);
	return 0;
}

unsigned bpfi_hz(void)
{
	struct timespec r;

	/* A coarse clock ticks once a jiffy: its resolution is TICK_NSEC = 10^9 / HZ. */
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &r) < 0 || r.tv_sec || r.tv_nsec <= 0)
		return 0;
	return (unsigned)((1000000000L + r.tv_nsec / 2) / r.tv_nsec);
}

/* Effective capabilities: 1 when BPF tracing programs may be loaded. */
static int bpfi_capable(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t eff;

	if (syscall(SYS_capget, &h, d) < 0)
		return 1; /* cannot tell: do not blame capabilities */
	eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	if (eff >> CAP_SYS_ADMIN & 1)
		return 1;
#ifdef CAP_BPF
	return (eff >> CAP_BPF & 1) && (eff >> CAP_PERFMON & 1);
#else
	return 0;
#endif
}

static int bpfi_unavailable(struct bpfi *s, const char *cause, const char *remedy)
{
	s->host->log(s->ctx, XTCPD_LOG_ERR, "BPF TCP iterator unavailable: %s; remedy: %s, "
		     BPFI_REMEDY_FALLBACK, cause, remedy);
	return XTCPD_ERR_UNAVAILABLE;
}

/* Why a bpf() call failed with err, as cause and remedy. */
static int bpfi_refused(struct bpfi *s, const char *what, int err)
{
	char cause[512];

	if (!strncmp(bpfi_last, "verifier: ", 10)) {
		snprintf(cause, sizeof(cause), "%s failed: this kernel's BPF verifier refused the program (%s)",
			 what, bpfi_last + 10);
		return bpfi_unavailable(s, cause, "run a kernel this build supports (Linux >= 5.15 with BTF) and report it");
	}
	if (err == -ENOSYS)
		return bpfi_unavailable(s, "the kernel has no bpf() system call (built without CONFIG_BPF_SYSCALL)",
					"run a kernel with CONFIG_BPF_SYSCALL=y");
	if ((err == -EPERM || err == -EACCES) && !bpfi_capable())
		return bpfi_unavailable(s, "no CAP_SYS_ADMIN (nor CAP_BPF with CAP_PERFMON) to load BPF programs",
					"start xtcpd as root, or grant CAP_SYS_ADMIN (systemd: AmbientCapabilities= and CapabilityBoundingSet=)");
	if (err == -EPERM || err == -EACCES) {
		snprintf(cause, sizeof(cause), "%s refused (%s) although the capabilities are held: a seccomp "
			 "filter or an LSM (lockdown, SELinux, AppArmor, BPF LSM) blocks bpf()", what,
			 strerror(-err));
		return bpfi_unavailable(s, cause, "allow the bpf() system call for xtcpd (systemd: SystemCallFilter=, "
					"the container runtime's seccomp profile, the LSM policy)");
	}
	snprintf(cause, sizeof(cause), "%s failed: %s%s%s", what, strerror(-err),
		 bpfi_last[0] ? "; " : "", bpfi_last);
	return bpfi_unavailable(s, cause, "run Linux >= 5.15 with BTF (CONFIG_DEBUG_INFO_BTF=y)");
}

/* The kernel has BTF (checked before loading: cheap). */
static int bpfi_check_btf(struct bpfi *s)
{
	char cause[512];

	if (access(s->btf_path, R_OK) < 0) {
		snprintf(cause, sizeof(cause), "no kernel BTF: %s: %s (the kernel was built without "
			 "CONFIG_DEBUG_INFO_BTF)", s->btf_path, strerror(errno));
		return bpfi_unavailable(s, cause, "run a kernel with CONFIG_DEBUG_INFO_BTF=y (Debian's have it)");
	}
	return 0;
}

/* After a failed load: does the BTF describe a kernel with a TCP iterator at all? (Parsing
 * it costs as much as the load's own parse, so only on this path.) */
static int bpfi_check_iter(struct bpfi *s)
{
	struct btf *btf;
	char cause[512];
	int found;

	btf = btf__parse(s->btf_path, NULL);
	if (!btf) {
		snprintf(cause, sizeof(cause), "cannot read the kernel BTF %s: %s", s->btf_path, strerror(errno));
		return bpfi_unavailable(s, cause, "check that the file is the kernel's BTF");
	}
	found = btf__find_by_name_kind(btf, "bpf_iter_tcp", BTF_KIND_FUNC) >= 0;
	btf__free(btf);
	if (!found)
		return bpfi_unavailable(s, "kernel too old: its BTF has no TCP BPF iterator (bpf_iter_tcp, Linux >= 5.9)",
					"run Linux >= 5.15");
	return 0;
}

static int bpfi_load_locked(struct bpfi *s, struct bpfi_skel_state *st)
{
	/* The kernel's own BTF: no custom path, so libbpf parses it once (for CO-RE and for
	 * the iterator's attach point) instead of twice (~25 ms each here). */
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path =
		    strcmp(s->btf_path, BPFI_KERNEL_BTF) ? s->btf_path : NULL);
	int err;

	st->skel = bpfi_prog__open_opts(&oo);
	if (!st->skel)
		return bpfi_check_iter(s) ?: bpfi_refused(s, "opening the BPF object", -errno);
	st->skel->rodata->cfg_states = s->states;
	st->skel->rodata->cfg_changed_only = (uint32_t)s->changed_only;
	st->skel->rodata->cfg_refresh = s->refresh;
	st->skel->rodata->cfg_want = s->decode;
#ifdef BPFI_BENCH
	/* the benchmark's floor: the iterator's walk without the program (bipoll only) */
	st->skel->rodata->cfg_walk_only = getenv("BIPOLL_WALK_ONLY") != NULL;
#endif
	bpf_map__set_max_entries(st->skel->maps.seen, s->changed_only ? s->changed_max : 1);
	err = bpfi_prog__load(st->skel);
	if (err)
		return bpfi_check_iter(s) ?: bpfi_refused(s, "loading the BPF program", err);
	st->link = bpf_program__attach_iter(st->skel->progs.xtcpd_tcp, NULL);
	if (!st->link)
		return bpfi_refused(s, "attaching the TCP iterator", -errno);
	s->link_fd = bpf_link__fd(st->link);
	return 0;
}

int bpfi_load(struct bpfi *s)
{
	struct bpfi_skel_state *st;
	int err;

	s->hz = bpfi_hz();
	if (!s->hz)
		return bpfi_unavailable(s, "cannot tell the kernel's HZ (clock_getres CLOCK_MONOTONIC_COARSE)",
					"report this kernel");
	if ((err = bpfi_check_btf(s)))
		return err;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	s->bpf = st;
	pthread_mutex_lock(&bpfi_load_lock);
	bpfi_loading = s;
	bpfi_last[0] = '\0';
	libbpf_set_print(bpfi_print);
	err = bpfi_load_locked(s, st);
	bpfi_loading = NULL;
	pthread_mutex_unlock(&bpfi_load_lock);
	return err;
}

void bpfi_unload(struct bpfi *s)
{
	struct bpfi_skel_state *st = s->bpf;

	if (!st)
		return;
	bpf_link__destroy(st->link);
	bpfi_prog__destroy(st->skel);
	free(st);
	s->bpf = NULL;
	s->link_fd = -1;
}
