/* test_caps — caps_drop_except leaves exactly the kept capabilities in every set, and
 * caps_check then reports exactly what is missing; caps_run_confined runs a function on
 * a thread that, like every thread it starts, holds nothing (nobody's uid when it could
 * switch), the caller keeping its own. Each case runs in a forked child: the drop cannot
 * be undone. Needs root with the runtime capabilities and CAP_SETPCAP. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/ops/caps.h"

#define BIT(c) (UINT64_C(1) << (c))

struct sets { uint64_t inh, prm, eff, bnd, amb; };

static void read_sets_of(const char *status, struct sets *s)
{
	char line[256];
	FILE *f = fopen(status, "re");

	memset(s, 0xff, sizeof(*s));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapInh: %" SCNx64, &s->inh);
		sscanf(line, "CapPrm: %" SCNx64, &s->prm);
		sscanf(line, "CapEff: %" SCNx64, &s->eff);
		sscanf(line, "CapBnd: %" SCNx64, &s->bnd);
		sscanf(line, "CapAmb: %" SCNx64, &s->amb);
	}
	fclose(f);
}

static void read_sets(struct sets *s)
{
	read_sets_of("/proc/self/status", s);
}

/* What a child reports back through the pipe. */
struct result {
	int drop_rc, drop2_rc, check_rc;
	struct sets sets;
	struct caps_report rep;
	char msg[512];
	char small[32];
};

/* Runs the drop(s) in a child and returns what it saw. */
static void in_child(const int *keep, size_t n, const int *keep2, size_t n2, struct result *res)
{
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct result r = { 0 };
		struct caps_report dummy;

		close(pfd[0]);
		r.drop_rc = caps_drop_except(keep, n);
		r.drop2_rc = keep2 ? caps_drop_except(keep2, n2) : 0;
		read_sets(&r.sets);
		r.check_rc = caps_check(&r.rep, r.msg, sizeof(r.msg));
		caps_check(&dummy, r.small, sizeof(r.small));
		_exit(write(pfd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], res, sizeof(*res)), sizeof(*res));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int setup(void **state)
{
	struct sets s;

	read_sets(&s);
	if (getuid() != 0 || !(s.eff & BIT(CAP_SETPCAP)) || !(s.eff & BIT(CAP_SYS_ADMIN)) ||
	    !(s.eff & BIT(CAP_SYS_PTRACE)) || !(s.eff & BIT(CAP_NET_ADMIN))) {
		print_message("needs root with CAP_SETPCAP and the runtime capabilities\n");
		return -1;
	}
	return 0;
}

static void test_keep_runtime(void **state)
{
	static const int keep[] = CAPS_KEEP_RUNTIME;
	const uint64_t want = BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_PTRACE) | BIT(CAP_NET_ADMIN);
	struct result r;

	in_child(keep, 3, NULL, 0, &r);
	assert_int_equal(r.drop_rc, 0);
	assert_int_equal(r.sets.eff, want);
	assert_int_equal(r.sets.prm, want);
	assert_int_equal(r.sets.bnd, want);
	assert_int_equal(r.sets.inh, 0);
	assert_int_equal(r.sets.amb, 0);
	assert_int_equal(r.check_rc, 0);
	assert_int_equal(r.rep.sock_diag, 1);
	assert_int_equal(r.rep.sys_admin, 1);
	assert_int_equal(r.rep.sys_ptrace, 1);
	assert_int_equal(r.rep.net_admin, 1);
	assert_string_equal(r.msg, "");
}

static void test_keep_nothing(void **state)
{
	struct result r;

	in_child(NULL, 0, NULL, 0, &r);
	assert_int_equal(r.drop_rc, 0);
	assert_int_equal(r.sets.eff, 0);
	assert_int_equal(r.sets.prm, 0);
	assert_int_equal(r.sets.bnd, 0);
	assert_int_equal(r.sets.inh, 0);
	assert_int_equal(r.check_rc, 0);
	assert_int_equal(r.rep.sock_diag, 1);   /* sock_diag needs no capability */
	assert_int_equal(r.rep.sys_admin + r.rep.sys_ptrace + r.rep.net_admin, 0);
	assert_string_equal(r.msg,
		"no CAP_SYS_ADMIN: only the host namespace is collected\n"
		"no CAP_SYS_PTRACE: namespaces found only through other users' processes "
		"(/proc/PID/ns/net) are skipped\n"
		"no CAP_NET_ADMIN: socket marks (INET_DIAG_MARK) are not reported");
	/* a short buffer gets a terminated prefix */
	assert_string_equal(r.small, "no CAP_SYS_ADMIN: only the host");  /* 31 + NUL */
}

/* A capability dropped once cannot be asked back; the bounding set is already small, so
 * the second drop succeeds without CAP_SETPCAP. */
static void test_no_regain(void **state)
{
	static const int one[] = { CAP_SYS_PTRACE };
	static const int two[] = { CAP_SYS_PTRACE, CAP_NET_ADMIN };
	struct result r;

	in_child(one, 1, two, 2, &r);
	assert_int_equal(r.drop_rc, 0);
	assert_int_equal(r.drop2_rc, 0);
	assert_int_equal(r.sets.eff, BIT(CAP_SYS_PTRACE));
	assert_int_equal(r.sets.prm, BIT(CAP_SYS_PTRACE));
	assert_int_equal(r.sets.bnd, BIT(CAP_SYS_PTRACE));
	assert_int_equal(r.rep.sys_ptrace, 1);
	assert_int_equal(r.rep.net_admin, 0);
	assert_string_equal(r.msg,
		"no CAP_SYS_ADMIN: only the host namespace is collected\n"
		"no CAP_NET_ADMIN: socket marks (INET_DIAG_MARK) are not reported");
}

/* Without CAP_SETPCAP the bounding set stays, the other sets still shrink: -EPERM. */
static void test_no_setpcap(void **state)
{
	static const int first[] = { CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW };
	static const int then[] = { CAP_NET_ADMIN };
	struct result r;

	/* the first drop empties everything but three; SETPCAP goes with it */
	in_child(first, 3, then, 1, &r);
	assert_int_equal(r.drop_rc, 0);
	assert_int_equal(r.drop2_rc, -EPERM);
	assert_int_equal(r.sets.eff, BIT(CAP_NET_ADMIN));
	assert_int_equal(r.sets.prm, BIT(CAP_NET_ADMIN));
	assert_int_equal(r.sets.bnd, BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW));
}

/* ---- caps_run_confined ------------------------------------------------------------ */

struct confined {
	struct sets in_fn, in_child_thread;
	unsigned uid_fn, uid_child;
	int nnp, nobody, rc, caller_uid;
	struct sets caller;
};

static unsigned thread_uid(void)
{
	char line[256];
	unsigned uid = 12345;
	FILE *f = fopen("/proc/thread-self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "Uid: %u", &uid);
	if (f)
		fclose(f);
	return uid;
}

static void *child_thread(void *arg)
{
	struct confined *c = arg;

	read_sets_of("/proc/thread-self/status", &c->in_child_thread);
	c->uid_child = thread_uid();
	return NULL;
}

static int confined_fn(void *arg)
{
	struct confined *c = arg;
	pthread_t t;

	read_sets_of("/proc/thread-self/status", &c->in_fn);
	c->uid_fn = thread_uid();
	c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	pthread_create(&t, NULL, child_thread, c);
	pthread_join(t, NULL);
	return 42;
}

/* keep (n) first, then caps_run_confined(as_nobody) in a child; what each thread saw */
static void confined_in_child(const int *keep, size_t n, int as_nobody, struct confined *res)
{
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct confined c = { 0 };

		close(pfd[0]);
		if (keep)
			caps_drop_except(keep, n);
		c.rc = caps_run_confined(as_nobody, confined_fn, &c, &c.nobody);
		read_sets_of("/proc/thread-self/status", &c.caller);
		c.caller_uid = (int)thread_uid();
		_exit(write(pfd[1], &c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], res, sizeof(*res)), sizeof(*res));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void expect_bare(const struct sets *s, uint64_t bnd)
{
	assert_int_equal(s->eff, 0);
	assert_int_equal(s->prm, 0);
	assert_int_equal(s->inh, 0);
	assert_int_equal(s->amb, 0);
	assert_int_equal(s->bnd, bnd);
}

static void test_confined_as_nobody(void **state)
{
	static const int keep[] = { CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN, CAP_SETUID,
				    CAP_SETGID, CAP_SETPCAP };
	struct confined c;

	/* as the daemon does for its HTTP thread: SETUID, SETGID and SETPCAP still held */
	confined_in_child(keep, 6, 1, &c);
	assert_int_equal(c.rc, 42);
	assert_int_equal(c.nobody, 1);
	assert_int_equal(c.nnp, 1);
	expect_bare(&c.in_fn, 0);
	expect_bare(&c.in_child_thread, 0);
	assert_int_equal(c.uid_fn, 65534);
	assert_int_equal(c.uid_child, 65534);
	/* the caller is as it was */
	assert_int_equal(c.caller_uid, 0);
	assert_int_equal(c.caller.eff, BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_PTRACE) | BIT(CAP_NET_ADMIN) |
				       BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_SETPCAP));
}

static void test_confined_without_setuid(void **state)
{
	static const int keep[] = CAPS_KEEP_RUNTIME;
	const uint64_t rt = BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_PTRACE) | BIT(CAP_NET_ADMIN);
	struct confined c;

	/* as for the sinks, or without CAP_SETUID: the uid stays, the sets are emptied, the
	 * bounding set (no SETPCAP) stays what it was */
	confined_in_child(keep, 3, 1, &c);
	assert_int_equal(c.rc, 42);
	assert_int_equal(c.nobody, 0);
	expect_bare(&c.in_fn, rt);
	expect_bare(&c.in_child_thread, rt);
	assert_int_equal(c.uid_child, 0);
	assert_int_equal(c.caller.eff, rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_runtime),
		cmocka_unit_test(test_keep_nothing),
		cmocka_unit_test(test_no_regain),
		cmocka_unit_test(test_no_setpcap),
		cmocka_unit_test(test_confined_as_nobody),
		cmocka_unit_test(test_confined_without_setuid),
	};

	if (setup(NULL))
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
