/* plugin — dlopen + descriptor checks. A plugin is refused when its file or any folder
 * above it is owned or writable by anyone but root (or the daemon's own user, when the
 * daemon holds no privilege; see ops/trust.h), when it is a link, when the symbol is missing,
 * the ABI major differs, the descriptor or ops table is too short, the kind is unknown,
 * the name differs from the configured one, or the kind/name is already loaded. */
#include "config.h"
#include "plugin/plugin.h"

#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/trust.h"

static const char *const kind_names[] = { "?", "source", "marshaller", "sink" };

const char *plugin_kind_name(unsigned kind)
{
	return kind >= 1 && kind <= 3 ? kind_names[kind] : "?";
}

void plugin_set_init(struct plugin_set *ps, const char *dir)
{
	memset(ps, 0, sizeof(*ps));
	snprintf(ps->dir, sizeof(ps->dir), "%s", dir);
}

static int refuse(char *err, size_t n, const char *path, const char *fmt, ...) XTCPD_PRINTF(4, 5);
static int refuse(char *err, size_t n, const char *path, const char *fmt, ...)
{
	va_list ap;
	int len = snprintf(err, n, "plugin %s refused: ", path);

	va_start(ap, fmt);
	if (len > 0 && (size_t)len < n)
		vsnprintf(err + len, n - (size_t)len, fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* The files of loaded plugins stay open for the life of the process. glibc knows a
 * library by the name it was opened with, /proc/self/fd/N here, and RTLD_NODELETE keeps
 * it mapped after dlclose: were N closed and reused for another file, dlopen would hand
 * back the old library. One fd per distinct file ever loaded (by device and inode). */
static struct plugin_file {
	dev_t dev;
	ino_t ino;
	int fd;
} *plugin_files;
static size_t n_plugin_files;
static pthread_mutex_t plugin_files_lock = PTHREAD_MUTEX_INITIALIZER;

/* The fd to load the file open at fd from: fd itself (now kept) or the one already kept
 * for the same file (fd is closed). -ENOMEM: fd is closed. */
static int keep_fd(int fd)
{
	struct plugin_file *nf;
	struct stat st;
	int kept = -1;

	if (fstat(fd, &st) < 0) {
		kept = -errno;
		close(fd);
		return kept;
	}
	pthread_mutex_lock(&plugin_files_lock);
	for (size_t i = 0; i < n_plugin_files && kept < 0; i++)
		if (plugin_files[i].dev == st.st_dev && plugin_files[i].ino == st.st_ino)
			kept = plugin_files[i].fd;
	if (kept >= 0) {
		close(fd);
	} else if ((nf = realloc(plugin_files, (n_plugin_files + 1) * sizeof(*nf)))) {
		plugin_files = nf;
		plugin_files[n_plugin_files++] = (struct plugin_file){ st.st_dev, st.st_ino, fd };
		kept = fd;
	} else {
		close(fd);
		kept = -ENOMEM;
	}
	pthread_mutex_unlock(&plugin_files_lock);
	return kept;
}

static size_t ops_min_size(unsigned kind)
{
	switch (kind) {
	case XTCPD_KIND_SOURCE: return offsetof(struct xtcpd_source_ops, poll) + sizeof(void *);
	case XTCPD_KIND_MARSHALLER: return offsetof(struct xtcpd_marshaller_ops, finish) + sizeof(void *);
	case XTCPD_KIND_SINK: return offsetof(struct xtcpd_sink_ops, flush) + sizeof(void *);
	}
	return 0;
}

static int check_ops(const struct xtcpd_plugin *d, char *err, size_t n, const char *path)
{
	const struct xtcpd_ops_common *c = d->ops;

	if (!c)
		return refuse(err, n, path, "no ops table");
	if (c->struct_size < ops_min_size(d->kind))
		return refuse(err, n, path, "ops table is %u bytes, a %s needs at least %zu",
			      c->struct_size, plugin_kind_name(d->kind), ops_min_size(d->kind));
	if (!c->create || !c->destroy)
		return refuse(err, n, path, "ops table lacks create or destroy");
	if (d->kind == XTCPD_KIND_SOURCE) {
		const struct xtcpd_source_ops *o = d->ops;
		if (!o->lanes || !o->poll)
			return refuse(err, n, path, "source ops lack lanes or poll");
	} else if (d->kind == XTCPD_KIND_MARSHALLER) {
		const struct xtcpd_marshaller_ops *o = d->ops;
		if (!o->begin || !o->append || !o->finish)
			return refuse(err, n, path, "marshaller ops lack begin, append or finish");
	} else {
		const struct xtcpd_sink_ops *o = d->ops;
		if (!o->send || !o->flush || !o->max_message)
			return refuse(err, n, path, "sink ops lack send, flush or max_message");
	}
	return 0;
}

static int check_desc(struct plugin_set *ps, const struct xtcpd_plugin *d, const char *path,
		      unsigned want_kind, const char *want_name, char *err, size_t n)
{
	if (d->abi_major != XTCPD_ABI_MAJOR)
		return refuse(err, n, path, "ABI major %u, this xtcpd speaks ABI %u.%u", d->abi_major,
			      XTCPD_ABI_MAJOR, XTCPD_ABI_MINOR);
	if (d->struct_size < offsetof(struct xtcpd_plugin, ops) + sizeof(d->ops))
		return refuse(err, n, path, "descriptor is %u bytes, at least %zu needed", d->struct_size,
			      offsetof(struct xtcpd_plugin, ops) + sizeof(d->ops));
	if (d->kind < XTCPD_KIND_SOURCE || d->kind > XTCPD_KIND_SINK)
		return refuse(err, n, path, "unknown kind %u (allowed: 1 source, 2 marshaller, 3 sink)", d->kind);
	if (want_kind && d->kind != want_kind)
		return refuse(err, n, path, "it is a %s, configured as a %s", plugin_kind_name(d->kind),
			      plugin_kind_name(want_kind));
	if (!d->name || !*d->name)
		return refuse(err, n, path, "descriptor has no name");
	if (want_name && strcmp(d->name, want_name))
		return refuse(err, n, path, "it is named '%s', configured as '%s'", d->name, want_name);
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i]->desc->kind == d->kind && !strcmp(ps->p[i]->desc->name, d->name))
			return refuse(err, n, path, "duplicate name: %s '%s' is already loaded from %s",
				      plugin_kind_name(d->kind), d->name, ps->p[i]->path);
	return check_ops(d, err, n, path);
}

/* Open path through trust_open (no link, every folder checked) and dlopen that very
 * file through /proc/self/fd: nothing can be swapped between the check and the load.
 * -ENOENT without a message when there is no such file. */
static void *open_checked(const char *path, char *err, size_t n, int *rc)
{
	char why[600], proc[64];
	void *dl;
	int fd = trust_open(path, "file", TRUST_NOFOLLOW | TRUST_PRIVATE_PARENT, why,
			    sizeof(why));

	if (fd == -ENOENT) {
		*rc = fd;
		return NULL;
	}
	if (fd < 0) {
		*rc = refuse(err, n, path, "%s", why);
		return NULL;
	}
	if ((fd = keep_fd(fd)) < 0) {
		*rc = refuse(err, n, path, "%s", strerror(-fd));
		return NULL;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	/* NODELETE: libraries a plugin pulls in (librdkafka) keep global state that must
	 * outlive a dlclose at reload or exit. */
	dl = dlopen(proc, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!dl)
		*rc = refuse(err, n, path, "dlopen failed: %s", dlerror());
	return dl;
}

static int load_path(struct plugin_set *ps, const char *path, unsigned want_kind,
		     const char *want_name, const struct plugin **out, char *err, size_t n)
{
	const struct xtcpd_plugin *d;
	struct plugin **np, *pl;
	void *dl;
	int rc;

	dl = open_checked(path, err, n, &rc);
	if (!dl)
		return rc;
	d = dlsym(dl, XTCPD_PLUGIN_SYMBOL);
	if (!d) {
		dlclose(dl);
		return refuse(err, n, path, "missing symbol '%s'", XTCPD_PLUGIN_SYMBOL);
	}
	if ((rc = check_desc(ps, d, path, want_kind, want_name, err, n))) {
		dlclose(dl);
		return rc;
	}
	np = realloc(ps->p, (ps->n + 1) * sizeof(*np));
	pl = calloc(1, sizeof(*pl));
	if (np)
		ps->p = np;
	if (!np || !pl || !(pl->path = strdup(path))) {
		free(pl);
		dlclose(dl);
		return -ENOMEM;
	}
	pl->dl = dl;
	pl->desc = d;
	ps->p[ps->n++] = pl;
	*out = pl;
	return 0;
}

int plugin_load_file(struct plugin_set *ps, const char *path, unsigned want_kind,
		     const char *want_name, const struct plugin **out, char *err, size_t n)
{
	int rc = load_path(ps, path, want_kind, want_name, out, err, n);

	if (rc == -ENOENT)
		refuse(err, n, path, "%s", strerror(ENOENT));
	return rc;
}

int plugin_load(struct plugin_set *ps, unsigned kind, const char *name,
		const struct plugin **out, char *err, size_t n)
{
	char path[4200];
	int rc;

	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i]->desc->kind == kind && !strcmp(ps->p[i]->desc->name, name)) {
			*out = ps->p[i];
			return 0;
		}
	/* the name becomes a file name: no folder, no hidden file */
	if (!*name || *name == '.' || strchr(name, '/')) {
		snprintf(err, n, "%s plugin name '%s' is not allowed (letters, digits, '_', '-', '.')",
			 plugin_kind_name(kind), name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s_%s.so", ps->dir, plugin_kind_name(kind), name);
	rc = load_path(ps, path, kind, name, out, err, n);
	if (rc == -ENOENT)
		snprintf(err, n, "unknown %s plugin '%s': no %s", plugin_kind_name(kind), name, path);
	return rc;
}

void plugin_set_fini(struct plugin_set *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		dlclose(ps->p[i]->dl);
		free(ps->p[i]->path);
		free(ps->p[i]);
	}
	free(ps->p);
	ps->p = NULL;
	ps->n = 0;
}
