/* plugin — dlopen + descriptor checks. A plugin is refused when its file or folder is
 * writable by anyone but root (or the daemon's own user), when the symbol is missing,
 * the ABI major differs, the descriptor or ops table is too short, the kind is unknown,
 * the name differs from the configured one, or the kind/name is already loaded. */
#include "config.h"
#include "plugin/plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int check_mode(const char *path, const char *what, char *err, size_t n, const char *file)
{
	struct stat st;

	if (stat(path, &st))
		return refuse(err, n, file, "cannot stat %s %s: %s", what, path, strerror(errno));
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(err, n, file, "%s %s is writable by %s (chmod go-w)", what, path,
			      (st.st_mode & S_IWOTH) ? "others" : "its group");
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(err, n, file, "%s %s is owned by uid %u, neither root nor this daemon's user",
			      what, path, (unsigned)st.st_uid);
	return 0;
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

int plugin_load_file(struct plugin_set *ps, const char *path, unsigned want_kind,
		     const char *want_name, const struct plugin **out, char *err, size_t n)
{
	const struct xtcpd_plugin *d;
	struct plugin **np, *pl;
	void *dl;
	int rc;

	if ((rc = check_mode(ps->dir, "folder", err, n, path)) || (rc = check_mode(path, "file", err, n, path)))
		return rc;
	/* NODELETE: libraries a plugin pulls in (librdkafka) keep global state that must
	 * outlive a dlclose at reload or exit. */
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!dl)
		return refuse(err, n, path, "dlopen failed: %s", dlerror());
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

int plugin_load(struct plugin_set *ps, unsigned kind, const char *name,
		const struct plugin **out, char *err, size_t n)
{
	char path[4200];

	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i]->desc->kind == kind && !strcmp(ps->p[i]->desc->name, name)) {
			*out = ps->p[i];
			return 0;
		}
	snprintf(path, sizeof(path), "%s/%s_%s.so", ps->dir, plugin_kind_name(kind), name);
	if (access(path, F_OK)) {
		snprintf(err, n, "unknown %s plugin '%s': no %s", plugin_kind_name(kind), name, path);
		return -ENOENT;
	}
	return plugin_load_file(ps, path, kind, name, out, err, n);
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
