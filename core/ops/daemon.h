/* daemon — configuration loading, the poll schedule, signals and reload. */
#ifndef XTCPD_DAEMON_H
#define XTCPD_DAEMON_H

#include <stddef.h>

#include "conf/conf.h"
#include "plugin/plugin.h"

struct daemon_opts {
	const char *conf_path;      /* main file; NULL = none */
	const char *confdir;        /* conf.d folder; NULL = none */
	char **overrides;           /* -o assignments */
	size_t n_overrides;
	const char *dest, *marshal; /* --dest / --marshal (xtcp2 style), or NULL */
	const char *source;         /* --source: the only source plugin, or NULL */
	int once;
	int check_only;             /* -n */
	int print_config;           /* --print-config: print the effective configuration */
	int healthcheck;            /* --healthcheck: probe the running daemon's /readyz */
	const char *capture_dir;
};

/* Load + validate into c (plugins loaded into ps). 0, or -EINVAL with c->err set. */
int daemon_load_conf(const struct daemon_opts *o, struct conf *c, struct plugin_set *ps);
/* The part after the parsing: plugin folder, keys, plugins' checks. 0 or -EINVAL (c->err). */
int daemon_check_conf(struct conf *c, struct plugin_set *ps);
/* Run until max_loops or a signal; returns the process exit status. */
int daemon_run(const struct daemon_opts *o);

#define EXIT_CONFIG 2

#endif
