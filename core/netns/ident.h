/* netns/ident — who a network namespace belongs to: the container (id, runtime) read from
 * the cgroup path of a process in it (cgroup v1 and v2; Docker, containerd/Kubernetes,
 * CRI-O, podman), its Kubernetes pod from the kubelet's /var/log/pods folders, and what the
 * Docker Engine API says of it. Resolved by the manager at a scan, never per record. */
#ifndef XTCPD_NETNS_IDENT_H
#define XTCPD_NETNS_IDENT_H

#include <stddef.h>
#include <sys/types.h>

#define IDENT_ID_MAX 65        /* a 64-hex container id and its NUL */

/* Immutable once published: records borrow its strings (NULL = not known). */
struct netns_ident {
	const char *id, *runtime, *name, *image, *pod_ns, *pod_name;
	const char *netns;          /* "<pod namespace>/<pod>" for a namespace without a
	                             * bind-mount name, else NULL (the namespace's own name) */
	char s_id[IDENT_ID_MAX], s_runtime[16], s_pod_uid[40];
	char s_pod_ns[64], s_pod_name[256], s_name[256], s_image[256], s_netns[324];
};

/* Read one cgroup path (a /proc/PID/cgroup line's third field, or a folder under
 * /sys/fs/cgroup): the deepest container it names and the pod UID of a Kubernetes
 * layout. 0 when a container was found, -ENOENT when none. Allocates nothing. */
int ident_parse_path(const char *path, size_t len, struct netns_ident *id);
/* The whole text of /proc/PID/cgroup (v1: one line per hierarchy, v2: "0::/path"). 0,
 * -ENOENT when no line names a container. */
int ident_parse_cgroup(const char *text, struct netns_ident *id);
/* The pod whose UID is id->s_pod_uid, from <root>/var/log/pods/<namespace>_<pod>_<uid>/:
 * 0, or -ENOENT. */
int ident_pod_lookup(const char *root, struct netns_ident *id);
/* Everything known of pid's container, its paths under root ("" = the real system):
 * <root>/proc/<pid>/cgroup, and when that names no container (a private cgroup namespace
 * shows "/") the folder of <root>/sys/fs/cgroup whose cgroup.procs holds pid.
 * bind_named: the namespace has a bind-mount name (no "<pod ns>/<pod>" fallback).
 * 0 with *id filled (pointers set), or -ENOENT / -errno. */
int ident_resolve(const char *root, pid_t pid, int bind_named, struct netns_ident *id);
/* Point the public pointers at the filled arrays (after a copy or a change). */
void ident_link(struct netns_ident *id, int bind_named);

#endif
