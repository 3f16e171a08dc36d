/* plugin — the loader: dlopen a plugin by kind and name, check its descriptor, refuse
 * it with one line naming the file and the reason. */
#ifndef XTCPD_PLUGIN_LOADER_H
#define XTCPD_PLUGIN_LOADER_H

#include <stddef.h>
#include <xtcpd/plugin.h>

struct plugin {
	char *path;
	void *dl;
	const struct xtcpd_plugin *desc;
};

struct plugin_set {
	char dir[4096];
	struct plugin **p;   /* each allocated once: pointers stay valid */
	size_t n;
};

const char *plugin_kind_name(unsigned kind);
void plugin_set_init(struct plugin_set *ps, const char *dir);
/* Load (or find already loaded) DIR/<kind>_<name>.so. 0 with *out, or -errno with err
 * "FILE: reason". */
int plugin_load(struct plugin_set *ps, unsigned kind, const char *name,
		const struct plugin **out, char *err, size_t n);
/* Load a given file (kind and name from its descriptor); used to list a folder. */
int plugin_load_file(struct plugin_set *ps, const char *path, unsigned want_kind,
		     const char *want_name, const struct plugin **out, char *err, size_t n);
void plugin_set_fini(struct plugin_set *ps);

#endif
