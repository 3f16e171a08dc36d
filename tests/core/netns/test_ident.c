/* test_ident — the container and pod read from cgroup paths: every layout of Docker,
 * containerd (plain and Kubernetes, cgroupfs and systemd drivers), CRI-O and podman on
 * cgroup v1 (one line per hierarchy) and v2, the conmon scopes and look-alikes refused,
 * the pod folder of /var/log/pods found by UID, the "<pod ns>/<pod>" name fallback, and
 * a private cgroup namespace ("0::/") resolved through /sys/fs/cgroup — all in a
 * throwaway root. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns/ident.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516"
#define UID_ "1b2c3d4e_5f60_4718_9a0b_c1d2e3f40516"

static const struct {
	const char *text, *id, *runtime, *pod_uid;
} layouts[] = {
	/* Docker, cgroup v1 cgroupfs: every hierarchy names it */
	{ "12:pids:/docker/" ID1 "\n11:memory:/docker/" ID1 "\n1:name=systemd:/docker/" ID1 "\n",
	  ID1, "docker", "" },
	/* Docker, v2, systemd driver */
	{ "0::/system.slice/docker-" ID1 ".scope\n", ID1, "docker", "" },
	/* Docker under a v1 host with the systemd line first and a plain one after */
	{ "13:misc:/\n1:name=systemd:/system.slice/docker-" ID2 ".scope\n0::/\n", ID2, "docker", "" },
	/* containerd, its own namespaces (ctr, nerdctl), cgroupfs */
	{ "0::/default/" ID1 "\n", ID1, "containerd", "" },
	/* Kubernetes + containerd, cgroupfs driver, v1 */
	{ "10:cpu,cpuacct:/kubepods/burstable/pod" UID "/" ID2 "\n", ID2, "containerd", UID },
	/* Kubernetes + containerd, systemd driver, v2 */
	{ "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" ID1 ".scope\n", ID1, "containerd", UID },
	/* guaranteed QoS: no QoS folder */
	{ "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID2 ".scope\n",
	  ID2, "containerd", UID },
	/* CRI-O, systemd driver (v2) and cgroupfs (v1) */
	{ "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/crio-" ID1 ".scope\n", ID1, "cri-o", UID },
	{ "4:memory:/kubepods/besteffort/pod" UID "/crio-" ID2 "\n", ID2, "cri-o", UID },
	/* podman: systemd (rootful and rootless) and cgroupfs */
	{ "0::/machine.slice/libpod-" ID1 ".scope\n", ID1, "podman", "" },
	{ "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID2 ".scope/container\n",
	  ID2, "podman", "" },
	{ "3:pids:/libpod_parent/libpod-" ID1 "\n", ID1, "podman", "" },
	/* Docker in Docker: the innermost container */
	{ "0::/docker/" ID1 "/docker/" ID2 "\n", ID2, "docker", "" },
};

static const char *const not_containers[] = {
	"0::/user.slice/user-1000.slice/session-3.scope\n",
	"0::/system.slice/crio-conmon-" ID1 ".scope\n",      /* conmon, not the container */
	"0::/machine.slice/libpod-conmon-" ID1 ".scope\n",
	"0::/docker/" "0123456789abcdef\n",                   /* too short */
	"0::/docker/" ID1 "0\n",                              /* too long */
	"0::/system.slice/docker-" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope\n",
	"0::/system.slice/docker-" ID1 ".slice\n",
	"0::/\n",
	"garbage without colons\n",
	"",
};

static void test_layouts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		struct netns_ident id;

		memset(&id, 0, sizeof(id));
		assert_int_equal(ident_parse_cgroup(layouts[i].text, &id), 0);
		assert_string_equal(id.s_id, layouts[i].id);
		assert_string_equal(id.s_runtime, layouts[i].runtime);
		assert_string_equal(id.s_pod_uid, layouts[i].pod_uid);
	}
	for (size_t i = 0; i < sizeof(not_containers) / sizeof(not_containers[0]); i++) {
		struct netns_ident id;

		memset(&id, 0, sizeof(id));
		assert_int_equal(ident_parse_cgroup(not_containers[i], &id), -ENOENT);
	}
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/xt-ident-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_pod(void **state)
{
	struct netns_ident id;

	(void)state;
	put("proc/4711/cgroup", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
	    UID_ ".slice/cri-containerd-" ID1 ".scope\n");
	put("var/log/pods/kube-system_coredns-5d78c9869d-x2x7q_" UID "/coredns/0.log", "");
	put("var/log/pods/kube-system_other_" "00000000-0000-0000-0000-000000000000/x/0.log", "");
	/* no bind-mount name: the pod names the namespace */
	assert_int_equal(ident_resolve(root, 4711, 0, &id), 0);
	assert_string_equal(id.id, ID1);
	assert_string_equal(id.runtime, "containerd");
	assert_string_equal(id.pod_ns, "kube-system");
	assert_string_equal(id.pod_name, "coredns-5d78c9869d-x2x7q");
	assert_string_equal(id.netns, "kube-system/coredns-5d78c9869d-x2x7q");
	assert_null(id.name);
	assert_null(id.image);
	/* a bind-mount name stays */
	assert_int_equal(ident_resolve(root, 4711, 1, &id), 0);
	assert_null(id.netns);
	assert_string_equal(id.pod_name, "coredns-5d78c9869d-x2x7q");
	/* no pod folder: a container, no pod */
	put("proc/4712/cgroup", "0::/kubepods/besteffort/pod" "11111111-2222-3333-4444-555555555555/" ID2 "\n");
	assert_int_equal(ident_resolve(root, 4712, 0, &id), 0);
	assert_string_equal(id.id, ID2);
	assert_null(id.pod_ns);
	assert_null(id.pod_name);
	assert_null(id.netns);
	/* no such process */
	assert_int_equal(ident_resolve(root, 4713, 0, &id), -ENOENT);
}

static void test_cgroupns(void **state)
{
	struct netns_ident id;

	(void)state;
	/* v2 with a private cgroup namespace: the folder whose cgroup.procs has the pid */
	put("proc/5001/cgroup", "0::/\n");
	put("sys/fs/cgroup/system.slice/docker-" ID2 ".scope/cgroup.procs", "17\n4999\n");
	put("sys/fs/cgroup/system.slice/docker-" ID1 ".scope/cgroup.procs", "5000\n5001\n5002\n");
	assert_int_equal(ident_resolve(root, 5001, 1, &id), 0);
	assert_string_equal(id.id, ID1);
	assert_string_equal(id.runtime, "docker");
	/* v1: under a controller's hierarchy, in a pod */
	put("var/log/pods/kube-system_coredns-5d78c9869d-x2x7q_" UID "/coredns/0.log", "");
	put("proc/6001/cgroup", "12:pids:/\n11:memory:/\n0::/\n");
	put("sys/fs/cgroup/pids/kubepods/besteffort/pod" UID "/crio-" ID2 "/cgroup.procs", "6001\n");
	assert_int_equal(ident_resolve(root, 6001, 1, &id), 0);
	assert_string_equal(id.id, ID2);
	assert_string_equal(id.runtime, "cri-o");
	assert_string_equal(id.pod_ns, "kube-system");  /* its folder: test_pod's */
	assert_string_equal(id.pod_name, "coredns-5d78c9869d-x2x7q");
	/* in no container's cgroup.procs */
	put("proc/7001/cgroup", "0::/\n");
	assert_int_equal(ident_resolve(root, 7001, 1, &id), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_cgroupns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
