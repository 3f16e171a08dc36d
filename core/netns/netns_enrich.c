/* netns_enrich — the identity of each namespace the manager keeps (its container, pod and
 * Docker name), resolved after each scan from a process found in it, and published for
 * the core to stamp on records. Never on the poll path: a record only reads a pointer.
 * An identity, once published, is never written; the one it replaces is freed only at
 * the replacement after (a reader holds it for one emit call). */
#include "config.h"
#include "netns/netns_int.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "netns/docker.h"
#include "netns/ident.h"

const struct netns_ident *netns_ident_of(const struct xtcpd_netns *ns)
{
	const struct netns_ent *e = (const struct netns_ent *)
		((const char *)ns - offsetof(struct netns_ent, ns));

	return atomic_load_explicit(&((struct netns_ent *)e)->ident, memory_order_acquire);
}

void netns_enrich_free(struct netns_ent *e)
{
	if (atomic_load_explicit(&e->ident, memory_order_relaxed) || e->old)
		enrich_retire();
	free(atomic_load_explicit(&e->ident, memory_order_relaxed));
	free(e->old);
}

int netns_enrich_pending(struct netns_mgr *m)
{
	return m->conf.docker && docker_generation(m->conf.docker) != m->docker_gen;
}

static uint64_t netns_pid_inode(const char *pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%.20s/ns/net", pid);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* Every namespace needs a live process in it: the one it was found through while it
 * stays there, else one /proc pass finds one for all that lack one (a namespace known
 * only by its bind mount, or whose process left). */
static void netns_enrich_pids(struct netns_mgr *m)
{
	size_t missing = 0;
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < m->n; i++) {
		struct netns_ent *e = m->ents[i];
		char pid[24];

		if (e->ns.is_host)
			continue;
		snprintf(pid, sizeof(pid), "%d", (int)e->pid);
		if (!e->pid || netns_pid_inode(pid) != e->ns.inode) {
			e->pid = 0;
			missing++;
		}
	}
	if (!missing || !(d = opendir("/proc")))
		return;
	while (missing && (de = readdir(d))) {
		uint64_t ino;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !(ino = netns_pid_inode(de->d_name)))
			continue;
		for (size_t i = 0; i < m->n; i++)
			if (!m->ents[i]->pid && !m->ents[i]->ns.is_host && m->ents[i]->ns.inode == ino) {
				m->ents[i]->pid = (pid_t)atoi(de->d_name);
				missing--;
			}
	}
	closedir(d);
}

/* Same strings (the arrays are zero-filled past their text: compared whole). */
static int netns_ident_same(const struct netns_ident *a, const struct netns_ident *b)
{
	size_t off = offsetof(struct netns_ident, s_id);

	return !memcmp((const char *)a + off, (const char *)b + off, sizeof(*a) - off);
}

static void netns_enrich_one(struct netns_mgr *m, struct netns_ent *e)
{
	struct netns_ident *cur = atomic_load_explicit(&e->ident, memory_order_relaxed), id, *n;
	int bind_named = strncmp(e->name, "pid:", 4) != 0;

	/* No container (a host process's namespace), or its process just left: what was
	 * known stays. */
	if (ident_resolve(m->enrich_root ? m->enrich_root : "", e->pid, bind_named, &id))
		return;
	if (m->conf.docker && !strcmp(id.s_runtime, "docker"))
		docker_lookup(m->conf.docker, &id);
	if (cur && netns_ident_same(cur, &id))
		return;
	if (!(n = malloc(sizeof(*n))))
		return;  /* tried again at the next scan */
	*n = id;
	ident_link(n, bind_named);
	if (e->old)
		enrich_retire();
	free(e->old);
	e->old = cur;
	atomic_store_explicit(&e->ident, n, memory_order_release);
}

void netns_enrich_refresh(struct netns_mgr *m, int rescan_pids)
{
	if (m->conf.docker)
		m->docker_gen = docker_generation(m->conf.docker);
	/* A /proc scan just found every namespace's processes: no second pass. */
	if (rescan_pids && !(m->conf.proc_scan && !m->conf.host_only))
		netns_enrich_pids(m);
	for (size_t i = 0; i < m->n; i++)
		if (!m->ents[i]->ns.is_host && m->ents[i]->pid)
			netns_enrich_one(m, m->ents[i]);
}
