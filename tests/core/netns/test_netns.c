/* test_netns — the namespace manager against real namespaces made here (root only;
 * skipped otherwise): host namespace always first, bind mounts found and named, an
 * unmounted placeholder ignored, two mounts of one namespace deduplicated by inode,
 * a namespace dropped (del called, fd closed) once its last mount is gone, and
 * netns_socket() really opening its socket inside the namespace (SIOCGSKNS), and
 * netns_run() calling back inside the namespace on one reused helper thread, with its
 * failures (entry refused, no way home) injected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <cmocka.h>

#include "tests/lib/skip.h"

#include "core/netns/netns.h"

static char dir[40];
static int adds, dels;
static char last_del[64];

static int on_add(void *arg, struct xtcpd_netns *ns)
{
	(void)arg, (void)ns;
	adds++;
	return 0;
}

static void on_del(void *arg, struct xtcpd_netns *ns)
{
	(void)arg;
	dels++;
	snprintf(last_del, sizeof(last_del), "%s", ns->name);
}

/* A new namespace bind-mounted at dir/name (from a thread that unshares and exits). */
static void *mk_thread(void *arg)
{
	const char *path = arg;
	intptr_t err = 0;

	if (unshare(CLONE_NEWNET) < 0 || mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		err = -errno;
	return (void *)err;
}

static uint64_t make_ns(const char *name)
{
	char path[128];
	pthread_t t;
	void *ret;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pthread_create(&t, NULL, mk_thread, path), 0);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, 0);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/xt-netns-%d", (int)getpid());
	return mkdir(dir, 0700);
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "for f in %s/*; do umount \"$f\" 2>/dev/null; done; rm -rf %s", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_host_only(void **state)
{
	struct netns_conf c = { .host_only = 1, .reconcile_ms = 1000 };
	struct netns_ops o = { .add = on_add, .del = on_del };
	struct netns_mgr *m;
	struct xtcpd_netns *const *list;
	struct stat st;
	(void)state;

	adds = dels = 0;
	assert_int_equal(netns_mgr_create(&c, &o, &m), 0);
	assert_int_equal(netns_mgr_list(m, &list), 1);
	assert_string_equal(list[0]->name, "host");
	assert_int_equal(list[0]->is_host, 1);
	assert_int_equal(list[0]->nsid, 0);
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(list[0]->inode, (uint64_t)st.st_ino);
	assert_int_equal(adds, 1);
	netns_mgr_destroy(m);
	assert_int_equal(dels, 1);
}

static void test_dirs(void **state)
{
	struct netns_conf c = { .dirs = dir, .reconcile_ms = 3600000 };
	struct netns_ops o = { .add = on_add, .del = on_del };
	struct netns_mgr *m;
	struct xtcpd_netns *const *list;
	char a[128], b[128], p[128];
	uint64_t ino;
	size_t n;
	int fd;
	(void)state;

	if (geteuid() != 0)
		XT_SKIP("needs root (namespaces and bind mounts)");
	adds = dels = 0;
	ino = make_ns("alpha");
	/* The same namespace mounted a second time: one entry, the first name. */
	snprintf(a, sizeof(a), "%s/alpha", dir);
	snprintf(b, sizeof(b), "%s/beta", dir);
	fd = open(b, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	assert_int_equal(mount(a, b, NULL, MS_BIND, NULL), 0);
	/* A placeholder file nothing is mounted on yet. */
	snprintf(p, sizeof(p), "%s/gamma", dir);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);

	assert_int_equal(netns_mgr_create(&c, &o, &m), 0);
	n = netns_mgr_list(m, &list);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "host");
	assert_string_equal(list[1]->name, "alpha");
	assert_int_equal(list[1]->inode, ino);
	assert_int_equal(list[1]->is_host, 0);

	/* netns_socket: the socket lives in the namespace, not in ours. */
	{
		int s = netns_socket(list[1], AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int nsfd;
		struct stat st;

		assert_true(s >= 0);
		nsfd = ioctl(s, SIOCGSKNS);
		assert_true(nsfd >= 0);
		assert_int_equal(fstat(nsfd, &st), 0);
		assert_int_equal((uint64_t)st.st_ino, ino);
		close(nsfd);
		close(s);
	}

	/* One mount gone: still there. Both gone: dropped at the next tick (inotify sees
	 * nothing for umount, so force the rescan as the reconcile interval would). */
	assert_int_equal(umount(b), 0);
	assert_int_equal(netns_mgr_reconcile(m), 0);
	assert_int_equal(netns_mgr_count(m), 2);
	assert_int_equal(dels, 0);
	assert_int_equal(umount(a), 0);
	assert_int_equal(netns_mgr_reconcile(m), 0);
	assert_int_equal(netns_mgr_count(m), 1);
	assert_int_equal(dels, 1);
	assert_string_equal(last_del, "alpha");

	/* A new mount appears: inotify makes the next tick rescan at once. */
	ino = make_ns("delta");
	assert_int_equal(netns_mgr_tick(m, 0), 0);
	n = netns_mgr_list(m, &list);
	assert_int_equal(n, 2);
	assert_string_equal(list[1]->name, "delta");
	assert_int_equal(list[1]->inode, ino);
	netns_mgr_destroy(m);
	assert_int_equal(dels, 3);
	assert_int_equal(adds, 3);
}

static void test_proc_scan_names(void **state)
{
	struct netns_conf c = { .dirs = "", .proc_scan = 1, .reconcile_ms = 3600000 };
	struct netns_ops o = { .add = on_add, .del = on_del };
	struct netns_mgr *m;
	struct xtcpd_netns *const *list;
	size_t n;
	int p[2], q[2], found = 0;
	pid_t pid;
	char want[32];
	(void)state;

	if (geteuid() != 0)
		XT_SKIP("needs root (namespaces and bind mounts)");
	/* A child in a namespace of its own, held only by the process. */
	/* p: child -> parent "ready"; q: parent closes it to let the child exit. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	pid = fork();
	if (pid == 0) {
		char ch;

		close(p[0]);
		close(q[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		while (read(q[0], &ch, 1) > 0)
			;
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	{
		char ch;

		assert_int_equal(read(p[0], &ch, 1), 1);
	}
	snprintf(want, sizeof(want), "pid:%d", (int)pid);
	assert_int_equal(netns_mgr_create(&c, &o, &m), 0);
	n = netns_mgr_list(m, &list);
	for (size_t i = 0; i < n; i++)
		found += strcmp(list[i]->name, want) == 0;
	assert_int_equal(found, 1);
	assert_string_equal(list[0]->name, "host");
	/* The process exits: the namespace goes at the next rescan. */
	close(q[1]);
	close(p[0]);
	waitpid(pid, NULL, 0);
	dels = 0;
	assert_int_equal(netns_mgr_reconcile(m), 0);
	assert_int_equal(netns_mgr_count(m), n - 1);
	assert_int_equal(dels, 1);
	assert_string_equal(last_del, want);
	netns_mgr_destroy(m);
}

/* ---- netns_run ------------------------------------------------------------------------ */

static uint64_t self_ns_inode(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

static int threads_now(void)
{
	char cmd[64], buf[32] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/task | wc -l", (int)getpid());
	f = popen(cmd, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	if (f)
		pclose(f);
	return atoi(buf);
}

static int where_cb(void *arg)
{
	*(uint64_t *)arg = self_ns_inode();
	return 42;
}

static int tid_cb(void *arg)
{
	*(pid_t *)arg = gettid();
	return 0;
}

static int refuse_setns(int fd, int type)
{
	(void)fd, (void)type;
	errno = EPERM;
	return -1;
}

/* Enters the target, then cannot come back (the second setns of the helper). */
static int n_setns;
static int strand_setns(int fd, int type)
{
	if (++n_setns == 2) {
		errno = EINVAL;
		return -1;
	}
	return setns(fd, type);
}

static void test_run(void **state)
{
	struct xtcpd_netns host = { .name = "host", .is_host = 1, .fd = -1 };
	struct xtcpd_netns ns = { .name = "rho" };
	uint64_t ino, home = self_ns_inode(), seen = 0;
	char path[128];
	pid_t tid = 0;
	int t0;

	(void)state;
	if (geteuid() != 0)
		XT_SKIP("needs root (namespaces and setns)");
	ino = make_ns("rho");
	snprintf(path, sizeof(path), "%s/rho", dir);
	ns.fd = open(path, O_RDONLY | O_CLOEXEC);
	ns.inode = ino;
	assert_true(ns.fd >= 0);
	assert_int_not_equal(ino, home);

	/* The host namespace: in the caller's own thread, no helper. */
	t0 = threads_now();
	assert_int_equal(netns_run(&host, tid_cb, &tid), 0);
	assert_int_equal(tid, gettid());
	assert_int_equal(threads_now(), t0);

	/* Inside the namespace, on one helper that stays (no thread per call); we are home. */
	assert_int_equal(netns_run(&ns, where_cb, &seen), 42);
	assert_int_equal(seen, ino);
	assert_int_equal(self_ns_inode(), home);
	assert_int_equal(threads_now(), t0 + 1);
	seen = 0;
	assert_int_equal(netns_run(&ns, where_cb, &seen), 42);
	assert_int_equal(seen, ino);
	assert_int_equal(threads_now(), t0 + 1);
	assert_int_equal(netns_run(&ns, tid_cb, &tid), 0);
	assert_int_not_equal(tid, gettid());

	/* Refused entry: -errno, fn not called, the helper stays. */
	netns_run_inject_setns(refuse_setns);
	seen = 7;
	assert_int_equal(netns_run(&ns, where_cb, &seen), -EPERM);
	assert_int_equal(seen, 7);
	assert_int_equal(threads_now(), t0 + 1);

	/* A helper that cannot get home gives fn's result and exits; the next call starts a
	 * fresh one, which really is home. */
	n_setns = 0;
	netns_run_inject_setns(strand_setns);
	assert_int_equal(netns_run(&ns, where_cb, &seen), 42);
	assert_int_equal(seen, ino);
	netns_run_inject_setns(NULL);
	for (int i = 0; i < 100 && threads_now() != t0; i++)
		usleep(10000);
	assert_int_equal(threads_now(), t0);
	assert_int_equal(netns_run(&ns, where_cb, &seen), 42);
	assert_int_equal(seen, ino);
	assert_int_equal(threads_now(), t0 + 1);
	{
		struct xtcpd_netns back = { .name = "home", .fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) };

		assert_int_equal(netns_run(&back, where_cb, &seen), 42);
		assert_int_equal(seen, home);
		close(back.fd);
	}
	close(ns.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_only),
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_proc_scan_names),
		cmocka_unit_test(test_run),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
