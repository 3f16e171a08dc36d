/* netns/ident — a namespace's container and pod, read from the cgroup path of a process
 * in it and from the kubelet's log folders (no API server, no runtime socket). Runs on
 * the manager's scan, never on the poll path. The cgroup layouts read:
 *   Docker      /docker/<id> (cgroupfs), /system.slice/docker-<id>.scope (systemd)
 *   containerd  /<namespace>/<id>, /kubepods/<qos>/pod<uid>/<id> (cgroupfs),
 *               .../kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope (systemd)
 *   CRI-O       .../crio-<id>.scope, .../pod<uid>/crio-<id>
 *   podman      /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>
 * on cgroup v2 ("0::<path>") and v1 (one line per hierarchy, the first that names a
 * container wins). */
#include "config.h"
#include "netns/ident.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IDENT_WALK_DEPTH 10     /* folders below /sys/fs/cgroup looked into */
#define IDENT_WALK_BUDGET 20000 /* folders visited at most per namespace */

static const struct {
	const char *prefix, *runtime;
} ident_scopes[] = {
	{ "docker-", "docker" }, { "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" }, { "libpod-", "podman" },
};

static int ident_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* seg (n bytes) is prefix + 64 hex + optional ".scope": the id, or NULL. The conmon
 * scopes (crio-conmon-<id>, libpod-conmon-<id>) do not match: "conmon-" is not hex. */
static const char *ident_scoped(const char *seg, size_t n, const char *prefix)
{
	size_t p = strlen(prefix), rest;

	if (n < p + 64 || strncmp(seg, prefix, p) || !ident_hex64(seg + p))
		return NULL;
	rest = n - p - 64;
	if (rest && !(rest == 6 && !strncmp(seg + p + 64, ".scope", 6)))
		return NULL;
	return seg + p;
}

/* "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid with _>.slice" (systemd). */
static void ident_pod_uid(const char *seg, size_t n, struct netns_ident *id)
{
	const char *u = NULL;
	size_t i;

	if (n == 3 + 36 && !strncmp(seg, "pod", 3))
		u = seg + 3;
	else if (n > 36 + 10 && !strncmp(seg + n - 6, ".slice", 6) &&
		 !strncmp(seg + n - 6 - 36 - 4, "-pod", 4))
		u = seg + n - 6 - 36;
	if (!u)
		return;
	for (i = 0; i < 36; i++) {
		char c = u[i] == '_' ? '-' : u[i];

		if (!isxdigit((unsigned char)c) && c != '-')
			return;
		id->s_pod_uid[i] = c;
	}
	id->s_pod_uid[36] = '\0';
}

int ident_parse_path(const char *path, size_t len, struct netns_ident *id)
{
	const char *end = path + len, *prev = NULL, *found = NULL, *runtime = NULL;
	size_t prev_n = 0;

	id->s_pod_uid[0] = '\0';
	for (const char *s = path; s < end;) {
		const char *e = memchr(s, '/', (size_t)(end - s));
		size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
		const char *hit = NULL, *rt = NULL;

		for (size_t k = 0; !hit && k < sizeof(ident_scopes) / sizeof(ident_scopes[0]); k++)
			if ((hit = ident_scoped(s, n, ident_scopes[k].prefix)))
				rt = ident_scopes[k].runtime;
		if (!hit && n == 64 && ident_hex64(s)) {
			/* a bare id: Docker's cgroupfs folder, else containerd's (its own
			 * namespaces, or the kubelet's cgroupfs layout) */
			hit = s;
			rt = prev_n == 6 && !strncmp(prev, "docker", 6) ? "docker" : "containerd";
		}
		if (hit) {
			found = hit;
			runtime = rt;
		} else {
			ident_pod_uid(s, n, id);
		}
		prev = s;
		prev_n = n;
		s += n + 1;
	}
	if (!found)
		return -ENOENT;
	memcpy(id->s_id, found, 64);
	id->s_id[64] = '\0';
	snprintf(id->s_runtime, sizeof(id->s_runtime), "%s", runtime);
	return 0;
}

int ident_parse_cgroup(const char *text, struct netns_ident *id)
{
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		const char *c1 = memchr(l, ':', nl ? (size_t)(nl - l) : strlen(l));
		const char *c2 = c1 ? memchr(c1 + 1, ':', nl ? (size_t)(nl - c1 - 1) : strlen(c1 + 1)) : NULL;

		if (c2) {
			const char *p = c2 + 1;
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			if (!ident_parse_path(p, n, id))
				return 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int ident_pod_lookup(const char *root, struct netns_ident *id)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = -ENOENT;

	if (!id->s_pod_uid[0])
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s/var/log/pods", root);
	if (!(d = opendir(dir)))
		return -errno;
	while ((de = readdir(d))) {
		const char *n = de->d_name, *us = strchr(n, '_');
		size_t len = strlen(n);

		/* <namespace>_<pod>_<uid>: neither name may hold '_' (DNS names) */
		if (len < 36 + 4 || !us || strcmp(n + len - 36, id->s_pod_uid) || n[len - 37] != '_' ||
		    us >= n + len - 37)
			continue;
		snprintf(id->s_pod_ns, sizeof(id->s_pod_ns), "%.*s", (int)(us - n), n);
		snprintf(id->s_pod_name, sizeof(id->s_pod_name), "%.*s", (int)(n + len - 37 - us - 1),
			 us + 1);
		rc = 0;
		break;
	}
	closedir(d);
	return rc;
}

/* 1 when the cgroup.procs file at path lists pid. */
static int ident_procs_has(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "re");
	int v, hit = 0;

	if (!f)
		return 0;
	while (!hit && fscanf(f, "%d", &v) == 1)
		hit = v == (int)pid;
	fclose(f);
	return hit;
}

/* Depth-first below dir (rel: its path below the cgroup root) for a container folder
 * whose cgroup.procs holds pid. */
static int ident_walk(char *dir, size_t dlen, size_t root_len, pid_t pid, int depth, int *budget,
		      struct netns_ident *id)
{
	struct dirent *de;
	DIR *d;
	int rc = -ENOENT;

	if (depth > IDENT_WALK_DEPTH || --*budget < 0 || !(d = opendir(dir)))
		return -ENOENT;
	while (rc && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || dlen + n + 16 >= PATH_MAX)
			continue;
		dir[dlen] = '/';
		memcpy(dir + dlen + 1, de->d_name, n + 1);
		if (!ident_parse_path(dir + root_len, dlen + 1 + n - root_len, id)) {
			memcpy(dir + dlen + 1 + n, "/cgroup.procs", sizeof("/cgroup.procs"));
			if (ident_procs_has(dir, pid))
				rc = 0;
			dir[dlen + 1 + n] = '\0';
		}
		if (rc)
			rc = ident_walk(dir, dlen + 1 + n, root_len, pid, depth + 1, budget, id);
		dir[dlen] = '\0';
	}
	closedir(d);
	return rc;
}

void ident_link(struct netns_ident *id, int bind_named)
{
#define IDENT_STR(s) ((s)[0] ? (s) : NULL)
	id->id = IDENT_STR(id->s_id);
	id->runtime = IDENT_STR(id->s_runtime);
	id->name = IDENT_STR(id->s_name);
	id->image = IDENT_STR(id->s_image);
	id->pod_ns = IDENT_STR(id->s_pod_ns);
	id->pod_name = IDENT_STR(id->s_pod_name);
#undef IDENT_STR
	id->netns = NULL;
	if (!bind_named && id->pod_ns && id->pod_name) {
		snprintf(id->s_netns, sizeof(id->s_netns), "%s/%s", id->s_pod_ns, id->s_pod_name);
		id->netns = id->s_netns;
	}
}

int ident_resolve(const char *root, pid_t pid, int bind_named, struct netns_ident *id)
{
	char path[PATH_MAX], text[4096];
	ssize_t r;
	int fd, rc;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	r = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (r < 0)
		return -errno;
	text[r] = '\0';
	rc = ident_parse_cgroup(text, id);
	if (rc && (strstr(text, "::/\n") || strstr(text, ":/\n"))) {
		/* A private cgroup namespace shows its root as "/": find the process in the
		 * host's hierarchy instead. */
		int budget = IDENT_WALK_BUDGET;
		size_t n = (size_t)snprintf(path, sizeof(path), "%s/sys/fs/cgroup", root);

		if (n < sizeof(path))
			rc = ident_walk(path, n, n, pid, 0, &budget, id);
	}
	if (rc)
		return rc;
	ident_pod_lookup(root, id);  /* no pod folder: a container without a pod */
	ident_link(id, bind_named);
	return 0;
}
